/*
 * scan_obj: walking the members of a JSON object on its raw text, for
 * code that reads known documents (the Delta log, its stats and schema)
 * rather than records by path.  Part of scan: the text must be valid
 * JSON (scan_validate() accepted it); nothing is checked again.
 */
#include <stdint.h>
#include <string.h>

#include "scan.h"
#include "xalloc.h"

bool scan_obj_begin(struct scan_obj *o, const char *p, size_t n)
{
	size_t i = scan_ws(p, n, 0);
	if (i >= n || p[i] != '{')
		return false;
	o->p = p;
	o->n = n;
	o->i = scan_ws(p, n, i + 1);
	return true;
}

bool scan_obj_next(struct scan_obj *o, const char **key, size_t *klen,
		   const char **val, size_t *vlen)
{
	const char *p = o->p;
	size_t n = o->n, i = o->i;
	if (i >= n || p[i] != '"')
		return false;
	size_t ke = scan_skip(p, n, i);
	*key = p + i;
	*klen = ke - i;
	i = scan_ws(p, n, ke);
	i = scan_ws(p, n, i + 1); /* ':' */
	size_t ve = scan_skip(p, n, i);
	*val = p + i;
	*vlen = ve - i;
	i = scan_ws(p, n, ve);
	if (i < n && p[i] == ',')
		i = scan_ws(p, n, i + 1);
	o->i = i;
	return true;
}

bool scan_get(const char *p, size_t n, const char *name, const char **val,
	      size_t *vlen)
{
	struct scan_obj o;
	if (!scan_obj_begin(&o, p, n))
		return false;
	const char *k, *v;
	size_t kn, vn, nl = strlen(name);
	bool found = false;
	while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
		if (scan_string_equals(k, kn, name, nl)) {
			*val = v;
			*vlen = vn;
			found = true;
		}
	}
	return found;
}

char *scan_strdup_lit_len(const char *lit, size_t n, size_t *len)
{
	char *s = xmalloc(n + 1);
	size_t l = scan_string_decode(lit, n, s);
	s[l] = '\0';
	if (len)
		*len = l;
	return s;
}

char *scan_strdup_lit(const char *lit, size_t n)
{
	return scan_strdup_lit_len(lit, n, NULL);
}

char *scan_get_str(const char *p, size_t n, const char *name)
{
	const char *v;
	size_t vn;
	if (!scan_get(p, n, name, &v, &vn) || v[0] != '"')
		return NULL;
	return scan_strdup_lit(v, vn);
}

bool scan_parse_i64(const char *v, size_t vn, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (vn && v[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i >= vn || vn - i > 19)
		return false;
	uint64_t x = 0;
	if (vn - i <= 18) {
		/* 18 digits fit: no bound to test a digit (a checkpoint
		 * reads a size and a time per file) */
		for (; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return false;
			x = x * 10 + (unsigned)(v[i] - '0');
		}
		*out = neg ? (int64_t)(0 - x) : (int64_t)x;
		return true;
	}
	/* every int64: a Delta Long (a txn version from epoch
	 * nanoseconds has 19 digits) must not read as absent */
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	for (; i < vn; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (lim - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

bool scan_get_i64(const char *p, size_t n, const char *name, int64_t *out)
{
	const char *v;
	size_t vn;
	return scan_get(p, n, name, &v, &vn) && scan_parse_i64(v, vn, out);
}
