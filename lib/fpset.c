/*
 * fpset: see fpset.h.  A slot is 2 (or 3, with payload) uint64 words:
 * lo, hi [, payload].  The position in a segment comes from the top
 * bits of lo, the segment from the top bits of hi, so the two are
 * independent.  Top bits, not low ones: a slot's home then keeps its
 * order when the segment doubles (home i goes to 2i or 2i+1), so a
 * resize fills the new table front to back.  That alone did not make
 * resizes cheaper: their cost was first touches of fresh memory, which
 * the level blocks and fpset_fault_ahead() below address.
 */
#define _GNU_SOURCE /* MADV_HUGEPAGE, MADV_POPULATE_WRITE */
#include "fpset.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xalloc.h"

#define NSEG 32 /* chosen by the top 5 bits of fp.hi */
#define SEG_MIN 16

struct seg {
	uint64_t *slots;
	int level; /* the level block slots is a slice of, or -1 */
	size_t cap; /* slots, a power of two */
	unsigned shift; /* 64 - log2(cap): home = lo >> shift */
	size_t count;
	size_t ahead_at; /* count at which the next slice is faulted ahead */
};

/*
 * A level block: the slots of every segment at one capacity, segment k
 * at slice k, mapped at once (reserved, not touched) with huge pages
 * asked for.  Segments grow nearly in step, so slices of 64 KiB to
 * 2 MiB share huge pages: a table of a million keys took 8,000 page
 * faults of 4 KiB where it now takes 16 of 2 MiB (on a paravirtualized
 * guest a fault costs ~17 us: 0.14 s of a 0.6 s dedup).  A slice a
 * segment leaves is handed back (MADV_DONTNEED, so it costs no memory
 * and reads as zeros again); the block goes when its last slice does.
 */
#define LEVEL_MIN_SLICE (64u << 10)

struct level {
	char *base; /* NULL: not mapped */
	size_t slice; /* bytes */
	int users;
};

/*
 * With fpset_fault_ahead(), a thread faults a segment's next slice in
 * while the segment fills its last sixteenth before doubling: the
 * caller's thread then finds the memory ready.  Faulting in fresh
 * memory is the dearest part of growing (zeroing huge pages, and on a
 * paravirtualized guest the host's faults: 18% of dedup -j 2's CPU, all
 * of it on the in-order thread), and the in-order thread is the one
 * that limits -j.  The requests are ranges of level blocks that are
 * mapped before they are asked for and unmapped only once every slice
 * taken from them is given back; a request that finds its range
 * unmapped just fails (madvise is harmless on any range).
 */
#define AHEAD_QUEUE 64

struct ahead {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		char *p;
		size_t n;
	} q[AHEAD_QUEUE];
	unsigned head, tail; /* q[head % AHEAD_QUEUE] is the oldest */
	bool stop;
};

struct fpset {
	struct seg seg[NSEG];
	struct level level[64]; /* by log2(cap) */
	struct ahead *ahead;
	size_t words; /* per slot: 2 or 3 */
	size_t count;
};

struct fpset *fpset_new(bool with_payload)
{
	struct fpset *s = xcalloc(1, sizeof *s);
	s->words = with_payload ? 3 : 2;
	for (int k = 0; k < NSEG; k++)
		s->seg[k].level = -1;
	return s;
}

/*
 * A segment's slots, zeroed.  A large one is mapped and populated in
 * one call: touched a page at a time, a 100 MB table took a page fault
 * per 4 KiB (25k of them), a third of the cost of loading a state, more
 * where faults are dear (a paravirtualized guest).  Huge pages are
 * asked for where the kernel gives them on request.
 */
#define MAP_MIN (256u << 10)

static uint64_t *slots_alloc(size_t cap, size_t words)
{
	size_t bytes = cap * words * sizeof(uint64_t);
	if (bytes < MAP_MIN)
		return xcalloc(cap, words * sizeof(uint64_t));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return xcalloc(cap, words * sizeof(uint64_t));
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* a hint: refused is fine */
#endif
#ifdef MADV_POPULATE_WRITE
	madvise(p, bytes, MADV_POPULATE_WRITE); /* or faulted in later */
#endif
	return p;
}

static void slots_free(uint64_t *p, size_t cap, size_t words)
{
	size_t bytes = cap * words * sizeof(uint64_t);
	if (!p)
		return;
	if (bytes < MAP_MIN)
		free(p);
	else
		munmap(p, bytes);
}

/* The level block for cap, mapped (not touched) if it was not yet;
 * NULL when it cannot be mapped. */
static struct level *level_map(struct fpset *s, size_t cap)
{
	size_t bytes = cap * s->words * sizeof(uint64_t);
	struct level *v = &s->level[__builtin_ctzll(cap)];
	if (!v->base) {
		void *p = mmap(NULL, bytes * NSEG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (p == MAP_FAILED)
			return NULL;
#ifdef MADV_HUGEPAGE
		madvise(p, bytes * NSEG, MADV_HUGEPAGE); /* a hint */
#endif
		v->base = p;
		v->slice = bytes;
	}
	return v;
}

/* Segment k's slice of the level block for cap, zeroed; NULL when the
 * block cannot be mapped (the caller allocates alone). */
static uint64_t *level_take(struct fpset *s, int k, size_t cap)
{
	struct level *v = level_map(s, cap);
	if (!v)
		return NULL;
	size_t bytes = v->slice;
	char *q = v->base + (size_t)k * bytes;
#ifdef MADV_POPULATE_WRITE
	madvise(q, bytes, MADV_POPULATE_WRITE); /* or faulted in later */
#endif
	v->users++;
	return (uint64_t *)q;
}

static void level_give_back(struct fpset *s, int level, uint64_t *slots)
{
	struct level *v = &s->level[level];
	if (--v->users == 0) {
		munmap(v->base, v->slice * NSEG);
		v->base = NULL;
	} else {
		madvise(slots, v->slice, MADV_DONTNEED);
	}
}

static void *ahead_main(void *arg)
{
	struct ahead *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->stop && a->head == a->tail)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		char *p = a->q[a->head % AHEAD_QUEUE].p;
		size_t n = a->q[a->head % AHEAD_QUEUE].n;
		a->head++;
		pthread_mutex_unlock(&a->mu);
#ifdef MADV_POPULATE_WRITE
		madvise(p, n, MADV_POPULATE_WRITE);
#else
		(void)p, (void)n;
#endif
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

void fpset_fault_ahead(struct fpset *s)
{
	if (s->ahead)
		return;
	struct ahead *a = xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay the caller's */
	int e = pthread_create(&a->thread, NULL, ahead_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) { /* no thread: the caller faults its memory in itself */
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free(a);
		return;
	}
	s->ahead = a;
}

/* Segment k will double soon: have its next slice faulted in. */
static void ahead_ask(struct fpset *s, int k, size_t cap)
{
	struct level *v = level_map(s, cap);
	if (!v)
		return;
	struct ahead *a = s->ahead;
	pthread_mutex_lock(&a->mu);
	if (a->tail - a->head < AHEAD_QUEUE) { /* else: faulted on use */
		a->q[a->tail % AHEAD_QUEUE].p = v->base + (size_t)k * v->slice;
		a->q[a->tail % AHEAD_QUEUE].n = v->slice;
		a->tail++;
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

static void ahead_stop(struct fpset *s)
{
	struct ahead *a = s->ahead;
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	s->ahead = NULL;
}

static void seg_slots_free(struct fpset *s, struct seg *g)
{
	if (g->level >= 0)
		level_give_back(s, g->level, g->slots);
	else
		slots_free(g->slots, g->cap, s->words);
}

void fpset_free(struct fpset *s)
{
	if (!s)
		return;
	ahead_stop(s); /* before any block goes */
	for (int k = 0; k < NSEG; k++)
		seg_slots_free(s, &s->seg[k]);
	free(s);
}

static inline struct fp128 norm(struct fp128 fp)
{
	if (fp.lo == 0 && fp.hi == 0)
		fp.lo = 1;
	return fp;
}

/* Slot index of fp in g, or of the empty slot where it would go. */
static inline size_t probe(const struct seg *g, size_t words, struct fp128 fp)
{
	size_t mask = g->cap - 1, i = (size_t)(fp.lo >> g->shift);
	for (;;) {
		const uint64_t *sl = g->slots + i * words;
		if ((sl[0] == fp.lo && sl[1] == fp.hi) || (sl[0] | sl[1]) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

/* Rehash g into cap slots: a slice of cap's level block when growing
 * (grow), alone otherwise (an expiry's rebuild may keep the size, and
 * the slice would be its own). */
static void seg_resize(struct fpset *s, struct seg *g, size_t cap, bool grow)
{
	size_t words = s->words;
	struct seg old_seg = *g;
	uint64_t *old = g->slots;
	size_t old_cap = g->cap;
	g->slots = NULL;
	g->level = -1;
	if (grow && cap * words * sizeof(uint64_t) >= LEVEL_MIN_SLICE &&
	    (g->slots = level_take(s, (int)(g - s->seg), cap)))
		g->level = __builtin_ctzll(cap);
	if (!g->slots)
		g->slots = slots_alloc(cap, words);
	g->cap = cap;
	g->ahead_at = cap / 16 * 11; /* doubles past cap / 16 * 12 */
	g->shift = 64 - (unsigned)__builtin_ctzll(cap);
	for (size_t k = 0; k < old_cap; k++) {
		const uint64_t *sl = old + k * words;
		if ((sl[0] | sl[1]) == 0)
			continue;
		struct fp128 fp = {sl[0], sl[1]};
		size_t i = probe(g, words, fp);
		memcpy(g->slots + i * words, sl, words * sizeof(uint64_t));
	}
	if (old)
		seg_slots_free(s, &old_seg);
}

void fpset_reserve(struct fpset *s, size_t n)
{
	/* a segment's share, 1/8 over for the spread, at load 3/4 */
	size_t want = (n / NSEG + n / NSEG / 8 + SEG_MIN) / 3 * 4, cap = SEG_MIN;
	while (cap < want)
		cap *= 2;
	for (int k = 0; k < NSEG; k++)
		if (s->seg[k].cap < cap)
			seg_resize(s, &s->seg[k], cap, true);
}

bool fpset_add(struct fpset *s, struct fp128 fp, uint64_t **payload)
{
	fp = norm(fp);
	struct seg *g = &s->seg[fp.hi >> 59];
	if (!g->slots)
		seg_resize(s, g, SEG_MIN, true);
	else if ((g->count + 1) * 4 > g->cap * 3)
		seg_resize(s, g, g->cap * 2, true);
	size_t i = probe(g, s->words, fp);
	uint64_t *sl = g->slots + i * s->words;
	bool had = (sl[0] | sl[1]) != 0;
	if (!had) {
		sl[0] = fp.lo;
		sl[1] = fp.hi;
		g->count++;
		s->count++;
		if (g->count == g->ahead_at && s->ahead &&
		    2 * g->cap * s->words * sizeof(uint64_t) >=
			    LEVEL_MIN_SLICE)
			ahead_ask(s, (int)(g - s->seg), 2 * g->cap);
	}
	if (payload)
		*payload = s->words == 3 ? &sl[2] : NULL;
	return had;
}

bool fpset_has(const struct fpset *s, struct fp128 fp)
{
	fp = norm(fp);
	const struct seg *g = &s->seg[fp.hi >> 59];
	if (!g->slots)
		return false;
	const uint64_t *sl = g->slots + probe(g, s->words, fp) * s->words;
	return (sl[0] | sl[1]) != 0;
}

void fpset_prefetch(const struct fpset *s, struct fp128 fp)
{
	fp = norm(fp);
	const struct seg *g = &s->seg[fp.hi >> 59];
	if (g->slots)
		__builtin_prefetch(g->slots + (size_t)(fp.lo >> g->shift) *
					      s->words);
}

size_t fpset_count(const struct fpset *s)
{
	return s->count;
}

bool fpset_has_payload(const struct fpset *s)
{
	return s->words == 3;
}

size_t fpset_expire(struct fpset *s, uint64_t min)
{
	size_t dropped = 0;
	if (s->words != 3)
		return 0;
	for (int k = 0; k < NSEG; k++) {
		struct seg *g = &s->seg[k];
		size_t before = g->count;
		/* Clear expired slots, then rebuild: linear probing cannot
		 * leave holes in a cluster. */
		for (size_t j = 0; j < g->cap; j++) {
			uint64_t *sl = g->slots + j * 3;
			if ((sl[0] | sl[1]) != 0 && sl[2] < min) {
				sl[0] = sl[1] = sl[2] = 0;
				g->count--;
			}
		}
		if (g->count != before) {
			size_t cap = g->cap;
			while (cap > SEG_MIN && g->count * 4 < cap)
				cap /= 2;
			seg_resize(s, g, cap, false);
		}
		dropped += before - g->count;
	}
	s->count -= dropped;
	return dropped;
}

void fpset_each(const struct fpset *s,
		void (*fn)(void *ctx, struct fp128 fp, uint64_t payload),
		void *ctx)
{
	for (int k = 0; k < NSEG; k++) {
		const struct seg *g = &s->seg[k];
		for (size_t j = 0; j < g->cap; j++) {
			const uint64_t *sl = g->slots + j * s->words;
			if ((sl[0] | sl[1]) == 0)
				continue;
			struct fp128 fp = {sl[0], sl[1]};
			fn(ctx, fp, s->words == 3 ? sl[2] : 0);
		}
	}
}
