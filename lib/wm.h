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
 * Idleness is measured by the event clock (above) or, with
 * WM_CLOCK_PROCESSING, by the processing clock: p is idle when its last
 * record came more than idle ago, so a live partition that lags in event
 * time still holds W.
 *
 * A partition first seen behind W (its newest time less the delay is
 * below W) cannot pull W back; until it catches up, its own records are
 * judged by its own watermark (wm_limit), so its in-order records are
 * never late because other partitions ran ahead.  wm_expect(N) makes W
 * wait until N partitions have been seen, as a source that knows its
 * partitions up front does.
 *
 * Partitions are held by 128-bit fingerprint in an open-addressing table
 * over a dense array; those not idle sit in a min-heap by newest time, so
 * a record costs O(log partitions).  An idle partition leaves the heap
 * when found on top and returns with its next record (both clocks only
 * make it more idle until then).
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

enum wm_clock { WM_CLOCK_EVENT, WM_CLOCK_PROCESSING };
/* Which clock idle is measured on (default: event). */
void wm_set_idle_clock(struct wm *w, enum wm_clock c);
/* W stays unset until this many partitions have been seen. */
void wm_expect(struct wm *w, size_t partitions);

/* How a record of partition part is judged, and by what (*out). */
enum {
	WM_JUDGE_NONE, /* no W yet: nothing is late */
	WM_JUDGE_NEW,  /* a partition not seen yet: its first record is
			* on time */
	WM_JUDGE_W,    /* by W */
	WM_JUDGE_OWN,  /* first seen behind W: by its own watermark */
};
int wm_limit(const struct wm *w, struct fp128 part, int64_t *out);
/* Was part first seen behind W, and has it not caught up yet? */
bool wm_behind(const struct wm *w, struct fp128 part);
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

/* A {"_watermark": ...} line: the one watermark --emit writes, which
 * window honours and partition passes on; rec is its scan. */
struct scan_record;
bool wm_control_line(const struct scan_record *rec);
/* The {"_shard":...} line that ends a window --shard run's output (for
 * window merge, which checks that no shard is missing). */
bool wm_shard_line(const struct scan_record *rec);
/* Its value is that of the last member, as in jq. */
#define WM_CONTROL_MEMBER(rec) (&(rec)->members[(rec)->nmembers - 1])

/* a - b without wrapping past INT64_MIN / INT64_MAX. */
int64_t wm_sub(int64_t a, int64_t b);
int64_t wm_add(int64_t a, int64_t b);

/* Visit partitions (for saving); wm_restore() puts one back. */
void wm_each(const struct wm *w,
	     void (*fn)(void *ctx, struct fp128 part, int64_t max), void *ctx);
void wm_restore(struct wm *w, struct fp128 part, int64_t max);

#endif
