#include "tz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timefmt.h"
#include "xalloc.h"

#define DAY 86400LL

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int tz_cal_parse(const char *s, struct tz_cal *c)
{
	int64_t n = 0;
	const char *p = s;
	if (*p < '1' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n > TZ_CAL_MAX)
			return -1;
	}
	if (!strcmp(p, "d"))
		c->unit = TZ_DAY;
	else if (!strcmp(p, "w"))
		c->unit = TZ_WEEK;
	else if (!strcmp(p, "mo"))
		c->unit = TZ_MONTH;
	else if (!strcmp(p, "y"))
		c->unit = TZ_YEAR;
	else
		return -1;
	c->n = n;
	return 0;
}

int tz_weekday_parse(const char *s)
{
	static const char *days[] = {"monday", "tuesday", "wednesday",
				     "thursday", "friday", "saturday",
				     "sunday"};
	for (int i = 0; i < 7; i++)
		if (!strcmp(s, days[i]) ||
		    (strlen(s) == 3 && !strncmp(s, days[i], 3)))
			return i;
	return -1;
}

static const char *zone_dir(void)
{
	const char *dir = getenv("TZDIR");
	return dir && *dir ? dir : "/usr/share/zoneinfo";
}

struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *nm, const char *prefix, const char *name)
{
	nm->v = xgrow(nm->v, &nm->cap, nm->n + 1, sizeof *nm->v, 256);
	size_t len = strlen(prefix) + strlen(name) + 2;
	char *s = xmalloc(len);
	snprintf(s, len, "%s%s%s", prefix, *prefix ? "/" : "", name);
	nm->v[nm->n++] = s;
	nm->v[nm->n] = NULL;
}

static void names_walk(struct names *nm, const char *dir, const char *prefix,
		       int depth)
{
	char path[4096];
	snprintf(path, sizeof path, "%s%s%s", dir, *prefix ? "/" : "", prefix);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || e->d_name[0] < 'A' ||
		    e->d_name[0] > 'Z')
			continue; /* zone names start upper-case */
		if (e->d_type == DT_DIR) {
			if (depth > 0) {
				char sub[4096];
				snprintf(sub, sizeof sub, "%s%s%s", prefix,
					 *prefix ? "/" : "", e->d_name);
				names_walk(nm, dir, sub, depth - 1);
			}
		} else if (!strchr(e->d_name, '.')) {
			names_add(nm, prefix, e->d_name);
		}
	}
	closedir(d);
}

char **tz_names(void)
{
	struct names nm = {0};
	names_walk(&nm, zone_dir(), "", 1);
	if (!nm.v) {
		nm.v = xmalloc(sizeof *nm.v);
		nm.v[0] = NULL;
	}
	return nm.v;
}

void tz_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

/* An IANA name: letters, digits, '_', '-', '+', '/' between parts; no
 * leading '/', no "." or ".." part, so it names a file under the zone
 * folder and nothing outside it. */
static bool name_ok(const char *name)
{
	if (!*name || *name == '/' || strlen(name) > 200)
		return false;
	for (const char *p = name; *p; p++) {
		char ch = *p;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '+' || ch == '/' || ch == '.'))
			return false;
		if (ch == '.' && (p == name || p[-1] == '/'))
			return false;
	}
	return name[strlen(name) - 1] != '/';
}

/* Whether the TZif file f has leap second records: 1, 0, or -1 when it
 * is no TZif file.  The version 1 header and data come first, then
 * (version 2 on) a second header for 64-bit data; a "slim" file (zic -b
 * slim) leaves the first with no counts at all, so both are read.  A
 * header: magic, version, 15 reserved bytes, then six big-endian counts
 * (UT indicators, standard/wall indicators, leap seconds, transitions,
 * types, abbreviation bytes). */
static int tzif_leaps(FILE *f)
{
	unsigned char h[44];
	if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, "TZif", 4) != 0)
		return -1;
	uint32_t c[6];
	for (int i = 0; i < 6; i++)
		c[i] = (uint32_t)h[20 + 4 * i] << 24 |
		       (uint32_t)h[21 + 4 * i] << 16 |
		       (uint32_t)h[22 + 4 * i] << 8 | h[23 + 4 * i];
	if (c[2] || h[4] < '2')
		return c[2] != 0;
	/* version 1 data: 4-byte transition times and their type indices,
	 * 6-byte types, the abbreviations, 8-byte leap records, and the
	 * two indicator arrays */
	long skip = (long)c[3] * 5 + (long)c[4] * 6 + (long)c[5] +
		    (long)c[2] * 8 + (long)c[1] + (long)c[0];
	if (fseek(f, skip, SEEK_CUR) != 0 ||
	    fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, "TZif", 4) != 0)
		return -1;
	return (h[28] | h[29] | h[30] | h[31]) != 0;
}

int tz_open(const char *name, char *err, size_t errlen)
{
	const char *dir = zone_dir();
	if (!name_ok(name)) {
		snprintf(err, errlen, "'%s' is not a time zone name (want an "
			 "IANA name such as Europe/Berlin or UTC)", name);
		return -1;
	}
	/* TZ=":FILE" with a relative FILE is looked up under $TZDIR by the
	 * C library, so a relative TZDIR would be read twice over ("d/d/
	 * Europe/Berlin"), not found, and taken for UTC without a word:
	 * the file checked here must be the one the C library reads */
	char cwd[4096] = "", path[2 * 4096 + 16];
	if (dir[0] != '/' && !getcwd(cwd, sizeof cwd)) {
		snprintf(err, errlen, "time zone folder %s: getcwd: %s", dir,
			 strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(path, sizeof path, ":%s%s%s/%s", cwd,
			     *cwd ? "/" : "", dir, name) >= sizeof path) {
		snprintf(err, errlen, "time zone folder %s: name too long",
			 dir);
		return -1;
	}
	FILE *f = fopen(path + 1, "rb");
	if (!f && !strcmp(name, "UTC")) {
		/* no tzdata: UTC needs none (POSIX "UTC0") */
		snprintf(path, sizeof path, "UTC0");
	} else if (!f) {
		snprintf(err, errlen, "unknown time zone '%s' (%s: %s)",
			 name, path + 1, strerror(errno));
		return -1;
	}
	int leaps = f ? tzif_leaps(f) : 0;
	if (f)
		fclose(f);
	if (leaps < 0) {
		snprintf(err, errlen, "'%s': %s is not a zoneinfo (TZif) "
			 "file", name, path + 1);
		return -1;
	}
	/* A zone with leap seconds ("right/...") reads a time_t as
	 * counting them, where idem's instants are POSIX time: each
	 * offset would change 27 seconds late (in 2017 on), and a
	 * midnight next to one would bound a day at the wrong instant. */
	if (leaps) {
		const char *plain = strncmp(name, "right/", 6) == 0
					    ? name + 6 : NULL;
		snprintf(err, errlen, "'%s': its zoneinfo counts leap "
			 "seconds, which idem's times (POSIX time) do not, "
			 "so its offsets would change at the wrong instants; "
			 "%s%s%s", name, plain ? "use '" : "use the zone "
			 "without leap seconds", plain ? plain : "",
			 plain ? "'" : "");
		return -2;
	}
	if (setenv("TZ", path, 1) != 0) {
		snprintf(err, errlen, "setenv TZ: %s", strerror(errno));
		return -1;
	}
	tzset();
	return 0;
}

/* A POSIX TZ name at *p: three or more letters, or <...> of letters,
 * digits, '+' and '-'. */
static bool posix_name(const char **p)
{
	const char *s = *p;
	size_t n = 0;
	if (*s == '<') {
		for (s++; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			  (*s >= '0' && *s <= '9') || *s == '+' || *s == '-';
		     s++)
			n++;
		if (*s != '>' || n < 3)
			return false;
		*p = s + 1;
		return true;
	}
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
		s++, n++;
	*p = s;
	return n >= 3;
}

/* A whole number of at most 3 digits at *p, from min to max. */
static bool posix_num(const char **p, int min, int max)
{
	int v = 0, n = 0;
	while (**p >= '0' && **p <= '9' && n < 3)
		v = v * 10 + (*(*p)++ - '0'), n++;
	return n > 0 && v >= min && v <= max && !(**p >= '0' && **p <= '9');
}

/* [+-]hh[:mm[:ss]], hh at most hmax */
static bool posix_time(const char **p, int hmax)
{
	if (**p == '+' || **p == '-')
		(*p)++;
	if (!posix_num(p, 0, hmax))
		return false;
	for (int i = 0; i < 2 && **p == ':'; i++) {
		(*p)++;
		if (!posix_num(p, 0, 59))
			return false;
	}
	return true;
}

/* ,date[/time] with date Jn (1..365), n (0..365) or Mm.w.d */
static bool posix_rule(const char **p)
{
	if (*(*p)++ != ',')
		return false;
	if (**p == 'J') {
		(*p)++;
		if (!posix_num(p, 1, 365))
			return false;
	} else if (**p == 'M') {
		(*p)++;
		if (!posix_num(p, 1, 12) || *(*p)++ != '.' ||
		    !posix_num(p, 1, 5) || *(*p)++ != '.' ||
		    !posix_num(p, 0, 6))
			return false;
	} else if (!posix_num(p, 0, 365)) {
		return false;
	}
	/* glibc and POSIX.1-2024 take hours to 167 (and negative) here */
	if (**p == '/') {
		(*p)++;
		return posix_time(p, 167);
	}
	return true;
}

/* The whole of s a POSIX TZ string: std offset [dst [offset]
 * [,rule,rule]]. */
static bool posix_tz(const char *s)
{
	if (!posix_name(&s) || !posix_time(&s, 24))
		return false;
	if (!*s)
		return true;
	if (!posix_name(&s))
		return false;
	if (*s && *s != ',' && !posix_time(&s, 24))
		return false;
	if (!*s)
		return true; /* the rules of the posixrules file */
	return posix_rule(&s) && posix_rule(&s) && !*s;
}

int tz_env_check(char *err, size_t errlen)
{
	const char *tz = getenv("TZ");
	if (!tz || !*tz)
		return 0;
	const char *name = tz[0] == ':' ? tz + 1 : tz;
	if (!*name)
		return 0; /* glibc: ":" is UTC */
	/* as glibc looks: a file first, then the POSIX syntax */
	char path[4096];
	if (name[0] == '/')
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "%s/%s", zone_dir(), name);
	FILE *f = fopen(path, "rb");
	int leaps = f ? tzif_leaps(f) : -1;
	if (f)
		fclose(f);
	if (leaps > 0) {
		snprintf(err, errlen, "TZ='%s': its zoneinfo counts leap "
			 "seconds, which idem's times (POSIX time) do not, so "
			 "local times would be off by them; use the zone "
			 "without leap seconds%s%s%s", tz,
			 !strncmp(name, "right/", 6) ? " ('" : "",
			 !strncmp(name, "right/", 6) ? name + 6 : "",
			 !strncmp(name, "right/", 6) ? "')" : "");
		return -2;
	}
	/* without tzdata, glibc's UTC is what these name */
	if (leaps == 0 || posix_tz(name) || !strcmp(name, "UTC") ||
	    !strcmp(name, "GMT"))
		return 0;
	snprintf(err, errlen, "TZ='%s' is no time zone (no zoneinfo file "
		 "%s, nor a POSIX TZ string such as "
		 "EST5EDT,M3.2.0,M11.1.0), which the C library reads as UTC "
		 "without a word; set TZ to a zone such as America/New_York, "
		 "or unset it", tz, path);
	return -1;
}

const char *tz_canonical(const char *name, char *buf, size_t len)
{
	/* a zoneinfo name that is a link to another file of the folder
	 * (UTC and Zulu to Etc/UTC, US/Eastern to America/New_York) is
	 * that file's name: one zone, one name, wherever it is compared */
	char dir[4096], path[8192 + 2], *real;
	if (!name || name[0] == '/' || !realpath(zone_dir(), dir) ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
		    sizeof path ||
	    !(real = realpath(path, NULL)))
		return name;
	size_t dn = strlen(dir);
	const char *out = name;
	if (!strncmp(real, dir, dn) && real[dn] == '/' &&
	    strlen(real + dn + 1) < len) {
		strcpy(buf, real + dn + 1);
		out = buf;
	}
	free(real);
	return out;
}

static const char *tz_given_name(void);

const char *tz_local_name(void)
{
	static char canon[4096];
	const char *name = tz_given_name();
	return tz_canonical(name, canon, sizeof canon);
}

/* tz_local_name as TZ or /etc/localtime spells it. */
static const char *tz_given_name(void)
{
	static char link[4096];
	const char *tz = getenv("TZ"), *z;
	if (tz && *tz == ':')
		tz++;
	if (tz && !*tz)
		return "UTC";
	if (!tz) {
		ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
		if (n <= 0)
			return access("/etc/localtime", F_OK) == 0
				       ? "/etc/localtime" : "UTC";
		link[n] = '\0';
		tz = link;
	}
	z = strstr(tz, "zoneinfo/");
	return z && (z == tz || z[-1] == '/') ? z + 9 : tz;
}

int32_t tz_offset(int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return 0; /* out of the C library's range: not in ours */
	return (int32_t)tm.tm_gmtoff;
}

/*
 * The first instant whose local time reaches L (local seconds: a local
 * midnight), the local time taken as never going back.  The local time
 * t + off(t) rises with t except at transitions; walk the hours from two
 * days before (every offset is within a day of UTC, and Apia's jump was
 * one day), finding each transition by bisection, and stop in the first
 * stretch of one offset o that reaches L: at L - o, or at its start when
 * a transition jumped over L.
 */
static int64_t first_at(int64_t L)
{
	int64_t t = L - 2 * DAY;
	int32_t o = tz_offset(t);
	while (t < L + 2 * DAY) {
		int64_t nt = t + 3600;
		int32_t no = tz_offset(nt);
		if (no == o) {
			if (L - o < nt)
				return L - o > t ? L - o : t;
			t = nt;
			continue;
		}
		int64_t lo = t, hi = nt; /* off(lo) == o != off(hi) */
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			if (tz_offset(mid) == o)
				lo = mid;
			else
				hi = mid;
		}
		if (L - o < hi)
			return L - o > t ? L - o : t;
		t = hi;
		o = tz_offset(hi);
		if (t + o >= L)
			return t; /* the clock jumped over L */
	}
	return L - tz_offset(L); /* not reached: offsets are within a day */
}

/* The first local day of the bucket holding local day `day`. */
static int64_t bucket_day(const struct tz_cal *c, int64_t day)
{
	int64_t y;
	int m, d;
	switch (c->unit) {
	case TZ_DAY:
		return floor_div(day, c->n) * c->n;
	case TZ_WEEK: {
		int64_t ref = -3 + c->week_start; /* 1969-12-29 a Monday */
		return ref + floor_div(day - ref, 7 * c->n) * 7 * c->n;
	}
	case TZ_MONTH: {
		time_civil_from_days(day, &y, &m, &d);
		int64_t i = floor_div(y * 12 + m - 1, c->n) * c->n;
		return time_days_from_civil(floor_div(i, 12),
					    (int)(i - floor_div(i, 12) * 12) + 1,
					    1);
	}
	case TZ_YEAR:
		time_civil_from_days(day, &y, &m, &d);
		return time_days_from_civil(floor_div(y, c->n) * c->n, 1, 1);
	}
	return day;
}

/* The first local day of the bucket after the one starting on day. */
static int64_t next_day(const struct tz_cal *c, int64_t day)
{
	int64_t y;
	int m, d;
	switch (c->unit) {
	case TZ_DAY:
		return day + c->n;
	case TZ_WEEK:
		return day + 7 * c->n;
	case TZ_MONTH: {
		time_civil_from_days(day, &y, &m, &d);
		int64_t i = y * 12 + m - 1 + c->n;
		return time_days_from_civil(floor_div(i, 12),
					    (int)(i - floor_div(i, 12) * 12) + 1,
					    1);
	}
	case TZ_YEAR:
		time_civil_from_days(day, &y, &m, &d);
		return time_days_from_civil(y + c->n, 1, 1);
	}
	return day + 1;
}

void tz_bucket(struct tz_cal *c, int64_t sec, int64_t *start, int64_t *end)
{
	/* the buckets tile time: an instant in the last one is in it */
	if (c->last && c->last->start <= sec && sec < c->last->end) {
		*start = c->last->start;
		*end = c->last->end;
		return;
	}
	int64_t day = bucket_day(c, floor_div(sec + tz_offset(sec), DAY));
	for (;;) {
		int64_t next = next_day(c, day);
		if (!c->memo)
			c->memo = xcalloc(TZ_MEMO, sizeof *c->memo);
		struct tz_memo *m = &c->memo[(uint64_t)day % TZ_MEMO];
		if (!m->used || m->day != day) {
			m->used = 1;
			m->day = day;
			m->start = first_at(day * DAY);
			m->end = first_at(next * DAY);
		}
		*start = m->start;
		*end = m->end;
		c->last = m;
		/* a clock set back across the bound: the local date of sec
		 * is behind one the zone already reached */
		if (sec < *end)
			return;
		day = next;
	}
}

size_t tz_format(int64_t ns, char *buf)
{
	int64_t sec = floor_div(ns, 1000000000LL), local;
	int32_t off = tz_offset(sec);
	if (off % 60 != 0 ||
	    __builtin_add_overflow(ns, (int64_t)off * 1000000000LL, &local))
		return time_format(ns, buf);
	size_t n = time_format(local, buf); /* ends in 'Z' */
	int32_t a = off < 0 ? -off : off;
	snprintf(buf + n - 1, TZ_STRMAX - (n - 1), "%c%02d:%02d",
		 off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
	return n + 5;
}
