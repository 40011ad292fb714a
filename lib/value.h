/*
 * value: keys compare by value, not spelling.
 *
 * The canonical form of a JSON value is a byte string such that two
 * values are equal (in jq's sense, but with exact numbers and times as
 * instants) exactly when their canonical forms are equal:
 *
 *   null 'n'   false 'f'   true 't'
 *   number  'd' sign digits 'e' exponent  -- the exact decimal with
 *           leading and trailing zeros stripped (1 = 1.0 = 1e0 = 10e-1;
 *           -0 = 0; 12345678901234567891 stays itself)
 *   time    'i' seconds(8 bytes BE, sign bit flipped) nanoseconds(4 BE)
 *           [digits] -- a string whose decoded text is an RFC 3339 time
 *           as time_instant_from_text() reads it (timefmt.h), at any
 *           offset: "2024-01-01T10:10:00+02:00" = "2024-01-01T08:10:00Z"
 *           = "2024-01-01t08:10:00.000z"; a leap second 23:59:60 is its
 *           own instant, after :59.  A fraction of any length: its
 *           digits past the ninth, up to the last non-zero one, follow
 *           as ASCII (none, so 13 bytes as ever, unless finer than a
 *           nanosecond); no type byte is a digit.  Never a member's
 *           name.
 *   string  's' length(8 bytes LE) decoded UTF-8 -- every other string
 *   array   'a' count(8) element...
 *   object  'o' count(8) (key-string value)... sorted by decoded key,
 *           a duplicated key keeping its last value
 *
 * The invariant, tested over generated pairs (tests/unit/test_value.c):
 *
 *   value_compare(a, b) == 0  <=>  value_canon(a) == value_canon(b)
 *   value_compare_jq(a, b) == 0
 *                       <=>  value_canon_as(VALUE_KEYS_TEXT, a) == ...(b)
 *
 * A fingerprint is XXH3-128 of the canonical form.  Keys are held as
 * fingerprints: 2^-64 odds of a collision per pair is below the odds of
 * the disk lying.  A state that holds fingerprints says in its format
 * version which form they are of: VALUE_KEYS_TEXT is the form before
 * times were instants, kept only to go on reading such states.
 */
#ifndef IDEM_VALUE_H
#define IDEM_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* How strings canonicalise and compare: times as instants (keys,
 * today), or every string as its text (jq's ==, Delta's string order,
 * and the states written before keys knew times). */
enum value_keys { VALUE_KEYS_INSTANT, VALUE_KEYS_TEXT };

struct fp128 {
	uint64_t lo;
	uint64_t hi;
};

/* The one order of fingerprints, hi then lo: every sort and search of
 * them uses it, so two lists of them sorted apart agree. */
static inline int value_fp_cmp(struct fp128 a, struct fp128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return (a.lo > b.lo) - (a.lo < b.lo);
}

/* Append the canonical form of the valid JSON value at p[0..n). */
void value_canon(struct buf *out, const char *p, size_t n);

void value_canon_as(struct buf *out, enum value_keys keys, const char *p,
		    size_t n);

/* Canonical form of several values as one array (for repeated -k). */
void value_canon_tuple(struct buf *out, const char *const *vals,
		       const size_t *lens, size_t count);
void value_canon_tuple_as(struct buf *out, enum value_keys keys,
			  const char *const *vals, const size_t *lens,
			  size_t count);

/* Append several values as one JSON array of them as spelled,
 * "[v1,v2]": the key a result shows for repeated -g/-k. */
void value_tuple_text(struct buf *out, const char *const *vals,
		      const size_t *lens, size_t count);

struct fp128 value_fp(const void *canon, size_t n);

/* A fingerprint as 32 lowercase hex digits, hi then lo (XXH128's
 * canonical spelling), and back: -1 unless s[0..n) is exactly that. */
void value_fp_hex(struct fp128 fp, char out[33]);
int value_fp_unhex(const char *s, size_t n, struct fp128 *fp);

/* XXH3-128 of the canonical form of the value at p[0..n). */
struct fp128 value_fingerprint(const char *p, size_t n, struct buf *scratch);
struct fp128 value_fingerprint_as(enum value_keys keys, const char *p,
				  size_t n, struct buf *scratch);

/*
 * The order of keys: jq's total order on valid JSON values, null < false
 * < true < numbers < strings < arrays < objects; numbers exactly, arrays
 * element-wise, objects by sorted keys then values; strings by code
 * point, except that times (see the top) compare as instants and come
 * before every other string.  0 exactly when the canonical forms are
 * equal.  <0, 0, >0.
 */
int value_compare(const char *a, size_t an, const char *b, size_t bn);
/* jq's order itself, every string by code point: what a jq program's
 * == and < say (dlq check's fast path must agree with libjq). */
int value_compare_jq(const char *a, size_t an, const char *b, size_t bn);
/* value_compare (INSTANT) or value_compare_jq (TEXT). */
int value_compare_keys(enum value_keys keys, const char *a, size_t an,
		       const char *b, size_t bn);
/* value_compare, and two values it finds equal by value_compare_jq: an
 * order on spellings, for output that must not depend on which of two
 * spellings of one key came first (0 only for jq-equal values). */
int value_compare_spelled(const char *a, size_t an, const char *b,
			  size_t bn);
/* A value's place in jq's type order, from its first byte: null 0,
 * false 1, true 2, numbers 3, strings 4, arrays 5, objects 6. */
int value_type_rank(char first);

/*
 * Compare two JSON number texts exactly (any length, any exponent).
 */
int value_number_compare(const char *a, size_t an, const char *b, size_t bn);

/*
 * The one comparison for values whose meaning is known (a column's type,
 * an --order-by over times).  VALUE_ORDER_JSON is value_compare_jq:
 * exact numbers, strings by code point (a string column's order, and its
 * Delta statistics).  VALUE_ORDER_INSTANT is value_compare: strings that
 * are RFC 3339 times compare as instants, so "2024-01-01T10:00:00+02:00"
 * (08:00Z) is before "2024-01-01T09:00:00Z".
 */
enum value_order { VALUE_ORDER_JSON, VALUE_ORDER_INSTANT };
int value_compare_as(enum value_order o, const char *a, size_t an,
		     const char *b, size_t bn);

#endif
