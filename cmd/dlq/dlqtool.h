/*
 * dlq: the verbs of the dead-letter tool, one file per group.
 *   check.c   check -e / --schema: pass good records, dead-letter the rest
 *   schema.c  the JSON Schema subset check uses
 *   admin.c   stats, replay, purge: reading and rewriting a DLQ file
 *   retry.c   retry: run a command per record with backoff
 */
#ifndef DLQ_TOOL_H
#define DLQ_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "scan.h"

struct cli_verb;
int dlq_check_main(const struct cli_verb *v, int argc, char **argv);
int dlq_stats_main(const struct cli_verb *v, int argc, char **argv);
int dlq_replay_main(const struct cli_verb *v, int argc, char **argv);
int dlq_purge_main(const struct cli_verb *v, int argc, char **argv);
int dlq_retry_main(const struct cli_verb *v, int argc, char **argv);

/* check.c: a {"_watermark":...} line (wm_control_line) is watermark
 * --emit's progress, which check and retry pass on in its place, not a
 * record: NULL when its value is a time as window reads one (a number
 * is epoch units in window's --time-unit, unknown here), else the
 * error type with "_watermark: why" in msg. */
const char *dlq_control_fault(const struct scan_record *rec, char *msg,
			      size_t len);

/* schema.c */
struct schema;
struct schema *schema_load(const char *path, char *err, size_t errlen);
/* Another thread's own schema, compiled again from s's text (a compiled
 * pattern is not shared between threads); NULL with err when memory
 * fails.  schema_free() frees a copy. */
struct schema *schema_copy(const struct schema *s, char *err, size_t errlen);
void schema_free(struct schema *s);
/* 0 when rec conforms; else -1 with *type (static) and msg filled. */
int schema_check(const struct schema *s, const struct scan_record *rec,
		 const char **type, struct buf *msg);

#endif
