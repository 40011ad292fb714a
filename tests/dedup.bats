#!/usr/bin/env bats
# dedup: one record per key, within a run and across runs.

load helpers
bats_require_minimum_version 1.5.0

orders() {
	cat <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
{"id":1,"v":"c"}
{"id":3,"v":"d"}
{"id":2,"v":"e"}
J
}

@test "keeps the first record of each key, bytes unchanged" {
	orders > in.ndjson
	run --separate-stderr dedup -k .id in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
{"id":3,"v":"d"}
J
}

@test "reads stdin when no file or - is named" {
	run --separate-stderr sh -c 'printf "{\"k\":1}\n{\"k\":1}\n" | dedup -k .k -'
	assert_success
	assert_output '{"k":1}'
}

@test "keys compare by value: escapes, number spellings, big integers" {
	cat > in.ndjson <<'J'
{"k":"a"}
{"k":"\u0061"}
{"k":1}
{"k":1.0}
{"k":1e0}
{"k":10e-1}
{"k":-0}
{"k":0}
{"k":12345678901234567891}
{"k":12345678901234567890}
{"k":"1"}
J
	run --separate-stderr dedup -k .k in.ndjson
	assert_success
	assert_output - <<'J'
{"k":"a"}
{"k":1}
{"k":-0}
{"k":12345678901234567891}
{"k":12345678901234567890}
{"k":"1"}
J
}

@test "without -k the whole record is the key, member order ignored" {
	cat > in.ndjson <<'J'
{"a":1,"b":[1,2]}
{"b":[1,2.0],"a":1}
{"b":[2,1],"a":1}
{"a":1,"a":2}
{"a":2}
J
	run --separate-stderr dedup in.ndjson
	assert_success
	assert_output - <<'J'
{"a":1,"b":[1,2]}
{"b":[2,1],"a":1}
{"a":1,"a":2}
J
}

@test "repeated -k keys on the tuple, as a jq array would" {
	cat > in.ndjson <<'J'
{"a":1,"b":1}
{"a":1,"b":2}
{"a":1,"b":1,"c":0}
J
	run --separate-stderr dedup -k .a -k .b in.ndjson
	assert_success
	assert_output - <<'J'
{"a":1,"b":1}
{"a":1,"b":2}
J
	run --separate-stderr dedup -k '[.a,.b]' in.ndjson
	assert_output - <<'J'
{"a":1,"b":1}
{"a":1,"b":2}
J
}

@test "a jq program works as a key" {
	cat > in.ndjson <<'J'
{"email":"Ann@X.org"}
{"email":"ann@x.org"}
{"email":"bob@x.org"}
J
	run --separate-stderr dedup -k '.email | ascii_downcase' in.ndjson
	assert_success
	assert_output - <<'J'
{"email":"Ann@X.org"}
{"email":"bob@x.org"}
J
}

@test "nested paths, quoted names and indexes are plain paths" {
	cat > in.ndjson <<'J'
{"a":{"x y":[5,6]}}
{"a":{"x y":[5,7]}}
{"a":{"x y":[5,6,7]}}
J
	run --separate-stderr dedup -k '.a."x y"[0]' in.ndjson
	assert_output '{"a":{"x y":[5,6]}}'
	run --separate-stderr dedup -k '.a["x y"][-1]' in.ndjson
	assert_output - <<'J'
{"a":{"x y":[5,6]}}
{"a":{"x y":[5,7]}}
J
}

@test "--keep last keeps the last record, in the order of the kept records" {
	orders > in.ndjson
	run --separate-stderr dedup -k .id --keep last in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1,"v":"c"}
{"id":3,"v":"d"}
{"id":2,"v":"e"}
J
}

@test "--order-by keeps the greatest value, the later one on ties" {
	cat > in.ndjson <<'J'
{"id":1,"ts":"2024-01-02","n":1}
{"id":1,"ts":"2024-01-03","n":2}
{"id":1,"ts":"2024-01-01","n":3}
{"id":2,"ts":5,"n":4}
{"id":2,"ts":5.0,"n":5}
{"id":2,"ts":4,"n":6}
J
	run --separate-stderr dedup -k .id --order-by .ts in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1,"ts":"2024-01-03","n":2}
{"id":2,"ts":5.0,"n":5}
J
}

@test "--keep first with --order-by is refused, not ignored: --order-by keeps the later record on a tie" {
	printf '{"id":1,"ts":5,"n":1}\n{"id":1,"ts":5,"n":2}\n' > in.ndjson
	run dedup -k .id --order-by .ts --keep first in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --keep first does not apply with --order-by, which keeps the greatest value per key (the later record on a tie)"
	run --separate-stderr dedup -k .id --order-by .ts --keep last in.ndjson
	assert_success
	assert_output '{"id":1,"ts":5,"n":2}'
}

@test "--dupes writes the duplicates aside, bytes unchanged" {
	orders > in.ndjson
	run dedup -k .id --dupes d.ndjson in.ndjson
	assert_success
	run cat d.ndjson
	assert_output - <<'J'
{"id":1,"v":"c"}
{"id":2,"v":"e"}
J
}

@test "--dupes with --keep last gets the superseded records" {
	orders > in.ndjson
	dedup -k .id --keep last --dupes d.ndjson in.ndjson > /dev/null
	run cat d.ndjson
	assert_output - <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
J
}

@test "--check exits 1 and names the duplicate lines" {
	orders > in.ndjson
	run dedup -k .id --check in.ndjson
	assert_failure 1
	assert_output - <<'J'
dedup: in.ndjson:3: duplicate key
dedup: in.ndjson:5: duplicate key
dedup: 2 duplicate records among 5
J
}

@test "--check refuses --keep and --order-by, which choose no record without --dupes" {
	orders > in.ndjson
	run dedup -k .id --check --keep last in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --keep does not apply to --check, which writes no record (with --dupes FILE it chooses the records written there)"
	run dedup -k .id --check --order-by .v in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --order-by does not apply to --check, which writes no record (with --dupes FILE it chooses the records written there)"
	# with --dupes, --keep last puts the superseded records there
	run --separate-stderr dedup -k .id --check --keep last --dupes d.ndjson in.ndjson
	assert_failure 1
	assert_output ''
	run cat d.ndjson
	assert_output - <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
J
}

@test "--check exits 0 quietly when every key is unique" {
	orders | head -n 2 > in.ndjson
	run dedup -k .id --check in.ndjson
	assert_success
	assert_output ''
}

@test "--state: a second run over the same input emits nothing" {
	orders > in.ndjson
	run --separate-stderr dedup -k .id --state s.idx in.ndjson
	assert_output - <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
{"id":3,"v":"d"}
J
	run --separate-stderr dedup -k .id --state s.idx in.ndjson
	assert_success
	assert_output ''
}

@test "--state: a run over new and old input emits only the new" {
	orders > old.ndjson
	dedup -k .id --state s.idx old.ndjson > /dev/null
	printf '{"id":4}\n{"id":1}\n{"id":5}\n{"id":4}\n' > new.ndjson
	run --separate-stderr dedup -k .id --state s.idx new.ndjson old.ndjson
	assert_success
	assert_output - <<'J'
{"id":4}
{"id":5}
J
}

@test "--state with --keep last never re-emits a key of an earlier run" {
	printf '{"id":1,"v":1}\n{"id":1,"v":2}\n' > a.ndjson
	run --separate-stderr dedup -k .id --keep last --state s.idx a.ndjson
	assert_output '{"id":1,"v":2}'
	printf '{"id":1,"v":3}\n{"id":2,"v":1}\n{"id":2,"v":2}\n' > b.ndjson
	run --separate-stderr dedup -k .id --keep last --state s.idx b.ndjson
	assert_output '{"id":2,"v":2}'
}

@test "--state refuses a damaged state file" {
	orders > in.ndjson
	dedup -k .id --state s.idx in.ndjson > /dev/null
	# flip one byte of the payload
	printf 'X' | dd of=s.idx bs=1 seek=40 conv=notrunc 2>/dev/null
	run dedup -k .id --state s.idx in.ndjson
	assert_failure 2
	assert_output 'dedup: s.idx: checksum mismatch; refusing a damaged state'
}

@test "--state refuses a file that is not a state" {
	echo hello > s.idx
	run dedup -k .id --state s.idx /dev/null
	assert_failure 2
	assert_output 'dedup: s.idx: not an idem state file'
}

@test "--state cut inside its header is refused as damaged, not as some other file" {
	echo '{"id":1}' > in.ndjson
	dedup -k .id --state s.idx in.ndjson > /dev/null
	truncate -s 20 s.idx
	refused "dedup: s.idx: truncated (header cut short); refusing a damaged state" \
		dedup -k .id --state s.idx in.ndjson
}

@test "--state refuses a state written for other keys" {
	orders > in.ndjson
	dedup -k .id --state s.idx in.ndjson > /dev/null
	run dedup -k .v --state s.idx in.ndjson
	assert_failure 2
	assert_output "dedup: s.idx: state was written for keys '-k .id', not '-k .v'; use a new state file"
}

@test "--state with --ttl refuses a run of another -t, whose times are of another clock; --ttl and --time-unit may change" {
	printf '{"id":1,"t":100,"u":9000}\n{"id":2,"t":200,"u":9000}\n' > a.ndjson
	dedup -k .id -t .t --ttl 150s --state s.idx a.ndjson > /dev/null
	cp s.idx kept
	# judged by .u, id 1's time (100 of .t) is far behind .u's 9000:
	# it was forgotten and passed again, without a word
	refused "dedup: s.idx: state was written with -t '.t', not '.u' (its keys' times and watermark are of that -t); use a new state file" \
		dedup -k .id -t .u --ttl 150s --state s.idx a.ndjson
	cmp s.idx kept
	# the times are instants: another unit or a longer --ttl reads them
	run dedup -k .id -t .t --ttl 1h --time-unit ms --state s.idx <<-'E'
	{"id":1,"t":210000}
	{"id":3,"t":210000}
	E
	assert_success
	assert_output - <<-'E'
	{"id":3,"t":210000}
	dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
	E
	# without --ttl the times go, and a later -t may start them anew
	dedup -k .id --state s.idx /dev/null
	run dedup -k .id -t .u --ttl 1h --state s.idx a.ndjson
	assert_success
	assert_output "dedup: 2 records dropped: duplicates (--dupes FILE keeps them)"
}

@test "--state held by another process exits 75" {
	orders > in.ndjson
	flock s.idx.lock sleep 3 &
	sleep 0.3
	run dedup -k .id --state s.idx in.ndjson
	assert_failure 75
	assert_output 'dedup: s.idx: locked by another process; try again later'
	wait
}

@test "--state is not written by --check" {
	orders > in.ndjson
	run dedup -k .id --check --state s.idx in.ndjson
	assert_failure 1
	[ ! -e s.idx ]
}

@test "-t/--ttl forgets keys once the watermark is past them" {
	cat > in.ndjson <<'J'
{"id":1,"t":"2024-01-01T00:00:00Z"}
{"id":1,"t":"2024-01-01T00:30:00Z"}
{"id":2,"t":"2024-01-01T01:00:00Z"}
{"id":1,"t":"2024-01-01T02:00:00Z"}
{"id":2,"t":"2024-01-01T01:59:00Z"}
J
	run --separate-stderr dedup -k .id -t .t --ttl 1h in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1,"t":"2024-01-01T00:00:00Z"}
{"id":2,"t":"2024-01-01T01:00:00Z"}
{"id":1,"t":"2024-01-01T02:00:00Z"}
J
}

@test "--ttl at the earliest representable instant does not overflow" {
	# watermark - ttl would go below the nanosecond range: it saturates
	printf '%s\n' '{"id":1,"t":"1677-09-21T00:12:43.145224192Z"}' \
		'{"id":1,"t":"1677-09-21T00:12:43.145224192Z"}' > in.ndjson
	run --separate-stderr dedup -k .id -t .t --ttl 1h in.ndjson
	assert_success
	assert_output '{"id":1,"t":"1677-09-21T00:12:43.145224192Z"}'
}

@test "-t takes epoch numbers in --time-unit" {
	printf '{"id":1,"t":0}\n{"id":1,"t":3000}\n{"id":1,"t":7200000}\n' > in.ndjson
	run --separate-stderr dedup -k .id -t .t --ttl 1h --time-unit ms in.ndjson
	assert_output - <<'J'
{"id":1,"t":0}
{"id":1,"t":7200000}
J
}

@test "--time-unit without -t is refused: no epoch number is read" {
	printf '{"id":1}\n' > in.ndjson
	run dedup -k .id --time-unit ms in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --time-unit goes with -t (the unit of its epoch numbers)"
	run dedup --order-by .id --time-unit ns in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --time-unit goes with -t (the unit of its epoch numbers)"
}

@test "--ttl state carries keys and watermark to the next run" {
	printf '{"id":1,"t":"2024-01-01T00:00:00Z"}\n' > a.ndjson
	printf '{"id":1,"t":"2024-01-01T00:10:00Z"}\n{"id":1,"t":"2024-01-01T05:00:00Z"}\n' > b.ndjson
	dedup -k .id -t .t --ttl 1h --state s.idx a.ndjson > /dev/null
	run --separate-stderr dedup -k .id -t .t --ttl 1h --state s.idx b.ndjson
	assert_output '{"id":1,"t":"2024-01-01T05:00:00Z"}'
}

@test "--batch: a replay of the batch that wrote the state emits what it did; the next batch goes on" {
	printf '{"id":1}\n{"id":2}\n' > b1.ndjson
	printf '{"id":2}\n{"id":3}\n' > b2.ndjson
	dedup -k .id --state s.idx --batch 1 b1.ndjson > /dev/null
	run --separate-stderr dedup -k .id --state s.idx --batch 2 b2.ndjson
	assert_output '{"id":3}'
	# killed after the commit, before the sink took it: the same batch
	# again, as often as it takes
	run --separate-stderr dedup -k .id --state s.idx --batch 2 b2.ndjson
	assert_output '{"id":3}'
	run dedup -k .id --state s.idx --batch 2 --stats b2.ndjson
	assert_line --index 0 '{"id":3}'
	assert_line --index 1 --partial '"keys":3,"shard_skipped":0,"replay":true,'
	printf '{"id":3}\n{"id":4}\n' > b3.ndjson
	run --separate-stderr dedup -k .id --state s.idx --batch 3 b3.ndjson
	assert_output '{"id":4}'
	# a run without a batch (or an older batch) starts from the newest
	run --separate-stderr dedup -k .id --state s.idx b1.ndjson b2.ndjson b3.ndjson
	assert_success
	assert_output ''
}

@test "--batch: a replay writes the batch's dead letters no second time, and --dupes anew" {
	printf '{"id":1}\n{"id":1}\n' > b1.ndjson
	printf '{"id":2}\n{"nope":1}\n{"id":2}\n' > b2.ndjson
	args='-k .id --dlq dlq.ndjson --dupes dupes.ndjson --state s.idx'
	dedup $args --batch 1 b1.ndjson > /dev/null
	dedup $args --batch 2 b2.ndjson > want
	[ "$(cat want)" = '{"id":2}' ]
	# the state was committed after the dead letters were synced: a
	# replay (the sink failed, checkpoint run tries again) finds them
	run dedup $args --batch 2 --stats b2.ndjson
	assert_success
	assert_line --index 0 '{"id":2}'
	assert_line --index 1 --partial '"duplicates":1,"late":0,"dead_lettered":1,'
	assert_line --index 1 --partial '"replay":true'
	run jq -c '[.source.line, .original_record]' dlq.ndjson
	assert_output '[2,{"nope":1}]'
	run cat dupes.ndjson
	assert_output '{"id":2}'
	# the next batch writes its own
	printf '{"x":3}\n' > b3.ndjson
	dedup $args --batch 3 b3.ndjson
	run jq -c '.original_record' dlq.ndjson
	assert_output - <<'J'
{"nope":1}
{"x":3}
J
}

@test "--batch: a replay writes the batch's dead letters again to a --dlq that keeps none (a pipe), whatever its name" {
	printf '{"id":1}\nnope\n' > b1.ndjson
	# >(gzip > bad.gz) is /dev/fd/63 each time, read by a new gzip
	# whose file starts empty: a replay that skipped the letters left
	# them nowhere
	mkfifo p1 p2
	cat p1 > l1 &
	dedup -k .id --dlq p1 --state s.idx --batch 1 b1.ndjson > out1
	wait $!
	cat p2 > l2 &
	run --separate-stderr dedup -k .id --dlq p2 --state s.idx --batch 1 --stats b1.ndjson
	wait $!
	assert_success
	assert_output '{"id":1}'
	[[ $stderr == *'"dead_lettered":1,'* ]]
	run jq -c '[.source.line, .original_record]' l1 l2
	assert_output - <<'J'
[2,"nope"]
[2,"nope"]
J
	# a file keeps them: another run's letters are not there
	cp s.idx s.before
	run --separate-stderr dedup -k .id --dlq bad.ndjson --state s.idx --batch 1 b1.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: s.idx: batch 1 replayed with --dlq bad.ndjson, but its run had --dlq p1; state left as that run committed it (replay the batch with its run's options, or name another batch)"
	cmp s.idx s.before
}

@test "--dlq a named pipe: its reader gets every letter and the run ends, whatever the timing" {
	# the torn-tail check opened the pipe and closed it: a reader
	# already waiting took that for the end and left, and the run's
	# own open waited for ever (one run in six or so)
	printf '{"id":1}\nnope\n' > in.ndjson
	mkfifo f
	for _ in $(seq "$(quick 30 5)"); do
		cat f > got &
		c=$!
		run --separate-stderr timeout 10 dedup -k .id --dlq f in.ndjson
		[ "$status" -eq 0 ] || kill "$c" 2> /dev/null || true
		wait "$c" || true
		assert_success
		assert_output '{"id":1}'
		run jq -c .original_record got
		assert_output '"nope"'
	done
}

@test "--batch: a replay of the first batch starts from nothing; IDEM_BATCH is the default" {
	printf '{"id":1}\n{"id":1}\n{"id":2}\n' > b1.ndjson
	IDEM_BATCH=7 dedup -k .id --state s.idx b1.ndjson > /dev/null
	IDEM_BATCH=7 run --separate-stderr dedup -k .id --state s.idx b1.ndjson
	assert_output - <<'J'
{"id":1}
{"id":2}
J
	# --batch '' opts out: the newest state, a plain re-run
	IDEM_BATCH=7 run --separate-stderr dedup -k .id --state s.idx --batch '' b1.ndjson
	assert_success
	assert_output ''
}

@test "--batch with --ttl: a replay starts from the keys and watermark before it" {
	printf '{"id":1,"t":"2024-01-01T00:00:00Z"}\n' > a.ndjson
	printf '{"id":2,"t":"2024-01-01T05:00:00Z"}\n{"id":1,"t":"2024-01-01T00:30:00Z"}\n' > b.ndjson
	dedup -k .id -t .t --ttl 1h --state s.idx --batch 1 a.ndjson > /dev/null
	# id 1 is forgotten once id 2 moves the watermark past it
	run --separate-stderr dedup -k .id -t .t --ttl 1h --state s.idx --batch 2 b.ndjson
	assert_output - < b.ndjson
	run --separate-stderr dedup -k .id -t .t --ttl 1h --state s.idx --batch 2 b.ndjson
	assert_output - < b.ndjson
}

@test "--ttl: records behind it pass, and how many is said (their keys may be forgotten)" {
	printf '%s\n' '{"k":1,"t":10}' '{"k":2,"t":30}' '{"k":1,"t":2}' '{"k":2,"t":3}' > in.ndjson
	run dedup -k .k -t .t --ttl 5s in.ndjson
	assert_success
	assert_output - <<'J'
{"k":1,"t":10}
{"k":2,"t":30}
{"k":1,"t":2}
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)
dedup: 1 record more than --ttl 5s behind the newest event time passed unchecked (their keys may be forgotten; a longer --ttl checks them)
J
}

@test "--batch: a state from before batches is the base of the first one" {
	printf '{"id":1}\n' > old.ndjson
	printf '{"id":1}\n{"id":2}\n' > b.ndjson
	dedup -k .id --state s.idx old.ndjson > /dev/null
	dedup -k .id --state s.idx --batch 1 b.ndjson > /dev/null
	run --separate-stderr dedup -k .id --state s.idx --batch 1 b.ndjson
	assert_output '{"id":2}'
}

@test "--batch: a replay on other input than the batch's is refused and the state kept" {
	printf '{"id":1}\n{"id":2}\n' > b1.ndjson
	printf '{"id":2}\n{"id":3}\n' > b2.ndjson
	printf '{"id":2}\n{"id":4}\n' > other.ndjson
	dedup -k .id --state s.idx --batch 1 b1.ndjson > /dev/null
	dedup -k .id --state s.idx --batch 2 b2.ndjson > /dev/null
	cp s.idx s.before
	run --separate-stderr dedup -k .id --state s.idx --batch 2 other.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: s.idx: batch 2 replayed on other input than its run's (18 bytes as before, but others); state left as that run committed it (replay the batch's own input, or name another batch)"
	cmp s.idx s.before
	cat b2.ndjson b2.ndjson > longer.ndjson
	run --separate-stderr dedup -k .id --state s.idx --batch 2 longer.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: s.idx: batch 2 replayed on other input than its run's (36 bytes, not 18); state left as that run committed it (replay the batch's own input, or name another batch)"
	cmp s.idx s.before
	# the batch's own input still replays, and the next batch goes on
	run --separate-stderr dedup -k .id --state s.idx --batch 2 -j 2 b2.ndjson
	assert_success
	assert_output '{"id":3}'
	run --separate-stderr dedup -k .id --state s.idx --batch 3 other.ndjson
	assert_success
	assert_output '{"id":4}'
}

# A replay refused for an option of another value than its batch's run
# had: exit 2, nothing written, the state as that run committed it.
replay_refused() {
	local new=$1 was=$2
	shift 2
	run --separate-stderr dedup "$@"
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "dedup: s.idx: batch 2 replayed with $new, but its run had $was; state left as that run committed it (replay the batch with its run's options, or name another batch)"
	cmp s.idx s.before
}

@test "--batch: a replay with another --keep, --order-by, -k, --shard, --dlq or --max-line than its run's is refused, naming both" {
	printf '{"id":1}\n' > b1.ndjson
	printf '{"id":2,"v":1}\n{"id":2,"v":0}\nnope\n' > b2.ndjson
	run_args=(-k .id --keep last --dlq bad.ndjson --max-line 1K --state s.idx)
	dedup "${run_args[@]}" --batch 1 b1.ndjson > /dev/null
	dedup "${run_args[@]}" --batch 2 b2.ndjson > want
	[ "$(cat want)" = '{"id":2,"v":0}' ]
	cp s.idx s.before
	cp bad.ndjson bad.before
	replay_refused '--keep first' '--keep last' \
		-k .id --dlq bad.ndjson --max-line 1K --state s.idx --batch 2 b2.ndjson
	replay_refused '--order-by .v' 'no --order-by' \
		-k .id --order-by .v --dlq bad.ndjson --max-line 1K --state s.idx --batch 2 b2.ndjson
	# the keys and shard are checked on a replay whatever its base
	replay_refused '-k .v' '-k .id' \
		-k .v --keep last --dlq bad.ndjson --max-line 1K --state s.idx --batch 2 b2.ndjson
	replay_refused '--shard 1/2' 'no --shard or --partition' \
		"${run_args[@]}" --shard 1/2 --batch 2 b2.ndjson
	replay_refused '--partition 0/2' 'no --shard or --partition' \
		"${run_args[@]}" --partition 0/2 --batch 2 b2.ndjson
	# the letters are in the run's file, and a replay writes them no
	# second time: to another file, or none, they were lost
	replay_refused 'no --dlq' '--dlq bad.ndjson' \
		-k .id --keep last --max-line 1K --state s.idx --batch 2 b2.ndjson
	replay_refused '--dlq other.ndjson' '--dlq bad.ndjson' \
		-k .id --keep last --dlq other.ndjson --max-line 1K --state s.idx --batch 2 b2.ndjson
	[ ! -e other.ndjson ]
	mkdir sub
	cd sub
	run --separate-stderr dedup -k .id --keep last --dlq bad.ndjson --max-line 1K --state ../s.idx --batch 2 ../b2.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: ../s.idx: batch 2 replayed with --dlq bad.ndjson ($PWD/bad.ndjson), but its run had --dlq bad.ndjson ($(dirname "$PWD")/bad.ndjson); state left as that run committed it (replay the batch with its run's options, or name another batch)"
	cd ..
	# a longer line is a bad record under one --max-line, not another
	replay_refused '--max-line 64M' '--max-line 1K' \
		-k .id --keep last --dlq bad.ndjson --state s.idx --batch 2 b2.ndjson
	cmp bad.ndjson bad.before
	# the run's options replay it, the next batch may change them
	run --separate-stderr dedup "${run_args[@]}" --batch 2 b2.ndjson
	assert_success
	assert_output '{"id":2,"v":0}'
	printf '{"id":2}\n{"id":4}\n' > b3.ndjson
	run --separate-stderr dedup -k .id --state s.idx --batch 3 b3.ndjson
	assert_success
	assert_output '{"id":4}'
}

@test "--batch: a replay with another --ttl, -t or --time-unit than its run's is refused, naming both" {
	printf '{"id":1,"t":0}\n' > b1.ndjson
	printf '{"id":2,"t":7200000}\n{"id":1,"t":3600000}\n' > b2.ndjson
	run_args=(-k .id -t .t --ttl 1h --time-unit ms --state s.idx)
	dedup "${run_args[@]}" --batch 1 b1.ndjson > /dev/null
	# id 1 is forgotten once id 2 moves the watermark an hour past it
	run --separate-stderr dedup "${run_args[@]}" --batch 2 b2.ndjson
	assert_output - < b2.ndjson
	cp s.idx s.before
	replay_refused '--ttl 2h' '--ttl 1h' \
		-k .id -t .t --ttl 2h --time-unit ms --state s.idx --batch 2 b2.ndjson
	replay_refused '--time-unit s' '--time-unit ms' \
		-k .id -t .t --ttl 1h --state s.idx --batch 2 b2.ndjson
	replay_refused '-t .t2' '-t .t' \
		-k .id -t .t2 --ttl 1h --time-unit ms --state s.idx --batch 2 b2.ndjson
	replay_refused 'no --ttl' '--ttl 1h' \
		-k .id --state s.idx --batch 2 b2.ndjson
	# a duration compares by its length: 60m is 1h
	run --separate-stderr dedup -k .id -t .t --ttl 60m --time-unit ms --state s.idx --batch 2 b2.ndjson
	assert_success
	assert_output - < b2.ndjson
	# and the batch's run is still the one a refusal names
	replay_refused '--ttl 2h' '--ttl 1h' \
		-k .id -t .t --ttl 2h --time-unit ms --state s.idx --batch 2 b2.ndjson
}

@test "--batch: a replay with its run's options is byte for byte that run, and --check is held to no --keep" {
	printf '{"id":1,"v":1}\n' > b1.ndjson
	printf '{"id":2,"v":1}\n{"id":2,"v":0}\n{"id":1,"v":2}\nnope\n{"id":3,"v":0}\n' > b2.ndjson
	run_args=(-k .id --order-by .v --dlq bad.ndjson --dupes dupes.ndjson --state s.idx)
	dedup "${run_args[@]}" --batch 1 b1.ndjson > /dev/null 2>&1
	dedup "${run_args[@]}" --batch 2 b2.ndjson > out1 2> err1
	cp dupes.ndjson dupes1
	cp bad.ndjson bad1
	cp s.idx s1
	# the same options, by other names: the dead-letter file by its
	# path, --order-by with the --keep last it implies, -j
	dedup -k .id --order-by .v --keep last --dlq ./bad.ndjson --dupes dupes.ndjson --state s.idx -j 2 --batch 2 b2.ndjson > out2 2> err2
	cmp out1 out2
	cmp err1 err2
	cmp dupes1 dupes.ndjson
	cmp bad1 bad.ndjson
	run cat out1
	assert_output '{"id":2,"v":1}
{"id":3,"v":0}'
	# --check writes no record: --keep and --order-by choose none
	run --separate-stderr dedup -k .id --check --dlq bad.ndjson --state s.idx --batch 2 b2.ndjson
	assert_failure 1
	cmp bad1 bad.ndjson
	cmp s1 s.idx
}

@test "--batch needs --state and at most 255 bytes" {
	run dedup -k .id --batch 1
	assert_failure 2
	assert_line --index 0 'dedup: --batch needs --state'
	run dedup -k .id --state s.idx --batch "$(printf '%0256d' 0)"
	assert_failure 2
	assert_line --index 0 'dedup: --batch: a batch is at most 255 bytes'
	IDEM_BATCH=$(printf '%0256d' 0) run dedup -k .id --state s.idx
	assert_failure 2
	assert_line --index 0 'dedup: IDEM_BATCH: a batch is at most 255 bytes'
}

@test "IDEM_BATCH without --state names no batch, in dedup and window: no replay in --stats, no refusal of its length" {
	# a plain run under checkpoint run said "replay":false, and refused
	# an IDEM_BATCH of 256 bytes it had no use for
	printf '{"id":1,"t":1}\n' > in
	IDEM_BATCH=7 run --separate-stderr dedup -k .id --stats in
	assert_success
	[[ $stderr != *replay* ]]
	IDEM_BATCH=7 run --separate-stderr window --tumble 1m -t .t --stats in
	assert_success
	[[ $stderr != *replay* ]]
	IDEM_BATCH=$(printf '%0256d' 0) run dedup -k .id in
	assert_success
	assert_output '{"id":1,"t":1}'
	IDEM_BATCH=$(printf '%0256d' 0) run window --tumble 1m -t .t --agg 'n=count()' in
	assert_success
	# with --state it is the batch, as ever
	IDEM_BATCH=7 run --separate-stderr dedup -k .id --state s.idx --stats in
	[[ $stderr == *'"replay":false'* ]]
}

@test "a malformed line stops the run with file, line and reason, exit 2" {
	printf '{"id":1}\n{"id":2\n{"id":3}\n' > in.ndjson
	run dedup -k .id in.ndjson
	assert_failure 2
	assert_output - <<'J'
{"id":1}
dedup: in.ndjson:2: invalid JSON: unexpected end of input at byte 8
J
}

@test "--dlq sets bad records aside as envelopes and goes on" {
	printf '{"id":1}\n{"id":2\n{"x":3}\n[1]\n{"id":{"a":1}}\n{"id":4}\n' > in.ndjson
	run dedup -k .id --dlq bad.ndjson in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1}
{"id":{"a":1}}
{"id":4}
J
	run no_time bad.ndjson
	assert_output - <<'J'
{"original_record":"{\"id\":2","error_type":"invalid_json","error_message":"invalid JSON: unexpected end of input at byte 8","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"dedup","file":"in.ndjson","line":2}}
{"original_record":{"x":3},"error_type":"missing_field","error_message":"missing key .id","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"dedup","file":"in.ndjson","line":3}}
{"original_record":[1],"error_type":"wrong_type","error_message":"record is an array, not an object","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"dedup","file":"in.ndjson","line":4}}
J
}

@test "failed_at is an RFC 3339 UTC time" {
	printf 'nope\n' | dedup --dlq bad.ndjson
	run grep -cE '"failed_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"' bad.ndjson
	assert_output 1
}

@test "a key of the wrong type is a bad record" {
	printf '{"id":"x"}\n{"id":[1]}\n' > in.ndjson
	run dedup -k '.id.a' in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: key .id.a: Cannot index string with string "a"'
}

@test "a jq error is a bad record" {
	printf '{"n":"x"}\n' > in.ndjson
	run dedup -k '.n + 1' in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: key .n + 1: string ("x") and number (1) cannot be added'
}

@test "a key program that yields nothing is a bad record" {
	printf '{"n":1}\n' > in.ndjson
	run dedup -k 'empty' in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: key empty produced no value'
}

@test "invalid UTF-8 is a bad record" {
	printf '{"id":"\377"}\n' > in.ndjson
	run dedup -k .id in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: invalid JSON: invalid UTF-8 at byte 8'
}

@test "a line longer than --max-line is a bad record, not a crash" {
	{ printf '{"id":1,"pad":"'; head -c 5000 /dev/zero | tr '\0' x; printf '"}\n{"id":2}\n'; } > in.ndjson
	run dedup -k .id --max-line 1K in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: line of 5017 bytes is longer than --max-line 1024'
	run dedup -k .id --max-line 1K --dlq bad.ndjson in.ndjson
	assert_success
	assert_output '{"id":2}'
	run grep -c '"error_type":"line_too_long"' bad.ndjson
	assert_output 1
	run grep -c '"replayable":false' bad.ndjson
	assert_output 1
}

@test "a huge line within the default limit is fine" {
	{ printf '{"id":1,"pad":"'; head -c 3000000 /dev/zero | tr '\0' x; printf '"}\n{"id":1}\n'; } > in.ndjson
	run --separate-stderr sh -c 'dedup -k .id in.ndjson | wc -c'
	assert_success
	assert_output 3000018
}

@test "CRLF, blank lines and a missing final newline are accepted" {
	printf '{"id":1}\r\n\r\n\n{"id":2}\r\n{"id":1}\n{"id":3}' > in.ndjson
	run --separate-stderr dedup -k .id in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1}
{"id":2}
{"id":3}
J
}

@test "a line of spaces, tabs and CRs is blank too, with -j 1 and -j 2, a file and a pipe" {
	printf '{"id":1}\n   \n\t \r\n {"id":2}\n\r\n{"id":1}\n \t' > in.ndjson
	for j in 1 2; do
		run --separate-stderr dedup -k .id -j $j in.ndjson
		assert_success
		assert_output $'{"id":1}\n {"id":2}'
		run --separate-stderr sh -c "head -c 45 in.ndjson | dedup -k .id -j $j"
		assert_success
		assert_output $'{"id":1}\n {"id":2}'
	done
	printf '{"id":1}\n \n\t\nbad\n' > in.ndjson
	run dedup -k .id in.ndjson
	assert_failure 2
	assert_line --index 1 'dedup: in.ndjson:4: invalid JSON: unexpected character at byte 1'
}

@test "line numbers count blank lines" {
	printf '{"id":1}\n\n\nbad\n' > in.ndjson
	run dedup -k .id in.ndjson
	assert_failure 2
	assert_line --index 1 'dedup: in.ndjson:4: invalid JSON: unexpected character at byte 1'
}

@test "empty input gives empty output" {
	: > in.ndjson
	run dedup -k .id in.ndjson
	assert_success
	assert_output ''
	run dedup -k .id < /dev/null
	assert_success
	assert_output ''
}

@test "zstd input is decompressed, from a file and from stdin" {
	orders | zstd -q > in.ndjson.zst
	run --separate-stderr dedup -k .id in.ndjson.zst
	assert_output - <<'J'
{"id":1,"v":"a"}
{"id": 2 ,  "v":"b"}
{"id":3,"v":"d"}
J
	run --separate-stderr sh -c 'dedup -k .id < in.ndjson.zst | wc -l'
	assert_output 3
}

@test "a truncated zstd file is an error" {
	gen -n 2000 | zstd -q > in.zst
	head -c 3000 in.zst > cut.zst
	run dedup cut.zst
	assert_failure 2
	assert_line --partial 'cut.zst: truncated zstd stream'
}

@test "a missing input file is an error naming it" {
	run dedup -k .id nope.ndjson
	assert_failure 2
	assert_output 'dedup: nope.ndjson: No such file or directory'
}

@test "--shard I/N: the shards together are the single-process answer" {
	gen -n 20000 > in.ndjson
	dedup -k .order_id in.ndjson | sort > all.out
	for i in 0 1 2 3; do dedup -k .order_id --shard $i/4 in.ndjson; done | sort > shards.out
	run cmp all.out shards.out
	assert_success
	# and no shard is empty or everything
	run --separate-stderr sh -c 'dedup -k .order_id --shard 1/4 in.ndjson | wc -l'
	[ "$output" -gt 3000 ] && [ "$output" -lt 6000 ]
}

@test "--shard and --partition without -k take any JSON value, as one run does" {
	printf '%s\n' '5' '[1]' '"x"' '5' 'null' '{"a":1}' > in.ndjson
	dedup in.ndjson | sort > all.out
	for i in 0 1; do dedup --shard $i/2 in.ndjson; done | sort > shards.out
	run cmp all.out shards.out
	assert_success
	partition -n 2 -o p in.ndjson
	for i in 0 1; do dedup --partition $i/2 p/$i.ndjson; done | sort > parts.out
	run cmp all.out parts.out
	assert_success
}

@test "--shard --stats: every record read is out, a duplicate, a dead letter or skipped, in every shard" {
	printf '%s\n' '{"id":1}' '{"x":1}' 'bad' '{"id":2}' '{"id":1}' '{"id":"7"}' > in.ndjson
	for i in 0 1 2; do
		dedup -k .id --shard $i/3 --dlq dl$i --stats in.ndjson 2> st$i > /dev/null
		head -n 1 st$i > s$i
		run jq -c '.records_in - .records_out - .duplicates - .dead_lettered - .shard_skipped' s$i
		assert_output 0
	done
	run jq -s -c 'map(.dead_lettered) | add' s0 s1 s2
	assert_output 2
}

@test "--stats prints one JSON line on stderr" {
	orders > in.ndjson
	run sh -c 'dedup -k .id --stats in.ndjson 2>&1 >/dev/null | sed "s/\"seconds\":[0-9.]*/\"seconds\":S/"'
	assert_output - <<'J'
{"tool":"dedup","records_in":5,"records_out":3,"duplicates":2,"late":0,"dead_lettered":0,"bytes_in":89,"bytes_out":55,"keys":3,"shard_skipped":0,"seconds":S}
dedup: 2 records dropped: duplicates (--dupes FILE keeps them)
J
}

@test "usage errors exit 2 with a hint" {
	run dedup --bogus
	assert_failure 2
	assert_line --index 1 "Usage: dedup [OPTION]... [FILE]..."
	assert_line --index 2 "Try 'dedup --help' for more information."
	run dedup --keep middle
	assert_failure 2
	assert_line --index 0 "dedup: --keep: want first or last, got 'middle'"
	run dedup --ttl 1h
	assert_failure 2
	assert_line --index 0 'dedup: -t and --ttl go together'
	run dedup -k '.a |'
	assert_failure 2
	assert_line --index 0 --partial "dedup: -k: '.a |': "
	run dedup --shard 4/4
	assert_failure 2
	assert_line --index 0 "dedup: --shard: want I/N with 0 <= I < N <= 65536, got '4/4'"
	run dedup -t .t --ttl 1x
	assert_failure 2
}

@test "--help and --version" {
	run dedup --help
	assert_success
	assert_line --index 0 'Usage: dedup [OPTION]... [FILE]...'
	run dedup --version
	assert_success
	assert_output --regexp '^dedup \(idem\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a closed pipe ends dedup quietly" {
	gen -n 200000 > in.ndjson
	run bash -c 'set -o pipefail; dedup in.ndjson | head -n 1 > /dev/null; echo "status ${PIPESTATUS[0]}"'
	assert_output 'status 141'
}

@test "write errors are reported" {
	orders > in.ndjson
	run sh -c 'dedup -k .id in.ndjson > /dev/full'
	assert_failure 2
	assert_output 'dedup: stdout: No space left on device'
}

@test "--dupes stops at a duplicate it cannot write: no record after it goes out, nor a letter, exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"id":1}\nbad1\n{"id":1}\nbad2\n{"id":2}\n' > in
	for j in 1 2; do
		rm -f q
		run sh -c "dedup -j $j -k .id --dupes /dev/full --dlq q in 2> err"
		assert_failure 2
		assert_output '{"id":1}'
		run cat err
		assert_output 'dedup: /dev/full: write: No space left on device; up to 1 of the 1 records set aside for it did not reach it'
		run jq -c .original_record q
		assert_output '"bad1"'
	done
	# a letter lost before a duplicate: the duplicate is not written
	printf '{"id":1}\nbad\n{"id":1}\n{"id":2}\n' > in
	run sh -c 'dedup -k .id --dupes d --dlq /dev/full in 2> err'
	assert_failure 2
	assert_output '{"id":1}'
	[ ! -s d ]
}

@test "a full disk for --state fails and keeps the old state" {
	[ -w /dev/full ] || skip "no /dev/full"
	orders > in.ndjson
	dedup -k .id --state s.idx in.ndjson > /dev/null
	cp s.idx before.idx
	# a folder on a tiny tmpfs is not available unprivileged; use a
	# file-size limit instead: the new state cannot be written
	printf '{"id":%d}\n' $(seq 10 2000) > more.ndjson
	run bash -c 'ulimit -f 1; dedup -k .id --state s.idx more.ndjson > /dev/null'
	assert_failure
	cmp s.idx before.idx
	run --separate-stderr dedup -k .id --state s.idx in.ndjson
	assert_success
	assert_output ''
}

@test "--dupes has one writer at a time: a run that finds another writing the file stops before it reads, and cuts nothing" {
	# shards given one --dupes truncated it and wrote over each other:
	# most duplicates and a line's end lost, exit 0 everywhere
	printf '{"id":1}\n{"id":1}\n' > in
	printf '{"id":9}\n' > d
	# flock(1) holds the file's lock as a running dedup does
	run --separate-stderr flock d dedup -k .id --dupes d in
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "dedup: d: another run is writing it (shards given one file?); give each run its own"
	assert_equal "$(cat d)" '{"id":9}'
	run dedup -k .id --dupes d in
	assert_success
	assert_equal "$(cat d)" '{"id":1}'
	# four shards at once, each its own file: every duplicate kept once
	seq 1 3000 | awk '{ print "{\"id\":" $1 % 700 "}" }' > many
	for i in 0 1 2 3; do
		dedup -k .id --shard $i/4 --dupes d.$i many > /dev/null &
	done
	wait
	[ "$(cat d.0 d.1 d.2 d.3 | wc -l)" -eq 2300 ]
}

@test "dropped duplicates are counted on stderr with the option that keeps them" {
	orders > in.ndjson
	run dedup -k .id in.ndjson
	assert_success
	assert_line --index 3 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)'
	# kept in a file, or reported by --check: nothing to say
	run dedup -k .id --dupes d.ndjson in.ndjson
	refute_output --partial dropped
	run dedup -k .id --check in.ndjson
	assert_failure 1
	refute_output --partial dropped
}

@test "an output option given - is refused, not written to a file named -, in every tool that takes one" {
	printf '{"k":1}\n{"k":1}\nnot json\n' > in.ndjson
	run dedup -k .k --dupes - in.ndjson
	assert_failure 2
	assert_output "dedup: --dupes -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	run dedup -k .k --dlq - in.ndjson
	assert_failure 2
	assert_output "dedup: --dlq -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	run partition -n 2 --dlq - in.ndjson
	assert_failure 2
	assert_output "partition: --dlq -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	run dlq check -e .k --dlq - in.ndjson
	assert_failure 2
	assert_output "dlq: --dlq -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	run reconcile -k .k --dlq - in.ndjson in.ndjson
	assert_failure 2
	assert_output "reconcile: --dlq -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	run ls -- -
	assert_failure
	# a file that is called - is ./-
	run dedup -k .k --dupes ./- --dlq bad.ndjson in.ndjson
	assert_success
	assert_output '{"k":1}'
	run cat ./-
	assert_output '{"k":1}'
}

@test "a key, time or sum the record lacks names the member a typo away, in every tool that reads one" {
	printf '{"order_id":1,"amount":2,"t":1}\n' > in.ndjson
	run dedup -k .order_i in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: missing key .order_i (did you mean .order_id?)'
	run partition -n 2 -k .ordr_id in.ndjson
	assert_failure 2
	assert_output 'partition: in.ndjson:1: missing key .ordr_id (did you mean .order_id?)'
	run reconcile -k .order_id --sum .amout in.ndjson in.ndjson
	assert_failure 2
	assert_output 'reconcile: in.ndjson:1: missing --sum .amout (did you mean .amount?)'
	# with --dlq the letter says it too
	run dedup -k .order_id --order-by .amout --dlq bad.ndjson in.ndjson
	assert_success
	run jq -r .error_message bad.ndjson
	assert_output 'missing --order-by .amout (did you mean .amount?)'
	# a short name is no typo of another: .x is not .t
	run dedup -k .x in.ndjson
	assert_failure 2
	assert_output 'dedup: in.ndjson:1: missing key .x'
	# a nested name is looked for in its own object, the rest kept
	printf '{"o":{"amount":1,"cust":{"name":"a"}},"t":1}\n' > nested.ndjson
	run dedup -k .o.amuont nested.ndjson
	assert_failure 2
	assert_output 'dedup: nested.ndjson:1: missing key .o.amuont (did you mean .o.amount?)'
	run window --tumble 1h -t .t -g .o.cutt.name nested.ndjson
	assert_failure 2
	assert_output 'window: nested.ndjson:1: missing group .o.cutt.name (did you mean .o.cust.name?)'
	run dedup -k .order.amount nested.ndjson
	assert_failure 2
	assert_output 'dedup: nested.ndjson:1: missing key .order.amount'
}

@test "--keep last and --order-by letter nothing when the run dies before its records go out" {
	printf '{"k":1}\nnot json\n{"k":2}\n' > in.ndjson
	for o in "--keep last" "--order-by .k"; do
		rm -f bad.ndjson
		run dedup -k .k $o --dlq bad.ndjson in.ndjson missing.ndjson
		assert_failure 2
		assert_output 'dedup: missing.ndjson: No such file or directory'
		run cat bad.ndjson
		assert_output ''
		run dedup -k .k $o --dlq bad.ndjson in.ndjson
		assert_success
		assert_output - <<'J'
{"k":1}
{"k":2}
J
		run jq -c '[.original_record, .source.line]' bad.ndjson
		assert_output '["not json",2]'
	done
}

@test "--stats keys under --ttl are the keys held within it, with or without --state" {
	printf '{"id":1,"t":0}\n{"id":2,"t":10}\n{"id":3,"t":7200}\n' > in.ndjson
	run sh -c 'dedup -k .id -t .t --ttl 1h --stats in.ndjson 2>&1 >/dev/null | jq -c "[.keys, .records_out]"'
	assert_output '[1,3]'
	run sh -c 'dedup -k .id -t .t --ttl 1h --stats --state st in.ndjson 2>&1 >/dev/null | jq -c "[.keys, .records_out]"'
	assert_output '[1,3]'
	run sh -c 'dedup -k .id --stats in.ndjson 2>&1 >/dev/null | jq -c .keys'
	assert_output '3'
}

@test "--state: shard 0 of 1 is every key, so a state of one is taken by the other" {
	printf '{"k":%d}\n' 1 2 3 > in.ndjson
	dedup -k .k --state all in.ndjson > /dev/null 2>&1
	run --separate-stderr dedup -k .k --shard 0/1 --state all in.ndjson
	assert_success
	assert_output ''
	run --separate-stderr dedup -k .k --partition 0/1 --state all in.ndjson
	assert_success
	assert_output ''
	printf '{"k":%d}\n' 4 > more.ndjson
	dedup -k .k --shard 0/1 --state one in.ndjson > /dev/null 2>&1
	run --separate-stderr dedup -k .k --state one in.ndjson more.ndjson
	assert_success
	assert_output '{"k":4}'
	# shard 0 of 2 is not
	run dedup -k .k --shard 0/2 --state one in.ndjson
	assert_failure 2
	assert_output "dedup: one: a state of every key (no --shard), not of shard 0/2; give each shard its own state file"
}

@test "a file named twice, or by a hard link, is refused: each of its records would be its own duplicate" {
	printf '{"id":1}\n{"id":2}\n' > a.ndjson
	ln a.ndjson b.ndjson
	refused 'dedup: a.ndjson: named twice: its records would count twice as their own duplicates; name each once' \
		dedup -k .id a.ndjson a.ndjson
	# --check found duplicates (exit 1) in a file that has none
	refused 'dedup: b.ndjson: the same file as a.ndjson (a hard link or a second name): its records would count twice as their own duplicates; name each once' \
		dedup --check -k .id a.ndjson b.ndjson
	run sh -c 'dedup -k .id - - < a.ndjson'
	assert_success
	assert_output - < a.ndjson
}
