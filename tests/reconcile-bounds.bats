#!/usr/bin/env bats
# reconcile: --by within --memory, and the txlog it runs.

load helpers

@test "--by with more partitions than --memory holds is refused, not grown" {
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "{\"id\":%d,\"g\":%d,\"a\":1}\n", i, i }' > in.ndjson
	run reconcile -k .id --by .g --sum .a --memory 1M in.ndjson in.ndjson
	assert_failure 2
	assert_output 'reconcile: --by .g: too many partitions for --memory 1024K (their totals may take a fifth of it); raise --memory or use a coarser --by'
	# a size that is no whole K is said in bytes, not rounded down
	run reconcile -k .id --by .g --sum .a --memory 1000000 in.ndjson in.ndjson
	assert_failure 2
	assert_output 'reconcile: --by .g: too many partitions for --memory of 1000000 bytes (their totals may take a fifth of it); raise --memory or use a coarser --by'
	run reconcile -k .id --by .g --sum .a --memory 64M in.ndjson in.ndjson
	assert_success
	assert_line --partial '"missing":0,"extra":0,"changed":0'
}

@test "txlog:PATH runs the txlog beside reconcile, not the first on PATH" {
	txlog init tbl --infer > /dev/null
	printf '{"id":1}\n{"id":2}\n' | txlog append tbl > /dev/null
	printf '{"id":1}\n{"id":2}\n' > all.ndjson
	mkdir fake
	printf '#!/bin/sh\necho "{\\"id\\":99}"\n' > fake/txlog
	chmod +x fake/txlog
	PATH=$PWD/fake:$PATH run reconcile -k .id --keys-only all.ndjson txlog:tbl
	assert_success
	assert_output ''
}

@test "a --memory too small for one partition's totals names --memory, not a --by that was not given" {
	printf '{"k":1}\n' > a.ndjson
	run reconcile -k .k --memory 1 a.ndjson a.ndjson
	assert_failure 2
	assert_output 'reconcile: --memory of 1 bytes: too small for the totals of even one partition (they may take a fifth of it); raise --memory'
}
