#!/usr/bin/env bats
# checkpoint run under SIGKILL: every record lands in exactly one
# committed batch, and a replayed batch is the same bytes as its first
# attempt.

load helpers

# The sink keeps every attempt of every batch as attempts/BATCH.PID.
sink() {
	cat > "$1/sink" <<'S'
#!/bin/sh
cat > attempts/.$IDEM_BATCH.$$ && mv attempts/.$IDEM_BATCH.$$ attempts/$IDEM_BATCH.$$
S
	chmod +x "$1/sink"
}

@test "killed with SIGKILL at random moments (20 trials; 5 under ASan, 100 in make reliability): exactly once, replays identical" {
	# 50 batches of 50 (10 under ASan)
	n=$(quick 2500 500)
	gen -n "$n" -s 5 > in.ndjson
	mkdir attempts
	sink .
	finished=0
	trials=$(trials 100 20 5)
	for trial in $(seq 1 "$trials"); do
		checkpoint run -s st -n 50 --until-empty in.ndjson -- ./sink 2>/dev/null &
		pid=$!
		sleep "0.0$(printf '%02d' $((RANDOM % 40)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null && finished=$((finished + 1))
		# whatever the moment, the state loads (old or new)
		# (75: the killed run's command, forked but not yet exec'd,
		# still held the lock for an instant)
		# (none yet: killed before its first commit, and status
		# refuses a state that does not exist)
		rc=0
		for try in 1 2 3 4 5; do
			[ -e st ] || break
			checkpoint status -s st > /dev/null 2>&1 && rc=0 || rc=$?
			[ "$rc" = 75 ] || break
			sleep 0.05
		done
		[ "$rc" = 0 ] || fail "state unreadable after trial $trial (exit $rc)"
	done
	sleep 0.2 # orphaned sinks finish their attempt
	run checkpoint run -s st -n 50 --until-empty in.ndjson -- ./sink
	assert_success
	echo "# $finished of $trials runs finished before the kill" >&3
	last=$(checkpoint status -s st | jq .batch)
	[ "$last" = $((n / 50)) ]
	: > delivered
	for b in $(seq 1 "$last"); do
		# the longest attempt is the committed batch; every other
		# attempt is that same batch, or a prefix cut by the kill
		longest=$(ls -S attempts/"$b".* | head -n 1)
		for a in attempts/"$b".*; do
			cmp -s "$a" "$longest" && continue
			cmp -n "$(wc -c < "$a")" "$a" "$longest" ||
				fail "batch $b: attempt $a is not a prefix of $longest"
		done
		cat "$longest" >> delivered
	done
	run cmp in.ndjson delivered
	assert_success
}

@test "stopped at each step of the state commit: old state or new" {
	printf '{"a":1}\n{"a":2}\n' > in.ndjson
	# a read lists the sources, so it writes a snapshot; a commit
	# appends a record to its log
	for point in commit.written commit.renamed commit.synced \
		log.written log.synced; do
		rm -f st
		case $point in
		commit.*)
			run env IDEM_FAULT=$point checkpoint read -s st -n 1 in.ndjson
			assert_failure 86
			assert_output ''
			# a batch planned and never delivered is not committed
			run checkpoint commit -s st
			if [ $point = commit.written ]; then
				# stopped before the state's first rename
				assert_failure 2
				assert_output 'checkpoint: st: no such state (no read or reset made it; a wrong name?); nothing committed'
			else
				assert_failure 2
				assert_output "checkpoint: st: batch 1 was not delivered whole (its last read was cut short: a closed pipe, a failed write, a kill; or its run's command failed, or did not take it all); nothing committed: 'checkpoint read' gives the same batch again"
			fi ;;
		*)
			checkpoint read -s st -n 1 in.ndjson > /dev/null
			run env IDEM_FAULT=$point checkpoint commit -s st
			assert_failure 86 ;;
		esac
		run checkpoint read -s st -n 1 in.ndjson
		assert_success
		case $point in
		commit.*) assert_output '{"a":1}' ;;
		*) assert_output '{"a":2}' ;;
		esac
	done
}

@test "a commit cut short in the state's log is dropped, said, and its batch replayed" {
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.ndjson
	checkpoint read -s st -n 1 in.ndjson > /dev/null
	full=$(wc -c < st)
	checkpoint commit -s st
	rec=$(($(wc -c < st) - full))
	[ "$rec" -gt 12 ]
	# the record loses its last bytes (a crash before fdatasync)
	truncate -s $(($(wc -c < st) - 3)) st
	run checkpoint read -s st -n 1 in.ndjson
	assert_success
	assert_output "checkpoint: st: the last $((rec - 3)) bytes are an unfinished commit (a run stopped while writing it, before acting on it); ignored
{\"a\":1}"
	# the next record goes where the whole ones end
	checkpoint commit -s st
	run checkpoint read -s st -n 1 in.ndjson
	assert_success
	assert_output '{"a":2}'
	# a flipped byte inside the snapshot is damage, refused
	printf 'X' | dd of=st bs=1 seek=40 conv=notrunc 2>/dev/null
	run checkpoint status -s st
	assert_failure 2
	assert_output --partial 'checksum mismatch'
}

@test "a flipped byte in a log record with a commit after it is refused, not taken for a crash and undone" {
	printf '{"a":1}\n{"a":2}\n' > in.ndjson
	checkpoint read -s st in.ndjson > /dev/null
	checkpoint commit -s st
	# the snapshot, then the read's records and the commit's: a crash
	# cuts only the last, so a bad first one with whole ones after it
	# is damage; dropping them would hand batch 1 out again
	cp st good
	at=$((32 + $(od -An -tu8 -j 24 -N8 st | tr -d ' ') + 8))
	printf 'X' | dd of=st bs=1 seek=$((at + 6)) conv=notrunc 2>/dev/null
	cp st flipped
	refused "checkpoint: st: damaged state: the log record at byte $at fails its checksum, and whole records follow it (a crash cuts only the last); refusing it" \
		checkpoint read -s st in.ndjson
	cmp st flipped
	# so is a flipped length field, which makes the record look cut
	# short (longer than the file) or misplaces its checksum
	for b in 3 0; do
		cp good st
		printf '\177' | dd of=st bs=1 seek=$((at + b)) conv=notrunc 2>/dev/null
		refused "checkpoint: st: damaged state: the log record at byte $at is not whole, and a whole record follows it (a crash cuts only the last); refusing it" \
			checkpoint status -s st
	done
	# the last record flipped is what a crash can leave: dropped, said
	cp good st
	printf 'X' | dd of=st bs=1 seek=$(($(wc -c < st) - 9)) conv=notrunc 2>/dev/null
	run checkpoint status -s st
	assert_success
	assert_line -n 0 --partial 'are an unfinished commit'
}

@test "a folder of growing, rotated logs read in random bounds under SIGKILL (seeded): every line once, each log in order" {
	for seed in $(seq 1 "$(trials 40 8 2)"); do
		rotations_in_order "$seed" ||
			fail "seed $seed: a line lost, doubled or out of order (its folder: t$seed)"
	done
}

# One seeded trial in its own folder: two logs written in lines (the
# last one sometimes unended), rotated logrotate-style (app.log ->
# app.log.1 -> app.log.2) once a bounded batch has listed them, read by
# checkpoint run with random -n/--max-bytes and killed at random.
rotations_in_order() {
	local seed=$1 d="t$1" i k b pid log
	RANDOM=$seed
	mkdir "$d" "$d/logs" "$d/out"
	cat > "$d/sink" <<'S'
#!/bin/sh
cat > out/.$IDEM_BATCH.$$ && mv out/.$IDEM_BATCH.$$ out/$IDEM_BATCH
S
	chmod +x "$d/sink"
	declare -A n=([app]=0 [web]=0) open=([app]=0 [web]=0) rot=([app]=0 [web]=0)
	(
	cd "$d" || exit 1
	# 75: a killed run's command, forked but not yet exec'd, may hold
	# the lock for an instant
	ckrun() {
		local rc try
		for try in $(seq 1 40); do
			checkpoint run -s st "$@" -- ./sink 2>/dev/null && return 0 ||
				rc=$?
			[ "$rc" = 75 ] || return "$rc"
			sleep 0.05
		done
		return "$rc"
	}
	bounds() {
		case $((RANDOM % 4)) in
		0) printf '%s\n' '-n 2' ;; 1) printf '%s\n' '--max-bytes 40' ;;
		2) printf '%s\n' '-n 3 --max-bytes 100' ;;
		3) printf '%s\n' '--max-bytes 1' ;;
		esac
	}
	for step in $(seq 1 30); do
		log=$([ $((RANDOM % 2)) = 0 ] && echo app || echo web)
		case $((RANDOM % 5)) in
		0 | 1)
			[ "${open[$log]}" = 1 ] && echo >> "logs/$log.log"
			for k in $(seq 1 $((RANDOM % 4 + 1))); do
				n[$log]=$((n[$log] + 1))
				printf '%s %d %*s' "$log" "${n[$log]}" $((RANDOM % 30)) '' >> "logs/$log.log"
				echo >> "logs/$log.log"
			done
			# sometimes the writer is mid-line
			open[$log]=0
			if [ $((RANDOM % 3)) = 0 ]; then
				n[$log]=$((n[$log] + 1))
				printf '%s %d' "$log" "${n[$log]}" >> "logs/$log.log"
				open[$log]=1
			fi
			;;
		2)
			[ -e "logs/$log.log" ] || continue
			# a bounded batch lists it (the first may replay a
			# killed run's batch, which lists nothing), then it is
			# rotated: a file no call listed has no place in its
			# rotation, and a folder's files go in name order
			ckrun $(bounds) logs && ckrun $(bounds) logs || exit 1
			[ "${open[$log]}" = 1 ] && echo >> "logs/$log.log"
			open[$log]=0
			for ((i = rot[$log]; i >= 1; i--)); do
				mv "logs/$log.log.$i" "logs/$log.log.$((i + 1))"
			done
			mv "logs/$log.log" "logs/$log.log.1"
			: > "logs/$log.log"
			rot[$log]=$((rot[$log] + 1))
			;;
		*)
			checkpoint run -s st $(bounds) --until-empty logs -- ./sink 2>/dev/null &
			pid=$!
			sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
			kill -9 "$pid" 2>/dev/null || :
			wait "$pid" 2>/dev/null || :
			;;
		esac
	done
	for log in app web; do
		[ "${open[$log]}" = 1 ] && echo >> "logs/$log.log"
	done
	sleep 0.1 # a killed run's sink ends with it
	ckrun --until-empty logs || exit 1
	for b in $(ls out | sort -n); do cat "out/$b"; done > delivered
	for log in app web; do
		[ "$(grep -c "^$log " delivered)" = "${n[$log]}" ] || exit 1
		grep "^$log " delivered | cut -d' ' -f2 | sort -nc || exit 1
		[ "$(grep "^$log " delivered | cut -d' ' -f2 | uniq -d)" = '' ] || exit 1
	done
	)
}
