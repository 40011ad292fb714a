/*
 * The reading verbs: cat, log, files, schema, and checkpoint (verify is
 * in verify.c).
 * Time travel (--version N, --as-of TIME) picks the snapshot; cat skips
 * data files whose partition values or min/max statistics rule the
 * --where predicate out, and streams the rest byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

/* The commitInfo action of a commit's text, or false. */
static bool commit_info(const char *p, size_t n, const char **ci, size_t *cn)
{
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		struct scan_error se;
		if (scan_ws(p + i, e - i, 0) < e - i &&
		    scan_validate(p + i, e - i, &se) == 0 &&
		    dl_get(p + i, e - i, "commitInfo", ci, cn) && (*ci)[0] == '{')
			return true;
		i = e + 1;
	}
	return false;
}

/*
 * The commit timestamp of version v, as PROTOCOL.md defines it: with
 * In-Commit Timestamps enabled (from version ict_from on), the
 * commitInfo's inCommitTimestamp; before that, "the Delta log file's
 * modification time" (to the millisecond).  -1: the commit is gone.
 */
static int64_t commit_time(int64_t v, int64_t ict_from, struct buf *tmp)
{
	char err[512];
	if (v >= ict_from) {
		if (dl_read_commit(opt.table, v, tmp, err, sizeof err) != 0)
			return -1;
		const char *ci;
		size_t cn;
		int64_t ts;
		if (!commit_info(tmp->p, tmp->len, &ci, &cn) ||
		    !dl_get_i64(ci, cn, "inCommitTimestamp", &ts))
			cli_die(EXIT_TROUBLE, "%s: version %lld has no "
				"commitInfo.inCommitTimestamp, which in-commit "
				"timestamps require; --as-of refused (use "
				"--version)", opt.table, (long long)v);
		return ts;
	}
	char *path = dl_commit_path(opt.table, v);
	struct stat st;
	int64_t t = stat(path, &st) == 0 ?
			    (int64_t)st.st_mtim.tv_sec * 1000 +
				    st.st_mtim.tv_nsec / 1000000 :
			    -1;
	free(path);
	return t;
}

static int64_t version_as_of(const char *when)
{
	struct instant at;
	bool zoned;
	const char *why;
	/* the forms --where takes: a date, no seconds, no zone (UTC) */
	if (time_parse_loose(when, strlen(when), &at, &zoned, &why) != 0)
		cli_usage_error("--as-of '%s': %s (give a date, or a time "
				"with or without a zone)", when, why);
	/* floor to the millisecond; years 0000-9999 fit an int64 */
	int64_t ms = at.sec * 1000 + at.nsec / 1000000;
	/* In-Commit Timestamps (writer feature inCommitTimestamp, table
	 * property delta.enableInCommitTimestamps): from the enablement
	 * version on, commit times are the ones the writers recorded. */
	struct dl_snapshot *s = load_table(-1);
	int64_t ict_from = INT64_MAX;
	if (dl_config_true(s, "delta.enableInCommitTimestamps")) {
		char *ev = dl_config(s, "delta.inCommitTimestampEnablementVersion");
		ict_from = ev ? atoll(ev) : 0;
		free(ev);
	}
	dl_snapshot_free(s);
	char err[512];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	struct buf tmp = {0};
	int64_t best = -1, prev = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		int64_t t = commit_time(vs[i], ict_from, &tmp);
		if (t < 0)
			continue;
		/* Out-of-order file times (clock skew between writers) are
		 * monotonized as Delta's readers do: a commit is never
		 * older than the one before it, it is 1 ms after it. */
		if (prev != INT64_MIN && t <= prev)
			t = prev + 1;
		prev = t;
		if (t <= ms)
			best = vs[i];
	}
	buf_free(&tmp);
	free(vs);
	if (best < 0)
		cli_die(EXIT_TROUBLE, "%s: no version was committed at or "
			"before %s", opt.table, when);
	return best;
}

static struct dl_snapshot *load_asked(void)
{
	int64_t v = opt.version;
	if (opt.as_of)
		v = version_as_of(opt.as_of);
	return load_table(v);
}

static int cmp_by_version(const void *a, const void *b)
{
	const struct dl_file *x = *(struct dl_file *const *)a;
	const struct dl_file *y = *(struct dl_file *const *)b;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->path, y->path);
}

int verb_cat(void)
{
	struct pred *p = pred_parse(opt.where, opt.nwhere, false);
	struct dl_snapshot *s = load_asked();
	pred_bind(p, s);
	char err[1024];
	if (dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t n, skipped = 0;
	struct dl_file **live = dl_live_files(s, &n);
	if (opt.version >= 0 || opt.as_of)
		need_files(s, live, n); /* vacuumed: fail before any output */
	qsort(live, n, sizeof *live, cmp_by_version);
	bool filter = p->n || p->jq;
	struct scan_record rec = {0};
	for (size_t i = 0; i < n; i++) {
		if (filter && !pred_file_may_match(p, s, NULL, 0, live[i])) {
			skipped++;
			continue;
		}
		struct lines *l = open_data(s, live[i]);
		struct line ln;
		int rc;
		while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
			cli_stats.records_in++;
			if (filter) {
				struct scan_error se;
				if (ln.too_long ||
				    scan_record(&rec, ln.p, ln.len, &se) != 0)
					cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64
						": damaged data file",
						opt.table, live[i]->path,
						ln.lineno);
				if (!pred_match(p, &rec))
					continue;
			}
			cli_out_line(ln.p, ln.len);
			cli_stats.records_out++;
		}
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", live[i]->path, err);
		cli_stats.bytes_in += lines_bytes(l);
		lines_close(l);
	}
	cli_out_close();
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"files_skipped\":%zu",
			 (long long)s->version, n, skipped);
		cli_stats_print(extra);
	}
	scan_record_free(&rec);
	free(live);
	pred_free(p);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_log(void)
{
	char err[512];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* the history of a log that cannot be replayed, or that asks
	 * for what txlog cannot read, is refused like the other verbs */
	dl_snapshot_free(load_table(-1));
	struct buf tmp = {0}, out = {0};
	for (size_t k = n; k-- > 0;) {
		int rc = dl_read_commit(opt.table, vs[k], &tmp, err, sizeof err);
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (rc == 1)
			continue;
		out.len = 0;
		buf_addf(&out, "{\"version\":%lld", (long long)vs[k]);
		for (size_t i = 0; i < tmp.len;) {
			const char *nl = memchr(tmp.p + i, '\n', tmp.len - i);
			size_t e = nl ? (size_t)(nl - tmp.p) : tmp.len;
			const char *ci;
			size_t cn;
			struct scan_error se;
			if (scan_ws(tmp.p + i, e - i, 0) == e - i) {
				i = e + 1; /* a blank line, as replay skips */
				continue;
			}
			if (scan_validate(tmp.p + i, e - i, &se) != 0)
				cli_die(EXIT_TROUBLE, "%s: version %lld: "
					"invalid JSON: %s", opt.table,
					(long long)vs[k], se.what);
			if (dl_get(tmp.p + i, e - i, "commitInfo", &ci, &cn) &&
			    ci[0] == '{') {
				size_t j = scan_ws(ci, cn, 1);
				if (ci[j] != '}') {
					buf_addc(&out, ',');
					buf_add(&out, ci + j, cn - j - 1);
				}
				break;
			}
			i = e + 1;
		}
		buf_addc(&out, '}');
		cli_out_line(out.p, out.len);
	}
	buf_free(&tmp);
	buf_free(&out);
	free(vs);
	return EXIT_OK;
}

int verb_files(void)
{
	struct timespec c0, c1;
	int64_t t0 = time_now();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	struct dl_snapshot *s = load_asked();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	int64_t load_ns = time_now() - t0;
	double load_cpu = (double)(c1.tv_sec - c0.tv_sec) +
			  (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	if (opt.version >= 0 || opt.as_of)
		need_files(s, live, n);
	for (size_t i = 0; i < n; i++)
		cli_out_line(live[i]->action, live[i]->action_len);
	free(live);
	if (opt.stats) {
		/* the load alone, to the microsecond, in wall and CPU
		 * time: what a checkpoint saves is smaller than the
		 * process around it, and a busy machine blurs the wall */
		char extra[280];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"checkpoint\":%lld,"
			 "\"commits_read\":%zu,\"load_seconds\":%.6f,"
			 "\"load_cpu_seconds\":%.6f",
			 (long long)s->version, n,
			 (long long)s->checkpoint_version, s->commits_read,
			 (double)load_ns / 1e9, load_cpu);
		cli_stats_print(extra);
	}
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_schema(void)
{
	struct dl_snapshot *s = load_asked();
	if (!s->metadata)
		cli_die(EXIT_TROUBLE, "%s: the log has no metaData", opt.table);
	char *ss = dl_get_str(s->metadata, strlen(s->metadata), "schemaString");
	if (!ss)
		cli_die(EXIT_TROUBLE, "%s: metaData without schemaString",
			opt.table);
	cli_out_line(ss, strlen(ss));
	free(ss);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_checkpoint(void)
{
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	char err[1024];
	if (dl_checkpoint(s, 7LL * 24 * 3600 * 1000, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	dl_snapshot_free(s);
	return EXIT_OK;
}
