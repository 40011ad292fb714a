/*
 * dlq stats, replay, purge: reading a dead-letter file and changing it.
 *
 * A replay hands out the originals of the replayable entries and writes
 * the replay ledger (dlq_ledger.h) first, naming each entry by the hash
 * of its line; the entries leave the file only when the replay commits
 * (CMD exits 0, or `dlq replay --commit`), by a rewrite that removes
 * exactly those lines and keeps everything appended meanwhile.  Entries
 * past --max-retries are parked (replayable false) by a rewrite of their
 * own before anything is handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "dlq.h"
#include "dlq_ledger.h"
#include "dlqtool.h"
#include "feed.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "xalloc.h"

/* The longest envelope read: no bound of its own.  A letter holds a
 * record as long as its writer's --max-line let through, plus its
 * fields, so 64M (LINES_DEFAULT_MAX) refused a file whose record was
 * just under it; a rewrite (dlq_rewrite) reads the whole file anyway. */
#define ENVELOPE_MAX (SIZE_MAX / 4)

/* ---- torn tails (dlq_ledger.h) ---- */

static void torn_cut_said(const char *path, uint64_t cut)
{
	if (cut)
		cli_warn("%s: cut off a torn last line of %" PRIu64 " bytes "
			 "(a writer killed mid-write; its run had not "
			 "finished)", path, cut);
}

/* dlq_rewrite, saying what it cut. */
static int rewrite(const char *path,
		   bool (*fn)(void *ctx, uint64_t lineno, const char *line,
			      size_t len, struct buf *out),
		   void *ctx, char *err, size_t errlen)
{
	uint64_t cut;
	int r = dlq_rewrite(path, fn, ctx, &cut, err, errlen);
	if (r == 0)
		torn_cut_said(path, cut);
	return r;
}

/* A reader meets an unterminated last line: a letter a killed writer
 * left torn, or one being written right now.  Not a letter yet: say so
 * and go on, never refuse the file for it. */
static void torn_read_said(const char *path, const struct line *ln)
{
	cli_warn("%s:%" PRIu64 ": unterminated last line (a writer killed "
		 "mid-write, or one writing now); not counted", path,
		 ln->lineno);
}

/* A dead-letter file named to replay or purge exists: every writer
 * creates it when it opens it, so a missing one is a wrong name, and
 * "nothing to do" (or an empty file made under it) would hide that.
 * Refused as stats refuses it, before any lock file is made. */
static void must_exist(const char *path)
{
	struct stat st;
	/* '-' is standard input to stats and every reader: taken here as
	 * a file of that name it rewrote a stray ./- */
	if (!strcmp(path, "-"))
		cli_die(EXIT_TROUBLE, "-: standard input cannot be rewritten; "
			"replay and purge rewrite the dead-letter file they "
			"name (./- for one called -)");
	if (stat(path, &st) != 0) {
		int e = errno;
		/* a replay pending on a file since removed: say what the
		 * leftover ledger is and that nothing can be committed */
		char *ledger = dlq_ledger_path(path);
		bool pending = e == ENOENT && access(ledger, F_OK) == 0;
		if (pending)
			cli_die(EXIT_TROUBLE, "%s: %s; a replay of it is "
				"pending in %s, which nothing can commit or "
				"roll back now (remove it)", path, strerror(e),
				ledger);
		free(ledger);
		cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(e));
	}
	/* Rewritten by rename: a FIFO would hang the read, a folder or
	 * a device has no entries to take out. */
	if (!S_ISREG(st.st_mode))
		cli_die(EXIT_TROUBLE, "%s: not a regular file; replay and "
			"purge rewrite the dead-letter file they name",
			path);
}

/* Before anything is handed out: the rewrite refuses a symbolic link
 * (after a replay through one had delivered its records), and another
 * name of the file (a link, a hard link) is another replay lock, so two
 * replays ran at once and handed the same records out twice, and a
 * rewrite through a hard link parted the names, leaving the replayed
 * entries in the other. */
static void must_be_one_name(const char *path)
{
	struct stat ls, st;
	if (lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode))
		cli_die(EXIT_TROUBLE, "%s: a symbolic link; replay and purge "
			"rewrite the dead-letter file they name: name the "
			"file itself", path);
	if (stat(path, &st) == 0 && st.st_nlink > 1)
		cli_die(EXIT_TROUBLE, "%s: the dead-letter file has %ju names "
			"(hard links); a rewrite replaces one name only and "
			"the names would part: keep one name", path,
			(uintmax_t)st.st_nlink);
}

/* ---- stats ---- */

struct tally {
	char *type;      /* decoded: "check\u005ffailed" is check_failed */
	size_t type_len; /* it may hold a NUL */
	uint64_t entries, replayable, parked;
	int64_t oldest, newest;
};

static int tally_cmp(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;
	int c = memcmp(x->type, y->type,
		       x->type_len < y->type_len ? x->type_len : y->type_len);
	return c ? c : (x->type_len > y->type_len) - (x->type_len < y->type_len);
}

static void tally_add(struct tally *t, const struct dlq_envelope *e)
{
	t->entries++;
	if (e->replayable)
		t->replayable++;
	else
		t->parked++;
	/* Every envelope is dated (dlq_envelope_parse): the first one sets
	 * both; no value stands for "none", since the earliest time there
	 * is, INT64_MIN ns, is a time an entry may carry. */
	if (t->entries == 1 || e->failed_at < t->oldest)
		t->oldest = e->failed_at;
	if (t->entries == 1 || e->failed_at > t->newest)
		t->newest = e->failed_at;
}

static void tally_print(const struct tally *t, bool table)
{
	char a[TIME_STRMAX] = "-", b[TIME_STRMAX] = "-";
	if (t->entries) {
		time_format(t->oldest, a);
		time_format(t->newest, b);
	}
	struct buf o = {0};
	if (table) {
		buf_addf(&o, "%-20s %8" PRIu64 " %10" PRIu64 " %7" PRIu64
			 "  %-24s %s", t->type ? t->type : "(all)", t->entries,
			 t->replayable, t->parked, a, b);
		/* a NUL in the type ends it here; the NDJSON keeps it */
	} else {
		buf_addc(&o, '{');
		jw_key(&o, "error_type", 1);
		if (t->type)
			jw_string(&o, t->type, t->type_len);
		else
			buf_adds(&o, "null");
		jw_key(&o, "entries", 0);
		jw_u64(&o, t->entries);
		jw_key(&o, "replayable", 0);
		jw_u64(&o, t->replayable);
		jw_key(&o, "parked", 0);
		jw_u64(&o, t->parked);
		jw_key(&o, "oldest", 0);
		if (t->entries)
			jw_str(&o, a);
		else
			buf_adds(&o, "null");
		jw_key(&o, "newest", 0);
		if (t->entries)
			jw_str(&o, b);
		else
			buf_adds(&o, "null");
		buf_addc(&o, '}');
	}
	cli_out_line(o.p, o.len);
	buf_free(&o);
}

int dlq_stats_main(const struct cli_verb *v, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = cli_verb_getopt(v, argc, argv, "h", longopts)) != -1) {
		if (c == 'h') {
			printf("Usage: dlq stats FILE...\nCount dead letters by "
			       "error type: entries, replayable, parked, oldest "
			       "and newest.\nNDJSON, or a table on a terminal; "
			       "the last line (error_type null) is the total.\n"
			       "\n"
			       "  -h, --help            show this help\n");
			cli_examples(stdout, v->examples);
			cli_exit(EXIT_OK);
		}
	}
	if (optind == argc)
		cli_verb_usage_error(v, "name the dead-letter FILE");
	cli_inputs_once(argv + optind, "in the stats");
	/* static: reachable when a bad envelope ends the run (LSan) */
	static struct tally *t;
	static struct scan_record rec;
	struct tally all = {0};
	size_t nt = 0;
	char err[512];
	for (int i = optind; i < argc; i++) {
		struct lines *in = lines_open(argv[i], ENVELOPE_MAX, err,
					      sizeof err);
		if (!in)
			cli_die(EXIT_TROUBLE, "%s", err);
		struct line ln;
		int r;
		while ((r = lines_next(in, &ln, err, sizeof err)) == 1) {
			struct dlq_envelope e;
			if (ln.unterminated) {
				torn_read_said(argv[i], &ln);
				continue;
			}
			if (ln.too_long ||
			    dlq_envelope_parse(&rec, ln.p, ln.len, &e) != 0) {
				uint64_t at = ln.lineno;
				const char *why = ln.too_long ? "" : e.bad;
				lines_close(in);
				cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": not a "
					"dead-letter envelope%s", argv[i], at,
					why);
			}
			size_t len = 0;
			char *type = scan_strdup_lit_len(
				e.error_type, e.error_type_len, &len);
			size_t k;
			for (k = 0; k < nt; k++)
				if (t[k].type_len == len &&
				    !memcmp(t[k].type, type, len))
					break;
			if (k == nt) {
				t = xreallocarray(t, nt + 1, sizeof *t);
				t[nt] = (struct tally){.type = type,
						       .type_len = len};
				nt++;
			} else {
				free(type);
			}
			tally_add(&t[k], &e);
			tally_add(&all, &e);
		}
		lines_close(in);
		if (r < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
	}
	if (nt) /* an empty file has no tallies to sort */
		qsort(t, nt, sizeof *t, tally_cmp);
	bool table = isatty(STDOUT_FILENO);
	if (table)
		printf("%-20s %8s %10s %7s  %-24s %s\n", "error_type",
		       "entries", "replayable", "parked", "oldest", "newest");
	for (size_t k = 0; k < nt; k++)
		tally_print(&t[k], table);
	tally_print(&all, table);
	for (size_t k = 0; k < nt; k++)
		free(t[k].type);
	free(t);
	scan_record_free(&rec);
	cli_out_close();
	return EXIT_OK;
}

/* ---- replay ---- */

struct pending {
	struct dlq_ledger_entry *e;
	size_t n, cap;
	uint64_t max_retries;
	uint64_t lines;     /* FILE's lines when collected: the ledger's base */
	struct dlq_ledger_run run; /* this replay's, in its ledger */
	struct buf out;     /* the originals, one per line */
	struct buf scratch;
	uint64_t parked;
};

static int hash_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct dlq_ledger_entry *)a)->line_hash,
		 y = ((const struct dlq_ledger_entry *)b)->line_hash;
	return x < y ? -1 : x > y;
}

/* Parking: every replayable entry at --max-retries or past it becomes
 * replayable false; the rest pass unchanged. */
static bool park_line(void *vctx, uint64_t lineno, const char *line,
		      size_t len, struct buf *out)
{
	(void)lineno;
	struct pending *p = vctx;
	static struct scan_record rec;
	struct dlq_envelope e;
	if (dlq_envelope_parse(&rec, line, len, &e) == 0 && e.replayable &&
	    e.retry_count >= p->max_retries) {
		static struct path rp;
		static bool ready;
		const char *v, *why;
		size_t vl;
		if (!ready)
			ready = path_parse(".replayable", &rp) == 0;
		if (path_lookup_record(&rp, &rec, &v, &vl, &why) ==
		    PATH_FOUND) {
			buf_add(out, line, (size_t)(v - line));
			buf_adds(out, "false");
			buf_add(out, v + vl, len - (size_t)(v + vl - line));
			buf_addc(out, '\n');
			p->parked++;
			return true;
		}
	}
	buf_add(out, line, len);
	buf_addc(out, '\n');
	return true;
}

/* Drop each line named in the ledger, once per mention. */
static bool drop_line(void *vctx, uint64_t lineno, const char *line,
		      size_t len, struct buf *out)
{
	(void)lineno;
	struct pending *p = vctx;
	struct dlq_ledger_entry key = {.line_hash = dlq_line_hash(line, len)};
	struct dlq_ledger_entry *hit =
		bsearch(&key, p->e, p->n, sizeof *p->e, hash_cmp);
	if (hit) {
		while (hit > p->e && hit[-1].line_hash == key.line_hash)
			hit--;
		for (; hit < p->e + p->n && hit->line_hash == key.line_hash;
		     hit++)
			if (hit->retry_count != UINT64_MAX) {
				hit->retry_count = UINT64_MAX; /* used */
				return true;
			}
	}
	buf_add(out, line, len);
	buf_addc(out, '\n');
	return true;
}

/* Append the original record of e to out (a raw line: its bytes) and
 * return its ledger fingerprint. */
static struct fp128 add_original(struct buf *out, const struct dlq_envelope *e,
				 enum value_keys keys, struct buf *scratch)
{
	size_t start = out->len;
	dlq_envelope_original(e, out);
	return dlq_ledger_fp(out->p + start, out->len - start, !e->raw, keys,
			     scratch);
}

static void collect(struct pending *p, const char *path)
{
	char err[512];
	struct lines *in = lines_open(path, ENVELOPE_MAX, err,
				      sizeof err);
	if (!in) {
		if (access(path, F_OK) != 0)
			return; /* no file: nothing to replay */
		cli_die(EXIT_TROUBLE, "%s", err);
	}
	struct scan_record rec = {0};
	struct line ln;
	int r;
	while ((r = lines_next(in, &ln, err, sizeof err)) == 1) {
		struct dlq_envelope e;
		if (ln.unterminated) { /* cut before; a writer's, in flight */
			torn_read_said(path, &ln);
			continue;
		}
		if (ln.too_long || dlq_envelope_parse(&rec, ln.p, ln.len, &e) != 0)
			cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": not a dead-letter "
				"envelope%s", path, ln.lineno,
				ln.too_long ? "" : e.bad);
		p->lines++;
		if (!e.replayable)
			continue;
		p->e = xgrow(p->e, &p->cap, p->n, sizeof *p->e, 64);
		p->e[p->n].line_hash = dlq_line_hash(ln.p, ln.len);
		p->e[p->n].fp = add_original(&p->out, &e, VALUE_KEYS_INSTANT,
					     &p->scratch);
		p->e[p->n].retry_count = e.retry_count;
		p->n++;
		buf_addc(&p->out, '\n');
	}
	lines_close(in);
	scan_record_free(&rec);
	if (r < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}

/* Feed the originals to cmd: its wait(2) status (0: exited 0), or -1
 * when it exited 0 without reading all of them (--allow-unread: that is
 * fine), or -2 when its output to our standard output, a pipe, was left
 * in it by its reader, or -3 when that reader has gone
 * (feed_cmd_out_taken). */
static int run_replay(char **cmd, const struct pending *p, bool allow_unread,
		      uint64_t *unread)
{
	char err[512], id[17];
	/* its letters of these records say this run: see dlq_ledger.h */
	dlq_ledger_run_hex(p->run.id, id);
	struct feed *f = feed_start(cmd, DLQ_REPLAY_ENV, id, err, sizeof err);
	if (!f || feed_write(f, p->out.p ? p->out.p : "", p->out.len, err,
			     sizeof err) < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	int rc = feed_finish(f, unread, err, sizeof err);
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (rc == 0 && *unread > 0 && !allow_unread)
		return -1;
	/* its output, when it writes to our standard output and that is
	 * a pipe: a reader that left some in it never got it */
	uint64_t left;
	int out = rc == 0 ? feed_cmd_out_taken(STDOUT_FILENO, &left) : 0;
	return out ? -1 - out : rc;
}

/* ---- a replay that did not finish ---- */

struct settle {
	struct dlq_ledger_entry *e; /* by line_hash, then by fp_cmp */
	bool *used;                 /* e[k] has accounted for a line */
	size_t n;
	uint64_t base, lineno, originals, dropped;
	enum value_keys keys; /* the form of the ledger's fingerprints */
	struct dlq_ledger_run run; /* id 0: an old ledger, letters unmarked */
	struct buf scratch, tmp;
};

static int settle_has(const struct settle *st, uint64_t line_hash)
{
	struct dlq_ledger_entry key = {.line_hash = line_hash};
	return bsearch(&key, st->e, st->n, sizeof *st->e, hash_cmp) != NULL;
}

/* By record fingerprint, then retry_count. */
static int fp_cmp(const void *a, const void *b)
{
	const struct dlq_ledger_entry *x = a, *y = b;
	int c = value_fp_cmp(x->fp, y->fp);
	return c ? c
		 : (x->retry_count > y->retry_count) -
			   (x->retry_count < y->retry_count);
}

/* By record fingerprint alone. */
static int fp_only_cmp(const void *a, const void *b)
{
	const struct dlq_ledger_entry *x = a, *y = b;
	return value_fp_cmp(x->fp, y->fp);
}

/* Drop an entry the unfinished replay's command dead-lettered again: after
 * the base, with a ledger record's fingerprint, a retry_count above 0 and
 * the replay's run id (another writer's letter of the record has none, or
 * another; a ledger before version 6 has none to match); each ledger
 * entry accounts for one.  Not matched on retry_count: a
 * record in the ledger twice (at retry_count 3 and 4, say) comes back as
 * 4 and 5 in the order handed out, but a writer lettering it more often
 * than that (or one of an older version) gives the highest + 1, so an
 * exact match could keep one of them: a duplicate. */
static bool unreplay_line(void *vctx, uint64_t lineno, const char *line,
			  size_t len, struct buf *out)
{
	(void)lineno;
	struct settle *st = vctx;
	static struct scan_record rec;
	struct dlq_envelope e;
	if (++st->lineno > st->base &&
	    dlq_envelope_parse(&rec, line, len, &e) == 0 && e.retry_count > 0 &&
	    (st->run.id == 0 || e.replay_id == st->run.id)) {
		st->tmp.len = 0;
		struct dlq_ledger_entry key = {
			.fp = add_original(&st->tmp, &e, st->keys,
					   &st->scratch),
		};
		struct dlq_ledger_entry *hit =
			bsearch(&key, st->e, st->n, sizeof *st->e, fp_only_cmp);
		if (hit) {
			while (hit > st->e && fp_only_cmp(hit - 1, &key) == 0)
				hit--;
			for (; hit < st->e + st->n &&
			       fp_only_cmp(hit, &key) == 0;
			     hit++)
				if (!st->used[hit - st->e]) {
					st->used[hit - st->e] = true;
					st->dropped++;
					return true;
				}
		}
	}
	buf_add(out, line, len);
	buf_addc(out, '\n');
	return true;
}

/*
 * A ledger left behind by a replay that was killed or whose command failed
 * (dlq_ledger.h).  If none of its originals is left, the replay's commit
 * had replaced FILE: only the ledger goes.  Otherwise nothing was
 * committed: the entries its command dead-lettered again go, so each
 * record is in FILE once, as before the replay.
 */
static void settle_ledger(const char *path, bool quiet)
{
	char err[512];
	struct settle st = {0};
	bool orphan, delivered;
	int r = dlq_ledger_read(path, &st.e, &st.n, &st.base, &delivered,
				&st.keys, &orphan, &st.run, err, sizeof err);
	if (r < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (r == 0)
		return;
	qsort(st.e, st.n, sizeof *st.e, hash_cmp);
	struct lines *in = lines_open(path, ENVELOPE_MAX, err,
				      sizeof err);
	if (in) {
		struct line ln;
		while (lines_next(in, &ln, err, sizeof err) == 1)
			if (settle_has(&st, dlq_line_hash(ln.p, ln.len)))
				st.originals++;
		lines_close(in);
	}
	if (st.originals > 0 && orphan) {
		/* FILE was replaced since the replay (its ledger says which
		 * file it was of): the ledger's base counts the old file's
		 * lines, and a rollback by it would take this file's
		 * entries for re-letters */
		if (!quiet)
			cli_warn("%s: replaced since the last replay (its "
				 "ledger is of the file there before); ledger "
				 "removed, nothing rolled back", path);
	} else if (st.originals > 0) {
		qsort(st.e, st.n, sizeof *st.e, fp_cmp);
		st.used = xcalloc(st.n + 1, sizeof *st.used);
		if (rewrite(path, unreplay_line, &st, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		/* one delivered to standard output was waiting for its
		 * --commit, which now finds this replay, or none */
		if (!quiet && delivered && !st.run.fed)
			cli_warn("%s: the replay to standard output before "
				 "this one was delivered but not committed "
				 "(--commit): abandoned, its entries handed out "
				 "again; %" PRIu64 " entr%s its reader "
				 "dead-lettered again removed, the originals "
				 "kept", path, st.dropped,
				 st.dropped == 1 ? "y" : "ies");
		else if (!quiet)
			cli_warn("%s: an unfinished replay rolled back: %" PRIu64
				 " entr%s it dead-lettered again removed, "
				 "the originals kept", path, st.dropped,
				 st.dropped == 1 ? "y" : "ies");
	} else if (!quiet) {
		cli_warn("%s: the last replay had committed%s; its ledger "
			 "removed", path, orphan ? " (or the file was replaced "
			 "since)" : "");
	}
	if (dlq_ledger_remove(path, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	free(st.e);
	free(st.used);
	buf_free(&st.scratch);
	buf_free(&st.tmp);
}

static void commit_replay(const char *path, struct pending *p)
{
	char err[512];
	qsort(p->e, p->n, sizeof *p->e, hash_cmp);
	if (rewrite(path, drop_line, p, err, sizeof err) != 0 ||
	    dlq_ledger_remove(path, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* an entry edited or removed since it was handed out is not
	 * found by its line: nothing of it is removed, and that is said */
	size_t missed = 0;
	for (size_t k = 0; k < p->n; k++)
		missed += p->e[k].retry_count != UINT64_MAX;
	if (missed)
		cli_warn("%s: %zu of the %zu entries the replay handed out "
			 "%s no longer there as %s handed out (changed or "
			 "removed since); nothing of %s removed", path, missed,
			 p->n, missed == 1 ? "was" : "were",
			 missed == 1 ? "it was" : "they were",
			 missed == 1 ? "it" : "them");
}

int dlq_replay_main(const struct cli_verb *v, int argc, char **argv)
{
	enum { O_MAX = 256, O_COMMIT, O_UNREAD };
	static const struct option longopts[] = {
		{"max-retries", required_argument, NULL, O_MAX},
		{"commit", no_argument, NULL, O_COMMIT},
		{"allow-unread", no_argument, NULL, O_UNREAD},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct pending p; /* static: held until exit, never leaked */
	p.max_retries = UINT64_MAX;
	bool commit = false, allow_unread = false;
	char **cmd = NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			break;
		}
	int c;
	cli_refuse_twice(""); /* each takes one value */
	while ((c = cli_verb_getopt(v, argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case O_MAX: p.max_retries = cli_count("--max-retries", optarg);
			break;
		case O_COMMIT: commit = true; break;
		case O_UNREAD: allow_unread = true; break;
		case 'h':
			printf("Usage: dlq replay FILE [--max-retries N] "
			       "[--allow-unread] [-- CMD [ARG]...]\n"
			       "       dlq replay FILE --commit\nEmit the "
			       "replayable originals; they leave FILE only when "
			       "the replay commits:\nCMD exits 0 having read "
			       "all of them (--allow-unread: read or not).\n"
			       "\n"
			       "      --max-retries N   park the entries with "
			       "retry_count N or more\n"
			       "      --allow-unread    commit when CMD exits 0 "
			       "without reading them all\n"
			       "      --commit          commit the replay last "
			       "written to standard output\n"
			       "  -h, --help            show this help\n");
			cli_examples(stdout, v->examples);
			cli_exit(EXIT_OK);
		}
	}
	if (optind + 1 != argc)
		cli_verb_usage_error(v, "name one dead-letter FILE");
	if (cmd && (!cmd[0] || commit))
		cli_verb_usage_error(v, "give a command after '--', or "
				"--commit, not both");
	if (allow_unread && !cmd)
		cli_verb_usage_error(v, "--allow-unread applies to a command "
				"after '--'");
	/* --commit takes the replay as it was emitted: a bound now would
	 * be ignored, not applied */
	if (commit && p.max_retries != UINT64_MAX)
		cli_verb_usage_error(v, "--max-retries does not apply to "
				"--commit (give it to the replay itself)");
	const char *path = argv[optind];
	must_exist(path);
	if (!commit) {
		/* `dlq replay q >> q`: originals (or the command's output)
		 * written into the file of envelopes would make it no
		 * dead-letter file, as check and retry refuse too */
		static const struct cli_output out = {"standard output", NULL,
						      true};
		char *const files[] = {(char *)path, NULL};
		cli_check_outputs(&out, 1, files);
	}
	must_be_one_name(path);
	if (cmd && !feed_out_open(STDOUT_FILENO))
		cli_die(EXIT_TROUBLE, "standard output is closed: what %s "
			"writes there would be lost, and it may exit 0 all the "
			"same; give it /dev/null to discard it", cmd[0]);
	char err[512];
	int lk = commit_lock(path, err, sizeof err);
	if (lk == -2)
		cli_die(EXIT_TEMPFAIL, "%s", err);
	if (lk < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* The ledger is written under this lock: its temps found now are
	 * those of killed replays. */
	char *ledger = dlq_ledger_path(path);
	if (commit_clean_stale(ledger, NULL, NULL, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	free(ledger);
	if (commit) {
		bool delivered;
		struct dlq_ledger_run run;
		int r = dlq_ledger_read(path, &p.e, &p.n, NULL, &delivered,
					NULL, NULL, &run, err, sizeof err);
		if (r < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		/* a replay to a command commits itself or rolls back; its
		 * ledger left means it was killed, its command's work
		 * unknown: not the replay to standard output --commit is
		 * for */
		if (r > 0 && run.fed)
			cli_die(EXIT_TROUBLE, "%s: the last replay was to a "
				"command and did not finish (killed); nothing "
				"committed: replay again", path);
		/* only what reached the reader: a replay whose output
		 * failed or was cut (SIGPIPE, a kill) is not committed */
		if (r > 0 && !delivered)
			cli_die(EXIT_TROUBLE, "%s: the last replay's output did "
				"not all reach standard output (a write failed, "
				"or it was killed); nothing committed: replay "
				"again", path);
		if (r > 0)
			commit_replay(path, &p);
		else /* the one meant may have been abandoned: say it */
			cli_warn("%s: no replay pending (the last one to standard "
				 "output was committed, or a later replay "
				 "abandoned it and handed its entries out "
				 "again); nothing committed", path);
		return EXIT_OK;
	}
	int64_t cut = dlq_cut_torn(path, err, sizeof err);
	if (cut < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	torn_cut_said(path, (uint64_t)cut);
	/* A replay still pending (killed, or emitted and never committed) is
	 * abandoned: this one starts from FILE as it was before it. */
	settle_ledger(path, false);
	if (p.max_retries != UINT64_MAX && access(path, F_OK) == 0 &&
	    rewrite(path, park_line, &p, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (p.parked)
		cli_warn("%s: %" PRIu64 " entr%s past --max-retries %" PRIu64
			 " parked", path, p.parked, p.parked == 1 ? "y" : "ies",
			 p.max_retries);
	collect(&p, path);
	if (p.n == 0) {
		dlq_ledger_remove(path, err, sizeof err);
		return EXIT_OK;
	}
	/* The ledger first: a record that fails again while it exists is
	 * dead-lettered with retry_count + 1. */
	p.run = (struct dlq_ledger_run){dlq_ledger_run_id(), cmd != NULL};
	if (dlq_ledger_write(path, p.e, p.n, p.lines, false, &p.run, err,
			     sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (!cmd) {
		cli_out(p.out.p, p.out.len);
		/* dies on a write error: still undelivered; fsynced when a
		 * file, so the ledger never says delivered before the
		 * bytes are on disk */
		cli_out_commit();
		/* a pipe's reader that left some in it (`| head -c 10`, all
		 * of it in the pipe buffer) did not get them */
		uint64_t unread;
		if (feed_out_taken(STDOUT_FILENO, &unread))
			cli_out_gone();
		cli_out_close();
		if (dlq_ledger_write(path, p.e, p.n, p.lines, true, &p.run,
				     err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		return EXIT_OK; /* pending until dlq replay --commit */
	}
	uint64_t unread;
	int rc = run_replay(cmd, &p, allow_unread, &unread);
	if (rc != 0) {
		settle_ledger(path, true);
		if (rc == -3)
			cli_warn("%s exited 0, but the reader of standard "
				 "output has gone: what %s wrote there may not "
				 "have reached it; nothing removed from %s",
				 cmd[0], cmd[0], path);
		else if (rc == -2)
			cli_warn("%s exited 0, but the reader of standard "
				 "output left some of its output unread in the "
				 "pipe; nothing removed from %s", cmd[0], path);
		else if (rc < 0)
			cli_warn("%s exited 0 leaving %" PRIu64 " of %zu bytes "
				 "unread; nothing removed from %s "
				 "(--allow-unread for a command that may ignore "
				 "its input)", cmd[0], unread, p.out.len, path);
		else {
			char how[96];
			feed_status_describe(rc, how, sizeof how);
			cli_warn("%s %s; nothing removed from %s", cmd[0], how,
				 path);
		}
		return feed_status_exited(rc, EXIT_TEMPFAIL) ? EXIT_TEMPFAIL
							      : EXIT_TROUBLE;
	}
	/* the command's output, when our standard output is a file it
	 * wrote, is on disk before its entries leave FILE */
	cli_out_commit();
	commit_replay(path, &p);
	return EXIT_OK;
}

/* ---- purge ---- */

struct purge {
	int64_t before;
	uint64_t dropped;
	uint64_t bad_line; /* the line that is not an envelope */
	const char *bad;   /* why, as dlq_envelope_parse says */
};

static bool purge_line(void *vctx, uint64_t lineno, const char *line,
		       size_t len, struct buf *out)
{
	struct purge *pg = vctx;
	static struct scan_record rec;
	struct dlq_envelope e;
	/* An entry whose age cannot be read is neither purged nor kept in
	 * silence: "nothing purged" would be said of an entry never judged */
	if (dlq_envelope_parse(&rec, line, len, &e) != 0) {
		pg->bad_line = lineno;
		pg->bad = e.bad;
		return false;
	}
	if (e.failed_at < pg->before) {
		pg->dropped++;
		return true;
	}
	buf_add(out, line, len);
	buf_addc(out, '\n');
	return true;
}

int dlq_purge_main(const struct cli_verb *v, int argc, char **argv)
{
	enum { O_OLDER = 256 };
	static const struct option longopts[] = {
		{"older-than", required_argument, NULL, O_OLDER},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int64_t older = -1;
	const char *older_arg = NULL;
	int c;
	cli_refuse_twice(""); /* each takes one value */
	while ((c = cli_verb_getopt(v, argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case O_OLDER: older = cli_duration("--older-than", optarg);
			older_arg = optarg;
			break;
		case 'h':
			printf("Usage: dlq purge --older-than DUR FILE\nRemove "
			       "the entries that failed more than DUR ago; "
			       "FILE is rewritten atomically.\n"
			       "\n"
			       "      --older-than DUR  remove the entries that "
			       "failed more than DUR ago\n"
			       "  -h, --help            show this help\n");
			cli_examples(stdout, v->examples);
			cli_exit(EXIT_OK);
		}
	}
	if (older < 0)
		cli_verb_usage_error(v, "--older-than DUR is required");
	if (optind + 1 != argc)
		cli_verb_usage_error(v, "name one dead-letter FILE");
	must_exist(argv[optind]);
	must_be_one_name(argv[optind]);
	char err[512];
	/* A pending replay's ledger counts the lines FILE held when it
	 * read them: its rollback takes the lines after that many for
	 * what its command dead-lettered again.  Lines purged from before
	 * them would move re-letters in front of that count, to be kept
	 * beside their originals (a record twice).  So a purge waits for
	 * a replay running (the replay lock) and refuses a pending one. */
	const char *path = argv[optind];
	int lk = commit_lock(path, err, sizeof err);
	if (lk == -2)
		cli_die(EXIT_TEMPFAIL, "%s", err);
	if (lk < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	struct dlq_ledger_entry *pend;
	size_t npend;
	bool orphan;
	int lr = dlq_ledger_read(path, &pend, &npend, NULL, NULL, NULL,
				 &orphan, NULL, err, sizeof err);
	if (lr < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (lr > 0)
		free(pend);
	if (lr > 0 && !orphan) {
		cli_die(EXIT_TROUBLE, "%s: a replay is pending (%s.replay); "
			"nothing purged: commit it ('dlq replay %s --commit'), "
			"or replay again, first", path, path, path);
	}
	struct purge pg = {.before = time_now() - older};
	int rc = rewrite(argv[optind], purge_line, &pg, err, sizeof err);
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (rc > 0)
		cli_die(EXIT_TROUBLE, "%s:%" PRIu64 ": not a dead-letter "
			"envelope%s; nothing purged", argv[optind], pg.bad_line,
			pg.bad);
	/* entries removed for good: how many is said, none too (a wrong
	 * duration is not taken for done) */
	if (pg.dropped)
		cli_warn("%s: %" PRIu64 " entr%s purged (failed more than %s "
			 "ago)", argv[optind], pg.dropped,
			 pg.dropped == 1 ? "y" : "ies", older_arg);
	else
		cli_warn("%s: no entry failed more than %s ago; nothing "
			 "purged", argv[optind], older_arg);
	return EXIT_OK;
}
