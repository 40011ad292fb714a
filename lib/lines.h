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
	bool torn;       /* a pipe's last line, without its newline
			  * (too long or not) */
	bool unterminated; /* the last line, without its newline */
	size_t full_len; /* when too_long: the whole length */
};

#define LINES_TORN_MSG "unterminated last line from a pipe (its writer " \
	"stopped mid-line)"

/* path "-" is stdin. */
struct lines *lines_open(const char *path, size_t max, char *err,
			 size_t errlen);
/* The same over fd (above 0), read from where it stands and closed by
 * lines_close (not on failure: the caller still owns it then); name is
 * what messages call it. */
struct lines *lines_fdopen(int fd, const char *name, size_t max, char *err,
			   size_t errlen);
/* 1 a line, 0 end of input, -1 read error (err set); LINES_WAIT only
 * after lines_set_wait(). */
int lines_next(struct lines *l, struct line *out, char *err, size_t errlen);
/*
 * The input would block: a pipe, socket or terminal has no byte ready
 * now and nothing is buffered (zin_would_block).  After
 * lines_set_wait(l, true), lines_next() and lines_next_span() return it
 * instead of such a read, once: the caller finishes and flushes what it
 * has read so far, then calls again, and that call's read may block.
 * So `tail -f log | tool` shows each record as it comes.  Never for a
 * regular file, so files pay no poll().
 */
#define LINES_WAIT 3
void lines_set_wait(struct lines *l, bool on);
/* Opening or reading path ("-": stdin) may block: not a regular file.
 * Between inputs a loop flushes first when the next one may. */
bool lines_may_block(const char *path);
/* path ("-": stdin, from its offset) is a regular file whose first bytes
 * are no gzip or zstd magic: reading it is a read() and a copy, cheap
 * enough for any thread to take its turn (lib/par).  False when unsure
 * (it cannot be opened or read): the caller takes the general path,
 * which says why. */
bool lines_plain_file(const char *path);
/*
 * Whole lines in bulk, for lib/par's reader: a span of every complete
 * line buffered, as read (terminators, CR and blank lines included),
 * framed later by lines_frame() on any thread.  The span is valid until
 * the next call.  Returns 1 a span (at most max_nl lines, and none past
 * the line that reaches max_bytes: so a caller filling chunks of a size
 * cuts them where the bytes fall, from a file or a pipe alike; 0: no
 * bound), 2 the next line needs lines_next() (too long, or the last line
 * without a newline), 0 end of input, -1 read error (err set), or
 * LINES_WAIT (above).
 */
struct lines_span {
	const char *p;
	size_t len;       /* ends with '\n' */
	uint64_t lineno;  /* the number of the line before the span's */
	uint64_t newlines;
};
int lines_next_span(struct lines *l, struct lines_span *sp, uint64_t max_nl,
		    size_t max_bytes, char *err, size_t errlen);
/* Split a span's copy p[0..len) into out[] exactly as lines_next()
 * would (numbers from lineno + 1, CR stripped, blank lines skipped, a
 * line over max marked too_long), NUL-terminating each line in place.
 * out needs room for a line per '\n'.  Returns the lines written. */
size_t lines_frame(char *p, size_t len, uint64_t lineno, size_t max,
		   struct line *out);
/* Bytes consumed from the source (compressed, when it is). */
unsigned long long lines_bytes(const struct lines *l);
const char *lines_name(const struct lines *l);
/* The descriptor read, to poll it with others after a LINES_WAIT. */
int lines_fd(const struct lines *l);
size_t lines_max(const struct lines *l); /* max, as lines_open set it */
void lines_close(struct lines *l);

#endif
