# Growth along one dimension at a time, 4x steps (sourced by
# tests/bench/run.sh; runs alone too, for one measurement:
#   IDEM_BIN=$PWD/build/bin sh tests/bench/sections/growth.sh).
# Each line is the time at three sizes and the growth factor of each 4x
# step: about 4 is linear, 16 quadratic.  PASS when every step stays
# under GROWTH_MAX (default 6: linear with room for caches and noise).
# Each time is the least of GROWTH_RUNS (default 3) runs.

if ! command -v record >/dev/null 2>&1; then # alone, not sourced by run.sh
	set -u
	LC_ALL=C
	export LC_ALL
	: "${IDEM_BIN:?IDEM_BIN: the folder of the idem binaries}"
	BENCH_DIR=${BENCH_DIR:-/tmp/idem-bench}
	mkdir -p "$BENCH_DIR"
	PASS=0 MISS=0 SKIP=0
	record() { :; }
	have() { [ -x "$IDEM_BIN/$1" ]; }
fi
GROWTH_MAX=${GROWTH_MAX:-6}

GROWTH_RUNS=${GROWTH_RUNS:-3}
# gsz SIZE...: the sizes divided by GROWTH_DIV (run.sh's BENCH_QUICK sets
# 50: a smoke test of every line, the figures meaningless)
GROWTH_DIV=${GROWTH_DIV:-1}
gsz() {
	for g in "$@"; do
		echo $((g / GROWTH_DIV > 0 ? g / GROWTH_DIV : 1))
	done
}

# growth_time CMD...: wall seconds, the least of GROWTH_RUNS runs (a
# shared machine only ever adds time), stdout discarded; the shell text
# in $growth_prep, when set, runs (untimed) before each run.
growth_prep=
growth_time() {
	best=
	r=0
	while [ "$r" -lt "$GROWTH_RUNS" ]; do
		r=$((r + 1))
		[ -z "$growth_prep" ] || eval "$growth_prep"
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>"$BENCH_DIR/growth.err" || {
			echo FAIL
			return 0
		}
		t1=$(date +%s.%N)
		best=$(awk -v a="$t0" -v b="$t1" -v m="$best" 'BEGIN {
			t = b - a; if (m != "" && m + 0 < t) t = m; printf "%.3f", t }')
	done
	echo "$best"
}

# growth_report NAME UNIT S1 T1 S2 T2 S3 T3
growth_report() {
	name=$1 unit=$2
	shift 2
	case "$2 $4 $6" in *FAIL*)
		printf '%-28s FAIL (%s)\n' "$name" "$(head -c 200 "$BENCH_DIR/growth.err")"
		SKIP=$((SKIP + 1))
		return 0 ;;
	esac
	g1=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.1f", b / (a > 0.001 ? a : 0.001) }')
	g2=$(awk -v a="$4" -v b="$6" 'BEGIN { printf "%.1f", b / (a > 0.001 ? a : 0.001) }')
	if awk -v x="$g1" -v y="$g2" -v m="$GROWTH_MAX" 'BEGIN { exit !(x <= m && y <= m) }'; then
		status=PASS PASS=$((PASS + 1))
	else
		status=MISS MISS=$((MISS + 1))
	fi
	printf '%-28s %s=%s/%s/%s: %s/%s/%s s, growth %sx %sx (<= %s) %s\n' \
		"$name" "$unit" "$1" "$3" "$5" "$2" "$4" "$6" "$g1" "$g2" "$GROWTH_MAX" "$status"
	record --arg name "$name" --arg unit "$unit" --argjson s1 "$1" --argjson t1 "$2" \
		--argjson s2 "$3" --argjson t2 "$4" --argjson s3 "$5" --argjson t3 "$6" \
		--argjson g1 "$g1" --argjson g2 "$g2" --arg status "$status" \
		'{kind:"growth", name:$name, unit:$unit, sizes:[$s1,$s2,$s3],
		  seconds:[$t1,$t2,$t3], growth:[$g1,$g2], status:$status}'
}

printf '\n== growth (4x steps) ==\n'

# watermark -p: P partitions, 4 rounds of one record each, time rising.
if have watermark; then
	set --
	for P in $(gsz 5000 20000 80000); do
		f=$BENCH_DIR/growth-wm-$P.ndjson
		[ -s "$f" ] || awk -v P="$P" 'BEGIN { for (r = 0; r < 4; r++)
			for (i = 0; i < P; i++) printf "{\"p\":%d,\"t\":%d}\n", i, r * P + i }' >"$f"
		set -- "$@" "$P" "$(growth_time "$IDEM_BIN/watermark" -t .t -p .p --delay 10s "$f")"
	done
	growth_report "watermark -p partitions" P "$@"
fi

# reconcile --by: P partitions (one record each, a side), peak memory held
# under --memory 64M (refused beyond its share, never grown past it).
if have reconcile; then
	set --
	for P in $(gsz 5000 20000 80000); do
		f=$BENCH_DIR/growth-rby-$P.ndjson
		[ -s "$f" ] || awk -v P="$P" 'BEGIN { for (i = 0; i < P; i++)
			printf "{\"id\":%d,\"g\":%d,\"a\":%d.5}\n", i, i, i }' >"$f"
		set -- "$@" "$P" "$(growth_time "$IDEM_BIN/reconcile" -k .id --by .g --sum .a --memory 512M "$f" "$f")"
	done
	growth_report "reconcile --by partitions" P "$@"
	f=$BENCH_DIR/growth-rby-$P.ndjson
	/usr/bin/time -f '%M' -o "$BENCH_DIR/growth-rby.rss" "$IDEM_BIN/reconcile" -k .id --by .g \
		--sum .a --memory 16M "$f" "$f" >/dev/null 2>&1
	kb=$(tail -n 1 "$BENCH_DIR/growth-rby.rss")
	printf '%-28s peak %s KB under --memory 16M (%s partitions: refused within it)\n' "reconcile --by memory" "$kb" "$P"
	record --arg name "reconcile --by memory" --argjson maxrss_kb "${kb:-0}" \
		'{kind:"memory", name:$name, maxrss_kb:$maxrss_kb, memory_limit:"16M"}'
fi

# checkpoint over a folder: F one-line files, run --until-empty -n 100
# (F/100 batches).  The folder is listed once; each batch opens only the
# files it takes and appends a record of them to the state's log (it
# rewrote the whole state twice a batch: 1k/4k/8k/16k took 0.43/4.21/
# 14.68/60+ s); the snapshot is rewritten once the log outgrows it.
if have checkpoint; then
	set --
	for F in $(gsz 1000 4000 16000); do
		d=$BENCH_DIR/growth-ckpt-$F
		if [ ! -d "$d" ]; then
			mkdir -p "$d"
			awk -v F="$F" -v d="$d" 'BEGIN { for (i = 0; i < F; i++)
				{ f = d "/f" i ".ndjson"; printf "{\"n\":%d}\n", i > f; close(f) } }'
		fi
		growth_prep='rm -f "$d.ckpt" "$d.ckpt.lock"'
		set -- "$@" "$F" "$(growth_time "$IDEM_BIN/checkpoint" run -s "$d.ckpt" --until-empty -n 100 "$d" -- cat)"
	done
	growth_prep=
	growth_report "checkpoint folder files" F "$@"
fi

# window --slide: k windows a record (200k records, 4 groups, one a
# second each); each record finds each of its k windows in O(1), so the
# time grows with k (the aggregates it must update), not k^2.
if have window; then
	WN=$(gsz 200000)
	f=$BENCH_DIR/growth-win-$WN.ndjson
	[ -s "$f" ] || awk -v WN="$WN" 'BEGIN { for (i = 0; i < WN; i++)
		printf "{\"g\":%d,\"t\":%d,\"a\":%d}\n", i % 4, i / 4, i % 7 }' >"$f"
	set --
	for K in 16 64 256; do
		set -- "$@" "$K" "$(growth_time "$IDEM_BIN/window" --slide "${K}s" --every 1s -t .t -g .g \
			--agg 's=sum(.a)' --delay 1s "$f")"
	done
	growth_report "window --slide windows/rec" k "$@"
	# --tumble 1s kept open by --lateness L minutes: L*60 windows a group
	# held, none of them scanned by a record
	set --
	for L in 60 240 960; do
		set -- "$@" "$L" "$(growth_time "$IDEM_BIN/window" --tumble 1s --lateness "${L}m" -t .t -g .g \
			--agg 's=sum(.a)' --delay 1s "$f")"
	done
	growth_report "window --lateness minutes" L "$@"
fi

# reconcile: N distinct keys a side (a file against itself), the
# default --memory.  Each record appends to its key-table segment and
# the join folds one segment at a time (a hash table probed at random
# per record: 2M -> 8M keys took 5.2x the user time).  The ids are
# printed with %.0f: mawk's %d stops at 2^31 - 1, which made all but
# 271k of the ids one key.
if have reconcile; then
	set --
	for N in $(gsz 500000 2000000 8000000); do
		f=$BENCH_DIR/growth-rec-keys-$N.ndjson
		[ -s "$f" ] || awk -v N="$N" 'BEGIN { for (i = 0; i < N; i++)
			printf "{\"id\":%.0f,\"a\":%d.5}\n", i * 7919, i % 1000 }' >"$f"
		set -- "$@" "$N" "$(growth_time "$IDEM_BIN/reconcile" -k .id --sum .a "$f" "$f")"
	done
	growth_report "reconcile records a side" N "$@"
	/usr/bin/time -f '%M' -o "$BENCH_DIR/growth-rec.rss" "$IDEM_BIN/reconcile" -k .id --sum .a \
		"$BENCH_DIR/growth-rec-keys-$N.ndjson" "$BENCH_DIR/growth-rec-keys-$N.ndjson" >/dev/null 2>&1
	kb=$(tail -n 1 "$BENCH_DIR/growth-rec.rss")
	printf '%-28s peak %s KB for %s keys a side\n' "reconcile memory" "$kb" "$N"
	record --arg name "reconcile memory" --argjson maxrss_kb "${kb:-0}" \
		--argjson keys "$N" '{kind:"memory", name:$name, maxrss_kb:$maxrss_kb, keys:$keys}'
fi

# txlog append with P partitions (4P records, one table each run): a
# record finds its partition's file by hash; each partition still costs
# a file, a folder and their fsyncs, and holds a zstd stream to the end.
if have txlog; then
	set --
	for P in $(gsz 250 1000 4000); do
		f=$BENCH_DIR/growth-txp-$P.ndjson
		[ -s "$f" ] || awk -v P="$P" 'BEGIN { for (r = 0; r < 4; r++)
			for (i = 0; i < P; i++) printf "{\"p\":%d,\"v\":%d}\n", i, r }' >"$f"
		t=$BENCH_DIR/growth-txp-table
		growth_prep='rm -rf "$t" && "$IDEM_BIN/txlog" init "$t" --infer --partition-by p'
		set -- "$@" "$P" "$(growth_time "$IDEM_BIN/txlog" append "$t" "$f")"
	done
	growth_prep=
	rm -rf "$BENCH_DIR/growth-txp-table"
	growth_report "txlog append partitions" P "$@"
fi

# dedup --state: the fixed cost of a run (one new record) over a state of
# K keys: loading into a set sized at once (32 segments, mapped in one
# call with huge pages asked for), saving in 64 KiB writes.  Both still
# read or write every stored key: the factor is ~4, linear in the state,
# not in the run's own records.
if have dedup; then
	set --
	for K in $(gsz 250000 1000000 4000000); do
		s=$BENCH_DIR/growth-dedup-$K.state
		rm -f "$s" "$s".*
		awk -v K="$K" 'BEGIN { for (i = 0; i < K; i++) printf "{\"k\":%d}\n", i }' |
			"$IDEM_BIN/dedup" -k .k --state "$s" >/dev/null
		printf '{"k":-1}\n' >"$BENCH_DIR/growth-dedup-one.ndjson"
		set -- "$@" "$K" "$(growth_time "$IDEM_BIN/dedup" -k .k --state "$s" "$BENCH_DIR/growth-dedup-one.ndjson")"
		rm -f "$s" "$s".*
	done
	growth_report "dedup --state keys held" K "$@"
fi

# window memory in the number of records: max RSS over 0.5M/2M/8M
# records (100 groups; sessions with gaps, kept 10 minutes late; tumbling
# windows kept an hour).  Open windows are bounded by the lateness, not
# the input, so the factor stays near 1 (measured 22.5/22.1/22.5 MB and
# 23.1/22.9/23.1 MB).
if have window && [ -x /usr/bin/time ]; then
	for mode in session tumble; do
		set --
		for N in 500000 2000000 8000000; do
			f=$BENCH_DIR/growth-winmem-$N.ndjson
			[ -s "$f" ] || awk -v N="$N" 'BEGIN { for (i = 0; i < N; i++)
				printf "{\"g\":%d,\"t\":%d,\"a\":%d}\n", i % 100,
					int(i / 100) * 3 + int(i / 10000) * 120, i % 7 }' >"$f"
			if [ "$mode" = session ]; then
				w="--session 60s --lateness 10m"
			else
				w="--tumble 1m --lateness 1h"
			fi
			# shellcheck disable=SC2086 # $w is two options
			/usr/bin/time -f %M -o "$BENCH_DIR/growth-winmem.rss" "$IDEM_BIN/window" $w \
				-t .t -g .g --agg 's=sum(.a)' --delay 1s "$f" >/dev/null 2>&1
			set -- "$@" "$N" "$(tail -n 1 "$BENCH_DIR/growth-winmem.rss")"
		done
		g1=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.2f", b / (a > 0 ? a : 1) }')
		g2=$(awk -v a="$4" -v b="$6" 'BEGIN { printf "%.2f", b / (a > 0 ? a : 1) }')
		if awk -v x="$g1" -v y="$g2" 'BEGIN { exit !(x <= 1.3 && y <= 1.3) }'; then
			status=PASS PASS=$((PASS + 1))
		else
			status=MISS MISS=$((MISS + 1))
		fi
		printf '%-28s N=%s/%s/%s: %s/%s/%s KB, growth %sx %sx (<= 1.3) %s\n' \
			"window $mode memory" "$1" "$3" "$5" "$2" "$4" "$6" "$g1" "$g2" "$status"
		record --arg name "window $mode memory" --argjson s1 "$1" --argjson k1 "$2" \
			--argjson s2 "$3" --argjson k2 "$4" --argjson s3 "$5" --argjson k3 "$6" \
			--arg status "$status" \
			'{kind:"memory_growth", name:$name, records:[$s1,$s2,$s3],
			  maxrss_kb:[$k1,$k2,$k3], status:$status}'
	done
fi
