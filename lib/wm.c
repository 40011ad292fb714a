#include "wm.h"

#include <stdlib.h>
#include <assert.h>
#include <time.h>

#include "scan.h"
#include "xalloc.h"

#define NONE SIZE_MAX

struct part {
	struct fp128 fp;
	int64_t max;
	int64_t seen;  /* processing clock at its last record (ns) */
	size_t hpos;   /* its place in the heap, NONE while idle */
	bool behind;   /* first seen behind W, not caught up yet */
};

struct wm {
	int64_t delay, idle;
	enum wm_clock clock;
	size_t expect;   /* W waits for this many partitions (0: none) */
	struct part *parts; /* dense, in order of first sight */
	size_t n, cap_parts;
	size_t *tab;     /* open addressing: index + 1, 0 empty */
	size_t cap;      /* power of two */
	size_t *heap;    /* parts not idle, a min-heap by max */
	size_t nheap;
	int64_t gmax;    /* G: newest event time of all partitions */
	int64_t now;     /* processing clock of the current record */
	int64_t w;
	bool have_w, have_g;
};

int64_t wm_sub(int64_t a, int64_t b)
{
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	return a - b;
}

int64_t wm_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

struct wm *wm_new(int64_t delay, int64_t idle)
{
	struct wm *w = xcalloc(1, sizeof *w);
	w->delay = delay;
	w->idle = idle;
	w->cap = 16;
	w->tab = xcalloc(w->cap, sizeof *w->tab);
	return w;
}

void wm_set_idle_clock(struct wm *w, enum wm_clock c)
{
	w->clock = c;
}

void wm_expect(struct wm *w, size_t partitions)
{
	w->expect = partitions;
}

void wm_free(struct wm *w)
{
	if (!w)
		return;
	free(w->parts);
	free(w->tab);
	free(w->heap);
	free(w);
}

static size_t *slot(size_t *tab, size_t cap, const struct part *parts,
		    struct fp128 fp)
{
	size_t i = (size_t)(fp.lo ^ fp.hi) & (cap - 1);
	while (tab[i] && (parts[tab[i] - 1].fp.lo != fp.lo ||
			  parts[tab[i] - 1].fp.hi != fp.hi))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static struct part *find(const struct wm *w, struct fp128 fp)
{
	size_t *s = slot(w->tab, w->cap, w->parts, fp);
	return *s ? &w->parts[*s - 1] : NULL;
}

/* ---- the heap of partitions not idle, smallest newest time on top ---- */

static bool less(const struct wm *w, size_t a, size_t b)
{
	return w->parts[a].max < w->parts[b].max;
}

static void heap_place(struct wm *w, size_t at, size_t part)
{
	assert(at < w->nheap && part < w->n);
	w->heap[at] = part;
	w->parts[part].hpos = at;
}

static void sift_up(struct wm *w, size_t at)
{
	size_t x = w->heap[at];
	while (at > 0 && less(w, x, w->heap[(at - 1) / 2])) {
		heap_place(w, at, w->heap[(at - 1) / 2]);
		at = (at - 1) / 2;
	}
	heap_place(w, at, x);
}

static void sift_down(struct wm *w, size_t at)
{
	size_t x = w->heap[at];
	for (;;) {
		size_t c = 2 * at + 1;
		if (c >= w->nheap)
			break;
		if (c + 1 < w->nheap && less(w, w->heap[c + 1], w->heap[c]))
			c++;
		if (!less(w, w->heap[c], x))
			break;
		heap_place(w, at, w->heap[c]);
		at = c;
	}
	heap_place(w, at, x);
}

static void heap_push(struct wm *w, size_t part)
{
	/* every partition fits: the heap is as large as parts, and a
	 * partition is in it at most once */
	assert(w->nheap < w->cap_parts && w->parts[part].hpos == NONE);
	heap_place(w, w->nheap++, part);
	sift_up(w, w->nheap - 1);
}

static void heap_pop(struct wm *w)
{
	assert(w->nheap > 0);
	w->parts[w->heap[0]].hpos = NONE;
	if (--w->nheap > 0) {
		heap_place(w, 0, w->heap[w->nheap]);
		sift_down(w, 0);
	}
}

static struct part *find_or_add(struct wm *w, struct fp128 fp, bool *fresh)
{
	if ((w->n + 1) * 4 > w->cap * 3) {
		size_t ncap = w->cap * 2;
		size_t *nt = xcalloc(ncap, sizeof *nt);
		for (size_t i = 0; i < w->n; i++)
			*slot(nt, ncap, w->parts, w->parts[i].fp) = i + 1;
		free(w->tab);
		w->tab = nt;
		w->cap = ncap;
	}
	size_t *s = slot(w->tab, w->cap, w->parts, fp);
	*fresh = !*s;
	if (*s)
		return &w->parts[*s - 1];
	if (w->n == w->cap_parts) {
		/* the heap holds at most every partition */
		w->parts = xgrow(w->parts, &w->cap_parts, w->n,
				 sizeof *w->parts, 16);
		w->heap = xreallocarray(w->heap, w->cap_parts, sizeof *w->heap);
	}
	struct part *p = &w->parts[w->n];
	*p = (struct part){.fp = fp, .hpos = NONE};
	*s = ++w->n;
	return p;
}

/* Idle: more than idle behind the newest event time of all partitions
 * (event clock), or without a record for idle of processing time.  Both
 * only grow more idle until the partition's next record, so an idle
 * partition leaves the heap and comes back with that record. */
static bool is_idle(const struct wm *w, const struct part *p)
{
	if (!w->idle)
		return false;
	if (w->clock == WM_CLOCK_PROCESSING)
		return wm_sub(w->now, p->seen) > w->idle;
	return p->max < wm_sub(w->gmax, w->idle);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool advance(struct wm *w, int64_t c)
{
	if (w->have_w && c <= w->w)
		return false;
	w->w = c;
	w->have_w = true;
	return true;
}

/* Put p where it belongs after its max or seen changed. */
static void settle(struct wm *w, struct part *p)
{
	size_t i = (size_t)(p - w->parts);
	if (p->hpos == NONE)
		heap_push(w, i);
	else
		sift_down(w, p->hpos); /* its max only grew */
}

bool wm_observe(struct wm *w, struct fp128 part, int64_t t)
{
	bool fresh;
	if (w->clock == WM_CLOCK_PROCESSING && w->idle)
		w->now = mono_ns();
	struct part *p = find_or_add(w, part, &fresh);
	bool moved = fresh || t > p->max;
	p->seen = w->now;
	if (fresh) {
		p->max = t;
		p->behind = w->have_w && wm_sub(t, w->delay) < w->w;
	} else if (t > p->max) {
		p->max = t;
	}
	if (!w->have_g || t > w->gmax) {
		w->gmax = t;
		w->have_g = true;
	}
	if (moved || p->hpos == NONE)
		settle(w, p);
	if (p->behind && w->have_w && wm_sub(p->max, w->delay) >= w->w)
		p->behind = false;
	if (!moved && w->clock != WM_CLOCK_PROCESSING)
		return false; /* nothing the minimum depends on changed */
	if (w->n < w->expect)
		return false; /* W waits for every declared partition */
	if (w->n == 1)
		return advance(w, wm_sub(p->max, w->delay));
	while (w->nheap > 0 && is_idle(w, &w->parts[w->heap[0]]))
		heap_pop(w);
	if (w->nheap == 0)
		return false;
	return advance(w, wm_sub(w->parts[w->heap[0]].max, w->delay));
}

int wm_limit(const struct wm *w, struct fp128 part, int64_t *out)
{
	if (!w->have_w)
		return WM_JUDGE_NONE;
	const struct part *p = find(w, part);
	if (!p)
		return WM_JUDGE_NEW;
	if (p->behind) {
		*out = wm_sub(p->max, w->delay);
		return WM_JUDGE_OWN;
	}
	*out = w->w;
	return WM_JUDGE_W;
}

bool wm_behind(const struct wm *w, struct fp128 part)
{
	const struct part *p = find(w, part);
	return p && p->behind;
}

bool wm_raise(struct wm *w, int64_t v)
{
	return advance(w, v);
}

void wm_set(struct wm *w, int64_t v)
{
	w->w = v;
	w->have_w = true;
}

bool wm_get(const struct wm *w, int64_t *out)
{
	if (w->have_w)
		*out = w->w;
	return w->have_w;
}

size_t wm_partitions(const struct wm *w)
{
	return w->n;
}

void wm_each(const struct wm *w,
	     void (*fn)(void *ctx, struct fp128 part, int64_t max), void *ctx)
{
	for (size_t i = 0; i < w->n; i++)
		fn(ctx, w->parts[i].fp, w->parts[i].max);
}

void wm_restore(struct wm *w, struct fp128 part, int64_t max)
{
	bool fresh;
	struct part *p = find_or_add(w, part, &fresh);
	p->max = max;
	if (p->hpos == NONE)
		heap_push(w, (size_t)(p - w->parts));
	else {
		/* a restore may lower it: place it from scratch */
		sift_up(w, p->hpos);
		sift_down(w, p->hpos);
	}
	if (!w->have_g || max > w->gmax) {
		w->gmax = max;
		w->have_g = true;
	}
}

/* Every member is name: one member as jq reads the object (the last
 * duplicate wins), however often the writer repeated the name. */
static bool only_member(const struct scan_record *rec, const char *name,
			size_t len)
{
	if (rec->nmembers == 0)
		return false;
	for (size_t i = 0; i < rec->nmembers; i++)
		/* a name's literal is at least its text and the quotes (an
		 * escape only lengthens it): most records end here, at
		 * their first member, without decoding a byte */
		if (rec->members[i].key_len < len + 2 ||
		    !scan_string_equals(rec->p + rec->members[i].key,
					rec->members[i].key_len, name, len))
			return false;
	return true;
}

bool wm_control_line(const struct scan_record *rec)
{
	return only_member(rec, "_watermark", 10);
}

bool wm_shard_line(const struct scan_record *rec)
{
	return only_member(rec, "_shard", 6);
}
