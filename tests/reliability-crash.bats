#!/usr/bin/env bats
# The short form of tests/reliability/crash.sh (make reliability's crash
# points) on every change: every state-changing command killed at random
# moments and stopped at each commit fault point, then resumed, loses
# nothing, doubles nothing and leaves every state readable.

load helpers

@test "crash points, short form: every command resumed with nothing lost, doubled or unreadable" {
	# 3 kills a command (48), then a sample of its commit fault points:
	# the (point, hit) pairs, hits 1 and 2 of each point, in an order
	# drawn from the seed, until 2 of them stopped a job (28 stops).
	# The seed is printed; CRASH_SEED=N reruns the same sample.  make
	# reliability sweeps every hit of every point.  Under ASan
	# (IDEM_QUICK) one kill and one stop of txlog optimize alone: the
	# other kill suites take dedup, checkpoint, window, txlog append and
	# the demo pipeline through their recovery paths.
	kills=$(quick 3 1)
	seed=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
	echo "# seed $seed (CRASH_SEED=$seed draws the same fault points)" >&3
	# the slow-command group kills (dlq-replay-slow, checkpoint-run-slow:
	# half a minute each here) are make reliability's only
	fast="dedup window checkpoint-read checkpoint-commit checkpoint-run
		dlq-check dlq-replay dlq-replay-commit dlq-purge txlog-append
		txlog-overwrite txlog-merge txlog-delete txlog-checkpoint
		txlog-vacuum txlog-optimize"
	IDEM_BIN=$IDEM_BIN IDEM_GEN=$IDEM_GEN RELIABILITY=short CRASH_KILLS=$kills \
		CRASH_FAULT_HITS=$(quick 2 1) CRASH_FAULT_SAMPLE=$(quick 2 1) \
		CRASH_SEED=$seed CRASH_KEEP=${TMPDIR:-/tmp}/idem-crash-failed \
		bash "$BATS_TEST_DIRNAME/reliability/crash.sh" \
		$(quick "$fast" txlog-optimize) > lines 2> err || true
	# what the harness noted (a failed job says what it lost or doubled)
	sed 's/^/# /' err >&3
	jq -r '"# \(.command): \(.kills) kills, \(.faults) fault stops \(.stopped_at)"' lines >&3
	run jq -c --argjson k "$kills" '[.command, .lost, .duplicated, .unreadable, .kills >= $k]' lines
	if [ -n "${IDEM_QUICK:-}" ]; then
		assert_output '["txlog optimize",0,0,0,true]'
		return
	fi
	assert_output - <<'J'
["dedup --state",0,0,0,true]
["window --state",0,0,0,true]
["checkpoint read",0,0,0,true]
["checkpoint commit",0,0,0,true]
["checkpoint run",0,0,0,true]
["dlq check --dlq",0,0,0,true]
["dlq replay -- cmd",0,0,0,true]
["dlq replay --commit",0,0,0,true]
["dlq purge",0,0,0,true]
["txlog append",0,0,0,true]
["txlog overwrite",0,0,0,true]
["txlog merge",0,0,0,true]
["txlog delete",0,0,0,true]
["txlog checkpoint",0,0,0,true]
["txlog vacuum",0,0,0,true]
["txlog optimize",0,0,0,true]
J
	# every command that commits atomically went through its fault points
	run jq -r 'select(.faults == 0) | .command' lines
	assert_output - <<'J'
dlq check --dlq
txlog vacuum
J
}

@test "crash.sh refuses an unknown command, a bad RELIABILITY and a bad CRASH_FAULT_SAMPLE" {
	run bash "$BATS_TEST_DIRNAME/reliability/crash.sh" frob
	assert_failure 2
	assert_output 'crash.sh: no command frob'
	RELIABILITY=long run bash "$BATS_TEST_DIRNAME/reliability/crash.sh"
	assert_failure 2
	assert_output 'crash.sh: RELIABILITY is short or full'
	CRASH_FAULT_SAMPLE=0 run bash "$BATS_TEST_DIRNAME/reliability/crash.sh"
	assert_failure 2
	assert_output 'crash.sh: CRASH_FAULT_SAMPLE is a number of fault stops, 1 to 99'
}
