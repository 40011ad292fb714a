#include "delta/logsum.h"

#include <stdio.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static const char zeros[DL_SUM_HEX] = "00000000000000000000000000000000";

static void sum_hex(const char *text, size_t n, size_t at, char out[33])
{
	XXH3_state_t st; /* on the stack: the static-linking API */
	XXH3_INITSTATE(&st);
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, text, at);
	XXH3_128bits_update(&st, zeros, DL_SUM_HEX);
	XXH3_128bits_update(&st, text + at + DL_SUM_HEX, n - at - DL_SUM_HEX);
	XXH128_hash_t h = XXH3_128bits_digest(&st);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

size_t dl_sum_member(struct buf *b)
{
	buf_adds(b, DL_SUM_MEMBER);
	size_t at = b->len;
	buf_add(b, zeros, DL_SUM_HEX);
	buf_addc(b, '"');
	return at;
}

void dl_sum_seal(struct buf *b, size_t at)
{
	char hex[33];
	sum_hex(b->p, b->len, at, hex);
	memcpy(b->p + at, hex, DL_SUM_HEX);
}

static bool is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/*
 * Where the sum's digits are: the line that holds it (a commit's first
 * commitInfo, a checkpoint's first line) must end with the
 * member, the digits, a quote and closers (the commitInfo line: "}}";
 * the checkpointMetadata line: "}}}", closing tags too), and begin as
 * that action.  Those are the shapes txlog writes; anything else is a
 * file without a sum.
 */
static bool find_sum(const char *t, size_t n, enum dl_sum_where w,
		     size_t *at)
{
	size_t s, e;
	const char *head, *tail;
	if (w == DL_SUM_COMMIT) {
		/* the first commitInfo line: txlog writes it first, so a
		 * line added before it is still under the sum */
		head = "{\"commitInfo\":{";
		tail = "\"}}";
		for (s = 0;; s = e + 1) {
			if (s >= n)
				return false;
			const char *nl = memchr(t + s, '\n', n - s);
			e = nl ? (size_t)(nl - t) : n;
			if (e - s >= strlen(head) &&
			    memcmp(t + s, head, strlen(head)) == 0)
				break;
		}
		if (e > s && t[e - 1] == '\r')
			e--;
	} else {
		s = 0;
		const char *nl = memchr(t, '\n', n);
		e = nl ? (size_t)(nl - t) : n;
		if (e && t[e - 1] == '\r')
			e--;
		head = "{\"checkpointMetadata\":{";
		tail = "\"}}}";
	}
	size_t hl = strlen(head), tl = strlen(tail);
	size_t ml = sizeof DL_SUM_MEMBER - 1;
	if (e - s < hl + ml + DL_SUM_HEX + tl ||
	    memcmp(t + s, head, hl) != 0 ||
	    memcmp(t + e - tl, tail, tl) != 0)
		return false;
	size_t h = e - tl - DL_SUM_HEX;
	if (memcmp(t + h - ml, DL_SUM_MEMBER, ml) != 0)
		return false;
	*at = h;
	return true;
}

bool dl_sum_ok(const char *text, size_t n, enum dl_sum_where w)
{
	size_t at;
	if (!find_sum(text, n, w, &at))
		return true;
	if (!is_hex(text + at, DL_SUM_HEX))
		return false; /* a digit damaged into another byte */
	char hex[33];
	sum_hex(text, n, at, hex);
	return memcmp(hex, text + at, DL_SUM_HEX) == 0;
}
