/*
 * unit: the smallest test harness that tells you what failed.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(got, "want"); }
 *   int main(void) { RUN(name); return unit_done(); }
 *
 * Each failed check prints file:line and the expression; unit_done()
 * prints "unit NAME: N passed, N failed" and returns non-zero on failure.
 */
#ifndef IDEM_UNIT_H
#define IDEM_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* atomic: a test may CHECK from a thread it started (test_par feeds a
 * pipe from one), and a lost count would pass unseen */
static _Atomic int unit_checks, unit_failed;
static int unit_test_failed;
static const char *unit_current;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                      \
	do {                                                           \
		unit_current = #name;                                  \
		unit_test_failed = 0;                                  \
		test_##name();                                         \
	} while (0)

#define CHECK(cond)                                                    \
	do {                                                           \
		unit_checks++;                                         \
		if (!(cond)) {                                         \
			unit_failed++;                                 \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", \
				__FILE__, __LINE__, unit_current, #cond); \
		}                                                      \
	} while (0)

#define CHECK_STR(got, want)                                           \
	do {                                                           \
		const char *g_ = (got), *w_ = (want);                  \
		unit_checks++;                                         \
		if (g_ == NULL || strcmp(g_, w_) != 0) {               \
			unit_failed++;                                 \
			fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, unit_current,      \
				g_ ? g_ : "(null)", w_);               \
		}                                                      \
	} while (0)

#define CHECK_INT(got, want)                                           \
	do {                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		unit_checks++;                                         \
		if (g_ != w_) {                                        \
			unit_failed++;                                 \
			fprintf(stderr, "%s:%d: %s: %s = %lld, want %lld\n", \
				__FILE__, __LINE__, unit_current, #got, g_, w_); \
		}                                                      \
	} while (0)

/* splitmix64: the next of a seeded sequence, the same on every run, for
 * the property tests' random inputs. */
static inline uint64_t unit_splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline int unit_done_named(const char *file)
{
	const char *base = strrchr(file, '/');
	printf("unit %s: %d passed, %d failed\n", base ? base + 1 : file,
	       unit_checks - unit_failed, unit_failed);
	return unit_failed != 0;
}
#define unit_done() unit_done_named(__FILE__)

#endif
