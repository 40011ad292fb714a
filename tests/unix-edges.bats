#!/usr/bin/env bats
# Where a tool meets the rest of Unix: descriptors 0-2 closed, output to
# a full disk, fed commands that do not read, side files that are not
# regular files.  The rule each test checks: nothing committed that was
# not delivered, and a failure is said (exit 2), never silent.

load helpers

recs() {
	printf '{"id":%d,"t":%d}\n' 1 10 2 20 3 200 4 400
}

letter() {
	printf '{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":0,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' "$@"
}

# no_lock_records: the lock files (which a closed descriptor 1 used to
# become) hold nothing.
no_lock_records() {
	local f
	for f in *.lock; do
		[ -e "$f" ] || continue
		[ ! -s "$f" ] || { echo "$f holds: $(cat "$f")"; return 1; }
	done
}

# ---- descriptors 0-2 closed ----

@test "dedup --state with stdout closed fails and commits no key" {
	recs > in
	run sh -c 'dedup -k .id --state s.idx in >&-'
	assert_failure 2
	assert_output 'dedup: stdout: Bad file descriptor'
	no_lock_records
	run dedup -k .id --state s.idx in
	assert_success
	assert_output "$(recs)"
}

@test "dedup --state with stdin closed fails and commits no key" {
	run sh -c 'dedup -k .id --state s.idx <&-'
	assert_failure 2
	assert_output 'dedup: <stdin>: Bad file descriptor'
	recs > in
	run dedup -k .id --state s.idx in
	assert_output "$(recs)"
}

@test "dedup --state with stderr closed still delivers and commits" {
	recs > in
	run sh -c 'dedup -k .id --state s.idx in 2>&-'
	assert_success
	assert_output "$(recs)"
	no_lock_records
	run dedup -k .id --state s.idx in
	assert_output ''
}

@test "window --state with stdout closed fails and fires no window" {
	recs > in
	run sh -c 'window --tumble 1m -t .t --state w.st in >&-'
	assert_failure 2
	assert_output 'window: stdout: Bad file descriptor'
	no_lock_records
	run window --tumble 1m -t .t --state w.st in
	assert_success
	assert_line --index 0 --partial '"end":"1970-01-01T00:01:00Z"},"count":2'
}

@test "checkpoint read with stdout closed fails and leaves the batch pending" {
	mkdir d
	recs > d/a.ndjson
	run sh -c 'checkpoint read -s ck d >&-'
	assert_failure 2
	no_lock_records
	run checkpoint read -s ck d
	assert_success
	assert_output "$(recs)"
}

@test "dlq replay with stdout closed fails and removes nothing" {
	letter 1 2 > q
	run sh -c 'dlq replay q >&-'
	assert_failure 2
	assert_output 'dlq: stdout: Bad file descriptor'
	no_lock_records
	run dlq replay q
	assert_success
	assert_output 'dlq: q: an unfinished replay rolled back: 0 entries it dead-lettered again removed, the originals kept
{"id":1}
{"id":2}'
}

@test "every filter with stdout closed says so and exits 2" {
	recs > in
	mkdir -p t
	txlog init t --infer > /dev/null
	txlog append t in
	for c in "dedup -k .id in" "watermark -t .t --delay 1s in" \
		"window --tumble 1m -t .t in" "dlq check -e .id in" \
		"dlq stats /dev/null" "txlog cat t" "txlog log t" \
		"reconcile -k .id --format ndjson in in"; do
		run sh -c "$c >&-"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"Bad file descriptor"* ]] || {
			echo "$c: $output"; false; }
	done
	no_lock_records
}

@test "every filter with stdin closed says so and exits 2" {
	mkdir t
	txlog init t --infer > /dev/null
	for c in "dedup -k .id" "watermark -t .t --delay 1s" \
		"window --tumble 1m -t .t" "dlq check -e .id" \
		"reconcile -k .id - /dev/null" "txlog append t"; do
		run sh -c "$c <&-"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"Bad file descriptor"* ]] || {
			echo "$c: $output"; false; }
	done
	[ ! -e t/_delta_log/00000000000000000001.json ]
}

@test "output to /dev/full fails with exit 2 and commits nothing" {
	[ -w /dev/full ] || skip "no /dev/full"
	recs > in
	mkdir d
	recs > d/a.ndjson
	letter 1 > q
	mkdir t
	txlog init t --infer > /dev/null
	for c in "dedup -k .id --state s.idx in" \
		"window --tumble 1m -t .t --state w.st in" \
		"checkpoint read -s ck d" "dlq replay q" \
		"watermark -t .t --delay 1s in" "txlog log t"; do
		run sh -c "$c > /dev/full"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"No space left on device"* ]] || {
			echo "$c: $output"; false; }
	done
	run dedup -k .id --state s.idx in
	assert_output "$(recs)"
	run checkpoint read -s ck d
	assert_output "$(recs)"
	run dlq replay q
	assert_line --index 1 '{"id":1}'
}
