/* Canonical values, fingerprints and jq's order. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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
	buf_free(&sa);
	buf_free(&sb);
	return unit_done();
}
