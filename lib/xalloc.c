#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

_Noreturn void xalloc_die(size_t n)
{
	/* No stdio buffering games: the heap may be what failed. */
	fprintf(stderr, "%s: out of memory (asked for %zu bytes)\n",
		cli_prog ? cli_prog : "idem", n);
	_exit(EXIT_TROUBLE);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		xalloc_die(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		xalloc_die(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		xalloc_die(n);
	return q;
}

void *xreallocarray(void *p, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		xalloc_die(SIZE_MAX);
	return xrealloc(p, count * size);
}

void *xgrow(void *p, size_t *cap, size_t n, size_t size, size_t min)
{
	if (n < *cap)
		return p;
	size_t c = *cap ? *cap : (min ? min : 1);
	while (c <= n) {
		if (c > SIZE_MAX / 2)
			xalloc_die(SIZE_MAX);
		c *= 2;
	}
	p = xreallocarray(p, c, size);
	*cap = c;
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	if (n) /* s may be NULL when n is 0 (an absent key's empty text) */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
