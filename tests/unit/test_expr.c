/*
 * Differential test: every plain path answered by the scanner must give
 * what libjq gives for the same program.  Records are generated from a
 * seed with nested objects and arrays, duplicate members, escaped names
 * and numbers spelled several ways (all exact in a double, since libjq
 * 1.6 holds doubles).  "Missing" from the scanner is jq's null.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "expr.h"
#include "scan.h"
#include "value.h"
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

static const char *const names[] = {"a", "b", "c", "x y", "_id"};
static const char *const spelled[] = {
	"\"a\"", "\"b\"", "\"\\u0063\"", "\"x y\"", "\"_id\"",
};

static void gen_value(struct buf *b, int depth);

static void gen_object(struct buf *b, int depth)
{
	unsigned n = pick(5);
	buf_addc(b, '{');
	for (unsigned k = 0; k < n; k++) {
		if (k)
			buf_addc(b, ',');
		unsigned w = pick(5);
		buf_adds(b, pick(3) ? spelled[w] : "\"a\""); /* dupes of a */
		buf_addc(b, ':');
		gen_value(b, depth + 1);
	}
	buf_addc(b, '}');
}

static void gen_value(struct buf *b, int depth)
{
	static const char *const nums[] = {
		"0", "-0", "1", "1.0", "1e0", "2.5", "-3", "250e-2", "1E2",
		"0.5", "123456", "-7.25",
	};
	static const char *const strs[] = {
		"\"\"", "\"s\"", "\"\\u00e9t\\u00e9\"", "\"q\\\"q\"", "\"\\n\"",
	};
	unsigned r = depth > 3 ? pick(6) : pick(9);
	switch (r) {
	case 0: buf_adds(b, "null"); break;
	case 1: buf_adds(b, pick(2) ? "true" : "false"); break;
	case 2: case 3: buf_adds(b, nums[pick(12)]); break;
	case 4: case 5: buf_adds(b, strs[pick(5)]); break;
	case 6: {
		unsigned n = pick(4);
		buf_addc(b, '[');
		for (unsigned k = 0; k < n; k++) {
			if (k)
				buf_adds(b, pick(2) ? "," : " , ");
			gen_value(b, depth + 1);
		}
		buf_addc(b, ']');
		break;
	}
	default: gen_object(b, depth); break;
	}
}

static void gen_path(struct buf *b)
{
	unsigned n = 1 + pick(3);
	for (unsigned k = 0; k < n; k++) {
		switch (pick(4)) {
		case 0: buf_addf(b, "[%d]", (int)pick(4) - 2); break;
		case 1: buf_addf(b, ".\"%s\"", names[pick(5)]); break;
		case 2: buf_addf(b, "[\"%s\"]", names[pick(5)]); break;
		default: {
			const char *nm = names[pick(5)];
			if (strchr(nm, ' '))
				buf_addf(b, ".\"%s\"", nm);
			else
				buf_addf(b, ".%s", nm);
		}
		}
	}
	if (b->p[0] == '[') { /* a path starts with a dot */
		struct buf t = {0};
		buf_addc(&t, '.');
		buf_add(&t, b->p, b->len);
		buf_free(b);
		*b = t;
	}
}

/* The canonical answer of e on rec, or "error: ..." */
static struct scan_record sr;

static int eval(struct expr *e, const char *rec, const char **v, size_t *vlen,
		char *err, size_t errlen)
{
	struct scan_error se;
	if (scan_record(&sr, rec, strlen(rec), &se) != 0)
		return -1;
	return (int)expr_eval(e, &sr, v, vlen, err, errlen);
}

static void answer(struct expr *e, const char *rec, struct buf *out)
{
	const char *v;
	size_t vlen;
	char err[256];
	buf_reset(out);
	switch (eval(e, rec, &v, &vlen, err, sizeof err)) {
	case EXPR_VALUE: value_canon(out, v, vlen); break;
	case EXPR_MISSING: value_canon(out, "null", 4); break;
	case EXPR_EMPTY: buf_adds(out, "(empty)"); break;
	case EXPR_ERROR: buf_addf(out, "error: %s", err); break;
	}
}

#define NPATHS 120
#define NRECORDS 1500

TEST(plain_paths_match_libjq)
{
	/* libjq 1.6 compiles its builtins on every jq_compile (~10 ms), so
	 * each path is compiled once and run over every record. */
	struct expr *fast[NPATHS], *slow[NPATHS];
	struct buf rec = {0}, path = {0}, prog = {0}, x = {0}, y = {0};
	char err[256];
	int compared = 0, mismatches = 0, found = 0, errors = 0;
	for (int q = 0; q < NPATHS; q++) {
		buf_reset(&path);
		gen_path(&path);
		buf_reset(&prog);
		buf_addf(&prog, "%s | .", path.p); /* forces libjq */
		fast[q] = expr_compile(path.p, err, sizeof err);
		slow[q] = expr_compile(prog.p, err, sizeof err);
		CHECK(fast[q] && expr_is_plain(fast[q]));
		CHECK(slow[q] && !expr_is_plain(slow[q]));
		if (!fast[q] || !slow[q])
			return;
	}
	for (int r = 0; r < NRECORDS; r++) {
		buf_reset(&rec);
		gen_object(&rec, 0);
		struct scan_error se;
		CHECK(scan_validate(rec.p, rec.len, &se) == 0);
		for (int q = 0; q < NPATHS; q++) {
			answer(fast[q], rec.p, &x);
			answer(slow[q], rec.p, &y);
			compared++;
			if (!strncmp(x.p, "error", 5))
				errors++;
			else if (strcmp(x.p, "n"))
				found++;
			if (x.len != y.len || memcmp(x.p, y.p, x.len)) {
				if (mismatches++ < 5)
					fprintf(stderr, "%s on %s: fast %s, jq %s\n",
						expr_source(fast[q]), rec.p, x.p, y.p);
			}
		}
	}
	for (int q = 0; q < NPATHS; q++) {
		expr_free(fast[q]);
		expr_free(slow[q]);
	}
	CHECK_INT(mismatches, 0);
	CHECK_INT(compared, NPATHS * NRECORDS);
	CHECK(found > compared / 20); /* the generator reaches values ... */
	CHECK(errors > compared / 20); /* ... and type errors */
	printf("differential: %d lookups, %d values, %d type errors\n",
	       compared, found, errors);
	buf_free(&rec), buf_free(&path), buf_free(&prog);
	buf_free(&x), buf_free(&y);
}

TEST(jq_programs)
{
	char err[256];
	const char *v;
	size_t vlen;
	struct expr *e = expr_compile("[.a, .b]", err, sizeof err);
	CHECK(e && !expr_is_plain(e));
	CHECK_INT(eval(e, "{\"a\":1,\"b\":\"x\"}", &v, &vlen, err,
			    sizeof err), EXPR_VALUE);
	CHECK(vlen == 7 && !memcmp(v, "[1,\"x\"]", 7));
	CHECK_INT(expr_count(e), 1); /* one array */
	expr_free(e);

	e = expr_compile(".a, .b", err, sizeof err);
	CHECK_INT(eval(e, "{\"a\":1,\"b\":2}", &v, &vlen, err,
			    sizeof err), EXPR_VALUE);
	CHECK(vlen == 5 && !memcmp(v, "[1,2]", 5)); /* a tuple */
	CHECK_INT(expr_count(e), 2);
	expr_free(e);

	/* several values from libjq count as several, one as one */
	e = expr_compile("false, true", err, sizeof err);
	CHECK_INT(eval(e, "{}", &v, &vlen, err, sizeof err), EXPR_VALUE);
	CHECK_INT(expr_count(e), 2);
	expr_free(e);
	e = expr_compile(".a | . + 1", err, sizeof err);
	CHECK_INT(eval(e, "{\"a\":1}", &v, &vlen, err, sizeof err),
		  EXPR_VALUE);
	CHECK_INT(expr_count(e), 1);
	expr_free(e);
	e = expr_compile(".a", err, sizeof err);
	CHECK_INT(eval(e, "{\"a\":1}", &v, &vlen, err, sizeof err),
		  EXPR_VALUE);
	CHECK_INT(expr_count(e), 1);
	expr_free(e);

	e = expr_compile("empty", err, sizeof err);
	CHECK_INT(eval(e, "{}", &v, &vlen, err, sizeof err), EXPR_EMPTY);
	expr_free(e);

	e = expr_compile("error(\"boom\")", err, sizeof err);
	CHECK_INT(eval(e, "{}", &v, &vlen, err, sizeof err), EXPR_ERROR);
	CHECK_STR(err, "boom");
	expr_free(e);

	CHECK(expr_compile(".a |", err, sizeof err) == NULL);
	CHECK(strstr(err, "'.a |'") != NULL);

	e = expr_compile(".id", err, sizeof err);
	CHECK_INT(eval(e, "{\"id\":12345678901234567891}", &v, &vlen,
			    err, sizeof err), EXPR_VALUE);
	CHECK(vlen == 20 && !memcmp(v, "12345678901234567891", 20));
	CHECK_INT(eval(e, "{\"x\":1}", &v, &vlen, err, sizeof err),
		  EXPR_MISSING);
	CHECK_INT(eval(e, "[1]", &v, &vlen, err, sizeof err),
		  EXPR_ERROR);
	CHECK_STR(err, "Cannot index array with string \"id\"");
	expr_free(e);
}

/* An array, object or comma list of generated paths. */
static void gen_compound(struct buf *b)
{
	unsigned shape = pick(3), n = 1 + pick(3);
	struct buf p = {0};
	buf_adds(b, shape == 0 ? "[" : shape == 1 ? "{" : "");
	if (shape == 2 && n == 1)
		n = 2;
	for (unsigned k = 0; k < n; k++) {
		if (k)
			buf_adds(b, pick(2) ? ", " : ",");
		buf_reset(&p);
		gen_path(&p);
		if (shape == 1)
			buf_addf(b, pick(2) ? "k%u: " : "\"k %u\":", k);
		buf_add(b, p.p, p.len);
	}
	buf_adds(b, shape == 0 ? "]" : shape == 1 ? "}" : "");
	buf_free(&p);
}

#define NCOMPOUND 40
#define NCRECORDS 400

TEST(compound_shapes_match_libjq)
{
	struct expr *fast[NCOMPOUND], *slow[NCOMPOUND];
	struct buf rec = {0}, src = {0}, prog = {0}, x = {0}, y = {0};
	char err[256];
	int mismatches = 0, values = 0;
	for (int q = 0; q < NCOMPOUND; q++) {
		buf_reset(&src);
		gen_compound(&src);
		buf_reset(&prog);
		buf_addf(&prog, "%s | .", src.p);
		fast[q] = expr_compile(src.p, err, sizeof err);
		slow[q] = expr_compile(prog.p, err, sizeof err);
		CHECK(fast[q] && slow[q]);
		if (!fast[q] || !slow[q])
			return;
	}
	for (int r = 0; r < NCRECORDS; r++) {
		buf_reset(&rec);
		gen_object(&rec, 0);
		for (int q = 0; q < NCOMPOUND; q++) {
			answer(fast[q], rec.p, &x);
			answer(slow[q], rec.p, &y);
			values += strncmp(x.p, "error", 5) != 0;
			if (x.len != y.len || memcmp(x.p, y.p, x.len)) {
				if (mismatches++ < 5)
					fprintf(stderr, "%s on %s: fast %s, jq %s\n",
						expr_source(fast[q]), rec.p, x.p, y.p);
			}
		}
	}
	for (int q = 0; q < NCOMPOUND; q++) {
		expr_free(fast[q]);
		expr_free(slow[q]);
	}
	CHECK_INT(mismatches, 0);
	CHECK(values > NCOMPOUND * NCRECORDS / 10);
	buf_free(&rec), buf_free(&src), buf_free(&prog);
	buf_free(&x), buf_free(&y);
}

TEST(compound_keeps_big_numbers_jq_refuses_them)
{
	char err[512];
	const char *v;
	size_t vlen;
	static const char rec[] =
		"{\"id\":12345678901234567891,\"t\":{\"u\":1e400},\"s\":\"9\"}";
	struct expr *e = expr_compile("[.id, .t.u]", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_VALUE);
	CHECK(vlen == 28 && !memcmp(v, "[12345678901234567891,1e400]", 28));
	expr_free(e);
	e = expr_compile("{id: .id, \"s s\": .s, t}", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_VALUE);
	CHECK_INT((int)vlen, 53);
	CHECK(!memcmp(v, "{\"id\":12345678901234567891,\"s s\":\"9\",\"t\":"
		      "{\"u\":1e400}}", vlen));
	expr_free(e);
	e = expr_compile(".id, .nope", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_VALUE);
	CHECK(vlen == 27 && !memcmp(v, "[12345678901234567891,null]", 27));
	expr_free(e);
	/* a program libjq runs: a number it would round is refused */
	e = expr_compile("tojson", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_ERROR);
	CHECK(strncmp(err, "12345678901234567891 would be rounded", 37) == 0);
	CHECK_INT(eval(e, "{\"s\":\"9\",\"a\":[0.1,-0,1e300,2.5e-310,"
		       "123456789012.25,9007199254740992]}", &v, &vlen, err,
		       sizeof err), EXPR_VALUE);
	CHECK_INT(eval(e, "{\"s\":\"9\",\"a\":9007199254740993}", &v,
		       &vlen, err, sizeof err), EXPR_ERROR);
	CHECK_INT(eval(e, "{\"s\":\"9\",\"a\":1e400}", &v, &vlen, err,
		       sizeof err), EXPR_ERROR);
	CHECK_INT(eval(e, "{\"s\":\"9\",\"a\":0.30000000000000001}", &v,
		       &vlen, err, sizeof err), EXPR_ERROR);
	expr_free(e);
	/* a program that names the members it reads is checked on them */
	e = expr_compile(".s | tonumber", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_VALUE);
	CHECK(vlen == 1 && v[0] == '9');
	expr_free(e);
	e = expr_compile(".\"s\" != null and (.t.u | not)", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_ERROR);
	CHECK(strncmp(err, "1e400 would be rounded", 22) == 0);
	expr_free(e);
	e = expr_compile("select(.s != null)", err, sizeof err);
	CHECK_INT(eval(e, rec, &v, &vlen, err, sizeof err), EXPR_ERROR);
	expr_free(e);
	/* and its own literals must survive libjq */
	CHECK(expr_compile(".s > 12345678901234567891", err, sizeof err) ==
	      NULL);
	CHECK_STR(err, "'.s > 12345678901234567891': the number "
		       "12345678901234567891 would be rounded by libjq, which "
		       "holds numbers as doubles");
	e = expr_compile(".s > 0.1 and .s < 1e300", err, sizeof err);
	CHECK(e != NULL);
	expr_free(e);
	/* wherever they stand: after a bare `.`, a variable or a word, in
	 * a string's \( ), or spelt .5 */
	static const char *const rounded[] = {
		".a | . == 9007199254740993",
		". as $r | $r.a == 9007199254740993",
		"select(.a == 1e400) | true",
		"\"x\\(.a == 12345678901234567891)\" == \"xtrue\"",
		"\"\\(\"\\(.a)\") \\(.a > 9007199254740993)\" != \"\"",
		"(.a | tostring) == \"1\" or .b == .30000000000000000001",
		".[0] > 0 and .b == 1e-400",
	};
	for (size_t k = 0; k < sizeof rounded / sizeof *rounded; k++) {
		e = expr_compile(rounded[k], err, sizeof err);
		if (e)
			fprintf(stderr, "  compiled: %s\n", rounded[k]);
		CHECK(e == NULL && strstr(err, "would be rounded by libjq"));
		expr_free(e);
	}
	/* a member named by itself ({"id"}, {not}) is read without a dot */
	static const char *const shorthand[] = {
		"{\"id\"}", "{not}", "{\"a\": .s, \"id\"}",
		"{ \"id\" # a comment\n}", "{length, b: (.s | length)}",
		".s # \"\n, {\"not\"} # \"",
	};
	static const char big[] =
		"{\"s\":\"9\",\"id\":12345678901234567891,"
		"\"not\":9007199254740993,\"length\":1e400}";
	for (size_t k = 0; k < sizeof shorthand / sizeof *shorthand; k++) {
		e = expr_compile(shorthand[k], err, sizeof err);
		CHECK(e != NULL);
		if (!e)
			continue;
		int st = eval(e, big, &v, &vlen, err, sizeof err);
		if (st != EXPR_ERROR)
			fprintf(stderr, "  %s gave %.*s\n", shorthand[k],
				(int)vlen, v);
		CHECK(st == EXPR_ERROR && strstr(err, "would be rounded"));
		expr_free(e);
	}
	/* jq's own escapes in a name are libjq's to judge: never decoded
	 * past the program's end (ASan saw that, make test's sanitized pass) */
	char *lone = strdup(".\"\\ud800\"");
	CHECK(lone && expr_compile(lone, err, sizeof err) == NULL);
	free(lone);
	lone = strdup("{\"\\ud800\"}");
	CHECK(lone && expr_compile(lone, err, sizeof err) == NULL);
	free(lone);
	/* a name given twice, however spelt, is jq's: the last one wins */
	e = expr_compile("{\"a\": .s, \"\\u0061\": .y}", err, sizeof err);
	CHECK_INT(eval(e, "{\"s\":1,\"y\":2}", &v, &vlen, err, sizeof err),
		  EXPR_VALUE);
	CHECK(vlen == 7 && !memcmp(v, "{\"a\":2}", 7));
	expr_free(e);
	/* tonumber and fromjson make numbers of text: a string's number
	 * that libjq would round is refused as one written as a number */
	static const struct {
		const char *src, *rec;
		int st;
	} text[] = {
		{".s | tonumber", "{\"s\":\"12345678901234567891\"}", EXPR_ERROR},
		{".s | tonumber", "{\"s\":\"\\u0039007199254740993\"}",
		 EXPR_ERROR},
		{".s | fromjson | .a", "{\"s\":\"{\\\"a\\\":1e400}\"}", EXPR_ERROR},
		{".s | fromjson | .t | fromjson",
		 "{\"s\":\"{\\\"t\\\":\\\"[0.30000000000000001]\\\"}\"}",
		 EXPR_ERROR},
		{".s | tonumber", "{\"s\":\"12.5\",\"x\":\"12345678901234567891\"}",
		 EXPR_VALUE},
		{".s | ascii_downcase", "{\"s\":\"12345678901234567891\"}",
		 EXPR_VALUE},
	};
	for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
		e = expr_compile(text[k].src, err, sizeof err);
		CHECK(e != NULL);
		if (!e)
			continue;
		int st = eval(e, text[k].rec, &v, &vlen, err, sizeof err);
		if (st != text[k].st)
			fprintf(stderr, "  %s on %s: %d %.*s\n", text[k].src,
				text[k].rec, st, st == EXPR_VALUE ? (int)vlen : 0,
				st == EXPR_VALUE ? v : "");
		CHECK_INT(st, text[k].st);
		if (text[k].st == EXPR_ERROR)
			CHECK(strstr(err, "would be rounded by libjq") != NULL);
		expr_free(e);
	}
	/* and a string that is a value names nothing */
	e = expr_compile("{\"a\": \"id\"} | has(\"a\")", err, sizeof err);
	CHECK_INT(eval(e, big, &v, &vlen, err, sizeof err), EXPR_VALUE);
	expr_free(e);
	/* digits in strings, comments and names are no literals */
	static const char *const kept[] = {
		"\"12345678901234567891\" | length > 0",
		".a # 12345678901234567891\n== 1",
		"$__loc__.line == 1 and .a1 == 2.5e3 and .[0] == .5",
		"\"\\(.a)12345678901234567891\" != \"\"",
	};
	for (size_t k = 0; k < sizeof kept / sizeof *kept; k++) {
		e = expr_compile(kept[k], err, sizeof err);
		if (!e)
			fprintf(stderr, "  refused: %s: %s\n", kept[k], err);
		CHECK(e != NULL);
		expr_free(e);
	}
	/* not a compound of plain paths: libjq's */
	e = expr_compile("[.a, .b | tostring]", err, sizeof err);
	CHECK(e != NULL);
	CHECK_INT(eval(e, "{\"a\":1,\"b\":2}", &v, &vlen, err, sizeof err),
		  EXPR_VALUE);
	CHECK(vlen == 9 && !memcmp(v, "[\"1\",\"2\"]", 9)); /* (.a, .b) | */
	expr_free(e);
}

/* A condition's truth, and its refusal of several values: the one
 * judgment dlq check and txlog's --where share. */
TEST(conditions)
{
	static const struct {
		const char *src, *rec;
		int st;
		bool holds;
	} cases[] = {
		{".a == 1", "{\"a\":1}", EXPR_VALUE, true},
		{".a", "{\"a\":0}", EXPR_VALUE, true},   /* 0 is true in jq */
		{".a", "{\"a\":\"\"}", EXPR_VALUE, true},
		{".a", "{\"a\":false}", EXPR_VALUE, false},
		{".a", "{\"a\":null}", EXPR_VALUE, false},
		{".a", "{}", EXPR_MISSING, false},
		{"empty", "{}", EXPR_EMPTY, false},
		{"false, true", "{}", EXPR_ERROR, false},
		{".a == 1, .b == 9", "{\"a\":1}", EXPR_ERROR, false},
		{"[.a, .b]", "{\"a\":false}", EXPR_VALUE, true}, /* one array */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char err[256] = "";
		const char *v;
		size_t vlen;
		bool holds = true;
		struct expr *e = expr_compile(cases[i].src, err, sizeof err);
		CHECK(e != NULL);
		if (!e)
			continue;
		struct scan_error se;
		CHECK_INT(scan_record(&sr, cases[i].rec, strlen(cases[i].rec),
				      &se), 0);
		int st = (int)expr_condition(e, &sr, &v, &vlen, &holds, err,
					     sizeof err);
		if (st != cases[i].st || holds != cases[i].holds)
			fprintf(stderr, "  %s on %s: %d %d\n", cases[i].src,
				cases[i].rec, st, holds);
		CHECK_INT(st, cases[i].st);
		CHECK(holds == cases[i].holds);
		if (st == EXPR_ERROR && cases[i].st == EXPR_ERROR)
			CHECK_STR(err, "gave 2 values; a condition gives one "
				  "(join them with and, or, any or all)");
		expr_free(e);
	}
}

int main(void)
{
	RUN(plain_paths_match_libjq);
	RUN(compound_shapes_match_libjq);
	RUN(compound_keeps_big_numbers_jq_refuses_them);
	RUN(jq_programs);
	RUN(conditions);
	scan_record_free(&sr);
	return unit_done();
}
