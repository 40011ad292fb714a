/*
 * agg: the aggregate functions of window(1), each a small state that
 * grows by one value at a time, merges with another (session windows),
 * writes its result as JSON, and saves and loads itself (--state).
 *
 * Null or absent values are skipped (SQL's rule), so count(.x) counts
 * the records where .x is there and not null, and count() all records.
 * Sums and averages are exact decimals (lib/decimal.h); min, max, first,
 * last and the percentiles answer with a value exactly as it was spelled
 * in the input.  distinct counts values by canonical value (value.h
 * fingerprints); the percentiles (p50, p90, p99, p(EXPR, Q)) keep every
 * value and answer exactly: the nearest rank ceil(q * n) in the order of
 * min and max, ties in arrival order.
 */
#ifndef WINDOW_AGG_H
#define WINDOW_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "decimal.h"
#include "value.h"

enum agg_fn {
	AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG, AGG_FIRST, AGG_LAST,
	AGG_DISTINCT, AGG_P50, AGG_P90, AGG_P99, AGG_PCT
};

/* A percentile's fraction q = num / den, den a power of ten (q exact). */
#define AGG_PCT_DIGITS 18

struct agg_spec {
	char *name;          /* the output member */
	enum agg_fn fn;
	struct expr *e;      /* NULL: count() */
	char *text;          /* "gmv=sum(.amount)", as given */
	uint64_t q_num, q_den; /* percentiles: q = num / den, 0 <= q <= 1 */
};

/* One record's value for one aggregate, prepared before any window is
 * touched so that a bad value leaves every window as it was.  One of
 * the three, by function.  It is part of window -j's per-record slot,
 * which apply reads on another core than prep wrote it on: -j 2's extra
 * CPU grew with the slot's bytes (0.055 s at 128, 0.125 s at 272, 1M
 * records), so a sum's decimal is kept unaligned, in 24 bytes, not a
 * struct dec's 32 and a flag's padding to 48 (agg_in_dec). */
struct agg_in {
	union {
		struct {
			const char *v; /* min, max, first, last, p* */
			size_t len;
		};
		struct fp128 fp;     /* distinct */
		unsigned char coef[16]; /* sum, avg: a struct dec's coef */
	};
	int32_t exp; /* sum, avg: its exp */
	bool null;
};

static inline struct dec agg_in_dec(const struct agg_in *in)
{
	struct dec d;
	memcpy(&d.coef, in->coef, sizeof d.coef);
	d.exp = in->exp;
	return d;
}

static inline void agg_in_set_dec(struct agg_in *in, const struct dec *d)
{
	memcpy(in->coef, &d->coef, sizeof in->coef);
	in->exp = d->exp;
}

/*
 * Each value min, max, first, last and the percentiles keep carries its
 * arrival (the record's number in the input, counted across runs of a
 * --state): merged sessions got their records interleaved, so "first",
 * "last" and "equal values in arrival order" must compare arrivals, not
 * which session a value was in.  0: arrival unknown (a state of
 * format 1), before every arrival this run numbers.
 */
struct agg_state {
	uint64_t n;     /* values seen (count: records) */
	struct dec sum;
	char *val;      /* min, max, first, last */
	size_t vlen;
	uint64_t at;    /* val's arrival */
	struct fp128 *set; /* distinct: open addressing, {0,0} empty */
	size_t setcap;
	char **vals;       /* percentiles */
	size_t *lens, nvals, capvals;
	uint64_t *ats;     /* each value's arrival */
};

/* Parse "NAME=FUNC(EXPR)": 0, or -1 with err set when it is not one. */
int agg_parse(const char *text, struct agg_spec *out, char *err,
	      size_t errlen);

/* Add one value, of the record that arrived at; -1 on decimal overflow. */
int agg_add(const struct agg_spec *s, struct agg_state *st,
	    const struct agg_in *in, uint64_t at);
/* Fold src into dst (arrivals decide first, last and ties); -1 on
 * overflow. */
int agg_merge(const struct agg_spec *s, struct agg_state *dst,
	      struct agg_state *src);
void agg_write(const struct agg_spec *s, struct agg_state *st,
	       struct buf *out);
void agg_free(struct agg_state *st);

void agg_save(const struct agg_spec *s, const struct agg_state *st,
	      struct buf *out);
/* A state of format version (1: no arrivals, taken as 0); -1 when the
 * bytes run out or make no sense (damaged state). */
int agg_load(const struct agg_spec *s, struct agg_state *st,
	     const unsigned char **p, const unsigned char *end,
	     uint32_t version);

#endif
