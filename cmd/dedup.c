/*
 * dedup: keep one record per key, within a run and, with --state, across
 * runs.  Keys are held as 128-bit fingerprints of their canonical value
 * (value.h), in an fpset; --keep last and --order-by also hold the
 * candidate records until the end of input.
 *
 * Life of a run: lock and load the state, read records in order, emit or
 * set aside each, then flush stdout, fsync the side files, and only then
 * commit the new state, so the state never claims output that was lost.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badrec.h"
#include "batchnote.h"
#include "buf.h"
#include "cli.h"
#include "commit.h"
#include "dlq.h"
#include "expr.h"
#include "fpset.h"
#include "lines.h"
#include "par.h"
#include "scan.h"
#include "statefile.h"
#include "timefmt.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"
#include "zio.h"

#define STATE_KIND "dedup"
/* 2: under --ttl, keys without a time (loaded from a state written
 * without --ttl: they never expire) follow the timed ones, 16 bytes
 * each, not widened to 24; written only when there are such keys, so
 * version 1 is what every other state still is, and loads. */
#define STATE_VERSION 4
/* 4: as 3, and the -t its keys' times are of follows the keys, so a
 * run of another -t (whose times are of another clock) is refused, not
 * judged against them; written only with --ttl, so 3 is what every
 * other state still is.
 * 3: the keys' fingerprints are of value.h's canonical form with times
 * as instants; 1 and 2 hold them of the text form (VALUE_KEYS_TEXT), and
 * such a state goes on with text keys, saved as 1 or 2 again: a key it
 * holds is never missed for being spelled as it was, and never split
 * from itself by a change of meaning halfway through its life. */
#define STATE_VERSION_TEXT 2
#define NO_TIME UINT64_MAX /* a key's payload: it never expires */
#define MAX_KEYS 16
#define CHECK_REPORT_MAX 10

enum keep { KEEP_FIRST, KEEP_LAST };

static struct {
	struct expr *keys[MAX_KEYS];
	size_t nkeys;
	enum keep keep;
	struct expr *order_by;
	const char *state_path;
	const char *batch; /* --batch; NULL: $IDEM_BATCH */
	struct expr *time;
	int64_t ttl; /* 0: keys are kept forever */
	const char *ttl_arg; /* as given, for messages */
	enum time_unit unit;
	const char *dupes_path;
	bool check;
	const char *dlq_path;
	bool stats;
	struct cli_shard shard;
	size_t max_line;
	const char *max_line_arg; /* as given; NULL: the default */
	int threads; /* -j; 0: par_default_threads() */
	bool reads_fields; /* records must be objects */
} opt = {.unit = TIME_S, .max_line = LINES_DEFAULT_MAX};

/* A record held back by --keep last / --order-by. */
struct kept {
	uint64_t seq;
	char *rec;
	size_t len;
	char *ord; /* the --order-by value, JSON text */
	size_t ord_len;
};

static struct {
	struct fpset *seen;
	/* the state being loaded: a refusal exits with it open, and here
	 * it is still reachable (LeakSanitizer turned such exits' 2 into
	 * 1) */
	struct state_reader *loading;
	uint64_t late_passed; /* --ttl: passed though behind the horizon */
	struct kept *kept; /* payload in `seen` is index + 1; 0: earlier run */
	size_t nkept, cap_kept;
	uint64_t seq;
	int64_t watermark; /* max event time seen (TTL) */
	bool have_watermark;
	size_t live_after_expire;
	struct cli_side dupes; /* --dupes FILE */
	struct dlq *dlq;
	uint64_t check_dupes;
	uint64_t shard_skipped;
	bool foreign; /* this record's key belongs to another --shard */
	/* keep first: the previous record, decided one record late so its
	 * table slot can be prefetched while this one is scanned */
	struct {
		bool have;
		struct buf rec;
		uint64_t lineno;
		const char *name;
		struct fp128 fp;
		int64_t t;
	} pending;
	int threads; /* par_each_line's */
	char *key_desc; /* "-k .a -k .b[ shard=I/N]", kept in the state */
	size_t key_desc_base; /* its length before the shard */
	/* From here on, what prep reads on every thread, set before the
	 * input: on cache lines of its own, so that apply's stores a
	 * record (pending, foreign) do not pull them from under the
	 * other cores, as window's run.valued did (there 0.330 s became
	 * 0.310 s at -j 2; here no change was measured) */
	_Alignas(64) enum value_keys keys; /* TEXT: a state from before
					     * times were instants, kept so
					     * (STATE_VERSION) */
	struct state_gen gen; /* the batch, and the state it started from */
	struct batchnote note; /* this run's options, kept with its batch */
} run;

/* The tool and its options, for lib/cli's front end: the usage line
 * refusals print, and the examples --help ends with (they run in an
 * empty folder: tests/frontend.bats). */
static const struct cli_verb self = {
	NULL, "[OPTION]... [FILE]...", NULL,
	"Keep one NDJSON record per key",
	 "  printf '{\"id\":1}\\n{\"id\":2}\\n{\"id\":1,\"again\":true}\\n' > in.ndjson\n"
	 "  dedup -k .id in.ndjson\n"
	 "  dedup -k .id --state seen.idx --dupes dupes.ndjson in.ndjson\n"};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: dedup [OPTION]... [FILE]...\n"
"Keep one NDJSON record per key; with --state, across runs too.\n"
"\n"
"  -k, --key EXPR        key (a jq path or program; repeatable);\n"
"                        default: the whole record, by value\n"
"      --keep first|last which record of a key to keep (default first)\n"
"      --order-by EXPR   keep the record with the greatest EXPR per key\n"
"      --state FILE      remember keys across runs (committed atomically)\n"
"      --batch ID        the batch this run is (default: $IDEM_BATCH); a\n"
"                        re-run of the batch that wrote the state starts\n"
"                        from the state before it (on the same input,\n"
"                        with the same options, or exit 2)\n"
"  -t, --time EXPR       event time, for --ttl\n"
"      --ttl DUR         forget a key once the watermark is DUR past it\n"
"      --time-unit s|ms|us|ns\n"
"                        the unit of epoch numbers (default s)\n"
"      --dupes FILE      write the duplicates to FILE\n"
"      --check           write nothing; exit 1 if any key repeats\n"
"      --dlq FILE        dead-letter bad records instead of stopping\n"
"      --shard I/N       handle only the keys of shard I of N\n"
"      --partition I/N   the input is partition I of N (partition(1)):\n"
"                        all of it is shard I's, which is checked\n"
"      --max-line SIZE   longest accepted line (default 64M)\n"
"  -j, --threads N       parse on N threads (0: every core; default: the\n"
"                        cores, at most 8); output is the same for any N\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Exit status: 0 done, 1 --check found duplicates, 2 trouble,\n"
"75 the state file is locked by another dedup.\n"
"See dedup(1).\n");
	cli_examples(f, self.examples);
	cli_exit(status);
}

/* A bad record: dead-letter it, or stop the run (exit 2). */
static void bad_record(const struct line *ln, const char *name, bool is_json,
		       const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void finish(int status);
static void settle(void);

static void bad_record(const struct line *ln, const char *name, bool is_json,
		       const char *type, const char *fmt, ...)
{
	char msg[1024]; /* cli_reject's bound, as badrec's */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (run.foreign)
		return; /* its own shard reports it */
	if (run.dlq && run.gen.replay && dlq_keeps(run.dlq)) {
		/* the batch's run synced its dead letters before it
		 * committed the state: adding them again would double them
		 * (a pipe, a terminal or a device keeps none: written anew,
		 * as standard output is) */
		cli_stats.dead_lettered++; /* as the batch's run did */
		return;
	}
	/* The records before it go out first: the one -j 1 holds back
	 * too, with --dlq as well, or its letter, finding stdout empty,
	 * went to the file before that record reached a reader that may
	 * have gone (a rerun from the last record it took lettered it
	 * again; -j 2, which holds none, did not). */
	settle();
	if (!cli_bad_record(run.dlq, ln, name, is_json, type, msg))
		finish(EXIT_TROUBLE);
}

/* ---- state ---- */

/* n keys of r, 24 bytes each with a time, else 16, read a chunk at a
 * time (the set can be far larger than one copy of it should cost). */
static void load_keys(struct state_reader *r, uint64_t n, bool times)
{
	char err[512];
	size_t rec = times ? 24 : 16;
	unsigned char chunk[24 * 1024];
	while (n > 0) {
		size_t take = n < 1024 ? (size_t)n : 1024;
		if (state_read(r, chunk, take * rec, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		const unsigned char *p = chunk;
		for (size_t k = 0; k < take; k++, p += rec) {
			struct fp128 fp = {le64_get(p), le64_get(p + 8)};
			uint64_t *pay;
			fpset_add(run.seen, fp, &pay);
			if (pay)
				/* Times survive only when both runs use
				 * --ttl; otherwise a key never expires. */
				*pay = opt.ttl ? (times ? le64_get(p + 16)
							: NO_TIME)
					       : 0;
		}
		n -= take;
	}
}

/*
 * A replay must be its batch's run again, or it writes another answer
 * than the one the sink may have taken: the input is checked by
 * lib/statefile, and the options that decide which record of a key is
 * kept and where records go by this note (lib/batchnote), kept with
 * the batch.
 * Not in it: -j and --stats, which change nothing written; --dupes,
 * which every run, a replay's too, writes anew; and the batch itself.
 * The note of this run, in the order a mismatch is told (--order-by
 * before the --keep it implies, --ttl before its -t).
 */
static void note_build(void)
{
	struct batchnote *n = &run.note;
	n->state_path = opt.state_path;
	struct buf k = {0};
	for (size_t i = 0; i < opt.nkeys; i++)
		buf_addf(&k, "%s-k %s", i ? " " : "", expr_source(opt.keys[i]));
	batchnote_add(n, "-k", k.len ? k.p : "", "%s",
		      k.len ? k.p : "no -k (the whole record)");
	buf_free(&k);
	batchnote_add_shard(n, opt.shard.whole, opt.shard.i, opt.shard.n);
	if (opt.order_by)
		batchnote_add(n, "--order-by", expr_source(opt.order_by),
			      "--order-by %s", expr_source(opt.order_by));
	else
		batchnote_add(n, "--order-by", "", "no --order-by");
	const char *keep = opt.keep == KEEP_LAST || opt.order_by ? "last"
								  : "first";
	batchnote_add(n, "--keep", keep, "--keep %s", keep);
	if (opt.ttl) {
		char ns[32];
		snprintf(ns, sizeof ns, "%" PRId64, opt.ttl);
		batchnote_add(n, "--ttl", ns, "--ttl %s", opt.ttl_arg);
		batchnote_add(n, "-t", expr_source(opt.time), "-t %s",
			      expr_source(opt.time));
		static const char *const units[] = {"s", "ms", "us", "ns"};
		batchnote_add(n, "--time-unit", units[opt.unit],
			      "--time-unit %s", units[opt.unit]);
	} else {
		batchnote_add(n, "--ttl", "", "no --ttl");
		batchnote_add(n, "-t", "", "no -t");
		batchnote_add(n, "--time-unit", "", "no -t");
	}
	batchnote_add_file(n, "--dlq", opt.dlq_path);
	batchnote_add_max_line(n, opt.max_line, opt.max_line_arg);
}

/* Options a replay is not held to.  A --check run's --keep and
 * --order-by: they choose no record it writes to standard output, and
 * its --dupes is its own.  In the list a state without a note cannot
 * check, with a base (*based), -k and --shard: the base's key
 * description was checked against them. */
static bool note_skip(const char *name, bool listing, void *ctx)
{
	bool based = *(bool *)ctx;
	if (opt.check && (!strcmp(name, "--keep") ||
			  !strcmp(name, "--order-by")))
		return true;
	return listing && based &&
	       (!strcmp(name, "-k") || !strcmp(name, "--shard"));
}

static void state_load(void)
{
	char err[512];
	uint32_t version;
	uint64_t len;
	/* A replay of the batch that wrote the state starts from the
	 * state before it, so it emits what the killed run emitted. */
	struct state_reader *r = cli_state_open(opt.state_path, STATE_KIND,
						STATE_VERSION, &run.gen,
						&version, &len);
	run.loading = r;
	if (run.gen.replay) {
		bool based = r != NULL;
		batchnote_check(&run.note, &run.gen, note_skip, &based);
	}
	if (!r)
		return; /* first run */
	/* flags u32, count u64, watermark u64, the key description as a
	 * string; then count keys, read a chunk at a time (the set can be
	 * far larger than one copy of it should cost) */
	unsigned char h[28];
	if (state_read(r, h, sizeof h, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	const unsigned char *hp = h, *he = h + sizeof h;
	uint32_t flags;
	uint64_t count, wmu, desc_len;
	state_get_u32(&hp, he, &flags);
	state_get_u64(&hp, he, &count);
	state_get_u64(&hp, he, &wmu);
	state_get_u64(&hp, he, &desc_len);
	int64_t wm = (int64_t)wmu;
	if (desc_len > 65536)
		cli_die(EXIT_TROUBLE, "%s: damaged state (key description)",
			opt.state_path);
	char *desc = xmalloc(desc_len + 1);
	if (state_read(r, desc, desc_len, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	desc[desc_len] = '\0';
	/* a state from before states said their shard (text keys) is
	 * taken by any shard, as it was */
	char why[PATH_MAX + 256];
	if (!cli_shard_desc_check(opt.state_path, desc, run.key_desc,
				  run.key_desc_base,
				  version <= STATE_VERSION_TEXT, "key",
				  why, sizeof why) &&
	    !cli_pre_exact_state(opt.state_path, desc, run.key_desc,
				 run.key_desc_base,
				 version <= STATE_VERSION_TEXT, "key")) {
		static struct buf msg; /* reachable at exit, as desc is not */
		if (why[0])
			buf_adds(&msg, why);
		else
			buf_addf(&msg, "%s: state was written for keys '%s', "
				 "not '%s'; use a new state file",
				 opt.state_path, desc, run.key_desc);
		free(desc);
		cli_die(EXIT_TROUBLE, "%s", msg.p);
	}
	free(desc);
	bool has_times = flags & 1;
	if (has_times) {
		run.watermark = wm;
		run.have_watermark = flags & 2;
	}
	if (flags & ~7u || (flags & 4 && (version < 2 || !has_times)))
		cli_die(EXIT_TROUBLE, "%s: damaged state (flags %#" PRIx32 ")",
			opt.state_path, flags);
	if (version <= STATE_VERSION_TEXT) {
		run.keys = VALUE_KEYS_TEXT;
		cli_warn("%s: a state from before keys compared times as "
			 "instants: its keys stay text (one time spelled at "
			 "two offsets is two keys); a new state file keys "
			 "times as instants", opt.state_path);
		/* partition(1) routes a time by its instant, and this state
		 * its keys by their text: say so where they part */
		opt.shard.why = "this state, from before keys compared times "
				"as instants, keys them by their text and "
				"partition(1) by their instant: go on with "
				"--shard I/N over the whole input, or start a "
				"new state file";
	}
	size_t rec = has_times ? 24 : 16;
	/* the keys the state says it holds, if its length holds them; an
	 * untimed section's count comes later, and is then room enough */
	uint64_t room = len >= 28 + desc_len ? len - 28 - desc_len : 0;
	if (count <= room / rec)
		fpset_reserve(run.seen,
			      (size_t)(flags & 4 ? count + (room - count * rec)
							  / 16
						 : count));
	load_keys(r, count, has_times);
	if (flags & 4) {
		unsigned char c[8];
		if (state_read(r, c, 8, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		load_keys(r, le64_get(c), false);
	}
	char *was = NULL; /* the -t of the keys' times (format 4) */
	if (version >= 4 && has_times) {
		unsigned char c[8];
		if (state_read(r, c, 8, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (le64_get(c) > 65536)
			cli_die(EXIT_TROUBLE, "%s: damaged state (-t)",
				opt.state_path);
		size_t tlen = (size_t)le64_get(c);
		was = xmalloc(tlen + 1);
		if (state_read(r, was, tlen, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		was[tlen] = '\0';
	}
	if (state_read_end(r, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* Both runs keep times: they must be of one -t.  (A run without
	 * --ttl drops them; a state without them never expires a key.) */
	if (was && opt.ttl && strcmp(was, expr_source(opt.time)) != 0) {
		static struct buf msg; /* reachable at exit, as was is not */
		buf_addf(&msg, "%s: state was written with -t '%s', not '%s' "
			 "(its keys' times and watermark are of that -t); "
			 "use a new state file", opt.state_path, was,
			 expr_source(opt.time));
		free(was);
		cli_die(EXIT_TROUBLE, "%s", msg.p);
	}
	free(was);
	run.loading = NULL;
	run.live_after_expire = fpset_count(run.seen);
}

struct save_ctx {
	struct state_writer *w;
	struct buf b; /* keys encoded, written 64 KiB at a time */
	bool times;
	int pass; /* with times: 0 counts the untimed keys, 1 writes the
		   * timed ones, 2 the untimed ones */
	uint64_t untimed;
	int failed;
	char err[512];
};

static void save_flush(struct save_ctx *c)
{
	if (!c->failed && c->b.len &&
	    state_write(c->w, c->b.p, c->b.len, c->err, sizeof c->err))
		c->failed = 1;
	c->b.len = 0;
}

static void save_one(void *vctx, struct fp128 fp, uint64_t payload)
{
	struct save_ctx *c = vctx;
	if (c->times) {
		bool timed = payload != NO_TIME;
		if (c->pass == 0) {
			c->untimed += !timed;
			return;
		}
		if (timed != (c->pass == 1))
			return;
	}
	buf_reserve(&c->b, 24);
	unsigned char *e = (unsigned char *)c->b.p + c->b.len;
	le64_put(e, fp.lo);
	le64_put(e + 8, fp.hi);
	c->b.len += 16;
	if (c->pass == 1) {
		le64_put(e + 16, payload);
		c->b.len += 8;
	}
	if (c->b.len >= 65536)
		save_flush(c);
}

/* The oldest event time a key may have and still be known: watermark
 * minus ttl, held at the earliest instant rather than overflowing (a
 * watermark near 1677, from a record or a state file). */
static int64_t ttl_horizon(void)
{
	int64_t h;
	if (__builtin_sub_overflow(run.watermark, opt.ttl, &h))
		h = INT64_MIN;
	return h;
}

static void state_save(void)
{
	char err[512];
	if (opt.ttl)
		fpset_expire(run.seen,
			     (uint64_t)ttl_horizon() ^ (1ULL << 63));
	bool times = opt.ttl != 0;
	struct save_ctx c = {.times = times};
	if (times) /* keys that never expire go apart, 16 bytes each */
		fpset_each(run.seen, save_one, &c);
	uint64_t count = fpset_count(run.seen) - c.untimed;
	size_t desc_len = strlen(run.key_desc);
	uint32_t version = run.keys == VALUE_KEYS_TEXT ? (c.untimed ? 2 : 1)
			   : times ? STATE_VERSION
				   : STATE_VERSION - 1;
	const char *tsrc = version >= 4 ? expr_source(opt.time) : NULL;
	uint64_t len = 28 + desc_len + count * (times ? 24 : 16) +
		       (c.untimed ? 8 + c.untimed * 16 : 0) +
		       (tsrc ? 8 + strlen(tsrc) : 0);
	struct state_writer *w = state_write_begin_gen(opt.state_path,
						       STATE_KIND, version, len,
						       &run.gen, err,
						       sizeof err);
	if (!w)
		cli_die(EXIT_TROUBLE, "%s", err);
	c.w = w;
	state_put_u32(&c.b, (times ? 1u : 0u) | (run.have_watermark ? 2u : 0u) |
				    (c.untimed ? 4u : 0u));
	state_put_u64(&c.b, count);
	state_put_u64(&c.b, (uint64_t)run.watermark);
	state_put_str(&c.b, run.key_desc, desc_len);
	c.pass = times ? 1 : 3;
	fpset_each(run.seen, save_one, &c);
	if (c.untimed) {
		state_put_u64(&c.b, c.untimed);
		c.pass = 2;
		fpset_each(run.seen, save_one, &c);
	}
	if (tsrc)
		state_put_str(&c.b, tsrc, strlen(tsrc));
	save_flush(&c);
	buf_free(&c.b);
	if (c.failed) {
		state_write_abort(w);
		cli_die(EXIT_TROUBLE, "%s", c.err);
	}
	if (state_write_end(w, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}

/* ---- records ---- */

static void write_dupe(const char *p, size_t n)
{
	cli_side_write(&run.dupes, p, n);
}

static void duplicate(const struct line *ln, const char *name)
{
	cli_stats.duplicates++;
	if (opt.check && run.check_dupes++ < CHECK_REPORT_MAX)
		cli_warn("%s:%" PRIu64 ": duplicate key", name, ln->lineno);
	write_dupe(ln->p, ln->len);
}

/*
 * A record's own work, done by prep() on any of lib/par's threads: the
 * line check, the key's fingerprint, the event time, the --order-by
 * value.  A failure is kept with the stage it happened at, and apply()
 * reports it where record handling reached it before (a bad event time
 * of another shard's key stays that shard's to report).
 */
enum stage { PREP_OK, BAD_LINE, BAD_KEY, BAD_TIME, BAD_ORDER };

struct prepped {
	enum stage at;
	struct badrec bad;
	struct fp128 fp;
	int64_t t;
	const char *ord; /* --order-by value, par_keep()'s copy */
	size_t ord_len;
	struct state_line in; /* the line's hash, with a batch */
};

/* One prep thread's expressions and scratch (cw.scratch: the
 * canonical key). */
struct worker {
	struct cli_worker cw;
	struct expr *keys[MAX_KEYS];
	struct expr *time, *order_by;
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

static void *worker_new(void *arg, int index)
{
	(void)arg;
	struct worker *w = cli_worker_new(sizeof *w, index);
	for (size_t k = 0; k < opt.nkeys; k++)
		w->keys[k] = cli_worker_expr(&w->cw, opt.keys[k]);
	w->time = cli_worker_expr(&w->cw, opt.time);
	w->order_by = cli_worker_expr(&w->cw, opt.order_by);
	return w;
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *w = wctx;
	struct prepped *s = slot;
	if (run.gen.batch)
		s->in = state_gen_line(ln->p, ln->len);
	s->at = BAD_LINE;
	if (!badrec_line(&s->bad, ch, ln, opt.max_line, &w->cw.rec,
			 opt.reads_fields))
		return;
	s->at = BAD_KEY;
	/* watermark --emit's progress, keyed, was a record: its key
	 * missing, or [null] or the whole line, kept once and the rest
	 * counted as duplicates, and window downstream lost them */
	if (ln->p[w->cw.rec.start] == '{' && wm_control_line(&w->cw.rec)) {
		badrec_set(&s->bad, ch, true, "wrong_type", "a _watermark "
			   "line is watermark --emit's progress for window, "
			   "not a record: run dedup before watermark --emit");
		return;
	}
	if (ln->p[w->cw.rec.start] == '{' && wm_shard_line(&w->cw.rec)) {
		badrec_set(&s->bad, ch, true, "wrong_type", "a _shard line "
			   "ends a window --shard run's output, for window "
			   "merge, not a record: dedup window merge's output");
		return;
	}
	buf_reset(&w->cw.scratch);
	if (opt.nkeys == 0) {
		value_canon_as(&w->cw.scratch, run.keys, ln->p, ln->len);
	} else {
		const char *vals[MAX_KEYS];
		size_t lens[MAX_KEYS];
		for (size_t k = 0; k < opt.nkeys; k++)
			if (!badrec_eval(&s->bad, ch, w->keys[k], &w->cw.rec,
					 "key", &vals[k], &lens[k]))
				return;
		if (opt.nkeys == 1)
			value_canon_as(&w->cw.scratch, run.keys, vals[0],
				       lens[0]);
		else
			value_canon_tuple_as(&w->cw.scratch, run.keys, vals,
					     lens, opt.nkeys);
	}
	s->fp = value_fp(w->cw.scratch.p, w->cw.scratch.len);
	s->t = 0;
	s->at = BAD_TIME;
	if (w->time && !badrec_time(&s->bad, ch, w->time, &w->cw.rec,
				    "event time", opt.unit, &s->t))
		return;
	s->at = BAD_ORDER;
	if (w->order_by) {
		const char *v;
		size_t vlen;
		if (!badrec_eval(&s->bad, ch, w->order_by, &w->cw.rec,
				 "--order-by", &v, &vlen))
			return;
		/* v may live in the program's scratch: the next record's
		 * evaluation on this thread overwrites it */
		s->ord = par_keep(ch, v, vlen);
		s->ord_len = vlen;
	}
	s->at = PREP_OK;
}

static void hold(struct kept *k, const struct line *ln, const char *ord,
		 size_t ord_len)
{
	k->seq = run.seq;
	k->rec = xstrndup(ln->p, ln->len);
	k->len = ln->len;
	k->ord = ord ? xstrndup(ord, ord_len) : NULL;
	k->ord_len = ord_len;
}

static void keep_last(const struct line *ln, const char *name,
		      const struct prepped *s)
{
	if (s->at == BAD_ORDER) {
		bad_record(ln, name, s->bad.is_json, s->bad.type, "%s",
			   s->bad.msg);
		return;
	}
	const char *ord = opt.order_by ? s->ord : NULL;
	size_t ord_len = opt.order_by ? s->ord_len : 0;
	struct fp128 fp = s->fp;
	uint64_t *pay;
	bool had = fpset_add(run.seen, fp, &pay);
	if (had && *pay == 0) { /* emitted by an earlier run */
		duplicate(ln, name);
		return;
	}
	if (!had) {
		run.kept = xgrow(run.kept, &run.cap_kept, run.nkept,
				 sizeof *run.kept, 1024);
		hold(&run.kept[run.nkept], ln, ord, ord_len);
		*pay = ++run.nkept;
		return;
	}
	struct kept *k = &run.kept[*pay - 1];
	/* Ties go to the later record, as with plain --keep last.  Two
	 * RFC 3339 times compare as instants, whatever their offsets. */
	if (opt.order_by &&
	    value_compare_as(VALUE_ORDER_INSTANT, ord, ord_len, k->ord,
			     k->ord_len) < 0) {
		duplicate(ln, name);
		return;
	}
	cli_stats.duplicates++;
	if (opt.check && run.check_dupes++ < CHECK_REPORT_MAX)
		cli_warn("%s:%" PRIu64 ": duplicate key", name, ln->lineno);
	write_dupe(k->rec, k->len);
	free(k->rec);
	free(k->ord);
	hold(k, ln, ord, ord_len);
}

static void keep_first(const struct line *ln, const char *name,
		       struct fp128 fp, int64_t t)
{
	uint64_t *pay;
	bool had = fpset_add(run.seen, fp, &pay);
	bool late = false;
	if (opt.ttl) {
		late = run.have_watermark && t < ttl_horizon();
		if (late)
			cli_stats.late++; /* its key may be forgotten already */
		if (!run.have_watermark || t > run.watermark)
			run.watermark = t;
		run.have_watermark = true;
		/* A key is known while its newest event time is within ttl
		 * of the watermark (this record included).  An older key is
		 * forgotten even if no sweep removed it yet, so results
		 * never depend on when sweeps run. */
		uint64_t bt = (uint64_t)t ^ (1ULL << 63);
		uint64_t horizon = (uint64_t)ttl_horizon() ^ (1ULL << 63);
		if (had && *pay < horizon)
			had = false;
		if (!had || bt > *pay)
			*pay = bt;
	}
	if (had) {
		duplicate(ln, name);
		return;
	}
	run.late_passed += late;
	if (!opt.check) {
		cli_out_line(ln->p, ln->len);
		cli_stats.records_out++;
	}
	if (opt.ttl && fpset_count(run.seen) > 2 * run.live_after_expire + 65536) {
		fpset_expire(run.seen, (uint64_t)ttl_horizon() ^
					       (1ULL << 63));
		run.live_after_expire = fpset_count(run.seen);
	}
}

/* Decide the pending record (keep first). */
static void settle(void)
{
	if (!run.pending.have)
		return;
	struct line ln = {.p = run.pending.rec.p, .len = run.pending.rec.len,
			  .lineno = run.pending.lineno};
	run.pending.have = false;
	keep_first(&ln, run.pending.name, run.pending.fp, run.pending.t);
}

static void defer(const struct line *ln, const char *name, struct fp128 fp,
		  int64_t t)
{
	fpset_prefetch(run.seen, fp);
	settle();
	buf_reset(&run.pending.rec);
	buf_add(&run.pending.rec, ln->p, ln->len);
	run.pending.lineno = ln->lineno;
	run.pending.name = name;
	run.pending.fp = fp;
	run.pending.t = t;
	run.pending.have = true;
}

/* Some records before apply: start loading the key's table slot. */
static void ahead(const void *slot)
{
	const struct prepped *s = slot;
	if (s->at != BAD_LINE && s->at != BAD_KEY)
		fpset_prefetch(run.seen, s->fp);
}

/* The sequential half of a record, in input order on one thread. */
static void apply(const struct line *ln, const char *name, void *slot)
{
	const struct prepped *s = slot;
	cli_stats.records_in++;
	if (run.gen.batch) /* so a replay on other input is refused */
		state_gen_input(&run.gen, s->in, ln->len);
	/* A record without a key is shard 0's to report. */
	run.foreign = !cli_shard_keyless(&opt.shard);
	if (s->at == BAD_LINE || s->at == BAD_KEY) {
		run.shard_skipped += run.foreign; /* so in = out + the rest */
		bad_record(ln, name, s->bad.is_json, s->bad.type, "%s",
			   s->bad.msg);
		return;
	}
	/* Under --partition a key of another shard ends the run as a bad
	 * record does: the records before it go out (the one -j 1 holds
	 * too) and their keys are committed, so a re-run writes none of
	 * them again. */
	run.foreign = !cli_shard_take(&opt.shard, s->fp, name, ln->lineno,
				      finish);
	if (run.foreign) {
		run.shard_skipped++;
		if (!opt.ttl)
			return;
	}
	if (s->at == BAD_TIME) {
		bad_record(ln, name, s->bad.is_json, s->bad.type, "%s",
			   s->bad.msg);
		return;
	}
	if (run.foreign) {
		/* Another shard's key still moves the watermark, so keys
		 * expire when they would in one process. */
		settle();
		if (!run.have_watermark || s->t > run.watermark)
			run.watermark = s->t;
		run.have_watermark = true;
		return;
	}
	run.seq++;
	if (opt.keep == KEEP_LAST || opt.order_by)
		keep_last(ln, name, s);
	else if (run.threads > 1)
		keep_first(ln, name, s->fp, s->t); /* ahead() prefetched */
	else
		defer(ln, name, s->fp, s->t);
}

static int kept_cmp(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Emit what --keep last held back, in the order of the kept records. */
static void flush_kept(void)
{
	if (run.nkept == 0)
		return;
	qsort(run.kept, run.nkept, sizeof *run.kept, kept_cmp);
	for (size_t k = 0; k < run.nkept; k++) {
		if (!opt.check) {
			cli_out_line(run.kept[k].rec, run.kept[k].len);
			cli_stats.records_out++;
		}
		free(run.kept[k].rec);
		free(run.kept[k].ord);
	}
	/* From here on these keys count as emitted (payload 0). */
	free(run.kept);
	run.kept = NULL;
	run.nkept = 0;
}

static void zero_payload(void *ctx, struct fp128 fp, uint64_t payload)
{
	(void)payload;
	uint64_t *pay;
	fpset_add(ctx, fp, &pay);
	if (pay)
		*pay = 0;
}

/*
 * The end of a run, good or bad: everything written so far is flushed
 * and made durable before the state that vouches for it is committed.
 * A run stopped by a bad record commits too, so its output is never
 * emitted again.
 */
static void finish(int status)
{
	bool held = opt.keep == KEEP_LAST || opt.order_by;
	settle();
	if (held && status == EXIT_OK)
		flush_kept();
	cli_progress_done();
	if (opt.state_path && !opt.check && (status == EXIT_OK || !held))
		cli_out_delivered(); /* the state vouches for them */
	else
		cli_out_commit();
	if (held && status == EXIT_OK)
		cli_letters_release(); /* after the records they follow */
	cli_side_close(&run.dupes);
	cli_dlq_close(&run.dlq);
	if (opt.state_path && !opt.check && (status == EXIT_OK || !held)) {
		if (held) {
			/* The kept keys were emitted: mark them so. */
			struct fpset *all = fpset_new(true);
			fpset_each(run.seen, zero_payload, all);
			fpset_free(run.seen);
			run.seen = all;
		}
		state_save();
	}
	state_gen_free(&run.gen);
	if (opt.stats) {
		char extra[128];
		/* keys held: under --ttl those within it of the watermark,
		 * as a state saves them, sweeps or not */
		if (opt.ttl)
			fpset_expire(run.seen,
				     (uint64_t)ttl_horizon() ^ (1ULL << 63));
		snprintf(extra, sizeof extra,
			 ",\"keys\":%zu,\"shard_skipped\":%" PRIu64 "%s",
			 fpset_count(run.seen), run.shard_skipped,
			 !run.gen.batch ? ""
			 : run.gen.replay ? ",\"replay\":true"
					  : ",\"replay\":false");
		cli_stats_print(extra);
	}
	if (status == EXIT_OK && opt.check && run.check_dupes) {
		cli_warn("%" PRIu64 " duplicate record%s among %" PRIu64,
			 run.check_dupes, run.check_dupes == 1 ? "" : "s",
			 cli_stats.records_in);
		status = EXIT_FINDING;
	}
	cli_out_close();
	/* dropping duplicates is dedup's job, but it says how many; at a
	 * stop too, when the records before it went out (not held) */
	if ((status == EXIT_OK || !held) && !opt.check && !opt.dupes_path)
		cli_dropped(cli_stats.duplicates, "duplicates", "--dupes FILE");
	/* A key past --ttl is forgotten, so such a record may repeat one
	 * already passed: said, not left for --stats alone. */
	if (status == EXIT_OK && run.late_passed)
		cli_warn("%" PRIu64 " record%s more than --ttl %s behind the "
			 "newest event time passed unchecked (their keys may "
			 "be forgotten; a longer --ttl checks them)",
			 run.late_passed, run.late_passed == 1 ? "" : "s",
			 opt.ttl_arg);
	cli_exit(status);
}

static void describe_keys(void)
{
	struct buf b = {0};
	bool arith = false, local = false;
	for (size_t k = 0; k < opt.nkeys; k++) {
		if (k)
			buf_addc(&b, ' ');
		buf_adds(&b, "-k ");
		buf_adds(&b, expr_source(opt.keys[k]));
		arith |= expr_text_has_arith(expr_source(opt.keys[k]));
		local |= expr_text_reads_local(expr_source(opt.keys[k]));
	}
	cli_zone_describe(&b, local);
	cli_exact_describe(&b, arith);
	run.key_desc_base = b.len;
	cli_shard_describe(&b, &opt.shard);
	buf_addc(&b, '\0');
	run.key_desc = b.p;
}

int main(int argc, char **argv)
{
	enum { O_KEEP = 256, O_ORDER, O_STATE, O_TTL, O_UNIT, O_DUPES,
	       O_CHECK, O_DLQ, O_STATS, O_SHARD, O_MAXLINE, O_VERSION,
	       O_BATCH, O_PARTITION };
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"keep", required_argument, NULL, O_KEEP},
		{"order-by", required_argument, NULL, O_ORDER},
		{"state", required_argument, NULL, O_STATE},
		{"batch", required_argument, NULL, O_BATCH},
		{"time", required_argument, NULL, 't'},
		{"ttl", required_argument, NULL, O_TTL},
		{"time-unit", required_argument, NULL, O_UNIT},
		{"dupes", required_argument, NULL, O_DUPES},
		{"check", no_argument, NULL, O_CHECK},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"shard", required_argument, NULL, O_SHARD},
		{"partition", required_argument, NULL, O_PARTITION},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	int c;
	bool unit_given = false, keep_given = false;

	cli_init(argv[0]);
	cli_refuse_twice("key");
	while ((c = cli_verb_getopt(&self, argc, argv, "k:t:j:h", longopts)) != -1) {
		switch (c) {
		case 'k':
			if (opt.nkeys == MAX_KEYS)
				cli_usage_error("at most %d -k options",
						MAX_KEYS);
			opt.keys[opt.nkeys++] = cli_expr("-k", optarg);
			break;
		case O_KEEP:
			keep_given = true;
			if (!strcmp(optarg, "first"))
				opt.keep = KEEP_FIRST;
			else if (!strcmp(optarg, "last"))
				opt.keep = KEEP_LAST;
			else
				cli_usage_error("--keep: want first or last, "
						"got '%s'", optarg);
			break;
		case O_ORDER: opt.order_by = cli_expr("--order-by", optarg); break;
		case O_STATE: opt.state_path = optarg; break;
		case O_BATCH: opt.batch = optarg; break;
		case 't': opt.time = cli_expr("-t", optarg); break;
		case O_TTL:
			opt.ttl = cli_duration("--ttl", optarg);
			opt.ttl_arg = optarg;
			if (opt.ttl <= 0)
				cli_usage_error("--ttl: must be positive");
			break;
		case O_UNIT:
			opt.unit = cli_time_unit(optarg);
			unit_given = true;
			break;
		case O_DUPES: opt.dupes_path = optarg; break;
		case O_CHECK: opt.check = true; break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_SHARD: cli_shard_parse(&opt.shard, optarg); break;
		case O_PARTITION:
			cli_partition_parse(&opt.shard, optarg);
			break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			opt.max_line_arg = optarg;
			break;
		case 'j': opt.threads = cli_threads(optarg); break;
		case 'h': usage(EXIT_OK); break;
		case O_VERSION: cli_version(); break;
		}
	}
	if ((opt.ttl != 0) != (opt.time != NULL))
		cli_usage_error("-t and --ttl go together");
	if (unit_given && !opt.time)
		cli_usage_error("--time-unit goes with -t (the unit of its "
				"epoch numbers)");
	if (opt.ttl && opt.shard.whole)
		cli_usage_error("--ttl with --partition: a partition holds "
				"only its keys' event times, so keys would "
				"expire later than in one run; use --shard "
				"I/N over the whole input");
	if (opt.ttl && (opt.keep == KEEP_LAST || opt.order_by))
		cli_usage_error("--ttl works with --keep first only");
	/* --order-by decides which record stays, the later one on a tie:
	 * a --keep first next to it would be taken and ignored. */
	if (opt.order_by && keep_given && opt.keep == KEEP_FIRST)
		cli_usage_error("--keep first does not apply with --order-by, "
				"which keeps the greatest value per key (the "
				"later record on a tie)");

	/* --keep and --order-by choose which record of a key goes to
	 * stdout and which to --dupes: --check writes no record, so
	 * without --dupes they were taken and changed nothing (its report
	 * names the lines where a key repeats, whatever is kept). */
	if (opt.check && !opt.dupes_path && (keep_given || opt.order_by))
		cli_usage_error("%s does not apply to --check, which writes "
				"no record (with --dupes FILE it chooses the "
				"records written there)",
				opt.order_by ? "--order-by" : "--keep");
	if (opt.batch && !opt.state_path)
		cli_usage_error("--batch needs --state");
	/* IDEM_BATCH is --batch's default with --state; without one
	 * (a plain run under checkpoint run) it named no batch, but
	 * --stats said "replay":false and one of 256 bytes was refused */
	if (opt.state_path &&
	    state_batch(opt.batch, &run.gen.batch, err, sizeof err) != 0)
		cli_usage_error("%s", err);
	describe_keys();
	/* --check writes no records and commits no state */
	struct cli_output outs[4];
	size_t nouts = 0;
	if (!opt.check)
		outs[nouts++] = (struct cli_output){"output", NULL, false};
	if (opt.dupes_path) /* replaced: truncated when opened */
		outs[nouts++] = (struct cli_output){"--dupes", opt.dupes_path,
						    false};
	if (opt.dlq_path)
		outs[nouts++] = (struct cli_output){"--dlq", opt.dlq_path,
						    true};
	if (opt.state_path && !opt.check) /* renamed over at the end */
		outs[nouts++] = (struct cli_output){"--state", opt.state_path,
						    false};
	/* a file named twice would make each of its records its own
	 * duplicate (--check: a finding, exit 1) */
	cli_inputs_once(argv + optind, "as their own duplicates");
	cli_check_outputs(outs, nouts, argv + optind);

	bool held = opt.keep == KEEP_LAST || opt.order_by;
	run.seen = fpset_new(held || opt.ttl);
	if (opt.state_path) {
		/* one real file, one lock, whatever name reaches it */
		char *real;
		int lk = state_lock(opt.state_path, &real, err, sizeof err);
		if (lk == -2)
			cli_die(EXIT_TEMPFAIL, "%s", err);
		if (lk < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		opt.state_path = real;
		if (run.gen.batch) { /* what a replay of it must repeat */
			note_build();
			run.gen.note = run.note.b.p;
			run.gen.note_len = run.note.b.len;
		}
		state_load(); /* the lock fd stays open until exit */
	}
	if (opt.dupes_path)
		cli_side_open(&run.dupes, opt.dupes_path, false);
	if (opt.dlq_path)
		run.dlq = cli_dlq_open(opt.dlq_path);
	/* --keep last and --order-by write their records at the end: their
	 * letters wait for them, so a run that dies first letters nothing
	 * its re-run letters again */
	if (opt.dlq_path && held)
		cli_letters_hold();

	/* -k, not the key's description, which names a --shard too: the
	 * whole record is a key of any type in every shard, as in one run */
	opt.reads_fields = opt.nkeys || opt.time || opt.order_by;
	const struct par_ops ops = {
		.slot_size = sizeof(struct prepped),
		.worker_new = worker_new,
		.worker_free = cli_worker_free,
		.prep = prep,
		.ahead = ahead,
		.apply = apply,
		.eof = settle,
		.idle = settle,
	};
	run.threads = opt.threads ? opt.threads : par_default_threads();
	if (run.threads > 1)
		fpset_fault_ahead(run.seen); /* growing is apply's dearest part */
	par_run(argv + optind, opt.max_line, run.threads, &ops, finish);
}
