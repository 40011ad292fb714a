#!/usr/bin/env bats
# checkpoint: sources known by identity, folders, options per verb.

load helpers

@test "every verb refuses an option that does not apply to it" {
	run checkpoint status -s s --until-empty
	assert_failure 2
	assert_output - <<'E'
checkpoint: status: --until-empty does not apply to status (it is run's)
Usage: checkpoint status -s STATE
Try 'checkpoint status --help' for more information.
E
	run checkpoint commit -s s --stats
	assert_failure 2
	assert_line -n 0 "checkpoint: commit: --stats does not apply to commit (it is read's and run's)"
	run checkpoint read -s s --to start f
	assert_failure 2
	assert_line -n 0 "checkpoint: read: --to does not apply to read (it is reset's)"
	run checkpoint reset -s s --to start -n 3
	assert_failure 2
	assert_line -n 0 "checkpoint: reset: --max-records does not apply to reset (it is read's and run's)"
	assert_line -n 1 'Usage: checkpoint reset -s STATE --to start|end|OFFSET [--glob PATTERN] [FILE|DIR]...'
	[ ! -e s ]
}

@test "a near miss of an option or a verb gets a did-you-mean" {
	run checkpoint run -s s --until-emty f -- true
	assert_failure 2
	assert_line -n 0 "checkpoint: run: unknown option '--until-emty'; did you mean '--until-empty'?"
	run checkpoint stauts -s s
	assert_failure 2
	assert_line -n 0 "checkpoint: unknown verb 'stauts'; did you mean 'status'?"
	run checkpoint read -s s -q f
	assert_failure 2
	assert_line -n 0 "checkpoint: read: unknown option '-q'"
	run checkpoint read -s
	assert_failure 2
	assert_line -n 0 'checkpoint: read: -s needs an argument'
}

@test "reading an empty folder is an empty batch" {
	mkdir d
	run checkpoint read -s s d
	assert_success
	assert_output ''
	run checkpoint run -s s --until-empty d -- cat
	assert_success
	assert_output ''
}

@test "folder mode skips symlinks, saying so, and never reads through them" {
	mkdir d outside
	echo '{"secret":1}' > outside/x
	echo '{"a":1}' > d/a
	ln -s ../outside/x d/b
	run checkpoint read -s s d
	assert_success
	assert_output - <<'E'
checkpoint: d/b: a symbolic link; skipped (only a folder's own files are read; name the target to read it)
{"a":1}
E
}

@test "reset of every source forgets a deleted one and then drops the batch, as it says" {
	echo '{"a":1}' > a
	echo '{"b":1}' > b
	checkpoint read -s s a b > /dev/null
	rm b
	run checkpoint reset -s s --to start
	assert_success
	assert_output - <<'E'
checkpoint: b: gone; removed from the state
checkpoint: pending batch 1 dropped
E
	run checkpoint status -s s
	assert_output '{"file":"a","offset":0,"size":8,"lag":8,"state":"ok","batch":0,"pending":null}'
	run checkpoint read -s s a
	assert_success
	assert_output '{"a":1}'
}

@test "two rotations between batches: the old file is finished, the middle one read whole, then the new one" {
	printf '{"a":%d}\n' 1 2 3 > app.log
	checkpoint read -s s -n 1 app.log > /dev/null
	checkpoint commit -s s
	mv app.log app.log.1
	printf '{"b":%d}\n' 1 2 > app.log
	mv app.log.1 app.log.2
	mv app.log app.log.1
	echo '{"c":1}' > app.log
	run checkpoint read -s s app.log
	assert_success
	assert_output - <<'E'
checkpoint: app.log: rotated; finishing the old file as app.log.2 first
checkpoint: app.log: rotated more than once; reading app.log.1, a rotation no call has read, in full
{"a":2}
{"a":3}
{"b":1}
{"b":2}
{"c":1}
E
	checkpoint commit -s s
	# a writer still holding the rotated file open: its late lines are read
	echo '{"b":3}' >> app.log.1
	echo '{"c":2}' >> app.log
	run checkpoint read -s s app.log
	assert_output - <<'E'
{"b":3}
{"c":2}
E
	checkpoint commit -s s
	run checkpoint read -s s app.log
	assert_success
	assert_output ''
}

@test "a rotated file gone with its successors unknown: nothing guessed, all said" {
	echo '{"x":1}' > x.log
	checkpoint read -s s x.log > /dev/null
	checkpoint commit -s s
	mkdir away # moved out of the folder (not removed: no inode reuse)
	mv x.log away/x.log.1
	echo '{"y":1}' > x.log.2
	echo '{"z":1}' > x.log
	run checkpoint read -s s x.log
	assert_success
	assert_output - <<'E'
checkpoint: x.log: rotated, and the old file is gone (read to offset 8; anything written to it later was not read)
checkpoint: x.log: x.log.2 not read: no call saw it, and with the old file gone its place in the rotation is unknown; name it to read it
{"z":1}
E
}

@test "a source left out of a call is kept and said, and goes on where it stopped" {
	printf '{"a":%d}\n' 1 2 > a
	printf '{"b":%d}\n' 1 2 > b
	checkpoint read -s s a b > /dev/null
	checkpoint commit -s s
	echo '{"a":3}' >> a
	echo '{"b":3}' >> b
	run checkpoint read -s s a
	assert_success
	assert_output - <<'E'
checkpoint: b: a known source not named in this call; left at offset 16 of 24
{"a":3}
E
	checkpoint commit -s s
	run checkpoint read -s s b
	assert_output - <<'E'
checkpoint: a: a known source not named in this call; left at offset 24 of 24
{"b":3}
E
}

@test "one file is read once per call, however it is named (twice, a hard link)" {
	printf '{"a":%d}\n' 1 2 > a
	ln a a2
	run checkpoint read -s s a a a2
	assert_success
	assert_output - <<'E'
checkpoint: a: named twice; read once
checkpoint: a2: the same file as a (a hard link or a second name); read once
{"a":1}
{"a":2}
E
	checkpoint commit -s s
	run checkpoint run -s s --until-empty a2 a -- cat
	assert_success
	assert_output 'checkpoint: a: the same file as a2 (a hard link or a second name); read once'
}

@test "run --until-empty reads each file of a folder once, and files added meanwhile at the end" {
	mkdir d
	echo '{"a":1}' > d/a
	printf '{"b":1}\n{"b":2}\n' > d/b
	run checkpoint run -s s -n 1 --until-empty d -- sh -c 'cat >> out; [ -e d/c ] || echo "{\"c\":1}" > d/c'
	assert_success
	assert_output ''
	run cat out
	assert_output - <<'E'
{"a":1}
{"b":1}
{"b":2}
{"c":1}
E
	run checkpoint status -s s
	assert_line -n 0 '{"file":"d/a","offset":8,"size":8,"lag":0,"state":"ok","batch":4,"pending":null}'
	assert_line -n 2 '{"file":"d/c","offset":8,"size":8,"lag":0,"state":"ok","batch":4,"pending":null}'
}

@test "a file replaced by a rename with the old content and more says the old part is read again" {
	printf '{"a":%d}\n' 1 2 > f.ndjson
	checkpoint read -s s f.ndjson > /dev/null
	checkpoint commit -s s
	printf '{"a":%d}\n' 1 2 3 > tmp
	mv tmp f.ndjson
	run checkpoint read -s s f.ndjson
	assert_success
	assert_output - <<'E'
checkpoint: f.ndjson: rotated, and the old file is gone (read to offset 16; anything written to it later was not read)
checkpoint: f.ndjson: the new file starts with the 16 bytes read from the old one (rewritten and renamed?): read from its start, they are read again
{"a":1}
{"a":2}
{"a":3}
E
	checkpoint commit -s s
	# a new file of other content is only the rotation it is
	echo '{"b":1}' > tmp
	mv tmp f.ndjson
	run checkpoint read -s s f.ndjson
	assert_success
	assert_output - <<'E'
checkpoint: f.ndjson: rotated, and the old file is gone (read to offset 24; anything written to it later was not read)
{"b":1}
E
}

@test "--glob with no folder among the sources is refused, not passed over" {
	echo '{"a":1}' > f.ndjson
	mkdir d
	for verb in read run reset; do
		case $verb in
		read) args="read -s s --glob *.x f.ndjson" ;;
		run) args="run -s s --glob *.x f.ndjson -- cat" ;;
		reset) args="reset -s s --to start --glob *.x" ;;
		esac
		run checkpoint $args
		assert_failure 2
		assert_output "checkpoint: --glob *.x: no source named is a folder, and --glob chooses among a folder's files; name a folder, or leave --glob out"
	done
	run checkpoint read -s s --glob '*.ndjson' f.ndjson d
	assert_success
	assert_output '{"a":1}'
}

@test "with a batch pending, a call is refused as without one: --glob with no folder, '-', a pipe" {
	echo '{"a":1}' > f.ndjson
	run checkpoint read -s s f.ndjson
	assert_success
	for args in "read -s s --glob *.x f.ndjson" "run -s s --glob *.x f.ndjson -- cat"; do
		run checkpoint $args
		assert_failure 2
		assert_output "checkpoint: --glob *.x: no source named is a folder, and --glob chooses among a folder's files; name a folder, or leave --glob out"
	done
	run checkpoint read -s s -
	assert_failure 2
	assert_output "checkpoint: -: standard input has no offsets to keep; checkpoint keeps byte offsets of regular files (./- for one called -)"
	run checkpoint read -s s /dev/null
	assert_failure 2
	assert_output "checkpoint: /dev/null: not a regular file (a pipe or a device); checkpoint keeps byte offsets of regular files"
	# the batch is still pending, and goes out again when asked right
	run checkpoint read -s s f.ndjson
	assert_success
	assert_output '{"a":1}'
	# a name no longer there is left to the replay, which knows its sources
	mv f.ndjson g.ndjson
	run checkpoint read -s s f.ndjson
	assert_success
	assert_line '{"a":1}'
}

@test "a state kept in the folder it reads is refused, not read as records; --glob may leave it out" {
	mkdir d
	echo '{"a":1}' > d/f.ndjson
	run checkpoint read -s d/st d
	assert_failure 2
	assert_output "checkpoint: d/st.lock: the lock of the state d/st is among the sources; keep the state out of the folders read (or choose the files with --glob)"
	run checkpoint read -s d/st --glob '*.ndjson' d
	assert_success
	assert_output '{"a":1}'
	checkpoint commit -s d/st
	run checkpoint read -s d/st d/f.ndjson d/st
	assert_failure 2
	assert_output "checkpoint: d/st: the state file is among the sources: its own bytes would be read as records; keep it out of the folders read (or choose the files with --glob)"
}

@test "run --until-empty notices a file truncated and written past its offset between batches" {
	printf '{"old":%d}\n' 1 2 3 4 > f.ndjson
	# batch 1 takes 20 bytes; then the file is cut and refilled in place
	# (copytruncate) with more than that, a newline at byte 20 as well
	cat > step.sh <<'S'
cat >> out
if [ "$IDEM_BATCH" = 1 ]; then
	: > f.ndjson
	printf '{"new":%d}\n' 1 2 3 4 5 >> f.ndjson
fi
S
	run checkpoint run -s s -n 2 --until-empty f.ndjson -- sh step.sh
	assert_success
	assert_output 'checkpoint: f.ndjson: replaced (its first bytes changed); 20 unread bytes of the old content are lost; reading it from the start'
	run cat out
	assert_output - <<'E'
{"old":1}
{"old":2}
{"new":1}
{"new":2}
{"new":3}
{"new":4}
{"new":5}
E
}

@test "run --until-empty notices a file rewritten past its first bytes between batches" {
	long=$(printf 'x%.0s' $(seq 1100))
	printf '{"p":"%s"}\n{"a":1}\n' "$long" > f.ndjson
	# batch 1 is the long line (1109 bytes); then the file is rewritten
	# in place, its first KiB kept, its first line longer, so no line
	# ends where batch 1 did
	cat > step.sh <<'S'
cat >> out
if [ "$IDEM_BATCH" = 1 ]; then
	python3 -c '
b = open("f.ndjson", "rb").read()
open("f.ndjson", "wb").write(b[:1100] + b"xxxxxxxxxxxx\"}\n{\"b\":1}\n")'
fi
S
	run checkpoint run -s s -n 1 --until-empty f.ndjson -- sh step.sh
	assert_success
	assert_output 'checkpoint: f.ndjson: rewritten (no line ends before its committed offset 1109); reading it from the start'
	run cut -c 1-8,1100- out
	assert_output - <<'E'
{"p":"xxxxxxxxx"}
{"p":"xxxxxxxxxxxxxxx"}
{"b":1}
E
}

@test "reset moves a known source whatever name reaches it (./f, a hard link), not a second entry" {
	printf '{"id":%d}\n' 1 2 3 > f.ndjson
	checkpoint read -s s f.ndjson > /dev/null
	checkpoint commit -s s
	run checkpoint reset -s s --to start ./f.ndjson
	assert_success
	assert_output ''
	run checkpoint status -s s
	assert_output '{"file":"./f.ndjson","offset":0,"size":27,"lag":27,"state":"ok","batch":1,"pending":null}'
	run checkpoint read -s s f.ndjson
	assert_success
	assert_output - <<'E'
{"id":1}
{"id":2}
{"id":3}
E
	checkpoint commit -s s
	ln f.ndjson link.ndjson
	run checkpoint reset -s s --to 9 link.ndjson
	assert_success
	run checkpoint read -s s f.ndjson
	assert_success
	assert_output - <<'E'
{"id":2}
{"id":3}
E
}

@test "reset after a rotation moves the new file and keeps the old one, rotated beside it, as a source: its unread lines are not dropped" {
	printf '{"n":%d}\n' 1 2 > app.log
	checkpoint read -s s -n 1 app.log > /dev/null
	checkpoint commit -s s
	printf '{"n":3}\n' >> app.log
	mv app.log app.log.1
	printf '{"n":%d}\n' 10 11 > app.log
	cp s s.before
	cp app.log app.log.before
	# named: the new file moves; the old one keeps its offset
	run checkpoint reset -s s --to end app.log
	assert_success
	assert_output 'checkpoint: app.log: rotated; the old file, now app.log.1, keeps its offset 8 (16 bytes unread), to be finished first'
	run checkpoint status -s s
	assert_output - <<'E'
{"file":"app.log.1","offset":8,"size":24,"lag":16,"state":"ok","batch":1,"pending":null}
{"file":"app.log","offset":18,"size":18,"lag":0,"state":"ok","batch":1,"pending":null}
E
	run checkpoint read -s s app.log
	assert_success
	assert_output - <<'E'
{"n":2}
{"n":3}
E
	# every source: both files move, each from its own offset
	for to in end start; do
		cp s.before s
		cat app.log.before > app.log
		run checkpoint reset -s s --to "$to"
		assert_success
		assert_output 'checkpoint: app.log: rotated; moving the old file, now app.log.1, and the new one'
		printf '{"n":12}\n' >> app.log
		run checkpoint read -s s app.log
		assert_success
		case $to in
		end) assert_output '{"n":12}' ;;
		start) assert_output - <<'E'
{"n":1}
{"n":2}
{"n":3}
{"n":10}
{"n":11}
{"n":12}
E
		;;
		esac
		checkpoint commit -s s
	done
}

@test "a pipe or a device named as a source is refused; a folder's own folders and pipes are skipped, said" {
	mkfifo fifo
	refused 'checkpoint: fifo: not a regular file (a pipe or a device); checkpoint keeps byte offsets of regular files' timeout 5 checkpoint read -s s fifo
	run sh -c 'echo "{\"x\":1}" | checkpoint read -s s /dev/stdin'
	assert_failure 2
	assert_output 'checkpoint: /dev/stdin: not a regular file (a pipe or a device); checkpoint keeps byte offsets of regular files'
	refused 'checkpoint: /dev/null: not a regular file (a pipe or a device); checkpoint keeps byte offsets of regular files' checkpoint reset -s s --to start /dev/null
	[ ! -e s ]
	mkdir -p d/sub
	echo '{"a":1}' > d/a
	echo '{"b":1}' > d/sub/b
	mkfifo d/p
	run timeout 5 checkpoint run -s s --until-empty d -- cat
	assert_success
	assert_output - <<'E'
checkpoint: d/p: not a regular file (a pipe or a device); skipped
checkpoint: d/sub: a folder; skipped (a folder's regular files are read, not its folders; name it to read it)
{"a":1}
E
}

@test "a --glob that no name in a folder can match (a '/', nothing) is refused, not a batch of nothing" {
	mkdir d
	echo '{"a":1}' > d/a.ndjson
	refused "checkpoint: --glob 'd/*.ndjson': a pattern for the names of a folder's files, which hold no '/' (name the folder itself: --glob '*.ndjson' d/sub)" checkpoint read -s s --glob 'd/*.ndjson' d
	refused "checkpoint: --glob: an empty pattern matches no file" checkpoint run -s s --glob '' d -- cat
	[ ! -e s ]
}

@test "--glob '.*' reads a folder's hidden files, and takes its . and .. for no folder in it" {
	mkdir d
	echo '{"h":1}' > d/.hidden
	echo '{"a":1}' > d/a
	run checkpoint read -s s --glob '.*' d
	assert_success
	assert_output '{"h":1}'
}

@test "run --until-empty over a folder goes on past a file deleted between batches, saying what it held unread" {
	mkdir d
	printf '{"a":%d}\n' 1 2 3 > d/a
	printf '{"b":%d}\n' 1 2 > d/b
	run checkpoint run -s s -n 2 --until-empty d -- sh -c 'cat >> out; [ "$IDEM_BATCH" != 1 ] || rm d/a'
	assert_success
	assert_output 'checkpoint: d/a: gone with 8 unread bytes'
	run cat out
	assert_output - <<'E'
{"a":1}
{"a":2}
{"b":1}
{"b":2}
E
}

@test "a state whose sources are named relative to its folder is refused from another folder, not read as other files; status looks from its folder" {
	mkdir d1 d2
	printf '{"n":%d}\n' 1 2 > d1/a.ndjson
	echo '{"m":1}' > d2/a.ndjson
	(cd d1 && checkpoint run -s ../st a.ndjson -- cat > /dev/null)
	# from d2, a.ndjson is another file: taken as a rotation, d1's
	# offset was forgotten and its lines read again from d1 later
	cd d2
	refused "checkpoint: ../st: names its sources relative to $BATS_TEST_TMPDIR/d1 (a.ndjson, for one), and this run is in $BATS_TEST_TMPDIR/d2, where they name other files; run it from $BATS_TEST_TMPDIR/d1" \
		checkpoint read -s ../st a.ndjson
	# status only looks: it looks from the state's folder (lag checks
	# from cron), at d1's a.ndjson, not d2's
	echo '{"n":3}' >> ../d1/a.ndjson
	run checkpoint status -s ../st
	assert_success
	assert_output '{"file":"a.ndjson","offset":16,"size":24,"lag":8,"state":"ok","batch":1,"pending":null}'
	# the folder moved is still the folder: it goes on where it stopped
	cd ..
	mv d1 moved
	cd moved
	run checkpoint run -s ../st a.ndjson -- cat
	assert_success
	assert_output '{"n":3}'
	# names given whole reach the same files from anywhere
	cd ..
	checkpoint run -s abs "$PWD/moved/a.ndjson" -- cat > /dev/null
	echo '{"n":4}' >> moved/a.ndjson
	cd d2
	run checkpoint run -s ../abs "$BATS_TEST_TMPDIR/moved/a.ndjson" -- cat
	assert_success
	assert_output '{"n":4}'
}

@test "a rotation is followed whatever spelling names the file (a, ./a): its old file is finished first" {
	printf '{"a":%d}\n' 1 2 > a
	checkpoint read -s st a > /dev/null
	checkpoint commit -s st
	echo '{"a":3}' >> a
	mv a a.1
	echo '{"b":1}' > a
	run checkpoint read -s st ./a
	assert_success
	assert_output - <<-'E'
	checkpoint: ./a: rotated; finishing the old file as ./a.1 first
	{"a":3}
	{"b":1}
	E
}

@test "a file rotated by copytruncate is finished from its copy first: no line lost, none twice, named or in a folder" {
	for how in file folder; do
		rm -rf d st
		mkdir d
		printf '{"n":%d}\n' 1 2 3 > d/f
		src=d/f
		[ "$how" = folder ] && src=d
		checkpoint read -s st "$src" > /dev/null
		checkpoint commit -s st
		# written after the last read, then copied and cut (logrotate)
		printf '{"n":%d}\n' 4 5 >> d/f
		cp d/f d/f.1
		: > d/f
		printf '{"n":6}\n' >> d/f
		run sh -c 'checkpoint status -s st | jq -c "[.file,.lag,.state]"'
		assert_output '["d/f",24,"truncated"]'
		run checkpoint read -s st "$src"
		assert_success
		assert_output - <<-'E'
		checkpoint: d/f: truncated in place (copytruncate?); its old content goes on in d/f.1, which starts as it did: finishing that from offset 24 first, then d/f from the start
		{"n":4}
		{"n":5}
		{"n":6}
		E
		checkpoint commit -s st
		# the next rotation: the old copy moves on, a new one is made
		printf '{"n":7}\n' >> d/f
		mv d/f.1 d/f.2
		cp d/f d/f.1
		: > d/f
		printf '{"n":8}\n' >> d/f
		run checkpoint read -s st "$src"
		assert_success
		assert_output - <<-'E'
		checkpoint: d/f: replaced in place (copytruncate?); its old content goes on in d/f.1, which starts as it did: finishing that from offset 8 first, then d/f from the start
		{"n":7}
		{"n":8}
		E
		checkpoint commit -s st
		run checkpoint read -s st "$src"
		assert_success
		assert_output ''
		# two rotations between reads: the copy of what was being
		# read is d/f.2, the one after it d/f.1, read in full next
		printf '{"n":%d}\n' 9 >> d/f
		mv d/f.2 d/f.3
		mv d/f.1 d/f.2
		cp d/f d/f.1
		: > d/f
		printf '{"n":%d}\n' 10 >> d/f
		mv d/f.2 d/f.3
		mv d/f.1 d/f.2
		cp d/f d/f.1
		: > d/f
		printf '{"n":%d}\n' 11 >> d/f
		run sh -c 'checkpoint status -s st | jq -c "select(.file == \"d/f\") | .lag"'
		assert_output 26
		run checkpoint read -s st "$src"
		assert_success
		assert_line 'checkpoint: d/f: replaced in place (copytruncate?); its old content goes on in d/f.2, which starts as it did: finishing that from offset 8 first, then d/f from the start'
		# named, in order; in a folder, a copy on a reused inode (of
		# a copy read before) is read from its start in name order
		sort=cat
		[ "$how" = folder ] && sort='sort -n'
		run sh -c "checkpoint read -s st $src 2> /dev/null | jq -c .n | $sort | paste -sd ' '"
		assert_output '9 10 11'
	done
}

@test "a file rewritten in place at its size with its mtime set back (cp -p, touch -r) is still seen as replaced" {
	printf '{"a":1}\n{"a":2}\n' > in.ndjson
	touch -d 2026-01-01 in.ndjson
	checkpoint read -s st in.ndjson > /dev/null
	checkpoint commit -s st
	cp -p in.ndjson ref
	printf '{"a":7}\n{"a":8}\n' > in.ndjson
	touch -r ref in.ndjson
	[ "$(stat -c '%s %Y' in.ndjson)" = "$(stat -c '%s %Y' ref)" ]
	run checkpoint read -s st in.ndjson
	assert_success
	assert_output - <<'E'
checkpoint: in.ndjson: replaced (its first bytes changed); reading it from the start
{"a":7}
{"a":8}
E
}

@test "status's lag is what the next read takes: a truncated or rotated file is read from its start" {
	printf '{"a":1}\n{"a":2}\n' > a.ndjson
	printf '{"c":1}\n{"c":2}\n' > c.ndjson
	printf '{"g":1}\n' > g.ndjson
	checkpoint read -s s a.ndjson c.ndjson g.ndjson > /dev/null
	checkpoint commit -s s
	printf '{"a":1}\n' > a.ndjson
	printf '{"c":3}\n' >> c.ndjson
	mv c.ndjson c.ndjson.1
	printf '{"c":4}\n{"c":5}\n' > c.ndjson
	printf '{"g":2}\n' >> g.ndjson
	run checkpoint status -s s
	assert_success
	assert_output - <<'E'
{"file":"a.ndjson","offset":16,"size":8,"lag":8,"state":"truncated","batch":1,"pending":null}
{"file":"c.ndjson","offset":16,"size":16,"lag":24,"state":"rotated","batch":1,"pending":null}
{"file":"g.ndjson","offset":8,"size":16,"lag":8,"state":"ok","batch":1,"pending":null}
E
	run sh -c 'checkpoint read -s s a.ndjson c.ndjson g.ndjson 2> /dev/null | wc -c'
	assert_output 40
}

@test "a rotation inside a folder read is followed: the old file is finished first, in this batch and the next" {
	mkdir logs
	printf '{"a":%d}\n' 1 > logs/app.log
	checkpoint read -s st logs > /dev/null
	checkpoint commit -s st
	printf '{"a":%d}\n' 2 3 >> logs/app.log
	mv logs/app.log logs/app.log.1
	echo '{"b":1}' > logs/app.log
	# name order puts app.log before app.log.1: the new file's lines
	# came out before the old file's unread ones
	run checkpoint read -s st -n 1 logs
	assert_success
	assert_output - <<-'E'
	checkpoint: logs/app.log: rotated; finishing the old file as logs/app.log.1 first
	{"a":2}
	E
	checkpoint commit -s st
	echo '{"b":2}' >> logs/app.log
	run checkpoint read -s st logs
	assert_success
	assert_output - <<-'E'
	{"a":3}
	{"b":1}
	{"b":2}
	E
}

@test "--max-bytes that leaves a line of one source ends the batch: no later source's line comes before it" {
	printf '%s\n' '{"a":"xxxxxxxxxxxx1"}' '{"a":"xxxxxxxxxxxx2"}' > a
	echo '{"b":1}' > b
	run checkpoint read -s st --max-bytes 30 a b
	assert_success
	assert_output '{"a":"xxxxxxxxxxxx1"}'
	checkpoint commit -s st
	run checkpoint read -s st --max-bytes 30 a b
	assert_success
	assert_output - <<-'E'
	{"a":"xxxxxxxxxxxx2"}
	{"b":1}
	E
}

@test "run --until-empty over a folder follows a rotation between its batches: the old file's lines come first" {
	mkdir logs
	printf '{"old":%d}\n' 1 2 3 4 5 > logs/app.log
	touch rotate
	run checkpoint run -s st -n 2 --until-empty logs -- sh -c '
		cat >> out
		if [ -e rotate ]; then
			rm rotate
			mv logs/app.log logs/app.log.1
			printf "{\"new\":%d}\n" 1 2 3 > logs/app.log
		fi'
	assert_success
	assert_output 'checkpoint: logs/app.log: rotated; finishing the old file as logs/app.log.1 first'
	run cat out
	assert_output - <<-'E'
	{"old":1}
	{"old":2}
	{"old":3}
	{"old":4}
	{"old":5}
	{"new":1}
	{"new":2}
	{"new":3}
	E
}

@test "a rotation undone (the old file renamed back) is read once, not twice under two entries" {
	printf '1\n' > app.log
	checkpoint run -s s app.log -- cat > out
	mv app.log app.log.1
	printf 'n1\n' > app.log
	printf '2\n' >> app.log.1
	checkpoint run -s s app.log -- cat >> out 2>/dev/null
	rm app.log
	mv app.log.1 app.log
	printf '3\n' >> app.log
	run checkpoint run -s s app.log -- cat
	assert_success
	assert_output '3'
	run checkpoint status -s s
	assert_output '{"file":"app.log","offset":6,"size":6,"lag":0,"state":"ok","batch":3,"pending":null}'
}

@test "a source named by a symbolic link pointed at another file finishes the old one, beside its new target, and flipping back reads nothing twice" {
	mkdir a
	printf '1\n2\n' > a/f1
	printf 'x\n' > a/f2
	ln -s a/f1 cur
	checkpoint run -s s cur -- cat > out
	printf '3\n' >> a/f1
	ln -sfn a/f2 cur
	run checkpoint run -s s cur -- cat
	assert_success
	assert_output - <<E
checkpoint: cur: rotated; finishing the old file as $PWD/a/f1 first
3
x
E
	printf '4\n' >> a/f1
	printf 'y\n' >> a/f2
	ln -sfn a/f1 cur
	checkpoint run -s s cur -- cat >> out 2>/dev/null
	ln -sfn a/f2 cur
	checkpoint run -s s cur -- cat >> out 2>/dev/null
	run cat out
	assert_output - <<'E'
1
2
4
y
E
}

@test "a batch pending on a file named by a symbolic link is replayed after the link points at another file" {
	mkdir a
	printf '1\n2\n' > a/f1
	printf 'x\n' > a/f2
	ln -s a/f1 cur
	run checkpoint run -s s cur -- sh -c 'cat > /dev/null; exit 1'
	assert_failure 2
	ln -sfn a/f2 cur
	run checkpoint status -s s
	assert_output '{"file":"cur","offset":0,"size":2,"lag":6,"state":"rotated","batch":0,"pending":{"batch":1,"end":4,"delivered":false}}'
	run checkpoint run -s s --until-empty cur -- cat
	assert_success
	assert_output - <<E
1
2
checkpoint: cur: rotated; finishing the old file as $PWD/a/f1 first
x
E
}
