/*
 * scan: see scan.h.  The validator is a loop over one byte-class table
 * with an explicit stack of container kinds, so hostile nesting costs a
 * bounded array, not the C stack.  Strings, the bulk of any record, run
 * through a tight loop that stops only on '"', '\\', controls and
 * non-ASCII bytes.
 */
#include "scan.h"
#include "scan_walk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int validate(const char *p, size_t n, struct scan_error *err,
		    struct scan_record *top, size_t noted)
{
	return validate_as(p, n, err, top, noted, NULL, NULL, NULL);
}

int scan_validate(const char *p, size_t n, struct scan_error *err)
{
	return validate(p, n, err, NULL, 0);
}

static int record(struct scan_record *r, const char *p, size_t n,
		  struct scan_error *err, size_t noted)
{
	r->p = p;
	r->n = n;
	r->nmembers = 0;
	if (validate(p, n, err, r, noted) != 0)
		return -1;
	r->start = scan_ws(p, n, 0);
	return 0;
}

int scan_record(struct scan_record *r, const char *p, size_t n,
		struct scan_error *err)
{
	return record(r, p, n, err, 1);
}

int scan_record_nested(struct scan_record *r, const char *p, size_t n,
		       struct scan_error *err)
{
	return record(r, p, n, err, 2);
}

void scan_record_free(struct scan_record *r)
{
	free(r->members);
	r->members = NULL;
	r->nmembers = r->cap = 0;
}

/* Index after the (valid) string whose opening quote is at p[i]. */
static inline size_t skip_string(const char *p, size_t n, size_t i)
{
	const unsigned char *s = (const unsigned char *)p;
	i++;
	for (;;) {
		const void *q = memchr(s + i, '"', n - i);
		if (!q)
			return n;
		size_t k = (size_t)((const unsigned char *)q - s);
		/* An odd run of backslashes before it escapes the quote. */
		size_t b = k;
		while (b > i && s[b - 1] == '\\')
			b--;
		if (((k - b) & 1) == 0)
			return k + 1;
		i = k + 1;
	}
}

size_t scan_skip(const char *p, size_t n, size_t i)
{
	size_t depth = 0;
	do {
		switch (p[i]) {
		case '"':
			i = skip_string(p, n, i);
			break;
		case '{': case '[':
			depth++;
			i++;
			break;
		case '}': case ']':
			depth--;
			i++;
			break;
		case ',': case ':': case ' ': case '\t': case '\n': case '\r':
			i++;
			break;
		default: /* number or literal */
			while (i < n && p[i] != ',' && p[i] != '}' &&
			       p[i] != ']' && !is_ws((unsigned char)p[i]))
				i++;
			break;
		}
	} while (depth > 0 && i < n);
	return i;
}

const char *scan_type(const char *p)
{
	switch (*p) {
	case 'n': return "null";
	case 't': case 'f': return "boolean";
	case '"': return "string";
	case '[': return "array";
	case '{': return "object";
	default: return "number";
	}
}

static size_t put_utf8(char *out, unsigned long cp)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t scan_string_decode(const char *p, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 1, end = n - 1, o = 0;
	while (i < end) {
		const unsigned char *bs = memchr(s + i, '\\', end - i);
		size_t run = bs ? (size_t)(bs - s) - i : end - i;
		memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (!bs)
			break;
		unsigned char c = s[i + 1];
		i += 2;
		switch (c) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			unsigned long cp = (unsigned long)hex4(s + i);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned long lo = (unsigned long)hex4(s + i + 2);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			o += put_utf8(out + o, cp);
			break;
		}
		default: out[o++] = (char)c; break; /* " \ / */
		}
	}
	return o;
}

bool scan_string_equals(const char *p, size_t n, const char *name,
			size_t name_len)
{
	/* Escapes only shrink text: a literal shorter than the name can
	 * never match, and one of the name's length matches only byte for
	 * byte with no escape in it.  Both are decided without a scan
	 * (lookups try many members' names). */
	if (n - 2 < name_len)
		return false;
	if (n - 2 == name_len)
		return memcmp(p + 1, name, name_len) == 0 &&
		       !memchr(p + 1, '\\', n - 2);
	if (!memchr(p + 1, '\\', n - 2))
		return false;
	char small[256];
	char *out = n <= sizeof small ? small : xmalloc(n);
	size_t len = scan_string_decode(p, n, out);
	bool eq = len == name_len && memcmp(out, name, len) == 0;
	if (out != small)
		free(out);
	return eq;
}

/* ---- plain paths ---- */

static int is_ident(unsigned char c)
{
	return c == '_' || is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static const char *const jq_keywords[] = {
	"def", "if", "then", "elif", "else", "end", "as", "reduce",
	"foreach", "try", "catch", "label", "import", "include", "and",
	"or", "not", "__loc__", NULL,
};

static void add_step(struct path *out, struct path_step st)
{
	out->steps = xreallocarray(out->steps, out->n + 1, sizeof *out->steps);
	out->steps[out->n++] = st;
}

/* A jq string literal at src (opening quote), without interpolation;
 * returns the index after it, or 0. */
static size_t path_string(const char *src, size_t i, struct path_step *st)
{
	size_t n = strlen(src);
	struct scan_error e;
	size_t j = i + 1;
	while (j < n && src[j] != '"') {
		if (src[j] == '\\') {
			if (src[j + 1] == '(')
				return 0; /* interpolation: libjq's job */
			j++;
		}
		j++;
	}
	if (j >= n || scan_validate(src + i, j + 1 - i, &e) != 0)
		return 0;
	st->kind = PATH_MEMBER;
	st->name = xmalloc(j + 1 - i);
	st->name_len = scan_string_decode(src + i, j + 1 - i, st->name);
	return j + 1;
}

int path_parse(const char *src, struct path *out)
{
	size_t n = strlen(src), i = 0;
	out->steps = NULL;
	out->n = 0;
	while (n > 0 && is_ws((unsigned char)src[n - 1]))
		n--;
	while (i < n && is_ws((unsigned char)src[i]))
		i++;
	if (i >= n || src[i] != '.')
		return -1;
	if (i + 1 == n)
		return 0; /* `.` */
	int need_dot = 1; /* the next step needs a '.' (or is a '[') */
	while (i < n) {
		struct path_step st = {0};
		char c = src[i];
		if (c == '.' && need_dot) {
			i++;
			if (i < n && src[i] == '"') {
				size_t j = path_string(src, i, &st);
				if (!j || j > n) {
					free(st.name); /* not a step yet */
					goto fail;
				}
				add_step(out, st);
				i = j;
				continue;
			}
			if (i < n && src[i] == '[' && out->n == 0) {
				need_dot = 0;
				continue;
			}
			size_t j = i;
			if (j >= n || !is_ident((unsigned char)src[j]) ||
			    is_digit((unsigned char)src[j]))
				goto fail;
			while (j < n && is_ident((unsigned char)src[j]))
				j++;
			for (const char *const *k = jq_keywords; *k; k++)
				if (strlen(*k) == j - i && !memcmp(*k, src + i, j - i))
					goto fail;
			st.kind = PATH_MEMBER;
			st.name = xstrndup(src + i, j - i);
			st.name_len = j - i;
			add_step(out, st);
			i = j;
			need_dot = 1;
		} else if (c == '[') {
			i++;
			if (i < n && src[i] == '"') {
				size_t j = path_string(src, i, &st);
				if (!j || j >= n || src[j] != ']') {
					free(st.name); /* not a step yet */
					goto fail;
				}
				add_step(out, st);
				i = j + 1;
			} else {
				size_t j = i;
				if (j < n && src[j] == '-')
					j++;
				size_t d = j;
				while (j < n && is_digit((unsigned char)src[j]))
					j++;
				if (j == d || j - d > 15 || j >= n || src[j] != ']')
					goto fail;
				st.kind = PATH_INDEX;
				st.index = strtoll(src + i, NULL, 10);
				add_step(out, st);
				i = j + 1;
			}
			need_dot = 1;
		} else {
			goto fail;
		}
	}
	if (!need_dot) /* ended on ".[" handling without a bracket */
		goto fail;
	return 0;
fail:
	path_free(out);
	return -1;
}

void path_free(struct path *p)
{
	for (size_t k = 0; k < p->n; k++)
		free(p->steps[k].name);
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
}

/* per thread: path lookups run on lib/par's workers */
static _Thread_local char why_buf[300];

static enum path_result lookup_from(const struct path *path, size_t k0,
				    const char *p, size_t n, size_t i,
				    const char **val, size_t *vlen,
				    const char **why);

static enum path_result type_error(const char *v, const struct path_step *st,
				   const char **why)
{
	if (st->kind == PATH_INDEX)
		snprintf(why_buf, sizeof why_buf,
			 "Cannot index %s with number", scan_type(v));
	else
		snprintf(why_buf, sizeof why_buf,
			 "Cannot index %s with string \"%.*s\"", scan_type(v),
			 (int)(st->name_len > 200 ? 200 : st->name_len),
			 st->name);
	*why = why_buf;
	return PATH_TYPE_ERROR;
}

enum path_result path_lookup(const struct path *path, const char *p,
			     size_t n, const char **val, size_t *vlen,
			     const char **why)
{
	return lookup_from(path, 0, p, n, scan_ws(p, n, 0), val, vlen, why);
}

enum path_result path_lookup_record(const struct path *path,
				    const struct scan_record *r,
				    const char **val, size_t *vlen,
				    const char **why)
{
	const char *p = r->p;
	if (path->n == 0 || path->steps[0].kind != PATH_MEMBER ||
	    p[r->start] != '{')
		return lookup_from(path, 0, p, r->n, r->start, val, vlen, why);
	/* The members were noted while validating: search them from the
	 * end, since the last duplicate wins. */
	const struct path_step *st = &path->steps[0];
	for (size_t m = r->nmembers; m-- > 0;) {
		const struct scan_member *mb = &r->members[m];
		if (scan_string_equals(p + mb->key, mb->key_len, st->name,
				       st->name_len))
			return lookup_from(path, 1, p, r->n, mb->val, val,
					   vlen, why);
	}
	return PATH_MISSING;
}

static enum path_result lookup_from(const struct path *path, size_t k0,
				    const char *p, size_t n, size_t i,
				    const char **val, size_t *vlen,
				    const char **why)
{
	for (size_t k = k0; k < path->n; k++) {
		const struct path_step *st = &path->steps[k];
		char c = p[i];
		if (c == 'n')
			return PATH_MISSING;
		if (st->kind == PATH_MEMBER) {
			if (c != '{')
				return type_error(p + i, st, why);
			size_t found = 0; /* 0: none (a value is never at 0) */
			i = scan_ws(p, n, i + 1);
			while (p[i] != '}') {
				size_t kend = skip_string(p, n, i);
				bool hit = scan_string_equals(p + i, kend - i,
							      st->name,
							      st->name_len);
				i = scan_ws(p, n, kend);
				i = scan_ws(p, n, i + 1); /* ':' */
				if (hit)
					found = i; /* the last one wins */
				i = scan_ws(p, n, scan_skip(p, n, i));
				if (p[i] == ',')
					i = scan_ws(p, n, i + 1);
			}
			if (!found)
				return PATH_MISSING;
			i = found;
		} else {
			if (c != '[')
				return type_error(p + i, st, why);
			/* jq: a negative index counts from the end, so the
			 * length must be known first. */
			long long want = st->index, count = 0;
			size_t at = 0;
			if (want < 0) {
				size_t j = scan_ws(p, n, i + 1);
				while (p[j] != ']') {
					count++;
					j = scan_ws(p, n, scan_skip(p, n, j));
					if (p[j] == ',')
						j = scan_ws(p, n, j + 1);
				}
				want += count;
				if (want < 0)
					return PATH_MISSING;
			}
			size_t j = scan_ws(p, n, i + 1);
			long long idx = 0;
			while (p[j] != ']') {
				if (idx == want) {
					at = j;
					break;
				}
				idx++;
				j = scan_ws(p, n, scan_skip(p, n, j));
				if (p[j] == ',')
					j = scan_ws(p, n, j + 1);
			}
			if (!at)
				return PATH_MISSING;
			i = at;
		}
	}
	size_t end = scan_skip(p, n, i);
	*val = p + i;
	*vlen = end - i;
	return PATH_FOUND;
}
