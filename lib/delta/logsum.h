/*
 * delta/logsum: the checksum txlog keeps inside each log file it writes.
 *
 * What idem stored it checks when it reads it back: a commit's first
 * action, its commitInfo, ends with "idem.xxh3_128", and a checkpoint's
 * first, its checkpointMetadata, carries it in its tags; a file cut
 * short after that first line fails the sum.  The sum is
 * XXH3-128 over the whole file with the 32 hex digits of the sum itself
 * read as zeros, so a changed byte anywhere, the sum's own included, is
 * found.  A file without it (another writer's, or an older txlog's) is
 * read as it is; verify says so.
 *
 * Library rules: nothing prints or exits.
 */
#ifndef IDEM_DELTA_LOGSUM_H
#define IDEM_DELTA_LOGSUM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The member that holds the sum, up to its value's opening quote. */
#define DL_SUM_MEMBER "\"idem.xxh3_128\":\""
/* Its value: 32 hex digits, as the adds' tag. */
#define DL_SUM_HEX 32

enum dl_sum_where { DL_SUM_COMMIT, DL_SUM_CHECKPOINT };

/* Append the member with placeholder digits; returns their offset, for
 * dl_sum_seal once the text is whole. */
size_t dl_sum_member(struct buf *b);
/* b's text holds DL_SUM_HEX placeholder bytes at offset at: fill them
 * with the text's sum. */
void dl_sum_seal(struct buf *b, size_t at);
/* Is the sum in text[0..n) right?  True as well for a file without one. */
bool dl_sum_ok(const char *text, size_t n, enum dl_sum_where w);

#endif
