#!/usr/bin/env bats
# The tables txlog writes, checked by tests/delta/check.sh -- a checker
# written from PROTOCOL.md's requirements (actions, features,
# checkpoints, statistics, partition values), independent of txlog.
# One pass builds a table through every writing verb, then checks it.

load helpers

check() {
	"$BATS_TEST_DIRNAME/delta/check.sh" "$@"
}

@test "every writing verb leaves a table the protocol checker accepts" {
	cat > s.json <<'J'
{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}},{"name":"n","type":"short","nullable":true,"metadata":{}},{"name":"s","type":{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},{"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}}]}
J
	txlog init t --schema s.json --partition-by day --checkpoint-interval 4
	printf '{"id":1,"day":"a","n":1,"s":{"a":1}}\n{"id":2,"day":"b","s":null}\n{"id":3,"day":null}\n' | txlog append t --txn app:1
	echo '{"id":4,"day":"a","n":40000,"w":true}' | txlog append t --merge-schema
	echo '{"id":5,"day":"b","n":0.5}' | txlog append t --merge-schema
	printf '{"id":1,"day":"a","n":2}\n{"id":9,"day":"c"}\n' | txlog merge t -k .id
	txlog delete t --where 'id = 2'
	echo '{"id":7,"day":"b"}' | txlog overwrite t --where 'day = b'
	txlog optimize t
	txlog checkpoint t
	txlog vacuum t --retain 0s --force > /dev/null
	run check t
	assert_success
	assert_output ''
	# an inferred, partitioned table
	txlog init i --partition-by p
	printf '{"k":1,"p":"x"}\n{"k":2,"p":null}\n' | txlog append i
	run check i
	assert_success
}

@test "the checker refuses what the protocol forbids" {
	mkdir -p h/_delta_log
	cat > h/_delta_log/00000000000000000000.json <<'J'
{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["x"],"writerFeatures":[]}}
{"metaData":{"id":"i","format":{"provider":"json","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"A\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["p"],"configuration":{}}}
{"add":{"path":"f","partitionValues":{"p":""},"size":1,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":1}"}}
J
	run check h
	assert_failure 1
	assert_output 'h: reader feature x not among the writer features
h: column names not unique regardless of case
h: a timestamp_ntz column without the timestampNtz feature
h: partition column p not in the schema
h: add f: partition value p is "" (null is written null)'
}
