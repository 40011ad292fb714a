#include "wm.h"

#include <stdlib.h>

#include "xalloc.h"

struct part {
	struct fp128 fp;
	int64_t max;
	bool used;
};

struct wm {
	int64_t delay, idle;
	struct part *tab;
	size_t cap, n; /* cap: power of two */
	int64_t gmax;  /* G: newest event time of all partitions */
	int64_t w;
	bool have_w, have_g;
};

int64_t wm_sub(int64_t a, int64_t b)
{
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	return a - b;
}

int64_t wm_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

struct wm *wm_new(int64_t delay, int64_t idle)
{
	struct wm *w = xcalloc(1, sizeof *w);
	w->delay = delay;
	w->idle = idle;
	w->cap = 16;
	w->tab = xcalloc(w->cap, sizeof *w->tab);
	return w;
}

void wm_free(struct wm *w)
{
	if (!w)
		return;
	free(w->tab);
	free(w);
}

static struct part *slot(struct part *tab, size_t cap, struct fp128 fp)
{
	size_t i = (size_t)(fp.lo ^ fp.hi) & (cap - 1);
	while (tab[i].used && (tab[i].fp.lo != fp.lo || tab[i].fp.hi != fp.hi))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static struct part *find_or_add(struct wm *w, struct fp128 fp, bool *fresh)
{
	if ((w->n + 1) * 4 > w->cap * 3) {
		size_t ncap = w->cap * 2;
		struct part *nt = xcalloc(ncap, sizeof *nt);
		for (size_t i = 0; i < w->cap; i++)
			if (w->tab[i].used)
				*slot(nt, ncap, w->tab[i].fp) = w->tab[i];
		free(w->tab);
		w->tab = nt;
		w->cap = ncap;
	}
	struct part *p = slot(w->tab, w->cap, fp);
	*fresh = !p->used;
	if (!p->used) {
		p->used = true;
		p->fp = fp;
		w->n++;
	}
	return p;
}

/* The minimum over partitions that are not idle, less the delay. */
static int64_t candidate(const struct wm *w)
{
	int64_t horizon = w->idle ? wm_sub(w->gmax, w->idle) : INT64_MIN;
	int64_t lo = INT64_MAX;
	for (size_t i = 0; i < w->cap; i++) {
		const struct part *p = &w->tab[i];
		if (!p->used || (w->idle && p->max < horizon))
			continue;
		if (p->max < lo)
			lo = p->max;
	}
	return wm_sub(lo, w->delay);
}

static bool advance(struct wm *w, int64_t c)
{
	if (w->have_w && c <= w->w)
		return false;
	w->w = c;
	w->have_w = true;
	return true;
}

bool wm_observe(struct wm *w, struct fp128 part, int64_t t)
{
	bool fresh;
	struct part *p = find_or_add(w, part, &fresh);
	if (!fresh && t <= p->max)
		return false;
	p->max = t;
	if (!w->have_g || t > w->gmax) {
		w->gmax = t;
		w->have_g = true;
	}
	if (w->n == 1)
		return advance(w, wm_sub(t, w->delay));
	return advance(w, candidate(w));
}

bool wm_raise(struct wm *w, int64_t v)
{
	return advance(w, v);
}

void wm_set(struct wm *w, int64_t v)
{
	w->w = v;
	w->have_w = true;
}

bool wm_get(const struct wm *w, int64_t *out)
{
	if (w->have_w)
		*out = w->w;
	return w->have_w;
}

size_t wm_partitions(const struct wm *w)
{
	return w->n;
}

void wm_each(const struct wm *w,
	     void (*fn)(void *ctx, struct fp128 part, int64_t max), void *ctx)
{
	for (size_t i = 0; i < w->cap; i++)
		if (w->tab[i].used)
			fn(ctx, w->tab[i].fp, w->tab[i].max);
}

void wm_restore(struct wm *w, struct fp128 part, int64_t max)
{
	bool fresh;
	struct part *p = find_or_add(w, part, &fresh);
	p->max = max;
	if (!w->have_g || max > w->gmax) {
		w->gmax = max;
		w->have_g = true;
	}
}
