/*
 * optimize: compact the small files of each partition into files near
 * --target-size (uncompressed), in one commit whose adds and removes say
 * dataChange false: the records are the same multiset, only their files
 * changed, so readers and concurrent writers see no new data.
 *
 * A file is small when its uncompressed size (the add's "idem.rawSize"
 * tag, else its size on disk) is under the target.  A partition with two
 * or more small files has them streamed, in log order, into new files
 * that are sealed as soon as they reach the target; so every output but
 * a partition's last is at least the target, and a second run finds at
 * most one small file per partition: nothing to do.  Records are copied
 * byte for byte; their statistics are merged from the inputs' when txlog
 * wrote them (no record parsed), else recomputed.  Each input's checksum
 * is checked first, so a damaged file is never spread.
 *
 * --zorder-by COL,...: every file of a partition is rewritten, its
 * records sorted by a Morton key: each column's value is replaced by its
 * rank among the partition's records (a quantile), scaled to 64/k bits,
 * and the k scaled ranks' bits are interleaved, so that records near in
 * all columns at once are near in the file order.  Files are cut where a
 * prefix of the key changes, so each holds one aligned cell of that grid
 * and its min/max range on every column is narrow.  The outputs carry the tag
 * "idem.zorder" = COL,...; a partition whose files all carry it for the
 * same columns is left alone.  The partition is held in memory.
 *
 * Conflicts: the transaction reads exactly the files it removes.  A
 * concurrent append does not conflict (its files are not removed, so its
 * records stay); a concurrent remove of a file read does: exit 75.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "cli.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"

#define MAX_ZCOLS 4

static struct tx t;
static struct dl_snapshot *snap;
static char *zcols[MAX_ZCOLS];
static struct path zpaths[MAX_ZCOLS];
static size_t nz;
static struct buf zjoined; /* "col,col" */
static uint64_t n_removed, n_added, bytes_removed, bytes_added, records;
static int64_t v_min = INT64_MAX, v_max = -1; /* of the files removed */
/* The removed files a checkpoint gave: their adds carry its version,
 * not the one that added them (their paths as the log spells them). */
static char **from_cp;
static size_t nfrom_cp;
static struct dfile *open_out; /* aborted if the run dies */
static bool committing;        /* from then on tx_commit cleans up */

/* A run that dies leaves no file behind: the sealed ones are removed,
 * the open one aborted (a kill -9 still leaves orphans for vacuum). */
static void cleanup(void)
{
	if (committing)
		return;
	if (open_out)
		dfile_abort(open_out);
	open_out = NULL;
	remove_written(opt.table, t.written, t.nwritten);
}

/* The partition values of f in the table's column order (new strings). */
static char **pvals_of(const struct dl_file *f)
{
	char **pv = xcalloc(snap->npart + 1, sizeof *pv);
	for (size_t i = 0; i < snap->npart; i++)
		for (size_t k = 0; k < f->npv; k++)
			if (strcmp(f->pv[k].name, snap->part_cols[i]) == 0)
				pv[i] = f->pv[k].value ? xstrdup(f->pv[k].value)
						       : NULL;
	return pv;
}

/* Group by the values as the columns' types read them, never by C
 * strings or by spelling: a foreign writer's "a\u0000b" is not
 * partition "a" (and a rewrite could not keep it), and its decimal
 * "1.50" is partition 1.5, whose small files compact together. */
static void part_key(const struct dl_file *f, struct buf *b)
{
	if (txlog_part_value_key(snap, f, b))
		cli_die(EXIT_TROUBLE, "%s: %s: a partition value holds a NUL "
			"(\\u0000), which txlog cannot write back; nothing "
			"optimized", snap->table, f->path);
}


static void remove_file(const struct dl_file *f)
{
	const char *v;
	size_t vn;
	struct buf *b = &t.actions;
	buf_adds(b, "{\"remove\":{\"path\":");
	scan_get(f->action, f->action_len, "path", &v, &vn);
	buf_add(b, v, vn);
	buf_addf(b, ",\"deletionTimestamp\":%lld,\"dataChange\":false,"
		 "\"extendedFileMetadata\":true,\"partitionValues\":",
		 (long long)(time_now() / 1000000));
	if (scan_get(f->action, f->action_len, "partitionValues", &v, &vn))
		buf_add(b, v, vn);
	else
		buf_adds(b, "{}");
	buf_addf(b, ",\"size\":%lld", (long long)f->size);
	if (scan_get(f->action, f->action_len, "tags", &v, &vn)) {
		buf_adds(b, ",\"tags\":");
		buf_add(b, v, vn);
	}
	buf_adds(b, "}}\n");
	tx_read(&t, f->path);
	n_removed++;
	bytes_removed += (uint64_t)f->size;
	if (snap->checkpoint_version >= 0 &&
	    f->version <= snap->checkpoint_version) {
		from_cp = xreallocarray(from_cp, nfrom_cp + 1,
					sizeof *from_cp);
		char *lit = scan_get_str(f->action, f->action_len, "path");
		from_cp[nfrom_cp++] = lit ? lit : xstrdup("");
		return;
	}
	if (f->version < v_min)
		v_min = f->version;
	if (f->version > v_max)
		v_max = f->version;
}

/* How far below a checkpoint optimize looks for the commits that
 * added the files it gave: a summary is not worth reading a log of
 * years of streaming commits. */
#define CP_VERSIONS_LOOKBACK 10000

/*
 * The versions that added the removed files a checkpoint gave, from
 * the commits at or below it still in the log, newest first (the last
 * add of each path, as a replay would find it), until every one is
 * found or CP_VERSIONS_LOOKBACK commits were read.  One not found
 * (added by a commit log cleanup removed, or further back) is older
 * than every one found: *first_known is then false, and v_max, when
 * no file's version is known, is unknown too (-1).
 */
static void checkpoint_versions(bool *first_known)
{
	*first_known = true;
	if (!nfrom_cp)
		return;
	struct fpset *added = fpset_new(true); /* payload: version + 1 */
	for (size_t i = 0; i < nfrom_cp; i++) {
		uint64_t *pl;
		fpset_add(added, value_fp(from_cp[i], strlen(from_cp[i])),
			  &pl);
		*pl = 0;
	}
	char err[512];
	size_t nv = 0, found = 0, read = 0;
	int64_t *vs = dl_list_versions(opt.table, &nv, err, sizeof err);
	struct buf text = {0};
	for (size_t k = vs ? nv : 0; k-- > 0 && found < nfrom_cp &&
				     read < CP_VERSIONS_LOOKBACK;) {
		if (vs[k] > snap->checkpoint_version)
			continue;
		read++;
		if (dl_read_commit(opt.table, vs[k], &text, err,
				   sizeof err) != 0)
			continue; /* gone meanwhile: as if cleaned up */
		for (size_t i = 0; i < text.len;) {
			const char *nl = memchr(text.p + i, '\n', text.len - i);
			size_t e = nl ? (size_t)(nl - text.p) : text.len;
			const char *a;
			size_t an;
			struct scan_error se;
			if (scan_ws(text.p + i, e - i, 0) < e - i &&
			    scan_validate(text.p + i, e - i, &se) == 0 &&
			    scan_get(text.p + i, e - i, "add", &a, &an) &&
			    a[0] == '{') {
				char *path = scan_get_str(a, an, "path");
				struct fp128 fp = value_fp(path ? path : "",
							   path ? strlen(path)
								: 0);
				uint64_t *pl;
				if (fpset_has(added, fp) &&
				    (fpset_add(added, fp, &pl), !*pl)) {
					*pl = (uint64_t)vs[k] + 1;
					found++;
				}
				free(path);
			}
			i = e + 1;
		}
	}
	for (size_t i = 0; i < nfrom_cp; i++) {
		uint64_t *pl;
		fpset_add(added, value_fp(from_cp[i], strlen(from_cp[i])),
			  &pl);
		if (!*pl) {
			*first_known = false;
			continue;
		}
		int64_t v = (int64_t)(*pl - 1);
		if (v < v_min)
			v_min = v;
		if (v > v_max)
			v_max = v;
	}
	for (size_t i = 0; i < nfrom_cp; i++)
		free(from_cp[i]);
	free(from_cp);
	free(vs);
	buf_free(&text);
	fpset_free(added);
}

/* Refuse to spread a damaged file: its bytes must match its checksum. */
static void check_input(const struct dl_file *f)
{
	char *want = dl_file_tag(f, "idem.xxh3_128");
	if (!want)
		return;
	char sum[33], msg[1024];
	int64_t size;
	int fd = txlog_data_fd(snap, f, msg, sizeof msg);
	if (fd < 0 || !file_xxh3_fd(fd, sum, &size) || size != f->size ||
	    strcmp(sum, want) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s: damaged or missing data file "
			"(run txlog verify); nothing optimized", snap->table,
			f->path);
	close(fd);
	free(want);
}

static struct dfile *new_out(const struct dl_file *like)
{
	open_out = dfile_open(snap->table, snap->schema, snap->part_cols,
			      snap->npart, pvals_of(like), txlog_next_part(),
			      opt.level);
	return open_out;
}

static void seal(struct dfile **out, const char *extra)
{
	uint64_t bytes = 0, recs = 0;
	open_out = NULL; /* sealing dies before publishing, or publishes */
	dfile_seal(*out, false, extra, &t.actions, &t.written, &t.nwritten,
		   &recs, &bytes);
	*out = NULL;
	n_added++;
	bytes_added += bytes;
}

static _Noreturn void damaged(const struct dl_file *f, uint64_t lineno)
{
	cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": damaged data file (run "
		"txlog verify --deep); nothing optimized", snap->table,
		f->path, lineno);
}

/* Another writer's row (scanned into rec) given the partition columns
 * it leaves out, from f's add (txlog_row_fill), into ln and rec; one
 * whose own value is not f's stops the optimize. */
static void fill(const struct dl_file *f, struct line *ln,
		 struct scan_record *rec)
{
	static struct buf filled;
	const char *why = txlog_row_fill(snap, f, ln, rec, &filled);
	if (why)
		cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": %s; nothing "
			"optimized", snap->table, f->path, ln->lineno, why);
}

/* A file txlog wrote, compacted without parsing: read it whole (one
 * open, one read), check its checksum on those bytes, and stream its
 * decompressed lines into out, counting them.  This is most of the cost
 * of optimize, so it makes as few system calls as zstd itself. */
static struct buf whole;
static ZSTD_DCtx *dctx;
static char *dbuf;
#define DBUF (1u << 18)

static void copy_fast(struct dfile *out, const struct dl_file *f)
{
	struct buf p = {0};
	buf_addf(&p, "%s/%s", snap->table, f->path);
	/* the held descriptor (a data file that is a symlink is never
	 * opened) */
	char msg[1024];
	int fd = txlog_data_fd(snap, f, msg, sizeof msg);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		cli_die(EXIT_TROUBLE, "%s; nothing optimized",
			fd < 0 ? msg : strerror(errno));
	whole.len = 0;
	buf_reserve(&whole, (size_t)st.st_size + 1);
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, whole.p + got, (size_t)st.st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", p.p, strerror(errno));
		if (r == 0 || (got += (size_t)r) > (size_t)st.st_size)
			break;
	}
	close(fd);
	txlog_unhold(f);
	whole.len = got;
	char *want = dl_file_tag(f, "idem.xxh3_128");
	char sum[33];
	value_fp_hex(value_fp(whole.p, whole.len), sum);
	bool damaged = (int64_t)whole.len != f->size || !want ||
		       strcmp(sum, want) != 0;
	free(want);
	if (damaged)
		cli_die(EXIT_TROUBLE, "%s: %s: damaged data file (run txlog "
			"verify); nothing optimized", snap->table, f->path);
	buf_free(&p);
	if (!dctx) {
		dctx = ZSTD_createDCtx();
		dbuf = xmalloc(DBUF);
	}
	ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
	ZSTD_inBuffer in = {whole.p, whole.len, 0};
	uint64_t lines = 0;
	char last = '\n';
	size_t ret = 1;
	while (in.pos < in.size) {
		ZSTD_outBuffer ob = {dbuf, DBUF, 0};
		ret = ZSTD_decompressStream(dctx, &ob, &in);
		if (ZSTD_isError(ret))
			cli_die(EXIT_TROUBLE, "%s: %s: %s (damaged data file)",
				snap->table, f->path, ZSTD_getErrorName(ret));
		for (const char *c = dbuf, *e = dbuf + ob.pos;
		     (c = memchr(c, '\n', (size_t)(e - c))); c++)
			lines++;
		if (ob.pos) {
			last = dbuf[ob.pos - 1];
			dfile_write_raw(out, dbuf, ob.pos, 0);
		}
	}
	if (ret != 0)
		cli_die(EXIT_TROUBLE, "%s: %s: truncated zstd frame (damaged "
			"data file)", snap->table, f->path);
	if (last != '\n') {
		dfile_write_raw(out, "\n", 1, 0);
		lines++;
	}
	dfile_write_raw(out, "", 0, lines);
	cli_stats.bytes_in += whole.len;
	records += lines;
	const char *fst = dl_file_stats(f);
	int64_t nrec = -1;
	scan_get_i64(fst, strlen(fst), "numRecords", &nrec);
	if ((int64_t)lines != nrec)
		cli_die(EXIT_TROUBLE, "%s: %s: %" PRIu64 " lines, its statistics "
			"say %lld records (run txlog verify --deep); nothing "
			"optimized", snap->table, f->path, lines,
			(long long)nrec);
	dfile_merge_stats(out, f);
}

/* Any other file: every record parsed for its statistics. */
static void copy_parsed(struct dfile *out, const struct dl_file *f,
			struct scan_record *rec)
{
	char err[512];
	struct lines *l = open_data(snap, f);
	struct line ln;
	int rc;
	bool foreign = !txlog_file_sealed(f);
	while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
		struct scan_error se;
		if (ln.too_long || scan_record(rec, ln.p, ln.len, &se) != 0 ||
		    ln.p[rec->start] != '{')
			damaged(f, ln.lineno);
		if (foreign)
			fill(f, &ln, rec);
		dfile_track(out, rec);
		dfile_write(out, ln.p, ln.len);
		records++;
	}
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	cli_stats.bytes_in += lines_bytes(l);
	cli_progress(records, cli_stats.bytes_in);
	lines_close(l);
	txlog_unhold(f);
}

/* Stream the small files of one partition into new files. */
static void compact(struct dl_file **fs, size_t n)
{
	struct dfile *out = NULL;
	struct scan_record rec = {0};
	for (size_t i = 0; i < n; i++) {
		const struct dl_file *f = fs[i];
		remove_file(f);
		if (!out)
			out = new_out(f);
		if (dfile_stats_mergeable(f)) {
			copy_fast(out, f);
			cli_progress(records, cli_stats.bytes_in);
		} else {
			check_input(f);
			copy_parsed(out, f, &rec);
		}
		if (dfile_raw_bytes(out) >= opt.target_size)
			seal(&out, NULL);
	}
	if (out)
		seal(&out, NULL);
	scan_record_free(&rec);
}

/* ---- z-order ---- */

struct zrec {
	size_t off, len;
	uint64_t key;
	size_t idx;
	size_t voff[MAX_ZCOLS], vlen[MAX_ZCOLS]; /* vlen 0: null */
	double num[MAX_ZCOLS];          /* numbers, for ranking */
	unsigned char cls[MAX_ZCOLS];   /* jq's type order */
};

static struct buf ztext;
static struct zrec *zr;
static size_t nzr;
static size_t zcol_sorting;

/* The rank order: jq's type order, numbers by value (as doubles: two
 * numbers too close to tell apart share a rank, which only coarsens the
 * clustering), other values by their bytes.  value_compare would be
 * exact but is the slowest part of a sort of a million records. */
static int cmp_val(const void *a, const void *b)
{
	const struct zrec *x = *(struct zrec *const *)a;
	const struct zrec *y = *(struct zrec *const *)b;
	size_t c = zcol_sorting;
	if (x->cls[c] != y->cls[c])
		return x->cls[c] < y->cls[c] ? -1 : 1;
	if (x->cls[c] == 3)
		return x->num[c] < y->num[c] ? -1 : x->num[c] > y->num[c];
	size_t xn = x->vlen[c], yn = y->vlen[c];
	int r = memcmp(ztext.p + x->voff[c], ztext.p + y->voff[c],
		       xn < yn ? xn : yn);
	return r ? r : xn < yn ? -1 : xn > yn;
}

static int cmp_key(const void *a, const void *b)
{
	const struct zrec *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Interleave the columns' scaled dense ranks, high bits first; returns
 * the key's width in bits. */
static unsigned morton_keys(void)
{
	unsigned bits = (unsigned)(64 / nz);
	uint64_t *scaled = xcalloc(nzr * nz + 1, sizeof *scaled);
	struct zrec **ord = xcalloc(nzr + 1, sizeof *ord);
	for (size_t c = 0; c < nz; c++) {
		for (size_t i = 0; i < nzr; i++)
			ord[i] = &zr[i];
		zcol_sorting = c;
		qsort(ord, nzr, sizeof *ord, cmp_val);
		/* the rank is the position in that order (ties share
		 * the first one's): a quantile, so that cells of the
		 * grid hold about as many records each, however skewed
		 * the values are */
		uint64_t rank = 0, *ranks = xcalloc(nzr + 1, sizeof *ranks);
		for (size_t i = 0; i < nzr; i++) {
			if (i && cmp_val(&ord[i - 1], &ord[i]) != 0)
				rank = i;
			ranks[ord[i]->idx] = rank;
		}
		uint64_t nd = nzr ? nzr : 1;
		for (size_t i = 0; i < nzr; i++) {
			uint64_t r = ranks[i];
			/* spread the ranks over the column's bit width, so
			 * that no column dominates the key */
			scaled[i * nz + c] =
				(uint64_t)(((unsigned __int128)r << bits) / nd);
		}
		free(ranks);
	}
	for (size_t i = 0; i < nzr; i++) {
		uint64_t k = 0;
		for (unsigned b = bits; b-- > 0;)
			for (size_t c = 0; c < nz; c++)
				k = k << 1 | ((scaled[i * nz + c] >> b) & 1);
		zr[i].key = k;
	}
	free(ord);
	free(scaled);
	return bits * (unsigned)nz;
}

static void zorder(struct dl_file **fs, size_t n, const char *extra)
{
	struct scan_record rec = {0};
	char err[512];
	bool zinstant[MAX_ZCOLS];
	for (size_t c = 0; c < nz; c++)
		zinstant[c] = txlog_order(snap->schema, zcols[c]) ==
			      VALUE_ORDER_INSTANT;
	ztext.len = 0;
	nzr = 0;
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dl_file *f = fs[i];
		check_input(f);
		remove_file(f);
		struct lines *l = open_data(snap, f);
		struct line ln;
		int rc;
		bool foreign = !txlog_file_sealed(f);
		while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
			struct scan_error se;
			if (ln.too_long)
				damaged(f, ln.lineno);
			if (foreign) {
				if (scan_record(&rec, ln.p, ln.len, &se) != 0 ||
				    ln.p[rec.start] != '{')
					damaged(f, ln.lineno);
				fill(f, &ln, &rec);
			}
			size_t base = ztext.len;
			buf_add(&ztext, ln.p, ln.len);
			if (scan_record(&rec, ztext.p + base, ln.len,
					&se) != 0 ||
			    ztext.p[base + rec.start] != '{')
				damaged(f, ln.lineno);
			zr = xgrow(zr, &cap, nzr, sizeof *zr, 4096);
			struct zrec *z = &zr[nzr];
			z->off = base;
			z->len = ln.len;
			z->idx = nzr++;
			for (size_t c = 0; c < nz; c++) {
				const char *v, *why;
				size_t vn;
				z->vlen[c] = 0;
				z->voff[c] = 0;
				z->cls[c] = 0;
				if (path_lookup_record(&zpaths[c], &rec, &v, &vn,
						       &why) == PATH_FOUND &&
				    v[0] != 'n') {
					z->voff[c] = (size_t)(v - ztext.p);
					z->vlen[c] = vn;
					z->cls[c] = (unsigned char)value_type_rank(v[0]);
					struct instant ti;
					if (z->cls[c] == 3) {
						z->num[c] = strtod(v, NULL);
					} else if (zinstant[c] &&
						   time_instant_from_json(
							   v, vn, &ti, &why) == 0) {
						/* a timestamp column holds
						 * only times: rank them as
						 * the instants they name */
						z->cls[c] = 3;
						z->num[c] = (double)ti.sec +
							    ti.nsec / 1e9;
					}
				}
			}
		}
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		cli_stats.bytes_in += lines_bytes(l);
		cli_progress(records + nzr, cli_stats.bytes_in);
		lines_close(l);
		txlog_unhold(f);
	}
	unsigned keybits = morton_keys();
	qsort(zr, nzr, sizeof *zr, cmp_key);
	/* Files cut where a top-bits prefix of the key changes hold
	 * aligned cells of the Morton grid (a file that ran across a cell
	 * boundary would span a column's whole range); p bits give 2^p
	 * cells of at most about the target size. */
	uint64_t total = 0;
	for (size_t i = 0; i < nzr; i++)
		total += zr[i].len + 1;
	uint64_t want = (total + opt.target_size - 1) / opt.target_size;
	unsigned pbits = 0;
	while (pbits < keybits && (1ULL << pbits) < want)
		pbits++;
	struct dfile *out = NULL;
	for (size_t i = 0; i < nzr; i++) {
		if (out && pbits && i && (zr[i].key >> (keybits - pbits)) !=
					     (zr[i - 1].key >> (keybits - pbits)))
			seal(&out, extra);
		if (!out)
			out = new_out(fs[0]);
		struct scan_error se;
		scan_record(&rec, ztext.p + zr[i].off, zr[i].len, &se);
		dfile_track(out, &rec);
		dfile_write(out, ztext.p + zr[i].off, zr[i].len);
		if (dfile_raw_bytes(out) >= opt.target_size)
			seal(&out, extra);
	}
	if (out)
		seal(&out, extra);
	records += nzr;
	scan_record_free(&rec);
}

static void parse_zorder(struct buf *extra)
{
	char *list = xstrdup(opt.zorder);
	/* every name between the commas, an empty one too: strtok would
	 * skip it, and take 'id,' for 'id' */
	for (char *c = list, *next; c; c = next) {
		next = strchr(c, ',');
		if (next)
			*next++ = '\0';
		if (nz == MAX_ZCOLS)
			cli_usage_error("--zorder-by: at most %d columns",
					MAX_ZCOLS);
		if (*c == '.')
			c++;
		if (!*c)
			cli_usage_error("--zorder-by '%s': an empty column "
					"name", opt.zorder);
		/* twice is no second dimension, and its tag would not be
		 * the one's: a later --zorder-by id rewrote it again */
		for (size_t i = 0; i < nz; i++)
			if (strcmp(zcols[i], c) == 0)
				cli_usage_error("--zorder-by: %s is given "
						"twice", c);
		struct ds_field *f = snap->schema ?
			ds_field(snap->schema, c, strlen(c)) : NULL;
		const char *near =
			f ? NULL : txlog_nearest_column(snap->schema, c);
		if (!f && near)
			cli_usage_error("--zorder-by: %s is not a column of "
					"the table; did you mean '%s'?", c,
					near);
		if (!f)
			cli_usage_error("--zorder-by: %s is not a column of "
					"the table (txlog schema lists them)",
					c);
		for (size_t i = 0; i < snap->npart; i++)
			if (strcmp(snap->part_cols[i], c) == 0)
				cli_usage_error("--zorder-by: %s is a "
						"partition column (already "
						"one value per file)", c);
		/* what the clustering buys is file skipping by min/max,
		 * which txlog keeps of no such column (nor Delta: its
		 * OPTIMIZE refuses it, DELTA_ZORDERING_ON_COLUMN_WITHOUT_
		 * STATS); rewritten in its order, no read would skip more */
		enum dt_kind k = f->type->kind;
		if (k == DT_BOOLEAN || k == DT_BINARY || k == DT_STRUCT ||
		    k == DT_ARRAY || k == DT_MAP || k == DT_OTHER)
			cli_usage_error("--zorder-by: %s is of type %s, which "
					"has no min/max statistics: z-ordered "
					"by it, no file would be skipped", c,
					k == DT_STRUCT ? "struct"
					: k == DT_ARRAY ? "array"
					: k == DT_MAP ? "map"
					: f->type->name ? f->type->name
							: "nested");
		zcols[nz] = xstrdup(c);
		struct buf p = {0};
		buf_adds(&p, ".");
		jw_str(&p, c);
		if (path_parse(p.p, &zpaths[nz]) != 0)
			cli_die(EXIT_TROUBLE, "internal: bad column path %s",
				p.p);
		buf_free(&p);
		nz++;
	}
	free(list);
	if (!nz)
		cli_usage_error("--zorder-by: no column given");
	for (size_t i = 0; i < nz; i++) {
		if (i)
			buf_addc(&zjoined, ',');
		buf_adds(&zjoined, zcols[i]);
	}
	buf_addc(&zjoined, '\0');
	zjoined.len--;
	buf_adds(extra, ",\"idem.zorder\":");
	jw_string(extra, zjoined.p, zjoined.len);
	buf_adds(&t.params, ",\"zOrderBy\":");
	struct buf arr = {0};
	buf_addc(&arr, '[');
	for (size_t i = 0; i < nz; i++) {
		if (i)
			buf_addc(&arr, ',');
		jw_str(&arr, zcols[i]);
	}
	buf_addc(&arr, ']');
	jw_string(&t.params, arr.p, arr.len);
	buf_free(&arr);
}

/* Every file of the partition z-ordered by these columns already? */
static bool zordered(struct dl_file **fs, size_t n, const char *cols)
{
	for (size_t i = 0; i < n; i++) {
		char *v = dl_file_tag(fs[i], "idem.zorder");
		bool same = v && strcmp(v, cols) == 0;
		free(v);
		if (!same)
			return false;
	}
	return true;
}

struct keyed { /* a live file and its partition key, for sorting */
	struct dl_file *f;
	char *key;
	size_t keylen;
	size_t order; /* its place in commit order */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);
	if (c || x->keylen != y->keylen)
		return c ? c : x->keylen < y->keylen ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * optimize --where names partition columns only, so its "did you mean"
 * offers those: the nearest column of the whole table would be one the
 * next try is refused for.  A column that is not a partition column is
 * refused naming the ones that are.
 */
static void need_partition_terms(const struct pred *p,
				 const struct dl_snapshot *s)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *col = p->t[i].col;
		bool part = false;
		for (size_t c = 0; c < s->npart && !part; c++)
			part = strcmp(s->part_cols[c], col) == 0;
		if (part)
			continue;
		if (!s->npart)
			cli_usage_error("optimize --where: %s has no partition "
					"columns (optimize rewrites whole "
					"partitions): give no --where",
					s->table);
		struct buf names = {0};
		for (size_t c = 0; c < s->npart; c++) {
			if (c)
				buf_adds(&names, ", ");
			buf_adds(&names, s->part_cols[c]);
		}
		buf_addc(&names, '\0');
		if (s->schema && ds_field(s->schema, col, strlen(col)))
			cli_usage_error("optimize --where: %s is not a "
					"partition column of %s (optimize "
					"rewrites whole partitions; they are %s)",
					col, s->table, names.p);
		const char **pc = xcalloc(s->npart + 1, sizeof *pc);
		for (size_t c = 0; c < s->npart; c++)
			pc[c] = s->part_cols[c];
		const char *near = cli_nearest(col, pc);
		if (near)
			cli_usage_error("optimize --where: %s has no partition "
					"column '%s'; did you mean '%s'?",
					s->table, col, near);
		cli_usage_error("optimize --where: %s has no partition column "
				"'%s' (they are %s)", s->table, col, names.p);
	}
}

int verb_optimize(void)
{
	struct pred *p = pred_parse(opt.where, opt.nwhere, true);
	snap = load_table(-1);
	need_partition_terms(p, snap);
	pred_bind(p, snap);
	need_write(snap);
	char err[1024];
	if (dl_can_read(snap, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* Delta's delta.targetFileSize is the size of a data file on disk,
	 * compressed, which optimize cannot aim at: its target is
	 * uncompressed.  Taking the one for the other would make files
	 * several times smaller than the table asks, and the default 256M
	 * would ignore it; so the user chooses, by --target-size. */
	char *tfs = dl_config(snap, "delta.targetFileSize");
	if (tfs && !opt.target_set)
		cli_die(EXIT_TROUBLE, "%s: the table sets delta.targetFileSize "
			"(%.40s), a size of files on disk, which optimize "
			"cannot aim at: its --target-size is uncompressed; "
			"give --target-size; nothing optimized", snap->table,
			tfs);
	free(tfs);
	if (!pred_on_partitions(p, snap))
		cli_usage_error("optimize --where: only partition columns "
				"(optimize rewrites whole partitions)");
	memset(&t, 0, sizeof t);
	atexit(cleanup);
	t.snap = snap;
	t.op = "OPTIMIZE";
	struct buf extra = {0};
	if (opt.zorder)
		parse_zorder(&extra);
	if (opt.nwhere) {
		struct buf q = {0};
		buf_addc(&q, '[');
		for (size_t i = 0; i < opt.nwhere; i++) {
			if (i)
				buf_addc(&q, ',');
			jw_str(&q, opt.where[i]);
		}
		buf_addc(&q, ']');
		buf_adds(&t.params, ",\"predicate\":");
		jw_string(&t.params, q.p, q.len);
		buf_free(&q);
	}
	size_t n;
	/* the files grouped by partition, each group in commit order (a
	 * checkpoint's adds all carry its version: only their rank keeps
	 * the order the commits made) */
	struct dl_file **live = dl_live_files_committed(snap, &n);
	struct keyed *kf = xcalloc(n + 1, sizeof *kf);
	struct buf kb = {0};
	for (size_t i = 0; i < n; i++) {
		part_key(live[i], &kb);
		kf[i].f = live[i];
		kf[i].key = xmalloc(kb.len + 1);
		if (kb.len) /* unpartitioned: an empty key, no buffer */
			memcpy(kf[i].key, kb.p, kb.len);
		kf[i].keylen = kb.len;
		kf[i].order = i;
	}
	qsort(kf, n, sizeof *kf, cmp_keyed);
	for (size_t i = 0; i < n; i++)
		live[i] = kf[i].f;
	struct dl_file **small = xcalloc(n + 1, sizeof *small);
	struct dl_file **reads = xcalloc(n + 1, sizeof *reads);
	size_t where_files = 0; /* files --where may match */
	/* pass 0 finds the files to read and holds them all open before
	 * the first is read (a vacuum cannot take one midway: a file a
	 * concurrent commit removed is then a conflict, exit 75, not a
	 * read error); pass 1 rewrites them */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0, j; i < n; i = j) {
			for (j = i + 1; j < n; j++)
				if (kf[j].keylen != kf[i].keylen ||
				    memcmp(kf[j].key, kf[i].key,
					   kf[i].keylen) != 0)
					break;
			if (p->n &&
			    !pred_file_may_match(p, snap, NULL, 0, live[i]))
				continue;
			if (opt.zorder) {
				if (zordered(live + i, j - i, zjoined.p))
					continue;
				if (pass == 0)
					memcpy(reads + i, live + i,
					       (j - i) * sizeof *reads);
				else
					zorder(live + i, j - i, extra.p);
				continue;
			}
			size_t ns = 0;
			for (size_t k = i; k < j; k++)
				if (dl_file_raw_size(live[k]) < opt.target_size)
					small[ns++] = live[k];
			if (ns < 2)
				continue;
			if (pass == 1)
				compact(small, ns);
			else
				for (size_t k = i; k < j; k++)
					if (dl_file_raw_size(live[k]) <
					    opt.target_size)
						reads[k] = live[k];
		}
		if (pass == 0)
			tx_hold(&t, reads, n);
	}
	for (size_t i = 0, j; i < n; i = j) { /* (counted once) */
		for (j = i + 1; j < n; j++)
			if (kf[j].keylen != kf[i].keylen ||
			    memcmp(kf[j].key, kf[i].key, kf[i].keylen) != 0)
				break;
		if (!p->n || pred_file_may_match(p, snap, NULL, 0, live[i]))
			where_files += j - i;
	}
	txlog_release();
	free(reads);
	cli_progress_done();
	for (size_t i = 0; i < n; i++)
		free(kf[i].key);
	free(kf);
	free(small);
	free(live);
	free(zr);
	buf_free(&ztext);
	buf_free(&kb);
	buf_free(&zjoined);
	buf_free(&extra);
	pred_free(p);
	for (size_t i = 0; i < nz; i++) {
		free(zcols[i]);
		path_free(&zpaths[i]);
	}
	cli_stats.records_in = cli_stats.records_out = records;
	buf_addf(&t.params, ",\"targetSize\":\"%llu\"",
		 (unsigned long long)opt.target_size);
	buf_addf(&t.metrics, ",\"numRemovedFiles\":\"%llu\",\"numAddedFiles\":"
		 "\"%llu\",\"numRemovedBytes\":\"%llu\",\"numAddedBytes\":"
		 "\"%llu\",\"numRecords\":\"%llu\"",
		 (unsigned long long)n_removed, (unsigned long long)n_added,
		 (unsigned long long)bytes_removed,
		 (unsigned long long)bytes_added, (unsigned long long)records);
	if (!n_removed) {
		if (opt.stats)
			cli_stats_print(",\"version\":null,\"files_removed\":0,"
					"\"bytes_removed\":0,\"files_added\":0,"
					"\"bytes_added\":0,\"records\":0");
		else if (opt.nwhere && where_files == 0)
			cli_warn("%s: --where matched no file; nothing to "
				 "optimize, no commit", opt.table);
		else
			cli_warn("%s: optimize: no partition has two small "
				 "files%s; nothing to compact, no commit",
				 opt.table, opt.zorder ? " or files out of "
				 "z-order" : "");
		tx_free(&t);
		return EXIT_OK; /* nothing to compact: no commit */
	}
	/* the summary: one line, or the same as JSON with --stats; the
	 * versions of files a checkpoint gave read from the commits (a
	 * first one cleaned up from the log is not known: null) */
	bool first_known;
	checkpoint_versions(&first_known);
	char vjson[64], vtext[96];
	if (first_known) {
		snprintf(vjson, sizeof vjson, "[%lld,%lld]", (long long)v_min,
			 (long long)v_max);
		if (v_min == v_max)
			snprintf(vtext, sizeof vtext, "version %lld",
				 (long long)v_min);
		else
			snprintf(vtext, sizeof vtext, "versions %lld to %lld",
				 (long long)v_min, (long long)v_max);
	} else if (v_max >= 0) {
		snprintf(vjson, sizeof vjson, "[null,%lld]", (long long)v_max);
		snprintf(vtext, sizeof vtext, "versions up to %lld",
			 (long long)v_max);
	} else {
		snprintf(vjson, sizeof vjson, "[null,null]");
		snprintf(vtext, sizeof vtext, "versions the log no longer "
			 "has");
	}
	buf_addf(&t.stats_extra, ",\"files_removed\":%llu,\"bytes_removed\":"
		 "%llu,\"files_added\":%llu,\"bytes_added\":%llu,\"records\":"
		 "%llu,\"versions_compacted\":%s",
		 (unsigned long long)n_removed, (unsigned long long)bytes_removed,
		 (unsigned long long)n_added, (unsigned long long)bytes_added,
		 (unsigned long long)records, vjson);
	int64_t version = -1;
	t.committed = &version;
	committing = true;
	int rc = tx_commit(&t);
	if (rc == EXIT_OK && version >= 0 && !opt.stats)
		cli_warn("%s: optimize: version %lld removes %llu file%s "
			 "(%llu bytes) of %s and adds %llu (%llu bytes), %llu "
			 "records", opt.table, (long long)version,
			 (unsigned long long)n_removed, n_removed == 1 ? "" : "s",
			 (unsigned long long)bytes_removed, vtext,
			 (unsigned long long)n_added,
			 (unsigned long long)bytes_added,
			 (unsigned long long)records);
	return rc;
}
