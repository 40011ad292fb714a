#!/bin/sh
# make demo: a real pipeline on generated data, in a folder it names.
# Each step says in a line what it did.
set -eu
bin=${IDEM_BIN:?} gen=${IDEM_GEN:?}
PATH=$bin:$PATH
dir=${DEMO_DIR:-$(mktemp -d /tmp/idem-demo.XXXXXX)}
mkdir -p "$dir"
cd "$dir"
say() { printf '  %-12s %s\n' "$1" "$2"; }
count() { wc -l < "$1" | tr -d ' '; }

echo "idem demo in $dir"
"$gen" -n 100000 -s 42 > raw.ndjson
# a few malformed lines, as real feeds have
printf '{"order_id":"o-bad-1","amount":\n' >> raw.ndjson
printf 'not json at all\n' >> raw.ndjson
say generate "$(count raw.ndjson) raw order events (duplicates, late and malformed ones)"

dedup -k .order_id --state seen.idx --dlq bad.ndjson --stats raw.ndjson \
	> silver.ndjson 2> dedup.stats
say dedup "$(count silver.ndjson) unique orders, $(jq .duplicates dedup.stats) duplicates dropped, $(count bad.ndjson) bad lines dead-lettered"

dedup -k .order_id --state seen.idx --dlq bad2.ndjson raw.ndjson > rerun.ndjson
say re-run "$(count rerun.ndjson) records emitted the second time (idempotent)"

echo "files: $dir"
