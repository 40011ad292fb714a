/*
 * verify: the whole table checked, read-only, every problem listed on
 * standard error (one line each) before exit 1.
 *
 *   - the versions are contiguous (a gap is a lost commit);
 *   - _delta_log holds only regular files, no stale temp files of
 *     killed commits; _last_checkpoint names a checkpoint of the
 *     version it says; each JSON checkpoint holds the state the commits
 *     it replaces give (where they are all still there);
 *   - every commit parses and replays;
 *   - the newest snapshot loads, and each live data file is there, a
 *     regular file inside the table, with the size its add recorded and,
 *     when txlog wrote it, the XXH3-128 of its tags; all of them held
 *     open first (txlog_hold_found), so a vacuum meanwhile cannot make
 *     one look missing, and one it deleted before the hold is said as
 *     that (exit 75 when nothing else is wrong), not as damage;
 *   - with --deep, every record of every live file is read: it must be a
 *     JSON object, and the add's statistics must hold for the data --
 *     numRecords and each nullCount exact, every value within minValues
 *     and maxValues.  (Bounds that are looser than the data are true
 *     statements, so they pass; other writers may truncate them.)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"

static uint64_t bad;
static char last_problem[1024]; /* so the load's complaint is not said twice */

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_problem, sizeof last_problem, fmt, ap);
	va_end(ap);
	cli_warn("%s", last_problem);
	bad++;
}

/* The protocol action of a commit's text, if it has one, into pv. */
static void note_protocol(struct dl_snapshot *pv, const char *p, size_t n)
{
	const char *a;
	size_t an;
	if (txlog_action(p, n, "protocol", true, &a, &an)) {
		free(pv->protocol);
		pv->protocol = xstrndup(a, an);
	}
}

/*
 * PROTOCOL.md, Requirements for Writers: "A single log entry MUST NOT
 * include more than one action that reconciles with each other": two
 * protocol or metaData actions, two txn of one appId, two file actions
 * (add or remove) of one path.  A reader takes the last, but which one
 * the writer meant is not known.
 */
static void reconciling_twice(const char *p, size_t n, int64_t v)
{
	struct fpset *seen = fpset_new(false);
	struct buf key = {0};
	int np = 0, nm = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		const char *a, *k;
		size_t an, kn;
		struct scan_error se;
		const char *line = p + i;
		size_t ln = e - i;
		i = e + 1;
		if (scan_ws(line, ln, 0) >= ln ||
		    scan_validate(line, ln, &se) != 0)
			continue;
		np += scan_get(line, ln, "protocol", &a, &an);
		nm += scan_get(line, ln, "metaData", &a, &an);
		/* "v2 checkpoint spec actions are not allowed in normal
		 * commit files" (a sidecar fails the replay already) */
		if (scan_get(line, ln, "checkpointMetadata", &a, &an))
			problem("%s: version %lld has a checkpointMetadata "
				"action, which PROTOCOL.md allows in a V2 "
				"checkpoint only", opt.table, (long long)v);
		const char *what = NULL, *member = NULL;
		if (scan_get(line, ln, "txn", &a, &an))
			what = "txn", member = "appId";
		else if (scan_get(line, ln, "add", &a, &an) ||
			 scan_get(line, ln, "remove", &a, &an))
			what = "file", member = "path";
		if (!what || !scan_get(a, an, member, &k, &kn) || k[0] != '"')
			continue;
		/* by the value: "a%20b" and its \u escapes are one path */
		key.len = 0;
		buf_adds(&key, what);
		buf_addc(&key, ':');
		value_canon_as(&key, VALUE_KEYS_TEXT, k, kn);
		/* a file is (path, deletion vector): a commit may remove
		 * it with one vector and add it back with another */
		const char *dv;
		size_t dvn;
		if (what[0] == 'f' &&
		    scan_get(a, an, "deletionVector", &dv, &dvn) &&
		    dv[0] == '{') {
			buf_addc(&key, ':');
			value_canon_as(&key, VALUE_KEYS_TEXT, dv, dvn);
		}
		if (fpset_add(seen, value_fp(key.p, key.len), NULL)) {
			char *d = scan_strdup_lit(k, kn);
			problem("%s: version %lld has two %s actions of %s %s "
				"(PROTOCOL.md: a log entry holds at most one)",
				opt.table, (long long)v,
				what[0] == 't' ? "txn" : "add or remove",
				member, d);
			free(d);
		}
	}
	if (np > 1)
		problem("%s: version %lld has %d protocol actions (PROTOCOL.md: "
			"a log entry holds at most one)", opt.table,
			(long long)v, np);
	if (nm > 1)
		problem("%s: version %lld has %d metaData actions (PROTOCOL.md: "
			"a log entry holds at most one)", opt.table,
			(long long)v, nm);
	fpset_free(seen);
	buf_free(&key);
}

static void check_commits(void)
{
	char err[1024];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	struct buf tmp = {0};
	/* the newest protocol action seen so far */
	struct dl_snapshot *pv = dl_snapshot_new(opt.table);
	for (size_t k = 0; k < n; k++) {
		/* a listing taken while writers commit can miss N and show
		 * N+1: a version is missing only when it is not there by
		 * name either */
		int64_t lo = -1, hi = -1;
		for (int64_t m = k ? vs[k - 1] + 1 : vs[k]; m < vs[k]; m++) {
			char *path = dl_commit_path(opt.table, m);
			if (access(path, F_OK) != 0) {
				if (lo < 0)
					lo = m;
				hi = m;
			}
			free(path);
		}
		if (lo >= 0 && lo == hi)
			problem("%s: version %lld is missing from the log",
				opt.table, (long long)lo);
		else if (lo >= 0)
			problem("%s: versions %lld to %lld are missing from "
				"the log", opt.table, (long long)lo,
				(long long)hi);
		int rc = dl_read_commit(opt.table, vs[k], &tmp, err, sizeof err);
		if (rc != 0) {
			problem("%s", rc < 0 ? err : "a commit vanished");
			continue;
		}
		reconciling_twice(tmp.p, tmp.len, vs[k]);
		struct dl_snapshot *w = dl_snapshot_new(opt.table);
		if (dl_apply(w, tmp.p, tmp.len, vs[k], err, sizeof err) != 0) {
			/* a deletion vector where the protocol declares them
			 * (this commit's own protocol too: a table can be
			 * made with its first rows) is no damage: a table
			 * txlog cannot read, which the load then refuses
			 * (exit 2) */
			note_protocol(pv, tmp.p, tmp.len);
			if (!dl_has_feature(pv, "readerFeatures",
					    "deletionVectors"))
				problem("%s", err);
		} else if (w->protocol) {
			free(pv->protocol);
			pv->protocol = xstrdup(w->protocol);
		}
		dl_snapshot_free(w);
	}
	dl_snapshot_free(pv);
	buf_free(&tmp);
	free(vs);
}

/* A temp file younger than this may be a commit in flight. */
#define STALE_TMP_SECONDS 600

static int cmp_cp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the snapshots a (a checkpoint) and b (the JSON commits it
 * replaces) hold the same state: protocol, metaData, txns, domains and
 * live files compared by value (key order and spacing aside). */
static bool same_state(const struct dl_snapshot *a, const struct dl_snapshot *b,
		       char *what, size_t wn)
{
	struct buf x = {0}, y = {0};
#define SAME(pa, na, pb, nb)                                           \
	(value_fingerprint(pa, na, &x).lo == value_fingerprint(pb, nb, &y).lo && \
	 value_fingerprint(pa, na, &x).hi == value_fingerprint(pb, nb, &y).hi)
	bool ok = true;
	if (!a->protocol || !b->protocol ||
	    !SAME(a->protocol, strlen(a->protocol), b->protocol,
		  strlen(b->protocol))) {
		snprintf(what, wn, "its protocol differs");
		ok = false;
	} else if (!a->metadata || !b->metadata ||
		   !SAME(a->metadata, strlen(a->metadata), b->metadata,
			 strlen(b->metadata))) {
		snprintf(what, wn, "its metaData differs");
		ok = false;
	} else if (a->ntxns != b->ntxns) {
		snprintf(what, wn, "it has %zu txn actions, the commits %zu",
			 a->ntxns, b->ntxns);
		ok = false;
	} else if (a->ndomains != b->ndomains) {
		snprintf(what, wn, "it has %zu domainMetadata actions, the "
			 "commits %zu", a->ndomains, b->ndomains);
		ok = false;
	}
	for (size_t i = 0; ok && i < a->ntxns; i++)
		if (dl_txn_version_n(b, a->txns[i].app_id,
				     a->txns[i].app_len) != a->txns[i].version) {
			snprintf(what, wn, "txn %s differs", a->txns[i].app_id);
			ok = false;
		}
	size_t na, nb;
	struct dl_file **la = dl_live_files(a, &na), **lb = dl_live_files(b, &nb);
	if (ok && na != nb) {
		snprintf(what, wn, "it has %zu live files, the commits %zu", na,
			 nb);
		ok = false;
	}
	for (size_t i = 0; ok && i < na; i++)
		if (strcmp(la[i]->path, lb[i]->path) != 0 ||
		    !SAME(la[i]->action, la[i]->action_len, lb[i]->action,
			  lb[i]->action_len)) {
			snprintf(what, wn, "its add of %s differs", la[i]->path);
			ok = false;
		}
#undef SAME
	free(la);
	free(lb);
	buf_free(&x);
	buf_free(&y);
	return ok;
}

/*
 * The log folder itself: what is not a regular file, temp files that
 * killed commits left, a _last_checkpoint that disagrees with the
 * checkpoint it names, and each JSON checkpoint against the commits it
 * replaces where they are all still there (PROTOCOL.md: "A checkpoint
 * contains the complete replay of all actions, up to and including the
 * checkpointed table version").
 */
static void check_log_folder(void)
{
	struct buf dir = {0}, p = {0};
	buf_addf(&dir, "%s/_delta_log", opt.table);
	DIR *d = opendir(dir.p);
	if (!d) {
		buf_free(&dir);
		return; /* the load says what is wrong */
	}
	char **cps = NULL;
	size_t ncp = 0;
	int64_t newest_commit = -1;
	struct dirent *de;
	time_t now = time(NULL);
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		if (nm[0] == '.')
			continue;
		struct stat st;
		p.len = 0;
		buf_addf(&p, "%s/%s", dir.p, nm);
		if (lstat(p.p, &st) != 0)
			continue;
		if (strstr(nm, ".tmp.")) {
			if (now - st.st_mtime >= STALE_TMP_SECONDS)
				problem("%s: _delta_log/%s: a temporary file "
					"left by an interrupted commit (txlog "
					"vacuum removes it)", opt.table, nm);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			continue; /* _sidecars, _staged_commits */
		if (!S_ISREG(st.st_mode)) {
			problem("%s: _delta_log/%s: not a regular file",
				opt.table, nm);
			continue;
		}
		size_t len = strlen(nm);
		if (len > 32 && strspn(nm, "0123456789") == 20 &&
		    strncmp(nm + 20, ".checkpoint.", 12) == 0 &&
		    strcmp(nm + len - 5, ".json") == 0) {
			cps = xreallocarray(cps, ncp + 1, sizeof *cps);
			cps[ncp++] = xstrdup(nm);
		} else if (len == 25 && strspn(nm, "0123456789") == 20 &&
			   strcmp(nm + 20, ".json") == 0 &&
			   atoll(nm) > newest_commit) {
			newest_commit = atoll(nm);
		}
	}
	closedir(d);
	/* _last_checkpoint: a hint, but a wrong one is damage */
	p.len = 0;
	buf_addf(&p, "%s/_last_checkpoint", dir.p);
	struct lines *l = NULL;
	char err[512];
	struct stat st;
	if (stat(p.p, &st) == 0 && S_ISREG(st.st_mode) &&
	    (l = lines_open(p.p, LINES_DEFAULT_MAX, err, sizeof err))) {
		struct line ln;
		int64_t v = -1;
		char *name = NULL;
		const char *v2;
		size_t v2n;
		struct scan_error se;
		if (lines_next(l, &ln, err, sizeof err) == 1 &&
		    scan_validate(ln.p, ln.len, &se) == 0) {
			scan_get_i64(ln.p, ln.len, "version", &v);
			if (scan_get(ln.p, ln.len, "v2Checkpoint", &v2, &v2n))
				name = scan_get_str(v2, v2n, "path");
		}
		size_t nl = name ? strlen(name) : 0;
		/* a name no checkpoint has (a commit's, "1", "../x"): the
		 * load ignores the hint and lists the log, where another
		 * reader would open that file as the checkpoint */
		if (name && (strchr(name, '/') || nl < 33 ||
			     strspn(name, "0123456789") != 20 ||
			     strncmp(name + 20, ".checkpoint.", 12) != 0 ||
			     (strcmp(name + nl - 5, ".json") != 0 &&
			      strcmp(name + nl - 8, ".parquet") != 0)))
			problem("%s: _delta_log/_last_checkpoint names %s, "
				"which is not a V2 checkpoint's name "
				"(NNNNNNNNNNNNNNNNNNNN.checkpoint.UUID.json)",
				opt.table, name);
		else if (name && atoll(name) != v)
			problem("%s: _delta_log/_last_checkpoint says version "
				"%lld but names %s (readers use the checkpoint's "
				"own version)", opt.table, (long long)v, name);
		else if (name) {
			p.len = 0;
			buf_addf(&p, "%s/%s", dir.p, name);
			if (access(p.p, F_OK) != 0)
				problem("%s: _delta_log/_last_checkpoint names "
					"%s, which is gone", opt.table, name);
		}
		if (v > newest_commit && newest_commit >= 0)
			problem("%s: _delta_log/_last_checkpoint says version "
				"%lld, after the newest commit %lld", opt.table,
				(long long)v, (long long)newest_commit);
		free(name);
		lines_close(l);
	}
	if (ncp > 1)
		qsort(cps, ncp, sizeof *cps, cmp_cp);
	for (size_t i = 0; i < ncp; i++) {
		int64_t v = atoll(cps[i]);
		struct dl_snapshot *c = dl_load_from(opt.table, cps[i], v, err,
						     sizeof err);
		if (!c) {
			/* a V2 checkpoint with sidecars (Parquet files of its
			 * adds) is one txlog cannot read, not a damaged one:
			 * the load refuses it (exit 2) when it is the one a
			 * reader needs */
			struct buf t = {0};
			char e2[256];
			const char *a;
			size_t an;
			p.len = 0;
			buf_addf(&p, "%s/%s", dir.p, cps[i]);
			bool sidecars =
				dl_read_file(p.p, &t, false, e2, sizeof e2) ==
					0 &&
				txlog_action(t.p, t.len, "sidecar", true, &a,
					     &an);
			if (!sidecars)
				problem("%s", err);
			buf_free(&t);
		} else {
			/* the commits it replaces, where all are kept */
			struct dl_snapshot *j = NULL;
			char *first = dl_commit_path(opt.table, 0);
			if (access(first, F_OK) == 0)
				j = dl_load_from(opt.table, NULL, v, err,
						 sizeof err);
			free(first);
			char what[512];
			if (j && !same_state(c, j, what, sizeof what))
				problem("%s: checkpoint %s does not match the "
					"commits 0 to %lld it replaces: %s",
					opt.table, cps[i], (long long)v, what);
			dl_snapshot_free(j);
			dl_snapshot_free(c);
		}
		free(cps[i]);
	}
	free(cps);
	buf_free(&dir);
	buf_free(&p);
}

/* One column the stats speak of, checked against every record. */
struct scol {
	char *name;
	const char *min, *max; /* JSON text in the stats, or NULL */
	size_t minn, maxn;
	const char *min0, *max0; /* as the stats spell them, for messages */
	size_t min0n, max0n;
	struct buf minb, maxb; /* a bound txlog_bound_read respelled */
	enum value_order ord;
	bool ntz;
	bool cut;      /* another writer's string bounds: maybe cut prefixes */
	char fp;       /* 'f' float, 'd' double: binary numbers, as --where */
	int64_t nulls; /* -1: not recorded */
	uint64_t nonnull;
	bool min_broken, max_broken;
};

/* An --infer table before its first write: no column yet, or only the
 * partition columns init declared, whose types that write gives. */
static bool infer_pending(const struct ds_type *t)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const char *m = t->fields[i].metadata;
		if (!m || !strstr(m, "\"idem.inferPending\""))
			return false;
	}
	return true;
}

/* Whether a column of t (at any depth) was widened from a date, by the
 * delta.typeChanges of its metadata. */
static bool from_date(const struct ds_type *t)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->nfields; i++) {
		const char *m = t->fields[i].metadata;
		if (m && strstr(m, "delta.typeChanges") && strstr(m, "\"date\""))
			return true;
		if (from_date(t->fields[i].type))
			return true;
	}
	return from_date(t->elem);
}

static void deep(const struct dl_snapshot *s, const struct dl_file *f)
{
	const char *st = dl_file_stats(f);
	size_t sn = st ? strlen(st) : 0;
	int64_t want = -1;
	const char *mins = "{}", *maxs = "{}", *ncs = "{}";
	size_t minsn = 2, maxsn = 2, ncsn = 2;
	if (st) {
		scan_get_i64(st, sn, "numRecords", &want);
		scan_get(st, sn, "minValues", &mins, &minsn);
		scan_get(st, sn, "maxValues", &maxs, &maxsn);
		scan_get(st, sn, "nullCount", &ncs, &ncsn);
	}
	/* the columns named in any of the three maps */
	struct scol *c = NULL;
	size_t nc = 0;
	const char *maps[3] = {mins, maxs, ncs};
	size_t mapn[3] = {minsn, maxsn, ncsn};
	for (int m = 0; m < 3; m++) {
		struct scan_obj o;
		const char *k, *v;
		size_t kn, vn;
		if (!scan_obj_begin(&o, maps[m], mapn[m]))
			continue;
		while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
			char *name = scan_strdup_lit(k, kn);
			size_t i;
			for (i = 0; i < nc; i++)
				if (strcmp(c[i].name, name) == 0)
					break;
			if (i < nc) {
				free(name);
				continue;
			}
			c = xreallocarray(c, nc + 1, sizeof *c);
			memset(&c[nc], 0, sizeof *c);
			c[nc].name = name;
			c[nc].nulls = -1;
			/* nested (struct) bounds are not checked */
			if (scan_get(mins, minsn, name, &c[nc].min, &c[nc].minn) &&
			    c[nc].min[0] == '{')
				c[nc].min = NULL;
			if (scan_get(maxs, maxsn, name, &c[nc].max, &c[nc].maxn) &&
			    c[nc].max[0] == '{')
				c[nc].max = NULL;
			scan_get_i64(ncs, ncsn, name, &c[nc].nulls);
			/* a bound txlog cannot read rules nothing out when
			 * --where reads it, and is no finding here */
			const struct ds_field *fd =
				s->schema ? ds_field(s->schema, name,
						     strlen(name))
					  : NULL;
			bool ntz = fd && fd->type->kind == DT_TIMESTAMP_NTZ;
			/* a binary's bounds are not in its values' base64
			 * order: --where reads none */
			if (fd && fd->type->kind == DT_BINARY)
				c[nc].min = c[nc].max = NULL;
			/* a struct's nullCount mirrors its fields: a number
			 * another writer gave for it has no meaning the
			 * protocol gives, and --where reads none */
			if (fd && fd->type->kind == DT_STRUCT)
				c[nc].nulls = -1;
			c[nc].ord = txlog_order(s->schema, name);
			c[nc].ntz = ntz;
			c[nc].fp = !fd ? 0
				   : fd->type->kind == DT_FLOAT  ? 'f'
				   : fd->type->kind == DT_DOUBLE ? 'd'
								 : 0;
			c[nc].cut = fd && fd->type->kind == DT_STRING &&
				    !txlog_file_sealed(f);
			c[nc].min0 = c[nc].min;
			c[nc].min0n = c[nc].minn;
			c[nc].max0 = c[nc].max;
			c[nc].max0n = c[nc].maxn;
			if (c[nc].min &&
			    !txlog_bound_read(c[nc].ord, ntz, &c[nc].min,
					      &c[nc].minn, &c[nc].minb))
				c[nc].min = NULL;
			if (c[nc].max &&
			    !txlog_bound_read(c[nc].ord, ntz, &c[nc].max,
					      &c[nc].maxn, &c[nc].maxb))
				c[nc].max = NULL;
			nc++;
		}
	}
	struct lines *l = open_data(s, f);
	struct line ln;
	struct scan_record rec = {0};
	char err[512];
	int rc;
	uint64_t nrec = 0;
	bool damaged = false, off_part = false, unfit = false;
	struct buf filled = {0};
	/* a date column widened to timestamp_ntz keeps the dates written
	 * before (read as their midnight), which no check of a
	 * timestamp_ntz passes: such a table's rows are not checked */
	struct ds_memo memo = {0};
	struct ds_type *fit_schema = s->schema && !from_date(s->schema) &&
					     !infer_pending(s->schema)
					     ? ds_copy(s->schema)
					     : NULL;
	while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
		struct scan_error se;
		nrec++;
		cli_stats.records_in++;
		if (ln.too_long || scan_record(&rec, ln.p, ln.len, &se) != 0 ||
		    ln.p[rec.start] != '{') {
			if (!damaged)
				problem("%s: %s:%" PRIu64 ": not a JSON object "
					"record (damaged data file)", opt.table,
					f->path, ln.lineno);
			damaged = true;
			continue;
		}
		const char *off = off_part ? NULL
					   : txlog_row_off_partition(s, f, &rec);
		if (off) {
			problem("%s: %s:%" PRIu64 ": column %s is not the "
				"file's partition value", opt.table, f->path,
				ln.lineno, off);
			off_part = true; /* once a file */
		} else if (!off_part) {
			/* a row that leaves a partition column out is
			 * checked with the add's value of it, as cat reads
			 * it (a value of unknown meaning leaves it out) */
			txlog_row_fill(s, f, &ln, &rec, &filled);
		}
		/* the row fits the schema, as every write holds its
		 * records to it: another writer's "5" in a long column
		 * would otherwise be read, and compared, as a string */
		if (!unfit && fit_schema && !ds_conforms(s->schema, &rec, &memo)) {
			char why[512];
			bool changed = false;
			if (ds_check_record(fit_schema, &rec, false, &changed,
					    &memo, why, sizeof why) != 0) {
				/* how a write would evolve is no fix here */
				char *h = strstr(why, " (--merge-schema");
				if (h)
					*h = '\0';
				if ((h = strstr(why, ", or --merge-schema"))) {
					char *cl = strchr(h, ')');
					if (cl)
						memmove(h, cl, strlen(cl) + 1);
				}
				problem("%s: %s:%" PRIu64 ": the row does not "
					"fit the table's schema: %s", opt.table,
					f->path, ln.lineno, why);
				unfit = true; /* once a file */
			}
		}
		for (size_t m = 0; m < rec.nmembers; m++) {
			const struct scan_member *mb = &rec.members[m];
			const char *v = rec.p + mb->val;
			if (v[0] == 'n')
				continue;
			for (size_t i = 0; i < nc; i++) {
				const char *name = c[i].name;
				if (!scan_string_equals(rec.p + mb->key,
							mb->key_len, name,
							strlen(name)))
					continue;
				c[i].nonnull++;
				size_t vn = scan_skip(rec.p, rec.n, mb->val) -
					    mb->val;
				enum value_order o = c[i].ord;
				char mid[TXLOG_MIDNIGHT];
				if (c[i].ntz)
					txlog_ntz_value(&v, &vn, mid);
				int k = txlog_json_kind(v[0]), fc;
				/* a float's or a double's as the binary
				 * numbers they are: a row's
				 * 0.1000000000000000055 is within a max 0.1 */
				if (c[i].min &&
				    k == txlog_json_kind(c[i].min[0]) &&
				    (txlog_fp_cmp(c[i].fp, v, vn, c[i].min,
						  c[i].minn, &fc)
					     ? fc
					     : txlog_bound_cmp(o, v, vn, c[i].min,
							       c[i].minn, false,
							       false)) < 0)
					c[i].min_broken = true;
				if (c[i].max &&
				    k == txlog_json_kind(c[i].max[0]) &&
				    (txlog_fp_cmp(c[i].fp, v, vn, c[i].max,
						  c[i].maxn, &fc)
					     ? fc
					     : txlog_bound_cmp(o, v, vn, c[i].max,
							       c[i].maxn, true,
							       c[i].cut)) > 0)
					c[i].max_broken = true;
				break;
			}
		}
		if ((nrec & 0xfff) == 0)
			cli_progress(cli_stats.records_in, cli_stats.bytes_in +
				     lines_bytes(l));
	}
	if (rc < 0)
		problem("%s", err);
	cli_stats.bytes_in += lines_bytes(l);
	lines_close(l);
	scan_record_free(&rec);
	buf_free(&filled);
	ds_memo_free(&memo);
	if (fit_schema)
		ds_free(fit_schema);
	/* numRecords is optional: another writer's stats may give bounds
	 * and null counts without it, which is no damage */
	if (!st) {
		/* no statistics: nothing they could get wrong */
	} else if (want >= 0 && want != (int64_t)nrec) {
		problem("%s: %s: %" PRIu64 " records, its statistics say "
			"numRecords %lld", opt.table, f->path, nrec,
			(long long)want);
	} else {
		for (size_t i = 0; i < nc; i++) {
			if (c[i].nulls >= 0 &&
			    (uint64_t)c[i].nulls != nrec - c[i].nonnull)
				problem("%s: %s: column %s has %" PRIu64 " "
					"nulls, its statistics say %lld",
					opt.table, f->path, c[i].name,
					nrec - c[i].nonnull,
					(long long)c[i].nulls);
			if (c[i].min_broken)
				problem("%s: %s: column %s has a value below "
					"its minValues %.*s", opt.table,
					f->path, c[i].name, (int)c[i].min0n,
					c[i].min0);
			if (c[i].max_broken)
				problem("%s: %s: column %s has a value above "
					"its maxValues %.*s", opt.table,
					f->path, c[i].name, (int)c[i].max0n,
					c[i].max0);
		}
	}
	for (size_t i = 0; i < nc; i++) {
		free(c[i].name);
		buf_free(&c[i].minb);
		buf_free(&c[i].maxb);
	}
	free(c);
}

/* PROTOCOL.md's add: modificationTime (a Long) and dataChange (a
 * Boolean) are required.  The readers take a missing or other
 * dataChange as true (a change), which hides nothing; but the action is
 * not one the protocol defines, and other readers refuse it. */
static void add_required(const struct dl_file *f)
{
	const char *v;
	size_t vn;
	int64_t t;
	if (!scan_get(f->action, f->action_len, "modificationTime", &v, &vn) ||
	    !scan_parse_i64(v, vn, &t))
		problem("%s: %s: its add has no modificationTime in whole "
			"milliseconds, which PROTOCOL.md requires", opt.table,
			f->path);
	bool has = scan_get(f->action, f->action_len, "dataChange", &v, &vn);
	if (has && ((vn == 4 && !memcmp(v, "true", 4)) ||
		    (vn == 5 && !memcmp(v, "false", 5))))
		return;
	if (has)
		problem("%s: %s: its add has the dataChange %.*s, not the true "
			"or false PROTOCOL.md requires", opt.table, f->path,
			vn > 20 ? 20 : (int)vn, v);
	else
		problem("%s: %s: its add has no dataChange, which PROTOCOL.md "
			"requires", opt.table, f->path);
}

/* A struct column's nullCount mirrors its fields (PROTOCOL.md's
 * per-file statistics): a number there, which --where reads as
 * nothing, is another writer's statistic out of the protocol. */
static void struct_null_counts(const struct dl_snapshot *s,
			       const struct dl_file *f)
{
	const char *st = dl_file_stats(f), *nc, *v;
	size_t ncn, vn;
	if (!st || !s->schema ||
	    !scan_get(st, strlen(st), "nullCount", &nc, &ncn) || nc[0] != '{')
		return;
	for (size_t i = 0; i < s->schema->nfields; i++) {
		const struct ds_field *fd = &s->schema->fields[i];
		if (fd->type->kind == DT_STRUCT &&
		    scan_get(nc, ncn, fd->name, &v, &vn) && v[0] != '{')
			problem("%s: %s: the statistics give struct column %s "
				"the nullCount %.*s, not an object of its "
				"fields' counts (PROTOCOL.md)", opt.table,
				f->path, fd->name, vn > 40 ? 40 : (int)vn, v);
	}
}

/* Whether f, live in s but not found now, went away under verify: a
 * newer version (loaded now) no longer has it, so a vacuum may delete
 * it; that is no damage of the table.  Sets *newer to that version. */
static bool went_away(const struct dl_snapshot *s, const struct dl_file *f,
		      int64_t *newer)
{
	static struct dl_snapshot *now;
	static struct dl_file **live;
	static size_t n;
	if (!now) {
		char err[1024];
		now = dl_load(opt.table, -1, err, sizeof err);
		if (!now)
			return false;
		live = dl_live_files(now, &n);
	}
	*newer = now->version;
	if (now->version <= s->version)
		return false;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(live[mid]->path, f->path);
		if (c == 0)
			return false;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return true;
}

int verb_verify(void)
{
	char err[1024];
	check_commits();
	struct dl_snapshot *s = dl_load(opt.table, -1, err, sizeof err);
	/* only once the protocol is one txlog reads (else the refusal says
	 * it all), or when the load failed, which may be a damaged
	 * checkpoint: a finding, where the folder's checks name it */
	if (!s || s->version >= 0)
		check_log_folder();
	if (!s || s->version < 0) {
		if (!bad || (s && s->version < 0))
			load_table(-1); /* not a table, or not one txlog
					 * can read: say so, exit 2 */
		if (s)
			dl_snapshot_free(s);
		else if (strcmp(err, last_problem) != 0)
			problem("%s", err);
		return EXIT_FINDING;
	}
	if (opt.deep && dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t nf;
	struct dl_file **live = dl_live_files(s, &nf);
	/* Every file of the snapshot held open before any is checked, as
	 * the readers hold theirs: a vacuum meanwhile cannot make a file of
	 * this snapshot look missing, nor cut one --deep reads. */
	for (size_t i = 0; i < nf; i++)
		if (dl_open_check(opt.table, live[i]->path, err,
				  sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
	txlog_hold_found(opt.table, live, nf);
	uint64_t away = 0;
	for (size_t i = 0; i < nf; i++) {
		const struct dl_file *f = live[i];
		char sum[33];
		int64_t size;
		int fd = txlog_data_fd(s, f, err, sizeof err);
		bool ok = fd >= 0 && file_xxh3_fd(fd, sum, &size);
		int e = fd >= 0 ? 0 : errno;
		if (fd >= 0)
			close(fd);
		int64_t newer;
		if (!ok && e == ENOENT && went_away(s, f, &newer)) {
			/* gone before it could be held: no damage */
			cli_warn("%s: %s: deleted while verify ran (version "
				 "%lld no longer has it: a vacuum); not "
				 "checked, not damage", opt.table, f->path,
				 (long long)newer);
			away++;
			continue;
		}
		if (!ok) {
			problem("%s: %s: data file missing or unreadable "
				"(added in version %lld)", opt.table, f->path,
				(long long)f->version);
			continue;
		}
		if (!opt.deep) {
			/* progress in records covered, from the stats */
			const char *st = dl_file_stats(f);
			int64_t nr = 0;
			if (st && scan_get_i64(st, strlen(st), "numRecords", &nr) &&
			    nr > 0)
				cli_stats.records_in += (uint64_t)nr;
			cli_stats.bytes_in += (uint64_t)size;
			cli_progress(cli_stats.records_in, cli_stats.bytes_in);
		}
		const char *pbad = txlog_part_value_bad(s, f);
		if (pbad) {
			const struct ds_field *pf =
				ds_field(s->schema, pbad, strlen(pbad));
			const char *pv = NULL;
			for (size_t k = 0; k < f->npv; k++)
				if (strcmp(f->pv[k].name, pbad) == 0)
					pv = f->pv[k].value;
			struct buf q = {0};
			jw_str(&q, pv ? pv : "");
			problem("%s: %s: partition value %s of column %s does "
				"not read as %s", opt.table, f->path, q.p, pbad,
				pf && pf->type->name ? pf->type->name : "value");
			buf_free(&q);
		}
		struct_null_counts(s, f);
		add_required(f);
		if (size != f->size) {
			problem("%s: %s: %lld bytes, the log says %lld",
				opt.table, f->path, (long long)size,
				(long long)f->size);
			continue;
		}
		const char *tg;
		size_t tn;
		char *want = NULL;
		if (scan_get(f->action, f->action_len, "tags", &tg, &tn))
			want = scan_get_str(tg, tn, "idem.xxh3_128");
		bool sum_bad = want && strcmp(want, sum) != 0;
		if (sum_bad)
			problem("%s: %s: checksum mismatch (damaged data "
				"file)", opt.table, f->path);
		free(want);
		if (opt.deep && !sum_bad)
			deep(s, f);
	}
	cli_progress_done();
	txlog_release();
	free(live);
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"problems\":%llu",
			 (long long)s->version, nf, (unsigned long long)bad);
		cli_stats_print(extra);
	}
	int64_t s_version = s->version;
	dl_snapshot_free(s);
	if (!bad && away)
		cli_warn("%s: version %lld checked but for %llu file%s a "
			 "vacuum deleted meanwhile; run verify again to check "
			 "the newest version", opt.table, (long long)s_version,
			 (unsigned long long)away, away == 1 ? "" : "s");
	return bad ? EXIT_FINDING : away ? EXIT_TEMPFAIL : EXIT_OK;
}
