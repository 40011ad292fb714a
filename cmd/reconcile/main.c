/*
 * reconcile: prove two NDJSON layers hold the same data.  See
 * reconcile.h for the shape of a run; this file parses options, reads
 * the inputs (twice: once for the counts, once more for the text of the
 * keys that differ), joins the key tables and writes summaries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dlq.h"
#include "expr.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "reconcile.h"
#include "scan.h"
#include "xalloc.h"
#include "zio.h"

struct rc_opts opt = {.show = -1, .bucket = -1, .bucket_bits = 8,
		      .max_line = LINES_DEFAULT_MAX};

static struct {
	struct expr *key[MAX_KEYS], *sum[MAX_SUMS], *by;
	struct part **parts;
	size_t nparts, cap_parts;
	struct fpset *part_ix; /* canonical --by value -> index + 1 */
	struct ktab tab[2];
	bool spilled;
	char *tmpdir;
	struct dlq *dlq;
	struct scan_record rec;
	struct buf canon, keytext, last_by;
	uint32_t last_part;
	bool have_last;
	const char *input[2];
	char *reread[2]; /* where the second read finds each input */
	struct diff *diffs;
	size_t ndiffs, cap_diffs;
	struct fpset *diff_ix;
	struct bstat *bkt; /* summarize */
	bool summarize;
	int side; /* of the input being read */
} run;

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: reconcile -k EXPR [OPTION]... SOURCE TARGET\n"
"       reconcile summarize -k EXPR [OPTION]... [FILE]...\n"
"       reconcile merge SUMMARY...\n"
"       reconcile compare SUMMARY SUMMARY\n"
"Prove that two NDJSON inputs hold the same records.\n"
"\n"
"  -k, --key EXPR        key (a jq path or program; repeatable)\n"
"      --sum EXPR        add up this number exactly (repeatable)\n"
"      --by EXPR         report per partition of this value\n"
"      --tolerance X     sums agree within X (absolute)\n"
"      --show N          show up to N records of each kind of difference\n"
"      --keys-only       write only the differing keys\n"
"      --format F        ndjson or table (default: table on a terminal)\n"
"      --memory SIZE     key tables beyond SIZE spill to disk\n"
"                        (default a quarter of RAM)\n"
"      --buckets N       key-hash buckets, a power of two (default 256)\n"
"      --bucket B        check only the keys of bucket B\n"
"      --dlq FILE        dead-letter bad records instead of stopping\n"
"      --max-line SIZE   longest accepted line (default 64M)\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Exit status: 0 the inputs agree, 1 they differ, 2 trouble.\n"
"See reconcile(1).\n");
	exit(status);
}

/* ---- temporary files ---- */

static void tmp_cleanup(void)
{
	if (!run.tmpdir)
		return;
	DIR *d = opendir(run.tmpdir);
	if (d) {
		struct dirent *e;
		char path[4096];
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", run.tmpdir,
				 e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(run.tmpdir);
}

static const char *tmpdir(void)
{
	if (run.tmpdir)
		return run.tmpdir;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + 32;
	char *t = xmalloc(n);
	snprintf(t, n, "%s/reconcile.XXXXXX", base);
	if (!mkdtemp(t))
		cli_die(EXIT_TROUBLE, "%s: %s", t, strerror(errno));
	run.tmpdir = t;
	atexit(tmp_cleanup);
	return t;
}

/* ---- partitions ---- */

static uint32_t part_of(const char *v, size_t n)
{
	if (run.have_last && run.last_by.len == n &&
	    memcmp(run.last_by.p, v, n) == 0)
		return run.last_part;
	struct buf scratch = {0};
	struct fp128 fp = n ? value_fingerprint(v, n, &scratch)
			    : (struct fp128){1, 0};
	buf_free(&scratch);
	uint64_t *pay;
	if (!fpset_add(run.part_ix, fp, &pay)) {
		if (run.nparts == run.cap_parts) {
			run.cap_parts = run.cap_parts ? run.cap_parts * 2 : 16;
			run.parts = xrealloc(run.parts, run.cap_parts *
							    sizeof *run.parts);
		}
		struct part *p = xcalloc(1, sizeof *p);
		p->label = xstrndup(v, n);
		p->label_len = n;
		run.parts[run.nparts] = p;
		*pay = ++run.nparts;
	}
	run.last_part = (uint32_t)(*pay - 1);
	buf_reset(&run.last_by);
	buf_add(&run.last_by, v, n);
	run.have_last = true;
	return run.last_part;
}

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = *(struct part *const *)a;
	const struct part *y = *(struct part *const *)b;
	return value_compare(x->label, x->label_len, y->label, y->label_len);
}

void part_table_sorted(struct part ***out, size_t *n)
{
	struct part **v = xmalloc((run.nparts + 1) * sizeof *v);
	memcpy(v, run.parts, run.nparts * sizeof *v);
	if (opt.by_src)
		qsort(v, run.nparts, sizeof *v, part_cmp);
	*out = v;
	*n = run.nparts;
}

struct part **part_table_by_index(void)
{
	return run.parts;
}

uint32_t bucket_of(struct fp128 key)
{
	return opt.bucket_bits ? (uint32_t)(key.hi >> (64 - opt.bucket_bits))
			       : 0;
}

/* ---- records ---- */

struct vals {
	struct fp128 key;
	const char *by;
	size_t by_len;
	struct dec sum[MAX_SUMS];
};

static bool bad_record(bool report, const struct line *ln, const char *name,
		       bool is_json, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static bool bad_record(bool report, const struct line *ln, const char *name,
		       bool is_json, const char *type, const char *fmt, ...)
{
	char msg[512], err[512];
	va_list ap;
	if (!report)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!run.dlq)
		cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": %s", name, ln->lineno,
			msg);
	struct dlq_letter l = {
		.record = ln->p, .len = ln->len, .is_json = is_json,
		.error_type = type, .error_message = msg,
		.replayable = !ln->too_long, .file = name, .line = ln->lineno,
	};
	if (dlq_put(run.dlq, &l, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	cli_stats.dead_lettered++;
	report_rejected[run.side]++;
	return false;
}

static bool eval(struct expr *e, bool report, const struct line *ln,
		 const char *name, const char *what, const char **v,
		 size_t *vlen)
{
	char err[512];
	switch (expr_eval(e, &run.rec, v, vlen, err, sizeof err)) {
	case EXPR_VALUE:
		return true;
	case EXPR_MISSING:
		return bad_record(report, ln, name, true, "missing_field",
				  "missing %s %s", what, expr_source(e));
	case EXPR_EMPTY:
		return bad_record(report, ln, name, true, "missing_field",
				  "%s %s produced no value", what,
				  expr_source(e));
	case EXPR_ERROR:
		return bad_record(report, ln, name, true,
				  expr_is_plain(e) ? "wrong_type"
						   : "expression_error",
				  "%s %s: %s", what, expr_source(e), err);
	}
	return false;
}

/*
 * Validate a record and read its key, partition and sums.  False when
 * the record is bad: reported (or dead-lettered) when report is set,
 * silently skipped on the second read, which thus skips exactly what
 * the first read did.  The key's JSON text is left in run.keytext.
 */
static bool read_record(const struct line *ln, const char *name, bool report,
			struct vals *out)
{
	struct scan_error se;
	if (ln->too_long)
		return bad_record(report, ln, name, false, "line_too_long",
				  "line of %zu bytes is longer than "
				  "--max-line %zu", ln->full_len, opt.max_line);
	if (scan_record(&run.rec, ln->p, ln->len, &se) != 0)
		return bad_record(report, ln, name, false, "invalid_json",
				  "invalid JSON: %s at byte %zu", se.what,
				  se.offset + 1);
	char c = ln->p[run.rec.start];
	if (c != '{')
		return bad_record(report, ln, name, true, "wrong_type",
				  "record is %s %s, not an object",
				  c == '[' ? "an" : "a",
				  scan_type(ln->p + run.rec.start));
	const char *kv[MAX_KEYS];
	size_t kl[MAX_KEYS];
	for (size_t k = 0; k < opt.nkeys; k++)
		if (!eval(run.key[k], report, ln, name, "key", &kv[k], &kl[k]))
			return false;
	buf_reset(&run.canon);
	buf_reset(&run.keytext);
	if (opt.nkeys == 1) {
		value_canon(&run.canon, kv[0], kl[0]);
		buf_add(&run.keytext, kv[0], kl[0]);
	} else {
		value_canon_tuple(&run.canon, kv, kl, opt.nkeys);
		buf_addc(&run.keytext, '[');
		for (size_t k = 0; k < opt.nkeys; k++) {
			if (k)
				buf_addc(&run.keytext, ',');
			buf_add(&run.keytext, kv[k], kl[k]);
		}
		buf_addc(&run.keytext, ']');
	}
	out->key = value_fp(run.canon.p, run.canon.len);
	out->by = "";
	out->by_len = 0;
	if (run.by && !eval(run.by, report, ln, name, "--by", &out->by,
			    &out->by_len))
		return false;
	for (size_t s = 0; s < opt.nsums; s++) {
		const char *v;
		size_t n;
		if (!eval(run.sum[s], report, ln, name, "--sum", &v, &n))
			return false;
		if (dec_parse(v, n, &out->sum[s]) != 0)
			return bad_record(report, ln, name, true, "wrong_type",
					  "--sum %s: %s is not a number%s",
					  opt.sum_src[s], scan_type(v),
					  v[0] == '-' || (v[0] >= '0' &&
							  v[0] <= '9')
						  ? " that fits 38 digits"
						  : "");
	}
	return true;
}

static void spill_all(void)
{
	char err[512];
	for (int side = 0; side < 2; side++)
		if (ktab_spill(&run.tab[side], tmpdir(), side, err,
			       sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
	run.spilled = true;
}

static void count_record(int side, const struct line *ln, const char *name,
			 const struct vals *v)
{
	uint32_t pi = part_of(v->by, v->by_len);
	struct part *p = run.parts[pi];
	struct side_stats *st = &p->side[side];
	struct buf *scratch = &run.canon;
	struct fp128 rfp = value_fingerprint(ln->p, ln->len, scratch);
	for (size_t s = 0; s < opt.nsums; s++)
		if (dec_add(&st->sum[s], &v->sum[s]) != 0)
			cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": --sum %s "
				"overflows 38 digits", name, ln->lineno,
				opt.sum_src[s]);
	st->rows++;
	st->fp = fp_add(st->fp, rfp);
	if (run.summarize) {
		uint32_t b = bucket_of(v->key);
		run.bkt[b].rows++;
		run.bkt[b].fp = fp_add(run.bkt[b].fp, rfp);
		return;
	}
	struct kent *e = ktab_get(&run.tab[side], v->key);
	if (e->rows == 0)
		e->part = pi;
	e->rows++;
	e->content = fp_add(e->content, rfp);
	if (run.tab[SRC].bytes + run.tab[TGT].bytes > opt.memory)
		spill_all();
}

/* First read of one input: count everything. */
static void read_input(int side, const char *path)
{
	char err[512];
	struct lines *in = lines_open(path, opt.max_line, err, sizeof err);
	if (!in)
		cli_die(EXIT_TROUBLE, "%s", err);
	const char *name = lines_name(in);
	struct zout *copy = NULL;
	int copy_fd = -1;
	if (!run.summarize && strcmp(path, "-") == 0) {
		/* stdin cannot be read twice: keep a copy for the keys */
		size_t n = strlen(tmpdir()) + 16;
		run.reread[side] = xmalloc(n);
		snprintf(run.reread[side], n, "%s/stdin.zst", run.tmpdir);
		copy_fd = open(run.reread[side],
			       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (copy_fd < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", run.reread[side],
				strerror(errno));
		copy = zout_open(copy_fd, 1);
	} else {
		run.reread[side] = xstrdup(path);
	}
	struct line ln;
	struct vals v;
	int r;
	run.side = side;
	while ((r = lines_next(in, &ln, err, sizeof err)) == 1) {
		cli_stats.records_in++;
		if (copy && (zout_write(copy, ln.p, ln.len, err, sizeof err) ||
			     zout_write(copy, "\n", 1, err, sizeof err)))
			cli_die(EXIT_TROUBLE, "%s: %s", run.reread[side], err);
		if (!read_record(&ln, name, true, &v))
			continue;
		if (opt.bucket >= 0 && bucket_of(v.key) != (uint64_t)opt.bucket)
			continue;
		count_record(side, &ln, name, &v);
		if ((cli_stats.records_in & 0xffff) == 0)
			cli_progress(cli_stats.records_in,
				     cli_stats.bytes_in + lines_bytes(in));
	}
	if (r < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	cli_stats.bytes_in += lines_bytes(in);
	lines_close(in);
	if (copy) {
		if (zout_close(copy, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", run.reread[side], err);
		if (close(copy_fd) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", run.reread[side],
				strerror(errno));
	}
}

/* ---- the join ---- */

static void add_diff(struct fp128 key, enum diff_kind kind, uint32_t part,
		     uint32_t rs, uint32_t rt)
{
	if (run.ndiffs == run.cap_diffs) {
		run.cap_diffs = run.cap_diffs ? run.cap_diffs * 2 : 64;
		run.diffs = xrealloc(run.diffs,
				     run.cap_diffs * sizeof *run.diffs);
	}
	struct diff *d = &run.diffs[run.ndiffs];
	memset(d, 0, sizeof *d);
	d->key = key;
	d->kind = kind;
	d->part = part;
	d->rows[SRC] = rs;
	d->rows[TGT] = rt;
	uint64_t *pay;
	fpset_add(run.diff_ix, key, &pay);
	*pay = ++run.ndiffs;
}

static void join_seg(size_t s)
{
	struct kseg *gs = &run.tab[SRC].seg[s], *gt = &run.tab[TGT].seg[s];
	for (size_t i = 0; gs->slot && i <= gs->mask; i++) {
		struct kent *e = &gs->slot[i];
		if (!(e->key.lo | e->key.hi))
			continue;
		struct part *p = run.parts[e->part];
		p->side[SRC].keys++;
		p->side[SRC].dups += e->rows > 1;
		struct kent *f = ktab_find(&run.tab[TGT], e->key);
		if (!f) {
			p->missing++;
			add_diff(e->key, DIFF_MISSING, e->part, e->rows, 0);
			continue;
		}
		f->rows |= KENT_SEEN;
		uint32_t rt = f->rows & ~KENT_SEEN;
		if (rt != e->rows || !fp_eq(e->content, f->content)) {
			p->changed++;
			add_diff(e->key, DIFF_CHANGED, e->part, e->rows, rt);
		}
	}
	for (size_t i = 0; gt->slot && i <= gt->mask; i++) {
		struct kent *f = &gt->slot[i];
		if (!(f->key.lo | f->key.hi))
			continue;
		uint32_t rt = f->rows & ~KENT_SEEN;
		struct part *p = run.parts[f->part];
		p->side[TGT].keys++;
		p->side[TGT].dups += rt > 1;
		if (!(f->rows & KENT_SEEN)) {
			p->extra++;
			add_diff(f->key, DIFF_EXTRA, f->part, 0, rt);
		}
	}
}

static void join(void)
{
	char err[512];
	if (run.spilled)
		spill_all(); /* what is still in memory, then bucket by bucket */
	for (size_t s = 0; s < NSEG; s++) {
		if (run.spilled)
			for (int side = 0; side < 2; side++)
				if (ktab_load(&run.tab[side], run.tmpdir, side,
					      s, err, sizeof err) != 0)
					cli_die(EXIT_TROUBLE, "%s", err);
		join_seg(s);
		ktab_clear_seg(&run.tab[SRC], s);
		ktab_clear_seg(&run.tab[TGT], s);
	}
}

/* Second read: the text of the differing keys, and their records. */
static void find_keys(int side)
{
	char err[512];
	struct lines *in = lines_open(run.reread[side], opt.max_line, err,
				      sizeof err);
	if (!in)
		cli_die(EXIT_TROUBLE, "%s", err);
	const char *name = lines_name(in);
	struct line ln;
	struct vals v;
	int r;
	bool want_rec = opt.show > 0;
	while ((r = lines_next(in, &ln, err, sizeof err)) == 1) {
		if (!read_record(&ln, name, false, &v))
			continue;
		if (!fpset_has(run.diff_ix, v.key))
			continue;
		uint64_t *pay;
		fpset_add(run.diff_ix, v.key, &pay);
		struct diff *d = &run.diffs[*pay - 1];
		if (!d->key_text)
			d->key_text = xstrndup(run.keytext.p, run.keytext.len);
		if (want_rec && !d->rec[side])
			d->rec[side] = xstrndup(ln.p, ln.len);
	}
	if (r < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	lines_close(in);
}

static int diff_cmp(const void *a, const void *b)
{
	const struct diff *x = a, *y = b;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (!x->key_text || !y->key_text)
		return !x->key_text - !y->key_text;
	return value_compare(x->key_text, strlen(x->key_text), y->key_text,
			     strlen(y->key_text));
}

/* ---- main ---- */

static struct expr *compile(const char *opt_name, const char *src)
{
	char err[512];
	struct expr *e = expr_compile(src, err, sizeof err);
	if (!e)
		cli_usage_error("%s: %s", opt_name, err);
	return e;
}

static uint64_t default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return 1ull << 30;
	return (uint64_t)pages * (uint64_t)size / 4;
}

static void finish_inputs(void)
{
	char err[512];
	cli_progress_done();
	if (run.dlq && dlq_close(run.dlq, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	run.dlq = NULL;
}

static void print_stats(void)
{
	char extra[256];
	if (!opt.stats)
		return;
	snprintf(extra, sizeof extra,
		 ",\"partitions\":%zu,\"differences\":%zu,\"spilled\":%s",
		 run.nparts, run.ndiffs, run.spilled ? "true" : "false");
	cli_stats_print(extra);
}

int main(int argc, char **argv)
{
	enum { O_SUM = 256, O_BY, O_TOL, O_SHOW, O_KEYSONLY, O_FORMAT,
	       O_MEMORY, O_BUCKETS, O_BUCKET, O_DLQ, O_STATS, O_MAXLINE,
	       O_VERSION };
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"sum", required_argument, NULL, O_SUM},
		{"by", required_argument, NULL, O_BY},
		{"tolerance", required_argument, NULL, O_TOL},
		{"show", required_argument, NULL, O_SHOW},
		{"keys-only", no_argument, NULL, O_KEYSONLY},
		{"format", required_argument, NULL, O_FORMAT},
		{"memory", required_argument, NULL, O_MEMORY},
		{"buckets", required_argument, NULL, O_BUCKETS},
		{"bucket", required_argument, NULL, O_BUCKET},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	int c;

	cli_init("reconcile");
	const char *verb = NULL;
	if (argc > 1 && (!strcmp(argv[1], "summarize") ||
			 !strcmp(argv[1], "merge") ||
			 !strcmp(argv[1], "compare"))) {
		verb = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	opt.memory = default_memory();
	while ((c = getopt_long(argc, argv, "k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (opt.nkeys == MAX_KEYS)
				cli_usage_error("at most %d -k options",
						MAX_KEYS);
			run.key[opt.nkeys] = compile("-k", optarg);
			opt.key_src[opt.nkeys++] = optarg;
			break;
		case O_SUM:
			if (opt.nsums == MAX_SUMS)
				cli_usage_error("at most %d --sum options",
						MAX_SUMS);
			run.sum[opt.nsums] = compile("--sum", optarg);
			opt.sum_src[opt.nsums++] = optarg;
			break;
		case O_BY:
			run.by = compile("--by", optarg);
			opt.by_src = optarg;
			break;
		case O_TOL:
			if (dec_parse(optarg, strlen(optarg), &opt.tolerance) ||
			    opt.tolerance.coef < 0)
				cli_usage_error("--tolerance: want a number "
						">= 0, got '%s'", optarg);
			opt.have_tolerance = true;
			break;
		case O_SHOW:
			opt.show = (long long)cli_count("--show", optarg);
			break;
		case O_KEYSONLY: opt.keys_only = true; break;
		case O_FORMAT:
			if (!strcmp(optarg, "ndjson"))
				opt.format = FMT_NDJSON;
			else if (!strcmp(optarg, "table"))
				opt.format = FMT_TABLE;
			else
				cli_usage_error("--format: want ndjson or "
						"table, got '%s'", optarg);
			break;
		case O_MEMORY:
			opt.memory = cli_size("--memory", optarg);
			break;
		case O_BUCKETS: {
			uint64_t n = cli_count("--buckets", optarg);
			unsigned bits = 0;
			while ((1ull << bits) < n && bits < 16)
				bits++;
			if (n == 0 || (1ull << bits) != n)
				cli_usage_error("--buckets: want a power of "
						"two from 1 to 65536, got '%s'",
						optarg);
			opt.bucket_bits = bits;
			break;
		}
		case O_BUCKET:
			opt.bucket = (long long)cli_count("--bucket", optarg);
			break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_MAXLINE:
			opt.max_line = (size_t)cli_size("--max-line", optarg);
			if (opt.max_line == 0)
				cli_usage_error("--max-line: must be positive");
			break;
		case 'h': usage(EXIT_OK); break;
		case O_VERSION: cli_version(); break;
		default:
			fprintf(stderr, "Try '%s --help' for more "
				"information.\n", cli_prog);
			exit(EXIT_TROUBLE);
		}
	}
	if (opt.bucket >= (long long)(1u << opt.bucket_bits))
		cli_usage_error("--bucket: %lld is not below --buckets %u",
				opt.bucket, 1u << opt.bucket_bits);
	if (verb && !strcmp(verb, "compare")) {
		if (argc - optind != 2)
			cli_usage_error("compare wants two summaries");
		return summary_compare(argv[optind], argv[optind + 1]);
	}
	if (verb && !strcmp(verb, "merge")) {
		if (argc - optind < 1)
			cli_usage_error("merge wants at least one summary");
		return summary_merge(argv + optind, argc - optind);
	}
	if (opt.nkeys == 0)
		cli_usage_error("-k EXPR is required");

	run.part_ix = fpset_new(true);
	run.diff_ix = fpset_new(true);
	ktab_init(&run.tab[SRC]);
	ktab_init(&run.tab[TGT]);
	if (opt.dlq_path) {
		run.dlq = dlq_open(opt.dlq_path, cli_prog, err, sizeof err);
		if (!run.dlq)
			cli_die(EXIT_TROUBLE, "%s", err);
	}
	if (verb) { /* summarize */
		run.summarize = true;
		run.bkt = xcalloc((size_t)1 << opt.bucket_bits,
				  sizeof *run.bkt);
		char *stdin_only[] = {"-", NULL};
		char **files = optind < argc ? argv + optind : stdin_only;
		for (; *files; files++)
			read_input(SRC, *files);
		finish_inputs();
		struct part **parts;
		size_t n;
		part_table_sorted(&parts, &n);
		summary_write(parts, n, run.bkt);
		free(parts);
		cli_out_commit();
		print_stats();
		cli_out_close();
		return EXIT_OK;
	}

	if (argc - optind != 2)
		cli_usage_error("want SOURCE and TARGET");
	for (int side = 0; side < 2; side++) {
		run.input[side] = argv[optind + side];
		if (!strncmp(run.input[side], "txlog:", 6))
			cli_die(EXIT_TROUBLE, "%s: txlog tables are not "
				"supported yet; use 'txlog cat' into a pipe",
				run.input[side]);
	}
	if (!strcmp(run.input[SRC], "-") && !strcmp(run.input[TGT], "-"))
		cli_usage_error("only one of SOURCE and TARGET can be -");
	read_input(SRC, run.input[SRC]);
	read_input(TGT, run.input[TGT]);
	finish_inputs();
	join();
	if (run.ndiffs) {
		find_keys(SRC);
		find_keys(TGT);
		qsort(run.diffs, run.ndiffs, sizeof *run.diffs, diff_cmp);
	}
	struct part **parts;
	size_t n;
	part_table_sorted(&parts, &n);
	report(parts, n, run.diffs, run.ndiffs, run.spilled);
	cli_out_commit();
	print_stats();
	bool differ = run.ndiffs > 0 || report_rejected[SRC] ||
		      report_rejected[TGT];
	for (size_t i = 0; i < n && !differ; i++) {
		struct side_stats *s = &parts[i]->side[SRC],
				  *t = &parts[i]->side[TGT];
		differ = s->rows != t->rows || !fp_eq(s->fp, t->fp) ||
			 !sums_agree(s->sum, t->sum);
	}
	cli_out_close();
	return differ ? EXIT_FINDING : EXIT_OK;
}
