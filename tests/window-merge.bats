#!/usr/bin/env bats
# window merge and the _shard line that ends each --shard output: a shard
# left out, cut short, given twice or run with other options is refused,
# never merged into an answer that lacks its groups.

load helpers
bats_require_minimum_version 1.5.0

W="window -g .g -t .t --tumble 1m --agg n=count()"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	printf '{"g":%d,"t":%d}\n' 1 5 2 6 3 70 4 80 5 130 6 131 7 200 > in
}

# shards N [OPTION...]: s0 .. s(N-1), the outputs of $W --shard I/N
shards() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do $W "$@" --shard $i/$n in > s$i; done
}

@test "a --shard run ends with one _shard line: its index, N, its panes, the run's fingerprint and its input's" {
	shards 2
	for i in 0 1; do
		run tail -n 1 s$i
		assert_output --regexp "^\{\"_shard\":\{\"index\":$i,\"of\":2,\"panes\":$(grep -c '"window"' s$i),\"run\":\"[0-9a-f]{32}\",\"input\":\"[0-9a-f]{32}\"\}\}$"
	done
	# one fingerprint for both, and nothing else but panes before it
	assert_equal "$(tail -qn 1 s0 s1 | jq -r ._shard.run | sort -u | wc -l)" 1
	assert_equal "$(tail -qn 1 s0 s1 | jq -r ._shard.input | sort -u | wc -l)" 1
	assert_equal "$(grep -c _shard s0 s1 | tr '\n' ' ')" "s0:1 s1:1 "
}

@test "window merge refuses a --shard run over other input: every shard reads every record" {
	shards 3
	head -n 6 in > less
	$W --shard 1/3 less > other
	refused "window: other:4: shard 1 of 3 read other input than shard 0: every --shard reads the same records, run by run; give the outputs of one run's shards" \
		window merge s0 other s2
	# the same lines from a compressed file, or on more threads, are the same input
	zstd -q -c in > in.zst
	$W --shard 1/3 -j 3 in.zst > same
	window merge s0 same s2 | cmp - <($W in)
}

@test "window merge refuses a shard left out" {
	shards 2
	refused "window: shard 1 of 2 is missing: no input has its _shard line; give the outputs of all 2 shards" \
		window merge s0
	shards 4
	refused "window: shard 2 of 4 is missing: no input has its _shard line; give the outputs of all 4 shards" \
		window merge s0 s1 s3
	window merge s3 s1 s2 s0 | cmp - <($W in)
}

@test "window merge refuses a shard cut short at a line's end, and an empty one" {
	shards 2
	head -n 1 s1 > cut
	refused "window: cut: ends without a _shard line (1 pane), where s0:3 has one: the output of a shard cut short, of a run without --shard or of an older window; give the whole outputs of one command line's shards" \
		window merge s0 cut
	: > empty
	refused "window: empty: ends without a _shard line (0 panes), where s0:3 has one: the output of a shard cut short, of a run without --shard or of an older window; give the whole outputs of one command line's shards" \
		window merge s0 s1 empty
	# from a pipe too
	run sh -c 'cat cut | window merge s0 -'
	assert_failure 2
	assert_output "window: <stdin>: ends without a _shard line (1 pane), where s0:3 has one: the output of a shard cut short, of a run without --shard or of an older window; give the whole outputs of one command line's shards"
}

@test "window merge refuses a _shard line that does not count the panes before it" {
	shards 2
	sed 1d s1 > lost
	refused "window: lost:5: the _shard line of shard 1 of 2 counts 5 panes, and 4 come before it: a pane lost, added or out of its place" \
		window merge s0 lost
	# a pane moved from one shard's output to the other's
	{ head -n 1 s1; cat s0; } > s0plus
	sed 1d s1 > s1less
	refused "window: s0plus:4: the _shard line of shard 0 of 2 counts 2 panes, and 3 come before it: a pane lost, added or out of its place" \
		window merge s0plus s1less
}

@test "window merge refuses panes after an input's last _shard line" {
	shards 2
	{ cat s0; head -n 2 s1; } > tail
	refused "window: tail:4: 2 panes after the last _shard line (line 3) and none after them: the output of a shard's run cut short" \
		window merge tail s1
	# whole outputs one after the other are one input: cat part-* | window merge
	cat s1 s0 | window merge | cmp - <($W in)
}

@test "window merge refuses the shards of runs with other options, and takes other spellings of the same ones" {
	shards 2
	window -g .g -t .t --tumble 2m --agg 'n=count()' --shard 1/2 in > other
	run window merge s0 other
	assert_failure 2
	assert_output --regexp '^window: other:[0-9]+: shard 1 of a run with other window options than s0:3.s shard 0 \(run [0-9a-f]{32}, not [0-9a-f]{32}\): merge the shards of one command line$'
	# each option that shapes the panes is in the fingerprint
	for o in '--delay 0s' '--lateness 1m --delay 0s' '--emit update' '--offset 30s' \
		'--time-unit ms' '--state st' '--max-line 1k'; do
		$W $o --shard 1/2 in > other
		run window merge s0 other
		assert_failure 2
		assert_output --partial 'with other window options'
	done
	# calendar bounds written with --tz UTC are "+00:00", without it "Z"
	window --tumble 1w -t .t --shard 0/2 in > w0
	window --tumble 1w -t .t --tz UTC --shard 1/2 in > w1
	run window merge w0 w1
	assert_failure 2
	assert_output --partial 'with other window options'
	window -g .g -t .t --tumble 1m --agg 'm=count()' --shard 1/2 in > other
	run window merge s0 other
	assert_failure 2
	# another N
	window -g .g -t .t --tumble 1m --agg 'n=count()' --shard 1/3 in > other
	refused "window: other:5: a shard of 3, and s0:3 one of 2: the shards of other command lines" \
		window merge s0 other
	# option order and spelling do not matter; what leaves panes alone may differ
	window --agg 'n=count( )' --tumble 60s -t .t --shard 1/2 -g .g --offset 1m --late late \
		--dlq bad -j 2 --stats in > same 2> /dev/null
	window merge s0 same | cmp - <($W in)
	window --tumble 1h -t .t --agg 'a=p50(.t)' --shard 0/2 in > p0
	window --tumble 1h -t .t --agg 'a=p(.t, 0.50)' --shard 1/2 in > p1
	window merge p0 p1 | cmp - <(window --tumble 1h -t .t --agg 'a=p50(.t)' in)
}

@test "window merge refuses inputs with _shard lines beside inputs without" {
	shards 2
	$W in > whole
	refused "window: whole: ends without a _shard line (7 panes), where s0:3 has one: the output of a shard cut short, of a run without --shard or of an older window; give the whole outputs of one command line's shards" \
		window merge s0 whole
	# without any _shard line, as before: unchecked (a missing shard unseen)
	grep -hv _shard s0 > bare0
	run window merge bare0
	assert_success
	assert_output "$(cat bare0)"
}

@test "window merge refuses a _shard line it did not write" {
	shards 2
	for bad in '{"_shard":{"index":2,"of":2,"panes":0,"run":"00000000000000000000000000000000"}}' \
		'{"_shard":{"index":0,"of":2,"panes":-1,"run":"00000000000000000000000000000000"}}' \
		'{"_shard":{"index":0,"of":2,"panes":0,"run":"0000"}}' \
		'{"_shard":{"index":0,"of":2,"panes":0,"run":"00000000000000000000000000000000","x":1}}' \
		'{"_shard":{"index":1.0,"of":2,"panes":0,"run":"00000000000000000000000000000000"}}' \
		'{"_shard":[0,2]}' \
		'{"_shard":{"index":0,"of":4294967295,"panes":0,"run":"00000000000000000000000000000000"}}'; do
		printf '%s\n' "$bad" > bad
		run window merge s0 s1 bad
		assert_failure 2
		assert_output --regexp '^window: bad:1: not a _shard line of window --shard: '
	done
	# a pane whose --agg is named _shard is a pane
	window -g .g -t .t --tumble 1m --agg '_shard=count()' --shard 0/1 in > a
	window merge a | cmp - <(window -g .g -t .t --tumble 1m --agg '_shard=count()' in)
}

# a pane index is a uint64: past it strtoull gave 2^64-1, and two panes
# of a crafted shard output (2^64 and 2^64+1) merged as if one number
@test "window merge refuses a pane index past 2^64-1 with its file and line, never taken for 2^64-1" {
	shards 1
	sed '2s/"index":0/"index":18446744073709551616/' s0 > big
	refused "window: big:2: not a window result: a .pane.index past 2^64-1" \
		window merge big
	sed '1s/"index":0/"index":1000000000000000000000000000000/' s0 > huge
	refused "window: huge:1: not a window result: a .pane.index past 2^64-1" \
		window merge huge
	# 2^64-1 itself is a pane index
	sed '1s/"index":0/"index":18446744073709551615/' s0 > max
	run window merge max
	assert_success
	assert_line -n 0 --partial '"index":18446744073709551615,'
}

@test "window merge writes no _shard line, and a stopped shard writes none" {
	shards 3
	run window merge s0 s1 s2
	assert_success
	refute_output --partial _shard
	# --stats: every line read is a pane written or a _shard line
	window merge --stats s0 s1 s2 2> st > /dev/null
	run jq -c '[.records_in, .records_out, .shard_lines]' st
	assert_output '[10,7,3]'
	printf 'nope\n' >> in
	run $W --shard 0/2 in
	assert_failure 2
	refute_output --partial _shard
}

@test "window merge of --state shards resumed batch after batch: each run's _shard line, every run of every shard" {
	printf '{"g":%d,"t":%d}\n' 1 200 8 210 3 300 > in2
	for d in '' '--delay 10s'; do
		rm -f st* r*
		for i in 0 1 2; do
			$W $d --state st$i --shard $i/3 in > r1.$i
			$W $d --state st$i --shard $i/3 in2 > r2.$i
		done
		$W $d --state stw in > w1
		$W $d --state stw in2 > w2
		cat w1 w2 | window merge > want
		window merge r1.0 r2.0 r1.1 r2.1 r1.2 r2.2 | cmp - want
		cat r2.* r1.* | window merge | cmp - want
		refused "window: r2.0:1: the _shard line of run 2 of shard 0 of 3, and shard 1 has 1: a run's output left out or given twice (each shard runs every batch)" \
			window merge r1.0 r2.0 r1.1 r1.2 r2.2
	done
}

@test "window merge: --partition outputs end with _shard lines too" {
	partition -n 3 -g .g -o p in
	for i in 0 1 2; do window -g .g -t .t --tumble 1m --partition $i/3 p/$i.ndjson > w$i; done
	window merge w0 w1 w2 | cmp - <(window -g .g -t .t --tumble 1m in)
	refused "window: shard 1 of 3 is missing: no input has its _shard line; give the outputs of all 3 shards" \
		window merge w0 w2
	# a --partition run and a --shard run are not one command line's
	window -g .g -t .t --tumble 1m --shard 1/3 in > x1
	run window merge w0 x1 w2
	assert_failure 2
	assert_output --partial 'with other window options'
}

@test "window merge of every shard equals one process for random inputs, n = 1 .. 4, and -j 2 writes -j 1's _shard lines" {
	for seed in $(seq 1 "$(quick 6 2)"); do
		python3 - "$seed" > rand <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]))
keys = [1, 1.0, "1", "a", "b", "\u00e9", [1, 2], None, True, 12345678901234567891,
        "2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00Z"]
t = 0
for _ in range(r.randint(0, 300)):
    t += r.randint(-40, 60)
    g = r.choice(keys)
    v = r.choice([r.randint(-9, 9), "0.1", "1e2", None])
    rec = '{"t":%d,"g":%s' % (max(t, 0), __import__("json").dumps(g))
    if v is not None:
        rec += ',"v":%s' % v
    print(rec + "}")
PY
		for o in '--tumble 1m' '--slide 2m --every 30s --delay 20s' \
			'--tumble 1m --delay 10s --lateness 2m' '--session 45s --delay 5s --lateness 1m --emit update'; do
			w="window $o -t .t -g .g --agg n=count() --agg s=sum(.v) --agg l=last(.v)"
			$w rand 2> /dev/null | window merge > want
			for n in 1 2 3 4; do
				rm -f out.*
				for ((i = 0; i < n; i++)); do $w -j 1 --shard $i/$n rand > out.$i 2> /dev/null; done
				window merge out.* | cmp - want
			done
			$w -j 2 --shard 3/4 rand 2> /dev/null | cmp - out.3
		done
	done
}

@test "window merge --max-line: a pane longer than every line its run read merges with a --max-line as large" {
	# two aggregates of one 600-byte value: a pane of 1345 bytes from
	# a line of 621
	v=$(printf 'x%.0s' $(seq 600))
	printf '{"g":1,"t":5,"v":"%s"}\n' "$v" > big
	for i in 0 1; do
		window -g .g -t .t --tumble 1m --max-line 1k --agg 'f=first(.v)' --agg 'l=last(.v)' --shard $i/2 big > b$i
	done
	run --separate-stderr window merge --max-line 1k b0 b1
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "window: b1:1: line of 1345 bytes is longer than --max-line 1024"
	run --separate-stderr window merge --max-line 2k b0 b1
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(printf '%s\n' "$output" | jq -c '[.key, (.f | length), (.l | length)]')" '[1,600,600]'
	run window merge --max-line 0 b0 b1
	assert_failure 2
	assert_line --index 0 'window: --max-line: must be positive'
}

@test "window merge refuses a line that only looks like a pane: its timing, final and bounds are checked too" {
	pane() { # pane START END TIMING FINAL
		printf '{"window":{"start":%s,"end":%s},"n":1,"pane":{"timing":%s,"index":0,"final":%s}}\n' "$@"
	}
	a='"1970-01-01T00:00:00Z"' b='"1970-01-01T00:01:00Z"'
	pane "$a" "$b" '"sometime"' true > p
	run window merge p
	assert_failure 2
	assert_output 'window: p:1: not a window result: .pane.timing is not early, on_time or late'
	pane "$a" "$b" '"late"' '"yes"' > p
	run window merge p
	assert_failure 2
	assert_output 'window: p:1: not a window result: .pane.final is not true or false'
	pane "$b" "$a" '"late"' true > p
	run window merge p
	assert_failure 2
	assert_output 'window: p:1: not a window result: .window.start is not before its end'
	pane 0 60 '"late"' true > p
	run window merge p
	assert_failure 2
	assert_output 'window: p:1: not a window result: no .window.start time'
	printf '{"window":{"start":%s,"end":%s},"n":1,"pane":{"index":0}}\n' "$a" "$b" > p
	run window merge p
	assert_failure 2
	assert_output 'window: p:1: not a window result: no .pane.timing'
	# strings compare decoded: on\u005ftime is on_time
	pane "$a" "$b" '"on\u005ftime"' false > p
	run window merge p
	assert_success
	assert_output "$(cat p)"
}

@test "window --help says merge takes options: --stats and --max-line" {
	run window --help
	assert_success
	assert_line --index 2 '       window merge [OPTION]... [FILE]...'
	run window merge --help
	assert_success
	assert_line --partial '--max-line SIZE'
	assert_line --partial '--stats'
}

@test "window merge refuses an option of window's it does not take as window's, not as unknown" {
	shards 2
	for a in '--tumble 1m' '--tumble=1m' '--state s' '--shard 0/2'; do
		run window merge $a s0 s1
		assert_failure 2
		assert_line --index 0 "window: merge: ${a%%[ =]*} does not apply to merge (it is window's)"
	done
	for a in '-j 2' '-j2'; do
		run window merge $a s0 s1
		assert_failure 2
		assert_line --index 0 "window: merge: --threads does not apply to merge (it is window's)"
	done
	run window merge -t .t s0 s1
	assert_failure 2
	assert_line --index 0 "window: merge: --time does not apply to merge (it is window's)"
	# its own options, an unknown one, and a file after --
	run window merge --max-line 1M --stats s0 s1
	assert_success
	run window merge --bogus s0 s1
	assert_failure 2
	assert_line --index 0 "window: merge: unknown option '--bogus'"
	run window merge -- --tumble
	assert_failure 2
	assert_line --index 0 "window: --tumble: No such file or directory"
}
