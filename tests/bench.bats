#!/usr/bin/env bats
# make bench's script (tests/bench/run.sh) on tiny sizes with BENCH_QUICK:
# every line of the per-tool thread table and of the growth in records is
# printed, the peers and the per-core limit are there when installed (and
# said to be missing when not), and results.ndjson parses.  The figures
# themselves mean nothing at these sizes; the lines and their form do.

load helpers

setup_file() {
	[ -z "${IDEM_QUICK:-}" ] || return 0
	# DuckDB costs a CPU second a query to start: the test below checks
	# its peer on dedup alone.
	# Fake IDEM_BIN: dedup takes -j (a wrapper that names --threads in
	# its help and drops -j N), watermark hides any -j it has, the other
	# tools are the real ones: both forms of the line whatever main has.
	local fb=$BATS_FILE_TMPDIR/bin t
	mkdir -p "$fb"
	for t in "$IDEM_BIN"/*; do ln -s "$t" "$fb/${t##*/}"; done
	rm "$fb/dedup" "$fb/watermark"
	cat >"$fb/dedup" <<EOF
#!/bin/sh
case "\$1" in --help) "$IDEM_BIN/dedup" --help; echo '  -j, --threads N   (bench.bats wrapper)'; exit ;; esac
[ "\$1" = -j ] && shift 2
exec "$IDEM_BIN/dedup" "\$@"
EOF
	cat >"$fb/watermark" <<EOF
#!/bin/sh
case "\$1" in --help) "$IDEM_BIN/watermark" --help | grep -v -- --threads; exit ;; esac
exec "$IDEM_BIN/watermark" "\$@"
EOF
	chmod +x "$fb/dedup" "$fb/watermark"
	export BENCH_FAKE_BIN=$fb
	export BENCH_OUT=$BATS_FILE_TMPDIR/out BENCH_ERR=$BATS_FILE_TMPDIR/err
	local extract
	extract=$(dirname "$IDEM_BIN")/bench/extract
	BENCH_QUICK=1 BENCH_N=1000 BENCH_GROWTH_SIZES="250 1000 4000" BENCH_THREADS=2 \
		BENCH_SECTIONS="threads sizes" BENCH_STRICT=1 BENCH_DIR=$BATS_FILE_TMPDIR/b BENCH_DUCKDB=0 \
		BENCH_EXTRACT=$extract IDEM_BIN=$fb IDEM_GEN=$IDEM_GEN \
		sh "$BATS_TEST_DIRNAME/bench/run.sh" >"$BENCH_OUT" 2>"$BENCH_ERR" &&
		echo 0 >"$BATS_FILE_TMPDIR/rc" || echo $? >"$BATS_FILE_TMPDIR/rc"
}

quick_skip() {
	[ -z "${IDEM_QUICK:-}" ] || skip "the bench times the plain build; its script is checked in the plain pass"
}

TOOLS=("dedup -k" watermark window "dlq check" reconcile "txlog append" "txlog cat" "txlog optimize")

@test "bench: a line per tool, -j 1 and -j N or 'no -j yet', the thread bar where the issue sets one" {
	quick_skip
	local t
	for t in "${TOOLS[@]}"; do
		grep -Eq "^$t +-j 1 +[0-9]+\.[0-9] MB/s  (-j 2 +[0-9]+\.[0-9] MB/s +[0-9]+\.[0-9]+x|no -j yet) " "$BENCH_OUT" ||
			fail "no thread line for $t in: $(cat "$BENCH_OUT")"
	done
	# the wrapper's -j is seen, the hidden one is not
	run grep -E '^dedup -k +-j 1 .* -j 2 .*target >= 1\.7x (PASS|MISS)  cpu -j 2/-j 1 ([0-9.]+x|n/a)$' "$BENCH_OUT"
	assert_success
	run grep -E '^watermark +-j 1 .* no -j yet .*\(information\)$' "$BENCH_OUT"
	assert_success
	run grep -E '^txlog append vs zstd -3 -T2 +[0-9.]+x +target >= 0\.8x (PASS|MISS)$' "$BENCH_OUT"
	assert_success
	run grep -E '^txlog append own cost ' "$BENCH_OUT"
	assert_success
}

@test "bench: the thread targets beside the ceiling of these cores, -j 1 pinned to each, all at once" {
	quick_skip
	[ "$(nproc)" = 2 ] || skip "the ceiling is measured when -j is every core: BENCH_THREADS=2, $(nproc) cores"
	local t r=$BATS_FILE_TMPDIR/b/results.ndjson
	for t in "dedup -k" window reconcile; do
		grep -A1 -E "^$t +-j 1 .*target >= 1\.7x" "$BENCH_OUT" | grep -Eq \
			'^    cores: +-j 1 on every core at once: cpu0 [0-9.]+ s, cpu1 [0-9.]+ s; ceiling [0-9.]+x, -j 2 gave [0-9.]+x = [0-9]+% of it  target >= 85% (PASS|MISS)$' ||
			fail "no cores line under $t in: $(cat "$BENCH_OUT")"
	done
	# the ceiling is -j 1's seconds times the sum of 1 / each pinned
	# core's: between 1x and 2x whatever the cores
	run jq -rs '[.[] | select(.kind == "cores")] | map("\(.tool) \(.ceiling > 0 and .target_min_pct == 85)") | join(",")' "$r"
	assert_output "dedup -k true,window true,reconcile true"
	run jq -rs '[.[] | select(.kind == "time" and (.name | test("-core[01]$")))] | map((.command | test("^taskset -c [01] ")) and .together) | unique' "$r"
	assert_output '[
  true
]'
	# one copy on each core at the same time: in the round, each copy
	# started before the other ended
	run awk '/^round 0 cpu[01]: [0-9.]+ from [0-9.]+ to [0-9.]+$/ { a[n++] = $5; b[n - 1] = $7 }
		END { print n, (n == 2 && a[0] < b[1] && a[1] < b[0]) ? "overlap" : "apart" }' \
		"$BATS_FILE_TMPDIR/b/logs/window-cores.log"
	assert_output "2 overlap"
}

@test "bench: the peers at 1 and N threads, and the simdjson limit when built" {
	quick_skip
	run grep -E '^    1 thread: +awk [0-9.]+ MB/s \(idem [0-9.]+x\)  jq -c [0-9.]+ MB/s \(idem [0-9.]+x\)' "$BENCH_OUT"
	assert_success
	run grep -E '^    2 threads( \(idem: no -j yet\))?: +zstd -3 -T2 [0-9.]+ MB/s \(idem [0-9.]+x\)' "$BENCH_OUT"
	assert_success
	run grep 'BENCH_DUCKDB=0: the thread table has no DuckDB peer' "$BENCH_ERR"
	assert_success
	if [ -x "$(dirname "$IDEM_BIN")/bench/extract" ]; then
		run grep -E '^simdjson extract +[0-9.]+ MB/s' "$BENCH_OUT"
		assert_success
		run grep -cE '^(dedup -k|window|reconcile) .* [0-9.]+x simdjson ' "$BENCH_OUT"
		assert_output 3
	else
		run grep 'no per-core limit' "$BENCH_ERR"
		assert_success
		echo "# simdjson extraction not built (make deps-bench): the limit not checked" >&3
	fi
}

@test "bench: DuckDB with SET threads=1 and =N beside dedup -k, when installed" {
	quick_skip
	[ -d "$BATS_TEST_DIRNAME/bench/duckdb/node_modules/@duckdb/node-api" ] && command -v node >/dev/null ||
		skip "DuckDB not installed (make deps-bench)"
	mkdir bin
	ln -s "$BENCH_FAKE_BIN/dedup" bin/dedup
	BENCH_QUICK=1 BENCH_N=200 BENCH_THREADS=2 BENCH_SECTIONS=threads BENCH_DIR=$PWD/b \
		IDEM_BIN=$PWD/bin IDEM_GEN=$IDEM_GEN run sh "$BATS_TEST_DIRNAME/bench/run.sh"
	assert_success
	assert_line --regexp '^    1 thread: .*  duckdb [0-9.]+ MB/s \(idem [0-9.]+x\)$'
	assert_line --regexp '^    2 threads: +duckdb [0-9.]+ MB/s \(idem [0-9.]+x\)$'
	run jq -r 'select(.kind == "peer" and .peer == "duckdb") | "\(.threads) \(.idem)"' b/results.ndjson
	assert_output "1 dedup-k-j1
2 dedup-k-jN"
}

@test "bench: each tool at three sizes with its growth factors" {
	quick_skip
	local t
	for t in "${TOOLS[@]}"; do
		grep -Eq "^$t +[0-9.]+/[0-9.]+/[0-9.]+ s, growth [0-9.]+x [0-9.]+x for 4x 4x the records  (PASS|MISS)$" "$BENCH_OUT" ||
			fail "no growth line for $t in: $(cat "$BENCH_OUT")"
	done
}

@test "bench: results.ndjson parses, a tool and a growth object per tool; BENCH_STRICT exits 1 on a MISS" {
	quick_skip
	local r=$BATS_FILE_TMPDIR/b/results.ndjson
	run jq -e . "$r"
	assert_success
	run jq -s '[.[] | select(.kind == "tool" and (.mb_per_s_1 | type) == "number")] | length' "$r"
	assert_output 8
	run jq -s '[.[] | select(.kind == "growth" and (.seconds | length) == 3)] | length' "$r"
	assert_output 8
	run jq -r 'select(.kind == "tool" and .tool == "dedup -k") | "\(.has_j) \(.threads) \(.thread_ratio | type)"' "$r"
	assert_output "true 2 number"
	run jq -r 'select(.kind == "tool" and .tool == "watermark") | "\(.has_j) \(.mb_per_s_n)"' "$r"
	assert_output "false null"
	# nothing failed to run, and the exit says whether a target was missed
	run grep -E 'FAIL|not measured' "$BENCH_OUT"
	assert_failure
	if grep -q MISS "$BENCH_OUT"; then
		assert_equal "$(cat "$BATS_FILE_TMPDIR/rc")" 1
	else
		assert_equal "$(cat "$BATS_FILE_TMPDIR/rc")" 0
	fi
}

@test "bench: a bad BENCH_GROWTH_SIZES or BENCH_THREADS is refused" {
	quick_skip
	BENCH_GROWTH_SIZES="1 2" BENCH_DIR=$PWD/b IDEM_BIN=$IDEM_BIN IDEM_GEN=$IDEM_GEN run sh "$BATS_TEST_DIRNAME/bench/run.sh"
	assert_failure 2
	assert_output --partial "BENCH_GROWTH_SIZES: three record counts, not '1 2'"
	BENCH_THREADS=x BENCH_DIR=$PWD/b IDEM_BIN=$IDEM_BIN IDEM_GEN=$IDEM_GEN run sh "$BATS_TEST_DIRNAME/bench/run.sh"
	assert_failure 2
	assert_output --partial "not a whole number: 'x'"
}
