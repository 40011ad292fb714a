/*
 * reconcile: prove two NDJSON layers hold the same data.  See
 * reconcile.h for the shape of a run; this file parses options, reads
 * the inputs (twice: once for the counts, once more for the text of the
 * keys that differ), joins the key tables and writes summaries.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "dlq.h"
#include "expr.h"
#include "feed.h"
#include "fpset.h"
#include "jsonw.h"
#include "lines.h"
#include "badrec.h"
#include "par.h"
#include "reconcile.h"
#include "scan.h"
#include "statefile.h"
#include "wm.h"
#include "xalloc.h"
#include "zio.h"


/*
 * One reader per input side, read one after the other, each parsed on
 * -j threads by lib/par: a reader owns everything it writes: its
 * workers' expressions and scratch buffers, its own partition table
 * (numbered locally, mapped to the global table after reading) and its
 * key table.
 */
struct reader;

/* What a thread evaluating records writes to: its own expressions
 * (copies of the reader's for the workers lib/par starts), scans and
 * buffers. */
struct worker {
	struct cli_worker cw; /* cw.scratch: the canonical key */
	struct reader *r;
	struct expr *key[MAX_KEYS], *sum[MAX_SUMS], *by;
	struct expr *col[MAX_COLUMNS]; /* --columns */
	struct buf proj; /* the compared part (--columns, --ignore) */
	struct scan_record colscan[COLUMNS_DEPTH]; /* its nested scans */
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

struct reader {
	int side;
	int threads; /* its share of -j */
	struct worker w0; /* the reader's own, lib/par's worker 0 */
	struct buf keytext, last_by;
	uint32_t last_part;
	bool have_last;
	struct part **parts;
	size_t nparts, cap_parts;
	struct fpset *part_ix; /* canonical --by value -> index + 1 */
	uint32_t *to_global;
	struct ktab tab;
	bool spilled;
	uint64_t records, bytes, rejected;
	const char *path;
	const char *name; /* the input as messages and dead letters name it */
	uint64_t cols_seen; /* --columns/--ignore found in some record */
	uint64_t projected; /* records whose columns were looked at */
	char **names; /* the first such record's member names */
	char *reread; /* where the second read finds this input */
	struct zout *copy; /* the copy of a pipe, for the second read */
	struct stat file; /* a regular file as the first read found it */
	bool have_file;
};

static struct reader rd[2];

static struct {
	struct part **parts; /* the global partition table */
	size_t nparts, cap_parts;
	struct fpset *part_ix;
	bool spilled;
	char *tmpdir;
	struct dlq *dlq;
	struct diff *diffs;
	size_t ndiffs, cap_diffs;
	struct field_count *fields; /* changed keys per differing field */
	size_t nfields;
	struct bstat *bkt; /* summarize */
	bool summarize;
	bool threads;
} run;


/* cli_die from a reader thread: the first one to fail speaks. */
#define rdie(...) (pthread_mutex_lock(&rc_lock), cli_die(EXIT_TROUBLE, __VA_ARGS__))
/* The same for a stop on a record (a bad one without --dlq, a --sum past
 * 38 digits): the message, then --stats counts up to it, as every tool
 * says at such a stop. */
static _Noreturn void stop_on_record(int status);
#define rstop(...) (pthread_mutex_lock(&rc_lock), cli_warn(__VA_ARGS__), \
		    stop_on_record(EXIT_TROUBLE))

/* The examples' inputs: two files that differ in one record. */
#define EX_FILES                                                         \
	"  printf '{\"id\":1,\"amount\":5}\\n{\"id\":2,\"amount\":7}\\n' > "  \
	"src.ndjson\n"                                                     \
	"  printf '{\"id\":1,\"amount\":5}\\n{\"id\":2,\"amount\":8}\\n' > "  \
	"tgt.ndjson\n"

/* reconcile SOURCE TARGET and its verbs, for lib/cli's front end.  The
 * comparison takes every option but --shard and --partition (refused
 * with a reason below); each verb names its own. */
static const struct cli_verb verbs[] = {
	{NULL, "-k EXPR [OPTION]... SOURCE TARGET", NULL,
	 "Prove that two NDJSON inputs hold the same records",
	 EX_FILES "  reconcile -k .id --sum .amount --format ndjson src.ndjson "
		  "tgt.ndjson || { [ $? = 1 ] && echo \"they differ: exit 1\"; }\n"},
	{"summarize", "summarize -k EXPR [OPTION]... [FILE]...",
	 "key sum by columns ignore memory buckets shard partition dlq "
	 "max-line stats threads",
	 "Write a summary of the input, to compare or merge later",
	 EX_FILES "  reconcile summarize -k .id --sum .amount src.ndjson > "
		  "src.sum\n"
		  "  reconcile summarize -k .id --sum .amount --shard 0/2 "
		  "tgt.ndjson > tgt.0.sum\n"},
	{"merge", "merge SUMMARY...", "",
	 "Merge the summaries of shards or parts into one",
	 EX_FILES "  reconcile summarize -k .id --shard 0/2 src.ndjson > a.sum\n"
		  "  reconcile summarize -k .id --shard 1/2 src.ndjson > b.sum\n"
		  "  reconcile merge a.sum b.sum\n"},
	{"compare", "compare SUMMARY SUMMARY", "tolerance format",
	 "Compare two summaries as reconcile compares two inputs",
	 EX_FILES "  reconcile summarize -k .id --sum .amount src.ndjson > "
		  "src.sum\n"
		  "  reconcile summarize -k .id --sum .amount tgt.ndjson > "
		  "tgt.sum\n"
		  "  reconcile compare --format ndjson src.sum tgt.sum "
		  "|| { [ $? = 1 ] && echo \"they differ: exit 1\"; }\n"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static const struct cli_opthelp option_help[] = {
	{"key",
	 "  -k, --key EXPR        key (a jq path or program; repeatable)\n"},
	{"sum",
	 "      --sum EXPR        add up this number exactly (repeatable)\n"},
	{"by",
	 "      --by EXPR         report per partition of this value\n"},
	{"columns",
	 "      --columns C,...   compare only these columns (names, or jq paths\n"
	 "                        and programs starting with '.')\n"},
	{"ignore",
	 "      --ignore C,...    compare all members but these (names or paths)\n"},
	{"tolerance",
	 "      --tolerance X     sums agree within X (absolute)\n"},
	{"show",
	 "      --show N          show up to N records of each kind of difference\n"},
	{"keys-only",
	 "      --keys-only       write only the differing keys\n"},
	{"format",
	 "      --format ndjson|table\n"
	 "                        default: table on a terminal, else ndjson\n"},
	{"memory",
	 "      --memory SIZE     key tables beyond SIZE spill to disk\n"
	 "                        (default a quarter of RAM)\n"},
	{"buckets",
	 "      --buckets N       key-hash buckets, a power of two (default 256)\n"},
	{"bucket",
	 "      --bucket B        check only the keys of bucket B\n"},
	{"shard",
	 "      --shard I/N       summarize: only the keys of shard I of N\n"},
	{"partition",
	 "      --partition I/N   summarize: the input is partition I of N\n"
	 "                        (partition(1)), checked to hold only its keys\n"},
	{"dlq",
	 "      --dlq FILE        dead-letter bad records instead of stopping\n"},
	{"max-line",
	 "      --max-line SIZE   longest accepted line (default 64M)\n"},
	{"stats",
	 "      --stats           print counts as one JSON line on stderr\n"},
	{"threads",
	 "  -j, --threads N       parse each side in turn on N threads (0:\n"
	 "                        every core; default every core up to 8)\n"},
};
#define NHELP (sizeof option_help / sizeof option_help[0])

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: reconcile -k EXPR [OPTION]... SOURCE TARGET\n"
"       reconcile summarize -k EXPR [OPTION]... [FILE]...\n"
"       reconcile merge SUMMARY...\n"
"       reconcile compare SUMMARY SUMMARY\n"
"Prove that two NDJSON inputs hold the same records.  An input is a\n"
"file (plain, zstd or gzip), - for stdin, or a table as\n"
"txlog:PATH[@VERSION].\n"
"\n"
"");
	for (size_t i = 0; i < NHELP; i++)
		fputs(option_help[i].help, f);
	fprintf(f,
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"Exit status: 0 the inputs agree, 1 they differ (or records were\n"
"dead-lettered), 2 trouble.\n"
"See reconcile(1).\n");
	cli_examples(f, verbs[0].examples);
	cli_exit(status);
}

/* ---- temporary files ---- */

#define TMP_LOCK ".reconcile.lock" /* in the folder: held by its run */
#define TMP_LOCK_NEW ".reconcile.lock.new"

static void tmp_cleanup(void)
{
	if (!run.tmpdir)
		return;
	DIR *d = opendir(run.tmpdir);
	if (d) {
		struct dirent *e;
		char path[4096];
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' && strcmp(e->d_name, TMP_LOCK))
				continue;
			snprintf(path, sizeof path, "%s/%s", run.tmpdir,
				 e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(run.tmpdir);
}

/* A name a run writes in its folder: [st]-input.zst, [st]-NNN.zst. */
static bool tmp_file_name(const char *n)
{
	return (n[0] == 's' || n[0] == 't') && n[1] == '-' &&
	       (!strcmp(n + 2, "input.zst") ||
		(strspn(n + 2, "0123456789") == 3 && !strcmp(n + 5, ".zst")));
}

/*
 * SIGKILL (the OOM killer, kill -9, timeout -s KILL) runs no handler:
 * the folder, with its copy of standard input and the spilled tables,
 * stayed in TMPDIR for ever.  Each run holds a flock on TMP_LOCK in its
 * folder (named so only once locked), so a folder of ours whose lock is
 * free, taken on this boot, is a dead run's: remove it, and say so.  A
 * folder without the lock, with anything else in it, or another user's
 * is left alone.
 */
static void tmp_drop_stale(const char *base)
{
	int pfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lister = pfd >= 0 ? dup(pfd) : -1;
	DIR *d = lister >= 0 ? fdopendir(lister) : NULL;
	if (!d) {
		if (lister >= 0)
			close(lister);
		if (pfd >= 0)
			close(pfd);
		return;
	}
	char mine[64];
	state_boot_id(mine);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *nm = e->d_name;
		if (strncmp(nm, "reconcile.", 10) || strlen(nm) != 16 ||
		    strspn(nm + 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				    "opqrstuvwxyz0123456789") != 6)
			continue;
		int dfd = openat(pfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						  O_CLOEXEC);
		if (dfd < 0)
			continue;
		struct stat ds, ls;
		int lfd = openat(dfd, TMP_LOCK, O_RDONLY | O_NOFOLLOW |
						       O_CLOEXEC);
		char its[64];
		ssize_t got = lfd < 0 ? -1 : pread(lfd, its, sizeof its - 1, 0);
		its[got > 0 ? got : 0] = '\0';
		if (lfd < 0 || fstat(dfd, &ds) != 0 || ds.st_uid != getuid() ||
		    flock(lfd, LOCK_EX | LOCK_NB) != 0 ||
		    fstat(lfd, &ls) != 0 || ls.st_nlink == 0 || !mine[0] ||
		    strcmp(mine, its) != 0) {
			if (lfd >= 0)
				close(lfd);
			close(dfd);
			continue;
		}
		bool foreign = false;
		int l2 = dup(dfd);
		DIR *f = l2 >= 0 ? fdopendir(l2) : NULL;
		struct dirent *g;
		while (f && (g = readdir(f)) != NULL)
			if (strcmp(g->d_name, ".") && strcmp(g->d_name, "..") &&
			    strcmp(g->d_name, TMP_LOCK) &&
			    (!tmp_file_name(g->d_name) ||
			     unlinkat(dfd, g->d_name, 0) != 0))
				foreign = true;
		if (f)
			closedir(f);
		else
			foreign = true;
		if (!foreign && unlinkat(dfd, TMP_LOCK, 0) == 0 &&
		    unlinkat(pfd, nm, AT_REMOVEDIR) == 0)
			cli_warn("%s/%s: removed, the temporary folder of a run "
				 "that was killed", base, nm);
		close(lfd); /* the lock goes last */
		close(dfd);
	}
	closedir(d);
	close(pfd);
}

/* Take the folder's lock for the run's life: made under another name,
 * locked, then renamed, so TMP_LOCK is never seen unlocked while the
 * run lives.  No lock (no room, no flock): a killed run's folder stays. */
static void tmp_lock(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd < 0 ? -1
			 : openat(dfd, TMP_LOCK_NEW, O_WRONLY | O_CREAT |
						     O_EXCL | O_CLOEXEC, 0600);
	char id[64];
	state_boot_id(id);
	if (fd >= 0 && (write(fd, id, strlen(id)) != (ssize_t)strlen(id) ||
			flock(fd, LOCK_EX) != 0 ||
			renameat(dfd, TMP_LOCK_NEW, dfd, TMP_LOCK) != 0)) {
		close(fd);
		unlinkat(dfd, TMP_LOCK_NEW, 0);
	}
	/* fd stays open, and locked, till exit */
	if (dfd >= 0)
		close(dfd);
}

/*
 * A run killed by a signal (the reader of stdout gone, ^C, kill) ran no
 * atexit: the folder, which may hold a copy of standard input and the
 * spilled key tables, stayed in TMPDIR.  The handler removes what the
 * folder can hold (its names are those of read_input and ktab.c's
 * bucket_path), formatting nothing, then dies of the signal as before.
 */
static char sig_dir[4096]; /* the folder and a '/' */
static volatile sig_atomic_t sig_dir_len;

static void on_signal(int sig)
{
	size_t n = (size_t)sig_dir_len;
	if (n) {
		char p[sizeof sig_dir + 16];
		memcpy(p, sig_dir, n);
		for (int side = 0; side < 2; side++) {
			memcpy(p + n, "s-input.zst", 12);
			p[n] = side ? 't' : 's';
			unlink(p);
			for (int b = 0; b < NSEG; b++) {
				memcpy(p + n + 2, "000.zst", 8);
				p[n + 2] = (char)('0' + b / 100);
				p[n + 3] = (char)('0' + b / 10 % 10);
				p[n + 4] = (char)('0' + b % 10);
				unlink(p);
			}
		}
		memcpy(p + n, TMP_LOCK, sizeof TMP_LOCK);
		unlink(p);
		p[n - 1] = '\0';
		rmdir(p);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_signals(const char *dir)
{
	static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP};
	size_t n = strlen(dir);
	if (n + 1 >= sizeof sig_dir)
		return;
	memcpy(sig_dir, dir, n);
	sig_dir[n] = '/';
	sig_dir_len = (sig_atomic_t)(n + 1);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa = {0}, old;
		/* a signal ignored by whoever started us (nohup) stays so;
		 * SIGPIPE cli_init has set to its default */
		if (sigaction(sigs[i], NULL, &old) != 0 ||
		    old.sa_handler == SIG_IGN)
			continue;
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static const char *tmpdir_locked(void);

static const char *tmpdir(void)
{
	pthread_mutex_lock(&rc_lock);
	const char *t = tmpdir_locked();
	pthread_mutex_unlock(&rc_lock);
	return t;
}

static const char *tmpdir_locked(void)
{
	if (run.tmpdir)
		return run.tmpdir;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + 32;
	char *t = xmalloc(n);
	tmp_drop_stale(base);
	snprintf(t, n, "%s/reconcile.XXXXXX", base);
	if (!mkdtemp(t))
		cli_die(EXIT_TROUBLE, "%s: %s", t, strerror(errno));
	run.tmpdir = t;
	atexit(tmp_cleanup);
	on_signals(t);
	tmp_lock(t);
	return t;
}

/* ---- partitions ---- */

/* Index of the partition labelled v[0..n) in a table, added if new. */
static uint32_t part_find(struct part ***parts, size_t *nparts, size_t *cap,
			  struct fpset *ix, const char *v, size_t n)
{
	struct buf scratch = {0};
	struct fp128 fp = n ? value_fingerprint(v, n, &scratch)
			    : (struct fp128){1, 0};
	buf_free(&scratch);
	uint64_t *pay;
	if (!fpset_add(ix, fp, &pay)) {
		*parts = xgrow(*parts, cap, *nparts, sizeof **parts, 16);
		struct part *p = part_new(v, n);
		(*parts)[*nparts] = p;
		*pay = ++*nparts;
	} else if (run.summarize) {
		/* a report labels it as the source first spelled it */
		part_spelling((*parts)[*pay - 1], v, n);
	}
	return (uint32_t)(*pay - 1);
}

static uint32_t part_of(struct reader *r, const char *v, size_t n)
{
	if (r->have_last && r->last_by.len == n &&
	    memcmp(r->last_by.p, v, n) == 0)
		return r->last_part;
	r->last_part = part_find(&r->parts, &r->nparts, &r->cap_parts,
				 r->part_ix, v, n);
	buf_reset(&r->last_by);
	buf_add(&r->last_by, v, n);
	r->have_last = true;
	return r->last_part;
}

/* Fold a reader's partitions into the global table. */
static void parts_merge(struct reader *r)
{
	r->to_global = xmalloc((r->nparts + 1) * sizeof *r->to_global);
	for (size_t i = 0; i < r->nparts; i++) {
		const struct part *lp = r->parts[i];
		uint32_t g = part_find(&run.parts, &run.nparts, &run.cap_parts,
				       run.part_ix, lp->label, lp->label_len);
		struct side_stats *to = &run.parts[g]->side[r->side];
		const struct side_stats *from = &lp->side[r->side];
		to->rows = from->rows;
		to->keys = from->keys;
		to->dups = from->dups;
		to->fp = from->fp;
		if (opt.nsums)
			memcpy(to->sum, from->sum,
			       opt.nsums * sizeof *to->sum);
		r->to_global[i] = g;
	}
}

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = *(struct part *const *)a;
	const struct part *y = *(struct part *const *)b;
	return value_compare_spelled(x->label, x->label_len, y->label,
				     y->label_len);
}

void part_table_sorted(struct part ***out, size_t *n)
{
	static struct part **v; /* kept till exit, like the table */
	free(v);
	v = xmalloc((run.nparts + 1) * sizeof *v);
	if (run.nparts)
		memcpy(v, run.parts, run.nparts * sizeof *v);
	if (opt.by_src)
		qsort(v, run.nparts, sizeof *v, part_cmp);
	*out = v;
	*n = run.nparts;
}

struct part **part_table_by_index(void)
{
	return run.parts;
}

uint32_t bucket_of(struct fp128 key)
{
	return opt.bucket_bits ? (uint32_t)(key.hi >> (64 - opt.bucket_bits))
			       : 0;
}

/* ---- records ---- */

/*
 * A record is read in two steps (lib/par): prep, on any thread, checks
 * the line and evaluates key, --by, --sum and --columns into a slot;
 * apply, on the side's own thread in input order, counts it.  So the
 * counts, the first record of each key and every message are those of
 * one thread, whatever -j.
 */
struct slot {
	struct badrec bad; /* type NULL: good */
	bool skip;    /* not this run's (another --shard's key; a bad key
		       * that shard 0 reports) */
	bool foreign; /* --partition: a key of another partition */
	bool keyed;   /* key holds the record's key (bad or not) */
	struct fp128 key, rfp;
	uint64_t cols; /* the columns_project bits of the record */
	const char *by; /* in the line or the chunk */
	size_t by_len;
	struct dec sum[]; /* opt.nsums */
};

static void *worker_new(void *arg, int index)
{
	struct reader *r = arg;
	if (index == 0)
		return &r->w0;
	struct worker *w = cli_worker_new(sizeof *w, index);
	w->r = r;
	for (size_t k = 0; k < opt.nkeys; k++)
		w->key[k] = cli_worker_expr(&w->cw, r->w0.key[k]);
	for (size_t s = 0; s < opt.nsums; s++)
		w->sum[s] = cli_worker_expr(&w->cw, r->w0.sum[s]);
	w->by = cli_worker_expr(&w->cw, r->w0.by);
	columns_compile(w->col);
	return w;
}

static void worker_free(void *wctx)
{
	struct worker *w = wctx;
	if (w == &w->r->w0)
		return;
	for (size_t c = 0; c < MAX_COLUMNS; c++)
		if (w->col[c])
			expr_free(w->col[c]);
	for (size_t d = 0; d < COLUMNS_DEPTH; d++)
		scan_record_free(&w->colscan[d]);
	buf_free(&w->proj);
	cli_worker_free(w);
}

/* The canonical key of the record scanned in w->cw.rec into
 * w->cw.scratch, and its JSON text into text when asked.  False with b
 * set (b may be NULL: the second read only needs to know). */
static bool eval_key(struct worker *w, struct badrec *b, struct par_chunk *ch,
		     struct buf *text)
{
	const char *kv[MAX_KEYS];
	size_t kl[MAX_KEYS];
	for (size_t k = 0; k < opt.nkeys; k++) {
		if (b) {
			if (!badrec_eval(b, ch, w->key[k], &w->cw.rec, "key",
					 &kv[k], &kl[k]))
				return false;
		} else {
			char err[256];
			if (expr_eval(w->key[k], &w->cw.rec, &kv[k], &kl[k], err,
				      sizeof err) != EXPR_VALUE)
				return false;
		}
	}
	buf_reset(&w->cw.scratch);
	if (opt.nkeys == 1)
		value_canon(&w->cw.scratch, kv[0], kl[0]);
	else
		value_canon_tuple(&w->cw.scratch, kv, kl, opt.nkeys);
	if (text) {
		buf_reset(text);
		if (opt.nkeys == 1) {
			buf_add(text, kv[0], kl[0]);
		} else {
			buf_addc(text, '[');
			for (size_t k = 0; k < opt.nkeys; k++) {
				if (k)
					buf_addc(text, ',');
				buf_add(text, kv[k], kl[k]);
			}
			buf_addc(text, ']');
		}
	}
	return true;
}

/* watermark --emit's progress is no row: keyed, it was one (its key
 * missing, or a [null] counted among the rows and the keys); nor is
 * the end line of a window shard's output. */
static bool row_line(struct worker *w, struct badrec *b, struct par_chunk *ch)
{
	if (wm_shard_line(&w->cw.rec)) {
		badrec_set(b, ch, true, "wrong_type", "a _shard line ends a "
			   "window --shard run's output, for window merge, "
			   "not a row: compare window merge's output");
		return false;
	}
	if (!wm_control_line(&w->cw.rec))
		return true;
	badrec_set(b, ch, true, "wrong_type", "a _watermark line is "
		   "watermark --emit's progress for window, not a row: "
		   "compare the records before watermark --emit");
	return false;
}

/*
 * The fingerprint of a record's compared part, with its key's folded in.
 * --columns or --ignore may leave the key out of that part, and then two
 * keys that swapped their values ({"id":1,"v":5} {"id":2,"v":6} against
 * {"id":1,"v":6} {"id":2,"v":5}) give the same partitions and, in a
 * summary, the same buckets when they share one (--buckets 1: always):
 * compare said agree, exit 0.  Little-endian bytes, so a summary made on
 * one host compares with another's.
 */
static struct fp128 keyed_fp(struct fp128 key, struct fp128 part)
{
	unsigned char b[32];
	le64_put(b, key.lo);
	le64_put(b + 8, key.hi);
	le64_put(b + 16, part.lo);
	le64_put(b + 24, part.hi);
	return value_fp(b, sizeof b);
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *w = wctx;
	struct slot *s = slot;
	/* Under --shard, a record whose key is not known yet is shard 0's
	 * to report, one with a key its own shard's. */
	bool keyless = cli_shard_keyless(&opt.shard);
	s->skip = s->foreign = s->keyed = false;
	s->bad.type = NULL;
	s->cols = 0;
	if (!badrec_line(&s->bad, ch, ln, opt.max_line, &w->cw.rec, true) ||
	    !row_line(w, &s->bad, ch) || !eval_key(w, &s->bad, ch, NULL)) {
		if (!keyless) {
			s->bad.type = NULL;
			s->skip = true;
		}
		return;
	}
	s->key = value_fp(w->cw.scratch.p, w->cw.scratch.len);
	s->keyed = true;
	if (!cli_shard_mine(&opt.shard, s->key)) {
		if (opt.shard.whole)
			s->foreign = true;
		else
			s->skip = true;
		return;
	}
	s->by = "";
	s->by_len = 0;
	if (w->by) {
		const char *v;
		if (!badrec_eval(&s->bad, ch, w->by, &w->cw.rec, "--by", &v,
				 &s->by_len))
			return;
		s->by = par_keep(ch, v, s->by_len);
	}
	for (size_t k = 0; k < opt.nsums; k++) {
		const char *v;
		size_t n;
		if (!badrec_eval(&s->bad, ch, w->sum[k], &w->cw.rec, "--sum", &v,
				 &n))
			return;
		if (dec_parse(v, n, &s->sum[k]) != 0) {
			if (strcmp(scan_type(v), "number") == 0)
				badrec_set(&s->bad, ch, true, "wrong_type",
					   "--sum %s: %.*s has more digits than "
					   "an exact sum holds", opt.sum_src[k],
					   (int)(n > 60 ? 60 : n), v);
			else
				badrec_set(&s->bad, ch, true, "wrong_type",
					   "--sum %s: %s is not a number",
					   opt.sum_src[k], scan_type(v));
			return;
		}
	}
	char err[512];
	if (columns_active()) {
		if (columns_project(w->col, &w->cw.rec, w->colscan, &w->proj,
				    &s->cols, err, sizeof err) != 0) {
			badrec_set(&s->bad, ch, true, "expression_error", "%s",
				   err);
			return;
		}
		s->rfp = keyed_fp(s->key, value_fingerprint(w->proj.p,
							    w->proj.len,
							    &w->cw.scratch));
	} else {
		s->rfp = value_fingerprint(ln->p, ln->len, &w->cw.scratch);
	}
}

static void reject(struct reader *r, const struct line *ln, const char *name,
		   const struct badrec *b)
{
	if (!run.dlq)
		rstop("%s:%" PRIu64 ": %s", name, ln->lineno, b->msg);
	struct dlq_letter l = {
		.record = ln->p, .len = ln->len, .is_json = b->is_json,
		.error_type = b->type, .error_message = b->msg,
		.replayable = !ln->too_long && !ln->torn, .file = name,
		.line = ln->lineno,
	};
	/* held until the report is out (release_letters): a run that
	 * dies first letters nothing its re-run letters again */
	pthread_mutex_lock(&rc_lock);
	cli_letter(run.dlq, &l);
	pthread_mutex_unlock(&rc_lock);
	r->rejected++;
}

static void spill(struct reader *r)
{
	char err[512];
	if (ktab_spill(&r->tab, tmpdir(), r->side, err, sizeof err) != 0)
		rdie("%s", err);
	r->spilled = true;
}

static void count_record(struct reader *r, const struct line *ln,
			 const char *name, const struct slot *v)
{
	uint32_t pi = part_of(r, v->by, v->by_len);
	struct side_stats *st = &r->parts[pi]->side[r->side];
	for (size_t s = 0; s < opt.nsums; s++)
		if (dec_add(&st->sum[s], &v->sum[s]) != 0)
			rstop("%s:%" PRIu64 ": --sum %s overflows 38 digits",
			     name, ln->lineno, opt.sum_src[s]);
	st->rows++;
	st->fp = fp_add(st->fp, v->rfp);
	if (run.summarize) {
		uint32_t b = bucket_of(v->key);
		run.bkt[b].rows++;
		run.bkt[b].fp = fp_add(run.bkt[b].fp, v->rfp);
		return;
	}
	char err[256];
	if (ktab_add(&r->tab, v->key, v->rfp, r->records, pi, err,
		     sizeof err) != 0)
		rdie("%s: %s", name, err);
	/* Each side's table gets 35% of the budget: a segment may double
	 * past it, and buffers, zstd contexts and the allocator's slack
	 * take the rest.  Past it, repeated keys are added up; only when
	 * that leaves less than a quarter free does the table spill. */
	uint64_t limit = opt.memory / 20 * 7;
	if (r->tab.bytes > limit) {
		if (ktab_fold_all(&r->tab, err, sizeof err) != 0)
			rdie("%s: %s", name, err);
		if (r->tab.bytes > limit / 4 * 3)
			spill(r);
	}
}

/* The reader whose par_each_line runs on this thread (apply has no
 * context argument; each side applies on its own thread). */
static _Thread_local struct reader *applying;

/* A decoded member name as a step of a jq path: .name, or ."a b". */
static void path_step(struct buf *b, const char *n)
{
	bool plain = (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		     *n == '_';
	for (const char *c = n; plain && *c; c++)
		plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || *c == '_';
	buf_addc(b, '.');
	if (plain)
		buf_adds(b, n);
	else
		jw_str(b, n);
}

/* The member names of the record at ln, decoded, for "did you mean":
 * each top-level name, then the path (.a.b) of each member of an object
 * that is a top-level value, so a misspelt nested column is named too. */
static char **member_names(const struct line *ln)
{
	struct scan_record rec = {0};
	struct scan_error se;
	char **names = NULL;
	if (scan_record_nested(&rec, ln->p, ln->len, &se) == 0 &&
	    ln->p[rec.start] == '{') {
		names = xcalloc(rec.nmembers + 1, sizeof *names);
		char **top = xcalloc(rec.nmembers, sizeof *top);
		size_t k = 0;
		for (size_t i = 0; i < rec.nmembers; i++) {
			const struct scan_member *m = &rec.members[i];
			char *n = xmalloc(m->key_len + 1);
			n[scan_string_decode(ln->p + m->key, m->key_len, n)] =
				'\0';
			top[i] = n;
			if (m->parent == SCAN_TOP) {
				names[k++] = n;
				continue;
			}
			struct buf b = {0};
			path_step(&b, top[m->parent]);
			path_step(&b, n);
			buf_addc(&b, '\0');
			names[k++] = b.p;
			free(n);
			top[i] = NULL;
		}
		free(top);
	}
	scan_record_free(&rec);
	return names;
}

static void apply(const struct line *ln, const char *name, void *slot)
{
	struct reader *r = applying;
	const struct slot *s = slot;
	char err[512];
	name = r->name; /* txlog:PATH, not the pipe it is read from */
	r->records++;
	/* A line too long comes as its prefix, which may be blanks alone
	 * (padding), and a blank line is no line to the second read: every
	 * later ordinal would shift, and the run stop on a false "changed
	 * while reconcile ran".  It is no key's first record, so any line
	 * stands for it in the copy. */
	const char *cp = ln->too_long ? "null" : ln->p;
	size_t cn = ln->too_long ? 4 : ln->len;
	if (r->copy && (zout_write(r->copy, cp, cn, err, sizeof err) ||
			zout_write(r->copy, "\n", 1, err, sizeof err)))
		rdie("%s: %s", r->reread, err);
	if (columns_active() && !s->bad.type && !s->foreign && !s->skip) {
		/* here, in input order, so the names are -j 1's */
		r->cols_seen |= s->cols;
		if (!r->projected++)
			r->names = member_names(ln);
	}
	/* --bucket: a bad record whose key is another bucket's is that
	 * bucket's to report; one without a key is every bucket's */
	bool other = opt.bucket >= 0 && s->keyed &&
		     bucket_of(s->key) != (uint64_t)opt.bucket;
	if (s->bad.type) {
		if (!other)
			reject(r, ln, name, &s->bad);
	} else if (s->foreign) {
		pthread_mutex_lock(&rc_lock); /* it dies, and speaks once */
		cli_shard_take(&opt.shard, s->key, name, ln->lineno,
			       stop_on_record);
		pthread_mutex_unlock(&rc_lock);
	} else if (!s->skip && !other) {
		count_record(r, ln, name, s);
	}
	if (r->side == SRC && (r->records & 0xffff) == 0)
		cli_progress(r->records, r->bytes);
}

/* First read of one input: count everything.  shown: how the user
 * named it, when path is not that (txlog:PATH read from a pipe). */
static void read_input(struct reader *r, const char *path, const char *shown)
{
	char err[512];
	struct stat st;
	bool once = strcmp(path, "-") == 0 || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode);
	int copy_fd = -1;
	free(r->reread); /* summarize reads its files into one reader */
	r->reread = NULL;
	if (!shown)
		shown = path;
	r->name = strcmp(shown, "-") ? shown : "<stdin>";
	if (!run.summarize && once) {
		/* stdin or a pipe cannot be read twice: keep a copy */
		const char *dir = tmpdir();
		size_t n = strlen(dir) + 16;
		r->reread = xmalloc(n);
		snprintf(r->reread, n, "%s/%c-input.zst", dir,
			 r->side == SRC ? 's' : 't');
		copy_fd = open(r->reread, O_WRONLY | O_CREAT | O_TRUNC |
						  O_CLOEXEC, 0600);
		if (copy_fd < 0)
			rdie("%s: %s", r->reread, strerror(errno));
		r->copy = zout_open(copy_fd, 1);
	} else {
		r->reread = xstrdup(path);
		r->file = st;
		r->have_file = !once;
	}
	char *files[] = {(char *)path, NULL};
	struct par_ops ops = {
		.slot_size = sizeof(struct slot) + opt.nsums * sizeof(struct dec),
		.worker_new = worker_new, .worker_free = worker_free,
		.prep = prep, .apply = apply, .arg = r, .bytes_in = &r->bytes,
	};
	applying = r;
	if (par_each_line(files, opt.max_line, r->threads, &ops, err,
			  sizeof err) != 0)
		rstop("%s", err); /* an input that cannot be opened or read */
	if (r->copy) {
		if (zout_close(r->copy, err, sizeof err) != 0)
			rdie("%s: %s", r->reread, err);
		r->copy = NULL;
		if (close(copy_fd) != 0)
			rdie("%s: %s", r->reread, strerror(errno));
	}
}

/* ---- the join ---- */

static void add_diff(struct fp128 key, enum diff_kind kind, uint32_t part,
		     const struct kent *es, const struct kent *et)
{
	run.diffs = xgrow(run.diffs, &run.cap_diffs, run.ndiffs,
			  sizeof *run.diffs, 64);
	struct diff *d = &run.diffs[run.ndiffs++];
	memset(d, 0, sizeof *d);
	d->key = key;
	d->kind = kind;
	d->part = part;
	if (es) {
		d->rows[SRC] = es->rows & ~KENT_SEEN;
		d->first[SRC] = es->first;
	}
	if (et) {
		d->rows[TGT] = et->rows & ~KENT_SEEN;
		d->first[TGT] = et->first;
	}
}

static void join_seg(size_t s)
{
	struct ktab *ts = &rd[SRC].tab, *tt = &rd[TGT].tab;
	struct kseg *gs = &ts->seg[s], *gt = &tt->seg[s];
	for (size_t i = 0; i < gs->n; i++) {
		struct kent *e = &gs->v[i];
		assert(!(e->rows & KENT_SEEN)); /* only targets are marked */
		uint32_t pi = rd[SRC].to_global[e->part];
		struct part *p = run.parts[pi];
		p->side[SRC].keys++;
		p->side[SRC].dups += e->rows > 1;
		struct kent *f = ktab_find(tt, e->key);
		if (!f) {
			p->missing++;
			add_diff(e->key, DIFF_MISSING, pi, e, NULL);
			continue;
		}
		assert(!(f->rows & KENT_SEEN)); /* one source key per target */
		f->rows |= KENT_SEEN;
		uint32_t rt = f->rows & ~KENT_SEEN;
		/* a key of both sides is the source's partition's on both:
		 * by the target's own first record, the same records in
		 * another order would count the key in another partition */
		p->side[TGT].keys++;
		p->side[TGT].dups += rt > 1;
		if (rt != e->rows || !fp_eq(e->content, f->content)) {
			p->changed++;
			add_diff(e->key, DIFF_CHANGED, pi, e, f);
		}
	}
	for (size_t i = 0; i < gt->n; i++) {
		struct kent *f = &gt->v[i];
		if (f->rows & KENT_SEEN) /* counted with its source key */
			continue;
		uint32_t pi = rd[TGT].to_global[f->part];
		struct part *p = run.parts[pi];
		p->side[TGT].keys++;
		p->side[TGT].dups += f->rows > 1;
		p->extra++;
		add_diff(f->key, DIFF_EXTRA, pi, NULL, f);
	}
}

static void join(void)
{
	char err[512];
	run.spilled = rd[SRC].spilled || rd[TGT].spilled;
	if (run.spilled) /* what is still in memory, then bucket by bucket */
		for (int side = 0; side < 2; side++)
			spill(&rd[side]);
	for (size_t s = 0; s < NSEG; s++) {
		if (run.spilled)
			for (int side = 0; side < 2; side++)
				if (ktab_load(&rd[side].tab, run.tmpdir, side,
					      s, err, sizeof err) != 0)
					cli_die(EXIT_TROUBLE, "%s", err);
		for (int side = 0; side < 2; side++)
			if (ktab_seal_seg(&rd[side].tab, s, err,
					  sizeof err) != 0)
				cli_die(EXIT_TROUBLE, "%s: %s",
					rd[side].name, err);
		join_seg(s);
		ktab_clear_seg(&rd[SRC].tab, s);
		ktab_clear_seg(&rd[TGT].tab, s);
	}
}

struct want {
	uint64_t ordinal;
	struct diff *d;
};

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/*
 * Second read: the text of the differing keys, and their records.  Only
 * the lines that hold the first record of such a key on this side (by
 * ordinal, counted as the first read counted) are parsed; the rest are
 * only framed.  Each side writes only its own members of the diffs.
 */
static void find_keys(struct reader *r)
{
	char err[512];
	struct want *w = xmalloc((run.ndiffs + 1) * sizeof *w);
	size_t nw = 0;
	for (size_t i = 0; i < run.ndiffs; i++)
		if (run.diffs[i].first[r->side])
			w[nw++] = (struct want){run.diffs[i].first[r->side],
						&run.diffs[i]};
	qsort(w, nw, sizeof *w, want_cmp);
	struct lines *in = lines_open(r->reread, opt.max_line, err,
				      sizeof err);
	if (!in)
		rdie("%s", err);
	/* the input's name, not that of a pipe's copy */
	const char *name = r->name;
	/* A file replaced (renamed over) or cut short since the first read
	 * holds other records at the ordinals kept: the keys and records
	 * reported would be ones that were never compared.  Lines added at
	 * its end are no matter (a growing log). */
	struct stat now;
	if (r->have_file &&
	    (fstat(lines_fd(in), &now) != 0 || now.st_dev != r->file.st_dev ||
	     now.st_ino != r->file.st_ino || now.st_size < r->file.st_size))
		rdie("%s: replaced or cut short while reconcile ran; run it "
		     "again on inputs that hold still", name);
	struct line ln;
	struct scan_error se;
	int rc = 0;
	uint64_t ordinal = 0;
	size_t next = 0;
	/* a changed key's records give its field-level diff */
	bool want_rec = opt.show > 0 || !opt.keys_only;
	while (next < nw && (rc = lines_next(in, &ln, err, sizeof err)) == 1) {
		if (++ordinal != w[next].ordinal)
			continue;
		struct diff *d = w[next++].d;
		/* the first record of a key was good on the first read */
		if (ln.torn || ln.too_long ||
		    scan_record(&r->w0.cw.rec, ln.p, ln.len, &se) != 0 ||
		    ln.p[r->w0.cw.rec.start] != '{' ||
		    !eval_key(&r->w0, NULL, NULL, &r->keytext) ||
		    !fp_eq(value_fp(r->w0.cw.scratch.p, r->w0.cw.scratch.len),
			   d->key))
			rdie("%s:%" PRIu64 ": changed while reconcile ran",
			     name, ln.lineno);
		d->key_side[r->side] = xstrndup(r->keytext.p, r->keytext.len);
		if (want_rec && (opt.show > 0 || d->kind == DIFF_CHANGED))
			d->rec[r->side] = xstrndup(ln.p, ln.len);
	}
	if (rc < 0)
		rdie("%s", err);
	if (next < nw)
		rdie("%s: shorter than on the first read; changed while "
		     "reconcile ran", name);
	lines_close(in);
	free(w);
}

static int diff_cmp(const void *a, const void *b)
{
	const struct diff *x = a, *y = b;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (!x->key_text || !y->key_text)
		return !x->key_text - !y->key_text;
	return value_compare_spelled(x->key_text, strlen(x->key_text),
				     y->key_text, strlen(y->key_text));
}

/* ---- txlog inputs ---- */

static struct kid {
	pid_t pid;
	char *what;
} kids[8];
static size_t nkids;

/*
 * "txlog:PATH[@VERSION]": run `txlog cat PATH [--version N]` with its
 * output on a pipe, and return a path that reads the pipe.  A pipe is not
 * a regular file, so the first read keeps a copy for the second.
 */
/* The txlog installed beside this reconcile (the folder of
 * /proc/self/exe), so a table is read by the same release that reads
 * it; the one on PATH only when there is none. */
static const char *txlog_program(void)
{
	static char path[4096];
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			int k = snprintf(path, sizeof path, "%s/txlog", self);
			if (k > 0 && (size_t)k < sizeof path &&
			    access(path, X_OK) == 0)
				return path;
		}
	}
	return "txlog";
}

/* The table's path in "txlog:PATH[@VERSION]" (malloc'd), and in the
 * same block its version, or NULL. */
static char *txlog_split(const char *arg, char **version)
{
	char *path = xstrdup(arg + 6);
	char *at = strrchr(path, '@');
	*version = NULL;
	if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
		*at = '\0';
		*version = at + 1;
	}
	return path;
}

/* summarize: a table named twice, by a second path or at two versions
 * (one holds the other's records), would count its records twice, as a
 * file named twice would. */
static void tables_once(char *const *files)
{
	for (size_t i = 0; files[i]; i++) {
		char *vi, *pi;
		struct stat a, b;
		if (strncmp(files[i], "txlog:", 6) != 0)
			continue;
		pi = txlog_split(files[i], &vi);
		bool ok = stat(pi, &a) == 0;
		free(pi);
		for (size_t j = 0; ok && j < i; j++) {
			char *vj, *pj;
			if (strncmp(files[j], "txlog:", 6) != 0)
				continue;
			pj = txlog_split(files[j], &vj);
			bool same = stat(pj, &b) == 0 && a.st_dev == b.st_dev &&
				    a.st_ino == b.st_ino;
			free(pj);
			if (same)
				cli_die(EXIT_TROUBLE, "%s: the same table as %s: "
					"its records would count twice in the "
					"summary; name each table once",
					files[i], files[j]);
		}
	}
}

static const char *txlog_input(const char *arg)
{
	const char *prog = txlog_program();
	char *version;
	char *path = txlog_split(arg, &version);
	if (!*path)
		cli_usage_error("%s: want txlog:PATH[@VERSION]", arg);
	int fd[2];
	if (pipe(fd) != 0 || fcntl(fd[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0)
		cli_die(EXIT_TROUBLE, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		cli_die(EXIT_TROUBLE, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (version)
			execlp(prog, "txlog", "cat", path, "--version",
			       version, (char *)NULL);
		else
			execlp(prog, "txlog", "cat", path, (char *)NULL);
		fprintf(stderr, "reconcile: %s: cannot run txlog: %s\n", arg,
			strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	if (nkids < sizeof kids / sizeof kids[0])
		kids[nkids++] = (struct kid){pid, xstrdup(arg)};
	char *dev = xmalloc(32);
	snprintf(dev, 32, "/dev/fd/%d", fd[0]);
	free(path);
	return dev;
}

/* Every txlog cat must have succeeded, or its table was not read whole. */
static void txlog_wait(void)
{
	for (size_t i = 0; i < nkids; i++) {
		int st;
		if (waitpid(kids[i].pid, &st, 0) < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", kids[i].what,
				strerror(errno));
		if (st != 0) {
			char how[96];
			feed_status_describe(st, how, sizeof how);
			cli_die(EXIT_TROUBLE, "%s: txlog cat %s",
				kids[i].what, how);
		}
	}
	nkids = 0;
}

/* ---- running both sides ---- */

static void *find_thread(void *arg)
{
	find_keys(arg);
	return NULL;
}

/* fn on both readers, at once when threads are allowed. */
static void both(void *(*fn)(void *))
{
	pthread_t t;
	if (opt.threads == 1) {
		fn(&rd[SRC]);
		fn(&rd[TGT]);
		return;
	}
	if (pthread_create(&t, NULL, fn, &rd[TGT]) != 0)
		cli_die(EXIT_TROUBLE, "cannot start a thread");
	fn(&rd[SRC]);
	pthread_join(t, NULL);
}

static void reader_init(struct reader *r, int side)
{
	char err[512];
	struct worker *w = &r->w0;
	r->side = side;
	w->r = r;
	for (size_t k = 0; k < opt.nkeys; k++)
		if (!(w->key[k] = expr_compile(opt.key_src[k], err,
					       sizeof err)))
			cli_usage_error("-k: %s", err);
	for (size_t s = 0; s < opt.nsums; s++)
		if (!(w->sum[s] = expr_compile(opt.sum_src[s], err,
					       sizeof err)))
			cli_usage_error("--sum: %s", err);
	if (opt.by_src && !(w->by = expr_compile(opt.by_src, err, sizeof err)))
		cli_usage_error("--by: %s", err);
	columns_compile(w->col);
	r->part_ix = fpset_new(true);
	ktab_init(&r->tab);
	ktab_arena(&r->tab, opt.memory / 20 * 7);
}

/* ---- main ---- */

/* A pipe, a FIFO or a socket named as both sides (- and /dev/stdin,
 * one FIFO twice) is one stream: the target would read what the source
 * left of it, nothing, and every key would be missing.  A regular file
 * is read afresh by each side (a file against itself agrees), and a
 * device (/dev/null, a terminal) gives each its own reads. */
static void same_stream(const char *a, const char *b)
{
	struct stat sa, sb;
	if ((strcmp(a, "-") ? stat(a, &sa) : fstat(STDIN_FILENO, &sa)) != 0 ||
	    (strcmp(b, "-") ? stat(b, &sb) : fstat(STDIN_FILENO, &sb)) != 0 ||
	    !(S_ISFIFO(sa.st_mode) || S_ISSOCK(sa.st_mode)) ||
	    sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
		return;
	cli_usage_error("%s and %s are one stream (a pipe): "
			"the target would read only what the source left; "
			"save it to a file, or give it once", a, b);
}

static uint64_t default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return 1ull << 30;
	return (uint64_t)pages * (uint64_t)size / 4;
}

static void finish_inputs(void)
{
	cli_progress_done();
	for (int side = 0; side < 2; side++) {
		cli_stats.records_in += rd[side].records;
		cli_stats.bytes_in += rd[side].bytes;
	}
}

/* The dead letters go out once the report (or summary) that counts them
 * has: a run that dies before, on an input or on stdout, letters
 * nothing, so its re-run letters each bad record once.  A report said
 * twice is no harm; a letter appended twice is replayed twice. */
static void release_letters(void)
{
	cli_letters_release();
	cli_dlq_close(&run.dlq);
}

static void print_stats(void)
{
	char extra[256];
	if (!opt.stats)
		return;
	snprintf(extra, sizeof extra,
		 ",\"partitions\":%zu,\"differences\":%zu,\"spilled\":%s",
		 run.nparts, run.ndiffs, run.spilled ? "true" : "false");
	cli_stats_print(extra);
}

static void stop_on_record(int status)
{
	finish_inputs();
	print_stats();
	cli_exit(status);
}

int main(int argc, char **argv)
{
	enum { O_SUM = 256, O_BY, O_TOL, O_SHOW, O_KEYSONLY, O_FORMAT,
	       O_MEMORY, O_BUCKETS, O_BUCKET, O_SHARD, O_DLQ, O_STATS,
	       O_MAXLINE, O_COLUMNS, O_IGNORE,
	       O_VERSION, O_PARTITION, O_THREADS };
	bool have_buckets = false; /* --buckets given */
	uint64_t bucket = 0;          /* --bucket, as given */
	const char *bucket_text = NULL;
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"sum", required_argument, NULL, O_SUM},
		{"by", required_argument, NULL, O_BY},
		{"columns", required_argument, NULL, O_COLUMNS},
		{"ignore", required_argument, NULL, O_IGNORE},
		{"tolerance", required_argument, NULL, O_TOL},
		{"show", required_argument, NULL, O_SHOW},
		{"keys-only", no_argument, NULL, O_KEYSONLY},
		{"format", required_argument, NULL, O_FORMAT},
		{"memory", required_argument, NULL, O_MEMORY},
		{"buckets", required_argument, NULL, O_BUCKETS},
		{"bucket", required_argument, NULL, O_BUCKET},
		{"shard", required_argument, NULL, O_SHARD},
		{"partition", required_argument, NULL, O_PARTITION},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;

	cli_init("reconcile");
	const struct cli_verb *v = cli_verb_pick(verbs, NVERBS, &argc, &argv,
						 usage);
	const char *verb = v->name;
	opt.memory = default_memory();
	opt.threads = par_default_threads();
	/* -k, --sum, --columns and --ignore add up; the rest take one
	 * value (--tolerance 5 --tolerance 0 was 0) */
	cli_refuse_twice("key sum columns ignore");
	while ((c = cli_verb_getopt(v, argc, argv, "k:j:h", longopts)) != -1) {
		switch (c) {
		case 'k':
			if (opt.nkeys == MAX_KEYS)
				cli_usage_error("at most %d -k options",
						MAX_KEYS);
			opt.key_src[opt.nkeys++] = optarg;
			break;
		case O_SUM:
			if (opt.nsums == MAX_SUMS)
				cli_usage_error("at most %d --sum options",
						MAX_SUMS);
			/* one name, two members in every "sum" object */
			for (size_t i = 0; i < opt.nsums; i++)
				if (!strcmp(opt.sum_src[i], optarg))
					cli_usage_error("--sum: '%s' given "
							"twice", optarg);
			opt.sum_src[opt.nsums++] = optarg;
			break;
		case O_BY:
			opt.by_src = optarg;
			break;
		case O_COLUMNS: columns_option(false, optarg); break;
		case O_IGNORE: columns_option(true, optarg); break;
		case O_TOL: {
			struct scan_error se;
			size_t n = strlen(optarg);
			int bad = dec_parse(optarg, n, &opt.tolerance);
			/* a number past 38 digits is one, and not below 0 */
			if (bad && n && optarg[0] >= '0' && optarg[0] <= '9' &&
			    optarg[n - 1] >= '0' && optarg[n - 1] <= '9' &&
			    scan_validate(optarg, n, &se) == 0)
				cli_usage_error("--tolerance: '%s' is past what "
						"an exact decimal holds (%d "
						"digits)", optarg, DEC_DIGITS);
			if (bad || opt.tolerance.coef < 0)
				cli_usage_error("--tolerance: want a number "
						">= 0, got '%s'", optarg);
			opt.have_tolerance = true;
			break;
		}
		case O_SHOW: {
			/* past LLONG_MAX is every key (cast, it was -1:
			 * no --show) */
			uint64_t n = cli_count("--show", optarg);
			opt.show = n > LLONG_MAX ? LLONG_MAX : (long long)n;
			break;
		}
		case O_KEYSONLY: opt.keys_only = true; break;
		case O_FORMAT:
			if (!strcmp(optarg, "ndjson"))
				opt.format = FMT_NDJSON;
			else if (!strcmp(optarg, "table"))
				opt.format = FMT_TABLE;
			else
				cli_usage_error("--format: want ndjson or "
						"table, got '%s'", optarg);
			break;
		case O_MEMORY:
			opt.memory = cli_size("--memory", optarg);
			break;
		case O_BUCKETS: {
			uint64_t n = cli_count("--buckets", optarg);
			unsigned bits = 0;
			while ((1ull << bits) < n && bits < 16)
				bits++;
			if (n == 0 || (1ull << bits) != n)
				cli_usage_error("--buckets: want a power of "
						"two from 1 to 65536, got '%s'",
						optarg);
			opt.bucket_bits = bits;
			have_buckets = true;
			break;
		}
		case O_BUCKET:
			/* checked against --buckets below, which may come
			 * later: cast, 2^63 and up were -1, no --bucket */
			bucket = cli_count("--bucket", optarg);
			bucket_text = optarg;
			break;
		case O_SHARD: cli_shard_parse(&opt.shard, optarg); break;
		case O_PARTITION:
			cli_partition_parse(&opt.shard, optarg);
			break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			break;
		case 'j': opt.threads = cli_threads(optarg); break;
		case 'h':
			if (verb)
				cli_verb_help(v, option_help, NHELP);
			usage(EXIT_OK);
			break;
		case O_VERSION: cli_version(); break;
		}
	}
	if (bucket_text && bucket >= (1u << opt.bucket_bits))
		cli_usage_error("--bucket: %s is not below --buckets %u",
				bucket_text, 1u << opt.bucket_bits);
	if (bucket_text)
		opt.bucket = (long long)bucket;
	if (verb && !strcmp(verb, "compare")) {
		if (argc - optind != 2)
			cli_verb_usage_error(v, "want two summaries");
		cli_check_common_outputs(argv + optind, NULL, NULL, NULL);
		return summary_compare(argv[optind], argv[optind + 1]);
	}
	if (verb && !strcmp(verb, "merge")) {
		if (argc - optind < 1)
			cli_verb_usage_error(v, "want at least one summary");
		/* merge >> a.sum of a.sum: a.sum read, then two summaries in
		 * it, which no reader takes */
		cli_check_common_outputs(argv + optind, NULL, NULL, NULL);
		return summary_merge(argv + optind, argc - optind);
	}
	if (opt.nkeys == 0)
		cli_usage_error("-k EXPR is required");
	/* in a comparison, the buckets only choose what --bucket reads */
	if (have_buckets && !verb && opt.bucket < 0)
		cli_usage_error("--buckets goes with --bucket B (which bucket "
				"of how many to read) or with summarize; alone "
				"it changes nothing");
	if (opt.have_tolerance && opt.nsums == 0)
		cli_usage_error("--tolerance applies to the sums of --sum, and "
				"none is given: records and keys are compared "
				"exactly");
	if (opt.shard.n && !verb)
		cli_usage_error("%s goes with summarize (merge the "
				"shards' summaries with reconcile merge)",
				opt.shard.whole ? "--partition" : "--shard");
	/* --keys-only writes the keys alone, as NDJSON: records or a
	 * table next to it would be taken and never written. */
	if (opt.keys_only && opt.show > 0)
		cli_usage_error("--show does not apply to --keys-only, which "
				"writes the differing keys alone");
	if (opt.keys_only && opt.format == FMT_TABLE)
		cli_usage_error("--format table does not apply to --keys-only, "
				"which writes the differing keys as NDJSON");
	/* a --dlq that is an input reads its own dead letters back, and
	 * dead-letters them again, without end */
	cli_check_common_outputs(argv + optind, NULL, opt.dlq_path, NULL);

	run.part_ix = fpset_new(true);
	reader_init(&rd[SRC], SRC);
	reader_init(&rd[TGT], TGT);
	if (opt.dlq_path) {
		run.dlq = cli_dlq_open(opt.dlq_path);
		cli_letters_hold();
	}
	struct part **parts;
	size_t n;
	if (verb) { /* summarize */
		run.summarize = true;
		run.bkt = xcalloc((size_t)1 << opt.bucket_bits,
				  sizeof *run.bkt);
		char *stdin_only[] = {"-", NULL};
		char **files = optind < argc ? argv + optind : stdin_only;
		cli_inputs_once(files, "in the summary");
		tables_once(files);
		rd[SRC].threads = opt.threads;
		for (; *files; files++) {
			const char *f = *files;
			if (!strncmp(f, "txlog:", 6))
				f = txlog_input(f);
			read_input(&rd[SRC], f, *files);
			txlog_wait();
		}
		finish_inputs();
		parts_merge(&rd[SRC]);
		part_table_sorted(&parts, &n);
		/* --shard/--partition I/N: it holds shard I alone (shard 0
		 * of 1 is every key: the summary of the whole, byte for
		 * byte, as a merge of every shard writes it) */
		struct cover cov = {0};
		if (opt.shard.n > 1) {
			cov.of = opt.shard.n;
			cov.have = xcalloc(opt.shard.n, sizeof *cov.have);
			cov.have[opt.shard.i] = true;
		}
		summary_write(parts, n, run.bkt, &cov, ~rd[SRC].cols_seen,
			      rd[SRC].rejected);
		free(cov.have);
		cli_out_commit();
		release_letters();
		print_stats();
		cli_out_close();
		return EXIT_OK;
	}

	if (argc - optind != 2)
		cli_usage_error("want SOURCE and TARGET");
	const char *shown[2];
	for (int side = 0; side < 2; side++) {
		rd[side].path = shown[side] = argv[optind + side];
		if (!strncmp(rd[side].path, "txlog:", 6))
			rd[side].path = txlog_input(rd[side].path);
	}
	if (!strcmp(rd[SRC].path, "-") && !strcmp(rd[TGT].path, "-"))
		cli_usage_error("only one of SOURCE and TARGET can be -");
	same_stream(rd[SRC].path, rd[TGT].path);
	/* One side after the other, each parsed on every thread: read at
	 * once, the sides' dead letters would interleave and which side's
	 * bad record stops the run would depend on timing; this way -j N
	 * says and writes exactly what -j 1 does. */
	if (getenv("RECONCILE_NO_THREADS")) /* the bench's old spelling */
		opt.threads = 1;
	rd[SRC].threads = rd[TGT].threads = opt.threads;
	read_input(&rd[SRC], rd[SRC].path, shown[SRC]);
	read_input(&rd[TGT], rd[TGT].path, shown[TGT]);
	txlog_wait();
	finish_inputs();
	if (rd[SRC].projected || rd[TGT].projected) {
		/* the names of each side's first record, source first */
		size_t nn = 0;
		const char **names = NULL;
		for (int side = 0; side < 2; side++)
			for (char **p = rd[side].names; p && *p; p++) {
				names = xreallocarray(names, nn + 2,
						      sizeof *names);
				names[nn++] = *p;
				names[nn] = NULL;
			}
		columns_check(rd[SRC].cols_seen | rd[TGT].cols_seen, names);
		free(names);
	}
	parts_merge(&rd[SRC]);
	parts_merge(&rd[TGT]);
	join();
	if (run.ndiffs) {
		both(find_thread);
		for (size_t i = 0; i < run.ndiffs; i++) {
			struct diff *d = &run.diffs[i];
			d->key_text = d->key_side[SRC] ? d->key_side[SRC]
						       : d->key_side[TGT];
			if (d->kind == DIFF_CHANGED && d->rec[SRC] &&
			    d->rec[TGT])
				d->fields = columns_diff(rd[SRC].w0.col,
							 d->rec[SRC],
							 d->rec[TGT],
							 &run.fields,
							 &run.nfields);
			if (d->fields && !strcmp(d->fields, "{}")) {
				/* first records agree: the rows differ */
				free(d->fields);
				d->fields = NULL;
			}
			if (opt.show <= 0)
				for (int side = 0; side < 2; side++) {
					free(d->rec[side]);
					d->rec[side] = NULL;
				}
		}
		qsort(run.diffs, run.ndiffs, sizeof *run.diffs, diff_cmp);
	}
	part_table_sorted(&parts, &n);
	struct report_in rin = {
		.parts = parts, .nparts = n, .byidx = part_table_by_index(),
		.diffs = run.diffs, .ndiffs = run.ndiffs,
		.rejected = {rd[SRC].rejected, rd[TGT].rejected},
		.fields = run.fields, .nfields = run.nfields,
	};
	bool agree = report(&rin);
	cli_out_commit();
	release_letters();
	print_stats();
	cli_out_close();
	return agree ? EXIT_OK : EXIT_FINDING;
}
