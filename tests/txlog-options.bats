#!/usr/bin/env bats
# txlog verbs: every verb takes only its own options (the rest refused,
# exit 2, the verb's usage line, "did you mean" for a near miss), `txlog
# VERB --help` works for every verb, a --where that matches nothing says
# so, a partial merge record updates only its columns, and a merge says
# what it did not apply.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	txlog init T --infer > /dev/null
	printf '{"a":1}\n' > in.ndjson
}

@test "append --dry-run is refused and commits nothing" {
	run txlog append T --dry-run in.ndjson
	assert_failure 2
	assert_output - <<'J'
txlog: append: --dry-run does not apply to append (it is vacuum's and restore's)
Usage: txlog append TABLE [--txn APP:VERSION] [--merge-schema] [FILE]...
Try 'txlog append --help' for more information.
J
	run txlog cat T
	assert_success
	assert_output ''
}

@test "cat refuses options of other verbs, and -k" {
	for o in --dry-run '--zorder-by a' --deep --force '-k .a' '--retain 7d'; do
		run txlog cat T $o
		assert_failure 2
		assert_line --index 1 'Usage: txlog cat TABLE [--version N | --as-of TIME] [--where EXPR]'
	done
	run txlog cat T --dry-run --zorder-by a --deep --force
	assert_failure 2
	assert_line --index 0 "txlog: cat: --dry-run does not apply to cat (it is vacuum's and restore's)"
}

@test "an option that takes one value is refused when given twice; --where adds up" {
	txlog init t
	printf '{"a":1,"b":1}\n{"a":1,"b":2}\n' | txlog append t
	run txlog merge t -k .a -k .b < /dev/null
	assert_failure 2
	assert_line --index 0 "txlog: merge: --key given twice ('.a', then '.b'); give it once"
	run txlog cat t --version 1 --version 0
	assert_failure 2
	assert_line --index 0 "txlog: cat: --version given twice ('1', then '0'); give it once"
	run txlog vacuum t --retain 8d --retain 7d
	assert_failure 2
	assert_line --index 0 "txlog: vacuum: --retain given twice ('8d', then '7d'); give it once"
	run txlog cat t --where 'a = 1' --where 'b = 2'
	assert_success
	assert_output '{"a":1,"b":2}'
}

@test "a near miss of an option or a verb says what was meant" {
	run txlog cat T --were 'a = 1'
	assert_failure 2
	assert_line --index 0 "txlog: cat: unknown option '--were'; did you mean '--where'?"
	run txlog optimise T
	assert_failure 2
	assert_line --index 0 "txlog: unknown verb 'optimise'; did you mean 'optimize'?"
	run txlog cat T --version
	assert_failure 2
	assert_line --index 0 'txlog: cat: --version needs an argument'
}

@test "a verb that reads no FILE refuses an operand" {
	run txlog log T in.ndjson
	assert_failure 2
	assert_line --index 0 "txlog: log: unexpected operand 'in.ndjson'; log reads no FILE"
}

@test "every verb has its own --help" {
	for v in init append overwrite merge delete cat log files schema checkpoint verify vacuum optimize stats; do
		run txlog "$v" --help
		assert_success
		assert_line --index 0 --regexp "^Usage: txlog $v TABLE"
	done
	run txlog vacuum --help
	assert_output --partial '--dry-run'
	refute_output --partial '--zorder-by'
}

@test "each verb still takes its own options" {
	run txlog append T --txn app:1 --level 5 --stats in.ndjson
	assert_success
	run txlog cat T --version 1 --where 'a = 1'
	assert_success
	assert_output '{"a":1}'
	run txlog vacuum T --dry-run
	assert_success
	run txlog optimize T --target-size 1M --zorder-by a
	assert_success
	run txlog verify T --deep
	assert_success
}

@test "a delete or optimize --where that matches nothing says so, exit 0, no commit" {
	txlog append T in.ndjson
	run txlog delete T --where 'a = 5'
	assert_success
	assert_output 'txlog: T: --where matched no row; nothing deleted, no commit'
	run txlog log T
	assert_line --index 0 --partial '{"version":1,'
	txlog init P --infer --partition-by p > /dev/null
	printf '{"a":1,"p":"x"}\n' | txlog append P
	printf '{"a":2,"p":"x"}\n' | txlog append P
	run txlog optimize P --where 'p = "y"'
	assert_success
	assert_output 'txlog: P: --where matched no file; nothing to optimize, no commit'
	run txlog log P
	assert_line --index 0 --partial '{"version":2,'
}

@test "an overwrite that replaces no row and writes no record says so, exit 0, and commits at most its --txn" {
	txlog init P --infer --partition-by p > /dev/null
	printf '{"a":1,"p":"x"}\n' | txlog append P
	# a mistyped partition: it committed an empty version, silently
	run txlog overwrite P --where 'p = "xx"' /dev/null
	assert_success
	assert_output 'txlog: P: the overwrite replaced no row and wrote no record (--where matched none); no commit'
	run sh -c 'txlog log P | head -n 1 | jq .version'
	assert_output 1
	run txlog overwrite P --where 'p = "xx"' --txn app:1 /dev/null
	assert_success
	assert_output 'txlog: P: the overwrite replaced no row and wrote no record; the commit records --txn app:1 only'
	run sh -c 'txlog log P | head -n 1 | jq -c "[.version, .operation]"'
	assert_output '[2,"WRITE"]'
	# one that replaced rows with nothing commits, as before
	run txlog overwrite P --where 'p = "x"' /dev/null
	assert_success
	assert_output ''
	run txlog cat P
	assert_output ''
}

@test "a jq condition made by an assignment is refused, not taken as true: '.a |= 1' matched every row" {
	txlog init W --infer > /dev/null
	printf '%s\n' '{"a":1,"b":2}' '{"a":3,"b":4}' | txlog append W
	refused "txlog: --where: '.a |= 1': '|=' updates a member, and the record it gives is always true (in parentheses it is taken as written)" \
		txlog delete W --where '.a |= 1'
	refused "txlog: --where: '.b > 1 | .a = 1': '=' sets a member, and the record it gives is always true; did you mean '.b > 1 | .a == 1'? (in parentheses the assignment is taken as written)" \
		txlog cat W --where '.b > 1 | .a = 1'
	refused "txlog: --delete-when: '.b += 1': '+=' updates a member, and the record it gives is always true (in parentheses it is taken as written)" \
		sh -c "echo '{\"a\":1,\"b\":5}' | txlog merge W -k .a --delete-when '.b += 1'"
	run txlog cat W
	assert_output $'{"a":1,"b":2}\n{"a":3,"b":4}'
	# == and the rest compare; an assignment whose value is not the answer runs
	run txlog cat W --where '.a == 1 and (.b = 3 | .b) >= 3 and "x=\(.a)" != "" and .b <= 2'
	assert_output '{"a":1,"b":2}'
}

@test "a jq condition that gives several values is refused, not taken as true" {
	txlog init W --infer > /dev/null
	printf '%s\n' '{"a":1,"b":2}' '{"a":3,"b":4}' | txlog append W
	# as one array it was truthy: the delete took both rows
	run txlog delete W --where '.a == 1, .b == 9'
	assert_failure 2
	assert_output "txlog: W: $(txlog files W | jq -r .path):1: --where .a == 1, .b == 9: gave 2 values; a condition gives one (join them with and, or, any or all); nothing committed"
	# cat names the row it met it at
	f=$(txlog files W | jq -r .path)
	for j in 1 2; do
		run txlog cat W -j "$j" --where '.a == 1, .a == 3'
		assert_failure 2
		assert_output "txlog: W: $f:1: --where .a == 1, .a == 3: gave 2 values; a condition gives one (join them with and, or, any or all)"
	done
	run txlog update W --where '.a == 1, true' --set 'b = 7'
	assert_failure 2
	run sh -c "echo '{\"a\":1,\"b\":1}' | txlog merge W -k .a --delete-when '.b == 1, true'"
	assert_failure 2
	assert_output 'txlog: stdin:1: --delete-when .b == 1, true: gave 2 values; a condition gives one (join them with and, or, any or all); nothing committed'
	run sh -c "echo '{\"a\":1,\"b\":5}' | txlog merge W -k .a --when-newer '.b, .a'"
	assert_failure 2
	assert_output 'txlog: stdin:1: --when-newer .b, .a: gave 2 values; it compares one; nothing committed'
	# nothing changed, nothing left behind; one value still works
	run txlog cat W
	assert_output $'{"a":1,"b":2}\n{"a":3,"b":4}'
	[ "$(ls W | wc -l)" = 2 ]
	run txlog delete W --where '.a == 1 or .b == 9'
	assert_success
	run txlog cat W
	assert_output '{"a":3,"b":4}'
}

@test "merge names the record or row a failing --when-newer or --delete-when met" {
	printf '%s\n' '{"a":1,"b":"2"}' '{"a":3,"b":"x"}' | txlog append T
	f=$(txlog files T | jq -r .path)
	bad="Invalid numeric literal at EOF at line 1, column 1"
	run sh -c "printf '%s\n' '{\"a\":1,\"b\":\"1\"}' '{\"a\":3,\"b\":\"1\"}' | txlog merge T -k .a --when-newer '.b | tonumber'"
	assert_failure 2
	assert_output "txlog: $f:2: --when-newer .b | tonumber: $bad (while parsing 'x'); nothing committed"
	run sh -c "printf '%s\n' '{\"a\":1,\"b\":\"1\"}' '{\"a\":3,\"b\":\"y\"}' | txlog merge T -k .a --when-newer '.b | tonumber'"
	assert_failure 2
	assert_output "txlog: stdin:2: --when-newer .b | tonumber: $bad (while parsing 'y'); nothing committed"
	run sh -c "printf '%s\n' '{\"a\":1,\"b\":\"1\"}' '{\"a\":7,\"b\":\"y\"}' | txlog merge T -k .a --delete-when '(.b | tonumber) > 2'"
	assert_failure 2
	assert_output "txlog: stdin:2: --delete-when (.b | tonumber) > 2: $bad (while parsing 'y'); nothing committed"
	run txlog cat T
	assert_output $'{"a":1,"b":"2"}\n{"a":3,"b":"x"}'
}

@test "merge refuses a -k, --when-newer or --delete-when path no column of the table starts" {
	# an --infer table's columns are known from its first write on
	run sh -c ": | txlog merge T -k .a --when-newer .b"
	assert_success
	run sh -c "echo '{\"a\":1,\"b\":2,\"gone\":false}' | txlog merge T -k .a --when-newer .b"
	assert_success
	# a typo read null everywhere: nothing newer, nothing deleted (the
	# records meant to delete upserted), no key
	refused "txlog: --when-newer .bb: T has no column 'bb' (did you mean .b?); nothing committed" \
		sh -c "echo '{\"a\":1,\"b\":3}' | txlog merge T -k .a --when-newer .bb"
	refused "txlog: --delete-when .gon: T has no column 'gon' (did you mean .gone?); nothing committed" \
		sh -c "echo '{\"a\":1,\"gone\":true}' | txlog merge T -k .a --delete-when .gon"
	refused "txlog: -k .zzzz: T has no column 'zzzz' (txlog schema T lists them); nothing committed" \
		txlog merge T -k .zzzz /dev/null
	run txlog cat T
	assert_output '{"a":1,"b":2,"gone":false}'
	# a column the source adds with --merge-schema is one; a jq program
	# is held to the same where it reads the record's members
	run sh -c "echo '{\"a\":1,\"c\":3}' | txlog merge T -k .a --when-newer .c --merge-schema"
	assert_success
	refused "txlog: --when-newer '.c // .zz': T has no column 'zz' (txlog schema T lists them); nothing committed" \
		sh -c "echo '{\"a\":1,\"c\":4}' | txlog merge T -k .a --when-newer '.c // .zz'"
	refused "txlog: --delete-when '.gon == true or .c == 9': T has no column 'gon' (did you mean .gone?); nothing committed" \
		sh -c "echo '{\"a\":1,\"c\":3}' | txlog merge T -k .a --delete-when '.gon == true or .c == 9'"
	refused "txlog: -k '[.a, .cc]': T has no column 'cc' (did you mean .c?); nothing committed" \
		sh -c "echo '{\"a\":1,\"c\":3}' | txlog merge T -k '[.a, .cc]'"
	run sh -c "echo '{\"a\":1,\"c\":4}' | txlog merge T -k .a --when-newer '.c // .b'"
	assert_success
	run txlog cat T
	assert_output '{"b":2,"gone":false,"a":1,"c":4}'
}

@test "merge -k and --when-newer on a double column compare the binary numbers, as a Delta MERGE does" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"k","type":"double","nullable":true,"metadata":{}},{"name":"v","type":"long","nullable":true,"metadata":{}}]}' > s.json
	txlog init D --schema s.json > /dev/null
	echo '{"id":1,"k":0.1000000000000000055511151231257827,"v":1}' | txlog append D
	# 0.1 is that double: the row is matched, not a second one inserted
	echo '{"id":1,"k":0.1,"v":3}' | txlog merge D -k .k
	run txlog cat D
	assert_output '{"id":1,"k":0.1,"v":3}'
	echo '{"id":1,"k":0.1,"v":4}' | txlog merge D -k '[.id, .k]'
	run txlog cat D
	assert_output '{"id":1,"k":0.1,"v":4}'
	# the same double by another spelling is not newer
	run sh -c "echo '{\"id\":1,\"k\":0.1000000000000000055511151231257827,\"v\":2}' | txlog merge D -k .id --when-newer .k"
	assert_success
	assert_output --partial 'txlog: 1 record dropped: not newer than the row in the table by --when-newer .k'
	run txlog cat D
	assert_output '{"id":1,"k":0.1,"v":4}'
	echo '{"id":1,"k":0.2,"v":5}' | txlog merge D -k .id --when-newer .k
	run txlog cat D
	assert_output '{"id":1,"k":0.2,"v":5}'
}

@test "merge with a partial record updates only the columns it gives" {
	txlog init M --infer --partition-by p > /dev/null
	printf '%s\n' '{"id":1,"p":"x","a":1,"b":"keep"}' '{"id":2,"p":"y","a":2,"b":"k2"}' | txlog append M
	printf '%s\n' '{"id":1,"a":10}' '{"id":3,"p":"z","a":3}' '{"id":2,"b":null}' | txlog merge M -k .id
	run sh -c 'txlog cat M | jq -Sc . | sort'
	assert_success
	assert_output - <<'J'
{"a":10,"b":"keep","id":1,"p":"x"}
{"a":2,"b":null,"id":2,"p":"y"}
{"a":3,"id":3,"p":"z"}
J
	run sh -c 'ls M | sort'
	assert_output - <<'J'
_delta_log
p=x
p=y
p=z
J
}

@test "cat, delete and merge check a data file's size and checksum: a damaged one is exit 2 naming it" {
	printf '{"a":%d,"pad":"xxxxxxxxxxxxxxxx"}\n' $(seq 1 200) | txlog append T
	f=$(cd T && ls *.zst)
	run txlog cat T
	assert_success
	printf 'X' | dd of="T/$f" bs=1 seek=60 conv=notrunc 2>/dev/null
	for cmd in "cat T" "delete T --where a=1" "merge T -k .a in.ndjson"; do
		run txlog $cmd
		assert_failure 2
		assert_output "txlog: T: $f: damaged data file (its checksum differs from the log's); run txlog verify"
	done
	printf 'X' >> "T/$f"
	run txlog cat T
	assert_failure 2
	assert_output "txlog: T: $f: damaged data file (its size differs from the log's); run txlog verify"
}

# Every source record of a merge updates, inserts or deletes a row, or a
# line on stderr says why it did not (issue 15: nothing dropped silently).
@test "merge --when-newer counts the records it skips as not newer" {
	printf '%s\n' '{"id":1,"v":5}' '{"id":2,"v":5}' | txlog merge T -k .id
	run sh -c "printf '%s\n' '{\"id\":1,\"v\":4}' '{\"id\":2,\"v\":6}' '{\"id\":3,\"v\":1}' | txlog merge T -k .id --when-newer .v"
	assert_success
	assert_output 'txlog: 1 record dropped: not newer than the row in the table by --when-newer .v (merge without --when-newer keeps them)'
	run sh -c 'txlog cat T | jq -c "select(.id)" | sort'
	assert_output $'{"id":1,"v":5}\n{"id":2,"v":6}\n{"id":3,"v":1}'
	run sh -c "echo '{\"id\":1,\"v\":5}' | txlog merge T -k .id --when-newer .v"
	assert_success
	assert_output - <<'J'
txlog: 1 record dropped: not newer than the row in the table by --when-newer .v (merge without --when-newer keeps them)
txlog: T: the merge changed no row; no commit
J
	# --stats counts them as late, the rows written as out
	run sh -c "printf '%s\n' '{\"id\":1,\"v\":4}' '{\"id\":2,\"v\":7}' '{\"id\":4,\"v\":1}' | txlog merge T -k .id --when-newer .v --stats 2>&1 >/dev/null | tail -n 1 | jq -c '[.records_in, .records_out, .late]'"
	assert_output '[3,2,1]'
}

@test "merge --when-newer compares in idem's key order: a time before every other string, as txlog(1) says" {
	printf '%s\n' '{"id":1,"ts":"2024-01-01T00:00:00Z"}' '{"id":2,"ts":"9"}' '{"id":3,"ts":"2024-01-01T00:00:00Z"}' | txlog append T
	run sh -c "printf '%s\n' '{\"id\":1,\"ts\":\"10:00\"}' '{\"id\":2,\"ts\":\"2024-01-01T00:00:00Z\"}' '{\"id\":3,\"ts\":\"2024-01-01T02:00:00.5+02:00\"}' | txlog merge T -k .id --when-newer .ts"
	assert_success
	assert_output 'txlog: 1 record dropped: not newer than the row in the table by --when-newer .ts (merge without --when-newer keeps them)'
	run sh -c 'txlog cat T | sort'
	assert_output $'{"id":1,"ts":"10:00"}\n{"id":2,"ts":"9"}\n{"id":3,"ts":"2024-01-01T02:00:00.5+02:00"}'
}

@test "merge --when-newer keeps a row newer than its source record's delete, and counts the stale delete" {
	printf '%s\n' '{"id":1,"ts":5,"del":false}' '{"id":2,"ts":5,"del":false}' | txlog append T
	# id 1's delete (ts 3) is older than the row: applied, it lost the
	# row's newer state without a word
	run sh -c "printf '%s\n' '{\"id\":1,\"ts\":3,\"del\":true}' '{\"id\":2,\"ts\":7,\"del\":true}' | txlog merge T -k .id --when-newer .ts --delete-when .del"
	assert_success
	assert_output 'txlog: 1 record dropped: not newer than the row in the table by --when-newer .ts (merge without --when-newer keeps them)'
	run txlog cat T
	assert_output '{"id":1,"ts":5,"del":false}'
	run sh -c "txlog changes T --from 2 | jq -c '[._change_type, .id]'"
	assert_output '["delete",2]'
}

@test "merge counts a row its not-newer source record left as it was among the copied rows" {
	printf '%s\n' '{"id":1,"v":5}' '{"id":2,"v":5}' '{"id":3,"v":5}' | txlog append T
	printf '%s\n' '{"id":1,"v":4}' '{"id":2,"v":6}' | txlog merge T -k .id --when-newer .v 2>/dev/null
	# the file of 3 rows was rewritten: 1 updated, 2 copied
	run sh -c "txlog log T | head -n 1 | jq -c '.operationMetrics | [.numTargetRowsUpdated, .numTargetRowsCopied]'"
	assert_output '["1","2"]'
}

@test "merge says when a source matches no row, deletes nothing, or is empty" {
	txlog append T in.ndjson
	run sh -c "echo '{\"a\":2}' | txlog merge T -k .a --delete-when true"
	assert_success
	assert_output - <<'J'
txlog: T: 1 record matched no row to delete (--delete-when true); nothing inserted for it
txlog: T: the merge changed no row; no commit
J
	run sh -c "echo '{\"a\":7}' | txlog merge T -k .a"
	assert_success
	assert_output "txlog: T: -k .a matched none of the table's 1 row; every source record was inserted"
	run txlog merge T -k .a /dev/null
	assert_success
	assert_output 'txlog: T: the merge source is empty; nothing merged'
	run sh -c 'txlog cat T | jq -c . | sort'
	assert_output $'{"a":1}\n{"a":7}'
}

@test "merge --when-newer counts a source record once, whatever rows its key has" {
	printf '%s\n' '{"id":1,"v":5}' '{"id":1,"v":7}' | txlog append T
	run sh -c "echo '{\"id\":1,\"v\":6}' | txlog merge T -k .id --when-newer .v"
	assert_success
	assert_output ''
	run sh -c "echo '{\"id\":1,\"v\":1}' | txlog merge T -k .id --when-newer .v"
	assert_output - <<'J'
txlog: 1 record dropped: not newer than the row in the table by --when-newer .v (merge without --when-newer keeps them)
txlog: T: the merge changed no row; no commit
J
	run sh -c 'txlog cat T | jq -c . | sort'
	assert_output $'{"id":1,"v":6}\n{"id":1,"v":7}'
}

@test "a number option past its range is refused, not wrapped: --txn 2^63 was a replay, --level 2^32+3 level 3" {
	run txlog append T --txn app:9223372036854775808 in.ndjson
	assert_failure 2
	assert_line -n 0 'txlog: --txn app:9223372036854775808: VERSION is at most 9223372036854775807 (a Delta txn version is a signed 64-bit Long)'
	run txlog append T --level 4294967299 in.ndjson
	assert_failure 2
	assert_line -n 0 'txlog: --level must be 1 to 19'
	run txlog append T --checkpoint-interval 18446744073709551615 in.ndjson
	assert_failure 2
	assert_line -n 0 'txlog: --checkpoint-interval 18446744073709551615: at most 9223372036854775807'
	run ls T/_delta_log
	assert_output '00000000000000000000.json'
	txlog append T --txn app:9223372036854775807 in.ndjson
	run grep -o '"txn":{"appId":"app","version":[0-9]*' T/_delta_log/00000000000000000001.json
	assert_output '"txn":{"appId":"app","version":9223372036854775807'
	run txlog append T --txn app:9223372036854775807 in.ndjson
	assert_output 'txlog: T: txn app:9223372036854775807 already committed (recorded version 9223372036854775807); nothing written'
}

@test "a delete or merge with --txn that changes no row records the txn: its replay deletes no row written since" {
	txlog append T in.ndjson
	run txlog delete T --where 'a = 9' --txn app:5
	assert_success
	assert_output 'txlog: T: --where matched no row; nothing deleted, the commit records --txn app:5 only'
	run sh -c "echo '{\"a\":2}' | txlog merge T -k .a --delete-when true --txn m:1"
	assert_line -n 1 'txlog: T: the merge changed no row; the commit records --txn m:1 only'
	printf '%s\n' '{"a":9}' '{"a":2}' | txlog append T
	run txlog delete T --where 'a = 9' --txn app:5
	assert_output 'txlog: T: txn app:5 already committed (recorded version 5); nothing written'
	run sh -c "echo '{\"a\":2}' | txlog merge T -k .a --delete-when true --txn m:1"
	assert_output 'txlog: T: txn m:1 already committed (recorded version 1); nothing written'
	run sh -c 'txlog cat T | jq -c .a'
	assert_output $'1\n9\n2'
}

@test "a merge source record refused for its partition value is named by file:line, and a second key by where the first was" {
	txlog init P --partition-by k
	echo '{"id":1,"k":"a"}' | txlog append P
	printf '%s\n' '{"id":7,"k":"c"}' '{"id":1,"k":""}' > upd.ndjson
	printf '%s\n' '{"id":9,"k":"e"}' > first.ndjson
	printf '%s\n' '{"id":8,"k":"b"}' '{"id":2,"k":""}' > ins.ndjson
	refused 'txlog: upd.ndjson:2: partition column k: an empty string is a null partition value in Delta; write null or a non-empty string; nothing committed' txlog merge P -k .id upd.ndjson
	refused 'txlog: ins.ndjson:2: partition column k: an empty string is a null partition value in Delta; write null or a non-empty string; nothing committed' txlog merge P -k .id first.ndjson ins.ndjson -j 1
	printf '%s\n' '{"id":2,"k":"d"}' > again.ndjson
	refused 'txlog: again.ndjson:1: the source has a second record for merge key .id (first at ins.ndjson:2); a merge source must have one record per key; nothing committed' txlog merge P -k .id ins.ndjson again.ndjson -j 1
	run sh -c 'ls P/_delta_log | wc -l'
	assert_output 2
}

@test "a delete --txn replay reads no stdin: a shell loop's lines are left to the loop" {
	txlog append T in.ndjson
	txlog delete T --where 'a = 1' --txn app:1
	printf '%s\n' l1 l2 l3 > lines
	run sh -c 'while read l; do echo "$l"; txlog delete T --where "a = 1" --txn app:1 2>/dev/null; done < lines'
	assert_output $'l1\nl2\nl3'
}

@test "--stats gives its line, version null, when a write commits nothing: a --txn replay, a merge that changed nothing, a restore to the newest" {
	txlog append T in.ndjson --txn app:1
	stats_version() { "$@" 2>&1 >/dev/null | grep '^{' | jq -c .version; }
	run stats_version txlog append T in.ndjson --txn app:1 --stats
	assert_output null
	run stats_version txlog delete T --where 'a = 1' --txn app:1 --stats
	assert_output null
	run stats_version txlog merge T -k .a /dev/null --stats
	assert_output null
	run stats_version txlog restore T --version 1 --stats
	assert_output null
}

@test "--checkpoint-interval past 2^31-1 is refused: Delta's delta.checkpointInterval is an Int, which Spark reads with toInt" {
	# init stored "2147483648", a table property Spark cannot read
	run txlog init U --checkpoint-interval 2147483648
	assert_failure 2
	assert_line -n 0 "txlog: --checkpoint-interval 2147483648: at most 2147483647 (Delta's delta.checkpointInterval is an Int)"
	[ ! -e U ]
	txlog init U --checkpoint-interval 2147483647
	run sh -c "jq -r '.metaData.configuration[\"delta.checkpointInterval\"] // empty' U/_delta_log/00000000000000000000.json"
	assert_output 2147483647
}

@test "a write's --checkpoint-interval defaults to the table's interval, as its --help says" {
	rm -rf T
	txlog init T --infer --checkpoint-interval 3
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append T; done
	run ls T/_delta_log
	assert_line --regexp '^00000000000000000003\.checkpoint\..*\.json$'
	for v in append overwrite merge delete update optimize restore; do
		run txlog "$v" --help
		assert_success
		assert_output --partial "--checkpoint-interval N  checkpoint every N commits (default: the
                            table's delta.checkpointInterval, else 10)"
	done
}

@test "--level takes 1 to 19, as its --help and txlog(1) say" {
	for l in 0 20; do
		run txlog append T --level "$l" in.ndjson
		assert_failure 2
		assert_line -n 0 'txlog: --level must be 1 to 19'
	done
	run txlog append T --level 19 in.ndjson
	assert_success
	run txlog append --help
	assert_line '      --level N             zstd level of data files, 1 to 19 (default 3)'
	grep -q 'zstd level of new data files, 1 to 19 (default 3)' \
		"$BATS_TEST_DIRNAME/../man/txlog.1"
}

@test "restore takes --checkpoint-interval, as every verb that commits does" {
	rm -rf T
	txlog init T --infer
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append T; done
	txlog restore T --version 1 --checkpoint-interval 4
	run ls T/_delta_log
	assert_line --regexp '^00000000000000000004\.checkpoint\..*\.json$'
	run txlog cat T
	assert_output '{"id":1}'
}

@test "another tool's word for a verb is answered with the verb: history is log, upsert is merge" {
	refused "txlog: unknown verb 'history'; did you mean 'log'?" txlog history T
	refused "txlog: unknown verb 'upsert'; did you mean 'merge'?" txlog upsert T
	refused "txlog: unknown verb 'compact'; did you mean 'optimize'?" txlog compact T
	# only where the tool has the verb
	refused "dlq: unknown verb 'history' (check, stats, replay, retry, purge)" dlq history q
}

@test "merge: a record updating a row may leave out a non-nullable column; one inserting a row, or giving null, is refused" {
	rm -rf M
	cat > ms.json <<'EOF2'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"v","type":"long","nullable":false,"metadata":{}},{"name":"w","type":"long","nullable":true,"metadata":{}}]}
EOF2
	txlog init M --schema ms.json
	echo '{"id":1,"v":10,"w":1}' | txlog append M
	echo '{"id":1,"w":5}' | txlog merge M -k .id
	run txlog cat M
	assert_output '{"v":10,"id":1,"w":5}'
	refused 'txlog: stdin:2: column .v: required member missing (a record that inserts a row gives every non-nullable column); nothing committed' \
		sh -c "printf '%s\n' '{\"id\":1,\"w\":6}' '{\"id\":2,\"w\":5}' | txlog merge M -k .id"
	refused 'txlog: stdin:1: column .v: null in a non-nullable column; nothing committed' \
		sh -c "echo '{\"id\":1,\"v\":null}' | txlog merge M -k .id"
	run txlog cat M
	assert_output '{"v":10,"id":1,"w":5}'
	# the schema's flags are the table's still
	run txlog schema M
	assert_output "$(tr -d '\n' < ms.json)"
}
