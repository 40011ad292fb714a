#include "badrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expr.h"
#include "par.h"
#include "scan.h"
#include "xalloc.h"

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

void badrec_near(const struct expr *e, const struct scan_record *rec,
		 char *out, size_t outlen)
{
	const char *src = expr_source(e);
	out[0] = '\0';
	/* names of one or two letters are each one edit from any other:
	 * no hint says more than noise there */
	if (!expr_is_plain(e) || src[0] != '.' || strlen(src + 1) < 3 ||
	    strspn(src + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_") != strlen(src + 1))
		return;
	char **names = xcalloc(rec->nmembers + 1, sizeof *names);
	size_t n = 0;
	for (size_t i = 0; i < rec->nmembers; i++)
		if (rec->members[i].parent == SCAN_TOP)
			names[n++] = scan_strdup_lit(rec->p + rec->members[i].key,
						     rec->members[i].key_len);
	const char *near = cli_nearest(src + 1, (const char *const *)names);
	if (near)
		snprintf(out, outlen, " (did you mean .%s?)", near);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
	if (time_from_json(v, vlen, unit, t, &why) == 0)
		return true;
	badrec_set(b, ch, true, "wrong_type", "%s %s: %s", what,
		   expr_source(e), why);
	return false;
}
