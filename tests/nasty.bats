#!/usr/bin/env bats
# Bad input: every tool meets a corpus of nasty records and answers each
# with a clear error naming file:line, or a dead letter, never a crash, a
# hang or a silent loss.  Each case is a file: a good record, the nasty
# one, a good record.  For every tool the test prints one line,
#   TOOL: exit=N out=RECORDS [dlq=LETTERS TYPE@LINE] | first stderr line
# where out counts what the tool passed on (records, or for window the sum
# of the counts, for reconcile the source rows, for txlog the table's
# rows), and the block is compared exactly.  Without --dlq a tool stops at
# the bad line; with --dlq, out + dlq must equal the records in.

load helpers

# Sent through every tool: $1 names the file, $2 is the nasty line.
corpus() {
	printf '{"k":1,"t":1000,"v":1}\n'
	printf '%s' "$2"
	printf '{"k":3,"t":3000,"v":3}\n'
}

# run_all FILE [--dlq]: one line per tool.  TOOLS=LIST runs only
# those; MAX_LINE=SIZE gives --max-line SIZE to the tools that take it.
run_all() {
	local f=$1 dlq=${2:-} t rc out err extra
	for t in ${TOOLS:-dedup watermark window dlq reconcile txlog checkpoint}; do
		[ -n "$dlq" ] && case $t in txlog | checkpoint) continue ;; esac
		rm -rf q.ndjson tb ck ck.lock out
		local opt=()
		[ -n "$dlq" ] && opt=(--dlq q.ndjson)
		[ -z "${MAX_LINE:-}" ] || case $t in
			checkpoint) ;;
			*) opt+=(--max-line "$MAX_LINE") ;;
			esac
		case $t in
		dedup) timeout 60 dedup -k .k "${opt[@]}" "$f" > out 2> err ;;
		watermark) timeout 60 watermark -t .t "${opt[@]}" "$f" > out 2> err ;;
		window) timeout 60 window --tumble 1h -t .t --agg 'n=count()' \
			"${opt[@]}" "$f" > out 2> err ;;
		dlq) timeout 60 dlq check -e '.k != null' "${opt[@]}" "$f" \
			> out 2> err ;;
		reconcile) timeout 60 reconcile -k .k --format ndjson \
			"${opt[@]}" "$f" /dev/null > out 2> err ;;
		txlog) txlog init tb --infer > /dev/null &&
			timeout 60 txlog append tb "${opt[@]}" "$f" > out 2> err ;;
		checkpoint) # counted on the fly: a 100 MiB copy is slow to write
			timeout 60 checkpoint read -s ck "$PWD/$f" 2> err |
				wc -l > out
			(exit "${PIPESTATUS[0]}") ;;
		esac
		rc=$?
		case $t in
		checkpoint) out=$(< out) ;;
		window) out=$(jq -s 'map(.n) | add // 0' out) ;;
		reconcile) out=$(jq -s 'map(select(.total)) | .[0].source.rows' out) ;;
		txlog) out=$(txlog cat tb | wc -l) ;;
		*) out=$(wc -l < out) ;;
		esac
		extra=
		if [ -n "$dlq" ]; then
			extra=" dlq=$(wc -l < q.ndjson 2>/dev/null || echo 0)"
			[ -s q.ndjson ] && extra="$extra $(jq -r \
				'"\(.error_type)@\(.source.line)"' q.ndjson |
				sort -u | tr '\n' ' ' | sed 's/ $//')"
		fi
		echo "$t: exit=$rc out=$out$extra | $(head -1 err | sed "s|$PWD/||" | cut -c1-100)"
	done
}

@test "invalid UTF-8 is refused at its line, or dead-lettered" {
	corpus x $'{"k":2,"t":2000,"v":"\xff"}\n' > utf8.ndjson
	run run_all utf8.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22
watermark: exit=2 out=1 | watermark: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22
window: exit=2 out=0 | window: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22
dlq: exit=2 out=1 | dlq: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22
reconcile: exit=2 out=null | reconcile: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22
txlog: exit=2 out=0 | txlog: utf8.ndjson:2: invalid JSON: invalid UTF-8 at byte 22; nothing committed
checkpoint: exit=0 out=3 | 
E
	run run_all utf8.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 invalid_json@2 | 
watermark: exit=0 out=2 dlq=1 invalid_json@2 | 
window: exit=0 out=2 dlq=1 invalid_json@2 | 
dlq: exit=0 out=2 dlq=1 invalid_json@2 | 
reconcile: exit=1 out=2 dlq=1 invalid_json@2 | 
E
}

@test "lone surrogates, escaped or raw, are refused" {
	corpus x '{"k":2,"t":2000,"v":"\ud800"}'$'\n' > esc.ndjson
	corpus x $'{"k":2,"t":2000,"v":"\xed\xa0\x80"}\n' > raw.ndjson
	run run_all esc.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22
watermark: exit=2 out=1 | watermark: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22
window: exit=2 out=0 | window: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22
dlq: exit=2 out=1 | dlq: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22
reconcile: exit=2 out=null | reconcile: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22
txlog: exit=2 out=0 | txlog: esc.ndjson:2: invalid JSON: lone UTF-16 surrogate at byte 22; nothing committed
checkpoint: exit=0 out=3 | 
E
	run run_all raw.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 invalid_json@2 | 
watermark: exit=0 out=2 dlq=1 invalid_json@2 | 
window: exit=0 out=2 dlq=1 invalid_json@2 | 
dlq: exit=0 out=2 dlq=1 invalid_json@2 | 
reconcile: exit=1 out=2 dlq=1 invalid_json@2 | 
E
}

@test "1e400 and -0 are numbers: passed on, counted, kept exactly" {
	corpus x '{"k":2,"t":2000,"v":1e400}'$'\n' > big.ndjson
	run run_all big.ndjson
	assert_output - <<'E'
dedup: exit=0 out=3 | 
watermark: exit=0 out=3 | 
window: exit=0 out=3 | 
dlq: exit=0 out=3 | 
reconcile: exit=1 out=3 | 
txlog: exit=2 out=0 | txlog: big.ndjson:2: column .v: 1e400 does not fit double: out of range; nothing committed
checkpoint: exit=0 out=3 | 
E
	# the bytes pass through unchanged; no Delta type holds 1e400, so
	# the integer column it would widen to double refuses it, as a
	# column it starts does
	run dedup -k .v big.ndjson
	assert_line --index 1 '{"k":2,"t":2000,"v":1e400}'
	corpus x '{"k":2,"t":2000,"v":-0}'$'\n' > negz.ndjson
	run dedup -k .v negz.ndjson
	assert_line --index 1 '{"k":2,"t":2000,"v":-0}'
}

@test "1e400 where a time or an exact sum is wanted is refused at its line" {
	corpus x '{"k":2,"t":1e400,"v":1e400}'$'\n' > big.ndjson
	run watermark -t .t big.ndjson
	assert_failure 2
	assert_output - <<'E'
{"k":1,"t":1000,"v":1}
watermark: big.ndjson:2: event time .t: out of range
E
	run window --tumble 1h -t .t --agg 'n=count()' --dlq q.ndjson big.ndjson
	assert_success
	run jq -r .error_message q.ndjson
	assert_output 'event time .t: out of range'
	corpus x '{"k":2,"t":2000,"v":1e400}'$'\n' > sum.ndjson
	run window --tumble 1h -t .t --agg 's=sum(.v)' sum.ndjson
	assert_failure 2
	assert_output 'window: sum.ndjson:2: --agg s=sum(.v): exact sum overflows 38 digits'
	run reconcile -k .k --sum .v sum.ndjson sum.ndjson
	assert_failure 2
	assert_output 'reconcile: sum.ndjson:2: --sum .v overflows 38 digits'
}

@test "100000-deep nesting is refused, not a stack overflow" {
	{
		printf '{"k":1,"t":1000,"v":1}\n{"k":2,"t":2000,"v":'
		printf '%100000s' | tr ' ' '['
		printf '%100000s' | tr ' ' ']'
		printf '}\n{"k":3,"t":3000,"v":3}\n'
	} > deep.ndjson
	run run_all deep.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044
watermark: exit=2 out=1 | watermark: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044
window: exit=2 out=0 | window: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044
dlq: exit=2 out=1 | dlq: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044
reconcile: exit=2 out=null | reconcile: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044
txlog: exit=2 out=0 | txlog: deep.ndjson:2: invalid JSON: nesting too deep at byte 1044; nothing committed
checkpoint: exit=0 out=3 | 
E
	run run_all deep.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 invalid_json@2 | 
watermark: exit=0 out=2 dlq=1 invalid_json@2 | 
window: exit=0 out=2 dlq=1 invalid_json@2 | 
dlq: exit=0 out=2 dlq=1 invalid_json@2 | 
reconcile: exit=1 out=2 dlq=1 invalid_json@2 | 
E
}

@test "a 3 MiB line is refused past --max-line 1M, or dead-lettered; checkpoint takes it, and txlog without --max-line" {
	# a line three times the limit, read through many buffers: what the
	# 64 MiB default does, at a size the sanitized pass affords (v is a
	# string throughout, so that txlog's table takes the big one)
	{
		printf '{"k":1,"t":1000,"v":"1"}\n{"k":2,"t":2000,"v":"'
		head -c $((3 << 20)) /dev/zero | tr '\0' a
		printf '"}\n{"k":3,"t":3000,"v":"3"}\n'
	} > big.ndjson
	MAX_LINE=1M run run_all big.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576
watermark: exit=2 out=1 | watermark: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576
window: exit=2 out=0 | window: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576
dlq: exit=2 out=1 | dlq: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576
reconcile: exit=2 out=null | reconcile: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576
txlog: exit=2 out=0 | txlog: big.ndjson:2: line of 3145751 bytes is longer than --max-line 1048576; nothing committed
checkpoint: exit=0 out=3 | 
E
	# the table holds the 3 MiB value whole under the 64M default
	txlog init tb --infer > /dev/null
	txlog append tb big.ndjson
	run sh -c 'txlog cat tb | jq -r "select(.k == 2) | .v | length"'
	assert_output $((3 << 20))
	MAX_LINE=1M run run_all big.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 line_too_long@2 | 
watermark: exit=0 out=2 dlq=1 line_too_long@2 | 
window: exit=0 out=2 dlq=1 line_too_long@2 | 
dlq: exit=0 out=2 dlq=1 line_too_long@2 | 
reconcile: exit=1 out=2 dlq=1 line_too_long@2 | 
E
}

@test "a line past the 64 MiB default is refused (dedup, txlog); checkpoint passes it whole" {
	# 64 MiB a run: make test's sanitized pass leaves it to make test
	# SANITIZE=1 (the 3 MiB line above takes the same paths under ASan)
	[ -z "${IDEM_QUICK:-}" ] || skip "make test SANITIZE=1 runs it"
	{
		printf '{"k":1,"t":1000,"v":1}\n{"k":2,"t":2000,"v":"'
		head -c $(((64 << 20) + 1)) /dev/zero | tr '\0' a
		printf '"}\n{"k":3,"t":3000,"v":3}\n'
	} > huge.ndjson
	TOOLS="dedup txlog checkpoint" run run_all huge.ndjson
	rm -f huge.ndjson out
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: huge.ndjson:2: line of 67108888 bytes is longer than --max-line 67108864
txlog: exit=2 out=0 | txlog: huge.ndjson:2: line of 67108888 bytes is longer than --max-line 67108864; nothing committed
checkpoint: exit=0 out=3 | 
E
}

@test "NUL bytes in a record are refused at their line" {
	# bash strings cannot hold NUL: printf writes it
	{
		printf '{"k":1,"t":1000,"v":1}\n'
		printf '{"k":2,"t":2000,"v":"a\0b"}\n'
		printf '{"k":3,"t":3000,"v":3}\n'
	} > nul.ndjson
	run run_all nul.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: nul.ndjson:2: invalid JSON: control character in string at byte 23
watermark: exit=2 out=1 | watermark: nul.ndjson:2: invalid JSON: control character in string at byte 23
window: exit=2 out=0 | window: nul.ndjson:2: invalid JSON: control character in string at byte 23
dlq: exit=2 out=1 | dlq: nul.ndjson:2: invalid JSON: control character in string at byte 23
reconcile: exit=2 out=null | reconcile: nul.ndjson:2: invalid JSON: control character in string at byte 23
txlog: exit=2 out=0 | txlog: nul.ndjson:2: invalid JSON: control character in string at byte 23; nothing committed
checkpoint: exit=0 out=3 | 
E
	run run_all nul.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 invalid_json@2 | 
watermark: exit=0 out=2 dlq=1 invalid_json@2 | 
window: exit=0 out=2 dlq=1 invalid_json@2 | 
dlq: exit=0 out=2 dlq=1 invalid_json@2 | 
reconcile: exit=1 out=2 dlq=1 invalid_json@2 | 
E
	# the dead letter keeps the NUL, escaped
	rm -f q.ndjson
	dedup -k .k --dlq q.ndjson nul.ndjson > /dev/null
	run jq -r '.original_record | @json' q.ndjson
	assert_output '"{\"k\":2,\"t\":2000,\"v\":\"a\u0000b\"}"'
}

@test "a byte order mark is refused at line 1" {
	{ printf '\xef\xbb\xbf'; corpus x '{"k":2,"t":2000,"v":2}'$'\n'; } > bom.ndjson
	run run_all bom.ndjson
	assert_output - <<'E'
dedup: exit=2 out=0 | dedup: bom.ndjson:1: invalid JSON: unexpected character at byte 1
watermark: exit=2 out=0 | watermark: bom.ndjson:1: invalid JSON: unexpected character at byte 1
window: exit=2 out=0 | window: bom.ndjson:1: invalid JSON: unexpected character at byte 1
dlq: exit=2 out=0 | dlq: bom.ndjson:1: invalid JSON: unexpected character at byte 1
reconcile: exit=2 out=null | reconcile: bom.ndjson:1: invalid JSON: unexpected character at byte 1
txlog: exit=2 out=0 | txlog: bom.ndjson:1: invalid JSON: unexpected character at byte 1; nothing committed
checkpoint: exit=0 out=3 | 
E
	run run_all bom.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=2 dlq=1 invalid_json@1 | 
watermark: exit=0 out=2 dlq=1 invalid_json@1 | 
window: exit=0 out=2 dlq=1 invalid_json@1 | 
dlq: exit=0 out=2 dlq=1 invalid_json@1 | 
reconcile: exit=1 out=2 dlq=1 invalid_json@1 | 
E
}

@test "a truncated last line is refused at its line; checkpoint keeps it for later" {
	printf '{"k":1,"t":1000,"v":1}\n{"k":2,"t":2000,"v":' > cut.ndjson
	run run_all cut.ndjson
	assert_output - <<'E'
dedup: exit=2 out=1 | dedup: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21
watermark: exit=2 out=1 | watermark: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21
window: exit=2 out=0 | window: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21
dlq: exit=2 out=1 | dlq: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21
reconcile: exit=2 out=null | reconcile: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21
txlog: exit=2 out=0 | txlog: cut.ndjson:2: invalid JSON: unexpected end of input at byte 21; nothing committed
checkpoint: exit=0 out=1 | checkpoint: cut.ndjson: an unterminated last line (20 bytes at offset 23) is left for a later batch;
E
	run run_all cut.ndjson --dlq
	assert_output - <<'E'
dedup: exit=0 out=1 dlq=1 invalid_json@2 | 
watermark: exit=0 out=1 dlq=1 invalid_json@2 | 
window: exit=0 out=1 dlq=1 invalid_json@2 | 
dlq: exit=0 out=1 dlq=1 invalid_json@2 | 
reconcile: exit=1 out=1 dlq=1 invalid_json@2 | 
E
	# the half line waits: offset 23 of 43
	checkpoint read -s ck "$PWD/cut.ndjson" > /dev/null
	run jq -c '.pending' < <(checkpoint status -s ck)
	assert_output '{"batch":1,"end":23,"delivered":true}'
}

@test "an empty file is no records, for every tool" {
	: > empty.ndjson
	run run_all empty.ndjson
	assert_output - <<'E'
dedup: exit=0 out=0 | 
watermark: exit=0 out=0 | 
window: exit=0 out=0 | 
dlq: exit=0 out=0 | 
reconcile: exit=0 out=0 | 
txlog: exit=0 out=0 | 
checkpoint: exit=0 out=0 | 
E
}
