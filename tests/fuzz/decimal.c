/*
 * fuzz decimal: exact decimals.  Input: A, or A NUL B.  A parsed number
 * is a valid JSON number, formats to a number of the same value (by
 * value.h's exact compare too) and parses back; add then subtract gives
 * the start back; an overflow leaves the accumulator alone; compare is
 * antisymmetric and agrees with value_number_compare; division by any
 * int64 at any scale is defined.
 */
#include <stdbool.h>

#include "decimal.h"
#include "fuzz.h"
#include "scan.h"
#include "value.h"

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static bool same(const struct dec *a, const struct dec *b)
{
	return a->coef == b->coef && a->exp == b->exp;
}

/* Format d and check the text: valid JSON, the same value. */
static size_t fmt_check(const struct dec *d, char *buf)
{
	size_t n = dec_format(d, buf);
	FUZZ_CHECK(n > 0 && n < DEC_STRMAX && strlen(buf) == n);
	struct scan_error e;
	FUZZ_CHECK(scan_validate(buf, n, &e) == 0);
	FUZZ_CHECK(!strcmp(scan_type(buf), "number"));
	struct dec nd = dec_normalize(*d);
	FUZZ_CHECK(dec_cmp(d, &nd) == 0);
	/* By design a sum may reach 39 digits, which print but do not
	 * parse back (dec_parse takes 38). */
	const __int128 e38 = (__int128)10000000000000000000ULL *
			     10000000000000000000ULL;
	if (nd.coef >= e38 || nd.coef <= -e38)
		return n;
	struct dec back;
	FUZZ_CHECK(dec_parse(buf, n, &back) == 0);
	FUZZ_CHECK(dec_cmp(d, &back) == 0);
	struct dec nb = dec_normalize(back);
	FUZZ_CHECK(same(&nd, &nb));
	return n;
}

static bool parse(const char *s, size_t n, struct dec *d, char *txt)
{
	struct dec poison = {7, 7};
	*d = poison;
	if (dec_parse(s, n, d) != 0) {
		FUZZ_CHECK(same(d, &poison)); /* untouched on failure */
		return false;
	}
	struct scan_error e;
	FUZZ_CHECK(scan_validate(s, n, &e) == 0 && scan_ws(s, n, 0) == 0);
	FUZZ_CHECK(!strcmp(scan_type(s), "number"));
	size_t tn = fmt_check(d, txt);
	FUZZ_CHECK(value_number_compare(s, n, txt, tn) == 0);
	return true;
}

static void divide(const struct dec *a, int64_t by, int scale)
{
	struct dec q = {7, 7}, poison = {7, 7};
	char buf[DEC_STRMAX];
	if (dec_div_i64(a, by, scale, &q) == 0) {
		FUZZ_CHECK(by != 0);
		fmt_check(&q, buf);
	} else {
		FUZZ_CHECK(same(&q, &poison));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *as, *bs;
	size_t an, bn;
	fuzz_split(data, size, &as, &an, &bs, &bn);
	struct dec a, b;
	char at[DEC_STRMAX], bt[DEC_STRMAX];
	if (!parse(as, an, &a, at))
		return 0;
	divide(&a, 3, 10);
	divide(&a, -7, 0);
	divide(&a, INT64_MIN, 40);
	divide(&a, 0, 2);
	if (!bs || !parse(bs, bn, &b, bt)) {
		/* B is not a number: take a divisor and scale from its bytes */
		int64_t by = 0;
		for (size_t k = 0; bs && k < bn && k < 8; k++)
			by = (int64_t)((uint64_t)by << 8 | (uint8_t)bs[k]);
		divide(&a, by, bn > 8 ? (uint8_t)bs[8] % 80 : 6);
		return 0;
	}
	int ab = dec_cmp(&a, &b), ba = dec_cmp(&b, &a);
	FUZZ_CHECK(sign(ab) == -sign(ba));
	FUZZ_CHECK(sign(ab) == sign(value_number_compare(at, strlen(at), bt,
							  strlen(bt))));
	struct dec acc = a;
	if (dec_add(&acc, &b) == 0) {
		char st[DEC_STRMAX];
		fmt_check(&acc, st);
		struct dec back = acc;
		FUZZ_CHECK(dec_sub(&back, &b) == 0);
		FUZZ_CHECK(dec_cmp(&back, &a) == 0);
		/* a + b > a exactly when b > 0 */
		struct dec zero = DEC_ZERO;
		FUZZ_CHECK(sign(dec_cmp(&acc, &a)) == sign(dec_cmp(&b, &zero)));
	} else {
		FUZZ_CHECK(same(&acc, &a));
	}
	acc = a;
	if (dec_sub(&acc, &b) != 0)
		FUZZ_CHECK(same(&acc, &a));
	else
		fmt_check(&acc, at);
	return 0;
}
