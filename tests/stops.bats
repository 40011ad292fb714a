#!/usr/bin/env bats
# Every exit path says what happened: a run that stops early (a bad
# record without --dlq, a refused value) still leaves the user knowing
# where every record went; a side output never slips its records into
# another output's stream.

load helpers

# ---- side outputs that are one pipe ----

@test "a side output naming standard output's pipe is refused: its reader would get dead letters among the records" {
	printf '{"a":1}\nbad\n' > in
	pipe='are one pipe: its reader would get the records of both mixed; name two'
	refused "dedup: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; dedup -k .a --dlq /dev/stdout in | cat'
	refused "dedup: standard output and --dupes /dev/fd/1 $pipe" \
		bash -c 'set -o pipefail; dedup -k .a --dupes /dev/fd/1 in | cat'
	refused "watermark: standard output and --late /dev/stdout $pipe" \
		bash -c 'set -o pipefail; watermark -t .a --late /dev/stdout in | cat'
	refused "window: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; window --tumble 1m -t .a --dlq /dev/stdout in | cat'
	refused "partition: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; partition -n 2 -k .a --dlq /dev/stdout in | cat'
	refused "dlq: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; dlq check -e .a --dlq /dev/stdout in | cat'
	refused "reconcile: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; reconcile -k .a --dlq /dev/stdout in in | cat'
	# two side outputs on one pipe, stdout elsewhere
	refused "watermark: --late /dev/fd/3 and --dlq /dev/fd/3 $pipe" \
		bash -c 'set -o pipefail; watermark -t .a --late /dev/fd/3 --dlq /dev/fd/3 in 3>&1 >/dev/null | cat'
	# stdout a pipe, the letters another pipe: taken
	run bash -c 'set -o pipefail; dedup -k .a --dlq /dev/fd/3 in 3>&2 | cat'
	assert_success
	assert_line '{"a":1}'
	assert_line --partial '"original_record":"bad"'
}

# ---- --stats at a stop ----

# stats_at_stop EXIT CMD...: run CMD, which must exit EXIT, and print
# the counts of its --stats line (the last line of stderr) that a stop
# must keep: records in and out, dead letters, bytes in.
stats_at_stop() {
	local want=$1
	shift
	"$@" 2> err > /dev/null
	local rc=$?
	[ "$rc" = "$want" ] || { echo "exit $rc, not $want"; cat err; return 1; }
	grep '^{"tool"' err | tail -n 1 |
		jq -c '[.records_in, .records_out, .dead_lettered, .bytes_in]'
}

@test "--stats is said at a stop on a bad record, in every tool, counting up to it and every byte read" {
	printf '{"a":1}\n' > a                                  # 8 bytes
	printf '{"a":1}\n{"a":2}\nbad\n{"a":3}\n' > b           # 28 bytes
	txlog init t > /dev/null
	# the stop is b:3; records_in counts it; bytes_in counts b too
	# (@ where --stats a b go: at the end without one)
	while IFS='|' read -r want cmd; do
		case $cmd in *@*) ;; *) cmd="$cmd @" ;; esac
		run stats_at_stop 2 sh -c "${cmd/@/--stats a b}"
		assert_success
		assert_output "$want" || { echo "in: $cmd"; return 1; }
	done <<'T'
[4,2,0,36]|dedup -k .a
[4,2,0,36]|dedup -k .a -j 1
[4,2,0,36]|dedup -k .a -j 2
[4,0,0,36]|dedup -k .a --keep last
[4,3,0,36]|watermark -t .a
[4,3,0,36]|watermark -t .a -j 2
[4,0,0,36]|window --tumble 1h -t .a
[4,3,0,36]|partition -n 2 -k .a
[4,0,0,36]|partition -n 2 -k .a -o dir
[4,3,0,36]|dlq check -e .a
[4,3,0,36]|dlq retry -j 1 @ -- cat
[4,0,0,36]|reconcile summarize -k .a
[4,0,0,36]|reconcile summarize -k .a -j 1
[4,0,0,36]|txlog append t
[4,0,0,36]|txlog append t -j 1
[4,0,0,36]|txlog overwrite t
T
	[ ! -e dir ] # partition -o publishes nothing at a stop
	# reconcile's two sides: a bad record in the target
	run stats_at_stop 2 reconcile -k .a --stats a b
	assert_output '[4,0,0,36]'
	# an input that cannot be opened stops the run as a bad record does
	run stats_at_stop 2 reconcile summarize -k .a --stats a nope
	assert_output '[1,0,0,8]'
	run stats_at_stop 2 dedup -k .a --stats a nope
	assert_output '[1,1,0,8]'
	run stats_at_stop 2 txlog append t --stats a nope
	assert_output '[1,0,0,8]'
	# window merge: a line that is no pane
	run stats_at_stop 2 window merge --stats a
	assert_output '[1,0,0,8]'
	[ "$(txlog log t | wc -l)" = 1 ] # nothing committed
}

@test "a letter held for output a stop never writes is not counted as dead-lettered" {
	seq 1 8 | sed 's/.*/{"a":&}/' | partition -n 2 -k .a |
		awk -F'\t' '$1 == 1 { print $2; exit }' > other
	# dedup --keep last writes its records, and their letters, at the end
	{ echo bad; cat other; } > in
	run stats_at_stop 2 dedup -k .a --keep last --dlq d --partition 0/2 --stats in
	assert_output '[2,0,0,12]'
	[ ! -s d ]
}

@test "dlq retry: an input that cannot be opened ends the run once the records taken before it are done, none left in flight" {
	printf '{"a":1}\n' > a
	run dlq retry --retries 0 --stats a nope -- sh -c 'sleep 0.2; cat'
	assert_failure 2
	assert_line -n 0 '{"a":1}'
	assert_line -n 1 'dlq: nope: No such file or directory'
	assert_line -n 2 --partial '{"tool":"dlq","records_in":1,"records_out":1,"duplicates":0,"late":0,"dead_lettered":0,"bytes_in":8,'
}

@test "txlog's writes take --max-line as every tool does: a longer record fails the write in their words, and past 64M the table's readers could not take it" {
	txlog init t > /dev/null
	printf '{"a":"1"}\n{"a":"%s"}\n' "$(head -c 2000 /dev/zero | tr '\0' x)" > in
	for v in append overwrite "merge -k .a"; do
		run txlog $v t --max-line 1K --stats in
		assert_failure 2
		assert_line -n 0 'txlog: in:2: line of 2008 bytes is longer than --max-line 1024; nothing committed'
		assert_line -n 1 --partial '{"tool":"txlog","records_in":2,"records_out":0,'
	done
	refused 'txlog: --max-line 65M: at most 64M, the longest row the table'"'"'s readers take' \
		txlog append t --max-line 65M in
	refused "txlog: cat: --max-line does not apply to cat (it is append's, overwrite's and merge's)" txlog cat t --max-line 1K
	run txlog append t --max-line 4K in
	assert_success
	[ "$(txlog cat t | wc -l)" = 2 ]
}

@test "window merge refuses a shard's last line without its newline from a pipe, even when it parses: a shard killed mid-write" {
	pane='{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":null,"pane":{"timing":"on_time","index":0,"final":true}}'
	run sh -c "printf '%s' '$pane' | window merge"
	assert_failure 2
	assert_output 'window: <stdin>:1: unterminated last line from a pipe (its writer stopped mid-line)'
	# from a file, a last line without a newline is a line
	printf '%s' "$pane" > f
	run window merge f
	assert_success
	assert_output "$pane"
}

# ---- drops said at a stop ----

@test "at a stop on a bad record, the records dropped before it are said, as at the end: their stop left the output before it standing" {
	printf '{"a":1}\n{"a":1}\nbad\n' > dup
	run dedup -k .a dup
	assert_failure 2
	assert_output '{"a":1}
dedup: dup:3: invalid JSON: unexpected character at byte 1
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
	# --keep last writes nothing at a stop: nothing said dropped
	run dedup -k .a --keep last dup
	assert_failure 2
	assert_output 'dedup: dup:3: invalid JSON: unexpected character at byte 1'
	printf '{"t":100}\n{"t":1}\nbad\n' > late
	run watermark -t .t --delay 0s --late drop late
	assert_failure 2
	assert_output '{"t":100}
watermark: late:3: invalid JSON: unexpected character at byte 1
watermark: 1 record dropped: too late (--late FILE keeps them)'
	run window --tumble 10s -t .t --delay 0s --agg 'n=count()' late
	assert_failure 2
	assert_line 'window: late:3: invalid JSON: unexpected character at byte 1'
	assert_line 'window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)'
	# a sliding record left out of a window that had closed (its pane
	# went out before the stop)
	printf '{"t":100}\n{"t":97}\nbad\n' > slide
	run window --slide 10s --every 5s -t .t --delay 0s --agg 'n=count()' slide
	assert_failure 2
	assert_line 'window: slide:3: invalid JSON: unexpected character at byte 1'
	assert_line 'window: 1 record left out of 1 window that had closed (on time for its others, which have it; --lateness DUR keeps those windows open)'
	printf '{"_watermark":"1970-01-01T00:00:05Z"}\n{"a":1,"t":1}\nbad\n' > wm
	run partition -n 2 -g .a -t .t wm
	assert_failure 2
	assert_line 'partition: 1 record dropped: _watermark lines replaced by -t'"'"'s (leaving out -t keeps them)'
}

@test "a dead letter a full disk refuses names the record it was for, and the letters held after it" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"a":1}\nbad\n{"a":2}\nbad2\n' > in
	# held until the records before them are out, then refused
	run dedup -k .a --dlq /dev/full in
	assert_failure 2
	assert_line 'dedup: in:2: dead letter not written (nor the 1 held after it): /dev/full: write: No space left on device'
	# written at once (nothing out before it), and refused
	printf 'bad\n{"a":1}\n' > first
	run sh -c 'dlq check -e .a --dlq /dev/full < first > /dev/null'
	assert_failure 2
	assert_output 'dlq: <stdin>:1: dead letter not written: /dev/full: write: No space left on device'
}

@test "a txlog write that loses its commit to a concurrent one says --stats too: 75, nothing committed" {
	txlog init t > /dev/null
	printf '{"id":1,"v":1}\n' | txlog append t
	mkfifo fifo
	txlog merge t -k .id --stats fifo > out 2> err &
	local pid=$! i
	# it has read the table and waits for its input
	for i in $(seq 100); do
		[ "$(cat /proc/$pid/wchan 2>/dev/null)" = wait_for_partner ] && break
		sleep 0.1
	done
	printf '{"id":1,"v":3}\n' | txlog merge t -k .id
	printf '{"id":1,"v":2}\n' > fifo
	local rc=0
	wait $pid || rc=$?
	[ "$rc" = 75 ]
	run jq -c '[.records_in, .records_out, .version]' <(grep '^{"tool"' err)
	assert_output '[1,0,null]'
	run txlog cat t
	assert_output '{"id":1,"v":3}'
}
