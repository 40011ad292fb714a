/*
 * expr: plain paths on the scanner, everything else through libjq.
 *
 * libjq is driven as jq's main.c does: jq_init, jq_compile once, then
 * per record jq_start + jq_next until an invalid jv; every jv consumed
 * exactly once.  Results are dumped to compact JSON text in e->out.
 */
#include "expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "buf.h"
#include "scan.h"
#include "xalloc.h"

struct expr {
	char *src;
	bool plain;
	struct path path;
	jq_state *jq;
	struct buf out;
	struct buf msg; /* compile messages from libjq */
};

static void collect_msg(void *ctx, jv msg)
{
	struct buf *b = ctx;
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		if (b->len)
			buf_adds(b, "; ");
		buf_adds(b, jv_string_value(msg));
	}
	jv_free(msg);
}

struct expr *expr_compile(const char *src, char *err, size_t errlen)
{
	struct expr *e = xcalloc(1, sizeof *e);
	e->src = xstrdup(src);
	if (path_parse(src, &e->path) == 0) {
		e->plain = true;
		return e;
	}
	e->jq = jq_init();
	if (!e->jq) {
		snprintf(err, errlen, "cannot initialise libjq");
		expr_free(e);
		return NULL;
	}
	jq_set_error_cb(e->jq, collect_msg, &e->msg);
	if (!jq_compile(e->jq, src)) {
		snprintf(err, errlen, "'%s': %s", src,
			 e->msg.len ? e->msg.p : "does not compile");
		expr_free(e);
		return NULL;
	}
	return e;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	if (e->jq)
		jq_teardown(&e->jq);
	path_free(&e->path);
	buf_free(&e->out);
	buf_free(&e->msg);
	free(e->src);
	free(e);
}

const char *expr_source(const struct expr *e)
{
	return e->src;
}

bool expr_is_plain(const struct expr *e)
{
	return e->plain;
}

static void dump(struct buf *out, jv v)
{
	jv s = jv_dump_string(v, 0);
	buf_adds(out, jv_string_value(s));
	jv_free(s);
}

enum expr_status expr_eval(struct expr *e, const struct scan_record *rec,
			   const char **val, size_t *vlen, char *err,
			   size_t errlen)
{
	size_t n = rec->n;
	if (e->plain) {
		const char *why = NULL;
		switch (path_lookup_record(&e->path, rec, val, vlen, &why)) {
		case PATH_FOUND:
			return EXPR_VALUE;
		case PATH_MISSING:
			return EXPR_MISSING;
		case PATH_TYPE_ERROR:
			snprintf(err, errlen, "%s", why);
			return EXPR_ERROR;
		}
	}
	if (n > 0x7fffffff) {
		snprintf(err, errlen, "record too large for libjq");
		return EXPR_ERROR;
	}
	jv input = jv_parse_sized(rec->p, (int)n);
	if (!jv_is_valid(input)) {
		jv msg = jv_invalid_get_msg(input);
		snprintf(err, errlen, "libjq: %s",
			 jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
							    : "cannot parse");
		jv_free(msg);
		return EXPR_ERROR;
	}
	jq_start(e->jq, input, 0);
	buf_reset(&e->out);
	size_t count = 0, first_end = 0;
	enum expr_status st = EXPR_VALUE;
	for (;;) {
		jv r = jq_next(e->jq);
		if (!jv_is_valid(r)) {
			if (jv_invalid_has_msg(jv_copy(r))) {
				jv msg = jv_invalid_get_msg(r);
				if (jv_get_kind(msg) == JV_KIND_STRING)
					snprintf(err, errlen, "%s",
						 jv_string_value(msg));
				else {
					jv s = jv_dump_string(jv_copy(msg), 0);
					snprintf(err, errlen, "%s (not a string)",
						 jv_string_value(s));
					jv_free(s);
				}
				jv_free(msg);
				st = EXPR_ERROR;
			} else {
				jv_free(r);
			}
			break;
		}
		if (count == 0) {
			dump(&e->out, r);
			first_end = e->out.len;
		} else {
			if (count == 1) {
				/* Several values: make them one array. */
				struct buf t = {0};
				buf_addc(&t, '[');
				buf_add(&t, e->out.p, first_end);
				buf_free(&e->out);
				e->out = t;
			}
			buf_addc(&e->out, ',');
			dump(&e->out, r);
		}
		count++;
	}
	if (st == EXPR_ERROR)
		return st;
	if (count == 0)
		return EXPR_EMPTY;
	if (count > 1)
		buf_addc(&e->out, ']');
	*val = e->out.p;
	*vlen = e->out.len;
	return EXPR_VALUE;
}

const char *expr_failure(const struct expr *e, enum expr_status st,
			 const char *what, const char *err, char *msg,
			 size_t msglen)
{
	switch (st) {
	case EXPR_MISSING:
		snprintf(msg, msglen, "missing %s %s", what, e->src);
		return "missing_field";
	case EXPR_EMPTY:
		snprintf(msg, msglen, "%s %s produced no value", what, e->src);
		return "missing_field";
	default:
		snprintf(msg, msglen, "%s %s: %s", what, e->src, err);
		return e->plain ? "wrong_type" : "expression_error";
	}
}
