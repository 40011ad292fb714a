#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define POISON 4242424242LL

static const char *why_out;

/* Parse as RFC 3339; on failure return POISON and keep *why. */
static int64_t rfc(const char *s)
{
	int64_t ns = POISON;
	why_out = NULL;
	if (time_parse_rfc3339(s, strlen(s), &ns, &why_out) != 0)
		return POISON;
	return ns;
}

/* The reason a parse failed, or "ok" when it did not. */
static const char *rfc_why(const char *s)
{
	int64_t ns = POISON;
	const char *why = NULL;
	if (time_parse_rfc3339(s, strlen(s), &ns, &why) == 0)
		return "ok";
	if (ns != POISON)
		return "(output written on failure)";
	return why;
}

static int64_t num(const char *s, enum time_unit u)
{
	int64_t ns = POISON;
	why_out = NULL;
	if (time_from_number(s, strlen(s), u, &ns, &why_out) != 0)
		return POISON;
	return ns;
}

static const char *num_why(const char *s, enum time_unit u)
{
	int64_t ns = POISON;
	const char *why = NULL;
	if (time_from_number(s, strlen(s), u, &ns, &why) == 0)
		return "ok";
	if (ns != POISON)
		return "(output written on failure)";
	return why;
}

static int64_t json(const char *s, enum time_unit u)
{
	int64_t ns = POISON;
	why_out = NULL;
	if (time_from_json(s, strlen(s), u, &ns, &why_out) != 0)
		return POISON;
	return ns;
}

static const char *json_why(const char *s)
{
	int64_t ns = POISON;
	const char *why = NULL;
	if (time_from_json(s, strlen(s), TIME_S, &ns, &why) == 0)
		return "ok";
	return why;
}

static char fmt_buf[TIME_STRMAX];

static const char *tf(int64_t ns)
{
	size_t n = time_format(ns, fmt_buf);
	if (n != strlen(fmt_buf))
		return "(bad length)";
	return fmt_buf;
}

static int64_t dur(const char *s)
{
	int64_t ns = POISON;
	const char *why = NULL;
	if (duration_parse(s, &ns, &why) != 0)
		return POISON;
	return ns;
}

static const char *dur_why(const char *s)
{
	int64_t ns = POISON;
	const char *why = NULL;
	if (duration_parse(s, &ns, &why) == 0)
		return "ok";
	if (ns != POISON)
		return "(output written on failure)";
	return why;
}

static char dur_buf[48];

static const char *df(int64_t ns)
{
	size_t n = duration_format(ns, dur_buf);
	if (n != strlen(dur_buf))
		return "(bad length)";
	return dur_buf;
}

TEST(rfc3339_basic_forms)
{
	CHECK_INT(rfc("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(rfc("2024-05-01T10:00:00Z"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01t10:00:00z"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01 10:00:00Z"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01T12:00:00.250+02:00"), 1714557600250000000LL);
	CHECK_INT(rfc("1969-07-20T20:17:40Z"), -14182940000000000LL);
	CHECK_INT(rfc("1900-03-01T00:00:00Z"), -2203891200000000000LL);
}

TEST(rfc3339_fractions_exact_to_the_nanosecond)
{
	CHECK_INT(rfc("1970-01-01T00:00:00.5Z"), 500000000);
	CHECK_INT(rfc("1970-01-01T00:00:00.000000001Z"), 1);
	CHECK_INT(rfc("1970-01-01T00:00:00.123456789Z"), 123456789);
	CHECK_INT(rfc("1970-01-01T00:00:00.000Z"), 0);
	CHECK_INT(rfc("1969-12-31T23:59:59.5Z"), -500000000);
	CHECK_INT(rfc("1969-12-31T23:59:59.999999999Z"), -1);
	CHECK_STR(rfc_why("1970-01-01T00:00:00.1234567891Z"),
		  "finer than a nanosecond");
	/* past the nanosecond, zeros: the instant is exact */
	CHECK_INT(rfc("1970-01-01T00:00:00.0000000000Z"), 0);
	CHECK_INT(rfc("1970-01-01T00:00:00.123456789000000000000Z"),
		  123456789);
	CHECK_INT(rfc("1969-12-31T23:59:59.9999999990Z"), -1);
	CHECK_STR(rfc_why("1970-01-01T00:00:00.0000000000000000001Z"),
		  "finer than a nanosecond");
	CHECK_STR(rfc_why("1970-01-01T00:00:00.Z"), "not an RFC 3339 time");
}

TEST(rfc3339_offsets)
{
	CHECK_INT(rfc("2024-05-01T15:30:00+05:30"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01T09:30:00-00:30"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01T10:00:00+00:00"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-05-01T10:00:00-00:00"), 1714557600000000000LL);
	CHECK_INT(rfc("2024-01-01T00:00:00-23:59"), 1704153540000000000LL);
	/* an offset can move the date across a day, month and year */
	CHECK_INT(rfc("1970-01-01T00:00:00+00:01"), -60000000000LL);
	CHECK_STR(rfc_why("2024-05-01T10:00:00+24:00"),
		  "time zone offset out of range");
	CHECK_STR(rfc_why("2024-05-01T10:00:00+05:60"),
		  "time zone offset out of range");
	CHECK_STR(rfc_why("2024-05-01T10:00:00+0530"), "not an RFC 3339 time");
	CHECK_STR(rfc_why("2024-05-01T10:00:00+05"), "not an RFC 3339 time");
	CHECK_STR(rfc_why("2024-05-01T10:00:00+05:3x"), "not an RFC 3339 time");
	CHECK_STR(rfc_why("2024-05-01T10:00:00+05:300"),
		  "not an RFC 3339 time");
	CHECK_STR(rfc_why("2024-05-01T10:00:00"),
		  "missing time zone (Z or +HH:MM)");
	CHECK_STR(rfc_why("2024-05-01T10:00:00.5"),
		  "missing time zone (Z or +HH:MM)");
	CHECK_STR(rfc_why("2024-05-01T10:00:00UTC"), "not an RFC 3339 time");
}

TEST(rfc3339_leap_years)
{
	CHECK_INT(rfc("2000-02-29T00:00:00Z"), 951782400000000000LL);
	CHECK_INT(rfc("2024-02-29T23:59:59Z"), 1709251199000000000LL);
	CHECK_STR(rfc_why("1900-02-29T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2023-02-29T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2100-02-29T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2024-02-30T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2024-04-31T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2024-01-00T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2024-12-32T00:00:00Z"), "day out of range");
	CHECK_STR(rfc_why("2024-12-31T00:00:00Z"), "ok");
}

TEST(rfc3339_field_ranges)
{
	CHECK_STR(rfc_why("2024-13-01T00:00:00Z"), "month out of range");
	CHECK_STR(rfc_why("2024-00-01T00:00:00Z"), "month out of range");
	CHECK_STR(rfc_why("2024-05-01T24:00:00Z"), "hour out of range");
	CHECK_STR(rfc_why("2024-05-01T23:60:00Z"), "minute out of range");
	CHECK_STR(rfc_why("2024-05-01T23:59:61Z"), "second out of range");
	CHECK_STR(rfc_why("2024-05-01T23:59:59Z"), "ok");
}

#define LEAP_WHY "a leap second (23:59:60 UTC), which idem's times cannot " \
		 "hold: POSIX time has no slot for it, and the next :00 is " \
		 "another instant"

/* text compared as the instant it names: a leap second is its own */
static struct instant text_instant(const char *s)
{
	struct instant t = {-1, -1};
	if (time_instant_from_text(s, strlen(s), &t, NULL, NULL) != 0)
		t.nsec = -2;
	return t;
}

TEST(rfc3339_leap_second_is_refused_as_an_event_time)
{
	CHECK_STR(rfc_why("2016-12-31T23:59:60Z"), LEAP_WHY);
	CHECK_STR(rfc_why("2016-12-31T23:59:60.5Z"), LEAP_WHY);
	CHECK_STR(rfc_why("2017-01-01T05:29:60+05:30"), LEAP_WHY);
	CHECK_STR(rfc_why("2016-12-31T18:59:60-05:00"), LEAP_WHY);
	CHECK_STR(rfc_why("2024-02-29T23:59:60Z"), LEAP_WHY);
	CHECK_INT(rfc("2017-01-01T00:00:00Z"), 1483228800000000000LL);
	/* a :60 that is not 23:59:60 UTC at a month's end names nothing */
	CHECK_STR(rfc_why("2016-12-31T12:30:60Z"),
		  "second 60 is not a leap second (23:59:60 UTC at the end "
		  "of a month)");
	CHECK_STR(rfc_why("2016-12-31T23:59:60+01:00"),
		  "second 60 is not a leap second (23:59:60 UTC at the end "
		  "of a month)");
	CHECK_STR(rfc_why("2016-12-30T23:59:60Z"),
		  "second 60 is not a leap second (23:59:60 UTC at the end "
		  "of a month)");
}

TEST(text_leap_second_is_its_own_instant)
{
	struct instant a = text_instant("2016-12-31T23:59:60Z");
	struct instant b = text_instant("2017-01-01T05:29:60.000+05:30");
	struct instant c = text_instant("2016-12-31T23:59:60.5Z");
	struct instant before = text_instant("2016-12-31T23:59:59.999999999Z");
	struct instant after = text_instant("2017-01-01T00:00:00Z");
	CHECK_INT(a.sec, 1483228799);
	CHECK_INT(a.nsec, 1000000000);
	CHECK_INT(c.nsec, 1500000000);
	CHECK_INT(time_instant_cmp(&a, &b), 0);
	CHECK_INT(time_instant_cmp(&before, &a), -1);
	CHECK_INT(time_instant_cmp(&a, &c), -1);
	CHECK_INT(time_instant_cmp(&c, &after), -1);
	CHECK_INT(text_instant("2016-12-31T12:30:60Z").nsec, -2);
	/* and written back as the leap second it is */
	char tb[TIME_STRMAX];
	time_format_instant(&c, TIME_STYLE_RFC3339, tb);
	CHECK_STR(tb, "2016-12-31T23:59:60.500Z");
	time_format_instant(&b, TIME_STYLE_RFC3339, tb);
	CHECK_STR(tb, "2016-12-31T23:59:60Z");
}

TEST(rfc3339_int64_limits)
{
	CHECK_INT(rfc("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
	CHECK_STR(rfc_why("2262-04-11T23:47:16.854775808Z"), "out of range");
	CHECK_INT(rfc("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
	CHECK_STR(rfc_why("1677-09-21T00:12:43.145224191Z"), "out of range");
	CHECK_STR(rfc_why("1677-09-21T00:12:43Z"), "out of range");
	CHECK_STR(rfc_why("0000-01-01T00:00:00Z"), "out of range");
	CHECK_STR(rfc_why("9999-12-31T23:59:59+23:59"), "out of range");
	CHECK_INT(rfc("2262-04-12T00:47:16.854775807+01:00"), INT64_MAX);
}

TEST(rfc3339_rejects_malformed_text)
{
	const char *bad[] = {
		"",
		"2024-05-01",
		"2024-05-01T10:00Z",
		"2024-5-01T10:00:00Z",
		"2024-05-1T10:00:00Z",
		"24-05-01T10:00:00Z",
		"+2024-05-01T10:00:00Z",
		"2024/05/01T10:00:00Z",
		"2024-05-01X10:00:00Z",
		"2024-05-01T10-00-00Z",
		"2024-05-01T1:00:00Z",
		"2024-05-01T10:00:00ZZ",
		"2024-05-01T10:00:00Z ",
		" 2024-05-01T10:00:00Z",
		"2024-05-01T10:00:00,5Z",
		"2024-05-01T10:00:0aZ",
		"2024-05-01T10:00:00\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *why = rfc_why(bad[i]);
		if (strcmp(why, "not an RFC 3339 time") != 0)
			fprintf(stderr, "\"%s\": %s\n", bad[i], why);
		CHECK_STR(why, "not an RFC 3339 time");
	}
}

TEST(rfc3339_uses_only_the_given_length)
{
	int64_t ns = 0;
	const char *why = NULL;
	const char *s = "2024-05-01T10:00:00Zjunk";
	CHECK_INT(time_parse_rfc3339(s, 20, &ns, &why), 0);
	CHECK_INT(ns, 1714557600000000000LL);
	CHECK_INT(time_parse_rfc3339(s, 21, &ns, &why), -1);
	CHECK_STR(why, "not an RFC 3339 time");
	/* cut inside the fraction: ".5" then nothing */
	CHECK_INT(time_parse_rfc3339("2024-05-01T10:00:00.5Z", 21, &ns, &why),
		  -1);
	CHECK_STR(why, "missing time zone (Z or +HH:MM)");
	s = "2024-05-01T10:00:00+05:30";
	CHECK_INT(time_parse_rfc3339(s, 24, &ns, &why), -1);
	CHECK_STR(why, "not an RFC 3339 time");
}

/* Every prefix, copied to a buffer of exactly that size, so ASan sees
 * any read past n; only the full texts parse. */
TEST(every_prefix_is_read_within_bounds)
{
	const char *texts[] = {"2024-05-01T12:00:00.250+02:00",
			       "\"2024-05-01T10:00:00\\u005a\"",
			       "-1714557600.25e-3", "1969-12-31t23:59:59.5z"};
	int ok = 0;
	for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
		size_t len = strlen(texts[t]);
		for (size_t n = 0; n <= len; n++) {
			char *p = malloc(n ? n : 1);
			int64_t ns;
			const char *why;
			if (p == NULL)
				return;
			memcpy(p, texts[t], n);
			ok += time_parse_rfc3339(p, n, &ns, &why) == 0;
			ok += time_from_number(p, n, TIME_S, &ns, &why) == 0;
			ok += time_from_json(p, n, TIME_MS, &ns, &why) == 0;
			free(p);
		}
	}
	/* each text in full: 1 + 1 + 2 + 1; the prefixes that are numbers
	 * ("2".."2024", "-1".."-1714557600", "-1714557600.2", ".25",
	 * "1".."1969") through time_from_number and time_from_json */
	CHECK_INT(ok, 1 + 1 + 2 + 1 + 2 * (4 + 10 + 2 + 4));
}

TEST(format_whole_seconds_and_fractions)
{
	CHECK_STR(tf(0), "1970-01-01T00:00:00Z");
	CHECK_STR(tf(1714557600000000000LL), "2024-05-01T10:00:00Z");
	CHECK_STR(tf(1714557600250000000LL), "2024-05-01T10:00:00.250Z");
	CHECK_STR(tf(1000), "1970-01-01T00:00:00.000001Z");
	CHECK_STR(tf(1000000), "1970-01-01T00:00:00.001Z");
	CHECK_STR(tf(1), "1970-01-01T00:00:00.000000001Z");
	CHECK_STR(tf(123456789), "1970-01-01T00:00:00.123456789Z");
	CHECK_STR(tf(123456000), "1970-01-01T00:00:00.123456Z");
	CHECK_STR(tf(100000), "1970-01-01T00:00:00.000100Z");
	CHECK_STR(tf(951782400000000000LL), "2000-02-29T00:00:00Z");
	CHECK_STR(tf(1709251199000000000LL), "2024-02-29T23:59:59Z");
	CHECK_STR(tf(1483228799999999999LL), "2016-12-31T23:59:59.999999999Z");
}

TEST(format_before_1970_uses_floor_division)
{
	CHECK_STR(tf(-500000000), "1969-12-31T23:59:59.500Z");
	CHECK_STR(tf(-1), "1969-12-31T23:59:59.999999999Z");
	CHECK_STR(tf(-1000000000), "1969-12-31T23:59:59Z");
	CHECK_STR(tf(-86400000000000LL), "1969-12-31T00:00:00Z");
	CHECK_STR(tf(-86400000000001LL), "1969-12-30T23:59:59.999999999Z");
	CHECK_STR(tf(-14182940000000000LL), "1969-07-20T20:17:40Z");
	CHECK_STR(tf(-2203891200000000000LL), "1900-03-01T00:00:00Z");
	CHECK_STR(tf(-2203891200000000001LL), "1900-02-28T23:59:59.999999999Z");
}

TEST(format_int64_extremes)
{
	CHECK_STR(tf(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
	CHECK_STR(tf(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
	CHECK(strlen(fmt_buf) < TIME_STRMAX);
}

TEST(format_then_parse_round_trips)
{
	int64_t v[] = {0, 1, -1, 999, -999, 1000, -500000000,
		       1714557600250000000LL, 951782400000000000LL,
		       -2203891200000000001LL, INT64_MAX, INT64_MIN,
		       INT64_MAX - 86400000000000LL, 4102444800123456789LL};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		CHECK_INT(rfc(tf(v[i])), v[i]);
	/* and a walk across centuries, leap days included */
	uint64_t x = 88172645463325252ULL;
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t t = (int64_t)x;
		if (rfc(tf(t)) != t)
			bad++;
	}
	CHECK_INT(bad, 0);
}

TEST(number_seconds_with_fraction_and_exponent)
{
	CHECK_INT(num("1714557600.25", TIME_S), 1714557600250000000LL);
	CHECK_INT(num("1714557600", TIME_S), 1714557600000000000LL);
	CHECK_INT(num("1.7e9", TIME_S), 1700000000000000000LL);
	CHECK_INT(num("17E8", TIME_S), 1700000000000000000LL);
	CHECK_INT(num("1.7e+9", TIME_S), 1700000000000000000LL);
	CHECK_INT(num("1e-9", TIME_S), 1);
	CHECK_INT(num("0.000000001", TIME_S), 1);
	CHECK_INT(num("100000000000000000000e-20", TIME_S), 1000000000);
	CHECK_INT(num("-1.5", TIME_S), -1500000000);
	CHECK_INT(num("-0", TIME_S), 0);
	CHECK_INT(num("0e999999999999", TIME_S), 0);
	CHECK_INT(num("0.0", TIME_S), 0);
}

TEST(number_other_units)
{
	CHECK_INT(num("1714557600123", TIME_MS), 1714557600123000000LL);
	CHECK_INT(num("1714557600123.456", TIME_MS), 1714557600123456000LL);
	CHECK_INT(num("1714557600123456", TIME_US), 1714557600123456000LL);
	CHECK_INT(num("1714557600123456789", TIME_NS), 1714557600123456789LL);
	CHECK_INT(num("1.2300e3", TIME_MS), 1230000000);
	CHECK_INT(num("1.5", TIME_US), 1500);
	CHECK_INT(num("-1", TIME_NS), -1);
	CHECK_STR(num_why("1.5", TIME_NS), "finer than a nanosecond");
	CHECK_STR(num_why("0.0001", TIME_US), "finer than a nanosecond");
	CHECK_STR(num_why("1", (enum time_unit)7), "unknown time unit");
}

TEST(number_finer_than_a_nanosecond_is_refused)
{
	CHECK_STR(num_why("1.0000000001", TIME_S), "finer than a nanosecond");
	CHECK_STR(num_why("5e-10", TIME_S), "finer than a nanosecond");
	CHECK_STR(num_why("1714557600.1234567891", TIME_S),
		  "finer than a nanosecond");
	CHECK_STR(num_why("1e-99999999999", TIME_S), "finer than a nanosecond");
	/* trailing zeros past the ninth digit are not finer */
	CHECK_INT(num("1.0000000010000", TIME_S), 1000000001);
	/* too many digits or too big an exponent for an exact decimal:
	 * finer only when it is within int64's nanoseconds at all */
	CHECK_STR(num_why("1.00000000000000000000000000000000000000001",
			  TIME_S), "finer than a nanosecond");
	CHECK_STR(num_why("0.000000000000000000000000000000000000000012345"
			  "67890123456789012345678901234567890", TIME_MS),
		  "finer than a nanosecond");
	CHECK_STR(num_why("-1e-3000000000", TIME_NS), "finer than a nanosecond");
}

/* idem(7): an event time's fraction of any length is read exactly when
 * its digits past the ninth are zeros, however long the string runs */
TEST(event_time_fraction_of_any_length)
{
	CHECK_INT(json("\"2024-01-01T00:00:00.1234567890000000000000000000"
		       "000000000000000000000000+02:00\"", TIME_S),
		  1704060000123456789LL);
	CHECK_INT(json("\"1970-01-01T00:00:00.0000000000000000000000000000"
		       "000000000000000000000000000000000000000000000000"
		       "00000000\\u005a\"", TIME_S), 0);
	CHECK_STR(json_why("\"2024-01-01T00:00:00.0000000000000000000000000"
			   "0000000000000000000000000000000000000001Z\""),
		  "finer than a nanosecond");
	CHECK_STR(json_why("\"2024-01-01T00:00:00.0000000000000000000000000"
			   "00000000000000000000000000000000000000000\""),
		  "missing time zone (Z or +HH:MM)");
	CHECK_STR(json_why("\"2024-01-01T00:00:00.0000000000000000000000000"
			   "000000000000000000000000\\u00e9000000000000Z\""),
		  "not an RFC 3339 time");
	/* a stored time is value.h's, which ends at 64 bytes */
	struct instant t;
	const char *why = NULL;
	static const char lit[] = "\"2024-01-01T00:00:00.000000000000000"
				  "00000000000000000000000000000000000Z\"";
	CHECK_INT(time_instant_from_json(lit, strlen(lit), &t, &why), -1);
	CHECK(why && strncmp(why, "longer than 64 bytes", 20) == 0);
}

TEST(number_too_large_is_out_of_range_whatever_its_digits)
{
	CHECK_STR(num_why("0.095190984319E+99999999999", TIME_NS),
		  "out of range");
	CHECK_STR(num_why("1.2345678901e3000000000", TIME_S), "out of range");
	CHECK_STR(num_why("-1.2345678901e99999999999999999999999", TIME_S),
		  "out of range");
	CHECK_STR(num_why("1234567890123456789012345678901234567890e-1",
			  TIME_S), "out of range");
	CHECK_STR(num_why("1.2345678901234567890123456789012345678901e30",
			  TIME_NS), "out of range");
}

TEST(number_int64_limits)
{
	CHECK_INT(num("9223372036.854775807", TIME_S), INT64_MAX);
	CHECK_STR(num_why("9223372036.854775808", TIME_S), "out of range");
	CHECK_INT(num("-9223372036.854775808", TIME_S), INT64_MIN);
	CHECK_STR(num_why("-9223372036.854775809", TIME_S), "out of range");
	CHECK_INT(num("9223372036854775807", TIME_NS), INT64_MAX);
	CHECK_STR(num_why("9223372036854775808", TIME_NS), "out of range");
	CHECK_INT(num("-9223372036854775808", TIME_NS), INT64_MIN);
	CHECK_STR(num_why("1e10", TIME_S), "out of range");
	CHECK_STR(num_why("-1e10", TIME_S), "out of range");
	CHECK_STR(num_why("1e99999999999", TIME_S), "out of range");
	CHECK_STR(num_why("99999999999999999999", TIME_NS), "out of range");
	CHECK_STR(num_why("18446744073709551616", TIME_NS), "out of range");
	CHECK_STR(num_why("9300000000", TIME_S), "out of range");
}

TEST(number_rejects_non_json_numbers)
{
	const char *bad[] = {"", "-", "+1", "01", ".5", "1.", "1e", "1e+",
			     "0x10", "1,5", " 1", "1 ", "NaN", "1.5.5", "--1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_STR(num_why(bad[i], TIME_S), "not a JSON number");
}

TEST(json_strings_and_numbers)
{
	CHECK_INT(json("\"2024-05-01T10:00:00Z\"", TIME_S),
		  1714557600000000000LL);
	CHECK_INT(json("\"2024-05-01T10:00:00\\u005a\"", TIME_S),
		  1714557600000000000LL);
	CHECK_INT(json("\"\\u0032024-05-01T10:00:00\\u002B00:00\"", TIME_S),
		  1714557600000000000LL);
	CHECK_INT(json("\"1970-01-01T00:00:00.5\\u005A\"", TIME_NS), 500000000);
	CHECK_INT(json("1714557600", TIME_S), 1714557600000000000LL);
	CHECK_INT(json("1714557600123", TIME_MS), 1714557600123000000LL);
	CHECK_INT(json("-1", TIME_S), -1000000000);
	CHECK_INT(json("0", TIME_S), 0);
}

TEST(json_reasons)
{
	const char *ev = "must be an RFC 3339 string or a number";
	CHECK_STR(json_why("true"), ev);
	CHECK_STR(json_why("null"), ev);
	CHECK_STR(json_why("{}"), ev);
	CHECK_STR(json_why("[1]"), ev);
	CHECK_STR(json_why(""), ev);
	CHECK_STR(json_why("\"abc\""), "not an RFC 3339 time");
	CHECK_STR(json_why("\"\""), "not an RFC 3339 time");
	CHECK_STR(json_why("\""), "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-05-01T10:00:00Z"), "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-05-01T10:00:00\\u00e9\""),
		  "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-05-01T10:00:00\\u005\""),
		  "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-05-01T10:00:00\\x\""),
		  "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-05-01T10:00:00Z\\\""),
		  "not an RFC 3339 time");
	CHECK_STR(json_why("\"2024-13-01T10:00:00Z\""), "month out of range");
	CHECK_STR(json_why("\"2024-05-01T10:00:00.0000000001Z\""),
		  "finer than a nanosecond");
	CHECK_STR(json_why("1.0000000001"), "finer than a nanosecond");
	CHECK_STR(json_why("1e10"), "out of range");
	CHECK_STR(json_why("-x"), "not a JSON number");
	/* longer than any time: refused without overrunning the buffer */
	char big[200];
	big[0] = '"';
	memset(big + 1, '1', 190);
	big[191] = '"';
	big[192] = '\0';
	CHECK_STR(json_why(big), "not an RFC 3339 time");
}

TEST(unit_names)
{
	enum time_unit u = TIME_NS;
	CHECK_INT(time_unit_parse("s", &u), 0);
	CHECK_INT(u, TIME_S);
	CHECK_INT(time_unit_parse("ms", &u), 0);
	CHECK_INT(u, TIME_MS);
	CHECK_INT(time_unit_parse("us", &u), 0);
	CHECK_INT(u, TIME_US);
	CHECK_INT(time_unit_parse("ns", &u), 0);
	CHECK_INT(u, TIME_NS);
	u = TIME_MS;
	CHECK_INT(time_unit_parse("S", &u), -1);
	CHECK_INT(time_unit_parse("sec", &u), -1);
	CHECK_INT(time_unit_parse("", &u), -1);
	CHECK_INT(time_unit_parse("m", &u), -1);
	CHECK_INT(time_unit_parse(NULL, &u), -1);
	CHECK_INT(u, TIME_MS);
}

TEST(now_is_plausible)
{
	int64_t a = time_now(), b = time_now();
	CHECK(a > 1700000000000000000LL); /* after November 2023 */
	CHECK(b >= a);
}

TEST(duration_single_units)
{
	CHECK_INT(dur("500ms"), 500000000);
	CHECK_INT(dur("90s"), 90000000000LL);
	CHECK_INT(dur("10m"), 600000000000LL);
	CHECK_INT(dur("2h"), 7200000000000LL);
	CHECK_INT(dur("7d"), 604800000000000LL);
	CHECK_INT(dur("1ns"), 1);
	CHECK_INT(dur("250us"), 250000);
	CHECK_INT(dur("0"), 0);
	CHECK_INT(dur("0s"), 0);
	CHECK_INT(dur("000ms"), 0);
	CHECK_INT(dur("007s"), 7000000000LL);
}

TEST(duration_pairs_and_fractions)
{
	CHECK_INT(dur("1h30m"), 5400000000000LL);
	CHECK_INT(dur("30m1h"), 5400000000000LL);
	CHECK_INT(dur("1d2h3m4s5ms6us7ns"), 93784005006007LL);
	CHECK_INT(dur("1.5h"), 5400000000000LL);
	CHECK_INT(dur("0.5ms"), 500000);
	CHECK_INT(dur("1.000000000000000000000000s"), 1000000000);
	CHECK_INT(dur("0.015625d"), 1350000000000LL);
	CHECK_INT(dur("1.5s500ms"), 2000000000);
	CHECK_INT(dur("0.000000001s"), 1);
}

TEST(duration_reasons)
{
	CHECK_STR(dur_why(""), "empty duration");
	CHECK_STR(dur_why("1h1h"), "a unit given twice (write each once, as "
				   "in 1h30m)");
	CHECK_STR(dur_why("1m30s1m"), "a unit given twice (write each once, "
				      "as in 1h30m)");
	CHECK_STR(dur_why(NULL), "empty duration");
	CHECK_STR(dur_why("-5s"), "negative duration");
	CHECK_STR(dur_why("5"), "missing unit (ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("1.5"), "missing unit (ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("1h30"), "missing unit (ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("5x"), "unknown unit (use ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("5hr"), "unknown unit (use ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("5S"), "unknown unit (use ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("1h 30m"),
		  "unknown unit (use ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("5mss"), "unknown unit (use ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("s"), "expected a number, as in 90s or 1h30m");
	CHECK_STR(dur_why(".5s"), "expected a number, as in 90s or 1h30m");
	CHECK_STR(dur_why("+5s"), "expected a number, as in 90s or 1h30m");
	CHECK_STR(dur_why(" 5s"), "expected a number, as in 90s or 1h30m");
	CHECK_STR(dur_why("1..5s"), "expected a digit after the decimal point");
	CHECK_STR(dur_why("1.s"), "expected a digit after the decimal point");
	CHECK_STR(dur_why("1.5.5s"), "missing unit (ns, us, ms, s, m, h, d)");
	CHECK_STR(dur_why("1.5ns"), "finer than a nanosecond");
	CHECK_STR(dur_why("0.0000000001s"), "finer than a nanosecond");
	CHECK_STR(dur_why("0.0000000000000001d"), "finer than a nanosecond");
	CHECK_STR(dur_why("0.00000000000000000001d"),
		  "finer than a nanosecond");
}

TEST(duration_overflow)
{
	CHECK_INT(dur("9223372036854775807ns"), INT64_MAX);
	CHECK_INT(dur("106751d23h47m16s854ms775us807ns"), INT64_MAX);
	CHECK_STR(dur_why("9223372036854775808ns"), "duration too large");
	CHECK_STR(dur_why("106752d"), "duration too large");
	CHECK_STR(dur_why("99999999999999999999999s"), "duration too large");
	CHECK_STR(dur_why("106751d23h47m16s854ms775us808ns"),
		  "duration too large");
	CHECK_STR(dur_why("9223372036.854775808s"), "duration too large");
	CHECK_INT(dur("9223372036.854775807s"), INT64_MAX);
}

TEST(duration_format_canonical)
{
	CHECK_STR(df(0), "0s");
	CHECK_STR(df(5400000000000LL), "1h30m");
	CHECK_STR(df(500000000), "500ms");
	CHECK_STR(df(93600000000000LL), "1d2h");
	CHECK_STR(df(90061001000000LL), "1d1h1m1s1ms");
	CHECK_STR(df(1), "1ns");
	CHECK_STR(df(1500000), "1ms500us");
	CHECK_STR(df(60000000000LL), "1m");
	CHECK_STR(df(604800000000000LL), "7d");
	CHECK_STR(df(INT64_MAX), "106751d23h47m16s854ms775us807ns");
	CHECK_STR(df(-1500000000), "-1s500ms");
	CHECK_STR(df(INT64_MIN), "-106751d23h47m16s854ms775us808ns");
}

TEST(duration_format_round_trips)
{
	int64_t v[] = {0, 1, 999, 1000, 1500000, 500000000, 90061001000000LL,
		       5400000000000LL, 86399999999999LL, INT64_MAX};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		CHECK_INT(dur(df(v[i])), v[i]);
	uint64_t x = 2463534242ULL;
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t d = (int64_t)(x >> (1 + i % 63));
		if (dur(df(d)) != d)
			bad++;
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	RUN(rfc3339_basic_forms);
	RUN(rfc3339_fractions_exact_to_the_nanosecond);
	RUN(rfc3339_offsets);
	RUN(rfc3339_leap_years);
	RUN(rfc3339_field_ranges);
	RUN(rfc3339_leap_second_is_refused_as_an_event_time);
	RUN(text_leap_second_is_its_own_instant);
	RUN(rfc3339_int64_limits);
	RUN(rfc3339_rejects_malformed_text);
	RUN(rfc3339_uses_only_the_given_length);
	RUN(every_prefix_is_read_within_bounds);
	RUN(format_whole_seconds_and_fractions);
	RUN(format_before_1970_uses_floor_division);
	RUN(format_int64_extremes);
	RUN(format_then_parse_round_trips);
	RUN(number_seconds_with_fraction_and_exponent);
	RUN(number_other_units);
	RUN(number_finer_than_a_nanosecond_is_refused);
	RUN(number_too_large_is_out_of_range_whatever_its_digits);
	RUN(event_time_fraction_of_any_length);
	RUN(number_int64_limits);
	RUN(number_rejects_non_json_numbers);
	RUN(json_strings_and_numbers);
	RUN(json_reasons);
	RUN(unit_names);
	RUN(now_is_plausible);
	RUN(duration_single_units);
	RUN(duration_pairs_and_fractions);
	RUN(duration_reasons);
	RUN(duration_overflow);
	RUN(duration_format_canonical);
	RUN(duration_format_round_trips);
	return unit_done();
}
