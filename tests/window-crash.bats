#!/usr/bin/env bats
# window --state under crashes: the state is always the old one or the
# new one, and runs over the parts of a stream, killed and resumed, write
# what one run over the whole stream writes.

load helpers

# --delay 0s: the watermark moves with every record, so runs over the
# parts equal one run over the whole (without it each run is a batch)
args=(--tumble 1h --delay 0s -t .event_time -g .currency --lateness 10m
	--agg 'gmv=sum(.amount)' --agg 'n=count()' --agg 'p=p90(.amount)')

# The state file changes only by rename: a new inode is a new state.
inode() {
	stat -c %i "$1" 2>/dev/null || echo none
}

@test "killed with SIGKILL at random moments: the parts, resumed, write what the whole writes" {
	# 16 parts (6 under ASan: each run there is slower, not different)
	gen -n "$(quick 8000 3000)" -s 9 > in.ndjson
	split -l 500 -d in.ndjson part.
	window "${args[@]}" --state one.st in.ndjson > want
	# kills land within the time one part takes, a little less each
	# time a run beats its kill, a little more each time a kill comes
	# before the commit (a loaded machine makes runs slow, then fast),
	# never under a quarter of the first, so they keep reaching commits
	t0=${EPOCHREALTIME/./}
	window "${args[@]}" --state cal.st part.00 > /dev/null
	range=$(((${EPOCHREALTIME/./} - t0) / 1000 + 1))
	floor=$((range / 4 + 1))
	# a builtin wait (read -t on a pipe that never speaks): sleep(1)
	# would add a fork and an exec to every delay
	exec {nap}<> <(:)
	: > got
	kills=0 attempts=0
	for part in part.*; do
		while :; do
			attempts=$((attempts + 1))
			[ "$attempts" -le 200 ] || fail "no progress at $part"
			before=$(inode w.st)
			window "${args[@]}" --state w.st "$part" > run.out &
			pid=$!
			ms=$((RANDOM % range))
			read -r -t "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" -u "$nap" || true
			kill -9 "$pid" 2>/dev/null || true
			rc=0
			wait "$pid" 2>/dev/null || rc=$?
			if [ "$rc" = 137 ]; then
				kills=$((kills + 1))
				# a kill before the commit: runs are slower than
				# the range thought (load comes and goes); widen it
				# so every part gets through in the end
				[ "$before" != "$(inode w.st)" ] ||
					range=$((range * 5 / 4 + 1))
			elif [ "$range" -gt "$floor" ]; then
				range=$((range * 9 / 10))
			fi
			after=$(inode w.st)
			# whatever the moment, the state loads (old or new)
			run window "${args[@]}" --state w.st /dev/null
			assert_success
			assert_output ''
			# a run's output is flushed before its state commits:
			# a new state vouches for the whole output
			if [ "$rc" = 0 ] || [ "$before" != "$after" ]; then
				cat run.out >> got
				break
			fi
		done
	done
	echo "# $kills kills in $attempts runs" >&3
	[ "$kills" -gt 0 ]
	run cmp want got
	assert_success
}

@test "stopped at each step of the state commit: old state or new" {
	printf '{"t":5}\n{"t":65}\n' > a.ndjson
	printf '{"t":70}\n{"t":130}\n' > b.ndjson
	for point in commit.written commit.renamed commit.synced; do
		rm -f s.st
		window --tumble 1m -t .t --state s.st a.ndjson > /dev/null
		run env IDEM_FAULT=$point window --tumble 1m -t .t --state s.st b.ndjson
		assert_failure 86
		assert_output '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}'
		# old state: b fires its window again; new state: 70 is too
		# late and 130 waits in an open window
		run window --tumble 1m -t .t --state s.st b.ndjson
		assert_success
		case $point in
		commit.written) assert_output '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}' ;;
		*) assert_output 'window: 1 record dropped: too late (--late FILE or --lateness DUR keeps them)' ;;
		esac
	done
}
