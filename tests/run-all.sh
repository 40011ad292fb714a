#!/bin/sh
# make test: the unit tests and every bats suite, first on the plain
# build, then all of it again on a build with ASan+UBSan; one closing
# line with the sums.
#
# Every test runs in both passes, but for four suites that run no C
# code of their own (plain_only below).  In the sanitized pass the
# stress tests (kills, fault points, property tests over random streams,
# the 100 MiB line) run with fewer trials and smaller inputs
# (IDEM_QUICK=1): ASan finds a bad access on the first trial that takes a
# path, and the many trials that look for a rare interleaving are the
# plain pass's.  The plain pass's kill loops and fault-point sweeps are
# themselves samples (a few kills, seeded fault points, the seed printed)
# of what make reliability runs in full; each suite's header says which.
#
# Budget: about 10 minutes on a quiet 2-core machine.  Each pass prints
# the eight slowest tests, the eight slowest suites (wall and CPU
# seconds) and its bats wall and CPU time: a suite that eats the budget
# is seen where it is added.
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
start=$(date +%s)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# Scratch on tmpfs where it has room (TEST_TMPDIR to choose): the suites
# fsync thousands of files, about 6.6 ms each on a virtual disk and
# nothing on tmpfs, and no test reads durability from the disk itself
# (the power-cut suite records writes and syncs through its own shim).
if [ -z "${TEST_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt 8000000 ] 2>/dev/null; then
	TEST_TMPDIR=/dev/shm
fi
if [ -n "${TEST_TMPDIR:-}" ]; then
	TMPDIR=$(mktemp -d "$TEST_TMPDIR/idem-test.XXXXXX") || exit 2
	export TMPDIR
	trap 'rm -rf "$log" "$TMPDIR"' EXIT
	echo "scratch: $TMPDIR"
fi

# The suites' oracles run the python3 make deps installs from Debian:
# a python3 found first on PATH through a version manager's shim (pyenv
# here) took 1 s and 0.45 s of CPU to start, against 0.05 s, and
# property tests start it in their loops.
if [ -x /usr/bin/python3 ] &&
	[ "$(command -v python3 2>/dev/null)" != /usr/bin/python3 ]; then
	pybin=$log/python-bin
	mkdir -p "$pybin" && ln -s /usr/bin/python3 "$pybin/python3" &&
		PATH=$pybin:$PATH && export PATH
fi

# The longest suites first (by their CPU seconds, plain pass, Dec 2026),
# so that both bats jobs stay busy to the end: the rest are short.
long="txlog reliability-crash txlog-maint delta-protocol dedup reconcile
	nasty iofault unix-edges values scaleout demo-crash dlq"
# Suites that run no C code the plain pass has not run already: a static
# check of the sources (layout), the manual's lint and text (man; its
# examples run in the plain pass), the shell completion scripts reading
# --help (completion; frontend.bats runs every --help under ASan) and the
# Makefile's install (install).  The shortened sanitized pass leaves them
# out; make test SANITIZE=1 runs them.
plain_only="layout man completion install"
in_list() { # in_list WORD LIST...
	w=$1
	shift
	for l in "$@"; do [ "$l" = "$w" ] && return 0; done
	return 1
}
suites() { # suites PASS
	for f in $long; do echo "tests/$f.bats"; done
	for f in tests/*.bats; do
		n=$(basename "$f" .bats)
		in_list "$n" $long && continue
		[ "$1" = sanitized ] && [ -n "${IDEM_QUICK:-}" ] &&
			in_list "$n" $plain_only && continue
		echo "$f"
	done
}

# Every suite its own bats, two at a time in the order of the list: its
# TAP in $log/tap.NAME, its exit status in $log/rc.NAME and
# "wall user sys" seconds in $log/time.NAME; all the TAP in $log/bats.
run_suites() { # run_suites BUILD_DIR PASS
	rm -f "$log"/tap.* "$log"/time.* "$log"/rc.*
	suites "$2" | IDEM_BIN=$top/$1/bin IDEM_GEN=$top/$1/bin-test/gen \
		xargs -P 2 -n 1 bash -c '
		n=$(basename "$1" .bats)
		TIMEFORMAT="%R %U %S"
		{ time bats --timing "$1" > "$0/tap.$n" 2>&1; } 2> "$0/time.$n"
		echo $? > "$0/rc.$n"' "$log"
	for f in $(suites "$2"); do
		n=$(basename "$f" .bats)
		# a suite that failed to start says so in its own TAP
		[ "$(cat "$log/rc.$n" 2>/dev/null)" = 0 ] || {
			status=1
			grep -q '^not ok ' "$log/tap.$n" 2>/dev/null ||
				echo "not ok 0 $f: bats exited $(cat "$log/rc.$n" 2>/dev/null)"
		}
		cat "$log/tap.$n"
	done > "$log/bats"
}

suite() { # suite NAME BUILD_DIR
	name=$1 dir=$2
	t0=$(date +%s)
	echo "== $name: unit tests"
	# two at a time (the biggest take most of the time, under ASan
	# most of all); each binary's lines, then one sum
	rm -f "$log"/unit.* "$log"/urc.*
	ls "$dir"/unit/test_* | xargs -P 2 -n 1 sh -c '
		sh tests/run-unit.sh "$1" > "$0/unit.${1##*/}" 2>&1
		echo $? > "$0/urc.${1##*/}"' "$log"
	for u in "$dir"/unit/test_*; do
		grep -v '^unit: ' "$log/unit.${u##*/}"
		[ "$(cat "$log/urc.${u##*/}" 2>/dev/null)" = 0 ] || status=1
	done
	p=0 f=0
	for u in "$dir"/unit/test_*; do
		line=$(grep '^unit: ' "$log/unit.${u##*/}" | tail -n 1)
		up=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed.*/\1/p')
		uf=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		p=$((p + ${up:-0})) f=$((f + ${uf:-1}))
	done
	echo "unit: $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
	echo "unit ($name): $(($(date +%s) - t0)) s wall"

	t0=$(date +%s)
	echo "== $name: bats"
	run_suites "$dir" "$name"
	grep -v '^ok ' "$log/bats" | grep -v '^1\.\.' || true
	# the slowest tests and suites, to keep make test inside its budget
	sed -n 's/^ok [0-9]* \(.*\) in \([0-9]*\)ms$/\2 \1/p' "$log/bats" |
		sort -rn | head -n 8 | sed 's/^\([0-9]*\) /slow (ms): \1 /'
	for t in "$log"/time.*; do
		[ -s "$t" ] || continue
		tail -n 1 "$t" | awk -v n="${t##*/time.}" \
			'{ printf "%.1f %.1f %s\n", $1, $2 + $3, n }'
	done | sort -rn | head -n 8 |
		sed 's/^\([^ ]*\) \([^ ]*\) /slow suite (s wall, s cpu): \1 \2 /'
	p=$(grep -c '^ok ' "$log/bats")
	f=$(grep -c '^not ok ' "$log/bats")
	cpu=$(for t in "$log"/time.*; do tail -n 1 "$t"; done |
		awk '{ c += $2 + $3 } END { printf "%.0f", c }')
	echo "bats ($name): $p passed, $f failed; $(($(date +%s) - t0)) s wall, $cpu s cpu"
	pass=$((pass + p)); fail=$((fail + f))
}

# both cores (or however many there are) for the builds; the plain
# build is made without SANITIZE even when make test was given it
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ "$passes" != sanitized ]; then
	t0=$(date +%s)
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$jobs" \
		B="$plain" all unit-bins >/dev/null || exit 2
	echo "build (plain): $(($(date +%s) - t0)) s wall"
	suite plain "$plain"
fi
if [ "$passes" != plain ]; then
	t0=$(date +%s)
	env -u MAKEFLAGS -u MFLAGS make --no-print-directory -j"$jobs" \
		SANITIZE=1 B="$san" all unit-bins >/dev/null || exit 2
	echo "build (sanitized): $(($(date +%s) - t0)) s wall"
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
echo "time: $(($(date +%s) - start)) s wall, builds included"
echo "total: $pass passed, $fail failed"
[ "$status" = 0 ] && [ "$fail" = 0 ]
