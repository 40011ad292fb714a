/* Canonical values, fingerprints and jq's order. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"
#include "unit.h"

static struct buf sa, sb;

static int same(const char *a, const char *b)
{
	struct fp128 x = value_fingerprint(a, strlen(a), &sa);
	struct fp128 y = value_fingerprint(b, strlen(b), &sb);
	return x.lo == y.lo && x.hi == y.hi;
}

/* The canonical form of text (in sa, until the next call). */
static const char *canon(const char *text)
{
	buf_reset(&sa);
	value_canon(&sa, text, strlen(text));
	return sa.p;
}

static int cmp(const char *a, const char *b)
{
	return value_compare(a, strlen(a), b, strlen(b));
}

TEST(numbers_by_value)
{
	CHECK(same("1", "1.0"));
	CHECK(same("1", "1e0"));
	CHECK(same("1", "10e-1"));
	CHECK(same("100", "1E2"));
	CHECK(same("0", "-0"));
	CHECK(same("0", "0.000e5"));
	CHECK(same("-1.50", "-15e-1"));
	CHECK(!same("1", "-1"));
	CHECK(!same("12345678901234567891", "12345678901234567890"));
	CHECK(same("12345678901234567891", "1234567890123456789.1e1"));
	CHECK(!same("1", "\"1\""));
	CHECK(same("1e400", "10e399"));
}

TEST(tuple_text)
{
	const char *v[] = {"\"a\"", "1.0", "{\"x\":[1, 2]}"};
	size_t n[] = {3, 3, 12};
	buf_reset(&sa);
	value_tuple_text(&sa, v, n, 3);
	CHECK_STR(sa.p, "[\"a\",1.0,{\"x\":[1, 2]}]");
	buf_reset(&sa);
	value_tuple_text(&sa, v, n, 1);
	CHECK_STR(sa.p, "[\"a\"]");
}

TEST(canonical_text)
{
	CHECK_STR(canon("-1.50"), "d-15e-1");
	CHECK_STR(canon("0.0"), "d0");
}

TEST(exponents_of_any_length)
{
	/* past a long long: they differ in the last digit */
	CHECK(!same("1e99999999999999999999", "1e99999999999999999998"));
	CHECK(same("1e99999999999999999999", "10e99999999999999999998"));
	CHECK(same("1e-99999999999999999999", "0.1e-99999999999999999998"));
	CHECK(same("1e000000000000000000000000005", "1e5"));
	CHECK(!same("1e-99999999999999999999", "1e99999999999999999999"));
	CHECK(same("0e99999999999999999999", "0"));
	/* a carry and a borrow through the whole exponent */
	CHECK_STR(canon("10e99999999999999999999"), "d+1e100000000000000000000");
	CHECK_STR(canon("0.1e100000000000000000000"), "d+1e99999999999999999999");
	CHECK_STR(canon("-1.5e-99999999999999999999"),
		  "d-15e-100000000000000000000");
	CHECK(cmp("1e99999999999999999999", "1e99999999999999999998") > 0);
	CHECK(cmp("1e99999999999999999999", "9e99999999999999999998") > 0);
	CHECK(cmp("1e-99999999999999999999", "1e-99999999999999999998") < 0);
	CHECK(cmp("-1e99999999999999999999", "-1e99999999999999999998") < 0);
	CHECK(cmp("1e99999999999999999999", "1e400") > 0);
	CHECK(cmp("1e-99999999999999999999", "1e-400") < 0);
	CHECK(cmp("1e-99999999999999999999", "0") > 0);
	CHECK(cmp("123e99999999999999999999", "1.23e100000000000000000001") == 0);
}

TEST(strings_decoded)
{
	CHECK(same("\"a\"", "\"\\u0061\""));
	CHECK(same("\"\xc3\xa9\"", "\"\\u00e9\""));
	CHECK(same("\"\\/\"", "\"/\""));
	CHECK(!same("\"a\"", "\"A\""));
	CHECK(!same("\"ab\"", "[\"a\",\"b\"]"));
	CHECK(!same("[\"a\",\"b\"]", "[\"ab\"]"));
	CHECK(!same("[\"a\",\"\"]", "[\"\",\"a\"]"));
}

TEST(objects_unordered)
{
	CHECK(same("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"));
	CHECK(same("{\"a\":1,\"b\":{\"y\":[1,2],\"x\":null}}",
		   " { \"b\" : {\"x\":null,\"y\":[1.0,2]} , \"a\":1 } "));
	CHECK(same("{\"a\":1,\"a\":2}", "{\"a\":2}")); /* last wins */
	CHECK(same("{\"b\":0,\"a\":1,\"a\":2}", "{\"a\":2,\"b\":0}"));
	CHECK(!same("{\"a\":1}", "{\"a\":1,\"b\":null}"));
	CHECK(!same("[1,2]", "[2,1]"));
	CHECK(!same("{}", "[]"));
	CHECK(same("{}", " {} "));
	CHECK(!same("null", "false"));
	CHECK(!same("true", "false"));
}

TEST(jq_order)
{
	CHECK(cmp("null", "false") < 0);
	CHECK(cmp("false", "true") < 0);
	CHECK(cmp("true", "0") < 0);
	CHECK(cmp("1e9", "\"a\"") < 0);
	CHECK(cmp("\"z\"", "[]") < 0);
	CHECK(cmp("[]", "{}") < 0);
	CHECK(cmp("2", "10") < 0);
	CHECK(cmp("-2", "-10") > 0);
	CHECK(cmp("1.5", "1.50") == 0);
	CHECK(cmp("12345678901234567891", "12345678901234567890") > 0);
	CHECK(cmp("0.001", "1e-3") == 0);
	CHECK(cmp("-0", "0") == 0);
	CHECK(cmp("\"abc\"", "\"abd\"") < 0);
	CHECK(cmp("\"ab\"", "\"abc\"") < 0);
	CHECK(cmp("\"\\u00e9\"", "\"z\"") > 0); /* by code point */
	CHECK(cmp("[1,2]", "[1,3]") < 0);
	CHECK(cmp("[1,2]", "[1,2,0]") < 0);
	CHECK(cmp("{\"a\":2}", "{\"b\":1}") < 0);  /* keys first */
	CHECK(cmp("{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":3}") < 0);
	CHECK(cmp("{\"b\":1,\"a\":1}", "{\"a\":1,\"b\":1}") == 0);
	CHECK(cmp("\"2024-05-01T10:00:00Z\"", "\"2024-05-01T09:00:00Z\"") > 0);
}

TEST(fingerprint_hex)
{
	/* hi then lo, as XXH128's canonical form and snprintf("%016llx"
	 * twice) spelled it in reconcile summaries and txlog tags */
	struct fp128 fp = {0x0123456789abcdefULL, 0xfedcba9876543210ULL}, back;
	char hex[33];
	value_fp_hex(fp, hex);
	CHECK_STR(hex, "fedcba98765432100123456789abcdef");
	CHECK_INT(value_fp_unhex(hex, 32, &back), 0);
	CHECK(back.lo == fp.lo && back.hi == fp.hi);
	value_fp_hex((struct fp128){0, 0}, hex);
	CHECK_STR(hex, "00000000000000000000000000000000");
	value_fp_hex(value_fp("abc", 3), hex);
	CHECK_STR(hex, "06b05ab6733a618578af5f94892f3950"); /* xxhsum -H2 */
	CHECK_INT(value_fp_unhex("FEDCBA98765432100123456789ABCDEF", 32, &back),
		  -1);
	CHECK_INT(value_fp_unhex(hex, 31, &back), -1);
	CHECK_INT(value_fp_unhex("0000000000000000000000000000000g", 32, &back),
		  -1);
}


/* ---- times as instants: the invariant over generated pairs ---- */

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static bool canon_eq(enum value_keys k, const char *a, const char *b)
{
	buf_reset(&sa);
	buf_reset(&sb);
	value_canon_as(&sa, k, a, strlen(a));
	value_canon_as(&sb, k, b, strlen(b));
	return sa.len == sb.len && memcmp(sa.p, sb.p, sa.len) == 0;
}

/*
 * The instant sec.nsec.past spelled as a JSON string at an offset of
 * off minutes (past: digits beyond the nanosecond): sep 'T', 't' or ' ';
 * zone "Z", "z" or the offset; fdig fraction digits (at least what nsec
 * and past need, padded with zeros);
 * esc: spell the characters whose bit is set as \u00XX.  Returns false
 * when the local year is not four digits.
 */
static bool spell(char *out, int64_t sec, int32_t nsec, const char *past,
		  int off, char sep, int zone, int fdig, uint64_t esc,
		  bool leap)
{
	char t[160];
	size_t np = strlen(past);
	int64_t local = sec + off * 60, days = local / 86400,
		sod = local % 86400, y;
	int m, d;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	if (leap) { /* 23:59:60 UTC: the second before, read as :60 */
		sod -= 1;
		if (sod < 0) {
			sod += 86400;
			days--;
		}
	}
	time_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return false;
	int n = snprintf(t, sizeof t, "%04lld-%02d-%02d%c%02lld:%02lld:%02lld",
			 (long long)y, m, d, sep, (long long)(sod / 3600),
			 (long long)(sod / 60 % 60),
			 (long long)(leap ? 60 : sod % 60));
	if (fdig) {
		char f[10];
		snprintf(f, sizeof f, "%09d", (int)nsec);
		t[n++] = '.';
		for (int k = 0; k < fdig; k++)
			if (k < 9)
				t[n++] = f[k];
			else
				t[n++] = (size_t)k - 9 < np ? past[k - 9] : '0';
	}
	if (zone == 0)
		t[n++] = 'Z';
	else if (zone == 1)
		t[n++] = 'z';
	else
		n += snprintf(t + n, sizeof t - (size_t)n, "%c%02d:%02d",
			      off < 0 ? '-' : '+', abs(off) / 60,
			      abs(off) % 60);
	char *o = out;
	*o++ = '"';
	for (int k = 0; k < n; k++)
		if (k < 64 && esc >> k & 1)
			o += sprintf(o, "\\u%04x", (unsigned char)t[k]);
		else
			*o++ = t[k];
	*o++ = '"';
	*o = '\0';
	return true;
}

/* Fraction digits an nsec needs: 0 for a whole second. */
static int frac_need(int32_t nsec)
{
	int k = 9;
	if (!nsec)
		return 0;
	while (nsec % 10 == 0) {
		nsec /= 10;
		k--;
	}
	return k;
}

#define POOL 1500
static char *pool[POOL];
static size_t npool;

static void pool_add(const char *v)
{
	if (npool < POOL)
		pool[npool++] = strdup(v);
}

static void add_spellings(uint64_t *rng, int64_t sec, int32_t nsec,
			  const char *past, bool leap)
{
	static const int offs[] = {0, 14 * 60, -12 * 60, 5 * 60 + 45, -90,
				   23 * 60 + 59, -(23 * 60 + 59), 60};
	char v[512], w[600];
	for (int k = 0; k < 4; k++) {
		uint64_t r = unit_splitmix(rng);
		int zone = (int)(r % 3), off = zone < 2 ? 0 : offs[r / 3 % 8];
		if (leap && off % 60 && off != 5 * 60 + 45)
			off = 5 * 60 + 30; /* 05:29:60+05:30 */
		char sep = "TTt "[r / 24 % 4];
		int need = *past ? 9 + (int)strlen(past) : frac_need(nsec);
		int fdig = need + (int)(r / 96 % 4) * (r / 384 % 2 ? 1 : 3);
		if (fdig > 0 && fdig < 3 && r / 768 % 2)
			fdig = 3;
		if (r / 46080 % 4 == 0) /* past 64 bytes */
			fdig += 45;
		uint64_t esc = r / 1536 % 5 == 0 ? unit_splitmix(rng) &
							  unit_splitmix(rng)
						   : 0;
		if (!spell(v, sec, nsec, past, off, sep, zone, fdig, esc,
			   leap))
			continue;
		switch (r / 7680 % 6) {
		case 0:
			snprintf(w, sizeof w, "[%s,1]", v);
			break;
		case 1:
			snprintf(w, sizeof w, "{\"at\":%s,\"n\":1.0}", v);
			break;
		default:
			snprintf(w, sizeof w, "%s", v);
		}
		pool_add(w);
		if (w[0] != '"')
			pool_add(v);
	}
}

static void fill_pool(void)
{
	uint64_t rng = 42;
	int64_t lo = time_days_from_civil(1, 1, 1) * 86400;
	int64_t hi = time_days_from_civil(9998, 12, 31) * 86400;
	static const int32_t fracs[] = {0, 500000000, 120000000, 1000, 1,
					999999999, 250000, 100};
	for (int i = 0; i < 60; i++) {
		uint64_t r = unit_splitmix(&rng);
		int64_t sec = i < 40 ? lo + (int64_t)(r % (uint64_t)(hi - lo))
				     : 1704067200 + (int64_t)(r % 7200);
		int32_t nsec = r / 7 % 2 ? fracs[r / 14 % 8]
					 : (int32_t)(r / 200 % 1000000000);
		add_spellings(&rng, sec, nsec, "", false);
		/* its neighbours: one nanosecond and one second on */
		if (i % 4 == 0)
			add_spellings(&rng, sec,
				      nsec + 1 < 1000000000 ? nsec + 1 : 0, "",
				      false);
		if (i % 5 == 0)
			add_spellings(&rng, sec + 1, nsec, "", false);
		/* finer than a nanosecond, and its neighbours there */
		static const char *pasts[] = {"1", "5", "05", "0000000001",
					      "9999999999", "15", "50001"};
		if (i % 3 == 0) {
			add_spellings(&rng, sec, nsec, pasts[r / 11 % 7],
				      false);
			add_spellings(&rng, sec, nsec, pasts[r / 77 % 7],
				      false);
		}
	}
	/* leap seconds: the next minute's :00, at any offset */
	int64_t leaps[] = {time_days_from_civil(2017, 1, 1) * 86400,
			   time_days_from_civil(2024, 3, 1) * 86400};
	for (int i = 0; i < 2; i++) {
		add_spellings(&rng, leaps[i], 0, "", true);
		add_spellings(&rng, leaps[i], 0, "", false);
		add_spellings(&rng, leaps[i], 999999999, "9", true);
	}
	static const char *fixed[] = {
		/* not times: text, whatever they look like */
		"\"2024-01-01T08:10:00\"", "\"2024-01-01 08:10\"",
		"\"2024-02-30T00:00:00Z\"", "\"2024-01-01T12:30:60Z\"",
		"\"2024-01-01T08:10:00+24:00\"", "\"2024-01-01T08:10:00.Z\"",
		"\"2024-01-01\"", "\"2024-01-01T08:10:00.0000000001\"",
		"\"x2024-01-01T08:10:00Z\"", "\"2024-01-01T08:10:00Z \"",
		/* times: finer than a nanosecond, and 64 bytes or more */
		"\"2024-01-01T08:10:00.0000000001Z\"",
		"\"2024-01-01T10:10:00.0000000001+02:00\"",
		"\"2024-01-01T08:10:00.000000000000000000000000000000000000000000000Z\"",
		"\"2024-01-01T08:10:00.0000000000000000000000000000000000000000000000Z\"",
		"\"2024-01-01T08:10:00.0000000000000000000000000000000000000000000001Z\"",
		"[\"2024-01-01T08:10:00.0000000001Z\",\"2024-01-01T08:10:00Z\"]",
		"[\"2024-01-01T08:10:00Z\",\"2024-01-01T08:10:00.0000000001Z\"]",
		"[\"2024-01-01T08:10:00.0000000001Z\",1]",
		"\"2024-01-01T08:10:00Z\"", "\"2024-01-01T08:10:00.0Z\"",
		"\"\\u0032024-01-01T08:10:00Z\"", "\"2024-01-01T10:10:00+02:00\"",
		/* other values */
		"1", "1.0", "1e0", "10e-1", "-0", "0", "2", "\"a\"",
		"\"\\u0061\"", "\"b\"", "\"\"", "null", "true", "false", "[]",
		"{}", "[1,\"a\"]", "[1.0,\"\\u0061\"]", "{\"a\":1,\"b\":2}",
		"{\"b\":2,\"a\":1}", "{\"a\":1,\"a\":2}",
		"{\"2024-01-01T08:10:00Z\":1}",
		"{\"2024-01-01T10:10:00+02:00\":1}",
		"{\"t\":\"2024-01-01T08:10:00Z\"}",
		"{\"t\":\"2024-01-01T10:10:00+02:00\"}",
		"[\"2024-01-01T08:10:00Z\",\"2024-01-01T08:10:00z\"]",
		"[\"2024-01-01t10:10:00+02:00\",\"2024-01-01 08:10:00.000Z\"]",
	};
	for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
		pool_add(fixed[k]);
}

TEST(times_are_instants)
{
	CHECK(same("\"2024-01-01T10:10:00+02:00\"",
		   "\"2024-01-01T08:10:00Z\""));
	CHECK(same("\"2024-01-01t08:10:00.000z\"", "\"2024-01-01T08:10:00Z\""));
	CHECK(same("\"2024-01-01 08:10:00.5000000000Z\"",
		   "\"2024-01-01T09:10:00.5+01:00\""));
	/* a leap second is its own instant, between :59 and the next :00 */
	CHECK(same("\"2017-01-01T05:29:60+05:30\"", "\"2016-12-31T23:59:60Z\""));
	CHECK(!same("\"2016-12-31T23:59:60Z\"", "\"2017-01-01T00:00:00Z\""));
	CHECK(cmp("\"2016-12-31T23:59:59.999999999Z\"",
		  "\"2016-12-31T23:59:60Z\"") < 0);
	CHECK(cmp("\"2016-12-31T23:59:60.999999999Z\"",
		  "\"2017-01-01T00:00:00Z\"") < 0);
	CHECK(same("\"\\u0032024-01-01T08:10:00Z\"", "\"2024-01-01T08:10:00Z\""));
	CHECK(same("\"2024-01-01T14:00:00+14:00\"",
		   "\"2023-12-31T12:00:00-12:00\""));
	CHECK(!same("\"2024-01-01T08:10:00Z\"", "\"2024-01-01T08:10:00.000000001Z\""));
	CHECK(!same("\"2024-01-01T08:10:00Z\"", "\"2024-01-01T08:10:00\""));
	/* member names stay names */
	CHECK(!same("{\"2024-01-01T08:10:00Z\":1}",
		    "{\"2024-01-01T10:10:00+02:00\":1}"));
	CHECK(same("{\"t\":[\"2024-01-01T08:10:00Z\"]}",
		   "{\"t\":[\"2024-01-01T10:10:00+02:00\"]}"));
	/* 'i', seconds with the sign bit flipped, nanoseconds: 13 bytes */
	buf_reset(&sa);
	value_canon(&sa, "\"1970-01-01T00:00:01.5Z\"", 24);
	CHECK_INT(sa.len, 13);
	CHECK(memcmp(sa.p, "i\x80\0\0\0\0\0\0\x01\x1d\xcd\x65\0", 13) == 0);
	/* finer than a nanosecond, at any offset and length: its instant */
	CHECK(same("\"2024-01-01T10:10:00.0000000001+02:00\"",
		   "\"2024-01-01T08:10:00.00000000010000Z\""));
	CHECK(!same("\"2024-01-01T08:10:00.0000000001Z\"",
		    "\"2024-01-01T08:10:00Z\""));
	CHECK(!same("\"2024-01-01T08:10:00.0000000001Z\"",
		    "\"2024-01-01T08:10:00.00000000001Z\""));
	CHECK(cmp("\"2024-01-01T10:10:00.0000000001+02:00\"",
		  "\"2024-01-01T08:10:00.00000000009Z\"") > 0);
	CHECK(cmp("\"2024-01-01T10:10:00.0000000001+02:00\"",
		  "\"2024-01-01T08:10:00.000000001Z\"") < 0);
	CHECK(cmp("\"2024-01-01T10:10:00.00000000010001+02:00\"",
		  "\"2024-01-01T08:10:00.0000000001Z\"") > 0);
	CHECK(cmp("\"2024-01-01T09:00:00.0000000001+01:00\"",
		  "\"2024-01-01T08:00:00Z\"") > 0);
	CHECK(same("\"2024-01-01T08:10:00.000000000000000000000000000000000"
		   "00000000000000000000000000000000000000000000005Z\"",
		   "\"2024-01-01T09:10:00.000000000000000000000000000000000"
		   "0000000000000000000000000000000000000000000000500+01:00\""));
	buf_reset(&sa);
	value_canon(&sa, "\"1970-01-01T00:00:01.5000000000250Z\"", 34);
	CHECK_INT(sa.len, 16);
	static const char fine[] = "i\x80\0\0\0\0\0\0\x01\x1d\xcd\x65\0"
				   "025";
	CHECK(memcmp(sa.p, fine, 16) == 0);
	/* as text, for states written before */
	CHECK(!canon_eq(VALUE_KEYS_TEXT, "\"2024-01-01T10:10:00+02:00\"",
			"\"2024-01-01T08:10:00Z\""));
	CHECK(canon_eq(VALUE_KEYS_TEXT, "\"\\u0032024-01-01T08:10:00Z\"",
		       "\"2024-01-01T08:10:00Z\""));
	/* the order: instants, then the strings that are not times */
	CHECK(cmp("\"2024-01-01T10:00:00+02:00\"", "\"2024-01-01T09:00:00Z\"") < 0);
	CHECK(value_compare_jq("\"2024-01-01T10:00:00+02:00\"", 27,
			       "\"2024-01-01T09:00:00Z\"", 22) > 0);
	CHECK(cmp("\"2024-01-01T09:00:00Z\"", "\"1999\"") < 0);
	CHECK(cmp("\"9999-12-31T23:59:59Z\"", "\"0\"") < 0);
	CHECK(value_compare_spelled("\"2024-01-01T08:10:00Z\"", 22,
				    "\"2024-01-01T08:10:00z\"", 22) < 0);
	CHECK(value_compare_as(VALUE_ORDER_JSON, "\"2024-01-01T08:10:00Z\"", 22,
			       "\"2024-01-01T08:10:00z\"", 22) < 0);
	CHECK(value_compare_as(VALUE_ORDER_INSTANT, "\"2024-01-01T08:10:00Z\"",
			       22, "\"2024-01-01T08:10:00z\"", 22) == 0);
}

static int pool_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return value_compare(x, strlen(x), y, strlen(y));
}

/*
 * Over every pair of a pool of generated values (times at offsets
 * +14:00 to -23:59, Z and z, 'T', 't' and ' ', fractions of 0 to 40
 * digits, leap seconds, \u escapes, inside arrays and objects; numbers,
 * strings, near misses that are not times): value_compare is 0 exactly
 * when the canonical forms are equal, antisymmetric and (sorted, every
 * later value is not below an earlier one) transitive; the same for
 * value_compare_jq and the text form; and the time test of the
 * canonical form is time_instant_from_json's, leap seconds aside.
 */
TEST(canonical_equal_iff_compare_equal)
{
	fill_pool();
	CHECK(npool > 400);
	size_t times = 0, merged = 0, fine = 0;
	for (size_t i = 0; i < npool; i++) {
		const char *a = pool[i];
		size_t an = strlen(a);
		struct instant t, u;
		const char *why;
		char text[1024];
		if (a[0] == '"') {
			size_t tl = scan_string_decode(a, an, text);
			bool j = time_instant_from_json(a, an, &t, &why) == 0;
			const char *f;
			size_t nf;
			bool x = time_instant_from_text(text, tl, &u, &f,
							&nf) == 0;
			/* a leap second, a time finer than a nanosecond or
			 * one spelled past 64 bytes: compared as itself,
			 * never an event time or a stored timestamp */
			bool leap = x && u.nsec >= 1000000000;
			CHECK(j == (x && !leap && !nf && tl <= TIME_TEXT_MAX));
			fine += x && nf;
			/* the form, built here: 'i' sec nsec, 13 bytes as
			 * before for every time not finer than a
			 * nanosecond (states hold fingerprints of it), then
			 * the digits past the ninth; 's' len text else */
			unsigned char want[1100];
			size_t wl;
			if (x) {
				uint64_t s = (uint64_t)u.sec ^ 1ULL << 63;
				uint32_t ns = (uint32_t)u.nsec;
				want[0] = 'i';
				for (int k = 0; k < 8; k++)
					want[1 + k] = s >> (56 - 8 * k) & 0xff;
				for (int k = 0; k < 4; k++)
					want[9 + k] = ns >> (24 - 8 * k) & 0xff;
				if (nf)
					memcpy(want + 13, f, nf);
				wl = 13 + nf;
			} else {
				want[0] = 's';
				for (int k = 0; k < 8; k++)
					want[1 + k] =
						(unsigned char)(tl >> (8 * k));
				memcpy(want + 9, text, tl);
				wl = 9 + tl;
			}
			buf_reset(&sa);
			value_canon(&sa, a, an);
			CHECK(sa.len == wl && memcmp(sa.p, want, wl) == 0);
			times += j;
			if (j && x)
				CHECK(time_instant_cmp(&t, &u) == 0);
		}
		for (size_t k = 0; k < npool; k++) {
			const char *b = pool[k];
			size_t bn = strlen(b);
			int c = value_compare(a, an, b, bn);
			int r = value_compare(b, bn, a, an);
			bool eq = canon_eq(VALUE_KEYS_INSTANT, a, b);
			if ((c == 0) != eq || sign(c) != -sign(r))
				fprintf(stderr, "  %s vs %s: %d %d %d\n", a,
					b, c, r, eq);
			CHECK((c == 0) == eq);
			CHECK(sign(c) == -sign(r));
			int cj = value_compare_jq(a, an, b, bn);
			int rj = value_compare_jq(b, bn, a, an);
			bool ej = canon_eq(VALUE_KEYS_TEXT, a, b);
			CHECK((cj == 0) == ej);
			CHECK(sign(cj) == -sign(rj));
			merged += eq && !ej;
		}
	}
	CHECK(times > 200);
	CHECK(fine > 60);
	CHECK(merged > 200); /* spellings apart as text, one as instants */
	qsort(pool, npool, sizeof *pool, pool_cmp);
	for (size_t i = 0; i < npool; i++)
		for (size_t k = i + 1; k < npool; k++)
			CHECK(pool_cmp(&pool[i], &pool[k]) <= 0);
	for (size_t i = 0; i < npool; i++)
		free(pool[i]);
}
TEST(fingerprint_order)
{
	/* hi first, then lo, each unsigned: one order for every sort */
	struct fp128 a = {5, 1}, b = {1, 2}, c = {UINT64_MAX, 2},
		     d = {0, UINT64_MAX};
	CHECK(value_fp_cmp(a, b) < 0);
	CHECK(value_fp_cmp(b, a) > 0);
	CHECK(value_fp_cmp(b, c) < 0);
	CHECK(value_fp_cmp(c, d) < 0);
	CHECK(value_fp_cmp(c, c) == 0);
	CHECK(value_fp_cmp((struct fp128){0, 0}, a) < 0);
}

int main(void)
{
	RUN(numbers_by_value);
	RUN(canonical_text);
	RUN(tuple_text);
	RUN(exponents_of_any_length);
	RUN(strings_decoded);
	RUN(objects_unordered);
	RUN(jq_order);
	RUN(fingerprint_hex);
	RUN(fingerprint_order);
	RUN(times_are_instants);
	RUN(canonical_equal_iff_compare_equal);
	buf_free(&sa);
	buf_free(&sb);
	return unit_done();
}
