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

#endif
