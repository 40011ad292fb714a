/*
 * ds_conforms against ds_check, over random schemas and records.
 *
 * txlog's threads trust ds_conforms: a record it passes is written with
 * no in-order check.  So it must be sound: whenever it says yes, ds_check
 * on a copy of the schema, not allowed to evolve, passes the record and
 * changes nothing.  It may say no where ds_check would pass (the record
 * is then checked in order), but not often for plain records, or the
 * threads do nothing: the test counts both.
 *
 * Schemas come from inference (an empty struct evolved by random records,
 * so columns still null-typed, nested structs, arrays) and from parsed
 * schemas with the types inference never makes (date, timestamp,
 * decimal, binary, map, byte, float, non-nullable columns).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "delta/schema.h"
#include "scan.h"
#include "unit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	return unit_splitmix(&rng);
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static const char *const names[] = {"a", "b", "c", "d", "e", "f", "A", "id"};

static void value(struct buf *b, int depth);

static void object(struct buf *b, int depth)
{
	unsigned n = pick(5);
	buf_addc(b, '{');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			buf_adds(b, pick(4) ? "," : " , ");
		if (!pick(40))
			buf_adds(b, "\"\\u0061\""); /* "a", escaped */
		else
			buf_addf(b, "\"%s\"", names[pick(8)]);
		buf_adds(b, pick(4) ? ":" : " : ");
		value(b, depth + 1);
	}
	buf_addc(b, '}');
}

static void value(struct buf *b, int depth)
{
	static const char *const leaves[] = {
		"null", "null", "true", "false", "0", "7", "-128", "127", "128",
		"-32769", "40000", "2147483648", "-9223372036854775808",
		"9223372036854775808", "123456789012345678901234567890",
		"1.5", "-0.25", "1e3", "1E400", "3.4e39", "12.345", "0.001",
		"\"\"", "\"x\"", "\"a\\\"b\"", "\"2024-02-29\"", "\"2023-02-29\"",
		"\"2024-05-01T10:00:00Z\"", "\"2024-05-01T10:00:00+05:30\"",
		"\"not a time\"", "\"QUJD\"", "\"QUJ=\"", "\"Q\"", "\"\\u00e9t\\u00e9\"",
	};
	unsigned k = pick(depth < 3 ? 10 : 8);
	if (k < 8) {
		buf_adds(b, leaves[pick(sizeof leaves / sizeof leaves[0])]);
	} else if (k == 8) {
		object(b, depth);
	} else {
		unsigned n = pick(4);
		buf_adds(b, pick(2) ? "[" : "[ ");
		for (unsigned i = 0; i < n; i++) {
			if (i)
				buf_adds(b, ",");
			value(b, depth + 1);
		}
		buf_addc(b, ']');
	}
}

static void record(struct buf *b)
{
	b->len = 0;
	object(b, 0);
	buf_addc(b, '\0');
	b->len--;
}

/* A schema inferred from a few random records. */
static struct ds_type *inferred(void)
{
	struct ds_type *t = ds_new_struct();
	struct buf b = {0};
	unsigned n = 1 + pick(4);
	for (unsigned i = 0; i < n; i++) {
		record(&b);
		bool changed = false;
		char err[256];
		struct ds_type *c = ds_copy(t);
		if (ds_check(c, b.p, b.len, true, &changed, err, sizeof err) ==
		    0) {
			ds_free(t);
			t = c;
		} else {
			ds_free(c);
		}
	}
	buf_free(&b);
	return t;
}

static const char *const parsed[] = {
	"{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"a\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"b\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"c\",\"type\":\"decimal(5,2)\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"d\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"e\",\"type\":\"byte\",\"nullable\":false,\"metadata\":{}},"
	"{\"name\":\"f\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}}]}",
	"{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"a\",\"type\":{\"type\":\"map\",\"keyType\":\"string\","
	"\"valueType\":\"integer\",\"valueContainsNull\":false},"
	"\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"b\",\"type\":{\"type\":\"array\",\"elementType\":\"short\","
	"\"containsNull\":false},\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"c\",\"type\":{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"a\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
	"{\"name\":\"b\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]},"
	"\"nullable\":false,\"metadata\":{}},"
	"{\"name\":\"id\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}}]}",
};

/*
 * The same record scanned with t's typer (txlog's one pass): the same
 * scan (members and all), and a fit only where ds_conforms passes it.
 * The typer may decline what ds_conforms takes (an escaped name, a map)
 * but nothing else: counted in *yes_typed.
 */
static void typed_agrees(const struct ds_type *t, const struct scan_record *r,
			 bool conforms, unsigned *yes_typed)
{
	struct ds_typer d;
	struct scan_typer ty;
	struct scan_record tr = {0};
	struct scan_error se;
	bool fits;
	ds_typer_init(&d, t, &ty);
	CHECK_INT(ty.scan(&tr, r->p, r->n, &se, ty.ctx, &fits), 0);
	CHECK(tr.start == r->start && tr.nmembers == r->nmembers);
	for (size_t i = 0; i < r->nmembers && i < tr.nmembers; i++)
		CHECK(!memcmp(&tr.members[i], &r->members[i],
			      sizeof r->members[i]));
	if (fits && !conforms) {
		CHECK(!"the typer passed what ds_conforms does not");
		fprintf(stderr, "  record %.*s\n", (int)r->n, r->p);
	}
	*yes_typed += fits;
	scan_record_free(&tr);
}

/* Records against schema t: ds_conforms' yes must be ds_check's. */
static void against(struct ds_type *t, unsigned records, unsigned *yes,
		    unsigned *yes_typed, unsigned *total)
{
	struct buf b = {0};
	struct scan_record r = {0};
	struct ds_memo m = {0};
	for (unsigned i = 0; i < records; i++) {
		record(&b);
		struct scan_error se;
		if (scan_record(&r, b.p, b.len, &se) != 0)
			continue;
		bool conforms = ds_conforms(t, &r, &m);
		struct ds_type *c = ds_copy(t);
		bool changed = false;
		char err[256];
		int rc = ds_check(c, b.p, b.len, false, &changed, err, sizeof err);
		ds_free(c);
		if (conforms && (rc != 0 || changed)) {
			CHECK(!"ds_conforms passed what ds_check does not");
			fprintf(stderr, "  record %s: %s\n", b.p,
				rc ? err : "changes the schema");
		}
		typed_agrees(t, &r, conforms, yes_typed);
		*yes += conforms;
		(*total)++;
	}
	ds_memo_free(&m);
	scan_record_free(&r);
	buf_free(&b);
}

TEST(sound_on_inferred_schemas)
{
	unsigned yes = 0, yes_typed = 0, total = 0;
	for (int s = 0; s < 400; s++) {
		struct ds_type *t = inferred();
		against(t, 200, &yes, &yes_typed, &total);
		ds_free(t);
	}
	CHECK(total > 70000);
	CHECK(yes > total / 50); /* the test is not about "no" only */
	/* declined: records with an escaped name only */
	fprintf(stderr, "  inferred: %u of %u conform, %u typed\n", yes,
		total, yes_typed);
	CHECK(yes_typed > yes / 10 * 9);
}

TEST(sound_on_parsed_schemas)
{
	unsigned yes = 0, yes_typed = 0, total = 0;
	for (size_t k = 0; k < sizeof parsed / sizeof parsed[0]; k++) {
		char err[256];
		struct ds_type *t = ds_parse(parsed[k], strlen(parsed[k]), err,
					     sizeof err);
		CHECK(t != NULL);
		if (!t)
			continue;
		against(t, 40000, &yes, &yes_typed, &total);
		ds_free(t);
	}
	CHECK(yes > 0);
	fprintf(stderr, "  parsed: %u of %u conform, %u typed\n", yes, total,
		yes_typed);
	CHECK(yes_typed > 0);
}

/* Broken records: the typed scan fails where scan_record does, at the
 * same byte with the same words (txlog says them as the line's fault). */
TEST(typed_scan_same_faults)
{
	static const char bytes[] = "{}[]\",:\\ 0e-.tnu\x01\xc3\xff";
	struct ds_type *t = inferred();
	struct ds_typer d;
	struct scan_typer ty;
	ds_typer_init(&d, t, &ty);
	struct buf b = {0};
	struct scan_record r = {0}, tr = {0};
	unsigned bad = 0;
	for (int i = 0; i < 40000; i++) {
		record(&b);
		for (unsigned k = 1 + pick(3); k > 0 && b.len; k--)
			b.p[pick((unsigned)b.len)] =
				bytes[pick(sizeof bytes - 1)];
		if (!pick(8))
			b.len = pick((unsigned)b.len + 1);
		struct scan_error se = {0}, te = {0};
		bool fits;
		int rc = scan_record(&r, b.p, b.len, &se);
		int trc = ty.scan(&tr, b.p, b.len, &te, ty.ctx, &fits);
		CHECK_INT(trc, rc);
		if (rc) {
			bad++;
			CHECK(se.offset == te.offset && !strcmp(se.what, te.what));
			CHECK(!fits);
		}
	}
	CHECK(bad > 10000);
	scan_record_free(&r);
	scan_record_free(&tr);
	buf_free(&b);
	ds_free(t);
}

/* A record and whether ds_conforms must pass it. */
struct conform_case {
	const char *rec;
	bool conforms;
};

/* Each case against the schema of JSON text schema. */
static void conform_cases(const char *schema, const struct conform_case *cases,
			  size_t n)
{
	char err[256];
	struct ds_type *t = ds_parse(schema, strlen(schema), err, sizeof err);
	CHECK(t != NULL);
	if (!t)
		return;
	struct scan_record r = {0};
	struct ds_memo m = {0};
	for (size_t k = 0; k < n; k++) {
		struct scan_error se;
		CHECK_INT(scan_record(&r, cases[k].rec, strlen(cases[k].rec),
				      &se), 0);
		if (ds_conforms(t, &r, &m) != cases[k].conforms) {
			CHECK(!"ds_conforms' answer");
			fprintf(stderr, "  %s: want %d\n", cases[k].rec,
				cases[k].conforms);
		}
		unsigned typed = 0;
		typed_agrees(t, &r, cases[k].conforms, &typed);
	}
	ds_memo_free(&m);
	scan_record_free(&r);
	ds_free(t);
}

/* Records shaped like the schema pass without the in-order check. */
TEST(plain_records_conform)
{
	static const char *const schema =
		"{\"type\":\"struct\",\"fields\":["
		"{\"name\":\"id\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"c\",\"type\":{\"type\":\"struct\",\"fields\":["
		"{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"t\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]},"
		"\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"x\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"at\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"l\",\"type\":{\"type\":\"array\",\"elementType\":{"
		"\"type\":\"struct\",\"fields\":["
		"{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"q\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]},"
		"\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}";
	static const struct conform_case cases[] = {
		{"{\"id\":\"o-1\",\"c\":{\"n\":5,\"t\":\"gold\"},\"x\":1.5,"
		 "\"at\":\"2024-05-01T10:00:00Z\",\"l\":[{\"s\":\"B\",\"q\":9},null]}",
		 true},
		{"{ \"c\" : { \"t\" : \"a\" , \"n\" : -7 } , \"id\" : null }", true},
		{"{\"x\":1e5,\"l\":[]}", true},
		{"{\"x\":1e500}", false},           /* no double holds it */
		{"{\"c\":{\"n\":2147483648}}", false}, /* wider than integer */
		{"{\"c\":{\"n\":1.5}}", false},
		{"{\"c\":{\"n\":1,\"n\":2}}", false}, /* twice */
		{"{\"c\":{\"m\":1}}", false},        /* not in the schema */
		{"{\"at\":\"yesterday\"}", false},
		{"{\"l\":[{\"s\":1}]}", false},
		{"{\"id\":\"a\",\"id\":\"b\"}", false},
	};
	conform_cases(schema, cases, sizeof cases / sizeof cases[0]);
}

/* Nullability and required members, nested: parsed[1]'s columns. */
TEST(nested_nulls_and_required)
{
	static const struct conform_case cases[] = {
		{"{\"c\":{\"a\":1}}", true},
		{"{\"c\":{\"a\":null}}", false},   /* c.a is not nullable */
		{"{\"c\":{\"b\":\"x\"}}", false}, /* c.a is required */
		{"{\"id\":null}", false},           /* c is required */
		{"{\"c\":null}", false},
		{"{\"b\":[1,2],\"c\":{\"a\":5,\"b\":null}}", true},
		{"{\"b\":[1,null],\"c\":{\"a\":5}}", false}, /* containsNull */
		{"{\"b\":[1,40000],\"c\":{\"a\":5}}", false}, /* no short */
		{"{\"a\":{\"k\":1},\"c\":{\"a\":5}}", true},
		{"{\"a\":{\"k\":null},\"c\":{\"a\":5}}", false},
		{"{\"c\":{\"a\":5},\"id\":1e400}", false},
	};
	conform_cases(parsed[1], cases, sizeof cases / sizeof cases[0]);
}

/* A field whose name must be escaped in JSON (a backslash, a quote):
 * its raw bytes may equal another key's literal text, which names
 * another member ("a\b" is a and a backspace), so it is never found by
 * comparing raw bytes. */
TEST(escaped_names_conform)
{
	static const char *const schema =
		"{\"type\":\"struct\",\"fields\":["
		"{\"name\":\"c\",\"type\":{\"type\":\"struct\",\"fields\":["
		"{\"name\":\"a\\\\b\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
		"{\"name\":\"x\\\":\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]},"
		"\"nullable\":true,\"metadata\":{}}]}";
	static const struct conform_case cases[] = {
		{"{\"c\":{}}", true},
		{"{\"c\":{\"a\\b\":1}}", false},   /* a, backspace: no field */
		{"{\"c\":{\"x\":\"1\"}}", false},  /* x: no field */
		/* the name itself, escaped: left to the in-order check */
		{"{\"c\":{\"a\\\\b\":1}}", false},
	};
	conform_cases(schema, cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
	RUN(sound_on_inferred_schemas);
	RUN(sound_on_parsed_schemas);
	RUN(typed_scan_same_faults);
	RUN(plain_records_conform);
	RUN(nested_nulls_and_required);
	RUN(escaped_names_conform);
	return unit_done();
}
