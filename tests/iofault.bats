#!/usr/bin/env bats
# I/O faults: ENOSPC and EIO in write, fsync, rename, link and open, by
# the LD_PRELOAD shim in tests/faults/, and ulimit -f.  The driver is
# tests/reliability/iofault.sh; here its short form must hold everywhere.

load helpers

setup_file() {
	export SHIM=$BATS_FILE_TMPDIR/shim.so
	cc -O2 -shared -fPIC -o "$SHIM" "$BATS_TEST_DIRNAME/faults/shim.c" -ldl
	# under ASan the shim is preloaded ahead of its runtime: allowed,
	# since the shim only forwards calls (dlsym RTLD_NEXT)
	[ -z "${IDEM_SANITIZED:-}" ] ||
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

keys() { seq "$1" "$2" | sed 's/.*/{"k":&}/'; }

@test "the shim fails the chosen write with ENOSPC and the state stays" {
	mkdir d
	keys 1 3 > a.ndjson
	keys 3 5 > b.ndjson
	dedup -k .k --state d/s.idx a.ndjson > /dev/null
	cp d/s.idx before
	IDEM_IOFAULT=write:1:ENOSPC IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		run dedup -k .k --state d/s.idx b.ndjson
	assert_failure 2
	assert_line 'dedup: d/s.idx: write: No space left on device'
	cmp before d/s.idx
	run ls d
	assert_output - <<'E'
s.idx
s.idx.lock
E
}

@test "the shim fails a rename with EIO" {
	mkdir d
	keys 1 3 > a.ndjson
	IDEM_IOFAULT=rename:1:EIO IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		run dedup -k .k --state d/s.idx a.ndjson
	assert_failure 2
	assert_line 'dedup: d/s.idx: rename: Input/output error'
	[ ! -e d/s.idx ]
}

@test "the shim counts only calls under its folder" {
	mkdir d e
	keys 1 3 > a.ndjson
	IDEM_IOFAULT_COUNT=$PWD/count IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		dedup -k .k --state e/s.idx a.ndjson > /dev/null
	[ ! -s count ]
	IDEM_IOFAULT_COUNT=$PWD/count IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		dedup -k .k --state d/s.idx a.ndjson > /dev/null
	run grep -E '^(rename|mkstemp) ' count
	assert_output - <<'E'
rename 1
mkstemp 1
E
}

@test "the shim leaves the children of checkpoint run alone" {
	mkdir d
	keys 1 3 > src.ndjson
	# The child writes under d/ too; only checkpoint's calls are counted.
	IDEM_IOFAULT_COUNT=$PWD/count IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		checkpoint run -s d/c.ckpt "$PWD/src.ndjson" -- sh -c 'cat > d/out'
	run grep -c '^write ' count
	assert_output 1
	keys 4 6 >> src.ndjson
	# (a batch now appends to the state's log: one rename, the snapshot's)
	IDEM_IOFAULT=rename:1:EIO IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$SHIM \
		run checkpoint run -s d/c.ckpt "$PWD/src.ndjson" -- \
		sh -c 'cat > d/out'
	assert_failure 2
	assert_output 'checkpoint: d/c.ckpt: rename: Input/output error'
}

@test "every state-changing command holds at a seeded sample of its short-form fault points" {
	# 4 of each command's short-form cases (about 8: each kind of call's
	# last, the first write, ulimit -f 0), drawn from a seed that is
	# printed: IOFAULT_SEED=N draws the same.  make reliability runs
	# every case of the full form.  Under ASan (IDEM_QUICK) 3 cases of
	# txlog merge alone.
	seed=${IOFAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
	echo "# seed $seed (IOFAULT_SEED=$seed draws the same cases)" >&3
	# stderr describes the cases that did not hold
	RELIABILITY=short IDEM_SHIM=$SHIM IOFAULT_SEED=$seed \
		IOFAULT_SAMPLE=$(quick 4 3) IOFAULT_ONLY=$(quick "" '^txlog merge$') \
		bash "$BATS_TEST_DIRNAME/reliability/iofault.sh" > lines 2> why ||
		{ cat why; false; }
	jq -r '"# \(.command): \(.ran)"' lines >&3
	# one line per command, in each the sample's size, and every case held
	run jq -rs --argjson n "$(quick 14 1)" --argjson k "$(quick 4 3)" '
		map(select(.check == "iofault")) | (length >= $n),
		all(.cases == ([.of, $k] | min) and .cases > 0 and .cases == .held)' lines
	assert_output - <<'E'
true
true
E
}

@test "iofault.sh refuses a bad IOFAULT_SAMPLE" {
	IOFAULT_SAMPLE=0 run bash "$BATS_TEST_DIRNAME/reliability/iofault.sh"
	assert_failure 2
	assert_output 'iofault.sh: IOFAULT_SAMPLE is a number of cases, 1 to 99'
}
