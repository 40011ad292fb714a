#define _GNU_SOURCE /* pipe2, sigabbrev_np */
#include "feed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "xalloc.h"

#define FEED_INPUT_WHOLE 'e' /* the watchdog's word: close your copy */

struct feed {
	pid_t pid;     /* the command */
	pid_t dog;     /* the watchdog, leader of the command's group */
	int wfd, rfd;  /* the pipe: our write end, our copy of the read end */
	int dogfd;     /* write end of the watchdog's pipe */
	bool reaped;   /* the command has exited: status is its status */
	int status;    /* its wait(2) status word */
	uint64_t unread;
	const char *name;
};

/* Everything but a and b (-1: none): the watchdog must hold no lock, no
 * state file, no pipe end but the one it is given to hold. */
static void close_all_but(int a, int b)
{
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	struct rlimit rl;
	long max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = (long)rl.rlim_cur;
	if (max > 65536)
		max = 65536;
#ifdef SYS_close_range
	int lo = 0;
	int keep[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		if (keep[k] < 0)
			continue;
		if (keep[k] > lo)
			syscall(SYS_close_range, (unsigned)lo,
				(unsigned)keep[k] - 1, 0u);
		lo = keep[k] + 1;
	}
	if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0u) == 0)
		return;
#endif
	for (int fd = 0; fd < max; fd++)
		if (fd != a && fd != b)
			close(fd);
}

/*
 * The watchdog: wait for a word from the parent; end-of-file means the
 * parent died, so the command's group dies too.  hold (or -1) is a copy
 * of the write end of the command's stdin, kept open until the parent
 * says its input is whole ('e'): a parent that dies mid-feed must not
 * look to the command like the end of its input, which it could act on
 * (commit a batch cut short) before the kill reaches it.  Any other
 * word: go quietly.
 */
static _Noreturn void watchdog(int rfd, int hold)
{
	static const int quiet[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
	for (size_t k = 0; k < sizeof quiet / sizeof *quiet; k++)
		signal(quiet[k], SIG_IGN);
	close_all_but(rfd, hold);
	for (;;) {
		char c;
		ssize_t r = read(rfd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			kill(0, SIGKILL); /* the group, this process last */
		if (c != FEED_INPUT_WHOLE)
			_exit(0);
		if (hold >= 0)
			close(hold);
		hold = -1;
	}
}

static int reap(struct feed *f, int flags, char *err, size_t errlen)
{
	int st;
	pid_t r;
	do
		r = waitpid(f->pid, &st, flags);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		errbuf_set(err, errlen, "%s: wait: %s", f->name, strerror(errno));
		return -1;
	}
	if (r == 0)
		return 0;
	f->reaped = true;
	f->status = st;
	return 1;
}

void feed_status_describe(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus)) {
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(wstatus));
		return;
	}
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *abbrev = sigabbrev_np(sig);
		snprintf(buf, len, "was killed by signal %d (%s%s)%s", sig,
			 abbrev ? "SIG" : "", abbrev ? abbrev : "unknown",
			 WCOREDUMP(wstatus) ? ", core dumped" : "");
		return;
	}
	snprintf(buf, len, "ended with wait status %#x", (unsigned)wstatus);
}

bool feed_status_exited(int wstatus, int code)
{
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == code;
}

pid_t feed_guard_start(int *dogfd, int hold, char *err, size_t errlen)
{
	int d[2];
	*dogfd = -1;
	if (pipe2(d, O_CLOEXEC) != 0) {
		errbuf_set(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t dog = fork();
	if (dog < 0) {
		errbuf_set(err, errlen, "fork: %s", strerror(errno));
		close(d[0]);
		close(d[1]);
		return -1;
	}
	if (dog == 0) {
		setpgid(0, 0);
		watchdog(d[0], hold);
	}
	/* Both sides set the group, so it exists before the command joins
	 * it, whichever runs first. */
	setpgid(dog, dog);
	close(d[0]);
	*dogfd = d[1];
	return dog;
}

/*
 * A word to the watchdog.  One killed with its group (kill -9 -PGID, a
 * timeout) has no reader left: the write's SIGPIPE is blocked and taken
 * back on this thread, so it cannot end this process, which still has
 * to say what became of the command.
 */
static void tell_watchdog(int dogfd, char word)
{
	if (dogfd < 0)
		return;
	sigset_t pipe_only, old;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	bool was_pending = false;
	sigset_t pending;
	if (sigpending(&pending) == 0)
		was_pending = sigismember(&pending, SIGPIPE);
	ssize_t w;
	do
		w = write(dogfd, &word, 1);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EPIPE && !was_pending) {
		static const struct timespec now = {0, 0};
		while (sigtimedwait(&pipe_only, NULL, &now) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void feed_guard_input_whole(int dogfd)
{
	/* a watchdog gone took its copy of the input's write end along */
	tell_watchdog(dogfd, FEED_INPUT_WHOLE);
}

void feed_guard_release(pid_t *dog, int *dogfd, bool kill_group)
{
	if (*dogfd >= 0) {
		if (!kill_group)
			tell_watchdog(*dogfd, 'd'); /* go quietly */
		close(*dogfd);
		*dogfd = -1;
	}
	if (*dog > 0)
		while (waitpid(*dog, NULL, 0) < 0 && errno == EINTR)
			;
	*dog = 0;
}

static void dog_release(struct feed *f, bool kill_group)
{
	feed_guard_release(&f->dog, &f->dogfd, kill_group);
}

static void feed_free(struct feed *f)
{
	if (f->wfd >= 0)
		close(f->wfd);
	if (f->rfd >= 0)
		close(f->rfd);
	free(f);
}

struct feed *feed_start(char **argv, const char *env_name,
			const char *env_value, char *err, size_t errlen)
{
	struct feed *f = xcalloc(1, sizeof *f);
	f->wfd = f->rfd = f->dogfd = -1;
	f->name = argv[0];
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		errbuf_set(err, errlen, "pipe: %s", strerror(errno));
		free(f);
		return NULL;
	}
	f->rfd = p[0];
	f->wfd = p[1];
	f->dog = feed_guard_start(&f->dogfd, p[1], err, errlen);
	if (f->dog < 0) {
		feed_free(f);
		return NULL;
	}
	f->pid = fork();
	if (f->pid < 0) {
		errbuf_set(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (f->pid == 0) {
		setpgid(0, f->dog);
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(127);
		if (env_name)
			setenv(env_name, env_value, 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		int e = errno;
		fprintf(stderr, "%s: %s\n", argv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	setpgid(f->pid, f->dog);
	/* Never block on a full pipe: a command that exits without
	 * reading must be noticed while we wait to write. */
	if (fcntl(f->wfd, F_SETFL, fcntl(f->wfd, F_GETFL) | O_NONBLOCK) < 0) {
		errbuf_set(err, errlen, "pipe: %s", strerror(errno));
		close(f->wfd);
		f->wfd = -1;
		reap(f, 0, NULL, 0);
		goto fail;
	}
	return f;
fail:
	dog_release(f, true);
	feed_free(f);
	return NULL;
}

int feed_write(struct feed *f, const void *data, size_t n, char *err,
	       size_t errlen)
{
	const char *p = data;
	while (n > 0) {
		if (f->reaped) {
			f->unread += n;
			return 1;
		}
		ssize_t w = write(f->wfd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			errbuf_set(err, errlen, "pipe to %s: %s", f->name,
				strerror(errno));
			return -1;
		}
		struct pollfd pf = {.fd = f->wfd, .events = POLLOUT};
		if (poll(&pf, 1, 50) == 0 && reap(f, WNOHANG, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int feed_finish(struct feed *f, uint64_t *unread, char *err, size_t errlen)
{
	close(f->wfd);
	f->wfd = -1;
	feed_guard_input_whole(f->dogfd); /* now the command's EOF is real */
	if (!f->reaped && reap(f, 0, err, errlen) < 0) {
		dog_release(f, true);
		feed_free(f);
		return -1;
	}
	int left = 0;
	if (ioctl(f->rfd, FIONREAD, &left) == 0 && left > 0)
		f->unread += (uint64_t)left;
	*unread = f->unread;
	int status = f->status;
	dog_release(f, false);
	feed_free(f);
	return status;
}

int feed_out_taken(int fd, uint64_t *unread)
{
	struct stat st;
	*unread = 0;
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return 0;
	int ms = 1;
	for (;;) {
		int left = 0;
		if (ioctl(fd, FIONREAD, &left) != 0 || left <= 0)
			return 0;
		/* no events asked: a write end reports POLLERR alone, once
		 * the last reader has closed */
		struct pollfd pf = {.fd = fd, .events = 0};
		if (poll(&pf, 1, ms) > 0 && (pf.revents & POLLERR)) {
			if (ioctl(fd, FIONREAD, &left) != 0 || left <= 0)
				return 0;
			*unread = (uint64_t)left;
			return 1;
		}
		if (ms < 8) /* a reader's last read is seen within 8 ms */
			ms *= 2;
	}
}

int feed_cmd_out_taken(int fd, uint64_t *unread)
{
	if (feed_out_taken(fd, unread))
		return 1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return 0;
	/* no events asked: a write end reports POLLERR alone, once the
	 * last reader has closed */
	struct pollfd pf = {.fd = fd, .events = 0};
	return poll(&pf, 1, 0) > 0 && (pf.revents & POLLERR) ? 2 : 0;
}

bool feed_out_open(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}
