#!/usr/bin/env bats
# make demo's pipeline runs through every tool and ends reconciled.

load helpers

@test "the demo pipeline ends with silver reconciled against bronze" {
	for t in checkpoint dlq dedup watermark window txlog reconcile; do
		[ -x "$IDEM_BIN/$t" ] || skip "no $t"
	done
	run env DEMO_DIR="$PWD/demo" IDEM_BIN="$IDEM_BIN" IDEM_GEN="$IDEM_GEN" \
		sh "$BATS_TEST_DIRNAME/demo.sh"
	assert_success
	assert_line '  dlq         3 bad records dead-lettered: 2 invalid_json,1 missing_field'
	assert_line '  dedup       27000 unique orders in the silver table'
	assert_line --partial '  reconcile   silver agrees with bronze: 27000 rows'
}
