#!/usr/bin/env bats
# State files written before the payload codec moved into lib/statefile
# (tests/state-formats/README) still load, and a save of what was loaded
# writes the same bytes: the formats did not change.

load helpers
bats_require_minimum_version 1.5.0

fx=$BATS_TEST_DIRNAME/state-formats
W_AGGS=(--agg 'n=count()' --agg 'd=distinct(.id)' --agg 's=sum(.id)' --agg 'm=p50(.id)' --agg 'f=first(.ts)')

@test "an old dedup state loads, knows its keys, and is saved byte for byte" {
	cp "$fx/dedup.state" "$fx/dedup-ttl.state" .
	# a state from before times were instants says so, and stays so
	old='a state from before keys compared times as instants: its keys stay text (one time spelled at two offsets is two keys); a new state file keys times as instants'
	run dedup -k .id --state dedup.state "$fx/in.ndjson"
	assert_success
	assert_output - <<-E
	dedup: dedup.state: $old
	dedup: 3 records dropped: duplicates (--dupes FILE keeps them)
	E
	cmp dedup.state "$fx/dedup.state"
	run dedup -k .id -t .ts --ttl 1h --state dedup-ttl.state "$fx/in.ndjson"
	assert_success
	assert_output - <<-E
	dedup: dedup-ttl.state: $old
	dedup: 3 records dropped: duplicates (--dupes FILE keeps them)
	E
	cmp dedup-ttl.state "$fx/dedup-ttl.state"
	printf '{"id":3,"ts":"2024-01-01T00:00:07Z"}\n' | dedup -k .id --state dedup.state 2> /dev/null > out
	assert_equal "$(cat out)" '{"id":3,"ts":"2024-01-01T00:00:07Z"}'
}

@test "an old dedup state of a batch replays it, says which options it cannot check, and keeps them from then on" {
	cp "$fx/dedup-batch.state" .
	run --separate-stderr dedup -k .id --keep last --state dedup-batch.state --batch 7 "$fx/in.ndjson"
	assert_success
	assert_output - <<-'J'
	{"id":2,"ts":"2024-01-01T00:00:05Z"}
	{"id":1,"ts":"2024-01-01T00:00:06Z"}
	J
	assert_equal "$stderr" "dedup: dedup-batch.state: batch 7 was run by a dedup that kept no note of its options: this replay's --order-by, --keep, --ttl, -t, --time-unit, --dlq and --max-line are not checked against its run's (give them as it did)
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)"
	# the flags at byte 20: generations, input, and now the options
	run sh -c 'od -An -tu4 -j20 -N4 dedup-batch.state | tr -d " "'
	assert_output 13
	run sh -c 'od -An -tu4 -j20 -N4 "$1/dedup-batch.state" | tr -d " "' sh "$fx"
	assert_output 5
	run --separate-stderr dedup -k .id --state dedup-batch.state --batch 7 "$fx/in.ndjson"
	assert_failure 2
	assert_equal "$stderr" "dedup: dedup-batch.state: batch 7 replayed with --keep first, but its run had --keep last; state left as that run committed it (replay the batch with its run's options, or name another batch)"
	# a key of the base is no key of the batch's: the base was loaded
	printf '{"id":9}\n{"id":3}\n' > next.ndjson
	run --separate-stderr dedup -k .id --state dedup-batch.state --batch 8 next.ndjson
	assert_success
	assert_output '{"id":3}'
}

@test "an old window state of a batch replays it, says which options it cannot check, and keeps them from then on" {
	cp "$fx/window-batch.state" .
	run --separate-stderr window --tumble 10s -t .ts -g .id --delay 0s --state window-batch.state --batch 7 "$fx/in.ndjson"
	assert_success
	assert_output ''
	assert_equal "$stderr" "window: window-batch.state: batch 7 was run by a window that kept no note of its options: this replay's --delay, --emit, --time-unit, --late, --dlq and --max-line are not checked against its run's (give them as it did)"
	# the flags at byte 20: generations, input, and now the options
	run sh -c 'od -An -tu4 -j20 -N4 window-batch.state | tr -d " "'
	assert_output 13
	run sh -c 'od -An -tu4 -j20 -N4 "$1/window-batch.state" | tr -d " "' sh "$fx"
	assert_output 5
	run --separate-stderr window --tumble 10s -t .ts -g .id --state window-batch.state --batch 7 "$fx/in.ndjson"
	assert_failure 2
	assert_equal "$stderr" "window: window-batch.state: batch 7 replayed with no --delay, but its run had --delay 0s; state left as that run committed it (replay the batch with its run's options, or name another batch)"
	printf '{"id":3,"ts":"2024-01-01T00:00:30Z"}\n' > next.ndjson
	run --separate-stderr window --tumble 10s -t .ts -g .id --delay 0s --state window-batch.state --batch 8 next.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:00:10Z"},"key":1,"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:00:10Z"},"key":2,"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:00:10Z"},"key":9,"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "an old window state (format 1) loads its open windows, is saved as format 2 (text keys), and that loads back to the same bytes" {
	cp "$fx/window.state" .
	run window --tumble 10s -t .ts -g .id "${W_AGGS[@]}" --state window.state < /dev/null
	assert_success
	assert_output 'window: window.state: a state from before keys compared times as instants: its group keys and distinct() values stay text (one time spelled at two offsets is two); a new state file compares them as instants'
	# format 2 is still of text keys: saved as 2, not 3
	# format 2 adds each kept value's arrival (first, last, min, max,
	# percentiles): the u32 at byte 16 of the header
	run sh -c 'od -An -tu4 -j16 -N4 window.state | tr -d " "'
	assert_output 2
	run sh -c 'od -An -tu4 -j16 -N4 "$1/window.state" | tr -d " "' sh "$fx"
	assert_output 1
	cp window.state v2.state
	window --tumble 10s -t .ts -g .id "${W_AGGS[@]}" --state window.state < /dev/null 2> /dev/null
	cmp window.state v2.state
	run sh -c "printf '{\"id\":3,\"ts\":\"2024-01-01T00:00:30Z\"}\n' | window --tumble 10s -t .ts -g .id $(printf "'%s' " "${W_AGGS[@]}") --state window.state 2> /dev/null"
	assert_success
	assert_output - <<-'E'
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:00:10Z"},"key":1,"n":2,"d":1,"s":2,"m":1,"f":"2024-01-01T00:00:00Z","pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:00:10Z"},"key":2,"n":1,"d":1,"s":2,"m":2,"f":"2024-01-01T00:00:05Z","pane":{"timing":"on_time","index":0,"final":true}}
	E
}

@test "an old checkpoint state loads its offsets and pending batch" {
	cp "$fx/checkpoint.state" .
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' > data.ndjson
	run checkpoint status -s checkpoint.state
	assert_success
	# the fixture's file (by its inode) is not this one: the pending
	# batch's bytes are gone, which a read would refuse
	assert_output '{"file":"data.ndjson","offset":16,"size":24,"lag":24,"state":"missing","batch":1,"pending":{"batch":2,"end":24,"delivered":true}}'
	run checkpoint commit -s checkpoint.state
	assert_success
	run checkpoint status -s checkpoint.state
	assert_output '{"file":"data.ndjson","offset":24,"size":24,"lag":24,"state":"rotated","batch":2,"pending":null}'
}

@test "an old dlq replay ledger loads: the commit removes exactly the lines it handed out" {
	cp "$fx/dlq.ndjson" "$fx/dlq.ndjson.replay" .
	run dlq replay dlq.ndjson --commit
	assert_success
	[ ! -s dlq.ndjson ]
	[ ! -e dlq.ndjson.replay ]
}

@test "a state from before arithmetic in jq programs was exact says so once, and its next save is marked" {
	cp "$fx/dedup-arith.state" "$fx/window-arith.state" .
	# the old run keyed 0.57 as [56]: the record is new to [57]
	run dedup -k '[.pct*100|floor]' --state dedup-arith.state "$fx/arith.ndjson"
	assert_success
	assert_output - <<'E'
dedup: dedup-arith.state: written when + - * / and jq's math (sqrt, pow...) in jq programs were binary floating point: where that rounded (.pct * 100 | floor of 0.57 was 56, is 57) a key now differs from the one the state holds; what this run saves is exact (idem(7))
{"id":1,"pct":0.57}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
E
	run dedup -k '[.pct*100|floor]' --state dedup-arith.state "$fx/arith.ndjson"
	assert_success
	assert_output 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)'
	# another program is still another state
	run dedup -k '[.pct*10|floor]' --state dedup-arith.state "$fx/arith.ndjson"
	assert_failure 2
	assert_output "dedup: dedup-arith.state: state was written for keys '-k [.pct*100|floor] arith=exact', not '-k [.pct*10|floor] arith=exact'; use a new state file"
	# arithmetic in a string's interpolation computes too; a '-' in a
	# string does not
	dedup -k '"\(.pct*100)"' --state interp.state "$fx/arith.ndjson" > /dev/null
	run dedup -k '"\(.pct*10)"' --state interp.state "$fx/arith.ndjson"
	assert_failure 2
	assert_output "dedup: interp.state: state was written for keys '-k \"\\(.pct*100)\" arith=exact', not '-k \"\\(.pct*10)\" arith=exact'; use a new state file"
	dedup -k '"a-b"' --state text.state "$fx/arith.ndjson" > /dev/null
	run dedup -k '"a-c"' --state text.state "$fx/arith.ndjson"
	assert_failure 2
	assert_output "dedup: text.state: state was written for keys '-k \"a-b\"', not '-k \"a-c\"'; use a new state file"
	printf '{"t":2,"pct":0.57}\n' > w.ndjson
	run window --tumble 1h -t .t -g '[.pct*100|floor]' --delay 1s --state window-arith.state w.ndjson
	assert_success
	assert_output "window: window-arith.state: written when + - * / and jq's math (sqrt, pow...) in jq programs were binary floating point: where that rounded (.pct * 100 | floor of 0.57 was 56, is 57) a group now differs from the one the state holds; what this run saves is exact (idem(7))"
	printf '{"t":7200,"pct":0.57}\n' > w.ndjson
	run window --tumble 1h -t .t -g '[.pct*100|floor]' --delay 1s --state window-arith.state w.ndjson
	assert_success
	assert_output - <<'E'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[56],"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[57],"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
E
}

@test "a reconcile summary from before arithmetic in jq programs was exact is refused beside one made now, and compares with its like" {
	cp "$fx/reconcile-arith.sum" old.sum
	reconcile summarize -k '[.pct*100|floor]' --sum '.pct*100' "$fx/arith.ndjson" > new.sum
	run head -1 new.sum
	assert_output '{"reconcile_summary":2,"key":["[.pct*100|floor]"],"sum":[".pct*100"],"by":null,"buckets":256,"arith":"exact"}'
	# the same records: the old one's key of 0.57 was [56], another
	# bucket, which compare reported as a difference
	run reconcile compare old.sum new.sum
	assert_failure 2
	assert_output - <<'E'
reconcile: old.sum: a summary from before + - * / and jq's math (sqrt, pow...) in jq programs were exact: it is read as it was made, binary floating point; where that rounded (.pct * 100 | floor of 0.57 was 56, is 57) it differs from one made now: summarize again
reconcile: old.sum: summarized when + - * / and jq's math (sqrt, pow...) in jq programs were binary floating point, new.sum since they are exact: where that rounded, their keys, partitions and sums differ with no difference in the records; summarize old.sum again with this reconcile
E
	refused 'reconcile: old.sum: summarized when + - * / and jq'"'"'s math (sqrt, pow...) in jq programs were binary floating point, new.sum since they are exact: where that rounded, their keys, partitions and sums differ with no difference in the records; summarize old.sum again with this reconcile' \
		reconcile compare new.sum old.sum
	# two of before compare as they were made; a merge of them stays
	# unmarked
	cp old.sum old2.sum
	run reconcile compare old.sum old2.sum
	assert_success
	assert_line -n 0 --partial 'reconcile: old.sum: a summary from before + - * / and jq'"'"'s math (sqrt, pow...) in jq programs were exact'
	reconcile merge old.sum 2> /dev/null > merged.sum
	run head -1 merged.sum
	assert_output '{"reconcile_summary":2,"key":["[.pct*100|floor]"],"sum":[".pct*100"],"by":null,"buckets":256}'
	# a summary whose programs do not compute is as it was
	reconcile summarize -k '[.pct]' "$fx/arith.ndjson" > plain.sum
	run head -1 plain.sum
	assert_output '{"reconcile_summary":2,"key":["[.pct]"],"sum":[],"by":null,"buckets":256}'
}

@test "a state from before jq's math was exact says so once; one of math that scaled exactly does not" {
	cp "$fx/dedup-math.state" .
	# the old run keyed 0.57 as false: pow(0.57; 2) was 0.32489999999999997
	run dedup -k '.pct | pow(.; 2) >= 0.3249' --state dedup-math.state "$fx/arith.ndjson"
	assert_success
	assert_output - <<'E'
dedup: dedup-math.state: written when + - * / and jq's math (sqrt, pow...) in jq programs were binary floating point: where that rounded (.pct * 100 | floor of 0.57 was 56, is 57) a key now differs from the one the state holds; what this run saves is exact (idem(7))
{"id":1,"pct":0.57}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
E
	run dedup -k '.pct | pow(.; 2) >= 0.3249' --state dedup-math.state "$fx/arith.ndjson"
	assert_success
	assert_output 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)'
	# fabs, ldexp, frexp... gave the exact value already; a member or
	# a string named like a math function is none
	for k in '.pct | fabs' '[.pct | ldexp(.; 3), frexp]' '.log | length' '"sqrt"' '.pct as $sin | $sin'; do
		dedup -k "$k" --state plain.state "$fx/arith.ndjson" > /dev/null 2>&1
		grep -q 'arith=exact' plain.state && fail "$k marked its state"
		rm plain.state
	done
}
