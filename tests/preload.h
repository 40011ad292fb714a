/*
 * preload: what the LD_PRELOAD test shims share (tests/faults/shim.c,
 * tests/powercut/rec.c): reaching the real call behind a wrapper, and
 * the folder a relative path of an *at() call is relative to.  Each
 * shim is one .so built from one .c file, so these are static.
 */
#ifndef IDEM_TESTS_PRELOAD_H
#define IDEM_TESTS_PRELOAD_H

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* The next definition of name (glibc's), found on first use. */
#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* The folder dirfd names (AT_FDCWD: the working one) into base: 0, or
 * -1 when it cannot be known. */
static inline int preload_base(int dirfd, char *base, size_t len)
{
	if (dirfd == AT_FDCWD)
		return getcwd(base, len) ? 0 : -1;
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
	ssize_t n = readlink(link, base, len - 1);
	if (n < 0)
		return -1;
	base[n] = '\0';
	return 0;
}

#endif
