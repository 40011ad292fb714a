#!/usr/bin/env bats
# make demo's pipeline killed with SIGKILL at random moments and run
# again to completion: its silver and gold tables (and its dead letters
# and late records) equal those of one clean run exactly -- nothing lost,
# nothing counted twice.  DEMO_TRIALS sets the number of kills (default
# 50; make reliability asks for more).

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

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "killed with SIGKILL at random moments, re-run to completion: the tables of one clean run" {
	for t in checkpoint dlq dedup watermark window txlog; do
		[ -x "$IDEM_BIN/$t" ] || skip "no $t"
	done
	trials=${DEMO_TRIALS:-50}
	demo template prepare > /dev/null
	cp -a template clean
	start=$(now_ms)
	demo clean run
	span=$(($(now_ms) - start))
	published clean > want
	# the clean run is not trivially empty
	[ "$(grep -c '"currency"' want)" -gt 100 ]
	[ "$(sed -n '/^== gold/,/^== dead/p' want | wc -l)" -gt 20 ]

	finished=0
	for trial in $(seq 1 "$trials"); do
		rm -rf t
		cp -a template t
		# its own session, so the kill takes the whole process group:
		# checkpoint, the batch's shell and every tool in it
		setsid sh -c 'cd t && exec env DEMO_DIR=. DEMO_N=500 DEMO_BATCH=400 DEMO_WINDOW=1m sh "$1" run' \
			sh "$BATS_TEST_DIRNAME/demo.sh" > /dev/null 2>&1 &
		pid=$!
		ms=$((RANDOM * 32768 + RANDOM))
		ms=$((ms % (span + span / 4 + 1)))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -KILL -- "-$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null && finished=$((finished + 1))
		run demo t run
		if [ "$status" -ne 0 ]; then
			echo "trial $trial (killed at ${ms} ms): the re-run failed" >&3
			assert_success
		fi
		published t > got
		if ! cmp -s want got; then
			echo "trial $trial (killed at ${ms} ms of ${span}):" >&3
			diff want got | head -n 20 >&3
			false
		fi
	done
	echo "# $trials kills; $finished runs finished before theirs; a clean run takes ${span} ms" >&3
}
