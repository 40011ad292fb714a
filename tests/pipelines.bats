#!/usr/bin/env bats
# The tools piped into one another: what each does with the others'
# output (watermark's _watermark lines, window's panes, dead letters).

load helpers
bats_require_minimum_version 1.5.0

# stops MESSAGE CMD...: CMD exits 2 with MESSAGE, the one line on
# standard error, after the records before the bad one
stops() {
	local msg=$1
	shift
	run --separate-stderr "$@"
	assert_failure 2
	assert_equal "$stderr" "$msg"
}

# records with watermark --emit's lines among them
emitted() {
	printf '%s\n' '{"id":1,"t":10}' '{"id":2,"t":20}' '{"id":3,"t":30}' |
		watermark -t .t --delay 5s --emit
}

@test "txlog append, overwrite, merge, dedup and reconcile refuse window --shard's _shard line, never a row of it" {
	printf '%s\n' '{"g":"a","t":"2024-01-01T00:00:01Z"}' '{"g":"b","t":"2024-01-01T00:00:02Z"}' > in.ndjson
	window -g .g -t .t --tumble 1m --agg 'n=count()' --shard 0/2 in.ndjson > s0.ndjson
	run tail -n 1 s0.ndjson
	assert_output --partial '{"_shard":{"index":0,"of":2,'
	n=$(wc -l < s0.ndjson | tr -d ' ')
	msg="a _shard line ends a window --shard run's output, for window merge, not a row (append window merge's output); nothing committed"
	txlog init t --infer > /dev/null
	refused "txlog: s0.ndjson:$n: $msg" txlog append t s0.ndjson
	refused "txlog: stdin:$n: $msg" txlog overwrite t < s0.ndjson
	refused "txlog: stdin:$n: $msg" txlog merge t -k .key < s0.ndjson
	run txlog cat t
	assert_output ''
	refused "dedup: s0.ndjson:$n: a _shard line ends a window --shard run's output, for window merge, not a record: dedup window merge's output" \
		sh -c 'dedup s0.ndjson > /dev/null'
	refused "reconcile: s0.ndjson:$n: a _shard line ends a window --shard run's output, for window merge, not a row: compare window merge's output" \
		reconcile -k .key s0.ndjson s0.ndjson
}

@test "txlog append, overwrite and merge refuse a _watermark line, never a row of it" {
	txlog init t --infer > /dev/null
	emitted > in.ndjson
	refused 'txlog: in.ndjson:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog append t in.ndjson
	refused 'txlog: in.ndjson:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog append t --merge-schema -j 2 in.ndjson
	echo '{"id":0,"t":0}' | txlog append t
	refused 'txlog: stdin:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog overwrite t < in.ndjson
	refused 'txlog: stdin:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog merge t -k .id < in.ndjson
	run txlog cat t
	assert_output '{"id":0,"t":0}'
	run sh -c "txlog schema t | jq -c '[.fields[].name]'"
	assert_output '["id","t"]'
	# a record with other members beside _watermark is a row
	echo '{"id":5,"t":5,"_watermark":"x"}' | txlog append t --merge-schema
	# and window in front consumes them
	txlog init w > /dev/null
	emitted | window --tumble 1m -t .t --agg 'n=count()' | txlog append w
	run sh -c "txlog cat w | jq -c '[.window.start, .n]'"
	assert_output '["1970-01-01T00:00:00Z",3]'
}

@test "dlq check passes _watermark lines on unchecked, so window downstream keeps its watermark" {
	printf '%s\n' '{"id":1,"t":10,"a":1}' '{"id":2,"t":70,"a":2}' \
		'{"id":3,"t":20,"a":3}' '{"id":4,"t":130}' '{"id":5,"t":30,"a":5}' |
		watermark -t .t --emit > in.ndjson
	grep -v '"id":4' in.ndjson |
		window --tumble 1m -t .t --agg 'n=count()' --late late.want > want
	# .a > 0 is false for a _watermark line (.a is null): it went to
	# the dead letters, and window fell back to one batch
	dlq check -e '.a > 0' --dlq bad.ndjson --stats in.ndjson 2> stats > got.ndjson
	run jq -c '[.original_record.id, .error_type]' bad.ndjson
	assert_output '[4,"missing_field"]'
	run cat stats
	assert_output --partial '"records_in":8,"records_out":7,"duplicates":0,"late":0,"dead_lettered":1,'
	grep -v '"id":4' in.ndjson | cmp - got.ndjson
	window --tumble 1m -t .t --agg 'n=count()' --late late.got got.ndjson > got
	cmp want got
	cmp late.want late.got
	run jq -c .t late.got
	assert_output '20
30'
	# a value that is no time is a bad record, in window's words
	for s in '{"_watermark":"soon"}' '{"_watermark":null}'; do
		printf '%s\n' "$s" '{"t":1,"a":1}' > bad.ndjson
		run window --tumble 1m -t .t bad.ndjson
		assert_failure 2
		refused "dlq${output#window}" dlq check -e .a bad.ndjson
	done
	run window --tumble 1m -t .t bad.ndjson
	assert_output 'window: bad.ndjson:1: _watermark: must be an RFC 3339 string or a number'
	# a number is epoch units in window's --time-unit: it passes
	echo '{"required":["a"]}' > s.json
	run dlq check --schema s.json <<< '{"_watermark":1714521600123}'
	assert_success
	assert_output '{"_watermark":1714521600123}'
}

@test "dedup and reconcile refuse a _watermark line whatever the key, never key it as a record" {
	emitted > in.ndjson
	msg="in.ndjson:2: a _watermark line is watermark --emit's progress for window, not a record: run dedup before watermark --emit"
	# [.id,.t] read it as [null,null]: kept once, the next ones counted
	# as duplicates; the whole line was a key --state remembered
	for k in "-k .id" "-k [.id,.t]" "-k .id -k .t" "" "--keep last" "-k .id --order-by .t"; do
		stops "dedup: $msg" dedup $k in.ndjson
	done
	stops "dedup: $msg" dedup --state s.idx in.ndjson
	# shard 0 reports it, as a record without a key
	run dedup -k '[.id]' --shard 1/2 in.ndjson
	assert_success
	run dedup -k '[.id]' --dlq bad.ndjson --stats in.ndjson
	assert_success
	assert_output --partial '"records_in":6,"records_out":3,"duplicates":0,"late":0,"dead_lettered":3,'
	run jq -c '[.original_record._watermark, .error_type]' bad.ndjson
	assert_output '["1970-01-01T00:00:05Z","wrong_type"]
["1970-01-01T00:00:15Z","wrong_type"]
["1970-01-01T00:00:25Z","wrong_type"]'
	grep -v _watermark in.ndjson > plain.ndjson
	for k in "-k .id" "-k [.id,.t]"; do
		stops "reconcile: in.ndjson:2: a _watermark line is watermark --emit's progress for window, not a row: compare the records before watermark --emit" \
			reconcile $k in.ndjson plain.ndjson
	done
	refused "reconcile: in.ndjson:2: a _watermark line is watermark --emit's progress for window, not a row: compare the records before watermark --emit" \
		reconcile summarize -k '[.id]' in.ndjson
}

@test "-k .a -k .b keys as -k '[.a,.b]' but for a missing member, as dedup(1) and reconcile(1) say" {
	printf '%s\n' '{"a":1,"b":2}' '{"b":2,"a":1.0}' '{"a":2,"b":2}' > in.ndjson
	run dedup -k .a -k .b in.ndjson
	assert_output - < <(dedup -k '[.a,.b]' in.ndjson 2>&1)
	printf '%s\n' '{"b":2}' '{"a":null,"b":2}' > gap.ndjson
	stops 'dedup: gap.ndjson:1: missing key .a' dedup -k .a -k .b gap.ndjson
	run dedup -k '[.a,.b]' gap.ndjson
	assert_success
	assert_output '{"b":2}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
	stops 'reconcile: gap.ndjson:1: missing key .a' reconcile -k .a -k .b gap.ndjson gap.ndjson
	run reconcile -k '[.a,.b]' gap.ndjson gap.ndjson
	assert_success
}

@test "dlq retry passes _watermark lines on in their place, never to the command" {
	emitted > in.ndjson
	for j in 1 3; do
		# the command would fail on one: none reaches it
		run dlq retry -j $j --retries 0 -- sh -c 'grep -q _watermark && exit 9; echo ok' < in.ndjson
		assert_success
		assert_output 'ok
{"_watermark":"1970-01-01T00:00:05Z"}
ok
{"_watermark":"1970-01-01T00:00:15Z"}
ok
{"_watermark":"1970-01-01T00:00:25Z"}'
		run --separate-stderr dlq retry -j $j --stats -- sh -c 'jq -c .id; sleep 0.0$((RANDOM % 5))' < in.ndjson
		assert_success
		assert_equal "${stderr%%,\"seconds\"*}" '{"tool":"dlq","records_in":6,"records_out":6,"duplicates":0,"late":0,"dead_lettered":0,"bytes_in":162,"bytes_out":120,"attempts":3,"retried":0'
		assert_output - <<'E'
1
{"_watermark":"1970-01-01T00:00:05Z"}
2
{"_watermark":"1970-01-01T00:00:15Z"}
3
{"_watermark":"1970-01-01T00:00:25Z"}
E
	done
	printf '%s\n' '{"_watermark":"soon"}' > bad.ndjson
	refused 'dlq: <stdin>:1: _watermark: not an RFC 3339 time' \
		dlq retry -- cat < bad.ndjson
}

@test "window(1)'s Results display is what window writes, byte for byte" {
	awk '/^\.Ss Results/ { r = 1; next } r && /^\.Bd/ { b = 1; next }
	     b && /^\.Ed/ { exit } b { printf "%s", substr($0, $0 ~ /^ / ? 2 : 1) }
	     END { print "" }' "$BATS_TEST_DIRNAME/../man/window.1" > shown
	printf '%s\n' '{"t":"2024-05-01T10:05:00Z","c":"EUR","a":1234.00}' \
		'{"t":"2024-05-01T10:59:59Z","c":"EUR","a":0.50}' |
		window --tumble 1h -t .t -g .c --agg 'gmv=sum(.a)' > got
	cmp shown got
}

# The README's first pipeline, as shown.
readme_pipeline() {
	awk '/^    txlog init gold\/hourly_gmv/ { p = 1 } p && /^$/ { exit }
	     p { print substr($0, 5) }' "$BATS_TEST_DIRNAME/../README.md"
}

@test "the README's pipeline runs as shown, and a step that stops commits no cut batch under its --txn" {
	readme_pipeline > pipeline.sh
	grep -q 'txlog append gold/hourly_gmv --txn hourly:42' pipeline.sh
	gen -n 3000 -s 5 > raw.ndjson
	run bash pipeline.sh
	assert_success
	# the oracle, in exact decimals: the first record of each order_id,
	# none behind the newest event time less 10 minutes
	python3 -c '
import datetime, decimal, json, sys
D = decimal.Decimal
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
seen, top, total = set(), None, D(0)
for l in open("raw.ndjson"):
    r = json.loads(l, parse_float=D)
    if r["amount"] is None or r["order_id"] in seen:
        continue
    seen.add(r["order_id"])
    e = t(r["event_time"])
    if top is not None and e < top - datetime.timedelta(minutes=10):
        continue
    top = e if top is None else max(top, e)
    total += r["amount"]
print(total)' > want
	txlog cat gold/hourly_gmv | python3 -c '
import decimal, json, sys
print(sum(json.loads(l, parse_float=decimal.Decimal)["gmv"] for l in sys.stdin))' > got
	cmp want got
	# dedup stops at a record without .order_id, halfway: nothing is
	# committed, so the batch's replay is not dropped as done
	rm -rf gold seen.idx late.ndjson bad.ndjson
	sed -i '1500s/"order_id"/"order_ix"/' raw.ndjson
	run bash pipeline.sh
	assert_failure 2
	assert_line 'dedup: <stdin>:1500: missing key .order_id (did you mean .order_ix?)'
	run txlog cat gold/hourly_gmv
	assert_success
	assert_output ''
}

@test "--stats add up from tool to tool: watermark's records_out and watermarks are window's records_in" {
	gen -n 2000 -s 3 > raw.ndjson
	dedup -k .order_id --stats raw.ndjson 2> s.dedup |
		watermark -t .event_time --delay 1m --late late.ndjson --emit --stats 2> s.wm |
		window --tumble 10m -t .event_time -g .currency --agg 'n=count()' --stats 2> s.win > panes
	st() { grep '^{' "$1" | jq -r "$2"; }
	[ "$(st s.dedup .records_in)" = 2000 ]
	[ "$(st s.dedup '.records_out + .duplicates')" = 2000 ]
	[ "$(st s.wm .records_in)" = "$(st s.dedup .records_out)" ]
	[ "$(st s.wm '.records_out + .too_late')" = "$(st s.wm .records_in)" ]
	[ "$(st s.wm .too_late)" = "$(wc -l < late.ndjson)" ]
	[ "$(st s.wm .watermarks)" = "$(grep -c '^{"_watermark"' <(dedup -k .order_id raw.ndjson 2>/dev/null | watermark -t .event_time --delay 1m --late drop --emit 2>/dev/null))" ]
	[ "$(st s.win .records_in)" = "$(st s.wm '.records_out + .watermarks')" ]
	# every record the watermark passed is in one pane (none too late
	# for window: its watermark is watermark's)
	[ "$(st s.win .too_late)" = 0 ]
	[ "$(jq -s 'map(.n) | add' panes)" = "$(st s.wm .records_out)" ]
}

# The README's 30-second tour, as shown: the counts its comments give
# ("# 900", "# 0: idempotent") and the dead letter it says is there.
@test "the README's 30-second tour runs as shown and prints what its comments say" {
	awk '/^## A 30-second tour/ { s = 1; next } s && /^    / { print substr($0, 5); p = 1; next }
	     p { exit }' "$BATS_TEST_DIRNAME/../README.md" > tour
	[ "$(wc -l < tour)" = 7 ]
	# make and the PATH are the suite's own
	grep -vxE 'make|export PATH=.*' tour |
		sed "s|^build/bin-test/gen |$IDEM_GEN |" > tour.sh
	while IFS= read -r l; do
		cmd=${l%%  #*} say=${l#*# }
		run bash -c "{ $cmd; } 2> /dev/null" # the counts on stdout
		assert_success
		case $say in
		900|"0: idempotent") assert_output "${say%%:*}" ;;
		"the dead letter, explained")
			assert_output --regexp '^\{"original_record":"not json","error_type":"invalid_json",.*"source":\{"tool":"dedup","file":"<stdin>","line":2\}\}$' ;;
		esac
	done < tour.sh
	[ -s bad.ndjson ]
}
