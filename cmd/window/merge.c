/*
 * window merge: the outputs of `window --shard I/N` (or of any runs over
 * disjoint groups) as one stream, in one order that does not depend on
 * how many shards there were.
 *
 * Every shard reads all the records and keeps the global watermark, so
 * each pane (window, key, aggregates, timing, index, final) is what one
 * process writes; only the interleaving of the shards is lost.  merge
 * sorts the panes by window end, then start, then key (by value), then
 * pane index.  One process fires tumbling and sliding windows in that
 * very order, so without late or early panes the merge of N shards is
 * its output byte for byte; otherwise it is the merge of its output.
 *
 * The panes are held in memory (one buffer, no allocation per pane):
 * results are aggregates, far fewer than the records they summarise.
 * A pane seen twice means a shard was given twice: refused.  So is a
 * pane whose members (window, key, the --agg names, pane) are not the
 * first pane's: the output of a run with other -g or --agg options,
 * which would leave the merged stream a mix of two answers.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "lines.h"
#include "merge.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"
#include "xalloc.h"

struct pane {
	int64_t start, end;
	uint64_t index;
	size_t off, len;   /* the line, in all */
	size_t koff, klen; /* the key's bytes, in all; klen 0: no key */
	size_t file;       /* its input, in names */
	uint64_t lineno;
	size_t seq;        /* read order: a pane given twice names both */
};

static struct {
	struct buf all;
	struct pane *p;
	size_t n, cap;
	char **names; /* the inputs read, in order */
	size_t nnames, capnames;
	struct scan_record rec;
	struct path start, end, key, index;
	struct buf shape, cur; /* member names: the first pane's, this one's */
	size_t shape_file;
	uint64_t shape_line;
	bool stats;
} m;

static _Noreturn void merge_usage(const struct cli_verb *v)
{
	printf(
"Usage: window merge [OPTION]... [FILE]...\n"
"Merge the outputs of window --shard I/N into one stream: panes sorted by\n"
"window end, start, key and pane index (the order one process fires\n"
"tumbling and sliding windows in).\n"
"\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Exit status: 0 done, 2 trouble (a line that is not a pane, or a pane\n"
"given twice).  See window(1).\n");
	cli_examples(stdout, v->examples);
	exit(EXIT_OK);
}

/* A stop on the input (a line that is no pane, a pane given twice, an
 * input that cannot be read): the message, and --stats as every tool
 * says it at such a stop. */
static _Noreturn __attribute__((format(printf, 1, 2))) void
merge_stop(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_warn("%s", msg);
	if (m.stats)
		cli_stats_print(NULL);
	cli_exit(EXIT_TROUBLE);
}

static _Noreturn void not_pane(const struct line *ln, const char *name,
			       const char *what)
{
	merge_stop("%s:%" PRIu64 ": not a window result: %s", name,
		   ln->lineno, what);
}

static const char *member(const struct path *pa, const struct line *ln,
			  const char *name, const char *what, size_t *len)
{
	const char *v, *why;
	if (path_lookup_record(pa, &m.rec, &v, len, &why) != PATH_FOUND)
		not_pane(ln, name, what);
	return v;
}

static int64_t time_member(const struct path *pa, const struct line *ln,
			   const char *name, const char *what)
{
	size_t len;
	const char *v = member(pa, ln, name, what, &len), *why;
	int64_t t;
	if (time_from_json(v, len, TIME_S, &t, &why) != 0)
		not_pane(ln, name, what);
	return t;
}

/* The record's member names, decoded, as "window, key, n, pane". */
static void shape_of(const struct line *ln, struct buf *b)
{
	buf_reset(b);
	for (size_t i = 0; i < m.rec.nmembers; i++) {
		const struct scan_member *sm = &m.rec.members[i];
		if (i)
			buf_adds(b, ", ");
		buf_reserve(b, sm->key_len);
		b->len += scan_string_decode(ln->p + sm->key, sm->key_len,
					     b->p + b->len);
	}
}

static void take(const struct line *ln, const char *name)
{
	char msg[512];
	bool is_json;
	cli_stats.records_in++;
	/* a torn last line is no pane, even when it parses */
	if (cli_line_fault(ln, LINES_DEFAULT_MAX, NULL, &m.rec, true,
			   &is_json, msg, sizeof msg))
		merge_stop("%s:%" PRIu64 ": %s", name, ln->lineno, msg);
	struct pane pn = {0};
	pn.start = time_member(&m.start, ln, name, "no .window.start time");
	pn.end = time_member(&m.end, ln, name, "no .window.end time");
	size_t len;
	const char *v = member(&m.index, ln, name, "no .pane.index", &len);
	char *e;
	char num[24];
	if (len == 0 || len >= sizeof num || *v < '0' || *v > '9')
		not_pane(ln, name, "no .pane.index");
	memcpy(num, v, len);
	num[len] = '\0';
	pn.index = strtoull(num, &e, 10);
	if (*e)
		not_pane(ln, name, "no .pane.index");
	pn.off = m.all.len;
	pn.len = ln->len;
	const char *why;
	if (path_lookup_record(&m.key, &m.rec, &v, &len, &why) == PATH_FOUND) {
		pn.koff = pn.off + (size_t)(v - ln->p);
		pn.klen = len;
	}
	if (!m.nnames || strcmp(m.names[m.nnames - 1], name) != 0) {
		m.names = xgrow(m.names, &m.capnames, m.nnames,
				sizeof *m.names, 8);
		m.names[m.nnames++] = xstrdup(name);
	}
	pn.file = m.nnames - 1;
	pn.lineno = ln->lineno;
	if (m.n == 0) {
		shape_of(ln, &m.shape);
		m.shape_file = pn.file;
		m.shape_line = pn.lineno;
	} else {
		shape_of(ln, &m.cur);
		if (m.cur.len != m.shape.len ||
		    memcmp(m.cur.p, m.shape.p, m.cur.len) != 0)
			merge_stop("%s:%" PRIu64 ": a pane of other members "
				   "(%.*s) than %s:%" PRIu64 "'s (%.*s): the "
				   "outputs of window runs with other -g or "
				   "--agg do not merge", name, pn.lineno,
				   (int)m.cur.len, m.cur.p,
				   m.names[m.shape_file], m.shape_line,
				   (int)m.shape.len, m.shape.p);
	}
	pn.seq = m.n;
	buf_add(&m.all, ln->p, ln->len);
	m.p = xgrow(m.p, &m.cap, m.n, sizeof *m.p, 1024);
	m.p[m.n++] = pn;
}

static int pane_cmp(const void *a, const void *b)
{
	const struct pane *x = a, *y = b;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->klen && y->klen) {
		int c = value_compare_spelled(m.all.p + x->koff, x->klen,
					      m.all.p + y->koff, y->klen);
		if (c)
			return c;
	} else if (x->klen != y->klen) {
		return x->klen ? 1 : -1;
	}
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

/* pane_cmp, then read order, so that of a pane given twice the first
 * read comes first, whatever qsort does with equals. */
static int pane_sort(const void *a, const void *b)
{
	const struct pane *x = a, *y = b;
	int c = pane_cmp(a, b);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void parse_path(struct path *pa, const char *src)
{
	if (path_parse(src, pa) != 0)
		cli_die(EXIT_TROUBLE, "internal: bad path %s", src);
}

int window_merge(const struct cli_verb *v, int argc, char **argv)
{
	enum { O_STATS = 256, O_VERSION };
	static const struct option longopts[] = {
		{"stats", no_argument, NULL, O_STATS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	int c;

	while ((c = cli_verb_getopt(v, argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case O_STATS: m.stats = true; break;
		case 'h': merge_usage(v);
		case O_VERSION: cli_version(); break;
		}
	}
	parse_path(&m.start, ".window.start");
	parse_path(&m.end, ".window.\"end\"");
	parse_path(&m.key, ".key");
	parse_path(&m.index, ".pane.index");
	if (cli_each_line(argv + optind, LINES_DEFAULT_MAX, take, NULL, err,
			  sizeof err) != 0)
		merge_stop("%s", err);
	cli_progress_done();
	if (m.n > 1)
		qsort(m.p, m.n, sizeof *m.p, pane_sort);
	for (size_t i = 1; i < m.n; i++)
		if (pane_cmp(&m.p[i - 1], &m.p[i]) == 0)
			merge_stop("%s:%" PRIu64 ": a pane given "
				"twice, first at %s:%" PRIu64 " (a shard named "
				"twice?): %.*s", m.names[m.p[i].file],
				m.p[i].lineno, m.names[m.p[i - 1].file],
				m.p[i - 1].lineno, (int)m.p[i].len,
				m.all.p + m.p[i].off);
	for (size_t i = 0; i < m.n; i++) {
		cli_out_line(m.all.p + m.p[i].off, m.p[i].len);
		cli_stats.records_out++;
	}
	if (m.stats)
		cli_stats_print(NULL);
	cli_out_close();
	buf_free(&m.all);
	buf_free(&m.shape);
	buf_free(&m.cur);
	free(m.p);
	for (size_t i = 0; i < m.nnames; i++)
		free(m.names[i]);
	free(m.names);
	scan_record_free(&m.rec);
	path_free(&m.start);
	path_free(&m.end);
	path_free(&m.key);
	path_free(&m.index);
	return EXIT_OK;
}
