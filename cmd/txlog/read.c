/*
 * The reading verbs: cat, files, schema, and checkpoint (verify is in
 * verify.c, log and the commit times --as-of reads in history.c).
 * Time travel (--version N, --as-of TIME) picks the snapshot; cat skips
 * data files whose partition values or min/max statistics rule the
 * --where predicate out, and streams the rest byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <pthread.h>

#include "cli.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

static struct dl_snapshot *load_asked(void)
{
	int64_t v = opt.version;
	if (opt.as_of)
		v = txlog_version_as_of(opt.as_of);
	return load_table(v);
}

/* What is wrong with a row of a data file that is to be written, or
 * NULL: it is longer than lines hold (only its first bytes are at
 * hand), or, when check, not one JSON object (scanned into rec). */
static const char *row_bad(const struct line *ln, bool check,
			   struct scan_record *rec)
{
	struct scan_error se;
	if (ln->too_long)
		return "a row longer than the 64 MiB txlog reads";
	if (check && (scan_record(rec, ln->p, ln->len, &se) != 0 ||
		      ln->p[rec->start] != '{'))
		return "damaged data file";
	return NULL;
}

/*
 * cat -j: files read ahead on threads (checksum, decompression, lines,
 * a --where of simple terms), written out by the calling thread in the
 * order -j 1 writes them.  A thread fills blocks of whole output lines;
 * at most 2 x threads files are read ahead, and the blocks waiting are
 * at most CAT_AHEAD bytes in all (CAT_BLOCKS a file at most): a thread
 * runs ahead of the writer by megabytes, not by the 4 MiB that kept
 * -j 2 at -j 1's pace on files of tens of megabytes.  A fault a thread
 * meets is kept with its message and said when the output gets there:
 * what came before it is written, as with one thread.  Blocks go back
 * to a shared spare list when their file is written, so memory is
 * touched once, not once a file (fresh blocks for every file cost the
 * threads more in page faults than they saved).
 */
#define CAT_BLOCK (1u << 20)
#define CAT_BLOCKS 16
#define CAT_AHEAD (64u << 20)

struct cat_job {
	const struct dl_file *f;
	bool skip;
	struct buf q[CAT_BLOCKS]; /* ring of full blocks */
	size_t qhead, qn;
	bool done;
	char *err; /* the fault that ended the file, or NULL */
	uint64_t in, out, bytes;
};

struct cat_ctx {
	pthread_mutex_t mu;
	pthread_cond_t work, avail, space;
	struct cat_job *jobs;
	size_t n, next, consumed, window;
	size_t blocks; /* a file's blocks waiting, at most */
	const struct dl_snapshot *s;
	struct pred *p;
	bool filter;
	struct buf *spare; /* emptied blocks, for the next file */
	size_t nspare, spare_cap;
};

/* A block to fill: a spare one, or a new one of a block's size.  Called
 * and returned to with mu held. */
static struct buf cat_block(struct cat_ctx *c)
{
	if (c->nspare)
		return c->spare[--c->nspare];
	struct buf b = {0};
	buf_reserve(&b, CAT_BLOCK + 4096);
	return b;
}

static void cat_spare(struct cat_ctx *c, struct buf *b)
{
	if (!b->p)
		return;
	if (c->nspare == c->spare_cap) {
		c->spare_cap = c->spare_cap ? 2 * c->spare_cap : 8;
		c->spare = xreallocarray(c->spare, c->spare_cap,
					 sizeof *c->spare);
	}
	b->len = 0;
	c->spare[c->nspare++] = *b;
	*b = (struct buf){0};
}

/* Hand block b (whole lines, '\n' after each) to the writer. */
static void cat_push(struct cat_ctx *c, struct cat_job *j, struct buf *b)
{
	pthread_mutex_lock(&c->mu);
	while (j->qn == c->blocks)
		pthread_cond_wait(&c->space, &c->mu);
	struct buf *slot = &j->q[(j->qhead + j->qn) % CAT_BLOCKS];
	struct buf t = *slot; /* an emptied block's memory, reused */
	*slot = *b;
	t.len = 0;
	*b = t.p ? t : cat_block(c);
	j->qn++;
	pthread_cond_broadcast(&c->avail);
	pthread_mutex_unlock(&c->mu);
}

static void cat_file(struct cat_ctx *c, struct cat_job *j)
{
	char msg[1024], err[512];
	pthread_mutex_lock(&c->mu);
	struct buf b = cat_block(c);
	pthread_mutex_unlock(&c->mu);
	struct scan_record rec = {0};
	struct buf filled = {0};
	struct lines *l = open_data_msg(c->s, j->f, msg, sizeof msg);
	if (!l) {
		j->err = xstrdup(msg);
		goto out;
	}
	struct line ln;
	int rc;
	/* another writer's rows: checked, and given the partition
	 * columns they leave out (txlog's have them, sealed) */
	bool foreign = !txlog_file_sealed(j->f);
	bool check = c->filter || foreign;
	while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
		j->in++;
		const char *bad = row_bad(&ln, check, &rec);
		if (!bad && foreign)
			bad = txlog_row_fill(c->s, j->f, &ln, &rec, &filled);
		if (bad) {
			snprintf(msg, sizeof msg, "%s: %s:%" PRIu64 ": %s",
				 opt.table, j->f->path, ln.lineno, bad);
			j->err = xstrdup(msg);
			break;
		}
		/* (simple terms only: a jq program, which can fail, runs
		 * on the calling thread) */
		if (c->filter && !pred_match(c->p, &rec))
			continue;
		buf_add(&b, ln.p, ln.len);
		buf_addc(&b, '\n');
		j->out++;
		if (b.len >= CAT_BLOCK)
			cat_push(c, j, &b);
	}
	if (rc < 0 && !j->err) {
		snprintf(msg, sizeof msg, "%s", err);
		j->err = xstrdup(msg);
	}
	j->bytes = lines_bytes(l);
	lines_close(l);
	txlog_unhold(j->f); /* (its own slot: no other thread's) */
	if (b.len)
		cat_push(c, j, &b);
out:
	scan_record_free(&rec);
	buf_free(&filled);
	pthread_mutex_lock(&c->mu);
	cat_spare(c, &b);
	j->done = true;
	pthread_cond_broadcast(&c->avail);
	pthread_mutex_unlock(&c->mu);
}

static void *cat_worker(void *arg)
{
	struct cat_ctx *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->next < c->n &&
		       (c->jobs[c->next].skip ||
			c->next >= c->consumed + c->window)) {
			if (c->jobs[c->next].skip) {
				c->next++;
				continue;
			}
			pthread_cond_wait(&c->work, &c->mu);
		}
		if (c->next >= c->n)
			break;
		struct cat_job *j = &c->jobs[c->next++];
		pthread_mutex_unlock(&c->mu);
		cat_file(c, j);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Write the files of live (skip[i]: ruled out) in order, read on
 * threads.  Returns the files skipped. */
static void cat_threads(const struct dl_snapshot *s, struct pred *p,
			bool filter, struct dl_file **live, const bool *skip,
			size_t n, int threads)
{
	struct cat_ctx c = {.n = n, .s = s, .p = p, .filter = filter,
			    .window = 2 * (size_t)threads};
	c.blocks = CAT_AHEAD / CAT_BLOCK / c.window;
	c.blocks = c.blocks < 4 ? 4 : c.blocks > CAT_BLOCKS ? CAT_BLOCKS
							   : c.blocks;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.work, NULL);
	pthread_cond_init(&c.avail, NULL);
	pthread_cond_init(&c.space, NULL);
	c.jobs = xcalloc(n ? n : 1, sizeof *c.jobs);
	for (size_t i = 0; i < n; i++) {
		c.jobs[i].f = live[i];
		c.jobs[i].skip = skip[i];
	}
	pthread_t *th = xcalloc((size_t)threads, sizeof *th);
	int started = 0;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, cat_worker, &c) == 0)
			started++;
	if (!started)
		cat_worker(&c); /* no thread to be had: read here */
	for (size_t i = 0; i < n; i++) {
		struct cat_job *j = &c.jobs[i];
		pthread_mutex_lock(&c.mu);
		if (j->skip) {
			/* the read-ahead window counts skipped files too: a
			 * worker waits for consumed to pass them */
			c.consumed = i + 1;
			pthread_cond_broadcast(&c.work);
			pthread_mutex_unlock(&c.mu);
			continue;
		}
		for (;;) {
			while (!j->qn && !j->done)
				pthread_cond_wait(&c.avail, &c.mu);
			if (!j->qn)
				break;
			struct buf *b = &j->q[j->qhead];
			pthread_mutex_unlock(&c.mu);
			cli_out_line(b->p, b->len - 1); /* its last '\n' too */
			pthread_mutex_lock(&c.mu);
			b->len = 0;
			j->qhead = (j->qhead + 1) % CAT_BLOCKS;
			j->qn--;
			pthread_cond_broadcast(&c.space);
		}
		c.consumed = i + 1;
		for (size_t k = 0; k < CAT_BLOCKS; k++)
			cat_spare(&c, &j->q[k]);
		pthread_cond_broadcast(&c.work);
		pthread_mutex_unlock(&c.mu);
		cli_stats.records_in += j->in;
		cli_stats.records_out += j->out;
		cli_stats.bytes_in += j->bytes;
		if (j->err)
			cli_die(EXIT_TROUBLE, "%s", j->err);
	}
	for (int i = 0; i < threads; i++)
		if (i < started)
			pthread_join(th[i], NULL);
	free(th);
	for (size_t k = 0; k < c.nspare; k++)
		buf_free(&c.spare[k]);
	free(c.spare);
	free(c.jobs);
	pthread_cond_destroy(&c.work);
	pthread_cond_destroy(&c.avail);
	pthread_cond_destroy(&c.space);
	pthread_mutex_destroy(&c.mu);
}

int verb_cat(void)
{
	struct pred *p = pred_parse(opt.where, opt.nwhere, false);
	struct dl_snapshot *s = load_asked();
	pred_bind(p, s);
	char err[1024];
	if (dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t n, skipped = 0;
	struct dl_file **live = dl_live_files_committed(s, &n);
	size_t nfiles = n;
	bool filter = p->n || p->jq;
	bool *skip = xcalloc(n + 1, sizeof *skip);
	struct dl_file **reads = xcalloc(n + 1, sizeof *reads);
	for (size_t i = 0; i < n; i++) {
		skip[i] = filter && !pred_file_may_match(p, s, NULL, 0,
							 live[i]);
		skipped += skip[i];
		reads[i] = skip[i] ? NULL : live[i];
	}
	/* Every file it reads open before the first row: a vacuum that
	 * deletes one meanwhile (a version older than the retention, or a
	 * newest one a concurrent commit replaced) cannot cut the output
	 * short; whole, or refused before anything. */
	const struct dl_file *gone = txlog_hold(s->table, reads, n);
	if (gone && (opt.version >= 0 || opt.as_of))
		cli_die(EXIT_TROUBLE, "%s: version %lld needs %s, which is "
			"gone (vacuumed?): time travel to version %lld is no "
			"longer possible; nothing read", s->table,
			(long long)s->version, gone->path,
			(long long)s->version);
	if (gone)
		cli_die(EXIT_TROUBLE, "%s: version %lld needs %s, which is "
			"gone (vacuumed after a newer version removed it, or "
			"deleted: txlog verify says); nothing read", s->table,
			(long long)s->version, gone->path);
	free(reads);
	struct scan_record rec = {0};
	struct buf filled = {0}; /* a row given its partition columns */
	int threads = txlog_threads();
	/* a jq --where runs on one jq state: on this thread */
	if (threads > 1 && !p->jq && n > 1) {
		cat_threads(s, p, filter, live, skip, n, threads);
		n = 0; /* done */
	}
	for (size_t i = 0; i < n; i++) {
		if (skip[i])
			continue;
		struct lines *l = open_data(s, live[i]);
		struct line ln;
		int rc;
		bool foreign = !txlog_file_sealed(live[i]);
		bool check = filter || foreign;
		while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
			cli_stats.records_in++;
			const char *bad = row_bad(&ln, check, &rec);
			if (!bad && foreign)
				bad = txlog_row_fill(s, live[i], &ln, &rec,
						     &filled);
			if (bad) {
				lines_close(l); /* (nothing held at exit) */
				cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": %s",
					opt.table, live[i]->path, ln.lineno,
					bad);
			}
			if (filter && !pred_match_at(p, &rec, live[i]->path,
						     ln.lineno, ""))
				continue;
			cli_out_line(ln.p, ln.len);
			cli_stats.records_out++;
		}
		if (rc < 0) {
			lines_close(l);
			cli_die(EXIT_TROUBLE, "%s", err);
		}
		cli_stats.bytes_in += lines_bytes(l);
		lines_close(l);
		txlog_unhold(live[i]);
	}
	free(skip);
	txlog_release();
	cli_out_close();
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"files_skipped\":%zu",
			 (long long)s->version, nfiles, skipped);
		cli_stats_print(extra);
	}
	scan_record_free(&rec);
	buf_free(&filled);
	free(live);
	pred_free(p);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_files(void)
{
	struct timespec c0, c1;
	int64_t t0 = time_now();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	struct dl_snapshot *s = load_asked();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	int64_t load_ns = time_now() - t0;
	double load_cpu = (double)(c1.tv_sec - c0.tv_sec) +
			  (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	if (opt.version >= 0 || opt.as_of)
		need_files(s, live, n);
	for (size_t i = 0; i < n; i++)
		cli_out_line(live[i]->action, live[i]->action_len);
	free(live);
	if (opt.stats) {
		/* the load alone, to the microsecond, in wall and CPU
		 * time: what a checkpoint saves is smaller than the
		 * process around it, and a busy machine blurs the wall */
		char extra[280];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"checkpoint\":%lld,"
			 "\"commits_read\":%zu,\"load_seconds\":%.6f,"
			 "\"load_cpu_seconds\":%.6f",
			 (long long)s->version, n,
			 (long long)s->checkpoint_version, s->commits_read,
			 (double)load_ns / 1e9, load_cpu);
		cli_stats_print(extra);
	}
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_schema(void)
{
	struct dl_snapshot *s = load_asked();
	if (!s->metadata)
		cli_die(EXIT_TROUBLE, "%s: the log has no metaData", opt.table);
	char *ss = scan_get_str(s->metadata, strlen(s->metadata), "schemaString");
	if (!ss)
		cli_die(EXIT_TROUBLE, "%s: metaData without schemaString",
			opt.table);
	cli_out_line(ss, strlen(ss));
	free(ss);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_checkpoint(void)
{
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	char err[1024];
	if (dl_checkpoint(s, dl_tombstone_retention_ms(s), err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	txlog_log_cleanup(s);
	dl_snapshot_free(s);
	return EXIT_OK;
}
