/*
 * state.h: what the state-file harnesses share.  The input's first byte
 * chooses how the rest becomes a state file: bit 0 clear, as it is (the
 * container's own checks: magic, kind, version, lengths, checksum); bit
 * 0 set, as the payload of a well-formed container of the tool's kind,
 * version (byte >> 1) & 3, with a correct checksum, so the fuzzer reaches
 * the payload decoder instead of dying at the checksum.
 */
#ifndef IDEM_FUZZ_STATE_H
#define IDEM_FUZZ_STATE_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "buf.h"
#include "fuzz.h"
#include "statefile.h"

/*
 * Unwinding out of the tool's own code: the harness compiles the tool's
 * .c with cli_die defined as fuzz_die and state_read_begin*() wrapped in
 * fuzz_track(), so a refused state jumps back to the setjmp(fuzz_jmp) in
 * LLVMFuzzerTestOneInput, which then calls fuzz_release_reader().
 */
static jmp_buf fuzz_jmp;
static struct state_reader *fuzz_reader; /* open when cli_die struck */

_Noreturn static inline void fuzz_die(int code, const char *fmt, ...)
{
	(void)code;
	(void)fmt;
	longjmp(fuzz_jmp, 1);
}

/* Whichever state_read_begin*() the tool calls, the reader it opened is
 * noted, to be freed when cli_die unwinds. */
static inline struct state_reader *fuzz_track(struct state_reader *r)
{
	fuzz_reader = r;
	return r;
}

static inline void fuzz_release_reader(void)
{
	if (fuzz_reader)
		state_read_abort(fuzz_reader);
	fuzz_reader = NULL;
}

/* lib/cli's cli_state_open and cli_state_read_all die through the real
 * cli_die, out of reach of the harness's #define: the tool's calls are
 * mapped to these, which open and read the same way and unwind. */
static inline struct state_reader *
fuzz_state_open(const char *path, const char *kind, uint32_t max_version,
		struct state_gen *g, uint32_t *version, uint64_t *payload_len)
{
	char err[512];
	struct state_reader *r = fuzz_track(state_read_begin_gen(
		path, kind, max_version, g, version, payload_len, err,
		sizeof err));
	if (!r && err[0])
		fuzz_die(2, "%s", err);
	return r;
}

/* state_read_all ends the reader, whatever it returns */
static inline unsigned char *fuzz_state_read_all(struct state_reader *r,
						 uint64_t payload_len)
{
	char err[512];
	fuzz_reader = NULL;
	unsigned char *data = state_read_all(r, payload_len, err, sizeof err);
	if (!data)
		fuzz_die(2, "%s", err);
	return data;
}

static inline char *fuzz_file(const char *name)
{
	struct buf b = {0};
	buf_addf(&b, "%s/%s", fuzz_dir(), name);
	return b.p;
}

/* Write the state file for this input at path. */
static inline void fuzz_state_write(const char *path, const char *kind,
			     const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f);
	if (size == 0) {
		fclose(f);
		return;
	}
	if (!(data[0] & 1)) {
		FUZZ_CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
		FUZZ_CHECK(fclose(f) == 0);
		return;
	}
	struct buf b = {0};
	unsigned char h[32] = "IDEMSTAT";
	memcpy(h + 8, kind, strlen(kind));
	le32_put(h + 16, (uint32_t)(data[0] >> 1) & 3);
	le64_put(h + 24, size - 1);
	buf_add(&b, h, sizeof h);
	buf_add(&b, data + 1, size - 1);
	unsigned char sum[8];
	le64_put(sum, XXH3_64bits(b.p, b.len));
	buf_add(&b, sum, sizeof sum);
	FUZZ_CHECK(fwrite(b.p, 1, b.len, f) == b.len);
	FUZZ_CHECK(fclose(f) == 0);
	buf_free(&b);
}

/* The whole of a file, malloc'd. */
static inline char *fuzz_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	FUZZ_CHECK(f);
	struct buf b = {0};
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, got);
	fclose(f);
	*n = b.len;
	if (!b.p)
		return calloc(1, 1);
	return b.p;
}

#endif
