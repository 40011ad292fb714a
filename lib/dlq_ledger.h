/*
 * dlq_ledger: what lets a dead-letter file be replayed and rewritten
 * while other processes keep appending to it.
 *
 * The rewrite protocol.  Writers append one envelope per write(2) on an
 * O_APPEND descriptor, holding a shared flock(2) on the file itself and
 * checking, under that lock, that their descriptor is still the file at
 * PATH (reopening when not).  A rewriter (replay commit, purge) takes the
 * exclusive flock on the file at PATH, checks the same, reads it whole,
 * writes the new content through commit.h (temp file, fsync, rename,
 * fsync the folder) and only then lets go.  So an append either lands
 * before the rewriter read the file (and is carried over) or after the
 * rename (into the new file): none is lost to the unlinked old inode.
 *
 * The replay ledger, PATH.replay (a statefile of kind "dlqrply"), lists
 * the entries a replay has handed out: the XXH3-64 of each envelope line
 * (so a commit removes exactly those lines, wherever a rewrite moved
 * them; dlq purge waits for the commit, since the rollback below counts
 * lines) and the fingerprint and retry_count of its record.  While it
 * exists, dlq_put() (dlq.h) gives a record found in it retry_count + 1,
 * so a record that fails again comes back counted, its bytes untouched.
 *
 * A replay to standard output writes the ledger undelivered and, once
 * its output is flushed and closed without error (and taken from a pipe
 * by its reader: feed_out_taken), again delivered: `dlq replay
 * --commit` takes only a delivered one.
 *
 * A replay that does not commit (its command failed, or it was killed)
 * is rolled back by the next replay (dlq replay's settle_ledger()): the entries its command
 * dead-lettered again (after the ledger's base line, with the fingerprint
 * of a ledger entry and its retry_count + 1) go, since their originals
 * are still there.  A replay killed after its commit's rename but before
 * the ledger went is told apart by its originals being gone: then only
 * the ledger goes.
 *
 * Whose letters.  Another writer may letter the same record while the
 * replay runs; the rollback must not take its letter for the command's.
 * So a ledger carries a run id, and every letter dlq_put() writes of a
 * ledger record says it ("replay_id"); the rollback takes only letters
 * with its own.  A replay to a command hands the id to it (and its
 * children) in DLQ_REPLAY_ENV: a writer without it is not that command,
 * and does not mark (its letter still counts the retry).  A replay to
 * standard output cannot tell its reader from anyone (the reader is no
 * child of it): every writer marks, as the reader would.  A ledger from
 * before version 6 has no id: its rollback matches by fingerprint alone.
 */
#ifndef IDEM_DLQ_LEDGER_H
#define IDEM_DLQ_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"

/* The environment variable a replay's command finds its run id in. */
#define DLQ_REPLAY_ENV "IDEM_DLQ_REPLAY"

/* Who a ledger's re-letters are from (see "Whose letters" above). */
struct dlq_ledger_run {
	uint64_t id; /* random, not 0; 0: none (a ledger before version 6) */
	bool fed;    /* handed to a command, which alone has the id */
};

/* A new run id: random, never 0. */
uint64_t dlq_ledger_run_id(void);
/* id as the 16 lowercase hex digits a letter and DLQ_REPLAY_ENV carry. */
void dlq_ledger_run_hex(uint64_t id, char out[17]);

struct dlq_ledger_entry {
	uint64_t line_hash;   /* XXH3-64 of the envelope line */
	struct fp128 fp;      /* dlq_ledger_fp() of the original record */
	uint64_t retry_count; /* of the envelope */
};

/* "PATH.replay", malloc'd. */
char *dlq_ledger_path(const char *dlq_path);

/* The fingerprint a record is known by: its canonical value when it is
 * JSON (so spelling does not matter), else its raw bytes.  keys: the
 * form the ledger's fingerprints are of (dlq_ledger_read() says;
 * VALUE_KEYS_INSTANT for a new one). */
struct fp128 dlq_ledger_fp(const char *rec, size_t len, bool is_json,
			   enum value_keys keys, struct buf *scratch);

uint64_t dlq_line_hash(const char *line, size_t len);

/* base_lines: the lines FILE held when the replay read it.  delivered:
 * the entries' originals all reached their reader (a replay to standard
 * output writes the ledger undelivered, then again delivered once its
 * output is flushed and closed; only then may `--commit` take them). */
int dlq_ledger_write(const char *dlq_path, const struct dlq_ledger_entry *e,
		     size_t n, uint64_t base_lines, bool delivered,
		     const struct dlq_ledger_run *run, char *err,
		     size_t errlen);
/* 1 and *e (malloc'd) when there is a ledger, 0 when none, -1 error.
 * base_lines, delivered, keys, orphan and run may be NULL (a ledger of an
 * older format reads as delivered, as it was taken then, and before
 * version 4 with fingerprints of the text form).  *orphan: the ledger
 * was written for another file than the one now at dlq_path (it was
 * removed or replaced since the replay, or a commit's rename was
 * not followed by the ledger's removal); a ledger from before version 5
 * does not say, and is taken as this file's. */
int dlq_ledger_read(const char *dlq_path, struct dlq_ledger_entry **e,
		    size_t *n, uint64_t *base_lines, bool *delivered,
		    enum value_keys *keys, bool *orphan,
		    struct dlq_ledger_run *run, char *err, size_t errlen);

int dlq_ledger_remove(const char *dlq_path, char *err, size_t errlen);

/*
 * Rewrite the DLQ file by the protocol above.  fn sees each line (without
 * its newline, LF or CRLF, as lines_next() reads it; lineno counts from
 * 1, blank lines too: empty or only spaces, tabs and CRs, which
 * lines_next() skips; they go, unseen by fn) and appends what
 * replaces it to out, newline included (nothing: the line goes), or
 * returns false to abandon the rewrite: then the file stays as it was and
 * the result is 1 (fn's ctx says why).  A missing file is an empty one.
 * An unterminated last line is torn (see dlq_cut_torn) and dropped, unless
 * whole (then it is a line); *cut
 * (may be NULL) gets its length.  0, 1, or -1 with err.
 */
int dlq_rewrite(const char *dlq_path,
		bool (*fn)(void *ctx, uint64_t lineno, const char *line,
			   size_t len, struct buf *out),
		void *ctx, uint64_t *cut, char *err, size_t errlen);

/*
 * Torn tails, of a DLQ file or any append-only file idem writes (--late).
 * Every writer ends its one write(2) with a newline, but a
 * fatal signal between two pages cuts a write short, O_APPEND or not, so
 * a killed writer can leave an unterminated last line.  Under the
 * exclusive lock no write is in flight, so such a line is torn: cut it
 * (the killed run had not finished; run again, it writes the letter
 * whole).  A tail that is a whole JSON object or array was written
 * without its newline, not cut: it gets its newline instead.  The number
 * of bytes cut (0: none, or not a regular file), or -1 with err.
 */
int64_t dlq_cut_torn(const char *dlq_path, char *err, size_t errlen);
/* fd (readable) is a regular file whose last byte is not a newline. */
bool dlq_tail_torn(int fd);

/* Take the shared append lock on fd, reopening path when fd is no longer
 * the file there.  Returns the (possibly new) fd, or -1 with errno. */
int dlq_append_lock(int fd, const char *path);

#endif
