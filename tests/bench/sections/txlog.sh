# txlog: sourced by tests/bench/run.sh (uses its bench, ratio, record, have).
#
#   1. append the data file in 100 commits (1M records by default);
#   2. cat against zstd -dc over the same data files (target >= 80%);
#   3. commit latency of 1000 small appends (TXLOG_COMMITS), p50 and p99 (whole process:
#      start, load, write, fsync, put-if-absent);
#   4. the newest snapshot after those 1000 commits, replayed from the
#      JSON commits and read from one checkpoint (target >= 10x), timed
#      inside the process (files --stats load_cpu_seconds: the load
#      alone, in CPU time, best of 15) and as whole processes.
# The machine may be shared: every ratio compares runs of the same moment,
# and the load is timed in CPU seconds, which a busy machine blurs less
# than the wall clock (the append loop reports both).

if have txlog; then
	section txlog
	TX=$IDEM_BIN/txlog
	TXD=$BENCH_DIR/txlog
	rm -rf "$TXD"
	mkdir -p "$TXD/chunks"
	# 1. a table without partitions, so that its data files are the
	#    plain list zstd -dc reads below
	split -n l/100 -d -a 3 "$DATA" "$TXD/chunks/c"
	"$TX" init "$TXD/big" --infer || die "txlog init failed"
	appendall='for c in "$1"/chunks/c*; do "$2" append "$1/big" --merge-schema "$c" || exit 1; done'
	cpu=null
	if [ "$HAVE_GNU_TIME" = 1 ]; then
		/usr/bin/time -f '%e %U %S' -o "$TXD/append.time" \
			sh -c "$appendall" append "$TXD" "$TX" || die "txlog append failed"
		d=$(awk '{ printf "%.3f", $1 }' "$TXD/append.time")
		cpu=$(awk '{ printf "%.3f", $2 + $3 }' "$TXD/append.time")
	else
		t0=$(date +%s.%N)
		sh -c "$appendall" append "$TXD" "$TX" || die "txlog append failed"
		t1=$(date +%s.%N)
		d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	fi
	mbs=$(awk -v b="$DATA_BYTES" -v s="$d" 'BEGIN { printf "%.1f", b / 1e6 / s }')
	printf '%-24s %10.3f %10s   (%s records in 100 commits; %s s CPU)\n' txlog-append-100 "$d" "$mbs" "$N" "$cpu"
	record --arg name txlog-append-100 --argjson seconds "$d" --argjson mb_per_s "$mbs" \
		--argjson cpu "$cpu" --argjson records "$N" \
		'{kind:"time", name:$name, seconds:$seconds, cpu_seconds:$cpu, mb_per_s:$mb_per_s, records:$records, commits:100}'
	got=$("$TX" cat "$TXD/big" | wc -l | tr -d ' ')
	[ "$got" = "$N" ] || printf 'bench: WARNING txlog cat gave %s records, expected %s\n' "$got" "$N"

	# 1b. the whole file in one append, on 1 and on every core, against
	#     zstd -3 over the same bytes with as many threads (issue 20: at
	#     least 0.8x of zstd -3 -T<cores>); append --stats splits its own
	#     CPU (read, parse, schema check, statistics) from compression's,
	#     and dedup's CPU over the same bytes is the scanner's pace.
	NCPU=$(nproc 2>/dev/null || echo 1)
	"$TX" init "$TXD/one" --infer || die "txlog init failed"
	"$TX" append "$TXD/one" "$DATA" || die "txlog append failed"
	bench txlog-append-j1 "$TX" append "$TXD/one" -j 1 "$DATA"
	bench txlog-append-jN "$TX" append "$TXD/one" -j "$NCPU" "$DATA"
	bench zstd-3 zstd -q -3 -c "$DATA"
	bench zstd-3-TN zstd -q -3 -T"$NCPU" -c "$DATA"
	own=$("$TX" append "$TXD/one" -j 1 "$DATA" --stats 2>&1 >/dev/null | tail -n 1)
	oc=$(printf '%s' "$own" | jq .own_cpu_seconds)
	zc=$(printf '%s' "$own" | jq .compress_cpu_seconds)
	sc=null
	if [ "$HAVE_GNU_TIME" = 1 ] && have dedup; then
		/usr/bin/time -f '%U %S' -o "$TXD/dedup.time" "$IDEM_BIN/dedup" -k .order_id "$DATA" >/dev/null 2>&1
		sc=$(awk '{ printf "%.3f", $1 + $2 }' "$TXD/dedup.time")
	fi
	printf '%-24s %10s s own CPU, %s s compressing (-j 1); dedup -k over the same bytes %s s CPU\n' \
		txlog-append-cost "$oc" "$zc" "$sc"
	record --argjson own "$oc" --argjson compress "$zc" --argjson dedup "$sc" \
		'{kind:"cost", name:"txlog-append", own_cpu_seconds:$own, compress_cpu_seconds:$compress, dedup_cpu_seconds:$dedup}'
	rm -rf "$TXD/one"

	# 2. cat against zstd -dc over the same data files
	bench txlog-cat "$TX" cat "$TXD/big"
	bench zstd-dc-files sh -c 'zstd -dcq "$1"/*.ndjson.zst' zstd-dc-files "$TXD/big"

	# 3. 1000 small commits, each timed as a whole process
	"$TX" init "$TXD/small" --infer --checkpoint-interval 100000 || die "txlog init failed"
	lat=$TXD/latency.txt
	: >"$lat"
	i=0
	while [ "$i" -lt "${TXLOG_COMMITS:-1000}" ]; do
		t0=$(date +%s%N)
		echo "{\"i\":$i}" | "$TX" append "$TXD/small" || die "txlog append failed"
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$lat"
		i=$((i + 1))
	done
	p50=$(sort -n "$lat" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int(NR * 0.50 + 0.5)] / 1000 }')
	p99=$(sort -n "$lat" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int(NR * 0.99 + 0.5)] / 1000 }')
	printf '%-24s %10s ms p50, %s ms p99 (whole process, %s commits)\n' txlog-commit-latency "$p50" "$p99" "${TXLOG_COMMITS:-1000}"
	record --argjson p50 "$p50" --argjson p99 "$p99" \
		'{kind:"latency", name:"txlog-commit", p50_ms:$p50, p99_ms:$p99, commits:1000}'

	# 4. the same log read two ways: the copy gets one checkpoint
	cp -r "$TXD/small" "$TXD/small-cp"
	"$TX" checkpoint "$TXD/small-cp" || die "txlog checkpoint failed"
	bench txlog-read-1000-commits "$TX" files "$TXD/small"
	bench txlog-read-checkpoint "$TX" files "$TXD/small-cp"
	# best of 15 loads, each timed inside its process (microseconds)
	inproc() {
		best=
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
			s=$("$TX" files "$1" --stats 2>&1 >/dev/null | jq .load_cpu_seconds)
			best=$(awk -v a="$best" -v d="$s" 'BEGIN { print (a == "" || d < a) ? d : a }')
		done
		echo "$best"
	}
	ir=$(inproc "$TXD/small")
	ic=$(inproc "$TXD/small-cp")
	record --arg name txlog-read-1000-commits-inproc --argjson seconds "$ir" '{kind:"time", name:$name, seconds:$seconds}'
	record --arg name txlog-read-checkpoint-inproc --argjson seconds "$ic" '{kind:"time", name:$name, seconds:$seconds}'
	printf '%-24s %10s s replaying %s commits, %s s from the checkpoint (load only, CPU)\n' txlog-read-inproc "$ir" "${TXLOG_COMMITS:-1000}" "$ic"

	printf '\n%-32s %8s\n' ratio "faster"
	ratio "txlog append -j 1 vs zstd -3" txlog-append-j1 zstd-3
	ratio "txlog append -j N vs zstd -3 -T N" txlog-append-jN zstd-3-TN 0.8
	ratio "txlog cat vs zstd -dc" txlog-cat zstd-dc-files 0.8
	ratio "checkpoint vs replay (load)" txlog-read-checkpoint-inproc txlog-read-1000-commits-inproc 10
	ratio "checkpoint vs replay (process)" txlog-read-checkpoint txlog-read-1000-commits
fi
