/*
 * fuzz: what every harness in tests/fuzz/ shares.  A harness is one
 * LLVMFuzzerTestOneInput(); clang's libFuzzer drives it (run.sh), and
 * replay.c drives it over the seed corpus with any compiler (make test).
 * A failed FUZZ_CHECK aborts: libFuzzer records the input as a crash.
 */
#ifndef IDEM_FUZZ_H
#define IDEM_FUZZ_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #cond);               \
			abort();                                          \
		}                                                         \
	} while (0)

/* data[0..n) as a NUL-terminated string (malloc'd); a NUL inside ends it
 * early, as it would for a command-line argument. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	if (n)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* Split data at its first NUL: the part before in *a, after in *b.
 * Returns 0 when there is no NUL (then *a is all of it). */
static inline int fuzz_split(const uint8_t *data, size_t n, const char **a,
			     size_t *an, const char **b, size_t *bn)
{
	const uint8_t *z = n ? memchr(data, 0, n) : NULL;
	*a = (const char *)data;
	if (!z) {
		*an = n;
		*b = NULL;
		*bn = 0;
		return 0;
	}
	*an = (size_t)(z - data);
	*b = (const char *)z + 1;
	*bn = n - *an - 1;
	return 1;
}

static char fuzz_tmp[64];

/* Remove path and what is under it (the scratch folder is ours). */
static inline void fuzz_rm(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t n = strlen(path) + strlen(e->d_name) + 2;
		char *sub = malloc(n);
		if (!sub)
			abort();
		snprintf(sub, n, "%s/%s", path, e->d_name);
		fuzz_rm(sub);
		free(sub);
	}
	closedir(d);
	rmdir(path);
}

static inline void fuzz_rm_tmp(void)
{
	if (fuzz_tmp[0])
		fuzz_rm(fuzz_tmp);
}

/* A private scratch folder, on tmpfs when there is one (state and log
 * writes fsync), removed at exit. */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_tmp[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
								: "/tmp";
		snprintf(fuzz_tmp, sizeof fuzz_tmp, "%s/idem-fuzz-XXXXXX", base);
		FUZZ_CHECK(mkdtemp(fuzz_tmp));
		atexit(fuzz_rm_tmp);
	}
	return fuzz_tmp;
}

/* PROGRAM NUL JSON, or the whole input a program run on doc: the
 * program as a string (malloc'd), the JSON in *js. */
static inline char *fuzz_program(const uint8_t *data, size_t n,
				 const char *doc, const char **js, size_t *jn)
{
	const char *ps;
	size_t pn;
	if (!fuzz_split(data, n, &ps, &pn, js, jn)) {
		*js = doc;
		*jn = strlen(doc);
	}
	return fuzz_cstr((const uint8_t *)ps, pn);
}

#endif
