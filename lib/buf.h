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
 * True when b holds exactly p[0..n).  Inline, with the short case (a
 * member name a memo remembers, up to 16 bytes) as two overlapping
 * loads a side: a call to memcmp per member per record was 4% of txlog
 * append's CPU.
 */
static inline bool buf_is(const struct buf *b, const char *p, size_t n)
{
	if (b->len != n)
		return false;
	if (n > 16 || n < 4)
		return n == 0 || __builtin_memcmp(b->p, p, n) == 0;
	if (n >= 8) {
		uint64_t x0, x1, y0, y1;
		__builtin_memcpy(&x0, b->p, 8);
		__builtin_memcpy(&y0, p, 8);
		__builtin_memcpy(&x1, b->p + n - 8, 8);
		__builtin_memcpy(&y1, p + n - 8, 8);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	uint32_t x0, x1, y0, y1;
	__builtin_memcpy(&x0, b->p, 4);
	__builtin_memcpy(&y0, p, 4);
	__builtin_memcpy(&x1, b->p + n - 4, 4);
	__builtin_memcpy(&y1, p + n - 4, 4);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

#endif
