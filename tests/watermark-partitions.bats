#!/usr/bin/env bats
# watermark -p: partitions first seen late, declared partitions, and
# idleness by the event or the processing clock.

load helpers

late_first() {
	printf '%s\n' '{"p":"a","t":100}' '{"p":"b","t":100}' '{"p":"a","t":200}' \
		'{"p":"b","t":200}' '{"p":"c","t":10}' '{"p":"c","t":20}' '{"p":"c","t":30}'
}

@test "a partition first seen late keeps its in-order records (0 of 3 dropped), and it is said" {
	late_first > in.ndjson
	run watermark -t .t -p .p --late drop in.ndjson
	assert_success
	assert_output - <<'E'
{"p":"a","t":100}
{"p":"b","t":100}
{"p":"a","t":200}
{"p":"b","t":200}
{"p":"c","t":10}
watermark: in.ndjson:5: a partition first seen behind the watermark; its records are judged by its own watermark until it catches up (declare the partitions with --partitions N so the watermark waits for them)
{"p":"c","t":20}
{"p":"c","t":30}
E
}

@test "a partition first seen late is still late for records behind its own watermark" {
	printf '%s\n' '{"p":"a","t":100}' '{"p":"b","t":50}' '{"p":"b","t":40}' '{"p":"b","t":60}' > in.ndjson
	run watermark -t .t -p .p --late late.ndjson in.ndjson
	assert_success
	assert_line -n 0 '{"p":"a","t":100}'
	assert_line -n 1 '{"p":"b","t":50}'
	assert_line -n 3 '{"p":"b","t":60}'
	run cat late.ndjson
	assert_output '{"p":"b","t":40}'
}

@test "--partitions N: W waits until N partitions are seen" {
	late_first > in.ndjson
	run watermark -t .t -p .p --partitions 3 --emit --late drop in.ndjson
	assert_success
	assert_output - <<'E'
{"p":"a","t":100}
{"p":"b","t":100}
{"p":"a","t":200}
{"p":"b","t":200}
{"p":"c","t":10}
{"_watermark":"1970-01-01T00:00:10Z"}
{"p":"c","t":20}
{"_watermark":"1970-01-01T00:00:20Z"}
{"p":"c","t":30}
{"_watermark":"1970-01-01T00:00:30Z"}
E
}

@test "--partitions N: fewer seen, or more, is said" {
	late_first | head -n 4 > in.ndjson
	run watermark -t .t -p .p --partitions 3 --emit in.ndjson
	assert_success
	assert_line -n 4 'watermark: 2 of --partitions 3 partitions seen; the watermark waited for the others and was never set'
	late_first > in.ndjson
	run watermark -t .t -p .p --partitions 2 in.ndjson
	assert_success
	assert_line -n 5 'watermark: in.ndjson:5: more partitions than --partitions 2; the watermark did not wait for this one'
	run watermark -t .t --partitions 2 in.ndjson
	assert_failure 2
	assert_line -n 0 'watermark: --partitions needs -p'
	run watermark -t .t -p .p --partitions 0 in.ndjson
	assert_failure 2
	assert_line -n 0 'watermark: --partitions: must be positive'
}

lagging() {
	printf '%s\n' '{"p":"a","t":0}' '{"p":"b","t":0}' '{"p":"a","t":100}' \
		'{"p":"b","t":10}' '{"p":"a","t":200}' '{"p":"b","t":20}'
}

@test "--idle is by the event clock by default: a live partition that lags goes idle" {
	lagging > in.ndjson
	run watermark -t .t -p .p --idle 50s --late drop in.ndjson
	assert_success
	assert_output - <<'E'
{"p":"a","t":0}
{"p":"b","t":0}
{"p":"a","t":100}
{"p":"a","t":200}
watermark: 2 records dropped: too late (--late FILE keeps them)
E
}

@test "--idle-clock processing: a live partition that lags holds W, none of its records late" {
	lagging > in.ndjson
	run watermark -t .t -p .p --idle 50s --idle-clock processing --late drop --stats in.ndjson
	assert_success
	assert_line -n 5 '{"p":"b","t":20}'
	assert_line -n 6 --regexp '"late":0,.*"too_late":0,"partitions":2,"watermark":"1970-01-01T00:00:20Z"'
}

@test "--idle-clock processing: a partition silent for the idle time is left out" {
	run sh -c '{ printf "%s\n" "{\"p\":\"a\",\"t\":0}" "{\"p\":\"b\",\"t\":0}"; sleep 0.5;
		printf "%s\n" "{\"p\":\"a\",\"t\":100}"; } |
		watermark -t .t -p .p --idle 200ms --idle-clock processing --emit'
	assert_success
	assert_output - <<'E'
{"p":"a","t":0}
{"_watermark":"1970-01-01T00:00:00Z"}
{"p":"b","t":0}
{"p":"a","t":100}
{"_watermark":"1970-01-01T00:01:40Z"}
E
	run watermark -t .t -p .p --idle-clock processing in.ndjson
	assert_failure 2
	assert_line -n 0 'watermark: --idle-clock needs --idle'
	run watermark -t .t -p .p --idle 1s --idle-clock wall in.ndjson
	assert_failure 2
	assert_line -n 0 "watermark: --idle-clock: want event or processing, got 'wall'"
}

@test "--idle-clock processing: a too-late record that finds a partition idle says the W it advanced with --emit" {
	run sh -c '{ printf "%s\n" "{\"p\":\"a\",\"t\":100}" "{\"p\":\"b\",\"t\":50}"; sleep 0.5;
		printf "%s\n" "{\"p\":\"a\",\"t\":10}"; } |
		watermark -t .t -p .p --partitions 2 --idle 200ms --idle-clock processing --emit --late late.ndjson --stats'
	assert_success
	assert_line -n 0 '{"p":"a","t":100}'
	assert_line -n 1 '{"p":"b","t":50}'
	assert_line -n 2 '{"_watermark":"1970-01-01T00:00:50Z"}'
	assert_line -n 3 '{"_watermark":"1970-01-01T00:01:40Z"}'
	assert_line -n 4 --regexp '"too_late":1,"partitions":2,"watermark":"1970-01-01T00:01:40Z","watermarks":2,'
	assert_equal "${#lines[@]}" 5
	assert_equal "$(cat late.ndjson)" '{"p":"a","t":10}'
}
