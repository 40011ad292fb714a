#!/usr/bin/env bash
# Crash points: every state-changing command of the toolkit, run as a job
# of several steps, SIGKILLed at random moments and stopped at every fault
# point of the atomic commit (IDEM_FAULT, lib/fault.h), then resumed to
# completion the way an operator would, and compared with a clean run of
# the same job.  One NDJSON line per command:
#
#   {"check":"crash","command":"dedup --state","kills":80,"faults":3,
#    "jobs":9,"lost":0,"duplicated":0,"unreadable":0,...}
#
# kills: runs that SIGKILL stopped while they ran (a run that finished
#   before its kill is not counted); faults: runs stopped at a fault
#   point (every point, every Nth time the step reaches it, until the step
#   no longer reaches it); lost/duplicated: records of the clean run's
#   result missing from, or extra in, the resumed job's result;
#   unreadable: states the tool's own reader refused after a kill.
#
# The consumer side follows each tool's documented protocol: the output of
# a run that writes before it commits its state (dedup, window) is kept
# when the state moved (a new inode) or the run exited 0; checkpoint read
# output is kept when read exited 0, then committed; dlq replay's command
# output when the replay committed; txlog steps are retried until they
# exit 0 (--txn makes appends idempotent; the others are idempotent by
# nature).  A killed dlq check is run again over its input, so the entries
# its killed run appended come twice: that is the documented at-least-once
# of an append-only file, reported as "redelivered", and every such entry
# must be a whole, expected envelope.  Its letters are 9 KB, and after a
# kill the last one is cut at a page boundary, as a SIGKILL inside its
# write(2) would: "torn" counts the kills that left a cut letter, which
# the next run must cut off.  The -slow
# commands feed a command whose grandchild does the work; each process
# of it must die with the killed tool (lib/feed.h), or it counts as a
# duplicate.
#
# Usage: crash.sh [COMMAND...]  (dedup window checkpoint-read
#   checkpoint-commit checkpoint-run checkpoint-run-slow dlq-check
#   dlq-replay dlq-replay-slow dlq-replay-commit
#   dlq-purge txlog-append txlog-overwrite txlog-merge txlog-delete
#   txlog-checkpoint txlog-vacuum txlog-optimize; default all)
# Environment: RELIABILITY=short|full (default full; short stops each
#   point at its 3rd hit in a step, full goes on while the step reaches it),
#   CRASH_KILLS (kills per command), CRASH_FAULT_HITS (hits of each fault
#   point stopped at, short 3, full 64), CRASH_FAULT_SAMPLE=N (a sample:
#   the points' hits in an order drawn from the seed, each point's in
#   ascending order, until N of them stopped a job; unset: every hit of
#   every point, the sweep), CRASH_JOBS
#   (commands run at once, default 2), CRASH_SEED (the same seed draws
#   the same sample), IDEM_BIN, IDEM_GEN.  Each line's stopped_at lists
#   the pairs that stopped a job.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
IDEM_BIN=${IDEM_BIN:-$top/build/bin}
IDEM_GEN=${IDEM_GEN:-$top/build/bin-test/gen}
PATH=$IDEM_BIN:$PATH
export LC_ALL=C

case ${RELIABILITY:-full} in
short) kills_per=${CRASH_KILLS:-15} fault_hits=${CRASH_FAULT_HITS:-3} ;;
full) kills_per=${CRASH_KILLS:-80} fault_hits=${CRASH_FAULT_HITS:-64} ;;
*) echo "crash.sh: RELIABILITY is short or full" >&2; exit 2 ;;
esac
fault_sample=${CRASH_FAULT_SAMPLE:-}
case $fault_sample in
'' | [1-9] | [1-9][0-9]) ;;
*) echo "crash.sh: CRASH_FAULT_SAMPLE is a number of fault stops, 1 to 99" >&2; exit 2 ;;
esac
seed=${CRASH_SEED:-$$}
RANDOM=$seed
FAULT_POINTS="commit.written commit.renamed commit.synced commit.linked
	log.written log.synced"
FAULT_EXIT=86

W=$(mktemp -d "${TMPDIR:-/tmp}/idem-crash.XXXXXX") || exit 2
# the lanes go with the run (an interrupted run leaves no orphan writing
# into a removed folder)
# A job that lost or doubled something is kept for a post-mortem: with
# CRASH_KEEP=DIR, W is moved there instead of removed.
trap 'kill $(jobs -p) 2> /dev/null
	if [ -n "${CRASH_KEEP:-}" ] && ls -d "$W"/job.* > /dev/null 2>&1; then
		rm -rf "$CRASH_KEEP" && mv "$W" "$CRASH_KEEP" &&
			echo "crash.sh: failed jobs kept in $CRASH_KEEP" >&2
	else
		rm -rf "$W"
	fi' EXIT

. "$top/tests/reliability/common.sh"

# Waiting before a kill costs no fork either: read -t on a pipe that
# never speaks.
exec {nap_fd}<> <(:)
nap_ms() { read -r -t "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" -u "$nap_fd"; }

# sig FILE: the identity of a file that changes only by rename: its inode.
sig() { stat -c %i "$1" 2>/dev/null || echo none; }

note() { echo "crash.sh: $cmd: $*" >&2; }

# ---- shared inputs ----

# A job is NSTEPS runs, each over a part of the input.
NSTEPS=4
make_inputs() {
	"$IDEM_GEN" -n 8000 -s 11 --dup-rate 0.3 > "$W/orders.ndjson" &&
	"$IDEM_GEN" -n 2000 -s 12 --dup-rate 0 > "$W/rows.ndjson" || exit 2
	awk -v d="$W" '{ print > (d "/part." int((NR - 1) / 2000 + 1)) }' "$W/orders.ndjson"
	# dlq check's parts: the records it dead-letters carry 9 KB, so each
	# letter is one write(2) across page boundaries, which a SIGKILL can
	# cut (a torn letter; dlq_check_settle makes it happen)
	local k pad
	pad=$(head -c 9000 /dev/zero | tr '\0' x)
	for k in $(seq 1 "$NSTEPS"); do
		awk -v pad="$pad" '/"amount":(1?[0-9](\.[0-9]*)?|-[0-9.]*),/ {
			sub(/^\{/, "{\"pad\":\"" pad "\",") } { print }' \
			"$W/part.$k" > "$W/big.$k"
	done
	awk -v d="$W" '{ print > (d "/rows." int((NR - 1) / 500 + 1)) }' "$W/rows.ndjson"
}

# ==== the commands ====
# For each command C: C_setup (in the job folder), C_pre I (clean work
# before step I, once), C_step I (the run under test: must end in exec,
# so that its pid is the tool's), C_settle I RC (the operator's reaction:
# returns 0 to go to the next step, 1 to retry this one, 2 when the job is
# done), C_read (the tool's reader: 0 if the state loads), C_result
# (the job's result, one record a line).

# ---- dedup --state: six runs over six parts ----
dedup_setup() { : > got; }
dedup_step() { exec dedup -k .order_id --state s.idx "$W/part.$1" > "out.$attempt"; }
dedup_post_attempt() { post_sig=$(sig s.idx); }
dedup_settle() {
	if [ "$2" = 0 ] || [ "$post_sig" != "$pre_sig" ]; then
		cat "out.$attempt" >> got
		[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
	fi
	return 1
}
dedup_pre_attempt() { pre_sig=$(sig s.idx); }
dedup_read() { dedup -k .order_id --state s.idx /dev/null > /dev/null; }
dedup_result() { cat got; }

# ---- window --state: the same, aggregating ----
WOPTS=(--tumble 1h -t .event_time -g .currency --agg 'gmv=sum(.amount)' --agg 'n=count()' --lateness 10m)
window_setup() { : > got; }
window_pre_attempt() { pre_sig=$(sig w.st); }
window_step() { exec window "${WOPTS[@]}" --state w.st "$W/part.$1" > "out.$attempt"; }
window_post_attempt() { post_sig=$(sig w.st); }
window_settle() {
	if [ "$2" = 0 ] || [ "$post_sig" != "$pre_sig" ]; then
		cat "out.$attempt" >> got
		[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
	fi
	return 1
}
window_read() { window "${WOPTS[@]}" --state w.st /dev/null > /dev/null; }
window_result() { cat got; }

# ---- checkpoint read: batches of 3000, each committed when read says 0 ----
checkpoint_read_setup() { : > got; }
checkpoint_read_step() { exec checkpoint read -s st -n 1500 "$W/orders.ndjson" > "out.$attempt"; }
checkpoint_read_settle() {
	[ "$2" = 0 ] || return 1
	[ -s "out.$attempt" ] || return 2
	cat "out.$attempt" >> got
	checkpoint commit -s st || note "commit after read failed"
	return 0
}
# No state yet (killed before its first save) is the state before the
# first batch: status refuses a state that does not exist (a wrong name).
checkpoint_read_read() { [ ! -e st ] || checkpoint status -s st > /dev/null; }
checkpoint_read_result() { cat got; }

# ---- checkpoint commit: the commit killed, then run again ----
checkpoint_commit_setup() { : > got; }
checkpoint_commit_pre() {
	checkpoint read -s st -n 1500 "$W/orders.ndjson" > batch || note "read failed"
	cat batch >> got
}
checkpoint_commit_step() { exec checkpoint commit -s st; }
checkpoint_commit_settle() {
	[ "$2" = 0 ] || checkpoint commit -s st || note "commit again failed"
	# done when nothing is left to read
	[ "$(checkpoint status -s st | jq .lag)" = 0 ] && return 2 || return 0
}
checkpoint_commit_read() { [ ! -e st ] || checkpoint status -s st > /dev/null; }
checkpoint_commit_result() { cat got; }

# ---- checkpoint run: a sink that keeps every attempt of every batch ----
checkpoint_run_setup() {
	mkdir attempts
	cat > sink <<'S'
#!/bin/sh
cat > attempts/.$IDEM_BATCH.$$ && mv attempts/.$IDEM_BATCH.$$ attempts/$IDEM_BATCH.$$
S
	chmod +x sink
}
checkpoint_run_fault_attempt=1 # one run does the whole job
checkpoint_run_step() { exec checkpoint run -s st -n 2000 --until-empty "$W/orders.ndjson" -- ./sink 2> /dev/null; }
checkpoint_run_settle() {
	[ "$2" = 0 ] && return 2
	return 1
}
# 75: the killed run's sink, forked but not yet exec'd, held the lock
checkpoint_run_read() {
	local rc try
	[ -e st ] || return 0 # killed before its first save
	for try in 1 2 3 4 5 6 7 8; do
		checkpoint status -s st > /dev/null 2>&1 && return 0 || rc=$?
		[ "$rc" = 75 ] || return 1
		sleep 0.05
	done
	return 1
}
# Each committed batch: its longest attempt; every other attempt must be
# that batch again or a prefix of it cut by the kill, else it counts as
# a duplicate (a replay that was not the same bytes).
checkpoint_run_result() {
	local last b a longest
	last=$(checkpoint status -s st | jq -s 'map(.batch) | max')
	for b in $(seq 1 "$last"); do
		longest=$(ls -S attempts/"$b".* 2> /dev/null | head -n 1)
		[ -n "$longest" ] || continue
		for a in attempts/"$b".*; do
			cmp -s "$a" "$longest" && continue
			cmp -s -n "$(wc -c < "$a")" "$a" "$longest" ||
				{ note "batch $b: $a not a prefix"; cat "$a"; }
		done
		cat "$longest"
	done
}

# ---- dlq check --dlq: the DLQ writer ----
dlq_check_setup() { : > good; : > bad.ndjson; : > excl; redelivered=0 torn=0; }
dlq_check_pre_attempt() { pre_lines=$(wc -l < bad.ndjson); }
dlq_check_step() { exec dlq check -e '.amount >= 20' --dlq bad.ndjson "$W/big.$1" > "out.$attempt"; }
dlq_check_settle() {
	if [ "$2" = 0 ]; then
		cat "out.$attempt" >> good
		[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
	fi
	local n size start cut
	n=$(wc -l < bad.ndjson)
	# What a SIGKILL between two pages of a letter's write(2) leaves,
	# made to happen, not waited for (a kill rarely lands inside a
	# write): the last letter this run appended, cut at its last page
	# boundary.  The next run must cut it off and write it whole.
	if [ "$n" -gt "$pre_lines" ] && [ "$(tail -c 1 bad.ndjson | wc -l)" = 1 ]; then
		size=$(stat -c %s bad.ndjson)
		start=$((size - $(tail -n 1 bad.ndjson | wc -c)))
		cut=$(((size - 1) / 4096 * 4096))
		if [ "$cut" -gt "$start" ]; then
			truncate -s "$cut" bad.ndjson
			n=$((n - 1))
		fi
	fi
	[ -s bad.ndjson ] && [ "$(tail -c 1 bad.ndjson | wc -l)" = 0 ] &&
		torn=$((torn + 1))
	if [ "$n" -gt "$pre_lines" ]; then
		seq $((pre_lines + 1)) "$n" >> excl
		redelivered=$((redelivered + n - pre_lines))
		# what the killed run appended: whole, expected envelopes
		sed -n "$((pre_lines + 1)),${n}p" bad.ndjson | dlq_canon >> killed_entries
	fi
	return 1
}
dlq_canon() { jq -c '[.source.file, .source.line, .error_type, .original_record]'; }
# a torn last letter is allowed (the next writer cuts it): readers must
# report it and go on
dlq_check_read() { dlq stats bad.ndjson > /dev/null; }
dlq_check_result() {
	sed 's/^/good /' good
	awk 'BEGIN { while ((getline l < "excl") > 0) x[l] } !(FNR in x)' bad.ndjson | dlq_canon
}
dlq_check_extra() {
	local stray=0
	if [ -s killed_entries ]; then
		# an entry a killed run wrote that the clean run never wrote
		stray=$(awk -v want="$W/dlq-check.entries" \
			'BEGIN { while ((getline l < want) > 0) e[l] } !($0 in e)' \
			killed_entries | wc -l)
	fi
	job_dup=$((job_dup + stray))
}

# ---- dlq replay FILE -- CMD: each part's dead letters replayed to a sink ----
dlq_bad_of() { # the dead letters of part $1, made once
	# commands in other lanes share them: made under a lock and renamed
	# into place (two lanes appending to one file doubled its letters)
	[ -e "$W/bad.$1" ] || flock "$W/.bad.lock" sh -c '[ -e "$1" ] || {
		rm -f "$1.tmp" &&
		dlq check -e ".amount >= 20" --dlq "$1.tmp" "$2" > /dev/null &&
		mv "$1.tmp" "$1"; }' sh "$W/bad.$1" "$W/part.$1"
	cat "$W/bad.$1"
}
dlq_replay_setup() {
	mkdir rat
	: > got
	cat > rsink <<'S'
#!/bin/sh
cat > rat/.$ATTEMPT && mv rat/.$ATTEMPT rat/$ATTEMPT
S
	chmod +x rsink
}
dlq_replay_pre() { dlq_bad_of "$1" >> bad.ndjson; }
dlq_replay_step() { export ATTEMPT=$attempt; exec dlq replay bad.ndjson -- ./rsink 2> /dev/null; }
dlq_replay_settle() {
	if [ "$2" = 0 ] || [ ! -s bad.ndjson ]; then
		# committed: its command had read and kept every record
		[ "$2" = 0 ] && [ ! -e "rat/$attempt" ] ||
			cat "rat/$attempt" >> got
		[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
	fi
	return 1
}
dlq_replay_read() { dlq stats bad.ndjson > /dev/null; }
dlq_replay_result() { cat got; jq -c .original_record bad.ndjson; }

# ---- dlq replay FILE > out; dlq replay FILE --commit ----
dlq_replay_commit_setup() { : > got; phase=emit; }
dlq_replay_commit_pre() { dlq_bad_of "$1" >> bad.ndjson; }
dlq_replay_commit_step() {
	if [ "$phase" = emit ]; then
		exec dlq replay bad.ndjson > "out.$attempt" 2> /dev/null
	fi
	exec dlq replay bad.ndjson --commit 2> /dev/null
}
dlq_replay_commit_settle() {
	if [ "$phase" = emit ]; then
		[ "$2" = 0 ] || return 1
		emitted=out.$attempt
		phase=commit
		return 1 # same step, now its commit
	fi
	[ "$2" = 0 ] || return 1 # the commit again
	cat "$emitted" >> got
	phase=emit
	[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
}
dlq_replay_commit_read() { dlq stats bad.ndjson > /dev/null; }
dlq_replay_commit_result() { cat got; jq -c .original_record bad.ndjson; }

# ---- the process-group kill: a slow command whose grandchild does the
# work must die with the tool that feeds it (lib/feed.h) ----
# orphans_check: each process a run's command recorded in pids/ is gone
# within a second of the run's end, or it is an orphan (it would go on
# with a cut-off input: a torn record, a write a retry makes again),
# counted as a duplicate.  Settle hooks call it; output goes to a file.
orphans_check() {
	local f p t
	for f in pids/*; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		for t in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			running "$p" || break
			sleep 0.05
		done
		if running "$p"; then
			echo "attempt $attempt: ${f#pids/} (pid $p) outlived its run" >> orphans
			kill -9 "$p" 2> /dev/null
		fi
		rm -f "$f"
	done
}
orphans_extra() {
	[ -s orphans ] || return 0
	note "$(head -n 3 orphans)"
	job_dup=$((job_dup + $(wc -l < orphans)))
}

# dlq replay -- CMD, where CMD's grandchild dead-letters every record
# again (the documented replay loop): one that outlived a killed replay
# would dead-letter its records after the roll-back, or a torn fragment.
dlq_replay_slow_setup() {
	mkdir pids
	cat > rslow <<'S'
#!/bin/sh
echo $$ > pids/$ATTEMPT.c
exec sh -c 'sh -c "echo \$\$ > pids/$ATTEMPT.g; sleep 0.03; exec dlq check -e \".amount >= 20\" --dlq bad.ndjson > /dev/null"; :'
S
	chmod +x rslow
}
dlq_replay_slow_pre() { dlq_bad_of "$1" >> bad.ndjson; }
dlq_replay_slow_step() { export ATTEMPT=$attempt; exec dlq replay bad.ndjson -- ./rslow 2> /dev/null; }
dlq_replay_slow_settle() {
	orphans_check
	[ "$2" = 0 ] || return 1
	[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
}
dlq_replay_slow_read() { dlq stats bad.ndjson > /dev/null; }
dlq_replay_slow_result() { jq -c .original_record bad.ndjson; }
dlq_replay_slow_extra() { orphans_extra; }

# checkpoint run -- CMD, where CMD's grandchild takes the batch slowly
checkpoint_run_slow_setup() {
	mkdir attempts pids
	cat > sink <<'S'
#!/bin/sh
echo $$ > pids/$IDEM_BATCH.$$.c
sh -c 'echo $$ > pids/$IDEM_BATCH.$$.g; sleep 0.03
cat > attempts/.$IDEM_BATCH.$$ && mv attempts/.$IDEM_BATCH.$$ attempts/$IDEM_BATCH.$$'
S
	chmod +x sink
}
checkpoint_run_slow_fault_attempt=1
checkpoint_run_slow_step() { checkpoint_run_step; }
checkpoint_run_slow_settle() { orphans_check; checkpoint_run_settle "$@"; }
checkpoint_run_slow_read() { checkpoint_run_read; }
checkpoint_run_slow_result() { checkpoint_run_result; }
checkpoint_run_slow_extra() { orphans_extra; }

# ---- dlq purge: old and new entries appended, the old ones purged ----
dlq_purge_setup() { :; }
dlq_purge_pre() {
	[ -e "$W/old.$1" ] || {
		dlq_bad_of "$1" | sed 's/"failed_at":"[^"]*"/"failed_at":"2001-01-01T00:00:00Z"/' > "$W/old.$1"
		dlq_bad_of "$(($1 % NSTEPS + 1))" > "$W/new.$1"
	}
	cat "$W/old.$1" "$W/new.$1" >> bad.ndjson
}
dlq_purge_step() { exec dlq purge --older-than 30d bad.ndjson; }
dlq_purge_settle() {
	[ "$2" = 0 ] || return 1
	[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
}
dlq_purge_read() { dlq stats bad.ndjson > /dev/null; }
dlq_purge_result() { cat bad.ndjson; }

# ---- txlog: a table partitioned by currency, checkpoint every 3 ----
txlog_table() {
	txlog init t --partition-by currency --checkpoint-interval 3 || note "init failed"
}
txlog_read() { txlog verify t > /dev/null; }
txlog_result() { txlog cat t; }
txlog_retry() { # settle for idempotent steps: retry until 0
	[ "$2" = 0 ] || return 1
	[ "$1" -lt "$NSTEPS" ] && return 0 || return 2
}

txlog_append_setup() { txlog_table; }
txlog_append_step() { exec txlog append t --txn "job:$1" "$W/rows.$1"; }
txlog_append_settle() { txlog_retry "$@"; }

txlog_overwrite_setup() { txlog_table; txlog append t "$W/rows.ndjson"; }
CURS=(EUR USD GBP JPY)
txlog_overwrite_step() {
	local c=${CURS[$(($1 - 1))]}
	[ -e "$W/ow.$1" ] || jq -c "select(.currency == \"$c\") | .amount += $1" "$W/rows.$1" > "$W/ow.$1"
	exec txlog overwrite t --where "currency = $c" "$W/ow.$1"
}
txlog_overwrite_settle() { txlog_retry "$@"; }

txlog_merge_setup() { txlog_table; txlog append t "$W/rows.1" "$W/rows.2"; }
txlog_merge_step() {
	# half updates of rows already there, half new rows
	[ -e "$W/mg.$1" ] || { sed -n '1~2p' "$W/rows.$1" | jq -c ".amount += $1"; } > "$W/mg.$1"
	exec txlog merge t -k .order_id --when-newer .amount "$W/mg.$1"
}
txlog_merge_settle() { txlog_retry "$@"; }

txlog_delete_setup() { txlog_table; txlog append t "$W/rows.ndjson"; }
txlog_delete_step() { exec txlog delete t --where "amount < $(($1 * 15))"; }
txlog_delete_settle() { txlog_retry "$@"; }

txlog_checkpoint_setup() { txlog init t --partition-by currency --checkpoint-interval 1000; }
txlog_checkpoint_pre() { txlog append t "$W/rows.$1"; }
txlog_checkpoint_step() { exec txlog checkpoint t; }
txlog_checkpoint_settle() { txlog_retry "$@"; }

# vacuum and optimize, once txlog has them: a table with small files and
# tombstones to work on
txlog_busy_table() {
	local k
	txlog_table
	for k in 1 2 3 4; do txlog append t "$W/rows.$k"; done
	txlog delete t --where 'amount < 30'
}
txlog_vacuum_setup() { txlog_busy_table; }
txlog_vacuum_pre() { txlog append t "$W/rows.$1"; txlog delete t --where "amount < $((30 + $1 * 5))"; }
txlog_vacuum_step() { exec txlog vacuum t --retain 0s --force; }
txlog_vacuum_settle() { txlog_retry "$@"; }
txlog_optimize_setup() { txlog_busy_table; }
txlog_optimize_pre() { txlog append t "$W/rows.$1"; }
txlog_optimize_step() { exec txlog optimize t; }
txlog_optimize_settle() { txlog_retry "$@"; }

for v in append overwrite merge delete checkpoint vacuum optimize; do
	eval "txlog_${v}_read() { txlog_read; }; txlog_${v}_result() { txlog_result; }"
done

has() { declare -F "$1" > /dev/null; }

# ==== the driver ====

# run_job MODE [FAULT]: one job in a fresh folder; MODE clean, kill or
# fault.  Sets job_kills, job_fired, job_unreadable, job_steps_ms,
# job_steps, and leaves the result in $J/result.
run_job() {
	local mode=$1 fault=${2:-} i=1 rc settle pid ms t0 st
	J=$(mktemp -d "$W/job.XXXXXX")
	cd "$J" || exit 2
	job_kills=0 job_fired=0 job_unreadable=0 job_dup=0 job_missed=0
	job_steps_ms=
	local in_fault=0
	attempt=0
	local fault_left=0
	[ "$mode" = fault ] && fault_left=1
	local v=${fn}_fault_attempt
	local fault_attempt=${!v:-2}
	"${fn}_setup" > /dev/null 2>&1
	has "${fn}_pre" && "${fn}_pre" 1 > /dev/null 2>&1
	while :; do
		attempt=$((attempt + 1))
		if [ "$attempt" -gt 400 ]; then
			note "job stuck at step $i"
			job_unreadable=$((job_unreadable + 1))
			break
		fi
		has "${fn}_pre_attempt" && "${fn}_pre_attempt" "$i"
		t0=$(now_ms)
		if [ "$fault_left" = 1 ] && [ "$attempt" -ge "$fault_attempt" ]; then
			fault_left=0 in_fault=1
			(export IDEM_FAULT=$fault; "${fn}_step" "$i") > /dev/null 2>&1 &
		else
			"${fn}_step" "$i" > /dev/null 2>&1 &
		fi
		pid=$!
		if [ "$mode" = kill ] && [ "$kills_left" -gt 0 ]; then
			ms=$((RANDOM * range_ms / 32768))
			nap_ms "$ms"
			kill -9 "$pid" 2> /dev/null
		fi
		wait "$pid" 2> /dev/null
		rc=$?
		if [ "$in_fault" = 1 ] && [ "$rc" != "$FAULT_EXIT" ]; then
			# the step no longer reaches that point: nothing new
			# to learn from the rest of the job
			job_missed=1
			[ -z "${CRASH_DEBUG:-}" ] || note "$fault not reached at step $i (exit $rc)"
			cd "$W" || exit 2
			return
		fi
		in_fault=0
		if [ "$rc" = 137 ]; then
			job_kills=$((job_kills + 1))
			kills_left=$((kills_left - 1))
			# about as many kills land while the step runs as after
			# it ended: a loaded machine stretches steps, an idle
			# one shrinks them; within a quarter to four times the
			# clean step, so that kills keep reaching the commit
			[ "$range_ms" -ge "$range_max" ] ||
				range_ms=$((range_ms * 21 / 20 + 1))
		elif [ "$rc" = "$FAULT_EXIT" ]; then
			job_fired=$((job_fired + 1))
		elif [ "$rc" = 0 ]; then
			if [ "$mode" = kill ] && [ "$kills_left" -gt 0 ] &&
				[ "$range_ms" -gt "$range_min" ]; then
				range_ms=$((range_ms * 19 / 20))
			fi
			st=$(($(now_ms) - t0))
			job_steps_ms="$job_steps_ms $st"
		else
			note "step $i exited $rc"
		fi
		# what the step left, before the reader (which may commit) runs
		has "${fn}_post_attempt" && "${fn}_post_attempt" "$i"
		if [ "$rc" != 0 ] && ! "${fn}_read" > /dev/null 2> "$J/read.err"; then
			note "unreadable after step $i (exit $rc): $(head -n 3 "$J/read.err")"
			job_unreadable=$((job_unreadable + 1))
		fi
		"${fn}_settle" "$i" "$rc" > /dev/null 2>&1
		settle=$?
		[ "$settle" = 2 ] && break
		if [ "$settle" = 0 ]; then
			i=$((i + 1))
			has "${fn}_pre" && "${fn}_pre" "$i" > /dev/null 2>&1
		fi
	done
	if ! "${fn}_read" > /dev/null 2> "$J/read.err"; then
		note "unreadable at the end: $(head -n 3 "$J/read.err")"
		job_unreadable=$((job_unreadable + 1))
	fi
	"${fn}_result" > result 2> /dev/null
	has "${fn}_extra" && "${fn}_extra"
	cd "$W" || exit 2
}

# crash_command NAME: the clean run, then kills, then every fault point.
crash_command() {
	cmd=$1 fn=${1//-/_}
	local t_start kills=0 fired=0 jobs=0 lost=0 dup=0 unread=0 l d p n
	local redeliv=0 torn_all=0
	t_start=$(now_ms)
	kills_left=0
	run_job clean
	cp "$J/result" "$W/$cmd.expected"
	[ "$cmd" = dlq-check ] && grep -v '^good ' "$J/result" > "$W/dlq-check.entries"
	unread=$job_unreadable
	# kills land anywhere in a typical step: up to 1.1 times the
	# median clean step (the mean is skewed by a loaded machine)
	range_ms=$(printf '%s\n' $job_steps_ms | sort -n |
		awk '{ v[NR] = $1 } END { print NR ? int(v[int((NR + 1) / 2)] * 1.1) : 100 }')
	[ "$range_ms" -ge 5 ] || range_ms=5
	local range_max=$((range_ms * 4)) range_min=$((range_ms / 4 + 1))
	local range_start=$range_ms
	rm -rf "$J"
	check_job() {
		jobs=$((jobs + 1))
		read -r l d < <(compare "$W/$cmd.expected" "$J/result")
		d=$((d + job_dup))
		[ "$l" = 0 ] && [ "$d" = 0 ] || note "job lost $l, duplicated $d (kept in $J)"
		lost=$((lost + l)) dup=$((dup + d)) unread=$((unread + job_unreadable))
		[ "$cmd" = dlq-check ] && redeliv=$((redeliv + redelivered)) &&
			torn_all=$((torn_all + torn))
		[ "$l" = 0 ] && [ "$d" = 0 ] && [ "$job_unreadable" = 0 ] &&
			rm -rf "$J"
	}
	kills_left=$kills_per
	while [ "$kills_left" -gt 0 ]; do
		run_job kill
		kills=$((kills + job_kills))
		[ -z "${CRASH_DEBUG:-}" ] || note "job: $job_kills kills in $attempt attempts"
		check_job
	done
	kills_left=0
	# every hit of every point, in order; with CRASH_FAULT_SAMPLE=N the
	# points' hit slots in an order drawn from the lane's seed (each
	# point's hits still ascending: one its step does not reach rules
	# out the higher ones), until N of them stopped a job
	local slots=() i j x n stops=0 stopped=
	local -A hit=() missed=()
	for p in $FAULT_POINTS; do
		for ((n = 1; n <= fault_hits; n++)); do slots+=("$p"); done
	done
	if [ -n "$fault_sample" ]; then
		for ((i = ${#slots[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			x=${slots[i]} slots[i]=${slots[j]} slots[j]=$x
		done
	fi
	for p in "${slots[@]}"; do
		[ -z "${missed[$p]:-}" ] || continue
		n=$((${hit[$p]:-0} + 1)) hit[$p]=$n
		run_job fault "$p:$n"
		if [ "$job_missed" = 1 ]; then
			rm -rf "$J"
			missed[$p]=1
			continue
		fi
		check_job
		fired=$((fired + job_fired))
		stops=$((stops + 1)) stopped="$stopped${stopped:+,}\"$p:$n\""
		[ -z "$fault_sample" ] || [ "$stops" -lt "$fault_sample" ] || break
	done
	local extra=
	[ "$cmd" = dlq-check ] && extra=",\"redelivered\":$redeliv,\"torn\":$torn_all"
	local label=${cmd//-/ }
	case $cmd in
	dedup | window) label="$cmd --state" ;;
	dlq-check) label="dlq check --dlq" ;;
	dlq-replay) label="dlq replay -- cmd" ;;
	dlq-replay-commit) label="dlq replay --commit" ;;
	dlq-replay-slow) label="dlq replay -- slow cmd" ;;
	checkpoint-run-slow) label="checkpoint run -- slow cmd" ;;
	esac
	printf '{"check":"crash","command":"%s","kills":%d,"faults":%d,"stopped_at":[%s],"jobs":%d,"lost":%d,"duplicated":%d,"unreadable":%d%s,"kill_range_ms":[%d,%d],"seconds":%s}\n' \
		"$label" "$kills" "$fired" "$stopped" "$jobs" "$lost" "$dup" "$unread" "$extra" \
		"$range_start" "$range_ms" "$(awk -v ms=$(($(now_ms) - t_start)) 'BEGIN { printf "%.1f", ms / 1000 }')"
}

# The main part is one block ending in exit: bash has read all of it
# before it runs, so editing or checking out this file during a long run
# cannot change what the run does.
{
ALL="dedup window checkpoint-read checkpoint-commit checkpoint-run checkpoint-run-slow dlq-check dlq-replay dlq-replay-slow dlq-replay-commit dlq-purge txlog-append txlog-overwrite txlog-merge txlog-delete txlog-checkpoint"
for v in vacuum optimize; do
	txlog "$v" --help > /dev/null 2>&1 && ALL="$ALL txlog-$v"
done
[ $# -gt 0 ] && ALL="$*"
for c in $ALL; do
	has "${c//-/_}_step" || { echo "crash.sh: no command $c" >&2; exit 2; }
done
make_inputs
# CRASH_JOBS commands at a time (default 2), each its own seed; the lines
# come out in the order of the list.
lanes=${CRASH_JOBS:-2}
k=0
for c in $ALL; do
	k=$((k + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$lanes" ]; do wait -n; done
	(RANDOM=$((seed + k)); cd "$W" && crash_command "$c" > "$W/line.$k") &
done
wait
for k in $(seq 1 "$k"); do cat "$W/line.$k"; done
# exit 1 when a command lost, doubled or could not read something
! cat "$W"/line.* | grep -q -e '"lost":[1-9]' -e '"duplicated":[1-9]' -e '"unreadable":[1-9]'
exit
}
