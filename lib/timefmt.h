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

#include <stddef.h>
#include <stdint.h>

enum time_unit { TIME_S, TIME_MS, TIME_US, TIME_NS };

#define TIME_STRMAX 40 /* "-YYYY-MM-DDTHH:MM:SS.fffffffffZ" and NUL */

/* 0, or -1 with *why (static text) set. */
int time_parse_rfc3339(const char *s, size_t n, int64_t *ns,
		       const char **why);
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

/* Wall clock now, as nanoseconds since the epoch. */
int64_t time_now(void);

int time_unit_parse(const char *s, enum time_unit *u);

/* 0, or -1 with *why set (syntax, unknown unit, overflow, negative). */
int duration_parse(const char *s, int64_t *ns, const char **why);
/* "1h30m", "500ms", "0s".  Returns length; buf needs 48 bytes. */
size_t duration_format(int64_t ns, char *buf);

#endif
