#include "agg.h"

#include <assert.h>
#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decimal.h"
#include "expr.h"
#include "statefile.h"
#include "xalloc.h"

static const struct {
	const char *name;
	enum agg_fn fn;
} fns[] = {
	{"count", AGG_COUNT}, {"sum", AGG_SUM}, {"min", AGG_MIN},
	{"max", AGG_MAX}, {"avg", AGG_AVG}, {"first", AGG_FIRST},
	{"last", AGG_LAST}, {"distinct", AGG_DISTINCT}, {"p50", AGG_P50},
	{"p90", AGG_P90}, {"p99", AGG_P99}, {"p", AGG_PCT},
};

/*
 * A number literal as jq spells one (0.95, .5, 1., 05, 5e-1, and -0,
 * jq's negation of 0), its exact value in *q: 0, or -1 when s (spaces
 * around it aside) is no number literal, or one of more digits than a
 * decimal holds.
 */
static int parse_literal(const char *s, struct dec *q)
{
	char txt[128];
	size_t k = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-') { /* jq's negation: "- 0" is -0 too */
		txt[k++] = *s++;
		while (isspace((unsigned char)*s))
			s++;
	}
	/* jq's lexer: ([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?,
	 * rewritten as JSON for dec_parse: no leading zeros, a digit on
	 * each side of the point */
	while (*s == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	size_t nint = strspn(s, "0123456789");
	if (nint == 0)
		txt[k++] = '0';
	if (nint + 1 >= sizeof txt - k)
		return -1;
	memcpy(txt + k, s, nint);
	k += nint;
	s += nint;
	if (*s == '.') {
		s++;
		size_t nfrac = strspn(s, "0123456789");
		if (nint == 0 && nfrac == 0)
			return -1;
		if (nfrac + 2 >= sizeof txt - k)
			return -1;
		if (nfrac) {
			txt[k++] = '.';
			memcpy(txt + k, s, nfrac);
			k += nfrac;
			s += nfrac;
		}
	} else if (nint == 0) {
		return -1;
	}
	if (*s == 'e' || *s == 'E') {
		size_t ne = 1 + (s[1] == '+' || s[1] == '-');
		ne += strspn(s + ne, "0123456789");
		if (ne >= sizeof txt - k)
			return -1;
		memcpy(txt + k, s, ne);
		k += ne;
		s += ne;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -1;
	return dec_parse(txt, k, q);
}

/*
 * Q of p(EXPR, Q): a number literal taken by its value, 0 <= Q <= 1
 * held exactly as num / 10^digits, digits <= AGG_PCT_DIGITS once
 * trailing zeros are gone (0.50 is 1/2).  -1 for anything else: not a
 * literal, out of range, or more digits than that.
 */
static int parse_q(const char *s, uint64_t *num, uint64_t *den)
{
	struct dec q, one = dec_from_i64(1);
	if (parse_literal(s, &q) != 0)
		return -1;
	if (q.coef == 0) {
		*num = 0;
		*den = 1;
		return 0;
	}
	q = dec_normalize(q);
	if (q.coef < 0 || dec_cmp(&q, &one) > 0 || -q.exp > AGG_PCT_DIGITS)
		return -1;
	uint64_t d = 1;
	for (int32_t e = q.exp; e < 0; e++)
		d *= 10;
	*num = (uint64_t)q.coef;
	*den = d;
	return 0;
}

int agg_parse(const char *text, struct agg_spec *out, char *err,
	      size_t errlen)
{
	const char *eq = strchr(text, '=');
	const char *open = eq ? strchr(eq, '(') : NULL;
	const char *close = strrchr(text, ')');
	if (!eq || eq == text || !open || !close || close < open ||
	    close[1] != '\0') {
		snprintf(err, errlen, "want NAME=FUNC(EXPR), got '%s'", text);
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->text = xstrdup(text);
	out->name = xstrndup(text, (size_t)(eq - text));
	if (!strcmp(out->name, "window") || !strcmp(out->name, "key") ||
	    !strcmp(out->name, "pane")) {
		snprintf(err, errlen, "'%s' is taken by the result; pick "
			 "another name", out->name);
		return -1;
	}
	size_t flen = (size_t)(open - eq - 1);
	size_t i;
	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (strlen(fns[i].name) == flen &&
		    !strncmp(fns[i].name, eq + 1, flen))
			break;
	if (i == sizeof fns / sizeof fns[0]) {
		const char *names[sizeof fns / sizeof fns[0] + 1];
		for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
			names[i] = fns[i].name;
		names[i] = NULL;
		char *fn = xstrndup(eq + 1, flen);
		const char *near = cli_nearest(fn, names);
		char hint[32] = "";
		if (near)
			snprintf(hint, sizeof hint, "; did you mean '%s'?",
				 near);
		snprintf(err, errlen, "unknown function '%s'%s (want count, "
			 "sum, min, max, avg, first, last, distinct, p50, p90, "
			 "p99 or p(EXPR, Q))", fn, hint);
		free(fn);
		return -1;
	}
	out->fn = fns[i].fn;
	char *src = xstrndup(open + 1, (size_t)(close - open - 1));
	if (out->fn == AGG_PCT) {
		/* the last comma: jq's own commas come before it */
		char *comma = strrchr(src, ',');
		if (!comma || parse_q(comma + 1, &out->q_num, &out->q_den)) {
			snprintf(err, errlen, "p(EXPR, Q) wants Q a fraction "
				 "0..1 of at most %d digits (0.95 for the "
				 "95th percentile), got '%s'", AGG_PCT_DIGITS,
				 text);
			free(src);
			return -1;
		}
		*comma = '\0';
		/* p(.ms, 0.5, 0.9) is jq's '.ms, 0.5', the percentile 0.9
		 * of the pairs [.ms, 0.5]: two Qs where one is taken */
		char *before = strrchr(src, ',');
		struct dec lit;
		if (before && parse_literal(before + 1, &lit) == 0) {
			*before = '\0';
			snprintf(err, errlen, "p(EXPR, Q) takes one Q; did you "
				 "mean 'p(%s,%s)' and 'p(%s,%s)'?", src,
				 before + 1, src, comma + 1);
			free(src);
			return -1;
		}
	} else if (out->fn == AGG_P50 || out->fn == AGG_P90 ||
		   out->fn == AGG_P99) {
		out->q_num = out->fn == AGG_P50 ? 50 : out->fn == AGG_P90 ? 90
									 : 99;
		out->q_den = 100;
		/* p90(.ms, 0.95) is jq's '.ms, 0.95', the percentile of
		 * the pairs [.ms, 0.95]: a Q given where none is taken */
		char *comma = strrchr(src, ',');
		struct dec lit;
		if (comma && parse_literal(comma + 1, &lit) == 0) {
			*comma = '\0';
			snprintf(err, errlen, "%s(EXPR) takes no Q (it is "
				 "p(EXPR, %s)); did you mean 'p(%s,%s)'?",
				 fns[i].name,
				 out->fn == AGG_P50   ? "0.5"
				 : out->fn == AGG_P90 ? "0.9"
						      : "0.99",
				 src, comma + 1);
			free(src);
			return -1;
		}
	}
	char *s = src;
	while (*s == ' ')
		s++;
	if (*s == '\0') {
		free(src);
		if (out->fn != AGG_COUNT) {
			snprintf(err, errlen, "%s needs an expression",
				 fns[i].name);
			return -1;
		}
		return 0;
	}
	char cerr[400];
	out->e = expr_compile(s, cerr, sizeof cerr);
	free(src);
	if (!out->e) {
		snprintf(err, errlen, "%s", cerr);
		return -1;
	}
	return 0;
}

static void set_val(struct agg_state *st, const char *v, size_t n)
{
	free(st->val);
	st->val = xstrndup(v, n);
	st->vlen = n;
}

static bool fp_zero(struct fp128 f)
{
	return f.lo == 0 && f.hi == 0;
}

static void set_insert(struct agg_state *st, struct fp128 f)
{
	if (fp_zero(f))
		f.lo = 1;
	if ((st->n + 1) * 4 > st->setcap * 3) {
		size_t ncap = st->setcap ? st->setcap * 2 : 8;
		struct fp128 *nt = xcalloc(ncap, sizeof *nt);
		for (size_t i = 0; i < st->setcap; i++) {
			if (fp_zero(st->set[i]))
				continue;
			size_t j = (size_t)st->set[i].lo & (ncap - 1);
			while (!fp_zero(nt[j]))
				j = (j + 1) & (ncap - 1);
			nt[j] = st->set[i];
		}
		free(st->set);
		st->set = nt;
		st->setcap = ncap;
	}
	size_t j = (size_t)f.lo & (st->setcap - 1);
	while (!fp_zero(st->set[j])) {
		if (st->set[j].lo == f.lo && st->set[j].hi == f.hi)
			return;
		j = (j + 1) & (st->setcap - 1);
	}
	st->set[j] = f;
	st->n++;
}

static void push_val(struct agg_state *st, const char *v, size_t n,
		     uint64_t at)
{
	if (st->nvals == st->capvals) {
		st->vals = xgrow(st->vals, &st->capvals, st->nvals,
				 sizeof *st->vals, 8);
		st->lens = xreallocarray(st->lens, st->capvals,
					 sizeof *st->lens);
		st->ats = xreallocarray(st->ats, st->capvals, sizeof *st->ats);
	}
	st->vals[st->nvals] = xstrndup(v, n);
	st->ats[st->nvals] = at;
	st->lens[st->nvals++] = n;
}

/*
 * avg answers to 10 places past the most any of its values has, trailing
 * zeros not counted, so avg(1.5, -1.5, 1) is 0.33333333333 in any order.
 * Its sum's exponent is where that is kept (and saved in --state), but
 * dec_add alone does not keep it: a zero sum takes the next value's
 * exponent (1.5 - 1.5 + 1 came out 0.3333333333), 1.50 keeps its zero,
 * and a sum that overflows at its scale is normalized.  So after each
 * add the sum is put back at the finest of the exponents, when its
 * coefficient holds it (one that does not has more digits than the
 * average can show past its point anyway).
 */
static int32_t places_exp(const struct dec *d)
{
	__int128 c = d->coef;
	int32_t e = d->exp;
	if (c == 0)
		return 0;
	while (e < 0 && c % 10 == 0) {
		c /= 10;
		e++;
	}
	return e < 0 ? e : 0;
}

static int avg_add(struct dec *sum, const struct dec *x, int32_t x_exp)
{
	int32_t want = sum->exp < x_exp ? sum->exp : x_exp;
	if (want > 0)
		want = 0;
	if (dec_add(sum, x) != 0)
		return -1;
	__int128 c = sum->coef, lim = 1;
	int32_t e = sum->exp;
	for (int i = 0; i < DEC_DIGITS - 1; i++)
		lim *= 10;
	while (e > want && c < lim && c > -lim) {
		c *= 10;
		e--;
	}
	if (e == want) {
		sum->coef = c;
		sum->exp = e;
	}
	return 0;
}

int agg_add(const struct agg_spec *s, struct agg_state *st,
	    const struct agg_in *in, uint64_t at)
{
	if (in->null)
		return 0;
	switch (s->fn) {
	case AGG_COUNT:
		st->n++;
		break;
	case AGG_SUM: {
		struct dec d = agg_in_dec(in);
		if (dec_add(&st->sum, &d) != 0)
			return -1;
		st->n++;
		break;
	}
	case AGG_AVG: {
		struct dec d = agg_in_dec(in);
		if (avg_add(&st->sum, &d, places_exp(&d)) != 0)
			return -1;
		st->n++;
		break;
	}
	case AGG_MIN:
	case AGG_MAX: {
		/* times as instants, whatever their offsets; of equal
		 * values min keeps the first to arrive and max the last,
		 * as jq's min_by and max_by do and p(expr, 0) and
		 * p(expr, 1) answer */
		int c = st->n ? value_compare_as(VALUE_ORDER_INSTANT, in->v,
						 in->len, st->val, st->vlen)
			      : 0;
		if (!st->n || (s->fn == AGG_MIN ? c < 0 : c >= 0)) {
			set_val(st, in->v, in->len);
			st->at = at;
		}
		st->n++;
		break;
	}
	case AGG_FIRST:
		if (!st->n) {
			set_val(st, in->v, in->len);
			st->at = at;
		}
		st->n++;
		break;
	case AGG_LAST:
		set_val(st, in->v, in->len);
		st->at = at;
		st->n++;
		break;
	case AGG_DISTINCT:
		set_insert(st, in->fp);
		break;
	case AGG_P50:
	case AGG_P90:
	case AGG_P99:
	case AGG_PCT:
		push_val(st, in->v, in->len, at);
		st->n++;
		break;
	}
	return 0;
}

int agg_merge(const struct agg_spec *s, struct agg_state *dst,
	      struct agg_state *src)
{
	if (s->fn == AGG_DISTINCT) {
		for (size_t i = 0; i < src->setcap; i++)
			if (!fp_zero(src->set[i]))
				set_insert(dst, src->set[i]);
		return 0;
	}
	if (!src->n)
		return 0;
	switch (s->fn) {
	case AGG_COUNT:
		dst->n += src->n;
		return 0;
	case AGG_SUM:
		if (dec_add(&dst->sum, &src->sum) != 0)
			return -1;
		dst->n += src->n;
		return 0;
	case AGG_AVG:
		if (avg_add(&dst->sum, &src->sum, src->sum.exp) != 0)
			return -1;
		dst->n += src->n;
		return 0;
	case AGG_MIN:
	case AGG_MAX:
	case AGG_FIRST:
	case AGG_LAST: {
		bool take = !dst->n;
		if (!take && (s->fn == AGG_MIN || s->fn == AGG_MAX)) {
			/* equal values: min's first to arrive, max's last,
			 * as spelled (agg_add) */
			int c = value_compare_as(VALUE_ORDER_INSTANT, src->val,
						 src->vlen, dst->val,
						 dst->vlen);
			take = (s->fn == AGG_MIN ? c < 0 : c > 0) ||
			       (c == 0 && (s->fn == AGG_MIN
						   ? src->at < dst->at
						   : src->at >= dst->at));
		} else if (!take) {
			/* equal arrivals only in a format-1 state (0):
			 * as before arrivals, first keeps dst, last takes
			 * src */
			take = s->fn == AGG_FIRST ? src->at < dst->at
						  : src->at >= dst->at;
		}
		if (take) {
			set_val(dst, src->val, src->vlen);
			dst->at = src->at;
		}
		dst->n += src->n;
		return 0;
	}
	default:
		for (size_t i = 0; i < src->nvals; i++)
			push_val(dst, src->vals[i], src->lens[i], src->ats[i]);
		dst->n += src->n;
		return 0;
	}
}

/* The significant digits of q written to `scale` places (trailing zeros
 * count: 0.50 has 2); q is normalized, as dec_div_i64 gives it. */
static int64_t sig_digits(const struct dec *q, int64_t scale)
{
	int64_t n = 0;
	for (__int128 c = q->coef; c; c /= 10)
		n++;
	return n ? n + q->exp + scale : 0;
}

static const struct agg_state *sort_st;

/* min and max's order; equal values (1 and 1.0) in arrival order, so
 * the spelling answered does not depend on qsort, nor on which merged
 * session a value was in (then the order kept, for a state without
 * arrivals). */
static int cmp_idx(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = value_compare_as(VALUE_ORDER_INSTANT, sort_st->vals[i],
				 sort_st->lens[i], sort_st->vals[j],
				 sort_st->lens[j]);
	if (c)
		return c;
	uint64_t x = sort_st->ats[i], y = sort_st->ats[j];
	return x != y ? (x > y) - (x < y) : (i > j) - (i < j);
}

void agg_write(const struct agg_spec *s, struct agg_state *st,
	       struct buf *out)
{
	char num[DEC_STRMAX];
	if (s->fn == AGG_COUNT || s->fn == AGG_DISTINCT) {
		buf_add_u64(out, st->n);
		return;
	}
	if (!st->n) {
		buf_adds(out, "null");
		return;
	}
	switch (s->fn) {
	case AGG_SUM:
		buf_add(out, num, dec_format(&st->sum, num));
		return;
	case AGG_AVG: {
		/* 10 digits past the sum's last, or as many as a decimal
		 * holds: the quotient has no more integer digits than the
		 * sum, so at the sum's own last digit it always fits; it
		 * may have fewer (a count of 10^k takes k), so from there one
		 * more digit at a time while the quotient's 38 hold it.  (It
		 * was null, as if there were no values, past 38 digits.) */
		struct dec q, more;
		int64_t want = st->sum.exp < 0 ? 10 - (int64_t)st->sum.exp
					       : 10;
		int64_t scale = want, digits = 0;
		for (__int128 c = st->sum.coef; c; c /= 10)
			digits++;
		if (digits + st->sum.exp + scale > DEC_DIGITS)
			scale = DEC_DIGITS - digits - st->sum.exp;
		while (dec_div_i64(&st->sum, (int64_t)st->n, (int)scale,
				   &q) != 0) {
			assert(scale > -(int64_t)st->sum.exp);
			scale--;
		}
		while (scale < want &&
		       dec_div_i64(&st->sum, (int64_t)st->n, (int)scale + 1,
				   &more) == 0 &&
		       sig_digits(&more, scale + 1) <= DEC_DIGITS) {
			q = more;
			scale++;
		}
		q = dec_normalize(q);
		buf_add(out, num, dec_format(&q, num));
		return;
	}
	case AGG_P50:
	case AGG_P90:
	case AGG_P99:
	case AGG_PCT: {
		size_t *idx = xmalloc(st->nvals * sizeof *idx);
		for (size_t i = 0; i < st->nvals; i++)
			idx[i] = i;
		sort_st = st;
		qsort(idx, st->nvals, sizeof *idx, cmp_idx);
		/* nearest rank: ceil(q * n), exactly in integers */
		unsigned __int128 kq = ((unsigned __int128)st->nvals *
					    s->q_num + s->q_den - 1) / s->q_den;
		size_t k = (size_t)kq;
		if (k < 1)
			k = 1;
		buf_add(out, st->vals[idx[k - 1]], st->lens[idx[k - 1]]);
		free(idx);
		return;
	}
	default:
		buf_add(out, st->val, st->vlen);
		return;
	}
}

void agg_free(struct agg_state *st)
{
	free(st->val);
	free(st->set);
	for (size_t i = 0; i < st->nvals; i++)
		free(st->vals[i]);
	free(st->vals);
	free(st->lens);
	free(st->ats);
	memset(st, 0, sizeof *st);
}

void agg_save(const struct agg_spec *s, const struct agg_state *st,
	      struct buf *out)
{
	state_put_u64(out, st->n);
	switch (s->fn) {
	case AGG_SUM:
	case AGG_AVG: {
		unsigned __int128 c = (unsigned __int128)st->sum.coef;
		state_put_u64(out, (uint64_t)c);
		state_put_u64(out, (uint64_t)(c >> 64));
		state_put_u64(out, (uint64_t)(int64_t)st->sum.exp);
		break;
	}
	case AGG_MIN: case AGG_MAX: case AGG_FIRST: case AGG_LAST:
		state_put_str(out, st->val ? st->val : "",
			      st->val ? st->vlen : 0);
		state_put_u64(out, st->at);
		break;
	case AGG_DISTINCT:
		for (size_t i = 0; i < st->setcap; i++)
			if (!fp_zero(st->set[i])) {
				state_put_u64(out, st->set[i].lo);
				state_put_u64(out, st->set[i].hi);
			}
		break;
	case AGG_P50: case AGG_P90: case AGG_P99: case AGG_PCT:
		for (size_t i = 0; i < st->nvals; i++) {
			state_put_str(out, st->vals[i], st->lens[i]);
			state_put_u64(out, st->ats[i]);
		}
		break;
	case AGG_COUNT:
		break;
	}
}

int agg_load(const struct agg_spec *s, struct agg_state *st,
	     const unsigned char **p, const unsigned char *end,
	     uint32_t version)
{
	uint64_t n, lo, hi, ex;
	memset(st, 0, sizeof *st);
	if (state_get_u64(p, end, &n) != 0)
		return -1;
	switch (s->fn) {
	case AGG_COUNT:
		st->n = n;
		return 0;
	case AGG_SUM:
	case AGG_AVG:
		if (state_get_u64(p, end, &lo) || state_get_u64(p, end, &hi) ||
		    state_get_u64(p, end, &ex))
			return -1;
		st->sum.coef = (__int128)(((unsigned __int128)hi << 64) | lo);
		st->sum.exp = (int32_t)(int64_t)ex;
		st->n = n;
		return 0;
	case AGG_MIN: case AGG_MAX: case AGG_FIRST: case AGG_LAST:
		if (state_get_str(p, end, &st->val, &st->vlen) != 0 ||
		    (version >= 2 && state_get_u64(p, end, &st->at) != 0))
			return -1;
		st->n = n;
		return 0;
	case AGG_DISTINCT:
		for (uint64_t i = 0; i < n; i++) {
			if (state_get_u64(p, end, &lo) ||
			    state_get_u64(p, end, &hi))
				return -1;
			set_insert(st, (struct fp128){lo, hi});
		}
		return st->n == n ? 0 : -1;
	case AGG_P50: case AGG_P90: case AGG_P99: case AGG_PCT:
		for (uint64_t i = 0; i < n; i++) {
			char *v;
			size_t len;
			uint64_t at = 0;
			if (state_get_str(p, end, &v, &len) != 0)
				return -1;
			if (version >= 2 && state_get_u64(p, end, &at) != 0) {
				free(v);
				return -1;
			}
			push_val(st, v, len, at);
			free(v);
		}
		st->n = n;
		return 0;
	}
	return -1;
}
