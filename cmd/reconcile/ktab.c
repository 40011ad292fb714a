/*
 * ktab: the per-side key table, and its spill to disk.
 *
 * A record appends one entry (key, content, ordinal, partition) to the
 * array of its segment -- one of NSEG, chosen by the top byte of the
 * key's fp.hi.  Reading thus writes NSEG sequential streams and touches
 * no memory at random: a hash table probed once a record missed the
 * cache and the TLB on every record, the more so the bigger it grew
 * (2M -> 8M keys a side: 4.6x the user time), and held 1.5 slots of 48
 * bytes a key where an array holds one.
 *
 * An entry is a partial sum (rows, content), so the entries of one key
 * add up whenever they meet: a fold adds up a segment's repeated keys
 * in place, through an index of positions small enough to stay in
 * cache.  A segment is folded when it must grow and folding has paid
 * before (it found repeats: a few keys repeated often stay a few
 * entries), when the side passes its share of --memory (it spills only
 * if folding freed too little), and before the join, which keeps the
 * index to look keys up in one segment pair at a time.  Of two pieces of
 * a key, the one with the smaller ordinal gives its first record and
 * partition, so the order in which pieces meet does not matter.
 *
 * The segment of a key is also its spill bucket: spilling writes each
 * segment's entries, as they are, to that bucket's file and empties it;
 * loading a bucket appends the pieces back, folding as it goes.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reconcile.h"
#include "statefile.h"
#include "xalloc.h"
#include "zio.h"

#define SEG_MIN 64
#define HUGE_PAGE ((size_t)2 << 20)
#define ENT_BYTES 48 /* on disk: key, content, first, rows, part, LE */

void ktab_init(struct ktab *t)
{
	memset(t, 0, sizeof *t);
	for (size_t s = 0; s < NSEG; s++)
		t->seg[s].fold_pays = true;
}

static void drop_index(struct ktab *t, struct kseg *g)
{
	if (!g->ix)
		return;
	t->bytes -= (g->ixmask + 1) * sizeof *g->ix;
	free(g->ix);
	g->ix = NULL;
	g->ixmask = 0;
}

static size_t page_up(size_t n)
{
	size_t p = 4096;
	return (n + p - 1) / p * p;
}

static char *window_of(const struct ktab *t, const struct kseg *g)
{
	return t->arena ? t->arena + (size_t)(g - t->seg) * t->window : NULL;
}

static bool in_window(const struct ktab *t, const struct kseg *g)
{
	return g->v && (char *)g->v == window_of(t, g);
}

/*
 * Each segment's array in a window of its own in one reservation of
 * address space (no memory until written): it grows in place, never
 * copied, and once past a huge page it asks for huge pages -- an array
 * of 4 KiB pages faulted in one by one cost as much system time as the
 * reading took user time (8M keys a side).  Small segments stay on small
 * pages, so a small input does not take 2 MiB a segment.
 */
void ktab_arena(struct ktab *t, uint64_t limit)
{
	uint64_t w = limit / NSEG * 4;
	if (w < 2 * HUGE_PAGE)
		w = 2 * HUGE_PAGE;
	w = (w + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	if (t->arena || w > SIZE_MAX / NSEG / 2)
		return;
	size_t bytes = (size_t)w * NSEG + HUGE_PAGE;
	char *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		return; /* the arrays live on the heap */
	/* windows on huge-page boundaries */
	size_t skip = (HUGE_PAGE - (uintptr_t)a % HUGE_PAGE) % HUGE_PAGE;
	if (skip)
		munmap(a, skip);
	if (HUGE_PAGE - skip)
		munmap(a + skip + (size_t)w * NSEG, HUGE_PAGE - skip);
	t->arena = a + skip;
	t->window = (size_t)w;
}

void ktab_clear_seg(struct ktab *t, size_t s)
{
	struct kseg *g = &t->seg[s];
	drop_index(t, g);
	t->bytes -= g->cap * sizeof *g->v;
	if (in_window(t, g))
		madvise(g->v, page_up(g->cap * sizeof *g->v), MADV_DONTNEED);
	else
		free(g->v);
	memset(g, 0, sizeof *g);
	g->fold_pays = true;
}

void ktab_free(struct ktab *t)
{
	for (size_t s = 0; s < NSEG; s++)
		ktab_clear_seg(t, s);
	if (t->arena)
		munmap(t->arena, t->window * NSEG);
	t->arena = NULL;
}

static inline bool key_eq(struct fp128 a, struct fp128 b)
{
	return a.lo == b.lo && a.hi == b.hi;
}

/* Add piece b into entry a of the same key. */
static int merge(struct kent *a, const struct kent *b, char *err,
		 size_t errlen)
{
	/* rows' top bit is KENT_SEEN: a count that reached it would read
	 * as another count after the join; refused, never wrapped */
	if ((uint64_t)a->rows + b->rows >= KENT_SEEN) {
		snprintf(err, errlen, "more than %u records of one key; "
				      "reconcile counts at most that many per key",
			 KENT_SEEN - 1);
		return -1;
	}
	a->rows += b->rows;
	a->content = fp_add(a->content, b->content);
	if (b->first < a->first) {
		a->first = b->first;
		a->part = b->part;
	}
	return 0;
}

/*
 * Add up the repeated keys of segment g in place: each entry either
 * joins an earlier one of its key or moves down to the next free
 * position.  With keep, the index (position + 1 by key.lo, linear
 * probing) stays for ktab_find.
 */
static int fold(struct ktab *t, struct kseg *g, bool keep, char *err,
		size_t errlen)
{
	drop_index(t, g);
	if (g->n >= UINT32_MAX) {
		snprintf(err, errlen, "%zu entries in one key-table segment; "
				      "reconcile holds at most %u",
			 g->n, UINT32_MAX - 1);
		return -1;
	}
	size_t cap = 16;
	while (cap < g->n * 2)
		cap *= 2;
	size_t mask = cap - 1;
	uint32_t *ix = xcalloc(cap, sizeof *ix);
	size_t w = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct kent *e = &g->v[i];
		size_t h = (size_t)e->key.lo & mask;
		for (;;) {
			uint32_t at = ix[h];
			if (!at) {
				if (w != i)
					g->v[w] = *e;
				ix[h] = (uint32_t)++w;
				break;
			}
			if (key_eq(g->v[at - 1].key, e->key)) {
				if (merge(&g->v[at - 1], e, err, errlen) != 0) {
					free(ix);
					return -1;
				}
				break;
			}
			h = (h + 1) & mask;
		}
	}
	/* a fold that took out less than an eighth is not tried again when
	 * the segment grows (the memory limit and the join still fold) */
	g->fold_pays = (g->n - w) * 8 >= g->n;
	g->n = w;
	if (keep) {
		g->ix = ix;
		g->ixmask = mask;
		t->bytes += cap * sizeof *ix;
	} else {
		free(ix);
	}
	return 0;
}

static void resize(struct ktab *t, struct kseg *g, size_t cap)
{
	char *win = window_of(t, g);
	size_t had = g->cap * sizeof *g->v, want = cap * sizeof *g->v;
	if (win && (!g->v || in_window(t, g)) && want <= t->window) {
		if (want > HUGE_PAGE && !g->huge) {
#ifdef MADV_HUGEPAGE
			madvise(win, t->window, MADV_HUGEPAGE);
#endif
			g->huge = true;
		}
		if (page_up(want) < page_up(had)) /* give back */
			madvise(win + page_up(want),
				page_up(had) - page_up(want), MADV_DONTNEED);
#ifdef MADV_POPULATE_WRITE
		/* fault the new room in with one call, not a trap a page
		 * (costly in a virtual machine); failing, the traps come */
		else if (page_up(want) > page_up(had))
			madvise(win + page_up(had),
				page_up(want) - page_up(had),
				MADV_POPULATE_WRITE);
#endif
		g->v = (struct kent *)win;
	} else if (win && in_window(t, g)) {
		/* outgrew its window (a skewed segment): onto the heap */
		struct kent *v = xreallocarray(NULL, cap, sizeof *v);
		memcpy(v, g->v, g->n * sizeof *v);
		madvise(win, page_up(had), MADV_DONTNEED);
		g->v = v;
	} else {
		g->v = xreallocarray(g->v, cap ? cap : 1, sizeof *g->v);
	}
	t->bytes = t->bytes - had + want;
	g->cap = cap;
}

/* Room for one more entry in a full segment: fold when that has paid,
 * grow when it left the segment more than half full. */
static int make_room(struct ktab *t, struct kseg *g, char *err,
		     size_t errlen)
{
	if (g->n && g->fold_pays && fold(t, g, false, err, errlen) != 0)
		return -1;
	if (g->n < g->cap && g->n <= g->cap / 2)
		return 0;
	size_t cap = g->cap ? g->cap * 2 : SEG_MIN;
	if (cap * sizeof *g->v > HUGE_PAGE) /* whole huge pages */
		cap = (cap * sizeof *g->v + HUGE_PAGE - 1) / HUGE_PAGE *
		      HUGE_PAGE / sizeof *g->v;
	resize(t, g, cap);
	return 0;
}

static int append(struct ktab *t, const struct kent *e, char *err,
		  size_t errlen)
{
	struct kseg *g = &t->seg[e->key.hi >> 56];
	if (g->ix) /* sealed: a new entry would not be in the index */
		drop_index(t, g);
	if (g->n == g->cap && make_room(t, g, err, errlen) != 0)
		return -1;
	g->v[g->n++] = *e;
	/* the segment's next entry: its lines load while the records of
	 * the other segments are read (NSEG streams are more than the
	 * hardware prefetcher follows) */
	if (g->n < g->cap) {
		__builtin_prefetch(&g->v[g->n], 1);
		__builtin_prefetch((char *)&g->v[g->n + 1] - 1, 1);
	}
	return 0;
}

int ktab_add(struct ktab *t, struct fp128 key, struct fp128 content,
	     uint64_t first, uint32_t part, char *err, size_t errlen)
{
	struct kent e = {.key = key, .content = content, .first = first,
			 .rows = 1, .part = part};
	return append(t, &e, err, errlen);
}

int ktab_fold_all(struct ktab *t, char *err, size_t errlen)
{
	for (size_t s = 0; s < NSEG; s++) {
		struct kseg *g = &t->seg[s];
		if (!g->n)
			continue;
		if (fold(t, g, false, err, errlen) != 0)
			return -1;
		/* give back what the fold freed, beyond a little room */
		size_t want = g->n + g->n / 4 + SEG_MIN;
		if (want < g->cap)
			resize(t, g, want);
	}
	return 0;
}

int ktab_seal_seg(struct ktab *t, size_t s, char *err, size_t errlen)
{
	return fold(t, &t->seg[s], true, err, errlen);
}

struct kent *ktab_find(const struct ktab *t, struct fp128 key)
{
	const struct kseg *g = &t->seg[key.hi >> 56];
	assert(g->ix || !g->n); /* sealed by ktab_seal_seg */
	if (!g->ix)
		return NULL;
	for (size_t h = (size_t)key.lo & g->ixmask;; h = (h + 1) & g->ixmask) {
		uint32_t at = g->ix[h];
		if (!at)
			return NULL;
		if (key_eq(g->v[at - 1].key, key))
			return &g->v[at - 1];
	}
}

/* main.c's on_signal removes these names too: keep them in step */
static void bucket_path(char *out, size_t cap, const char *dir, int side,
			size_t s)
{
	snprintf(out, cap, "%s/%c-%03zu.zst", dir, side == SRC ? 's' : 't', s);
}

int ktab_spill(struct ktab *t, const char *dir, int side, char *err,
	       size_t errlen)
{
	char path[4096], zerr[256];
	unsigned char e[ENT_BYTES];
	for (size_t s = 0; s < NSEG; s++) {
		struct kseg *g = &t->seg[s];
		if (!g->n) {
			ktab_clear_seg(t, s);
			continue;
		}
		bucket_path(path, sizeof path, dir, side, s);
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		struct zout *z = zout_open(fd, 1);
		int bad = 0;
		for (size_t i = 0; i < g->n && !bad; i++) {
			const struct kent *k = &g->v[i];
			le64_put(e, k->key.lo);
			le64_put(e + 8, k->key.hi);
			le64_put(e + 16, k->content.lo);
			le64_put(e + 24, k->content.hi);
			le64_put(e + 32, k->first);
			le32_put(e + 40, k->rows);
			le32_put(e + 44, k->part);
			bad = zout_write(z, e, sizeof e, zerr, sizeof zerr);
		}
		char cerr[256];
		if (zout_close(z, cerr, sizeof cerr) && !bad) {
			snprintf(zerr, sizeof zerr, "%s", cerr);
			bad = 1;
		}
		if (close(fd) != 0 && !bad) {
			snprintf(zerr, sizeof zerr, "%s", strerror(errno));
			bad = 1;
		}
		if (bad) {
			snprintf(err, errlen, "%s: %s", path, zerr);
			return -1;
		}
		ktab_clear_seg(t, s);
	}
	return 0;
}

int ktab_load(struct ktab *t, const char *dir, int side, size_t s,
	      char *err, size_t errlen)
{
	char path[4096], merr[256];
	bucket_path(path, sizeof path, dir, side, s);
	if (access(path, F_OK) != 0)
		return 0; /* nothing spilled for this bucket */
	struct zin *z = zin_open(path, err, errlen);
	if (!z)
		return -1;
	unsigned char *chunk = xmalloc(ENT_BYTES * 4096);
	size_t have = 0;
	int rc = -1;
	for (;;) {
		ssize_t r = zin_read(z, chunk + have, ENT_BYTES * 4096 - have,
				     err, errlen);
		if (r < 0)
			goto out;
		have += (size_t)r;
		size_t whole = have / ENT_BYTES * ENT_BYTES;
		for (size_t off = 0; off < whole; off += ENT_BYTES) {
			const unsigned char *e = chunk + off;
			struct kent k = {
				.key = {le64_get(e), le64_get(e + 8)},
				.content = {le64_get(e + 16), le64_get(e + 24)},
				.first = le64_get(e + 32),
				.rows = le32_get(e + 40),
				.part = le32_get(e + 44),
			};
			/* a damaged spill file must not set KENT_SEEN, nor
			 * put a key in another bucket */
			if (k.rows == 0 || k.rows >= KENT_SEEN ||
			    (k.key.hi >> 56) != s) {
				snprintf(err, errlen, "%s: damaged spill file "
						      "(an entry with %u rows in "
						      "bucket %zu); refusing",
					 path, k.rows, s);
				goto out;
			}
			if (append(t, &k, merr, sizeof merr) != 0) {
				snprintf(err, errlen, "%s: %s", path, merr);
				goto out;
			}
		}
		memmove(chunk, chunk + whole, have - whole);
		have -= whole;
		if (r == 0)
			break;
	}
	if (have) {
		snprintf(err, errlen, "%s: truncated spill file", path);
		goto out;
	}
	rc = 0;
out:
	free(chunk);
	zin_close(z);
	return rc;
}
