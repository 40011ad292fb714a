/*
 * statefile: the container every state file uses, so that each is
 * versioned and checksummed the same way and a damaged one is refused
 * with the same clear words.
 *
 *   offset 0   "IDEMSTAT"          magic
 *          8   kind[8]             "dedup", "window", ... NUL padded
 *         16   u32 version         of the payload format, per kind
 *         20   u32 reserved (0)
 *         24   u64 payload length
 *         32   payload
 *     32+len   u64 XXH3-64 of bytes [0, 32+len)
 *
 * All integers little-endian.  Written through commit.h (atomic), read
 * streaming: the checksum is verified by state_read_end(), so a reader
 * must not act on the payload before that returns 0.
 */
#ifndef IDEM_STATEFILE_H
#define IDEM_STATEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "commit.h"

struct state_writer;
struct state_reader;

/* payload_len must be known up front (it is in the header). */
struct state_writer *state_write_begin(const char *path, const char *kind,
				       uint32_t version, uint64_t payload_len,
				       char *err, size_t errlen);
int state_write(struct state_writer *w, const void *data, size_t n,
		char *err, size_t errlen);
/* Checks the payload length, appends the checksum, commits atomically.
 * Frees w either way. */
int state_write_end(struct state_writer *w, char *err, size_t errlen);
void state_write_abort(struct state_writer *w);

/*
 * Open path.  Returns NULL with err set on error; NULL with err[0] == 0
 * when the file does not exist (a first run).  Refuses a file of another
 * kind, a version above max_version, a bad magic.
 */
struct state_reader *state_read_begin(const char *path, const char *kind,
				      uint32_t max_version, uint32_t *version,
				      uint64_t *payload_len, char *err,
				      size_t errlen);
/* Read exactly n payload bytes; -1 on a short file ("truncated"). */
int state_read(struct state_reader *r, void *data, size_t n, char *err,
	       size_t errlen);
/* Verify that the payload was read whole and the checksum matches.
 * Frees r either way. */
int state_read_end(struct state_reader *r, char *err, size_t errlen);
void state_read_abort(struct state_reader *r);

/* Little-endian helpers for payloads. */
void le64_put(unsigned char *p, uint64_t v);
uint64_t le64_get(const unsigned char *p);
void le32_put(unsigned char *p, uint32_t v);
uint32_t le32_get(const unsigned char *p);

#endif
