#!/usr/bin/env bats
# partition(1): the shuffle in front of --shard.  Partition I holds exactly
# the keys shard I owns; shards that read only their partition (with the
# watermark of the whole input carried to each) give one process's answer.

load helpers
bats_require_minimum_version 1.5.0

# 2,000 orders (600 in the sanitized pass): 10% repeat an order_id, 5% arrive 5-60 min late (out of
# order by event time).
orders() {
	gen -n "$(quick 2000 600)" --late-rate 0.05 > in.ndjson
}

# stat FILE MEMBER: a member of the --stats line in FILE
stat() {
	jq -r ".$2" "$1"
}

@test "partition I holds exactly the records shard I keeps: dedup, keep first and order-by" {
	orders
	partition -n 3 -k .order_id -o parts in.ndjson
	run ls parts
	assert_output - <<'J'
0.ndjson
1.ndjson
2.ndjson
J
	# every record once, in input order within its partition
	cat parts/*.ndjson | sort > all
	sort in.ndjson | cmp - all
	for o in '' '--order-by .amount'; do
		for i in 0 1 2; do
			dedup -k .order_id $o --shard $i/3 in.ndjson > want.$i
			dedup -k .order_id $o --partition $i/3 \
				parts/$i.ndjson > got.$i
			run cmp want.$i got.$i
			assert_success
		done
	done
}

@test "partition -g keys as window -g does, -k as dedup; several keys are a tuple" {
	orders
	partition -n 4 -g .currency -o g in.ndjson
	partition -n 4 -k .currency -o k in.ndjson
	# one group and one key hash differently ([x] is not x) ...
	run cmp g/0.ndjson k/0.ndjson
	assert_failure
	# ... and each matches its tool: --partition checks every record
	for i in 0 1 2 3; do
		window --tumble 1h -t .event_time -g .currency \
			--partition $i/4 g/$i.ndjson > /dev/null
		reconcile summarize -k .currency --partition $i/4 \
			k/$i.ndjson > /dev/null
	done
	partition -n 4 -k .currency -k .customer.tier -o kk in.ndjson
	partition -n 4 -g .currency -g .customer.tier -o gg in.ndjson
	for i in 0 1 2 3; do
		run cmp kk/$i.ndjson gg/$i.ndjson
		assert_success
	done
}

@test "PARTITION<TAB>RECORD on stdout is the -o folder, line for line" {
	orders
	partition -n 4 -k .order_id -o parts in.ndjson
	partition -n 4 -k .order_id in.ndjson > tabbed
	for i in 0 1 2 3; do
		awk -F '\t' -v i=$i '$1 == i' tabbed | cut -f2- |
			cmp - parts/$i.ndjson
	done
	run cut -f1 tabbed
	refute_line --regexp '^([^0-3]|..)'
}

@test "a record that is not its partition's stops the shard, naming both" {
	printf '%s\n' '{"k":1}' '{"k":2}' '{"k":3}' '{"k":4}' > in.ndjson
	partition -n 2 -k .k -o p in.ndjson
	run dedup -k .k --partition 1/2 p/0.ndjson
	assert_failure 2
	assert_output 'dedup: p/0.ndjson:1: key of partition 0, not 1 of 2 (--partition): partition the input with the same key and N'
	run window --tumble 1m -t .k -g .k --partition 0/3 p/0.ndjson
	assert_failure 2
	assert_line --partial '(--partition): partition the input with the same key and N'
	run dedup -k .k --partition 0/2 --shard 0/2 in.ndjson
	assert_failure 2
	assert_line --index 0 'dedup: --shard: give one --shard or --partition'
	run dedup -k .k -t .k --ttl 1m --partition 0/2 p/0.ndjson
	assert_failure 2
	assert_line --index 0 'dedup: --ttl with --partition: a partition holds only its keys'"'"' event times, so keys would expire later than in one run; use --shard I/N over the whole input'
	run window --tumble 1m -t .k -g .k --delay 1m --partition 0/2 p/0.ndjson
	assert_failure 2
	assert_line --index 0 "window: --delay with --partition: a partition holds only its groups' event times, so its own watermark would lag one process's; give -t and --delay to partition, which carries the watermark of the whole input"
	run reconcile -k .k --partition 0/2 p/0.ndjson p/0.ndjson
	assert_failure 2
	assert_line --index 0 "reconcile: --partition goes with summarize (merge the shards' summaries with reconcile merge)"
}

@test "window --partition --state before any _watermark line holds W where the state had it: its windows wait, fire nothing, and it says so" {
	# EUR and USD in one partition, GBP in the other: one process's W
	# after this run is 3000; partition 0's newest time, 61, is not it,
	# and moves no W: GBP's minute waits for a _watermark line
	printf '{"t":%d,"c":"%s"}\n' 5 EUR 20 USD 61 GBP 90 EUR 3000 USD > in.ndjson
	partition -n 2 -g .c -o p in.ndjson
	[ "$(cat p/0.ndjson)" = '{"t":61,"c":"GBP"}' ]
	w="window --tumble 1m -t .t -g .c --partition 0/2 --state s0"
	held="window: --partition 0/2 with --state: no _watermark line yet, so 1 window waits for one in a next run (partition(1) -t writes them; a partition without them never fires)"
	run --separate-stderr $w p/0.ndjson
	assert_success
	assert_output --regexp '^\{"_shard":\{"index":0,"of":2,"panes":0,"run":"[0-9a-f]{32}"\}\}$'
	assert_equal "$stderr" "$held"
	# a next GBP at 100 is judged against no W, not against 61
	printf '{"t":100,"c":"GBP"}\n' > next
	run --separate-stderr $w next
	assert_success
	assert_output --regexp '"panes":0,'
	assert_equal "$stderr" "$held"
	# the first _watermark line fires the minute with both
	printf '{"_watermark":120}\n' > mark
	run --separate-stderr $w mark
	assert_success
	assert_line --index 0 '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"GBP","count":2,"pane":{"timing":"on_time","index":0,"final":true}}'
	assert_equal "$stderr" ''
	# without --state the batch fires every window at its end, as one
	# process does
	run window --tumble 1m -t .t -g .c --partition 0/2 p/0.ndjson
	assert_success
	assert_line --index 0 '{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"GBP","count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# with partition -t the watermark lines are there: one process's W
	rm -r p s0
	partition -n 2 -g .c -t .t -o p in.ndjson
	for i in 0 1; do window --tumble 1m -t .t -g .c --partition $i/2 --state s$i p/$i.ndjson; done > got
	window --tumble 1m -t .t -g .c --state one in.ndjson > want
	run sh -c 'grep -v _shard got | window merge | cmp - want'
	assert_success
}

@test "window --partition --state over batches cut at every line boundary writes one run's panes, and the partitions merge to one process's" {
	# a partition's first record comes before its first _watermark line
	# (checkpoint read --max-records 1 cuts there); late and too-late
	# records too
	printf '{"g":"%s","t":"2024-01-01T00:%s"}\n' a 00:05Z b 00:30Z \
		a 01:10Z c 00:50Z b 01:20Z a 02:30Z c 00:40Z b 03:30Z a 00:10Z \
		c 05:30Z > in.ndjson
	partition -n 2 -g .g -t .t --delay 10s -o p in.ndjson
	[ "$(head -n 1 p/0.ndjson)" = '{"g":"a","t":"2024-01-01T00:00:05Z"}' ]
	for kind in '--tumble 1m' '--slide 1m --every 30s' '--session 30s'; do
		w="window $kind -t .t -g .g --lateness 1m"
		rm -f one
		$w --delay 10s --state one in.ndjson 2>/dev/null > one.out
		[ "$kind" = '--session 30s' ] || grep -q '"timing":"late"' one.out
		window merge one.out > want
		for i in 0 1; do
			rm -f one
			$w --partition $i/2 --state one p/$i.ndjson 2>/dev/null |
				grep -v _shard > want.$i
			n=$(wc -l < p/$i.ndjson)
			for k in $(seq 0 $n); do
				rm -f st
				head -n $k p/$i.ndjson > a
				tail -n +$((k + 1)) p/$i.ndjson > b
				{ $w --partition $i/2 --state st a
				  $w --partition $i/2 --state st b; } 2>/dev/null |
					grep -v _shard > got || true
				run cmp want.$i got
				assert_success
			done
			# every line a batch of its own
			rm -f st
			for k in $(seq 1 $n); do
				sed -n ${k}p p/$i.ndjson > a
				$w --partition $i/2 --state st a 2>/dev/null
			done > got.$i
			run sh -c "grep -v _shard got.$i | cmp want.$i -"
			assert_success
			[ "$(grep -c _shard got.$i)" -eq "$n" ]
		done
		# every partition cut at the same line: the runs merge to one
		# process's panes
		for k in 0 1 2 3; do
			for i in 0 1; do
				rm -f s$i
				head -n $k p/$i.ndjson > a
				tail -n +$((k + 1)) p/$i.ndjson > b
				{ $w --partition $i/2 --state s$i a
				  $w --partition $i/2 --state s$i b; } 2>/dev/null > out.$i
			done
			run sh -c 'window merge out.0 out.1 | cmp want -'
			assert_success
		done
	done
}

@test "dedup --partition stopped by another partition's key writes and commits the records before it, with -j 1 as with -j 2" {
	printf '%s\n' '{"k":1}' '{"k":2}' '{"k":7}' '{"k":3}' > in.ndjson
	partition -n 2 -k .k -o p in.ndjson
	head -n 1 p/1.ndjson > other
	cat p/0.ndjson other > mixed
	for j in 1 2; do
		rm -f s.idx
		run --separate-stderr dedup -j $j -k .k --partition 0/2 --state s.idx mixed
		assert_failure 2
		assert_output "$(cat p/0.ndjson)"
		# the run committed what it wrote: a re-run writes none of it again
		run --separate-stderr dedup -j $j -k .k --partition 0/2 --state s.idx p/0.ndjson
		assert_success
		assert_output ''
	done
}

@test "window over partitions fires one process's panes: out of order, late panes, too-late drops" {
	orders
	for kind in '--tumble 10m' '--slide 10m --every 5m' '--session 30s'; do
		w="window $kind -t .event_time -g .currency -g .customer.tier"
		w="$w --agg n=count() --agg gmv=sum(.amount) --lateness 5m"
		$w --delay 1m in.ndjson 2> one.err > one
		window merge one > want
		rm -rf p
		partition -n 3 -g .currency -g .customer.tier \
			-t .event_time --delay 1m -o p in.ndjson
		for i in 0 1 2; do
			$w --partition $i/3 p/$i.ndjson > out.$i 2> err.$i
		done
		window merge out.* > got
		run cmp want got
		assert_success
		# the drops add up to one process's
		one=$(grep -o '^window: [0-9]*' one.err | cut -d' ' -f2)
		sum=$(cat err.* | grep -o '^window: [0-9]*' | cut -d' ' -f2 |
			paste -sd+ | bc)
		[ "$one" -gt 0 ] && [ "$one" -eq "$sum" ]
	done
	run grep -c '"timing":"late"' want
	refute_output 0
}

@test "window over partitions: a partition that hears W in one big step writes one process's final flags" {
	# a and c fall in different partitions of 2; c's records move W past
	# the end + lateness of a's first window before a's partition hears it
	printf '%s\n' '{"t":0,"g":"a"}' '{"t":70,"g":"c"}' '{"t":130,"g":"c"}' \
		'{"t":200,"g":"a"}' > in.ndjson
	w="window --tumble 1m -t .t -g .g --lateness 1m"
	$w --delay 0s in.ndjson | window merge > want
	partition -n 2 -g .g -t .t -o p in.ndjson
	for i in 0 1; do
		$w --partition $i/2 p/$i.ndjson > out.$i
	done
	run window merge out.*
	assert_success
	assert_output - <<'J'
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"key":"c","count":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"key":"c","count":1,"pane":{"timing":"on_time","index":0,"final":false}}
{"window":{"start":"1970-01-01T00:03:00Z","end":"1970-01-01T00:04:00Z"},"key":"a","count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run cmp want <(window merge out.*)
	assert_success
}

@test "window over partitions: without late panes the merge is one process's output byte for byte" {
	orders
	w="window --tumble 10m -t .event_time -g .currency --agg s=sum(.amount)"
	$w --delay 1m in.ndjson > want
	partition -n 4 -g .currency -t .event_time --delay 1m -o p in.ndjson
	for i in 0 1 2 3; do
		$w --partition $i/4 p/$i.ndjson > out.$i
	done
	window merge out.* > got
	run cmp want got
	assert_success
}

@test "without -t, upstream _watermark lines reach every -g partition" {
	orders
	watermark -t .event_time --delay 2m --emit < in.ndjson > marked
	w="window --tumble 10m -t .event_time -g .currency --lateness 5m"
	$w marked | window merge > want
	partition -n 3 -g .currency -o p marked
	for i in 0 1 2; do
		$w --partition $i/3 p/$i.ndjson > out.$i
		grep -q '^{"_watermark"' p/$i.ndjson
	done
	window merge out.* > got
	run cmp want got
	assert_success
	# with -t they are replaced, and said so
	run sh -c 'partition -n 3 -g .currency -t .event_time -o q marked 2>&1 >/dev/null'
	assert_success
	assert_output "partition: $(grep -c _watermark marked) records dropped: _watermark lines replaced by -t's (leaving out -t keeps them)"
	# with -k, or no key, a _watermark line is no record: dedup and
	# reconcile would refuse it in their partitions, whatever the key
	for k in '-k .order_id' "-k [.order_id]" ''; do
		run partition -n 3 $k marked
		assert_failure 2
		assert_output --partial "partition: marked:2: a _watermark line is watermark --emit's progress for window, not a record for dedup or reconcile: give -g for window's partitions"
	done
}

@test "the watermark reaches each partition before its next record and at the end" {
	cat > in.ndjson <<'J'
{"t":0,"g":"c"}
{"t":60,"g":"b"}
{"t":30,"g":"b"}
{"t":120,"g":"b"}
J
	run partition -n 2 -g .g -t .t --delay 10s in.ndjson
	assert_success
	# "c" is partition 1, "b" partition 0 (the --shard hash)
	assert_output - <<'J'
1	{"t":0,"g":"c"}
0	{"_watermark":"1969-12-31T23:59:50Z"}
0	{"t":60,"g":"b"}
0	{"_watermark":"1970-01-01T00:00:50Z"}
0	{"t":30,"g":"b"}
0	{"t":120,"g":"b"}
0	{"_watermark":"1970-01-01T00:01:50Z"}
1	{"_watermark":"1970-01-01T00:01:50Z"}
J
}

@test "bad records: file:line and no folder, or dead letters with in = out + letters" {
	printf '%s\n' '{"k":1,"t":1}' 'not json' '[1]' '{"t":2}' \
		'{"k":2,"t":"x"}' '{"k":3,"t":3}' > in.ndjson
	run partition -n 2 -g .k -t .t -o p in.ndjson
	assert_failure 2
	assert_output 'partition: in.ndjson:2: invalid JSON: invalid literal at byte 1'
	[ ! -e p ]
	run ls
	assert_output in.ndjson
	partition -n 2 -g .k -t .t -o p --dlq bad.ndjson --stats in.ndjson \
		2> stats
	run jq -c '[.source.line, .error_type]' bad.ndjson
	assert_output - <<'J'
[2,"invalid_json"]
[3,"wrong_type"]
[4,"missing_field"]
[5,"wrong_type"]
J
	[ "$(stat stats records_in)" -eq 6 ]
	[ "$(stat stats records_out)" -eq 2 ]
	[ "$(stat stats dead_lettered)" -eq 4 ]
	run sh -c 'cat p/*.ndjson | grep -v _watermark | sort'
	assert_output - <<'J'
{"k":1,"t":1}
{"k":3,"t":3}
J
}

@test "-o with --dlq letters nothing when the folder never appears, so a re-run letters each bad record once" {
	printf '%s\n' '{"k":1}' 'not json' '{"k":2}' > in.ndjson
	run partition -n 2 -k .k -o p --dlq bad.ndjson in.ndjson missing.ndjson
	assert_failure 2
	assert_output 'partition: missing.ndjson: No such file or directory'
	[ ! -e p ]
	run cat bad.ndjson
	assert_output ''
	run partition -n 2 -k .k -o p --dlq bad.ndjson in.ndjson
	assert_success
	run jq -c '[.original_record, .source.line]' bad.ndjson
	assert_output '["not json",2]'
}

@test "-o DIR and --dlq DIR are refused before anything is read: the letters took the name the folder is renamed to" {
	printf '%s\n' '{"k":1}' 'not json' > in.ndjson
	for o in p p/ ./p; do
		run partition -n 2 -k .k -o $o --dlq p in.ndjson
		assert_failure 2
		assert_output "partition: -o ${o%/} and --dlq p are one file: one would overwrite the other; name two"
		[ ! -e p ]
	done
	run partition -n 2 -k .k -o - in.ndjson
	assert_failure 2
	assert_output "partition: -o -: '-' names standard input or output, not a file; name a file (./- for one called -)"
	[ ! -e - ]
	# a DIR that exists is refused as that, an input or the --dlq file
	run partition -n 2 -k .k -o in.ndjson in.ndjson
	assert_failure 2
	assert_output 'partition: in.ndjson: exists; partition writes a new folder (remove it, or name another)'
	: > old.ndjson
	run partition -n 2 -k .k -o old.ndjson --dlq old.ndjson in.ndjson
	assert_failure 2
	assert_output 'partition: old.ndjson: exists; partition writes a new folder (remove it, or name another)'
	run partition -n 2 -k .k -o p --dlq bad.ndjson in.ndjson
	assert_success
	run jq -c '[.original_record, .source.line]' bad.ndjson
	assert_output '["not json",2]'
}

@test "-o DIR has the mode mkdir gives under the umask, as its files have open's, not mkdtemp's 0700" {
	printf '{"k":1}\n' > in.ndjson
	(umask 022 && partition -n 2 -k .k -o p in.ndjson)
	(umask 027 && partition -n 2 -k .k -o q in.ndjson)
	run command stat -c '%a %n' p p/0.ndjson q q/1.ndjson
	assert_success
	assert_output - <<'M'
755 p
644 p/0.ndjson
750 q
640 q/1.ndjson
M
}

@test "-o DIR whose files' names would pass PATH_MAX is refused, where they were cut short to 0. and 1." {
	printf '{"k":1}\n' > in.ndjson
	d=$(printf 'd%.0s' $(seq 200))
	for i in $(seq 19); do d=$d/$(printf 'd%.0s' $(seq 200)); done
	mkdir -p "$d" # 4019 bytes: DIR.tmp.XXXXXX/.partition.lock.new fits 4095 for a name of 44
	name=$(printf 'x%.0s' $(seq 44))
	run partition -n 2 -k .k -o "$d/${name}y" in.ndjson
	assert_failure 2
	assert_output "partition: $d/${name}y: too long a path: the names of the files in it would pass 4096 bytes (PATH_MAX); name a shorter one"
	[ ! -e "$d/${name}y" ]
	run partition -n 2 -k .k -o "$d/$name" in.ndjson
	assert_success
	run ls "$d/$name"
	assert_output "$(printf '0.ndjson\n1.ndjson')"
}

@test "-o refuses a folder that exists; usage errors" {
	mkdir p
	printf '{"k":1}\n' > in.ndjson
	run partition -n 2 -k .k -o p in.ndjson
	assert_failure 2
	assert_output 'partition: p: exists; partition writes a new folder (remove it, or name another)'
	run partition -k .k in.ndjson
	assert_failure 2
	assert_line --index 0 'partition: -n N is required: the N of --shard I/N'
	run partition -n 0 -k .k in.ndjson
	assert_failure 2
	assert_line --index 0 "partition: -n: want 1 to 65536 partitions (as --shard), got '0'"
	run partition -n 2 -k .k -g .k in.ndjson
	assert_failure 2
	assert_line --index 0 'partition: -k and -g do not mix: -k keys as dedup and reconcile do, -g as window does'
	run partition -n 2 -k .k --delay 1m in.ndjson
	assert_failure 2
	assert_line --index 0 'partition: --delay goes with -g and -t: the watermark they carry is read by window, not by dedup or reconcile'
	refused 'partition: --delay goes with -t' partition -n 2 -g .k --delay 1m in.ndjson
}

@test "-t without -g is refused: dedup and reconcile would stop at the _watermark lines it writes" {
	printf '{"k":1,"t":1}\n' > in.ndjson
	for keys in '-k .k' ''; do
		refused 'partition: -t goes with -g: the _watermark lines it writes are read by window; dedup and reconcile (-k, or no key) would take them for records' \
			partition -n 2 $keys -t .t -o p in.ndjson
		[ ! -e p ]
	done
}

@test "--time-unit without -g is refused: no epoch number is read" {
	printf '{"k":1}\n' > in.ndjson
	for keys in '-k .k' ''; do
		run partition -n 2 $keys --time-unit ms in.ndjson
		assert_failure 2
		assert_line --index 0 'partition: --time-unit goes with -g: the unit of the epoch numbers of -t and of upstream _watermark lines'
	done
	# with -g it reads the upstream watermark's epoch numbers
	printf '{"k":1}\n{"_watermark":5000}\n' > in.ndjson
	run partition -n 1 -g .k --time-unit ms in.ndjson
	assert_success
	assert_output - <<'J'
0	{"k":1}
0	{"_watermark":"1970-01-01T00:00:05Z"}
J
}

@test "a partition run killed before its rename leaves no folder; the re-run makes it" {
	orders
	run env IDEM_FAULT=partition.written partition -n 2 -k .order_id -o p in.ndjson
	assert_failure 86
	[ ! -e p ]
	partition -n 2 -k .order_id -o p in.ndjson
	cat p/*.ndjson | sort | cmp - <(sort in.ndjson)
}

@test "-o DIR/ with a trailing slash: the folder that holds DIR is fsynced after the rename, not DIR" {
	cc -O2 -shared -fPIC -o shim.so "$BATS_TEST_DIRNAME/faults/shim.c" -ldl
	[ -z "${IDEM_SANITIZED:-}" ] ||
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	mkdir top
	printf '{"k":%d}\n' 1 2 3 > in.ndjson
	# the fourth fsync (two files, the new folder, then the rename's
	# folder) fails: its message names the folder it was
	IDEM_IOFAULT=fsync:4:EIO IDEM_IOFAULT_DIR=$PWD LD_PRELOAD=$PWD/shim.so \
		run partition -n 2 -k .k -o top/p/ in.ndjson
	assert_failure 2
	assert_output 'partition: top/p/: fsync folder top: Input/output error'
	rm -rf top/p
	IDEM_IOFAULT=fsync:4:EIO IDEM_IOFAULT_DIR=$PWD LD_PRELOAD=$PWD/shim.so \
		run partition -n 2 -k .k -o top/p in.ndjson
	assert_failure 2
	assert_output 'partition: top/p: fsync folder top: Input/output error'
}

@test "bytes parsed over N shards: the input once, then the partitions once" {
	orders
	partition -n 4 -k .order_id -o p --stats in.ndjson 2> pstats
	[ "$(stat pstats bytes_in)" -eq "$(wc -c < in.ndjson)" ]
	total=0
	for i in 0 1 2 3; do
		dedup -k .order_id --partition $i/4 --stats p/$i.ndjson \
			> /dev/null 2> s.$i
		total=$((total + $(head -n 1 s.$i | jq .bytes_in)))
	done
	[ "$total" -eq "$(wc -c < in.ndjson)" ]
	[ "$(cat p/*.ndjson | wc -c)" -eq "$(stat pstats bytes_out)" ]
}

# Hadoop Streaming as it runs a job: the mapper once per input split, the
# shuffle sorting the key-prefixed lines by key (the text before the
# first tab; the records of a key in no set order), each key's lines to
# one reducer (here 3 reducers for 4 partitions: Hadoop's partitioner
# hashes the key, so a reducer may get several), the reducer per
# partition set.  The mapper and reducers are idem(7)'s.
streaming() { # MAPPER REDUCER
	local s r
	rm -f split.* map.* red.* part-*
	split -n l/3 in.ndjson split.
	for s in split.*; do sh -c "$1" < "$s" > "map.$s"; done
	LC_ALL=C sort -t "$(printf '\t')" -k1,1 map.* |
		awk -F '\t' '{ print > ("red." ($1 % 3)) }'
	for r in red.*; do sh -c "$2" < "$r" > "part-$r"; done
}

@test "Hadoop Streaming: partition is the mapper, per split; reducers per partition give one process's answer" {
	orders
	streaming 'partition -n 4 -k .order_id' \
		'cut -f2- | dedup -k .order_id --order-by .event_time'
	[ "$(ls red.* | wc -l)" -eq 3 ]
	dedup -k .order_id --order-by .event_time in.ndjson | sort > want
	cat part-* | sort > got
	run cmp want got
	assert_success
	w="window --tumble 1h -t .event_time -g .currency --agg 'n=count()' --agg 's=sum(.amount)'"
	streaming 'partition -n 4 -g .currency' "cut -f2- | $w"
	eval "$w in.ndjson" | window merge > want
	window merge part-* > got
	run cmp want got
	assert_success
}

@test "a reducer's --order-by keeps one record whatever the shuffle's order only with a tiebreak, as idem(7) says" {
	a='{"order_id":1,"event_time":"2024-05-01T10:00:00Z","seq":1}'
	b='{"order_id":1,"event_time":"2024-05-01T12:00:00+02:00","seq":2}'
	# one instant: the later record wins, so the order decides
	run dedup -k .order_id --dupes d --order-by .event_time <<< "$a"$'\n'"$b"
	assert_output "$b"
	run dedup -k .order_id --dupes d --order-by .event_time <<< "$b"$'\n'"$a"
	assert_output "$a"
	for o in "$a"$'\n'"$b" "$b"$'\n'"$a"; do
		run dedup -k .order_id --dupes d --order-by '[.event_time, .seq]' <<< "$o"
		assert_output "$b"
	done
}

@test "--stats adds up with _watermark lines carried: records_in = records_out + dead_lettered + watermarks_carried + watermarks_replaced" {
	printf '%s\n' '{"id":1,"t":10}' '{"id":2,"t":20}' '{"id":3,"t":30}' |
		watermark -t .t --emit > wm.ndjson
	printf '%s\n' 'not json' >> wm.ndjson
	partition -n 2 -g .id -o p --dlq bad.ndjson --stats wm.ndjson 2> st
	run jq -c 'del(.seconds, .bytes_in, .bytes_out)' st
	assert_output '{"tool":"partition","records_in":7,"records_out":3,"duplicates":0,"late":0,"dead_lettered":1,"partitions":2,"watermarks":4,"watermarks_carried":3,"watermarks_replaced":0}'
	# what was written: the 3 records and the 4 lines watermarks counts
	assert_equal "$(cat p/*.ndjson | grep -c '^{"id"')" 3
	assert_equal "$(cat p/*.ndjson | grep -c '^{"_watermark"')" 4
	partition -n 2 -g .id -t .t -o q --stats wm.ndjson --dlq bad2.ndjson 2> st
	run sh -c "grep '^{' st | jq -c '[.records_in, .records_out, .dead_lettered, .watermarks_carried, .watermarks_replaced]'"
	assert_output '[7,3,1,0,3]'
	assert_equal "$(grep -v '^{' st)" 'partition: 3 records dropped: _watermark lines replaced by -t'"'"'s (leaving out -t keeps them)'
}

@test "-o: a stop removes the folder beside DIR; a run killed by a signal leaves it, as partition(1) says, and never DIR" {
	printf '{"id":1}\nbad\n' > in.ndjson
	run partition -n 2 -k .id -o p in.ndjson
	assert_failure 2
	run ls -a
	refute_output --partial p.tmp.
	mkfifo feed
	partition -n 2 -k .id -o p feed &
	pid=$!
	exec 5> feed
	echo '{"id":1}' >&5
	for i in $(seq 1 50); do ls -d p.tmp.* > /dev/null 2>&1 && break; sleep 0.1; done
	kill -TERM "$pid"
	wait "$pid" || :
	exec 5>&-
	[ ! -e p ]
	ls -d p.tmp.*
	run partition -n 2 -k .id -o p in.ndjson
	assert_failure 2
	printf '{"id":1}\n' > ok.ndjson
	run partition -n 2 -k .id -o p ok.ndjson
	assert_success
	[ -d p ]
}

@test "-o: the next run over DIR removes a killed run's folder, and never a live run's, another host's or one it did not make" {
	printf '{"id":1}\n{"id":2}\n' > ok.ndjson
	mkfifo feed
	partition -n 2 -k .id -o p feed &
	pid=$!
	exec 5> feed
	echo '{"id":1}' >&5
	for i in $(seq 1 50); do ls p.tmp.*/.partition.lock > /dev/null 2>&1 && break; sleep 0.1; done
	live=$(ls -d p.tmp.*)
	# a run over DIR while another writes it leaves its folder alone
	run partition -n 2 -k .id -o p ok.ndjson
	assert_success
	assert_output ''
	[ -d "$live" ]
	rm -r p
	kill -KILL "$pid"
	wait "$pid" || :
	exec 5>&-
	# not partition's: no lock file, or a file it did not write
	mkdir p.tmp.AAAAAA p.tmp.BBBBBB p.tmp.CCCCCC
	: > p.tmp.AAAAAA/0.ndjson
	cat /proc/sys/kernel/random/boot_id > p.tmp.BBBBBB/.partition.lock
	: > p.tmp.BBBBBB/notes.txt
	echo another-boot > p.tmp.CCCCCC/.partition.lock
	run partition -n 2 -k .id -o p ok.ndjson
	assert_success
	# in name order; the killed run's name is random
	assert_equal "${#lines[@]}" 3
	assert_line 'partition: p.tmp.BBBBBB: the unfinished folder of a run that was killed, left: it holds what partition did not write, or cannot be removed'
	assert_line 'partition: p.tmp.CCCCCC: the unfinished folder of a run on another host or before a reboot, left: its lock says nothing here (remove it if no run writes it)'
	assert_line "partition: $live: removed, the unfinished folder of a run that was killed"
	[ ! -e "$live" ]
	run ls -a p p.tmp.AAAAAA
	assert_output - <<'E'
p:
.
..
0.ndjson
1.ndjson

p.tmp.AAAAAA:
.
..
0.ndjson
E
}

@test "a file named twice, or by a hard link, is refused, as window and reconcile refuse it: its records twice in the partitions" {
	printf '{"c":"EUR","t":1}\n' > ev
	ln ev ev2
	refused "partition: ev: named twice: its records would count twice in the partitions; name each once" \
		partition -n 2 -g .c -o p ev ev
	[ ! -e p ]
	refused "partition: ev2: the same file as ev (a hard link or a second name): its records would count twice in the partitions; name each once" \
		partition -n 2 -k .c ev ev2
	refused "window: ev: named twice: its records would count twice in the panes; name each once" \
		window --tumble 1m -t .t -g .c ev ev
	# standard input named twice is read once, as everywhere
	run partition -n 1 -k .c - - < ev
	assert_success
	assert_output "$(printf '0\t{"c":"EUR","t":1}')"
}
