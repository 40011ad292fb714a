#!/usr/bin/env bats
# Scale-out on real hosts: two network namespaces with their own
# addresses, each running a real sshd, driven by GNU parallel -S as
# idem(7) SCALE-OUT says -- partition on the hosts that hold the input,
# move the partitions, run the shards, merge -- and a kill -9 of a shard.
# The answer is one process's, byte for byte.  Needs root (namespaces);
# skips, saying so, where they cannot be made.

load helpers

HOSTS=$BATS_TEST_DIRNAME/scale/hosts.sh

setup_file() {
	local why=
	if [ -n "${IDEM_QUICK:-}" ]; then
		# make test's sanitized pass: what this suite adds over
		# scaleout-partition is hosts, sshd and GNU parallel, whose
		# start-up is nearly all its time (minutes under ASan); the
		# plain pass runs it whole
		why="IDEM_QUICK (sanitized pass): the hosts run in the plain pass"
	elif [ "$(id -u)" != 0 ]; then
		why="not root: network namespaces cannot be made"
	elif [ ! -x /usr/sbin/sshd ]; then
		why="no /usr/sbin/sshd (make deps installs openssh-server)"
	elif ! command -v rsync > /dev/null; then
		why="no rsync (make deps installs it)"
	elif ! ip netns add "idem-probe-$$" 2> /dev/null; then
		why="ip netns add fails here: no network namespaces"
	fi
	ip netns del "idem-probe-$$" 2> /dev/null || true
	if [ -n "$why" ]; then
		echo "$why" > "$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	# teardown_file takes them down; the watchdog too if bats is killed
	IDEM_BIN=$IDEM_BIN "$HOSTS" up "$BATS_FILE_TMPDIR" 2 $$ || return 1
	env_setup
	# Each host holds half of the input, in a folder of its own (the
	# hosts share this filesystem; each reads only its own folder).
	cd "$BATS_FILE_TMPDIR" || return 1
	mkdir -p "$D/host1" "$D/host2"
	"$IDEM_GEN" -n "$(quick 4000 1000)" --late-rate 0.05 > all.ndjson
	half=$(($(wc -l < all.ndjson) / 2))
	head -n "$half" all.ndjson > "$D/host1/orders.ndjson"
	tail -n +"$((half + 1))" all.ndjson > "$D/host2/orders.ndjson"
	# partition on the hosts that hold the input (pinned: 1@a runs on
	# host1) ...
	parallel --will-cite --halt now,fail=1 --hostgroups \
		-S @a/host1,@b/host2 \
		"cd $D/host{} && partition -n 2 -k .order_id -o pk orders.ndjson &&
		 partition -n 2 -g .currency -t .event_time --delay 1m -o pg orders.ndjson" \
		::: 1@a 2@b || return 1
	# ... bring the partitions here (the input crosses the network
	# once), and put partition i of every host together in input order
	for h in host1 host2; do
		rsync -a -e "$PARALLEL_SSH" "$h:$D/$h/pk" "$h:$D/$h/pg" "$h/" ||
			return 1
	done
	for i in 0 1; do
		cat host1/pk/$i.ndjson host2/pk/$i.ndjson > "pk.$i"
		cat host1/pg/$i.ndjson host2/pg/$i.ndjson > "pg.$i"
	done
}

env_setup() {
	export PARALLEL_SSH="ssh -F $BATS_FILE_TMPDIR/ssh.conf"
	D=$BATS_FILE_TMPDIR/data
	P=$BATS_FILE_TMPDIR
}

teardown_file() {
	"$HOSTS" down "$BATS_FILE_TMPDIR"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] || skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	env_setup
}

W="window --tumble 10m -t .event_time -g .currency --agg 'n=count()' --agg 'gmv=sum(.amount)' --lateness 5m"
S='reconcile summarize -k .order_id --sum .amount --by .currency'

@test "dedup, window and reconcile over partitions on two sshd hosts equal one process" {
	[ "$(ssh -F "$BATS_FILE_TMPDIR/ssh.conf" host2 'ip -br -4 addr show eth0' |
		awk '{print $3}')" != "$(ssh -F "$BATS_FILE_TMPDIR/ssh.conf" host1 \
		'ip -br -4 addr show eth0' | awk '{print $3}')" ]
	cp "$P"/pk.* "$P"/pg.* .
	# shard i runs wherever a slot is free: its partitions are sent
	# there, its outputs come back
	parallel --will-cite --halt now,fail=1 -S 1/host1,1/host2 --wd ... \
		--tf 'pk.{}' --tf 'pg.{}' --return 'out.{}' --cleanup \
		"mkdir out.{} && ip -br -4 addr show eth0 > out.{}/host &&
		 dedup -k .order_id --partition {}/2 pk.{} > out.{}/d &&
		 $S --partition {}/2 pk.{} > out.{}/s &&
		 $W --partition {}/2 pg.{} > out.{}/w" ::: 0 1
	[ "$(ls out.*/[dsw] | wc -l)" -eq 6 ]
	# the shards ran on both hosts
	run sh -c 'cat out.*/host | cut -d/ -f1 | sort -u | wc -l'
	assert_output 2

	cat "$D"/host*/orders.ndjson | dedup -k .order_id | sort > want
	sort out.*/d > got
	run cmp want got
	assert_success
	cat "$D"/host*/orders.ndjson | eval "$W --delay 1m" | window merge > want
	window merge out.*/w > got
	run cmp want got
	assert_success
	run grep -c '"timing":"late"' got
	refute_output 0
	cat "$D"/host*/orders.ndjson | $S > want
	reconcile merge out.*/s > got
	run cmp want got
	assert_success
}

@test "a shard killed -9 on its host, re-run, gives one process's answer" {
	ssh=(ssh -F "$P/ssh.conf")
	# shard 0 on host1, with its state there; its partition reaches it
	# through ssh's standard input, the first host's part before the kill
	mkfifo feed
	"${ssh[@]}" host1 "cd $D/host1 && echo \$\$ > shard.pid &&
		exec dedup -k .order_id --partition 0/2 --state st.0 --batch 7 > d.0" \
		< feed &
	client=$!
	exec 8> feed
	cat "$P/host1/pk/0.ndjson" >&8
	for _ in $(seq 100); do
		[ -s "$D/host1/shard.pid" ] && break
		sleep 0.1
	done
	kill -9 "$(cat "$D/host1/shard.pid")"
	exec 8>&-
	run wait "$client"
	assert_failure
	[ ! -e "$D/host1/st.0" ] # nothing committed
	# the re-run of the same batch, then a replay of it once committed
	for run in rerun replay; do
		"${ssh[@]}" host1 "cd $D/host1 &&
			dedup -k .order_id --partition 0/2 --state st.0 --batch 7 > d.0" \
			< "$P/pk.0"
		[ -e "$D/host1/st.0" ]
		cp "$D/host1/d.0" "d.0.$run"
	done
	run cmp d.0.rerun d.0.replay
	assert_success
	"${ssh[@]}" host2 "dedup -k .order_id --partition 1/2" < "$P/pk.1" > d.1
	cat "$D"/host*/orders.ndjson | dedup -k .order_id | sort > want
	sort d.0.rerun d.1 > got
	run cmp want got
	assert_success
}
