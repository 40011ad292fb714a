/*
 * fuzz value: canonical forms, fingerprints and jq's order.  For a valid
 * value x, the canonical form written back as JSON (to_json below) has
 * the same canonical form: canonical(json(canonical(x))) ==
 * canonical(x), and compares equal to x.  Input: X, or X NUL Y (no
 * valid JSON holds a NUL byte), when also compare(X, Y) is antisymmetric
 * and is 0 exactly when the canonical forms are equal, and the same of
 * value_compare_jq and the text form.  A time's form ('i') is written
 * back as the instant in UTC, which is its canonical form again, with
 * the digits past the nanosecond it holds for a finer one.
 */
#include <stdbool.h>

#include "buf.h"
#include "fuzz.h"
#include "jsonw.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"

static uint64_t get_u64(const char *p)
{
	uint64_t v = 0;
	for (int k = 7; k >= 0; k--)
		v = v << 8 | (unsigned char)p[k];
	return v;
}

/* Write the canonical form at c[*i..n) as JSON text; advances *i. */
static void to_json(struct buf *out, const char *c, size_t n, size_t *i)
{
	FUZZ_CHECK(*i < n);
	char tag = c[(*i)++];
	switch (tag) {
	case 'n':
		buf_adds(out, "null");
		return;
	case 'f':
		buf_adds(out, "false");
		return;
	case 't':
		buf_adds(out, "true");
		return;
	case 'd': {
		FUZZ_CHECK(*i < n);
		if (c[*i] == '0') {
			(*i)++;
			buf_addc(out, '0');
			return;
		}
		FUZZ_CHECK(c[*i] == '+' || c[*i] == '-');
		if (c[(*i)++] == '-')
			buf_addc(out, '-');
		size_t d0 = *i;
		while (*i < n && c[*i] >= '0' && c[*i] <= '9')
			(*i)++;
		/* stripped of leading and trailing zeros */
		FUZZ_CHECK(*i > d0 && c[d0] != '0' && c[*i - 1] != '0');
		buf_add(out, c + d0, *i - d0);
		FUZZ_CHECK(*i < n && c[*i] == 'e');
		buf_addc(out, c[(*i)++]);
		size_t e0 = *i;
		if (*i < n && c[*i] == '-')
			(*i)++;
		while (*i < n && c[*i] >= '0' && c[*i] <= '9')
			(*i)++;
		FUZZ_CHECK(*i > e0 && c[*i - 1] != '-');
		buf_add(out, c + e0, *i - e0);
		return;
	}
	case 'i': {
		FUZZ_CHECK(n - *i >= 12);
		uint64_t sec = 0;
		uint32_t ns = 0;
		for (int k = 0; k < 8; k++)
			sec = sec << 8 | (unsigned char)c[*i + (size_t)k];
		for (int k = 8; k < 12; k++)
			ns = ns << 8 | (unsigned char)c[*i + (size_t)k];
		*i += 12;
		/* 1e9 and up: a leap second, written back as :60 */
		FUZZ_CHECK(ns < 2000000000u);
		struct instant t = {(int64_t)(sec ^ (1ULL << 63)), (int32_t)ns};
		/* then the fraction's digits past the ninth, if finer than
		 * a nanosecond: ASCII, the last one not 0 */
		size_t f0 = *i;
		while (*i < n && c[*i] >= '0' && c[*i] <= '9')
			(*i)++;
		FUZZ_CHECK(*i == f0 || c[*i - 1] != '0');
		char tb[TIME_STRMAX];
		size_t tn = time_format_instant(&t, TIME_STYLE_RFC3339, tb);
		if (*i == f0) {
			jw_string(out, tb, tn);
			return;
		}
		/* 'Z' off, the fraction padded to nine digits, the rest */
		struct buf w = {0};
		size_t dot = 0;
		for (size_t k = 0; k + 1 < tn; k++)
			if (tb[k] == '.')
				dot = k;
		buf_add(&w, tb, tn - 1);
		size_t have = dot ? tn - 2 - dot : 0; /* fraction digits */
		if (!dot)
			buf_addc(&w, '.');
		for (size_t k = have; k < 9; k++)
			buf_addc(&w, '0');
		buf_add(&w, c + f0, *i - f0);
		buf_addc(&w, 'Z');
		jw_string(out, w.p, w.len);
		buf_free(&w);
		return;
	}
	case 's': {
		FUZZ_CHECK(n - *i >= 8);
		uint64_t len = get_u64(c + *i);
		*i += 8;
		FUZZ_CHECK(len <= n - *i);
		jw_string(out, c + *i, (size_t)len);
		*i += (size_t)len;
		return;
	}
	case 'a':
	case 'o': {
		FUZZ_CHECK(n - *i >= 8);
		uint64_t count = get_u64(c + *i);
		*i += 8;
		FUZZ_CHECK(count <= n - *i);
		buf_addc(out, tag == 'a' ? '[' : '{');
		for (uint64_t k = 0; k < count; k++) {
			if (k)
				buf_addc(out, ',');
			if (tag == 'o') {
				FUZZ_CHECK(*i < n && c[*i] == 's');
				to_json(out, c, n, i);
				buf_addc(out, ':');
			}
			to_json(out, c, n, i);
		}
		buf_addc(out, tag == 'a' ? ']' : '}');
		return;
	}
	default:
		FUZZ_CHECK(!"a canonical form starts with n f t d i s a o");
	}
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

/* The canonical form of the valid text p[0..n) into c (reset first). */
static void canon(struct buf *c, const char *p, size_t n)
{
	c->len = 0;
	size_t s = scan_ws(p, n, 0);
	value_canon(c, p + s, scan_skip(p, n, s) - s);
}

static int valid(const char *p, size_t n)
{
	struct scan_error e;
	return scan_validate(p, n, &e) == 0;
}

/* The value's text without surrounding whitespace. */
static void trim(const char **p, size_t *n)
{
	size_t s = scan_ws(*p, *n, 0);
	size_t e = scan_skip(*p, *n, s);
	*p += s;
	*n = e - s;
}

static void one(const char *x, size_t xn, struct buf *cx)
{
	struct buf j = {0}, cj = {0}, scratch = {0};
	canon(cx, x, xn);
	size_t i = 0;
	to_json(&j, cx->p, cx->len, &i);
	FUZZ_CHECK(i == cx->len);
	FUZZ_CHECK(valid(j.p, j.len));
	canon(&cj, j.p, j.len);
	FUZZ_CHECK(cj.len == cx->len && !memcmp(cj.p, cx->p, cx->len));
	trim(&x, &xn);
	FUZZ_CHECK(value_compare(x, xn, x, xn) == 0);
	FUZZ_CHECK(value_compare(x, xn, j.p, j.len) == 0);
	FUZZ_CHECK(value_compare(j.p, j.len, x, xn) == 0);
	struct fp128 a = value_fingerprint(x, xn, &scratch);
	struct fp128 b = value_fp(cx->p, cx->len);
	struct fp128 c = value_fingerprint(j.p, j.len, &scratch);
	FUZZ_CHECK(a.lo == b.lo && a.hi == b.hi && a.lo == c.lo &&
		   a.hi == c.hi);
	if (x[0] == '-' || (x[0] >= '0' && x[0] <= '9'))
		FUZZ_CHECK(value_number_compare(x, xn, j.p, j.len) == 0);
	buf_free(&j);
	buf_free(&cj);
	buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *x, *y;
	size_t xn, yn;
	int pair = fuzz_split(data, size, &x, &xn, &y, &yn);
	struct buf cx = {0}, cy = {0};
	bool vx = valid(x, xn), vy = pair && valid(y, yn);
	if (vx)
		one(x, xn, &cx);
	if (vy)
		one(y, yn, &cy);
	if (vx && vy) {
		trim(&x, &xn);
		trim(&y, &yn);
		int xy = value_compare(x, xn, y, yn);
		int yx = value_compare(y, yn, x, xn);
		FUZZ_CHECK(sign(xy) == -sign(yx));
		bool same = cx.len == cy.len && !memcmp(cx.p, cy.p, cx.len);
		FUZZ_CHECK((xy == 0) == same);
		struct buf tx = {0}, ty = {0};
		value_canon_as(&tx, VALUE_KEYS_TEXT, x, xn);
		value_canon_as(&ty, VALUE_KEYS_TEXT, y, yn);
		int jxy = value_compare_jq(x, xn, y, yn);
		FUZZ_CHECK(sign(jxy) == -sign(value_compare_jq(y, yn, x, xn)));
		FUZZ_CHECK((jxy == 0) ==
			   (tx.len == ty.len && !memcmp(tx.p, ty.p, tx.len)));
		buf_free(&tx);
		buf_free(&ty);
		const char *vals[2] = {x, y};
		size_t lens[2] = {xn, yn};
		struct buf t = {0};
		value_canon_tuple(&t, vals, lens, 2);
		FUZZ_CHECK(t.len == 1 + 8 + cx.len + cy.len);
		FUZZ_CHECK(t.p[0] == 'a' && !memcmp(t.p + 9, cx.p, cx.len));
		buf_free(&t);
		bool nx = x[0] == '-' || (x[0] >= '0' && x[0] <= '9');
		bool ny = y[0] == '-' || (y[0] >= '0' && y[0] <= '9');
		if (nx && ny)
			FUZZ_CHECK(sign(value_number_compare(x, xn, y, yn)) ==
				   sign(xy));
	}
	buf_free(&cx);
	buf_free(&cy);
	return 0;
}
