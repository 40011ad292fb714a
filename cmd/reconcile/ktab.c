/*
 * ktab: the per-side key table, and its spill to disk.
 *
 * NSEG open-addressing segments chosen by the top byte of the key's
 * fp.hi; inside a segment, linear probing from fp.lo scaled to the
 * capacity.
 * A segment doubles alone when 3/4 full, so growth never holds more
 * than 1/NSEG of the table twice.  The segment of a key is also its
 * spill bucket: spilling writes each segment's entries, as they are, to
 * that bucket's file and empties it.  An entry is a partial sum (rows,
 * content), so the pieces of one key from several spills add up when
 * the bucket is loaded back; the first piece's partition wins, and the
 * first piece is the earliest, since each spill appends.
 */
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
#define ENT_BYTES 48 /* on disk: key, content, first, rows, part, LE */

void ktab_init(struct ktab *t)
{
	memset(t, 0, sizeof *t);
}

static bool in_arena(const struct ktab *t, const struct kent *slot)
{
	return t->arena && (const char *)slot >= (const char *)t->arena &&
	       (const char *)slot < (const char *)t->arena + t->arena_bytes;
}

/* Free a segment's slots: the heap's, or its share of the arena. */
static void free_slots(struct ktab *t, struct kent *slot)
{
	if (!in_arena(t, slot)) {
		free(slot);
	} else if (--t->arena_live == 0) {
		munmap(t->arena, t->arena_bytes);
		t->arena = NULL;
	}
}

void ktab_clear_seg(struct ktab *t, size_t s)
{
	struct kseg *g = &t->seg[s];
	if (g->slot) {
		t->bytes -= (g->mask + 1) * sizeof *g->slot;
		free_slots(t, g->slot);
	}
	memset(g, 0, sizeof *g);
}

static struct kent *probe(struct kseg *g, struct fp128 k);

/*
 * Size every segment for about nkeys keys at once, from one mapping
 * that asks for huge pages: no doubling, rehashing and page faults as
 * the table fills, and fewer TLB misses on a random probe into 100 MB.
 * The entries already in the table move over.  A segment that outgrows
 * its share still grows alone, onto the heap.
 */
static size_t reserve_cap(uint64_t nkeys)
{
	/* 3/4 full (where a segment grows) with 1/8 more keys than told */
	uint64_t want = (nkeys / NSEG + nkeys / NSEG / 8 + 8) * 4 / 3 + 1;
	return want < SEG_MIN ? SEG_MIN : (size_t)want;
}

uint64_t ktab_reserve_bytes(uint64_t nkeys)
{
	return (uint64_t)reserve_cap(nkeys) * NSEG * sizeof(struct kent);
}

void ktab_reserve(struct ktab *t, uint64_t nkeys)
{
	size_t cap = reserve_cap(nkeys);
	if (t->arena)
		return;
	for (size_t s = 0; s < NSEG; s++)
		if (t->seg[s].slot && t->seg[s].mask + 1 >= cap)
			return;
	size_t seg_bytes = cap * sizeof(struct kent);
	size_t bytes = seg_bytes * NSEG;
	void *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return; /* the segments grow one by one, as without */
#ifdef MADV_HUGEPAGE
	madvise(a, bytes, MADV_HUGEPAGE);
#endif
	for (size_t s = 0; s < NSEG; s++) {
		struct kseg *g = &t->seg[s];
		struct kseg n = {.slot = (struct kent *)((char *)a + s * seg_bytes),
				 .mask = cap - 1, .count = g->count};
		if (g->slot) {
			for (size_t i = 0; i <= g->mask; i++) {
				struct kent *e = &g->slot[i];
				if (e->key.lo | e->key.hi)
					*probe(&n, e->key) = *e;
			}
			t->bytes -= (g->mask + 1) * sizeof *g->slot;
			free(g->slot);
		}
		*g = n;
	}
	t->arena = a;
	t->arena_bytes = bytes;
	t->arena_live = NSEG;
	t->bytes += bytes;
}

void ktab_free(struct ktab *t)
{
	for (size_t s = 0; s < NSEG; s++)
		ktab_clear_seg(t, s);
}

static struct fp128 nonzero(struct fp128 k)
{
	if (k.lo == 0 && k.hi == 0)
		k.lo = 1; /* a 2^-128 event: share a slot with {1,0} */
	return k;
}

/* The home slot of a key: lo scaled to the capacity, which need not be
 * a power of two (a presized table is sized to its keys, not to the
 * next power of two: a third less memory to fault in). */
static inline size_t home(const struct kseg *g, uint64_t lo)
{
	return (size_t)(((unsigned __int128)lo * (g->mask + 1)) >> 64);
}

static struct kent *probe(struct kseg *g, struct fp128 k)
{
	size_t i = home(g, k.lo);
	for (;;) {
		struct kent *e = &g->slot[i];
		if ((e->key.lo == k.lo && e->key.hi == k.hi) ||
		    (e->key.lo == 0 && e->key.hi == 0))
			return e;
		i = i == g->mask ? 0 : i + 1;
	}
}

static void grow(struct ktab *t, struct kseg *g)
{
	size_t cap = g->slot ? (g->mask + 1) * 2 : SEG_MIN;
	struct kseg n = {.slot = xcalloc(cap, sizeof *n.slot), .mask = cap - 1,
			 .count = g->count};
	if (g->slot) {
		for (size_t i = 0; i <= g->mask; i++) {
			struct kent *e = &g->slot[i];
			if (e->key.lo | e->key.hi)
				*probe(&n, e->key) = *e;
		}
		t->bytes -= (g->mask + 1) * sizeof *g->slot;
		free_slots(t, g->slot);
	}
	t->bytes += cap * sizeof *n.slot;
	*g = n;
}

struct kent *ktab_get(struct ktab *t, struct fp128 key)
{
	key = nonzero(key);
	struct kseg *g = &t->seg[key.hi >> 56];
	if (!g->slot || (g->count + 1) * 4 > (g->mask + 1) * 3)
		grow(t, g);
	struct kent *e = probe(g, key);
	if (e->key.lo == 0 && e->key.hi == 0) {
		e->key = key;
		g->count++;
	}
	return e;
}

void ktab_prefetch(const struct ktab *t, struct fp128 key)
{
	key = nonzero(key);
	const struct kseg *g = &t->seg[key.hi >> 56];
	if (g->slot)
		__builtin_prefetch(&g->slot[home(g, key.lo)], 1);
}

struct kent *ktab_find(const struct ktab *t, struct fp128 key)
{
	key = nonzero(key);
	struct kseg *g = (struct kseg *)&t->seg[key.hi >> 56];
	if (!g->slot)
		return NULL;
	struct kent *e = probe(g, key);
	return e->key.lo == 0 && e->key.hi == 0 ? NULL : e;
}

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
		if (!g->count) {
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
		for (size_t i = 0; i <= g->mask && !bad; i++) {
			struct kent *k = &g->slot[i];
			if (!(k->key.lo | k->key.hi))
				continue;
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
	char path[4096];
	bucket_path(path, sizeof path, dir, side, s);
	if (access(path, F_OK) != 0)
		return 0; /* nothing spilled for this bucket */
	struct zin *z = zin_open(path, err, errlen);
	if (!z)
		return -1;
	static unsigned char chunk[ENT_BYTES * 4096];
	size_t have = 0;
	for (;;) {
		ssize_t r = zin_read(z, chunk + have, sizeof chunk - have, err,
				     errlen);
		if (r < 0) {
			zin_close(z);
			return -1;
		}
		have += (size_t)r;
		size_t whole = have / ENT_BYTES * ENT_BYTES;
		for (size_t off = 0; off < whole; off += ENT_BYTES) {
			const unsigned char *e = chunk + off;
			struct fp128 key = {le64_get(e), le64_get(e + 8)};
			struct fp128 c = {le64_get(e + 16), le64_get(e + 24)};
			struct kent *k = ktab_get(t, key);
			if (k->rows == 0) {
				k->first = le64_get(e + 32);
				k->part = le32_get(e + 44);
			}
			uint32_t rows = le32_get(e + 40);
			/* the pieces add up to what settle() let pass, but a
			 * damaged spill file must not set KENT_SEEN */
			if (rows >= KENT_SEEN - k->rows) {
				snprintf(err, errlen, "%s: a key's row count "
						      "passes %u; refusing",
					 path,
					 KENT_SEEN - 1);
				zin_close(z);
				return -1;
			}
			k->rows += rows;
			k->content = fp_add(k->content, c);
		}
		memmove(chunk, chunk + whole, have - whole);
		have -= whole;
		if (r == 0)
			break;
	}
	zin_close(z);
	if (have) {
		snprintf(err, errlen, "%s: truncated spill file", path);
		return -1;
	}
	return 0;
}
