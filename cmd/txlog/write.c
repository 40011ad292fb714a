/*
 * The writing verbs: init, append, overwrite, delete, merge.
 *
 * Every write is one transaction (tx.c): read the snapshot, check each
 * input record against the schema (refuse, exit 2, nothing committed),
 * write new data files, name the files it removes, then commit.  Rows are
 * never changed in place: a delete or merge that touches some rows of a
 * file removes the file and adds a rewritten one (copy-on-write).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "badrec.h"
#include "cli.h"
#include "commit.h"
#include "delta/logsum.h"
#include "expr.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "par.h"
#include "timefmt.h"
#include "txlog.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"
#include "zio.h"

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "rbe"); /* close-on-exec */
	if (!f)
		cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(errno));
	struct buf b = {0};
	char tmp[65536];
	size_t r;
	while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&b, tmp, r);
	if (ferror(f))
		cli_die(EXIT_TROUBLE, "%s: read error", path);
	fclose(f);
	buf_addc(&b, '\0');
	b.len--;
	return b.p;
}

/* Column metadata of a partition column init declared before its type
 * is known (an --infer table). */
#define INFER_PENDING "idem.inferPending"

/* ---- init ---- */

/* The first type under t (a column path in path) that txlog cannot
 * write: one it does not know ("variant", which would also need its
 * table feature), or a map whose keys are not strings.  NULL: none. */
static const char *unwritable(const struct ds_type *t, struct buf *path,
			      bool *key)
{
	if (t->kind == DT_OTHER)
		return t->raw;
	if (t->kind == DT_MAP && t->key && strcmp(t->key, "\"string\"") != 0) {
		*key = true;
		return t->key;
	}
	if (t->kind == DT_ARRAY || t->kind == DT_MAP) {
		buf_adds(path, "[]");
		return unwritable(t->elem, path, key);
	}
	size_t at = path->len;
	for (size_t i = 0; t->kind == DT_STRUCT && i < t->nfields; i++) {
		path->len = at;
		buf_addc(path, '.');
		buf_adds(path, t->fields[i].name);
		const char *why = unwritable(t->fields[i].type, path, key);
		if (why)
			return why;
	}
	path->len = at;
	return NULL;
}

/* A log with any version in it is a table, even without version 0:
 * log cleanup deletes the commits a checkpoint stands in for, and a new
 * version 0 put beside them would be another table's start. */
static void refuse_a_log(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		cli_die(EXIT_TROUBLE, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	long long oldest = -1;
	bool hint = false;
	while ((e = readdir(d))) {
		/* (not a commit's temporary file, which a crash leaves) */
		long long v = dl_entry_version(e->d_name);
		if (v >= 0 && (oldest < 0 || v < oldest))
			oldest = v;
		hint |= strcmp(e->d_name, "_last_checkpoint") == 0;
	}
	closedir(d);
	if (oldest >= 0)
		cli_die(EXIT_TROUBLE, "%s: already a table (version %lld "
			"exists)", opt.table, oldest);
	if (hint)
		cli_die(EXIT_TROUBLE, "%s: already a table (_delta_log/"
			"_last_checkpoint exists)", opt.table);
}

int verb_init(void)
{
	if (opt.schema_file && opt.infer)
		cli_usage_error("--schema and --infer exclude each other");
	/* a column twice (or twice but for case) made a version 0 every
	 * later verb refused as unreadable, or folders i=1/i=1/ */
	for (size_t i = 0; i < opt.npart; i++) {
		for (size_t j = 0; j < i; j++) {
			const char *a = opt.part[j], *b = opt.part[i];
			if (strcmp(a, b) == 0)
				cli_usage_error("--partition-by %s: given twice",
						a);
			if (strcasecmp(a, b) == 0)
				cli_usage_error("--partition-by %s and %s differ "
						"only in case (Delta column names "
						"are unique regardless of case)",
						a, b);
		}
	}
	struct ds_type *schema;
	char err[1024];
	if (opt.schema_file) {
		char *text = read_whole(opt.schema_file);
		schema = ds_parse(text, strlen(text), err, sizeof err);
		free(text);
		if (!schema)
			cli_die(EXIT_TROUBLE, "%s: %s", opt.schema_file, err);
		/* refused before version 0: a table txlog cannot write to
		 * (and a "variant" column without its table feature is no
		 * Delta table) */
		struct buf col = {0};
		bool key = false;
		const char *bad = unwritable(schema, &col, &key);
		if (bad) {
			buf_addc(&col, '\0');
			cli_die(EXIT_TROUBLE, "%s: column %s: %s%s is not a type "
				"txlog writes%s; nothing created",
				opt.schema_file, col.p, key ? "a map keyed by "
							    : "type ", bad,
				key ? " (JSON object keys are strings)" : "");
		}
		buf_free(&col);
		for (size_t i = 0; i < opt.npart; i++) {
			struct ds_field *f = ds_field(schema, opt.part[i],
						      strlen(opt.part[i]));
			const char *near =
				f ? NULL : txlog_nearest_column(schema,
								opt.part[i]);
			if (near)
				cli_usage_error("--partition-by %s: %s has no "
						"column '%s'; did you mean "
						"'%s'?", opt.part[i],
						opt.schema_file, opt.part[i],
						near);
			if (!f)
				cli_usage_error("--partition-by %s: %s has no "
						"column '%s'", opt.part[i],
						opt.schema_file, opt.part[i]);
			if (!ds_primitive(f->type))
				cli_die(EXIT_TROUBLE,
					"%s: partition column %s must be a "
					"primitive column of the schema",
					opt.schema_file, opt.part[i]);
			if (f->type->kind == DT_BINARY)
				cli_die(EXIT_TROUBLE, "%s: partition column %s "
					"is binary: PROTOCOL.md's partition "
					"value is its bytes, and txlog holds "
					"binary as base64 text; partition by "
					"another column", opt.schema_file,
					opt.part[i]);
		}
		/* column metadata a writer must enforce (delta.invariants,
		 * delta.generationExpression, delta.identity.*, a type
		 * change) makes a table no write could go to, its rules
		 * never checked: refused before anything is created */
		struct buf trial = {0};
		dl_protocol_action(&trial, false, schema);
		dl_metadata_action(&trial, "trial", NULL, schema,
				   (char *const *)opt.part, opt.npart, NULL, 0);
		struct dl_snapshot *ts = dl_snapshot_new(opt.table);
		size_t tl = strlen(opt.table);
		if (dl_apply(ts, trial.p, trial.len, 0, err, sizeof err) == 0 &&
		    dl_can_write(ts, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s; nothing created",
				opt.schema_file,
				strncmp(err, opt.table, tl) == 0 &&
				strncmp(err + tl, ": ", 2) == 0 ? err + tl + 2
								: err);
		dl_snapshot_free(ts);
		buf_free(&trial);
	} else {
		/* PROTOCOL.md: partitionColumns are "names of columns" of
		 * the schema, from version 0 on; an inferred schema has
		 * none until the first write, and no type to give one */
		schema = ds_new_struct();
		for (size_t i = 0; i < opt.npart; i++) {
			/* PROTOCOL.md: partitionColumns name columns of the
			 * schema, from version 0 on.  Until the first write
			 * infers its type, a partition column is a nullable
			 * string (a partition value is a string in the log)
			 * marked as pending: that write retypes it. */
			struct buf f = {0};
			buf_adds(&f, "{\"type\":\"struct\",\"fields\":[{\"name\":");
			jw_str(&f, opt.part[i]);
			buf_adds(&f, ",\"type\":\"string\",\"nullable\":true,"
				     "\"metadata\":{\"" INFER_PENDING "\":true}}]}");
			struct ds_type *one = ds_parse(f.p, f.len, err,
						       sizeof err);
			if (!one)
				cli_die(EXIT_TROUBLE, "--partition-by %s: %s",
					opt.part[i], err);
			schema->fields = xreallocarray(schema->fields,
						       schema->nfields + 1,
						       sizeof *schema->fields);
			schema->fields[schema->nfields++] = one->fields[0];
			one->nfields = 0;
			ds_free(one);
			buf_free(&f);
		}
	}
	struct buf dir = {0};
	buf_addf(&dir, "%s/_delta_log", opt.table);
	/* like mkdir -p: the folders above the table may be new too.  A
	 * new folder is a name in its parent, durable only once the parent
	 * is fsynced: else a power cut after exit 0 takes the whole table
	 * (tests/powercut). */
	for (char *c = dir.p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(dir.p, 0777) == 0) {
			if (commit_sync_dir(dir.p, err, sizeof err) != 0)
				cli_die(EXIT_TROUBLE, "%s", err);
		} else if (errno != EEXIST) {
			cli_die(EXIT_TROUBLE, "%s: %s", dir.p, strerror(errno));
		}
		*c = '/';
	}
	if (mkdir(dir.p, 0777) != 0 && errno != EEXIST)
		cli_die(EXIT_TROUBLE, "%s: %s", dir.p, strerror(errno));
	if (commit_sync_dir(dir.p, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	refuse_a_log(dir.p);
	struct buf cfg = {0};
	if (opt.checkpoint_every)
		buf_addf(&cfg, "\"delta.checkpointInterval\":\"%lld\"",
			 (long long)opt.checkpoint_every);
	if (!opt.schema_file) {
		if (cfg.len)
			buf_addc(&cfg, ',');
		buf_adds(&cfg, "\"idem.inferSchema\":\"true\"");
	}
	char id[37];
	dl_uuid(id);
	int64_t now = time_now() / 1000000;
	struct buf b = {0};
	/* commitInfo first, with the checksum (delta/logsum.h) */
	buf_addf(&b, "{\"commitInfo\":{\"timestamp\":%lld,\"operation\":"
		 "\"CREATE TABLE\",\"operationParameters\":{\"partitionBy\":"
		 "\"[", (long long)now);
	for (size_t i = 0; i < opt.npart; i++) {
		struct buf q = {0};
		jw_str(&q, opt.part[i]);
		if (i)
			buf_addc(&b, ',');
		/* the parameter is a JSON text inside a string */
		struct buf qq = {0};
		jw_string(&qq, q.p, q.len);
		buf_add(&b, qq.p + 1, qq.len - 2);
		buf_free(&q);
		buf_free(&qq);
	}
	buf_addf(&b, "]\"},\"isBlindAppend\":true,\"engineInfo\":"
		 "\"idem-txlog/%s\",", IDEM_VERSION);
	size_t at = dl_sum_member(&b);
	buf_adds(&b, "}}\n");
	dl_protocol_action(&b, false, schema);
	dl_metadata_action(&b, id, NULL, schema, (char *const *)opt.part,
			   opt.npart, cfg.p, now);
	dl_sum_seal(&b, at);
	int rc = dl_write_commit(opt.table, 0, b.p, b.len, err, sizeof err);
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (rc == 1)
		cli_die(EXIT_TROUBLE, "%s: already a table (version 0 exists)",
			opt.table);
	buf_free(&b);
	buf_free(&cfg);
	buf_free(&dir);
	ds_free(schema);
	return EXIT_OK;
}

/* ---- reading input records ---- */

struct ingest {
	struct dl_snapshot *s;
	struct ds_type *schema; /* a copy, evolved when allowed */
	const struct ds_type *base; /* what a type change is measured from */
	struct ds_type *empty;      /* base of an inferring first write */
	bool evolve, changed;
	struct pred *must; /* overwrite: records must match */
	uint64_t records;
};

static bool infer_table(const struct dl_snapshot *s)
{
	const char *cf;
	size_t cn;
	if (!scan_get(s->metadata, strlen(s->metadata), "configuration", &cf,
		      &cn))
		return false;
	char *v = scan_get_str(cf, cn, "idem.inferSchema");
	bool yes = v && strcmp(v, "true") == 0;
	free(v);
	return yes;
}

/* An --infer table before its first write: no column, or only the
 * partition columns init declared as pending. */
static bool infer_pending(const struct dl_snapshot *s)
{
	if (!infer_table(s))
		return false;
	for (size_t i = 0; i < s->schema->nfields; i++) {
		const char *m = s->schema->fields[i].metadata;
		if (!m || !strstr(m, "\"" INFER_PENDING "\""))
			return false;
	}
	return true;
}

static void ingest_init(struct ingest *g, struct dl_snapshot *s)
{
	memset(g, 0, sizeof *g);
	g->s = s;
	g->base = s->schema;
	if (infer_pending(s)) {
		/* the first write infers every column, the pending
		 * partition columns included: no type change to record */
		g->schema = ds_new_struct();
		g->empty = ds_new_struct();
		g->base = g->empty;
		g->evolve = true;
	} else {
		g->schema = ds_copy(s->schema);
		g->evolve = opt.merge_schema;
	}
}

typedef void (*record_fn)(void *ctx, const struct scan_record *r,
			  const char *name, uint64_t lineno);

/*
 * The records are read on lib/par's threads: each worker checks its
 * lines (JSON, an object) and whether the record conforms to the schema
 * as it is (ds_typer in the same scan, else ds_conforms, on a snapshot
 * nobody writes); the calling thread
 * then takes them in input order: a record that did not conform is
 * checked again against the live schema, which may widen it (or say
 * what is wrong, with the same message as ever), and is written.  A
 * snapshot a worker reads was published by records before its own
 * (apply is in order, behind every prep), and a record that conforms to
 * a schema conforms to its widenings: so the answers are the in-order
 * ones for any -j.
 */
#define INGEST_MAX_SNAPSHOTS 64 /* then the rest is checked in order */

struct ingest_slot {
	const char *fault;  /* the line's fault (cli_line_fault), or NULL */
	bool conforms;      /* passed the snapshot as it is */
	size_t start;       /* scan_record's start */
	const struct scan_member *members; /* in the chunk's arena */
	size_t nmembers;
};

struct ingest_worker {
	struct cli_worker cw;
	struct ds_typer typer; /* of the snapshot ty was made for */
	struct scan_typer ty;
	struct ds_memo memo; /* ds_conforms', for what the typer declines */
	const struct ds_type *memo_snap; /* the snapshot memo was made by */
	void *cctx;      /* zframes_compress's */
	struct buf raw;  /* a chunk's lines joined, when they are not */
};

/*
 * An unpartitioned write's chunk, made on the thread that parsed it
 * (ingest_chunk_prep): its lines' frames and statistics, which the
 * calling thread adds to the file in input order instead of taking the
 * records one by one (whose bytes it would fetch from another core's
 * cache: append -j 2 spent a fifth of its CPU there).  The frames
 * depend on the chunk's bytes only, and a file's chunks are the same
 * for any -j (lib/par): so are its bytes.
 */
struct ingest_chunk {
	bool ok; /* every line a record, compressed and tracked */
	unsigned char *z;
	size_t zlen, zcap;
	uint64_t raw, nrec;
	struct dstats *st;
};
_Static_assert(offsetof(struct ingest_worker, cw) == 0, "cli_worker_new");

static struct ingest_run {
	struct ingest *g;
	record_fn fn;
	void *ctx;
	struct ds_memo memo; /* the live schema's */
	const struct ds_type *snap; /* published: read with acquire */
	struct ds_type **snaps; /* every one published, freed at the end */
	size_t nsnaps;
	const char *name, *shown; /* the file being applied, as said */
	/* an unpartitioned write: its chunks go whole to its one file */
	struct dws *lone;
	/* what the workers read of it, copied: a bad record's txlog_fail
	 * frees the writer while they may still be at a chunk */
	const struct ds_type *lone_schema;
	struct zpool *pool;
	int level;
	const struct ingest_chunk *cur; /* being applied, its lines written */
} run;

static void publish_snapshot(void)
{
	if (run.nsnaps == INGEST_MAX_SNAPSHOTS)
		return; /* a schema that keeps changing: check in order */
	struct ds_type *c = ds_copy(run.g->schema);
	run.snaps = xreallocarray(run.snaps, run.nsnaps + 1, sizeof *run.snaps);
	run.snaps[run.nsnaps++] = c;
	__atomic_store_n(&run.snap, c, __ATOMIC_RELEASE);
}

static void *ingest_worker_new(void *arg, int index)
{
	(void)arg;
	return cli_worker_new(sizeof(struct ingest_worker), index);
}

static void ingest_worker_free(void *wctx)
{
	struct ingest_worker *w = wctx;
	ds_memo_free(&w->memo);
	zframes_free(w->cctx);
	buf_free(&w->raw);
	cli_worker_free(w);
}

static void ingest_prep(void *wctx, const struct line *ln, void *slot,
			struct par_chunk *ch)
{
	struct ingest_worker *w = wctx;
	struct ingest_slot *s = slot;
	struct scan_record *rec = &w->cw.rec;
	char msg[512];
	bool is_json, fits;
	memset(s, 0, sizeof *s);
	/* the line is checked, and typed against the snapshot, in one
	 * pass (ds_typer: ds_conforms' answer where it follows the record) */
	const struct ds_type *snap = __atomic_load_n(&run.snap,
						     __ATOMIC_ACQUIRE);
	if (snap && snap != w->typer.root)
		ds_typer_init(&w->typer, snap, &w->ty);
	if (cli_line_fault_typed(ln, opt.max_line, "--max-line", rec, true,
				 &is_json, msg, sizeof msg,
				 snap ? &w->ty : NULL, &fits)) {
		s->fault = par_keep(ch, msg, strlen(msg));
		return;
	}
	/* watermark --emit's progress, which window consumes, and the end
	 * line of a window shard's output, which window merge checks:
	 * stored, either would be a row of nulls and a column no one asked
	 * for */
	if (wm_control_line(rec)) {
		s->fault = "a _watermark line is watermark --emit's progress, "
			   "not a row (window consumes it; leave out --emit)";
		return;
	}
	if (wm_shard_line(rec)) {
		s->fault = "a _shard line ends a window --shard run's output, "
			   "for window merge, not a row (append window "
			   "merge's output)";
		return;
	}
	s->start = rec->start;
	s->nmembers = rec->nmembers;
	s->members = (const struct scan_member *)par_keep(
		ch, rec->members, rec->nmembers * sizeof *rec->members);
	/* what the typer does not follow (a map, an escaped name, a table
	 * of more than 64 columns) is still checked here, off the calling
	 * thread */
	if (!fits && snap) {
		if (snap != w->memo_snap) { /* field positions may differ */
			for (size_t i = 0; i < w->memo.cap; i++)
				w->memo.e[i].lit.len = 0;
			w->memo_snap = snap;
		}
		fits = ds_conforms(snap, rec, &w->memo);
	}
	s->conforms = fits;
}

/* A top-level member of rec the schema lacks, which err refuses, that is
 * a typo of one of its columns: ": did you mean .amount? (--merge-schema
 * adds .amuont as a new column)" into out, else nothing.  A misspelt member refused with "--merge-schema adds it"
 * alone would be added as a column of its own by a user who took the
 * advice. */
static void unknown_column_near(const struct ds_type *schema,
				const struct scan_record *rec, const char *err,
				char *out, size_t outlen)
{
	char name[256];
	for (size_t i = 0; i < rec->nmembers; i++) {
		const struct scan_member *m = &rec->members[i];
		if (m->parent != SCAN_TOP || m->key_len > sizeof name)
			continue;
		size_t n = scan_string_decode(rec->p + m->key, m->key_len, name);
		if (memchr(name, '\0', n) || ds_field(schema, name, n))
			continue;
		name[n] = '\0';
		/* only of the column the refusal names: a nested one's
		 * may come first */
		char said[300];
		snprintf(said, sizeof said, "column .%s: not in", name);
		/* a short name is no typo of another (.w is not .v) */
		const char *near = n >= 3 ? txlog_nearest_column(schema, name)
					  : NULL;
		if (near && !strncmp(err, said, strlen(said)))
			snprintf(out, outlen, ": did you mean .%s? "
				 "(--merge-schema adds .%s as a new column)",
				 near, name);
		return;
	}
}

static void ingest_apply(const struct line *ln, const char *name, void *slot)
{
	const struct ingest_slot *s = slot;
	struct ingest *g = run.g;
	char err[1024];
	/* lines_name's "<stdin>" as txlog has always said it (one compare
	 * per file, not per record) */
	if (name != run.name) {
		run.name = name;
		run.shown = strcmp(name, "<stdin>") ? name : "stdin";
	}
	const char *shown = run.shown;
	cli_stats.records_in++;
	/* the shared check; a bad line fails the whole write (all or
	 * nothing, no --dlq) */
	if (s->fault)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s; nothing committed",
			   shown, ln->lineno, s->fault);
	struct scan_record rec = {
		.p = ln->p, .n = ln->len, .start = s->start,
		.members = (struct scan_member *)s->members,
		.nmembers = s->nmembers, .cap = s->nmembers,
	};
	if (!s->conforms) {
		bool ch = false;
		if (ds_check_record(g->schema, &rec, g->evolve, &ch, &run.memo,
				    err, sizeof err) != 0) {
			char near[640] = "";
			static const char adds[] = " (--merge-schema adds it)";
			size_t el = strlen(err), al = sizeof adds - 1;
			if (!g->evolve)
				unknown_column_near(g->schema, &rec, err, near,
						    sizeof near);
			/* the typo named first, then what the advice does */
			if (near[0] && el > al && !strcmp(err + el - al, adds))
				err[el - al] = '\0';
			txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s%s; "
				   "nothing committed", shown, ln->lineno, err,
				   near);
		}
		if (ch) {
			g->changed = true;
			publish_snapshot();
		}
	}
	if (g->must && !pred_match(g->must, &rec))
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": record outside "
			   "--where; nothing committed", shown, ln->lineno);
	g->records++;
	if (!run.cur) /* else the chunk's frames hold it */
		run.fn(run.ctx, &rec, shown, ln->lineno);
}

/* After a chunk's preps, on the same thread: a chunk whose every line is
 * a record (a bad line fails the write in apply) is compressed and its
 * statistics gathered here; else its records go one by one. */
static void ingest_chunk_prep(void *wctx, const struct line *lines, size_t n,
			      const unsigned char *slots, void *cres)
{
	struct ingest_worker *w = wctx;
	struct ingest_chunk *c = cres;
	const struct ingest_slot *sl = (const struct ingest_slot *)slots;
	c->ok = false;
	c->zlen = 0;
	for (size_t k = 0; k < n; k++)
		if (sl[k].fault)
			return;
	/* the lines as the file holds them: each and a '\n'; as read
	 * (LF-terminated, back to back) they are that already */
	const char *src = n ? lines[0].p : "";
	size_t len = 0;
	bool joined = true;
	for (size_t k = 0; k < n && joined; k++) {
		joined = lines[k].p == src + len &&
			 lines[k].p[lines[k].len] == '\n';
		len += lines[k].len + 1;
	}
	if (!joined) {
		w->raw.len = 0;
		for (size_t k = 0; k < n; k++) {
			buf_add(&w->raw, lines[k].p, lines[k].len);
			buf_addc(&w->raw, '\n');
		}
		src = w->raw.p;
		len = w->raw.len;
	}
	char err[256];
	if (zframes_compress(run.pool, &w->cctx, run.level, src, len, &c->z,
			     &c->zlen, &c->zcap, err, sizeof err) != 0)
		return; /* one by one, where the error is said */
	if (!c->st)
		c->st = dstats_new(run.lone_schema);
	else
		dstats_reset(c->st);
	for (size_t k = 0; k < n; k++) {
		struct scan_record rec = {
			.p = lines[k].p, .n = lines[k].len,
			.start = sl[k].start,
			.members = (struct scan_member *)sl[k].members,
			.nmembers = sl[k].nmembers, .cap = sl[k].nmembers,
		};
		dstats_track(c->st, &rec);
	}
	c->raw = len;
	c->nrec = n;
	c->ok = true;
}

static void ingest_chunk_apply(void *cres, int end)
{
	struct ingest_chunk *c = cres;
	if (!end) {
		run.cur = c->ok ? c : NULL;
		return;
	}
	if (run.cur && c->nrec) /* an empty chunk opens no file */
		dfile_add_chunk(dws_lone_file(run.lone), c->z, c->zlen, c->raw,
				c->nrec, c->st);
	run.cur = NULL;
}

static void ingest_chunk_free(void *cres)
{
	struct ingest_chunk *c = cres;
	free(c->z);
	dstats_free(c->st);
}

static void to_dws(void *ctx, const struct scan_record *r, const char *name,
		   uint64_t lineno);

static void ingest_run(struct ingest *g, record_fn fn, void *ctx)
{
	char err[1024];
	run = (struct ingest_run){.g = g, .fn = fn, .ctx = ctx};
	txlog_reading = true;
	publish_snapshot();
	struct par_ops ops = {
		.slot_size = sizeof(struct ingest_slot),
		.worker_new = ingest_worker_new,
		.worker_free = ingest_worker_free,
		.prep = ingest_prep, .apply = ingest_apply,
	};
	if (fn == to_dws && !dws_partitioned(ctx)) {
		run.lone = ctx;
		run.lone_schema = dws_schema(ctx);
		run.pool = txlog_pool();
		run.level = dws_level(ctx);
		ops.chunk_size = sizeof(struct ingest_chunk);
		/* a chunk is a frame: 256 KiB compress to 0.7% more than
		 * 1 MiB frames (128 KiB: 4%), and -j 2 ran 5% faster */
		ops.chunk_bytes = 256u << 10;
		ops.steady_chunks = true; /* from a pipe too */
		ops.chunk_prep = ingest_chunk_prep;
		ops.chunk_apply = ingest_chunk_apply;
		ops.chunk_free = ingest_chunk_free;
	}
	if (par_each_line(opt.files, opt.max_line, txlog_threads(), &ops,
			  err, sizeof err) != 0)
		txlog_fail(EXIT_TROUBLE, "%s", err);
	for (size_t i = 0; i < run.nsnaps; i++)
		ds_free(run.snaps[i]);
	free(run.snaps);
	ds_memo_free(&run.memo);
	run = (struct ingest_run){0};
}

/* After the records: a schema that changed becomes a metaData action. */
static void ingest_finish(struct ingest *g, struct tx *t)
{
	if (!g->changed)
		return;
	/* the first write of an --infer table whose records all lack a
	 * partition column: null in every row, as in any other table's
	 * write, so the nullable string init declared, now settled */
	for (size_t i = 0; g->empty && i < g->s->npart; i++) {
		const char *c = g->s->part_cols[i];
		const struct ds_field *was = ds_field(g->s->schema, c,
						      strlen(c));
		if (ds_field(g->schema, c, strlen(c)) || !was)
			continue;
		/* ... unless a column of the records is a typo away from
		 * it: init --infer --partition-by dya had no columns to
		 * check it against, and every row would go to the null
		 * partition of a column no record has */
		const char *near = txlog_nearest_column(g->schema, c);
		if (near)
			txlog_fail(EXIT_TROUBLE, "%s: partition column %s is in "
				   "no record; did you mean '%s'? (init "
				   "--partition-by named it; give it as null "
				   "to keep it); nothing committed", opt.table,
				   c, near);
		struct ds_type *sch = g->schema;
		sch->fields = xreallocarray(sch->fields, sch->nfields + 1,
					    sizeof *sch->fields);
		struct ds_field *f = &sch->fields[sch->nfields++];
		*f = *was;
		f->name = xstrdup(was->name);
		f->type = ds_copy(was->type);
		f->metadata = xstrdup("{}");
		sch->cap = sch->nfields;
	}
	ds_settle(g->schema);
	for (size_t i = 0; i < g->s->npart; i++) {
		const char *c = g->s->part_cols[i];
		struct ds_field *f = ds_field(g->schema, c, strlen(c));
		if (!f || !ds_primitive(f->type))
			txlog_fail(EXIT_TROUBLE, "%s: partition column %s must "
				   "be a primitive column of the records",
				   opt.table, c);
	}
	const char *m = g->s->metadata;
	size_t mn = strlen(m);
	char *id = scan_get_str(m, mn, "id");
	const char *cf;
	size_t cn;
	struct buf cfg = {0};
	bool have_cf = scan_get(m, mn, "configuration", &cf, &cn) && cn >= 2;
	if (have_cf)
		buf_add(&cfg, cf + 1, cn - 2);
	/* A wider type for an existing column is the protocol's
	 * typeWidening: the change is recorded in the field's metadata,
	 * the feature declared and delta.enableTypeWidening set. */
	char why[1024];
	if (ds_check_widening(g->base, g->schema, why, sizeof why))
		txlog_fail(EXIT_TROUBLE, "%s: %s; nothing committed", opt.table,
			   why);
	if (ds_note_widening(g->base, g->schema)) {
		char *en = have_cf ? scan_get_str(cf, cn,
						  "delta.enableTypeWidening")
				   : NULL;
		if (en && strcasecmp(en, "true") != 0)
			txlog_fail(EXIT_TROUBLE, "%s: delta.enableTypeWidening "
				   "is '%s': the table refuses wider column "
				   "types; nothing committed", opt.table, en);
		if (!en) {
			if (cfg.len)
				buf_addc(&cfg, ',');
			buf_adds(&cfg, "\"delta.enableTypeWidening\":\"true\"");
		}
		free(en);
		int64_t rv, wv;
		dl_versions(g->s, &rv, &wv);
		/* a reader and writer feature needs both lists: a
		 * minReaderVersion 1 table with writer features only has
		 * no readerFeatures to declare it in */
		if (dl_protocol_add_feature(&t->actions, g->s->protocol,
					    "typeWidening") < 0)
			txlog_fail(EXIT_TROUBLE, "%s: the table's protocol "
				   "(minReaderVersion %lld, minWriterVersion "
				   "%lld) has no %s, so the typeWidening reader "
				   "and writer feature cannot be declared: "
				   "widening refused; nothing committed",
				   opt.table, (long long)rv, (long long)wv,
				   wv == 7 ? "reader features" : "table features");
	}
	int64_t created = 0;
	scan_get_i64(m, mn, "createdTime", &created);
	/* another writer's name and description stay with the table */
	struct buf kept = {0};
	static const char *const keep[] = {"name", "description"};
	for (size_t i = 0; i < 2; i++) {
		const char *v;
		size_t vn;
		if (!scan_get(m, mn, keep[i], &v, &vn))
			continue;
		if (kept.len)
			buf_addc(&kept, ',');
		jw_str(&kept, keep[i]);
		buf_addc(&kept, ':');
		buf_add(&kept, v, vn);
	}
	buf_addc(&kept, '\0');
	dl_metadata_action(&t->actions, id ? id : "", kept.p, g->schema,
			   g->s->part_cols, g->s->npart, cfg.p ? cfg.p : "",
			   created);
	free(id);
	buf_free(&kept);
	buf_free(&cfg);
}

static void to_dws(void *ctx, const struct scan_record *r, const char *name,
		   uint64_t lineno)
{
	char err[512];
	if (dws_add(ctx, r, err, sizeof err) != 0)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s", name, lineno,
			   err);
}

static void tx_begin(struct tx *t, struct dl_snapshot *s, const char *op)
{
	memset(t, 0, sizeof *t);
	t->snap = s;
	t->op = op;
	parse_txn(&t->txn_app, &t->txn_version);
}

/* --txn at or below the recorded version: a replay, nothing to do.
 * A verb that reads records (drain) reads them to the end, so that the
 * writer feeding it sees them taken; delete reads none, and must not
 * swallow a stdin that is someone else's (a shell loop's lines). */
static bool replayed(const struct tx *t, bool drain)
{
	if (!t->txn_app)
		return false;
	int64_t have = dl_txn_version(t->snap, t->txn_app);
	if (have < t->txn_version)
		return false;
	if (drain)
		drain_inputs();
	cli_warn("%s: txn %s:%lld already committed (recorded version "
		 "%lld); nothing written", opt.table, t->txn_app,
		 (long long)t->txn_version, (long long)have);
	tx_stats_none();
	return true;
}

static void finish_files(struct tx *t, struct dws *w, uint64_t *rows,
			 uint64_t *bytes, size_t *nfiles)
{
	size_t before = t->nwritten;
	dws_finish(w, &t->actions, &t->written, &t->nwritten, rows, bytes);
	*nfiles = t->nwritten - before;
}

int verb_append(void)
{
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	struct tx t;
	tx_begin(&t, s, "WRITE");
	if (replayed(&t, true)) {
		tx_free(&t);
		return EXIT_OK;
	}
	t.blind = true;
	struct ingest g;
	ingest_init(&g, s);
	struct dws *w = dws_new(opt.table, s->schema, s->part_cols, s->npart,
				opt.level);
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	double z0 = zpool_cpu_seconds(txlog_pool());
	ingest_run(&g, to_dws, w);
	ingest_finish(&g, &t);
	if (g.changed)
		t.blind = false; /* a schema change conflicts like one */
	uint64_t rows = 0, bytes = 0;
	size_t nf;
	finish_files(&t, w, &rows, &bytes, &nf);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	/* the write's CPU apart from compression: reading, parsing, the
	 * schema check, statistics, checksums (issue 20 measures each) */
	double zcpu = zpool_cpu_seconds(txlog_pool()) - z0;
	double cpu = (double)(c1.tv_sec - c0.tv_sec) +
		     (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	buf_addf(&t.stats_extra, ",\"own_cpu_seconds\":%.6f,"
		 "\"compress_cpu_seconds\":%.6f,\"threads\":%d",
		 cpu > zcpu ? cpu - zcpu : 0, zcpu, txlog_threads());
	buf_adds(&t.params, ",\"mode\":\"Append\"");
	buf_addf(&t.metrics, ",\"numFiles\":\"%zu\",\"numOutputRows\":\"%llu\","
		 "\"numOutputBytes\":\"%llu\"", nf, (unsigned long long)rows,
		 (unsigned long long)bytes);
	cli_stats.records_out = rows;
	ds_free(g.schema);
	ds_free(g.empty);
	if (!rows && !t.txn_app && !g.changed) {
		if (opt.stats) {
			struct buf e = {0};
			buf_addf(&e, ",\"version\":null%s",
				 t.stats_extra.p ? t.stats_extra.p : "");
			cli_stats_print(e.p);
			buf_free(&e);
		}
		tx_free(&t);
		return EXIT_OK; /* nothing to add: no empty commit */
	}
	return tx_commit(&t);
}

/* ---- removing rows ---- */

void txlog_remove_action(struct buf *b, const struct dl_file *f)
{
	const char *a = f->action;
	size_t an = f->action_len;
	const char *v;
	size_t vn;
	buf_adds(b, "{\"remove\":{\"path\":");
	scan_get(a, an, "path", &v, &vn);
	buf_add(b, v, vn);
	buf_addf(b, ",\"deletionTimestamp\":%lld,\"dataChange\":true,"
		 "\"extendedFileMetadata\":true,\"partitionValues\":",
		 (long long)(time_now() / 1000000));
	if (scan_get(a, an, "partitionValues", &v, &vn))
		buf_add(b, v, vn);
	else
		buf_adds(b, "{}");
	buf_addf(b, ",\"size\":%lld", (long long)f->size);
	if (scan_get(a, an, "tags", &v, &vn)) {
		buf_adds(b, ",\"tags\":");
		buf_add(b, v, vn);
	}
	buf_adds(b, "}}\n");
}

/* Remove the rows matching p: whole files when the predicate is on
 * partitions, else read each file that may match and rewrite what is
 * left of it into w. */
static void remove_rows(struct tx *t, struct pred *p, struct dws *w,
			uint64_t *rows, size_t *files_removed)
{
	struct dl_snapshot *s = t->snap;
	size_t n;
	struct dl_file **live = dl_live_files_committed(s, &n);
	bool whole = pred_on_partitions(p, s);
	struct scan_record rec = {0};
	struct rowbuf keep = {0};
	char err[1024];
	/* a whole file goes by its numRecords; one without (another
	 * writer's) is read, so the rows deleted are counted, not said to
	 * be 0.  The files to read are held open before the first is
	 * read (a vacuum cannot take one midway). */
	bool *by_count = xcalloc(n + 1, sizeof *by_count);
	struct dl_file **reads = xcalloc(n + 1, sizeof *reads);
	for (size_t i = 0; i < n; i++) {
		struct dl_file *f = live[i];
		if (!pred_file_may_match(p, s, NULL, 0, f)) {
			live[i] = NULL;
			continue;
		}
		int64_t nr = -1;
		const char *st = dl_file_stats(f);
		if (st)
			scan_get_i64(st, strlen(st), "numRecords", &nr);
		by_count[i] = whole && nr >= 0 &&
			      pred_part_values_known(p, s, f);
		reads[i] = by_count[i] ? NULL : f;
	}
	tx_hold(t, reads, n);
	free(reads);
	for (size_t i = 0; i < n; i++) {
		struct dl_file *f = live[i];
		if (!f)
			continue;
		tx_read(t, f->path);
		if (by_count[i]) {
			int64_t nr = -1;
			const char *st = dl_file_stats(f);
			scan_get_i64(st, strlen(st), "numRecords", &nr);
			*rows += (uint64_t)nr;
			txlog_remove_action(&t->actions, f);
			(*files_removed)++;
			continue;
		}
		struct lines *l = open_data(s, f);
		struct line ln;
		uint64_t matched = 0;
		rowbuf_clear(&keep);
		while (txlog_next_row(s, l, f, &ln, &rec)) {
			if (pred_match_at(p, &rec, f->path, ln.lineno,
					  "; nothing committed")) {
				matched++;
				continue;
			}
			rowbuf_add(&keep, ln.p, ln.len);
		}
		lines_close(l);
		txlog_unhold(f);
		if (!matched)
			continue;
		*rows += matched;
		txlog_remove_action(&t->actions, f);
		(*files_removed)++;
		if (rowbuf_to_dws(&keep, w, &rec, err, sizeof err) != 0)
			txlog_fail(EXIT_TROUBLE, "%s", err);
	}
	free(by_count);
	txlog_release();
	rowbuf_free(&keep);
	scan_record_free(&rec);
	free(live);
}

/* The start of a verb that rewrites the rows --where selects: the
 * table loaded for writing, t begun with the predicate as its conflict
 * scope.  NULL when --txn is already committed (t freed, said). */
static struct pred *begin_where(struct tx *t, const char *op,
				bool simple_only, bool has_input,
				struct dl_snapshot **sp)
{
	struct pred *p = pred_parse(opt.where, opt.nwhere, simple_only);
	struct dl_snapshot *s = load_table(-1);
	pred_bind(p, s);
	need_write(s);
	tx_begin(t, s, op);
	t->pred = p;
	t->reads_all = p->jq != NULL;
	if (replayed(t, has_input)) {
		tx_free(t);
		return NULL;
	}
	*sp = s;
	return p;
}

int verb_delete(void)
{
	if (!opt.nwhere)
		cli_usage_error("delete needs --where EXPR");
	struct tx t;
	struct dl_snapshot *s;
	struct pred *p = begin_where(&t, "DELETE", false, false, &s);
	if (!p)
		return EXIT_OK;
	struct dws *w = dws_new(opt.table, s->schema, s->part_cols, s->npart,
				opt.level);
	uint64_t deleted = 0, rows = 0, bytes = 0;
	size_t removed = 0, added;
	remove_rows(&t, p, w, &deleted, &removed);
	finish_files(&t, w, &rows, &bytes, &added);
	pred_param(&t.params, "predicate", opt.where, opt.nwhere);
	buf_addf(&t.metrics, ",\"numRemovedFiles\":\"%zu\",\"numAddedFiles\":"
		 "\"%zu\",\"numDeletedRows\":\"%llu\",\"numCopiedRows\":"
		 "\"%llu\"", removed, added, (unsigned long long)deleted,
		 (unsigned long long)rows);
	cli_stats.records_out = deleted;
	if (!removed && !added) {
		/* said, so a mistyped predicate is not taken for done */
		if (t.txn_app) {
			/* the batch is done all the same: a replay after
			 * another writer added a matching row must not
			 * delete it, so the txn is committed alone */
			cli_warn("%s: --where matched no row; nothing deleted, "
				 "the commit records --txn %s only", opt.table,
				 opt.txn);
			return tx_commit(&t);
		}
		tx_stats_none();
		cli_warn("%s: --where matched no row; nothing deleted, no "
			 "commit", opt.table);
		tx_free(&t);
		return EXIT_OK; /* nothing matched: no empty commit */
	}
	return tx_commit(&t);
}

int verb_overwrite(void)
{
	struct tx t;
	struct dl_snapshot *s;
	struct pred *p = begin_where(&t, "WRITE", true, true, &s);
	if (!p)
		return EXIT_OK;
	struct dws *w = dws_new(opt.table, s->schema, s->part_cols, s->npart,
				opt.level);
	/* the new records in files of their own, tagged: changes reads
	 * them as inserts, even one byte for byte a row it replaced (a
	 * copy would cancel it) */
	struct dws *w_new = dws_new(opt.table, s->schema, s->part_cols,
				    s->npart, opt.level);
	struct ingest g;
	ingest_init(&g, s);
	g.must = p;
	uint64_t deleted = 0, rows = 0, bytes = 0;
	size_t removed = 0, added, before = t.nwritten;
	remove_rows(&t, p, w, &deleted, &removed);
	ingest_run(&g, to_dws, w_new);
	ingest_finish(&g, &t);
	finish_files(&t, w, &rows, &bytes, &added);
	dws_finish_tagged(w_new, ",\"" TXLOG_TAG_INSERTED "\":\"true\"",
			  &t.actions, &t.written, &t.nwritten, &rows, &bytes);
	added = t.nwritten - before;
	buf_adds(&t.params, ",\"mode\":\"Overwrite\"");
	if (opt.nwhere)
		pred_param(&t.params, "replaceWhere", opt.where, opt.nwhere);
	buf_addf(&t.metrics, ",\"numRemovedFiles\":\"%zu\",\"numFiles\":"
		 "\"%zu\",\"numOutputRows\":\"%llu\"", removed, added,
		 (unsigned long long)g.records);
	cli_stats.records_out = g.records;
	bool changed = g.changed;
	ds_free(g.schema);
	ds_free(g.empty);
	if (!removed && !added && !changed) {
		/* no row matched and no record came: said, as delete says
		 * it, so a mistyped --where is not taken for done */
		if (t.txn_app) {
			cli_warn("%s: the overwrite replaced no row and wrote "
				 "no record; the commit records --txn %s only",
				 opt.table, opt.txn);
			return tx_commit(&t);
		}
		tx_stats_none();
		cli_warn("%s: the overwrite replaced no row and wrote no record"
			 "%s; no commit", opt.table, opt.nwhere ? " (--where "
			 "matched none)" : "");
		tx_free(&t);
		return EXIT_OK;
	}
	return tx_commit(&t);
}

/* ---- merge ---- */

struct src {
	struct buf text; /* the source records, each followed by '\n' */
	size_t *off;
	size_t *file;   /* where each came from: an index in names */
	uint64_t *line;
	char **names;   /* the inputs, as said (copies: a reader's own
			 * copy goes with its file) */
	size_t nnames;
	size_t n, cap;
	bool *matched;
	bool *applied; /* updated or deleted at least one row */
	struct fpset *keys; /* payload: index + 1 */
	struct expr *key, *newer, *del;
	struct buf scratch;
	const struct ds_type *table; /* the table's schema (NULL: none yet) */
	/* -k's parts as table holds them: a float or double column's
	 * keys are binary numbers (set with table) */
	struct txlog_keykind *keykind;
	char newer_fp; /* --when-newer a plain path to one: 'f' or 'd' */
};

/*
 * A merge record gives the top-level columns it changes: a matched row
 * keeps the others (txlog(1)), so the source is checked with every
 * top-level column nullable (merge_relax), and what that let through is
 * refused here: a null given for a non-nullable column, and, for a
 * record that inserts a row, a non-nullable column left out.  NULL, or
 * the fault into msg.
 */
static const char *merge_required(const struct ds_type *t,
				  const struct scan_record *r, bool inserts,
				  char *msg, size_t len)
{
	for (size_t i = 0; t && i < t->nfields; i++) {
		const struct ds_field *f = &t->fields[i];
		if (f->nullable)
			continue;
		const struct scan_member *mb = NULL;
		for (size_t k = 0; k < r->nmembers && !mb; k++)
			if (scan_string_equals(r->p + r->members[k].key,
					       r->members[k].key_len, f->name,
					       f->name_len))
				mb = &r->members[k];
		if (mb && r->p[mb->val] == 'n') {
			snprintf(msg, len, "column .%s: null in a non-nullable "
				 "column", f->name);
			return msg;
		}
		if (!mb && inserts) {
			snprintf(msg, len, "column .%s: required member missing "
				 "(a record that inserts a row gives every "
				 "non-nullable column)", f->name);
			return msg;
		}
	}
	return NULL;
}

/* Every top-level column of t nullable while the source is read, each
 * one's own flag kept in was (NULL: t has none); merge_unrelax puts them
 * back before the schema is compared or written. */
static bool *merge_relax(struct ds_type *t, size_t *n)
{
	*n = t ? t->nfields : 0;
	bool *was = *n ? xcalloc(*n, sizeof *was) : NULL;
	for (size_t i = 0; i < *n; i++) {
		was[i] = t->fields[i].nullable;
		t->fields[i].nullable = true;
	}
	return was;
}

static void merge_unrelax(struct ds_type *t, bool *was, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->fields[i].nullable = was[i];
	free(was);
}

/* The merge key of r into *fp; false for a row of the table that has
 * none (its key column absent), which matches no source record.  A
 * source record must have one, and not null: in Delta's MERGE a null
 * key equals nothing, not even the table's null keys, so the record
 * would be inserted again by every replay of the merge. */
/* The first null among the elements of an array key or the members of
 * an object key (a composite key, -k '[.a,.b]'): "element 2" or
 * "member .b" into out, else false.  SQL compares a composite key part
 * by part, so one null part matches no row, as a null key does. */
static bool key_null_part(const char *v, size_t vn, char *out,
			  size_t outlen)
{
	if (vn < 2 || (v[0] != '[' && v[0] != '{'))
		return false;
	size_t i = scan_ws(v, vn, 1);
	for (size_t k = 1; i < vn && v[i] != ']' && v[i] != '}'; k++) {
		const char *name = NULL;
		size_t name_len = 0;
		if (v[0] == '{') {
			size_t ke = scan_skip(v, vn, i);
			name = v + i;
			name_len = ke - i;
			i = scan_ws(v, vn, scan_ws(v, vn, ke) + 1); /* ':' */
		}
		size_t e = scan_skip(v, vn, i);
		if (e - i == 4 && memcmp(v + i, "null", 4) == 0) {
			if (!name) {
				snprintf(out, outlen, "element %zu", k);
			} else {
				char *d = scan_strdup_lit(name, name_len);
				snprintf(out, outlen, "member .%s", d);
				free(d);
			}
			return true;
		}
		i = scan_ws(v, vn, e);
		if (i < vn && v[i] == ',')
			i = scan_ws(v, vn, i + 1);
	}
	return false;
}

static bool key_of(struct expr *e, const struct txlog_keykind *kk,
		   const struct scan_record *r, struct buf *scratch,
		   const char *where, uint64_t lineno, bool source,
		   struct fp128 *fp)
{
	const char *v;
	size_t vn;
	char err[512];
	enum expr_status st = expr_eval(e, r, &v, &vn, err, sizeof err);
	if (st == EXPR_ERROR)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": -k %s: %s; nothing "
			   "committed", where, lineno, expr_source(e), err);
	if (st != EXPR_VALUE && !source)
		return false;
	if (st != EXPR_VALUE) {
		char near[300];
		badrec_near(e, r, near, sizeof near);
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": merge key %s is "
			   "missing%s; nothing committed", where, lineno,
			   expr_source(e), near);
	}
	if (source && vn == 4 && memcmp(v, "null", 4) == 0)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": merge key %s is "
			   "null, which matches no row (SQL's nulls, as "
			   "Delta's MERGE); give the record a key; nothing "
			   "committed", where,
			   lineno, expr_source(e));
	char part[300];
	if (source && key_null_part(v, vn, part, sizeof part))
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": merge key %s has a "
			   "null %s, which matches no row (SQL compares a "
			   "composite key part by part, as Delta's MERGE); "
			   "give the record every part; nothing committed",
			   where, lineno, expr_source(e), part);
	*fp = txlog_key_fingerprint(kk, v, vn, scratch);
	return true;
}

static void to_src(void *ctx, const struct scan_record *r, const char *name,
		   uint64_t lineno)
{
	struct src *m = ctx;
	struct fp128 fp;
	char msg[300];
	if (merge_required(m->table, r, false, msg, sizeof msg))
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s; nothing committed",
			   name, lineno, msg);
	key_of(m->key, m->keykind, r, &m->scratch, name, lineno, true, &fp);
	uint64_t *pl;
	if (fpset_add(m->keys, fp, &pl))
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": the source has a "
			   "second record for merge key %s (first at %s:%"
			   PRIu64 "); a merge source must have one record per "
			   "key; nothing committed", name, lineno, expr_source(m->key),
			   m->names[m->file[*pl - 1]], m->line[*pl - 1]);
	size_t cap = m->cap;
	m->off = xgrow(m->off, &m->cap, m->n, sizeof *m->off, 1024);
	if (m->cap != cap) {
		m->file = xreallocarray(m->file, m->cap, sizeof *m->file);
		m->line = xreallocarray(m->line, m->cap, sizeof *m->line);
	}
	if (!m->nnames || strcmp(m->names[m->nnames - 1], name) != 0) {
		m->names = xreallocarray(m->names, m->nnames + 1,
					 sizeof *m->names);
		m->names[m->nnames++] = xstrdup(name);
	}
	m->file[m->n] = m->nnames - 1;
	m->line[m->n] = lineno;
	m->off[m->n++] = m->text.len;
	*pl = m->n;
	buf_add(&m->text, r->p, r->n);
	buf_addc(&m->text, '\n');
}

/* --delete-when on source record r, read at where:lineno (said when
 * the program fails, as -k's failure is). */
static bool truthy(struct expr *e, const struct scan_record *r,
		   const char *where, uint64_t lineno)
{
	const char *v;
	size_t vn;
	char err[512];
	bool holds;
	if (expr_condition(e, r, &v, &vn, &holds, err, sizeof err) ==
	    EXPR_ERROR)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": --delete-when %s: "
			   "%s; nothing committed", where, lineno,
			   expr_source(e), err);
	return holds;
}

static void src_record(struct src *m, size_t i, struct scan_record *r)
{
	size_t e = m->off[i];
	size_t end = i + 1 < m->n ? m->off[i + 1] - 1 : m->text.len - 1;
	struct scan_error se;
	scan_record(r, m->text.p + e, end - e, &se);
}

/* Whether object member m of r has a key that decodes as key[0..n). */
static bool member_named(const struct scan_record *r,
			 const struct scan_member *m, const char *key,
			 size_t n)
{
	return scan_string_equals(r->p + m->key, m->key_len, key, n);
}

/*
 * The row a matched source record makes: the target row with the columns
 * the record gives replaced, the others kept.  A partial record updates
 * only its columns; it never nulls the rest (nor moves the row to the
 * null partition).  Give a column as null to clear it.
 */
static void overlay(struct buf *o, const struct scan_record *tgt,
		    const struct scan_record *src)
{
	char stack[256];
	buf_reset(o);
	buf_addc(o, '{');
	bool first = true;
	for (size_t i = 0; i < tgt->nmembers; i++) {
		const struct scan_member *m = &tgt->members[i];
		char *key = m->key_len <= sizeof stack ? stack
						      : xmalloc(m->key_len);
		size_t kn = scan_string_decode(tgt->p + m->key, m->key_len,
					       key);
		bool given = false;
		for (size_t j = 0; j < src->nmembers && !given; j++)
			given = member_named(src, &src->members[j], key, kn);
		if (key != stack)
			free(key);
		if (given)
			continue;
		if (!first)
			buf_addc(o, ',');
		first = false;
		buf_add(o, tgt->p + m->key, m->val_end - m->key);
	}
	for (size_t j = 0; j < src->nmembers; j++) {
		const struct scan_member *m = &src->members[j];
		if (!first)
			buf_addc(o, ',');
		first = false;
		buf_add(o, src->p + m->key, m->val_end - m->key);
	}
	buf_addc(o, '}');
}

/* The value of --when-newer on r (a source record or a row of the
 * table, read at where:lineno) as JSON text ("null" when absent). */
static void newer_of(struct expr *e, const struct scan_record *r,
		     const char *where, uint64_t lineno, struct buf *out)
{
	const char *v;
	size_t vn;
	char err[512];
	out->len = 0;
	enum expr_status st = expr_eval(e, r, &v, &vn, err, sizeof err);
	if (st == EXPR_ERROR)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": --when-newer %s: %s; "
			   "nothing committed", where, lineno, expr_source(e),
			   err);
	if (st == EXPR_VALUE && expr_count(e) > 1)
		txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": --when-newer %s: "
			   "gave %zu values; it compares one; nothing "
			   "committed", where, lineno, expr_source(e),
			   expr_count(e));
	if (st == EXPR_VALUE)
		buf_add(out, v, vn);
	else
		buf_adds(out, "null");
}

/*
 * Every source record of a merge updates, inserts or deletes a row, or is
 * said here: one not newer than its row (--when-newer), one that asks to
 * delete a row the table does not hold (--delete-when), a source that
 * matched no row of a table that has rows (a wrong -k is not taken for a
 * load), and an empty source.
 */
struct merge_counts {
	uint64_t nsrc, target_rows, inserted, stale, nothing_to_delete;
};

static void merge_said(const struct merge_counts *c)
{
	uint64_t nsrc = c->nsrc, target_rows = c->target_rows;
	uint64_t inserted = c->inserted, stale = c->stale;
	uint64_t nothing_to_delete = c->nothing_to_delete;
	if (!nsrc) {
		cli_warn("%s: the merge source is empty; nothing merged",
			 opt.table);
		return;
	}
	if (stale) {
		char what[512];
		snprintf(what, sizeof what, "not newer than the row in the "
			 "table by --when-newer %s", opt.when_newer);
		cli_dropped(stale, what, "merge without --when-newer");
	}
	if (nothing_to_delete)
		cli_warn("%s: %" PRIu64 " record%s matched no row to delete "
			 "(--delete-when %s); nothing inserted for %s",
			 opt.table, nothing_to_delete,
			 nothing_to_delete == 1 ? "" : "s", opt.delete_when,
			 nothing_to_delete == 1 ? "it" : "them");
	if (target_rows && inserted == nsrc)
		cli_warn("%s: -k %s matched none of the table's %" PRIu64
			 " row%s; every source record was inserted",
			 opt.table, opt.key, target_rows,
			 target_rows == 1 ? "" : "s");
}

static void merge_said_committed(void *ctx)
{
	merge_said(ctx);
}

/*
 * A plain path of -k, --when-newer or --delete-when must start at a
 * column of the table: one that does not reads null in every row and
 * record, so a typo would key nothing, never find a record newer, or
 * never delete (the records meant to delete a row upserted instead).
 * A jq program is held to the same where it reads the record's members
 * (txlog_jq_missing_column).  schema: the one the rows and
 * the source fit (with --merge-schema, after the source evolved it).
 */
/* "did you mean .x?" for missing column name, or where the columns are
 * listed, into hint. */
static void column_hint(const struct ds_type *schema, const char *name,
			char *hint, size_t len)
{
	const char *near = name ? txlog_nearest_column(schema, name) : NULL;
	if (near)
		snprintf(hint, len, "did you mean .%s?", near);
	else
		snprintf(hint, len, "txlog schema %s lists them", opt.table);
}

static void need_column(const struct expr *e, const char *what,
			const struct ds_type *schema)
{
	struct path p;
	if (!e || !schema || !schema->nfields)
		return;
	if (path_parse(expr_source(e), &p) != 0) {
		/* a jq program: the first column it reads from the record
		 * that the table lacks, as --where's are checked */
		char *miss = txlog_jq_missing_column(expr_source(e), schema);
		if (!miss)
			return;
		char hint[300];
		column_hint(schema, miss, hint, sizeof hint);
		txlog_fail(EXIT_TROUBLE, "%s '%s': %s has no column '%s' "
			   "(%s); nothing committed", what, expr_source(e),
			   opt.table, miss, hint);
	}
	bool known = !p.n || p.steps[0].kind != PATH_MEMBER ||
		     ds_field(schema, p.steps[0].name, p.steps[0].name_len);
	if (!known) {
		const struct path_step *c = &p.steps[0];
		bool nul = memchr(c->name, '\0', c->name_len) != NULL;
		char hint[300];
		column_hint(schema, nul ? NULL : c->name, hint, sizeof hint);
		if (nul)
			txlog_fail(EXIT_TROUBLE, "%s %s: %s has no column it "
				   "names (%s); nothing committed", what,
				   expr_source(e), opt.table, hint);
		txlog_fail(EXIT_TROUBLE, "%s %s: %s has no column '%s' (%s); "
			   "nothing committed", what, expr_source(e),
			   opt.table, c->name, hint);
	}
	path_free(&p);
}

static void need_columns(const struct src *m, const struct ds_type *schema)
{
	need_column(m->key, "-k", schema);
	need_column(m->newer, "--when-newer", schema);
	need_column(m->del, "--delete-when", schema);
}

static void src_free(struct src *m)
{
	txlog_keykind_free(m->keykind);
	m->keykind = NULL;
	free(m->off);
	free(m->file);
	free(m->line);
	for (size_t i = 0; i < m->nnames; i++)
		free(m->names[i]);
	free(m->names);
	free(m->matched);
	free(m->applied);
	buf_free(&m->text);
	buf_free(&m->scratch);
	fpset_free(m->keys);
	expr_free(m->key);
	if (m->newer)
		expr_free(m->newer);
	if (m->del)
		expr_free(m->del);
}

int verb_merge(void)
{
	if (!opt.key)
		cli_usage_error("merge needs -k EXPR");
	char err[1024];
	struct src m = {0};
	m.keys = fpset_new(true);
	if (!(m.key = expr_compile(opt.key, err, sizeof err)))
		cli_usage_error("-k: %s", err);
	if (opt.when_newer &&
	    !(m.newer = expr_compile(opt.when_newer, err, sizeof err)))
		cli_usage_error("--when-newer: %s", err);
	if (opt.delete_when &&
	    !(m.del = expr_condition_compile(opt.delete_when, err,
					     sizeof err)))
		cli_usage_error("--delete-when: %s", err);
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	struct tx t;
	tx_begin(&t, s, "MERGE");
	if (replayed(&t, true)) {
		tx_free(&t);
		src_free(&m); /* LSan counts what a replay leaves */
		return EXIT_OK;
	}
	t.reads_all = true; /* a merge reads every file for its keys */
	struct ingest g;
	ingest_init(&g, s);
	/* a source that cannot add a column (no --merge-schema, no first
	 * write of an --infer table) is checked before it is read; one
	 * that can, once its columns are known (a first write with no
	 * record leaves them unknown) */
	if (!g.evolve)
		need_columns(&m, s->schema);
	m.table = s->schema;
	m.keykind = txlog_keykind_new(m.table, expr_source(m.key));
	m.newer_fp = m.newer ? txlog_path_fp_kind(m.table,
						  expr_source(m.newer)) : 0;
	size_t nrelaxed;
	bool *was = merge_relax(g.schema, &nrelaxed);
	ingest_run(&g, to_src, &m);
	merge_unrelax(g.schema, was, nrelaxed);
	ingest_finish(&g, &t);
	if (g.evolve && (g.changed || !infer_pending(s)))
		need_columns(&m, g.schema);
	m.matched = xcalloc(m.n + 1, 1);
	m.applied = xcalloc(m.n + 1, 1);

	struct dws *w = dws_new(opt.table, s->schema, s->part_cols, s->npart,
				opt.level);
	/* the updated rows in files of their own, tagged as UPDATE tags
	 * its: changes reads them as postimages, even a row updated to the
	 * bytes it had (a copy would cancel it) */
	struct dws *w_upd = dws_new(opt.table, s->schema, s->part_cols,
				    s->npart, opt.level);
	size_t n;
	struct dl_file **live = dl_live_files_committed(s, &n);
	struct scan_record rec = {0}, srec = {0}, urec = {0};
	struct buf out = {0}, a = {0}, b = {0}, ov = {0};
	size_t *offs = NULL, noffs = 0, cap = 0;
	uint64_t updated = 0, deleted = 0, inserted = 0, copied = 0;
	uint64_t stale = 0, nothing_to_delete = 0, target_rows = 0;
	size_t removed = 0;
	tx_hold(&t, live, n); /* all open before the first is read */
	for (size_t i = 0; i < n; i++) {
		struct dl_file *f = live[i];
		tx_read(&t, f->path);
		struct lines *l = open_data(s, f);
		struct line ln;
		bool changed = false;
		uint64_t kept = 0;
		out.len = 0;
		noffs = 0;
		while (txlog_next_row(s, l, f, &ln, &rec)) {
			struct fp128 fp;
			bool keyed = key_of(m.key, m.keykind, &rec,
					    &m.scratch, f->path, ln.lineno,
					    false, &fp);
			target_rows++;
			const char *put = ln.p;
			size_t putn = ln.len;
			if (keyed && fpset_has(m.keys, fp)) {
				uint64_t *pl;
				fpset_add(m.keys, fp, &pl);
				size_t si = (size_t)*pl - 1;
				m.matched[si] = true;
				src_record(&m, si, &srec);
				bool del = m.del && truthy(m.del, &srec,
							   m.names[m.file[si]],
							   m.line[si]);
				bool take = true;
				if (m.newer) {
					newer_of(m.newer, &srec,
						 m.names[m.file[si]],
						 m.line[si], &a);
					newer_of(m.newer, &rec, f->path,
						 ln.lineno, &b);
					/* a float or double column's as
					 * the binary numbers they are;
					 * times as instants, whatever
					 * their offsets */
					int c;
					if (m.newer_fp &&
					    txlog_fp_cmp(m.newer_fp, a.p, a.len,
							 b.p, b.len, &c))
						take = c > 0;
					else
						take = value_compare_as(
							VALUE_ORDER_INSTANT,
							a.p, a.len, b.p,
							b.len) > 0;
				}
				/* a delete is a change like an update:
				 * one not newer than the row is stale, and
				 * the newer row stays (counted below) */
				if (take && del) {
					m.applied[si] = true;
					deleted++;
					changed = true;
					continue;
				}
				if (take) {
					struct scan_error se;
					overlay(&ov, &rec, &srec);
					scan_record(&urec, ov.p, ov.len, &se);
					if (dws_add(w_upd, &urec, err,
						    sizeof err) != 0)
						txlog_fail(EXIT_TROUBLE, "%s:%"
							   PRIu64 ": %s; "
							   "nothing committed",
							   m.names[m.file[si]],
							   m.line[si], err);
					m.applied[si] = true;
					updated++;
					changed = true;
					continue;
				}
			}
			/* copied as it is: a row no key matched, or one
			 * its source record (an update or a delete) was not
			 * newer than */
			kept++;
			offs = xgrow(offs, &cap, noffs, sizeof *offs, 1024);
			offs[noffs++] = out.len;
			buf_add(&out, put, putn);
		}
		lines_close(l);
		txlog_unhold(f);
		if (!changed)
			continue;
		copied += kept;
		txlog_remove_action(&t.actions, f);
		removed++;
		for (size_t k = 0; k < noffs; k++) {
			size_t e = k + 1 < noffs ? offs[k + 1] : out.len;
			struct scan_error se;
			scan_record(&rec, out.p + offs[k], e - offs[k], &se);
			if (dws_add(w, &rec, err, sizeof err) != 0)
				txlog_fail(EXIT_TROUBLE, "%s", err);
		}
	}
	for (size_t i = 0; i < m.n; i++) {
		if (m.matched[i]) {
			/* not newer than any row its key matched: said */
			stale += !m.applied[i];
			continue;
		}
		src_record(&m, i, &srec);
		if (m.del && truthy(m.del, &srec, m.names[m.file[i]],
				    m.line[i])) {
			nothing_to_delete++;
			continue;
		}
		if (merge_required(m.table, &srec, true, err, sizeof err))
			txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s; nothing "
				   "committed", m.names[m.file[i]], m.line[i],
				   err);
		if (dws_add(w, &srec, err, sizeof err) != 0)
			txlog_fail(EXIT_TROUBLE, "%s:%" PRIu64 ": %s; nothing "
				   "committed", m.names[m.file[i]], m.line[i],
				   err);
		inserted++;
	}
	uint64_t rows = 0, bytes = 0;
	size_t added, before = t.nwritten;
	finish_files(&t, w, &rows, &bytes, &added);
	dws_finish_tagged(w_upd, ",\"" TXLOG_TAG_UPDATED "\":\"true\"",
			  &t.actions, &t.written, &t.nwritten, &rows, &bytes);
	added = t.nwritten - before;
	buf_adds(&t.params, ",\"mergeKey\":");
	jw_str(&t.params, opt.key);
	if (opt.when_newer) {
		buf_adds(&t.params, ",\"whenNewer\":");
		jw_str(&t.params, opt.when_newer);
	}
	if (opt.delete_when) {
		buf_adds(&t.params, ",\"deleteWhen\":");
		jw_str(&t.params, opt.delete_when);
	}
	buf_addf(&t.metrics, ",\"numSourceRows\":\"%zu\","
		 "\"numTargetRowsInserted\":\"%llu\","
		 "\"numTargetRowsUpdated\":\"%llu\","
		 "\"numTargetRowsDeleted\":\"%llu\","
		 "\"numTargetRowsCopied\":\"%llu\","
		 "\"numTargetFilesRemoved\":\"%zu\","
		 "\"numTargetFilesAdded\":\"%zu\"",
		 m.n, (unsigned long long)inserted,
		 (unsigned long long)updated, (unsigned long long)deleted,
		 (unsigned long long)copied, removed, added);
	cli_stats.records_out = inserted + updated;
	/* the records --when-newer dropped are late data, as txlog(1)
	 * files them: --stats counts them with the other tools' late */
	cli_stats.late = stale;
	txlog_release();
	free(live);
	free(offs);
	buf_free(&out);
	buf_free(&ov);
	buf_free(&a);
	buf_free(&b);
	scan_record_free(&rec);
	scan_record_free(&srec);
	scan_record_free(&urec);
	src_free(&m);
	ds_free(g.schema);
	ds_free(g.empty);
	struct merge_counts said = {m.n, target_rows, inserted, stale,
				    nothing_to_delete};
	if (!removed && !added && !g.changed) {
		merge_said(&said);
		if (t.txn_app) {
			/* recorded all the same, as delete does: a replay
			 * must not find rows written since */
			cli_warn("%s: the merge changed no row; the commit "
				 "records --txn %s only", opt.table, opt.txn);
			return tx_commit(&t);
		}
		if (m.n)
			cli_warn("%s: the merge changed no row; no commit",
				 opt.table);
		tx_stats_none();
		tx_free(&t);
		return EXIT_OK;
	}
	/* said once the commit holds: a merge that lost to another writer
	 * (exit 75) inserted nothing and dropped nothing */
	t.on_commit = merge_said_committed;
	t.on_commit_ctx = &said;
	return tx_commit(&t);
}
