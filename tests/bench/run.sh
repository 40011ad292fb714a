#!/bin/sh
# idem benchmark harness: each tool against its usual peers, measured on
# the same file in the same run, so the ratios mean something on whatever
# machine they come from.  Run by `make bench`; by hand:
#
#   IDEM_BIN=$PWD/build/bin IDEM_GEN=$PWD/build/bin-test/gen sh tests/bench/run.sh
#
# Environment:
#   IDEM_BIN      folder of the idem binaries (required)
#   IDEM_GEN      the data generator, build/bin-test/gen (required)
#   BENCH_DIR     work folder, kept between runs (default /tmp/idem-bench)
#   BENCH_N       records in the timing file (default 1000000)
#   BENCH_SEED    gen seed (default 1)
#   BENCH_MEM_N   distinct keys for the memory test (default 10000000)
#   BENCH_RUNS    timed runs per command, best one kept (default 3)
#   BENCH_WARMUP  untimed runs first (default 1)
#   BENCH_STRICT  1: exit 1 if any target is missed (default: report only)
#   BENCH_TIMER   loop: time with the shell loop even if hyperfine is there
#   BENCH_THREADS the "all threads" count of the -j figures (default nproc)
#   BENCH_EXTRACT the simdjson extraction, build/bench/extract (make
#                 deps-bench builds it; without it the per-core limit is skipped)
#   BENCH_GROWTH_SIZES  three record counts, 4x apart, for the growth of
#                 each tool (default "500000 2000000 8000000")
#   BENCH_DUCKDB  0: no DuckDB peer (it costs about a CPU second a query
#                 to start)
#   BENCH_SECTIONS  the sections to run, e.g. "threads sizes" (default all:
#                 dedup window watermark checkpoint dlq reconcile, then
#                 those of sections/*.sh by file name)
#   BENCH_QUICK   1: a smoke test in about a minute: small sizes, one run
#                 each, no warm-up (the figures mean nothing; every line is
#                 printed).  Each size above still wins when set.
#
# Output: a table on stdout, and $BENCH_DIR/results.ndjson with one object
# per run header, timing, ratio and memory figure, for the README to quote:
#   jq 'select(.kind=="ratio")' /tmp/idem-bench/results.ndjson
#
# Adding a tool: a block like the dedup one at the bottom, guarded by
# `have TOOL`, that calls `bench` for the tool and its peers, `ratio` for
# each comparison and, if it keeps state per key, `rss`.

set -u

# C locale: byte-wise sort and awk, the fastest setting a peer can have
# (and a '.' decimal point in every number printed here).
LC_ALL=C
export LC_ALL

die() { printf 'bench: %s\n' "$*" >&2; exit 2; }

: "${IDEM_BIN:?set IDEM_BIN to the folder of the idem binaries}"
: "${IDEM_GEN:?set IDEM_GEN to the gen binary (build/bin-test/gen)}"
BENCH_DIR=${BENCH_DIR:-/tmp/idem-bench}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	N=${BENCH_N:-20000}
	MEM_N=${BENCH_MEM_N:-20000}
	RUNS=${BENCH_RUNS:-1}
	WARMUP=${BENCH_WARMUP:-0}
	GROWTH_SIZES=${BENCH_GROWTH_SIZES:-2000 8000 32000}
	RETRY_N=50
	TABLE_COMMITS=2 # sizes.sh and threads.sh: each commit fsyncs
	# the sections' own sizes (txlog-maint.sh, growth.sh, txlog.sh)
	MAINT_COMMITS=${MAINT_COMMITS:-4} MAINT_BUCKETS=${MAINT_BUCKETS:-4}
	GROWTH_RUNS=${GROWTH_RUNS:-1} GROWTH_DIV=${GROWTH_DIV:-50} TXLOG_COMMITS=${TXLOG_COMMITS:-50}
	# hyperfine measures the shell's start-up before each command: more
	# than the command takes on tiny files
	BENCH_TIMER=${BENCH_TIMER:-loop}
else
	N=${BENCH_N:-1000000}
	MEM_N=${BENCH_MEM_N:-10000000}
	RUNS=${BENCH_RUNS:-3}
	WARMUP=${BENCH_WARMUP:-1}
	GROWTH_SIZES=${BENCH_GROWTH_SIZES:-500000 2000000 8000000}
	RETRY_N=1000
	TABLE_COMMITS=8
fi
SEED=${BENCH_SEED:-1}
STRICT=${BENCH_STRICT:-0}
SECTIONS=${BENCH_SECTIONS:-}
THREADS=${BENCH_THREADS:-$(nproc 2>/dev/null || echo 2)}
EXTRACT=${BENCH_EXTRACT:-}

[ -x "$IDEM_GEN" ] || die "no gen at $IDEM_GEN (run make)"
[ -d "$IDEM_BIN" ] || die "no folder $IDEM_BIN (run make)"
# shellcheck disable=SC2086 # GROWTH_SIZES is three words
for v in "$N" "$SEED" "$MEM_N" "$RUNS" "$WARMUP" "$THREADS" $GROWTH_SIZES; do
	case $v in '' | *[!0-9]*) die "not a whole number: '$v'" ;; esac
done
[ "$(echo $GROWTH_SIZES | wc -w)" = 3 ] || die "BENCH_GROWTH_SIZES: three record counts, not '$GROWTH_SIZES'"
[ "$THREADS" -ge 1 ] || die "BENCH_THREADS must be at least 1"
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
[ "$N" -ge 10 ] || die "BENCH_N must be at least 10"

# --- tools ---------------------------------------------------------------
# Say up front what is missing, with the package that brings it, rather
# than let a peer fail halfway through.  jq is needed by the harness itself
# (it writes and reads results.ndjson); the others only drop what needs them.

missing=
need() { # COMMAND PACKAGE WHAT-WITHOUT-IT
	command -v "$1" >/dev/null 2>&1 && return 0
	printf 'bench: %s not found (apt-get install %s): %s\n' "$1" "$2" "$3" >&2
	missing="$missing $2"
	return 1
}
need jq jq "cannot run at all" || die "missing:$missing"
HAVE_HYPERFINE=0 HAVE_MLR=0 HAVE_GNU_TIME=0
if [ "${BENCH_TIMER:-}" != loop ]; then
	need hyperfine hyperfine "timing with a shell loop instead" && HAVE_HYPERFINE=1
fi
need mlr miller "skipping the miller peer" && HAVE_MLR=1
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	HAVE_GNU_TIME=1
else
	printf 'bench: GNU time not found at /usr/bin/time (apt-get install time): skipping memory figures\n' >&2
	missing="$missing time"
fi
if [ "$HAVE_HYPERFINE" = 0 ]; then
	case $(date +%N) in
	*[!0-9]* | '') die "no hyperfine, and date +%N is not GNU date: no way to time" ;;
	esac
fi
[ -z "$missing" ] || printf 'bench: to get everything: apt-get install%s (make bench does)\n' "$missing" >&2

# miller 6 reads NDJSON as --ijsonl; older ones only as --ijson (which also
# accepts concatenated objects).
MLR_IO="--ijson --ojson"
if [ "$HAVE_MLR" = 1 ] && echo '{"a":1}' | mlr --ijsonl --ojsonl cat >/dev/null 2>&1; then
	MLR_IO="--ijsonl --ojsonl"
fi

# have TOOL: is this idem tool built?  Sections of tools not written yet
# are skipped, so the harness can land before them.
have() { [ -x "$IDEM_BIN/$1" ]; }

# want SECTION: is SECTION in BENCH_SECTIONS (all when that is empty)?
want() {
	[ -z "$SECTIONS" ] && return 0
	case " $SECTIONS " in *" $1 "*) return 0 ;; esac
	return 1
}

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
RESULTS=$BENCH_DIR/results.ndjson
LOGS=$BENCH_DIR/logs
mkdir -p "$LOGS"
: >"$RESULTS"
TIMES=$BENCH_DIR/times.tsv
: >"$TIMES"

# --- recording -------------------------------------------------------------

# cpu_now: CPU_NOW = user + system seconds of every command this shell
# has waited for (the second line of `times`, as 0m1.23s 0m0.45s).  Not
# in $(...): a subshell has waited for none of them.
cpu_now() {
	times >"$BENCH_DIR/times.now" || die "cannot write $BENCH_DIR/times.now"
	CPU_NOW=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] }
		printf "%.2f", t }' "$BENCH_DIR/times.now")
}
BENCH_T0=$(date +%s.%N)

record() { # jq arguments building one object; appended to results.ndjson
	rec=$(jq -nc "$@") || die "jq failed building a result: $*"
	printf '%s\n' "$rec" >>"$RESULTS" || die "cannot write $RESULTS"
	case $rec in
	'{"kind":"time",'*) # for seconds_of and mbs_of
		printf '%s\n' "$rec" | jq -r '[.name, .seconds, (.mb_per_s // ""), (.cpu_seconds // "")] | @tsv' >>"$TIMES" ||
			die "cannot write $TIMES"
		;;
	esac
}

# Seconds recorded for a timing NAME, empty if it was not measured.  From
# $TIMES (record writes it: name, seconds, MB/s of each "time" object), as
# a jq start per look-up cost seconds of CPU.
seconds_of() {
	awk -F '\t' -v n="$1" '$1 == n { s = $2 } END { printf "%s", s }' "$TIMES"
}

# MB/s recorded for a timing NAME, empty if it was not measured.
mbs_of() {
	awk -F '\t' -v n="$1" '$1 == n { s = $3 } END { printf "%s", s }' "$TIMES"
}

# CPU seconds (user + system) of a timing NAME, empty if not measured:
# hyperfine's mean, the shell loop's least.
cpu_of() {
	awk -F '\t' -v n="$1" '$1 == n { s = $4 } END { printf "%s", s }' "$TIMES"
}

# bench_once NAME CMD...: bench, unless an earlier section timed NAME.
bench_once() {
	[ -n "$(seconds_of "$1")" ] || bench "$@"
}

# One word of a command, quoted for sh only when it has to be (readable logs).
shquote() {
	case $1 in
	'' | *[!A-Za-z0-9_./=:,+@%-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

cmdline() {
	out=
	for w in "$@"; do out="$out${out:+ }$(shquote "$w")"; done
	printf '%s' "$out"
}

# --- sections and tables -----------------------------------------------------

PASS=0 MISS=0 SKIP=0

section() {
	printf '\n== %s ==\n' "$1"
	printf '%-24s %10s %10s %8s\n' name seconds MB/s cpu_s
}

# bench NAME CMD...: time CMD on the data file, best of $RUNS after
# $WARMUP untimed runs, stdout to /dev/null; its CPU seconds (user +
# system) beside, which a loaded machine blurs less than the wall clock.  CMD is one command and its
# words; a pipeline goes through `sh -c '...' NAME "$DATA"` so that both
# timers see it as one command.  Set for one call: BENCH_BYTES, the bytes
# the MB/s is of when not the data file's (reconcile reads two files);
# BENCH_PREPARE, a shell line run untimed before every run (a fresh table).
bench() {
	name=$1
	shift
	cmd=$(cmdline "$@")
	bytes=${BENCH_BYTES:-$DATA_BYTES}
	prep=${BENCH_PREPARE:-}
	log=$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	if [ "$HAVE_HYPERFINE" = 1 ]; then
		timer="hyperfine $(hyperfine --version | awk '{print $2}')"
		json=$log.json
		# hyperfine runs the line through sh and subtracts the shell's
		# start-up; its own report goes to the log, not the table.
		if ! hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$json" \
			${prep:+--prepare "$prep"} \
			--command-name "$name" "$cmd >/dev/null" >"$log" 2>&1; then
			bench_failed "$name" "$log"
			return 1
		fi
		best=$(jq -r '.results[0].min' "$json")
		mean=$(jq -r '.results[0].mean' "$json")
		cpu=$(jq -r '.results[0] | .user + .system' "$json")
	else
		timer="shell loop (date +%s.%N)"
		: >"$log"
		i=0
		while [ "$i" -lt "$WARMUP" ]; do
			[ -z "$prep" ] || sh -c "$prep" >>"$log" 2>&1 || { bench_failed "$name" "$log"; return 1; }
			"$@" >/dev/null 2>>"$log" || { bench_failed "$name" "$log"; return 1; }
			i=$((i + 1))
		done
		i=0 best='' sum=0 cpu=
		while [ "$i" -lt "$RUNS" ]; do
			[ -z "$prep" ] || sh -c "$prep" >>"$log" 2>&1 || { bench_failed "$name" "$log"; return 1; }
			t0=$(date +%s.%N)
			if [ "$HAVE_GNU_TIME" = 1 ]; then
				/usr/bin/time -f '%U %S' -o "$log.cpu" "$@" >/dev/null 2>>"$log" ||
					{ bench_failed "$name" "$log"; return 1; }
			else
				"$@" >/dev/null 2>>"$log" || { bench_failed "$name" "$log"; return 1; }
			fi
			t1=$(date +%s.%N)
			d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
			echo "run $i: $d s" >>"$log"
			best=$(awk -v a="$best" -v d="$d" 'BEGIN { print (a == "" || d < a) ? d : a }')
			[ "$HAVE_GNU_TIME" = 0 ] ||
				cpu=$(tail -n 1 "$log.cpu" | awk -v a="$cpu" '{ c = $1 + $2; print (a == "" || c < a) ? c : a }')
			sum=$(awk -v s="$sum" -v d="$d" 'BEGIN { print s + d }')
			i=$((i + 1))
		done
		mean=$(awk -v s="$sum" -v n="$RUNS" 'BEGIN { printf "%.6f", s / n }')
	fi
	mbs=$(awk -v b="$bytes" -v s="$best" 'BEGIN { printf "%.4f", b / 1e6 / (s > 1e-6 ? s : 1e-6) }')
	printf '%-24s %10.3f %10.1f %8s\n' "$name" "$best" "$mbs" \
		"$(if [ -n "$cpu" ]; then printf '%.3f' "$cpu"; else echo -; fi)"
	record --arg name "$name" --arg command "$cmd" --arg timer "$timer" \
		--argjson seconds "$best" --argjson mean "$mean" --argjson mb_per_s "$mbs" \
		--argjson cpu "${cpu:-null}" \
		--argjson bytes "$bytes" --argjson records "$N" --argjson runs "$RUNS" \
		'{kind:"time", name:$name, seconds:$seconds, mb_per_s:$mb_per_s,
		  cpu_seconds:$cpu, mean_seconds:$mean, runs:$runs, bytes:$bytes,
		  records:$records, timer:$timer, command:$command}'
}

bench_failed() {
	printf '%-24s %10s   (failed: see %s)\n' "$1" FAIL "$2"
	tail -n 5 "$2" | sed 's/^/    /'
	SKIP=$((SKIP + 1))
}

# ratio NAME A B [TARGET]: how many times faster timing A is than timing B
# (seconds of B / seconds of A).  With a TARGET, PASS when at least that;
# without, the line is for information.
ratio() {
	name=$1 a=$2 b=$3 target=${4:-}
	ta=$(seconds_of "$a") tb=$(seconds_of "$b")
	if [ -z "$ta" ] || [ -z "$tb" ]; then
		[ -n "$ta" ] || a="$a (not measured)"
		[ -n "$tb" ] || b="$b (not measured)"
		printf '%-32s %8s   %s vs %s\n' "$name" SKIP "$a" "$b"
		SKIP=$((SKIP + 1))
		return 0
	fi
	x=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.2f", b / a }')
	if [ -n "$target" ]; then
		if awk -v x="$x" -v t="$target" 'BEGIN { exit !(x >= t) }'; then
			status=PASS PASS=$((PASS + 1))
		else
			status=MISS MISS=$((MISS + 1))
		fi
		printf '%-32s %7sx   target >= %-4s %s\n' "$name" "$x" "${target}x" "$status"
		tj=$target
	else
		status=INFO tj=null
		printf '%-32s %7sx   (information)\n' "$name" "$x"
	fi
	record --arg name "$name" --arg a "$a" --arg b "$b" --argjson ratio "$x" \
		--argjson target "$tj" --arg status "$status" \
		'{kind:"ratio", name:$name, a:$a, b:$b, ratio:$ratio,
		  target_min:$target, status:$status}'
}

# rss NAME KEYS TARGET CMD...: peak RSS of CMD reading KEYS records with
# all-distinct order_ids, streamed from gen so that no multi-GB file is
# written; reports bytes per key (PASS when at most TARGET).  /usr/bin/time
# wraps CMD alone, on the right of the pipe, so gen's own memory is not
# counted; --keys equal to -n makes every record a new key.
rss() {
	name=$1 keys=$2 target=$3
	shift 3
	if [ "$HAVE_GNU_TIME" = 0 ]; then
		printf '%-32s %8s   (no GNU time)\n' "$name" SKIP
		SKIP=$((SKIP + 1))
		return 0
	fi
	log=$LOGS/rss-$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	cmd=$(cmdline "$@")
	rc=$(
		{ "$IDEM_GEN" -n "$keys" --keys "$keys" -s "$SEED"; echo $? >"$log.gen-rc"; } |
			/usr/bin/time -f %M -o "$log.rss" "$@" >/dev/null 2>"$log"
		echo $?
	)
	if [ "$rc" != 0 ] || [ "$(cat "$log.gen-rc")" != 0 ]; then
		printf '%-32s %8s   (exit %s; see %s)\n' "$name" FAIL "$rc" "$log"
		SKIP=$((SKIP + 1))
		return 0
	fi
	kb=$(tail -n 1 "$log.rss")
	per=$(awk -v kb="$kb" -v n="$keys" 'BEGIN { printf "%.1f", kb * 1024 / n }')
	if awk -v p="$per" -v t="$target" 'BEGIN { exit !(p <= t) }'; then
		status=PASS PASS=$((PASS + 1))
	else
		status=MISS MISS=$((MISS + 1))
	fi
	printf '%-32s %7s B/key  (peak RSS %s KiB, %s keys)  target <= %s  %s\n' \
		"$name" "$per" "$kb" "$keys" "$target" "$status"
	record --arg name "$name" --arg command "$cmd" --argjson keys "$keys" \
		--argjson maxrss_kb "$kb" --argjson bytes_per_key "$per" \
		--argjson target "$target" --arg status "$status" \
		'{kind:"memory", name:$name, keys:$keys, maxrss_kb:$maxrss_kb,
		  bytes_per_key:$bytes_per_key, target_max:$target, status:$status,
		  command:$command}'
}

# --- the data file -----------------------------------------------------------
# Generated once and reused: same N and seed give the same bytes.  The meta
# file pins the parameters, the size, and a checksum of a small sample of
# gen's output, so a changed generator or an interrupted write regenerates.

# data_file N: sets DF to the file of N records (10% repeats), made once.
data_file() {
	df_keys=$(($1 - $1 / 10)) # 10% repeats: gen's default, spelled out so the check below knows it
	DF=$BENCH_DIR/orders-n$1-s$SEED.ndjson
	df_meta="n=$1 keys=$df_keys seed=$SEED probe=$probe"
	if [ -f "$DF" ] && [ -f "$DF.meta" ] &&
		[ "$(sed -n 1p "$DF.meta")" = "$df_meta" ] &&
		[ "$(sed -n 2p "$DF.meta")" = "bytes=$(wc -c <"$DF" | tr -d ' ')" ]; then
		printf 'bench: reusing %s\n' "$DF"
	else
		printf 'bench: generating %s records into %s\n' "$1" "$DF"
		rm -f "$DF.meta"
		"$IDEM_GEN" -n "$1" --keys "$df_keys" -s "$SEED" >"$DF.tmp" || die "gen failed"
		mv "$DF.tmp" "$DF"
		printf '%s\nbytes=%s\n' "$df_meta" "$(wc -c <"$DF" | tr -d ' ')" >"$DF.meta"
	fi
}
probe=$("$IDEM_GEN" -n 1000 --keys 900 -s "$SEED" | cksum | awk '{print $1}')
KEYS=$((N - N / 10))
data_file "$N"
DATA=$DF
DATA_BYTES=$(wc -c <"$DATA" | tr -d ' ')
DATA_N=$N DATA_FILE=$DATA DATA_FILE_BYTES=$DATA_BYTES
cat "$DATA" >/dev/null # into the page cache before anything is timed

# What the figures came from, so a quoted number can be traced back.
ver() { "$@" 2>&1 | head -n 1; }
if [ "$HAVE_HYPERFINE" = 1 ]; then timer=$(ver hyperfine --version); else timer="shell loop"; fi
record --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg commit "$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)" \
	--argjson cpus "$(nproc 2>/dev/null || echo 0)" \
	--argjson records "$N" --argjson keys "$KEYS" --argjson seed "$SEED" \
	--argjson bytes "$DATA_BYTES" --argjson runs "$RUNS" --argjson warmup "$WARMUP" \
	--arg timer "$timer" --arg jq "$(ver jq --version)" \
	--arg mlr "$(if [ "$HAVE_MLR" = 1 ]; then ver mlr --version; fi)" \
	--arg awk "$(readlink -f "$(command -v awk)")" \
	'{kind:"run", date:$date, commit:$commit, cpu:$cpu, cpus:$cpus,
	  records:$records, keys:$keys, seed:$seed, bytes:$bytes, runs:$runs,
	  warmup:$warmup, timer:$timer, jq:$jq, mlr:$mlr, awk:$awk}'
printf 'bench: %s records, %s bytes, best of %s after %s warm-up; timer: %s\n' \
	"$N" "$DATA_BYTES" "$RUNS" "$WARMUP" "$timer"

# --- dedup -------------------------------------------------------------------

if have dedup && want dedup; then
	section dedup
	# A fast wrong answer is no result: the key dedup must keep exactly
	# gen's number of distinct order_ids.
	got=$("$IDEM_BIN/dedup" -k .order_id "$DATA" | wc -l | tr -d ' ')
	[ "$got" = "$KEYS" ] || printf 'bench: WARNING dedup -k kept %s records, expected %s\n' "$got" "$KEYS"

	bench dedup-key "$IDEM_BIN/dedup" -k .order_id "$DATA"
	bench dedup-record "$IDEM_BIN/dedup" "$DATA"
	# Peers: what one would write without idem.  awk dedups whole lines by
	# bytes; jq -c is the floor for anything that parses JSON with jq;
	# miller keeps the first record per key; jq | sort -u gets the keys only.
	bench awk-seen awk '!seen[$0]++' "$DATA"
	bench jq-c jq -c . "$DATA"
	if [ "$HAVE_MLR" = 1 ]; then
		# shellcheck disable=SC2086 # MLR_IO is two flags
		bench mlr-head-g mlr $MLR_IO head -n 1 -g order_id "$DATA"
	fi
	bench jq-sort-u sh -c 'jq -r .order_id "$1" | sort -u' jq-sort-u "$DATA"

	printf '\n%-32s %8s\n' ratio "faster"
	ratio "dedup -k vs awk" dedup-key awk-seen 5
	ratio "dedup -k vs jq -c" dedup-key jq-c 20
	ratio "dedup (record) vs awk" dedup-record awk-seen 2
	ratio "dedup -k vs mlr head -g" dedup-key mlr-head-g
	ratio "dedup -k vs jq | sort -u" dedup-key jq-sort-u

	printf '\n'
	rss "dedup -k memory" "$MEM_N" 40 "$IDEM_BIN/dedup" -k .order_id
	rss "dedup -k --ttl memory" "$MEM_N" 40 "$IDEM_BIN/dedup" -k .order_id \
		-t .event_time --ttl 1000d
fi

# --- watermark and window ----------------------------------------------------

# rss_flat NAME N1 N2 CMD...: peak RSS of CMD over N1 and then N2 generated
# records (streamed from gen); PASS when the larger run needs at most 1.5x
# the memory of the smaller one, i.e. memory holds open windows, not input.
rss_flat() {
	name=$1 n1=$2 n2=$3
	shift 3
	if [ "$HAVE_GNU_TIME" = 0 ]; then
		printf '%-32s %8s   (no GNU time)\n' "$name" SKIP
		SKIP=$((SKIP + 1))
		return 0
	fi
	log=$LOGS/rss-$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	for n in "$n1" "$n2"; do
		"$IDEM_GEN" -n "$n" -s "$SEED" | /usr/bin/time -f %M -o "$log.$n" "$@" >/dev/null 2>>"$log" ||
			{ printf '%-32s %8s   (see %s)\n' "$name" FAIL "$log"; SKIP=$((SKIP + 1)); return 0; }
	done
	k1=$(tail -n 1 "$log.$n1") k2=$(tail -n 1 "$log.$n2")
	if awk -v a="$k1" -v b="$k2" 'BEGIN { exit !(b <= a * 1.5) }'; then
		status=PASS PASS=$((PASS + 1))
	else
		status=MISS MISS=$((MISS + 1))
	fi
	printf '%-32s peak RSS %s KiB at %s records, %s KiB at %s  %s\n' \
		"$name" "$k1" "$n1" "$k2" "$n2" "$status"
	record --arg name "$name" --argjson n1 "$n1" --argjson n2 "$n2" \
		--argjson kb1 "$k1" --argjson kb2 "$k2" --arg status "$status" \
		'{kind:"memory", name:$name, records:[$n1,$n2], maxrss_kb:[$kb1,$kb2], status:$status}'
}

if have window && want window; then
	section window
	# Hourly GMV per currency.  Miller needs the hour bucket computed with
	# put; DuckDB (time_bucket over read_json) runs in sections/duckdb.sh.
	# --delay 30d holds every window to the end, so the answer is the
	# plain group-by the peers compute (gen's repeats carry old times).
	bench window-tumble "$IDEM_BIN/window" --tumble 1h --delay 30d -t .event_time -g .currency \
		--agg 'n=count()' --agg 'gmv=sum(.amount)' "$DATA"
	if [ "$HAVE_MLR" = 1 ]; then
		# shellcheck disable=SC2086 # MLR_IO is two flags
		bench mlr-stats1 mlr $MLR_IO put '$hour = substr($event_time, 0, 12)' \
			then stats1 -a count,sum -f amount -g hour,currency "$DATA"
	fi
	printf '\n%-32s %8s\n' ratio "faster"
	ratio "window vs mlr put+stats1" window-tumble mlr-stats1 40
	printf '\n'
	rss_flat "window 1h/10m lateness memory" $((MEM_N / 10)) "$MEM_N" \
		"$IDEM_BIN/window" --tumble 1h --delay 0s --lateness 10m -t .event_time -g .currency \
		--agg 'n=count()' --agg 'gmv=sum(.amount)'
fi

if have watermark && want watermark; then
	section watermark
	bench watermark-filter "$IDEM_BIN/watermark" -t .event_time --delay 10m --late drop "$DATA"
	[ -n "$(seconds_of awk-seen)" ] || bench awk-seen awk '!seen[$0]++' "$DATA"
	printf '\n%-32s %8s\n' ratio "faster"
	ratio "watermark vs awk" watermark-filter awk-seen 5
fi

# --- checkpoint ----------------------------------------------------------------

if have checkpoint && want checkpoint; then
	section checkpoint
	# A fresh state each run: the whole file is one new batch.
	bench checkpoint-read sh -c 'rm -f "$2".ckpt; "$1"/checkpoint read -s "$2".ckpt "$3" | cat' ckpt "$IDEM_BIN" "$BENCH_DIR/bench" "$DATA"
	bench cat-pipe sh -c 'cat "$1" | cat' cat-pipe "$DATA"
	printf '\n%-32s %8s\n' ratio "faster"
	ratio "checkpoint read vs cat | cat" checkpoint-read cat-pipe 0.8
fi

# --- dlq -------------------------------------------------------------------------

if have dlq && want dlq; then
	section dlq
	printf '%s\n' '{"required":["amount"],"properties":{"amount":{"type":"number","minimum":0}}}' >"$BENCH_DIR/amount.schema.json"
	bench dlq-check-e "$IDEM_BIN/dlq" check -e '.amount > 0' --dlq /dev/null "$DATA"
	bench dlq-check-schema "$IDEM_BIN/dlq" check --schema "$BENCH_DIR/amount.schema.json" --dlq /dev/null "$DATA"
	bench jq-select jq -c 'select(.amount > 0)' "$DATA"
	# dlq retry: per-record overhead over spawning the command directly
	# (bin-test/spawn: fork, exec, the line on a pipe, wait; no shell),
	# on 1000 records (50 with BENCH_QUICK): a figure per record, not a
	# throughput.
	head -n "$RETRY_N" "$DATA" >"$BENCH_DIR/retry.ndjson"
	spawn=$(dirname "$IDEM_GEN")/spawn
	bench dlq-retry-1000 "$IDEM_BIN/dlq" retry --retries 3 --backoff 10ms..1s "$BENCH_DIR/retry.ndjson" -- cat
	bench spawn-1000 "$spawn" "$BENCH_DIR/retry.ndjson" cat
	printf '\n%-32s %8s\n' ratio "faster"
	ratio "dlq check -e vs jq select" dlq-check-e jq-select 20
	ratio "dlq check --schema vs jq select" dlq-check-schema jq-select 20
	a=$(seconds_of dlq-retry-1000) b=$(seconds_of spawn-1000)
	if [ -n "$a" ] && [ -n "$b" ]; then
		per=$(awk -v a="$a" -v b="$b" -v n="$RETRY_N" 'BEGIN { printf "%.3f", (a - b) * 1000 / n }')
		if awk -v p="$per" 'BEGIN { exit !(p < 2) }'; then
			status=PASS PASS=$((PASS + 1))
		else
			status=MISS MISS=$((MISS + 1))
		fi
		printf '%-32s %7s ms/record over spawning cat directly (target < 2)  %s\n' \
			"dlq retry overhead" "$per" "$status"
		record --arg name "dlq retry overhead" --argjson ms "$per" --arg status "$status" \
			'{kind:"overhead", name:$name, ms_per_record:$ms, target_max:2, status:$status}'
	fi
fi

# --- reconcile -------------------------------------------------------------------

if have reconcile; then
	# Source: the data file.  Target: 1% of the lines dropped and 0.1% with
	# a changed amount -- a silver layer that lost and altered some rows.
	RTGT=$BENCH_DIR/recon-target-n$N-s$SEED.ndjson
	if [ ! -s "$RTGT" ] || [ "$RTGT" -ot "$DATA" ]; then
		awk 'NR % 100 == 0 { next }
			NR % 1000 == 7 { sub(/"amount":[0-9.]+/, "\"amount\":0.01") }
			{ print }' "$DATA" >"$RTGT.tmp" && mv "$RTGT.tmp" "$RTGT" ||
			die "cannot write $RTGT"
	fi
	# The same answer the hard way: per-day rows and sums, then the keys
	# missing, extra and changed, with jq, sort, comm and awk (the two jq
	# runs in parallel, as reconcile reads both sides at once).
	RJQ=$BENCH_DIR/recon-jq.sh
	cat >"$RJQ" <<'SH'
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
tsv='[.order_id, .day, (.amount|tostring), tojson] | @tsv'
jq -r "$tsv" "$1" | sort >"$d/s" &
jq -r "$tsv" "$2" | sort >"$d/t" &
wait
for x in s t; do
	awk -F '\t' '{ n[$2]++; s[$2] += $3 } END { for (k in n) print k, n[k], s[k] }' "$d/$x" | sort >"$d/$x.days"
	cut -f1 "$d/$x" | uniq >"$d/$x.keys"
done
join -a1 -a2 "$d/s.days" "$d/t.days"
comm -23 "$d/s.keys" "$d/t.keys" | sed 's/^/missing /'
comm -13 "$d/s.keys" "$d/t.keys" | sed 's/^/extra /'
comm -12 "$d/s.keys" "$d/t.keys" >"$d/both"
comm -3 "$d/s" "$d/t" | sed 's/^\t//' | cut -f1 | sort -u | comm -12 - "$d/both" | sed 's/^/changed /'
SH
	# DuckDB's reconcile (timed in sections/duckdb.sh, which says what
	# it does, and in sections/threads.sh with DUCKDB_THREADS=1 and =N):
	# a script, so that both time it as one command.
	side() {
		printf "SELECT day, count(*) AS rows, count(DISTINCT order_id) AS keys, sum(amount) AS amount FROM %s GROUP BY day" "$1"
	}
	DUCK_REC=$BENCH_DIR/duck-reconcile.sh
	printf 'exec %s\n' "$(cmdline node "$(dirname "$0")/duckdb/query.mjs" \
		"CREATE TABLE s AS SELECT * FROM read_json('$DATA')" \
		"CREATE TABLE t AS SELECT * FROM read_json('$RTGT')" \
		"SELECT day, s.rows AS source_rows, s.keys AS source_keys, s.amount AS source_sum,
			t.rows AS target_rows, t.keys AS target_keys, t.amount AS target_sum
			FROM ($(side s)) s FULL JOIN ($(side t)) t USING (day) ORDER BY day" \
		"SELECT count(*) AS source_rows, sum(amount) AS source_sum,
			(SELECT count(*) FROM t) AS target_rows, (SELECT sum(amount) FROM t) AS target_sum,
			true AS total FROM s" \
		"SELECT 'missing' AS diff, order_id FROM (SELECT order_id FROM s EXCEPT SELECT order_id FROM t) ORDER BY order_id" \
		"SELECT 'extra' AS diff, order_id FROM (SELECT order_id FROM t EXCEPT SELECT order_id FROM s) ORDER BY order_id" \
		"SELECT DISTINCT 'changed' AS diff, order_id FROM
			((SELECT * FROM s EXCEPT ALL SELECT * FROM t) UNION ALL (SELECT * FROM t EXCEPT ALL SELECT * FROM s))
			WHERE order_id IN (SELECT order_id FROM s INTERSECT SELECT order_id FROM t) ORDER BY order_id")" >"$DUCK_REC" ||
		die "cannot write $DUCK_REC"
	RBYTES=$((DATA_BYTES + $(wc -c <"$RTGT")))
fi

if have reconcile && want reconcile; then
	section reconcile
	# A fast wrong answer is no result: check the counts first.
	got=$("$IDEM_BIN/reconcile" -k .order_id --sum .amount --by .day "$DATA" "$RTGT" |
		jq -c 'select(.total) | [.missing, .extra, .changed]')
	want=$(sh "$RJQ" "$DATA" "$RTGT" | awk '$1 == "missing" { m++ } $1 == "extra" { e++ } $1 == "changed" { c++ }
		END { printf "[%d,%d,%d]", m, e, c }')
	[ "$got" = "$want" ] || printf 'bench: WARNING reconcile found %s, the jq pipeline %s\n' "$got" "$want"

	# reconcile exits 1 when it finds differences, as it must here.  Its
	# MB/s are of both files' bytes.
	BENCH_BYTES=$RBYTES bench reconcile-by-day sh -c '"$@" || [ $? = 1 ]' reconcile \
		"$IDEM_BIN/reconcile" -k .order_id --sum .amount --by .day "$DATA" "$RTGT"
	BENCH_BYTES=$RBYTES bench reconcile-1-thread sh -c 'RECONCILE_NO_THREADS=1 "$@" || [ $? = 1 ]' reconcile \
		"$IDEM_BIN/reconcile" -k .order_id --sum .amount --by .day "$DATA" "$RTGT"
	BENCH_BYTES=$RBYTES bench jq-sort-comm sh "$RJQ" "$DATA" "$RTGT"
	# DuckDB (npm @duckdb/node-api) runs in sections/duckdb.sh, which
	# also prints its double sums next to reconcile's exact ones.
	printf '\n%-32s %8s\n' ratio "faster"
	ratio "reconcile vs jq/sort/comm" reconcile-by-day jq-sort-comm 20
	ratio "reconcile 2 threads vs 1" reconcile-by-day reconcile-1-thread

	# Bounded memory: $MEM_N distinct keys on each side, streamed from gen
	# through FIFOs, under --memory 256M: the key tables spill to zstd
	# files by key hash and are joined bucket by bucket.
	printf '\n'
	if [ "$HAVE_GNU_TIME" = 1 ]; then
		log=$LOGS/rss-reconcile.log
		rm -f "$BENCH_DIR/recon-a" "$BENCH_DIR/recon-b"
		mkfifo "$BENCH_DIR/recon-a" "$BENCH_DIR/recon-b" || die "mkfifo"
		"$IDEM_GEN" -n "$MEM_N" --keys "$MEM_N" -s "$SEED" >"$BENCH_DIR/recon-a" &
		"$IDEM_GEN" -n "$MEM_N" --keys "$MEM_N" -s "$SEED" |
			awk 'NR % 1000 == 0 { next } { print }' >"$BENCH_DIR/recon-b" &
		/usr/bin/time -f %M -o "$log.rss" "$IDEM_BIN/reconcile" -k .order_id --memory 256M \
			--stats "$BENCH_DIR/recon-a" "$BENCH_DIR/recon-b" >"$log.out" 2>"$log" || true
		wait
		rm -f "$BENCH_DIR/recon-a" "$BENCH_DIR/recon-b"
		kb=$(tail -n 1 "$log.rss")
		if grep -q '"spilled":true' "$log" && awk -v kb="$kb" 'BEGIN { exit !(kb <= 256 * 1024) }'; then
			status=PASS PASS=$((PASS + 1))
		else
			status=MISS MISS=$((MISS + 1))
		fi
		printf '%-32s peak RSS %s KiB for %s keys a side, --memory 256M  %s\n' \
			"reconcile spill memory" "$kb" "$MEM_N" "$status"
		record --arg name "reconcile spill memory" --argjson keys "$MEM_N" \
			--argjson maxrss_kb "$kb" --arg status "$status" \
			'{kind:"memory", name:$name, keys:$keys, maxrss_kb:$maxrss_kb, memory_limit:"256M", status:$status}'
	fi
fi

# --- further sections ----------------------------------------------------------
# One file per tool or comparison in tests/bench/sections/, sourced here so
# it shares bench, ratio, rss, have and record.

# A section's loop variable must not change the data file the next one
# reads (growth.sh counts records in N).  Each section's wall and CPU
# seconds go to results.ndjson (kind "section"), for BENCH_QUICK's budget.
for f in "$(dirname "$0")"/sections/*.sh; do
	sec_name=$(basename "$f" .sh) # before the section: growth.sh sets f
	[ -f "$f" ] && want "$sec_name" || continue
	cpu_now
	sec_t0=$(date +%s.%N) sec_c0=$CPU_NOW
	. "$f"
	N=$DATA_N DATA=$DATA_FILE DATA_BYTES=$DATA_FILE_BYTES
	cpu_now
	record --arg name "$sec_name" \
		--argjson wall "$(awk -v a="$sec_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')" \
		--argjson cpu "$(awk -v a="$sec_c0" -v b="$CPU_NOW" 'BEGIN { printf "%.2f", b - a }')" \
		'{kind:"section", name:$name, wall_seconds:$wall, cpu_seconds:$cpu}'
done

# --- summary -------------------------------------------------------------------

printf '\n%s targets met, %s missed, %s skipped; figures in %s\n' \
	"$PASS" "$MISS" "$SKIP" "$RESULTS"
cpu_now
printf 'bench: %s s wall, %s s CPU (the commands and the harness)\n' \
	"$(awk -v a="$BENCH_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" "$CPU_NOW"
if [ "$STRICT" = 1 ] && [ "$MISS" -gt 0 ]; then
	exit 1
fi
exit 0
