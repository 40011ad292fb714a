#!/usr/bin/env bats
# txlog restore: Delta's RESTORE -- one commit back to the files of an
# older version, refused when a file it needs is gone.

load helpers

mk() { # t: v1 two rows, v2 deletes id 1, v3 appends id 3
	txlog init t --infer --partition-by p
	printf '{"id":1,"p":"x"}\n{"id":2,"p":"y"}\n' | txlog append t
	txlog delete t --where 'id = 1'
	printf '{"id":3,"p":"x"}\n' | txlog append t
}

nver() { ls t/_delta_log | grep -c '^[0-9]*\.json$'; }

@test "restore --version makes the rows of that version current in one RESTORE commit" {
	mk
	run txlog restore t --version 1
	assert_success
	assert_output ''
	run sh -c 'txlog cat t | sort'
	assert_output - <<'EOF2'
{"id":1,"p":"x"}
{"id":2,"p":"y"}
EOF2
	run sh -c "jq -c 'select(.commitInfo) | .commitInfo | [.operation, .operationParameters, .operationMetrics, .readVersion]' t/_delta_log/00000000000000000004.json"
	assert_output '["RESTORE",{"version":"1","timestamp":null},{"numRestoredFiles":"1","restoredFilesSize":"26","numRemovedFiles":"1","removedFilesSize":"26","numOfFilesAfterRestore":"2","tableSizeAfterRestore":"52"},3]'
	run txlog verify t
	assert_success
}

@test "restore adds files back in the order that version committed them" {
	# eight files, each of one row; their names are random, their order
	# is the commits'
	txlog init t --infer
	for i in 0 1 2 3 4 5 6 7; do
		echo "{\"i\":$i}" | txlog append t
	done
	txlog delete t --where 'i >= 0'
	run txlog cat t
	assert_output ''
	txlog restore t --version 8
	run sh -c "txlog cat t | jq -c .i | paste -sd' '"
	assert_output '0 1 2 3 4 5 6 7'
	# and removes them in that order too: changes reads the commit's
	txlog restore t --version 0
	run sh -c "txlog changes t --from 11 | jq -c .i | paste -sd' '"
	assert_output '0 1 2 3 4 5 6 7'
}

@test "restore writes dataChange true on the removes and on re-adds of files optimize wrote with false" {
	mk
	printf '{"id":4,"p":"y"}\n' | txlog append t
	txlog optimize t
	txlog delete t --where 'p = "y"'
	txlog restore t --version 5
	run sh -c "jq -c 'to_entries[0] | select(.key == \"add\" or .key == \"remove\") | [.key, .value.dataChange]' t/_delta_log/00000000000000000005.json t/_delta_log/00000000000000000007.json"
	assert_output '["remove",false]
["remove",false]
["add",false]
["add",true]'
	run sh -c 'txlog cat t | sort'
	assert_output - <<'EOF2'
{"id":2,"p":"y"}
{"id":3,"p":"x"}
{"id":4,"p":"y"}
EOF2
}

@test "restore --as-of takes a plain date and a time with a zone" {
	mk
	run txlog restore t --as-of 2000-01-01
	assert_failure 2
	assert_output "txlog: t: no version was committed at or before 2000-01-01"
	run txlog restore t --as-of "$(date -u -d '+1 day' +%Y-%m-%d)"
	assert_failure 2
	assert_output --partial "txlog: --as-of '$(date -u -d '+1 day' +%Y-%m-%d)': in the future (now is "
	run txlog restore t --as-of "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
	assert_success
	assert_output 'txlog: t: version 3 has the files of the newest (3); nothing to restore, no commit'
	touch -d '2001-01-01 00:00:00 UTC' t/_delta_log/00000000000000000000.json t/_delta_log/00000000000000000001.json
	run txlog restore t --as-of '2001-01-01T01:00:01+01:00'
	assert_success
	run sh -c "jq -c 'select(.commitInfo) | .commitInfo.operationParameters' t/_delta_log/00000000000000000004.json"
	assert_output '{"version":null,"timestamp":"2001-01-01T01:00:01+01:00"}'
	run sh -c 'txlog cat t | sort'
	assert_output - <<'EOF2'
{"id":1,"p":"x"}
{"id":2,"p":"y"}
EOF2
}

@test "restore refuses, naming the file, when a file it needs was vacuumed" {
	mk
	f=$(jq -r 'select(.remove) | .remove.path' t/_delta_log/00000000000000000002.json)
	rm "t/$f"
	run txlog restore t --version 1
	assert_failure 2
	assert_output "txlog: t: version 1 needs 1 file that cannot be read back: $f (gone (vacuumed?)); nothing restored"
	run nver
	assert_output 4
}

@test "restore refuses a file whose bytes differ from its add" {
	mk
	f=$(jq -r 'select(.remove) | .remove.path' t/_delta_log/00000000000000000002.json)
	chmod u+w "t/$f"
	printf '9' | dd of="t/$f" bs=1 seek=15 conv=notrunc 2>/dev/null
	run txlog restore t --version 1
	assert_failure 2
	assert_output "txlog: t: version 1 needs 1 file that cannot be read back: $f (damaged (its checksum differs from its add)); nothing restored"
}

@test "restore --dry-run prints the plan and commits nothing" {
	mk
	rm_path=$(jq -r 'select(.add) | .add.path' t/_delta_log/00000000000000000003.json)
	add_path=$(jq -r 'select(.remove) | .remove.path' t/_delta_log/00000000000000000002.json)
	run txlog restore t --version 1 --dry-run
	assert_success
	assert_output - <<EOF2
{"action":"remove","path":"$rm_path","size":26}
{"action":"add","path":"$add_path","size":26}
txlog: t: restore to version 1 would remove 1 file (26 bytes) and add back 1 (26 bytes); dry run, nothing committed
EOF2
	run nver
	assert_output 4
}

@test "restore brings back the schema of the version" {
	mk
	printf '{"id":5,"p":"y","extra":true}\n' | txlog append t --merge-schema
	txlog restore t --version 3
	run sh -c "txlog schema t | jq -c '[.fields[].name]'"
	assert_output '["id","p"]'
	run sh -c 'txlog cat t | sort'
	assert_output - <<'EOF2'
{"id":2,"p":"y"}
{"id":3,"p":"x"}
EOF2
}

@test "restore sets the --txn versions back to the version's, so a batch it removed is written again when replayed" {
	txlog init t
	echo '{"a":1}' | txlog append t --txn loader:41
	echo '{"a":2}' | txlog append t --txn loader:42
	echo '{"a":3}' | txlog append t --txn other:7
	run txlog restore t --version 1 --dry-run
	assert_success
	assert_line '{"action":"txn","appId":"loader","version":41}'
	assert_line '{"action":"txn","appId":"other","version":-1}'
	assert_line "txlog: t: restore to version 1 would remove 2 files (34 bytes) and add back 0 (0 bytes), and set 2 --txn apps back; dry run, nothing committed"
	txlog restore t --version 1
	echo '{"a":2}' | txlog append t --txn loader:42
	echo '{"a":3}' | txlog append t --txn other:7
	run txlog append t --txn loader:41 < /dev/null
	assert_output 'txlog: t: txn loader:41 already committed (recorded version 42); nothing written'
	run sh -c 'txlog cat t | jq -c .a | tr "\n" " "'
	assert_output '1 2 3 '
}

@test "restore refuses bad requests" {
	mk
	run txlog restore t
	assert_failure 2
	assert_line -n 0 'txlog: restore needs --version N or --as-of TIME'
	run txlog restore t --version 9
	assert_failure 2
	assert_output 'txlog: t: version 9 does not exist (the newest is 3); nothing restored'
	run txlog restore t --version 1 --as-of 2024-01-01
	assert_failure 2
	assert_line -n 0 'txlog: --version and --as-of exclude each other'
	run txlog restore t --version 1 --where 'id = 1'
	assert_failure 2
	assert_line -n 0 "txlog: restore: --where does not apply to restore (it is overwrite's, delete's, cat's, optimize's and update's)"
	run txlog restore t --as-of yesterday
	assert_failure 2
	assert_line -n 0 --partial "txlog: --as-of 'yesterday': "
	run txlog restore nosuch --version 0
	assert_failure 2
	assert_output 'txlog: nosuch: not a table (no _delta_log); create it with txlog init'
	run nver
	assert_output 4
}

@test "a restore stopped at each step of its commit leaves the old or the restored table" {
	for point in commit.written commit.linked commit.renamed; do
		rm -rf t
		mk
		IDEM_FAULT="$point:1" txlog restore t --version 1 || true
		run txlog verify t
		assert_success
		txlog restore t --version 1 2>/dev/null
		run sh -c 'txlog cat t | sort'
		assert_output - <<'EOF2'
{"id":1,"p":"x"}
{"id":2,"p":"y"}
EOF2
	done
}

@test "a restore whose file added back is deleted under it (a vacuum that loaded the log before its commit) says so and exits 2, not 0" {
	txlog init t --infer
	echo '{"id":1}' | txlog append t
	echo '{"id":2}' | txlog append t
	f2=$(txlog files t --version 2 | jq -r 'select(.stats | fromjson | .minValues.id == 2) | .path')
	txlog delete t --where 'id = 2'
	# stopped at its --stats line, after the commit, while the file goes
	run stopped_at_message txlog restore t --version 2 --stats -- "rm t/$f2"
	assert_failure 2
	assert_line -n 1 "txlog: t: $f2, added back by version 4, was deleted meanwhile (a vacuum that ran during the restore)"
	assert_line -n 2 "txlog: t: version 4 is not version 2: 1 file it added back is gone; reads of it refuse (txlog verify names them)"
}
