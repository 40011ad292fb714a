#!/usr/bin/env bats
# txlog update: Delta's UPDATE, copy-on-write, values checked against
# the schema before any file is read.

load helpers

mk() { # t: partitioned by p; x holds ids 1 and 3, y holds id 2
	txlog init t --infer --partition-by p
	printf '{"id":1,"p":"x","v":1}\n{"id":2,"p":"y","v":2}\n{"id":3,"p":"x","v":3}\n' | txlog append t
}

nver() { ls t/_delta_log | grep -c '^[0-9]*\.json$'; }

@test "update sets the columns of the matching rows and copies the others of their files" {
	mk
	run txlog update t --set 'v = 10' --set 'note = "fixed"' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set: t has no column 'note' (txlog schema t lists them)"
	run txlog update t --set 'v = 10' --where 'id = 1'
	assert_success
	assert_output ''
	run sh -c 'txlog cat t | sort'
	assert_output - <<'J'
{"id":1,"p":"x","v":10}
{"id":2,"p":"y","v":2}
{"id":3,"p":"x","v":3}
J
	run sh -c "txlog log t | head -n 1 | jq -c '[.operation, .operationParameters, (.operationMetrics | del(.numAddedBytes))]'"
	assert_output '["UPDATE",{"predicate":"id = 1"},{"numRemovedFiles":"1","numAddedFiles":"2","numUpdatedRows":"1","numCopiedRows":"1"}]'
	# the y file was not touched; the updated row is in a tagged file
	run sh -c "txlog files t | jq -c '[.partitionValues.p, .tags[\"idem.updatedRows\"]]' | sort"
	assert_output - <<'J'
["x","true"]
["x",null]
["y",null]
J
	run txlog verify t --deep
	assert_success
}

@test "update moves a row whose partition column it sets, and sets a timestamp as an instant" {
	cat > s.json <<'J'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}
J
	txlog init t --schema s.json --partition-by p
	printf '{"id":1,"p":"x","ts":"2024-01-01T00:00:00Z"}\n{"id":2,"p":"x"}\n' | txlog append t
	run txlog update t --set 'p = z' --set 'ts = 2024-05-01 08:30+02:00' --where 'id = 1'
	assert_success
	run sh -c 'txlog cat t --where "p = z"'
	assert_output '{"id":1,"p":"z","ts":"2024-05-01T06:30:00Z"}'
	run txlog update t --set 'id = null' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'id = null': column id is not nullable"
	run txlog update t --set 'ts = tomorrow' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 --partial "txlog: --set 'ts = tomorrow': column ts is timestamp: "
}

@test "update reads a --set value or column name whole, not cut at a \\u0000" {
	echo '{"type":"struct","fields":[{"name":"d","type":"long","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json
	echo '{"d":1,"ts":"2024-01-01T00:00:00Z"}' | txlog append t
	run txlog update t --set 'ts = "2024-01-05\u0000junk"' --where 'd = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'ts = \"2024-01-05\\u0000junk\"': column ts is timestamp: not an RFC 3339 time"
	run txlog update t --set '"d\u0000x" = 2' --where 'd = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set '\"d\\u0000x\" = 2': a column name cannot hold a NUL (\\u0000)"
	run txlog cat t
	assert_output '{"d":1,"ts":"2024-01-01T00:00:00Z"}'
}

@test "update refuses a value the column's type cannot hold exactly, before reading a file" {
	mk
	run txlog update t --set 'v = 1.5' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v = 1.5': column v is integer: 1.5 does not fit integer"
	# an integer in another spelling: how to write it, and not the
	# --merge-schema update refuses
	run txlog update t --set 'v = 1e0' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v = 1e0': column v is integer: 1e0 does not fit integer (write the integer as 1)"
	run txlog update t --set 'v = 2.0' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v = 2.0': column v is integer: 2.0 does not fit integer (write the integer as 2)"
	# SQL's SET p = NULL clears p: no string "NULL"
	run txlog update t --set 'p = NULL' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'p = NULL': NULL is SQL's null, which is written null here; write \"NULL\" for the string"
	run txlog update t --set 'p = False' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'p = False': False is SQL's false, which is written false here; write \"False\" for the string"
	run txlog update t --set 'v = "a"' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v = \"a\"': column v is integer: string where the schema has integer"
	run txlog update t --set 'vv = 1' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set: t has no column 'vv'; did you mean 'v'?"
	# a column in another case is the one meant, not another one edit away
	run txlog update t --set 'P = "x"' --where 'ID = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --where: t has no column 'ID'; did you mean 'id'?"
	run txlog update t --set 'V = 5' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set: t has no column 'V'; did you mean 'v'?"
	run txlog update t --set "v = 'a'" --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v = 'a'': SQL quotes; a string takes JSON's double quotes"
	run txlog update t --set 'v = 5' --set '"v" = 6' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set: column v is set twice ('v = 5', '\"v\" = 6')"
	run txlog update t --set 'v == 1' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: --set 'v == 1': expected COL = VALUE"
	# SQL's SET n.x = 1 sets a field: txlog says it sets whole columns
	refused "txlog: --set 'v.x = 1': names a field inside column v; --set sets whole top-level columns: give v its whole value (v = {...})" \
		txlog update t --set 'v.x = 1' --where 'id = 1'
	refused "txlog: --set '.\"v\"[0] = 1': names an element inside column v; --set sets whole top-level columns: give v its whole value (v = [...])" \
		txlog update t --set '."v"[0] = 1' --where 'id = 1'
	run txlog update t --set 'v = {' --where 'id = 1'
	assert_failure 2
	assert_line -n 0 --partial "txlog: --set 'v = {': invalid JSON: "
	run txlog update t --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: update needs --set 'COL = VALUE'"
	run txlog update t --set 'v = 1'
	assert_failure 2
	assert_line -n 0 "txlog: update needs --where EXPR (--where true for every row)"
	run txlog update t --set 'v = 1' --where 'id = 1' --key .id
	assert_failure 2
	assert_line -n 0 --partial "txlog: update: "
	run nver
	assert_output 2
}

@test "update refuses a partition value no row can hold before reading a file, also when no row matches" {
	mk
	for w in 'id = 1' 'id = 9'; do
		refused "txlog: --set 'p = \"\"': partition column p: an empty string is a null partition value in Delta; write null or a non-empty string" \
			txlog update t --set 'p = ""' --where "$w"
		refused "txlog: --set 'p = \"a\\u0000b\"': partition column p: the value holds a NUL (\\u0000), which a partition value cannot keep" \
			txlog update t --set 'p = "a\u0000b"' --where "$w"
	done
	run nver
	assert_output 2
}

@test "an update whose --where matches nothing says so and commits nothing" {
	mk
	run txlog update t --set 'v = 0' --where 'id = 9'
	assert_success
	assert_output 'txlog: t: --where matched no row; nothing updated, no commit'
	run nver
	assert_output 2
}

@test "update --where true sets every row; a jq predicate works" {
	mk
	txlog update t --set 'v = null' --where true
	txlog update t --set 'v = 7' --where '.id >= 2'
	run sh -c 'txlog cat t | sort'
	assert_output - <<'J'
{"id":1,"p":"x","v":null}
{"id":2,"p":"y","v":7}
{"id":3,"p":"x","v":7}
J
}

@test "an update stopped at each step of its commit leaves the old or the updated table" {
	for point in commit.written commit.linked commit.renamed; do
		rm -rf t
		mk
		IDEM_FAULT="$point:1" txlog update t --set 'v = 5' --where 'id = 1' || true
		run txlog verify t
		assert_success
		run sh -c 'txlog cat t | jq -c "select(.id == 1) | .v"'
		[ "$output" = 1 ] || [ "$output" = 5 ]
		[ "$output" = 5 ] || txlog update t --set 'v = 5' --where 'id = 1'
		run sh -c 'txlog cat t | sort'
		assert_output - <<'J'
{"id":1,"p":"x","v":5}
{"id":2,"p":"y","v":2}
{"id":3,"p":"x","v":3}
J
	done
}

@test "update, delete and merge stop at a row that is not JSON in a file another writer added, committing nothing" {
	txlog init t --infer
	echo '{"a":1}' | txlog append t
	printf '{"a":5}\nnot json\n' | zstd -q > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2}\"}}" \
		> t/_delta_log/00000000000000000002.json
	run txlog update t --set 'a = 2' --where 'a = 5'
	assert_failure 2
	assert_output 'txlog: t: f.zst:2: damaged data file'
	run txlog delete t --where 'a = 5'
	assert_failure 2
	assert_output 'txlog: t: f.zst:2: damaged data file'
	run sh -c 'echo "{\"a\":5}" | txlog merge t -k .a'
	assert_failure 2
	assert_output 'txlog: t: f.zst:2: damaged data file'
	run nver
	assert_output 3
	run sh -c 'find t -type f ! -path "t/_delta_log/*" | wc -l'
	assert_output 2
}

@test "a data file of another writer cut short is named once, after its table, by every reader" {
	# it said: txlog: f.zst: t/f.zst: truncated zstd stream
	txlog init t --infer
	echo '{"a":1}' | txlog append t
	seq 1 500 | sed 's/.*/{"a":&}/' | zstd -q > f.zst
	head -c 300 f.zst > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":300,\"modificationTime\":0,\"dataChange\":true}}" \
		> t/_delta_log/00000000000000000002.json
	msg='txlog: t: f.zst: truncated zstd stream'
	for v in 'cat' 'cat --where a=5' 'cat -j 2' 'changes --from 2' \
		'delete --where a=5' 'update --set a=2 --where a=5' \
		'optimize --zorder-by a'; do
		run txlog $v t
		assert_failure 2
		assert_line "$msg"
	done
	run sh -c 'echo "{\"a\":5}" | txlog merge t -k .a'
	assert_failure 2
	assert_output "$msg"
	run txlog verify --deep t
	assert_failure 1
	assert_line "$msg"
	run nver
	assert_output 3
}

@test "update, delete, merge and optimize stop at a row that is JSON but no object in a file another writer added, and copy it nowhere" {
	txlog init t --infer
	echo '{"a":1}' | txlog append t
	printf '{"a":5}\n[1]\n' | zstd -q > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2}\"}}" \
		> t/_delta_log/00000000000000000002.json
	refused 'txlog: t: f.zst:2: damaged data file' \
		txlog update t --set 'a = 2' --where 'a = 5'
	refused 'txlog: t: f.zst:2: damaged data file' \
		txlog delete t --where 'a = 5'
	refused 'txlog: t: f.zst:2: damaged data file' \
		sh -c 'echo "{\"a\":5}" | txlog merge t -k .a'
	refused 'txlog: t: f.zst:2: damaged data file (run txlog verify --deep); nothing optimized' \
		txlog optimize t
	refused 'txlog: t: f.zst:2: damaged data file (run txlog verify --deep); nothing optimized' \
		txlog optimize t --zorder-by a
	run nver
	assert_output 3
	# cat refuses it too, after the rows before it
	run txlog cat t
	assert_failure 2
	assert_output '{"a":1}
{"a":5}
txlog: t: f.zst:2: damaged data file'
}

@test "update, delete and overwrite record their --where texts joined by 'and' in the commit's operationParameters" {
	mk
	params() { txlog log t | head -n 1 | jq -c .operationParameters; }
	txlog update t --set 'v = 9' --where 'id = 1' --where 'p = "x"'
	run params
	assert_output '{"predicate":"id = 1 and p = \"x\""}'
	txlog delete t --where 'id = 3' --where 'v = 3'
	run params
	assert_output '{"predicate":"id = 3 and v = 3"}'
	echo '{"id":2,"p":"y","v":5}' | txlog overwrite t --where 'p = "y"'
	run params
	assert_output '{"mode":"Overwrite","replaceWhere":"p = \"y\""}'
	echo '{"id":4,"p":"z","v":4}' | txlog overwrite t
	run params
	assert_output '{"mode":"Overwrite"}'
}

@test "delete and overwrite with a --txn already committed write nothing and say so" {
	mk
	txlog delete t --where 'id = 3' --txn app:1
	run txlog delete t --where 'id = 1' --txn app:1
	assert_success
	assert_output 'txlog: t: txn app:1 already committed (recorded version 1); nothing written'
	run sh -c 'echo "{\"id\":5,\"p\":\"y\",\"v\":5}" | txlog overwrite t --where "p = \"y\"" --txn app:1'
	assert_success
	assert_output 'txlog: t: txn app:1 already committed (recorded version 1); nothing written'
	run nver
	assert_output 3
	run sh -c 'txlog cat t | sort'
	assert_output $'{"id":1,"p":"x","v":1}\n{"id":2,"p":"y","v":2}'
}

@test "a bare --set value that SQL's SET would read as a column or an expression is refused, not stored as text" {
	mk
	txlog update t --set 'p = "q"' --where 'id = 2' # a string column
	refused "txlog: --set 'p = id': id is a column of the table, and --set takes values, not expressions; write \"id\" for the string" \
		txlog update t --set 'p = id' --where 'id = 2'
	refused "txlog: --set 'p = ID': ID is a column of the table, and --set takes values, not expressions; write \"ID\" for the string" \
		txlog update t --set 'p = ID' --where 'id = 2'
	refused "txlog: --set 'p = v + 1': v + 1 has spaces, which a string takes in JSON's double quotes; write \"v + 1\" for the string" \
		txlog update t --set 'p = v + 1' --where 'id = 2'
	refused "txlog: --set 'p = upper(p)': upper(p) reads as a call, and --set takes values, not expressions; write \"upper(p)\" for the string" \
		txlog update t --set 'p = upper(p)' --where 'id = 2'
	assert_equal "$(nver)" 3
	# quoted, each is the string it says; a bare word that is none stays one
	txlog update t --set 'p = "v + 1"' --where 'id = 2'
	txlog update t --set 'p = B-57' --where 'id = 3'
	run sh -c 'txlog cat t | sort'
	assert_output - <<'J'
{"id":1,"p":"x","v":1}
{"id":2,"p":"v + 1","v":2}
{"id":3,"p":"B-57","v":3}
J
}
