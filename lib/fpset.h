/*
 * fpset: a set of 128-bit fingerprints with an optional 64-bit payload
 * each (dedup keeps an event time there), built for tens of millions of
 * keys in little memory.
 *
 * 32 segments chosen by the top 5 bits of fp.hi; each segment is an open
 * addressing table (linear probing, load 8/15 to 4/5) of 16- or 24-byte
 * slots that grows by half, alone: growing holds at most one segment
 * twice.  The segments' sizes are staggered so that they grow at
 * different counts, and the set as a whole stays near its average load
 * at any count: about 16 / 0.65 = 25 bytes a key, 37 with a payload
 * (fpset.c has the figures).  Segments are few so that each is large:
 * past 64 KiB one takes a slice of a mapping shared by every segment's
 * table of the same generation, with huge pages asked for, so a table
 * of millions of keys costs few page faults and TLB misses (loading a
 * 3.75M-key state took half the CPU it did with 256 segments of 4 KiB
 * pages).  The all-zero fingerprint marks an empty slot; a real
 * fingerprint of zero is stored as {1, 0} (a 2^-128 event).
 */
#ifndef IDEM_FPSET_H
#define IDEM_FPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct fpset;

struct fpset *fpset_new(bool with_payload);
void fpset_free(struct fpset *s);

/*
 * Find fp; when absent, insert it (payload 0).  Returns true when it was
 * already present.  *payload (may be NULL) points at the slot's payload,
 * valid until the next insert.
 */
bool fpset_add(struct fpset *s, struct fp128 fp, uint64_t **payload);
/* Size the set for n keys at once (a state about to be loaded): no
 * segment grows and rehashes on the way. */
void fpset_reserve(struct fpset *s, size_t n);
bool fpset_has(const struct fpset *s, struct fp128 fp);
/* From now on a thread faults in the memory a segment will grow into
 * while it fills the last 1/512 of its room, one segment at a time,
 * off the caller's thread (for callers whose adding thread limits
 * their speed: dedup -j). */
void fpset_fault_ahead(struct fpset *s);
/* Start loading fp's slot into the cache: call it a record ahead of
 * fpset_add() and the probe rarely waits for memory. */
void fpset_prefetch(const struct fpset *s, struct fp128 fp);
size_t fpset_count(const struct fpset *s);
/* Bytes of slots the set holds now; *peak (may be NULL) gets the most
 * it held at once, a resize holding one segment twice.  Its memory less
 * allocator rounding and a slice faulted ahead: a bound tests check
 * exactly where RSS would be noise. */
size_t fpset_bytes(const struct fpset *s, size_t *peak);
bool fpset_has_payload(const struct fpset *s);

/* Drop every entry whose payload is < min (TTL expiry). */
size_t fpset_expire(struct fpset *s, uint64_t min);

/* Visit every entry, in no particular order. */
void fpset_each(const struct fpset *s,
		void (*fn)(void *ctx, struct fp128 fp, uint64_t payload),
		void *ctx);

#endif
