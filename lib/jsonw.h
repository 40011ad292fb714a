/*
 * jsonw: writing compact JSON into a struct buf.  Strings are escaped as
 * RFC 8259 requires ("\"", "\\", control characters); bytes that are not
 * valid UTF-8 become U+FFFD so the output is always valid JSON.
 */
#ifndef IDEM_JSONW_H
#define IDEM_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* false when some bytes were not UTF-8 and became U+FFFD */
bool jw_string(struct buf *b, const char *s, size_t n);
void jw_str(struct buf *b, const char *s); /* NUL-terminated */
/* "name": -- the key with its colon, preceded by a comma unless first */
void jw_key(struct buf *b, const char *name, int first);
void jw_i64(struct buf *b, int64_t v);
void jw_u64(struct buf *b, uint64_t v);
/* An RFC 3339 UTC string for ns since the epoch. */
void jw_time(struct buf *b, int64_t ns);

#endif
