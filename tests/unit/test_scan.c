/* Scanner: JSONTestSuite conformance, error messages, skipping, plain
 * paths and their lookup semantics. */
#include <dirent.h>
#include <stdlib.h>

#include "scan.h"
#include "unit.h"

static int valid(const char *s)
{
	struct scan_error e;
	return scan_validate(s, strlen(s), &e) == 0;
}

static const char *error_of(const char *s)
{
	static struct scan_error e;
	if (scan_validate(s, strlen(s), &e) == 0)
		return "(valid)";
	return e.what;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = NULL;
	size_t cap = 0, len = 0, r;
	do {
		cap = cap ? cap * 2 : 4096;
		p = realloc(p, cap);
		r = fread(p + len, 1, cap - len, f);
		len += r;
	} while (len == cap);
	fclose(f);
	*n = len;
	return p;
}

TEST(json_test_suite)
{
	const char *root = getenv("IDEM_SHARED_DATA");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/jsontestsuite/test_parsing",
		 root ? root : "../shared/data");
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	int y = 0, n = 0, i = 0, y_ok = 0, n_ok = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[8192];
		size_t len;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		char *p = slurp(path, &len);
		CHECK(p != NULL);
		if (!p)
			continue;
		struct scan_error e;
		int ok = scan_validate(p, len, &e) == 0;
		if (de->d_name[0] == 'y') {
			y++;
			y_ok += ok;
			if (!ok)
				fprintf(stderr, "rejected %s: %s\n", de->d_name, e.what);
		} else if (de->d_name[0] == 'n') {
			n++;
			n_ok += !ok;
			if (ok)
				fprintf(stderr, "accepted %s\n", de->d_name);
		} else {
			i++; /* either answer; it must just come back */
		}
		free(p);
	}
	closedir(d);
	/* The figures for make reliability (tests/reliability/run.sh). */
	fprintf(stderr, "jsontestsuite: %d/%d accepted, %d/%d rejected, "
		"%d/%d without crash\n", y_ok, y, n_ok, n, i, i);
	CHECK_INT(y, 95);
	CHECK_INT(y_ok, 95);
	CHECK_INT(n, 188);
	CHECK_INT(n_ok, 188);
	CHECK_INT(i, 35);
}

TEST(validate_messages)
{
	CHECK(valid("{\"a\":1}"));
	CHECK(valid("  [1, 2.5e-3, \"x\", true, false, null, {}] \r"));
	CHECK_STR(error_of(""), "empty document");
	CHECK_STR(error_of("{\"a\":\"x}"), "unterminated string");
	CHECK_STR(error_of("{\"a\":1,}"), "expected a member name");
	CHECK_STR(error_of("{\"a\" 1}"), "expected ':'");
	CHECK_STR(error_of("[1 2]"), "expected ',' or ']'");
	CHECK_STR(error_of("{\"a\":1} x"), "trailing characters after the value");
	CHECK_STR(error_of("[01]"), "invalid number");
	CHECK_STR(error_of("[1.]"), "invalid number");
	CHECK_STR(error_of("[tru]"), "invalid literal");
	CHECK_STR(error_of("\"\\x\""), "bad escape in string");
	CHECK_STR(error_of("\"\\ud800\""), "lone UTF-16 surrogate");
	CHECK_STR(error_of("\"\\udc00\""), "lone UTF-16 surrogate");
	CHECK(valid("\"\\ud83d\\ude00\""));
	CHECK_STR(error_of("\"\xc3\""), "invalid UTF-8");
	CHECK_STR(error_of("\"\xed\xa0\x80\""), "invalid UTF-8"); /* surrogate */
	CHECK_STR(error_of("\"\xc0\xaf\""), "invalid UTF-8");     /* overlong */
	CHECK_STR(error_of("\"\xf4\x90\x80\x80\""), "invalid UTF-8");
	CHECK_STR(error_of("\"a\tb\""), "control character in string");
	CHECK_STR(error_of("{\"a\":1"), "unexpected end of input");
	CHECK(valid("\"\xe2\x82\xac \xf0\x9f\x98\x80\""));
}

/* A string's escapes and stops at every offset of the scanner's 16-byte
 * window and at the very end of the text: the validator's fast loop
 * must give the answers of the rules, and read nothing past the text
 * (the copy is malloc'd to its exact size, for the sanitizers). */
TEST(string_window_offsets)
{
	static const struct {
		const char *tok;
		const char *what; /* NULL: valid */
	} toks[] = {
		{"\\\"", NULL}, {"\\\\", NULL}, {"\\n", NULL}, {"\\/", NULL},
		{"\\u00e9", NULL}, {"\\ud83d\\ude00", NULL},
		{"\xc3\xa9", NULL}, {"\xf0\x9f\x98\x80", NULL},
		{"\\x", "bad escape in string"},
		{"\\u00g0", "bad \\u escape"},
		{"\\ud800", "lone UTF-16 surrogate"},
		{"\t", "control character in string"},
		{"\xc3", "invalid UTF-8"},
	};
	char text[128];
	for (size_t t = 0; t < sizeof toks / sizeof *toks; t++) {
		for (size_t pre = 0; pre < 40; pre++) {
			for (size_t post = 0; post < 20; post++) {
				size_t n = 0;
				text[n++] = '"';
				memset(text + n, 'a', pre);
				n += pre;
				size_t tl = strlen(toks[t].tok);
				memcpy(text + n, toks[t].tok, tl);
				n += tl;
				memset(text + n, 'b', post);
				n += post;
				text[n++] = '"';
				char *p = malloc(n);
				memcpy(p, text, n);
				struct scan_error e;
				int rc = scan_validate(p, n, &e);
				if (toks[t].what) {
					CHECK(rc != 0);
					if (rc)
						CHECK_STR(e.what, toks[t].what);
				} else {
					CHECK(rc == 0);
				}
				/* cut before the closing quote: never valid */
				CHECK(scan_validate(p, n - 1, &e) != 0);
				free(p);
			}
		}
	}
	/* a lone backslash as the text's last byte */
	char *p = malloc(17);
	memcpy(p, "\"aaaaaaaaaaaaaaa\\", 17);
	struct scan_error e;
	CHECK(scan_validate(p, 17, &e) != 0);
	CHECK_STR(e.what, "unterminated string");
	free(p);
}

TEST(depth_limit)
{
	size_t n = 100000;
	char *p = malloc(n * 2);
	memset(p, '[', n);
	memset(p + n, ']', n);
	CHECK_STR(error_of("[[[[1]]]]"), "(valid)");
	struct scan_error e;
	CHECK(scan_validate(p, 2 * n, &e) != 0);
	CHECK_STR(e.what, "nesting too deep");
	CHECK(scan_validate(p + n - SCAN_MAX_DEPTH, 2 * SCAN_MAX_DEPTH, &e) == 0);
	CHECK(scan_validate(p + n - SCAN_MAX_DEPTH - 1,
			    2 * SCAN_MAX_DEPTH + 2, &e) != 0);
	free(p);
}

TEST(skip)
{
	const char *s = "{\"a\":\"x\\\"}\",\"b\":[1,{\"c\":[]}],\"d\":-1.5e3}";
	size_t n = strlen(s);
	CHECK_INT(scan_skip(s, n, 0), n);
	CHECK_INT(scan_skip(s, n, 5), 11);  /* the string "x\"}" */
	CHECK_INT(scan_skip(s, n, 16), 28); /* the array */
	CHECK_INT(scan_skip("12 ", 3, 0), 2);
	CHECK_INT(scan_skip("\"\\\\\"x", 5, 0), 4); /* "\\" ends the string */
}

TEST(decode)
{
	char out[64];
	const char *s = "\"a\\n\\u00e9\\ud83d\\ude00\\/\\\\\"";
	size_t n = scan_string_decode(s, strlen(s), out);
	CHECK_INT(n, 10);
	CHECK(memcmp(out, "a\n\xc3\xa9\xf0\x9f\x98\x80/\\", 10) == 0);
	CHECK(scan_string_equals("\"\\u0061b\"", 9, "ab", 2));
	CHECK(!scan_string_equals("\"\\u0061b\"", 9, "a", 1));
	CHECK(scan_string_equals("\"ab\"", 4, "ab", 2));
}

static const char *look(const char *path, const char *json)
{
	static char out[256];
	struct path p;
	const char *v, *why;
	size_t vlen;
	if (path_parse(path, &p) != 0)
		return "(not plain)";
	enum path_result r = path_lookup(&p, json, strlen(json), &v, &vlen, &why);
	path_free(&p);
	if (r == PATH_MISSING)
		return "(missing)";
	if (r == PATH_TYPE_ERROR) {
		snprintf(out, sizeof out, "error: %s", why);
		return out;
	}
	snprintf(out, sizeof out, "%.*s", (int)vlen, v);
	return out;
}

TEST(paths)
{
	const char *r = "{\"a\":{\"b\":[10,20,{\"c\":\"x y\"}]},\"x y\":1,"
			"\"d\":null,\"a\":{\"b\":[1,2]} }";
	CHECK_STR(look(".", "[1, 2]"), "[1, 2]");
	CHECK_STR(look(".a", r), "{\"b\":[1,2]}"); /* last duplicate wins */
	CHECK_STR(look(".a.b[1]", r), "2");
	CHECK_STR(look(".a.b[-1]", r), "2");
	CHECK_STR(look(".a.b[-3]", r), "(missing)");
	CHECK_STR(look(".a.b[5]", r), "(missing)");
	CHECK_STR(look(".\"x y\"", r), "1");
	CHECK_STR(look(".[\"x y\"]", r), "1");
	CHECK_STR(look(".d", r), "null");
	CHECK_STR(look(".d.e", r), "(missing)");
	CHECK_STR(look(".nope", r), "(missing)");
	CHECK_STR(look(".a.b.c", r), "error: Cannot index array with string \"c\"");
	CHECK_STR(look(".a[0]", r), "error: Cannot index object with number");
	CHECK_STR(look(".x.y", "{\"x\":\"s\"}"), "error: Cannot index string with string \"y\"");
	CHECK_STR(look(".x", "{\"\\u0078\":7}"), "7");
	CHECK_STR(look("._a1", "{\"_a1\":true}"), "true");
	CHECK_STR(look(" .a ", "{\"a\" : 3 }"), "3");
	CHECK_STR(look(".a | .b", r), "(not plain)");
	CHECK_STR(look(".a[]", r), "(not plain)");
	CHECK_STR(look("..", r), "(not plain)");
	CHECK_STR(look(".if", r), "(not plain)");
	CHECK_STR(look(".1a", r), "(not plain)");
	CHECK_STR(look(".a.[0]", r), "(not plain)");
	CHECK_STR(look(".\"a\\(1)\"", r), "(not plain)");
	CHECK_STR(look("[.a]", r), "(not plain)");
	CHECK_STR(look(".[0]", "[\"z\"]"), "\"z\"");
}

/* every int64, and nothing past it: a 19-digit Delta Long (a txn
 * version) once read as absent, so a replay was written again */
TEST(parse_i64)
{
	int64_t v = 0;
	CHECK(scan_parse_i64("9223372036854775807", 19, &v));
	CHECK(v == INT64_MAX);
	CHECK(scan_parse_i64("-9223372036854775808", 20, &v));
	CHECK(v == INT64_MIN);
	CHECK(scan_parse_i64("1733150000000000000", 19, &v));
	CHECK(v == 1733150000000000000LL);
	CHECK(!scan_parse_i64("9223372036854775808", 19, &v));
	CHECK(!scan_parse_i64("-9223372036854775809", 20, &v));
	CHECK(!scan_parse_i64("99999999999999999999", 20, &v));
	CHECK(!scan_parse_i64("-", 1, &v));
	CHECK(!scan_parse_i64("1.0", 3, &v));
	CHECK(scan_parse_i64("-0", 2, &v));
	CHECK(v == 0);
}

int main(void)
{
	RUN(json_test_suite);
	RUN(validate_messages);
	RUN(string_window_offsets);
	RUN(depth_limit);
	RUN(skip);
	RUN(decode);
	RUN(paths);
	RUN(parse_i64);
	return unit_done();
}
