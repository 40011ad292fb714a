#!/usr/bin/env bats
# txlog --where terms (cat, delete, update, overwrite, optimize and the
# conflict check) against the column's type, with SQL's nulls: a null
# (or absent) column matches no comparison with a value, only = null.

load helpers
bats_require_minimum_version 1.5.0

table() {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"v","type":"long","nullable":true,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json "$@"
	printf '%s\n' '{"id":1,"v":5,"s":"x","p":"a"}' '{"id":2,"s":"y","p":"b"}' \
		'{"id":3,"v":null,"s":null}' '{"id":4,"v":20,"s":"x","p":"a"}' |
		txlog append t
}

ids() {
	txlog "$@" | jq -c .id | paste -sd, -
}

@test "a null or absent column matches no comparison with a value" {
	table
	run ids cat t --where 'v < 10'
	assert_output '1'
	run ids cat t --where 'v <= 5'
	assert_output '1'
	run ids cat t --where 'v != 5'
	assert_output '4'
	run ids cat t --where 's != "x"'
	assert_output '2'
	run ids cat t --where 's < "y"'
	assert_output '1,4'
	run ids cat t --where 'v = null'
	assert_output '2,3'
	run ids cat t --where 'v != null'
	assert_output '1,4'
}

@test "the same with the table's statistics and partition values skipping files" {
	table --partition-by p
	echo '{"id":5,"v":null,"s":null,"p":null}' | txlog append t
	run ids cat t --where 'p != "a"'
	assert_output '2'
	run ids cat t --where 'p < "b"'
	assert_output '1,4'
	run ids cat t --where 'p = null'
	assert_output '3,5'
	run ids cat t --where 'v < 10'
	assert_output '1'
	run ids cat t --where 'v = null'
	assert_output '2,3,5'
	run ids cat t --where 's != "x"'
	assert_output '2'
	run ids cat t --where 's = null'
	assert_output '3,5'
}

@test "delete and update --where leave the null rows a comparison does not match" {
	table
	txlog delete t --where 'v < 10'
	run ids cat t
	assert_output '2,3,4'
	txlog update t --set 's = "z"' --where 's != "x"'
	run sh -c "txlog cat t | jq -c '[.id,.s]' | paste -sd, -"
	assert_output '[3,null],[4,"x"],[2,"z"]'
}

@test "an order comparison with null is refused: it would match no row" {
	table
	run txlog cat t --where 'v < null'
	assert_failure 2
	assert_output - <<'OUT'
txlog: --where: v < null matches no row (a comparison with null is never true); use v = null or v != null
Try 'txlog cat --help' for more information.
OUT
	run txlog delete t --where 's >= null'
	assert_failure 2
	assert_line -n 0 'txlog: --where: s >= null matches no row (a comparison with null is never true); use s = null or s != null'
}

@test "a timestamp_ntz takes no offset, in records, --set or --where" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"nt","type":"timestamp_ntz","nullable":true,"metadata":{}}]}' > n.json
	txlog init t --schema n.json
	run txlog append t <<< '{"id":1,"nt":"2024-01-01T10:00:00+02:00"}'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .nt: "2024-01-01T10:00:00+02:00" has an offset, which a timestamp_ntz (no zone) cannot keep; give its wall-clock time with Z; nothing committed'
	run txlog append t <<< '{"id":1,"nt":"2024-01-01T10:00:00"}'
	assert_failure 2
	assert_output "txlog: stdin:1: column .nt: not an RFC 3339 time (a timestamp_ntz's wall-clock time is written with Z); nothing committed"
	printf '%s\n' '{"id":1,"nt":"2024-01-01T10:00:00Z"}' '{"id":2,"nt":"2024-01-01T11:00:00+00:00"}' | txlog append t
	run ids cat t --where 'nt >= "2024-01-01T10:30"'
	assert_output '2'
	run txlog cat t --where 'nt < "2024-01-01T12:00:00+02:00"'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column nt is timestamp_ntz: "2024-01-01T12:00:00+02:00" is not a time without a zone (a timestamp_ntz has none; an offset names an instant)'
	run txlog update t --set 'nt = "2024-01-01T12:00:00-05:00"' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 'txlog: --set '\''nt = "2024-01-01T12:00:00-05:00"'\'': column nt is timestamp_ntz: "2024-01-01T12:00:00-05:00" has an offset, which a timestamp_ntz (no zone) cannot keep; give its wall-clock time with Z'
	# the forms --where takes, written with Z
	txlog update t --set 'nt = "2024-01-02 10:30"' --where 'id = 1'
	run txlog cat t --where 'nt = "2024-01-02T10:30"'
	assert_output '{"id":1,"nt":"2024-01-02T10:30:00Z"}'
}

@test "merge refuses a source record whose key is null: it matches no row" {
	table
	run txlog merge t -k .v <<'EOF2'
{"id":7,"v":5,"s":"new"}
{"id":8,"v":null,"s":"keyless"}
EOF2
	assert_failure 2
	assert_output 'txlog: stdin:2: merge key .v is null, which matches no row (SQL'\''s nulls, as Delta'\''s MERGE); give the record a key; nothing committed'
	run ls t/_delta_log
	assert_output $'00000000000000000000.json\n00000000000000000001.json'
	echo '{"id":7,"v":5,"s":"new"}' | txlog merge t -k .v
	run ids cat t
	assert_output '2,3,4,7'
}

@test "merge refuses a composite key with a null part: it matches no row either" {
	table
	# a row whose .s is null is no match for a source [7,null] either
	run txlog merge t -k '[.id,.s]' <<'EOF2'
{"id":7,"v":5,"s":"new"}
{"id":8,"v":6,"s":null}
EOF2
	assert_failure 2
	assert_output 'txlog: stdin:2: merge key [.id,.s] has a null element 2, which matches no row (SQL compares a composite key part by part, as Delta'\''s MERGE); give the record every part; nothing committed'
	run txlog merge t -k '{id:.id, "the s":.s}' <<<'{"id":8,"v":6}'
	assert_failure 2
	assert_output 'txlog: stdin:1: merge key {id:.id, "the s":.s} has a null member .the s, which matches no row (SQL compares a composite key part by part, as Delta'\''s MERGE); give the record every part; nothing committed'
	run ls t/_delta_log
	assert_output $'00000000000000000000.json\n00000000000000000001.json'
	# a null deeper down is a value of the part, compared as such
	echo '{"id":7,"v":5,"s":"new"}' | txlog merge t -k '[.id,[.s]]'
	run ids cat t
	assert_output '1,2,3,4,7'
}

@test "a binary column takes = and !=, not an order its base64 text does not have" {
	echo '{"type":"struct","fields":[{"name":"b","type":"binary","nullable":true,"metadata":{}}]}' > b.json
	txlog init t --schema b.json
	# bytes 0x00 < 0xff, base64 "AA==" < "/w==" is false by text
	printf '%s\n' '{"b":"AA=="}' '{"b":"/w=="}' | txlog append t
	run txlog cat t --where 'b = "/w=="'
	assert_output '{"b":"/w=="}'
	run txlog cat t --where 'b < "/w=="'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column b is binary: b < would order the base64 text, not the bytes; only = and != compare it'
}

@test "a binary column is no partition column: its partition value would be base64, not its bytes" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"b","type":"binary","nullable":true,"metadata":{}}]}' > b.json
	run txlog init t --schema b.json --partition-by b
	assert_failure 2
	assert_output "txlog: b.json: partition column b is binary: PROTOCOL.md's partition value is its bytes, and txlog holds binary as base64 text; partition by another column"
	[ ! -e t ]
	# one made so by hand (or by an older txlog) takes no write
	txlog init t --schema b.json
	sed -i 's/"partitionColumns":\[\]/"partitionColumns":["b"]/' t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	run txlog append t <<< '{"id":1,"b":"aGk="}'
	assert_failure 2
	assert_output "txlog: t: partition column b is binary: PROTOCOL.md's partition value is its bytes, and txlog holds binary as base64 text; refusing to write"
	run ls t/_delta_log
	assert_output '00000000000000000000.json'
}

@test "the first overwrite --where of an --infer table takes the type its records give the partition column" {
	txlog init t --infer --partition-by day
	echo '{"id":1,"day":5}' | txlog overwrite t --where 'day = 5'
	echo '{"id":2,"day":5}' | txlog overwrite t --where 'day = 5'
	run txlog cat t
	assert_output '{"id":2,"day":5}'
	run sh -c "txlog schema t | jq -c '.fields[] | select(.name == \"day\") | .type'"
	assert_output '"integer"'
	run txlog cat t --where 'day = "5"'
	assert_failure 2
}

@test "a timestamp literal finer than a microsecond is refused: Delta would cut it, an exact compare would not" {
	echo '{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}' > ts.json
	txlog init t --schema ts.json
	echo '{"ts":"2024-01-01T08:00:00Z"}' | txlog append t
	run txlog delete t --where 'ts = "2024-01-01T08:00:00.0000001Z"'
	assert_failure 2
	assert_line -n 0 'txlog: --where: column ts is timestamp: "2024-01-01T08:00:00.0000001Z" is not a time to the microsecond (a timestamp holds none finer)'
	run txlog cat t --where 'ts >= "2024-01-01T08:00:00.000000Z"'
	assert_output '{"ts":"2024-01-01T08:00:00Z"}'
}

@test "SQL a predicate does not take is refused with how it is written here" {
	table
	refused "txlog: --where 'v IS NULL': SQL's IS NULL is written 'v = null'" \
		txlog cat t --where 'v IS NULL'
	refused "txlog: --where 'v is not null': SQL's IS NOT NULL is written 'v != null'" \
		txlog delete t --where 'v is not null'
	refused "txlog: --where 'v = 5 or id = 4': terms join by 'and' only; OR is a jq program, as '.a == 1 or .b == \"x\"'" \
		txlog cat t --where 'v = 5 or id = 4'
	refused "txlog: --where 'id in (1, 2)': IN is a jq program, as '.a | IN(1, 2)'" \
		txlog cat t --where 'id in (1, 2)'
	refused "txlog: --where 'id between 1 and 2': BETWEEN is written 'col >= A and col <= B'" \
		txlog cat t --where 'id between 1 and 2'
	refused "txlog: --where 'p <> \"a\"': SQL's <> is written '!='" \
		txlog optimize t --where 'p <> "a"'
	# what it says is what runs; a jq program with or stays one
	run ids cat t --where 'v = null'
	assert_output '2,3'
	run ids cat t --where '.v == 5 or .id == 4'
	assert_output '1,4'
	run ids cat t --where 's = "x" AND v > 10'
	assert_output '4'
	# nothing was deleted by the refused delete
	run ids cat t
	assert_output '1,2,3,4'
}

@test "a bare word naming a column is refused: SQL's a = b compares two columns, not a column with a string" {
	table
	refused "txlog: --where: s = p: p is a column of t, and a term compares a column with a value: write \"p\" for the string; '.s == .p' (a jq program) compares two columns" \
		txlog cat t --where 's = p'
	refused "txlog: --where: s != p: p is a column of t, and a term compares a column with a value: write \"p\" for the string; '.s != .p' (a jq program) compares two columns" \
		txlog delete t --where 'id = 1 and s != p'
	# Delta's column names ignore case: P is column p to SQL
	refused "txlog: --where: s = P: P is a column of t, and a term compares a column with a value: write \"P\" for the string; '.s == .p' (a jq program) compares two columns" \
		txlog cat t --where 's = P'
	run ids cat t --where 's = "p"'
	assert_output ''
	run ids cat t --where 's = x'
	assert_output '1,4'
	run ids cat t
	assert_output '1,2,3,4'
}

@test "a bare NULL, TRUE or FALSE in another case than JSON's is SQL's literal, refused, not a string to compare with" {
	# s = NULL compared s with the string "NULL": SQL reads no string
	table
	refused "txlog: --where: s = NULL: NULL is SQL's null, which is written null here: s = null; write \"NULL\" for the string" \
		txlog cat t --where 's = NULL'
	refused "txlog: --where: s != Null: Null is SQL's null, which is written null here: s != null; write \"Null\" for the string" \
		txlog delete t --where 'id = 1 and s != Null'
	refused "txlog: --where: s = TRUE: TRUE is SQL's true, which is written true here: s = true; write \"TRUE\" for the string" \
		txlog cat t --where 's = TRUE'
	run ids cat t --where 's = "NULL"'
	assert_success
	assert_output ''
	run ids cat t --where 's = Nulls'
	assert_success
	assert_output ''
}

# another writer's statistics, put in place of txlog's in commit 1
foreign_stats() {
	jq -c --arg st "$1" 'if .add then .add.stats = $st
		elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"])
		else . end' t/_delta_log/00000000000000000001.json > c.json
	mv c.json t/_delta_log/00000000000000000001.json
}

@test "statistics of another writer skip files only where txlog reads them as the column's type" {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"n","type":"timestamp_ntz","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json
	echo '{"id":1,"n":"2024-01-01T08:00:00Z","ts":"2024-01-01T08:00:00Z"}' | txlog append t
	echo '{"id":2,"n":"2024-01-02T08:00:00Z","ts":"2024-01-02T08:00:00Z"}' | txlog append t
	# Delta's writers give a timestamp_ntz's bounds without a zone
	foreign_stats '{"numRecords":1,"minValues":{"id":"1","n":"2024-01-01T08:00:00.000","ts":"2024-01-01T08:00:00.000"},"maxValues":{"id":"1","n":"2024-01-01T08:00:00.000","ts":"2024-01-01T08:00:00.000"},"nullCount":{"id":0,"n":0,"ts":0}}'
	run ids cat t --where 'n = "2024-01-01T08:00:00"'
	assert_output '1'
	run ids cat t --where 'n < "2024-01-02"'
	assert_output '1'
	run sh -c "txlog cat t --where 'n > \"2024-01-01T09:00:00\"' --stats 2>&1 >/dev/null | jq -c '[.records_out, .files_skipped]'"
	assert_output '[1,1]'
	# a number as a string, a timestamp's bound without a zone: no bound
	run ids cat t --where 'id < 2'
	assert_output '1'
	run ids cat t --where 'ts <= "2024-01-01T08:00:00Z"'
	assert_output '1'
}

@test "a timestamp_ntz's statistics are its wall-clock time without a zone, as Delta writes them, and optimize merges them" {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"n","type":"timestamp_ntz","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json
	printf '%s\n' '{"id":1,"n":"2024-01-01T08:00:00.123456Z","ts":"2024-01-01T10:00:00+02:00"}' \
		'{"id":2,"n":"2024-01-01T09:00:00+00:00"}' | txlog append t
	echo '{"id":3,"n":"2024-01-02T00:00:00Z"}' | txlog append t
	stats() {
		jq -c "select(.add) | .add.stats | fromjson | [.minValues.n, .maxValues.n, .minValues.ts]" "$1"
	}
	run stats t/_delta_log/00000000000000000001.json
	assert_output '["2024-01-01T08:00:00.123","2024-01-01T09:00:00.000","2024-01-01T08:00:00.000Z"]'
	run sh -c "txlog cat t --where 'n > \"2024-01-01T12:00:00\"' --stats 2>&1 >/dev/null | jq -c '[.records_out, .files_skipped]'"
	assert_output '[1,1]'
	txlog optimize t 2>/dev/null
	run stats t/_delta_log/00000000000000000003.json
	assert_output '["2024-01-01T08:00:00.123","2024-01-02T00:00:00.000","2024-01-01T08:00:00.000Z"]'
	run ids cat t --where 'n >= "2024-01-01T09:00:00"'
	assert_output '2,3'
	run txlog verify t --deep
	assert_success
}

@test "a binary column has no min and max in txlog's statistics, and another writer's, of its bytes, skip no file" {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"b","type":"binary","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json
	printf '%s\n' '{"id":1,"b":"AQI="}' '{"id":2,"b":null}' | txlog append t
	run sh -c "jq -c 'select(.add) | .add.stats | fromjson' t/_delta_log/00000000000000000001.json"
	assert_output '{"numRecords":2,"minValues":{"id":1},"maxValues":{"id":2},"nullCount":{"id":0,"b":1}}'
	# the bytes 01 02, as PROTOCOL.md spells binary in JSON: not "AQI="
	foreign_stats '{"numRecords":2,"minValues":{"b":"\u0001\u0002"},"maxValues":{"b":"\u0001\u0002"},"nullCount":{"b":1}}'
	run ids cat t --where 'b = "AQI="'
	assert_output '1'
	run ids cat t --where 'b = null'
	assert_output '2'
	run txlog verify t --deep
	assert_success
}

@test "a number another writer gives as a struct's nullCount, whose statistics mirror its fields, skips no file: verify names it" {
	# nullCount n: 3 of 3 records skipped the file for n != null,
	# which holds two rows with an n
	cat > s.json <<'J'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"n","type":{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}
J
	txlog init t --schema s.json
	printf '%s\n' '{"id":1,"n":{"x":1}}' '{"id":2,"n":null}' '{"id":3,"n":{"x":null}}' | txlog append t
	c=t/_delta_log/00000000000000000001.json
	run grep -c '\\"nullCount\\":{\\"id\\":0}' "$c"
	assert_output 1
	sed -i 's/\\"nullCount\\":{\\"id\\":0}/\\"nullCount\\":{\\"id\\":0,\\"n\\":3}/' "$c"
	unseal "$c"
	run ids cat t --where 'n != null'
	assert_output '1,3'
	run ids cat t --where 'n = null'
	assert_output '2'
	f=$(txlog files t | jq -r .path)
	run txlog verify t --deep
	assert_failure 1
	assert_output "txlog: t: $f: the statistics give struct column n the nullCount 3, not an object of its fields' counts (PROTOCOL.md)"
}

@test "another writer's string max, cut to a prefix as PROTOCOL.md allows, skips no file holding a longer value" {
	table
	a32=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	printf '%s\n' "{\"id\":5,\"s\":\"${a32}zz\"}" "{\"id\":6,\"s\":\"${a32}\\ud83d\\ude00\"}" \
		"{\"id\":7,\"s\":\"${a32%a}\\ud83d\\ude00\"}" > more.ndjson
	# each row a commit of its own, whose stats another writer gave
	for i in 1 2 3; do
		sed -n "${i}p" more.ndjson | txlog append t
	done
	foreign() {
		f=t/_delta_log/0000000000000000000$1.json
		jq -c --arg st "$2" 'if .add then .add.stats = $st | .add |= del(.tags)
			elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"])
			else . end' "$f" > c.json
		mv c.json "$f"
	}
	# a plain cut; Delta's U+FFFD after it, below a character past
	# U+FFFF; and after a '?' where the cut split a surrogate pair
	foreign 2 "{\"numRecords\":1,\"minValues\":{\"s\":\"$a32\"},\"maxValues\":{\"s\":\"$a32\"},\"nullCount\":{\"s\":0}}"
	foreign 3 "{\"numRecords\":1,\"minValues\":{\"s\":\"$a32\"},\"maxValues\":{\"s\":\"$a32\\ufffd\"},\"nullCount\":{\"s\":0}}"
	foreign 4 "{\"numRecords\":1,\"minValues\":{\"s\":\"${a32%a}\"},\"maxValues\":{\"s\":\"${a32%a}?\\ufffd\"},\"nullCount\":{\"s\":0}}"
	run ids cat t --where "s = \"${a32}zz\""
	assert_output '5'
	run ids cat t --where "s != \"$a32\""
	assert_output '1,2,4,5,6,7'
	run ids cat t --where "s > \"${a32}\\uffff\" and s < \"b\""
	assert_output '6,7'
	run ids cat t --where "s >= \"${a32%a}\\ud83d\\ude00\" and s < \"b\""
	assert_output '7'
	# a value the prefix rules out is still skipped
	run sh -c "txlog cat t --where 's > \"b\"' --stats 2>&1 >/dev/null | jq -c '[.records_out, .files_skipped]'"
	assert_output '[3,3]'
	run txlog verify t --deep
	assert_success
	txlog delete t --where "s = \"${a32}zz\""
	run ids cat t
	assert_output '1,2,3,4,6,7'
}

@test "a delete by partition of a file without statistics counts the rows it deletes, not 0" {
	table --partition-by p
	# another writer's adds, without stats
	jq -c 'if .add then .add |= del(.stats)
		elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"])
		else . end' t/_delta_log/00000000000000000001.json > c.json
	mv c.json t/_delta_log/00000000000000000001.json
	run sh -c "txlog delete t --where 'p = \"a\"' --stats 2>&1 | jq -c .records_out"
	assert_output '2'
	run sh -c "jq -c 'select(.commitInfo) | .commitInfo.operationMetrics.numDeletedRows' t/_delta_log/00000000000000000002.json"
	assert_output '"2"'
	run ids cat t
	assert_output '2,3'
}

@test "another writer's timestamp partition value without a zone, in its own time zone, skips no file and deletes no file whole" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json --partition-by ts
	echo '{"id":1,"ts":"2024-01-01T08:00:00Z"}' | txlog append t
	echo '{"id":2,"ts":"2024-01-01T09:00:00Z"}' | txlog append t
	# commit 1 as a writer in Paris (UTC+1) writes it
	jq -c 'if .add then .add |= (del(.tags) | .partitionValues.ts = "2024-01-01 09:00:00")
		elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"])
		else . end' t/_delta_log/00000000000000000001.json > c.json
	mv c.json t/_delta_log/00000000000000000001.json
	run ids cat t --where 'ts = "2024-01-01T08:00:00Z"'
	assert_output '1'
	run sh -c "txlog delete t --where 'ts = \"2024-01-01T09:00:00Z\"' --stats 2>&1 | jq -c .records_out"
	assert_output '1'
	run ids cat t
	assert_output '1'
	# with a zone, it is the instant it names
	jq -c 'if .add then .add.partitionValues.ts = "2024-01-01T08:00:00.000000Z" else . end' \
		t/_delta_log/00000000000000000001.json > c.json
	mv c.json t/_delta_log/00000000000000000001.json
	run sh -c "txlog cat t --where 'ts = \"2024-01-01T09:00:00Z\"' --stats 2>&1 >/dev/null | jq -c .files_skipped"
	assert_output '1'
}

@test "verify --deep reads another writer's bounds as --where does, and still finds a value outside them" {
	cat > s.json <<'JSON'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"n","type":"timestamp_ntz","nullable":true,"metadata":{}}]}
JSON
	txlog init t --schema s.json
	echo '{"id":1,"n":"2024-01-01T08:00:00Z"}' | txlog append t
	cp t/_delta_log/00000000000000000001.json c1.json
	foreign_stats '{"numRecords":1,"minValues":{"id":"1","n":"2024-01-01T08:00:00.000"},"maxValues":{"id":"1","n":"2024-01-01T08:00:00.000"},"nullCount":{"id":0,"n":0}}'
	run txlog verify t --deep
	assert_success
	assert_output ''
	cp c1.json t/_delta_log/00000000000000000001.json
	foreign_stats '{"numRecords":1,"minValues":{"n":"2024-01-01T07:00:00.000"},"maxValues":{"n":"2024-01-01T07:00:00.000"},"nullCount":{"n":0}}'
	f=$(jq -r 'select(.add) | .add.path' t/_delta_log/00000000000000000001.json)
	run txlog verify t --deep
	assert_failure 1
	assert_output "txlog: t: $f: column n has a value above its maxValues \"2024-01-01T07:00:00.000\""
}

@test "verify --deep takes another writer's statistics without numRecords, which the protocol makes optional" {
	table
	foreign_stats '{"minValues":{"id":1,"v":5},"maxValues":{"id":4,"v":20},"nullCount":{"id":0,"v":2}}'
	run txlog verify t --deep
	assert_success
	assert_output ''
	# a count given is still checked
	foreign_stats '{"numRecords":3,"minValues":{"id":1},"maxValues":{"id":4},"nullCount":{"id":0}}'
	f=$(jq -r 'select(.add) | .add.path' t/_delta_log/00000000000000000001.json)
	run txlog verify t --deep
	assert_failure 1
	assert_output "txlog: t: $f: 4 records, its statistics say numRecords 3"
}

@test "a jq --where that fails on a row names the data file and line of the row" {
	table
	f=$(txlog files t | jq -r .path)
	run --separate-stderr txlog cat t --where '.s | test("x")'
	assert_failure 2
	assert_output '{"id":1,"v":5,"s":"x","p":"a"}'
	[ "$stderr" = "txlog: t: $f:3: --where .s | test(\"x\"): null (null) cannot be matched, as it is not a string" ]
	# update and delete name it too, and commit nothing
	refused "txlog: t: $f:3: --where .s | test(\"x\"): null (null) cannot be matched, as it is not a string; nothing committed" \
		txlog update t --where '.s | test("x")' --set 'v = 1'
	refused "txlog: t: $f:3: --where .s | test(\"x\"): null (null) cannot be matched, as it is not a string; nothing committed" \
		txlog delete t --where '.s | test("x")'
	[ "$(ls t/_delta_log | grep -c 'json$')" = 2 ]
	[ "$(ls t | grep -c part-)" = 1 ]
}

@test "a jq --where reading a column the table does not have is refused with the nearest, as a term is" {
	# .vv reads null in every row: .vv == 5 or .s == "y" matched only
	# the rows of .s, and delete deleted them without a word
	table
	refused "txlog: --where '.vv == 5 or .s == \"y\"': t has no column 'vv'; did you mean 'v'?" \
		txlog cat t --where '.vv == 5 or .s == "y"'
	refused "txlog: --where 'select(.ID > 1) | true': t has no column 'ID'; did you mean 'id'?" \
		txlog delete t --where 'select(.ID > 1) | true'
	refused "txlog: --where 'if .v then .\"zz\" else false end': t has no column 'zz' (txlog schema t lists them)" \
		txlog update t --where 'if .v then ."zz" else false end' --set 'v = 1'
	[ "$(ls t/_delta_log | grep -c 'json$')" = 2 ]
	# a path whose input is not the record is not a column
	run ids cat t --where '({a: .v} | .a == 5) or ([{u: .s}] | any(.u == "y"))'
	assert_output '1,2'
	run ids cat t --where '([{z: 1}] | map(.z) | add) == 1 and .v == 5'
	assert_output '1'
	run ids cat t --where 'reduce .id as $i (0; . + $i) > 3 or (try error({q: 1}) catch .q) == 2'
	assert_output '4'
}

@test "a timestamp literal outside the years 0000 to 9999 in UTC is refused: compared as its text, ts > year -1 matched no row" {
	echo '{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}' > ts.json
	txlog init u --schema ts.json
	echo '{"ts":"2024-01-01T00:00:00Z"}' | txlog append u
	refused 'txlog: --where: column ts is timestamp: "0000-01-01T00:00:00+01:00" is not a time in the years 0000 to 9999 in UTC (a timestamp holds none outside)' \
		txlog cat u --where 'ts > "0000-01-01T00:00:00+01:00"'
	refused 'txlog: --where: column ts is timestamp: "9999-12-31T23:00:00-02:00" is not a time in the years 0000 to 9999 in UTC (a timestamp holds none outside)' \
		txlog delete u --where 'ts < "9999-12-31T23:00:00-02:00"'
	run txlog cat u --where 'ts > "0000-01-01T00:00:00Z"'
	assert_output '{"ts":"2024-01-01T00:00:00Z"}'
}

# a file of another writer in partition p=a whose rows leave p out, as
# Delta's Parquet writers do (PROTOCOL.md: the values are the add's)
foreign_part() { # ROWS
	txlog init t --infer --partition-by p
	echo '{"id":1,"p":"a"}' | txlog append t
	echo '{"id":2,"p":"b"}' | txlog append t
	mkdir -p t/p=a
	printf "$1" | zstd -q > t/p=a/f.zst
	echo "{\"add\":{\"path\":\"p=a/f.zst\",\"partitionValues\":{\"p\":\"a\"},\"size\":$(stat -c %s t/p=a/f.zst),\"modificationTime\":0,\"dataChange\":true}}" \
		> t/_delta_log/00000000000000000003.json
}

@test "a row of another writer without its partition column takes it from its file's add, in every reader" {
	# cat --where 'p = "a"' showed neither row, which delete removed
	foreign_part '{"id":5}\n{"id":6}\n'
	run txlog cat t --where 'p = "a"'
	assert_output '{"id":1,"p":"a"}
{"id":5,"p":"a"}
{"id":6,"p":"a"}'
	run txlog cat t -j 2 --where 'id >= 5'
	assert_output '{"id":5,"p":"a"}
{"id":6,"p":"a"}'
	run sh -c "txlog changes t --from 3 | jq -c '[.id, .p, ._change_type]'"
	assert_output '[5,"a","insert"]
[6,"a","insert"]'
	cp -r t t0
	txlog update t --where 'id = 5' --set 'id = 50'
	run sh -c "txlog cat t --where 'p = \"a\"' | jq -c '[.id, .p]' | sort"
	assert_output '[1,"a"]
[50,"a"]
[6,"a"]'
	run sh -c "txlog changes t --from 4 | jq -c '[.id, .p, ._change_type]' | sort"
	assert_output '[5,"a","update_preimage"]
[50,"a","update_postimage"]'
	rm -rf t && cp -r t0 t
	echo '{"id":6,"p":"a"}' | txlog merge t -k .id
	run sh -c "txlog cat t --where 'p = \"a\"' | jq -c '[.id, .p]' | sort"
	assert_output '[1,"a"]
[5,"a"]
[6,"a"]'
	rm -rf t && cp -r t0 t
	txlog optimize t --zorder-by id 2>/dev/null
	run sh -c "txlog cat t --where 'p = \"a\"' | jq -c '[.id, .p]' | sort"
	assert_output '[1,"a"]
[5,"a"]
[6,"a"]'
	txlog delete t --where 'p = "a"'
	run txlog cat t
	assert_output '{"id":2,"p":"b"}'
}

# a file of another writer in an integer partition whose add gives the
# partition value $1 (a JSON string literal), its rows leaving p out
foreign_int_part() { # VALUE ROWS [STATS]
	txlog init t --infer --partition-by p
	echo '{"id":1,"p":1}' | txlog append t
	mkdir -p t/f
	printf "$2" | zstd -q > t/f/f.zst
	echo "{\"add\":{\"path\":\"f/f.zst\",\"partitionValues\":{\"p\":$1},\"size\":$(stat -c %s t/f/f.zst),\"modificationTime\":0,\"dataChange\":true$3}}" \
		> t/_delta_log/00000000000000000002.json
}

@test "another writer's partition value that is not of its column's type is not filled into a row: cat refuses it, verify names it" {
	# cat printed {"id":5,"p":"x"}, {"id":5,"p":true}, {"id":5,"p":1.5}
	# in an integer column, and verify passed them
	msg='txlog: t: f/f.zst:1: the row has no column p, and its file'"'"'s partition value is of unknown meaning'
	for v in '"\"x\""' '"true"' '"null"' '"1.5"' '"[1]"' '"99999999999"' \
		'" 1"' '"1e400"'; do
		rm -rf t
		foreign_int_part "$v" '{"id":5}\n'
		run txlog cat t
		assert_failure 2
		assert_output '{"id":1,"p":1}'"
$msg"
		refused "$msg" txlog cat t --where 'p != 1'
		vmsg="txlog: t: f/f.zst: partition value $v of column p does not read as integer"
		run txlog verify t
		assert_failure 1
		assert_output "$vmsg"
		run txlog verify --deep t
		assert_failure 1
		assert_output "$vmsg"
	done
	# a date that is no day, as a write would refuse it
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"p","type":"date","nullable":true,"metadata":{}}]}' > ds.json
	txlog init d --schema ds.json --partition-by p
	echo '{"id":1,"p":"2024-01-01"}' | txlog append d
	mkdir -p d/f
	printf '{"id":5}\n' | zstd -q > d/f/f.zst
	echo "{\"add\":{\"path\":\"f/f.zst\",\"partitionValues\":{\"p\":\"2024-02-30\"},\"size\":$(stat -c %s d/f/f.zst),\"modificationTime\":0,\"dataChange\":true}}" \
		> d/_delta_log/00000000000000000002.json
	run txlog schema d
	assert_output --partial '"name":"p","type":"date"'
	run txlog cat d
	assert_failure 2
	assert_output '{"id":1,"p":"2024-01-01"}
txlog: d: f/f.zst:1: the row has no column p, and its file'"'"'s partition value is of unknown meaning'
	run txlog verify d
	assert_failure 1
	assert_output 'txlog: d: f/f.zst: partition value "2024-02-30" of column p does not read as date'
	rm -rf t
	foreign_int_part '"7"' '{"id":5}\n'
	run txlog cat t --where 'p = 7'
	assert_success
	assert_output '{"id":5,"p":7}'
}

@test "verify --deep counts the nulls of a partition column another writer's rows leave out as cat reads them: none" {
	# it said "column p has 1 nulls, its statistics say 0"
	st='{"numRecords":1,"minValues":{"p":7},"maxValues":{"p":7},"nullCount":{"p":0}}'
	foreign_int_part '"7"' '{"id":5}\n' ",\"stats\":$(printf '%s' "$st" | jq -R .)"
	run jq -c '.add.stats | fromjson | .nullCount' t/_delta_log/00000000000000000002.json
	assert_output '{"p":0}'
	run txlog verify --deep t
	assert_success
	assert_output ''
}

@test "a row of another writer whose partition column is not its file's is refused by every reader" {
	foreign_part '{"id":5}\n{"id":6,"p":"b"}\n'
	msg='txlog: t: p=a/f.zst:2: column p is not the file'"'"'s partition value'
	for v in 'cat' 'cat -j 2' "cat --where id>=5" 'changes --from 3' \
		'delete --where id=5' 'update --where id=5 --set id=7'; do
		run txlog $v t
		assert_failure 2
		assert_line "$msg"
	done
	refused "$msg; nothing optimized" txlog optimize t --zorder-by id
	run sh -c 'echo "{\"id\":1,\"p\":\"a\"}" | txlog merge t -k .id'
	assert_failure 2
	assert_output "$msg"
	run txlog verify --deep t
	assert_failure 1
	assert_output "$msg"
}
