/*
 * changes: the row-level change data feed between two versions, in
 * Delta's shape -- each changed row with _change_type (insert, delete,
 * update_preimage, update_postimage), _commit_version and
 * _commit_timestamp -- read back from what the log already keeps.
 *
 * txlog writes no change data files.  A commit's changes are the rows
 * of the files it removed and of the files it added, both with
 * dataChange true (optimize's files say false and yield nothing):
 *
 *   - a row removed and added back byte for byte in the same commit is
 *     no change: those are the copies of copy-on-write (delete, merge,
 *     overwrite --where, update), counted as a multiset of XXH3-128
 *     fingerprints of the row's bytes;
 *   - the other removed rows are deletes, the other added rows inserts;
 *   - an UPDATE puts its updated rows in files of their own (tagged
 *     TXLOG_TAG_UPDATED): those are the postimages, and the removed rows
 *     the copies do not account for are the preimages -- exact even for
 *     an update that leaves a row as it was;
 *   - a MERGE does the same (since December 2026): a removed row is a
 *     preimage when a postimage has its merge key, else a delete; in an
 *     older MERGE a deleted row and an inserted row with the same merge
 *     key (the commit's mergeKey) are one row's preimage and postimage;
 *   - an overwrite puts its new records in files of their own (tagged
 *     TXLOG_TAG_INSERTED): they are inserts, even one equal to a row it
 *     replaced (in that commit only: a RESTORE adds the file back with
 *     its tags, and its rows are copies or inserts as any other's).
 *
 * So the removed files must still be on disk: changes reads within
 * vacuum's retention, and refuses, naming the file, past it.  Memory is
 * the fingerprints of one commit's added rows plus its changed rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "expr.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "scan.h"
#include "timefmt.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"

static const char *const reserved[] = {"_change_type", "_commit_version",
				       "_commit_timestamp"};

/* A schema with a column named like one of the feed's own is refused:
 * its rows would carry the member twice. */
static void refuse_reserved(const struct ds_type *schema)
{
	for (size_t i = 0; schema && i < schema->nfields; i++)
		for (size_t k = 0; k < 3; k++)
			if (strcmp(schema->fields[i].name, reserved[k]) == 0)
				cli_die(EXIT_TROUBLE, "%s: column %s is a name "
					"the change data feed reserves (as in "
					"Delta); changes refused", opt.table,
					reserved[k]);
}

/* Die 2 when the data file of a commit's add or remove is gone. */
static _Noreturn void gone_changed(const struct dl_file *f)
{
	cli_die(EXIT_TROUBLE, "%s: the changes of version %lld need %s, "
		"which is gone (vacuumed?): changes are readable only within "
		"vacuum's retention; nothing read", opt.table,
		(long long)f->version, f->path);
}

/* The data files the range reads (path, version, size and action
 * each), found by pass 0 and held open, their sizes checked, before
 * pass 1 writes a row: a vacuum meanwhile cannot stop the feed midway. */
static struct dl_file *needed;
static size_t nneeded, needed_cap;

/* The data file of a commit's add or remove: held since pass 0; one
 * not held (more files than descriptors) that is gone now is refused
 * in the words of pass 0. */
static struct lines *open_changed(const struct dl_snapshot *w,
				  const struct dl_file *f)
{
	char msg[1024];
	struct lines *l = open_data_msg(w, f, msg, sizeof msg);
	if (l)
		return l;
	struct buf b = {0};
	buf_addf(&b, "%s/%s", w->table, f->path);
	struct stat st;
	if (lstat(b.p, &st) != 0 && errno == ENOENT)
		gone_changed(f);
	cli_die(EXIT_TROUBLE, "%s", msg);
}

static bool data_change(const struct dl_file *f)
{
	const char *v;
	size_t vn;
	return !(scan_get(f->action, f->action_len, "dataChange", &v, &vn) &&
		 v[0] == 'f');
}

/* Before any row is written: the schema a commit sets, if it sets one,
 * through refuse_reserved, and every data file its changes read still
 * there -- a vacuumed one found at version 9 after the rows of 2 to 8
 * were written is no "nothing read". */
static void commit_precheck(int64_t v, const char *text, size_t n)
{
	struct dl_snapshot *w = dl_snapshot_new(opt.table);
	char err[512];
	if (dl_apply(w, text, n, v, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	refuse_reserved(w->schema);
	for (size_t i = 0; i < w->nfiles; i++)
		if (data_change(&w->files[i])) {
			needed = xgrow(needed, &needed_cap, nneeded,
				       sizeof *needed, 64);
			const struct dl_file *f = &w->files[i];
			char *a = xmalloc(f->action_len + 1);
			memcpy(a, f->action, f->action_len);
			a[f->action_len] = '\0';
			needed[nneeded++] = (struct dl_file){
				.path = xstrdup(f->path), .action = a,
				.action_len = f->action_len, .size = f->size,
				.version = v};
		}
	dl_snapshot_free(w);
}

/* Hold every file pass 0 found, or die 2 naming the first one gone. */
static void hold_needed(void)
{
	struct dl_file **fs = xcalloc(nneeded + 1, sizeof *fs);
	for (size_t i = 0; i < nneeded; i++)
		fs[i] = &needed[i];
	const struct dl_file *gone = txlog_hold(opt.table, fs, nneeded);
	if (gone)
		gone_changed(gone);
	free(fs);
}

static bool tagged(const struct dl_file *f, const char *tag)
{
	const char *v;
	size_t vn;
	return scan_get(f->action, f->action_len, "tags", &v, &vn) &&
	       scan_get(v, vn, tag, &v, &vn);
}

static bool updated_file(const struct dl_file *f)
{
	return tagged(f, TXLOG_TAG_UPDATED);
}

static bool inserted_file(const struct dl_file *f)
{
	return tagged(f, TXLOG_TAG_INSERTED);
}

static void take_added(void *ctx, const char *p, size_t n);

/* The table at version v (its partition columns and schema), for the
 * rows of another writer's file, which may leave partition columns out:
 * w holds one commit only.  Loaded once a version that has such rows. */
static const struct dl_snapshot *table_at(int64_t v)
{
	/* two: a commit's removes are read at v - 1, its adds at v */
	static struct dl_snapshot *at[2];
	static int next;
	for (int i = 0; i < 2; i++)
		if (at[i] && at[i]->version == v)
			return at[i];
	if (at[next])
		dl_snapshot_free(at[next]);
	char err[1024];
	at[next] = dl_load(opt.table, v, err, sizeof err);
	if (!at[next])
		cli_die(EXIT_TROUBLE, "%s", err);
	const struct dl_snapshot *s = at[next];
	next ^= 1;
	return s;
}

/* What another writer's row of f (a file commit w adds or removes) is
 * read with: the table and the add that gives its partition values (a
 * remove's own may leave them out: the add before it is the file's). */
static const struct dl_file *file_at(const struct dl_snapshot *w,
				     const struct dl_file *f,
				     const struct dl_snapshot **t)
{
	if (f->live) {
		*t = table_at(w->version);
		return f;
	}
	*t = table_at(w->version - 1);
	const struct dl_file *g = dl_find(*t, f->path);
	return g ? g : f;
}

/* Each row of f to fn. */
static void each_row(const struct dl_snapshot *w, const struct dl_file *f,
		     void (*fn)(void *ctx, const char *p, size_t n), void *ctx)
{
	struct lines *l = open_changed(w, f);
	struct line ln;
	char err[512];
	int rc;
	/* a file txlog wrote is sealed by its checksum, checked at open;
	 * another writer's rows are read as JSON objects first, so that a
	 * line cut short is no row */
	bool check = !txlog_file_sealed(f);
	struct scan_record rec = {0};
	struct buf filled = {0};
	/* --stats: each row read once (take_added reads a file twice) */
	bool count = fn != take_added;
	while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
		struct scan_error se;
		if (count)
			cli_stats.records_in++;
		if (ln.too_long ||
		    (check && (scan_record(&rec, ln.p, ln.len, &se) != 0 ||
			       ln.p[rec.start] != '{')))
			cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": damaged "
				"data file", w->table, f->path, ln.lineno);
		/* and given the partition columns they leave out */
		const char *why = NULL;
		if (check) {
			const struct dl_snapshot *t;
			const struct dl_file *g = file_at(w, f, &t);
			why = txlog_row_fill(t, g, &ln, &rec, &filled);
		}
		if (why)
			cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": %s",
				w->table, f->path, ln.lineno, why);
		fn(ctx, ln.p, ln.len);
	}
	scan_record_free(&rec);
	buf_free(&filled);
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (count)
		cli_stats.bytes_in += lines_bytes(l);
	lines_close(l);
}

struct commit_rows {
	struct fpset *copies; /* added rows that may be copies: count */
	struct rowbuf del, ins;
	bool counting; /* pass 1: count the added rows */
};

static void count_added(void *ctx, const char *p, size_t n)
{
	struct commit_rows *c = ctx;
	uint64_t *cnt;
	fpset_add(c->copies, value_fp(p, n), &cnt);
	(*cnt)++;
}

/* A removed row: a copy's original when an added row not yet matched
 * has its bytes, else a change.  The payload's low half counts the added
 * rows not yet matched, its high half the matched ones, which
 * take_added then skips as copies. */
static void take_removed(void *ctx, const char *p, size_t n)
{
	struct commit_rows *c = ctx;
	uint64_t *cnt;
	struct fp128 fp = value_fp(p, n);
	if (fpset_has(c->copies, fp)) {
		fpset_add(c->copies, fp, &cnt);
		if (*cnt & 0xffffffffu) {
			*cnt = *cnt - 1 + (1ull << 32);
			return;
		}
	}
	rowbuf_add(&c->del, p, n);
}

static void take_added(void *ctx, const char *p, size_t n)
{
	struct commit_rows *c = ctx;
	uint64_t *cnt;
	struct fp128 fp = value_fp(p, n);
	if (fpset_has(c->copies, fp)) {
		fpset_add(c->copies, fp, &cnt);
		if (*cnt >> 32) {
			*cnt -= 1ull << 32;
			return; /* a copy */
		}
	}
	rowbuf_add(&c->ins, p, n);
}

static void keep_row(void *ctx, const char *p, size_t n)
{
	rowbuf_add(ctx, p, n);
}

/* One output row: the record with the three columns after its own. */
static void emit(struct buf *o, const char *p, size_t n, const char *type,
		 int64_t v, const char *ts)
{
	size_t e = n;
	while (e && p[e - 1] != '}')
		e--;
	if (!e)
		cli_die(EXIT_TROUBLE, "%s: version %lld: a row that is not "
			"an object", opt.table, (long long)v);
	o->len = 0;
	buf_add(o, p, e - 1);
	size_t k = scan_ws(p, e - 1, 1);
	buf_adds(o, k == e - 1 ? "\"_change_type\":\"" : ",\"_change_type\":\"");
	buf_adds(o, type);
	buf_addf(o, "\",\"_commit_version\":%lld,\"_commit_timestamp\":\"%s\"}",
		 (long long)v, ts);
	cli_out_line(o->p, o->len);
	cli_stats.records_out++;
}

/* The merge key of a row as a fingerprint, as the columns of schema
 * hold it (a double key's 0.1 and 0.1000000000000000055 are one, as the
 * merge matched them); false when it has none. */
static bool row_key(struct expr *e, const struct txlog_keykind *kk,
		    const char *p, size_t n, struct scan_record *rec,
		    struct buf *scratch, struct fp128 *fp)
{
	struct scan_error se;
	if (scan_record(rec, p, n, &se) != 0)
		return false;
	const char *v;
	size_t vn;
	char err[256];
	if (expr_eval(e, rec, &v, &vn, err, sizeof err) != EXPR_VALUE)
		return false;
	*fp = txlog_key_fingerprint(kk, v, vn, scratch);
	return true;
}

/* Emit rows of r (delete or insert), each an update image instead when
 * its key is in the other side's key set. */
static void emit_side(struct buf *o, const struct rowbuf *r, const char *plain,
		      const char *image, struct fpset *other, struct expr *key,
		      const struct ds_type *schema, int64_t v, const char *ts)
{
	struct scan_record rec = {0};
	struct buf scratch = {0};
	struct txlog_keykind *kk = other ? txlog_keykind_new(schema,
						expr_source(key)) : NULL;
	for (size_t i = 0; i < r->n; i++) {
		size_t n;
		const char *p = rowbuf_row(r, i, &n);
		struct fp128 fp;
		bool img = other &&
			   row_key(key, kk, p, n, &rec, &scratch, &fp) &&
			   fpset_has(other, fp);
		emit(o, p, n, img ? image : plain, v, ts);
	}
	txlog_keykind_free(kk);
	scan_record_free(&rec);
	buf_free(&scratch);
}

static struct fpset *key_set(const struct rowbuf *r, struct expr *key,
			     const struct ds_type *schema)
{
	struct fpset *s = fpset_new(false);
	struct scan_record rec = {0};
	struct buf scratch = {0};
	struct txlog_keykind *kk = txlog_keykind_new(schema, expr_source(key));
	for (size_t i = 0; i < r->n; i++) {
		size_t n;
		const char *p = rowbuf_row(r, i, &n);
		struct fp128 fp;
		if (row_key(key, kk, p, n, &rec, &scratch, &fp))
			fpset_add(s, fp, NULL);
	}
	txlog_keykind_free(kk);
	scan_record_free(&rec);
	buf_free(&scratch);
	return s;
}

/* A MERGE commit's mergeKey, compiled. */
static struct expr *merge_key(const char *mkey, int64_t v)
{
	char kerr[512];
	struct expr *key = mkey ? expr_compile(mkey, kerr, sizeof kerr) : NULL;
	if (!key)
		cli_die(EXIT_TROUBLE, "%s: version %lld: mergeKey %s: %s",
			opt.table, (long long)v, mkey ? mkey : "(none)",
			mkey ? kerr : "the commit names none");
	return key;
}

/* The changes of version v (its commit text) to stdout. */
static void version_changes(int64_t v, const char *text, size_t n,
			    const char *ts, struct buf *o)
{
	const char *ci = NULL;
	size_t cn = 0;
	char *op = NULL, *mkey = NULL;
	if (txlog_commit_info(text, n, &ci, &cn)) {
		op = scan_get_str(ci, cn, "operation");
		const char *pp;
		size_t pn;
		if (scan_get(ci, cn, "operationParameters", &pp, &pn) &&
		    pp[0] == '{')
			mkey = scan_get_str(pp, pn, "mergeKey");
	}
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - text) : n;
		const char *x;
		size_t xn;
		struct scan_error se;
		if (scan_ws(text + i, e - i, 0) < e - i &&
		    scan_validate(text + i, e - i, &se) == 0 &&
		    scan_get(text + i, e - i, "cdc", &x, &xn))
			cli_die(EXIT_TROUBLE, "%s: version %lld has change data "
				"files (cdc actions) of another writer, which "
				"txlog does not read; nothing read", opt.table,
				(long long)v);
		i = e + 1;
	}
	/* the commit's adds and removes, parsed as a load parses them */
	struct dl_snapshot *w = dl_snapshot_new(opt.table);
	char err[512];
	if (dl_apply(w, text, n, v, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* UPDATE, and MERGE since it tags them too, put updated rows in
	 * files of their own */
	bool tags_updates = op && (strcmp(op, "UPDATE") == 0 ||
			     strcmp(op, "MERGE") == 0);
	/* overwrite (WRITE) puts its new records in files of their own;
	 * a RESTORE adds such a file back with its tags, and there its
	 * rows are rows like any other: copies where it removed them */
	bool tags_inserts = op && strcmp(op, "WRITE") == 0;
	struct commit_rows c = {.copies = fpset_new(true)};
	struct rowbuf post = {0};
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct dl_file *f = &w->files[i];
		if (!f->live || !data_change(f))
			continue;
		if (tags_updates && updated_file(f))
			each_row(w, f, keep_row, &post);
		else if (tags_inserts && inserted_file(f))
			each_row(w, f, keep_row, &c.ins);
		else
			each_row(w, f, count_added, &c);
	}
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct dl_file *f = &w->files[i];
		if (!f->live && data_change(f))
			each_row(w, f, take_removed, &c);
	}
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct dl_file *f = &w->files[i];
		if (f->live && data_change(f) &&
		    !(tags_updates && updated_file(f)) &&
		    !(tags_inserts && inserted_file(f)))
			each_row(w, f, take_added, &c);
	}
	bool merge = op && strcmp(op, "MERGE") == 0;
	/* the merge's keys as the columns the table had then hold them */
	const struct ds_type *ks = merge ? table_at(v)->schema : NULL;
	if (tags_updates && post.n && merge) {
		/* a removed row is an updated row's preimage when a
		 * postimage has its key, else a delete (--delete-when) */
		struct expr *key = merge_key(mkey, v);
		struct fpset *pk = key_set(&post, key, ks);
		emit_side(o, &c.del, "delete", "update_preimage", pk, key, ks,
			  v, ts);
		emit_side(o, &post, "update_postimage", NULL, NULL, NULL, NULL,
			  v, ts);
		emit_side(o, &c.ins, "insert", NULL, NULL, NULL, NULL, v, ts);
		fpset_free(pk);
		expr_free(key);
	} else if (tags_updates && post.n) {
		emit_side(o, &c.del, "update_preimage", NULL, NULL, NULL, NULL,
			  v, ts);
		emit_side(o, &post, "update_postimage", NULL, NULL, NULL, NULL,
			  v, ts);
		emit_side(o, &c.ins, "insert", NULL, NULL, NULL, NULL, v, ts);
	} else if (mkey && op && strcmp(op, "MERGE") == 0 && c.del.n &&
		   c.ins.n) {
		/* a merge of an older txlog: updated rows were written
		 * with the copies, so a row updated to its own bytes
		 * cancels out and is not shown */
		struct expr *key = merge_key(mkey, v);
		struct fpset *dk = key_set(&c.del, key, ks);
		struct fpset *ik = key_set(&c.ins, key, ks);
		emit_side(o, &c.del, "delete", "update_preimage", ik, key, ks,
			  v, ts);
		emit_side(o, &c.ins, "insert", "update_postimage", dk, key, ks,
			  v, ts);
		fpset_free(dk);
		fpset_free(ik);
		expr_free(key);
	} else {
		emit_side(o, &c.del, "delete", NULL, NULL, NULL, NULL, v, ts);
		emit_side(o, &c.ins, "insert", NULL, NULL, NULL, NULL, v, ts);
	}
	fpset_free(c.copies);
	rowbuf_free(&c.del);
	rowbuf_free(&c.ins);
	rowbuf_free(&post);
	dl_snapshot_free(w);
	free(op);
	free(mkey);
}

int verb_changes(void)
{
	if (opt.from < 0)
		cli_usage_error("changes needs --from V1");
	struct dl_snapshot *s = load_table(-1);
	char err[1024];
	if (dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	int64_t to = opt.to >= 0 ? opt.to : s->version;
	if (opt.from > s->version || to > s->version)
		cli_die(EXIT_TROUBLE, "%s: version %lld does not exist (the "
			"newest is %lld)", opt.table,
			(long long)(opt.from > s->version ? opt.from : to),
			(long long)s->version);
	if (opt.from > to)
		cli_usage_error("--from %lld is after --to %lld",
				(long long)opt.from, (long long)to);
	refuse_reserved(s->schema);
	dl_snapshot_free(s);
	/* A restore can bring back a schema without a column that rows of
	 * the range still hold: check the schema before the range too, and
	 * every schema the range sets, before a row is written. */
	if (opt.from > 0 && (s = dl_load(opt.table, opt.from - 1, err,
					 sizeof err))) {
		refuse_reserved(s->schema);
		dl_snapshot_free(s);
	}
	size_t nv;
	int64_t *vs = dl_list_versions(opt.table, &nv, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	int64_t *times = txlog_commit_times(vs, nv);
	struct buf text = {0}, o = {0};
	/* pass 0 checks the schemas and files, pass 1 writes the rows */
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		if (pass == 1)
			hold_needed();
		for (int64_t v = opt.from; v <= to; v++) {
			while (k < nv && vs[k] < v)
				k++;
			int rc = k < nv && vs[k] == v
					 ? dl_read_commit(opt.table, v, &text,
							  err, sizeof err)
					 : 1;
			if (rc < 0)
				cli_die(EXIT_TROUBLE, "%s", err);
			if (rc == 1 || times[k] == TXLOG_TIME_GONE)
				cli_die(EXIT_TROUBLE, "%s: the commit of "
					"version %lld is gone (log cleanup): "
					"its changes cannot be read; start "
					"--from a later version", opt.table,
					(long long)v);
			if (pass == 0) {
				commit_precheck(v, text.p, text.len);
				continue;
			}
			/* floored: a time before 1970 is negative */
			int64_t msec = (times[k] % 1000 + 1000) % 1000;
			struct instant at = {(times[k] - msec) / 1000,
					     (int32_t)msec * 1000000};
			char ts[TIME_STRMAX];
			time_format_instant(&at, TIME_STYLE_MILLIS, ts);
			version_changes(v, text.p, text.len, ts, &o);
		}
	}
	txlog_release();
	for (size_t i = 0; i < nneeded; i++) {
		free(needed[i].path);
		free((char *)needed[i].action);
	}
	free(needed);
	buf_free(&text);
	buf_free(&o);
	free(times);
	free(vs);
	if (opt.stats) {
		char extra[96];
		snprintf(extra, sizeof extra, ",\"from\":%lld,\"to\":%lld",
			 (long long)opt.from, (long long)to);
		cli_stats_print(extra);
	}
	return EXIT_OK;
}
