#!/bin/sh
# make demo: bronze -> silver -> gold on generated data, through every
# tool, in a folder it names.  Each step says in a line what it did.
set -eu
bin=${IDEM_BIN:?} gen=${IDEM_GEN:?}
PATH=$bin:$PATH
export PATH
dir=${DEMO_DIR:-$(mktemp -d /tmp/idem-demo.XXXXXX)}
mkdir -p "$dir"
cd "$dir"
say() { printf '  %-11s %s\n' "$1" "$2"; }
count() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

echo "idem demo in $dir"
mkdir -p bronze
# two files of raw events: duplicates, out-of-order and late events...
"$gen" -n 30000 -s 42 > bronze/part-1.ndjson
"$gen" -n 30000 -s 43 --start 1714550400 > bronze/part-2.ndjson
# ...and the malformed lines real feeds have
printf '{"order_id":"o-bad-1","amount":\n' >> bronze/part-1.ndjson
printf 'not json at all\n' >> bronze/part-2.ndjson
printf '{"order_id":"o-bad-2","currency":"EUR"}\n' >> bronze/part-2.ndjson
say bronze "$(cat bronze/* | wc -l | tr -d ' ') raw events in 2 files"

txlog init silver --infer >/dev/null
txlog init gold --infer >/dev/null

# One batch: bad records aside, duplicates out (across batches too),
# late events aside, hourly aggregates; both tables written with the
# batch number as txn, so a batch replayed after a crash is a no-op.
cat > batch.sh <<'B'
set -eu
dlq check -e '.amount != null' --dlq bad.ndjson |
	dedup -k .order_id --state seen.idx > batch.silver
txlog append silver --txn "silver:$IDEM_BATCH" batch.silver
watermark -t .event_time --delay 10m --late late.ndjson < batch.silver |
	window --tumble 1h -t .event_time -g .currency --state window.state \
		--agg 'n=count()' --agg 'gmv=sum(.amount)' |
	jq -c '{start: .window.start, currency: .key, n, gmv, pane: .pane.index}' |
	txlog append gold --txn "gold:$IDEM_BATCH"
B
checkpoint run -s bronze.ckpt --max-records 20000 --until-empty bronze -- sh batch.sh
say checkpoint "$(checkpoint status -s bronze.ckpt | jq -s -r '"\(length) sources, \(map(.lag) | add) bytes of lag, last batch \(.[0].batch)"')"
say dlq "$(count bad.ndjson) bad records dead-lettered: $(dlq stats bad.ndjson | jq -r 'select(.error_type) | "\(.entries) \(.error_type)"' | paste -sd, -)"
say dedup "$(txlog cat silver | wc -l | tr -d ' ') unique orders in the silver table"
say watermark "$(count late.ndjson) events later than 10 minutes set aside"
say window "$(txlog cat gold | wc -l | tr -d ' ') hourly panes in the gold table"

# Replaying the last batch is a no-op: the txn is recorded.
IDEM_BATCH=1 txlog append silver --txn silver:1 batch.silver >/dev/null 2>&1 || true
say txlog "$(txlog log silver | wc -l | tr -d ' ') silver versions; a replayed batch added nothing"

# Reconcile: silver must hold exactly the good, deduplicated bronze.
dlq check -e '.amount != null' --dlq /dev/null bronze/* 2>/dev/null |
	dedup -k .order_id > expected.ndjson
if reconcile -k .order_id --sum .amount --by .day --format ndjson \
	expected.ndjson txlog:silver > reconcile.ndjson; then
	say reconcile "silver agrees with bronze: $(tail -n 1 reconcile.ndjson | jq -r '"\(.source.rows) rows, amount \(.source.sum[".amount"]), fingerprint \(.source.fingerprint[0:8])"')"
else
	say reconcile "DIFFERENCES, see $dir/reconcile.ndjson"
	exit 1
fi
echo "files: $dir"
