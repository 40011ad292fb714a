#!/usr/bin/env bats
# -j/--threads: every tool that takes it gives, for any number of
# threads, byte for byte what one thread gives (idem(7) THREADS): stdout,
# stderr, the files it writes (--dlq, --dupes, state) and the exit status,
# from a file and from a pipe, with chunks forced small (IDEM_PAR_CHUNK)
# so that many are in flight.  The shared harness comes first; each
# tool's tests sit in their own section below it.

load helpers
bats_require_minimum_version 1.5.0

# ---- the harness ----

# par_input FILE SEED N [torn]: N random NDJSON lines for the -j tests:
# objects with .id (small ints, strings, 1 vs 1.0, big integers, nested
# objects, null), .t (RFC 3339 or epoch seconds, some bad), .o and .v
# numbers; and bad records among them: invalid JSON, arrays and strings,
# objects without .id, CRLF line ends, blank lines, lines longer than
# 600 bytes (run with --max-line 512 to make them too long).  "torn":
# the last line has no newline (torn when read from a pipe).
par_input() {
	python3 - "$@" <<'PY'
import json, random, sys
path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torn = len(sys.argv) > 4 and sys.argv[4] == "torn"
r = random.Random(seed)
ids = [1, 2, "1", "a", "b", 12345678901234567891, 12345678901234567892,
       {"x": 1, "y": [1, 2]}, {"y": [1, 2], "x": 1}, None, 3, "é"]
out = []
for i in range(n):
    k = r.random()
    if k < 0.03:
        out.append('{"id":1,"t":')                      # invalid JSON
    elif k < 0.05:
        out.append('[1,2]' if r.random() < .5 else '"just a string"')
    elif k < 0.07:
        out.append(json.dumps({"v": i}))                # no .id
    elif k < 0.09:
        out.append(r.choice(["", " ", "\t \r"]))           # blank line
    elif k < 0.10:
        out.append(json.dumps({"id": i, "pad": "x" * 700}))  # too long
    else:
        rec = {"id": r.choice(ids), "v": r.randint(0, 9), "o": r.randint(0, 5)}
        s = r.random()
        if s < 0.05:
            rec["t"] = "not a time"
        elif s < 0.5:
            rec["t"] = 1714521600 + r.randint(0, 7200) - (i % 7) * 900
        else:
            sec = r.randint(0, 7200) - (i % 5) * 600
            rec["t"] = "2024-05-01T%02d:%02d:%02dZ" % (
                max(0, 1 + sec // 3600), (sec // 60) % 60, sec % 60)
        line = json.dumps(rec, ensure_ascii=False)
        if r.random() < 0.3:
            line = line.replace('"id": 1,', '"id": 1.0,')
        out.append(line)
data = "".join(l + ("\r\n" if i % 11 == 3 else "\n") for i, l in enumerate(out))
if torn:
    data = data.rstrip("\r\n")
open(path, "w", encoding="utf-8").write(data)
PY
}

# par_run DIR J CHUNK MODE INPUT CMD...: run CMD in DIR/work with "@J@"
# replaced by -jJ and "@IN@" by the input (a path, or "-" with the input
# piped in when MODE is pipe); PAR_RUNS times (default 1, 2 for a state
# used twice).  Keeps stdout, stderr and the status of each run beside
# the work folder, with the times that change every run (failed_at,
# --stats seconds) masked.
par_run() {
	local dir=$1 j=$2 chunk=$3 mode=$4 input=$5
	shift 5
	mkdir -p "$dir/work"
	local n=${PAR_RUNS:-1} k a
	for ((k = 1; k <= n; k++)); do
		local args=()
		for a in "$@"; do
			case $a in
			@J@) args+=("-j$j") ;;
			@IN@) if [ "$mode" = pipe ]; then args+=(-); else args+=("$input"); fi ;;
			*) args+=("$a") ;;
			esac
		done
		local rc=0
		if [ "$mode" = pipe ]; then
			(cd "$dir/work" && cat "$input" | IDEM_PAR_CHUNK=$chunk \
				exec "${args[@]}") >"$dir/out$k" 2>"$dir/err$k" || rc=$?
		else
			(cd "$dir/work" && IDEM_PAR_CHUNK=$chunk \
				exec "${args[@]}") >"$dir/out$k" 2>"$dir/err$k" || rc=$?
		fi
		echo "$rc" >"$dir/rc$k"
	done
	# one sed for every file: these run hundreds of times
	find "$dir" -type f ! -name 'rc*' ! -name 'out*' -exec \
		env LC_ALL=C sed -i -e 's/"failed_at":"[^"]*"/"failed_at":"T"/g' \
		-e 's/"seconds":[0-9.e+-]*/"seconds":S/' {} +
}

# same_threads INPUT CMD...: CMD (with @J@ and @IN@, as par_run) gives
# the same stdout, stderr, files and status with -j1 as with -j4 over
# 300-byte chunks from a file and over one-line chunks from a pipe.  Prints
# the differences when there are any.  The statuses it saw are left in
# $PAR_STATUS (one -j1 run per mode), for the caller to check the input
# did what it meant to.
same_threads() {
	local input=$1
	shift
	case $input in /*) ;; *) input=$PWD/$input ;; esac
	local base=$BATS_TEST_TMPDIR/par.$RANDOM$RANDOM mode ref got
	PAR_STATUS=
	for mode in file pipe; do
		ref=$base/$mode.j1
		par_run "$ref" 1 1048576 "$mode" "$input" "$@"
		PAR_STATUS="$PAR_STATUS $(cat "$ref/rc1")"
		# a file over 300-byte chunks (several lines each, the keep
		# arena reused), a pipe over one-line chunks
		local j=4 chunk=300
		[ "$mode" = file ] || chunk=1
		{
			par_run "$base/$mode.j$j" "$j" "$chunk" "$mode" "$input" "$@"
			if ! diff -r "$ref" "$base/$mode.j$j" >"$base/diff" 2>&1; then
				echo "-j$j (IDEM_PAR_CHUNK=$chunk, $mode) differs from -j1: $*"
				head -40 "$base/diff"
				return 1
			fi
		}
	done
	rm -rf "$base"
}

@test "harness: same_threads notices a difference between -j1 and -j4" {
	# a command whose output depends on -j must fail the check
	cat >"$BATS_TEST_TMPDIR/jdep" <<'SH'
#!/bin/sh
echo "$1"
SH
	chmod +x "$BATS_TEST_TMPDIR/jdep"
	printf '{"id":1}\n' >in.ndjson
	run same_threads in.ndjson "$BATS_TEST_TMPDIR/jdep" @J@ @IN@
	assert_failure
	assert_output --partial "-j4 (IDEM_PAR_CHUNK=300, file) differs from -j1"
	# and a file written differently, too
	cat >"$BATS_TEST_TMPDIR/jfile" <<'SH'
#!/bin/sh
echo "$1" >side.txt
SH
	chmod +x "$BATS_TEST_TMPDIR/jfile"
	run same_threads in.ndjson "$BATS_TEST_TMPDIR/jfile" @J@ @IN@
	assert_failure
	assert_output --partial "side.txt"
}

@test "-j refuses junk, a negative count and more than 256 threads" {
	printf '{"id":1}\n' >in.ndjson
	run --separate-stderr dedup -k .id -j x in.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: -j: not a whole number: 'x'
Try 'dedup --help' for more information."
	run --separate-stderr dedup -k .id --threads=-1 in.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: -j: not a whole number: '-1'
Try 'dedup --help' for more information."
	run --separate-stderr dedup -k .id -j 257 in.ndjson
	assert_failure 2
	assert_equal "$stderr" "dedup: -j: at most 256 threads, got '257'
Try 'dedup --help' for more information."
	run --separate-stderr dedup -k .id -j 0 in.ndjson
	assert_success
	assert_output '{"id":1}'
	run --separate-stderr dedup -k .id --threads 256 in.ndjson
	assert_success
	assert_output '{"id":1}'
}

# ---- dedup ----

dedup_input() {
	par_input in.ndjson "${1:-1}" "$(quick 800 300)"
	par_input torn.ndjson "${1:-1}" "$(quick 200 100)" torn
}

@test "dedup -j: keys plain and jq, several -k, whole records: same as -j1" {
	dedup_input 11
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson --dupes d.ndjson -k .id --stats @IN@
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k '.id|tostring' -k '.v + 1' @IN@
	same_threads torn.ndjson dedup @J@ --dlq dlq.ndjson --dupes d.ndjson @IN@
}

@test "dedup -j: the first bad record without --dlq stops the run at the same place" {
	dedup_input 12
	same_threads in.ndjson dedup @J@ -k '[.id, .v]' --dupes d.ndjson @IN@
	assert_equal "$PAR_STATUS" " 2 2"
	same_threads torn.ndjson dedup @J@ --max-line 512 -k .id --check @IN@
}

@test "dedup -j: --keep last and --order-by: same as -j1" {
	dedup_input 13
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson --keep last --dupes d.ndjson -k .id @IN@
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson --order-by .t --dupes d.ndjson -k .id @IN@
	same_threads torn.ndjson dedup @J@ --max-line 512 --order-by '.o|tostring' -k .id @IN@
}

@test "dedup -j: -t/--ttl, --time-unit, late records, --state twice, --batch: same as -j1" {
	dedup_input 14
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id -t .t --ttl 20m --time-unit ms --stats @IN@
	same_threads torn.ndjson dedup @J@ --max-line 512 -k .id -t .t --ttl 5m @IN@
	PAR_RUNS=2 same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id -t .t --ttl 30m --state s.idx --stats @IN@
	PAR_RUNS=2 same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id --keep last --state s.idx --batch b1 @IN@
}

@test "dedup -j: --check, --shard and --partition: same as -j1" {
	dedup_input 16
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id --check @IN@
	assert_equal "$PAR_STATUS" " 1 1"
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id --shard 2/3 -t .t --ttl 10m --stats @IN@
	# a partition that holds another shard's key stops at the same line
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id --partition 1/2 @IN@
	assert_equal "$PAR_STATUS" " 2 2"
	partition -k .id -n 2 -o parts --dlq pdlq.ndjson --max-line 512 in.ndjson
	same_threads parts/1.ndjson dedup @J@ -k .id --partition 1/2 --dupes d.ndjson @IN@
	assert_equal "$PAR_STATUS" " 0 0"
}

@test "dedup -j: jq programs on many threads agree with one thread" {
	# one jq_state per thread: programs that build values, fail, and
	# yield nothing
	par_input in.ndjson 17 "$(quick 1500 500)"
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k '.id as $x | [$x, (.v * 2)] | tostring' @IN@
	same_threads in.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k 'if .v > 4 then .id else error("small v") end' --order-by 'select(.v > 2) | .o' @IN@
}

@test "dedup -j: several files, a missing one, gzip and zstd: same as -j1" {
	par_input a.ndjson 18 200
	par_input b.ndjson 19 200
	gzip -c a.ndjson >a.ndjson.gz
	zstd -q -c b.ndjson >b.ndjson.zst
	same_threads a.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id "$PWD/a.ndjson.gz" @IN@ "$PWD/b.ndjson.zst"
	same_threads a.ndjson dedup @J@ --max-line 512 --dlq dlq.ndjson -k .id @IN@ "$PWD/missing.ndjson" "$PWD/b.ndjson"
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "dedup -j: a big input from a pipe, threads 1, 2, 8 and the default agree" {
	gen -n "$(quick 20000 8000)" --keys 6000 -s 5 >big.ndjson
	dedup -j1 -k .order_id --dupes d1.ndjson --stats big.ndjson >o1 2>e1
	for j in 2 8; do
		cat big.ndjson | dedup -j$j -k .order_id --dupes d$j.ndjson --stats >o$j 2>e$j
		cmp o1 o$j
		cmp d1.ndjson d$j.ndjson
		diff <(sed 's/"seconds":.*//' e1) <(sed 's/"seconds":.*//' e$j)
	done
	dedup -k .order_id big.ndjson 2>/dev/null | cmp - o1
	[ "$(wc -l <o1)" -eq 6000 ]
}

# ---- watermark, dlq check, partition ----

# wm_input FILE SEED N [torn]: par_input's records with upstream
# {"_watermark":...} lines among them (a good one every 37 lines, a bad
# one every 101), which watermark drops and partition passes on or
# dead-letters; a torn last line stays torn.
wm_input() {
	par_input "$@"
	sed -i -e '37~37i {"_watermark":"2024-05-01T01:00:00Z"}' \
		-e '101~101i {"_watermark":"soon"}' "$1"
}

# The inputs every test below reads, made once per run of this file.
wmdlq_inputs() {
	local c=$BATS_FILE_TMPDIR/wmdlq
	if [ ! -e "$c/torn.ndjson" ]; then
		mkdir -p "$c"
		wm_input "$c/in.ndjson" 31 "$(quick 1200 400)"
		wm_input "$c/torn.ndjson" 32 "$(quick 300 100)" torn
	fi
	cp "$c/in.ndjson" "$c/torn.ndjson" .
}

@test "watermark -j: every option, bad and late records, --dlq: same as -j1" {
	wmdlq_inputs
	same_threads in.ndjson watermark @J@ --max-line 512 --dlq dlq.ndjson -t .t --delay 10m --lateness 5m --late late.ndjson --emit --stats @IN@
	same_threads in.ndjson watermark @J@ --max-line 512 --dlq dlq.ndjson -t 'if .v > 7 then error("big v") else .t end' -p '.o % 3' --partitions 4 --idle 20m --late drop --emit --time-unit ms --stats @IN@
	same_threads torn.ndjson watermark @J@ --max-line 512 --dlq dlq.ndjson --analyze -t .t --ingest '.t|if type == "number" then . + 60 else . end' --stats @IN@
	assert_equal "$PAR_STATUS" " 0 0"
}

@test "watermark -j: the first bad record without --dlq stops the run at the same place" {
	wmdlq_inputs
	same_threads in.ndjson watermark @J@ -t .t -p .v --delay 10m --late late.ndjson @IN@
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "watermark -j: --idle-clock processing runs on one thread; -j above 1 is refused" {
	printf '{"p":"a","t":0}\n' >in.ndjson
	run --separate-stderr watermark -t .t -p .p --idle 1s --idle-clock processing -j 2 in.ndjson
	assert_failure 2
	assert_equal "$stderr" "watermark: -j 2: --idle-clock processing reads the clock as each record arrives, on one thread (give -j 1 or leave -j out)
Try 'watermark --help' for more information."
	run watermark -t .t -p .p --idle 1s --idle-clock processing -j 1 in.ndjson
	assert_success
	assert_output '{"p":"a","t":0}'
}

@test "dlq check -j: fast paths, jq programs, --schema, --stats, no --dlq: same as -j1" {
	wmdlq_inputs
	cat >schema.json <<'J'
{"type":"object","required":["id","v"],"properties":{"v":{"type":"integer","minimum":1,"maximum":8},"id":{"type":["integer","string"],"pattern":"^[a-z0-9]+$"},"t":{"enum":[1714521600,"2024-05-01T01:00:00Z"]}}}
J
	same_threads in.ndjson dlq check @J@ --max-line 512 --dlq dlq.ndjson -e .id -e '.v >= 2' -e '(.v * 10) % 7 != 1' -e 'if .o == 4 then error("four") else true end' --stats @IN@
	same_threads torn.ndjson dlq check @J@ --max-line 512 --dlq dlq.ndjson --schema schema.json -e '.o != 3' --stats @IN@
	same_threads in.ndjson dlq check @J@ --max-line 512 --schema schema.json @IN@
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "partition -j: -k, -g, whole records, -t, -o DIR, upstream watermarks: same as -j1" {
	wmdlq_inputs
	same_threads in.ndjson partition @J@ --max-line 512 --dlq dlq.ndjson -n 3 -g .id -g '.v|tostring' -t .t --delay 10m --time-unit ms -o parts --stats @IN@
	same_threads in.ndjson partition @J@ --max-line 512 --dlq dlq.ndjson -n 5 -g .o --stats @IN@
	same_threads torn.ndjson partition @J@ --max-line 512 --dlq dlq.ndjson -n 2 -o parts @IN@
	same_threads in.ndjson partition @J@ --max-line 512 -n 2 -g .o @IN@
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "watermark, dlq check, partition -j: a big input from a pipe, threads 1, 2, 8 and the default agree" {
	gen -n "$(quick 12000 3000)" --late-rate 0.05 -s 9 >big.ndjson
	for j in 1 2 8 default; do
		local jj=-j$j
		[ $j = default ] && jj=
		cat big.ndjson | watermark $jj -t .event_time --delay 1m --late l$j.ndjson --emit --stats >w$j 2>we$j
		cat big.ndjson | dlq check $jj -e '.amount > 20' --dlq d$j.ndjson >c$j
		cat big.ndjson | partition $jj -n 4 -g .order_id -t .event_time -o p$j
		[ $j = 1 ] && continue
		cmp w1 w$j
		cmp l1.ndjson l$j.ndjson
		diff <(sed 's/"seconds":.*//' we1) <(sed 's/"seconds":.*//' we$j)
		cmp c1 c$j
		diff <(no_time d1.ndjson) <(no_time d$j.ndjson)
		diff -r p1 p$j
	done
	[ "$(wc -l <c1)" -gt 1000 ] && [ -s l1.ndjson ] && [ -s d1.ndjson ]
}

# ---- window ----

# in.ndjson and torn.ndjson as par_input makes them; wm.ndjson: in.ndjson
# with upstream _watermark lines (and a bad one) among the records.
window_input() {
	par_input in.ndjson "$1" "$(quick 800 300)"
	par_input torn.ndjson "$1" "$(quick 200 100)" torn
	awk 'NR % 40 == 0 { print "{\"_watermark\":" 1714521600 + NR * 9 "}" }
	     NR == 333 { print "{\"_watermark\":\"soon\"}" } { print }' \
		in.ndjson >wm.ndjson
}

@test "window -j: tumble and slide, --delay, --lateness, --late, --emit update: same as -j1" {
	window_input 31
	same_threads in.ndjson window @J@ --tumble 10m -t .t -g .id --agg 'n=count()' --agg 's=sum(.v)' --agg 'mn=min(.t)' --max-line 512 --dlq dlq.ndjson --stats @IN@
	same_threads in.ndjson window @J@ --tumble 10m --offset 3m -t .t -g .id --delay 5m --lateness 10m --late late.ndjson --agg 'a=avg(.v)' --agg 'l=last(.o)' --max-line 512 --dlq dlq.ndjson --stats @IN@
	same_threads in.ndjson window @J@ --slide 30m --every 10m -t .t -g .id -g .o --delay 2m --emit update --agg 'f=first(.t)' --agg 'd=distinct(.v)' --max-line 512 --dlq dlq.ndjson @IN@
	# --every longer than --slide: records between windows are counted
	same_threads torn.ndjson window @J@ --slide 5m --every 20m -t .t --delay 1m --agg 'n=count(.id)' --dlq dlq.ndjson @IN@
}

@test "window -j: sessions, percentiles, too-late records to --dlq: same as -j1" {
	window_input 32
	same_threads in.ndjson window @J@ --session 5m -t .t -g .id --delay 10m --lateness 5m --agg 'p=p90(.v)' --agg 'q=p(.o, 0.5)' --agg 'mx=max(.o)' --max-line 512 --dlq dlq.ndjson --stats @IN@
	same_threads torn.ndjson window @J@ --session 20m -t .t -g .id --emit update --agg 'f=first(.v)' --agg 'p=p50(.t)' --dlq dlq.ndjson @IN@
}

@test "window -j: calendar windows of a zone: same as -j1" {
	window_input 33
	same_threads in.ndjson window @J@ --tumble 1d --tz Europe/Berlin -t .t -g .o --agg 'n=count(.v)' --agg 's=sum(.v)' --max-line 512 --dlq dlq.ndjson @IN@
	same_threads in.ndjson window @J@ --tumble 1w --tz America/New_York --week-start sun -t .t -g .id --delay 1h --max-line 512 --dlq dlq.ndjson @IN@
}

@test "window -j: the first bad record without --dlq stops the run at the same place" {
	window_input 34
	same_threads in.ndjson window @J@ --tumble 10m -t .t -g .id --agg 's=sum(.v)' @IN@
	assert_equal "$PAR_STATUS" " 2 2"
	same_threads torn.ndjson window @J@ --session 5m -t .t --delay 5m --max-line 512 @IN@
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "window -j: jq keys and values, upstream _watermark lines, --state twice: same as -j1" {
	window_input 35
	# jq's answers live in each thread's own scratch until kept
	same_threads in.ndjson window @J@ --tumble 15m -t '.t' -g '.id | tostring' --agg 'x=max(.v * 2)' --agg 'y=first([.o, .id])' --agg 'p=p99(.v + .o)' --max-line 512 --dlq dlq.ndjson @IN@
	same_threads wm.ndjson window @J@ --tumble 10m -t .t -g .id --lateness 20m --late late.ndjson --max-line 512 --dlq dlq.ndjson --stats @IN@
	PAR_RUNS=2 same_threads in.ndjson window @J@ --tumble 10m -t .t -g .id --delay 5m --agg 's=sum(.v)' --state w.state --max-line 512 --dlq dlq.ndjson --stats @IN@
	PAR_RUNS=2 same_threads in.ndjson window @J@ --session 10m -t .t -g .id --state w.state --batch b1 --max-line 512 --dlq dlq.ndjson @IN@
}

@test "window -j: --shard and --partition: same as -j1" {
	window_input 36
	same_threads in.ndjson window @J@ --tumble 10m -t .t -g .id --delay 5m --shard 1/3 --max-line 512 --dlq dlq.ndjson --stats @IN@
	same_threads in.ndjson window @J@ --tumble 10m -t .t -g .id --partition 0/2 --max-line 512 --dlq dlq.ndjson @IN@
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "window -j: a big input from a pipe, threads 1, 2, 8 and the default agree" {
	gen -n "$(quick 12000 4000)" -s 9 --late-rate 0.05 >big.ndjson
	window -j1 --tumble 1m -t .event_time -g .currency --delay 2m --agg 'n=count()' --agg 's=sum(.amount)' --late l1 --stats big.ndjson >o1 2>e1
	for j in 2 8; do
		cat big.ndjson | window -j$j --tumble 1m -t .event_time -g .currency --delay 2m --agg 'n=count()' --agg 's=sum(.amount)' --late l$j --stats >o$j 2>e$j
		cmp o1 o$j
		cmp l1 l$j
		diff <(sed 's/"seconds":.*//' e1) <(sed 's/"seconds":.*//' e$j)
	done
	window --tumble 1m -t .event_time -g .currency --delay 2m --agg 'n=count()' --agg 's=sum(.amount)' --late l0 big.ndjson | cmp - o1
	[ "$(wc -l <l1)" -gt 0 ]
	[ "$(wc -l <o1)" -gt 100 ]
}

# ---- reconcile ----

# SOURCE in.ndjson (or a pipe), TARGET tgt.ndjson: par_input's records
# with some dropped, some changed and a few added, so every kind of
# difference and bad records on both sides.
rec_input() {
	par_input in.ndjson "${1:-1}" "$(quick 600 250)"
	awk 'NR % 9 == 4 { next } NR % 13 == 0 { sub(/"v": [0-9]/, "\"v\": 42") } { print }
		NR % 17 == 0 { print "{\"id\": \"new" NR "\", \"v\": 1, \"o\": 2}" }' in.ndjson > tgt.ndjson
	par_input torn.ndjson "${1:-1}" "$(quick 200 100)" torn
	tgt=$PWD/tgt.ndjson
}

@test "reconcile -j: every option, bad records with --dlq, --columns/--ignore: same as -j1" {
	rec_input 41
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k .id --sum .v --by .o --show 3 --stats --format ndjson @IN@ "$tgt"
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k '.id|tostring' -k .o --sum '.v * 2' --by '.o % 2' --format ndjson @IN@ "$tgt"
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k .id --columns v,o --keys-only @IN@ "$tgt"
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k .id --ignore t --show 2 --format ndjson @IN@ "$tgt"
	same_threads torn.ndjson reconcile @J@ --dlq dlq.ndjson -k .id --sum .v --format ndjson @IN@ "$tgt"
}

@test "reconcile -j: the first bad record without --dlq stops the run at the same place" {
	rec_input 42
	same_threads in.ndjson reconcile @J@ -k .id --sum .v @IN@ "$tgt"
	assert_equal "$PAR_STATUS" " 2 2"
}

@test "reconcile -j: --memory spill and --bucket: same as -j1" {
	rec_input 43
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k .id --sum .v --by .o --memory 16K --stats --format ndjson @IN@ "$tgt"
	run sh -c 'IDEM_PAR_CHUNK=300 reconcile -j4 --max-line 512 --dlq d.ndjson -k .id --memory 16K --stats in.ndjson "$1" 2>&1 >/dev/null | grep -c "\"spilled\":true"' sh "$tgt"
	assert_output 1
	same_threads in.ndjson reconcile @J@ --max-line 512 --dlq dlq.ndjson -k .id --buckets 4 --bucket 1 --format ndjson @IN@ "$tgt"
}

@test "reconcile -j: summarize with --shard and --partition, then merge and compare: same as -j1" {
	rec_input 44
	same_threads in.ndjson reconcile summarize @J@ --max-line 512 --dlq dlq.ndjson -k .id --sum .v --by .o --stats @IN@
	same_threads in.ndjson reconcile summarize @J@ --max-line 512 --dlq dlq.ndjson -k .id --shard 1/3 @IN@
	reconcile summarize -j1 --max-line 512 --dlq d1.ndjson -k .id --sum .v in.ndjson > a1.sum
	IDEM_PAR_CHUNK=300 reconcile summarize -j4 --max-line 512 --dlq d4.ndjson -k .id --sum .v in.ndjson > a4.sum
	cmp a1.sum a4.sum
	reconcile summarize -j4 --max-line 512 --dlq d4.ndjson -k .id --sum .v "$tgt" > b4.sum
	run reconcile merge a4.sum
	assert_success
	run reconcile compare -j4 a4.sum b4.sum
	assert_failure 2
	assert_output --partial "does not apply to compare"
}

@test "reconcile -j: a pipe against a file, threads 1, 2, 3, 8 and the default agree" {
	rec_input 45
	reconcile -j1 --max-line 512 --dlq d.ndjson -k .id --sum .v --show 1 --format ndjson - "$tgt" < in.ndjson > ref.out || true
	for j in 2 3 8; do
		IDEM_PAR_CHUNK=200 reconcile -j$j --max-line 512 --dlq d.ndjson -k .id --sum .v --show 1 --format ndjson - "$tgt" < in.ndjson > j.out || true
		cmp ref.out j.out
	done
	IDEM_PAR_CHUNK=200 reconcile --max-line 512 --dlq d.ndjson -k .id --sum .v --show 1 --format ndjson "$tgt" - < in.ndjson > j.out || true
	run cmp ref.out j.out
	assert_failure # source and target swapped: another report
}
