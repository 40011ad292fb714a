/*
 * scan_walk: the validator of scan.c, as inline code for a second user.
 * txlog's schema check types each record in the validator's own pass
 * (lib/delta/schema.c): the hooks it gives scan_record_with() are known
 * where it is compiled, so they are inlined, not called per token.
 * scan.c compiles the same code with no hooks.  Include it from one
 * file per user: everything here is static.
 */
#ifndef IDEM_SCAN_WALK_H
#define IDEM_SCAN_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
/* and scan.h before it: its module's own types (scan.c includes this
 * file, so including scan.h from here would make a cycle of the two) */

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* What the validator asks as it goes: each answers false when the
 * record is not of the shape; the scan then stops asking and goes on
 * validating.  A level is the number of containers around a value (the
 * record itself: 0, its members: 1). */
struct scan_hooks {
	/* a '{' or '[' opens as a value at level */
	bool (*open)(void *ctx, size_t level, char kind);
	/* the name literal (quotes included) of a member at level */
	bool (*key)(void *ctx, size_t level, const char *lit, size_t n);
	/* a string, number, true, false or null at level: p[0..n) */
	bool (*scalar)(void *ctx, size_t level, const char *p, size_t n);
	/* the container whose values were at level closes */
	bool (*close)(void *ctx, size_t level);
};

/* Byte classes inside a string. */
enum { S_OK = 0, S_QUOTE, S_BSLASH, S_CTRL, S_UTF8 };

static const unsigned char str_class[256] = {
	[0 ... 0x1f] = S_CTRL,
	['"'] = S_QUOTE,
	['\\'] = S_BSLASH,
	[0x80 ... 0xff] = S_UTF8,
};

/* The escapes that are one letter after the backslash. */
static const unsigned char simple_escape[256] = {
	['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1,
	['n'] = 1, ['r'] = 1, ['t'] = 1,
};

static inline int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Four hex digits at s[0..4) as a code unit, or -1. */
static inline long hex4(const unsigned char *s)
{
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static inline size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else
		return 0;
	if (avail < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

/* Validate the string starting at the opening quote p[i]; returns the
 * index after the closing quote, or 0 with *what and *at set. */
static inline __attribute__((always_inline)) size_t valid_string(const char *p, size_t n, size_t i,
			   const char **what, size_t *at)
{
#define FAIL_AT(msg)          \
	do {                  \
		*what = (msg); \
		*at = i;       \
		return 0;      \
	} while (0)
	const unsigned char *s = (const unsigned char *)p;
	i++;
	for (;;) {
#ifdef __SSE2__
		/* 16 bytes at a time while none is '"', '\\', a control or
		 * non-ASCII (signed compare: bytes >= 0x80 are negative). */
		const __m128i quote = _mm_set1_epi8('"');
		const __m128i bslash = _mm_set1_epi8('\\');
		const __m128i space = _mm_set1_epi8(0x20);
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
			__m128i q = _mm_cmpeq_epi8(v, quote);
			__m128i hit = _mm_or_si128(
				_mm_or_si128(q, _mm_cmpeq_epi8(v, bslash)),
				_mm_cmplt_epi8(v, space));
			unsigned mask = (unsigned)_mm_movemask_epi8(hit);
			if (!mask) {
				i += 16;
				continue;
			}
			unsigned k = (unsigned)__builtin_ctz(mask);
			i += k;
			/* the first stop a quote: known from the masks, not
			 * by loading the byte again */
			if ((unsigned)_mm_movemask_epi8(q) >> k & 1)
				return i + 1;
			/* a one-letter escape (\" in the text of a Delta
			 * stats string, \n in a message): on at once */
			if (s[i] != '\\' || i + 1 >= n ||
			    !simple_escape[s[i + 1]])
				break;
			i += 2;
		}
#endif
		while (i < n && str_class[s[i]] == S_OK)
			i++;
		if (i >= n)
			FAIL_AT("unterminated string");
		switch (str_class[s[i]]) {
		case S_QUOTE:
			return i + 1;
		case S_CTRL:
			FAIL_AT("control character in string");
		case S_UTF8: {
			size_t len = utf8_len(s + i, n - i);
			if (!len)
				FAIL_AT("invalid UTF-8");
			i += len;
			break;
		}
		case S_BSLASH:
			if (i + 1 >= n)
				FAIL_AT("unterminated string");
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				i += 2;
				break;
			case 'u': {
				long u = i + 6 <= n ? hex4(s + i + 2) : -1;
				if (u < 0)
					FAIL_AT("bad \\u escape");
				if (u >= 0xdc00 && u <= 0xdfff)
					FAIL_AT("lone UTF-16 surrogate");
				if (u >= 0xd800 && u <= 0xdbff) {
					long lo = -1;
					if (i + 12 <= n && s[i + 6] == '\\' &&
					    s[i + 7] == 'u')
						lo = hex4(s + i + 8);
					if (lo < 0xdc00 || lo > 0xdfff)
						FAIL_AT("lone UTF-16 surrogate");
					i += 6;
				}
				i += 6;
				break;
			}
			default:
				FAIL_AT("bad escape in string");
			}
			break;
		}
	}
#undef FAIL_AT
}

/* Validate the number at p[i]; index after it, or 0 with *what set. */
static inline size_t valid_number(const char *p, size_t n, size_t i,
			   const char **what)
{
	const unsigned char *s = (const unsigned char *)p;
	*what = "invalid number";
	if (s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	/* "01", "1x": the next byte must end the number. */
	if (i < n && (is_digit(s[i]) || s[i] == '.' || s[i] == 'e' ||
		      s[i] == 'E' || s[i] == '-' || s[i] == '+' ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		return 0;
	return i;
}

static inline size_t valid_literal(const char *p, size_t n, size_t i,
			    const char *word, size_t len, const char **what)
{
	if (n - i < len || memcmp(p + i, word, len) != 0) {
		*what = "invalid literal";
		return 0;
	}
	return i + len;
}

static inline void note_member(struct scan_record *r, size_t key, size_t key_len,
			size_t parent)
{
	if (r->nmembers == r->cap)
		r->members = xgrow(r->members, &r->cap, r->nmembers,
				   sizeof *r->members, 16);
	r->members[r->nmembers].key = key;
	r->members[r->nmembers].key_len = key_len;
	r->members[r->nmembers].parent = parent;
	r->nmembers++;
}

/* Ask the hooks while they still take the record (h: a constant NULL
 * in the plain scans, so the asking compiles away there). */
#define TYPER(call)                      \
	do {                             \
		if (h && *fits && !(call)) \
			*fits = false;   \
	} while (0)

/* top: members to note, of objects up to `noted` levels deep (1: the
 * top-level object's own).  h: scan_record_with()'s hooks, or NULL. */
static inline __attribute__((always_inline)) int
validate_as(const char *p, size_t n, struct scan_error *err,
	    struct scan_record *top, size_t noted,
	    const struct scan_hooks *h, void *hc, bool *fits)
{
	unsigned char stack[SCAN_MAX_DEPTH]; /* '{' or '[' per level */
	size_t depth = 0, i, j;
	/* open[d]: the noted member whose value is being read at depth d */
	size_t open[3] = {SCAN_TOP, SCAN_TOP, SCAN_TOP};
	const char *what = NULL;

	i = scan_ws(p, n, 0);
	if (i >= n) {
		what = "empty document";
		goto fail;
	}
value:
	if (i >= n) {
		what = "unexpected end of input";
		goto fail;
	}
	switch (p[i]) {
	case '{':
		if (depth == SCAN_MAX_DEPTH) {
			what = "nesting too deep";
			goto fail;
		}
		TYPER(h->open(hc, depth, '{'));
		stack[depth++] = '{';
		i = scan_ws(p, n, i + 1);
		if (i < n && p[i] == '}') {
			TYPER(h->close(hc, depth));
			depth--;
			i++;
			goto after;
		}
		goto member;
	case '[':
		if (depth == SCAN_MAX_DEPTH) {
			what = "nesting too deep";
			goto fail;
		}
		TYPER(h->open(hc, depth, '['));
		stack[depth++] = '[';
		i = scan_ws(p, n, i + 1);
		if (i < n && p[i] == ']') {
			TYPER(h->close(hc, depth));
			depth--;
			i++;
			goto after;
		}
		goto value;
	case '"':
		j = valid_string(p, n, i, &what, &i);
		break;
	case 't':
		j = valid_literal(p, n, i, "true", 4, &what);
		break;
	case 'f':
		j = valid_literal(p, n, i, "false", 5, &what);
		break;
	case 'n':
		j = valid_literal(p, n, i, "null", 4, &what);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		j = valid_number(p, n, i, &what);
		break;
	default:
		what = "unexpected character";
		goto fail;
	}
	if (!j)
		goto fail;
	TYPER(h->scalar(hc, depth, p + i, j - i));
	i = j;
after:
	if (top && depth && depth <= noted && stack[depth - 1] == '{' &&
	    open[depth] != SCAN_TOP)
		top->members[open[depth]].val_end = i;
	i = scan_ws(p, n, i);
	if (depth == 0) {
		if (i != n) {
			what = "trailing characters after the value";
			goto fail;
		}
		return 0;
	}
	if (i >= n) {
		what = "unexpected end of input";
		goto fail;
	}
	if (p[i] == ',') {
		i = scan_ws(p, n, i + 1);
		if (stack[depth - 1] == '{')
			goto member;
		goto value;
	}
	if (p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
		TYPER(h->close(hc, depth));
		depth--;
		i++;
		goto after;
	}
	what = stack[depth - 1] == '{' ? "expected ',' or '}'"
				       : "expected ',' or ']'";
	goto fail;
member:
	if (i >= n || p[i] != '"') {
		what = "expected a member name";
		goto fail;
	}
	j = valid_string(p, n, i, &what, &i);
	if (!j)
		goto fail;
	TYPER(h->key(hc, depth, p + i, j - i));
	if (top && depth <= noted && (depth == 1 || stack[0] == '{')) {
		note_member(top, i, j - i, open[depth - 1]);
		open[depth] = top->nmembers - 1;
	}
	i = scan_ws(p, n, j);
	if (i >= n || p[i] != ':') {
		what = "expected ':'";
		goto fail;
	}
	i = scan_ws(p, n, i + 1);
	if (top && depth <= noted && (depth == 1 || stack[0] == '{'))
		top->members[top->nmembers - 1].val = i;
	goto value;
fail:
	if (err) {
		err->offset = i;
		err->what = what;
	}
	return -1;
}
#undef TYPER

/* scan_record() asking h (with ctx hc) as it validates: *fits false
 * when a hook said no or the line is no JSON. */
static inline __attribute__((always_inline)) int
scan_record_with(struct scan_record *r, const char *p, size_t n,
		 struct scan_error *err, const struct scan_hooks *h, void *hc,
		 bool *fits)
{
	r->p = p;
	r->n = n;
	r->nmembers = 0;
	*fits = true;
	if (validate_as(p, n, err, r, 1, h, hc, fits) != 0) {
		*fits = false;
		return -1;
	}
	r->start = scan_ws(p, n, 0);
	return 0;
}

#endif
