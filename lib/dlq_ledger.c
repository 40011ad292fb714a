#define _GNU_SOURCE /* memrchr */
#include "dlq_ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "commit.h"
#include "errbuf.h"
#include "scan.h"
#include "statefile.h"
#include "xalloc.h"

#define LEDGER_KIND "dlqrply"
/* 1 had no base line count, 2 no delivered; before 4 the fingerprints
 * were of the text form (VALUE_KEYS_TEXT): such a ledger is read with
 * it, so a record it handed out is known again when it fails again.
 * 5: which file it is of, after delivered (struct file_id).  6: the run
 * (struct dlq_ledger_run), after the file. */
#define LEDGER_VERSION 6
#define ENTRY 32
#define ID_PREFIX 4096

/*
 * The file a ledger is of: its device and inode, and its first bytes up
 * to its last newline within ID_PREFIX (whole lines, which only appends
 * follow while the replay is pending: a torn tail a killed writer left
 * may be cut, never a line before it).  The bytes tell a file removed
 * and made again on the same inode number; the inode, a copy.
 */
struct file_id {
	uint64_t dev, ino, len, hash; /* all 0: unknown */
};

static struct file_id file_id_of(const char *path, uint64_t want_len)
{
	struct file_id id = {0};
	char b[ID_PREFIX];
	struct stat fs;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return id;
	size_t got = 0;
	size_t want = want_len == UINT64_MAX ? sizeof b : (size_t)want_len;
	while (got < want) {
		ssize_t r = read(fd, b + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (fstat(fd, &fs) == 0) {
		id.dev = (uint64_t)fs.st_dev;
		id.ino = (uint64_t)fs.st_ino;
		if (want_len == UINT64_MAX) { /* whole lines */
			const char *nl = got ? memrchr(b, '\n', got) : NULL;
			got = nl ? (size_t)(nl - b) + 1
				 : got == sizeof b ? got : 0;
		}
		id.len = got;
		id.hash = XXH3_64bits(b, got);
	}
	close(fd);
	return id;
}

char *dlq_ledger_path(const char *dlq_path)
{
	size_t n = strlen(dlq_path);
	char *p = xmalloc(n + sizeof ".replay");
	memcpy(p, dlq_path, n);
	memcpy(p + n, ".replay", sizeof ".replay");
	return p;
}

struct fp128 dlq_ledger_fp(const char *rec, size_t len, bool is_json,
			   enum value_keys keys, struct buf *scratch)
{
	if (is_json)
		return value_fingerprint_as(keys, rec, len, scratch);
	XXH128_hash_t h = XXH3_128bits_withSeed(rec, len, 1);
	struct fp128 fp = {h.low64, h.high64};
	return fp;
}

uint64_t dlq_ledger_run_id(void)
{
	uint64_t id = 0;
	size_t got = 0;
	while (got < sizeof id) {
		ssize_t r = getrandom((char *)&id + got, sizeof id - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof id) { /* no getrandom: still unlike any other run */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t seed[3] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec,
				    (uint64_t)getpid()};
		id = XXH3_64bits(seed, sizeof seed);
	}
	return id ? id : 1;
}

void dlq_ledger_run_hex(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

uint64_t dlq_line_hash(const char *line, size_t len)
{
	return XXH3_64bits(line, len);
}

int dlq_ledger_write(const char *dlq_path, const struct dlq_ledger_entry *e,
		     size_t n, uint64_t base_lines, bool delivered,
		     const struct dlq_ledger_run *run, char *err,
		     size_t errlen)
{
	struct buf b = {0};
	struct file_id id = file_id_of(dlq_path, UINT64_MAX);
	state_put_u64(&b, n);
	state_put_u64(&b, base_lines);
	state_put_u64(&b, delivered);
	state_put_u64(&b, id.dev);
	state_put_u64(&b, id.ino);
	state_put_u64(&b, id.len);
	state_put_u64(&b, id.hash);
	state_put_u64(&b, run ? run->id : 0);
	state_put_u64(&b, run && run->fed);
	for (size_t k = 0; k < n; k++) {
		state_put_u64(&b, e[k].line_hash);
		state_put_u64(&b, e[k].fp.lo);
		state_put_u64(&b, e[k].fp.hi);
		state_put_u64(&b, e[k].retry_count);
	}
	char *path = dlq_ledger_path(dlq_path);
	struct state_writer *w = state_write_begin(path, LEDGER_KIND,
						   LEDGER_VERSION, b.len, err,
						   errlen);
	free(path);
	int rc = -1;
	if (w && state_write(w, b.p, b.len, err, errlen) != 0)
		state_write_abort(w);
	else if (w)
		rc = state_write_end(w, err, errlen);
	buf_free(&b);
	return rc;
}

int dlq_ledger_read(const char *dlq_path, struct dlq_ledger_entry **e,
		    size_t *n, uint64_t *base_lines, bool *delivered,
		    enum value_keys *keys, bool *orphan,
		    struct dlq_ledger_run *run, char *err, size_t errlen)
{
	char *path = dlq_ledger_path(dlq_path);
	uint32_t version;
	uint64_t len;
	err[0] = '\0';
	struct state_reader *r = state_read_begin(path, LEDGER_KIND,
						  LEDGER_VERSION, &version,
						  &len, err, errlen);
	free(path);
	if (!r)
		return err[0] ? -1 : 0;
	unsigned char *data = state_read_all(r, len, err, errlen);
	if (!data)
		return -1;
	const unsigned char *p = data, *end = data + len;
	uint64_t count, base = UINT64_MAX; /* version 1: the whole file */
	uint64_t done = 1;                  /* before 3: as taken then */
	struct file_id was = {0};           /* before 5: unknown */
	uint64_t run_id = 0, fed = 0;       /* before 6: no id */
	if (state_get_u64(&p, end, &count) ||
	    (version >= 2 && state_get_u64(&p, end, &base)) ||
	    (version >= 3 && (state_get_u64(&p, end, &done) || done > 1)) ||
	    (version >= 5 && (state_get_u64(&p, end, &was.dev) ||
			      state_get_u64(&p, end, &was.ino) ||
			      state_get_u64(&p, end, &was.len) ||
			      state_get_u64(&p, end, &was.hash) ||
			      was.len > ID_PREFIX)) ||
	    (version >= 6 && (state_get_u64(&p, end, &run_id) ||
			      state_get_u64(&p, end, &fed) || fed > 1)) ||
	    count != (uint64_t)(end - p) / ENTRY || (end - p) % ENTRY) {
		errbuf_set(err, errlen, "%s.replay: damaged ledger", dlq_path);
		free(data);
		return -1;
	}
	if (base_lines)
		*base_lines = base;
	if (delivered)
		*delivered = done == 1;
	if (run)
		*run = (struct dlq_ledger_run){run_id, fed == 1};
	if (keys)
		*keys = version < 4 ? VALUE_KEYS_TEXT : VALUE_KEYS_INSTANT;
	if (orphan) {
		struct file_id is = was.dev || was.ino
					    ? file_id_of(dlq_path, was.len)
					    : was;
		*orphan = memcmp(&is, &was, sizeof is) != 0;
	}
	*e = xcalloc(count + 1, sizeof **e);
	for (uint64_t k = 0; k < count; k++) {
		struct dlq_ledger_entry *x = &(*e)[k];
		/* the count was checked against the length: these hold */
		state_get_u64(&p, end, &x->line_hash);
		state_get_u64(&p, end, &x->fp.lo);
		state_get_u64(&p, end, &x->fp.hi);
		state_get_u64(&p, end, &x->retry_count);
	}
	*n = (size_t)count;
	free(data);
	return 1;
}

int dlq_ledger_remove(const char *dlq_path, char *err, size_t errlen)
{
	char *path = dlq_ledger_path(dlq_path);
	int rc = 0;
	if (unlink(path) != 0 && errno != ENOENT) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int lock_current(const char *path, int flags, int op)
{
	for (;;) {
		int fd = open(path, flags | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		int r;
		while ((r = flock(fd, op)) < 0 && errno == EINTR)
			;
		if (r == 0 && same_file(fd, path))
			return fd;
		close(fd); /* replaced while we waited: take the new one */
	}
}

bool dlq_tail_torn(int fd)
{
	struct stat sb;
	char c;
	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
	       pread(fd, &c, 1, sb.st_size - 1) == 1 && c != '\n';
}

/*
 * An unterminated tail p[0..n) that is a whole JSON object or array is a
 * last line written without its newline (by hand, by an editor), or a
 * write cut just before it: a write cut anywhere else cannot close what
 * it opened.  It is a record, as a reader of the file takes it: ended
 * with its newline, not cut.  (A bare number could be a cut one: "12"
 * of "123".)
 */
static bool tail_whole(const char *p, size_t n)
{
	size_t i = scan_ws(p, n, 0);
	return i < n && (p[i] == '{' || p[i] == '[') &&
	       scan_validate(p, n, NULL) == 0;
}

/* The most of a tail tail_whole reads: a longer one is no line a tool
 * wrote (lines.h's default bound). */
#define TAIL_WHOLE_MAX (64u << 20)

int64_t dlq_cut_torn(const char *dlq_path, char *err, size_t errlen)
{
	/* Only a regular file has a tail to cut.  A named pipe opened (read
	 * and write, which never waits) and closed here woke its reader,
	 * which took the close for the end and left: the writer's own open
	 * then waited for ever, its letters never read. */
	struct stat ls;
	if (lstat(dlq_path, &ls) == 0 && !S_ISREG(ls.st_mode))
		return 0;
	/* O_NOFOLLOW: a link to a stream (/dev/stderr) is not ours to cut,
	 * and one to a file is refused by its writers anyway. */
	int fd = lock_current(dlq_path, O_RDWR | O_NOFOLLOW, LOCK_EX);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == EACCES ||
		    errno == ENXIO || errno == EISDIR)
			return 0;
		errbuf_set(err, errlen, "%s: %s", dlq_path, strerror(errno));
		return -1;
	}
	struct stat sb;
	if (!dlq_tail_torn(fd) || fstat(fd, &sb) != 0) {
		close(fd);
		return 0;
	}
	/* Back to the newline before the torn line (or the start). */
	off_t end = sb.st_size, at = end;
	char chunk[4096];
	while (at > 0) {
		off_t from = at > (off_t)sizeof chunk ? at - (off_t)sizeof chunk
						       : 0;
		ssize_t r = pread(fd, chunk, (size_t)(at - from), from);
		if (r != at - from) {
			errbuf_set(err, errlen, "%s: read: %s", dlq_path,
				r < 0 ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		char *nl = NULL;
		for (ssize_t k = r - 1; k >= 0 && !nl; k--)
			if (chunk[k] == '\n')
				nl = chunk + k;
		if (nl) {
			at = from + (nl - chunk) + 1;
			break;
		}
		at = from;
	}
	if (end - at <= (off_t)TAIL_WHOLE_MAX) {
		size_t tn = (size_t)(end - at);
		char *tail = xmalloc(tn);
		bool whole = pread(fd, tail, tn, at) == (ssize_t)tn &&
			     tail_whole(tail, tn);
		free(tail);
		if (whole) {
			if (pwrite(fd, "\n", 1, end) != 1 || fsync(fd) != 0) {
				errbuf_set(err, errlen, "%s: ending its last "
					"line: %s", dlq_path, strerror(errno));
				close(fd);
				return -1;
			}
			close(fd);
			return 0;
		}
	}
	if (ftruncate(fd, at) != 0 || fsync(fd) != 0) {
		errbuf_set(err, errlen, "%s: cutting a torn last line: %s",
			dlq_path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return (int64_t)(end - at);
}

int dlq_append_lock(int fd, const char *path)
{
	int r;
	while ((r = flock(fd, LOCK_SH)) < 0 && errno == EINTR)
		;
	if (r < 0) /* a pipe or a file system without flock: no protocol */
		return fd;
	if (same_file(fd, path))
		return fd;
	close(fd);
	/* Readable too, so dlq_put can look at the file's last byte. */
	int nfd = lock_current(path, O_RDWR | O_APPEND | O_CREAT, LOCK_SH);
	if (nfd < 0 && errno == EACCES)
		nfd = lock_current(path, O_WRONLY | O_APPEND | O_CREAT,
				   LOCK_SH);
	return nfd;
}

int dlq_rewrite(const char *dlq_path,
		bool (*fn)(void *ctx, uint64_t lineno, const char *line,
			   size_t len, struct buf *out),
		void *ctx, uint64_t *cut, char *err, size_t errlen)
{
	/* A rewrite replaces the file: never through a planted symlink. */
	int fd = lock_current(dlq_path, O_RDWR | O_CREAT | O_NOFOLLOW,
			      LOCK_EX);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: %s", dlq_path,
			errno == ELOOP ? "is a symbolic link; refusing to "
					 "rewrite through it"
				       : strerror(errno));
		return -1;
	}
	/* Every rewriter holds this lock from its temp file's birth to its
	 * rename: the temps found now are those of killed rewrites. */
	if (commit_clean_stale(dlq_path, NULL, NULL, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	struct buf in = {0}, out = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errbuf_set(err, errlen, "%s: read: %s", dlq_path,
				strerror(errno));
			goto fail;
		}
		buf_add(&in, chunk, (size_t)r);
	}
	/* a whole last line without its newline is a line (tail_whole) */
	const char *last = in.len ? memrchr(in.p, '\n', in.len) : NULL;
	size_t from = last ? (size_t)(last - in.p) + 1 : 0;
	if (from < in.len && tail_whole(in.p + from, in.len - from))
		buf_addc(&in, '\n');
	size_t i = 0;
	uint64_t lineno = 0;
	if (cut)
		*cut = 0;
	while (i < in.len) {
		char *nl = memchr(in.p + i, '\n', in.len - i);
		if (!nl) { /* torn: no write is in flight under our lock */
			if (cut)
				*cut = in.len - i;
			break;
		}
		size_t end = (size_t)(nl - in.p);
		/* CRLF is a newline, as lines_next() reads it: a replay
		 * names its lines by the hash of the bytes before it */
		size_t stop = end > i && in.p[end - 1] == '\r' ? end - 1 : end;
		lineno++;
		/* blank as lines_next() has it (only spaces, tabs, CRs): no
		 * envelope, and not one of the lines a replay's ledger counts,
		 * which its rollback counts again through fn */
		size_t k = i;
		while (k < stop && (in.p[k] == ' ' || in.p[k] == '\t' ||
				    in.p[k] == '\r'))
			k++;
		if (k < stop && !fn(ctx, lineno, in.p + i, stop - i, &out)) {
			buf_free(&in);
			buf_free(&out);
			close(fd);
			return 1;
		}
		i = end + 1;
	}
	if (commit_replace(dlq_path, out.p ? out.p : "", out.len, err,
			   errlen) != 0)
		goto fail;
	buf_free(&in);
	buf_free(&out);
	close(fd); /* and with it the lock: writers wake to the new file */
	return 0;
fail:
	buf_free(&in);
	buf_free(&out);
	close(fd);
	return -1;
}
