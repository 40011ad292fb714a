/*
 * dlq check: pass the records that satisfy every -e and the --schema,
 * byte for byte; dead-letter the others with a message naming the
 * member and why.
 *
 * `PATH OP LITERAL` (OP one of == != < <= > >=, LITERAL a JSON scalar)
 * and a bare PATH are answered on the raw bytes with jq's order and
 * truthiness, an absent member reading as null as in jq; any other
 * program runs in libjq, where a result other than false and null passes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrec.h"
#include "cli.h"
#include "dlq.h"
#include "dlqtool.h"
#include "expr.h"
#include "lines.h"
#include "par.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"

#define MAX_CHECKS 32

enum op { OP_TRUTHY, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct check {
	const char *src;
	enum op op;
	struct path path; /* fast path */
	char *lit;        /* the literal's JSON text */
	size_t lit_len;
	struct expr *jq;  /* otherwise */
};

static struct {
	struct check checks[MAX_CHECKS];
	size_t nchecks;
	struct schema *schema;
	const char *dlq_path;
	bool stats;
	size_t max_line;
	int threads;
} opt = {.max_line = LINES_DEFAULT_MAX};

static struct {
	struct dlq *dlq;
} run;

/*
 * A record in two steps (lib/par).  prep, on any thread, checks it
 * (line, scan, every -e, the schema) and writes a struct slot; apply,
 * in input order on the calling thread, passes or dead-letters it.  So
 * the output is the same for any -j.
 */
struct slot {
	struct badrec bad; /* bad.type NULL: it passes */
};

/* One prep thread's checks and scratch (cw.scratch: the message of a
 * failed check). */
struct worker {
	struct cli_worker cw;
	struct expr *jq[MAX_CHECKS];
	struct schema *schema; /* worker 0: opt's own */
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

static _Noreturn void usage(const struct cli_verb *v)
{
	printf(
"Usage: dlq check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...\n"
"Pass the records that satisfy every check; dead-letter the others.\n"
"\n"
"  -e, --expr EXPR       a jq condition (false or null fails the record)\n"
"      --schema FILE     a JSON Schema: type, required, properties, enum,\n"
"                        minimum, maximum, pattern\n"
"      --dlq FILE        dead-letter failing records instead of stopping\n"
"      --max-line SIZE   longest accepted line (default 64M)\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -j, --threads N       check on N threads (0: every core; default: the\n"
"                        cores, at most 8); output is the same for any N\n"
"  -h, --help            show this help\n"
"\n"
"Exit status: 0 done, 2 trouble (or a failing record without --dlq).\n");
	cli_examples(stdout, v->examples);
	cli_exit(EXIT_OK);
}

/* `PATH OP LITERAL` or `PATH`: split at the operator outside strings. */
static bool parse_fast(struct check *c, const char *src)
{
	static const struct { const char *s; enum op op; } ops[] = {
		{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
		{"<", OP_LT}, {">", OP_GT},
	};
	bool in_str = false;
	size_t n = strlen(src);
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '"' && (i == 0 || src[i - 1] != '\\'))
			in_str = !in_str;
		if (in_str)
			continue;
		for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
			size_t ol = strlen(ops[k].s);
			if (strncmp(src + i, ops[k].s, ol))
				continue;
			char *left = xstrndup(src, i);
			size_t e = strlen(left);
			while (e && left[e - 1] == ' ')
				left[--e] = '\0';
			const char *r = src + i + ol;
			while (*r == ' ')
				r++;
			size_t rl = strlen(r);
			while (rl && r[rl - 1] == ' ')
				rl--;
			struct scan_error se;
			bool ok = rl && scan_validate(r, rl, &se) == 0 &&
				  r[0] != '[' && r[0] != '{' &&
				  path_parse(left, &c->path) == 0;
			free(left);
			if (!ok)
				return false;
			c->op = ops[k].op;
			c->lit = xstrndup(r, rl);
			c->lit_len = rl;
			return true;
		}
	}
	if (path_parse(src, &c->path) != 0)
		return false;
	c->op = OP_TRUTHY;
	return true;
}

static void add_check(const char *src)
{
	char err[512];
	if (opt.nchecks == MAX_CHECKS)
		cli_usage_error("at most %d -e options", MAX_CHECKS);
	struct check *c = &opt.checks[opt.nchecks++];
	c->src = src;
	if (parse_fast(c, src))
		return;
	c->jq = expr_condition_compile(src, err, sizeof err);
	if (!c->jq)
		cli_usage_error("-e: %s", err);
}

/* A short rendering of a value for a message. */
static void show(struct buf *b, const char *v, size_t n)
{
	if (n > 60) {
		buf_add(b, v, 57);
		buf_adds(b, "...");
	} else {
		buf_add(b, v, n);
	}
}

/* 0 when the record passes check k; else -1 with type and the message
 * in w->cw.scratch. */
static int eval_check(struct worker *w, size_t k, const char **type)
{
	const struct check *c = &opt.checks[k];
	const char *v, *why;
	size_t vl;
	char err[512];
	struct buf *msg = &w->cw.scratch;
	buf_reset(msg);
	if (c->jq) {
		bool holds;
		switch (expr_condition(w->jq[k], &w->cw.rec, &v, &vl, &holds,
				       err, sizeof err)) {
		case EXPR_VALUE:
			if (holds)
				return 0;
			buf_addf(msg, "check failed: %s is ", c->src);
			show(msg, v, vl);
			break;
		case EXPR_MISSING:
		case EXPR_EMPTY:
			buf_addf(msg, "check failed: %s produced no value",
				 c->src);
			break;
		case EXPR_ERROR:
			*type = "expression_error";
			buf_addf(msg, "check %s: %s", c->src, err);
			return -1;
		}
		*type = "check_failed";
		return -1;
	}
	enum path_result r = path_lookup_record(&c->path, &w->cw.rec, &v, &vl,
						&why);
	if (r == PATH_TYPE_ERROR) {
		*type = "wrong_type";
		buf_addf(msg, "check %s: %s", c->src, why);
		return -1;
	}
	bool missing = r == PATH_MISSING;
	if (missing) {
		v = "null";
		vl = 4;
	}
	bool ok;
	if (c->op == OP_TRUTHY) {
		ok = expr_truthy(v, vl);
	} else {
		int cmp = value_compare_jq(v, vl, c->lit, c->lit_len);
		switch (c->op) {
		case OP_EQ: ok = cmp == 0; break;
		case OP_NE: ok = cmp != 0; break;
		case OP_LT: ok = cmp < 0; break;
		case OP_LE: ok = cmp <= 0; break;
		case OP_GT: ok = cmp > 0; break;
		default: ok = cmp >= 0; break;
		}
	}
	if (ok)
		return 0;
	/* Name the path as written on the left of the condition. */
	size_t plen = strcspn(c->src, "=!<>");
	while (plen && c->src[plen - 1] == ' ')
		plen--;
	if (missing) {
		*type = "missing_field";
		buf_addf(msg, "check failed: %s: %.*s is missing", c->src,
			 (int)plen, c->src);
		/* a member a typo away is named, at any depth of a path
		 * of names (.o.amout: did you mean .o.amount?) */
		char near[512], path[512];
		bool names = plen < sizeof path && c->path.n > 0;
		for (size_t j = 0; names && j < c->path.n; j++)
			names = c->path.steps[j].kind == PATH_MEMBER;
		if (names && !memchr(c->src, '"', plen) &&
		    !memchr(c->src, '[', plen)) {
			memcpy(path, c->src, plen);
			path[plen] = '\0';
			badrec_near_path(path, &w->cw.rec, near, sizeof near);
			buf_adds(msg, near);
		}
	} else {
		*type = "check_failed";
		buf_addf(msg, "check failed: %s: %.*s is ", c->src,
			 (int)plen, c->src);
		show(msg, v, vl);
	}
	return -1;
}

static void finish(int status)
{
	char err[512];
	cli_progress_done();
	cli_out_commit();
	(void)err;
	cli_dlq_close(&run.dlq);
	if (opt.stats)
		cli_stats_print(NULL);
	cli_out_close();
	cli_exit(status);
}

/* A bad record: dead-lettered, or the end of the run (exit 2). */
#define bad(...) cli_reject(run.dlq, finish, __VA_ARGS__)

static void *worker_new(void *arg, int index)
{
	char err[512];
	(void)arg;
	struct worker *w = cli_worker_new(sizeof *w, index);
	for (size_t k = 0; k < opt.nchecks; k++)
		w->jq[k] = cli_worker_expr(&w->cw, opt.checks[k].jq);
	w->schema = opt.schema;
	if (index && opt.schema) {
		w->schema = schema_copy(opt.schema, err, sizeof err);
		if (!w->schema) /* it compiled once: only memory fails */
			cli_die(EXIT_TROUBLE, "%s", err);
	}
	return w;
}

static void worker_free(void *wctx)
{
	struct worker *w = wctx;
	if (w->cw.index)
		schema_free(w->schema);
	cli_worker_free(w);
}

const char *dlq_control_fault(const struct scan_record *rec, char *msg,
			      size_t len)
{
	const struct scan_member *m = WM_CONTROL_MEMBER(rec);
	const char *v = rec->p + m->val, *why;
	int64_t t;
	if (time_from_json(v, m->val_end - m->val, TIME_S, &t, &why) == 0)
		return NULL;
	if (*v == '-' || (*v >= '0' && *v <= '9')) {
		/* epoch units are the reader's --time-unit: a number is a
		 * time when one of them reads it (1e400 and 1e-400 none) */
		static const enum time_unit units[] = {TIME_MS, TIME_US,
						       TIME_NS};
		const char *w;
		for (size_t i = 0; i < sizeof units / sizeof *units; i++)
			if (time_from_json(v, m->val_end - m->val, units[i], &t,
					   &w) == 0)
				return NULL;
		snprintf(msg, len, "_watermark: no --time-unit reads it as a "
			 "time (in seconds: %s)", why);
		return "wrong_type";
	}
	snprintf(msg, len, "_watermark: %s", why);
	return "wrong_type";
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *w = wctx;
	struct slot *s = slot;
	struct buf *msg = &w->cw.scratch;
	const char *type;
	if (!badrec_line(&s->bad, ch, ln, opt.max_line, &w->cw.rec, false))
		return;
	/* watermark --emit's progress is no record to check: it passes on
	 * in its place, for window(1), as watermark without --emit passes
	 * it; checked, its fate would hang on how -e reads null */
	if (wm_control_line(&w->cw.rec)) {
		char m[256];
		if ((type = dlq_control_fault(&w->cw.rec, m, sizeof m)))
			badrec_set(&s->bad, ch, true, type, "%s", m);
		return;
	}
	for (size_t k = 0; k < opt.nchecks; k++)
		if (eval_check(w, k, &type) != 0)
			goto failed;
	if (w->schema) {
		buf_reset(msg);
		if (schema_check(w->schema, &w->cw.rec, &type, msg) != 0)
			goto failed;
	}
	return;
failed:
	badrec_set(&s->bad, ch, true, type, "%s", msg->len ? msg->p : "");
}

static void apply(const struct line *ln, const char *name, void *slot)
{
	const struct slot *s = slot;
	cli_stats.records_in++;
	if (s->bad.type) {
		bad(ln, name, s->bad.is_json, s->bad.type, "%s", s->bad.msg);
		return;
	}
	cli_out_line(ln->p, ln->len);
	cli_stats.records_out++;
}

int dlq_check_main(const struct cli_verb *v, int argc, char **argv)
{
	enum { O_SCHEMA = 256, O_DLQ, O_STATS, O_MAXLINE };
	static const struct option longopts[] = {
		{"expr", required_argument, NULL, 'e'},
		{"schema", required_argument, NULL, O_SCHEMA},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	const char *schema_path = NULL;
	int c;
	opt.threads = par_default_threads();
	cli_refuse_twice("expr"); /* -e adds up; the rest take one value */
	while ((c = cli_verb_getopt(v, argc, argv, "e:j:h", longopts)) != -1) {
		switch (c) {
		case 'e': add_check(optarg); break;
		case O_SCHEMA: schema_path = optarg; break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			break;
		case 'j': opt.threads = cli_threads(optarg); break;
		case 'h': usage(v);
		}
	}
	if (!opt.nchecks && !schema_path)
		cli_verb_usage_error(v, "give -e EXPR or --schema FILE");
	if (schema_path) {
		opt.schema = schema_load(schema_path, err, sizeof err);
		if (!opt.schema)
			cli_die(EXIT_TROUBLE, "%s", err);
	}
	cli_inputs_once(argv + optind, "in the output");
	cli_check_common_outputs(argv + optind, NULL, opt.dlq_path, NULL);
	if (opt.dlq_path)
		run.dlq = cli_dlq_open(opt.dlq_path);
	struct par_ops ops = {
		.slot_size = sizeof(struct slot), .worker_new = worker_new,
		.worker_free = worker_free, .prep = prep, .apply = apply,
	};
	par_run(argv + optind, opt.max_line, opt.threads, &ops, finish);
	return EXIT_OK;
}
