/*
 * wm: event-time watermark tracking, shared by watermark(1) and window(1).
 *
 * The watermark W says "no record older than W is expected any more".
 * It is derived from event times only, never from the wall clock, so a
 * run over the same input gives the same W at every record:
 *
 *   per partition p:  max_p = newest event time seen in p
 *   G                 = max over all partitions of max_p
 *   p is idle         when max_p < G - idle   (only with idle > 0)
 *   candidate         = min over partitions not idle of max_p, - delay
 *   W                 = max(W, candidate)      -- W never goes back
 *
 * Without partitions (every record in one), W = max event time - delay.
 * An idle partition rejoins the minimum when it catches up, but since W
 * never goes back, rejoining can only hold W where it is.
 *
 * Partitions are held by 128-bit fingerprint in an open-addressing table;
 * recomputing the minimum costs O(partitions) and happens only when a
 * record raises its partition's maximum.
 */
#ifndef IDEM_WM_H
#define IDEM_WM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct wm;

/* delay >= 0; idle 0 means no partition is ever idle. */
struct wm *wm_new(int64_t delay, int64_t idle);
void wm_free(struct wm *w);

/* Fold event time t of partition part into W.  Returns true when W
 * advanced (or was set for the first time). */
bool wm_observe(struct wm *w, struct fp128 part, int64_t t);

/* Raise W to at least v (a watermark from upstream); true when it moved. */
bool wm_raise(struct wm *w, int64_t v);

/* Set W to v exactly, even backwards (state load, switch of source). */
void wm_set(struct wm *w, int64_t v);

/* false while no W exists yet (no record seen). */
bool wm_get(const struct wm *w, int64_t *out);

size_t wm_partitions(const struct wm *w);

/* a - b without wrapping past INT64_MIN / INT64_MAX. */
int64_t wm_sub(int64_t a, int64_t b);
int64_t wm_add(int64_t a, int64_t b);

/* Visit partitions (for saving); wm_restore() puts one back. */
void wm_each(const struct wm *w,
	     void (*fn)(void *ctx, struct fp128 part, int64_t max), void *ctx);
void wm_restore(struct wm *w, struct fp128 part, int64_t max);

#endif
