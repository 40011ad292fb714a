/*
 * batchnote: the options a batch's run was run with, kept with the
 * batch in its state file (lib/statefile's note), so that a replay of
 * the batch run otherwise is refused rather than computed as if it were
 * the batch: a replay writes again what the batch's run wrote, for a
 * sink that may not have taken it, and another option would write
 * another answer.
 *
 * A note is a list of options, each three strings: its name, its value
 * as compared (by meaning: a duration in nanoseconds, a --dlq by its
 * real path from the state's folder) and as shown.  A tool adds its
 * options in the order a mismatch is told; batchnote_check compares a
 * replay's note with the batch's run's, refuses (exit 2, naming the
 * option and both values) at the first that differs, says on standard
 * error which options a state from before notes cannot check, and
 * hands the run's note on to the save, so a later replay is told that
 * run's values, not this one's spelling of them.
 */
#ifndef IDEM_BATCHNOTE_H
#define IDEM_BATCHNOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct state_gen;

struct batchnote {
	struct buf b;           /* the note, as the state keeps it */
	const char *state_path; /* the state file (its real path) */
};

/* Add an option: its name, its value as compared, and as shown. */
void batchnote_add(struct batchnote *n, const char *name, const char *canon,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Add a file option name (--dlq, --late; path NULL: none).  A regular
 * file (or none yet) is noted by its real path from the state's folder,
 * so a state and its side files moved together note one file; a pipe, a
 * terminal or a device as a stream, whatever its name (>(gzip) is
 * /dev/fd/63 in every run), to which a replay writes anew. */
void batchnote_add_file(struct batchnote *n, const char *name,
			const char *path);
/* Add the shard a run takes (--shard i/of, or --partition i/of when
 * whole; of 0: none). */
void batchnote_add_shard(struct batchnote *n, bool whole, uint32_t i,
			 uint32_t of);
/* Add --max-line by its bytes (1K is 1024), said as the user gave it
 * (arg; NULL: the default). */
void batchnote_add_max_line(struct batchnote *n, size_t max_line,
			    const char *arg);

/* Options a replay is not held to (skip returns true), with ctx; in
 * the list of those a note-less state cannot check (listing), also
 * those the state checks otherwise. */
typedef bool batchnote_skip_fn(const char *name, bool listing, void *ctx);

/*
 * A replay (g->replay): refuse it when an option differs from the
 * batch's run's note (g->known_note), but those skip names; when the
 * run kept no note (g->note_known false), warn which options are not
 * checked.  A run's note that names an option this program does not
 * know is refused too.  Then g->note is the run's note, for the save
 * to keep (left as it was when the run kept none).
 */
void batchnote_check(struct batchnote *n, struct state_gen *g,
		     batchnote_skip_fn *skip, void *ctx);

void batchnote_free(struct batchnote *n);

#endif
