#!/usr/bin/env bats
# checkpoint: batches over growing files that resume exactly.

load helpers

three() {
	printf '{"a":1}\n{"a":2}\n{"a":3}\n'
}

@test "read emits the complete lines and leaves a half-written last line" {
	three > in.ndjson
	printf '{"a":4' >> in.ndjson
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output - <<'J'
checkpoint: in.ndjson: an unterminated last line (6 bytes at offset 24) is left for a later batch; it is read once its newline is written
{"a":1}
{"a":2}
{"a":3}
J
	checkpoint commit -s s
	echo '}' >> in.ndjson
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output '{"a":4}'
}

@test "options may follow the files, as in every tool; run's command starts after --" {
	three > in.ndjson
	run checkpoint read -s s in.ndjson -n 2
	assert_success
	assert_output - <<'J'
{"a":1}
{"a":2}
J
	checkpoint commit -s s
	run checkpoint run -s s in.ndjson --until-empty -- wc -l
	assert_success
	assert_output 1
}

@test "a pending batch is read again byte for byte, whatever the bounds" {
	three > in.ndjson
	checkpoint read -s s -n 2 in.ndjson > first
	echo '{"a":9}' >> in.ndjson
	run checkpoint read -s s -n 1 in.ndjson
	assert_success
	assert_output "$(cat first)"
	assert_output - <<'J'
{"a":1}
{"a":2}
J
}

@test "commit moves on to the next batch, and a second commit is a no-op" {
	three > in.ndjson
	checkpoint read -s s -n 2 in.ndjson > /dev/null
	checkpoint commit -s s
	run checkpoint commit -s s
	assert_success
	assert_output ''
	run checkpoint read -s s in.ndjson
	assert_output '{"a":3}'
}

@test "nothing new means an empty batch" {
	three > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null
	checkpoint commit -s s
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output ''
	run checkpoint status -s s
	assert_output '{"file":"in.ndjson","offset":24,"size":24,"lag":0,"state":"ok","batch":1,"pending":null}'
}

@test "--max-bytes cuts at a line boundary and lets one long line through" {
	three > in.ndjson
	run checkpoint read -s s --max-bytes 12 in.ndjson
	assert_output '{"a":1}'
	checkpoint commit -s s
	run checkpoint read -s s --max-bytes 3 in.ndjson
	assert_output '{"a":2}'
}

@test "an unterminated last line longer than --max-bytes is said too, not passed over" {
	{ printf '{"a":1}\n'; printf '{"b":"%s"' "$(printf 'x%.0s' $(seq 100))"; } > f
	checkpoint read -s s --max-bytes 50 f > /dev/null
	checkpoint commit -s s
	run checkpoint read -s s --max-bytes 50 f
	assert_success
	assert_output 'checkpoint: f: an unterminated last line (107 bytes at offset 8) is left for a later batch; it is read once its newline is written'
}

@test "a folder is read in name order and new files are picked up later" {
	mkdir d
	echo '{"f":"b"}' > d/b.ndjson
	echo '{"f":"a"}' > d/a.ndjson
	echo 'x' > d/skip.txt
	run checkpoint read -s s --glob '*.ndjson' d
	assert_output - <<'J'
{"f":"a"}
{"f":"b"}
J
	checkpoint commit -s s
	echo '{"f":"c"}' > d/c.ndjson
	echo '{"f":"a2"}' >> d/a.ndjson
	run checkpoint read -s s --glob '*.ndjson' d
	assert_output - <<'J'
{"f":"a2"}
{"f":"c"}
J
}

@test "run passes the batch number and commits when the command succeeds" {
	three > in.ndjson
	run checkpoint run -s s -n 2 in.ndjson -- sh -c 'echo "batch $IDEM_BATCH"; cat'
	assert_success
	assert_output - <<'J'
batch 1
{"a":1}
{"a":2}
J
	run checkpoint run -s s -n 2 in.ndjson -- sh -c 'echo "batch $IDEM_BATCH"; cat'
	assert_output - <<'J'
batch 2
{"a":3}
J
}

@test "run leaves the batch pending when the command fails" {
	three > in.ndjson
	run checkpoint run -s s -n 2 in.ndjson -- sh -c 'cat > /dev/null; exit 3'
	assert_failure 2
	assert_output 'checkpoint: batch 1: sh exited with status 3; left pending'
	run checkpoint run -s s in.ndjson -- sh -c 'echo "batch $IDEM_BATCH"; cat'
	assert_output - <<'J'
batch 1
{"a":1}
{"a":2}
J
}

@test "run says a command killed by a signal was killed, not that it exited 128 + the signal" {
	three > in.ndjson
	run checkpoint run -s s in.ndjson -- sh -c 'cat > /dev/null; kill -9 $$'
	assert_failure 2
	assert_output 'checkpoint: batch 1: sh was killed by signal 9 (SIGKILL); left pending'
	run checkpoint run -s s in.ndjson -- sh -c 'cat > /dev/null; exit 137'
	assert_failure 2
	assert_output 'checkpoint: batch 1: sh exited with status 137; left pending'
	run checkpoint run -s s in.ndjson -- sh -c 'cat > /dev/null; kill -TERM $$'
	assert_failure 2
	assert_output 'checkpoint: batch 1: sh was killed by signal 15 (SIGTERM); left pending'
}

@test "run --stats says its counts when a batch fails too" {
	three > in.ndjson
	run checkpoint run -s s -n 2 --until-empty --stats in.ndjson -- sh -c 'cat > /dev/null; [ $IDEM_BATCH = 1 ]'
	assert_failure 2
	assert_line -n 0 'checkpoint: batch 2: sh exited with status 1; left pending'
	assert_line -n 1 --regexp '^\{"tool":"checkpoint","records_in":3,"records_out":3,"duplicates":0,"late":0,"dead_lettered":0,"bytes_in":24,"bytes_out":24,"batches":1,"seconds":[0-9.]+\}$'
	run checkpoint status -s s
	assert_output '{"file":"in.ndjson","offset":16,"size":24,"lag":8,"state":"ok","batch":1,"pending":{"batch":2,"end":24,"delivered":false}}'
}

@test "run passes exit 75 on, so a conflict can be retried" {
	three > in.ndjson
	run checkpoint run -s s in.ndjson -- sh -c 'cat >/dev/null; exit 75'
	assert_failure 75
}

@test "run does not commit a batch the command did not read whole" {
	seq 1 100000 | sed 's/.*/{"n":&}/' > in.ndjson
	run checkpoint run -s s in.ndjson -- true
	assert_failure 2
	assert_output 'checkpoint: batch 1: true exited 0 without reading the whole batch; left pending (--allow-unread for a command that may ignore its input)'
}

@test "run refuses a closed standard output: the command's output would be lost, its exit 0 all the same" {
	three > in.ndjson
	run sh -c "checkpoint run -s s in.ndjson -- sh -c 'cat; true' >&-"
	assert_failure 2
	assert_output "checkpoint: standard output is closed: what sh writes there would be lost, and it may exit 0 all the same; give it /dev/null to discard it"
	run checkpoint run -s s in.ndjson -- wc -l
	assert_success
	assert_output 3
}

@test "commit by hand after a run whose command failed says so, and commits nothing" {
	three > in.ndjson
	run checkpoint run -s s in.ndjson -- false
	assert_failure 2
	refused "checkpoint: s: batch 1 was not delivered whole (its last read was cut short: a closed pipe, a failed write, a kill; or its run's command failed, or did not take it all); nothing committed: 'checkpoint read' gives the same batch again" checkpoint commit -s s
}

@test "run --until-empty repeats batches until nothing is left" {
	three > in.ndjson
	run checkpoint run -s s -n 1 --until-empty in.ndjson -- sh -c 'printf "%s " "$IDEM_BATCH"; cat'
	assert_success
	assert_output - <<'J'
1 {"a":1}
2 {"a":2}
3 {"a":3}
J
}

@test "run --until-empty without a FILE or DIR is refused before a pending batch runs, not after it is committed" {
	three > in.ndjson
	checkpoint read -s s -n 1 in.ndjson > /dev/null
	run checkpoint run -s s --until-empty -- sh -c 'cat >> out'
	assert_failure 2
	assert_line -n 0 "checkpoint: run: --until-empty reads until no new line is left: name the FILE|DIR to read"
	[ ! -e out ]
	run checkpoint status -s s
	assert_output '{"file":"in.ndjson","offset":0,"size":24,"lag":24,"state":"ok","batch":0,"pending":{"batch":1,"end":8,"delivered":true}}'
	# without --until-empty, the pending batch alone goes again
	run checkpoint run -s s -- cat
	assert_success
	assert_output '{"a":1}'
}

@test "a rotated file is finished from its new name before the new file" {
	three > app.log
	checkpoint read -s s -n 1 app.log > /dev/null
	checkpoint commit -s s
	mv app.log app.log.1
	echo '{"new":1}' > app.log
	run checkpoint read -s s app.log
	assert_success
	assert_output - <<'J'
checkpoint: app.log: rotated; finishing the old file as app.log.1 first
{"a":2}
{"a":3}
{"new":1}
J
}

@test "a rotated file that is gone is reported with its unread bytes" {
	three > app.log
	echo keep > other
	checkpoint read -s s -n 1 app.log > /dev/null
	checkpoint commit -s s
	cp other new && mv app.log other && rm other
	echo '{"new":1}' > new && mv new app.log
	run checkpoint read -s s app.log
	assert_output - <<'J'
checkpoint: app.log: rotated, and the old file is gone with at least 16 unread bytes
{"new":1}
J
}

@test "a new file on a reused inode is noticed by its first bytes" {
	three > app.log
	checkpoint read -s s -n 1 app.log > /dev/null
	checkpoint commit -s s
	printf '{"new":1}\n{"new":2}\n' > app.log
	run checkpoint read -s s app.log
	assert_output - <<'J'
checkpoint: app.log: replaced (its first bytes changed); 16 unread bytes of the old content are lost; reading it from the start
{"new":1}
{"new":2}
J
}

@test "a truncated file is read again from the start, with a warning" {
	three > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null
	checkpoint commit -s s
	truncate -s 8 in.ndjson
	run checkpoint read -s s in.ndjson
	assert_output - <<'J'
checkpoint: in.ndjson: truncated (size 8, committed offset 24); reading it from the start
{"a":1}
J
}

@test "a file truncated with bytes unread says how many it lost, as a replaced one does" {
	three > in.ndjson
	checkpoint read -s s -n 1 in.ndjson > /dev/null
	checkpoint commit -s s
	printf '{}\n' > in.ndjson
	run checkpoint read -s s in.ndjson
	assert_output - <<'J'
checkpoint: in.ndjson: truncated (size 3, committed offset 8); 16 unread bytes of the old content are lost; reading it from the start
{}
J
}

@test "a pending batch whose file was rewritten is refused, not replayed wrong" {
	three > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null
	printf '{"z":1}\n{"z":2}\n{"z":3}\n' > in.ndjson
	run checkpoint read -s s in.ndjson
	assert_failure 2
	assert_output "checkpoint: in.ndjson: truncated or rewritten since batch 1 was read; it cannot be replayed ('checkpoint reset' to drop it)"
}

@test "a pending batch whose file was rewritten in place, same size and line ends, is refused, not replayed with other bytes" {
	# past the first 1024 bytes, one digit changes: size, inode and
	# every line end stay
	for i in $(seq 10 59); do printf '{"n":%d,"pad":"xxxxxxxxxx"}\n' $i; done > f
	run sh -c 'checkpoint read -s s f | tail -n 1'
	assert_output '{"n":59,"pad":"xxxxxxxxxx"}'
	sed 's/"n":59/"n":99/' f > f.new
	cat f.new > f
	run checkpoint read -s s f
	assert_failure 2
	assert_output "checkpoint: f: rewritten since batch 1 was read (bytes 0 to 1400 are not the ones handed out); it cannot be replayed ('checkpoint reset' to drop it)"
	run checkpoint run -s s f -- cat
	assert_failure 2
	assert_output "checkpoint: f: rewritten since batch 1 was read (bytes 0 to 1400 are not the ones handed out); it cannot be replayed ('checkpoint reset' to drop it)"
	# the bytes back as they were: the replay goes out
	sed 's/"n":99/"n":59/' f > f.new
	cat f.new > f
	run sh -c 'checkpoint run -s s f -- wc -l'
	assert_success
	assert_output 50
}

@test "status says a pending batch rewritten in place or cut within it is rewritten, as the read that refuses it" {
	for i in $(seq 10 59); do printf '{"n":%d,"pad":"xxxxxxxxxx"}\n' $i; done > f
	checkpoint read -s s f > /dev/null
	cp f orig
	sed 's/"n":59/"n":99/' orig > new
	cat new > f
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"f","offset":0,"size":1400,"lag":1400,"state":"rewritten","batch":0,"pending":{"batch":1,"end":1400,"delivered":true}}'
	# cut at a line end inside the batch
	head -c 1372 orig > f
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"f","offset":0,"size":1372,"lag":1372,"state":"rewritten","batch":0,"pending":{"batch":1,"end":1400,"delivered":true}}'
	# the bytes back as they were, and more after them
	cat orig > f
	echo '{"n":60,"pad":"xxxxxxxxxx"}' >> f
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"f","offset":0,"size":1428,"lag":1428,"state":"ok","batch":0,"pending":{"batch":1,"end":1400,"delivered":true}}'
}

@test "status says a pending batch whose file was renamed away and is gone is missing, as the read that refuses it" {
	printf '{"n":1}\n{"n":2}\n' > f
	checkpoint read -s s f > /dev/null
	mkdir other
	mv f other/f
	printf '{"n":3}\n' > f
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"f","offset":0,"size":8,"lag":8,"state":"missing","batch":0,"pending":{"batch":1,"end":16,"delivered":true}}'
	run checkpoint read -s s f
	assert_failure 2
	assert_output "checkpoint: f: gone since batch 1 was read; it cannot be replayed ('checkpoint reset' to drop it)"
	# renamed beside it, the batch is there to replay: rotated
	mv other/f f.1
	run checkpoint status -s s
	assert_output '{"file":"f","offset":0,"size":8,"lag":24,"state":"rotated","batch":0,"pending":{"batch":1,"end":16,"delivered":true}}'
}

@test "status prints offset, size and lag per source" {
	three > in.ndjson
	checkpoint read -s s -n 1 in.ndjson > /dev/null
	checkpoint commit -s s
	run checkpoint status -s s
	assert_output '{"file":"in.ndjson","offset":8,"size":24,"lag":16,"state":"ok","batch":1,"pending":null}'
}

@test "reset --to start, --to end and --to OFFSET move the offsets" {
	three > in.ndjson
	checkpoint reset -s s --to end in.ndjson
	run checkpoint read -s s in.ndjson
	assert_output ''
	checkpoint reset -s s --to 16 in.ndjson
	run checkpoint read -s s in.ndjson
	assert_output '{"a":3}'
	run checkpoint reset -s s --to start
	assert_output 'checkpoint: pending batch 1 dropped'
	run checkpoint run -s s in.ndjson -- sh -c 'echo "$IDEM_BATCH"; wc -l'
	assert_output - <<'J'
2
3
J
}

@test "reset refuses an offset inside a line" {
	three > in.ndjson
	run checkpoint reset -s s --to 3 in.ndjson
	assert_failure 2
	assert_output 'checkpoint: in.ndjson: offset 3 is not the start of a line'
	refused 'checkpoint: in.ndjson: offset 100 is past its end (size 24)' checkpoint reset -s s --to 100 in.ndjson
}

@test "reset refuses a signed, blank, hex or too large offset at once" {
	three > in.ndjson
	refused "checkpoint: --to: want start, end or a byte offset, got ' -1'" checkpoint reset -s s --to ' -1' in.ndjson
	refused "checkpoint: --to: want start, end or a byte offset, got '+8'" checkpoint reset -s s --to '+8' in.ndjson
	refused "checkpoint: --to: want start, end or a byte offset, got ''" checkpoint reset -s s --to '' in.ndjson
	refused "checkpoint: --to: not a whole number: '8x'" checkpoint reset -s s --to 8x in.ndjson
	refused "checkpoint: --to: not a whole number: '0x10'" checkpoint reset -s s --to 0x10 in.ndjson
	refused "checkpoint: --to: too large: '18446744073709551616'" checkpoint reset -s s --to 18446744073709551616 in.ndjson
	[ ! -e s ]
}

@test "a damaged state file is refused" {
	three > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null
	printf 'X' | dd of=s bs=1 seek=40 conv=notrunc 2>/dev/null
	run checkpoint commit -s s
	assert_failure 2
	assert_output --partial 'checksum'
}

@test "a held state exits 75" {
	three > in.ndjson
	run checkpoint run -s s in.ndjson -- sh -c 'checkpoint status -s s; echo "inner $?"; cat >/dev/null'
	assert_success
	assert_output - <<'J'
checkpoint: s: locked by another process; try again later
inner 75
J
}

@test "empty input, a missing file and a missing verb are handled" {
	: > empty
	run checkpoint read -s s empty
	assert_success
	assert_output ''
	run checkpoint read -s s nope
	assert_failure 2
	assert_output 'checkpoint: nope: No such file or directory'
	run checkpoint
	assert_failure 2
}

@test "status counts an unterminated last line in the lag, which a read leaves" {
	printf '{"a":1}\n{"a":' > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null 2>&1
	checkpoint commit -s s
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"in.ndjson","offset":8,"size":13,"lag":5,"state":"ok","batch":1,"pending":null}'
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output 'checkpoint: in.ndjson: an unterminated last line (5 bytes at offset 8) is left for a later batch; it is read once its newline is written'
}

@test "status, and reset of every source, of a state that does not exist are refused, not an empty answer" {
	refused "checkpoint: typo.ckpt: no such state (no read or reset made it; a wrong name?); no source to show" checkpoint status -s typo.ckpt
	refused "checkpoint: typo.ckpt: no such state (no read or reset made it; a wrong name?); nothing reset (name the sources to start a state at --to)" checkpoint reset -s typo.ckpt --to start
	run ls
	assert_output ''
	# naming the sources starts one, as the man page's example does
	printf '{"a":1}\n' > in.ndjson
	run checkpoint reset -s s --to end in.ndjson
	assert_success
	run checkpoint status -s s
	assert_success
	assert_output '{"file":"in.ndjson","offset":8,"size":8,"lag":0,"state":"ok","batch":0,"pending":null}'
}

@test "commit of a state that does not exist is refused, not a commit of nothing" {
	refused "checkpoint: typo.ckpt: no such state (no read or reset made it; a wrong name?); nothing committed" checkpoint commit -s typo.ckpt
	run ls
	assert_output ''
	printf '{"a":1}\n' > in.ndjson
	checkpoint read -s s in.ndjson > /dev/null
	run checkpoint commit -s s
	assert_success
}

@test "a torn last line cut off by its writer is no replacement: no line read twice" {
	printf '{"a":1}\n{"a":' > in.ndjson
	checkpoint read -s s in.ndjson 2> /dev/null
	checkpoint commit -s s
	# the writer restarts: cuts its torn line, writes another
	truncate -s 8 in.ndjson
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output ''
	printf '{"b":9}\n' >> in.ndjson
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output '{"b":9}'
	checkpoint commit -s s
	# a reset to the end of a file with a torn line: the same
	printf '{"c":1}\n{"c":' > r.ndjson
	checkpoint reset -s s2 --to end r.ndjson
	truncate -s 8 r.ndjson
	printf '{"d":2}\n' >> r.ndjson
	run checkpoint read -s s2 r.ndjson
	assert_success
	assert_output '{"d":2}'
}

@test "a read refused for a file rewritten since leaves a batch delivered before committable, as checkpoint(1) says" {
	three > in.ndjson
	checkpoint read -s s in.ndjson > out
	# the job is done with out; the file is rewritten before the commit
	printf '{"b":1}\n' > in.ndjson
	refused "checkpoint: in.ndjson: truncated or rewritten since batch 1 was read; it cannot be replayed ('checkpoint reset' to drop it)" checkpoint read -s s in.ndjson
	run sh -c 'checkpoint status -s s | jq -c .pending.delivered'
	assert_output true
	checkpoint commit -s s
	run checkpoint read -s s in.ndjson
	assert_success
	assert_output - <<-'E'
	checkpoint: in.ndjson: truncated (size 8, committed offset 24); reading it from the start
	{"b":1}
	E
}

@test "a zstd file is refused: offsets are byte offsets" {
	three | zstd -q > in.zst
	run checkpoint read -s s in.zst
	assert_failure 2
	assert_output "checkpoint: in.zst: zstd-compressed; checkpoint needs plain files (offsets are byte offsets)"
}

@test "a batch that fits in the pipe is not delivered to a reader that left it there (| head -c 10)" {
	three > in.ndjson
	# every write succeeds (the pipe holds the batch), but head takes
	# 10 bytes and goes: the rest never reached anyone
	run bash -c 'set -o pipefail; checkpoint read -s s in.ndjson | head -c 10'
	assert_failure 141
	assert_output '{"a":1}
{"'
	refused "checkpoint: s: batch 1 was not delivered whole (its last read was cut short: a closed pipe, a failed write, a kill; or its run's command failed, or did not take it all); nothing committed: 'checkpoint read' gives the same batch again" checkpoint commit -s s
	# a reader slower than the read, which takes it all, gets it
	checkpoint read -s s in.ndjson | { sleep 0.3; cat; } > out
	checkpoint commit -s s
	cmp out in.ndjson
}

@test "run commits no batch whose command's output a pipe's reader left unread (| head -c 5)" {
	three > in.ndjson
	run bash -c 'set -o pipefail; checkpoint run -s s in.ndjson -- cat 2> err | head -c 5'
	assert_failure 2
	assert_output '{"a":'
	run cat err
	assert_output 'checkpoint: batch 1: cat exited 0, but the reader of standard output left some of its output unread in the pipe; left pending'
	run sh -c 'checkpoint status -s s | jq -c .pending'
	assert_output '{"batch":1,"end":24,"delivered":false}'
	checkpoint run -s s in.ndjson -- cat | { sleep 0.3; cat; } > out
	cmp out in.ndjson
	run sh -c 'checkpoint status -s s | jq -c "[.offset,.pending]"'
	assert_output '[24,null]'
}

@test "run commits no batch whose command exits 0 after its output found the reader gone (sh -c 'cat; true' | ...)" {
	three > in.ndjson
	# the reader closes its end, then the command's cat meets SIGPIPE,
	# and its shell exits 0 all the same
	run bash -c "checkpoint run -s s in.ndjson -- sh -c 'while [ ! -e gone ]; do sleep 0.01; done; cat; true' 2> err | sh -c 'exec 0<&-; touch gone'; echo \${PIPESTATUS[0]}"
	assert_output 2
	run cat err
	assert_output 'checkpoint: batch 1: sh exited 0, but the reader of standard output has gone: what sh wrote there may not have reached it; left pending'
	run sh -c 'checkpoint status -s s | jq -c "[.offset,.pending]"'
	assert_output '[0,{"batch":1,"end":24,"delivered":false}]'
}

@test "commit refuses a batch whose read was cut short; a whole read then commits it" {
	mkdir d
	printf '{"id":%d}\n' $(seq 1 20000) > d/a.ndjson
	refused="checkpoint: ck: batch 1 was not delivered whole (its last read was cut short: a closed pipe, a failed write, a kill; or its run's command failed, or did not take it all); nothing committed: 'checkpoint read' gives the same batch again"
	run reader_gone checkpoint read -s ck d
	assert_output -13
	# SIGPIPE blocked: the write fails with EPIPE, and the read says
	# so by its status too
	READER_GONE_BLOCK=1 run reader_gone checkpoint read -s ck d
	assert_output 2
	if [ -w /dev/full ]; then
		run sh -c 'checkpoint read -s ck d > /dev/full'
		assert_failure 2
	fi
	run checkpoint commit -s ck
	assert_failure 2
	assert_output "$refused"
	# status says so before a commit is tried
	run sh -c 'checkpoint status -s ck | jq -c .pending'
	assert_output '{"batch":1,"end":248894,"delivered":false}'
	checkpoint read -s ck d > out
	cmp out d/a.ndjson
	run sh -c 'checkpoint status -s ck | jq -c .pending'
	assert_output '{"batch":1,"end":248894,"delivered":true}'
	# read again and cut short: this reader did not get it either
	run reader_gone checkpoint read -s ck d
	assert_output -13
	run checkpoint commit -s ck
	assert_failure 2
	assert_output "$refused"
	checkpoint read -s ck d | cmp - d/a.ndjson
	run checkpoint commit -s ck
	assert_success
	assert_output ''
	run checkpoint status -s ck
	assert_output '{"file":"d/a.ndjson","offset":248894,"size":248894,"lag":0,"state":"ok","batch":1,"pending":null}'
}

@test "read refuses a standard output that is one of its sources" {
	mkdir d
	printf '{"id":1}\n' > d/a.ndjson
	run sh -c 'checkpoint read -s ck d >> d/a.ndjson'
	assert_failure 2
	assert_output 'checkpoint: standard output is also a source (d/a.ndjson): a file written while it is read loses or repeats records; name another'
	run sh -c 'checkpoint read -s ck d > d/out.ndjson'
	assert_failure 2
	assert_output 'checkpoint: standard output is also a source (d/out.ndjson): a file written while it is read loses or repeats records; name another'
	rm d/out.ndjson
	run checkpoint read -s ck d
	assert_success
	assert_output '{"id":1}'
}

@test "run refuses a standard output that is one of its sources: its command's output would be read back without end" {
	printf '{"a":1}\n' > f
	run sh -c 'timeout 5 checkpoint run -s ck --until-empty f -- cat >> f'
	assert_failure 2
	assert_output 'checkpoint: standard output is also a source (f): a file written while it is read loses or repeats records; name another'
	mkdir d
	printf '{"b":1}\n' > d/x
	run sh -c 'timeout 5 checkpoint run -s ck2 --until-empty d -- cat > d/y'
	assert_failure 2
	assert_output 'checkpoint: standard output is also a source (d/y): a file written while it is read loses or repeats records; name another'
	run cat f
	assert_output '{"a":1}'
}

@test "a state given as - is refused, not kept in a file called -" {
	echo '{"a":1}' > f
	for verb in read status commit; do
		run checkpoint $verb -s - $([ $verb = read ] && echo f)
		assert_failure 2
		assert_output "checkpoint: -s -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	done
	run ls -- - -.lock
	assert_failure
}

@test "a long file rewritten in place past its first bytes is read again, not resumed mid-line" {
	# the first 1024 bytes (what identifies it) stay; the rest changes
	for i in $(seq 1 100); do printf '{"n":%d,"pad":"xxxxxxxxxx"}\n' $i; done > f
	checkpoint read -s s f > /dev/null
	checkpoint commit -s s
	{ head -c 1100 f; for i in 1 2; do printf '{"m":%d}\n' $i; done; } > f.new
	{ cat f.new; for i in $(seq 3 100); do printf '{"m":%d,"pad":"yyyyyyyyyyyyyyyy"}\n' $i; done; } > f.new2
	cat f.new2 > f
	run sh -c 'checkpoint status -s s | jq -r .state'
	assert_output truncated
	run sh -c 'checkpoint read -s s f 2>&1 >/dev/null'
	assert_output "checkpoint: f: rewritten (no line ends before its committed offset 2792); reading it from the start"
	run sh -c 'checkpoint read -s s f 2>/dev/null | head -n 1'
	assert_output '{"n":1,"pad":"xxxxxxxxxx"}'
	# a pending batch of it is refused the same way
	checkpoint reset -s s --to start f
	checkpoint read -s s f > /dev/null
	{ head -c 1100 f; printf '{"q":1}\n'; tail -c +1101 f; } > f.new3
	cat f.new3 > f
	run checkpoint read -s s f
	assert_failure 2
	assert_output "checkpoint: f: truncated or rewritten since batch 3 was read; it cannot be replayed ('checkpoint reset' to drop it)"
}

@test "a pending batch goes out again whatever the call names, and a source it does not name is said" {
	echo '{"a":1}' > a
	echo '{"b":1}' > b
	checkpoint read -s st a > /dev/null
	run checkpoint read -s st b
	assert_success
	assert_output - <<-'E'
	checkpoint: a: not named in this call, but its lines are in batch 1, pending since an earlier call: emitted again with it ('checkpoint reset' drops it)
	{"a":1}
	E
	# named by another name, or by its folder: nothing to say
	run checkpoint read -s st ./a
	assert_output '{"a":1}'
	run checkpoint read -s st "$PWD"
	assert_output '{"a":1}'
	checkpoint commit -s st
	run checkpoint read -s st b
	assert_output - <<-'E'
	checkpoint: a: a known source not named in this call; left at offset 8 of 8
	{"b":1}
	E
	checkpoint commit -s st
	# a file rotated away is named by the name it was rotated from
	echo '{"a":2}' >> a
	mv a a.1
	echo '{"a":3}' > a
	checkpoint read -s st a b > /dev/null 2>&1
	run checkpoint read -s st ./a b
	assert_success
	assert_output - <<-'E'
	{"a":2}
	{"a":3}
	E
}
