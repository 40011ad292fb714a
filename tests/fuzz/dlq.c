/*
 * fuzz dlq: dead-letter envelopes as dlq stats, replay and purge read
 * them.  The input is a DLQ file, one envelope a line, read by
 * lib/dlq.c (dlq_envelope_parse).  cmd/dlq/main.c and cmd/dlq/admin.c
 * (the per-line steps of stats, replay and purge) are compiled into this
 * harness, their mains left unused.  What must hold: every replayable line that replay collects
 * is removed by the commit rewrite (drop_line), once; parking keeps
 * each line an envelope, now not replayable; a purge with a cut-off
 * past every time drops every envelope (each has a readable failed_at)
 * or stops at the first line that is not one.
 */
#include "fuzz.h"

#define main dlq_main
int dlq_main(int argc, char **argv);
#include "../../cmd/dlq/main.c"
#include "../../cmd/dlq/admin.c"
#undef main

/* The verbs this harness does not reach. */
int dlq_check_main(const struct cli_verb *v, int argc, char **argv)
{
	(void)v;
	(void)argc;
	(void)argv;
	return 2;
}

int dlq_retry_main(const struct cli_verb *v, int argc, char **argv)
{
	(void)v;
	(void)argc;
	(void)argv;
	return 2;
}

/* Lines of data[0..size), as lines.h gives them (no '\n'). */
struct fuzz_line {
	const char *p;
	size_t n;
};

static size_t split_lines(const char *p, size_t n, struct fuzz_line **out)
{
	size_t count = 0, cap = 0, i = 0;
	*out = NULL;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - p) : n;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[count++] = (struct fuzz_line){p + i, e - i};
		i = e + 1;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_line *ln;
	size_t n = split_lines((const char *)data, size, &ln);
	struct scan_record rec = {0};
	struct pending p = {.max_retries = 3};
	struct tally all = {.oldest = INT64_MIN, .newest = INT64_MIN};
	uint64_t envelopes = 0, timed = 0;
	for (size_t k = 0; k < n; k++) {
		struct dlq_envelope e;
		if (dlq_envelope_parse(&rec, ln[k].p, ln[k].n, &e) != 0)
			continue; /* stats and replay refuse the file here */
		envelopes++;
		FUZZ_CHECK(e.orig >= ln[k].p && e.orig_len > 0 &&
			   e.orig + e.orig_len <= ln[k].p + ln[k].n);
		if (e.error_type) {
			FUZZ_CHECK(e.error_type_len >= 2 &&
				   e.error_type[0] == '"');
			char *type = xstrndup(e.error_type + 1,
					      e.error_type_len - 2);
			free(type);
		}
		if (e.failed_at != INT64_MIN) {
			char a[TIME_STRMAX];
			time_format(e.failed_at, a);
			timed += e.failed_at < INT64_MAX;
		}
		tally_add(&all, &e);
		if (!e.replayable)
			continue;
		if (p.n == p.cap) {
			p.cap = p.cap ? p.cap * 2 : 64;
			p.e = xrealloc(p.e, p.cap * sizeof *p.e);
		}
		p.e[p.n].line_hash = dlq_line_hash(ln[k].p, ln[k].n);
		p.e[p.n].fp = add_original(&p.out, &e, VALUE_KEYS_INSTANT,
					     &p.scratch);
		p.e[p.n].retry_count = e.retry_count;
		p.n++;
		buf_addc(&p.out, '\n');
	}
	FUZZ_CHECK(all.entries == envelopes);
	FUZZ_CHECK(all.replayable == p.n);

	/* replay --commit: the collected lines go, each exactly once (the
	 * tool commits nothing when nothing was collected) */
	struct buf kept = {0};
	if (p.n) {
		qsort(p.e, p.n, sizeof *p.e, hash_cmp);
		for (size_t k = 0; k < n; k++)
			drop_line(&p, k + 1, ln[k].p, ln[k].n, &kept);
	}
	size_t dropped = 0;
	for (size_t k = 0; k < p.n; k++)
		dropped += p.e[k].retry_count == UINT64_MAX;
	FUZZ_CHECK(dropped == p.n);
	buf_free(&kept);

	/* parking: a parked line is still an envelope, now parked */
	struct buf parked = {0};
	for (size_t k = 0; k < n; k++) {
		size_t at = parked.len;
		uint64_t before = p.parked;
		park_line(&p, k + 1, ln[k].p, ln[k].n, &parked);
		FUZZ_CHECK(parked.len > at && parked.p[parked.len - 1] == '\n');
		if (p.parked != before) {
			struct dlq_envelope e;
			FUZZ_CHECK(dlq_envelope_parse(&rec, parked.p + at,
						      parked.len - at - 1,
						      &e) == 0);
			FUZZ_CHECK(!e.replayable);
		}
	}
	buf_free(&parked);

	/* purge with a cut-off after every time: it drops exactly the
	 * envelopes, or stops at the first line that is not one (blank lines
	 * are skipped before, as dlq_rewrite does) */
	struct purge pg = {.before = INT64_MAX};
	struct buf left = {0};
	bool whole = true;
	for (size_t k = 0; k < n && whole; k++) {
		if (!ln[k].n)
			continue;
		whole = purge_line(&pg, k + 1, ln[k].p, ln[k].n, &left);
		FUZZ_CHECK(whole || pg.bad_line == k + 1);
	}
	FUZZ_CHECK(!whole || pg.dropped == timed);
	buf_free(&left);

	free(p.e);
	buf_free(&p.out);
	buf_free(&p.scratch);
	scan_record_free(&rec);
	free(ln);
	return 0;
}
