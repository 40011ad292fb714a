/* The fingerprint set: membership, payloads, growth, expiry. */
#include <stdlib.h>

#include "fpset.h"
#include "unit.h"


static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Spread like a hash: two splitmix64 outputs.  lo and hi must not be
 * related: the segment comes from hi, the home from lo. */
static struct fp128 fp_of(uint64_t i)
{
	struct fp128 fp = {mix(2 * i * 0x9e3779b97f4a7c15ULL + 1),
			   mix((2 * i + 1) * 0x9e3779b97f4a7c15ULL + 1)};
	return fp;
}

static uint64_t visited, payload_sum;

static void visit(void *ctx, struct fp128 fp, uint64_t payload)
{
	(void)ctx, (void)fp;
	visited++;
	payload_sum += payload;
}

TEST(add_and_find_through_growth)
{
	struct fpset *s = fpset_new(false);
	int fresh = 0, again = 0, found = 0;
	for (uint64_t i = 0; i < 200000; i++)
		fresh += !fpset_add(s, fp_of(i), NULL);
	for (uint64_t i = 0; i < 200000; i += 7)
		again += fpset_add(s, fp_of(i), NULL);
	for (uint64_t i = 0; i < 400000; i++)
		found += fpset_has(s, fp_of(i));
	CHECK_INT(fresh, 200000);
	CHECK_INT(again, 28572);
	CHECK_INT(found, 200000);
	CHECK_INT(fpset_count(s), 200000);
	visited = 0;
	fpset_each(s, visit, NULL);
	CHECK_INT(visited, 200000);
	fpset_free(s);
}

TEST(zero_fingerprint_is_a_member_too)
{
	struct fpset *s = fpset_new(false);
	struct fp128 zero = {0, 0};
	CHECK(!fpset_has(s, zero));
	CHECK(!fpset_add(s, zero, NULL));
	CHECK(fpset_add(s, zero, NULL));
	CHECK(fpset_has(s, zero));
	fpset_free(s);
}

TEST(payloads_and_expiry)
{
	struct fpset *s = fpset_new(true);
	uint64_t *pay;
	for (uint64_t i = 0; i < 10000; i++) {
		CHECK(!fpset_add(s, fp_of(i), &pay) || 0);
		*pay = i;
	}
	CHECK(fpset_add(s, fp_of(42), &pay));
	CHECK_INT(*pay, 42);
	CHECK_INT(fpset_expire(s, 5000), 5000);
	CHECK_INT(fpset_count(s), 5000);
	CHECK(!fpset_has(s, fp_of(4999)));
	CHECK(fpset_has(s, fp_of(5000)));
	visited = payload_sum = 0;
	fpset_each(s, visit, NULL);
	CHECK_INT(visited, 5000);
	CHECK_INT(payload_sum, (5000ULL + 9999) * 5000 / 2);
	fpset_free(s);
}

/* Big enough that segments take slices of level blocks (64 KiB and
 * up), then leave them: an expiry rebuilds alone at the same size, the
 * next growth takes a slice again (given back slices must read as
 * zeros), and a reserved set starts on a level of its own, growing
 * into slices a second thread faults in ahead. */
TEST(level_blocks_through_expiry_and_reserve)
{
	struct fpset *s = fpset_new(true);
	uint64_t *pay;
	for (uint64_t i = 0; i < 300000; i++) {
		CHECK(!fpset_add(s, fp_of(i), &pay) || 0);
		*pay = i;
	}
	size_t grown = fpset_bytes(s, NULL);
	CHECK_INT(fpset_expire(s, 150000), 150000);
	/* rebuilt a generation down, as if just grown: 8/15 full at most */
	CHECK(fpset_bytes(s, NULL) < grown);
	CHECK(fpset_bytes(s, NULL) >= 24 * 150000 * 15 / 8);
	CHECK_INT(fpset_bytes(s, NULL), 8329272);
	for (uint64_t i = 300000; i < 700000; i++) {
		CHECK(!fpset_add(s, fp_of(i), &pay) || 0);
		*pay = i;
	}
	CHECK_INT(fpset_count(s), 550000);
	int found = 0;
	for (uint64_t i = 0; i < 700000; i++)
		found += fpset_has(s, fp_of(i));
	CHECK_INT(found, 550000);
	CHECK(!fpset_has(s, fp_of(149999)));
	visited = payload_sum = 0;
	fpset_each(s, visit, NULL);
	CHECK_INT(visited, 550000);
	CHECK_INT(payload_sum, (150000ULL + 699999) * 550000 / 2);

	struct fpset *r = fpset_new(false);
	fpset_fault_ahead(r); /* its slices faulted in on another thread */
	fpset_reserve(r, 500000);
	for (uint64_t i = 0; i < 900000; i++)
		CHECK(!fpset_add(r, fp_of(i), NULL) || 0);
	CHECK_INT(fpset_count(r), 900000);
	fpset_free(r);
	fpset_free(s);
}


/* Grow one key at a time: whenever a segment resizes (the bytes held
 * change), every key of that segment so far must still be found. */
TEST(every_key_found_after_each_resize)
{
	struct fpset *s = fpset_new(true);
	static uint64_t seg_keys[32][8192];
	size_t seg_n[32] = {0}, resizes = 0, lost = 0;
	uint64_t *pay;
	size_t bytes = fpset_bytes(s, NULL);
	for (uint64_t i = 0; i < 160000; i++) {
		struct fp128 fp = fp_of(i);
		int k = (int)(fp.hi >> 59);
		CHECK(!fpset_add(s, fp, &pay) || 0);
		*pay = i;
		if (seg_n[k] < 8192)
			seg_keys[k][seg_n[k]++] = i;
		size_t now = fpset_bytes(s, NULL);
		if (now == bytes)
			continue;
		bytes = now;
		resizes++;
		for (size_t j = 0; j < seg_n[k]; j++) {
			uint64_t *p;
			lost += !fpset_add(s, fp_of(seg_keys[k][j]), &p) ||
				*p != seg_keys[k][j];
		}
	}
	CHECK_INT(lost, 0);
	CHECK_INT(fpset_count(s), 160000);
	/* 32 first tables, then each segment's steps of a half: 64 + k
	 * slots * 1.5^g reaching 160000 / 32 keys at 4/5 full */
	CHECK_INT(resizes, 393);
	fpset_free(s);
}

/* Homes follow the fingerprint's order (lo * cap / 2^64), so within a
 * segment fpset_each() visits keys in lo's order but for keys pushed
 * along a cluster: few descents, where a home taken from low bits would
 * give one in two. */
static uint64_t prev_lo, descents, in_order;
static int prev_seg = -1;

static void order(void *ctx, struct fp128 fp, uint64_t payload)
{
	(void)ctx, (void)payload;
	int k = (int)(fp.hi >> 59);
	if (k == prev_seg) {
		descents += fp.lo < prev_lo;
		in_order += fp.lo >= prev_lo;
	}
	prev_seg = k;
	prev_lo = fp.lo;
}

TEST(homes_keep_fingerprint_order)
{
	struct fpset *s = fpset_new(false);
	for (uint64_t i = 0; i < 100000; i++)
		fpset_add(s, fp_of(i), NULL);
	descents = in_order = 0;
	prev_seg = -1;
	fpset_each(s, order, NULL);
	CHECK_INT(descents + in_order, 100000 - 32);
	CHECK(descents * 3 < in_order);
	CHECK_INT(descents, 19224);
	fpset_free(s);
}

/* fpset's own account of its slots, exact (RSS would be noise): with a
 * payload (24-byte slots) the set holds at most 40 bytes a key from 32k
 * keys on, counting the segment a resize holds twice, and about 37 on
 * average.  Doubling at 3/4 would reach 64. */
TEST(bytes_a_key_bound)
{
	struct fpset *s = fpset_new(true);
	size_t peak = 0, worst_milli = 0, over = 0, sum_milli = 0, n = 0;
	for (uint64_t i = 0; i < 400000; i++) {
		size_t before = fpset_count(s), p;
		fpset_add(s, fp_of(i), NULL);
		size_t held = fpset_bytes(s, &p);
		if (before < 32768) {
			peak = p;
			continue;
		}
		if (p > peak) /* a resize, while `before` keys were held */
			over += p > 40 * before;
		peak = p;
		over += held > 40 * (before + 1);
		size_t milli = held * 1000 / (before + 1);
		if (milli > worst_milli)
			worst_milli = milli;
		sum_milli += milli;
		n++;
	}
	CHECK_INT(over, 0);
	CHECK_INT(worst_milli, 38103);
	CHECK_INT(sum_milli / n, 36982);
	CHECK_INT(fpset_bytes(s, NULL), 14740872);
	fpset_free(s);
}

/* A reserved set holds n keys without a resize, under 40 bytes a key
 * (39.1: 4 standard deviations of room over a segment's share). */
TEST(reserve_holds_n_without_resizing)
{
	struct fpset *s = fpset_new(true);
	fpset_reserve(s, 300000);
	size_t peak, bytes = fpset_bytes(s, &peak);
	CHECK_INT(bytes, peak);
	for (uint64_t i = 0; i < 300000; i++)
		CHECK(!fpset_add(s, fp_of(i), NULL) || 0);
	CHECK_INT(fpset_bytes(s, &peak), bytes);
	CHECK_INT(peak, bytes);
	CHECK(bytes <= 40 * 300000);
	CHECK_INT(bytes, 11734368);
	fpset_free(s);
}

int main(void)
{
	RUN(add_and_find_through_growth);
	RUN(every_key_found_after_each_resize);
	RUN(homes_keep_fingerprint_order);
	RUN(bytes_a_key_bound);
	RUN(reserve_holds_n_without_resizing);
	RUN(level_blocks_through_expiry_and_reserve);
	RUN(zero_fingerprint_is_a_member_too);
	RUN(payloads_and_expiry);
	return unit_done();
}
