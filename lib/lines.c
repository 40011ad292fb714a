/*
 * lines: NDJSON framing over a zio input.
 *
 * One buffer, buf[0..cap).  Unread bytes are buf[start..end); the first
 * `scanned` of them are known to hold no '\n', so a long line is searched
 * once however many reads it takes.  A line is handed out in place (no
 * copy) and NUL-terminated by overwriting its terminator, which has been
 * consumed.  One byte past end is always kept free for the NUL of a last
 * line that has no newline.
 *
 * When no '\n' is left, the partial line (at most one line's worth) is
 * moved to the front and the rest of the buffer is filled with a single
 * read.  The buffer doubles only when a partial line fills it, and never
 * beyond max + 3 (the line, a '\r' that may be stripped, the NUL): once
 * more than max + 1 bytes are held without a '\n' the line is too long
 * whatever follows.  Its first bytes stay at buf[0..keep) and the rest
 * is read through buf[keep..cap) and counted, not stored, so a 10 GiB
 * line costs no more memory than a max-sized one.
 *
 * With lines_set_wait(), every read (the refill's and the skip's) is
 * first probed; a read that would block returns LINES_WAIT instead,
 * with the state as it was, so the next call takes up where this one
 * stopped (a too-long line's skip included) and reads.
 */
#define _GNU_SOURCE /* memrchr */
#include "lines.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "xalloc.h"

#define LINES_INITIAL (64u << 10)
#define LINES_KEEP 1024u /* prefix of a too-long line, for the message */

struct lines {
	struct zin *z;
	char *name;
	char *buf;
	size_t cap, limit;
	size_t max, keep;
	size_t start, end, scanned;
	uint64_t lineno;
	bool eof;
	bool failed;
	bool stream; /* a pipe or socket: an unterminated end is torn */
	bool can_block; /* not a regular file: a read may wait */
	bool wait;      /* lines_set_wait(): LINES_WAIT before such a read */
	bool waited;    /* LINES_WAIT said since the last read: now block */
	/* Skipping the rest of a too-long line (its head at buf[0..keep)):
	 * its length so far and last byte, kept across a LINES_WAIT. */
	bool skipping;
	size_t skip_full;
	char skip_last;
	char errmsg[256]; /* a read error, repeated by later calls */
};

/* Not a regular file (or a block device): a read may wait. */
/* A line of nothing but JSON whitespace (space, tab, CR) holds no
 * record: it is skipped as an empty one is, not read as a document.
 * Only a line that starts with whitespace is looked at further; one
 * longer than max is too long, whatever it holds, on every path. */
static inline bool blank(const char *s, size_t n, size_t max)
{
	if (n > max)
		return false;
	if (n && s[0] != ' ' && s[0] != '\t' && s[0] != '\r')
		return false;
	for (size_t i = 1; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static bool may_block(const struct stat *sb)
{
	return !(S_ISREG(sb->st_mode) || S_ISBLK(sb->st_mode));
}

static struct lines *lines_over(struct zin *z, const char *name, size_t max)
{
	struct lines *l = xcalloc(1, sizeof *l);
	l->z = z;
	l->name = xstrdup(name);
	if (max == 0)
		max = LINES_DEFAULT_MAX;
	if (max > SIZE_MAX / 4) /* keeps max + 3 and doubling in range */
		max = SIZE_MAX / 4;
	l->max = max;
	l->keep = max < LINES_KEEP ? max : LINES_KEEP;
	l->cap = LINES_INITIAL;
	l->limit = max + 3 > l->cap ? max + 3 : l->cap;
	l->buf = xmalloc(l->cap);
	struct stat sb;
	bool st = fstat(zin_fd(z), &sb) == 0;
	l->stream = !zin_compressed(z) && st &&
		    (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
	l->can_block = !st || may_block(&sb);
	return l;
}

struct lines *lines_open(const char *path, size_t max, char *err,
			 size_t errlen)
{
	struct zin *z = zin_open(path, err, errlen);
	if (!z)
		return NULL;
	return lines_over(z, strcmp(path, "-") == 0 ? "<stdin>" : path, max);
}

struct lines *lines_fdopen(int fd, const char *name, size_t max, char *err,
			   size_t errlen)
{
	struct zin *z = zin_fdopen(fd, name, err, errlen);
	if (!z)
		return NULL;
	return lines_over(z, name, max);
}

void lines_set_wait(struct lines *l, bool on)
{
	l->wait = on && l->can_block;
}

bool lines_may_block(const char *path)
{
	struct stat sb;
	int r = strcmp(path, "-") == 0 ? fstat(0, &sb) : stat(path, &sb);
	return r != 0 || may_block(&sb);
}

bool lines_plain_file(const char *path)
{
	bool dash = strcmp(path, "-") == 0;
	struct stat sb;
	/* stat before any open: opening a FIFO waits for its writer, and
	 * closing it again would leave that writer without a reader */
	if ((dash ? fstat(0, &sb) : stat(path, &sb)) != 0 ||
	    !S_ISREG(sb.st_mode))
		return false;
	int fd = dash ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	unsigned char m[4];
	off_t at = dash ? lseek(fd, 0, SEEK_CUR) : 0;
	/* pread fails on anything the path became since the stat */
	ssize_t n = at < 0 ? -1 : pread(fd, m, sizeof m, at);
	if (!dash)
		close(fd);
	return n >= 0 && !zio_magic(m, (size_t)n);
}

static int lines_fail(struct lines *l, char *err, size_t errlen)
{
	l->failed = true;
	if (err && errlen)
		snprintf(err, errlen, "%s", l->errmsg);
	return -1;
}

/* LINES_WAIT before a read that would block, once: the caller flushes,
 * calls again, and that call's read may block. */
static bool lines_would_wait(struct lines *l)
{
	if (!l->wait || l->waited || !zin_would_block(l->z))
		return false;
	l->waited = true;
	return true;
}

static ssize_t lines_read(struct lines *l, char *dst, size_t cap, char *err,
			  size_t errlen)
{
	ssize_t n = zin_read(l->z, dst, cap, l->errmsg, sizeof l->errmsg);
	l->waited = false;
	if (n < 0)
		return lines_fail(l, err, errlen);
	if (n == 0)
		l->eof = true;
	return n;
}

/* Hand out s[0..len) as line lineno, as every caller frames one: a line
 * over max keeps its first keep bytes; NUL-terminated in place. */
static void line_set(struct line *out, char *s, size_t len, uint64_t lineno,
		     size_t max, size_t keep)
{
	out->p = s;
	out->lineno = lineno;
	out->full_len = len;
	out->too_long = len > max;
	out->torn = out->unterminated = false;
	if (out->too_long)
		len = keep;
	out->len = len;
	s[len] = '\0';
}

static int lines_emit(struct lines *l, struct line *out, char *s, size_t len)
{
	line_set(out, s, len, l->lineno, l->max, l->keep);
	return 1;
}

/* Skipping a too-long line: count and drop the rest up to the '\n' (or
 * EOF); its head is at buf[0..keep). */
static int lines_skip_more(struct lines *l, struct line *out, char *err,
			   size_t errlen)
{
	char *buf = l->buf;
	size_t keep = l->keep;
	bool at_eof = false; /* no '\n' ended it: the last line */
	for (;;) {
		if (lines_would_wait(l))
			return LINES_WAIT; /* resumed by the next call */
		ssize_t n = lines_read(l, buf + keep, l->cap - keep - 1, err,
				       errlen);
		if (n < 0)
			return -1;
		if (n == 0) {
			at_eof = true;
			break;
		}
		char *nl = memchr(buf + keep, '\n', (size_t)n);
		if (!nl) {
			l->skip_full += (size_t)n;
			l->skip_last = buf[keep + (size_t)n - 1];
			continue;
		}
		size_t k = (size_t)(nl - (buf + keep));
		l->skip_full += k;
		if (k > 0)
			l->skip_last = nl[-1];
		/* The rest of the read is the next lines. */
		l->start = keep + k + 1;
		l->end = keep + (size_t)n;
		break;
	}
	l->skipping = false;
	size_t full = l->skip_full;
	if (l->skip_last == '\r')
		full--;
	lines_emit(l, out, buf, full);
	/* too long and torn: a pipe's writer stopped mid-line, which is
	 * said as for a short one, not hidden behind the length */
	out->torn = at_eof && l->stream;
	out->unterminated = at_eof;
	return 1;
}

/* The line at start has more than max + 1 bytes and no '\n' yet: keep
 * its head, then skip the rest. */
static int lines_skip_long(struct lines *l, struct line *out, char *err,
			   size_t errlen)
{
	l->skip_full = l->end - l->start;
	l->skip_last = l->buf[l->end - 1];
	memmove(l->buf, l->buf + l->start, l->keep);
	l->start = l->end = l->keep;
	l->scanned = 0;
	l->lineno++;
	l->skipping = true;
	return lines_skip_more(l, out, err, errlen);
}

/* No '\n' in the unread bytes: make room after the partial line and
 * read once more (0 bytes at the end of input sets eof); or LINES_WAIT. */
static int lines_refill(struct lines *l, char *err, size_t errlen)
{
	size_t avail = l->end - l->start;
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, avail);
		l->start = 0;
		l->end = avail;
	}
	if (l->end + 1 >= l->cap) {
		size_t cap = l->cap * 2;
		if (cap > l->limit)
			cap = l->limit;
		l->buf = xrealloc(l->buf, cap);
		l->cap = cap;
	}
	/* one byte past end stays free for a last line's NUL */
	assert(l->end + 1 < l->cap);
	if (lines_would_wait(l))
		return LINES_WAIT;
	ssize_t n = lines_read(l, l->buf + l->end, l->cap - l->end - 1, err,
			       errlen);
	if (n < 0)
		return -1;
	l->end += (size_t)n;
	return 0;
}

int lines_next(struct lines *l, struct line *out, char *err, size_t errlen)
{
	if (l->failed)
		return lines_fail(l, err, errlen);
	if (l->skipping)
		return lines_skip_more(l, out, err, errlen);
	for (;;) {
		char *s = l->buf + l->start;
		size_t avail = l->end - l->start;
		char *nl = NULL;
		if (avail > l->scanned)
			nl = memchr(s + l->scanned, '\n', avail - l->scanned);
		if (nl) {
			size_t len = (size_t)(nl - s);
			l->start += len + 1;
			l->scanned = 0;
			l->lineno++;
			if (len > 0 && s[len - 1] == '\r')
				len--;
			if (blank(s, len, l->max))
				continue;
			return lines_emit(l, out, s, len);
		}
		l->scanned = avail;

		if (l->eof) {
			if (avail == 0)
				return 0;
			/* A last line without '\n'; buf[end] is free. */
			l->start = l->end;
			l->scanned = 0;
			l->lineno++;
			if (s[avail - 1] == '\r')
				avail--;
			if (blank(s, avail, l->max))
				return 0;
			lines_emit(l, out, s, avail);
			out->torn = l->stream;
			out->unterminated = true;
			return 1;
		}
		if (avail > l->max + 1)
			return lines_skip_long(l, out, err, errlen);
		int r = lines_refill(l, err, errlen);
		if (r != 0)
			return r;
	}
}

/* Bytes equal to '\n' in p[0..n).  With SSE2 (every x86-64): 16 at a
 * time, the compare's 0xff bytes summed per lane for up to 255 rounds,
 * then added up with psadbw; a quarter of the portable loop's time, and
 * it runs on lib/par's reader, which every worker waits on. */
static uint64_t count_newlines(const char *p, size_t n)
{
	uint64_t c = 0;
	size_t i = 0;
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	while (i + 16 <= n) {
		__m128i acc = zero;
		size_t rounds = (n - i) / 16;
		if (rounds > 255)
			rounds = 255;
		for (size_t r = 0; r < rounds; r++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
		}
		__m128i sum = _mm_sad_epu8(acc, zero);
		c += (uint64_t)_mm_cvtsi128_si64(sum) +
		     (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
	}
#else
	const uint64_t ones = 0x0101010101010101ull, low7 = ones * 0x7f;
	for (; i + 8 <= n; i += 8) { /* the zero-byte test: exact */
		uint64_t x;
		memcpy(&x, p + i, 8);
		x ^= ones * '\n';
		uint64_t z = ~(((x & low7) + low7) | x | low7) >> 7;
		c += (z * ones) >> 56; /* a 0 or 1 a byte, summed */
	}
#endif
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

int lines_next_span(struct lines *l, struct lines_span *sp, uint64_t max_nl,
		    size_t max_bytes, char *err, size_t errlen)
{
	if (l->failed)
		return lines_fail(l, err, errlen);
	if (l->skipping)
		return 2;
	for (;;) {
		char *s = l->buf + l->start;
		size_t avail = l->end - l->start;
		char *nl = NULL;
		if (avail > l->scanned)
			nl = memrchr(s + l->scanned, '\n', avail - l->scanned);
		if (nl) {
			size_t len = (size_t)(nl - s) + 1;
			if (max_bytes && len > max_bytes) {
				/* through the line that reaches max_bytes:
				 * where a span ends depends on the bytes,
				 * not on what one read returned */
				const char *q = memchr(s + max_bytes - 1, '\n',
						       len - (max_bytes - 1));
				len = (size_t)(q - s) + 1;
			}
			uint64_t n = count_newlines(s, len);
			if (max_nl && n > max_nl) { /* cut after the max_nl-th */
				const char *q = s;
				for (n = 0; n < max_nl; n++)
					q = (const char *)memchr(q, '\n',
						len - (size_t)(q - s)) + 1;
				len = (size_t)(q - s);
			}
			sp->p = s;
			sp->len = len;
			sp->lineno = l->lineno;
			sp->newlines = n;
			l->start += len;
			l->scanned = 0;
			l->lineno += n;
			return 1;
		}
		l->scanned = avail;
		if (l->eof)
			return avail ? 2 : 0;
		if (avail > l->max + 1)
			return 2;
		int r = lines_refill(l, err, errlen);
		if (r != 0)
			return r;
	}
}

size_t lines_frame(char *p, size_t len, uint64_t lineno, size_t max,
		   struct line *out)
{
	size_t keep = max < LINES_KEEP ? max : LINES_KEEP, k = 0;
	char *end = p + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);
		char *s = p;
		p = nl + 1;
		lineno++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (blank(s, n, max))
			continue;
		line_set(&out[k++], s, n, lineno, max, keep);
	}
	return k;
}

unsigned long long lines_bytes(const struct lines *l)
{
	return zin_raw_bytes(l->z);
}

size_t lines_max(const struct lines *l)
{
	return l->max;
}

const char *lines_name(const struct lines *l)
{
	return l->name;
}

int lines_fd(const struct lines *l)
{
	return zin_fd(l->z);
}

void lines_close(struct lines *l)
{
	if (!l)
		return;
	zin_close(l->z);
	free(l->buf);
	free(l->name);
	free(l);
}
