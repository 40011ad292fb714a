#include "jsonw.h"

#include <string.h>

#include "timefmt.h"

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not
 * valid; *bad is then how many bytes form the invalid "maximal subpart"
 * (Unicode 15, 3.9), which becomes one U+FFFD.  That is the substitution
 * browsers and most decoders make, so our output matches theirs.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the 2nd byte */

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		/* 80..BF stray continuation, C0/C1 overlong, F5.. too big */
		*bad = 1;
		return 0;
	}
	size_t i = 1;
	for (; i < len && i < n; i++) {
		unsigned char lim_lo = i == 1 ? lo : 0x80;
		unsigned char lim_hi = i == 1 ? hi : 0xbf;
		if (s[i] < lim_lo || s[i] > lim_hi)
			break;
	}
	if (i == len)
		return len;
	*bad = i;
	return 0;
}

bool jw_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	bool exact = true;

	buf_reserve(b, n + 2);
	buf_addc(b, '"');
	while (i < n) {
		/* Copy the run of bytes that need no attention in one go. */
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		       p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			buf_add(b, p + i, run - i);
			i = run;
			if (i == n)
				break;
		}
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t bad = 0;
			size_t len = utf8_seq(p + i, n - i, &bad);
			if (len) {
				buf_add(b, p + i, len);
				i += len;
			} else {
				buf_add(b, "\xef\xbf\xbd", 3);
				i += bad;
				exact = false;
			}
			continue;
		}
		i++;
		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\b':
			buf_add(b, "\\b", 2);
			break;
		case '\f':
			buf_add(b, "\\f", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4],
				     hex[c & 0xf]};
			buf_add(b, u, sizeof u);
			break;
		}
		}
	}
	buf_addc(b, '"');
	return exact;
}

void jw_str(struct buf *b, const char *s)
{
	jw_string(b, s, strlen(s));
}

void jw_key(struct buf *b, const char *name, int first)
{
	if (!first)
		buf_addc(b, ',');
	jw_str(b, name);
	buf_addc(b, ':');
}

void jw_i64(struct buf *b, int64_t v)
{
	buf_add_i64(b, v);
}

void jw_u64(struct buf *b, uint64_t v)
{
	buf_add_u64(b, v);
}

void jw_time(struct buf *b, int64_t ns)
{
	char t[TIME_STRMAX];
	size_t n = time_format(ns, t);
	jw_string(b, t, n);
}
