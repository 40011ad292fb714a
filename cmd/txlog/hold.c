/*
 * Opening data files to read, and holding them open.
 *
 * A reader opens every data file it will read before it writes its
 * first row or file (txlog_hold), and then reads each through the
 * descriptor it holds: a vacuum that unlinks one meanwhile cannot take
 * its bytes away, since POSIX keeps an unlinked file while a descriptor
 * is open.  So a cat gives the whole snapshot or refuses before any row,
 * never some rows and then exit 2, and a rewrite reads every file it
 * removes.  A file that is gone already is named before anything is
 * read.
 *
 * The files are held by path (a changes run reads a file named by
 * several versions) until txlog_unhold or the end of the process; each
 * read gets its own descriptor (txlog_data_fd), rewound, so that a file
 * can be read twice.  The checksum is taken on the descriptor read, so
 * the bytes checked are the bytes read; the size, which every add gives
 * and which alone tells another writer's file cut between two zstd
 * frames, is checked when a file is held, so before any row.  Memory: a
 * path and an int a file.  More files than the open-file limit lets a
 * process hold (with room kept for the rest of the run, and counting
 * the descriptors open already) are not held: that is said, and they
 * are opened one at a time when read, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "lines.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"

bool file_xxh3_fd(int fd, char out[33], int64_t *size)
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		cli_die(EXIT_TROUBLE, "out of memory");
	XXH3_128bits_reset(st);
	/* From the heap, not thread-local: a 64 KiB TLS block is cleared
	 * at every txlog start, 16 page faults (~0.17 ms) in every process,
	 * most of which never hash a file. */
	enum { chunk = 65536 };
	char *b = xmalloc(chunk);
	int64_t n = 0;
	bool ok = true;
	for (;;) {
		ssize_t r = pread(fd, b, chunk, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		XXH3_128bits_update(st, b, (size_t)r);
		n += r;
	}
	free(b);
	XXH128_hash_t h = XXH3_128bits_digest(st);
	XXH3_freeState(st);
	value_fp_hex((struct fp128){h.low64, h.high64}, out);
	*size = n;
	return ok;
}

bool file_xxh3(const char *path, char out[33], int64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = file_xxh3_fd(fd, out, size);
	int e = errno;
	close(fd);
	errno = e;
	return ok;
}

void need_files(const struct dl_snapshot *s, struct dl_file *const *live,
		size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		b.len = 0;
		buf_addf(&b, "%s/%s", s->table, live[i]->path);
		struct stat st;
		if (lstat(b.p, &st) == 0 || errno != ENOENT)
			continue; /* other trouble is open_data's to report */
		cli_die(EXIT_TROUBLE, "%s: version %lld needs %s, which is "
			"gone (vacuumed?): time travel to version %lld is no "
			"longer possible; nothing read", s->table,
			(long long)s->version, live[i]->path,
			(long long)s->version);
	}
	buf_free(&b);
}

/* ---- the held files: open addressing by path ---- */

struct held {
	char *path; /* NULL: an empty slot */
	int fd;     /* -1: let go */
};
static struct held *held;
static size_t held_cap; /* slots, a power of two; 0: none held */

static size_t held_slot(const char *path)
{
	size_t m = held_cap - 1;
	size_t i = (size_t)XXH3_64bits(path, strlen(path)) & m;
	while (held[i].path && strcmp(held[i].path, path) != 0)
		i = (i + 1) & m;
	return i;
}

void txlog_release(void)
{
	for (size_t i = 0; i < held_cap; i++) {
		if (held[i].path && held[i].fd >= 0)
			close(held[i].fd);
		free(held[i].path);
	}
	free(held);
	held = NULL;
	held_cap = 0;
}

void txlog_unhold(const struct dl_file *f)
{
	if (!held_cap)
		return;
	struct held *h = &held[held_slot(f->path)];
	if (h->path && h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

/* Open table/path for reading: a regular file, never through a
 * symlink, never a FIFO that would hang the reader.  The descriptor is
 * above 2 (lines_fdopen takes 0 for stdin).  -1 with errno, or with
 * errno 0 and msg set for what is no data file. */
static int open_regular(const char *table, const char *path, char *msg,
			size_t len, int64_t *size)
{
	struct buf b = {0};
	buf_addf(&b, "%s/%s", table, path);
	int fd;
	do
		fd = open(b.p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	buf_free(&b);
	struct stat st;
	if (fd < 0 && errno == ELOOP) {
		snprintf(msg, len, "%s: the log names a symlink: '%s'; "
			 "refusing", table, path);
		errno = 0;
		return -1;
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, len, "%s: the log names '%s', which is not a "
			 "regular file; refusing", table, path);
		close(fd);
		errno = 0;
		return -1;
	}
	*size = (int64_t)st.st_size;
	(void)fcntl(fd, F_SETFL, 0); /* O_NONBLOCK off */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (fd <= 2) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		int e = errno;
		close(fd);
		errno = e;
		fd = hi;
	}
	return fd;
}

/* Whether f's add gives a size that is not the file's: the file was cut
 * short or added to.  Another writer's file has no checksum, and a cut
 * between two zstd frames reads as a whole stream of fewer rows. */
static bool size_differs(const struct dl_file *f, int64_t size)
{
	const char *v;
	size_t vn;
	return f->action && scan_get(f->action, f->action_len, "size", &v,
				     &vn) && size != f->size;
}

static void say_unheld(const char *table, size_t n, long long lim)
{
	cli_warn("%s: %zu data files to read, more than the open-file limit "
		 "(%lld) lets txlog hold open at once; reading them one at a "
		 "time: a vacuum meanwhile may stop this read after some rows",
		 table, n, lim);
}

/* strict: a reader's hold (txlog_hold); else verify's (txlog_hold_found) */
static const struct dl_file *hold(const char *table,
				  struct dl_file *const *fs, size_t n,
				  bool strict)
{
	txlog_release();
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += fs[i] != NULL;
	if (!count)
		return NULL;
	/* room kept for what the run opens besides: threads' reads, the
	 * files a rewrite writes, the log */
	cli_many_files(count > (1u << 20) ? 1u << 20 : (unsigned)count + 64);
	/* descriptors are numbered from the lowest free one: a held one
	 * numbered past the limit less the spare is one too many (the
	 * process holds others already) */
	struct rlimit rl = {0};
	rlim_t top = RLIM_INFINITY;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t spare = rl.rlim_cur / 4 > 1024 ? 1024 : rl.rlim_cur / 4;
		top = rl.rlim_cur - spare;
		if (count > top) {
			say_unheld(table, count, (long long)rl.rlim_cur);
			return NULL;
		}
	}
	for (held_cap = 16; held_cap < 2 * count; held_cap *= 2)
		;
	held = xcalloc(held_cap, sizeof *held);
	char msg[1024];
	for (size_t i = 0; i < n; i++) {
		const struct dl_file *f = fs[i];
		if (!f)
			continue;
		struct held *h = &held[held_slot(f->path)];
		if (h->path)
			continue; /* named twice: held once */
		int64_t size;
		int fd = open_regular(table, f->path, msg, sizeof msg, &size);
		if (fd < 0 && !strict && errno != EMFILE && errno != ENFILE)
			continue; /* verify opens it again, and says why */
		if (fd >= 0 && strict && size_differs(f, size)) {
			close(fd);
			txlog_release();
			cli_die(EXIT_TROUBLE, "%s: %s: damaged data file (its "
				"size differs from the log's); run txlog verify",
				table, f->path);
		}
		if (fd < 0) {
			int e = errno;
			txlog_release();
			if (e == ENOENT)
				return f;
			if (e == EMFILE || e == ENFILE) {
				say_unheld(table, count, (long long)rl.rlim_cur);
				return NULL;
			}
			if (e)
				snprintf(msg, sizeof msg, "%s: %s: %s (data "
					 "file of version %lld)", table,
					 f->path, strerror(e),
					 (long long)f->version);
			cli_die(EXIT_TROUBLE, "%s", msg);
		}
		h->path = xstrdup(f->path);
		h->fd = fd;
		if (top != RLIM_INFINITY && (rlim_t)fd >= top) {
			txlog_release();
			say_unheld(table, count, (long long)rl.rlim_cur);
			return NULL;
		}
	}
	return NULL;
}

const struct dl_file *txlog_hold(const char *table,
				 struct dl_file *const *fs, size_t n)
{
	return hold(table, fs, n, true);
}

void txlog_hold_found(const char *table, struct dl_file *const *fs,
		      size_t n)
{
	(void)hold(table, fs, n, false);
}

int txlog_data_fd(const struct dl_snapshot *s, const struct dl_file *f,
		  char *msg, size_t len)
{
	struct held *h = held_cap ? &held[held_slot(f->path)] : NULL;
	if (h && h->path && h->fd >= 0) {
		/* a descriptor of its own, at the start: a dup shares the
		 * offset, and no two threads read one file */
		int fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
			snprintf(msg, len, "%s: %s: %s (data file of version "
				 "%lld)", s->table, f->path, strerror(errno),
				 (long long)f->version);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	int64_t size;
	int fd = open_regular(s->table, f->path, msg, len, &size);
	if (fd < 0 && errno)
		snprintf(msg, len, "%s: %s: %s (data file of version %lld)",
			 s->table, f->path, strerror(errno),
			 (long long)f->version);
	return fd;
}

struct lines *open_data_msg(const struct dl_snapshot *s,
			    const struct dl_file *f, char *msg, size_t len)
{
	int fd = txlog_data_fd(s, f, msg, len);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) == 0 && size_differs(f, (int64_t)st.st_size)) {
		snprintf(msg, len, "%s: %s: damaged data file (its size "
			 "differs from the log's); run txlog verify", s->table,
			 f->path);
		close(fd);
		return NULL;
	}
	/* What txlog wrote it checks when reading it back: the bytes must
	 * be those the add's size and idem.xxh3_128 tag name, or a damaged
	 * file would come out as wrong records.  XXH3 over the compressed
	 * bytes is a small part of decompressing them (a file of another
	 * writer, without the tag, is read as it is; verify checks it). */
	/* (the tag decoded: a spelling with escapes must not pass for
	 * sealed and go unchecked) */
	char *want = txlog_file_seal(f);
	char sum[33];
	int64_t size;
	bool bad = want && file_xxh3_fd(fd, sum, &size) &&
		   (size != f->size || strcmp(sum, want) != 0);
	free(want);
	if (bad) {
		snprintf(msg, len, "%s: %s: damaged data file (its %s "
			 "differs from the log's); run txlog verify", s->table,
			 f->path, size != f->size ? "size" : "checksum");
		close(fd);
		return NULL;
	}
	/* the stream's name starts its errors: "TABLE: FILE: what", the
	 * form of every other message about a data file (a path made of
	 * the two named the file twice and hid the table) */
	struct buf b = {0};
	buf_addf(&b, "%s: %s", s->table, f->path);
	char err[512];
	struct lines *l = lines_fdopen(fd, b.p, LINES_DEFAULT_MAX, err,
				       sizeof err);
	if (!l) {
		snprintf(msg, len, "%s (data file of version %lld)", err,
			 (long long)f->version);
		close(fd);
	}
	buf_free(&b);
	return l;
}

char *txlog_file_seal(const struct dl_file *f)
{
	char *sum = dl_file_tag(f, "idem.xxh3_128");
	if (sum && (strlen(sum) != 32 ||
		    strspn(sum, "0123456789abcdef") != 32)) {
		free(sum);
		sum = NULL;
	}
	return sum;
}

bool txlog_file_sealed(const struct dl_file *f)
{
	char *sum = txlog_file_seal(f);
	bool sealed = sum != NULL;
	free(sum);
	return sealed;
}

struct lines *open_data(const struct dl_snapshot *s, const struct dl_file *f)
{
	char msg[1024];
	struct lines *l = open_data_msg(s, f, msg, sizeof msg);
	if (!l)
		cli_die(EXIT_TROUBLE, "%s", msg);
	return l;
}
