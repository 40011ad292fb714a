/*
 * Log cleanup: Delta's metadata cleanup (PROTOCOL.md, "Metadata
 * Cleanup"), after every checkpoint txlog writes, so that a table
 * appended to for years keeps a log of its retention, not of its life
 * (every load lists the log).
 *
 * The cutoff is midnight UTC of the day now - delta.logRetentionDuration
 * (default 30 days) falls in.  The cutoff commit is the newest committed
 * at or before it: the oldest version a time travel within the retention
 * can ask for.  The newest checkpoint at or below that commit stands in
 * for the log before it, which is deleted; the checkpoint and every
 * commit from its version on stay.  The checkpoint must read back first
 * (its checksum, its version): a damaged one would leave the table with
 * no way to its first versions.  delta.enableExpiredLogCleanup false
 * turns cleanup off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "delta/log.h"
#include "delta/protocol.h"
#include "timefmt.h"
#include "txlog.h"

#define DAY_MS (86400LL * 1000)

void txlog_log_cleanup(const struct dl_snapshot *s)
{
	char *on = dl_config(s, "delta.enableExpiredLogCleanup");
	bool off = on && strcasecmp(on, "false") == 0;
	free(on);
	if (off)
		return;
	int64_t keep_ms = 30 * DAY_MS;
	if (dl_config_interval(s, "delta.logRetentionDuration", &keep_ms) < 0) {
		cli_warn("%s: delta.logRetentionDuration is not a duration txlog "
			 "reads (such as 'interval 30 days'); the log is not "
			 "cleaned up", s->table);
		return;
	}
	int64_t cutoff = time_now() / 1000000 - keep_ms;
	cutoff -= ((cutoff % DAY_MS) + DAY_MS) % DAY_MS;

	char err[1024];
	size_t n;
	int64_t *vs = dl_list_versions(s->table, &n, err, sizeof err);
	if (!vs) {
		cli_warn("%s: the log is not cleaned up: %s", s->table, err);
		return;
	}
	/* times only rise (each commit is at least 1 ms after the one
	 * before): an oldest commit younger than the cutoff ends it, for
	 * one stat, where most checkpoints find nothing to clean (file
	 * times before in-commit timestamps were enabled may be later
	 * than those: then the log is left whole, more kept, never less) */
	int64_t *ts = n ? txlog_commit_times_of(s, vs, 1) : NULL;
	if (n && ts[0] > cutoff)
		n = 0;
	free(ts);
	ts = n ? txlog_commit_times_of(s, vs, n) : NULL;
	int64_t cut_commit = -1;
	for (size_t i = 0; i < n; i++)
		if (ts[i] != TXLOG_TIME_GONE && ts[i] <= cutoff)
			cut_commit = vs[i];
	int64_t oldest = n ? vs[0] : -1;
	free(ts);
	free(vs);
	if (cut_commit < 0)
		return;
	int64_t cp;
	char *name = dl_newest_checkpoint(s->table, cut_commit, &cp, err,
					  sizeof err);
	if (!name) {
		if (err[0])
			cli_warn("%s: the log is not cleaned up: %s", s->table,
				 err);
		return;
	}
	if (cp <= oldest) { /* no commit below it: nothing to clean */
		free(name);
		return;
	}
	struct dl_snapshot *c = dl_load_from(s->table, name, cp, err,
					     sizeof err);
	free(name);
	if (!c) {
		cli_warn("%s: the log is not cleaned up: %s", s->table, err);
		return;
	}
	dl_snapshot_free(c);
	size_t deleted;
	char keep[48];
	duration_format(keep_ms * 1000000, keep);
	if (dl_delete_below(s->table, cp, &deleted, err, sizeof err) != 0)
		cli_warn("%s: log cleanup stopped after %zu files: %s",
			 s->table, deleted, err);
	else if (deleted)
		cli_warn("%s: log cleanup: deleted the %zu log files below "
			 "version %lld, older than the log retention (%s); its "
			 "checkpoint stands in for them", s->table, deleted,
			 (long long)cp, keep);
}
