/*
 * delta/snapshot: a Delta table's state at one version, built by replay.
 *
 * Replay (the protocol's action reconciliation): the newest protocol and
 * metaData win; the newest txn version per appId wins; add and remove are
 * reconciled by path (an add revives a path, a remove kills it and leaves
 * a tombstone that vacuum honours).  delta/log finds the text to replay
 * (a checkpoint and the commits after it); this module applies it.
 *
 * Cost: each action line is validated once (scan_record notes its
 * top-level members on the way) and each add or remove is walked once;
 * the snapshot keeps the text it read and points into it, so a
 * checkpoint of N files costs N small allocations, not N copies, and the
 * stats string is only decoded when a predicate asks (dl_file_stats).
 *
 * Library rules: errors come back as -1 with "TABLE: reason" in err;
 * nothing prints or exits.
 */
#ifndef IDEM_DELTA_SNAPSHOT_H
#define IDEM_DELTA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "delta/schema.h"
#include "pool.h"

struct dl_pv { /* one partition value: value NULL is a null partition */
	char *name, *value;
};

struct dl_file {
	char *path;   /* the log's path, percent-decoded (relative) */
	const char *action; /* the whole add (or remove) object: JSON text
			       of action_len bytes, not NUL-terminated, in
			       the snapshot's copy of the log */
	size_t action_len;
	struct dl_pv *pv;
	size_t npv;
	int64_t size, mtime; /* remove: mtime is deletionTimestamp */
	const char *stats_lit; /* the stats string literal in action */
	size_t stats_lit_len;
	char *stats_cache; /* decoded by dl_file_stats() on first use */
	int64_t version; /* version that added (or removed) it */
	uint64_t rank;   /* the order it was applied in: within a version,
			    its line's; a checkpoint keeps commit order */
	bool live;
};

/* The add's stats JSON, decoded on first use (most reads never need it),
 * or NULL when the add has none.  Owned by the file. */
const char *dl_file_stats(const struct dl_file *f);

/* The add's tags[name], decoded and malloc'd, or NULL. */
char *dl_file_tag(const struct dl_file *f, const char *name);

/* The uncompressed size txlog wrote in tags["idem.rawSize"], or the
 * file's size when the tag is absent or not a plain whole number (another
 * writer's add, or a hand-edited log). */
uint64_t dl_file_raw_size(const struct dl_file *f);

struct dl_txn {
	char *app_id;   /* decoded; app_len bytes (a NUL may be one) */
	int64_t version, last_updated;
	size_t app_len;
};

struct dl_domain { /* a live domainMetadata action */
	char *domain; /* decoded; len bytes (a NUL may be one) */
	char *action; /* the action object, JSON text */
	size_t len;
};

struct dl_snapshot {
	char *table;
	int64_t version;   /* -1: the table does not exist */
	int64_t timestamp; /* commitInfo.timestamp (ms) of that version */
	char *protocol;    /* the protocol object, JSON text */
	char *metadata;    /* the metaData object, JSON text */
	struct ds_type *schema;
	char **part_cols;
	size_t npart;
	char *provider;           /* format.provider */
	int64_t checkpoint_every; /* delta.checkpointInterval, default 10 */
	struct dl_file *files;    /* live adds and tombstones, see live */
	size_t nfiles, cap_files;
	uint64_t nranked; /* adds and removes applied so far */
	size_t *slots; /* open-addressing index by path: file index + 1 */
	size_t nslots;
	struct dl_txn *txns;
	size_t ntxns, cap_txns;
	int64_t checkpoint_version; /* the checkpoint it started from, or -1 */
	int64_t cp_meta_version;    /* checkpointMetadata.version read, or -1 */
	struct dl_domain *domains;  /* live domainMetadata, one per domain */
	size_t ndomains;
	size_t commits_read;
	char **texts; /* the log text read: actions point into it */
	size_t ntexts, cap_texts;
	char *arena; /* free room in the last block of small commits */
	size_t arena_left;
	void *map; /* a big checkpoint's text, mapped read-only */
	size_t map_len;
	struct pool pool; /* a big table's files, index and paths */
};

void dl_snapshot_free(struct dl_snapshot *s);

/* Apply one commit's (or checkpoint's) NDJSON text at version v. */
int dl_apply(struct dl_snapshot *s, const char *text, size_t n, int64_t v,
	     char *err, size_t errlen);

/* Live files sorted by path (an array the caller frees, of pointers
 * into s). */
struct dl_file **dl_live_files(const struct dl_snapshot *s, size_t *n);
/* The live files in the order they were committed: by the version that
 * added them, then as that commit (or the checkpoint that holds them)
 * lists them.  The order txlog reads and rewrites rows in. */
struct dl_file **dl_live_files_committed(const struct dl_snapshot *s,
					 size_t *n);
/* qsort's comparison of two struct dl_file pointers in that order. */
int dl_file_cmp_committed(const void *a, const void *b);
struct dl_file *dl_find(const struct dl_snapshot *s, const char *path);
int64_t dl_txn_version(const struct dl_snapshot *s, const char *app_id);
/* The same for an appId of len bytes, which may hold a NUL. */
int64_t dl_txn_version_n(const struct dl_snapshot *s, const char *app_id,
			 size_t len);


/* For the loader (delta/log): an empty snapshot of table, and back to
 * one; size the file table for nadd files once; apply text the snapshot
 * now owns (read-only: it may be mapped), or the text read into b
 * (packed into shared blocks; b kept or taken). */
struct dl_snapshot *dl_snapshot_new(const char *table);
void dl_snapshot_reset(struct dl_snapshot *s);
void dl_snapshot_presize(struct dl_snapshot *s, int64_t nadd);
int dl_apply_owned(struct dl_snapshot *s, const char *text, size_t n,
		   int64_t v, char *err, size_t errlen);
int dl_apply_buf(struct dl_snapshot *s, struct buf *b, int64_t v, char *err,
		 size_t errlen);

/* A numeric table setting as Delta writes one: decimal digits only, to
 * INT64_MAX; false for anything else ("10x", " 7", "-5", "1e3"). */
bool dl_setting_long(const char *v, int64_t *out);

#endif
