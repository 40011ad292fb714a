#!/usr/bin/env bats
# window: tumbling, sliding and session windows over event time, with the
# watermark, allowed lateness, late panes and state across runs.

load helpers
bats_require_minimum_version 1.5.0

# Two currencies; EUR 30 and USD 50 arrive after the watermark passed
# their minute.
events() {
	cat <<'J'
{"t":5,"c":"EUR","a":1.5}
{"t":20,"c":"USD","a":2}
{"t":65,"c":"EUR","a":3.25}
{"t":30,"c":"EUR","a":1}
{"t":130,"c":"EUR","a":1}
{"t":50,"c":"USD","a":7}
J
}

@test "tumbling windows fire when the watermark passes their end; too-late records are dropped" {
	events > in.ndjson
	run window --tumble 1m --delay 0s -t .t -g .c --agg 'n=count()' --agg 's=sum(.a)' --agg 'm=max(.a)' --agg 'av=avg(.a)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"EUR","n":1,"s":1.5,"m":1.5,"av":1.5,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"USD","n":1,"s":2,"m":2,"av":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"EUR","n":1,"s":3.25,"m":3.25,"av":3.25,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"key":"EUR","n":1,"s":1,"m":1,"av":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 2 records dropped: too late (--late FILE or --lateness DUR keeps them)
J
}

@test "avg() whose 10 more digits do not fit an exact decimal is rounded to the digits that do, never null" {
	# sums of 30 and 1 significant digits: (2 + 2e-29)/3 and 4e50/3;
	# the first quotient has no integer digit, so all 38 are decimals
	printf '%s\n' '{"t":0,"x":1e-29}' '{"t":0,"x":1e-29}' '{"t":0,"x":2}' \
		'{"t":60,"x":1e50}' '{"t":60,"x":1e50}' '{"t":60,"x":2e50}' > in.ndjson
	run window --tumble 1m -t .t --agg 's=sum(.x)' --agg 'a=avg(.x)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":2.00000000000000000000000000002,"a":0.66666666666666666666666666667333333333,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":4e+50,"a":1.3333333333333333333333333333333333333e+50,"pane":{"timing":"on_time","index":0,"final":true}}
J
	# python3's decimal at 80 digits, rounded half-even: the same digits
	run python3 -c 'from decimal import *; getcontext().prec = 80; print(Decimal("2.00000000000000000000000000002") / 3)'
	assert_output 0.66666666666666666666666666667333333333333333333333333333333333333333333333333333
	# a count of 1001 leaves the quotient 3 integer digits fewer than
	# the sum of 20, so 21 places of its 38 (python3: ...778789|0)
	for i in $(seq 1000); do echo '{"t":0,"x":0}'; done > k.ndjson
	echo '{"t":0,"x":12345678901234567890.123456789012345678}' >> k.ndjson
	run window --tumble 1m -t .t --agg 'a=avg(.x)' k.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"a":12333345555678889.00112233445455778789,"pane":{"timing":"on_time","index":0,"final":true}}'
	# 10 places past the values' last, however the sum is written: 0.5
	# and 0.5 make 1, and 1/3 gets 11
	printf '{"t":0,"x":%s}\n' 0.5 0.5 0 > h.ndjson
	run window --tumble 1m -t .t --agg 's=sum(.x)' --agg 'a=avg(.x)' h.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":1,"a":0.33333333333,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "avg() takes its places from the values, in any order: a sum through zero or a trailing zero does not change them" {
	# 1.5 has one place, so 1/3 gets 11 whichever comes first; 1.50
	# has one too
	for order in '1 1.5 -1.5' '1.5 -1.5 1' '-1.5 1 1.5'; do
		printf '{"t":0,"x":%s}\n' $order > o.ndjson
		run window --tumble 1m -t .t --agg 'a=avg(.x)' o.ndjson
		assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"a":0.33333333333,"pane":{"timing":"on_time","index":0,"final":true}}'
	done
	printf '{"t":0,"x":%s}\n' 1.50 0 0.1 > z.ndjson
	run window --tumble 1m -t .t --agg 'a=avg(.x)' z.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"a":0.53333333333,"pane":{"timing":"on_time","index":0,"final":true}}'
	# two sessions, 1.25 and -1.25, bridged by 1: merged sums too
	printf '{"t":%s,"x":%s}\n' 0 1.25 100 -1.25 50 1 > s.ndjson
	run window --session 1m -t .t --agg 'a=avg(.x)' s.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:02:40Z"},"a":0.333333333333,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "an --agg no record gave a value is said at the end, with the member it is nearest to" {
	events > e
	run --separate-stderr window --tumble 1m -t .t --time-unit s -j 2 --agg 'n=count()' \
		--agg 's=sum(.aa)' --agg 'x=max(.b.c)' --agg 'm=max(.a)' e
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"n":4,"s":null,"x":null,"m":7,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"n":1,"s":null,"x":null,"m":3.25,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"n":1,"s":null,"x":null,"m":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	[ "$stderr" = "window: --agg s=sum(.aa): no record read had a value for .aa (did you mean .a?)
window: --agg x=max(.b.c): no record read had a value for .b.c" ]
	# one record with the member is enough for no "did you mean"; the
	# records without it are left out of the sum, and that is said; no
	# input, nothing to say
	run --separate-stderr sh -c "{ echo '{\"t\":1,\"aa\":2}'; cat e; } | window --tumble 1m -t .t --time-unit s --agg 's=sum(.aa)' > /dev/null"
	assert_success
	[ "$stderr" = "window: --agg s: 6 records left out, their .aa null or absent" ]
	run --separate-stderr sh -c ": | window --tumble 1m -t .t --agg 's=sum(.aa)'"
	assert_success
	[ "$stderr" = "" ]
}

@test "an --agg of a nested path no record gave a value is said with the path its object has, as a misspelt -t or -g is" {
	printf '%s\n' '{"t":1,"o":{"amount":1.5,"cur":"EUR"}}' '{"t":2,"o":{"amount":2}}' > in.ndjson
	run --separate-stderr window --tumble 1m -t .t --agg 's=sum(.o.amuont)' --agg 'x=sum(.o.amount)' --agg 'y=max(.o.zzzzzz)' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":null,"x":3.5,"y":null,"pane":{"timing":"on_time","index":0,"final":true}}'
	[ "$stderr" = "window: --agg s=sum(.o.amuont): no record read had a value for .o.amuont (did you mean .o.amount?)
window: --agg y=max(.o.zzzzzz): no record read had a value for .o.zzzzzz" ]
	# a -g of that path stops at the first record and says the same
	run window --tumble 1m -t .t -g .o.amuont in.ndjson
	assert_failure 2
	assert_output 'window: in.ndjson:1: missing group .o.amuont (did you mean .o.amount?)'
}

@test "with --lateness a late record re-fires its window as an accumulating late pane" {
	events > in.ndjson
	run window --tumble 1m --delay 0s -t .t -g .c --lateness 2m --agg 'n=count()' --agg 's=sum(.a)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"EUR","n":1,"s":1.5,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"USD","n":1,"s":2,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"EUR","n":2,"s":2.5,"pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"EUR","n":1,"s":3.25,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"USD","n":2,"s":9,"pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"key":"EUR","n":1,"s":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "with --lateness an on-time pane is not final, however coarsely the watermark moves" {
	# W in fine steps, or in one step past end + lateness: the same panes
	printf '%s\n' '{"t":0}' '{"_watermark":"1970-01-01T00:01:10Z"}' \
		'{"_watermark":"1970-01-01T00:02:10Z"}' '{"t":200}' > fine.ndjson
	printf '%s\n' '{"t":0}' '{"_watermark":"1970-01-01T00:02:10Z"}' \
		'{"t":200}' > coarse.ndjson
	for f in fine coarse; do
		run window --tumble 1m -t .t --lateness 1m $f.ndjson
		assert_success
		assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:03:00Z","end":"1970-01-01T00:04:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	done
	# without lateness the on-time pane is the window's last
	run window --tumble 1m -t .t coarse.ndjson
	assert_output --partial '"end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "too-late records go to --late FILE and are counted by --stats" {
	events > in.ndjson
	run sh -c 'window --tumble 1m --delay 0s -t .t --late late.ndjson --stats in.ndjson 2>err >/dev/null; jq -c "{records_in,late,too_late,panes,open_windows}" err; cat late.ndjson'
	assert_success
	assert_output - <<'J'
{"records_in":6,"late":2,"too_late":2,"panes":3,"open_windows":1}
{"t":30,"c":"EUR","a":1}
{"t":50,"c":"USD","a":7}
J
}

@test "--late stops at a late record it cannot write: no pane after it goes out, nor a letter, exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"t":100}\n{"t":115}\nbad1\n{"t":50}\nbad2\n{"t":130}\n' > in
	for j in 1 2; do
		rm -f q
		run sh -c "window -j $j --tumble 10s -t .t --delay 1s --agg n='count()' --late /dev/full --dlq q in 2> err"
		assert_failure 2
		assert_output '{"window":{"start":"1970-01-01T00:01:40Z","end":"1970-01-01T00:01:50Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
		run cat err
		assert_output 'window: /dev/full: write: No space left on device; up to 1 of the 1 records set aside for it did not reach it'
		run jq -c .original_record q
		assert_output '"bad1"'
	done
}

@test "sliding windows: a record belongs to size/step windows" {
	events > in.ndjson
	run window --slide 1m --delay 0s --every 30s -t .t --agg 'n=count()' --agg 'p=p50(.a)' --agg 'd=distinct(.c)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1969-12-31T23:59:30Z","end":"1970-01-01T00:00:30Z"},"n":2,"p":1.5,"d":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"n":2,"p":1.5,"d":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:30Z","end":"1970-01-01T00:01:30Z"},"n":2,"p":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"n":1,"p":3.25,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:30Z","end":"1970-01-01T00:02:30Z"},"n":1,"p":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"n":1,"p":1,"d":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
window: 1 record left out of 1 window that had closed (on time for its others, which have it; --lateness DUR keeps those windows open)
J
}

@test "session windows merge when a late record bridges them" {
	cat > in.ndjson <<'J'
{"t":0,"u":"a","v":1}
{"t":10,"u":"a","v":2}
{"t":45,"u":"a","v":3}
{"t":100,"u":"a","v":4}
{"t":28,"u":"a","v":5}
J
	run window --session 20s --delay 0s -t .t -g .u --lateness 2m --agg 'n=count()' --agg 'f=first(.v)' --agg 'l=last(.v)' --agg 's=sum(.v)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:30Z"},"key":"a","n":2,"f":1,"l":2,"s":3,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:45Z","end":"1970-01-01T00:01:05Z"},"key":"a","n":1,"f":3,"l":3,"s":3,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:05Z"},"key":"a","n":4,"f":1,"l":5,"s":11,"pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:01:40Z","end":"1970-01-01T00:02:00Z"},"key":"a","n":1,"f":4,"l":4,"s":4,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "merged sessions: first() is the first record to arrive, also across --state runs" {
	# [0,20) fires and leaves when 75 arrives, which moved the session
	# of 60 ahead of the session of 30 in the group's list; 45 bridges
	# 30's and 60's sessions, and 30 arrived first.
	want='{"window":{"start":"1970-01-01T00:00:30Z","end":"1970-01-01T00:01:35Z"},"f":30,"l":45,"n":4,"pane":{"timing":"on_time","index":0,"final":true}}'
	run sh -c 'printf "{\"t\":%d}\n" 0 30 60 75 45 |
		window --session 20s --delay 50s -t .t --agg "f=first(.t)" --agg "l=last(.t)" --agg "n=count()"'
	assert_success
	assert_line --index 1 "$want"
	printf '{"t":%d}\n' 0 30 60 75 |
		window --session 20s --delay 50s -t .t --agg 'f=first(.t)' --agg 'l=last(.t)' --agg 'n=count()' --state s > /dev/null
	run sh -c 'printf "{\"t\":%d}\n" 45 300 |
		window --session 20s --delay 50s -t .t --agg "f=first(.t)" --agg "l=last(.t)" --agg "n=count()" --state s'
	assert_success
	assert_line --index 0 "$want"
}

@test "merged sessions: first, last, and ties of min and the percentiles go by arrival, not by session" {
	# 0 (null) and 1 (7) make one session, 15 (5) another, in between
	# them in arrival; 10 (null) bridges them.  The first non-null to
	# arrive is 5, the last 7; of the equal 1.0, 1, 1.00 (arrivals 1, 2,
	# 3) min says 1.0, max the last, 1.00, and the median the second, 1.
	printf '%s\n' '{"t":0,"v":null,"x":1.0}' '{"t":15,"v":5,"x":1}' \
		'{"t":1,"v":7,"x":1.00}' '{"t":10,"v":null,"x":null}' > in.ndjson
	want='{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:25Z"},"f":5,"l":7,"lo":1.0,"hi":1.00,"m":1,"top":1.00,"pane":{"timing":"on_time","index":0,"final":true}}'
	aggs=(--agg 'f=first(.v)' --agg 'l=last(.v)' --agg 'lo=min(.x)' --agg 'hi=max(.x)' --agg 'm=p50(.x)' --agg 'top=p(.x, 1)')
	for j in 1 4; do
		run --separate-stderr window --session 10s -t .t "${aggs[@]}" -j $j in.ndjson
		assert_success
		assert_output "$want"
		[ "$stderr" = "window: --agg f, l: 2 records left out, their .v null or absent
window: --agg lo, hi, m, top: 1 record left out, its .x null or absent" ]
	done
	# the same across two runs of a --state: arrivals go on counting
	head -n 3 in.ndjson | window --session 10s -t .t --delay 1h "${aggs[@]}" --state s > /dev/null
	run sh -c 'tail -n 1 in.ndjson; echo "{\"t\":99999,\"v\":0,\"x\":0}"' 
	printf '%s\n' "$output" > rest.ndjson
	run --separate-stderr window --session 10s -t .t --delay 1h "${aggs[@]}" --state s rest.ndjson
	assert_success
	assert_output "$want"
}

@test "sessions: a record is too late by its own [t, t + gap), as in Beam, and a merged session's panes contain those it absorbed" {
	# [0,34) fired at W 40 and is kept open to 44; 5's own [5,15) was
	# past at 25, so it is too late although it falls inside [0,34)
	printf '{"k":"%s","t":%d}\n' a 0 a 8 a 16 a 24 b 40 a 5 > in.ndjson
	run window --session 10s --delay 0s --lateness 10s -t .t -g .k in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:34Z"},"key":"a","count":4,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:40Z","end":"1970-01-01T00:00:50Z"},"key":"b","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
	# [0,10) fires, grows to [0,18) (late), then merges with [25,35):
	# each pane lies inside the next, at a higher index, and only the
	# last holds the result (4 records, not 1 + 2 + 4)
	printf '{"t":%d}\n' 0 25 8 17 > s.ndjson
	run window --session 10s --delay 0s --lateness 1m -t .t --agg 'n=count()' s.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:10Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:18Z"},"n":2,"pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:35Z"},"n":4,"pane":{"timing":"on_time","index":2,"final":true}}
J
}

@test "windows are half-open: a record at the end is the next one's, touching sessions stay apart" {
	printf '{"t":%s}\n' 0 10 19.999999999 > in.ndjson
	run window --tumble 10s -t .t in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:10Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:10Z","end":"1970-01-01T00:00:20Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run window --session 10s -t .t in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:10Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:10Z","end":"1970-01-01T00:00:29.999999999Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
J
	# at nanoseconds across offsets and fraction lengths; a leap second
	# is no event time (idem(7)): said, and set aside with --dlq
	printf '{"t":"%s"}\n' 2016-12-31T23:59:59.999999999Z 2017-01-01T01:59:59.9+02:00 \
		2016-12-31T23:59:60Z 2017-01-01T02:00:00.000000000+02:00 > leap.ndjson
	run window --tumble 1d -t .t leap.ndjson
	assert_failure 2
	assert_output "window: leap.ndjson:3: event time .t: a leap second (23:59:60 UTC), which idem's times cannot hold: POSIX time has no slot for it, and the next :00 is another instant"
	run window --tumble 1d -t .t --dlq d.ndjson leap.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"2016-12-31T00:00:00Z","end":"2017-01-01T00:00:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2017-01-01T00:00:00Z","end":"2017-01-02T00:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run jq -r .source.line d.ndjson
	assert_output 3
}

@test "sessions are per key and close after the gap" {
	cat > in.ndjson <<'J'
{"t":0,"u":"b"}
{"t":5,"u":"a"}
{"t":12,"u":"b"}
{"t":40,"u":"a"}
J
	run window --session 10s -t .t -g .u in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:00:10Z"},"key":"b","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:05Z","end":"1970-01-01T00:00:15Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:12Z","end":"1970-01-01T00:00:22Z"},"key":"b","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:40Z","end":"1970-01-01T00:00:50Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "--emit update writes an early pane on every change, then the on-time one" {
	printf '%s\n' '{"t":5,"v":1}' '{"t":20,"v":2}' '{"t":61,"v":3}' > in.ndjson
	run window --tumble 1m --delay 0s --offset 10s -t .t --emit update --agg 's=sum(.v)' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1969-12-31T23:59:10Z","end":"1970-01-01T00:00:10Z"},"s":1,"pane":{"timing":"early","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:10Z","end":"1970-01-01T00:01:10Z"},"s":2,"pane":{"timing":"early","index":0,"final":false}}
{"window":{"start":"1969-12-31T23:59:10Z","end":"1970-01-01T00:00:10Z"},"s":1,"pane":{"timing":"on_time","index":1,"final":true}}
{"window":{"start":"1970-01-01T00:00:10Z","end":"1970-01-01T00:01:10Z"},"s":5,"pane":{"timing":"early","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:00:10Z","end":"1970-01-01T00:01:10Z"},"s":5,"pane":{"timing":"on_time","index":2,"final":true}}
J
}

@test "honours _watermark lines from upstream and does not forward them" {
	printf '%s\n' '{"t":5,"v":1}' '{"t":70,"v":2}' '{"t":90,"v":2}' > in.ndjson
	run sh -c 'watermark -t .t --delay 25s --emit in.ndjson | window --tumble 1m -t .t --agg "n=count()"'
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"n":2,"pane":{"timing":"on_time","index":0,"final":true}}
J
	printf '%s\n' '{"t":5}' '{"_watermark":"1970-01-01T00:01:00Z"}' '{"t":6}' '{"t":61}' > up.ndjson
	run window --tumble 1m -t .t up.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
}

@test "with --delay, _watermark lines from upstream give way to window's own watermark, and it is said" {
	printf '%s\n' '{"t":5}' '{"_watermark":"1970-01-01T00:01:00Z"}' '{"t":6}' '{"t":61}' > up.ndjson
	run --separate-stderr window --tumble 1m -t .t --delay 0s --stats up.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	[ "$(grep -v '^{' <<< "$stderr")" = "window: 1 record dropped: _watermark lines replaced by --delay's (leaving out --delay keeps them)" ]
	[ "$(grep '^{' <<< "$stderr" | jq -c '{records_in,watermarks_replaced}')" = '{"records_in":4,"watermarks_replaced":1}' ]
	# shard 0 says it, once for all the shards
	run --separate-stderr window --tumble 1m -t .t -g .t --delay 0s --shard 1/2 up.ndjson
	assert_success
	[ -z "$stderr" ]
}

@test "a _watermark line that repeats its name is one control line, its last value winning, as jq reads it" {
	printf '%s\n' '{"t":5}' \
		'{"_watermark":"1970-01-01T00:00:30Z","\u005fwatermark":"1970-01-01T00:01:00Z"}' \
		'{"t":6}' '{"t":61}' > up.ndjson
	run window --tumble 1m -t .t up.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
	# partition passes it on as the one value it holds; watermark
	# without --emit as it came, and window downstream reads it so
	run partition -n 1 -g .t up.ndjson
	assert_success
	assert_line --index 1 '0	{"_watermark":"1970-01-01T00:01:00Z"}'
	run watermark -t .t up.ndjson
	assert_success
	assert_output "$(cat up.ndjson)"
}

@test "min, max, first and last keep the input's spelling; sums are exact" {
	printf '%s\n' '{"t":1,"v":1.10}' '{"t":2,"v":0.2}' '{"t":3,"v":1e1}' '{"t":4,"v":null}' '{"t":5}' > in.ndjson
	run window --tumble 1m -t .t --agg 'mn=min(.v)' --agg 'mx=max(.v)' --agg 'f=first(.v)' --agg 'l=last(.v)' --agg 's=sum(.v)' --agg 'n=count(.v)' --agg 'all=count()' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"mn":0.2,"mx":1e1,"f":1.10,"l":1e1,"s":11.3,"n":3,"all":5,"pane":{"timing":"on_time","index":0,"final":true}}
window: --agg mn, mx, f, l, s: 2 records left out, their .v null or absent
J
	printf '%s\n' '{"t":1,"v":0.1}' '{"t":1,"v":0.2}' '{"t":1,"v":12345678901234567891}' > b.ndjson
	run window --tumble 1m -t .t --agg 's=sum(.v)' b.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":12345678901234567891.3,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "of equal values min() answers the first to arrive and max() the last, as jq's min_by and max_by and as p(expr, 0) and p(expr, 1)" {
	printf '%s\n' '{"t":1,"v":1,"w":"2024-01-01T10:00:00+02:00"}' \
		'{"t":2,"v":1.0,"w":"2024-01-01T08:00:00Z"}' \
		'{"t":3,"v":1.00,"w":"2024-01-01T08:00:00.0Z"}' > in.ndjson
	want='{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"mn":1,"mx":1.00,"p0":1,"p1":1.00,"wmn":"2024-01-01T10:00:00+02:00","wmx":"2024-01-01T08:00:00.0Z","pane":{"timing":"on_time","index":0,"final":true}}'
	aggs=(--agg 'mn=min(.v)' --agg 'mx=max(.v)' --agg 'p0=p(.v, 0)' --agg 'p1=p(.v, 1)' --agg 'wmn=min(.w)' --agg 'wmx=max(.w)')
	run window --tumble 1m -t .t "${aggs[@]}" in.ndjson
	assert_success
	assert_output "$want"
	# jq says the same of the numbers
	run jq -sc 'max_by(.v) | .t' in.ndjson
	assert_output 3
	# across two runs of a --state
	head -n 2 in.ndjson | window --tumble 1m -t .t --delay 1h "${aggs[@]}" --state s > /dev/null
	run sh -c 'tail -n 1 in.ndjson; echo "{\"t\":99999}"' 
	printf '%s\n' "$output" > rest.ndjson
	run --separate-stderr window --tumble 1m -t .t --delay 0s "${aggs[@]}" --state s rest.ndjson
	assert_success
	assert_output "$want"
}

@test "records whose --agg value is null or absent are left out of it, and how many is said, as SQL's 01003 warning does" {
	printf '%s\n' '{"t":1,"v":2,"w":1}' '{"t":2,"v":null,"w":2}' '{"t":3,"w":3}' \
		'{"t":4,"v":3}' > in.ndjson
	run --separate-stderr window --tumble 1m -t .t --agg 's=sum(.v)' --agg 'a=avg(.v)' \
		--agg 'n=count(.v)' --agg 'all=count()' --agg 'p=p50(.w)' --agg 'd=distinct(.w)' \
		--stats in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":5,"a":2.5,"n":2,"all":4,"p":2,"d":3,"pane":{"timing":"on_time","index":0,"final":true}}'
	# count(.v) counts the values there are: nothing is left out of it
	[ "$(grep -v '^{' <<< "$stderr")" = "window: --agg s, a: 2 records left out, their .v null or absent
window: --agg p, d: 1 record left out, its .w null or absent" ]
	# only records that joined a window: a too-late one is said as such
	printf '%s\n' '{"t":100,"v":1}' '{"t":1}' > late.ndjson
	run window --tumble 1m -t .t --delay 0s --agg 's=sum(.v)' late.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
}

@test "several -g make the key an array; keys group by value" {
	printf '%s\n' '{"t":1,"a":1,"b":"x"}' '{"t":2,"a":1.0,"b":"\u0078"}' '{"t":3,"a":2,"b":"x"}' > in.ndjson
	run window --tumble 1m -t .t -g .a -g .b in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":[1,"x"],"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":[2,"x"],"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "state carried across two runs equals one run over the concatenation" {
	events > all.ndjson
	head -n 3 all.ndjson > part1.ndjson
	tail -n 3 all.ndjson > part2.ndjson
	args='--tumble 1m --delay 0s -t .t -g .c --lateness 2m --agg n=count() --agg s=sum(.a) --agg p=p90(.a) --agg d=distinct(.a)'
	window $args --state one.st all.ndjson > one.out
	window $args --state two.st part1.ndjson > two.out
	window $args --state two.st part2.ndjson >> two.out
	run diff one.out two.out
	assert_success
	run wc -l < two.out
	assert_output 5
}

@test "a state is of instants: a next run may read its epoch numbers in another --time-unit" {
	printf '{"t":10}\n{"t":70}\n' | window --tumble 1m -t .t --state w.st > out
	printf '{"t":100000}\n{"t":130000}\n' | window --tumble 1m -t .t --time-unit ms --state w.st >> out
	printf '{"t":"1970-01-01T00:03:00Z"}\n' | window --tumble 1m -t .t --state w.st >> out
	run cat out
	assert_output - <<-'E'
	{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
	{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
	E
}

@test "--batch: a replay of the batch that wrote the state fires what it fired; the next batch goes on" {
	printf '{"t":10,"v":1}\n{"t":70,"v":2}\n' > b1.ndjson
	printf '{"t":75,"v":3}\n{"t":130,"v":4}\n' > b2.ndjson
	printf '{"t":200,"v":5}\n' > b3.ndjson
	args='--tumble 1m --delay 0s -t .t --agg s=sum(.v)'
	window $args --state w.st --batch 1 b1.ndjson > /dev/null
	run window $args --state w.st --batch 2 b2.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":5,"pane":{"timing":"on_time","index":0,"final":true}}'
	# killed before the sink took it: the same batch again, twice
	run window $args --state w.st --batch 2 b2.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":5,"pane":{"timing":"on_time","index":0,"final":true}}'
	IDEM_BATCH=2 run window $args --state w.st --stats b2.ndjson
	assert_line --index 0 '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":5,"pane":{"timing":"on_time","index":0,"final":true}}'
	assert_line --index 1 --partial '"watermark":"1970-01-01T00:02:10Z","replay":true,'
	run window $args --state w.st --batch 3 b3.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"s":4,"pane":{"timing":"on_time","index":0,"final":true}}'
	run window $args --state w.st --batch 1 b1.ndjson
	assert_success
	assert_output 'window: 2 records dropped: too late (--late FILE or --lateness DUR keeps them)'
}

@test "--batch: a replay writes the batch's too-late records and dead letters no second time" {
	printf '{"t":10}\n{"t":130}\n' > b1.ndjson
	printf '{"t":20}\n{"t":"soon"}\n{"t":190}\n' > b2.ndjson
	args='--tumble 1m --delay 0s -t .t --late late.ndjson --dlq dlq.ndjson'
	window $args --state w.st --batch 1 b1.ndjson > /dev/null
	window $args --state w.st --batch 2 b2.ndjson > want
	[ "$(cat want)" = '{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}' ]
	# the state was committed after both files were synced: a replay
	# (the sink failed, checkpoint run tries again) finds them there
	run window $args --state w.st --batch 2 --stats b2.ndjson
	assert_success
	assert_line --index 0 "$(cat want)"
	assert_line --index 1 --partial '"dead_lettered":1,'
	assert_line --index 1 --partial '"too_late":1,'
	run cat late.ndjson
	assert_output '{"t":20}'
	run jq -c '.original_record' dlq.ndjson
	assert_output '{"t":"soon"}'
	# the next batch writes its own
	printf '{"t":30}\n' > b3.ndjson
	window $args --state w.st --batch 3 b3.ndjson
	run cat late.ndjson
	assert_output - <<'J'
{"t":20}
{"t":30}
J
}

@test "--batch: a replay on other input than the batch's is refused and the state kept" {
	printf '{"t":10,"v":1}\n{"t":70,"v":2}\n' > b1.ndjson
	printf '{"t":75,"v":3}\n{"t":130,"v":4}\n' > b2.ndjson
	printf '{"t":75,"v":9}\n{"t":130,"v":4}\n' > other.ndjson
	args='--tumble 1m --delay 0s -t .t --agg s=sum(.v)'
	window $args --state w.st --batch 1 b1.ndjson > /dev/null
	window $args --state w.st --batch 2 b2.ndjson > /dev/null
	cp w.st w.before
	# what it fired is out before the state would be saved: exit 2
	# says not to take it
	run window $args --state w.st --batch 2 other.ndjson
	assert_failure 2
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":11,"pane":{"timing":"on_time","index":0,"final":true}}
window: w.st: batch 2 replayed on other input than its run's (31 bytes as before, but others); state left as that run committed it (replay the batch's own input, or name another batch)
J
	cmp w.st w.before
	run window $args --state w.st --batch 2 b2.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":5,"pane":{"timing":"on_time","index":0,"final":true}}'
}

# A replay refused for an option of another value than its batch's run
# had: exit 2, nothing written, the state as that run committed it.
w_replay_refused() {
	local new=$1 was=$2
	shift 2
	run --separate-stderr window "$@"
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "window: w.st: batch 2 replayed with $new, but its run had $was; state left as that run committed it (replay the batch with its run's options, or name another batch)"
	cmp w.st w.before
}

@test "--batch: a replay with another --delay, --emit, --time-unit, --late, --dlq or --max-line than its run's is refused, naming both" {
	printf '{"t":10,"v":1}\n{"t":130,"v":2}\n' > b1.ndjson
	printf '{"t":20,"v":3}\nnope\n{"t":190,"v":4}\n' > b2.ndjson
	a=(--tumble 1m -t .t --agg 's=sum(.v)' --state w.st)
	o=(--delay 0s --late late.ndjson --dlq dlq.ndjson --max-line 1K)
	window "${a[@]}" "${o[@]}" --batch 1 b1.ndjson > /dev/null
	window "${a[@]}" "${o[@]}" --batch 2 b2.ndjson > want
	cp w.st w.before
	cp late.ndjson late.before
	cp dlq.ndjson dlq.before
	w_replay_refused 'no --delay' '--delay 0s' \
		"${a[@]}" --late late.ndjson --dlq dlq.ndjson --max-line 1K --batch 2 b2.ndjson
	w_replay_refused '--delay 1m' '--delay 0s' \
		"${a[@]}" --delay 1m --late late.ndjson --dlq dlq.ndjson --max-line 1K --batch 2 b2.ndjson
	w_replay_refused '--emit update' '--emit final' \
		"${a[@]}" "${o[@]}" --emit update --batch 2 b2.ndjson
	w_replay_refused '--time-unit ms' '--time-unit s' \
		"${a[@]}" "${o[@]}" --time-unit ms --batch 2 b2.ndjson
	# the too-late record and the letter are in the run's files, and a
	# replay writes them no second time: elsewhere, they were lost
	w_replay_refused '--late drop' '--late late.ndjson' \
		"${a[@]}" --delay 0s --late drop --dlq dlq.ndjson --max-line 1K --batch 2 b2.ndjson
	w_replay_refused '--dlq other.ndjson' '--dlq dlq.ndjson' \
		"${a[@]}" --delay 0s --late late.ndjson --dlq other.ndjson --max-line 1K --batch 2 b2.ndjson
	[ ! -e other.ndjson ]
	w_replay_refused '--max-line 64M' '--max-line 1K' \
		"${a[@]}" --delay 0s --late late.ndjson --dlq dlq.ndjson --batch 2 b2.ndjson
	cmp late.ndjson late.before
	cmp dlq.ndjson dlq.before
	# the run's options, by other spellings, replay it byte for byte
	run --separate-stderr window "${a[@]}" --delay 0ms --late ./late.ndjson --dlq dlq.ndjson --max-line 1024 -j 2 --batch 2 b2.ndjson
	assert_success
	assert_output - < want
	cmp late.ndjson late.before
	# and the next batch may change them
	printf '{"t":250,"v":5}\n' > b3.ndjson
	run window "${a[@]}" --delay 0s --max-line 2K --batch 3 b3.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:03:00Z","end":"1970-01-01T00:04:00Z"},"s":4,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "--batch: a replay of a first batch, which starts from no state, is refused with other windows" {
	printf '{"t":10,"v":1}\n{"t":70,"v":2}\n' > b1.ndjson
	window --tumble 1m -t .t --delay 0s --state w.st --batch 2 b1.ndjson > /dev/null
	cp w.st w.before
	w_replay_refused "windows 'tumble size=120000000000 step=0 gap=0 offset=0 lateness=0 -t .t --agg count=count()'" \
		"windows 'tumble size=60000000000 step=0 gap=0 offset=0 lateness=0 -t .t --agg count=count()'" \
		--tumble 2m -t .t --delay 0s --state w.st --batch 2 b1.ndjson
	w_replay_refused '--shard 0/2' 'no --shard or --partition' \
		--tumble 1m -t .t --delay 0s --shard 0/2 --state w.st --batch 2 b1.ndjson
}

@test "--batch: a replay writes the too-late records and dead letters again to a --late or --dlq that keeps none (a pipe)" {
	printf '{"t":10}\n{"t":130}\n' > b1.ndjson
	printf '{"t":20}\n{"t":"soon"}\n' > b2.ndjson
	a=(--tumble 1m --delay 0s -t .t --state w.st)
	window "${a[@]}" --batch 1 b1.ndjson > /dev/null
	for i in 1 2; do
		window "${a[@]}" --batch 2 --late >(cat > late.$i) --dlq >(jq -c .original_record > dlq.$i) b2.ndjson
	done
	sleep 0.2
	for i in 1 2; do
		run cat late.$i dlq.$i
		assert_output - <<'J'
{"t":20}
{"t":"soon"}
J
	done
	# a pipe is no file: the run's note says a stream, not /dev/fd/63
	run --separate-stderr window "${a[@]}" --batch 2 --dlq d.ndjson --late >(cat > /dev/null) b2.ndjson
	assert_failure 2
	[[ "$stderr" == "window: w.st: batch 2 replayed with --dlq d.ndjson, but its run had --dlq /dev/fd/"[0-9]*"; state left as that run committed it (replay the batch with its run's options, or name another batch)" ]]
}

@test "--batch needs --state" {
	run window --tumble 1m -t .t --batch 1
	assert_failure 2
	assert_line --index 0 'window: --batch needs --state'
}

@test "a damaged or foreign state file is refused" {
	events > in.ndjson
	window --tumble 1m -t .t --state s.st in.ndjson > /dev/null
	run window --tumble 2m -t .t --state s.st in.ndjson
	assert_failure 2
	assert_output --partial 'use a new state file'
	printf 'garbage' >> s.st
	run window --tumble 1m -t .t --state s.st in.ndjson
	assert_failure 2
}

@test "--shard splits groups so that the shards' panes are the whole's, each output ending with its _shard line" {
	gen -n 2000 > in.ndjson
	window --tumble 1h -t .event_time -g .customer.tier --agg 's=sum(.amount)' in.ndjson > whole
	for i in 0 1 2; do window --tumble 1h -t .event_time -g .customer.tier --agg 's=sum(.amount)' --shard $i/3 in.ndjson > part$i; done
	cat part0 part1 part2 | grep -v '^{"_shard":' | sort > parts
	run diff <(sort whole) parts
	assert_success
	for i in 0 1 2; do
		run jq -c --argjson k "$(grep -vc '^{"_shard":' part$i)" '[._shard.index, ._shard.of, ._shard.panes == $k]' <(tail -n 1 part$i)
		assert_output "[$i,3,true]"
	done
	window merge part2 part0 part1 | cmp - whole
}

@test "--shard --stats: every record read is in a pane, a dead letter or shard_skipped, in every shard" {
	printf '%s\n' '{"t":60,"g":"a"}' '{"t":61}' 'nope' '{"t":62,"g":"b"}' '{"t":63,"g":"c"}' > in.ndjson
	for i in 0 1; do
		window --shard $i/2 -g .g -t .t --tumble 5m --agg 'n=count()' --dlq d$i --stats in.ndjson 2> s$i | jq -s 'map(.n) | add' > n$i
		# records in = counted in the shard's panes + dead letters + skipped
		run jq -c --argjson n "$(cat n$i)" '.records_in - $n - .dead_lettered - .shard_skipped' s$i
		assert_output 0
	done
	# the two bad records without a group: shard 0 dead-letters them
	run jq -c '[.dead_lettered, .shard_skipped]' s1
	assert_output '[0,4]'
	run wc -l < d0
	assert_output 2
}

@test "a missing event time is a bad record: exit 2, or the DLQ" {
	printf '{"t":1}\n{"x":2}\n' > in.ndjson
	run window --tumble 1m -t .t in.ndjson
	assert_failure 2
	assert_output 'window: in.ndjson:2: missing event time .t'
	run window --tumble 1m -t .t --dlq dlq.ndjson in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run jq -r .error_type dlq.ndjson
	assert_output missing_field
	# a misspelt -t or -g says what it is near in the record
	printf '{"time":1,"currency":"EUR"}\n' > typo.ndjson
	run window --tumble 1m -t .tme typo.ndjson
	assert_failure 2
	assert_output 'window: typo.ndjson:1: missing event time .tme (did you mean .time?)'
	run window --tumble 1m -t .time -g .curency typo.ndjson
	assert_failure 2
	assert_output 'window: typo.ndjson:1: missing group .curency (did you mean .currency?)'
	# nothing near, or a name too short to tell: no guess
	run window --tumble 1m -t .when -g .x typo.ndjson
	assert_failure 2
	assert_output 'window: typo.ndjson:1: missing group .x'
}

@test "unparsable times, malformed JSON and non-number sums are bad records" {
	printf '%s\n' '{"t":"noon"}' '{"t":1' '{"t":1,"v":"x"}' '[1]' '{"t":1,"v":2}' > in.ndjson
	run window --tumble 1m -t .t --agg 's=sum(.v)' --dlq dlq.ndjson in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":2,"pane":{"timing":"on_time","index":0,"final":true}}'
	run jq -r .error_type dlq.ndjson
	assert_output - <<'J'
wrong_type
invalid_json
wrong_type
wrong_type
J
	run window --tumble 1m -t .t --agg 's=sum(.v)' in.ndjson
	assert_failure 2
	assert_output --partial 'window: in.ndjson:1: event time .t: '
}

@test "usage errors: no window kind, bad --agg, --slide without --every" {
	run window -t .t < /dev/null
	assert_failure 2
	assert_output --partial 'want one of --tumble, --slide, --session'
	run window --tumble 1m -t .t --agg 'x=median(.v)' < /dev/null
	assert_failure 2
	assert_output --partial "unknown function 'median'"
	run window --tumble 1m -t .t --agg 'x=distnct(.v)' < /dev/null
	assert_failure 2
	assert_line --index 0 "window: --agg: unknown function 'distnct'; did you mean 'distinct'? (want count, sum, min, max, avg, first, last, distinct, p50, p90, p99 or p(EXPR, Q))"
	run window --slide 1m -t .t < /dev/null
	assert_failure 2
	assert_output --partial '--slide and --every go together'
	# --every is --slide's step: with the others it is named as such
	refused "window: --every does not apply to --session (it is --slide's step)" \
		window --session 1m --every 1m -t .t
	refused "window: --every does not apply to --tumble (it is --slide's step)" \
		window --tumble 1m --every 1m -t .t
	# an --offset that does not apply is refused, even 0s
	for o in 10s 0s; do
		refused 'window: --offset does not apply to --session' \
			window --session 1m --offset $o -t .t
	done
}

@test "a file named twice, or by a hard link, is refused: its records would add up twice" {
	printf '{"t":1,"v":2}\n' > a.ndjson
	ln a.ndjson b.ndjson
	refused 'window: a.ndjson: named twice: its records would count twice in the panes; name each once' \
		window --tumble 1m -t .t --agg 's=sum(.v)' a.ndjson a.ndjson
	refused 'window: b.ndjson: the same file as a.ndjson (a hard link or a second name): its records would count twice in the panes; name each once' \
		window --tumble 1m -t .t --agg 's=sum(.v)' a.ndjson b.ndjson
	# standard input twice is read once: the second '-' is at its end
	run sh -c 'window --tumble 1m -t .t --agg "s=sum(.v)" - - < a.ndjson'
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":2,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "empty input writes nothing" {
	run window --tumble 1m -t .t < /dev/null
	assert_success
	assert_output ''
}

@test "without --delay or _watermark lines a file is one batch: no record of it is late" {
	run sh -c "printf '{\"t\":%d}\\n' 300 10 20 30 400 | window --tumble 1m -t .t"
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":3,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:05:00Z","end":"1970-01-01T00:06:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:06:00Z","end":"1970-01-01T00:07:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	# with --state each run is a batch: W moves to its newest time at
	# its end, fires what that closes, and judges the next run by it
	printf '{"t":%d}\n' 300 10 70 > a.ndjson
	printf '{"t":%d}\n' 5 310 420 > b.ndjson
	run window --tumble 1m -t .t --state s.st a.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run window --tumble 1m -t .t --state s.st b.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:05:00Z","end":"1970-01-01T00:06:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
}

@test "--lateness and --late FILE on one batch (no --delay, no _watermark lines, no --state) are said to have done nothing" {
	printf '{"t":%d}\n' 10 70 30 > in.ndjson
	run window --tumble 1m -t .t --lateness 10m --late l.ndjson in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: --lateness 10m and --late l.ndjson did nothing: without --delay or _watermark lines the input was one batch, in which no record is late (--delay DUR gives it a watermark)
J
	# with a watermark they act, and nothing is said
	run window --tumble 1m -t .t --delay 0s --lateness 10m in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":2,"pane":{"timing":"late","index":1,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	# so they do with --state (the next run is judged by this one's W)
	# and with a control line, even the last one
	run window --tumble 1m -t .t --lateness 10m --state s.st in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":false}}'
	echo '{"_watermark":"1970-01-01T00:00:00Z"}' >> in.ndjson
	run --separate-stderr window --tumble 1m -t .t --lateness 10m --late l.ndjson in.ndjson
	assert_success
	[ -z "$stderr" ]
}

@test "a state's watermark never goes back: the first _watermark line of a run behind it only raises it" {
	# run 1 (own watermark) fires 00:00..00:01 with W at 00:02:10
	printf '{"t":%d}\n' 10 130 > a.ndjson
	run window --tumble 1m -t .t --delay 0s --state s.st a.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# run 2 follows control lines: its first, at 00:00:30, is behind the
	# state's W, so the record at 20 is too late, not a second final pane
	printf '%s\n' '{"_watermark":"1970-01-01T00:00:30Z"}' '{"t":20}' \
		'{"_watermark":"1970-01-01T00:03:30Z"}' > b.ndjson
	run window --tumble 1m -t .t --state s.st b.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)
J
	# after a batch run (no --delay) W is only its newest time, till the
	# stream's first line; here that W fired 00:00..00:01, which one run
	# over both files would have fired with the record at 20: refused
	printf '{"t":%d}\n' 10 130 > a.ndjson
	window --tumble 1m -t .t --state t.st a.ndjson > /dev/null
	cp t.st t.before
	run window --tumble 1m -t .t --state t.st b.ndjson
	assert_failure 2
	assert_output "window: b.ndjson:1: the stream's first _watermark line (1970-01-01T00:00:30Z) comes after runs of t.st without any, whose W (their newest event time, 1970-01-01T00:02:10Z) has fired windows or judged records by it, as one run over the stream would not have; start a new state file, or give --delay from the first run"
	cmp t.st t.before
}

@test "without --partition too, batches cut anywhere in a stream of _watermark lines write what one run writes: a batch before the first line leaves W to it" {
	printf '{"t":%d,"g":"%s"}\n' 70 a 50 b 55 a 130 a 100 b 30 b 200 a 150 b |
		watermark -t .t --delay 20s --emit > in.ndjson
	# the first batch is the first record alone, whose newest time (70)
	# made the record at 50, on time by the line after it, too late
	args=(--tumble 1m -g .g -t .t --agg 'n=count()')
	window "${args[@]}" --state whole.st in.ndjson > want 2> want.err
	head -n 1 in.ndjson | window "${args[@]}" --state cut.st > got
	tail -n +2 in.ndjson | window "${args[@]}" --state cut.st >> got 2> /dev/null
	cmp want got
	# cut at every line boundary: every line a batch of its own
	rm cut.st
	: > got
	while IFS= read -r l; do
		printf '%s\n' "$l" | window "${args[@]}" --state cut.st >> got 2> /dev/null
	done < in.ndjson
	cmp want got
	run cat want want.err
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"b","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"a","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"b","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"key":"a","n":1,"pane":{"timing":"on_time","index":0,"final":true}}
window: 2 records dropped: too late (--late FILE or --lateness DUR keeps them)
J
}

@test "--delay after a state that followed _watermark lines is the watermark from then on, not ignored" {
	printf '%s\n' '{"t":0}' '{"_watermark":"1970-01-01T00:00:30Z"}' > a.ndjson
	run window --tumble 1m -t .t --state s.st a.ndjson
	assert_success
	assert_output ''
	printf '{"t":%d}\n' 70 190 310 > b.ndjson
	run --separate-stderr window --tumble 1m -t .t --delay 0s --state s.st --stats b.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:03:00Z","end":"1970-01-01T00:04:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	[ "$(jq -c '{open_windows,watermark}' <<< "$stderr")" = '{"open_windows":1,"watermark":"1970-01-01T00:05:10Z"}' ]
}

@test "a shorter --delay, or a batch, after a state of a longer --delay takes W to the newest time less its own delay" {
	# the state: newest 65, W 55 (--delay 10s); [0,60) has not fired
	printf '{"t":%d}\n' 5 65 > a.ndjson
	printf '{"t":%d}\n' 30 40 > b.ndjson
	run window --tumble 1m -t .t --delay 10s --state s.st a.ndjson
	assert_output ''
	# --delay 0s: W is 65 before 30 is judged, as in one run with it
	run --separate-stderr window --tumble 1m -t .t --delay 0s --state s.st --stats b.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	[ "$(grep '^{' <<< "$stderr" | jq -c '{too_late,watermark}')" = '{"too_late":2,"watermark":"1970-01-01T00:01:05Z"}' ]
	run --separate-stderr window --tumble 1m -t .t --delay 0s --state one.st <(cat a.ndjson b.ndjson)
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# a batch after it: its records are judged against the state's W,
	# and at its end W is the newest time seen so far, which fires [0,60)
	rm -f s.st
	run window --tumble 1m -t .t --delay 10s --state s.st a.ndjson
	run --separate-stderr window --tumble 1m -t .t --state s.st --stats b.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":3,"pane":{"timing":"on_time","index":0,"final":true}}'
	[ "$(grep '^{' <<< "$stderr" | jq -c '{too_late,watermark}')" = '{"too_late":0,"watermark":"1970-01-01T00:01:05Z"}' ]
}

@test "a sliding record too late for some of its windows joins the open ones, and the closed ones it missed are said" {
	# 00:07 belongs to [00:00, 00:10), closed by W 00:12, and to
	# [00:05, 00:15), still open
	printf '{"t":%d}\n' 0 720 420 > in.ndjson
	run --separate-stderr window --slide 10m --every 5m --delay 0s -t .t --stats in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1969-12-31T23:55:00Z","end":"1970-01-01T00:05:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:10:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:05:00Z","end":"1970-01-01T00:15:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:10:00Z","end":"1970-01-01T00:20:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	[ "$(grep '^{' <<< "$stderr" | jq -c '{late,too_late,partly_late}')" = '{"late":1,"too_late":0,"partly_late":1}' ]
	[ "$(grep -v '^{' <<< "$stderr")" = 'window: 1 record left out of 1 window that had closed (on time for its others, which have it; --lateness DUR keeps those windows open)' ]
	# with the lateness to keep them, none is left out
	run window --slide 10m --every 5m --delay 0s --lateness 5m -t .t in.ndjson
	assert_success
	assert_line --index 2 '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:10:00Z"},"count":2,"pane":{"timing":"late","index":1,"final":false}}'
	refute_output --partial 'left out'
}

@test "windows with gaps: a record between them belongs to none and is counted" {
	run sh -c "printf '{\"t\":%d}\\n' 0 3600 7300 10800 | window --slide 1h --every 2h -t .t --stats 2>err; grep '^{' err | jq -c '{records_in,records_out,too_late,gap}'; grep -v '^{' err"
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T02:00:00Z","end":"1970-01-01T03:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"records_in":4,"records_out":2,"too_late":0,"gap":2}
window: 2 records dropped: between windows (--every no longer than --slide keeps them)
J
}

# random_stream SEED [keyed]: 60 records "t v" (or "t k v", k a or b),
# event times rising by up to 20 s, 30% of them up to 120 s late.
random_stream() {
	awk -v seed="$1" -v keyed="${2:+1}" 'BEGIN { srand(seed); t = 1000;
		for (i = 0; i < 60; i++) { t += int(rand() * 20);
			d = rand() < 0.3 ? int(rand() * 120) : 0;
			if (keyed) print t - d, (rand() < 0.5 ? "a" : "b"), int(rand() * 100) - 50
			else print t - d, int(rand() * 100) - 50 } }'
}

# The property: over random out-of-order streams, the last pane of every
# window equals the brute-force model's aggregates, pane indexes count up
# from 0, and the too-late counts agree.
@test "property: last panes match a brute-force model over random streams" {
	for seed in $(seq 1 "$(quick 12 2)"); do
		for cfg in "60 60 0 0" "60 60 30 10" "60 20 0 5" "90 30 45 0" "20 45 0 0" "30 50 20 5"; do
			set -- $cfg
			random_stream "$seed" > s.txt
			awk '{ printf "{\"t\":%d,\"v\":%d}\n", $1, $2 }' s.txt > s.ndjson
			awk -v size="$1" -v step="$2" -v lateness="$3" -v delay="$4" \
				-f "$BATS_TEST_DIRNAME/window/model.awk" s.txt > want
			if [ "$1" = "$2" ]; then kind="--tumble ${1}s"; else kind="--slide ${1}s --every ${2}s"; fi
			window $kind -t .t --lateness "${3}s" --delay "${4}s" --stats \
				--agg 'n=count()' --agg 's=sum(.v)' --agg 'mn=min(.v)' --agg 'mx=max(.v)' \
				s.ndjson > out 2> err
			jq -rs 'group_by(.window.start) | map(
				(map(.pane.index) == [range(length)]) as $ok
				| last | "\(.window.start | fromdateiso8601) \(.n) \(.s) \(.mn) \(.mx)\(if $ok then "" else " BAD-INDEX" end)")
				| sort_by(split(" ")[0] | tonumber) | .[]' out > got
			grep "^{" err | jq -r '"too_late \(.too_late)\ngap \(.gap)\npartly_late \(.partly_late)"' >> got
			if ! diff want got > diff.txt; then
				echo "seed $seed cfg $cfg"; cat diff.txt; return 1
			fi
		done
	done
}

# Sessions: over random out-of-order streams of two keys, the last pane
# of each session the model ends with (tests/window/sessions.awk) holds its
# aggregates, every pane written lies inside a final session of its key
# (a session later merged away leaves panes inside the merged one), and
# the too-late counts agree.
@test "property: sessions match a brute-force model over random streams" {
	for seed in $(seq 1 "$(quick 12 2)"); do
		for cfg in "10 0 0" "10 20 0" "30 0 15" "5 40 10"; do
			set -- $cfg
			random_stream "$seed" keyed > s.txt
			# w: v, but null where v is even (first and
			# last skip it)
			awk '{ printf "{\"t\":%d,\"k\":\"%s\",\"v\":%d,\"w\":%s}\n", $1, $2, $3, ($3 % 2 ? $3 : "null") }' s.txt > s.ndjson
			awk -v gap="$1" -v lateness="$2" -v delay="$3" \
				-f "$BATS_TEST_DIRNAME/window/sessions.awk" s.txt > want
			window --session "${1}s" -t .t -g .k --lateness "${2}s" --delay "${3}s" --stats \
				--agg 'n=count()' --agg 's=sum(.v)' --agg 'mn=min(.v)' --agg 'mx=max(.v)' \
				--agg 'f=first(.w)' --agg 'l=last(.w)' \
				s.ndjson > out 2> err
			jq -rs 'group_by([.key, .window.start, .window.end]) | map(last
				| "\(.key) \(.window.start | fromdateiso8601) \(.window.end | fromdateiso8601) \(.n) \(.s) \(.mn) \(.mx) \(.f) \(.l)")
				| .[]' out | sort > panes
			awk 'NR == FNR { if ($1 != "too_late") m[$1 " " $2 " " $3]; next }
				($1 " " $2 " " $3) in m' want panes > got
			grep "^{" err | jq -r '"too_late \(.too_late)"' >> got
			awk 'NR == FNR { if ($1 != "too_late") { n++; K[n] = $1; S[n] = $2; E[n] = $3 }; next }
				{ for (i = 1; i <= n; i++) if (K[i] == $1 && S[i] <= $2 && $3 <= E[i]) next
				  print "pane outside every session: " $0 }' want panes >> got
			if ! diff want got > diff.txt; then
				echo "seed $seed cfg $cfg"; cat diff.txt; return 1
			fi
		done
	done
}

@test "the EXAMPLES of window(1) and watermark(1) run" {
	for page in window watermark; do
		sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$BATS_TEST_DIRNAME/../man/$page.1" |
			sed -n '/^\.Bd -literal/,/^\.Ed/p' | grep -v '^\.' |
			sed -e 's/\\e/\\/g' > ex.sh
		run sh -e ex.sh
		assert_success
	done
}

@test "a state whose window ends at or before its start is refused, though its checksum holds" {
	printf '{"t":"2024-01-01T00:00:10Z"}\n' | window --tumble 1m -t .t --delay 1h --state s.st
	cp s.st good.st
	for d in 0 -5; do
		cp good.st s.st
		python3 "$BATS_TEST_DIRNAME/window/set_end.py" s.st "$d"
		run sh -c 'printf "{\"t\":\"2024-01-01T00:00:20Z\"}\n" | window --tumble 1m -t .t --delay 1h --state s.st'
		assert_failure 2
		assert_output 'window: s.st: damaged state; refusing it'
	done
	# the editor itself: the window's own end (60 s) loads
	cp good.st s.st
	python3 "$BATS_TEST_DIRNAME/window/set_end.py" s.st 60000000000
	cmp s.st good.st
}

@test "a stored window off this run's grid is refused: a tumbling window of another size, a session shorter than its gap" {
	printf '{"t":"2024-01-01T00:00:10Z"}\n' | window --tumble 1m -t .t --delay 1h --state t.st
	# [00:00, 00:30) of a 1m grid: a record at 00:40 joined it
	python3 "$BATS_TEST_DIRNAME/window/set_end.py" t.st 30000000000
	run sh -c 'printf "{\"t\":\"2024-01-01T00:00:40Z\"}\n" | window --tumble 1m -t .t --delay 0s --state t.st'
	assert_failure 2
	assert_output 'window: t.st: damaged state; refusing it'
	printf '{"t":"2024-01-01T00:00:10Z"}\n' | window --session 1m -t .t --delay 1h --state s.st
	python3 "$BATS_TEST_DIRNAME/window/set_end.py" s.st 59999999999
	run sh -c 'printf "{\"t\":\"2024-01-01T00:00:40Z\"}\n" | window --session 1m -t .t --delay 1h --state s.st'
	assert_failure 2
	assert_output 'window: s.st: damaged state; refusing it'
}

@test "a record that would take an exact sum past 38 digits is a bad record: with --dlq it is dead-lettered, in no window, and the run goes on" {
	printf '%s\n' '{"t":1,"v":1}' '{"t":2,"v":1e400}' '{"t":3,"v":2}' '{"t":70,"v":1e400}' > in.ndjson
	run window --tumble 1m -t .t --agg 's=sum(.v)' --agg 'n=count()' --agg 'a=avg(.v)' --dlq q.ndjson in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":3,"n":2,"a":1.5,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"s":1e+400,"n":1,"a":1e+400,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run jq -c '[.error_type, .error_message, .source.line]' q.ndjson
	assert_output '["wrong_type","--agg s=sum(.v): exact sum overflows 38 digits",2]'
	grep -q '^{"original_record":{"t":2,"v":1e400},' q.ndjson
	# a record with no value of its own still merges the sessions it
	# bridges, whose sums together do not fit
	printf '%s\n' '{"t":0,"v":1e-20}' '{"t":100,"v":1e20}' '{"t":50}' > s.ndjson
	run window --session 60s -t .t --agg 's=sum(.v)' --agg 'n=count()' --dlq sq.ndjson s.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"s":0.00000000000000000001,"n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:01:40Z","end":"1970-01-01T00:02:40Z"},"s":100000000000000000000,"n":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run jq -c '[.original_record, .error_message]' sq.ndjson
	assert_output '[{"t":50},"--agg s=sum(.v): exact sum overflows 38 digits"]'
	run window --session 60s -t .t --agg 's=sum(.v)' s.ndjson
	assert_failure 2
	assert_output 'window: s.ndjson:3: --agg s=sum(.v): exact sum overflows 38 digits'
}

@test "window merge refuses panes of runs with other -g or --agg: the merge would mix two answers" {
	printf '{"t":%d,"c":"%s"}\n' 5 EUR 20 USD 30 JPY 61 GBP > o.ndjson
	window --tumble 1m -t .t -g .c --shard 0/2 o.ndjson > p0
	window --tumble 1m -t .t -g .c --agg 'n=count()' --shard 1/2 o.ndjson > p1
	run window merge p0 p1
	assert_failure 2
	assert_output "window: p1:1: a pane of other members (window, key, n, pane) than p0:1's (window, key, count, pane): the outputs of window runs with other -g or --agg do not merge"
	printf '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}\n' > nokey
	run window merge p0 nokey
	assert_failure 2
	assert_output --partial "window: nokey:1: a pane of other members (window, count, pane) than p0:1's"
	window --tumble 1m -t .t -g .c --shard 1/2 o.ndjson > p1
	run window merge p0 p1
	assert_success
}

@test "an --agg program that yields several values gives them as one array, one value a record" {
	printf '{"t":1,"items":[]}\n{"t":1,"items":[1,2]}\n{"t":1,"items":[5]}\n' > in.ndjson
	run --separate-stderr window --tumble 1m -t .t --agg 'c=count(.items[])' --agg 'm=max(.items[])' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"c":2,"m":[1,2],"pane":{"timing":"on_time","index":0,"final":true}}'
	refused 'window: in.ndjson:2: --agg s=sum(.items[]): array is not a number' \
		window --tumble 1m -t .t --agg 's=sum(.items[])' in.ndjson
}

@test "--slide over --every of 4096 windows a record or more is refused, as window(1) says" {
	refused 'window: --slide/--every: at most 4095 windows per record' \
		window --slide 4096s --every 1s -t .t
	printf '{"t":0}\n' > in.ndjson
	run sh -c 'window --slide 4095s --every 1s -t .t in.ndjson | wc -l'
	assert_output 4095
}

@test "a --tumble size that is neither a duration nor a calendar unit is refused naming both kinds" {
	refused "window: --tumble: '1M': unknown unit (use ns, us, ms, s, m, h, d); or a calendar unit: Nd, Nw, Nmo, Ny" \
		window --tumble 1M -t .t
	refused "window: --slide: '1M': unknown unit (use ns, us, ms, s, m, h, d)" \
		window --slide 1M --every 1s -t .t
}

@test "--offset of a window's step or more shifts the windows as its remainder does" {
	echo '{"t":3700}' > in.ndjson
	run window --tumble 1h --offset 90m -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:30:00Z","end":"1970-01-01T01:30:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run window --tumble 1h --offset 2h -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T01:00:00Z","end":"1970-01-01T02:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run window --slide 1h --every 30m --offset 45m -t .t in.ndjson
	assert_success
	assert_output - <<'E'
{"window":{"start":"1970-01-01T00:15:00Z","end":"1970-01-01T01:15:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:45:00Z","end":"1970-01-01T01:45:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
E
}

@test "an event time near 1677 or 2262 is refused only when one of its windows does not fit, not two sizes ahead" {
	# [2262-04-10, 2262-04-11) ends before 2262-04-11T23:47:16.854775807Z:
	# taken, as --tz UTC's day of it always was
	echo '{"t":"2262-04-10T12:00:00Z"}' > in.ndjson
	run window --tumble 1d -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"2262-04-10T00:00:00Z","end":"2262-04-11T00:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run window --tumble 1d --tz UTC -t .t in.ndjson
	assert_output '{"window":{"start":"2262-04-10T00:00:00+00:00","end":"2262-04-11T00:00:00+00:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	echo '{"t":"1677-09-22T00:00:00Z"}' > lo.ndjson
	run window --tumble 1d -t .t lo.ndjson
	assert_output '{"window":{"start":"1677-09-22T00:00:00Z","end":"1677-09-23T00:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# the next day's window ends past 2262-04-11T23:47:16Z; the day
	# before 1677-09-22 starts before 1677-09-21T00:12:43Z; sessions
	# need their gap
	echo '{"t":"2262-04-11T00:00:00Z"}' > hi.ndjson
	refused 'window: hi.ndjson:1: event time .t: out of range (its windows reach past 1677..2262)' \
		window --tumble 1d -t .t hi.ndjson
	echo '{"t":"1677-09-21T12:00:00Z"}' > lo2.ndjson
	refused 'window: lo2.ndjson:1: event time .t: out of range (its windows reach past 1677..2262)' \
		window --tumble 1d -t .t lo2.ndjson
	echo '{"t":"2262-04-11T23:40:00Z"}' > s.ndjson
	run window --session 5m -t .t s.ndjson
	assert_output '{"window":{"start":"2262-04-11T23:40:00Z","end":"2262-04-11T23:45:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	refused 'window: s.ndjson:1: event time .t: out of range (its windows reach past 1677..2262)' \
		window --session 10m -t .t s.ndjson
}

@test "a calendar --tumble whose N is 0 or past 100000 is refused as that, not as an unknown unit" {
	refused "window: --tumble: '0w': a calendar window takes N from 1 to 100000" \
		window --tumble 0w -t .t
	refused "window: --tumble: '200000mo': a calendar window takes N from 1 to 100000" \
		window --tumble 200000mo -t .t
	# Nd with --tz is a calendar day, not a fixed duration --tz refuses
	refused "window: --tumble: '106751d': a calendar window takes N from 1 to 100000" \
		window --tumble 106751d --tz UTC -t .t
	refused "window: --slide: '0y': calendar units (w, mo, y) apply to --tumble only" \
		window --slide 0y --every 1d -t .t
}
