/*
 * timefmt: event times and durations, held as int64 nanoseconds since
 * the Unix epoch (UTC), which spans the years 1678 to 2262.
 *
 * An event time is an RFC 3339 string ("2024-05-01T12:00:00.250+02:00";
 * 't', 'z' and a space for 'T' accepted, as RFC 3339 allows) or a JSON
 * number of epoch units, fractions allowed ("1714557600.25" in seconds).
 * Conversions are exact: no binary floating point anywhere.
 *
 * A duration is one or more NUMBER UNIT pairs: "500ms", "90s", "10m",
 * "2h", "7d", "1h30m", with units ns us ms s m h d.
 */
#ifndef IDEM_TIMEFMT_H
#define IDEM_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum time_unit { TIME_S, TIME_MS, TIME_US, TIME_NS };

#define TIME_STRMAX 40 /* "-YYYY-MM-DDTHH:MM:SS.fffffffffZ" and NUL */

/* 0, or -1 with *why (static text) set. */
int time_parse_rfc3339(const char *s, size_t n, int64_t *ns,
		       const char **why);
/*
 * An instant on the calendar, for values (a timestamp column, a --where
 * literal) that need years 0000-9999 rather than int64 nanoseconds'
 * 1677-2262: seconds since the epoch and 0 <= nsec < 1e9 (up to 2e9 for
 * a leap second, from time_instant_from_text() only).
 */
struct instant {
	int64_t sec;
	int32_t nsec;
};

/* RFC 3339 exactly, as time_parse_rfc3339, into an instant. */
int time_parse_instant(const char *s, size_t n, struct instant *t,
		       const char **why);
/* What people type: RFC 3339, or a date ("2024-01-01", midnight), a
 * time without seconds, 'T' or a space, and no zone at all (*zoned
 * false; the caller says what that means -- txlog reads it as UTC). */
int time_parse_loose(const char *s, size_t n, struct instant *t,
		     bool *zoned, const char **why);
/* A JSON string holding an RFC 3339 time. */
int time_instant_from_json(const char *json, size_t n, struct instant *t,
			   const char **why);
/*
 * The same for a string already decoded: the texts value.h compares and
 * canonicalises as instants.  Strict RFC 3339 of TIME_TEXT_MIN bytes or
 * more, a fraction of any length.  0, or -1.  The one parser that takes
 * a leap second (23:59:60 UTC): its instant is the :59 second with nsec
 * 1e9 + the fraction, so it orders between :59 and the next :00 and
 * equals only itself.  With finer NULL, a time finer than a nanosecond
 * is refused; otherwise it is read, and *finer, *finer_n are the
 * fraction's digits past the ninth up to its last non-zero one (within
 * s; *finer_n 0 when there are none), the instant being t plus them.
 * TIME_TEXT_MAX bounds a stored timestamp (time_instant_from_json),
 * not this.
 */
#define TIME_TEXT_MIN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define TIME_TEXT_MAX 64
int time_instant_from_text(const char *s, size_t n, struct instant *t,
			   const char **finer, size_t *finer_n);
/* A real calendar date YYYY-MM-DD (no 2024-02-30), as days since the
 * epoch. */
int time_parse_date(const char *s, size_t n, int64_t *days,
		    const char **why);
int time_instant_cmp(const struct instant *a, const struct instant *b);
/* Round to a multiple of unit_ns (which divides 1e9): down, or up. */
void time_instant_trunc(struct instant *t, int32_t unit_ns, bool up);

enum time_style {
	TIME_STYLE_RFC3339,   /* 2024-01-01T08:00:00.25Z: shortest fraction */
	TIME_STYLE_MILLIS,    /* 2024-01-01T08:00:00.000Z: Delta's stats */
	TIME_STYLE_PARTITION  /* 2024-01-01 08:00:00[.ffffff]: UTC, Delta's
			       * timestamp partition value */
};
/* Returns the length; buf needs TIME_STRMAX bytes.  A leap second's
 * instant (nsec 1e9 and up) is written back as 23:59:60. */
size_t time_format_instant(const struct instant *t, enum time_style style,
			   char *buf);

int time_from_number(const char *num, size_t n, enum time_unit unit,
		     int64_t *ns, const char **why);

/* The value at json[0..n): a string is RFC 3339, a number is epoch
 * units; anything else is an error. */
int time_from_json(const char *json, size_t n, enum time_unit unit,
		   int64_t *ns, const char **why);

/* "2024-05-01T10:00:00Z", with ".25" / ".000001" style fractions only
 * when non-zero (shortest of 3, 6 or 9 digits).  Returns length; buf
 * needs TIME_STRMAX bytes. */
size_t time_format(int64_t ns, char *buf);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m in
 * 1..12, d in 1..31), and back. */
int64_t time_days_from_civil(int64_t y, int m, int d);
void time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Wall clock now, as nanoseconds since the epoch. */
int64_t time_now(void);

int time_unit_parse(const char *s, enum time_unit *u);

/* 0, or -1 with *why set (syntax, unknown unit, overflow, negative). */
int duration_parse(const char *s, int64_t *ns, const char **why);
/* "1h30m", "500ms", "0s".  Returns length; buf needs 48 bytes. */
size_t duration_format(int64_t ns, char *buf);

#endif
