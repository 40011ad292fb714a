#!/usr/bin/env bats
# The tools piped into one another: what each does with the others'
# output (watermark's _watermark lines, window's panes, dead letters).

load helpers

# records with watermark --emit's lines among them
emitted() {
	printf '%s\n' '{"id":1,"t":10}' '{"id":2,"t":20}' '{"id":3,"t":30}' |
		watermark -t .t --delay 5s --emit
}

@test "txlog append, overwrite and merge refuse a _watermark line, never a row of it" {
	txlog init t --infer > /dev/null
	emitted > in.ndjson
	refused 'txlog: in.ndjson:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog append t in.ndjson
	refused 'txlog: in.ndjson:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog append t --merge-schema -j 2 in.ndjson
	echo '{"id":0,"t":0}' | txlog append t
	refused 'txlog: stdin:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog overwrite t < in.ndjson
	refused 'txlog: stdin:2: a _watermark line is watermark --emit'"'"'s progress, not a row (window consumes it; leave out --emit); nothing committed' \
		txlog merge t -k .id < in.ndjson
	run txlog cat t
	assert_output '{"id":0,"t":0}'
	run sh -c "txlog schema t | jq -c '[.fields[].name]'"
	assert_output '["id","t"]'
	# a record with other members beside _watermark is a row
	echo '{"id":5,"t":5,"_watermark":"x"}' | txlog append t --merge-schema
	# and window in front consumes them
	txlog init w > /dev/null
	emitted | window --tumble 1m -t .t --agg 'n=count()' | txlog append w
	run sh -c "txlog cat w | jq -c '[.window.start, .n]'"
	assert_output '["1970-01-01T00:00:00Z",3]'
}
