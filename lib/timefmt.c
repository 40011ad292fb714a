/*
 * timefmt: RFC 3339 and epoch numbers to int64 nanoseconds, and back.
 *
 * Calendar arithmetic is Howard Hinnant's days_from_civil and
 * civil_from_days (proleptic Gregorian, valid for any year), so nothing
 * depends on TZ, timegm or the width of time_t.  Every conversion is
 * integer arithmetic with overflow checks: a value that cannot be held
 * exactly is refused with a reason, never rounded.
 *
 * Two choices worth knowing:
 *   - A leap second, "23:59:60" UTC on a month's last day (05:29:60+05:30
 *     too), names an instant POSIX time has no slot for: read as the
 *     next minute's :00 it would be a second that instant is not, and
 *     fall in the next day's window.  So an event time (int64
 *     nanoseconds), a stored timestamp and a --where literal refuse it,
 *     saying why; only time_instant_from_text(), which compares strings
 *     as the instants they name, holds it, as nsec 1e9 and up past the
 *     :59 second: after 23:59:59.999999999, before the next :00, equal
 *     to itself at any offset.  A :60 anywhere else names nothing.
 *   - A time finer than a nanosecond ("1.0000000001" seconds, or
 *     ":00.0000000001Z") is refused rather than truncated: silently
 *     moving an event is worse than asking for a coarser input.  Any
 *     number of fractional digits is read when those past the ninth are
 *     zeros.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, when built alone */
#endif

#include "timefmt.h"

#include "decimal.h"
#include "scan.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define NS_PER_MIN (60 * NS_PER_S)
#define NS_PER_HOUR (60 * NS_PER_MIN)
#define NS_PER_DAY (24 * NS_PER_HOUR)
#define SEC_PER_DAY 86400LL

static const char why_rfc3339[] = "not an RFC 3339 time";
static const char why_number[] = "not a JSON number";
static const char why_range[] = "out of range";
static const char why_finer[] = "finer than a nanosecond";
static const char why_leap[] = "a leap second (23:59:60 UTC), which idem's "
			       "times cannot hold: POSIX time has no slot "
			       "for it, and the next :00 is another instant";

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly `width` decimal digits at s. */
static int fixed_digits(const char *s, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int64_t time_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* secs * 1e9 + frac (0 <= frac < 1e9) without overflowing on the way
 * when only the sum fits: just above INT64_MIN, secs * 1e9 alone does
 * not. */
static int seconds_to_ns(int64_t secs, int64_t frac, int64_t *ns)
{
	if (secs < 0 && frac > 0) {
		secs++;
		frac -= NS_PER_S;
	}
	int64_t v;
	if (__builtin_mul_overflow(secs, NS_PER_S, &v) ||
	    __builtin_add_overflow(v, frac, &v))
		return -1;
	*ns = v;
	return 0;
}

/*
 * The calendar time at s[0..n) as seconds and nanoseconds since the
 * epoch.  Strict: RFC 3339 exactly.  Loose (what people type in a
 * --where): also a bare date, a time without seconds, and no zone at
 * all, which *zoned reports.  Years 0000-9999 only, so the seconds stay
 * within +-3.2e11 and nothing here can overflow.
 */
static int parse_calendar(const char *s, size_t n, bool loose, bool leap,
			  struct instant *t, bool *zoned, const char **why,
			  const char **finer_at, size_t *finer_n)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	*why = why_rfc3339;
	if (n < 10 || fixed_digits(s, 4, &y) != 0 || s[4] != '-' ||
	    fixed_digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
	    fixed_digits(s + 8, 2, &d) != 0)
		return -1;
	size_t i = 10;
	if (!(loose && n == 10)) {
		if (n < 16 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		    fixed_digits(s + 11, 2, &h) != 0 || s[13] != ':' ||
		    fixed_digits(s + 14, 2, &mi) != 0)
			return -1;
		i = 16;
		if (i < n && s[i] == ':') {
			if (n - i < 3 || fixed_digits(s + 17, 2, &sec) != 0)
				return -1;
			i = 19;
		} else if (!loose) {
			return -1;
		}
	}
	int64_t frac = 0;
	const char *past = NULL; /* the digits past the 9th ... */
	size_t npast = 0;        /* ... up to the last non-zero one */
	if (finer_n)
		*finer_n = 0;
	if (i == 19 && i < n && s[i] == '.') {
		size_t k = 0;
		for (i++; i < n && is_digit(s[i]); i++, k++)
			if (k < 9)
				frac = frac * 10 + (s[i] - '0');
			else if (k == 9)
				past = s + i;
		if (k == 0)
			return -1;
		for (size_t q = past ? (size_t)(s + i - past) : 0; q; q--)
			if (past[q - 1] != '0') {
				npast = q;
				break;
			}
		/* Any precision names an instant exactly when what lies
		 * past the nanosecond is zeros (".1234567890" is .123456789);
		 * anything else would be truncated, so it is refused, as
		 * epoch numbers are, unless the caller takes those digits
		 * (finer_at: a string compared as the instant it names). */
		if (npast && !finer_n) {
			*why = why_finer;
			return -1;
		}
		for (; k < 9; k++)
			frac *= 10;
	}
	int64_t offset = 0;
	*zoned = true;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-') && n > 10) {
		int oh, om;
		if (n - i < 6 || fixed_digits(s + i + 1, 2, &oh) != 0 ||
		    s[i + 3] != ':' || fixed_digits(s + i + 4, 2, &om) != 0)
			return -1;
		if (oh > 23 || om > 59) {
			*why = "time zone offset out of range";
			return -1;
		}
		offset = (oh * 60 + om) * 60;
		if (s[i] == '-')
			offset = -offset;
		i += 6;
	} else if (i == n && loose) {
		*zoned = false;
	} else {
		*why = i < n ? why_rfc3339 : "missing time zone (Z or +HH:MM)";
		return -1;
	}
	if (i != n)
		return -1;
	if (mo < 1 || mo > 12) {
		*why = "month out of range";
		return -1;
	}
	if (d < 1 || d > days_in_month(y, mo)) {
		*why = "day out of range";
		return -1;
	}
	if (h > 23) {
		*why = "hour out of range";
		return -1;
	}
	if (mi > 59) {
		*why = "minute out of range";
		return -1;
	}
	if (sec > 60) { /* 60: a leap second, see the top of the file */
		*why = "second out of range";
		return -1;
	}
	t->sec = time_days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600 +
		 mi * 60 + sec - offset;
	if (sec == 60) {
		/* A leap second ends a UTC month (RFC 3339, 5.7: 23:59:60Z,
		 * 05:29:60+05:30); a :60 anywhere else names no instant. */
		int64_t before = t->sec - 1; /* its 23:59:59Z */
		int64_t days = before / SEC_PER_DAY;
		int64_t sod = before % SEC_PER_DAY;
		if (sod < 0) {
			sod += SEC_PER_DAY;
			days--;
		}
		int64_t uy;
		int um, ud;
		time_civil_from_days(days, &uy, &um, &ud);
		if (sod != SEC_PER_DAY - 1 || ud != days_in_month(uy, um)) {
			*why = "second 60 is not a leap second (23:59:60 "
			       "UTC at the end of a month)";
			return -1;
		}
		if (!leap) {
			*why = why_leap;
			return -1;
		}
		t->sec = before;
		t->nsec = (int32_t)(NS_PER_S + frac);
	} else {
		t->nsec = (int32_t)frac;
	}
	if (finer_n) {
		*finer_at = past;
		*finer_n = npast;
	}
	return 0;
}

int time_parse_instant(const char *s, size_t n, struct instant *t,
		       const char **why)
{
	bool zoned;
	return parse_calendar(s, n, false, false, t, &zoned, why, NULL, NULL);
}

int time_parse_loose(const char *s, size_t n, struct instant *t,
		     bool *zoned, const char **why)
{
	return parse_calendar(s, n, true, false, t, zoned, why, NULL, NULL);
}

int time_parse_date(const char *s, size_t n, int64_t *days, const char **why)
{
	int y, mo, d;
	if (n != 10 || fixed_digits(s, 4, &y) != 0 || s[4] != '-' ||
	    fixed_digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
	    fixed_digits(s + 8, 2, &d) != 0) {
		*why = "not a date YYYY-MM-DD";
		return -1;
	}
	if (mo < 1 || mo > 12) {
		*why = "month out of range";
		return -1;
	}
	if (d < 1 || d > days_in_month(y, mo)) {
		*why = "day out of range";
		return -1;
	}
	*days = time_days_from_civil(y, mo, d);
	return 0;
}

int time_parse_rfc3339(const char *s, size_t n, int64_t *ns,
		       const char **why)
{
	struct instant t;
	if (time_parse_instant(s, n, &t, why) != 0)
		return -1;
	if (seconds_to_ns(t.sec, t.nsec, ns) != 0) {
		*why = why_range;
		return -1;
	}
	return 0;
}

int time_instant_cmp(const struct instant *a, const struct instant *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

void time_instant_trunc(struct instant *t, int32_t unit_ns, bool up)
{
	int32_t r = t->nsec % unit_ns;
	t->nsec -= r;
	if (up && r) {
		t->nsec += unit_ns;
		if (t->nsec >= NS_PER_S) {
			t->nsec -= (int32_t)NS_PER_S;
			t->sec++;
		}
	}
}

static int unit_digits(enum time_unit unit)
{
	switch (unit) {
	case TIME_S:
		return 9;
	case TIME_MS:
		return 6;
	case TIME_US:
		return 3;
	case TIME_NS:
		return 0;
	}
	return -1;
}

/*
 * Where the leading digit of the non-zero JSON number num[0..n) stands:
 * 10^(k-1) <= |num| < 10^k.  An exponent of more than 18 digits counts
 * as +-10^18, which is as far from any int64 as its whole value.
 */
static int64_t leading_digit(const char *num, size_t n)
{
	size_t i = num[0] == '-';
	int64_t k = 0, e = 0;
	while (i < n && num[i] == '0')
		i++;
	for (; i < n && is_digit(num[i]); i++)
		k++;
	if (i < n && num[i] == '.' && k == 0) /* 0.00ddd: k <= 0 */
		for (i++; i < n && num[i] == '0'; i++)
			k--;
	while (i < n && num[i] != 'e' && num[i] != 'E')
		i++;
	if (i < n) {
		bool neg = num[++i] == '-';
		i += num[i] == '-' || num[i] == '+';
		while (i < n && num[i] == '0')
			i++;
		if (n - i > 18)
			return neg ? -1000000000000000000LL
				   : 1000000000000000000LL;
		for (; i < n; i++)
			e = e * 10 + (num[i] - '0');
		k += neg ? -e : e;
	}
	return k;
}

/*
 * The number is D * 10^(E - fraction digits) units, and a unit is
 * 10^unit_digits ns.  With D's trailing zeros folded into the exponent
 * the value is a whole number of ns exactly when that exponent is not
 * negative, so no fraction arithmetic is needed at all.
 */
int time_from_number(const char *num, size_t n, enum time_unit unit,
		     int64_t *ns, const char **why)
{
	int udigits = unit_digits(unit);
	if (udigits < 0) {
		*why = "unknown time unit";
		return -1;
	}
	/* The number's exact digits come from dec_parse; a valid JSON
	 * number it cannot hold (over 38 digits, a huge exponent) is far
	 * outside the years int64 nanoseconds span. */
	struct dec d;
	if (n == 0 || (num[0] != '-' && !is_digit(num[0])) ||
	    !is_digit(num[n - 1]) || scan_validate(num, n, NULL) != 0) {
		*why = why_number;
		return -1;
	}
	if (dec_parse(num, n, &d) != 0) {
		/* Too many digits or too large an exponent: huge when its
		 * leading digit is past int64's 19 digits of nanoseconds,
		 * else it has digits finer than one. */
		*why = leading_digit(num, n) + udigits > 19 ? why_range
							    : why_finer;
		return -1;
	}
	d = dec_normalize(d);
	if (d.coef == 0) {
		*ns = 0;
		return 0;
	}
	int64_t scale = (int64_t)d.exp + udigits;
	if (scale < 0) {
		*why = why_finer;
		return -1;
	}
	__int128 v = d.coef;
	/* Check before each step: 38 digits times 10 overflows even
	 * __int128. */
	for (int64_t k = 0; k < scale; k++) {
		if (v > INT64_MAX || v < INT64_MIN) {
			*why = why_range;
			return -1;
		}
		v *= 10;
	}
	if (v > INT64_MAX || v < INT64_MIN) {
		*why = why_range;
		return -1;
	}
	*ns = (int64_t)v;
	return 0;
}

/* A decoded time string longer than this is not read as one. */
#define TIME_JSON_MAX TIME_TEXT_MAX

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the JSON string at s[0..n) (quotes included) into out, of cap
 * bytes.  Only ASCII can be part of an RFC 3339 time, so \u escapes
 * beyond it are reported as not a time (-1) rather than decoded; -2 when
 * it is longer than cap.
 */
static int json_string_ascii(const char *s, size_t n, char *out, size_t cap,
			     size_t *out_len)
{
	size_t len = 0;
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	for (size_t i = 1; i < n - 1; i++) {
		char c = s[i];
		if (c == '"')
			return -1;
		if (c == '\\') {
			if (++i >= n - 1)
				return -1;
			switch (s[i]) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int cp = 0;
				if (n - 1 - i < 5)
					return -1;
				for (int k = 1; k <= 4; k++) {
					int h = hex_value(s[i + (size_t)k]);
					if (h < 0)
						return -1;
					cp = cp * 16 + h;
				}
				if (cp == 0 || cp > 0x7f)
					return -1;
				c = (char)cp;
				i += 4;
				break;
			}
			default:
				return -1;
			}
		}
		if (len == cap)
			return -2;
		out[len++] = c;
	}
	*out_len = len;
	return 0;
}

int time_from_json(const char *json, size_t n, enum time_unit unit,
		   int64_t *ns, const char **why)
{
	if (n > 0 && json[0] == '"') {
		char text[TIME_JSON_MAX];
		size_t len;
		int rc = json_string_ascii(json, n, text, sizeof text, &len);
		if (rc == -2) {
			/* a fraction of any length, as idem(7) says: a time
			 * as a key or a column is text past 64 bytes, while
			 * an event time is only ever this instant */
			char *long_text = xmalloc(n);
			if (json_string_ascii(json, n, long_text, n, &len) == 0)
				rc = time_parse_rfc3339(long_text, len, ns, why);
			else
				*why = why_rfc3339;
			free(long_text);
			return rc == 0 ? 0 : -1;
		}
		if (rc != 0) {
			*why = why_rfc3339;
			return -1;
		}
		return time_parse_rfc3339(text, len, ns, why);
	}
	if (n > 0 && (json[0] == '-' || is_digit(json[0])))
		return time_from_number(json, n, unit, ns, why);
	*why = "must be an RFC 3339 string or a number";
	return -1;
}

int time_instant_from_json(const char *json, size_t n, struct instant *t,
			   const char **why)
{
	char text[TIME_JSON_MAX];
	size_t len;
	int rc = n && json[0] == '"'
			 ? json_string_ascii(json, n, text, sizeof text, &len)
			 : -1;
	if (rc != 0) {
		/* a stored time is at most TIME_TEXT_MAX bytes: no time
		 * needs more unless finer than a nanosecond, which no
		 * timestamp holds */
		*why = rc == -2 ? "longer than 64 bytes, which no time needs "
				  "(a fraction's digits past the ninth must "
				  "be zeros: drop them)"
				: why_rfc3339;
		return -1;
	}
	return time_parse_instant(text, len, t, why);
}

int time_instant_from_text(const char *s, size_t n, struct instant *t,
			   const char **finer, size_t *finer_n)
{
	const char *why;
	bool zoned;
	if (n < TIME_TEXT_MIN || !is_digit(s[0]))
		return -1;
	return parse_calendar(s, n, false, true, t, &zoned, &why, finer,
			      finer_n);
}

static char *put_fixed(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

size_t time_format(int64_t ns, char *buf)
{
	/* Floor division: -1 ns is 1969-12-31T23:59:59.999999999Z. */
	struct instant t = {.sec = ns / NS_PER_S, .nsec = ns % NS_PER_S};
	if (t.nsec < 0) {
		t.nsec += NS_PER_S;
		t.sec--;
	}
	return time_format_instant(&t, TIME_STYLE_RFC3339, buf);
}

size_t time_format_instant(const struct instant *t, enum time_style style,
			   char *buf)
{
	int64_t days = t->sec / SEC_PER_DAY, sod = t->sec % SEC_PER_DAY;
	if (sod < 0) {
		sod += SEC_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	time_civil_from_days(days, &y, &m, &d);
	char *p = buf;
	if (y < 0 || y > 9999) { /* not from a parse: keep the sign */
		*p++ = y < 0 ? '-' : '+';
		y = y < 0 ? -y : y;
		p = put_fixed(p, y, y > 9999 ? 6 : 4);
	} else {
		p = put_fixed(p, y, 4);
	}
	*p++ = '-';
	p = put_fixed(p, m, 2);
	*p++ = '-';
	p = put_fixed(p, d, 2);
	*p++ = style == TIME_STYLE_PARTITION ? ' ' : 'T';
	p = put_fixed(p, sod / 3600, 2);
	*p++ = ':';
	p = put_fixed(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_fixed(p, sod % 60, 2);
	int64_t frac = t->nsec;
	if (frac >= NS_PER_S) { /* a leap second: its :59 second, + 1 s */
		p[-2] = '6';
		p[-1] = '0';
		frac -= NS_PER_S;
	}
	if (frac != 0 || style == TIME_STYLE_MILLIS) {
		*p++ = '.';
		if (frac % NS_PER_MS == 0 && style != TIME_STYLE_PARTITION)
			p = put_fixed(p, frac / NS_PER_MS, 3);
		else if (frac % NS_PER_US == 0)
			p = put_fixed(p, frac / NS_PER_US, 6);
		else
			p = put_fixed(p, frac, 9);
	}
	if (style != TIME_STYLE_PARTITION)
		*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

int64_t time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int time_unit_parse(const char *s, enum time_unit *u)
{
	static const struct {
		const char *name;
		enum time_unit unit;
	} units[] = {
		{"s", TIME_S},
		{"ms", TIME_MS},
		{"us", TIME_US},
		{"ns", TIME_NS},
	};
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (strcmp(s, units[i].name) == 0) {
			*u = units[i].unit;
			return 0;
		}
	return -1;
}

static const struct duration_unit {
	const char *name;
	int64_t ns;
} duration_units[] = {
	{"d", NS_PER_DAY}, {"h", NS_PER_HOUR}, {"m", NS_PER_MIN},
	{"s", NS_PER_S},   {"ms", NS_PER_MS},  {"us", NS_PER_US},
	{"ns", 1},
};

#define N_DURATION_UNITS (sizeof duration_units / sizeof *duration_units)

static const char why_too_large[] = "duration too large";

/*
 * One NUMBER UNIT pair at s: the unit is the whole run of characters up
 * to the next digit, so "ms" is never read as "m" and "1hr" is an
 * unknown unit rather than an hour followed by garbage.
 */
static const char *duration_pair(const char *s, int64_t *ns, size_t *unit_ix,
				 const char **why)
{
	uint64_t whole = 0;
	const char *p = s;
	if (!is_digit(*p)) {
		*why = "expected a number, as in 90s or 1h30m";
		return NULL;
	}
	for (; is_digit(*p); p++) {
		uint64_t digit = (uint64_t)(*p - '0');
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, digit, &whole)) {
			*why = why_too_large;
			return NULL;
		}
	}
	const char *frac = NULL, *frac_end = NULL;
	if (*p == '.') {
		frac = ++p;
		while (is_digit(*p))
			p++;
		frac_end = p;
		if (frac == frac_end) {
			*why = "expected a digit after the decimal point";
			return NULL;
		}
	}
	const char *unit = p;
	while (*p != '\0' && !is_digit(*p) && *p != '.')
		p++;
	size_t unit_len = (size_t)(p - unit);
	if (unit_len == 0) {
		*why = "missing unit (ns, us, ms, s, m, h, d)";
		return NULL;
	}
	const struct duration_unit *u = NULL;
	for (size_t i = 0; i < N_DURATION_UNITS; i++)
		if (strlen(duration_units[i].name) == unit_len &&
		    memcmp(duration_units[i].name, unit, unit_len) == 0)
			u = &duration_units[i];
	if (u == NULL) {
		*why = "unknown unit (use ns, us, ms, s, m, h, d)";
		return NULL;
	}

	int64_t v;
	if (whole > INT64_MAX ||
	    __builtin_mul_overflow((int64_t)whole, u->ns, &v)) {
		*why = why_too_large;
		return NULL;
	}
	if (frac != NULL) {
		/* f / 10^k of a unit must be whole ns; the longest unit
		 * (a day, 2^16 * 3^3 * 5^11 ns) allows at most 16 digits. */
		while (frac_end > frac && frac_end[-1] == '0')
			frac_end--;
		size_t k = (size_t)(frac_end - frac);
		if (k > 19) {
			*why = "finer than a nanosecond";
			return NULL;
		}
		uint64_t f = 0, pow = 1;
		for (const char *q = frac; q < frac_end; q++) {
			f = f * 10 + (uint64_t)(*q - '0');
			pow *= 10;
		}
		unsigned __int128 part = (unsigned __int128)f * (uint64_t)u->ns;
		if (part % pow != 0) {
			*why = "finer than a nanosecond";
			return NULL;
		}
		/* part / pow < one unit, so it fits */
		if (__builtin_add_overflow(v, (int64_t)(part / pow), &v)) {
			*why = why_too_large;
			return NULL;
		}
	}
	*ns = v;
	*unit_ix = (size_t)(u - duration_units);
	return p;
}

int duration_parse(const char *s, int64_t *ns, const char **why)
{
	if (s == NULL || *s == '\0') {
		*why = "empty duration";
		return -1;
	}
	if (*s == '-') {
		*why = "negative duration";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	int64_t total = 0;
	unsigned seen = 0; /* bit per unit */
	while (*s != '\0') {
		int64_t v;
		size_t ix;
		s = duration_pair(s, &v, &ix, why);
		if (s == NULL)
			return -1;
		/* "1h1h" is a typo more often than 2h: each unit once. */
		if (seen & (1u << ix)) {
			*why = "a unit given twice (write each once, as in "
			       "1h30m)";
			return -1;
		}
		seen |= 1u << ix;
		if (__builtin_add_overflow(total, v, &total)) {
			*why = why_too_large;
			return -1;
		}
	}
	*ns = total;
	return 0;
}

/* Every non-zero unit from days down, so "1d1h1m1s1ms" reads back as
 * the same value; the sub-second part is never written as a fraction. */
size_t duration_format(int64_t ns, char *buf)
{
	char *p = buf;
	if (ns == 0) {
		memcpy(buf, "0s", 3);
		return 2;
	}
	/* Not a duration_parse input, but printed rather than garbled. */
	uint64_t rest = (uint64_t)ns;
	if (ns < 0) {
		*p++ = '-';
		rest = 0 - rest;
	}
	for (size_t i = 0; i < N_DURATION_UNITS; i++) {
		uint64_t unit = (uint64_t)duration_units[i].ns;
		uint64_t count = rest / unit;
		if (count == 0)
			continue;
		rest %= unit;
		char tmp[24];
		int len = 0;
		do {
			tmp[len++] = (char)('0' + count % 10);
			count /= 10;
		} while (count != 0);
		while (len > 0)
			*p++ = tmp[--len];
		size_t name_len = strlen(duration_units[i].name);
		memcpy(p, duration_units[i].name, name_len);
		p += name_len;
	}
	*p = '\0';
	return (size_t)(p - buf);
}
