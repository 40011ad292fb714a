/*
 * delta/log: the Delta Lake transaction log of a table on a folder.
 *
 *   TABLE/_delta_log/00000000000000000000.json   version 0: one commit,
 *   TABLE/_delta_log/00000000000000000001.json   NDJSON, one action a line
 *   TABLE/_delta_log/00000000000000000010.checkpoint.UUID.json
 *   TABLE/_delta_log/_last_checkpoint            {"version":10,...}
 *
 * A version exists once its file exists: it is published by put-if-absent
 * (link(2) of a fully written, fsynced temp file), so of two writers that
 * race for version N exactly one wins and the other re-reads.
 *
 * Loading (replay itself is delta/snapshot): a snapshot at version V is the
 * newest readable checkpoint at or below V (a V2 JSON checkpoint, see
 * dl_checkpoint) plus the commits after it up to V.  Without one, replay
 * starts at version 0; if version 0 is gone and only a Parquet checkpoint
 * could replace it, the load is refused: no Parquet is read here.
 *
 * Library rules: errors come back as -1 (or NULL) with "TABLE: reason" in
 * err; nothing prints or exits.
 */
#ifndef IDEM_DELTA_LOG_H
#define IDEM_DELTA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "delta/snapshot.h"

/*
 * Load the snapshot of table at version (-1: the newest).  A table with
 * no _delta_log loads as version -1 (not an error) unless version >= 0.
 */
struct dl_snapshot *dl_load(const char *table, int64_t version, char *err,
			    size_t errlen);
/* For verify: the snapshot of one checkpoint alone (cp_name, the file
 * in _delta_log holding version), or with cp_name NULL of the JSON
 * commits 0 to version alone.  No other checks. */
struct dl_snapshot *dl_load_from(const char *table, const char *cp_name,
				 int64_t version, char *err, size_t errlen);

/* "TABLE/_delta_log/%020lld.json" into a new string. */
char *dl_commit_path(const char *table, int64_t version);
/* Read one commit's text; 1 when absent, 0 read, -1 error. */
int dl_read_commit(const char *table, int64_t version, struct buf *out,
		   char *err, size_t errlen);
/* Publish a commit by put-if-absent: 0 won, 1 the version exists. */
int dl_write_commit(const char *table, int64_t version, const char *text,
		    size_t n, char *err, size_t errlen);
/* The version a log entry's name starts with, when it is one Delta
 * defines: NNN.json, NNN.crc, NNN.checkpoint[.*].{json,parquet},
 * NNN.MMM.compacted.json (start version NNN); else -1 (a temporary
 * file, NNN.json.tmp.XXXXXX, is none). */
int64_t dl_entry_version(const char *nm);
/* Versions of the JSON commits in the log, ascending (caller frees). */
int64_t *dl_list_versions(const char *table, size_t *n, char *err,
			  size_t errlen);

/* The name of the newest JSON (V2) checkpoint at or below limit, its
 * version in *version; NULL when there is none (err empty) or the log
 * cannot be listed (err says why).  The caller frees. */
char *dl_newest_checkpoint(const char *table, int64_t limit,
			   int64_t *version, char *err, size_t errlen);

/*
 * Delta's metadata cleanup, the part that deletes (which checkpoint may
 * stand in for the log before it is the caller's policy): every log
 * entry of a version below cp -- commits, checkpoints of any kind,
 * version checksums, and log compaction files that start at or below
 * cp -- oldest first, so a crash leaves a log that still starts at or
 * before cp.  Other names (writers' temp files, _last_checkpoint) stay.
 * *deleted counts the files; -1 on the first that cannot be deleted.
 */
int dl_delete_below(const char *table, int64_t cp, size_t *deleted,
		    char *err, size_t errlen);

/* The whole file into out (NUL-terminated); 1 when absent, 0 read, -1
 * error.  sized: read once, sized by fstat (a checkpoint). */
int dl_read_file(const char *path, struct buf *out, bool sized, char *err,
		 size_t errlen);

#endif
