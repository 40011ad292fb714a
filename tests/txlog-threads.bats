#!/usr/bin/env bats
# txlog -j: append, cat and optimize on threads give the tables and the
# output of one thread, byte for byte.  IDEM_ZIO_FRAME makes frames small
# so that a few hundred KiB of input spread over many frames in flight.

load helpers

# What a table holds, with what differs run to run (times, uuids in file
# names) taken out: each commit's actions, then the data files' bytes in
# the order the log adds them.
table_dump() { # TABLE
	python3 - "$1" <<'EOF'
import hashlib, json, os, sys, urllib.parse
t = sys.argv[1]
log = os.path.join(t, "_delta_log")
for name in sorted(os.listdir(log)):
    if not name.endswith(".json"):
        continue
    for line in open(os.path.join(log, name)):
        a = json.loads(line)
        for k in ("add", "remove"):
            if k in a:
                p = urllib.parse.unquote(a[k].pop("path"))
                a[k].pop("modificationTime", None)
                a[k].pop("deletionTimestamp", None)
                if k == "add":
                    with open(os.path.join(t, p), "rb") as f:
                        a[k]["bytes"] = hashlib.sha256(f.read()).hexdigest()
                    # the folder, not the uuid'd name
                    a[k]["dir"] = os.path.dirname(p)
        if "commitInfo" in a:
            a["commitInfo"].pop("timestamp", None)
            a["commitInfo"].pop("txnId", None)
            a["commitInfo"].pop("idem.xxh3_128", None)
        if "metaData" in a:
            a["metaData"].pop("id", None)
            a["metaData"].pop("createdTime", None)
        print(name, json.dumps(a, sort_keys=True))
EOF
}

setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	"$IDEM_GEN" -n "$(quick 6000 2000)" -s 7 > in.ndjson
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	cp "$BATS_FILE_TMPDIR/in.ndjson" .
	export IDEM_ZIO_FRAME=20000
}

@test "append -j 4: the table of -j 1, frames and statistics alike" {
	for j in 1 4; do
		txlog init t$j --infer
		txlog append t$j in.ndjson -j $j --stats 2> stats.$j
		# a second commit that widens the schema, from a pipe
		sed 's/"qty":\([0-9]*\)/"qty":\1.5/' in.ndjson | head -500 |
			txlog append t$j --merge-schema --threads $j
	done
	table_dump t1 > d1
	table_dump t4 > d4
	run diff d1 d4
	assert_success
	assert_output ''
	# many frames were written (the test is not about one frame)
	run python3 -c 'import sys; print(sum(open(f, "rb").read().count(b"\x28\xb5\x2f\xfd") for f in sys.argv[1:]) > 20)' $(find t1 -name '*.zst')
	assert_output True
	run jq -c '[.threads, .records_out, (.own_cpu_seconds >= 0), (.compress_cpu_seconds > 0)]' stats.4
	assert_output "[4,$(wc -l < in.ndjson),true,true]"
	run sh -c 'txlog cat t4 | head -n -500 | cmp - in.ndjson'
	assert_success
}

# Tables t1 and t4 made by init ARGS and an append of INPUT with -j 1
# and -j 4; their dumps d1 and d4 must match.
same_tables() { # INPUT INIT-ARG...
	in=$1
	shift
	for j in 1 4; do
		txlog init t$j "$@"
		txlog append t$j "$in" -j $j
	done
	table_dump t1 > d1
	table_dump t4 > d4
	run diff d1 d4
	assert_success
}

@test "append's statistics gathered chunk by chunk are one pass's: ties, instants, escapes, long and nested values" {
	# an unpartitioned append bounds each chunk on the thread that
	# parsed it and merges the chunks' bounds; a table partitioned by a
	# column every record holds the same value of takes the records one
	# by one: the two adds' statistics must be the same text
	cat > schema.json <<'EOF'
{"type":"struct","fields":[{"name":"p","type":"string","nullable":true,"metadata":{}},{"name":"id","type":"decimal(38,0)","nullable":true,"metadata":{}},{"name":"amt","type":"decimal(38,4)","nullable":true,"metadata":{}},{"name":"f","type":"double","nullable":true,"metadata":{}},{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}},{"name":"b","type":"boolean","nullable":true,"metadata":{}},{"name":"n","type":{"type":"struct","fields":[{"name":"k","type":"long","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},{"name":"e\u00e9","type":"long","nullable":true,"metadata":{}}]}
EOF
	python3 - > tricky.ndjson <<'EOF'
import json, random
random.seed(5)
for i in range(3000):
    r = {"p": '"x"'}
    # equal values spelt apart: which spelling a bound keeps is the
    # first one's, whichever chunk it falls in
    r["id"] = random.choice([str(i % 7), "null", "1" + "0" * random.randint(0, 30), "-0"])
    r["amt"] = random.choice(["1.50", "1.5", "-0.0", "2e3", "2000", "null", "-7.25", "-7.2500"])
    r["f"] = random.choice(["1.5", "1.50", "-0.0", "0", "1e300", "-2.5e-3", "null"])
    r["ts"] = random.choice(['"2024-01-01T10:00:00+05:00"', '"2024-01-01T05:00:00Z"',
                             '"2024-01-01T05:00:00.000z"', "null",
                             '"2024-01-0%dT00:00:00-08:00"' % random.randint(1, 9)])
    # a column that goes unbounded (a long string) late in the input
    r["s"] = random.choice(['"a"', '"\\u00e9"', '"\u00e9"', '"' + "x" * 200 + '"', "null", '"A"']
                           if i > 2000 else ['"a"', '"b"', '"\\u0041"', '"A"', "null"])
    r["b"] = random.choice(["true", "false", "null"])
    r["n"] = random.choice(['{"k":1}', "null"])
    if random.random() < 0.2:
        r["e\u00e9"] = str(random.randint(0, 5))
    keys = list(r)
    if random.random() < 0.3:
        random.shuffle(keys)
    def name(k):
        if k == "e\u00e9" and random.random() < 0.5:
            return '"e\\u00e9"'
        return json.dumps(k, ensure_ascii=False)
    print("{" + ",".join(name(k) + ":" + r[k] for k in keys) + "}")
EOF
	txlog init one --schema schema.json
	txlog init part --schema schema.json --partition-by p
	IDEM_PAR_CHUNK=700 txlog append one tricky.ndjson -j 4
	txlog append part tricky.ndjson -j 1
	jq -r 'select(.add) | .add.stats' one/_delta_log/*1.json > s.one
	jq -r 'select(.add) | .add.stats' part/_delta_log/*1.json > s.part
	run cmp s.one s.part
	assert_success
	# the statistics say something: tied spellings, an instant bound,
	# no bounds for the long strings' column
	# (the text, not jq's: jq prints 2e3 as 2000)
	first_max=$(grep -o '"amt":\(2e3\|2000\)' tricky.ndjson | head -n 1)
	run grep -o '"maxValues":{[^}]*}' s.one
	assert_output '"maxValues":{"ts":"2024-01-09T08:00:00.000Z","p":"x","id":1000000000000000000000000000000,'"$first_max"',"f":1e300,"eé":5}'
	run jq -c '[.minValues.amt, .minValues.ts, .maxValues.s, .nullCount.b]' s.one
	assert_output "[-7.25,\"2024-01-01T05:00:00.000Z\",null,$(grep -c '"b":null' tricky.ndjson)]"
}

@test "append from a pipe that pauses writes the data files of the same bytes from a file" {
	for j in 1 4; do
		txlog init f$j --infer
		txlog append f$j in.ndjson -j $j
		txlog init p$j --infer
		{ head -c 100000 in.ndjson; sleep 0.3; tail -c +100001 in.ndjson; } |
			txlog append p$j -j $j
	done
	table_dump f1 > d1
	for t in f4 p1 p4; do
		table_dump $t > d2
		run diff d1 d2
		assert_success
	done
}

@test "append -j 4 --partition-by: the table of -j 1" {
	same_tables in.ndjson --infer --partition-by currency
	run bash -c 'cmp <(txlog cat t4 | sort) <(sort in.ndjson)'
	assert_success
}

@test "append to 40 partitions: frames cut over the bound, one syncfs, the table of -j 1" {
	# 6000 records at any IDEM_QUICK: 40 x 40 KB spans 5 cuts
	"$IDEM_GEN" -n 6000 -s 7 |
		awk '{ sub(/^\{/, "{\"k\":" (NR % 40) ","); print }' > k.ndjson
	same_tables k.ndjson --infer --partition-by k
	run sh -c 'grep -c "\"add\"" d1'
	assert_output 40
	# 40 x 20000 bytes of frames being filled is over the bound of 16
	# frames: every file was cut, so each holds more frames than its
	# size alone would make
	run python3 -c 'import sys; print(min(open(f, "rb").read().count(b"\x28\xb5\x2f\xfd") for f in sys.argv[1:]) >= 5)' $(find t1 -name '*.zst')
	assert_output True
	run bash -c 'cmp <(txlog cat t4 | sort) <(sort k.ndjson)'
	assert_success
	run txlog verify t4
	assert_success
}

@test "append -j 4 refuses a bad record as -j 1 does, commits nothing, leaves no file" {
	awk 'NR == 1500 { print "{\"order_id\":" } NR == 1800 { print "{\"amount\":\"x\"}" } { print }' in.ndjson > bad.ndjson
	for j in 1 4; do
		txlog init t$j --infer
		txlog append t$j in.ndjson -j $j
		run txlog append t$j bad.ndjson -j $j
		assert_failure 2
		echo "$output" > err.$j
		run find t$j -name '*.zst' -newer t$j/_delta_log/00000000000000000001.json
		assert_output ''
		run ls t$j/_delta_log
		assert_output $'00000000000000000000.json\n00000000000000000001.json'
	done
	run cat err.4
	assert_output 'txlog: bad.ndjson:1500: invalid JSON: unexpected end of input at byte 13; nothing committed'
	run cmp err.1 err.4
	assert_success
}

# Records whose schema keeps changing: columns that appear late, start
# as null, widen from integer to long to double, nested ones that grow a
# member; with bad, one record late in the input conflicts (a string
# where a number was), so the write must stop there, naming it; with
# more, two more columns come in.
evolving() { # SEED N [bad|more]
	python3 - "$@" <<'EOF'
import json, random, sys
rnd = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else ""
bad = mode == "bad"
cols = ["c%d" % i for i in range(14 if mode == "more" else 12)]
born = {c: rnd.randrange(n) for c in cols}
wide = {c: rnd.randrange(n) for c in cols}
bad_at = rnd.randrange(n // 2, n) if bad else -1
for i in range(n):
    r = {"id": i}
    for c in cols:
        if i < born[c] or rnd.random() < 0.3:
            continue
        if rnd.random() < 0.1:
            r[c] = None
        elif i < wide[c]:
            r[c] = rnd.randrange(100)
        else:
            r[c] = rnd.choice([2**40 + i, i + 0.5, i])
    if i > n // 3 and rnd.random() < 0.5:
        r["nest"] = {"a": i} if i < n // 2 else {"a": i, "b": "x%d" % i}
    if i == bad_at:
        r["id"] = "not a number"
    print(json.dumps(r, separators=(",", ":")))
EOF
}

@test "append -j 4 evolves the schema as -j 1 does: same tables, same refusal, over random inputs" {
	# Small chunks: many in flight, so the threads check records against
	# schema snapshots older than the records before them.
	export IDEM_PAR_CHUNK=2000
	for seed in $(seq 1 "$(quick 8 3)"); do
		evolving "$seed" 3000 > ev.ndjson
		evolving $((seed + 100)) 3000 more > ev2.ndjson
		for j in 1 4; do
			rm -rf t$j
			txlog init t$j --infer
			txlog append t$j ev.ndjson -j $j
			# a second write that must widen: refused without
			# --merge-schema at the first record that needs it
			txlog append t$j ev2.ndjson -j $j 2> refused.$j || true
			txlog append t$j ev2.ndjson -j $j --merge-schema
		done
		table_dump t1 > d1
		table_dump t4 > d4
		run diff d1 d4
		assert_success
		run cmp refused.1 refused.4
		assert_success
		# a conflict late in the input: the same record named
		evolving "$seed" 3000 bad > bad.ndjson
		for j in 1 4; do
			rm -rf b$j
			txlog init b$j --infer
			run txlog append b$j bad.ndjson -j $j
			assert_failure 2
			echo "$output" > bad.$j
			run ls b$j/_delta_log
			assert_output '00000000000000000000.json'
		done
		run cmp bad.1 bad.4
		assert_success
	done
	# the refusals are the real ones, not two empty files
	run cat bad.4
	assert_output --regexp '^txlog: bad\.ndjson:[0-9]+: column \.id: string where the schema has (integer|long); nothing committed$'
	grep -q 'merge-schema' refused.4
}

@test "overwrite, merge, delete and update -j 4: the tables of -j 1" {
	export IDEM_PAR_CHUNK=3000
	head -n 1000 in.ndjson > a.ndjson
	# half the keys again, once each, with changed amounts
	dedup -k .order_id a.ndjson 2>/dev/null |
		awk 'NR % 2 { sub(/"amount":[0-9.]+/, "\"amount\":" NR ".25"); print }' > b.ndjson
	for j in 1 4; do
		txlog init t$j --infer
		txlog append t$j a.ndjson -j $j
		txlog merge t$j -k .order_id b.ndjson -j $j
		txlog overwrite t$j --where 'currency = "EUR"' -j $j < <(grep '"EUR"' b.ndjson)
		txlog delete t$j --where 'amount < 10' -j $j
		txlog update t$j --set 'currency = "XXX"' --where 'amount > 900' -j $j
	done
	# several files a commit, rows copied from several: the same bytes,
	# since files are numbered in one count a commit and rewrites read
	# them in commit order, whatever their uuids
	table_dump t1 > d1
	table_dump t4 > d4
	run diff d1 d4
	assert_success
	run sh -c 'ls t4/_delta_log/*.json | wc -l'
	assert_output 6
	[ "$(grep -c '"add"' d4)" -ge 8 ] # the dump is not empty
	run sh -c 'txlog cat t4 | jq -s "[length, (map(select(.currency == \"XXX\")) | length > 0)]" -c'
	assert_output --regexp '^\[[0-9]+,true\]$'
}

@test "-j takes a count; 0 is every core; other verbs refuse it" {
	txlog init t --infer
	run txlog append t in.ndjson -j x
	assert_failure 2
	assert_output --partial "-j"
	run txlog append t in.ndjson -j 0 --stats
	assert_success
	run txlog log t -j 2
	assert_failure 2
	assert_output --partial "txlog: log: --threads does not apply to log"
}

@test "a -j 4 append killed with SIGKILL commits nothing" {
	txlog init t --infer
	for i in 1 2 3 4 5 6 7 8; do cat in.ndjson; done > big.ndjson
	unset IDEM_ZIO_FRAME
	for d in 0.05 0.15 0.3; do
		txlog append t big.ndjson -j 4 &
		pid=$!
		sleep $d
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
	done
	# a version is whole or absent: what verify reads matches the log
	run txlog verify t
	assert_success
	n=$(ls t/_delta_log/*.json | wc -l)
	run sh -c "txlog cat t | wc -l"
	assert_output "$(( (n - 1) * $(wc -l < big.ndjson) ))"
}

@test "cat -j 4: the output of -j 1, with --where, time travel and a damaged file" {
	txlog init t --infer --partition-by currency
	split -l 700 in.ndjson c.
	for c in c.*; do txlog append t "$c" -j 1; done
	for args in "" "--where amount>100" "--where .amount>100" "--version 3" "--where currency=\"EUR\""; do
		txlog cat t $args -j 1 --stats > out.1 2> err.1
		txlog cat t $args -j 4 --stats > out.4 2> err.4
		cmp out.1 out.4
		run diff <(jq -c 'del(.seconds)' err.1) <(jq -c 'del(.seconds)' err.4)
		assert_success
		[ -s out.1 ]
	done
	# a file in the middle damaged in place: the rows before it, then
	# the fault
	f=$(jq -r '.add.path // empty' t/_delta_log/00000000000000000002.json | head -1)
	printf '\001' | dd of="t/$f" bs=1 seek=20 count=1 conv=notrunc status=none
	run txlog cat t -j 1
	assert_failure 2
	echo "$output" > o.1
	[ "$(wc -l < o.1)" -gt 1 ]
	run txlog cat t -j 4
	assert_failure 2
	echo "$output" > o.4
	cmp o.1 o.4
	run tail -n 1 o.4
	assert_output "txlog: t: $f: damaged data file (its checksum differs from the log's); run txlog verify"
}

@test "cat -j: files of many blocks each, the ring of waiting blocks wrapping, give the bytes of -j 1" {
	# 1 MiB blocks, 4 to 16 of them waiting a file: 12 MB files fill
	# and wrap the ring at -j 2 (16) and -j 8 (4); a damaged last file
	# still ends the output where -j 1 ends it
	gen -n 90000 > big.ndjson
	split -n l/2 big.ndjson b.
	txlog init t --infer
	for c in b.*; do txlog append t "$c" -j 1; done
	txlog cat t -j 1 > out.1
	cmp out.1 big.ndjson
	for j in 2 8; do
		txlog cat t -j $j > out.$j
		cmp out.1 out.$j
	done
	f=$(jq -r '.add.path // empty' t/_delta_log/00000000000000000002.json | head -1)
	# a byte changed in place: found by the checksum, when the output
	# gets there (a size that differs is refused before any row)
	printf '\001' | dd of="t/$f" bs=1 seek=100 count=1 conv=notrunc status=none
	run sh -c 'txlog cat t -j 2 > out.bad 2> err.bad'
	assert_failure 2
	cmp out.bad b.aa # the first file's rows, then the fault
	run cat err.bad
	assert_output "txlog: t: $f: damaged data file (its checksum differs from the log's); run txlog verify"
	printf 'x' >> "t/$f"
	run sh -c 'txlog cat t -j 2 > out.bad 2> err.bad'
	assert_failure 2
	[ ! -s out.bad ]
	run cat err.bad
	assert_output "txlog: t: $f: damaged data file (its size differs from the log's); run txlog verify"
}

@test "cat -j 2 with most files skipped by their statistics: no wait, the rows of -j 1" {
	# The read-ahead window counted skipped files but only the files
	# written moved it on: with more skipped files ahead than the window,
	# every thread waited for the writer, and it for them.
	txlog init t --infer
	for x in $(seq 1 12); do
		echo "{\"x\":$x}" | txlog append t
	done
	run timeout 20 txlog cat t --where 'x = 12' -j 2
	assert_success
	assert_output '{"x":12}'
	run timeout 20 txlog cat t --where 'x >= 11' -j 1
	assert_success
	assert_output "$(printf '{"x":11}\n{"x":12}')"
	run timeout 20 txlog cat t --where 'x >= 11' -j 2
	assert_success
	assert_output "$(printf '{"x":11}\n{"x":12}')"
}
