#!/usr/bin/env bats
# txlog against Delta's PROTOCOL.md, both ways: logs written by hand from
# the protocol's text, each test with the sentence it checks.  What txlog
# cannot honour it must refuse, with one message naming the reason.

load helpers
bats_require_minimum_version 1.5.0

SCHEMA='{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}}]}'
SS='"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}"'

# A txlog table t: version 0 (init) and 1 (one record), made once per
# file and copied into each test that starts from it.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	echo "$SCHEMA" > s.json
	txlog init t --schema s.json
	echo '{"id":1}' | txlog append t
}

mk() {
	echo "$SCHEMA" > s.json
	cp -R "$BATS_FILE_TMPDIR/t" t
}

# hand LOGDIR VERSION LINE...: one commit file written by hand.
hand() {
	local d=$1 v=$2
	shift 2
	mkdir -p "$d/_delta_log"
	printf '%s\n' "$@" > "$d/_delta_log/$(printf %020d "$v").json"
}

meta() { # CONFIG-MEMBERS [SCHEMASTRING]
	printf '{"metaData":{"id":"x","format":{"provider":"json","options":{}},"schemaString":%s,"partitionColumns":[],"configuration":{%s}}}' "${2:-$SS}" "$1"
}

proto() { # READER WRITER [FEATURES-MEMBERS]
	printf '{"protocol":{"minReaderVersion":%s,"minWriterVersion":%s%s}}' "$1" "$2" "${3:-}"
}

# ---- reading: honour it or refuse it ----

# "A given snapshot of a Delta table consists of: A single protocol
# action; A single metaData action" (Action Reconciliation)
@test "a log without a protocol action is refused by every verb" {
	hand h 0 "$(meta '')"
	for verb in files cat log schema stats verify; do
		run txlog $verb h
		assert_failure 2
		assert_output 'txlog: h: the log up to version 0 has no protocol action; not a Delta table txlog can read'
	done
	run txlog cat h --version 0
	assert_failure 2
}

# "The first version of a table must contain a metaData action."
@test "a log without a metaData action is refused, for reads and writes" {
	hand h 0 "$(proto 1 2)"
	run txlog files h
	assert_failure 2
	assert_output 'txlog: h: the log up to version 0 has no metaData action; not a Delta table txlog can read'
	run txlog append h <<< '{"id":1}'
	assert_failure 2
	assert_output 'txlog: h: the log up to version 0 has no metaData action; not a Delta table txlog can read'
	[ ! -e h/_delta_log/00000000000000000001.json ]
}

# "minReaderVersion: The minimum version of the Delta read protocol that
# a client must implement in order to correctly read this table"
@test "reader version 99 is refused by files as by cat" {
	hand h 0 "$(proto 99 7 ',"readerFeatures":[],"writerFeatures":[]')" "$(meta '')"
	for verb in files cat log schema verify; do
		run txlog $verb h
		assert_failure 2
		assert_output 'txlog: h: reader version 99 is not supported (txlog reads protocol reader versions 1 to 3); refusing'
	done
}

# "to read a table, readers must implement and respect all features
# listed in readerFeatures"
@test "an unknown reader feature is refused by files" {
	hand h 0 "$(proto 3 7 ',"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]')" "$(meta '')"
	run txlog files h
	assert_failure 2
	assert_output "txlog: h: table feature 'deletionVectors' is not supported for reading"
}

# readerFeatures and writerFeatures are arrays of feature names: a list
# read only up to its first non-name would leave the features after it
# unseen, a rowTracking table written as if it had none
@test "a features list with anything but names in it is refused, not read up to it" {
	hand h 0 "$(proto 1 7 ',"writerFeatures":[null,"rowTracking"]')" "$(meta '')"
	run txlog append h <<< '{"id":1}'
	assert_failure 2
	assert_output "txlog: h: the protocol's writerFeatures is not an array of feature names; refusing"
	[ ! -e h/_delta_log/00000000000000000001.json ]
	hand h 0 "$(proto 3 7 ',"readerFeatures":[1,"deletionVectors"],"writerFeatures":["deletionVectors"]')" "$(meta '')"
	run txlog files h
	assert_failure 2
	assert_output "txlog: h: the protocol's readerFeatures is not an array of feature names; refusing"
}

# Deletion Vectors: a table that uses them is one txlog cannot read,
# not a damaged one: verify says so as the other verbs do (exit 2); a
# deletion vector where the protocol does not declare them is damage
@test "deletion vectors in use are refused by verify as by files, exit 2, not reported as damage" {
	dv='{"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":36,"cardinality":2}}}'
	hand h 0 "$(proto 3 7 ',"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]')" "$(meta '')"
	hand h 1 "$dv"
	for verb in files verify; do
		run txlog $verb h
		assert_failure 2
		assert_output 'txlog: h: version 1: deletion vectors are not supported'
	done
	# made with its first rows: the protocol in the same commit
	hand h 0 "$(proto 3 7 ',"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]')" "$(meta '')" "$dv"
	rm h/_delta_log/00000000000000000001.json
	run txlog verify h
	assert_failure 2
	assert_output 'txlog: h: version 0: deletion vectors are not supported'
	hand h 0 "$(proto 1 2)" "$(meta '')" "$dv"
	run txlog verify h
	assert_failure 1
	assert_output 'txlog: h: version 0: deletion vectors are not supported'
}

# V2 Checkpoints: "sidecar" actions name Parquet files of the
# checkpoint's adds, which txlog does not read: refused, not damage
@test "a V2 checkpoint with sidecars is refused by verify as by files, exit 2" {
	mk
	{
		echo '{"checkpointMetadata":{"version":1}}'
		grep -h '"protocol"' t/_delta_log/00000000000000000000.json
		grep -h '"metaData"' t/_delta_log/00000000000000000000.json
		echo '{"sidecar":{"path":"x.parquet","sizeInBytes":1,"modificationTime":0}}'
	} > t/_delta_log/00000000000000000001.checkpoint.0000-abc.json
	echo '{"version":1,"size":4,"v2Checkpoint":{"path":"00000000000000000001.checkpoint.0000-abc.json","sizeInBytes":1,"modificationTime":0}}' > t/_delta_log/_last_checkpoint
	for verb in files verify; do
		run txlog $verb t
		assert_failure 2
		assert_output 'txlog: t: version 1: checkpoint sidecar files are not supported'
	done
}

# "When the table's Reader Version is 3, readerFeatures must exist in
# the protocol action"
@test "reader version 3 without readerFeatures is refused" {
	hand h 0 "$(proto 3 7 ',"writerFeatures":[]')" "$(meta '')"
	run txlog files h
	assert_failure 2
	assert_output 'txlog: h: protocol (reader 3, writer 7) is not a valid table-features protocol: the features list is missing; refusing'
}

# "It is not allowed to list a feature only in readerFeatures but not in
# writerFeatures"; "when a new table is created with a Reader Version up
# to 2 and Writer Version 7, its protocol action must only contain
# writerFeatures" (Table Features).  Both were read and written to.
@test "a reader feature missing from writerFeatures, or readerFeatures below reader version 3, is refused" {
	hand h 0 "$(proto 3 7 ',"readerFeatures":["v2Checkpoint"],"writerFeatures":[]')" "$(meta '')"
	refused "txlog: h: protocol (reader 3, writer 7) is not a valid table-features protocol: reader feature 'v2Checkpoint' is not in writerFeatures; refusing" \
		txlog files h
	run sh -c 'echo "{\"id\":1}" | txlog append h'
	assert_failure 2
	hand h 0 "$(proto 1 7 ',"readerFeatures":["timestampNtz"],"writerFeatures":["timestampNtz"]')" "$(meta '')"
	refused "txlog: h: protocol (reader 1, writer 7) is not a valid table-features protocol: readerFeatures with reader version 1 (only 3 has them); refusing" \
		txlog cat h
	# an empty list too, as delta-kernel refuses it
	hand h 0 "$(proto 2 7 ',"readerFeatures":[],"writerFeatures":["appendOnly"]')" "$(meta '')"
	refused "txlog: h: protocol (reader 2, writer 7) is not a valid table-features protocol: readerFeatures with reader version 2 (only 3 has them); refusing" \
		txlog files h
}

# Add File: "modificationTime | Long | ... | required", "dataChange |
# Boolean | ... | required".  Readers take a missing dataChange as a
# change; verify named neither, where tests/delta/check.sh does.
@test "verify names an add without modificationTime or a boolean dataChange" {
	mk
	c=t/_delta_log/00000000000000000001.json
	f=$(txlog files t | jq -r .path)
	cp "$c" c.json
	sed -i 's/,"modificationTime":[0-9]*//' "$c"
	unseal "$c"
	run txlog verify t
	assert_failure 1
	assert_output "txlog: t: $f: its add has no modificationTime in whole milliseconds, which PROTOCOL.md requires"
	cp c.json "$c"
	sed -i 's/"dataChange":true/"dataChange":"true"/' "$c"
	unseal "$c"
	run txlog verify t
	assert_failure 1
	assert_output "txlog: t: $f: its add has the dataChange \"true\", not the true or false PROTOCOL.md requires"
	run txlog cat t
	assert_success
	assert_output '{"id":1}'
}

# Requirements for Writers, Delta Log Entries: "A single log entry MUST
# NOT include more than one action that reconciles with each other":
# add / remove of one path, more than one metaData or protocol action,
# more than one txn of one appId.  verify passed such a commit.
@test "verify names a commit with two actions that reconcile with each other, or a V2 checkpoint's action" {
	mk
	c=t/_delta_log/00000000000000000001.json
	p=$(grep -o '"path":"[^"]*"' "$c")
	f=$(txlog files t | jq -r .path)
	{
		echo "{\"remove\":{$p,\"deletionTimestamp\":1,\"dataChange\":true}}"
		echo '{"txn":{"appId":"a","version":1}}'
		echo '{"txn":{"appId":"\u0061","version":2}}'
		echo '{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}'
		echo '{"protocol":{"minReaderVersion":1,"minWriterVersion":3}}'
		echo '{"checkpointMetadata":{"version":1}}'
	} >> "$c"
	unseal "$c"
	run txlog verify t
	assert_failure 1
	assert_output - <<EOF
txlog: t: version 1 has two add or remove actions of path $f (PROTOCOL.md: a log entry holds at most one)
txlog: t: version 1 has two txn actions of appId a (PROTOCOL.md: a log entry holds at most one)
txlog: t: version 1 has a checkpointMetadata action, which PROTOCOL.md allows in a V2 checkpoint only
txlog: t: version 1 has 2 protocol actions (PROTOCOL.md: a log entry holds at most one)
EOF
}

# Change Metadata: "id | GUID | Unique identifier for this table |
# required", "format | Format Struct | ... | required" (its provider a
# String): a metaData without them was read as a table's.
@test "a metaData without an id or a format provider is refused" {
	hand h 0 "$(proto 1 2)" '{"metaData":{"format":{"provider":"json","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{}}}'
	refused "txlog: h: metaData has no id (a string), which the protocol requires; refusing" \
		txlog files h
	hand h 0 "$(proto 1 2)" '{"metaData":{"id":"x","format":{"options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{}}}'
	refused "txlog: h: metaData has no format with a provider (a string), which the protocol requires; refusing" \
		txlog cat h
	hand h 0 "$(proto 1 2)" "$(meta '')"
	run txlog files h
	assert_success
}

# "minReaderVersion | Int", "minWriterVersion | Int" (Protocol Evolution)
@test "a protocol version that is not a whole number is named as such, not as reader version -1" {
	hand h 0 "$(proto '"1"' 2)" "$(meta '')"
	refused "txlog: h: the protocol's minReaderVersion is \"1\", not a whole number; refusing" \
		txlog files h
	hand h 0 "$(proto 1 2.0)" "$(meta '')"
	refused "txlog: h: the protocol's minWriterVersion is 2.0, not a whole number; refusing" \
		txlog files h
	hand h 0 '{"protocol":{"minWriterVersion":2}}' "$(meta '')"
	refused "txlog: h: the protocol's minReaderVersion is missing; refusing" \
		txlog files h
}

# "A Delta file, corresponding to version v, contains an atomic set of
# actions"
@test "an empty commit file is not a version" {
	mk
	: > t/_delta_log/00000000000000000002.json
	run txlog files t
	assert_failure 2
	assert_output 'txlog: t: version 2: empty commit file (no action); refusing'
	run txlog verify t
	assert_failure 1
	assert_output 'txlog: t: version 2: empty commit file (no action); refusing'
}

@test "a FIFO in _delta_log is refused, not waited on, by every verb" {
	mk
	mkfifo t/_delta_log/00000000000000000002.json
	for verb in files cat log verify; do
		run timeout 10 txlog $verb t
		[ "$status" -ne 124 ]
		assert_output --partial 'not a regular file'
	done
	rm t/_delta_log/00000000000000000002.json
	mkfifo t/_delta_log/_last_checkpoint
	run timeout 10 txlog files t
	assert_success
}

@test "a symbolic link in _delta_log is refused, not followed nor read again for ever, by every verb" {
	mk
	txlog checkpoint t # a _last_checkpoint: loads probe the commits after it
	ln -s nowhere t/_delta_log/00000000000000000002.json
	for verb in files cat log verify; do
		run timeout 10 txlog $verb t
		[ "$status" -ne 124 ]
		assert_output --partial 'not a regular file'
	done
	rm t/_delta_log/00000000000000000002.json
	# one that leads to a commit of the log is not read as this version
	ln -s 00000000000000000001.json t/_delta_log/00000000000000000002.json
	for verb in files cat log verify; do
		run timeout 10 txlog $verb t
		assert_failure
		assert_output --partial 'not a regular file'
	done
	rm t/_delta_log/00000000000000000002.json
}

@test "a FIFO in place of a data file is refused, not waited on" {
	mk
	f=$(cd t && ls *.zst)
	rm "t/$f"
	mkfifo "t/$f"
	run timeout 10 txlog cat t
	assert_failure 2
	assert_output "txlog: t: the log names '$f', which is not a regular file; refusing"
	run timeout 10 txlog verify t
	assert_failure 2
}

@test "--version 2^63 is refused, not wrapped to the newest" {
	mk
	run txlog cat t --version 9223372036854775808
	assert_failure 2
	assert_output --partial 'txlog: --version 9223372036854775808: a Delta version is at most 9223372036854775807'
	run txlog cat t --version 9223372036854775807
	assert_failure 2
	assert_output 'txlog: t: no version 9223372036854775807 (newest is 1)'
}

# "Rather than list the entire directory, readers can locate a recent
# checkpoint by looking at the _delta_log/_last_checkpoint file" -- a
# pointer, not the authority: the checkpoint's name gives its version.
@test "a _last_checkpoint claiming a later version does not hide commits" {
	mk
	txlog checkpoint t
	echo '{"id":2}' | txlog append t
	jq -c '.version = 1000' t/_delta_log/_last_checkpoint > x && mv x t/_delta_log/_last_checkpoint
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
	run txlog verify t
	assert_failure 1
	assert_output --partial "_last_checkpoint says version 1000 but names 00000000000000000001.checkpoint."
	echo '{"id":3}' | txlog append t
	[ -e t/_delta_log/00000000000000000003.json ]
	[ ! -e t/_delta_log/00000000000000001001.json ]
}

# verify read the hint's path with atoll: a path naming a commit file
# ("...01.json"), "1" or "../x" passed as long as its number matched and
# a file was there; loads ignore such a hint, other readers would open it
@test "verify calls a _last_checkpoint that names no checkpoint file damage" {
	mk
	txlog checkpoint t
	cp t/_delta_log/_last_checkpoint hint
	for p in 00000000000000000001.json 1 ../_delta_log/00000000000000000001.json; do
		jq -c --arg p "$p" '.v2Checkpoint.path = $p' hint > t/_delta_log/_last_checkpoint
		touch t/_delta_log/1
		run txlog verify t
		assert_failure 1
		assert_output "txlog: t: _delta_log/_last_checkpoint names $p, which is not a V2 checkpoint's name (NNNNNNNNNNNNNNNNNNNN.checkpoint.UUID.json)"
		run sh -c 'txlog cat t | wc -l'
		assert_output 1
	done
	rm t/_delta_log/1
	cp hint t/_delta_log/_last_checkpoint
	run txlog verify t
	assert_success
}

# "A checkpoint contains the complete replay of all actions, up to and
# including the checkpointed table version"
@test "verify compares a checkpoint with the commits it replaces" {
	mk
	echo '{"id":2}' | txlog append t
	txlog checkpoint t
	run txlog verify t
	assert_success
	cp=$(ls t/_delta_log/*.checkpoint.*.json)
	grep -v '"add"' "$cp" > x
	grep '"add"' "$cp" | head -1 >> x
	mv x "$cp"
	unseal "$cp"
	run txlog verify t
	assert_failure 1
	assert_output "txlog: t: checkpoint ${cp#t/_delta_log/} does not match the commits 0 to 2 it replaces: it has 1 live files, the commits 2"
}

@test "a commit missing after the checkpoint _last_checkpoint names is refused, not read around" {
	mk
	for i in 2 3 4 5 6 7 8 9 10 11 12; do echo "{\"id\":$i}" | txlog append t; done
	[ -e t/_delta_log/_last_checkpoint ]
	mv t/_delta_log/00000000000000000011.json v11
	run txlog cat t
	assert_failure 2
	assert_output 'txlog: t: version 11 is missing from the log'
	run txlog append t < /dev/null
	assert_failure 2
	assert_output 'txlog: t: version 11 is missing from the log'
	mv v11 t/_delta_log/00000000000000000011.json
	run sh -c 'txlog cat t | wc -l'
	assert_output 12
}

@test "txlog log reads a commit whose first line is blank, as replay does" {
	mk
	printf '\n{"commitInfo":{"timestamp":5,"operation":"X"}}\n' > t/_delta_log/00000000000000000002.json
	run sh -c 'txlog log t | head -1'
	assert_output '{"version":2,"timestamp":5,"operation":"X"}'
}

@test "time travel to a version whose commits were cleaned up says so" {
	mk
	echo '{"id":2}' | txlog append t
	txlog checkpoint t
	rm t/_delta_log/00000000000000000000.json t/_delta_log/00000000000000000001.json
	run txlog cat t --version 1
	assert_failure 2
	assert_output 'txlog: t: version 1 cannot be read: its commits were cleaned up (the oldest kept is 2) and no checkpoint at or below it replaces them'
	run sh -c 'txlog cat t --version 2 | wc -l'
	assert_output 2
}

# Without In-Commit Timestamps the commit time is "the Delta log file's
# modification time"; Delta's readers monotonize out-of-order times: a
# commit is taken as 1 ms after the one before it.
@test "--as-of uses file times, monotonized" {
	mk
	echo '{"id":2}' | txlog append t
	touch -d 2020-01-01T00:00:10Z t/_delta_log/00000000000000000000.json
	touch -d 2020-01-01T00:00:20Z t/_delta_log/00000000000000000001.json
	# version 2 claims an earlier time: it is taken as 00:00:20.001
	touch -d 2020-01-01T00:00:05Z t/_delta_log/00000000000000000002.json
	run sh -c 'txlog cat t --as-of 2020-01-01T00:00:20Z | wc -l'
	assert_output 1
	run sh -c 'txlog cat t --as-of 2020-01-01T00:00:20.001Z | wc -l'
	assert_output 2
	run txlog cat t --as-of 2020-01-01T00:00:09Z
	assert_failure 2
}

# In-Commit Timestamps: "writers are required to include a commitInfo
# action with every commit, which must include the inCommitTimestamp
# field"; readers take it as the commit time.
@test "--as-of honours inCommitTimestamp" {
	hand h 0 '{"commitInfo":{"timestamp":9,"inCommitTimestamp":1000}}' "$(proto 1 7 ',"writerFeatures":["inCommitTimestamp"]')" "$(meta '"delta.enableInCommitTimestamps":"true"')"
	hand h 1 '{"commitInfo":{"timestamp":1,"inCommitTimestamp":2000}}'
	run txlog files h --as-of 1970-01-01T00:00:01.5Z --stats
	assert_output --partial '"version":0,'
	run txlog files h --as-of 1970-01-01T00:00:02Z --stats
	assert_output --partial '"version":1,'
	hand h 2 '{"commitInfo":{"timestamp":2}}'
	run txlog files h --as-of 1970-01-01T00:00:02Z
	assert_failure 2
	assert_output 'txlog: h: version 2 has no commitInfo.inCommitTimestamp, which in-commit timestamps require; --as-of refused (use --version)'
}

# In-Commit Timestamps enabled on an existing table: versions before the
# enablement keep their file times, and "a time at or after the
# enablement" is looked up in the in-commit timestamps; a file time that
# moved later (a copied log) is no reason to push those after it.
@test "--as-of after in-commit timestamps were enabled is answered by them, whatever the file times before" {
	hand h 0 '{"commitInfo":{"timestamp":100}}' "$(proto 1 7 ',"writerFeatures":["inCommitTimestamp"]')" "$(meta '')"
	hand h 1 '{"commitInfo":{"timestamp":900}}'
	hand h 2 '{"commitInfo":{"timestamp":1000,"inCommitTimestamp":1000}}' "$(meta '"delta.enableInCommitTimestamps":"true","delta.inCommitTimestampEnablementVersion":"2","delta.inCommitTimestampEnablementTimestamp":"1000"')"
	hand h 3 '{"commitInfo":{"timestamp":2000,"inCommitTimestamp":2000}}'
	hand h 4 '{"commitInfo":{"timestamp":6000,"inCommitTimestamp":6000}}'
	touch -d 1970-01-01T00:00:00.100Z h/_delta_log/00000000000000000000.json
	# version 1's file, copied back later: its time is now 00:00:05
	touch -d 1970-01-01T00:00:05Z h/_delta_log/00000000000000000001.json
	run txlog files h --as-of 1970-01-01T00:00:03Z --stats
	assert_output --partial '"version":3,'
	run txlog files h --as-of 1970-01-01T00:00:00.999Z --stats
	assert_output --partial '"version":0,'
	run txlog files h --as-of 1970-01-01T00:00:01Z --stats
	assert_output --partial '"version":2,'
	run sh -c 'txlog log h --format table --utc | awk "NR > 1 {print \$1, \$3}"'
	assert_output "$(printf '%s\n' '4 00:00:06.000' '3 00:00:02.000' '2 00:00:01.000' '1 00:00:05.000' '0 00:00:00.100')"
}

# The in-commit timestamp is in the commit: a damaged one before the
# newest checkpoint (which a load of the newest never reads) has a time
# that is not known, and --as-of must not answer the version before it.
@test "--as-of refuses an in-commit timestamp in a damaged commit, not taken for a cleaned up one" {
	P="$(proto 1 7 ',"writerFeatures":["inCommitTimestamp"]')"
	M="$(meta '"delta.enableInCommitTimestamps":"true"')"
	hand h 0 '{"commitInfo":{"timestamp":9,"inCommitTimestamp":1000}}' "$P" "$M"
	hand h 1 '{"commitInfo":{"timestamp":1,"inCommitTimestamp":2000,"idem.xxh3_128":"00000000000000000000000000000000"}}'
	hand h 2 '{"commitInfo":{"timestamp":1,"inCommitTimestamp":3000}}'
	printf '%s\n' '{"checkpointMetadata":{"version":2}}' "$P" "$M" > h/_delta_log/00000000000000000002.checkpoint.0a0a0a0a-0000-0000-0000-000000000000.json
	run txlog files h --stats
	assert_success
	run txlog files h --as-of 1970-01-01T00:00:02.5Z
	assert_failure 2
	assert_output 'txlog: h: version 1: damaged commit h/_delta_log/00000000000000000001.json (its bytes differ from the checksum txlog wrote in it); run txlog verify'
}

# "In name mode, readers must resolve columns in the data files by their
# physical names": txlog does not map names, so it refuses.
@test "column mapping mode name is refused; mode none is read" {
	hand h 0 "$(proto 2 5)" "$(meta '"delta.columnMapping.mode":"name"')"
	run txlog files h
	assert_failure 2
	assert_output "txlog: h: column mapping mode 'name' is not supported (txlog does not map physical column names); refusing"
	hand h 0 "$(proto 2 5)" "$(meta '"delta.columnMapping.mode":"none"')"
	run txlog files h
	assert_success
}

@test "a type change typeWidening does not allow is refused on read" {
	ss='"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{\"delta.typeChanges\":[{\"fromType\":\"string\",\"toType\":\"long\"}]}}]}"'
	hand h 0 "$(proto 3 7 ',"readerFeatures":["typeWidening"],"writerFeatures":["typeWidening"]')" "$(meta '' "$ss")"
	run txlog files h
	assert_failure 2
	assert_output 'txlog: h: column id: type change string -> long (delta.typeChanges) is not one the typeWidening feature allows; refusing to read'
}

# Type Widening: "Byte, Short or Int -> Decimal(10 + k1, k2) where
# k1 >= k2 >= 0; Long -> Decimal(20 + k1, k2)": a decimal(5,0) holds
# every byte, but is not a change the protocol lists
@test "an integer to decimal type change is read only with the protocol's 10 or 20 digits, and a decimal(P,S) only as spelt" {
	for ch in 'byte decimal(5,0) refused' 'short decimal(9,0) refused' \
		'integer decimal(12,3) refused' 'long decimal(21,2) refused' \
		'byte decimal(10,0) ok' 'integer decimal(13,3) ok' \
		'long decimal(22,2) ok' 'byte decimal(10,0)junk refused' \
		'decimal(5,2)junk decimal(6,2) refused' \
		'decimal(5,2) decimal(6,2)x refused' \
		'decimal(39,2) decimal(40,2) refused' \
		'decimal(5,2) decimal(6,2) ok' \
		'decimal(5,2) decimal(7,3) ok'; do
		set -- $ch
		rm -rf h
		ss="\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"$2\\\",\\\"nullable\\\":true,\\\"metadata\\\":{\\\"delta.typeChanges\\\":[{\\\"fromType\\\":\\\"$1\\\",\\\"toType\\\":\\\"$2\\\"}]}}]}\""
		hand h 0 "$(proto 3 7 ',"readerFeatures":["typeWidening"],"writerFeatures":["typeWidening"]')" "$(meta '' "$ss")"
		run txlog files h
		if [ "$3" = ok ]; then
			assert_success
		else
			assert_failure 2
			assert_output "txlog: h: column id: type change $1 -> $2 (delta.typeChanges) is not one the typeWidening feature allows; refusing to read"
		fi
	done
}

# Type Widening: "Date -> Timestamp without timezone"; the values written
# before read as their midnight, so --where and the statistics compare
# them so
@test "a date column widened to timestamp_ntz compares its dates as their midnight" {
	echo '{"type":"struct","fields":[{"name":"d","type":"date","nullable":true,"metadata":{}}]}' > s.json
	txlog init h --schema s.json
	echo '{"d":"2024-01-01"}' | txlog append h
	ss='"{\"type\":\"struct\",\"fields\":[{\"name\":\"d\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{\"delta.typeChanges\":[{\"fromType\":\"date\",\"toType\":\"timestamp_ntz\"}]}}]}"'
	hand h 2 "$(proto 3 7 ',"readerFeatures":["v2Checkpoint","typeWidening","timestampNtz"],"writerFeatures":["v2Checkpoint","typeWidening","timestampNtz"]')" \
		"$(meta '"delta.enableTypeWidening":"true"' "$ss")"
	echo '{"d":"2024-01-01T00:00:00Z"}' | txlog append h
	run txlog cat h --where 'd = "2024-01-01"'
	assert_output $'{"d":"2024-01-01"}\n{"d":"2024-01-01T00:00:00Z"}'
	run txlog cat h --where 'd < "2024-01-01T00:00:01"'
	assert_output $'{"d":"2024-01-01"}\n{"d":"2024-01-01T00:00:00Z"}'
	run txlog cat h --where 'd != "2024-01-01"'
	assert_output ''
	run sh -c "txlog cat h --where 'd > \"2024-01-01T00:00:00.001\"' --stats 2>&1 | jq -c .files_skipped"
	assert_output '2'
}

# Transaction Identifiers: "version: An application-specific numeric
# identifier for this transaction" (a long in the checkpoint schema):
# one not read as a Long is refused, never taken for 0
@test "a txn whose version is not a whole number is refused, not read as 0" {
	mk
	for bad in '"5"' '1e3' '9223372036854775808' 'null'; do
		hand t 2 "{\"txn\":{\"appId\":\"app\",\"version\":$bad}}"
		run txlog append t --txn app:3 <<< '{"id":2}'
		assert_failure 2
		assert_output "txlog: t: version 2: a txn action without a string appId and a whole-number version (a Long): {\"appId\":\"app\",\"version\":$bad}; refusing"
	done
	run ls t/_delta_log
	assert_output $'00000000000000000000.json\n00000000000000000001.json\n00000000000000000002.json'
}

# Transaction Identifiers: appId is "a unique identifier for the
# application": another writer's "x\u0000y" is no app x, and a checkpoint
# keeps it whole.
@test "a txn appId holding a NUL is not a shorter app's, and a checkpoint keeps it whole" {
	mk
	hand t 2 '{"commitInfo":{"timestamp":1}}' '{"txn":{"appId":"x\u0000y","version":9}}'
	run txlog append t --txn x:1 <<< '{"id":2}'
	assert_success
	assert_output ''
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
	txlog checkpoint t
	run sh -c 'grep -h "\"txn\"" t/_delta_log/*.checkpoint.*.json | jq -c ".txn | [.appId, .version]"'
	assert_output $'["x\\u0000y",9]\n["x",1]'
	run txlog append t --txn x:1 <<< '{"id":3}'
	assert_output 'txlog: t: txn x:1 already committed (recorded version 1); nothing written'
}

# Add File: "Values for all partition columns present in the schema
# MUST be present for all files in the table."
@test "a file without a value for a partition column is refused, not read as null" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}' > p.json
	txlog init t --schema p.json --partition-by p
	echo '{"id":1,"p":"a"}' | txlog append t
	unseal t/_delta_log/00000000000000000001.json
	cp t/_delta_log/00000000000000000001.json c1
	sed -i 's/"partitionValues":{"p":"a"}/"partitionValues":{}/' t/_delta_log/00000000000000000001.json
	path=$(jq -r 'select(.add) | .add.path' c1)
	for verb in 'cat --where p=null' files verify; do
		run txlog $verb t
		assert_failure 2
		assert_output "txlog: t: version 1: $path has no partition value for p, which every file must have; refusing"
	done
	sed 's/"partitionValues":{"p":"a"}/"partitionValues":{"p":"a","q":"b"}/' c1 > t/_delta_log/00000000000000000001.json
	run txlog cat t
	assert_failure 2
	assert_output "txlog: t: version 1: $path has partition values for columns that are not the table's partition columns; refusing"
}

# Add File: "partitionValues: Map[String, String] -- A map from partition
# column to value for this logical file"; a number there is no value the
# protocol has, and read as null it filed the rows under null
@test "a partition value that is not a string is refused, not read as null" {
	txlog init t --partition-by p
	echo '{"id":1,"p":1}' | txlog append t
	unseal t/_delta_log/00000000000000000001.json
	sed -i 's/"partitionValues":{"p":"1"}/"partitionValues":{"p":1}/' t/_delta_log/00000000000000000001.json
	for verb in 'cat --where p=1' 'cat --where p=null' files; do
		run txlog $verb t
		assert_failure 2
		assert_output 'txlog: t: version 1: partition value "p": 1 is not a string (PROTOCOL.md: a map of strings); refusing'
	done
	run txlog verify t
	assert_failure 1
	assert_line -n 0 'txlog: t: version 1: partition value "p": 1 is not a string (PROTOCOL.md: a map of strings); refusing'
}

# Another writer's data file carries no idem.xxh3_128 to check: its rows
# are read as JSON objects before they are written, so a last line cut
# short (or one past the 64 MiB lines hold) is no record
@test "another writer's data file with a line cut short is refused, not passed on as a record" {
	mk
	printf '{"id":2}\n{"id":3' | zstd -q > t/f.zst
	hand t 2 "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true}}"
	for j in 1 2; do
		run --separate-stderr txlog cat t -j $j
		assert_failure 2
		assert_output $'{"id":1}\n{"id":2}'
		[ "$stderr" = 'txlog: t: f.zst:2: damaged data file' ]
	done
	run txlog changes t --from 2
	assert_failure 2
	assert_output 'txlog: t: f.zst:2: damaged data file'
	# a tag of txlog's name that is no checksum seals nothing
	hand t 2 "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true,\"tags\":{\"idem.xxh3_128\":\"x\"}}}"
	run --separate-stderr txlog cat t
	assert_failure 2
	[ "$stderr" = 'txlog: t: f.zst:2: damaged data file' ]
	python3 -c 'print("{\"id\":4,\"s\":\"" + "a" * (65 << 20) + "\"}")' | zstd -q > t/f.zst
	hand t 2 "{\"add\":{\"path\":\"f.zst\",\"partitionValues\":{},\"size\":$(stat -c %s t/f.zst),\"modificationTime\":0,\"dataChange\":true}}"
	run --separate-stderr txlog cat t
	assert_failure 2
	assert_output '{"id":1}'
	[ "$stderr" = 'txlog: t: f.zst:1: a row longer than the 64 MiB txlog reads' ]
}

# Add File and Remove File: deletionTimestamp and modificationTime are
# "milliseconds since the epoch" (a Long): another value is refused,
# never read as 0 (a tombstone of 1970, which the next checkpoint drops)
@test "a remove whose deletionTimestamp is not a Long is refused, by vacuum too" {
	mk
	f=$(jq -r 'select(.add) | .add.path' t/_delta_log/00000000000000000001.json)
	for ts in '"1700000000000"' '1.7e12' '99999999999999999999'; do
		hand t 2 "{\"remove\":{\"path\":\"$f\",\"deletionTimestamp\":$ts,\"dataChange\":true}}"
		run txlog vacuum t
		assert_failure 2
		assert_output "txlog: t: version 2: remove with deletionTimestamp $ts, not milliseconds since the epoch; refusing"
	done
	run test -e "t/$f"
	assert_success
	# absent or null is 0, as Delta reads it
	hand t 2 "{\"remove\":{\"path\":\"$f\",\"deletionTimestamp\":null,\"dataChange\":true}}"
	run txlog cat t
	assert_success
	assert_output ''
}

# Change Metadata: "partitionColumns: An array containing the names of
# columns by which the data should be partitioned"
@test "a partition column the schema does not have, or a struct, is refused" {
	hand h 0 "$(proto 1 2)" "$(meta '' | jq -c '.metaData.partitionColumns = ["q"]')"
	for verb in files cat schema; do
		run txlog $verb h
		assert_failure 2
		assert_output "txlog: h: partition column 'q' is not a column of the schema; refusing"
	done
	run txlog append h <<< '{"id":1}'
	assert_failure 2
	[ ! -e h/_delta_log/00000000000000000001.json ]
	ss='"{\"type\":\"struct\",\"fields\":[{\"name\":\"s\",\"type\":{\"type\":\"struct\",\"fields\":[]},\"nullable\":true,\"metadata\":{}}]}"'
	hand h 0 "$(proto 1 2)" "$(meta '' "$ss" | jq -c '.metaData.partitionColumns = ["s"]')"
	run txlog files h
	assert_failure 2
	assert_output "txlog: h: partition column 's' is not a primitive column of the schema; refusing"
	# a required field: without it, or with a non-name in it, which
	# columns partition the files is not known
	for pc in 'del(.metaData.partitionColumns)' '.metaData.partitionColumns = "p"' \
		'.metaData.partitionColumns = ["id", 1]'; do
		hand h 0 "$(proto 1 2)" "$(meta '' | jq -c "$pc")"
		run txlog files h
		assert_failure 2
		assert_output "txlog: h: metaData has no partitionColumns array of column names, which the protocol requires; refusing"
	done
}

# ---- legacy writer versions: honour or refuse ----

# Append-only Tables: "The table must be on a Writer Version starting
# from 2 up to 7 ... New log entries MUST NOT change or remove data"
@test "writer version 2 with delta.appendOnly: appends go, deletes are refused" {
	mk
	hand t 2 "$(proto 1 2)" "$(jq -c 'select(.metaData) | .metaData.configuration["delta.appendOnly"]="true"' t/_delta_log/00000000000000000000.json)"
	echo '{"id":2}' | txlog append t
	run txlog delete t --where 'id = 1'
	assert_failure 2
	assert_output 'txlog: t: the table is append-only (delta.appendOnly=true): this commit would remove data; nothing committed'
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
}

# "If the table is on Writer Version 7, the feature appendOnly must exist
# in the table protocol's writerFeatures" -- honoured, not refused.
@test "writer version 7 with appendOnly: appends go, deletes are refused, optimize goes" {
	mk
	echo '{"id":2}' | txlog append t
	hand t 3 "$(proto 3 7 ',"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint","appendOnly","invariants"]')" "$(jq -c 'select(.metaData) | .metaData.configuration["delta.appendOnly"]="true"' t/_delta_log/00000000000000000000.json)"
	echo '{"id":3}' | txlog append t
	run txlog delete t --where 'id = 1'
	assert_failure 2
	assert_output 'txlog: t: the table is append-only (delta.appendOnly=true): this commit would remove data; nothing committed'
	# "New log entries may rearrange data (i.e. add and remove actions
	# where dataChange=false)"
	txlog optimize t
	run sh -c 'txlog cat t | wc -l'
	assert_output 3
}

# Column Invariants: "If the table is on a Writer Version starting from
# 2 up to 6, Column Invariants are always enabled ... Writers MUST abort
# any transaction that adds a row to the table, where an invariant
# evaluates to false or null."
@test "writer version 2 with a column invariant refuses to write" {
	mk
	hand t 2 "$(proto 1 2)" "$(jq -c 'select(.metaData) | .metaData.schemaString |= (fromjson | .fields[0].metadata["delta.invariants"] = "{\"expression\":{\"expression\":\"id > 3\"}}" | tojson)' t/_delta_log/00000000000000000000.json)"
	run txlog append t <<< '{"id":1}'
	assert_failure 2
	assert_output 'txlog: t: the table uses column invariants (delta.invariants) on column id, which txlog does not enforce (writer version 2); refusing to write'
	run sh -c 'txlog cat t | wc -l'
	assert_output 1
}

# Supported Features: the metadata of a feature is inactive unless the
# protocol supports it, but a table with delta.appendOnly=true and no
# appendOnly feature is inconsistent (Delta refuses it) and its owner's
# word is plain: refused, not written as if the setting were absent
@test "metadata that needs a feature the protocol lacks is refused for writing" {
	mk
	hand t 2 "$(proto 1 7 ',"writerFeatures":["v2Checkpoint"]')" "$(meta '"delta.appendOnly":"true"')"
	run txlog delete t --where 'id = 1'
	assert_failure 2
	assert_output "txlog: t: the metaData has delta.appendOnly=true, but the protocol (writer version 7) does not support the 'appendOnly' feature it needs: an inconsistent table; refusing to write"
	hand t 2 "$(proto 1 2)" "$(meta '"delta.constraints.pos":"id > 5"')"
	run txlog append t <<< '{"id":1}'
	assert_failure 2
	assert_output "txlog: t: the metaData has delta.constraints.*, but the protocol (writer version 2) does not support the 'checkConstraints' feature it needs: an inconsistent table; refusing to write"
	hand t 2 "$(proto 1 7 ',"writerFeatures":[]')" "$(meta '' '"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{}}]}"')"
	run txlog append t <<< '{"id":"2024-01-01T00:00:00Z"}'
	assert_failure 2
	assert_output "txlog: t: the metaData has a timestamp_ntz column, but the protocol (writer version 7) does not support the 'timestampNtz' feature it needs: an inconsistent table; refusing to write"
	# the same settings off, or the features listed: written
	hand t 2 "$(proto 1 7 ',"writerFeatures":["appendOnly"]')" "$(meta '"delta.appendOnly":"true"')"
	echo '{"id":2}' | txlog append t
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
}

# Column Invariants: "Writers MUST abort any transaction that adds a row
# to the table, where an invariant evaluates to false or null": a schema
# file that carries one (or a generation expression, an identity, a type
# change) would make a table whose rules txlog never checks
@test "init --schema refuses column metadata a writer must enforce, creating nothing" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"id > 3\"}}"}}]}' > iv.json
	run txlog init t --schema iv.json
	assert_failure 2
	assert_output "txlog: iv.json: the metaData has delta.invariants on column id, but the protocol (writer version 7) does not support the 'invariants' feature it needs: an inconsistent table; refusing to write; nothing created"
	[ ! -e t ]
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{"delta.typeChanges":[{"fromType":"integer","toType":"long"}]}}]}' > tc.json
	run txlog init t --schema tc.json
	assert_failure 2
	assert_output "txlog: tc.json: the metaData has delta.typeChanges on column id, but the protocol (writer version 7) does not support the 'typeWidening' feature it needs: an inconsistent table; refusing to write; nothing created"
	[ ! -e t ]
	# Default Columns: "Writers MUST enforce that ... the writing system
	# will assign the result of evaluating the default value expression"
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{"CURRENT_DEFAULT":"42"}}]}' > dv.json
	run txlog init t --schema dv.json
	assert_failure 2
	assert_output "txlog: dv.json: the metaData has CURRENT_DEFAULT on column id, but the protocol (writer version 7) does not support the 'allowColumnDefaults' feature it needs: an inconsistent table; refusing to write; nothing created"
	[ ! -e t ]
	# other column metadata is kept
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{"comment":"the id"}}]}' > c.json
	txlog init t --schema c.json
	echo '{"id":1}' | txlog append t
	run txlog cat t
	assert_output '{"id":1}'
}

# Writer Version Requirements: 3 "Respect CHECK constraints", 4 "Respect
# Change Data Feed ... Generated Columns", 6 "Respect Identity Columns".
@test "legacy writer versions 3 to 6 refuse what they would have to enforce" {
	mk
	m0=$(jq -c 'select(.metaData)' t/_delta_log/00000000000000000000.json)
	hand t 2 "$(proto 1 3)" "$(jq -c '.metaData.configuration["delta.constraints.pos"]="id > 0"' <<< "$m0")"
	run txlog append t <<< '{"id":1}'
	assert_failure 2
	assert_output 'txlog: t: the table uses CHECK constraints (delta.constraints.*), which txlog does not enforce (writer version 3); refusing to write'
	hand t 2 "$(proto 1 4)" "$(jq -c '.metaData.configuration["delta.enableChangeDataFeed"]="true"' <<< "$m0")"
	run txlog append t <<< '{"id":1}'
	assert_output 'txlog: t: the table uses the change data feed (delta.enableChangeDataFeed), which txlog does not enforce (writer version 4); refusing to write'
	hand t 2 "$(proto 1 6)" "$(jq -c '.metaData.schemaString |= (fromjson | .fields[0].metadata["delta.identity.start"] = 1 | tojson)' <<< "$m0")"
	run txlog append t <<< '{"id":1}'
	assert_output 'txlog: t: the table uses identity columns (delta.identity.*) on column id, which txlog does not enforce (writer version 6); refusing to write'
	# none of them active: writer version 4 writes
	hand t 2 "$(proto 1 4)" "$m0"
	echo '{"id":2}' | txlog append t
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
}

# Change Metadata: configuration is a Map[String, String]; Spark reads
# "delta.appendOnly": true as "true", so a lookup of strings only would
# take the table for one that allows deletes
@test "a configuration value that is not a string is refused, not taken for absent" {
	mk
	hand t 2 "$(proto 1 2)" "$(meta '"delta.appendOnly":true')"
	run txlog delete t --where 'id = 1'
	assert_failure 2
	assert_output 'txlog: t: metaData configuration delta.appendOnly is true, not a string (the protocol'"'"'s configuration is a map of strings); refusing'
	run txlog files t
	assert_failure 2
	[ ! -e t/_delta_log/00000000000000000003.json ]
}

# A setting txlog reads is read as Delta writes it (Spark's toBoolean,
# toInt, toLong) or refused: atoll took "10x" for 10, and a boolean that
# was not "true" ("yes", "true\u0000") was taken for false, so a table its
# owner made append-only took a delete
@test "a table setting txlog reads that does not parse is refused, not read as something near it" {
	mk
	hand t 2 "$(proto 1 2)" "$(meta '"delta.appendOnly":"yes"')"
	refused 'txlog: t: metaData configuration delta.appendOnly is "yes", not true or false; refusing' \
		txlog delete t --where 'id = 1'
	[ ! -e t/_delta_log/00000000000000000003.json ]
	for c in '"delta.checkpointInterval":"10x"' '"delta.checkpointInterval":" 7"' \
		'"delta.checkpointInterval":"1e3"' '"delta.checkpointInterval":"-5"' \
		'"delta.checkpointInterval":"0"' '"delta.checkpointInterval":"99999999999999999999"' \
		'"delta.appendOnly":"true\u0000"' '"delta.enableExpiredLogCleanup":"off"' \
		'"delta.checkpoint.writeStatsAsJson":"0"' \
		'"delta.inCommitTimestampEnablementVersion":"x"' \
		'"delta.logRetentionDuration":"interval 7 days\u0000x"' \
		'"delta.columnMapping.mode":"none\u0000"'; do
		hand t 2 "$(proto 1 2)" "$(meta "$c")"
		for verb in files cat log; do
			run txlog $verb t
			assert_failure 2
			assert_output --partial 'txlog: t: metaData configuration delta.'
		done
	done
	hand t 2 "$(proto 1 2)" "$(meta '"delta.checkpointInterval":"10x"')"
	refused 'txlog: t: metaData configuration delta.checkpointInterval is "10x", not a positive integer up to 2147483647 (an Int); refusing' \
		txlog log t
	# Delta reads it with toInt: 3000000000 was read as every 3e9 commits
	hand t 2 "$(proto 1 2)" "$(meta '"delta.checkpointInterval":"2147483648"')"
	refused 'txlog: t: metaData configuration delta.checkpointInterval is "2147483648", not a positive integer up to 2147483647 (an Int); refusing' \
		txlog files t
	hand t 2 "$(proto 1 2)" "$(meta '"delta.checkpointInterval":"2147483647"')"
	run txlog files t
	assert_success
	hand t 2 "$(proto 1 2)" "$(meta '"delta.inCommitTimestampEnablementVersion":"-1"')"
	refused 'txlog: t: metaData configuration delta.inCommitTimestampEnablementVersion is "-1", not a version (an integer from 0); refusing' \
		txlog files t
	# what Delta writes is read, booleans in any case
	hand t 2 "$(proto 1 2)" "$(meta '"delta.appendOnly":"False","delta.checkpointInterval":"7","delta.enableExpiredLogCleanup":"TRUE"')"
	run txlog files t
	assert_success
}

# A key is its meaning: "delta\u002einvariants" is delta.invariants, and
# a writer that compared bytes would not see the invariant it must check
@test "an escaped delta.invariants or delta.constraints key is refused like the plain one" {
	mk
	hand t 2 "$(proto 1 3)" "$(meta '' '"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{\"delta\\u002einvariants\":\"{}\"}}]}"')"
	run txlog append t <<< '{"id":1}'
	assert_failure 2
	assert_output 'txlog: t: the table uses column invariants (delta.invariants) on column id, which txlog does not enforce (writer version 3); refusing to write'
	hand t 2 "$(proto 1 3)" "$(meta '"delta\u002econstraints.pos":"id > 0"')"
	run txlog append t <<< '{"id":1}'
	assert_failure 2
	assert_output 'txlog: t: the table uses CHECK constraints (delta.constraints.*), which txlog does not enforce (writer version 3); refusing to write'
	run sh -c 'txlog cat t | wc -l'
	assert_output 1
}

# ---- writing: only what Delta's readers accept ----

# Schema Serialization Format: "All column names must be unique
# regardless of casing."
@test "column names that differ only in case are refused" {
	mk
	run txlog append t --merge-schema <<< '{"id":1,"ID":2}'
	assert_failure 2
	assert_output 'txlog: stdin:1: column .ID: differs from column id only in case (Delta column names must be unique regardless of case); nothing committed'
	txlog init i --infer
	run txlog append i <<< '{"Id":1,"id":2}'
	assert_failure 2
	echo '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}},{"name":"A","type":"long","nullable":true,"metadata":{}}]}' > d.json
	run txlog init d --schema d.json
	assert_failure 2
	assert_output "txlog: d.json: schema: columns 'a' and 'A' differ only in case (Delta column names must be unique regardless of case)"
}

# Type widening allows byte, short and integer to double, not long.
@test "--merge-schema refuses long to double and says how to rewrite" {
	mk
	run txlog append t --merge-schema <<< '{"id":1.5}'
	assert_failure 2
	assert_output 'txlog: t: column .id: long cannot become double (Delta'"'"'s type widening allows integer kinds to wider ones or to double from byte, short and integer, not from long); to keep fractions, make a table that declares the column double (txlog init NEW --schema FILE) and copy the rows over (txlog cat OLD | txlog append NEW); nothing committed'
}

# Type Widening: "The table must be on Reader version 3 and Writer
# Version 7" with typeWidening in both lists: a table with writer
# features only has no readerFeatures to declare it in, and the message
# says that, not that it has no table features
@test "a wider type is refused on a protocol without reader features, saying which" {
	I='"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]}"'
	hand h 0 "$(proto 1 7 ',"writerFeatures":["appendOnly"]')" "$(meta '' "$I")"
	run txlog append h --merge-schema <<< '{"id":5000000000}'
	assert_failure 2
	assert_output 'txlog: h: the table'"'"'s protocol (minReaderVersion 1, minWriterVersion 7) has no reader features, so the typeWidening reader and writer feature cannot be declared: widening refused; nothing committed'
	hand h 0 "$(proto 1 2)" "$(meta '' "$I")"
	run txlog append h --merge-schema <<< '{"id":5000000000}'
	assert_failure 2
	assert_output 'txlog: h: the table'"'"'s protocol (minReaderVersion 1, minWriterVersion 2) has no table features, so the typeWidening reader and writer feature cannot be declared: widening refused; nothing committed'
	[ ! -e h/_delta_log/00000000000000000001.json ]
}

@test "--infer makes integers integer, so a later fraction widens to double" {
	txlog init i --infer
	echo '{"n":1}' | txlog append i
	run sh -c "txlog schema i | jq -c '.fields[0].type'"
	assert_output '"integer"'
	echo '{"n":0.5}' | txlog append i --merge-schema
	run sh -c "txlog schema i | jq -c '.fields[0] | [.type, .metadata]'"
	assert_output '["double",{"delta.typeChanges":[{"fromType":"integer","toType":"double"}]}]'
}

# metaData.partitionColumns: "An array containing the names of columns
# by which the data should be partitioned" -- columns of the schema.
@test "init --partition-by without a schema declares the column in version 0" {
	txlog init p --partition-by day
	run jq -c 'select(.metaData) | .metaData.schemaString | fromjson | [.fields[].name]' p/_delta_log/00000000000000000000.json
	assert_output '["day"]'
	echo '{"id":1,"day":2}' | txlog append p
	run sh -c "txlog schema p | jq -c '[.fields[] | [.name, .type, .metadata]]'"
	assert_output '[["id","integer",{}],["day","integer",{}]]'
	run "$BATS_TEST_DIRNAME/delta/check.sh" p
	assert_success
}

@test "commits label the isolation level txlog implements: Serializable" {
	mk
	run jq -r 'select(.commitInfo) | .commitInfo.isolationLevel' t/_delta_log/00000000000000000001.json
	assert_output 'Serializable'
}

# Partition Value Serialization: "An empty string for any type
# translates to a null partition value."
@test "an empty string partition value reads as null; writing one is refused" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}' > p.json
	txlog init t --schema p.json --partition-by p
	echo '{"id":1,"p":null}' | txlog append t
	run txlog append t <<< '{"id":2,"p":""}'
	assert_failure 2
	assert_output 'txlog: stdin:1: partition column p: an empty string is a null partition value in Delta; write null or a non-empty string'
	# a log that says "" means null: --where p = null finds it (a log
	# edited by hand, as another writer might leave it: not txlog's, so
	# the teardown's protocol check of txlog's tables is off)
	IDEM_DELTA_CHECK=0
	sed -i 's/"partitionValues":{"p":null}/"partitionValues":{"p":""}/' t/_delta_log/00000000000000000001.json
	unseal t/_delta_log/00000000000000000001.json
	run txlog cat t --where 'p = null'
	assert_output '{"id":1,"p":null}'
}

# Timestamp without timezone: "To use this type, a table must support a
# feature timestampNtz."
@test "a timestamp_ntz column declares the timestampNtz feature" {
	echo '{"type":"struct","fields":[{"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}}]}' > n.json
	txlog init t --schema n.json
	run jq -c 'select(.protocol) | .protocol | [.readerFeatures, .writerFeatures]' t/_delta_log/00000000000000000000.json
	assert_output '[["v2Checkpoint","timestampNtz"],["v2Checkpoint","timestampNtz"]]'
}

# Checkpoints: "The checkpoint must contain all information regarding
# ... Domain Metadata"; the checkpoint schema's remove has no tags.
@test "a checkpoint keeps domainMetadata and drops tombstones' tags" {
	mk
	sed -i 's/"writerFeatures":\["v2Checkpoint"\]/"writerFeatures":["v2Checkpoint","domainMetadata"]/' t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	hand t 2 '{"domainMetadata":{"domain":"app.a","configuration":"{}","removed":false}}' '{"domainMetadata":{"domain":"app.b","configuration":"1","removed":false}}'
	hand t 3 '{"domainMetadata":{"domain":"app.b","configuration":"1","removed":true}}'
	txlog delete t --where 'id = 1'
	txlog checkpoint t
	cp=$(ls t/_delta_log/*.checkpoint.*.json)
	run jq -c 'select(.domainMetadata) | .domainMetadata.domain' "$cp"
	assert_output '"app.a"'
	run jq -c 'select(.remove) | .remove | [has("tags"), has("stats"), has("path")]' "$cp"
	assert_output '[false,false,true]'
	run txlog verify t
	assert_success
}

@test "a domain holding a NUL is not a shorter domain: a checkpoint keeps it past the shorter one's tombstone" {
	mk
	sed -i 's/"writerFeatures":\["v2Checkpoint"\]/"writerFeatures":["v2Checkpoint","domainMetadata"]/' t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	hand t 2 '{"domainMetadata":{"domain":"app\u0000a","configuration":"{}","removed":false}}' '{"domainMetadata":{"domain":"app","configuration":"1","removed":false}}'
	hand t 3 '{"domainMetadata":{"domain":"app","configuration":"1","removed":true}}'
	txlog checkpoint t
	run jq -c 'select(.domainMetadata) | .domainMetadata.domain' t/_delta_log/*.checkpoint.*.json
	assert_output '"app\u0000a"'
	run txlog verify t
	assert_success
}

# _last_checkpoint never moves backwards: a checkpoint reads the hint and
# replaces it under an exclusive flock on _delta_log, so a slower writer
# of an older checkpoint cannot read the old hint beside a newer writer
# and replace the newer hint last.  Here the lock is held by flock(1):
# the checkpoint waits for it.
@test "a checkpoint replaces _last_checkpoint only under the log's lock" {
	mk
	flock t/_delta_log sh -c 'touch held; sleep 1; touch released' &
	while [ ! -e held ]; do sleep 0.05; done
	txlog checkpoint t
	[ -e released ]
	wait
	run jq -c .version t/_delta_log/_last_checkpoint
	assert_output 1
}

# "Writers are allowed to create v2 spec checkpoints ... if v2 checkpoint
# table feature is enabled" -- a classic checkpoint would be Parquet.
# Checkpoints: stats "should be omitted from the checkpoint" when
# delta.checkpoint.writeStatsAsJson is false (stats_parsed "needs to be
# written" when writeStatsAsStruct is true), at any writer version: a
# JSON checkpoint of the adds as committed is neither, so none is written
@test "a table whose checkpoint stats settings txlog cannot keep gets no checkpoint" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}' > s.json
	txlog init t --schema s.json --checkpoint-interval 2
	sed -i 's/"configuration":{/"configuration":{"delta.checkpoint.writeStatsAsJson":"false",/' t/_delta_log/00000000000000000000.json
	unseal t/_delta_log/00000000000000000000.json
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append t; done
	run txlog checkpoint t
	assert_failure 2
	assert_output "txlog: t: delta.checkpoint.writeStatsAsJson is false, and txlog's JSON checkpoints keep each add's stats as JSON; no checkpoint written"
	run sh -c 'ls t/_delta_log | grep -c checkpoint'
	assert_output 0
	sed -i 's/"delta.checkpoint.writeStatsAsJson":"false"/"delta.checkpoint.writeStatsAsStruct":"TRUE"/' t/_delta_log/00000000000000000000.json
	run txlog checkpoint t
	assert_failure 2
	assert_output "txlog: t: delta.checkpoint.writeStatsAsStruct is true, and txlog's JSON checkpoints keep each add's stats as JSON; no checkpoint written"
	run sh -c 'txlog cat t | wc -l'
	assert_output 3
	# writer version 3 "Enforce delta.checkpoint.writeStatsAsJson": kept
	# by writing no checkpoint, so the writes themselves go
	rm -r t
	mk
	hand t 2 "$(proto 1 3)" "$(meta '"delta.checkpoint.writeStatsAsJson":"false"')"
	echo '{"id":2}' | txlog append t
	run sh -c 'txlog cat t | wc -l'
	assert_output 2
}

@test "no UUID-named checkpoint goes into a table without v2Checkpoint" {
	hand h 0 "$(proto 1 2)" "$(meta '"delta.checkpointInterval":"2"')"
	for i in 1 2 3; do echo "{\"id\":$i}" | txlog append h; done
	run sh -c 'ls h/_delta_log | grep -c checkpoint'
	assert_output 0
	run txlog checkpoint h
	assert_failure 2
	assert_output 'txlog: h: the protocol lacks the v2Checkpoint feature, and txlog writes only JSON V2 checkpoints (a classic checkpoint is Parquet); no checkpoint written'
}

# ---- vacuum and verify (issue 17) ----

@test "stale commit temp files: verify reports them, vacuum removes them" {
	mk
	echo '{"add"' > t/_delta_log/00000000000000000002.json.tmp.AbC123
	touch -d '-1 hour' t/_delta_log/00000000000000000002.json.tmp.AbC123
	echo x > t/_delta_log/00000000000000000003.json.tmp.young1
	run txlog verify t
	assert_failure 1
	assert_output 'txlog: t: _delta_log/00000000000000000002.json.tmp.AbC123: a temporary file left by an interrupted commit (txlog vacuum removes it)'
	run txlog vacuum t --dry-run
	assert_output $'{"path":"_delta_log/00000000000000000002.json.tmp.AbC123","bytes":7,"reason":"stale temp"}\n{"dry_run":true,"files":1,"bytes":7}'
	txlog vacuum t
	[ ! -e t/_delta_log/00000000000000000002.json.tmp.AbC123 ]
	[ -e t/_delta_log/00000000000000000003.json.tmp.young1 ]
	run txlog verify t
	assert_success
}

@test "vacuum of a table without data files" {
	echo "$SCHEMA" > s.json
	txlog init t --schema s.json
	run txlog vacuum t --stats
	assert_success
	assert_output --partial '"files_deleted":0'
}

@test "vacuum does not enter a partition folder that is a symlink" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}' > p.json
	txlog init t --schema p.json --partition-by p
	mkdir out
	echo keep > out/old.ndjson.zst
	touch -d '-30 days' out/old.ndjson.zst
	ln -s ../out t/p=x
	txlog vacuum t --retain 0s --force
	[ -e out/old.ndjson.zst ]
}

# Per-file Statistics: "Per-column statistics record information for
# each column in the file and they are encoded, mirroring the schema of
# the actual data" -- a struct column's nullCount is never one number.
@test "a struct column gets no flat nullCount" {
	echo '{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"s","type":{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}' > n.json
	txlog init t --schema n.json
	printf '{"id":1,"s":{"a":1}}\n{"id":2,"s":null}\n' | txlog append t
	run sh -c "txlog files t | jq -r .stats"
	assert_output '{"numRecords":2,"minValues":{"id":1},"maxValues":{"id":2},"nullCount":{"id":0}}'
	run txlog verify --deep t
	assert_success
}

@test "a new metaData keeps another writer's table name and description" {
	txlog init t --infer
	f=t/_delta_log/00000000000000000000.json
	jq -c 'if .metaData then .metaData |= ({id} + {name:"orders",description:"the \"gold\" orders"} + del(.id))
		elif .commitInfo then .commitInfo |= del(.["idem.xxh3_128"]) else . end' $f > c.json
	mv c.json $f
	echo '{"a":1}' | txlog append t
	echo '{"a":2,"b":"x"}' | txlog append t --merge-schema
	txlog checkpoint t
	run sh -c "cat t/_delta_log/*.json | jq -c 'select(.metaData) | .metaData | [.name, .description]' | uniq -c | sed 's/^ *//'"
	assert_output '4 ["orders","the \"gold\" orders"]'
}

@test "verify --deep finds a row whose partition column is not its file's partition value, compared by meaning" {
	echo '{"type":"struct","fields":[{"name":"k","type":"string","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"n","type":"long","nullable":true,"metadata":{}}]}' > pv.json
	txlog init t --schema pv.json --partition-by k --partition-by ts
	echo '{"k":"a","ts":"2024-01-01T08:00:00Z","n":1}' | txlog append t
	mkdir t/x
	# the same instant at another offset, a row without the columns,
	# a null for a null: no finding
	printf '%s\n' '{"k":"a","ts":"2024-01-01T10:00:00+02:00","n":2}' '{"n":3}' | zstd -q > t/x/f.zst
	printf '%s\n' '{"k":null,"ts":"2024-01-01T08:00:00Z","n":4}' | zstd -q > t/x/g.zst
	hand t 2 "{\"add\":{\"path\":\"x/f.zst\",\"partitionValues\":{\"k\":\"a\",\"ts\":\"2024-01-01 08:00:00\"},\"size\":$(stat -c %s t/x/f.zst),\"modificationTime\":0,\"dataChange\":true}}" \
		"{\"add\":{\"path\":\"x/g.zst\",\"partitionValues\":{\"k\":null,\"ts\":\"2024-01-01 08:00:00\"},\"size\":$(stat -c %s t/x/g.zst),\"modificationTime\":0,\"dataChange\":true}}"
	run txlog verify t --deep
	assert_success
	# a row of b in a's file, a time an hour off, a value for a null
	printf '%s\n' '{"k":"a","n":2}' '{"k":"b","n":5}' '{"k":"b","n":6}' | zstd -q > t/x/f.zst
	printf '%s\n' '{"k":"c","ts":"2024-01-01T09:00:00+02:00","n":4}' | zstd -q > t/x/g.zst
	hand t 2 "{\"add\":{\"path\":\"x/f.zst\",\"partitionValues\":{\"k\":\"a\",\"ts\":\"2024-01-01 08:00:00\"},\"size\":$(stat -c %s t/x/f.zst),\"modificationTime\":0,\"dataChange\":true}}" \
		"{\"add\":{\"path\":\"x/g.zst\",\"partitionValues\":{\"k\":null,\"ts\":\"2024-01-01 08:00:00\"},\"size\":$(stat -c %s t/x/g.zst),\"modificationTime\":0,\"dataChange\":true}}"
	run txlog verify t --deep
	assert_failure 1
	assert_output - <<'E'
txlog: t: x/f.zst:2: column k is not the file's partition value
txlog: t: x/g.zst:1: column k is not the file's partition value
E
}
