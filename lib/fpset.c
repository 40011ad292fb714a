/*
 * fpset: see fpset.h.  A slot is 2 (or 3, with payload) uint64 words:
 * lo, hi [, payload].  The segment comes from the top bits of hi, the
 * position in it from lo by multiply-shift, lo * cap / 2^64, so the two
 * are independent and a capacity need not be a power of two.  Homes
 * keep lo's order at any capacity, so a resize fills the new table
 * front to back.  That alone did not make resizes cheaper: their cost
 * was first touches of fresh memory, which the level blocks and
 * fpset_fault_ahead() below address.
 *
 * Growth.  A segment grows by half (cap + cap / 2) when it would pass
 * 4/5 full, so its load stays between 8/15 and 4/5: 24-byte slots cost
 * 30 to 45 bytes a key, where doubling (3/8 to 3/4) cost 32 to 64.
 * Segments are staggered: segment k's capacities are its own series,
 * starting at 64 + k slots (1.5^(k/32) apart, near enough), so the 32
 * of them, filling at the same rate, grow one after another through
 * each step instead of all at once.  The whole set then sits at the
 * average over a step, not swinging across it: 24-byte slots cost
 * 24 / 0.8 * 0.5 / ln 1.5 = 37.0 bytes a key at any count, 16-byte ones
 * 24.7 (fpset_bytes() from 1M to 12M keys: 37.0 on average, at most
 * 37.8, 38.8 counting the segment a resize holds twice).  Of the
 * steps tried, growing by half at 4/5 cost least against doubling:
 * dedup -k over 1M records 1% slower at -j 1, 3% at -j 2, 3-7% over
 * 10M keys (a key is rehashed twice, not once, and the fresh memory
 * faulted in is three times the table, not two).  Growing by a quarter
 * at 3/4 (36 bytes) cost 8%, by half at 17/20 (35 bytes, long probes)
 * 4%; staggered doubling at 3/4 for 16-byte slots was no faster in
 * dedup and took 31 bytes a key.
 */
#define _GNU_SOURCE /* MADV_HUGEPAGE, MADV_POPULATE_WRITE */
#include "fpset.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xalloc.h"

#define NSEG 32 /* chosen by the top 5 bits of fp.hi */
#define SEG_MIN 64 /* segment 0's first capacity, in slots */
#define GROW_NUM 1 /* a segment grows by cap * GROW_NUM / GROW_DEN */
#define GROW_DEN 2
#define LOAD_NUM 4 /* and holds at most cap * LOAD_NUM / LOAD_DEN */
#define LOAD_DEN 5
#define NLEVEL 64 /* generations with level blocks: 64 * 1.5^64 slots */

struct seg {
	uint64_t *slots;
	int level; /* the level block slots is a slice of, or -1 */
	int gen; /* cap is seg_cap(k, gen) */
	size_t cap; /* slots */
	size_t count;
	size_t grow_at; /* count at which it grows: cap * 4/5 */
	size_t ahead_at; /* count at which the next slice is faulted ahead */
};

/*
 * Segment k's capacity in generation gen: its first one times 1.5^gen,
 * in fixed point (12 bits of fraction) so that rounding does not pile
 * up and undo the stagger.  A pure function of (k, gen): level blocks
 * lay out every segment's slice of a generation from it.
 */
static size_t seg_cap(int k, int gen)
{
	uint64_t v = (uint64_t)(SEG_MIN + SEG_MIN * GROW_NUM * k /
					    (GROW_DEN * NSEG))
		     << 12;
	for (int j = 0; j < gen && v < (uint64_t)1 << 62; j++)
		v += v / GROW_DEN * GROW_NUM; /* saturates past any memory */
	return (size_t)(v >> 12);
}

/* The count at which a segment of cap slots grows: 4/5 full. */
static size_t grow_point(size_t cap)
{
	return cap * LOAD_NUM / LOAD_DEN;
}

/*
 * A level block: the slots of every segment in one generation, segment
 * k at slice k (page-aligned, so a slice can be handed back alone),
 * mapped at once (reserved, not touched) with huge pages asked for.
 * Slices of 64 KiB to 2 MiB share huge pages: a table of a million keys
 * took 8,000 page faults of 4 KiB where it takes a few dozen of 2 MiB
 * (on a paravirtualized guest a fault costs ~17 us: 0.14 s of a 0.6 s
 * dedup).  A slice a segment leaves is handed back (MADV_DONTNEED, so
 * it costs no memory and reads as zeros again); the block goes when its
 * last slice does.
 */
#define LEVEL_MIN_SLICE (64u << 10)

struct level {
	char *base; /* NULL: not mapped */
	size_t bytes;
	int users;
};

/*
 * With fpset_fault_ahead(), a thread faults a segment's next slice in
 * while the segment fills the last 1/512 of its room: the caller's
 * thread then finds the memory ready.  Faulting in fresh memory is the
 * dearest part of growing (zeroing huge pages, and on a paravirtualized
 * guest the host's faults: 18% of dedup -j 2's CPU, all of it on the
 * in-order thread), and the in-order thread is the one that limits -j.
 * A slice faulted ahead is its segment held twice until it moves, as
 * a resize holds it, so one slice at a time is faulted ahead: a segment
 * that reaches its mark while another's slice waits is asked for when
 * that one has moved, and the set never holds more than it does at
 * -j 1; and the window is short (1/512, a few ms of keys, time enough
 * to fault in a slice), so that it seldom spans another segment's
 * resize.  When every segment doubled together and asked a sixteenth
 * ahead, all 32 next slices were faulted at once: dedup -j 2 peaked at
 * 317-349 MB over 10M keys where -j 1 took 269.  Staggered, asking
 * 1/128 ahead with any number at a time, 212-214 MB over 5.4M keys
 * with --ttl where -j 1 took 206; one at a time, 1/512 ahead, 209, as
 * much as -j 2 without fault-ahead (the rest is chunks in flight).
 * The requests
 * are ranges of level blocks that are mapped before they are asked for
 * and unmapped only once every slice taken from them is given back; a
 * request that finds its range unmapped just fails (madvise is harmless
 * on any range).
 */
#define AHEAD_QUEUE 64
#define AHEAD_DIV 512

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
	struct level level[NLEVEL]; /* by generation */
	struct ahead *ahead;
	int ahead_seg; /* the segment whose next slice was asked for, or -1 */
	uint32_t ahead_waiting; /* segments past their mark, not asked for */
	size_t words; /* per slot: 2 or 3 */
	size_t page;
	size_t count;
	size_t bytes, peak_bytes; /* of slots held; see fpset_bytes() */
};

struct fpset *fpset_new(bool with_payload)
{
	struct fpset *s = xcalloc(1, sizeof *s);
	long pg = sysconf(_SC_PAGESIZE);
	s->words = with_payload ? 3 : 2;
	s->page = pg > 0 ? (size_t)pg : 4096;
	s->ahead_seg = -1;
	for (int k = 0; k < NSEG; k++)
		s->seg[k].level = -1;
	return s;
}

static size_t slot_bytes(const struct fpset *s, size_t cap)
{
	return cap * s->words * sizeof(uint64_t);
}

static size_t page_up(const struct fpset *s, size_t n)
{
	return (n + s->page - 1) / s->page * s->page;
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

/* Where segment k's slice of generation gen starts in its block. */
static size_t level_offset(const struct fpset *s, int k, int gen)
{
	size_t off = 0;
	for (int i = 0; i < k; i++)
		off += page_up(s, slot_bytes(s, seg_cap(i, gen)));
	return off;
}

/* The level block for gen, mapped (not touched) if it was not yet;
 * NULL when it cannot be mapped. */
static struct level *level_map(struct fpset *s, int gen)
{
	struct level *v = &s->level[gen];
	if (!v->base) {
		size_t bytes = level_offset(s, NSEG, gen);
		void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (p == MAP_FAILED)
			return NULL;
#ifdef MADV_HUGEPAGE
		madvise(p, bytes, MADV_HUGEPAGE); /* a hint */
#endif
		v->base = p;
		v->bytes = bytes;
	}
	return v;
}

/* Segment k's slice of generation gen's block, zeroed; NULL when the
 * block cannot be mapped (the caller allocates alone). */
static uint64_t *level_take(struct fpset *s, int k, int gen)
{
	struct level *v = level_map(s, gen);
	if (!v)
		return NULL;
	char *q = v->base + level_offset(s, k, gen);
#ifdef MADV_POPULATE_WRITE
	madvise(q, slot_bytes(s, seg_cap(k, gen)), MADV_POPULATE_WRITE);
#endif
	v->users++;
	return (uint64_t *)q;
}

static void level_give_back(struct fpset *s, struct seg *g)
{
	struct level *v = &s->level[g->level];
	if (--v->users == 0) {
		munmap(v->base, v->bytes);
		v->base = NULL;
	} else {
		madvise(g->slots, page_up(s, slot_bytes(s, g->cap)),
			MADV_DONTNEED);
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

/* Segment k will grow into generation gen soon: have its slice there
 * faulted in. */
static void ahead_ask(struct fpset *s, int k, int gen)
{
	struct level *v = level_map(s, gen);
	if (!v)
		return;
	struct ahead *a = s->ahead;
	pthread_mutex_lock(&a->mu);
	if (a->tail - a->head < AHEAD_QUEUE) { /* else: faulted on use */
		a->q[a->tail % AHEAD_QUEUE].p =
			v->base + level_offset(s, k, gen);
		a->q[a->tail % AHEAD_QUEUE].n =
			slot_bytes(s, seg_cap(k, gen));
		a->tail++;
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

/* Segment k has passed its mark: ask for its next slice now if no
 * other waits to be taken, else when that one is. */
static void ahead_want(struct fpset *s, int k)
{
	struct seg *g = &s->seg[k];
	if (g->gen + 1 >= NLEVEL ||
	    slot_bytes(s, seg_cap(k, g->gen + 1)) < LEVEL_MIN_SLICE)
		return;
	if (s->ahead_seg >= 0) {
		s->ahead_waiting |= 1u << k;
		return;
	}
	s->ahead_seg = k;
	ahead_ask(s, k, g->gen + 1);
}

/* Segment k has moved: it no longer waits, and if its slice was the
 * one asked for, the next waiting segment's may be. */
static void ahead_moved(struct fpset *s, int k)
{
	s->ahead_waiting &= ~(1u << k);
	if (s->ahead_seg != k)
		return;
	s->ahead_seg = -1;
	if (s->ahead_waiting) {
		int next = __builtin_ctz(s->ahead_waiting);
		s->ahead_waiting &= ~(1u << next);
		ahead_want(s, next);
	}
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
		level_give_back(s, g);
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

static inline size_t home(const struct seg *g, uint64_t lo)
{
	return (size_t)(((unsigned __int128)lo * g->cap) >> 64);
}

/* Slot index of fp in g, or of the empty slot where it would go. */
static inline size_t probe(const struct seg *g, size_t words, struct fp128 fp)
{
	size_t i = home(g, fp.lo);
	for (;;) {
		const uint64_t *sl = g->slots + i * words;
		if ((sl[0] == fp.lo && sl[1] == fp.hi) || (sl[0] | sl[1]) == 0)
			return i;
		if (++i == g->cap)
			i = 0;
	}
}

/* A slot's 2 or 3 words, without a call to memcpy for each (a tenth of
 * a resize's time was that call). */
static inline void slot_copy(uint64_t *d, const uint64_t *sl, size_t words)
{
	d[0] = sl[0];
	d[1] = sl[1];
	if (words == 3)
		d[2] = sl[2];
}

/*
 * Move the old slots into g, whose slots are all empty.  The old ones
 * are visited in order, so their homes in g mostly rise: a home at or
 * past every slot written so far is empty, and the slot is written
 * without reading it first (reading fresh memory was a third of a
 * resize's time).  Only a home below that mark is probed.  The old
 * table's leading cluster may hold keys that wrapped around from its
 * end; it goes last, probed, so that they do not carry the mark to the
 * end of g at the start.
 */
static void rehash(struct seg *g, size_t words, const uint64_t *old,
		   size_t old_cap)
{
	size_t lead = 0, mark = 0;
	while (lead < old_cap && (old[lead * words] | old[lead * words + 1]))
		lead++;
	for (size_t j = lead; j < old_cap; j++) {
		const uint64_t *sl = old + j * words;
		if ((sl[0] | sl[1]) == 0)
			continue;
		struct fp128 fp = {sl[0], sl[1]};
		size_t i = home(g, fp.lo);
		if (i < mark)
			i = probe(g, words, fp);
		if (i >= mark)
			mark = i + 1;
		slot_copy(g->slots + i * words, sl, words);
	}
	for (size_t j = 0; j < lead; j++) {
		const uint64_t *sl = old + j * words;
		struct fp128 fp = {sl[0], sl[1]};
		slot_copy(g->slots + probe(g, words, fp) * words, sl, words);
	}
}

/* Rehash g into generation gen: a slice of gen's level block when
 * growing (grow), alone otherwise (an expiry's rebuild may keep the
 * generation, and the slice would be its own). */
static void seg_resize(struct fpset *s, struct seg *g, int gen, bool grow)
{
	size_t words = s->words;
	int k = (int)(g - s->seg);
	size_t cap = seg_cap(k, gen);
	struct seg old_seg = *g;
	uint64_t *old = g->slots;
	size_t old_cap = g->cap;
	g->slots = NULL;
	g->level = -1;
	if (grow && gen < NLEVEL &&
	    slot_bytes(s, cap) >= LEVEL_MIN_SLICE &&
	    (g->slots = level_take(s, k, gen)))
		g->level = gen;
	if (!g->slots)
		g->slots = slots_alloc(cap, words);
	g->gen = gen;
	g->cap = cap;
	g->grow_at = grow_point(cap);
	g->ahead_at = g->grow_at - g->grow_at / AHEAD_DIV;
	assert(g->count < g->grow_at);
	s->bytes += slot_bytes(s, cap);
	if (s->bytes > s->peak_bytes)
		s->peak_bytes = s->bytes; /* the old slots are still held */
	rehash(g, words, old, old_cap);
	if (old) {
		seg_slots_free(s, &old_seg);
		s->bytes -= slot_bytes(s, old_cap);
	}
	if (s->ahead)
		ahead_moved(s, k);
}

/* The first generation of segment k that holds n keys without
 * growing. */
static int gen_for(int k, size_t n)
{
	int gen = 0;
	while (grow_point(seg_cap(k, gen)) < n && gen < 2 * NLEVEL)
		gen++; /* (the bound: an n past any memory fails to map) */
	return gen;
}

static size_t isqrt(size_t n)
{
	size_t r = 0;
	while ((r + 1) * (r + 1) <= n)
		r++;
	return r;
}

void fpset_reserve(struct fpset *s, size_t n)
{
	/* A segment's share plus 4 standard deviations of its spread
	 * (fingerprints are uniform): a segment rarely passes it, and the
	 * set, sized for a load near 4/5, costs no more than grown. */
	size_t share = n / NSEG;
	size_t want = share + 4 * isqrt(share) + 1;
	for (int k = 0; k < NSEG; k++) {
		struct seg *g = &s->seg[k];
		int gen = gen_for(k, want);
		if (!g->slots || g->gen < gen)
			seg_resize(s, g, gen, true);
	}
}

bool fpset_add(struct fpset *s, struct fp128 fp, uint64_t **payload)
{
	fp = norm(fp);
	struct seg *g = &s->seg[fp.hi >> 59];
	if (!g->slots)
		seg_resize(s, g, 0, true);
	else if (g->count >= g->grow_at)
		seg_resize(s, g, g->gen + 1, true);
	size_t i = probe(g, s->words, fp);
	uint64_t *sl = g->slots + i * s->words;
	bool had = (sl[0] | sl[1]) != 0;
	if (!had) {
		sl[0] = fp.lo;
		sl[1] = fp.hi;
		g->count++;
		s->count++;
		if (g->count == g->ahead_at && s->ahead)
			ahead_want(s, (int)(g - s->seg));
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
		__builtin_prefetch(g->slots + home(g, fp.lo) * s->words);
}

size_t fpset_count(const struct fpset *s)
{
	return s->count;
}

bool fpset_has_payload(const struct fpset *s)
{
	return s->words == 3;
}

size_t fpset_bytes(const struct fpset *s, size_t *peak)
{
	if (peak)
		*peak = s->peak_bytes;
	return s->bytes;
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
			/* the generation it would have just grown into,
			 * at 8/15 full, or the one it is in */
			int gen = gen_for(k, g->count + g->count / GROW_DEN * GROW_NUM);
			seg_resize(s, g, gen < g->gen ? gen : g->gen, false);
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
