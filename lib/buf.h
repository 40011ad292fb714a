/*
 * buf: a growable byte buffer.  p[0..len) is the content; cap is what is
 * allocated.  The content is always followed by a NUL byte (not counted
 * in len) so it can be handed to C string functions when it holds text.
 * A zeroed struct buf is a valid empty buffer.
 */
#ifndef IDEM_BUF_H
#define IDEM_BUF_H

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

#endif
