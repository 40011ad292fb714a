#include "delta/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "delta/paths.h"
#include "errbuf.h"
#include "scan.h"
#include "value.h"
#include "xalloc.h"

bool dl_setting_long(const char *v, int64_t *out)
{
	int64_t n = 0;
	if (!v || !*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (INT64_MAX - (*v - '0')) / 10)
			return false;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return true;
}

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

/* The file of path, whose hash_path is hash, or NULL. */
static struct dl_file *find_hashed(const struct dl_snapshot *s,
				   const char *path, uint64_t hash)
{
	if (!s->nslots)
		return NULL;
	size_t h = (size_t)hash & (s->nslots - 1);
	while (s->slots[h]) {
		struct dl_file *f = &s->files[s->slots[h] - 1];
		if (strcmp(f->path, path) == 0)
			return f;
		h = (h + 1) & (s->nslots - 1);
	}
	return NULL;
}

static struct dl_file *find(const struct dl_snapshot *s, const char *path)
{
	return find_hashed(s, path, hash_path(path));
}

char *dl_file_tag(const struct dl_file *f, const char *name)
{
	const char *tg;
	size_t tn;
	if (!scan_get(f->action, f->action_len, "tags", &tg, &tn))
		return NULL;
	return scan_get_str(tg, tn, name);
}

uint64_t dl_file_raw_size(const struct dl_file *f)
{
	char *v = dl_file_tag(f, "idem.rawSize"), *end = NULL;
	uint64_t n = (uint64_t)f->size;
	errno = 0;
	if (v && *v >= '0' && *v <= '9') {
		unsigned long long r = strtoull(v, &end, 10);
		if (!*end && !errno)
			n = r;
	}
	free(v);
	return n;
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
	dl_path_decode_into(o, lit, n);
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
	/* hashed once, for the look-up and the insertion after it (a
	 * checkpoint's every add is both) */
	uint64_t hash = hash_path(path);
	struct dl_file *f = find_hashed(s, path, hash);
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
			struct dl_file *m = xreallocarray(NULL, cap, sizeof *m);
			memcpy(m, s->files, s->nfiles * sizeof *m);
			s->files = m;
		} else {
			s->files = xreallocarray(s->files, cap,
						 sizeof *s->files);
		}
		s->cap_files = cap;
	}
	f = &s->files[s->nfiles++];
	memset(f, 0, sizeof *f);
	f->path = path;
	if (s->nfiles * 2 > s->nslots)
		index_rebuild(s, s->nslots ? s->nslots * 2 : 128);
	else {
		size_t h = (size_t)hash & (s->nslots - 1);
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
		f->pv = xgrow(f->pv, &cap, f->npv, sizeof *f->pv, 4);
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
	const char *bad_time = NULL; /* a time that is not milliseconds */
	size_t bad_time_len = 0;
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
			/* absent or null is 0, as Delta reads it; another
			 * value is no time, and a remove's read as 0 would
			 * be a tombstone of 1970, dropped by a checkpoint */
			bad_time = NULL;
			mtime = 0;
			if (x[0] != 'n' && !scan_parse_i64(x, xn, &mtime)) {
				bad_time = x;
				bad_time_len = xn;
			}
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
	if (bad_time) {
		errbuf_set(err, errlen, "%s: version %lld: %s with %s %.*s, not "
			"milliseconds since the epoch; refusing", s->table,
			(long long)version, add ? "add" : "remove", time_name,
			(int)(bad_time_len > 40 ? 40 : bad_time_len), bad_time);
		return -1;
	}
	if (dv) {
		errbuf_set(err, errlen, "%s: version %lld: deletion vectors are "
			"not supported", s->table, (long long)version);
		return -1;
	}
	/* partitionValues is a map from column to string (null: a null
	 * value); another value read as null would file the rows under a
	 * partition they are not in, and a --where would skip them */
	struct scan_obj po;
	const char *pk, *px;
	size_t pkn, pxn;
	if (parts && scan_obj_begin(&po, parts, partn))
		while (scan_obj_next(&po, &pk, &pkn, &px, &pxn))
			if (px[0] != '"' && px[0] != 'n') {
				errbuf_set(err, errlen, "%s: version %lld: "
					"partition value %.*s: %.*s is not a "
					"string (PROTOCOL.md: a map of "
					"strings); refusing", s->table,
					(long long)version, (int)pkn, pk,
					(int)(pxn > 40 ? 40 : pxn), px);
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
	f->rank = s->nranked++;
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
			s->part_cols = xreallocarray(s->part_cols, s->npart + 1,
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
		int64_t n;
		/* one that does not parse is refused at load */
		if (dl_setting_long(ci, &n) && n > 0)
			s->checkpoint_every = n;
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

/* A txn action; -1 when its appId or version cannot be read: taken
 * as absent or 0, a replayed batch would be written again. */
static int set_txn(struct dl_snapshot *s, const char *v, size_t vn,
		   int64_t version, char *err, size_t errlen)
{
	/* the appId by its bytes, not as a C string: "x\u0000y" is not
	 * app x, whose --txn would be taken for a replay of it */
	const char *al;
	size_t aln, alen = 0;
	char *app = NULL;
	if (scan_get(v, vn, "appId", &al, &aln) && al[0] == '"') {
		app = xmalloc(aln + 1);
		alen = scan_string_decode(al, aln, app);
		app[alen] = '\0';
	}
	int64_t ver = 0, lu = 0;
	const char *x;
	size_t xn;
	if (!app || !scan_get(v, vn, "version", &x, &xn) ||
	    !scan_parse_i64(x, xn, &ver)) {
		errbuf_set(err, errlen, "%s: version %lld: a txn action "
			"without a string appId and a whole-number version "
			"(a Long): %.*s; refusing", s->table,
			(long long)version, (int)(vn > 120 ? 120 : vn), v);
		free(app);
		return -1;
	}
	scan_get_i64(v, vn, "lastUpdated", &lu);
	for (size_t i = 0; i < s->ntxns; i++) {
		if (s->txns[i].app_len == alen &&
		    memcmp(s->txns[i].app_id, app, alen) == 0) {
			s->txns[i].version = ver;
			s->txns[i].last_updated = lu;
			free(app);
			return 0;
		}
	}
	s->txns = xgrow(s->txns, &s->cap_txns, s->ntxns, sizeof *s->txns, 8);
	s->txns[s->ntxns++] = (struct dl_txn){app, ver, lu, alen};
	return 0;
}

/* PROTOCOL.md, Action Reconciliation: "For domainMetadata, the latest
 * domainMetadata seen for a given domain wins. The actions with
 * removed=true act as tombstones to suppress earlier versions." */
static void set_domain(struct dl_snapshot *s, const char *v, size_t vn)
{
	/* the domain by its bytes, as a txn's appId: "x\u0000y" is not
	 * domain x, whose tombstone would drop it from checkpoints */
	const char *dl;
	size_t dln;
	if (!scan_get(v, vn, "domain", &dl, &dln) || dl[0] != '"')
		return;
	char *dom = xmalloc(dln + 1);
	size_t len = scan_string_decode(dl, dln, dom);
	dom[len] = '\0';
	const char *rm;
	size_t rn;
	bool removed = scan_get(v, vn, "removed", &rm, &rn) && rm[0] == 't';
	size_t i;
	for (i = 0; i < s->ndomains; i++)
		if (s->domains[i].len == len &&
		    memcmp(s->domains[i].domain, dom, len) == 0)
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
	s->domains = xreallocarray(s->domains, s->ndomains + 1,
				   sizeof *s->domains);
	s->domains[s->ndomains++] =
		(struct dl_domain){dom, xstrndup(v, vn), len};
}

int64_t dl_txn_version_n(const struct dl_snapshot *s, const char *app_id,
			 size_t len)
{
	for (size_t i = 0; i < s->ntxns; i++)
		if (s->txns[i].app_len == len &&
		    memcmp(s->txns[i].app_id, app_id, len) == 0)
			return s->txns[i].version;
	return -1;
}

int64_t dl_txn_version(const struct dl_snapshot *s, const char *app_id)
{
	return dl_txn_version_n(s, app_id, strlen(app_id));
}

/* Keep text (malloc'd) for the snapshot's life: actions point into it. */
static void keep_text(struct dl_snapshot *s, char *text)
{
	s->texts = xgrow(s->texts, &s->cap_texts, s->ntexts, sizeof *s->texts,
			 16);
	s->texts[s->ntexts++] = text;
}

/*
 * Apply text[0..n), which the snapshot now owns (read-only: it may be a
 * mapped file).  Each line is validated once, noting its top-level
 * members; each add or remove is walked once, and f->action points at
 * it in place, without a copy.
 */
int dl_apply_owned(struct dl_snapshot *s, const char *text, size_t n,
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
				rc = set_txn(s, val, vn, v, err, errlen);
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
	return dl_apply_owned(s, copy, n, v, err, errlen);
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

static struct dl_file **live_sorted(const struct dl_snapshot *s, size_t *n,
				    int (*cmp)(const void *, const void *))
{
	struct dl_file **v = xmalloc((s->nfiles + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i].live)
			v[k++] = &s->files[i];
	qsort(v, k, sizeof *v, cmp);
	*n = k;
	return v;
}

struct dl_file **dl_live_files(const struct dl_snapshot *s, size_t *n)
{
	return live_sorted(s, n, cmp_file);
}

int dl_file_cmp_committed(const void *a, const void *b)
{
	const struct dl_file *x = *(struct dl_file *const *)a;
	const struct dl_file *y = *(struct dl_file *const *)b;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

struct dl_file **dl_live_files_committed(const struct dl_snapshot *s,
					 size_t *n)
{
	return live_sorted(s, n, dl_file_cmp_committed);
}


#define ARENA_BLOCK 65536

/* Apply the text read into b.  A big text (a checkpoint) that fills its
 * buffer is handed to the snapshot as it is; small commits are packed
 * into shared blocks, so a replay of many commits costs a few
 * allocations, and b is kept for the next read. */
int dl_apply_buf(struct dl_snapshot *s, struct buf *b, int64_t v,
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
	return dl_apply_owned(s, t, n, v, err, errlen);
}

struct dl_snapshot *dl_snapshot_new(const char *table)
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
 * index and paths (~128 bytes a path; more spill to malloc) come from
 * one pool.
 */
void dl_snapshot_presize(struct dl_snapshot *s, int64_t nadd)
{
	size_t cap = (size_t)nadd + 16, slots = 128;
	while (slots < 2 * cap)
		slots *= 2;
	if (nadd >= 256)
		pool_init(&s->pool, cap * (sizeof *s->files + 128) +
					    slots * sizeof *s->slots + 64);
	s->cap_files = cap;
	s->files = pool_alloc(&s->pool, cap * sizeof *s->files);
	if (!s->files)
		s->files = xmalloc(cap * sizeof *s->files);
	index_rebuild(s, slots);
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
void dl_snapshot_reset(struct dl_snapshot *s)
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
