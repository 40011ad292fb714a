# DuckDB as the peer of window and reconcile (sourced by tests/bench/run.sh).
#
# DuckDB runs from the npm registry's @duckdb/node-api, installed into
# tests/bench/duckdb/ by `make deps-bench` (npm ci from the committed
# lock file), through query.mjs there: one in-memory database per run,
# SQL statements in order, rows out as JSON lines.  It uses both cores;
# the idem tools get what they use (window one, reconcile one a side).
#
# Two things are checked before anything is timed, as a fast wrong answer
# is no result: the same groups and counts, and the same differing keys.
# DuckDB's sums are doubles: they are printed next to the exact decimal
# sums of the idem tools, which is the point of those.

DUCK_DIR=$(dirname "$0")/duckdb
if [ "${BENCH_DUCKDB:-1}" = 0 ]; then
	printf '\nbench: BENCH_DUCKDB=0: skipping the DuckDB peer\n' >&2
elif ! command -v node >/dev/null 2>&1; then
	printf '\nbench: node not found (apt-get install nodejs npm): skipping the DuckDB peer\n' >&2
elif [ ! -d "$DUCK_DIR/node_modules/@duckdb/node-api" ]; then
	printf '\nbench: no %s/node_modules (make deps-bench runs npm ci there): skipping the DuckDB peer\n' "$DUCK_DIR" >&2
else
	section duckdb
	DUCK_Q=$DUCK_DIR/query.mjs
	DUCK_V=$(node "$DUCK_Q" 'SELECT version() AS v' 2>/dev/null | jq -r .v)
	record --arg duckdb "${DUCK_V:-unknown}" --arg node "$(node --version)" \
		'{kind:"peer", name:"duckdb", version:$duckdb, node:$node}'

	# Window: hourly count and GMV per currency.  read_json detects
	# event_time as a TIMESTAMP and amount as a DOUBLE by itself.
	if have window; then
		WIN_SQL="SELECT time_bucket(INTERVAL 1 hour, event_time) AS window_start, currency,
			count(*) AS n, sum(amount) AS gmv
			FROM read_json('$DATA') GROUP BY ALL ORDER BY ALL"
		[ -n "$(seconds_of window-tumble)" ] ||
			bench window-tumble "$IDEM_BIN/window" --tumble 1h --delay 30d -t .event_time \
				-g .currency --agg 'n=count()' --agg 'gmv=sum(.amount)' "$DATA"
		# Same cells with the same counts; how many of DuckDB's sums
		# are not the exact decimal that window prints.
		"$IDEM_BIN/window" --tumble 1h --delay 30d -t .event_time -g .currency \
			--agg 'n=count()' --agg 'gmv=sum(.amount)' "$DATA" |
			jq -r '[.window.start, .key, .n, .gmv] | @tsv' | sort >"$BENCH_DIR/duck-win-idem.tsv"
		node "$DUCK_Q" "$WIN_SQL" |
			jq -r '[(.window_start | sub(" "; "T") + "Z"), .currency, (.n | tonumber), .gmv] | @tsv' |
			sort >"$BENCH_DIR/duck-win-duck.tsv"
		cells=$(paste "$BENCH_DIR/duck-win-idem.tsv" "$BENCH_DIR/duck-win-duck.tsv" | awk -F '\t' '
			$1 != $5 || $2 != $6 || $3 != $7 { bad++ }
			$4 != $8 { off++ }
			END { printf "%d %d %d", NR, bad, off }')
		ncells=${cells%% *} ninexact=${cells##* }
		nbad=${cells#* } nbad=${nbad%% *}
		nidem=$(wc -l <"$BENCH_DIR/duck-win-idem.tsv" | tr -d ' ')
		ndk=$(wc -l <"$BENCH_DIR/duck-win-duck.tsv" | tr -d ' ')
		if [ "$nidem" != "$ndk" ] || [ "$nbad" != 0 ]; then
			printf 'bench: WARNING window and DuckDB disagree: %s cells vs %s, %s differ in window or count\n' \
				"$nidem" "$ndk" "$nbad"
		fi
		printf 'window vs DuckDB: %s cells, %s differ in window or count; DuckDB double gmv is not the exact sum in %s\n' \
			"$ncells" "$nbad" "$ninexact"
		record --argjson cells "$ncells" --argjson bad "$nbad" --argjson inexact "$ninexact" \
			'{kind:"check", name:"window vs duckdb", cells:$cells, disagree:$bad, duckdb_inexact_sums:$inexact}'
		bench duckdb-window node "$DUCK_Q" "$WIN_SQL"
	fi

	# Reconcile: per-day rows, distinct keys and sums of each side, then
	# the keys missing and extra (EXCEPT) and the keys in both whose
	# records differ (EXCEPT ALL both ways, whole rows, so a changed value
	# anywhere or a lost duplicate counts, as in reconcile).
	if have reconcile && [ -n "${RTGT:-}" ]; then
		# $DUCK_REC: the query, written by run.sh with the data.
		BENCH_BYTES=$RBYTES bench duckdb-reconcile sh "$DUCK_REC"
		# The answer of the last timed run is not kept (stdout goes to
		# /dev/null); one more untimed run gives the figures to compare.
		node "$DUCK_Q" \
			"CREATE TABLE s AS SELECT * FROM read_json('$DATA')" \
			"CREATE TABLE t AS SELECT * FROM read_json('$RTGT')" \
			"SELECT count(*) AS source_rows, sum(amount) AS source_sum,
				(SELECT count(*) FROM t) AS target_rows, (SELECT sum(amount) FROM t) AS target_sum,
				(SELECT count(*) FROM (SELECT order_id FROM s EXCEPT SELECT order_id FROM t)) AS missing,
				(SELECT count(*) FROM (SELECT order_id FROM t EXCEPT SELECT order_id FROM s)) AS extra,
				(SELECT count(DISTINCT order_id) FROM
				  ((SELECT * FROM s EXCEPT ALL SELECT * FROM t) UNION ALL (SELECT * FROM t EXCEPT ALL SELECT * FROM s))
				  WHERE order_id IN (SELECT order_id FROM s INTERSECT SELECT order_id FROM t)) AS changed
				FROM s" | tail -n 1 >"$BENCH_DIR/duck-rec.json"
		"$IDEM_BIN/reconcile" -k .order_id --sum .amount "$DATA" "$RTGT" |
			jq -c 'select(.total)' >"$BENCH_DIR/duck-rec-idem.json"
		dk=$(jq -c '[.missing, .extra, .changed] | map(tonumber)' "$BENCH_DIR/duck-rec.json")
		ik=$(jq -c '[.missing, .extra, .changed]' "$BENCH_DIR/duck-rec-idem.json")
		[ "$dk" = "$ik" ] || printf 'bench: WARNING reconcile found %s, DuckDB %s\n' "$ik" "$dk"
		# Both sums as printed: reconcile's exact decimal, DuckDB's double.
		rs=$(jq -r '.source.sum[".amount"]' "$BENCH_DIR/duck-rec-idem.json")
		rt=$(jq -r '.target.sum[".amount"]' "$BENCH_DIR/duck-rec-idem.json")
		# jq would round DuckDB's numbers through a double again: take
		# the text as node printed it.
		ds=$(sed 's/.*"source_sum":\([^,}]*\).*/\1/' "$BENCH_DIR/duck-rec.json")
		dt=$(sed 's/.*"target_sum":\([^,}]*\).*/\1/' "$BENCH_DIR/duck-rec.json")
		printf 'reconcile vs DuckDB: [missing,extra,changed] %s vs %s\n' "$ik" "$dk"
		printf 'sum(.amount) source: reconcile %s (exact), DuckDB %s (double)\n' "$rs" "$ds"
		printf 'sum(.amount) target: reconcile %s (exact), DuckDB %s (double)\n' "$rt" "$dt"
		record --arg rs "$rs" --arg rt "$rt" --arg ds "$ds" --arg dt "$dt" \
			--argjson idem "$ik" --argjson duck "$dk" \
			'{kind:"check", name:"reconcile vs duckdb", diffs_reconcile:$idem, diffs_duckdb:$duck,
			  sum_source:{reconcile:$rs, duckdb:$ds}, sum_target:{reconcile:$rt, duckdb:$dt}}'
	fi

	printf '\n%-32s %8s\n' ratio "faster"
	ratio "window vs DuckDB" window-tumble duckdb-window 1
	ratio "reconcile vs DuckDB" reconcile-by-day duckdb-reconcile 1
fi
