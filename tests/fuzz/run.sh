#!/bin/sh
# make fuzz: build every harness of tests/fuzz/ with clang, libFuzzer,
# ASan and UBSan, and run each for FUZZ_SECONDS (default 60) from its
# seed corpus.  One NDJSON line per harness on stdout:
#   {"check":"fuzz","harness":"scan","seconds":60,"execs":N,"crashes":0}
# A harness stops at its first crash; the input is kept as
# $FUZZ_BUILD/crashes/NAME/crash-* (add it to tests/fuzz/corpus/NAME/
# once fixed).  Inputs that found new coverage go to
# $FUZZ_BUILD/corpus/NAME/, never into the seed corpus.
# Usage: tests/fuzz/run.sh [NAME]...   (default: every harness)
# Exit status: 0 no crash, 1 a harness crashed, 2 trouble.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
seconds=${FUZZ_SECONDS:-60}
B=${FUZZ_BUILD:-build-fuzz}
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "fuzz: $CLANG not found (make fuzz installs clang)" >&2
	exit 2
fi
names=${*:-$(ls tests/fuzz/*.c | sed 's|.*/||; s|\.c$||' | grep -v '^replay$')}
targets=
for n in $names; do
	[ -f "tests/fuzz/$n.c" ] || { echo "fuzz: no harness tests/fuzz/$n.c" >&2; exit 2; }
	targets="$targets $B/fuzz/$n"
done
# Coverage for libFuzzer everywhere; -fsanitize=fuzzer (its main) only
# at the link of each harness (the Makefile's $(B)/fuzz/% rule).
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
make --no-print-directory -j2 B="$B" CC="$CLANG" \
	CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
	LDFLAGS="$san" $targets >"$B.log" 2>&1 || {
	cat "$B.log" >&2
	echo "fuzz: build failed" >&2
	exit 2
}
rm -f "$B.log"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
status=0
for n in $names; do
	work=$B/corpus/$n crashes=$B/crashes/$n
	mkdir -p "$work" "$crashes"
	before=$(ls "$crashes" | wc -l)
	start=$(date +%s)
	"$B/fuzz/$n" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" \
		"$work" "tests/fuzz/corpus/$n" >"$B/$n.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$n.log" | tail -n 1)
	found=$(($(ls "$crashes" | wc -l) - before))
	if [ "$rc" != 0 ] && [ "$found" = 0 ]; then
		found=1 # a failure libFuzzer kept no input for
	fi
	if [ "$found" != 0 ]; then
		status=1
		echo "fuzz: $n crashed; see $B/$n.log and $crashes/" >&2
		grep -m 5 -e 'ERROR' -e 'check failed' -e 'runtime error' "$B/$n.log" >&2
	fi
	printf '{"check":"fuzz","harness":"%s","seconds":%s,"execs":%s,"crashes":%s}\n' \
		"$n" "$took" "${execs:-0}" "$found"
done
exit $status
