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
 *
 * Batch generations (flag bit 0 at offset 20), for exactly-once replay.
 * A run that names its batch keeps, beside its new payload, the payload
 * it started from (its base), and the header grows:
 *
 *         32   u32 batch length L (1..STATE_BATCH_MAX)
 *         36   u32 version of the base payload
 *         40   u64 base length P (UINT64_MAX: the batch started empty)
 *         48   batch (L bytes), base (P bytes), then the payload
 *
 * The checksum still covers every byte before it.  A later run of the
 * same batch (a replay after a crash) starts from the base again, so it
 * computes exactly what the killed run did; a run of any other batch
 * starts from the newest payload.  Files without the flag still load.
 *
 * The batch's input (flag bit 2, with bit 0), so a replay on other
 * input is refused rather than computed from the base as if it were the
 * batch: after the 16 bytes above, before the batch,
 *
 *         48   u64 input length (bytes of the lines, a '\n' each)
 *         56   XXH3-128 of the lines' own XXH3-64s (8 bytes each,
 *              little-endian), low half then high, 16 bytes
 *
 * (a hash of hashes, so each line's is taken on a prep thread and only
 * 8 bytes a line are left for the in-order half)
 *
 * and the batch starts at 72.
 *
 * The batch's note (flag bit 3, with bit 2), so a replay run otherwise
 * than the batch's run (another option that decides what is kept or
 * where records go) is refused rather than computed as if it were the
 * batch: after the input,
 *
 *         72   u32 note length M (1..STATE_NOTE_MAX)
 *
 * the batch starts at 76, and the note (M bytes, the tool's own) comes
 * after the batch, before the base.  A file without the flag is from
 * before notes: a replay of its batch has no note to check against.
 *
 * A log (flag bit 1 at offset 20), for a state a tool changes a little
 * many times in one run: after the checksum come records appended in
 * place, each
 *
 *         u32 length L (1..STATE_LOG_MAX), L bytes,
 *         u64 XXH3-64 of the bytes, seeded with the XXH3-64 of the
 *             length seeded with the checksum before it (the
 *             snapshot's, then each record's)
 *
 * so a commit costs its own bytes and one fdatasync, not a rewrite of
 * the whole state.  The tool replays the records over the snapshot, and
 * writes a new snapshot (which drops them) when the log has grown past
 * it.  A record is acted on only once fdatasync returned, so the one
 * thing a crash leaves is a last record cut short or unwritten: the
 * bytes after the last whole record are dropped (the reader says how
 * many) and cut off at the next append.  A record that fails its
 * checksum with a whole record chained to it after it is damage, and
 * the reader refuses the file.
 */
#ifndef IDEM_STATEFILE_H
#define IDEM_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "commit.h"

struct state_writer;
struct state_reader;

#define STATE_BATCH_MAX 255
#define STATE_NOTE_MAX 65536

/*
 * A run's batch, for the generation a state file keeps.  Set batch
 * (NULL: none; the file is then written without generations) and pass
 * the same struct to state_read_begin_gen() and state_write_begin_gen().
 */
struct state_gen {
	const char *batch;
	bool replay; /* out: the file was written by this batch; its base
		      * was loaded (or nothing, when it started empty) */
	/* private: the payload this run started from, kept by the save */
	bool has_base;
	uint32_t base_version;
	uint64_t base_off, base_len;
	/* in: the tool's note of this run (its options), 0 to
	 * STATE_NOTE_MAX bytes, kept with the batch by the save (none when
	 * note_len is 0) */
	const void *note;
	size_t note_len;
	/* out, on a replay: the note the batch's run kept (note_known
	 * false: a file from before notes), malloc'd, freed by
	 * state_gen_free() */
	bool note_known;
	unsigned char *known_note;
	size_t known_note_len;
	/* private: the input the file's batch was run on, when it says */
	bool input_known;
	unsigned char known[24]; /* as at offset 48 */
	/* private: this run's input, fed by state_gen_input() */
	void *input; /* XXH3_state_t, NULL until the first line */
	unsigned char *pend; /* line hashes not yet fed to it */
	size_t npend;
	uint64_t input_len;
};

/* A line's hash (without its terminator), for state_gen_input(): on any
 * thread, so a tool takes it in its prep. */
struct state_line {
	uint64_t h;
};
struct state_line state_gen_line(const void *line, size_t n);
/*
 * One line of the run's input, n bytes with hash h, in the order the
 * tool acts on them, when g->batch is set: the save records the batch's
 * input, and refuses (state_write_begin_gen fails, nothing written) a
 * replay whose input is not the one the batch's state was computed
 * from.  A tool with a batch calls it for every line it reads, bad ones
 * included, up to the last it acts on.
 */
void state_gen_input(struct state_gen *g, struct state_line h, size_t n);
/* Frees what state_gen_input() and the read of a note kept. */
void state_gen_free(struct state_gen *g);

/* The batch a tool runs as, into *batch: its --batch option when given
 * ("" means none), else $IDEM_BATCH when set and not empty, else NULL.
 * -1 with err set when it is longer than STATE_BATCH_MAX. */
int state_batch(const char *option, const char **batch, char *err,
		size_t errlen);

/*
 * Lock a state for a run, keyed on the real file: every name of one
 * state takes the same lock, and every commit replaces the real file.
 * Follows path while it is a symlink (a dangling one names where the
 * state will be created), takes commit_lock() on the resolved file in
 * its real folder, and sets *use (malloc'd) to the path to read and
 * commit from then on: the target, so a symlink stays a symlink and its
 * target is what changes.  A state file with other hard links is
 * refused: an atomic rename replaces one name only, and the names would
 * part.  Returns the lock fd, -2 when another process holds it (err says
 * so with path as given), -1 on error.
 */
/* The folder part of path ("." when none, "/" at the root); malloc'd. */
char *state_path_dir(const char *path);

/* This kernel's boot id into out ("" when it cannot be read): a free
 * flock says its holder is dead only on the kernel that held it, so a
 * run's leftovers marked with another boot's id (a folder on a file
 * system shared by hosts) are never taken for a dead run's. */
void state_boot_id(char out[64]);

int state_lock(const char *path, char **use, char *err, size_t errlen);

/* payload_len must be known up front (it is in the header). */
struct state_writer *state_write_begin(const char *path, const char *kind,
				       uint32_t version, uint64_t payload_len,
				       char *err, size_t errlen);
/* With g->batch set, also writes the batch, its input, and the base
 * that state_read_begin_gen() found (from the file still at path);
 * refuses a replay whose input is not the batch's. */
struct state_writer *state_write_begin_gen(const char *path,
					   const char *kind, uint32_t version,
					   uint64_t payload_len,
					   struct state_gen *g, char *err,
					   size_t errlen);
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
/* The same, choosing the generation for g->batch (see above) and
 * noting in g where it lies; a replay of a batch that started empty
 * returns NULL with err[0] == 0, as a first run does.  g->batch NULL:
 * the newest payload, as state_read_begin() reads it. */
struct state_reader *state_read_begin_gen(const char *path,
					  const char *kind,
					  uint32_t max_version,
					  struct state_gen *g,
					  uint32_t *version,
					  uint64_t *payload_len, char *err,
					  size_t errlen);
/* Read exactly n payload bytes; -1 on a short file ("truncated"). */
int state_read(struct state_reader *r, void *data, size_t n, char *err,
	       size_t errlen);
/* Verify that the payload was read whole and the checksum matches.
 * Frees r either way. */
int state_read_end(struct state_reader *r, char *err, size_t errlen);
void state_read_abort(struct state_reader *r);

/* The whole payload of r (payload_len bytes, as state_read_begin()
 * said), its checksum verified; frees r either way.  malloc'd (room for
 * one more byte), or NULL with err set. */
unsigned char *state_read_all(struct state_reader *r, uint64_t payload_len,
			      char *err, size_t errlen);

#define STATE_LOG_MAX (1u << 30)

/* Where a state's log stands: at == 0 when the file has no log to
 * append to (a first run, or an older file: write a snapshot). */
struct state_log {
	int fd;            /* open for appending; -1: opened at first use */
	uint64_t at;       /* where the next record goes (0: no log) */
	uint64_t sum;      /* the checksum the next record is seeded with */
	uint64_t bytes;    /* log bytes after the snapshot */
	uint64_t snapshot; /* the snapshot's payload bytes */
	uint64_t dropped;  /* bytes after the last whole record (cut off) */
};

/* state_write_begin() for a state that will take a log. */
struct state_writer *state_write_begin_log(const char *path,
					   const char *kind, uint32_t version,
					   uint64_t payload_len, char *err,
					   size_t errlen);
/* state_write_end(), and lg then stands at the new snapshot's end (its
 * earlier fd closed). */
int state_write_end_log(struct state_writer *w, struct state_log *lg,
			char *err, size_t errlen);
/* state_read_all(), and for a state with a log its records too: into
 * log, each as its u32 length then its bytes, in order; lg says where
 * the next one goes.  A file without a log gives an empty one and lg
 * with at == 0.  Frees r either way. */
unsigned char *state_read_all_log(struct state_reader *r,
				  uint64_t payload_len, struct buf *log,
				  struct state_log *lg, char *err,
				  size_t errlen);
/* Append one record to the log of the state at path and fdatasync it.
 * lg->at must be set (a snapshot with a log was read or written). */
int state_log_append(struct state_log *lg, const char *path,
		     const void *rec, size_t n, char *err, size_t errlen);
void state_log_close(struct state_log *lg);

/*
 * The payload codec every state file uses (dedup, window, checkpoint,
 * the dlq ledger): little-endian u32 and u64; a string as its u64 length
 * then its bytes; raw bytes whose length came before them.  Puts append
 * to a buf.  Gets read at *p and never past end: -1 when the payload
 * runs out (a damaged or truncated state), *p then left where it was.
 * Strings and raw bytes come back as malloc'd copies with a NUL after.
 */
void state_put_u32(struct buf *b, uint32_t v);
void state_put_u64(struct buf *b, uint64_t v);
void state_put_str(struct buf *b, const void *s, size_t n);
int state_get_u32(const unsigned char **p, const unsigned char *end,
		  uint32_t *v);
int state_get_u64(const unsigned char **p, const unsigned char *end,
		  uint64_t *v);
int state_get_str(const unsigned char **p, const unsigned char *end,
		  char **out, size_t *n);
int state_get_raw(const unsigned char **p, const unsigned char *end,
		  size_t n, char **out);

/* The codec's integers on a fixed buffer. */
void le64_put(unsigned char *p, uint64_t v);
uint64_t le64_get(const unsigned char *p);
void le32_put(unsigned char *p, uint32_t v);
uint32_t le32_get(const unsigned char *p);

#endif
