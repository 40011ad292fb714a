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

@test "a finer timestamp rounds the min down and the max up to the millisecond" {
	tstable
	echo '{"id":1,"ts":"2024-01-01T08:00:00.0005Z"}' | txlog append t
	run sh -c "jq -r 'select(.add) | .add.stats | fromjson | [.minValues.ts, .maxValues.ts] | join(\" \")' t/_delta_log/00000000000000000001.json"
	assert_output '2024-01-01T08:00:00.000Z 2024-01-01T08:00:00.001Z'
	run txlog cat t --where 'ts > "2024-01-01T08:00:00.0004Z"'
	assert_output '{"id":1,"ts":"2024-01-01T08:00:00.0005Z"}'
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
