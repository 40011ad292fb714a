#include "delta_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "errbuf.h"
#include "jsonw.h"
#include "scan.h"
#include "timefmt.h"
#include "value.h"
#include "xalloc.h"


/* ---- paths ---- */

void dl_uuid(char out[37])
{
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t k = getrandom(r + got, sizeof r - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* no entropy source: time and pid still differ */
			uint64_t t = (uint64_t)time_now() ^ (uint64_t)getpid();
			memcpy(r, &t, 8);
			memcpy(r + 8, &t, 8);
			break;
		}
		got += (size_t)k;
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

static bool plain_char(unsigned char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static void pct(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_addc(b, '%');
	buf_addc(b, hex[c >> 4]);
	buf_addc(b, hex[c & 15]);
}

void dl_path_encode(struct buf *b, const char *s)
{
	for (; *s; s++)
		if (plain_char((unsigned char)*s, "-._~/="))
			buf_addc(b, *s);
		else
			pct(b, (unsigned char)*s);
}

void dl_part_escape(struct buf *b, const char *s)
{
	if (!s) {
		buf_adds(b, "__HIVE_DEFAULT_PARTITION__");
		return;
	}
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		/* never an empty or dot folder name */
		for (; *s; s++)
			pct(b, (unsigned char)*s);
		if (!b->len || b->p[b->len - 1] == '=')
			buf_adds(b, "%00");
		return;
	}
	for (; *s; s++)
		if (plain_char((unsigned char)*s, "-._~ +,@"))
			buf_addc(b, *s);
		else
			pct(b, (unsigned char)*s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* dl_path_decode() into o (room for n + 1). */
static void path_decode_into(char *o, const char *s, size_t n)
{
	const char *pc = memchr(s, '%', n);
	size_t j = pc ? (size_t)(pc - s) : n;
	memcpy(o, s, j);
	for (size_t i = j; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			o[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
}

char *dl_path_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	path_decode_into(o, s, n);
	return o;
}

/* Why path is not a plain relative path inside the table, or NULL:
 * strcspn passes, since every add of every load comes through here. */
static const char *path_outside(const char *path)
{
	if (!*path || path[0] == '/')
		return "absolute or empty";
	if (path[strcspn(path, "\\")])
		return "has a backslash";
	if (path[strcspn(path, ":/")] == ':')
		return "has a URI scheme";
	for (const char *seg = path;;) {
		size_t l = strcspn(seg, "/");
		if (l == 0 || (seg[0] == '.' && (l == 1 || (l == 2 &&
							    seg[1] == '.'))))
			return "has an empty, '.' or '..' segment";
		if (!seg[l])
			return NULL;
		seg += l + 1;
	}
}

static int path_lexical(const char *table, const char *path, char *err,
			size_t errlen)
{
	const char *why = path_outside(path);
	if (why) {
		errbuf_set(err, errlen,
			"%s: the log names a path outside the table (%s): "
			"'%s'; refusing", table, why, path);
		return -1;
	}
	return 0;
}

int dl_path_check(const char *table, const char *path, char *err,
		  size_t errlen)
{
	if (path_lexical(table, path, err, errlen))
		return -1;
	/* No folder on the way may be a symlink: lstat each prefix.  The
	 * file itself is checked when it is opened (dl_open_check), so a
	 * load does not pay one lstat per file. */
	struct buf b = {0};
	buf_adds(&b, table);
	buf_addc(&b, '/');
	int rc = 0;
	for (const char *c = path; *c; c++) {
		if (*c != '/')
			continue;
		struct stat st;
		buf_add(&b, path, (size_t)(c - path));
		if (lstat(b.p, &st) == 0 && S_ISLNK(st.st_mode)) {
			errbuf_set(err, errlen,
				"%s: the log names a path through a symlink: "
				"'%s'; refusing", table, path);
			rc = -1;
			break;
		}
		b.len -= (size_t)(c - path);
		b.p[b.len] = '\0';
	}
	buf_free(&b);
	return rc;
}

int dl_open_check(const char *table, const char *path, char *err,
		  size_t errlen)
{
	struct buf b = {0};
	buf_addf(&b, "%s/%s", table, path);
	struct stat st;
	int rc = 0;
	if (lstat(b.p, &st) == 0 && S_ISLNK(st.st_mode)) {
		errbuf_set(err, errlen, "%s: the log names a symlink: '%s'; "
			"refusing", table, path);
		rc = -1;
	} else if (lstat(b.p, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO would hang the reader, a device feed it anything */
		errbuf_set(err, errlen, "%s: the log names '%s', which is not a "
			"regular file; refusing", table, path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* ---- the snapshot ---- */

static void snapshot_clear(struct dl_snapshot *s);

static uint64_t hash_path(const char *p)
{
	return value_fp(p, strlen(p)).lo;
}

static void index_rebuild(struct dl_snapshot *s, size_t nslots)
{
	if (!pool_owns(&s->pool, s->slots))
		free(s->slots);
	s->slots = pool_alloc(&s->pool, nslots * sizeof *s->slots);
	if (!s->slots)
		s->slots = xcalloc(nslots, sizeof *s->slots);
	s->nslots = nslots;
	for (size_t i = 0; i < s->nfiles; i++) {
		size_t h = (size_t)hash_path(s->files[i].path) & (nslots - 1);
		while (s->slots[h])
			h = (h + 1) & (nslots - 1);
		s->slots[h] = i + 1;
	}
}

static struct dl_file *find(const struct dl_snapshot *s, const char *path)
{
	if (!s->nslots)
		return NULL;
	size_t h = (size_t)hash_path(path) & (s->nslots - 1);
	while (s->slots[h]) {
		struct dl_file *f = &s->files[s->slots[h] - 1];
		if (strcmp(f->path, path) == 0)
			return f;
		h = (h + 1) & (s->nslots - 1);
	}
	return NULL;
}

struct dl_file *dl_find(const struct dl_snapshot *s, const char *path)
{
	struct dl_file *f = find(s, path);
	return f && f->live ? f : NULL;
}

/* A path the snapshot keeps: from its pool while there is room. */
static char *path_new(struct dl_snapshot *s, const char *lit, size_t n)
{
	char *o = pool_alloc(&s->pool, n + 1);
	if (!o)
		o = xmalloc(n + 1);
	path_decode_into(o, lit, n);
	return o;
}

static void snap_path_free(struct dl_snapshot *s, char *path)
{
	if (!pool_owns(&s->pool, path))
		free(path);
}

static void file_clear(struct dl_snapshot *s, struct dl_file *f)
{
	snap_path_free(s, f->path);
	for (size_t i = 0; i < f->npv; i++) {
		free(f->pv[i].name);
		free(f->pv[i].value);
	}
	free(f->pv);
	free(f->stats_cache);
	memset(f, 0, sizeof *f);
}

const char *dl_file_stats(const struct dl_file *f)
{
	if (!f->stats_cache && f->stats_lit) {
		/* a cache on a logically const file: the snapshot is
		 * never shared between threads */
		struct dl_file *m = (struct dl_file *)f;
		m->stats_cache = scan_strdup_lit(f->stats_lit, f->stats_lit_len);
	}
	return f->stats_cache;
}

/* The slot of path (taken over), cleared for a new action. */
static struct dl_file *slot_for(struct dl_snapshot *s, char *path)
{
	struct dl_file *f = find(s, path);
	if (f) {
		snap_path_free(s, path);
		char *keep = f->path;
		f->path = NULL;
		file_clear(s, f);
		f->path = keep;
		return f;
	}
	if (s->nfiles == s->cap_files) {
		size_t cap = s->cap_files ? s->cap_files * 2 : 64;
		if (pool_owns(&s->pool, s->files)) {
			struct dl_file *m = xmalloc(cap * sizeof *m);
			memcpy(m, s->files, s->nfiles * sizeof *m);
			s->files = m;
		} else {
			s->files = xrealloc(s->files, cap * sizeof *s->files);
		}
		s->cap_files = cap;
	}
	f = &s->files[s->nfiles++];
	memset(f, 0, sizeof *f);
	f->path = path;
	if (s->nfiles * 2 > s->nslots)
		index_rebuild(s, s->nslots ? s->nslots * 2 : 128);
	else {
		size_t h = (size_t)hash_path(path) & (s->nslots - 1);
		while (s->slots[h])
			h = (h + 1) & (s->nslots - 1);
		s->slots[h] = s->nfiles;
	}
	return f;
}

static void set_pv(struct dl_file *f, const char *m, size_t mn)
{
	struct scan_obj o;
	if (!scan_obj_begin(&o, m, mn))
		return;
	const char *k, *x;
	size_t kn, xn, cap = 0;
	while (scan_obj_next(&o, &k, &kn, &x, &xn)) {
		if (f->npv == cap) {
			cap = cap ? cap * 2 : 4;
			f->pv = xrealloc(f->pv, cap * sizeof *f->pv);
		}
		f->pv[f->npv].name = scan_strdup_lit(k, kn);
		/* "An empty string for any type translates to a null
		 * partition value" (Partition Value Serialization) */
		f->pv[f->npv].value = x[0] == '"' && xn > 2
					      ? scan_strdup_lit(x, xn)
					      : NULL;
		f->npv++;
	}
}

/* Whether the member name literal k[0..kn) is name: byte for byte when
 * it has no escape (esc false: nearly always), else decoded. */
static bool key_is(const char *k, size_t kn, bool esc, const char *name,
		   size_t nl)
{
	if (esc)
		return scan_string_equals(k, kn, name, nl);
	return kn == nl + 2 && memcmp(k + 1, name, nl) == 0;
}

/*
 * The add or remove that is member m of the line p, as the validation
 * noted it: its own members follow it in rec, so nothing is walked
 * again.  The duplicate member rule is JSON's usual last-one-wins.
 */
static int apply_file(struct dl_snapshot *s, const char *p,
		      const struct scan_record *rec, size_t m,
		      int64_t version, bool add, char *err, size_t errlen)
{
	const char *pv = NULL, *parts = NULL, *st = NULL, *dv = NULL;
	size_t pn = 0, partn = 0, stn = 0;
	int64_t size = 0, mtime = 0;
	const char *bad_size = NULL; /* a size that is not a byte count */
	size_t bad_size_len = 0;
	const char *time_name = add ? "modificationTime" : "deletionTimestamp";
	size_t time_len = add ? 16 : 17;
	for (size_t c = m + 1; c < rec->nmembers && rec->members[c].parent == m;
	     c++) {
		const struct scan_member *mb = &rec->members[c];
		const char *k = p + mb->key, *x = p + mb->val;
		size_t kn = mb->key_len, xn = mb->val_end - mb->val;
		bool esc = memchr(k + 1, '\\', kn - 2) != NULL;
		if (key_is(k, kn, esc, "path", 4)) {
			pv = x[0] == '"' ? x : NULL;
			pn = xn;
		} else if (key_is(k, kn, esc, "size", 4)) {
			bad_size = NULL;
			if (!scan_parse_i64(x, xn, &size) || size < 0) {
				bad_size = x;
				bad_size_len = xn;
			}
		} else if (key_is(k, kn, esc, time_name, time_len)) {
			if (!scan_parse_i64(x, xn, &mtime))
				mtime = 0;
		} else if (add && key_is(k, kn, esc, "stats", 5)) {
			st = x[0] == '"' ? x : NULL;
			stn = xn;
		} else if (add && key_is(k, kn, esc, "partitionValues", 15)) {
			parts = x;
			partn = xn;
		} else if (add && key_is(k, kn, esc, "deletionVector", 14)) {
			dv = x[0] != 'n' ? x : NULL;
		}
	}
	if (!pv) {
		errbuf_set(err, errlen, "%s: version %lld: %s without a path",
			s->table, (long long)version, add ? "add" : "remove");
		return -1;
	}
	if (bad_size) {
		/* read as 0 it would only surface as a wrong verify report */
		errbuf_set(err, errlen, "%s: version %lld: %s with size %.*s, not "
			"a byte count; refusing", s->table, (long long)version,
			add ? "add" : "remove",
			(int)(bad_size_len > 40 ? 40 : bad_size_len), bad_size);
		return -1;
	}
	if (dv) {
		errbuf_set(err, errlen, "%s: version %lld: deletion vectors are "
			"not supported", s->table, (long long)version);
		return -1;
	}
	/* the literal decodes in place into a scratch copy, then the
	 * percent-decoding makes the path the slot keeps */
	char stack[512], *lit = pn < sizeof stack ? stack : xmalloc(pn + 1);
	size_t ll = scan_string_decode(pv, pn, lit);
	struct dl_file *f = slot_for(s, path_new(s, lit, ll));
	if (lit != stack)
		free(lit);
	f->action = p + rec->members[m].val;
	f->action_len = rec->members[m].val_end - rec->members[m].val;
	f->version = version;
	f->live = add;
	f->size = size;
	f->mtime = mtime;
	f->stats_lit = st;
	f->stats_lit_len = stn;
	if (parts)
		set_pv(f, parts, partn);
	return 0;
}

static void set_metadata(struct dl_snapshot *s, const char *v, size_t vn)
{
	free(s->metadata);
	s->metadata = xstrndup(v, vn);
	for (size_t i = 0; i < s->npart; i++)
		free(s->part_cols[i]);
	free(s->part_cols);
	s->part_cols = NULL;
	s->npart = 0;
	const char *pc;
	size_t pn;
	if (scan_get(v, vn, "partitionColumns", &pc, &pn) && pc[0] == '[') {
		size_t i = scan_ws(pc, pn, 1);
		while (i < pn && pc[i] == '"') {
			size_t e = scan_skip(pc, pn, i);
			s->part_cols = xrealloc(s->part_cols, (s->npart + 1) *
							      sizeof(char *));
			s->part_cols[s->npart++] = scan_strdup_lit(pc + i, e - i);
			i = scan_ws(pc, pn, e);
			if (i < pn && pc[i] == ',')
				i = scan_ws(pc, pn, i + 1);
		}
	}
	free(s->provider);
	s->provider = NULL;
	const char *fm;
	size_t fn;
	if (scan_get(v, vn, "format", &fm, &fn))
		s->provider = scan_get_str(fm, fn, "provider");
	s->checkpoint_every = 10;
	const char *cf;
	size_t cn;
	if (scan_get(v, vn, "configuration", &cf, &cn)) {
		char *ci = scan_get_str(cf, cn, "delta.checkpointInterval");
		if (ci && atoll(ci) > 0)
			s->checkpoint_every = atoll(ci);
		free(ci);
	}
	ds_free(s->schema);
	s->schema = NULL;
	char *ss = scan_get_str(v, vn, "schemaString");
	if (ss) {
		char e[256];
		s->schema = ds_parse(ss, strlen(ss), e, sizeof e);
		free(ss);
	}
}

static void set_txn(struct dl_snapshot *s, const char *v, size_t vn)
{
	char *app = scan_get_str(v, vn, "appId");
	int64_t ver = 0, lu = 0;
	if (!app)
		return;
	scan_get_i64(v, vn, "version", &ver);
	scan_get_i64(v, vn, "lastUpdated", &lu);
	for (size_t i = 0; i < s->ntxns; i++) {
		if (strcmp(s->txns[i].app_id, app) == 0) {
			s->txns[i].version = ver;
			s->txns[i].last_updated = lu;
			free(app);
			return;
		}
	}
	if (s->ntxns == s->cap_txns) {
		s->cap_txns = s->cap_txns ? s->cap_txns * 2 : 8;
		s->txns = xrealloc(s->txns, s->cap_txns * sizeof *s->txns);
	}
	s->txns[s->ntxns++] = (struct dl_txn){app, ver, lu};
}

/* PROTOCOL.md, Action Reconciliation: "For domainMetadata, the latest
 * domainMetadata seen for a given domain wins. The actions with
 * removed=true act as tombstones to suppress earlier versions." */
static void set_domain(struct dl_snapshot *s, const char *v, size_t vn)
{
	char *dom = scan_get_str(v, vn, "domain");
	if (!dom)
		return;
	const char *rm;
	size_t rn;
	bool removed = scan_get(v, vn, "removed", &rm, &rn) && rm[0] == 't';
	size_t i;
	for (i = 0; i < s->ndomains; i++)
		if (strcmp(s->domains[i].domain, dom) == 0)
			break;
	if (i < s->ndomains) {
		free(s->domains[i].action);
		if (removed) {
			free(s->domains[i].domain);
			s->domains[i] = s->domains[--s->ndomains];
			free(dom);
			return;
		}
		s->domains[i].action = xstrndup(v, vn);
		free(dom);
		return;
	}
	if (removed) {
		free(dom);
		return;
	}
	s->domains = xrealloc(s->domains,
			      (s->ndomains + 1) * sizeof *s->domains);
	s->domains[s->ndomains++] = (struct dl_domain){dom, xstrndup(v, vn)};
}

int64_t dl_txn_version(const struct dl_snapshot *s, const char *app_id)
{
	for (size_t i = 0; i < s->ntxns; i++)
		if (strcmp(s->txns[i].app_id, app_id) == 0)
			return s->txns[i].version;
	return -1;
}

/* Keep text (malloc'd) for the snapshot's life: actions point into it. */
static void keep_text(struct dl_snapshot *s, char *text)
{
	if (s->ntexts == s->cap_texts) {
		s->cap_texts = s->cap_texts ? s->cap_texts * 2 : 16;
		s->texts = xrealloc(s->texts, s->cap_texts * sizeof *s->texts);
	}
	s->texts[s->ntexts++] = text;
}

/*
 * Apply text[0..n), which the snapshot now owns (read-only: it may be a
 * mapped file).  Each line is validated once, noting its top-level
 * members; each add or remove is walked once, and f->action points at
 * it in place, without a copy.
 */
static int apply_owned(struct dl_snapshot *s, const char *text, size_t n,
		       int64_t v, char *err, size_t errlen)
{
	struct scan_record rec = {0};
	size_t i = 0, nactions = 0;
	unsigned line = 0;
	int rc = 0;
	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - text) : n;
		size_t len = e - i;
		const char *p = text + i;
		line++;
		i = e + 1;
		if (len && p[len - 1] == '\r')
			len--;
		if (scan_ws(p, len, 0) == len)
			continue;
		nactions++;
		struct scan_error se;
		if (scan_record_nested(&rec, p, len, &se) != 0) {
			errbuf_set(err, errlen,
				"%s: version %lld line %u: invalid JSON: %s",
				s->table, (long long)v, line, se.what);
			rc = -1;
			break;
		}
		if (p[rec.start] != '{') {
			errbuf_set(err, errlen,
				"%s: version %lld line %u: an action must be "
				"an object", s->table, (long long)v, line);
			rc = -1;
			break;
		}
		for (size_t m = 0; rc == 0 && m < rec.nmembers; m++) {
			const struct scan_member *mb = &rec.members[m];
			if (mb->parent != SCAN_TOP || p[mb->val] != '{')
				continue;
			const char *k = p + mb->key;
			size_t kn = mb->key_len;
			const char *val = p + mb->val;
			size_t vn = mb->val_end - mb->val;
			bool add = scan_string_equals(k, kn, "add", 3);
			if (add || scan_string_equals(k, kn, "remove", 6)) {
				rc = apply_file(s, p, &rec, m, v, add, err,
						errlen);
				continue;
			}
			if (scan_string_equals(k, kn, "metaData", 8)) {
				set_metadata(s, val, vn);
			} else if (scan_string_equals(k, kn, "protocol", 8)) {
				free(s->protocol);
				s->protocol = xstrndup(val, vn);
			} else if (scan_string_equals(k, kn, "txn", 3)) {
				set_txn(s, val, vn);
			} else if (scan_string_equals(k, kn, "commitInfo", 10)) {
				int64_t ts;
				if (scan_get_i64(val, vn, "timestamp", &ts))
					s->timestamp = ts;
			} else if (scan_string_equals(k, kn,
						      "checkpointMetadata", 18)) {
				int64_t cv;
				if (scan_get_i64(val, vn, "version", &cv))
					s->cp_meta_version = cv;
			} else if (scan_string_equals(k, kn, "domainMetadata",
						      14)) {
				set_domain(s, val, vn);
			} else if (scan_string_equals(k, kn, "sidecar", 7)) {
				errbuf_set(err, errlen,
					"%s: version %lld: checkpoint sidecar "
					"files are not supported", s->table,
					(long long)v);
				rc = -1;
			}
			/* cdc, domainMetadata, checkpointMetadata and
			 * unknown actions change nothing a reader of this
			 * library needs. */
		}
		if (rc)
			break;
	}
	scan_record_free(&rec);
	if (rc == 0 && nactions == 0) {
		/* PROTOCOL.md: "A Delta file, corresponding to version v,
		 * contains an atomic set of actions": a file without one
		 * is a torn or truncated publish, not a version */
		errbuf_set(err, errlen, "%s: version %lld: empty commit file (no "
			"action); refusing", s->table, (long long)v);
		rc = -1;
	}
	if (rc == 0)
		s->version = v;
	return rc;
}

int dl_apply(struct dl_snapshot *s, const char *text, size_t n, int64_t v,
	     char *err, size_t errlen)
{
	char *copy = xmalloc(n + 1);
	if (n)
		memcpy(copy, text, n);
	copy[n] = '\0';
	keep_text(s, copy);
	return apply_owned(s, copy, n, v, err, errlen);
}

void dl_snapshot_free(struct dl_snapshot *s)
{
	if (!s)
		return;
	snapshot_clear(s);
	free(s->table);
	free(s);
}

static int cmp_file(const void *a, const void *b)
{
	const struct dl_file *x = *(struct dl_file *const *)a;
	const struct dl_file *y = *(struct dl_file *const *)b;
	return strcmp(x->path, y->path);
}

struct dl_file **dl_live_files(const struct dl_snapshot *s, size_t *n)
{
	struct dl_file **v = xmalloc((s->nfiles + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i].live)
			v[k++] = &s->files[i];
	qsort(v, k, sizeof *v, cmp_file);
	*n = k;
	return v;
}

/* ---- files of the log ---- */

char *dl_commit_path(const char *table, int64_t version)
{
	struct buf b = {0};
	buf_addf(&b, "%s/_delta_log/%020lld.json", table, (long long)version);
	return b.p;
}

/* Open a file of the log for reading: -2 when absent, -1 (err set)
 * when it cannot be opened or is not a regular file.  O_NONBLOCK: a
 * FIFO put in the log must not hang the open, and fstat then refuses
 * it (and anything else that is not a plain file) before a read. */
static int open_regular(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return -2;
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
static int read_file(const char *path, struct buf *out, bool sized,
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

#define ARENA_BLOCK 65536

/* Apply the text read into b.  A big text (a checkpoint) that fills its
 * buffer is handed to the snapshot as it is; small commits are packed
 * into shared blocks, so a replay of many commits costs a few
 * allocations, and b is kept for the next read. */
static int apply_buf(struct dl_snapshot *s, struct buf *b, int64_t v,
		     char *err, size_t errlen)
{
	size_t n = b->len;
	char *t;
	if (n + 1 > ARENA_BLOCK / 4) {
		if (b->cap - n <= n / 8 + 64) {
			t = b->p;
			*b = (struct buf){0};
		} else {
			t = xmalloc(n + 1);
			memcpy(t, b->p, n + 1);
		}
		keep_text(s, t);
	} else {
		if (n + 1 > s->arena_left) {
			s->arena = xmalloc(ARENA_BLOCK);
			s->arena_left = ARENA_BLOCK;
			keep_text(s, s->arena);
		}
		t = s->arena;
		if (n)
			memcpy(t, b->p, n);
		t[n] = '\0';
		s->arena += n + 1;
		s->arena_left -= n + 1;
	}
	return apply_owned(s, t, n, v, err, errlen);
}

int dl_read_commit(const char *table, int64_t version, struct buf *out,
		   char *err, size_t errlen)
{
	char *p = dl_commit_path(table, version);
	int rc = read_file(p, out, false, err, errlen);
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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
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
	DIR *d = opendir(b.p);
	if (!d) {
		int e = errno;
		buf_free(&b);
		if (e == ENOENT)
			return 1;
		errbuf_set(err, errlen, "%s/_delta_log: %s", table, strerror(e));
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		size_t len = strlen(nm);
		if (len < 21 || !all_digits(nm, 20))
			continue;
		int64_t v = atoll(nm);
		if (limit >= 0 && v > limit)
			continue;
		if (strcmp(nm + 20, ".json") == 0) {
			if (l->ncommits == cap) {
				cap = cap ? cap * 2 : 64;
				l->commits = xrealloc(l->commits,
						      cap * sizeof(int64_t));
			}
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
	closedir(d);
	buf_free(&b);
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

static struct dl_snapshot *snapshot_new(const char *table)
{
	struct dl_snapshot *s = xcalloc(1, sizeof *s);
	s->table = xstrdup(table);
	s->version = -1;
	s->checkpoint_version = -1;
	s->cp_meta_version = -1;
	s->checkpoint_every = 10;
	return s;
}

/*
 * Size the file table and its index once, for nadd files, rather than
 * grow and rehash them while a checkpoint is read.  A big table's table,
 * index, paths (~128 bytes a path; more spill to malloc) and the
 * checkpoint's text (text bytes) come from one pool.
 */
static void presize(struct dl_snapshot *s, int64_t nadd, size_t text)
{
	size_t cap = (size_t)nadd + 16, slots = 128;
	while (slots < 2 * cap)
		slots *= 2;
	if (nadd >= 256)
		pool_init(&s->pool, cap * (sizeof *s->files + 128) +
					    slots * sizeof *s->slots + text + 64);
	s->cap_files = cap;
	s->files = pool_alloc(&s->pool, cap * sizeof *s->files);
	if (!s->files)
		s->files = xmalloc(cap * sizeof *s->files);
	index_rebuild(s, slots);
}

/* All of fd's n bytes into t; false on a short or failed read. */
static bool read_all(int fd, char *t, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, t + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
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
		presize(s, nadd, n);
	if (n) {
		/* A big checkpoint is read into the pool with the file
		 * table (a copy from the page cache costs less than
		 * touching it through 4 KiB mappings) or else mapped where
		 * it lies; a checkpoint is never rewritten in place (it is
		 * published by rename), so the mapping cannot shrink. */
		char *t = pool_alloc(&s->pool, n);
		if (t && read_all(fd, t, n)) {
			text = t;
		} else {
			void *m = mmap(NULL, n, PROT_READ,
				       MAP_PRIVATE | MAP_POPULATE, fd, 0);
			if (m != MAP_FAILED) {
				s->map = m;
				s->map_len = n;
				text = m;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	if (text) {
		buf_free(&p);
		if (apply_owned(s, text, n, v, err, errlen) != 0)
			return -1;
		return checkpoint_loaded(s, name, v, err, errlen);
	}
	int rc = read_file(p.p, tmp, true, err, errlen);
	buf_free(&p);
	if (rc != 0) {
		if (rc == 1)
			errbuf_set(err, errlen, "%s: checkpoint %s is gone",
				s->table, name);
		return -1;
	}
	if (apply_buf(s, tmp, v, err, errlen) != 0)
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
	int rc = read_file(p.p, tmp, false, e, sizeof e);
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

static void snapshot_clear(struct dl_snapshot *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		file_clear(s, &s->files[i]);
	if (!pool_owns(&s->pool, s->files))
		free(s->files);
	if (!pool_owns(&s->pool, s->slots))
		free(s->slots);
	for (size_t i = 0; i < s->ntxns; i++)
		free(s->txns[i].app_id);
	free(s->txns);
	for (size_t i = 0; i < s->ndomains; i++) {
		free(s->domains[i].domain);
		free(s->domains[i].action);
	}
	free(s->domains);
	for (size_t i = 0; i < s->npart; i++)
		free(s->part_cols[i]);
	free(s->part_cols);
	ds_free(s->schema);
	free(s->protocol);
	free(s->metadata);
	free(s->provider);
	for (size_t i = 0; i < s->ntexts; i++)
		free(s->texts[i]);
	free(s->texts);
	if (s->map)
		munmap(s->map, s->map_len);
	pool_free(&s->pool);
}

/* Back to an empty snapshot of the same table (a failed hint). */
static void snapshot_reset(struct dl_snapshot *s)
{
	char *t = s->table;
	snapshot_clear(s);
	memset(s, 0, sizeof *s);
	s->table = t;
	s->version = -1;
	s->checkpoint_version = -1;
	s->cp_meta_version = -1;
	s->checkpoint_every = 10;
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
			if (path_lexical(s->table, p, err, errlen))
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

/* ---- what a reader must understand ---- */

/* Reader features txlog honours: v2Checkpoint (JSON V2 checkpoints are
 * read; sidecars are refused where met), typeWidening (the changes are
 * checked below), timestampNtz (a type it reads as text),
 * vacuumProtocolCheck (vacuum is a write and checks the writer side),
 * columnMapping (only in mode none: see check_snapshot). */
static const char *const read_features[] = {
	"v2Checkpoint", "typeWidening", "timestampNtz", "vacuumProtocolCheck",
	"columnMapping", NULL,
};

static bool in_list(const char *s, size_t n, const char *const *l)
{
	for (; *l; l++)
		if (strlen(*l) == n && memcmp(*l, s, n) == 0)
			return true;
	return false;
}

/* Whether the JSON array of strings a[0..an) holds name. */
static bool array_has(const char *a, size_t an, const char *name)
{
	if (!an || a[0] != '[')
		return false;
	size_t i = scan_ws(a, an, 1), nl = strlen(name);
	while (i < an && a[i] == '"') {
		size_t e = scan_skip(a, an, i);
		if (scan_string_equals(a + i, e - i, name, nl))
			return true;
		i = scan_ws(a, an, e);
		if (i < an && a[i] == ',')
			i = scan_ws(a, an, i + 1);
	}
	return false;
}

bool dl_has_feature(const struct dl_snapshot *s, const char *member,
		    const char *feature)
{
	const char *v;
	size_t vn;
	return s->protocol &&
	       scan_get(s->protocol, strlen(s->protocol), member, &v, &vn) &&
	       array_has(v, vn, feature);
}

char *dl_config(const struct dl_snapshot *s, const char *key)
{
	const char *cf;
	size_t cn;
	if (!s->metadata ||
	    !scan_get(s->metadata, strlen(s->metadata), "configuration", &cf, &cn))
		return NULL;
	return scan_get_str(cf, cn, key);
}

bool dl_config_true(const struct dl_snapshot *s, const char *key)
{
	char *v = dl_config(s, key);
	bool t = v && strcasecmp(v, "true") == 0;
	free(v);
	return t;
}

static bool config_is(const struct dl_snapshot *s, const char *key,
		      const char *want)
{
	char *v = dl_config(s, key);
	bool t = v && strcasecmp(v, want) == 0;
	free(v);
	return t;
}

void dl_versions(const struct dl_snapshot *s, int64_t *r, int64_t *w)
{
	*r = *w = -1;
	if (!s->protocol)
		return;
	size_t n = strlen(s->protocol);
	if (!scan_get_i64(s->protocol, n, "minReaderVersion", r))
		*r = -1;
	if (!scan_get_i64(s->protocol, n, "minWriterVersion", w))
		*w = -1;
}

bool dl_widening_allowed(const char *from, const char *to)
{
	return ds_widening_allowed(from, to);
}

/* Every delta.typeChanges entry of t (nested fields too) allowed. */
static int check_type_changes(const struct ds_type *t, const char *table,
			      char *err, size_t errlen)
{
	if (!t)
		return 0;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return check_type_changes(t->elem, table, err, errlen);
	if (t->kind != DT_STRUCT)
		return 0;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct ds_field *f = &t->fields[i];
		const char *tc;
		size_t tn;
		if (f->metadata &&
		    scan_get(f->metadata, strlen(f->metadata),
			     "delta.typeChanges", &tc, &tn) &&
		    tc[0] == '[') {
			size_t j = scan_ws(tc, tn, 1);
			while (j < tn && tc[j] == '{') {
				size_t e = scan_skip(tc, tn, j);
				char *from = scan_get_str(tc + j, e - j,
							  "fromType");
				char *to = scan_get_str(tc + j, e - j, "toType");
				bool ok = from && to &&
					  dl_widening_allowed(from, to);
				if (!ok)
					errbuf_set(err, errlen,
						"%s: column %s: type change "
						"%s -> %s (delta.typeChanges) "
						"is not one the typeWidening "
						"feature allows; refusing to "
						"read", table, f->name,
						from ? from : "?",
						to ? to : "?");
				free(from);
				free(to);
				if (!ok)
					return -1;
				j = scan_ws(tc, tn, e);
				if (j < tn && tc[j] == ',')
					j = scan_ws(tc, tn, j + 1);
			}
		}
		if (check_type_changes(f->type, table, err, errlen))
			return -1;
	}
	return 0;
}

/*
 * What every verb needs before it trusts a snapshot: the protocol and
 * metaData a Delta log must have (PROTOCOL.md: "The first version of a
 * table must contain a metaData action"; a snapshot consists of "A
 * single protocol action" and "A single metaData action"), a reader
 * version and reader features txlog implements ("to read a table,
 * readers must implement and respect all features listed in
 * readerFeatures"), a schema it can parse, and type changes it can
 * honour.  One message naming the reason.
 */
static int check_snapshot(const struct dl_snapshot *s, char *err,
			  size_t errlen)
{
	if (!s->protocol || !s->metadata) {
		errbuf_set(err, errlen, "%s: the log up to version %lld has no %s "
			"action; not a Delta table txlog can read", s->table,
			(long long)s->version,
			s->protocol ? "metaData" : "protocol");
		return -1;
	}
	int64_t r, w;
	dl_versions(s, &r, &w);
	if (r < 1 || r > 3) {
		errbuf_set(err, errlen, "%s: reader version %lld is not supported "
			"(txlog reads protocol reader versions 1 to 3); "
			"refusing", s->table, (long long)r);
		return -1;
	}
	if (w < 1) {
		errbuf_set(err, errlen, "%s: the protocol has no minWriterVersion; "
			"refusing", s->table);
		return -1;
	}
	const char *rf = NULL, *wf = NULL;
	size_t rfn = 0, wfn = 0;
	size_t pn = strlen(s->protocol);
	bool has_rf = scan_get(s->protocol, pn, "readerFeatures", &rf, &rfn) &&
		      rf[0] == '[';
	bool has_wf = scan_get(s->protocol, pn, "writerFeatures", &wf, &wfn) &&
		      wf[0] == '[';
	/* "When the table's Reader Version is 3, readerFeatures must exist
	 * in the protocol action, and when the Writer Version is 7,
	 * writerFeatures must exist"; "Creating a table with a Reader
	 * Version 3 and Writer Version less than 7 is not allowed." */
	if ((r == 3 && (!has_rf || w != 7)) || (w == 7 && !has_wf)) {
		errbuf_set(err, errlen, "%s: protocol (reader %lld, writer %lld) "
			"is not a valid table-features protocol: %s; refusing",
			s->table, (long long)r, (long long)w,
			r == 3 && w != 7 ? "reader version 3 needs writer "
			"version 7" : "the features list is missing");
		return -1;
	}
	if (r == 3) {
		size_t i = scan_ws(rf, rfn, 1);
		while (i < rfn && rf[i] == '"') {
			size_t e = scan_skip(rf, rfn, i);
			char *f = scan_strdup_lit(rf + i, e - i);
			if (!in_list(f, strlen(f), read_features)) {
				errbuf_set(err, errlen, "%s: table feature '%s' "
					"is not supported for reading",
					s->table, f);
				free(f);
				return -1;
			}
			free(f);
			i = scan_ws(rf, rfn, e);
			if (i < rfn && rf[i] == ',')
				i = scan_ws(rf, rfn, i + 1);
		}
	}
	/* "If the table is on Reader Version 2, or if the table is on
	 * Reader Version 3 and the feature columnMapping is present in
	 * readerFeatures, readers and writers must read the table property
	 * delta.columnMapping.mode": data files would carry physical names
	 * txlog does not map, so only mode none is read. */
	if (r == 2 || (r == 3 && array_has(rf, rfn, "columnMapping"))) {
		char *mode = dl_config(s, "delta.columnMapping.mode");
		if (mode && strcmp(mode, "none") != 0) {
			errbuf_set(err, errlen, "%s: column mapping mode '%s' is "
				"not supported (txlog does not map physical "
				"column names); refusing", s->table, mode);
			free(mode);
			return -1;
		}
		free(mode);
	}
	if (!s->schema) {
		char e[256] = "no schemaString";
		char *ss = scan_get_str(s->metadata, strlen(s->metadata),
					"schemaString");
		if (ss) {
			struct ds_type *t = ds_parse(ss, strlen(ss), e, sizeof e);
			ds_free(t);
			free(ss);
		}
		errbuf_set(err, errlen, "%s: metaData has no readable schema (%s); "
			"refusing", s->table, e);
		return -1;
	}
	if (check_type_changes(s->schema, s->table, err, errlen))
		return -1;
	return 0;
}

struct dl_snapshot *dl_load(const char *table, int64_t version, char *err,
			    size_t errlen)
{
	struct dl_snapshot *s = snapshot_new(table);
	struct buf tmp = {0};
	int64_t next;
	if (version < 0 && load_from_hint(s, &tmp) == 0) {
		next = s->version + 1;
		for (;;) {
			int rc = dl_read_commit(table, next, &tmp, err, errlen);
			if (rc < 0)
				goto fail;
			if (rc == 1)
				break;
			if (apply_buf(s, &tmp, next, err, errlen))
				goto fail;
			s->commits_read++;
			next++;
		}
		goto done;
	}
	snapshot_reset(s);
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
		if (l.commits[i] != expect) {
			errbuf_set(err, errlen, "%s: version %lld is missing from "
				"the log", table, (long long)expect);
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		if (dl_read_commit(table, expect, &tmp, err, errlen) != 0 ||
		    apply_buf(s, &tmp, expect, err, errlen) != 0) {
			free(l.commits);
			free(l.best_cp_name);
			goto fail;
		}
		s->commits_read++;
		expect++;
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
	if (s->version >= 0 && (check_snapshot(s, err, errlen) != 0 ||
				check_paths(s, err, errlen) != 0)) {
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
	struct dl_snapshot *s = snapshot_new(table);
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
			rc = r != 0 || apply_buf(s, &tmp, v, err, errlen) != 0
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

/* ---- protocol ---- */

/*
 * Writer features (writer version 7) txlog can write under: each either
 * needs nothing of a writer that never uses it (v2Checkpoint,
 * timestampNtz, vacuumProtocolCheck, domainMetadata: domains are kept
 * through checkpoints), is honoured (typeWidening, appendOnly), or is
 * refused below only when active.  The legacy writer versions 2 to 6
 * imply the features of PROTOCOL.md's Writer Version Requirements
 * table, checked the same way.
 */
static const char *const write_features[] = {
	"v2Checkpoint", "typeWidening", "timestampNtz", "vacuumProtocolCheck",
	"domainMetadata", "appendOnly", "invariants", "checkConstraints",
	"generatedColumns", "changeDataFeed", "identityColumns",
	"columnMapping", "inCommitTimestamp", NULL,
};

/* The first column (nested ones too) whose metadata has a key starting
 * with prefix, or NULL. */
static const char *meta_key(const struct ds_type *t, const char *prefix)
{
	if (!t)
		return NULL;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return meta_key(t->elem, prefix);
	if (t->kind != DT_STRUCT)
		return NULL;
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < t->nfields; i++) {
		const struct ds_field *f = &t->fields[i];
		struct scan_obj o;
		const char *k, *v;
		size_t kn, vn;
		if (f->metadata &&
		    scan_obj_begin(&o, f->metadata, strlen(f->metadata)))
			while (scan_obj_next(&o, &k, &kn, &v, &vn))
				if (kn >= pl + 2 && memcmp(k + 1, prefix, pl) == 0)
					return f->name;
		const char *in = meta_key(f->type, prefix);
		if (in)
			return in;
	}
	return NULL;
}

/* Whether the configuration has a key starting with prefix. */
static bool config_prefix(const struct dl_snapshot *s, const char *prefix)
{
	const char *cf, *k, *v;
	size_t cn, kn, vn, pl = strlen(prefix);
	struct scan_obj o;
	if (!s->metadata ||
	    !scan_get(s->metadata, strlen(s->metadata), "configuration", &cf,
		      &cn) ||
	    !scan_obj_begin(&o, cf, cn))
		return false;
	while (scan_obj_next(&o, &k, &kn, &v, &vn))
		if (kn >= pl + 2 && memcmp(k + 1, prefix, pl) == 0)
			return true;
	return false;
}

/* Feature name is supported by the table: listed (writer version 7) or
 * implied by a legacy writer version at or above since (0: never). */
static bool supports(const struct dl_snapshot *s, int64_t w,
		     const char *name, int since)
{
	if (w == 7)
		return dl_has_feature(s, "writerFeatures", name);
	return since && w >= since;
}

bool dl_append_only(const struct dl_snapshot *s)
{
	int64_t r, w;
	dl_versions(s, &r, &w);
	/* "The table must be on a Writer Version starting from 2 up to 7
	 * ... The table property delta.appendOnly must be set to true." */
	return supports(s, w, "appendOnly", 2) &&
	       dl_config_true(s, "delta.appendOnly");
}

int dl_can_read(const struct dl_snapshot *s, char *err, size_t errlen)
{
	if (check_snapshot(s, err, errlen))
		return -1;
	if (!s->provider || strcmp(s->provider, "json") != 0) {
		errbuf_set(err, errlen,
			"%s: data files are in format '%s'; txlog reads only "
			"its own NDJSON+zstd data files (no Parquet)", s->table,
			s->provider ? s->provider : "?");
		return -1;
	}
	return 0;
}

int dl_can_write(const struct dl_snapshot *s, char *err, size_t errlen)
{
	if (dl_can_read(s, err, errlen))
		return -1;
	int64_t r, w;
	dl_versions(s, &r, &w);
	if (w < 1 || w > 7) {
		errbuf_set(err, errlen,
			"%s: writer version %lld is not supported; refusing "
			"to write", s->table, (long long)w);
		return -1;
	}
	if (w == 7) {
		/* "to write a table, writers must implement and respect all
		 * features listed in writerFeatures" */
		const char *v;
		size_t vn;
		scan_get(s->protocol, strlen(s->protocol), "writerFeatures", &v,
			 &vn);
		size_t i = scan_ws(v, vn, 1);
		while (i < vn && v[i] == '"') {
			size_t e = scan_skip(v, vn, i);
			char *f = scan_strdup_lit(v + i, e - i);
			if (!in_list(f, strlen(f), write_features)) {
				errbuf_set(err, errlen, "%s: table feature '%s' "
					"is not supported for writing",
					s->table, f);
				free(f);
				return -1;
			}
			free(f);
			i = scan_ws(v, vn, e);
			if (i < vn && v[i] == ',')
				i = scan_ws(v, vn, i + 1);
		}
	}
	/* The features txlog does not implement, refused where active
	 * (PROTOCOL.md: "A feature is active on a table when it is
	 * supported and its metadata requirements are satisfied"). */
	const char *col, *why = NULL;
	char what[160] = "";
	if (supports(s, w, "invariants", 2) &&
	    (col = meta_key(s->schema, "delta.invariants"))) {
		/* "Writers MUST abort any transaction that adds a row to
		 * the table, where an invariant evaluates to false or null"
		 * -- txlog cannot evaluate the SQL expression */
		why = "column invariants (delta.invariants)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "checkConstraints", 3) &&
		   config_prefix(s, "delta.constraints.")) {
		why = "CHECK constraints (delta.constraints.*)";
	} else if (w >= 3 && w < 7 &&
		   s->metadata && (config_is(s, "delta.checkpoint."
					      "writeStatsAsJson", "false") ||
				   config_is(s, "delta.checkpoint."
					     "writeStatsAsStruct", "true"))) {
		/* writer version 3: "Enforce delta.checkpoint.
		 * writeStatsAsJson / writeStatsAsStruct"; txlog's JSON
		 * checkpoints always carry the stats as JSON */
		why = "checkpoint statistics settings (delta.checkpoint."
		      "writeStatsAs*)";
	} else if (supports(s, w, "changeDataFeed", 4) &&
		   dl_config_true(s, "delta.enableChangeDataFeed")) {
		why = "the change data feed (delta.enableChangeDataFeed)";
	} else if (supports(s, w, "generatedColumns", 4) &&
		   (col = meta_key(s->schema, "delta.generationExpression"))) {
		why = "generated columns (delta.generationExpression)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "columnMapping", 5) &&
		   config_prefix(s, "delta.columnMapping.mode") &&
		   !config_is(s, "delta.columnMapping.mode", "none")) {
		why = "column mapping (delta.columnMapping.mode)";
	} else if (supports(s, w, "identityColumns", 6) &&
		   (col = meta_key(s->schema, "delta.identity."))) {
		why = "identity columns (delta.identity.*)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "inCommitTimestamp", 0) &&
		   dl_config_true(s, "delta.enableInCommitTimestamps")) {
		why = "in-commit timestamps (delta.enableInCommitTimestamps)";
	}
	if (why) {
		errbuf_set(err, errlen, "%s: the table uses %s%s, which txlog "
			"does not enforce (writer version %lld); refusing to "
			"write", s->table, why, what, (long long)w);
		return -1;
	}
	return 0;
}

int dl_check_commit(const struct dl_snapshot *s, const char *actions,
		    size_t n, char *err, size_t errlen)
{
	if (!dl_append_only(s))
		return 0;
	/* Append-only Tables: "New log entries MUST NOT change or remove
	 * data from the table. New log entries may rearrange data (i.e.
	 * add and remove actions where dataChange=false)." */
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(actions + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - actions) : n;
		const char *rm, *dc;
		size_t rn, dn;
		if (scan_get(actions + i, e - i, "remove", &rm, &rn) &&
		    (!scan_get(rm, rn, "dataChange", &dc, &dn) || dc[0] != 'f')) {
			errbuf_set(err, errlen, "%s: the table is append-only "
				"(delta.appendOnly=true): this commit would "
				"remove data; nothing committed", s->table);
			return -1;
		}
		i = e + 1;
	}
	return 0;
}

static bool uses_kind(const struct ds_type *t, enum dt_kind k)
{
	if (!t)
		return false;
	if (t->kind == k)
		return true;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return uses_kind(t->elem, k);
	for (size_t i = 0; t->kind == DT_STRUCT && i < t->nfields; i++)
		if (uses_kind(t->fields[i].type, k))
			return true;
	return false;
}

void dl_protocol_action(struct buf *b, bool type_widening,
			const struct ds_type *schema)
{
	/* "timestamp without time zone ... To use this type, a table must
	 * support a feature timestampNtz" (a reader-writer feature) */
	const char *extra = uses_kind(schema, DT_TIMESTAMP_NTZ)
				    ? ",\"timestampNtz\""
				    : "";
	buf_adds(b, "{\"protocol\":{\"minReaderVersion\":3,"
		    "\"minWriterVersion\":7,\"readerFeatures\":[\"v2Checkpoint\"");
	if (type_widening)
		buf_adds(b, ",\"typeWidening\"");
	buf_adds(b, extra);
	buf_adds(b, "],\"writerFeatures\":[\"v2Checkpoint\"");
	if (type_widening)
		buf_adds(b, ",\"typeWidening\"");
	buf_adds(b, extra);
	buf_adds(b, "]}}\n");
}

/* The members of JSON array a[0..an), plus feature when absent (then
 * false). */
static bool features_plus(struct buf *b, const char *a, size_t an,
			  const char *feature)
{
	bool has = false;
	size_t fl = strlen(feature);
	buf_addc(b, '[');
	size_t i = scan_ws(a, an, 1), k = 0;
	while (i < an && a[i] == '"') {
		size_t e = scan_skip(a, an, i);
		if (scan_string_equals(a + i, e - i, feature, fl))
			has = true;
		if (k++)
			buf_addc(b, ',');
		buf_add(b, a + i, e - i);
		i = scan_ws(a, an, e);
		if (i < an && a[i] == ',')
			i = scan_ws(a, an, i + 1);
	}
	if (!has) {
		if (k)
			buf_addc(b, ',');
		jw_str(b, feature);
	}
	buf_addc(b, ']');
	return has;
}

int dl_protocol_add_feature(struct buf *b, const char *protocol,
			    const char *feature)
{
	size_t pn = strlen(protocol), rn, wn;
	const char *r, *w;
	if (!scan_get(protocol, pn, "readerFeatures", &r, &rn) || r[0] != '[' ||
	    !scan_get(protocol, pn, "writerFeatures", &w, &wn) || w[0] != '[')
		return -1;
	struct buf nr = {0}, nw = {0};
	bool in_r = features_plus(&nr, r, rn, feature);
	bool in_w = features_plus(&nw, w, wn, feature);
	int rc = 0;
	if (!in_r || !in_w) {
		buf_adds(b, "{\"protocol\":{\"minReaderVersion\":3,"
			    "\"minWriterVersion\":7,\"readerFeatures\":");
		buf_add(b, nr.p, nr.len);
		buf_adds(b, ",\"writerFeatures\":");
		buf_add(b, nw.p, nw.len);
		buf_adds(b, "}}\n");
		rc = 1;
	}
	buf_free(&nr);
	buf_free(&nw);
	return rc;
}

void dl_metadata_action(struct buf *b, const char *id,
			const struct ds_type *schema, char *const *part,
			size_t npart, const char *config_members,
			int64_t created_ms)
{
	struct buf ss = {0};
	ds_write(&ss, schema);
	buf_adds(b, "{\"metaData\":{\"id\":");
	jw_str(b, id);
	buf_adds(b, ",\"format\":{\"provider\":\"json\",\"options\":"
		    "{\"compression\":\"zstd\"}},\"schemaString\":");
	jw_string(b, ss.p, ss.len);
	buf_adds(b, ",\"partitionColumns\":[");
	for (size_t i = 0; i < npart; i++) {
		if (i)
			buf_addc(b, ',');
		jw_str(b, part[i]);
	}
	buf_adds(b, "],\"configuration\":{");
	buf_adds(b, config_members ? config_members : "");
	buf_adds(b, "},\"createdTime\":");
	buf_add_i64(b, created_ms);
	buf_adds(b, "}}\n");
	buf_free(&ss);
}

/* ---- checkpoints ---- */

static const char *const tombstone_drop[] = {"tags", "stats", NULL};

/* Object p[0..n) without the members named in drop. */
static void obj_without(struct buf *b, const char *p, size_t n,
			const char *const *drop)
{
	struct scan_obj o;
	const char *k, *v;
	size_t kn, vn, k0 = 0;
	buf_addc(b, '{');
	if (scan_obj_begin(&o, p, n))
		while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
			bool skip = false;
			for (const char *const *d = drop; *d && !skip; d++)
				skip = scan_string_equals(k, kn, *d, strlen(*d));
			if (skip)
				continue;
			if (k0++)
				buf_addc(b, ',');
			buf_add(b, k, kn);
			buf_addc(b, ':');
			buf_add(b, v, vn);
		}
	buf_addc(b, '}');
}

int dl_checkpoint(const struct dl_snapshot *s, int64_t retain_ms, char *err,
		  size_t errlen)
{
	if (!s->protocol || !s->metadata) {
		/* a Delta log must have both: say so rather than crash */
		errbuf_set(err, errlen, "%s: version %lld has no %s; no "
			"checkpoint written", s->table, (long long)s->version,
			s->protocol ? "metaData" : "protocol");
		return -1;
	}
	if (!dl_has_feature(s, "writerFeatures", "v2Checkpoint")) {
		/* PROTOCOL.md: "Writers are allowed to create v2 spec
		 * checkpoints ... if v2 checkpoint table feature is
		 * enabled"; the classic one would be Parquet */
		errbuf_set(err, errlen, "%s: the protocol lacks the v2Checkpoint "
			"feature, and txlog writes only JSON V2 checkpoints (a "
			"classic checkpoint is Parquet); no checkpoint written",
			s->table);
		return 1;
	}
	struct buf b = {0};
	size_t actions = 0, adds = 0;
	buf_addf(&b, "{\"checkpointMetadata\":{\"version\":%lld}}\n",
		 (long long)s->version);
	buf_adds(&b, "{\"protocol\":");
	buf_adds(&b, s->protocol);
	buf_adds(&b, "}\n{\"metaData\":");
	buf_adds(&b, s->metadata);
	buf_adds(&b, "}\n");
	actions = 3;
	for (size_t i = 0; i < s->ntxns; i++) {
		buf_adds(&b, "{\"txn\":{\"appId\":");
		jw_str(&b, s->txns[i].app_id);
		buf_addf(&b, ",\"version\":%lld,\"lastUpdated\":%lld}}\n",
			 (long long)s->txns[i].version,
			 (long long)s->txns[i].last_updated);
		actions++;
	}
	/* "The checkpoint must contain all information regarding ...
	 * Domain Metadata" */
	for (size_t i = 0; i < s->ndomains; i++) {
		buf_adds(&b, "{\"domainMetadata\":");
		buf_adds(&b, s->domains[i].action);
		buf_adds(&b, "}\n");
		actions++;
	}
	int64_t now = time_now() / 1000000;
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, "{\"add\":");
		buf_add(&b, live[i]->action, live[i]->action_len);
		buf_adds(&b, "}\n");
		actions++;
		adds++;
	}
	free(live);
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct dl_file *f = &s->files[i];
		if (f->live || now - f->mtime > retain_ms)
			continue;
		/* the checkpoint schema's remove has no tags or stats */
		buf_adds(&b, "{\"remove\":");
		obj_without(&b, f->action, f->action_len, tombstone_drop);
		buf_adds(&b, "}\n");
		actions++;
	}
	char uuid[37];
	dl_uuid(uuid);
	struct buf name = {0}, path = {0}, last = {0};
	buf_addf(&name, "%020lld.checkpoint.%s.json", (long long)s->version,
		 uuid);
	buf_addf(&path, "%s/_delta_log/%s", s->table, name.p);
	int rc = commit_replace(path.p, b.p, b.len, err, errlen);
	if (rc == 0) {
		buf_addf(&last,
			 "{\"version\":%lld,\"size\":%zu,\"sizeInBytes\":%zu,"
			 "\"numOfAddFiles\":%zu,\"v2Checkpoint\":{\"path\":",
			 (long long)s->version, actions, b.len, adds);
		jw_str(&last, name.p);
		buf_addf(&last, ",\"sizeInBytes\":%zu,\"modificationTime\":"
			 "%lld}}\n", b.len, (long long)now);
		path.len = 0;
		buf_addf(&path, "%s/_delta_log/_last_checkpoint", s->table);
		/* Never move the hint backwards: a slower writer of an
		 * older checkpoint must not hide a newer one. */
		struct buf old = {0};
		char e2[64];
		int64_t ov = -1;
		if (read_file(path.p, &old, false, e2, sizeof e2) == 0 &&
		    scan_validate(old.p, old.len, &(struct scan_error){0}) == 0)
			scan_get_i64(old.p, old.len, "version", &ov);
		buf_free(&old);
		if (ov < s->version)
			rc = commit_replace(path.p, last.p, last.len, err,
					    errlen);
	}
	buf_free(&b);
	buf_free(&name);
	buf_free(&path);
	buf_free(&last);
	return rc;
}
