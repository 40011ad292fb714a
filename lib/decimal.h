/*
 * decimal: exact decimal arithmetic for sums and averages.
 *
 * A value is coef * 10^exp with a signed 128-bit coefficient: 38 exact
 * significant digits, which holds any realistic sum of money or counts.
 * Nothing is ever rounded silently: an operation whose exact result does
 * not fit returns -1 and the caller reports an overflow.
 */
#ifndef IDEM_DECIMAL_H
#define IDEM_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

struct dec {
	__int128 coef;
	int32_t exp;
};

#define DEC_ZERO ((struct dec){0, 0})
#define DEC_DIGITS 38 /* the significant digits a struct dec holds */
#define DEC_STRMAX 64 /* enough for any formatted struct dec */

/* Parse a JSON number text.  0, or -1 when it is not a number or has
 * more significant digits than fit (trailing zeros are folded into exp,
 * so 1e300 parses; 0.1234567890123456789012345678901234567891 does not). */
int dec_parse(const char *s, size_t n, struct dec *out);
struct dec dec_from_i64(int64_t v);

/* *acc += x exactly; -1 on overflow (acc unchanged). */
int dec_add(struct dec *acc, const struct dec *x);
/* *acc -= x exactly; -1 on overflow (acc unchanged). */
int dec_sub(struct dec *acc, const struct dec *x);

/* The greatest common divisor of a and b (a when b is 0). */
unsigned __int128 dec_gcd(unsigned __int128 a, unsigned __int128 b);

/* *out = a * b exactly; -1 on overflow. */
int dec_mul(const struct dec *a, const struct dec *b, struct dec *out);

/* Why dec_div gave no quotient. */
enum { DEC_OVERFLOW = -1, DEC_ENDLESS = -2, DEC_BY_ZERO = -3 };
/* *out = a / b exactly: 0, or DEC_BY_ZERO, DEC_OVERFLOW, or DEC_ENDLESS
 * when the quotient has no finite decimal expansion (1 / 3). */
int dec_div(const struct dec *a, const struct dec *b, struct dec *out);

/* To an integer, as C's floor, ceil, round (half away from zero) and
 * trunc do. */
enum dec_to_int { DEC_FLOOR, DEC_CEIL, DEC_ROUND, DEC_TRUNC };
struct dec dec_integral(const struct dec *a, enum dec_to_int how);

/* *out = a / b taken to an integer as dec_integral takes a value, exact
 * even when the quotient has no end (7 / 15 | floor is 0): 0, or
 * DEC_BY_ZERO, or DEC_OVERFLOW. */
int dec_div_integral(const struct dec *a, const struct dec *b,
		     enum dec_to_int how, struct dec *out);

/* Compare by value: 1.0 equals 1. */
int dec_cmp(const struct dec *a, const struct dec *b);

/* a / n rounded half-even to at most `scale` digits after the point;
 * -1 when n == 0 or on overflow. */
int dec_div_i64(const struct dec *a, int64_t n, int scale, struct dec *out);

/* Whether d has at most DEC_DIGITS significant digits, as dec_parse
 * takes them (a coefficient may reach 39 digits on the way). */
int dec_fits(const struct dec *d);

/* Strip trailing zeros of the coefficient into the exponent. */
struct dec dec_normalize(struct dec d);

/*
 * Format as a JSON number: plain notation ("123.45", "-0.001", "1200")
 * when the exponent is modest, else "1.2345e+40" style.  Returns length;
 * buf needs DEC_STRMAX bytes.
 */
size_t dec_format(const struct dec *d, char *buf);

#endif
