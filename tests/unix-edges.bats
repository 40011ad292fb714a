#!/usr/bin/env bats
# Where a tool meets the rest of Unix: descriptors 0-2 closed, output to
# a full disk, fed commands that do not read, side files that are not
# regular files.  The rule each test checks: nothing committed that was
# not delivered, and a failure is said (exit 2), never silent.

load helpers

recs() {
	printf '{"id":%d,"t":%d}\n' 1 10 2 20 3 200 4 400
}

letter() {
	printf '{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":0,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' "$@"
}

# no_lock_records: the lock files (which a closed descriptor 1 used to
# become) hold nothing.
no_lock_records() {
	local f
	for f in *.lock; do
		[ -e "$f" ] || continue
		[ ! -s "$f" ] || { echo "$f holds: $(cat "$f")"; return 1; }
	done
}

# ---- descriptors 0-2 closed ----

@test "dedup --state with stdout closed fails and commits no key" {
	recs > in
	run sh -c 'dedup -k .id --state s.idx in >&-'
	assert_failure 2
	assert_output 'dedup: stdout: Bad file descriptor'
	no_lock_records
	run dedup -k .id --state s.idx in
	assert_success
	assert_output "$(recs)"
}

@test "dedup --state with stdin closed fails and commits no key" {
	run sh -c 'dedup -k .id --state s.idx <&-'
	assert_failure 2
	assert_output 'dedup: <stdin>: Bad file descriptor'
	recs > in
	run dedup -k .id --state s.idx in
	assert_output "$(recs)"
}

@test "dedup --state with stderr closed still delivers and commits" {
	recs > in
	run sh -c 'dedup -k .id --state s.idx in 2>&-'
	assert_success
	assert_output "$(recs)"
	no_lock_records
	run dedup -k .id --state s.idx in
	assert_output 'dedup: 4 records dropped: duplicates (--dupes FILE keeps them)'
}

@test "window --state with stdout closed fails and fires no window" {
	recs > in
	run sh -c 'window --tumble 1m -t .t --state w.st in >&-'
	assert_failure 2
	assert_output 'window: stdout: Bad file descriptor'
	no_lock_records
	run window --tumble 1m -t .t --state w.st in
	assert_success
	assert_line --index 0 --partial '"end":"1970-01-01T00:01:00Z"},"count":2'
}

@test "checkpoint read with stdout closed fails and leaves the batch pending" {
	mkdir d
	recs > d/a.ndjson
	run sh -c 'checkpoint read -s ck d >&-'
	assert_failure 2
	assert_line --index 0 'checkpoint: sending d/a.ndjson to stdout: Bad file descriptor'
	no_lock_records
	run checkpoint read -s ck d
	assert_success
	assert_output "$(recs)"
}

@test "dlq replay with stdout closed fails and removes nothing" {
	letter 1 2 > q
	run sh -c 'dlq replay q >&-'
	assert_failure 2
	assert_output 'dlq: stdout: Bad file descriptor'
	no_lock_records
	run dlq replay q
	assert_success
	assert_output 'dlq: q: an unfinished replay rolled back: 0 entries it dead-lettered again removed, the originals kept
{"id":1}
{"id":2}'
}

@test "every filter with stdout closed says so and exits 2" {
	recs > in
	mkdir -p t
	txlog init t --infer > /dev/null
	txlog append t in
	for c in "dedup -k .id in" "watermark -t .t --delay 1s in" \
		"window --tumble 1m -t .t in" "dlq check -e .id in" \
		"dlq stats /dev/null" "txlog cat t" "txlog log t" \
		"reconcile -k .id --format ndjson in in"; do
		run sh -c "$c >&-"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"Bad file descriptor"* ]] || {
			echo "$c: $output"; false; }
	done
	no_lock_records
}

@test "every filter with stdin closed says so and exits 2" {
	mkdir t
	txlog init t --infer > /dev/null
	for c in "dedup -k .id" "watermark -t .t --delay 1s" \
		"window --tumble 1m -t .t" "dlq check -e .id" \
		"reconcile -k .id - /dev/null" "txlog append t"; do
		run sh -c "$c <&-"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"Bad file descriptor"* ]] || {
			echo "$c: $output"; false; }
	done
	[ ! -e t/_delta_log/00000000000000000001.json ]
}

# nonblock_out CMD...: run CMD with stdout a pipe set O_NONBLOCK (as a
# parent may leave it) that a slow reader drains; prints CMD's exit
# status, then what came through.
nonblock_out() {
	python3 -c '
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.3)
data = b""
while True:
    b = os.read(r, 65536)
    if not b:
        break
    data += b
print(p.wait())
sys.stdout.flush()
os.write(1, data)
' "$@"
}

@test "a full non-blocking stdout is waited on, not an error: every tool delivers all" {
	seq 1 20000 | sed 's/.*/{"id":&}/' > in
	for cmd in "dedup -k .id" "dedup -j 2 -k .id" "dlq check -e true" \
		   "watermark -t .id --delay 1s" "checkpoint read -s st"; do
		rm -f st
		run nonblock_out $cmd in
		assert_success
		assert_line -n 0 0
		[ "${#lines[@]}" -eq 20001 ] || { echo "$cmd: ${#lines[@]}"; return 1; }
		assert_line -n 20000 '{"id":20000}'
	done
}

@test "output to /dev/full fails with exit 2 and commits nothing" {
	[ -w /dev/full ] || skip "no /dev/full"
	recs > in
	mkdir d
	recs > d/a.ndjson
	letter 1 > q
	mkdir t
	txlog init t --infer > /dev/null
	for c in "dedup -k .id --state s.idx in" \
		"window --tumble 1m -t .t --state w.st in" \
		"checkpoint read -s ck d" "dlq replay q" \
		"watermark -t .t --delay 1s in" "txlog log t"; do
		run sh -c "$c > /dev/full"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"No space left on device"* ]] || {
			echo "$c: $output"; false; }
	done
	run dedup -k .id --state s.idx in
	assert_output "$(recs)"
	run checkpoint read -s ck d
	assert_output "$(recs)"
	run dlq replay q
	assert_line --index 1 '{"id":1}'
}

# good records (passed, buffered), then a bad one and a late one: a
# letter for either comes after records not yet delivered.
undelivered() {
	local i
	for i in $(seq 1 ${1:-1}); do printf '{"id":%d,"t":100}\n' "$i"; done
	printf '{"id":0,"t":300}\n{"id":2}\n{"id":4,"t":1}\n'
}

@test "no filter dead-letters a record once its reader has gone (-j 1 and -j 2)" {
	undelivered > in
	undelivered 2000 > big
	# a bad record right after the first, with nothing else buffered:
	# dedup -j 1 holds that record back a step, and lettered the bad
	# one before it, stdout being empty
	printf '{"id":1,"t":300}\n{"id":2}\n' > first
	for j in 1 2; do
		for c in "dlq check -e .t" "dedup -k .t" \
			"watermark -t .t --delay 0s" \
			"window --tumble 1s -t .t --delay 0s --agg n=count()"; do
			for f in in big first; do
				# window has passed nothing on before it
				[ "$f" != first ] || [ "${c%% *}" != window ] ||
					continue
				rm -f q
				run reader_gone env IDEM_PAR_CHUNK=4096 \
					$c -j $j --dlq q $f
				[ "$output" = -13 ] || { echo "$c -j $j $f: $output"; false; }
				[ ! -s q ] || { echo "$c -j $j $f: lettered"; cat q; false; }
			done
		done
	done
}

@test "no filter appends to --late once its reader has gone (more than a buffer of late records)" {
	{
		printf '{"id":0,"t":100}\n{"id":0,"t":300}\n'
		printf '{"id":1,"t":1}\n%.0s' $(seq 1 10000)
	} > in
	for c in "watermark -t .t --delay 0s" \
		"window --tumble 1s -t .t --delay 0s --agg n=count()"; do
		rm -f late
		run reader_gone $c --late late in
		[ "$output" = -13 ] || { echo "$c: $output"; false; }
		[ ! -s late ] || { echo "$c: $(wc -c < late) bytes set aside"; false; }
	done
}

@test "dlq retry dead-letters no record once its reader has gone" {
	printf '{"id":1}\n{"id":2}\n{"id":3}\n' > in
	# SIGPIPE is ignored for the commands' pipes: EPIPE, exit 2
	run reader_gone dlq retry --retries 0 --dlq q in -- \
		sh -c 'read r; case $r in *2*) exit 3;; esac; echo "$r"'
	assert_output 2
	[ ! -s q ]
}

@test "every tool with stderr closed still delivers and exits 0" {
	recs > in
	mkdir d
	recs > d/a.ndjson
	for c in "dedup -k .id --state s.idx in" "watermark -t .t --delay 1s in" \
		"window --tumble 1m -t .t in" "dlq check -e .id in" \
		"checkpoint read -s ck d" "reconcile -k .id --format ndjson in in"; do
		run sh -c "$c 2>&-"
		[ "$status" -eq 0 ] || { echo "$c: exit $status: $output"; false; }
		[ -n "$output" ] || { echo "$c: no output"; false; }
	done
	no_lock_records
}

# ---- fed commands ----

@test "dlq replay to a command that exits 0 without reading removes nothing" {
	letter 1 2 > q
	cp q q.before
	run dlq replay q -- true
	assert_failure 2
	assert_output 'dlq: true exited 0 leaving 18 of 18 bytes unread; nothing removed from q (--allow-unread for a command that may ignore its input)'
	cmp q q.before
	[ ! -e q.replay ]
	run dlq replay q --allow-unread -- true
	assert_success
	[ ! -s q ]
}

@test "dlq replay to a command that stops reading a large batch removes nothing" {
	letter $(seq 1 1000) > q # 150 KB: more than a pipe buffer
	cp q q.before
	run dlq replay q -- head -c 10
	assert_failure 2
	assert_output --partial 'bytes unread; nothing removed from q'
	cmp q q.before
}

@test "checkpoint run commits only a batch the command read whole" {
	mkdir d
	recs > d/a.ndjson
	run checkpoint run -s ck d -- true
	assert_failure 2
	assert_output 'checkpoint: batch 1: true exited 0 without reading the whole batch; left pending (--allow-unread for a command that may ignore its input)'
	run checkpoint run -s ck d -- cat
	assert_success
	assert_output "$(recs)"
	recs >> d/a.ndjson
	run checkpoint run -s ck --allow-unread d -- true
	assert_success
	run checkpoint read -s ck d
	assert_output ''
	run checkpoint status -s ck --allow-unread
	assert_failure 2
}

# wait_gone PID...: true once every PID has ended (within 3 s).
wait_gone() {
	local i p alive
	for i in $(seq 1 60); do
		alive=
		for p in "$@"; do running "$p" && alive=1; done
		[ -z "$alive" ] && return 0
		sleep 0.05
	done
	return 1
}

# the command writes its pid and its background child's, then waits
slow_cmd='echo $$ > pid; sleep 30 & echo $! > gpid; cat > /dev/null; wait'

@test "a SIGKILLed dlq replay takes its command and the command's children with it" {
	letter 1 > q
	(exec dlq replay q -- sh -c "$slow_cmd") 3>&- &
	local r=$!
	for i in $(seq 1 100); do [ -s gpid ] && break; sleep 0.05; done
	[ -s gpid ]
	kill -9 "$r"
	wait_gone "$(cat pid)" "$(cat gpid)"
}

@test "a SIGKILLed checkpoint run takes its command and the command's children with it" {
	mkdir d
	recs > d/a.ndjson
	(exec checkpoint run -s ck d -- sh -c "$slow_cmd") 3>&- &
	local r=$!
	for i in $(seq 1 100); do [ -s gpid ] && break; sleep 0.05; done
	[ -s gpid ]
	kill -9 "$r"
	wait_gone "$(cat pid)" "$(cat gpid)"
	run checkpoint read -s ck d
	assert_output "$(recs)"
}

@test "a SIGKILLed dlq retry takes its commands and their children with it" {
	letter 1 | jq -c .original_record > in
	(exec dlq retry --retries 0 in -- sh -c "$slow_cmd") 3>&- &
	local r=$!
	for i in $(seq 1 100); do [ -s gpid ] && break; sleep 0.05; done
	[ -s gpid ]
	kill -9 "$r"
	wait_gone "$(cat pid)" "$(cat gpid)"
}

# feeder_dies TOOL-ARGS...: the tool feeds `sh -c "$held_cmd"` more than
# a pipe holds; the command's watchdog (the leader of its group) is
# stopped, then the tool is SIGKILLed and the command told to read on.
# The tool's death must not read as the end of the command's input:
# the command stays blocked (no "finished") until the watchdog, let go,
# kills it.  Without the watchdog's copy of the pipe's write end, cat
# read a clean EOF and the command finished a batch cut short.
held_cmd='echo $$ > pid; while [ ! -e go ]; do sleep 0.02; done; cat > got; echo done > finished'
feeder_dies() {
	(exec "$@" -- sh -c "$held_cmd") 3>&- &
	local r=$! i
	for i in $(seq 1 200); do [ -s pid ] && break; sleep 0.05; done
	[ -s pid ]
	local dog
	dog=$(ps -o pgid= -p "$(cat pid)" | tr -d ' ')
	[ "$dog" != "$(cat pid)" ] # its own group, led by the watchdog
	kill -STOP "$dog"
	kill -9 "$r"
	wait "$r" 2>/dev/null || true
	touch go
	sleep 0.5
	[ ! -e finished ] || { echo "the command read EOF from a dead feeder"; kill -CONT "$dog"; return 1; }
	kill -CONT "$dog"
	wait_gone "$(cat pid)" "$dog"
	[ ! -e finished ]
}

@test "a SIGKILLed feeder is no end of input: checkpoint run, dlq replay and dlq retry" {
	mkdir d
	seq 1 20000 | sed 's/.*/{"id":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/' > d/a.ndjson
	feeder_dies checkpoint run -s ck d
	# nothing committed: the whole batch is read again
	run sh -c 'checkpoint read -s ck d | wc -l'
	assert_output 20000
	rm -f pid go got finished
	sed 's/.*/{"original_record":&,"error_type":"x","error_message":"m","retry_count":0,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}/' d/a.ndjson > q
	feeder_dies dlq replay q
	run sh -c 'wc -l < q'
	assert_output 20000
	rm -f pid go got finished
	# retry feeds one record: a record bigger than a pipe holds
	printf '{"big":"%s"}\n' "$(head -c 200000 /dev/zero | tr '\0' x)" > one
	feeder_dies dlq retry --retries 0 one
}

# group_killed TOOL-ARGS...: the command's whole group, its watchdog
# included, is SIGKILLed while the tool feeds it; prints the tool's exit
# status and stderr.  Telling a watchdog that is gone raised SIGPIPE:
# the tool died of it (141) without a word.
group_killed() {
	(exec "$@" -- sh -c 'echo $$ > pid; sleep 0.3; cat > /dev/null') 2> err &
	local r=$! i rc=0
	for i in $(seq 1 200); do [ -s pid ] && break; sleep 0.05; done
	kill -9 -- "-$(ps -o pgid= -p "$(cat pid)" | tr -d ' ')"
	wait "$r" || rc=$?
	echo "$rc"
	cat err
}

@test "a command whose whole group is killed, watchdog too, is said (exit 2), not a silent SIGPIPE" {
	mkdir d
	seq 1 20000 | sed 's/.*/{"id":&,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}/' > d/a.ndjson
	run group_killed checkpoint run -s ck d
	assert_output - <<'OUT'
2
checkpoint: batch 1: sh was killed by signal 9 (SIGKILL); left pending
OUT
	run sh -c 'checkpoint read -s ck d | wc -l'
	assert_output 20000
	rm -f pid
	sed 's/.*/{"original_record":&,"error_type":"x","error_message":"m","retry_count":0,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}/' d/a.ndjson > q
	run group_killed dlq replay q
	assert_output - <<'OUT'
2
dlq: sh was killed by signal 9 (SIGKILL); nothing removed from q
OUT
	run sh -c 'wc -l < q'
	assert_output 20000
}

# ---- a pipe's unterminated last line is torn, never a record ----

@test "an unterminated last line from a pipe stops a tool without --dlq" {
	for c in "dedup -k .id" "watermark -t .t --delay 1s" \
		"window --tumble 1m -t .t" "dlq check -e .id" \
		"reconcile -k .id - /dev/null"; do
		run sh -c "printf '{\"id\":1,\"t\":1}\n{\"id\":2,\"t\":2}' | $c > /dev/null"
		[ "$status" -eq 2 ] || { echo "$c: exit $status: $output"; false; }
		[[ "$output" == *"<stdin>:2: unterminated last line from a pipe (its writer stopped mid-line)"* ]] || {
			echo "$c: $output"; false; }
	done
}

@test "an unterminated last line from a pipe is dead-lettered as torn_line, not replayable" {
	run sh -c "printf '{\"id\":1}\n{\"id\":2}' | dedup -k .id --dlq bad"
	assert_success
	assert_line '{"id":1}'
	assert_line 'dedup: <stdin>:2: unterminated last line from a pipe (its writer stopped mid-line); dead-lettered as torn_line, not replayable'
	[ "${#lines[@]}" -eq 2 ]
	run no_time bad
	assert_output '{"original_record":"{\"id\":2}","error_type":"torn_line","error_message":"unterminated last line from a pipe (its writer stopped mid-line)","retry_count":0,"failed_at":"T","replayable":false,"source":{"tool":"dedup","file":"<stdin>","line":2}}'
	run dlq replay bad
	assert_output ''
}

@test "an unterminated last line from a pipe that is also too long is said torn, with its length" {
	printf '{"id":1}\n{"id":"%03000d"}' 0 > in
	for j in 1 2; do
		run sh -c "cat in | dedup -j $j -k .id --max-line 100"
		assert_failure 2
		assert_line '{"id":1}'
		assert_line 'dedup: <stdin>:2: unterminated last line from a pipe (its writer stopped mid-line); 3009 bytes, longer than --max-line 100'
		rm -f bad
		run sh -c "cat in | dlq check -j $j -e true --max-line 100 --dlq bad"
		assert_success
		assert_line 'dlq: <stdin>:2: unterminated last line from a pipe (its writer stopped mid-line); dead-lettered as torn_line, not replayable'
		run jq -c '[.error_type, .error_message, .replayable]' bad
		assert_output '["torn_line","unterminated last line from a pipe (its writer stopped mid-line); 3009 bytes, longer than --max-line 100",false]'
	done
	# from a regular file it is a line too long, as before
	run dedup -k .id --max-line 100 in
	assert_failure 2
	assert_line 'dedup: in:2: line of 3009 bytes is longer than --max-line 100'
}

@test "an unterminated last line of a regular file is still a record" {
	printf '{"id":1}\n{"id":2}' > in
	run dedup -k .id in
	assert_success
	assert_output '{"id":1}
{"id":2}'
}

# ---- torn tails of append-only files ----

# a dead-letter file whose last letter a SIGKILL cut mid-write
torn_dlq() {
	letter 1 2 > q
	letter 3 | head -c 50 >> q
}

@test "dlq stats reports a torn last letter instead of refusing the file" {
	torn_dlq
	run dlq stats q
	assert_success
	assert_line --index 0 'dlq: q:3: unterminated last line (a writer killed mid-write, or one writing now); not counted'
	assert_line --index 2 '{"error_type":null,"entries":2,"replayable":2,"parked":0,"oldest":"2024-01-01T00:00:00Z","newest":"2024-01-01T00:00:00Z"}'
}

@test "the next dead-letter writer cuts a torn last letter and says so" {
	torn_dlq
	printf '{"id":9}\nnot json\n' > in
	run dlq check -e .id --dlq q in
	assert_success
	assert_output 'dlq: q: cut off a torn last line of 50 bytes (a writer killed mid-write; its run had not finished)
{"id":9}'
	run dlq stats q
	assert_success
	assert_line --index 2 --partial '"entries":3,'
}

@test "dlq replay cuts a torn last letter and replays the whole ones" {
	torn_dlq
	run dlq replay q
	assert_success
	assert_output 'dlq: q: cut off a torn last line of 50 bytes (a writer killed mid-write; its run had not finished)
{"id":1}
{"id":2}'
}

@test "a --late file with a torn last line is cut before new records follow it" {
	printf '{"t":5}\n{"t":6' > late
	run sh -c 'printf "{\"t\":100}\n{\"t\":1}\n" | watermark -t .t --delay 1s --late late'
	assert_success
	assert_output 'watermark: late: cut off a torn last line of 6 bytes (a writer killed mid-write; its run had not finished)
{"t":100}'
	run cat late
	assert_output '{"t":5}
{"t":1}'
}

@test "a side file whose last record has no newline keeps it: ended, not cut as torn" {
	# written by hand or by an editor that drops the last newline: a
	# whole record, as any reader of the file takes it
	printf '{"t":5}\n{"t":6}' > late
	run sh -c 'printf "{\"t\":100}\n{\"t\":1}\n" | watermark -t .t --delay 1s --late late'
	assert_success
	assert_output '{"t":100}'
	run cat late
	assert_output '{"t":5}
{"t":6}
{"t":1}'
	# a dead-letter file's whole last letter too, for its writers, its
	# replay and its purge
	letter 1 2 > q
	truncate -s -1 q
	printf '{"id":9}\nnot json\n' > in
	run dlq check -e .id --dlq q in
	assert_success
	assert_output '{"id":9}'
	run dlq stats q
	assert_line --partial '{"error_type":null,"entries":3,'
	letter 1 2 > q
	truncate -s -1 q
	run dlq purge q --older-than 1s
	assert_success
	run dlq stats q
	assert_success
	assert_line --partial '{"error_type":null,"entries":0,'
	letter 1 2 > q
	truncate -s -1 q
	run dlq replay q
	assert_success
	assert_output '{"id":1}
{"id":2}'
}

# ---- side files that are not regular files ----

@test "a --late or --dupes file a full disk tore is cut back to its last whole line at once" {
	cc -O2 -shared -fPIC -o shim.so "$BATS_TEST_DIRNAME/faults/shim.c" -ldl
	[ -z "${IDEM_SANITIZED:-}" ] ||
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	mkdir d
	seq 1000 -1 1 | sed 's/.*/{"t":&,"pad":"0123456789"}/' > in
	IDEM_IOFAULT=write:1:ENOSPC/short IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$PWD/shim.so \
		run watermark -t .t --delay 0s --late d/late in
	assert_failure 2
	assert_line --regexp '^watermark: d/late: write: No space left on device; the torn last line \([0-9]+ bytes\) was cut off; [0-9]+ of the 999 records set aside for it did not reach it$'
	[ "$(tail -c 1 d/late | od -An -c | tr -d ' ')" = '\n' ]
	# the records it says are missing are the ones the file lacks
	[[ "$output" == *"; $((999 - $(wc -l < d/late))) of the 999 records"* ]]
	run jq -c .t d/late
	assert_success
	cp in again # a file named twice is refused
	IDEM_IOFAULT=write:1:ENOSPC/short IDEM_IOFAULT_DIR=$PWD/d LD_PRELOAD=$PWD/shim.so \
		run dedup --dupes d/dupes in again
	assert_failure 2
	assert_line --regexp '^dedup: d/dupes: write: No space left on device; the torn last line \([0-9]+ bytes\) was cut off; [0-9]+ of the [0-9]+ records set aside for it did not reach it$'
	[ "$(tail -c 1 d/dupes | od -An -c | tr -d ' ')" = '\n' ]
	n=$(sed -n 's/.* of the \([0-9]*\) records set aside.*/\1/p' <<< "$output")
	[[ "$output" == *"; $((n - $(wc -l < d/dupes))) of the $n records"* ]]
	[ "$n" -gt "$(wc -l < d/dupes)" ]
	run jq -c .t d/dupes
	assert_success
}

@test "a --dupes or --late write that fails on a device says how many records it lost" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"id":1,"t":100}\n{"id":1,"t":1}\n{"id":1,"t":2}\n' > in
	run dedup -k .id --dupes /dev/full in
	assert_failure 2
	assert_line 'dedup: /dev/full: write: No space left on device; up to 2 of the 2 records set aside for it did not reach it'
	run watermark -t .t --delay 1s --late /dev/full in
	assert_failure 2
	assert_line 'watermark: /dev/full: write: No space left on device; up to 2 of the 2 records set aside for it did not reach it'
	run window --tumble 1m -t .t --delay 1s --late /dev/full in
	assert_failure 2
	assert_line 'window: /dev/full: write: No space left on device; up to 2 of the 2 records set aside for it did not reach it'
}

@test "--late, --dupes and --dlq take /dev/null, a FIFO and /dev/stderr" {
	printf '{"id":1,"t":100}\n{"id":1,"t":1}\nbad\n' > in
	run dedup -k .id --dupes /dev/null --dlq /dev/null in
	assert_success
	assert_output '{"id":1,"t":100}'
	run watermark -t .t --delay 1s --late /dev/null --dlq /dev/null in
	assert_success
	run window --tumble 1m -t .t --delay 1s --late /dev/null --dlq /dev/null in
	assert_success
	mkfifo ff
	cat ff > ff.out &
	run dedup -k .id --dupes ff --dlq /dev/null in
	assert_success
	wait
	run cat ff.out
	assert_output '{"id":1,"t":1}'
	run sh -c 'dedup -k .id --dupes /dev/stderr --dlq /dev/null in 2>&1 >/dev/null'
	assert_success
	assert_output '{"id":1,"t":1}'
}

@test "an output that is also an input is refused before anything is written: no truncated input, no endless loop" {
	printf '{"id":1,"t":100}\n{"id":1,"t":1}\nbad\n' > in
	cp in in.orig
	msg='is also an input: a file written while it is read loses or repeats records; name another'
	# --dupes would truncate the input before it is read
	run dedup -k .id --dupes in in
	assert_failure 2
	assert_output "dedup: --dupes in $msg"
	# an appended --late or --dlq would be read back and written again,
	# without end (a 17 MB input grew to 4 GB in 20 s)
	run watermark -t .t --late ./in in
	assert_failure 2
	assert_output "watermark: --late ./in $msg"
	run sh -c 'window --tumble 1m -t .t --delay 0s --late late --dlq in < in'
	assert_failure 2
	assert_output "window: --dlq in is also an input (standard input): a file written while it is read loses or repeats records; name another"
	run partition -n 2 -k .id --dlq in in
	assert_failure 2
	assert_output "partition: --dlq in $msg"
	run sh -c 'watermark -t .t in >> in'
	assert_failure 2
	assert_output "watermark: standard output $msg"
	cmp in in.orig
	[ ! -e late ]
}

@test "two outputs that are one file are refused unless both append, and a dead-letter file is shared with none" {
	printf '{"id":1,"t":100}\n{"id":1,"t":1}\nbad\n' > in
	run dedup -k .id --dupes out --dlq out in
	assert_failure 2
	assert_output 'dedup: --dupes out and --dlq out are one file: one would overwrite the other; name two'
	# the state is renamed over its path at the end: the letters would go
	run dedup -k .id --state ./st --dlq st in
	assert_failure 2
	assert_output 'dedup: --dlq st and --state ./st are one file: one would overwrite the other; name two'
	run window --tumble 1m -t .t --state st --late st in
	assert_failure 2
	assert_output 'window: --late st and --state st are one file: one would overwrite the other; name two'
	run sh -c 'watermark -t .t --delay 1s --late o in > o'
	assert_failure 2
	assert_output 'watermark: standard output and --late o are one file: one would overwrite the other; name two'
	[ ! -e st ]
	# appended to both: they share the file, one whole line at a time
	rm -f o
	run sh -c 'watermark -t .t --delay 1s --late o in >> o'
	assert_failure 2 # the bad line, after the late record and the output
	run sort o
	assert_output $'{"id":1,"t":100}\n{"id":1,"t":1}'
	# but records among a dead-letter file's envelopes would make dlq
	# stats, replay and purge refuse it whole
	rm -f o
	refused 'watermark: standard output and --dlq o are one file: a dead-letter file holds dead letters alone, or dlq refuses it; name two' \
		sh -c 'watermark -t .t --late l --dlq o in >> o'
	refused 'watermark: --late o and --dlq ./o are one file: a dead-letter file holds dead letters alone, or dlq refuses it; name two' \
		sh -c 'watermark -t .t --late o --dlq ./o in >> x'
	refused 'dlq: standard output and --dlq o are one file: a dead-letter file holds dead letters alone, or dlq refuses it; name two' \
		sh -c 'dlq check -e .id --dlq o in >> o'
	[ ! -s o ] # (the shell made it for >>)
}

# ---- temp files of killed commits ----

@test "the next commit under the lock removes the temps killed commits left" {
	recs > in
	dedup -k .id --state s.idx in > /dev/null
	for x in s.idx.tmp.AbC123 s.idx.tmp.zzzzzz; do head -c 1000 /dev/zero > "$x"; done
	echo keep > s.idx.tmp.short
	echo keep > other.tmp.AbC123
	ln -s /nonexistent s.idx.tmp.linkxx
	run dedup -k .id --state s.idx in
	assert_success
	[ ! -e s.idx.tmp.AbC123 ] && [ ! -e s.idx.tmp.zzzzzz ]
	[ -e s.idx.tmp.short ] && [ -e other.tmp.AbC123 ] && [ -L s.idx.tmp.linkxx ]
	letter 1 > q
	touch q.tmp.AbC123 q.replay.tmp.AbC123
	run dlq replay q --commit
	assert_success
	[ ! -e q.replay.tmp.AbC123 ]
	run dlq purge --older-than 1000d q
	assert_success
	[ ! -e q.tmp.AbC123 ]
	mkdir d
	recs > d/a.ndjson
	touch ck.tmp.AbC123
	checkpoint read -s ck d > /dev/null
	[ ! -e ck.tmp.AbC123 ]
}

# ---- jq modules ----

@test "a jq program using import or include is refused, not an abort" {
	recs > in
	for c in "dedup -k" "watermark --delay 1s -t" \
		"window --tumble 1m -t" "dlq check -e" "reconcile -k"; do
		# every tool the include; dedup the import too
		for p in 'include "x"; .id' 'import "../x" as $d; .id'; do
			[ "$c" = "dedup -k" ] || [ "${p:0:7}" = include ] ||
				continue
			run $c "$p" in /dev/null
			[ "$status" -eq 2 ] || { echo "$c $p: exit $status: $output"; false; }
			[[ "$output" == *"'$p': jq modules (import, include) are not supported; write the definitions into the program"* ]] || {
				echo "$c $p: $output"; false; }
		done
	done
}

# ---- dlq oddities ----

@test "an envelope whose retry_count is not a whole number is refused, not duplicated" {
	for rc in -1 1.5 18446744073709551615; do
		printf '{"original_record":{"id":1},"error_type":"x","error_message":"m","retry_count":%s,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' "$rc" > q
		cp q q.before
		run dlq replay q -- cat
		assert_failure 2
		assert_output 'dlq: q:1: not a dead-letter envelope (retry_count is not a whole number 0 to 2^63-1)'
		cmp q q.before
	done
}

@test "retry refuses --permanent codes that are no failing status, empty codes and a zero --timeout" {
	for a in "--permanent 0" "--permanent 2," "--timeout 0"; do
		run dlq retry $a -- cat < /dev/null
		assert_failure 2
	done
	run dlq retry --permanent 1,,2 -- cat < /dev/null
	assert_line --index 0 "dlq: --permanent: an empty code in '1,,2'; want CODE,CODE,... (e.g. 2,65)"
	run dlq retry --permanent 256 -- cat < /dev/null
	assert_line --index 0 'dlq: --permanent: 256 is not a failing exit status (1-255)'
	run dlq retry --timeout 0s -- cat < /dev/null
	assert_line --index 0 "dlq: --timeout: '0s': must be positive (leave it out for no limit)"
}

@test "a duration that names a unit twice is refused in every tool" {
	run window --tumble 1h1h -t .t < /dev/null
	assert_failure 2
	assert_line --index 0 "window: --tumble: '1h1h': a unit given twice (write each once, as in 1h30m)"
	run watermark -t .t --delay 1m30s1m < /dev/null
	assert_failure 2
	run dlq retry --timeout 1s1s -- cat < /dev/null
	assert_failure 2
}

# ---- dlq retry: jobs that do not hold each other up ----

@test "retry -j 8 --timeout: fast records finish fast, none timed out" {
	seq 1 16 | sed 's/.*/{"n":&}/' > in
	local t0=$SECONDS
	run dlq retry -j 8 --timeout 3s --dlq bad in -- sh -c 'sleep 0.05; cat'
	assert_success
	assert_output "$(cat in)"
	[ ! -s bad ]
	[ $((SECONDS - t0)) -lt 3 ]
}

@test "retry --timeout at -j 1 does not wait out the timeout of a finished record" {
	seq 1 5 | sed 's/.*/{"n":&}/' > in
	local t0=$SECONDS
	run dlq retry --timeout 5s in -- sh -c 'sleep 0.2; cat'
	assert_success
	assert_output "$(cat in)"
	[ $((SECONDS - t0)) -lt 4 ]
}

@test "a record in the DLQ twice at different retry counts is rolled back once each" {
	printf '{"original_record":{"id":1},"error_type":"x","error_message":"m","retry_count":%d,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' 3 4 > q
	run dlq replay q -- sh -c 'dlq check -e ".id > 5" --dlq q > /dev/null; exit 1'
	assert_failure 2
	run jq -c '[.original_record, .retry_count]' q
	assert_output '[{"id":1},3]
[{"id":1},4]'
}

@test "dlq retry: a command that exits 0 without reading its record has failed, unless --allow-unread" {
	printf '{"id":1}\n{"id":2}\n' > in
	run dlq retry --retries 0 in -- true
	assert_failure 2
	assert_output 'dlq: in:1: true exited 0 without reading its record (9 bytes unread; --allow-unread if it may) after 1 attempt'
	run dlq retry --retries 0 --dlq dead in -- true
	assert_success
	assert_output ''
	run jq -c '[.original_record.id, .error_message]' dead
	assert_output - <<'EOF'
[1,"true exited 0 without reading its record (9 bytes unread; --allow-unread if it may) after 1 attempt"]
[2,"true exited 0 without reading its record (9 bytes unread; --allow-unread if it may) after 1 attempt"]
EOF
	# a record past the pipe buffer: no hang when nobody reads it
	jq -nc '{id: 3, pad: ("x" * 200000)}' > big
	run timeout 10 dlq retry --retries 0 big -- true
	assert_failure 2
	assert_output 'dlq: big:1: true exited 0 without reading its record (200018 bytes unread; --allow-unread if it may) after 1 attempt'
	run dlq retry --allow-unread --retries 0 in -- true
	assert_success
	assert_output ''
	run dlq retry --retries 0 in -- cat
	assert_success
	assert_output $'{"id":1}\n{"id":2}'
}

@test "a file that cannot be read ends each tool on lib/par with exit 2 naming it, after the records before it" {
	echo '{"id":1,"t":1}' > a
	for cmd in "dedup -k .id" "watermark -t .t --delay 1s" "dlq check -e .id"; do
		run $cmd a nope
		assert_failure 2
		assert_output - <<EOF2
{"id":1,"t":1}
${cmd%% *}: nope: No such file or directory
EOF2
	done
	# window gives its windows at the end, partition publishes its
	# folder at the end: neither does, for a run that failed
	run window --tumble 10s -t .t --agg 'n=count()' a nope
	assert_failure 2
	assert_output 'window: nope: No such file or directory'
	run partition -n 2 -k .id -o out a nope
	assert_failure 2
	assert_output 'partition: nope: No such file or directory'
	[ ! -e out ]
}

@test "checkpoint takes - for standard input, refused, never for a stray file called -" {
	recs > ./-
	refused "checkpoint: -: standard input has no offsets to keep; checkpoint keeps byte offsets of regular files (./- for one called -)" \
		checkpoint read -s st - < /dev/null
	[ ! -e st ]
	refused "checkpoint: -: standard input has no offsets to keep; checkpoint keeps byte offsets of regular files (./- for one called -)" \
		checkpoint run -s st - -- cat
	[ ! -e st ]
	run checkpoint read -s st ./-
	assert_success
	assert_output "$(recs)"
}

@test "dlq replay and purge refuse - (standard input), never rewrite a stray file called -" {
	letter 1 2 > ./-
	cp ./- before
	refused "dlq: -: standard input cannot be rewritten; replay and purge rewrite the dead-letter file they name (./- for one called -)" \
		dlq replay - < /dev/null
	refused "dlq: -: standard input cannot be rewritten; replay and purge rewrite the dead-letter file they name (./- for one called -)" \
		dlq purge --older-than 1d - < /dev/null
	cmp before ./-
	run dlq replay ./-
	assert_success
	assert_output $'{"id":1}\n{"id":2}'
}

@test "a zstd stream that starts with a skippable frame (pzstd's) is zstd, from a file and a pipe" {
	printf '{"id":1}\n{"id":2}\n' | zstd -q > z
	python3 -c '
import struct, sys
sk = struct.pack("<II", 0x184D2A5E, 4) + b"abcd"
z = open("z", "rb").read()
open("pz", "wb").write(sk + z + sk)
'
	run dedup pz
	assert_success
	assert_output $'{"id":1}\n{"id":2}'
	run sh -c 'cat pz | dlq check -j 2 -e true'
	assert_success
	assert_output $'{"id":1}\n{"id":2}'
	refused 'checkpoint: pz: zstd-compressed; checkpoint needs plain files (offsets are byte offsets)' \
		checkpoint read -s st pz
	head -c 6 pz > cut
	refused 'dedup: cut: truncated zstd stream' dedup cut
}

@test "dedup and window --state behind a reader that leaves with records unread save no state: those records are not taken as delivered" {
	seq 1 50 | sed 's/.*/{"id":&,"t":"2024-01-01T00:00:&Z"}/' | sed 's/:\([0-9]\)Z/:0\1Z/' > in
	# 50 short lines fit in the pipe: the writes all succeed
	run bash -c 'dedup -k .id --state st in | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_output 141
	[ ! -e st ]
	run bash -c 'head -n 49 in | window --tumble 1s -t .t --state ws | head -c 5 >/dev/null; echo "${PIPESTATUS[1]}"'
	assert_output 141
	[ ! -e ws ]
	# read to the end: the state is saved, and holds every key
	dedup -k .id --state st in | cat > /dev/null
	run sh -c 'dedup -k .id --state st in 2>/dev/null | wc -l'
	assert_output 0
	head -n 49 in | window --tumble 1s -t .t --state ws | cat > got
	[ "$(wc -l < got)" = 48 ]
	[ -e ws ]
}
