# Shared set-up for the bats suites: the binaries under test first on
# PATH, bats-support and bats-assert loaded, a scratch folder per test.
IDEM_BIN=${IDEM_BIN:-$BATS_TEST_DIRNAME/../build/bin}
IDEM_GEN=${IDEM_GEN:-$BATS_TEST_DIRNAME/../build/bin-test/gen}
# exported: scripts a test runs (tests/demo.sh) take the build under test
export IDEM_BIN IDEM_GEN
PATH=$IDEM_BIN:$PATH
export IDEM_SHARED_DATA=${IDEM_SHARED_DATA:-$BATS_TEST_DIRNAME/../../shared/data}

# bats-support and bats-assert, sourced file by file: their load.bash
# forks a dirname for each of its 15 files, and bats sources this file
# again for every test (0.16 s of CPU a test, 400 s of make test's wall)
for _f in /usr/lib/bats/bats-support/src/*.bash \
	/usr/lib/bats/bats-assert/src/*.bash; do
	source "$_f" || return 1
done
unset _f

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

gen() {
	"$IDEM_GEN" "$@"
}

# quick FULL SMALL: how many trials (seeds, kills) a stress test runs:
# SMALL in make test's sanitized pass (IDEM_QUICK=1, see run-all.sh).
quick() {
	if [ -n "${IDEM_QUICK:-}" ]; then echo "$2"; else echo "$1"; fi
}

# trials LONG PLAIN SMALL: a kill loop's trials: LONG in make reliability
# (IDEM_LONG=1, tests/reliability/run.sh), SMALL in make test's
# sanitized pass (IDEM_QUICK=1), PLAIN in make test's plain pass.
trials() {
	if [ -n "${IDEM_LONG:-}" ]; then echo "$1"
	elif [ -n "${IDEM_QUICK:-}" ]; then echo "$3"
	else echo "$2"; fi
}

# The failed_at member changes every run; tests compare the rest.
no_time() {
	sed -e 's/"failed_at":"[^"]*"/"failed_at":"T"/g' "$@"
}

# A log file a test edits by hand, made one that carries no checksum
# (as another writer's would), so the edit is read, not refused as
# damage: the sum at the end of commitInfo, the tags of
# checkpointMetadata (delta/logsum.h).
unseal() {
	sed -i -e 's/,"idem\.xxh3_128":"[0-9a-f]*"}}$/}}/' \
		-e 's/^\({"checkpointMetadata":{"version":[0-9]*\),"tags":{"idem\.xxh3_128":"[0-9a-f]*"}}}$/\1}}/' "$@"
}

# Every table a test leaves that txlog itself calls sound (txlog verify
# exits 0) must pass tests/delta/check.sh, the checker written from
# Delta's PROTOCOL.md apart from txlog: a second, independent opinion on
# every table the suites write.  Tables a test broke on purpose fail
# verify and are left to that test.  IDEM_DELTA_CHECK=0 turns it off;
# the sanitized pass of make test (IDEM_QUICK) leaves it to the plain one.
teardown() {
	[ "${IDEM_DELTA_CHECK:-1}" = 1 ] && [ -z "${IDEM_QUICK:-}" ] || return 0
	local log t
	for log in $(find "$BATS_TEST_TMPDIR" -maxdepth 3 -type d -name _delta_log 2>/dev/null); do
		t=${log%/_delta_log}
		txlog verify "$t" > /dev/null 2>&1 || continue
		"$BATS_TEST_DIRNAME/delta/check.sh" "$t" || return 1
	done
}

# reader_gone CMD [ARG...]: run CMD with standard output a pipe whose
# reader has already left, and print its exit status (-13: killed by
# SIGPIPE), so a test can check what CMD committed before it noticed.
# READER_GONE_BLOCK=1: with SIGPIPE blocked, so writes fail with EPIPE.
reader_gone() {
	python3 -c '
import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
block = os.environ.get("READER_GONE_BLOCK") == "1"
pre = (lambda: signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPIPE])) if block else None
print(subprocess.run(sys.argv[1:], stdout=w, preexec_fn=pre).returncode)' "$@"
}

# running PID (zombie-aware), shared with the reliability scripts
. "$BATS_TEST_DIRNAME/reliability/common.sh"

# refused MESSAGE CMD [ARG...]: CMD is a usage error (exit 2) whose
# first line is MESSAGE.
# stopped_at_message CMD... -- SH: run CMD with its standard error a full
# pipe, so that it stops at its first message, run SH meanwhile, then let
# CMD go on; print CMD's standard error and exit with its status
stopped_at_message() {
	python3 - "$@" <<'PY'
import fcntl, os, subprocess, sys, time
i = sys.argv.index('--')
cmd, then = sys.argv[1:i], ' '.join(sys.argv[i + 1:])
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page
os.set_blocking(w, False)
n = 0
try:
    while True:
        n += os.write(w, b'x' * 4096)
except BlockingIOError:
    pass
os.set_blocking(w, True)
p = subprocess.Popen(cmd, stderr=w)
os.close(w)
while p.poll() is None:
    with open('/proc/%d/syscall' % p.pid) as f:
        if f.read().split()[:2] == ['1', '0x2']:  # in write(2, ...)
            break
    time.sleep(0.01)
subprocess.run(then, shell=True, check=True)
out = b''
while True:
    b = os.read(r, 65536)
    if not b:
        break
    out += b
sys.stdout.buffer.write(out[n:])
sys.exit(p.wait())
PY
}

refused() {
	local msg=$1
	shift
	run "$@"
	assert_failure 2
	assert_line -n 0 "$msg"
}
