/*
 * vacuum: delete the data files no reader within the retention can need.
 *
 * The retention horizon H is now - --retain (default 7 days).  Time
 * travel within the retention reads version R, the newest committed at
 * or before H by the commit times --as-of reads (or the oldest there
 * is), or any later one.  So the files
 * kept are: the live files of R's snapshot, and every file added by a
 * commit after R.  Everything else under the table folder is a candidate,
 * deleted only when it is also old enough on its own terms: a file the
 * log removed, when its remove's deletionTimestamp is before H; a file no
 * commit names (a failed or crashed writer's), when its modification
 * time is before H -- a younger one may belong to a writer about to
 * commit.
 *
 * The walk never enters _delta_log/ or hidden entries ('.' or '_' first,
 * unless a partition folder col=value), never follows a symlink (it is
 * neither followed nor deleted), and only ever unlinks a regular file it
 * reached by real folders under the table: it holds each folder open
 * and works relative to it (openat with O_NOFOLLOW | O_DIRECTORY,
 * fstatat, unlinkat), so a folder swapped for a symlink between the
 * listing and the delete cannot lead it outside.  In _delta_log it only
 * removes the temp files of killed commits, once they are stale.  A
 * partition folder (col=value) older than the retention that is empty
 * once its files are gone is removed too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsonw.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

#define WEEK_NS (7LL * 24 * 3600 * 1000000000LL)

static char **keep;
static struct dl_file **tombs; /* the current snapshot's, by path */
static size_t ntombs;
static size_t nkeep, capkeep;
static int64_t horizon_ms;
static const struct dl_snapshot *cur;
static uint64_t n_deleted, bytes_deleted, n_kept_young;
static int64_t lost_below = -1; /* the newest version that removed a file deleted */

static void keep_add(const char *path)
{
	keep = xgrow(keep, &capkeep, nkeep, sizeof *keep, 1024);
	keep[nkeep++] = xstrdup(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool kept(const char *path)
{
	if (!nkeep) /* no base for bsearch: keep is NULL */
		return false;
	return bsearch(&path, keep, nkeep, sizeof *keep, cmp_str) != NULL;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp((*(struct dl_file *const *)a)->path,
		      (*(struct dl_file *const *)b)->path);
}

static const struct dl_file *tomb(const char *path)
{
	if (!ntombs)
		return NULL;
	struct dl_file key = {.path = (char *)path}, *kp = &key;
	struct dl_file **f = bsearch(&kp, tombs, ntombs, sizeof *tombs,
				     cmp_file);
	return f ? *f : NULL;
}

static void when(int64_t ms, char out[TIME_STRMAX])
{
	time_format(ms * 1000000, out);
}

/* Find R and fill keep[]; returns R (-1: no version before H). */
static int64_t protect(int64_t *oldest)
{
	char err[1024];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	/* R is the version --as-of the horizon reads: by the commit times
	 * time travel uses (history.c), not commitInfo.timestamp, which a
	 * writer's clock sets and which may be earlier than its commit */
	int64_t *times = txlog_commit_times(vs, n);
	struct buf text = {0};
	struct dl_snapshot **commits = xcalloc(n + 1, sizeof *commits);
	int64_t r = -1;
	size_t ri = 0;
	for (size_t k = 0; k < n; k++) {
		int rc = dl_read_commit(opt.table, vs[k], &text, err,
					sizeof err);
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		struct dl_snapshot *w = dl_snapshot_new(opt.table);
		if (rc == 0 && dl_apply(w, text.p, text.len, vs[k], err,
					sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		commits[k] = w;
		if (times[k] != TXLOG_TIME_GONE && times[k] <= horizon_ms) {
			r = vs[k];
			ri = k;
		}
	}
	*oldest = n ? vs[0] : 0;
	/* R's snapshot (or the oldest one) and every add after it */
	int64_t base = r >= 0 ? r : *oldest;
	struct dl_snapshot *rs = dl_load(opt.table, base, err, sizeof err);
	if (!rs)
		cli_die(EXIT_TROUBLE, "%s (vacuum needs the snapshot at the "
			"retention horizon); nothing deleted", err);
	size_t nl;
	struct dl_file **live = dl_live_files(rs, &nl);
	for (size_t i = 0; i < nl; i++)
		keep_add(live[i]->path);
	free(live);
	dl_snapshot_free(rs);
	for (size_t k = r >= 0 ? ri + 1 : 0; k < n; k++)
		for (size_t i = 0; i < commits[k]->nfiles; i++)
			if (commits[k]->files[i].live)
				keep_add(commits[k]->files[i].path);
	for (size_t k = 0; k < n; k++)
		dl_snapshot_free(commits[k]);
	free(commits);
	free(times);
	free(vs);
	buf_free(&text);
	if (nkeep > 1) /* a table without data files has no array */
		qsort(keep, nkeep, sizeof *keep, cmp_str);
	return r;
}

/* fd/name is the regular file rel of the table: delete it if no reader
 * within the retention can need it.  unlinkat relative to the open
 * folder: were the name swapped for a symlink meanwhile, the link itself
 * would go, never what it points at. */
static void candidate(int fd, const char *name, const char *rel,
		      const struct stat *st)
{
	if (kept(rel))
		return;
	const struct dl_file *f = tomb(rel);
	const char *why;
	if (f) {
		if (f->mtime > horizon_ms) {
			n_kept_young++;
			return;
		}
		why = "removed";
		if (!opt.dry_run && f->version > lost_below)
			lost_below = f->version;
	} else {
		/* not named by any kept snapshot; young: a writer's, maybe
		 * about to commit it */
		if ((int64_t)st->st_mtime * 1000 > horizon_ms) {
			n_kept_young++;
			return;
		}
		why = "orphan";
	}
	if (opt.dry_run) {
		struct buf b = {0};
		buf_adds(&b, "{\"path\":");
		jw_str(&b, rel);
		buf_addf(&b, ",\"bytes\":%lld,\"reason\":\"%s\"}",
			 (long long)st->st_size, why);
		cli_out_line(b.p, b.len);
		buf_free(&b);
	} else if (unlinkat(fd, name, 0) != 0 && errno != ENOENT) {
		cli_die(EXIT_TROUBLE, "%s/%s: %s", opt.table, rel,
			strerror(errno));
	}
	n_deleted++;
	bytes_deleted += (uint64_t)st->st_size;
}

static bool hidden(const char *name, bool dir)
{
	if (name[0] != '.' && name[0] != '_')
		return false;
	return !(dir && strchr(name, '=')); /* a partition folder */
}

/* Temp files of killed commits in _delta_log (NAME.tmp.XXXXXX): one
 * older than STALE_TMP_S is no commit in flight.  The log's own files
 * are never candidates otherwise. */
#define STALE_TMP_S 600

static void clean_log_temps(int tfd)
{
	int fd = openat(tfd, "_delta_log",
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (!strstr(e->d_name, ".tmp.") ||
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < STALE_TMP_S)
			continue;
		if (opt.dry_run) {
			struct buf b = {0};
			buf_adds(&b, "{\"path\":");
			struct buf r = {0};
			buf_addf(&r, "_delta_log/%s", e->d_name);
			jw_str(&b, r.p);
			buf_addf(&b, ",\"bytes\":%lld,\"reason\":"
				 "\"stale temp\"}", (long long)st.st_size);
			cli_out_line(b.p, b.len);
			buf_free(&b);
			buf_free(&r);
		} else if (unlinkat(fd, e->d_name, 0) != 0 && errno != ENOENT) {
			cli_die(EXIT_TROUBLE, "%s/_delta_log/%s: %s", opt.table,
				e->d_name, strerror(errno));
		}
		n_deleted++;
		bytes_deleted += (uint64_t)st.st_size;
	}
	closedir(d);
}

/* Walk the folder open as fd (rel: its path in the table), relative to
 * open descriptors only: a folder is entered by openat with O_NOFOLLOW
 * and O_DIRECTORY, so a folder swapped for a symlink after it was
 * listed is not entered -- nothing outside the table is reached. */
static void walk(int fd, struct buf *rel)
{
	DIR *d = fdopendir(fd);
	if (!d)
		cli_die(EXIT_TROUBLE, "%s/%s: %s", opt.table, rel->p,
			strerror(errno));
	size_t rl = rel->len;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		rel->len = rl;
		if (rl)
			buf_addc(rel, '/');
		buf_adds(rel, name);
		buf_addc(rel, '\0');
		rel->len--;
		struct stat st;
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			cli_die(EXIT_TROUBLE, "%s/%s: %s", opt.table, rel->p,
				strerror(errno));
		}
		if (S_ISDIR(st.st_mode)) {
			if (hidden(name, true) ||
			    (rl == 0 && strcmp(name, "_delta_log") == 0))
				continue;
			int sub = openat(fd, name, O_RDONLY | O_DIRECTORY |
						   O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno == ENOENT || errno == ELOOP ||
				    errno == ENOTDIR)
					continue; /* gone, or now a symlink */
				cli_die(EXIT_TROUBLE, "%s/%s: %s", opt.table,
					rel->p, strerror(errno));
			}
			walk(sub, rel);
			/* A partition folder left empty (by this vacuum, or
			 * by a killed writer) goes too, as Delta's VACUUM
			 * removes empty directories; one changed within the
			 * retention may be a writer's about to add a file,
			 * and one not empty just stays. */
			if (!opt.dry_run && strchr(name, '=') &&
			    (int64_t)st.st_mtime * 1000 <= horizon_ms &&
			    unlinkat(fd, name, AT_REMOVEDIR) != 0 &&
			    errno != ENOTEMPTY && errno != EEXIST &&
			    errno != ENOENT && errno != ENOTDIR)
				cli_die(EXIT_TROUBLE, "%s/%s: %s", opt.table,
					rel->p, strerror(errno));
		} else if (S_ISREG(st.st_mode) && !hidden(name, false)) {
			candidate(fd, name, rel->p, &st);
		}
		/* symlinks and the rest: never followed, never deleted */
	}
	closedir(d); /* closes fd */
	rel->len = rl;
	buf_addc(rel, '\0');
	rel->len--;
}

int verb_vacuum(void)
{
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	/* Delta's VACUUM: the table's delta.deletedFileRetentionDuration
	 * (default 1 week) is the default retention and the minimum, as
	 * other readers of the table count on it */
	int64_t table_ms = WEEK_NS / 1000000;
	int prop = dl_config_interval(s, "delta.deletedFileRetentionDuration",
				      &table_ms);
	if (prop < 0)
		cli_die(EXIT_TROUBLE, "%s: delta.deletedFileRetentionDuration is "
			"not a duration txlog reads (such as 'interval 7 "
			"days'); nothing deleted", opt.table);
	int64_t minimum = table_ms > INT64_MAX / 1000000 ? INT64_MAX
							 : table_ms * 1000000;
	char min_text[96];
	duration_format(minimum, min_text);
	if (prop == 0)
		strcat(min_text, " (delta.deletedFileRetentionDuration)");
	int64_t retain = opt.retain_set ? opt.retain_ns : minimum;
	cur = s;
	tombs = xcalloc(s->nfiles + 1, sizeof *tombs);
	for (size_t i = 0; i < s->nfiles; i++)
		if (!s->files[i].live)
			tombs[ntombs++] = &s->files[i];
	if (ntombs > 1)
		qsort(tombs, ntombs, sizeof *tombs, cmp_file);
	horizon_ms = (time_now() - retain) / 1000000;
	int64_t oldest;
	int64_t r = protect(&oldest);
	if (retain < minimum && !opt.force) {
		char d[48], h[TIME_STRMAX];
		duration_format(retain, d);
		when(horizon_ms, h);
		if (r > oldest)
			cli_die(EXIT_TROUBLE, "%s: --retain %s is under the %s "
				"minimum: it would break time travel to "
				"versions %lld to %lld (before %s); add --force "
				"if no reader needs them", opt.table, d,
				min_text, (long long)oldest, (long long)r - 1,
				h);
		cli_die(EXIT_TROUBLE, "%s: --retain %s is under the %s "
			"minimum: it would break time travel further back "
			"than %s; add --force if no reader needs that",
			opt.table, d, min_text, d);
	}
	struct buf rel = {0};
	buf_addc(&rel, '\0');
	rel.len = 0;
	int tfd = open(opt.table, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		cli_die(EXIT_TROUBLE, "%s: %s", opt.table, strerror(errno));
	clean_log_temps(tfd);
	walk(tfd, &rel);
	if (opt.dry_run) {
		char line[160];
		int len = snprintf(line, sizeof line, "{\"dry_run\":true,"
				   "\"files\":%" PRIu64 ",\"bytes\":%" PRIu64
				   "}", n_deleted, bytes_deleted);
		cli_out_line(line, (size_t)len);
	}
	if (!opt.stats && !opt.dry_run) {
		/* the summary line (a dry run's is its last line on stdout;
		 * --stats gives the same as JSON) */
		char lost[96];
		if (lost_below >= 0)
			snprintf(lost, sizeof lost, "versions before %lld can "
				 "no longer be read", (long long)lost_below);
		else
			snprintf(lost, sizeof lost, "no version lost a file");
		cli_warn("%s: vacuum: deleted %" PRIu64 " files (%" PRIu64
			 " bytes), added none, kept %" PRIu64 " too young; %s",
			 opt.table, n_deleted, bytes_deleted, n_kept_young,
			 lost);
	}
	if (opt.stats) {
		char extra[320];
		snprintf(extra, sizeof extra, ",\"version\":%lld,\"horizon_"
			 "version\":%lld,\"files_deleted\":%" PRIu64 ",\"bytes_"
			 "deleted\":%" PRIu64 ",\"files_too_young\":%" PRIu64
			 ",\"dry_run\":%s,\"versions_unreadable_below\":%lld",
			 (long long)s->version,
			 (long long)r, opt.dry_run ? 0 : n_deleted,
			 opt.dry_run ? 0 : bytes_deleted, n_kept_young,
			 opt.dry_run ? "true" : "false",
			 (long long)(lost_below >= 0 ? lost_below : 0));
		cli_stats_print(extra);
	}
	for (size_t i = 0; i < nkeep; i++)
		free(keep[i]);
	free(keep);
	free(tombs);
	buf_free(&rel);
	dl_snapshot_free(s);
	return EXIT_OK;
}
