#include "delta/schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decimal.h"
#include "errbuf.h"
#include "jsonw.h"
#include "scan.h"
#include "scan_walk.h"
#include "timefmt.h"
#include "value.h"
#include "xalloc.h"

static const struct {
	const char *name;
	enum dt_kind kind;
} prims[] = {
	{"string", DT_STRING},   {"long", DT_LONG},
	{"integer", DT_INTEGER}, {"short", DT_SHORT},
	{"byte", DT_BYTE},       {"double", DT_DOUBLE},
	{"float", DT_FLOAT},     {"boolean", DT_BOOLEAN},
	{"date", DT_DATE},       {"timestamp", DT_TIMESTAMP},
	{"timestamp_ntz", DT_TIMESTAMP_NTZ}, {"binary", DT_BINARY},
};

/* The decimal an integer beyond 64 bits is inferred as: the widest
 * Delta has, which holds any integer of up to 38 digits exactly (a
 * double would round 12345678901234567891 to ...7168) and which
 * typeWidening allows byte to long to widen to. */
#define DS_BIG_INTEGER "decimal(38,0)"

static const char *kind_name(enum dt_kind k)
{
	for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
		if (prims[i].kind == k)
			return prims[i].name;
	return k == DT_DECIMAL ? DS_BIG_INTEGER : "string";
}

static struct ds_type *prim(enum dt_kind k)
{
	struct ds_type *t = xcalloc(1, sizeof *t);
	t->kind = k;
	t->name = xstrdup(kind_name(k));
	return t;
}

struct ds_type *ds_new_struct(void)
{
	struct ds_type *t = xcalloc(1, sizeof *t);
	t->kind = DT_STRUCT;
	return t;
}

void ds_free(struct ds_type *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		free(t->fields[i].metadata);
		ds_free(t->fields[i].type);
	}
	free(t->fields);
	ds_free(t->elem);
	free(t->name);
	free(t->raw);
	free(t->key);
	free(t->inexact);
	free(t);
}

struct ds_type *ds_copy(const struct ds_type *t)
{
	if (!t)
		return NULL;
	struct ds_type *c = xcalloc(1, sizeof *c);
	c->kind = t->kind;
	c->name = t->name ? xstrdup(t->name) : NULL;
	c->raw = t->raw ? xstrdup(t->raw) : NULL;
	c->key = t->key ? xstrdup(t->key) : NULL;
	c->contains_null = t->contains_null;
	c->inferred = t->inferred;
	c->inexact = t->inexact ? xstrdup(t->inexact) : NULL;
	c->elem = ds_copy(t->elem);
	if (t->nfields) {
		c->fields = xcalloc(t->nfields, sizeof *c->fields);
		c->nfields = c->cap = t->nfields;
		for (size_t i = 0; i < t->nfields; i++) {
			c->fields[i].name = xstrdup(t->fields[i].name);
			c->fields[i].name_len = t->fields[i].name_len;
			c->fields[i].plain = t->fields[i].plain;
			c->fields[i].metadata = xstrdup(t->fields[i].metadata);
			c->fields[i].nullable = t->fields[i].nullable;
			c->fields[i].type = ds_copy(t->fields[i].type);
		}
	}
	return c;
}

/* Is the name its own JSON literal's text (nothing to escape)? */
static bool name_is_plain(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '"' || c == '\\' || c < 0x20)
			return false;
	}
	return true;
}

static void add_field(struct ds_type *t, const char *name, size_t len,
		      struct ds_type *ft, bool nullable, const char *meta)
{
	t->fields = xgrow(t->fields, &t->cap, t->nfields, sizeof *t->fields, 8);
	struct ds_field *f = &t->fields[t->nfields++];
	f->name = xstrndup(name, len);
	f->name_len = len;
	f->plain = name_is_plain(name, len);
	f->type = ft;
	f->nullable = nullable;
	f->metadata = xstrdup(meta ? meta : "{}");
}

struct ds_field *ds_field(const struct ds_type *t, const char *name,
			  size_t len)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (t->fields[i].name_len == len &&
		    memcmp(t->fields[i].name, name, len) == 0)
			return &t->fields[i];
	return NULL;
}

/* ---- parsing ---- */

static struct ds_type *parse_type(const char *p, size_t n, int depth,
				  char *err, size_t errlen);

static struct ds_type *parse_struct(const char *p, size_t n, int depth,
				    char *err, size_t errlen)
{
	const char *v;
	size_t vn;
	if (!scan_get(p, n, "fields", &v, &vn) || v[0] != '[') {
		errbuf_set(err, errlen, "schema: struct without fields");
		return NULL;
	}
	struct ds_type *t = ds_new_struct();
	size_t i = scan_ws(v, vn, 1);
	while (i < vn && v[i] != ']') {
		size_t e = scan_skip(v, vn, i);
		const char *f = v + i;
		size_t fn = e - i;
		char *name = scan_get_str(f, fn, "name");
		const char *tv, *nv, *mv;
		size_t tn, nn, mn;
		if (!name || !scan_get(f, fn, "type", &tv, &tn)) {
			free(name);
			errbuf_set(err, errlen, "schema: field without name or type");
			ds_free(t);
			return NULL;
		}
		const char *lit;
		size_t litn, dn = 0;
		if (scan_get(f, fn, "name", &lit, &litn) && lit[0] == '"')
			free(scan_strdup_lit_len(lit, litn, &dn));
		if (dn != strlen(name)) {
			/* held as a C string, "a\u0000b" would be column "a" */
			errbuf_set(err, errlen, "schema: column name %s holds a "
				"NUL (\\u0000)", name);
			free(name);
			ds_free(t);
			return NULL;
		}
		struct ds_type *ft = parse_type(tv, tn, depth + 1, err, errlen);
		if (!ft) {
			free(name);
			ds_free(t);
			return NULL;
		}
		bool nullable = !(scan_get(f, fn, "nullable", &nv, &nn) &&
				  nv[0] == 'f');
		char *meta = NULL;
		if (scan_get(f, fn, "metadata", &mv, &mn))
			meta = xstrndup(mv, mn);
		add_field(t, name, strlen(name), ft, nullable, meta);
		free(meta);
		free(name);
		i = scan_ws(v, vn, e);
		if (i < vn && v[i] == ',')
			i = scan_ws(v, vn, i + 1);
	}
	return t;
}

static struct ds_type *parse_type(const char *p, size_t n, int depth,
				  char *err, size_t errlen)
{
	if (depth > 64) {
		errbuf_set(err, errlen, "schema: nested too deeply");
		return NULL;
	}
	if (p[0] == '"') {
		char *s = scan_strdup_lit(p, n);
		struct ds_type *t = xcalloc(1, sizeof *t);
		t->kind = DT_OTHER;
		for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
			if (strcmp(s, prims[i].name) == 0)
				t->kind = prims[i].kind;
		/* decimal(P,S), 1 <= P <= 38 and 0 <= S <= P, spaces as
		 * Spark's parser allows: any other spelling ("decimal",
		 * "decimal(40,2)") is a type this reader does not know,
		 * not a decimal whose digits go unchecked */
		int prec, scale, end = 0;
		if (sscanf(s, "decimal ( %d , %d )%n", &prec, &scale,
			   &end) == 2 && s[end] == '\0' && prec >= 1 &&
		    prec <= 38 && scale >= 0 && scale <= prec &&
		    !strchr(s, '+'))
			t->kind = DT_DECIMAL;
		t->name = s;
		if (t->kind == DT_OTHER)
			t->raw = xstrndup(p, n);
		return t;
	}
	if (p[0] != '{') {
		errbuf_set(err, errlen, "schema: a type must be a string or object");
		return NULL;
	}
	char *kind = scan_get_str(p, n, "type");
	struct ds_type *t = NULL;
	const char *v;
	size_t vn;
	if (kind && strcmp(kind, "struct") == 0) {
		t = parse_struct(p, n, depth, err, errlen);
	} else if (kind && strcmp(kind, "array") == 0 &&
		   scan_get(p, n, "elementType", &v, &vn)) {
		struct ds_type *e = parse_type(v, vn, depth + 1, err, errlen);
		if (e) {
			t = xcalloc(1, sizeof *t);
			t->kind = DT_ARRAY;
			t->elem = e;
			t->contains_null = !(scan_get(p, n, "containsNull", &v,
						      &vn) &&
					     v[0] == 'f');
		}
	} else if (kind && strcmp(kind, "map") == 0 &&
		   scan_get(p, n, "valueType", &v, &vn)) {
		struct ds_type *e = parse_type(v, vn, depth + 1, err, errlen);
		if (e) {
			t = xcalloc(1, sizeof *t);
			t->kind = DT_MAP;
			t->elem = e;
			/* kept as given: a schema txlog writes back (a new
			 * column, a widening) must not turn map<int,...>
			 * into map<string,...> */
			if (scan_get(p, n, "keyType", &v, &vn))
				t->key = xstrndup(v, vn);
			t->contains_null = !(scan_get(p, n, "valueContainsNull",
						      &v, &vn) &&
					     v[0] == 'f');
		}
	} else {
		t = xcalloc(1, sizeof *t);
		t->kind = DT_OTHER;
		t->raw = xstrndup(p, n);
	}
	free(kind);
	return t;
}

/* PROTOCOL.md, Schema Serialization Format: "All column names must be
 * unique regardless of casing." */
static int unique_names(const struct ds_type *t, char *err, size_t errlen)
{
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return t->elem ? unique_names(t->elem, err, errlen) : 0;
	if (t->kind != DT_STRUCT)
		return 0;
	for (size_t i = 0; i < t->nfields; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(t->fields[i].name,
				       t->fields[j].name) == 0) {
				errbuf_set(err, errlen, "schema: columns '%s' and "
					"'%s' differ only in case (Delta column "
					"names must be unique regardless of "
					"case)", t->fields[j].name,
					t->fields[i].name);
				return -1;
			}
		if (unique_names(t->fields[i].type, err, errlen))
			return -1;
	}
	return 0;
}

struct ds_type *ds_parse(const char *p, size_t n, char *err, size_t errlen)
{
	struct scan_error se;
	if (scan_validate(p, n, &se) != 0) {
		errbuf_set(err, errlen, "schema: invalid JSON: %s", se.what);
		return NULL;
	}
	size_t i = scan_ws(p, n, 0);
	struct ds_type *t = parse_type(p + i, scan_skip(p, n, i) - i, 0, err,
				       errlen);
	if (t && t->kind != DT_STRUCT) {
		errbuf_set(err, errlen, "schema: the top level must be a struct");
		ds_free(t);
		return NULL;
	}
	if (t && unique_names(t, err, errlen)) {
		ds_free(t);
		return NULL;
	}
	return t;
}

/* ---- writing ---- */

void ds_write(struct buf *b, const struct ds_type *t)
{
	switch (t->kind) {
	case DT_STRUCT:
		buf_adds(b, "{\"type\":\"struct\",\"fields\":[");
		for (size_t i = 0; i < t->nfields; i++) {
			const struct ds_field *f = &t->fields[i];
			if (i)
				buf_addc(b, ',');
			buf_adds(b, "{\"name\":");
			jw_str(b, f->name);
			buf_adds(b, ",\"type\":");
			ds_write(b, f->type);
			buf_adds(b, f->nullable ? ",\"nullable\":true"
						: ",\"nullable\":false");
			buf_adds(b, ",\"metadata\":");
			buf_adds(b, f->metadata);
			buf_addc(b, '}');
		}
		buf_adds(b, "]}");
		break;
	case DT_ARRAY:
		buf_adds(b, "{\"type\":\"array\",\"elementType\":");
		ds_write(b, t->elem);
		buf_adds(b, t->contains_null ? ",\"containsNull\":true}"
					     : ",\"containsNull\":false}");
		break;
	case DT_MAP:
		buf_adds(b, "{\"type\":\"map\",\"keyType\":");
		buf_adds(b, t->key ? t->key : "\"string\"");
		buf_adds(b, ",\"valueType\":");
		ds_write(b, t->elem);
		buf_adds(b, t->contains_null ? ",\"valueContainsNull\":true}"
					     : ",\"valueContainsNull\":false}");
		break;
	case DT_OTHER:
		buf_adds(b, t->raw);
		break;
	case DT_NULL:
		jw_str(b, "string");
		break;
	default:
		jw_str(b, t->name);
	}
}

/* ---- checking and evolving ---- */

bool ds_primitive(const struct ds_type *t)
{
	return t->kind != DT_STRUCT && t->kind != DT_ARRAY &&
	       t->kind != DT_MAP && t->kind != DT_OTHER;
}

bool ds_numeric(const struct ds_type *t)
{
	return t->kind >= DT_BYTE && t->kind <= DT_DECIMAL;
}

void ds_settle(struct ds_type *t)
{
	if (t->kind == DT_NULL) {
		t->kind = DT_STRING;
		free(t->name);
		t->name = xstrdup("string");
	}
	if (t->elem)
		ds_settle(t->elem);
	for (size_t i = 0; i < t->nfields; i++)
		ds_settle(t->fields[i].type);
}

static bool is_integer_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '.' || p[i] == 'e' || p[i] == 'E')
			return false;
	return true;
}

/* The narrowest integer kind that holds the integer p[0..n), or
 * DT_DECIMAL (DS_BIG_INTEGER) beyond 64 bits: never a double, which
 * would not hold its digits.  One of more than 38 digits then fails
 * the decimal's check, refused rather than rounded. */
static enum dt_kind int_kind(const char *p, size_t n)
{
	static const char *lim[] = {"127", "32767", "2147483647",
				    "9223372036854775807"};
	static const char *nlim[] = {"-128", "-32768", "-2147483648",
				     "-9223372036854775808"};
	size_t neg = n && p[0] == '-';
	if (n - neg <= 18) {
		/* 18 digits fit an int64: no digit-string compare */
		int64_t v = 0;
		for (size_t i = neg; i < n; i++)
			v = v * 10 + (p[i] - '0');
		if (neg)
			v = -v;
		return v >= -128 && v <= 127		 ? DT_BYTE
		       : v >= -32768 && v <= 32767	 ? DT_SHORT
		       : v >= INT32_MIN && v <= INT32_MAX ? DT_INTEGER
							  : DT_LONG;
	}
	for (int k = 0; k < 4; k++)
		if (value_number_compare(p, n, nlim[k], strlen(nlim[k])) >= 0 &&
		    value_number_compare(p, n, lim[k], strlen(lim[k])) <= 0)
			return (enum dt_kind)(DT_BYTE + k);
	return DT_DECIMAL;
}

/* The type a value suggests on its own. */
static struct ds_type *infer(const char *p, size_t n)
{
	switch (p[0]) {
	case '"':
		return prim(DT_STRING);
	case 't':
	case 'f':
		return prim(DT_BOOLEAN);
	case 'n': {
		struct ds_type *t = xcalloc(1, sizeof *t);
		t->kind = DT_NULL;
		return t;
	}
	case '{': {
		struct ds_type *t = ds_new_struct();
		bool changed;
		char err[8];
		ds_check(t, p, n, true, &changed, err, sizeof err);
		return t;
	}
	case '[': {
		struct ds_type *t = xcalloc(1, sizeof *t);
		t->kind = DT_ARRAY;
		t->contains_null = true;
		t->elem = xcalloc(1, sizeof *t->elem);
		t->elem->kind = DT_NULL;
		bool changed;
		char err[8];
		ds_check(t, p, n, true, &changed, err, sizeof err);
		return t;
	}
	default: {
		/* integer, not long, where the value fits: Delta's type
		 * widening takes integer on to long or to double, but long
		 * to nothing but a decimal, so the first fraction would
		 * find a long column stuck */
		enum dt_kind k = is_integer_text(p, n) ? int_kind(p, n)
						       : DT_DOUBLE;
		struct ds_type *t = prim(k >= DT_DOUBLE    ? k
					 : k <= DT_INTEGER ? DT_INTEGER
							   : DT_LONG);
		t->inferred = true; /* check() notes an inexact value */
		return t;
	}
	}
}

static void retype(struct ds_type *t, enum dt_kind k)
{
	t->kind = k;
	free(t->name);
	t->name = xstrdup(kind_name(k));
}

bool ds_ntz_zone_ok(const char *s, size_t n)
{
	if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		return true;
	if (n >= 6 && (s[n - 6] == '+' || s[n - 6] == '-') &&
	    s[n - 3] == ':')
		return memcmp(s + n - 5, "00:00", 5) == 0;
	return true; /* no zone */
}

static int check(struct ds_type *t, const char *p, size_t n, bool evolve,
		 bool *changed, struct buf *path, char *err, size_t errlen);

/* The column path for a message; NULL: the fast walk of
 * ds_check_record, which asks ds_check again for the message. */
static const char *pname(const struct buf *path)
{
	return path && path->len ? path->p : ".";
}

static int mismatch(const struct ds_type *t, const char *p, struct buf *path,
		    char *err, size_t errlen)
{
	struct buf b = {0};
	if (t->kind == DT_STRUCT || t->kind == DT_ARRAY || t->kind == DT_MAP)
		buf_adds(&b, t->kind == DT_STRUCT  ? "struct"
			     : t->kind == DT_ARRAY ? "array"
						   : "map");
	else
		buf_adds(&b, t->name ? t->name : "?");
	errbuf_set(err, errlen, "column %s: %s where the schema has %s",
		pname(path), scan_type(p), b.p);
	buf_free(&b);
	return -1;
}

/* The field whose name equals name[0..nl) but for case, or NULL. */
static const char *case_twin(const struct ds_type *t, const char *name,
			     size_t nl)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strlen(t->fields[i].name) == nl &&
		    strncasecmp(t->fields[i].name, name, nl) == 0)
			return t->fields[i].name;
	return NULL;
}

/* A map's keys, decoded, with their lengths (a key may hold a NUL). */
struct map_key {
	size_t off, len;
	const char *base;
};

static int cmp_key(const void *a, const void *b)
{
	const struct map_key *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->base + x->off, y->base + y->off, m);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool map_key_twice(struct map_key *ks, size_t nkeys, const char *base)
{
	for (size_t i = 0; i < nkeys; i++)
		ks[i].base = base;
	qsort(ks, nkeys, sizeof *ks, cmp_key);
	for (size_t i = 1; i < nkeys; i++)
		if (cmp_key(&ks[i - 1], &ks[i]) == 0)
			return true;
	return false;
}

static int check_struct(struct ds_type *t, const char *p, size_t n,
			bool evolve, bool *changed, struct buf *path,
			char *err, size_t errlen)
{
	size_t base = path ? path->len : 0;
	unsigned char seen_small[64] = {0};
	unsigned char *seen = t->nfields <= 64 ? seen_small
					       : xcalloc(t->nfields, 1);
	struct scan_obj o;
	scan_obj_begin(&o, p, n);
	const char *k, *v;
	size_t kn, vn;
	char kbuf[256];
	int rc = 0;
	while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
		/* a name without an escape is its own bytes */
		bool plain = !memchr(k + 1, '\\', kn - 2);
		char *name = plain ? (char *)k + 1
			     : kn <= sizeof kbuf ? kbuf : xmalloc(kn);
		size_t nl = plain ? kn - 2 : scan_string_decode(k, kn, name);
		if (path) {
			path->len = base;
			buf_addc(path, '.');
			buf_add(path, name, nl);
		}
		struct ds_field *f = ds_field(t, name, nl);
		const char *twin = f ? NULL : case_twin(t, name, nl);
		if (!plain && memchr(name, '\0', nl)) {
			/* a schema's names are C strings here, and "a\u0000b"
			 * became column "a", which no row then held */
			errbuf_set(err, errlen, "column %s: a column name cannot "
				"hold a NUL (\\u0000)", pname(path));
			rc = -1;
		} else if (twin) {
			/* PROTOCOL.md: "All column names must be unique
			 * regardless of casing." */
			errbuf_set(err, errlen, "column %s: differs from column "
				"%s only in case (Delta column names must be "
				"unique regardless of case)", pname(path), twin);
			rc = -1;
		} else if (!f) {
			if (!evolve) {
				errbuf_set(err, errlen,
					"column %s: not in the table schema "
					"(--merge-schema adds it)", pname(path));
				rc = -1;
			} else {
				add_field(t, name, nl, infer(v, vn), true, NULL);
				*changed = true;
				if (t->nfields > 64 && seen == seen_small) {
					seen = xcalloc(t->nfields + 64, 1);
					memcpy(seen, seen_small, 64);
				} else if (seen != seen_small) {
					seen = xrealloc(seen, t->nfields);
				}
				seen[t->nfields - 1] = 1;
			}
		} else if (seen[f - t->fields]) {
			/* a row holds a column once; jq would keep the last,
			 * the statistics would count both */
			errbuf_set(err, errlen, "column %s: given twice in one "
				"object (a Delta row holds a column once)",
				pname(path));
			rc = -1;
		} else {
			seen[f - t->fields] = 1;
			if (v[0] == 'n') {
				if (!f->nullable) {
					errbuf_set(err, errlen,
						"column %s: null in a "
						"non-nullable column", pname(path));
					rc = -1;
				}
			} else {
				rc = check(f->type, v, vn, evolve, changed, path,
					   err, errlen);
			}
		}
		if (!plain && name != kbuf)
			free(name);
		if (rc)
			break;
	}
	if (rc == 0) {
		for (size_t i = 0; i < t->nfields; i++) {
			if (!seen[i] && !t->fields[i].nullable) {
				if (path) {
					path->len = base;
					buf_addc(path, '.');
					buf_adds(path, t->fields[i].name);
				}
				errbuf_set(err, errlen,
					"column %s: required member missing",
					pname(path));
				rc = -1;
				break;
			}
		}
	}
	if (seen != seen_small)
		free(seen);
	if (path) {
		path->len = base;
		if (path->p)
			path->p[base] = '\0';
	}
	return rc;
}

/* The decoded text s[0..len) is standard base64 (RFC 4648, padded). */
static bool base64_text(const char *s, size_t len)
{
	size_t pad = 0;
	if (len % 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

/* The JSON string at p[0..n) is base64, read as the text it decodes
 * to: "\u0061Gk=" is "aGk=". */
static bool is_base64(const char *p, size_t n)
{
	if (!memchr(p, '\\', n))
		return base64_text(p + 1, n - 2);
	char *d = xmalloc(n);
	size_t l = scan_string_decode(p, n, d);
	bool ok = base64_text(d, l);
	free(d);
	return ok;
}

/* The significant digits of the JSON number p[0..n) (leading and
 * trailing zeros not counted: 0 for a zero); *exp set when it has an
 * exponent. */
static size_t sig_digits(const char *p, size_t n, bool *exp)
{
	size_t first = 0, last = 0, k = 0, i = 0;
	bool seen = false;
	*exp = false;
	for (; i < n; i++) {
		char c = p[i];
		if (c == 'e' || c == 'E') {
			*exp = true;
			break;
		}
		if (c < '0' || c > '9')
			continue;
		k++;
		if (c != '0') {
			if (!seen)
				first = k;
			seen = true;
			last = k;
		}
	}
	return seen ? last - first + 1 : 0;
}

/*
 * Does a double (a float when is_float) hold the number p[0..n) as
 * written: written back to as many significant digits as p has, does
 * the nearest one give p again?  0.1 and 9223372036854775808 do;
 * 9007199254740993 does not (a double holds it as 9007199254740992, and
 * every reader gives that back).  held gets what it holds, spelled so.
 * NULL when it holds it, else a reason.  A number of at most 15 digits
 * (a float: 6) and no exponent always comes back (DBL_DIG, FLT_DIG).
 */
static const char *binary_holds(bool is_float, const char *p, size_t n,
				char *held, size_t heldlen)
{
	bool exp;
	size_t k = sig_digits(p, n, &exp);
	if (k == 0 || (!exp && n <= 38 && k <= (is_float ? 6u : 15u)))
		return NULL;
	char tmp[512];
	if (n >= sizeof tmp)
		return "too many digits";
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	/* by the type's own rounding: 3.4028235e38, Java's spelling of
	 * Float.MAX_VALUE, rounds to it; a double's FLT_MAX bound refused
	 * it */
	double v = is_float ? strtof(tmp, NULL) : strtod(tmp, NULL);
	if (isinf(v))
		return "out of range";
	/* 1e-400 is read as 0 by every reader, where an exact compare
	 * (--where x > 0) holds it above 0 */
	if (v == 0)
		return "too small: it rounds to 0";
	char back[600];
	snprintf(back, sizeof back, "%.*g", (int)k, v);
	if (value_number_compare(back, strlen(back), p, n) == 0)
		return NULL;
	snprintf(held, heldlen, "a %s holds it as %s",
		 is_float ? "float" : "double", back);
	return held;
}

/* The digits of a decimal's coefficient (0 for 0). */
static long coef_digits(__int128 c)
{
	long digits = 0;
	for (c = c < 0 ? -c : c; c; c /= 10)
		digits++;
	return digits;
}

static const char past_scale[] = "more digits after the point than its scale";

/*
 * Why the number at p[0..n) does not fit a float, double or
 * decimal(P,S) column, or NULL: a float or double holds the number's
 * magnitude (1e39 is no float) and its digits (binary_holds), a decimal
 * holds at most S digits after the point and P - S before it, exactly.
 * held: room for a reason that names the value held instead.
 */
static const char *number_fits(const struct ds_type *t, const char *p,
			       size_t n, char *held, size_t heldlen)
{
	if (t->kind != DT_DECIMAL)
		return binary_holds(t->kind == DT_FLOAT, p, n, held, heldlen);
	int prec = 10, scale = 0;
	if (!t->name || sscanf(t->name, "decimal ( %d , %d )", &prec,
				&scale) != 2)
		return "its precision and scale are unknown"; /* parse_type
							       * knew them */
	struct dec d;
	if (dec_parse(p, n, &d) != 0)
		return "more digits than a decimal holds";
	d = dec_normalize(d);
	if (d.coef == 0)
		return NULL;
	if (d.exp < 0 && -(long)d.exp > scale)
		return past_scale;
	if (coef_digits(d.coef) + d.exp > (long)(prec - scale))
		return "more digits before the point than precision - scale";
	return NULL;
}

bool ds_timestamp_in_range(int64_t sec)
{
	/* 0000-01-01T00:00:00Z to 10000-01-01T00:00:00Z */
	return sec >= -62167219200LL && sec < 253402300800LL;
}

/* A long this write's evolution made takes the integer p[0..n): note
 * the first one no double holds, which keeps it from becoming double.
 * changed NULL (ds_conforms): -1 when there is one to note. */
static int note_inexact(struct ds_type *t, const char *p, size_t n,
			bool *changed)
{
	char held[8];
	if (t->kind != DT_LONG || !t->inferred || t->inexact ||
	    !binary_holds(false, p, n, held, sizeof held))
		return 0;
	if (!changed)
		return -1;
	t->inexact = xstrndup(p, n);
	*changed = true;
	return 0;
}

static int check(struct ds_type *t, const char *p, size_t n, bool evolve,
		 bool *changed, struct buf *path, char *err, size_t errlen)
{
	if (t->kind == DT_NULL) {
		if (p[0] == 'n')
			return 0;
		if (!changed)
			return -1; /* ds_conforms: a type to infer is a change */
		struct ds_type *g = infer(p, n);
		free(t->name);
		*t = *g;
		free(g);
		*changed = true;
		/* and the value must fit what it suggested: a null
		 * column's first 1e400 is no double */
		return check(t, p, n, evolve, changed, path, err, errlen);
	}
	if (p[0] == 'n')
		return 0; /* nullability is the caller's business */
	switch (t->kind) {
	case DT_STRING:
		return p[0] == '"' ? 0 : mismatch(t, p, path, err, errlen);
	case DT_BINARY:
		if (p[0] != '"')
			return mismatch(t, p, path, err, errlen);
		if (!is_base64(p, n)) {
			errbuf_set(err, errlen, "column %s: not base64 (binary "
				"values are base64 strings)",
				pname(path));
			return -1;
		}
		return 0;
	case DT_DATE: {
		if (p[0] != '"')
			return mismatch(t, p, path, err, errlen);
		int64_t days;
		const char *why;
		/* a date spelled with escapes is the date it decodes to */
		char dtmp[64];
		if (n != 12 && n < sizeof dtmp && memchr(p, '\\', n)) {
			size_t l = scan_string_decode(p, n, dtmp);
			if (l == 10 && time_parse_date(dtmp, 10, &days,
						       &why) == 0)
				return 0;
		}
		if (n != 12 || time_parse_date(p + 1, 10, &days, &why) != 0) {
			errbuf_set(err, errlen, "column %s: %.*s is not a date "
				"YYYY-MM-DD%s%s", pname(path),
				(int)(n > 40 ? 40 : n), p, n == 12 ? ": " : "",
				n == 12 ? why : "");
			return -1;
		}
		return 0;
	}
	case DT_TIMESTAMP:
	case DT_TIMESTAMP_NTZ: {
		if (p[0] != '"')
			return mismatch(t, p, path, err, errlen);
		char tmp[TIME_TEXT_MAX];
		const char *why;
		struct instant in;
		/* the string it decodes to is the time: "\u0032024-..."
		 * spells one in more bytes; past TIME_TEXT_MAX decoded it
		 * is refused: a key compares it as its instant, but no
		 * time a timestamp holds needs those bytes */
		char *d = n - 2 <= sizeof tmp ? tmp : xmalloc(n);
		size_t l = scan_string_decode(p, n, d);
		if (d != tmp) {
			if (l <= sizeof tmp)
				memcpy(tmp, d, l);
			free(d);
		}
		/* any year 0000-9999, as Delta's timestamps (0001-9999) */
		why = l > sizeof tmp ? "longer than 64 bytes, which no time "
				       "needs (a fraction's digits past the "
				       "ninth must be zeros: drop them)"
				     : "not an RFC 3339 time";
		if (l > sizeof tmp ||
		    time_parse_instant(tmp, l, &in, &why) != 0) {
			/* a time, but one no timestamp holds: say which
			 * (a day out of range, a leap second, ...) */
			if (strcmp(why, "not an RFC 3339 time") != 0 &&
			    strncmp(why, "missing time zone", 17) != 0) {
				errbuf_set(err, errlen, "column %s: %.*s: %s",
					   pname(path), (int)n, p, why);
				return -1;
			}
			errbuf_set(err, errlen, "column %s: not an RFC 3339 "
				"time%s", pname(path),
				t->kind == DT_TIMESTAMP_NTZ
					? " (a timestamp_ntz's wall-clock "
					  "time is written with Z)"
					: "");
			return -1;
		}
		if (t->kind == DT_TIMESTAMP_NTZ && !ds_ntz_zone_ok(tmp, l)) {
			errbuf_set(err, errlen, "column %s: %.*s has an offset, "
				"which a timestamp_ntz (no zone) cannot keep; "
				"give its wall-clock time with Z", pname(path),
				(int)n, p);
			return -1;
		}
		/* the years 0000 to 9999 in UTC, not as written: at
		 * 9999-12-31T23:00:00-02:00 it is year 10000, whose
		 * partition value (+010000-...) and statistics no reader
		 * parses back, so a --where skipped its file */
		if (!ds_timestamp_in_range(in.sec)) {
			errbuf_set(err, errlen, "column %s: %.*s is outside the "
				"years 0000 to 9999 in UTC, which a %s holds",
				pname(path), (int)n, p, t->name);
			return -1;
		}
		/* Delta's timestamps are microseconds: a finer one would
		 * be cut by every other reader, and its partition value
		 * would not be the protocol's .ffffff */
		if (in.nsec % 1000 != 0) {
			errbuf_set(err, errlen, "column %s: %.*s is finer than "
				"a microsecond, the most a %s holds",
				pname(path), (int)n, p, t->name);
			return -1;
		}
		return 0;
	}
	case DT_BOOLEAN:
		return p[0] == 't' || p[0] == 'f'
			       ? 0
			       : mismatch(t, p, path, err, errlen);
	case DT_BYTE:
	case DT_SHORT:
	case DT_INTEGER:
	case DT_LONG: {
		if (p[0] != '-' && (p[0] < '0' || p[0] > '9'))
			return mismatch(t, p, path, err, errlen);
		enum dt_kind need = is_integer_text(p, n) ? int_kind(p, n)
							  : DT_DOUBLE;
		if (need <= t->kind)
			return note_inexact(t, p, n, changed);
		if (!evolve) {
			/* 2.0 and 1e0 are integers in another spelling,
			 * which an integer column's readers do not take:
			 * say how to write them, not only how to widen */
			struct dec d;
			char whole[DEC_STRMAX + 40] = "", held[8];
			/* a decimal(38,S) holds it: digits before and after
			 * the point at most 38 */
			bool decimal = dec_parse(p, n, &d) == 0;
			if (decimal) {
				d = dec_normalize(d);
				long digits = coef_digits(d.coef);
				decimal = d.exp >= 0 ? digits + d.exp <= 38
						     : digits <= 38 &&
							       -(long)d.exp <= 38;
			}
			if (need == DT_DOUBLE && decimal && d.exp >= 0) {
				char digits[DEC_STRMAX];
				size_t dl = dec_format(&d, digits);
				if (int_kind(digits, dl) <= t->kind)
					snprintf(whole, sizeof whole,
						 "write the integer as %s, or ",
						 digits);
			}
			/* widening makes a double: only where one holds it */
			const char *how =
				need == DT_DOUBLE &&
						binary_holds(false, p, n, held,
							     sizeof held)
					? decimal ? "declare the column "
						   "decimal(P,S) in a new "
						   "table: no double holds it"
						 : "no Delta number type holds "
						   "it"
				: need == DT_DOUBLE && t->kind == DT_LONG
					? "declare the column double or "
					  "decimal(P,S) in a new table: Delta "
					  "widens no long to double"
					: "--merge-schema widens it";
			errbuf_set(err, errlen,
				"column %s: %.*s does not fit %s (%s%s)",
				pname(path), (int)(n > 40 ? 40 : n), p, t->name,
				whole, how);
			return -1;
		}
		if (need == DT_DOUBLE && t->inexact) {
			char held[256];
			binary_holds(false, t->inexact, strlen(t->inexact),
				     held, sizeof held);
			errbuf_set(err, errlen,
				"column %s: %.*s would make it double, which "
				"does not hold its integer %.*s (%s); give "
				"the column a decimal(P,S) type with room for "
				"both (txlog init --schema FILE)",
				pname(path), (int)(n > 40 ? 40 : n), p,
				(int)(strlen(t->inexact) > 40
					      ? 40 : strlen(t->inexact)),
				t->inexact, held);
			return -1;
		}
		/* a long or decimal(38,0) from an integer kind: it held
		 * only what a double holds until now */
		retype(t, need < DT_INTEGER ? DT_INTEGER : need);
		t->inferred = true;
		*changed = true;
		/* the value must fit the new type: 1e400 is no double */
		return check(t, p, n, evolve, changed, path, err, errlen);
	}
	case DT_FLOAT:
	case DT_DOUBLE:
	case DT_DECIMAL: {
		if (p[0] != '-' && (p[0] < '0' || p[0] > '9'))
			return mismatch(t, p, path, err, errlen);
		char held[256];
		const char *why = number_fits(t, p, n, held, sizeof held);
		if (why) {
			/* what to give instead, where a type could take it */
			const char *hint =
				why == held ? " (a decimal(P,S) column keeps "
					      "every digit)"
				: why == past_scale && t->inferred
					? " (inferred for an integer past 64 "
					  "bits; give the column a "
					  "decimal(P,S) type with room for "
					  "both: txlog init --schema FILE)"
					: "";
			errbuf_set(err, errlen, "column %s: %.*s does not fit %s: "
				"%s%s", pname(path),
				(int)(n > 40 ? 40 : n), p, t->name, why, hint);
			return -1;
		}
		return 0;
	}
	case DT_STRUCT:
		if (p[0] != '{')
			return mismatch(t, p, path, err, errlen);
		return check_struct(t, p, n, evolve, changed, path, err,
				    errlen);
	case DT_ARRAY: {
		if (p[0] != '[')
			return mismatch(t, p, path, err, errlen);
		size_t base = path ? path->len : 0;
		if (path)
			buf_adds(path, "[]");
		size_t i = scan_ws(p, n, 1);
		int rc = 0;
		while (rc == 0 && i < n && p[i] != ']') {
			size_t e = scan_skip(p, n, i);
			if (p[i] == 'n' && !t->contains_null) {
				errbuf_set(err, errlen, "column %s: null element",
					pname(path));
				rc = -1;
			} else {
				rc = check(t->elem, p + i, e - i, evolve,
					   changed, path, err, errlen);
			}
			i = scan_ws(p, n, e);
			if (i < n && p[i] == ',')
				i = scan_ws(p, n, i + 1);
		}
		if (path) {
			path->len = base;
			path->p[base] = '\0';
		}
		return rc;
	}
	case DT_MAP: {
		if (p[0] != '{')
			return mismatch(t, p, path, err, errlen);
		/* a JSON object's keys are strings: a map of other keys
		 * would hold "01" and "1" as two keys of one integer */
		if (t->key && strcmp(t->key, "\"string\"") != 0) {
			errbuf_set(err, errlen, "column %s: a map whose keyType "
				"is %s is not supported for writing (JSON "
				"object keys are strings)", pname(path), t->key);
			return -1;
		}
		struct scan_obj o;
		scan_obj_begin(&o, p, n);
		const char *k, *v;
		size_t kn, vn;
		int rc = 0;
		/* the keys as their bytes in p when none has an escape and
		 * they fit here (no allocation a record), else decoded */
		struct map_key small[32], *ks = small;
		struct buf keys = {0}; /* the decoded keys, end to end */
		size_t nkeys = 0, kcap = 0;
		bool plain = true;
		while (rc == 0 && scan_obj_next(&o, &k, &kn, &v, &vn)) {
			if (v[0] == 'n' ? !t->contains_null
					: check(t->elem, v, vn, evolve, changed,
						path, err, errlen) != 0) {
				if (v[0] == 'n')
					errbuf_set(err, errlen,
						"column %s: null map value",
						pname(path));
				rc = -1;
			}
			plain &= nkeys < 32 && !memchr(k, '\\', kn);
			if (plain) {
				small[nkeys].off = (size_t)(k + 1 - p);
				small[nkeys].len = kn - 2;
			}
			nkeys++;
		}
		if (rc == 0 && !plain) {
			ks = NULL;
			nkeys = 0;
			scan_obj_begin(&o, p, n);
			while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
				buf_reserve(&keys, kn);
				ks = xgrow(ks, &kcap, nkeys, sizeof *ks, 16);
				ks[nkeys].off = keys.len;
				ks[nkeys].len = scan_string_decode(
					k, kn, keys.p + keys.len);
				keys.len += ks[nkeys++].len;
			}
		}
		if (rc == 0 && nkeys > 1 &&
		    map_key_twice(ks, nkeys, plain ? p : keys.p)) {
			/* jq keeps the last, Spark refuses the row: no one
			 * value a reader would take */
			errbuf_set(err, errlen, "column %s: a key given twice in "
				"one map", pname(path));
			rc = -1;
		}
		buf_free(&keys);
		if (ks != small)
			free(ks);
		return rc;
	}
	case DT_OTHER:
	case DT_NULL:
		break;
	}
	errbuf_set(err, errlen, "column %s: type %s is not supported for writing",
		pname(path), t->raw ? t->raw : "?");
	return -1;
}

int ds_check(struct ds_type *t, const char *p, size_t n, bool evolve,
	     bool *changed, char *err, size_t errlen)
{
	struct buf path = {0};
	buf_reserve(&path, 64);
	path.p[0] = '\0';
	int rc = check(t, p, n, evolve, changed, &path, err, errlen);
	buf_free(&path);
	return rc;
}

/*
 * ds_conforms' walk of a value: the record is valid JSON (scanned), so one
 * pass over the text both finds where a value ends and checks it, where
 * check() finds the end first (scan_skip, scan_obj_next) and walks again.
 * It only reads t, and only has to be sound: 0 means check() would pass
 * the value with nothing to change; -1 means "maybe not", and the record
 * goes to ds_check_record, which decides and says why.  So what is rare
 * (an escaped name, a struct of more than 64 fields) just answers -1, and
 * the types it does not walk itself go to check() with the value's end.
 */

/* Past the valid string at p[i] (of p[0..n)); *esc when it holds an
 * escape.  Sixteen bytes at a time while there is room: keys and values
 * are short, and a byte loop spent more on them than on the rest. */
static size_t conform_str(const char *p, size_t n, size_t i, bool *esc)
{
	i++;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	while (i + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
		if (!m) {
			i += 16;
			continue;
		}
		i += (size_t)__builtin_ctz(m);
		if (p[i] == '"')
			return i + 1;
		*esc = true;
		i += 2;
	}
#else
	(void)n;
#endif
	for (;; i++) {
		if (p[i] == '"')
			return i + 1;
		if (p[i] == '\\') {
			*esc = true;
			i++;
		}
	}
}

static int conform(const struct ds_type *t, const char *p, size_t n,
		   size_t *ip);

/* A member's value or an array's element at p[*ip], of type t, null only
 * where nullable; *ip goes past it and the comma after it. */
static inline int conform_item(const struct ds_type *t, bool nullable,
			const char *p, size_t n, size_t *ip)
{
	size_t i = *ip;
	if (p[i] == 'n') {
		if (!nullable)
			return -1;
		i += 4;
	} else if (conform(t, p, n, &i) != 0) {
		return -1;
	}
	i = scan_ws(p, n, i);
	if (p[i] == ',')
		i = scan_ws(p, n, i + 1);
	*ip = i;
	return 0;
}

static int conform_struct(const struct ds_type *t, const char *p, size_t n,
			  size_t *ip)
{
	if (t->nfields > 64)
		return -1;
	uint64_t seen = 0;
	size_t next = 0; /* members mostly come in the schema's order */
	size_t i = scan_ws(p, n, *ip + 1);
	while (p[i] != '}') {
		const struct ds_field *f = NULL;
		size_t ke;
		if (next < t->nfields) {
			/* the field expected next, by the raw bytes of its
			 * name: a plain name is its own literal's text, so
			 * a match is the whole name and its closing quote */
			const struct ds_field *x = &t->fields[next];
			size_t kl = x->name_len;
			if (x->plain && i + 1 + kl < n && p[i + 1 + kl] == '"' &&
			    memcmp(p + i + 1, x->name, kl) == 0) {
				f = x;
				ke = i + 2 + kl;
			}
		}
		if (!f) {
			bool esc = false;
			ke = conform_str(p, n, i, &esc);
			if (esc || !(f = ds_field(t, p + i + 1, ke - i - 2)))
				return -1;
		}
		size_t fi = (size_t)(f - t->fields);
		if (seen >> fi & 1)
			return -1; /* twice in one object */
		seen |= (uint64_t)1 << fi;
		next = fi + 1;
		i = scan_ws(p, n, scan_ws(p, n, ke) + 1); /* past ':' */
		if (conform_item(f->type, f->nullable, p, n, &i) != 0)
			return -1;
	}
	for (size_t k = 0; k < t->nfields; k++)
		if (!t->fields[k].nullable && !(seen >> k & 1))
			return -1;
	*ip = i + 1;
	return 0;
}

static int conform(const struct ds_type *t, const char *p, size_t n,
		   size_t *ip)
{
	size_t i = *ip;
	char c = p[i];
	if (c == 'n') { /* nullability is the caller's business */
		*ip = i + 4;
		return 0;
	}
	switch (t->kind) {
	case DT_NULL:
		return -1; /* a type still to infer: a change */
	case DT_STRING: {
		bool esc = false;
		if (c != '"')
			return -1;
		*ip = conform_str(p, n, i, &esc);
		return 0;
	}
	case DT_BYTE:
	case DT_SHORT:
	case DT_INTEGER:
	case DT_LONG:
	case DT_FLOAT:
	case DT_DOUBLE: {
		if (c != '-' && (c < '0' || c > '9'))
			return -1;
		size_t e = i;
		bool integer = true, exp = false;
		for (; e < n; e++) {
			char d = p[e];
			if (d >= '0' && d <= '9')
				continue;
			if (d == '.' || d == 'e' || d == 'E')
				integer = false, exp |= d != '.';
			else if (d != '-' && d != '+')
				break;
		}
		*ip = e;
		char held[8];
		if (t->kind >= DT_FLOAT) /* binary_holds has a fast case */
			return number_fits(t, p + i, e - i, held, sizeof held)
				       ? -1 : 0;
		if ((integer ? int_kind(p + i, e - i) : DT_DOUBLE) > t->kind)
			return -1;
		return note_inexact((struct ds_type *)t, p + i, e - i, NULL);
	}
	case DT_STRUCT:
		return c == '{' ? conform_struct(t, p, n, ip) : -1;
	case DT_ARRAY: {
		if (c != '[')
			return -1;
		i = scan_ws(p, n, i + 1);
		while (p[i] != ']')
			if (conform_item(t->elem, t->contains_null, p, n, &i) != 0)
				return -1;
		*ip = i + 1;
		return 0;
	}
	default: {
		/* dates, times, binary, decimals, booleans, maps: check() */
		char err[8];
		size_t e = scan_skip(p, n, i);
		*ip = e;
		return check((struct ds_type *)t, p + i, e - i, false, NULL,
			     NULL, err, sizeof err);
	}
	}
}

/*
 * The top level of a record from its scanned members (no second walk of
 * the object), with each member's field remembered by its position and
 * its name's raw bytes: a record shaped like the one before finds every
 * field by one memcmp.  No column path is built and no message made:
 * 0 when the record passes, -1 when anything fails.  changed NULL (and
 * evolve false): nothing in t may change, so t is only read.
 */
static int walk_record(struct ds_type *t, const struct scan_record *r,
		       bool evolve, bool *changed, struct ds_memo *m)
{
	const char *p = r->p;
	char err[8]; /* check() writes a message nobody reads */
	if (m->cap < r->nmembers) {
		size_t old = m->cap;
		m->cap = r->nmembers + 8;
		m->e = xreallocarray(m->e, m->cap, sizeof *m->e);
		memset(m->e + old, 0, (m->cap - old) * sizeof *m->e);
	}
	/* room for every field this record may add, so no growth below */
	if (!m->seen || m->seencap < t->nfields + r->nmembers) {
		m->seencap = t->nfields + r->nmembers + 16;
		m->seen = xrealloc(m->seen, m->seencap);
	}
	memset(m->seen, 0, t->nfields + r->nmembers);
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct scan_member *mb = &r->members[i];
		const char *k = p + mb->key, *v = p + mb->val;
		size_t kn = mb->key_len, vn = mb->val_end - mb->val;
		struct ds_memo_entry *e = &m->e[i];
		if (e->field >= t->nfields || !buf_is(&e->lit, k, kn)) {
			/* a name with an escape decodes first */
			char kbuf[256];
			char *name = kn <= sizeof kbuf ? kbuf : xmalloc(kn);
			size_t nl = scan_string_decode(k, kn, name);
			struct ds_field *f = ds_field(t, name, nl);
			bool fail = (!f && (!evolve || case_twin(t, name, nl))) ||
				    memchr(name, '\0', nl); /* check_struct says */
			if (!f && !fail) {
				add_field(t, name, nl, infer(v, vn), true, NULL);
				*changed = true;
				f = &t->fields[t->nfields - 1];
			}
			if (name != kbuf)
				free(name);
			if (fail)
				return -1;
			e->field = (size_t)(f - t->fields);
			e->lit.len = 0;
			buf_add(&e->lit, k, kn);
		}
		struct ds_field *f = &t->fields[e->field];
		if (m->seen[e->field])
			return -1; /* twice in the record */
		m->seen[e->field] = 1;
		if (v[0] == 'n') {
			if (!f->nullable)
				return -1;
		} else if (!changed && (f->type->kind == DT_STRUCT ||
					f->type->kind == DT_ARRAY)) {
			/* ds_conforms: one pass (a leaf's end is known) */
			size_t j = mb->val;
			if (conform(f->type, p, mb->val_end, &j) != 0 ||
			    j != mb->val_end)
				return -1;
		} else if (check(f->type, v, vn, evolve, changed, NULL, err,
				 sizeof err) != 0) {
			return -1;
		}
	}
	for (size_t i = 0; i < t->nfields; i++)
		if (!m->seen[i] && !t->fields[i].nullable)
			return -1;
	return 0;
}

/* The fast walk; when anything fails, ds_check walks the record again and
 * says where (the same walk in the same order meets the same first
 * fault: what this pass widened only lets more through). */
int ds_check_record(struct ds_type *t, const struct scan_record *r,
		    bool evolve, bool *changed, struct ds_memo *m, char *err,
		    size_t errlen)
{
	if (walk_record(t, r, evolve, changed, m) == 0)
		return 0;
	if (ds_check(t, r->p + r->start, r->n - r->start, evolve, changed, err,
		     errlen) == 0)
		errbuf_set(err, errlen, "schema check: the record passed one "
			   "walk and failed the other (a bug)");
	return -1;
}

bool ds_conforms(const struct ds_type *t, const struct scan_record *r,
		 struct ds_memo *m)
{
	/* evolve false, changed NULL: check() only reads t */
	return walk_record((struct ds_type *)t, r, false, NULL, m) == 0;
}

/*
 * The typer of scan_record_typed(): ds_conforms' answer in the scan's
 * one pass over the bytes.  Each level keeps the container it is in: a
 * struct with the field being read (found, as conform_struct does, first
 * as the field after the one before by its name's raw bytes), the
 * fields seen, or an array.  Anything it does not follow (a map, a
 * struct of more than 64 fields, an escaped name, nesting past
 * DS_TYPER_DEPTH) answers false: the caller's full check decides.
 */
/* The fields a struct must have (not nullable), by index: from d's
 * table of the schema's structs, made once by ds_typer_init. */
static uint64_t typer_required(const struct ds_typer *d,
			       const struct ds_type *t)
{
	for (size_t i = 0; i < d->nreq; i++)
		if (d->req[i].t == t)
			return d->req[i].mask;
	uint64_t m = 0; /* past the table: counted again */
	for (size_t k = 0; k < t->nfields; k++)
		if (!t->fields[k].nullable)
			m |= (uint64_t)1 << k;
	return m;
}

static inline __attribute__((always_inline)) bool
typer_open(void *ctx, size_t level, char kind)
{
	struct ds_typer *d = ctx;
	const struct ds_typer_frame *f = &d->fr[level];
	const struct ds_type *t = f->exp;
	if (level >= DS_TYPER_DEPTH)
		return false;
	struct ds_typer_frame *in = &d->fr[level + 1];
	if (kind == '{') {
		if (t->kind != DT_STRUCT || t->nfields > 64)
			return false;
		*in = (struct ds_typer_frame){
			.t = t, .req = typer_required(d, t),
		};
	} else {
		if (t->kind != DT_ARRAY)
			return false;
		*in = (struct ds_typer_frame){
			.t = t, .exp = t->elem,
			.exp_nullable = t->contains_null,
		};
	}
	return true;
}

/* The field of a member not in the schema's order, or NULL (apart, so
 * the common case pays for no call it does not make) */
static __attribute__((noinline)) const struct ds_field *
typer_find(const struct ds_type *t, const char *lit, size_t n)
{
	return memchr(lit, '\\', n) ? NULL : ds_field(t, lit + 1, n - 2);
}

static bool typer_key(void *ctx, size_t level, const char *lit, size_t n)
{
	struct ds_typer_frame *f = &((struct ds_typer *)ctx)->fr[level];
	const struct ds_type *t = f->t;
	size_t fi = f->next;
	const struct ds_field *x = fi < t->nfields ? &t->fields[fi] : NULL;
	if (!x || !x->plain || x->name_len + 2 != n ||
	    !mem_same(lit + 1, x->name, n - 2)) {
		if (!(x = typer_find(t, lit, n)))
			return false;
		fi = (size_t)(x - t->fields);
	}
	uint64_t bit = (uint64_t)1 << fi;
	if (f->seen & bit)
		return false; /* twice in one object */
	f->seen |= bit;
	f->exp = x->type;
	f->exp_nullable = x->nullable;
	f->next = fi + 1;
	return true;
}

static __attribute__((noinline)) bool typer_check(struct ds_type *t,
						   const char *p, size_t n)
{
	char err[8]; /* check() writes a message nobody reads */
	/* changed NULL: check() only reads t */
	return check(t, p, n, false, NULL, NULL, err, sizeof err) == 0;
}

static bool typer_scalar(void *ctx, size_t level, const char *p, size_t n)
{
	const struct ds_typer_frame *f = &((struct ds_typer *)ctx)->fr[level];
	struct ds_type *t = (struct ds_type *)f->exp;
	if (p[0] == 'n')
		return f->exp_nullable;
	switch (t->kind) { /* check()'s answer for the common ones */
	case DT_STRING:
		return p[0] == '"';
	case DT_INTEGER:
	case DT_LONG: {
		if (p[0] != '-' && (p[0] < '0' || p[0] > '9'))
			return false;
		if (t->kind == DT_LONG && t->inferred)
			break; /* note_inexact's answer */
		size_t neg = p[0] == '-', i = neg;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i < n)
			break; /* a fraction or an exponent: check()'s */
		/* 9 digits fit an integer, 18 a long (no leading zeros in
		 * JSON); more are counted */
		if (n - neg <= (t->kind == DT_INTEGER ? 9u : 18u))
			return true;
		return int_kind(p, n) <= t->kind;
	}
	case DT_DOUBLE: {
		/* binary_holds' own first case: at most 15 digits and no
		 * exponent always come back from a double */
		size_t digits = 0, i = p[0] == '-';
		if (i == n || p[i] < '0' || p[i] > '9' || n > 38)
			break;
		for (; i < n && p[i] != 'e' && p[i] != 'E'; i++)
			digits += p[i] != '.';
		if (i == n && digits <= 15)
			return true;
		break;
	}
	default:
		break;
	}
	return typer_check(t, p, n);
}

static bool typer_close(void *ctx, size_t level)
{
	const struct ds_typer_frame *f = &((struct ds_typer *)ctx)->fr[level];
	return (f->seen & f->req) == f->req; /* an array's: 0 */
}

/* Every struct of t into d's table of required fields, while room. */
static void typer_note_structs(struct ds_typer *d, const struct ds_type *t)
{
	if (!t)
		return;
	if (t->kind == DT_STRUCT) {
		if (d->nreq < DS_TYPER_STRUCTS) {
			uint64_t m = 0;
			for (size_t k = 0; k < t->nfields && k < 64; k++)
				if (!t->fields[k].nullable)
					m |= (uint64_t)1 << k;
			d->req[d->nreq++] = (struct ds_typer_req){t, m};
		}
		for (size_t k = 0; k < t->nfields; k++)
			typer_note_structs(d, t->fields[k].type);
	} else {
		typer_note_structs(d, t->elem);
	}
}

static const struct scan_hooks typer_hooks = {
	.open = typer_open, .key = typer_key,
	.scalar = typer_scalar, .close = typer_close,
};

/* scan_walk.h's validator with the typer's hooks inlined in it */
static int typed_scan(struct scan_record *r, const char *p, size_t n,
		      struct scan_error *err, void *ctx, bool *fits)
{
	return scan_record_with(r, p, n, err, &typer_hooks, ctx, fits);
}

void ds_typer_init(struct ds_typer *d, const struct ds_type *t,
		   struct scan_typer *ty)
{
	d->root = t;
	d->nreq = 0;
	typer_note_structs(d, t);
	/* level 0: the record itself, never null */
	d->fr[0] = (struct ds_typer_frame){.exp = t};
	*ty = (struct scan_typer){.scan = typed_scan, .ctx = d};
}

void ds_memo_free(struct ds_memo *m)
{
	for (size_t i = 0; i < m->cap; i++)
		buf_free(&m->e[i].lit);
	free(m->e);
	free(m->seen);
	memset(m, 0, sizeof *m);
}

/* ---- type changes (the protocol's typeWidening feature) ---- */

/* Integer kinds by width: byte 1 .. long 4, else 0. */
static int int_rank(const char *t)
{
	static const char *const r[] = {"byte", "short", "integer", "long"};
	for (int i = 0; i < 4; i++)
		if (strcmp(t, r[i]) == 0)
			return i + 1;
	return 0;
}

/* decimal(P,S) as parse_type reads a column's type: nothing after the
 * ')' ("decimal(12,2)junk" is no decimal), 1 <= P <= 38, 0 <= S <= P. */
static bool decimal_ps(const char *t, int *p, int *sc)
{
	int end = 0;
	return sscanf(t, "decimal ( %d , %d )%n", p, sc, &end) == 2 &&
	       t[end] == '\0' && *p >= 1 && *p <= 38 && *sc >= 0 &&
	       *sc <= *p && !strchr(t, '+');
}

bool ds_widening_allowed(const char *from, const char *to)
{
	int fr = int_rank(from), tr = int_rank(to), p, sc, p2, s2;
	if (fr && tr)
		return tr > fr;
	if (strcmp(from, "float") == 0 && strcmp(to, "double") == 0)
		return true;
	if (fr && fr <= 3 && strcmp(to, "double") == 0)
		return true;
	if (strcmp(from, "date") == 0 && strcmp(to, "timestamp_ntz") == 0)
		return true;
	if (decimal_ps(to, &p2, &s2)) {
		if (decimal_ps(from, &p, &sc))
			return p2 >= p && s2 >= sc && p2 - s2 >= p - sc &&
			       (p2 != p || s2 != sc);
		/* the protocol's Decimal(10 + k1, k2) for byte, short
		 * and integer alike (all INT32 in Parquet), and
		 * Decimal(20 + k1, k2) for long, k1 >= k2 >= 0: not the
		 * digits the narrower type needs */
		if (fr)
			return s2 >= 0 && p2 - s2 >= (fr == 4 ? 20 : 10);
	}
	return false;
}

/* The first primitive of o that became another type in n which the
 * protocol does not allow, described in err. */
static int refused_change(const struct ds_type *o, const struct ds_type *n,
			  const char *col, char *err, size_t errlen)
{
	if ((o->kind == DT_ARRAY && n->kind == DT_ARRAY) ||
	    (o->kind == DT_MAP && n->kind == DT_MAP))
		return refused_change(o->elem, n->elem, col, err, errlen);
	if (o->kind == DT_STRUCT && n->kind == DT_STRUCT) {
		for (size_t i = 0; i < n->nfields; i++) {
			const struct ds_field *nf = &n->fields[i];
			const struct ds_field *of =
				ds_field(o, nf->name, strlen(nf->name));
			if (!of)
				continue;
			struct buf c = {0};
			buf_addf(&c, "%s.%s", col, nf->name);
			int rc = refused_change(of->type, nf->type, c.p, err,
						errlen);
			buf_free(&c);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (o->kind == DT_NULL || o->kind >= DT_STRUCT || o->kind == n->kind ||
	    !o->name || !n->name || ds_widening_allowed(o->name, n->name))
		return 0;
	errbuf_set(err, errlen, "column %s: %s cannot become %s (Delta's type "
		"widening allows integer kinds to wider ones or to double "
		"from byte, short and integer, not from long); to keep "
		"fractions, make a table that declares the column %s "
		"(txlog init NEW --schema FILE) and copy the rows over "
		"(txlog cat OLD | txlog append NEW)", col[0] ? col : ".",
		o->name, n->name, n->name);
	return -1;
}

int ds_check_widening(const struct ds_type *old, const struct ds_type *evolved,
		      char *err, size_t errlen)
{
	return refused_change(old, evolved, "", err, errlen);
}

/* A primitive of o that became a wider one in n, at fieldPath path (""
 * for the field's own type): one {"fromType","toType"} entry. */
static void note_changes(const struct ds_type *o, const struct ds_type *n,
			 const char *path, struct buf *out)
{
	if (o->kind == DT_ARRAY && n->kind == DT_ARRAY) {
		struct buf p = {0};
		buf_addf(&p, "%s%selement", path, *path ? "." : "");
		note_changes(o->elem, n->elem, p.p, out);
		buf_free(&p);
		return;
	}
	if (o->kind == DT_MAP && n->kind == DT_MAP) {
		struct buf p = {0};
		buf_addf(&p, "%s%svalue", path, *path ? "." : "");
		note_changes(o->elem, n->elem, p.p, out);
		buf_free(&p);
		return;
	}
	if (o->kind == DT_NULL || o->kind >= DT_STRUCT || o->kind == n->kind ||
	    !o->name || !n->name)
		return;
	if (out->len)
		buf_addc(out, ',');
	buf_adds(out, "{\"fromType\":");
	jw_str(out, o->name);
	buf_adds(out, ",\"toType\":");
	jw_str(out, n->name);
	if (*path) {
		buf_adds(out, ",\"fieldPath\":");
		jw_str(out, path);
	}
	buf_addc(out, '}');
}

/* f's metadata with entries appended to its delta.typeChanges list (the
 * history is kept: writers must preserve it). */
static void add_type_changes(struct ds_field *f, const struct buf *entries)
{
	struct buf m = {0}, old = {0};
	buf_addc(&m, '{');
	struct scan_obj o;
	const char *k, *v;
	size_t kn, vn;
	if (scan_obj_begin(&o, f->metadata, strlen(f->metadata))) {
		while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
			if (scan_string_equals(k, kn, "delta.typeChanges", 17)) {
				if (v[0] == '[' && vn > 2) {
					size_t i = scan_ws(v, vn, 1);
					if (v[i] != ']')
						buf_add(&old, v + 1, vn - 2);
				}
				continue;
			}
			if (m.len > 1)
				buf_addc(&m, ',');
			buf_add(&m, k, kn);
			buf_addc(&m, ':');
			buf_add(&m, v, vn);
		}
	}
	if (m.len > 1)
		buf_addc(&m, ',');
	buf_adds(&m, "\"delta.typeChanges\":[");
	if (old.len) {
		buf_add(&m, old.p, old.len);
		buf_addc(&m, ',');
	}
	buf_add(&m, entries->p, entries->len);
	buf_adds(&m, "]}");
	free(f->metadata);
	f->metadata = m.p;
	buf_free(&old);
}

static bool widen_walk(const struct ds_type *o, struct ds_type *n)
{
	/* the struct fields under arrays and maps are StructFields too */
	while ((o->kind == DT_ARRAY && n->kind == DT_ARRAY) ||
	       (o->kind == DT_MAP && n->kind == DT_MAP)) {
		o = o->elem;
		n = n->elem;
	}
	if (o->kind != DT_STRUCT || n->kind != DT_STRUCT)
		return false;
	bool any = false;
	for (size_t i = 0; i < n->nfields; i++) {
		struct ds_field *nf = &n->fields[i];
		struct ds_field *of = ds_field(o, nf->name, strlen(nf->name));
		if (!of)
			continue;
		struct buf e = {0};
		note_changes(of->type, nf->type, "", &e);
		if (e.len) {
			add_type_changes(nf, &e);
			any = true;
		}
		buf_free(&e);
		any |= widen_walk(of->type, nf->type);
	}
	return any;
}

bool ds_note_widening(const struct ds_type *old, struct ds_type *evolved)
{
	return widen_walk(old, evolved);
}
