/*
 * par: the chunk pipeline against the plain line loop.  Every run logs,
 * in apply order, each line's file, number, flags and bytes, and what
 * its prep wrote (a slot value and a par_keep copy); the log of threads
 * 1 and threads 2, 3, 8, with chunks of 1 byte (one line each), 50 bytes
 * and the default, must be the same text, and the same as a reference
 * built from lines_next alone.  Also: eof between files, empty input,
 * a torn last line from a pipe, too-long lines, a file that cannot be
 * opened after one that can, the worker contexts.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "lines.h"
#include "par.h"
#include "unit.h"
#include "value.h"
#include "zio.h"

static char tmpdir[] = "/tmp/test_par.XXXXXX";

static char *tmp_file(const char *name, const void *data, size_t n)
{
	char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
	sprintf(path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

struct slot {
	uint64_t fp;       /* of the line's bytes */
	const char *kept;  /* par_keep copy, reversed */
	const char *whole; /* par_keep copy of the line */
	int worker;        /* which context prepped it */
	uint64_t lineno;
};

struct wctx {
	int index;
	char scratch[64];
};

static struct buf log_buf;
static int contexts_made, contexts_freed;
static pthread_mutex_t ctx_mu = PTHREAD_MUTEX_INITIALIZER;
static bool workers_seen[16];

static void *w_new(void *arg, int index)
{
	(void)arg;
	struct wctx *w = calloc(1, sizeof *w);
	w->index = index;
	contexts_made++;
	return w;
}

static void w_free(void *v)
{
	contexts_freed++;
	free(v);
}

/* The most threads the process ran while lines were prepped (every
 * 50th line), when counting. */
static bool count_tasks;
static int most_tasks;

static int tasks_now(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static void prep(void *wctx, const struct line *ln, void *vslot,
		 struct par_chunk *ch)
{
	struct wctx *w = wctx;
	struct slot *s = vslot;
	if (count_tasks && ln->lineno % 50 == 0) {
		int n = tasks_now();
		pthread_mutex_lock(&ctx_mu);
		if (n > most_tasks)
			most_tasks = n;
		pthread_mutex_unlock(&ctx_mu);
	}
	s->fp = value_fp(ln->p, ln->len).lo;
	/* reversed into the worker's scratch, then kept: the copy must
	 * outlive the next prep on this worker */
	size_t n = ln->len < sizeof w->scratch ? ln->len : sizeof w->scratch;
	for (size_t k = 0; k < n; k++)
		w->scratch[k] = ln->p[ln->len - 1 - k];
	s->kept = par_keep(ch, w->scratch, n);
	s->whole = par_keep(ch, ln->p, ln->len);
	s->worker = w->index;
	s->lineno = ln->lineno;
}

static void apply(const struct line *ln, const char *name, void *vslot)
{
	struct slot *s = vslot;
	char rev[64];
	size_t n = ln->len < sizeof rev ? ln->len : sizeof rev;
	for (size_t k = 0; k < n; k++)
		rev[k] = ln->p[ln->len - 1 - k];
	CHECK(s->fp == value_fp(ln->p, ln->len).lo);
	CHECK(strlen(s->kept) == n && memcmp(s->kept, rev, n) == 0);
	CHECK(s->lineno == ln->lineno);
	CHECK(memcmp(s->whole, ln->p, ln->len + 1) == 0);
	CHECK(ln->p[ln->len] == '\0');
	pthread_mutex_lock(&ctx_mu);
	if (s->worker >= 0 && s->worker < 16)
		workers_seen[s->worker] = true;
	pthread_mutex_unlock(&ctx_mu);
	buf_adds(&log_buf, name);
	buf_addc(&log_buf, ':');
	buf_add_u64(&log_buf, ln->lineno);
	buf_adds(&log_buf, ln->too_long ? "!" : "");
	buf_adds(&log_buf, ln->torn ? "~" : "");
	buf_adds(&log_buf, ln->unterminated ? "$" : "");
	if (ln->too_long) {
		buf_addc(&log_buf, '(');
		buf_add_u64(&log_buf, ln->full_len);
		buf_addc(&log_buf, ')');
	}
	buf_addc(&log_buf, ':');
	buf_add(&log_buf, ln->p, ln->len);
	buf_addc(&log_buf, '\n');
	cli_stats.records_in++;
}

/* ahead: every slot, once, before its apply, when threads run */
static size_t ahead_calls;
static void ahead(const void *vslot)
{
	const struct slot *s = vslot;
	(void)s;
	ahead_calls++;
}

static void eof(void)
{
	buf_adds(&log_buf, "EOF\n");
}

static const struct par_ops ops = {
	.slot_size = sizeof(struct slot),
	.worker_new = w_new,
	.worker_free = w_free,
	.prep = prep,
	.ahead = ahead,
	.apply = apply,
	.eof = eof,
};

/* The same without the optional callbacks (ahead, eof). */
static const struct par_ops ops_bare = {
	.slot_size = sizeof(struct slot),
	.worker_new = w_new,
	.worker_free = w_free,
	.prep = prep,
	.apply = apply,
};
static const struct par_ops *run_ops = &ops;

/* The log of one run; rc and err through pointers. */
static char *run(char **files, size_t max_line, int threads,
		 const char *chunk, int *rc, char *err, size_t errlen)
{
	if (chunk)
		setenv("IDEM_PAR_CHUNK", chunk, 1);
	else
		unsetenv("IDEM_PAR_CHUNK");
	buf_reset(&log_buf);
	buf_add(&log_buf, "", 0);
	contexts_made = contexts_freed = 0;
	memset(workers_seen, 0, sizeof workers_seen);
	err[0] = '\0';
	*rc = par_each_line(files, max_line, threads, run_ops, err, errlen);
	CHECK_INT(contexts_made, contexts_freed);
	buf_addc(&log_buf, '\0');
	return strdup(log_buf.p);
}

/* The same log straight from lines_next. */
static char *reference(char **files, size_t max_line)
{
	struct buf b = {0};
	buf_add(&b, "", 0);
	for (; *files; files++) {
		char err[256];
		struct lines *l = lines_open(*files, max_line, err, sizeof err);
		if (!l)
			break;
		struct line ln;
		while (lines_next(l, &ln, err, sizeof err) == 1) {
			buf_adds(&b, lines_name(l));
			buf_addc(&b, ':');
			buf_add_u64(&b, ln.lineno);
			buf_adds(&b, ln.too_long ? "!" : "");
			buf_adds(&b, ln.torn ? "~" : "");
			buf_adds(&b, ln.unterminated ? "$" : "");
			if (ln.too_long) {
				buf_addc(&b, '(');
				buf_add_u64(&b, ln.full_len);
				buf_addc(&b, ')');
			}
			buf_addc(&b, ':');
			buf_add(&b, ln.p, ln.len);
			buf_addc(&b, '\n');
		}
		lines_close(l);
		buf_adds(&b, "EOF\n");
	}
	buf_addc(&b, '\0');
	return b.p;
}

/* Random lines: JSON-ish text of 0..300 bytes, CRLF, blank lines, now
 * and then a line longer than 200 bytes (the max_line the runs use). */
static char *random_input(unsigned seed, size_t nlines, size_t *len)
{
	struct buf b = {0};
	srand(seed);
	for (size_t k = 0; k < nlines; k++) {
		int kind = rand() % 20;
		if (kind == 0) {
			buf_addc(&b, '\n');
			continue;
		}
		size_t n = (size_t)(kind == 1 ? 200 + rand() % 500
					      : rand() % 120);
		buf_adds(&b, "{\"k\":\"");
		for (size_t i = 0; i < n; i++)
			buf_addc(&b, (char)('a' + rand() % 26));
		buf_adds(&b, "\"}");
		buf_adds(&b, kind == 2 ? "\r\n" : "\n");
	}
	*len = b.len;
	return b.p;
}

static void same_for_all(char **files, size_t max_line, const char *want)
{
	static const int threads[] = {1, 2, 3, 8};
	static const char *chunks[] = {"1", "50", NULL};
	char err[512];
	int rc;
	for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
		for (size_t c = 0; c < 3; c++) {
			char *got = run(files, max_line, threads[t], chunks[c],
					&rc, err, sizeof err);
			CHECK_INT(rc, 0);
			if (strcmp(got, want) != 0) {
				fprintf(stderr, "threads %d chunk %s differ\n",
					threads[t], chunks[c] ? chunks[c] : "-");
				CHECK(0);
			}
			free(got);
		}
}

TEST(random_files_same_as_lines)
{
	size_t n1, n2;
	char *d1 = random_input(1, 3000, &n1);
	char *d2 = random_input(2, 500, &n2);
	char *files[] = {tmp_file("a", d1, n1), tmp_file("empty", "", 0),
			 tmp_file("b", d2, n2 - 1) /* unterminated */, NULL};
	char *want = reference(files, 200);
	CHECK(strstr(want, "!(") != NULL); /* too-long lines are in it */
	CHECK(strstr(want, "$:") != NULL); /* the unterminated last line */
	same_for_all(files, 200, want);
	free(want);
	free(d1);
	free(d2);
	for (char **f = files; *f; f++)
		free(*f);
}

TEST(many_chunks_use_every_worker)
{
	size_t n;
	char *d = random_input(3, 20000, &n);
	char *files[] = {tmp_file("many", d, n), NULL};
	char err[512];
	int rc;
	ahead_calls = 0;
	size_t before = cli_stats.records_in;
	char *got = run(files, 0, 4, "64", &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_INT(contexts_made, 4);
	CHECK_INT(ahead_calls, cli_stats.records_in - before);
	int used = 0;
	for (int i = 0; i < 4; i++)
		used += workers_seen[i];
	CHECK(used >= 2); /* the work really split */
	char *want = reference(files, 0);
	CHECK(strcmp(got, want) == 0);
	free(got);
	/* no ahead, no eof: the same lines */
	run_ops = &ops_bare;
	got = run(files, 0, 4, "64", &rc, err, sizeof err);
	run_ops = &ops;
	CHECK_INT(rc, 0);
	want[strlen(want) - 4] = '\0'; /* the "EOF\n" */
	CHECK_STR(got, want);
	free(got);
	free(want);
	free(d);
	free(files[0]);
}

/* Plain files have no reader thread: the threads fill chunks in turn
 * (3 workers beside the caller at -j 4).  A compressed file keeps one (a
 * decompressor hopping cores loses its window's cache), so does a
 * pipe.  The lines are the same either way. */
TEST(plain_files_filled_by_the_workers_compressed_by_a_reader)
{
	size_t n;
	char *d = random_input(5, 20000, &n);
	char *plain = tmp_file("plain", d, n);
	char zpath[256], err[512];
	snprintf(zpath, sizeof zpath, "%s/plain.zst", tmpdir);
	FILE *f = fopen(zpath, "wb");
	struct zout *z = f ? zout_open(fileno(f), 3) : NULL;
	CHECK(z != NULL);
	CHECK_INT(zout_write(z, d, n, err, sizeof err), 0);
	CHECK_INT(zout_close(z, err, sizeof err), 0);
	CHECK_INT(fclose(f), 0);
	CHECK(lines_plain_file(plain));
	CHECK(!lines_plain_file(zpath));
	CHECK(!lines_plain_file(tmpdir));
	/* a FIFO is not opened to look: the open would wait for a writer
	 * (SIGALRM ends the test if it does) */
	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	alarm(10);
	CHECK(!lines_plain_file(fifo));
	alarm(0);
	unlink(fifo);
	char *one[] = {plain, NULL}, *zone[] = {zpath, NULL};
	char *both[] = {plain, zpath, NULL};
	struct {
		char **files;
		int tasks;
	} cases[] = {{one, 3}, {zone, 4}, {both, 4}}; /* beyond the caller's */
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		char *want = reference(cases[c].files, 0);
		int rc;
		count_tasks = true;
		most_tasks = 0;
		char *got = run(cases[c].files, 0, 4, "256", &rc, err,
				sizeof err);
		count_tasks = false;
		CHECK_INT(rc, 0);
		/* the threads before the run: 1, or 2 with a sanitizer's */
		CHECK_INT(most_tasks - tasks_now(), cases[c].tasks);
		CHECK(strcmp(got, want) == 0);
		free(got);
		free(want);
	}
	free(d);
	free(plain);
}

/* Lines of a few bytes: a chunk is cut at its line bound (16384) inside
 * a span, the cut falling on blank and CRLF lines alike. */
TEST(tiny_lines_cut_at_the_line_bound)
{
	struct buf b = {0};
	for (int k = 0; k < 100000; k++)
		buf_adds(&b, k % 7 == 0 ? "\n" : k % 5 == 0 ? "2\r\n" : "1\n");
	char *files[] = {tmp_file("tiny", b.p, b.len), NULL};
	char *want = reference(files, 0);
	static const int threads[] = {1, 2, 3};
	char err[512];
	int rc;
	for (size_t t = 0; t < 3; t++) {
		char *got = run(files, 0, threads[t], NULL, &rc, err,
				sizeof err);
		CHECK_INT(rc, 0);
		CHECK(strcmp(got, want) == 0);
		free(got);
	}
	free(want);
	buf_free(&b);
	free(files[0]);
}

TEST(small_input_starts_no_thread)
{
	char *files[] = {tmp_file("small", "{\"a\":1}\n\n{\"a\":2}\r\n", 18),
			 NULL};
	char err[512];
	int rc;
	char *got = run(files, 0, 8, NULL, &rc, err, sizeof err);
	CHECK_INT(rc, 0);
	CHECK_INT(contexts_made, 1); /* inline: only the caller's */
	char want[512];
	snprintf(want, sizeof want, "%s:1:{\"a\":1}\n%s:3:{\"a\":2}\nEOF\n",
		 files[0], files[0]);
	CHECK_STR(got, want);
	free(got);
	free(files[0]);
}

TEST(empty_input)
{
	char *files[] = {tmp_file("e", "", 0), NULL};
	char err[512];
	int rc;
	for (int t = 1; t <= 4; t += 3) {
		char *got = run(files, 0, t, "1", &rc, err, sizeof err);
		CHECK_INT(rc, 0);
		CHECK_STR(got, "EOF\n");
		free(got);
	}
	free(files[0]);
}

/* A pipe's unterminated last line is torn, with any chunk size. */
TEST(torn_line_from_a_pipe)
{
	for (int t = 1; t <= 4; t += 3) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		const char *data = "{\"a\":1}\n{\"a\":2}\n{\"a\"";
		CHECK(write(fds[1], data, strlen(data)) ==
		      (ssize_t)strlen(data));
		close(fds[1]);
		char path[64];
		snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
		char *files[] = {path, NULL};
		char err[512];
		int rc;
		char *got = run(files, 0, t, "1", &rc, err, sizeof err);
		close(fds[0]);
		CHECK_INT(rc, 0);
		char want[256];
		snprintf(want, sizeof want,
			 "%s:1:{\"a\":1}\n%s:2:{\"a\":2}\n%s:3~$:{\"a\"\nEOF\n",
			 path, path, path);
		CHECK_STR(got, want);
		free(got);
	}
}

/* A live pipe: before par blocks in a read, every line written so far
 * has been applied and ops->idle called.  idle writes the next batch
 * (after the last, it closes the pipe), so a par that blocked first
 * would wait forever: the alarm ends the test then. */
static int live_w = -1, live_batch;
static const int live_batches = 3;

static void live_put(void)
{
	char b[64];
	int n = snprintf(b, sizeof b, "{\"b\":%d}\n{\"b\":%d}\n", live_batch,
			 live_batch);
	CHECK(write(live_w, b, (size_t)n) == n);
	live_batch++;
}

static void live_idle(void)
{
	buf_adds(&log_buf, "IDLE\n");
	if (live_batch < live_batches) {
		live_put();
	} else if (live_w >= 0) {
		close(live_w);
		live_w = -1;
	}
}

TEST(live_pipe_idle_before_each_wait)
{
	struct par_ops o = ops;
	o.idle = live_idle;
	run_ops = &o;
	for (int t = 1; t <= 3; t++) {
		for (int c = 0; c < 2; c++) {
			alarm(20);
			int fds[2];
			CHECK(pipe(fds) == 0);
			live_w = fds[1];
			live_batch = 0;
			live_put();
			char path[64];
			snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
			char *files[] = {path, NULL};
			char err[512];
			int rc;
			char *got = run(files, 0, t, c ? "1" : NULL, &rc, err,
					sizeof err);
			close(fds[0]);
			CHECK_INT(rc, 0);
			struct buf want = {0};
			for (int k = 0; k < live_batches; k++) {
				for (int i = 1; i <= 2; i++) {
					buf_adds(&want, path);
					buf_addc(&want, ':');
					buf_add_u64(&want, (uint64_t)(2 * k + i));
					buf_adds(&want, ":{\"b\":");
					buf_add_u64(&want, (uint64_t)k);
					buf_adds(&want, "}\n");
				}
				buf_adds(&want, "IDLE\n");
			}
			buf_adds(&want, "EOF\n");
			buf_addc(&want, '\0');
			CHECK_STR(got, want.p);
			buf_free(&want);
			free(got);
			alarm(0);
		}
	}
	run_ops = &ops;
}

/* A file that cannot be opened: what came before is applied (eof
 * included), then -1 with the reason, and no eof for the missing one. */
TEST(missing_file_after_a_good_one)
{
	size_t n;
	char *d = random_input(4, 2000, &n);
	char *good = tmp_file("good", d, n);
	char missing[256];
	snprintf(missing, sizeof missing, "%s/missing", tmpdir);
	char *files[] = {good, missing, NULL};
	char *want = reference(files, 0);
	for (int t = 1; t <= 4; t += 3) {
		char err[512];
		int rc;
		char *got = run(files, 0, t, "100", &rc, err, sizeof err);
		CHECK_INT(rc, -1);
		CHECK(strstr(err, "missing") != NULL);
		CHECK_STR(got, want);
		free(got);
	}
	free(want);
	free(d);
	free(good);
}

/* A read error (a directory) after lines were read: the lines first. */
TEST(read_error_reported)
{
	char *files[] = {tmpdir, NULL};
	for (int t = 1; t <= 4; t += 3) {
		char err[512];
		int rc;
		char *got = run(files, 0, t, "1", &rc, err, sizeof err);
		CHECK_INT(rc, -1);
		CHECK(err[0] != '\0');
		free(got);
	}
}

TEST(keep_outlives_big_copies)
{
	/* par_keep blocks: copies bigger than a block among small ones */
	size_t n;
	char *d = random_input(5, 5000, &n);
	for (size_t k = 1000; k < n; k += 1500)
		if (d[k] == '\n')
			d[k] = ' '; /* joins lines: some long ones */
	memset(d + 100, 'x', 200000 < n - 200 ? 200000 : n - 200);
	char *files[] = {tmp_file("keep", d, n), NULL};
	char *want = reference(files, 0);
	same_for_all(files, 0, want);
	free(want);
	free(d);
	free(files[0]);
}

/* chunk_prep and chunk_apply: each chunk's result is made by the worker
 * that prepped its lines and applied in order around them; with
 * steady_chunks a chunk ends at the line that reaches chunk_bytes, so the
 * chunks of a file and of a pipe fed in odd pieces with pauses are the
 * same for any number of threads. */
struct cres {
	uint64_t first, last, n, bytes;
	int worker;
	bool all_mine; /* every line's slot was prepped by this worker */
};

static uint64_t chunk_seen, chunk_last; /* lines applied in the chunk */
static const struct cres *chunk_cur;

static void c_prep(void *wctx, const struct line *lines, size_t n,
		   const unsigned char *slots, void *vres)
{
	const struct wctx *w = wctx;
	struct cres *r = vres;
	r->first = n ? lines[0].lineno : 0;
	r->last = n ? lines[n - 1].lineno : 0;
	r->n = n;
	r->bytes = 0;
	r->worker = w->index;
	r->all_mine = true;
	for (size_t k = 0; k < n; k++) {
		const struct slot *s =
			(const struct slot *)(slots + k * sizeof(struct slot));
		r->all_mine &= s->worker == w->index &&
			       s->lineno == lines[k].lineno;
		r->bytes += lines[k].len + 1;
	}
}

static void c_apply(void *vres, int end)
{
	const struct cres *r = vres;
	CHECK(r->all_mine);
	if (!end) {
		CHECK(chunk_cur == NULL);
		chunk_cur = r;
		buf_adds(&log_buf, "[");
		buf_add_u64(&log_buf, r->n);
		buf_adds(&log_buf, "]\n");
		chunk_seen = 0;
		return;
	}
	CHECK(chunk_cur == r);
	CHECK(chunk_seen == r->n && (!r->n || chunk_last == r->last));
	chunk_cur = NULL;
}

static void c_line(const struct line *ln, const char *name, void *vslot)
{
	CHECK(chunk_cur != NULL);
	if (chunk_cur && !chunk_seen)
		CHECK(ln->lineno == chunk_cur->first);
	chunk_seen++;
	chunk_last = ln->lineno;
	(void)name; /* a pipe's name is its /dev/fd path */
	apply(ln, "-", vslot);
}

static const char *feed_data;
static size_t feed_len;
static int feed_fd;

static void *feeder(void *arg)
{
	(void)arg;
	size_t at = 0, piece = 1;
	while (at < feed_len) {
		size_t k = piece < feed_len - at ? piece : feed_len - at;
		CHECK(write(feed_fd, feed_data + at, k) == (ssize_t)k);
		at += k;
		piece = piece * 7 % 1013 + 1;
		if (piece % 5 == 0)
			usleep(200);
	}
	close(feed_fd);
	return NULL;
}

TEST(steady_chunks_same_from_a_file_and_a_pipe)
{
	size_t n;
	char *d = random_input(9, 400, &n);
	for (size_t k = 0; k < n; k++)
		if (d[k] == '\r')
			d[k] = ' '; /* every line a chunk line, '\n' apart */
	char *files[] = {tmp_file("steady", d, n), NULL};
	struct par_ops o = ops_bare;
	o.apply = c_line;
	o.chunk_size = sizeof(struct cres);
	o.chunk_prep = c_prep;
	o.chunk_apply = c_apply;
	o.chunk_bytes = 300;
	o.steady_chunks = true;
	run_ops = &o;
	char *want = NULL;
	for (int t = 1; t <= 4; t++) {
		for (int pipe_in = 0; pipe_in < 2; pipe_in++) {
			alarm(20);
			char path[64];
			pthread_t th;
			int fds[2] = {-1, -1};
			char *in[] = {files[0], NULL};
			if (pipe_in) {
				CHECK(pipe(fds) == 0);
				feed_data = d;
				feed_len = n;
				feed_fd = fds[1];
				CHECK(pthread_create(&th, NULL, feeder, NULL) ==
				      0);
				snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
				in[0] = path;
			}
			char err[512];
			int rc;
			char *got = run(in, 200, t, NULL, &rc, err, sizeof err);
			if (pipe_in) {
				pthread_join(th, NULL);
				close(fds[0]);
			}
			CHECK_INT(rc, 0);
			CHECK(chunk_cur == NULL);
			if (!want) {
				want = got;
				/* more than one chunk, fewer than one a line */
				size_t chunks = 0;
				for (const char *p = got; (p = strstr(p, "\n["));
				     p++)
					chunks++;
				CHECK(chunks > 10 && chunks < 200);
			} else {
				if (strcmp(got, want) != 0)
					fprintf(stderr, "threads %d, %s: other "
						"chunks\n", t,
						pipe_in ? "pipe" : "file");
				CHECK(strcmp(got, want) == 0);
				free(got);
			}
			alarm(0);
		}
	}
	run_ops = &ops;
	free(want);
	free(d);
	free(files[0]);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(random_files_same_as_lines);
	RUN(many_chunks_use_every_worker);
	RUN(plain_files_filled_by_the_workers_compressed_by_a_reader);
	RUN(tiny_lines_cut_at_the_line_bound);
	RUN(small_input_starts_no_thread);
	RUN(empty_input);
	RUN(torn_line_from_a_pipe);
	RUN(live_pipe_idle_before_each_wait);
	RUN(missing_file_after_a_good_one);
	RUN(read_error_reported);
	RUN(keep_outlives_big_copies);
	RUN(steady_chunks_same_from_a_file_and_a_pipe);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_done();
}
