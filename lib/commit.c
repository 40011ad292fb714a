#define _GNU_SOURCE /* mkostemp */
#include "commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "fault.h"
#include "xalloc.h"

int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* an inherited O_NONBLOCK stdout (a pipe another
			 * process set so) is full: wait, as lib/zio does,
			 * rather than fail a run its reader would finish */
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = {.fd = fd, .events = POLLOUT};
				while (poll(&pf, 1, -1) < 0 && errno == EINTR)
					;
				continue;
			}
			return -1;
		}
		if (w == 0) {
			/* No progress and no errno: do not spin forever. */
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* close(2) is not retried on EINTR: on Linux the fd is gone either way. */
static int close_checked(int fd)
{
	if (close(fd) < 0 && errno != EINTR)
		return -1;
	return 0;
}

/*
 * Temp files of commits in flight, removed at exit(): a tool that dies
 * mid-commit (cli_die on a full disk, from code that holds a commit_file)
 * leaves none behind.  _exit() skips this, as a crash would, and a forked
 * child's exit() leaves its parent's files alone.
 */
static char **pending;
static size_t npending, cap_pending;
static pid_t pending_pid;

static void pending_remove(void)
{
	if (getpid() != pending_pid)
		return;
	for (size_t k = 0; k < npending; k++)
		unlink(pending[k]);
	npending = 0;
}

static void tmp_remember(char *tmp)
{
	if (!pending_pid) {
		pending_pid = getpid();
		atexit(pending_remove);
	}
	pending = xgrow(pending, &cap_pending, npending, sizeof *pending, 8);
	pending[npending++] = tmp;
}

static void tmp_forget(const char *tmp)
{
	for (size_t k = 0; k < npending; k++)
		if (pending[k] == tmp) {
			pending[k] = pending[--npending];
			return;
		}
}

static void commit_free(struct commit_file *c)
{
	free(c->path);
	tmp_forget(c->tmp);
	free(c->tmp);
	c->path = c->tmp = NULL;
	c->fd = -1;
}

/* Drop the temp file after a failure, keeping errno for the caller's
 * message. */
static void commit_discard(struct commit_file *c)
{
	int saved = errno;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->tmp) {
		unlink(c->tmp);
		tmp_forget(c->tmp);
		free(c->tmp);
		c->tmp = NULL;
	}
	errno = saved;
}

static mode_t file_mode(void)
{
	/* umask() can only be read by setting it; the window is two
	 * syscalls long and tools are single-threaded. */
	mode_t mask = umask(0);
	umask(mask);
	return (mode_t)0644 & ~mask;
}

int commit_open(struct commit_file *c, const char *path, char *err,
		size_t errlen)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t n = strlen(path);

	c->fd = -1;
	c->path = xstrdup(path);
	c->tmp = xmalloc(n + sizeof suffix);
	memcpy(c->tmp, path, n);
	memcpy(c->tmp + n, suffix, sizeof suffix);

	/* O_CLOEXEC at creation: a thread of the same process that forks
	 * between two calls would hand the temp file to its child. */
	c->fd = mkostemp(c->tmp, O_CLOEXEC);
	if (c->fd < 0) {
		errbuf_set(err, errlen, "%s: cannot create temp file: %s", path,
			strerror(errno));
		commit_free(c);
		return -1;
	}
	tmp_remember(c->tmp);
	/* mkostemp makes 0600; a state file should look like any other. */
	if (fchmod(c->fd, file_mode()) < 0) {
		errbuf_set(err, errlen, "%s: cannot set up temp file: %s", path,
			strerror(errno));
		commit_discard(c);
		commit_free(c);
		return -1;
	}
	return 0;
}

int commit_write(struct commit_file *c, const void *data, size_t n,
		 char *err, size_t errlen)
{
	if (c->fd < 0) {
		errbuf_set(err, errlen, "%s: write after a failed write",
			c->path ? c->path : "(commit)");
		return -1;
	}
	if (write_all(c->fd, data, n) < 0) {
		errbuf_set(err, errlen, "%s: write: %s", c->path,
			strerror(errno));
		/* Leave c so commit_finish() refuses and commit_abort()
		 * frees, whichever the caller does next. */
		commit_discard(c);
		return -1;
	}
	return 0;
}

void commit_abort(struct commit_file *c)
{
	commit_discard(c);
	commit_free(c);
}

/* Steps shared by both ways to publish: the temp file's bytes durable
 * and its descriptor closed, so only a name change remains. */
static int commit_seal(struct commit_file *c, char *err, size_t errlen)
{
	if (c->fd < 0 || !c->tmp) {
		errbuf_set(err, errlen, "%s: not committed: an earlier write "
			"failed", c->path ? c->path : "(commit)");
		return -1;
	}
	if (fsync(c->fd) < 0) {
		errbuf_set(err, errlen, "%s: fsync: %s", c->path,
			strerror(errno));
		return -1;
	}
	fault_point("commit.written");
	int fd = c->fd;
	c->fd = -1;
	/* NFS and friends report deferred write errors only at close. */
	if (close_checked(fd) < 0) {
		errbuf_set(err, errlen, "%s: close: %s", c->path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int commit_finish(struct commit_file *c, char *err, size_t errlen)
{
	if (commit_seal(c, err, errlen) < 0)
		goto fail;
	if (rename(c->tmp, c->path) < 0) {
		errbuf_set(err, errlen, "%s: rename: %s", c->path,
			strerror(errno));
		goto fail;
	}
	tmp_forget(c->tmp);
	free(c->tmp);
	c->tmp = NULL; /* it is the real file now: never unlink it */
	fault_point("commit.renamed");
	if (commit_sync_dir(c->path, err, errlen) < 0)
		goto fail;
	fault_point("commit.synced");
	commit_free(c);
	return 0;
fail:
	commit_abort(c);
	return -1;
}

int commit_finish_new(struct commit_file *c, char *err, size_t errlen)
{
	if (commit_seal(c, err, errlen) < 0)
		goto fail;
	/* link(2) never replaces: of two writers, the second gets EEXIST.
	 * rename(2) would silently let the last one win. */
	if (link(c->tmp, c->path) < 0) {
		if (errno == EEXIST) {
			commit_abort(c);
			return 1;
		}
		errbuf_set(err, errlen, "%s: link: %s", c->path,
			strerror(errno));
		goto fail;
	}
	fault_point("commit.linked");
	/* Published: readers see path now, so this must not report a
	 * failed commit (a caller would drop what path refers to).  A temp
	 * name that will not go is a second link to the same file, litter
	 * only: exit() tries again, so it stays registered. */
	if (unlink(c->tmp) == 0) {
		tmp_forget(c->tmp);
		free(c->tmp);
	}
	c->tmp = NULL;
	if (commit_sync_dir(c->path, err, errlen) < 0) {
		/* Not durable, and the caller will treat the commit as
		 * failed (txlog removes the data files it names): take the
		 * name back so what readers see stays whole. */
		unlink(c->path);
		goto fail;
	}
	commit_free(c);
	return 0;
fail:
	commit_abort(c);
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder part of path ("." when none), in a new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return !slash ? xstrdup(".") : slash == path
			  ? xstrdup("/")
			  : xstrndup(path, (size_t)(slash - path));
}

/* Many data files a syncfs is cheaper for than as many fsyncs (each an
 * own journal commit: 16k partitions spent most of their time there). */
#define COMMIT_SYNCFS_MIN 8

int commit_finish_new_many(struct commit_file **c, size_t n, char *err,
			   size_t errlen)
{
	size_t linked = 0;
	int rc = -1;
	for (size_t i = 0; i < n; i++)
		if (c[i]->fd < 0 || !c[i]->tmp) {
			errbuf_set(err, errlen, "%s: not committed: an earlier "
				"write failed", c[i]->path ? c[i]->path
							   : "(commit)");
			goto fail;
		}
	if (n >= COMMIT_SYNCFS_MIN) {
		if (syncfs(c[0]->fd) < 0) {
			errbuf_set(err, errlen, "%s: syncfs: %s", c[0]->path,
				strerror(errno));
			goto fail;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (fsync(c[i]->fd) < 0) {
				errbuf_set(err, errlen, "%s: fsync: %s",
					c[i]->path, strerror(errno));
				goto fail;
			}
	}
	fault_point("commit.written");
	for (size_t i = 0; i < n; i++) {
		int fd = c[i]->fd;
		c[i]->fd = -1;
		if (close_checked(fd) < 0) {
			errbuf_set(err, errlen, "%s: close: %s", c[i]->path,
				strerror(errno));
			goto fail;
		}
	}
	for (; linked < n; linked++) {
		if (link(c[linked]->tmp, c[linked]->path) < 0) {
			if (errno == EEXIST) {
				rc = 1;
				goto fail;
			}
			errbuf_set(err, errlen, "%s: link: %s",
				c[linked]->path, strerror(errno));
			goto fail;
		}
	}
	fault_point("commit.linked");
	if (n >= COMMIT_SYNCFS_MIN) {
		/* the names too, and any folder made for them, at once */
		char *d = dir_of(c[0]->path);
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(d);
		if (dfd < 0 || syncfs(dfd) < 0) {
			errbuf_set(err, errlen, "%s: syncfs: %s", c[0]->path,
				strerror(errno));
			if (dfd >= 0)
				close(dfd);
			goto fail;
		}
		close(dfd);
		goto published;
	}
	/* each folder once, after every name in it is made */
	char **dirs = xcalloc(n ? n : 1, sizeof *dirs);
	for (size_t i = 0; i < n; i++)
		dirs[i] = dir_of(c[i]->path);
	qsort(dirs, n, sizeof *dirs, cmp_str);
	int drc = 0;
	for (size_t i = 0; i < n && drc == 0; i++)
		if (i == 0 || strcmp(dirs[i], dirs[i - 1]) != 0) {
			struct buf b = {0};
			buf_addf(&b, "%s/x", dirs[i]);
			drc = commit_sync_dir(b.p, err, errlen);
			buf_free(&b);
		}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	if (drc < 0)
		goto fail;
published:
	for (size_t i = 0; i < n; i++) {
		/* published: a temp name that will not go is litter only */
		if (unlink(c[i]->tmp) == 0) {
			tmp_forget(c[i]->tmp);
			free(c[i]->tmp);
		}
		c[i]->tmp = NULL;
		commit_free(c[i]);
	}
	return 0;
fail:
	for (size_t i = 0; i < linked; i++)
		unlink(c[i]->path);
	for (size_t i = 0; i < n; i++)
		commit_abort(c[i]);
	return rc;
}

/* Errors name path first: the user knows the file, not its folder. */
int commit_sync_dir(const char *path, char *err, size_t errlen)
{
	/* "out/" names the folder out, which its parent holds: the last
	 * slash that counts is the one before the name, not after it */
	size_t end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	const char *slash = NULL;
	for (size_t i = end; i-- > 0;)
		if (path[i] == '/') {
			slash = path + i;
			break;
		}
	char *dir;
	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));

	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: cannot open folder %s: %s", path,
			dir, strerror(errno));
		free(dir);
		return -1;
	}
	/* Some file systems cannot fsync a folder (EINVAL); the rename is
	 * as durable there as it will ever be. */
	if (fsync(fd) < 0 && errno != EINVAL) {
		errbuf_set(err, errlen, "%s: fsync folder %s: %s", path, dir,
			strerror(errno));
		close(fd);
		free(dir);
		return -1;
	}
	if (close_checked(fd) < 0) {
		errbuf_set(err, errlen, "%s: close folder %s: %s", path, dir,
			strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

int commit_replace(const char *path, const void *data, size_t n, char *err,
		   size_t errlen)
{
	struct commit_file c;
	if (commit_open(&c, path, err, errlen) < 0)
		return -1;
	if (commit_write(&c, data, n, err, errlen) < 0) {
		commit_abort(&c);
		return -1;
	}
	return commit_finish(&c, err, errlen);
}

int commit_create_new(const char *path, const void *data, size_t n,
		      char *err, size_t errlen)
{
	struct commit_file c;
	if (commit_open(&c, path, err, errlen) < 0)
		return -1;
	if (commit_write(&c, data, n, err, errlen) < 0) {
		commit_abort(&c);
		return -1;
	}
	return commit_finish_new(&c, err, errlen);
}

int commit_clean_stale(const char *path, unsigned *removed, uint64_t *bytes,
		       char *err, size_t errlen)
{
	static const char suffix[] = ".tmp.";
	const size_t xs = 6; /* mkstemp's XXXXXX */
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = !slash ? xstrdup(".")
		    : slash == path ? xstrdup("/")
				    : xstrndup(path, (size_t)(slash - path));
	size_t bl = strlen(base);
	unsigned n = 0;
	uint64_t b = 0;
	if (removed)
		*removed = 0;
	if (bytes)
		*bytes = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		free(dir);
		if (e == ENOENT)
			return 0;
		errbuf_set(err, errlen, "%s: cannot open folder: %s", path,
			strerror(e));
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		struct stat st;
		if (strlen(nm) != bl + sizeof suffix - 1 + xs ||
		    memcmp(nm, base, bl) != 0 ||
		    memcmp(nm + bl, suffix, sizeof suffix - 1) != 0)
			continue;
		/* A regular file of ours only; never through a link. */
		if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		bool mine = false; /* this process's own commit in flight */
		for (size_t k = 0; k < npending && !mine; k++) {
			const char *ps = strrchr(pending[k], '/');
			mine = !strcmp(ps ? ps + 1 : pending[k], nm);
		}
		if (mine || unlinkat(dfd, nm, 0) != 0)
			continue;
		n++;
		b += (uint64_t)st.st_size;
	}
	closedir(d);
	free(dir);
	if (removed)
		*removed = n;
	if (bytes)
		*bytes = b;
	return 0;
}

int commit_lock(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	char *lock = xmalloc(n + sizeof ".lock");
	memcpy(lock, path, n);
	memcpy(lock + n, ".lock", sizeof ".lock");

	/* O_NOFOLLOW: a planted symlink must not create a file elsewhere. */
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: cannot open lock file: %s", lock,
			strerror(errno));
		free(lock);
		return -1;
	}
	int r;
	do
		r = flock(fd, LOCK_EX | LOCK_NB);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			errbuf_set(err, errlen, "%s: locked by another process; "
				"try again later", path);
			free(lock);
			return -2;
		}
		errbuf_set(err, errlen, "%s: cannot lock: %s", lock,
			strerror(e));
		free(lock);
		return -1;
	}
	free(lock);
	return fd;
}
