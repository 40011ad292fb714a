#!/usr/bin/env bats
# make demo's pipeline runs through every tool, says in a line what each
# step did, and ends reconciled.  (demo-crash.bats kills it.)

load helpers

needs_tools() {
	for t in checkpoint dlq dedup watermark window txlog reconcile; do
		[ -x "$IDEM_BIN/$t" ] || skip "no $t"
	done
}

@test "the demo pipeline ends with silver reconciled against bronze" {
	needs_tools
	run env DEMO_DIR="$PWD/demo" IDEM_BIN="$IDEM_BIN" IDEM_GEN="$IDEM_GEN" \
		sh "$BATS_TEST_DIRNAME/demo.sh"
	assert_success
	assert_output - <<EOF2
idem demo in $PWD/demo
  bronze      60003 raw events in 2 files
  checkpoint  2 sources, 0 bytes of lag, last batch 4
  dlq         3 bad records dead-lettered: 2 invalid_json,1 missing_field
  dedup       51000 unique orders in the silver table, 9000 duplicates set aside
  watermark   449 events later than 10 minutes set aside
  window      86 panes of 1h (per currency) in the gold table, 0 events after their window closed set aside
  accounted   60003 raw events = 3 bad + 9000 duplicates + 51000 silver rows
  accounted   51000 silver rows = 50551 in gold panes + 449 + 0 set aside late
  txlog       5 silver versions; a replayed batch added nothing
  reconcile   silver agrees with bronze: 51000 rows, amount 11620438.25, fingerprint 8ed71987
files: $PWD/demo
EOF2
}

@test "the steps run apart; running the pipeline again adds nothing" {
	needs_tools
	export DEMO_DIR=$PWD/d DEMO_N=300 DEMO_BATCH=200 DEMO_WINDOW=1m
	sh "$BATS_TEST_DIRNAME/demo.sh" prepare > /dev/null
	sh "$BATS_TEST_DIRNAME/demo.sh" run
	(cd d && txlog cat gold | sort) > gold.1
	run sh "$BATS_TEST_DIRNAME/demo.sh" run
	assert_success
	# the windows were closed once; closing them again adds nothing
	assert_output 'txlog: gold: txn gold-close:1 already committed (recorded version 1); nothing written'
	run sh -c 'cd d && txlog cat gold | sort | cmp - ../gold.1'
	assert_success
	run sh "$BATS_TEST_DIRNAME/demo.sh" report
	assert_success
	assert_line '  dedup       510 unique orders in the silver table, 90 duplicates set aside'
	assert_line '  txlog       5 silver versions; a replayed batch added nothing'
	run sh "$BATS_TEST_DIRNAME/demo.sh" walk
	assert_failure 2
	assert_output 'usage: demo.sh [all|prepare|run|report]'
}
