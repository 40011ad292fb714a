/*
 * delta/checkpoint: writing V2 JSON checkpoints (reading them is part of
 * loading, delta/log).
 *
 * Library rules: errors come back as -1 with "TABLE: reason" in err;
 * nothing prints or exits.
 */
#ifndef IDEM_DELTA_CHECKPOINT_H
#define IDEM_DELTA_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delta/snapshot.h"

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

#endif
