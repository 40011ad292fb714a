#!/usr/bin/env bats
# A live pipe: `tail -f log | tool` must show each record as it comes,
# not when 128 KiB of input or output have piled up.  Each test feeds a
# FIFO whose writer it holds open (as tail -f does), waits (with a
# deadline, never a bare sleep) until the tool's output shows what the
# records so far make, then closes the writer and checks the whole
# output.  Threads 1 and 2: with 2 the reader thread must seal a partial
# chunk and the applying thread flush when the input would block.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	mkfifo in
	pid= w=
}

teardown() {
	if [ -n "$w" ]; then exec {w}>&-; fi
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	return 0
}

# The -j values each test runs: 1 and 2; 2 alone in make test's
# sanitized pass (IDEM_QUICK), where a start costs a second or so.
threads() {
	quick "1 2" 2
}

# live CMD...: CMD reads the FIFO `in` (stdout to out, stderr to err);
# this shell holds the FIFO open read-write ($w), which never blocks.
live() {
	rm -f out err
	"$@" < in > out 2> err 3>&- &
	pid=$!
	exec {w}<> in
}

send() {
	printf '%s\n' "$@" >&"$w"
}

# now: microseconds of wall time (whatever the locale's decimal point).
now() {
	echo "${EPOCHREALTIME//[!0-9]/}"
}

# within5 TEST...: TEST succeeds within 5 s of wall time.
within5() {
	local end=$(($(now) + 5000000))
	until "$@"; do
		(($(now) <= end)) || return 1
		sleep 0.02
	done
}

holds() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

has_lines() {
	[ "$(wc -l 2>/dev/null < "$1")" = "$2" ]
}

ended() {
	! kill -0 "$pid" 2>/dev/null
}

# await FILE TEXT: FILE holds exactly TEXT within 5 s, the writer open.
await() {
	within5 holds "$1" "$2" && return 0
	printf '%s\n' "after 5 s with the writer open, $1 holds:" \
		"$(cat "$1")" "--- want:" "$2" "--- stderr:" "$(cat err)"
	return 1
}

# await_lines FILE N: FILE has N lines within 5 s, the writer open.
await_lines() {
	within5 has_lines "$1" "$2" && return 0
	printf '%s\n' "after 5 s with the writer open, $1 holds:" \
		"$(cat "$1")" "--- want $2 lines; stderr:" "$(cat err)"
	return 1
}

# finish: close the writer; the tool's exit status in $status (killed
# after 5 s: a tool that does not see the end is a failure too).
finish() {
	exec {w}>&-
	w=
	within5 ended || true
	kill "$pid" 2>/dev/null && echo "still running 5 s after the end"
	status=0
	wait "$pid" || status=$?
	pid=
}

@test "dedup: kept records and --dupes show while the writer is still open" {
	for j in $(threads); do
		rm -f dupes
		live dedup -j "$j" -k .id --dupes dupes
		send '{"id":1}' '{"id":2}' '{"id":1}'
		await out $'{"id":1}\n{"id":2}'
		await dupes '{"id":1}'
		send '{"id":3}'
		await out $'{"id":1}\n{"id":2}\n{"id":3}'
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = $'{"id":1}\n{"id":2}\n{"id":3}' ]
		[ "$(cat dupes)" = '{"id":1}' ]
	done
}

@test "dedup --state: records show at once, the state is committed only at the end" {
	for j in $(threads); do
		rm -f s.idx
		live dedup -j "$j" -k .id --state s.idx
		send '{"id":1}' '{"id":2}' '{"id":1}'
		await out $'{"id":1}\n{"id":2}'
		[ ! -e s.idx ]
		finish
		[ "$status" = 0 ]
		[ -e s.idx ]
		printf '{"id":1}\n{"id":2}\n{"id":4}\n' > again
		dedup -j "$j" -k .id --state s.idx again > again.out 2> again.err
		[ "$(cat again.out)" = '{"id":4}' ]
	done
}

@test "watermark --emit: each record and its watermark show at once; --late too" {
	for j in $(threads); do
		rm -f late
		live watermark -j "$j" -t .t --emit --late late
		send '{"t":100}' '{"t":200}' '{"t":50}'
		await out '{"t":100}
{"_watermark":"1970-01-01T00:01:40Z"}
{"t":200}
{"_watermark":"1970-01-01T00:03:20Z"}'
		await late '{"t":50}'
		send '{"t":300}'
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = '{"t":100}
{"_watermark":"1970-01-01T00:01:40Z"}
{"t":200}
{"_watermark":"1970-01-01T00:03:20Z"}
{"t":300}
{"_watermark":"1970-01-01T00:05:00Z"}' ]
		[ "$(cat late)" = '{"t":50}' ]
	done
}

@test "window: a pane shows when the watermark passes its end, not at EOF" {
	local w1 w2 w3
	w1='{"window":{"start":"2024-01-01T00:01:00Z","end":"2024-01-01T00:02:00Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	w2='{"window":{"start":"2024-01-01T00:02:00Z","end":"2024-01-01T00:03:00Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	w3='{"window":{"start":"2024-01-01T00:03:00Z","end":"2024-01-01T00:04:00Z"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	for j in $(threads); do
		live window -j "$j" --tumble 1m -t .t --delay 0s --agg 'n=count()'
		send '{"t":"2024-01-01T00:01:10Z"}' '{"t":"2024-01-01T00:02:10Z"}'
		await out "$w1"
		send '{"t":"2024-01-01T00:03:10Z"}'
		await out "$w1"$'\n'"$w2"
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = "$w1"$'\n'"$w2"$'\n'"$w3" ]
	done
}

@test "dlq check: passing records show at once, failing ones are in --dlq" {
	for j in $(threads); do
		rm -f bad
		live dlq check -j "$j" -e '.a > 0' --dlq bad
		send '{"a":1}' '{"a":0}' '{"a":2}'
		await out $'{"a":1}\n{"a":2}'
		[ "$(grep -c '"original_record":{"a":0}' bad)" = 1 ]
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = $'{"a":1}\n{"a":2}' ]
	done
}

@test "partition to stdout: each record shows at once" {
	for j in $(threads); do
		live partition -j "$j" -n 1 -k .id
		send '{"id":1}' '{"id":2}'
		await out $'0\t{"id":1}\n0\t{"id":2}'
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = $'0\t{"id":1}\n0\t{"id":2}' ]
	done
}

@test "a too-long line still arriving does not hold back the records before it" {
	for j in $(threads); do
		rm -f bad
		live dedup -j "$j" -k .id --max-line 16 --dlq bad
		# one write: a record, then the head of a line over the limit
		printf '{"id":1}\n{"id":2,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx' >&"$w"
		await out '{"id":1}'
		send '"}' '{"id":3}'
		await out $'{"id":1}\n{"id":3}'
		finish
		[ "$status" = 0 ]
		[ "$(cat out)" = $'{"id":1}\n{"id":3}' ]
		[ "$(grep -c '"error_type":"line_too_long"' bad)" = 1 ]
	done
}

@test "gzip members and zstd frames from a live pipe show as each one ends" {
	for j in $(threads); do
		live dedup -j "$j" -k .id
		printf '{"id":1}\n' | gzip -c >&"$w"
		printf '{"id":2}\n' | gzip -c >&"$w"
		await out $'{"id":1}\n{"id":2}'
		finish
		[ "$status" = 0 ]
		live dedup -j "$j" -k .id
		printf '{"id":1}\n' | zstd -qc >&"$w"
		await out '{"id":1}'
		printf '{"id":2}\n' | zstd -qc >&"$w"
		await out $'{"id":1}\n{"id":2}'
		finish
		[ "$status" = 0 ]
	done
}

@test "a first record shorter than the zstd magic is not held back" {
	for j in $(threads); do
		live dedup -j "$j"
		send '{}'
		await out '{}'
		finish
		[ "$status" = 0 ]
	done
}

@test "dlq retry: a record's output shows, and --timeout kills, while the input waits" {
	live dlq retry -- cat
	send '{"a":1}'
	await out '{"a":1}'
	send '{"a":2}'
	await out $'{"a":1}\n{"a":2}'
	finish
	[ "$status" = 0 ]
	live dlq retry --timeout 100ms --retries 0 --dlq bad -- sleep 30
	send '{"a":1}'
	await_lines bad 1
	grep -q '"error_message":"sleep timed out after 1 attempt"' bad
	finish
	[ "$status" = 0 ]
	[ ! -s out ]
}

@test "a file before a live pipe: its records show before the pipe's first byte" {
	printf '{"id":1}\n{"id":2}\n' > hist
	for j in $(threads); do
		live dedup -j "$j" -k .id hist -
		await out $'{"id":1}\n{"id":2}'
		send '{"id":2}' '{"id":3}'
		await out $'{"id":1}\n{"id":2}\n{"id":3}'
		finish
		[ "$status" = 0 ]
	done
}
