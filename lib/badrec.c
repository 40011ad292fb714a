#include "badrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "expr.h"
#include "par.h"

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

/* A member .NAME the record lacks, with one of its own members a typo
 * away (.order_i: .order_id): " (did you mean .order_id?)" after msg.
 * Names shorter than 4 are left alone: .t and .x are not typos of one
 * another.  On the stack: this is the bad record's path only. */
static void near_member(const struct expr *e, const struct scan_record *rec,
			char *msg, size_t len)
{
	const char *src = expr_source(e);
	size_t sl = strlen(src);
	if (src[0] != '.' || sl < 5 || strspn(src + 1, "abcdefghijklmnopqrstu"
		"vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != sl - 1)
		return;
	char pool[4096];
	const char *names[65];
	size_t nn = 0, used = 0;
	for (size_t i = 0; i < rec->nmembers && nn < 64; i++) {
		const struct scan_member *m = &rec->members[i];
		if (m->parent != SCAN_TOP || m->key_len + 1 > sizeof pool - used)
			continue;
		char *n = pool + used;
		size_t dl = scan_string_decode(rec->p + m->key, m->key_len, n);
		n[dl] = '\0';
		used += dl + 1;
		names[nn++] = n;
	}
	names[nn] = NULL;
	const char *near = nn ? cli_nearest(src + 1, names) : NULL;
	size_t ml = strlen(msg);
	if (near && strcmp(near, src + 1) && ml < len)
		snprintf(msg + ml, len - ml, " (did you mean .%s?)", near);
}

bool badrec_eval(struct badrec *b, struct par_chunk *ch, struct expr *e,
		 const struct scan_record *rec, const char *what,
		 const char **v, size_t *vlen)
{
	char err[512], msg[1024];
	enum expr_status st = expr_eval(e, rec, v, vlen, err, sizeof err);
	if (st == EXPR_VALUE)
		return true;
	const char *type = expr_failure(e, st, what, err, msg, sizeof msg);
	if (st == EXPR_MISSING)
		near_member(e, rec, msg, sizeof msg);
	badrec_set(b, ch, true, type, "%s", msg);
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
	if (time_from_json(v, vlen, unit, t, &why) == 0)
		return true;
	badrec_set(b, ch, true, "wrong_type", "%s %s: %s", what,
		   expr_source(e), why);
	return false;
}
