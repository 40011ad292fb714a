#!/bin/sh
# make test: the unit tests and the bats suites, first on the plain
# build, then on a build with ASan+UBSan; one closing line with the sums.
# The sanitized pass leaves out the kill/concurrency stress suites
# (*-crash.bats, *-concurrency.bats) and scale-out: they test protocols,
# which the plain pass covers, and under ASan they would take most of the
# budget; completion, install and man, which check the manual and the
# install rather than the code (the plain pass runs them); security,
# whose refusals are the plain pass's to check (fuzzing covers the parsers
# under ASan); and the
# I/O-fault suite, whose LD_PRELOAD shim cannot come
# before ASan's runtime.  IDEM_SANITIZED=1 tells a suite it runs there.
# Usage: tests/run-all.sh PLAIN_BUILD_DIR SANITIZED_BUILD_DIR
set -u
plain=${1:-build} san=${2:-build-san}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
pass=0 fail=0 status=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

suite() { # suite NAME BUILD_DIR BATS_FILE...
	name=$1 dir=$2
	shift 2
	echo "== $name: unit tests"
	sh tests/run-unit.sh "$dir"/unit/test_* > "$log/unit" 2>&1 || status=1
	cat "$log/unit"
	line=$(grep '^unit: ' "$log/unit" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))

	echo "== $name: bats"
	IDEM_BIN=$top/$dir/bin IDEM_GEN=$top/$dir/bin-test/gen \
		bats --jobs 2 --no-parallelize-within-files "$@" \
		> "$log/bats" 2>&1 || status=1
	grep -v '^ok ' "$log/bats" | grep -v '^1\.\.' || true
	p=$(grep -c '^ok ' "$log/bats")
	f=$(grep -c '^not ok ' "$log/bats")
	echo "bats ($name): $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
}

# both cores (or however many there are) for the two builds
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
make --no-print-directory -j"$jobs" B="$plain" all unit-bins >/dev/null || exit 2
suite plain "$plain" tests/*.bats
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
	make --no-print-directory -j"$jobs" SANITIZE=1 B="$san" all unit-bins >/dev/null || exit 2
	# libjq and libonig are not instrumented; their allocations at exit
	# are theirs to keep.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0} \
	IDEM_SANITIZED=1 \
		suite sanitized "$san" $(ls tests/*.bats | grep -v -e '-crash\.bats$' \
			-e '-concurrency\.bats$' -e '/iofault\.bats$' -e '/scaleout\.bats$' \
			-e '/completion\.bats$' -e '/install\.bats$' -e '/man\.bats$' \
			-e '/security\.bats$')
fi
echo "total: $pass passed, $fail failed"
[ "$status" = 0 ] && [ "$fail" = 0 ]
