/*
 * badrec: a bad record that a tool's prep (lib/par) found, carried to
 * its apply: the dead-letter type, whether the line is JSON, and the
 * message, kept in the chunk (par_keep) so it outlives the worker's
 * scratch.  apply hands it to cli_reject(), which dead-letters it or
 * ends the run, in input order.  The checks every record tool makes
 * first (the line, an expression's value, an event time) are here once,
 * with the wording cli_reject would have printed inline.
 */
#ifndef IDEM_BADREC_H
#define IDEM_BADREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timefmt.h"

struct expr;
struct line;
struct par_chunk;
struct scan_record;

struct badrec {
	const char *type; /* NULL: the record is good; else static text */
	const char *msg;  /* in the chunk */
	bool is_json;
};

/* Make b a bad record of type (static text) with the message fmt says,
 * cut at cli_reject's bound of 1023 bytes. */
void badrec_set(struct badrec *b, struct par_chunk *ch, bool is_json,
		const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* cli_line_fault() on ln: true when the line is good (rec holds its
 * scan, b->type is NULL); else b is set and false. */
bool badrec_line(struct badrec *b, struct par_chunk *ch,
		 const struct line *ln, size_t max_line,
		 struct scan_record *rec, bool want_object);

/* expr_eval(): true with the value, or b set as expr_failure() words it
 * ("missing WHAT SRC", ...) and false. */
bool badrec_eval(struct badrec *b, struct par_chunk *ch, struct expr *e,
		 const struct scan_record *rec, const char *what,
		 const char **v, size_t *vlen);

/* The top-level member of rec a typo away from name (3 letters or
 * more, [A-Za-z0-9_]), for "did you mean", or NULL.  pool (poolsz
 * bytes, 4K will do) holds the names; on the bad record's path only. */
struct scan_record;
const char *badrec_near_name(const char *name,
			     const struct scan_record *rec, char *pool,
			     size_t poolsz);

/* " (did you mean .time?)" in out when e is a plain path .NAME (three
 * letters or more) that rec lacks and one of rec's own members is near
 * NAME (cli_nearest), else "": a misspelt -t, -k or -g stops the run at
 * its first record, and this says what was meant. */
void badrec_near(const struct expr *e, const struct scan_record *rec,
		 char *out, size_t outlen);
/* badrec_near() of a plain path of names given as its text (.o.amuont),
 * for a path read without an expr (dlq check's own conditions). */
void badrec_near_path(const char *src, const struct scan_record *rec,
		      char *out, size_t outlen);

/* badrec_eval() of a time (time_from_json() in unit), or b set as
 * "wrong_type", "WHAT SRC: why" and false. */
bool badrec_time(struct badrec *b, struct par_chunk *ch, struct expr *e,
		 const struct scan_record *rec, const char *what,
		 enum time_unit unit, int64_t *t);

#endif
