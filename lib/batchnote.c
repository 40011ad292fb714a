/* batchnote: a batch's options, kept with it; see batchnote.h. */
#include "batchnote.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "statefile.h"
#include "xalloc.h"

/* A file option that is no regular file, noted as such: a replay writes
 * to it anew (as standard output), whatever its name (>(gzip) is
 * /dev/fd/63, through /proc/PID/fd of each run). */
#define FILE_STREAM "|stream"

void batchnote_add(struct batchnote *n, const char *name, const char *canon,
		   const char *fmt, ...)
{
	struct buf shown = {0};
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(&shown, (size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(shown.p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	state_put_str(&n->b, name, strlen(name));
	state_put_str(&n->b, canon, strlen(canon));
	state_put_str(&n->b, shown.p, (size_t)len);
	buf_free(&shown);
}

/* A file's real path, or its folder's with its name when it is not
 * there yet, so one file under two names (another working folder, a
 * symbolic link) is one file. */
static char *real_name(const char *path)
{
	char *r = realpath(path, NULL);
	if (r)
		return r;
	char *dir = state_path_dir(path);
	char *rd = realpath(dir, NULL);
	free(dir);
	if (!rd && path[0] != '/') { /* a folder not there: from here */
		char *cwd = getcwd(NULL, 0);
		struct buf b = {0};
		if (cwd)
			buf_addf(&b, "%s/%s", cwd, path);
		free(cwd);
		return cwd ? b.p : xstrdup(path);
	}
	if (!rd)
		return xstrdup(path);
	const char *base = strrchr(path, '/');
	struct buf b = {0};
	buf_addf(&b, "%s%s%s", rd, strcmp(rd, "/") ? "/" : "",
		 base ? base + 1 : path);
	free(rd);
	return b.p;
}

/* The real folder of the state file. */
static char *state_dir(const struct batchnote *n)
{
	char *dir = state_path_dir(n->state_path);
	char *real = real_name(dir);
	free(dir);
	return real;
}

/* to (absolute, real) as seen from the folder from: a --dlq is noted
 * relative to its state's folder, so a state and its dead letters moved
 * or copied together (a test's -j1 and -j4 folders) note one file. */
static char *rel_path(const char *from, const char *to)
{
	size_t c = 0; /* the common folders' length */
	for (size_t i = 0;; i++) {
		bool fe = from[i] == '\0' || from[i] == '/';
		if (fe && (to[i] == '/' || to[i] == '\0'))
			c = i;
		if (from[i] != to[i] || !from[i])
			break;
	}
	struct buf b = {0};
	for (const char *p = from + c; *p; p++)
		if (*p == '/' && p[1])
			buf_adds(&b, "../");
	buf_adds(&b, to[c] == '/' ? to + c + 1 : to + c);
	return b.p;
}

/* A noted file as a path from the root: the state's folder, then the
 * noted path with its "../" taken off that folder (both real, so
 * lexically). */
static char *file_shown(const struct batchnote *n, const char *rel)
{
	if (!strcmp(rel, FILE_STREAM))
		return xstrdup("a pipe, a terminal or a device");
	char *dir = state_dir(n);
	size_t len = strlen(dir);
	while (!strncmp(rel, "../", 3)) {
		while (len > 1 && dir[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* the slash, but the root's */
		rel += 3;
	}
	struct buf b = {0};
	buf_add(&b, dir, len);
	if (len == 0 || dir[len - 1] != '/')
		buf_addc(&b, '/');
	buf_adds(&b, rel);
	free(dir);
	return b.p;
}

void batchnote_add_file(struct batchnote *n, const char *name,
			const char *path)
{
	struct stat st;
	if (!path) {
		batchnote_add(n, name, "", "no %s", name);
	} else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		batchnote_add(n, name, FILE_STREAM, "%s %s", name, path);
	} else {
		char *real = real_name(path), *dir = state_dir(n);
		char *rel = rel_path(dir, real);
		batchnote_add(n, name, rel, "%s %s", name, path);
		free(rel);
		free(dir);
		free(real);
	}
}

void batchnote_add_shard(struct batchnote *n, bool whole, uint32_t i,
			 uint32_t of)
{
	/* shard 0 of 1 is every key, as a state says */
	const char *sh = whole ? "--partition" : "--shard";
	char canon[64] = "";
	if (of > 1)
		snprintf(canon, sizeof canon, "%s %" PRIu32 "/%" PRIu32, sh, i,
			 of);
	if (of)
		batchnote_add(n, "--shard", canon, "%s %" PRIu32 "/%" PRIu32,
			      sh, i, of);
	else
		batchnote_add(n, "--shard", "", "no --shard or --partition");
}

void batchnote_add_max_line(struct batchnote *n, size_t max_line,
			    const char *arg)
{
	char bytes[32];
	snprintf(bytes, sizeof bytes, "%zu", max_line);
	batchnote_add(n, "--max-line", bytes, "--max-line %s",
		      arg ? arg : "64M");
}

struct note_opt {
	char *name, *canon, *shown;
	size_t canon_len;
};

/* The note's options into o (zeroed, at most max of them; the caller
 * frees them, a failure's too); -1 when it is no note. */
static int note_parse(const unsigned char *p, size_t len,
		      struct note_opt *o, size_t max, size_t *got)
{
	const unsigned char *e = p + len;
	size_t k = 0, l;
	for (; p < e; k++)
		if (k == max || state_get_str(&p, e, &o[k].name, &l) != 0 ||
		    state_get_str(&p, e, &o[k].canon, &o[k].canon_len) != 0 ||
		    state_get_str(&p, e, &o[k].shown, &l) != 0)
			return -1;
	*got = k;
	return 0;
}

/* The options a note-less state cannot check, said once. */
static void say_unchecked(const struct batchnote *n,
			  const struct state_gen *g, const struct note_opt *o,
			  size_t no, batchnote_skip_fn *skip, void *ctx)
{
	struct buf list = {0};
	size_t nlist = 0;
	for (size_t i = 0; i < no; i++)
		nlist += !skip(o[i].name, true, ctx);
	for (size_t i = 0, j = 0; i < no; i++) {
		if (skip(o[i].name, true, ctx))
			continue;
		buf_addf(&list, "%s%s", j == 0 ? ""
				 : j + 1 == nlist ? " and " : ", ",
			 o[i].name);
		j++;
	}
	cli_warn("%s: batch %s was run by a %s that kept no note of its "
		 "options: this replay's %s are not checked against its "
		 "run's (give them as it did)", n->state_path, g->batch,
		 cli_prog, list.len ? list.p : "options");
	buf_free(&list);
}

void batchnote_check(struct batchnote *n, struct state_gen *g,
		     batchnote_skip_fn *skip, void *ctx)
{
	enum { N = 64 };
	struct note_opt mine[N] = {0}, was[N] = {0};
	size_t nmine, nwas;
	if (note_parse((unsigned char *)n->b.p, n->b.len, mine, N, &nmine) !=
	    0)
		abort(); /* batchnote_add wrote it */
	if (!g->note_known) {
		say_unchecked(n, g, mine, nmine, skip, ctx);
		goto out;
	}
	if (note_parse(g->known_note, g->known_note_len, was, N, &nwas) != 0)
		cli_die(EXIT_TROUBLE, "%s: damaged state (batch %s's options)",
			n->state_path, g->batch);
	for (size_t i = 0; i < nwas; i++) {
		size_t j = 0;
		while (j < nmine && strcmp(mine[j].name, was[i].name))
			j++;
		if (j == nmine)
			cli_die(EXIT_TROUBLE, "%s: batch %s was run with %s, "
				"which this %s does not know; replay it with "
				"the %s that ran it, or name another batch",
				n->state_path, g->batch, was[i].shown, cli_prog,
				cli_prog);
		if (skip(was[i].name, false, ctx) ||
		    (was[i].canon_len == mine[j].canon_len &&
		     !memcmp(was[i].canon, mine[j].canon, was[i].canon_len)))
			continue;
		/* one spelling of two files (another working folder): the
		 * files tell them apart (only a file's value is shown alike
		 * and compared apart) */
		bool same = !strcmp(was[i].shown, mine[j].shown);
		char *now = same ? file_shown(n, mine[j].canon)
				 : xstrdup(mine[j].canon);
		char *then = same ? file_shown(n, was[i].canon)
				  : xstrdup(was[i].canon);
		static struct buf msg; /* reachable at exit, as now, then */
		buf_addf(&msg, "%s: batch %s replayed with %s%s%s%s, but its "
			 "run had %s%s%s%s; state left as that run committed "
			 "it (replay the batch with its run's options, or name "
			 "another batch)", n->state_path, g->batch,
			 mine[j].shown, same ? " (" : "", same ? now : "",
			 same ? ")" : "", was[i].shown, same ? " (" : "",
			 same ? then : "", same ? ")" : "");
		free(now);
		free(then);
		cli_die(EXIT_TROUBLE, "%s", msg.p);
	}
	/* the batch's run's note stays: a later replay is told that run's
	 * values, not this one's spelling of them */
	g->note = g->known_note;
	g->note_len = g->known_note_len;
out:
	for (size_t i = 0; i < N; i++) {
		free(mine[i].name), free(mine[i].canon), free(mine[i].shown);
		free(was[i].name), free(was[i].canon), free(was[i].shown);
	}
}

void batchnote_free(struct batchnote *n)
{
	buf_free(&n->b);
}
