/*
 * report: the answer, as NDJSON (one line per partition, a total line,
 * then one line per differing key) or as an aligned table for a person,
 * with the target cells that differ from the source marked '*'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsonw.h"
#include "reconcile.h"
#include "scan.h"
#include "xalloc.h"

#define TABLE_KEYS_DEFAULT 10


/* Most keys first, then by name: the column to look at comes first. */
static int field_cmp(const void *a, const void *b)
{
	const struct field_count *x = a, *y = b;
	if (x->keys != y->keys)
		return x->keys > y->keys ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int dec_sign(const struct dec *d)
{
	return (d->coef > 0) - (d->coef < 0);
}

static struct dec dec_neg(const struct dec *d)
{
	return (struct dec){-d->coef, d->exp}; /* never INT128_MIN */
}

/* |u| against |v|, exactly. */
static int mag_cmp(const struct dec *u, const struct dec *v)
{
	struct dec x = *u, y = *v;
	if (x.coef < 0)
		x = dec_neg(&x);
	if (y.coef < 0)
		y = dec_neg(&y);
	return dec_cmp(&x, &y);
}

/* The sign of u + v without adding them: the larger magnitude's. */
static int sign2(const struct dec *u, const struct dec *v)
{
	int c = mag_cmp(u, v);
	if (c)
		return c > 0 ? dec_sign(u) : dec_sign(v);
	return dec_sign(u) == dec_sign(v) ? dec_sign(u) : 0;
}

/*
 * The sign of x + y + z, where x + y has more digits than a decimal
 * holds: add z to one of them, then compare.  When neither fits either,
 * the largest term decides: two terms overflow together only when they
 * have one sign, or when the smaller is under a tenth of the larger.
 */
static int sign3(const struct dec *x, const struct dec *y,
		 const struct dec *z)
{
	struct dec u = *x;
	if (dec_add(&u, z) == 0)
		return sign2(&u, y);
	u = *y;
	if (dec_add(&u, z) == 0)
		return sign2(&u, x);
	const struct dec *m = mag_cmp(x, y) >= 0 ? x : y;
	return dec_sign(mag_cmp(m, z) >= 0 ? m : z);
}

static bool sum_agrees(const struct dec *a, const struct dec *b)
{
	if (!opt.have_tolerance)
		return dec_cmp(a, b) == 0;
	struct dec d = *a;
	if (dec_sub(&d, b) == 0) {
		if (d.coef < 0)
			d.coef = -d.coef;
		return dec_cmp(&d, &opt.tolerance) <= 0;
	}
	/* a - b has more digits than a decimal holds (1e30 and 1e-10):
	 * |a - b| <= t is a - b - t <= 0 and b - a - t <= 0, told by
	 * signs.  (It was taken as out of tolerance, whatever t was.) */
	struct dec na = dec_neg(a), nb = dec_neg(b);
	struct dec nt = dec_neg(&opt.tolerance);
	return sign3(a, &nb, &nt) <= 0 && sign3(b, &na, &nt) <= 0;
}

static bool sums_agree(const struct dec *a, const struct dec *b)
{
	for (size_t s = 0; s < opt.nsums; s++)
		if (!sum_agrees(&a[s], &b[s]))
			return false;
	return true;
}

static bool part_match(const struct report_in *in, const struct part *p)
{
	const struct side_stats *s = &p->side[SRC], *t = &p->side[TGT];
	return s->rows == t->rows && fp_eq(s->fp, t->fp) &&
	       sums_agree(s->sum, t->sum) && !p->missing && !p->extra &&
	       !p->changed &&
	       (in->no_keys || (s->keys == t->keys && s->dups == t->dups));
}

/* The answer: every partition and the total match, no record was
 * dead-lettered and no key-hash bucket differs.  The total line's match,
 * the table's TOTAL status and the exit status all say this, so none of
 * them says agree where another line differs (a --by column left out by
 * --ignore, sums within --tolerance per partition but not in total). */
static bool inputs_agree(const struct report_in *in, const struct part *tot)
{
	if (!part_match(in, tot) || in->rejected[SRC] || in->rejected[TGT] ||
	    in->buckets_differ)
		return false;
	for (size_t i = 0; i < in->nparts; i++)
		if (!part_match(in, in->parts[i]))
			return false;
	return true;
}

static void total_of(struct part **parts, size_t n, struct part *tot)
{
	static struct dec sums[2][MAX_SUMS];
	memset(tot, 0, sizeof *tot);
	memset(sums, 0, sizeof sums);
	tot->side[0].sum = sums[0];
	tot->side[1].sum = sums[1];
	for (size_t i = 0; i < n; i++) {
		for (int side = 0; side < 2; side++) {
			struct side_stats *a = &tot->side[side];
			const struct side_stats *b = &parts[i]->side[side];
			a->rows += b->rows;
			a->keys += b->keys;
			a->dups += b->dups;
			a->fp = fp_add(a->fp, b->fp);
			for (size_t s = 0; s < opt.nsums; s++)
				if (dec_add(&a->sum[s], &b->sum[s]) != 0)
					cli_die(EXIT_TROUBLE, "--sum %s: the "
						"total overflows 38 digits",
						opt.sum_src[s]);
		}
		tot->missing += parts[i]->missing;
		tot->extra += parts[i]->extra;
		tot->changed += parts[i]->changed;
	}
}

/* ---- NDJSON ---- */

static void side_json(const struct report_in *in, struct buf *b,
		      const struct side_stats *st, const uint64_t *rejected)
{
	char num[DEC_STRMAX], hex[33];
	buf_adds(b, "{\"rows\":");
	jw_u64(b, st->rows);
	if (!in->no_keys) {
		buf_adds(b, ",\"keys\":");
		jw_u64(b, st->keys);
		buf_adds(b, ",\"duplicate_keys\":");
		jw_u64(b, st->dups);
	}
	if (opt.nsums) {
		buf_adds(b, ",\"sum\":{");
		for (size_t s = 0; s < opt.nsums; s++) {
			jw_key(b, opt.sum_src[s], s == 0);
			buf_add(b, num, dec_format(&st->sum[s], num));
		}
		buf_addc(b, '}');
	}
	value_fp_hex(st->fp, hex);
	buf_adds(b, ",\"fingerprint\":");
	jw_str(b, hex);
	if (rejected) {
		buf_adds(b, ",\"rejected\":");
		jw_u64(b, *rejected);
	}
	buf_addc(b, '}');
}

static void part_json(const struct report_in *in, struct buf *b,
		      const struct part *p, bool total, bool match)
{
	buf_reset(b);
	if (total) {
		buf_adds(b, "{\"total\":true");
		if (opt.bucket >= 0) /* the total of one bucket's keys */
			buf_addf(b, ",\"bucket\":%lld,\"buckets\":%u",
				 opt.bucket, 1u << opt.bucket_bits);
	} else {
		buf_adds(b, "{\"partition\":");
		buf_add(b, p->label, p->label_len);
	}
	bool rej = total && (opt.dlq_path || in->summary_rejects);
	buf_adds(b, ",\"match\":");
	buf_adds(b, match ? "true" : "false");
	buf_adds(b, ",\"source\":");
	side_json(in, b, &p->side[SRC], rej ? &in->rejected[SRC] : NULL);
	buf_adds(b, ",\"target\":");
	side_json(in, b, &p->side[TGT], rej ? &in->rejected[TGT] : NULL);
	if (!in->no_keys) {
		buf_adds(b, ",\"missing\":");
		jw_u64(b, p->missing);
		buf_adds(b, ",\"extra\":");
		jw_u64(b, p->extra);
		buf_adds(b, ",\"changed\":");
		jw_u64(b, p->changed);
	}
	if (total && in->nfields) {
		buf_adds(b, ",\"changed_fields\":{");
		for (size_t i = 0; i < in->nfields; i++) {
			if (i)
				buf_addc(b, ',');
			jw_string(b, in->fields[i].name,
				  in->fields[i].len);
			buf_addc(b, ':');
			jw_u64(b, in->fields[i].keys);
		}
		buf_addc(b, '}');
	}
	buf_addc(b, '}');
	cli_out_line(b->p, b->len);
}

static const char *kind_name[] = {"missing", "extra", "changed"};

static void diff_json(struct buf *b, const struct diff *d,
		      struct part **byidx, bool with_rec)
{
	buf_reset(b);
	buf_adds(b, "{\"diff\":");
	jw_str(b, kind_name[d->kind]);
	if (opt.by_src) {
		buf_adds(b, ",\"partition\":");
		const struct part *p = byidx[d->part];
		buf_add(b, p->label, p->label_len);
	}
	buf_adds(b, ",\"key\":");
	buf_adds(b, d->key_text ? d->key_text : "null");
	if (d->kind == DIFF_CHANGED) {
		buf_adds(b, ",\"source_rows\":");
		jw_u64(b, d->rows[SRC]);
		buf_adds(b, ",\"target_rows\":");
		jw_u64(b, d->rows[TGT]);
		if (d->fields && !opt.keys_only) {
			buf_adds(b, ",\"fields\":");
			buf_adds(b, d->fields);
		}
	}
	if (with_rec) {
		if (d->kind != DIFF_EXTRA) {
			buf_adds(b, ",\"source\":");
			buf_adds(b, d->rec[SRC] ? d->rec[SRC] : "null");
		}
		if (d->kind != DIFF_MISSING) {
			buf_adds(b, ",\"target\":");
			buf_adds(b, d->rec[TGT] ? d->rec[TGT] : "null");
		}
	}
	buf_addc(b, '}');
	cli_out_line(b->p, b->len);
}

/* ---- table ---- */

#define MAXCOLS (8 + MAX_SUMS)

struct row {
	char *cell[MAXCOLS];
};

static struct row *rows;
static size_t nrows, caprows;

static char *fmt_u64(uint64_t v)
{
	char *s = xmalloc(24);
	snprintf(s, 24, "%" PRIu64, v);
	return s;
}

static char *mark(char *s, bool differs)
{
	if (!differs)
		return s;
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n] = '*';
	s[n + 1] = '\0';
	return s;
}

static struct row *new_row(void)
{
	rows = xgrow(rows, &caprows, nrows, sizeof *rows, 16);
	memset(&rows[nrows], 0, sizeof rows[nrows]);
	return &rows[nrows++];
}

static void table_part(const struct report_in *in, const struct part *p,
		       const char *label, bool match)
{
	const struct side_stats *sd[2] = {&p->side[SRC], &p->side[TGT]};
	for (int side = 0; side < 2; side++) {
		struct row *r = new_row();
		const struct side_stats *st = sd[side];
		bool t = side == TGT;
		size_t c = 0;
		r->cell[c++] = xstrdup(side == SRC ? label : "");
		r->cell[c++] = xstrdup(side == SRC ? "source" : "target");
		r->cell[c++] = mark(fmt_u64(st->rows),
				    t && st->rows != sd[0]->rows);
		if (!in->no_keys) {
			r->cell[c++] = mark(fmt_u64(st->keys),
					    t && st->keys != sd[0]->keys);
			r->cell[c++] = mark(fmt_u64(st->dups),
					    t && st->dups != sd[0]->dups);
		}
		for (size_t s = 0; s < opt.nsums; s++) {
			char *num = xmalloc(DEC_STRMAX + 2);
			dec_format(&st->sum[s], num);
			r->cell[c++] = mark(num, t && !sum_agrees(&st->sum[s],
							       &sd[0]->sum[s]));
		}
		char hex[33];
		value_fp_hex(st->fp, hex);
		hex[12] = '\0';
		r->cell[c++] = mark(xstrdup(hex), t && !fp_eq(st->fp, sd[0]->fp));
		if (side == SRC) {
			if (in->no_keys) {
				r->cell[c++] = xstrdup(match ? "ok" : "DIFF");
			} else if (match) {
				r->cell[c++] = xstrdup("ok");
			} else {
				char *s = xmalloc(96);
				snprintf(s, 96, "%" PRIu64 " missing, %" PRIu64
					 " extra, %" PRIu64 " changed",
					 p->missing, p->extra, p->changed);
				r->cell[c++] = s;
			}
		}
	}
}

static size_t ncols(const struct report_in *in)
{
	return 2 + 1 + (in->no_keys ? 0 : 2) + opt.nsums + 1 + 1;
}

static void table_print(const struct report_in *in)
{
	size_t nc = ncols(in), w[MAXCOLS] = {0};
	/* Number columns are right-aligned; an unmarked cell gets a space
	 * where a marked one has its '*', so the digits line up. */
	for (size_t i = 0; i < nrows; i++)
		for (size_t c = 2; c + 1 < nc; c++) {
			char *s = rows[i].cell[c];
			size_t n = s ? strlen(s) : 0;
			if (s && (!n || s[n - 1] != '*')) {
				s = xrealloc(s, n + 2);
				s[n] = ' ';
				s[n + 1] = '\0';
				rows[i].cell[c] = s;
			}
		}
	for (size_t i = 0; i < nrows; i++)
		for (size_t c = 0; c < nc; c++)
			if (rows[i].cell[c] && strlen(rows[i].cell[c]) > w[c])
				w[c] = strlen(rows[i].cell[c]);
	struct buf b = {0};
	for (size_t i = 0; i < nrows; i++) {
		buf_reset(&b);
		for (size_t c = 0; c < nc; c++) {
			const char *s = rows[i].cell[c] ? rows[i].cell[c] : "";
			size_t n = strlen(s);
			bool right = c >= 2 && c + 1 < nc;
			if (c)
				buf_adds(&b, " ");
			if (right)
				for (size_t k = n; k < w[c]; k++)
					buf_addc(&b, ' ');
			buf_adds(&b, s);
			if (!right)
				for (size_t k = n; k < w[c]; k++)
					buf_addc(&b, ' ');
			free(rows[i].cell[c]);
		}
		while (b.len && b.p[b.len - 1] == ' ')
			b.len--;
		cli_out_line(b.p, b.len);
	}
	buf_free(&b);
	free(rows);
	rows = NULL;
	nrows = caprows = 0;
}

/* A C1 control (U+0080 to U+009F, CSI among them: C2 80 to C2 9F in
 * UTF-8) or DEL at p[i], which JSON lets a string hold raw and which
 * drive a terminal as ESC does: its length, or 0. */
static size_t raw_ctl(const char *s, size_t i, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[i] == 0x7f)
		return 1;
	return p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		       p[i + 1] <= 0x9f ? 2 : 0;
}

/* JSON text in a table: each raw DEL or C1 control (in JSON text they
 * are only ever inside a string) as its \u escape, the same value. */
static void table_json(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t c = raw_ctl(s, i, n);
		if (!c) {
			buf_addc(b, s[i++]);
			continue;
		}
		buf_addf(b, "\\u%04x", (unsigned char)s[i + c - 1]);
		i += c;
	}
}

/* A plain string partition reads better without its quotes, but only
 * when bare it cannot be read as another partition: "7" beside 7,
 * "true", "[1]", "TOTAL" beside the total row, "" or " a" (the
 * alignment hides its space) keep them, as one with a control does. */
static bool reads_bare(const char *s, size_t n)
{
	struct scan_error se;
	for (size_t i = 0; i < n; i++)
		if (raw_ctl(s, i, n))
			return false;
	return n && s[0] != ' ' && s[n - 1] != ' ' &&
	       !(n == 5 && memcmp(s, "TOTAL", 5) == 0) &&
	       scan_validate(s, n, &se) != 0;
}

static char *bare_label(const struct part *p)
{
	const char *l = p->label;
	size_t n = p->label_len;
	if (n >= 2 && l[0] == '"' && !memchr(l, '\\', n) &&
	    reads_bare(l + 1, n - 2))
		return xstrndup(l + 1, n - 2);
	struct buf b = {0};
	table_json(&b, l, n);
	buf_addc(&b, '\0');
	return b.p;
}

/* A field's name in a table: as it is, or as a JSON string where bare it
 * would not show as itself on one line: a newline would start a line of
 * its own, a NUL end it, an escape sequence (ESC, or a C1 control such
 * as CSI) drive the terminal. */
static void table_name(struct buf *b, const char *name, size_t len)
{
	bool bare = len > 0;
	for (size_t i = 0; bare && i < len; i++)
		bare = (unsigned char)name[i] >= 0x20 && !raw_ctl(name, i, len);
	if (bare) {
		buf_add(b, name, len);
		return;
	}
	struct buf q = {0};
	jw_string(&q, name, len);
	table_json(b, q.p, q.len);
	buf_free(&q);
}

/* "    amount: 10 -> 12" per field of a changed key's diff ("(absent)"
 * for a side without it). */
static void table_fields(const char *fields, struct buf *b)
{
	struct scan_record r = {0}, f = {0};
	struct scan_error se;
	if (scan_record(&r, fields, strlen(fields), &se) != 0)
		return;
	for (size_t i = 0; i < r.nmembers; i++) {
		const struct scan_member *m = &r.members[i];
		const char *v = fields + m->val;
		if (scan_record(&f, v, m->val_end - m->val, &se) != 0)
			continue;
		const char *side[2] = {"(absent)", "(absent)"};
		int len[2] = {8, 8};
		for (size_t k = 0; k < f.nmembers; k++) {
			const struct scan_member *s = &f.members[k];
			int t = scan_string_equals(v + s->key, s->key_len,
						   "target", 6);
			side[t] = v + s->val;
			len[t] = (int)(s->val_end - s->val);
		}
		char *name = xmalloc(m->key_len + 1);
		size_t nl = scan_string_decode(fields + m->key, m->key_len,
					       name);
		buf_reset(b);
		buf_adds(b, "    ");
		table_name(b, name, nl);
		buf_adds(b, ": ");
		table_json(b, side[0], (size_t)len[0]);
		buf_adds(b, " -> ");
		table_json(b, side[1], (size_t)len[1]);
		free(name);
		cli_out_line(b->p, b->len);
	}
	scan_record_free(&r);
	scan_record_free(&f);
}

static void table_keys(struct diff *diffs, size_t ndiffs, struct part **byidx)
{
	long long limit = opt.show >= 0 ? opt.show : TABLE_KEYS_DEFAULT;
	static const char *title[] = {"missing in target", "extra in target",
				      "changed"};
	struct buf b = {0};
	for (int kind = DIFF_MISSING; kind <= DIFF_CHANGED; kind++) {
		size_t total = 0;
		for (size_t i = 0; i < ndiffs; i++)
			total += diffs[i].kind == (enum diff_kind)kind;
		if (!total)
			continue;
		buf_reset(&b);
		buf_addf(&b, "\n%s: %zu key%s", title[kind], total,
			 total == 1 ? "" : "s");
		if ((long long)total > limit)
			buf_addf(&b, " (first %lld shown)", limit);
		cli_out_line(b.p, b.len);
		long long shown = 0;
		for (size_t i = 0; i < ndiffs && shown < limit; i++) {
			const struct diff *d = &diffs[i];
			if (d->kind != (enum diff_kind)kind)
				continue;
			shown++;
			buf_reset(&b);
			buf_adds(&b, "  ");
			table_json(&b, d->key_text ? d->key_text : "?",
				   strlen(d->key_text ? d->key_text : "?"));
			if (opt.by_src) {
				char *bare = bare_label(byidx[d->part]);
				buf_addf(&b, "  (%s)", bare);
				free(bare);
			}
			if (kind == DIFF_CHANGED &&
			    d->rows[SRC] != d->rows[TGT])
				buf_addf(&b, "  rows %u -> %u", d->rows[SRC],
					 d->rows[TGT]);
			cli_out_line(b.p, b.len);
			if (kind == DIFF_CHANGED && d->fields)
				table_fields(d->fields, &b);
			for (int side = 0; opt.show > 0 && side < 2; side++) {
				if (!d->rec[side])
					continue;
				buf_reset(&b);
				buf_adds(&b, side == SRC ? "    source: "
							 : "    target: ");
				table_json(&b, d->rec[side],
					   strlen(d->rec[side]));
				cli_out_line(b.p, b.len);
			}
		}
	}
	buf_free(&b);
}

static void table_header(const struct report_in *in)
{
	struct row *r = new_row();
	size_t c = 0;
	r->cell[c++] = xstrdup(opt.by_src ? "PARTITION" : "");
	r->cell[c++] = xstrdup("SIDE");
	r->cell[c++] = xstrdup("ROWS");
	if (!in->no_keys) {
		r->cell[c++] = xstrdup("KEYS");
		r->cell[c++] = xstrdup("DUP KEYS");
	}
	for (size_t s = 0; s < opt.nsums; s++) {
		size_t n = strlen(opt.sum_src[s]) + 5;
		char *h = xmalloc(n);
		snprintf(h, n, "SUM %s", opt.sum_src[s]);
		r->cell[c++] = h;
	}
	r->cell[c++] = xstrdup("FINGERPRINT");
	r->cell[c++] = xstrdup("STATUS");
}

bool report_is_table(void)
{
	return opt.format == FMT_TABLE ||
	       (opt.format == FMT_AUTO && isatty(STDOUT_FILENO));
}

bool report(const struct report_in *in)
{
	struct part **parts = in->parts, **byidx = in->byidx;
	size_t nparts = in->nparts, ndiffs = in->ndiffs;
	struct diff *diffs = in->diffs;
	struct part tot;
	struct buf b = {0};
	total_of(parts, nparts, &tot);
	bool agree = inputs_agree(in, &tot);
	if (in->nfields > 1)
		qsort(in->fields, in->nfields, sizeof *in->fields,
		      field_cmp);
	bool table = report_is_table();
	if (opt.keys_only) {
		for (size_t i = 0; i < ndiffs; i++)
			diff_json(&b, &diffs[i], byidx, false);
		buf_free(&b);
		/* exit 1 with no key listed says why */
		if (!agree && !ndiffs && (in->rejected[SRC] || in->rejected[TGT]))
			cli_warn("no key differs, but %" PRIu64 " source and %"
				 PRIu64 " target records were rejected: the "
				 "inputs do not agree (exit 1)",
				 in->rejected[SRC], in->rejected[TGT]);
		else if (!agree && !ndiffs)
			cli_warn("no key differs, but %s: the inputs do not "
				 "agree (exit 1); the report without "
				 "--keys-only shows where",
				 in->buckets_differ ? "the buckets do"
						    : "the partitions, sums or "
						      "row counts do");
		return agree;
	}
	if (!table) {
		if (opt.by_src)
			for (size_t i = 0; i < nparts; i++)
				part_json(in, &b, parts[i], false,
					  part_match(in, parts[i]));
		part_json(in, &b, &tot, true, agree);
		long long shown[3] = {0, 0, 0};
		for (size_t i = 0; i < ndiffs; i++) {
			bool rec = opt.show > 0 &&
				   shown[diffs[i].kind]++ < opt.show;
			diff_json(&b, &diffs[i], byidx, rec);
		}
		buf_free(&b);
		return agree;
	}
	table_header(in);
	for (size_t i = 0; opt.by_src && i < nparts; i++) {
		char *bare = bare_label(parts[i]);
		table_part(in, parts[i], bare, part_match(in, parts[i]));
		free(bare);
	}
	table_part(in, &tot, "TOTAL", agree);
	table_print(in);
	if (opt.bucket >= 0) {
		buf_reset(&b);
		buf_addf(&b, "\nonly the keys of bucket %lld of %u (--bucket): "
			 "the others were not compared", opt.bucket,
			 1u << opt.bucket_bits);
		cli_out_line(b.p, b.len);
	}
	if (in->nfields) {
		buf_reset(&b);
		buf_adds(&b, "\nchanged fields (keys):");
		for (size_t i = 0; i < in->nfields; i++) {
			buf_adds(&b, i ? ", " : " ");
			table_name(&b, in->fields[i].name, in->fields[i].len);
			buf_addf(&b, " %" PRIu64, in->fields[i].keys);
		}
		cli_out_line(b.p, b.len);
	}
	if ((opt.dlq_path || in->summary_rejects) &&
	    (in->rejected[SRC] || in->rejected[TGT])) {
		buf_reset(&b);
		buf_addf(&b, "\nrejected (%s%s): source %" PRIu64
			 ", target %" PRIu64,
			 opt.dlq_path ? "see " : "dead-lettered when summarized",
			 opt.dlq_path ? opt.dlq_path : "",
			 in->rejected[SRC], in->rejected[TGT]);
		cli_out_line(b.p, b.len);
	}
	table_keys(diffs, ndiffs, byidx);
	buf_free(&b);
	return agree;
}
