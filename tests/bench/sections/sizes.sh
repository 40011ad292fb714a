# Growth in the number of records (sourced by tests/bench/run.sh): each
# tool at the three sizes of BENCH_GROWTH_SIZES (default 0.5M, 2M and 8M
# records, 4x apart; gen's orders with 10% repeats, made once and kept in
# BENCH_DIR), each tool with its default threads, best of BENCH_RUNS with
# no warm-up (the file was just read into the page cache).  A line per
# tool: the seconds at each size and the growth factor of each step,
# PASS when no step grows more than 1.5x the records (6x for 4x: linear,
# with room for caches; sections/growth.sh measures the other dimensions
# with the same bound).  txlog cat and optimize read a table of the file
# appended in 8 commits (2 with BENCH_QUICK: each commit fsyncs);
# reconcile reads the file against itself.

section "growth in records: $GROWTH_SIZES"
sz_n=$N sz_bytes=$DATA_BYTES
sz_t=$BENCH_DIR/sizes-txlog
for sz in $GROWTH_SIZES; do
	data_file "$sz"
	cat "$DF" >/dev/null
	N=$sz DATA_BYTES=$(wc -c <"$DF" | tr -d ' ')
	have dedup && bench "size-dedup-k-$sz" "$IDEM_BIN/dedup" -k .order_id "$DF"
	have watermark && bench "size-watermark-$sz" "$IDEM_BIN/watermark" -t .event_time --delay 10m --late drop "$DF"
	have window && bench "size-window-$sz" "$IDEM_BIN/window" --tumble 1h --delay 30d -t .event_time \
		-g .currency --agg 'n=count()' --agg 'gmv=sum(.amount)' "$DF"
	have dlq && bench "size-dlq-check-$sz" "$IDEM_BIN/dlq" check -e '.amount > 0' --dlq /dev/null "$DF"
	have reconcile && BENCH_BYTES=$((2 * DATA_BYTES)) bench "size-reconcile-$sz" \
		"$IDEM_BIN/reconcile" -k .order_id --sum .amount --by .day "$DF" "$DF"
	if have txlog; then
		rm -rf "$sz_t"
		mkdir -p "$sz_t/chunks"
		split -n l/"$TABLE_COMMITS" -d -a 2 "$DF" "$sz_t/chunks/c"
		"$IDEM_BIN/txlog" init "$sz_t/many" --infer || die "txlog init failed"
		for c in "$sz_t"/chunks/c*; do
			"$IDEM_BIN/txlog" append "$sz_t/many" "$c" || die "txlog append failed"
		done
		rm -rf "$sz_t/chunks"
		BENCH_PREPARE=$(cmdline rm -rf "$sz_t/one")" && $(cmdline "$IDEM_BIN/txlog" init "$sz_t/one" --infer)" \
			bench "size-txlog-append-$sz" "$IDEM_BIN/txlog" append "$sz_t/one" "$DF"
		bench "size-txlog-cat-$sz" "$IDEM_BIN/txlog" cat "$sz_t/many"
		BENCH_PREPARE=$(cmdline rm -rf "$sz_t/opt")" && $(cmdline cp -r "$sz_t/many" "$sz_t/opt")" \
			bench "size-txlog-optimize-$sz" "$IDEM_BIN/txlog" optimize "$sz_t/opt"
		rm -rf "$sz_t"
	fi
done
N=$sz_n DATA_BYTES=$sz_bytes

# sz_report LABEL KEY: the line of one tool from its three timings.
sz_report() {
	set -- "$1" "$2" $GROWTH_SIZES
	sz_label=$1 sz_key=$2 sz_s1=$3 sz_s2=$4 sz_s3=$5
	sz_t1=$(seconds_of "size-$sz_key-$sz_s1") sz_t2=$(seconds_of "size-$sz_key-$sz_s2")
	sz_t3=$(seconds_of "size-$sz_key-$sz_s3")
	if [ -z "$sz_t1" ] || [ -z "$sz_t2" ] || [ -z "$sz_t3" ]; then
		printf '%-18s not measured at every size (see the FAIL above)\n' "$sz_label"
		SKIP=$((SKIP + 1))
		return 0
	fi
	sz_g=$(awk -v a="$sz_t1" -v b="$sz_t2" -v c="$sz_t3" -v s1="$sz_s1" -v s2="$sz_s2" -v s3="$sz_s3" 'BEGIN {
		m = 0.001; g1 = b / (a > m ? a : m); g2 = c / (b > m ? b : m)
		ok = g1 <= 1.5 * s2 / s1 && g2 <= 1.5 * s3 / s2
		printf "%.2f %.2f %s", g1, g2, ok ? "PASS" : "MISS" }')
	set -- $sz_g
	if [ "$3" = PASS ]; then PASS=$((PASS + 1)); else MISS=$((MISS + 1)); fi
	printf '%-18s %s s, growth %sx %sx for %sx %sx the records  %s\n' "$sz_label" \
		"$(printf '%.3f/%.3f/%.3f' "$sz_t1" "$sz_t2" "$sz_t3")" "$1" "$2" \
		"$(awk -v a="$sz_s1" -v b="$sz_s2" 'BEGIN { printf "%g", b / a }')" \
		"$(awk -v a="$sz_s2" -v b="$sz_s3" 'BEGIN { printf "%g", b / a }')" "$3"
	record --arg name "$sz_label records" --argjson s1 "$sz_s1" --argjson s2 "$sz_s2" \
		--argjson s3 "$sz_s3" --argjson t1 "$sz_t1" --argjson t2 "$sz_t2" --argjson t3 "$sz_t3" \
		--argjson g1 "$1" --argjson g2 "$2" --arg status "$3" \
		'{kind:"growth", name:$name, unit:"records", sizes:[$s1,$s2,$s3],
		  seconds:[$t1,$t2,$t3], growth:[$g1,$g2], status:$status}'
}

printf '\n%-18s seconds at %s records\n' tool "$(echo $GROWTH_SIZES | tr ' ' /)"
have dedup && sz_report "dedup -k" dedup-k
have watermark && sz_report watermark watermark
have window && sz_report window window
have dlq && sz_report "dlq check" dlq-check
have reconcile && sz_report reconcile reconcile
if have txlog; then
	sz_report "txlog append" txlog-append
	sz_report "txlog cat" txlog-cat
	sz_report "txlog optimize" txlog-optimize
fi
