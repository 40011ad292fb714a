/*
 * reconcile's options, the lock its threads die under, and the
 * partitions' allocator: what main.c, summary.c and report.c all use,
 * apart from main.c, which calls the other two (a file-level cycle when
 * they lived there).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lines.h"
#include "reconcile.h"
#include "xalloc.h"

struct rc_opts opt = {.show = -1, .bucket = -1, .bucket_bits = 8,
		      .max_line = LINES_DEFAULT_MAX};

pthread_mutex_t rc_lock = PTHREAD_MUTEX_INITIALIZER;

/* Bytes the partitions hold, each reader's and the merged table's. */
static size_t part_bytes;

struct part *part_new(const char *v, size_t n)
{
	size_t sums = opt.nsums * sizeof(struct dec);
	/* the sums after the struct, at struct dec's alignment (16: its
	 * __int128); malloc's blocks are aligned for it */
	size_t head = (sizeof(struct part) + _Alignof(struct dec) - 1) /
		      _Alignof(struct dec) * _Alignof(struct dec);
	size_t size = head + 2 * sums;
	/* the block, its label, and about what the index and the pointer
	 * array take per partition */
	size_t cost = size + n + 1 + 64;
	size_t total = __atomic_add_fetch(&part_bytes, cost, __ATOMIC_RELAXED);
	/* The key tables take 70% of --memory; partitions get 20%. */
	if (total > opt.memory / 5) {
		pthread_mutex_lock(&rc_lock);
		if (!opt.by_src) /* one partition, and no --by to blame */
			cli_die(EXIT_TROUBLE, "--memory of %" PRIu64 " bytes: "
				"too small for the totals of even one partition "
				"(they may take a fifth of it); raise --memory",
				opt.memory);
		/* in K only when that is exact: 1500 bytes was "1K", and
		 * 500 "0K" */
		char said[32];
		if (opt.memory % 1024 == 0)
			snprintf(said, sizeof said, "%" PRIu64 "K",
				 opt.memory >> 10);
		else
			snprintf(said, sizeof said, "of %" PRIu64 " bytes",
				 opt.memory);
		cli_die(EXIT_TROUBLE, "--by %s: too many partitions for "
			"--memory %s (their totals may take a fifth "
			"of it); raise --memory or use a coarser --by",
			opt.by_src ? opt.by_src : "", said);
	}
	struct part *p = xcalloc(1, size);
	struct dec *d = (struct dec *)((char *)p + head);
	p->side[0].sum = d;
	p->side[1].sum = d + opt.nsums;
	p->label = xstrndup(v, n);
	p->label_len = n;
	return p;
}

void part_spelling(struct part *p, const char *v, size_t n)
{
	if (n > p->label_len ||
	    (n == p->label_len && memcmp(v, p->label, n) >= 0))
		return;
	free(p->label);
	p->label = xstrndup(v, n);
	p->label_len = n;
}
