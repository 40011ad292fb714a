#!/usr/bin/env bats
# txlog: the Delta log on a folder -- verbs, schema enforcement, --txn,
# conflicts, checkpoints, time travel and path safety.

load helpers

schema() {
	cat > s.json <<'EOF'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}},{"name":"v","type":"long","nullable":true,"metadata":{}}]}
EOF
}

# A table t partitioned by day with three rows, made once per file by
# the verbs under test (init, append) and copied into each test: most
# tests start from it, and two processes less each keeps the sanitized
# run short.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	schema
	txlog init t --schema s.json --partition-by day
	printf '%s\n' '{"id":1,"day":"a","v":10}' '{"id":2,"day":"b","v":20}' \
		'{"id":3,"day":"a","v":30}' | txlog append t
}

mk() {
	schema
	cp -R "$BATS_FILE_TMPDIR/t" t
}

@test "init writes version 0 with commitInfo, protocol and metaData" {
	schema
	run txlog init t --schema s.json --partition-by day
	assert_success
	run jq -c 'keys[0]' t/_delta_log/00000000000000000000.json
	assert_output $'"commitInfo"\n"protocol"\n"metaData"'
	run jq -c '.protocol // empty' t/_delta_log/00000000000000000000.json
	assert_output '{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint"]}'
	run jq -c '.metaData // empty | [.format.provider, .partitionColumns]' t/_delta_log/00000000000000000000.json
	assert_output '["json",["day"]]'
}

@test "init refuses a partition column given twice, or twice but for case, and makes no table" {
	schema
	refused 'txlog: --partition-by day: given twice' txlog init t --schema s.json --partition-by day --partition-by day
	refused 'txlog: --partition-by Day and day differ only in case (Delta column names are unique regardless of case)' txlog init t --partition-by Day --partition-by day
	[ ! -e t ]
}

@test "init refuses a table that already exists" {
	mk
	run txlog init t --schema s.json
	assert_failure 2
	assert_output 'txlog: t: already a table (version 0 exists)'
}

@test "init refuses a table whose first versions log cleanup deleted" {
	schema
	txlog init t --schema s.json --checkpoint-interval 2
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append t; done
	# as log cleanup leaves it: the checkpoint stands in for 0 and 1
	rm t/_delta_log/0000000000000000000[01].json
	refused 'txlog: t: already a table (version 2 exists)' txlog init t --schema s.json
	run ls t/_delta_log
	refute_output --partial 00000000000000000000.json
	run txlog verify t
	assert_success
}

@test "init after a crash that left version 0's temporary file makes the table: a temporary file is no version" {
	schema
	mkdir -p t/_delta_log
	echo '{"commitInfo":{' > t/_delta_log/00000000000000000000.json.tmp.Wbhuwk
	txlog init t --schema s.json
	echo '{"id":1}' | txlog append t
	run txlog cat t
	assert_output '{"id":1}'
}

@test "append then cat gives the records back byte for byte" {
	mk
	run txlog cat t
	assert_success
	assert_output $'{"id":1,"day":"a","v":10}\n{"id":3,"day":"a","v":30}\n{"id":2,"day":"b","v":20}'
}

@test "append writes one zstd NDJSON file per partition folder" {
	mk
	run sh -c 'cd t && ls -d day=*'
	assert_output $'day=a\nday=b'
	run sh -c 'zstd -dc t/day=b/*.ndjson.zst'
	assert_output '{"id":2,"day":"b","v":20}'
}

@test "the add action carries partition values, stats and a checksum tag" {
	mk
	run sh -c "txlog files t | jq -c 'select(.partitionValues.day==\"a\") | [.dataChange, (.stats|fromjson), (.tags|keys)]'"
	assert_output '[true,{"numRecords":2,"minValues":{"id":1,"day":"a","v":10},"maxValues":{"id":3,"day":"a","v":30},"nullCount":{"id":0,"day":0,"v":0}},["idem.rawSize","idem.xxh3_128"]]'
}

@test "schema prints the schemaString" {
	mk
	run txlog schema t
	assert_output "$(jq -c . s.json)"
}

@test "infer takes the schema from the first write" {
	txlog init t --infer
	printf '%s\n' '{"a":1,"b":"x"}' '{"a":2.5,"c":null}' | txlog append t
	run txlog schema t
	assert_output '{"type":"struct","fields":[{"name":"a","type":"double","nullable":true,"metadata":{}},{"name":"b","type":"string","nullable":true,"metadata":{}},{"name":"c","type":"string","nullable":true,"metadata":{}}]}'
}

@test "an integer past 64 bits is inferred, and widened, as decimal(38,0), never as a double that rounds it" {
	txlog init t --infer
	printf '%s\n' '{"a":1,"b":[2,-9223372036854775809]}' \
		'{"a":12345678901234567891}' | txlog append t
	run sh -c "txlog schema t | jq -c '[.fields[] | .type]'"
	assert_output '["decimal(38,0)",{"type":"array","elementType":"decimal(38,0)","containsNull":true}]'
	run txlog cat t --where 'a = 12345678901234567891'
	assert_output '{"a":12345678901234567891}'
	run txlog cat t --where 'a = 12345678901234567168'
	assert_output ''
	# a fraction then is refused, and 39 digits no Delta type holds
	refused 'txlog: stdin:1: column .a: 1.5 does not fit decimal(38,0): more digits after the point than its scale; nothing committed' \
		sh -c 'echo "{\"a\":1.5}" | txlog append t --merge-schema'
	txlog init u --infer
	refused 'txlog: stdin:1: column .a: 123456789012345678901234567890123456789 does not fit decimal(38,0): more digits than a decimal holds; nothing committed' \
		sh -c 'echo "{\"a\":123456789012345678901234567890123456789}" | txlog append u'
	# a long column meeting one widens to it, as typeWidening allows
	echo '{"a":3000000000}' | txlog append u
	echo '{"a":-12345678901234567891}' | txlog append u --merge-schema
	run sh -c "txlog schema u | jq -c '.fields[0] | [.type, .metadata]'"
	assert_output '["decimal(38,0)",{"delta.typeChanges":[{"fromType":"long","toType":"decimal(38,0)"}]}]'
}

@test "--infer gives a column no type that changes a value: a fraction after an integer no double holds is refused, naming both" {
	txlog init t --infer
	refused 'txlog: stdin:2: column .v: 1.5 would make it double, which does not hold its integer 9007199254740993 (a double holds it as 9007199254740992); give the column a decimal(P,S) type with room for both (txlog init --schema FILE); nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":9007199254740993}" "{\"v\":1.5}" | txlog append t'
	# the other order, and a big integer after any fraction
	refused 'txlog: stdin:2: column .v: 9007199254740993 does not fit double: a double holds it as 9007199254740992 (a decimal(P,S) column keeps every digit); nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":1.5}" "{\"v\":9007199254740993}" | txlog append t'
	refused 'txlog: stdin:2: column .v: 12345678901234567891 does not fit double: a double holds it as 12345678901234567168 (a decimal(P,S) column keeps every digit); nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":0.1}" "{\"v\":12345678901234567891}" | txlog append t'
	# in an array, after an int widened to long, past 64 bits
	refused 'txlog: stdin:1: column .a[]: 1.5 would make it double, which does not hold its integer 9007199254740993 (a double holds it as 9007199254740992); give the column a decimal(P,S) type with room for both (txlog init --schema FILE); nothing committed' \
		sh -c 'echo "{\"a\":[1,9007199254740993,1.5]}" | txlog append t'
	refused 'txlog: stdin:2: column .v: 1.5 does not fit decimal(38,0): more digits after the point than its scale (inferred for an integer past 64 bits; give the column a decimal(P,S) type with room for both: txlog init --schema FILE); nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":12345678901234567891}" "{\"v\":1.5}" | txlog append t'
	# a value the widened or inferred type cannot hold is not let in
	refused 'txlog: stdin:2: column .v: 1e400 does not fit double: out of range; nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":1}" "{\"v\":1e400}" | txlog append t'
	refused 'txlog: stdin:2: column .v: 1e400 does not fit double: out of range; nothing committed' \
		sh -c 'printf "%s\n" "{\"v\":null}" "{\"v\":1e400}" | txlog append t'
	run txlog schema t
	assert_output '{"type":"struct","fields":[]}'
	# integers a double holds widen to it: 2^53, 10^18, -2^63, -0
	printf '%s\n' '{"v":9007199254740992}' '{"v":1000000000000000000}' \
		'{"v":-9223372036854775808}' '{"v":-0}' '{"v":0.1}' | txlog append t
	run sh -c "txlog schema t | jq -c '[.fields[] | .type]'"
	assert_output '["double"]'
}

@test "a new column of a --merge-schema write widens to double only while a double holds its integers" {
	txlog init t --infer
	echo '{"a":1}' | txlog append t
	refused 'txlog: stdin:2: column .w: 0.5 would make it double, which does not hold its integer 9007199254740993 (a double holds it as 9007199254740992); give the column a decimal(P,S) type with room for both (txlog init --schema FILE); nothing committed' \
		sh -c 'printf "%s\n" "{\"w\":9007199254740993}" "{\"w\":0.5}" | txlog append t --merge-schema'
	# an integer column of the log widened to long in this write too
	refused 'txlog: stdin:2: column .a: 0.5 would make it double, which does not hold its integer 9007199254740993 (a double holds it as 9007199254740992); give the column a decimal(P,S) type with room for both (txlog init --schema FILE); nothing committed' \
		sh -c 'printf "%s\n" "{\"a\":9007199254740993}" "{\"a\":0.5}" | txlog append t --merge-schema'
	run sh -c "txlog schema t | jq -c '[.fields[] | .type]'"
	assert_output '["integer"]'
}

@test "a double or float column takes a number only when it holds it at the number's own digits" {
	echo '{"type":"struct","fields":[{"name":"d","type":"double","nullable":true,"metadata":{}},{"name":"f","type":"float","nullable":true,"metadata":{}}]}' > d.json
	txlog init t --schema d.json
	printf '%s\n' '{"d":0.1,"f":0.1}' '{"d":9223372036854775808,"f":16777216}' \
		'{"d":5e-324,"f":3.4028235e38}' '{"d":1.7976931348623157e308}' \
		'{"d":134.36424411240122,"f":-0}' '{"d":0.29999999999999999}' | txlog append t
	refused 'txlog: stdin:1: column .d: 0.30000000000000001 does not fit double: a double holds it as 0.29999999999999999 (a decimal(P,S) column keeps every digit); nothing committed' \
		sh -c 'echo "{\"d\":0.30000000000000001}" | txlog append t'
	refused 'txlog: stdin:1: column .f: 16777217 does not fit float: a float holds it as 16777216 (a decimal(P,S) column keeps every digit); nothing committed' \
		sh -c 'echo "{\"f\":16777217}" | txlog append t'
	run sh -c 'txlog cat t | wc -l'
	assert_output 6
}

@test "a value of the wrong type is refused and nothing is committed" {
	mk
	run sh -c 'echo "{\"id\":4,\"day\":\"a\",\"v\":\"x\"}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .v: string where the schema has long; nothing committed'
	run sh -c 'ls t/_delta_log/*.json | wc -l'
	assert_output 2
}

@test "a missing required member is refused" {
	mk
	run sh -c 'echo "{\"day\":\"a\"}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .id: required member missing; nothing committed'
}

@test "an unknown column is refused without --merge-schema" {
	mk
	run sh -c 'echo "{\"id\":4,\"w\":true}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .w: not in the table schema (--merge-schema adds it); nothing committed'
	# a typo of a column is named, not offered to --merge-schema
	run sh -c 'echo "{\"idd\":4}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .idd: not in the table schema: did you mean .id? (--merge-schema adds .idd as a new column); nothing committed'
}

@test "--merge-schema adds a nullable column and refuses long to double" {
	mk
	echo '{"id":4,"v":1,"w":true}' | txlog append t --merge-schema
	run sh -c "txlog schema t | jq -c '[.fields[] | [.name, .type, .nullable]]'"
	assert_output '[["id","long",false],["day","string",true],["v","long",true],["w","boolean",true]]'
	# long to double is not among typeWidening's changes
	run sh -c 'echo "{\"id\":5,\"v\":1.5}" | txlog append t --merge-schema'
	assert_failure 2
	assert_output --partial 'txlog: t: column .v: long cannot become double'
}

@test "a widened column declares typeWidening and keeps its type changes" {
	echo '{"type":"struct","fields":[{"name":"n","type":"short","nullable":true,"metadata":{}}]}' > w.json
	txlog init w --schema w.json
	echo '{"n":40000}' | txlog append w --merge-schema
	echo '{"n":5000000000}' | txlog append w --merge-schema
	run sh -c "txlog schema w | jq -c '.fields[0] | [.type, .metadata]'"
	assert_output '["long",{"delta.typeChanges":[{"fromType":"short","toType":"integer"},{"fromType":"integer","toType":"long"}]}]'
	# short to double is allowed too (long to double is not)
	txlog init w2 --schema w.json
	echo '{"n":0.5}' | txlog append w2 --merge-schema
	run sh -c "txlog schema w2 | jq -c '.fields[0] | [.type, .metadata]'"
	assert_output '["double",{"delta.typeChanges":[{"fromType":"short","toType":"double"}]}]'
	run jq -c '.protocol // empty' w/_delta_log/00000000000000000001.json
	assert_output '{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint","typeWidening"],"writerFeatures":["v2Checkpoint","typeWidening"]}'
	# declared once: the second widening only adds to the history
	run jq -c '.protocol // empty' w/_delta_log/00000000000000000002.json
	assert_output ''
	run jq -c '.metaData.configuration // empty' w/_delta_log/00000000000000000002.json
	assert_output '{"delta.enableTypeWidening":"true"}'
}

@test "a table with delta.enableTypeWidening false refuses a wider type" {
	echo '{"type":"struct","fields":[{"name":"n","type":"integer","nullable":true,"metadata":{}}]}' > w.json
	txlog init t --schema w.json
	sed 's/"configuration":{}/"configuration":{"delta.enableTypeWidening":"false"}/' \
		t/_delta_log/00000000000000000000.json > v0 && mv v0 t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	run sh -c 'echo "{\"n\":5000000000}" | txlog append t --merge-schema'
	assert_failure 2
	assert_output "txlog: t: delta.enableTypeWidening is 'false': the table refuses wider column types; nothing committed"
	run sh -c 'ls t/_delta_log/*.json | wc -l'
	assert_output 1
}

@test "malformed JSON, non-object records and bad files stop with exit 2" {
	mk
	run sh -c 'printf "{\"id\":5}\n{oops\n" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:2: invalid JSON: expected a member name at byte 2; nothing committed'
	run sh -c 'echo "[1]" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: record is an array, not an object; nothing committed'
	run txlog append t nosuch.ndjson
	assert_failure 2
	run txlog cat t
	assert_line --index 0 '{"id":1,"day":"a","v":10}'
	assert_equal "${#lines[@]}" 3
}

@test "an append that dies with partition files open removes them and frees its writers" {
	mk
	find t -type f | sort > before
	# the sanitized pass: LeakSanitizer also counts what only a stack
	# frame still holds at exit (verb_append's writer), so a writer
	# txlog_fail took out of the live list without freeing all of it
	# shows up as a leak allocated in dws_ or dfile_
	[ -z "${IDEM_SANITIZED:-}" ] ||
		export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}use_stacks=0:use_registers=0"
	run sh -c 'printf "%s\n" "{\"id\":5,\"day\":\"c\"}" "{\"id\":6,\"day\":\"d\"}" "{oops" | txlog append t'
	assert_line --index 0 'txlog: stdin:3: invalid JSON: expected a member name at byte 2; nothing committed'
	refute_output --regexp ' in (dws|dfile)_'
	if [ -z "${IDEM_SANITIZED:-}" ]; then
		assert_failure 2
		assert_equal "${#lines[@]}" 1
	fi
	find t -type f | sort > after
	run diff before after
	assert_success
}

@test "empty input commits nothing" {
	mk
	run txlog append t /dev/null
	assert_success
	run sh -c 'ls t/_delta_log/*.json | wc -l'
	assert_output 2
	# unpartitioned (whose chunks go whole to one file), from a file,
	# a pipe and blank lines, on one thread and on four: no version, no
	# data file, no temp file
	txlog init u --infer
	for j in 1 4; do
		run txlog append u /dev/null -j $j
		assert_success
		run sh -c "printf '\\n \\n' | txlog append u -j $j"
		assert_success
	done
	run find u -type f
	assert_output u/_delta_log/00000000000000000000.json
}

@test "a huge line is accepted and comes back whole" {
	mk
	big=$(head -c 300000 /dev/zero | tr '\0' x)
	echo "{\"id\":9,\"day\":\"z\",\"v\":1,\"s\":\"$big\"}" > big.ndjson
	txlog append t --merge-schema big.ndjson
	run sh -c 'txlog cat t --where "day = z" | wc -c'
	assert_output 300032
}

@test "--txn at or below the recorded version is a no-op that says so" {
	mk
	echo '{"id":7,"day":"c"}' | txlog append t --txn job:3
	run sh -c 'echo "{\"id\":7,\"day\":\"c\"}" | txlog append t --txn job:3'
	assert_success
	assert_output 'txlog: t: txn job:3 already committed (recorded version 3); nothing written'
	run sh -c 'echo "{\"id\":7,\"day\":\"c\"}" | txlog append t --txn job:2'
	assert_success
	run sh -c 'txlog cat t --where "day = c"'
	assert_output '{"id":7,"day":"c"}'
	echo '{"id":8,"day":"c"}' | txlog append t --txn job:4
	run sh -c 'txlog cat t --where "day = c" | wc -l'
	assert_output 2
}

@test "--txn needs APP:VERSION" {
	mk
	run txlog append t --txn nope /dev/null
	assert_failure 2
	assert_line --index 0 "txlog: --txn 'nope': expected APP:VERSION"
}

@test "log lists the history newest first from commitInfo" {
	mk
	echo '{"id":4,"day":"b"}' | txlog append t
	run sh -c "txlog log t | jq -c '[.version, .operation, .readVersion, .isBlindAppend]'"
	assert_output $'[2,"WRITE",1,true]\n[1,"WRITE",0,true]\n[0,"CREATE TABLE",null,true]'
}

@test "overwrite --where replaces one partition in one commit" {
	mk
	echo '{"id":9,"day":"a","v":90}' | txlog overwrite t --where 'day = a'
	run txlog cat t
	assert_output $'{"id":2,"day":"b","v":20}\n{"id":9,"day":"a","v":90}'
	run sh -c "jq -c 'keys[0]' t/_delta_log/00000000000000000002.json"
	assert_output $'"commitInfo"\n"remove"\n"add"'
}

@test "overwrite refuses records outside the predicate" {
	mk
	run sh -c 'echo "{\"id\":9,\"day\":\"b\"}" | txlog overwrite t --where "day = a"'
	assert_failure 2
	assert_output 'txlog: stdin:1: record outside --where; nothing committed'
}

@test "overwrite without --where replaces the whole table" {
	mk
	echo '{"id":5,"day":"q"}' | txlog overwrite t
	run txlog cat t
	assert_output '{"id":5,"day":"q"}'
}

@test "delete rewrites only the rows that match" {
	mk
	txlog delete t --where '.v >= 30'
	run txlog cat t
	assert_output $'{"id":2,"day":"b","v":20}\n{"id":1,"day":"a","v":10}'
	run sh -c "txlog log t | head -n 1 | jq -c .operationMetrics"
	assert_output '{"numRemovedFiles":"1","numAddedFiles":"1","numDeletedRows":"1","numCopiedRows":"1"}'
}

@test "delete with a jq predicate works too" {
	mk
	txlog delete t --where '.id % 2 == 1'
	run txlog cat t
	assert_output '{"id":2,"day":"b","v":20}'
}

@test "delete that matches nothing commits nothing" {
	mk
	run txlog delete t --where 'id = 99'
	assert_success
	run sh -c 'ls t/_delta_log/*.json | wc -l'
	assert_output 2
}

@test "merge upserts, deletes and inserts copy-on-write" {
	mk
	printf '%s\n' '{"id":1,"day":"a","v":11}' '{"id":2,"day":"b","v":0}' \
		'{"id":4,"day":"b","v":40}' | txlog merge t -k .id --delete-when '.v == 0'
	# updated rows go to files of their own: rows in any order
	run sh -c 'txlog cat t | sort'
	assert_output $'{"id":1,"day":"a","v":11}\n{"id":3,"day":"a","v":30}\n{"id":4,"day":"b","v":40}'
}

@test "merge --when-newer keeps the newer record" {
	mk
	printf '%s\n' '{"id":1,"day":"a","v":5}' '{"id":3,"day":"a","v":31}' |
		txlog merge t -k .id --when-newer .v
	# the updated row is in a file of its own: rows in any order
	run sh -c "txlog cat t --where 'day = a' | sort"
	assert_output $'{"id":1,"day":"a","v":10}\n{"id":3,"day":"a","v":31}'
}

@test "merge refuses a source with two records for one key" {
	mk
	run sh -c 'printf "%s\n" "{\"id\":1,\"day\":\"a\"}" "{\"id\":1,\"day\":\"b\"}" | txlog merge t -k .id'
	assert_failure 2
	assert_output 'txlog: stdin:2: the source has a second record for merge key .id (first at stdin:1); a merge source must have one record per key; nothing committed'
}

@test "merge leaves untouched files alone" {
	mk
	before=$(txlog files t | jq -r 'select(.partitionValues.day=="b") | .path')
	echo '{"id":1,"day":"a","v":12}' | txlog merge t -k .id
	run sh -c "txlog files t | jq -r 'select(.partitionValues.day==\"b\") | .path'"
	assert_output "$before"
}

@test "cat --where skips files by partition and by min/max statistics" {
	mk
	run txlog cat t --where 'day = b' --stats
	assert_output --partial '{"id":2,"day":"b","v":20}'
	assert_output --partial '"files":2,"files_skipped":1'
	run txlog cat t --where '.v > 25' --stats
	assert_output --partial '{"id":3,"day":"a","v":30}'
	assert_output --partial '"files_skipped":1'
}

@test "cat --version reads an older snapshot" {
	mk
	txlog delete t --where 'day = a'
	run txlog cat t --version 1
	assert_output $'{"id":1,"day":"a","v":10}\n{"id":3,"day":"a","v":30}\n{"id":2,"day":"b","v":20}'
	run txlog cat t --version 9
	assert_failure 2
	assert_output 'txlog: t: no version 9 (newest is 2)'
}

@test "cat --as-of reads the version current at that time" {
	mk
	# commit times are milliseconds: t1 falls after version 1's and
	# before version 2's
	t1=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	sleep 0.01
	txlog delete t --where 'day = a'
	run txlog cat t --as-of "$t1"
	assert_output $'{"id":1,"day":"a","v":10}\n{"id":3,"day":"a","v":30}\n{"id":2,"day":"b","v":20}'
	run txlog cat t --as-of 2000-01-01T00:00:00Z
	assert_failure 2
	assert_output 'txlog: t: no version was committed at or before 2000-01-01T00:00:00Z'
}

@test "cat --as-of -DUR reads the version current DUR before now" {
	mk
	# -3s falls after mk's commits and before the delete's as long as
	# cat starts within 3 s of the delete (a loaded, sanitized run)
	sleep 3.1
	txlog delete t --where 'day = a'
	run txlog cat t --as-of -3s
	assert_output $'{"id":1,"day":"a","v":10}\n{"id":3,"day":"a","v":30}\n{"id":2,"day":"b","v":20}'
	run txlog cat t --as-of -0s
	assert_output '{"id":2,"day":"b","v":20}'
	run txlog cat t --as-of -1h
	assert_failure 2
	assert_output --regexp '^txlog: t: no version was committed at or before 20[0-9-]+T[0-9:]+\.[0-9]{3}Z$'
	run txlog cat t --as-of -soon
	assert_failure 2
	assert_line -n 0 --partial "txlog: --as-of '-soon': "
	assert_line -n 0 --partial '(give -DUR, such as -90m, for DUR before now)'
}

@test "a checkpoint is written every 10 commits with _last_checkpoint" {
	schema
	txlog init t --schema s.json
	for i in $(seq 1 12); do echo "{\"id\":$i}" | txlog append t; done
	run sh -c 'ls t/_delta_log | grep -c "^00000000000000000010\.checkpoint\..*\.json$"'
	assert_output 1
	run jq -c '[.version, .numOfAddFiles, (.v2Checkpoint.path|test("^00000000000000000010.checkpoint.[0-9a-f-]{36}.json$"))]' t/_delta_log/_last_checkpoint
	assert_output '[10,10,true]'
	run sh -c "txlog files t --stats 2>&1 >/dev/null | jq -c '[.version,.files,.checkpoint,.commits_read]'"
	assert_output '[12,12,10,2]'
}

@test "reading needs only the last checkpoint and the commits after it" {
	schema
	txlog init t --schema s.json --checkpoint-interval 2
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append t; done
	rm t/_delta_log/0000000000000000000[0-2].json
	run sh -c 'txlog cat t | wc -l'
	assert_output 3
	run sh -c "txlog files t --stats 2>&1 >/dev/null | jq -c '[.version,.checkpoint,.commits_read]'"
	assert_output '[3,2,1]'
}

@test "--checkpoint-interval on a write checkpoints at its multiples, in place of the table's" {
	schema
	txlog init t --schema s.json
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append t --checkpoint-interval 3; done
	run jq -c .version t/_delta_log/_last_checkpoint
	assert_output 3
}

@test "txlog checkpoint writes one on demand" {
	mk
	txlog checkpoint t
	run jq -c .version t/_delta_log/_last_checkpoint
	assert_output 1
	run sh -c "txlog files t --stats 2>&1 >/dev/null | jq -c '[.checkpoint,.commits_read]'"
	assert_output '[1,0]'
}

@test "a big checkpoint and the commits after it read as the replayed log" {
	# 300 files: the checkpoint is over 64 KiB and read through the
	# pool; 40 more files spill past the table sized from
	# _last_checkpoint, and a delete removes files the checkpoint added
	schema
	txlog init t --schema s.json --partition-by day
	awk 'BEGIN { for (i = 0; i < 300; i++) printf "{\"id\":%d,\"day\":\"d%03d\",\"v\":%d}\n", i, i, i }' | txlog append t
	txlog checkpoint t
	[ "$(stat -c %s t/_delta_log/*.checkpoint.*.json)" -gt 65536 ]
	awk 'BEGIN { for (i = 300; i < 340; i++) printf "{\"id\":%d,\"day\":\"d%03d\",\"v\":%d}\n", i, i, i }' | txlog append t
	txlog delete t --where '.v < 20 or (.v >= 310 and .v < 315)'
	cp -R t replay
	rm replay/_delta_log/_last_checkpoint replay/_delta_log/*.checkpoint.*
	run sh -c "txlog files t --stats 2>&1 >/dev/null | jq -c '[.version,.files,.checkpoint,.commits_read]'"
	assert_output '[3,315,1,2]'
	txlog files t > cp.files
	txlog files replay > replay.files
	cmp cp.files replay.files
	run sh -c 'txlog cat t | jq -sc "[length, (map(.v) | add)]"'
	assert_output "[315,55880]"
	# and in the same order: the checkpoint keeps the commit order
	txlog cat t > cp.rows
	txlog cat replay > replay.rows
	cmp cp.rows replay.rows
}

@test "rows read in commit order through checkpoints, automatic and on demand" {
	schema
	txlog init t --schema s.json --partition-by day
	for i in $(seq 1 12); do
		echo "{\"id\":$i,\"day\":\"d$((i % 3))\"}" | txlog append t
	done
	[ -e t/_delta_log/_last_checkpoint ]
	want=$(seq 1 12 | awk '{ printf "%d%s", $1, NR < 12 ? " " : "" }')
	run sh -c "txlog cat t | jq -r .id | paste -sd' '"
	assert_output "$want"
	printf '%s\n' '{"id":13,"day":"d0"}' '{"id":14,"day":"d2"}' '{"id":15,"day":"d1"}' | txlog append t
	txlog checkpoint t
	# within one commit, the order its writer opened the files in
	run sh -c "txlog cat t | jq -r .id | paste -sd' '"
	assert_output "$want 13 14 15"
}

@test "a damaged commit or checkpoint is refused, not read as another table" {
	mk
	echo '{"id":4,"day":"a","v":40}' | txlog append t
	txlog checkpoint t
	echo '{"id":5,"day":"c","v":50}' | txlog append t
	good=$(txlog cat t)
	c=t/_delta_log/00000000000000000003.json
	cp "$c" c.bak
	# a digit of a statistic: still JSON, still a log, wrong
	sed -i 's/\\"maxValues\\":{\\"id\\":5/\\"maxValues\\":{\\"id\\":6/' "$c"
	grep -q '"maxValues\\":{\\"id\\":6' "$c"
	run txlog cat t
	assert_failure 2
	assert_output "txlog: t: version 3: damaged commit $c (its bytes differ from the checksum txlog wrote in it); run txlog verify"
	run txlog verify t
	assert_failure 1
	assert_output --partial "txlog: t: version 3: damaged commit $c"
	# the sum's own digits, and one damaged into another byte
	cp c.bak "$c"
	sed -i 's/\("idem\.xxh3_128":"[0-9a-f]*\)[0-9a-f]"}}$/\1x"}}/' "$c"
	run txlog files t
	assert_failure 2
	assert_output --partial "damaged commit $c"
	# a line added, or the last one lost: still under the sum
	cp c.bak "$c"
	grep '"add"' t/_delta_log/00000000000000000002.json >> "$c"
	run txlog cat t
	assert_failure 2
	assert_output --partial "damaged commit $c"
	sed '$d' c.bak > "$c"
	run txlog cat t
	assert_failure 2
	assert_output --partial "damaged commit $c"
	cp c.bak "$c"
	run txlog cat t
	assert_success
	assert_output "$good"
	# the checkpoint: a path's letter
	cp=$(ls t/_delta_log/*.checkpoint.*.json)
	sed -i '0,/"path":"day=a/s//"path":"day=b/' "$cp"
	run txlog cat t
	assert_failure 2
	assert_output "txlog: t: damaged checkpoint $cp (its bytes differ from the checksum txlog wrote in it); run txlog verify"
	# which verify reports as a finding (exit 1), not a refusal to look
	run txlog verify t
	assert_failure 1
	assert_output --partial "txlog: t: damaged checkpoint $cp"
	# the same edit in a file without a sum (another writer's) is read
	# as written, and verify names what differs
	unseal "$cp"
	run txlog verify t
	assert_failure 1
}

@test "verify passes on a good table and finds a damaged data file" {
	mk
	run txlog verify t
	assert_success
	f=$(ls t/day=b/*.zst)
	printf 'x' >> "$f"
	run txlog verify t
	assert_failure 1
	assert_output --partial 'the log says'
}

@test "another writer's data file cut between two zstd frames, or added to, is refused before any row" {
	txlog init t --infer
	echo '{"a":1}' | txlog append t
	{ echo '{"a":5}' | zstd -q; echo '{"a":6}' | zstd -q; } > t/f.zst
	echo "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true}}" \
		> t/_delta_log/00000000000000000002.json
	run sh -c 'txlog cat t | jq -c .a | tr "\n" " "'
	assert_output '1 5 6 '
	cp t/f.zst whole
	# the first frame alone: a whole zstd stream, one row short
	echo '{"a":5}' | zstd -q > t/f.zst
	for verb in "cat t" "cat t -j 1" "changes t --from 1"; do
		run sh -c "txlog $verb 2>err | wc -l; cat err"
		assert_output "0
txlog: t: f.zst: damaged data file (its size differs from the log's); run txlog verify"
	done
	{ cat whole; echo '{"a":7}' | zstd -q; } > t/f.zst
	refused "txlog: t: f.zst: damaged data file (its size differs from the log's); run txlog verify" \
		txlog cat t
	refused "txlog: t: f.zst: damaged data file (its size differs from the log's); run txlog verify" \
		txlog delete t --where 'a = 5'
}

@test "a checksum tag spelled with an escape is checked as the value it is: a swapped data file is refused, not read" {
	txlog init t --infer
	echo '{"id":1}' | txlog append t
	echo '{"id":2}' | txlog append t
	# commit 1 as another writer might spell it: no commit checksum, the
	# tag's first digit as \u00XX
	c=t/_delta_log/00000000000000000001.json
	sed -E -i -e '/^\{"commitInfo"/s/,"idem\.xxh3_128":"[0-9a-f]{32}"//' \
		-e '/^\{"add"/s/"idem\.xxh3_128":"([0-9])/"idem.xxh3_128":"\\u003\1/' $c
	grep -q '"idem.xxh3_128":"\\u003' $c
	f1=$(txlog files t --version 1 | jq -r .path)
	f2=$(txlog files t | jq -r .path | grep -v "$f1")
	txlog delete t --where 'id = 1'
	[ "$(stat -c %s "t/$f1")" = "$(stat -c %s "t/$f2")" ]
	cp "t/$f2" "t/$f1"
	run sh -c 'txlog cat t --version 2 2>&1; echo "exit $?"'
	assert_output "txlog: t: $f1: damaged data file (its checksum differs from the log's); run txlog verify
exit 2"
	run txlog restore t --version 2 --dry-run
	assert_failure 2
	assert_output --partial "$f1 (damaged (its checksum differs from its add))"
}

@test "a log path outside the table is refused by every verb" {
	mk
	mkdir outside
	echo '{"add":{"path":"../outside/x.ndjson.zst","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}' > t/_delta_log/00000000000000000002.json
	for verb in cat files verify; do
		run txlog $verb t
		assert_failure 2
		assert_output "txlog: t: the log names a path outside the table (has an empty, '.' or '..' segment): '../outside/x.ndjson.zst'; refusing"
	done
	run sh -c 'echo "{\"id\":1}" | txlog append t'
	assert_failure 2
}

@test "an absolute log path is refused" {
	mk
	echo '{"add":{"path":"/etc/passwd","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}' > t/_delta_log/00000000000000000002.json
	run txlog files t
	assert_failure 2
	assert_output "txlog: t: the log names a path outside the table (absolute or empty): '/etc/passwd'; refusing"
}

@test "a log path through a symlink is refused" {
	mk
	mkdir outside
	ln -s ../outside t/link
	echo '{"add":{"path":"link/x.ndjson.zst","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}' > t/_delta_log/00000000000000000002.json
	run txlog cat t
	assert_failure 2
	assert_output "txlog: t: the log names a path through a symlink: 'link/x.ndjson.zst'; refusing"
}

@test "a data file that is a symlink is not opened" {
	mk
	echo secret > outside.txt
	f=$(ls t/day=b/*.zst)
	rm "$f"
	ln -s ../../outside.txt "$f"
	run txlog cat t --where 'day = b'
	assert_failure 2
	assert_output "txlog: t: the log names a symlink: '${f#t/}'; refusing"
}

@test "a Spark-style table: log, files and schema work, cat refuses Parquet" {
	mkdir -p sp/_delta_log
	cat > sp/_delta_log/00000000000000000000.json <<'EOF'
{"commitInfo":{"timestamp":1700000000000,"operation":"CREATE TABLE","operationParameters":{}}}
{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}
{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{},"createdTime":1700000000000}}
{"add":{"path":"part-00000-a%20b.snappy.parquet","partitionValues":{},"size":10,"modificationTime":1700000000000,"dataChange":true}}
EOF
	run sh -c "txlog files sp | jq -r .path"
	assert_output 'part-00000-a%20b.snappy.parquet'
	run txlog log sp
	assert_output '{"version":0,"timestamp":1700000000000,"operation":"CREATE TABLE","operationParameters":{}}'
	run txlog cat sp
	assert_failure 2
	assert_output "txlog: sp: data files are in format 'parquet'; txlog reads only its own NDJSON+zstd data files (no Parquet)"
	run sh -c 'echo "{\"a\":1}" | txlog append sp'
	assert_failure 2
}

@test "a log that starts at a Parquet checkpoint is refused clearly" {
	mkdir -p sp/_delta_log
	: > sp/_delta_log/00000000000000000010.checkpoint.parquet
	echo '{"commitInfo":{"timestamp":1}}' > sp/_delta_log/00000000000000000011.json
	run txlog files sp
	assert_failure 2
	assert_output 'txlog: sp: the log starts from a Parquet checkpoint (version 10), which txlog cannot read'
}

@test "a table with an unknown writer feature is not written to" {
	mk
	echo '{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint","rowTracking"]}}' > t/_delta_log/00000000000000000002.json
	run sh -c 'echo "{\"id\":1}" | txlog append t'
	assert_failure 2
	assert_output "txlog: t: table feature 'rowTracking' is not supported for writing"
	run sh -c 'txlog cat t | wc -l'
	assert_output 3
}

@test "a missing table says how to make one" {
	run txlog cat nope
	assert_failure 2
	assert_output 'txlog: nope: not a table (no _delta_log); create it with txlog init'
}

# The writer under test reads its input from a FIFO, so it has loaded its
# snapshot and is waiting when the concurrent commit lands.
start_blocked() { # VERB ARGS...: runs txlog VERB t ARGS in.fifo in the background
	mkfifo in.fifo
	txlog "$@" in.fifo 2> err.txt &
	pid=$!
	exec 4> in.fifo # returns once the writer has opened its input
}

finish_blocked() { # RECORD: feed it, close, wait; sets status
	echo "$1" >&4
	exec 4>&-
	status=0
	wait "$pid" || status=$?
}

@test "an overwrite whose files a concurrent delete removed exits 75" {
	mk
	start_blocked overwrite t --where 'day = a'
	txlog delete t --where 'id = 1'
	finish_blocked '{"id":1,"day":"a"}'
	[ "$status" = 75 ]
	run cat err.txt
	assert_output --regexp '^txlog: t: version 2 was committed by a concurrent writer and it removed day=a/[^ ]*, which this WRITE read; nothing written, retry$'
	run txlog cat t
	assert_output $'{"id":2,"day":"b","v":20}\n{"id":3,"day":"a","v":30}'
}

@test "a write that cannot read the concurrent winner's commit removes its files and commits nothing" {
	mk
	start_blocked append t
	# another writer's version 2, with a deletion vector txlog cannot read
	printf '%s\n' '{"commitInfo":{"timestamp":1}}' '{"add":{"path":"x.zst","partitionValues":{"day":"a"},"size":1,"modificationTime":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":1,"cardinality":1}}}' > t/_delta_log/00000000000000000002.json
	finish_blocked '{"id":9,"day":"a"}'
	[ "$status" = 2 ]
	run cat err.txt
	assert_output 'txlog: t: version 2: deletion vectors are not supported; nothing committed'
	# only the table's own data files are left
	run sh -c 'find t -name "part-*" | wc -l'
	assert_output "$(find "$BATS_FILE_TMPDIR/t" -name 'part-*' | wc -l)"
	rm t/_delta_log/00000000000000000002.json
}

@test "an overwrite of one partition does not conflict with an append to another" {
	mk
	start_blocked overwrite t --where 'day = a'
	echo '{"id":5,"day":"b"}' | txlog append t
	finish_blocked '{"id":9,"day":"a"}'
	[ "$status" = 0 ]
	run txlog cat t
	assert_output $'{"id":2,"day":"b","v":20}\n{"id":5,"day":"b"}\n{"id":9,"day":"a"}'
}

@test "an overwrite conflicts with an append into its partition" {
	mk
	start_blocked overwrite t --where 'day = a'
	echo '{"id":5,"day":"a"}' | txlog append t
	finish_blocked '{"id":9,"day":"a"}'
	[ "$status" = 75 ]
	run cat err.txt
	assert_output --regexp 'it added day=a/.*, which this WRITE would have read; nothing written, retry$'
}

@test "a merge conflicts with an append committed meanwhile" {
	mk
	start_blocked merge t -k .id
	echo '{"id":5,"day":"b"}' | txlog append t
	finish_blocked '{"id":1,"day":"a","v":1}'
	[ "$status" = 75 ]
	run sh -c 'txlog cat t | wc -l'
	assert_output 4
}

@test "concurrent blind appends both commit" {
	mk
	start_blocked append t
	echo '{"id":5,"day":"b"}' | txlog append t
	finish_blocked '{"id":6,"day":"b"}'
	[ "$status" = 0 ]
	run sh -c "txlog log t | jq -c '[.version,.readVersion]' | head -n 2"
	assert_output $'[3,1]\n[2,1]'
}

@test "a --txn replay committed meanwhile by another writer is dropped" {
	mk
	start_blocked append t --txn job:1
	echo '{"id":5,"day":"b"}' | txlog append t --txn job:1
	finish_blocked '{"id":5,"day":"b"}'
	[ "$status" = 0 ]
	run cat err.txt
	assert_output 'txlog: t: txn job:1 was committed meanwhile (version 2); nothing written'
	run sh -c 'txlog cat t | grep -c "\"id\":5"'
	assert_output 1
	run sh -c 'ls t/day=b | wc -l'
	assert_output 2
}

@test "help and version" {
	run txlog --help
	assert_success
	assert_line --index 0 'Usage: txlog VERB TABLE [OPTION]... [FILE]...'
	run txlog --version
	assert_success
	run txlog frob t
	assert_failure 2
}

@test "two first writes to an --infer table that infer the same schema both commit" {
	txlog init t --infer
	start_blocked append t
	echo '{"id":1,"day":"a"}' | txlog append t
	finish_blocked '{"id":2,"day":"b"}'
	[ "$status" = 0 ]
	run txlog cat t
	assert_output $'{"id":1,"day":"a"}\n{"id":2,"day":"b"}'
	run sh -c "jq -c 'select(.metaData) | .metaData.schemaString | fromjson | [.fields[].name]' t/_delta_log/*.json"
	assert_output $'[]\n["id","day"]'
}

# The same schema is not the same metaData: a winner that also set a
# CHECK constraint the table supports (checkConstraints) made a table
# txlog must not write to, and the loser must not commit past it.
@test "a schema change whose winner set the same schema and a constraint exits 75" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}' > w.json
	txlog init t --schema w.json
	sed 's/"writerFeatures":\["v2Checkpoint"\]/"writerFeatures":["v2Checkpoint","checkConstraints"]/' \
		t/_delta_log/00000000000000000000.json > v0 && mv v0 t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	cp -R t same
	echo '{"id":1,"b":"x"}' | txlog append same --merge-schema
	start_blocked append t --merge-schema
	{ echo '{"commitInfo":{"timestamp":1}}'
	  jq -c 'select(.metaData) | .metaData.configuration["delta.constraints.big"] = "id > 5"' same/_delta_log/00000000000000000001.json
	} > t/_delta_log/00000000000000000001.json
	finish_blocked '{"id":1,"b":"x"}'
	[ "$status" = 75 ]
	run cat err.txt
	assert_output 'txlog: t: version 1 was committed by a concurrent writer and it changed the table'"'"'s metadata (schema); nothing written, retry'
	[ ! -e t/_delta_log/00000000000000000002.json ]
	run sh -c 'echo "{\"id\":1,\"b\":\"x\"}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: t: the table uses CHECK constraints (delta.constraints.*), which txlog does not enforce (writer version 7); refusing to write'
}

@test "a first write that inferred another schema than the winner's exits 75" {
	txlog init t --infer
	start_blocked append t
	echo '{"id":1,"day":"a"}' | txlog append t
	finish_blocked '{"id":2,"v":true}'
	[ "$status" = 75 ]
	run cat err.txt
	assert_output 'txlog: t: version 1 was committed by a concurrent writer and it changed the table'"'"'s metadata (schema); nothing written, retry'
	# run again, it is checked against the schema the winner set
	run sh -c 'echo "{\"id\":2,\"v\":true}" | txlog append t'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .v: not in the table schema (--merge-schema adds it); nothing committed'
}

@test "delta.enableTypeWidening TRUE is true, as Delta reads a boolean property" {
	echo '{"type":"struct","fields":[{"name":"n","type":"integer","nullable":true,"metadata":{}}]}' > w.json
	txlog init t --schema w.json
	sed 's/"configuration":{}/"configuration":{"delta.enableTypeWidening":"TRUE"}/' \
		t/_delta_log/00000000000000000000.json > v0 && mv v0 t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	echo '{"n":5000000000}' | txlog append t --merge-schema
	run sh -c "txlog schema t | jq -c '.fields[0].type'"
	assert_output '"long"'
}
