/*
 * decmath: jq's math functions (sqrt, pow, fmod, log10...) in exact
 * decimal, where their value is a decimal.
 *
 * libm computes them in doubles: pow(0.1; 2) is 0.010000000000000002
 * and exp10(4) 10000.000000000002.  Here the answer is the exact value
 * or a reason there is none.  Roots and powers are exact when the
 * root's coefficient is an integer (sqrt of 0.01 is 0.1; of 2 there is
 * no decimal, as a rational k-th root of an integer is an integer);
 * log2 and log10 at the powers of 2 and 10, exp2 and exp10 at integers;
 * remainders and fma always (within 38 digits).  The transcendental
 * functions have a decimal value only at their exact points (sin 0,
 * cos 0, log 1...): those are answered by the caller, which knows the
 * signs of zero a struct dec does not keep.
 */
#ifndef IDEM_DECMATH_H
#define IDEM_DECMATH_H

#include <stdint.h>

#include "decimal.h"

/* Why a function gave no value. */
enum {
	DM_EXACT = 0,
	DM_NODEC = -1,    /* no finite decimal is the value (sqrt 2) */
	DM_OVERFLOW = -2, /* exact, but past DEC_DIGITS digits */
	DM_DOMAIN = -3    /* no real value (sqrt -1, pow(0; -1), fmod by 0) */
};

/* The k-th root of x (2 <= k; x < 0 only for odd k). */
int dm_root(const struct dec *x, int64_t k, struct dec *out);
/* a^b: b an integer, or a fraction whose root of a is exact. */
int dm_pow(const struct dec *a, const struct dec *b, struct dec *out);
/* x - n * y with n the integer x / y truncated (fmod) or taken to the
 * nearest, ties to even (remainder, drem). */
int dm_fmod(const struct dec *x, const struct dec *y, struct dec *out);
int dm_remainder(const struct dec *x, const struct dec *y,
		 struct dec *out);
/* x = m * 2^e with 0.5 <= |m| < 1 (frexp; m = e = 0 for 0). */
int dm_frexp(const struct dec *x, struct dec *m, int64_t *e);
/* x * 2^n (ldexp, scalb). */
int dm_ldexp(const struct dec *x, int64_t n, struct dec *out);
/* The integer k with x == 2^k (DM_NODEC when there is none). */
int dm_log2(const struct dec *x, int64_t *k);
/* Whether d is an integer; if it fits, *v is it. */
int dm_integer(const struct dec *d, int64_t *v, int *fits);

#endif
