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
 *
 * A shard's output ends with its _shard line (window.c, shard_trailer):
 * its index of N, its K panes, the run's fingerprint.  An input is whole
 * runs' outputs one after the other (a shard resumed with --state, or
 * `cat part-*`): each K panes then their _shard line.  So a shard left
 * out, one cut short at a line's end, and one of other options are
 * seen: every index 0..N-1 as often as every other (as many runs), one
 * N and one fingerprint, every pane before a _shard line that counts
 * it.  Inputs with no _shard line at all (a run without --shard, or of
 * an older window) merge as they always did, unchecked; a mix of both
 * is refused.  Merge writes none: its output is one process's.
 */
#include <errno.h>
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

/* A _shard line: the end of one run's output of one shard. */
struct trailer {
	uint32_t index, of;
	char run[33];
	char input[33]; /* "": none (--partition) */
	size_t file;
	uint64_t lineno;
};

static struct {
	struct buf all;
	struct pane *p;
	size_t n, cap;
	char **names; /* the inputs read, in order */
	size_t nnames, capnames;
	struct scan_record rec;
	struct path start, end, key, index, timing, final;
	struct buf shape, cur; /* member names: the first pane's, this one's */
	size_t shape_file;
	uint64_t shape_line;
	bool stats;
	size_t max_line; /* --max-line */
	struct path sh_index, sh_of, sh_panes, sh_run, sh_input;
	struct trailer *t;
	size_t nt, capt;
	/* the input being read: its name (as lines_name says it), panes
	 * since its last _shard line (the first of them at line
	 * seg_line), _shard lines */
	const char *in_name;
	uint64_t seg_panes, seg_line, in_trailers, last_trailer;
	/* the first input that ended without a _shard line */
	char *bare;
	uint64_t bare_panes;
} m;

static _Noreturn void merge_usage(const struct cli_verb *v)
{
	printf(
"Usage: window merge [OPTION]... [FILE]...\n"
"Merge the outputs of window --shard I/N into one stream: panes sorted by\n"
"window end, start, key and pane index (the order one process fires\n"
"tumbling and sliding windows in).\n"
"\n"
"      --max-line SIZE   longest accepted line (default 64M): a pane may be\n"
"                        longer than the lines its run read\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"The outputs of --shard runs end with a _shard line, by which merge\n"
"refuses a shard left out, cut short or run with other options.\n"
"\n"
"Exit status: 0 done, 2 trouble (a line that is not a pane, a pane\n"
"given twice, shards that are not one run's whole set).  See window(1).\n");
	cli_examples(stdout, v->examples);
	cli_exit(EXIT_OK);
}

/* records_in counts the _shard lines too, which are no pane: said, so
 * that records_in is records_out + shard_lines. */
static void print_stats(void)
{
	char extra[64];
	snprintf(extra, sizeof extra, ",\"shard_lines\":%zu", m.nt);
	cli_stats_print(extra);
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
		print_stats();
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
	/* window writes its bounds as RFC 3339 strings, never numbers */
	if (*v != '"' || time_from_json(v, len, TIME_S, &t, &why) != 0)
		not_pane(ln, name, what);
	return t;
}

/* .pane.timing one of window's three, .pane.final a boolean, and the
 * window not empty: what every pane window writes has, so a line that
 * only looks like one (other NDJSON with a .window and a .pane.index)
 * is refused, not merged in. */
static void check_pane(const struct line *ln, const char *name,
		       int64_t start, int64_t end)
{
	size_t len;
	const char *v = member(&m.timing, ln, name, "no .pane.timing", &len);
	if (!scan_string_equals(v, len, "early", 5) &&
	    !scan_string_equals(v, len, "on_time", 7) &&
	    !scan_string_equals(v, len, "late", 4))
		not_pane(ln, name, ".pane.timing is not early, on_time or "
			 "late");
	v = member(&m.final, ln, name, "no .pane.final", &len);
	if (!(len == 4 && !memcmp(v, "true", 4)) &&
	    !(len == 5 && !memcmp(v, "false", 5)))
		not_pane(ln, name, ".pane.final is not true or false");
	if (start >= end)
		not_pane(ln, name, ".window.start is not before its end");
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

/* Its index in m.names, which holds each input's name once. */
static size_t name_index(const char *name)
{
	if (!m.nnames || strcmp(m.names[m.nnames - 1], name) != 0) {
		m.names = xgrow(m.names, &m.capnames, m.nnames,
				sizeof *m.names, 8);
		m.names[m.nnames++] = xstrdup(name);
	}
	return m.nnames - 1;
}

/* A line of one member, "_shard" (the last one, as jq, when repeated). */
static bool shard_line(const struct line *ln)
{
	if (m.rec.nmembers == 0)
		return false;
	for (size_t i = 0; i < m.rec.nmembers; i++)
		if (!scan_string_equals(ln->p + m.rec.members[i].key,
					m.rec.members[i].key_len, "_shard", 6))
			return false;
	return true;
}

static _Noreturn void bad_trailer(const struct line *ln, const char *name,
				  const char *what)
{
	merge_stop("%s:%" PRIu64 ": not a _shard line of window --shard: %s",
		   name, ln->lineno, what);
}

static uint64_t trailer_u64(const struct path *pa, const struct line *ln,
			    const char *name, const char *what)
{
	const char *v, *why;
	size_t len;
	char num[24], *e;
	if (path_lookup_record(pa, &m.rec, &v, &len, &why) != PATH_FOUND ||
	    len == 0 || len >= sizeof num || *v < '0' || *v > '9' ||
	    (len > 1 && *v == '0'))
		bad_trailer(ln, name, what);
	memcpy(num, v, len);
	num[len] = '\0';
	errno = 0;
	uint64_t u = strtoull(num, &e, 10);
	if (*e || errno)
		bad_trailer(ln, name, what);
	return u;
}

/* A member of 32 lowercase hex digits, into out (33 bytes); false when
 * it is absent or otherwise. */
static bool hex_member(const struct path *pa, char *out)
{
	const char *v, *why;
	size_t len;
	out[0] = '\0';
	if (path_lookup_record(pa, &m.rec, &v, &len, &why) != PATH_FOUND ||
	    len != 34 || v[0] != '"' ||
	    strspn(v + 1, "0123456789abcdef") < 32 || v[33] != '"')
		return false;
	memcpy(out, v + 1, 32);
	out[32] = '\0';
	return true;
}

/* The _shard line that ends one run's output in this input: it must
 * count the panes before it, back to the input's start or its last
 * _shard line. */
static void take_trailer(const struct line *ln, const char *name)
{
	struct trailer t = {0};
	const struct scan_member *sm = &m.rec.members[m.rec.nmembers - 1];
	struct scan_record in = {0};
	struct scan_error se;
	size_t vend = scan_skip(ln->p, ln->len, sm->val);
	if (scan_record(&in, ln->p + sm->val, vend - sm->val, &se) != 0) {
		scan_record_free(&in);
		bad_trailer(ln, name, "its value is no object");
	}
	for (size_t i = 0; i < in.nmembers; i++) {
		const char *k = in.p + in.members[i].key;
		size_t kl = in.members[i].key_len;
		if (!scan_string_equals(k, kl, "index", 5) &&
		    !scan_string_equals(k, kl, "of", 2) &&
		    !scan_string_equals(k, kl, "panes", 5) &&
		    !scan_string_equals(k, kl, "run", 3) &&
		    !scan_string_equals(k, kl, "input", 5)) {
			scan_record_free(&in);
			bad_trailer(ln, name, "a member other than index, "
				    "of, panes, run and input");
		}
	}
	scan_record_free(&in);
	uint64_t index = trailer_u64(&m.sh_index, ln, name, "no .index");
	uint64_t of = trailer_u64(&m.sh_of, ln, name, "no .of");
	uint64_t panes = trailer_u64(&m.sh_panes, ln, name, "no .panes");
	const char *v, *why;
	size_t len;
	if (of == 0 || of > 65536 || index >= of) /* --shard's bounds */
		bad_trailer(ln, name, "want index < of <= 65536");
	if (!hex_member(&m.sh_run, t.run))
		bad_trailer(ln, name, "no .run of 32 hex digits");
	if (!hex_member(&m.sh_input, t.input) &&
	    path_lookup_record(&m.sh_input, &m.rec, &v, &len, &why) ==
		    PATH_FOUND)
		bad_trailer(ln, name, "an .input not of 32 hex digits");
	if (panes != m.seg_panes)
		merge_stop("%s:%" PRIu64 ": the _shard line of shard %" PRIu64
			   " of %" PRIu64 " counts %" PRIu64 " pane%s, and %"
			   PRIu64 " come%s before it: a pane lost, added or "
			   "out of its place", name, ln->lineno, index, of,
			   panes, panes == 1 ? "" : "s", m.seg_panes,
			   m.seg_panes == 1 ? "s" : "");
	t.index = (uint32_t)index;
	t.of = (uint32_t)of;
	t.file = name_index(name);
	t.lineno = ln->lineno;
	m.t = xgrow(m.t, &m.capt, m.nt, sizeof *m.t, 16);
	m.t[m.nt++] = t;
	m.seg_panes = 0;
	m.in_trailers++;
	m.last_trailer = ln->lineno;
}

static void take(const struct line *ln, const char *name)
{
	char msg[512];
	bool is_json;
	cli_stats.records_in++;
	/* a torn last line is no pane, even when it parses */
	if (cli_line_fault(ln, m.max_line, "--max-line", &m.rec, true,
			   &is_json, msg, sizeof msg))
		merge_stop("%s:%" PRIu64 ": %s", name, ln->lineno, msg);
	if (shard_line(ln)) {
		take_trailer(ln, name);
		return;
	}
	if (m.seg_panes++ == 0)
		m.seg_line = ln->lineno;
	struct pane pn = {0};
	pn.start = time_member(&m.start, ln, name, "no .window.start time");
	pn.end = time_member(&m.end, ln, name, "no .window.end time");
	check_pane(ln, name, pn.start, pn.end);
	size_t len;
	const char *v = member(&m.index, ln, name, "no .pane.index", &len);
	char *e;
	char num[24];
	if (len == 0 || *v < '0' || *v > '9')
		not_pane(ln, name, "no .pane.index");
	/* past 2^64-1 strtoull would give 2^64-1: two panes of a crafted
	 * or damaged shard output taken for one, or sorted by a number
	 * neither has */
	if (len >= sizeof num)
		not_pane(ln, name, strspn(v, "0123456789") >= len
					   ? "a .pane.index past 2^64-1"
					   : "no .pane.index");
	memcpy(num, v, len);
	num[len] = '\0';
	errno = 0;
	pn.index = strtoull(num, &e, 10);
	if (*e)
		not_pane(ln, name, "no .pane.index");
	if (errno)
		not_pane(ln, name, "a .pane.index past 2^64-1");
	pn.off = m.all.len;
	pn.len = ln->len;
	const char *why;
	if (path_lookup_record(&m.key, &m.rec, &v, &len, &why) == PATH_FOUND) {
		pn.koff = pn.off + (size_t)(v - ln->p);
		pn.klen = len;
	}
	pn.file = name_index(name);
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

/* The end of one input: panes after its last _shard line are the output
 * of a run cut short; an input without one is remembered. */
static void input_end(void)
{
	if (m.in_trailers && m.seg_panes)
		merge_stop("%s:%" PRIu64 ": %" PRIu64 " pane%s after the last "
			   "_shard line (line %" PRIu64 ") and none after "
			   "them: the output of a shard's run cut short",
			   m.in_name, m.seg_line, m.seg_panes,
			   m.seg_panes == 1 ? "" : "s", m.last_trailer);
	if (!m.in_trailers && !m.bare) {
		m.bare = xstrdup(m.in_name);
		m.bare_panes = m.seg_panes;
	}
	m.seg_panes = m.in_trailers = 0;
}

/*
 * With _shard lines: one N and one run of options, no input without a
 * _shard line, every index of 0..N-1 there (check_set, before the panes
 * are compared), then every index ended as many runs as every other
 * (check_runs, after: a pane seen twice says better which input was
 * given twice), so that no shard, and no run of a shard resumed with
 * --state, is missing or given twice.
 */
static void check_set(void)
{
	if (!m.nt)
		return;
	const struct trailer *t0 = &m.t[0];
	if (m.bare)
		merge_stop("%s: ends without a _shard line (%" PRIu64
			   " pane%s), where %s:%" PRIu64 " has one: the "
			   "output of a shard cut short, of a run without "
			   "--shard or of an older window; give the whole "
			   "outputs of one command line's shards", m.bare,
			   m.bare_panes, m.bare_panes == 1 ? "" : "s",
			   m.names[t0->file],
			   t0->lineno);
	for (size_t i = 1; i < m.nt; i++) {
		const struct trailer *t = &m.t[i];
		if (t->of != t0->of)
			merge_stop("%s:%" PRIu64 ": a shard of %" PRIu32
				   ", and %s:%" PRIu64 " one of %" PRIu32
				   ": the shards of other command lines",
				   m.names[t->file], t->lineno, t->of,
				   m.names[t0->file], t0->lineno, t0->of);
		if (memcmp(t->run, t0->run, 32) != 0 ||
		    !t->input[0] != !t0->input[0])
			merge_stop("%s:%" PRIu64 ": shard %" PRIu32 " of a "
				   "run with other window options than "
				   "%s:%" PRIu64 "'s shard %" PRIu32 " (run "
				   "%.32s, not %.32s): merge the shards of one "
				   "command line",
				   m.names[t->file], t->lineno, t->index,
				   m.names[t0->file], t0->lineno, t0->index,
				   t->run, t0->run);
	}
	uint64_t *runs = xcalloc(t0->of, sizeof *runs);
	for (size_t i = 0; i < m.nt; i++)
		runs[m.t[i].index]++;
	for (uint32_t i = 0; i < t0->of; i++) {
		if (!runs[i]) {
			free(runs);
			merge_stop("shard %" PRIu32 " of %" PRIu32 " is "
				   "missing: no input has its _shard line; "
				   "give the outputs of all %" PRIu32 " shards",
				   i,
				   t0->of, t0->of);
		}
	}
	free(runs);
}

static int by_index_input(const void *a, const void *b)
{
	const struct trailer *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->input, y->input);
}

static void check_runs(void)
{
	if (!m.nt)
		return;
	const struct trailer *t0 = &m.t[0];
	uint64_t *runs = xcalloc(t0->of, sizeof *runs);
	size_t *last = xcalloc(t0->of, sizeof *last);
	for (size_t i = 0; i < m.nt; i++) {
		runs[m.t[i].index]++;
		last[m.t[i].index] = i;
	}
	for (uint32_t i = 1; i < t0->of; i++) {
		if (runs[i] == runs[0])
			continue;
		uint32_t more = runs[i] > runs[0] ? i : 0;
		const struct trailer *t = &m.t[last[more]];
		uint64_t a = runs[more], b = runs[more ? 0 : i];
		free(runs);
		free(last);
		merge_stop("%s:%" PRIu64 ": the _shard line of run %" PRIu64
			   " of shard %" PRIu32 " of %" PRIu32 ", and shard %"
			   PRIu32 " has %" PRIu64 ": a run's output left out "
			   "or given twice (each shard runs every batch)",
			   m.names[t->file], t->lineno, a, more, t0->of,
			   more ? 0 : i, b);
	}
	free(runs);
	free(last);
	if (!t0->input[0])
		return; /* --partition: each read its own records */
	struct trailer *c = xmalloc(m.nt * sizeof *c);
	memcpy(c, m.t, m.nt * sizeof *c);
	qsort(c, m.nt, sizeof *c, by_index_input);
	size_t k = m.nt / t0->of; /* runs of each shard */
	for (size_t i = k; i < m.nt; i++) {
		const struct trailer *t = &c[i], *z = &c[i % k];
		if (strcmp(t->input, z->input) == 0)
			continue;
		const char *name = m.names[t->file];
		uint64_t line = t->lineno;
		uint32_t ti = t->index, zi = z->index;
		free(c);
		merge_stop("%s:%" PRIu64 ": shard %" PRIu32 " of %" PRIu32
			   " read other input than shard %" PRIu32 "%s: every "
			   "--shard reads the same records, run by run; give "
			   "the outputs of one run's shards", name, line, ti,
			   t0->of, zi, k == 1 ? "" : " in one of its runs");
	}
	free(c);
}

/*
 * An option of window's that merge does not take (--tumble, --state, -j):
 * refused as window's, where getopt would call it unknown, as if merge
 * had never heard of it.  Read before getopt, up to a "--".
 */
static void refuse_window_options(const struct cli_verb *v, int argc,
				  char **argv, const struct option *mine,
				  const struct option *window)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *name = NULL;
		size_t n = 0;
		bool takes_arg = false;
		for (const struct option *o = mine; o->name; o++)
			if (!strncmp(a, "--", 2) &&
			    strlen(o->name) == strcspn(a + 2, "=") &&
			    !strncmp(a + 2, o->name, strlen(o->name)))
				takes_arg = o->has_arg == required_argument;
		if (takes_arg) {
			i += !strchr(a, '='); /* its argument */
			continue;
		}
		if (!strncmp(a, "--", 2)) {
			name = a + 2;
			n = strcspn(name, "=");
		} else if (a[0] == '-' && strchr("tgj", a[1]) && a[1]) {
			/* -t, -g, -j: window's short options */
			for (const struct option *o = window; o->name; o++)
				if (o->val == a[1])
					name = o->name;
			n = name ? strlen(name) : 0;
		}
		if (!name || !n)
			continue;
		bool merges = false, windows = false;
		for (const struct option *o = mine; o->name; o++)
			merges |= strlen(o->name) == n &&
				  !strncmp(o->name, name, n);
		for (const struct option *o = window; o->name; o++)
			windows |= strlen(o->name) == n &&
				   !strncmp(o->name, name, n);
		if (windows && !merges)
			cli_verb_usage_error(v, "--%.*s does not apply to merge "
					     "(it is window's)", (int)n, name);
	}
}

int window_merge(const struct cli_verb *v, int argc, char **argv,
		 const struct option *window)
{
	enum { O_STATS = 256, O_VERSION, O_MAXLINE };
	static const struct option longopts[] = {
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"stats", no_argument, NULL, O_STATS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	char err[512];
	int c;

	refuse_window_options(v, argc, argv, longopts, window);

	m.max_line = LINES_DEFAULT_MAX;
	while ((c = cli_verb_getopt(v, argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case O_MAXLINE: m.max_line = cli_max_line(optarg); break;
		case O_STATS: m.stats = true; break;
		case 'h': merge_usage(v);
		case O_VERSION: cli_version(); break;
		}
	}
	parse_path(&m.start, ".window.start");
	parse_path(&m.end, ".window.\"end\"");
	parse_path(&m.key, ".key");
	parse_path(&m.index, ".pane.index");
	parse_path(&m.timing, ".pane.timing");
	parse_path(&m.final, ".pane.final");
	parse_path(&m.sh_index, "._shard.index");
	parse_path(&m.sh_of, "._shard.of");
	parse_path(&m.sh_panes, "._shard.panes");
	parse_path(&m.sh_run, "._shard.run");
	parse_path(&m.sh_input, "._shard.input");
	/* one input at a time: each ends whole, an empty one too */
	static char dash[] = "-";
	char **files = argv + optind, *stdin_only[] = {dash, NULL};
	if (!*files)
		files = stdin_only;
	for (; *files; files++) {
		char *one[] = {*files, NULL};
		m.in_name = strcmp(*files, "-") == 0 ? "<stdin>" : *files;
		if (cli_each_line(one, m.max_line, take, NULL, err,
				  sizeof err) != 0)
			merge_stop("%s", err);
		input_end(); /* read whole: an I/O error is said as such */
	}
	cli_progress_done();
	check_set();
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
	check_runs();
	for (size_t i = 0; i < m.n; i++) {
		cli_out_line(m.all.p + m.p[i].off, m.p[i].len);
		cli_stats.records_out++;
	}
	if (m.stats)
		print_stats();
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
	path_free(&m.timing);
	path_free(&m.final);
	path_free(&m.sh_index);
	path_free(&m.sh_of);
	path_free(&m.sh_panes);
	path_free(&m.sh_run);
	path_free(&m.sh_input);
	free(m.t);
	free(m.bare);
	return EXIT_OK;
}
