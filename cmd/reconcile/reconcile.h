/*
 * reconcile: what the files of cmd/reconcile/ share.
 *
 * A run reads SOURCE and TARGET once.  Each record adds to two places:
 *
 *   the partition of its --by value (struct part): rows, exact sums, and
 *   the content fingerprint -- the sum mod 2^128 of the XXH3-128 of each
 *   record's canonical form, so order and spelling do not matter;
 *
 *   the key table of its side (struct ktab): per key fingerprint, the
 *   rows, the same content sum over that key's records, and the
 *   partition of the key's first record.
 *
 * At the end the two key tables are joined segment by segment: a key
 * only in SOURCE is missing, only in TARGET extra, in both with other
 * content changed.  When the tables outgrow --memory they are spilled,
 * segment by segment, to temporary zstd files (the per-key entries are
 * partial sums, so spilled pieces add up) and the join runs one segment
 * (a key-hash bucket) at a time.  The keys' text is found by a second
 * read of the inputs that parses only the lines holding the first
 * record of a key that differs (their ordinals are in the key table).
 */
#ifndef RECONCILE_H
#define RECONCILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "decimal.h"
#include "value.h"

#define MAX_KEYS 16
#define MAX_SUMS 16
#define NSEG 256 /* key table segments = spill buckets (top byte of fp.hi) */
#define SRC 0
#define TGT 1

/* 128-bit sums, the order-independent multiset hash. */
static inline struct fp128 fp_add(struct fp128 a, struct fp128 b)
{
	struct fp128 r;
	r.lo = a.lo + b.lo;
	r.hi = a.hi + b.hi + (r.lo < a.lo);
	return r;
}

static inline bool fp_eq(struct fp128 a, struct fp128 b)
{
	return a.lo == b.lo && a.hi == b.hi;
}

/* ---- partitions ---- */

struct side_stats {
	uint64_t rows, keys, dups;
	struct fp128 fp;
	struct dec *sum; /* opt.nsums of them, in the part's own block */
};

struct part {
	char *label; /* the --by value as JSON text ("" without --by) */
	size_t label_len;
	struct side_stats side[2];
	uint64_t missing, extra, changed;
};

/* ---- key table ---- */

struct kent {
	struct fp128 key;     /* the key's fingerprint */
	struct fp128 content; /* sum of the record fingerprints */
	uint64_t first;       /* ordinal of the key's first record */
	uint32_t rows;        /* top bit: seen by the join */
	uint32_t part;        /* partition of the key's first record */
};

struct kseg {
	struct kent *v; /* partial sums, a key possibly in several */
	size_t n, cap;
	bool fold_pays;    /* the last fold found repeated keys */
	bool huge;         /* its window asks for huge pages */
	uint32_t *ix;      /* sealed: position + 1 by key.lo; else NULL */
	size_t ixmask;
};

struct ktab {
	struct kseg seg[NSEG];
	size_t bytes; /* memory held by the arrays and indexes */
	char *arena;  /* ktab_arena(): NSEG windows of window bytes */
	size_t window;
};

#define KENT_SEEN 0x80000000u

void ktab_init(struct ktab *t);
void ktab_free(struct ktab *t);
void ktab_clear_seg(struct ktab *t, size_t s);
/* Reserve address space for the segments of a table of about limit
 * bytes (none is used until written); without it they use the heap. */
void ktab_arena(struct ktab *t, uint64_t limit);
/* One record of key: appended to its segment.  0, or -1 with err (a
 * key with KENT_SEEN - 1 records). */
int ktab_add(struct ktab *t, struct fp128 key, struct fp128 content,
	     uint64_t first, uint32_t part, char *err, size_t errlen);
/* Add up the repeated keys of every segment, giving back the memory
 * that frees.  0, or -1 with err. */
int ktab_fold_all(struct ktab *t, char *err, size_t errlen);
/* Fold segment s to one entry a key and index it for ktab_find. */
int ktab_seal_seg(struct ktab *t, size_t s, char *err, size_t errlen);
/* The entry of key in its sealed segment, or NULL. */
struct kent *ktab_find(const struct ktab *t, struct fp128 key);

/* Spill files: DIR/s-NNN.zst and DIR/t-NNN.zst, one zstd frame per
 * spill appended to each.  Both return 0, or -1 with err. */
int ktab_spill(struct ktab *t, const char *dir, int side, char *err,
	       size_t errlen);
/* Append bucket s of side to t's segment s (seal it to look keys up). */
int ktab_load(struct ktab *t, const char *dir, int side, size_t s,
	      char *err, size_t errlen);

/* ---- differences ---- */

enum diff_kind { DIFF_MISSING, DIFF_EXTRA, DIFF_CHANGED };

struct diff {
	struct fp128 key;
	enum diff_kind kind;
	uint32_t part;
	uint32_t rows[2];
	uint64_t first[2]; /* ordinal of the key's first record per side */
	char *key_text;  /* filled by the second read */
	char *key_side[2]; /* as each side spells it */
	char *rec[2];    /* first record of the key per side (--show) */
	char *fields;    /* changed: {"field":{"source":..,"target":..}} */
};

/* How many changed keys differ in one field (the summary's tally). */
struct field_count {
	char *name;
	size_t len;
	uint64_t keys;
};

/* ---- the run ---- */

enum format { FMT_AUTO, FMT_NDJSON, FMT_TABLE };

struct rc_opts {
	const char *key_src[MAX_KEYS];
	size_t nkeys;
	const char *sum_src[MAX_SUMS];
	size_t nsums;
	const char *by_src;
	struct dec tolerance;
	bool have_tolerance;
	long long show;  /* records per kind; -1: none asked */
	bool keys_only;
	enum format format;
	uint64_t memory;
	unsigned bucket_bits; /* buckets = 1 << bits */
	long long bucket;     /* -1: all */
	struct cli_shard shard; /* summarize --shard I/N */
	const char *dlq_path;
	bool stats;
	size_t max_line;
	int threads; /* -j */
};

extern struct rc_opts opt;

/* part.c: held by the first thread to fail, so one message is said
 * (cli_die then exits with it held); the temporary folder's set-up too. */
extern pthread_mutex_t rc_lock;

/* main.c */
void part_table_sorted(struct part ***out, size_t *n);
struct part **part_table_by_index(void);
uint32_t bucket_of(struct fp128 key);

/* part.c: a new partition labelled v (n bytes), its sums in the same block
 * (opt.nsums a side, so a partition costs what its --sum needs, not
 * MAX_SUMS).  Counts its bytes against --memory and dies, naming --by
 * and --memory, when the partitions alone would pass their share. */
struct part *part_new(const char *v, size_t n);
/* v (n bytes), another spelling of p's value, in a summary: p keeps the
 * least of them (the shortest, then by bytes), so that the label does not
 * depend on which record, shard or summary came first ("d" and "\u0064",
 * one instant at two offsets): shards merge into the whole byte for byte. */
void part_spelling(struct part *p, const char *v, size_t n);

/* report.c: what the report shows, handed in, not set in globals */
struct report_in {
	struct part **parts; /* sorted by label */
	size_t nparts;
	struct part **byidx; /* by index, as diffs name them (NULL: none) */
	struct diff *diffs;
	size_t ndiffs;
	uint64_t rejected[2]; /* dead-lettered records per side */
	struct field_count *fields; /* changed keys per differing field */
	size_t nfields;
	bool no_keys;         /* compare: summaries hold no key counts */
	bool summary_rejects; /* compare: a summary counted dead letters */
	bool buckets_differ;  /* compare: a key-hash bucket differs */
};
/* Writes the report; true when the inputs agree (the exit status). */
bool report(const struct report_in *in);
bool report_is_table(void);

/* columns.c: --columns / --ignore and the field-level diff */
struct expr;
struct scan_record;
void columns_option(bool ignore, const char *arg);
bool columns_active(void);
/* Whether a --columns program calls localtime or strflocaltime. */
bool columns_read_local(void);
/* A reader's own compiled --columns (MAX_COLUMNS of room in out). */
void columns_compile(struct expr **out);
bool columns_plain(struct expr *const *e);
/* The names of a summary's "columns" (or "ignore", when ignore) as
 * they were given, taking the strings (no programs: only a summary's
 * header is written with them). */
void columns_restore(bool ignore, const char *const *names, size_t n);
/* ,"columns":[...] or ,"ignore":[...] for a summary's header. */
void columns_describe(struct buf *b);
/* The part of rec that is compared, as an object's JSON text in out;
 * -1 with err when a --columns program fails on it.  scratch: the
 * caller's COLUMNS_DEPTH scans, reused (--ignore of nested members).
 * Bit i of *present (when not NULL) is set when column i is in rec (a
 * --columns value, or a member an --ignore path takes out). */
#define COLUMNS_DEPTH 16
int columns_project(struct expr *const *e, const struct scan_record *rec,
		    struct scan_record *scratch, struct buf *out,
		    uint64_t *present, char *err, size_t errlen);
/* Refuse (exit 2) a column whose bit is not in present: no record had
 * it.  names: the first record's member names, for "did you mean". */
void columns_check(uint64_t present, const char *const *names);
/* A bit for each column given. */
uint64_t columns_mask(void);
/* A summary's {"columns_absent":[...]} line, and back (-1 unless every
 * name is one of the columns). */
void columns_absent_line(struct buf *b, uint64_t absent);
int columns_absent_parse(const char *v, size_t n, uint64_t *absent);
/* The fields in which the two records' projections differ, as a JSON
 * object (malloc'd), each tallied in *fc. */
char *columns_diff(struct expr *const *e, const char *src, const char *tgt,
		   struct field_count **fc, size_t *nfc);
#define MAX_COLUMNS 64

/* summary.c: per key-hash bucket of a summary */
struct bstat {
	uint64_t rows;
	struct fp128 fp;
};
/* The key-hash shards a summary holds: of == 0 is every key (a summary
 * without --shard, or a merge of every shard); else have[i] says shard
 * i of `of` is in it. */
struct cover {
	uint32_t of;
	bool *have;
};
/* absent: the --columns/--ignore no record of it had (columns.c). */
/* rejected: the records it dead-lettered ({"rejected":N}, when any). */
void summary_write(struct part **parts, size_t n, const struct bstat *bkt,
		   const struct cover *cov, uint64_t absent,
		   uint64_t rejected);
int summary_compare(const char *a, const char *b);
int summary_merge(char **files, int n);

#endif
