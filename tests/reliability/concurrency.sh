#!/usr/bin/env bash
# Concurrency: many processes on one txlog table and on one dead-letter
# file at once; nothing acknowledged is lost or doubled, and the state
# stays readable.  One NDJSON line per test:
#
#   txlog append   16 processes appending; versions contiguous, every
#                  record once, verify clean
#   txlog merge    16 processes upserting their own rows, retrying on 75;
#                  every row holds its writer's last round, verify clean
#   dlq append     12 writers dead-lettering into one file while 2
#                  replayers commit replays and 2 purgers rewrite it;
#                  every entry replayed exactly once
#
# Usage: concurrency.sh [--long]   (longer runs: more rounds per process)
# Environment: IDEM_BIN, IDEM_GEN, CONCURRENCY_PROCS (default 16).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
IDEM_BIN=${IDEM_BIN:-$top/build/bin}
PATH=$IDEM_BIN:$PATH
export LC_ALL=C

procs=${CONCURRENCY_PROCS:-16}
rounds=8 dlq_runs=4
if [ "${1:-}" = --long ]; then
	rounds=60 dlq_runs=25
elif [ $# -gt 0 ]; then
	echo "usage: concurrency.sh [--long]" >&2
	exit 2
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/idem-concurrency.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2

. "$top/tests/reliability/common.sh"
secs() { awk -v ms=$(($(now_ms) - $1)) 'BEGIN { printf "%.1f", ms / 1000 }'; }

schema() {
	cat > s.json <<'EOF'
{"type":"struct","fields":[{"name":"p","type":"long","nullable":true,"metadata":{}},{"name":"i","type":"long","nullable":true,"metadata":{}},{"name":"id","type":"string","nullable":true,"metadata":{}},{"name":"k","type":"string","nullable":true,"metadata":{}}]}
EOF
}

# ---- txlog append: every process its own records, one commit each ----
txlog_append() {
	local t0 p i unread=0 lost dup versions last contiguous=true
	t0=$(now_ms)
	mkdir ta && cd ta || exit 2
	schema
	txlog init t --schema s.json --checkpoint-interval 10 || exit 2
	for p in $(seq 1 "$procs"); do
		(
			for i in $(seq 1 "$rounds"); do
				echo "{\"p\":$p,\"i\":$i}" | txlog append t 2> /dev/null ||
					echo "$p $i" >> failed
			done
		) &
	done
	wait
	for p in $(seq 1 "$procs"); do
		for i in $(seq 1 "$rounds"); do echo "{\"p\":$p,\"i\":$i}"; done
	done > want
	txlog cat t > got 2> /dev/null || unread=$((unread + 1))
	txlog verify t > /dev/null 2>&1 || unread=$((unread + 1))
	read -r lost dup < <(compare want got)
	# version N+1 for every commit, none missing
	versions=$(ls t/_delta_log | grep -c '^[0-9]\{20\}\.json$')
	last=$(ls t/_delta_log | grep '^[0-9]\{20\}\.json$' | tail -n 1)
	[ "$versions" = $((procs * rounds + 1)) ] &&
		[ "$last" = "$(printf '%020d.json' $((procs * rounds)))" ] ||
		contiguous=false
	printf '{"check":"concurrency","test":"txlog append","processes":%d,"commits":%d,"failed":%d,"versions_contiguous":%s,"lost":%d,"duplicated":%d,"unreadable":%d,"seconds":%s}\n' \
		"$procs" $((versions - 1)) "$(cat failed 2> /dev/null | wc -l)" \
		"$contiguous" "$lost" "$dup" "$unread" "$(secs "$t0")"
	cd "$W" && rm -rf ta
}

# ---- txlog merge: upserts racing on one table, retried on 75 ----
txlog_merge() {
	local t0 p r unread=0 lost dup conflicts gaveup
	t0=$(now_ms)
	mkdir tm && cd tm || exit 2
	schema
	txlog init t --schema s.json --partition-by p --checkpoint-interval 10 || exit 2
	# ids sort by writer ("p03-i0007"), so the key statistics of one
	# writer's files do not overlap another's: conflicts come from the
	# log, not from every writer reading every file
	id() { printf 'p%02d-i%04d' "$1" "$2"; }
	for p in $(seq 1 "$procs"); do
		for i in 1 2 3 4; do echo "{\"p\":$p,\"i\":$i,\"id\":\"$(id $p $i)\",\"k\":\"r0\"}"; done
	done | txlog append t || exit 2
	for p in $(seq 1 "$procs"); do
		(
			for r in $(seq 1 "$rounds"); do
				# round r: rows 1 and 2 updated, row 4+r inserted
				printf '{"p":%d,"i":1,"id":"%s","k":"r%d"}\n{"p":%d,"i":2,"id":"%s","k":"r%d"}\n{"p":%d,"i":%d,"id":"%s","k":"r%d"}\n' \
					"$p" "$(id $p 1)" "$r" "$p" "$(id $p 2)" "$r" \
					"$p" $((4 + r)) "$(id $p $((4 + r)))" "$r" > "in.$p"
				tries=0
				until txlog merge t -k .id "in.$p" 2> /dev/null; do
					rc=$?
					tries=$((tries + 1))
					[ "$rc" = 75 ] && [ "$tries" -lt 500 ] || {
						echo "$p $r $rc" >> gaveup
						break
					}
					echo "$p" >> conflicts
				done
			done
		) &
	done
	wait
	for p in $(seq 1 "$procs"); do
		echo "{\"p\":$p,\"i\":1,\"id\":\"$(id $p 1)\",\"k\":\"r$rounds\"}"
		echo "{\"p\":$p,\"i\":2,\"id\":\"$(id $p 2)\",\"k\":\"r$rounds\"}"
		for i in 3 4; do echo "{\"p\":$p,\"i\":$i,\"id\":\"$(id $p $i)\",\"k\":\"r0\"}"; done
		for r in $(seq 1 "$rounds"); do
			echo "{\"p\":$p,\"i\":$((4 + r)),\"id\":\"$(id $p $((4 + r)))\",\"k\":\"r$r\"}"
		done
	done > want
	txlog cat t > got 2> /dev/null || unread=$((unread + 1))
	txlog verify t > /dev/null 2>&1 || unread=$((unread + 1))
	read -r lost dup < <(compare want got)
	conflicts=$(cat conflicts 2> /dev/null | wc -l)
	gaveup=$(cat gaveup 2> /dev/null | wc -l)
	printf '{"check":"concurrency","test":"txlog merge","processes":%d,"merges":%d,"conflicts_retried":%d,"gave_up":%d,"lost":%d,"duplicated":%d,"unreadable":%d,"seconds":%s}\n' \
		"$procs" $((procs * rounds)) "$conflicts" "$gaveup" "$lost" "$dup" \
		"$unread" "$(secs "$t0")"
	cd "$W" && rm -rf tm
}

# ---- dlq: appends, replay commits and purges on one file ----
dlq_append() {
	local t0 w writers=$((procs - 4)) unread=0 lost dup replays purges
	t0=$(now_ms)
	mkdir dq && cd dq || exit 2
	[ "$writers" -ge 1 ] || writers=1
	for w in $(seq 1 "$writers"); do
		seq 1 200 | sed "s/.*/{\"w\":$w,\"n\":&}/" > "in.$w"
	done
	for w in $(seq 1 "$writers"); do
		(
			for r in $(seq 1 "$dlq_runs"); do
				dlq check -e '.n < 0' --dlq q.ndjson "in.$w" > /dev/null 2>&1 ||
					echo "$w $r" >> failed
			done
			echo "$w" >> writers.done
		) &
	done
	# two replayers, two purgers, until every writer is done
	for x in 1 2; do
		(
			while [ "$(cat writers.done 2> /dev/null | wc -l)" -lt "$writers" ]; do
				dlq replay q.ndjson -- sh -c 'cat >> replayed' 2> /dev/null &&
					echo r >> replays
				sleep 0.05
			done
		) &
		(
			while [ "$(cat writers.done 2> /dev/null | wc -l)" -lt "$writers" ]; do
				dlq purge --older-than 1h q.ndjson 2> /dev/null &&
					echo p >> purges
				sleep 0.05
			done
		) &
	done
	wait
	dlq stats q.ndjson > /dev/null 2>&1 || unread=$((unread + 1))
	dlq replay q.ndjson -- sh -c 'cat >> replayed' 2> /dev/null || unread=$((unread + 1))
	for r in $(seq 1 "$dlq_runs"); do cat in.*; done > want
	read -r lost dup < <(compare want replayed)
	replays=$(cat replays 2> /dev/null | wc -l)
	purges=$(cat purges 2> /dev/null | wc -l)
	printf '{"check":"concurrency","test":"dlq append+replay+purge","processes":%d,"writers":%d,"entries":%d,"replay_runs":%d,"purges":%d,"failed_writes":%d,"lost":%d,"duplicated":%d,"unreadable":%d,"seconds":%s}\n' \
		$((writers + 4)) "$writers" "$(wc -l < want)" "$replays" "$purges" \
		"$(cat failed 2> /dev/null | wc -l)" "$lost" "$dup" "$unread" "$(secs "$t0")"
	cd "$W" && rm -rf dq
}

{
	txlog_append
	txlog_merge
	dlq_append
} | tee "$W/lines"
# exit 1 when a test lost, doubled or could not read something
! grep -q -e '"lost":[1-9]' -e '"duplicated":[1-9]' -e '"unreadable":[1-9]' \
	-e '"failed":[1-9]' -e '"gave_up":[1-9]' -e '"failed_writes":[1-9]' \
	-e '"versions_contiguous":false' "$W/lines"
