/*
 * arith: a jq program of plain paths and number literals joined by
 * + - * / and compared, joined by and/or, piped into floor, ceil, round,
 * trunc or fabs (.price * .qty, .ms / 1000, .a + .b > 100,
 * .pct * 100 | floor), evaluated in exact decimal where libjq would use
 * doubles: 0.1 * 3 is 0.3, not 0.30000000000000004.
 *
 * Only numbers (and null for +, as jq has it) are computed here; any
 * other operand (a string to concatenate, an object to merge) is left
 * to libjq, which then gives jq's own answer or error.
 */
#ifndef IDEM_ARITH_H
#define IDEM_ARITH_H

#include <stddef.h>

struct buf;
struct scan_record;
struct arith;

/* The program as arithmetic, or NULL when it is not of this shape (or
 * does no arithmetic at all: a lone path or comparison is libjq's). */
struct arith *arith_parse(const char *src);
void arith_free(struct arith *a);

enum arith_status {
	ARITH_VALUE, /* the value's JSON text is in out */
	ARITH_OTHER, /* an operand is not a number: run libjq instead */
	ARITH_ERROR  /* no exact value (1 / 3, past 38 digits, / 0): err */
};

enum arith_status arith_eval(const struct arith *a,
			     const struct scan_record *rec, struct buf *out,
			     char *err, size_t errlen);

#endif
