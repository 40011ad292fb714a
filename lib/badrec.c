#include "badrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "expr.h"
#include "par.h"
#include "scan.h"

void badrec_set(struct badrec *b, struct par_chunk *ch, bool is_json,
		const char *type, const char *fmt, ...)
{
	char msg[1024]; /* cli_reject's bound */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1
							  : (size_t)n;
	b->type = type;
	b->is_json = is_json;
	b->msg = par_keep(ch, msg, len);
}

bool badrec_line(struct badrec *b, struct par_chunk *ch,
		 const struct line *ln, size_t max_line,
		 struct scan_record *rec, bool want_object)
{
	char msg[512];
	bool is_json;
	const char *fault = cli_line_fault(ln, max_line, "--max-line", rec,
					   want_object, &is_json, msg,
					   sizeof msg);
	b->type = NULL;
	if (!fault)
		return true;
	badrec_set(b, ch, is_json, fault, "%s", msg);
	return false;
}

const char *badrec_near_name(const char *name,
			     const struct scan_record *rec, char *pool,
			     size_t poolsz)
{
	size_t sl = strlen(name);
	if (sl < 3 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
			     "NOPQRSTUVWXYZ0123456789_") != sl)
		return NULL;
	const char *names[65];
	size_t nn = 0, used = 0;
	for (size_t i = 0; i < rec->nmembers && nn < 64; i++) {
		const struct scan_member *m = &rec->members[i];
		if (m->parent != SCAN_TOP || m->key_len + 1 > poolsz - used)
			continue;
		char *n = pool + used;
		size_t dl = scan_string_decode(rec->p + m->key, m->key_len, n);
		n[dl] = '\0';
		used += dl + 1;
		names[nn++] = n;
	}
	names[nn] = NULL;
	const char *near = nn ? cli_nearest(name, names) : NULL;
	return near && strcmp(near, name) ? near : NULL;
}

/* The member of the object rec reads named name[0..n), or NULL. */
static const struct scan_member *member_named(const struct scan_record *rec,
					      const char *name, size_t n)
{
	char dec[256];
	for (size_t i = 0; i < rec->nmembers; i++) {
		const struct scan_member *m = &rec->members[i];
		if (m->parent != SCAN_TOP || m->key_len > sizeof dec)
			continue;
		size_t dl = scan_string_decode(rec->p + m->key, m->key_len, dec);
		if (dl == n && !memcmp(dec, name, n))
			return m;
	}
	return NULL;
}

/*
 * A plain path of names (.o.amuont) the record lacks: the path with the
 * first missing name replaced by the nearest name its object has
 * (.o.amount), the names after it kept.  Objects below the top are
 * scanned here, on this error path only.
 */
void badrec_near(const struct expr *e, const struct scan_record *rec,
		 char *out, size_t outlen)
{
	out[0] = '\0';
	if (expr_is_plain(e))
		badrec_near_path(expr_source(e), rec, out, outlen);
}

void badrec_near_path(const char *src, const struct scan_record *rec,
		      char *out, size_t outlen)
{
	out[0] = '\0';
	if (src[0] != '.')
		return;
	struct scan_record sub = {0};
	const struct scan_record *at = rec;
	char pool[4096], name[256];
	const char *p = src + 1;
	for (;;) {
		size_t n = strcspn(p, ".");
		if (n == 0 || n >= sizeof name)
			break;
		memcpy(name, p, n);
		name[n] = '\0';
		const struct scan_member *m = member_named(at, name, n);
		if (!m) {
			const char *near = badrec_near_name(name, at, pool,
							    sizeof pool);
			if (near)
				snprintf(out, outlen, " (did you mean %.*s%s%s?)",
					 (int)(p - src), src, near, p + n);
			break;
		}
		if (!p[n] || at->p[m->val] != '{')
			break;
		struct scan_error se;
		scan_record_free(&sub);
		sub = (struct scan_record){0};
		if (scan_record(&sub, at->p + m->val, m->val_end - m->val,
				&se) != 0)
			break;
		at = &sub;
		p += n + 1;
	}
	scan_record_free(&sub);
}

bool badrec_eval(struct badrec *b, struct par_chunk *ch, struct expr *e,
		 const struct scan_record *rec, const char *what,
		 const char **v, size_t *vlen)
{
	char err[512], msg[1024], near[300] = "";
	enum expr_status st = expr_eval(e, rec, v, vlen, err, sizeof err);
	if (st == EXPR_VALUE)
		return true;
	const char *type = expr_failure(e, st, what, err, msg, sizeof msg);
	if (st == EXPR_MISSING)
		badrec_near(e, rec, near, sizeof near);
	badrec_set(b, ch, true, type, "%s%s", msg, near);
	return false;
}

bool badrec_time(struct badrec *b, struct par_chunk *ch, struct expr *e,
		 const struct scan_record *rec, const char *what,
		 enum time_unit unit, int64_t *t)
{
	const char *v, *why;
	size_t vlen;
	if (!badrec_eval(b, ch, e, rec, what, &v, &vlen))
		return false;
	if (expr_count(e) > 1) { /* handed over as one array */
		badrec_set(b, ch, true, "wrong_type", "%s %s: gave %zu "
			   "values; a time is one", what, expr_source(e),
			   expr_count(e));
		return false;
	}
	if (time_from_json(v, vlen, unit, t, &why) == 0)
		return true;
	badrec_set(b, ch, true, "wrong_type", "%s %s: %s", what,
		   expr_source(e), why);
	return false;
}
