/*
 * Property test of the typed comparison (value_compare_as) against a
 * brute-force model that shares no code with it:
 *
 *   - RFC 3339 times with random offsets, fractions and spellings: the
 *     model counts the days from year 0 one year and one month at a
 *     time, and orders the UTC nanoseconds as a __int128;
 *   - numbers (big integers, decimals, exponents): the model writes each
 *     as a sign and a digit string scaled to one common exponent, and
 *     compares the digit strings by length then by bytes;
 *   - a mix of both and of other JSON types: jq's type order.
 *
 * Every pair is compared both ways (antisymmetry), and formatting an
 * instant then parsing it gives the instant back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "value.h"
#include "unit.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
	return unit_splitmix(&rng);
}

static int pick(int n)
{
	return (int)(next() % (uint64_t)n);
}

/* ---- times ---- */

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 0000-01-01, counted. */
static long model_days(int y, int m, int d)
{
	long days = 0;
	for (int k = 0; k < y; k++)
		days += leap(k) ? 366 : 365;
	for (int k = 1; k < m; k++)
		days += mdays(y, k);
	return days + d - 1;
}

struct tval {
	char json[64];
	size_t len;
	__int128 key; /* UTC nanoseconds from 0000-01-01 */
};

static void gen_time(struct tval *t)
{
	/* clustered years, so that equal instants and near ties occur */
	int y = pick(4) ? 2024 : pick(10000);
	int mo = 1 + pick(12), d = 1 + pick(mdays(y, mo));
	int h = pick(24), mi = pick(60), s = pick(3) ? 0 : pick(60);
	int oh = pick(3) ? 0 : pick(15), om = pick(4) ? 0 : 30 * pick(2);
	int sign = pick(2) ? 1 : -1;
	long frac = 0;
	int fd = 0;
	if (pick(3) == 0) {
		/* a crowd near one hour with few offsets: equal instants
		 * spelled differently */
		y = 2024, mo = 1, d = 1 + pick(2), h = 8 + pick(4);
		mi = 30 * pick(2), s = 0, om = 30 * pick(2), oh = pick(3);
		goto spell;
	}
	switch (pick(4)) {
	case 1: fd = 3; frac = pick(1000); break;
	case 2: fd = 6; frac = pick(1000000); break;
	case 3: fd = 9; frac = pick(1000000000); break;
	}
spell:;
	char fr[16] = "";
	if (fd)
		snprintf(fr, sizeof fr, ".%0*ld", fd, frac);
	for (int k = fd; k < 9; k++)
		frac *= 10;
	char zone[8];
	if (oh == 0 && om == 0 && pick(2))
		snprintf(zone, sizeof zone, "%c", pick(2) ? 'Z' : 'z');
	else
		snprintf(zone, sizeof zone, "%c%02d:%02d", sign > 0 ? '+' : '-',
			 oh, om);
	char sep = "Tt "[pick(3)];
	int n = snprintf(t->json, sizeof t->json,
			 "\"%04d-%02d-%02d%c%02d:%02d:%02d%s%s\"", y, mo, d, sep,
			 h, mi, s, fr, zone);
	t->len = (size_t)n;
	__int128 secs = (__int128)model_days(y, mo, d) * 86400 + h * 3600 +
			mi * 60 + s - sign * (oh * 3600 + om * 60);
	t->key = secs * 1000000000 + frac;
}

static int sgn(int c)
{
	return c < 0 ? -1 : c > 0;
}

#define NTIMES 400

TEST(times_compare_as_the_model_says)
{
	static struct tval tv[NTIMES];
	for (int i = 0; i < NTIMES; i++)
		gen_time(&tv[i]);
	int bad = 0, ties = 0;
	for (int i = 0; i < NTIMES; i++)
		for (int j = 0; j < NTIMES; j++) {
			int want = tv[i].key < tv[j].key ? -1
				   : tv[i].key > tv[j].key;
			int got = sgn(value_compare_as(VALUE_ORDER_INSTANT,
						       tv[i].json, tv[i].len,
						       tv[j].json, tv[j].len));
			ties += want == 0 && i != j;
			if (got != want && bad++ < 5)
				fprintf(stderr, "%s vs %s: got %d, model %d\n",
					tv[i].json, tv[j].json, got, want);
		}
	CHECK_INT(bad, 0);
	CHECK(ties > 0); /* the generator reaches equal instants */
}

TEST(an_instant_formats_and_parses_back)
{
	for (int i = 0; i < 2000; i++) {
		struct tval t;
		gen_time(&t);
		struct instant a, b;
		const char *why;
		CHECK(time_instant_from_json(t.json, t.len, &a, &why) == 0);
		char buf[TIME_STRMAX];
		size_t n = time_format_instant(&a, TIME_STYLE_RFC3339, buf);
		CHECK(time_parse_instant(buf, n, &b, &why) == 0);
		CHECK(time_instant_cmp(&a, &b) == 0);
		/* the partition form reads back (as UTC) too */
		bool zoned = true;
		n = time_format_instant(&a, TIME_STYLE_PARTITION, buf);
		CHECK(time_parse_loose(buf, n, &b, &zoned, &why) == 0);
		CHECK(!zoned && time_instant_cmp(&a, &b) == 0);
	}
}

/* ---- numbers ---- */

struct nval {
	char json[96];
	size_t len;
	int neg;      /* model: sign, */
	char dig[96]; /* significant digits (no leading zeros; "" is 0) */
	int exp;      /* and the value is dig * 10^exp */
};

static void gen_number(struct nval *v)
{
	char whole[48] = "", frac[48] = "";
	int nw = pick(4) ? 1 + pick(6) : 1 + pick(30);
	int nf = pick(2) ? 0 : 1 + pick(pick(4) ? 3 : 25);
	for (int k = 0; k < nw; k++)
		whole[k] = (char)('0' + (k == 0 && nw > 1 ? 1 + pick(9)
							  : pick(10)));
	for (int k = 0; k < nf; k++)
		frac[k] = (char)('0' + (pick(3) ? pick(10) : 0));
	/* clustered: many share a prefix, so near ties occur */
	if (pick(2))
		memcpy(whole, nw > 3 ? "123" : "1", nw > 3 ? 3 : 1);
	int e = pick(3) ? 0 : pick(21) - 10;
	v->neg = pick(3) == 0;
	int n = snprintf(v->json, sizeof v->json, "%s%s%s%s", v->neg ? "-" : "",
			 whole, nf ? "." : "", frac);
	if (e)
		n += snprintf(v->json + n, sizeof v->json - (size_t)n, "%s%d",
			      pick(2) ? "e" : "E", e);
	v->len = (size_t)n;
	/* the model: all digits, exponent moved by the fraction */
	char all[96];
	snprintf(all, sizeof all, "%s%s", whole, frac);
	const char *p = all;
	while (*p == '0')
		p++;
	snprintf(v->dig, sizeof v->dig, "%s", p);
	v->exp = e - nf;
	if (!v->dig[0])
		v->neg = 0; /* -0 is 0 */
}

/* Compare magnitudes: both scaled to the smaller exponent. */
static int model_mag(const struct nval *a, const struct nval *b)
{
	int e = a->exp < b->exp ? a->exp : b->exp;
	char x[256], y[256];
	snprintf(x, sizeof x, "%s%0*d", a->dig, a->exp - e, 0);
	snprintf(y, sizeof y, "%s%0*d", b->dig, b->exp - e, 0);
	/* %0*d with width 0 still prints one "0": drop it */
	if (a->exp == e)
		x[strlen(x) - 1] = '\0';
	if (b->exp == e)
		y[strlen(y) - 1] = '\0';
	if (!a->dig[0])
		x[0] = '\0';
	if (!b->dig[0])
		y[0] = '\0';
	size_t lx = strlen(x), ly = strlen(y);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return sgn(memcmp(x, y, lx));
}

static int model_num(const struct nval *a, const struct nval *b)
{
	int sa = a->dig[0] ? (a->neg ? -1 : 1) : 0;
	int sb = b->dig[0] ? (b->neg ? -1 : 1) : 0;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return sa * model_mag(a, b);
}

#define NNUMS 500

TEST(numbers_compare_as_the_model_says)
{
	static struct nval nv[NNUMS];
	for (int i = 0; i < NNUMS; i++)
		gen_number(&nv[i]);
	int bad = 0, ties = 0;
	for (int i = 0; i < NNUMS; i++)
		for (int j = 0; j < NNUMS; j++) {
			int want = model_num(&nv[i], &nv[j]);
			enum value_order o = (i + j) % 2 ? VALUE_ORDER_JSON
							 : VALUE_ORDER_INSTANT;
			int got = sgn(value_compare_as(o, nv[i].json, nv[i].len,
						       nv[j].json, nv[j].len));
			ties += want == 0 && i != j;
			if (got != want && bad++ < 5)
				fprintf(stderr, "%s vs %s: got %d, model %d\n",
					nv[i].json, nv[j].json, got, want);
		}
	CHECK_INT(bad, 0);
	CHECK(ties > 0);
}

TEST(mixed_values_follow_the_type_order)
{
	/* null < false < true < numbers < times < other strings < arrays
	 * < objects, under the instant order */
	static const char *const ladder[] = {
		"null", "false", "true", "-1e400", "12345678901234567890",
		"12345678901234567891", "\"0001-01-01T00:00:00Z\"",
		"\"2024-01-01T10:00:00+02:00\"", "\"2024-01-01T09:00:00Z\"",
		"\"9999-12-31T23:59:59.999999999Z\"", "\"2024-01-01\"",
		"\"a\"", "[]", "{}",
	};
	size_t n = sizeof ladder / sizeof *ladder;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int got = sgn(value_compare_as(
				VALUE_ORDER_INSTANT, ladder[i], strlen(ladder[i]),
				ladder[j], strlen(ladder[j])));
			int want = i < j ? -1 : i > j;
			if (got != want)
				fprintf(stderr, "%s vs %s: got %d\n", ladder[i],
					ladder[j], got);
			CHECK_INT(got, want);
		}
	/* as JSON, the same two times are text: 10:00+02:00 sorts last */
	CHECK(value_compare_as(VALUE_ORDER_JSON, ladder[7], strlen(ladder[7]),
			       ladder[8], strlen(ladder[8])) > 0);
}

int main(void)
{
	RUN(times_compare_as_the_model_says);
	RUN(an_instant_formats_and_parses_back);
	RUN(numbers_compare_as_the_model_says);
	RUN(mixed_values_follow_the_type_order);
	return unit_done();
}
