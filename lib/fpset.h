/*
 * fpset: a set of 128-bit fingerprints with an optional 64-bit payload
 * each (dedup keeps an event time there), built for tens of millions of
 * keys in little memory.
 *
 * 32 segments chosen by the top 5 bits of fp.hi; each segment is an open
 * addressing table (linear probing, power-of-two size, load <= 3/4) of
 * 16- or 24-byte slots.  A segment grows alone, so growing holds at most
 * 1/32 of the table twice: peak memory stays near the table itself,
 * about 16 / 0.56 = 29 bytes per key on average (27 measured at 10M
 * keys), 24 / 0.56 = 43 with a payload.  Segments are few so that each
 * is large: past 256 KiB one is mapped in one call and may get huge
 * pages, so a table of millions of keys costs few page faults and TLB
 * misses (loading a 3.75M-key state took half the CPU it did with 256
 * segments of 4 KiB pages).  The all-zero
 * fingerprint marks an empty slot; a real fingerprint of zero is stored
 * as {1, 0} (a 2^-128 event).
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
 * segment doubles and rehashes on the way. */
void fpset_reserve(struct fpset *s, size_t n);
bool fpset_has(const struct fpset *s, struct fp128 fp);
/* From now on a thread faults in the memory a segment will grow into
 * while it fills its last sixteenth, off the caller's thread (for
 * callers whose adding thread limits their speed: dedup -j). */
void fpset_fault_ahead(struct fpset *s);
/* Start loading fp's slot into the cache: call it a record ahead of
 * fpset_add() and the probe rarely waits for memory. */
void fpset_prefetch(const struct fpset *s, struct fp128 fp);
size_t fpset_count(const struct fpset *s);
bool fpset_has_payload(const struct fpset *s);

/* Drop every entry whose payload is < min (TTL expiry). */
size_t fpset_expire(struct fpset *s, uint64_t min);

/* Visit every entry, in no particular order. */
void fpset_each(const struct fpset *s,
		void (*fn)(void *ctx, struct fp128 fp, uint64_t payload),
		void *ctx);

#endif
