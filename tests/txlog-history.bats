#!/usr/bin/env bats
# txlog log: DESCRIBE HISTORY -- a table for a person on a terminal,
# NDJSON when piped.

load helpers

mk() {
	txlog init t --partition-by p
	printf '{"id":1,"p":"x"}\n{"id":2,"p":"y"}\n{"id":3,"p":"x"}\n' | txlog append t --txn loader:7
	txlog delete t --where 'id = 1'
	# fixed commit times, so the table can be asserted whole
	for v in 0 1 2; do
		touch -d "2024-05-01 08:0$v:00.250 UTC" t/_delta_log/0000000000000000000$v.json
	done
}

@test "log --format table shows each commit's time, operation, rows and files, txn and parameters" {
	mk
	run env TZ=UTC txlog log t --format table
	assert_success
	assert_output - <<'J'
VERSION  TIME                           OPERATION     ROWS   FILES  TXN       PARAMETERS
2        2024-05-01 08:02:00.250 +0000  DELETE        +1 -2  +1 -1  -         predicate="id = 1"
1        2024-05-01 08:01:00.250 +0000  WRITE         +3 -0  +2 -0  loader:7  mode="Append"
0        2024-05-01 08:00:00.250 +0000  CREATE TABLE  +0 -0  +0 -0  -         partitionBy="[\"p\"]"
J
}

@test "log shows local time with its offset, or UTC with --utc" {
	mk
	run env TZ=Asia/Tokyo txlog log t --format table
	assert_line -n 1 --partial '2        2024-05-01 17:02:00.250 +0900  DELETE'
	run env TZ=Asia/Tokyo txlog log t --format table --utc
	assert_line -n 1 --partial '2        2024-05-01 08:02:00.250 +0000  DELETE'
	# a TZ that names no zone would be UTC without a word: refused,
	# and --utc still says UTC
	run env TZ=Asia/Tokio txlog log t --format table
	assert_failure 2
	assert_line -n 0 --partial "txlog: log: the table shows local times: TZ='Asia/Tokio' is no time zone"
	assert_line -n 0 --partial '(--utc shows UTC)'
	run env TZ=Asia/Tokio txlog log t --format table --utc
	assert_success
	assert_line -n 1 --partial '2        2024-05-01 08:02:00.250 +0000  DELETE'
}

@test "log is a table on a terminal and NDJSON when piped" {
	mk
	run script -qec "env TZ=UTC $IDEM_BIN/txlog log t" /dev/null
	assert_success
	assert_line -n 0 --partial 'VERSION  TIME'
	run sh -c "txlog log t | jq -c '[.version, .operation]'"
	assert_output - <<'J'
[2,"DELETE"]
[1,"WRITE"]
[0,"CREATE TABLE"]
J
	run sh -c "script -qec '$IDEM_BIN/txlog log t --format ndjson' /dev/null | head -n 1 | tr -d '\r' | jq -c .version"
	assert_output 2
}

@test "log after the oldest commits were cleaned up counts rows from the checkpoint, else says ?" {
	mk
	txlog checkpoint t
	txlog delete t --where 'id = 3'
	touch -d "2024-05-01 08:03:00.250 UTC" t/_delta_log/00000000000000000003.json
	rm t/_delta_log/00000000000000000002.json
	run env TZ=UTC txlog log t --format table
	assert_output - <<'J'
VERSION  TIME                           OPERATION  ROWS   FILES  TXN  PARAMETERS
3        2024-05-01 08:03:00.250 +0000  DELETE     +0 -1  +0 -1  -    predicate="id = 3"
J
	rm -rf t
	mk
	# commits of 2024: the checkpoint's log cleanup deletes those below it
	run txlog checkpoint t
	assert_success
	assert_output 'txlog: t: log cleanup: deleted the 2 log files below version 2, older than the log retention (30d); its checkpoint stands in for them'
	run sh -c 'ls t/_delta_log | grep -c "^0*[01]\."'
	assert_output 0
	run env TZ=UTC txlog log t --format table
	assert_line -n 1 '2        2024-05-01 08:02:00.250 +0000  DELETE     +1 -?  +1 -1  -    predicate="id = 1"'
	# a file of version 1 still live at the checkpoint is known from it
	txlog delete t --where 'id = 2'
	run sh -c 'TZ=UTC txlog log t --format table | cut -c 1-9,52-'
	assert_output - <<'J'
VERSION  ROWS   FILES  TXN  PARAMETERS
3        +0 -1  +0 -1  -    predicate="id = 2"
2        +1 -?  +1 -1  -    predicate="id = 1"
J
}

@test "log refuses a bad --format and options of other verbs" {
	mk
	run txlog log t --format csv
	assert_failure 2
	assert_line -n 0 "txlog: --format 'csv': give table or ndjson"
	run txlog log t --version 1
	assert_failure 2
	assert_line -n 0 "txlog: log: --version does not apply to log (it is cat's, files's, stats's and restore's)"
	for fmt in '--format ndjson' ''; do
		refused "txlog: log: --utc applies to the table (--format table, or a terminal); NDJSON gives each commit's times in milliseconds since the epoch" \
			txlog log t --utc $fmt
	done
}

@test "a commit before 1970 has a time: log, --as-of, changes and restore read it, not a commit gone" {
	mk
	for v in 0 1 2; do
		touch -d "1969-12-31 23:0$v:00.250 UTC" t/_delta_log/0000000000000000000$v.json
	done
	run env TZ=UTC txlog log t --format table
	assert_line -n 2 --partial '1        1969-12-31 23:01:00.250 +0000  WRITE'
	run sh -c "txlog cat t --as-of '1969-12-31T23:01:30Z' | jq -c .id | paste -sd, -"
	assert_output '1,3,2'
	run sh -c "txlog changes t --from 2 | jq -c '[.id, ._change_type, ._commit_timestamp]'"
	assert_output '[1,"delete","1969-12-31T23:02:00.250Z"]'
	run txlog restore t --as-of '1969-12-31T23:01:30Z' --dry-run
	assert_success
}
