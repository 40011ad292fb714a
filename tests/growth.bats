#!/usr/bin/env bats
# Cost grows linearly with the work (issue 20): each test runs one
# dimension at a size where the quadratic cost it guards against takes
# several CPU seconds and the linear one a fraction of one, under a CPU
# limit (ulimit -t: CPU time, so a loaded machine does not fail it), and
# checks the answer too.  tests/bench/sections/growth.sh measures the
# growth factor itself.

load helpers

# cpu_limited SECONDS CMD...: CMD dies of SIGXCPU past SECONDS of CPU.
cpu_limited() {
	local s=$1
	shift
	(ulimit -t "$s" && exec "$@")
}

@test "window --tumble with a long --lateness finds a record's window without scanning the ones kept" {
	# 100k one-second windows kept 30 days: the old scan of every kept
	# window per record took 9 CPU seconds here
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{\"t\":%d,\"g\":%d}\n", i, i % 2 }' > in.ndjson
	run cpu_limited 3 sh -c 'exec "$@" > out' - window --tumble 1s --lateness 30d --delay 0s -t .t -g .g --agg 'n=count()' in.ndjson
	assert_success
	assert_equal "$(grep -c '"n":1,"pane":{"timing":"on_time","index":0,"final":false}}$' out)" 99999
	run tail -n 1 out
	assert_output '{"window":{"start":"1970-01-02T03:46:39Z","end":"1970-01-02T03:46:40Z"},"key":1,"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "window --slide finds each of a record's k windows directly" {
	# 1024 windows a record, 4 groups, a late record now and then: the
	# old scan of the group's windows for each of them took 6 CPU seconds
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"t\":%d,\"g\":%d}\n", (i % 97 == 0 ? i / 4 - 30 : i / 4), i % 4 }' > in.ndjson
	cpu_limited 4 window --slide 1024s --every 1s --lateness 1m --delay 0s -t .t -g .g --agg 'n=count()' in.ndjson > out
	# every record is counted once in each of its 1024 windows: the
	# last pane of each window holds them all
	run awk -F'"n":' '{ split($2, b, ","); if (b[1] + 0 > m[$1]) m[$1] = b[1] + 0 }
		END { for (w in m) s += m[w]; print s }' out
	assert_output $((20000 * 1024))
}

@test "window --session with a long --lateness finds the sessions a record touches by search" {
	# 50k sessions of one record kept a day: the old scan of them all
	# per record took 5 CPU seconds here
	awk 'BEGIN { for (i = 0; i < 50000; i++) printf "{\"t\":%d,\"g\":0}\n", i * 2 }' > in.ndjson
	# and a record that bridges two of them, late
	echo '{"t":50001,"g":0}' >> in.ndjson
	run cpu_limited 3 sh -c 'exec "$@" > out' - window --session 1500ms --lateness 1d --delay 0s -t .t -g .g --agg 'n=count()' in.ndjson
	assert_success
	# 50k on-time panes of one record, and the merged session's late one
	assert_equal "$(grep -c '"n":1,"pane":{"timing":"on_time","index":0,' out)" 50000
	run grep -v '"n":1,' out
	assert_output '{"window":{"start":"1970-01-01T13:53:20Z","end":"1970-01-01T13:53:23.500Z"},"key":0,"n":3,"pane":{"timing":"late","index":1,"final":false}}'
}

@test "reconcile presizes its key tables whenever they fit the budget, not only far below it" {
	[ -z "${IDEM_QUICK:-}" ] || skip "peak memory is the plain build's"
	# 200k keys a side under --memory 64M: presized, 33 MB; grown by
	# doubling (the old rule presized only below a sixth of the budget,
	# at 8M keys 5.6x the memory of 2M), 48 MB
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"id\":%d,\"pad\":\"%060d\",\"a\":%d.5}\n", i, i, i }' > in.ndjson
	# -j 1: the key tables alone, no chunks in flight
	/usr/bin/time -f %M -o rss reconcile -j 1 -k .id --sum .a --memory 64M --stats in.ndjson in.ndjson > out 2> err
	assert_equal "$(jq -c 'select(.total) | [.match, .missing, .extra, .changed]' out)" '[true,0,0,0]'
	[ "$(tail -n 1 rss)" -lt 40000 ] || fail "peak $(tail -n 1 rss) KB"
}

@test "dedup --state loads and saves a large key set in bulk, not a call per key" {
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":%d}\n", i }' > in.ndjson
	dedup -k .k --state seen in.ndjson > /dev/null
	echo '{"k":-1}' > one.ndjson
	# 1M keys held: a write call per key saving them took 2.5 CPU
	# seconds a run, whatever the run added (the sanitized build is
	# let off the limit, not the answer)
	lim=2
	[ -z "${IDEM_QUICK:-}" ] || lim=unlimited
	run cpu_limited "$lim" dedup -k .k --state seen one.ndjson
	assert_success
	assert_output '{"k":-1}'
	run dedup -k .k --state seen --stats in.ndjson one.ndjson
	assert_success
	assert_output --partial '"records_in":1000001,"records_out":0'
}

@test "checkpoint run --until-empty over a folder commits each batch in its own bytes, not a rewrite of the state" {
	# 200 files, 4 a batch: 50 batches.  Each planned and each
	# committed batch rewrote (and renamed) the whole state, O(files)
	# bytes, so the run cost grew as files^2 / batch size (16k files:
	# over 60 s); now a batch appends a record of the sources it took
	# to the state's log, and the snapshot is renamed into place only
	# after a listing or once the log outgrows it: a third rename here
	# is the old rewrite coming back.
	mkdir d
	awk 'BEGIN { for (i = 0; i < 200; i++) { f = sprintf("d/f%03d.ndjson", i); printf "{\"n\":%d}\n", i > f; close(f) } }'
	run sh -c 'exec "$@" > out' - env IDEM_FAULT=commit.renamed:3 checkpoint run -s st -n 4 --until-empty --stats d -- cat
	assert_success
	assert_output --regexp '^\{"tool":"checkpoint","records_in":200,"records_out":200,.*"bytes_in":1890,"bytes_out":1890,"batches":50,'
	run jq -s -c 'map(.n) == [range(200)]' out
	assert_output true
	# the log holds the batches since the last snapshot, and a new
	# call reads them back: nothing new, all 200 at their ends
	run checkpoint run -s st --until-empty d -- cat
	assert_success
	assert_output ''
	run sh -c 'checkpoint status -s st | jq -s -c "[length, (map(.lag) | add), (map(.batch) | unique)]"'
	assert_output '[200,0,[50]]'
}

@test "dedup --ttl over a state written without it keeps its keys at 16 bytes, not widened to 24" {
	# keys with no time never expire; saved with a time of 'never' they
	# took 24 bytes each, so one --ttl run over empty input grew such a
	# state by half (124 MB to 160 MB, with a batch's base beside it)
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{\"k\":%d,\"t\":%d}\n", i, i }' > in.ndjson
	dedup -k .k --state seen in.ndjson > /dev/null
	before=$(wc -c < seen)
	: > empty
	run dedup -k .k -t .t --ttl 1h --state seen empty
	assert_success
	assert_output ''
	# the untimed section's count and the -t the times are of (8 bytes
	# of length, 2 of '.t'), and nothing more
	assert_equal "$(wc -c < seen)" $((before + 8 + 10))
	# and again: it stays put
	dedup -k .k -t .t --ttl 1h --state seen empty
	assert_equal "$(wc -c < seen)" $((before + 8 + 10))
	# they still never expire: a record far past --ttl is a duplicate of
	# the old key; a new key takes its time, 24 bytes
	run dedup -k .k -t .t --ttl 1h --state seen --stats <<< '{"k":5,"t":99999999}
{"k":-1,"t":99999999}'
	assert_success
	assert_output --partial '{"k":-1,"t":99999999}'
	assert_output --partial '"records_in":2,"records_out":1,"duplicates":1,'
	assert_equal "$(wc -c < seen)" $((before + 8 + 10 + 24))
	# without --ttl the state loads as one set again, 16 bytes a key
	run dedup -k .k --state seen --stats in.ndjson
	assert_output --partial '"records_in":100000,"records_out":0,'
	assert_output --partial '"keys":100001,'
	assert_equal "$(wc -c < seen)" $((before + 16))
}
