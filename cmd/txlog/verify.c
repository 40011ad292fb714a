/*
 * verify: the whole table checked, read-only, every problem listed on
 * standard error (one line each) before exit 1.
 *
 *   - the versions are contiguous (a gap is a lost commit);
 *   - every commit parses and replays;
 *   - the newest snapshot loads, and each live data file is there, a
 *     regular file inside the table, with the size its add recorded and,
 *     when txlog wrote it, the XXH3-128 of its tags;
 *   - with --deep, every record of every live file is read: it must be a
 *     JSON object, and the add's statistics must hold for the data --
 *     numRecords and each nullCount exact, every value within minValues
 *     and maxValues.  (Bounds that are looser than the data are true
 *     statements, so they pass; other writers may truncate them.)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lines.h"
#include "txlog.h"
#include "value.h"
#include "xalloc.h"

static uint64_t bad;

#define problem(...) (cli_warn(__VA_ARGS__), bad++)

static void check_commits(void)
{
	char err[1024];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	struct buf tmp = {0};
	for (size_t k = 0; k < n; k++) {
		if (k && vs[k] == vs[k - 1] + 2)
			problem("%s: version %lld is missing from the log",
				opt.table, (long long)vs[k - 1] + 1);
		else if (k && vs[k] != vs[k - 1] + 1)
			problem("%s: versions %lld to %lld are missing from "
				"the log", opt.table, (long long)vs[k - 1] + 1,
				(long long)vs[k] - 1);
		int rc = dl_read_commit(opt.table, vs[k], &tmp, err, sizeof err);
		if (rc != 0) {
			problem("%s", rc < 0 ? err : "a commit vanished");
			continue;
		}
		struct dl_snapshot *w = xcalloc(1, sizeof *w);
		w->table = xstrdup(opt.table);
		w->version = -1;
		w->checkpoint_version = -1;
		if (dl_apply(w, tmp.p, tmp.len, vs[k], err, sizeof err) != 0)
			problem("%s", err);
		dl_snapshot_free(w);
	}
	buf_free(&tmp);
	free(vs);
}

/* One column the stats speak of, checked against every record. */
struct scol {
	char *name;
	const char *min, *max; /* JSON text in the stats, or NULL */
	size_t minn, maxn;
	int64_t nulls; /* -1: not recorded */
	uint64_t nonnull;
	bool min_broken, max_broken;
};

static void deep(const struct dl_snapshot *s, const struct dl_file *f)
{
	const char *st = dl_file_stats(f);
	size_t sn = st ? strlen(st) : 0;
	int64_t want = -1;
	const char *mins = "{}", *maxs = "{}", *ncs = "{}";
	size_t minsn = 2, maxsn = 2, ncsn = 2;
	if (st) {
		dl_get_i64(st, sn, "numRecords", &want);
		dl_get(st, sn, "minValues", &mins, &minsn);
		dl_get(st, sn, "maxValues", &maxs, &maxsn);
		dl_get(st, sn, "nullCount", &ncs, &ncsn);
	}
	/* the columns named in any of the three maps */
	struct scol *c = NULL;
	size_t nc = 0;
	const char *maps[3] = {mins, maxs, ncs};
	size_t mapn[3] = {minsn, maxsn, ncsn};
	for (int m = 0; m < 3; m++) {
		struct dl_obj o;
		const char *k, *v;
		size_t kn, vn;
		if (!dl_obj_begin(&o, maps[m], mapn[m]))
			continue;
		while (dl_obj_next(&o, &k, &kn, &v, &vn)) {
			char *name = dl_strdup_lit(k, kn);
			size_t i;
			for (i = 0; i < nc; i++)
				if (strcmp(c[i].name, name) == 0)
					break;
			if (i < nc) {
				free(name);
				continue;
			}
			c = xrealloc(c, (nc + 1) * sizeof *c);
			memset(&c[nc], 0, sizeof *c);
			c[nc].name = name;
			c[nc].nulls = -1;
			/* nested (struct) bounds are not checked */
			if (dl_get(mins, minsn, name, &c[nc].min, &c[nc].minn) &&
			    c[nc].min[0] == '{')
				c[nc].min = NULL;
			if (dl_get(maxs, maxsn, name, &c[nc].max, &c[nc].maxn) &&
			    c[nc].max[0] == '{')
				c[nc].max = NULL;
			dl_get_i64(ncs, ncsn, name, &c[nc].nulls);
			nc++;
		}
	}
	struct lines *l = open_data(s, f);
	struct line ln;
	struct scan_record rec = {0};
	char err[512];
	int rc;
	uint64_t nrec = 0;
	bool damaged = false;
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
				enum value_order o = txlog_order(s->schema,
								 name);
				if (c[i].min &&
				    txlog_bound_cmp(o, v, vn, c[i].min,
						    c[i].minn, false) < 0)
					c[i].min_broken = true;
				if (c[i].max &&
				    txlog_bound_cmp(o, v, vn, c[i].max,
						    c[i].maxn, true) > 0)
					c[i].max_broken = true;
				break;
			}
		}
		if ((nrec & 0xfff) == 0)
			cli_progress(cli_stats.records_in, cli_stats.bytes_in +
				     lines_bytes(l));
	}
	if (rc < 0)
		problem("%s: %s: %s", opt.table, f->path, err);
	cli_stats.bytes_in += lines_bytes(l);
	lines_close(l);
	scan_record_free(&rec);
	if (!st) {
		/* no statistics: nothing they could get wrong */
	} else if (want != (int64_t)nrec) {
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
					f->path, c[i].name, (int)c[i].minn,
					c[i].min);
			if (c[i].max_broken)
				problem("%s: %s: column %s has a value above "
					"its maxValues %.*s", opt.table,
					f->path, c[i].name, (int)c[i].maxn,
					c[i].max);
		}
	}
	for (size_t i = 0; i < nc; i++)
		free(c[i].name);
	free(c);
}

int verb_verify(void)
{
	char err[1024];
	check_commits();
	struct dl_snapshot *s = dl_load(opt.table, -1, err, sizeof err);
	if (!s || s->version < 0) {
		if (!bad || (s && s->version < 0))
			load_table(-1); /* not a table: say so, exit 2 */
		if (s)
			dl_snapshot_free(s);
		/* the load's complaint is the one already listed */
		return EXIT_FINDING;
	}
	if (opt.deep && dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t nf;
	struct dl_file **live = dl_live_files(s, &nf);
	struct buf path = {0};
	for (size_t i = 0; i < nf; i++) {
		const struct dl_file *f = live[i];
		path.len = 0;
		buf_addf(&path, "%s/%s", opt.table, f->path);
		char sum[33];
		int64_t size;
		if (dl_open_check(opt.table, f->path, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (!file_xxh3(path.p, sum, &size)) {
			problem("%s: %s: data file missing or unreadable "
				"(added in version %lld)", opt.table, f->path,
				(long long)f->version);
			continue;
		}
		if (!opt.deep) {
			/* progress in records covered, from the stats */
			const char *st = dl_file_stats(f);
			int64_t nr = 0;
			if (st && dl_get_i64(st, strlen(st), "numRecords", &nr) &&
			    nr > 0)
				cli_stats.records_in += (uint64_t)nr;
			cli_stats.bytes_in += (uint64_t)size;
			cli_progress(cli_stats.records_in, cli_stats.bytes_in);
		}
		if (size != f->size) {
			problem("%s: %s: %lld bytes, the log says %lld",
				opt.table, f->path, (long long)size,
				(long long)f->size);
			continue;
		}
		const char *tg;
		size_t tn;
		char *want = NULL;
		if (dl_get(f->action, f->action_len, "tags", &tg, &tn))
			want = dl_get_str(tg, tn, "idem.xxh3_128");
		bool sum_bad = want && strcmp(want, sum) != 0;
		if (sum_bad)
			problem("%s: %s: checksum mismatch (damaged data "
				"file)", opt.table, f->path);
		free(want);
		if (opt.deep && !sum_bad)
			deep(s, f);
	}
	cli_progress_done();
	buf_free(&path);
	free(live);
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"problems\":%llu",
			 (long long)s->version, nf, (unsigned long long)bad);
		cli_stats_print(extra);
	}
	dl_snapshot_free(s);
	return bad ? EXIT_FINDING : EXIT_OK;
}
