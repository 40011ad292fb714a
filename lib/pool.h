/*
 * pool: one zeroed region that many small allocations are cut from and
 * that is given back whole.  One of more than a huge page asks the
 * kernel for transparent huge pages, so that a process building a big
 * table at start-up takes a fault per 2 MiB rather than per 4 KiB: on a
 * virtual machine a fresh page costs microseconds, more than parsing
 * what goes into it.  Where huge pages are off, or the pool is smaller
 * (the first touch would clear 2 MiB), it is an ordinary anonymous
 * mapping.
 */
#ifndef IDEM_POOL_H
#define IDEM_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct pool {
	char *base; /* NULL: no pool */
	size_t len, used;
	void *map; /* the mapping (base is aligned inside it) */
	size_t map_len;
};

/* A pool of at least bytes; false (and an empty pool) if none. */
bool pool_init(struct pool *p, size_t bytes);
/* The same, on huge pages whatever its size: for a buffer that is
 * filled whole (a compression frame), where a fault per 2 MiB beats 512
 * faults of 4 KiB. */
bool pool_init_huge(struct pool *p, size_t bytes);
/* n zeroed bytes aligned to 16, or NULL when the pool is full. */
void *pool_alloc(struct pool *p, size_t n);
bool pool_owns(const struct pool *p, const void *q);
void pool_free(struct pool *p);

#endif
