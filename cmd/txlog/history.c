/*
 * The history: log (DESCRIBE HISTORY: NDJSON when piped, a table on a
 * terminal), and the commit times that --as-of, log and changes read.
 *
 * A commit's time is the one PROTOCOL.md defines: with In-Commit
 * Timestamps enabled, the commitInfo's inCommitTimestamp; before that the
 * log file's modification time, to the millisecond.  File times can go
 * backwards (clock skew between writers); they are monotonized as
 * Delta's readers do, each commit at least 1 ms after the one before, so
 * the same table gives the same answer to --as-of, log and changes.  The
 * in-commit timestamps are a clock of their own, never raised to the
 * file times before them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fpset.h"
#include "jsonw.h"
#include "timefmt.h"
#include "txlog.h"
#include "tz.h"
#include "value.h"
#include "xalloc.h"

bool txlog_action(const char *p, size_t n, const char *name, bool last,
		  const char **a, size_t *an)
{
	bool found = false;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		const char *x;
		size_t xn;
		struct scan_error se;
		if (scan_ws(p + i, e - i, 0) < e - i &&
		    scan_validate(p + i, e - i, &se) == 0 &&
		    scan_get(p + i, e - i, name, &x, &xn) && x[0] == '{') {
			*a = x;
			*an = xn;
			found = true;
			if (!last)
				break;
		}
		i = e + 1;
	}
	return found;
}

bool txlog_commit_info(const char *p, size_t n, const char **ci, size_t *cn)
{
	return txlog_action(p, n, "commitInfo", false, ci, cn);
}

/*
 * The commit timestamp of version v, as PROTOCOL.md defines it: with
 * In-Commit Timestamps enabled (from version ict_from on), the
 * commitInfo's inCommitTimestamp; before that, "the Delta log file's
 * modification time" (to the millisecond).  TXLOG_TIME_GONE: the commit
 * is gone.  A time before 1970 is negative, and a time all the same.
 */
static int64_t commit_time(int64_t v, int64_t ict_from, struct buf *tmp)
{
	char err[512];
	if (v >= ict_from) {
		/* gone is gone (cleaned up); a commit that cannot be read
		 * (damaged, unreadable) has a time all the same, which is
		 * not known: taken for gone, --as-of would answer the
		 * version before it */
		int rc = dl_read_commit(opt.table, v, tmp, err, sizeof err);
		if (rc == 1)
			return TXLOG_TIME_GONE;
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
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
	int64_t t = TXLOG_TIME_GONE;
	if (stat(path, &st) == 0)
		t = (int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000;
	free(path);
	return t;
}

int64_t *txlog_commit_times(const int64_t *vs, size_t n)
{
	struct dl_snapshot *s = load_table(-1);
	int64_t *ts = txlog_commit_times_of(s, vs, n);
	dl_snapshot_free(s);
	return ts;
}

int64_t *txlog_commit_times_of(const struct dl_snapshot *s,
			       const int64_t *vs, size_t n)
{
	/* In-Commit Timestamps (writer feature inCommitTimestamp, table
	 * property delta.enableInCommitTimestamps): from the enablement
	 * version on, commit times are the ones the writers recorded. */
	int64_t ict_from = INT64_MAX;
	if (dl_config_true(s, "delta.enableInCommitTimestamps")) {
		char *ev = dl_config(s, "delta.inCommitTimestampEnablementVersion");
		/* one that does not parse is refused at load */
		if (!ev || !dl_setting_long(ev, &ict_from))
			ict_from = 0;
		free(ev);
	}
	int64_t *ts = xcalloc(n + 1, sizeof *ts);
	struct buf tmp = {0};
	int64_t prev = TXLOG_TIME_GONE;
	for (size_t i = 0; i < n; i++) {
		int64_t t = commit_time(vs[i], ict_from, &tmp);
		/* The in-commit timestamps are a clock of their own: file
		 * times before the enablement version are monotonized
		 * among themselves, never carried into them.  A file time
		 * moved later (a copied or restored log) would otherwise
		 * push every in-commit timestamp after it, and --as-of
		 * answer an old version where Delta's readers, which look
		 * a time at or after the enablement up in the in-commit
		 * timestamps alone, answer by them. */
		if (vs[i] >= ict_from && (i == 0 || vs[i - 1] < ict_from))
			prev = TXLOG_TIME_GONE;
		if (t != TXLOG_TIME_GONE) {
			/* a commit is never older than the one before it: it
			 * is 1 ms after it */
			if (prev != TXLOG_TIME_GONE && t <= prev)
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
	int64_t ms;
	char shown[TIME_STRMAX];
	if (when[0] == '-') {
		/* -DUR: DUR before now, as --retain counts */
		int64_t ago;
		if (duration_parse(when + 1, &ago, &why) != 0)
			cli_usage_error("--as-of '%s': %s (give -DUR, such as "
					"-90m, for DUR before now)", when, why);
		ms = (time_now() - ago) / 1000000;
		at.sec = ms / 1000 - (ms % 1000 < 0);
		at.nsec = (int32_t)((ms - at.sec * 1000) * 1000000);
		time_format_instant(&at, TIME_STYLE_MILLIS, shown);
		when = shown;
	} else {
		/* the forms --where takes: a date, no seconds, no zone (UTC) */
		if (time_parse_loose(when, strlen(when), &at, &zoned, &why) != 0)
			cli_usage_error("--as-of '%s': %s (give a date, a time "
					"with or without a zone, or -DUR)",
					when, why);
		/* floor to the millisecond; years 0000-9999 fit an int64 */
		ms = at.sec * 1000 + at.nsec / 1000000;
		/* what will be current then is not known yet: the newest
		 * version now would be an answer a later commit makes wrong
		 * (Delta refuses a time after the newest commit) */
		int64_t now_ms = time_now() / 1000000;
		if (ms > now_ms) {
			struct instant nw = {now_ms / 1000,
					     (int32_t)(now_ms % 1000 * 1000000)};
			time_format_instant(&nw, TIME_STYLE_MILLIS, shown);
			cli_die(EXIT_TROUBLE, "--as-of '%s': in the future (now "
				"is %s): which version will be current then is "
				"not known yet; leave --as-of out to read the "
				"newest", when, shown);
		}
	}
	char err[512];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	int64_t *ts = txlog_commit_times(vs, n);
	int64_t best = -1;
	for (size_t i = 0; i < n; i++)
		if (ts[i] != TXLOG_TIME_GONE && ts[i] <= ms)
			best = vs[i];
	int64_t oldest = n ? vs[0] : 0;
	free(ts);
	free(vs);
	/* before the oldest commit kept: with versions before it cleaned
	 * up, which of them was current then is no longer known */
	if (best < 0 && oldest > 0)
		cli_die(EXIT_TROUBLE, "%s: the version current at %s cannot be "
			"read: the log before version %lld was cleaned up",
			opt.table, when, (long long)oldest);
	if (best < 0)
		cli_die(EXIT_TROUBLE, "%s: no version was committed at or "
			"before %s", opt.table, when);
	return best;
}

/* The log as NDJSON, newest first: each commitInfo with its version, as
 * DESCRIBE HISTORY gives it. */
static void log_ndjson(const int64_t *vs, size_t n)
{
	char err[512];
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
}


/* ---- the log as a table, for a person ---- */

enum { C_VERSION, C_TIME, C_OP, C_ROWS, C_FILES, C_TXN, C_PARAMS, NCOL };
static const char *const heads[NCOL] = {
	"VERSION", "TIME", "OPERATION", "ROWS", "FILES", "TXN", "PARAMETERS",
};

struct hrow {
	char *col[NCOL];
};

/* The file's path (decoded JSON string) as a key of the records map. */
static struct fp128 path_fp(const char *action, size_t an)
{
	char *p = scan_get_str(action, an, "path");
	struct fp128 fp = value_fp(p ? p : "", p ? strlen(p) : 0);
	free(p);
	return fp;
}

/* Remember the records of an added file (payload: records + 1; 0 when
 * its add has no statistics). */
static void note_add(struct fpset *recs, const char *a, size_t an,
		     uint64_t *rows, bool *known)
{
	uint64_t *pl;
	fpset_add(recs, path_fp(a, an), &pl);
	const char *st;
	size_t sn;
	int64_t nr = -1;
	char *stats = scan_get(a, an, "stats", &st, &sn) && st[0] == '"'
			      ? scan_strdup_lit(st, sn)
			      : NULL;
	if (stats)
		scan_get_i64(stats, strlen(stats), "numRecords", &nr);
	free(stats);
	*pl = nr >= 0 ? (uint64_t)nr + 1 : 0;
	if (nr >= 0)
		*rows += (uint64_t)nr;
	else
		*known = false;
}

static void note_remove(struct fpset *recs, const char *a, size_t an,
			uint64_t *rows, bool *known)
{
	struct fp128 fp = path_fp(a, an);
	uint64_t *pl;
	if (fpset_has(recs, fp) && (fpset_add(recs, fp, &pl), *pl > 0))
		*rows += *pl - 1;
	else
		*known = false; /* added before the log's oldest commit */
}

static char *counts(uint64_t add, bool add_known, uint64_t rm, bool rm_known)
{
	struct buf b = {0};
	if (add_known)
		buf_addf(&b, "+%llu", (unsigned long long)add);
	else
		buf_adds(&b, "+?");
	if (rm_known)
		buf_addf(&b, " -%llu", (unsigned long long)rm);
	else
		buf_adds(&b, " -?");
	return b.p;
}

/* The commit time ms in local time (or UTC with --utc), with its
 * offset: 2024-05-01 10:30:00.250 +0200. */
static char *show_time(int64_t ms)
{
	if (ms == TXLOG_TIME_GONE)
		return xstrdup("?");
	/* floored: 1969-12-31 23:59:59.750 is -250 ms */
	int64_t msec = (ms % 1000 + 1000) % 1000;
	time_t sec = (time_t)((ms - msec) / 1000);
	struct tm tm;
	if (!(opt.utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm)))
		return xstrdup("?");
	char d[32], z[16];
	strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
	strftime(z, sizeof z, "%z", &tm);
	struct buf b = {0};
	buf_addf(&b, "%s.%03d %s", d, (int)msec, opt.utc ? "+0000" : z);
	return b.p;
}

/* One commit's row of the table; recs carries the records of files
 * added by earlier commits. */
static void table_row(struct hrow *r, int64_t v, int64_t ms, const char *text,
		      size_t n, struct fpset *recs)
{
	uint64_t ra = 0, rr = 0, fa = 0, fr = 0;
	bool ra_known = true, rr_known = true;
	struct buf txn = {0}, params = {0};
	char *op = NULL;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - text) : n;
		const char *line = text + i, *a;
		size_t ln = e - i, an;
		struct scan_error se;
		i = e + 1;
		if (scan_ws(line, ln, 0) == ln)
			continue;
		if (scan_validate(line, ln, &se) != 0)
			cli_die(EXIT_TROUBLE, "%s: version %lld: invalid JSON: "
				"%s", opt.table, (long long)v, se.what);
		if (scan_get(line, ln, "add", &a, &an) && a[0] == '{') {
			fa++;
			note_add(recs, a, an, &ra, &ra_known);
		} else if (scan_get(line, ln, "remove", &a, &an) &&
			   a[0] == '{') {
			fr++;
			note_remove(recs, a, an, &rr, &rr_known);
		} else if (scan_get(line, ln, "txn", &a, &an) && a[0] == '{') {
			char *app = scan_get_str(a, an, "appId");
			int64_t tv = -1;
			scan_get_i64(a, an, "version", &tv);
			buf_addf(&txn, "%s%s:%lld", txn.len ? "," : "",
				 app ? app : "?", (long long)tv);
			free(app);
		} else if (scan_get(line, ln, "commitInfo", &a, &an) &&
			   a[0] == '{') {
			op = scan_get_str(a, an, "operation");
			const char *pp, *k, *x;
			size_t pn, kn, xn;
			struct scan_obj o;
			if (scan_get(a, an, "operationParameters", &pp, &pn) &&
			    scan_obj_begin(&o, pp, pn)) {
				while (scan_obj_next(&o, &k, &kn, &x, &xn)) {
					char *key = scan_strdup_lit(k, kn);
					buf_addf(&params, "%s%s=", params.len ?
						 " " : "", key);
					buf_add(&params, x, xn);
					free(key);
				}
			}
		}
	}
	struct buf vb = {0};
	buf_addf(&vb, "%lld", (long long)v);
	r->col[C_VERSION] = vb.p;
	r->col[C_TIME] = show_time(ms);
	r->col[C_OP] = xstrdup(op ? op : "?");
	r->col[C_ROWS] = counts(ra, ra_known, rr, rr_known);
	r->col[C_FILES] = counts(fa, true, fr, true);
	r->col[C_TXN] = txn.len ? txn.p : xstrdup("-");
	r->col[C_PARAMS] = params.len ? params.p : xstrdup("-");
	if (!txn.len)
		buf_free(&txn);
	if (!params.len)
		buf_free(&params);
	free(op);
}

static void log_table(const int64_t *vs, size_t n)
{
	char err[512];
	int64_t *ts = txlog_commit_times(vs, n);
	struct fpset *recs = fpset_new(true);
	/* a log whose oldest commits were cleaned up starts from the
	 * snapshot before its oldest commit: its files' records.  Cleanup
	 * keeps the commit of the checkpoint that stands in for the rest,
	 * so there is none before it, but the snapshot at it knows every
	 * file it kept live (not those it removed: "-?") */
	if (n && vs[0] > 0) {
		struct dl_snapshot *s = dl_load(opt.table, vs[0] - 1, err,
						sizeof err);
		if (!s)
			s = dl_load(opt.table, vs[0], err, sizeof err);
		size_t nl = 0;
		struct dl_file **live = s ? dl_live_files(s, &nl) : NULL;
		for (size_t i = 0; i < nl; i++) {
			uint64_t rows = 0;
			bool known = true;
			note_add(recs, live[i]->action, live[i]->action_len,
				 &rows, &known);
		}
		free(live);
		if (s)
			dl_snapshot_free(s);
	}
	struct hrow *rows = xcalloc(n + 1, sizeof *rows);
	struct buf tmp = {0};
	size_t nr = 0;
	for (size_t k = 0; k < n; k++) {
		int rc = dl_read_commit(opt.table, vs[k], &tmp, err, sizeof err);
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (rc == 1)
			continue;
		table_row(&rows[nr++], vs[k], ts[k], tmp.p, tmp.len, recs);
	}
	size_t w[NCOL];
	for (size_t c = 0; c < NCOL; c++) {
		w[c] = strlen(heads[c]);
		for (size_t i = 0; i < nr; i++)
			if (strlen(rows[i].col[c]) > w[c])
				w[c] = strlen(rows[i].col[c]);
	}
	struct buf line = {0};
	for (size_t i = nr + 1; i-- > 0;) {
		/* the heading first, then the newest commit first */
		const char *const *cells = i == nr ? heads
					: (const char *const *)rows[i].col;
		line.len = 0;
		for (size_t c = 0; c < NCOL; c++) {
			if (c == NCOL - 1)
				buf_adds(&line, cells[c]);
			else
				buf_addf(&line, "%-*s  ", (int)w[c], cells[c]);
		}
		cli_out_line(line.p, line.len);
	}
	for (size_t i = 0; i < nr; i++)
		for (size_t c = 0; c < NCOL; c++)
			free(rows[i].col[c]);
	free(rows);
	buf_free(&line);
	buf_free(&tmp);
	fpset_free(recs);
	free(ts);
}

int verb_log(void)
{
	bool table = opt.format ? strcmp(opt.format, "table") == 0
				: isatty(STDOUT_FILENO);
	/* NDJSON has no shown time for --utc to change (each commitInfo's
	 * timestamp is milliseconds): taken and ignored, it would leave a
	 * piped log --utc a table nowhere */
	if (opt.utc && !table)
		cli_usage_error("log: --utc applies to the table (--format "
				"table, or a terminal); NDJSON gives each "
				"commit's times in milliseconds since the "
				"epoch");
	char err[512];
	/* the table shows local times: a TZ glibc would read as UTC
	 * without a word is refused, as a program's localtime is */
	if (table && !opt.utc && tz_env_check(err, sizeof err) != 0)
		cli_usage_error("log: the table shows local times: %s "
				"(--utc shows UTC)", err);
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* the history of a log that cannot be replayed, or that asks
	 * for what txlog cannot read, is refused like the other verbs */
	dl_snapshot_free(load_table(-1));
	if (table)
		log_table(vs, n);
	else
		log_ndjson(vs, n);
	free(vs);
	return EXIT_OK;
}
