/*
 * delta/protocol: what txlog must understand of a table before it reads
 * or writes it (PROTOCOL.md's reader and writer versions and table
 * features, configuration, type widening), and the protocol and metaData
 * actions a writer commits.
 *
 * Library rules: errors come back as -1 with "TABLE: reason" in err;
 * nothing prints or exits.
 */
#ifndef IDEM_DELTA_PROTOCOL_H
#define IDEM_DELTA_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "delta/schema.h"
#include "delta/snapshot.h"

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
/*
 * A duration property as Delta writes it ("interval 30 days", "interval
 * 1 week 12 hours"; the word interval optional; units week, day, hour,
 * minute, second, millisecond, microsecond, singular or plural; months
 * and years are not durations), in *ms.  0 read, 1 absent (*ms left as
 * the caller's default), -1 unreadable or negative.
 */
int dl_config_interval(const struct dl_snapshot *s, const char *key,
		       int64_t *ms);
/* How long a checkpoint keeps remove tombstones, in ms: the table's
 * delta.deletedFileRetentionDuration, 1 week without one, and every
 * tombstone (INT64_MAX) when it cannot be read. */
int64_t dl_tombstone_retention_ms(const struct dl_snapshot *s);
/* Whether the typeWidening feature allows the change from -> to (the
 * protocol's type names). */
bool dl_widening_allowed(const char *from, const char *to);

/* The checks every load makes: what a reader must understand (features,
 * column mapping mode, a readable schema, allowed type changes, the
 * table settings txlog reads in the syntax Delta gives them). */
int dl_check_snapshot(const struct dl_snapshot *s, char *err,
		      size_t errlen);
/* Every live file has a partition value for each partition column and
 * for no other column (PROTOCOL.md, Add File); -1 with err set. */
int dl_check_partition_values(const struct dl_snapshot *s, char *err,
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
/* A metaData action; kept_members (NULL: none) are the name and
 * description of the metaData it replaces, as JSON members. */
void dl_metadata_action(struct buf *b, const char *id,
			const char *kept_members,
			const struct ds_type *schema, char *const *part,
			size_t npart, const char *config_members,
			int64_t created_ms);

#endif
