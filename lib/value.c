/*
 * value: canonical forms, fingerprints and jq's order; see value.h.
 *
 * Everything works on text that scan_validate() accepted.  Objects are
 * the only costly case: their members are canonicalised in place, and
 * only when the names are not already strictly increasing are they
 * sorted (with the last duplicate kept) and re-emitted.
 *
 * The canonical form of n bytes of text never takes more than
 * CANON_MAX(n) bytes (a lone "5" becomes d+5e0: 5 bytes for 1, and
 * nothing grows faster), so value_canon() reserves that once and the
 * writers below store through a plain pointer, with no capacity checks
 * and no calls per value.
 */
#include "value.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "scan.h"
#include "timefmt.h"
#include "xalloc.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 16: a string may be copied 16 bytes at a time past its end. */
#define CANON_MAX(n) (8 * (n) + 80)

static inline void store_u64le(char *o, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(o, &v, 8);
#else
	for (int k = 0; k < 8; k++)
		o[k] = (char)(v >> (8 * k));
#endif
}

/*
 * The exponent after 'e' or 'E'.  Most fit a long long; one of more than
 * 18 significant digits is kept as its digit text, so that two numbers
 * whose exponents differ far out still differ (1e99999999999999999999 is
 * not 1e99999999999999999998).
 */
struct expo {
	long long e;   /* the value, when !big */
	int neg;       /* its sign, when big */
	const char *d; /* its significant digits, when big */
	size_t nd;
	int big;
};

/* The exponent after 'e' or 'E' at p[*i]; *i moves past it. */
static void parse_exponent(const char *p, size_t n, size_t *ip,
			   struct expo *x)
{
	size_t i = *ip + 1;
	x->e = 0;
	x->neg = 0;
	x->big = 0;
	if (p[i] == '+' || p[i] == '-')
		x->neg = p[i++] == '-';
	while (i < n && p[i] == '0')
		i++;
	size_t s = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	x->d = p + s;
	x->nd = i - s;
	x->big = x->nd > 18;
	for (size_t j = s; !x->big && j < i; j++)
		x->e = x->e * 10 + (p[j] - '0');
	if (x->neg)
		x->e = -x->e;
	*ip = i;
}

/*
 * The magnitude of a big exponent plus shift, as digits at out (room for
 * nd + 1); returns their count.  |shift| is at most a few times the
 * text's length, far below the exponent's 10^18, so the sign is the
 * exponent's.
 */
static size_t big_exponent(const struct expo *x, long long shift, char *out)
{
	long long k = x->neg ? -shift : shift;
	out[0] = '0';
	memcpy(out + 1, x->d, x->nd);
	unsigned long long c = k < 0 ? 0ull - (unsigned long long)k
				     : (unsigned long long)k;
	for (size_t j = x->nd + 1; j-- > 0 && c;) {
		int dg = out[j] - '0', step = (int)(c % 10);
		c /= 10;
		dg += k < 0 ? -step : step;
		if (dg < 0) {
			dg += 10;
			c++;
		} else if (dg > 9) {
			dg -= 10;
			c++;
		}
		out[j] = (char)('0' + dg);
	}
	size_t z = 0;
	while (z < x->nd && out[z] == '0')
		z++;
	memmove(out, out + z, x->nd + 1 - z);
	return x->nd + 1 - z;
}

/*
 * A number as sign, significant digits (no leading or trailing zeros)
 * and the exponent of the last digit: value = sign * digits * 10^exp.
 * Digits point into the text, possibly split by the '.'; they are
 * gathered into `digits` (caller's storage of n bytes).  A big exponent
 * is ex shifted by exp.
 */
struct num {
	int neg;
	char *digits;
	size_t nd;
	long long exp;
	struct expo ex;
};

/* The number at p[i]; returns the index just past it. */
static size_t num_parse(const char *p, size_t n, size_t i, struct num *x)
{
	size_t nd = 0;
	long long frac = 0;
	x->neg = 0;
	x->ex = (struct expo){0};
	if (p[i] == '-') {
		x->neg = 1;
		i++;
	}
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if (nd || p[i] != '0')
			x->digits[nd++] = p[i];
	if (i < n && p[i] == '.')
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			frac++;
			if (nd || p[i] != '0')
				x->digits[nd++] = p[i];
		}
	if (i < n && (p[i] == 'e' || p[i] == 'E'))
		parse_exponent(p, n, &i, &x->ex);
	long long e = (x->ex.big ? 0 : x->ex.e) - frac;
	while (nd && x->digits[nd - 1] == '0') {
		nd--;
		e++;
	}
	x->nd = nd;
	x->exp = nd ? e : 0;
	if (!nd) {
		x->neg = 0; /* -0 is 0 */
		x->ex.big = 0;
	}
	return i;
}

/*
 * x's exponent plus shift, exactly however long the exponent, as decimal
 * text at out ('-' first when negative; room for the exponent's digits
 * + 24); returns its length.
 */
static size_t exponent_text(const struct num *x, long long shift, char *out)
{
	long long v = x->exp + shift;
	size_t m = 0;
	if (x->ex.big) {
		if (x->ex.neg)
			out[m++] = '-';
		return m + big_exponent(&x->ex, v, out + m);
	}
	if (v < 0)
		out[m++] = '-';
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
				     : (unsigned long long)v;
	char t[24];
	size_t k = 0;
	do {
		t[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (k)
		out[m++] = t[--k];
	return m;
}

/* 'd' sign digits 'e' exponent, or d0, written at *op from the number
 * at p[i]; the digits go straight to their place in the output. */
static size_t canon_number(char **op, const char *p, size_t n, size_t i)
{
	char *o = *op;
	struct num x;
	x.digits = o + 2;
	i = num_parse(p, n, i, &x);
	o[0] = 'd';
	if (!x.nd) {
		o[1] = '0';
		*op = o + 2;
		return i;
	}
	o[1] = x.neg ? '-' : '+';
	o = x.digits + x.nd;
	*o++ = 'e';
	*op = o + exponent_text(&x, 0, o);
	return i;
}

/* 's' length(8) decoded bytes, from the string whose opening quote is
 * p[i]; returns the index after its closing quote.  Runs without an
 * escape are copied as they are found, 16 bytes at a time. */
/*
 * The instant form of the decoded string at o + 9 (len bytes) when it
 * is a time, written over it at o: 'i', the seconds as a big-endian u64
 * with the sign bit flipped and the nanoseconds as a big-endian u32, so
 * that memcmp's order is the instants' order, then, for a time finer
 * than a nanosecond, the fraction's digits past the ninth as ASCII up to
 * the last non-zero one (no type byte is a digit, so an array's next
 * element still starts where it did; with a byte-wise order where a
 * prefix comes first, that is their order too).  13 bytes and those
 * digits, never more than the 29 and the digits the text took.  Returns
 * the form's length, or 0 (and o untouched) when the text is not a
 * time; the first test is one compare and one subtraction, so keys that
 * cannot be times pay nothing measurable.
 */
static inline size_t canon_instant(char *o, size_t len)
{
	struct instant t;
	const char *finer;
	size_t nf;
	if (len < TIME_TEXT_MIN || (unsigned char)(o[9] - '0') > 9 ||
	    time_instant_from_text(o + 9, len, &t, &finer, &nf) != 0)
		return 0;
	if (nf)
		memmove(o + 13, finer, nf); /* finer >= o + 9 + 29 */
	uint64_t s = (uint64_t)t.sec ^ (1ULL << 63);
	uint32_t ns = (uint32_t)t.nsec;
	o[0] = 'i';
	for (int k = 0; k < 8; k++)
		o[1 + k] = (char)(s >> (56 - 8 * k));
	for (int k = 0; k < 4; k++)
		o[9 + k] = (char)(ns >> (24 - 8 * k));
	return 13 + nf;
}

static size_t canon_string(char **op, const char *p, size_t n, size_t i,
			   enum value_keys keys)
{
	char *o = *op, *c = o + 9;
	size_t j = i + 1;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	while (j + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + j));
		_mm_storeu_si128((__m128i *)c, v);
		int mask = _mm_movemask_epi8(_mm_or_si128(
			_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
		if (mask) {
			unsigned k = (unsigned)__builtin_ctz((unsigned)mask);
			j += k;
			c += k;
			goto stop;
		}
		j += 16;
		c += 16;
	}
#endif
	while (p[j] != '"' && p[j] != '\\')
		*c++ = p[j++];
#ifdef __SSE2__
stop:
#endif
	if (p[j] == '"') {
		size_t len = (size_t)(c - (o + 9)), il = 0;
		if (keys == VALUE_KEYS_INSTANT)
			il = canon_instant(o, len);
		if (il) {
			*op = o + il;
			return j + 1;
		}
		o[0] = 's';
		store_u64le(o + 1, len);
		*op = c;
		return j + 1;
	}
	/* An escape: decode the whole literal. */
	size_t end = scan_skip(p, n, i);
	size_t len = scan_string_decode(p + i, end - i, o + 9), il = 0;
	if (keys == VALUE_KEYS_INSTANT)
		il = canon_instant(o, len);
	if (il) {
		*op = o + il;
		return end;
	}
	o[0] = 's';
	store_u64le(o + 1, len);
	*op = o + 9 + len;
	return end;
}

struct member {
	size_t key, key_len; /* canonical key string within the output */
	size_t end;          /* end of the member's canonical bytes */
	size_t order;        /* position in the text, for "last wins" */
};

/* memcmp's order, eight bytes at a time: names are short, and a call
 * per comparison showed in profiles. */
static inline int key_cmp(const struct member *x, const struct member *y,
			  const char *base)
{
	const unsigned char *a = (const unsigned char *)base + x->key;
	const unsigned char *b = (const unsigned char *)base + y->key;
	size_t m = x->key_len < y->key_len ? x->key_len : y->key_len, k = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; k + 8 <= m; k += 8) {
		uint64_t u, v;
		memcpy(&u, a + k, 8);
		memcpy(&v, b + k, 8);
		if (u != v) {
			u = __builtin_bswap64(u);
			v = __builtin_bswap64(v);
			return u < v ? -1 : 1;
		}
	}
#endif
	for (; k < m; k++)
		if (a[k] != b[k])
			return a[k] < b[k] ? -1 : 1;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static int member_cmp(const void *a, const void *b, const char *base)
{
	const struct member *x = a, *y = b;
	int c = key_cmp(x, y, base);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* qsort has no context argument in C11; sorting a big object is rare
 * enough that a file-scope pointer will do.  It is thread-local so that
 * two threads may canonicalise at once (reconcile reads its two inputs
 * in parallel). */
static _Thread_local const char *sort_base;
static int member_qcmp(const void *a, const void *b)
{
	return member_cmp(a, b, sort_base);
}

static size_t canon_value(char **op, const char *base, const char *p,
			  size_t n, size_t i, enum value_keys keys);

/* Skip whitespace: none at all in most records, so test once inline. */
static inline size_t ws(const char *p, size_t n, size_t i)
{
	if (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
		      p[i] == '\r'))
		return scan_ws(p, n, i);
	return i;
}

/* Each canon_* appends the form of the value at p[i] at *op and returns
 * the index just past it, so no value is walked twice.  base is where
 * the output starts: members are noted as offsets from it. */
static size_t canon_object(char **op, const char *base, const char *p,
			   size_t n, size_t i, enum value_keys keys)
{
	char *o = *op;
	char *count_at = o + 1;
	o[0] = 'o';
	o += 9;
	size_t start = (size_t)(o - base);
	struct member stack_m[16], *m = stack_m;
	size_t nm = 0, cap = 16;
	bool sorted = true;

	i = ws(p, n, i + 1);
	while (p[i] != '}') {
		if (nm == cap) {
			cap *= 2;
			if (m == stack_m) {
				m = xreallocarray(NULL, cap, sizeof *m);
				memcpy(m, stack_m, sizeof stack_m);
			} else {
				m = xreallocarray(m, cap, sizeof *m);
			}
		}
		m[nm].key = (size_t)(o - base);
		/* a member's name is a name, never an instant */
		i = canon_string(&o, p, n, i, VALUE_KEYS_TEXT);
		m[nm].key_len = (size_t)(o - base) - m[nm].key;
		m[nm].order = nm;
		i = ws(p, n, i);
		i = ws(p, n, i + 1); /* ':' */
		i = canon_value(&o, base, p, n, i, keys);
		m[nm].end = (size_t)(o - base);
		if (nm && sorted && key_cmp(&m[nm - 1], &m[nm], base) >= 0)
			sorted = false; /* out of order, or a repeated name */
		nm++;
		i = ws(p, n, i);
		if (p[i] == ',')
			i = ws(p, n, i + 1);
	}
	i++; /* '}' */
	size_t kept = nm;
	if (!sorted) {
		/* Sort by name then position; of equal names keep the last. */
		size_t len = (size_t)(o - base) - start;
		char small[2048];
		char *copy = len <= sizeof small ? small : xmalloc(len);
		memcpy(copy, base + start, len);
		for (size_t k = 0; k < nm; k++) {
			m[k].key -= start;
			m[k].end -= start;
		}
		if (nm <= 32) { /* insertion sort: no calls, no allocation */
			for (size_t k = 1; k < nm; k++) {
				struct member x = m[k];
				size_t j = k;
				for (; j > 0 && member_cmp(&m[j - 1], &x, copy) > 0; j--)
					m[j] = m[j - 1];
				m[j] = x;
			}
		} else {
			sort_base = copy;
			qsort(m, nm, sizeof *m, member_qcmp);
		}
		o = (char *)base + start;
		kept = 0;
		for (size_t k = 0; k < nm; k++) {
			if (k + 1 < nm && m[k].key_len == m[k + 1].key_len &&
			    !memcmp(copy + m[k].key, copy + m[k + 1].key,
				    m[k].key_len))
				continue; /* a later duplicate wins */
			memcpy(o, copy + m[k].key, m[k].end - m[k].key);
			o += m[k].end - m[k].key;
			kept++;
		}
		if (copy != small)
			free(copy);
	}
	store_u64le(count_at, kept);
	if (m != stack_m)
		free(m);
	*op = o;
	return i;
}

static size_t canon_value(char **op, const char *base, const char *p,
			  size_t n, size_t i, enum value_keys keys)
{
	switch (p[i]) {
	case 'n': *(*op)++ = 'n'; return i + 4;
	case 't': *(*op)++ = 't'; return i + 4;
	case 'f': *(*op)++ = 'f'; return i + 5;
	case '"':
		return canon_string(op, p, n, i, keys);
	case '[': {
		char *count_at = *op + 1;
		uint64_t count = 0;
		**op = 'a';
		*op += 9;
		i = ws(p, n, i + 1);
		while (p[i] != ']') {
			i = ws(p, n, canon_value(op, base, p, n, i, keys));
			count++;
			if (p[i] == ',')
				i = ws(p, n, i + 1);
		}
		store_u64le(count_at, count);
		return i + 1;
	}
	case '{':
		return canon_object(op, base, p, n, i, keys);
	default:
		return canon_number(op, p, n, i);
	}
}

void value_canon_as(struct buf *out, enum value_keys keys, const char *p,
		    size_t n)
{
	buf_reserve(out, CANON_MAX(n));
	char *o = out->p + out->len;
	canon_value(&o, o, p, n, scan_ws(p, n, 0), keys);
	out->len = (size_t)(o - out->p);
	out->p[out->len] = '\0';
}

void value_canon(struct buf *out, const char *p, size_t n)
{
	value_canon_as(out, VALUE_KEYS_INSTANT, p, n);
}

void value_canon_tuple_as(struct buf *out, enum value_keys keys,
			  const char *const *vals, const size_t *lens,
			  size_t count)
{
	buf_reserve(out, 9);
	out->p[out->len] = 'a';
	store_u64le(out->p + out->len + 1, count);
	out->len += 9;
	out->p[out->len] = '\0';
	for (size_t k = 0; k < count; k++)
		value_canon_as(out, keys, vals[k], lens[k]);
}

void value_canon_tuple(struct buf *out, const char *const *vals,
		       const size_t *lens, size_t count)
{
	value_canon_tuple_as(out, VALUE_KEYS_INSTANT, vals, lens, count);
}

void value_tuple_text(struct buf *out, const char *const *vals,
		      const size_t *lens, size_t count)
{
	buf_addc(out, '[');
	for (size_t k = 0; k < count; k++) {
		if (k)
			buf_addc(out, ',');
		buf_add(out, vals[k], lens[k]);
	}
	buf_addc(out, ']');
}

struct fp128 value_fp(const void *canon, size_t n)
{
	XXH128_hash_t h = XXH3_128bits(canon, n);
	struct fp128 fp = {h.low64, h.high64};
	return fp;
}

void value_fp_hex(struct fp128 fp, char out[33])
{
	static const char digit[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[i] = digit[fp.hi >> (60 - 4 * i) & 0xf];
		out[16 + i] = digit[fp.lo >> (60 - 4 * i) & 0xf];
	}
	out[32] = '\0';
}

int value_fp_unhex(const char *s, size_t n, struct fp128 *fp)
{
	uint64_t w[2] = {0, 0};
	if (n != 32)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		w[i / 16] = w[i / 16] << 4 | (uint64_t)d;
	}
	fp->hi = w[0];
	fp->lo = w[1];
	return 0;
}

struct fp128 value_fingerprint_as(enum value_keys keys, const char *p,
				  size_t n, struct buf *scratch)
{
	buf_reset(scratch);
	value_canon_as(scratch, keys, p, n);
	return value_fp(scratch->p, scratch->len);
}

struct fp128 value_fingerprint(const char *p, size_t n, struct buf *scratch)
{
	return value_fingerprint_as(VALUE_KEYS_INSTANT, p, n, scratch);
}

/* ---- jq's order ---- */

int value_type_rank(char c)
{
	switch (c) {
	case 'n': return 0;
	case 'f': return 1;
	case 't': return 2;
	case '"': return 4;
	case '[': return 5;
	case '{': return 6;
	default: return 3;
	}
}

/* Which of two nonzero numbers has its leading digit further left. */
static int leading_digit_compare(const struct num *x, const struct num *y)
{
	if (!x->ex.big && !y->ex.big) {
		long long px = x->exp + (long long)x->nd;
		long long py = y->exp + (long long)y->nd;
		return px < py ? -1 : px > py;
	}
	/* the positions (exp + nd) as signed decimal texts */
	char *tx = xmalloc(x->ex.nd + 24), *ty = xmalloc(y->ex.nd + 24);
	size_t lx = exponent_text(x, (long long)x->nd, tx);
	size_t ly = exponent_text(y, (long long)y->nd, ty);
	int nx = tx[0] == '-', ny = ty[0] == '-';
	int r;
	if (nx != ny) {
		r = nx ? -1 : 1;
	} else {
		r = lx != ly ? (lx < ly ? -1 : 1) : memcmp(tx, ty, lx);
		r = r < 0 ? -1 : r > 0;
		if (nx)
			r = -r;
	}
	free(tx);
	free(ty);
	return r;
}

int value_number_compare(const char *a, size_t an, const char *b, size_t bn)
{
	char sa[64], sb[64];
	struct num x, y;
	x.digits = an <= sizeof sa ? sa : xmalloc(an);
	y.digits = bn <= sizeof sb ? sb : xmalloc(bn);
	num_parse(a, an, 0, &x);
	num_parse(b, bn, 0, &y);
	int r;
	int sx = x.nd ? (x.neg ? -1 : 1) : 0;
	int sy = y.nd ? (y.neg ? -1 : 1) : 0;
	if (sx != sy) {
		r = sx < sy ? -1 : 1;
	} else if (sx == 0) {
		r = 0;
	} else {
		/* Same sign: compare magnitudes, by the position of the
		 * leading digit, then digit by digit. */
		int mag = leading_digit_compare(&x, &y);
		if (mag == 0) {
			size_t m = x.nd < y.nd ? x.nd : y.nd;
			mag = memcmp(x.digits, y.digits, m);
			if (!mag && x.nd != y.nd)
				mag = x.nd < y.nd ? -1 : 1;
			mag = mag < 0 ? -1 : mag > 0;
		}
		r = sx * mag;
	}
	if (x.digits != sa)
		free(x.digits);
	if (y.digits != sb)
		free(y.digits);
	return r;
}

/* Two strings: by code point, or (keys) times as their instants and
 * before every string that is not one, so the order stays total. */
static int string_compare(enum value_keys keys, const char *a, size_t an,
			  const char *b, size_t bn)
{
	char *da = xmalloc(an), *db = xmalloc(bn);
	size_t la = scan_string_decode(a, an, da);
	size_t lb = scan_string_decode(b, bn, db);
	int c = 0;
	bool decided = false;
	if (keys == VALUE_KEYS_INSTANT) {
		struct instant x, y;
		const char *fx, *fy;
		size_t nx, ny;
		bool tx = time_instant_from_text(da, la, &x, &fx, &nx) == 0;
		bool ty = time_instant_from_text(db, lb, &y, &fy, &ny) == 0;
		if (tx && ty) {
			/* then the digits past the nanosecond, trailing
			 * zeros gone: byte-wise, a prefix first */
			c = time_instant_cmp(&x, &y);
			size_t m = nx < ny ? nx : ny;
			if (!c && m)
				c = memcmp(fx, fy, m);
			if (!c && nx != ny)
				c = nx < ny ? -1 : 1;
		} else if (tx != ty) {
			c = tx ? -1 : 1;
		}
		decided = tx || ty;
	}
	if (!decided) {
		size_t m = la < lb ? la : lb;
		c = memcmp(da, db, m);
		if (!c && la != lb)
			c = la < lb ? -1 : 1;
	}
	free(da);
	free(db);
	return c < 0 ? -1 : c > 0;
}

/* Members of an object, sorted by decoded name, last duplicate kept. */
struct omember {
	char *name;
	size_t name_len, order;
	const char *val;
	size_t val_len;
};

static int omember_cmp(const void *pa, const void *pb)
{
	const struct omember *x = pa, *y = pb;
	size_t m = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, m);
	if (c)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct omember *object_members(const char *p, size_t n, size_t *count)
{
	struct omember *m = NULL;
	size_t nm = 0, i = scan_ws(p, n, 1);
	while (p[i] != '}') {
		size_t kend = scan_skip(p, n, i);
		m = xreallocarray(m, nm + 1, sizeof *m);
		m[nm].name = xmalloc(kend - i);
		m[nm].name_len = scan_string_decode(p + i, kend - i, m[nm].name);
		m[nm].order = nm;
		i = scan_ws(p, n, scan_ws(p, n, kend) + 1);
		size_t vend = scan_skip(p, n, i);
		m[nm].val = p + i;
		m[nm].val_len = vend - i;
		nm++;
		i = scan_ws(p, n, vend);
		if (p[i] == ',')
			i = scan_ws(p, n, i + 1);
	}
	if (nm)
		qsort(m, nm, sizeof *m, omember_cmp);
	size_t kept = 0;
	for (size_t k = 0; k < nm; k++) {
		if (k + 1 < nm && m[k].name_len == m[k + 1].name_len &&
		    !memcmp(m[k].name, m[k + 1].name, m[k].name_len)) {
			free(m[k].name);
			continue;
		}
		m[kept++] = m[k];
	}
	*count = kept;
	return m;
}

static void free_members(struct omember *m, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(m[k].name);
	free(m);
}

static int compare(enum value_keys keys, const char *a, size_t an,
		   const char *b, size_t bn);

static int object_compare(enum value_keys keys, const char *a, size_t an,
			  const char *b, size_t bn)
{
	size_t na, nb;
	struct omember *ma = object_members(a, an, &na);
	struct omember *mb = object_members(b, bn, &nb);
	int c = 0;
	/* jq: first the sorted key lists, as arrays of strings ... */
	for (size_t k = 0; k < na && k < nb && !c; k++) {
		size_t m = ma[k].name_len < mb[k].name_len ? ma[k].name_len
							   : mb[k].name_len;
		c = memcmp(ma[k].name, mb[k].name, m);
		if (!c && ma[k].name_len != mb[k].name_len)
			c = ma[k].name_len < mb[k].name_len ? -1 : 1;
	}
	if (!c && na != nb)
		c = na < nb ? -1 : 1;
	/* ... then the values, key by key. */
	for (size_t k = 0; k < na && !c; k++)
		c = compare(keys, ma[k].val, ma[k].val_len, mb[k].val,
			    mb[k].val_len);
	free_members(ma, na);
	free_members(mb, nb);
	return c < 0 ? -1 : c > 0;
}

static int array_compare(enum value_keys keys, const char *a, size_t an,
			 const char *b, size_t bn)
{
	size_t i = scan_ws(a, an, 1), j = scan_ws(b, bn, 1);
	for (;;) {
		bool ea = a[i] == ']', eb = b[j] == ']';
		if (ea || eb)
			return ea && eb ? 0 : ea ? -1 : 1;
		size_t ie = scan_skip(a, an, i), je = scan_skip(b, bn, j);
		int c = compare(keys, a + i, ie - i, b + j, je - j);
		if (c)
			return c;
		i = scan_ws(a, an, ie);
		if (a[i] == ',')
			i = scan_ws(a, an, i + 1);
		j = scan_ws(b, bn, je);
		if (b[j] == ',')
			j = scan_ws(b, bn, j + 1);
	}
}

static int compare(enum value_keys keys, const char *a, size_t an,
		   const char *b, size_t bn)
{
	size_t i = scan_ws(a, an, 0), j = scan_ws(b, bn, 0);
	a += i, an -= i, b += j, bn -= j;
	int ra = value_type_rank(*a), rb = value_type_rank(*b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 3: return value_number_compare(a, scan_skip(a, an, 0), b,
					    scan_skip(b, bn, 0));
	case 4: return string_compare(keys, a, scan_skip(a, an, 0), b,
				      scan_skip(b, bn, 0));
	case 5: return array_compare(keys, a, an, b, bn);
	case 6: return object_compare(keys, a, an, b, bn);
	default: return 0;
	}
}

int value_compare(const char *a, size_t an, const char *b, size_t bn)
{
	return compare(VALUE_KEYS_INSTANT, a, an, b, bn);
}

int value_compare_jq(const char *a, size_t an, const char *b, size_t bn)
{
	return compare(VALUE_KEYS_TEXT, a, an, b, bn);
}

int value_compare_keys(enum value_keys keys, const char *a, size_t an,
		       const char *b, size_t bn)
{
	return compare(keys, a, an, b, bn);
}

int value_compare_spelled(const char *a, size_t an, const char *b, size_t bn)
{
	int c = value_compare(a, an, b, bn);
	return c ? c : value_compare_jq(a, an, b, bn);
}

/*
 * A time column's order (VALUE_ORDER_INSTANT) is value_compare's; any
 * other column's (VALUE_ORDER_JSON, and with it Delta's min and max
 * statistics of a string column) stays jq's, strings by code point.
 */
int value_compare_as(enum value_order o, const char *a, size_t an,
		     const char *b, size_t bn)
{
	return compare(o == VALUE_ORDER_INSTANT ? VALUE_KEYS_INSTANT
						: VALUE_KEYS_TEXT,
		       a, an, b, bn);
}
