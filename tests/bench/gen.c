/*
 * gen: synthetic order events as NDJSON, for benchmarks and demos.
 *
 * The same options and seed give the same bytes on every machine: one
 * splitmix64 stream drives the record sequence, and everything about an
 * order (customer, amount, items) comes from a hash of (seed, key), so a
 * repeat of an order can be rebuilt byte for byte without storing it.
 *
 * The stream models arrival order.  An ingest clock advances 0-2 s per
 * record (1 s on average); event_time trails it by 50 ms-3 s (so events
 * are slightly out of order), or by 5-60 min for --late-rate of them.
 * Exactly --keys distinct order_ids appear; the other records repeat an
 * earlier order: 80% as an identical line (old times and all), 20%
 * re-sent with a fresh, later event_time (the case that keep-first and
 * keep-last dedup tell apart).  70% of repeats copy one of the last 100
 * new orders, the rest any of the last 65536 (about 18 hours back), so
 * some fall outside a time-windowed dedup; memory stays fixed however
 * large -n is.
 *
 * Links libc only; formats numbers by hand into a 1 MiB buffer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_SIZE (1u << 20)
#define RING_SIZE (1u << 16) /* recent new orders a repeat may copy */
#define RECENT 100           /* most repeats copy one of these */

struct recent {
	uint64_t key;
	int64_t event_ms, ingest_ms;
};

static char out[OUT_SIZE];
static size_t out_len;
static struct recent ring[RING_SIZE];

static void usage(FILE *f)
{
	fputs("usage: gen [-n N] [-s SEED] [--dup-rate R] [--late-rate R]"
	      " [--keys K]\n"
	      "           [--start EPOCH] [--first-id K]\n"
	      "Write N synthetic order events as NDJSON to stdout.\n"
	      "  -n N            records (default 1000)\n"
	      "  -s SEED         PRNG seed (default 1)\n"
	      "  --dup-rate R    share of records repeating an earlier"
	      " order_id (default 0.1)\n"
	      "  --late-rate R   share of records 5-60 min late"
	      " (default 0.01)\n"
	      "  --keys K        distinct order_ids (default N*(1-R));"
	      " overrides --dup-rate\n"
	      "  --start EPOCH   first ingest time, Unix seconds"
	      " (default 1714521600)\n"
	      "  --first-id K    order_ids from o-(K+1) (default 0), so two"
	      " files can overlap in part\n",
	      f);
}

static _Noreturn __attribute__((format(printf, 1, 2))) void
bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		bad_usage("bad number: %s", s);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		bad_usage("bad number: %s", s);
	return v;
}

static double parse_rate(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0.0 && v <= 1.0))
		bad_usage("bad rate (want 0..1): %s", s);
	return v;
}

/* ---- randomness ---- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t rng_state;
static uint64_t first_id; /* --first-id: order_ids start after it */

static uint64_t rnd(void)
{
	return mix64(rng_state += 0x9e3779b97f4a7c15u);
}

/* Uniform enough in [0, n): the modulo bias is below n / 2^64. */
static uint64_t below(uint64_t r, uint64_t n)
{
	return r % n;
}

/* r as a fraction in [0, 1), against rates given as doubles. */
static double unit(uint64_t r)
{
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- output ---- */

static void flush_out(void)
{
	size_t off = 0;
	while (off < out_len) {
		ssize_t w = write(1, out + off, out_len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "gen: write: %s\n", strerror(errno));
			exit(2);
		}
		off += (size_t)w;
	}
	out_len = 0;
}

#define PUT(lit) put(lit, sizeof(lit) - 1)

static inline void put(const char *s, size_t n)
{
	memcpy(out + out_len, s, n);
	out_len += n;
}

static inline void put_u64(uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(tmp + i, sizeof tmp - i);
}

/* v in at least width digits, zero-padded. */
static inline void put_pad(uint64_t v, int width)
{
	char *p = out + out_len;
	char tmp[20];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i < width)
		tmp[i++] = '0';
	for (int k = 0; k < i; k++)
		p[k] = tmp[i - 1 - k];
	out_len += (size_t)i;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_date(int64_t days)
{
	int64_t y;
	unsigned m, d;
	civil(days, &y, &m, &d);
	put_pad((uint64_t)y, 4);
	PUT("-");
	put_pad(m, 2);
	PUT("-");
	put_pad(d, 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* "2024-05-01T10:00:03.250Z" */
static void put_time(int64_t ms)
{
	int64_t days = floor_div(ms, 86400000);
	int64_t in_day = ms - days * 86400000;
	PUT("\"");
	put_date(days);
	PUT("T");
	put_pad((uint64_t)(in_day / 3600000), 2);
	PUT(":");
	put_pad((uint64_t)(in_day / 60000 % 60), 2);
	PUT(":");
	put_pad((uint64_t)(in_day / 1000 % 60), 2);
	PUT(".");
	put_pad((uint64_t)(in_day % 1000), 3);
	PUT("Z\"");
}

/* ---- records ---- */

static const char *const currencies[] = {"EUR", "USD", "GBP", "JPY", "CHF"};
static const char *const tiers[] = {"bronze", "silver", "gold", "platinum"};
static const char skus[] = "ABCDEFGH";

static void put_record(uint64_t seed, uint64_t key, int64_t event_ms,
		       int64_t ingest_ms)
{
	/* The order itself depends only on (seed, key). */
	uint64_t h = mix64(seed * 0xd1342543de82ef95u ^ (key + 1));
	uint64_t s = h;
#define NEXT() mix64(s += 0x9e3779b97f4a7c15u)
	uint64_t cust = 1 + below(NEXT(), 100000);
	uint64_t tr = mix64(cust ^ seed) % 100; /* a customer keeps a tier */
	const char *tier = tr < 50 ? tiers[0] : tr < 80 ? tiers[1]
				 : tr < 95 ? tiers[2] : tiers[3];
	uint64_t r = NEXT();
	/* Mostly small baskets, a long tail of large ones. */
	uint64_t cents = 100 + below(r, 15000);
	if ((r & 0xf) == 0)
		cents = 100 + below(NEXT(), 500000);
	uint64_t cr = below(NEXT(), 100);
	const char *cur = currencies[cr < 45 ? 0 : cr < 75 ? 1 : cr < 90 ? 2
				     : cr < 96 ? 3 : 4];
	unsigned nitems = 1 + (unsigned)below(NEXT(), 4);

	PUT("{\"order_id\":\"o-");
	put_pad(first_id + key + 1, 9);
	PUT("\",\"customer\":{\"id\":");
	put_u64(cust);
	PUT(",\"tier\":\"");
	put(tier, strlen(tier));
	PUT("\"},\"amount\":");
	put_u64(cents / 100);
	PUT(".");
	put_pad(cents % 100, 2);
	PUT(",\"currency\":\"");
	put(cur, 3);
	PUT("\",\"event_time\":");
	put_time(event_ms);
	PUT(",\"ingest_time\":");
	put_time(ingest_ms);
	PUT(",\"items\":[");
	for (unsigned i = 0; i < nitems; i++) {
		uint64_t it = NEXT();
		PUT("{\"sku\":\"");
		out[out_len++] = skus[it & 7];
		PUT("-");
		put_u64(1 + below(it, 99));
		PUT("\",\"qty\":");
		put_u64(1 + ((it >> 8) & 3) + ((it >> 10 & 7) == 0 ? 5 : 0));
		if (i + 1 < nitems)
			PUT("},");
		else
			PUT("}");
	}
	PUT("],\"day\":\"");
	put_date(floor_div(event_ms, 86400000));
	PUT("\"}\n");
#undef NEXT
}

int main(int argc, char **argv)
{
	uint64_t n = 1000, seed = 1, keys = 0;
	bool have_keys = false;
	double dup_rate = 0.1, late_rate = 0.01;
	int64_t start = 1714521600;
	enum { OPT_DUP = 256, OPT_LATE, OPT_KEYS, OPT_START, OPT_FIRST,
	       OPT_HELP };
	static const struct option longopts[] = {
		{"dup-rate", required_argument, NULL, OPT_DUP},
		{"late-rate", required_argument, NULL, OPT_LATE},
		{"keys", required_argument, NULL, OPT_KEYS},
		{"start", required_argument, NULL, OPT_START},
		{"first-id", required_argument, NULL, OPT_FIRST},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:s:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n = parse_u64(optarg); break;
		case 's': seed = parse_u64(optarg); break;
		case OPT_DUP: dup_rate = parse_rate(optarg); break;
		case OPT_LATE: late_rate = parse_rate(optarg); break;
		case OPT_KEYS:
			keys = parse_u64(optarg);
			have_keys = true;
			break;
		case OPT_START:
			/* Up to year 9999, so dates keep four digits. */
			start = (int64_t)parse_u64(optarg);
			if (start > 253402300799)
				bad_usage("--start out of range: %s", optarg);
			break;
		case OPT_FIRST:
			first_id = parse_u64(optarg);
			if (first_id > 900000000)
				bad_usage("--first-id out of range: %s", optarg);
			break;
		case OPT_HELP: usage(stdout); return 0;
		case ':':
			bad_usage("option needs a value: %s", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option: -%c", optopt);
			bad_usage("unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument: %s", argv[optind]);
	if (!have_keys)
		keys = (uint64_t)((double)n * (1.0 - dup_rate) + 0.5);
	if (keys > n)
		keys = n;
	if (keys == 0 && n > 0)
		keys = 1;

	rng_state = mix64(seed ^ 0x6a09e667f3bcc909u);
	int64_t clock = start * 1000;
	uint64_t next_key = 0, ring_n = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t left = n - i, keys_left = keys - next_key;
		int64_t ev, in;
		uint64_t key;
		clock += (int64_t)below(rnd(), 2001);
		/* New with probability keys_left/left: exactly `keys` ids. */
		if (ring_n == 0 || below(rnd(), left) < keys_left) {
			key = next_key++;
			uint64_t r = rnd();
			if (unit(r) < late_rate)
				ev = clock - 300000 - (int64_t)below(rnd(), 3300001);
			else
				ev = clock - 50 - (int64_t)below(rnd(), 2951);
			in = clock;
			struct recent *e = &ring[ring_n++ % RING_SIZE];
			e->key = key;
			e->event_ms = ev;
			e->ingest_ms = in;
		} else {
			uint64_t avail = ring_n < RING_SIZE ? ring_n : RING_SIZE;
			uint64_t r = rnd(), back;
			if ((r & 0xff) < 179) /* 70% from the last 100 */
				back = below(rnd(), avail < RECENT ? avail : RECENT);
			else
				back = below(rnd(), avail);
			const struct recent *e =
				&ring[(ring_n - 1 - back) % RING_SIZE];
			key = e->key;
			ev = e->event_ms;
			in = e->ingest_ms;
			/* Re-sent after a change: stamped now, like a new
			 * event, yet always later than the original. */
			if (((r >> 8) % 5) == 0) {
				int64_t now = clock - 50 -
					      (int64_t)below(rnd(), 2951);
				ev = now > ev + 1000 ? now : ev + 1000;
				in = clock > ev ? clock : ev + 50;
			}
		}
		if (out_len > OUT_SIZE - 4096)
			flush_out();
		put_record(seed, key, ev, in);
	}
	flush_out();
	if (close(1) != 0) {
		fprintf(stderr, "gen: write: %s\n", strerror(errno));
		return 2;
	}
	return 0;
}
