/*
 * watermark: event-time progress and late data, as a filter.
 *
 * Each record is judged against the watermark W of the records before
 * it, then W is updated with it (lib/wm.h).  A record is late when its
 * event time is before W, and too late when it is before W - lateness;
 * too-late records go to --late or --dlq, everything else passes through
 * byte for byte.  --emit adds {"_watermark":"<RFC 3339>"} control lines
 * after a record that advanced W, which window(1) honours, and replaces
 * upstream ones (said at the end); without it they pass, checked.
 *
 * --analyze reads the whole input instead and reports how late records
 * arrive (ingest time - event time): the percentiles and the delay that
 * would have kept 99% of them on time, with 50% margin.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badrec.h"
#include "buf.h"
#include "cli.h"
#include "dlq.h"
#include "expr.h"
#include "jsonw.h"
#include "lines.h"
#include "par.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"
#include "zio.h"

static struct {
	struct expr *time;
	struct expr *part;
	struct expr *ingest;
	int64_t delay, lateness, idle;
	enum wm_clock idle_clock;
	size_t partitions; /* --partitions N; 0: not declared */
	enum time_unit unit;
	const char *late_path; /* NULL: pass through; "drop": discard */
	const char *dlq_path;
	bool emit, analyze, stats;
	size_t max_line;
	int threads;
} opt = {.unit = TIME_S, .max_line = LINES_DEFAULT_MAX};

static struct {
	struct wm *wm;
	struct buf out;
	struct cli_side late; /* --late FILE */
	struct dlq *dlq;
	uint64_t too_late, controls;
	uint64_t unmeasured; /* --analyze: _watermark lines, no lateness */
	uint64_t emitted; /* --emit's own _watermark lines */
	bool said_behind, said_extra;
	uint64_t late_dropped; /* --late drop: said at the end */
	int64_t *lags; /* --analyze: ingest - event, ns */
	size_t nlags, cap_lags;
} run;

/* The tool and its options, for lib/cli's front end: the usage line
 * refusals print, and the examples --help ends with (they run in an
 * empty folder: tests/frontend.bats). */
static const struct cli_verb self = {
	NULL, "-t EXPR [OPTION]... [FILE]...", NULL,
	"Track the event-time watermark and set late records aside",
	 "  printf '{\"t\":\"2024-01-01T00:10:00Z\"}\\n{\"t\":\"2024-01-01T00:00:00Z\"}\\n' > ev.ndjson\n"
	 "  watermark -t .t --delay 5m --late late.ndjson ev.ndjson\n"
	 "  watermark -t .t --delay 5m --emit ev.ndjson\n"};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: watermark -t EXPR [OPTION]... [FILE]...\n"
"       watermark --analyze -t EXPR --ingest EXPR [FILE]...\n"
"Track the event-time watermark of NDJSON records and set late ones aside.\n"
"\n"
"  -t, --time EXPR       event time (RFC 3339 string or epoch number)\n"
"      --delay DUR       watermark = newest event time - DUR (default 0s)\n"
"      --lateness DUR    records up to DUR behind the watermark still pass\n"
"  -p, --partition EXPR  one watermark per partition; W is their minimum\n"
"      --idle DUR        leave out partitions idle for DUR (see --idle-clock)\n"
"      --idle-clock event|processing\n"
"                        idle = DUR behind the newest event time (default),\n"
"                        or no record for DUR of processing (wall) time\n"
"      --partitions N    W waits until N partitions have been seen\n"
"      --late drop|FILE  where too-late records go (default: pass, counted)\n"
"      --emit            write {\"_watermark\":TIME} lines when W advances,\n"
"                        in place of upstream ones (passed on without it)\n"
"      --time-unit s|ms|us|ns\n"
"                        the unit of epoch numbers (default s)\n"
"      --analyze         report lateness percentiles and a suggested delay\n"
"      --ingest EXPR     ingest (arrival) time, for --analyze\n"
"      --dlq FILE        dead-letter bad (and too-late) records\n"
"      --max-line SIZE   longest accepted line (default 64M)\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -j, --threads N       parse on N threads (0: every core; default: the\n"
"                        cores, at most 8); output is the same for any N\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Exit status: 0 done, 2 trouble.  See watermark(1).\n");
	cli_examples(f, self.examples);
	cli_exit(status);
}

static _Noreturn void finish(int status);

/* A bad record: dead-lettered, or the end of the run (exit 2). */
#define bad_record(...) cli_reject(run.dlq, finish, __VA_ARGS__)

static void too_late(const struct line *ln, const char *name, int64_t t,
		     int64_t w)
{
	char ts[TIME_STRMAX], ws[TIME_STRMAX];
	run.too_late++;
	if (opt.late_path && strcmp(opt.late_path, "drop") == 0) {
		run.late_dropped++;
		return;
	}
	if (run.late.path) {
		cli_side_write(&run.late, ln->p, ln->len);
		return;
	}
	if (run.dlq) {
		time_format(t, ts);
		time_format(w, ws);
		char msg[256];
		snprintf(msg, sizeof msg,
			 "event time %s is more than the lateness behind the "
			 "watermark %s", ts, ws);
		struct dlq_letter l = {
			.record = ln->p, .len = ln->len, .is_json = true,
			.error_type = "late", .error_message = msg,
			.replayable = true, .file = name, .line = ln->lineno,
		};
		cli_letter(run.dlq, &l);
		return;
	}
	cli_out_line(ln->p, ln->len); /* no place given: it passes */
	cli_stats.records_out++;
}

/* A partition seen for the first time after W was set: say (once) when
 * it came in behind W or beyond the declared count, since W could not
 * wait for it. */
static void new_partition(const struct line *ln, const char *name,
			  struct fp128 part)
{
	if (opt.partitions && wm_partitions(run.wm) > opt.partitions &&
	    !run.said_extra) {
		run.said_extra = true;
		cli_warn("%s:%" PRIu64 ": more partitions than --partitions "
			 "%zu; the watermark did not wait for this one", name,
			 ln->lineno, opt.partitions);
	}
	if (wm_behind(run.wm, part) && !run.said_behind) {
		run.said_behind = true;
		cli_warn("%s:%" PRIu64 ": a partition first seen behind the "
			 "watermark; its records are judged by its own "
			 "watermark until it catches up (declare the "
			 "partitions with --partitions N so the watermark "
			 "waits for them)", name, ln->lineno);
	}
}

/*
 * A record in two steps (lib/par).  prep, on any thread, does the
 * record's own work: the line check, the scan, the event time (and the
 * ingest time or the partition's fingerprint), writing a struct slot;
 * apply, in input order on the calling thread, judges it against the
 * watermark and routes it.  So the output is the same for any -j.
 */
struct slot {
	int64_t t, ing;
	struct fp128 part;
	struct badrec bad; /* bad.type: a bad record */
	bool control;      /* an upstream {"_watermark": ...} line */
};

/* One prep thread's expressions and scratch (cw.scratch: the
 * partition's canonical value). */
struct worker {
	struct cli_worker cw;
	struct expr *time, *part, *ingest;
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

static void *worker_new(void *arg, int index)
{
	(void)arg;
	struct worker *w = cli_worker_new(sizeof *w, index);
	w->time = cli_worker_expr(&w->cw, opt.time);
	w->part = cli_worker_expr(&w->cw, opt.part);
	w->ingest = cli_worker_expr(&w->cw, opt.ingest);
	return w;
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *w = wctx;
	struct slot *s = slot;
	struct badrec *b = &s->bad;
	s->control = false;
	if (!badrec_line(b, ch, ln, opt.max_line, &w->cw.rec, true))
		return;
	if (wm_control_line(&w->cw.rec)) { /* an upstream watermark */
		s->control = true;
		if (opt.emit || opt.analyze)
			return; /* replaced, or not a record to measure */
		/* passed on: checked as window(1) will read it */
		const struct scan_member *m = WM_CONTROL_MEMBER(&w->cw.rec);
		const char *why;
		int64_t t;
		if (time_from_json(w->cw.rec.p + m->val, m->val_end - m->val,
				   opt.unit, &t, &why) != 0)
			badrec_set(b, ch, true, "wrong_type", "_watermark: %s",
				   why);
		return;
	}
	if (!badrec_time(b, ch, w->time, &w->cw.rec, "event time", opt.unit,
			 &s->t))
		return;
	if (opt.analyze) {
		badrec_time(b, ch, w->ingest, &w->cw.rec, "ingest time",
			    opt.unit, &s->ing);
		return;
	}
	s->part = (struct fp128){0, 0};
	if (w->part) {
		const char *v;
		size_t vlen;
		if (!badrec_eval(b, ch, w->part, &w->cw.rec, "partition", &v,
				 &vlen))
			return;
		s->part = value_fingerprint(v, vlen, &w->cw.scratch);
	}
}

/* Fold a record's time into W, and with --emit say W when it advanced:
 * a too-late record moves it too (with --idle-clock processing, a
 * partition found idle at its arrival leaves the minimum), and a W not
 * said held window(1) downstream behind the --stats watermark. */
static void observe(struct fp128 part, int64_t t)
{
	int64_t w;
	if (!wm_observe(run.wm, part, t) || !opt.emit)
		return;
	wm_get(run.wm, &w);
	buf_reset(&run.out);
	buf_adds(&run.out, "{\"_watermark\":");
	jw_time(&run.out, w);
	buf_addc(&run.out, '}');
	cli_out_line(run.out.p, run.out.len);
	run.emitted++;
}

static void apply(const struct line *ln, const char *name, void *slot)
{
	const struct slot *s = slot;
	cli_stats.records_in++;
	if (s->bad.type) {
		bad_record(ln, name, s->bad.is_json, s->bad.type, "%s",
			   s->bad.msg);
		return;
	}
	if (s->control) {
		if (opt.emit) { /* ours replaces it */
			run.controls++;
		} else if (opt.analyze) {
			run.unmeasured++;
		} else { /* we write none: it goes on */
			cli_out_line(ln->p, ln->len);
			cli_stats.records_out++;
		}
		return;
	}
	int64_t t = s->t;
	if (opt.analyze) {
		int64_t lag;
		/* ingest and event time ~292 years apart: a lag int64 ns
		 * cannot hold, which a saturated one would have understated */
		if (__builtin_sub_overflow(s->ing, t, &lag)) {
			bad_record(ln, name, true, "wrong_type", "ingest time "
				   "less event time: out of range (over 292 "
				   "years)");
			return;
		}
		run.lags = xgrow(run.lags, &run.cap_lags, run.nlags,
				 sizeof *run.lags, 4096);
		run.lags[run.nlags++] = lag;
		return;
	}
	struct fp128 part = s->part;
	int64_t w;
	int how = wm_limit(run.wm, part, &w);
	if ((how == WM_JUDGE_W || how == WM_JUDGE_OWN) && t < w) {
		cli_stats.late++;
		if (t < wm_sub(w, opt.lateness)) {
			too_late(ln, name, t, w);
			observe(part, t);
			return;
		}
	}
	cli_out_line(ln->p, ln->len);
	cli_stats.records_out++;
	observe(part, t);
	if (how == WM_JUDGE_NEW)
		new_partition(ln, name, part);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q = per_mille / 1000
 * of them at or below, ceil(q * n) in integers.  (In doubles, q * n +
 * 0.999999999 rounded up to the next rank from 2^25 records on.) */
static int64_t rank(unsigned per_mille)
{
	size_t k = (size_t)(((unsigned __int128)run.nlags * per_mille + 999) /
			    1000);
	if (k < 1)
		k = 1;
	if (k > run.nlags)
		k = run.nlags;
	return run.lags[k - 1];
}

/* A lag below zero (a record ingested before its event time, clocks
 * apart) is written as it is, "-5s": as 0s it read as on time. */
static void put_dur(struct buf *b, const char *key, int64_t ns)
{
	char d[48];
	jw_key(b, key, 0);
	jw_string(b, d, duration_format(ns, d));
}

static void histogram(void)
{
	static const struct { const char *label; int64_t below; } bk[] = {
		{"<= 0", 1}, {"< 10ms", 10000000}, {"< 100ms", 100000000},
		{"< 1s", 1000000000}, {"< 10s", 10000000000},
		{"< 1m", 60000000000}, {"< 10m", 600000000000},
		{"< 1h", 3600000000000}, {">= 1h", INT64_MAX},
	};
	enum { NB = sizeof bk / sizeof bk[0] };
	size_t count[NB] = {0}, most = 1;
	for (size_t i = 0; i < run.nlags; i++) {
		size_t j = 0;
		while (j < NB - 1 && run.lags[i] >= bk[j].below)
			j++;
		count[j]++;
	}
	for (size_t j = 0; j < NB; j++)
		if (count[j] > most)
			most = count[j];
	for (size_t j = 0; j < NB; j++) {
		char bar[51];
		size_t w = count[j] * 50 / most;
		if (count[j] && w == 0)
			w = 1;
		memset(bar, '#', w);
		bar[w] = '\0';
		printf("%-8s %10zu %s\n", bk[j].label, count[j], bar);
	}
}

static void analyze_report(void)
{
	struct buf b = {0};
	if (run.nlags > 1)
		qsort(run.lags, run.nlags, sizeof *run.lags, cmp_i64);
	buf_adds(&b, "{\"records\":");
	buf_add_u64(&b, run.nlags);
	if (run.nlags) {
		size_t early = 0;
		while (early < run.nlags && run.lags[early] < 0)
			early++;
		jw_key(&b, "early", 0);
		buf_add_u64(&b, early);
		int64_t p99 = rank(990);
		put_dur(&b, "p50", rank(500));
		put_dur(&b, "p90", rank(900));
		put_dur(&b, "p99", p99);
		put_dur(&b, "p99.9", rank(999));
		put_dur(&b, "max", run.lags[run.nlags - 1]);
		/* past int64 ns no --delay can say it: null */
		int64_t sug;
		if (p99 < 0)
			sug = 0;
		else if (__builtin_add_overflow(p99, p99 / 2, &sug))
			sug = -1;
		if (sug < 0) {
			jw_key(&b, "suggested_delay", 0);
			buf_adds(&b, "null");
		} else {
			put_dur(&b, "suggested_delay", sug);
		}
	}
	buf_addc(&b, '}');
	cli_out_line(b.p, b.len);
	buf_free(&b);
	if (isatty(STDOUT_FILENO) && run.nlags) {
		cli_out_commit();
		histogram();
		fflush(stdout);
	}
}

static _Noreturn void finish(int status)
{
	if (opt.analyze && status == EXIT_OK)
		analyze_report();
	cli_progress_done();
	if (opt.partitions && wm_partitions(run.wm) < opt.partitions &&
	    status == EXIT_OK && !opt.analyze)
		cli_warn("%zu of --partitions %zu partitions seen; the "
			 "watermark waited for the others and was never set",
			 wm_partitions(run.wm), opt.partitions);
	cli_out_commit();
	cli_side_close(&run.late);
	cli_dlq_close(&run.dlq);
	if (opt.stats) {
		char extra[256];
		int64_t w;
		struct buf b = {0};
		buf_addf(&b, ",\"too_late\":%" PRIu64 ",\"partitions\":%zu",
			 run.too_late, wm_partitions(run.wm));
		if (wm_get(run.wm, &w)) {
			jw_key(&b, "watermark", 0);
			jw_time(&b, w);
		}
		buf_addf(&b, ",\"watermarks\":%" PRIu64
			 ",\"watermarks_replaced\":%" PRIu64, run.emitted,
			 run.controls);
		snprintf(extra, sizeof extra, "%s", b.p);
		buf_free(&b);
		cli_stats_print(extra);
	}
	cli_out_close();
	/* at a stop too: the records before it went out, these did not */
	cli_dropped(run.late_dropped, "too late", "--late FILE");
	cli_dropped(run.controls, "_watermark lines replaced by "
			    "--emit's", "leaving out --emit");
	if (run.unmeasured)
		cli_warn("%" PRIu64 " _watermark line%s (watermark --emit's "
			 "progress, no record) not in --analyze's records",
			 run.unmeasured, run.unmeasured == 1 ? "" : "s");
	cli_exit(status);
}

int main(int argc, char **argv)
{
	enum { O_DELAY = 256, O_LATENESS, O_IDLE, O_IDLE_CLOCK, O_PARTS, O_LATE, O_EMIT, O_UNIT,
	       O_ANALYZE, O_INGEST, O_DLQ, O_MAXLINE, O_STATS, O_VERSION };
	opt.threads = par_default_threads();
	static const struct option longopts[] = {
		{"time", required_argument, NULL, 't'},
		{"delay", required_argument, NULL, O_DELAY},
		{"lateness", required_argument, NULL, O_LATENESS},
		{"partition", required_argument, NULL, 'p'},
		{"idle", required_argument, NULL, O_IDLE},
		{"idle-clock", required_argument, NULL, O_IDLE_CLOCK},
		{"partitions", required_argument, NULL, O_PARTS},
		{"late", required_argument, NULL, O_LATE},
		{"emit", no_argument, NULL, O_EMIT},
		{"time-unit", required_argument, NULL, O_UNIT},
		{"analyze", no_argument, NULL, O_ANALYZE},
		{"ingest", required_argument, NULL, O_INGEST},
		{"dlq", required_argument, NULL, O_DLQ},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"stats", no_argument, NULL, O_STATS},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool idle_clock_given = false;
	const char *threads_arg = NULL;
	const char *judging = NULL; /* an option that judges records */

	cli_init(argv[0]);
	cli_refuse_twice("");
	while ((c = cli_verb_getopt(&self, argc, argv, "t:p:j:h", longopts)) != -1) {
		switch (c) {
		case 't': opt.time = cli_expr("-t", optarg); break;
		case 'p':
			/* --partition 3 meant --partitions 3, or I/N as
			 * dedup's and window's --partition: a number is one
			 * partition for every record, no -p at all; so is
			 * any JSON text (-1, 1.5, 1e3, null, "x"), which jq
			 * reads as itself */
			struct scan_error se;
			if ((optarg[strspn(optarg, "0123456789/")] == '\0' &&
			     isdigit((unsigned char)optarg[0])) ||
			    scan_validate(optarg, strlen(optarg), &se) == 0)
				cli_usage_error("-p '%s': a constant, one "
						"partition for every record "
						"(--partitions N waits for N; "
						"I/N is another tool's "
						"--partition)", optarg);
			opt.part = cli_expr("-p", optarg);
			judging = "-p";
			break;
		case O_DELAY:
			opt.delay = cli_duration("--delay", optarg);
			judging = "--delay";
			break;
		case O_LATENESS:
			opt.lateness = cli_duration("--lateness", optarg);
			judging = "--lateness";
			break;
		case O_IDLE:
			opt.idle = cli_duration("--idle", optarg);
			if (opt.idle <= 0)
				cli_usage_error("--idle: must be positive");
			break;
		case O_IDLE_CLOCK:
			if (!strcmp(optarg, "event"))
				opt.idle_clock = WM_CLOCK_EVENT;
			else if (!strcmp(optarg, "processing"))
				opt.idle_clock = WM_CLOCK_PROCESSING;
			else
				cli_usage_error("--idle-clock: want event or "
						"processing, got '%s'", optarg);
			idle_clock_given = true;
			break;
		case O_PARTS:
			opt.partitions = (size_t)cli_count("--partitions",
							   optarg);
			if (!opt.partitions)
				cli_usage_error("--partitions: must be "
						"positive");
			break;
		case O_LATE:
			opt.late_path = optarg;
			judging = "--late";
			break;
		case O_EMIT:
			opt.emit = true;
			judging = "--emit";
			break;
		case O_UNIT:
			opt.unit = cli_time_unit(optarg);
			break;
		case O_ANALYZE: opt.analyze = true; break;
		case O_INGEST: opt.ingest = cli_expr("--ingest", optarg); break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			break;
		case O_STATS: opt.stats = true; break;
		case 'j':
			opt.threads = cli_threads(optarg);
			threads_arg = optarg;
			break;
		case 'h': usage(EXIT_OK); break;
		case O_VERSION: cli_version(); break;
		}
	}
	if (!opt.time)
		cli_usage_error("-t EXPR is required");
	if (opt.analyze != (opt.ingest != NULL))
		cli_usage_error("--analyze and --ingest go together");
	/* --analyze measures lateness and passes nothing on: an option
	 * that sets the watermark or says where late records go would be
	 * taken and ignored. */
	if (opt.analyze && judging)
		cli_usage_error("%s does not apply to --analyze, which only "
				"measures how late records arrive (it keeps "
				"no watermark and writes no records)",
				judging);
	if (opt.idle && !opt.part)
		cli_usage_error("--idle needs -p");
	if (idle_clock_given && !opt.idle)
		cli_usage_error("--idle-clock needs --idle");
	if (opt.partitions && !opt.part)
		cli_usage_error("--partitions needs -p");
	/* The processing clock is read as each record is applied; with
	 * threads a record waits for its chunk to fill, so the gaps between
	 * arrivals the clock must see would be lost. */
	if (opt.idle_clock == WM_CLOCK_PROCESSING) {
		if (threads_arg && opt.threads > 1)
			cli_usage_error("-j %s: --idle-clock processing reads "
					"the clock as each record arrives, on "
					"one thread (give -j 1 or leave -j "
					"out)", threads_arg);
		opt.threads = 1;
	}

	/* a file named twice would pass its records on twice, the second
	 * time all late */
	cli_inputs_once(argv + optind, opt.analyze ? "in the analysis"
						    : "in the output");
	cli_check_common_outputs(argv + optind,
				 opt.late_path && strcmp(opt.late_path, "drop")
					 ? opt.late_path
					 : NULL,
				 opt.dlq_path, NULL);

	run.wm = wm_new(opt.delay, opt.idle);
	wm_set_idle_clock(run.wm, opt.idle_clock);
	wm_expect(run.wm, opt.partitions);
	if (opt.late_path && strcmp(opt.late_path, "drop") != 0)
		cli_side_open(&run.late, opt.late_path, true);
	if (opt.dlq_path)
		run.dlq = cli_dlq_open(opt.dlq_path);

	struct par_ops ops = {
		.slot_size = sizeof(struct slot), .worker_new = worker_new,
		.worker_free = cli_worker_free, .prep = prep, .apply = apply,
	};
	par_run(argv + optind, opt.max_line, opt.threads, &ops, finish);
}
