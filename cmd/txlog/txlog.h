/*
 * txlog: what the verb files of cmd/txlog share -- the options, the data
 * file writer (NDJSON+zstd, one file per partition, per-file statistics
 * and checksum), the row predicate with its file skipping, and the
 * transaction that commits by put-if-absent and resolves conflicts.
 */
#ifndef TXLOG_H
#define TXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "delta/checkpoint.h"
#include "delta/log.h"
#include "delta/paths.h"
#include "delta/protocol.h"
#include "delta/snapshot.h"
#include "timefmt.h"
#include "value.h"
#include "scan.h"

#define MAX_WHERE 16
#define MAX_PART 16

extern struct txopt {
	const char *table;
	const char *schema_file;
	bool infer;
	const char *part[MAX_PART];
	size_t npart;
	int64_t checkpoint_every; /* 0: default */
	const char *txn;          /* APP:VERSION */
	const char *where[MAX_WHERE];
	size_t nwhere;
	const char *set[MAX_WHERE]; /* update --set 'COL = VALUE' */
	size_t nset;
	const char *key;
	const char *when_newer;
	const char *delete_when;
	int64_t version; /* -1: newest */
	int64_t from, to; /* changes --from, --to (-1: not given) */
	const char *format; /* log --format table|ndjson (NULL: by stdout) */
	bool utc;           /* log --utc */
	const char *as_of;
	bool merge_schema;
	bool stats;
	int level;
	int64_t retain_ns; /* vacuum --retain */
	bool retain_set, dry_run, force, deep;
	uint64_t target_size; /* optimize, stats: uncompressed bytes */
	bool target_set;      /* --target-size given */
	const char *zorder;   /* optimize --zorder-by COL,... */
	int threads;          /* -j: 0 until given (the default then) */
	size_t max_line;      /* --max-line: the longest record written */
	char **files;
	size_t nfiles;
} opt;

/* Verbs: each returns the exit status. */
int verb_init(void);
int verb_append(void);
int verb_overwrite(void);
int verb_delete(void);
int verb_merge(void);
int verb_cat(void);
int verb_log(void);
int verb_files(void);
int verb_schema(void);
int verb_checkpoint(void);
int verb_verify(void);
int verb_vacuum(void);
int verb_optimize(void);
int verb_stats(void);
int verb_restore(void);
int verb_update(void);
int verb_changes(void);

/* Load the newest snapshot (or die 2); must_exist: a table is needed. */
struct dl_snapshot *load_table(int64_t version);
/* Die 2 unless txlog may write the table. */
void need_write(const struct dl_snapshot *s);

/* ---- history (history.c) ---- */

/* The first (or, with last, the last) action named name in a log file's
 * text p[0..n): its object text in *a; false when there is none. */
bool txlog_action(const char *p, size_t n, const char *name, bool last,
		  const char **a, size_t *an);
/* The commitInfo action of a commit's text, or false. */
bool txlog_commit_info(const char *p, size_t n, const char **ci,
		       size_t *cn);
/* The commit time (ms since the epoch) of each version vs[0..n)
 * (ascending), as PROTOCOL.md defines it and monotonized as Delta's
 * readers do; TXLOG_TIME_GONE for a commit that is gone (any other
 * value is a time: one before 1970 is negative).  The caller frees. */
#define TXLOG_TIME_GONE INT64_MIN
int64_t *txlog_commit_times(const int64_t *vs, size_t n);
/* The same by the newest snapshot s, already loaded. */
int64_t *txlog_commit_times_of(const struct dl_snapshot *s,
			       const int64_t *vs, size_t n);
/* Delta's metadata cleanup after a checkpoint of s (cleanup.c): the log
 * entries older than delta.logRetentionDuration that a checkpoint stands
 * in for are deleted; said on standard error, never fatal. */
void txlog_log_cleanup(const struct dl_snapshot *s);
/* The newest version committed at or before TIME (--as-of), or die 2. */
int64_t txlog_version_as_of(const char *when);

/* The tag update and merge put on the files of the rows they changed
 * (changes reads them as update_postimage; the other files they add are
 * copies, and a merge's inserts). */
#define TXLOG_TAG_UPDATED "idem.updatedRows"
/* The tag overwrite puts on the files of its new records (changes reads
 * them as inserts, even a row equal to one it replaced; the other files
 * it adds are copies). */
#define TXLOG_TAG_INSERTED "idem.insertedRows"

/* The number of the next data file this process opens (part-NNNNN):
 * one count for every writer of the commit. */
unsigned txlog_next_part(void);

/* A remove action (dataChange true, now) for the live file f. */
void txlog_remove_action(struct buf *b, const struct dl_file *f);

/* ---- the data file writer ---- */

/* How values of a top-level column compare, by its type in schema
 * (NULL: untyped): a timestamp's as instants, others as JSON values. */
enum value_order txlog_order(const struct ds_type *schema, const char *col);
/* A value against a stats bound (min, or max when is_max) in the order
 * o.  A timestamp max that is a whole millisecond stands for anything
 * before the next one: Delta writers truncate it so.  cut: the bound is
 * another writer's on a string column, which may be a prefix of the
 * values it stands for; a string max then is above any v that starts
 * with that prefix. */
int txlog_bound_cmp(enum value_order o, const char *v, size_t vn,
		    const char *bound, size_t bn, bool is_max, bool cut);
/* a against b as the float ('f') or double ('d') column fp holds them,
 * the binary numbers they are (0.1 is 0.1000000000000000055), into *c;
 * false when fp is 0 or either is no finite number of it. */
bool txlog_fp_cmp(char fp, const char *a, size_t an, const char *b,
		  size_t bn, int *c);
/* A JSON value's kind by its first byte: null, boolean, number,
 * string, array, object (0 to 5). */
int txlog_json_kind(char c);
/* A statistics bound *b of a column compared in the order o, read as
 * txlog compares it: on a timestamp column it must name an instant;
 * Delta's writers give a timestamp_ntz's (ntz) without a zone
 * (2024-01-01T08:00:00.000), which is its wall-clock time and is put in
 * tmp, with *b pointing there, in the spelling compare reads.  False
 * when it is no bound txlog can read (another writer's): it rules
 * nothing out, and is no finding. */
bool txlog_bound_read(enum value_order o, bool ntz, const char **b,
		      size_t *bn, struct buf *tmp);
/* A value v (JSON text) of a timestamp_ntz column: a date there, from
 * before the protocol's typeWidening made a date column timestamp_ntz,
 * is its midnight as Delta reads it, respelled into mid (v then points
 * there); any other value is left as it is. */
#define TXLOG_MIDNIGHT 24
void txlog_ntz_value(const char **v, size_t *vn, char mid[TXLOG_MIDNIGHT]);
/* The partition of f as a key of bytes: each partition column's literal
 * in the log ("a\u0000b" stays itself, not "a"), '\0' after each.
 * Returns true when a value decodes to text with a NUL, which a
 * partition value of txlog's writing cannot hold. */
bool txlog_part_key(const struct dl_snapshot *s, const struct dl_file *f,
		    struct buf *key);
/* The partition of f as a key of its values as their columns' types
 * read them: a decimal's 1.0 and 1.00, a double's 0.1 and
 * 0.1000000000000000055, a timestamp's one instant at two offsets, a
 * string's "\u00e9" and "é", are one partition; a value of no meaning
 * txlog knows (a foreign timestamp without a zone) is its literal.
 * Returns txlog_part_key's NUL flag. */
bool txlog_part_value_key(const struct dl_snapshot *s,
			  const struct dl_file *f, struct buf *key);
/* The fingerprint of the value v[0..vn) a merge key src (-k) gave, as
 * the columns of schema hold it: a part that is a plain path to a float
 * or double column (-k .x, -k '[.id, .x]') is the binary number it is,
 * so 0.1 and 0.1000000000000000055511151231257827 are one key, as a
 * Delta MERGE compares them; anything else by value_fingerprint.  What
 * the key's parts are is worked out once (txlog_keykind_new), not at
 * every row. */
struct txlog_keykind;
struct txlog_keykind *txlog_keykind_new(const struct ds_type *schema,
					const char *src);
void txlog_keykind_free(struct txlog_keykind *k);
struct fp128 txlog_key_fingerprint(const struct txlog_keykind *k,
				   const char *v, size_t vn,
				   struct buf *scratch);
/* 'f' or 'd' when src is a plain path to a float or double column of
 * schema, else 0: such a column's values compare as binary numbers. */
char txlog_path_fp_kind(const struct ds_type *schema, const char *src);
/* The partition value (decoded text) of a timestamp column as the
 * instant it names: Delta's "2024-01-01 08:00:00[.ffffff]" (UTC) or an
 * ISO 8601 time with a zone.  0, or -1 when it is neither. */
int txlog_part_instant(const char *v, struct instant *t);

/* The threads data files are compressed on (-j), made at first use:
 * the bytes written are the same with any number. */
struct zpool *txlog_pool(void);
/* -j's value, or the default. */
int txlog_threads(void);

struct dws; /* a set of open data files, one per partition */

struct dws *dws_new(const char *table, const struct ds_type *schema,
		    char *const *part, size_t npart, int level);
/* Route one validated record (its raw bytes) to its partition's file.
 * -1 with err when a partition value is not a primitive. */
int dws_add(struct dws *w, const struct scan_record *r, char *err,
	    size_t errlen);
/* An unpartitioned writer's one file, opened as dws_add would open it
 * (NULL when w is partitioned); the schema its statistics are typed by;
 * its compression level. */
bool dws_partitioned(const struct dws *w);
struct dfile *dws_lone_file(struct dws *w);
const struct ds_type *dws_schema(const struct dws *w);
int dws_level(const struct dws *w);
/* Finish and publish every file; append their add actions to actions
 * and their paths (relative, decoded) to *written.  Counts records. */
void dws_finish(struct dws *w, struct buf *actions, char ***written,
		size_t *nwritten, uint64_t *records, uint64_t *bytes);
/* dws_finish with extra_tags (members, comma-led) in each add's tags. */
void dws_finish_tagged(struct dws *w, const char *extra_tags,
		       struct buf *actions, char ***written, size_t *nwritten,
		       uint64_t *records, uint64_t *bytes);
/* Forget unfinished files (temp files removed); w freed. */
void dws_abort(struct dws *w);
/* Die as cli_die does, after aborting every writer dws_new made and
 * no dws_finish or dws_abort ended: how a writing verb stops at a bad
 * record or row.  An I/O error inside a writer (a full disk) dies with
 * cli_die where it happens; lib/commit removes the temp files at exit
 * all the same. */
/* Once a write has begun reading its records (txlog_reading), a stop
 * there says --stats too, as every tool's stop on a record does: the
 * records read, none out, "version":null. */
extern bool txlog_reading;
_Noreturn void txlog_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Rows kept to be written again (copy-on-write) or emitted later: their
 * bytes back to back and where each starts.  A zeroed struct rowbuf is
 * an empty one. */
struct rowbuf {
	struct buf text;
	size_t *off;
	size_t n, cap;
};
void rowbuf_add(struct rowbuf *b, const char *p, size_t n);
/* Row i, *len bytes. */
const char *rowbuf_row(const struct rowbuf *b, size_t i, size_t *len);
void rowbuf_clear(struct rowbuf *b);
void rowbuf_free(struct rowbuf *b);
/* Route every row to w (rec: scratch); -1 with err as dws_add. */
int rowbuf_to_dws(const struct rowbuf *b, struct dws *w,
		  struct scan_record *rec, char *err, size_t errlen);

/* One data file written directly (optimize): dfile_open takes pvals
 * (npart strings or NULL, freed at seal); write record lines (without
 * '\n'), track each record's statistics or merge an input file's
 * (dfile_stats_mergeable: txlog wrote it), then seal: publish it and
 * append its add (tags: checksum, uncompressed size, extra_tags members
 * comma-led) to actions.  Abort removes the temp file. */
struct dfile;
struct dfile *dfile_open(const char *table, const struct ds_type *schema,
			 char *const *part, size_t npart,
			 char **pvals, unsigned seq, int level);
void dfile_write(struct dfile *f, const char *p, size_t n);
/* Whole lines, '\n' included, holding this many records. */
void dfile_write_raw(struct dfile *f, const char *p, size_t n,
		     uint64_t records);
void dfile_track(struct dfile *f, const struct scan_record *r);
bool dfile_stats_mergeable(const struct dl_file *in);
void dfile_merge_stats(struct dfile *f, const struct dl_file *in);
uint64_t dfile_raw_bytes(const struct dfile *f);
/* The stats JSON of what was tracked (verify --deep compares it). */
void dfile_stats(const struct dfile *f, struct buf *out);
void dfile_seal(struct dfile *f, bool data_change, const char *extra_tags,
		struct buf *actions, char ***written, size_t *nwritten,
		uint64_t *records, uint64_t *bytes);
void dfile_abort(struct dfile *f);

/* Statistics of records gathered apart (a chunk, on the thread that
 * parsed it): dstats_track each record, then dfile_add_chunk writes the
 * chunk's frames (zframes_compress of its lines, '\n' each) to f and
 * adds the statistics as if each record had gone through dfile_track.
 * The schema is f's. */
struct dstats;
struct dstats *dstats_new(const struct ds_type *schema);
void dstats_track(struct dstats *s, const struct scan_record *r);
void dstats_reset(struct dstats *s);
void dstats_free(struct dstats *s);
void dfile_add_chunk(struct dfile *f, const void *frames, size_t n,
		     uint64_t raw, uint64_t records, const struct dstats *st);

/* XXH3-128 of a file's bytes as 32 hex digits, and its size; false
 * (errno set) when it cannot be read. */
bool file_xxh3(const char *path, char out[33], int64_t *size);
/* The same of the file open as fd, from its start (pread: fd's offset
 * stays). */
bool file_xxh3_fd(int fd, char out[33], int64_t *size);

/* Remove the data files of an abandoned transaction. */
void remove_written(const char *table, char **written, size_t n);

/* Die 2, before anything is read, when a file of the snapshot is gone
 * (vacuumed): time travel never gives partial data. */
void need_files(const struct dl_snapshot *s, struct dl_file *const *live,
		size_t n);
/* The column of struct t a typo away from name (cli_nearest), for "did
 * you mean", or NULL.  t may be NULL. */
const char *txlog_nearest_column(const struct ds_type *t, const char *name);
/* The first column jq program src reads from the record (a .name path
 * whose input is the record) that schema lacks, a new string; NULL when
 * there is none, or the program is not one txlog can read so. */
char *txlog_jq_missing_column(const char *src, const struct ds_type *schema);
/* ---- reading data files (hold.c) ---- */

/* Open now, and hold open until txlog_unhold or txlog_release, each
 * data file of table in fs[0..n) (a NULL is skipped; only each file's
 * path and version are read, for a message): the readers below
 * then read it through that descriptor, even once a vacuum has unlinked
 * it.  A reader holds its files before it writes its first row, so it
 * gives all of them or refuses before any.  Returns NULL, or the first
 * file that is gone (nothing held then: the caller names it).  Other
 * trouble (a symlink, not a regular file, no permission, a size that is
 * not its add's) dies 2 naming the file.  More files than the open-file limit lets a process hold
 * are said on standard error and not held (NULL): each is then opened
 * when it is read, as before. */
const struct dl_file *txlog_hold(const char *table,
				 struct dl_file *const *fs, size_t n);
/* verify's hold: each file of fs[0..n) that opens is held, whatever
 * its size; one that does not is left for the check that reads it to
 * open again and name (missing, unreadable). */
void txlog_hold_found(const char *table, struct dl_file *const *fs,
		      size_t n);
/* Close what txlog_hold holds of f (read, not to be read again). */
void txlog_unhold(const struct dl_file *f);
void txlog_release(void);
/* A descriptor of f of its own, at the file's start: a copy of the
 * held one, else f opened now (regular, no symlink).  -1 with msg. */
int txlog_data_fd(const struct dl_snapshot *s, const struct dl_file *f,
		  char *msg, size_t len);
/* Open a data file of the snapshot for reading lines (checked against
 * its add's size, and its checksum when txlog wrote it), or die 2. */
struct lines *open_data(const struct dl_snapshot *s, const struct dl_file *f);
/* Whether f carries the checksum txlog writes (idem.xxh3_128, 32 hex
 * digits), which open_data checks: its rows were checked when they were
 * written.  Another writer's file has no such seal, and a reader that
 * writes its rows out reads each as a JSON object first, so that a line
 * cut short never passes for a record. */
bool txlog_file_sealed(const struct dl_file *f);
/* That checksum, decoded (malloc'd), or NULL when f has none: a tag of
 * that name that is no such checksum seals nothing. */
char *txlog_file_seal(const struct dl_file *f);
/* open_data that says why (the message open_data dies with) in msg
 * instead of dying: for a thread. */
struct lines *open_data_msg(const struct dl_snapshot *s,
			    const struct dl_file *f, char *msg, size_t len);
struct line;
/* The next row of f (l: open_data's) scanned into rec: 1, or 0 at the
 * end; a row too long, not JSON or not an object, or a read error, fails
 * the verb (txlog_fail): the file is damaged.  A row without a partition
 * column is given f's value of it (txlog_row_fill); one whose own value
 * is not f's fails the verb. */
int txlog_next_row(const struct dl_snapshot *s, struct lines *l,
		   const struct dl_file *f,
		   struct line *ln, struct scan_record *rec);

/* ---- predicates ---- */

enum pred_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct pred_term {
	char *col;
	struct path path;
	enum pred_op op;
	char *lit; /* JSON text (a timestamp's: RFC 3339 in UTC) */
	bool bare; /* the value was a bare word, not JSON */
	enum value_order ord; /* by the column's type (pred_bind) */
	bool is_null; /* = null (IS NULL) or != null (IS NOT NULL) */
	bool ntz; /* a timestamp_ntz column: a date in it (typeWidening's
		   * date to timestamp_ntz) is its midnight */
	char fp; /* 'f' a float, 'd' a double column: numbers compare as
		  * the binary value they are, 0.1 as 0.1000000000000000055 */
};

struct pred {
	struct pred_term t[32];
	size_t n;
	struct expr *jq; /* not a conjunction of simple terms */
	const char *src;
};

/* Parse --where texts (ANDed).  simple_only: refuse what is not a
 * conjunction of `COL OP VALUE`.  NULL texts: the always-true pred. */
struct pred *pred_parse(const char *const *src, size_t n, bool simple_only);
/* The commit's operation parameter member ,"NAME":"W1 and W2..." of the
 * n --where texts, onto params. */
void pred_param(struct buf *params, const char *name,
		const char *const *src, size_t n);
/* Check the terms against the snapshot's schema -- the column exists
 * (else a usage error with "did you mean"), the literal has the
 * column's type -- and read a timestamp column's literal as an instant:
 * a date, a time with or without seconds and zone (none: UTC). */
void pred_bind(struct pred *p, const struct dl_snapshot *s);
void pred_free(struct pred *p);
bool pred_match(struct pred *p, const struct scan_record *r);
/* pred_match of the row at file:line of the table, which a jq program's
 * error names, followed by end ("; nothing committed" in a write). */
bool pred_match_at(struct pred *p, const struct scan_record *r,
		   const char *file, uint64_t line, const char *end);
/* False only when no record of f can match (partitions, statistics). */
bool pred_file_may_match(const struct pred *p, const struct dl_snapshot *s,
			 const char *partvalues_obj, size_t pvn,
			 const struct dl_file *f);
/* The top-level column named w[0..n) ignoring (ASCII) case, as Delta's
 * names are: a bare word that names one is no string (SQL reads it as
 * the column).  NULL: none. */
const struct ds_field *txlog_column_nocase(const struct ds_type *t,
					   const char *w, size_t n);
/* The JSON literal ("null", "true", "false") a bare word w[0..n) spells
 * in another case, as SQL's NULL, TRUE and FALSE (any case) are those
 * literals and no string; NULL when it spells none. */
const char *txlog_sql_literal(const char *w, size_t n);
/* True when every term is on a partition column (whole files match). */
bool pred_on_partitions(const struct pred *p, const struct dl_snapshot *s);
/* True when f's partition values of p's columns all read as their
 * column's type: then pred_file_may_match of partition terms is exact,
 * and a file that may match holds only matching rows. */
bool pred_part_values_known(const struct pred *p, const struct dl_snapshot *s,
			    const struct dl_file *f);
/* The partition column whose value in row r is not f's partition value
 * (compared as the column's type; null is null), or NULL.  A row without
 * the column, or a partition value of unknown meaning, is no finding. */
/* The partition column whose value in f's add does not read as the
 * column's type ("1.5" or "x" for an integer, "2024-02-30" for a date),
 * or NULL.  A timestamp's value without a zone, the protocol's form,
 * is of its type. */
const char *txlog_part_value_bad(const struct dl_snapshot *s,
				 const struct dl_file *f);
const char *txlog_row_off_partition(const struct dl_snapshot *s,
				    const struct dl_file *f,
				    const struct scan_record *r);
/* A row of f (ln, scanned into rec) that lacks a partition column gets
 * it from f's add, as PROTOCOL.md says partition values come (another
 * writer's files may leave the column out): the row is rebuilt in b
 * with the columns added at its end, and ln and rec then point at b.
 * Returns NULL, or why the row cannot be read as a row of f: its own
 * value is not f's partition value, or that value's meaning is unknown
 * (a timestamp of another writer without a zone). */
struct buf;
const char *txlog_row_fill(const struct dl_snapshot *s,
			   const struct dl_file *f, struct line *ln,
			   struct scan_record *rec, struct buf *b);

/* ---- transactions ---- */

struct tx {
	struct dl_snapshot *snap;
	const char *op; /* commitInfo.operation */
	struct buf actions;
	struct buf params; /* operationParameters members, comma-led */
	struct buf metrics; /* operationMetrics members, comma-led */
	bool blind;          /* a blind append: never conflicts */
	bool reads_all;      /* any concurrent add conflicts */
	struct pred *pred;   /* else adds that may match it conflict */
	char **read_paths;   /* files read: a concurrent remove conflicts */
	size_t nread;
	const char *txn_app;
	int64_t txn_version;
	char **written; /* data files to remove if abandoned */
	size_t nwritten;
	struct buf stats_extra; /* --stats members after "version", comma-led */
	int64_t *committed;     /* set to the version published, if not NULL */
	/* called once the commit holds, before --stats: what a write says
	 * of its records is not said by one that lost (exit 75) */
	void (*on_commit)(void *ctx);
	void *on_commit_ctx;
};

void tx_read(struct tx *t, const char *path);
/* txlog_hold of the files fs[0..n) t will read (NULL: skipped), before
 * it reads any.  One that is gone fails the write: exit 75 when a newer
 * version no longer has it (a concurrent commit removed it and a vacuum
 * took it; a retry reads that version), else 2. */
void tx_hold(struct tx *t, struct dl_file *const *fs, size_t n);
/* Commit; on a lost race re-read the winners and retry or give up.
 * Returns the exit status (after the message, when not 0). */
int tx_commit(struct tx *t);
/* Free what t holds (snapshot and predicate included). */
void tx_free(struct tx *t);
/* --stats of a write that commits nothing (a --txn replay, no change,
 * a conflict): the line --stats promises, with "version":null and no
 * record out. */
void tx_stats_none(void);

/* The txn option parsed; false when absent. */
bool parse_txn(const char **app, int64_t *version);
/* Drain the input files (a no-op write still consumes its input). */
void drain_inputs(void);

#endif
