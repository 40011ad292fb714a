#!/usr/bin/env bats
# dedup --state under crashes: the state is always the old one or the
# new one, and finishing the job loses no record.

load helpers

keys() {
	jq -r .order_id "$@" | sort -u
}

@test "killed with SIGKILL at random moments: state readable, nothing lost" {
	# 6 runs killed at random moments (3 under ASan, 24 in make
	# reliability) over ever longer prefixes of the first 60000
	# records, then one over the whole
	gen -n 100000 -s 7 > in.ndjson
	: > out.ndjson
	finished=0 trials=$(trials 24 6 3)
	for trial in $(seq 1 "$trials"); do
		head -n $((trial * 60000 / trials)) in.ndjson > part.ndjson
		dedup -k .order_id --state s.idx part.ndjson > run.ndjson &
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 250)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null && finished=$((finished + 1))
		# a reader of a killed writer keeps complete lines only
		if [ -s run.ndjson ] && [ "$(tail -c 1 run.ndjson | wc -l)" = 0 ]; then
			sed '$d' run.ndjson >> out.ndjson
		else
			cat run.ndjson >> out.ndjson
		fi
		# whatever the moment, the state loads (old or new)
		run dedup -k .order_id --state s.idx /dev/null
		assert_success
		[ -z "$(ls s.idx.tmp.* 2>/dev/null | head -n 1)" ] || rm -f s.idx.tmp.*
	done
	echo "# $finished of $trials runs finished before the kill" >&3
	dedup -k .order_id --state s.idx in.ndjson >> out.ndjson
	keys in.ndjson > want
	keys out.ndjson > got
	run cmp want got
	assert_success
	# the finished state knows every key
	run dedup -k .order_id --state s.idx in.ndjson
	assert_success
	assert_output "dedup: $(grep -c . in.ndjson) records dropped: duplicates (--dupes FILE keeps them)"
}

@test "stopped at each step of the state commit: old state or new" {
	printf '{"id":1}\n{"id":2}\n' > a.ndjson
	printf '{"id":2}\n{"id":3}\n' > b.ndjson
	for point in commit.written commit.renamed commit.synced; do
		rm -f s.idx
		dedup -k .id --state s.idx a.ndjson > /dev/null
		run env IDEM_FAULT=$point dedup -k .id --state s.idx b.ndjson
		assert_failure 86
		assert_output '{"id":3}'
		# old state: 3 comes again; new state: nothing does
		run dedup -k .id --state s.idx b.ndjson
		assert_success
		case $point in
		commit.written) assert_output - <<'J'
{"id":3}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
J
		;;
		*) assert_output 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)' ;;
		esac
	done
}
