#!/usr/bin/env bats
# reconcile: prove two layers hold the same data.

load helpers

source_file() {
	cat > s.ndjson <<'J'
{"id":1,"amount":10.5,"day":"d1"}
{"id":2,"amount":3,"day":"d1"}
{"id":3,"amount":1.25,"day":"d2"}
{"id":4,"amount":7,"day":"d2"}
J
}

# Only the differences, for tests that plant one.
diffs() {
	reconcile "$@" | jq -c 'select(.diff)'
}

@test "identical inputs agree: exit 0 and one total line" {
	source_file
	run reconcile -k .id --sum .amount s.ndjson s.ndjson
	assert_success
	assert_output '{"total":true,"match":true,"source":{"rows":4,"keys":4,"duplicate_keys":0,"sum":{".amount":21.75},"fingerprint":"b9ffbf9c5d62b332b650d95d6c0e5b1a"},"target":{"rows":4,"keys":4,"duplicate_keys":0,"sum":{".amount":21.75},"fingerprint":"b9ffbf9c5d62b332b650d95d6c0e5b1a"},"missing":0,"extra":0,"changed":0}'
}

@test "member order and number spelling do not change the fingerprint" {
	source_file
	cat > t.ndjson <<'J'
{"day":"d1","amount":10.50,"id":1}
{"id":2,"amount":3.0,"day":"d1"}
{"amount":125e-2,"id":3,"day":"\u0064\u0032"}
{"id":4,"day":"d2","amount":7}
J
	run reconcile -k .id --sum .amount --by .day s.ndjson t.ndjson
	assert_success
	run sh -c 'reconcile -k .id --sum .amount --by .day s.ndjson t.ndjson | jq -c "[.match, .source.fingerprint == .target.fingerprint]"'
	assert_output - <<'J'
[true,true]
[true,true]
[true,true]
J
}

@test "a key missing in the target is found, in its partition" {
	source_file
	grep -v '"id":3' s.ndjson > t.ndjson
	run diffs -k .id --by .day s.ndjson t.ndjson
	assert_output '{"diff":"missing","partition":"d2","key":3}'
}

@test "a key extra in the target is found" {
	source_file
	{ cat s.ndjson; echo '{"id":9,"amount":1,"day":"d9"}'; } > t.ndjson
	run diffs -k .id --by .day s.ndjson t.ndjson
	assert_output '{"diff":"extra","partition":"d9","key":9}'
}

@test "a changed value is found, and the differing sum" {
	source_file
	sed 's/"amount":3,/"amount":3.01,/' s.ndjson > t.ndjson
	run sh -c 'reconcile -k .id --sum .amount s.ndjson t.ndjson | jq -c "(select(.total) | [.source.sum, .target.sum, .changed]), select(.diff)"'
	assert_output - <<'J'
[{".amount":21.75},{".amount":21.76},1]
{"diff":"changed","key":2,"source_rows":1,"target_rows":1,"fields":{"amount":{"source":3,"target":3.01}}}
J
}

@test "a duplicated key is a changed key with its row counts" {
	source_file
	{ cat s.ndjson; sed -n 2p s.ndjson; } > t.ndjson
	run sh -c 'reconcile -k .id s.ndjson t.ndjson | jq -c "select(.total) | .target | [.rows, .keys, .duplicate_keys]"'
	assert_output '[5,4,1]'
	run diffs -k .id s.ndjson t.ndjson
	assert_output '{"diff":"changed","key":2,"source_rows":1,"target_rows":2}'
}

@test "exit 1 when the inputs differ" {
	source_file
	head -n 3 s.ndjson > t.ndjson
	run reconcile -k .id s.ndjson t.ndjson
	assert_failure 1
}

@test "every kind of difference at once, sorted by kind then key" {
	source_file
	cat > t.ndjson <<'J'
{"id":4,"amount":7,"day":"d2"}
{"id":12,"amount":1,"day":"d1"}
{"id":2,"amount":30,"day":"d1"}
{"id":11,"amount":1,"day":"d1"}
J
	run diffs -k .id s.ndjson t.ndjson
	assert_output - <<'J'
{"diff":"missing","key":1}
{"diff":"missing","key":3}
{"diff":"extra","key":11}
{"diff":"extra","key":12}
{"diff":"changed","key":2,"source_rows":1,"target_rows":1,"fields":{"amount":{"source":3,"target":30}}}
J
}

@test "one line per partition then the total, partitions in jq order" {
	source_file
	run sh -c 'reconcile -k .id --by .day s.ndjson s.ndjson | jq -c "[.partition, .total, .source.rows]"'
	assert_output - <<'J'
["d1",null,2]
["d2",null,2]
[null,true,4]
J
}

@test "--show N adds up to N records of each kind side by side" {
	source_file
	sed -e 's/"amount":3,/"amount":4,/' -e 's/"amount":7,/"amount":8,/' s.ndjson > t.ndjson
	run diffs -k .id --show 1 s.ndjson t.ndjson
	assert_output - <<'J'
{"diff":"changed","key":2,"source_rows":1,"target_rows":1,"fields":{"amount":{"source":3,"target":4}},"source":{"id":2,"amount":3,"day":"d1"},"target":{"id":2,"amount":4,"day":"d1"}}
{"diff":"changed","key":4,"source_rows":1,"target_rows":1,"fields":{"amount":{"source":7,"target":8}}}
J
}

@test "--keys-only writes only the differing keys" {
	source_file
	sed 1d s.ndjson > t.ndjson
	run reconcile -k .id --keys-only s.ndjson t.ndjson
	assert_failure 1
	assert_output '{"diff":"missing","key":1}'
}

@test "--keys-only that exits 1 with no key to list says why on stderr" {
	printf '{"id":1,"d":"A"}\n{"id":2,"d":"B"}\n' > a
	printf '{"id":1,"d":"A"}\n{"id":2,"d":"A"}\n' > b
	run --separate-stderr reconcile -k .id --by .d --ignore d --keys-only a b
	assert_failure 1
	assert_output ''
	[ "$stderr" = "reconcile: no key differs, but the partitions, sums or row counts do: the inputs do not agree (exit 1); the report without --keys-only shows where" ]
	printf '{"id":1,"d":"A"}\n{"id":2,"d":"B"}\nbad\n' > c
	run --separate-stderr reconcile -k .id --keys-only --dlq dl a c
	assert_failure 1
	assert_output ''
	[ "$stderr" = "reconcile: no key differs, but 0 source and 1 target records were rejected: the inputs do not agree (exit 1)" ]
	# a key listed is the answer: nothing more said
	run --separate-stderr reconcile -k .id --keys-only a b
	assert_failure 1
	assert_output '{"diff":"changed","key":2,"source_rows":1,"target_rows":1}'
	[ -z "$stderr" ]
}

@test "--keys-only refuses --show and --format table, which it would take and never write" {
	source_file
	sed -e 1d -e 's/"amount":3,/"amount":4,/' s.ndjson > t.ndjson
	run reconcile -k .id --keys-only --show 2 s.ndjson t.ndjson
	assert_failure 2
	assert_line --index 0 "reconcile: --show does not apply to --keys-only, which writes the differing keys alone"
	run reconcile -k .id --keys-only --format table s.ndjson t.ndjson
	assert_failure 2
	assert_line --index 0 "reconcile: --format table does not apply to --keys-only, which writes the differing keys as NDJSON"
	run reconcile -k .id --keys-only --format ndjson --show 0 s.ndjson t.ndjson
	assert_failure 1
	assert_output - <<'J'
{"diff":"missing","key":1}
{"diff":"changed","key":2,"source_rows":1,"target_rows":1}
J
}

@test "keys compare by value and keep the source's spelling" {
	printf '{"k":"\\u0061","v":1}\n{"k":1.0,"v":1}\n' > s.ndjson
	printf '{"k":"a","v":1}\n{"k":1,"v":2}\n' > t.ndjson
	run reconcile -k .k --keys-only s.ndjson t.ndjson
	assert_output '{"diff":"changed","key":1.0,"source_rows":1,"target_rows":1}'
}

@test "repeated -k keys on the tuple" {
	printf '{"a":1,"b":2}\n{"a":1,"b":3}\n' > s.ndjson
	printf '{"a":1,"b":2}\n' > t.ndjson
	run diffs -k .a -k .b s.ndjson t.ndjson
	assert_output '{"diff":"missing","key":[1,3]}'
}

@test "sums are exact where binary floating point is not" {
	for i in $(seq 10); do echo "{\"id\":$i,\"x\":0.1}"; done > s.ndjson
	run sh -c 'reconcile -k .id --sum .x s.ndjson s.ndjson | jq -c .source.sum'
	assert_output '{".x":1}'
	run sh -c 'reconcile -k .id --sum .x s.ndjson s.ndjson | grep -o "\"sum\":{[^}]*}" | head -n 1'
	assert_output '"sum":{".x":1}'
}

@test "--tolerance lets sums differ by up to X" {
	printf '{"id":1,"x":1.00}\n' > s.ndjson
	printf '{"id":1,"x":1.004}\n' > t.ndjson
	run sh -c 'reconcile -k .id --sum .x --tolerance 0.005 --format table s.ndjson t.ndjson | sed -n 3p'
	assert_output '      target    1     1         0   1.004  9474289aba37*'
}

@test "a --tolerance past 38 digits is refused as that, not as a number below 0" {
	printf '{"id":1,"x":1}\n' > s.ndjson
	refused "reconcile: --tolerance: '0.99999999999999999999999999999999999999999' is past what an exact decimal holds (38 digits)" \
		reconcile -k .id --sum .x --tolerance 0.99999999999999999999999999999999999999999 s.ndjson s.ndjson
	refused "reconcile: --tolerance: want a number >= 0, got '-1'" \
		reconcile -k .id --sum .x --tolerance -1 s.ndjson s.ndjson
	refused "reconcile: --tolerance: want a number >= 0, got '1 '" \
		reconcile -k .id --sum .x --tolerance '1 ' s.ndjson s.ndjson
	reconcile summarize -k .id --sum .x s.ndjson > s.sum
	refused "reconcile: --tolerance: '1e99999999999' is past what an exact decimal holds (38 digits)" \
		reconcile compare --tolerance 1e99999999999 s.sum s.sum
}

@test "the same records in another order count a key in the same partition on both sides, and agree" {
	printf '%s\n' '{"id":1,"d":"A"}' '{"id":1,"d":"B"}' > s.ndjson
	printf '%s\n' '{"id":1,"d":"B"}' '{"id":1,"d":"A"}' > t.ndjson
	run sh -c 'reconcile -k .id --by .d s.ndjson t.ndjson | jq -c "[.partition, .match, .source.keys, .target.keys, .target.duplicate_keys]"'
	assert_output - <<'J'
["A",true,1,1,1]
["B",true,0,0,0]
[null,true,1,1,1]
J
	run reconcile -k .id --by .d s.ndjson t.ndjson
	assert_success
}

@test "a partition that differs makes the total line's match false and exit 1, though the totals add up alike" {
	printf '{"id":1,"d":"A"}\n' > s.ndjson
	printf '{"id":1,"d":"B"}\n' > t.ndjson
	run sh -c 'reconcile -k .id --by .d --ignore d s.ndjson t.ndjson | jq -c "[.partition, .match]"'
	assert_output - <<'J'
["A",false]
["B",false]
[null,false]
J
	run reconcile -k .id --by .d --ignore d s.ndjson t.ndjson
	assert_failure 1
	run sh -c 'reconcile -k .id --by .d --ignore d --format table s.ndjson t.ndjson | tail -n 2'
	assert_output - <<'T'
TOTAL     source    1     1         0  0fae53db2360  0 missing, 0 extra, 0 changed
          target    1     1         0  0fae53db2360
T
}

@test "sums within --tolerance in every partition but not in total do not agree: exit 1" {
	printf '%s\n' '{"id":1,"d":"A","x":1}' '{"id":2,"d":"B","x":1}' > s.ndjson
	printf '%s\n' '{"id":1,"d":"A","x":2}' '{"id":2,"d":"B","x":2}' > t.ndjson
	run sh -c 'reconcile -k .id --by .d --ignore x --sum .x --tolerance 1 s.ndjson t.ndjson | jq -c "[.partition, .match]"'
	assert_output - <<'J'
["A",true]
["B",true]
[null,false]
J
	run reconcile -k .id --by .d --ignore x --sum .x --tolerance 1 s.ndjson t.ndjson
	assert_failure 1
}

@test "compare: a bucket that differs makes the total line's match false, though the partitions add up alike" {
	printf '%s\n' '{"id":1,"x":1}' '{"id":2,"x":2}' > s.ndjson
	printf '%s\n' '{"id":1,"x":2}' '{"id":2,"x":1}' > t.ndjson
	reconcile summarize -k .id --ignore id s.ndjson > s.sum
	reconcile summarize -k .id --ignore id t.ndjson > t.sum
	run sh -c 'reconcile compare s.sum t.sum | jq -c "[.total, .match, .bucket]"'
	assert_output - <<'J'
[true,false,null]
[null,null,35]
[null,null,207]
J
	run reconcile compare s.sum t.sum
	assert_failure 1
}

@test "a table on request, with the differing cells marked" {
	source_file
	sed -e '/"id":3/d' -e 's/"amount":3,/"amount":4,/' s.ndjson > t.ndjson
	run reconcile -k .id --sum .amount --by .day --format table s.ndjson t.ndjson
	assert_failure 1
	assert_output - <<'T'
PARTITION SIDE   ROWS  KEYS  DUP KEYS  SUM .amount   FINGERPRINT  STATUS
d1        source    2     2         0         13.5  88bbc1824abe  0 missing, 0 extra, 1 changed
          target    2     2         0         14.5* 9cc59eaa6069*
d2        source    2     2         0         8.25  3143fe1a12a4  1 missing, 0 extra, 0 changed
          target    1*    1*        0            7* 377aa37c3107*
TOTAL     source    4     4         0        21.75  b9ffbf9c5d62  1 missing, 0 extra, 1 changed
          target    3*    3*        0         21.5* d44042269170*

changed fields (keys): amount 1

missing in target: 1 key
  3  (d2)

changed: 1 key
  2  (d1)
    amount: 3 -> 4
T
}

@test "a table drops a partition's quotes only where it cannot then be read as another: 7 and \"7\", \"TOTAL\"" {
	printf '%s\n' '{"id":1,"d":7}' '{"id":2,"d":"7"}' '{"id":3,"d":"TOTAL"}' \
		'{"id":4,"d":"2024-05-01"}' '{"id":5,"d":" a"}' \
		'{"id":6,"d":"\u0078"}' > s.ndjson
	run sh -c 'reconcile -k .id --by .d --format table s.ndjson s.ndjson | cut -c1-10 | sed "s/ *\$//" | grep .'
	assert_output - <<'T'
PARTITION
7
" a"
2024-05-01
"7"
"TOTAL"
"\u0078"
TOTAL
T
}

@test "reads - for one input and zstd-compressed files" {
	source_file
	zstd -q -c s.ndjson > s.ndjson.zst
	run sh -c 'sed 1d s.ndjson | reconcile -k .id --keys-only s.ndjson.zst -'
	assert_output '{"diff":"missing","key":1}'
}

@test "reads two pipes, each copied aside for the second read" {
	source_file
	run reconcile -k .id --keys-only <(cat s.ndjson) <(sed -e 1d -e 's/"amount":3,/"amount":4,/' s.ndjson)
	assert_output - <<'J'
{"diff":"missing","key":1}
{"diff":"changed","key":2,"source_rows":1,"target_rows":1}
J
}

@test "a line too long that starts with blanks, from a pipe, keeps its place for the second read" {
	# its copy was its first --max-line bytes, all spaces: a blank line
	# to the second read, which then found key 3 where key 2 had been
	{ echo '{"id":1}'; printf '%2000s{"id":9}\n' ''; echo '{"id":2}'; echo '{"id":3}'; } > s.ndjson
	printf '%s\n' '{"id":1}' '{"id":3}' > t.ndjson
	run sh -c 'cat s.ndjson | reconcile -k .id --max-line 1K --dlq bad.ndjson --keys-only - t.ndjson'
	assert_failure 1
	assert_output '{"diff":"missing","key":2}'
	run jq -c '[.error_type, .source.line]' bad.ndjson
	assert_output '["line_too_long",2]'
}

@test "refuses - for both inputs" {
	run reconcile -k .id - -
	assert_failure 2
	assert_output --partial 'only one of SOURCE and TARGET can be -'
}

@test "one pipe named as both sides (- and /dev/stdin) is refused, not read as an empty target" {
	printf '{"id":1}\n' > s.ndjson
	run sh -c 'cat s.ndjson | reconcile -k .id - /dev/stdin'
	assert_failure 2
	assert_line -n 0 "reconcile: - and /dev/stdin are one stream (a pipe): the target would read only what the source left; save it to a file, or give it once"
	# a regular file on stdin is read afresh by each side
	run sh -c 'reconcile -k .id - /dev/stdin < s.ndjson'
	assert_success
}

@test "a source replaced or rewritten before the second read stops the run, not names keys never compared" {
	printf '%s\n' '{"id":1,"v":1}' '{"id":3,"v":4}' > t.ndjson
	mkfifo tgt
	# the target is read after the whole source: the source changes
	# before the target ends, so before the second read
	for how in 'mv new.ndjson s.ndjson' 'cat new.ndjson > s.ndjson' \
		'echo "{\"id\":4}" >> s.ndjson'; do
		printf '%s\n' '{"id":1,"v":1}' '{"id":2,"v":2}' '{"id":3,"v":3}' > s.ndjson
		printf '%s\n' '{"id":7,"v":1}' '{"id":8,"v":2}' '{"id":9,"v":3}' > new.ndjson
		sh -c "exec 3>tgt; cat t.ndjson >&3; $how; exec 3>&-" &
		run reconcile -k .id --keys-only s.ndjson tgt
		wait
		case $how in
		mv*)
			assert_failure 2
			assert_output 'reconcile: s.ndjson: replaced or cut short while reconcile ran; run it again on inputs that hold still' ;;
		cat*)
			assert_failure 2
			assert_output 'reconcile: s.ndjson:2: changed while reconcile ran' ;;
		*)	# a line added at the end changes nothing read
			assert_failure 1
			assert_output - <<'J'
{"diff":"missing","key":2}
{"diff":"changed","key":3,"source_rows":1,"target_rows":1}
J
		esac
	done
}

@test "a run killed by a signal leaves nothing in TMPDIR: the reader of its output gone, or SIGTERM" {
	mkdir tmp
	seq 1 6000 | awk '{ printf "{\"id\":%d}\n", $1 }' > s.ndjson
	# a report of 6000 missing keys outgrows the pipe: SIGPIPE, with
	# the copy of stdin and the spilled key tables in the folder
	printf '{"id":1}\n' > t.ndjson
	TMPDIR=$PWD/tmp sh -c 'cat t.ndjson | reconcile -k .id --memory 64K s.ndjson - | head -c 1 > /dev/null'
	run ls -A tmp
	assert_output ''
	# stdin a FIFO this shell holds open: reconcile waits in the target
	mkfifo in
	exec 4<> in
	cat t.ndjson >&4
	TMPDIR=$PWD/tmp reconcile -k .id s.ndjson - < in > /dev/null &
	pid=$!
	for i in $(seq 100); do
		[ -n "$(ls tmp/*/t-input.zst 2>/dev/null)" ] && break
		sleep 0.1
	done
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	exec 4>&-
	[ "$status" -eq 143 ]
	run ls -A tmp
	assert_output ''
}

@test "a run killed by SIGKILL leaves its TMPDIR folder to the next run, which removes it; a live run's is left" {
	mkdir tmp
	seq 1 600 | awk '{ printf "{\"id\":%d}\n", $1 }' > s.ndjson
	mkfifo in
	exec 4<> in
	printf '{"id":1}\n' >&4
	TMPDIR=$PWD/tmp reconcile -k .id s.ndjson - < in > /dev/null &
	pid=$!
	for i in $(seq 100); do
		[ -n "$(ls tmp/*/t-input.zst 2>/dev/null)" ] && break
		sleep 0.1
	done
	kill -KILL $pid
	wait $pid || true
	dead=$(ls tmp)
	# the next run removes it, and waits on its input
	TMPDIR=$PWD/tmp reconcile -k .id s.ndjson - < in > /dev/null 2> live.err 4>&- &
	live=$!
	for i in $(seq 100); do
		[ ! -e "tmp/$dead" ] && [ -n "$(ls tmp/*/t-input.zst 2>/dev/null)" ] && break
		sleep 0.1
	done
	run cat live.err
	assert_output "reconcile: $PWD/tmp/$dead: removed, the temporary folder of a run that was killed"
	# one more beside it leaves the live run's folder alone
	run sh -c "printf '{\"id\":1}\n' | TMPDIR=$PWD/tmp reconcile -k .id s.ndjson - 2>&1 >/dev/null"
	assert_failure 1
	assert_output ''
	[ "$(ls tmp | wc -l)" -eq 1 ]
	exec 4>&-
	status=0
	wait $live || status=$?
	[ "$status" -eq 1 ]
	run ls -A tmp
	assert_output ''
}

@test "requires -k and two inputs" {
	run reconcile s.ndjson t.ndjson
	assert_failure 2
	assert_output --partial '-k EXPR is required'
	run reconcile -k .id s.ndjson
	assert_failure 2
	assert_output --partial 'want SOURCE and TARGET'
}

@test "empty inputs agree" {
	: > e.ndjson
	run sh -c 'reconcile -k .id e.ndjson e.ndjson | jq -c "[.match, .source.rows]"'
	assert_output '[true,0]'
}

@test "malformed JSON stops the run with file and line, exit 2" {
	source_file
	{ cat s.ndjson; echo '{"id":5,'; } > t.ndjson
	run reconcile -k .id s.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: t.ndjson:5: invalid JSON: expected a member name at byte 9'
}

@test "a missing key is reported, not counted" {
	printf '{"id":1}\n{"x":1}\n' > t.ndjson
	run reconcile -k .id t.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: t.ndjson:2: missing key .id'
}

@test "a non-numeric sum value is reported" {
	printf '{"id":1,"x":"12"}\n' > t.ndjson
	run reconcile -k .id --sum .x t.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: t.ndjson:1: --sum .x: string is not a number'
}

@test "a sum value past 38 digits is refused, said as window says it" {
	# it read "number is not a number that fits 38 digits"
	printf '{"id":1,"x":100000000000000000000000000000000000001}\n' > t.ndjson
	run reconcile -k .id --sum .x t.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: t.ndjson:1: --sum .x: 100000000000000000000000000000000000001 has more digits than an exact sum holds'
}

@test "a record that is not an object is reported" {
	printf '[1]\n' > t.ndjson
	run reconcile -k .id t.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: t.ndjson:1: record is an array, not an object'
}

@test "a line longer than --max-line is reported" {
	printf '{"id":1,"pad":"%0200d"}\n' 0 > t.ndjson
	run reconcile -k .id --max-line 100 t.ndjson t.ndjson
	assert_failure 2
	assert_output --partial 'reconcile: t.ndjson:1: line of 217 bytes is longer than --max-line 100'
}

@test "--dlq sets bad records aside, counts them as rejected, exit 1" {
	source_file
	{ cat s.ndjson; echo 'oops'; echo '{"id":9,"amount":"x","day":"d1"}'; } > t.ndjson
	run sh -c 'reconcile -k .id --sum .amount --dlq bad.ndjson s.ndjson t.ndjson | jq -c "select(.total) | [.match, .target.rejected, .target.rows]"'
	assert_output '[false,2,4]'
	run sh -c 'no_time() { sed "s/\"failed_at\":\"[^\"]*\"/\"failed_at\":\"T\"/"; }; no_time < bad.ndjson'
	assert_output - <<'J'
{"original_record":"oops","error_type":"invalid_json","error_message":"invalid JSON: unexpected character at byte 1","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"reconcile","file":"t.ndjson","line":5}}
{"original_record":{"id":9,"amount":"x","day":"d1"},"error_type":"wrong_type","error_message":"--sum .amount: string is not a number","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"reconcile","file":"t.ndjson","line":6}}
J
}

@test "the table names the rejected records" {
	source_file
	{ cat s.ndjson; echo 'oops'; } > t.ndjson
	run sh -c 'reconcile -k .id --dlq bad.ndjson --format table s.ndjson t.ndjson | tail -n 1'
	assert_output 'rejected (see bad.ndjson): source 0, target 1'
}

@test "--stats counts every differing key, those a table leaves out too" {
	seq 12 | sed 's/.*/{"id":&}/' > s.ndjson
	: > t.ndjson
	run sh -c 'reconcile -k .id --format table --stats s.ndjson t.ndjson 2>stats >/dev/null; jq -c .differences stats'
	assert_output 12
	run sh -c 'reconcile -k .id --format table s.ndjson t.ndjson | grep -c "^  [0-9]"'
	assert_output 10
}

@test "compare exits 1 and prints a table of buckets on request" {
	printf '{"id":1}\n{"id":2}\n' > a.ndjson
	printf '{"id":1}\n' > b.ndjson
	reconcile summarize -k .id --buckets 1 a.ndjson > a.sum
	reconcile summarize -k .id --buckets 1 b.ndjson > b.sum
	run reconcile compare --format table a.sum b.sum
	assert_failure 1
	assert_output - <<'T'
      SIDE   ROWS   FINGERPRINT  STATUS
TOTAL source    2  af5ba1df1bd8  DIFF
      target    1* 4d35b43134af*

buckets that differ (check one with --bucket B):
  bucket 0: rows 2 -> 1
T
}

@test "a missing input file is trouble" {
	run reconcile -k .id nosuch.ndjson nosuch.ndjson
	assert_failure 2
	assert_output 'reconcile: nosuch.ndjson: No such file or directory'
}

txlog_table() {
	command -v txlog >/dev/null || skip "no txlog binary"
	txlog init tbl --infer
	printf '{"id":1,"v":1}\n{"id":2,"v":2}\n' | txlog append tbl
	printf '{"id":3,"v":3}\n' | txlog append tbl
	printf '{"id":1,"v":1}\n{"id":2,"v":2}\n{"id":3,"v":3}\n' > all.ndjson
}

@test "reads a txlog table, current or at a version" {
	txlog_table
	run reconcile -k .id --keys-only all.ndjson txlog:tbl
	assert_success
	assert_output ''
	run reconcile -k .id --keys-only all.ndjson txlog:tbl@1
	assert_failure 1
	assert_output '{"diff":"missing","key":3}'
}

@test "a txlog table that cannot be read is trouble" {
	txlog_table
	run reconcile -k .id all.ndjson txlog:tbl@9
	assert_failure 2
	assert_output - <<'E'
txlog: tbl: no version 9 (newest is 2)
reconcile: txlog:tbl@9: txlog cat exited with status 2
E
}

@test "a bad record of a txlog table is named by the table, not by the pipe it is read from" {
	txlog_table
	run reconcile -k .id --sum .x txlog:tbl all.ndjson
	assert_failure 2
	assert_output 'reconcile: txlog:tbl:1: missing --sum .x'
	run reconcile summarize -k .id --sum .x txlog:tbl@1
	assert_failure 2
	assert_output 'reconcile: txlog:tbl@1:1: missing --sum .x'
	run reconcile -k .id --sum .v --by .x --dlq bad.ndjson txlog:tbl all.ndjson
	assert_failure 1
	run jq -c .source bad.ndjson
	assert_output - <<'J'
{"tool":"reconcile","file":"txlog:tbl","line":1}
{"tool":"reconcile","file":"txlog:tbl","line":2}
{"tool":"reconcile","file":"txlog:tbl","line":3}
{"tool":"reconcile","file":"all.ndjson","line":1}
{"tool":"reconcile","file":"all.ndjson","line":2}
{"tool":"reconcile","file":"all.ndjson","line":3}
J
}

@test "summarize refuses a txlog table named twice, by another path or at another version" {
	txlog_table
	run reconcile summarize -k .id txlog:tbl txlog:./tbl
	assert_failure 2
	assert_output 'reconcile: txlog:./tbl: the same table as txlog:tbl: its records would count twice in the summary; name each table once'
	run reconcile summarize -k .id txlog:tbl@1 all.ndjson txlog:tbl
	assert_failure 2
	assert_output 'reconcile: txlog:tbl: the same table as txlog:tbl@1: its records would count twice in the summary; name each table once'
}

@test "--memory spills to disk and gives the same answer" {
	n=$(quick 3000 600)
	gen -n "$n" --keys "$n" -s 3 > s.ndjson
	awk 'NR % 50 == 0 { next } NR % 70 == 0 { sub(/"qty":[0-9]+/, "\"qty\":99") } { print }' s.ndjson > t.ndjson
	reconcile -k .order_id --sum .amount --by .day s.ndjson t.ndjson > mem.ndjson || true
	run sh -c 'reconcile -k .order_id --sum .amount --by .day --memory 16K --stats s.ndjson t.ndjson 2>stats > spill.ndjson; echo $?'
	assert_output 1
	run grep -c '"spilled":true' stats
	assert_output 1
	run cmp mem.ndjson spill.ndjson
	assert_success
}

@test "--memory: a few keys repeated many times are added up in memory, not spilled" {
	# 30000 records of 7 keys: 1.4 MB of entries unless repeats fold,
	# past a side's 35% of 1M; folded they are 7 entries
	awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{\"k\":%d,\"a\":1}\n", i % 7 }' > s.ndjson
	awk 'NR != 29999' s.ndjson > t.ndjson
	run sh -c 'reconcile -k .k --sum .a --memory 1M --stats --format ndjson s.ndjson t.ndjson 2>stats; echo $?'
	assert_output - <<'E'
{"total":true,"match":false,"source":{"rows":30000,"keys":7,"duplicate_keys":7,"sum":{".a":30000},"fingerprint":"8276bc98b8f4ad9cd22cfd9250f13775"},"target":{"rows":29999,"keys":7,"duplicate_keys":7,"sum":{".a":29999},"fingerprint":"3722700e2c1adc91fa93bcf157a1c4b8"},"missing":0,"extra":0,"changed":1}
{"diff":"changed","key":3,"source_rows":4286,"target_rows":4285}
1
E
	run grep -c '"spilled":false' stats
	assert_output 1
}

@test "summaries of shards merge into the summary of the whole" {
	gen -n 2000 -s 5 > all.ndjson
	split -l 700 all.ndjson part.
	for p in part.*; do reconcile summarize -k .order_id --sum .amount --by .day "$p" > "$p.sum"; done
	reconcile merge part.*.sum > merged.sum
	reconcile summarize -k .order_id --sum .amount --by .day all.ndjson > whole.sum
	run cmp merged.sum whole.sum
	assert_success
}

@test "compare of equal summaries agrees" {
	gen -n 500 -s 5 > a.ndjson
	reconcile summarize -k .order_id --sum .amount a.ndjson > a.sum
	run sh -c 'reconcile compare a.sum a.sum | jq -c "[.match, .source.rows]"'
	assert_output '[true,500]'
}

@test "compare names the buckets to drill into, and --bucket checks one" {
	gen -n 500 --keys 500 -s 5 > a.ndjson
	sed '77d' a.ndjson > b.ndjson
	reconcile summarize -k .order_id --buckets 16 a.ndjson > a.sum
	reconcile summarize -k .order_id --buckets 16 b.ndjson > b.sum
	run sh -c 'reconcile compare a.sum b.sum | jq -c "select(.bucket) | [.buckets, .source.rows - .target.rows]"'
	assert_output '[16,1]'
	key=$(sed -n 77p a.ndjson | jq -c .order_id)
	b=$(reconcile compare a.sum b.sum | jq 'select(.bucket) | .bucket')
	run reconcile -k .order_id --buckets 16 --bucket "$b" --keys-only a.ndjson b.ndjson
	assert_failure 1
	assert_output "{\"diff\":\"missing\",\"key\":$key}"
	other=$(( (b + 1) % 16 ))
	run reconcile -k .order_id --buckets 16 --bucket "$other" --keys-only a.ndjson b.ndjson
	assert_success
	assert_output ''
	# the answer of one bucket says so: its match is not the inputs'
	run sh -c "reconcile -k .order_id --buckets 16 --bucket $other --format ndjson a.ndjson b.ndjson | jq -c '[.total, .bucket, .buckets, .match]'"
	assert_output "[true,$other,16,true]"
	run sh -c "reconcile -k .order_id --buckets 16 --bucket $other --format table a.ndjson b.ndjson | tail -n 1"
	assert_output "only the keys of bucket $other of 16 (--bucket): the others were not compared"
}

@test "property: the answers of --bucket b for every b of n add up to the whole one" {
	gen -n 700 --keys 400 -s 8 > a.ndjson
	awk 'NR % 23 == 0 { next } NR % 31 == 0 { sub(/"amount":[0-9.]+/, "\"amount\":0.5") }
		{ print } NR % 97 == 0 { print }' a.ndjson > b.ndjson
	counts='select(.total) | [.source.rows, .target.rows, .source.keys, .target.keys,
		.source.duplicate_keys, .target.duplicate_keys, .missing, .extra, .changed,
		(.source.sum.".amount" * 100 | round), (.target.sum.".amount" * 100 | round)]'
	add='[inputs] | transpose | map(add)'
	for opts in "" "--by .day" "--columns amount"; do
		reconcile -k .order_id --sum .amount $opts a.ndjson b.ndjson > whole || true
		jq -c "$counts" whole > want
		jq -c 'select(.diff)' whole | sort > want-diffs
		: > parts
		: > got-diffs
		for b in 0 1 2 3; do
			reconcile -k .order_id --sum .amount $opts --buckets 4 --bucket $b \
				a.ndjson b.ndjson > one || true
			jq -c "$counts" one >> parts
			jq -c 'select(.diff)' one >> got-diffs
		done
		run jq -nc "$add" parts
		assert_output "$(cat want)"
		sort got-diffs | cmp - want-diffs
	done
}

@test "merge and compare refuse a summary cut short or with a line changed" {
	printf '{"k":%d,"v":%d,"d":"x%d"}\n' 1 1 1 2 2 2 3 3 1 > a.ndjson
	reconcile summarize -k .k --sum .v --by .d --buckets 4 a.ndjson > a.sum
	run tail -n 1 a.sum
	assert_output --regexp '^\{"xxh3_128":"[0-9a-f]{32}"\}$'
	head -n 4 a.sum > short.sum
	run reconcile compare a.sum short.sum
	assert_failure 2
	assert_output 'reconcile: short.sum: no checksum line: a summary cut short or damaged; refusing it'
	sed '2d' a.sum > nopart.sum
	run reconcile merge nopart.sum
	assert_failure 2
	assert_output 'reconcile: nopart.sum: damaged summary (its lines differ from the checksum its last line holds); refusing it'
	jq -c 'if .bucket == 1 then .fingerprint = "00000000000000000000000000000001" else . end' a.sum > fp.sum
	run reconcile merge fp.sum
	assert_failure 2
	assert_output 'reconcile: fp.sum: damaged summary (its lines differ from the checksum its last line holds); refusing it'
	# a sum edited adds up with everything else: only the checksum sees it
	sed 's/"sum":{".v":4}/"sum":{".v":5}/' a.sum > sum.sum
	run cmp -s a.sum sum.sum
	assert_failure
	run reconcile compare a.sum sum.sum
	assert_failure 2
	assert_output 'reconcile: sum.sum: damaged summary (its lines differ from the checksum its last line holds); refusing it'
	{ cat a.sum; tail -n 1 a.sum; } > twice.sum
	run reconcile merge twice.sum
	assert_failure 2
	assert_output 'reconcile: twice.sum:8: not a summary line'
	run reconcile compare a.sum a.sum --format ndjson
	assert_success
	# a merge is sealed again
	reconcile merge a.sum > m.sum
	run cmp a.sum m.sum
	assert_success
}

@test "an option that takes one value is refused when given twice; -k adds up" {
	printf '{"k":1,"j":1,"v":1}\n' > a.ndjson
	run reconcile -k .k --tolerance 5 --tolerance 0 --sum .v a.ndjson a.ndjson
	assert_failure 2
	assert_line -n 0 "reconcile: --tolerance given twice ('5', then '0'); give it once"
	run reconcile -k .k -k .j --format ndjson --keys-only a.ndjson a.ndjson
	assert_success
	assert_output ''
}

@test "a --sum given twice is refused: every sum object would hold its name twice" {
	printf '{"k":1,"v":1}\n' > a.ndjson
	refused "reconcile: --sum: '.v' given twice" \
		reconcile -k .k --sum .v --sum .v a.ndjson a.ndjson
	refused "reconcile: --sum: '.v' given twice" \
		reconcile summarize -k .k --sum .v --sum .v a.ndjson
	run reconcile -k .k --sum .v --sum '(.v)' a.ndjson a.ndjson
	assert_success
}

@test "--bucket B reports the bad records of its keys, and those without a key, not another bucket's" {
	printf '{"id":%d,"v":1}\n' 1 2 3 4 5 6 7 8 > a.ndjson
	printf '{"id":%d,"v":1}\n' 1 2 3 4 5 6 7 8 > b.ndjson
	# key 9 is bucket 1's of 2
	printf '{"id":9,"v":"x"}\n' >> b.ndjson
	run reconcile -k .id --sum .v --buckets 2 --bucket 0 a.ndjson b.ndjson
	assert_success
	assert_output --partial '"bucket":0,"buckets":2,"match":true'
	run reconcile -k .id --sum .v --buckets 2 --bucket 1 a.ndjson b.ndjson
	assert_failure 2
	assert_output 'reconcile: b.ndjson:9: --sum .v: string is not a number'
	printf 'garbage\n' >> b.ndjson
	run reconcile -k .id --sum .v --buckets 2 --bucket 0 --dlq d0 a.ndjson b.ndjson
	assert_failure 1
	run jq -c '[.error_type, .source.line]' d0
	assert_output '["invalid_json",10]'
	# a keyless record is every bucket's: one shared --dlq gets it from
	# each run, and the key's bad record from its bucket's only
	reconcile -k .id --sum .v --buckets 2 --bucket 0 --dlq d a.ndjson b.ndjson || true
	reconcile -k .id --sum .v --buckets 2 --bucket 1 --dlq d a.ndjson b.ndjson || true
	run jq -c '[.error_type, .source.line]' d
	assert_output - <<'J'
["invalid_json",10]
["wrong_type",9]
["invalid_json",10]
J
}

@test "a --bucket or --show past 2^63 is not read as no --bucket or no --show" {
	printf '%s\n' '{"id":1}' '{"id":2}' > s.ndjson
	printf '%s\n' '{"id":1}' > t.ndjson
	refused "reconcile: --bucket: 9223372036854775808 is not below --buckets 256" \
		reconcile -k .id --bucket 9223372036854775808 s.ndjson t.ndjson
	refused "reconcile: --bucket: 18446744073709551615 is not below --buckets 256" \
		reconcile -k .id --bucket 18446744073709551615 s.ndjson t.ndjson
	run reconcile -k .id --show 18446744073709551615 s.ndjson t.ndjson
	assert_failure 1
	assert_line '{"diff":"missing","key":2,"source":{"id":2}}'
}

@test "--tolerance holds sums whose difference has more digits than a decimal holds" {
	# 1e30 - 1e-10 is 999999999999999999999999999999.9999999999 (40
	# digits): within 1e30, not within 999999999999999999999999999999.9
	printf '{"id":1,"v":1e30}\n' > a.ndjson
	printf '{"id":1,"v":1e-10}\n' > b.ndjson
	run sh -c 'reconcile -k .id --sum .v --columns id --tolerance 1e30 a.ndjson b.ndjson | jq -c .match'
	assert_success
	assert_output true
	run sh -c 'reconcile -k .id --sum .v --columns id --tolerance 999999999999999999999999999999.9 a.ndjson b.ndjson | jq -c .match'
	assert_output false
	# of opposite signs the difference is 1e30 + 1e-10
	printf '{"id":1,"v":-1e-10}\n' > c.ndjson
	run reconcile -k .id --sum .v --columns id --tolerance 1e30 a.ndjson c.ndjson
	assert_failure 1
	run reconcile -k .id --sum .v --columns id --tolerance 1000000000000000000000000000000.0000001 a.ndjson c.ndjson
	assert_success
	# and summaries compare the same way
	reconcile summarize -k .id --sum .v --columns id a.ndjson > a.sum
	reconcile summarize -k .id --sum .v --columns id b.ndjson > b.sum
	run reconcile compare --tolerance 1e30 a.sum b.sum
	assert_success
}

@test "a summary of some shards says which, and compare refuses it until every shard is merged" {
	printf '{"k":%d}\n' 1 2 3 4 5 6 7 8 > a.ndjson
	reconcile summarize -k .k --shard 0/2 a.ndjson > s0.sum
	reconcile summarize -k .k --shard 1/2 a.ndjson > s1.sum
	run sed -n 2p s0.sum
	assert_output '{"shards":2,"have":[0]}'
	# shard 1 lost on both sides: not "the layers agree"
	run reconcile compare s0.sum s0.sum
	assert_failure 2
	assert_output "reconcile: s0.sum: holds 1 of 2 shards (--shard or --partition): merge the summaries of every shard first (reconcile merge), or the missing ones' keys go uncompared"
	reconcile summarize -k .k --shard 0/3 a.ndjson > t0.sum
	run reconcile merge s0.sum t0.sum
	assert_failure 2
	assert_output 'reconcile: t0.sum: a summary of shards of 3, not of 2 as the others; they do not add up'
	# every shard merged is the summary of the whole, byte for byte
	reconcile merge s1.sum s0.sum > all.sum
	reconcile summarize -k .k a.ndjson > whole.sum
	cmp all.sum whole.sum
	# shard 0 of 1 is every shard: the whole too, with no shards line
	reconcile summarize -k .k --shard 0/1 a.ndjson > one.sum
	cmp one.sum whole.sum
	reconcile summarize -k .k --partition 0/1 a.ndjson > one.sum
	cmp one.sum whole.sum
	run reconcile compare all.sum whole.sum
	assert_success
	# nor does a summary of one --bucket pass for the whole layer
	run reconcile summarize -k .k --bucket 3 a.ndjson
	assert_failure 2
	assert_line -n 0 'reconcile: summarize: --bucket does not apply to summarize'
}

@test "a partition spelled two ways is labelled alike by every shard, so shards merge into the whole byte for byte, in any order" {
	# key 1's record comes first and spells the partition otherwise
	{ printf '{"k":1,"t":"2024-01-01T10:00:00+02:00"}\n'
	  printf '{"k":%d,"t":"2024-01-01T08:00:00Z"}\n' 2 3 4 5 6 7 8; } > a.ndjson
	reconcile summarize -k .k --by .t a.ndjson > whole.sum
	for i in 0 1 2; do
		reconcile summarize -k .k --by .t --shard $i/3 a.ndjson > s$i.sum
	done
	run sed -n 2p whole.sum
	assert_output '{"partition":"2024-01-01T08:00:00Z","rows":8,"sum":{},"fingerprint":"5cb8795847f75e319310f1c9f4a9ef06"}'
	reconcile merge s0.sum s1.sum s2.sum | cmp - whole.sum
	reconcile merge s2.sum s1.sum s0.sum | cmp - whole.sum
	reconcile merge s1.sum s2.sum s0.sum | cmp - whole.sum
}

@test "merge and compare refuse a summary that is also their standard output" {
	printf '{"id":1}\n' > a.ndjson
	reconcile summarize -k .id a.ndjson > a.sum
	cp a.sum keep.sum
	run sh -c 'reconcile merge a.sum >> a.sum'
	assert_failure 2
	assert_output 'reconcile: standard output is also an input: a file written while it is read loses or repeats records; name another'
	cmp a.sum keep.sum
	run sh -c 'reconcile compare keep.sum a.sum >> a.sum'
	assert_failure 2
	assert_output 'reconcile: standard output is also an input: a file written while it is read loses or repeats records; name another'
	cmp a.sum keep.sum
}

@test "compare refuses summaries made with other options" {
	printf '{"id":1,"x":1}\n' > a.ndjson
	reconcile summarize -k .id a.ndjson > a.sum
	reconcile summarize -k .id --sum .x a.ndjson > b.sum
	run reconcile compare a.sum b.sum
	assert_failure 2
	assert_output 'reconcile: b.sum: summarized with other options (-k, --sum, --by, --buckets, --columns, --ignore) than a.sum'
}

@test "summaries whose programs read local time say their zone; two zones are refused together, not reported as data" {
	# 02:00Z on 2024-03-10 is the 9th in New York, the 10th in Tokyo
	printf '{"id":1,"t":1710036000}\n' > a.ndjson
	p='.t | strflocaltime("%F")'
	TZ=America/New_York reconcile summarize -k .id --by "$p" a.ndjson > ny.sum
	TZ=Asia/Tokyo reconcile summarize -k .id --by "$p" a.ndjson > tk.sum
	run head -1 ny.sum
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":".t | strflocaltime(\"%F\")","buckets":256,"tz":"America/New_York"}'
	run reconcile compare ny.sum tk.sum
	assert_failure 2
	assert_output 'reconcile: tk.sum: its programs read local time under TZ=Asia/Tokyo, ny.sum'"'"'s under TZ=America/New_York: one record has other local days and hours in each; summarize both under one TZ'
	run reconcile merge ny.sum tk.sum
	assert_failure 2
	# a merge keeps the zone; one zone compares as ever
	TZ=Asia/Tokyo reconcile merge ny.sum > m.sum
	run head -1 m.sum
	assert_output --partial ',"tz":"America/New_York"}'
	run reconcile compare ny.sum m.sum
	assert_success
	# programs without local time name no zone
	TZ=Asia/Tokyo reconcile summarize -k .id --by '.t | todate' a.ndjson > u.sum
	run head -1 u.sum
	assert_output '{"reconcile_summary":2,"key":[".id"],"sum":[],"by":".t | todate","buckets":256}'
}

@test "property: totals and key lists match a jq/sort/join computation" {
	for seed in $(quick "11 12 13" 11); do
		gen -n 1500 -s "$seed" > s.ndjson
		# drop, change and add records at seed-dependent places
		awk -v s="$seed" 'NR % (s + 20) == 0 { next }
			NR % (s + 30) == 0 { sub(/"amount":[0-9.]+/, "\"amount\":1.5") }
			{ print } NR % 400 == 0 { sub(/o-/, "x-"); print }' s.ndjson > t.ndjson
		reconcile -k .order_id --sum .amount s.ndjson t.ndjson > got.ndjson || true
		jq -r .order_id s.ndjson | sort > sk
		jq -r .order_id t.ndjson | sort > tk
		want_missing=$(comm -23 <(sort -u sk) <(sort -u tk) | wc -l)
		want_extra=$(comm -13 <(sort -u sk) <(sort -u tk) | wc -l)
		# changed: keys in both whose sorted canonical records differ
		jq -cS '[.order_id, .]' s.ndjson | sort > sr
		jq -cS '[.order_id, .]' t.ndjson | sort > tr
		want_changed=$(comm -3 sr tr | jq -r '.[0]' | sort -u |
			comm -12 - <(comm -12 <(sort -u sk) <(sort -u tk)) | wc -l)
		want_sum=$(jq -n '[inputs.amount * 100 | round] | add' t.ndjson)
		run jq -c 'select(.total) | [.missing, .extra, .changed, .source.rows, .target.rows, (.target.sum.".amount" * 100 | round)]' got.ndjson
		assert_output "[$want_missing,$want_extra,$want_changed,$(wc -l < s.ndjson),$(wc -l < t.ndjson),$want_sum]"
		run sh -c "jq -r 'select(.diff == \"missing\") | .key' got.ndjson"
		assert_output "$(comm -23 <(sort -u sk) <(sort -u tk))"
	done
}

@test "property: summaries of both sides compared give the direct run's figures and verdict, whatever the options" {
	# the figures a summary holds: rows, sums and fingerprints, per
	# partition and in total (not keys, which summaries do not count)
	figures='select((.diff // .bucket) == null) | [.partition, .total, (.source, .target | [.rows, .sum, .fingerprint])]'
	for seed in $(quick "21 22 23" 21); do
		gen -n 600 -s "$seed" > s.ndjson
		awk -v s="$seed" 'NR % (s + 20) == 0 { next }
			NR % (s + 30) == 0 { sub(/"amount":[0-9.]+/, "\"amount\":1.5") }
			{ print } NR % 300 == 0 { print }' s.ndjson > t.ndjson
		# two orders that swapped amounts: only the key tells them apart
		# under --columns amount
		jq -c -s '.[4].amount as $a | .[4].amount = .[5].amount |
			.[5].amount = $a | .[]' s.ndjson > u.ndjson
		for opts in "" "--by .day" "--columns amount,currency" \
			"--ignore ingest_time --by .currency"; do
			for b in 1 256; do
				reconcile summarize -k .order_id --sum .amount $opts \
					--buckets "$b" s.ndjson > s.sum
				for t in s t u; do
					reconcile summarize -k .order_id --sum .amount \
						$opts --buckets "$b" $t.ndjson > $t.sum
					run reconcile -k .order_id --sum .amount $opts \
						s.ndjson $t.ndjson
					direct=$status
					jq -c "$figures" <<< "$output" > want
					run reconcile compare s.sum $t.sum
					[ "$status" = "$direct" ] ||
						fail "compare exit $status, direct $direct: $opts --buckets $b s $t"
					jq -c "$figures" <<< "$output" > got
					cmp want got
				done
			done
		done
	done
}

@test "--help and --version" {
	run reconcile --help
	assert_success
	assert_line --index 0 'Usage: reconcile -k EXPR [OPTION]... SOURCE TARGET'
	# a gzip input is read as a zstd one is (reconcile(1) says so)
	assert_line --index 5 'file (plain, zstd or gzip), - for stdin, or a table as'
	printf '{"id":1}\n' | gzip > s.ndjson.gz
	printf '{"id":1}\n' > t.ndjson
	run reconcile -k .id --keys-only s.ndjson.gz t.ndjson
	assert_success
	assert_output ''
	run reconcile --version
	assert_success
}

@test "a --dlq that is an input is refused: it read its own dead letters back and dead-lettered them again, without end" {
	{ echo 'not json'; printf '{"id":%d}\n' 1 2 3; } > s.ndjson
	cp s.ndjson before.ndjson
	printf '{"id":1}\n' > t.ndjson
	run reconcile -k .id --dlq s.ndjson s.ndjson t.ndjson
	assert_failure 2
	assert_output 'reconcile: --dlq s.ndjson is also an input: a file written while it is read loses or repeats records; name another'
	run reconcile summarize -k .id --dlq ./s.ndjson t.ndjson s.ndjson
	assert_failure 2
	assert_output 'reconcile: --dlq ./s.ndjson is also an input: a file written while it is read loses or repeats records; name another'
	run sh -c 'reconcile -k .id --dlq s.ndjson - t.ndjson < s.ndjson'
	assert_failure 2
	assert_output 'reconcile: --dlq s.ndjson is also an input (standard input): a file written while it is read loses or repeats records; name another'
	cmp s.ndjson before.ndjson
}

@test "merge refuses a summary given twice, or a copy of it: its records would count twice" {
	printf '{"k":%d,"v":1}\n' 1 2 3 > a.ndjson
	printf '{"k":%d,"v":1}\n' 4 5 > b.ndjson
	reconcile summarize -k .k --sum .v a.ndjson > a.sum
	reconcile summarize -k .k --sum .v b.ndjson > b.sum
	cp a.sum copy.sum
	run reconcile merge a.sum b.sum a.sum
	assert_failure 2
	assert_output "reconcile: a.sum: the same summary as a.sum (its lines are the same): merged twice, its 3 records would count twice; if two pieces really hold the same records, summarize them in one run (reconcile summarize A B)"
	run reconcile merge a.sum copy.sum
	assert_failure 2
	assert_output "reconcile: copy.sum: the same summary as a.sum (its lines are the same): merged twice, its 3 records would count twice; if two pieces really hold the same records, summarize them in one run (reconcile summarize A B)"
	# pieces that differ merge; empty ones add nothing and merge too
	: > e.ndjson
	reconcile summarize -k .k --sum .v e.ndjson > e1.sum
	cp e1.sum e2.sum
	run sh -c 'reconcile merge a.sum b.sum e1.sum e2.sum | sed -n 2p'
	assert_success
	assert_output '{"rows":5,"sum":{".v":5},"fingerprint":"'"$(reconcile summarize -k .k --sum .v a.ndjson b.ndjson | sed -n 2p | jq -r .fingerprint)"'"}'
}

@test "merge refuses a shard given twice, and says when the shards merged are not all" {
	printf '{"k":%d}\n' 1 2 3 4 5 6 7 8 > a.ndjson
	printf '{"k":%d}\n' 11 12 13 14 15 16 > b.ndjson
	for i in 0 1 2; do
		reconcile summarize -k .k --shard $i/3 a.ndjson > a$i.sum
		reconcile summarize -k .k --shard $i/3 b.ndjson > b$i.sum
	done
	# shard 0 of a and shard 0 of b: the union says 0 once, b's 1 and 2 lost
	run reconcile merge a0.sum a1.sum a2.sum b0.sum
	assert_failure 2
	assert_output "reconcile: b0.sum: shard 0 of 3 again (a0.sum has it): shards of two inputs cannot say which one lacks a shard; merge each input's shards first (each into a summary of every key), then merge those"
	# a merged summary that has it already
	reconcile merge a0.sum a1.sum > a01.sum 2>/dev/null
	run reconcile merge a01.sum a1.sum
	assert_failure 2
	assert_output "reconcile: a1.sum: shard 1 of 3 again (a01.sum has it): shards of two inputs cannot say which one lacks a shard; merge each input's shards first (each into a summary of every key), then merge those"
	# a summary of every key beside shards: the shards' keys are in it, or
	# it is another input's and theirs may lack a shard
	reconcile summarize -k .k b.ndjson > b.sum
	run reconcile merge b.sum a0.sum a1.sum a2.sum
	assert_failure 2
	assert_output "reconcile: a0.sum: a summary of shards (0 of 3) beside b.sum, a summary of every key: merge the shards of one input first (into a summary of every key), then merge that with the others"
	run reconcile merge a0.sum b.sum
	assert_failure 2
	assert_output "reconcile: b.sum: a summary of every key beside a0.sum, a summary of shards (0 of 3): merge the shards of one input first (into a summary of every key), then merge that with the others"
	# the way that works: each input's shards, then the inputs
	reconcile merge a0.sum a1.sum a2.sum > a.sum
	reconcile merge b2.sum b0.sum b1.sum > bb.sum
	cmp bb.sum b.sum
	run sh -c 'reconcile merge a.sum b.sum | sed -n 2p | jq -c .rows'
	assert_output 14
	# shard 0 of 1 is every key
	reconcile summarize -k .k --shard 0/1 a.ndjson > one.sum
	run sh -c 'reconcile merge one.sum b.sum | sed -n 2p | jq -c .rows'
	assert_output 14
	# an incomplete merge is said, and compare refuses it
	run reconcile merge a0.sum a2.sum
	assert_success
	assert_line -n 0 "reconcile: the merged summary holds 2 of 3 shards (not 1): compare refuses it until they are merged in"
	assert_line -n 1 '{"reconcile_summary":2,"key":[".k"],"sum":[],"by":null,"buckets":256}'
	assert_line -n 2 '{"shards":3,"have":[0,2]}'
}

@test "--tolerance without a --sum to apply to is refused, in reconcile and compare" {
	printf '{"id":1,"v":1}\n' > a.ndjson
	run reconcile -k .id --tolerance 1 a.ndjson a.ndjson
	assert_failure 2
	assert_line -n 0 'reconcile: --tolerance applies to the sums of --sum, and none is given: records and keys are compared exactly'
	reconcile summarize -k .id a.ndjson > a.sum
	run reconcile compare --tolerance 1 a.sum a.sum
	assert_failure 2
	assert_output 'reconcile: --tolerance applies to the sums of --sum, and a.sum has none: records and keys are compared exactly'
	reconcile summarize -k .id --sum .v a.ndjson > v.sum
	run reconcile compare --tolerance 1 --format ndjson v.sum v.sum
	assert_success
}

@test "--buckets in a comparison without --bucket is refused: it chooses nothing there" {
	printf '{"id":1}\n' > a.ndjson
	run reconcile -k .id --buckets 16 a.ndjson a.ndjson
	assert_failure 2
	assert_line -n 0 'reconcile: --buckets goes with --bucket B (which bucket of how many to read) or with summarize; alone it changes nothing'
	run reconcile -k .id --buckets 16 --bucket 3 --format ndjson a.ndjson a.ndjson
	assert_success
}

@test "summarize refuses a file named twice, or by a second name: its records would count twice" {
	printf '{"k":1}\n' > a.ndjson
	ln a.ndjson b.ndjson
	run reconcile summarize -k .k a.ndjson a.ndjson
	assert_failure 2
	assert_output 'reconcile: a.ndjson: named twice: its records would count twice in the summary; name each once'
	run reconcile summarize -k .k a.ndjson ./b.ndjson
	assert_failure 2
	assert_output 'reconcile: ./b.ndjson: the same file as a.ndjson (a hard link or a second name): its records would count twice in the summary; name each once'
}

@test "summarize refuses - beside the file standard input is: its records would count twice" {
	printf '{"k":1}\n' > a.ndjson
	run sh -c 'reconcile summarize -k .k - /dev/stdin < a.ndjson'
	assert_failure 2
	assert_output 'reconcile: /dev/stdin: the same file as - (a hard link or a second name): its records would count twice in the summary; name each once'
	run sh -c 'reconcile summarize -k .k a.ndjson - < a.ndjson'
	assert_failure 2
	assert_output 'reconcile: -: the same file as a.ndjson (a hard link or a second name): its records would count twice in the summary; name each once'
	# stdin read to its end gives nothing the second time
	run sh -c 'reconcile summarize -k .k - - < a.ndjson | sed -n 2p'
	assert_output '{"rows":1,"sum":{},"fingerprint":"'"$(reconcile summarize -k .k a.ndjson | sed -n 2p | jq -r .fingerprint)"'"}'
}

@test "merge and compare of format 1 summaries say that their shards cannot be checked" {
	old="$BATS_TEST_DIRNAME/time-keys/summary.ndjson"
	run sh -c "reconcile compare --format ndjson '$old' '$old' 2>&1 >/dev/null"
	assert_line -n 1 'reconcile: summaries of format 1 made before they named their shards read as summaries of every key: for those, a shard given twice or lacking cannot be checked'
	run sh -c "reconcile merge '$old' 2>&1 >/dev/null"
	assert_line -n 1 'reconcile: summaries of format 1 made before they named their shards read as summaries of every key: for those, a shard given twice or lacking cannot be checked'
}

@test "a run that dies on a later input letters nothing, so its re-run letters each bad record once" {
	printf '{"k":1}\nnot json\n{"k":2}\n' > a.ndjson
	run reconcile -k .k --dlq bad.ndjson a.ndjson missing.ndjson
	assert_failure 2
	assert_output 'reconcile: missing.ndjson: No such file or directory'
	run cat bad.ndjson
	assert_output ''
	run reconcile summarize -k .k --dlq bad.ndjson a.ndjson missing.ndjson
	assert_failure 2
	run cat bad.ndjson
	assert_output ''
	run reconcile -k .k --dlq bad.ndjson --format ndjson a.ndjson a.ndjson
	assert_failure 1
	run jq -c '[.original_record, .source.line]' bad.ndjson
	assert_output - <<'J'
["not json",2]
["not json",2]
J
}

@test "a report or summary that cannot be written letters nothing, so its re-run letters each bad record once" {
	printf '{"k":1}\nnot json\n' > a.ndjson
	run sh -c 'reconcile -k .k --dlq bad.ndjson a.ndjson a.ndjson > /dev/full'
	assert_failure 2
	assert_output 'reconcile: stdout: No space left on device'
	run cat bad.ndjson
	assert_output ''
	run sh -c 'reconcile summarize -k .k --dlq bad.ndjson a.ndjson > /dev/full'
	assert_failure 2
	run cat bad.ndjson
	assert_output ''
	reconcile summarize -k .k --dlq bad.ndjson a.ndjson > a.sum
	run jq -c '[.original_record, .source.line]' bad.ndjson
	assert_output '["not json",2]'
}

@test "a summary counts its dead-lettered records, and compare does not call a layer with any in agreement" {
	printf '{"k":1}\nbad\n' > s.ndjson
	printf '{"k":1}\n' > t.ndjson
	reconcile summarize -k .k --dlq bad.ndjson s.ndjson > s.sum
	reconcile summarize -k .k t.ndjson > t.sum
	run sed -n 2p s.sum
	assert_output '{"rejected":1}'
	run reconcile compare --format ndjson s.sum t.sum
	assert_failure 1
	assert_output '{"total":true,"match":false,"source":{"rows":1,"fingerprint":"a3e95dd3d178dafbf1ee5dcc5870241a","rejected":1},"target":{"rows":1,"fingerprint":"a3e95dd3d178dafbf1ee5dcc5870241a","rejected":0}}'
	# as reconcile itself says
	run reconcile -k .k --dlq bad2.ndjson --format ndjson s.ndjson t.ndjson
	assert_failure 1
	# merged, they add up; a summary without any has no such line
	run sh -c 'reconcile merge s.sum t.sum | sed -n 2p'
	assert_output '{"rejected":1}'
	run grep -c rejected t.sum
	assert_output 0
	# the shards of one input count each bad record once, as the whole
	for i in 0 1; do reconcile summarize -k .k --shard $i/2 --dlq b$i.ndjson s.ndjson > sh$i.sum; done
	reconcile merge sh0.sum sh1.sum > sh.sum
	run cmp sh.sum s.sum
	assert_success
}
