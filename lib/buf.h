/*
 * buf: a growable byte buffer.  p[0..len) is the content; cap is what is
 * allocated.  The content is always followed by a NUL byte (not counted
 * in len) so it can be handed to C string functions when it holds text.
 * A zeroed struct buf is a valid empty buffer.
 */
#ifndef IDEM_BUF_H
#define IDEM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_add_u64(struct buf *b, uint64_t v);
void buf_add_i64(struct buf *b, int64_t v);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/*
 * True when a[0..n) and b[0..n) are the same bytes.  Inline, with the
 * short case (a member name, up to 16 bytes) as two overlapping loads a
 * side: a call to memcmp per member per record was 4% of txlog append's
 * CPU.
 */
static inline bool mem_same(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return __builtin_memcmp(a, b, n) == 0;
	if (n >= 8) {
		uint64_t x0, x1, y0, y1;
		__builtin_memcpy(&x0, a, 8);
		__builtin_memcpy(&y0, b, 8);
		__builtin_memcpy(&x1, a + n - 8, 8);
		__builtin_memcpy(&y1, b + n - 8, 8);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	if (n >= 4) {
		uint32_t x0, x1, y0, y1;
		__builtin_memcpy(&x0, a, 4);
		__builtin_memcpy(&y0, b, 4);
		__builtin_memcpy(&x1, a + n - 4, 4);
		__builtin_memcpy(&y1, b + n - 4, 4);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * memcmp's order of a[0..n) and b[0..n) as -1, 0 or 1: eight bytes at a
 * time as big-endian words, no call (statistics compare every value).
 */
static inline int mem_order(const char *a, const char *b, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		__builtin_memcpy(&x, a + i, 8);
		__builtin_memcpy(&y, b + i, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
#endif
			return x < y ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1
									 : 1;
	return 0;
}

/* True when b holds exactly p[0..n). */
static inline bool buf_is(const struct buf *b, const char *p, size_t n)
{
	return b->len == n && mem_same(b->p, p, n);
}

#endif
