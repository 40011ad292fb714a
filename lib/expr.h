/*
 * expr: the value an option reads (-k, -t, -g, --sum ...), given as a jq
 * program.  Plain paths (see scan.h) are answered by the scanner on the
 * raw bytes; anything else is compiled once with libjq and run per
 * record.  Either way the answer is JSON text, so canonical values,
 * fingerprints and comparisons never depend on which way it was found.
 *
 * A jq program that yields several values yields them as one array (a
 * tuple), so `-k '.a, .b'` means `-k '[.a, .b]'`; one that yields nothing
 * is EXPR_EMPTY.  Plain paths, and arrays, objects and comma lists of
 * them ([.a, .b], {a: .a}, .a, .b), are answered from the bytes and keep
 * every digit.  libjq (1.6) holds numbers as doubles and would see
 * 12345678901234567891 as 12345678901234567000, so for a program that
 * runs in libjq a record is an EXPR_ERROR when a number a double cannot
 * give back exactly is in a top-level member the program names (or
 * anywhere, when the program can read the whole record): refused, never
 * rounded.  Such a number in the program itself fails expr_compile.
 * The + - * / (and %) of two numbers are exact in every program: arith.h
 * computes a program of arithmetic alone, and libjq runs the others with
 * operators that give the exact decimal value or an EXPR_ERROR that says
 * why (expr.c's prelude); an operation of two literals, which libjq
 * computes as it compiles, must be exact, or expr_compile fails.
 */
#ifndef IDEM_EXPR_H
#define IDEM_EXPR_H

#include <stdbool.h>
#include <stddef.h>

struct expr;

enum expr_status {
	EXPR_VALUE,   /* val and vlen hold JSON text */
	EXPR_MISSING, /* plain path: absent (see scan.h) */
	EXPR_EMPTY,   /* jq program produced no value */
	EXPR_ERROR    /* jq error or type error; message in err */
};

/* NULL on a compile error, with the reason in err. */
struct expr *expr_compile(const char *src, char *err, size_t errlen);
/* expr_compile of a program used as a condition (dlq check -e, txlog
 * --where): one whose value an assignment makes ('.a = 1', always true)
 * is refused too, with the == it likely meant. */
struct expr *expr_condition_compile(const char *src, char *err,
				    size_t errlen);
void expr_free(struct expr *e);

/* The source text as given, e.g. ".order_id" (for messages). */
const char *expr_source(const struct expr *e);
bool expr_is_plain(const struct expr *e);
/* Whether the program text src has an arithmetic operator (+ - * / %)
 * outside its string literals (an interpolation's code counts), or calls
 * one of jq's math functions that libm computed inexactly (sqrt, pow):
 * its values depend on how arithmetic is done.  May say yes of a '-' in
 * 1e-5 or of '//': it only marks states. */
bool expr_text_has_arith(const char *src);
/* Whether the program text src calls localtime or strflocaltime, which
 * read the process's zone (TZ). */
bool expr_text_reads_local(const char *src);

struct scan_record;

/*
 * Evaluate on a record that scan_record() accepted.  On EXPR_VALUE, *val
 * points into the record or into e's own scratch, valid until the next
 * call on e.
 */
enum expr_status expr_eval(struct expr *e, const struct scan_record *rec,
			   const char **val, size_t *vlen, char *err,
			   size_t errlen);

/* jq's truth of the JSON text v[0..n): all but false and null. */
bool expr_truthy(const char *v, size_t n);

/*
 * e as a condition: expr_eval, then *holds when the one value is not
 * false or null.  A program that gives several values ('a, b', which
 * expr_eval hands over as one array, truthy) is no condition: EXPR_ERROR
 * with "gave N values; ..." in err.  Otherwise *holds is false.
 */
enum expr_status expr_condition(struct expr *e, const struct scan_record *rec,
				const char **val, size_t *vlen, bool *holds,
				char *err, size_t errlen);

/*
 * How many values the last EXPR_VALUE of e was: 1, or more for a
 * program that yielded several (given as one array).  A condition, which
 * must be one true or false, refuses more than one.
 */
size_t expr_count(const struct expr *e);

/*
 * For a status other than EXPR_VALUE: the dead-letter error type
 * (missing_field, wrong_type, expression_error) and, in msg, the reason
 * as "missing WHAT SRC", "WHAT SRC produced no value" or "WHAT SRC: err".
 */
const char *expr_failure(const struct expr *e, enum expr_status st,
			 const char *what, const char *err, char *msg,
			 size_t msglen);

#endif
