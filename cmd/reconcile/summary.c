/*
 * summary: reconcile's mergeable summaries.  A summary is NDJSON: a
 * header naming the key, sums, partition expression and bucket count,
 * one line per partition (rows, exact sums, content fingerprint) and one
 * per non-empty key-hash bucket (rows, fingerprint).  Every figure is a
 * sum -- integer, exact decimal, or 128-bit wrapping -- so the summaries
 * of disjoint shards add up to the summary of their union, in any order.
 * Distinct and duplicate key counts are not sums and are left out.
 *
 * The header's "reconcile_summary" is the format: 2 since keys, --by
 * partitions and content fingerprints take times as instants (value.h);
 * 1 took them as text.  Summaries of format 1 still merge and compare
 * with each other (as text), never with those of format 2: the same
 * rows would fingerprint apart, and be reported as differences.
 *
 * A summary of format 2 ends with {"xxh3_128":"..."}, the XXH3-128 of
 * every line before it (newlines included), checked when it is read: a
 * figure edited or damaged in transit is refused, as is a summary whose
 * last line is lost.  (Format 1 had none; a merge of those writes none,
 * so the readers of format 1 can read it.)
 *
 * A header whose -k, --sum or --by program computes (+ - * /) says
 * "arith":"exact": before arithmetic in every jq program was exact, such
 * a program's keys, partitions and sums were binary floating point's
 * (.pct*100|floor of 0.57 was 56), so a summary without the mark
 * compares with those like it, never with one that has it.
 *
 * A header with --columns or --ignore says "keyed":true: each record's
 * fingerprint folds in its key's (main.c's keyed_fp), so two keys that
 * swap their compared values change the buckets they are in.  One
 * without it compares with those like it, never with one that has it.
 *
 * A header whose programs read local time (localtime, strflocaltime)
 * says the zone they read it in, "tz":"America/New_York": the same
 * record has another local day under another zone, so summaries made
 * under two zones are refused together, not compared as data.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expr.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "reconcile.h"
#include "scan.h"
#include "tz.h"
#include "xalloc.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#define SUMMARY_FORMAT 2
#define SUMMARY_FORMAT_TEXT 1

/* The format of the summaries read (0: none yet), which a merge of them
 * writes again. */
static uint64_t format;

/* The summaries read are from before arithmetic was exact (their
 * programs compute, their header has no mark): a merge of them writes
 * none either. */
static bool pre_exact;

/* The summaries read are from before a record's fingerprint under
 * --columns or --ignore held its key (their header has no "keyed"): a
 * value moved from one key to another of its bucket was unseen in them.
 * They still merge and compare with each other, with a word; a merge of
 * them writes no mark either. */
static bool pre_keyed;

/* Whether a -k, --sum or --by program computes: its values depend on
 * how arithmetic was done. */
static bool programs_compute(void)
{
	bool any = opt.by_src && expr_text_has_arith(opt.by_src);
	for (size_t k = 0; k < opt.nkeys; k++)
		any |= expr_text_has_arith(opt.key_src[k]);
	for (size_t s = 0; s < opt.nsums; s++)
		any |= expr_text_has_arith(opt.sum_src[s]);
	return any;
}

/* The zone of the summaries read ("tz"), which a merge of them writes
 * again; NULL: none said one. */
static char *zone_read;
static bool zones_read; /* a summary was read: its zone stands */

/* Whether a -k, --sum, --by or --columns program reads local time. */
static bool programs_local(void)
{
	bool any = opt.by_src && expr_text_reads_local(opt.by_src);
	for (size_t k = 0; k < opt.nkeys; k++)
		any |= expr_text_reads_local(opt.key_src[k]);
	for (size_t s = 0; s < opt.nsums; s++)
		any |= expr_text_reads_local(opt.sum_src[s]);
	return any || columns_read_local();
}

/* The checksum's state, reset; one for the run, in static storage (the
 * static-linking API): XXH3_createState's block, reached only through
 * an aligned pointer into it, was a leak to valgrind at exit. */
static XXH3_state_t *sum_state(void)
{
	static XXH3_state_t h;
	XXH3_INITSTATE(&h);
	XXH3_128bits_reset(&h);
	return &h;
}

/* Each line of a summary written, into the checksum of its last. */
static void sum_line(XXH3_state_t *h, const struct buf *b)
{
	cli_out_line(b->p, b->len);
	XXH3_128bits_update(h, b->p, b->len);
	XXH3_128bits_update(h, "\n", 1);
}

static struct fp128 sum_digest(XXH3_state_t *h)
{
	XXH128_hash_t d = XXH3_128bits_digest(h);
	return (struct fp128){d.low64, d.high64};
}

void summary_write(struct part **parts, size_t n, const struct bstat *bkt,
		   const struct cover *cov, uint64_t absent, uint64_t rejected)
{
	struct buf b = {0};
	char hex[33], num[DEC_STRMAX];
	XXH3_state_t *h = sum_state();
	buf_addf(&b, "{\"reconcile_summary\":%d,\"key\":[",
		 format == SUMMARY_FORMAT_TEXT ? SUMMARY_FORMAT_TEXT
					       : SUMMARY_FORMAT);
	for (size_t k = 0; k < opt.nkeys; k++) {
		if (k)
			buf_addc(&b, ',');
		jw_str(&b, opt.key_src[k]);
	}
	buf_adds(&b, "],\"sum\":[");
	for (size_t s = 0; s < opt.nsums; s++) {
		if (s)
			buf_addc(&b, ',');
		jw_str(&b, opt.sum_src[s]);
	}
	buf_adds(&b, "],\"by\":");
	if (opt.by_src)
		jw_str(&b, opt.by_src);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"buckets\":");
	jw_u64(&b, 1u << opt.bucket_bits);
	if (programs_compute() && !pre_exact)
		buf_adds(&b, ",\"arith\":\"exact\"");
	if (columns_active() && !pre_keyed)
		buf_adds(&b, ",\"keyed\":true");
	columns_describe(&b); /* absent without them: old summaries match */
	const char *zone = zones_read ? zone_read
		       : programs_local() ? tz_local_name() : NULL;
	if (zone) {
		buf_adds(&b, ",\"tz\":");
		jw_str(&b, zone);
	}
	buf_addc(&b, '}');
	sum_line(h, &b);
	if (cov && cov->of) {
		/* which shards it holds, so a lost one is not read as a
		 * smaller layer; a summary of every key has no such line */
		buf_reset(&b);
		buf_addf(&b, "{\"shards\":%" PRIu32 ",\"have\":[", cov->of);
		for (uint32_t i = 0, k = 0; i < cov->of; i++)
			if (cov->have[i])
				buf_addf(&b, "%s%" PRIu32, k++ ? "," : "", i);
		buf_adds(&b, "]}");
		sum_line(h, &b);
	}
	if (absent & columns_mask()) {
		/* which columns no record had: where no piece had one,
		 * compare refuses it, as reconcile does (a misspelt name) */
		buf_reset(&b);
		columns_absent_line(&b, absent & columns_mask());
		sum_line(h, &b);
	}
	if (rejected) {
		/* records it dead-lettered: a layer with any does not agree
		 * with another, as reconcile says of its inputs */
		buf_reset(&b);
		buf_addf(&b, "{\"rejected\":%" PRIu64 "}", rejected);
		sum_line(h, &b);
	}
	for (size_t i = 0; i < n; i++) {
		const struct side_stats *st = &parts[i]->side[SRC];
		buf_reset(&b);
		buf_addc(&b, '{');
		if (opt.by_src) {
			buf_adds(&b, "\"partition\":");
			buf_add(&b, parts[i]->label, parts[i]->label_len);
			buf_addc(&b, ',');
		}
		buf_adds(&b, "\"rows\":");
		jw_u64(&b, st->rows);
		buf_adds(&b, ",\"sum\":{");
		for (size_t s = 0; s < opt.nsums; s++) {
			jw_key(&b, opt.sum_src[s], s == 0);
			buf_add(&b, num, dec_format(&st->sum[s], num));
		}
		buf_adds(&b, "},\"fingerprint\":");
		value_fp_hex(st->fp, hex);
		jw_str(&b, hex);
		buf_addc(&b, '}');
		sum_line(h, &b);
	}
	for (size_t k = 0; k < (1u << opt.bucket_bits); k++) {
		if (!bkt[k].rows)
			continue;
		buf_reset(&b);
		buf_adds(&b, "{\"bucket\":");
		jw_u64(&b, k);
		buf_adds(&b, ",\"rows\":");
		jw_u64(&b, bkt[k].rows);
		buf_adds(&b, ",\"fingerprint\":");
		value_fp_hex(bkt[k].fp, hex);
		jw_str(&b, hex);
		buf_addc(&b, '}');
		sum_line(h, &b);
	}
	if (format != SUMMARY_FORMAT_TEXT) {
		buf_reset(&b);
		value_fp_hex(sum_digest(h), hex);
		buf_adds(&b, "{\"xxh3_128\":");
		jw_str(&b, hex);
		buf_addc(&b, '}');
		cli_out_line(b.p, b.len);
	}
	buf_free(&b);
}

/* ---- reading ---- */

struct sumset {
	char *header; /* canonical header text, to check two agree */
	struct part **parts;
	size_t nparts, cap;
	struct fpset *ix;
	struct bstat *bkt;
	struct cover cov; /* the shards read so far (of 0: every key) */
	bool whole;       /* a summary of every key was read */
	/* merge: who gave each shard, or the first summary of every key,
	 * and what each summary read was (the digest of its lines), so
	 * that a summary given twice is not added up twice */
	char **shard_from;
	char *shards_first, *whole_from;
	struct seen {
		char *name;
		struct fp128 id;
		uint64_t rows;
	} *seen;
	size_t nseen, cap_seen;
	bool merging;
	uint64_t absent[2]; /* columns no summary of a side had in a row */
	uint64_t rejected[2]; /* records dead-lettered, per side */
};

static struct sumset *set_new(void)
{
	struct sumset *s = xcalloc(1, sizeof *s);
	s->ix = fpset_new(true);
	s->absent[0] = s->absent[1] = ~0ull;
	return s;
}

static bool member(const struct scan_record *r, const char *name,
		   const char **v, size_t *n)
{
	struct path_step st = {.kind = PATH_MEMBER, .name = (char *)name,
			       .name_len = strlen(name)};
	struct path p = {&st, 1};
	const char *why;
	return path_lookup_record(&p, r, v, n, &why) == PATH_FOUND;
}

static bool member_in(const char *obj, size_t on, const char *name,
		      const char **v, size_t *n)
{
	struct path_step st = {.kind = PATH_MEMBER, .name = (char *)name,
			       .name_len = strlen(name)};
	struct path p = {&st, 1};
	const char *why;
	return path_lookup(&p, obj, on, v, n, &why) == PATH_FOUND;
}

static bool u64_of(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* The strings of a JSON array of strings, into list (at most max). */
static size_t strings_of(const char *v, size_t n, const char **list,
			 size_t max)
{
	size_t count = 0;
	size_t i = scan_ws(v, n, 1);
	while (i < n && v[i] == '"' && count < max) {
		size_t e = scan_skip(v, n, i);
		char *s = xmalloc(e - i + 1);
		s[scan_string_decode(v + i, e - i, s)] = '\0';
		list[count++] = s;
		i = scan_ws(v, n, e);
		if (i < n && v[i] == ',')
			i = scan_ws(v, n, i + 1);
	}
	return count;
}

/* The header's canonical form, its arith and keyed marks and its zone
 * left out: a summary from before a mark has the options of one with
 * it, and header() names the zones apart. */
static void header_canon(const struct scan_record *r, struct buf *canon)
{
	struct buf j = {0};
	char name[16];
	buf_addc(&j, '{');
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct scan_member *m = &r->members[i];
		if (m->parent != SCAN_TOP)
			continue;
		size_t nl = m->key_len <= sizeof name
				    ? scan_string_decode(r->p + m->key,
							 m->key_len, name)
				    : 0;
		if ((nl == 5 && (memcmp(name, "arith", 5) == 0 ||
				 memcmp(name, "keyed", 5) == 0)) ||
		    (nl == 2 && memcmp(name, "tz", 2) == 0))
			continue;
		if (j.len > 1)
			buf_addc(&j, ',');
		buf_add(&j, r->p + m->key, m->key_len);
		buf_addc(&j, ':');
		buf_add(&j, r->p + m->val, m->val_end - m->val);
	}
	buf_addc(&j, '}');
	value_canon_as(canon, VALUE_KEYS_TEXT, j.p, j.len);
	buf_free(&j);
}

/* The header: the first one read sets opt's key, sums, by and buckets;
 * every later one must say the same (compared by value), and be from the
 * same side of exact arithmetic when its programs compute. */
static void header(struct sumset *set, const struct scan_record *r,
		   const char *name)
{
	static struct buf first;
	static const char *first_name;
	const char *v;
	size_t n;
	uint64_t f;
	if (!member(r, "reconcile_summary", &v, &n) || !u64_of(v, n, &f) ||
	    f < SUMMARY_FORMAT_TEXT || f > SUMMARY_FORMAT)
		cli_die(EXIT_TROUBLE, "%s:1: not a reconcile summary", name);
	if (format && f != format)
		cli_die(EXIT_TROUBLE, "%s: a summary of format %" PRIu64
			" (%s) does not compare with %s's of format %" PRIu64
			" (%s): summarize %s again with this reconcile",
			name, f, f == SUMMARY_FORMAT_TEXT ? "times as text"
							  : "times as instants",
			first_name, format, format == SUMMARY_FORMAT_TEXT
					       ? "times as text"
					       : "times as instants",
			f == SUMMARY_FORMAT_TEXT ? name : first_name);
	if (!format && f == SUMMARY_FORMAT_TEXT)
		cli_warn("%s: a summary from before keys compared times as "
			 "instants: it is read as it was made, times as text; "
			 "summarize again to compare them as instants", name);
	format = f;
	bool marked = member(r, "arith", &v, &n);
	if (marked && (n != 7 || memcmp(v, "\"exact\"", 7) != 0))
		cli_die(EXIT_TROUBLE, "%s:1: not a reconcile summary (arith "
			"%.*s)", name, (int)(n > 40 ? 40 : n), v);
	bool keyed = member(r, "keyed", &v, &n);
	if (keyed && (n != 4 || memcmp(v, "true", 4) != 0))
		cli_die(EXIT_TROUBLE, "%s:1: not a reconcile summary (keyed "
			"%.*s)", name, (int)(n > 40 ? 40 : n), v);
	char *zone = NULL;
	if (member(r, "tz", &v, &n)) {
		if (v[0] != '"' || n > 4096)
			cli_die(EXIT_TROUBLE, "%s:1: not a reconcile summary "
				"(tz %.*s)", name, (int)(n > 40 ? 40 : n), v);
		zone = xmalloc(n);
		zone[scan_string_decode(v, n, zone)] = '\0';
	}
	struct buf canon = {0};
	/* options are text: two columns named by one instant are two */
	header_canon(r, &canon);
	if (first_name) {
		if (canon.len != first.len ||
		    memcmp(canon.p, first.p, canon.len) != 0)
			cli_die(EXIT_TROUBLE, "%s: summarized with other "
				"options (-k, --sum, --by, --buckets, --columns, "
				"--ignore) than %s",
				name, first_name);
		buf_free(&canon);
		if (zone && zone_read && strcmp(zone, zone_read) != 0)
			cli_die(EXIT_TROUBLE, "%s: its programs read local "
				"time under TZ=%s, %s's under TZ=%s: one record "
				"has other local days and hours in each; "
				"summarize both under one TZ", name, zone,
				first_name, zone_read);
		if (zone && !zone_read)
			zone_read = zone;
		else
			free(zone);
		if (programs_compute() && !marked != pre_exact)
			cli_die(EXIT_TROUBLE, "%s: summarized when + - * / and "
				"jq's math (sqrt, pow...) in jq programs were "
				"binary floating point, %s "
				"since they are exact: where that rounded, "
				"their keys, partitions and sums differ with "
				"no difference in the records; summarize %s "
				"again with this reconcile",
				pre_exact ? first_name : name,
				pre_exact ? name : first_name,
				pre_exact ? first_name : name);
		if (columns_active() && !keyed != pre_keyed)
			cli_die(EXIT_TROUBLE, "%s: summarized before the "
				"fingerprints of --columns and --ignore held "
				"the key, %s since they do: every bucket would "
				"differ with no difference in the records; "
				"summarize %s again with this reconcile",
				pre_keyed ? first_name : name,
				pre_keyed ? name : first_name,
				pre_keyed ? first_name : name);
	} else {
		first = canon;
		first_name = xstrdup(name);
		zone_read = zone;
		zones_read = true;
		if (member(r, "key", &v, &n) && v[0] == '[')
			opt.nkeys = strings_of(v, n, opt.key_src, MAX_KEYS);
		if (member(r, "sum", &v, &n) && v[0] == '[')
			opt.nsums = strings_of(v, n, opt.sum_src, MAX_SUMS);
		if (member(r, "by", &v, &n) && v[0] == '"') {
			char *s = xmalloc(n);
			s[scan_string_decode(v, n, s)] = '\0';
			opt.by_src = s;
		}
		/* the columns it compared, written again by a merge */
		for (int ig = 0; ig < 2; ig++)
			if (member(r, ig ? "ignore" : "columns", &v, &n) &&
			    v[0] == '[') {
				const char *names[MAX_COLUMNS];
				size_t nc = strings_of(v, n, names,
						       MAX_COLUMNS);
				columns_restore(ig, names, nc);
			}
		uint64_t nb = 0;
		if (!member(r, "buckets", &v, &n) || !u64_of(v, n, &nb) ||
		    nb == 0 || nb > 65536 || (nb & (nb - 1)))
			cli_die(EXIT_TROUBLE, "%s:1: bad bucket count", name);
		unsigned bits = 0;
		while ((1ull << bits) < nb)
			bits++;
		opt.bucket_bits = bits;
		pre_keyed = columns_active() && !keyed;
		if (pre_keyed)
			cli_warn("%s: a summary from before the fingerprints "
				 "of --columns and --ignore held the key: it is "
				 "read as it was made, and two keys of one bucket "
				 "that swapped their values go unseen in it: "
				 "summarize again", name);
		pre_exact = programs_compute() && !marked;
		if (pre_exact)
			cli_warn("%s: a summary from before + - * / and jq's "
				 "math (sqrt, pow...) in jq programs were "
				 "exact: it is read as it was "
				 "made, binary floating point; where that "
				 "rounded (.pct * 100 | floor of 0.57 was 56, "
				 "is 57) it differs from one made now: "
				 "summarize again", name);
	}
	if (!set->bkt)
		set->bkt = xcalloc((size_t)1 << opt.bucket_bits,
				   sizeof *set->bkt);
}

static struct part *set_part(struct sumset *set, const char *v, size_t n)
{
	struct buf scratch = {0};
	enum value_keys keys = format == SUMMARY_FORMAT_TEXT
				       ? VALUE_KEYS_TEXT
				       : VALUE_KEYS_INSTANT;
	struct fp128 fp = n ? value_fingerprint_as(keys, v, n, &scratch)
			    : (struct fp128){1, 0};
	buf_free(&scratch);
	uint64_t *pay;
	if (!fpset_add(set->ix, fp, &pay)) {
		set->parts = xgrow(set->parts, &set->cap, set->nparts,
				   sizeof *set->parts, 16);
		struct part *p = part_new(v, n);
		set->parts[set->nparts] = p;
		*pay = ++set->nparts;
	} else {
		part_spelling(set->parts[*pay - 1], v, n);
	}
	return set->parts[*pay - 1];
}

/* A "shards" line: {"shards":N,"have":[i,...]}, each i under N, once. */
static bool read_cover(const struct scan_record *r, const char *v, size_t n,
		       struct cover *c)
{
	uint64_t of;
	const char *h;
	size_t hn;
	if (!u64_of(v, n, &of) || of == 0 || of > UINT32_MAX ||
	    !member(r, "have", &h, &hn) || h[0] != '[')
		return false;
	c->of = (uint32_t)of;
	c->have = xcalloc(of, sizeof *c->have);
	size_t i = scan_ws(h, hn, 1);
	while (i < hn && h[i] != ']') {
		size_t e = scan_skip(h, hn, i);
		uint64_t k;
		if (!u64_of(h + i, e - i, &k) || k >= of || c->have[k])
			return false;
		c->have[k] = true;
		i = scan_ws(h, hn, e);
		if (i < hn && h[i] == ',')
			i = scan_ws(h, hn, i + 1);
	}
	return true;
}

/* "0,2 of 3": the shards a cover has. */
static void cover_text(struct buf *b, const struct cover *c)
{
	for (uint32_t i = 0, k = 0; i < c->of; i++)
		if (c->have[i])
			buf_addf(b, "%s%" PRIu32, k++ ? "," : "", i);
	buf_addf(b, " of %" PRIu32, c->of);
}

/* Fold one summary's shards (of 0: every key) into the set's.  The
 * union of the shards read says which are lacking only when no shard
 * comes twice and no summary of every key is among them: shard 0 of two
 * inputs, or a whole input beside one's shards, would hide one input's
 * lacking shard behind the other's (and a shard given twice adds up its
 * records twice).  Each input's shards merge first, into a summary of
 * every key, which then merges with the others. */
static void add_cover(struct sumset *set, const struct cover *c,
		      const char *name)
{
	static const char first[] = "merge the shards of one input first "
		"(into a summary of every key), then merge that with the "
		"others";
	static struct buf t; /* reachable when a refusal exits */
	bool all = c->of > 0; /* --shard 0/1: every key */
	for (uint32_t i = 0; i < c->of && all; i++)
		all = c->have[i];
	if (!c->of || all) {
		if (set->cov.of) {
			cover_text(&t, &set->cov);
			cli_die(EXIT_TROUBLE, "%s: a summary of every key beside "
				"%s, a summary of shards (%s): %s", name,
				set->shards_first, t.p, first);
		}
		set->whole = true;
		/* names are kept for a merge's messages (a comparison
		 * judges each summary on its own) */
		if (!set->whole_from && set->merging)
			set->whole_from = xstrdup(name);
		return;
	}
	if (set->whole) {
		cover_text(&t, c);
		cli_die(EXIT_TROUBLE, "%s: a summary of shards (%s) beside %s, "
			"a summary of every key: %s", name, t.p,
			set->whole_from, first);
	}
	if (set->cov.of && set->cov.of != c->of)
		cli_die(EXIT_TROUBLE, "%s: a summary of shards of %" PRIu32
			", not of %" PRIu32 " as the others; they do not add "
			"up", name, c->of, set->cov.of);
	if (!set->cov.of) {
		set->cov.of = c->of;
		set->cov.have = xcalloc(c->of, sizeof *set->cov.have);
		set->shard_from = xcalloc(c->of, sizeof *set->shard_from);
	}
	for (uint32_t i = 0; i < c->of; i++)
		if (c->have[i] && set->cov.have[i])
			cli_die(EXIT_TROUBLE, "%s: shard %" PRIu32 " of %" PRIu32
				" again (%s has it): shards of two inputs "
				"cannot say which one lacks a shard; merge "
				"each input's shards first (each into a "
				"summary of every key), then merge those",
				name, i, c->of, set->shard_from[i]);
	char *who = set->merging ? xstrdup(name) : NULL;
	bool kept = false;
	for (uint32_t i = 0; i < c->of; i++) {
		if (!c->have[i])
			continue;
		set->cov.have[i] = true;
		set->shard_from[i] = who;
		kept = true;
	}
	if (!set->shards_first) {
		set->shards_first = who;
		kept = true;
	}
	if (!kept)
		free(who);
}

/* The set's shards: every key, or the shards it has; NULL when whole. */
static const struct cover *set_cover(const struct sumset *set)
{
	if (set->whole || !set->cov.of)
		return NULL;
	for (uint32_t i = 0; i < set->cov.of; i++)
		if (!set->cov.have[i])
			return &set->cov;
	return NULL;
}

/* A merge adds up what it is given: a summary given twice (or a copy
 * of it) would count its rows twice.  Its lines, checksum aside, are
 * its identity; two pieces of a layer with the same lines hold the same
 * records, which a run over both counts as it should.  An empty one
 * adds nothing, twice or not. */
static void once_only(struct sumset *set, const char *name, struct fp128 id,
		      uint64_t rows)
{
	for (size_t i = 0; i < set->nseen; i++)
		if (rows && fp_eq(set->seen[i].id, id))
			cli_die(EXIT_TROUBLE, "%s: the same summary as %s (its "
				"lines are the same): merged twice, its %" PRIu64
				" records would count twice; if two pieces really "
				"hold the same records, summarize them in one "
				"run (reconcile summarize A B)",
				name, set->seen[i].name, rows);
	set->seen = xgrow(set->seen, &set->cap_seen, set->nseen,
			  sizeof *set->seen, 16);
	set->seen[set->nseen++] = (struct seen){xstrdup(name), id, rows};
}

/* Add the summary in path to set, as side `side` of its partitions. */
static void read_summary(struct sumset *set, const char *path, int side)
{
	char err[512];
	struct lines *in = lines_open(path, LINES_DEFAULT_MAX, err, sizeof err);
	if (!in)
		cli_die(EXIT_TROUBLE, "%s", err);
	const char *name = lines_name(in);
	struct scan_record r = {0};
	struct scan_error se;
	struct line ln;
	int rc;
	bool have_header = false;
	/* The partitions and the buckets each add up every record, so a
	 * summary cut at a line boundary (or with a line lost) shows as
	 * totals that disagree: checked when read back, not compared. */
	uint64_t part_rows = 0, bkt_rows = 0;
	struct fp128 part_fp = {0, 0}, bkt_fp = {0, 0};
	struct cover file_cover = {0};
	uint64_t file_absent = 0; /* no line: every column was there */
	bool have_absent = false, have_rejected = false;
	uint64_t file_rejected = 0;
	XXH3_state_t *h = sum_state();
	bool sealed = false; /* its checksum line read (and right) */
	while ((rc = lines_next(in, &ln, err, sizeof err)) == 1) {
		if (ln.too_long || ln.torn || sealed ||
		    scan_record(&r, ln.p, ln.len, &se) != 0 ||
		    ln.p[r.start] != '{')
			cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": not a summary "
				"line", name, ln.lineno);
		const char *v, *fv;
		size_t n, fn;
		uint64_t rows, b;
		struct fp128 fp;
		if (have_header && format != SUMMARY_FORMAT_TEXT &&
		    member(&r, "xxh3_128", &v, &n)) {
			struct fp128 want = sum_digest(h);
			if (n != 34 || value_fp_unhex(v + 1, 32, &fp) != 0 ||
			    !fp_eq(fp, want))
				cli_die(EXIT_TROUBLE, "%s: damaged summary (its "
					"lines differ from the checksum its "
					"last line holds); refusing it", name);
			sealed = true;
			continue;
		}
		XXH3_128bits_update(h, ln.p, ln.len);
		XXH3_128bits_update(h, "\n", 1);
		if (!have_header) {
			header(set, &r, name);
			have_header = true;
			continue;
		}
		if (member(&r, "shards", &v, &n)) {
			if (file_cover.of || !read_cover(&r, v, n, &file_cover))
				goto bad;
			continue;
		}
		if (member(&r, "rejected", &v, &n)) {
			uint64_t x;
			if (have_rejected || !u64_of(v, n, &x) || x == 0)
				goto bad;
			have_rejected = true;
			file_rejected = x;
			set->rejected[side] += x;
			continue;
		}
		if (member(&r, "columns_absent", &v, &n)) {
			if (have_absent ||
			    columns_absent_parse(v, n, &file_absent) != 0)
				goto bad;
			have_absent = true;
			continue;
		}
		if (!member(&r, "rows", &v, &n) || !u64_of(v, n, &rows) ||
		    !member(&r, "fingerprint", &fv, &fn) || fn < 2 ||
		    value_fp_unhex(fv + 1, fn - 2, &fp) != 0)
			goto bad;
		if (member(&r, "bucket", &v, &n)) {
			if (!u64_of(v, n, &b) || b >= (1u << opt.bucket_bits))
				goto bad;
			set->bkt[b].rows += rows;
			set->bkt[b].fp = fp_add(set->bkt[b].fp, fp);
			bkt_rows += rows;
			bkt_fp = fp_add(bkt_fp, fp);
			continue;
		}
		const char *pv = "";
		size_t pn = 0;
		if (opt.by_src && !member(&r, "partition", &pv, &pn))
			goto bad;
		struct part *p = set_part(set, pv, pn);
		struct side_stats *st = &p->side[side];
		st->rows += rows;
		st->fp = fp_add(st->fp, fp);
		part_rows += rows;
		part_fp = fp_add(part_fp, fp);
		const char *sv;
		size_t sn;
		if (!member(&r, "sum", &sv, &sn))
			goto bad;
		for (size_t s = 0; s < opt.nsums; s++) {
			struct dec d;
			if (!member_in(sv, sn, opt.sum_src[s], &v, &n) ||
			    dec_parse(v, n, &d) != 0)
				goto bad;
			if (dec_add(&st->sum[s], &d) != 0)
				cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": --sum %s "
					"overflows 38 digits", name, ln.lineno,
					opt.sum_src[s]);
		}
		continue;
bad:
		cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": not a summary line",
			name, ln.lineno);
	}
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (!have_header)
		cli_die(EXIT_TROUBLE, "%s: empty, not a summary", name);
	if (format != SUMMARY_FORMAT_TEXT && !sealed)
		cli_die(EXIT_TROUBLE, "%s: no checksum line: a summary cut "
			"short or damaged; refusing it", name);
	if (part_rows != bkt_rows || !fp_eq(part_fp, bkt_fp))
		cli_die(EXIT_TROUBLE, "%s: its partitions hold %" PRIu64 " rows "
			"and its buckets %" PRIu64 "%s: a summary cut short or "
			"damaged; refusing it", name, part_rows, bkt_rows,
			part_rows == bkt_rows ? ", with other fingerprints"
					      : "");
	if (set->merging)
		once_only(set, name, sum_digest(h), part_rows + file_rejected);
	add_cover(set, &file_cover, name);
	free(file_cover.have);
	set->absent[side] &= file_absent;
	lines_close(in);
	scan_record_free(&r);
}

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = *(struct part *const *)a;
	const struct part *y = *(struct part *const *)b;
	return value_compare_spelled(x->label, x->label_len, y->label,
				     y->label_len);
}

static void sort_parts(struct sumset *set)
{
	if (opt.by_src && set->nparts)
		qsort(set->parts, set->nparts, sizeof *set->parts, part_cmp);
}

/* Format 1 summaries may be older than the "shards" line. */
static void format1_shards_unchecked(void)
{
	cli_warn("summaries of format 1 made before they named their shards "
		 "read as summaries of every key: for those, a shard given "
		 "twice or lacking cannot be checked");
}

/* The set lives till exit (a static keeps it reachable). */
static struct sumset *set;

int summary_merge(char **files, int n)
{
	set = set_new();
	set->merging = true;
	for (int i = 0; i < n; i++)
		read_summary(set, files[i], SRC);
	sort_parts(set);
	const struct cover *c = set_cover(set);
	if (c) { /* merged in steps, or a shard lost: say which */
		struct buf t = {0};
		uint32_t have = 0;
		for (uint32_t i = 0; i < c->of; i++)
			have += c->have[i];
		for (uint32_t i = 0, k = 0; i < c->of && k < 10; i++)
			if (!c->have[i])
				buf_addf(&t, "%s%" PRIu32, k++ ? "," : "", i);
		if (c->of - have > 10)
			buf_adds(&t, ",...");
		cli_warn("the merged summary holds %" PRIu32 " of %" PRIu32
			 " shards (not %s): compare refuses it until they are "
			 "merged in", have, c->of, t.p);
		buf_free(&t);
	}
	if (format == SUMMARY_FORMAT_TEXT)
		format1_shards_unchecked();
	summary_write(set->parts, set->nparts, set->bkt, c,
		      set->absent[SRC], set->rejected[SRC]);
	cli_out_close();
	return EXIT_OK;
}

/* A comparison is of every key: a summary missing a shard would be
 * compared as if the keys of that shard were on neither side. */
static void need_whole(struct sumset *s, const char *name)
{
	const struct cover *c = set_cover(s);
	if (!c) { /* the next summary read is judged on its own */
		s->whole = false;
		free(s->cov.have);
		s->cov = (struct cover){0};
		free(s->shard_from);
		s->shard_from = NULL;
		s->shards_first = s->whole_from = NULL;
		return;
	}
	uint32_t have = 0;
	for (uint32_t i = 0; i < c->of; i++)
		have += c->have[i];
	cli_die(EXIT_TROUBLE, "%s: holds %" PRIu32 " of %" PRIu32 " shards "
		"(--shard or --partition): merge the summaries of every shard "
		"first (reconcile merge), or the missing ones' keys go "
		"uncompared", name, have, c->of);
}

int summary_compare(const char *a, const char *b)
{
	set = set_new();
	read_summary(set, a, SRC);
	need_whole(set, a);
	if (opt.have_tolerance && opt.nsums == 0)
		cli_die(EXIT_TROUBLE, "--tolerance applies to the sums of --sum, "
			"and %s has none: records and keys are compared exactly",
			a);
	static struct bstat *src;
	src = set->bkt;
	set->bkt = NULL;
	read_summary(set, b, TGT);
	need_whole(set, b);
	struct bstat *tgt = set->bkt;
	if (format == SUMMARY_FORMAT_TEXT)
		format1_shards_unchecked();
	bool rows = false;
	for (size_t i = 0; i < set->nparts; i++)
		rows |= set->parts[i]->side[SRC].rows ||
			set->parts[i]->side[TGT].rows;
	if (rows) /* as reconcile refuses a column neither input has */
		columns_check(~(set->absent[SRC] & set->absent[TGT]), NULL);
	sort_parts(set);
	bool rejects = set->rejected[SRC] || set->rejected[TGT];
	size_t nb = (size_t)1 << opt.bucket_bits, ndiff = 0;
	/* buckets may differ where the partitions add up alike (two keys
	 * that swapped their compared columns): the total then differs */
	bool buckets_differ = false;
	for (size_t k = 0; k < nb && !buckets_differ; k++)
		buckets_differ = src[k].rows != tgt[k].rows ||
				 !fp_eq(src[k].fp, tgt[k].fp);
	bool agree = report(&(struct report_in){
		.parts = set->parts, .nparts = set->nparts, .no_keys = true,
		.rejected = {set->rejected[SRC], set->rejected[TGT]},
		.summary_rejects = rejects, .buckets_differ = buckets_differ});
	struct buf out = {0};
	char hs[33], ht[33];
	bool table = report_is_table();
	for (size_t k = 0; k < nb; k++) {
		if (src[k].rows == tgt[k].rows && fp_eq(src[k].fp, tgt[k].fp))
			continue;
		value_fp_hex(src[k].fp, hs);
		value_fp_hex(tgt[k].fp, ht);
		buf_reset(&out);
		if (table) {
			if (ndiff == 0) {
				static const char h[] = "\nbuckets that "
					"differ (check one with --bucket B):";
				cli_out_line(h, sizeof h - 1);
			}
			buf_addf(&out, "  bucket %zu: rows %" PRIu64 " -> %"
				 PRIu64 "%s", k, src[k].rows, tgt[k].rows,
				 src[k].rows == tgt[k].rows
					 ? ", content differs" : "");
		} else {
			buf_addf(&out, "{\"bucket\":%zu,\"buckets\":%zu,"
				 "\"source\":{\"rows\":%" PRIu64
				 ",\"fingerprint\":\"%s\"},\"target\":{"
				 "\"rows\":%" PRIu64 ",\"fingerprint\":\"%s\"}}",
				 k, nb, src[k].rows, hs, tgt[k].rows, ht);
		}
		cli_out_line(out.p, out.len);
		ndiff++;
	}
	buf_free(&out);
	cli_out_close();
	return agree ? EXIT_OK : EXIT_FINDING;
}
