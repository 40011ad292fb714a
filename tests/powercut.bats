#!/usr/bin/env bats
# The short form of the crash-state explorer (tests/powercut/explore.py,
# make reliability runs it whole): the disk states a power cut could
# leave while a command runs (unsynced writes lost or torn, renames and
# new names not yet in their folder), each read back by the tool.  Under
# ASan (IDEM_QUICK) fewer states: the last point's first.

load helpers

setup_file() {
	export REC=$BATS_FILE_TMPDIR/rec.so
	cc -std=gnu11 -O2 -shared -fPIC -o "$REC" "$BATS_TEST_DIRNAME/powercut/rec.c" -ldl
	# under ASan the recorder is preloaded ahead of its runtime: allowed,
	# since it only forwards calls (dlsym RTLD_NEXT)
	[ -z "${IDEM_SANITIZED:-}" ] ||
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

explore() {
	PC_REC=$REC PC_INPUTS=$BATS_FILE_TMPDIR/inputs IDEM_BIN=$IDEM_BIN IDEM_GEN=$IDEM_GEN \
		python3 "$BATS_TEST_DIRNAME/powercut/explore.py" "$@" > lines 2> err
	local rc=$?
	sed 's/^/# /' err >&3
	jq -r '"# \(.command): \(.events) events, \(.states) states, \(.held) held"' lines >&3
	return $rc
}

# the NDJSON line's verdict: [command, states == held, unreadable, mixed,
# lost, unrecovered, error]
verdict() {
	jq -c '[.command, .states == .held, .unreadable, .mixed, .lost, .unrecovered, .error]' lines
}

@test "the recorder logs a state commit: temp file written, fsynced, renamed, folder fsynced" {
	gen -n 50 -s 1 > in
	mkdir r
	(cd r && IDEM_PC_DIR=$PWD IDEM_PC_LOG=$BATS_TEST_TMPDIR/log LD_PRELOAD=$REC \
		dedup -k .order_id --state s.idx ../in > /dev/null)
	run sh -c "cut -f1 log | uniq"
	assert_output - <<'E'
creat
write
fsync
rename
fsyncdir
E
	# the bytes written are the state file's, in order
	run sh -c "awk -F'\t' '\$1 == \"write\" { n += \$4 } END { print n }' log"
	assert_output "$(wc -c < r/s.idx)"
	run sh -c "grep -c . log.data > /dev/null; wc -c < log.data"
	assert_output "$(wc -c < r/s.idx)"
	# a run outside the folder records nothing
	(IDEM_PC_DIR=$PWD/r IDEM_PC_LOG=$BATS_TEST_TMPDIR/log2 LD_PRELOAD=$REC \
		dedup -k .order_id --state s2.idx in > /dev/null)
	[ ! -s log2 ]
}

# Regression states: each failed before its fix.
@test "dlq check: a new dead-letter file's name is durable when it exits 0" {
	# before: only the file was fsynced, never its folder; the power
	# cut after exit 0 left no file (lost 1)
	PC_ONLY=final explore dlq-check
	run verdict
	assert_output '["dlq check --dlq",true,0,0,0,0,null]'
}

@test "dedup --dupes and > out: the files' names are durable before the state commit vouches for them" {
	# before: the state's rename could reach the disk without the
	# --dupes file's name, or the name of the file stdout is (mixed 1
	# each: the state new, the duplicates or the output gone)
	PC_BOUND=$(quick 6 4) PC_MAX=$(quick 400 3) explore dedup-dupes dedup-stdout
	run verdict
	assert_output - <<'J'
["dedup --state --dupes",true,0,0,0,0,null]
["dedup --state > out",true,0,0,0,0,null]
J
}

@test "checkpoint run and dlq replay -- CMD > out: what CMD wrote to out is durable before the commit" {
	# before: the batch was committed (the entries removed) with CMD's
	# output to the file stdout is still in the page cache
	durable_first() {
		awk -F'\t' '$1 == "stdout" { o = $2 }
			$1 == "fsync" && $2 == o && !f { f = NR }
			$1 == "write" || $1 == "rename" { last = NR }
			END { print (f && f < last) ? "durable first" : "not durable first" }' "$1"
	}
	mkdir r
	printf '{"a":1}\n{"a":2}\n' > r/f
	(cd r && IDEM_PC_DIR=$PWD IDEM_PC_LOG=$BATS_TEST_TMPDIR/log LD_PRELOAD=$REC \
		checkpoint run -s s f -- cat > out)
	cmp r/f r/out
	run durable_first log
	assert_output 'durable first'
	printf '{"a":-1}\n' | dlq check -e '.a > 0' --dlq r/q
	(cd r && IDEM_PC_DIR=$PWD IDEM_PC_LOG=$BATS_TEST_TMPDIR/log2 LD_PRELOAD=$REC \
		dlq replay q -- cat > out)
	assert_equal "$(cat r/out)" '{"a":-1}'
	[ ! -s r/q ]
	run durable_first log2
	assert_output 'durable first'
}

@test "txlog init: a new table's folder and the folders above it are durable" {
	# before: data/ and data/t/ were never named durably (lost 1)
	PC_BOUND=$(quick 8 4) PC_MAX=$(quick 400 3) explore txlog-init
	run verdict
	assert_output '["txlog init",true,0,0,0,0,null]'
}

@test "power cuts, short form: a state commit, a checkpoint batch, a dlq rewrite and a txlog commit hold" {
	# two states each, the last point's first (make reliability: all
	# sixteen commands, up to 400 states each)
	PC_BOUND=4 PC_MAX=$(quick 2 1) explore dedup checkpoint-run dlq-replay-commit txlog-append
	run verdict
	assert_output - <<'J'
["dedup --state",true,0,0,0,0,null]
["checkpoint run",true,0,0,0,0,null]
["dlq replay --commit",true,0,0,0,0,null]
["txlog append",true,0,0,0,0,null]
J
}
