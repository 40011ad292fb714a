#!/usr/bin/env bats
# make demo's pipeline killed with SIGKILL at random moments and run
# again to completion: its silver and gold tables (and its dead letters
# and late records) equal those of one clean run exactly -- nothing lost,
# nothing counted twice.  DEMO_TRIALS sets the number of kills (default
# 6 in make test, 1 in its sanitized pass; make reliability asks for 50,
# or 200 in its full form).

load helpers

# Small data, batches of 400 records: 3 batches, each through every
# tool, with 1-minute windows so that gold has panes to compare.
demo() { # demo DIR STEP
	DEMO_DIR=$1 DEMO_N=500 DEMO_BATCH=400 DEMO_WINDOW=1m \
		sh "$BATS_TEST_DIRNAME/demo.sh" "$2"
}

# Everything the pipeline publishes, in a canonical order.
published() { # published DIR
	(
		cd "$1" || exit 2
		echo "== silver"
		txlog cat silver | sort
		echo "== gold"
		txlog cat gold | sort
		echo "== dead letters"
		cat bad/*.ndjson | no_time | sort
		echo "== late"
		cat late/*.ndjson | sort
	)
}

# The batch that last wrote state file $1 (statefile.h: flag at 20,
# batch length at 32, the batch at 48), or 0.
state_batch() {
	if [ -f "$1" ] && [ "$(od -An -tu1 -j20 -N1 "$1" | tr -d ' ')" = 1 ]; then
		dd if="$1" bs=1 skip=48 count="$(od -An -tu4 -j32 -N4 "$1" | tr -d ' ')" 2>/dev/null
	else
		echo 0
	fi
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "killed with SIGKILL at random moments, re-run to completion: the tables of one clean run" {
	for t in checkpoint dlq dedup watermark window txlog; do
		[ -x "$IDEM_BIN/$t" ] || skip "no $t"
	done
	trials=${DEMO_TRIALS:-$(trials 50 6 1)}
	demo template prepare > /dev/null
	cp -a template clean
	start=$(now_ms)
	demo clean run
	clean=$(($(now_ms) - start))
	span=$clean
	published clean > want
	# the clean run is not trivially empty
	[ "$(grep -c '"currency"' want)" -gt 100 ]
	[ "$(sed -n '/^== gold/,/^== dead/p' want | wc -l)" -gt 20 ]

	# A kill lands at a random moment of a run; one that came after
	# the run had finished is no kill, and the span it is drawn from
	# shrinks, since the clean run's time is only an estimate on a
	# loaded machine.
	kills=0 late=0 replays=0
	while [ "$kills" -lt "$trials" ]; do
		[ "$late" -le "$trials" ] || fail "$late runs finished before their kill"
		rm -rf t
		cp -a template t
		# its own session, so the kill takes the whole process group:
		# checkpoint, the batch's shell and every tool in it
		setsid sh -c 'cd t && exec env DEMO_DIR=. DEMO_N=500 DEMO_BATCH=400 DEMO_WINDOW=1m sh "$1" run' \
			sh "$BATS_TEST_DIRNAME/demo.sh" > /dev/null 2>&1 &
		pid=$!
		ms=$(((RANDOM * 32768 + RANDOM) % (span + 1)))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -KILL -- "-$pid" 2>/dev/null || true
		if wait "$pid" 2>/dev/null; then
			late=$((late + 1))
			span=$((span * 3 / 4))
			continue
		fi
		kills=$((kills + 1))
		# killed after dedup or window committed a batch that checkpoint
		# did not: the re-run replays it from the state before it
		# (from the folder the state names its sources in, as demo.sh
		# runs it; another folder is refused)
		done_batch=$(cd t && checkpoint status -s bronze.ckpt | jq -s 'map(.batch) | max // 0')
		if [ "$(state_batch t/seen.idx)" -gt "$done_batch" ] ||
			[ "$(state_batch t/window.state)" -gt "$done_batch" ]; then
			replays=$((replays + 1))
		fi
		# the killed run's fed command has a process group of its own,
		# which its watchdog kills when it sees the feeder gone: until
		# then a tool of it holds its state's lock, and the re-run is
		# told to try again (75), as it must be
		for _ in $(seq 50); do
			run demo t run
			[ "$status" != 75 ] && break
			sleep 0.1
		done
		if [ "$status" -ne 0 ]; then
			echo "kill $kills (at ${ms} ms): the re-run failed" >&3
			assert_success
		fi
		published t > got
		if ! cmp -s want got; then
			echo "kill $kills (at ${ms} ms of ${span}):" >&3
			diff want got | head -n 20 >&3
			false
		fi
	done
	echo "# $kills kills at random moments, $replays of them after a state commit and before the batch's ($late runs finished first); a clean run took ${clean} ms" >&3
}
