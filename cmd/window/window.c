/*
 * window: event-time aggregation over tumbling, sliding and session
 * windows, with the watermark, allowed lateness and panes of Beam/Flink.
 *
 * Memory holds only open windows.  Records are grouped by the canonical
 * value of -g (a hash of groups, each with its few open windows); two
 * min-heaps keyed by time say when a window is due: the fire heap at its
 * end, the expire heap at end + lateness.  A record is judged against
 * the watermark W of the records before it:
 *
 *   every window of the record has W >= end + lateness  -> too late
 *   otherwise it joins the windows still open; one already fired
 *   (W >= end) re-fires at once as a late pane (accumulating)
 *
 * then W is updated, windows with end <= W fire on time (sorted by start,
 * then key), and windows with end + lateness <= W are dropped.  End of
 * input is W = +infinity, unless --state carries the windows on.
 *
 * W comes from --delay (newest event time - delay, moved by every record)
 * or from upstream _watermark lines.  With neither, the input is one
 * bounded batch, as in Flink's batch mode: no record of it is late, W
 * moves only at its end (to +infinity, or with --state to the newest
 * event time, so the next run judges its records against this one, till
 * the stream's first _watermark line, which sets it (prov); a
 * --partition's times are its groups' only, and its W waits for a line).
 * A record that belongs to no window (too late, or in a gap between
 * --slide windows) is counted and reported at the end (cli_dropped);
 * so is one that joined only some of its --slide windows, the others
 * being too late for it.
 */
#include <assert.h>
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

#include "agg.h"
#include "badrec.h"
#include "batchnote.h"
#include "buf.h"
#include "cli.h"
#include "commit.h"
#include "decimal.h"
#include "dlq.h"
#include "expr.h"
#include "jsonw.h"
#include "lines.h"
#include "merge.h"
#include "par.h"
#include "scan.h"
#include "statefile.h"
#include "timefmt.h"
#include "tz.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"
#include "zio.h"

#define STATE_KIND "window"
/* 2: arrivals (agg.h).  3: group keys and distinct() values are
 * fingerprints of value.h's canonical form with times as instants; 1 and
 * 2 hold them of the text form, and such a state goes on with text keys
 * (saved as 2), so no group is split halfway through a window. */
#define STATE_VERSION 3
#define STATE_VERSION_TEXT 2
#define MAX_GROUPS 16
#define MAX_AGGS 64
#define MAX_SPAN 4096 /* sliding windows one record may belong to */

enum kind { TUMBLE, SLIDE, SESSION };

static struct {
	enum kind kind;
	bool have_kind;
	int64_t size, step, gap, offset;
	const char *tumble; /* as given: a duration or a calendar unit */
	bool cal;           /* calendar windows of a zone (lib/tz) */
	struct tz_cal calu;
	const char *tz;     /* --tz NAME; NULL: UTC, bounds written as now */
	int week_start;     /* --week-start, 0 Monday; -1 not given */
	struct expr *time;
	struct expr *groups[MAX_GROUPS];
	size_t ngroups;
	struct agg_spec aggs[MAX_AGGS];
	size_t naggs;
	int64_t delay, lateness;
	const char *lateness_arg; /* --lateness as given */
	bool delay_given, update;
	bool offset_given; /* 0s too: refused where it does not apply */
	enum time_unit unit;
	const char *delay_arg; /* --delay as given */
	const char *max_line_arg; /* as given; NULL: the default */
	const char *late_path, *dlq_path, *state_path;
	const char *batch; /* --batch; NULL: $IDEM_BATCH */
	bool stats;
	struct cli_shard shard;
	size_t max_line;
	int threads; /* -j: prep's threads (lib/par) */
} opt = {.unit = TIME_S, .max_line = LINES_DEFAULT_MAX, .week_start = -1};

struct group;

struct win {
	int64_t start, end;
	int64_t fired_end; /* the end it last fired on time at */
	bool fired;
	uint32_t panes;
	uint32_t refs; /* heap entries pointing here */
	bool dead;
	struct group *g;
	size_t gi; /* its index in g->w */
	/* made when its first record arrived: which of two sessions a
	 * record joins arrived first (first() by arrival), whatever places
	 * g->w's swap-removes gave them */
	uint64_t seq;
	bool listed; /* a session in g->ss */
	struct agg_state a[];
};

struct group {
	struct fp128 fp;
	char *key; /* JSON text of the key, as first spelled */
	size_t klen;
	struct win **w;
	size_t n, cap;
	/* sessions, disjoint, by start: ss[s0 .. s0 + sn), room both ends,
	 * so a record finds the sessions it touches by binary search and the
	 * oldest leaves in O(1) */
	struct win **ss;
	size_t s0, sn, scap;
	/* the window its last record joined: the next one's, mostly,
	 * found without hashing (apply's share of a record is what -j
	 * cannot split) */
	struct win *last;
};

struct hent {
	int64_t at;
	struct win *w;
};

struct heap {
	struct hent *e;
	size_t n, cap;
};

static struct {
	struct wm *wm;
	bool upstream; /* W follows _watermark lines */
	struct group **gt; /* open addressing, power of two */
	size_t gcap, ngroups;
	/* tumble and slide windows by (group, start), open addressing: a
	 * record finds each of its k windows in O(1), however many windows
	 * --lateness keeps open in its group */
	struct win **wt;
	size_t wcap;
	struct heap fire, expire;
	size_t nwins;
	uint64_t wseq; /* the next window's seq */
	uint64_t arrival; /* the record being applied's, from 1, across
			     runs (agg.h: 0 is a state without them) */
	struct buf out;
	struct win **touched, **batch;
	struct win **sessrun; /* the sessions a record joins */
	size_t caprun;
	size_t ntouched, captouched, nbatch, capbatch;
	struct cli_side late; /* --late FILE */
	struct dlq *dlq;
	uint64_t too_late, gap, panes, shard_skipped;
	uint64_t replaced; /* _watermark lines --delay's W replaced */
	uint64_t late_dropped; /* too late, and no file named for them */
	/* records that joined some of their windows but were too late for
	 * others (sliding), and how many windows they missed: said at the
	 * end, since those windows' panes lack them */
	uint64_t partly_late, partly_windows;
	/* bounded batch (no --delay, no _watermark lines): records are
	 * judged against the W the run started with */
	bool have_w0;
	int64_t w0;
	/* W is only the newest event time that runs with --state and
	 * without _watermark lines took at their ends (state flag 4): a
	 * stream that carries the lines may have been cut before its first
	 * one, so that line sets W back (control).  min_end: the earliest
	 * window end of the records read since the stream began, by which
	 * that W fired a window or judged a record (min_end <= W) */
	bool prov;
	int64_t min_end;
	bool foreign; /* this record belongs to another --shard */
	char *desc;
	size_t desc_base; /* desc's length before its " shard=I/N" */
	/* --shard: a digest of the lines read, in order, for the _shard
	 * line (input_feed); every shard of one run reads the same */
	unsigned char *in_buf;
	size_t in_n;
	struct state_gen gen; /* the batch, and the state it started from */
	struct batchnote note; /* this run's options, kept with its batch */
	enum value_keys keys; /* TEXT: a state from before times were
			       * instants, kept so (STATE_VERSION) */
	/* which --agg found a value in some record, and the first record's
	 * member names: an --agg whose expression no record answers (a
	 * misspelt field) is said at the end, with a "did you mean" */
	bool valued[MAX_AGGS];
	/* records that joined a window with no value for the --agg (null
	 * or absent), left out of it: said at the end, as SQL's warning
	 * 01003 "null value eliminated in set function" says it */
	uint64_t nulls[MAX_AGGS];
	uint64_t records;
	char **names;
	char *first; /* the first record read, for a nested "did you mean" */
	size_t first_len;
} run;

/* window and window merge, for lib/cli's front end: the usage line
 * refusals print, and the examples --help ends with (they run in an
 * empty folder: tests/frontend.bats). */
#define EX_SALES                                                         \
	"  printf '{\"t\":\"2024-01-01T00:01:00Z\",\"cur\":\"EUR\","       \
	"\"amount\":2.5}\\n{\"t\":\"2024-01-01T01:05:00Z\",\"cur\":"      \
	"\"USD\",\"amount\":3}\\n' > sales.ndjson\n"
static const struct cli_verb verbs[] = {
	{NULL, "(--tumble SIZE | --slide SIZE --every STEP | --session GAP) "
	       "-t EXPR [OPTION]... [FILE]...", NULL,
	 "Aggregate NDJSON records over event-time windows",
	 EX_SALES
	 "  window --tumble 1h -t .t -g .cur --agg 'n=count()' --agg "
	 "'gmv=sum(.amount)' sales.ndjson\n"
	 "  window --slide 1h --every 30m -t .t --agg 'n=count()' "
	 "sales.ndjson\n"},
	{"merge", "merge [OPTION]... [FILE]...", NULL,
	 "Merge the outputs of window --shard I/N into one stream",
	 EX_SALES
	 "  window --tumble 1h -t .t --shard 0/2 -g .cur --agg 'n=count()' "
	 "sales.ndjson > s0\n"
	 "  window --tumble 1h -t .t --shard 1/2 -g .cur --agg 'n=count()' "
	 "sales.ndjson > s1\n"
	 "  window merge s0 s1\n"},
};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: window (--tumble SIZE | --slide SIZE --every STEP | --session GAP)\n"
"              -t EXPR [OPTION]... [FILE]...\n"
"       window merge [OPTION]... [FILE]...\n"
"Aggregate NDJSON records over event-time windows.\n"
"\n"
"      --tumble SIZE       fixed windows of SIZE, aligned to the epoch; or\n"
"                          calendar ones: Nd (with --tz), Nw, Nmo, Ny\n"
"      --tz ZONE           calendar windows of an IANA zone (default UTC,\n"
"                          DST-correct); bounds carry the zone's offset\n"
"      --week-start mon|tue|wed|thu|fri|sat|sun  first day of Nw (mon)\n"
"      --slide SIZE        sliding windows of SIZE ...\n"
"      --every STEP        ... starting every STEP\n"
"      --session GAP       per-key sessions closed by GAP of silence\n"
"      --offset DUR        shift window alignment by DUR\n"
"  -t, --time EXPR         event time (RFC 3339 string or epoch number)\n"
"  -g, --group EXPR        group key (repeatable)\n"
"      --agg NAME=FUNC(EXPR)  count sum min max avg first last distinct\n"
"                          p50 p90 p99, p(EXPR, Q) exact nearest-rank\n"
"                          percentile, 0 <= Q <= 1 (repeatable; count()\n"
"                          counts records)\n"
"      --delay DUR         own watermark = newest event time - DUR; with\n"
"                          neither it nor _watermark lines the input is one\n"
"                          batch: no record is late, all fire at its end\n"
"      --lateness DUR      keep fired windows DUR longer for late records\n"
"      --emit final|update final: on time and late panes (default);\n"
"                          update: also an early pane on every change\n"
"      --late drop|FILE    where too-late records go (default: drop, and\n"
"                          say how many on stderr)\n"
"      --state FILE        carry open windows and W to the next run\n"
"      --batch ID          the batch this run is (default: $IDEM_BATCH); a\n"
"                          re-run of the batch that wrote the state starts\n"
"                          from the state before it (on the same input,\n"
"                          with the same options, or exit 2)\n"
"      --shard I/N         handle only the groups of shard I of N; the\n"
"                          output ends with a _shard line for window merge\n"
"      --partition I/N     the input is partition I of N (partition(1)):\n"
"                          all of it is shard I's, which is checked; a\n"
"                          _shard line ends the output too\n"
"      --time-unit s|ms|us|ns\n"
"                          the unit of epoch numbers (default s)\n"
"      --dlq FILE          dead-letter bad records instead of stopping\n"
"      --max-line SIZE     longest accepted line (default 64M)\n"
"      --stats             print counts as one JSON line on stderr\n"
"  -j, --threads N         parse on N threads (0: every core; default: the\n"
"                          cores, at most 8); output is the same for any N\n"
"  -h, --help              show this help\n"
"      --version           show the version\n"
"\n"
"Exit status: 0 done, 2 trouble, 75 the state file is locked.\n"
"See window(1).\n");
	cli_examples(f, verbs[0].examples);
	cli_exit(status);
}

static _Noreturn void finish(int status);

/*
 * A replay of the batch that wrote the state (run.gen.replay) writes its
 * panes again, for the sink that may not have taken them, but not its
 * too-late records (--late) nor its dead letters (--dlq): the batch's
 * run closed and synced those files before its state was committed, so
 * they are there already, and a retried batch would add them twice.
 * They are counted as the batch's run counted them.  A pipe, a terminal
 * or a device keeps none: to such a file they are written anew, as the
 * panes to standard output.
 */
static void bad_record(const struct line *ln, const char *name, bool is_json,
		       const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void bad_record(const struct line *ln, const char *name, bool is_json,
		       const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (run.foreign)
		return; /* its own shard reports it */
	if (run.dlq && run.gen.replay && dlq_keeps(run.dlq)) {
		cli_stats.dead_lettered++; /* as the batch's run did */
		return;
	}
	if (!cli_bad_record(run.dlq, ln, name, is_json, type, msg))
		finish(EXIT_TROUBLE);
}

/* ---- heaps of due times ---- */

static void heap_push(struct heap *h, int64_t at, struct win *w)
{
	h->e = xgrow(h->e, &h->cap, h->n, sizeof *h->e, 1024);
	size_t i = h->n++;
	while (i > 0 && h->e[(i - 1) / 2].at > at) {
		h->e[i] = h->e[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->e[i] = (struct hent){at, w};
	assert(!w->dead && w->refs < UINT32_MAX);
	w->refs++;
}

static struct hent heap_pop(struct heap *h)
{
	assert(h->n > 0);
	struct hent top = h->e[0], last = h->e[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->e[c + 1].at < h->e[c].at)
			c++;
		if (last.at <= h->e[c].at)
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n)
		h->e[i] = last;
	return top;
}

static void win_free(struct win *w)
{
	for (size_t k = 0; k < opt.naggs; k++)
		agg_free(&w->a[k]);
	free(w);
}

/* A heap entry let go of w: free it once dead and unreferenced. */
static void win_unref(struct win *w)
{
	assert(w->refs > 0); /* refs counts the heap entries and batch slots */
	if (--w->refs == 0 && w->dead)
		win_free(w);
}

static void schedule(struct win *w)
{
	if (w->fired_end != w->end || !w->fired)
		heap_push(&run.fire, w->end, w);
	heap_push(&run.expire, wm_add(w->end, opt.lateness), w);
}

/* ---- groups ---- */

static size_t ghome(struct fp128 fp)
{
	return (size_t)fp.lo & (run.gcap - 1);
}

/* The group of fp, or NULL when it has no window open. */
static struct group *group_find(struct fp128 fp)
{
	if (!run.gcap)
		return NULL;
	for (size_t i = ghome(fp); run.gt[i]; i = (i + 1) & (run.gcap - 1))
		if (run.gt[i]->fp.lo == fp.lo && run.gt[i]->fp.hi == fp.hi)
			return run.gt[i];
	return NULL;
}

static struct group *group_get(struct fp128 fp, const char *key, size_t klen)
{
	if ((run.ngroups + 1) * 4 > run.gcap * 3) {
		size_t old = run.gcap;
		struct group **ot = run.gt;
		run.gcap = old ? old * 2 : 1024;
		run.gt = xcalloc(run.gcap, sizeof *run.gt);
		for (size_t i = 0; i < old; i++) {
			if (!ot[i])
				continue;
			size_t j = ghome(ot[i]->fp);
			while (run.gt[j])
				j = (j + 1) & (run.gcap - 1);
			run.gt[j] = ot[i];
		}
		free(ot);
	}
	size_t i = ghome(fp);
	while (run.gt[i]) {
		if (run.gt[i]->fp.lo == fp.lo && run.gt[i]->fp.hi == fp.hi)
			return run.gt[i];
		i = (i + 1) & (run.gcap - 1);
	}
	struct group *g = xcalloc(1, sizeof *g);
	g->fp = fp;
	g->key = xstrndup(key, klen);
	g->klen = klen;
	run.gt[i] = g;
	run.ngroups++;
	return g;
}

/* Linear-probing delete with backward shift: no tombstones pile up. */
static void group_drop(struct group *g)
{
	size_t i = ghome(g->fp);
	while (run.gt[i] != g)
		i = (i + 1) & (run.gcap - 1);
	size_t mask = run.gcap - 1, j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!run.gt[j])
			break;
		size_t k = ghome(run.gt[j]->fp);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			run.gt[i] = run.gt[j];
			i = j;
		}
	}
	run.gt[i] = NULL;
	run.ngroups--;
	free(g->key);
	free(g->w);
	free(g->ss);
	free(g);
}

/* ---- windows by (group, start) ---- */

static size_t whome(const struct group *g, int64_t start)
{
	uint64_t h = g->fp.lo ^ ((uint64_t)start * 0x9e3779b97f4a7c15u);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 29;
	return (size_t)h & (run.wcap - 1);
}

static struct win *win_find(const struct group *g, int64_t start)
{
	if (!run.wcap)
		return NULL;
	for (size_t i = whome(g, start); run.wt[i];
	     i = (i + 1) & (run.wcap - 1))
		if (run.wt[i]->g == g && run.wt[i]->start == start)
			return run.wt[i];
	return NULL;
}

/* Called with run.nwins not yet counting w. */
static void win_index(struct win *w)
{
	if ((run.nwins + 1) * 4 > run.wcap * 3) {
		size_t old = run.wcap;
		struct win **ot = run.wt;
		run.wcap = old ? old * 2 : 1024;
		run.wt = xcalloc(run.wcap, sizeof *run.wt);
		for (size_t i = 0; i < old; i++) {
			if (!ot[i])
				continue;
			size_t j = whome(ot[i]->g, ot[i]->start);
			while (run.wt[j])
				j = (j + 1) & (run.wcap - 1);
			run.wt[j] = ot[i];
		}
		free(ot);
	}
	size_t i = whome(w->g, w->start);
	while (run.wt[i])
		i = (i + 1) & (run.wcap - 1);
	run.wt[i] = w;
}

/* Backward-shift delete, as group_drop. */
static void win_unindex(struct win *w)
{
	size_t mask = run.wcap - 1, i = whome(w->g, w->start), j;
	while (run.wt[i] != w)
		i = (i + 1) & mask;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!run.wt[j])
			break;
		size_t k = whome(run.wt[j]->g, run.wt[j]->start);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			run.wt[i] = run.wt[j];
			i = j;
		}
	}
	run.wt[i] = NULL;
}

/* ---- sessions by start ---- */

/* The first of g's sessions (relative index) starting at or after t. */
static size_t ss_lower(const struct group *g, int64_t t)
{
	size_t lo = 0, hi = g->sn;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->ss[g->s0 + mid]->start < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ss_insert(struct group *g, struct win *w)
{
	size_t i = ss_lower(g, w->start);
	if (i < g->sn / 2 && g->s0 > 0) { /* the front half moves down */
		g->s0--;
		memmove(&g->ss[g->s0], &g->ss[g->s0 + 1], i * sizeof *g->ss);
	} else {
		if (g->s0 + g->sn == g->scap) {
			/* recentre in an array twice the need */
			size_t cap = g->sn < 4 ? 8 : 2 * g->sn, s0 = cap / 4;
			struct win **a = xmalloc(cap * sizeof *a);
			if (g->sn)
				memcpy(&a[s0], &g->ss[g->s0],
				       g->sn * sizeof *a);
			free(g->ss);
			g->ss = a;
			g->s0 = s0;
			g->scap = cap;
		}
		memmove(&g->ss[g->s0 + i + 1], &g->ss[g->s0 + i],
			(g->sn - i) * sizeof *g->ss);
	}
	g->ss[g->s0 + i] = w;
	g->sn++;
}

static void ss_erase(struct group *g, struct win *w)
{
	size_t i = ss_lower(g, w->start);
	assert(i < g->sn && g->ss[g->s0 + i] == w);
	if (i < g->sn / 2) {
		memmove(&g->ss[g->s0 + 1], &g->ss[g->s0], i * sizeof *g->ss);
		g->s0++;
	} else {
		memmove(&g->ss[g->s0 + i], &g->ss[g->s0 + i + 1],
			(g->sn - i - 1) * sizeof *g->ss);
	}
	g->sn--;
}

static struct win *win_new(struct group *g, int64_t start, int64_t end)
{
	struct win *w = xcalloc(1, sizeof *w + opt.naggs * sizeof w->a[0]);
	w->start = start;
	w->end = end;
	w->g = g;
	g->w = xgrow(g->w, &g->cap, g->n, sizeof *g->w, 2);
	w->gi = g->n;
	w->seq = run.wseq++;
	g->w[g->n++] = w;
	if (opt.kind == SESSION) {
		ss_insert(g, w);
		w->listed = true;
	} else {
		win_index(w);
	}
	run.nwins++;
	return w;
}

/* Take w out of its group (and the group out of the table when empty).
 * The last window takes its place in g->w, as it always has: the order
 * of g->w is the order of the state file. */
static void win_remove(struct win *w)
{
	struct group *g = w->g;
	/* removed once, from its own group */
	assert(!w->dead && w->gi < g->n && g->w[w->gi] == w);
	g->w[w->gi] = g->w[--g->n];
	g->w[w->gi]->gi = w->gi;
	if (opt.kind == SESSION) {
		if (w->listed)
			ss_erase(g, w);
	} else {
		win_unindex(w);
	}
	w->dead = true;
	if (g->last == w)
		g->last = NULL;
	run.nwins--;
	if (g->n == 0)
		group_drop(g);
	if (w->refs == 0)
		win_free(w);
}

/* ---- output ---- */

/* With --tz a bound is written in the zone's local time and offset. */
static void put_bound(struct buf *b, int64_t ns)
{
	char s[TZ_STRMAX];
	if (!opt.tz) {
		jw_time(b, ns);
		return;
	}
	buf_addc(b, '"');
	buf_add(b, s, tz_format(ns, s));
	buf_addc(b, '"');
}

static void emit(struct win *w, const char *timing, bool final)
{
	struct buf *b = &run.out;
	buf_reset(b);
	buf_adds(b, "{\"window\":{\"start\":");
	put_bound(b, w->start);
	buf_adds(b, ",\"end\":");
	put_bound(b, w->end);
	buf_addc(b, '}');
	if (opt.ngroups) {
		buf_adds(b, ",\"key\":");
		buf_add(b, w->g->key, w->g->klen);
	}
	for (size_t k = 0; k < opt.naggs; k++) {
		jw_key(b, opt.aggs[k].name, 0);
		agg_write(&opt.aggs[k], &w->a[k], b);
	}
	buf_adds(b, ",\"pane\":{\"timing\":\"");
	buf_adds(b, timing);
	buf_adds(b, "\",\"index\":");
	buf_add_u64(b, w->panes++);
	buf_adds(b, final ? ",\"final\":true}}" : ",\"final\":false}}");
	cli_out_line(b->p, b->len);
	cli_stats.records_out++;
	run.panes++;
}

static int by_start_key(const void *a, const void *b)
{
	const struct win *x = *(struct win *const *)a,
			 *y = *(struct win *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->g == y->g)
		return 0;
	return value_compare_spelled(x->g->key, x->g->klen, y->g->key,
				     y->g->klen);
}

static void batch_add(struct win *w)
{
	run.batch = xgrow(run.batch, &run.capbatch, run.nbatch,
			  sizeof *run.batch, 256);
	run.batch[run.nbatch++] = w;
}

/* W moved to now: fire what is due, sorted, then drop what expired. */
static void advance(int64_t now)
{
	run.nbatch = 0;
	while (run.fire.n && run.fire.e[0].at <= now) {
		struct hent h = heap_pop(&run.fire);
		struct win *w = h.w;
		if (!w->dead && w->end == h.at &&
		    !(w->fired && w->fired_end == w->end)) {
			w->fired = true; /* claimed: a duplicate entry skips */
			w->fired_end = w->end;
			batch_add(w);
			assert(w->refs < UINT32_MAX);
			w->refs++; /* held by the batch */
		}
		win_unref(w);
	}
	if (run.nbatch > 1)
		qsort(run.batch, run.nbatch, sizeof *run.batch, by_start_key);
	/* With --lateness an on-time pane is not final even when W has
	 * passed end + lateness too: whether it has depends on how finely W
	 * moved (per record here, in coarser steps in a partition that hears
	 * W only before its own records), and a pane must not, or window
	 * over partitions would not write one process's panes. */
	for (size_t i = 0; i < run.nbatch; i++)
		emit(run.batch[i], "on_time", opt.lateness == 0);
	for (size_t i = 0; i < run.nbatch; i++)
		win_unref(run.batch[i]);
	while (run.expire.n && run.expire.e[0].at <= now) {
		struct hent h = heap_pop(&run.expire);
		struct win *w = h.w;
		if (!w->dead && wm_add(w->end, opt.lateness) == h.at)
			win_remove(w);
		win_unref(w);
	}
}

/* ---- the input a shard read ---- */

/*
 * Every --shard reads every record (--partition only its own), so the
 * shards of one run read the same lines, and their _shard lines say so
 * by a digest of them: each line's XXH3-64, taken in prep, appended in
 * input order to a block that starts with the digest so far, and the
 * block folded into it (value_fp) when full.  Little-endian, so that
 * hosts of either byte order agree.
 */
#define IN_HASHES 4096

static bool shard_reads_all(void)
{
	return opt.shard.n && !opt.shard.whole;
}

static void input_fold(void)
{
	if (!run.in_buf) {
		run.in_buf = xcalloc(1, 16 + 8 * IN_HASHES);
		run.in_n = 16;
	}
	struct fp128 fp = value_fp(run.in_buf, run.in_n);
	le64_put(run.in_buf, fp.lo);
	le64_put(run.in_buf + 8, fp.hi);
	run.in_n = 16;
}

static void input_feed(uint64_t h)
{
	if (!run.in_buf || run.in_n == 16 + 8 * IN_HASHES)
		input_fold();
	le64_put(run.in_buf + run.in_n, h);
	run.in_n += 8;
}

/* ---- records: prep, on any thread ---- */

/*
 * A record is handled in two steps (lib/par.h).  prep is the record's own
 * work: the line check, the group key and its fingerprint, the event time
 * and the windows it falls in, each aggregate's value (sums parsed to
 * exact decimals, distinct values fingerprinted).  It reads the line, opt
 * and its worker's own context and writes one slot, so any thread may do
 * it.  apply, on the calling thread in input order, does what depends on
 * the records before: the shard's word, the watermark, the windows, the
 * output, where a bad record goes.  A record's failures are found in the
 * order one pass would find them, so the first one is the one reported.
 */
enum pkind {
	P_FAULT,   /* bad before its key was known: reported unless shard 0
		    * is another process's */
	P_CONTROL, /* a _watermark line: t, or bad (msg) */
	P_BAD,     /* bad after the key: its own shard reports it */
	P_RECORD,
};

struct slot {
	enum pkind kind;
	bool is_json;       /* P_FAULT */
	bool in_gap;        /* t lies between --slide windows */
	struct fp128 fp;    /* the group key's */
	union { /* a slot crosses threads: it is kept small */
		struct {
			const char *type; /* P_FAULT, P_BAD, bad P_CONTROL */
			const char *msg;  /* NULL: a good P_CONTROL */
		};
		struct {
			const char *key; /* P_RECORD: the key's JSON text, */
			size_t klen;     /* as first spelled */
		};
	};
	int64_t t;          /* event time; a _watermark's value */
	/* the windows of t before the watermark is asked: starts first,
	 * first + step .. last (one of them for a calendar bucket and a
	 * session), each span long */
	int64_t first, last, span;
	struct state_line line; /* the line's hash, with a batch */
	struct agg_in in[]; /* opt.naggs of them */
};

struct worker {
	struct cli_worker cw; /* cw.scratch: the canonical group key */
	struct expr *time, *groups[MAX_GROUPS], *aggs[MAX_AGGS];
	struct tz_cal calu; /* its own memo of calendar buckets */
	struct buf keytext;
	char msg[1024];
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

static size_t slot_size(void)
{
	return sizeof(struct slot) + opt.naggs * sizeof(struct agg_in);
}

/* jq's libjq is one jq_state per thread: each worker compiles its own
 * copies of -t, -g and the aggregates' expressions. */
static void *worker_new(void *arg, int index)
{
	(void)arg;
	struct worker *c = cli_worker_new(sizeof *c, index);
	c->time = cli_worker_expr(&c->cw, opt.time);
	for (size_t k = 0; k < opt.ngroups; k++)
		c->groups[k] = cli_worker_expr(&c->cw, opt.groups[k]);
	for (size_t k = 0; k < opt.naggs; k++)
		c->aggs[k] = cli_worker_expr(&c->cw, opt.aggs[k].e);
	c->calu = opt.calu;
	c->calu.memo = c->calu.last = NULL;
	return c;
}

static void worker_free(void *wctx)
{
	struct worker *c = wctx;
	free(c->calu.memo);
	buf_free(&c->keytext);
	cli_worker_free(c);
}

/* Bytes apply reads: those in the line stay valid as they are; those in
 * a worker's scratch (jq's output, a message) are copied to the chunk. */
static const char *keep(struct par_chunk *ch, const struct line *ln,
			const char *p, size_t n)
{
	if (p >= ln->p && p + n <= ln->p + ln->len)
		return p;
	return par_keep(ch, p, n);
}

/* A bad record of kind k, its message in c->msg. */
static void failed(struct slot *s, struct par_chunk *ch,
		   const struct line *ln, struct worker *c, enum pkind k,
		   const char *type)
{
	s->kind = k;
	s->type = type;
	s->is_json = true;
	s->msg = keep(ch, ln, c->msg, strlen(c->msg));
}

static bool eval(struct worker *c, struct expr *e, const char *what,
		 const char **v, size_t *vlen, struct slot *s,
		 struct par_chunk *ch, const struct line *ln, enum pkind k)
{
	char err[512], near[300] = "";
	enum expr_status st = expr_eval(e, &c->cw.rec, v, vlen, err, sizeof err);
	if (st == EXPR_VALUE)
		return true;
	const char *type = expr_failure(e, st, what, err, c->msg,
					sizeof c->msg);
	if (st == EXPR_MISSING) {
		badrec_near(e, &c->cw.rec, near, sizeof near);
		size_t n = strlen(c->msg);
		snprintf(c->msg + n, sizeof c->msg - n, "%s", near);
	}
	failed(s, ch, ln, c, k, type);
	return false;
}

/* Each aggregate's value for this record, checked before any window
 * changes.  Absent and null values are skipped by the aggregates. */
static bool prep_aggs(struct worker *c, const struct line *ln,
		      struct slot *s, struct par_chunk *ch)
{
	char err[512];
	for (size_t k = 0; k < opt.naggs; k++) {
		struct agg_spec *a = &opt.aggs[k];
		struct agg_in *in = &s->in[k];
		const char *v;
		size_t len;
		memset(in, 0, sizeof *in);
		if (!c->aggs[k])
			continue; /* count() */
		enum expr_status st = expr_eval(c->aggs[k], &c->cw.rec, &v, &len,
						err, sizeof err);
		if (st == EXPR_ERROR) {
			snprintf(c->msg, sizeof c->msg, "--agg %s: %s",
				 a->text, err);
			failed(s, ch, ln, c, P_BAD,
			       expr_is_plain(a->e) ? "wrong_type"
						   : "expression_error");
			return false;
		}
		if (st != EXPR_VALUE || (len == 4 && !memcmp(v, "null", 4))) {
			in->null = true;
			continue;
		}
		switch (a->fn) {
		case AGG_SUM:
		case AGG_AVG: {
			const char *type = scan_type(v);
			if (strcmp(type, "number") != 0) {
				snprintf(c->msg, sizeof c->msg,
					 "--agg %s: %s is not a number",
					 a->text, type);
				failed(s, ch, ln, c, P_BAD, "wrong_type");
				return false;
			}
			struct dec d;
			if (dec_parse(v, len, &d) != 0) {
				snprintf(c->msg, sizeof c->msg,
					 "--agg %s: %.*s has more digits than "
					 "an exact sum holds", a->text,
					 (int)(len > 60 ? 60 : len), v);
				failed(s, ch, ln, c, P_BAD, "wrong_type");
				return false;
			}
			agg_in_set_dec(in, &d);
			break;
		}
		case AGG_DISTINCT:
			in->fp = value_fingerprint_as(run.keys, v, len,
						      &c->cw.scratch);
			break;
		case AGG_COUNT:
			break; /* only whether it is null */
		default: /* min, max, first, last, percentiles keep it */
			in->v = keep(ch, ln, v, len);
			in->len = len;
			break;
		}
	}
	return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The windows t falls in, whatever the watermark: false (and the slot
 * says why) when their bounds would not fit int64 nanoseconds. */
static bool prep_windows(struct worker *c, const struct line *ln,
			 struct slot *s, struct par_chunk *ch)
{
	int64_t t = s->t;
	int64_t span = opt.kind == SESSION ? opt.gap : opt.size;
	s->in_gap = false;
	if (opt.cal) {
		/* one calendar bucket of the zone; its bounds in whole
		 * seconds, which must be nanoseconds that fit */
		int64_t b, e, sec = floor_div(t, 1000000000LL);
		tz_bucket(&c->calu, sec, &b, &e);
		if (b < INT64_MIN / 1000000000LL ||
		    e > INT64_MAX / 1000000000LL) {
			snprintf(c->msg, sizeof c->msg, "event time %s: out "
				 "of range (its window reaches past "
				 "1677..2262)", expr_source(opt.time));
			failed(s, ch, ln, c, P_BAD, "wrong_type");
			return false;
		}
		s->first = s->last = b * 1000000000LL;
		s->span = e * 1000000000LL - s->first;
		return true;
	}
	/* Near the ends of int64 nanoseconds (1677, 2262) a window's bounds
	 * would wrap, and apply's loop with them (b += step past the last
	 * start): worked out in 128 bits, a time whose windows do not fit
	 * is refused, and only such a time (a margin of two sizes took
	 * 2262-04-10T12:00:00Z from --tumble 1d, whose window ends on the
	 * 11th, which --tz UTC's day of it kept). */
	s->span = span;
	if (opt.kind == SESSION) {
		if ((__int128)t + span > INT64_MAX)
			goto out_of_range;
		s->first = s->last = t;
		return true;
	}
	__int128 step = opt.kind == TUMBLE ? opt.size : opt.step;
	__int128 x = (__int128)t - opt.offset, q = x / step;
	if (x % step != 0 && x < 0)
		q--; /* floor: step > 0 */
	__int128 last = q * step + opt.offset, first = last;
	while (first - step > (__int128)t - opt.size)
		first -= step;
	if (first < INT64_MIN || last + (step > span ? step : span) > INT64_MAX)
		goto out_of_range;
	/* with --every > --slide, t may lie between windows */
	s->in_gap = t >= last + span;
	s->first = (int64_t)first;
	s->last = (int64_t)last;
	return true;
out_of_range:
	snprintf(c->msg, sizeof c->msg, "event time %s: out of range (its "
		 "windows reach past 1677..2262)", expr_source(opt.time));
	failed(s, ch, ln, c, P_BAD, "wrong_type");
	return false;
}

static void prep_control(struct worker *c, const struct line *ln,
			 struct slot *s, struct par_chunk *ch)
{
	const char *why;
	const struct scan_member *m = WM_CONTROL_MEMBER(&c->cw.rec);
	s->kind = P_CONTROL;
	s->msg = NULL;
	if (opt.delay_given)
		return; /* our own watermark was asked for: apply skips it */
	size_t end = scan_skip(c->cw.rec.p, c->cw.rec.n, m->val);
	if (time_from_json(c->cw.rec.p + m->val, end - m->val, opt.unit, &s->t,
			   &why) != 0) {
		snprintf(c->msg, sizeof c->msg, "_watermark: %s", why);
		failed(s, ch, ln, c, P_CONTROL, "wrong_type");
	}
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *c = wctx;
	struct slot *s = slot;
	bool is_json;
	if (run.gen.batch || shard_reads_all())
		s->line = state_gen_line(ln->p, ln->len);
	const char *fault = cli_line_fault(ln, opt.max_line, "--max-line",
					   &c->cw.rec, true, &is_json, c->msg,
					   sizeof c->msg);
	if (fault) {
		failed(s, ch, ln, c, P_FAULT, fault);
		s->is_json = is_json;
		return;
	}
	if (wm_control_line(&c->cw.rec)) {
		prep_control(c, ln, s, ch);
		return;
	}

	/* the group key */
	const char *vals[MAX_GROUPS];
	size_t lens[MAX_GROUPS];
	for (size_t k = 0; k < opt.ngroups; k++)
		if (!eval(c, c->groups[k], "group", &vals[k], &lens[k], s, ch,
			  ln, P_FAULT))
			return;
	buf_reset(&c->cw.scratch);
	value_canon_tuple_as(&c->cw.scratch, run.keys, vals, lens,
			     opt.ngroups);
	s->fp = value_fp(c->cw.scratch.p, c->cw.scratch.len);
	s->key = NULL;
	s->klen = 0;
	if (opt.ngroups == 1) {
		s->key = keep(ch, ln, vals[0], lens[0]);
		s->klen = lens[0];
	} else if (opt.ngroups > 1) {
		buf_reset(&c->keytext);
		value_tuple_text(&c->keytext, vals, lens, opt.ngroups);
		s->key = keep(ch, ln, c->keytext.p, c->keytext.len);
		s->klen = c->keytext.len;
	}

	const char *v, *why;
	size_t vlen;
	if (!eval(c, c->time, "event time", &v, &vlen, s, ch, ln, P_BAD))
		return;
	if (expr_count(c->time) > 1) { /* handed over as one array */
		snprintf(c->msg, sizeof c->msg, "event time %s: gave %zu "
			 "values; a time is one", expr_source(opt.time),
			 expr_count(c->time));
		failed(s, ch, ln, c, P_BAD, "wrong_type");
		return;
	}
	if (time_from_json(v, vlen, opt.unit, &s->t, &why) != 0) {
		snprintf(c->msg, sizeof c->msg, "event time %s: %s",
			 expr_source(opt.time), why);
		failed(s, ch, ln, c, P_BAD, "wrong_type");
		return;
	}
	if (!prep_aggs(c, ln, s, ch) || !prep_windows(c, ln, s, ch))
		return;
	s->kind = P_RECORD;
}

/* ---- records: apply, the windows a record joins ---- */

/* overflows() asked first, so a sum past 38 digits is a bad record and
 * this dies only if the two disagree: the record's other aggregates
 * would be added already.  It names the record that overflowed. */
static void add_to(struct win *w, const struct line *ln, const char *name,
		   const struct agg_in *in)
{
	for (size_t k = 0; k < opt.naggs; k++)
		if (agg_add(&opt.aggs[k], &w->a[k], &in[k], run.arrival) != 0)
			cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": --agg %s: exact "
				"sum overflows 38 digits", name, ln->lineno,
				opt.aggs[k].text);
}

static void touch(struct win *w)
{
	if (run.ntouched == run.captouched)
		run.touched = xgrow(run.touched, &run.captouched,
				    run.ntouched, sizeof *run.touched, 64);
	run.touched[run.ntouched++] = w;
}

static void too_late(const struct line *ln, const char *name, int64_t t,
		     int64_t w)
{
	char ts[TIME_STRMAX], ws[TIME_STRMAX];
	run.too_late++;
	cli_stats.late++;
	if (run.late.path) {
		/* written by the batch's run, but to a pipe */
		if (!run.gen.replay || run.late.start < 0)
			cli_side_write(&run.late, ln->p, ln->len);
	} else if (run.dlq && !opt.late_path && run.gen.replay &&
		   dlq_keeps(run.dlq)) {
		cli_stats.dead_lettered++; /* as the batch's run did */
	} else if (run.dlq && !opt.late_path) {
		time_format(t, ts);
		time_format(w, ws);
		char msg[256];
		snprintf(msg, sizeof msg, "event time %s: every window of it "
			 "closed (watermark %s)", ts, ws);
		struct dlq_letter l = {
			.record = ln->p, .len = ln->len, .is_json = true,
			.error_type = "late", .error_message = msg,
			.replayable = true, .file = name, .line = ln->lineno,
		};
		cli_letter(run.dlq, &l);
	} else {
		run.late_dropped++;
	}
}

/* Sessions of g that [s, e) overlaps merge into one, which takes the
 * record.  A merged session keeps the pane count of the most-fired one
 * it absorbed, and counts as fired only if one of them fired at the
 * merged end. */
static struct win *session_join(struct group *g, int64_t s, int64_t e,
				bool *resched)
{
	/* The sessions [s, e) overlaps are one run of g->ss: those that
	 * start before e, of which (disjoint, so ends ascend too) the last
	 * few end after s.  No other session touches their union. */
	size_t hi = ss_lower(g, e), lo = hi;
	while (lo > 0 && g->ss[g->s0 + lo - 1]->end > s)
		lo--;
	if (lo == hi) {
		*resched = true;
		return win_new(g, s, e);
	}
	size_t nr = hi - lo;
	if (nr > run.caprun) {
		run.caprun = nr;
		run.sessrun = xreallocarray(run.sessrun, nr, sizeof *run.sessrun);
	}
	memcpy(run.sessrun, &g->ss[g->s0 + lo], nr * sizeof *run.sessrun);
	/* out of g->ss while their bounds change; `into` goes back after */
	memmove(&g->ss[g->s0 + lo], &g->ss[g->s0 + hi],
		(g->sn - hi) * sizeof *g->ss);
	g->sn -= nr;
	for (size_t i = 0; i < nr; i++)
		run.sessrun[i]->listed = false;

	/* They merge in the order their first records arrived: the first
	 * takes the others, whose aggregates follow its own, so first()
	 * is the first to arrive of all of them. */
	struct win *into = NULL;
	int64_t end0 = 0;
	for (;;) {
		size_t at = nr;
		for (size_t i = 0; i < nr; i++)
			if (run.sessrun[i] && (at == nr ||
			    run.sessrun[i]->seq < run.sessrun[at]->seq))
				at = i;
		if (at == nr)
			break;
		struct win *o = run.sessrun[at];
		run.sessrun[at] = NULL;
		if (!into) {
			into = o;
			end0 = o->end;
			if (s < into->start)
				into->start = s;
			if (e > into->end)
				into->end = e;
			continue;
		}
		/* fold o into `into` (the first found: its aggregates go
		 * first, which is what first/last see) */
		for (size_t k = 0; k < opt.naggs; k++)
			if (agg_merge(&opt.aggs[k], &into->a[k], &o->a[k]))
				cli_die(EXIT_TROUBLE, "--agg %s: exact sum "
					"overflows 38 digits",
					opt.aggs[k].text);
		if (o->panes > into->panes)
			into->panes = o->panes;
		int64_t ne = o->end > into->end ? o->end : into->end;
		bool done = (into->fired && into->fired_end == ne) ||
			    (o->fired && o->fired_end == ne);
		into->fired = done;
		into->fired_end = done ? ne : INT64_MIN;
		if (o->start < into->start)
			into->start = o->start;
		into->end = ne;
		win_remove(o);
	}
	ss_insert(g, into);
	into->listed = true;
	*resched = into->end != end0;
	return into;
}

/* No --delay and no _watermark lines: the input is one bounded batch. */
static bool batch_mode(void)
{
	return !opt.delay_given && !run.upstream;
}

/* The stream's first _watermark line comes after runs of the state
 * without lines whose W, their newest event time, already fired a
 * window or judged a record late that the line's W would not have: the
 * panes written are not one run's over the stream, and cannot be taken
 * back. */
static _Noreturn void provisional_used(const struct line *ln,
				       const char *name, int64_t line)
{
	char ws[TIME_STRMAX], ls[TIME_STRMAX];
	time_format(run.w0, ws);
	time_format(line, ls);
	cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": the stream's first _watermark "
		"line (%s) comes after runs of %s without any, whose W (their "
		"newest event time, %s) has fired windows or judged records "
		"by it, as one run over the stream would not have; start a "
		"new state file, or give --delay from the first run",
		name, ln->lineno, ls, opt.state_path, ws);
}

static void control(const struct line *ln, const char *name,
		    const struct slot *s)
{
	if (opt.delay_given) { /* our own watermark was asked for */
		run.replaced += !run.foreign;
		return;
	}
	if (s->msg) {
		bad_record(ln, name, true, s->type, "%s", s->msg);
		return;
	}
	if (!run.upstream) {
		/* The first line replaces what this run's records made of W
		 * (a batch's newest time, which fired nothing), but not the
		 * W a state carried in: windows fired and closed by it would
		 * take their records again and fire twice.  Unless that W
		 * is only the newest time of earlier runs without lines (a
		 * stream cut between its first record and the line after
		 * it) and fired nothing: then the line is the stream's W, as
		 * in one run over it. */
		if (run.prov && run.min_end <= run.w0)
			provisional_used(ln, name, s->t);
		run.upstream = true;
		wm_set(run.wm, s->t);
		if (run.have_w0 && !run.prov)
			wm_raise(run.wm, run.w0);
		run.prov = false;
	} else if (!wm_raise(run.wm, s->t)) {
		return;
	}
	int64_t w;
	wm_get(run.wm, &w);
	advance(w);
}

/* The first record's top-level member names, decoded (for "did you
 * mean"), NULL-terminated. */
static char **member_names(const struct line *ln)
{
	struct scan_record r = {0};
	struct scan_error se;
	char **names = xcalloc(1, sizeof *names);
	if (scan_record(&r, ln->p, ln->len, &se) == 0) {
		names = xreallocarray(names, r.nmembers + 1, sizeof *names);
		for (size_t i = 0; i < r.nmembers; i++)
			names[i] = scan_strdup_lit(ln->p + r.members[i].key,
						   r.members[i].key_len);
		names[r.nmembers] = NULL;
	}
	scan_record_free(&r);
	return names;
}

static void note_valued(const struct line *ln, const struct slot *s)
{
	if (!run.records++) {
		run.names = member_names(ln);
		run.first = xstrndup(ln->p, ln->len);
		run.first_len = ln->len;
	}
	/* written once, not every record: run.valued shares a cache line
	 * with run.keys, which every prep reads on the other cores, and a
	 * store a record made that line cross cores twice a record
	 * (window -j 2 spent 17% more CPU than -j 1) */
	for (size_t k = 0; k < opt.naggs; k++)
		if (!run.valued[k] && !s->in[k].null)
			run.valued[k] = true;
}

/* Records left out of an --agg for want of a value, one line for the
 * aggregates of one expression: "--agg s, a: 2 records left out, their
 * .v null or absent".  count(EXPR) counts the values there are, so
 * nothing is left out of it; an --agg no record answered is said by
 * say_unvalued instead. */
static void say_nulls(void)
{
	bool done[MAX_AGGS] = {false};
	for (size_t k = 0; k < opt.naggs; k++) {
		const struct agg_spec *a = &opt.aggs[k];
		if (done[k] || !a->e || a->fn == AGG_COUNT || !run.valued[k] ||
		    !run.nulls[k])
			continue;
		const char *src = expr_source(a->e);
		struct buf names = {0};
		for (size_t j = k; j < opt.naggs; j++) {
			const struct agg_spec *b = &opt.aggs[j];
			if (!b->e || b->fn == AGG_COUNT || !run.valued[j] ||
			    strcmp(expr_source(b->e), src) != 0)
				continue;
			done[j] = true;
			buf_adds(&names, names.len ? ", " : "");
			buf_adds(&names, b->name);
		}
		buf_addc(&names, '\0');
		cli_warn("--agg %s: %" PRIu64 " record%s left out, %s %s null "
			 "or absent", names.p, run.nulls[k],
			 run.nulls[k] == 1 ? "" : "s",
			 run.nulls[k] == 1 ? "its" : "their", src);
		buf_free(&names);
	}
}

/* An --agg no record gave a value (null in the panes of this run),
 * said once. */
static void say_unvalued(void)
{
	for (size_t k = 0; run.records && k < opt.naggs; k++) {
		if (!opt.aggs[k].e || run.valued[k])
			continue;
		const char *src = expr_source(opt.aggs[k].e);
		const char *near = NULL;
		char nested[300] = "";
		if (src[0] == '.' && src[1] && !strpbrk(src + 1, ".[|( ")) {
			near = cli_nearest(src + 1, (const char *const *)
							    run.names);
		} else {
			/* .o.amuont: the path with the name its object
			 * has (.o.amount), as a misspelt -t or -g is said */
			struct scan_record r = {0};
			struct scan_error se;
			if (scan_record(&r, run.first, run.first_len, &se) == 0)
				badrec_near(opt.aggs[k].e, &r, nested,
					    sizeof nested);
			scan_record_free(&r);
		}
		cli_warn("--agg %s: no record read had a value for %s%s%s%s%s",
			 opt.aggs[k].text, src,
			 near ? " (did you mean ." : "", near ? near : "",
			 near ? "?)" : "", nested);
	}
	for (char **n = run.names; n && *n; n++)
		free(*n);
	free(run.names);
	run.names = NULL;
	free(run.first);
	run.first = NULL;
	say_nulls();
}

/*
 * The --agg whose exact sum the record would take past 38 digits in one
 * of the windows it joins (found: g's windows at its starts, NULL where
 * none is open yet), or NULL.  Asked before any window changes, so that
 * such a record is a bad record (dead-lettered with --dlq) and never one
 * added to some windows or aggregates and not to others.  A session is
 * summed in the order session_join folds it: the first to arrive of the
 * sessions the record bridges, the others, then the record.
 */
static const struct agg_spec *overflows(const struct slot *s,
					const struct group *g,
					struct win *const *found,
					size_t nstarts)
{
	if (!g)
		return NULL; /* new windows hold the record's values alone */
	for (size_t k = 0; k < opt.naggs; k++) {
		const struct agg_spec *a = &opt.aggs[k];
		if (a->fn != AGG_SUM && a->fn != AGG_AVG)
			continue;
		if (opt.kind != SESSION) {
			if (s->in[k].null)
				continue;
			for (size_t i = 0; i < nstarts; i++) {
				struct dec acc = found[i] ? found[i]->a[k].sum
							  : DEC_ZERO;
				struct dec d = agg_in_dec(&s->in[k]);
				if (dec_add(&acc, &d) != 0)
					return a;
			}
			continue;
		}
		int64_t e = wm_add(s->t, s->span);
		size_t hi = ss_lower(g, e), lo = hi;
		while (lo > 0 && g->ss[g->s0 + lo - 1]->end > s->t)
			lo--;
		struct dec acc = DEC_ZERO;
		uint64_t after = 0; /* the seqs folded so far are below it */
		for (size_t n = lo; n < hi; n++) {
			struct win *next = NULL;
			for (size_t i = lo; i < hi; i++) {
				struct win *w = g->ss[g->s0 + i];
				if (w->seq >= after &&
				    (!next || w->seq < next->seq))
					next = w;
			}
			after = next->seq + 1;
			if (dec_add(&acc, &next->a[k].sum) != 0)
				return a;
		}
		/* the sessions it bridges merge, whatever its own value */
		if (!s->in[k].null) {
			struct dec d = agg_in_dec(&s->in[k]);
			if (dec_add(&acc, &d) != 0)
				return a;
		}
	}
	return NULL;
}

static void apply(const struct line *ln, const char *name, void *slot)
{
	struct slot *s = slot;
	cli_stats.records_in++;
	run.arrival++;
	if (run.gen.batch) /* so a replay on other input is refused */
		state_gen_input(&run.gen, s->line, ln->len);
	if (shard_reads_all())
		input_feed(s->line.h);
	/* A record without a group key is shard 0's to report. */
	run.foreign = !cli_shard_keyless(&opt.shard);
	if (s->kind == P_FAULT) {
		run.shard_skipped += run.foreign;
		bad_record(ln, name, s->is_json, s->type, "%s", s->msg);
		return;
	}
	if (s->kind == P_CONTROL) {
		control(ln, name, s);
		return;
	}
	/* Another shard's record still moves the watermark (if it would
	 * have in one process), so every shard fires as one process does. */
	run.foreign = !cli_shard_take(&opt.shard, s->fp, name, ln->lineno,
				      NULL);
	run.shard_skipped += run.foreign;
	if (s->kind == P_BAD) {
		bad_record(ln, name, true, s->type, "%s", s->msg);
		return;
	}
	note_valued(ln, s);

	/* which of the windows of t are still open */
	int64_t t = s->t, span = s->span, w = 0;
	bool have_w;
	if (batch_mode()) {
		have_w = run.have_w0;
		w = run.w0;
	} else {
		have_w = wm_get(run.wm, &w);
	}
	int64_t starts[MAX_SPAN];
	size_t nstarts = 0, nwins = 0;
	int64_t step = opt.kind == SLIDE ? opt.step : span;
	for (int64_t b = s->first; b <= s->last; b += step) {
		if (!(t < wm_add(b, span)))
			continue;
		if (!nwins++ && wm_add(b, span) < run.min_end)
			run.min_end = wm_add(b, span); /* every shard's */
		if (!have_w || wm_add(wm_add(b, span), opt.lateness) > w)
			starts[nstarts++] = b;
	}
	if (s->in_gap && nstarts == 0) {
		if (!run.foreign)
			run.gap++;
		goto observe;
	}
	if (nstarts == 0) {
		if (!run.foreign)
			too_late(ln, name, t, w);
		return;
	}
	if (run.foreign)
		goto observe;
	/* the windows of its group it joins, looked up once: the last one
	 * this group joined, mostly, found without hashing (apply's share
	 * of a record is what -j cannot split) */
	struct group *g = group_find(s->fp);
	struct win *found[MAX_SPAN];
	for (size_t i = 0; opt.kind != SESSION && i < nstarts; i++)
		found[i] = !g ? NULL
			   : g->last && g->last->start == starts[i]
				   ? g->last
				   : win_find(g, starts[i]);
	const struct agg_spec *big = overflows(s, g, found, nstarts);
	if (big) {
		/* its event time is good: it moves W as in the shards that
		 * do not hold its group, and cannot know its sums */
		bad_record(ln, name, true, "wrong_type", "--agg %s: exact sum "
			   "overflows 38 digits", big->text);
		goto observe;
	}
	if (have_w && t < w)
		cli_stats.late++;
	if (nstarts < nwins) {
		run.partly_late++;
		run.partly_windows += nwins - nstarts;
	}

	for (size_t k = 0; k < opt.naggs; k++)
		run.nulls[k] += s->in[k].null;
	if (!g)
		g = group_get(s->fp, s->key, s->klen);
	run.ntouched = 0;
	for (size_t i = 0; i < nstarts; i++) {
		struct win *win = NULL;
		if (opt.kind == SESSION) {
			bool resched;
			win = session_join(g, t, wm_add(t, span), &resched);
			if (resched)
				schedule(win); /* stale entries are skipped */
		} else {
			win = found[i]; /* windows made below stay where
					 * they are; only the index moves */
			if (!win) {
				win = win_new(g, starts[i], starts[i] + span);
				schedule(win);
			}
			g->last = win;
		}
		add_to(win, ln, name, s->in);
		touch(win);
	}
	/* A window past its end re-fires now as a late pane; one not yet
	 * due shows an early pane with --emit update. */
	for (size_t i = 0; i < run.ntouched; i++) {
		struct win *x = run.touched[i];
		if (have_w && w >= x->end) {
			x->fired = true;
			x->fired_end = x->end;
			emit(x, "late", false);
		} else if (opt.update) {
			emit(x, "early", false);
		}
	}
observe:
	/* A partition's records hold only its groups' times: its W is the
	 * whole input's, from _watermark lines only (partition_held). */
	if (!run.upstream && !opt.shard.whole &&
	    wm_observe(run.wm, (struct fp128){0, 0}, t) && opt.delay_given) {
		wm_get(run.wm, &w);
		advance(w);
	}
}

/* ---- state ---- */

/* Whether -t, -g or an --agg program reads local time, whose zone
 * is then part of what the run computes. */
static bool reads_local(void)
{
	bool any = expr_text_reads_local(expr_source(opt.time));
	for (size_t k = 0; k < opt.ngroups; k++)
		any |= expr_text_reads_local(expr_source(opt.groups[k]));
	for (size_t k = 0; k < opt.naggs; k++)
		any |= expr_text_reads_local(opt.aggs[k].text);
	return any;
}

static void describe(void)
{
	struct buf b = {0};
	static const char *kinds[] = {"tumble", "slide", "session"};
	buf_addf(&b, "%s size=%" PRId64 " step=%" PRId64 " gap=%" PRId64
		 " offset=%" PRId64 " lateness=%" PRId64 " -t %s",
		 kinds[opt.kind], opt.size, opt.step, opt.gap, opt.offset,
		 opt.lateness, expr_source(opt.time));
	if (opt.cal) /* absent before calendar windows: old states load */
		buf_addf(&b, " calendar=%s tz=%s week_start=%d", opt.tumble,
			 opt.tz ? opt.tz : "UTC", opt.calu.week_start);
	bool arith = expr_text_has_arith(expr_source(opt.time));
	for (size_t k = 0; k < opt.ngroups; k++) {
		buf_addf(&b, " -g %s", expr_source(opt.groups[k]));
		arith |= expr_text_has_arith(expr_source(opt.groups[k]));
	}
	for (size_t k = 0; k < opt.naggs; k++) {
		buf_addf(&b, " --agg %s", opt.aggs[k].text);
		arith |= expr_text_has_arith(opt.aggs[k].text);
	}
	cli_zone_describe(&b, reads_local());
	cli_exact_describe(&b, arith);
	/* a shard's state holds its groups only: another shard, or a run
	 * of every group, would miss the rest of the windows' records */
	run.desc_base = b.len;
	cli_shard_describe(&b, &opt.shard);
	run.desc = b.p;
}

struct part_ctx {
	struct buf *b;
	uint64_t n;
};

static void save_part(void *ctx, struct fp128 part, int64_t max)
{
	struct part_ctx *c = ctx;
	(void)part;
	state_put_u64(c->b, (uint64_t)max);
	c->n++;
}

static int by_seq(const void *a, const void *b)
{
	const struct win *x = *(struct win *const *)a;
	const struct win *y = *(struct win *const *)b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void state_save(void)
{
	char err[512];
	struct buf b = {0};
	int64_t w = 0;
	bool have_w = wm_get(run.wm, &w);
	state_put_str(&b, run.desc, strlen(run.desc));
	state_put_u64(&b, (have_w ? 1u : 0u) | (run.upstream ? 2u : 0u) |
			      (run.prov ? 4u : 0u));
	state_put_u64(&b, (uint64_t)w);
	/* the newest event time (own watermark), 0 or 1 of them */
	struct buf parts = {0};
	struct part_ctx pc = {&parts, 0};
	wm_each(run.wm, save_part, &pc);
	state_put_u64(&b, pc.n);
	buf_add(&b, parts.p, parts.len);
	buf_free(&parts);
	state_put_u64(&b, run.nwins);
	for (size_t i = 0; i < run.gcap; i++) {
		struct group *g = run.gt ? run.gt[i] : NULL;
		if (!g)
			continue;
		/* in arrival order, which the next run's seqs are made in */
		qsort(g->w, g->n, sizeof *g->w, by_seq);
		for (size_t j = 0; j < g->n; j++)
			g->w[j]->gi = j;
		for (size_t j = 0; j < g->n; j++) {
			struct win *x = g->w[j];
			state_put_u64(&b, g->fp.lo);
			state_put_u64(&b, g->fp.hi);
			state_put_str(&b, g->key, g->klen);
			state_put_u64(&b, (uint64_t)x->start);
			state_put_u64(&b, (uint64_t)x->end);
			state_put_u64(&b, (uint64_t)x->fired_end);
			state_put_u64(&b, (x->fired ? 1u : 0u));
			state_put_u64(&b, x->panes);
			for (size_t k = 0; k < opt.naggs; k++)
				agg_save(&opt.aggs[k], &x->a[k], &b);
		}
	}
	state_put_u64(&b, run.arrival);
	if (run.prov) /* after the rest: an older window refuses it */
		state_put_u64(&b, (uint64_t)run.min_end);
	struct state_writer *sw = state_write_begin_gen(opt.state_path,
							STATE_KIND,
							run.keys ==
								VALUE_KEYS_TEXT
							    ? STATE_VERSION_TEXT
							    : STATE_VERSION,
							b.len,
							&run.gen, err,
							sizeof err);
	if (!sw)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (state_write(sw, b.p, b.len, err, sizeof err) != 0) {
		state_write_abort(sw);
		cli_die(EXIT_TROUBLE, "%s", err);
	}
	if (state_write_end(sw, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	buf_free(&b);
}

static void newest_of(void *ctx, struct fp128 part, int64_t max)
{
	(void)part;
	*(int64_t *)ctx = max;
}

/*
 * W is the newest event time less --delay (0 for a batch), but the
 * state keeps both, and wm moves W only when a newer time comes: after
 * a run with a longer --delay (or a batch run after a --delay one), W
 * stayed behind the newest time less this run's delay, and windows due
 * by it did not fire, at a batch's end neither.  So W is raised to it
 * now, and with --delay what that makes due fires before the first
 * record is judged.  A batch judges its records against the W the state
 * carried (run.w0, taken before) and fires at its end.
 */
static void catch_up(void)
{
	int64_t newest = 0, w;
	if (run.upstream || !wm_partitions(run.wm))
		return;
	wm_each(run.wm, newest_of, &newest);
	if (wm_raise(run.wm, wm_sub(newest, opt.delay)) && opt.delay_given &&
	    wm_get(run.wm, &w))
		advance(w);
}

static _Noreturn void damaged(void)
{
	cli_die(EXIT_TROUBLE, "%s: damaged state; refusing it",
		opt.state_path);
}

/*
 * Whether [s, e) is one of this run's windows: the options match (the
 * state says them), yet a stored window off this run's grid would stand
 * beside the run's own window of that time, and the records of one
 * window would split between two panes.  A calendar bucket moves when
 * the system's zone data changes a zone's rules between runs; anything
 * else off the grid is damage.  cal is a memo of the calendar buckets.
 */
static bool win_fits(struct tz_cal *cal, int64_t s, int64_t e)
{
	const int64_t ns = 1000000000LL;
	if (e <= s)
		return false; /* every window holds time */
	if (opt.kind == SESSION) /* [first event, last event + gap) */
		return (__int128)e - s >= opt.gap;
	if (opt.cal) {
		int64_t b, be;
		if (s % ns || e % ns)
			return false;
		tz_bucket(cal, s / ns, &b, &be);
		return b == s / ns && be == e / ns;
	}
	int64_t step = opt.kind == TUMBLE ? opt.size : opt.step;
	__int128 r = ((__int128)s - opt.offset) % step;
	return (__int128)e - s == opt.size && r == 0;
}

static _Noreturn void off_grid(int64_t s, int64_t e)
{
	char a[TIME_STRMAX], b[TIME_STRMAX];
	if (!opt.cal)
		damaged();
	time_format(s, a);
	time_format(e, b);
	cli_die(EXIT_TROUBLE, "%s: holds the window %s .. %s, which is no "
		"--tumble %s window of %s by this system's zone data (it "
		"changed since the state was written?); finish the state "
		"with the zone data it was written with (TZDIR), or start a "
		"new state file", opt.state_path, a, b, opt.tumble,
		opt.tz ? opt.tz : "UTC");
}

/*
 * A replay must be its batch's run again, or it fires other panes than
 * the ones the sink may have taken, or sends the batch's too-late
 * records and dead letters elsewhere than where its run put them: the
 * input is checked by lib/statefile, the options by this note
 * (lib/batchnote), kept with the batch.  The windows (the state's
 * description: kind, size, step, gap, --offset, --lateness, -t, -g,
 * --agg, the calendar and the shard) are checked against a state the
 * replay starts from anyway, but a first batch starts from none.
 * Not in it: -j and --stats, which change nothing written, and the
 * batch itself.
 */
static void note_build(void)
{
	struct batchnote *n = &run.note;
	n->state_path = opt.state_path;
	char *w = xstrndup(run.desc, run.desc_base); /* the shard apart */
	batchnote_add(n, "windows", w, "windows '%s'", w);
	free(w);
	batchnote_add_shard(n, opt.shard.whole, opt.shard.i, opt.shard.n);
	if (opt.delay_given) {
		char ns[32];
		snprintf(ns, sizeof ns, "%" PRId64, opt.delay);
		batchnote_add(n, "--delay", ns, "--delay %s", opt.delay_arg);
	} else {
		batchnote_add(n, "--delay", "", "no --delay");
	}
	batchnote_add(n, "--emit", opt.update ? "update" : "final",
		      "--emit %s", opt.update ? "update" : "final");
	static const char *const units[] = {"s", "ms", "us", "ns"};
	batchnote_add(n, "--time-unit", units[opt.unit], "--time-unit %s",
		      units[opt.unit]);
	/* --late drop is not no --late: with --dlq, too-late records are
	 * dead letters without it */
	if (opt.late_path && !strcmp(opt.late_path, "drop"))
		batchnote_add(n, "--late", "|drop", "--late drop");
	else
		batchnote_add_file(n, "--late", opt.late_path);
	batchnote_add_file(n, "--dlq", opt.dlq_path);
	batchnote_add_max_line(n, opt.max_line, opt.max_line_arg);
}

/* In the list a state without a note cannot check, with a base
 * (*based): the windows and the shard, which the base's description was
 * checked against.  A replay is held to every option of the note. */
static bool note_skip(const char *name, bool listing, void *ctx)
{
	return listing && *(bool *)ctx &&
	       (!strcmp(name, "windows") || !strcmp(name, "--shard"));
}

static void state_load(void)
{
	uint32_t version;
	uint64_t len;
	/* A replay of the batch that wrote the state starts from the
	 * state before it, so it fires what the killed run fired. */
	struct state_reader *r = cli_state_open(opt.state_path, STATE_KIND,
						STATE_VERSION, &run.gen,
						&version, &len);
	if (run.gen.replay) {
		bool based = r != NULL;
		batchnote_check(&run.note, &run.gen, note_skip, &based);
	}
	if (!r)
		return; /* first run */
	if (len > ((uint64_t)1 << 40))
		damaged();
	if (version <= STATE_VERSION_TEXT) {
		run.keys = VALUE_KEYS_TEXT;
		/* partition(1) routes a time by its instant, and this state
		 * its keys by their text: say so where they part */
		opt.shard.why = "this state, from before keys compared times "
				"as instants, keys them by their text and "
				"partition(1) by their instant: go on with "
				"--shard I/N over the whole input, or start a "
				"new state file";
		cli_warn("%s: a state from before keys compared times as "
			 "instants: its group keys and distinct() values stay "
			 "text (one time spelled at two offsets is two); a "
			 "new state file compares them as instants",
			 opt.state_path);
	}
	unsigned char *data = cli_state_read_all(r, len);
	const unsigned char *p = data, *end = data + len;
	char *desc;
	size_t dlen;
	uint64_t flags, w, nparts, nw, u;
	if (state_get_str(&p, end, &desc, &dlen) != 0)
		damaged();
	/* a state from before states said their shard (text keys): its
	 * groups are checked one by one below */
	char why[PATH_MAX + 256];
	if (!cli_shard_desc_check(opt.state_path, desc, run.desc,
				  run.desc_base, run.keys == VALUE_KEYS_TEXT,
				  "group", why, sizeof why) &&
	    !cli_pre_exact_state(opt.state_path, desc, run.desc,
				 run.desc_base, run.keys == VALUE_KEYS_TEXT,
				 "group")) {
		if (why[0])
			cli_die(EXIT_TROUBLE, "%s", why);
		cli_die(EXIT_TROUBLE, "%s: state was written for '%s', not "
			"'%s'; use a new state file", opt.state_path, desc,
			run.desc);
	}
	free(desc);
	if (state_get_u64(&p, end, &flags) || state_get_u64(&p, end, &w) ||
	    state_get_u64(&p, end, &nparts) || nparts > 1)
		damaged();
	for (uint64_t i = 0; i < nparts; i++) {
		if (state_get_u64(&p, end, &u))
			damaged();
		wm_restore(run.wm, (struct fp128){0, 0}, (int64_t)u);
	}
	if (flags & ~(uint64_t)7 || (flags & 4 && (flags & 3) != 1))
		damaged();
	if (flags & 1)
		wm_set(run.wm, (int64_t)w);
	run.upstream = flags & 2;
	run.prov = flags & 4;
	if (state_get_u64(&p, end, &nw))
		damaged();
	struct tz_cal cal = opt.calu; /* its own memo */
	cal.memo = cal.last = NULL;
	for (uint64_t i = 0; i < nw; i++) {
		uint64_t lo, hi, s, e, fe, fired, panes;
		char *key;
		size_t klen;
		if (state_get_u64(&p, end, &lo) ||
		    state_get_u64(&p, end, &hi) ||
		    state_get_str(&p, end, &key, &klen) ||
		    state_get_u64(&p, end, &s) || state_get_u64(&p, end, &e) ||
		    state_get_u64(&p, end, &fe) ||
		    state_get_u64(&p, end, &fired) ||
		    state_get_u64(&p, end, &panes))
			damaged();
		/* Another shard's group (a state shared by two shards, or
		 * one of a run without --shard) would fire here, beside
		 * that shard's own panes of it. */
		if (!cli_shard_mine(&opt.shard, (struct fp128){lo, hi})) {
			free(key);
			free(data);
			cli_die(EXIT_TROUBLE, "%s: holds windows of a group "
				"that is not shard %" PRIu32 "'s of %" PRIu32
				" (a state of another shard, or of a run "
				"without --shard); give each shard its own "
				"state file", opt.state_path, opt.shard.i,
				opt.shard.n);
		}
		if (!win_fits(&cal, (int64_t)s, (int64_t)e))
			off_grid((int64_t)s, (int64_t)e);
		struct group *g = group_get((struct fp128){lo, hi}, key, klen);
		free(key);
		if (opt.kind != SESSION && win_find(g, (int64_t)s))
			damaged(); /* one window twice */
		if (opt.kind == SESSION) { /* sessions are disjoint */
			size_t at = ss_lower(g, (int64_t)s);
			if ((at < g->sn &&
			     g->ss[g->s0 + at]->start < (int64_t)e) ||
			    (at > 0 && g->ss[g->s0 + at - 1]->end > (int64_t)s))
				damaged();
		}
		struct win *x = win_new(g, (int64_t)s, (int64_t)e);
		x->fired_end = (int64_t)fe;
		x->fired = fired & 1;
		x->panes = (uint32_t)panes;
		for (size_t k = 0; k < opt.naggs; k++)
			if (agg_load(&opt.aggs[k], &x->a[k], &p, end,
				     version) != 0)
				damaged();
		schedule(x);
	}
	free(cal.memo);
	if (version >= 2 && state_get_u64(&p, end, &run.arrival) != 0)
		damaged();
	if (run.prov && (version < 2 || state_get_u64(&p, end, &u) != 0))
		damaged();
	if (run.prov)
		run.min_end = (int64_t)u;
	if (p != end)
		damaged();
	free(data);
}

/* ---- the end ---- */

/*
 * The last line of a --shard or --partition run that ends well:
 *
 *   {"_shard":{"index":I,"of":N,"panes":K,"run":"<hex>","input":"<hex>"}}
 *
 * input (--shard only) the digest of the lines read (input_feed), the
 * same in every shard of one run; K is the panes this output holds; run
 * an XXH3-128 fingerprint of every
 * option that shapes a pane, in a canonical form (durations as
 * nanoseconds, an --offset as its place in the step, p50(.x) as
 * p(.x, 0.5)), so that their order and spelling do not matter.  window
 * merge checks by it that the shards are all there, each whole, and of
 * one command line.  A run that stopped (exit 2) writes none: what it
 * wrote is not vouched for.  Not part of run: the index, which differs
 * from shard to shard, and what leaves the panes as they are (--late,
 * --dlq, --stats, -j, --batch).
 */
static void put_str(struct buf *b, const char *s)
{
	buf_addf(b, " %zu:%s", strlen(s), s);
}

static void shard_trailer(void)
{
	static const char *kinds[] = {"tumble", "slide", "session"};
	struct buf b = {0};
	int64_t step = opt.kind == SLIDE ? opt.step : opt.size, off = 0;
	if (opt.kind != SESSION && !opt.cal && step > 0)
		off = ((opt.offset % step) + step) % step;
	buf_addf(&b, "window-shard-run 1 %s size=%" PRId64 " step=%" PRId64
		 " gap=%" PRId64 " offset=%" PRId64 " lateness=%" PRId64,
		 kinds[opt.kind], opt.cal ? 0 : opt.size, opt.step, opt.gap,
		 off, opt.lateness);
	if (opt.cal) {
		buf_addf(&b, " calendar=%d/%" PRId64 " week_start=%d tz",
			 (int)opt.calu.unit, opt.calu.n, opt.calu.week_start);
		/* without --tz bounds are written as UTC's "Z", with
		 * --tz UTC as "+00:00": two spellings of one pane */
		put_str(&b, opt.tz ? opt.tz : "");
	}
	buf_addf(&b, " unit=%d delay=%" PRId64 " emit=%s state=%d "
		 "partition=%d keys=%d max_line=%zu of=%" PRIu32 " -t",
		 (int)opt.unit, opt.delay_given ? opt.delay : -1,
		 opt.update ? "update" : "final", opt.state_path != NULL,
		 opt.shard.whole, (int)run.keys, opt.max_line, opt.shard.n);
	put_str(&b, expr_source(opt.time));
	for (size_t k = 0; k < opt.ngroups; k++) {
		buf_adds(&b, " -g");
		put_str(&b, expr_source(opt.groups[k]));
	}
	for (size_t k = 0; k < opt.naggs; k++) {
		const struct agg_spec *a = &opt.aggs[k];
		bool pct = a->fn == AGG_P50 || a->fn == AGG_P90 ||
			   a->fn == AGG_P99 || a->fn == AGG_PCT;
		uint64_t g = pct ? (uint64_t)dec_gcd(a->q_num, a->q_den) : 1;
		buf_adds(&b, " --agg");
		put_str(&b, a->name);
		buf_addf(&b, " fn=%d", pct ? (int)AGG_PCT : (int)a->fn);
		put_str(&b, a->e ? expr_source(a->e) : "");
		if (pct)
			buf_addf(&b, " q=%" PRIu64 "/%" PRIu64, a->q_num / g,
				 a->q_den / g);
	}
	/* shards run under two zones read one record's local time apart */
	cli_zone_describe(&b, reads_local());
	char hex[33];
	value_fp_hex(value_fp(b.p, b.len), hex);
	buf_reset(&b);
	buf_addf(&b, "{\"_shard\":{\"index\":%" PRIu32 ",\"of\":%" PRIu32
		 ",\"panes\":%" PRIu64 ",\"run\":\"%s\"", opt.shard.i,
		 opt.shard.n, run.panes, hex);
	if (shard_reads_all()) {
		input_fold();
		struct fp128 in;
		in.lo = le64_get(run.in_buf);
		in.hi = le64_get(run.in_buf + 8);
		value_fp_hex(in, hex);
		buf_addf(&b, ",\"input\":\"%s\"", hex);
	}
	buf_adds(&b, "}}");
	cli_out_line(b.p, b.len);
	buf_free(&b);
	free(run.in_buf);
	run.in_buf = NULL;
}


static void fire_all(void)
{
	run.nbatch = 0;
	for (size_t i = 0; i < run.gcap; i++) {
		struct group *g = run.gt ? run.gt[i] : NULL;
		if (!g)
			continue;
		for (size_t j = 0; j < g->n; j++)
			if (!(g->w[j]->fired && g->w[j]->fired_end == g->w[j]->end))
				batch_add(g->w[j]);
	}
	if (run.nbatch > 1)
		qsort(run.batch, run.nbatch, sizeof *run.batch, by_start_key);
	for (size_t i = 0; i < run.nbatch; i++)
		emit(run.batch[i], "on_time", true);
}

/*
 * --lateness and --late FILE act on records behind the watermark, and a
 * run without --delay, _watermark lines or --state has none: its input
 * is one batch, in which no record is late.  Which of them it has is
 * known at its end only (a control line may come last), so they are
 * taken, and said at the end to have done nothing, not left to look as
 * if they had kept late records.
 */
static void say_batch_only(void)
{
	if (opt.state_path || !batch_mode() || !cli_stats.records_in)
		return;
	bool lateness = opt.lateness > 0;
	bool late = opt.late_path && strcmp(opt.late_path, "drop") != 0;
	if (!lateness && !late)
		return;
	cli_warn("%s%s%s%s%s did nothing: without --delay or _watermark "
		 "lines the input was one batch, in which no record is late "
		 "(--delay DUR gives it a watermark)",
		 lateness ? "--lateness " : "",
		 lateness ? opt.lateness_arg : "",
		 lateness && late ? " and " : "", late ? "--late " : "",
		 late ? opt.late_path : "");
}

/*
 * --partition with --state before the first _watermark line (a batch cut
 * between a partition's first record and the line after it, or a
 * partition written without -t): its records' times are its own groups',
 * not the whole input's, so they do not move W (apply); W stays where
 * the state had it, none yet, and the windows wait for the line that
 * moves it, as in one run over the whole partition.  Said, since a
 * partition without such lines never fires them.
 */
static void partition_held(void)
{
	if (!opt.shard.whole || !opt.state_path || !batch_mode() ||
	    !run.nwins)
		return;
	cli_warn("--partition %" PRIu32 "/%" PRIu32 " with --state: no "
		 "_watermark line yet, so %zu window%s wait%s for one in a "
		 "next run (partition(1) -t writes them; a partition "
		 "without them never fires)",
		 opt.shard.i, opt.shard.n, run.nwins,
		 run.nwins == 1 ? "" : "s", run.nwins == 1 ? "s" : "");
}

static _Noreturn void finish(int status)
{
	int64_t w;
	if (status == EXIT_OK)
		partition_held();
	if (status == EXIT_OK && !opt.state_path)
		fire_all();
	else if (status == EXIT_OK && batch_mode() && wm_get(run.wm, &w)) {
		/* the batch is over: W is its newest time, till the
		 * stream's first _watermark line, if it has any, says
		 * otherwise (a W from the lines or --delay stays) */
		run.prov = run.prov || !run.have_w0;
		advance(w);
	}
	if (status == EXIT_OK && opt.shard.n)
		shard_trailer(); /* after the last pane, before the commit */
	cli_progress_done();
	if (opt.state_path && status == EXIT_OK)
		cli_out_delivered(); /* the state vouches for the panes */
	else
		cli_out_commit();
	cli_side_close(&run.late);
	cli_dlq_close(&run.dlq);
	if (opt.state_path && status == EXIT_OK)
		state_save();
	state_gen_free(&run.gen);
	if (opt.stats) {
		struct buf b = {0};
		buf_addf(&b, ",\"too_late\":%" PRIu64 ",\"gap\":%" PRIu64
			 ",\"panes\":%" PRIu64
			 ",\"open_windows\":%zu,\"groups\":%zu"
			 ",\"shard_skipped\":%" PRIu64 ",\"partly_late\":%" PRIu64
			 ",\"watermarks_replaced\":%" PRIu64,
			 run.too_late, run.gap, run.panes, run.nwins, run.ngroups,
			 run.shard_skipped, run.partly_late, run.replaced);
		if (wm_get(run.wm, &w)) {
			jw_key(&b, "watermark", 0);
			jw_time(&b, w);
		}
		if (run.gen.batch)
			buf_addf(&b, ",\"replay\":%s",
				 run.gen.replay ? "true" : "false");
		cli_stats_print(b.p);
		buf_free(&b);
	}
	cli_out_close();
	if (status == EXIT_OK)
		say_unvalued();
	/* at a stop too: the panes fired before it went out, and these
	 * records are in none of them */
	cli_dropped(run.late_dropped, "too late",
		    "--late FILE or --lateness DUR");
	cli_dropped(run.gap, "between windows",
		    "--every no longer than --slide");
	cli_dropped(run.replaced, "_watermark lines replaced by "
			    "--delay's", "leaving out --delay");
	if (status == EXIT_OK)
		say_batch_only();
	if (run.partly_late) /* at a stop too, as the drops above */
		cli_warn("%" PRIu64 " record%s left out of %" PRIu64
			 " window%s that had closed (on time for %s others, "
			 "which have %s; --lateness DUR keeps those windows "
			 "open)", run.partly_late,
			 run.partly_late == 1 ? "" : "s", run.partly_windows,
			 run.partly_windows == 1 ? "" : "s",
			 run.partly_late == 1 ? "its" : "their",
			 run.partly_late == 1 ? "it" : "them");
	cli_exit(status);
}

static void set_kind(enum kind k)
{
	if (opt.have_kind && opt.kind != k)
		cli_usage_error("choose one of --tumble, --slide, --session");
	opt.kind = k;
	opt.have_kind = true;
}

/* N then d, w, mo or y, whatever N: a calendar unit as spelled, so that
 * one tz_cal_parse refuses for its N (0, or past TZ_CAL_MAX) is said to
 * be that, not an unknown unit.  *day: the unit is d. */
static bool cal_spelled(const char *s, bool *day)
{
	size_t n = strspn(s, "0123456789");
	*day = n && !strcmp(s + n, "d");
	return n && (*day || !strcmp(s + n, "w") || !strcmp(s + n, "mo") ||
		     !strcmp(s + n, "y"));
}

static int64_t positive(const char *name, const char *arg)
{
	bool day;
	if (cal_spelled(arg, &day) && !day)
		cli_usage_error("%s: '%s': calendar units (w, mo, y) apply to "
				"--tumble only", name, arg);
	int64_t d = cli_duration(name, arg);
	if (d <= 0)
		cli_usage_error("%s: must be positive", name);
	return d;
}

/*
 * --tumble Nw, Nmo, Ny are calendar windows (of UTC unless --tz); Nd is
 * one too with --tz, and otherwise the fixed duration it always was (the
 * same windows as UTC's calendar days, bounds written as before).
 */
static void calendar_options(void)
{
	char err[512];
	if (opt.kind == TUMBLE) {
		bool day;
		opt.cal = tz_cal_parse(opt.tumble, &opt.calu) == 0 &&
			  (opt.calu.unit != TZ_DAY || opt.tz);
		/* '0w' or '200000mo' was said to be an unknown unit, and
		 * '106751d --tz UTC' a fixed duration --tz does not take */
		if (!opt.cal && cal_spelled(opt.tumble, &day) &&
		    (!day || opt.tz))
			cli_usage_error("--tumble: '%s': a calendar window "
					"takes N from 1 to %d", opt.tumble,
					TZ_CAL_MAX);
		int64_t ns;
		const char *why;
		/* '1M' for a month: name the calendar units too, which
		 * the message of a duration alone leaves out (only for a
		 * unit it does not know: '1h1h' or '-1h' is no month) */
		if (!opt.cal && tz_cal_parse(opt.tumble, &opt.calu) != 0 &&
		    duration_parse(opt.tumble, &ns, &why) != 0 &&
		    (strstr(why, "unknown unit") || strstr(why, "missing unit")))
			cli_usage_error("--tumble: '%s': %s; or a calendar "
					"unit: Nd, Nw, Nmo, Ny", opt.tumble,
					why);
		if (!opt.cal)
			opt.size = positive("--tumble", opt.tumble);
	}
	if (opt.tz && !opt.cal)
		cli_usage_error("--tz: applies to calendar windows (--tumble "
				"Nd, Nw, Nmo or Ny), not to %s", opt.kind ==
				TUMBLE ? "a fixed --tumble duration" :
				opt.kind == SLIDE ? "--slide" : "--session");
	if (opt.week_start >= 0 && !(opt.cal && opt.calu.unit == TZ_WEEK))
		cli_usage_error("--week-start: applies to --tumble Nw only");
	if (!opt.cal)
		return;
	if (opt.offset_given)
		cli_usage_error("--offset does not apply to calendar windows "
				"(--tumble %s): they start at local "
				"midnight", opt.tumble);
	opt.calu.week_start = opt.week_start < 0 ? 0 : opt.week_start;
	/* the process has one zone, which tz_open makes the calendar's:
	 * a program's localtime would then read it, not the user's TZ */
	const char *zone = opt.tz ? opt.tz : "UTC", *env = getenv("TZ");
	const char *named = env ? tz_local_name() : NULL;
	char canon[4096];
	if (named && strcmp(named, tz_canonical(zone, canon, sizeof canon))) {
		const struct expr *e[1 + MAX_GROUPS + MAX_AGGS];
		const char *what[1 + MAX_GROUPS + MAX_AGGS];
		size_t n = 0;
		e[n] = opt.time, what[n++] = "-t";
		for (size_t k = 0; k < opt.ngroups; k++)
			e[n] = opt.groups[k], what[n++] = "-g";
		for (size_t k = 0; k < opt.naggs; k++)
			e[n] = opt.aggs[k].e, what[n++] = "--agg";
		for (size_t k = 0; k < n; k++)
			if (e[k] && expr_text_reads_local(expr_source(e[k])))
				cli_usage_error("%s: '%s' reads local time, "
						"which in calendar windows is "
						"--tz's zone (%s), not TZ's "
						"(%s); give --tz that zone, or "
						"unset TZ", what[k],
						expr_source(e[k]), zone, named);
	}
	int rc = tz_open(zone, err, sizeof err);
	if (rc != 0) {
		char **names = tz_names(), hint[300] = "";
		const char *near = cli_nearest(opt.tz, (const char *const *)names);
		if (near && rc == -1) /* -2 names the zone to use */
			snprintf(hint, sizeof hint, "; did you mean '%s'?",
				 near);
		tz_names_free(names);
		cli_usage_error("--tz: %s%s", err, hint);
	}
}

int main(int argc, char **argv)
{
	enum { O_TUMBLE = 256, O_SLIDE, O_EVERY, O_SESSION, O_OFFSET, O_AGG,
	       O_DELAY, O_LATENESS, O_EMIT, O_LATE, O_STATE, O_SHARD, O_UNIT,
	       O_DLQ, O_MAXLINE, O_STATS, O_VERSION, O_BATCH, O_TZ,
	       O_WEEK_START, O_PARTITION };
	static const struct option longopts[] = {
		{"tumble", required_argument, NULL, O_TUMBLE},
		{"slide", required_argument, NULL, O_SLIDE},
		{"every", required_argument, NULL, O_EVERY},
		{"session", required_argument, NULL, O_SESSION},
		{"offset", required_argument, NULL, O_OFFSET},
		{"tz", required_argument, NULL, O_TZ},
		{"week-start", required_argument, NULL, O_WEEK_START},
		{"time", required_argument, NULL, 't'},
		{"group", required_argument, NULL, 'g'},
		{"agg", required_argument, NULL, O_AGG},
		{"delay", required_argument, NULL, O_DELAY},
		{"lateness", required_argument, NULL, O_LATENESS},
		{"emit", required_argument, NULL, O_EMIT},
		{"late", required_argument, NULL, O_LATE},
		{"state", required_argument, NULL, O_STATE},
		{"batch", required_argument, NULL, O_BATCH},
		{"shard", required_argument, NULL, O_SHARD},
		{"partition", required_argument, NULL, O_PARTITION},
		{"time-unit", required_argument, NULL, O_UNIT},
		{"dlq", required_argument, NULL, O_DLQ},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"stats", no_argument, NULL, O_STATS},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	int c;

	cli_init(argv[0]);
	cli_refuse_twice("group agg");
	const struct cli_verb *v = cli_verb_pick(verbs, 2, &argc, &argv,
						 usage);
	if (v->name)
		return window_merge(v, argc, argv, longopts);
	opt.threads = par_default_threads();
	while ((c = cli_verb_getopt(v, argc, argv, "t:g:j:h", longopts)) != -1) {
		switch (c) {
		case O_TUMBLE:
			set_kind(TUMBLE);
			opt.tumble = optarg; /* a duration or a calendar unit:
					      * decided once --tz is known */
			break;
		case O_TZ: opt.tz = optarg; break;
		case O_WEEK_START:
			opt.week_start = tz_weekday_parse(optarg);
			if (opt.week_start < 0)
				cli_usage_error("--week-start: want a day, "
						"mon .. sun, got '%s'", optarg);
			break;
		case O_SLIDE:
			set_kind(SLIDE);
			opt.size = positive("--slide", optarg);
			break;
		case O_EVERY: opt.step = positive("--every", optarg); break;
		case O_SESSION:
			set_kind(SESSION);
			opt.gap = positive("--session", optarg);
			break;
		case O_OFFSET:
			opt.offset = cli_duration("--offset", optarg);
			opt.offset_given = true;
			break;
		case 't': opt.time = cli_expr("-t", optarg); break;
		case 'g':
			if (opt.ngroups == MAX_GROUPS)
				cli_usage_error("at most %d -g options",
						MAX_GROUPS);
			opt.groups[opt.ngroups++] = cli_expr("-g", optarg);
			break;
		case O_AGG:
			if (opt.naggs == MAX_AGGS)
				cli_usage_error("at most %d --agg options",
						MAX_AGGS);
			if (agg_parse(optarg, &opt.aggs[opt.naggs], err,
				      sizeof err) != 0)
				cli_usage_error("--agg: %s", err);
			for (size_t k = 0; k < opt.naggs; k++)
				if (!strcmp(opt.aggs[k].name,
					    opt.aggs[opt.naggs].name))
					cli_usage_error("--agg: '%s' named "
							"twice",
							opt.aggs[k].name);
			opt.naggs++;
			break;
		case O_DELAY:
			opt.delay = cli_duration("--delay", optarg);
			opt.delay_arg = optarg;
			opt.delay_given = true;
			break;
		case O_LATENESS:
			opt.lateness = cli_duration("--lateness", optarg);
			opt.lateness_arg = optarg;
			break;
		case O_EMIT:
			if (!strcmp(optarg, "final"))
				opt.update = false;
			else if (!strcmp(optarg, "update"))
				opt.update = true;
			else
				cli_usage_error("--emit: want final or update, "
						"got '%s'", optarg);
			break;
		case O_LATE: opt.late_path = optarg; break;
		case O_STATE: opt.state_path = optarg; break;
		case O_BATCH: opt.batch = optarg; break;
		case O_SHARD: cli_shard_parse(&opt.shard, optarg); break;
		case O_PARTITION:
			cli_partition_parse(&opt.shard, optarg);
			break;
		case O_UNIT:
			opt.unit = cli_time_unit(optarg);
			break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			opt.max_line_arg = optarg;
			break;
		case O_STATS: opt.stats = true; break;
		case 'j': opt.threads = cli_threads(optarg); break;
		case 'h': usage(EXIT_OK); break;
		case O_VERSION: cli_version(); break;
		}
	}
	if (!opt.have_kind)
		cli_usage_error("want one of --tumble, --slide, --session");
	if (!opt.time)
		cli_usage_error("-t EXPR is required");
	calendar_options();
	if (opt.kind != SLIDE && opt.step)
		cli_usage_error("--every does not apply to --%s (it is "
				"--slide's step)", opt.kind == SESSION
							   ? "session"
							   : "tumble");
	if (opt.kind == SLIDE && !opt.step)
		cli_usage_error("--slide and --every go together");
	if (opt.kind == SLIDE && opt.size / opt.step >= MAX_SPAN)
		cli_usage_error("--slide/--every: at most %d windows per "
				"record", MAX_SPAN - 1);
	if (opt.kind == SESSION && opt.offset_given)
		cli_usage_error("--offset does not apply to --session");
	if (opt.delay_given && opt.shard.whole)
		cli_usage_error("--delay with --partition: a partition holds "
				"only its groups' event times, so its own "
				"watermark would lag one process's; give -t "
				"and --delay to partition, which carries the "
				"watermark of the whole input");
	if (opt.naggs == 0) {
		agg_parse("count=count()", &opt.aggs[0], err, sizeof err);
		opt.naggs = 1;
	}
	if (opt.kind != SESSION && !opt.cal) {
		int64_t step = opt.kind == TUMBLE ? opt.size : opt.step;
		opt.offset %= step;
	}

	if (opt.batch && !opt.state_path)
		cli_usage_error("--batch needs --state");
	/* IDEM_BATCH is --batch's default with --state; without one
	 * (a plain run under checkpoint run) it named no batch, but
	 * --stats said "replay":false and one of 256 bytes was refused */
	if (opt.state_path &&
	    state_batch(opt.batch, &run.gen.batch, err, sizeof err) != 0)
		cli_usage_error("%s", err);
	describe();
	/* a file named twice would add its records up twice */
	cli_inputs_once(argv + optind, "in the panes");
	cli_check_common_outputs(argv + optind,
				 opt.late_path && strcmp(opt.late_path, "drop")
					 ? opt.late_path
					 : NULL,
				 opt.dlq_path, opt.state_path);
	run.wm = wm_new(opt.delay, 0);
	run.min_end = INT64_MAX;
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
		state_load();
		/* --delay: our own W from now on, which only rises from the
		 * one a run that followed _watermark lines left */
		if (opt.delay_given)
			run.upstream = run.prov = false;
	}
	run.have_w0 = wm_get(run.wm, &run.w0);
	if (opt.late_path && strcmp(opt.late_path, "drop") != 0)
		cli_side_open(&run.late, opt.late_path, true);
	if (opt.dlq_path)
		run.dlq = cli_dlq_open(opt.dlq_path);
	if (opt.state_path)
		catch_up();

	struct par_ops ops = {
		.slot_size = slot_size(), .worker_new = worker_new,
		.worker_free = worker_free, .prep = prep, .apply = apply,
	};
	par_run(argv + optind, opt.max_line, opt.threads, &ops, finish);
}
