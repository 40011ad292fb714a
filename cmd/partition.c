/*
 * partition: the shuffle in front of `--shard I/N`.  One pass over an
 * input (a file, a split of one, stdin) sends each record to partition
 * fp.hi % N of its key's fingerprint: the hash and the key semantics of
 * --shard (cli_shard_mine), so partition I holds exactly the keys shard I
 * owns, and shard I reads its partition instead of the whole input.
 *
 *   -k EXPR...   the key as dedup -k and reconcile -k read it (one -k:
 *                its value; several: their tuple; none: the whole record)
 *   -g EXPR...   the key as window -g reads it (always the tuple)
 *
 * Output is PARTITION<TAB>RECORD lines on stdout (the form Hadoop
 * Streaming's partitioner and GNU parallel --bin read), or with -o DIR a
 * new folder DIR holding 0.ndjson .. N-1.ndjson that appears whole or not
 * at all: the files are written in DIR.tmp.XXXXXX, fsynced, and the
 * folder renamed into place and its parent fsynced, so a batch job that
 * dies leaves no DIR to mistake for a finished one.
 *
 * A run killed by a signal cannot remove its DIR.tmp.XXXXXX; the next
 * run over DIR does, once it knows for sure that no one writes it: the
 * writer holds a flock on a file in it, LOCK_FILE, for its whole life
 * (the kernel lets go when it dies), and the file gets that name only
 * once it is locked (made under another, locked, renamed), so a folder
 * holding LOCK_FILE whose lock can be taken is a dead run's.  A folder
 * without it (a run's first instant, an older partition's, anyone's
 * folder of that name) is never touched.
 *
 * Event time.  A shard that sees only its keys would see its own
 * watermark lag.  With -t the partitioner keeps the watermark of the
 * whole input (newest event time - --delay, lib/wm) and, before a record
 * goes to partition p, writes {"_watermark":W} to p if W moved since p
 * last heard it; at the end every partition gets the last W.  So each
 * shard judges each of its records against the W one process would have
 * had at that record, and window --shard over partitions fires the panes
 * one process fires.  Without -t, _watermark lines in the input are that
 * progress (with -g) and are broadcast the same way.
 *
 * Why a binary of its own, not an option of dedup: it serves every keyed
 * tool (dedup's and reconcile's -k, window's -g), keeps no state, and
 * writes N outputs; as a Streaming mapper it must be a small exec that
 * does only this.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badrec.h"
#include "buf.h"
#include "cli.h"
#include "commit.h"
#include "dlq.h"
#include "expr.h"
#include "fault.h"
#include "jsonw.h"
#include "lines.h"
#include "par.h"
#include "scan.h"
#include "statefile.h"
#include "timefmt.h"
#include "value.h"
#include "wm.h"
#include "xalloc.h"

#define MAX_KEYS 16
#define PART_BUF_MAX (64u << 10)
#define PART_BUF_TOTAL (32u << 20) /* all partitions' buffers together */
#define LOCK_FILE ".partition.lock"  /* in DIR.tmp.XXXXXX: held by its run */
#define LOCK_FILE_NEW ".partition.lock.new"

static struct {
	struct expr *keys[MAX_KEYS];
	size_t nkeys;
	bool tuple; /* -g: the key is always the tuple, as window reads it */
	uint32_t n;
	const char *dir; /* -o DIR; NULL: PARTITION<TAB>RECORD on stdout */
	struct expr *time;
	int64_t delay;
	enum time_unit unit;
	const char *dlq_path;
	bool stats;
	size_t max_line;
	int threads;
} opt = {.unit = TIME_S, .max_line = LINES_DEFAULT_MAX};

/* One partition's output under -o: a file and its buffer. */
struct part {
	int fd;
	char *buf;
	size_t len;
	uint64_t records;
};

static struct {
	struct part *parts;
	size_t bufsize;
	char *tmpdir; /* -o: the folder being written, until renamed */
	int lockfd;   /* its LOCK_FILE, flocked for the run's life, or -1 */
	struct buf line;
	struct dlq *dlq;
	struct wm *wm;
	bool have_w; /* W exists (from -t, or an upstream _watermark) */
	int64_t w;
	int64_t *sent; /* per partition: the last W written to it */
	bool *heard;   /* per partition: has it had one */
	uint64_t marks, replaced, carried;
} run;

/* The tool and its options, for lib/cli's front end: the usage line
 * refusals print, and the examples --help ends with (they run in an
 * empty folder: tests/frontend.bats). */
static const struct cli_verb self = {
	NULL, "-n N [-k EXPR]... [-o DIR] [OPTION]... [FILE]...", NULL,
	"Send each record to partition I of N by its key",
	 "  printf '{\"id\":%d}\\n' 1 2 3 4 > orders.ndjson\n"
	 "  partition -n 2 -k .id -o parts orders.ndjson\n"
	 "  dedup -k .id --partition 1/2 parts/1.ndjson\n"};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: partition -n N [-k EXPR]... [-o DIR] [OPTION]... [FILE]...\n"
"       partition -n N -g EXPR... [-t EXPR [--delay DUR]] [-o DIR]\n"
"                 [OPTION]... [FILE]...\n"
"Send each NDJSON record to partition I of N by its key's hash: the hash\n"
"of --shard I/N, so partition I holds exactly the keys shard I owns.\n"
"\n"
"  -n, --partitions N    how many partitions (the N of --shard I/N)\n"
"  -k, --key EXPR        key as dedup -k and reconcile -k read it\n"
"                        (repeatable; default: the whole record, by value)\n"
"  -g, --group EXPR      key as window -g reads it (repeatable)\n"
"  -o, --output DIR      write DIR/0.ndjson .. DIR/N-1.ndjson; DIR must\n"
"                        not exist, and appears whole or not at all;\n"
"                        default: PARTITION<TAB>RECORD lines on stdout\n"
"  -t, --time EXPR       event time: send the watermark of the whole input\n"
"                        to every partition as {\"_watermark\":...} lines\n"
"                        (with -g)\n"
"      --delay DUR       watermark = newest event time - DUR (default 0)\n"
"      --time-unit s|ms|us|ns\n"
"                        the unit of epoch numbers (default s)\n"
"      --dlq FILE        dead-letter bad records instead of stopping\n"
"      --max-line SIZE   longest accepted line (default 64M)\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -j, --threads N       hash on N threads (0: every core; default: the\n"
"                        cores, at most 8); output is the same for any N\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"

"Exit status: 0 done, 2 trouble (usage, I/O, bad input without --dlq).\n"
"See partition(1) and idem(7), SCALE-OUT.\n");
	cli_examples(f, self.examples);
	cli_exit(status);
}

/* ---- the output folder ---- */

/* Remove the half-written folder of a run that did not finish. */
static void drop_tmpdir(void)
{
	if (!run.tmpdir)
		return;
	for (uint32_t i = 0; run.parts && i < opt.n; i++) {
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%s/%" PRIu32 ".ndjson",
			 run.tmpdir, i);
		unlink(name);
	}
	char name[PATH_MAX];
	snprintf(name, sizeof name, "%s/" LOCK_FILE, run.tmpdir);
	unlink(name);
	rmdir(run.tmpdir);
	free(run.tmpdir);
	run.tmpdir = NULL;
}

/* NAME is partition's own: N.ndjson, the numbers it writes. */
static bool part_file_name(const char *name)
{
	size_t d = strspn(name, "0123456789");
	return d > 0 && d <= 10 && strcmp(name + d, ".ndjson") == 0;
}

/*
 * The folder at parent/name, a DIR.tmp.XXXXXX: if it holds LOCK_FILE and
 * its lock is free, its run is dead: remove what it wrote, then the
 * folder.  Anything else in it (not partition's) is left, and so is it.
 */
static void drop_stale(int parent, const char *shown, const char *name)
{
	int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC);
	if (dfd < 0)
		return;
	int lfd = openat(dfd, LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat ls, ds, now;
	/* its lock taken, the lock file still linked (a run that finished
	 * unlinks it before its rename), the folder still at the name */
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0 ||
	    fstat(lfd, &ls) != 0 || ls.st_nlink == 0 ||
	    fstat(dfd, &ds) != 0 ||
	    fstatat(parent, name, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
	    now.st_dev != ds.st_dev || now.st_ino != ds.st_ino) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return;
	}
	/* the run was on this kernel: its free lock says it is gone */
	char mine[64], its[64];
	state_boot_id(mine);
	ssize_t got = pread(lfd, its, sizeof its - 1, 0);
	its[got > 0 ? got : 0] = '\0';
	if (!mine[0] || strcmp(mine, its) != 0) {
		cli_warn("%s: the unfinished folder of a run on another host "
			 "or before a reboot, left: its lock says nothing "
			 "here (remove it if no run writes it)", shown);
		close(lfd);
		close(dfd);
		return;
	}
	/* two passes: anything partition did not write leaves it all */
	bool foreign = false;
	for (int pass = 0; pass < 2 && !foreign; pass++) {
		int lister = dup(dfd);
		DIR *d = lister >= 0 ? fdopendir(lister) : NULL;
		if (!d) {
			if (lister >= 0)
				close(lister);
			foreign = true;
			break;
		}
		rewinddir(d); /* a dup shares the offset the last pass moved */
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			struct stat fs;
			const char *nm = e->d_name;
			if (!strcmp(nm, ".") || !strcmp(nm, "..") ||
			    !strcmp(nm, LOCK_FILE))
				continue;
			if (!part_file_name(e->d_name) ||
			    fstatat(dfd, e->d_name, &fs,
				    AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISREG(fs.st_mode) ||
			    (pass == 1 && unlinkat(dfd, e->d_name, 0) != 0))
				foreign = true;
		}
		closedir(d);
	}
	if (!foreign && unlinkat(dfd, LOCK_FILE, 0) == 0 &&
	    unlinkat(parent, name, AT_REMOVEDIR) == 0)
		cli_warn("%s: removed, the unfinished folder of a run that was "
			 "killed", shown);
	else
		cli_warn("%s: the unfinished folder of a run that was killed, "
			 "left: it holds what partition did not write, or "
			 "cannot be removed", shown);
	close(lfd); /* the lock goes last: no one else had it meanwhile */
	close(dfd);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove the DIR.tmp.XXXXXX that dead runs left beside DIR. */
static void drop_stale_runs(size_t len)
{
	const char *slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (opt.dir[i] == '/')
			slash = opt.dir + i;
	char *parent = slash ? xstrndup(opt.dir, slash == opt.dir
						 ? 1
						 : (size_t)(slash - opt.dir))
			     : xstrdup(".");
	const char *base = slash ? slash + 1 : opt.dir;
	size_t blen = len - (size_t)(base - opt.dir);
	int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = pfd >= 0 ? fdopendir(dup(pfd)) : NULL;
	struct dirent *e;
	char **names = NULL;
	size_t nnames = 0;
	while (d && (e = readdir(d)) != NULL) {
		/* BASE.tmp.XXXXXX, as mkdtemp makes them */
		if (strlen(e->d_name) != blen + 11 ||
		    strncmp(e->d_name, base, blen) != 0 ||
		    strncmp(e->d_name + blen, ".tmp.", 5) != 0 ||
		    strspn(e->d_name + blen + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "abcdefghijklmnopqrstuvwxyz"
						 "0123456789") != 6)
			continue;
		names = xreallocarray(names, nnames + 1, sizeof *names);
		names[nnames++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	/* in name order, so what it says does not hang on readdir's */
	if (nnames)
		qsort(names, nnames, sizeof *names, name_cmp);
	for (size_t i = 0; i < nnames; i++) {
		char shown[PATH_MAX];
		snprintf(shown, sizeof shown, "%.*s%s", (int)(base - opt.dir),
			 opt.dir, names[i]);
		drop_stale(pfd, shown, names[i]);
		free(names[i]);
	}
	free(names);
	if (pfd >= 0)
		close(pfd);
	free(parent);
}

/*
 * Make DIR.tmp.XXXXXX and take its lock: LOCK_FILE_NEW made and flocked,
 * then renamed to LOCK_FILE, so LOCK_FILE is never seen unlocked while
 * this run lives.  The lock is held till exit (never closed).
 */
static void make_tmpdir(size_t len)
{
	run.tmpdir = xmalloc(len + 16);
	snprintf(run.tmpdir, len + 16, "%.*s.tmp.XXXXXX", (int)len, opt.dir);
	if (!mkdtemp(run.tmpdir)) {
		int e = errno;
		free(run.tmpdir);
		run.tmpdir = NULL;
		cli_die(EXIT_TROUBLE, "%s: cannot make a folder beside it: %s",
			opt.dir, strerror(e));
	}
	atexit(drop_tmpdir);
	int dfd = open(run.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd < 0 ? -1
			 : openat(dfd, LOCK_FILE_NEW, O_WRONLY | O_CREAT |
						      O_EXCL | O_CLOEXEC, 0644);
	char id[64];
	state_boot_id(id);
	if (fd >= 0 && (write_all(fd, id, strlen(id)) != 0 ||
			flock(fd, LOCK_EX) != 0)) {
		/* no room, or a file system without locks: no lock
		 * file, so a later run leaves this folder alone if this
		 * one is killed */
		close(fd);
		unlinkat(dfd, LOCK_FILE_NEW, 0);
		fd = -2;
	}
	if (fd == -1 || (fd >= 0 && renameat(dfd, LOCK_FILE_NEW, dfd,
					     LOCK_FILE) != 0))
		cli_die(EXIT_TROUBLE, "%s/" LOCK_FILE ": %s", run.tmpdir,
			strerror(errno));
	close(dfd);
	run.lockfd = fd;
}

static void open_dir(void)
{
	struct stat st;
	if (lstat(opt.dir, &st) == 0)
		cli_die(EXIT_TROUBLE, "%s: exists; partition writes a new "
			"folder (remove it, or name another)", opt.dir);
	/* one descriptor per partition */
	struct rlimit rl;
	rlim_t need = (rlim_t)opt.n + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
			cli_die(EXIT_TROUBLE, "-o: %" PRIu32 " partitions need "
				"%ju open files, the limit is %ju (ulimit -n)",
				opt.n, (uintmax_t)need,
				(uintmax_t)rl.rlim_max);
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			cli_die(EXIT_TROUBLE, "-o: cannot raise the open file "
				"limit to %ju: %s", (uintmax_t)need,
				strerror(errno));
	}
	size_t len = strlen(opt.dir);
	while (len > 1 && opt.dir[len - 1] == '/')
		len--;
	/* DIR.tmp.XXXXXX/N-1.ndjson (or its lock file) past PATH_MAX was
	 * cut by snprintf to a shorter name that still opened: DIR held
	 * "0." and "1." where its shards read 0.ndjson and 1.ndjson */
	size_t longest = (size_t)snprintf(NULL, 0, "%" PRIu32 ".ndjson",
					  opt.n - 1);
	if (longest < sizeof LOCK_FILE_NEW - 1)
		longest = sizeof LOCK_FILE_NEW - 1;
	if (len + sizeof ".tmp.XXXXXX/" - 1 + longest >= PATH_MAX)
		cli_die(EXIT_TROUBLE, "%s: too long a path: the names of the "
			"files in it would pass %d bytes (PATH_MAX); name a "
			"shorter one", opt.dir, PATH_MAX);
	drop_stale_runs(len);
	make_tmpdir(len);
	run.bufsize = PART_BUF_TOTAL / opt.n;
	if (run.bufsize > PART_BUF_MAX)
		run.bufsize = PART_BUF_MAX;
	if (run.bufsize < 4096)
		run.bufsize = 4096;
	run.parts = xcalloc(opt.n, sizeof *run.parts);
	for (uint32_t i = 0; i < opt.n; i++) {
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%s/%" PRIu32 ".ndjson",
			 run.tmpdir, i);
		run.parts[i].fd = open(name, O_WRONLY | O_CREAT | O_EXCL |
					     O_CLOEXEC, 0644);
		if (run.parts[i].fd < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", name, strerror(errno));
		run.parts[i].buf = xmalloc(run.bufsize);
	}
}

static void part_flush(uint32_t i)
{
	struct part *p = &run.parts[i];
	if (p->len && write_all(p->fd, p->buf, p->len) != 0)
		cli_die(EXIT_TROUBLE, "%s/%" PRIu32 ".ndjson: %s", opt.dir, i,
			strerror(errno));
	p->len = 0;
}

/* fsync every file, close it, fsync the folder, rename it to DIR, fsync
 * DIR's parent: only then is DIR there, whole, after any crash. */
static void close_dir(void)
{
	char err[512];
	for (uint32_t i = 0; i < opt.n; i++) {
		struct part *p = &run.parts[i];
		part_flush(i);
		if (fsync(p->fd) != 0 || close(p->fd) != 0)
			cli_die(EXIT_TROUBLE, "%s/%" PRIu32 ".ndjson: %s",
				opt.dir, i, strerror(errno));
		free(p->buf);
	}
	fault_point("partition.written");
	int dfd = open(run.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* the lock file goes before the folder is made durable, so DIR
	 * never holds it; the lock itself is held till exit, and a folder
	 * without the file is never taken for a dead run's.  mkdtemp made
	 * it 0700: DIR gets the mode mkdir(1) gives, as its files get
	 * open's, or no one else may read the 0644 files in it */
	mode_t mask = umask(0);
	umask(mask);
	if (dfd < 0 || (run.lockfd >= 0 && unlinkat(dfd, LOCK_FILE, 0) != 0) ||
	    fchmod(dfd, 0777 & ~mask) != 0 || fsync(dfd) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", run.tmpdir, strerror(errno));
	close(dfd);
	/* the dead letters, held till now so that a run that dies before
	 * DIR appears letters nothing a re-run would letter again; before
	 * the rename, since a letter written twice loses nothing */
	cli_letters_release();
	cli_dlq_close(&run.dlq);
	if (rename(run.tmpdir, opt.dir) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s%s", opt.dir, strerror(errno),
			errno == ENOTEMPTY || errno == EEXIST
				? " (made by someone else meanwhile)"
				: "");
	free(run.tmpdir);
	run.tmpdir = NULL; /* DIR is the user's now */
	fault_point("partition.renamed");
	if (commit_sync_dir(opt.dir, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}

/* ---- writing ---- */

static size_t put_u32(char *p, uint32_t v)
{
	char t[10];
	size_t n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	for (size_t k = 0; k < n; k++)
		p[k] = t[n - 1 - k];
	return n;
}

static void emit(uint32_t i, const char *rec, size_t len)
{
	if (!opt.dir) {
		char lab[12];
		size_t n = put_u32(lab, i);
		lab[n++] = '\t';
		cli_out(lab, n);
		cli_out_line(rec, len);
		return;
	}
	struct part *p = &run.parts[i];
	cli_stats.bytes_out += len + 1;
	if (p->len + len + 1 > run.bufsize) {
		part_flush(i);
		if (len + 1 > run.bufsize) {
			if (write_all(p->fd, rec, len) != 0 ||
			    write_all(p->fd, "\n", 1) != 0)
				cli_die(EXIT_TROUBLE, "%s/%" PRIu32
					".ndjson: %s", opt.dir, i,
					strerror(errno));
			return;
		}
	}
	memcpy(p->buf + p->len, rec, len);
	p->buf[p->len + len] = '\n';
	p->len += len + 1;
}

/* Tell partition i the watermark, if it moved since i last heard it. */
static void catch_up(uint32_t i)
{
	if (!run.have_w || (run.heard[i] && run.sent[i] >= run.w))
		return;
	run.sent[i] = run.w;
	run.heard[i] = true;
	buf_reset(&run.line);
	buf_adds(&run.line, "{\"_watermark\":");
	jw_time(&run.line, run.w);
	buf_addc(&run.line, '}');
	emit(i, run.line.p, run.line.len);
	run.marks++;
}

/* ---- records ---- */

static void finish(int status);

/* A bad record: dead-lettered, or the end of the run (exit 2). */
#define bad_record(...) cli_reject(run.dlq, finish, __VA_ARGS__)

/*
 * A record in two steps (lib/par).  prep, on any thread, does the
 * record's own work: the line check, the scan, the key's canonical form
 * and fingerprint, the event time, writing a struct slot; apply, in
 * input order on the calling thread, keeps the watermark and writes.
 * So the output is the same for any -j.
 */
struct slot {
	int64_t t;         /* the event time (-t), or a control line's W */
	struct badrec bad; /* bad.type: a bad record */
	uint32_t part;
	bool control;      /* an upstream {"_watermark": ...} line */
};

/* One prep thread's expressions and scratch (cw.scratch: the
 * canonical key). */
struct worker {
	struct cli_worker cw;
	struct expr *keys[MAX_KEYS], *time;
};
_Static_assert(offsetof(struct worker, cw) == 0, "cli_worker_new");

static void *worker_new(void *arg, int index)
{
	(void)arg;
	struct worker *w = cli_worker_new(sizeof *w, index);
	for (size_t k = 0; k < opt.nkeys; k++)
		w->keys[k] = cli_worker_expr(&w->cw, opt.keys[k]);
	w->time = cli_worker_expr(&w->cw, opt.time);
	return w;
}

/* An upstream {"_watermark":T}: without -t it is the input's progress,
 * passed on to every partition (apply); with -t ours replaces it. */
static void control(struct worker *w, struct slot *s, struct par_chunk *ch)
{
	s->control = true;
	if (opt.time)
		return;
	const struct scan_member *m = WM_CONTROL_MEMBER(&w->cw.rec);
	const char *why;
	if (time_from_json(w->cw.rec.p + m->val, m->val_end - m->val, opt.unit,
			   &s->t, &why) != 0)
		badrec_set(&s->bad, ch, true, "wrong_type", "_watermark: %s",
			   why);
}

static void prep(void *wctx, const struct line *ln, void *slot,
		 struct par_chunk *ch)
{
	struct worker *w = wctx;
	struct slot *s = slot;
	bool reads_fields = opt.nkeys || opt.tuple || opt.time;
	s->control = false;
	if (!badrec_line(&s->bad, ch, ln, opt.max_line, &w->cw.rec,
			 reads_fields))
		return;
	char c0 = ln->p[w->cw.rec.start];
	/* A _watermark line is progress for window's key (-g) or beside
	 * -t; dedup and reconcile, whose keys -k is, refuse it as a
	 * record, so it is a bad record here, before any partition. */
	if (c0 == '{' && wm_control_line(&w->cw.rec)) {
		if (opt.tuple || opt.time)
			control(w, s, ch);
		else
			badrec_set(&s->bad, ch, true, "wrong_type", "a "
				   "_watermark line is watermark --emit's "
				   "progress for window, not a record for "
				   "dedup or reconcile: give -g for window's "
				   "partitions");
		return;
	}

	buf_reset(&w->cw.scratch);
	if (opt.nkeys == 0) {
		value_canon(&w->cw.scratch, ln->p, ln->len);
	} else {
		const char *vals[MAX_KEYS];
		size_t lens[MAX_KEYS];
		const char *what = opt.tuple ? "group" : "key";
		for (size_t k = 0; k < opt.nkeys; k++)
			if (!badrec_eval(&s->bad, ch, w->keys[k], &w->cw.rec,
					 what, &vals[k], &lens[k]))
				return;
		if (opt.nkeys == 1 && !opt.tuple)
			value_canon(&w->cw.scratch, vals[0], lens[0]);
		else
			value_canon_tuple(&w->cw.scratch, vals, lens, opt.nkeys);
	}
	struct fp128 fp = value_fp(w->cw.scratch.p, w->cw.scratch.len);
	s->part = (uint32_t)(fp.hi % opt.n);

	s->t = 0;
	if (opt.time)
		badrec_time(&s->bad, ch, w->time, &w->cw.rec, "event time",
			    opt.unit, &s->t);
}

static void apply(const struct line *ln, const char *name, void *slot)
{
	const struct slot *s = slot;
	cli_stats.records_in++;
	if (s->bad.type) {
		bad_record(ln, name, s->bad.is_json, s->bad.type, "%s",
			   s->bad.msg);
		return;
	}
	if (s->control) {
		if (opt.time) {
			run.replaced++;
			return;
		}
		if (!run.have_w || s->t > run.w) {
			run.w = s->t;
			run.have_w = true;
		}
		/* no record: its W goes on, to every partition, counted in
		 * watermarks as written */
		run.carried++;
		return;
	}
	uint32_t i = s->part;
	/* the W of the records before this one, then the record */
	catch_up(i);
	emit(i, ln->p, ln->len);
	cli_stats.records_out++;
	if (opt.dir)
		run.parts[i].records++;
	if (opt.time && wm_observe(run.wm, (struct fp128){0, 0}, s->t))
		run.have_w = wm_get(run.wm, &run.w);
}

static void finish(int status)
{
	cli_progress_done();
	if (status == EXIT_OK)
		for (uint32_t i = 0; i < opt.n; i++)
			catch_up(i); /* the last W reaches every partition */
	if (opt.dir) {
		if (status == EXIT_OK)
			close_dir();
		else /* DIR never appears: --stats says none went out */
			cli_stats.records_out = cli_stats.bytes_out = 0;
	} else {
		cli_out_commit();
	}
	cli_dlq_close(&run.dlq);
	if (opt.stats) {
		char extra[200];
		snprintf(extra, sizeof extra,
			 ",\"partitions\":%" PRIu32 ",\"watermarks\":%" PRIu64
			 ",\"watermarks_carried\":%" PRIu64
			 ",\"watermarks_replaced\":%" PRIu64,
			 opt.n, run.marks, run.carried, run.replaced);
		cli_stats_print(extra);
	}
	cli_out_close();
	/* the input's own watermark lines, which -t's replace */
	/* at a stop too, unless DIR, which a stop never publishes */
	if (status == EXIT_OK || !opt.dir)
		cli_dropped(run.replaced, "_watermark lines replaced by -t's",
			    "leaving out -t");
	cli_exit(status);
}

int main(int argc, char **argv)
{
	enum { O_DELAY = 256, O_UNIT, O_DLQ, O_STATS, O_MAXLINE, O_VERSION };
	static const struct option longopts[] = {
		{"partitions", required_argument, NULL, 'n'},
		{"key", required_argument, NULL, 'k'},
		{"group", required_argument, NULL, 'g'},
		{"output", required_argument, NULL, 'o'},
		{"time", required_argument, NULL, 't'},
		{"delay", required_argument, NULL, O_DELAY},
		{"time-unit", required_argument, NULL, O_UNIT},
		{"dlq", required_argument, NULL, O_DLQ},
		{"stats", no_argument, NULL, O_STATS},
		{"max-line", required_argument, NULL, O_MAXLINE},
		{"threads", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool have_k = false, have_g = false, have_delay = false;
	bool have_unit = false;

	cli_init(argv[0]);
	cli_refuse_twice("key group");
	opt.threads = par_default_threads();
	while ((c = cli_verb_getopt(&self, argc, argv, "n:k:g:o:t:j:h", longopts)) != -1) {
		switch (c) {
		case 'n': {
			uint64_t n = cli_count("-n", optarg);
			if (n == 0 || n > 65536)
				cli_usage_error("-n: want 1 to 65536 "
						"partitions (as --shard), "
						"got '%s'", optarg);
			opt.n = (uint32_t)n;
			break;
		}
		case 'k':
		case 'g':
			if (opt.nkeys == MAX_KEYS)
				cli_usage_error("at most %d -k or -g options",
						MAX_KEYS);
			*(c == 'k' ? &have_k : &have_g) = true;
			opt.keys[opt.nkeys++] = cli_expr(c == 'k' ? "-k" : "-g",
							optarg);
			break;
		case 'o': opt.dir = optarg; break;
		case 't': opt.time = cli_expr("-t", optarg); break;
		case O_DELAY:
			opt.delay = cli_duration("--delay", optarg);
			if (opt.delay < 0)
				cli_usage_error("--delay: must not be negative");
			have_delay = true;
			break;
		case O_UNIT:
			opt.unit = cli_time_unit(optarg);
			have_unit = true;
			break;
		case O_DLQ: opt.dlq_path = optarg; break;
		case O_STATS: opt.stats = true; break;
		case O_MAXLINE:
			opt.max_line = cli_max_line(optarg);
			break;
		case 'j': opt.threads = cli_threads(optarg); break;
		case 'h': usage(EXIT_OK); break;
		case O_VERSION: cli_version(); break;
		}
	}
	if (opt.n == 0)
		cli_usage_error("-n N is required: the N of --shard I/N");
	if (have_k && have_g)
		cli_usage_error("-k and -g do not mix: -k keys as dedup and "
				"reconcile do, -g as window does");
	opt.tuple = have_g;
	/* Only window reads _watermark lines: dedup and reconcile, which
	 * key by -k (or the whole record), would stop at each one -t
	 * writes, a record without their key. */
	if (opt.time && !have_g)
		cli_usage_error("-t goes with -g: the _watermark lines it "
				"writes are read by window; dedup and "
				"reconcile (-k, or no key) would take them "
				"for records");
	if (have_delay && !opt.time)
		cli_usage_error(have_g ? "--delay goes with -t"
				       : "--delay goes with -g and -t: the "
					 "watermark they carry is read by "
					 "window, not by dedup or reconcile");
	/* Epoch numbers are read from -t, or without it from the upstream
	 * _watermark lines -g passes on; without -g there are none. */
	if (have_unit && !have_g)
		cli_usage_error("--time-unit goes with -g: the unit of the "
				"epoch numbers of -t and of upstream "
				"_watermark lines");
	/* an unset shell variable: read the whole input, then fail at the
	 * rename as "partition: : No such file or directory" */
	if (opt.dir && !opt.dir[0])
		cli_usage_error("-o: an empty folder name; name the folder "
				"to write");
	/* with -o, the outputs are in a folder that must not exist yet;
	 * it is still a name no other output may take: --dlq DIR made the
	 * file DIR, lettered into it, and the rename of the folder over it
	 * failed after the whole input was read (without its trailing
	 * slashes, which name no file of its own).  A DIR that exists is
	 * refused as that by open_dir. */
	struct cli_output outs[2];
	size_t nouts = 0;
	char *dir = NULL;
	struct stat dst;
	if (!opt.dir) {
		outs[nouts++] = (struct cli_output){"output", NULL, false};
	} else if (lstat(opt.dir, &dst) != 0) {
		size_t len = strlen(opt.dir);
		while (len > 1 && opt.dir[len - 1] == '/')
			len--;
		dir = xstrndup(opt.dir, len);
		outs[nouts++] = (struct cli_output){"-o", dir, false};
	}
	if (opt.dlq_path)
		outs[nouts++] = (struct cli_output){"--dlq", opt.dlq_path,
						    true};
	cli_check_outputs(outs, nouts, argv + optind);
	free(dir);
	/* window and reconcile, which read the partitions, refuse a file
	 * named twice; its records twice in the partitions went round it */
	cli_inputs_once(argv + optind, "in the partitions");

	if (opt.time)
		run.wm = wm_new(opt.delay, 0);
	run.sent = xcalloc(opt.n, sizeof *run.sent);
	run.heard = xcalloc(opt.n, sizeof *run.heard);
	if (opt.dir)
		open_dir();
	if (opt.dlq_path)
		run.dlq = cli_dlq_open(opt.dlq_path);
	if (opt.dlq_path && opt.dir) /* written when DIR is, not before */
		cli_letters_hold();
	struct par_ops ops = {
		.slot_size = sizeof(struct slot), .worker_new = worker_new,
		.worker_free = cli_worker_free, .prep = prep, .apply = apply,
	};
	par_run(argv + optind, opt.max_line, opt.threads, &ops, finish);
}
