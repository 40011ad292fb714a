#!/usr/bin/env bats
# Scale-out: N processes under GNU parallel (N = 2, 4, 8), each with
# --shard I/N (or one piece of the input, for reconcile summarize), give
# the single-process answer.  (N = 4 only in make test's sanitized pass.)

load helpers

# 5,000 orders: 10% repeat an order_id, 5% arrive 5-60 min late.
orders() {
	gen -n 5000 --late-rate 0.05 > in.ndjson
}

# shards N 'COMMAND': run COMMAND --shard I/N in.ndjson for I = 0..N-1,
# N at a time under GNU parallel, each into out.I.
shards() {
	rm -f out.*
	parallel --will-cite --halt now,fail=1 -j "$1" \
		"$2 --shard {}/$1 in.ndjson > out.{}" ::: $(seq 0 $(($1 - 1)))
}

# The same, one shard after the other (cheaper where N is not the point).
shards_serial() {
	local i
	rm -f out.*
	for i in $(seq 0 $(($1 - 1))); do
		eval "$2 --shard $i/$1 in.ndjson" > "out.$i" || return 1
	done
}

@test "dedup: 2, 4 and 8 shards keep the records one process keeps" {
	orders
	dedup -k .order_id in.ndjson | sort > want
	run wc -l < want
	assert_output 4500
	for n in $(quick "2 4 8" 4); do
		shards $n 'dedup -k .order_id'
		[ "$(ls out.* | wc -l)" -eq $n ]
		sort out.* > got
		run cmp want got
		assert_success
	done
}

@test "dedup: --keep last and --order-by shard the same way" {
	orders
	for o in '--keep last' '--order-by .amount'; do
		dedup -k .order_id $o in.ndjson | sort > want
		shards_serial 4 "dedup -k .order_id $o"
		sort out.* > got
		run cmp want got
		assert_success
	done
}

@test "dedup: with --ttl every shard expires keys by the watermark of all records" {
	orders
	d='dedup -k .order_id -t .event_time --ttl 2m'
	$d in.ndjson | sort > want
	run wc -l < want
	assert_output 4672
	shards_serial 4 "$d"
	sort out.* > got
	run cmp want got
	assert_success
}

@test "dedup: the shard that owns a bad record reports it, once" {
	printf '%s\n' '{"k":1}' 'not json' '{"k":2}' '{"k":3,"t":"x"}' > in.ndjson
	for i in 0 1 2 3; do
		dedup -k .k -t .t --ttl 1m --shard $i/4 --dlq bad.ndjson \
			in.ndjson > /dev/null
	done
	run jq -c '[.source.line, .error_type]' bad.ndjson
	assert_output - <<'J'
[1,"missing_field"]
[2,"invalid_json"]
[3,"missing_field"]
[4,"wrong_type"]
J
}

@test "window: shards merged with window merge equal one process, late panes too" {
	orders
	w="window --tumble 10m -t .event_time -g .currency -g .customer.tier"
	w="$w --agg 'n=count()' --agg 'gmv=sum(.amount)' --delay 1m --lateness 10m"
	eval "$w in.ndjson" | window merge > want
	run grep -c '"timing":"late"' want
	assert_output 65
	for n in $(quick "2 4 8" 4); do
		shards $n "$w"
		window merge out.* > got
		run cmp want got
		assert_success
	done
}

@test "window: without late panes the merge is one process's output byte for byte" {
	orders
	for kind in '--tumble 10m' '--slide 10m --every 5m'; do
		w="window $kind -t .event_time -g .currency --agg 's=sum(.amount)' --delay 1m"
		eval "$w in.ndjson" > want
		shards_serial 8 "$w"
		window merge out.* > got
		run cmp want got
		assert_success
	done
}

@test "window: session shards merge to one process's sessions" {
	orders
	w="window --session 30s -t .event_time -g .customer.id --delay 1m --lateness 5m"
	$w in.ndjson | window merge > want
	run wc -l < want
	assert_output 4428
	shards_serial 4 "$w"
	window merge out.* > got
	run cmp want got
	assert_success
}

@test "window: shards follow upstream _watermark lines as one process does" {
	orders
	watermark -t .event_time --delay 2m --emit < in.ndjson > marked
	mv marked in.ndjson
	w="window --tumble 10m -t .event_time -g .currency --lateness 5m"
	$w in.ndjson | window merge > want
	shards_serial 4 "$w"
	window merge out.* > got
	run cmp want got
	assert_success
}

@test "window: the shard that owns a bad record reports it, once" {
	cat > in.ndjson <<'J'
{"t":0,"g":"a"}
not json
{"t":5,"g":"b","v":"x"}
{"t":9,"g":"c"}
J
	for i in 0 1 2 3; do
		window --tumble 1m -t .t -g .g --agg 's=sum(.v)' --shard $i/4 \
			--dlq bad.ndjson in.ndjson > /dev/null
	done
	run jq -c '[.source.line, .error_type]' bad.ndjson
	assert_output - <<'J'
[2,"invalid_json"]
[3,"wrong_type"]
J
}

@test "window: without --dlq only the owning shard stops on a bad record" {
	printf '%s\n' '{"t":0,"g":"c"}' 'not json' > in.ndjson
	run window --tumble 1m -t .t -g .g --shard 1/2 in.ndjson
	assert_success
	assert_line --index 0 '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"c","count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	assert_line --index 1 --regexp '^\{"_shard":\{"index":1,"of":2,"panes":1,"run":"[0-9a-f]{32}","input":"[0-9a-f]{32}"\}\}$'
	# the stopped shard writes no _shard line: window merge refuses it
	run window --tumble 1m -t .t -g .g --shard 0/2 in.ndjson
	assert_failure 2
	assert_output 'window: in.ndjson:2: invalid JSON: invalid literal at byte 1'
}

@test "dedup: a state of another shard, or of every key, is refused: the keys it lacks would pass as new" {
	printf '{"k":%d}\n' 1 2 3 4 5 6 7 8 > in.ndjson
	dedup -k .k --shard 0/2 --state s0 in.ndjson > /dev/null
	run dedup -k .k --shard 1/2 --state s0 in.ndjson
	assert_failure 2
	assert_output "dedup: s0: a state of shard 0/2, not of shard 1/2; give each shard its own state file"
	run dedup -k .k --state s0 in.ndjson
	assert_failure 2
	assert_output "dedup: s0: a state of shard 0/2, not of every key (no --shard); give each shard its own state file"
	dedup -k .k --state all in.ndjson > /dev/null
	run dedup -k .k --shard 0/2 --state all in.ndjson
	assert_failure 2
	assert_output "dedup: all: a state of every key (no --shard), not of shard 0/2; give each shard its own state file"
	# its own shard goes on with it: every key seen, nothing written
	run dedup -k .k --shard 0/2 --state s0 in.ndjson
	assert_success
	assert_output --regexp '^dedup: [0-9]+ records? dropped: duplicates \(--dupes FILE keeps them\)$'
}

@test "window: a state of another shard, or of every group, is refused, not fired beside that shard's panes" {
	printf '{"t":%d,"g":%d}\n' 1 1 2 2 3 3 4 4 5 5 6 6 > in.ndjson
	run window --tumble 1h -t .t -g .g --delay 1s --state s0 --shard 0/2 in.ndjson
	assert_success
	assert_output --regexp '^\{"_shard":\{"index":0,"of":2,"panes":0,"run":"[0-9a-f]{32}","input":"[0-9a-f]{32}"\}\}$'
	# the same file for shard 1: shard 0's open windows would fire there
	run window --tumble 1h -t .t -g .g --delay 1s --state s0 --shard 1/2 in.ndjson
	assert_failure 2
	assert_output "window: s0: a state of shard 0/2, not of shard 1/2; give each shard its own state file"
	window --tumble 1h -t .t -g .g --delay 1s --state whole in.ndjson
	run window --tumble 1h -t .t -g .g --delay 1s --state whole --shard 0/2 in.ndjson
	assert_failure 2
	assert_output "window: whole: a state of every group (no --shard), not of shard 0/2; give each shard its own state file"
	# a run of every group would miss shard 1's earlier records
	run window --tumble 1h -t .t -g .g --delay 1s --state s0 in.ndjson
	assert_failure 2
	assert_output "window: s0: a state of shard 0/2, not of every group (no --shard); give each shard its own state file"
	# its own shard goes on with it
	run sh -c 'echo "{\"t\":99999,\"g\":1}" | window --tumble 1h -t .t -g .g --delay 1s --state s0 --shard 0/2 | jq -c "select(.window) | [.key, .count]"'
	assert_success
	assert_output '[5,1]'
}

@test "window merge refuses a pane given twice" {
	printf '%s\n' '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":true}}' > a
	run window merge a a
	assert_failure 2
	assert_output 'window: a:1: a pane given twice, first at a:1 (a shard named twice?): {"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# which line of which input: the second read names the first
	printf '%s\n' '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"b","count":1,"pane":{"timing":"on_time","index":0,"final":true}}' > b
	cat b a > ba
	run window merge a b ba
	assert_failure 2
	assert_output --partial 'window: ba:2: a pane given twice, first at a:1 (a shard named twice?): {"window":{"start":"1970-01-01T00:00:00Z",'
}

@test "window merge refuses a line that is not a window result" {
	printf '%s\n' '{"order_id":1}' > a
	run window merge a
	assert_failure 2
	assert_output 'window: a:1: not a window result: no .window.start time'
}

@test "window merge orders by end, start, key by value, then pane index" {
	cat > a <<'J'
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":2,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"b","pane":{"timing":"late","index":1,"final":false}}
J
	cat > b <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"b","pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":10,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","pane":{"timing":"on_time","index":0,"final":false}}
J
	run window merge a - < b
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"b","pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"b","pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":2,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":10,"pane":{"timing":"on_time","index":0,"final":false}}
J
}

@test "reconcile: summaries of 2, 4 and 8 pieces merge to the one summary, byte for byte" {
	orders
	s='reconcile summarize -k .order_id --sum .amount --by .currency'
	$s in.ndjson > want
	for n in $(quick "2 4 8" 4); do
		rm -f sum.*
		parallel --will-cite --halt now,fail=1 --pipepart -a in.ndjson \
			--block -1 -j $n "$s > sum.{#}"
		[ "$(ls sum.* | wc -l)" -eq $n ]
		reconcile merge sum.* > got
		run cmp want got
		assert_success
	done
	run reconcile compare want got
	assert_success
}

@test "reconcile: summarize --shard 2, 4 and 8 ways merges to the one summary, byte for byte" {
	orders
	printf 'not json\n{"amount":1}\n' >> in.ndjson
	reconcile summarize -k .order_id --sum .amount --by .currency --dlq one.dlq in.ndjson > want
	for n in $(quick "2 4 8" 4); do
		rm -f out.* bad.*
		parallel --will-cite --halt now,fail=1 -j "$n" \
			"reconcile summarize -k .order_id --sum .amount --by .currency --shard {}/$n --dlq bad.{} in.ndjson > out.{}" \
			::: $(seq 0 $((n - 1)))
		reconcile merge out.* > got
		run cmp want got
		assert_success
		# each bad record is reported once, by shard 0 (it has no key)
		run sh -c 'cat bad.* | jq -r .error_type'
		assert_output - <<'J'
invalid_json
missing_field
J
	done
}

@test "reconcile: --shard is for summarize only" {
	orders
	run reconcile -k .order_id --shard 0/2 in.ndjson in.ndjson
	assert_failure 2
	assert_line --index 0 "reconcile: --shard goes with summarize (merge the shards' summaries with reconcile merge)"
}
