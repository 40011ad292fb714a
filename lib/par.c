/*
 * par: the chunk pipeline.
 *
 * Chunks live in a ring of 2 x threads + 2; chunk number s sits at
 * ring[s % cap].  Three counters under one mutex say who owns what:
 * chunks [applied, filled) are in flight, [next_prep, filled) wait for a
 * worker.  The reader fills ring[filled % cap] only while filled -
 * applied < cap, so it never overwrites a chunk not yet applied; a
 * worker owns the chunk it claimed until it marks it DONE; the calling
 * thread applies ring[applied % cap] once it is DONE, then frees it.
 * While it waits it preps the oldest unclaimed chunk itself, so -j 2 on
 * two cores is two threads preparing, not one preparing and one mostly
 * asleep.
 *
 * A chunk holds a copy of its bytes as read (lines_next_span: whole
 * lines, terminators and all; the lines buffer is reused by the next
 * call), then at most one line lines_next() framed (too long, or the
 * last without a newline).  The worker that preps the chunk frames the
 * rest (lines_frame, exactly as lines_next would), so the reader's work
 * is a read and a copy a span, not a search and a copy a line (which
 * made the reader a sixth of -j 2's CPU).  Then one slot per line, and
 * a keep arena for par_keep.
 * All of it is reused chunk after chunk: no allocation per record once
 * the buffers have grown to the input's size.
 *
 * The source (files, the open struct lines) is read by the calling
 * thread until a chunk fills before its file ends; only then are
 * threads started.  So a small input never starts a thread.  When an
 * input may block (a pipe, a FIFO, a terminal), a reader thread takes
 * the source over, so that no worker sits in a read() and the lines read
 * so far are applied and shown while the writer pauses.  When none may
 * and every input is an uncompressed regular file, there is no reader:
 * a thread with nothing to prep fills the next chunk itself (one at a
 * time, the filling flag) and then preps it, while the bytes are in its
 * core's cache.  A third thread on two cores had cost a wake-up and a
 * reschedule a chunk (1850 context switches for 1M orders, now 370):
 * dedup -k -j 2 took 0.325 s, now 0.300 s (median of 8).  Compressed
 * input keeps its reader: a decompressor moved from core to core took
 * its window's cache along, 0.485 s became 0.695 s.
 *
 * apply may exit() while workers run: they use only the heap (chunks,
 * their contexts) and their own stacks, and exit() frees none of it.
 * Spawned threads block every signal, so a tool's handlers run on the
 * calling thread as before.
 */
#include "par.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lines.h"
#include "xalloc.h"

/* Small enough that a chunk's bytes, lines and slots stay in the cache
 * from the reader to the worker to the apply, and that the chunks in
 * flight touch little fresh memory (first touches cost 10 us a page on
 * a paravirtualized guest): window -j 2 over 266 MB took 380 ms with
 * 1 MiB chunks, 312 ms with 128 KiB, no better below. */
#define PAR_CHUNK_BYTES (128u << 10)
#define PAR_CHUNK_LINES 16384u /* bounds the slots of tiny lines */
#define PAR_KEEP_BLOCK (64u << 10)
#define PAR_AHEAD 16 /* slots handed to ops->ahead before their apply */

enum chunk_state { CH_FREE, CH_FILLED, CH_PREPPING, CH_DONE };
enum chunk_fail { FAIL_NONE, FAIL_OPEN, FAIL_READ };

struct keep_block {
	char *p;
	size_t cap, used;
};

struct par_chunk {
	enum chunk_state state;
	char *bytes; /* [0, raw_len) spans as read, then the special line */
	size_t nbytes, cap_bytes;
	size_t raw_len;
	uint64_t lineno0;  /* the number of the line before the spans' */
	uint64_t newlines; /* in the spans */
	size_t max;        /* the lines' max, for lines_frame */
	bool has_special;
	struct line special; /* its p an offset into bytes */
	struct line *lines; /* framed by the worker */
	size_t nlines, cap_lines;
	unsigned char *slots;
	size_t cap_slots; /* in slots */
	struct keep_block *kb;
	size_t nkb, kcur;
	const char *name;
	unsigned long long file_bytes; /* lines_bytes() at the chunk's end */
	bool eof;  /* the last chunk of its file */
	bool last; /* the last chunk of the input */
	bool waited; /* sealed because the input would block (LINES_WAIT) */
	enum chunk_fail fail;
	char errmsg[512];
	void *cres; /* ops->chunk_size bytes, for chunk_prep */
};

struct par {
	const struct par_ops *ops;
	size_t slot_size, chunk_bytes;
	int threads;
	void **wctx;
	int nwctx;
	/* the source: the calling thread's, then the reader's */
	char **files;
	size_t k;
	struct lines *in;
	const char *name;
	size_t max_line;
	bool flush; /* the tool's main input: cli_out_flush() on a wait */
	/* the pipeline */
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_prep, can_apply;
	struct par_chunk *ring;
	size_t cap;
	uint64_t filled, next_prep, applied;
	bool stop;
	pthread_t reader;
	pthread_t *workers;
	int nworkers;
	bool started;
	/* no input may block: the threads fill chunks themselves */
	bool self_fill;
	bool filling;   /* a thread is filling ring[filled % cap] */
	bool fill_done; /* the last chunk has been filled */
};

/* ---- chunks ---- */

static void keep_reset(struct par_chunk *ch)
{
	for (size_t k = 0; k < ch->nkb && k <= ch->kcur; k++)
		ch->kb[k].used = 0;
	ch->kcur = 0;
}

#define PAR_KEEP_ALIGN _Alignof(max_align_t)

const char *par_keep(struct par_chunk *ch, const void *p, size_t n)
{
	for (; ch->kcur < ch->nkb; ch->kcur++) {
		struct keep_block *b = &ch->kb[ch->kcur];
		/* aligned for any type: a kept array of structs */
		size_t at = (b->used + PAR_KEEP_ALIGN - 1) &
			    ~(size_t)(PAR_KEEP_ALIGN - 1);
		if (at < b->cap && b->cap - at > n) {
			char *d = b->p + at;
			if (n)
				memcpy(d, p, n);
			d[n] = '\0';
			b->used = at + n + 1;
			return d;
		}
	}
	ch->kb = xreallocarray(ch->kb, ch->nkb + 1, sizeof *ch->kb);
	struct keep_block *b = &ch->kb[ch->nkb];
	b->cap = n + 1 > PAR_KEEP_BLOCK ? n + 1 : PAR_KEEP_BLOCK;
	b->p = xmalloc(b->cap);
	b->used = 0;
	ch->kcur = ch->nkb++;
	return par_keep(ch, p, n);
}

static void chunk_reset(struct par_chunk *ch)
{
	ch->nbytes = ch->nlines = ch->raw_len = 0;
	ch->newlines = 0;
	ch->file_bytes = 0; /* a failed open reads nothing */
	ch->has_special = false;
	ch->eof = ch->last = ch->waited = false;
	ch->fail = FAIL_NONE;
	ch->errmsg[0] = '\0';
	keep_reset(ch);
}

static void chunk_free(struct par_chunk *ch, const struct par_ops *ops)
{
	if (ch->cres && ops->chunk_free)
		ops->chunk_free(ch->cres);
	free(ch->cres);
	free(ch->bytes);
	free(ch->lines);
	free(ch->slots);
	for (size_t k = 0; k < ch->nkb; k++)
		free(ch->kb[k].p);
	free(ch->kb);
}

static void chunk_add(struct par_chunk *ch, const char *p, size_t n,
		      bool nul)
{
	size_t need = ch->nbytes + n + nul;
	if (need > ch->cap_bytes) {
		size_t cap = ch->cap_bytes ? ch->cap_bytes : 4096;
		while (cap < need)
			cap *= 2;
		ch->bytes = xrealloc(ch->bytes, cap);
		ch->cap_bytes = cap;
	}
	memcpy(ch->bytes + ch->nbytes, p, n);
	if (nul)
		ch->bytes[ch->nbytes + n] = '\0';
	ch->nbytes = need;
}

/* The line lines_next() framed, after the spans; its p an offset. */
static void chunk_add_special(struct par_chunk *ch, const struct line *ln)
{
	ch->special = *ln;
	ch->special.p = (const char *)(uintptr_t)ch->nbytes;
	ch->has_special = true;
	chunk_add(ch, ln->p, ln->len, true);
}

/* On the worker: the chunk's lines, and room for their slots. */
static void chunk_frame(struct par_chunk *ch, size_t slot_size)
{
	size_t need = (size_t)ch->newlines + 1;
	if (need > ch->cap_lines) {
		size_t cap = ch->cap_lines * 2 > need ? ch->cap_lines * 2 : need;
		free(ch->lines);
		ch->lines = xcalloc(cap, sizeof *ch->lines);
		ch->cap_lines = cap;
	}
	ch->nlines = lines_frame(ch->bytes, ch->raw_len, ch->lineno0, ch->max,
				 ch->lines);
	if (ch->has_special) {
		struct line *d = &ch->lines[ch->nlines++];
		*d = ch->special;
		d->p = ch->bytes + (uintptr_t)ch->special.p;
	}
	if (ch->nlines > ch->cap_slots) {
		free(ch->slots);
		ch->cap_slots = ch->cap_lines;
		ch->slots = xcalloc(ch->cap_slots, slot_size);
	}
}

/* Fill ch with the next lines of the source: up to the chunk size, or
 * to the end of the current file (eof), or to a failure (last), or to
 * a read that would block (waited; the chunk may be empty): the lines
 * read so far go on to be applied and flushed before the reader waits
 * for more. */
static void fill(struct par *P, struct par_chunk *ch)
{
	chunk_reset(ch);
	if (!P->in) {
		const char *path = P->files[P->k];
		P->in = lines_open(path, P->max_line, ch->errmsg,
				   sizeof ch->errmsg);
		if (!P->in) {
			ch->fail = FAIL_OPEN;
			ch->last = true;
			return;
		}
		/* lines_name()'s spelling, in memory that outlives it */
		P->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
		lines_set_wait(P->in, P->flush);
	}
	ch->name = P->name;
	ch->max = lines_max(P->in);
	int r;
	for (;;) {
		struct lines_span sp;
		/* steady chunks end at the line that reaches the size;
		 * others take what is buffered (dedup -k -j 2 ran 12%
		 * slower with the bound) */
		r = lines_next_span(P->in, &sp, PAR_CHUNK_LINES - ch->newlines,
				    P->ops->steady_chunks
					    ? P->chunk_bytes - ch->nbytes
					    : 0,
				    ch->errmsg, sizeof ch->errmsg);
		if (r == 1) {
			if (!ch->raw_len)
				ch->lineno0 = sp.lineno;
			chunk_add(ch, sp.p, sp.len, false);
			ch->raw_len += sp.len;
			ch->newlines += sp.newlines;
			if (ch->nbytes < P->chunk_bytes &&
			    ch->newlines < PAR_CHUNK_LINES)
				continue;
			break;
		}
		if (r == 2) {
			struct line ln;
			r = lines_next(P->in, &ln, ch->errmsg,
				       sizeof ch->errmsg);
			if (r == 1) {
				chunk_add_special(ch, &ln);
				if (ln.unterminated)
					continue; /* the end follows */
				break;
			}
		}
		if (r == LINES_WAIT) {
			ch->waited = true;
			break;
		}
		goto end; /* 0 or -1 */
	}
	ch->file_bytes = lines_bytes(P->in);
	return;
end:
	ch->eof = true;
	ch->file_bytes = lines_bytes(P->in);
	lines_close(P->in);
	P->in = NULL;
	P->k++;
	if (r < 0)
		ch->fail = FAIL_READ;
	ch->last = r < 0 || !P->files[P->k];
	/* the next input may keep us waiting (a FIFO's open, its first
	 * read): show this one's output first */
	if (!ch->last && P->flush && lines_may_block(P->files[P->k]))
		ch->waited = true;
}

static void prep_chunk(struct par *P, struct par_chunk *ch, void *wctx)
{
	chunk_frame(ch, P->slot_size);
	for (size_t k = 0; k < ch->nlines; k++)
		P->ops->prep(wctx, &ch->lines[k], ch->slots + k * P->slot_size,
			     ch);
	if (P->ops->chunk_prep) {
		if (!ch->cres)
			ch->cres = xcalloc(1, P->ops->chunk_size
						      ? P->ops->chunk_size
						      : 1);
		P->ops->chunk_prep(wctx, ch->lines, ch->nlines, ch->slots,
				   ch->cres);
	}
}

/* 1 go on, 0 the input is done, -1 it failed (err set). */
static int apply_chunk(struct par *P, struct par_chunk *ch, char *err,
		       size_t errlen)
{
	size_t n = ch->nlines, ahead = P->ops->ahead ? PAR_AHEAD : 0;
	for (size_t k = 0; k < ahead && k < n; k++)
		P->ops->ahead(ch->slots + k * P->slot_size);
	cli_stats_reading(NULL, ch->file_bytes);
	if (P->ops->chunk_apply)
		P->ops->chunk_apply(ch->cres, 0);
	for (size_t k = 0; k < n; k++) {
		if (ahead && k + ahead < n)
			P->ops->ahead(ch->slots + (k + ahead) * P->slot_size);
		P->ops->apply(&ch->lines[k], ch->name,
			      ch->slots + k * P->slot_size);
		if (!P->ops->bytes_in && (cli_stats.records_in & 0xffff) == 0)
			cli_progress(cli_stats.records_in,
				     cli_stats.bytes_in + ch->file_bytes);
	}
	if (P->ops->chunk_apply)
		P->ops->chunk_apply(ch->cres, 1);
	if (ch->fail == FAIL_OPEN) {
		snprintf(err, errlen, "%s", ch->errmsg);
		return -1;
	}
	if (ch->eof) {
		if (P->ops->eof)
			P->ops->eof();
		*(P->ops->bytes_in ? P->ops->bytes_in : &cli_stats.bytes_in) +=
			ch->file_bytes;
	}
	cli_stats_reading(NULL, ch->eof ? 0 : ch->file_bytes);
	if (ch->fail) {
		snprintf(err, errlen, "%s", ch->errmsg);
		return -1;
	}
	return ch->last ? 0 : 1;
}

/* The input would block and every line read has been applied: let the
 * tool settle what it holds back, and show it. */
static void par_idle(struct par *P)
{
	if (P->ops->idle)
		P->ops->idle();
	cli_out_flush();
}

/* ---- threads ---- */


struct worker_arg {
	struct par *P;
	int index;
};

static void *reader_main(void *arg)
{
	struct par *P = arg;
	for (;;) {
		pthread_mutex_lock(&P->mu);
		while (!P->stop && P->filled - P->applied >= P->cap)
			pthread_cond_wait(&P->can_fill, &P->mu);
		if (P->stop) {
			pthread_mutex_unlock(&P->mu);
			break;
		}
		struct par_chunk *ch = &P->ring[P->filled % P->cap];
		pthread_mutex_unlock(&P->mu);

		fill(P, ch);

		pthread_mutex_lock(&P->mu);
		ch->state = CH_FILLED;
		P->filled++;
		pthread_cond_signal(&P->can_prep);
		pthread_cond_signal(&P->can_apply); /* it may prep too */
		pthread_mutex_unlock(&P->mu);
		if (ch->last)
			break;
	}
	return NULL;
}

/* Claim the oldest unprepared chunk and prep it; called and returns
 * with the mutex held. */
static void claim_and_prep(struct par *P, void *wctx)
{
	uint64_t s = P->next_prep++;
	struct par_chunk *ch = &P->ring[s % P->cap];
	ch->state = CH_PREPPING;
	pthread_mutex_unlock(&P->mu);
	prep_chunk(P, ch, wctx);
	pthread_mutex_lock(&P->mu);
	ch->state = CH_DONE;
	if (s == P->applied)
		pthread_cond_signal(&P->can_apply);
}

/* Without a reader: may this thread fill the next chunk now? */
static bool can_self_fill(const struct par *P)
{
	return P->self_fill && !P->filling && !P->fill_done &&
	       P->filled - P->applied < P->cap;
}

/* Fill the next chunk, then prep it here (nobody else can have claimed
 * it: it was not filled); called and returns with the mutex held. */
static void self_fill_and_prep(struct par *P, void *wctx)
{
	struct par_chunk *ch = &P->ring[P->filled % P->cap];
	P->filling = true;
	pthread_mutex_unlock(&P->mu);
	fill(P, ch);
	pthread_mutex_lock(&P->mu);
	ch->state = CH_FILLED;
	P->filled++;
	P->filling = false;
	P->fill_done = ch->last;
	/* another thread may fill the next one while this one preps: a
	 * worker, or the calling thread waiting for a chunk in prep (it
	 * waits on can_apply; left asleep, it idled through a whole prep) */
	pthread_cond_signal(&P->can_prep);
	pthread_cond_signal(&P->can_apply);
	claim_and_prep(P, wctx);
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct par *P = wa->P;
	void *wctx = P->wctx[wa->index];
	pthread_mutex_lock(&P->mu);
	for (;;) {
		while (!P->stop && P->next_prep == P->filled &&
		       !can_self_fill(P))
			pthread_cond_wait(&P->can_prep, &P->mu);
		if (P->stop)
			break;
		if (P->next_prep < P->filled)
			claim_and_prep(P, wctx);
		else
			self_fill_and_prep(P, wctx);
	}
	pthread_mutex_unlock(&P->mu);
	return NULL;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int e = pthread_create(t, NULL, fn, arg);
	if (e) {
		/* Out of threads: nothing sensible to go on with. */
		cli_die(EXIT_TROUBLE, "cannot start a thread: %s",
			strerror(e));
	}
}

/* ring[0] holds a full chunk read inline: hand the rest to threads. */
static int run_threads(struct par *P, struct worker_arg *wa, char *err,
		       size_t errlen)
{
	P->ring[0].state = CH_FILLED;
	P->filled = 1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	P->workers = xcalloc((size_t)P->threads, sizeof *P->workers);
	for (int i = 1; i < P->threads; i++) {
		wa[i].P = P;
		wa[i].index = i;
		start_thread(&P->workers[P->nworkers++], worker_main, &wa[i]);
	}
	if (!P->self_fill)
		start_thread(&P->reader, reader_main, P);
	P->started = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	int r;
	bool flush_due = false; /* a waited chunk applied, not flushed */
	for (;;) {
		pthread_mutex_lock(&P->mu);
		struct par_chunk *ch = &P->ring[P->applied % P->cap];
		while (P->applied >= P->filled || ch->state != CH_DONE) {
			if (P->next_prep < P->filled) {
				claim_and_prep(P, P->wctx[0]);
			} else if (can_self_fill(P)) {
				self_fill_and_prep(P, P->wctx[0]);
			} else if (flush_due) {
				/* nothing to do but wait: the reader waits
				 * for input, so show what it had (not under
				 * the lock: stdout may block) */
				pthread_mutex_unlock(&P->mu);
				par_idle(P);
				flush_due = false;
				pthread_mutex_lock(&P->mu);
			} else {
				pthread_cond_wait(&P->can_apply, &P->mu);
			}
		}
		pthread_mutex_unlock(&P->mu);

		r = apply_chunk(P, ch, err, errlen);
		flush_due |= ch->waited;

		pthread_mutex_lock(&P->mu);
		ch->state = CH_FREE;
		P->applied++;
		/* room for one more chunk: the reader's, or a worker's to
		 * fill */
		pthread_cond_signal(P->self_fill ? &P->can_prep : &P->can_fill);
		pthread_mutex_unlock(&P->mu);
		if (r <= 0)
			break;
	}
	return r;
}

static void stop_threads(struct par *P)
{
	if (!P->started)
		return;
	pthread_mutex_lock(&P->mu);
	P->stop = true;
	pthread_cond_broadcast(&P->can_prep);
	pthread_cond_broadcast(&P->can_fill);
	pthread_mutex_unlock(&P->mu);
	for (int i = 0; i < P->nworkers; i++)
		pthread_join(P->workers[i], NULL);
	if (!P->self_fill)
		pthread_join(P->reader, NULL);
	free(P->workers);
}

/* ---- inline ---- */

/* One thread: cli_each_line with prep before each apply, no copies. */
static int run_lines(struct par *P, char *err, size_t errlen)
{
	struct par_chunk *ch = &P->ring[0];
	ch->slots = xcalloc(1, P->slot_size);
	ch->cap_slots = 1;
	void *wctx = P->wctx[0];
	for (; P->files[P->k]; P->k++) {
		if (P->k && P->flush && lines_may_block(P->files[P->k]))
			par_idle(P); /* as fill() does between inputs */
		struct lines *in = lines_open(P->files[P->k], P->max_line, err,
					      errlen);
		if (!in)
			return -1;
		const char *name = lines_name(in);
		struct line ln;
		int r;
		lines_set_wait(in, P->flush);
		cli_stats_reading(in, 0);
		while ((r = lines_next(in, &ln, err, errlen)) > 0) {
			if (r == LINES_WAIT) {
				par_idle(P);
				continue;
			}
			keep_reset(ch);
			P->ops->prep(wctx, &ln, ch->slots, ch);
			P->ops->apply(&ln, name, ch->slots);
			if (!P->ops->bytes_in &&
			    (cli_stats.records_in & 0xffff) == 0)
				cli_progress(cli_stats.records_in,
					     cli_stats.bytes_in +
						     lines_bytes(in));
		}
		if (P->ops->eof)
			P->ops->eof();
		*(P->ops->bytes_in ? P->ops->bytes_in : &cli_stats.bytes_in) +=
			lines_bytes(in);
		cli_stats_reading(NULL, 0);
		lines_close(in);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- the entry ---- */

int par_online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > PAR_MAX_THREADS ? PAR_MAX_THREADS : (int)n;
}

int par_default_threads(void)
{
	int n = par_online_cores();
	return n > PAR_MAX_DEFAULT ? PAR_MAX_DEFAULT : n;
}

static size_t chunk_bytes(const struct par_ops *ops)
{
	const char *s = getenv("IDEM_PAR_CHUNK");
	if (s && *s) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (*end == '\0' && v > 0 && v <= PAR_CHUNK_BYTES * 64ull)
			return (size_t)v;
	}
	return ops->chunk_bytes ? ops->chunk_bytes : PAR_CHUNK_BYTES;
}

static void *new_wctx(const struct par_ops *ops, int index)
{
	return ops->worker_new ? ops->worker_new(ops->arg, index) : ops->arg;
}

int par_each_line(char **files, size_t max_line, int threads,
		  const struct par_ops *ops, char *err, size_t errlen)
{
	static char dash[] = "-";
	char *stdin_only[] = {dash, NULL};
	if (!files || !*files)
		files = stdin_only;
	if (threads < 1)
		threads = 1;
	if (threads > PAR_MAX_THREADS)
		threads = PAR_MAX_THREADS;

	struct par P = {
		.ops = ops,
		.slot_size = ops->slot_size ? ops->slot_size : 1,
		.chunk_bytes = chunk_bytes(ops),
		.threads = threads,
		.files = files,
		.max_line = max_line,
		.flush = !ops->bytes_in && !ops->steady_chunks,
		.cap = 2 * (size_t)threads + 2,
	};
	/* only threads fill chunks themselves: one thread needs no probe */
	P.self_fill = threads > 1;
	for (char **f = files; P.self_fill && *f; f++)
		P.self_fill = lines_plain_file(*f);
	P.ring = xcalloc(P.cap, sizeof *P.ring);
	P.wctx = xcalloc((size_t)threads, sizeof *P.wctx);
	P.wctx[P.nwctx++] = new_wctx(ops, 0);
	struct worker_arg *wa = xcalloc((size_t)threads, sizeof *wa);

	int r;
	if (threads == 1 && !ops->chunk_prep) {
		r = run_lines(&P, err, errlen);
	} else {
		pthread_mutex_init(&P.mu, NULL);
		pthread_cond_init(&P.can_fill, NULL);
		pthread_cond_init(&P.can_prep, NULL);
		pthread_cond_init(&P.can_apply, NULL);
		for (;;) {
			struct par_chunk *ch = &P.ring[0];
			fill(&P, ch);
			if (!ch->eof && !ch->fail && threads > 1) {
				/* a full chunk, or a pipe that waits for its
				 * writer: more follows */
				while (P.nwctx < threads) {
					P.wctx[P.nwctx] = new_wctx(ops,
								   P.nwctx);
					P.nwctx++;
				}
				r = run_threads(&P, wa, err, errlen);
				break;
			}
			prep_chunk(&P, ch, P.wctx[0]);
			r = apply_chunk(&P, ch, err, errlen);
			if (r <= 0)
				break;
			if (ch->waited)
				par_idle(&P); /* the next input may block */
		}
		stop_threads(&P);
		pthread_cond_destroy(&P.can_apply);
		pthread_cond_destroy(&P.can_prep);
		pthread_cond_destroy(&P.can_fill);
		pthread_mutex_destroy(&P.mu);
	}
	if (P.in)
		lines_close(P.in);
	for (int i = 0; i < P.nwctx; i++)
		if (ops->worker_new && ops->worker_free)
			ops->worker_free(P.wctx[i]);
	for (size_t k = 0; k < P.cap; k++)
		chunk_free(&P.ring[k], ops);
	free(P.ring);
	free(P.wctx);
	free(wa);
	return r < 0 ? -1 : 0;
}

void par_run(char **files, size_t max_line, int threads,
	     const struct par_ops *ops, void (*finish)(int status))
{
	char err[1024];
	if (par_each_line(files, max_line, threads, ops, err, sizeof err)) {
		cli_warn("%s", err);
		finish(EXIT_TROUBLE);
	}
	finish(EXIT_OK);
}
