# Scale-out (sourced by tests/bench/run.sh): one process against N = 2, 4
# and 8 under GNU parallel, on the same data file, for dedup --shard,
# window --shard (+ window merge) and reconcile summarize over N pieces
# (+ reconcile merge).  Every dedup and window shard parses the whole
# file, so the ratios show what sharding costs or gains on this machine's
# cores; on a shared machine they are fair-ish, not exact (all timings
# are taken in the same run).

if have dedup && have window && have reconcile && command -v parallel >/dev/null; then
	section scaleout
	SO=$BENCH_DIR/scaleout
	rm -rf "$SO"
	mkdir -p "$SO"
	# One group per customer with heavy aggregates: the per-group work
	# that sharding divides.
	cat >"$SO/window.sh" <<EOF
exec "$IDEM_BIN/window" --tumble 10m -t .event_time -g .customer.id \
	--agg 'd=distinct(.order_id)' --agg 'p=p99(.amount)' \
	--delay 1m --lateness 10m "\$@"
EOF
	cat >"$SO/summarize.sh" <<EOF
exec "$IDEM_BIN/reconcile" summarize -k .order_id --sum .amount --by .currency "\$@"
EOF
	bench scale-dedup-1 "$IDEM_BIN/dedup" -k .order_id "$DATA"
	bench scale-window-1 sh "$SO/window.sh" "$DATA"
	bench scale-reconcile-1 sh "$SO/summarize.sh" "$DATA"
	for so_n in 2 4 8; do
		bench scale-dedup-$so_n sh -c 'parallel --will-cite -j "$2" \
			"$3/dedup -k .order_id --shard {}/$2 $1 > $4/d.{}" \
			::: $(seq 0 $(($2 - 1)))' scale-dedup "$DATA" "$so_n" "$IDEM_BIN" "$SO"
		bench scale-window-$so_n sh -c 'rm -f "$4"/w.*
			parallel --will-cite -j "$2" \
				"sh $4/window.sh --shard {}/$2 $1 > $4/w.{}" \
				::: $(seq 0 $(($2 - 1))) && "$3/window" merge "$4"/w.*' \
			scale-window "$DATA" "$so_n" "$IDEM_BIN" "$SO"
		bench scale-reconcile-$so_n sh -c 'rm -f "$4"/s.*
			parallel --will-cite --pipepart -a "$1" --block -1 -j "$2" \
				"sh $4/summarize.sh > $4/s.{#}" &&
				"$3/reconcile" merge "$4"/s.*' \
			scale-reconcile "$DATA" "$so_n" "$IDEM_BIN" "$SO"
	done
	for so_t in dedup window reconcile; do
		for so_n in 2 4 8; do
			ratio "$so_t: $so_n shards vs 1" scale-$so_t-$so_n scale-$so_t-1
		done
	done
	rm -rf "$SO"
fi
