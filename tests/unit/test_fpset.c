/* The fingerprint set: membership, payloads, growth, expiry. */
#include <stdlib.h>

#include "fpset.h"
#include "unit.h"

static struct fp128 fp_of(uint64_t i)
{
	/* spread like a hash: splitmix64 */
	uint64_t z = i * 0x9e3779b97f4a7c15ULL + 1;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	struct fp128 fp = {z ^ (z >> 31), z * 31 + i};
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
	CHECK_INT(fpset_expire(s, 150000), 150000);
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

int main(void)
{
	RUN(add_and_find_through_growth);
	RUN(level_blocks_through_expiry_and_reserve);
	RUN(zero_fingerprint_is_a_member_too);
	RUN(payloads_and_expiry);
	return unit_done();
}
