#include "dlq.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include "buf.h"
#include "commit.h"
#include "decimal.h"
#include "dlq_ledger.h"
#include "errbuf.h"
#include "fpset.h"
#include "jsonw.h"
#include "scan.h"
#include "timefmt.h"
#include "xalloc.h"

struct dlq {
	int fd; /* O_APPEND: each write lands whole at the current end */
	char *path;
	char *tool;
	struct buf line; /* reused for every envelope */
	uint64_t count;
	/* A replay in progress: fp -> 1 + the index in lc of the record's
	 * next entry not yet lettered again.  lc: the ledger's entries by
	 * fingerprint, each record's in the order they were handed out,
	 * with their retry_count + 1. */
	struct fpset *ledger;
	struct ledger_count {
		struct fp128 fp;
		uint64_t next; /* retry_count + 1 */
		size_t at;     /* its place in the ledger */
	} *lc;
	size_t nlc;
	enum value_keys ledger_keys; /* the form of its fingerprints */
	uint64_t replay_id; /* its run id, said in each letter of its records */
	struct buf scratch;
	uint64_t cut; /* bytes of torn letters cut off, not yet reported */
	bool regular; /* a regular file at path itself: torn ends are cut */
};

/* By fingerprint, then place in the ledger. */
static int lc_cmp(const void *a, const void *b)
{
	const struct ledger_count *x = a, *y = b;
	int c = value_fp_cmp(x->fp, y->fp);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The retry_count of a new letter of fp, a record the replay handed
 * out: its next entry's retry_count + 1, in the order they were handed
 * out; past the last (the record lettered more often than it was
 * handed out), the highest of them + 1. */
static uint64_t ledger_next(struct dlq *d, struct fp128 fp, uint64_t *pay)
{
	size_t k = (size_t)*pay - 1;
	if (k < d->nlc && value_fp_cmp(d->lc[k].fp, fp) == 0) {
		*pay = k + 2;
		return d->lc[k].next;
	}
	uint64_t most = 0;
	while (k > 0 && value_fp_cmp(d->lc[k - 1].fp, fp) == 0)
		if (d->lc[--k].next > most)
			most = d->lc[k].next;
	return most;
}

struct dlq *dlq_open(const char *path, const char *tool, char *err,
		     size_t errlen)
{
	/* A symlink to a file would make us append outside the folder the
	 * user named (a planted link); one to a pipe or terminal
	 * (/dev/stderr) is a stream, and fine. */
	struct stat ls, ts;
	if (strncmp(path, "/dev/", 5) != 0 && lstat(path, &ls) == 0 &&
	    S_ISLNK(ls.st_mode) &&
	    (stat(path, &ts) != 0 || S_ISREG(ts.st_mode) ||
	     S_ISDIR(ts.st_mode))) {
		errbuf_set(err, errlen, "%s: is a symbolic link to a file; "
			"refusing to write dead letters through it", path);
		return NULL;
	}
	/* A torn letter a killed writer left goes before ours follow it. */
	int64_t cut = dlq_cut_torn(path, err, errlen);
	if (cut < 0)
		return NULL;
	/* Readable when a regular file, so dlq_put can see a torn end. */
	bool reg = stat(path, &ts) != 0 || S_ISREG(ts.st_mode);
	int fd = open(path, (reg ? O_RDWR : O_WRONLY) | O_APPEND | O_CREAT |
				    O_CLOEXEC, 0644);
	if (fd < 0 && reg && errno == EACCES)
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0644);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: cannot open dead-letter file: %s",
			path, strerror(errno));
		return NULL;
	}
	struct dlq *d = xcalloc(1, sizeof *d);
	d->fd = fd;
	d->cut = (uint64_t)cut;
	d->regular = lstat(path, &ls) == 0 && S_ISREG(ls.st_mode);
	d->path = xstrdup(path);
	d->tool = xstrdup(tool);
	struct dlq_ledger_entry *e;
	size_t n;
	bool orphan; /* another file's (this one was made or replaced
		      * since): its records were not handed out from here */
	struct dlq_ledger_run run;
	int r = dlq_ledger_read(path, &e, &n, NULL, NULL, &d->ledger_keys,
				&orphan, &run, err, errlen);
	if (r < 0) {
		close(fd);
		free(d->path);
		free(d->tool);
		free(d);
		return NULL;
	}
	/* A replay to a command: only that command (and its children) has
	 * its run id, and only its letters say it, for its rollback to
	 * take; another writer's letter of a record it handed out still
	 * counts as a retry (the record failed again), unmarked, kept. */
	bool own = true;
	if (r > 0 && !orphan && run.fed) {
		char want[17];
		const char *have = getenv(DLQ_REPLAY_ENV);
		dlq_ledger_run_hex(run.id, want);
		own = have && !strcmp(have, want);
	}
	if (r > 0 && orphan)
		free(e);
	if (r > 0 && !orphan) {
		d->replay_id = own ? run.id : 0;
		d->ledger = fpset_new(true);
		/* One count per entry, not one per record: a record in the
		 * file twice (at retry_count 0 and 2, say) comes back as 1
		 * and 3, each entry's own retry_count + 1. */
		d->lc = xcalloc(n ? n : 1, sizeof *d->lc);
		d->nlc = n;
		for (size_t k = 0; k < n; k++)
			d->lc[k] = (struct ledger_count){
				e[k].fp, e[k].retry_count + 1, k};
		qsort(d->lc, n, sizeof *d->lc, lc_cmp);
		for (size_t k = 0; k < n; k++) {
			uint64_t *pay;
			if (!fpset_add(d->ledger, d->lc[k].fp, &pay))
				*pay = k + 1;
		}
		free(e);
	}
	return d;
}

static const char b64_abc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* p[0..n) as a JSON string of RFC 4648 base64. */
static void b64_string(struct buf *b, const unsigned char *p, size_t n)
{
	buf_reserve(b, n / 3 * 4 + 6);
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {b64_abc[v >> 18], b64_abc[(v >> 12) & 63],
			     i + 1 < n ? b64_abc[(v >> 6) & 63] : '=',
			     i + 2 < n ? b64_abc[v & 63] : '='};
		buf_add(b, q, 4);
	}
	buf_addc(b, '"');
}

static int b64_value(char c)
{
	const char *at = c ? strchr(b64_abc, c) : NULL;
	return at ? (int)(at - b64_abc) : -1;
}

/* The bytes of base64 text s[0..n) appended to out; false (out as it
 * was) unless it is canonical base64: groups of four, '=' only to pad
 * the last, no bits left over. */
static bool b64_decode(const char *s, size_t n, struct buf *out)
{
	size_t start = out->len;
	if (n % 4)
		return false;
	buf_reserve(out, n / 4 * 3);
	for (size_t i = 0; i < n; i += 4) {
		int pad = s[i + 3] == '=' ? s[i + 2] == '=' ? 2 : 1 : 0;
		if (pad && i + 4 != n)
			goto bad;
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			int d = k < 4 - pad ? b64_value(s[i + k]) : 0;
			if (d < 0)
				goto bad;
			v = v << 6 | (uint32_t)d;
		}
		if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
			goto bad; /* bits past the last byte */
		char q[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
		buf_add(out, q, (size_t)(3 - pad));
	}
	return true;
bad:
	out->len = start;
	return false;
}

/* b64_decode() of the JSON string literal p[0..n) (quotes included) as
 * it decodes: another writer may spell a '/' as "\/". */
static bool b64_literal(const char *p, size_t n, struct buf *out)
{
	if (!memchr(p, '\\', n))
		return b64_decode(p + 1, n - 2, out);
	char *text = xmalloc(n);
	size_t len = scan_string_decode(p, n, text);
	bool ok = b64_decode(text, len, out);
	free(text);
	return ok;
}

void dlq_envelope(struct buf *b, const char *tool, const struct dlq_letter *l,
		  int64_t failed_at_ns)
{
	buf_addc(b, '{');
	jw_key(b, "original_record", 1);
	if (l->is_json) {
		buf_add(b, l->record, l->len);
	} else if (!jw_string(b, l->record, l->len)) {
		/* a JSON string cannot hold bytes that are not UTF-8:
		 * they are kept exactly beside it, for replay */
		jw_key(b, "original_base64", 0);
		b64_string(b, (const unsigned char *)l->record, l->len);
	}
	jw_key(b, "error_type", 0);
	jw_str(b, l->error_type ? l->error_type : "");
	jw_key(b, "error_message", 0);
	jw_str(b, l->error_message ? l->error_message : "");
	jw_key(b, "retry_count", 0);
	jw_u64(b, l->retry_count);
	jw_key(b, "failed_at", 0);
	jw_time(b, failed_at_ns);
	jw_key(b, "replayable", 0);
	buf_adds(b, l->replayable ? "true" : "false");
	jw_key(b, "source", 0);
	buf_addc(b, '{');
	jw_key(b, "tool", 1);
	jw_str(b, tool);
	jw_key(b, "file", 0);
	if (l->file)
		jw_str(b, l->file);
	else
		buf_adds(b, "null");
	jw_key(b, "line", 0);
	jw_u64(b, l->line);
	buf_addc(b, '}');
	if (l->replay_id) {
		char hex[17];
		dlq_ledger_run_hex(l->replay_id, hex);
		jw_key(b, "replay_id", 0);
		jw_str(b, hex);
	}
	buf_addc(b, '}');
}

/*
 * A short write (a full disk) left w bytes of a letter at the end of the
 * file, which would make the file unreadable and glue the next letter to
 * it.  Cut them off, under the exclusive lock, only while they are still
 * the file's last bytes (no appender since, no rewrite replaced it).
 */
static bool cut_torn(int fd, const char *path, ssize_t w)
{
	off_t end = lseek(fd, 0, SEEK_CUR); /* O_APPEND: just past ours */
	struct stat a, b;
	int r;
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	return r == 0 && end >= w && fstat(fd, &a) == 0 &&
	       stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino && a.st_size == end &&
	       ftruncate(fd, end - w) == 0;
}

int dlq_put(struct dlq *d, const struct dlq_letter *l, char *err,
	    size_t errlen)
{
	struct dlq_letter again;
	if (d->ledger) {
		/* A record that a replay handed out failed again. */
		struct fp128 fp = dlq_ledger_fp(l->record, l->len, l->is_json,
						d->ledger_keys, &d->scratch);
		uint64_t *pay;
		if (fpset_has(d->ledger, fp)) {
			fpset_add(d->ledger, fp, &pay);
			again = *l;
			uint64_t next = ledger_next(d, fp, pay);
			if (next > l->retry_count)
				again.retry_count = next;
			again.replay_id = d->replay_id;
			l = &again;
		}
	}
	buf_reset(&d->line);
	dlq_envelope(&d->line, d->tool, l, time_now());
	buf_addc(&d->line, '\n');

	/* One write(2), never a retried remainder: with other writers
	 * appending to the same file, a second write could land after
	 * theirs and splice two letters.  EINTR means nothing was
	 * written, so that alone is safe to retry. */
	ssize_t w;
	/* A rewrite (replay commit, purge) may have replaced the file:
	 * append to the one at the path, under its shared lock. */
	d->fd = dlq_append_lock(d->fd, d->path);
	if (d->fd >= 0 && d->regular && dlq_tail_torn(d->fd)) {
		/* Another writer was killed mid-letter since. */
		flock(d->fd, LOCK_UN);
		int64_t cut = dlq_cut_torn(d->path, err, errlen);
		if (cut < 0)
			return -1;
		d->cut += (uint64_t)cut;
		d->fd = dlq_append_lock(d->fd, d->path);
	}
	if (d->fd < 0) {
		errbuf_set(err, errlen, "%s: cannot reopen dead-letter file: %s",
			d->path, strerror(errno));
		return -1;
	}
	do
		w = write(d->fd, d->line.p, d->line.len);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w != d->line.len) {
		bool cut = cut_torn(d->fd, d->path, w);
		flock(d->fd, LOCK_UN);
		errbuf_set(err, errlen, "%s: short write (%zd of %zu bytes; "
			"disk full?); %s", d->path, w, d->line.len,
			cut ? "the torn dead letter was cut off"
			    : "the last dead letter is torn");
		return -1;
	}
	flock(d->fd, LOCK_UN);
	if (w < 0) {
		errbuf_set(err, errlen, "%s: write: %s", d->path,
			strerror(errno));
		return -1;
	}
	d->count++;
	return 0;
}

uint64_t dlq_count(const struct dlq *d)
{
	return d->count;
}

const char *dlq_name(const struct dlq *d)
{
	return d->path;
}

bool dlq_keeps(const struct dlq *d)
{
	struct stat st;
	return fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t dlq_take_cut(struct dlq *d)
{
	uint64_t n = d->cut;
	d->cut = 0;
	return n;
}

int dlq_close(struct dlq *d, char *err, size_t errlen)
{
	int rc = 0;
	/* EINVAL: a pipe or terminal given as the DLQ; nothing to sync. */
	if (fsync(d->fd) < 0 && errno != EINVAL) {
		errbuf_set(err, errlen, "%s: fsync: %s", d->path,
			strerror(errno));
		rc = -1;
	}
	/* A dead-letter file this run created is only a name in a folder
	 * until the folder is fsynced: without it a power cut after exit 0
	 * takes the file and every letter in it (tests/powercut). */
	struct stat st;
	if (rc == 0 && fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    commit_sync_dir(d->path, err, errlen) != 0)
		rc = -1;
	if (close(d->fd) < 0 && errno != EINTR && rc == 0) {
		errbuf_set(err, errlen, "%s: close: %s", d->path,
			strerror(errno));
		rc = -1;
	}
	buf_free(&d->line);
	buf_free(&d->scratch);
	if (d->ledger)
		fpset_free(d->ledger);
	free(d->lc);
	free(d->path);
	free(d->tool);
	free(d);
	return rc;
}

static struct path p_orig, p_type, p_retry, p_at, p_repl, p_b64, p_run;
static pthread_once_t paths_once = PTHREAD_ONCE_INIT;

static void paths_parse(void)
{
	path_parse(".original_record", &p_orig);
	path_parse(".original_base64", &p_b64);
	path_parse(".error_type", &p_type);
	path_parse(".retry_count", &p_retry);
	path_parse(".failed_at", &p_at);
	path_parse(".replayable", &p_repl);
	path_parse(".replay_id", &p_run);
}

/* A JSON number that is a whole number 0 to INT64_MAX, by its value:
 * -0, 1.0, 1e0 and 10E-1 are counts; -1, 1.5 and 1e400 are not. */
static int whole_count(const char *v, size_t vl, uint64_t *out)
{
	struct dec d;
	if (vl == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) ||
	    dec_parse(v, vl, &d) != 0)
		return -1;
	d = dec_normalize(d);
	if (d.coef < 0 || d.exp < 0)
		return -1;
	__int128 n = d.coef;
	for (int32_t k = 0; k < d.exp && n; k++) {
		if (n > INT64_MAX / 10)
			return -1;
		n *= 10;
	}
	if (n > INT64_MAX)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

int dlq_envelope_parse(struct scan_record *rec, const char *line, size_t len,
		       struct dlq_envelope *e)
{
	struct scan_error se;
	/* once, whichever of lib/par's workers comes first */
	pthread_once(&paths_once, paths_parse);
	memset(e, 0, sizeof *e);
	e->bad = "";
	e->failed_at = INT64_MIN;
	if (scan_record(rec, line, len, &se) != 0 || line[rec->start] != '{')
		return -1;
	const char *v, *why;
	size_t vl;
	if (path_lookup_record(&p_orig, rec, &e->orig, &e->orig_len, &why) !=
	    PATH_FOUND)
		return -1;
	/* Every writer says the error type, as a string: one missing, or
	 * null or 5, would be counted by a guess, under "" with a real
	 * "" (stats), and read as no raw line (replay). */
	e->bad = " (error_type is not a string)";
	if (path_lookup_record(&p_type, rec, &v, &vl, &why) != PATH_FOUND ||
	    v[0] != '"')
		return -1;
	e->error_type = v;
	e->error_type_len = vl;
	/* the types whose original is the raw line, as a string
	 * (cli_line_fault: not JSON, cut, or torn) */
	e->raw = scan_string_equals(v, vl, "invalid_json", 12) ||
		 scan_string_equals(v, vl, "line_too_long", 13) ||
		 scan_string_equals(v, vl, "torn_line", 9);
	/* A whole number, by its value (1.0 and 1e0 are 1, as a writer
	 * that holds numbers as doubles spells them), nothing else: a
	 * hand-edited -1, 1.5 or "2" read loosely would give a count the
	 * ledger cannot match back (and UINT64_MAX is its "used" mark);
	 * one missing, read as 0, would be a guess at how often the record
	 * failed. */
	e->bad = " (retry_count is not a whole number 0 to 2^63-1)";
	if (path_lookup_record(&p_retry, rec, &v, &vl, &why) != PATH_FOUND ||
	    whole_count(v, vl, &e->retry_count) != 0)
		return -1;
	/* Every writer stamps failed_at and says replayable: an entry
	 * without them read as "no age" or "parked" would be counted,
	 * purged and replayed by a guess. */
	int64_t ns;
	e->bad = " (failed_at is not an RFC 3339 time of years 1678 to 2262)";
	if (path_lookup_record(&p_at, rec, &v, &vl, &why) != PATH_FOUND ||
	    v[0] != '"' || time_from_json(v, vl, TIME_S, &ns, &why) != 0)
		return -1;
	e->failed_at = ns;
	e->bad = " (replayable is not true or false)";
	if (path_lookup_record(&p_repl, rec, &v, &vl, &why) != PATH_FOUND ||
	    !((vl == 4 && !memcmp(v, "true", 4)) ||
	      (vl == 5 && !memcmp(v, "false", 5))))
		return -1;
	e->replayable = v[0] == 't';
	if (path_lookup_record(&p_b64, rec, &v, &vl, &why) == PATH_FOUND) {
		/* checked here, so a replay never hands out a guess */
		struct buf tmp = {0};
		bool ok = e->raw && v[0] == '"' && b64_literal(v, vl, &tmp);
		buf_free(&tmp);
		e->bad = " (original_base64 is not the base64 of a raw line)";
		if (!ok)
			return -1;
		e->b64 = v;
		e->b64_len = vl;
	}
	if (path_lookup_record(&p_run, rec, &v, &vl, &why) == PATH_FOUND) {
		/* dlq_ledger_run_hex's 16 digits, as dlq_put wrote them: a
		 * rollback takes a letter by it, never by a guess */
		uint64_t id = 0;
		e->bad = " (replay_id is not 16 lowercase hex digits)";
		if (vl != 18 || v[0] != '"' || v[17] != '"')
			return -1;
		for (size_t k = 1; k < 17; k++) {
			int d = v[k] >= '0' && v[k] <= '9'   ? v[k] - '0'
				: v[k] >= 'a' && v[k] <= 'f' ? v[k] - 'a' + 10
							     : -1;
			if (d < 0)
				return -1;
			id = id << 4 | (uint64_t)d;
		}
		if (id == 0)
			return -1;
		e->replay_id = id;
	}
	e->bad = "";
	return 0;
}

void dlq_envelope_original(const struct dlq_envelope *e, struct buf *out)
{
	if (e->b64) {
		b64_literal(e->b64, e->b64_len, out); /* parse checked */
	} else if (e->raw && e->orig[0] == '"') {
		buf_reserve(out, e->orig_len);
		out->len += scan_string_decode(e->orig, e->orig_len,
					       out->p + out->len);
	} else {
		/* The record's own spaces around its value: the writer put
		 * the line in whole, and a replay gives it back byte for
		 * byte.  Between the member's ':' and the ',' after it,
		 * nothing but JSON whitespace can stand. */
		const char *a = e->orig, *z = e->orig + e->orig_len;
		while (a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\r' ||
		       a[-1] == '\n')
			a--;
		while (*z == ' ' || *z == '\t' || *z == '\r' || *z == '\n')
			z++;
		buf_add(out, a, (size_t)(z - a));
	}
}
