#define _GNU_SOURCE /* getdents64 */
#include "delta/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "delta/logsum.h"
#include "delta/paths.h"
#include "delta/protocol.h"
#include "errbuf.h"
#include "scan.h"
#include "xalloc.h"

char *dl_commit_path(const char *table, int64_t version)
{
	struct buf b = {0};
	buf_addf(&b, "%s/_delta_log/%020lld.json", table, (long long)version);
	return b.p;
}

/* Open a file of the log for reading: -2 when absent, -1 (err set)
 * when it cannot be opened or is not a regular file.  O_NONBLOCK: a
 * FIFO put in the log must not hang the open, and fstat then refuses
 * it (and anything else that is not a plain file) before a read.
 * O_NOFOLLOW: a symbolic link is no file of the log either -- followed,
 * it read a commit from elsewhere as this version, and one that led
 * nowhere looked absent while its name was listed, so the probing
 * after a checkpoint read it again for ever. */
static int open_regular(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -2;
		if (errno == ELOOP) {
			errbuf_set(err, errlen, "%s: not a regular file (a "
				"symbolic link); refusing to read it as part "
				"of the log", path);
			return -1;
		}
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s: not a regular file; refusing to read "
			"it as part of the log", path);
		close(fd);
		return -1;
	}
	/* a regular file never blocks; clear the flag for plain reads */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* The whole file into out; sized: once, from fstat (a checkpoint: no
 * growing copies; a small commit reads into out's room without it). */
int dl_read_file(const char *path, struct buf *out, bool sized,
		 char *err, size_t errlen)
{
	out->len = 0;
	int fd = open_regular(path, err, errlen);
	if (fd < 0)
		return fd == -2 ? 1 : -1;
	struct stat st;
	size_t want = SIZE_MAX;
	if (sized && fstat(fd, &st) == 0 && st.st_size > 0) {
		want = (size_t)st.st_size;
		if (out->cap < want + 2) {
			/* +2: the NUL, and room to see end-of-file */
			out->cap = want + 2;
			out->p = xrealloc(out->p, out->cap);
		}
	}
	for (;;) {
		if (out->cap - out->len < 2)
			buf_reserve(out, 65536);
		ssize_t r = read(fd, out->p + out->len, out->cap - out->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		/* a published log file never changes: once its size is in,
		 * the read that would say end-of-file is not needed */
		if (out->len == want)
			break;
	}
	out->p[out->len] = '\0';
	close(fd);
	return 0;
}

int dl_read_commit(const char *table, int64_t version, struct buf *out,
		   char *err, size_t errlen)
{
	char *p = dl_commit_path(table, version);
	int rc = dl_read_file(p, out, false, err, errlen);
	if (rc == 0 && !dl_sum_ok(out->p, out->len, DL_SUM_COMMIT)) {
		errbuf_set(err, errlen, "%s: version %lld: damaged commit %s "
			"(its bytes differ from the checksum txlog wrote in "
			"it); run txlog verify", table, (long long)version, p);
		rc = -1;
	}
	free(p);
	return rc;
}

int dl_write_commit(const char *table, int64_t version, const char *text,
		    size_t n, char *err, size_t errlen)
{
	char *p = dl_commit_path(table, version);
	int rc = commit_create_new(p, text, n, err, errlen);
	free(p);
	return rc;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* The version the 20 digits at nm say, as atoll reads them (past
 * INT64_MAX: INT64_MAX): a listing folds each name of a log of
 * thousands of commits, at every load, and strtoll's locale and base
 * handling cost more than the rest of the name's checks. */
static int64_t version_of(const char *nm)
{
	/* 19 digits cannot overflow 64 bits unsigned: one check, for the
	 * twentieth, not a division a digit */
	uint64_t v = 0;
	for (int i = 0; i < 19; i++)
		v = v * 10 + (uint64_t)(nm[i] - '0');
	uint64_t d = (uint64_t)(nm[19] - '0');
	if (v > ((uint64_t)INT64_MAX - d) / 10)
		return INT64_MAX;
	return (int64_t)(v * 10 + d);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * The names in a folder, read by getdents64 into a buffer that lives
 * where the iterator does (the caller's stack).  readdir reads into a
 * fresh 32 KiB buffer of its own: its pages, faulted in at every
 * listing, cost more than the kernel's walk of a 1000-commit log (a
 * listing of 1005 names: 380 -> 250 us CPU on this machine).  A read
 * that fails is an error, never the end of the listing: a log listed
 * short would lose its newest commits in silence.
 */
struct names {
	int fd, err;
	long len, at;
	char buf[8192] __attribute__((aligned(8)));
};

static bool names_open(struct names *it, const char *path)
{
	it->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	it->err = it->fd < 0 ? errno : 0;
	it->len = it->at = 0;
	return it->fd >= 0;
}

/* The next name, or NULL at the end or on an error (it->err set). */
static const char *names_next(struct names *it)
{
	while (it->at >= it->len) {
		if (it->fd < 0 || it->err)
			return NULL;
		long r = getdents64(it->fd, it->buf, sizeof it->buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				it->err = errno;
			return NULL;
		}
		it->len = r;
		it->at = 0;
	}
	struct dirent64 *de = (struct dirent64 *)(it->buf + it->at);
	it->at += de->d_reclen;
	return de->d_name;
}

static void names_close(struct names *it)
{
	if (it->fd >= 0)
		close(it->fd);
	it->fd = -1;
}

/* Whether the listing d ran to its end; else err says why. */
static bool listed_whole(struct names *d, const char *table, char *err,
			 size_t errlen)
{
	names_close(d);
	if (!d->err)
		return true;
	errbuf_set(err, errlen, "%s/_delta_log: listing: %s", table,
		   strerror(d->err));
	return false;
}

struct listing {
	int64_t *commits;
	size_t ncommits;
	int64_t best_cp; /* newest JSON checkpoint <= limit */
	char *best_cp_name;
	int64_t parquet_cp; /* newest Parquet checkpoint <= limit */
};

static int list_log(const char *table, int64_t limit, struct listing *l,
		    char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	l->best_cp = l->parquet_cp = -1;
	struct buf b = {0};
	buf_addf(&b, "%s/_delta_log", table);
	/* A log linked in from elsewhere would have us read and commit
	 * outside the table, as a linked data file would. */
	struct stat st;
	if (lstat(b.p, &st) == 0 && S_ISLNK(st.st_mode)) {
		buf_free(&b);
		errbuf_set(err, errlen, "%s/_delta_log: is a symbolic link; "
			"refusing (the log must be a folder of the table)",
			table);
		return -1;
	}
	struct names d;
	if (!names_open(&d, b.p)) {
		buf_free(&b);
		if (d.err == ENOENT)
			return 1;
		errbuf_set(err, errlen, "%s/_delta_log: %s", table,
			   strerror(d.err));
		return -1;
	}
	size_t cap = 0;
	const char *nm;
	while ((nm = names_next(&d))) {
		size_t len = strlen(nm);
		if (len < 21 || !all_digits(nm, 20))
			continue;
		int64_t v = version_of(nm);
		if (limit >= 0 && v > limit)
			continue;
		if (strcmp(nm + 20, ".json") == 0) {
			l->commits = xgrow(l->commits, &cap, l->ncommits,
					   sizeof(int64_t), 64);
			l->commits[l->ncommits++] = v;
		} else if (strncmp(nm + 20, ".checkpoint.", 12) == 0) {
			bool json = len > 25 && strcmp(nm + len - 5, ".json") == 0;
			if (json && v > l->best_cp) {
				l->best_cp = v;
				free(l->best_cp_name);
				l->best_cp_name = xstrdup(nm);
			} else if (!json && strstr(nm, ".parquet") &&
				   !strstr(nm, ".tmp") && v > l->parquet_cp) {
				l->parquet_cp = v;
			}
		}
	}
	buf_free(&b);
	if (!listed_whole(&d, table, err, errlen)) {
		free(l->commits);
		free(l->best_cp_name);
		memset(l, 0, sizeof *l);
		return -1;
	}
	if (l->ncommits > 1) /* an empty log has no array to sort */
		qsort(l->commits, l->ncommits, sizeof(int64_t), cmp_i64);
	return 0;
}

int64_t *dl_list_versions(const char *table, size_t *n, char *err,
			  size_t errlen)
{
	struct listing l;
	int rc = list_log(table, -1, &l, err, errlen);
	free(l.best_cp_name);
	*n = 0;
	if (rc < 0)
		return NULL;
	*n = l.ncommits;
	return l.commits ? l.commits : xcalloc(1, sizeof(int64_t));
}

char *dl_newest_checkpoint(const char *table, int64_t limit,
			   int64_t *version, char *err, size_t errlen)
{
	struct listing l;
	err[0] = '\0';
	*version = -1;
	int rc = list_log(table, limit, &l, err, errlen);
	free(l.commits);
	if (rc != 0 || l.best_cp < 0) {
		free(l.best_cp_name);
		return NULL;
	}
	*version = l.best_cp;
	return l.best_cp_name;
}

/* The log folder, opened for listing, its path in b (freed on error). */
static bool open_log(struct names *d, const char *table, struct buf *b,
		     char *err, size_t errlen)
{
	buf_addf(b, "%s/_delta_log", table);
	if (!names_open(d, b->p)) {
		errbuf_set(err, errlen, "%s: %s", b->p, strerror(d->err));
		buf_free(b);
		return false;
	}
	return true;
}

int64_t dl_entry_version(const char *nm)
{
	size_t len = strlen(nm);
	if (len < 24 || !all_digits(nm, 20))
		return -1;
	const char *rest = nm + 20;
	bool ends_json = strcmp(nm + len - 5, ".json") == 0;
	if (strcmp(rest, ".json") == 0 || strcmp(rest, ".crc") == 0 ||
	    (strncmp(rest, ".checkpoint.", 12) == 0 &&
	     (ends_json || strcmp(nm + len - 8, ".parquet") == 0)) ||
	    (len == 56 && rest[0] == '.' && all_digits(rest + 1, 20) &&
	     strcmp(rest + 21, ".compacted.json") == 0))
		return atoll(nm);
	return -1;
}

struct entry {
	int64_t v;
	char *name;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->v < y->v ? -1 : x->v > y->v;
}

int dl_delete_below(const char *table, int64_t cp, size_t *deleted,
		    char *err, size_t errlen)
{
	*deleted = 0;
	struct buf b = {0};
	struct names d;
	if (!open_log(&d, table, &b, err, errlen))
		return -1;
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	const char *nm;
	while ((nm = names_next(&d))) {
		int64_t v = dl_entry_version(nm);
		bool compacted = strstr(nm, ".compacted.") != NULL;
		if (v < 0 || (compacted ? v > cp : v >= cp))
			continue;
		e = xgrow(e, &cap, n, sizeof *e, 64);
		e[n++] = (struct entry){v, xstrdup(nm)};
	}
	if (!listed_whole(&d, table, err, errlen)) {
		for (size_t i = 0; i < n; i++)
			free(e[i].name);
		free(e);
		buf_free(&b);
		return -1;
	}
	if (n > 1)
		qsort(e, n, sizeof *e, cmp_entry);
	int rc = 0;
	size_t dir_len = b.len;
	for (size_t i = 0; i < n; i++) {
		b.len = dir_len;
		buf_addf(&b, "/%s", e[i].name);
		if (rc == 0 && unlink(b.p) != 0 && errno != ENOENT) {
			errbuf_set(err, errlen, "%s: %s", b.p, strerror(errno));
			rc = -1;
		} else if (rc == 0) {
			(*deleted)++;
		}
		free(e[i].name);
	}
	free(e);
	/* the unlinks durable: the folder that held them, fsynced */
	if (rc == 0 && n)
		rc = commit_sync_dir(b.p, err, errlen);
	buf_free(&b);
	return rc;
}

/* A V2 checkpoint says which version it holds (checkpointMetadata):
 * it must be the one its name gives, or the replay after it would
 * skip or repeat commits. */
static int checkpoint_loaded(struct dl_snapshot *s, const char *name,
			     int64_t v, char *err, size_t errlen)
{
	if (s->cp_meta_version >= 0 && s->cp_meta_version != v) {
		errbuf_set(err, errlen, "%s: checkpoint %s holds version %lld "
			"(checkpointMetadata), not %lld; refusing", s->table,
			name, (long long)s->cp_meta_version, (long long)v);
		return -1;
	}
	s->checkpoint_version = v;
	return 0;
}

/* The checksum txlog wrote in the checkpoint at path, when it has one. */
static int checkpoint_sum(const struct dl_snapshot *s, const char *path,
			  const char *text, size_t n, char *err, size_t errlen)
{
	if (dl_sum_ok(text, n, DL_SUM_CHECKPOINT))
		return 0;
	errbuf_set(err, errlen, "%s: damaged checkpoint %s (its bytes differ "
		"from the checksum txlog wrote in it); run txlog verify",
		s->table, path);
	return -1;
}

/* The checkpoint name at version v; nadd: its add count from
 * _last_checkpoint, or -1. */
static int load_checkpoint(struct dl_snapshot *s, const char *name,
			   int64_t v, int64_t nadd, struct buf *tmp,
			   char *err, size_t errlen)
{
	struct buf p = {0};
	buf_addf(&p, "%s/_delta_log/%s", s->table, name);
	int fd = open_regular(p.p, err, errlen);
	if (fd == -1) {
		buf_free(&p);
		return -1;
	}
	struct stat st;
	const char *text = NULL;
	size_t n = 0; /* a big checkpoint's size */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size >= 1 << 16)
		n = (size_t)st.st_size;
	if (nadd > 0 && nadd < (1 << 24))
		dl_snapshot_presize(s, nadd);
	if (n) {
		/* A big checkpoint is mapped where it lies, populated in
		 * one call: its pages are the page cache's, where a copy
		 * needs as many fresh ones (a 1000-file table's load:
		 * 1.12 -> 0.98 ms CPU, the file table's pool then small
		 * enough for 4 KiB pages); a checkpoint is never
		 * rewritten in place (it is published by rename), so the
		 * mapping cannot shrink.  Else it is read below. */
		void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			       fd, 0);
		if (m != MAP_FAILED) {
			s->map = m;
			s->map_len = n;
			text = m;
		}
	}
	if (fd >= 0)
		close(fd);
	if (text) {
		int rc = checkpoint_sum(s, p.p, text, n, err, errlen);
		buf_free(&p);
		if (rc != 0 || dl_apply_owned(s, text, n, v, err, errlen) != 0)
			return -1;
		return checkpoint_loaded(s, name, v, err, errlen);
	}
	int rc = dl_read_file(p.p, tmp, true, err, errlen);
	if (rc == 0)
		rc = checkpoint_sum(s, p.p, tmp->p, tmp->len, err, errlen);
	else if (rc == 1)
		errbuf_set(err, errlen, "%s: checkpoint %s is gone", s->table,
			   name);
	buf_free(&p);
	if (rc != 0 || dl_apply_buf(s, tmp, v, err, errlen) != 0)
		return -1;
	return checkpoint_loaded(s, name, v, err, errlen);
}

/* The fast way to the newest snapshot: _last_checkpoint names a JSON
 * checkpoint; the commits after it are found by probing, no listing. */
static int load_from_hint(struct dl_snapshot *s, struct buf *tmp)
{
	char e[256];
	struct buf p = {0};
	buf_addf(&p, "%s/_delta_log/_last_checkpoint", s->table);
	int rc = dl_read_file(p.p, tmp, false, e, sizeof e);
	buf_free(&p);
	if (rc != 0)
		return -1;
	struct scan_error se;
	if (scan_validate(tmp->p, tmp->len, &se) != 0)
		return -1;
	int64_t v;
	const char *v2;
	size_t v2n;
	if (!scan_get_i64(tmp->p, tmp->len, "version", &v) ||
	    !scan_get(tmp->p, tmp->len, "v2Checkpoint", &v2, &v2n))
		return -1;
	char *name = scan_get_str(v2, v2n, "path");
	/* The checkpoint's own name says which version it holds; a hint
	 * that claims another would have the replay skip the commits in
	 * between (and the next writer publish after a gap).  PROTOCOL.md
	 * makes _last_checkpoint a pointer "to near the end of the log",
	 * never the authority: on any disagreement, list the log. */
	if (!name || strchr(name, '/') || strlen(name) < 21 ||
	    !all_digits(name, 20) ||
	    strncmp(name + 20, ".checkpoint.", 12) || atoll(name) != v) {
		free(name);
		return -1;
	}
	int64_t nadd;
	if (!scan_get_i64(tmp->p, tmp->len, "numOfAddFiles", &nadd))
		nadd = -1;
	rc = load_checkpoint(s, name, v, nadd, tmp, e, sizeof e);
	free(name);
	return rc;
}

static int check_paths(struct dl_snapshot *s, char *err, size_t errlen)
{
	/* Files of one folder come in runs: check each folder once. */
	const char *last = NULL;
	size_t last_len = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		const char *p = s->files[i].path;
		const char *slash = strrchr(p, '/');
		size_t dl = slash ? (size_t)(slash - p) : 0;
		if (last && dl == last_len && memcmp(p, last, dl) == 0) {
			if (dl_path_lexical(s->table, p, err, errlen))
				return -1;
			continue;
		}
		if (dl_path_check(s->table, p, err, errlen))
			return -1;
		last = p;
		last_len = dl;
	}
	return 0;
}

/* Whether the log has commit v (2), else one after v (1), else neither
 * (0); -1 on error.  One pass over the folder's names, no list kept: the
 * check the hint's probing makes once it stops. */
static int commit_after(const char *table, int64_t v, char *err,
			size_t errlen)
{
	struct buf b = {0};
	struct names d;
	bool opened = open_log(&d, table, &b, err, errlen);
	buf_free(&b);
	if (!opened)
		return -1;
	/* Names of 20 digits order as their numbers do: each is compared
	 * with v's as text, not read as a number (every name of the log,
	 * at every load: 384 -> ~60 instructions a name) */
	char key[21];
	snprintf(key, sizeof key, "%020lld", (long long)v);
	int r = 0;
	const char *nm;
	while (r < 2 && (nm = names_next(&d))) {
		int c;
		if (strlen(nm) != 25 || memcmp(nm + 20, ".json", 5) != 0 ||
		    (c = memcmp(nm, key, 20)) < 0 || !all_digits(nm, 20))
			continue;
		r = c == 0 ? 2 : 1;
	}
	return listed_whole(&d, table, err, errlen) ? r : -1;
}

/* Why version cannot be read when the listing up to it found nothing:
 * no table at all, or commits cleaned up below the oldest kept one. */
static void cleaned_up(const char *table, int64_t version, char *err,
		       size_t errlen)
{
	struct listing all;
	char e[64];
	if (list_log(table, -1, &all, e, sizeof e) == 0 && all.ncommits) {
		errbuf_set(err, errlen, "%s: version %lld cannot be read: its "
			"commits were cleaned up (the oldest kept is %lld) and "
			"no checkpoint at or below it replaces them", table,
			(long long)version, (long long)all.commits[0]);
	} else {
		errbuf_set(err, errlen, "%s: not a Delta table (no _delta_log "
			"commits)", table);
	}
	free(all.commits);
	free(all.best_cp_name);
}

struct dl_snapshot *dl_load(const char *table, int64_t version, char *err,
			    size_t errlen)
{
	struct dl_snapshot *s = dl_snapshot_new(table);
	struct buf tmp = {0};
	int64_t next;
	if (version < 0 && load_from_hint(s, &tmp) == 0) {
		next = s->version + 1;
		for (;;) {
			int rc = dl_read_commit(table, next, &tmp, err, errlen);
			if (rc < 0)
				goto fail;
			if (rc == 0) {
				if (dl_apply_buf(s, &tmp, next, err, errlen))
					goto fail;
				s->commits_read++;
				next++;
				continue;
			}
			/* Probing stops at the first version missing: one
			 * after it is a gap (a lost commit), which the
			 * listing path refuses; read past it, the newest
			 * commits would be left out in silence and the next
			 * writer publish into the gap.  Unless next was
			 * published meanwhile (with more after it): then
			 * read on. */
			int after = commit_after(table, next, err, errlen);
			if (after < 0)
				goto fail;
			if (after == 2)
				continue;
			if (after == 1) {
				/* A listing is no snapshot of the folder: one
				 * taken while writers commit can show N+1 and
				 * miss N, which was there before N+1 was made.
				 * Only N itself says it is gone. */
				rc = dl_read_commit(table, next, &tmp, err,
						    errlen);
				if (rc < 0)
					goto fail;
				if (rc == 0)
					continue;
				errbuf_set(err, errlen, "%s: version %lld is "
					"missing from the log", table,
					(long long)next);
				goto fail;
			}
			break;
		}
		goto done;
	}
	dl_snapshot_reset(s);
	struct listing l;
	int rc = list_log(table, version, &l, err, errlen);
	if (rc < 0)
		goto fail;
	if (rc == 1 || (l.ncommits == 0 && l.best_cp < 0)) {
		free(l.commits);
		free(l.best_cp_name);
		if (version >= 0) {
			cleaned_up(table, version, err, errlen);
			goto fail;
		}
		goto done;
	}
	int64_t start = 0;
	if (l.best_cp >= 0 && l.best_cp >= l.parquet_cp) {
		if (load_checkpoint(s, l.best_cp_name, l.best_cp, -1, &tmp,
				    err, errlen) != 0) {
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		start = l.best_cp + 1;
	} else if (l.ncommits == 0 || l.commits[0] != 0) {
		/* a JSON-only replay from version 0 would also do */
		if (l.parquet_cp >= 0 &&
		    (l.ncommits == 0 || l.commits[0] > l.parquet_cp + 1 ||
		     l.commits[0] != 0)) {
			errbuf_set(err, errlen,
				"%s: the log starts from a Parquet checkpoint "
				"(version %lld), which txlog cannot read",
				table, (long long)l.parquet_cp);
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		if (version >= 0 && l.ncommits == 0) {
			cleaned_up(table, version, err, errlen);
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		if (l.ncommits == 0 || l.commits[0] != 0) {
			errbuf_set(err, errlen, "%s: version 0 is missing and no "
				"checkpoint replaces it", table);
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
	}
	int64_t expect = start;
	for (size_t i = 0; i < l.ncommits; i++) {
		if (l.commits[i] < start)
			continue;
		/* a version the listing skipped but then listed one after:
		 * read it by name (a listing taken while writers commit can
		 * miss N and show N+1); gone only when that fails too */
		bool skipped = l.commits[i] > expect;
		int rc2 = dl_read_commit(table, expect, &tmp, err, errlen);
		if (rc2 == 1)
			errbuf_set(err, errlen, "%s: version %lld is missing "
				"from the log", table, (long long)expect);
		if (rc2 != 0 || dl_apply_buf(s, &tmp, expect, err, errlen) != 0) {
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		s->commits_read++;
		expect++;
		if (skipped)
			i--; /* l.commits[i] is still to read */
	}
	free(l.commits);
	free(l.best_cp_name);
	if (version >= 0 && s->version != version) {
		errbuf_set(err, errlen, "%s: no version %lld (newest is %lld)",
			table, (long long)version, (long long)s->version);
		goto fail;
	}
done:
	buf_free(&tmp);
	if (s->version >= 0 && (dl_check_snapshot(s, err, errlen) != 0 ||
				check_paths(s, err, errlen) != 0 ||
				dl_check_partition_values(s, err, errlen) != 0)) {
		dl_snapshot_free(s);
		return NULL;
	}
	return s;
fail:
	buf_free(&tmp);
	dl_snapshot_free(s);
	return NULL;
}

struct dl_snapshot *dl_load_from(const char *table, const char *cp_name,
				 int64_t version, char *err, size_t errlen)
{
	struct dl_snapshot *s = dl_snapshot_new(table);
	struct buf tmp = {0};
	int rc = 0;
	if (cp_name) {
		rc = load_checkpoint(s, cp_name, version, -1, &tmp, err, errlen);
	} else {
		for (int64_t v = 0; rc == 0 && v <= version; v++) {
			int r = dl_read_commit(table, v, &tmp, err, errlen);
			if (r == 1)
				errbuf_set(err, errlen, "%s: version %lld is "
					"missing from the log", table,
					(long long)v);
			rc = r != 0 || dl_apply_buf(s, &tmp, v, err, errlen) != 0
				     ? -1
				     : 0;
		}
	}
	buf_free(&tmp);
	if (rc) {
		dl_snapshot_free(s);
		return NULL;
	}
	return s;
}
