#include "decimal.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

static char fmt_buf[DEC_STRMAX];

/* Parse then format: the round trip most callers depend on. */
static const char *pf(const char *s)
{
	struct dec d;
	if (dec_parse(s, strlen(s), &d) != 0)
		return "(error)";
	size_t n = dec_format(&d, fmt_buf);
	if (n != strlen(fmt_buf))
		return "(bad length)";
	return fmt_buf;
}

static const char *fmt(struct dec d)
{
	dec_format(&d, fmt_buf);
	return fmt_buf;
}

static struct dec P(const char *s)
{
	struct dec d = {12345, 99}; /* poison: a failed parse shows */
	dec_parse(s, strlen(s), &d);
	return d;
}

static int parse_fails(const char *s)
{
	struct dec d = {7, 7};
	return dec_parse(s, strlen(s), &d) == -1 && d.coef == 7 && d.exp == 7;
}

static const char *sum(const char *a, const char *b)
{
	struct dec x = P(a), y = P(b);
	if (dec_add(&x, &y) != 0)
		return "(overflow)";
	return fmt(x);
}

static const char *diff(const char *a, const char *b)
{
	struct dec x = P(a), y = P(b);
	if (dec_sub(&x, &y) != 0)
		return "(overflow)";
	return fmt(x);
}

static int cmp(const char *a, const char *b)
{
	struct dec x = P(a), y = P(b);
	return dec_cmp(&x, &y);
}

static const char *quot(const char *a, int64_t n, int scale)
{
	struct dec x = P(a), q;
	if (dec_div_i64(&x, n, scale, &q) != 0)
		return "(error)";
	return fmt(q);
}

TEST(parse_keeps_exact_coefficient_and_exponent)
{
	struct dec d;
	CHECK_INT(dec_parse("123.45", 6, &d), 0);
	CHECK(d.coef == 12345 && d.exp == -2);
	CHECK_INT(dec_parse("-0.001", 6, &d), 0);
	CHECK(d.coef == -1 && d.exp == -3);
	CHECK_INT(dec_parse("1200", 4, &d), 0);
	CHECK(d.coef == 12 && d.exp == 2);
	CHECK_INT(dec_parse("1.50", 4, &d), 0);
	CHECK(d.coef == 15 && d.exp == -1);
	CHECK_INT(dec_parse("2.5E-3", 6, &d), 0);
	CHECK(d.coef == 25 && d.exp == -4);
	CHECK_INT(dec_parse("7e+2", 4, &d), 0);
	CHECK(d.coef == 7 && d.exp == 2);
	CHECK_INT(dec_parse("10.0e-1", 7, &d), 0);
	CHECK(d.coef == 1 && d.exp == 0);
}

TEST(parse_uses_only_the_given_length)
{
	struct dec d;
	CHECK_INT(dec_parse("12345", 3, &d), 0);
	CHECK(d.coef == 123 && d.exp == 0);
	CHECK_INT(dec_parse("1.5,", 3, &d), 0);
	CHECK(d.coef == 15 && d.exp == -1);
	CHECK_INT(dec_parse("1.5,", 4, &d), -1);
}

/* Every prefix, copied to a buffer of exactly that size, so ASan sees
 * any read past n. */
TEST(parse_reads_within_bounds)
{
	const char *text = "-120.0500e-7";
	size_t len = strlen(text);
	int ok = 0;
	for (size_t n = 0; n <= len; n++) {
		char *p = malloc(n ? n : 1);
		struct dec d;
		if (p == NULL)
			return;
		memcpy(p, text, n);
		ok += dec_parse(p, n, &d) == 0;
		free(p);
	}
	/* "-1" "-12" "-120" "-120.0" "-120.05" "-120.050" "-120.0500" and
	 * the whole text */
	CHECK_INT(ok, 8);
	struct dec d;
	CHECK_INT(dec_parse(text, len, &d), 0);
	CHECK(d.coef == -12005 && d.exp == -9);
}

TEST(parse_zero_in_every_spelling_is_zero)
{
	struct dec d;
	const char *zeros[] = {"0", "-0", "0.000", "0e5", "-0.0E-7",
			       "0e999999999999999999999"};
	for (size_t i = 0; i < sizeof zeros / sizeof *zeros; i++) {
		d = (struct dec){5, 5};
		CHECK_INT(dec_parse(zeros[i], strlen(zeros[i]), &d), 0);
		CHECK(d.coef == 0 && d.exp == 0);
	}
}

TEST(parse_rejects_what_json_rejects)
{
	const char *bad[] = {"", "-", "+1", "01", "-01", "00", ".5", "1.",
			     "1.e3", "1e", "1e+", "1E-", "0x10", "1.5.2",
			     " 1", "1 ", "NaN", "Infinity", "-Infinity",
			     "1_000", "--1", "1e5.5", "\"1\"", "1,5"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (!parse_fails(bad[i]))
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK(parse_fails(bad[i]));
	}
	/* an embedded NUL is not a digit */
	struct dec d;
	CHECK_INT(dec_parse("1\0002", 3, &d), -1);
}

TEST(parse_folds_trailing_zeros_so_large_values_fit)
{
	struct dec d;
	CHECK_INT(dec_parse("1e300", 5, &d), 0);
	CHECK(d.coef == 1 && d.exp == 300);
	const char *big = "100000000000000000000000000000000000000000000";
	CHECK_INT(dec_parse(big, strlen(big), &d), 0);
	CHECK(d.coef == 1 && d.exp == 44);
	CHECK_STR(pf(big), "1e+44");
	/* 38 significant digits fit, with zeros around them */
	CHECK_STR(pf("0.0012345678901234567890123456789012345678000"),
		  "0.0012345678901234567890123456789012345678");
	CHECK_STR(pf("0.00012345678901234567890123456789012345678000"),
		  "1.2345678901234567890123456789012345678e-4");
	CHECK_STR(pf("99999999999999999999999999999999999999"),
		  "99999999999999999999999999999999999999");
	CHECK_STR(pf("-99999999999999999999999999999999999999"),
		  "-99999999999999999999999999999999999999");
}

TEST(parse_rejects_more_than_38_significant_digits)
{
	CHECK(parse_fails("0.1234567890123456789012345678901234567891"));
	CHECK(parse_fails("123456789012345678901234567890123456789"));
	CHECK(parse_fails("1000000000000000000000000000000000000001"));
	CHECK(parse_fails("-1.00000000000000000000000000000000000001"));
}

TEST(parse_rejects_exponents_outside_int32)
{
	CHECK(parse_fails("1e99999999999"));
	CHECK(parse_fails("1e-99999999999"));
	CHECK(parse_fails("1e2147483648"));
	CHECK(parse_fails("1e-2147483649"));
	struct dec d;
	CHECK_INT(dec_parse("1e2147483647", 12, &d), 0);
	CHECK(d.coef == 1 && d.exp == 2147483647);
	CHECK_INT(dec_parse("1e-2147483648", 13, &d), 0);
	CHECK(d.coef == 1 && d.exp == -2147483647 - 1);
	/* the exponent is checked after folding zeros and the fraction */
	CHECK_INT(dec_parse("10e2147483646", 13, &d), 0);
	CHECK(d.coef == 1 && d.exp == 2147483647);
	CHECK(parse_fails("0.1e-2147483648"));
	CHECK(parse_fails("100e2147483646"));
}

TEST(format_plain_notation_for_modest_exponents)
{
	CHECK_STR(pf("123.45"), "123.45");
	CHECK_STR(pf("-0.001"), "-0.001");
	CHECK_STR(pf("1200"), "1200");
	CHECK_STR(pf("0.5"), "0.5");
	CHECK_STR(pf("1.50"), "1.5");
	CHECK_STR(pf("-0"), "0");
	CHECK_STR(pf("1e3"), "1000");
	CHECK_STR(pf("12.5e-4"), "0.00125");
	CHECK_STR(pf("42"), "42");
	CHECK_STR(pf("1e39"), "1000000000000000000000000000000000000000");
	CHECK_STR(pf("1e-40"), "0.0000000000000000000000000000000000000001");
	CHECK_STR(fmt((struct dec){12, 38}),
		  "1200000000000000000000000000000000000000");
}

TEST(format_scientific_beyond_forty_digits)
{
	CHECK_STR(pf("1e300"), "1e+300");
	CHECK_STR(pf("1.5e300"), "1.5e+300");
	CHECK_STR(pf("-1.5e300"), "-1.5e+300");
	CHECK_STR(pf("1e40"), "1e+40");
	CHECK_STR(pf("12345e36"), "1.2345e+40");
	CHECK_STR(pf("1e-41"), "1e-41");
	CHECK_STR(pf("-25e-50"), "-2.5e-49");
	CHECK_STR(fmt((struct dec){123, 39}), "1.23e+41");
	CHECK_STR(fmt((struct dec){1, -2147483647 - 1}), "1e-2147483648");
	CHECK_STR(fmt((struct dec){1, 2147483647}), "1e+2147483647");
}

TEST(format_extremes_fit_the_buffer_and_reparse)
{
	char buf[DEC_STRMAX];
	__int128 max = (__int128)(((unsigned __int128)1 << 127) - 1);
	struct dec cases[] = {
		{-max, -2147483647 - 1},
		{max, 2147483647 - 38},
		{-max, -40},
		{-max, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t n = dec_format(&cases[i], buf);
		CHECK(n < DEC_STRMAX);
		CHECK_INT(strlen(buf), n);
	}
	/* 2^127 - 1 has 39 digits: formatted, it does not reparse */
	dec_format(&cases[3], buf);
	CHECK_STR(buf, "-170141183460469231731687303715884105727");
	CHECK(parse_fails(buf));
	dec_format(&cases[2], buf);
	CHECK_STR(buf, "-0.0170141183460469231731687303715884105727");
}

TEST(from_i64_is_exact)
{
	CHECK_STR(fmt(dec_from_i64(0)), "0");
	CHECK_STR(fmt(dec_from_i64(-42)), "-42");
	CHECK_STR(fmt(dec_from_i64(INT64_MAX)), "9223372036854775807");
	CHECK_STR(fmt(dec_from_i64(INT64_MIN)), "-9223372036854775808");
	struct dec d = dec_from_i64(1000);
	CHECK(d.coef == 1000 && d.exp == 0);
}

TEST(add_and_sub_are_exact)
{
	CHECK_STR(sum("0.1", "0.2"), "0.3");
	CHECK_STR(sum("1.5", "-1.5"), "0");
	CHECK_STR(sum("1e3", "0.001"), "1000.001");
	CHECK_STR(sum("-7", "2.25"), "-4.75");
	CHECK_STR(sum("0", "1e300"), "1e+300");
	CHECK_STR(sum("1e300", "0"), "1e+300");
	CHECK_STR(sum("1e300", "1e300"), "2e+300");
	CHECK_STR(sum("99999999999999999999999999999999999999", "1"),
		  "100000000000000000000000000000000000000");
	CHECK_STR(diff("0.3", "0.1"), "0.2");
	CHECK_STR(diff("1", "1e-20"), "0.99999999999999999999");
	CHECK_STR(diff("0", "5"), "-5");
	CHECK_STR(diff("-1e300", "-1e300"), "0");
}

TEST(add_keeps_the_smaller_exponent)
{
	struct dec a = {150, -2}, b = {2, 1};
	CHECK_INT(dec_add(&a, &b), 0);
	CHECK(a.coef == 2150 && a.exp == -2);
	b = (struct dec){-5, -3};
	CHECK_INT(dec_sub(&a, &b), 0);
	CHECK(a.coef == 21505 && a.exp == -3);
}

TEST(add_retries_normalized_before_overflowing)
{
	/* 1.0000...0 (38 digits) + 1e30: aligned, 69 digits; normalized, 31 */
	struct dec a = P("1.0000000000000000000000000000000000000");
	CHECK(a.exp == 0); /* parse already folded the zeros */
	/* 10^37 * 10^-37, as an unnormalized sum would hold it */
	a = (struct dec){(__int128)10000000000000000000ULL *
				 1000000000000000000ULL,
			 -37};
	struct dec b = {1, 30};
	CHECK_INT(dec_add(&a, &b), 0);
	CHECK_STR(fmt(a), "1000000000000000000000000000001");
}

TEST(add_aligns_past_the_signed_range_when_the_sum_fits)
{
	/* 2e-2 aligned to 10^-40 is 2e38, above 2^127 - 1; the sum is not */
	CHECK_STR(sum("-0.0051477883457273692327696891916658024852", "2e-2"),
		  "0.0148522116542726307672303108083341975148");
	CHECK_STR(sum("2e-2", "-0.0051477883457273692327696891916658024852"),
		  "0.0148522116542726307672303108083341975148");
	CHECK_STR(diff("2e-2", "0.0051477883457273692327696891916658024852"),
		  "0.0148522116542726307672303108083341975148");
	/* same signs: a real overflow */
	CHECK_STR(sum("0.0051477883457273692327696891916658024852", "2e-2"),
		  "(overflow)");
	/* 4e38 is past 2^128 already: nothing can cancel it */
	CHECK_STR(sum("-0.0051477883457273692327696891916658024852", "4e-2"),
		  "(overflow)");
}

TEST(add_overflow_leaves_acc_unchanged)
{
	struct dec a = P("1e300"), b = P("1");
	CHECK_INT(dec_add(&a, &b), -1);
	CHECK(a.coef == 1 && a.exp == 300);
	CHECK_INT(dec_sub(&a, &b), -1);
	CHECK(a.coef == 1 && a.exp == 300);
	CHECK_INT(dec_add(&b, &a), -1);
	CHECK(b.coef == 1 && b.exp == 0);

	/* coefficient overflow at the same exponent */
	__int128 max = (__int128)(((unsigned __int128)1 << 127) - 1);
	a = (struct dec){max, 0};
	b = (struct dec){1, 0};
	CHECK_INT(dec_add(&a, &b), -1);
	CHECK(a.coef == max && a.exp == 0);
	a = (struct dec){max - 1, 0};
	CHECK_INT(dec_add(&a, &b), 0);
	CHECK(a.coef == max);

	/* the most negative __int128 is never produced */
	a = (struct dec){-max, 0};
	CHECK_INT(dec_sub(&a, &b), -1);
	CHECK(a.coef == -max);
	CHECK_INT(dec_add(&a, &b), 0);
	CHECK(a.coef == -max + 1);
	struct dec min = {-max - 1, 0};
	a = (struct dec){0, 0};
	CHECK_INT(dec_sub(&a, &min), -1);
	CHECK(a.coef == 0);
}

TEST(cmp_is_by_value)
{
	CHECK_INT(cmp("1.0", "1"), 0);
	CHECK_INT(cmp("-0", "0"), 0);
	CHECK_INT(cmp("0.000", "0e10"), 0);
	CHECK_INT(cmp("1200", "12e2"), 0);
	CHECK_INT(cmp("1", "2"), -1);
	CHECK_INT(cmp("2", "1"), 1);
	CHECK_INT(cmp("-1", "1"), -1);
	CHECK_INT(cmp("-1", "0"), -1);
	CHECK_INT(cmp("0", "-1e-300"), 1);
	CHECK_INT(cmp("-2", "-1"), -1);
	CHECK_INT(cmp("-1", "-2"), 1);
	CHECK_INT(cmp("0.1", "0.09"), 1);
	CHECK_INT(cmp("9.99", "10"), -1);
	CHECK_INT(cmp("-9.99", "-10"), 1);
	CHECK_INT(cmp("1.01", "1.1"), -1);
}

TEST(cmp_does_not_overflow_on_far_apart_exponents)
{
	CHECK_INT(cmp("1e300", "1"), 1);
	CHECK_INT(cmp("1", "1e300"), -1);
	CHECK_INT(cmp("-1e300", "1"), -1);
	CHECK_INT(cmp("-1e300", "-1"), -1);
	CHECK_INT(cmp("1e-300", "1e300"), -1);
	CHECK_INT(cmp("99999999999999999999999999999999999999", "1e38"), -1);
	CHECK_INT(cmp("1e38", "99999999999999999999999999999999999999"), 1);
	CHECK_INT(cmp("99999999999999999999999999999999999999e-38", "1"), -1);
	/* 39-digit coefficients against 1-digit ones, same leading place */
	__int128 max = (__int128)(((unsigned __int128)1 << 127) - 1);
	struct dec a = {max, 0}, b = {9, 38}, c = {1, 38};
	CHECK_INT(dec_cmp(&a, &b), -1);
	CHECK_INT(dec_cmp(&b, &a), 1);
	CHECK_INT(dec_cmp(&a, &c), 1);
	CHECK_INT(dec_cmp(&c, &a), -1);
	/* max is 1.70141...e38 */
	struct dec d = {17, 37}, e = {max, 0};
	CHECK_INT(dec_cmp(&d, &e), -1);
	d = (struct dec){1702, 35};
	CHECK_INT(dec_cmp(&d, &e), 1);
	CHECK_INT(dec_cmp(&e, &d), -1);
}

TEST(div_rounds_half_even)
{
	CHECK_STR(quot("10", 4, 2), "2.5");
	CHECK_STR(quot("10", 3, 2), "3.33");
	CHECK_STR(quot("20", 3, 2), "6.67");
	CHECK_STR(quot("1", 8, 2), "0.12");  /* 0.125 -> even */
	CHECK_STR(quot("3", 8, 2), "0.38");  /* 0.375 -> even */
	CHECK_STR(quot("5", 2, 0), "2");     /* 2.5 -> even */
	CHECK_STR(quot("7", 2, 0), "4");     /* 3.5 -> even */
	CHECK_STR(quot("1.0000001", 2, 0), "1"); /* 0.50000005 above half */
	CHECK_STR(quot("1.0000001", 2, 6), "0.5");
	CHECK_STR(quot("-10", 3, 2), "-3.33");
	CHECK_STR(quot("10", -4, 3), "-2.5");
	CHECK_STR(quot("-1", 8, 2), "-0.12");
	CHECK_STR(quot("-3", 8, 2), "-0.38");
	CHECK_STR(quot("0", 7, 5), "0");
	CHECK_STR(quot("1", 3, 0), "0");
	CHECK_STR(quot("2", 3, 0), "1");
	CHECK_STR(quot("6", 3, 2), "2");
	CHECK_STR(quot("1", 3, 10), "0.3333333333");
}

TEST(div_drops_digits_already_beyond_scale)
{
	CHECK_STR(quot("0.125", 1, 2), "0.12");
	CHECK_STR(quot("0.135", 1, 2), "0.14");
	CHECK_STR(quot("0.1251", 1, 2), "0.13");
	CHECK_STR(quot("0.00125", 1, 2), "0");
	CHECK_STR(quot("0.005", 1, 2), "0");
	CHECK_STR(quot("0.0050000001", 1, 2), "0.01");
	CHECK_STR(quot("0.015", 1, 2), "0.02");
	/* remainder of the division breaks a digit-level tie */
	CHECK_STR(quot("0.25", 1, 1), "0.2");
	CHECK_STR(quot("0.251", 2, 1), "0.1"); /* 0.1255 */
	CHECK_STR(quot("0.5", 1, 0), "0");
	CHECK_STR(quot("0.51", 2, 1), "0.3"); /* 0.255 */
	CHECK_STR(quot("0.49", 2, 1), "0.2"); /* 0.245 */
	CHECK_STR(quot("1e-300", 1, 2), "0");
	CHECK_STR(quot("99999999999999999999999999999999999999e-39", 1, 0),
		  "0");
	CHECK_STR(quot("99999999999999999999999999999999999999e-38", 1, 0),
		  "1");
}

TEST(div_keeps_large_exponents)
{
	CHECK_STR(quot("1e300", 2, 2), "5e+299");
	CHECK_STR(quot("1e300", 4, 0), "2.5e+299");
	CHECK_STR(quot("3e300", 3, 0), "1e+300");
	CHECK_STR(quot("1e300", 3, 2), "(error)");
}

TEST(div_result_fits_only_after_stripping_zeros)
{
	/* at scale 1 the quotient has 40 digits whose last two are 0 */
	CHECK_STR(quot("-8927268515126158010125262e20", 1000003, 1),
		  "-892724173340095780725184024447926656220");
	CHECK_STR(quot("7500032051618326386712414612315760241e-2", 1000003, 10),
		  "75000095515896716176975615196.312013474");
	/* digits 9 that rounding carries into the coefficient */
	CHECK_STR(quot("715346197985585956250816723903e10", 466, 2),
		  "15350776780806565584781474761866952789.7");
	CHECK_STR(quot("75106193916795479162446111711900725e10", 980382, 0),
		  "766091114655261715968327771337098447340");
	/* ...96 then a 0 that rounding turns into 1: 39 digits, too many */
	CHECK_STR(quot("34192348569328501049609433711300105144e10",
		       84026004321, 2),
		  "(error)");
	CHECK_STR(quot("34192348569328501049609433711300105144e10",
		       84026004321, 1),
		  "4069257945279097290661401758563826109.6");
	CHECK_STR(quot("6119670693177756412555005e20", 96115364, 2),
		  "(error)");
	CHECK_STR(quot("6119670693177756412555005e20", 96115364, 1),
		  "6367005688266192710413087547585004203.9");
}

TEST(div_extremes)
{
	CHECK_STR(quot("1", 0, 2), "(error)");
	CHECK_STR(quot("9223372036854775808", INT64_MIN, 0), "-1");
	CHECK_STR(quot("1", INT64_MIN, 30),
		  "-0.000000000000000000108420217249");
	CHECK_STR(quot("99999999999999999999999999999999999999", 1, 5),
		  "99999999999999999999999999999999999999");
	CHECK_STR(quot("9999999999999999999999999999999999999.9", 1, 0),
		  "10000000000000000000000000000000000000");
	CHECK_STR(quot("1", 3, -1), "0");
	CHECK_STR(quot("1234", 1, -2), "1200");
	CHECK_STR(quot("1250", 1, -2), "1200");
	CHECK_STR(quot("1350", 1, -2), "1400");
	/* scale that would put the exponent outside int32 */
	struct dec a = {1, 0}, q;
	CHECK_INT(dec_div_i64(&a, 1, -2147483647 - 1, &q), -1);
}

TEST(normalize_strips_trailing_zeros)
{
	struct dec d = dec_normalize((struct dec){1200, -2});
	CHECK(d.coef == 12 && d.exp == 0);
	d = dec_normalize((struct dec){0, -5});
	CHECK(d.coef == 0 && d.exp == 0);
	d = dec_normalize((struct dec){-1000, 3});
	CHECK(d.coef == -1 && d.exp == 6);
	d = dec_normalize((struct dec){101, -1});
	CHECK(d.coef == 101 && d.exp == -1);
	/* the exponent cannot pass int32 */
	d = dec_normalize((struct dec){100, 2147483646});
	CHECK(d.coef == 10 && d.exp == 2147483647);
}

TEST(format_output_reparses_to_an_equal_value)
{
	const char *in[] = {
		"0.1",
		"-123.456e7",
		"1e-45",
		"98765432109876543210",
		"5e39",
		"5e40",
		"-0.00000000000000000000000000000000000009",
		"12345678901234567890123456789012345678e100",
	};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		struct dec a = P(in[i]), b;
		char buf[DEC_STRMAX];
		size_t n = dec_format(&a, buf);
		CHECK_INT(dec_parse(buf, n, &b), 0);
		CHECK_INT(dec_cmp(&a, &b), 0);
	}
}

static struct dec d(const char *s)
{
	struct dec x = DEC_ZERO;
	CHECK(dec_parse(s, strlen(s), &x) == 0);
	return x;
}

TEST(mul_is_exact_and_overflows_only_on_too_many_digits)
{
	struct dec r, a = d("0.1"), b = d("3");
	CHECK(dec_mul(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "0.3");
	a = d("-1.50"), b = d("0.02");
	CHECK(dec_mul(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "-0.03");
	/* 5^40 * 2^40: 41 digits as coefficients, 1e40 as a value */
	a = d("9094947017729282379150390625");
	b = d("1099511627776");
	CHECK(dec_mul(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "1e+40");
	CHECK(dec_mul(&b, &a, &r) == 0);
	CHECK_STR(fmt(r), "1e+40");
	a = d("99999999999999999999"), b = d("99999999999999999999");
	CHECK(dec_mul(&a, &b, &r) == -1);
	/* 39 digits below 2^127: held, but past what dec_parse reads */
	a = d("15000000000000000000001"), b = d("10000000000000001");
	CHECK(dec_mul(&a, &b, &r) == 0);
	CHECK(!dec_fits(&r));
	CHECK(dec_fits(&a));
	a = d("0"), b = d("1e-2147483648");
	CHECK(dec_mul(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "0");
	a = d("1e2147483647"), b = d("10");
	CHECK(dec_mul(&a, &b, &r) == -1); /* the exponent */
}

TEST(div_is_exact_or_says_why_not)
{
	struct dec r, a = d("1"), b = d("8");
	CHECK(dec_div(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "0.125");
	a = d("-0.3"), b = d("0.12");
	CHECK(dec_div(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "-2.5");
	a = d("6"), b = d("3");
	CHECK(dec_div(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "2");
	a = d("1"), b = d("3");
	CHECK(dec_div(&a, &b, &r) == DEC_ENDLESS);
	a = d("2"), b = d("0.6"); /* 10/3 */
	CHECK(dec_div(&a, &b, &r) == DEC_ENDLESS);
	b = d("0");
	CHECK(dec_div(&a, &b, &r) == DEC_BY_ZERO);
	a = d("0"), b = d("7");
	CHECK(dec_div(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "0");
	/* 1 / 2^126 ends, but in 5^126, far past 38 digits */
	a = d("1"), b = d("85070591730234615865843651857942052864");
	CHECK(dec_div(&a, &b, &r) == DEC_OVERFLOW);
	a = d("1"), b = d("1024");
	CHECK(dec_div(&a, &b, &r) == 0);
	CHECK_STR(fmt(r), "0.0009765625");
}

TEST(integral_floors_ceils_rounds_and_truncates_exactly)
{
	static const struct {
		const char *in, *floor, *ceil, *round, *trunc;
	} c[] = {
		{"56.99999999999999", "56", "57", "57", "56"},
		{"57", "57", "57", "57", "57"},
		{"2.5", "2", "3", "3", "2"},
		{"-2.5", "-3", "-2", "-3", "-2"},
		{"-0.4", "-1", "0", "0", "0"},
		{"0.5", "0", "1", "1", "0"},
		{"1.5e300", "1.5e+300", "1.5e+300", "1.5e+300", "1.5e+300"},
		{"1e-50", "0", "1", "0", "0"},
		{"-1e-50", "-1", "0", "0", "0"},
		{"0.49999999999999999999999999999999999999", "0", "1", "0", "0"},
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct dec a = d(c[i].in);
		CHECK_STR(fmt(dec_integral(&a, DEC_FLOOR)), c[i].floor);
		CHECK_STR(fmt(dec_integral(&a, DEC_CEIL)), c[i].ceil);
		CHECK_STR(fmt(dec_integral(&a, DEC_ROUND)), c[i].round);
		CHECK_STR(fmt(dec_integral(&a, DEC_TRUNC)), c[i].trunc);
	}
}

int main(void)
{
	RUN(parse_keeps_exact_coefficient_and_exponent);
	RUN(mul_is_exact_and_overflows_only_on_too_many_digits);
	RUN(div_is_exact_or_says_why_not);
	RUN(integral_floors_ceils_rounds_and_truncates_exactly);
	RUN(parse_uses_only_the_given_length);
	RUN(parse_reads_within_bounds);
	RUN(parse_zero_in_every_spelling_is_zero);
	RUN(parse_rejects_what_json_rejects);
	RUN(parse_folds_trailing_zeros_so_large_values_fit);
	RUN(parse_rejects_more_than_38_significant_digits);
	RUN(parse_rejects_exponents_outside_int32);
	RUN(format_plain_notation_for_modest_exponents);
	RUN(format_scientific_beyond_forty_digits);
	RUN(format_extremes_fit_the_buffer_and_reparse);
	RUN(from_i64_is_exact);
	RUN(add_and_sub_are_exact);
	RUN(add_keeps_the_smaller_exponent);
	RUN(add_retries_normalized_before_overflowing);
	RUN(add_aligns_past_the_signed_range_when_the_sum_fits);
	RUN(add_overflow_leaves_acc_unchanged);
	RUN(cmp_is_by_value);
	RUN(cmp_does_not_overflow_on_far_apart_exponents);
	RUN(div_rounds_half_even);
	RUN(div_drops_digits_already_beyond_scale);
	RUN(div_keeps_large_exponents);
	RUN(div_result_fits_only_after_stripping_zeros);
	RUN(div_extremes);
	RUN(normalize_strips_trailing_zeros);
	RUN(format_output_reparses_to_an_equal_value);
	return unit_done();
}
