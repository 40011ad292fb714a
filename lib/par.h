/*
 * par: records prepared on N threads, applied in input order on one.
 *
 * A tool's per-record work is split in two.  prep is the record's own
 * work (line check, JSON scan, key/time/value evaluation, fingerprint):
 * it reads only the line and its worker's context and writes a
 * fixed-size result, the slot.  apply is everything that must be
 * sequential (state, watermark, first-seen order, output): it runs on
 * the calling thread, in input order, exactly once per line.  So the
 * output is the same for any number of threads, byte for byte.
 *
 * Whole lines are copied as read (lines_next_span) into chunks of about
 * 128 KiB (never spanning two files), by a reader thread from pipes and
 * compressed files, by the thread that will prep the chunk from plain
 * files (lib/par.c says why); the worker that
 * preps a chunk frames its lines with lines_frame(), so torn, too-long,
 * CRLF and blank lines and line numbers are exactly lines_next()'s, from
 * files, pipes and gzip/zstd alike.  Workers prep whole chunks;
 * the calling thread applies them in order, and preps too while the
 * chunk it waits for is not ready.  At most 2 x threads + 2 chunks are
 * in flight, so memory is bounded whatever the input.  With threads ==
 * 1, or while every chunk ends at the end of its file (an input that
 * fits one chunk), no thread is started: prep and apply run inline, with
 * the same code and the same results.
 *
 * A live pipe is not held back: when the input would block (LINES_WAIT)
 * the reader seals the chunk it holds, however short (even empty), and
 * the calling thread, once it has applied that and has nothing else to
 * prep or apply, calls ops->idle and flushes the output before it waits.
 *
 * IDEM_PAR_CHUNK=BYTES in the environment sets the chunk size, for tests
 * that want many chunks in flight (documented in idem(7)).
 */
#ifndef IDEM_PAR_H
#define IDEM_PAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct line;
struct par_chunk; /* a block of whole lines, owned by lib/par */

struct par_ops {
	size_t slot_size; /* bytes of one record's prepared result */
	/* Per worker: its own context (its own struct expr copies
	 * compiled from the same sources, scan_record, buffers), index
	 * 0..threads-1.  Called on the calling thread, before any prep;
	 * index 0 is the calling thread's own (the only one with threads
	 * == 1).  NULL: every worker's context is arg. */
	void *(*worker_new)(void *arg, int index);
	void (*worker_free)(void *wctx); /* may be NULL */
	/* Any thread, any order: the record's own work.  Writes slot;
	 * bytes it must keep past the call (messages, jq output living in
	 * the expr's scratch) go through par_keep(), valid until the
	 * chunk's apply calls are done.  Pointers into ln->p stay valid as
	 * long.  Never prints, never exits, writes no global. */
	void (*prep)(void *wctx, const struct line *ln, void *slot,
		     struct par_chunk *ch);
	/* The calling thread, in input order, exactly once per line.  May
	 * exit(): the workers touch nothing exit() tears down. */
	void (*apply)(const struct line *ln, const char *name, void *slot);
	/* May be NULL.  The calling thread, on a slot some records before
	 * its apply: start loading what apply will touch (a hash table's
	 * slot), so the in-order half rarely waits for memory.  Only when
	 * threads run (one thread prepares a record just before its
	 * apply). */
	void (*ahead)(const void *slot);
	/* The calling thread, at the end of each input (as cli_each_line's
	 * eof); may be NULL. */
	void (*eof)(void);
	/* May be NULL.  The calling thread, when the input would block
	 * (LINES_WAIT: a pipe whose writer has nothing more yet) and every
	 * line read so far has been applied, just before the output is
	 * flushed (cli_out_flush): decide what apply holds back for speed
	 * (dedup's one-record-late keep-first), so it shows now.  Never
	 * for files.  Not a commit: state is saved as without it. */
	void (*idle)(void);
	/* May be NULL.  A chunk's own work, after its lines' preps and on
	 * the thread that prepped them, while its bytes are in that core's
	 * cache (txlog append compresses and bounds a chunk there): lines
	 * [0, n), their slots (slot_size apart), and cres, the chunk's
	 * result: chunk_size bytes, zeroed once and reused chunk after
	 * chunk (chunk_free frees what it holds, at the end).  Never
	 * prints, never exits, writes no global.  chunk_apply gets cres on
	 * the calling thread, in input order, before the chunk's first
	 * apply (end false) and after its last (end true).  With
	 * chunk_prep set, -j 1 reads in chunks too: a file's chunks, and
	 * so their results, are the same for any number of threads. */
	size_t chunk_size;
	size_t chunk_bytes; /* a chunk's input bytes; 0: 128 KiB */
	/* Chunks are cut where the bytes fall (at the line that reaches
	 * chunk_bytes), never sealed early because a pipe would block (no
	 * idle, no flush): for a tool that shows
	 * nothing before its end (a txlog write), whose chunk results must
	 * not depend on a pipe's pace. */
	bool steady_chunks;
	void (*chunk_prep)(void *wctx, const struct line *lines, size_t n,
			   const unsigned char *slots, void *cres);
	void (*chunk_apply)(void *cres, int end);
	void (*chunk_free)(void *cres);
	void *arg;
	/* NULL: each file's bytes go to cli_stats.bytes_in, progress is
	 * shown and the output flushed whenever the input would block, as
	 * cli_each_line does.  Else the bytes are added here, no progress
	 * is shown and nothing flushed (nor idle called): for two
	 * par_each_line at once (reconcile's two sides, each on its own
	 * thread), which must not share cli_stats or stdout's buffer. */
	uint64_t *bytes_in;
};

/* Copy n bytes into the chunk's arena (NUL added), aligned for any type;
 * the copy lives until the chunk has been applied.  Only from prep, on
 * the chunk it got. */
const char *par_keep(struct par_chunk *ch, const void *p, size_t n);

/*
 * cli_each_line with threads: the lines of the named files (argv-style,
 * NULL-terminated; none means stdin), each prepped then applied with the
 * file's name; eof after each file.  Counts bytes_in and shows progress
 * as cli_each_line does.  Returns 0, or -1 with err set when a file
 * cannot be opened or read (what was read before a read error is
 * applied first, and eof called, as cli_each_line does).
 */
int par_each_line(char **files, size_t max_line, int threads,
		  const struct par_ops *ops, char *err, size_t errlen);
/* A tool's whole loop: par_each_line, then finish(EXIT_OK); an input
 * that cannot be read is said (cli_warn) and finish(EXIT_TROUBLE) ends
 * the run instead.  finish is the tool's: it flushes and exits. */
void par_run(char **files, size_t max_line, int threads,
	     const struct par_ops *ops, void (*finish)(int status));

/* Threads when no -j is given: the online cores, at most PAR_MAX_DEFAULT
 * (idem(7) THREADS says why). */
#define PAR_MAX_DEFAULT 8
#define PAR_MAX_THREADS 256 /* CLI_MAX_THREADS */
int par_default_threads(void);
/* The online cores (at least 1). */
int par_online_cores(void);

#endif
