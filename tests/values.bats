#!/usr/bin/env bats
# Values compare by what they mean: timestamps as instants whatever their
# offsets (txlog stats, --where, file skipping, partitions, z-order,
# merge --when-newer, dedup --order-by), and --where checked against the
# table's schema.

load helpers

# ts: a timestamp column; rows at 08:00Z (written +02:00) and 09:00Z,
# whose text order is the other way round.
tstable() {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"cur","type":"string","nullable":true,"metadata":{}},{"name":"d","type":"date","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json "$@"
}

two_rows() {
	printf '%s\n' '{"id":1,"ts":"2024-01-01T10:00:00+02:00","cur":"EUR"}' \
		'{"id":2,"ts":"2024-01-01T09:00:00Z","cur":"USD"}'
}

@test "timestamp stats are the instants' min and max, in Delta's UTC form" {
	tstable
	two_rows | txlog append t
	run sh -c "jq -r 'select(.add) | .add.stats | fromjson | [.minValues.ts, .maxValues.ts] | join(\" \")' t/_delta_log/00000000000000000001.json"
	assert_output '2024-01-01T08:00:00.000Z 2024-01-01T09:00:00.000Z'
	run txlog verify t --deep
	assert_success
}

@test "a finer timestamp's stats are truncated to the millisecond, and the max still covers it" {
	tstable
	echo '{"id":1,"ts":"2024-01-01T08:00:00.0005Z"}' | txlog append t
	run sh -c "jq -r 'select(.add) | .add.stats | fromjson | [.minValues.ts, .maxValues.ts] | join(\" \")' t/_delta_log/00000000000000000001.json"
	assert_output '2024-01-01T08:00:00.000Z 2024-01-01T08:00:00.000Z'
	run txlog cat t --where 'ts > "2024-01-01T08:00:00.0004Z"'
	assert_output '{"id":1,"ts":"2024-01-01T08:00:00.0005Z"}'
	run txlog cat t --where 'ts > "2024-01-01T08:00:00.0005Z"'
	assert_output ''
	run txlog verify t --deep
	assert_success
}

@test "--where on a timestamp compares instants, and skips files by them" {
	tstable
	two_rows | txlog append t
	echo '{"id":3,"ts":"2024-01-02T00:00:00Z"}' | txlog append t
	run txlog cat t --where 'ts < "2024-01-01T08:30:00Z"'
	assert_output '{"id":1,"ts":"2024-01-01T10:00:00+02:00","cur":"EUR"}'
	run sh -c "txlog cat t --where 'ts >= \"2024-01-02T01:00:00+02:00\"' --stats 2>&1 >/dev/null | jq -c '[.records_out, .files_skipped]'"
	assert_output '[1,1]'
}

@test "--where takes a date, a time without seconds or zone (UTC), a space for T" {
	tstable
	two_rows | txlog append t
	run txlog cat t --where 'ts < "2024-01-01T08:30"'
	assert_output '{"id":1,"ts":"2024-01-01T10:00:00+02:00","cur":"EUR"}'
	run txlog cat t --where 'ts = "2024-01-01 09:00:00"'
	assert_output '{"id":2,"ts":"2024-01-01T09:00:00Z","cur":"USD"}'
	run txlog cat t --where 'ts < "2024-01-01"'
	assert_success
	assert_output ''
	run txlog cat t --where 'ts >= "2024-01-01T09:00:00.000+00:00"'
	assert_output '{"id":2,"ts":"2024-01-01T09:00:00Z","cur":"USD"}'
}

@test "delete --where on a timestamp deletes by instant" {
	tstable
	two_rows | txlog append t
	txlog delete t --where 'ts <= "2024-01-01T08:00:00Z"'
	run txlog cat t
	assert_output '{"id":2,"ts":"2024-01-01T09:00:00Z","cur":"USD"}'
}

@test "one instant is one timestamp partition, in the protocol's UTC form" {
	tstable --partition-by ts
	printf '%s\n' '{"id":1,"ts":"2024-01-01T10:00:00+02:00"}' \
		'{"id":2,"ts":"2024-01-01T08:00:00Z"}' \
		'{"id":3,"ts":"2024-01-01T08:00:00.5Z"}' | txlog append t
	run sh -c "jq -r 'select(.add) | .add.partitionValues.ts' t/_delta_log/00000000000000000001.json | sort"
	assert_output - <<'OUT'
2024-01-01 08:00:00
2024-01-01 08:00:00.500000
OUT
	run txlog cat t --where 'ts = "2024-01-01T09:00:00+01:00"'
	assert_output - <<'OUT'
{"id":1,"ts":"2024-01-01T10:00:00+02:00"}
{"id":2,"ts":"2024-01-01T08:00:00Z"}
OUT
	run sh -c "txlog cat t --where 'ts > \"2024-01-01T08:00:00.2Z\"' --stats 2>&1 | jq -c 'if .tool then .files_skipped else .id end'"
	assert_output - <<'OUT'
3
1
OUT
}

@test "z-order ranks a timestamp column by instant" {
	tstable
	for r in '{"id":1,"ts":"2024-01-01T10:00:00+02:00"}' \
		'{"id":2,"ts":"2024-01-01T09:00:00Z"}' \
		'{"id":3,"ts":"2024-01-01T08:30:00+00:00"}' \
		'{"id":4,"ts":"2024-01-01T03:45:00-05:00"}'; do
		echo "$r" | txlog append t
	done
	txlog optimize t --zorder-by ts
	run sh -c 'txlog cat t | jq -c .id | paste -sd,'
	assert_output '1,3,4,2'
}

@test "merge --when-newer compares times as instants" {
	tstable
	echo '{"id":4,"ts":"2024-01-01T03:45:00-05:00","cur":"A"}' | txlog append t
	echo '{"id":4,"ts":"2024-01-01T09:30:00+01:00","cur":"B"}' |
		txlog merge t -k .id --when-newer .ts
	run txlog cat t
	assert_output '{"id":4,"ts":"2024-01-01T03:45:00-05:00","cur":"A"}'
	echo '{"id":4,"ts":"2024-01-01T09:50:00+01:00","cur":"C"}' |
		txlog merge t -k .id --when-newer .ts
	run txlog cat t
	assert_output '{"id":4,"ts":"2024-01-01T09:50:00+01:00","cur":"C"}'
}

@test "dedup --order-by keeps the latest instant, whatever the offsets" {
	printf '%s\n' '{"id":1,"t":"2024-01-01T10:00:00+02:00","v":"older"}' \
		'{"id":1,"t":"2024-01-01T09:00:00Z","v":"newer"}' \
		'{"id":1,"t":"2024-01-01T09:00:00.000+00:00","v":"tie, later"}' \
		'{"id":2,"t":"2024-01-01T09:00:00Z","v":"newer"}' \
		'{"id":2,"t":"2024-01-01T10:00:00+02:00","v":"older"}' > in.ndjson
	run dedup -k .id --order-by .t in.ndjson
	assert_output - <<'OUT'
{"id":1,"t":"2024-01-01T09:00:00.000+00:00","v":"tie, later"}
{"id":2,"t":"2024-01-01T09:00:00Z","v":"newer"}
dedup: 3 records dropped: duplicates (--dupes FILE keeps them)
OUT
}

@test "--where names an unknown column: did you mean" {
	tstable
	run txlog cat t --where 'curr = "EUR"'
	assert_failure 2
	assert_line -n 0 "txlog: --where: t has no column 'curr'; did you mean 'cur'?"
	run txlog delete t --where 'zzzzzz = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --where: t has no column 'zzzzzz' (txlog schema t lists them)"
}

@test "--where refuses a value of the wrong type and SQL quotes" {
	tstable
	two_rows | txlog append t
	run txlog cat t --where "cur = 'EUR'"
	assert_failure 2
	assert_line -n 0 "txlog: --where: 'EUR': SQL quotes; a string takes JSON's double quotes: cur = \"EUR\""
	run txlog cat t --where 'id = "1"'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column id is long: "1" is not a number'
	run txlog cat t --where 'cur = 12'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column cur is string: 12 is not a string in double quotes'
	run txlog cat t --where 'd = "2024-02-30"'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column d is date: "2024-02-30" is not a date "YYYY-MM-DD"'
	run txlog cat t --where 'ts < yesterday'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column ts is timestamp: yesterday is not a time: "2024-01-01", "2024-01-01T08:30" or RFC 3339 with a zone (none: UTC)'
	run txlog cat t --where 'cur = EUR'
	assert_success
	assert_output '{"id":1,"ts":"2024-01-01T10:00:00+02:00","cur":"EUR"}'
	run txlog cat t --where 'cur = null'
	assert_success
	assert_output ''
}

@test "dedup -k '[.id,.t]' keeps big integers exact, as plain paths do" {
	printf '%s\n' '{"id":12345678901234567891,"t":1}' \
		'{"id":12345678901234567890,"t":1}' \
		'{"id":12345678901234567891,"t":1.0}' > big.ndjson
	for k in '[.id,.t]' '.id, .t' '{id: .id, "t": .t}' '{id, t}'; do
		run dedup -k "$k" big.ndjson
		assert_success
		assert_output - <<'OUT'
{"id":12345678901234567891,"t":1}
{"id":12345678901234567890,"t":1}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
OUT
	done
}

@test "a jq program that would round a number refuses it, naming option and value" {
	printf '%s\n' '{"id":7,"t":0.1}' '{"id":12345678901234567891,"t":1}' > big.ndjson
	run dedup -k '.id | tostring' big.ndjson
	assert_failure 2
	assert_output - <<'OUT'
{"id":7,"t":0.1}
dedup: big.ndjson:2: key .id | tostring: 12345678901234567891 would be rounded by libjq, which holds numbers as doubles; plain paths and arrays or objects of them ([.a, .b], {a: .a}) keep every digit
OUT
	run window --tumble 1m -t .t -g '.id + 0 | tostring' --agg 'n=count(.t)' big.ndjson
	assert_failure 2
	assert_line -n 0 --partial 'window: big.ndjson:2: '
	assert_line -n 0 --partial '12345678901234567891 would be rounded by libjq'
	# arithmetic alone is idem's, exact (tests/arith.bats)
	run window --tumble 1m -t .t -g '.id + 0' --agg 'n=count(.t)' big.ndjson
	assert_success
	assert_line -n 1 --partial '"key":12345678901234567891,'
}

@test "declared types are enforced as declared: date, decimal(5,2), float, binary" {
	cat > ty.json <<'JSON'
{"type":"struct","fields":[{"name":"d","type":"date","nullable":true,"metadata":{}},{"name":"m","type":"decimal(5,2)","nullable":true,"metadata":{}},{"name":"f","type":"float","nullable":true,"metadata":{}},{"name":"b","type":"binary","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema ty.json
	for r in '{"d":"2024-02-30"}' '{"m":1000}' '{"m":1.234}' '{"f":1e39}' \
		'{"b":"not base64!"}' '{"b":"aGk"}'; do
		echo "$r" | txlog append t 2>>err.txt && echo "took $r"
	done
	run cat err.txt
	assert_output - <<'OUT'
txlog: stdin:1: column .d: "2024-02-30" is not a date YYYY-MM-DD: day out of range; nothing committed
txlog: stdin:1: column .m: 1000 does not fit decimal(5,2): more digits before the point than precision - scale; nothing committed
txlog: stdin:1: column .m: 1.234 does not fit decimal(5,2): more digits after the point than its scale; nothing committed
txlog: stdin:1: column .f: 1e39 does not fit float: out of range; nothing committed
txlog: stdin:1: column .b: not base64 (binary values are base64 strings); nothing committed
txlog: stdin:1: column .b: not base64 (binary values are base64 strings); nothing committed
OUT
	printf '%s\n' '{"d":"2024-02-29"}' '{"m":999.99}' '{"m":1.230}' \
		'{"m":-0.01}' '{"f":3.4e38}' '{"b":"aGk="}' | txlog append t
	run sh -c 'txlog cat t | wc -l'
	assert_output 6
}

@test "timestamps from 0001 to 9999 are taken, compared and bounded" {
	tstable
	printf '%s\n' '{"id":1,"ts":"0001-01-01T00:00:00Z"}' \
		'{"id":2,"ts":"9999-12-31T23:59:59.999999Z"}' \
		'{"id":3,"ts":"2024-01-01T00:00:00+14:00"}' | txlog append t
	run sh -c "jq -r 'select(.add) | .add.stats | fromjson | [.minValues.ts, .maxValues.ts] | join(\" \")' t/_delta_log/00000000000000000001.json"
	assert_output '0001-01-01T00:00:00.000Z 9999-12-31T23:59:59.999Z'
	run txlog cat t --where 'ts > "9999-12-31T23:59:59.9999Z"'
	assert_output '{"id":2,"ts":"9999-12-31T23:59:59.999999Z"}'
	run txlog cat t --where 'ts < "1000-01-01"'
	assert_output '{"id":1,"ts":"0001-01-01T00:00:00Z"}'
	run txlog cat t --where 'ts < "2023-12-31T10:00:01Z"'
	assert_output - <<'OUT'
{"id":1,"ts":"0001-01-01T00:00:00Z"}
{"id":3,"ts":"2024-01-01T00:00:00+14:00"}
OUT
	run txlog verify t --deep
	assert_success
}

@test "a partition value with a NUL is refused, never cut at the NUL" {
	cat > n.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema n.json --partition-by p
	run sh -c "echo '{\"id\":1,\"p\":\"a\\u0000b\"}' | txlog append t"
	assert_failure 2
	assert_output 'txlog: stdin:1: partition column p: the value holds a NUL (\u0000), which a partition value cannot keep'
	[ ! -e t/_delta_log/00000000000000000001.json ]
}

@test "a --where column name or time literal with a NUL is refused, not cut at it" {
	cat > n.json <<'JSON'
{"type":"struct","fields":[{"name":"s","type":"string","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"d","type":"date","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema n.json
	echo '{"s":"a","ts":"2024-01-01T00:00:00Z","d":"2024-01-05"}' | txlog append t
	run txlog cat t --where '"s\u0000x" = "a"'
	assert_failure 2
	assert_line --index 0 'txlog: --where: the column name "s\u0000x" holds a NUL (\u0000), which no column name can'
	run txlog cat t --where 'ts = "2024-01-01T00:00:00Z\u0000x"'
	assert_failure 2
	assert_line --index 0 'txlog: --where: column ts is timestamp: "2024-01-01T00:00:00Z\u0000x" is not a time: "2024-01-01", "2024-01-01T08:30" or RFC 3339 with a zone (none: UTC)'
	run txlog cat t --where 'd = "2024-01-05\u0000x"'
	assert_failure 2
	assert_line --index 0 'txlog: --where: column d is date: "2024-01-05\u0000x" is not a date "YYYY-MM-DD"'
	run txlog cat t --where 'ts = "2024-01-01T01:00:00+01:00" and d = "2024-01-05"'
	assert_output '{"s":"a","ts":"2024-01-01T00:00:00Z","d":"2024-01-05"}'
}

@test "a NUL in a log's partition value is compared whole: p = \"a\" is not \"a\\u0000b\"" {
	cat > n.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema n.json --partition-by p
	printf '%s\n' '{"id":1,"p":"a"}' '{"id":2,"p":"a\u0001b"}' | txlog append t
	# another writer's log, as it may spell the value
	sed -i 's/"p":"a\\u0001b"/"p":"a\\u0000b"/' t/_delta_log/00000000000000000001.json
	unseal t/_delta_log/00000000000000000001.json
	run txlog cat t --where 'p = "a"'
	assert_output '{"id":1,"p":"a"}'
	run sh -c "txlog stats t | jq -c 'select(.partition) | [.partition.p, .records]' | LC_ALL=C sort"
	assert_output - <<'OUT'
["a",1]
["a\u0000b",1]
OUT
	run txlog optimize t
	assert_failure 2
	assert_output --partial 'a partition value holds a NUL (\u0000), which txlog cannot write back; nothing optimized'
	txlog delete t --where 'p = "a"'
	run txlog cat t
	assert_output '{"id":2,"p":"a\u0001b"}'
}

@test "window min and max of RFC 3339 times are by instant" {
	printf '%s\n' '{"t":"2024-01-01T10:10:00+02:00"}' '{"t":"2024-01-01T08:20:00Z"}' \
		'{"t":"2024-01-01T09:05:00+01:00"}' > in.ndjson
	run window --tumble 1h -t .t --agg 'lo=min(.t)' --agg 'hi=max(.t)' in.ndjson
	assert_output '{"window":{"start":"2024-01-01T08:00:00Z","end":"2024-01-01T09:00:00Z"},"lo":"2024-01-01T09:05:00+01:00","hi":"2024-01-01T08:20:00Z","pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a time's fraction of any length is exact to the nanosecond; finer is refused, not truncated" {
	printf '%s\n' '{"t":"1970-01-01T00:00:10.5000000000000Z"}' \
		'{"t":"1970-01-01T00:00:10.500000000Z"}' \
		'{"t":"1970-01-01T00:00:10.4999999999Z"}' > in.ndjson
	run sh -c 'watermark -t .t --dlq d.ndjson --stats in.ndjson 2>err &&
		jq -c "{records_out,dead_lettered,watermark}" err'
	assert_success
	assert_output - <<'J'
{"t":"1970-01-01T00:00:10.5000000000000Z"}
{"t":"1970-01-01T00:00:10.500000000Z"}
{"records_out":2,"dead_lettered":1,"watermark":"1970-01-01T00:00:10.500Z"}
J
	run jq -r .error_message d.ndjson
	assert_output 'event time .t: finer than a nanosecond'
	# min and max: the two spellings name one instant; min keeps the
	# first, max the last (as jq's min_by and max_by)
	run window --tumble 1m -t .t --agg 'lo=min(.t)' --agg 'hi=max(.t)' --agg 'n=count()' <(head -2 in.ndjson)
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"lo":"1970-01-01T00:00:10.5000000000000Z","hi":"1970-01-01T00:00:10.500000000Z","n":2,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a leap second is refused as an event time, and a key of its own; a :60 that is no leap second is refused" {
	printf '%s\n' '{"t":"2016-12-31T23:59:60Z"}' '{"t":"2017-01-01T05:29:60+05:30"}' \
		'{"t":"2016-12-31T12:30:60Z"}' '{"t":"2017-01-01T00:00:00Z"}' > in.ndjson
	# read as the next :00 it would count in the next day's window
	run window --tumble 1d -t .t --agg 'n=count()' --dlq d.ndjson in.ndjson
	assert_success
	assert_output '{"window":{"start":"2017-01-01T00:00:00Z","end":"2017-01-02T00:00:00Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run jq -c '[.source.line, .error_message]' d.ndjson
	assert_output - <<'J'
[1,"event time .t: a leap second (23:59:60 UTC), which idem's times cannot hold: POSIX time has no slot for it, and the next :00 is another instant"]
[2,"event time .t: a leap second (23:59:60 UTC), which idem's times cannot hold: POSIX time has no slot for it, and the next :00 is another instant"]
[3,"event time .t: second 60 is not a leap second (23:59:60 UTC at the end of a month)"]
J
	# as a key it is the instant it names: one at any offset, not the
	# next :00
	run dedup -k .t in.ndjson
	assert_success
	assert_output - <<'J'
{"t":"2016-12-31T23:59:60Z"}
{"t":"2016-12-31T12:30:60Z"}
{"t":"2017-01-01T00:00:00Z"}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
J
	# a timestamp column cannot store it, nor --where compare with it
	tstable
	run sh -c 'echo "{\"id\":2,\"ts\":\"2016-12-31T23:59:60Z\"}" | txlog append t'
	assert_failure 2
	assert_output --partial "a leap second (23:59:60 UTC), which idem's times cannot hold"
	run txlog cat t --where 'ts < "2016-12-31T23:59:60Z"'
	assert_failure 2
	assert_output --partial "a leap second (23:59:60 UTC), which idem's times cannot hold"
}

@test "one number is one partition, however it is spelled" {
	cat > np.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"double","nullable":true,"metadata":{}},{"name":"q","type":"long","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema np.json --partition-by p --partition-by q
	printf '%s\n' '{"id":1,"p":1,"q":5}' '{"id":2,"p":1.0,"q":5}' \
		'{"id":3,"p":10e-1,"q":-0}' '{"id":4,"p":1,"q":0}' \
		'{"id":5,"p":1.5e300,"q":0}' | txlog append t
	run sh -c "jq -c 'select(.add) | .add.partitionValues | [.p, .q]' t/_delta_log/00000000000000000001.json | LC_ALL=C sort"
	assert_output - <<'OUT'
["1","0"]
["1","5"]
["1.5e+300","0"]
OUT
	run sh -c "txlog cat t --where 'q = 0' | jq -c .id | sort | paste -sd,"
	assert_output '3,4,5'
	run txlog verify t --deep
	assert_success
}

@test "a float or double column holds binary numbers: two spellings of one double are one partition and one --where value" {
	# 0.1 and 0.1000000000000000055511151231257827 are one double: they
	# went to two partitions, and p = 0.1 matched only the first
	cat > fp.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"double","nullable":true,"metadata":{}},{"name":"f","type":"float","nullable":true,"metadata":{}},{"name":"x","type":"double","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema fp.json --partition-by p --partition-by f
	printf '%s\n' '{"id":1,"p":0.1,"f":0.1,"x":0.1}' \
		'{"id":2,"p":0.1000000000000000055511151231257827,"f":0.100000001490116119384765625,"x":0.10000000000000001}' \
		'{"id":3,"p":1.5e300,"f":1,"x":2}' | txlog append t
	run sh -c "jq -c 'select(.add) | .add.partitionValues | [.p, .f]' t/_delta_log/00000000000000000001.json | LC_ALL=C sort"
	assert_output - <<'OUT'
["0.1","0.1"]
["1.5e+300","1"]
OUT
	for w in 'x = 0.1' 'p = 0.1000000000000000055511151231257827' 'f = 0.1' \
		'f = 0.100000001490116119384765625' 'x <= 0.1' 'x < 0.2'; do
		run sh -c "txlog cat t --where '$w' | jq -c .id | paste -sd,"
		assert_output '1,2'
	done
	run sh -c "txlog cat t --where 'x > 0.1' | jq -c .id | paste -sd,"
	assert_output '3'
	refused 'txlog: --where: column x is double: 1e-400 does not fit double: too small: it rounds to 0' \
		txlog cat t --where 'x = 1e-400'
	refused 'txlog: --where: column x is double: 9007199254740993 does not fit double: a double holds it as 9007199254740992 (a decimal(P,S) column keeps every digit)' \
		txlog delete t --where 'x = 9007199254740993'
	run txlog verify t --deep
	assert_success
}

@test "verify --deep reads a double column's bounds as the binary numbers --where reads them" {
	# another writer's maxValues 0.1 is the double of a row's
	# 0.1000000000000000055511151231257827: verify said the row was
	# above it, while --where x > 0.1 rightly skipped the file
	cat > fp.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"x","type":"double","nullable":true,"metadata":{}},{"name":"f","type":"float","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema fp.json
	echo '{"id":1,"x":0.1000000000000000055511151231257827,"f":0.100000001490116119384765625}' | txlog append t
	c=t/_delta_log/00000000000000000001.json
	sed -i -e 's/\\"x\\":0.1000000000000000055511151231257827/\\"x\\":0.1/g' \
		-e 's/\\"f\\":0.100000001490116119384765625/\\"f\\":0.1/g' "$c"
	unseal "$c"
	run sh -c "txlog files t | jq -c '.stats | fromjson | [.minValues, .maxValues]'"
	assert_output '[{"id":1,"x":0.1,"f":0.1},{"id":1,"x":0.1,"f":0.1}]'
	run txlog verify t --deep
	assert_success
	assert_output ''
	run sh -c "txlog cat t --where 'x > 0.1' | wc -l"
	assert_output 0
	run sh -c "txlog cat t --where 'f = 0.1' | jq -c .id"
	assert_output 1
	# a value that is above the bound as a double is still found
	sed -i 's/\\"maxValues\\":{\\"id\\":1,\\"x\\":0.1,/\\"maxValues\\":{\\"id\\":1,\\"x\\":0.09999999999999999,/' "$c"
	run txlog verify t --deep
	assert_failure 1
	assert_output --partial 'column x has a value above its maxValues 0.09999999999999999'
}

@test "a jq program is checked on the members it names; its own big literal is refused" {
	printf '%s\n' '{"id":12345678901234567891,"amount":5,"c":"EUR"}' > in.ndjson
	run dlq check -e '.amount > 1 and .c != null' in.ndjson
	assert_success
	assert_output '{"id":12345678901234567891,"amount":5,"c":"EUR"}'
	run dlq check -e '.id > 1 and .amount < 10' in.ndjson
	assert_failure 2
	assert_output --partial 'check .id > 1 and .amount < 10: 12345678901234567891 would be rounded by libjq'
	run dedup -k 'select(.amount > 1)' in.ndjson
	assert_failure 2
	assert_output --partial 'key select(.amount > 1): 12345678901234567891 would be rounded by libjq'
	run dedup -k '.amount > 12345678901234567891' in.ndjson
	assert_failure 2
	assert_line -n 0 "dedup: -k: '.amount > 12345678901234567891': the number 12345678901234567891 would be rounded by libjq, which holds numbers as doubles"
}

@test "a program's big literal is refused wherever it stands: after a bare ., a variable, in a string's \\( )" {
	printf '%s\n' '{"a":9007199254740992}' > in.ndjson
	refused "dlq: -e: '.a | . == 9007199254740993': the number 9007199254740993 would be rounded by libjq, which holds numbers as doubles" \
		dlq check -e '.a | . == 9007199254740993' in.ndjson
	refused "dlq: -e: '. as \$r | \$r.a == 9007199254740993': the number 9007199254740993 would be rounded by libjq, which holds numbers as doubles" \
		dlq check -e '. as $r | $r.a == 9007199254740993' in.ndjson
	refused "dedup: -k: '\"\\(.a == 9007199254740993)\"': the number 9007199254740993 would be rounded by libjq, which holds numbers as doubles" \
		dedup -k '"\(.a == 9007199254740993)"' in.ndjson
	run dlq check -e '.a | . == 9007199254740992 # not 9007199254740993' in.ndjson
	assert_success
	assert_output '{"a":9007199254740992}'
}

@test "a number written in a string that tonumber or fromjson would round is refused, as one written as a number is" {
	printf '%s\n' '{"id":"12345678901234567891"}' '{"id":"12345678901234567892"}' > in.ndjson
	refused 'dedup: in.ndjson:1: key .id | tonumber: 12345678901234567891 would be rounded by libjq, which holds numbers as doubles; plain paths and arrays or objects of them ([.a, .b], {a: .a}) keep every digit' \
		dedup -k '.id | tonumber' in.ndjson
	printf '%s\n' '{"j":"{\"a\":1e400}","note":"12345678901234567891"}' > j.ndjson
	refused 'dedup: j.ndjson:1: key .j | fromjson: 1e400 would be rounded by libjq, which holds numbers as doubles; plain paths and arrays or objects of them ([.a, .b], {a: .a}) keep every digit' \
		dedup -k '.j | fromjson' j.ndjson
	run dedup -k '.note | length' j.ndjson
	assert_success
}

@test "an event time's fraction of any length is read when its digits past the ninth are zeros, as idem(7) says" {
	z=00000000000000000000000000000000000000000000000000
	printf '{"t":"1970-01-01T00:00:10.5%sZ"}\n{"t":"1970-01-01T00:00:10.5%s1Z"}\n' "$z" "$z" > in.ndjson
	run sh -c 'watermark -t .t --dlq d.ndjson --stats in.ndjson 2>err &&
		jq -c "{records_out,dead_lettered,watermark}" err && jq -r .error_message d.ndjson'
	assert_success
	assert_output - <<J
{"t":"1970-01-01T00:00:10.5${z}Z"}
{"records_out":1,"dead_lettered":1,"watermark":"1970-01-01T00:00:10.500Z"}
event time .t: finer than a nanosecond
J
}

@test "a member a jq object names by itself ({\"id\"}, {not}) is checked as one it reads with a dot" {
	printf '%s\n' '{"id":12345678901234567891}' '{"id":12345678901234567892}' > in.ndjson
	refused 'dedup: in.ndjson:1: key {"id"}: 12345678901234567891 would be rounded by libjq, which holds numbers as doubles; plain paths and arrays or objects of them ([.a, .b], {a: .a}) keep every digit' \
		dedup -k '{"id"}' in.ndjson
	printf '%s\n' '{"not":9007199254740993}' > not.ndjson
	refused 'dedup: not.ndjson:1: key {not}: 9007199254740993 would be rounded by libjq, which holds numbers as doubles; plain paths and arrays or objects of them ([.a, .b], {a: .a}) keep every digit' \
		dedup -k '{not}' not.ndjson
}

@test "cat --as-of takes the forms --where does: a date, a zone-less time (UTC)" {
	tstable
	two_rows | txlog append t
	run txlog cat t --as-of 2000-01-01
	assert_failure 2
	assert_output 'txlog: t: no version was committed at or before 2000-01-01'
	run txlog cat t --as-of "$(date -u '+%Y-%m-%d %H:%M:%S.%3N')"
	assert_success
	assert_line -n 0 '{"id":1,"ts":"2024-01-01T10:00:00+02:00","cur":"EUR"}'
	# a time to come: the version current then is not known yet
	run txlog cat t --as-of '2999-01-01 00:00'
	assert_failure 2
	assert_output --regexp "^txlog: --as-of '2999-01-01 00:00': in the future \(now is 20[0-9-]{8}T[0-9:.]{12}Z\): which version will be current then is not known yet; leave --as-of out to read the newest\$"
	run txlog cat t --as-of 'yesterday'
	assert_failure 2
	assert_line -n 0 "txlog: --as-of 'yesterday': not an RFC 3339 time (give a date, a time with or without a zone, or -DUR)"
}

@test "a string key is its decoded code points, with no Unicode normalisation, as dedup(1) says" {
	# "\u00e9" and the raw é are U+00E9, one key; the NFD spelling, e and
	# a combining acute (raw or escaped), is another, as jq's == has it
	printf '{"k":"\\u00e9"}\n{"k":"\303\251"}\n{"k":"e\\u0301"}\n{"k":"e\314\201"}\n' > in
	run dedup -k .k --dupes d in
	assert_success
	assert_output - <<'E'
{"k":"\u00e9"}
{"k":"e\u0301"}
E
	assert_equal "$(jq -c '.k == "é"' in | tr '\n' ' ')" "true true false false "
	run partition -n 64 -k .k in
	assert_success
	[ "$(sed -n 3p <<< "$output" | cut -f1)" = "$(sed -n 4p <<< "$output" | cut -f1)" ]
	[ "$(sed -n 1p <<< "$output" | cut -f1)" = "$(sed -n 2p <<< "$output" | cut -f1)" ]
}

@test "nesting past 1024 and a lone surrogate escape are invalid JSON, as idem(7) says, not keys" {
	python3 -c "print('[' * 1024 + ']' * 1024)" > ok
	python3 -c "print('[' * 1025 + ']' * 1025)" > deep
	run dedup ok
	assert_success
	refused 'dedup: deep:1: invalid JSON: nesting too deep at byte 1025' dedup deep
	refused 'partition: deep:1: invalid JSON: nesting too deep at byte 1025' partition -n 2 deep
	printf '{"k":"\\ud800"}\n{"k":"\\udbff"}\n' > lone
	refused 'dedup: lone:1: invalid JSON: lone UTF-16 surrogate at byte 7' dedup -k .k lone
	printf '{"k":"\\ud83d\\ude00"}\n{"k":"\360\237\230\200"}\n' > pair
	run dedup -k .k --dupes d pair
	assert_output '{"k":"\ud83d\ude00"}'
}
