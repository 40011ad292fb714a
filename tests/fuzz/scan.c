/*
 * fuzz scan: the validating scanner.  Whatever the bytes, validation and
 * scan_record agree; on accepted text every walk the tools do stays
 * inside it, and every string decodes to what scan_string_equals and a
 * re-escaped copy agree on.  txlog's typed scan (the same validator with
 * a schema's hooks inlined) fails where scan_record fails, at the same
 * byte, and passes a record only where ds_conforms does: against fixed
 * schemas and against the schema inferred from the record itself.
 */
#include <stdbool.h>

#include "buf.h"
#include "delta/schema.h"
#include "fuzz.h"
#include "jsonw.h"
#include "scan.h"

/* Check a string literal p[0..n): decode, compare, re-escape, re-read. */
static void check_string(const char *p, size_t n)
{
	FUZZ_CHECK(n >= 2 && p[0] == '"' && p[n - 1] == '"');
	char *out = malloc(n);
	FUZZ_CHECK(out);
	size_t len = scan_string_decode(p, n, out);
	FUZZ_CHECK(len <= n);
	FUZZ_CHECK(scan_string_equals(p, n, out, len));
	if (len > 0)
		FUZZ_CHECK(!scan_string_equals(p, n, out, len - 1));
	/* Decoded text is valid UTF-8, so jw_string copies it unchanged
	 * and the copy reads back as the same string. */
	struct buf b = {0};
	jw_string(&b, out, len);
	struct scan_error e;
	FUZZ_CHECK(scan_validate(b.p, b.len, &e) == 0);
	FUZZ_CHECK(scan_string_equals(b.p, b.len, out, len));
	buf_free(&b);
	free(out);
}

/* Walk the valid value at p[i]; returns the index just past it. */
static size_t walk(const char *p, size_t n, size_t i, int depth)
{
	FUZZ_CHECK(depth <= SCAN_MAX_DEPTH);
	FUZZ_CHECK(i < n);
	size_t end = scan_skip(p, n, i);
	FUZZ_CHECK(end > i && end <= n);
	const char *t = scan_type(p + i);
	FUZZ_CHECK(t);
	if (p[i] == '"') {
		FUZZ_CHECK(!strcmp(t, "string"));
		check_string(p + i, end - i);
	} else if (p[i] == '[' || p[i] == '{') {
		bool obj = p[i] == '{';
		FUZZ_CHECK(!strcmp(t, obj ? "object" : "array"));
		size_t k = scan_ws(p, n, i + 1);
		if (p[k] != (obj ? '}' : ']'))
			for (;;) {
				if (obj) {
					FUZZ_CHECK(p[k] == '"');
					size_t ke = walk(p, n, k, depth + 1);
					k = scan_ws(p, n, ke);
					FUZZ_CHECK(p[k] == ':');
					k = scan_ws(p, n, k + 1);
				}
				k = scan_ws(p, n, walk(p, n, k, depth + 1));
				if (p[k] == ',') {
					k = scan_ws(p, n, k + 1);
					continue;
				}
				break;
			}
		FUZZ_CHECK(p[k] == (obj ? '}' : ']'));
		FUZZ_CHECK(k + 1 == end);
	} else {
		FUZZ_CHECK(strcmp(t, "string") && strcmp(t, "array") &&
			   strcmp(t, "object"));
	}
	return end;
}

/*
 * scan_record_nested() on a valid object: its top-level members are
 * scan_record()'s, each followed by the members of its value when that
 * is an object, with their parent and the end of every value right.
 */
static void check_nested(const char *p, size_t size, size_t s)
{
	static struct scan_record r;
	struct scan_error e;
	FUZZ_CHECK(scan_record_nested(&r, p, size, &e) == 0);
	size_t m = 0, k = scan_ws(p, size, s + 1);
	while (p[k] == '"') {
		FUZZ_CHECK(m < r.nmembers);
		const struct scan_member *top = &r.members[m];
		size_t parent = m++;
		FUZZ_CHECK(top->parent == SCAN_TOP && top->key == k);
		k = scan_ws(p, size, scan_ws(p, size, scan_skip(p, size, k)) + 1);
		FUZZ_CHECK(top->val == k);
		size_t ve = scan_skip(p, size, k);
		FUZZ_CHECK(top->val_end == ve);
		if (p[k] == '{') {
			size_t j = scan_ws(p, size, k + 1);
			while (p[j] == '"') {
				FUZZ_CHECK(m < r.nmembers);
				const struct scan_member *in = &r.members[m++];
				FUZZ_CHECK(in->parent == parent && in->key == j);
				j = scan_ws(p, size, scan_skip(p, size, j));
				j = scan_ws(p, size, j + 1);
				FUZZ_CHECK(in->val == j);
				j = scan_skip(p, size, j);
				FUZZ_CHECK(in->val_end == j);
				j = scan_ws(p, size, j);
				if (p[j] == ',')
					j = scan_ws(p, size, j + 1);
			}
		}
		k = scan_ws(p, size, ve);
		if (p[k] == ',')
			k = scan_ws(p, size, k + 1);
	}
	FUZZ_CHECK(m == r.nmembers);
}

/* The typed scan of p against t agrees with scan_record (rc, err, r)
 * and with ds_conforms. */
static void check_typed(const struct ds_type *t, const char *p, size_t size,
			int rc, const struct scan_error *e,
			const struct scan_record *r)
{
	static struct scan_record tr;
	struct ds_memo m = {0}; /* a memo holds one schema's field indexes */
	struct ds_typer d;
	struct scan_typer ty;
	struct scan_error te = {0};
	bool fits;
	ds_typer_init(&d, t, &ty);
	FUZZ_CHECK(ty.scan(&tr, p, size, &te, ty.ctx, &fits) == rc);
	if (rc != 0) {
		FUZZ_CHECK(!fits && te.offset == e->offset &&
			   !strcmp(te.what, e->what));
		return;
	}
	FUZZ_CHECK(tr.start == r->start && tr.nmembers == r->nmembers);
	for (size_t i = 0; i < r->nmembers; i++)
		FUZZ_CHECK(!memcmp(&tr.members[i], &r->members[i],
				   sizeof r->members[i]));
	if (fits)
		FUZZ_CHECK(p[r->start] == '{' && ds_conforms(t, r, &m));
	ds_memo_free(&m);
}

static const char *const schemas[] = {
	"{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"a\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"b\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
	"{\"name\":\"c\",\"type\":{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"x\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"y\",\"type\":\"timestamp\",\"nullable\":false,\"metadata\":{}}]},"
	"\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"d\",\"type\":{\"type\":\"array\",\"elementType\":\"double\","
	"\"containsNull\":false},\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"e\",\"type\":\"decimal(6,2)\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"f\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
	"\"valueType\":\"date\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}}]}",
};

static void check_typed_all(const char *p, size_t size, int rc,
			    const struct scan_error *e,
			    const struct scan_record *r)
{
	static struct ds_type *fixed[sizeof schemas / sizeof schemas[0]];
	for (size_t k = 0; k < sizeof schemas / sizeof schemas[0]; k++) {
		if (!fixed[k]) {
			char err[256];
			fixed[k] = ds_parse(schemas[k], strlen(schemas[k]), err,
					    sizeof err);
			FUZZ_CHECK(fixed[k]);
		}
		check_typed(fixed[k], p, size, rc, e, r);
	}
	if (rc != 0 || p[r->start] != '{')
		return;
	/* the record's own schema, as txlog --infer makes it */
	struct ds_type *t = ds_new_struct();
	bool changed = false;
	char err[256];
	if (ds_check(t, p + r->start, size - r->start, true, &changed, err,
		     sizeof err) == 0)
		check_typed(t, p, size, rc, e, r);
	ds_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan_record r; /* reused, as the tools do */
	const char *p = (const char *)data;
	struct scan_error e1 = {0}, e2 = {0};
	int a = scan_validate(p, size, &e1);
	int b = scan_record(&r, p, size, &e2);
	FUZZ_CHECK(a == b);
	check_typed_all(p, size, b, &e2, &r);
	if (a != 0) {
		FUZZ_CHECK(a == -1);
		FUZZ_CHECK(e1.what && e1.what[0]);
		FUZZ_CHECK(e1.offset <= size);
		FUZZ_CHECK(e1.offset == e2.offset && !strcmp(e1.what, e2.what));
		return 0;
	}
	size_t s = scan_ws(p, size, 0);
	FUZZ_CHECK(s < size && s == r.start && r.p == p && r.n == size);
	size_t end = walk(p, size, s, 1);
	FUZZ_CHECK(scan_ws(p, size, end) == size);
	if (p[s] != '{') {
		FUZZ_CHECK(r.nmembers == 0);
		return 0;
	}
	/* The member index: in order, each name a string, each value
	 * after its colon. */
	size_t last = s;
	for (size_t m = 0; m < r.nmembers; m++) {
		const struct scan_member *sm = &r.members[m];
		FUZZ_CHECK(sm->key > last && sm->key < end);
		FUZZ_CHECK(p[sm->key] == '"');
		FUZZ_CHECK(scan_skip(p, size, sm->key) == sm->key + sm->key_len);
		size_t c = scan_ws(p, size, sm->key + sm->key_len);
		FUZZ_CHECK(p[c] == ':');
		FUZZ_CHECK(sm->val == scan_ws(p, size, c + 1));
		last = sm->val;
	}
	/* ...and every top-level member is in it. */
	size_t count = 0, k = scan_ws(p, size, s + 1);
	while (p[k] == '"') {
		count++;
		k = scan_ws(p, size, scan_skip(p, size, k));
		k = scan_ws(p, size, scan_skip(p, size, scan_ws(p, size, k + 1)));
		if (p[k] == ',')
			k = scan_ws(p, size, k + 1);
	}
	FUZZ_CHECK(count == r.nmembers);
	for (size_t m = 0; m < r.nmembers; m++) {
		FUZZ_CHECK(r.members[m].parent == SCAN_TOP);
		FUZZ_CHECK(r.members[m].val_end ==
			   scan_skip(p, size, r.members[m].val));
	}
	check_nested(p, size, s);
	return 0;
}
