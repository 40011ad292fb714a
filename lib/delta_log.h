/*
 * delta_log: the Delta Lake transaction log of a table on a folder.
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
 * Replay (the protocol's action reconciliation): the newest protocol and
 * metaData win; the newest txn version per appId wins; add and remove are
 * reconciled by path (an add revives a path, a remove kills it and leaves
 * a tombstone that vacuum honours).  A snapshot at version V is the
 * newest readable checkpoint at or below V (a V2 JSON checkpoint, see
 * dl_checkpoint) plus the commits after it up to V.  Without one, replay
 * starts at version 0; if version 0 is gone and only a Parquet checkpoint
 * could replace it, the load is refused: no Parquet is read here.
 *
 * Cost: each action line is validated once (scan_record notes its
 * top-level members on the way) and each add or remove is walked once;
 * the snapshot keeps the text it read and points into it, so a
 * checkpoint of N files costs N small allocations, not N copies, and the
 * stats string is only decoded when a predicate asks (dl_file_stats).
 *
 * Paths: the log holds relative URIs (percent-encoded).  A path that is
 * absolute, has a scheme, has an empty, "." or ".." segment, or leads
 * through a symlink out of the table, is refused at load: no verb ever
 * touches a file outside the table.
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
#include "delta_schema.h"
#include "pool.h"

/* ---- the snapshot ---- */

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
	bool live;
};

/* The add's stats JSON, decoded on first use (most reads never need it),
 * or NULL when the add has none.  Owned by the file. */
const char *dl_file_stats(const struct dl_file *f);

struct dl_txn {
	char *app_id;
	int64_t version, last_updated;
};

struct dl_domain { /* a live domainMetadata action */
	char *domain;
	char *action; /* the action object, JSON text */
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

/*
 * Load the snapshot of table at version (-1: the newest).  A table with
 * no _delta_log loads as version -1 (not an error) unless version >= 0.
 */
struct dl_snapshot *dl_load(const char *table, int64_t version, char *err,
			    size_t errlen);
void dl_snapshot_free(struct dl_snapshot *s);
/* For verify: the snapshot of one checkpoint alone (cp_name, the file
 * in _delta_log holding version), or with cp_name NULL of the JSON
 * commits 0 to version alone.  No other checks. */
struct dl_snapshot *dl_load_from(const char *table, const char *cp_name,
				 int64_t version, char *err, size_t errlen);

/* Apply one commit's (or checkpoint's) NDJSON text at version v. */
int dl_apply(struct dl_snapshot *s, const char *text, size_t n, int64_t v,
	     char *err, size_t errlen);

/* Live files sorted by path (an array the caller frees, of pointers
 * into s). */
struct dl_file **dl_live_files(const struct dl_snapshot *s, size_t *n);
struct dl_file *dl_find(const struct dl_snapshot *s, const char *path);
int64_t dl_txn_version(const struct dl_snapshot *s, const char *app_id);

/*
 * The protocol and its features: 0 when txlog may write to the table
 * (minWriterVersion <= 7 with only features it knows, format "json"),
 * -1 with the reason.  dl_can_read: the same for reading data files.
 */
int dl_can_write(const struct dl_snapshot *s, char *err, size_t errlen);
int dl_can_read(const struct dl_snapshot *s, char *err, size_t errlen);
/* -1 with the reason when a commit of these actions may not go to s:
 * a remove that changes data on an append-only table. */
int dl_check_commit(const struct dl_snapshot *s, const char *actions,
		    size_t n, char *err, size_t errlen);
/* delta.appendOnly is active (supported and set true). */
bool dl_append_only(const struct dl_snapshot *s);
/* The protocol's minReaderVersion and minWriterVersion (-1: absent). */
void dl_versions(const struct dl_snapshot *s, int64_t *r, int64_t *w);
/* Whether the protocol's member ("readerFeatures", "writerFeatures")
 * lists feature. */
bool dl_has_feature(const struct dl_snapshot *s, const char *member,
		    const char *feature);
/* A configuration value of the metaData (a new string), or NULL. */
char *dl_config(const struct dl_snapshot *s, const char *key);
bool dl_config_true(const struct dl_snapshot *s, const char *key);
/* Whether the typeWidening feature allows the change from -> to (the
 * protocol's type names). */
bool dl_widening_allowed(const char *from, const char *to);

/* ---- files of the log ---- */

/* "TABLE/_delta_log/%020lld.json" into a new string. */
char *dl_commit_path(const char *table, int64_t version);
/* Read one commit's text; 1 when absent, 0 read, -1 error. */
int dl_read_commit(const char *table, int64_t version, struct buf *out,
		   char *err, size_t errlen);
/* Publish a commit by put-if-absent: 0 won, 1 the version exists. */
int dl_write_commit(const char *table, int64_t version, const char *text,
		    size_t n, char *err, size_t errlen);
/* Versions of the JSON commits in the log, ascending (caller frees). */
int64_t *dl_list_versions(const char *table, size_t *n, char *err,
			  size_t errlen);

/*
 * Write a V2 checkpoint of s (its version) in JSON,
 * NNNNNNNNNNNNNNNNNNNN.checkpoint.UUID.json, then _last_checkpoint, each
 * by atomic replace.  Tombstones younger than retain_ms are kept
 * (without tags and stats, as the checkpoint schema has them); live
 * domainMetadata actions are kept.  1 (err set) when the protocol
 * lacks the v2Checkpoint writer feature: nothing written.
 */
int dl_checkpoint(const struct dl_snapshot *s, int64_t retain_ms, char *err,
		  size_t errlen);

/* ---- paths and names ---- */

/* A random RFC 4122 version 4 UUID, 36 characters and NUL. */
void dl_uuid(char out[37]);
/* Percent-encode a relative file path for the log (keeps A-Za-z0-9 and
 * "-._~/="), and back. */
void dl_path_encode(struct buf *b, const char *s);
char *dl_path_decode(const char *s, size_t n);
/* Hive-style escape of a partition value for a folder name. */
void dl_part_escape(struct buf *b, const char *s);
/* 0 when the (decoded) relative path is safe to open under table. */
int dl_path_check(const char *table, const char *path, char *err,
		  size_t errlen);
/* 0 when the file itself is not a symlink (call before opening it). */
int dl_open_check(const char *table, const char *path, char *err,
		  size_t errlen);

/* The action lines the writer needs. */
/* The protocol of a new table with this schema (timestampNtz declared
 * when a column needs it). */
void dl_protocol_action(struct buf *b, bool type_widening,
			const struct ds_type *schema);
/* A protocol action like protocol's (JSON text) with feature added to
 * its reader and writer features: 1 when written to b, 0 when protocol
 * has it already, -1 when protocol predates table features. */
int dl_protocol_add_feature(struct buf *b, const char *protocol,
			    const char *feature);
void dl_metadata_action(struct buf *b, const char *id,
			const struct ds_type *schema, char *const *part,
			size_t npart, const char *config_members,
			int64_t created_ms);

#endif
