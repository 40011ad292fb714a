/*
 * checkpoint: byte offsets for files, so a batch job resumes where it
 * stopped.
 *
 * The state file (statefile.h, kind "ckpt") holds, per source known by
 * identity (device, inode, XXH3-64 of its first bytes), the committed
 * offset, and, while a batch is pending, the byte range [start, end) the
 * batch took from it.  A batch is a list of ranges, not a copy of the
 * bytes: sources are append-only, so reading the same ranges again gives
 * the same bytes, and a replay is identical to the first attempt.
 * Every source ever read stays in the state until it is gone: one left
 * out of a call keeps its offset (and the call says so), a file rotated
 * away is followed by identity among its folder's files, and one file is
 * read once per call whatever names reach it.
 *
 * Life of a read: lock the state, load it; if a batch is pending, emit
 * its ranges again; else match the sources to the state by identity,
 * choose the ranges (complete lines only, within --max-records and
 * --max-bytes), commit them as pending, and only then emit them.  So
 * nothing is ever emitted that the state does not know about, and a
 * kill at any instant leaves either no batch or the batch that will be
 * replayed.  Batch numbers only grow, even across a reset, so a sink
 * keyed by IDEM_BATCH never confuses two different batches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "buf.h"
#include "cli.h"
#include "commit.h"
#include "feed.h"
#include "jsonw.h"
#include "statefile.h"
#include "xalloc.h"
#include "zio.h"

#define STATE_KIND "ckpt"
/* 2: each source also has flags and, when rotated, the name it was
 * followed from; 3: the counters end with the batch a read delivered
 * whole; 4: the snapshot ends with the folder relative names are
 * relative to (check_cwd); 5: each source ends with the XXH3-64 of its
 * pending range, the bytes handed out, so a replay is those bytes or
 * refused.  Versions 1 to 4 still load. */
#define STATE_VERSION 5
#define FP_MAX 1024 /* bytes of a source's start that identify it */

static struct {
	const char *state;
	const char *glob;
	bool glob_given; /* --glob: refused when no source is a folder */
	uint64_t max_records; /* 0: no bound */
	uint64_t max_bytes;
	bool until_empty;
	bool allow_unread; /* run: commit though CMD left input unread */
	bool stats;
	const char *to; /* reset: start, end or an offset */
} opt = {.glob = "*"};

struct source {
	char *path;
	uint64_t dev, ino;
	uint32_t fp_len;
	uint64_t fp;
	uint64_t committed;
	uint64_t start, end; /* the pending range; start == end: none */
	uint64_t rhash;      /* XXH3-64 of the pending range's bytes */
	bool rhash_unknown;  /* pending since a state that kept none */
	uint64_t size;       /* size when last seen */
	uint64_t ctime;      /* its change time then, in ns (0: unknown;
			      * older states held the mtime here, which
			      * costs one needless check) */
	char *origin;        /* rotated: the name it was followed from */
	bool matched;        /* in match_sources: taken by this call */
	bool active;         /* read by this call (else only kept) */
	bool fresh;          /* fp not yet taken at the current offset */
	bool dirty;          /* changed since the last save */
};

#define SRC_ROTATED 1u /* flag in the state: origin follows the path */
#define SRC_NOHASH 2u  /* the pending range's hash is unknown (read by a
			* version before 5) */

/* The change time, not the mtime: every write moves it, and no one can
 * set it back (cp -p and touch -r set an mtime, so a rewrite of the same
 * size could look untouched). */
static uint64_t ctime_ns(const struct stat *s)
{
	return (uint64_t)s->st_ctim.tv_sec * 1000000000u +
	       (uint64_t)s->st_ctim.tv_nsec;
}

static struct {
	uint64_t last_batch;    /* the last committed batch */
	uint64_t pending_batch; /* 0: none */
	uint64_t issued;        /* the highest batch number handed out */
	/* The pending batch once a read's output of it went out whole
	 * (flushed, fsynced when a file): commit takes nothing less. */
	uint64_t delivered;
	struct source *src;
	size_t n, cap;
	int lock;
	/* The working folder of the run that saved the snapshot, as
	 * getcwd() said and as device and inode (version 4; NULL: an
	 * older state, the folder unknown). */
	char *cwd;
	uint64_t cwd_dev, cwd_ino;
} st;

/*
 * Saving.  The state is a snapshot and a log (statefile.h): a save
 * after a listing (which may add, drop or reorder sources) writes a
 * snapshot; one after a batch is planned or committed appends a record
 * of the counters and the sources it changed (by position), so run
 * --until-empty over a folder of F files commits each batch in its own
 * bytes, not O(F) of them.  The snapshot is rewritten once the log
 * outgrows it, so the bytes written stay linear in the work.
 */
static struct state_log slog = {.fd = -1};
static bool save_full = true; /* the sources moved: next save snapshots */
static size_t *dirty, ndirty, cap_dirty; /* positions changed since */
/* The pending batch's sources (positions, ascending): emit and commit
 * visit these, not every source. */
static size_t *bat, nbat, cap_bat;
/* Sources before this position have nothing left to plan until the
 * next listing (read to their size, or left out of this call). */
static size_t plan_from;

static void mark_dirty(struct source *s)
{
	if (s->dirty)
		return;
	s->dirty = true;
	dirty = xgrow(dirty, &cap_dirty, ndirty, sizeof *dirty, 64);
	dirty[ndirty++] = (size_t)(s - st.src);
}

static void batch_add(size_t k)
{
	bat = xgrow(bat, &cap_bat, nbat, sizeof *bat, 64);
	bat[nbat++] = k;
}

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: checkpoint read   -s STATE [OPTION]... FILE|DIR...\n"
"       checkpoint commit -s STATE\n"
"       checkpoint run    -s STATE [OPTION]... FILE|DIR... -- CMD [ARG]...\n"
"       checkpoint status -s STATE\n"
"       checkpoint reset  -s STATE --to start|end|OFFSET [FILE|DIR]...\n"
"Resume batch jobs over growing files exactly where they stopped.\n"
"\n"
"  -s, --state FILE      the checkpoint state (committed atomically)\n"
"      --glob PATTERN    files of a DIR to read (default '*')\n"
"  -n, --max-records N   at most N lines per batch\n"
"      --max-bytes SIZE  at most SIZE bytes per batch (at least one line)\n"
"      --until-empty     run: repeat batches until nothing new is left\n"
"      --allow-unread    run: commit when CMD exits 0 without reading all\n"
"      --to WHERE        reset: start, end, or a byte OFFSET (one FILE)\n"
"      --stats           print counts as one JSON line on stderr\n"
"  -h, --help            show this help\n"
"      --version         show the version\n"
"\n"
"run gives CMD the batch on stdin and its number in IDEM_BATCH, and\n"
"commits only when CMD exits 0 having read the whole batch.\n"
"Exit status: 0 done, 2 trouble (or CMD failed), 75 the state is locked\n"
"or CMD exited 75.\n"
"Run 'checkpoint VERB --help' for a verb's options.  See checkpoint(1).\n");
	cli_examples(f,
"  printf '{\"n\":%d}\\n' 1 2 3 4 5 > events.ndjson\n"
"  checkpoint run -s ev.ckpt -n 2 --until-empty events.ndjson -- sh -c 'cat >> sink.ndjson'\n"
"  checkpoint status -s ev.ckpt\n");
	cli_exit(status);
}

/* ---- identity ---- */

/* XXH3-64 of the first len bytes of fd; -1 when the file is shorter. */
static int fingerprint(int fd, uint32_t len, uint64_t *fp)
{
	char b[FP_MAX];
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, b + got, len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	*fp = XXH3_64bits(b, len);
	return 0;
}

static const char *last_nl(const char *p, int c, size_t n);

/*
 * How many first bytes identify the file: up to FP_MAX, but only bytes
 * of complete lines.  A torn last line (a writer that died mid-line) is
 * no content yet: a writer that recovers by cutting it off, or a
 * rewrite of it, must not make the file look replaced, which would read
 * every line before it again.  Bytes before committed (a line end) are
 * whole; past it, those before the file's last newline.
 */
static uint32_t whole_lines_len(int fd, uint64_t committed, uint64_t size)
{
	uint64_t len = size < FP_MAX ? size : FP_MAX;
	if (len <= committed)
		return (uint32_t)len;
	/* the file's last newline, looked for from its end */
	char b[4096];
	uint64_t at = size;
	while (at > committed) {
		uint64_t from = at - committed > sizeof b ? at - sizeof b
							 : committed;
		ssize_t r = pread(fd, b, (size_t)(at - from), (off_t)from);
		if (r != (ssize_t)(at - from))
			return (uint32_t)len; /* the fingerprint's read says */
		const char *nl = last_nl(b, '\n', (size_t)r);
		if (nl) {
			uint64_t end = from + (uint64_t)(nl - b) + 1;
			return (uint32_t)(end < len ? end : len);
		}
		at = from;
	}
	return (uint32_t)committed; /* no newline past it: all torn */
}

static char *link_target(const char *path);

/* The path of the regular file with this identity in path's folder (a
 * rotated file renamed beside its successor), or, when path is a
 * symbolic link, beside its target, or NULL. */
static char *find_by_inode(const char *path, uint64_t dev, uint64_t ino)
{
	char *target = link_target(path);
	char *found = NULL;
	if (target) {
		found = find_by_inode(target, dev, ino);
		free(target);
		if (found)
			return found;
	}
	char *dir = state_path_dir(path);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && !found && (e = readdir(d))) {
		struct stat s;
		struct buf p = {0};
		if (strchr(path, '/'))
			buf_addf(&p, "%s/", dir);
		buf_adds(&p, e->d_name);
		if (stat(p.p, &s) == 0 && S_ISREG(s.st_mode) &&
		    (uint64_t)s.st_dev == dev && (uint64_t)s.st_ino == ino)
			found = xstrdup(p.p);
		buf_free(&p);
	}
	if (d)
		closedir(d);
	free(dir);
	return found;
}

/* ---- state ---- */

/* A source read from offset 0 again (or new) has no start to vouch for
 * until a batch opens it; what the state then holds says so. */
static void unvouched(struct source *s)
{
	s->fresh = true;
	s->fp_len = 0;
	s->fp = XXH3_64bits("", 0);
}

static struct source *add_source(void)
{
	st.src = xgrow(st.src, &st.cap, st.n, sizeof *st.src, 16);
	struct source *s = &st.src[st.n++];
	memset(s, 0, sizeof *s);
	return s;
}

static _Noreturn void truncated_state(void)
{
	cli_die(EXIT_TROUBLE, "%s: truncated (payload ends early)", opt.state);
}

/* One source as the snapshot and the log store it. */
static void get_source(const unsigned char **p, const unsigned char *end,
		       uint32_t version, struct source *s)
{
	uint32_t plen, flags = 0, olen = 0;
	if (state_get_u64(p, end, &s->dev) ||
	    state_get_u64(p, end, &s->ino) ||
	    state_get_u64(p, end, &s->fp) ||
	    state_get_u64(p, end, &s->committed) ||
	    state_get_u64(p, end, &s->start) ||
	    state_get_u64(p, end, &s->end) ||
	    state_get_u64(p, end, &s->size) ||
	    state_get_u32(p, end, &s->fp_len) ||
	    state_get_u32(p, end, &plen) ||
	    /* version 2 added the rotation fields */
	    (version >= 2 && (state_get_u32(p, end, &flags) ||
			      state_get_u32(p, end, &olen) ||
			      state_get_u64(p, end, &s->ctime))) ||
	    /* version 5 added the pending range's hash */
	    (version >= 5 && state_get_u64(p, end, &s->rhash)))
		truncated_state();
	uint32_t known = version >= 5 ? SRC_ROTATED | SRC_NOHASH : SRC_ROTATED;
	s->rhash_unknown = version < 5 || (flags & SRC_NOHASH);
	if (plen > 65536 || s->fp_len > FP_MAX || flags & ~known ||
	    olen > 65536 || !(flags & SRC_ROTATED) != !olen)
		cli_die(EXIT_TROUBLE, "%s: damaged state", opt.state);
	if (state_get_raw(p, end, plen, &s->path) ||
	    (olen && state_get_raw(p, end, olen, &s->origin)))
		truncated_state();
	/* offsets are off_t; a range runs forwards */
	if (s->committed > INT64_MAX || s->start > INT64_MAX ||
	    s->end > INT64_MAX || s->size > INT64_MAX ||
	    s->start > s->end)
		cli_die(EXIT_TROUBLE, "%s: damaged state (offsets out "
			"of range); refusing it", opt.state);
}

static void put_source(struct buf *b, const struct source *s)
{
	size_t plen = strlen(s->path);
	size_t olen = s->origin ? strlen(s->origin) : 0;
	state_put_u64(b, s->dev);
	state_put_u64(b, s->ino);
	state_put_u64(b, s->fp);
	state_put_u64(b, s->committed);
	state_put_u64(b, s->start);
	state_put_u64(b, s->end);
	state_put_u64(b, s->size);
	state_put_u32(b, s->fp_len);
	state_put_u32(b, (uint32_t)plen);
	state_put_u32(b, (s->origin ? SRC_ROTATED : 0) |
			       (s->rhash_unknown && s->end > s->start
					? SRC_NOHASH
					: 0));
	state_put_u32(b, (uint32_t)olen);
	state_put_u64(b, s->ctime);
	state_put_u64(b, s->rhash);
	buf_add(b, s->path, plen);
	if (olen)
		buf_add(b, s->origin, olen);
}

/* The fourth counter (version 3); a read by an older version did not
 * say, and its batch is taken as delivered, as it was then. */
static int get_delivered(const unsigned char **p, const unsigned char *end,
			 uint32_t version)
{
	if (version >= 3)
		return state_get_u64(p, end, &st.delivered);
	st.delivered = st.pending_batch;
	return 0;
}

/* The log's records over the snapshot: each the counters, then the
 * sources it changed by position. */
static void replay_log(const struct buf *log, uint32_t version)
{
	if (!log->len)
		return; /* no log (its buffer may be NULL) */
	const unsigned char *q = (const unsigned char *)log->p;
	const unsigned char *qend = q + log->len;
	while (q < qend) {
		uint32_t n = le32_get(q);
		const unsigned char *p = q + 4, *end = p + n;
		uint64_t cnt;
		if (state_get_u64(&p, end, &st.last_batch) ||
		    state_get_u64(&p, end, &st.pending_batch) ||
		    state_get_u64(&p, end, &st.issued) ||
		    get_delivered(&p, end, version) ||
		    state_get_u64(&p, end, &cnt))
			truncated_state();
		for (uint64_t j = 0; j < cnt; j++) {
			uint64_t k;
			struct source s = {0};
			if (state_get_u64(&p, end, &k))
				truncated_state();
			if (k >= st.n)
				cli_die(EXIT_TROUBLE, "%s: damaged state (a "
					"logged source past the last); refusing "
					"it", opt.state);
			get_source(&p, end, version, &s);
			free(st.src[k].path);
			free(st.src[k].origin);
			st.src[k] = s;
		}
		if (p != end)
			cli_die(EXIT_TROUBLE, "%s: damaged state (bytes after a "
				"log record's last source); refusing it",
				opt.state);
		q = end;
	}
}

static void state_load(void)
{
	char err[512];
	uint32_t version;
	uint64_t len;
	/* one real file, one lock, whatever name reaches it */
	char *real;
	int lk = state_lock(opt.state, &real, err, sizeof err);
	if (lk == -2)
		cli_die(EXIT_TEMPFAIL, "%s", err);
	if (lk < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	opt.state = real;
	st.lock = lk; /* held until exit */
	struct state_reader *r = cli_state_open(opt.state, STATE_KIND,
						STATE_VERSION, NULL, &version,
						&len);
	if (!r)
		return; /* first run */
	/* static, so a refusal's exit leaves them reachable (and a fuzz
	 * harness's next load frees them) */
	static struct buf log;
	static unsigned char *data;
	free(data);
	buf_free(&log);
	data = state_read_all_log(r, len, &log, &slog, err, sizeof err);
	if (!data)
		cli_die(EXIT_TROUBLE, "%s", err);
	const unsigned char *p = data, *end = data + len;
	uint64_t n;
	if (state_get_u64(&p, end, &st.last_batch) ||
	    state_get_u64(&p, end, &st.pending_batch) ||
	    state_get_u64(&p, end, &st.issued) ||
	    get_delivered(&p, end, version) || state_get_u64(&p, end, &n))
		truncated_state();
	for (uint64_t k = 0; k < n; k++)
		get_source(&p, end, version, add_source());
	free(st.cwd);
	st.cwd = NULL;
	if (version >= 4) {
		size_t clen;
		if (state_get_str(&p, end, &st.cwd, &clen) ||
		    state_get_u64(&p, end, &st.cwd_dev) ||
		    state_get_u64(&p, end, &st.cwd_ino))
			truncated_state();
		if (memchr(st.cwd, '\0', clen))
			cli_die(EXIT_TROUBLE, "%s: damaged state (a NUL in "
				"its folder's name); refusing it", opt.state);
	}
	if (p != end)
		cli_die(EXIT_TROUBLE, "%s: damaged state (bytes after the "
				      "last source); refusing it",
			opt.state);
	free(data);
	data = NULL;
	replay_log(&log, version);
	buf_free(&log);
	/* a log continues the snapshot it was read with, in its format */
	save_full = slog.at == 0 || version < STATE_VERSION;
	if (slog.dropped)
		cli_warn("%s: the last %" PRIu64 " bytes are an unfinished "
			 "commit (a run stopped while writing it, before "
			 "acting on it); ignored", opt.state, slog.dropped);
	for (size_t k = 0; k < st.n; k++) {
		struct source *s = &st.src[k];
		if (st.pending_batch && s->end > s->start)
			batch_add(k);
		else
			s->start = s->end = s->committed;
	}
	/* A crafted or damaged counter would wrap ++issued to batch 0, or
	 * hand out a number again, and IDEM_BATCH would confuse batches. */
	if (st.issued == UINT64_MAX || st.last_batch > st.issued ||
	    st.pending_batch > st.issued || st.delivered > st.issued)
		cli_die(EXIT_TROUBLE, "%s: damaged state (batch numbers out "
			"of order); refusing it", opt.state);
}

/*
 * Names are kept as given, so a relative one names a file of the folder
 * the state was used from; from another folder it names another file or
 * none, and a known source was taken as rotated or gone (its offset
 * forgotten, its lines read again when it was named again).  So while
 * any name is relative, a verb that reaches sources by name runs in the
 * state's folder (by its name or, moved, by its identity) or is
 * refused; otherwise this run's folder becomes the state's.  An older
 * state's folder is unknown: this run's is taken.  status, which only
 * looks at the sources, looks from the state's folder (visit): a lag
 * check from cron runs anywhere.
 */
static void check_cwd(bool visit)
{
	char *here = getcwd(NULL, 0);
	struct stat hs;
	if (!here || stat(".", &hs) != 0)
		cli_die(EXIT_TROUBLE, "the working folder: %s",
			strerror(errno));
	bool same = st.cwd && (!strcmp(st.cwd, here) ||
			       ((uint64_t)hs.st_dev == st.cwd_dev &&
				(uint64_t)hs.st_ino == st.cwd_ino));
	if (visit && st.cwd && st.cwd[0] && !same && chdir(st.cwd) == 0) {
		if (stat(".", &hs) == 0 && (uint64_t)hs.st_dev == st.cwd_dev &&
		    (uint64_t)hs.st_ino == st.cwd_ino) {
			free(here);
			return;
		}
		if (chdir(here) != 0) /* another folder by that name now */
			cli_die(EXIT_TROUBLE, "%s: %s", here, strerror(errno));
	}
	if (st.cwd && st.cwd[0] && !same) {
		for (size_t k = 0; k < st.n; k++) {
			const char *rel = st.src[k].path;
			if (rel[0] == '/')
				rel = st.src[k].origin;
			if (!rel || rel[0] == '/')
				continue;
			cli_die(EXIT_TROUBLE, "%s: names its sources relative "
				"to %s (%s, for one), and this run is in %s, "
				"where they name other files; run it from %s",
				opt.state, st.cwd, rel, here, st.cwd);
		}
	}
	if (st.cwd && !strcmp(st.cwd, here) &&
	    (uint64_t)hs.st_dev == st.cwd_dev &&
	    (uint64_t)hs.st_ino == st.cwd_ino) {
		free(here);
		return;
	}
	free(st.cwd);
	st.cwd = here;
	st.cwd_dev = (uint64_t)hs.st_dev;
	st.cwd_ino = (uint64_t)hs.st_ino;
	save_full = true; /* the next snapshot says so */
}

static _Noreturn void save_failed(const char *err)
{
	cli_die(EXIT_TROUBLE, "%s", err);
}

static void state_save(void)
{
	char err[512];
	/* kept from save to save: run --until-empty saves twice a batch,
	 * and a fresh buffer each time costs page faults and munmaps */
	static struct buf b;
	buf_reset(&b);
	bool full = save_full || slog.at == 0 ||
		    slog.bytes > slog.snapshot + 65536;
	state_put_u64(&b, st.last_batch);
	state_put_u64(&b, st.pending_batch);
	state_put_u64(&b, st.issued);
	state_put_u64(&b, st.delivered);
	if (!full) {
		state_put_u64(&b, ndirty);
		for (size_t j = 0; j < ndirty; j++) {
			state_put_u64(&b, dirty[j]);
			put_source(&b, &st.src[dirty[j]]);
		}
		if (state_log_append(&slog, opt.state, b.p, b.len, err,
				     sizeof err) != 0)
			save_failed(err);
	} else {
		state_put_u64(&b, st.n);
		for (size_t k = 0; k < st.n; k++)
			put_source(&b, &st.src[k]);
		state_put_str(&b, st.cwd ? st.cwd : "",
			      st.cwd ? strlen(st.cwd) : 0);
		state_put_u64(&b, st.cwd_dev);
		state_put_u64(&b, st.cwd_ino);
		struct state_writer *w = state_write_begin_log(
			opt.state, STATE_KIND, STATE_VERSION, b.len, err,
			sizeof err);
		if (!w)
			save_failed(err);
		if (state_write(w, b.p, b.len, err, sizeof err) != 0) {
			state_write_abort(w);
			save_failed(err);
		}
		if (state_write_end_log(w, &slog, err, sizeof err) != 0)
			save_failed(err);
		save_full = false;
	}
	for (size_t j = 0; j < ndirty; j++)
		st.src[dirty[j]].dirty = false;
	ndirty = 0;
}

/* ---- sources ---- */

struct cand {
	char *path;
	struct stat s;
};

static struct cand *cands;
static size_t ncands, cap_cands;
/* run --until-empty lists the sources once per batch: what a listing
 * says about names (links skipped, names read once, sources left out)
 * is said for the first batch only. */
static bool listed_before;

/* The state and its lock are no source: read, their own bytes would
 * come out as records, and the next commit would rewrite a file being
 * read. */
static void not_the_state(const char *path, const struct stat *s)
{
	struct stat x;
	if (st.lock >= 0 && fstat(st.lock, &x) == 0 && x.st_dev == s->st_dev &&
	    x.st_ino == s->st_ino)
		cli_die(EXIT_TROUBLE, "%s: the lock of the state %s is among the "
			"sources; keep the state out of the folders read (or "
			"choose the files with --glob)", path, opt.state);
	if (stat(opt.state, &x) == 0 && x.st_dev == s->st_dev &&
	    x.st_ino == s->st_ino)
		cli_die(EXIT_TROUBLE, "%s: the state file is among the sources: "
			"its own bytes would be read as records; keep it out "
			"of the folders read (or choose the files with --glob)",
			path);
}

static void add_cand(const char *path, const struct stat *s)
{
	not_the_state(path, s);
	cands = xgrow(cands, &cap_cands, ncands, sizeof *cands, 16);
	cands[ncands].path = xstrdup(path);
	cands[ncands].s = *s;
	ncands++;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --glob chooses among a folder's files: with none named it would
 * choose nothing, and a pattern the user meant to apply would not. */
static void glob_unused(void)
{
	cli_die(EXIT_TROUBLE, "--glob %s: no source named is a folder, and "
		"--glob chooses among a folder's files; name a folder, or "
		"leave --glob out", opt.glob);
}

/* A FILE or DIR argument, stat'ed into *s: '-', a name that is not
 * there, and what is neither a regular file nor a folder are refused,
 * whether the call plans a batch or replays a pending one. */
static void named_stat(const char *arg, struct stat *s)
{
	/* '-' is standard input to every other tool: taken here as a
	 * file of that name it read a stray ./- or said "No such
	 * file", never what was meant */
	if (!strcmp(arg, "-"))
		cli_die(EXIT_TROUBLE, "-: standard input has no offsets "
			"to keep; checkpoint keeps byte offsets of "
			"regular files (./- for one called -)");
	if (stat(arg, s) != 0)
		cli_die(EXIT_TROUBLE, "%s: %s", arg, strerror(errno));
	/* A pipe, a terminal or a device has no offsets to keep: a FIFO
	 * would hang the read, and a pipe's bytes (/dev/stdin) would go
	 * unread and unsaid. */
	if (!S_ISDIR(s->st_mode) && !S_ISREG(s->st_mode))
		cli_die(EXIT_TROUBLE, "%s: not a regular file "
			"(a pipe or a device); checkpoint keeps "
			"byte offsets of regular files", arg);
}

/* The arguments of a call that replays its pending batch, checked as a
 * call that plans one checks them; but a name no longer there (a file
 * rotated away, or removed) is left to the replay, which reads the
 * batch from the sources it knows. */
static void check_named(char **args, int n)
{
	bool folder = false;
	for (int i = 0; i < n; i++) {
		struct stat s;
		if (strcmp(args[i], "-") && stat(args[i], &s) != 0)
			continue;
		named_stat(args[i], &s);
		folder |= S_ISDIR(s.st_mode);
	}
	if (opt.glob_given && !folder)
		glob_unused();
}

/* FILE, or the regular files of DIR matching --glob in name order. */
static void list_sources(char **args, int n)
{
	for (size_t k = 0; k < ncands; k++)
		free(cands[k].path);
	ncands = 0;
	bool folder = false;
	for (int i = 0; i < n; i++) {
		struct stat s;
		named_stat(args[i], &s);
		if (!S_ISDIR(s.st_mode)) {
			add_cand(args[i], &s);
			continue;
		}
		folder = true;
		DIR *d = opendir(args[i]);
		if (!d)
			cli_die(EXIT_TROUBLE, "%s: %s", args[i],
				strerror(errno));
		char **names = NULL;
		size_t nn = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			/* the folder itself and its parent are no files of
			 * it, whatever --glob '.*' matches */
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
			    fnmatch(opt.glob, e->d_name, FNM_PERIOD) != 0)
				continue;
			names = xgrow(names, &cap, nn, sizeof *names, 64);
			names[nn++] = xstrdup(e->d_name);
		}
		closedir(d);
		if (nn > 0) /* qsort of NULL is undefined, even for 0 */
			qsort(names, nn, sizeof *names, name_cmp);
		size_t dl = strlen(args[i]);
		for (size_t k = 0; k < nn; k++) {
			struct buf p = {0};
			buf_add(&p, args[i], dl);
			if (dl && args[i][dl - 1] != '/')
				buf_addc(&p, '/');
			buf_adds(&p, names[k]);
			/* lstat: a symlink in the folder may point anywhere
			 * (out of the folder, at a secret); only the
			 * folder's own files are read, and a skipped link
			 * is said, not silent. */
			int r = lstat(p.p, &s);
			if (r == 0 && S_ISREG(s.st_mode))
				add_cand(p.p, &s);
			else if (r == 0 && S_ISLNK(s.st_mode) &&
				 !listed_before)
				cli_warn("%s: a symbolic link; skipped (only a "
					 "folder's own files are read; name "
					 "the target to read it)", p.p);
			else if (r == 0 && S_ISDIR(s.st_mode) &&
				 !listed_before)
				cli_warn("%s: a folder; skipped (a folder's "
					 "regular files are read, not its "
					 "folders; name it to read it)", p.p);
			else if (r == 0 && !listed_before)
				cli_warn("%s: not a regular file (a pipe or a "
					 "device); skipped", p.p);
			buf_free(&p);
			free(names[k]);
		}
		free(names);
	}
	if (opt.glob_given && !folder)
		glob_unused();
}

/* ---- matching sources to the state ---- */

/* An open-addressing index from a key pair to positions: sources by
 * (device, inode), names by (hash, 0).  One key may hold several
 * positions (names); idx_next walks them.  A folder of thousands of
 * files is matched in one pass, not each file against each entry. */
struct idx {
	struct islot {
		uint64_t a, b;
		size_t val; /* SIZE_MAX: empty */
	} *slot;
	size_t mask;
};

static void idx_init(struct idx *x, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 2)
		cap *= 2;
	x->slot = xmalloc(cap * sizeof *x->slot);
	for (size_t k = 0; k < cap; k++)
		x->slot[k].val = SIZE_MAX;
	x->mask = cap - 1;
}

static size_t idx_home(const struct idx *x, uint64_t a, uint64_t b)
{
	uint64_t k[2] = {a, b};
	return (size_t)XXH3_64bits(k, sizeof k) & x->mask;
}

static void idx_put(struct idx *x, uint64_t a, uint64_t b, size_t val)
{
	size_t h = idx_home(x, a, b);
	while (x->slot[h].val != SIZE_MAX)
		h = (h + 1) & x->mask;
	x->slot[h] = (struct islot){a, b, val};
}

/* The next position under (a, b) after slot *pos (start with *pos =
 * SIZE_MAX), or SIZE_MAX. */
static size_t idx_next(const struct idx *x, uint64_t a, uint64_t b,
		       size_t *pos)
{
	size_t h = *pos == SIZE_MAX ? idx_home(x, a, b)
				    : ((*pos + 1) & x->mask);
	for (; x->slot[h].val != SIZE_MAX; h = (h + 1) & x->mask)
		if (x->slot[h].a == a && x->slot[h].b == b) {
			*pos = h;
			return x->slot[h].val;
		}
	return SIZE_MAX;
}

static size_t idx_get(const struct idx *x, uint64_t a, uint64_t b)
{
	size_t pos = SIZE_MAX;
	return idx_next(x, a, b, &pos);
}

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

/* A name is its folder and its last part: "./a", "a" and "d/../a" name
 * one file, and a source named one way in a call is the one named the
 * other way in the next (its rotation followed, not lost).  Hashed by
 * the last part and the folder's identity (one stat a name, so that
 * same_name() meets only names that are likely the same); by its text
 * when the folder is gone. */
static uint64_t name_hash(const char *s)
{
	const char *b = base_name(s);
	char *d = state_path_dir(s);
	struct stat x;
	uint64_t h = stat(d, &x) == 0
			     ? XXH3_64bits_withSeed(b, strlen(b),
						    (uint64_t)x.st_ino ^
							((uint64_t)x.st_dev
							 << 32))
			     : XXH3_64bits(s, strlen(s));
	free(d);
	return h;
}

static bool same_name(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	if (strcmp(base_name(a), base_name(b)) != 0)
		return false;
	char *da = state_path_dir(a), *db = state_path_dir(b);
	struct stat x, y;
	bool same = stat(da, &x) == 0 && stat(db, &y) == 0 &&
		    x.st_dev == y.st_dev && x.st_ino == y.st_ino;
	free(da);
	free(db);
	return same;
}

/* A source named by a symbolic link (current -> logs/app-0501.log) is
 * rotated by pointing the link at a new file, most often beside the old
 * one: the folder to look in is the target's.  Its absolute path, or
 * NULL when path is no link (or a dangling one). */
static char *link_target(const char *path)
{
	struct stat s;
	if (lstat(path, &s) != 0 || !S_ISLNK(s.st_mode))
		return NULL;
	return realpath(path, NULL);
}

/* The regular files beside a path (symlinks are not followed): where a
 * rotated file is looked for.  num is N for "BASE.N" (logrotate's
 * numbering, 1 the newest), else 0. */
struct sibling {
	char *path;
	uint64_t dev, ino, size, num;
};

struct siblings {
	struct sibling *v;
	size_t n;
	bool scanned;
};

static void siblings_scan(struct siblings *sb, const char *path)
{
	if (sb->scanned)
		return;
	sb->scanned = true;
	char *dir = state_path_dir(path);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t bl = strlen(base), cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat s;
		struct buf p = {0};
		if (slash)
			buf_addf(&p, "%s/", dir);
		buf_adds(&p, e->d_name);
		if (lstat(p.p, &s) != 0 || !S_ISREG(s.st_mode)) {
			buf_free(&p);
			continue;
		}
		uint64_t num = 0;
		const char *t = e->d_name + bl;
		if (!strncmp(e->d_name, base, bl) && t[0] == '.' &&
		    t[1] >= '1' && t[1] <= '9' &&
		    strspn(t + 1, "0123456789") == strlen(t + 1) &&
		    strlen(t + 1) < 10)
			num = strtoull(t + 1, NULL, 10);
		sb->v = xgrow(sb->v, &cap, sb->n, sizeof *sb->v, 16);
		sb->v[sb->n++] = (struct sibling){
			xstrdup(p.p), (uint64_t)s.st_dev, (uint64_t)s.st_ino,
			(uint64_t)s.st_size, num};
		buf_free(&p);
	}
	if (d)
		closedir(d);
	free(dir);
}

static void siblings_free(struct siblings *sb)
{
	for (size_t k = 0; k < sb->n; k++)
		free(sb->v[k].path);
	free(sb->v);
	*sb = (struct siblings){0};
}

static struct sibling *sibling_by_id(struct siblings *sb, uint64_t dev,
				     uint64_t ino)
{
	for (size_t k = 0; k < sb->n; k++)
		if (sb->v[k].dev == dev && sb->v[k].ino == ino)
			return &sb->v[k];
	return NULL;
}

static struct sibling *sibling_by_num(struct siblings *sb, uint64_t num)
{
	for (size_t k = 0; k < sb->n; k++)
		if (sb->v[k].num == num)
			return &sb->v[k];
	return NULL;
}

/* Does the file at path still start as source e did? */
/* Offsets are line ends: a file whose byte before off is no newline
 * was rewritten (past the first bytes that identify it), and going on
 * at off would start mid-line and skip what changed before it. */
static bool line_end_at(int fd, uint64_t off)
{
	char c;
	return off == 0 || (pread(fd, &c, 1, (off_t)(off - 1)) == 1 &&
			    c == '\n');
}

static bool ends_line_at(const char *path, uint64_t off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && line_end_at(fd, off);
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool same_start(const char *path, const struct source *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t fp;
	bool ok = fd >= 0 && fingerprint(fd, e->fp_len, &fp) == 0 &&
		  fp == e->fp;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Does the file at path start as e did, with a line ending at e's
 * committed offset, so that it goes on from there? */
static bool goes_on(const char *path, const struct source *e)
{
	return same_start(path, e) && ends_line_at(path, e->committed);
}

/* Move old entry e into the new list (it gives up its strings). */
static struct source *keep(struct source *e, bool active)
{
	struct source *s = add_source();
	*s = *e;
	s->active = active;
	s->matched = false;
	s->dirty = false;
	s->start = s->end = s->committed; /* a stale plan's range goes */
	e->path = e->origin = NULL;
	return s;
}

static int pos_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

struct matching {
	struct source *old;
	size_t nold;
	struct idx oid;   /* old entries by identity */
	struct idx oname; /* old entries by the name they answer to */
	struct idx cid;   /* this call's files by identity */
};

static bool known_id(const struct matching *m, uint64_t dev, uint64_t ino)
{
	return idx_get(&m->oid, dev, ino) != SIZE_MAX ||
	       idx_get(&m->cid, dev, ino) != SIZE_MAX;
}

/* Files rotated away from name in earlier calls, in state order: read
 * what was added to them since (a writer may still hold one open), keep
 * them while they exist, forget them once gone. */
static void take_rotated(struct matching *m, const char *name, uint64_t h,
			 struct siblings *sb)
{
	size_t *pos = NULL, np = 0, cap = 0, it = SIZE_MAX, k;
	while ((k = idx_next(&m->oname, h, 0, &it)) != SIZE_MAX) {
		struct source *e = &m->old[k];
		if (e->matched || !e->origin || !same_name(e->origin, name))
			continue;
		pos = xgrow(pos, &cap, np, sizeof *pos, 8);
		pos[np++] = k;
	}
	if (np > 1)
		qsort(pos, np, sizeof *pos, pos_cmp);
	for (size_t j = 0; j < np; j++) {
		struct source *e = &m->old[pos[j]];
		e->matched = true;
		struct stat s;
		const char *at = NULL;
		uint64_t size = 0;
		if (lstat(e->path, &s) == 0 && S_ISREG(s.st_mode) &&
		    (uint64_t)s.st_dev == e->dev &&
		    (uint64_t)s.st_ino == e->ino) {
			at = e->path;
			size = (uint64_t)s.st_size;
		} else {
			siblings_scan(sb, name);
			struct sibling *d = sibling_by_id(sb, e->dev, e->ino);
			if (d) {
				at = d->path;
				size = d->size;
			}
		}
		if (at && size >= e->committed &&
		    goes_on(at, e)) {
			char *p = xstrdup(at);
			struct source *n = keep(e, true);
			free(n->path);
			n->path = p;
			n->size = size;
			continue;
		}
		if (e->committed < e->size)
			cli_warn("%s: the rotated file %s is gone with at least "
				 "%" PRIu64 " unread bytes", name, e->path,
				 e->size - e->committed);
	}
	free(pos);
}

/* Same name, new identity: name was rotated since e was read.  Finish e
 * under its new name, then each rotation of name newer than e that no
 * call has seen (BASE.N numbering, oldest first), then the new file;
 * what cannot be followed is said, with the bytes it held unread. */
static void follow_rotation(struct matching *m, const char *name,
			    struct source *e, struct siblings *sb)
{
	e->matched = true;
	siblings_scan(sb, name);
	struct sibling *d = sibling_by_id(sb, e->dev, e->ino);
	/* a link pointed at a new file: the old one is beside the new */
	struct siblings beside = {0};
	char *target = d ? NULL : link_target(name);
	if (target) {
		siblings_scan(&beside, target);
		if ((d = sibling_by_id(&beside, e->dev, e->ino)))
			sb = &beside;
		free(target);
	}
	if (d && d->size >= e->committed &&
	    goes_on(d->path, e)) {
		uint64_t num = d->num, size = d->size;
		char *p = xstrdup(d->path);
		cli_warn("%s: rotated; finishing the old file as %s first",
			 name, p);
		struct source *n = keep(e, true);
		free(n->path);
		n->path = p;
		n->size = size;
		n->origin = xstrdup(name);
		for (uint64_t k = num; k-- > 1;) {
			struct sibling *y = sibling_by_num(sb, k);
			if (!y || known_id(m, y->dev, y->ino))
				continue;
			cli_warn("%s: rotated more than once; reading %s, a "
				 "rotation no call has read, in full", name,
				 y->path);
			struct source *r = add_source();
			r->path = xstrdup(y->path);
			r->origin = xstrdup(name);
			r->dev = y->dev;
			r->ino = y->ino;
			r->size = y->size;
			r->active = true;
			unvouched(r);
		}
		siblings_free(&beside);
		return;
	}
	if (d)
		cli_warn("%s: rotated, and the old file (now %s) was truncated "
			 "or rewritten since; %" PRIu64 " bytes of it were "
			 "never read", name, d->path, e->size - e->committed);
	else if (e->committed < e->size)
		cli_warn("%s: rotated, and the old file is gone with at least "
			 "%" PRIu64 " unread bytes", name,
			 e->size - e->committed);
	else
		cli_warn("%s: rotated, and the old file is gone (read to "
			 "offset %" PRIu64 "; anything written to it later was "
			 "not read)", name, e->committed);
	/* A file replaced by a rename (an editor, an atomic writer) may
	 * hold the old content and more: read from its start, what was
	 * read is read again.  Its first bytes tell; say it. */
	if (!d && e->committed && e->fp_len && same_start(name, e)) {
		if (e->committed <= e->fp_len)
			cli_warn("%s: the new file starts with the %" PRIu64
				 " bytes read from the old one (rewritten and "
				 "renamed?): read from its start, they are "
				 "read again", name, e->committed);
		else
			cli_warn("%s: the new file starts as the old one did "
				 "(its first %" PRIu32 " bytes; %" PRIu64 " were "
				 "read; rewritten and renamed?): read from its "
				 "start, what was read may be read again", name,
				 e->fp_len, e->committed);
	}
	/* Without the old file, which rotations came after it is unknown:
	 * say so rather than guess. */
	for (size_t k = 0; k < sb->n; k++)
		if (sb->v[k].num && !known_id(m, sb->v[k].dev, sb->v[k].ino))
			cli_warn("%s: %s not read: no call saw it, and with "
				 "the old file gone its place in the rotation "
				 "is unknown; name it to read it", name,
				 sb->v[k].path);
	siblings_free(&beside);
}

/* The old entry answering to name that was read under that name. */
static struct source *named_at(struct matching *m, const char *name)
{
	size_t it = SIZE_MAX, k;
	uint64_t h = name_hash(name);
	while ((k = idx_next(&m->oname, h, 0, &it)) != SIZE_MAX) {
		struct source *e = &m->old[k];
		if (!e->matched && !e->origin && same_name(e->path, name))
			return e;
	}
	return NULL;
}

/* A known source no file of this call is: kept (and said) while it is
 * where it was; forgotten once gone, with the bytes it held unread. */
static void left_out(struct source *e)
{
	struct stat s;
	if (e->origin) {
		keep(e, false); /* followed when its name is read again */
		return;
	}
	char *moved = NULL;
	/* Its name on another file, and it nowhere beside (a rotation
	 * undone left the file that had taken its name, since removed):
	 * gone, not kept under a name that reads another file. */
	bool named = lstat(e->path, &s) == 0;
	if (named &&
	    (((uint64_t)s.st_dev == e->dev && (uint64_t)s.st_ino == e->ino) ||
	     (moved = find_by_inode(e->path, e->dev, e->ino)))) {
		free(moved);
		if (listed_before)
			;
		else if ((uint64_t)s.st_dev == e->dev &&
		    (uint64_t)s.st_ino == e->ino)
			cli_warn("%s: a known source not named in this call; "
				 "left at offset %" PRIu64 " of %" PRIu64,
				 e->path, e->committed,
				 (uint64_t)s.st_size);
		else
			cli_warn("%s: a known source not named in this call, "
				 "and another file has its name now; kept at "
				 "offset %" PRIu64 " (name it to follow the "
				 "rotation)", e->path, e->committed);
		keep(e, false);
		return;
	}
	if (e->committed < e->size)
		cli_warn("%s: %s with %" PRIu64 " unread bytes", e->path,
			 !named ? "gone" : "another file has its name "
			 "now, and the file read under it is gone",
			 e->size - e->committed);
}

/* Do paths a and b lie in one folder (by its identity)? */
static bool same_folder(const char *a, const char *b)
{
	char *da = state_path_dir(a), *db = state_path_dir(b);
	struct stat x, y;
	bool same = !strcmp(da, db) ||
		    (stat(da, &x) == 0 && stat(db, &y) == 0 &&
		     x.st_dev == y.st_dev && x.st_ino == y.st_ino);
	free(da);
	free(db);
	return same;
}

/* Files this call reads that were rotated away from cand c's name,
 * placed in the batch order before c: a folder read holds them beside
 * c, so they matched by identity and follow_rotation and take_rotated
 * never saw them, and name order ("a" before "a.1") put c's lines
 * before their unread ones.  First those known as rotated from c (in
 * state order); then, when c is new to the state, the known source of
 * its name (rotated since), with the rotations of the name newer than
 * it (BASE.N down to BASE.1) that are new to the state, as
 * follow_rotation orders them for a file named alone.  Each keeps c's
 * name as the one it was rotated from (from[]), so later calls order it
 * so too. */
static void place(size_t r, size_t c, size_t *order, size_t *no,
		  bool *placed, size_t *from)
{
	order[(*no)++] = r;
	placed[r] = true;
	from[r] = c;
}

static void rotated_first(struct matching *m, size_t c, uint64_t h,
			  const size_t *by, const bool *dup, size_t *order,
			  size_t *no, bool *placed, size_t *from)
{
	const char *name = cands[c].path;
	size_t it = SIZE_MAX, k, old = SIZE_MAX;
	while ((k = idx_next(&m->oname, h, 0, &it)) != SIZE_MAX) {
		struct source *e = &m->old[k];
		size_t r = idx_get(&m->cid, e->dev, e->ino);
		/* r == c: the file rotated away from name is back under it
		 * (a rotation undone, a link pointed back): it is c itself,
		 * read once, as the named source it is again */
		if (r == SIZE_MAX || r <= c || placed[r] ||
		    !same_name(e->origin ? e->origin : e->path, name))
			continue;
		if (e->origin)
			place(r, c, order, no, placed, from);
		else if (by[c] == SIZE_MAX && same_folder(cands[r].path, name))
			old = r;
	}
	if (old == SIZE_MAX)
		return;
	cli_warn("%s: rotated; finishing the old file as %s first", name,
		 cands[old].path);
	place(old, c, order, no, placed, from);
	const char *base = base_name(name), *ob = base_name(cands[old].path);
	size_t bl = strlen(base);
	if (strncmp(ob, base, bl) != 0 || ob[bl] != '.' || ob[bl + 1] < '1' ||
	    ob[bl + 1] > '9' || strlen(ob + bl + 1) >= 10 ||
	    strspn(ob + bl + 1, "0123456789") != strlen(ob + bl + 1))
		return;
	for (uint64_t num = strtoull(ob + bl + 1, NULL, 10); num-- > 1;) {
		char want[32];
		snprintf(want, sizeof want, ".%" PRIu64, num);
		for (size_t r = c + 1; r < ncands; r++) {
			const char *rb = base_name(cands[r].path);
			if (placed[r] || dup[r] || by[r] != SIZE_MAX ||
			    strncmp(rb, base, bl) != 0 ||
			    strcmp(rb + bl, want) != 0 ||
			    !same_folder(cands[r].path, name))
				continue;
			place(r, c, order, no, placed, from);
			break;
		}
	}
}

/* v is a file a call has read, at its offset still: a known identity
 * that no longer starts as it did is a new file on a reused inode. */
static bool read_before(struct matching *m, const struct sibling *v)
{
	size_t k = idx_get(&m->oid, v->dev, v->ino);
	return k != SIZE_MAX && v->size >= m->old[k].committed &&
	       goes_on(v->path, &m->old[k]);
}

/*
 * copytruncate: a rotation that copies the file (to NAME.1, say) and
 * truncates it in place keeps the inode, so no rename tells; the lines
 * written after the last read are in the copy only.  Known source e,
 * truncated or replaced in place (the caller says), is looked for among
 * the regular files beside name that no call has read: one that starts
 * as e did (its first bytes) with a line ending at e's committed offset
 * and more after it is its copy, to be finished from that offset before
 * name is read from its start.  Of several, the lowest-numbered rotation
 * (NAME.N); several unnumbered are not guessed between: said, none
 * taken.  0 when none.
 */
static int find_copy(struct matching *m, const char *name,
		     const struct source *e, struct sibling *out)
{
	struct siblings sb = {0};
	struct sibling *best = NULL;
	size_t plain = 0;
	if (!e->committed || !e->fp_len)
		return 0;
	siblings_scan(&sb, name);
	for (size_t k = 0; k < sb.n; k++) {
		struct sibling *v = &sb.v[k];
		if ((v->dev == e->dev && v->ino == e->ino) ||
		    v->size <= e->committed || read_before(m, v) ||
		    !goes_on(v->path, e))
			continue; /* a copy with nothing unread is no matter */
		if (!v->num)
			plain++;
		if (!best || (v->num && (!best->num || v->num < best->num)))
			best = v;
	}
	if (best && !best->num && plain > 1) {
		cli_warn("%s: truncated or replaced in place, and %zu files "
			 "beside it start as it did (copies?); none is taken "
			 "for its old content: name the one to read",
			 name, plain);
		best = NULL;
	}
	if (best) {
		*out = *best;
		out->path = xstrdup(best->path);
	}
	siblings_free(&sb);
	return best != NULL;
}

/* The rotations of name newer than its copy NAME.num (NAME.num-1 down to
 * NAME.1) that no call has read: each copied and cut since the copy,
 * read in full after it, as follow_rotation reads those of a rename.
 * malloc'd, *n of them, newest last. */
static struct sibling *newer_copies(struct matching *m, const char *name,
				    uint64_t num, size_t *n)
{
	struct siblings sb = {0};
	struct sibling *v = NULL;
	*n = 0;
	if (num < 2)
		return NULL;
	siblings_scan(&sb, name);
	v = xcalloc(num, sizeof *v);
	for (uint64_t k = num; k-- > 1;) {
		struct sibling *y = sibling_by_num(&sb, k);
		if (!y || read_before(m, y))
			continue;
		v[*n] = *y;
		v[(*n)++].path = xstrdup(y->path);
	}
	siblings_free(&sb);
	return v;
}

/* The new source list: this call's files in batch order, each going on
 * where the state says its identity stopped (after the files rotated away
 * from its name), then the known sources this call left out.  One file
 * (by identity) is read once per call, however many names reach it. */
static void match_sources(void)
{
	struct matching m = {.old = st.src, .nold = st.n};
	idx_init(&m.oid, m.nold);
	idx_init(&m.oname, m.nold);
	idx_init(&m.cid, ncands);
	for (size_t k = 0; k < m.nold; k++) {
		struct source *e = &m.old[k];
		e->matched = false;
		idx_put(&m.oid, e->dev, e->ino, k);
		idx_put(&m.oname, name_hash(e->origin ? e->origin : e->path),
			0, k);
	}
	size_t *by = xmalloc((ncands + 1) * sizeof *by);
	bool *dup = xcalloc(ncands + 1, sizeof *dup);
	for (size_t c = 0; c < ncands; c++) {
		uint64_t dev = (uint64_t)cands[c].s.st_dev;
		uint64_t ino = (uint64_t)cands[c].s.st_ino;
		size_t first = idx_get(&m.cid, dev, ino);
		if (first != SIZE_MAX) {
			if (listed_before)
				;
			else if (!strcmp(cands[first].path, cands[c].path))
				cli_warn("%s: named twice; read once",
					 cands[c].path);
			else
				cli_warn("%s: the same file as %s (a hard link "
					 "or a second name); read once",
					 cands[c].path, cands[first].path);
			dup[c] = true;
			continue;
		}
		idx_put(&m.cid, dev, ino, c);
		by[c] = idx_get(&m.oid, dev, ino);
		if (by[c] != SIZE_MAX)
			m.old[by[c]].matched = true;
	}
	/* copytruncate (find_copy): a known file cut back or rewritten in
	 * place whose copy lies beside it; copy_in[c], that copy among
	 * this call's files (a folder read lists it), copy_at[] its
	 * offset; copy_out[c] one the call does not name */
	size_t *copy_in = xmalloc((ncands + 1) * sizeof *copy_in);
	uint64_t *copy_at = xcalloc(ncands + 1, sizeof *copy_at);
	struct sibling *copy_out = xcalloc(ncands + 1, sizeof *copy_out);
	/* replaced[c]: known c, not truncated, whose first bytes changed
	 * (looked at once, here, for the loop below too) */
	bool *replaced = xcalloc(ncands + 1, sizeof *replaced);
	/* newer[c]: the copies made after c's (newer_copies) */
	struct sibling **newer = xcalloc(ncands + 1, sizeof *newer);
	size_t *nnewer = xcalloc(ncands + 1, sizeof *nnewer);
	for (size_t c = 0; c < ncands; c++) {
		copy_in[c] = SIZE_MAX;
		if (dup[c] || by[c] == SIZE_MAX)
			continue;
		const struct source *e = &m.old[by[c]];
		uint64_t size = (uint64_t)cands[c].s.st_size;
		uint64_t mt = ctime_ns(&cands[c].s);
		bool check = size != e->size || !mt || mt != e->ctime;
		replaced[c] = size >= e->committed && check &&
			      !same_start(cands[c].path, e);
		struct sibling v;
		if (!(size < e->committed || replaced[c]) ||
		    !find_copy(&m, cands[c].path, e, &v))
			continue;
		size_t c2 = idx_get(&m.cid, v.dev, v.ino);
		newer[c] = newer_copies(&m, cands[c].path, v.num, &nnewer[c]);
		if (c2 == SIZE_MAX) {
			copy_out[c] = v;
			continue;
		}
		free(v.path);
		if (dup[c2] || by[c2] != SIZE_MAX || copy_at[c2])
			continue;
		copy_in[c] = c2;
		copy_at[c2] = e->committed;
	}
	/* the batch order: the order given, but for rotated_first */
	size_t *order = xmalloc((ncands + 1) * sizeof *order), no = 0;
	size_t *from = xmalloc((ncands + 1) * sizeof *from);
	uint64_t *hc = xmalloc((ncands + 1) * sizeof *hc); /* name_hash */
	bool *placed = xcalloc(ncands + 1, sizeof *placed);
	for (size_t c = 0; c < ncands; c++)
		hc[c] = dup[c] ? 0 : name_hash(cands[c].path);
	for (size_t c = 0; c < ncands; c++) {
		if (placed[c])
			continue;
		if (!dup[c])
			rotated_first(&m, c, hc[c], by, dup, order, &no, placed,
				      from);
		if (copy_in[c] != SIZE_MAX && !placed[copy_in[c]])
			place(copy_in[c], c, order, &no, placed, from);
		for (size_t j = 0; j < nnewer[c]; j++) {
			size_t r = idx_get(&m.cid, newer[c][j].dev,
					   newer[c][j].ino);
			if (r != SIZE_MAX && !placed[r] && !dup[r] &&
			    by[r] == SIZE_MAX && !copy_at[r])
				place(r, c, order, &no, placed, from);
		}
		place(c, SIZE_MAX, order, &no, placed, from);
	}
	st.src = NULL;
	st.n = st.cap = 0;
	for (size_t o = 0; o < no; o++) {
		size_t c = order[o];
		if (dup[c])
			continue;
		const struct cand *cd = &cands[c];
		struct siblings sb = {0};
		uint64_t size = (uint64_t)cd->s.st_size;
		take_rotated(&m, cd->path, hc[c], &sb);
		if (by[c] == SIZE_MAX) {
			struct source *e = named_at(&m, cd->path);
			if (e)
				follow_rotation(&m, cd->path, e, &sb);
			siblings_free(&sb);
			struct source *s = add_source();
			s->path = xstrdup(cd->path);
			s->dev = (uint64_t)cd->s.st_dev;
			s->ino = (uint64_t)cd->s.st_ino;
			s->size = size;
			s->ctime = ctime_ns(&cd->s);
			s->active = true;
			if (from[c] != SIZE_MAX) /* a rotation of that name */
				s->origin = xstrdup(cands[from[c]].path);
			unvouched(s);
			if (copy_at[c]) /* a copy: on from where it was cut */
				s->committed = s->start = s->end = copy_at[c];
			continue;
		}
		siblings_free(&sb);
		struct source *e = &m.old[by[c]];
		uint64_t off = e->committed;
		/* Nothing new, and size and change time as last seen: the
		 * start need not be read again (a rewrite, even one whose
		 * mtime was set back, moves the change time). */
		uint64_t mt = ctime_ns(&cd->s);
		bool check = size != e->size || !mt || mt != e->ctime;
		const char *copy = copy_in[c] != SIZE_MAX
					   ? cands[copy_in[c]].path
					   : copy_out[c].path;
		if (copy) {
			cli_warn("%s: %s in place (copytruncate?); its old "
				 "content goes on in %s, which starts as it "
				 "did: finishing that from offset %" PRIu64
				 " first, then %s from the start", cd->path,
				 size < e->committed ? "truncated" : "replaced",
				 copy, e->committed, cd->path);
			off = 0;
		} else if (size < e->committed) {
			if (e->committed < e->size) /* as "replaced" says */
				cli_warn("%s: truncated (size %" PRIu64
					 ", committed offset %" PRIu64 "); %"
					 PRIu64 " unread bytes of the old "
					 "content are lost; reading it from "
					 "the start", cd->path, size,
					 e->committed, e->size - e->committed);
			else
				cli_warn("%s: truncated (size %" PRIu64
					 ", committed offset %" PRIu64 "); "
					 "reading it from the start", cd->path,
					 size, e->committed);
			off = 0;
		} else if (replaced[c]) {
			/* A rewrite, or a new file on a reused inode */
			if (e->committed < e->size)
				cli_warn("%s: replaced (its first bytes "
					 "changed); %" PRIu64 " unread bytes of "
					 "the old content are lost; reading it "
					 "from the start", cd->path,
					 e->size - e->committed);
			else
				cli_warn("%s: replaced (its first bytes "
					 "changed); reading it from the start",
					 cd->path);
			off = 0;
		} else if (check && !ends_line_at(cd->path, e->committed)) {
			cli_warn("%s: rewritten (no line ends before its "
				 "committed offset %" PRIu64 "); reading it "
				 "from the start", cd->path, e->committed);
			off = 0;
		}
		if (copy_out[c].path) { /* not named: read as its rotation */
			struct source *r = add_source();
			r->path = copy_out[c].path;
			copy_out[c].path = NULL;
			r->origin = xstrdup(cd->path);
			r->dev = copy_out[c].dev;
			r->ino = copy_out[c].ino;
			r->size = copy_out[c].size;
			r->active = true;
			unvouched(r);
			r->committed = r->start = r->end = e->committed;
		}
		for (size_t j = 0; j < nnewer[c]; j++) {
			struct sibling *y = &newer[c][j];
			if (idx_get(&m.cid, y->dev, y->ino) != SIZE_MAX)
				continue; /* this call's: placed above */
			cli_warn("%s: copied and cut more than once; reading "
				 "%s, a copy no call has read, in full",
				 cd->path, y->path);
			struct source *r = add_source();
			r->path = y->path;
			y->path = NULL;
			r->origin = xstrdup(cd->path);
			r->dev = y->dev;
			r->ino = y->ino;
			r->size = y->size;
			r->active = true;
			unvouched(r);
		}
		struct source *s = keep(e, true);
		free(s->path);
		free(s->origin); /* named now: no longer followed */
		s->origin = NULL;
		if (from[c] != SIZE_MAX) /* unless beside its successor */
			s->origin = xstrdup(cands[from[c]].path);
		s->path = xstrdup(cd->path);
		s->size = size;
		s->ctime = mt;
		if (off != s->committed) {
			s->committed = s->start = s->end = off;
			unvouched(s);
		}
	}
	for (size_t k = 0; k < m.nold; k++) {
		if (!m.old[k].matched)
			left_out(&m.old[k]);
		free(m.old[k].path);
		free(m.old[k].origin);
	}
	free(m.old);
	free(m.oid.slot);
	free(m.oname.slot);
	free(m.cid.slot);
	free(by);
	free(dup);
	free(order);
	free(from);
	free(hc);
	free(placed);
	for (size_t c = 0; c < ncands; c++)
		free(copy_out[c].path);
	free(copy_out);
	free(copy_in);
	free(copy_at);
	free(replaced);
	for (size_t c = 0; c < ncands; c++) {
		for (size_t j = 0; j < nnewer[c]; j++)
			free(newer[c][j].path);
		free(newer[c]);
	}
	free(newer);
	free(nnewer);
	listed_before = true;
	/* the sources moved: the next save is a snapshot */
	save_full = true;
	ndirty = nbat = plan_from = 0;
}

/* ---- batches ---- */

struct map {
	char *base; /* NULL: the range was read into a buffer */
	size_t len;
	const char *p; /* the range's first byte */
};

/* Below this a range is read, not mapped: a folder of small files costs
 * a pread each, not an mmap, a munmap and its TLB shootdown. */
#define READ_MAX (256u << 10)

static int map_range(int fd, uint64_t start, uint64_t end, struct map *m)
{
	static long page;
	if (!page)
		page = sysconf(_SC_PAGESIZE);
	if (end - start <= READ_MAX) {
		static char *small;
		if (!small)
			small = xmalloc(READ_MAX);
		size_t n = (size_t)(end - start), got = 0;
		while (got < n) {
			ssize_t r = pread(fd, small + got, n - got,
					  (off_t)(start + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r == 0)
					errno = EIO; /* shrank under us */
				return -1;
			}
			got += (size_t)r;
		}
		*m = (struct map){NULL, n, small};
		return 0;
	}
	uint64_t a = start - start % (uint64_t)page;
	m->len = (size_t)(end - a);
	m->base = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, (off_t)a);
	if (m->base == MAP_FAILED)
		return -1;
	madvise(m->base, m->len, MADV_SEQUENTIAL);
	m->p = m->base + (start - a);
	return 0;
}

static void unmap_range(struct map *m)
{
	if (m->base)
		munmap(m->base, m->len);
}

/* memrchr is a GNU extension: the last '\n' in p[0..n), or NULL. */
static const char *last_nl(const char *p, int c, size_t n)
{
	while (n > 0)
		if (p[--n] == c)
			return p + n;
	return NULL;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *end = p + n;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		c++;
		p++;
	}
	return c;
}

/* plan_batch() over the sources of the batch before, not listed again:
 * a name found on another file makes it set plan_stale instead of
 * dying, and prepare() lists afresh. */
static bool plan_reused, plan_stale;

/*
 * A last line without its newline is left in the file for a later batch
 * (its writer may be mid-line).  Said once per file and offset, so a
 * writer that died mid-line is not taken for "all read".
 */
static void tail_said(const struct source *s, uint64_t at, size_t n)
{
	static uint64_t dev, ino, off = UINT64_MAX;
	if (s->dev == dev && s->ino == ino && at == off)
		return;
	dev = s->dev;
	ino = s->ino;
	off = at;
	cli_warn("%s: an unterminated last line (%zu byte%s at offset %"
		 PRIu64 ") is left for a later batch; it is read once its "
		 "newline is written", s->path, n, n == 1 ? "" : "s", at);
}

/* Choose every source's range for a new batch.  Returns its bytes. */
static uint64_t plan_batch(void)
{
	uint64_t total = 0, recs = 0;
	nbat = 0;
	for (size_t k = plan_from; k < st.n; k++) {
		struct source *s = &st.src[k];
		/* Left out of this call, or known with nothing new: no need
		 * to open it (a folder of thousands of read files costs one
		 * stat each per listing, not an open and a hash), nor, till
		 * the next listing, to look at it again. */
		if (!s->active || (!s->fresh && s->size <= s->committed)) {
			if (k == plan_from)
				plan_from++;
			continue;
		}
		/* The batch is full: later sources wait unopened (a new
		 * one was left unvouched when it was listed). */
		if ((opt.max_records && recs >= opt.max_records) ||
		    (opt.max_bytes && total >= opt.max_bytes))
			break;
		int fd = open(s->path, O_RDONLY | O_CLOEXEC);
		struct stat sb;
		if (fd < 0 && errno == ENOENT && plan_reused) {
			/* gone since the batch before: the listing says
			 * what it held unread, as a new run's would */
			plan_stale = true;
			continue;
		}
		if (fd < 0 || fstat(fd, &sb) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", s->path,
				strerror(errno));
		/* The file listed is the file read: a name swapped (for a
		 * symlink, say) since the listing is refused, not read. */
		if ((uint64_t)sb.st_dev != s->dev ||
		    (uint64_t)sb.st_ino != s->ino) {
			if (plan_reused) { /* list again, in prepare() */
				plan_stale = true;
				close(fd);
				continue;
			}
			cli_die(EXIT_TROUBLE, "%s: replaced while being listed; "
				"run again", s->path);
		}
		/* Planned again without a listing: the file must still go
		 * on from its committed offset.  One truncated and written
		 * past it, or rewritten, since the batch before is listed
		 * afresh, where match_sources says so and reads it from
		 * the start; planned from the offset, its first bytes
		 * would be skipped without a word. */
		uint64_t was;
		if (plan_reused && !s->fresh && s->committed &&
		    ((uint64_t)sb.st_size < s->committed ||
		     fingerprint(fd, s->fp_len, &was) != 0 || was != s->fp ||
		     !line_end_at(fd, s->committed))) {
			plan_stale = true;
			close(fd);
			continue;
		}
		mark_dirty(s);
		s->start = s->end = s->committed;
		s->fresh = false;
		s->size = (uint64_t)sb.st_size;
		s->ctime = ctime_ns(&sb);
		s->fp_len = whole_lines_len(fd, s->committed, s->size);
		if (fingerprint(fd, s->fp_len, &s->fp) != 0)
			cli_die(EXIT_TROUBLE, "%s: changed while being read",
				s->path);
		if (s->size >= 4 && s->committed == 0) {
			unsigned char m[4];
			const char *fmt = pread(fd, m, 4, 0) == 4
						  ? zio_magic(m, 4) : NULL;
			if (fmt)
				cli_die(EXIT_TROUBLE, "%s: %s-compressed; "
					"checkpoint needs plain files (offsets "
					"are byte offsets)", s->path, fmt);
		}
		if (s->size <= s->committed) {
			close(fd);
			continue;
		}
		struct map m;
		if (map_range(fd, s->committed, s->size, &m) != 0)
			cli_die(EXIT_TROUBLE, "%s: read: %s", s->path,
				strerror(errno));
		size_t avail = (size_t)(s->size - s->committed), take = 0;
		bool whole = true; /* the scan below reaches the file's end */
		if (opt.max_bytes && avail > opt.max_bytes - total) {
			avail = (size_t)(opt.max_bytes - total);
			whole = false;
		}
		if (opt.max_records) {
			const char *p = m.p, *end = m.p + avail;
			while (recs < opt.max_records && p < end &&
			       (p = memchr(p, '\n', (size_t)(end - p)))) {
				p++;
				recs++;
				take = (size_t)(p - m.p);
			}
		} else {
			const char *nl = last_nl(m.p, '\n', avail);
			if (nl)
				take = (size_t)(nl - m.p) + 1;
		}
		if (take == 0 && total == 0 && opt.max_bytes) {
			/* A line longer than --max-bytes goes alone. */
			size_t all = (size_t)(s->size - s->committed);
			const char *nl = memchr(m.p, '\n', all);
			if (nl) {
				take = (size_t)(nl - m.p) + 1;
				recs++;
			} else { /* longer than --max-bytes, and unended */
				tail_said(s, s->committed, all);
			}
		}
		if (whole && take < avail &&
		    !(opt.max_records && recs >= opt.max_records))
			tail_said(s, s->committed + take, avail - take);
		/* A complete line --max-bytes left in this source ends the
		 * batch: a later source's lines (the new file's, after a
		 * rotated one) must not come out before it. */
		size_t rest = (size_t)(s->size - s->committed) - take;
		bool full = !whole && memchr(m.p + take, '\n', rest) != NULL;
		/* the bytes handed out, which a replay must give again */
		s->rhash = XXH3_64bits(m.p, take);
		s->rhash_unknown = false;
		unmap_range(&m);
		close(fd);
		s->end = s->committed + take;
		if (take)
			batch_add(k);
		total += take;
		if (full)
			break;
	}
	return total;
}

/* Open a pending range's file, by its path or, when it was rotated
 * since, by its inode beside it; die when the bytes cannot be the same. */
enum pending_fault { PENDING_OK, PENDING_GONE, PENDING_CUT };

/* The file that holds s's pending range (at its name, or renamed
 * beside it), opened; or -1 and why not: gone, or truncated or
 * rewritten (its size, first bytes or line ends are not the batch's). */
static int try_open_pending(const struct source *s, enum pending_fault *why)
{
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_dev == s->dev &&
	    (uint64_t)sb.st_ino == s->ino)
		goto check;
	if (fd >= 0)
		close(fd);
	char *p = find_by_inode(s->path, s->dev, s->ino);
	if (!p || (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		free(p);
		*why = PENDING_GONE;
		return -1;
	}
	free(p);
check:;
	uint64_t fp;
	if ((uint64_t)sb.st_size < s->end ||
	    fingerprint(fd, s->fp_len, &fp) != 0 || fp != s->fp ||
	    !line_end_at(fd, s->start) || !line_end_at(fd, s->end)) {
		close(fd);
		*why = PENDING_CUT;
		return -1;
	}
	*why = PENDING_OK;
	return fd;
}

static int open_pending(struct source *s)
{
	enum pending_fault why;
	int fd = try_open_pending(s, &why);
	if (why == PENDING_GONE)
		cli_die(EXIT_TROUBLE, "%s: gone since batch %" PRIu64 " was "
			"read; it cannot be replayed ('checkpoint reset' to "
			"drop it)", s->path, st.pending_batch);
	if (why == PENDING_CUT)
		cli_die(EXIT_TROUBLE, "%s: truncated or rewritten since batch %"
			PRIu64 " was read; it cannot be replayed ('checkpoint "
			"reset' to drop it)", s->path, st.pending_batch);
	return fd;
}

/* Whether the pending range fd holds is the bytes handed out, by the
 * hash taken when it was planned (true when the state kept none). */
static bool pending_same(const struct source *s, int fd)
{
	if (s->rhash_unknown)
		return true;
	struct map m;
	if (map_range(fd, s->start, s->end, &m) != 0)
		cli_die(EXIT_TROUBLE, "%s: read: %s", s->path,
			strerror(errno));
	uint64_t h = XXH3_64bits(m.p, (size_t)(s->end - s->start));
	unmap_range(&m);
	return h == s->rhash;
}

/* The pending batch was planned by this call (its bytes just hashed),
 * or the replay of one an earlier call handed out, verified once. */
static bool bat_fresh, bat_verified;

/*
 * A replay is the bytes first handed out, or refused: a file rewritten
 * in place keeps its inode, its size and, past its first bytes, its
 * fingerprint, and its line ends may stay where they were.  So each
 * range is hashed again and compared with the hash taken when it was
 * planned, every source before any byte goes out.
 */
static void verify_pending(void)
{
	if (bat_fresh || bat_verified)
		return;
	bool unknown = false;
	for (size_t j = 0; j < nbat; j++) {
		struct source *s = &st.src[bat[j]];
		int fd = open_pending(s);
		unknown |= s->rhash_unknown;
		bool same = pending_same(s, fd);
		close(fd);
		if (!same)
			cli_die(EXIT_TROUBLE, "%s: rewritten since batch %"
				PRIu64 " was read (bytes %" PRIu64 " to %"
				PRIu64 " are not the ones handed out); it "
				"cannot be replayed ('checkpoint reset' to "
				"drop it)", s->path, st.pending_batch,
				s->start, s->end);
	}
	if (unknown)
		cli_warn("%s: batch %" PRIu64 " was read by a checkpoint that "
			 "kept no hash of its bytes: its replay is checked by "
			 "its sources' first bytes and line ends only",
			 opt.state, st.pending_batch);
	bat_verified = true;
}

/* The kernel copies file to pipe or file without a trip through user
 * memory: faster than cat.  0 when sent, -2 when the reader went away
 * (EPIPE), -1 to fall back to mmap (not Linux, or an output sendfile
 * cannot take). */
static int send_range(const char *path, int fd, int out, uint64_t start,
		      size_t n)
{
#ifdef __linux__
	if (out < 0) {
		cli_out_commit(); /* what cli_out holds goes first */
		out = STDOUT_FILENO;
	}
	off_t off = (off_t)start;
	size_t done = 0;
	while (done < n) {
		ssize_t w = sendfile(out, fd, &off, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* a non-blocking pipe that is full: wait for room */
			struct pollfd pf = {.fd = out, .events = POLLOUT};
			while (poll(&pf, 1, -1) < 0 && errno == EINTR)
				;
			continue;
		}
		if (w < 0 && errno == EPIPE)
			return -2;
		if (w <= 0 && done == 0 && (errno == EINVAL || errno == ENOSYS))
			return -1;
		if (w <= 0)
			cli_die(EXIT_TROUBLE, "sending %s to stdout: %s", path,
				w < 0 ? strerror(errno) : "the file shrank");
		done += (size_t)w;
	}
	return 0;
#else
	(void)fd; (void)out; (void)start; (void)n;
	return -1;
#endif
}

/* Write the pending batch to the command fed by f (NULL: stdout).  0, or
 * -1 when the command exited before taking all of it. */
static int emit_batch(struct feed *f)
{
	uint64_t recs = 0, bytes = 0;
	verify_pending();
	for (size_t j = 0; j < nbat; j++) {
		struct source *s = &st.src[bat[j]];
		int fd = open_pending(s);
		size_t n = (size_t)(s->end - s->start);
		int sent = opt.stats || f ? -1
					  : send_range(s->path, fd, -1,
							       s->start, n);
		if (sent == -2) {
			close(fd);
			return -1;
		}
		if (sent == 0) {
			bytes += n;
			close(fd);
			continue;
		}
		struct map m;
		if (map_range(fd, s->start, s->end, &m) != 0)
			cli_die(EXIT_TROUBLE, "%s: read: %s", s->path,
				strerror(errno));
		if (!f) {
			cli_out(m.p, n);
		} else {
			char err[512];
			int r = feed_write(f, m.p, n, err, sizeof err);
			if (r < 0)
				cli_die(EXIT_TROUBLE, "%s", err);
			if (r > 0) {
				unmap_range(&m);
				close(fd);
				return -1;
			}
		}
		if (opt.stats)
			recs += count_lines(m.p, n);
		bytes += n;
		unmap_range(&m);
		close(fd);
	}
	cli_stats.records_out += recs;
	cli_stats.records_in += recs;
	cli_stats.bytes_in += bytes;
	if (f)
		cli_stats.bytes_out += bytes;
	return 0;
}

/* Make a batch pending: the one already pending, or a new one.  Returns
 * false when there is nothing new. */
/* Whether the call's FILE|DIR args name source s: the file itself (by
 * name or identity), a folder it is in, or the name it was rotated
 * from. */
static bool named_by(const struct source *s, char **args, int nargs)
{
	char *dir = state_path_dir(s->path);
	struct stat d, o;
	bool have_dir = stat(dir, &d) == 0;
	bool have_origin = s->origin && stat(s->origin, &o) == 0;
	free(dir);
	for (int i = 0; i < nargs; i++) {
		struct stat a;
		if (!strcmp(s->path, args[i]) ||
		    (s->origin && !strcmp(s->origin, args[i])))
			return true;
		if (stat(args[i], &a) != 0)
			continue;
		if ((uint64_t)a.st_dev == s->dev && (uint64_t)a.st_ino == s->ino)
			return true;
		if (have_origin && a.st_dev == o.st_dev && a.st_ino == o.st_ino)
			return true; /* the name it was rotated from, reached */
		if (S_ISDIR(a.st_mode) && have_dir && a.st_dev == d.st_dev &&
		    a.st_ino == d.st_ino)
			return true;
	}
	return false;
}

static bool prepare(char **args, int nargs)
{
	bat_fresh = bat_verified = false;
	if (st.pending_batch) {
		/* The pending batch goes out again as it was, whatever this
		 * call names: say so of a source it does not name, whose
		 * lines the caller would not look for.  What the call names
		 * is checked all the same: '-', a pipe or an unused --glob
		 * is refused with a batch pending as without one. */
		check_named(args, nargs);
		for (size_t j = 0; nargs && j < nbat; j++)
			if (!named_by(&st.src[bat[j]], args, nargs))
				cli_warn("%s: not named in this call, but its "
					 "lines are in batch %" PRIu64 ", pending "
					 "since an earlier call: emitted again "
					 "with it ('checkpoint reset' drops it)",
					 st.src[bat[j]].path, st.pending_batch);
		return true;
	}
	if (nargs == 0)
		cli_usage_error("no FILE or DIR to read");
	/* run --until-empty: the sources of the batch before are planned
	 * again as they stand; the folder is listed afresh only when that
	 * finds nothing (new files, growth of read ones) or a name moved, so
	 * a batch costs what it reads, not the whole folder. */
	plan_reused = listed_before;
	for (;;) {
		if (!plan_reused) {
			list_sources(args, nargs);
			match_sources();
		}
		plan_stale = false;
		uint64_t got = plan_batch();
		if (plan_reused && (got == 0 || plan_stale)) {
			plan_reused = false;
			continue;
		}
		if (got == 0) {
			state_save(); /* identities and sizes move on */
			return false;
		}
		break;
	}
	/* Never reuse a number, not even one a reset dropped. */
	st.pending_batch = ++st.issued;
	state_save();
	bat_fresh = true;
	return true;
}

static void commit_pending(void)
{
	if (!st.pending_batch)
		return; /* a second commit is a no-op */
	for (size_t j = 0; j < nbat; j++) {
		struct source *s = &st.src[bat[j]];
		s->committed = s->start = s->end;
		mark_dirty(s);
	}
	nbat = 0;
	st.last_batch = st.pending_batch;
	st.pending_batch = 0;
	state_save();
}

/* Run CMD on the pending batch (lib/feed.h); its wait(2) status (0:
 * exited 0), or -1 when it exited 0 without reading the whole batch and
 * --allow-unread was not given, or -2 when what it wrote to our standard
 * output, a pipe, was left in it by its reader, or -3 when that reader
 * has gone (feed_cmd_out_taken). */
static int run_cmd(char **cmd)
{
	char num[32], err[512];
	uint64_t unread;
	snprintf(num, sizeof num, "%" PRIu64, st.pending_batch);
	struct feed *f = feed_start(cmd, "IDEM_BATCH", num, err, sizeof err);
	if (!f)
		cli_die(EXIT_TROUBLE, "%s", err);
	emit_batch(f);
	int rc = feed_finish(f, &unread, err, sizeof err);
	if (rc < 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (rc == 0 && unread > 0 && !opt.allow_unread)
		return -1;
	/* the command's output, when it writes to our standard output and
	 * that is a pipe: a reader that left some in it never got it */
	int out = rc == 0 ? feed_cmd_out_taken(STDOUT_FILENO, &unread) : 0;
	return out ? -1 - out : rc;
}

/* ---- verbs ---- */

static int do_run(char **args, int nargs, char **cmd)
{
	uint64_t batches = 0;
	int status = EXIT_OK;
	for (;;) {
		if (!prepare(args, nargs))
			break;
		int rc = run_cmd(cmd);
		if (rc != 0) {
			if (rc == -3)
				cli_warn("batch %" PRIu64 ": %s exited 0, but "
					 "the reader of standard output has "
					 "gone: what %s wrote there may not "
					 "have reached it; left pending",
					 st.pending_batch, cmd[0], cmd[0]);
			else if (rc == -2)
				cli_warn("batch %" PRIu64 ": %s exited 0, but "
					 "the reader of standard output left "
					 "some of its output unread in the "
					 "pipe; left pending",
					 st.pending_batch, cmd[0]);
			else if (rc < 0)
				cli_warn("batch %" PRIu64 ": %s exited 0 without "
					 "reading the whole batch; left pending "
					 "(--allow-unread for a command that may "
					 "ignore its input)", st.pending_batch,
					 cmd[0]);
			else {
				char how[96];
				feed_status_describe(rc, how, sizeof how);
				cli_warn("batch %" PRIu64 ": %s %s; left "
					 "pending", st.pending_batch, cmd[0],
					 how);
			}
			/* the counts still go out: batches committed
			 * before this one are done */
			status = feed_status_exited(rc, EXIT_TEMPFAIL)
					 ? EXIT_TEMPFAIL
					 : EXIT_TROUBLE;
			break;
		}
		/* CMD's output, when our standard output is a file it
		 * wrote, is on disk before the state says it was done,
		 * as a read's is */
		cli_out_commit();
		commit_pending();
		batches++;
		if (!opt.until_empty)
			break;
	}
	if (opt.stats) {
		char extra[64];
		snprintf(extra, sizeof extra, ",\"batches\":%" PRIu64,
			 batches);
		cli_stats_print(extra);
	}
	return status;
}

/* read: the pending batch to stdout, and once all of it went out
 * (flushed, fsynced when a file), the state says so, for commit. */
static _Noreturn void stdout_is_source(const char *path)
{
	cli_die(EXIT_TROUBLE, "standard output is also a source (%s): a file "
		"written while it is read loses or repeats records; name "
		"another", path);
}

/* A regular file as stdout that is a source, known or one a listing of
 * the named files and folders would take, would be read back by a
 * later batch: every record again, without end.  Before anything is
 * planned, so the refusal changes nothing. */
static void refuse_stdout_source(char **args, int nargs)
{
	struct stat o, s;
	if (fstat(STDOUT_FILENO, &o) != 0 || !S_ISREG(o.st_mode))
		return;
	for (size_t k = 0; k < st.n; k++)
		if (st.src[k].dev == (uint64_t)o.st_dev &&
		    st.src[k].ino == (uint64_t)o.st_ino)
			stdout_is_source(st.src[k].path);
	for (int i = 0; i < nargs; i++) {
		if (stat(args[i], &s) != 0)
			continue; /* the listing says why */
		if (!S_ISDIR(s.st_mode)) {
			if (s.st_dev == o.st_dev && s.st_ino == o.st_ino)
				stdout_is_source(args[i]);
			continue;
		}
		DIR *d = opendir(args[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_ino != o.st_ino ||
			    fnmatch(opt.glob, e->d_name, FNM_PERIOD) != 0)
				continue;
			struct buf p = {0};
			size_t dl = strlen(args[i]);
			buf_addf(&p, "%s%s%s", args[i],
				 dl && args[i][dl - 1] == '/' ? "" : "/",
				 e->d_name);
			if (lstat(p.p, &s) == 0 && s.st_dev == o.st_dev &&
			    s.st_ino == o.st_ino)
				stdout_is_source(p.p);
			buf_free(&p);
		}
		if (d)
			closedir(d);
	}
}

static void do_read(char **args, int nargs)
{
	refuse_stdout_source(args, nargs);
	if (prepare(args, nargs)) {
		if (st.delivered == st.pending_batch) {
			/* read again: this reader must get it whole too.
			 * But first, that it can be given again: a read
			 * refused (a file rewritten since) emits nothing,
			 * and the batch stays delivered, for commit. */
			verify_pending();
			st.delivered = 0;
			state_save();
		}
		if (emit_batch(NULL) != 0)
			cli_out_gone();
		cli_out_commit(); /* as every tool before its state */
		/* a pipe's reader that left the batch's end in it (`| head
		 * -c 10`, the batch in the pipe buffer) never got it */
		uint64_t unread;
		if (feed_out_taken(STDOUT_FILENO, &unread))
			cli_out_gone();
		st.delivered = st.pending_batch;
		state_save();
	}
	cli_out_commit();
	if (opt.stats)
		cli_stats_print(NULL);
}

static void do_status(void)
{
	struct buf b = {0};
	for (size_t k = 0; k < st.n; k++) {
		struct source *s = &st.src[k];
		struct stat sb;
		const char *state = "ok";
		uint64_t size = 0, lag = 0;
		if (stat(s->path, &sb) != 0) {
			state = "missing";
		} else {
			size = (uint64_t)sb.st_size;
			lag = size > s->committed ? size - s->committed : 0;
			if ((uint64_t)sb.st_dev != s->dev ||
			    (uint64_t)sb.st_ino != s->ino) {
				/* read next: the rest of the old file, where
				 * it was renamed beside, then all of the new */
				state = "rotated";
				lag = size;
				char *old = find_by_inode(s->path, s->dev,
							  s->ino);
				struct stat ob;
				if (old && stat(old, &ob) == 0 &&
				    (uint64_t)ob.st_size > s->committed)
					lag += (uint64_t)ob.st_size - s->committed;
				free(old);
			} else if (size < s->committed ||
				   !goes_on(s->path, s)) {
				state = "truncated"; /* read again from 0 */
				lag = size;
				/* after the rest of its copy (copytruncate) */
				struct matching m = {.old = st.src,
						     .nold = st.n};
				struct sibling v;
				idx_init(&m.oid, st.n);
				for (size_t j = 0; j < st.n; j++)
					idx_put(&m.oid, st.src[j].dev,
						st.src[j].ino, j);
				if (find_copy(&m, s->path, s, &v)) {
					lag += v.size - s->committed;
					size_t nn;
					struct sibling *nv = newer_copies(
						&m, s->path, v.num, &nn);
					for (size_t j = 0; j < nn; j++) {
						lag += nv[j].size;
						free(nv[j].path);
					}
					free(nv);
					free(v.path);
				}
				free(m.oid.slot);
			}
		}
		/* A pending batch is checked as its replay would be: one
		 * whose bytes are not those handed out is refused by the
		 * next read, so its source is not ok. */
		if (st.pending_batch && s->end > s->start &&
		    (!strcmp(state, "ok") || !strcmp(state, "rotated"))) {
			enum pending_fault why;
			int fd = try_open_pending(s, &why);
			if (why == PENDING_GONE) /* renamed away and gone */
				state = "missing";
			else if (why == PENDING_CUT ||
				 (fd >= 0 && !pending_same(s, fd)))
				state = "rewritten";
			if (fd >= 0)
				close(fd);
		}
		buf_reset(&b);
		buf_addc(&b, '{');
		jw_key(&b, "file", 1);
		jw_str(&b, s->path);
		jw_key(&b, "offset", 0);
		jw_u64(&b, s->committed);
		jw_key(&b, "size", 0);
		jw_u64(&b, size);
		jw_key(&b, "lag", 0);
		jw_u64(&b, lag);
		jw_key(&b, "state", 0);
		jw_str(&b, state);
		jw_key(&b, "batch", 0);
		jw_u64(&b, st.last_batch);
		jw_key(&b, "pending", 0);
		if (st.pending_batch && s->end > s->start)
			buf_addf(&b, "{\"batch\":%" PRIu64 ",\"end\":%" PRIu64
				 ",\"delivered\":%s}", st.pending_batch, s->end,
				 st.delivered == st.pending_batch ? "true"
								  : "false");
		else
			buf_adds(&b, "null");
		buf_addc(&b, '}');
		cli_out_line(b.p, b.len);
	}
	buf_free(&b);
}

/* The offset just past the last complete line of path (its "end"). */
static uint64_t line_end(const char *path, uint64_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_die(EXIT_TROUBLE, "%s: %s", path, strerror(errno));
	uint64_t end = 0;
	if (size > 0) {
		struct map m;
		if (map_range(fd, 0, size, &m) != 0)
			cli_die(EXIT_TROUBLE, "%s: read: %s", path,
				strerror(errno));
		const char *nl = last_nl(m.p, '\n', (size_t)size);
		end = nl ? (uint64_t)(nl - m.p) + 1 : 0;
		unmap_range(&m);
	}
	close(fd);
	return end;
}

static bool at_line_start(const char *path, uint64_t off)
{
	if (off == 0)
		return true;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char c = 0;
	bool ok = fd >= 0 && pread(fd, &c, 1, (off_t)(off - 1)) == 1 &&
		  c == '\n';
	if (fd >= 0)
		close(fd);
	return ok;
}

static void do_reset(char **args, int nargs)
{
	if (!opt.to)
		cli_usage_error("reset: say where: --to start, --to end or "
				"--to OFFSET");
	if (nargs == 0 && opt.glob_given)
		glob_unused();
	bool to_start = !strcmp(opt.to, "start"), to_end = !strcmp(opt.to, "end");
	uint64_t off = 0;
	if (!to_start && !to_end) {
		/* strtoull alone skips blanks and takes a sign: ' -1' read
		 * as 2^64 - 1 and was refused later as past the end */
		if (opt.to[0] < '0' || opt.to[0] > '9')
			cli_usage_error("--to: want start, end or a byte offset, "
					"got '%s'", opt.to);
		off = cli_count("--to", opt.to);
	}
	uint64_t dropped = st.pending_batch;
	st.pending_batch = 0;
	nbat = 0;
	save_full = true; /* sources may come and go */
	if (nargs > 0) {
		list_sources(args, nargs);
		if (!to_start && !to_end && ncands != 1)
			cli_usage_error("--to OFFSET takes exactly one FILE");
	}
	/* Name the sources to move: the given ones (added when new), or
	 * all.  A source is its identity, whatever name reaches it (as in
	 * read): matched by name only, ./f or a hard link would add a
	 * second entry for f and move that one, and the next read would
	 * go on from f's old offset as if no reset had been asked. */
	bool *named = xcalloc(st.n + ncands + 1, sizeof *named);
	for (size_t c = 0; c < ncands; c++) {
		size_t k, by_name = SIZE_MAX;
		for (k = 0; k < st.n; k++) {
			struct source *s = &st.src[k];
			if (s->dev == (uint64_t)cands[c].s.st_dev &&
			    s->ino == (uint64_t)cands[c].s.st_ino)
				break;
			if (by_name == SIZE_MAX &&
			    !strcmp(s->path, cands[c].path))
				by_name = k;
		}
		if (k == st.n && by_name != SIZE_MAX) {
			/* The name now reaches another file.  The known one,
			 * rotated away beside it and intact, is still that
			 * source, as read finds it: it keeps its offset, to be
			 * finished first, and the file named is a new source.
			 * Moved in its place, its unread lines would be
			 * dropped without a word. */
			struct source *o = &st.src[by_name];
			char *old = find_by_inode(o->path, o->dev, o->ino);
			struct stat ob;
			if (old && stat(old, &ob) == 0 &&
			    (uint64_t)ob.st_size >= o->committed &&
			    goes_on(old, o)) {
				cli_warn("%s: rotated; the old file, now %s, "
					 "keeps its offset %" PRIu64 " (%" PRIu64
					 " bytes unread), to be finished first",
					 cands[c].path, old, o->committed,
					 (uint64_t)ob.st_size - o->committed);
				free(o->path);
				o->path = old;
				if (!o->origin)
					o->origin = xstrdup(cands[c].path);
			} else {
				free(old);
				k = by_name;
			}
		}
		if (k == st.n) {
			add_source()->path = xstrdup(cands[c].path);
		} else if (strcmp(st.src[k].path, cands[c].path)) {
			/* named now: under this name, no longer followed */
			free(st.src[k].path);
			free(st.src[k].origin);
			st.src[k].origin = NULL;
			st.src[k].path = xstrdup(cands[c].path);
		}
		named[k] = true;
	}
	if (nargs == 0 && !to_start && !to_end)
		cli_usage_error("--to OFFSET takes exactly one FILE");
	for (size_t k = 0; k < st.n; k++) {
		struct source *s = &st.src[k];
		s->start = s->end = s->committed;
		if (nargs && !named[k])
			continue;
		struct stat sb;
		char *old;
		if (!nargs && stat(s->path, &sb) == 0 &&
		    ((uint64_t)sb.st_dev != s->dev ||
		     (uint64_t)sb.st_ino != s->ino) &&
		    (old = find_by_inode(s->path, s->dev, s->ino))) {
			/* Rotated away beside the file now at its name: that
			 * is this source, moved with its own offset; the new
			 * file is another source, moved too (it comes next
			 * in this loop).  Moved in its place, the old file's
			 * unread lines would be dropped without a word. */
			cli_warn("%s: rotated; moving the old file, now %s, "
				 "and the new one", s->path, old);
			char *name = s->path;
			s->path = old;
			if (!s->origin)
				s->origin = xstrdup(name);
			bool known = false;
			for (size_t j = 0; j < st.n && !known; j++)
				known = st.src[j].dev == (uint64_t)sb.st_dev &&
					st.src[j].ino == (uint64_t)sb.st_ino;
			if (known)
				free(name); /* moved under its own entry */
			else
				add_source()->path = name;
			s = &st.src[k];
		}
		int fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && nargs == 0) {
			/* Gone: nothing to move; the state forgets it, and
			 * says so (the reset would otherwise stop here and
			 * drop nothing). */
			cli_warn("%s: gone; removed from the state", s->path);
			free(s->path);
			free(s->origin);
			memmove(s, s + 1, (--st.n - k) * sizeof *s);
			k--; /* wraps at 0; the loop's k++ brings it back */
			continue;
		}
		if (fd < 0 || fstat(fd, &sb) != 0)
			cli_die(EXIT_TROUBLE, "%s: %s", s->path,
				strerror(errno));
		s->dev = (uint64_t)sb.st_dev;
		s->ino = (uint64_t)sb.st_ino;
		s->size = (uint64_t)sb.st_size;
		s->ctime = ctime_ns(&sb);
		s->fp_len = whole_lines_len(fd, 0, s->size);
		if (fingerprint(fd, s->fp_len, &s->fp) != 0)
			cli_die(EXIT_TROUBLE, "%s: changed while being read",
				s->path);
		close(fd);
		if (to_start)
			off = 0;
		else if (to_end)
			off = line_end(s->path, s->size);
		else if (off > s->size)
			cli_die(EXIT_TROUBLE, "%s: offset %" PRIu64 " is past "
				"its end (size %" PRIu64 ")", s->path, off,
				s->size);
		else if (!at_line_start(s->path, off))
			cli_die(EXIT_TROUBLE, "%s: offset %" PRIu64 " is not "
				"the start of a line", s->path, off);
		s->committed = s->start = s->end = off;
	}
	free(named);
	state_save();
	/* Said once it is true: the state without the batch is committed. */
	if (dropped)
		cli_warn("pending batch %" PRIu64 " dropped", dropped);
}

/* Each verb, its usage line and the options it takes (long names); any
 * other option is refused, so a misplaced one never goes unnoticed. */
static const struct cli_verb verbs[] = {
	{"read", "read -s STATE [-n N] [--max-bytes SIZE] [--glob PATTERN] "
		 "[--stats] FILE|DIR...",
	 "state glob max-records max-bytes stats",
	 "Print the next batch of new lines (the same one until committed)",
	 "  printf '{\"id\":%d}\\n' 1 2 3 > app.ndjson\n"
	 "  checkpoint read -s app.ckpt -n 2 app.ndjson\n"
	 "  checkpoint read -s app.ckpt --max-bytes 1K --glob '*.ndjson' .\n"},
	{"commit", "commit -s STATE", "state",
	 "Mark the pending batch done: the next read starts after it",
	 "  printf '{\"id\":%d}\\n' 1 2 3 > app.ndjson\n"
	 "  checkpoint read -s app.ckpt -n 2 app.ndjson > batch.ndjson\n"
	 "  checkpoint commit -s app.ckpt\n"},
	{"run", "run -s STATE [-n N] [--max-bytes SIZE] [--glob PATTERN] "
		"[--until-empty] [--allow-unread] [--stats] FILE|DIR... -- "
		"CMD [ARG]...",
	 "state glob max-records max-bytes until-empty allow-unread stats",
	 "Give CMD each batch on stdin; commit when it exits 0 having read "
	 "it all",
	 "  printf '{\"n\":%d}\\n' 1 2 3 4 5 > events.ndjson\n"
	 "  checkpoint run -s ev.ckpt -n 2 --until-empty events.ndjson -- "
	 "sh -c 'cat >> sink.ndjson'\n"
	 "  checkpoint run -s ev.ckpt events.ndjson -- wc -l\n"},
	{"status", "status -s STATE", "state",
	 "Print each source's committed offset and the pending batch",
	 "  printf '{\"id\":1}\\n' > app.ndjson\n"
	 "  checkpoint read -s app.ckpt app.ndjson > /dev/null\n"
	 "  checkpoint status -s app.ckpt\n"},
	{"reset", "reset -s STATE --to start|end|OFFSET [--glob PATTERN] "
		  "[FILE|DIR]...",
	 "state to glob",
	 "Move the sources' offsets: to the start, the end, or a byte offset",
	 "  printf '{\"old\":1}\\n' > live.ndjson\n"
	 "  checkpoint reset -s live.ckpt --to end live.ndjson\n"
	 "  checkpoint reset -s live.ckpt --to start\n"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static const struct cli_opthelp option_help[] = {
	{"state",
	 "  -s, --state FILE          the checkpoint state (committed atomically)\n"},
	{"glob",
	 "      --glob PATTERN        files of a DIR to read (default '*')\n"},
	{"max-records",
	 "  -n, --max-records N       at most N lines per batch\n"},
	{"max-bytes",
	 "      --max-bytes SIZE      at most SIZE bytes per batch (at least one line)\n"},
	{"until-empty",
	 "      --until-empty         repeat batches until nothing new is left\n"},
	{"allow-unread",
	 "      --allow-unread        commit when CMD exits 0 without reading all\n"},
	{"to",
	 "      --to WHERE            start, end, or a byte OFFSET (one FILE)\n"},
	{"stats",
	 "      --stats               print counts as one JSON line on stderr\n"},
};

int main(int argc, char **argv)
{
	enum { O_GLOB = 256, O_BYTES, O_UNTIL, O_TO, O_STATS, O_UNREAD };
	static const struct option longopts[] = {
		{"state", required_argument, NULL, 's'},
		{"glob", required_argument, NULL, O_GLOB},
		{"max-records", required_argument, NULL, 'n'},
		{"max-bytes", required_argument, NULL, O_BYTES},
		{"until-empty", no_argument, NULL, O_UNTIL},
		{"allow-unread", no_argument, NULL, O_UNREAD},
		{"to", required_argument, NULL, O_TO},
		{"stats", no_argument, NULL, O_STATS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cli_init(argv[0]);
	cli_refuse_twice("");
	const struct cli_verb *vb = cli_verb_pick(verbs, NVERBS, &argc, &argv,
						  usage);
	const char *verb = vb->name;
	/* run: everything after "--" is the command; options may follow
	 * the files, as in every other tool (getopt permutes up to "--"). */
	char **cmd = NULL;
	int ac = argc;
	char **av = argv;
	if (!strcmp(verb, "run")) {
		for (int i = 1; i < ac; i++)
			if (!strcmp(av[i], "--")) {
				cmd = av + i + 1;
				av[i] = NULL;
				ac = i;
				break;
			}
	}
	int c;
	while ((c = cli_verb_getopt(vb, ac, av, "s:n:h", longopts)) != -1) {
		switch (c) {
		case 's': opt.state = optarg; break;
		case O_GLOB:
			/* matched against names in a folder, which hold no
			 * '/': such a pattern would choose nothing, unsaid */
			if (!*optarg)
				cli_usage_error("--glob: an empty pattern "
						"matches no file");
			if (strchr(optarg, '/'))
				cli_usage_error("--glob '%s': a pattern for the "
						"names of a folder's files, which "
						"hold no '/' (name the folder "
						"itself: --glob '*.ndjson' d/sub)",
						optarg);
			opt.glob = optarg;
			opt.glob_given = true;
			break;
		case 'n':
			opt.max_records = cli_count("--max-records", optarg);
			if (!opt.max_records)
				cli_usage_error("--max-records: must be positive");
			break;
		case O_BYTES:
			opt.max_bytes = cli_size("--max-bytes", optarg);
			if (!opt.max_bytes)
				cli_usage_error("--max-bytes: must be positive");
			break;
		case O_UNTIL: opt.until_empty = true; break;
		case O_UNREAD: opt.allow_unread = true; break;
		case O_TO: opt.to = optarg; break;
		case O_STATS: opt.stats = true; break;
		case 'h':
			cli_verb_help(vb, option_help,
				      sizeof option_help / sizeof *option_help);
		}
	}
	if (!strcmp(verb, "run") && (!cmd || !cmd[0]))
		cli_verb_usage_error(vb, "give the command after '--'");
	if (!opt.state)
		cli_verb_usage_error(vb, "-s STATE is required");
	if (!strcmp(opt.state, "-")) /* as every tool's side files */
		cli_die(EXIT_TROUBLE, "-s -: '-' names standard input or "
			"output, not a file; name a file (./- for one called "
			"-)");
	char **args = av + optind;
	int nargs = ac - optind;
	if ((!strcmp(verb, "commit") || !strcmp(verb, "status")) && nargs)
		cli_verb_usage_error(vb, "%s takes no FILE", verb);
	/* Refused before any batch runs: a pending one would be run and
	 * committed, and only the batch after it find no source named. */
	if (opt.until_empty && !nargs)
		cli_verb_usage_error(vb, "--until-empty reads until no new "
				     "line is left: name the FILE|DIR to read");
	/* read, run and a reset of named sources start a state; commit,
	 * status and a reset of every known source only find one: of a
	 * missing one, "nothing to commit", a status of no source (no lag)
	 * or a reset of none (exit 0) would hide a wrong name, and the
	 * state under the right one would stay as it was, unsaid.  Before
	 * the lock, which would make a file.  (A reset's unused --glob is
	 * said by do_reset.) */
	const char *none = !strcmp(verb, "commit") ? "nothing committed"
			   : !strcmp(verb, "status") ? "no source to show"
			   : !strcmp(verb, "reset") && !nargs &&
				     !opt.glob_given
				   ? "nothing reset (name the sources to "
				     "start a state at --to)"
				   : NULL;
	struct stat sst;
	if (none && stat(opt.state, &sst) != 0 && errno == ENOENT)
		cli_die(EXIT_TROUBLE, "%s: no such state (no read or reset "
			"made it; a wrong name?); %s", opt.state, none);
	state_load();
	if (strcmp(verb, "commit") != 0) /* commit names no source */
		check_cwd(!strcmp(verb, "status"));
	int status = EXIT_OK;
	if (!strcmp(verb, "read")) {
		do_read(args, nargs);
	} else if (!strcmp(verb, "commit")) {
		if (st.pending_batch && st.delivered != st.pending_batch)
			cli_die(EXIT_TROUBLE, "%s: batch %" PRIu64 " was not "
				"delivered whole (its last read was cut short: "
				"a closed pipe, a failed write, a kill; or its "
				"run's command failed, or did not take it all); "
				"nothing committed: 'checkpoint read' gives the "
				"same batch again", opt.state, st.pending_batch);
		commit_pending();
	} else if (!strcmp(verb, "run")) {
		/* the command's output goes there: read back by the next
		 * batch, --until-empty would never end */
		refuse_stdout_source(args, nargs);
		if (!feed_out_open(STDOUT_FILENO))
			cli_die(EXIT_TROUBLE, "standard output is closed: what "
				"%s writes there would be lost, and it may exit "
				"0 all the same; give it /dev/null to discard "
				"it", cmd[0]);
		status = do_run(args, nargs, cmd);
	} else if (!strcmp(verb, "status")) {
		do_status();
	} else {
		do_reset(args, nargs);
	}
	cli_out_close();
	return status;
}
