/*
 * decimal: a value is coef * 10^exp, held exactly.
 *
 * Invariant: coef is never the most negative __int128, so negating and
 * taking the magnitude are always defined; dec_parse cannot produce it
 * (38 digits < 2^127) and the arithmetic refuses to.  Values are not
 * kept normalized (1.50 stays {150, -2}): a running sum would otherwise
 * pay a 128-bit division per record.  dec_format normalizes on the way
 * out, and dec_add normalizes only as a retry when aligning overflows.
 */
#include "decimal.h"

#include <stdbool.h>
#include <string.h>

typedef unsigned __int128 u128;

#define I128_MAX ((__int128)(((u128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)
/* Exponent digits beyond this cannot matter: saturate rather than wrap. */
#define EXP_CAP 1000000000000000LL

static const uint64_t pow10_u64[20] = {
	1ULL,
	10ULL,
	100ULL,
	1000ULL,
	10000ULL,
	100000ULL,
	1000000ULL,
	10000000ULL,
	100000000ULL,
	1000000000ULL,
	10000000000ULL,
	100000000000ULL,
	1000000000000ULL,
	10000000000000ULL,
	100000000000000ULL,
	1000000000000000ULL,
	10000000000000000ULL,
	100000000000000000ULL,
	1000000000000000000ULL,
	10000000000000000000ULL,
};

/* 10^k for 0 <= k <= 38 (C has no 128-bit literals). */
static u128 pow10_u128(int k)
{
	if (k < 20)
		return pow10_u64[k];
	return (u128)pow10_u64[19] * pow10_u64[k - 19];
}

static u128 mag(__int128 c)
{
	return c < 0 ? (u128)0 - (u128)c : (u128)c;
}

/*
 * |v| as unsigned, spelled without a conditional: GCC 12.2 at -O2
 * miscompiled `n < 0 ? 0 - (uint64_t)n : (uint64_t)n` in dec_div_i64
 * into a cmov that picked -n either way.
 */
static uint64_t mag64(int64_t v)
{
	uint64_t mask = 0 - (uint64_t)(v < 0);
	return ((uint64_t)v ^ mask) - mask;
}

static int ndigits(u128 v)
{
	int n = 1;
	while (n < 39 && v >= pow10_u128(n))
		n++;
	return n;
}

/* printf has no conversion for __int128: two 19-digit halves suffice. */
static size_t u128_digits(u128 v, char *out)
{
	char tmp[40];
	size_t n = 0;
	do {
		uint64_t chunk = (uint64_t)(v % pow10_u64[19]);
		v /= pow10_u64[19];
		for (int i = 0; i < 19; i++) {
			tmp[n++] = (char)('0' + chunk % 10);
			chunk /= 10;
			if (v == 0 && chunk == 0)
				break;
		}
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dec_parse(const char *s, size_t n, struct dec *out)
{
	size_t i = 0;
	int neg = 0;
	if (i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	size_t first = i;
	if (i >= n || !is_digit(s[i]))
		return -1;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	size_t frac_len = 0;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i])) {
			i++;
			frac_len++;
		}
		if (frac_len == 0)
			return -1;
	}
	size_t end = i; /* digits and at most one '.' in [first, end) */
	int64_t e = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		int eneg = 0;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			eneg = s[i] == '-';
			i++;
		}
		if (i >= n || !is_digit(s[i]))
			return -1;
		for (; i < n && is_digit(s[i]); i++)
			if (e < EXP_CAP)
				e = e * 10 + (s[i] - '0');
		if (eneg)
			e = -e;
	}
	if (i != n)
		return -1;

	/* Significant digits run from the first to the last non-zero one;
	 * zeros after the last fold into the exponent. */
	size_t lo = first, hi = end;
	while (lo < end && (s[lo] == '0' || s[lo] == '.'))
		lo++;
	if (lo == end) {
		*out = DEC_ZERO; /* "-0", "0.000", "0e999999999999" */
		return 0;
	}
	while (s[hi - 1] == '0' || s[hi - 1] == '.')
		hi--;
	int64_t trailing = 0;
	for (size_t k = hi; k < end; k++)
		trailing += s[k] != '.';
	__int128 coef = 0;
	int sig = 0;
	for (size_t k = lo; k < hi; k++) {
		if (s[k] == '.')
			continue;
		if (++sig > DEC_DIGITS)
			return -1;
		coef = coef * 10 + (s[k] - '0');
	}
	int64_t exp = e - (int64_t)frac_len + trailing;
	if (exp < INT32_MIN || exp > INT32_MAX)
		return -1;
	out->coef = neg ? -coef : coef;
	out->exp = (int32_t)exp;
	return 0;
}

struct dec dec_from_i64(int64_t v)
{
	return (struct dec){v, 0};
}

/* *c *= 10^k; -1 when it does not fit. */
static int scale_up(u128 *c, int64_t k)
{
	if (k > DEC_DIGITS)
		return -1; /* *c != 0 here, and 10^39 > 2^128 */
	return __builtin_mul_overflow(*c, pow10_u128((int)k), c) ? -1 : 0;
}

/*
 * Align on the smaller exponent, then add; writes *acc only on success.
 * Magnitudes are unsigned so that an aligned operand may exceed the
 * signed range and still be cancelled by the other: 2e-2 plus -0.0051...
 * (39 digits) scales 2 to 2e38 on the way to a sum that fits.
 */
static int add_aligned(struct dec *acc, __int128 xc, int32_t xe)
{
	if (xc == 0)
		return 0;
	if (acc->coef == 0) {
		acc->coef = xc;
		acc->exp = xe;
		return 0;
	}
	u128 a = mag(acc->coef), b = mag(xc), sum;
	int a_neg = acc->coef < 0, x_neg = xc < 0, neg;
	int32_t e = acc->exp;
	if (e > xe) {
		if (scale_up(&a, (int64_t)e - xe) != 0)
			return -1;
		e = xe;
	} else if (xe > e) {
		if (scale_up(&b, (int64_t)xe - e) != 0)
			return -1;
	}
	if (a_neg == x_neg) {
		if (__builtin_add_overflow(a, b, &sum))
			return -1;
		neg = a_neg;
	} else if (a >= b) {
		sum = a - b;
		neg = a_neg;
	} else {
		sum = b - a;
		neg = x_neg;
	}
	/* A sum past the signed range may still be exact with fewer
	 * trailing zeros: 0.0148...9 (39 digits) minus -0.0051...1 is
	 * 2e38 at exponent -40, which is 0.02. */
	while (sum > (u128)I128_MAX && sum % 10 == 0 && e < INT32_MAX) {
		sum /= 10;
		e++;
	}
	if (sum > (u128)I128_MAX)
		return -1;
	acc->coef = neg ? -(__int128)sum : (__int128)sum;
	acc->exp = e;
	return 0;
}

static int add_coef(struct dec *acc, __int128 xc, int32_t xe)
{
	if (add_aligned(acc, xc, xe) == 0)
		return 0;
	/* Trailing zeros (1.000 + 1e30) may be what overflowed: retry
	 * with both normalized before calling it an overflow. */
	struct dec a = dec_normalize(*acc);
	struct dec x = dec_normalize((struct dec){xc, xe});
	if (add_aligned(&a, x.coef, x.exp) != 0)
		return -1;
	*acc = a;
	return 0;
}

int dec_add(struct dec *acc, const struct dec *x)
{
	return add_coef(acc, x->coef, x->exp);
}

int dec_sub(struct dec *acc, const struct dec *x)
{
	if (x->coef == I128_MIN)
		return -1;
	return add_coef(acc, -x->coef, x->exp);
}

static int exp_sum(int64_t e, struct dec *out)
{
	if (e < INT32_MIN || e > INT32_MAX)
		return -1;
	out->exp = (int32_t)e;
	return 0;
}

int dec_mul(const struct dec *a, const struct dec *b, struct dec *out)
{
	struct dec x = dec_normalize(*a), y = dec_normalize(*b);
	if (x.coef == 0 || y.coef == 0) {
		*out = DEC_ZERO;
		return 0;
	}
	/* A 2 of one and a 5 of the other make a trailing zero: move
	 * each such pair into the exponent first, so that the product
	 * overflows only when its value has too many digits. */
	u128 m = mag(x.coef), n = mag(y.coef), c;
	int64_t e = (int64_t)x.exp + y.exp;
	for (int k = 0; k < 2; k++) {
		while (m % 2 == 0 && n % 5 == 0)
			m /= 2, n /= 5, e++;
		u128 t = m; /* the other way round: 5s of x, 2s of y */
		m = n;
		n = t;
	}
	if (__builtin_mul_overflow(m, n, &c) || c > (u128)I128_MAX)
		return -1;
	int neg = (x.coef < 0) != (y.coef < 0);
	out->coef = neg ? -(__int128)c : (__int128)c;
	return exp_sum(e, out);
}

int dec_fits(const struct dec *d)
{
	struct dec n = dec_normalize(*d);
	return mag(n.coef) < pow10_u128(DEC_DIGITS);
}

/* Whether the integer part of a value moves one away from zero when how
 * takes it to an integer: neg its sign, frac whether it has a fraction,
 * half whether that is a half or more (trunc never moves it). */
static int away_from_zero(enum dec_to_int how, int neg, bool frac, bool half)
{
	switch (how) {
	case DEC_FLOOR:
		return neg && frac;
	case DEC_CEIL:
		return !neg && frac;
	case DEC_ROUND: /* half away from zero */
		return half;
	default:
		return 0;
	}
}

struct dec dec_integral(const struct dec *a, enum dec_to_int how)
{
	struct dec d = dec_normalize(*a);
	if (d.exp >= 0)
		return d;
	/* |a| = q + f / unit with 0 <= f < unit = 10^-exp; past 38 places
	 * q is 0 and |a| < 0.2 (unit left 0: no half to reach) */
	u128 m = mag(d.coef), q = 0, f = m, unit = 0;
	if (d.exp >= -DEC_DIGITS) {
		unit = pow10_u128(-d.exp);
		q = m / unit;
		f = m % unit;
	}
	int neg = d.coef < 0;
	q += (u128)away_from_zero(how, neg, f != 0, unit && f >= unit / 2);
	return (struct dec){neg ? -(__int128)q : (__int128)q, 0};
}

int dec_div_integral(const struct dec *a, const struct dec *b,
		     enum dec_to_int how, struct dec *out)
{
	if (b->coef == 0)
		return DEC_BY_ZERO;
	/* |a / b| = n / d with both integers: the smaller exponent's
	 * power of ten moves to the other side.  Once d passes n the
	 * integer part is 0, and more tens only push the half further
	 * away. */
	u128 n = mag(a->coef), d = mag(b->coef), lim = (~(u128)0) / 20;
	int64_t k = (int64_t)a->exp - (int64_t)b->exp;
	bool more = false; /* d would still grow: f < d / 2 surely */
	for (; k > 0 && n; k--) {
		if (n > lim)
			return DEC_OVERFLOW;
		n *= 10;
	}
	for (; k < 0; k++) {
		if (d > n) {
			more = true;
			break;
		}
		if (d > lim)
			return DEC_OVERFLOW;
		d *= 10;
	}
	u128 q = n / d, f = n % d;
	int neg = (a->coef < 0) != (b->coef < 0);
	/* half: f / d >= 1/2 */
	q += (u128)away_from_zero(how, neg, f != 0, !more && f >= d - f);
	*out = (struct dec){neg ? -(__int128)q : (__int128)q, 0};
	return dec_fits(out) ? 0 : DEC_OVERFLOW;
}

u128 dec_gcd(u128 a, u128 b)
{
	while (b) {
		u128 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * a / b ends when b's coefficient, stripped of what it shares with a's,
 * is 2^i 5^j: then a/b = a' * 2^(k-i) 5^(k-j) / 10^k with k = max(i, j).
 */
int dec_div(const struct dec *a, const struct dec *b, struct dec *out)
{
	if (b->coef == 0)
		return DEC_BY_ZERO;
	if (a->coef == 0) {
		*out = DEC_ZERO;
		return 0;
	}
	u128 n = mag(a->coef), d = mag(b->coef), g = dec_gcd(n, d);
	n /= g;
	d /= g;
	int i = 0, j = 0;
	for (; d % 2 == 0; d /= 2)
		i++;
	for (; d % 5 == 0; d /= 5)
		j++;
	if (d != 1)
		return DEC_ENDLESS;
	int k = i > j ? i : j;
	for (int t = i; t < k; t++)
		if (__builtin_mul_overflow(n, (u128)2, &n))
			return DEC_OVERFLOW;
	for (int t = j; t < k; t++)
		if (__builtin_mul_overflow(n, (u128)5, &n))
			return DEC_OVERFLOW;
	if (n > (u128)I128_MAX)
		return DEC_OVERFLOW;
	int neg = (a->coef < 0) != (b->coef < 0);
	out->coef = neg ? -(__int128)n : (__int128)n;
	return exp_sum((int64_t)a->exp - b->exp - k, out) ? DEC_OVERFLOW : 0;
}

/* Compare magnitudes without aligning first: 1e300 vs 1 must not
 * overflow.  The position of the leading digit decides unless equal,
 * and then the exponents differ by at most 38, so one scale suffices. */
static int cmp_mag(u128 x, int32_t xe, u128 y, int32_t ye)
{
	int64_t lx = (int64_t)xe + ndigits(x);
	int64_t ly = (int64_t)ye + ndigits(y);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	/* Overflowing the scale means exceeding the other, which fits. */
	if (xe > ye && __builtin_mul_overflow(x, pow10_u128(xe - ye), &x))
		return 1;
	if (ye > xe && __builtin_mul_overflow(y, pow10_u128(ye - xe), &y))
		return -1;
	return x < y ? -1 : x > y;
}

int dec_cmp(const struct dec *a, const struct dec *b)
{
	int sa = (a->coef > 0) - (a->coef < 0);
	int sb = (b->coef > 0) - (b->coef < 0);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	int m = cmp_mag(mag(a->coef), a->exp, mag(b->coef), b->exp);
	return sa > 0 ? m : -m;
}

/* Round q + frac half-even, where frac is described by cmp_half:
 * <0 below one half, 0 exactly one half, >0 above. */
static u128 round_half_even(u128 q, int cmp_half, int inexact)
{
	if (!inexact || cmp_half < 0)
		return q;
	if (cmp_half > 0 || (q & 1) != 0)
		return q + 1;
	return q;
}

int dec_div_i64(const struct dec *a, int64_t n, int scale, struct dec *out)
{
	if (n == 0)
		return -1;
	uint64_t m = mag64(n);
	int neg = (a->coef < 0) != (n < 0);
	int64_t target = -(int64_t)scale; /* exponent of the last digit */
	if (target < INT32_MIN || target > INT32_MAX)
		return -1;
	u128 c = mag(a->coef);
	u128 q = c / m, r = c % m;
	int64_t e = a->exp;
	int cmp_half, inexact;
	int64_t extra = 0; /* digits past a full q, see below */
	unsigned tail = 0;
	if (e < target) {
		/* Too many digits already: drop k of them from q + r/m. */
		int64_t k = target - e;
		if (k > DEC_DIGITS) {
			/* q + r/m < 2^127 < 10^39 / 2: rounds to zero. */
			q = 0;
			inexact = 0;
			cmp_half = -1;
		} else {
			u128 d = pow10_u128((int)k), half = d / 2;
			u128 r1 = q % d;
			q /= d;
			inexact = r1 != 0 || r != 0;
			if (r1 != half)
				cmp_half = r1 < half ? -1 : 1;
			else
				cmp_half = r != 0;
		}
		e = target;
	} else {
		/* Long division, one digit per step, until exact or at the
		 * requested scale; r < m <= 2^63 so r * 10 cannot overflow.
		 * Once q is full, the result can still fit if every further
		 * digit is 0 (and rounding adds nothing) or every one is 9
		 * (and rounding carries them into q): count them in `extra`
		 * as a run of `tail`; any other digit is an overflow. */
		while (r != 0 && e > target) {
			r *= 10;
			unsigned digit = (unsigned)(r / m);
			r %= m;
			e--;
			if (extra == 0 && q <= ((u128)I128_MAX - digit) / 10) {
				q = q * 10 + digit;
				continue;
			}
			if (extra == 0 && digit != 0 && digit != 9)
				return -1;
			if (extra > 0 && digit != tail)
				return -1;
			tail = digit;
			extra++;
		}
		inexact = r != 0;
		u128 twice = r * 2;
		cmp_half = twice < m ? -1 : twice > m;
	}
	if (extra == 0) {
		q = round_half_even(q, cmp_half, inexact);
	} else {
		/* the last digit is `tail`, which decides a tie */
		int up = round_half_even(tail, cmp_half, inexact) != tail;
		if (up != (tail == 9))
			return -1; /* 0s rounded up, or 9s left standing */
		if (up)
			q++;
		e += extra;
	}
	if (q > (u128)I128_MAX)
		return -1;
	__int128 coef = (__int128)q;
	*out = dec_normalize((struct dec){neg ? -coef : coef, (int32_t)e});
	return 0;
}

struct dec dec_normalize(struct dec d)
{
	if (d.coef == 0)
		return DEC_ZERO;
	while (d.exp < INT32_MAX && d.coef % 10 == 0) {
		d.coef /= 10;
		d.exp++;
	}
	return d;
}

static char *put_i64(char *p, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = mag64(v);
	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Plain notation while it stays within about 40 digits, which covers
 * every amount a person would write; beyond that, scientific. */
#define PLAIN_MAX 40

size_t dec_format(const struct dec *d, char *buf)
{
	struct dec v = dec_normalize(*d);
	char dig[40] = {0}; /* GCC cannot see u128_digits fill it */
	char *p = buf;
	if (v.coef == 0) {
		memcpy(buf, "0", 2);
		return 1;
	}
	if (v.coef < 0)
		*p++ = '-';
	int64_t nd = (int64_t)u128_digits(mag(v.coef), dig);
	int64_t e = v.exp;
	if (e >= 0 && nd + e <= PLAIN_MAX) {
		memcpy(p, dig, (size_t)nd);
		p += nd;
		memset(p, '0', (size_t)e);
		p += e;
	} else if (e < 0 && -e <= PLAIN_MAX) {
		int64_t point = nd + e; /* digits before the point */
		if (point > 0) {
			memcpy(p, dig, (size_t)point);
			p += point;
			*p++ = '.';
			memcpy(p, dig + point, (size_t)(nd - point));
			p += nd - point;
		} else {
			*p++ = '0';
			*p++ = '.';
			memset(p, '0', (size_t)-point);
			p += -point;
			memcpy(p, dig, (size_t)nd);
			p += nd;
		}
	} else {
		int64_t sci = e + nd - 1;
		*p++ = dig[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, dig + 1, (size_t)(nd - 1));
			p += nd - 1;
		}
		*p++ = 'e';
		if (sci >= 0)
			*p++ = '+';
		p = put_i64(p, sci);
	}
	*p = '\0';
	return (size_t)(p - buf);
}
