/*
 * Data files and predicates.
 *
 * A write opens one file per partition (col=value/ folders), as a commit
 * temp file, so a reader never sees a half-written data file under its
 * final name.  While records stream through, each file keeps per-column
 * statistics (min, max and non-null count of top-level numbers and
 * strings) for the add action's stats, and when it is sealed its XXH3-128
 * checksum goes into the add's tags ("idem.xxh3_128") for verify, with
 * its uncompressed size ("idem.rawSize"), which optimize sizes files by.
 * optimize writes struct dfile directly (one file at a time, rolled at
 * --target-size) and may merge input files' statistics instead of
 * parsing every record again.
 */
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "commit.h"
#include "decimal.h"
#include "expr.h"
#include "jsonw.h"
#include "lines.h"
#include "par.h"
#include "timefmt.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"
#include "zio.h"

#define STAT_MAX_LEN 128 /* longer strings get no min/max */
/* raw bytes the open files of a write may hold before their frames are
 * cut: 64 MiB (txlog(1), Data files) */
static size_t txlog_buffered_max = 64u << 20;

/* What stat_cmp needs to know of a bound, found once per value. */
struct vshape {
	enum { SHAPE_OTHER, SHAPE_STRING, SHAPE_UTC, SHAPE_NUMBER } kind;
	size_t intlen; /* SHAPE_NUMBER: integer digits */
};

struct colstat {
	char *name;
	size_t name_len;
	enum value_order ord; /* by the schema: timestamps are instants */
	bool ntz;             /* a timestamp_ntz: its bounds have no zone */
	struct buf min, max;
	struct vshape min_shape, max_shape;
	uint64_t nonnull;
	bool unbounded; /* saw a value too long or not primitive */
	bool nested;    /* saw an object: a struct column */
};

/* The statistics of records: a data file's, or a chunk's on the thread
 * that parsed it (dstats_merge adds those to the file's). */
struct dstats {
	const struct ds_type *schema; /* types of the columns, or NULL */
	struct colstat *cols;
	size_t ncols;
	/* dstats_track's memo: the column of member i of the record before
	 * and the raw name literal it was found by (a record shaped like
	 * the one before finds each column by one memcmp) */
	struct trackmemo {
		size_t col;
		struct buf lit;
	} *memo;
	size_t nmemo;
};

/* One data file being written: a commit temp file until it is sealed. */
struct dfile {
	const char *table;
	const struct ds_type *schema; /* types of the columns, or NULL */
	char *const *part;
	size_t npart;
	char *rel;    /* relative path, decoded */
	char **pvals; /* partition values (NULL: null) */
	struct commit_file cf;
	struct zout *z;
	char sum[33];   /* when closed: XXH3-128 of the bytes on disk */
	int64_t size;
	uint64_t nrec, raw; /* records and uncompressed bytes written */
	struct dstats st;
};

struct dws {
	const char *table;
	const struct ds_type *schema;
	char *const *part;
	size_t npart;
	int level;
	struct dfile **files;
	char **keys; /* partition values joined, per file */
	size_t *keylens;
	size_t nfiles;
	/* file index + 1 by a hash of its key, open addressing (a record
	 * finds its partition's file in O(1), not by comparing with every
	 * open one: 16k partitions took 21 s) */
	uint32_t *idx;
	size_t icap;
	struct buf scratch;
	struct dws *next; /* in live_dws */
};

/* The writers open now: txlog_fail aborts them all, so a verb that dies
 * leaves no temp file and no allocation behind, whichever writer (an
 * update holds two) it was filling. */
static struct dws *live_dws;

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct ds_type *col_type(const struct ds_type *schema,
				      const char *col)
{
	struct ds_field *f = schema ? ds_field(schema, col, strlen(col)) : NULL;
	return f ? f->type : NULL;
}

static bool is_time_type(const struct ds_type *t)
{
	return t && (t->kind == DT_TIMESTAMP || t->kind == DT_TIMESTAMP_NTZ);
}

enum value_order txlog_order(const struct ds_type *schema, const char *col)
{
	return is_time_type(col_type(schema, col)) ? VALUE_ORDER_INSTANT
						   : VALUE_ORDER_JSON;
}

int txlog_part_instant(const char *v, struct instant *t)
{
	bool zoned;
	const char *why;
	size_t n = strlen(v);
	/* Delta's own form has no zone and means UTC; the ISO 8601 form
	 * the protocol also allows carries its zone.  Seconds are due. */
	if (n < 19 || time_parse_loose(v, n, t, &zoned, &why) != 0)
		return -1;
	return 0;
}

int txlog_threads(void)
{
	return opt.threads > 0 ? opt.threads : par_default_threads();
}

struct zpool *txlog_pool(void)
{
	static struct zpool *pool;
	if (!pool) {
		/* -j 1: compressed on the calling thread; -j N: on N
		 * threads while the calling thread parses */
		int n = txlog_threads();
		pool = zpool_new(n > 1 ? n : 0);
		/* tests: many frames from a little data (idem(7)) */
		const char *fs = getenv("IDEM_ZIO_FRAME");
		if (fs && *fs) {
			char *end;
			unsigned long long v = strtoull(fs, &end, 10);
			if (*end == '\0' && v >= 1 && v <= ZIO_FRAME) {
				zpool_set_frame(pool, (size_t)v);
				txlog_buffered_max = 16 * (size_t)v;
			}
		}
	}
	return pool;
}

unsigned txlog_next_part(void)
{
	static unsigned next;
	return next++;
}

struct dws *dws_new(const char *table, const struct ds_type *schema,
		    char *const *part, size_t npart, int level)
{
	/* a table another writer (or an older txlog) partitioned by a
	 * binary column: the partition values written would be base64
	 * text, which readers take for the bytes themselves */
	for (size_t i = 0; i < npart; i++) {
		const struct ds_type *t = col_type(schema, part[i]);
		if (t && t->kind == DT_BINARY)
			cli_die(EXIT_TROUBLE, "%s: partition column %s is "
				"binary: PROTOCOL.md's partition value is its "
				"bytes, and txlog holds binary as base64 text; "
				"refusing to write", table, part[i]);
	}
	struct dws *w = xcalloc(1, sizeof *w);
	w->table = table;
	w->schema = schema;
	w->part = part;
	w->npart = npart;
	w->level = level;
	w->next = live_dws;
	live_dws = w;
	return w;
}

/* w out of live_dws and freed with its keys; its files are the
 * caller's (published, aborted or freed already). */
static void dws_free(struct dws *w)
{
	struct dws **pp = &live_dws;
	while (*pp != w)
		pp = &(*pp)->next;
	*pp = w->next;
	for (size_t i = 0; i < w->nfiles; i++)
		free(w->keys[i]);
	free(w->files);
	free(w->keys);
	free(w->keylens);
	free(w->idx);
	buf_free(&w->scratch);
	free(w);
}

/* Folders made for data files, whose parents are fsynced once before
 * the files are published (not once a partition: 16k partitions made
 * 16k fsyncs of the table's folder). */
static struct {
	char **p;
	size_t n;
} made;

static void sync_made_dirs(bool skip)
{
	if (!made.n)
		return;
	qsort(made.p, made.n, sizeof *made.p, cmp_cstr);
	for (size_t i = 0; i < made.n && !skip; i++) {
		char err[512];
		/* made[i]'s name lives in its parent */
		if ((i == 0 || strcmp(made.p[i], made.p[i - 1]) != 0) &&
		    commit_sync_dir(made.p[i], err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
	}
	for (size_t i = 0; i < made.n; i++)
		free(made.p[i]);
	free(made.p);
	made.p = NULL;
	made.n = 0;
}

static void mkdirs(const char *table, const char *rel)
{
	struct buf b = {0};
	buf_adds(&b, table);
	buf_addc(&b, '/');
	size_t base = b.len;
	buf_adds(&b, rel);
	for (size_t i = base; i < b.len; i++) {
		if (b.p[i] != '/')
			continue;
		b.p[i] = '\0';
		if (mkdir(b.p, 0777) == 0) {
			made.p = xreallocarray(made.p, made.n + 1,
					       sizeof *made.p);
			made.p[made.n++] = xstrdup(b.p);
		} else if (errno != EEXIST) {
			cli_die(EXIT_TROUBLE, "%s: %s", b.p, strerror(errno));
		}
		b.p[i] = '/';
	}
	buf_free(&b);
}

struct dfile *dfile_open(const char *table, const struct ds_type *schema,
			 char *const *part, size_t npart, char **pvals,
			 unsigned seq, int level)
{
	struct dfile *f = xcalloc(1, sizeof *f);
	f->table = table;
	f->schema = schema;
	f->st.schema = schema;
	f->part = part;
	f->npart = npart;
	f->pvals = pvals;
	struct buf rel = {0};
	for (size_t i = 0; i < npart; i++) {
		/* the column's name is escaped as its value is (Hive's
		 * col=value, as Spark writes it): a column "../x" made a
		 * folder outside the table, "a/b" one folder too many */
		dl_part_escape(&rel, part[i]);
		buf_addc(&rel, '=');
		dl_part_escape(&rel, pvals[i]);
		buf_addc(&rel, '/');
	}
	char uuid[37];
	dl_uuid(uuid);
	buf_addf(&rel, "part-%05u-%s.c000.ndjson.zst", seq, uuid);
	f->rel = rel.p;
	mkdirs(table, f->rel);
	struct buf full = {0};
	buf_addf(&full, "%s/%s", table, f->rel);
	char err[512];
	if (commit_open(&f->cf, full.p, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	buf_free(&full);
	f->z = zout_open_pool(f->cf.fd, level, txlog_pool());
	zout_start_writeback(f->z); /* it is committed with an fsync */
	return f;
}

static struct colstat *col_of(struct dstats *f, const char *k, size_t kn,
			      bool literal)
{
	for (size_t i = 0; i < f->ncols; i++) {
		const char *name = f->cols[i].name;
		size_t nl = f->cols[i].name_len;
		if (literal ? scan_string_equals(k, kn, name, nl)
			    : (nl == kn && memcmp(name, k, kn) == 0))
			return &f->cols[i];
	}
	f->cols = xreallocarray(f->cols, f->ncols + 1, sizeof *f->cols);
	struct colstat *c = &f->cols[f->ncols++];
	memset(c, 0, sizeof *c);
	c->name = literal ? scan_strdup_lit(k, kn) : xstrndup(k, kn);
	c->name_len = strlen(c->name);
	c->ord = txlog_order(f->schema, c->name);
	const struct ds_type *ty = col_type(f->schema, c->name);
	c->ntz = ty && ty->kind == DT_TIMESTAMP_NTZ;
	/* a binary's value is base64 text here, but the bytes to Delta
	 * (whose writers keep no min/max of binary): its bounds would
	 * be in neither one's order */
	c->unbounded = ty && ty->kind == DT_BINARY;
	return c;
}

/* An RFC 3339 time in UTC with the zone Z, as most writers spell it:
 * YYYY-MM-DDTHH:MM:SS[.f+]Z, no escape. */
static bool utc_text(const char *p, size_t n)
{
	if (n < 22 || p[n - 2] != 'Z' || p[5] != '-' || p[8] != '-' ||
	    p[11] != 'T' || p[14] != ':' || p[17] != ':')
		return false;
	return n == 22 || p[20] == '.';
}

/* A number literal with no exponent and no minus zero: [-]int[.frac]. */
static bool plain_number(const char *p, size_t n, size_t *intlen)
{
	size_t i = p[0] == '-';
	size_t s = i;
	bool nonzero = false;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		nonzero |= p[i++] != '0';
	*intlen = i - s;
	if (i < n && p[i] == '.')
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			nonzero |= p[i] != '0';
	return i == n && (nonzero || p[0] != '-');
}

static void shape_of(const char *v, size_t vn, struct vshape *s)
{
	s->kind = SHAPE_OTHER;
	if (v[0] == '"') {
		if (!memchr(v + 1, '\\', vn - 2))
			s->kind = utc_text(v, vn) ? SHAPE_UTC : SHAPE_STRING;
	} else if ((v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) &&
		   plain_number(v, vn, &s->intlen)) {
		s->kind = SHAPE_NUMBER;
	}
}

/*
 * value_compare_as(o, a, b) on the scanned bytes where they tell: two
 * strings without escapes compare as their bytes (the decoded text's
 * UTF-8 order is its byte order); two UTC times of one shape (same
 * length, zone Z: fixed-width fields) compare as their bytes too, which
 * is their order as instants (a timestamp column's values were checked
 * as times); two plain numbers by sign, integer digits, then digits.
 * Anything else takes the exact typed compare.
 */
static int stat_cmp(enum value_order o, const char *a, size_t an,
		    const struct vshape *sa, const char *b, size_t bn,
		    const struct vshape *sb)
{
	if (sa->kind >= SHAPE_STRING && sa->kind <= SHAPE_UTC &&
	    sb->kind >= SHAPE_STRING && sb->kind <= SHAPE_UTC &&
	    (o != VALUE_ORDER_INSTANT ||
	     (an == bn && sa->kind == SHAPE_UTC && sb->kind == SHAPE_UTC))) {
		size_t m = an < bn ? an : bn;
		int c = mem_order(a + 1, b + 1, m - 2);
		if (c)
			return c;
		return an == bn ? 0 : an < bn ? -1 : 1;
	}
	if (sa->kind == SHAPE_NUMBER && sb->kind == SHAPE_NUMBER) {
		size_t ai = sa->intlen, bi = sb->intlen;
		bool na = a[0] == '-', nb = b[0] == '-';
		if (na != nb)
			return na ? -1 : 1; /* no minus zero here */
		int sign = na ? -1 : 1, c = 0;
		/* a leading zero is only "0" itself: more integer digits is
		 * a larger magnitude */
		if (ai != bi) {
			c = ai < bi ? -1 : 1;
		} else {
			/* the same integer width: byte order, the shorter
			 * fraction padded with zeros */
			size_t m = an > bn ? an : bn;
			for (size_t i = na; i < m && !c; i++) {
				char x = i < an ? a[i] : '0';
				char y = i < bn ? b[i] : '0';
				if (x == '.' || y == '.')
					x = y = '.'; /* a missing point */
				c = (x > y) - (x < y);
			}
		}
		return sign * c;
	}
	return value_compare_as(o, a, an, b, bn);
}

/* b = v[0..vn): a bound replaced, as ids and times do on most records,
 * without a call while it fits */
static void bound_set(struct buf *b, const char *v, size_t vn)
{
	if (vn < b->cap) {
		memcpy(b->p, v, vn);
		b->p[vn] = '\0';
		b->len = vn;
		return;
	}
	b->len = 0;
	buf_add(b, v, vn);
}

static void col_bound(struct colstat *c, const char *v, size_t vn)
{
	struct vshape sv;
	shape_of(v, vn, &sv);
	/* min <= max once set: a new max is no new min (a column that
	 * grows, as ids and times do, takes one compare a value) */
	bool first = !c->min.len;
	if (first || stat_cmp(c->ord, v, vn, &sv, c->max.p, c->max.len,
			      &c->max_shape) > 0) {
		bound_set(&c->max, v, vn);
		c->max_shape = sv;
		if (!first)
			return;
	}
	if (first || stat_cmp(c->ord, v, vn, &sv, c->min.p, c->min.len,
			      &c->min_shape) < 0) {
		bound_set(&c->min, v, vn);
		c->min_shape = sv;
	}
}

void dstats_track(struct dstats *f, const struct scan_record *r)
{
	if (f->nmemo < r->nmembers) {
		f->memo = xreallocarray(f->memo, r->nmembers, sizeof *f->memo);
		memset(f->memo + f->nmemo, 0,
		       (r->nmembers - f->nmemo) * sizeof *f->memo);
		f->nmemo = r->nmembers;
	}
	for (size_t m = 0; m < r->nmembers; m++) {
		const struct scan_member *mb = &r->members[m];
		const char *k = r->p + mb->key;
		const char *v = r->p + mb->val;
		if (v[0] == 'n')
			continue;
		struct trackmemo *tm = &f->memo[m];
		struct colstat *c;
		if (buf_is(&tm->lit, k, mb->key_len)) {
			c = &f->cols[tm->col];
		} else {
			c = col_of(f, k, mb->key_len, true);
			tm->col = (size_t)(c - f->cols);
			tm->lit.len = 0;
			buf_add(&tm->lit, k, mb->key_len);
		}
		c->nonnull++;
		if (c->unbounded)
			continue;
		size_t vn = mb->val_end - mb->val;
		if (vn > STAT_MAX_LEN || v[0] == '{' || v[0] == '[' ||
		    v[0] == 't' || v[0] == 'f') {
			c->nested |= v[0] == '{';
			c->unbounded = true;
			continue;
		}
		col_bound(c, v, vn);
	}
}

void dfile_track(struct dfile *f, const struct scan_record *r)
{
	dstats_track(&f->st, r);
}

struct dstats *dstats_new(const struct ds_type *schema)
{
	struct dstats *s = xcalloc(1, sizeof *s);
	s->schema = schema;
	return s;
}

static void dstats_free_cols(struct dstats *s)
{
	for (size_t c = 0; c < s->ncols; c++) {
		free(s->cols[c].name);
		buf_free(&s->cols[c].min);
		buf_free(&s->cols[c].max);
	}
	free(s->cols);
	s->cols = NULL;
	s->ncols = 0;
}

void dstats_reset(struct dstats *s)
{
	dstats_free_cols(s);
	for (size_t m = 0; m < s->nmemo; m++)
		s->memo[m].lit.len = 0; /* its column is gone */
}

/* Everything s holds (s itself is its owner's). */
static void dstats_clear(struct dstats *s)
{
	dstats_free_cols(s);
	for (size_t m = 0; m < s->nmemo; m++)
		buf_free(&s->memo[m].lit);
	free(s->memo);
}

void dstats_free(struct dstats *s)
{
	if (!s)
		return;
	dstats_clear(s);
	free(s);
}

/*
 * into's columns as if from's records had gone through dstats_track
 * after into's own (both with one schema).  A column's bounds are the
 * first of its least and greatest values, and merging from's (its first
 * least, its first greatest) keeps exactly those: a tie keeps the
 * earlier.  A column not yet unbounded takes from's first reason to be
 * (a struct's object, or a long or boolean value): its nested flag is
 * the first reason's, as one pass sets it.
 */
static void dstats_merge(struct dstats *into, const struct dstats *from)
{
	for (size_t i = 0; i < from->ncols; i++) {
		const struct colstat *fc = &from->cols[i];
		struct colstat *c = col_of(into, fc->name, fc->name_len,
					   false);
		c->nonnull += fc->nonnull;
		if (c->unbounded)
			continue;
		if (fc->min.len) {
			col_bound(c, fc->min.p, fc->min.len);
			col_bound(c, fc->max.p, fc->max.len);
		}
		if (fc->unbounded) {
			c->unbounded = true;
			c->nested = fc->nested;
		}
	}
}

void dfile_add_chunk(struct dfile *f, const void *frames, size_t n,
		     uint64_t raw, uint64_t records, const struct dstats *st)
{
	char e[512];
	if (zout_write_frames(f->z, frames, n, e, sizeof e) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", f->cf.path, e);
	f->nrec += records;
	f->raw += raw;
	dstats_merge(&f->st, st);
}

void dfile_write(struct dfile *f, const char *p, size_t n)
{
	char e[512];
	if (zout_write(f->z, p, n, e, sizeof e) != 0 ||
	    zout_write(f->z, "\n", 1, e, sizeof e) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", f->cf.path, e);
	f->nrec++;
	f->raw += n + 1;
}

void dfile_write_raw(struct dfile *f, const char *p, size_t n,
		     uint64_t records)
{
	char e[512];
	if (zout_write(f->z, p, n, e, sizeof e) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", f->cf.path, e);
	f->nrec += records;
	f->raw += n;
}

uint64_t dfile_raw_bytes(const struct dfile *f)
{
	return f->raw;
}

bool dfile_stats_mergeable(const struct dl_file *in)
{
	const char *st = dl_file_stats(in);
	const char *v;
	size_t vn;
	if (!st || !scan_get(in->action, in->action_len, "tags", &v, &vn) ||
	    !scan_get(v, vn, "idem.xxh3_128", &v, &vn))
		return false;
	size_t sn = strlen(st);
	int64_t nrec;
	return scan_get_i64(st, sn, "numRecords", &nrec) && nrec >= 0 &&
	       scan_get(st, sn, "nullCount", &v, &vn) && v[0] == '{';
}

/* As if each record of `in` had gone through dfile_track: the stats
 * txlog wrote list every top-level member seen in nullCount (in order of
 * first appearance), and bound the column in min/maxValues unless a
 * value was too long or not a scalar. */
void dfile_merge_stats(struct dfile *f, const struct dl_file *in)
{
	const char *st = dl_file_stats(in);
	size_t sn = strlen(st);
	int64_t nrec = 0;
	scan_get_i64(st, sn, "numRecords", &nrec);
	const char *nc, *mins = "{}", *maxs = "{}";
	size_t ncn, minsn = 2, maxsn = 2;
	scan_get(st, sn, "nullCount", &nc, &ncn);
	scan_get(st, sn, "minValues", &mins, &minsn);
	scan_get(st, sn, "maxValues", &maxs, &maxsn);
	struct scan_obj o;
	const char *k, *v;
	size_t kn, vn;
	struct buf bmin = {0}, bmax = {0};
	scan_obj_begin(&o, nc, ncn);
	while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
		char *name = scan_strdup_lit(k, kn);
		int64_t nulls = 0;
		scan_get_i64(nc, ncn, name, &nulls);
		uint64_t nonnull = nrec > nulls ? (uint64_t)(nrec - nulls) : 0;
		if (!nonnull) {
			free(name);
			continue; /* a column all null here: not seen */
		}
		struct colstat *c = col_of(&f->st, name, strlen(name), false);
		c->nonnull += nonnull;
		const char *mn, *mx;
		size_t mnn, mxn;
		/* read as --where reads them: a timestamp_ntz's bound has
		 * no zone (txlog before wrote one with Z), and col_bound
		 * compares instants */
		if (!scan_get(mins, minsn, name, &mn, &mnn) ||
		    !scan_get(maxs, maxsn, name, &mx, &mxn) ||
		    !txlog_bound_read(c->ord, c->ntz, &mn, &mnn, &bmin) ||
		    !txlog_bound_read(c->ord, c->ntz, &mx, &mxn, &bmax))
			c->unbounded = true;
		if (!c->unbounded) {
			col_bound(c, mn, mnn);
			col_bound(c, mx, mxn);
		}
		free(name);
	}
	buf_free(&bmin);
	buf_free(&bmax);
}

/*
 * A bound as the stats say it.  A timestamp's is Delta's UTC form with
 * milliseconds ("2024-01-01T08:00:00.000Z"), truncated as Delta writers
 * truncate it: the min stays a lower bound, and a max that is a whole
 * millisecond is read as covering it (txlog_bound_cmp; Delta readers do
 * the same), so 9999-12-31T23:59:59.9999Z needs no year 10000.  A
 * timestamp_ntz's is its wall-clock time without a zone, as Delta writes
 * it ("2024-01-01T08:00:00.000"): with Z, a reader that takes the zone
 * at its word would shift it by its own offset.
 */
static void put_bound(struct buf *st, const struct colstat *c,
		      const struct buf *v)
{
	struct instant t;
	const char *why;
	if (c->ord == VALUE_ORDER_INSTANT &&
	    time_instant_from_json(v->p, v->len, &t, &why) == 0) {
		char tb[TIME_STRMAX];
		time_instant_trunc(&t, 1000000, false);
		size_t n = time_format_instant(&t, TIME_STYLE_MILLIS, tb);
		if (c->ntz)
			n--; /* the Z */
		jw_string(st, tb, n);
		return;
	}
	buf_add(st, v->p, v->len);
}

/* The add's stats JSON from the tracked columns. */
static void stats_json(const struct dfile *f, struct buf *st)
{
	buf_addf(st, "{\"numRecords\":%llu,\"minValues\":{",
		 (unsigned long long)f->nrec);
	int first = 1;
	for (size_t c = 0; c < f->st.ncols; c++) {
		if (f->st.cols[c].unbounded || !f->st.cols[c].min.len)
			continue;
		jw_key(st, f->st.cols[c].name, first);
		put_bound(st, &f->st.cols[c], &f->st.cols[c].min);
		first = 0;
	}
	buf_adds(st, "},\"maxValues\":{");
	first = 1;
	for (size_t c = 0; c < f->st.ncols; c++) {
		if (f->st.cols[c].unbounded || !f->st.cols[c].max.len)
			continue;
		jw_key(st, f->st.cols[c].name, first);
		put_bound(st, &f->st.cols[c], &f->st.cols[c].max);
		first = 0;
	}
	buf_adds(st, "},\"nullCount\":{");
	first = 1;
	for (size_t c = 0; c < f->st.ncols; c++) {
		/* a struct column's nullCount is a nested object of its
		 * fields' counts ("mirroring the schema"), never a number:
		 * it is left out (statistics are optional per column) */
		if (f->st.cols[c].nested)
			continue;
		jw_key(st, f->st.cols[c].name, first);
		buf_add_u64(st, f->nrec - f->st.cols[c].nonnull);
		first = 0;
	}
	buf_adds(st, "}}");
}

void dfile_stats(const struct dfile *f, struct buf *out)
{
	stats_json(f, out);
}

static void dfile_free(struct dfile *f)
{
	dstats_clear(&f->st);
	for (size_t k = 0; k < f->npart; k++)
		free(f->pvals[k]);
	free(f->pvals);
	free(f->rel);
	free(f);
}

/* The file's frames all written; its checksum and size, of the bytes on
 * disk (the temp read back). */
static void dfile_close_data(struct dfile *f)
{
	char err[512];
	if (zout_close(f->z, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", f->cf.path, err);
	f->z = NULL;
	if (!file_xxh3(f->cf.tmp, f->sum, &f->size))
		cli_die(EXIT_TROUBLE, "%s: %s", f->cf.tmp, strerror(errno));
}

/* The add action of a published f; f freed. */
static void dfile_add(struct dfile *f, bool data_change,
		      const char *extra_tags, struct buf *actions,
		      char ***written, size_t *nwritten, uint64_t *records,
		      uint64_t *bytes)
{
	*written = xreallocarray(*written, *nwritten + 1, sizeof(char *));
	(*written)[(*nwritten)++] = xstrdup(f->rel);
	*records += f->nrec;
	*bytes += (uint64_t)f->size;

	struct buf st = {0};
	stats_json(f, &st);
	buf_adds(actions, "{\"add\":{\"path\":");
	struct buf enc = {0};
	dl_path_encode(&enc, f->rel);
	jw_string(actions, enc.p, enc.len);
	buf_free(&enc);
	buf_adds(actions, ",\"partitionValues\":{");
	for (size_t k = 0; k < f->npart; k++) {
		jw_key(actions, f->part[k], k == 0);
		if (f->pvals[k])
			jw_str(actions, f->pvals[k]);
		else
			buf_adds(actions, "null");
	}
	buf_addf(actions, "},\"size\":%lld,\"modificationTime\":%lld,"
		 "\"dataChange\":%s,\"stats\":", (long long)f->size,
		 (long long)(time_now() / 1000000),
		 data_change ? "true" : "false");
	jw_string(actions, st.p, st.len);
	buf_addf(actions, ",\"tags\":{\"idem.xxh3_128\":\"%s\","
		 "\"idem.rawSize\":\"%llu\"%s}}}\n", f->sum,
		 (unsigned long long)f->raw, extra_tags ? extra_tags : "");
	buf_free(&st);
	dfile_free(f);
}

void dfile_seal(struct dfile *f, bool data_change, const char *extra_tags,
		struct buf *actions, char ***written, size_t *nwritten,
		uint64_t *records, uint64_t *bytes)
{
	char err[512];
	dfile_close_data(f);
	sync_made_dirs(false);
	int rc = commit_finish_new(&f->cf, err, sizeof err);
	if (rc != 0)
		cli_die(EXIT_TROUBLE, "%s",
			rc > 0 ? "data file name collision" : err);
	dfile_add(f, data_change, extra_tags, actions, written, nwritten,
		  records, bytes);
}

void dfile_abort(struct dfile *f)
{
	char err[64];
	if (f->z)
		zout_close(f->z, err, sizeof err);
	f->z = NULL;
	commit_abort(&f->cf);
	dfile_free(f);
}

/* A number partition value in one spelling per value: 1, 1.0 and 10e-1
 * are one partition "1", -0 is "0".  Past a decimal's 38 digits the
 * text stays as written (such a value is rarely a partition key). */
static char *number_text(const char *v, size_t vn)
{
	struct dec d;
	if (dec_parse(v, vn, &d) != 0)
		return xstrndup(v, vn);
	d = dec_normalize(d);
	char b[DEC_STRMAX];
	size_t n = dec_format(&d, b);
	return xstrndup(b, n);
}

/* A float or double column's partition value: the value is the binary
 * number the column holds, so two spellings of one double (0.1 and
 * 0.1000000000000000055511151231257827) are one partition.  Its
 * shortest spelling that reads back as it, then in number_text's one
 * spelling.  The schema has checked that it fits the type. */
static char *binary_number_text(const char *v, size_t vn, bool is_float)
{
	char in[512], b[64];
	if (vn >= sizeof in)
		return number_text(v, vn);
	memcpy(in, v, vn);
	in[vn] = '\0';
	double x = is_float ? (double)strtof(in, NULL) : strtod(in, NULL);
	if (x == 0 || !isfinite(x))
		return number_text(v, vn);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof b, "%.*g", prec, x);
		double y = is_float ? (double)strtof(b, NULL) : strtod(b, NULL);
		if (y == x)
			return number_text(b, strlen(b));
	}
	return number_text(v, vn);
}

/* Does the JSON string literal p[0..n) decode to text with a NUL? */
static bool has_nul(const char *p, size_t n)
{
	char *d = xmalloc(n);
	size_t l = scan_string_decode(p, n, d);
	bool nul = memchr(d, '\0', l) != NULL;
	free(d);
	return nul;
}

bool txlog_part_key(const struct dl_snapshot *s, const struct dl_file *f,
		    struct buf *key)
{
	const char *pv = "{}", *lit;
	size_t pvn = 2, litn;
	bool nul = false;
	key->len = 0;
	scan_get(f->action, f->action_len, "partitionValues", &pv, &pvn);
	for (size_t i = 0; i < s->npart; i++) {
		if (scan_get(pv, pvn, s->part_cols[i], &lit, &litn) &&
		    lit[0] == '"') {
			buf_add(key, lit, litn);
			nul |= memchr(lit, '\\', litn) && has_nul(lit, litn);
		} else {
			buf_adds(key, "null");
		}
		buf_addc(key, '\0');
	}
	return nul;
}

/* The slot of key in w->idx: its file's, or the empty one to take. */
static size_t dws_slot(const struct dws *w, const char *key, size_t len)
{
	if (!w->icap)
		return 0;
	size_t mask = w->icap - 1;
	size_t i = (size_t)XXH3_64bits(key, len) & mask;
	for (; w->idx[i]; i = (i + 1) & mask) {
		size_t f = w->idx[i] - 1;
		if (w->keylens[f] == len &&
		    (!len || memcmp(w->keys[f], key, len) == 0))
			break;
	}
	return i;
}

/* File fi (keys[fi] set) enters the index; the index doubles at 1/2. */
static void dws_index(struct dws *w, size_t fi)
{
	if ((fi + 1) * 2 > w->icap) {
		uint32_t *old = w->idx;
		size_t ocap = w->icap;
		w->icap = ocap ? ocap * 2 : 64;
		w->idx = xcalloc(w->icap, sizeof *w->idx);
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				w->idx[dws_slot(w, w->keys[old[i] - 1],
						w->keylens[old[i] - 1])] =
					old[i];
		free(old);
	}
	w->idx[dws_slot(w, w->keys[fi], w->keylens[fi])] = (uint32_t)fi + 1;
}

/* Over txlog_buffered_max of records waiting for their frames to fill
 * (many partitions each with a little): every file ends its frame here,
 * so memory stays bounded whatever the number of partitions.  Where the
 * cut falls depends on the bytes only: the files are the same with any
 * -j. */
static void dws_cut(struct dws *w)
{
	char e[512];
	for (size_t i = 0; i < w->nfiles; i++)
		if (zout_cut(w->files[i]->z, e, sizeof e) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", w->files[i]->cf.path, e);
}

/* The file of partition key (vals its values, taken), opened. */
static struct dfile *dws_open(struct dws *w, const struct buf *key,
			      char **vals)
{
	char **pv = xcalloc(w->npart + 1, sizeof *pv);
	if (w->npart)
		memcpy(pv, vals, w->npart * sizeof *pv);
	size_t n = w->nfiles + 1;
	w->files = xreallocarray(w->files, n, sizeof *w->files);
	w->keys = xreallocarray(w->keys, n, sizeof *w->keys);
	w->keylens = xreallocarray(w->keylens, n, sizeof *w->keylens);
	char *k = xmalloc(key->len + 1);
	if (key->len)
		memcpy(k, key->p, key->len);
	k[key->len] = '\0';
	w->keys[w->nfiles] = k;
	w->keylens[w->nfiles] = key->len;
	dws_index(w, w->nfiles);
	struct dfile *f = dfile_open(w->table, w->schema, w->part, w->npart,
				     pv, txlog_next_part(), w->level);
	w->files[w->nfiles++] = f;
	return f;
}

struct dfile *dws_lone_file(struct dws *w)
{
	if (w->npart)
		return NULL;
	if (!w->nfiles) {
		struct buf key = {0};
		dws_open(w, &key, NULL);
	}
	return w->files[0];
}

const struct ds_type *dws_schema(const struct dws *w)
{
	return w->schema;
}

int dws_level(const struct dws *w)
{
	return w->level;
}

bool dws_partitioned(const struct dws *w)
{
	return w->npart > 0;
}

int dws_add(struct dws *w, const struct scan_record *r, char *err,
	    size_t errlen)
{
	if (!w->npart && w->nfiles) { /* one file: no key to find */
		dfile_write(w->files[0], r->p, r->n);
		dfile_track(w->files[0], r);
		return 0;
	}
	struct buf *key = &w->scratch;
	key->len = 0;
	char *vals[MAX_PART];
	for (size_t i = 0; i < w->npart; i++) {
		const char *v = NULL;
		size_t vn = 0;
		for (size_t m = 0; m < r->nmembers; m++) {
			const struct scan_member *mb = &r->members[m];
			if (scan_string_equals(r->p + mb->key, mb->key_len,
					       w->part[i], strlen(w->part[i]))) {
				v = r->p + mb->val;
				vn = scan_skip(r->p, r->n, mb->val) - mb->val;
			}
		}
		if (!v || v[0] == 'n') {
			/* null: an empty key, which no value has (an empty
			 * string is refused below); a marker byte would be
			 * the key of a string holding it ("\u0001") */
			vals[i] = NULL;
		} else if (v[0] == '"' && vn > 2 &&
			   is_time_type(col_type(w->schema, w->part[i]))) {
			/* One instant, one partition, whatever the offset
			 * it was written with: Delta's UTC form. */
			struct instant t;
			const char *why;
			char tb[TIME_STRMAX];
			if (time_instant_from_json(v, vn, &t, &why) != 0) {
				snprintf(err, errlen, "partition column %s: "
					 "%s", w->part[i], why);
				for (size_t j = 0; j < i; j++)
					free(vals[j]);
				return -1;
			}
			time_format_instant(&t, TIME_STYLE_PARTITION, tb);
			vals[i] = xstrdup(tb);
			buf_adds(key, vals[i]);
		} else if (v[0] == '"' && vn > 2) {
			vals[i] = scan_strdup_lit(v, vn);
			if (memchr(v, '\\', vn) && has_nul(v, vn)) {
				/* a folder name and the C strings of the
				 * log's readers would cut it at the NUL,
				 * filing the row under another value */
				snprintf(err, errlen, "partition column %s: "
					 "the value holds a NUL (\\u0000), "
					 "which a partition value cannot keep",
					 w->part[i]);
				for (size_t j = 0; j <= i; j++)
					free(vals[j]);
				return -1;
			}
			buf_adds(key, vals[i]);
		} else if (v[0] == '{' || v[0] == '[' ||
			   (v[0] == '"' && vn == 2)) {
			/* PROTOCOL.md: "An empty string for any type
			 * translates to a null partition value" -- a record
			 * that holds "" would read back as null */
			if (v[0] == '"')
				snprintf(err, errlen, "partition column %s: an "
					 "empty string is a null partition "
					 "value in Delta; write null or a "
					 "non-empty string", w->part[i]);
			else
				snprintf(err, errlen, "partition column %s: %s "
					 "is not a primitive value", w->part[i],
					 scan_type(v));
			for (size_t j = 0; j < i; j++)
				free(vals[j]);
			return -1;
		} else if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			const struct ds_type *pt =
				col_type(w->schema, w->part[i]);
			vals[i] = pt && (pt->kind == DT_FLOAT ||
					 pt->kind == DT_DOUBLE)
					  ? binary_number_text(
						    v, vn, pt->kind == DT_FLOAT)
					  : number_text(v, vn);
			buf_adds(key, vals[i]);
		} else {
			vals[i] = xstrndup(v, vn);
			buf_adds(key, vals[i]);
		}
		buf_addc(key, '\0');
		buf_addc(key, '/');
	}
	struct dfile *f = NULL;
	size_t slot = dws_slot(w, key->p, key->len);
	if (w->idx && w->idx[slot])
		f = w->files[w->idx[slot] - 1];
	if (f) {
		for (size_t i = 0; i < w->npart; i++)
			free(vals[i]);
	} else {
		f = dws_open(w, key, vals);
	}
	dfile_write(f, r->p, r->n);
	dfile_track(f, r);
	if (zpool_buffered(txlog_pool()) > txlog_buffered_max)
		dws_cut(w);
	return 0;
}

void dws_finish(struct dws *w, struct buf *actions, char ***written,
		size_t *nwritten, uint64_t *records, uint64_t *bytes)
{
	dws_finish_tagged(w, NULL, actions, written, nwritten, records, bytes);
}

void dws_finish_tagged(struct dws *w, const char *extra_tags,
		       struct buf *actions, char ***written, size_t *nwritten,
		       uint64_t *records, uint64_t *bytes)
{
	/* every file complete, then all published at once: one syncfs
	 * and one fsync a folder, not two fsyncs a partition */
	struct commit_file **cs = xcalloc(w->nfiles ? w->nfiles : 1,
					  sizeof *cs);
	for (size_t i = 0; i < w->nfiles; i++) {
		dfile_close_data(w->files[i]);
		cs[i] = &w->files[i]->cf;
	}
	/* many files: commit_finish_new_many's syncfs after the links
	 * makes the new folders durable too */
	sync_made_dirs(w->nfiles >= 8);
	char err[512];
	int rc = commit_finish_new_many(cs, w->nfiles, err, sizeof err);
	free(cs);
	if (rc != 0) {
		for (size_t i = 0; i < w->nfiles; i++)
			dfile_free(w->files[i]);
		dws_free(w);
		txlog_fail(EXIT_TROUBLE, "%s",
			   rc > 0 ? "data file name collision" : err);
	}
	for (size_t i = 0; i < w->nfiles; i++)
		dfile_add(w->files[i], true, extra_tags, actions, written,
			  nwritten, records, bytes);
	dws_free(w);
}

void dws_abort(struct dws *w)
{
	for (size_t i = 0; i < w->nfiles; i++)
		dfile_abort(w->files[i]);
	dws_free(w);
}

bool txlog_reading;

void txlog_fail(int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	while (live_dws)
		dws_abort(live_dws);
	sync_made_dirs(true); /* the list only: nothing is published */
	if (!txlog_reading)
		cli_die(code, "%s", msg);
	cli_warn("%s", msg);
	cli_stats.records_out = 0; /* as tx_stats_none (tx.c) says it */
	if (opt.stats)
		cli_stats_print(",\"version\":null");
	cli_exit(code);
}

void rowbuf_add(struct rowbuf *b, const char *p, size_t n)
{
	b->off = xgrow(b->off, &b->cap, b->n, sizeof *b->off, 1024);
	b->off[b->n++] = b->text.len;
	buf_add(&b->text, p, n);
}

const char *rowbuf_row(const struct rowbuf *b, size_t i, size_t *len)
{
	size_t e = i + 1 < b->n ? b->off[i + 1] : b->text.len;
	*len = e - b->off[i];
	return b->text.p + b->off[i];
}

void rowbuf_clear(struct rowbuf *b)
{
	b->text.len = 0;
	b->n = 0;
}

void rowbuf_free(struct rowbuf *b)
{
	buf_free(&b->text);
	free(b->off);
	memset(b, 0, sizeof *b);
}

int rowbuf_to_dws(const struct rowbuf *b, struct dws *w,
		  struct scan_record *rec, char *err, size_t errlen)
{
	for (size_t k = 0; k < b->n; k++) {
		size_t n;
		const char *p = rowbuf_row(b, k, &n);
		struct scan_error se;
		/* each row was validated when it was kept */
		scan_record(rec, p, n, &se);
		if (dws_add(w, rec, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void remove_written(const char *table, char **written, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		b.len = 0;
		buf_addf(&b, "%s/%s", table, written[i]);
		unlink(b.p);
	}
	buf_free(&b);
}

int txlog_next_row(const struct dl_snapshot *s, struct lines *l,
		   const struct dl_file *f, struct line *ln,
		   struct scan_record *rec)
{
	static struct buf filled;
	static const struct dl_file *last; /* whose rows: txlog's (sealed) */
	static bool foreign;               /* have their partition columns */
	if (f != last) {
		last = f;
		foreign = !txlog_file_sealed(f);
	}
	char err[1024];
	struct scan_error se;
	int rc = lines_next(l, ln, err, sizeof err);
	if (rc < 0)
		txlog_fail(EXIT_TROUBLE, "%s", err);
	/* not an object (another writer's file): a row no rewrite may
	 * copy into a file of its own, which cat would not check again */
	if (rc == 1 &&
	    (ln->too_long || scan_record(rec, ln->p, ln->len, &se) != 0 ||
	     ln->p[rec->start] != '{'))
		txlog_fail(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": damaged data "
			   "file", opt.table, f->path, ln->lineno);
	const char *why = rc == 1 && foreign
				  ? txlog_row_fill(s, f, ln, rec, &filled)
				  : NULL;
	if (why)
		txlog_fail(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": %s", opt.table,
			   f->path, ln->lineno, why);
	return rc;
}

/* ---- predicates ---- */

static const char *skip_sp(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

static const char *pred_op_name(enum pred_op op)
{
	static const char *const names[] = {"=", "!=", "<", "<=", ">", ">="};
	return names[op];
}

/* Is the JSON string lit a time to value_compare (its canonical form
 * an instant's)? */
static bool lit_is_time(const char *lit, size_t ln)
{
	struct buf c = {0};
	value_canon(&c, lit, ln);
	bool time = c.len && c.p[0] == 'i';
	buf_free(&c);
	return time;
}

/* One `COL OP VALUE` term at *s; false when the text is not one. */
static bool parse_term(const char **sp, struct pred_term *t)
{
	const char *s = skip_sp(*sp);
	t->is_null = false; /* the slot may hold a term given up on */
	t->ntz = false;
	t->ord = VALUE_ORDER_JSON;
	struct buf col = {0};
	if (*s == '.')
		s++;
	if (*s == '"') {
		const char *e = s + 1;
		while (*e && *e != '"') {
			if (*e == '\\' && e[1])
				e++;
			e++;
		}
		if (*e != '"')
			return false;
		struct scan_error se;
		if (scan_validate(s, (size_t)(e + 1 - s), &se) != 0)
			return false;
		size_t dl;
		char *d = scan_strdup_lit_len(s, (size_t)(e + 1 - s), &dl);
		if (memchr(d, '\0', dl)) {
			free(d); /* LSan: nothing held on the way out */
			buf_free(&col);
			cli_usage_error("--where: the column name %.*s holds a "
					"NUL (\\u0000), which no column name "
					"can", (int)(e + 1 - s), s);
		}
		buf_add(&col, d, dl);
		free(d);
		s = e + 1;
	} else {
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		       (*s >= '0' && *s <= '9') || *s == '_')
			buf_addc(&col, *s++);
	}
	if (!col.len)
		return false;
	s = skip_sp(s);
	enum pred_op op;
	if (s[0] == '=' && s[1] == '=') op = OP_EQ, s += 2;
	else if (s[0] == '!' && s[1] == '=') op = OP_NE, s += 2;
	else if (s[0] == '<' && s[1] == '=') op = OP_LE, s += 2;
	else if (s[0] == '>' && s[1] == '=') op = OP_GE, s += 2;
	else if (s[0] == '<') op = OP_LT, s += 1;
	else if (s[0] == '>') op = OP_GT, s += 1;
	else if (s[0] == '=') op = OP_EQ, s += 1;
	else {
		buf_free(&col);
		return false;
	}
	s = skip_sp(s);
	/* the value: a JSON scalar, or a bare word taken as a string */
	const char *e = s;
	struct buf lit = {0};
	if (*s == '"') {
		e = s + 1;
		while (*e && *e != '"') {
			if (*e == '\\' && e[1])
				e++;
			e++;
		}
		if (*e == '"')
			e++;
		buf_add(&lit, s, (size_t)(e - s));
	} else {
		while (*e && *e != ' ' && *e != '\t' && *e != ')')
			e++;
		buf_add(&lit, s, (size_t)(e - s));
		if (*s == '\'') {
			char msg[1024];
			snprintf(msg, sizeof msg, "--where: %.*s: SQL quotes; "
				 "a string takes JSON's double quotes: %s %s "
				 "\"%.*s\"", (int)(e - s), s, col.p,
				 pred_op_name(op),
				 (int)(e - s > 1 && e[-1] == '\'' ? e - s - 2
								  : e - s - 1),
				 s + 1);
			buf_free(&col);
			buf_free(&lit);
			cli_usage_error("%s", msg);
		}
	}
	t->bare = *s != '"';
	struct scan_error se;
	if (lit.len == 4 && memcmp(lit.p, "null", 4) == 0) {
		/* SQL's nulls: only = and != mean anything next to null */
		if (op != OP_EQ && op != OP_NE) {
			char msg[1024];
			snprintf(msg, sizeof msg, "--where: %s %s null matches "
				 "no row (a comparison with null is never "
				 "true); use %s = null or %s != null", col.p,
				 pred_op_name(op), col.p, col.p);
			buf_free(&col);
			buf_free(&lit);
			cli_usage_error("%s", msg);
		}
		t->is_null = true;
	}
	if (!lit.len) {
		buf_free(&col);
		buf_free(&lit);
		return false;
	}
	if (scan_validate(lit.p, lit.len, &se) != 0 || lit.p[0] == '{' ||
	    lit.p[0] == '[') {
		if (lit.p[0] == '"') {
			buf_free(&col);
			buf_free(&lit);
			return false;
		}
		struct buf q = {0};
		jw_string(&q, lit.p, lit.len);
		buf_free(&lit);
		lit = q;
	}
	t->col = col.p;
	t->op = op;
	t->lit = lit.p;
	/* A string that is a time (as value.h reads keys: strict RFC 3339
	 * with a zone, a fraction of any length) compares in idem's key
	 * order: two times as instants, a time before every other string.
	 * By code point, "2024-01-01T01:00:00+01:00" (00:00Z) would be
	 * after "2024-01-01T00:30:00Z".  Only a string or timestamp column
	 * takes a string that can be one (pred_bind), and a timestamp's
	 * compare is by instant anyway. */
	if (lit.p[0] == '"' && lit_is_time(lit.p, lit.len))
		t->ord = VALUE_ORDER_INSTANT;
	struct buf pth = {0};
	buf_adds(&pth, ".");
	jw_str(&pth, t->col);
	if (path_parse(pth.p, &t->path) != 0)
		cli_die(EXIT_TROUBLE, "internal: bad column path %s", pth.p);
	buf_free(&pth);
	*sp = e;
	return true;
}

static bool parse_conj(const char *src, struct pred *p)
{
	const char *s = src;
	for (;;) {
		if (p->n == sizeof p->t / sizeof p->t[0])
			return false;
		if (!parse_term(&s, &p->t[p->n]))
			return false;
		p->n++;
		s = skip_sp(s);
		if (!*s)
			return true;
		if (strncasecmp(s, "and", 3) != 0 ||
		    (s[3] != ' ' && s[3] != '\t'))
			return false;
		s += 3;
	}
}

void pred_param(struct buf *params, const char *name,
		const char *const *src, size_t n)
{
	struct buf q = {0};
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(&q, " and ");
		buf_adds(&q, src[i]);
	}
	jw_key(params, name, false);
	jw_string(params, q.p, q.len);
	buf_free(&q);
}

/* The word w (lower case) in s, as a word, ignoring case: where, or NULL. */
static const char *find_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = s; *p; p++)
		if (strncasecmp(p, w, n) == 0 &&
		    (p == s || p[-1] == ' ' || p[-1] == '\t') &&
		    (!p[n] || p[n] == ' ' || p[n] == '\t' || p[n] == '('))
			return p;
	return NULL;
}

/*
 * SQL a predicate does not take, said as what it is written as here (a
 * jq error about an undefined 'amt/0' helps nobody who wrote
 * 'amt IS NULL').  Empty when src does not look like SQL.
 */
static void sql_hint(const char *src, char *out, size_t n)
{
	const char *is = find_word(src, "is"), *w;
	const char *rest = is ? skip_sp(is + 2) : NULL;
	bool not = rest && find_word(rest, "not") == rest;
	if (not)
		rest = skip_sp(rest + 3);
	out[0] = '\0';
	if (rest && find_word(rest, "null") == rest) {
		int cl = (int)(is - src);
		while (cl && (src[cl - 1] == ' ' || src[cl - 1] == '\t'))
			cl--;
		snprintf(out, n, "SQL's IS %sNULL is written '%.*s %s null'",
			 not ? "NOT " : "", cl, src, not ? "!=" : "=");
	} else if (find_word(src, "or")) {
		snprintf(out, n, "terms join by 'and' only; OR is a jq "
			 "program, as '.a == 1 or .b == \"x\"'");
	} else if (((w = find_word(src, "in")) &&
		    strchr("([", *skip_sp(w + 2))) ||
		   (w = NULL, find_word(src, "like"))) {
		snprintf(out, n, "%s is a jq program, as %s", w ? "IN" : "LIKE",
			 w ? "'.a | IN(1, 2)'" : "'.a | test(\"^x\")'");
	} else if (find_word(src, "between")) {
		snprintf(out, n, "BETWEEN is written 'col >= A and col <= B'");
	} else if (strstr(src, "<>")) {
		snprintf(out, n, "SQL's <> is written '!='");
	}
}

struct pred *pred_parse(const char *const *src, size_t n, bool simple_only)
{
	struct pred *p = xcalloc(1, sizeof *p);
	for (size_t i = 0; i < n; i++) {
		size_t keep = p->n;
		if (parse_conj(src[i], p))
			continue;
		for (size_t j = keep; j < p->n; j++) {
			free(p->t[j].col);
			free(p->t[j].lit);
			path_free(&p->t[j].path);
		}
		p->n = keep;
		char err[512], hint[256];
		struct expr *jq = expr_condition_compile(src[i], err,
							 sizeof err);
		if (!jq) {
			sql_hint(src[i], hint, sizeof hint);
			if (hint[0])
				cli_usage_error("--where '%s': %s", src[i],
						hint);
		}
		if (simple_only || n > 1 || p->jq) {
			expr_free(jq);
			cli_usage_error("--where '%s': expected COL = VALUE "
					"(or COL OP VALUE ... joined by and)",
					src[i]);
		}
		if (!jq)
			cli_usage_error("--where: %s", err);
		p->jq = jq;
		p->src = src[i];
	}
	return p;
}

const char *txlog_nearest_column(const struct ds_type *t, const char *name)
{
	if (!t)
		return NULL;
	const char **names = xcalloc(t->nfields + 1, sizeof *names);
	for (size_t i = 0; i < t->nfields; i++)
		names[i] = t->fields[i].name;
	const char *near = cli_nearest(name, names);
	free(names);
	return near;
}

const char *txlog_sql_literal(const char *w, size_t n)
{
	static const char *const lits[] = {"null", "true", "false"};
	for (size_t i = 0; i < 3; i++)
		if (n == strlen(lits[i]) && strncasecmp(w, lits[i], n) == 0)
			return lits[i];
	return NULL;
}

const struct ds_field *txlog_column_nocase(const struct ds_type *t,
					   const char *w, size_t n)
{
	for (size_t i = 0; t && i < t->nfields; i++)
		if (t->fields[i].name_len == n &&
		    strncasecmp(t->fields[i].name, w, n) == 0 &&
		    !memchr(w, '\0', n))
			return &t->fields[i];
	return NULL;
}

static void bind_term(struct pred_term *t, const struct dl_snapshot *s)
{
	const struct ds_type *schema = s->schema;
	struct ds_field *f = ds_field(schema, t->col, strlen(t->col));
	if (!f) {
		const char *near = txlog_nearest_column(schema, t->col);
		if (near)
			cli_usage_error("--where: %s has no column '%s'; did "
					"you mean '%s'?", s->table, t->col,
					near);
		cli_usage_error("--where: %s has no column '%s' (txlog schema "
				"%s lists them)", s->table, t->col, s->table);
	}
	const char *lit = t->lit;
	size_t ln = strlen(lit);
	char lc = lit[0];
	if (lc == 'n')
		return; /* = null: any column may be null */
	if (t->bare && lc == '"') {
		/* SQL's a = b compares two columns: a bare word naming one
		 * is no string to compare with */
		size_t wn;
		char *w = scan_strdup_lit_len(lit, ln, &wn);
		const char *op = pred_op_name(t->op);
		const char *jq_op = t->op == OP_EQ ? "==" : op;
		/* SQL reads NULL, True and false as those literals in any
		 * case: s = NULL is no compare with the string "NULL" */
		const char *sl = txlog_sql_literal(w, wn);
		if (sl)
			cli_usage_error("--where: %s %s %s: %s is SQL's %s, "
					"which is written %s here: %s %s %s; "
					"write \"%s\" for the string", t->col,
					op, w, w, sl, sl, t->col, op, sl, w);
		/* Delta's names ignore case: SQL reads ID as column id */
		const struct ds_field *named = txlog_column_nocase(schema, w,
								   wn);
		if (named)
			cli_usage_error("--where: %s %s %s: %s is a column of "
					"%s, and a term compares a column with "
					"a value: write \"%s\" for the string; "
					"'.%s %s .%s' (a jq program) compares "
					"two columns", t->col, op, w, w,
					s->table, w, t->col, jq_op,
					named->name);
		free(w);
	}
	/* a partition column of an --infer table before its first write
	 * is a string only until that write infers its type */
	if (f->metadata && strstr(f->metadata, "\"idem.inferPending\""))
		return;
	const struct ds_type *ty = f->type;
	const char *want = NULL;
	switch (ty->kind) {
	case DT_STRING:
	case DT_BINARY:
		if (lc != '"')
			want = "a string in double quotes";
		else if (ty->kind == DT_BINARY && t->op != OP_EQ &&
			 t->op != OP_NE)
			cli_usage_error("--where: column %s is binary: %s %s "
					"would order the base64 text, not the "
					"bytes; only = and != compare it",
					t->col, t->col, pred_op_name(t->op));
		break;
	case DT_BYTE: case DT_SHORT: case DT_INTEGER: case DT_LONG:
	case DT_FLOAT: case DT_DOUBLE: case DT_DECIMAL:
		if (lc != '-' && (lc < '0' || lc > '9')) {
			want = "a number";
		} else if (ty->kind == DT_FLOAT || ty->kind == DT_DOUBLE) {
			/* the column holds binary numbers: the literal is
			 * the one it names, and one no float or double
			 * holds (1e400, 1e-400, 9007199254740993 in a
			 * double) would be compared as another */
			struct ds_type tc = *ty;
			tc.inferred = false;
			tc.inexact = NULL;
			bool changed = false;
			char err[512];
			if (ds_check(&tc, lit, ln, false, &changed, err,
				     sizeof err) != 0) {
				const char *why = strstr(err, ": ");
				cli_usage_error("--where: column %s is %s: %s",
						t->col, ty->name,
						why && !strncmp(err, "column ", 7)
							? why + 2
							: err);
			}
			t->fp = ty->kind == DT_FLOAT ? 'f' : 'd';
		}
		break;
	case DT_BOOLEAN:
		if (lc != 't' && lc != 'f')
			want = "true or false";
		break;
	case DT_DATE: {
		int64_t days;
		const char *why;
		size_t dl = 0;
		char *d = lc == '"' ? scan_strdup_lit_len(lit, ln, &dl) : NULL;
		if (!d || time_parse_date(d, dl, &days, &why) != 0)
			want = "a date \"YYYY-MM-DD\"";
		free(d);
		break;
	}
	case DT_TIMESTAMP:
	case DT_TIMESTAMP_NTZ: {
		struct instant in;
		bool zoned;
		const char *why;
		size_t dl = 0;
		char *d = lc == '"' ? scan_strdup_lit_len(lit, ln, &dl) : NULL;
		if (d && time_parse_loose(d, dl, &in, &zoned, &why) &&
		    strcmp(why, "not an RFC 3339 time") != 0) {
			/* a time no timestamp holds: say which */
			cli_usage_error("--where: column %s is %s: %.*s: %s",
					t->col, ty->name, (int)ln, lit, why);
		} else if (!d || time_parse_loose(d, dl, &in, &zoned, &why)) {
			want = "a time: \"2024-01-01\", \"2024-01-01T08:30\" "
			       "or RFC 3339 with a zone (none: UTC)";
		} else if (ty->kind == DT_TIMESTAMP_NTZ &&
			   !ds_ntz_zone_ok(d, dl)) {
			want = "a time without a zone (a timestamp_ntz has "
			       "none; an offset names an instant)";
		} else if (!ds_timestamp_in_range(in.sec)) {
			/* its UTC spelling (+010000-..., -0001-...) is no
			 * time to the compare, which then went by text */
			want = "a time in the years 0000 to 9999 in UTC (a "
			       "timestamp holds none outside)";
		} else if (in.nsec % 1000 != 0) {
			/* Delta casts such a literal to the microsecond,
			 * txlog would compare it exactly: neither is sure
			 * to be what was meant */
			want = "a time to the microsecond (a timestamp holds "
			       "none finer)";
		} else {
			/* the instant, in the one spelling compare reads */
			char tb[TIME_STRMAX];
			size_t n = time_format_instant(&in, TIME_STYLE_RFC3339,
						       tb);
			struct buf q = {0};
			jw_string(&q, tb, n);
			free(t->lit);
			t->lit = q.p;
			t->ord = VALUE_ORDER_INSTANT;
			t->ntz = ty->kind == DT_TIMESTAMP_NTZ;
		}
		free(d);
		break;
	}
	default:
		want = "nothing: a nested column does not compare with a "
		       "value";
		break;
	}
	if (want) {
		/* a bare word was made a JSON string: show it as typed */
		bool word = t->bare && lc == '"';
		cli_usage_error("--where: column %s is %s: %.*s is not %s",
				t->col, ty->name ? ty->name : "nested",
				(int)(word ? ln - 2 : ln), word ? lit + 1 : lit,
				want);
	}
}

/*
 * The columns a jq program reads from the record itself: the first key
 * of each .name (or ."name") path whose input is the record.  Read to
 * miss rather than to guess: a path after a | (whose input is what came
 * before it), inside the arguments of a function other than those below
 * (map(.x) reads the elements), after catch or in a reduce's or
 * foreach's body is not taken, and a program with a def, an import or a
 * string interpolation is not read at all.  So a name taken is one jq
 * looks up in the record, and one the schema lacks is a null in every
 * row: a typo, never a column.
 */
static bool jq_same_input(const char *w, size_t n)
{
	/* each argument is evaluated on the call's own input */
	static const char *const fns[] = {
		"select", "test", "match", "capture", "scan", "split",
		"splits", "startswith", "endswith", "ltrimstr", "rtrimstr",
		"contains", "inside", "has", "in", "index", "rindex",
		"indices", "IN", "isempty", "first", "last", "nth", "limit",
		"error", "join", "strftime", "strptime", "getpath", NULL,
	};
	for (size_t i = 0; fns[i]; i++)
		if (strlen(fns[i]) == n && !memcmp(fns[i], w, n))
			return true;
	return false;
}

static bool jq_word_is(const char *w, size_t n, const char *k)
{
	return strlen(k) == n && !memcmp(w, k, n);
}

static bool jq_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* The end of the JSON string literal of src that starts at i (its
 * closing quote), or 0 when it has none or holds an interpolation. */
static size_t jq_string_end(const char *src, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++) {
		if (src[j] == '"')
			return j;
		if (src[j] == '\\' && j + 1 < n) {
			if (src[j + 1] == '(')
				return 0;
			j++;
		}
	}
	return 0;
}

/* Call fn(ctx, name, len) for each such column of program src, until
 * fn says false. */
static void jq_record_columns(const char *src,
			      bool (*fn)(void *, const char *, size_t),
			      void *ctx)
{
	static const char *const keywords[] = {
		"and", "or", "if", "then", "elif", "else", "end", "try",
		"catch", "as", "reduce", "foreach", "label", NULL,
	};
	enum { DEPTH = 64 };
	bool init[DEPTH], sees[DEPTH];
	size_t d = 0, n = strlen(src);
	init[0] = sees[0] = true;
	char prev = '|'; /* the last significant character */
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '#') {
			i += strcspn(src + i, "\n");
			continue;
		}
		if (c == '"') {
			if (!(i = jq_string_end(src, n, i)))
				return;
			prev = '"';
			continue;
		}
		bool after_term = jq_ident_char(prev) || prev == ']' ||
				  prev == ')' || prev == '}' || prev == '"' ||
				  prev == '?' || prev == '.' || prev == '$';
		if (c == '.' && !after_term && i + 1 < n &&
		    (jq_ident_char(src[i + 1]) || src[i + 1] == '"') &&
		    !(src[i + 1] >= '0' && src[i + 1] <= '9')) {
			size_t j = i + 1, e;
			if (src[j] == '"') {
				if (!(e = jq_string_end(src, n, j)) ||
				    scan_validate(src + j, e + 1 - j, NULL) != 0)
					return;
				size_t dn;
				char *dec = scan_strdup_lit_len(src + j,
								e + 1 - j, &dn);
				/* a name with a NUL is no column's: not read */
				bool go = !sees[d] || memchr(dec, '\0', dn) ||
					  fn(ctx, dec, dn);
				free(dec);
				if (!go)
					return;
				i = e;
				prev = '"';
				continue;
			}
			while (j < n && jq_ident_char(src[j]))
				j++;
			if (sees[d] && !fn(ctx, src + i + 1, j - i - 1))
				return;
			i = j - 1;
			prev = 'a';
			continue;
		}
		if (c == '$' || c == '@' || (jq_ident_char(c) &&
					     !(c >= '0' && c <= '9'))) {
			size_t j = i + 1;
			while (j < n && jq_ident_char(src[j]))
				j++;
			const char *w = src + i;
			size_t wn = j - i;
			i = j - 1;
			if (c == '$' || c == '@') {
				prev = '$'; /* $x.a is not the record's .a */
				continue;
			}
			if (jq_word_is(w, wn, "def") ||
			    jq_word_is(w, wn, "import") ||
			    jq_word_is(w, wn, "include"))
				return; /* not read */
			bool kw = false;
			for (size_t k = 0; keywords[k] && !kw; k++)
				kw = jq_word_is(w, wn, keywords[k]);
			if (kw) {
				/* a catch's body reads the error, a reduce's
				 * and a foreach's their state */
				if (jq_word_is(w, wn, "catch") ||
				    jq_word_is(w, wn, "reduce") ||
				    jq_word_is(w, wn, "foreach"))
					sees[d] = false;
				prev = jq_word_is(w, wn, "end") ? ')' : '|';
				continue;
			}
			size_t k = j;
			while (k < n && (src[k] == ' ' || src[k] == '\t' ||
					 src[k] == '\n' || src[k] == '\r'))
				k++;
			if (k < n && src[k] == '(') {
				/* a call: its arguments see its input only
				 * for the functions jq_same_input knows */
				if (++d == DEPTH)
					return;
				init[d] = sees[d] =
					sees[d - 1] && jq_same_input(w, wn);
				i = k;
				prev = '(';
				continue;
			}
			prev = 'a';
			continue;
		}
		switch (c) {
		case '(': case '[': case '{':
			if (++d == DEPTH)
				return;
			init[d] = sees[d] = sees[d - 1];
			break;
		case ')': case ']': case '}':
			if (d == 0)
				return;
			d--;
			break;
		case '|':
			sees[d] = false; /* its input is what came before */
			break;
		case ';':
			sees[d] = init[d]; /* the next argument */
			break;
		}
		prev = c;
	}
}

struct jq_cols {
	const struct ds_type *schema;
	char *missing; /* the first name the schema lacks */
};

static bool jq_col_known(void *ctx, const char *name, size_t n)
{
	struct jq_cols *jc = ctx;
	if (ds_field(jc->schema, name, n))
		return true;
	jc->missing = xstrndup(name, n);
	return false;
}

char *txlog_jq_missing_column(const char *src, const struct ds_type *schema)
{
	struct jq_cols jc = {.schema = schema};
	if (!schema || !schema->nfields)
		return NULL;
	jq_record_columns(src, jq_col_known, &jc);
	return jc.missing;
}

void pred_bind(struct pred *p, const struct dl_snapshot *s)
{
	/* an inferred table before its first write has no columns yet */
	if (!p || !s->schema || !s->schema->nfields)
		return;
	for (size_t i = 0; i < p->n; i++)
		bind_term(&p->t[i], s);
	char *miss = p->jq ? txlog_jq_missing_column(p->src, s->schema) : NULL;
	if (miss) {
		/* as a term's column: the path reads null in every row */
		const char *near = txlog_nearest_column(s->schema, miss);
		if (near)
			cli_usage_error("--where '%s': %s has no column '%s'; "
					"did you mean '%s'?", p->src, s->table,
					miss, near);
		cli_usage_error("--where '%s': %s has no column '%s' (txlog "
				"schema %s lists them)", p->src, s->table, miss,
				s->table);
	}
}

void pred_free(struct pred *p)
{
	if (!p)
		return;
	for (size_t j = 0; j < p->n; j++) {
		free(p->t[j].col);
		free(p->t[j].lit);
		path_free(&p->t[j].path);
	}
	if (p->jq)
		expr_free(p->jq);
	free(p);
}

static bool op_holds(int c, enum pred_op op)
{
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	}
	return false;
}

void txlog_ntz_value(const char **v, size_t *vn, char mid[TXLOG_MIDNIGHT])
{
	const char *p = *v;
	if (*vn != 12 || p[0] != '"' || p[5] != '-' || p[8] != '-' ||
	    p[11] != '"')
		return;
	/* compared as the date text, it was no time at all */
	memcpy(mid, p, 11);
	memcpy(mid + 11, "T00:00:00Z\"", 11);
	*v = mid;
	*vn = 22;
}

/*
 * Does a row whose column is v (JSON text) satisfy t?  SQL's nulls, as
 * Delta's DELETE, UPDATE and replaceWhere read them: a null (or absent)
 * column makes a comparison with a value unknown, which matches no row,
 * so `v < 10` and `s != "x"` leave the nulls; `= null` and `!= null`
 * are IS NULL and IS NOT NULL.
 */
/* A JSON number as the float ('f') or double ('d') a column holds. */
static bool fp_read(char fp, const char *v, size_t vn, double *x)
{
	char in[512];
	if (!vn || vn >= sizeof in || (v[0] != '-' && (v[0] < '0' || v[0] > '9')))
		return false;
	memcpy(in, v, vn);
	in[vn] = '\0';
	*x = fp == 'f' ? (double)strtof(in, NULL) : strtod(in, NULL);
	return isfinite(*x);
}

bool txlog_fp_cmp(char fp, const char *a, size_t an, const char *b,
		  size_t bn, int *c)
{
	double x, y;
	if (!fp || !fp_read(fp, a, an, &x) || !fp_read(fp, b, bn, &y))
		return false;
	*c = (x > y) - (x < y);
	return true;
}

/* Compare a with b as term t compares its column's values: a float or
 * double column's as the binary numbers they are (two spellings of one
 * double are one value, as a Delta reader casts them), others by
 * t->ord. */
static int term_cmp(const struct pred_term *t, const char *a, size_t an,
		    const char *b, size_t bn)
{
	double x, y;
	if (t->fp && fp_read(t->fp, a, an, &x) && fp_read(t->fp, b, bn, &y))
		return (x > y) - (x < y);
	return value_compare_as(t->ord, a, an, b, bn);
}

static bool term_holds(const struct pred_term *t, const char *v, size_t vn)
{
	bool vnull = vn == 4 && memcmp(v, "null", 4) == 0;
	if (t->is_null)
		return t->op == OP_EQ ? vnull : !vnull;
	if (vnull)
		return false;
	char mid[TXLOG_MIDNIGHT];
	if (t->ntz)
		txlog_ntz_value(&v, &vn, mid);
	return op_holds(term_cmp(t, v, vn, t->lit, strlen(t->lit)), t->op);
}

bool pred_match(struct pred *p, const struct scan_record *r)
{
	return pred_match_at(p, r, NULL, 0, "");
}

bool pred_match_at(struct pred *p, const struct scan_record *r,
		   const char *file, uint64_t line, const char *end)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *v, *why;
		size_t vn;
		if (path_lookup_record(&p->t[i].path, r, &v, &vn, &why) !=
		    PATH_FOUND) {
			v = "null";
			vn = 4;
		}
		if (!term_holds(&p->t[i], v, vn))
			return false;
	}
	if (p->jq) {
		const char *v;
		size_t vn;
		char err[512];
		bool holds;
		if (expr_condition(p->jq, r, &v, &vn, &holds, err,
				   sizeof err) != EXPR_ERROR)
			return holds;
		if (file)
			txlog_fail(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": --where "
				   "%s: %s%s", opt.table, file, line,
				   expr_source(p->jq), err, end);
		txlog_fail(EXIT_TROUBLE, "--where %s: %s%s",
			   expr_source(p->jq), err, end);
	}
	return true;
}

static bool is_part(const struct dl_snapshot *s, const char *col)
{
	for (size_t i = 0; i < s->npart; i++)
		if (strcmp(s->part_cols[i], col) == 0)
			return true;
	return false;
}

bool pred_on_partitions(const struct pred *p, const struct dl_snapshot *s)
{
	if (p->jq)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (!is_part(s, p->t[i].col))
			return false;
	return true;
}

/* The partition value as JSON text, typed by the schema.  A string is
 * the log's own literal, not the decoded C string: "a\u0000b" must not
 * compare as "a". */
static bool part_json(const struct dl_snapshot *s, const struct dl_file *df,
		      const char *col, const char *val, struct buf *out)
{
	out->len = 0;
	if (!val) {
		buf_adds(out, "null");
		return true;
	}
	struct ds_field *f = s->schema ? ds_field(s->schema, col, strlen(col))
				       : NULL;
	struct instant t;
	if (f && is_time_type(f->type)) {
		/* one no reader parses (txlog once wrote +010000-...) is
		 * unknown, never compared as the text it is */
		if (txlog_part_instant(val, &t) != 0)
			return false;
		/* a timestamp's value without a zone is "interpreted using
		 * the time zone of the system which wrote to the table"
		 * (PROTOCOL.md): UTC in txlog's files, unknown in another
		 * writer's (Spark's is its session's zone) */
		bool zoned;
		const char *why;
		if (f->type->kind == DT_TIMESTAMP && !txlog_file_sealed(df) &&
		    (time_parse_loose(val, strlen(val), &t, &zoned, &why) != 0 ||
		     !zoned))
			return false;
		char tb[TIME_STRMAX];
		size_t n = time_format_instant(&t, TIME_STYLE_RFC3339, tb);
		jw_string(out, tb, n);
		return true;
	}
	if (f && (ds_numeric(f->type) || f->type->kind == DT_BOOLEAN)) {
		/* a value of the column's type, as a write would take it:
		 * any other JSON ("x" with its quotes, true, null, [1],
		 * 1.5 for an integer, 1e400) would be filled into a row
		 * as a value the schema refuses */
		size_t n = strlen(val);
		struct scan_error se;
		if (!n || scan_validate(val, n, &se) != 0 ||
		    scan_ws(val, n, 0) != 0 || scan_skip(val, n, 0) != n)
			return false;
		bool is_num = val[0] == '-' || (val[0] >= '0' && val[0] <= '9');
		bool is_bool = !strcmp(val, "true") || !strcmp(val, "false");
		if (f->type->kind == DT_BOOLEAN ? !is_bool : !is_num)
			return false;
		/* a copy: the check only reads, but notes an inferred
		 * long's inexact value, and readers share the schema */
		struct ds_type tc = *f->type;
		tc.inferred = false;
		tc.inexact = NULL;
		bool changed = false;
		char err[256];
		if (ds_check(&tc, val, n, false, &changed, err, sizeof err) != 0)
			return false;
		buf_adds(out, val);
		return true;
	}
	const char *pv, *lit;
	size_t pvn, litn;
	if (scan_get(df->action, df->action_len, "partitionValues", &pv, &pvn) &&
	    scan_get(pv, pvn, col, &lit, &litn) && lit[0] == '"')
		buf_add(out, lit, litn);
	else
		jw_str(out, val);
	if (f && f->type->kind == DT_DATE) {
		/* a real YYYY-MM-DD, as a write takes it, or unknown */
		struct ds_type tc = *f->type;
		bool changed = false;
		char err[256];
		if (ds_check(&tc, out->p, out->len, false, &changed, err,
			     sizeof err) != 0)
			return false;
	}
	return true;
}

bool txlog_part_value_key(const struct dl_snapshot *s,
			  const struct dl_file *f, struct buf *key)
{
	struct buf lit = {0}, j = {0};
	bool nul = txlog_part_key(s, f, &lit);
	key->len = 0;
	size_t at = 0;
	for (size_t i = 0; i < s->npart; i++) {
		const char *col = s->part_cols[i];
		const char *val = NULL;
		for (size_t k = 0; k < f->npv; k++)
			if (strcmp(f->pv[k].name, col) == 0)
				val = f->pv[k].value;
		size_t ln = strlen(lit.p + at);
		const struct ds_field *fd =
			s->schema ? ds_field(s->schema, col, strlen(col)) : NULL;
		if (part_json(s, f, col, val, &j)) {
			/* as the column's type reads it: a float's or a
			 * double's as the binary number it is */
			if (val && fd && (fd->type->kind == DT_FLOAT ||
					  fd->type->kind == DT_DOUBLE)) {
				char *b = binary_number_text(
					j.p, j.len, fd->type->kind == DT_FLOAT);
				j.len = 0;
				buf_adds(&j, b);
				free(b);
			}
			buf_addc(key, '=');
			value_canon_as(key, VALUE_KEYS_TEXT, j.p, j.len);
		} else {
			/* of no meaning txlog knows: its literal alone */
			buf_addc(key, '?');
			buf_add(key, lit.p + at, ln);
		}
		buf_addc(key, '\0');
		at += ln + 1;
	}
	buf_free(&lit);
	buf_free(&j);
	return nul;
}

/* 'f' or 'd' when plain path src names a float or double column of
 * schema (a field inside a struct, an array's element), else 0. */
char txlog_path_fp_kind(const struct ds_type *schema, const char *src)
{
	struct path p;
	if (!schema || path_parse(src, &p) != 0)
		return 0;
	const struct ds_type *t = schema;
	for (size_t i = 0; t && i < p.n; i++) {
		if (p.steps[i].kind == PATH_MEMBER && t->kind == DT_STRUCT) {
			const struct ds_field *fd =
				ds_field(t, p.steps[i].name, p.steps[i].name_len);
			t = fd ? fd->type : NULL;
		} else if (p.steps[i].kind == PATH_INDEX &&
			   t->kind == DT_ARRAY) {
			t = t->elem;
		} else {
			t = NULL;
		}
	}
	char k = p.n && t ? t->kind == DT_FLOAT ? 'f' : t->kind == DT_DOUBLE
							     ? 'd' : 0
			  : 0;
	path_free(&p);
	return k;
}

/* The parts of a composite key program, [.a, .b] or .a, .b, at their
 * top-level commas, into parts (new strings); their number, 0 when src
 * is neither. */
static size_t key_parts(const char *src, char ***parts)
{
	size_t n = strlen(src), a = 0, b = n;
	while (a < b && (src[a] == ' ' || src[a] == '\t'))
		a++;
	while (b > a && (src[b - 1] == ' ' || src[b - 1] == '\t'))
		b--;
	bool arr = b - a >= 2 && src[a] == '[' && src[b - 1] == ']';
	if (arr) {
		a++;
		b--;
	}
	size_t np = 0, start = a;
	int depth = 0;
	*parts = NULL;
	for (size_t i = a; i <= b; i++) {
		char c = i < b ? src[i] : ',';
		if (c == '"') {
			for (i++; i < b && src[i] != '"'; i++)
				if (src[i] == '\\')
					i++;
			continue;
		}
		if (c == '[' || c == '(' || c == '{')
			depth++;
		else if (c == ']' || c == ')' || c == '}')
			depth--;
		else if (c == ',' && depth == 0) {
			*parts = xreallocarray(*parts, np + 1, sizeof **parts);
			(*parts)[np++] = xstrndup(src + start, i - start);
			start = i + 1;
		}
	}
	if (!arr && np < 2) { /* one path: not a composite */
		for (size_t i = 0; i < np; i++)
			free((*parts)[i]);
		free(*parts);
		*parts = NULL;
		return 0;
	}
	return np;
}

static void fp_part(struct buf *out, char k, const char *v, size_t vn)
{
	if (k && vn && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
		char *b = binary_number_text(v, vn, k == 'f');
		buf_adds(out, b);
		free(b);
	} else {
		buf_add(out, v, vn);
	}
}

struct txlog_keykind {
	size_t np;   /* parts of a composite key, 0 for one value */
	char one;    /* a single key's kind ('f', 'd' or 0) */
	char *kinds; /* each part's */
	bool any;    /* some part is a float or double column */
};

struct txlog_keykind *txlog_keykind_new(const struct ds_type *schema,
					const char *src)
{
	struct txlog_keykind *k = xcalloc(1, sizeof *k);
	char **parts;
	k->np = key_parts(src, &parts);
	k->one = k->np ? 0 : txlog_path_fp_kind(schema, src);
	k->kinds = k->np ? xcalloc(k->np, 1) : NULL;
	k->any = k->one != 0;
	for (size_t i = 0; i < k->np; i++) {
		k->kinds[i] = txlog_path_fp_kind(schema, parts[i]);
		k->any |= k->kinds[i] != 0;
		free(parts[i]);
	}
	free(parts);
	return k;
}

void txlog_keykind_free(struct txlog_keykind *k)
{
	if (k)
		free(k->kinds);
	free(k);
}

struct fp128 txlog_key_fingerprint(const struct txlog_keykind *k,
				   const char *v, size_t vn,
				   struct buf *scratch)
{
	scratch->len = 0;
	if (!k->any) /* the usual key: no float or double in it */
		return value_fingerprint(v, vn, scratch);
	struct buf c = {0};
	if (!k->np) {
		fp_part(&c, k->one, v, vn);
	} else if (vn && v[0] == '[') {
		/* the tuple part by part, each as its column holds it */
		buf_addc(&c, '[');
		size_t i = scan_ws(v, vn, 1);
		for (size_t j = 0; i < vn && v[i] != ']'; j++) {
			size_t e = scan_skip(v, vn, i);
			if (j)
				buf_addc(&c, ',');
			fp_part(&c, j < k->np ? k->kinds[j] : 0, v + i, e - i);
			i = scan_ws(v, vn, e);
			if (i < vn && v[i] == ',')
				i = scan_ws(v, vn, i + 1);
		}
		buf_addc(&c, ']');
	}
	struct fp128 fp = c.len ? value_fingerprint(c.p, c.len, scratch)
				: value_fingerprint(v, vn, scratch);
	buf_free(&c);
	return fp;
}

const char *txlog_part_value_bad(const struct dl_snapshot *s,
				 const struct dl_file *f)
{
	struct buf b = {0};
	const char *bad = NULL;
	for (size_t i = 0; !bad && i < s->npart; i++) {
		const char *col = s->part_cols[i];
		const char *pv = NULL;
		for (size_t k = 0; k < f->npv; k++)
			if (strcmp(f->pv[k].name, col) == 0)
				pv = f->pv[k].value;
		const struct ds_field *fd =
			s->schema ? ds_field(s->schema, col, strlen(col)) : NULL;
		struct instant t;
		if (!pv || !fd)
			continue;
		/* a time without a zone is the protocol's own form, of a
		 * zone txlog may not know: no damage; nor is a date in a
		 * timestamp_ntz column type widening made of a date one */
		bool zoned;
		const char *why;
		if (is_time_type(fd->type)
			    ? txlog_part_instant(pv, &t) != 0 &&
				      !(fd->type->kind == DT_TIMESTAMP_NTZ &&
					strlen(pv) == 10 &&
					time_parse_loose(pv, 10, &t, &zoned,
							 &why) == 0)
			    : !part_json(s, f, col, pv, &b))
			bad = col;
	}
	buf_free(&b);
	return bad;
}

/* The value of partition column col in f (NULL: null). */
static const char *part_value(const struct dl_file *f, const char *col)
{
	for (size_t k = 0; k < f->npv; k++)
		if (strcmp(f->pv[k].name, col) == 0)
			return f->pv[k].value;
	return NULL;
}

bool pred_part_values_known(const struct pred *p, const struct dl_snapshot *s,
			    const struct dl_file *f)
{
	struct buf b = {0};
	bool known = true;
	for (size_t i = 0; known && i < p->n; i++)
		if (is_part(s, p->t[i].col))
			known = part_json(s, f, p->t[i].col,
					  part_value(f, p->t[i].col), &b);
	buf_free(&b);
	return known;
}

const char *txlog_row_off_partition(const struct dl_snapshot *s,
				    const struct dl_file *f,
				    const struct scan_record *r)
{
	struct buf b = {0};
	const char *off = NULL;
	for (size_t i = 0; !off && i < s->npart; i++) {
		const char *col = s->part_cols[i], *v;
		size_t vn;
		if (!scan_get(r->p, r->n, col, &v, &vn))
			continue; /* another writer's row may leave it out */
		const char *pv = part_value(f, col);
		if (!part_json(s, f, col, pv, &b))
			continue; /* a value of unknown meaning */
		bool vnull = v[0] == 'n', pnull = !pv;
		char mid[TXLOG_MIDNIGHT];
		const struct ds_field *fd =
			s->schema ? ds_field(s->schema, col, strlen(col)) : NULL;
		if (!vnull && fd && fd->type->kind == DT_TIMESTAMP_NTZ)
			txlog_ntz_value(&v, &vn, mid);
		/* a float or double column's as the binary numbers they
		 * are: 0.1000000000000000055 is in partition 0.1 */
		struct pred_term as = {.ord = txlog_order(s->schema, col)};
		if (fd && (fd->type->kind == DT_FLOAT ||
			   fd->type->kind == DT_DOUBLE))
			as.fp = fd->type->kind == DT_FLOAT ? 'f' : 'd';
		if (vnull != pnull ||
		    (!vnull && term_cmp(&as, v, vn, b.p, b.len) != 0))
			off = col;
	}
	buf_free(&b);
	return off;
}

const char *txlog_row_fill(const struct dl_snapshot *s,
			   const struct dl_file *f, struct line *ln,
			   struct scan_record *rec, struct buf *b)
{
	static _Thread_local char why[320];
	if (!s->npart)
		return NULL;
	const char *off = txlog_row_off_partition(s, f, rec);
	if (off) {
		snprintf(why, sizeof why, "column %.200s is not the file's "
			 "partition value", off);
		return why;
	}
	struct buf v = {0};
	bool any = false;
	size_t end = 0;
	for (size_t i = 0; i < s->npart; i++) {
		const char *col = s->part_cols[i], *x;
		size_t xn;
		if (scan_get(rec->p, rec->n, col, &x, &xn))
			continue;
		const char *pv = part_value(f, col);
		const struct ds_field *fd =
			s->schema ? ds_field(s->schema, col, strlen(col)) : NULL;
		struct instant t;
		if (pv && fd && fd->type->kind == DT_TIMESTAMP_NTZ) {
			v.len = 0; /* no zone to add: the value as given */
			if (txlog_part_instant(pv, &t) != 0) {
				buf_free(&v);
				snprintf(why, sizeof why, "the row has no column "
					 "%.200s, and its file's partition value "
					 "is no time", col);
				return why;
			}
			jw_str(&v, pv);
		} else if (!part_json(s, f, col, pv, &v)) {
			buf_free(&v);
			snprintf(why, sizeof why, "the row has no column %.200s, "
				 "and its file's partition value is of unknown "
				 "meaning", col);
			return why;
		}
		if (!any) {
			end = scan_skip(rec->p, rec->n, rec->start);
			b->len = 0;
			buf_add(b, rec->p, end - 1); /* up to its '}' */
		}
		if (any || rec->nmembers)
			buf_addc(b, ',');
		jw_str(b, col);
		buf_addc(b, ':');
		buf_add(b, v.p, v.len);
		any = true;
	}
	buf_free(&v);
	if (!any)
		return NULL;
	buf_addc(b, '}');
	struct scan_error se;
	if (scan_record(rec, b->p, b->len, &se) != 0) {
		snprintf(why, sizeof why, "internal: a row with its partition "
			 "columns added is not JSON: %s", se.what);
		return why;
	}
	ln->p = b->p;
	ln->len = b->len;
	return NULL;
}

/*
 * The stats max against the literal.  Delta writers (and txlog) give a
 * timestamp's max to the millisecond, truncated by some: a max that is a
 * whole millisecond stands for anything before the next one.
 */
static int max_compare(const struct pred_term *t, const char *mx, size_t mxn,
		       bool cut)
{
	if (t->fp)
		return -term_cmp(t, t->lit, strlen(t->lit), mx, mxn);
	return -txlog_bound_cmp(t->ord, t->lit, strlen(t->lit), mx, mxn, true,
				cut);
}

/*
 * Does the string v start with what a string max b stands for, cut to
 * a prefix?  PROTOCOL.md lets a writer cut a string's bounds to a
 * prefix ("String columns are cut off at a fixed prefix length"): a
 * plain cut, "abc" for "abcz", is below the value it stands for, and
 * Delta's own, the prefix and then U+FFFD, is below one whose next
 * character is past U+FFFF, or whose cut split a surrogate pair (a '?'
 * before the U+FFFD).  Any value that starts with the prefix, the U+FFFD
 * and that '?' left out, may be in the file.
 */
static bool starts_with_cut(const char *v, size_t vn, const char *b,
			    size_t bn)
{
	size_t dn, pn;
	char *d = scan_strdup_lit_len(v, vn, &dn);
	char *p = scan_strdup_lit_len(b, bn, &pn);
	bool tie = false;
	while (pn >= 3 && memcmp(p + pn - 3, "\xef\xbf\xbd", 3) == 0) {
		pn -= 3;
		tie = true;
	}
	if (tie && pn && p[pn - 1] == '?')
		pn--;
	bool may = pn <= dn && memcmp(d, p, pn) == 0;
	free(d);
	free(p);
	return may;
}

int txlog_bound_cmp(enum value_order o, const char *v, size_t vn,
		    const char *bound, size_t bn, bool is_max, bool cut)
{
	struct instant b, x;
	const char *why;
	if (is_max && cut && v[0] == '"' && bound[0] == '"' &&
	    starts_with_cut(v, vn, bound, bn))
		return -1; /* the max may be above v */
	if (is_max && o == VALUE_ORDER_INSTANT &&
	    time_instant_from_json(bound, bn, &b, &why) == 0 &&
	    time_instant_from_json(v, vn, &x, &why) == 0) {
		if (b.nsec % 1000000 == 0)
			b.nsec += 999999;
		return time_instant_cmp(&x, &b);
	}
	return value_compare_as(o, v, vn, bound, bn);
}

int txlog_json_kind(char c)
{
	switch (c) {
	case 'n': return 0;
	case 't': case 'f': return 1;
	case '"': return 3;
	case '[': return 4;
	case '{': return 5;
	default: return 2;
	}
}

bool txlog_bound_read(enum value_order o, bool ntz, const char **b,
		      size_t *bn, struct buf *tmp)
{
	if (o != VALUE_ORDER_INSTANT)
		return true;
	struct instant x;
	const char *why;
	if (time_instant_from_json(*b, *bn, &x, &why) == 0)
		return true;
	if (!ntz || **b != '"')
		return false;
	size_t dl;
	bool zoned;
	char *d = scan_strdup_lit_len(*b, *bn, &dl);
	/* (a bound of a file from before a date column was widened to
	 * timestamp_ntz is a date: its midnight, as its values are) */
	bool ok = time_parse_loose(d, dl, &x, &zoned, &why) == 0 && !zoned;
	free(d);
	if (!ok)
		return false;
	char tb[TIME_STRMAX];
	size_t n = time_format_instant(&x, TIME_STYLE_RFC3339, tb);
	tmp->len = 0;
	jw_string(tmp, tb, n);
	*b = tmp->p;
	*bn = tmp->len;
	return true;
}

/* A statistics bound as term t compares it (txlog_bound_read), or false
 * when it is none t can read: only a bound of the literal's kind. */
static bool usable_bound(const struct pred_term *t, bool ntz,
			 const char **b, size_t *bn, struct buf *tmp)
{
	return txlog_json_kind(**b) == txlog_json_kind(t->lit[0]) &&
	       txlog_bound_read(t->ord, ntz, b, bn, tmp);
}

bool pred_file_may_match(const struct pred *p, const struct dl_snapshot *s,
			 const char *unused, size_t unused_n,
			 const struct dl_file *f)
{
	(void)unused;
	(void)unused_n;
	struct buf b = {0}, bmin = {0}, bmax = {0};
	bool may = true;
	for (size_t i = 0; may && i < p->n; i++) {
		const struct pred_term *t = &p->t[i];
		size_t ln = strlen(t->lit);
		if (is_part(s, t->col)) {
			/* a value of unknown meaning may be any: read */
			if (part_json(s, f, t->col, part_value(f, t->col), &b))
				may = term_holds(t, b.p, b.len);
			continue;
		}
		const char *fst = dl_file_stats(f);
		if (!fst)
			continue;
		/* a struct's statistics mirror its fields (PROTOCOL.md):
		 * a number another writer gave as its nullCount is of no
		 * meaning the protocol gives (its own nulls, or its
		 * fields' summed?), and rules no file out */
		const struct ds_field *sf =
			s->schema ? ds_field(s->schema, t->col, strlen(t->col))
				  : NULL;
		if (sf && sf->type->kind == DT_STRUCT)
			continue;
		size_t sn = strlen(fst);
		const char *mins, *maxs, *nc, *mn, *mx, *ncv;
		size_t minsn, maxsn, ncn, mnn, mxn, ncvn;
		int64_t nrec = -1, nulls = -1;
		scan_get_i64(fst, sn, "numRecords", &nrec);
		if (scan_get(fst, sn, "nullCount", &nc, &ncn) &&
		    scan_get(nc, ncn, t->col, &ncv, &ncvn))
			scan_get_i64(nc, ncn, t->col, &nulls);
		(void)ncv;
		(void)ncvn;
		bool have = scan_get(fst, sn, "minValues", &mins, &minsn) &&
			    scan_get(mins, minsn, t->col, &mn, &mnn) &&
			    scan_get(fst, sn, "maxValues", &maxs, &maxsn) &&
			    scan_get(maxs, maxsn, t->col, &mx, &mxn);
		if (!have) {
			/* all null: only null can be there */
			if (nrec >= 0 && nulls == nrec)
				may = term_holds(t, "null", 4);
			continue;
		}
		/* min and max are of the non-null values; = null wants a
		 * null, != null any value, which a min is */
		if (t->is_null) {
			may = t->op == OP_NE || nulls != 0;
			continue;
		}
		const struct ds_field *fd =
			s->schema ? ds_field(s->schema, t->col, strlen(t->col))
				  : NULL;
		bool ntz = fd && fd->type->kind == DT_TIMESTAMP_NTZ;
		/* a binary's bounds are the bytes (another writer's) or
		 * base64 (an older txlog's), never the literal's text */
		if (fd && fd->type->kind == DT_BINARY)
			continue;
		/* a string column's bounds are in code point order, a time
		 * term compares instants: "2024-01-02T00:00:00+09:00" is
		 * above a max "2024-01-01T20:00:00Z" as text and before it
		 * as a time, so no bound rules a file out (nulls did) */
		if (t->ord == VALUE_ORDER_INSTANT && !(fd && is_time_type(
						 fd->type)))
			continue;
		if (!usable_bound(t, ntz, &mn, &mnn, &bmin) ||
		    !usable_bound(t, ntz, &mx, &mxn, &bmax))
			continue;
		/* another writer's string max may be a cut prefix */
		bool cut = fd && fd->type->kind == DT_STRING &&
			   !txlog_file_sealed(f);
		int cmin = term_cmp(t, mn, mnn, t->lit, ln);
		int cmax = max_compare(t, mx, mxn, cut);
		bool range;
		switch (t->op) {
		case OP_EQ: range = cmin <= 0 && cmax >= 0; break;
		case OP_NE: range = !(cmin == 0 && cmax == 0); break;
		case OP_LT: range = cmin < 0; break;
		case OP_LE: range = cmin <= 0; break;
		case OP_GT: range = cmax > 0; break;
		default: range = cmax >= 0; break;
		}
		may = range;
	}
	buf_free(&b);
	buf_free(&bmin);
	buf_free(&bmax);
	return may;
}
