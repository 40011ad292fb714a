/*
 * lines: NDJSON framing over a zio input.  Hands out one line at a time
 * without the terminator (LF or CRLF), numbering lines as an editor
 * would (blank lines count but are not handed out).  A last line without
 * a newline is a line, except from a pipe or socket, where it comes back
 * with torn set: a writer killed mid-write leaves exactly that, and a
 * fragment must never pass for a record (callers set it aside as a bad
 * record of type "torn_line", not replayable).  A line longer than max bytes is not held in
 * memory: it comes back with too_long set, its first bytes in p, and the
 * rest skipped, so the caller can report it as a bad record and go on.
 *
 * The bytes stay valid until the next lines_next().  The buffer grows to
 * the longest line seen (up to max) and is reused: no allocation per line.
 */
#ifndef IDEM_LINES_H
#define IDEM_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zio.h"

#define LINES_DEFAULT_MAX (64u << 20) /* 64 MiB */

struct lines;

struct line {
	const char *p;
	size_t len;      /* when too_long: the bytes kept (a prefix) */
	uint64_t lineno; /* 1-based */
	bool too_long;
	bool torn;       /* a pipe's last line, without its newline */
	bool unterminated; /* the last line, without its newline */
	size_t full_len; /* when too_long: the whole length */
};

#define LINES_TORN_MSG "unterminated last line from a pipe (its writer " \
	"stopped mid-line)"

/* path "-" is stdin. */
struct lines *lines_open(const char *path, size_t max, char *err,
			 size_t errlen);
/* 1 a line, 0 end of input, -1 read error (err set). */
int lines_next(struct lines *l, struct line *out, char *err, size_t errlen);
/* Bytes consumed from the source (compressed, when it is). */
unsigned long long lines_bytes(const struct lines *l);
const char *lines_name(const struct lines *l);
void lines_close(struct lines *l);

#endif
