/*
 * fuzz path: plain paths, parsed and looked up.  Input: PATH NUL JSON
 * (no NUL: the whole input is a path, looked up in a fixed document).
 * The lookup on the raw text and the one through the member index agree,
 * and a found value is one valid value inside the text.
 */
#include "fuzz.h"
#include "scan.h"

static const char doc[] =
	"{\"a\":{\"b\":[1,{\"c\":null},\"x\"]},\"x y\":true,\"a\":{\"b\":[2]},"
	"\"e\":[],\"n\":null,\"s\":\"\\u00e9\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *js;
	size_t jn;
	char *src = fuzz_program(data, size, doc, &js, &jn);
	struct path path;
	if (path_parse(src, &path) != 0) {
		free(src);
		return 0;
	}
	for (size_t i = 0; i < path.n; i++)
		if (path.steps[i].kind == PATH_MEMBER)
			FUZZ_CHECK(path.steps[i].name ||
				   path.steps[i].name_len == 0);
	static struct scan_record r;
	struct scan_error se;
	if (scan_record(&r, js, jn, &se) == 0) {
		const char *v1 = NULL, *v2 = NULL, *w1 = NULL, *w2 = NULL;
		size_t l1 = 0, l2 = 0;
		enum path_result a = path_lookup(&path, js, jn, &v1, &l1, &w1);
		enum path_result b = path_lookup_record(&path, &r, &v2, &l2,
							&w2);
		FUZZ_CHECK(a == b);
		if (a == PATH_FOUND) {
			FUZZ_CHECK(v1 == v2 && l1 == l2);
			FUZZ_CHECK(v1 >= js && l1 > 0 && v1 + l1 <= js + jn);
			FUZZ_CHECK(scan_validate(v1, l1, &se) == 0);
			FUZZ_CHECK(scan_skip(v1, l1, 0) == l1);
			if (path.n == 0)
				FUZZ_CHECK(v1 == js + scan_ws(js, jn, 0));
		} else if (a == PATH_TYPE_ERROR) {
			FUZZ_CHECK(w1 && w1[0] && w2 && w2[0]);
		} else {
			FUZZ_CHECK(a == PATH_MISSING);
		}
	}
	path_free(&path);
	free(src);
	return 0;
}
