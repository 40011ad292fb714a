#!/bin/sh
# make reliability: every reliability check, one NDJSON line per check
# with its figures, then one summary line:
#
#   crash.sh        SIGKILL at random moments and at each commit fault point
#   powercut        the disk states a power cut could leave in each
#                   state-changing command, read back by the tool
#                   (tests/powercut/explore.py; short: 6 states a point,
#                   40 a command; full: 12 and 400)
#   concurrency.sh  16 processes on one table and one dead-letter file
#   iofault.sh      ENOSPC, EIO and file-size limits (if present)
#   tests/fuzz      libFuzzer harnesses, FUZZ_SECONDS each (if present and
#                   clang is installed)
#   demo-crash      the demo pipeline killed 50 (short) or 200 (full)
#                   times: its gold table against a clean run's
#   nasty, security the bats suites of bad input and crafted files (if
#                   present): passed and failed tests
#   dedup-crash, checkpoint-crash, txlog-concurrency
#                   the kill and concurrency suites at the size make test
#                   samples (IDEM_LONG=1: 24 dedup kills, 100 checkpoint
#                   run kills, 8 x 100 concurrent appends, 400 killed
#                   appends): passed and failed tests
#   JSONTestSuite   the scanner's conformance figures (tests/unit/test_scan)
#
# RELIABILITY=short (CI: a few hundred kills, fuzzing a few seconds a
# harness) or full (the default: >= 1000 kills, every hit of every fault
# point, concurrency --long).  Exit 1 when a check found a problem.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
IDEM_BIN=${IDEM_BIN:-$top/build/bin}
IDEM_GEN=${IDEM_GEN:-$top/build/bin-test/gen}
export IDEM_BIN IDEM_GEN
mode=${RELIABILITY:-full}
case $mode in
short) long= fuzz_seconds=${FUZZ_SECONDS:-3} ;;
full) long=--long fuzz_seconds=${FUZZ_SECONDS:-30} ;;
*) echo "run.sh: RELIABILITY is short or full" >&2; exit 2 ;;
esac
export RELIABILITY=$mode

out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT
t0=$(date +%s)
status=0

# step NAME CMD...: CMD's NDJSON lines pass through and are kept; a
# non-zero exit marks the run failed.
step() {
	name=$1
	shift
	"$@" > "$out/$name" || {
		echo "run.sh: $name exited $?" >&2
		status=1
	}
	cat "$out/$name"
}

step crash bash tests/reliability/crash.sh
step concurrency bash tests/reliability/concurrency.sh $long
if [ "$mode" = short ]; then
	PC_BOUND=${PC_BOUND:-6} PC_MAX=${PC_MAX:-40} step powercut python3 tests/powercut/explore.py
else
	step powercut python3 tests/powercut/explore.py
fi
if [ -f tests/reliability/iofault.sh ]; then
	step iofault bash tests/reliability/iofault.sh
fi
if [ -f tests/fuzz/run.sh ]; then
	if command -v "${CLANG:-clang}" > /dev/null 2>&1; then
		FUZZ_SECONDS=$fuzz_seconds step fuzz sh tests/fuzz/run.sh
	else
		echo '{"check":"fuzz","skipped":"clang is not installed (make fuzz installs it)"}' |
			tee "$out/fuzz"
	fi
fi
# The whole demo pipeline under SIGKILL (tests/demo-crash.bats): 50 kills
# in short, 200 in full; its gold table must equal a clean run's.
trials=50
[ "$mode" = full ] && trials=200
DEMO_TRIALS=$trials bats tests/demo-crash.bats > "$out/tap.pipeline" 2>&1
f=$(grep -c '^not ok ' "$out/tap.pipeline")
[ "$f" = 0 ] || { cat "$out/tap.pipeline" >&2; status=1; }
awk -v f="$f" -v t="$trials" '
	/kills at random moments/ { k = $2; r = $7 }
	END { printf "{\"check\":\"pipeline\",\"kills\":%d,\"replays_after_state_commit\":%d,\"gold_differs\":%d}\n",
		k, r, f }' "$out/tap.pipeline" | tee "$out/pipeline"

for suite in nasty security dedup-crash checkpoint-crash txlog-concurrency; do
	[ -f "tests/$suite.bats" ] || continue
	IDEM_LONG=1 bats "tests/$suite.bats" > "$out/tap.$suite" 2>&1
	p=$(grep -c '^ok ' "$out/tap.$suite")
	f=$(grep -c '^not ok ' "$out/tap.$suite")
	[ "$f" = 0 ] || { grep '^not ok ' "$out/tap.$suite" >&2; status=1; }
	printf '{"check":"bats","suite":"%s","passed":%d,"failed":%d}\n' "$suite" "$p" "$f" |
		tee -a "$out/bats"
done
scan=$IDEM_BIN/../unit/test_scan
if [ -x "$scan" ]; then
	line=$(IDEM_SHARED_DATA=${IDEM_SHARED_DATA:-$top/../shared/data} "$scan" 2>&1 |
		grep '^jsontestsuite: ')
	# jsontestsuite: 95/95 accepted, 188/188 rejected, 35/35 without crash
	echo "$line" | awk '{
		split($2, y, "/"); split($4, n, "/"); split($6, i, "/")
		printf "{\"check\":\"jsontestsuite\",\"accepted\":%d,\"of_accept\":%d,\"rejected\":%d,\"of_reject\":%d,\"without_crash\":%d,\"of_either\":%d}\n",
			y[1], y[2], n[1], n[2], i[1], i[2]
	}' | tee "$out/jsontestsuite"
else
	echo "run.sh: $scan not built (make unit-bins)" >&2
	status=1
fi

# The summary: sums over every line kept above.
cat "$out"/* | grep '^{"check"' | jq -s -c --arg mode "$mode" --argjson secs $(($(date +%s) - t0)) \
	--argjson status "$status" '
	def sum(f): map(f // 0) | add // 0;
	(map(select(.check == "crash"))) as $c |
	(map(select(.check == "concurrency"))) as $k |
	(map(select(.check == "powercut"))) as $pc |
	(map(select(.check == "iofault"))) as $io |
	(map(select(.check == "fuzz" and (.skipped | not)))) as $fz |
	(map(select(.check == "bats"))) as $b |
	(map(select(.check == "jsontestsuite")) | first) as $j |
	(map(select(.check == "pipeline")) | first) as $p |
	{check: "summary", mode: $mode,
	 crash_commands: ($c | length), kills: ($c | sum(.kills)),
	 fault_points: ($c | sum(.faults)),
	 lost: ($c + $k | sum(.lost)), duplicated: ($c + $k | sum(.duplicated)),
	 unreadable: ($c + $k | sum(.unreadable)),
	 concurrency_tests: ($k | length),
	 powercut_commands: ($pc | length), powercut_states: ($pc | sum(.states)),
	 powercut_held: ($pc | sum(.held)),
	 iofault_cases: ($io | sum(.cases)), iofault_held: ($io | sum(.held)),
	 fuzz_harnesses: ($fz | length), fuzz_execs: ($fz | sum(.execs)),
	 fuzz_crashes: ($fz | sum(.crashes)),
	 pipeline_kills: ($p.kills // 0), pipeline_gold_differs: ($p.gold_differs // 0),
	 bats_passed: ($b | sum(.passed)), bats_failed: ($b | sum(.failed)),
	 jsontestsuite: (if $j then "\($j.accepted)/\($j.of_accept) accepted, \($j.rejected)/\($j.of_reject) rejected, \($j.without_crash)/\($j.of_either) without crash" else null end),
	 ok: ($status == 0 and ($c + $k | sum(.lost) + sum(.duplicated) + sum(.unreadable)) == 0
	      and ($io | sum(.cases)) == ($io | sum(.held))
	      and ($pc | sum(.states)) == ($pc | sum(.held))
	      and ($pc | map(.error // empty) | length) == 0 and ($fz | sum(.crashes)) == 0
	      and ($b | sum(.failed)) == 0 and ($p.gold_differs // 0) == 0),
	 seconds: $secs}' > "$out/summary.json"
cat "$out/summary.json"
[ "$(jq .ok "$out/summary.json")" = true ]
