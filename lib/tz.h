/*
 * tz: local civil time in an IANA time zone, and calendar buckets (days,
 * weeks, months, years of that zone) bounded by the instants at which the
 * zone's calendar turns.
 *
 * The offsets come from the C library (localtime_r under TZ), which reads
 * the system's zoneinfo files (Debian: tzdata).  The process has one zone
 * at a time: tz_open sets it.  glibc silently takes a name it cannot find
 * for UTC, so tz_open first checks that the name is a TZif file under
 * $TZDIR (default /usr/share/zoneinfo).
 *
 * A bucket of local dates [D, D') holds the instants from the first one
 * whose local date reaches D to the first one whose local date reaches D'.
 * So a day is 23, 24 or 25 hours (23.5 or 24.5 on Lord Howe Island); a
 * skipped midnight (America/Sao_Paulo until 2019 began DST at 00:00)
 * starts the day at the transition; a skipped day (Pacific/Apia,
 * 2011-12-30) has no instants and so no bucket; and where a clock is set
 * back across midnight, the repeated minutes stay in the later day: a
 * bucket never goes back, so the buckets tile time.
 *
 * Assumption, true of every zone in tzdata: the offset does not change
 * twice within one hour.
 */
#ifndef IDEM_TZ_H
#define IDEM_TZ_H

#include <stddef.h>
#include <stdint.h>

enum tz_unit { TZ_DAY, TZ_WEEK, TZ_MONTH, TZ_YEAR };

/* N days, weeks, months or years.  Multiples align to the epoch's count
 * of them: days from 1970-01-01 (as fixed UTC days always did), weeks
 * from the week_start day before it, months from January of year 0 (so
 * 3mo are quarters), years from year 0 (so 10y are decades). */
struct tz_cal {
	enum tz_unit unit;
	int64_t n;
	int week_start; /* 0 Monday (ISO 8601) .. 6 Sunday */
	/* buckets found, by their first day (TZ_MEMO of them, allocated on
	 * first use; zeroed struct: none yet): finding one takes ~100 calls
	 * of localtime_r, a record in a known one takes one */
	struct tz_memo {
		int64_t day, start, end;
		int used;
	} *memo, *last; /* last: the bucket of the previous instant */
};

#define TZ_MEMO 4096 /* 11 years of days in any order */

#define TZ_CAL_MAX 100000 /* largest N accepted */
#define TZ_STRMAX 48      /* RFC 3339 with offset, and NUL */

/* "1d", "2w", "1mo", "10y": 0, or -1 when s is not N followed by one of
 * d, w, mo, y with 1 <= N <= TZ_CAL_MAX. */
int tz_cal_parse(const char *s, struct tz_cal *c);
/* "mon".."sun" or "monday".."sunday": 0..6, or -1. */
int tz_weekday_parse(const char *s);

/* Make NAME (an IANA name: "Europe/Berlin", "UTC") the process's zone.
 * 0, or -1 with err set (unknown name, not a zone file), or -2 with err
 * set, naming the zone to use, for a zone whose clock counts leap
 * seconds ("right/UTC"), which POSIX instants cannot be read in. */
int tz_open(const char *name, char *err, size_t errlen);

/*
 * Whether the environment's TZ names a zone the C library reads as it
 * is meant: unset or empty (the system's zone, UTC), a zoneinfo file
 * (":America/New_York", "Europe/Paris", an absolute path) or a whole
 * POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30").  glibc
 * reads anything else ("Bogus/Zone", "America/New_Yrok", "CET-1CEST,x")
 * as UTC, or a part of it, without a word.  0, or -1 with err set; -2
 * with err set for a zone whose clock counts leap seconds ("right/UTC").
 */
int tz_env_check(char *err, size_t errlen);

/* The zone this process reads local time in, as the C library finds
 * it: TZ (a zoneinfo path as its name under the zone folder, ":" and ""
 * as UTC), else the zone /etc/localtime links to ("Europe/Berlin"), else
 * "/etc/localtime" or, without one, "UTC"; a link's target's name
 * (tz_canonical).  Static storage. */
const char *tz_local_name(void);
/* A zone's name as the file it names is called in the zone folder:
 * a link's target ("UTC" and "Zulu" are "Etc/UTC", "US/Eastern" is
 * "America/New_York"), so that one zone has one name; name itself when
 * it is no file there (a POSIX TZ string, an absolute path).  The
 * result is name or buf. */
const char *tz_canonical(const char *name, char *buf, size_t len);

/* The zone names under the zone folder, two levels deep ("UTC",
 * "Europe/Berlin"), for a "did you mean": a NULL-terminated array that
 * tz_names_free frees. */
char **tz_names(void);
void tz_names_free(char **names);

/* Seconds east of UTC at the instant sec (seconds since the epoch). */
int32_t tz_offset(int64_t sec);

/* The bucket holding the instant sec: [*start, *end) in seconds. */
void tz_bucket(struct tz_cal *c, int64_t sec, int64_t *start, int64_t *end);

/* ns as RFC 3339 in the zone's local time with its offset
 * ("2024-03-31T03:00:00+02:00"); an offset with seconds (local mean time
 * before 1900) is not RFC 3339, so such an instant is written in UTC with
 * 'Z'.  Returns the length; buf needs TZ_STRMAX bytes. */
size_t tz_format(int64_t ns, char *buf);

#endif
