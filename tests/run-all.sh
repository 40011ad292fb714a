#!/bin/sh
# make test: the unit tests and every bats suite, first on the plain
# build, then all of it again on a build with ASan+UBSan; one closing
# line with the sums.
#
# Every test runs in both passes.  In the sanitized pass the stress
# tests (kills, fault points, property tests over random streams, the
# 100 MiB line) run with fewer trials and smaller inputs (IDEM_QUICK=1):
# ASan finds a bad access on the first trial that takes a path, and the
# many trials that look for a rare interleaving are the plain pass's,
# at full size, inside the 10-minute budget.
#
# make test SANITIZE=1 runs the sanitized pass alone at full size (no
# IDEM_QUICK): every suite as the plain pass runs it, under ASan+UBSan.
#
# IDEM_SANITIZED=1 tells a suite its binaries are sanitized (make install
# must not relink them without ASan; the I/O-fault shim is preloaded
# ahead of ASan's runtime).
#
# Usage: tests/run-all.sh PLAIN_BUILD_DIR SANITIZED_BUILD_DIR
# Environment: TEST_PASSES=both (default) | plain | sanitized;
#   SKIP_SANITIZE=1 is TEST_PASSES=plain.
set -u
plain=${1:-build} san=${2:-build-san}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
passes=${TEST_PASSES:-both}
[ "${SKIP_SANITIZE:-0}" = 1 ] && passes=plain
case $passes in
both | plain | sanitized) ;;
*) echo "run-all.sh: TEST_PASSES is both, plain or sanitized" >&2; exit 2 ;;
esac
pass=0 fail=0 status=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# The longest suites first, so that both bats jobs stay busy to the end.
long="reliability-crash demo-crash dedup-crash txlog-concurrency iofault
	nasty checkpoint-crash"
is_long() {
	for l in $long; do [ "$l" = "$1" ] && return 0; done
	return 1
}
suites() {
	for f in $long; do echo "tests/$f.bats"; done
	for f in tests/*.bats; do
		is_long "$(basename "$f" .bats)" || echo "$f"
	done
}

suite() { # suite NAME BUILD_DIR
	name=$1 dir=$2
	echo "== $name: unit tests"
	sh tests/run-unit.sh "$dir"/unit/test_* > "$log/unit" 2>&1 || status=1
	cat "$log/unit"
	line=$(grep '^unit: ' "$log/unit" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))

	echo "== $name: bats"
	IDEM_BIN=$top/$dir/bin IDEM_GEN=$top/$dir/bin-test/gen \
		bats --jobs 2 --no-parallelize-within-files --timing $(suites) \
		> "$log/bats" 2>&1 || status=1
	grep -v '^ok ' "$log/bats" | grep -v '^1\.\.' || true
	# the slowest tests, to keep make test inside its budget
	sed -n 's/^ok [0-9]* \(.*\) in \([0-9]*\)ms$/\2 \1/p' "$log/bats" |
		sort -rn | head -n 8 | sed 's/^\([0-9]*\) /slow (ms): \1 /'
	p=$(grep -c '^ok ' "$log/bats")
	f=$(grep -c '^not ok ' "$log/bats")
	echo "bats ($name): $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
}

# both cores (or however many there are) for the builds; the plain
# build is made without SANITIZE even when make test was given it
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ "$passes" != sanitized ]; then
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$jobs" \
		B="$plain" all unit-bins >/dev/null || exit 2
	suite plain "$plain"
fi
if [ "$passes" != plain ]; then
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$jobs" \
		SANITIZE=1 B="$san" all unit-bins >/dev/null || exit 2
	quick=1
	[ "$passes" = sanitized ] && quick=
	# libjq and libonig are not instrumented; their allocations at exit
	# are theirs to keep.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0} \
	IDEM_SANITIZED=1 IDEM_QUICK=$quick \
		suite sanitized "$san"
fi
echo "total: $pass passed, $fail failed"
[ "$status" = 0 ] && [ "$fail" = 0 ]
