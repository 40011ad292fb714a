/*
 * cli: what every tool's main() shares -- the program name in messages,
 * exit codes, the output stream, --stats, --shard, sizes, progress.
 * This is the one module of libidem that prints and exits.
 */
#ifndef IDEM_CLI_H
#define IDEM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"

#define EXIT_OK 0
#define EXIT_FINDING 1  /* the tool's documented finding */
#define EXIT_TROUBLE 2  /* usage, I/O, bad input without --dlq */
#define EXIT_TEMPFAIL 75 /* a conflict or held lock: try again later */

#ifndef IDEM_VERSION
#define IDEM_VERSION "0.0.0"
#endif

extern const char *cli_prog;

/* Call first in main(): fill a closed descriptor 0-2 (see cli.c) so no
 * file opened later takes its number; set the program name, restore
 * SIGPIPE's default, start the clock. */
void cli_init(const char *prog);

void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* exit(code); a failure (code not 0) ends holding what it holds, and a
 * sanitized build does not report that memory as leaked (see cli.c). */
_Noreturn void cli_exit(int code);
_Noreturn void cli_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "PROG: msg" and "Try 'PROG --help'." (after cli_verb_pick picked a
 * named verb: "Try 'PROG VERB --help'."), exit 2. */
_Noreturn void cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void cli_version(void);

/* Parsers for option values; they die with a usage error when bad. */
struct expr;
struct expr *cli_expr(const char *opt, const char *src); /* -k, -t ... */
/* A worker thread's own copy of e (lib/par), compiled again from its
 * source so it has its own libjq state and scratch; NULL for NULL. */
struct expr *cli_expr_copy(const struct expr *e);
/* A prep thread's own state (lib/par's worker_new): a jq program keeps
 * state while it runs, and each record writes the scan record and the
 * scratch buffer (a canonical key, a message), so no two threads may
 * share them.  Worker 0 runs the tool's own expressions, the others
 * copies that cli_worker_free frees.  A tool's worker struct starts
 * with one, so the pointer to it is the pointer to the tool's. */
struct cli_worker {
	int index;
	struct expr **own; /* the copies made for this worker */
	size_t nown, cap;
	struct scan_record rec;
	struct buf scratch;
};
/* A zeroed worker of size bytes (a struct whose first member is a
 * struct cli_worker) for lib/par's worker index. */
void *cli_worker_new(size_t size, int index);
/* The expression worker w runs for e: e itself on worker 0 (and NULL
 * for NULL), else a copy w owns. */
struct expr *cli_worker_expr(struct cli_worker *w, struct expr *e);
/* Free what cli_worker_new made and w's copies: lib/par's worker_free
 * for a tool with nothing else of its own to free. */
void cli_worker_free(void *w);
uint64_t cli_size(const char *opt, const char *s);   /* 64K, 10M, 1G */
int64_t cli_duration(const char *opt, const char *s);
uint64_t cli_count(const char *opt, const char *s);
/* The options every record tool shares: --max-line SIZE (positive),
 * --time-unit s|ms|us|ns. */
size_t cli_max_line(const char *s);
enum time_unit cli_time_unit(const char *s);

/*
 * Before a tool holds many files open at once on threads (a partitioned
 * write: a file a partition): raise the soft limit on open files to the
 * hard one (Debian's default soft limit of 1024 refused a write to more
 * partitions), and grow the descriptor table to `table` slots now, while
 * the process has one thread.  With threads, each doubling of the table
 * waits for an RCU grace period: 1000 partitions took 52 ms at -j 2
 * against 26 ms at -j 1.  Best effort: where a limit cannot move, the
 * open that meets it says so.
 */
void cli_many_files(unsigned table);

/* -j/--threads N: N >= 1, or 0 for every online core; at most
 * CLI_MAX_THREADS (PAR_MAX_THREADS).  Without -j a tool runs
 * par_default_threads(). */
#define CLI_MAX_THREADS 256
int cli_threads(const char *arg);

/* --shard I/N.  A key belongs to shard fp.hi % n. */
struct cli_shard {
	uint32_t i, n; /* n == 0: no sharding */
	bool whole;    /* --partition: the input holds only shard i's keys */
	const char *why; /* NULL, or what else a key of another partition
			  * may mean, for cli_shard_take's message */
};
void cli_shard_parse(struct cli_shard *s, const char *arg);
static inline bool cli_shard_mine(const struct cli_shard *s, struct fp128 fp)
{
	return s->n == 0 || fp.hi % s->n == s->i;
}
/*
 * --partition I/N: the input is partition I of N as partition(1) wrote
 * it, so the shard reads only its own keys.  A key of another shard is
 * then no record to skip but a sign of a mixed-up input (a partition of
 * another N or another key): cli_shard_take() ends the run, "PROG:
 * FILE:LINE: key of partition J, not I of N (--partition): ...", exit 2.
 * A record without a key is this shard's to report: the partitioner
 * sent it here, and no other shard sees it.
 */
void cli_partition_parse(struct cli_shard *s, const char *arg);
static inline bool cli_shard_keyless(const struct cli_shard *s)
{
	return s->n == 0 || s->i == 0 || s->whole;
}
/* cli_shard_mine(), ending the run as above under --partition: the
 * message, then stop(EXIT_TROUBLE), the tool's own finish (it must not
 * return), so what the run wrote before is flushed and vouched for as
 * after a bad record; NULL: exit(EXIT_TROUBLE) at once. */
bool cli_shard_take(const struct cli_shard *s, struct fp128 fp,
		    const char *name, uint64_t lineno,
		    void (*stop)(int status));
/*
 * A state of a shard holds that shard's keys only: another shard, or a
 * run of every key, would take the other keys for new.  So a state's
 * description (of the options it was made with) ends with the shard,
 * " shard=I/N", added by cli_shard_describe (nothing without --shard).
 * cli_shard_desc_check compares a state's desc with the run's want,
 * base being want's length before that ending.  On a mismatch it
 * returns false: when only the shards differ, why says so, naming both
 * ("a state of shard 0/2, not of every key (no --shard)"); when the rest
 * differs, why is "" for the caller's own message.  It does not exit, so
 * a loader under test can be given any state.  old: a state from before
 * states said their shard, which any run may take (the caller checks its
 * keys).
 */
void cli_shard_describe(struct buf *b, const struct cli_shard *s);
/*
 * Arithmetic and math in every jq program became exact decimal
 * (idem(7)): a state whose programs compute (expr_text_has_arith) says
 * so in its desc, by CLI_EXACT_MARK at the end of its base, added by
 * cli_exact_describe when any is true.  cli_pre_exact_state: whether
 * desc is want without that mark, a state written when those programs
 * computed in binary floating point; the caller says so and goes on,
 * its next save marked.
 */
#define CLI_EXACT_MARK " arith=exact"
void cli_exact_describe(struct buf *b, bool any);
/* A program that reads local time (localtime, strflocaltime) gives one
 * record another key under another zone: a state whose programs do says
 * the zone, " tz=ZONE" (tz_local_name), added by cli_zone_describe when
 * any is true, before the exact mark, so that a run under another zone
 * is refused the state as a run of other options is. */
void cli_zone_describe(struct buf *b, bool any);
bool cli_pre_exact_state(const char *path, const char *desc,
			 const char *want, size_t base, bool old,
			 const char *what);
bool cli_shard_desc_check(const char *path, const char *desc,
			  const char *want, size_t base, bool old,
			  const char *what, char *why, size_t whylen);

/* Buffered stdout.  An EPIPE ends the process quietly (as SIGPIPE
 * would); any other write error dies with "PROG: stdout: reason". */
void cli_out(const void *data, size_t n);
void cli_out_line(const void *data, size_t n); /* data and '\n' */
/* Flush to the kernel, and fsync when stdout is a regular file, so state
 * committed after this never runs ahead of the output. */
void cli_out_commit(void);
/*
 * cli_out_commit() before a state commit that vouches for the records
 * gone to stdout: when stdout is a pipe, wait until its reader took
 * every byte; a reader that left bytes unread (`| head -c 10` over a
 * batch that fits in the pipe) ends the run as SIGPIPE would have,
 * before the commit.
 */
void cli_out_delivered(void);
/* Hand what stdout and the open side outputs (cli_side) buffer to the
 * kernel: no fsync, no commit.  The input loops (cli_each_line,
 * par_each_line) call it when the input would block (LINES_WAIT), so a
 * live pipe's records come out as they come in.  The calling thread
 * only. */
void cli_out_flush(void);
/* Flush and check at exit (close errors count). */
void cli_out_close(void);
/* The reader of stdout has gone (EPIPE from a write made elsewhere, as
 * sendfile): end as a closed pipe ends every tool, by SIGPIPE, or exit
 * 2 without a word when it is blocked or ignored. */
_Noreturn void cli_out_gone(void);

struct cli_stats {
	uint64_t records_in, records_out, duplicates, late, dead_lettered;
	uint64_t bytes_in, bytes_out;
};
extern struct cli_stats cli_stats;
/* One JSON line on stderr: {"tool":...,"records_in":...,"seconds":...}
 * plus extra members (already formatted as `,"k":v...`, may be NULL).
 * Printed at a stop too (a bad record, exit 2), it counts what was read
 * up to there -- the input being read included, as far as it was read
 * (cli_stats_reading) -- and as dead-lettered only the letters written,
 * not those cli_letters_hold() kept back and the stop drops. */
void cli_stats_print(const char *extra);
/* The input loops: the input now being read (in, asked at print time,
 * or its bytes read so far), not yet added to bytes_in; NULL and 0 once
 * it is. */
struct lines;
void cli_stats_reading(const struct lines *in, uint64_t bytes);

/*
 * The rule every tool keeps: a record that goes neither to stdout nor to
 * a file the user named is counted, and said at the end, once, with the
 * option that would keep it: "PROG: 3 records dropped: too late (--late
 * FILE keeps them)".  WHAT says why; nothing is printed when n is 0.
 */
void cli_dropped(uint64_t n, const char *what, const char *keep);

struct line;
struct dlq;
struct scan_record;

/*
 * The check every record gets first, in one wording for every tool: a
 * torn line, a line longer than the limit, invalid JSON and, when
 * want_object, a value that is not an object.  NULL for a good line
 * (rec holds its scan); else the error type ("torn_line",
 * "line_too_long", "invalid_json", "wrong_type") with the message in
 * msg and *is_json saying whether the line is JSON (a dead letter keeps
 * it as JSON, else as a string).  limit names the option that sets the
 * longest line ("--max-line"), or NULL when it is fixed.  Allocates
 * nothing; msg is written only for a bad line.
 */
const char *cli_line_fault(const struct line *ln, size_t max_line,
			   const char *limit, struct scan_record *rec,
			   bool want_object, bool *is_json, char *msg,
			   size_t len);

/* cli_line_fault that also asks ty in the same scan (scan_record_typed):
 * *fits says whether a good line had ty's shape (false for a bad one). */
const char *cli_line_fault_typed(const struct line *ln, size_t max_line,
				 const char *limit, struct scan_record *rec,
				 bool want_object, bool *is_json, char *msg,
				 size_t len, const struct scan_typer *ty,
				 bool *fits);

/*
 * A bad record.  With a DLQ, dead-letter it (dying on a write error),
 * count it, and return true: the run goes on.  Without one, print
 * "PROG: FILE:LINE: msg" and return false: the caller ends the run.
 */
bool cli_bad_record(struct dlq *dlq, const struct line *ln, const char *name,
		    bool is_json, const char *type, const char *msg);
/*
 * Append a dead letter (dying on a write error) and count it, once what
 * stdout buffers from before it is handed to the kernel: nothing is
 * committed for a record past the last one delivered.  The letter waits
 * in memory (bounded) until stdout's buffer next goes out; a failed
 * stdout drops it, and cli_dlq_close() writes what waits.  Every tool
 * that writes stdout letters through here.
 */
struct dlq_letter;
void cli_letter(struct dlq *dlq, const struct dlq_letter *l);
/* For a tool whose output is published at the end (partition -o DIR):
 * hold every letter, whatever stdout holds, until cli_letters_release()
 * writes them; a run that dies before it writes none, as it publishes
 * nothing.  Past 1 MiB of held letters they are written as they come
 * (memory stays bounded). */
void cli_letters_hold(void);
void cli_letters_release(void);
/* The same with a printf message, and the end of the run when there is
 * no DLQ: stop(EXIT_TROUBLE), the tool's own finish (it must not
 * return). */
void cli_reject(struct dlq *dlq, void (*stop)(int status),
		const struct line *ln, const char *name, bool is_json,
		const char *type, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/*
 * The input loop every filter shares: hand each line of the named files
 * (argv-style, NULL-terminated; no file at all means stdin) to fn, with
 * the file's name for messages; call eof (may be NULL) after each file,
 * while that name is still valid.  Counts bytes_in and shows progress.
 * Returns 0, or -1 with err set when a file cannot be opened or read:
 * the caller reports it and ends the run its own way.
 */
int cli_each_line(char **files, size_t max_line,
		  void (*fn)(const struct line *ln, const char *name),
		  void (*eof)(void), char *err, size_t errlen);

/* A progress line on stderr, at most a few times a second, only when
 * stderr is a terminal; cli_progress_done() clears it. */
void cli_progress(uint64_t records, uint64_t bytes);
void cli_progress_done(void);

/*
 * A side output: --late FILE, --dupes FILE.  The records set aside go
 * through a buffer and are made durable (fsync) at close, after stdout
 * and before any state commit.  Each keeps its place among stdout's
 * records and the dead letters, as a held letter does (cli_letter): it
 * reaches the file only after what went to stdout before it, and what
 * goes to stdout after it waits until it is written, so a record that
 * cannot be set aside (a full disk) ends the run before any record
 * after it goes out.  Errors die naming the file.
 */
struct zout;
struct cli_side {
	const char *path; /* NULL: not open */
	int fd;
	struct zout *z;
	struct cli_side *next; /* the open sides, for the drains */
	uint64_t records;      /* handed to cli_side_write() */
	uint64_t flushed;      /* of them, written out by a good flush */
	off_t start;           /* a regular file's size when opened, else -1 */
	bool shared;           /* appended to: written under its shared lock */
	/* The records the buffer holds (records > flushed) are one run of
	 * the run's outputs, nothing else between them: their place is
	 * after event `first` and `at` bytes of stdout's buffer, and the
	 * last of them was event `last` (lib/cli.c). */
	uint64_t first, last;
	size_t at;
};
/* Open PATH for appending, or truncated when !append. */
void cli_side_open(struct cli_side *s, const char *path, bool append);

/*
 * The files a run writes, checked before any is opened: none may be
 * "-" (standard input among the inputs, not a file), nor one
 * of the inputs (files, or standard input when files is empty or names
 * "-"), or another output, unless both are appended to.  A truncated
 * --dupes would empty the input before it is read; an appended --late
 * or --dlq would be read back and written again without end; a state
 * renamed over a dead-letter file would drop the letters.
 */
struct cli_output {
	const char *what; /* "--late", "the state": for the message */
	const char *path; /* NULL: standard output */
	bool append;      /* appended to (stdout: opened O_APPEND) */
};
void cli_check_outputs(const struct cli_output *outs, size_t n,
		       char *const *files);
/* The same for the outputs most tools have: standard output, and each
 * of these that is not NULL: --late FILE and --dlq FILE (appended to),
 * --state FILE (renamed over at the end). */
void cli_check_common_outputs(char *const *files, const char *late,
			      const char *dlq, const char *state);
/* For a tool that adds up what it reads (reconcile summarize, dlq
 * stats): die when an input (NULL-terminated) is named twice, or is the
 * same file as another (a hard link, a second path), since its records
 * would count twice `where` ("in the summary").  "-" may repeat; it is
 * the file on standard input, so "- /dev/stdin" (or its path) is one
 * file named twice. */
void cli_inputs_once(char *const *files, const char *where);
/* Write one record and its newline; nothing when not open. */
void cli_side_write(struct cli_side *s, const char *rec, size_t len);
void cli_side_close(struct cli_side *s);

/* dlq_open() for the tool's --dlq FILE, dying with the reason. */
struct dlq;
struct dlq *cli_dlq_open(const char *path);
/* dlq_close(), dying with the reason; *d becomes NULL. */
void cli_dlq_close(struct dlq **d);

/* state_read_begin_gen() for the tool's --state FILE, dying with the
 * reason; NULL on a first run (no file, or a replay of a batch that
 * started empty). */
struct state_reader;
struct state_gen;
struct state_reader *cli_state_open(const char *path, const char *kind,
				    uint32_t max_version,
				    struct state_gen *g, uint32_t *version,
				    uint64_t *payload_len);
/* state_read_all(), dying with the reason. */
unsigned char *cli_state_read_all(struct state_reader *r,
				  uint64_t payload_len);

/*
 * cli_nearest: the name closest to s (leading dashes ignored; one equal
 * but for case first, else edit distance at most a third of its length,
 * and at least 1 allowed); failing that, a name s ends in after a '-'
 * (--allowed-lateness: lateness) or the one name s shares all but the
 * last letter of (and at least 4) with (--tumbling: tumble, --sliding:
 * slide); or NULL.  names is NULL-terminated.  For "did you mean".
 */
const char *cli_nearest(const char *s, const char *const *names);

/*
 * The front end of every tool, verbs or not.  A tool is a table of
 * verbs; a verb names the long options it takes, its usage line and
 * what it does.  A tool without verbs (dedup) is one entry whose name is
 * NULL; a tool with a default (reconcile SOURCE TARGET, window without
 * merge) has a NULL-named entry beside its named ones.
 *
 *   v = cli_verb_pick(verbs, n, &argc, &argv, usage);
 *   while ((c = cli_verb_getopt(v, argc, argv, "k:h", longopts)) != -1)
 *           switch (c) { ... case 'h': cli_verb_help(v, ...); }
 *
 * cli_verb_getopt() is getopt_long() that refuses, exit 2 with the
 * verb's usage line, an option the verb does not take ("--deep does not
 * apply to cat"; from another verb's own option table, found by its
 * options list: "(it is replay's)"), an unknown one ("did you mean
 * '--where'?", among the verb's options, then the other verbs') and a
 * missing argument.  -h and --help are always taken: the caller prints
 * the verb's help.
 */
struct option;
struct cli_verb {
	const char *name;    /* NULL: the tool run without a verb */
	const char *usage;   /* after "PROG ": "cat TABLE [--where EXPR]" */
	const char *options; /* long names it takes, space-separated;
				NULL: every one in the longopts table */
	const char *what;    /* one line: what the verb does */
	const char *examples; /* "  CMD\n" lines, runnable in order in an
				 empty folder (tests/help-examples.bats) */
};
/*
 * The verb argv[1] names; argc/argv then start at the verb, so getopt
 * sees the verb as its argv[0].  With no verb named: the NULL-named entry
 * when there is one (argv unchanged), else -h/--help calls help(0),
 * --version prints the version, and anything else is a usage error
 * (missing verb; unknown verb with "did you mean").  A word that is no
 * file and is near a verb is refused even when there is a default, so
 * `reconcile sumarize x` is not read as two files.
 */
const struct cli_verb *cli_verb_pick(const struct cli_verb *verbs, size_t n,
				     int *argc, char ***argv,
				     void (*help)(int status));
/* The verb called NAME, or a usage error (with "did you mean"). */
const struct cli_verb *cli_verb_find(const struct cli_verb *verbs, size_t n,
				     const char *name);
bool cli_verb_takes(const struct cli_verb *v, const char *longname);
int cli_verb_getopt(const struct cli_verb *v, int argc, char **argv,
		    const char *shortopts, const struct option *longopts);
/* From now on cli_verb_getopt refuses an option that takes a value and
 * is given twice with two values (getopt would silently keep the last),
 * except the long names in repeats (space-separated: "key agg"), which
 * add up. */
void cli_refuse_twice(const char *repeats);
/* "PROG: VERB: msg" (or "PROG: msg" for the tool itself), then "Usage:
 * PROG USAGE" and "Try 'PROG [VERB] --help'", exit 2. */
_Noreturn void cli_verb_usage_error(const struct cli_verb *v, const char *fmt,
				    ...) __attribute__((format(printf, 2, 3)));

/*
 * A verb's --help: "Usage: PROG USAGE", what it does, the lines of
 * opts[] for the options it takes (each a ready "  -x, --xx  text\n"),
 * -h, "See PROG(1)." and the examples last, on stdout; exit 0.
 */
struct cli_opthelp {
	const char *name; /* long name, as in cli_verb.options */
	const char *help;
};
_Noreturn void cli_verb_help(const struct cli_verb *v,
			     const struct cli_opthelp *opts, size_t nopts);
/* The examples block a tool's own --help ends with: "\nExamples:\n" and
 * the lines, to f. */
void cli_examples(FILE *f, const char *examples);

#endif
