/*
 * shim: I/O faults for tests, by LD_PRELOAD.  It stands in front of the
 * calls that change files and makes the N-th of them fail, so a test can
 * prove that a tool reports ENOSPC and EIO and leaves its old state whole.
 *
 *   IDEM_IOFAULT=OP:N:ERR[,OP:N:ERR]...
 *       the N-th call of OP fails with ERR (ENOSPC, EIO, EFBIG, EDQUOT);
 *       ERR/short on write: the call writes half its bytes, returns the
 *       short count, and the next write fails with ERR (as a full disk
 *       does mid-buffer)
 *   IDEM_IOFAULT_DIR=DIR
 *       only calls on paths (or descriptors of files) under DIR count;
 *       DIR must be a real path (no symlinks)
 *   IDEM_IOFAULT_COUNT=FILE
 *       append "OP COUNT" lines to FILE at exit: how many calls of each OP
 *       the run made under DIR, so a driver knows which N exist
 *
 * OP is write pwrite fsync fdatasync rename renameat link linkat open
 * (open and openat with O_CREAT), mkstemp (and mkostemp), close (of a descriptor
 * written to), ftruncate, unlink (and unlinkat: vacuum's deletes).  The
 * variables are read once and removed from the environment, so a child
 * (checkpoint run's CMD) runs unfaulted.  stdio writes go through glibc's
 * internal write and are not seen; the tools write files with write(2).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../preload.h"

enum op {
	OP_WRITE, OP_PWRITE, OP_FSYNC, OP_FDATASYNC, OP_RENAME, OP_RENAMEAT,
	OP_LINK, OP_LINKAT, OP_OPEN, OP_MKSTEMP, OP_CLOSE, OP_FTRUNCATE,
	OP_UNLINK, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write", "pwrite", "fsync", "fdatasync", "rename", "renameat",
	"link", "linkat", "open", "mkstemp", "close", "ftruncate", "unlink",
};

#define MAX_SPECS 16

struct spec {
	enum op op;
	unsigned long at;
	int err;
	int is_short;
};

static int ready;
static struct spec specs[MAX_SPECS];
static int nspecs;
static unsigned long counts[OP_COUNT];
static char dir[4096];
static size_t dirlen;
static char count_file[4096];
static int pending_err; /* after a short write: the next write fails */

static int parse_err(const char *s, size_t n)
{
	static const struct { const char *name; int e; } t[] = {
		{"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EFBIG", EFBIG},
		{"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"EACCES", EACCES},
	};
	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
		if (strlen(t[k].name) == n && memcmp(t[k].name, s, n) == 0)
			return t[k].e;
	return 0;
}

static void parse_spec(const char *s, size_t n)
{
	char buf[128];
	if (n == 0 || n >= sizeof buf || nspecs == MAX_SPECS)
		return;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *c1 = strchr(buf, ':');
	if (!c1)
		return;
	*c1++ = '\0';
	char *c2 = strchr(c1, ':');
	if (!c2)
		return;
	*c2++ = '\0';
	struct spec sp = {0};
	int found = 0;
	for (int k = 0; k < OP_COUNT; k++)
		if (strcmp(buf, op_names[k]) == 0) {
			sp.op = (enum op)k;
			found = 1;
		}
	char *end;
	sp.at = strtoul(c1, &end, 10);
	if (!found || *end || sp.at == 0)
		return;
	char *slash = strchr(c2, '/');
	size_t elen = slash ? (size_t)(slash - c2) : strlen(c2);
	sp.err = parse_err(c2, elen);
	if (!sp.err)
		return;
	sp.is_short = slash && strcmp(slash + 1, "short") == 0;
	specs[nspecs++] = sp;
}

static void report(void)
{
	if (!count_file[0])
		return;
	char line[4096];
	size_t len = 0;
	for (int k = 0; k < OP_COUNT; k++)
		if (counts[k])
			len += (size_t)snprintf(line + len, sizeof line - len,
						"%s %lu\n", op_names[k],
						counts[k]);
	/* Raw syscalls: the wrappers below would count these too. */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, count_file,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		syscall(SYS_write, fd, line, len);
		syscall(SYS_close, fd);
	}
}

static void init(void)
{
	if (ready)
		return;
	ready = 1;
	const char *v = getenv("IDEM_IOFAULT");
	if (v) {
		while (*v) {
			const char *comma = strchr(v, ',');
			size_t n = comma ? (size_t)(comma - v) : strlen(v);
			parse_spec(v, n);
			v += n + (comma != NULL);
		}
	}
	const char *d = getenv("IDEM_IOFAULT_DIR");
	if (d && strlen(d) < sizeof dir) {
		strcpy(dir, d);
		dirlen = strlen(dir);
		while (dirlen > 1 && dir[dirlen - 1] == '/')
			dir[--dirlen] = '\0';
	}
	const char *cf = getenv("IDEM_IOFAULT_COUNT");
	if (cf && strlen(cf) < sizeof count_file) {
		strcpy(count_file, cf);
		atexit(report);
	}
	unsetenv("IDEM_IOFAULT");
	unsetenv("IDEM_IOFAULT_DIR");
	unsetenv("IDEM_IOFAULT_COUNT");
}

__attribute__((constructor)) static void shim_ctor(void)
{
	init();
}

static int under_abs(const char *abs)
{
	if (!dirlen)
		return 1;
	return strncmp(abs, dir, dirlen) == 0 &&
	       (abs[dirlen] == '/' || abs[dirlen] == '\0');
}

static int under_path(int dirfd, const char *path)
{
	if (!dirlen)
		return 1;
	if (!path)
		return 0;
	if (path[0] == '/')
		return under_abs(path);
	char base[4096], abs[8192];
	if (preload_base(dirfd, base, sizeof base) != 0)
		return 0;
	snprintf(abs, sizeof abs, "%s/%s", base, path);
	return under_abs(abs);
}

static int under_fd(int fd)
{
	if (!dirlen)
		return 1;
	char link[64], target[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return under_abs(target);
}

/* Only a close that can lose written data counts: a descriptor this
 * process wrote to.  (A close error on a file only read means nothing.) */
static unsigned char dirty[4096];

static void mark_dirty(int fd)
{
	if (fd >= 0 && fd < (int)sizeof dirty)
		dirty[fd] = 1;
}

static int close_matters(int fd)
{
	if (fd < 0 || fd >= (int)sizeof dirty || !dirty[fd])
		return 0;
	dirty[fd] = 0;
	return under_fd(fd);
}

/* Count one call of op; the spec that fires now, or NULL. */
static const struct spec *hit(enum op op)
{
	init();
	unsigned long n = ++counts[op];
	for (int k = 0; k < nspecs; k++)
		if (specs[k].op == op && specs[k].at == n)
			return &specs[k];
	return NULL;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	mark_dirty(fd);
	if (!under_fd(fd))
		return real_write(fd, buf, n);
	if (pending_err) {
		errno = pending_err;
		pending_err = 0;
		counts[OP_WRITE]++;
		return -1;
	}
	const struct spec *s = hit(OP_WRITE);
	if (!s)
		return real_write(fd, buf, n);
	if (s->is_short && n > 1) {
		pending_err = s->err;
		return real_write(fd, buf, n / 2);
	}
	errno = s->err;
	return -1;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	mark_dirty(fd);
	const struct spec *s = under_fd(fd) ? hit(OP_PWRITE) : NULL;
	if (!s)
		return real_pwrite(fd, buf, n, off);
	errno = s->err;
	return -1;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

int fsync(int fd)
{
	REAL(fsync);
	const struct spec *s = under_fd(fd) ? hit(OP_FSYNC) : NULL;
	if (!s)
		return real_fsync(fd);
	errno = s->err;
	return -1;
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	const struct spec *s = under_fd(fd) ? hit(OP_FDATASYNC) : NULL;
	if (!s)
		return real_fdatasync(fd);
	errno = s->err;
	return -1;
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	mark_dirty(fd);
	const struct spec *s = under_fd(fd) ? hit(OP_FTRUNCATE) : NULL;
	if (!s)
		return real_ftruncate(fd, len);
	errno = s->err;
	return -1;
}

int ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

/* Linux closes the descriptor even when close reports an error. */
int close(int fd)
{
	REAL(close);
	const struct spec *s = close_matters(fd) ? hit(OP_CLOSE) : NULL;
	int r = real_close(fd);
	if (!s || r < 0)
		return r;
	errno = s->err;
	return -1;
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	const struct spec *s =
		under_path(AT_FDCWD, from) || under_path(AT_FDCWD, to)
			? hit(OP_RENAME) : NULL;
	if (!s)
		return real_rename(from, to);
	errno = s->err;
	return -1;
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(renameat);
	const struct spec *s = under_path(fd1, from) || under_path(fd2, to)
				       ? hit(OP_RENAMEAT) : NULL;
	if (!s)
		return real_renameat(fd1, from, fd2, to);
	errno = s->err;
	return -1;
}

int link(const char *from, const char *to)
{
	REAL(link);
	const struct spec *s = under_path(AT_FDCWD, to) ? hit(OP_LINK) : NULL;
	if (!s)
		return real_link(from, to);
	errno = s->err;
	return -1;
}

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	REAL(linkat);
	const struct spec *s = under_path(fd2, to) ? hit(OP_LINKAT) : NULL;
	if (!s)
		return real_linkat(fd1, from, fd2, to, flags);
	errno = s->err;
	return -1;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
	REAL(openat);
	if ((flags & O_CREAT) && under_path(dirfd, path)) {
		const struct spec *s = hit(OP_OPEN);
		if (s) {
			errno = s->err;
			return -1;
		}
	}
	return real_openat(dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(dirfd, path, flags, mode);
}

int mkstemp(char *tmpl)
{
	REAL(mkstemp);
	const struct spec *s = under_path(AT_FDCWD, tmpl) ? hit(OP_MKSTEMP)
							   : NULL;
	if (!s)
		return real_mkstemp(tmpl);
	errno = s->err;
	return -1;
}

int mkstemp64(char *tmpl)
{
	return mkstemp(tmpl);
}

/* lib/commit creates its temp files with mkostemp (close-on-exec at
 * creation); the fault point is still called mkstemp. */
int mkostemp(char *tmpl, int flags)
{
	REAL(mkostemp);
	const struct spec *s = under_path(AT_FDCWD, tmpl) ? hit(OP_MKSTEMP)
							   : NULL;
	if (!s)
		return real_mkostemp(tmpl, flags);
	errno = s->err;
	return -1;
}

int mkostemp64(char *tmpl, int flags)
{
	return mkostemp(tmpl, flags);
}

int unlink(const char *path)
{
	REAL(unlink);
	const struct spec *s = under_path(AT_FDCWD, path) ? hit(OP_UNLINK)
							  : NULL;
	if (!s)
		return real_unlink(path);
	errno = s->err;
	return -1;
}

int unlinkat(int dirfd, const char *path, int flags)
{
	REAL(unlinkat);
	const struct spec *s = under_path(dirfd, path) ? hit(OP_UNLINK) : NULL;
	if (!s)
		return real_unlinkat(dirfd, path, flags);
	errno = s->err;
	return -1;
}
