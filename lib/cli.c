#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "dlq.h"
#include "dlq_ledger.h"
#include "expr.h"
#include "feed.h"
#include "lines.h"
#include "scan.h"
#include "statefile.h"
#include "timefmt.h"
#include "tz.h"
#include "xalloc.h"
#include "zio.h"

const char *cli_prog;
struct cli_stats cli_stats;

static struct timespec started;
static char out_buf[1 << 17];
static size_t out_len;

/*
 * A descriptor among 0-2 that the caller closed (`tool >&-`) would be
 * taken by the next open(): a lock file, a state file, a pipe, and the
 * records meant for stdout would land in it.  Fill each closed one with
 * /dev/null opened the wrong way round (stdin write-only, stdout
 * read-only), so every read or write on it fails with EBADF, as on the
 * closed descriptor, and the tool reports it and commits nothing; stderr
 * gets a writable /dev/null, the messages go nowhere, as the caller
 * asked.  Before anything else opens a file: must be first.
 */
static void fds_guard(void)
{
	static const int mode[3] = {O_WRONLY, O_RDONLY, O_WRONLY};
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", mode[fd]);
		if (n != fd) /* not the lowest free one: cannot be safe */
			_exit(EXIT_TROUBLE);
	}
}

/*
 * A fatal exit ends the process with what it holds: freeing it first
 * would add a cleanup path to every error path and gain nothing.
 * LeakSanitizer, which checks at exit what is unreachable, cannot tell
 * that memory from a leak, and whether it finds the pointers depends on
 * what the compiler left in registers: the same error path is reported
 * in one build and not in another.  In sanitized builds a fatal exit
 * therefore ends in _exit() once the tool's own exit handlers (temp
 * files, commits in flight: registered after this one, so run before
 * it) and stdio are done, before the sanitizer's own handler, which
 * was registered before main().  Leaks stay checked on every other
 * exit, the ones a long run takes.
 */
#if defined(__SANITIZE_ADDRESS__)
static volatile int fatal_code = -1;

static void fatal_skip_leak_check(void)
{
	if (fatal_code < 0)
		return;
	fflush(NULL);
	_exit(fatal_code);
}
#endif

static int exit_code; /* cli_exit's; a plain exit() is taken for 0 */

/*
 * What stdio still holds for stdout at a successful exit (a --help, a
 * version, a verb's report) must reach it, as coreutils' close_stdout
 * sees to: `dedup --help > /dev/full` said nothing and exited 0.  A
 * failing exit has said its trouble already.  Registered first, so it
 * runs after the tool's own exit handlers.
 */
static void out_check_at_exit(void)
{
	if (exit_code != EXIT_OK)
		return;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	int e = errno;
	if (e == EPIPE)
		cli_out_gone(); /* the reader left: quietly, as ever */
	fprintf(stderr, "%s: stdout: %s\n", cli_prog ? cli_prog : "idem",
		e ? strerror(e) : "write error");
	_exit(EXIT_TROUBLE);
}

void cli_exit(int code)
{
	exit_code = code;
#if defined(__SANITIZE_ADDRESS__)
	if (code != EXIT_OK)
		fatal_code = code;
#endif
	exit(code);
}

void cli_init(const char *prog)
{
	fds_guard();
#if defined(__SANITIZE_ADDRESS__)
	atexit(fatal_skip_leak_check);
#endif
	atexit(out_check_at_exit);
	const char *slash = strrchr(prog, '/');
	cli_prog = slash ? slash + 1 : prog;
	/* A pipeline's reader going away is not an error worth a message:
	 * die by SIGPIPE as coreutils do, even if the parent ignored it. */
	signal(SIGPIPE, SIG_DFL);
	/* Past a file-size limit (ulimit -f) a write should fail with
	 * EFBIG, which we report and clean up after, not kill us with a
	 * temp file left behind. */
	signal(SIGXFSZ, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &started);
}

static void out_drain(void);

static void vmsg(const char *fmt, va_list ap)
{
	/* What was written before the trouble goes out before the message,
	 * so a terminal shows them in order. */
	out_drain();
	fflush(stdout);
	fprintf(stderr, "%s: ", cli_prog ? cli_prog : "idem");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cli_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	cli_exit(code);
}

/* The verb cli_verb_pick picked (NULL: none, or the tool's unnamed
 * one): a usage error found after the pick (a bad option value) points
 * to that verb's own --help, the one that lists its options. */
static const char *verb_now;

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s%s%s --help' for more information.\n",
		cli_prog, verb_now ? " " : "", verb_now ? verb_now : "");
	cli_exit(EXIT_TROUBLE);
}

void cli_version(void)
{
	printf("%s (idem) %s\n", cli_prog, IDEM_VERSION);
	cli_out_close();
	exit(EXIT_OK);
}

struct expr *cli_expr(const char *opt, const char *src)
{
	char err[512];
	struct expr *e = expr_compile(src, err, sizeof err);
	if (!e)
		cli_usage_error("%s: %s", opt, err);
	return e;
}

struct expr *cli_expr_copy(const struct expr *e)
{
	char err[512];
	if (!e)
		return NULL;
	struct expr *c = expr_compile(expr_source(e), err, sizeof err);
	if (!c) /* it compiled once: only memory can fail it now */
		cli_die(EXIT_TROUBLE, "%s", err);
	return c;
}

void *cli_worker_new(size_t size, int index)
{
	struct cli_worker *w = xcalloc(1, size);
	w->index = index;
	return w;
}

struct expr *cli_worker_expr(struct cli_worker *w, struct expr *e)
{
	if (!w->index || !e)
		return e;
	w->own = xgrow(w->own, &w->cap, w->nown, sizeof *w->own, 4);
	return w->own[w->nown++] = cli_expr_copy(e);
}

void cli_worker_free(void *wctx)
{
	struct cli_worker *w = wctx;
	for (size_t i = 0; i < w->nown; i++)
		expr_free(w->own[i]);
	free(w->own);
	scan_record_free(&w->rec);
	buf_free(&w->scratch);
	free(w);
}

uint64_t cli_size(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || (errno && errno != ERANGE) || *s < '0' || *s > '9')
		cli_usage_error("%s: not a size: '%s'", opt, s);
	bool big = errno == ERANGE;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: cli_usage_error("%s: not a size: '%s'", opt, s);
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		cli_usage_error("%s: not a size: '%s'", opt, s);
	/* a size, if past 2^64 - 1 bytes */
	if (big || (shift && v > (UINT64_MAX >> shift)))
		cli_usage_error("%s: too large: '%s'", opt, s);
	return (uint64_t)v << shift;
}

size_t cli_max_line(const char *s)
{
	size_t n = (size_t)cli_size("--max-line", s);
	if (n == 0)
		cli_usage_error("--max-line: must be positive");
	return n;
}

enum time_unit cli_time_unit(const char *s)
{
	enum time_unit u;
	if (time_unit_parse(s, &u) != 0)
		cli_usage_error("--time-unit: want s, ms, us or ns, got '%s'",
				s);
	return u;
}

int64_t cli_duration(const char *opt, const char *s)
{
	int64_t ns;
	const char *why;
	if (duration_parse(s, &ns, &why) != 0)
		cli_usage_error("%s: '%s': %s", opt, s, why);
	return ns;
}

uint64_t cli_count(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || (errno && errno != ERANGE) || *s < '0' ||
	    *s > '9')
		cli_usage_error("%s: not a whole number: '%s'", opt, s);
	/* a whole number, if past 2^64 - 1 */
	if (errno == ERANGE)
		cli_usage_error("%s: too large: '%s'", opt, s);
	return v;
}

void cli_many_files(unsigned table)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	/* the kernel refuses more than fs.nr_open (2^20 by default) */
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20)
			      ? (rlim_t)1 << 20 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 ||
		    getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < table)
		table = (unsigned)rl.rlim_cur;
	if (table < 2)
		return;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)table - 1);
	if (hi >= 0)
		close(hi);
	close(fd);
}

int cli_threads(const char *arg)
{
	uint64_t n = cli_count("-j", arg);
	if (n > CLI_MAX_THREADS)
		cli_usage_error("-j: at most %d threads, got '%s'",
				CLI_MAX_THREADS, arg);
	if (n == 0) { /* all online cores */
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c < 1 ? 1 : c > CLI_MAX_THREADS ? CLI_MAX_THREADS : (uint64_t)c;
	}
	return (int)n;
}

static void shard_parse(struct cli_shard *sh, const char *opt,
			const char *arg)
{
	unsigned long i, n;
	char *end;
	errno = 0;
	i = strtoul(arg, &end, 10);
	if (end == arg || *end != '/' || *arg < '0' || *arg > '9')
		goto bad;
	const char *ns = end + 1;
	n = strtoul(ns, &end, 10);
	if (end == ns || *end || errno || *ns < '0' || *ns > '9' || n == 0 ||
	    n > 65536 || i >= n)
		goto bad;
	/* the same option with the same value again is taken, as any
	 * option's is (cli_verb_getopt refuses two values) */
	bool whole = !strcmp(opt, "--partition");
	if (sh->n && (sh->whole != whole || sh->i != i || sh->n != n))
		cli_usage_error("%s: give one --shard or --partition", opt);
	sh->i = (uint32_t)i;
	sh->n = (uint32_t)n;
	return;
bad:
	cli_usage_error("%s: want I/N with 0 <= I < N <= 65536, got '%s'",
			opt, arg);
}

void cli_shard_describe(struct buf *b, const struct cli_shard *s)
{
	if (s->n)
		buf_addf(b, " shard=%" PRIu32 "/%" PRIu32, s->i, s->n);
}

/* What a description says of its shard: "shard I/N", or every what. */
static void shard_said(const char *desc, size_t base, const char *what,
		       char *out, size_t n)
{
	if (desc[base])
		snprintf(out, n, "shard %s", desc + base + 7);
	else
		snprintf(out, n, "every %s (no --shard)", what);
}

/* Shard 0 of 1 holds every key: its state is one of every key. */
static bool shard_every(const char *ending)
{
	return !*ending || !strcmp(ending, " shard=0/1");
}

bool cli_shard_desc_check(const char *path, const char *desc,
			  const char *want, size_t base, bool old,
			  const char *what, char *why, size_t whylen)
{
	why[0] = '\0';
	if (strcmp(desc, want) == 0)
		return true;
	if (strncmp(desc, want, base) != 0 ||
	    (desc[base] && strncmp(desc + base, " shard=", 7) != 0))
		return false;
	if (shard_every(desc + base) && shard_every(want + base))
		return true;
	if (old && !desc[base])
		return true;
	char was[64], is[64];
	shard_said(desc, base, what, was, sizeof was);
	shard_said(want, base, what, is, sizeof is);
	snprintf(why, whylen, "%s: a state of %s, not of %s; give each shard "
		 "its own state file", path, was, is);
	return false;
}

void cli_exact_describe(struct buf *b, bool any)
{
	if (any)
		buf_adds(b, CLI_EXACT_MARK);
}

void cli_zone_describe(struct buf *b, bool any)
{
	if (!any)
		return;
	buf_adds(b, " tz=");
	buf_adds(b, tz_local_name());
}

bool cli_pre_exact_state(const char *path, const char *desc,
			 const char *want, size_t base, bool old,
			 const char *what)
{
	size_t m = strlen(CLI_EXACT_MARK);
	if (base < m || strncmp(want + base - m, CLI_EXACT_MARK, m) != 0)
		return false;
	struct buf w = {0};
	buf_add(&w, want, base - m);
	buf_adds(&w, want + base);
	char why[512];
	bool pre = cli_shard_desc_check(path, desc, w.p, base - m, old, what,
					why, sizeof why);
	buf_free(&w);
	if (pre)
		cli_warn("%s: written when + - * / and jq's math (sqrt, pow...) "
			 "in jq programs were binary floating point: where that "
			 "rounded (.pct * 100 | floor of 0.57 was 56, is 57) a "
			 "%s now differs from the one the state holds; what this "
			 "run saves is exact (idem(7))", path, what);
	return pre;
}

void cli_shard_parse(struct cli_shard *sh, const char *arg)
{
	shard_parse(sh, "--shard", arg);
}

void cli_partition_parse(struct cli_shard *sh, const char *arg)
{
	shard_parse(sh, "--partition", arg);
	sh->whole = true;
}

bool cli_shard_take(const struct cli_shard *s, struct fp128 fp,
		    const char *name, uint64_t lineno,
		    void (*stop)(int status))
{
	if (cli_shard_mine(s, fp))
		return true;
	if (s->whole) {
		cli_warn("%s:%" PRIu64 ": key of partition %" PRIu64
			 ", not %" PRIu32 " of %" PRIu32 " (--partition): "
			 "partition the input with the same key and N%s%s",
			 name, lineno, fp.hi % s->n, s->i, s->n,
			 s->why ? "; or " : "", s->why ? s->why : "");
		if (stop)
			stop(EXIT_TROUBLE);
		cli_exit(EXIT_TROUBLE);
	}
	return false;
}

/*
 * Dead letters wait here while stdout holds records from before them
 * (cli_letter): each is written right after those records reach the
 * kernel and before the records after it, so a reader that has gone
 * ends the run before a letter for a record it never got, and a letter
 * that cannot be written ends it before a record after it goes out.  A
 * run that letters often pays a write of stdout per letter at a drain,
 * not per record.  Bounded: past HELD_MAX bytes, stdout is drained
 * early.
 *
 * The records a side output buffers (cli_side_write) keep their place
 * the same way: a drain writes, in the order they came, stdout's bytes
 * up to each letter or side buffer, then it, then on.  So that a side's
 * buffer goes out in one write, it holds one run of records with
 * nothing else between them (out_seq numbers what went anywhere); a
 * side record after anything else first drains up to the side's last
 * (out_drain_upto).
 */
struct held {
	struct dlq *dlq;
	size_t at; /* out_len when held: its place among stdout's bytes */
	uint64_t seq; /* out_seq when held: its place among the others' */
	size_t rec, rec_len, type, msg, file; /* offsets into held_bytes */
	bool is_json, replayable;
	uint64_t retry_count, line;
};
#define HELD_MAX (1u << 20)
static struct held *held;
static size_t nheld, cap_held;
static struct buf held_bytes;
/* cli_letters_hold(): every letter waits for cli_letters_release() */
static bool hold_all;
/* Calls of cli_out, letters and side records so far, in their order. */
static uint64_t out_seq;
static struct cli_side *sides; /* open */
/* A drain is under way (a message it prints drains again: nothing to
 * do), or an output failed and the run is ending: nothing after the
 * failure goes anywhere. */
static bool draining, out_lost;
static void side_flush(struct cli_side *s);

void cli_out_gone(void)
{
	/* If SIGPIPE was blocked we got EPIPE instead of the signal: end
	 * as quietly. */
	raise(SIGPIPE);
	_exit(EXIT_TROUBLE);
}

static void out_fail(void)
{
	out_lost = true; /* the records before them never went out */
	nheld = 0;
	if (errno == EPIPE)
		cli_out_gone(); /* the reader left */
	int e = errno;
	out_len = 0;
	cli_die(EXIT_TROUBLE, "stdout: %s", strerror(e));
}


/* A letter that could not be written (a full disk): the record is in no
 * output now, so the message names it, and the letters held after it,
 * which go unwritten too. */
static _Noreturn void letter_lost(const struct dlq_letter *l, size_t after,
				  const char *err)
{
	char more[64] = "";
	out_lost = true; /* nothing after it goes out */
	if (after)
		snprintf(more, sizeof more, " (nor the %zu held after it)",
			 after);
	cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": dead letter not written%s: %s",
		l->file, l->line, more, err);
}

/* A held letter as dlq_put takes it. */
static struct dlq_letter held_letter(const struct held *h)
{
	const char *b = held_bytes.p;
	return (struct dlq_letter){
		.record = b + h->rec, .len = h->rec_len,
		.is_json = h->is_json, .error_type = b + h->type,
		.error_message = b + h->msg, .retry_count = h->retry_count,
		.replayable = h->replayable, .file = b + h->file,
		.line = h->line,
	};
}

static void letters_out(void)
{
	char err[512];
	size_t n = nheld;
	nheld = 0; /* first: dying below drains again */
	for (size_t k = 0; k < n; k++) {
		struct dlq_letter l = held_letter(&held[k]);
		if (dlq_put(held[k].dlq, &l, err, sizeof err) != 0)
			letter_lost(&l, n - k - 1, err);
	}
	buf_reset(&held_bytes);
}

/* The side whose buffered records come first, or NULL. */
static struct cli_side *side_due(void)
{
	struct cli_side *d = NULL;
	for (struct cli_side *s = sides; s; s = s->next)
		if (s->records > s->flushed && (!d || s->first < d->first))
			d = s;
	return d;
}

/*
 * stdout's buffer, the letters held among it and the sides' buffers,
 * each in its place, up to event upto (out_seq's numbering) and the
 * stdout bytes before it; what comes after stays buffered, moved to the
 * front.  A write that fails ends the run there.
 */
static void out_drain_upto(uint64_t upto)
{
	char err[512];
	if (draining || out_lost)
		return;
	draining = true;
	size_t n = out_len, done = 0, k = 0;
	size_t m = hold_all ? 0 : nheld;
	for (;;) {
		struct cli_side *s = side_due();
		bool letter = k < m && (!s || held[k].seq < s->first);
		if (!letter && !s)
			break;
		if ((letter ? held[k].seq : s->first) > upto)
			break;
		size_t at = letter ? held[k].at : s->at;
		assert(at <= n && at >= done);
		if (at > done &&
		    write_all(STDOUT_FILENO, out_buf + done, at - done) != 0)
			out_fail();
		done = at;
		if (!letter) {
			side_flush(s);
			continue;
		}
		struct dlq_letter l = held_letter(&held[k]);
		struct dlq *d = held[k++].dlq;
		if (dlq_put(d, &l, err, sizeof err) != 0)
			letter_lost(&l, m - k, err);
	}
	if (upto == UINT64_MAX && n > done) {
		if (write_all(STDOUT_FILENO, out_buf + done, n - done) != 0)
			out_fail();
		done = n;
	}
	if (done) {
		memmove(out_buf, out_buf + done, n - done);
		out_len = n - done;
		for (size_t j = k; j < nheld; j++)
			held[j].at = held[j].at > done ? held[j].at - done : 0;
		for (struct cli_side *s = sides; s; s = s->next)
			s->at = s->at > done ? s->at - done : 0;
	}
	if (k) {
		memmove(held, held + k, (nheld - k) * sizeof *held);
		nheld -= k;
		if (nheld == 0)
			buf_reset(&held_bytes);
	}
	draining = false;
}

static void out_drain(void)
{
	out_drain_upto(UINT64_MAX);
}

void cli_letters_hold(void)
{
	hold_all = true;
}

void cli_letters_release(void)
{
	hold_all = false;
	if (nheld)
		letters_out();
}

void cli_out(const void *data, size_t n)
{
	cli_stats.bytes_out += n;
	out_seq++;
	if (out_len + n > sizeof out_buf) {
		out_drain();
		if (n > sizeof out_buf) {
			if (write_all(STDOUT_FILENO, data, n) != 0)
				out_fail();
			return;
		}
	}
	memcpy(out_buf + out_len, data, n);
	out_len += n;
}

void cli_out_line(const void *data, size_t n)
{
	cli_out(data, n);
	cli_out("\n", 1);
}

/*
 * The folder of the file stdout is: the shell's > made its name just
 * before the run, and a state commit after this vouches for what the file
 * holds, so the name must be durable first (tests/powercut: the state's
 * rename reached the disk, the output file's name did not).  Found by
 * /proc; without it, or without read access to the folder, nothing more
 * can be done.
 */
static void out_sync_dir(void)
{
	char path[PATH_MAX];
	ssize_t k = readlink("/proc/self/fd/1", path, sizeof path - 1);
	if (k <= 0 || path[0] != '/')
		return;
	path[k] = '\0';
	char *slash = strrchr(path, '/');
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fsync(fd) != 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		cli_die(EXIT_TROUBLE, "stdout: fsync folder %s: %s", path,
			strerror(e));
	}
	close(fd);
}

void cli_out_commit(void)
{
	struct stat st;
	out_drain();
	fflush(stdout);
	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (fsync(STDOUT_FILENO) != 0 && errno != EINVAL)
		cli_die(EXIT_TROUBLE, "stdout: fsync: %s", strerror(errno));
	out_sync_dir();
}

void cli_out_delivered(void)
{
	uint64_t unread;
	cli_out_commit();
	if (feed_out_taken(STDOUT_FILENO, &unread))
		cli_out_gone(); /* as if the next write had met SIGPIPE */
}

void cli_out_flush(void)
{
	out_drain(); /* the sides' buffers too */
	if (fflush(stdout) != 0)
		out_fail();
}

void cli_out_close(void)
{
	out_drain();
	if (fflush(stdout) != 0 || ferror(stdout))
		out_fail();
	if (close(STDOUT_FILENO) != 0 && errno != EBADF && errno != EINTR)
		out_fail();
}

/* The input a loop is inside of, whose bytes join bytes_in only at its
 * end: read at print time (reading) or as last told (reading_bytes). */
static const struct lines *reading;
static uint64_t reading_bytes;

void cli_stats_reading(const struct lines *in, uint64_t bytes)
{
	reading = in;
	reading_bytes = bytes;
}

void cli_stats_print(const char *extra)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - started.tv_sec) +
		      (double)(now.tv_nsec - started.tv_nsec) / 1e9;
	struct cli_stats now_s = cli_stats, *s = &now_s;
	/* a run stopped inside an input has read part of it */
	s->bytes_in += reading ? lines_bytes(reading) : reading_bytes;
	/* letters held for a release that a stopped run never makes are
	 * never written (cli_letters_hold) */
	if (hold_all)
		s->dead_lettered -= nheld;
	fprintf(stderr,
		"{\"tool\":\"%s\",\"records_in\":%" PRIu64
		",\"records_out\":%" PRIu64 ",\"duplicates\":%" PRIu64
		",\"late\":%" PRIu64 ",\"dead_lettered\":%" PRIu64
		",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
		"%s,\"seconds\":%.3f}\n",
		cli_prog, s->records_in, s->records_out, s->duplicates,
		s->late, s->dead_lettered, s->bytes_in, s->bytes_out,
		extra ? extra : "", secs);
}

void cli_dropped(uint64_t n, const char *what, const char *keep)
{
	if (n == 0)
		return;
	fprintf(stderr, "%s: %" PRIu64 " record%s dropped: %s (%s keeps "
		"them)\n", cli_prog, n, n == 1 ? "" : "s", what, keep);
}

static int progress_shown;
static struct timespec progress_last;

void cli_progress(uint64_t records, uint64_t bytes)
{
	static int tty = -1;
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - progress_last.tv_sec) * 1000 +
		  (now.tv_nsec - progress_last.tv_nsec) / 1000000;
	if (progress_shown && ms < 250)
		return;
	progress_last = now;
	progress_shown = 1;
	fprintf(stderr, "\r%s: %" PRIu64 " records, %.1f MB\033[K", cli_prog,
		records, (double)bytes / 1e6);
}

void cli_progress_done(void)
{
	if (progress_shown)
		fprintf(stderr, "\r\033[K");
	progress_shown = 0;
}

int cli_each_line(char **files, size_t max_line,
		  void (*fn)(const struct line *ln, const char *name),
		  void (*eof)(void), char *err, size_t errlen)
{
	static char dash[] = "-";
	char *stdin_only[] = {dash, NULL};
	if (!files || !*files)
		files = stdin_only;
	for (char **first = files; *files; files++) {
		if (files != first && lines_may_block(*files))
			cli_out_flush(); /* a FIFO's open may wait */
		struct lines *in = lines_open(*files, max_line, err, errlen);
		if (!in)
			return -1;
		const char *name = lines_name(in);
		struct line ln;
		int r;
		lines_set_wait(in, true);
		cli_stats_reading(in, 0);
		while ((r = lines_next(in, &ln, err, errlen)) > 0) {
			if (r == LINES_WAIT) {
				cli_out_flush();
				continue;
			}
			fn(&ln, name);
			if ((cli_stats.records_in & 0xffff) == 0)
				cli_progress(cli_stats.records_in,
					     cli_stats.bytes_in + lines_bytes(in));
		}
		if (eof)
			eof();
		cli_stats.bytes_in += lines_bytes(in);
		cli_stats_reading(NULL, 0);
		lines_close(in);
		if (r < 0)
			return -1;
	}
	return 0;
}

const char *cli_line_fault(const struct line *ln, size_t max_line,
			   const char *limit, struct scan_record *rec,
			   bool want_object, bool *is_json, char *msg,
			   size_t len)
{
	return cli_line_fault_typed(ln, max_line, limit, rec, want_object,
				    is_json, msg, len, NULL, NULL);
}

const char *cli_line_fault_typed(const struct line *ln, size_t max_line,
				 const char *limit, struct scan_record *rec,
				 bool want_object, bool *is_json, char *msg,
				 size_t len, const struct scan_typer *ty,
				 bool *fits)
{
	struct scan_error se;
	*is_json = false;
	if (fits)
		*fits = false;
	if (ln->torn && ln->too_long) { /* the letter keeps a prefix */
		snprintf(msg, len, "%s; %zu bytes, longer than %s %zu",
			 LINES_TORN_MSG, ln->full_len,
			 limit ? limit : "the limit of", max_line);
		return "torn_line";
	}
	if (ln->torn) {
		snprintf(msg, len, "%s", LINES_TORN_MSG);
		return "torn_line";
	}
	if (ln->too_long) {
		if (limit)
			snprintf(msg, len, "line of %zu bytes is longer than "
				 "%s %zu", ln->full_len, limit, max_line);
		else
			snprintf(msg, len, "line of %zu bytes is longer than "
				 "the limit of %zu", ln->full_len, max_line);
		return "line_too_long";
	}
	if ((ty ? ty->scan(rec, ln->p, ln->len, &se, ty->ctx, fits)
		: scan_record(rec, ln->p, ln->len, &se)) != 0) {
		snprintf(msg, len, "invalid JSON: %s at byte %zu", se.what,
			 se.offset + 1);
		return "invalid_json";
	}
	*is_json = true;
	char c = ln->p[rec->start];
	if (want_object && c != '{') {
		snprintf(msg, len, "record is %s %s, not an object",
			 c == '[' ? "an" : "a", scan_type(ln->p + rec->start));
		return "wrong_type";
	}
	return NULL;
}

bool cli_bad_record(struct dlq *dlq, const struct line *ln, const char *name,
		    bool is_json, const char *type, const char *msg)
{
	if (!dlq) {
		cli_warn("%s:%" PRIu64 ": %s", name, ln->lineno, msg);
		return false;
	}
	struct dlq_letter l = {
		.record = ln->p, .len = ln->len, .is_json = is_json,
		.error_type = type, .error_message = msg,
		.replayable = !ln->too_long && !ln->torn, .file = name,
		.line = ln->lineno,
	};
	if (ln->torn) /* trouble upstream: say so even with a DLQ */
		cli_warn("%s:%" PRIu64 ": %s; dead-lettered as torn_line, not "
			 "replayable", name, ln->lineno, LINES_TORN_MSG);
	cli_letter(dlq, &l);
	return true;
}

static size_t held_add(const char *p, size_t n)
{
	size_t at = held_bytes.len;
	buf_add(&held_bytes, p, n);
	buf_addc(&held_bytes, '\0');
	return at;
}

/* Written now when stdout holds nothing from before it, else held until
 * it does not (out_drain). */
void cli_letter(struct dlq *dlq, const struct dlq_letter *l)
{
	char err[512];
	cli_stats.dead_lettered++;
	out_seq++;
	if (out_len == 0 && nheld == 0 && !hold_all && !side_due()) {
		if (dlq_put(dlq, l, err, sizeof err) != 0)
			letter_lost(l, 0, err);
		return;
	}
	held = xgrow(held, &cap_held, nheld, sizeof *held, 64);
	struct held *h = &held[nheld++];
	*h = (struct held){
		.dlq = dlq, .at = out_len, .seq = out_seq, .rec_len = l->len,
		.is_json = l->is_json,
		.replayable = l->replayable, .retry_count = l->retry_count,
		.line = l->line,
	};
	h->rec = held_add(l->record, l->len);
	h->type = held_add(l->error_type, strlen(l->error_type));
	h->msg = held_add(l->error_message, strlen(l->error_message));
	h->file = held_add(l->file, strlen(l->file));
	if (held_bytes.len > HELD_MAX) {
		if (hold_all) /* bounded: past it they go as they come */
			letters_out();
		else
			out_drain();
	}
}

void cli_reject(struct dlq *dlq, void (*stop)(int status),
		const struct line *ln, const char *name, bool is_json,
		const char *type, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!cli_bad_record(dlq, ln, name, is_json, type, msg)) {
		stop(EXIT_TROUBLE);
		cli_exit(EXIT_TROUBLE); /* stop must not return */
	}
}

/* ---- side outputs and dead letters ---- */

/* Where path is, as a key two spellings of one file share: its device
 * and inode when it exists, else its folder's real path and its name. */
struct file_key {
	bool exists;
	bool pipe; /* a pipe or socket: exists, and carries records on */
	bool sock; /* a socket, which may be read and written both */
	dev_t dev;
	ino_t ino;
	char *name; /* !exists: realpath(folder) "/" base, or NULL */
};

static void file_key(const char *path, int fd, struct file_key *k)
{
	struct stat sb;
	k->name = NULL;
	k->pipe = k->sock = false;
	k->exists = path ? stat(path, &sb) == 0 : fstat(fd, &sb) == 0;
	if (k->exists) {
		k->dev = sb.st_dev;
		k->ino = sb.st_ino;
		/* A pipe or socket is one too: --dlq /dev/stdout when stdout
		 * is a pipe would mix dead letters into the records its
		 * reader takes.  A terminal or /dev/null is no file to lose. */
		k->sock = S_ISSOCK(sb.st_mode);
		k->pipe = S_ISFIFO(sb.st_mode) || k->sock;
		if (!S_ISREG(sb.st_mode) && !k->pipe)
			k->exists = false;
		return;
	}
	if (!path)
		return;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path + 1))
			  : xstrdup(".");
	char *real = realpath(dir, NULL);
	free(dir);
	if (!real)
		return;
	const char *base = slash ? slash + 1 : path;
	k->name = xmalloc(strlen(real) + strlen(base) + 2);
	sprintf(k->name, "%s/%s", real, base);
	free(real);
}

static bool file_same(const struct file_key *a, const struct file_key *b)
{
	if (a->exists && b->exists)
		return a->dev == b->dev && a->ino == b->ino;
	return !a->exists && !b->exists && a->name && b->name &&
	       !strcmp(a->name, b->name);
}

/* "--late late.ndjson", or "standard output". */
static const char *out_name(const struct cli_output *o, char *buf,
			    size_t len)
{
	if (!o->path)
		return "standard output";
	snprintf(buf, len, "%s %s", o->what, o->path);
	return buf;
}

void cli_check_outputs(const struct cli_output *outs, size_t n,
		       char *const *files)
{
	/* '-' is standard input as an input: as an output it would be a
	 * file of that name the user never sees, or stdout's records and
	 * these mixed; neither is what was asked */
	/* an empty name (an unset shell variable) failed at its open as
	 * "dedup: : No such file or directory", naming no option */
	for (size_t i = 0; i < n; i++)
		if (outs[i].path && !outs[i].path[0])
			cli_die(EXIT_TROUBLE, "%s: an empty file name; name the "
				"%s", outs[i].what,
				strcmp(outs[i].what, "--state") ? "file"
								: "state file");
	for (size_t i = 0; i < n; i++)
		if (outs[i].path && !strcmp(outs[i].path, "-"))
			cli_die(EXIT_TROUBLE, "%s -: '-' names standard input "
				"or output, not a file; name a file (./- for "
				"one called -)", outs[i].what);
	struct file_key *k = xcalloc(n ? n : 1, sizeof *k);
	bool *append = xcalloc(n ? n : 1, sizeof *append);
	char b1[PATH_MAX + 64], b2[PATH_MAX + 64], msg[2 * PATH_MAX + 256];
	msg[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		file_key(outs[i].path, 1, &k[i]);
		/* standard output appends when the shell opened it so (>>) */
		append[i] = outs[i].path ? outs[i].append
					 : (fcntl(1, F_GETFL) & O_APPEND) != 0;
	}
	char *const stdin_only[] = {"-", NULL};
	char *const *in = files[0] ? files : stdin_only;
	for (size_t j = 0; in[j] && !msg[0]; j++) {
		bool is_stdin = !strcmp(in[j], "-");
		struct file_key f;
		file_key(is_stdin ? NULL : in[j], 0, &f);
		/* (a socket on stdin and stdout, as under inetd, is one
		 * connection read and written, not an input overwritten) */
		for (size_t i = 0; f.exists && !f.sock && i < n && !msg[0];
		     i++)
			if (file_same(&f, &k[i]))
				snprintf(msg, sizeof msg,
					 "%s is also an input%s: a file "
					 "written while it is read loses or "
					 "repeats records; name another",
					 out_name(&outs[i], b1, sizeof b1),
					 is_stdin ? " (standard input)" : "");
		free(f.name);
	}
	for (size_t i = 0; i < n && !msg[0]; i++)
		for (size_t j = i + 1; j < n && !msg[0]; j++) {
			if (!file_same(&k[i], &k[j]))
				continue;
			/* two appends may share a file, but for a dead-letter
			 * file: records among its envelopes, dlq stats, replay
			 * and purge refuse the whole file */
			bool both = append[i] && append[j];
			bool dlq = !strcmp(outs[i].what, "--dlq") ||
				   !strcmp(outs[j].what, "--dlq");
			if (both && !dlq)
				continue;
			if (k[i].pipe) {
				snprintf(msg, sizeof msg,
					 "%s and %s are one pipe: its reader "
					 "would get the records of both mixed; "
					 "name two",
					 out_name(&outs[i], b1, sizeof b1),
					 out_name(&outs[j], b2, sizeof b2));
				break;
			}
			snprintf(msg, sizeof msg,
				 both ? "%s and %s are one file: a dead-letter "
				       "file holds dead letters alone, or dlq "
				       "refuses it; name two"
				     : "%s and %s are one file: one would "
				       "overwrite the other; name two",
				 out_name(&outs[i], b1, sizeof b1),
				 out_name(&outs[j], b2, sizeof b2));
		}
	for (size_t i = 0; i < n; i++)
		free(k[i].name);
	free(k);
	free(append);
	if (msg[0])
		cli_die(EXIT_TROUBLE, "%s", msg);
}

/* "-" is what standard input is: a regular file there is read from its
 * start by /dev/stdin or its own path as well. */
static int input_stat(const char *f, struct stat *st)
{
	return strcmp(f, "-") ? stat(f, st) : fstat(STDIN_FILENO, st);
}

void cli_inputs_once(char *const *files, const char *where)
{
	for (size_t i = 0; files[i]; i++) {
		struct stat a, b;
		bool file = input_stat(files[i], &a) == 0 && S_ISREG(a.st_mode);
		for (size_t j = 0; j < i; j++) {
			bool dash = !strcmp(files[i], "-");
			if (!strcmp(files[i], files[j]) && !dash)
				cli_die(EXIT_TROUBLE, "%s: named twice: its "
					"records would count twice %s; name "
					"each once", files[i], where);
			if (dash && !strcmp(files[j], "-"))
				continue; /* read once: then at its end */
			if (file && input_stat(files[j], &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				cli_die(EXIT_TROUBLE, "%s: the same file as %s "
					"(a hard link or a second name): its "
					"records would count twice %s; name "
					"each once", files[i], files[j], where);
		}
	}
}

void cli_check_common_outputs(char *const *files, const char *late,
			      const char *dlq, const char *state)
{
	struct cli_output outs[4] = {{"output", NULL, false}};
	size_t n = 1;
	if (late)
		outs[n++] = (struct cli_output){"--late", late, true};
	if (dlq)
		outs[n++] = (struct cli_output){"--dlq", dlq, true};
	if (state)
		outs[n++] = (struct cli_output){"--state", state, false};
	cli_check_outputs(outs, n, files);
}

void cli_side_open(struct cli_side *s, const char *path, bool append)
{
	char err[512];
	if (append) {
		/* Records after a torn one would be glued to it. */
		int64_t cut = dlq_cut_torn(path, err, sizeof err);
		if (cut < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (cut)
			cli_warn("%s: cut off a torn last line of %" PRId64
				 " bytes (a writer killed mid-write; its run "
				 "had not finished)", path, cut);
	}
	/* readable when appended to, to see a torn end (side_lock) */
	s->fd = open(path, (append ? O_RDWR | O_APPEND : O_WRONLY) | O_CREAT |
				   O_CLOEXEC,
		     0644);
	if (s->fd < 0 && append && errno == EACCES)
		s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0644);
	if (s->fd < 0)
		cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(errno));
	struct stat st;
	bool regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
	/* A file replaced has one writer: shards given one --dupes each
	 * truncated it and wrote from their own offset, over each other,
	 * so most records and a line's end were lost, exit 0.  The lock
	 * is the file's own, held till it is closed, taken before the
	 * truncation that would cut another's records. */
	if (!append && regular) {
		if (flock(s->fd, LOCK_EX | LOCK_NB) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", path,
				errno == EWOULDBLOCK
					? "another run is writing it (shards "
					  "given one file?); give each run its "
					  "own"
					: strerror(errno));
		if (ftruncate(s->fd, 0) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(errno));
		st.st_size = 0;
	}
	s->path = path;
	s->records = s->flushed = 0;
	s->start = regular ? st.st_size : -1;
	s->shared = append && regular;
	s->z = zout_open(s->fd, 0);
	s->next = sides;
	sides = s;
}

/* The whole lines PATH holds past START: the records of this run that
 * reached it.  -1 when it cannot be read back. */
static int64_t side_lines_since(const char *path, off_t start)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char b[65536];
	int64_t lines = 0;
	ssize_t n;
	while ((n = pread(fd, b, sizeof b, start)) > 0) {
		for (const char *p = b;
		     (p = memchr(p, '\n', (size_t)(b + n - p))); p++)
			lines++;
		start += n;
	}
	close(fd);
	return n < 0 ? -1 : lines;
}

/* A failed write (a full disk) may have left part of a record at the
 * end: cut it off now, as the dead-letter writer does, not at the next
 * run, so no reader meanwhile takes the fragment for a last line.  The
 * message says how many of the records set aside the file lacks: they
 * are in no output, and no count of drops says them. */
static void side_die(const struct cli_side *s, const char *err)
{
	char cerr[512], torn[96] = "", lost[192];
	out_lost = true; /* nothing after its records goes out */
	/* dlq_cut_torn locks the file anew: our own writer's lock
	 * (cli_side_open) would make it wait for ever */
	flock(s->fd, LOCK_UN);
	int64_t cut = s->start >= 0 ?
			      dlq_cut_torn(s->path, cerr, sizeof cerr) : 0;
	if (cut > 0)
		snprintf(torn, sizeof torn, "; the torn last line (%" PRId64
			 " bytes) was cut off", cut);
	if (cut < 0)
		cli_warn("%s", cerr);
	int64_t kept = s->start >= 0 ? side_lines_since(s->path, s->start)
				     : -1;
	if (kept >= 0 && (uint64_t)kept <= s->records)
		snprintf(lost, sizeof lost, "; %" PRIu64 " of the %" PRIu64
			 " records set aside for it did not reach it",
			 s->records - (uint64_t)kept, s->records);
	else /* a pipe or device: part of the last write may have gone */
		snprintf(lost, sizeof lost, "; up to %" PRIu64 " of the %"
			 PRIu64 " records set aside for it did not reach it",
			 s->records - s->flushed, s->records);
	cli_die(EXIT_TROUBLE, "%s: %s%s%s", s->path, err, torn, lost);
}

/*
 * Writes to an appended side file (shards given one --late) go out under
 * its shared lock, which dlq_cut_torn takes exclusively: a run starting
 * took another's line half written for a killed writer's torn one and
 * cut it, with all that was appended meanwhile, records lost while
 * their run said exit 0.  Under the lock, a torn end is a killed
 * writer's: cut off before our lines are glued to it, as dlq_put does.
 */
static void side_lock(struct cli_side *s)
{
	int r;
	if (!s->shared)
		return;
	while ((r = flock(s->fd, LOCK_SH)) < 0 && errno == EINTR)
		;
	if (r < 0 || !dlq_tail_torn(s->fd))
		return; /* no flock here: no protocol */
	char err[512];
	flock(s->fd, LOCK_UN);
	int64_t cut = dlq_cut_torn(s->path, err, sizeof err);
	if (cut < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (cut)
		cli_warn("%s: cut off a torn last line of %" PRId64 " bytes "
			 "(a writer killed mid-write; its run had not "
			 "finished)", s->path, cut);
	while (flock(s->fd, LOCK_SH) < 0 && errno == EINTR)
		;
}

static void side_unlock(struct cli_side *s)
{
	if (s->shared)
		flock(s->fd, LOCK_UN);
}

/* Write out the buffer (out_drain_upto calls it in the buffer's place). */
static void side_flush(struct cli_side *s)
{
	char err[512];
	side_lock(s);
	if (zout_flush(s->z, err, sizeof err) != 0)
		side_die(s, err);
	side_unlock(s);
	s->flushed = s->records;
}

void cli_side_write(struct cli_side *s, const char *rec, size_t len)
{
	char err[512];
	if (!s->path)
		return;
	/* The file changes only after stdout's records before this one
	 * went out, as with a dead letter (cli_letter): a late file is
	 * appended to, and a rerun from the last record the reader took
	 * would set these aside again.  And what goes out after it waits
	 * until it is written: one that cannot be ends the run first.  So
	 * the buffer holds one run of records, which goes out in its
	 * place (out_drain_upto): a record after anything else (stdout's,
	 * a letter, another side's) first writes out what it holds, and
	 * what came before it.
	 * A record reaches the file with its newline in one write(2): the
	 * buffer goes out before a record that would not fit whole, and a
	 * record longer than the buffer goes out alone.  So another
	 * process appending to the same file (shards given one --late)
	 * lands between whole lines, and a failed write leaves them. */
	if (s->records > s->flushed &&
	    (s->last != out_seq || len + 1 > zout_room(s->z)))
		out_drain_upto(s->last);
	assert(s->records == s->flushed || s->last == out_seq);
	if (len + 1 <= zout_room(s->z)) {
		if (s->records++ == s->flushed) {
			s->first = out_seq + 1;
			s->at = out_len;
		}
		s->last = ++out_seq;
		if (zout_write(s->z, rec, len, err, sizeof err) ||
		    zout_write(s->z, "\n", 1, err, sizeof err))
			side_die(s, err);
		return;
	}
	out_drain(); /* alone: all before it goes out first */
	out_seq++;
	s->records++;
	char *line = xmalloc(len + 1);
	memcpy(line, rec, len);
	line[len] = '\n';
	side_lock(s);
	int rc = zout_write(s->z, line, len + 1, err, sizeof err);
	side_unlock(s);
	free(line);
	if (rc)
		side_die(s, err);
	s->flushed = s->records;
}

void cli_side_close(struct cli_side *s)
{
	char err[512];
	if (!s->path)
		return;
	const char *path = s->path;
	if (s->records > s->flushed) /* in its place, stdout's before it */
		out_drain_upto(s->last);
	for (struct cli_side **p = &sides; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	side_lock(s);
	if (zout_close(s->z, err, sizeof err) != 0)
		side_die(s, err);
	side_unlock(s);
	s->path = NULL;
	struct stat st;
	bool regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
	/* EINVAL, EROFS: /dev/null, a pipe, a terminal; nothing to sync. */
	if ((fsync(s->fd) != 0 && errno != EINVAL && errno != EROFS) ||
	    (close(s->fd) != 0 && errno != EINTR))
		cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(errno));
	/* the file's name too, before a state commit vouches for what the
	 * file holds: a new name is not durable until its folder is */
	if (regular && commit_sync_dir(path, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}

/* A torn letter cut off is said: its bytes are gone from the file. */
static void dlq_torn_said(struct dlq *d)
{
	const char *path = dlq_name(d);
	uint64_t cut = dlq_take_cut(d);
	if (cut)
		cli_warn("%s: cut off a torn last line of %" PRIu64 " bytes "
			 "(a writer killed mid-write; its run had not "
			 "finished)", path, cut);
}

struct dlq *cli_dlq_open(const char *path)
{
	char err[512];
	struct dlq *d = dlq_open(path, cli_prog, err, sizeof err);
	if (!d)
		cli_die(EXIT_TROUBLE, "%s", err);
	dlq_torn_said(d);
	return d;
}

void cli_dlq_close(struct dlq **d)
{
	char err[512];
	if (nheld)
		out_drain(); /* stdout first, then the letters it held */
	struct dlq *x = *d;
	*d = NULL;
	if (x)
		dlq_torn_said(x);
	if (x && dlq_close(x, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}

struct state_reader *cli_state_open(const char *path, const char *kind,
				    uint32_t max_version,
				    struct state_gen *g, uint32_t *version,
				    uint64_t *payload_len)
{
	char err[512];
	struct state_reader *r = state_read_begin_gen(path, kind, max_version,
						      g, version,
						      payload_len, err,
						      sizeof err);
	if (!r && err[0])
		cli_die(EXIT_TROUBLE, "%s", err);
	return r;
}

unsigned char *cli_state_read_all(struct state_reader *r,
				  uint64_t payload_len)
{
	char err[512];
	unsigned char *data = state_read_all(r, payload_len, err,
					     sizeof err);
	if (!data)
		cli_die(EXIT_TROUBLE, "%s", err);
	return data;
}

/* Edit distance with swaps of two neighbours (--kye is one step from
 * --key), capped: the names compared are option and verb names. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	unsigned char d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1u < best)
				best = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < best)
				best = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < best)
				best = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)best;
		}
	return d[la][lb];
}

const char *cli_nearest(const char *s, const char *const *names)
{
	while (*s == '-')
		s++;
	const char *best = NULL;
	size_t bd = SIZE_MAX;
	for (size_t k = 0; names && names[k]; k++) {
		/* a name that differs only in case is the one meant (Delta
		 * resolves columns so), before any one edit away */
		if (strcasecmp(s, names[k]) == 0)
			return names[k];
		size_t d = edit_distance(s, names[k]);
		if (d < bd) {
			bd = d;
			best = names[k];
		}
	}
	size_t limit = strlen(s) / 3;
	if (limit < 1)
		limit = 1;
	if (bd <= limit)
		return best;
	/* Another tool's name for an option: Beam's --allowed-lateness
	 * is our --lateness, a --tumbling window our --tumble. */
	size_t ls = strlen(s);
	const char *stem = NULL;
	size_t nstem = 0;
	for (size_t k = 0; names && names[k]; k++) {
		size_t ln = strlen(names[k]);
		if (ln < ls && s[ls - ln - 1] == '-' &&
		    !strcmp(s + ls - ln, names[k]))
			return names[k];
		size_t c = 0;
		while (s[c] && s[c] == names[k][c])
			c++;
		if (c >= 4 && c + 1 >= ln && c < ls) {
			stem = names[k];
			nstem++;
		}
	}
	return nstem == 1 ? stem : NULL;
}

_Noreturn void cli_verb_usage_error(const struct cli_verb *v, const char *fmt,
				    ...)
{
	va_list ap;
	out_drain();
	fflush(stdout);
	if (v->name)
		fprintf(stderr, "%s: %s: ", cli_prog, v->name);
	else
		fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s %s\nTry '%s%s%s --help' for more "
		"information.\n", cli_prog, v->usage, cli_prog,
		v->name ? " " : "", v->name ? v->name : "");
	cli_exit(EXIT_TROUBLE);
}

/* The named verbs, NULL-terminated, for cli_nearest(). */
static void verb_names(const struct cli_verb *verbs, size_t n,
		       const char **names, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < max; i++)
		if (verbs[i].name)
			names[k++] = verbs[i].name;
	names[k] = NULL;
}

/* "a, b, c": the verbs, for a message. */
static void verb_list(const struct cli_verb *verbs, size_t n, char *out,
		      size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!verbs[i].name)
			continue;
		int k = snprintf(out + used, len - used, "%s%s",
				 used ? ", " : "", verbs[i].name);
		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
}

/* Another tool's word for one of ours (Delta's DESCRIBE HISTORY is
 * txlog log): the verb of verbs it names, or NULL.  Spelling alone does
 * not find these. */
static const char *verb_synonym(const struct cli_verb *verbs, size_t n,
				const char *name)
{
	static const char *const syn[][2] = {
		{"history", "log"},    {"describe", "schema"},
		{"compact", "optimize"}, {"insert", "append"},
		{"upsert", "merge"},   {"select", "cat"},
		{"rollback", "restore"}, {"cdf", "changes"},
	};
	for (size_t k = 0; k < sizeof syn / sizeof syn[0]; k++) {
		if (strcmp(syn[k][0], name) != 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (verbs[i].name && !strcmp(verbs[i].name, syn[k][1]))
				return verbs[i].name;
	}
	return NULL;
}

const struct cli_verb *cli_verb_find(const struct cli_verb *verbs, size_t n,
				     const char *name)
{
	const char *names[65];
	char list[512];
	for (size_t i = 0; i < n; i++)
		if (verbs[i].name && strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	verb_names(verbs, n, names, 65);
	verb_list(verbs, n, list, sizeof list);
	const char *near = cli_nearest(name, names);
	if (!near)
		near = verb_synonym(verbs, n, name);
	if (near)
		cli_usage_error("unknown verb '%s'; did you mean '%s'?", name,
				near);
	cli_usage_error("unknown verb '%s' (%s)", name, list);
}

/* The tool's verbs, for an option that belongs to another one. */
static const struct cli_verb *picked;
static size_t npicked;

const struct cli_verb *cli_verb_pick(const struct cli_verb *verbs, size_t n,
				     int *argc, char ***argv,
				     void (*help)(int status))
{
	picked = verbs;
	npicked = n;
	const struct cli_verb *dflt = NULL;
	const char *word = *argc > 1 ? (*argv)[1] : NULL;
	for (size_t i = 0; i < n; i++) {
		if (!verbs[i].name) {
			dflt = &verbs[i];
			continue;
		}
		if (word && strcmp(verbs[i].name, word) == 0) {
			(*argc)--;
			(*argv)++;
			verb_now = verbs[i].name;
			return &verbs[i];
		}
	}
	if (dflt) {
		/* a near miss of a verb that is no file is a typo, not an
		 * input to read */
		const char *names[65];
		verb_names(verbs, n, names, 65);
		if (word && word[0] != '-' && access(word, F_OK) != 0 &&
		    cli_nearest(word, names))
			cli_verb_find(verbs, n, word);
		return dflt;
	}
	if (!word) {
		char list[512];
		verb_list(verbs, n, list, sizeof list);
		cli_usage_error("missing verb (%s)", list);
	}
	if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0)
		help(EXIT_OK);
	if (strcmp(word, "--version") == 0)
		cli_version();
	const struct cli_verb *v = cli_verb_find(verbs, n, word);
	(*argc)--;
	(*argv)++;
	return v;
}

void cli_examples(FILE *f, const char *examples)
{
	if (examples && *examples)
		fprintf(f, "\nExamples:\n%s", examples);
}

void cli_verb_help(const struct cli_verb *v, const struct cli_opthelp *opts,
		   size_t nopts)
{
	/* -h's text in the column the tool's option texts use */
	int col = 26;
	printf("Usage: %s %s\n%s.\n\nOptions:\n", cli_prog, v->usage,
	       v->what);
	for (size_t i = 0; i < nopts; i++) {
		const char *gap = strstr(opts[i].help + 6, "  ");
		if (i == 0 && gap)
			col = (int)(gap + strspn(gap, " ") - opts[i].help);
		if (cli_verb_takes(v, opts[i].name))
			fputs(opts[i].help, stdout);
	}
	printf("  %-*sshow this help\n\nSee %s(1).\n", col - 2,
	       "-h, --help", cli_prog);
	cli_examples(stdout, v->examples);
	cli_out_close();
	exit(EXIT_OK);
}
/* Is name one of the space-separated words of list? */
static bool name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/*
 * An option that takes one value, given again with another: getopt
 * would keep the last and drop the first without a word, so that
 * `--tumble 1m ... --tumble 5m` silently runs one of them.  The same
 * value twice is harmless and taken.
 */
static const char *twice_repeats; /* NULL: not checked */

void cli_refuse_twice(const char *repeats)
{
	twice_repeats = repeats;
}

static void refuse_twice(const struct cli_verb *v, const char *name,
			 const char *arg)
{
	static struct {
		const char *name, *arg;
	} given[64];
	static size_t ngiven;
	if (!twice_repeats || !arg || name_listed(twice_repeats, name))
		return;
	for (size_t i = 0; i < ngiven; i++)
		if (given[i].name == name) {
			if (strcmp(given[i].arg, arg) != 0)
				cli_verb_usage_error(v, "--%s given twice "
						     "('%s', then '%s'); "
						     "give it once",
						     name, given[i].arg, arg);
			return;
		}
	if (ngiven < sizeof given / sizeof given[0]) {
		given[ngiven].name = name;
		given[ngiven++].arg = arg;
	}
}

bool cli_verb_takes(const struct cli_verb *v, const char *longname)
{
	size_t n = strlen(longname);
	if (!v->options)
		return true;
	for (const char *p = v->options; *p;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, longname, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The verb's option names, NULL-terminated, for cli_nearest(). */
static void verb_options(const struct cli_verb *v, const struct option *lo,
			 char names[][40], const char **ptrs, size_t max)
{
	size_t k = 0;
	if (!v->options) {
		for (; lo->name && k + 1 < max; lo++)
			if (strcmp(lo->name, "help") != 0)
				ptrs[k++] = lo->name;
		ptrs[k] = NULL;
		return;
	}
	for (const char *p = v->options; *p && k + 1 < max;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len && len < 40) {
			snprintf(names[k], 40, "%.*s", (int)len, p);
			ptrs[k] = names[k];
			k++;
		}
		p += len;
	}
	ptrs[k] = NULL;
}

/* Refuse word (exit 2) naming the option of u (its list, or lo) that
 * is nearest to it, when one is; of: the verb u is, when not v. */
static void refuse_near(const struct cli_verb *v, const struct cli_verb *u,
			const struct option *lo, const char *word,
			const char *of)
{
	char names[48][40];
	const char *ptrs[48];
	verb_options(u, lo, names, ptrs, 48);
	const char *near = cli_nearest(word, ptrs);
	if (near && of)
		cli_verb_usage_error(v, "unknown option '%s'; did you mean "
				     "'--%s'? (it applies to %s)", word, near,
				     of);
	if (near)
		cli_verb_usage_error(v, "unknown option '%s'; did you mean "
				     "'--%s'?", word, near);
}

/* An option v does not take (long name name): refused, exit 2, naming
 * every other verb that takes it ("it is check's and retry's"); the
 * first one alone sent a user of retry to check. */
static void refuse_not_verbs(const struct cli_verb *v, const char *name)
{
	const char *vn = v->name ? v->name : cli_prog;
	const char *who[48];
	size_t k = 0;
	for (size_t i = 0; i < npicked && k < 48; i++) {
		const struct cli_verb *u = &picked[i];
		if (u != v && u->options && u->name &&
		    cli_verb_takes(u, name))
			who[k++] = u->name;
	}
	if (!k)
		return;
	char list[512] = "";
	for (size_t i = 0; i < k; i++) {
		size_t len = strlen(list);
		snprintf(list + len, sizeof list - len, "%s%s's",
			 !i ? "" : i + 1 < k ? ", " : " and ", who[i]);
	}
	cli_verb_usage_error(v, "--%s does not apply to %s (it is %s)", name,
			     vn, list);
}

/* An option unknown to v that another verb of the tool takes (as its
 * options list says), or nearly: said so, exit 2.  Verbs with their own
 * option tables (dlq's) are not in one table getopt could tell apart. */
static void other_verbs_option(const struct cli_verb *v, const char *word)
{
	if (strncmp(word, "--", 2) != 0)
		return;
	refuse_not_verbs(v, word + 2);
	for (size_t i = 0; i < npicked; i++) {
		const struct cli_verb *u = &picked[i];
		if (u == v || !u->options || !u->name)
			continue;
		refuse_near(v, u, NULL, word, u->name);
	}
}

/* getopt_long takes a prefix of one option's name (--dup for --dupes)
 * and refuses a prefix of several: say which, exit 2. */
static void refuse_ambiguous(const struct cli_verb *v,
			     const struct option *lo, const char *word)
{
	if (strncmp(word, "--", 2) != 0 || !word[2])
		return;
	size_t n = strlen(word + 2), k = 0;
	char list[256] = "";
	for (; lo->name; lo++) {
		if (strncmp(lo->name, word + 2, n) != 0)
			continue;
		size_t len = strlen(list);
		snprintf(list + len, sizeof list - len, "%s--%s",
			 k ? ", " : "", lo->name);
		k++;
	}
	if (k > 1)
		cli_verb_usage_error(v, "option '%s' is ambiguous (%s)", word,
				     list);
}

/* The whole names of idem options that are a proper prefix of another
 * tool's (or verb's) option.  getopt_long takes an unambiguous prefix
 * as the option it begins, so partition --partition 0/2 became
 * --partitions and txlog init --check 5 --checkpoint-interval: a whole
 * name of another tool's option never silently becomes one of this
 * tool's.  Keep in step when an option is added (tests/frontend.bats
 * checks each). */
static const struct {
	const char *name, *whose;
} other_tools_whole[] = {
	{"bucket", "reconcile's"},
	{"check", "dedup's"},
	{"idle", "watermark's"},
	{"key", "dedup's, partition's, reconcile's and txlog's"},
	{"late", "watermark's and window's"},
	{"partition", "dedup's, reconcile's, watermark's and window's"},
	{"time", "dedup's, partition's, watermark's and window's"},
	{"to", "checkpoint's and txlog's"},
};

/* word (n bytes, after the "--") was taken by getopt_long as a prefix
 * of given: refuse it when it is the whole name of another option. */
static void refuse_other_whole(const struct cli_verb *v, const char *word,
			       size_t n, const char *given)
{
	const char *vn = v->name ? v->name : cli_prog;
	for (size_t i = 0; i < sizeof other_tools_whole /
				    sizeof *other_tools_whole; i++) {
		const char *w = other_tools_whole[i].name;
		if (strlen(w) != n || strncmp(w, word, n) != 0)
			continue;
		if (cli_verb_takes(v, given))
			cli_verb_usage_error(v, "--%s is %s option, not %s's; "
					     "%s takes --%s", w,
					     other_tools_whole[i].whose, vn,
					     vn, given);
		cli_verb_usage_error(v, "--%s is %s option, not %s's", w,
				     other_tools_whole[i].whose, vn);
	}
}

int cli_verb_getopt(const struct cli_verb *v, int argc, char **argv,
		    const char *shortopts, const struct option *longopts)
{
	char sopts[128];
	/* a leading ':' tells a missing argument from an unknown option;
	 * it goes after a '+' (stop at the first operand) */
	bool plus = shortopts[0] == '+';
	snprintf(sopts, sizeof sopts, "%s:%s", plus ? "+" : "",
		 shortopts + plus);
	opterr = 0;
	int longindex = -1;
	int c = getopt_long(argc, argv, sopts, longopts, &longindex);
	if (c == -1 || c == 'h')
		return c;
	const char *arg = argv[optind - 1];
	if (c == '?' || c == ':') {
		char word[64];
		/* --check=1: getopt found the option (optopt is its val)
		 * but it takes no argument; "unknown option '--check'; did
		 * you mean '--check'?" said the opposite of the trouble.
		 * Only then does a long option leave optopt set with '?'. */
		const struct option *flag = NULL;
		if (c == '?' && optopt && strncmp(arg, "--", 2) == 0 &&
		    strchr(arg, '='))
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == optopt &&
				    o->has_arg == no_argument &&
				    strncmp(o->name, arg + 2,
					    strcspn(arg + 2, "=")) == 0) {
					flag = o;
					break;
				}
		/* Any other '?' with optopt set is a short option, whose
		 * cluster getopt may not have passed yet: argv[optind - 1]
		 * is then the argument before it (--stats -Zq said
		 * "unknown option '--stats'"). */
		if (optopt && optopt < 256 && !flag &&
		    (c == '?' || strncmp(arg, "--", 2) != 0))
			snprintf(word, sizeof word, "-%c", optopt);
		else
			snprintf(word, sizeof word, "%.*s",
				 (int)strcspn(arg, "="), arg);
		if (c == ':')
			cli_verb_usage_error(v, "%s needs an argument", word);
		if (flag && cli_verb_takes(v, flag->name))
			cli_verb_usage_error(v, "--%s takes no argument, got "
					     "'%s'", flag->name, arg);
		refuse_ambiguous(v, longopts, word);
		refuse_near(v, v, longopts, word, NULL);
		other_verbs_option(v, word);
		cli_verb_usage_error(v, "unknown option '%s'", word);
	}
	/* the long name of what was given, -k included */
	const struct option *given = NULL;
	if (longindex >= 0) {
		given = &longopts[longindex];
	} else {
		for (const struct option *o = longopts; o->name; o++)
			if (o->val == c && !o->flag) {
				given = o;
				break;
			}
	}
	const char *name = given ? given->name : NULL;
	if (longindex >= 0) {
		/* the word given: before its argument when that is apart */
		const char *w = argv[optind - 1];
		if (given->has_arg != no_argument && optarg == w && optind >= 2)
			w = argv[optind - 2];
		size_t n = strncmp(w, "--", 2) ? 0 : strcspn(w + 2, "=");
		if (n && n < strlen(name))
			refuse_other_whole(v, w + 2, n, name);
	}
	if (name && strcmp(name, "help") != 0 && !cli_verb_takes(v, name)) {
		refuse_not_verbs(v, name);
		cli_verb_usage_error(v, "--%s does not apply to %s", name,
				     v->name ? v->name : cli_prog);
	}
	if (given && given->has_arg == required_argument)
		refuse_twice(v, name, optarg);
	return c;
}
