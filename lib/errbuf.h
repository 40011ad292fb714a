/*
 * errbuf: how a library function hands back its error.  The caller owns
 * a buffer (char err[N]) and passes it with its size; the function fills
 * it with one line ("path: what is wrong") and returns its error code.
 * Nothing in lib/ below cli prints or exits; cmd/ decides what to say.
 */
#ifndef IDEM_ERRBUF_H
#define IDEM_ERRBUF_H

#include <stddef.h>

/* Format into err (truncated to errlen); a NULL err or errlen 0 is
 * allowed and writes nothing, for callers that only want the code. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
