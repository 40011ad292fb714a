# Every core, per tool (sourced by tests/bench/run.sh): each tool whose
# cost is parsing, at -j 1 and at -j $THREADS (BENCH_THREADS, default
# nproc), on the same data file in the same run, with
#   - its peers in that run: DuckDB with SET threads=1 and =$THREADS (where
#     one SQL query does the same job), and jq, mlr, awk, zstd -T1/-T$THREADS;
#     each as MB/s and as how many times faster idem is (idem with the
#     same threads: 1-thread peers against -j 1, DuckDB at $THREADS and
#     zstd -T$THREADS against -j $THREADS);
#   - the per-core limit: simdjson's On-Demand API extracting the field
#     dedup -k reads from every line (tests/bench/simdjson/extract.cpp,
#     BENCH_EXTRACT), each tool's -j 1 MB/s as a share of it.
# A tool without -j yet (`TOOL --help` does not name --threads) is timed
# as it is and its line says "no -j yet"; where the issue sets a bar on
# the thread ratio (dedup -k, window, reconcile: >= 1.7x), that is a MISS.
# MB/s are of the NDJSON bytes read (reconcile: both files; txlog cat and
# optimize: the NDJSON the table was appended from).

# mb1 X: X MB/s as printed in the table (one decimal)
mb1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }

# has_j TOOL [SUB]: does TOOL (SUB) take -j/--threads?
has_j() {
	# shellcheck disable=SC2086 # SUB: no word when empty
	"$IDEM_BIN/$1" ${2:-} --help 2>&1 | grep -q -- --threads
}

# tj_bench KEY ENV1 TOOL SUB ARGS...: KEY-j1 is `TOOL SUB -j 1 ARGS` and
# KEY-jN `-j $THREADS`; without -j, KEY-j1 is TOOL as it is with the
# environment ENV1 (reconcile: RECONCILE_NO_THREADS=1 for one thread).
# With TJ_EXIT1 set, exit 1 is success (reconcile finding differences).
# With TJ_CORES set (the tools with a thread target), KEY-core0 ... are
# `-j 1` again, one copy pinned to each core, all at once (tj_together,
# for tj_ceiling).
tj_bench() {
	tj_key=$1 tj_env=$2 tj_tool=$3 tj_sub=$4
	shift 4
	if has_j "$tj_tool" "$tj_sub"; then
		tj_one "$tj_key-j1" "" "-j 1" "$@"
		tj_one "$tj_key-jN" "" "-j $THREADS" "$@"
		if [ -n "${TJ_CORES:-}" ] && [ "$THREADS_PIN" = 1 ]; then
			tj_together "$tj_key" "$@"
		fi
	else
		tj_one "$tj_key-j1" "$tj_env" "" "$@"
	fi
}

tj_one() { # NAME ENV JWORDS ARGS...
	tj_name=$1 tj_e=$2 tj_j=$3
	shift 3
	# shellcheck disable=SC2086 # ENV, SUB, JWORDS and the pin are words or nothing
	if [ -n "${TJ_EXIT1:-}" ]; then
		bench "$tj_name" sh -c '"$@" || [ $? = 1 ]' "$tj_tool" \
			${TJ_PIN:+taskset -c $TJ_PIN} ${tj_e:+env $tj_e} "$IDEM_BIN/$tj_tool" $tj_sub $tj_j "$@"
	else
		bench "$tj_name" ${TJ_PIN:+taskset -c $TJ_PIN} ${tj_e:+env $tj_e} "$IDEM_BIN/$tj_tool" $tj_sub $tj_j "$@"
	fi
}

# tj_together KEY ARGS...: KEY-core0 ... KEY-core<N-1>, the seconds of
# `-j 1` on each core while a copy runs on every other core too: what
# each core gives when all are busy, as they are under -j N.  Timed one
# core at a time, the cores of this virtual machine said 0.50 s each for
# window -j 1, and 0.78 s each side by side (two hyperthreads of one
# host core, at times): the ceiling was 2x on paper and 1.3x in fact.
# $WARMUP + $RUNS rounds; the round that did the most work per second
# (the largest sum of 1 / seconds) is kept, as bench keeps the best run.
tj_together() {
	tj_key=$1
	shift
	tj_dir=$(mktemp -d) || die "mktemp failed"
	tj_log=$LOGS/$tj_key-cores.log
	: >"$tj_log"
	tj_r=0 tj_best=-1
	while [ "$tj_r" -lt "$((WARMUP + RUNS))" ]; do
		tj_c=0 tj_pids=
		while [ "$tj_c" -lt "$THREADS" ]; do
			# shellcheck disable=SC2086 # SUB: a word or nothing
			(
				t0=$(date +%s.%N)
				taskset -c "$tj_c" "$IDEM_BIN/$tj_tool" $tj_sub -j 1 "$@" >/dev/null 2>>"$tj_log"
				st=$?
				t1=$(date +%s.%N)
				if [ "$st" = 0 ] || { [ -n "${TJ_EXIT1:-}" ] && [ "$st" = 1 ]; }; then
					awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f from %s to %s\n", b - a, a, b }'
				else
					echo "exit $st"
				fi >"$tj_dir/$tj_c"
			) &
			tj_pids="$tj_pids $!"
			tj_c=$((tj_c + 1))
		done
		# shellcheck disable=SC2086 # the pids, one word each
		wait $tj_pids
		tj_inv=0 tj_c=0
		while [ "$tj_c" -lt "$THREADS" ]; do
			echo "round $tj_r cpu$tj_c: $(cat "$tj_dir/$tj_c")" >>"$tj_log"
			tj_s=$(cut -d ' ' -f 1 "$tj_dir/$tj_c")
			case $tj_s in
			exit*)
				rm -rf "$tj_dir"
				bench_failed "$tj_key-core$tj_c" "$tj_log"
				return 1
				;;
			esac
			tj_inv=$(awk -v a="$tj_inv" -v s="$tj_s" 'BEGIN { printf "%.9f", a + 1 / s }')
			tj_c=$((tj_c + 1))
		done
		if [ "$tj_r" -ge "$WARMUP" ] &&
			awk -v a="$tj_inv" -v b="$tj_best" 'BEGIN { exit !(a > b) }'; then
			tj_best=$tj_inv
			tj_c=0
			while [ "$tj_c" -lt "$THREADS" ]; do
				cut -d ' ' -f 1 "$tj_dir/$tj_c" >"$tj_dir/best.$tj_c"
				tj_c=$((tj_c + 1))
			done
		fi
		tj_r=$((tj_r + 1))
	done
	tj_c=0
	while [ "$tj_c" -lt "$THREADS" ]; do
		tj_s=$(cat "$tj_dir/best.$tj_c")
		tj_mbs=$(awk -v b="${BENCH_BYTES:-$DATA_BYTES}" -v s="$tj_s" 'BEGIN { printf "%.4f", b / 1e6 / s }')
		printf '%-24s %10.3f %10.1f %8s\n' "$tj_key-core$tj_c" "$tj_s" "$tj_mbs" -
		# shellcheck disable=SC2086 # SUB: a word or nothing
		record --arg name "$tj_key-core$tj_c" \
			--arg command "$(cmdline taskset -c "$tj_c" "$IDEM_BIN/$tj_tool" $tj_sub -j 1 "$@")" \
			--arg timer "date +%s.%N, every core at once" \
			--argjson seconds "$tj_s" --argjson mb_per_s "$tj_mbs" \
			--argjson bytes "${BENCH_BYTES:-$DATA_BYTES}" --argjson records "$N" --argjson runs "$RUNS" \
			'{kind:"time", name:$name, seconds:$seconds, mb_per_s:$mb_per_s,
			  cpu_seconds:null, runs:$runs, bytes:$bytes, records:$records,
			  timer:$timer, command:$command, together:true}'
		tj_c=$((tj_c + 1))
	done
	rm -rf "$tj_dir"
}

# tj_ceiling LABEL KEY TARGET: the most -j $THREADS could give on these
# cores.  A virtual machine's cores need not be equal: a core whose host
# core is shared runs the same -j 1 more slowly (seen here: 0.43 s on
# one, 0.71 s on the other, for zstd -3 as for idem), and two may slow
# each other (tj_together).  Perfectly split work would take
# 1 / (sum of 1 / KEY-core_c seconds), so against the -j 1 measured the
# ratio is at most KEY-j1 x that sum: 2x on two equal cores that do not
# slow each other, 1.6x when the second runs at 0.6 of the first.  The
# line gives the -j $THREADS ratio as a share of that ceiling, against
# TARGET / 2 (1.7x of two equal cores is 85% of them).
tj_ceiling() {
	tj_label=$1 tj_key=$2 tj_target=$3
	tj_s1=$(seconds_of "$tj_key-j1") tj_sn=$(seconds_of "$tj_key-jN")
	[ -n "$tj_s1" ] && [ -n "$tj_sn" ] && [ -n "$(seconds_of "$tj_key-core0")" ] || return 0
	tj_inv=0 tj_list= tj_c=0
	while [ "$tj_c" -lt "$THREADS" ]; do
		tj_sc=$(seconds_of "$tj_key-core$tj_c")
		[ -n "$tj_sc" ] || return 0
		tj_inv=$(awk -v a="$tj_inv" -v s="$tj_sc" 'BEGIN { printf "%.9f", a + 1 / s }')
		tj_list="$tj_list${tj_list:+, }cpu$tj_c $(awk -v s="$tj_sc" 'BEGIN { printf "%.3f", s }') s"
		tj_c=$((tj_c + 1))
	done
	tj_ceil=$(awk -v a="$tj_s1" -v i="$tj_inv" 'BEGIN { printf "%.2f", a * i }')
	tj_x=$(awk -v a="$tj_s1" -v b="$tj_sn" 'BEGIN { printf "%.2f", a / b }')
	tj_pct=$(awk -v x="$tj_x" -v c="$tj_ceil" 'BEGIN { printf "%.0f", 100 * x / c }')
	tj_need=$(awk -v t="$tj_target" -v n="$THREADS" 'BEGIN { printf "%.0f", 100 * t / n }')
	if [ "$tj_pct" -ge "$tj_need" ]; then
		tj_status=PASS PASS=$((PASS + 1))
	else
		tj_status=MISS MISS=$((MISS + 1))
	fi
	printf '    %-14s -j 1 on every core at once: %s; ceiling %sx, -j %s gave %sx = %s%% of it  target >= %s%% %s\n' \
		"cores:" "$tj_list" "$tj_ceil" "$THREADS" "$tj_x" "$tj_pct" "$tj_need" "$tj_status"
	record --arg tool "$tj_label" --argjson threads "$THREADS" --argjson ceiling "$tj_ceil" \
		--argjson ratio "$tj_x" --argjson pct "$tj_pct" --argjson target "$tj_need" \
		--arg status "$tj_status" --arg cores "$tj_list" \
		'{kind:"cores", tool:$tool, threads:$threads, pinned:$cores, ceiling:$ceiling,
		  thread_ratio:$ratio, share_of_ceiling_pct:$pct, target_min_pct:$target, status:$status}'
}

# tj_report LABEL KEY [TARGET]: the tool's line: MB/s at -j 1 and at -j N,
# their ratio (PASS/MISS against TARGET when given), its share of the
# simdjson extraction.
tj_report() {
	tj_label=$1 tj_key=$2 tj_target=${3:-}
	tj_m1=$(mbs_of "$tj_key-j1") tj_mn=$(mbs_of "$tj_key-jN")
	tj_lim=$(mbs_of simdjson-extract)
	if [ -z "$tj_m1" ]; then
		printf '%-18s not measured (see the FAIL above)\n' "$tj_label"
		SKIP=$((SKIP + 1))
		return 0
	fi
	tj_share=null tj_sharetxt="no simdjson limit" tj_cshare=null
	if [ -n "$tj_lim" ] && awk -v x="$tj_lim" 'BEGIN { exit !(x > 0) }'; then
		tj_share=$(awk -v a="$tj_m1" -v b="$tj_lim" 'BEGIN { printf "%.2f", a / b }')
		tj_sharetxt="${tj_share}x simdjson"
		# the same share by CPU seconds (MB a CPU second), which a
		# loaded machine blurs less; recorded, not printed
		tj_ca=$(cpu_of "$tj_key-j1") tj_cb=$(cpu_of simdjson-extract)
		if [ -n "$tj_ca" ] && [ -n "$tj_cb" ] &&
			awk -v a="$tj_ca" -v b="$tj_cb" 'BEGIN { exit !(a > 0 && b > 0) }'; then
			# MB a CPU second: MB/s x wall seconds / CPU seconds
			tj_cshare=$(awk -v ma="$tj_m1" -v sa="$(seconds_of "$tj_key-j1")" -v ca="$tj_ca" \
				-v mb="$tj_lim" -v sb="$(seconds_of simdjson-extract)" -v cb="$tj_cb" \
				'BEGIN { printf "%.2f", (ma * sa / ca) / (mb * sb / cb) }')
		fi
	fi
	tj_status=INFO tj_x=null tj_tj=null
	# CPU at -j N over -j 1: about 1 when the work splits among the
	# threads without overhead (what a loaded machine can still show)
	tj_c1=$(cpu_of "$tj_key-j1") tj_cn=$(cpu_of "$tj_key-jN") tj_cx=null tj_cpu=
	if [ -n "$tj_c1" ] && [ -n "$tj_cn" ] && awk -v a="$tj_c1" 'BEGIN { exit !(a > 0) }'; then
		tj_cx=$(awk -v a="$tj_c1" -v b="$tj_cn" 'BEGIN { printf "%.2f", b / a }')
		tj_cpu="  cpu -j $THREADS/-j 1 ${tj_cx}x"
	elif [ -n "$tj_c1" ] && [ -n "$tj_cn" ]; then
		# a run too short for the timer's CPU clock (tiny BENCH_N)
		tj_cpu="  cpu -j $THREADS/-j 1 n/a"
	fi
	if [ -n "$tj_mn" ]; then
		tj_x=$(awk -v a="$tj_m1" -v b="$tj_mn" 'BEGIN { printf "%.2f", b / a }')
		tj_txt=$(printf -- '-j %-2s %9s MB/s  %5sx' "$THREADS" "$(mb1 "$tj_mn")" "$tj_x")
		if [ -n "$tj_target" ]; then
			tj_tj=$tj_target
			if awk -v x="$tj_x" -v t="$tj_target" 'BEGIN { exit !(x >= t) }'; then
				tj_status=PASS PASS=$((PASS + 1))
			else
				tj_status=MISS MISS=$((MISS + 1))
			fi
		fi
	else
		tj_txt=$(printf '%-27s' "no -j yet")
		if [ -n "$tj_target" ]; then
			tj_tj=$tj_target tj_status=MISS MISS=$((MISS + 1))
		fi
	fi
	if [ -n "$tj_target" ]; then
		tj_st="target >= ${tj_target}x $tj_status"
	else
		tj_st="(information)"
	fi
	printf '%-18s -j 1 %9s MB/s  %s  %-16s  %s%s\n' "$tj_label" "$(mb1 "$tj_m1")" "$tj_txt" "$tj_sharetxt" "$tj_st" "$tj_cpu"
	record --arg tool "$tj_label" --argjson threads "$THREADS" --argjson m1 "$tj_m1" \
		--argjson cshare "$tj_cshare" --argjson cpu1 "${tj_c1:-null}" --argjson cpun "${tj_cn:-null}" --argjson cx "$tj_cx" \
		--argjson mn "${tj_mn:-null}" --argjson x "$tj_x" --argjson target "$tj_tj" \
		--arg status "$tj_status" --argjson share "$tj_share" --argjson has_j "$([ -n "$tj_mn" ] && echo true || echo false)" \
		'{kind:"tool", tool:$tool, threads:$threads, has_j:$has_j, mb_per_s_1:$m1,
		  mb_per_s_n:$mn, thread_ratio:$x, target_min:$target, status:$status,
		  simdjson_share:$share, simdjson_share_cpu:$cshare, cpu_seconds_1:$cpu1, cpu_seconds_n:$cpun,
		  cpu_ratio:$cx}'
}

# tj_peers LABEL KEY T NAME=TIMING...: one line of the peers run with T
# threads (1 or N), each as MB/s and how many times faster idem is:
# against KEY-j1 for T=1, KEY-jN for T=N (KEY-j1 when the tool has no -j).
tj_peers() {
	tj_label=$1 tj_key=$2 tj_t=$3
	shift 3
	tj_idem=$tj_key-j1
	if [ "$tj_t" = N ]; then
		tj_n=$THREADS
		[ -z "$(mbs_of "$tj_key-jN")" ] || tj_idem=$tj_key-jN
	else
		tj_n=1
	fi
	tj_mi=$(mbs_of "$tj_idem")
	tj_line=
	for tj_p in "$@"; do
		tj_pn=${tj_p%%=*} tj_pt=${tj_p#*=}
		tj_mp=$(mbs_of "$tj_pt")
		if [ -z "$tj_mp" ] || [ -z "$tj_mi" ] || ! awk -v x="$tj_mp" 'BEGIN { exit !(x > 0) }'; then
			tj_line="$tj_line  $tj_pn n/a"
			continue
		fi
		tj_r=$(awk -v a="$tj_mi" -v b="$tj_mp" 'BEGIN { printf "%.2f", a / b }')
		tj_line="$tj_line  $tj_pn $(mb1 "$tj_mp") MB/s (idem ${tj_r}x)"
		record --arg tool "$tj_label" --arg peer "$tj_pn" --arg timing "$tj_pt" \
			--arg idem "$tj_idem" --argjson threads "$tj_n" --argjson mbs "$tj_mp" \
			--argjson r "$tj_r" \
			'{kind:"peer", tool:$tool, peer:$peer, timing:$timing, threads:$threads,
			  mb_per_s:$mbs, idem:$idem, idem_faster:$r}'
	done
	[ -n "$tj_line" ] || return 0
	if [ "$tj_t" = N ] && [ "$tj_idem" = "$tj_key-j1" ]; then
		tj_idem="$tj_n threads (idem: no -j yet)"
	else
		tj_idem="$tj_n thread$([ "$tj_n" = 1 ] || echo s)"
	fi
	printf '    %-14s%s\n' "$tj_idem:" "$tj_line"
}

THREADS_DUCK=0
if [ "${BENCH_DUCKDB:-1}" = 0 ]; then
	printf 'bench: BENCH_DUCKDB=0: the thread table has no DuckDB peer\n' >&2
elif command -v node >/dev/null 2>&1 &&
	[ -d "$(dirname "$0")/duckdb/node_modules/@duckdb/node-api" ]; then
	THREADS_DUCK=1
	TJ_Q=$(dirname "$0")/duckdb/query.mjs
else
	printf 'bench: DuckDB not installed (make deps-bench): the thread table has no DuckDB peer\n' >&2
fi
# taskset (util-linux) pins the per-core runs of tj_ceiling, when -j
# $THREADS is every core of the machine.
THREADS_PIN=0
if ! command -v taskset >/dev/null 2>&1; then
	printf 'bench: taskset not found: no per-core ceiling for the thread ratios\n' >&2
elif [ "$THREADS" = "$(nproc 2>/dev/null)" ] && taskset -c "$((THREADS - 1))" true 2>/dev/null; then
	THREADS_PIN=1
fi
THREADS_ZSTD=0
if command -v zstd >/dev/null 2>&1; then
	THREADS_ZSTD=1
else
	printf 'bench: zstd not found (apt-get install zstd): the thread table has no zstd peer\n' >&2
fi

# duck_bench NAME SQL...: the DuckDB query at 1 and at $THREADS threads,
# as NAME-t1 and NAME-tN.
duck_bench() {
	[ "$THREADS_DUCK" = 1 ] || return 0
	tj_dn=$1
	shift
	bench "$tj_dn-t1" env DUCKDB_THREADS=1 node "$TJ_Q" "$@"
	bench "$tj_dn-tN" env DUCKDB_THREADS="$THREADS" node "$TJ_Q" "$@"
}

section "threads: -j 1 and -j $THREADS"

# The per-core limit, checked before it is timed: every line has the
# field, so the extraction must find N of N.
if [ -n "$EXTRACT" ] && [ -x "$EXTRACT" ]; then
	tj_got=$("$EXTRACT" "$DATA" order_id)
	case $tj_got in
	"lines $N found $N hash "*) bench simdjson-extract "$EXTRACT" "$DATA" order_id ;;
	*) printf 'bench: WARNING the simdjson extraction said "%s" for %s lines: not timed\n' "$tj_got" "$N" ;;
	esac
else
	printf 'bench: no simdjson extraction (BENCH_EXTRACT; make deps-bench builds build/bench/extract): no per-core limit\n' >&2
fi

TJ_WIN_SQL="SELECT time_bucket(INTERVAL 1 hour, event_time) AS window_start, currency,
	count(*) AS n, sum(amount) AS gmv FROM read_json('$DATA') GROUP BY ALL ORDER BY ALL"
TJ_WIN="--tumble 1h --delay 30d -t .event_time -g .currency"

if have dedup; then
	TJ_CORES=1 tj_bench dedup-k "" dedup "" -k .order_id "$DATA"
	bench_once awk-seen awk '!seen[$0]++' "$DATA"
	bench_once jq-c jq -c . "$DATA"
	# shellcheck disable=SC2086 # MLR_IO is two flags
	[ "$HAVE_MLR" = 0 ] || bench_once mlr-head-g mlr $MLR_IO head -n 1 -g order_id "$DATA"
	duck_bench duckdb-dedup "COPY (SELECT DISTINCT ON (order_id) * FROM read_json('$DATA')) TO '/dev/null' (FORMAT json)"
fi
if have watermark; then
	tj_bench watermark "" watermark "" -t .event_time --delay 10m --late drop "$DATA"
	bench_once awk-seen awk '!seen[$0]++' "$DATA"
	bench_once jq-c jq -c . "$DATA"
fi
if have window; then
	# shellcheck disable=SC2086 # TJ_WIN is words
	TJ_CORES=1 tj_bench window "" window "" $TJ_WIN --agg 'n=count()' --agg 'gmv=sum(.amount)' "$DATA"
	# shellcheck disable=SC2086 # MLR_IO is two flags
	[ "$HAVE_MLR" = 0 ] || bench_once mlr-stats1 mlr $MLR_IO put '$hour = substr($event_time, 0, 12)' \
		then stats1 -a count,sum -f amount -g hour,currency "$DATA"
	bench_once jq-window jq -cn 'reduce inputs as $r ({};
		($r.event_time[0:13] + " " + $r.currency) as $k | .[$k].n += 1 | .[$k].gmv += $r.amount)' "$DATA"
	duck_bench duckdb-window "$TJ_WIN_SQL"
fi
if have dlq; then
	tj_bench dlq-check "" dlq check -e '.amount > 0' --dlq /dev/null "$DATA"
	bench_once jq-select jq -c 'select(.amount > 0)' "$DATA"
	# shellcheck disable=SC2086 # MLR_IO is two flags
	[ "$HAVE_MLR" = 0 ] || bench_once mlr-filter mlr $MLR_IO filter '$amount > 0' "$DATA"
	duck_bench duckdb-filter "COPY (SELECT * FROM read_json('$DATA') WHERE amount > 0) TO '/dev/null' (FORMAT json)"
fi
if have reconcile && [ -n "${RTGT:-}" ]; then
	TJ_CORES=1 TJ_EXIT1=1 BENCH_BYTES=$RBYTES tj_bench reconcile RECONCILE_NO_THREADS=1 reconcile "" \
		-k .order_id --sum .amount --by .day "$DATA" "$RTGT"
	BENCH_BYTES=$RBYTES bench_once jq-sort-comm sh "$RJQ" "$DATA" "$RTGT"
	if [ "$THREADS_DUCK" = 1 ] && [ -f "${DUCK_REC:-}" ]; then
		BENCH_BYTES=$RBYTES bench duckdb-reconcile-t1 env DUCKDB_THREADS=1 sh "$DUCK_REC"
		BENCH_BYTES=$RBYTES bench duckdb-reconcile-tN env DUCKDB_THREADS="$THREADS" sh "$DUCK_REC"
	fi
fi
if have txlog; then
	# append: a fresh table before every run (untimed); cat and
	# optimize: a table of the data file in 16 commits (4 with
	# BENCH_QUICK), optimize on a fresh copy of it each run.
	TJ_T=$BENCH_DIR/threads-txlog
	rm -rf "$TJ_T"
	mkdir -p "$TJ_T/chunks"
	split -n l/$((TABLE_COMMITS * 2)) -d -a 2 "$DATA" "$TJ_T/chunks/c"
	"$IDEM_BIN/txlog" init "$TJ_T/many" --infer || die "txlog init failed"
	for c in "$TJ_T"/chunks/c*; do
		"$IDEM_BIN/txlog" append "$TJ_T/many" "$c" || die "txlog append failed"
	done
	BENCH_PREPARE=$(cmdline rm -rf "$TJ_T/one")" && $(cmdline "$IDEM_BIN/txlog" init "$TJ_T/one" --infer)" \
		tj_bench txlog-append "" txlog append "$TJ_T/one" "$DATA"
	tj_bench txlog-cat "" txlog cat "$TJ_T/many"
	BENCH_PREPARE=$(cmdline rm -rf "$TJ_T/opt")" && $(cmdline cp -r "$TJ_T/many" "$TJ_T/opt")" \
		tj_bench txlog-optimize "" txlog optimize "$TJ_T/opt"
	if [ "$THREADS_ZSTD" = 1 ]; then
		bench zstd-3-T1 zstd -q -3 -T1 -c "$DATA"
		bench zstd-3-TN zstd -q -3 -T"$THREADS" -c "$DATA"
		bench zstd-dc-table sh -c 'zstd -dcq "$1"/*.ndjson.zst' zstd-dc "$TJ_T/many"
		bench zstd-roundtrip-T1 sh -c 'zstd -dcq "$1"/*.ndjson.zst | zstd -q -3 -T1 -c' zstd-rt "$TJ_T/many"
		bench zstd-roundtrip-TN sh -c 'zstd -dcq "$1"/*.ndjson.zst | zstd -q -3 -T"$2" -c' zstd-rt "$TJ_T/many" "$THREADS"
	fi
	duck_bench duckdb-parquet "COPY (SELECT * FROM read_json('$DATA')) TO '$TJ_T/duck.parquet' (FORMAT parquet, COMPRESSION zstd)"
	[ ! -f "$TJ_T/duck.parquet" ] ||
		duck_bench duckdb-parquet-read "COPY (SELECT * FROM '$TJ_T/duck.parquet') TO '/dev/null' (FORMAT json)"
fi

# --- the table -----------------------------------------------------------------

printf '\n%-18s %-21s %-27s  %-16s  %s\n' tool "1 thread" "$THREADS threads, ratio" "per-core limit" "thread target"
if [ -n "$(mbs_of simdjson-extract)" ]; then
	printf '%-18s %9s MB/s (simdjson On-Demand, one field, 1 thread)\n' "simdjson extract" "$(mb1 "$(mbs_of simdjson-extract)")"
fi
if have dedup; then
	tj_report "dedup -k" dedup-k 1.7
	tj_ceiling "dedup -k" dedup-k 1.7
	tj_peers "dedup -k" dedup-k 1 awk=awk-seen "jq -c"=jq-c mlr=mlr-head-g duckdb=duckdb-dedup-t1
	tj_peers "dedup -k" dedup-k N duckdb=duckdb-dedup-tN
fi
if have watermark; then
	tj_report watermark watermark
	tj_peers watermark watermark 1 awk=awk-seen "jq -c"=jq-c
fi
if have window; then
	tj_report window window 1.7
	tj_ceiling window window 1.7
	tj_peers window window 1 mlr=mlr-stats1 jq=jq-window duckdb=duckdb-window-t1
	tj_peers window window N duckdb=duckdb-window-tN
fi
if have dlq; then
	tj_report "dlq check" dlq-check
	tj_peers "dlq check" dlq-check 1 jq=jq-select mlr=mlr-filter duckdb=duckdb-filter-t1
	tj_peers "dlq check" dlq-check N duckdb=duckdb-filter-tN
fi
if have reconcile && [ -n "${RTGT:-}" ]; then
	tj_report reconcile reconcile 1.7
	tj_ceiling reconcile reconcile 1.7
	tj_peers reconcile reconcile 1 jq/sort/comm=jq-sort-comm duckdb=duckdb-reconcile-t1
	tj_peers reconcile reconcile N duckdb=duckdb-reconcile-tN
fi
if have txlog; then
	tj_report "txlog append" txlog-append
	tj_peers "txlog append" txlog-append 1 "zstd -3"=zstd-3-T1 "duckdb parquet"=duckdb-parquet-t1
	tj_peers "txlog append" txlog-append N "zstd -3 -T$THREADS"=zstd-3-TN "duckdb parquet"=duckdb-parquet-tN
	tj_report "txlog cat" txlog-cat
	tj_peers "txlog cat" txlog-cat 1 "zstd -dc"=zstd-dc-table "duckdb parquet"=duckdb-parquet-read-t1
	tj_peers "txlog cat" txlog-cat N "duckdb parquet"=duckdb-parquet-read-tN
	tj_report "txlog optimize" txlog-optimize
	tj_peers "txlog optimize" txlog-optimize 1 "zstd -dc|zstd -3"=zstd-roundtrip-T1
	tj_peers "txlog optimize" txlog-optimize N "zstd -dc|zstd -3 -T$THREADS"=zstd-roundtrip-TN

	# The write path's bar: append with all threads at 0.8x the throughput
	# of zstd -3 with as many over the same bytes (a tool without -j:
	# its one figure).
	printf '\n'
	tj_a=txlog-append-jN
	[ -n "$(mbs_of "$tj_a")" ] || tj_a=txlog-append-j1
	ratio "txlog append vs zstd -3 -T$THREADS" "$tj_a" zstd-3-TN 0.8
	ratio "txlog append -j 1 vs zstd -3" txlog-append-j1 zstd-3-T1

	# append's own cost apart from compression: the *_seconds fields of
	# its --stats line (other than the whole run's), when it has them.
	rm -rf "$TJ_T/one"
	"$IDEM_BIN/txlog" init "$TJ_T/one" --infer || die "txlog init failed"
	tj_st=$("$IDEM_BIN/txlog" append "$TJ_T/one" --stats "$DATA" 2>&1 >/dev/null | grep '^{' | tail -n 1)
	tj_cost=$(printf '%s' "$tj_st" | jq -r 'to_entries | map(select((.key | endswith("seconds")) and .key != "seconds"))
		| map("\(.key) \(.value)") | join(", ")' 2>/dev/null)
	printf '%-32s %s\n' "txlog append own cost" "${tj_cost:-n/a (txlog append --stats gives no cost split yet)}"
	# the scanner's pace: append's own CPU against dedup -k's whole CPU,
	# as MB per CPU second over the same bytes
	tj_own=$(printf '%s' "$tj_st" | jq -r '.own_cpu_seconds // empty' 2>/dev/null)
	tj_dk=$(cpu_of dedup-k-j1)
	if [ -n "$tj_own" ] && [ -n "$tj_dk" ] &&
		awk -v a="$tj_own" -v b="$tj_dk" 'BEGIN { exit !(a > 0 && b > 0) }'; then
		printf '%-32s %s MB per CPU second, dedup -k -j 1 %s: %sx its pace\n' "txlog append own pace" \
			"$(awk -v b="$DATA_BYTES" -v c="$tj_own" 'BEGIN { printf "%.1f", b / 1e6 / c }')" \
			"$(awk -v b="$DATA_BYTES" -v c="$tj_dk" 'BEGIN { printf "%.1f", b / 1e6 / c }')" \
			"$(awk -v a="$tj_own" -v c="$tj_dk" 'BEGIN { printf "%.2f", c / a }')"
	fi
	record --argjson stats "${tj_st:-null}" '{kind:"stats", name:"txlog append --stats", stats:$stats}'
	rm -rf "$TJ_T"
fi
