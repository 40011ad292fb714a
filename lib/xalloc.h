/*
 * xalloc: allocation that cannot fail.  On exhaustion the process prints
 * "PROG: out of memory" and exits 2: a tool that cannot hold its state
 * must not limp on and write half an answer.
 */
#ifndef IDEM_XALLOC_H
#define IDEM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* "PROG: out of memory (asked for n bytes)", exit 2: for a size that
 * would wrap, found before anything is allocated. */
_Noreturn void xalloc_die(size_t n);

/* realloc of count elements of size bytes; dies, as out of memory, when
 * count * size does not fit a size_t instead of wrapping to a small
 * block the caller would then overrun. */
void *xreallocarray(void *p, size_t count, size_t size);

/*
 * The grow-an-array step: room for element n of p, an array of *cap
 * elements of size bytes.  When n < *cap, p as it is; else *cap doubles
 * (from min when 0) and p is reallocated, dying as out of memory when the
 * new size would overflow.  The caller stores the result:
 *
 *	v->e = xgrow(v->e, &v->cap, v->n, sizeof *v->e, 16);
 *	v->e[v->n++] = x;
 */
void *xgrow(void *p, size_t *cap, size_t n, size_t size, size_t min);

#endif
