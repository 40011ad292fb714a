# Scale-out (sourced by tests/bench/run.sh): 1, 2 and 4 shards under GNU
# parallel, on the same data file, two ways:
#   all   every shard reads the whole file with --shard I/N (dedup,
#         window) -- N times the input parsed
#   part  partition(1) reads it once into N partitions, then shard I
#         reads partition I with --partition I/N -- the input once plus
#         the partitions once
# for dedup, window (+ window merge; the partitioner carries the
# watermark, -t) and reconcile summarize (+ reconcile merge).  Each line
# of the table below the timings gives the bytes parsed in total (from
# every process's --stats) and whether the answer is one process's.
# Also partition's own throughput against dedup -k (target >= 0.8x).
# On a shared machine the ratios are fair-ish, not exact (all timings
# are taken in the same run).

if have dedup && have window && have reconcile && have partition &&
	command -v parallel >/dev/null; then
	section scaleout
	# BENCH_QUICK: 1 and 2 shards (GNU parallel's start-up is most of it)
	SO_SHARDS="1 2 4"
	[ "$QUICK" = 0 ] || SO_SHARDS="1 2"
	SO=$BENCH_DIR/scaleout
	rm -rf "$SO"
	mkdir -p "$SO"
	# One group per customer with heavy aggregates: the per-group work
	# that sharding divides.  WD: its own watermark (one process, or
	# every shard reading all); W: the watermark from the partitions.
	cat >"$SO/w.sh" <<EOF
exec "$IDEM_BIN/window" --tumble 10m -t .event_time -g .customer.id \
	--agg 'd=distinct(.order_id)' --agg 'p=p99(.amount)' \
	--lateness 10m "\$@"
EOF
	cat >"$SO/s.sh" <<EOF
exec "$IDEM_BIN/reconcile" summarize -k .order_id --sum .amount --by .currency "\$@"
EOF
	# all.sh TOOL N [stats]: every shard reads the whole file;
	# part.sh TOOL N [stats]: partition once, each shard its partition.
	# With stats, each process's --stats line goes to st.*.
	cat >"$SO/all.sh" <<EOF
t=\$1 n=\$2
rm -f "$SO"/out.* "$SO"/st.*
so= se='2>/dev/null'
[ -n "\${3:-}" ] && so=--stats se="2> '$SO'/st.{}"
case \$t in
dedup) c="'$IDEM_BIN'/dedup -k .order_id" ;;
window) c="sh '$SO'/w.sh --delay 1m" ;;
reconcile) c="sh '$SO'/s.sh" ;;
esac
parallel --will-cite --halt now,fail=1 -j "\$n" \\
	"\$c --shard {}/\$n \$so '$DATA' > '$SO'/out.{} \$se" \\
	::: \$(seq 0 \$((n - 1)))
EOF
	cat >"$SO/part.sh" <<EOF
t=\$1 n=\$2
rm -rf "$SO"/out.* "$SO"/st.* "$SO"/parts
so= se='2>/dev/null'
[ -n "\${3:-}" ] && so=--stats se="2> '$SO'/st.{}"
case \$t in
dedup) p='-k .order_id' c="'$IDEM_BIN'/dedup -k .order_id" ;;
window) p='-g .customer.id -t .event_time --delay 1m' c="sh '$SO'/w.sh" ;;
reconcile) p='-k .order_id' c="sh '$SO'/s.sh" ;;
esac
"$IDEM_BIN"/partition -n "\$n" \$p -o "$SO"/parts \$so "$DATA" \\
	2> "$SO"/st.p || exit 1
parallel --will-cite --halt now,fail=1 -j "\$n" \\
	"\$c --partition {}/\$n \$so '$SO'/parts/{}.ndjson > '$SO'/out.{} \$se" \\
	::: \$(seq 0 \$((n - 1)))
EOF
	# one timed run each (no warm-up): 18 runs of whole pipelines
	so_runs=$RUNS so_warm=$WARMUP
	RUNS=1 WARMUP=0
	bench partition-tab "$IDEM_BIN/partition" -n 4 -k .order_id "$DATA"
	bench partition-dir sh -c 'rm -rf "$1"/pd; "$2"/partition -n 4 -k .order_id -o "$1"/pd "$3"' \
		partition-dir "$SO" "$IDEM_BIN" "$DATA"
	rm -rf "$SO/pd"
	for so_t in dedup window reconcile; do
		for so_n in $SO_SHARDS; do
			bench "scale-$so_t-all-$so_n" sh "$SO/all.sh" "$so_t" "$so_n"
			bench "scale-$so_t-part-$so_n" sh "$SO/part.sh" "$so_t" "$so_n"
		done
	done
	RUNS=$so_runs WARMUP=$so_warm
	ratio "partition (stdout) vs dedup -k" partition-tab dedup-key 0.8
	ratio "partition -o DIR vs dedup -k" partition-dir dedup-key
	# One process's answers, then bytes parsed and equality per way.
	"$IDEM_BIN/dedup" -k .order_id "$DATA" 2>/dev/null | sort >"$SO/want.dedup"
	sh "$SO/w.sh" --delay 1m "$DATA" 2>/dev/null | "$IDEM_BIN/window" merge >"$SO/want.window"
	sh "$SO/s.sh" "$DATA" >"$SO/want.reconcile"
	printf '\n%-26s %8s %14s %10s %8s\n' run shards bytes_parsed x_input same
	for so_t in dedup window reconcile; do
		for so_n in $SO_SHARDS; do
			for so_w in all part; do
				sh "$SO/$so_w.sh" "$so_t" "$so_n" stats 2>/dev/null
				case $so_t in
				dedup) sort "$SO"/out.* >"$SO/got" ;;
				window) "$IDEM_BIN/window" merge "$SO"/out.* >"$SO/got" ;;
				reconcile) "$IDEM_BIN/reconcile" merge "$SO"/out.* >"$SO/got" ;;
				esac
				so_same=no
				cmp -s "$SO/got" "$SO/want.$so_t" && so_same=yes
				so_bytes=$(cat "$SO"/st.* | grep '^{' |
					jq -s 'map(.bytes_in) | add')
				so_x=$(awk -v b="$so_bytes" -v d="$DATA_BYTES" 'BEGIN { printf "%.2f", b / d }')
				printf '%-26s %8s %14s %10s %8s\n' "$so_t-$so_w" "$so_n" \
					"$so_bytes" "$so_x" "$so_same"
				record --arg name "scale-$so_t-$so_w-$so_n" \
					--argjson shards "$so_n" --argjson bytes "$so_bytes" \
					--argjson x "$so_x" --arg same "$so_same" \
					'{kind:"scaleout", name:$name, shards:$shards,
					  bytes_parsed:$bytes, times_input:$x, same_answer:($same == "yes")}'
				[ "$so_same" = yes ] || MISS=$((MISS + 1))
			done
		done
	done
	printf '\n'
	for so_t in dedup window reconcile; do
		for so_n in $SO_SHARDS; do
			[ "$so_n" != 1 ] || continue
			ratio "$so_t: part $so_n vs all $so_n" scale-$so_t-part-$so_n scale-$so_t-all-$so_n
			ratio "$so_t: part $so_n vs 1 process" scale-$so_t-part-$so_n scale-$so_t-all-1
		done
	done
	rm -rf "$SO"
fi
