/*
 * dlq retry: run CMD once per record (the record on its stdin, its
 * stdout passed on), retrying a failure after an exponential backoff
 * (MIN, 2 MIN, 4 MIN ... capped at MAX; with --jitter a uniform draw in
 * [0, that], "full jitter"), and dead-letter the record after its last
 * failure with how it ended (its exit status, or the signal that killed
 * it) and the last line of CMD's stderr.
 *
 * With -j N up to N records are in flight; outputs leave in input order:
 * the jobs form a window in input order and only the oldest one is ever
 * written out, so a slow record holds the ones after it back (up to N).
 * One poll(2) loop watches every child's pipes and the nearest deadline
 * (a backoff ending or a --timeout expiring).
 *
 * A command that exits 0 has not handled its record unless it read it:
 * `true` exits 0 at once, and a record that fits in the pipe buffer is
 * "written" without anyone reading it.  So each job keeps its stdin
 * pipe's read end (close-on-exec, never the child's): once the child is
 * gone, FIONREAD on it counts what was never taken, and such an attempt
 * is a failure unless --allow-unread says the command may ignore input.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "dlq.h"
#include "dlqtool.h"
#include "feed.h"
#include "lines.h"
#include "scan.h"
#include "timefmt.h"
#include "wm.h"
#include "xalloc.h"

#define MAX_PERMANENT 32

enum jstate { J_WAIT, J_RUN, J_DONE };

struct job {
	struct buf rec;
	char *file;
	uint64_t line;
	enum jstate state;
	unsigned attempt;
	int64_t at; /* J_WAIT: start time; J_RUN: timeout deadline (0: none) */
	pid_t pid;
	int in, out, err; /* -1 when closed */
	int peek;	  /* our copy of the stdin pipe's read end, or -1 */
	pid_t dog;	  /* its watchdog, leader of the command's group */
	int dogfd;	  /* the watchdog's pipe, or -1 */
	uint64_t unread;  /* bytes of the record the last attempt never took */
	size_t in_off;
	struct buf stdout_buf, err_line, err_tail;
	int status; /* last wait(2) status, -1 timed out, -2 unread */
	bool ok;
};

static struct {
	unsigned retries;
	int64_t bmin, bmax, timeout;
	bool jitter;
	size_t jobs;
	int permanent[MAX_PERMANENT];
	size_t npermanent;
	const char *dlq_path;
	char **cmd;
	bool stats;
	bool allow_unread;
	size_t max_line;
} opt = {.retries = 3, .bmin = 100000000LL, .bmax = 30000000000LL,
	 .jobs = 1, .max_line = LINES_DEFAULT_MAX};

static struct {
	struct job *w; /* window, a ring of opt.jobs */
	size_t head, n;
	struct dlq *dlq;
	uint64_t attempts, retried;
} rt;

static _Noreturn void usage(const struct cli_verb *v)
{
	printf(
"Usage: dlq retry [OPTION]... [FILE]... -- CMD [ARG]...\n"
"Run CMD once per record, retrying failures with exponential backoff.\n"
"\n"
"      --retries N        retries after the first attempt (default 3)\n"
"      --backoff MIN..MAX first delay and cap (default 100ms..30s)\n"
"      --jitter           full jitter: each delay uniform in [0, delay]\n"
"      --timeout DUR      kill an attempt that runs longer (a failure)\n"
"  -j, --jobs N           N records at once (default 1); output stays in\n"
"                         input order\n"
"      --permanent CODES  exit codes not worth retrying (e.g. 2,65)\n"
"      --dlq FILE         dead-letter records that still fail\n"
"      --allow-unread     CMD may exit 0 without reading its record\n"
"      --max-line SIZE    longest accepted line (default 64M)\n"
"      --stats            print counts as one JSON line on stderr\n"
"  -h, --help             show this help\n");
	cli_examples(stdout, v->examples);
	cli_exit(EXIT_OK);
}

/* now + d, held at the largest time instead of wrapping: a --timeout
 * or backoff of centuries is a deadline never reached, not one passed. */
static int64_t later(int64_t d)
{
	int64_t now = time_now();
	return d > INT64_MAX - now ? INT64_MAX : now + d;
}

static int64_t backoff(unsigned attempt)
{
	int64_t d = opt.bmin;
	for (unsigned k = 1; k < attempt && d < opt.bmax; k++)
		d = d > opt.bmax / 2 ? opt.bmax : d * 2;
	if (d > opt.bmax)
		d = opt.bmax;
	if (opt.jitter && d > 0)
		d = (int64_t)((double)random() / ((double)RAND_MAX + 1) *
			      (double)(d + 1));
	return d;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void start(struct job *j)
{
	int pi[2], po[2], pe[2];
	/* Close-on-exec: a child holding another job's pipe ends would keep
	 * that job's output open (no EOF) until the child exits. */
	if (pipe2(pi, O_CLOEXEC) || pipe2(po, O_CLOEXEC) ||
	    pipe2(pe, O_CLOEXEC))
		cli_die(EXIT_TROUBLE, "pipe: %s", strerror(errno));
	/* The command's group is led by a watchdog that kills it when this
	 * process dies (SIGKILL included); a timeout kills the group. */
	char err[256];
	j->dog = feed_guard_start(&j->dogfd, pi[1], err, sizeof err);
	if (j->dog < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	pid_t pid = fork();
	if (pid < 0)
		cli_die(EXIT_TROUBLE, "fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, j->dog);
		/* dup2 clears close-on-exec on 0-2; the rest go at exec */
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(opt.cmd[0], opt.cmd);
		fprintf(stderr, "%s: %s\n", opt.cmd[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, j->dog);
	j->peek = pi[0];
	close(po[1]);
	close(pe[1]);
	j->pid = pid;
	j->in = pi[1];
	j->out = po[0];
	j->err = pe[0];
	nonblock(j->in);
	nonblock(j->out);
	nonblock(j->err);
	j->in_off = 0;
	buf_reset(&j->stdout_buf);
	/* the letter pairs the last attempt's status with its own stderr,
	 * never with a line an earlier attempt wrote */
	buf_reset(&j->err_tail);
	buf_reset(&j->err_line);
	j->state = J_RUN;
	j->status = 0;
	j->unread = 0;
	j->attempt++;
	j->at = opt.timeout ? later(opt.timeout) : 0;
	rt.attempts++;
}

/* --permanent names exit codes: a command killed by a signal is
 * retried, even when 128 + the signal is one of them (137 is an exit
 * code; SIGKILL is not). */
static bool is_permanent(int status)
{
	for (size_t k = 0; k < opt.npermanent; k++)
		if (feed_status_exited(status, opt.permanent[k]))
			return true;
	return false;
}

/* Keep the last non-empty line of stderr, passing it on as it comes. */
static void take_err(struct job *j, const char *p, size_t n)
{
	if (write_all(STDERR_FILENO, p, n) != 0) {
		/* stderr gone: keep going, the message is in the letter */
	}
	buf_add(&j->err_tail, p, n);
	char *e = j->err_tail.p + j->err_tail.len;
	while (e > j->err_tail.p && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	char *s = e;
	while (s > j->err_tail.p && s[-1] != '\n')
		s--;
	if (e > s) {
		buf_reset(&j->err_line);
		buf_add(&j->err_line, s, (size_t)(e - s));
	}
	if (j->err_tail.len > 65536) { /* keep the tail only */
		struct buf t = {0};
		buf_add(&t, s, (size_t)(j->err_tail.p + j->err_tail.len - s));
		buf_free(&j->err_tail);
		j->err_tail = t;
	}
}

static void drop_fd(int *fd);

static void ended(struct job *j, int status)
{
	int left = 0;
	if (j->peek >= 0 && ioctl(j->peek, FIONREAD, &left) == 0 && left > 0)
		j->unread += (uint64_t)left;
	drop_fd(&j->peek);
	drop_fd(&j->in);
	feed_guard_release(&j->dog, &j->dogfd, false);
	if (status == 0 && j->unread && !opt.allow_unread)
		status = -2; /* exited 0 without reading its record */
	j->status = status;
	j->pid = 0;
	if (status == 0) {
		j->ok = true;
		j->state = J_DONE;
		return;
	}
	if (j->attempt > opt.retries || (status > 0 && is_permanent(status))) {
		j->state = J_DONE;
		return;
	}
	rt.retried++;
	j->state = J_WAIT;
	j->at = later(backoff(j->attempt));
}

static void reap_status(struct job *j, int st)
{
	if (j->status == -1) {
		ended(j, -1);
		return;
	}
	ended(j, st);
}

static void reap(struct job *j)
{
	int st;
	while (waitpid(j->pid, &st, 0) < 0)
		if (errno != EINTR)
			cli_die(EXIT_TROUBLE, "wait: %s", strerror(errno));
	reap_status(j, st);
}

static void drop_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* One round of poll over every running job, and over the input when
 * in >= 0; starts waiting jobs whose backoff has ended and kills those
 * past --timeout.  True when the input has a byte (or its end) ready. */
static bool step(int in)
{
	struct pollfd pf[3 * 64 + 1];
	struct job *who[3 * 64 + 1];
	int which[3 * 64 + 1];
	nfds_t n = 0;
	int64_t now = time_now(), next = INT64_MAX;
	bool moved = false; /* a job ended: its record may go out now */
	for (size_t k = 0; k < rt.n; k++) {
		struct job *j = &rt.w[(rt.head + k) % opt.jobs];
		if (j->state == J_WAIT) {
			if (j->at <= now) {
				start(j);
			} else {
				if (j->at < next)
					next = j->at;
				continue;
			}
		}
		if (j->state != J_RUN)
			continue;
		if (j->in < 0 && j->out < 0 && j->err < 0) {
			/* Reaped at once: its deadline no longer counts. */
			reap(j);
			moved = true;
			continue;
		}
		if (j->in >= 0 && j->out < 0 && j->err < 0) {
			/* Our kept read end means no EPIPE: a child that
			 * exited without reading is seen by waitpid. */
			int st;
			if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
				j->unread += j->rec.len - j->in_off;
				reap_status(j, st);
				moved = true;
				continue;
			}
			/* Its stdout and stderr close just before it
			 * becomes reapable: look again soon rather than
			 * wait on a pipe nobody will drain. */
			if (now + 20000000 < next)
				next = now + 20000000;
		}
		if (j->at && j->at <= now && j->status != -1) {
			kill(-j->dog, SIGKILL);
			j->status = -1; /* timed out */
		}
		if (j->at && j->at < next)
			next = j->at;
		int fds[3] = {j->in, j->out, j->err};
		for (int f = 0; f < 3; f++) {
			if (fds[f] < 0)
				continue;
			pf[n].fd = fds[f];
			pf[n].events = f == 0 ? POLLOUT : POLLIN;
			who[n] = j;
			which[n] = f;
			n++;
		}
	}
	if (moved)
		return false;
	if (in >= 0) {
		pf[n].fd = in;
		pf[n].events = POLLIN;
		who[n] = NULL;
		n++;
	}
	if (n == 0) {
		if (next != INT64_MAX && next > now) {
			int64_t d = next - now;
			struct timespec ts = {d / 1000000000, d % 1000000000};
			nanosleep(&ts, NULL);
		}
		return false;
	}
	int ms = next == INT64_MAX ? -1
		 : next <= now	   ? 0
				   : (int)((next - now) / 1000000 + 1);
	if (poll(pf, n, ms) < 0 && errno != EINTR)
		cli_die(EXIT_TROUBLE, "poll: %s", strerror(errno));
	char b[65536];
	bool ready = false;
	for (nfds_t k = 0; k < n; k++) {
		if (!pf[k].revents)
			continue;
		struct job *j = who[k];
		if (!j) {
			ready = true;
			continue;
		}
		if (which[k] == 0) {
			ssize_t w = write(j->in, j->rec.p + j->in_off,
					  j->rec.len - j->in_off);
			if (w > 0)
				j->in_off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    j->in_off == j->rec.len) {
				drop_fd(&j->in);
				/* the watchdog's copy too: now EOF */
				feed_guard_input_whole(j->dogfd);
			}
			continue;
		}
		int *fd = which[k] == 1 ? &j->out : &j->err;
		ssize_t r = read(*fd, b, sizeof b);
		if (r > 0) {
			if (which[k] == 1)
				buf_add(&j->stdout_buf, b, (size_t)r);
			else
				take_err(j, b, (size_t)r);
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			drop_fd(fd);
		}
	}
	return ready;
}

static void finish(int status)
{
	char err[512];
	cli_out_commit();
	(void)err;
	cli_dlq_close(&rt.dlq);
	if (opt.stats) {
		char extra[96];
		snprintf(extra, sizeof extra, ",\"attempts\":%" PRIu64
			 ",\"retried\":%" PRIu64, rt.attempts, rt.retried);
		cli_stats_print(extra);
	}
	cli_out_close();
	cli_exit(status);
}

/* A stop at the oldest job: with -j the records after it may have run
 * (their commands' effects done, or cut off as this process ends), and
 * their output goes nowhere, so say how many. */
static void stopped_after(void)
{
	size_t ran = 0;
	for (size_t k = 1; k < rt.n; k++) {
		const struct job *j = &rt.w[(rt.head + k) % opt.jobs];
		ran += j->attempt > 0;
	}
	if (ran)
		cli_warn("%zu record%s after it had %s command started; %s "
			 "output is not passed on (--dlq FILE goes on past a "
			 "failure)", ran, ran == 1 ? "" : "s",
			 ran == 1 ? "its" : "their", ran == 1 ? "its" : "their");
}

/* Write out the oldest job when it is done. */
static bool settle_head(void)
{
	if (rt.n == 0)
		return false;
	struct job *j = &rt.w[rt.head];
	if (j->state != J_DONE)
		return false;
	/* Counted as it is settled, in input order: a stop counts the
	 * record that stopped it, not those read or run after it. */
	cli_stats.records_in++;
	if (j->ok) {
		/* an output without its last newline would run into the
		 * next record's: one line glued from two */
		if (j->stdout_buf.len &&
		    j->stdout_buf.p[j->stdout_buf.len - 1] != '\n')
			buf_addc(&j->stdout_buf, '\n');
		cli_out(j->stdout_buf.p ? j->stdout_buf.p : "",
			j->stdout_buf.len);
		cli_stats.records_out++;
	} else {
		struct buf msg = {0};
		if (j->status == -1)
			buf_addf(&msg, "%s timed out", opt.cmd[0]);
		else if (j->status == -2)
			buf_addf(&msg, "%s exited 0 without reading its record "
				 "(%" PRIu64 " bytes unread; --allow-unread if "
				 "it may)", opt.cmd[0], j->unread);
		else {
			char how[96];
			feed_status_describe(j->status, how, sizeof how);
			buf_addf(&msg, "%s %s", opt.cmd[0], how);
		}
		buf_addf(&msg, " after %u attempt%s", j->attempt,
			 j->attempt == 1 ? "" : "s");
		if (j->err_line.len) {
			buf_adds(&msg, ": ");
			buf_add(&msg, j->err_line.p, j->err_line.len);
		}
		if (!rt.dlq) {
			cli_warn("%s:%" PRIu64 ": %s", j->file, j->line, msg.p);
			stopped_after();
			finish(EXIT_TROUBLE);
		}
		struct scan_error se;
		struct dlq_letter l = {
			.record = j->rec.p, .len = j->rec.len - 1,
			.is_json = scan_validate(j->rec.p, j->rec.len - 1,
						 &se) == 0,
			.error_type = "command_failed", .error_message = msg.p,
			.replayable = true, .file = j->file, .line = j->line,
		};
		cli_letter(rt.dlq, &l);
		buf_free(&msg);
	}
	rt.head = (rt.head + 1) % opt.jobs;
	rt.n--;
	return true;
}

/* The input would block (LINES_WAIT): the jobs in flight go on (their
 * output, retries, --timeout) and finished records go out, until the
 * input has a byte ready or no job is left.  So `tail -f dlq.ndjson |
 * dlq retry` is live, and a hung command is killed on time. */
static void wait_input(int in)
{
	for (;;) {
		while (settle_head())
			;
		cli_out_flush();
		if (rt.n == 0 || step(in))
			return;
	}
}

/* A record joins the window, its command started; a control line
 * (watermark --emit's progress) joins it done, its output itself, so it
 * goes on in its place among the outputs. */
static void admit(const struct line *ln, const char *name, bool control)
{
	while (rt.n == opt.jobs) {
		step(-1);
		while (settle_head())
			;
	}
	struct job *j = &rt.w[(rt.head + rt.n) % opt.jobs];
	rt.n++;
	buf_reset(&j->rec);
	buf_add(&j->rec, ln->p, ln->len);
	buf_addc(&j->rec, '\n');
	free(j->file);
	j->file = xstrdup(name);
	j->line = ln->lineno;
	j->attempt = 0;
	j->ok = false;
	j->status = 0;
	buf_reset(&j->err_line);
	if (control) {
		buf_reset(&j->stdout_buf);
		buf_add(&j->stdout_buf, j->rec.p, j->rec.len);
		j->ok = true;
		j->state = J_DONE;
		return;
	}
	start(j);
}

/* Every record taken so far, run to its end (written or dead-lettered):
 * a stop leaves none in flight, unsaid. */
static void drain_jobs(void)
{
	while (rt.n) {
		step(-1);
		while (settle_head())
			;
	}
}

/* An input that cannot be opened or read ends the run as a bad record
 * does: the records before it done, then --stats. */
static _Noreturn void input_fails(const char *err)
{
	drain_jobs();
	cli_warn("%s", err);
	finish(EXIT_TROUBLE);
	cli_exit(EXIT_TROUBLE); /* finish does not return */
}

/* A line is a record when it is whole and JSON: a torn last line (a
 * writer killed mid-line) or a line cut at the limit is no record to
 * hand a command.  A bad one waits for the records before it, so the
 * output, the letters and the record that stops the run are in input
 * order, whatever -j. */
static bool good_line(const struct line *ln, const char *name, bool *control)
{
	static struct scan_record rec; /* reused; reachable at exit */
	char msg[512];
	bool is_json;
	const char *type = cli_line_fault(ln, opt.max_line, "--max-line", &rec,
					  false, &is_json, msg, sizeof msg);
	/* no record for command: passed on, as check passes it */
	*control = !type && wm_control_line(&rec);
	if (*control && (type = dlq_control_fault(&rec, msg, sizeof msg)))
		*control = false;
	if (!type)
		return true;
	drain_jobs();
	cli_stats.records_in++; /* after the records before it */
	cli_reject(rt.dlq, finish, ln, name, is_json, type, "%s", msg);
	return false;
}

static void parse_backoff(const char *s)
{
	const char *dots = strstr(s, "..");
	if (!dots)
		cli_usage_error("--backoff: want MIN..MAX, e.g. 100ms..30s");
	char *a = xstrndup(s, (size_t)(dots - s));
	opt.bmin = cli_duration("--backoff", a);
	opt.bmax = cli_duration("--backoff", dots + 2);
	free(a);
	if (opt.bmax < opt.bmin)
		cli_usage_error("--backoff: MAX is below MIN");
}

/* CODE,CODE...: each an exit status 1-255 (0 is success, and a status
 * past 255 is never seen); an empty one is a typo, not nothing. */
static void parse_permanent(const char *s)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ",");
		char *tok = xstrndup(p, n);
		if (n == 0)
			cli_usage_error("--permanent: an empty code in '%s'; "
					"want CODE,CODE,... (e.g. 2,65)", s);
		uint64_t v = cli_count("--permanent", tok);
		if (v < 1 || v > 255)
			cli_usage_error("--permanent: %s is not a failing exit "
					"status (1-255)", tok);
		free(tok);
		if (opt.npermanent == MAX_PERMANENT)
			cli_usage_error("--permanent: at most %d codes",
					MAX_PERMANENT);
		opt.permanent[opt.npermanent++] = (int)v;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
}

int dlq_retry_main(const struct cli_verb *v, int argc, char **argv)
{
	enum { O_RETRIES = 256, O_BACKOFF, O_JITTER, O_TIMEOUT, O_PERM,
	       O_DLQ, O_STATS, O_UNREAD, O_MAXLINE };
	static const struct option longopts[] = {
		{"retries", required_argument, NULL, O_RETRIES},
		{"backoff", required_argument, NULL, O_BACKOFF},
		{"jitter", no_argument, NULL, O_JITTER},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"jobs", required_argument, NULL, 'j'},
		{"permanent", required_argument, NULL, O_PERM},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"allow-unread", no_argument, NULL, O_UNREAD},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			opt.cmd = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			break;
		}
	int c;
	const char *shaping = NULL; /* an option only retries use */
	cli_refuse_twice(""); /* one value each */
	while ((c = cli_verb_getopt(v, argc, argv, "j:h", longopts)) != -1) {
		switch (c) {
		case O_RETRIES: {
			/* an attempt count must pass it: no wrap to a few */
			uint64_t n = cli_count("--retries", optarg);
			if (n > UINT_MAX - 1)
				cli_usage_error("--retries: %s is more than %u",
						optarg, UINT_MAX - 1);
			opt.retries = (unsigned)n;
			break;
		}
		case O_BACKOFF:
			parse_backoff(optarg);
			shaping = "--backoff";
			break;
		case O_JITTER:
			opt.jitter = true;
			shaping = "--jitter";
			break;
		case O_TIMEOUT:
			opt.timeout = cli_duration("--timeout", optarg);
			if (opt.timeout == 0)
				cli_usage_error("--timeout: '%s': must be "
						"positive (leave it out for no "
						"limit)", optarg);
			break;
		case 'j':
			opt.jobs = (size_t)cli_count("-j", optarg);
			if (opt.jobs < 1 || opt.jobs > 64)
				cli_usage_error("-j: want 1 to 64");
			break;
		case O_PERM:
			parse_permanent(optarg);
			shaping = "--permanent";
			break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_UNREAD: opt.allow_unread = true; break;
		case O_MAXLINE: opt.max_line = cli_max_line(optarg); break;
		case 'h': usage(v);
		}
	}
	if (!opt.cmd || !opt.cmd[0])
		cli_verb_usage_error(v, "give the command after '--'");
	if (opt.retries == 0 && shaping)
		cli_verb_usage_error(v, "%s shapes the retries, and --retries 0 "
				     "makes none", shaping);
	char err[512];
	cli_inputs_once(argv + optind, "in the runs of the command");
	cli_check_common_outputs(argv + optind, NULL, opt.dlq_path, NULL);
	if (opt.dlq_path)
		rt.dlq = cli_dlq_open(opt.dlq_path);
	srandom((unsigned)(time_now() ^ getpid()));
	signal(SIGPIPE, SIG_IGN); /* a child that stops reading its stdin */
	rt.w = xcalloc(opt.jobs, sizeof *rt.w);
	for (size_t k = 0; k < opt.jobs; k++)
		rt.w[k].in = rt.w[k].out = rt.w[k].err = rt.w[k].peek =
			rt.w[k].dogfd = -1;
	char *stdin_only[] = {"-", NULL};
	char **files = optind < argc ? argv + optind : stdin_only;
	for (; *files; files++) {
		struct lines *in = lines_open(*files, opt.max_line, err,
					      sizeof err);
		if (!in)
			input_fails(err);
		struct line ln;
		int r;
		lines_set_wait(in, true);
		cli_stats_reading(in, 0);
		while ((r = lines_next(in, &ln, err, sizeof err)) > 0) {
			if (r == LINES_WAIT) {
				wait_input(lines_fd(in));
				continue;
			}
			bool control;
			if (!good_line(&ln, lines_name(in), &control))
				continue;
			admit(&ln, lines_name(in), control);
		}
		cli_stats.bytes_in += lines_bytes(in);
		cli_stats_reading(NULL, 0);
		lines_close(in);
		if (r < 0)
			input_fails(err);
	}
	drain_jobs();
	finish(EXIT_OK);
	return EXIT_OK;
}
