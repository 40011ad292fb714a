#!/usr/bin/env bats
# txlog append's record path: the schema check and the statistics it
# computes from the scanned bytes give what the typed compare gives.

load helpers

schema() {
	cat > s.json <<'EOF'
{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"n","type":"double","nullable":true,"metadata":{}},{"name":"i","type":"long","nullable":true,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}}]}
EOF
}

@test "statistics compare by meaning: escapes, number spellings, instants in any zone" {
	schema
	txlog init t --schema s.json
	# byte order would pick 10 over 9.5 as the min, "\u00e9" under "c",
	# 12:00+05:00 as the max and the lower-case t over upper case
	printf '%s\n' '{"ts":"2024-01-01T10:00:00Z","n":10,"i":-0,"s":"b"}' \
		'{"ts":"2024-01-01T09:00:00.5Z","n":9.5,"i":7,"s":"a\u0062"}' \
		'{"ts":"2024-01-01T12:00:00+05:00","n":-1.25,"i":-3,"s":"\u00e9"}' \
		'{"ts":"2024-01-01T11:00:00Z","n":-1.5,"i":12,"s":"c"}' \
		'{"ts":"2024-01-01T10:30:00.250Z","n":1e1,"i":0,"s":"ab"}' \
		'{"ts":"2024-01-01T06:59:59.999999Z","n":100.0,"i":-12,"s":"é"}' \
		'{"ts":"2024-01-01t05:00:00Z","n":-0.0,"i":11,"s":"b\""}' \
		'{"ts":"2024-01-01T11:00:00.1Z","n":-1.50,"i":-0,"s":"a"}' \
		'{"ts":null,"n":99.99,"i":-11,"s":null}' | txlog append t
	run sh -c "jq -r '.add.stats // empty' t/_delta_log/*1.json"
	assert_output '{"numRecords":9,"minValues":{"ts":"2024-01-01T05:00:00.000Z","n":-1.5,"i":-12,"s":"a"},"maxValues":{"ts":"2024-01-01T11:00:00.100Z","n":100.0,"i":12,"s":"\u00e9"},"nullCount":{"ts":1,"n":0,"i":0,"s":1}}'
	# files skipped by those bounds still find every row
	run sh -c "txlog cat t --where 'n = 100' | jq -c .i"
	assert_output '-12'
	run sh -c "txlog cat t --where 'ts = 2024-01-01T05:00:00Z' | jq -c .i"
	assert_output '11'
}

@test "a column given twice in one object is refused, at any depth" {
	schema
	txlog init t --schema s.json
	run txlog append t <<'EOF'
{"n":1,"s":"x"}
{"s":"x","n":1,"\u0073":"y"}
EOF
	assert_failure 2
	assert_output 'txlog: stdin:2: column .s: given twice in one object (a Delta row holds a column once); nothing committed'
	txlog init u --infer
	run sh -c "echo '{\"a\":{\"x\":1,\"x\":2}}' | txlog append u"
	assert_failure 2
	assert_output 'txlog: stdin:1: column .a.x: given twice in one object (a Delta row holds a column once); nothing committed'
	run ls t/_delta_log u/_delta_log
	assert_output $'t/_delta_log:\n00000000000000000000.json\n\nu/_delta_log:\n00000000000000000000.json'
}

@test "schema faults found by the fast walk are named as before" {
	schema
	txlog init t --schema s.json
	for rec in '{"n":"x"}' '{"i":1.5}' '{"zz":1}' '{"S":"x"}' '{"ts":"2024-13-01T00:00:00Z"}' '{"n":1e400}'; do
		echo "$rec" | txlog append t 2>&1 || true
	done > got
	run cat got
	assert_output "txlog: stdin:1: column .n: string where the schema has double; nothing committed
txlog: stdin:1: column .i: 1.5 does not fit long (declare the column double or decimal(P,S) in a new table: Delta widens no long to double); nothing committed
txlog: stdin:1: column .zz: not in the table schema (--merge-schema adds it); nothing committed
txlog: stdin:1: column .S: differs from column s only in case (Delta column names must be unique regardless of case); nothing committed
txlog: stdin:1: column .ts: \"2024-13-01T00:00:00Z\": month out of range; nothing committed
txlog: stdin:1: column .n: 1e400 does not fit double: out of range; nothing committed"
}

@test "a number an integer column refuses is told what would take it: the integer's own spelling, --merge-schema only where it widens to a type that holds it" {
	cat > s.json <<'EOF2'
{"type":"struct","fields":[{"name":"i","type":"integer","nullable":true,"metadata":{}},{"name":"l","type":"long","nullable":true,"metadata":{}}]}
EOF2
	txlog init t --schema s.json
	for rec in '{"i":2.0}' '{"i":-3.00e2}' '{"i":40000.0}' '{"i":1.5}' '{"i":1e400}' '{"i":1.0000000000000000000000001}' \
		'{"l":2.0}' '{"l":1.5}' '{"l":9223372036854775808.0}'; do
		echo "$rec" | txlog append t 2>&1 || true
	done | sed 's/; nothing committed$//' > got
	run cat got
	assert_output "txlog: stdin:1: column .i: 2.0 does not fit integer (write the integer as 2, or --merge-schema widens it)
txlog: stdin:1: column .i: -3.00e2 does not fit integer (write the integer as -300, or --merge-schema widens it)
txlog: stdin:1: column .i: 40000.0 does not fit integer (write the integer as 40000, or --merge-schema widens it)
txlog: stdin:1: column .i: 1.5 does not fit integer (--merge-schema widens it)
txlog: stdin:1: column .i: 1e400 does not fit integer (no Delta number type holds it)
txlog: stdin:1: column .i: 1.0000000000000000000000001 does not fit integer (declare the column decimal(P,S) in a new table: no double holds it)
txlog: stdin:1: column .l: 2.0 does not fit long (write the integer as 2, or declare the column double or decimal(P,S) in a new table: Delta widens no long to double)
txlog: stdin:1: column .l: 1.5 does not fit long (declare the column double or decimal(P,S) in a new table: Delta widens no long to double)
txlog: stdin:1: column .l: 9223372036854775808.0 does not fit long (declare the column double or decimal(P,S) in a new table: Delta widens no long to double)"
	# the hint holds: --merge-schema takes 2.0 into a double column
	echo '{"i":2.0}' | txlog append t --merge-schema
	run txlog cat t
	assert_output '{"i":2.0}'
}

@test "a partitioned append past the soft open-file limit raises it to the hard one" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 2000 ] ||
		skip "the hard open-file limit is $hard"
	awk 'BEGIN { for (i = 0; i < 600; i++) printf "{\"p\":%d,\"v\":%d}\n", i, i }' > in.ndjson
	txlog init t --infer --partition-by p
	# a file a partition: 600 open at once, over a soft limit of 256
	run sh -c 'ulimit -Sn 256 && txlog append t in.ndjson -j 2'
	assert_success
	assert_output ''
	run sh -c 'txlog cat t | wc -l'
	assert_output 600
	run sh -c 'ls -d t/p=* | wc -l'
	assert_output 600
}

@test "a timestamp finer than a microsecond is refused, on append and update --set" {
	schema
	txlog init t --schema s.json --partition-by ts
	run txlog append t <<'EOF2'
{"ts":"2024-01-01T08:00:00.1234560Z","i":1}
{"ts":"2024-01-01T08:00:00.0000005Z","i":2}
EOF2
	assert_failure 2
	assert_output 'txlog: stdin:2: column .ts: "2024-01-01T08:00:00.0000005Z" is finer than a microsecond, the most a timestamp holds; nothing committed'
	echo '{"ts":"2024-01-01T08:00:00.1234560+01:00","i":1}' | txlog append t
	run sh -c "jq -c '.add.partitionValues // empty' t/_delta_log/00000000000000000001.json"
	assert_output '{"ts":"2024-01-01 07:00:00.123456"}'
	run txlog update t --set 'ts = "2024-01-01T08:00:00.123456789Z"' --where 'i = 1'
	assert_failure 2
	assert_line -n 0 'txlog: --set '\''ts = "2024-01-01T08:00:00.123456789Z"'\'': column ts is timestamp: "2024-01-01T08:00:00.123456789Z" is finer than a microsecond, the most a timestamp holds'
	run ls t/_delta_log
	assert_output $'00000000000000000000.json\n00000000000000000001.json'
}

@test "a date spelled with a JSON escape is the date it decodes to" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"d","type":"date","nullable":true,"metadata":{}}]}' > d.json
	txlog init t --schema d.json --partition-by d
	printf '%s\n' '{"id":1,"d":"\u0032024-01-01"}' '{"id":2,"d":"2024-01-01"}' | txlog append t
	run sh -c "jq -c '.add.partitionValues // empty' t/_delta_log/00000000000000000001.json"
	assert_output '{"d":"2024-01-01"}'
	run txlog cat t --where 'd = "2024-01-01"'
	assert_output - <<'EOF2'
{"id":1,"d":"\u0032024-01-01"}
{"id":2,"d":"2024-01-01"}
EOF2
	run txlog append t <<< '{"id":3,"d":"\u0032024-02-30"}'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .d: "\u0032024-02-30" is not a date YYYY-MM-DD; nothing committed'
}

@test "a timestamp is the string it decodes to: escapes may spell it in more than 64 bytes" {
	schema
	txlog init t --schema s.json --partition-by ts
	# 86 bytes as written, 27 decoded: it was 'not an RFC 3339 time'
	printf '%s\n' '{"ts":"\u0032\u0030\u0032\u0034-\u0030\u0031-\u0030\u0031T08:00:00.5Z","i":1}' \
		'{"ts":"2024-01-01T08:00:00.500000000000000000000000000000000000000000Z","i":2}' |
		txlog append t
	run sh -c "jq -c '.add.partitionValues // empty' t/_delta_log/00000000000000000001.json"
	assert_output '{"ts":"2024-01-01 08:00:00.500000"}'
	run txlog cat t --where 'ts = "2024-01-01T09:00:00.5+01:00"'
	assert_output - <<'EOF2'
{"ts":"\u0032\u0030\u0032\u0034-\u0030\u0031-\u0030\u0031T08:00:00.5Z","i":1}
{"ts":"2024-01-01T08:00:00.500000000000000000000000000000000000000000Z","i":2}
EOF2
	# past 64 bytes decoded no timestamp is stored (a key compares it
	# as its instant, but no stored time needs that many): said, not
	# called no time
	run txlog append t <<< '{"ts":"2024-01-01T08:00:00.5000000000000000000000000000000000000000000000Z","i":3}'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .ts: "2024-01-01T08:00:00.5000000000000000000000000000000000000000000000Z": longer than 64 bytes, which no time needs (a fraction'\''s digits past the ninth must be zeros: drop them); nothing committed'
}

@test "a binary value spelled with a JSON escape is the base64 it decodes to" {
	echo '{"type":"struct","fields":[{"name":"b","type":"binary","nullable":true,"metadata":{}}]}' > b.json
	txlog init t --schema b.json
	echo '{"b":"\u0061Gk="}' | txlog append t
	run txlog cat t --where 'b = "aGk="'
	assert_output '{"b":"\u0061Gk="}'
	run txlog append t <<< '{"b":"\u0061Gk"}'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .b: not base64 (binary values are base64 strings); nothing committed'
}

@test "a null partition value is its own partition, not the one of a string holding U+0001" {
	txlog init t --partition-by k
	printf '%s\n' '{"k":"\u0001","v":1}' '{"k":null,"v":2}' '{"v":3}' | txlog append t
	run sh -c "txlog files t | jq -c '[.partitionValues, (.stats | fromjson | .numRecords)]'"
	assert_output $'[{"k":"\\u0001"},1]\n[{"k":null},2]'
	run sh -c "txlog cat t --where 'k = null' | jq -c .v"
	assert_output $'2\n3'
}

@test "a map keeps its keyType, and a map value with a key twice, or keys that are not strings, is refused" {
	cat > m.json <<'J'
{"type":"struct","fields":[{"name":"m","type":{"type":"map","keyType":"string","valueType":"integer","valueContainsNull":true},"nullable":true,"metadata":{}},{"name":"mi","type":{"type":"map","keyType":"integer","valueType":"integer","valueContainsNull":true},"nullable":true,"metadata":{}}]}
J
	# init makes no table it cannot write
	refused 'txlog: m.json: column .mi: a map keyed by "integer" is not a type txlog writes (JSON object keys are strings); nothing created' txlog init t --schema m.json
	[ ! -e t ]
	# another writer's table with such a map
	mkdir -p t/_delta_log
	jq -c '{protocol:{minReaderVersion:1,minWriterVersion:2}}, {metaData:{id:"x",format:{provider:"json",options:{}},schemaString:tojson,partitionColumns:[],configuration:{},createdTime:0}}' m.json > t/_delta_log/00000000000000000000.json
	cat > twice.ndjson <<'J'
{"m":{"k":1,"\u006b":2}}
J
	run txlog append t twice.ndjson
	assert_failure 2
	assert_output 'txlog: twice.ndjson:1: column .m: a key given twice in one map; nothing committed'
	run sh -c "echo '{\"mi\":{\"1\":1}}' | txlog append t"
	assert_failure 2
	assert_output 'txlog: stdin:1: column .mi: a map whose keyType is "integer" is not supported for writing (JSON object keys are strings); nothing committed'
	# keys alike up to a NUL are two keys; a new column keeps mi's keyType
	echo '{"m":{"a\u0000b":1,"a\u0000c":2},"mi":null,"n":1}' | txlog append t --merge-schema
	run sh -c "txlog schema t | jq -c '[.fields[].type | if type == \"object\" then .keyType else . end]'"
	assert_output '["string","integer","integer"]'
}

@test "init refuses a schema with a type txlog does not write" {
	echo '{"type":"struct","fields":[{"name":"a","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"q","type":"variant","nullable":true,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}}]}' > v.json
	refused 'txlog: v.json: column .a[].q: type "variant" is not a type txlog writes; nothing created' txlog init t --schema v.json
	[ ! -e t ]
}

@test "a float column takes what rounds to a float: Java's 3.4028235E38 is Float.MAX_VALUE" {
	cat > f.json <<'J'
{"type":"struct","fields":[{"name":"f","type":"float","nullable":true,"metadata":{}}]}
J
	txlog init t --schema f.json
	printf '%s\n' '{"f":3.4028235E38}' '{"f":-3.4028235e38}' '{"f":1e-45}' '{"f":0e-60}' | txlog append t
	run sh -c "echo '{\"f\":3.4028236e38}' | txlog append t"
	assert_failure 2
	assert_output 'txlog: stdin:1: column .f: 3.4028236e38 does not fit float: out of range; nothing committed'
	run txlog cat t
	assert_output $'{"f":3.4028235E38}\n{"f":-3.4028235e38}\n{"f":1e-45}\n{"f":0e-60}'
}

@test "a float or double column refuses a value every reader reads as 0: an exact compare held 1e-400 above 0" {
	cat > f.json <<'J'
{"type":"struct","fields":[{"name":"f","type":"float","nullable":true,"metadata":{}},{"name":"d","type":"double","nullable":true,"metadata":{}}]}
J
	txlog init t --schema f.json
	refused 'txlog: stdin:1: column .f: 1e-46 does not fit float: too small: it rounds to 0; nothing committed' \
		sh -c "echo '{\"f\":1e-46}' | txlog append t"
	refused 'txlog: stdin:2: column .d: -1e-400 does not fit double: too small: it rounds to 0; nothing committed' \
		sh -c "printf '%s\n' '{\"d\":1e-300}' '{\"d\":-1e-400}' | txlog append t"
	refused 'txlog: stdin:1: column .d: 2e-324 does not fit double: too small: it rounds to 0; nothing committed' \
		sh -c "echo '{\"d\":2e-324}' | txlog append t"
	# the least of each, and zero however spelt, go in
	printf '%s\n' '{"f":1e-45,"d":4.9e-324}' '{"f":0.0e-99,"d":-0e-400}' | txlog append t
	run txlog cat t --where 'd > 0'
	assert_output '{"f":1e-45,"d":4.9e-324}'
	run txlog update t --where true --set 'd = 1e-999'
	assert_failure 2
	assert_output --partial 'does not fit double: too small: it rounds to 0'
}

@test "a partition column's name is escaped in its folder: ../x stays inside the table, a=b is one column" {
	mkdir d
	txlog init d/t --partition-by '../x' --partition-by 'a=b'
	echo '{"../x":"v","a=b":"w/z","n":1}' | txlog append d/t
	run ls d
	assert_output t
	run sh -c "cd d/t && find . -name '*.zst' | sed 's/part-.*/part/'"
	assert_output './..%2Fx=v/a%3Db=w%2Fz/part'
	run txlog cat d/t
	assert_output '{"../x":"v","a=b":"w/z","n":1}'
}

@test "a decimal type is decimal(P,S) with P up to 38 and S up to P; another spelling is no unchecked decimal" {
	for ty in decimal 'decimal(40,2)' 'decimal(5,6)' 'decimal(5,-1)' 'decimal(5,2)x'; do
		echo "{\"type\":\"struct\",\"fields\":[{\"name\":\"d\",\"type\":\"$ty\",\"nullable\":true,\"metadata\":{}}]}" > d.json
		refused "txlog: d.json: column .d: type \"$ty\" is not a type txlog writes; nothing created" txlog init t --schema d.json
	done
	echo '{"type":"struct","fields":[{"name":"d","type":"decimal(5, 2)","nullable":true,"metadata":{}}]}' > d.json
	txlog init t --schema d.json
	echo '{"d":123.45}' | txlog append t
	run sh -c "echo '{\"d\":1234.5}' | txlog append t"
	assert_failure 2
	assert_output 'txlog: stdin:1: column .d: 1234.5 does not fit decimal(5, 2): more digits before the point than precision - scale; nothing committed'
}

@test "a timestamp is in the years 0000 to 9999 in UTC, not as written: 9999-12-31T23:00-02:00 is refused" {
	echo '{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}' > ts.json
	txlog init t --schema ts.json --partition-by ts
	run sh -c "echo '{\"ts\":\"9999-12-31T23:00:00-02:00\"}' | txlog append t"
	assert_failure 2
	assert_output 'txlog: stdin:1: column .ts: "9999-12-31T23:00:00-02:00" is outside the years 0000 to 9999 in UTC, which a timestamp holds; nothing committed'
	run sh -c "echo '{\"ts\":\"0000-01-01T00:00:00+01:00\"}' | txlog append t"
	assert_failure 2
	printf '%s\n' '{"ts":"0000-01-01T00:00:00-01:00"}' '{"ts":"9999-12-31T23:59:59.999999Z"}' | txlog append t
	run txlog cat t --where 'ts < "0001-01-01"'
	assert_output '{"ts":"0000-01-01T00:00:00-01:00"}'
	refused "txlog: --set 'ts = \"9999-12-31T23:00:00-02:00\"': column ts is timestamp: outside the years 0000 to 9999 in UTC" \
		txlog update t --set 'ts = "9999-12-31T23:00:00-02:00"' --where true
}

@test "a timestamp partition value or bound no reader parses skips no file: its rows are read and matched" {
	echo '{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"u","type":"timestamp","nullable":true,"metadata":{}}]}' > ts.json
	txlog init t --schema ts.json --partition-by ts
	echo '{"ts":"0000-01-01T00:00:00-01:00","u":"0000-01-01T00:00:00-01:00"}' | txlog append t
	# as an older txlog wrote a year -1 (another writer's commit: no
	# checksum of its own)
	f=t/_delta_log/00000000000000000001.json
	jq -c 'if .commitInfo then .commitInfo |= del(.["idem.xxh3_128"]) elif .add then (.add.partitionValues.ts = "-0001-12-31 23:00:00" | .add.stats |= (fromjson | .minValues.u = "-0001-12-31T23:00:00.000Z" | .maxValues.u = "-0001-12-31T23:00:00.000Z" | tojson)) else . end' "$f" > x
	mv x "$f"
	run txlog cat t --where 'ts < "0001-01-01"'
	assert_output '{"ts":"0000-01-01T00:00:00-01:00","u":"0000-01-01T00:00:00-01:00"}'
	run txlog cat t --where 'u < "0001-01-01"'
	assert_output '{"ts":"0000-01-01T00:00:00-01:00","u":"0000-01-01T00:00:00-01:00"}'
	# a delete by the partition reads the rows: the file is not taken whole
	txlog delete t --where 'ts > "0001-01-01"' 2>/dev/null
	run sh -c 'txlog cat t | wc -l'
	assert_output 1
	txlog delete t --where 'ts < "0001-01-01"'
	run txlog cat t
	assert_output ''
}

@test "the first write of an --infer table whose records lack the partition column files them under null, as any write does" {
	txlog init t --partition-by day
	echo '{"a":1}' | txlog append t
	run sh -c "txlog schema t | jq -c '[.fields[] | [.name, .type, .metadata]]'"
	assert_output '[["a","integer",{}],["day","string",{}]]'
	echo '{"a":2,"day":"x"}' | txlog append t
	run txlog cat t --where 'day = null'
	assert_output '{"a":1}'
}

@test "the first write of an --infer table refuses a partition column no record has when a column of theirs is a typo away" {
	# init --infer --partition-by dya had no column to check it
	# against: every row went to dya=__HIVE_DEFAULT_PARTITION__/
	txlog init t --partition-by dya
	msg="txlog: t: partition column dya is in no record; did you mean 'day'? (init --partition-by named it; give it as null to keep it); nothing committed"
	for v in append overwrite 'merge -k .a'; do
		run sh -c "echo '{\"a\":1,\"day\":\"x\"}' | txlog $v t"
		assert_failure 2
		assert_output "$msg"
	done
	run find t -name '*.zst'
	assert_output ''
	echo '{"a":1,"day":"x","dya":null}' | txlog append t
	run sh -c "txlog schema t | jq -c '[.fields[].name]'"
	assert_output '["a","day","dya"]'
}

@test "init --schema refuses --partition-by of a column the schema lacks, with the nearest name" {
	echo '{"type":"struct","fields":[{"name":"day","type":"string","nullable":true,"metadata":{}}]}' > s.json
	run txlog init t --schema s.json --partition-by dya
	assert_failure 2
	assert_line -n 0 "txlog: --partition-by dya: s.json has no column 'dya'; did you mean 'day'?"
	run txlog init t --schema s.json --partition-by zzzzz
	assert_failure 2
	assert_line -n 0 "txlog: --partition-by zzzzz: s.json has no column 'zzzzz'"
	[ ! -e t ]
}

@test "a column name holding a NUL is refused, in records and in --schema, not cut to the name before it" {
	txlog init t
	cat > top.ndjson <<'J'
{"a\u0000b":1}
J
	cat > nested.ndjson <<'J'
{"s":{"x\u0000":1}}
J
	refused 'txlog: top.ndjson:1: column .a: a column name cannot hold a NUL (\u0000); nothing committed' txlog append t top.ndjson
	echo '{"a":1,"s":{"x":1}}' | txlog append t
	refused 'txlog: nested.ndjson:1: column .s.x: a column name cannot hold a NUL (\u0000); nothing committed' txlog append t --merge-schema nested.ndjson
	run sh -c "txlog schema t | jq -c '[.fields[].name]'"
	assert_output '["a","s"]'
	echo '{"type":"struct","fields":[{"name":"a\u0000b","type":"long","nullable":true,"metadata":{}}]}' > z.json
	refused 'txlog: z.json: schema: column name a holds a NUL (\u0000)' txlog init u --schema z.json
}

@test "append refuses a file named twice, or by a hard link: its rows would be written twice" {
	txlog init t
	printf '{"id":1}\n' > a.ndjson
	ln a.ndjson b.ndjson
	refused 'txlog: b.ndjson: the same file as a.ndjson (a hard link or a second name): its records would count twice in the table; name each once' \
		txlog append t a.ndjson b.ndjson
	[ ! -e t/_delta_log/00000000000000000001.json ]
}
