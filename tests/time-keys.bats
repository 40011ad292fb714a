#!/usr/bin/env bats
# Times as keys compare as instants (value.h): one instant spelled at two
# offsets, with a fraction or without, 'z' or 'Z', is one key for every
# tool that keys by value; -j 1 and -j 2 agree byte for byte.  A string
# that is not an RFC 3339 time stays text.  States written before (the
# fixtures in time-keys/, made by make-fixtures.sh with main's tools at
# ab2d753) keep the text keys they were written with, and say so.

load helpers
bats_require_minimum_version 1.5.0

fx=$BATS_TEST_DIRNAME/time-keys
old_state='a state from before keys compared times as instants'

# One instant, seven spellings, and two that are not it.
spellings() {
	cat <<-'E'
	{"id":1,"ts":"2024-01-01T10:10:00+02:00"}
	{"id":2,"ts":"2024-01-01T08:10:00Z"}
	{"id":3,"ts":"2024-01-01t08:10:00.000z"}
	{"id":4,"ts":"2024-01-01T22:10:00+14:00"}
	{"id":5,"ts":"2023-12-31T20:10:00.000000000-12:00"}
	{"id":6,"ts":"2024-01-01T13:55:00+05:45"}
	{"id":7,"ts":"\u0032024-01-01 08:10:00.0Z"}
	{"id":8,"ts":"2024-01-01T08:10:00.000000001Z"}
	{"id":9,"ts":"2024-01-01T08:10:00"}
	E
}

# n records over 720 instants (a minute each, 06:00Z to 17:59Z), each
# instant spelled six ways in turn; v is n mod 7.
many() {
	awk -v n="$1" 'BEGIN {
		for (k = 0; k < n; k++) {
			i = k % 720; s = int(k / 720) % 6
			h = 6 + int(i / 60); m = i % 60
			if (s == 0) t = sprintf("2024-01-01T%02d:%02d:00Z", h, m)
			if (s == 1) t = sprintf("2024-01-01T%02d:%02d:00+02:00", h + 2, m)
			if (s == 2) t = sprintf("2024-01-01T%02d:%02d:00.000-05:00", h - 5, m)
			if (s == 3) t = sprintf("2024-01-01t%02d:%02d:00z", h, m)
			if (s == 4) t = sprintf("2024-01-01 %02d:%02d:00.0Z", h, m)
			if (s == 5) t = sprintf("\\u0032024-01-01T%02d:%02d:00+00:00", h, m)
			printf "{\"n\":%d,\"ts\":\"%s\",\"v\":%d}\n", k, t, k % 7
		}
	}'
}

@test "dedup -k: one instant at any offset is one key; a time a nanosecond on and a string without a zone are others" {
	spellings > in.ndjson
	run dedup -k .ts in.ndjson
	assert_success
	assert_output - <<-'E'
	{"id":1,"ts":"2024-01-01T10:10:00+02:00"}
	{"id":8,"ts":"2024-01-01T08:10:00.000000001Z"}
	{"id":9,"ts":"2024-01-01T08:10:00"}
	dedup: 6 records dropped: duplicates (--dupes FILE keeps them)
	E
	# the whole record by value, a time inside it too
	printf '%s\n' '{"a":{"ts":"2024-01-01T10:10:00+02:00"}}' '{"a":{"ts":"2024-01-01T08:10:00Z"}}' > rec.ndjson
	run dedup rec.ndjson
	assert_output - <<-'E'
	{"a":{"ts":"2024-01-01T10:10:00+02:00"}}
	dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
	E
	# a member's name is a name, not an instant
	printf '%s\n' '{"2024-01-01T10:10:00+02:00":1}' '{"2024-01-01T08:10:00Z":1}' > names.ndjson
	run dedup names.ndjson
	assert_output - <<-'E'
	{"2024-01-01T10:10:00+02:00":1}
	{"2024-01-01T08:10:00Z":1}
	E
}

@test "a time finer than a nanosecond, or spelled in more than 64 bytes, is its instant too: one key at any offset, in instants' order (dedup, window, partition, reconcile)" {
	printf '%s\n' '{"id":1,"ts":"2024-01-01T08:10:00.0000000001Z"}' \
		'{"id":2,"ts":"2024-01-01T09:10:00.0000000001+01:00"}' \
		'{"id":3,"ts":"2024-01-01T08:10:00.00000000010000000000000000000000000000000000000000Z"}' \
		'{"id":4,"ts":"2024-01-01T08:10:00.00000000000000000000000000000000000000000000000000Z"}' \
		'{"id":5,"ts":"2024-01-01T08:10:00Z"}' \
		'{"id":6,"ts":"2024-01-01T06:10:00.00000000011-02:00"}' > in.ndjson
	run dedup -k .ts in.ndjson
	assert_output - <<-'E'
	{"id":1,"ts":"2024-01-01T08:10:00.0000000001Z"}
	{"id":4,"ts":"2024-01-01T08:10:00.00000000000000000000000000000000000000000000000000Z"}
	{"id":6,"ts":"2024-01-01T06:10:00.00000000011-02:00"}
	dedup: 3 records dropped: duplicates (--dupes FILE keeps them)
	E
	run dedup -k 1 --order-by .ts in.ndjson
	assert_line --index 0 '{"id":6,"ts":"2024-01-01T06:10:00.00000000011-02:00"}'
	run window --tumble 1d -t '"2024-01-01T00:00:00Z"' -g .ts --agg 'n=count()' in.ndjson
	assert_output - <<-'E'
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T08:10:00.00000000000000000000000000000000000000000000000000Z","n":2,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T08:10:00.0000000001Z","n":3,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T06:10:00.00000000011-02:00","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
	E
	run window --tumble 1d -t '"2024-01-01T00:00:00Z"' --agg 'mi=min(.ts)' --agg 'ma=max(.ts)' --agg 'd=distinct(.ts)' in.ndjson
	assert_output '{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"mi":"2024-01-01T08:10:00.00000000000000000000000000000000000000000000000000Z","ma":"2024-01-01T06:10:00.00000000011-02:00","d":3,"pane":{"timing":"on_time","index":0,"final":true}}'
	run sh -c 'partition -n 8 -g .ts in.ndjson | cut -f1 | sed -n 1,3p | sort -u | wc -l'
	assert_output 1
	sed -n 1p in.ndjson > s.ndjson
	sed -n 2p in.ndjson | sed 's/"id":2/"id":1/' > t.ndjson
	run reconcile -k .ts s.ndjson t.ndjson
	assert_success
	run reconcile -k .id s.ndjson t.ndjson
	assert_success
	# the limit the pages said is gone from them
	run grep -l -e 'than 64 bytes, is its text' -e 'in more than 64 bytes: such' -e 'or spelled in more than 64 bytes)' "$BATS_TEST_DIRNAME"/../man/dedup.1 "$BATS_TEST_DIRNAME"/../man/window.1 "$BATS_TEST_DIRNAME"/../man/reconcile.1 "$BATS_TEST_DIRNAME"/../man/idem.7
	assert_failure
}

@test "dedup --state of format 3 from before sub-nanosecond keys: every time it holds is found again at any spelling; one finer than a nanosecond passes once more, as idem(7) says" {
	# instants3.state: written by main at c6c0c1f from instants.ndjson
	cp "$fx/instants3.state" s.state
	printf '%s\n' '{"ts":"2024-01-01T08:10:00Z"}' \
		'{"ts":"2024-01-01T09:10:00.123456789+01:00"}' \
		'{"ts":"2017-01-01T05:29:60+05:30"}' \
		'{"ts":"2024-01-01T08:10:00.5Z"}' \
		'{"ts":["2024-01-01t10:10:00.000+02:00",1.0]}' \
		'{"ts":"0001-01-01T00:00:00.000Z"}' \
		'{"ts":"9999-12-31T23:59:59.999999999Z"}' \
		'{"ts":"2024-01-01T08:10:00.0000000001Z"}' > again.ndjson
	run dedup -k .ts --state s.state again.ndjson
	assert_success
	assert_output - <<-'E'
	{"ts":"2024-01-01T08:10:00.0000000001Z"}
	dedup: 7 records dropped: duplicates (--dupes FILE keeps them)
	E
	run grep -c 'a state of that idem' "$BATS_TEST_DIRNAME/../man/idem.7"
	assert_output 1
}

@test "dedup -k and repeated -k: -j 1 and -j 2 write the same bytes" {
	many 20000 > in.ndjson
	IDEM_PAR_CHUNK=4096 dedup -j 1 -k .ts in.ndjson > one 2> /dev/null
	IDEM_PAR_CHUNK=4096 dedup -j 2 -k .ts in.ndjson > two 2> /dev/null
	cmp one two
	assert_equal "$(wc -l < one)" 720
	assert_equal "$(head -1 one)" '{"n":0,"ts":"2024-01-01T06:00:00Z","v":0}'
	IDEM_PAR_CHUNK=4096 dedup -j 1 -k .v -k .ts in.ndjson > one 2> /dev/null
	IDEM_PAR_CHUNK=4096 dedup -j 2 -k .v -k .ts in.ndjson > two 2> /dev/null
	cmp one two
	assert_equal "$(wc -l < one)" $((720 * 7))
}

@test "dedup --state: a new state keys times as instants across runs (format 3)" {
	printf '{"ts":"2024-01-01T10:10:00+02:00"}\n' | dedup -k .ts --state s.idx > /dev/null
	run sh -c 'od -An -tu4 -j16 -N4 s.idx | tr -d " "'
	assert_output 3
	run sh -c 'printf "{\"ts\":\"2024-01-01T08:10:00.000Z\"}\n{\"ts\":\"2024-01-01T08:10:01Z\"}\n" | dedup -k .ts --state s.idx'
	assert_success
	assert_output - <<-'E'
	{"ts":"2024-01-01T08:10:01Z"}
	dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
	E
}

@test "dedup --state of format 1: its keys stay text, said once, saved as format 1" {
	cp "$fx/dedup.state" .
	# the key it holds, spelled as it was: still a duplicate; spelled
	# otherwise: a key of its own, as it was when the state was made
	run sh -c 'printf "%s\n" "{\"ts\":\"2024-01-01T10:10:00+02:00\"}" "{\"ts\":\"2024-01-01T08:10:00Z\"}" | dedup -k .ts --state dedup.state'
	assert_success
	assert_output - <<-E
	dedup: dedup.state: $old_state: its keys stay text (one time spelled at two offsets is two keys); a new state file keys times as instants
	{"ts":"2024-01-01T08:10:00Z"}
	dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
	E
	run sh -c 'od -An -tu4 -j16 -N4 dedup.state | tr -d " "'
	assert_output 1
	run sh -c 'printf "%s\n" "{\"ts\":\"2024-01-01T08:10:00Z\"}" "{\"ts\":\"2024-01-01T08:20:00Z\"}" | dedup -k .ts --state dedup.state 2> /dev/null'
	assert_output ''
}

@test "window -g: one group per instant, shown as first spelled; distinct() counts instants; -j 1 and -j 2 agree" {
	spellings | grep -v '"id":9' > in.ndjson
	run window --tumble 1d -t .ts -g .ts --agg 'n=count()' --agg 'd=distinct(.ts)' in.ndjson
	assert_success
	assert_output - <<-'E'
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T10:10:00+02:00","n":7,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T08:10:00.000000001Z","n":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
	E
	many 20000 > many.ndjson
	for j in 1 2; do
		IDEM_PAR_CHUNK=4096 window -j $j --tumble 1h -t .ts -g .ts --agg 'n=count()' --agg 'd=distinct(.ts)' --agg 'v=distinct(.v)' many.ndjson > out$j
	done
	cmp out1 out2
	assert_equal "$(wc -l < out1)" 720
	assert_equal "$(grep -c '"d":1,"v":7,' out1)" 720
	assert_equal "$(head -1 out1)" '{"window":{"start":"2024-01-01T06:00:00Z","end":"2024-01-01T07:00:00Z"},"key":"2024-01-01T06:00:00Z","n":28,"d":1,"v":7,"pane":{"timing":"on_time","index":0,"final":true}}'
	# two shards hold whole instants, and merge to the one run
	for i in 0 1; do
		window --tumble 1h -t .ts -g .ts --agg 'n=count()' --agg 'd=distinct(.ts)' --agg 'v=distinct(.v)' --shard $i/2 many.ndjson > shard$i
	done
	window merge shard1 shard0 > merged
	cmp out1 merged
}

@test "window --state of format 2: its group keys and distinct() values stay text, saved as format 2" {
	cp "$fx/window.state" .
	# 10:10+02:00 spelled as the state holds it joins its group; 08:10Z
	# is a group of its own, as it was; 10:00Z closes the windows.  Two
	# spellings of one instant sort by their text, the same in any run
	run sh -c 'printf "%s\n" "{\"id\":3,\"ts\":\"2024-01-01T10:10:00+02:00\"}" "{\"id\":4,\"ts\":\"2024-01-01T08:10:00Z\"}" "{\"id\":5,\"ts\":\"2024-01-01T10:00:00Z\"}" | window --tumble 1h -t .ts -g .ts --agg "n=count()" --agg "d=distinct(.ts)" --state window.state'
	assert_success
	assert_output - <<-E
	window: window.state: $old_state: its group keys and distinct() values stay text (one time spelled at two offsets is two); a new state file compares them as instants
	{"window":{"start":"2024-01-01T08:00:00Z","end":"2024-01-01T09:00:00Z"},"key":"2024-01-01T08:10:00Z","n":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T08:00:00Z","end":"2024-01-01T09:00:00Z"},"key":"2024-01-01T10:10:00+02:00","n":2,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T08:00:00Z","end":"2024-01-01T09:00:00Z"},"key":"2024-01-01T08:20:00Z","n":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
	E
	run sh -c 'od -An -tu4 -j16 -N4 window.state | tr -d " "'
	assert_output 2
	# a new state is format 3
	window --tumble 1h -t .ts -g .ts --state new.state < "$fx/in.ndjson"
	run sh -c 'od -An -tu4 -j16 -N4 new.state | tr -d " "'
	assert_output 3
}

@test "partition -g and -k: every spelling of an instant goes to one partition; -j 1 and -j 2 agree" {
	spellings | grep -v '"id":[89]' > in.ndjson
	run sh -c 'partition -n 8 -g .ts in.ndjson | cut -f1 | sort -u | wc -l'
	assert_output 1
	run sh -c 'partition -n 8 -k .ts in.ndjson | cut -f1 | sort -u | wc -l'
	assert_output 1
	many 20000 > many.ndjson
	for k in -g -k; do
		IDEM_PAR_CHUNK=4096 partition -j 1 -n 4 $k .ts -o p1$k many.ndjson
		IDEM_PAR_CHUNK=4096 partition -j 2 -n 4 $k .ts -o p2$k many.ndjson
		for i in 0 1 2 3; do cmp p1$k/$i.ndjson p2$k/$i.ndjson; done
	done
	# each partition holds whole instants, as dedup and window key them
	for i in 0 1 2 3; do
		dedup -k .ts --partition $i/4 p1-k/$i.ndjson > d$i 2> /dev/null
		window --tumble 1h -t .ts -g .ts --agg 'n=count()' --partition $i/4 p1-g/$i.ndjson > w$i
	done
	assert_equal "$(cat d0 d1 d2 d3 | wc -l)" 720
	assert_equal "$(window merge w0 w1 w2 w3 | wc -l)" 720
	assert_equal "$(window merge w0 w1 w2 w3 | grep -c '"n":2[78],')" 720
}

@test "reconcile: keys and row fingerprints take times as instants; -j 1 and -j 2 agree" {
	printf '%s\n' '{"id":1,"at":"2024-01-01T08:10:00Z"}' '{"id":2,"at":"2024-01-01T09:00:00Z"}' > src.ndjson
	printf '%s\n' '{"id":1,"at":"2024-01-01T10:10:00.000+02:00"}' '{"id":2,"at":"2024-01-01T09:00:01Z"}' > tgt.ndjson
	run reconcile -k .at --format ndjson src.ndjson tgt.ndjson
	assert_failure 1
	assert_output - <<-'E'
	{"total":true,"match":false,"source":{"rows":2,"keys":2,"duplicate_keys":0,"fingerprint":"f692bf077d6ff97372a54048fc2f7608"},"target":{"rows":2,"keys":2,"duplicate_keys":0,"fingerprint":"8d67b8d59c6707a78870b863a4a3143c"},"missing":1,"extra":1,"changed":0}
	{"diff":"missing","key":"2024-01-01T09:00:00Z"}
	{"diff":"extra","key":"2024-01-01T09:00:01Z"}
	E
	# by id: row 1 is the same row, row 2 changed
	run reconcile -k .id --format ndjson src.ndjson tgt.ndjson
	assert_failure 1
	assert_line --index 1 '{"diff":"changed","key":2,"source_rows":1,"target_rows":1,"fields":{"at":{"source":"2024-01-01T09:00:00Z","target":"2024-01-01T09:00:01Z"}}}'
	assert_equal "${#lines[@]}" 2
	many 20000 > many.ndjson
	awk '{ sub(/"n":[0-9]+,/, ""); print }' many.ndjson | sort > a.ndjson
	awk '{ sub(/"n":[0-9]+,/, ""); print }' many.ndjson | sort -r > b.ndjson
	for j in 1 2; do
		IDEM_PAR_CHUNK=4096 reconcile -j $j -k .ts --by .ts --format ndjson a.ndjson b.ndjson > r$j || true
	done
	cmp r1 r2
	# a partition is labelled as the source first spelled it
	run head -c 71 r1
	assert_output '{"partition":"2024-01-01 06:00:00.0Z","match":true,"source":{"rows":28,'
	run grep -c '"source":{"rows":2[78],' r1
	assert_output 720
	assert_equal "$(grep -c '"match":true' r1)" 721
}

@test "reconcile summaries: format 2 since times are instants; one of format 1 compares only with its own" {
	reconcile summarize -k .ts --by .ts "$fx/in.ndjson" > new.ndjson
	run head -c 24 new.ndjson
	assert_output '{"reconcile_summary":2,"'
	run reconcile compare "$fx/summary.ndjson" new.ndjson
	assert_failure 2
	assert_output - <<-E
	reconcile: $fx/summary.ndjson: a summary from before keys compared times as instants: it is read as it was made, times as text; summarize again to compare them as instants
	reconcile: new.ndjson: a summary of format 2 (times as instants) does not compare with $fx/summary.ndjson's of format 1 (times as text): summarize $fx/summary.ndjson again with this reconcile
	E
	run reconcile compare new.ndjson "$fx/summary.ndjson"
	assert_failure 2
	assert_output "reconcile: $fx/summary.ndjson: a summary of format 1 (times as text) does not compare with new.ndjson's of format 2 (times as instants): summarize $fx/summary.ndjson again with this reconcile"
	run reconcile compare --format ndjson "$fx/summary.ndjson" "$fx/summary.ndjson"
	assert_success
	# a merge of format 1 stays format 1
	reconcile merge "$fx/summary.ndjson" 2> /dev/null > merged.ndjson
	run head -c 24 merged.ndjson
	assert_output '{"reconcile_summary":1,"'
}

@test "txlog merge -k: a row keyed by one instant at another offset is updated, not inserted" {
	txlog init t --infer
	printf '{"at":"2024-01-01T10:10:00+02:00","v":1}\n{"at":"2024-01-01T09:00:00Z","v":1}\n' | txlog append t
	printf '{"at":"2024-01-01T08:10:00.000Z","v":2}\n' | txlog merge t -k .at
	run txlog cat t
	assert_success
	assert_output - <<-'E'
	{"at":"2024-01-01T09:00:00Z","v":1}
	{"at":"2024-01-01T08:10:00.000Z","v":2}
	E
	# 720 rows, merged with every instant spelled otherwise: 720 rows
	many 720 | sed 's/"ts"/"at"/' > rows.ndjson
	many 1440 | tail -n 720 | sed 's/"ts"/"at"/' > again.ndjson
	for j in 1 2; do
		txlog init t$j --infer
		txlog append t$j rows.ndjson
		IDEM_PAR_CHUNK=4096 txlog merge -j $j t$j -k .at again.ndjson
		txlog cat t$j | sort > cat$j
	done
	cmp cat1 cat2
	assert_equal "$(wc -l < cat1)" 720
	run sh -c "sed 's/^{\"n\":\([0-9]*\),.*/\1/' cat1 | awk '\$1 >= 720' | wc -l"
	assert_output 720
}

@test "dlq replay ledger of format 3: a record it handed out that fails again is counted again" {
	cp "$fx/dlq.ndjson" "$fx/dlq.ndjson.replay" .
	printf '%s\n' '{"ok":false,"ts":"2024-01-01T10:10:00+02:00"}' | dlq check -e .ok --dlq dlq.ndjson
	run sh -c 'tail -1 dlq.ndjson | jq -c "[.original_record, .retry_count]"'
	assert_output '[{"ok":false,"ts":"2024-01-01T10:10:00+02:00"},1]'
}

@test "what jq compares stays jq's: dlq check's == and a schema's enum take times as text" {
	printf '%s\n' '{"ts":"2024-01-01T10:10:00+02:00"}' '{"ts":"2024-01-01T08:10:00Z"}' > in.ndjson
	run dlq check -e '.ts == "2024-01-01T08:10:00Z"' --dlq bad.ndjson in.ndjson
	assert_success
	assert_output '{"ts":"2024-01-01T08:10:00Z"}'
	run sh -c 'jq -c "select(.ts == \"2024-01-01T08:10:00Z\")" in.ndjson'
	assert_output '{"ts":"2024-01-01T08:10:00Z"}'
}

@test "the order of keys is total: a time is its instant and comes before every other string (dedup --order-by, window min/max and key order, reconcile --by)" {
	# jq's order with instants only between two times would be a cycle:
	# 10:00+02:00 (08:00Z) < 09:00Z < "2024-01-01T09:30" (text) < 10:00+02:00
	cat > in.ndjson <<-'E'
	{"id":1,"o":"2024-01-01T09:30","n":1}
	{"id":1,"o":"2024-01-01T10:00:00+02:00","n":2}
	{"id":1,"o":"2024-01-01T09:00:00Z","n":3}
	E
	for perm in "1 2 3" "3 2 1" "2 3 1"; do
		for k in $perm; do sed -n "${k}p" in.ndjson; done > p.ndjson
		run --separate-stderr dedup -k .id --order-by .o p.ndjson
		assert_success
		assert_output '{"id":1,"o":"2024-01-01T09:30","n":1}'
		run window --tumble 1d -t '"2024-01-01T00:00:00Z"' -g .o --agg 'mi=min(.o)' --agg 'ma=max(.o)' p.ndjson
		assert_success
		assert_output - <<-'E'
		{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T10:00:00+02:00","mi":"2024-01-01T10:00:00+02:00","ma":"2024-01-01T10:00:00+02:00","pane":{"timing":"on_time","index":0,"final":true}}
		{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T09:00:00Z","mi":"2024-01-01T09:00:00Z","ma":"2024-01-01T09:00:00Z","pane":{"timing":"on_time","index":0,"final":true}}
		{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"key":"2024-01-01T09:30","mi":"2024-01-01T09:30","ma":"2024-01-01T09:30","pane":{"timing":"on_time","index":0,"final":true}}
		E
		run window --tumble 1d -t '"2024-01-01T00:00:00Z"' --agg 'mi=min(.o)' --agg 'ma=max(.o)' p.ndjson
		assert_success
		assert_output '{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00Z"},"mi":"2024-01-01T10:00:00+02:00","ma":"2024-01-01T09:30","pane":{"timing":"on_time","index":0,"final":true}}'
		run reconcile -k .n --by .o p.ndjson p.ndjson
		assert_success
		assert_equal "$(printf '%s\n' "$output" | jq -c 'select(.partition) | .partition')" "$(printf '%s\n' '"2024-01-01T10:00:00+02:00"' '"2024-01-01T09:00:00Z"' '"2024-01-01T09:30"')"
	done
}

@test "an old state under --partition names why a time arrives in another partition: partition(1) routes instants, the state keys text" {
	printf '{"ts":"2024-01-01T%02d:00:00Z"}\n' $(seq 0 9) > in.ndjson
	partition -n 2 -k .ts -o p in.ndjson
	cp "$fx/dedup.state" .
	run --separate-stderr dedup -k .ts --state dedup.state --partition 1/2 p/1.ndjson
	assert_failure 2
	assert_output ''
	assert_equal "${stderr_lines[1]}" "dedup: p/1.ndjson:1: key of partition 0, not 1 of 2 (--partition): partition the input with the same key and N; or this state, from before keys compared times as instants, keys them by their text and partition(1) by their instant: go on with --shard I/N over the whole input, or start a new state file"
	# --shard over the whole input keys as the state does
	run --separate-stderr dedup -k .ts --state dedup.state --shard 1/2 in.ndjson
	assert_success
}
