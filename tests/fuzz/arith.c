/*
 * fuzz arith: exact arithmetic programs, parsed and evaluated.  Input:
 * PROGRAM NUL JSON (no NUL: the program runs on a fixed record).  A
 * program taken evaluates the same twice; a value is one valid JSON
 * value, a number one lib/decimal reads back; an error says something.
 * And the two exact engines agree: [program] | .[0], which libjq runs
 * with idem's exact operators (lib/expr.c), gives the same value or
 * refuses.
 */
#include "arith.h"
#include "buf.h"
#include "decimal.h"
#include "expr.h"
#include "fuzz.h"
#include "scan.h"
#include "value.h"

/* libjq's answer to [src] | .[0] on r agrees with arith's value v[0..n). */
static void same_in_libjq(const char *src, const struct scan_record *r,
			  const char *v, size_t n)
{
	size_t sn = strlen(src);
	/* [src] alone would be an array of one arith part (expr.c) */
	char *wrapped = malloc(sn + 10), err[256];
	if (!wrapped)
		abort();
	wrapped[0] = '[';
	memcpy(wrapped + 1, src, sn);
	memcpy(wrapped + 1 + sn, "] | .[0]", 9);
	struct expr *e = expr_compile(wrapped, err, sizeof err);
	free(wrapped);
	if (!e)
		return; /* a literal libjq folds inexactly, a jq syntax... */
	const char *w;
	size_t wn;
	if (expr_eval(e, r, &w, &wn, err, sizeof err) == EXPR_VALUE) {
		if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
			FUZZ_CHECK(value_number_compare(w, wn, v, n) == 0);
		else
			FUZZ_CHECK(wn == n && !memcmp(w, v, n));
	}
	expr_free(e);
}

static const char doc[] =
	"{\"a\":0.1,\"b\":3,\"c\":-2.5e3,\"n\":null,\"s\":\"x\",\"t\":true,"
	"\"z\":0,\"big\":99999999999999999999,\"o\":{\"p\":[1,2.25]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *js;
	size_t jn;
	char *src = fuzz_program(data, size, doc, &js, &jn);
	struct arith *a = arith_parse(src);
	if (!a) {
		free(src);
		return 0;
	}
	static struct scan_record r;
	struct scan_error se;
	if (scan_record(&r, js, jn, &se) == 0) {
		struct buf out = {0}, again = {0};
		char err[256] = "", err2[256] = "";
		enum arith_status st = arith_eval(a, &r, &out, err, sizeof err);
		enum arith_status st2 = arith_eval(a, &r, &again, err2,
						   sizeof err2);
		FUZZ_CHECK(st == st2);
		if (st == ARITH_VALUE) {
			FUZZ_CHECK(out.len == again.len &&
				   !memcmp(out.p, again.p, out.len));
			FUZZ_CHECK(scan_validate(out.p, out.len, &se) == 0);
			struct dec d;
			if (out.p[0] == '-' || (out.p[0] >= '0' && out.p[0] <= '9'))
				FUZZ_CHECK(dec_parse(out.p, out.len, &d) == 0);
			same_in_libjq(src, &r, out.p, out.len);
		} else if (st == ARITH_ERROR) {
			FUZZ_CHECK(err[0] && !strcmp(err, err2));
		}
		buf_free(&out);
		buf_free(&again);
	}
	arith_free(a);
	free(src);
	return 0;
}
