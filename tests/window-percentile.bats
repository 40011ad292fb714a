#!/usr/bin/env bats
# window's percentiles p(EXPR, Q): exact nearest rank over the window's
# values, by exact value, ties in arrival order, spelled as in the input.

load helpers

@test "p(EXPR, Q) agrees with a brute-force nearest-rank model over big integers, decimals and times" {
	run python3 "$BATS_TEST_DIRNAME/window/percentile_model.py" "$IDEM_BIN/window"
	assert_success
	assert_output --regexp ', 0 differ $'
}

@test "percentiles compare exactly: big integers, 1 and 1.0 in arrival order, Q of 18 digits" {
	printf '%s\n' '{"t":1,"x":3}' '{"t":2,"x":1.0}' '{"t":3,"x":1}' \
		'{"t":4,"x":12345678901234567891}' '{"t":5,"x":12345678901234567890}' \
		'{"t":6,"x":2e0}' > in.ndjson
	run window --tumble 1h -t .t --agg 'a=p(.x, 0.5)' --agg 'b=p(.x,0)' \
		--agg 'c=p(.x, 1)' --agg 'd=p(.x, .2)' --agg 'e=p50(.x)' \
		--agg 'g=p(.x, 0.833333333333333333)' --agg 'h=p(.x, 0.833333333333333334)' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"a":2e0,"b":1.0,"c":12345678901234567891,"d":1,"e":2e0,"g":12345678901234567890,"h":12345678901234567891,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "p50 of times compares instants, not spellings" {
	printf '%s\n' '{"t":1,"x":"2024-01-01T10:00:00+02:00"}' '{"t":2,"x":"2024-01-01T09:00:00Z"}' \
		'{"t":3,"x":"2024-01-01T08:30:00Z"}' > in.ndjson
	run window --tumble 1h -t .t --agg 'm=p50(.x)' --agg 'lo=p(.x, 0)' in.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"m":"2024-01-01T08:30:00Z","lo":"2024-01-01T10:00:00+02:00","pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a percentile's values are carried across runs by --state" {
	printf '%s\n' '{"t":1,"x":5}' '{"t":2,"x":1}' > a.ndjson
	printf '%s\n' '{"t":3,"x":9}' '{"t":3700,"x":0}' > b.ndjson
	window --tumble 1h -t .t --agg 'p=p(.x, 0.6)' --state w.st a.ndjson
	run window --tumble 1h -t .t --agg 'p=p(.x, 0.6)' --state w.st b.ndjson
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"p":5,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a Q is taken by its value however jq spells the number: -0, 5e-1, 0.50, 10e-1" {
	printf '{"t":%d,"x":%d}\n' 1 4 2 1 3 3 4 2 > in.ndjson
	run window --tumble 1h -t .t --agg 'a=p(.x, -0)' --agg 'b=p(.x, 5e-1)' \
		--agg 'c=p(.x, 0.50)' --agg 'd=p(.x, 10e-1)' --agg 'e=p(.x, 1.)' \
		--agg 'f=p(.x, 0.750000000000000000000)' --agg 'g=p(.x, 25E-2)' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"a":1,"b":2,"c":2,"d":4,"e":4,"f":3,"g":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a Q that is not a fraction 0..1 is refused" {
	for q in 95 1.5 -0.1 '' 0.1234567890123456789 '0.5 x' 1e400 1e-19 \
		-1e-400 5e 0x1 . -.5 nan; do
		run window --tumble 1h -t .t --agg "a=p(.x, $q)"
		assert_failure 2
		assert_output --partial "window: --agg: p(EXPR, Q) wants Q a fraction 0..1 of at most 18 digits (0.95 for the 95th percentile), got 'a=p(.x, $q)'"
	done
	run window --tumble 1h -t .t --agg 'a=p(.x)'
	assert_failure 2
	run window --tumble 1h -t .t --agg 'a=pct(.x, 0.5)'
	assert_failure 2
	assert_output --partial "unknown function 'pct' (want count, sum, min, max, avg, first, last, distinct, p50, p90, p99 or p(EXPR, Q))"
}

@test "a Q given to p50, p90 or p99 is refused with the p(EXPR, Q) it means, not taken as jq's pair" {
	# '.ms, 0.95' is jq for two values, which came as the pair [.ms, 0.95]:
	# the percentile of pairs, [12,0.95], without a word
	refused "window: --agg: p90(EXPR) takes no Q (it is p(EXPR, 0.9)); did you mean 'p(.ms, 0.95)'?" \
		window --tumble 1m -t .t --agg 'a=p90(.ms, 0.95)'
	refused "window: --agg: p50(EXPR) takes no Q (it is p(EXPR, 0.5)); did you mean 'p(.ms,1)'?" \
		window --tumble 1m -t .t --agg 'a=p50(.ms,1)'
	# any number, in range or not: p90(.ms, 95) was the pairs [.ms, 95]
	refused "window: --agg: p90(EXPR) takes no Q (it is p(EXPR, 0.9)); did you mean 'p(.ms, 95)'?" \
		window --tumble 1m -t .t --agg 'a=p90(.ms, 95)'
	refused "window: --agg: p99(EXPR) takes no Q (it is p(EXPR, 0.99)); did you mean 'p(.ms, 5e-1)'?" \
		window --tumble 1m -t .t --agg 'a=p99(.ms, 5e-1)'
	# a comma of jq's own, or a second expression, is jq's
	printf '{"t":%d,"ms":%d}\n' 1 12 2 480 3 15 > in.ndjson
	run window --tumble 1m -t .t --agg 'a=p50([.ms, 0.5])' --agg 'b=p99(.ms, .t)' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"a":[15,0.5],"b":[480,2],"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "two Qs given to p() are refused with the two p(EXPR, Q) they mean, not taken as the percentile of jq's pairs" {
	# '.ms, 0.5' is jq for two values: p(.ms, 0.5, 0.9) was the 0.9th
	# percentile of the pairs [.ms, 0.5], [480,0.5], without a word
	refused "window: --agg: p(EXPR, Q) takes one Q; did you mean 'p(.ms, 0.5)' and 'p(.ms, 0.9)'?" \
		window --tumble 1m -t .t --agg 'a=p(.ms, 0.5, 0.9)'
	refused "window: --agg: p(EXPR, Q) takes one Q; did you mean 'p(.ms, 95)' and 'p(.ms, -0)'?" \
		window --tumble 1m -t .t --agg 'a=p(.ms, 95, -0)'
	# a comma of jq's own, or a second expression, is jq's
	printf '{"t":%d,"ms":%d}\n' 1 12 2 480 3 15 > in.ndjson
	run window --tumble 1m -t .t --agg 'a=p([.ms, 0.5], 0.5)' --agg 'b=p(.ms, .t, 1)' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"a":[15,0.5],"b":[480,2],"pane":{"timing":"on_time","index":0,"final":true}}'
}
