/*
 * Transactions: optimistic concurrency on put-if-absent.
 *
 * A writer reads snapshot R, writes its data files, then tries to publish
 * version R+1.  If another writer got there first, it reads the winner's
 * commit and asks the protocol's questions:
 *   - did the winner change the protocol or the metadata?  conflict;
 *   - did it remove a file this transaction read?  conflict;
 *   - did it add a file this transaction would have read (any add when
 *     it read everything, else an add whose partition values or
 *     statistics may match its predicate)?  conflict;
 *   - did it record the same txn appId at this version or later?  then
 *     this write is a replay: drop it, exit 0.
 * Otherwise it tries R+2, and so on.  A blind append only asks the first
 * and last questions, so concurrent appends always get through.
 * A conflict exits 75 naming the winning version; the data files written
 * are removed (a crash leaves them behind as orphans, which vacuum may
 * delete: no version names them).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "delta/logsum.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

bool parse_txn(const char **app, int64_t *version)
{
	if (!opt.txn)
		return false;
	const char *c = strrchr(opt.txn, ':');
	if (!c || c == opt.txn || !c[1])
		cli_usage_error("--txn '%s': expected APP:VERSION", opt.txn);
	for (const char *d = c + 1; *d; d++)
		if (*d < '0' || *d > '9')
			cli_usage_error("--txn '%s': VERSION must be a whole "
					"number", opt.txn);
	static char buf[512];
	size_t n = (size_t)(c - opt.txn);
	if (n >= sizeof buf)
		cli_usage_error("--txn: APP too long");
	memcpy(buf, opt.txn, n);
	buf[n] = '\0';
	*app = buf;
	/* a Delta txn version is a signed Long: 2^63 and up would wrap
	 * negative, below any recorded version, and the write be taken
	 * for a replay and dropped */
	uint64_t v = cli_count("--txn", c + 1);
	if (v > INT64_MAX)
		cli_usage_error("--txn %s: VERSION is at most %lld (a Delta "
				"txn version is a signed 64-bit Long)",
				opt.txn, (long long)INT64_MAX);
	*version = (int64_t)v;
	return true;
}

void drain_inputs(void)
{
	char err[512];
	size_t n = opt.nfiles ? opt.nfiles : 1;
	for (size_t i = 0; i < n; i++) {
		const char *name = opt.nfiles ? opt.files[i] : "-";
		struct zin *z = zin_open(name, err, sizeof err);
		if (!z)
			cli_die(EXIT_TROUBLE, "%s", err);
		char b[65536];
		ssize_t r;
		while ((r = zin_read(z, b, sizeof b, err, sizeof err)) > 0)
			;
		zin_close(z);
	}
}

void tx_hold(struct tx *t, struct dl_file *const *fs, size_t n)
{
	const struct dl_file *gone = txlog_hold(t->snap->table, fs, n);
	if (!gone)
		return;
	/* A file of the snapshot this write read that is gone: a commit
	 * since removed it and a vacuum took it (a conflict: run again
	 * and it reads the table without it), or it was lost. */
	char err[1024];
	struct dl_snapshot *now = dl_load(opt.table, -1, err, sizeof err);
	const struct dl_file *f = now ? dl_find(now, gone->path) : NULL;
	bool removed = now && now->version > t->snap->version &&
		       !(f && f->live);
	char *path = xstrdup(gone->path);
	int64_t v = now ? now->version : -1;
	dl_snapshot_free(now);
	remove_written(opt.table, t->written, t->nwritten);
	if (removed)
		txlog_fail(EXIT_TEMPFAIL, "%s: %s, which this %s reads, was "
			   "removed by a concurrent writer (version %lld is "
			   "the newest) and vacuumed; nothing written, retry",
			   opt.table, path, t->op, (long long)v);
	txlog_fail(EXIT_TROUBLE, "%s: version %lld needs %s, which is gone "
		   "(run txlog verify); nothing committed", opt.table,
		   (long long)t->snap->version, path);
}

void tx_read(struct tx *t, const char *path)
{
	t->read_paths = xreallocarray(t->read_paths, t->nread + 1,
				      sizeof *t->read_paths);
	t->read_paths[t->nread++] = xstrdup(path);
}

static bool was_read(const struct tx *t, const char *path)
{
	for (size_t i = 0; i < t->nread; i++)
		if (strcmp(t->read_paths[i], path) == 0)
			return true;
	return false;
}

enum { NO_CONFLICT, CONFLICT, REPLAY };

/* The metaData line of this transaction's actions, or NULL. */
static const char *own_metadata(const struct tx *t, size_t *len)
{
	const char *p = t->actions.p;
	size_t n = t->actions.len;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		if (e - i > 12 && memcmp(p + i, "{\"metaData\":", 12) == 0) {
			*len = e - i;
			return p + i;
		}
		i = e + 1;
	}
	return NULL;
}

/* Did the winner w commit the very metaData this transaction was going
 * to commit (and no protocol change of its own)?  The whole of it, not
 * the schema alone: a winner with this schema and a configuration of
 * its own (a CHECK constraint, the change data feed, append-only) or
 * another format changed what this write must honour. */
static bool same_metadata(const struct tx *t, const struct dl_snapshot *w)
{
	size_t n;
	const char *m = own_metadata(t, &n);
	if (!m)
		return false;
	const char *mine = m + 12; /* the object after {"metaData": */
	size_t mn = n - 13;
	return strlen(w->metadata) == mn && memcmp(mine, w->metadata, mn) == 0;
}

static void drop_metadata(struct tx *t)
{
	size_t n;
	const char *m = own_metadata(t, &n);
	if (!m)
		return;
	size_t at = (size_t)(m - t->actions.p), end = at + n + 1;
	if (end > t->actions.len)
		end = t->actions.len;
	memmove(t->actions.p + at, t->actions.p + end, t->actions.len - end);
	t->actions.len -= end - at;
	t->actions.p[t->actions.len] = '\0';
}

static int judge(struct tx *t, const char *text, size_t n, int64_t v,
		 char *why, size_t whylen)
{
	/* The winner's actions, replayed onto an empty snapshot: that
	 * parses adds and removes exactly as a load would. */
	struct dl_snapshot *w = dl_snapshot_new(t->snap->table);
	char err[512];
	if (dl_apply(w, text, n, v, err, sizeof err) != 0) {
		/* a winner txlog cannot read: this write's files go, as
		 * on every other way out before its commit */
		dl_snapshot_free(w);
		remove_written(opt.table, t->written, t->nwritten);
		cli_die(EXIT_TROUBLE, "%s; nothing committed", err);
	}
	int verdict = NO_CONFLICT;
	if (w->metadata && !w->protocol && same_metadata(t, w)) {
		/* Two first writes to an inferred table that inferred the
		 * same schema (or two identical schema changes): the
		 * winner's metaData is this one's, so drop ours and go on
		 * as a plain write. */
		drop_metadata(t);
		free(w->metadata);
		w->metadata = NULL;
	}
	if (w->protocol || w->metadata) {
		snprintf(why, whylen, "it changed the table's %s",
			 w->metadata ? "metadata (schema)" : "protocol");
		verdict = CONFLICT;
	}
	if (t->txn_app && verdict == NO_CONFLICT) {
		int64_t tv = dl_txn_version(w, t->txn_app);
		if (tv >= t->txn_version)
			verdict = REPLAY;
	}
	for (size_t i = 0; verdict == NO_CONFLICT && i < w->nfiles; i++) {
		const struct dl_file *f = &w->files[i];
		if (!f->live) {
			if (!t->blind && was_read(t, f->path)) {
				snprintf(why, whylen, "it removed %s, which "
					 "this %s read", f->path, t->op);
				verdict = CONFLICT;
			}
			continue;
		}
		if (t->blind)
			continue;
		/* a file that only moved data (optimize) changes nothing */
		const char *dc;
		size_t dn;
		if (scan_get(f->action, f->action_len, "dataChange", &dc,
			     &dn) &&
		    dc[0] == 'f')
			continue;
		if (t->reads_all || (t->pred && pred_file_may_match(
						    t->pred, t->snap, NULL, 0, f))) {
			snprintf(why, whylen, "it added %s, which this %s "
				 "would have read", f->path, t->op);
			verdict = CONFLICT;
		}
	}
	dl_snapshot_free(w);
	return verdict;
}

/* The commit's text: commitInfo first (as Delta writes it, and as
 * in-commit timestamps require), ending with the file's checksum, which
 * a cut anywhere after it then fails (delta/logsum.h). */
static void build(struct tx *t, struct buf *b)
{
	b->len = 0;
	int64_t now_ms = time_now() / 1000000;
	buf_addf(b, "{\"commitInfo\":{\"timestamp\":%lld,\"operation\":",
		 (long long)now_ms);
	jw_str(b, t->op);
	buf_adds(b, ",\"operationParameters\":{");
	if (t->params.len)
		buf_add(b, t->params.p + 1, t->params.len - 1);
	buf_addf(b, "},\"readVersion\":%lld,\"isolationLevel\":"
		 "\"Serializable\",\"isBlindAppend\":%s,"
		 "\"operationMetrics\":{",
		 (long long)t->snap->version, t->blind ? "true" : "false");
	if (t->metrics.len)
		buf_add(b, t->metrics.p + 1, t->metrics.len - 1);
	buf_addf(b, "},\"engineInfo\":\"idem-txlog/%s\",\"txnId\":",
		 IDEM_VERSION);
	char uuid[37];
	dl_uuid(uuid);
	jw_str(b, uuid);
	buf_addc(b, ',');
	size_t at = dl_sum_member(b);
	buf_adds(b, "}}\n");
	buf_add(b, t->actions.p, t->actions.len);
	if (t->txn_app) {
		buf_adds(b, "{\"txn\":{\"appId\":");
		jw_str(b, t->txn_app);
		buf_addf(b, ",\"version\":%lld,\"lastUpdated\":%lld}}\n",
			 (long long)t->txn_version, (long long)now_ms);
	}
	dl_sum_seal(b, at);
}

static void maybe_checkpoint(int64_t v)
{
	char err[1024];
	struct dl_snapshot *s = dl_load(opt.table, v, err, sizeof err);
	if (!s) {
		cli_warn("%s: version %lld committed, but no checkpoint: %s",
			 opt.table, (long long)v, err);
		return;
	}
	/* 1: the table does not allow a JSON checkpoint; checkpoints are
	 * optional, the commit stands without one */
	int rc = dl_checkpoint(s, dl_tombstone_retention_ms(s), err, sizeof err);
	if (rc < 0)
		cli_warn("%s: version %lld committed, but no checkpoint: %s",
			 opt.table, (long long)v, err);
	else if (rc == 0)
		txlog_log_cleanup(s);
	dl_snapshot_free(s);
}

void tx_free(struct tx *t)
{
	buf_free(&t->actions);
	buf_free(&t->params);
	buf_free(&t->metrics);
	buf_free(&t->stats_extra);
	for (size_t i = 0; i < t->nread; i++)
		free(t->read_paths[i]);
	free(t->read_paths);
	for (size_t i = 0; i < t->nwritten; i++)
		free(t->written[i]);
	free(t->written);
	pred_free(t->pred);
	dl_snapshot_free(t->snap);
	memset(t, 0, sizeof *t);
}

void tx_stats_none(void)
{
	cli_stats.records_out = 0; /* read, perhaps written, not committed */
	if (opt.stats)
		cli_stats_print(",\"version\":null");
}

static int tx_done(struct tx *t, int rc)
{
	tx_free(t);
	return rc;
}

int tx_commit(struct tx *t)
{
	struct buf text = {0}, winner = {0};
	char err[1024], why[1024];
	int64_t v = t->snap->version + 1;
	if (dl_check_commit(t->snap, t->actions.p ? t->actions.p : "",
			    t->actions.len, err, sizeof err) != 0) {
		remove_written(opt.table, t->written, t->nwritten);
		cli_die(EXIT_TROUBLE, "%s", err);
	}
	for (;;) {
		build(t, &text);
		int rc = dl_write_commit(opt.table, v, text.p, text.len, err,
					 sizeof err);
		if (rc < 0) {
			remove_written(opt.table, t->written, t->nwritten);
			cli_die(EXIT_TROUBLE, "%s", err);
		}
		if (rc == 0)
			break;
		rc = dl_read_commit(opt.table, v, &winner, err, sizeof err);
		if (rc != 0) {
			remove_written(opt.table, t->written, t->nwritten);
			cli_die(EXIT_TROUBLE, "%s", rc < 0 ? err :
				"a version vanished from the log");
		}
		int verdict = judge(t, winner.p, winner.len, v, why,
				    sizeof why);
		if (verdict == REPLAY) {
			remove_written(opt.table, t->written, t->nwritten);
			cli_warn("%s: txn %s:%lld was committed meanwhile "
				 "(version %lld); nothing written", opt.table,
				 t->txn_app, (long long)t->txn_version,
				 (long long)v);
			buf_free(&text);
			buf_free(&winner);
			tx_stats_none();
			return tx_done(t, EXIT_OK);
		}
		if (verdict == CONFLICT) {
			remove_written(opt.table, t->written, t->nwritten);
			cli_warn("%s: version %lld was committed by a "
				 "concurrent writer and %s; nothing written, "
				 "retry", opt.table, (long long)v, why);
			buf_free(&text);
			buf_free(&winner);
			tx_stats_none();
			return tx_done(t, EXIT_TEMPFAIL);
		}
		v++;
	}
	buf_free(&text);
	buf_free(&winner);
	/* --checkpoint-interval on a write: this write's, in place of the
	 * table's (it was accepted and ignored) */
	int64_t every = opt.checkpoint_every ? opt.checkpoint_every
					     : t->snap->checkpoint_every;
	if (every > 0 && v % every == 0)
		maybe_checkpoint(v);
	if (t->committed)
		*t->committed = v;
	if (t->on_commit)
		t->on_commit(t->on_commit_ctx);
	if (opt.stats) {
		struct buf extra = {0};
		buf_addf(&extra, ",\"version\":%lld", (long long)v);
		if (t->stats_extra.len)
			buf_add(&extra, t->stats_extra.p, t->stats_extra.len);
		cli_stats_print(extra.p);
		buf_free(&extra);
	}
	return tx_done(t, EXIT_OK);
}
