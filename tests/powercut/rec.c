/*
 * rec: records the file-system calls of a run, by LD_PRELOAD, for the
 * crash-state explorer (tests/powercut/explore.py).  Every call that
 * changes what a power cut could leave on disk, made on a path under one
 * folder, becomes one line of a log; the bytes of each write go to a
 * side file, so the explorer can replay any prefix of the run.
 *
 *   IDEM_PC_DIR=DIR    the folder recorded (a real path, no symlinks)
 *   IDEM_PC_LOG=FILE   the log, one event a line, tab-separated:
 *       creat INO PATH     a file created (open O_CREAT of a new name,
 *                          mkstemp); its content starts empty
 *       stdout INO PATH    stdout is this file, which the shell's > made
 *                          or truncated just before the run (or >> opened)
 *       open INO PATH      an existing file opened for writing
 *       trunc INO LEN      ftruncate, or O_TRUNC at open
 *       write INO OFF LEN BLOB   LEN bytes at OFF; BLOB: their offset
 *                          in FILE.data
 *       fsync INO          fsync or fdatasync of a file
 *       fsyncdir PATH      fsync of a folder
 *       rename FROM TO, link FROM TO, unlink PATH, mkdir PATH,
 *       rmdir PATH
 *   PATH is relative to DIR ("." for DIR itself).  Calls on paths
 *   outside DIR, and calls that failed, are not recorded.
 *
 * The variables are read once and removed from the environment, so a
 * child (checkpoint run's CMD, dlq replay's) runs unrecorded.  stdio
 * writes go through glibc's internal write and are not seen; the tools
 * write files with write(2) (checked: an event the explorer cannot place,
 * a write to an inode it never saw opened, fails the exploration).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../preload.h"

static int ready;
static char root[PATH_MAX];
static size_t rootlen;
static int log_fd = -1, data_fd = -1;
static unsigned long long data_off;

#define MAXFD 4096
static char *fd_path[MAXFD]; /* relative path at open, for fds under root */

static void raw_write(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		long w = syscall(SYS_write, fd, c, n);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void init(void)
{
	if (ready)
		return;
	ready = 1;
	const char *d = getenv("IDEM_PC_DIR");
	const char *l = getenv("IDEM_PC_LOG");
	if (d && l && strlen(d) < sizeof root) {
		strcpy(root, d);
		rootlen = strlen(root);
		while (rootlen > 1 && root[rootlen - 1] == '/')
			root[--rootlen] = '\0';
		char dp[PATH_MAX];
		snprintf(dp, sizeof dp, "%s.data", l);
		log_fd = (int)syscall(SYS_openat, AT_FDCWD, l,
				      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				      0644);
		data_fd = (int)syscall(SYS_openat, AT_FDCWD, dp,
				       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				       0644);
		struct stat st;
		if (data_fd >= 0 && fstat(data_fd, &st) == 0)
			data_off = (unsigned long long)st.st_size;
	}
	unsetenv("IDEM_PC_DIR");
	unsetenv("IDEM_PC_LOG");
}

static int rel_of(int dirfd, const char *path, char *out, size_t outlen);
static void track(int fd, const char *rel);
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* stdout redirected to a file under root: the shell made (or truncated)
 * it just before the tool started, so its name is as new as its bytes. */
static void stdout_file(void)
{
	struct stat st;
	char path[PATH_MAX], rel[PATH_MAX];
	if (log_fd < 0 || fstat(1, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	ssize_t k = readlink("/proc/self/fd/1", path, sizeof path - 1);
	if (k <= 0)
		return;
	path[k] = '\0';
	if (!rel_of(AT_FDCWD, path, rel, sizeof rel))
		return;
	track(1, rel);
	emit("stdout\t%llu\t%s", (unsigned long long)st.st_ino, rel);
}

__attribute__((constructor)) static void rec_ctor(void)
{
	init();
	stdout_file();
}

static void emit(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	if (log_fd < 0)
		return;
	char line[3 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 1)
		return;
	line[n++] = '\n';
	raw_write(log_fd, line, (size_t)n);
}

/* The path relative to root of PATH seen from DIRFD, or NULL when it is
 * not under root.  The last component is not resolved (it may not exist
 * yet, or be a symlink the call acts on). */
static int rel_of(int dirfd, const char *path, char *out, size_t outlen)
{
	if (!root[0] || !path)
		return 0;
	char abs[2 * PATH_MAX + 2], base[PATH_MAX];
	if (path[0] == '/') {
		snprintf(abs, sizeof abs, "%s", path);
	} else {
		if (preload_base(dirfd, base, sizeof base) != 0)
			return 0;
		snprintf(abs, sizeof abs, "%s/%s", base, path);
	}
	/* resolve the parent; keep the last component */
	char *slash = strrchr(abs, '/');
	char parent[PATH_MAX], last[PATH_MAX], real[PATH_MAX];
	if (slash == abs) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, abs, (size_t)(slash - abs));
		parent[slash - abs] = '\0';
	}
	snprintf(last, sizeof last, "%s", slash + 1);
	if (!realpath(parent, real))
		return 0;
	char full[2 * PATH_MAX];
	if (strcmp(last, ".") == 0 || last[0] == '\0')
		snprintf(full, sizeof full, "%s", real);
	else if (strcmp(last, "..") == 0) {
		char *s = strrchr(real, '/');
		if (s && s != real)
			*s = '\0';
		snprintf(full, sizeof full, "%s", real);
	} else
		snprintf(full, sizeof full, "%s/%s",
			 strcmp(real, "/") == 0 ? "" : real, last);
	if (strncmp(full, root, rootlen) != 0 ||
	    (full[rootlen] != '\0' && full[rootlen] != '/'))
		return 0;
	const char *r = full[rootlen] ? full + rootlen + 1 : ".";
	if (strlen(r) >= outlen)
		return 0;
	strcpy(out, r);
	return 1;
}

static void track(int fd, const char *rel)
{
	if (fd < 0 || fd >= MAXFD)
		return;
	free(fd_path[fd]);
	fd_path[fd] = rel ? strdup(rel) : NULL;
}

static unsigned long long ino_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode,
		       int at)
{
	init();
	char rel[PATH_MAX];
	int under = rel_of(dirfd, path, rel, sizeof rel);
	int existed = 1;
	struct stat st;
	if (under && (flags & O_CREAT))
		existed = fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int fd;
	if (at) {
		REAL(openat);
		fd = real_openat(dirfd, path, flags, mode);
	} else {
		REAL(open);
		fd = real_open(path, flags, mode);
	}
	if (fd < 0 || !under) {
		if (fd >= 0)
			track(fd, NULL);
		return fd;
	}
	int saved = errno;
	track(fd, rel);
	int acc = flags & O_ACCMODE;
	if (!existed)
		emit("creat\t%llu\t%s", ino_of(fd), rel);
	else if (acc != O_RDONLY) {
		emit("open\t%llu\t%s", ino_of(fd), rel);
		if (flags & O_TRUNC)
			emit("trunc\t%llu\t0", ino_of(fd));
	}
	errno = saved;
	return fd;
}

#define MODE_ARG                                                             \
	mode_t mode = 0;                                                      \
	if (flags & (O_CREAT | O_TMPFILE)) {                                  \
		va_list ap;                                                   \
		va_start(ap, flags);                                          \
		mode = va_arg(ap, mode_t);                                    \
		va_end(ap);                                                   \
	}

int open(const char *path, int flags, ...)
{
	MODE_ARG
	return open_common(AT_FDCWD, path, flags, mode, 0);
}
int open64(const char *path, int flags, ...)
{
	MODE_ARG
	return open_common(AT_FDCWD, path, flags, mode, 0);
}
int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG
	return open_common(dirfd, path, flags, mode, 1);
}
int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG
	return open_common(dirfd, path, flags, mode, 1);
}
int creat(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode,
			   0);
}

static int after_mkstemp(int fd, const char *tmpl)
{
	if (fd < 0)
		return fd;
	int saved = errno;
	char rel[PATH_MAX];
	if (rel_of(AT_FDCWD, tmpl, rel, sizeof rel)) {
		track(fd, rel);
		emit("creat\t%llu\t%s", ino_of(fd), rel);
	} else
		track(fd, NULL);
	errno = saved;
	return fd;
}
int mkstemp(char *tmpl)
{
	init();
	REAL(mkstemp);
	return after_mkstemp(real_mkstemp(tmpl), tmpl);
}
int mkstemp64(char *tmpl)
{
	init();
	REAL(mkstemp64);
	return after_mkstemp(real_mkstemp64(tmpl), tmpl);
}
int mkostemp(char *tmpl, int flags)
{
	init();
	REAL(mkostemp);
	return after_mkstemp(real_mkostemp(tmpl, flags), tmpl);
}

static int under_fd(int fd)
{
	return fd >= 0 && fd < MAXFD && fd_path[fd];
}

static void rec_write(int fd, long long off, const void *buf, size_t n)
{
	if (n == 0)
		return;
	emit("write\t%llu\t%lld\t%zu\t%llu", ino_of(fd), off, n, data_off);
	if (data_fd >= 0)
		raw_write(data_fd, buf, n);
	data_off += n;
}

/* The n bytes a vectored write wrote at off, iovec by iovec. */
static void rec_iov(int fd, long long off, const struct iovec *iov, int cnt,
		    size_t n)
{
	for (int k = 0; k < cnt && n > 0; k++) {
		size_t take = iov[k].iov_len < n ? iov[k].iov_len : n;
		rec_write(fd, off, iov[k].iov_base, take);
		off += (long long)take;
		n -= take;
	}
}

ssize_t write(int fd, const void *buf, size_t n)
{
	init();
	REAL(write);
	ssize_t w = real_write(fd, buf, n);
	if (w > 0 && under_fd(fd)) {
		int saved = errno;
		off_t end = lseek(fd, 0, SEEK_CUR);
		if (end >= 0)
			rec_write(fd, (long long)end - w, buf, (size_t)w);
		errno = saved;
	}
	return w;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	init();
	REAL(writev);
	ssize_t w = real_writev(fd, iov, cnt);
	if (w > 0 && under_fd(fd)) {
		int saved = errno;
		off_t end = lseek(fd, 0, SEEK_CUR);
		if (end >= 0)
			rec_iov(fd, (long long)end - w, iov, cnt, (size_t)w);
		errno = saved;
	}
	return w;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	init();
	REAL(pwrite);
	ssize_t w = real_pwrite(fd, buf, n, off);
	if (w > 0 && under_fd(fd))
		rec_write(fd, (long long)off, buf, (size_t)w);
	return w;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

/* The state log appends its records with pwritev (lib/statefile). */
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	init();
	REAL(pwritev);
	ssize_t w = real_pwritev(fd, iov, cnt, off);
	if (w > 0 && under_fd(fd)) {
		int saved = errno;
		rec_iov(fd, (long long)off, iov, cnt, (size_t)w);
		errno = saved;
	}
	return w;
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

static int sync_common(int fd, int data)
{
	init();
	int r;
	if (data) {
		REAL(fdatasync);
		r = real_fdatasync(fd);
	} else {
		REAL(fsync);
		r = real_fsync(fd);
	}
	if (r == 0 && under_fd(fd)) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			emit("fsyncdir\t%s", fd_path[fd]);
		else
			emit("fsync\t%llu", ino_of(fd));
	}
	return r;
}
int fsync(int fd) { return sync_common(fd, 0); }
int fdatasync(int fd) { return sync_common(fd, 1); }

int ftruncate(int fd, off_t len)
{
	init();
	REAL(ftruncate);
	int r = real_ftruncate(fd, len);
	if (r == 0 && under_fd(fd))
		emit("trunc\t%llu\t%lld", ino_of(fd), (long long)len);
	return r;
}
int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

int close(int fd)
{
	init();
	REAL(close);
	if (fd >= 0 && fd < MAXFD && fd_path[fd]) {
		free(fd_path[fd]);
		fd_path[fd] = NULL;
	}
	return real_close(fd);
}

/* Which of the two paths are under root: bit 1 from, bit 2 to. */
static int two_paths(int fd1, const char *from, int fd2, const char *to,
		     char *a, char *b)
{
	return rel_of(fd1, from, a, PATH_MAX) +
	       2 * rel_of(fd2, to, b, PATH_MAX);
}

int rename(const char *from, const char *to)
{
	init();
	REAL(rename);
	char a[PATH_MAX], b[PATH_MAX];
	int u = two_paths(AT_FDCWD, from, AT_FDCWD, to, a, b);
	int r = real_rename(from, to);
	if (r == 0 && u) {
		int saved = errno;
		emit("rename\t%s\t%s", u & 1 ? a : "-", u & 2 ? b : "-");
		errno = saved;
	}
	return r;
}
int renameat(int fd1, const char *from, int fd2, const char *to)
{
	init();
	REAL(renameat);
	char a[PATH_MAX], b[PATH_MAX];
	int u = two_paths(fd1, from, fd2, to, a, b);
	int r = real_renameat(fd1, from, fd2, to);
	if (r == 0 && u)
		emit("rename\t%s\t%s", u & 1 ? a : "-", u & 2 ? b : "-");
	return r;
}
int link(const char *from, const char *to)
{
	init();
	REAL(link);
	char a[PATH_MAX], b[PATH_MAX];
	int u = two_paths(AT_FDCWD, from, AT_FDCWD, to, a, b);
	int r = real_link(from, to);
	if (r == 0 && u)
		emit("link\t%s\t%s", u & 1 ? a : "-", u & 2 ? b : "-");
	return r;
}
int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
	init();
	REAL(linkat);
	char a[PATH_MAX], b[PATH_MAX];
	int u = two_paths(fd1, from, fd2, to, a, b);
	int r = real_linkat(fd1, from, fd2, to, flags);
	if (r == 0 && u)
		emit("link\t%s\t%s", u & 1 ? a : "-", u & 2 ? b : "-");
	return r;
}

int unlink(const char *path)
{
	init();
	REAL(unlink);
	char a[PATH_MAX];
	int u = rel_of(AT_FDCWD, path, a, sizeof a);
	int r = real_unlink(path);
	if (r == 0 && u)
		emit("unlink\t%s", a);
	return r;
}
int unlinkat(int dirfd, const char *path, int flags)
{
	init();
	REAL(unlinkat);
	char a[PATH_MAX];
	int u = rel_of(dirfd, path, a, sizeof a);
	int r = real_unlinkat(dirfd, path, flags);
	if (r == 0 && u)
		emit("%s\t%s", flags & AT_REMOVEDIR ? "rmdir" : "unlink", a);
	return r;
}
int rmdir(const char *path)
{
	init();
	REAL(rmdir);
	char a[PATH_MAX];
	int u = rel_of(AT_FDCWD, path, a, sizeof a);
	int r = real_rmdir(path);
	if (r == 0 && u)
		emit("rmdir\t%s", a);
	return r;
}
int mkdir(const char *path, mode_t mode)
{
	init();
	REAL(mkdir);
	char a[PATH_MAX];
	int u = rel_of(AT_FDCWD, path, a, sizeof a);
	int r = real_mkdir(path, mode);
	if (r == 0 && u)
		emit("mkdir\t%s", a);
	return r;
}
int mkdirat(int dirfd, const char *path, mode_t mode)
{
	init();
	REAL(mkdirat);
	char a[PATH_MAX];
	int u = rel_of(dirfd, path, a, sizeof a);
	int r = real_mkdirat(dirfd, path, mode);
	if (r == 0 && u)
		emit("mkdir\t%s", a);
	return r;
}
