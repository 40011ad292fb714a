/*
 * The history: log (DESCRIBE HISTORY), and the commit times that
 * --as-of, log and changes read.
 *
 * A commit's time is the one PROTOCOL.md defines: with In-Commit
 * Timestamps enabled, the commitInfo's inCommitTimestamp; before that the
 * log file's modification time, to the millisecond.  File times can go
 * backwards (clock skew between writers); they are monotonized as
 * Delta's readers do, each commit at least 1 ms after the one before, so
 * the same table gives the same answer to --as-of, log and changes.
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
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

/* The commitInfo action of a commit's text, or false. */
bool txlog_commit_info(const char *p, size_t n, const char **ci, size_t *cn)
{
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		struct scan_error se;
		if (scan_ws(p + i, e - i, 0) < e - i &&
		    scan_validate(p + i, e - i, &se) == 0 &&
		    scan_get(p + i, e - i, "commitInfo", ci, cn) && (*ci)[0] == '{')
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
		if (!txlog_commit_info(tmp->p, tmp->len, &ci, &cn) ||
		    !scan_get_i64(ci, cn, "inCommitTimestamp", &ts))
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

int64_t *txlog_commit_times(const int64_t *vs, size_t n)
{
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
	int64_t *ts = xcalloc(n + 1, sizeof *ts);
	struct buf tmp = {0};
	int64_t prev = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		int64_t t = commit_time(vs[i], ict_from, &tmp);
		if (t >= 0) {
			/* a commit is never older than the one before it: it
			 * is 1 ms after it */
			if (prev != INT64_MIN && t <= prev)
				t = prev + 1;
			prev = t;
		}
		ts[i] = t;
	}
	buf_free(&tmp);
	return ts;
}

int64_t txlog_version_as_of(const char *when)
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
	char err[512];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	int64_t *ts = txlog_commit_times(vs, n);
	int64_t best = -1;
	for (size_t i = 0; i < n; i++)
		if (ts[i] >= 0 && ts[i] <= ms)
			best = vs[i];
	free(ts);
	free(vs);
	if (best < 0)
		cli_die(EXIT_TROUBLE, "%s: no version was committed at or "
			"before %s", opt.table, when);
	return best;
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
			if (scan_get(tmp.p + i, e - i, "commitInfo", &ci, &cn) &&
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

