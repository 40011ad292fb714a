#include "decmath.h"

#include <string.h>

#include "unit.h"

static char buf[DEC_STRMAX];

static struct dec P(const char *s)
{
	struct dec d = {12345, 99};
	dec_parse(s, strlen(s), &d);
	return d;
}

static const char *F(struct dec d)
{
	dec_format(&d, buf);
	return buf;
}

/* The value's text, or why there is none. */
static const char *said(int rc, struct dec d)
{
	return rc == DM_EXACT ? F(d) : rc == DM_NODEC ? "nodec"
		: rc == DM_OVERFLOW ? "overflow" : rc == DM_DOMAIN ? "domain"
		: "?";
}

static const char *root(const char *x, int64_t k)
{
	struct dec a = P(x), r = DEC_ZERO;
	return said(dm_root(&a, k, &r), r);
}

static const char *power(const char *a, const char *b)
{
	struct dec x = P(a), y = P(b), r = DEC_ZERO;
	return said(dm_pow(&x, &y, &r), r);
}

static const char *rem(const char *a, const char *b, int nearest)
{
	struct dec x = P(a), y = P(b), r = DEC_ZERO;
	return said(nearest ? dm_remainder(&x, &y, &r) : dm_fmod(&x, &y, &r),
		    r);
}

TEST(roots_are_exact_or_no_decimal)
{
	CHECK_STR(root("0.01", 2), "0.1");
	CHECK_STR(root("1e-6", 2), "0.001");
	CHECK_STR(root("0.4", 2), "nodec"); /* 40e-2: 40 is no square */
	CHECK_STR(root("2", 2), "nodec");
	CHECK_STR(root("-4", 2), "domain");
	CHECK_STR(root("-8", 3), "-2");
	CHECK_STR(root("0.000008", 3), "0.02");
	CHECK_STR(root("80", 3), "nodec");
	CHECK_STR(root("0", 2), "0");
	CHECK_STR(root("1e100", 2), "1e+50");
	CHECK_STR(root("1e-5", 5), "0.1");
	CHECK_STR(root("0.5", 100), "nodec"); /* 5e-1: 100 does not divide -1 */
	/* a square of 38 digits, and one past it */
	CHECK_STR(root("99999999999999999980000000000000000001", 2),
		  "9999999999999999999");
	CHECK_STR(root("99999999999999999980000000000000000002", 2), "nodec");
}

TEST(root_of_random_squares_and_cubes_is_their_root)
{
	uint64_t s = 7;
	for (int i = 0; i < 2000; i++) {
		int64_t r = (int64_t)(unit_splitmix(&s) % 4000000000ULL);
		int32_t e = (int32_t)(unit_splitmix(&s) % 41) - 20;
		struct dec d = {r, e}, sq, cu, got;
		dec_mul(&d, &d, &sq);
		dec_mul(&sq, &d, &cu);
		CHECK(dm_root(&sq, 2, &got) == DM_EXACT && !dec_cmp(&got, &d));
		if (r < 4000000 &&
		    (dm_root(&cu, 3, &got) != DM_EXACT || dec_cmp(&got, &d)))
			CHECK(!"cube root");
		/* one more than a square is none, but for 0 and 1 */
		struct dec one = {1, sq.exp}, sq1 = sq;
		dec_add(&sq1, &one);
		if (r > 1)
			CHECK(dm_root(&sq1, 2, &got) != DM_EXACT);
	}
}

TEST(powers_are_exact_within_38_digits)
{
	CHECK_STR(power("0.1", "2"), "0.01");
	CHECK_STR(power("2", "-2"), "0.25");
	CHECK_STR(power("3", "-1"), "nodec");
	CHECK_STR(power("2", "126"),
		  "85070591730234615865843651857942052864");
	CHECK_STR(power("2", "127"), "overflow");
	CHECK_STR(power("10", "400"), "1e+400");
	CHECK_STR(power("-1", "1e300"), "1");
	CHECK_STR(power("-1", "12345678901234567891"), "-1");
	CHECK_STR(power("1.5", "200"), "overflow");
	CHECK_STR(power("0", "0"), "1");
	CHECK_STR(power("0", "-1"), "domain");
	CHECK_STR(power("0", "0.5"), "0");
	CHECK_STR(power("100", "1.5"), "1000");
	CHECK_STR(power("0.0001", "0.25"), "0.1");
	CHECK_STR(power("8", "-0.5"), "nodec");
	CHECK_STR(power("4", "-0.5"), "0.5");
	CHECK_STR(power("2", "0.1"), "nodec");
	CHECK_STR(power("-8", "0.5"), "domain");
	CHECK_STR(power("1e-200", "0.005"), "0.1"); /* a root of order 200 */
	CHECK_STR(power("7", "1e-50"), "nodec");
	CHECK_STR(power("1", "1e-50"), "1");
}

TEST(remainders_truncate_or_take_the_nearest_ties_to_even)
{
	CHECK_STR(rem("0.3", "0.1", 0), "0");
	CHECK_STR(rem("-5.5", "2", 0), "-1.5");
	CHECK_STR(rem("5", "-3", 0), "2");
	CHECK_STR(rem("1", "0", 0), "domain");
	CHECK_STR(rem("5", "2", 1), "1");    /* 2.5: to 2 */
	CHECK_STR(rem("7", "2", 1), "-1");   /* 3.5: to 4 */
	CHECK_STR(rem("5.5", "2", 1), "-0.5");
	CHECK_STR(rem("-5", "3", 1), "1");   /* -1.67: to -2 */
	CHECK_STR(rem("-7", "2", 1), "1");   /* -3.5: to -4 */
	CHECK_STR(rem("0.3", "0.1", 1), "0");
	CHECK_STR(rem("1e300", "3", 0), "overflow");
}

TEST(frexp_ldexp_and_log2_are_exact)
{
	struct dec m, x = P("0.1"), r;
	int64_t e;
	CHECK(dm_frexp(&x, &m, &e) == DM_EXACT);
	CHECK_STR(F(m), "0.8");
	CHECK_INT(e, -3);
	x = P("-3");
	CHECK(dm_frexp(&x, &m, &e) == DM_EXACT);
	CHECK_STR(F(m), "-0.75");
	CHECK_INT(e, 2);
	x = P("0.5");
	CHECK(dm_frexp(&x, &m, &e) == DM_EXACT);
	CHECK_STR(F(m), "0.5");
	CHECK_INT(e, 0);
	x = P("1e300");
	CHECK(dm_frexp(&x, &m, &e) == DM_OVERFLOW);
	x = P("3");
	CHECK(dm_ldexp(&x, -2, &r) == DM_EXACT);
	CHECK_STR(F(r), "0.75");
	CHECK(dm_ldexp(&x, 100, &r) == DM_EXACT);
	CHECK_STR(F(r), "3802951800684688204490109616128");
	CHECK(dm_ldexp(&x, 1000, &r) == DM_OVERFLOW);
	x = P("0.125");
	CHECK(dm_log2(&x, &e) == DM_EXACT);
	CHECK_INT(e, -3);
	x = P("1024");
	CHECK(dm_log2(&x, &e) == DM_EXACT);
	CHECK_INT(e, 10);
	x = P("3");
	CHECK(dm_log2(&x, &e) == DM_NODEC);
	x = P("0");
	CHECK(dm_log2(&x, &e) == DM_DOMAIN);
}

int main(void)
{
	RUN(roots_are_exact_or_no_decimal);
	RUN(root_of_random_squares_and_cubes_is_their_root);
	RUN(powers_are_exact_within_38_digits);
	RUN(remainders_truncate_or_take_the_nearest_ties_to_even);
	RUN(frexp_ldexp_and_log2_are_exact);
	return unit_done();
}
