/*
 * decmath: a value's root, power or remainder as an exact decimal.
 *
 * A root is taken on the coefficient: x = c * 10^e with no factor 10 in
 * c, and x^(1/k) is r * 10^(e/k) when k divides e and r^k == c for an
 * integer r, or no decimal at all.  Powers multiply exactly by
 * squaring; a struct dec refuses what passes 38 digits, so the loop
 * stops within a few steps of any base but a power of ten.
 */
#include "decmath.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

typedef unsigned __int128 u128;

#define I128_MAX ((__int128)(((u128)1 << 127) - 1))

static u128 mag(__int128 c)
{
	return c < 0 ? (u128)0 - (u128)c : (u128)c;
}

static struct dec dec_abs(struct dec d)
{
	if (d.coef < 0)
		d.coef = -d.coef;
	return d;
}

int dm_integer(const struct dec *d, int64_t *v, int *fits)
{
	struct dec n = dec_normalize(*d);
	*fits = 0;
	if (n.exp < 0)
		return 0;
	u128 m = mag(n.coef);
	for (int32_t i = 0; i < n.exp && m; i++) {
		if (m > (u128)INT64_MAX / 10)
			return 1;
		m *= 10;
	}
	if (m > (u128)INT64_MAX)
		return 1;
	*v = n.coef < 0 ? -(int64_t)m : (int64_t)m;
	*fits = 1;
	return 1;
}

/* b^k, or false when it passes lim. */
static bool upow(u128 b, int64_t k, u128 lim, u128 *out)
{
	u128 r = 1;
	for (int64_t i = 0; i < k; i++)
		if (__builtin_mul_overflow(r, b, &r) || r > lim)
			return false;
	*out = r;
	return true;
}

/* The integer k-th root of c when c is a k-th power, else false. */
static bool exact_iroot(u128 c, int64_t k, u128 *root)
{
	if (c <= 1 || k == 1) {
		*root = c;
		return true;
	}
	if (k > 128)
		return false; /* 2^k > c: only 0 and 1 have one */
	/* r < 2^(128/k + 1): a binary search of the k-th powers */
	u128 lo = 1, hi = (u128)1 << (128 / k + 1 > 64 ? 64 : 128 / k + 1), p;
	while (hi - lo > 1) {
		u128 mid = lo + (hi - lo) / 2;
		if (upow(mid, k, c, &p))
			lo = mid; /* mid^k <= c */
		else
			hi = mid;
	}
	u128 r = lo;
	if (!upow(r, k, c, &p) || p != c)
		return false;
	*root = r;
	return true;
}

int dm_root(const struct dec *x, int64_t k, struct dec *out)
{
	if (x->coef == 0) {
		*out = DEC_ZERO;
		return DM_EXACT;
	}
	if (x->coef < 0 && k % 2 == 0)
		return DM_DOMAIN;
	/* c has no factor 10.  If r^k = c * 10^-s with 0 < s < k, both 2
	 * and 5 divide r, so 2^k and 5^k divide r^k, and 10 would divide
	 * c: an exponent that is no multiple of k leaves no decimal root
	 * (0.4 and 1000 have no square root, 0.04 and 1e4 do). */
	struct dec n = dec_normalize(*x);
	u128 c = mag(n.coef), r;
	if (n.exp % k != 0 || !exact_iroot(c, k, &r))
		return DM_NODEC;
	out->coef = x->coef < 0 ? -(__int128)r : (__int128)r;
	out->exp = (int32_t)(n.exp / k);
	return DM_EXACT;
}

/* a^n for an integer n. */
static int pow_int(const struct dec *a, int64_t n, struct dec *out)
{
	if (a->coef == 0) {
		if (n < 0)
			return DM_DOMAIN;
		*out = n == 0 ? dec_from_i64(1) : DEC_ZERO;
		return DM_EXACT;
	}
	uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	struct dec r = dec_from_i64(1), b = dec_normalize(*a);
	/* b's coefficient has no factor 10, so b^2's is b's squared:
	 * when a square overflows, so would the result */
	while (u) {
		if ((u & 1) && dec_mul(&r, &b, &r) != 0)
			return DM_OVERFLOW;
		u >>= 1;
		if (u && dec_mul(&b, &b, &b) != 0)
			return DM_OVERFLOW;
	}
	if (n >= 0) {
		*out = r;
		return DM_EXACT;
	}
	struct dec one = dec_from_i64(1);
	switch (dec_div(&one, &r, out)) {
	case 0:
		return DM_EXACT;
	case DEC_ENDLESS:
		return DM_NODEC;
	default:
		return DM_OVERFLOW;
	}
}

int dm_pow(const struct dec *a, const struct dec *b, struct dec *out)
{
	int64_t n;
	int fits;
	struct dec na = dec_normalize(*a), nb = dec_normalize(*b);
	bool one = mag(na.coef) == 1 && na.exp == 0; /* a is 1 or -1 */
	if (dm_integer(b, &n, &fits)) {
		if (fits)
			return pow_int(a, n, out);
		if (a->coef == 0) {
			*out = DEC_ZERO;
			return b->coef > 0 ? DM_EXACT : DM_DOMAIN;
		}
		if (!one)
			return DM_OVERFLOW;
		/* (-1)^b for b past 2^63: odd when its last digit is */
		bool odd = nb.exp == 0 && mag(nb.coef) % 2;
		*out = dec_from_i64(na.coef < 0 && odd ? -1 : 1);
		return DM_EXACT;
	}
	if (a->coef == 0) {
		*out = DEC_ZERO;
		return b->coef > 0 ? DM_EXACT : DM_DOMAIN;
	}
	if (a->coef < 0)
		return DM_DOMAIN; /* libm's pow: no root of a negative */
	/* b = p / q in lowest terms, q = 10^f / gcd: a's q-th root, to
	 * the p-th power */
	int64_t f = -(int64_t)nb.exp;
	u128 m = mag(nb.coef);
	if (f > 38) /* q >= 2^39: only 1 has a root of that order */
		return one ? (*out = dec_from_i64(1), DM_EXACT) : DM_NODEC;
	u128 q = 1;
	for (int64_t i = 0; i < f; i++)
		q *= 10;
	u128 g = dec_gcd(m, q);
	u128 p = m / g;
	q /= g;
	struct dec root;
	int rc;
	if (q > 128) {
		/* a root of order past 128 of a coefficient past 1 passes
		 * 2^128: a must be a power of ten */
		if (mag(na.coef) != 1 || na.exp % (int64_t)q)
			return DM_NODEC;
		root = (struct dec){1, (int32_t)(na.exp / (int64_t)q)};
		rc = DM_EXACT;
	} else {
		rc = dm_root(a, (int64_t)q, &root);
	}
	if (rc != DM_EXACT)
		return rc;
	if (p > (u128)INT64_MAX)
		return DM_OVERFLOW;
	return pow_int(&root, nb.coef < 0 ? -(int64_t)p : (int64_t)p, out);
}

static int div_code(int rc)
{
	return rc == DEC_BY_ZERO ? DM_DOMAIN : rc ? DM_OVERFLOW : DM_EXACT;
}

/* x - q * y */
static int minus_times(const struct dec *x, const struct dec *q,
		       const struct dec *y, struct dec *out)
{
	struct dec t, r = *x;
	if (dec_mul(q, y, &t) != 0 || dec_sub(&r, &t) != 0 || !dec_fits(&r))
		return DM_OVERFLOW;
	*out = r;
	return DM_EXACT;
}

int dm_fmod(const struct dec *x, const struct dec *y, struct dec *out)
{
	struct dec q;
	int rc = div_code(dec_div_integral(x, y, DEC_TRUNC, &q));
	return rc ? rc : minus_times(x, &q, y, out);
}

int dm_remainder(const struct dec *x, const struct dec *y, struct dec *out)
{
	struct dec q, r;
	int rc = div_code(dec_div_integral(x, y, DEC_TRUNC, &q));
	if (rc || (rc = minus_times(x, &q, y, &r)))
		return rc;
	/* |r| < |y| with x's sign: past half of |y| (or at half, when q
	 * is odd) the nearest n is one further, and r moves back by |y| */
	struct dec twice, ay = dec_abs(*y), two = dec_from_i64(2);
	struct dec ar = dec_abs(r);
	if (dec_mul(&ar, &two, &twice) != 0)
		return DM_OVERFLOW;
	int c = dec_cmp(&twice, &ay);
	struct dec nq = dec_normalize(q);
	bool odd = nq.exp == 0 && mag(nq.coef) % 2;
	if (c > 0 || (c == 0 && odd)) {
		if (r.coef > 0 ? dec_sub(&r, &ay) : dec_add(&r, &ay))
			return DM_OVERFLOW;
	}
	*out = r;
	return DM_EXACT;
}

int dm_ldexp(const struct dec *x, int64_t n, struct dec *out)
{
	struct dec r = *x;
	if (x->coef == 0 || n == 0) {
		*out = r;
		return DM_EXACT;
	}
	if (n > 400 || n < -400)
		return DM_OVERFLOW; /* past 38 digits long before */
	/* by 2^60 or 0.5^25 = 5^25 * 10^-25 at a time */
	while (n) {
		int64_t k = n > 0 ? (n > 60 ? 60 : n) : (n < -25 ? -25 : n);
		struct dec f;
		if (k > 0) {
			f = (struct dec){(__int128)((u128)1 << k), 0};
		} else {
			u128 five = 1;
			upow(5, -k, ~(u128)0, &five);
			f = (struct dec){(__int128)five, (int32_t)k};
		}
		if (dec_mul(&r, &f, &r) != 0)
			return DM_OVERFLOW;
		n -= k;
	}
	*out = r;
	return DM_EXACT;
}

int dm_frexp(const struct dec *x, struct dec *m, int64_t *e)
{
	if (x->coef == 0) {
		*m = DEC_ZERO;
		*e = 0;
		return DM_EXACT;
	}
	/* the double's exponent, then checked and moved on the decimal */
	char t[DEC_STRMAX];
	dec_format(x, t);
	int de;
	frexp(strtod(t, NULL), &de);
	int64_t k = de;
	struct dec r, half = {5, -1}, one = dec_from_i64(1), two = {2, 0};
	int rc = dm_ldexp(x, -k, &r);
	for (int i = 0; rc == DM_EXACT && i < 4; i++) {
		struct dec a = dec_abs(r);
		if (dec_cmp(&a, &half) < 0) {
			rc = dec_mul(&r, &two, &r) ? DM_OVERFLOW : DM_EXACT;
			k--;
		} else if (dec_cmp(&a, &one) >= 0) {
			rc = dec_mul(&r, &half, &r) ? DM_OVERFLOW : DM_EXACT;
			k++;
		} else {
			*m = r;
			*e = k;
			return DM_EXACT;
		}
	}
	return rc == DM_EXACT ? DM_OVERFLOW : rc;
}

int dm_log2(const struct dec *x, int64_t *k)
{
	if (x->coef <= 0)
		return DM_DOMAIN;
	struct dec m, half = {5, -1};
	int64_t e;
	if (dm_frexp(x, &m, &e) != DM_EXACT || dec_cmp(&m, &half) != 0)
		return DM_NODEC; /* a power of 2 a struct dec holds has one */
	*k = e - 1;
	return DM_EXACT;
}
