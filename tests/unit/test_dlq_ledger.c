/* dlq_ledger: the replay ledger's file, and the fingerprints it keys on. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dlq_ledger.h"
#include "statefile.h"
#include "unit.h"

static char dir[64];
static char dlq[128];
static char err[512];

TEST(no_ledger_reads_as_none)
{
	struct dlq_ledger_entry *e = NULL;
	size_t n = 99;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, NULL, NULL, NULL, NULL, NULL, err,
				  sizeof err), 0);
	CHECK(e == NULL);
	CHECK_INT(dlq_ledger_remove(dlq, err, sizeof err), 0);
}

TEST(written_entries_and_base_read_back)
{
	struct dlq_ledger_entry w[3] = {
		{.line_hash = 1, .fp = {2, 3}, .retry_count = 0},
		{.line_hash = UINT64_MAX, .fp = {5, 6}, .retry_count = 7},
		{.line_hash = 1, .fp = {8, 9}, .retry_count = 1},
	};
	CHECK_INT(dlq_ledger_write(dlq, w, 3, 42, false, NULL, err, sizeof err), 0);
	struct dlq_ledger_entry *e = NULL;
	size_t n = 0;
	uint64_t base = 0;
	bool done = true;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, &base, &done, NULL, NULL, NULL, err,
				  sizeof err),
		  1);
	CHECK_INT(n, 3);
	CHECK_INT(base, 42);
	CHECK(!done);
	CHECK(e && memcmp(e, w, sizeof w) == 0);
	free(e);
	CHECK_INT(dlq_ledger_write(dlq, w, 3, 42, true, NULL, err, sizeof err), 0);
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, &base, &done, NULL, NULL, NULL, err,
				  sizeof err),
		  1);
	CHECK(done);
	free(e);
	CHECK_INT(dlq_ledger_remove(dlq, err, sizeof err), 0);
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, &base, NULL, NULL, NULL, NULL, err,
				  sizeof err),
		  0);
}

/* The run a ledger is of reads back; none written reads as id 0. */
TEST(the_run_id_reads_back)
{
	struct dlq_ledger_entry w = {.line_hash = 1, .fp = {2, 3}};
	struct dlq_ledger_run run = {0xfeedface12345678u, true}, got;
	CHECK_INT(dlq_ledger_write(dlq, &w, 1, 1, false, &run, err,
				   sizeof err), 0);
	struct dlq_ledger_entry *e = NULL;
	size_t n = 0;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, NULL, NULL, NULL, NULL, &got,
				  err, sizeof err), 1);
	CHECK(got.id == run.id && got.fed);
	free(e);
	CHECK_INT(dlq_ledger_write(dlq, &w, 1, 1, true, NULL, err,
				   sizeof err), 0);
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, NULL, NULL, NULL, NULL, &got,
				  err, sizeof err), 1);
	CHECK(got.id == 0 && !got.fed);
	free(e);
	char hex[17];
	dlq_ledger_run_hex(run.id, hex);
	CHECK(strcmp(hex, "feedface12345678") == 0);
	CHECK(dlq_ledger_run_id() != 0);
	dlq_ledger_remove(dlq, err, sizeof err);
}

TEST(an_empty_ledger_is_a_ledger)
{
	CHECK_INT(dlq_ledger_write(dlq, NULL, 0, 0, true, NULL, err, sizeof err), 0);
	struct dlq_ledger_entry *e = NULL;
	size_t n = 9;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, NULL, NULL, NULL, NULL, NULL, err,
				  sizeof err), 1);
	CHECK_INT(n, 0);
	free(e);
	dlq_ledger_remove(dlq, err, sizeof err);
}

/* Version 1 ledgers (no base) still load: the whole file is the base. */
TEST(a_version_1_ledger_loads)
{
	char *path = dlq_ledger_path(dlq);
	struct state_writer *w = state_write_begin(path, "dlqrply", 1, 8 + 32,
						   err, sizeof err);
	unsigned char b[32];
	le64_put(b, 1);
	CHECK_INT(state_write(w, b, 8, err, sizeof err), 0);
	le64_put(b, 11);
	le64_put(b + 8, 12);
	le64_put(b + 16, 13);
	le64_put(b + 24, 2);
	CHECK_INT(state_write(w, b, 32, err, sizeof err), 0);
	CHECK_INT(state_write_end(w, err, sizeof err), 0);
	struct dlq_ledger_entry *e = NULL;
	size_t n = 0;
	uint64_t base = 0;
	bool done = false;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, &base, &done, NULL, NULL, NULL, err,
				  sizeof err),
		  1);
	CHECK_INT(n, 1);
	CHECK(base == UINT64_MAX);
	CHECK(done); /* taken as delivered, as it was then */
	CHECK(e && e[0].line_hash == 11 && e[0].fp.lo == 12 &&
	      e[0].fp.hi == 13 && e[0].retry_count == 2);
	free(e);
	free(path);
	dlq_ledger_remove(dlq, err, sizeof err);
}

/* A count that disagrees with the payload is damage, not a short read. */
TEST(a_ledger_with_a_wrong_count_is_refused)
{
	char *path = dlq_ledger_path(dlq);
	struct state_writer *w = state_write_begin(path, "dlqrply", 2, 16 + 32,
						   err, sizeof err);
	unsigned char b[32] = {0};
	le64_put(b, 5);
	CHECK_INT(state_write(w, b, 16, err, sizeof err), 0);
	CHECK_INT(state_write(w, b, 32, err, sizeof err), 0);
	CHECK_INT(state_write_end(w, err, sizeof err), 0);
	struct dlq_ledger_entry *e = NULL;
	size_t n = 0;
	CHECK_INT(dlq_ledger_read(dlq, &e, &n, NULL, NULL, NULL, NULL, NULL, err,
				  sizeof err), -1);
	CHECK(strstr(err, "damaged ledger") != NULL);
	free(path);
	dlq_ledger_remove(dlq, err, sizeof err);
}

/* A JSON record is known by its value, a raw line by its bytes. */
TEST(fingerprints_follow_the_value_not_the_spelling)
{
	struct buf s = {0};
	const enum value_keys k = VALUE_KEYS_INSTANT;
	struct fp128 a = dlq_ledger_fp("{\"a\":1,\"b\":2}", 13, true, k, &s);
	struct fp128 b = dlq_ledger_fp("{ \"b\":2.0, \"a\":1 }", 19, true, k,
				       &s);
	struct fp128 c = dlq_ledger_fp("{\"a\":1,\"b\":3}", 13, true, k, &s);
	struct fp128 r = dlq_ledger_fp("{\"a\":1,\"b\":2}", 13, false, k, &s);
	CHECK(a.lo == b.lo && a.hi == b.hi);
	CHECK(a.lo != c.lo || a.hi != c.hi);
	CHECK(a.lo != r.lo || a.hi != r.hi);
	buf_free(&s);
}

TEST(the_ledger_path_is_beside_the_file)
{
	char *p = dlq_ledger_path("q/bad.ndjson");
	CHECK_STR(p, "q/bad.ndjson.replay");
	free(p);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/idem-ledger.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	snprintf(dlq, sizeof dlq, "%s/bad.ndjson", dir);
	RUN(no_ledger_reads_as_none);
	RUN(written_entries_and_base_read_back);
	RUN(the_run_id_reads_back);
	RUN(an_empty_ledger_is_a_ledger);
	RUN(a_version_1_ledger_loads);
	RUN(a_ledger_with_a_wrong_count_is_refused);
	RUN(fingerprints_follow_the_value_not_the_spelling);
	RUN(the_ledger_path_is_beside_the_file);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
