#!/usr/bin/env bats
# fuzz: every harness of tests/fuzz/ replayed over its seed corpus and
# crash regressions, with the build's own compiler (and sanitizers, in
# the sanitized pass).  libFuzzer itself runs in `make fuzz`.

load helpers

REPLAY=${FUZZ_REPLAY:-$IDEM_BIN/../fuzz-replay}
CORPUS=$BATS_TEST_DIRNAME/fuzz/corpus

# replay NAME: every input of the corpus, all accepted by the checks
replay() {
	local n
	n=$(ls "$CORPUS/$1" | wc -l)
	[ "$n" -gt 0 ]
	run "$REPLAY/$1" "$CORPUS/$1"
	assert_success
	assert_output "replayed $n inputs"
}

@test "scan: JSONTestSuite cases and records" { replay scan; }
@test "path: plain paths and their lookups" { replay path; }
@test "value: canonical forms, fingerprints, order" { replay value; }
@test "decimal: parse, format, add, subtract, divide" { replay decimal; }
@test "arith: exact + - * / and comparisons of paths and numbers" { replay arith; }
@test "timefmt: RFC 3339, epoch numbers, durations" { replay timefmt; }
@test "checkpoint_state: checkpoint's state file" { replay checkpoint_state; }
@test "dedup_state: dedup's state file" { replay dedup_state; }
@test "dlq: dead-letter envelopes" { replay dlq; }
@test "delta_log: Delta log replay and checkpoints" { replay delta_log; }

@test "every harness has a corpus and a test in this file" {
	local h
	for f in "$BATS_TEST_DIRNAME"/fuzz/*.c; do
		h=$(basename "$f" .c)
		[ "$h" = replay ] && continue
		[ -d "$CORPUS/$h" ] || fail "no corpus for $h"
		grep -q "{ replay $h; }" "$BATS_TEST_FILENAME" ||
			fail "no test for $h"
	done
}

@test "replay: a missing input is an error, the rest still run" {
	run "$REPLAY/decimal" no-such-file "$CORPUS/decimal/int"
	assert_failure 1
	assert_line --index 0 "no-such-file: No such file or directory"
	assert_line --index 1 "replayed 1 inputs"
}

@test "replay: no input is a usage error" {
	run "$REPLAY/scan"
	assert_failure 2
	assert_output "usage: $REPLAY/scan FILE|DIR..."
}

@test "README counts the harnesses there are" {
	local n words=(zero one two three four five six seven eight nine ten
		eleven twelve thirteen fourteen fifteen sixteen)
	n=$(ls "$BATS_TEST_DIRNAME"/fuzz/*.c | grep -vc '/replay\.c$')
	run grep -oE '\b[a-z]+ libFuzzer harnesses' "$BATS_TEST_DIRNAME/../README.md"
	assert_success
	for l in "${lines[@]}"; do
		[ "$l" = "${words[$n]} libFuzzer harnesses" ] ||
			fail "README says '$l'; tests/fuzz has $n"
	done
}
