/* pool: a bump allocator over one huge-page mapping; see pool.h. */
#define _GNU_SOURCE /* MADV_HUGEPAGE */
#include "pool.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE (2u << 20)

/* The mapping of a pool of at least bytes, its base on a huge page. */
static bool pool_map(struct pool *p, size_t bytes)
{
	memset(p, 0, sizeof *p);
	size_t len = (bytes + HUGE - 1) & ~(size_t)(HUGE - 1);
	if (!len || len < bytes)
		return false;
	/* one huge page more, to align the pool on one */
	size_t map_len = len + HUGE;
	void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	uintptr_t a = ((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
	p->base = (char *)a;
	p->len = len;
	p->map = m;
	p->map_len = map_len;
	return true;
}

bool pool_init(struct pool *p, size_t bytes)
{
	if (!pool_map(p, bytes))
		return false;
	size_t len = p->len;
#ifdef MADV_HUGEPAGE
	/* not for a pool of one huge page: its first touch would clear
	 * 2 MiB where the few hundred KiB used fault in for less (a
	 * 1000-file table's load) */
	if (len > HUGE)
		(void)madvise(p->base, len, MADV_HUGEPAGE); /* a hint only */
#endif
#ifdef MADV_POPULATE_WRITE
	/* A smaller pool's pages are faulted in by one call, for the
	 * bytes asked: one page fault at a time cost 10.5 us a page on
	 * this machine's virtual CPU, one call for them all plus the
	 * writes 5.5 us (the bytes asked are what the caller expects to
	 * fill).  Before Linux 5.14 the call fails and nothing changes. */
	if (len <= HUGE)
		(void)madvise(p->base, (bytes + 4095) & ~(size_t)4095,
			      MADV_POPULATE_WRITE);
#endif
	return true;
}

bool pool_init_huge(struct pool *p, size_t bytes)
{
	if (!pool_map(p, bytes))
		return false;
#ifdef MADV_HUGEPAGE
	(void)madvise(p->base, p->len, MADV_HUGEPAGE); /* a hint only */
#endif
	return true;
}

void *pool_alloc(struct pool *p, size_t n)
{
	size_t at = (p->used + 15) & ~(size_t)15;
	if (!p->base || at > p->len || n > p->len - at)
		return NULL;
	p->used = at + n;
	return p->base + at;
}

bool pool_owns(const struct pool *p, const void *q)
{
	const char *c = q;
	return p->base && c >= p->base && c < p->base + p->len;
}

void pool_free(struct pool *p)
{
	if (p->map)
		munmap(p->map, p->map_len);
	memset(p, 0, sizeof *p);
}
