#!/bin/sh
# make demo: bronze -> silver -> gold on generated data, through every
# tool, in a folder it names.  Each step says in a line what it did.
#
# Usage: demo.sh [all|prepare|run|report]   (default all; the crash test
# prepares once, then kills and re-runs `run` in the same folder)
# DEMO_DIR the folder (default a new one in /tmp); DEMO_N events per
# bronze file (30000); DEMO_BATCH records per batch (20000); DEMO_WINDOW
# the window size (1h).
set -eu
bin=${IDEM_BIN:?} gen=${IDEM_GEN:?}
PATH=$bin:$PATH
export PATH
step=${1:-all}
case $step in
all | prepare | run | report) ;;
*) echo "usage: demo.sh [all|prepare|run|report]" >&2; exit 2 ;;
esac
n=${DEMO_N:-30000} per_batch=${DEMO_BATCH:-20000} win=${DEMO_WINDOW:-1h}
dir=${DEMO_DIR:-$(mktemp -d /tmp/idem-demo.XXXXXX)}
mkdir -p "$dir"
cd "$dir"
say() { printf '  %-11s %s\n' "$1" "$2"; }
lines() { cat "$@" 2>/dev/null | wc -l | tr -d ' '; }

prepare() {
	mkdir -p bronze
	# two files of raw events: duplicates (within a file, and the
	# second resending a tenth of the first's orders), out-of-order and
	# late events...
	"$gen" -n "$n" -s 42 > bronze/part-1.ndjson
	"$gen" -n "$n" -s 43 --start 1714550400 --first-id $((n * 4 / 5)) \
		> bronze/part-2.ndjson
	# ...and the malformed lines real feeds have
	printf '{"order_id":"o-bad-1","amount":\n' >> bronze/part-1.ndjson
	printf 'not json at all\n' >> bronze/part-2.ndjson
	printf '{"order_id":"o-bad-2","currency":"EUR"}\n' >> bronze/part-2.ndjson
	say bronze "$(lines bronze/*) raw events in 2 files"

	mkdir -p bad dupes late
	txlog init silver --infer >/dev/null
	txlog init gold --infer >/dev/null

	# One batch: bad records aside, duplicates out (across batches
	# too), late events aside (those behind this batch's watermark by
	# watermark, those whose window an earlier batch closed by window),
	# hourly aggregates; window follows watermark's control lines
	# (--emit), so no record is lost between them.  Both tables written
	# with the batch number as txn, so a batch replayed after a crash
	# is a no-op there.  dedup and window learn the batch from
	# IDEM_BATCH: a replay starts from their state before the batch,
	# so it computes again exactly what the killed run computed.  Side
	# files are one per batch, emptied first so a replay rewrites them
	# whole.
	cat > batch.sh <<B
set -euo pipefail
: > "bad/\$IDEM_BATCH.ndjson"
: > "late/\$IDEM_BATCH.ndjson"
: > "late/\$IDEM_BATCH.window.ndjson"
dlq check -e '.amount != null' --dlq "bad/\$IDEM_BATCH.ndjson" |
	dedup -k .order_id --state seen.idx --dupes "dupes/\$IDEM_BATCH.ndjson" > batch.silver
txlog append silver --txn "silver:\$IDEM_BATCH" batch.silver
watermark -t .event_time --delay 10m --late "late/\$IDEM_BATCH.ndjson" --emit < batch.silver |
	window --tumble $win -t .event_time -g .currency --state window.state \\
		--late "late/\$IDEM_BATCH.window.ndjson" \\
		--agg 'n=count()' --agg 'gmv=sum(.amount)' |
	jq -c '{start: .window.start, currency: .key, n, gmv, pane: .pane.index}' > batch.gold
txlog append gold --txn "gold:\$IDEM_BATCH" batch.gold
B
	# The bronze files are all there is: once they are read, a watermark
	# past every event fires the windows still open in window.state.  As
	# batch 0 of its own, a re-run after a kill fires them again for the
	# sink, whose txn drops what it already has.
	cat > close.sh <<B
set -euo pipefail
printf '{"_watermark":"2200-01-01T00:00:00Z"}\\n' |
	window --tumble $win -t .event_time -g .currency --state window.state \\
		--batch 0 --agg 'n=count()' --agg 'gmv=sum(.amount)' |
	jq -c '{start: .window.start, currency: .key, n, gmv, pane: .pane.index}' > close.gold
txlog append gold --txn gold-close:1 close.gold
B
}

pipeline() {
	checkpoint run -s bronze.ckpt --max-records "$per_batch" --until-empty \
		bronze -- bash batch.sh
	bash close.sh
}

report() {
	say checkpoint "$(checkpoint status -s bronze.ckpt | jq -s -r '"\(length) sources, \(map(.lag) | add) bytes of lag, last batch \(.[0].batch)"')"
	say dlq "$(lines bad/*.ndjson) bad records dead-lettered: $(dlq stats bad/*.ndjson | jq -r 'select(.error_type) | "\(.entries) \(.error_type)"' | paste -sd, -)"
	say dedup "$(txlog cat silver | wc -l | tr -d ' ') unique orders in the silver table, $(lines dupes/*.ndjson) duplicates set aside"
	# nothing lost: every silver row is in a gold pane or set aside late
	# (each window fires once: no --lateness)
	rows=$(txlog cat silver | wc -l | tr -d ' ')
	wlate=$(lines late/*.window.ndjson)
	mlate=$(($(lines late/*.ndjson) - wlate))
	in_panes=$(txlog cat gold | jq -s 'map(.n) | add // 0')
	say watermark "$mlate events later than 10 minutes set aside"
	say window "$(txlog cat gold | wc -l | tr -d ' ') panes of $win (per currency) in the gold table, $wlate events after their window closed set aside"
	raw=$(lines bronze/*) bad=$(lines bad/*.ndjson) dupes=$(lines dupes/*.ndjson)
	if [ $((bad + dupes + rows)) -eq "$raw" ]; then
		say accounted "$raw raw events = $bad bad + $dupes duplicates + $rows silver rows"
	else
		say accounted "LOST: $raw raw events, $bad bad, $dupes duplicates, $rows silver rows"
		exit 1
	fi
	if [ $((in_panes + mlate + wlate)) -eq "$rows" ]; then
		say accounted "$rows silver rows = $in_panes in gold panes + $mlate + $wlate set aside late"
	else
		say accounted "LOST: $rows silver rows, $in_panes in panes, $((mlate + wlate)) set aside late"
		exit 1
	fi

	# Replaying the first batch is a no-op: the txn is recorded.
	before=$(txlog log silver | wc -l | tr -d ' ')
	txlog append silver --txn silver:1 batch.silver >/dev/null 2>&1 || true
	after=$(txlog log silver | wc -l | tr -d ' ')
	if [ "$after" = "$before" ]; then
		say txlog "$before silver versions; a replayed batch added nothing"
	else
		say txlog "a replayed batch added $((after - before)) versions"
		exit 1
	fi

	# Reconcile: silver must hold exactly the good, deduplicated bronze.
	dlq check -e '.amount != null' --dlq /dev/null bronze/* 2>/dev/null |
		dedup -k .order_id --dupes expected.dupes > expected.ndjson
	if reconcile -k .order_id --sum .amount --by .day --format ndjson \
		expected.ndjson txlog:silver > reconcile.ndjson; then
		say reconcile "silver agrees with bronze: $(tail -n 1 reconcile.ndjson | jq -r '"\(.source.rows) rows, amount \(.source.sum[".amount"]), fingerprint \(.source.fingerprint[0:8])"')"
	else
		say reconcile "DIFFERENCES, see $dir/reconcile.ndjson"
		exit 1
	fi
}

case $step in
all)
	echo "idem demo in $dir"
	prepare
	pipeline
	report
	echo "files: $dir"
	;;
prepare) prepare ;;
run) pipeline ;;
report) report ;;
esac
