/*
 * restore: Delta's RESTORE.  One commit that makes the newest version's
 * files those of version N again: a remove for each live file N did not
 * have, an add for each file of N that is no longer live (its add from
 * N's log, dataChange true as Delta writes both), and N's metaData when
 * the schema or configuration changed since.  The protocol stays: a
 * table never loses a feature it declared.
 *
 * Nothing is copied: the files N needs must still be on disk.  One that
 * vacuum took (or whose size or checksum differs from its add) makes the
 * restore refuse, naming the files, before anything is written; Delta
 * would fail the same way unless told to ignore missing files, which
 * would commit a table that is not version N.
 *
 * A restore reads the whole table, so like merge it conflicts with any
 * concurrent commit that changed data (tx.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "jsonw.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

/* The add action of f (an add of another version) with dataChange true:
 * what a re-added file is, whatever the commit that first added it (an
 * optimize's add has false). */
static void readd_action(struct buf *b, const struct dl_file *f)
{
	struct scan_obj o;
	const char *k, *v;
	size_t kn, vn;
	bool first = true, had = false;
	buf_adds(b, "{\"add\":{");
	scan_obj_begin(&o, f->action, f->action_len);
	while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
		if (!first)
			buf_addc(b, ',');
		first = false;
		buf_add(b, k, kn);
		buf_addc(b, ':');
		if (kn == 12 && memcmp(k, "\"dataChange\"", 12) == 0) {
			buf_adds(b, "true");
			had = true;
		} else {
			buf_add(b, v, vn);
		}
	}
	if (!had)
		buf_adds(b, first ? "\"dataChange\":true" : ",\"dataChange\":true");
	buf_adds(b, "}}\n");
}

/* Whether f is on disk as its add describes it: present, its size, and
 * the idem.xxh3_128 tag's checksum when it has one.  why says what is
 * wrong otherwise. */
static bool file_intact(const char *table, const struct dl_file *f,
			const char **why)
{
	struct buf p = {0};
	buf_addf(&p, "%s/%s", table, f->path);
	struct stat st;
	bool ok = false;
	if (lstat(p.p, &st) != 0) {
		*why = errno == ENOENT ? "gone (vacuumed?)" : strerror(errno);
	} else if (st.st_size != f->size) {
		*why = "of another size than its add";
	} else {
		/* the checksum decoded, as the readers read it */
		char *want = txlog_file_seal(f);
		char sum[33];
		int64_t size;
		ok = true;
		if (want && (!file_xxh3(p.p, sum, &size) || size != f->size ||
			     strcmp(sum, want) != 0)) {
			*why = "damaged (its checksum differs from its add)";
			ok = false;
		}
		free(want);
	}
	buf_free(&p);
	return ok;
}

/* The plan line --dry-run prints for one file. */
static void plan_line(struct buf *b, const char *what, const struct dl_file *f)
{
	b->len = 0;
	buf_adds(b, "{\"action\":");
	jw_str(b, what);
	buf_adds(b, ",\"path\":");
	jw_str(b, f->path);
	buf_addf(b, ",\"size\":%lld}", (long long)f->size);
	cli_out_line(b->p, b->len);
}

int verb_restore(void)
{
	if (opt.version < 0 && !opt.as_of)
		cli_usage_error("restore needs --version N or --as-of TIME");
	struct dl_snapshot *cur = load_table(-1);
	need_write(cur);
	int64_t target = opt.as_of ? txlog_version_as_of(opt.as_of)
				   : opt.version;
	if (target > cur->version)
		cli_die(EXIT_TROUBLE, "%s: version %lld does not exist (the "
			"newest is %lld); nothing restored", opt.table,
			(long long)target, (long long)cur->version);
	struct dl_snapshot *old = load_table(target);
	char err[1024];
	if (dl_can_read(old, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t nc, no;
	struct dl_file **lc = dl_live_files(cur, &nc);
	struct dl_file **lo = dl_live_files(old, &no);

	/* Both lists are sorted by path: one merge pass finds the files to
	 * remove (live now, not in N) and to add back (in N, not live). */
	struct dl_file **gone = xcalloc(nc + 1, sizeof *gone);
	struct dl_file **back = xcalloc(no + 1, sizeof *back);
	size_t ngone = 0, nback = 0;
	int64_t after_bytes = 0;
	for (size_t i = 0, j = 0; i < nc || j < no;) {
		int c = i == nc ? 1 : j == no ? -1
					      : strcmp(lc[i]->path, lo[j]->path);
		if (c < 0) {
			gone[ngone++] = lc[i++];
		} else if (c > 0) {
			back[nback++] = lo[j++];
		} else {
			i++;
			j++;
		}
	}
	for (size_t j = 0; j < no; j++)
		after_bytes += lo[j]->size;
	/* added back in the order version N had them, so cat reads their
	 * rows as it did then, and removed in commit order (changes reads
	 * them so), not by their random names */
	qsort(back, nback, sizeof *back, dl_file_cmp_committed);
	qsort(gone, ngone, sizeof *gone, dl_file_cmp_committed);

	/* every file to add back must be there, as it was: else refuse,
	 * naming them, before anything is committed */
	struct buf missing = {0};
	size_t nmissing = 0;
	for (size_t k = 0; k < nback; k++) {
		const char *why;
		if (file_intact(opt.table, back[k], &why))
			continue;
		if (nmissing < 5)
			buf_addf(&missing, "%s%s (%s)", nmissing ? ", " : "",
				 back[k]->path, why);
		nmissing++;
	}
	if (nmissing)
		cli_die(EXIT_TROUBLE, "%s: version %lld needs %zu file%s that "
			"cannot be read back: %s%s; nothing restored",
			opt.table, (long long)target, nmissing,
			nmissing == 1 ? "" : "s", missing.p,
			nmissing > 5 ? ", ..." : "");

	bool meta = strcmp(cur->metadata, old->metadata) != 0;
	/* The --txn versions come back as version N had them: its rows
	 * gone, a batch recorded after N must be written again when it is
	 * replayed, not skipped as committed (an app N had not seen goes
	 * back to -1, as if never recorded). */
	struct dl_txn *txn = xcalloc(cur->ntxns + 1, sizeof *txn);
	size_t ntxn = 0;
	for (size_t i = 0; i < cur->ntxns; i++) {
		int64_t was = dl_txn_version_n(old, cur->txns[i].app_id,
					       cur->txns[i].app_len);
		if (was != cur->txns[i].version)
			txn[ntxn++] = (struct dl_txn){cur->txns[i].app_id, was,
						      0, cur->txns[i].app_len};
	}
	int64_t removed_bytes = 0, restored_bytes = 0;
	for (size_t k = 0; k < ngone; k++)
		removed_bytes += gone[k]->size;
	for (size_t k = 0; k < nback; k++)
		restored_bytes += back[k]->size;

	if (opt.dry_run) {
		struct buf b = {0};
		for (size_t k = 0; k < ngone; k++)
			plan_line(&b, "remove", gone[k]);
		for (size_t k = 0; k < nback; k++)
			plan_line(&b, "add", back[k]);
		for (size_t k = 0; k < ntxn; k++) {
			b.len = 0;
			buf_adds(&b, "{\"action\":\"txn\",\"appId\":");
			jw_string(&b, txn[k].app_id, txn[k].app_len);
			buf_addf(&b, ",\"version\":%lld}",
				 (long long)txn[k].version);
			cli_out_line(b.p, b.len);
		}
		buf_free(&b);
		char txns[64] = "";
		if (ntxn)
			snprintf(txns, sizeof txns, ", and set %zu --txn "
				 "app%s back", ntxn, ntxn == 1 ? "" : "s");
		cli_warn("%s: restore to version %lld would remove %zu "
			 "file%s (%lld bytes) and add back %zu (%lld bytes)%s%s; "
			 "dry run, nothing committed", opt.table,
			 (long long)target, ngone, ngone == 1 ? "" : "s",
			 (long long)removed_bytes, nback,
			 (long long)restored_bytes,
			 meta ? ", and bring back its schema" : "", txns);
	}
	bool commit = !opt.dry_run && (ngone || nback || meta || ntxn);
	if (!opt.dry_run && !commit)
		cli_warn("%s: version %lld has the files of the newest (%lld); "
			 "nothing to restore, no commit", opt.table,
			 (long long)target, (long long)cur->version);
	struct tx t;
	memset(&t, 0, sizeof t);
	t.snap = cur;
	t.op = "RESTORE";
	t.reads_all = true;
	for (size_t i = 0; commit && i < nc; i++)
		tx_read(&t, lc[i]->path);
	if (commit && meta) {
		buf_adds(&t.actions, "{\"metaData\":");
		buf_adds(&t.actions, old->metadata);
		buf_adds(&t.actions, "}\n");
	}
	for (size_t k = 0; commit && k < ngone; k++)
		txlog_remove_action(&t.actions, gone[k]);
	for (size_t k = 0; commit && k < nback; k++)
		readd_action(&t.actions, back[k]);
	int64_t now_ms = time_now() / 1000000;
	for (size_t k = 0; commit && k < ntxn; k++) {
		buf_adds(&t.actions, "{\"txn\":{\"appId\":");
		jw_string(&t.actions, txn[k].app_id, txn[k].app_len);
		buf_addf(&t.actions, ",\"version\":%lld,\"lastUpdated\":%lld}}\n",
			 (long long)txn[k].version, (long long)now_ms);
	}
	free(txn);
	/* Delta's RestoreTableCommand: both parameters, the one not given
	 * null */
	if (opt.as_of) {
		buf_adds(&t.params, ",\"version\":null,\"timestamp\":");
		jw_str(&t.params, opt.as_of);
	} else {
		buf_addf(&t.params, ",\"version\":\"%lld\",\"timestamp\":null",
			 (long long)target);
	}
	buf_addf(&t.metrics, ",\"numRestoredFiles\":\"%zu\","
		 "\"restoredFilesSize\":\"%lld\",\"numRemovedFiles\":\"%zu\","
		 "\"removedFilesSize\":\"%lld\",\"numOfFilesAfterRestore\":"
		 "\"%zu\",\"tableSizeAfterRestore\":\"%lld\"", nback,
		 (long long)restored_bytes, ngone, (long long)removed_bytes, no,
		 (long long)after_bytes);
	/* the files added back, named after old is freed */
	char **backs = xcalloc(nback + 1, sizeof *backs);
	for (size_t k = 0; k < nback; k++)
		backs[k] = xstrdup(back[k]->path);
	free(gone);
	free(back);
	free(lc);
	free(lo);
	buf_free(&missing);
	dl_snapshot_free(old);
	if (!commit) {
		for (size_t k = 0; k < nback; k++)
			free(backs[k]);
		free(backs);
		tx_stats_none();
		tx_free(&t); /* frees cur */
		return EXIT_OK;
	}
	int64_t v = -1;
	t.committed = &v;
	int rc = tx_commit(&t);
	/* A file added back was a removed one, which a vacuum that loaded
	 * the log before this commit may delete after the check above: the
	 * version committed would then name a file that is gone, and exit 0
	 * would say version N is back.  Looked at again now, and said. */
	size_t lost = 0;
	struct buf p = {0};
	for (size_t k = 0; rc == EXIT_OK && v >= 0 && k < nback; k++) {
		p.len = 0;
		buf_addf(&p, "%s/%s", opt.table, backs[k]);
		struct stat st;
		if (lstat(p.p, &st) != 0 && errno == ENOENT) {
			cli_warn("%s: %s, added back by version %lld, was "
				 "deleted meanwhile (a vacuum that ran during "
				 "the restore)", opt.table, backs[k],
				 (long long)v);
			lost++;
		}
	}
	buf_free(&p);
	for (size_t k = 0; k < nback; k++)
		free(backs[k]);
	free(backs);
	if (lost)
		cli_die(EXIT_TROUBLE, "%s: version %lld is not version %lld: "
			"%zu file%s it added back %s gone; reads of it refuse "
			"(txlog verify names them)", opt.table, (long long)v,
			(long long)target, lost, lost == 1 ? "" : "s",
			lost == 1 ? "is" : "are");
	return rc;
}
