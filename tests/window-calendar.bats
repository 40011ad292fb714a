#!/usr/bin/env bats
# window's calendar windows: --tumble Nd|Nw|Nmo|Ny in an IANA zone (--tz),
# DST-correct, weeks from Monday unless --week-start says otherwise.

load helpers

@test "calendar windows agree with a brute-force zoneinfo model over the DST changes of seven zones" {
	run python3 "$BATS_TEST_DIRNAME/window/calendar_model.py" "$IDEM_BIN/window"
	assert_success
	assert_output --regexp ' 0 differ$'
}

@test "a Berlin day is 23 hours when the clocks go forward and 25 when they go back" {
	printf '%s\n' '{"t":"2024-03-30T23:30:00Z"}' '{"t":"2024-03-31T21:59:59Z"}' \
		'{"t":"2024-03-31T22:00:00Z"}' '{"t":"2024-10-26T22:00:00Z"}' \
		'{"t":"2024-10-27T22:59:59Z"}' > in.ndjson
	run window --tumble 1d --tz Europe/Berlin -t .t --agg 'n=count()' in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"2024-03-31T00:00:00+01:00","end":"2024-04-01T00:00:00+02:00"},"n":2,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2024-04-01T00:00:00+02:00","end":"2024-04-02T00:00:00+02:00"},"n":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2024-10-27T00:00:00+02:00","end":"2024-10-28T00:00:00+01:00"},"n":2,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "a skipped midnight starts the day when the clocks jump (Sao Paulo, 2018-11-04)" {
	printf '%s\n' '{"t":"2018-11-04T03:00:00Z"}' > in.ndjson
	run window --tumble 1d --tz America/Sao_Paulo -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"2018-11-04T01:00:00-02:00","end":"2018-11-05T00:00:00-02:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "Apia's skipped 2011-12-30 has no window: the 29th ends at the 31st" {
	printf '%s\n' '{"t":"2011-12-30T09:59:59Z"}' '{"t":"2011-12-30T10:00:00Z"}' > in.ndjson
	run window --tumble 1d --tz Pacific/Apia -t .t in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"2011-12-29T00:00:00-10:00","end":"2011-12-31T00:00:00+14:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2011-12-31T00:00:00+14:00","end":"2012-01-01T00:00:00+14:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
}

@test "1w starts on Monday (7d stays the epoch-aligned duration, from a Thursday); --week-start moves it" {
	printf '%s\n' '{"t":"2024-05-01T12:00:00Z"}' > in.ndjson
	run window --tumble 1w -t .t in.ndjson
	assert_output --partial '"start":"2024-04-29T00:00:00Z","end":"2024-05-06T00:00:00Z"'
	run window --tumble 7d -t .t in.ndjson
	assert_output --partial '"start":"2024-04-25T00:00:00Z","end":"2024-05-02T00:00:00Z"'
	run window --tumble 1w --week-start sunday -t .t in.ndjson
	assert_output --partial '"start":"2024-04-28T00:00:00Z","end":"2024-05-05T00:00:00Z"'
	run window --tumble 2w --tz Asia/Kolkata -t .t in.ndjson
	assert_output --partial '"start":"2024-04-22T00:00:00+05:30","end":"2024-05-06T00:00:00+05:30"'
	# Nw counts from the Monday 1969-12-29, or the --week-start day after
	# it: 2w of Sundays from 1970-01-04 (as window(1) says)
	run sh -c "printf '{\"t\":\"%s\"}\n' 1970-01-03T12:00:00Z 1970-01-17T12:00:00Z | window --tumble 2w --week-start sun -t .t | jq -r .window.start"
	assert_output - <<'E'
1969-12-21T00:00:00Z
1970-01-04T00:00:00Z
E
}

@test "months, quarters and years follow the calendar of the zone" {
	printf '%s\n' '{"t":"2024-02-29T23:30:00Z"}' '{"t":"2024-12-31T23:30:00Z"}' > in.ndjson
	run window --tumble 1mo --tz Europe/Berlin -t .t in.ndjson
	assert_success
	assert_output - <<'J'
{"window":{"start":"2024-03-01T00:00:00+01:00","end":"2024-04-01T00:00:00+02:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2025-01-01T00:00:00+01:00","end":"2025-02-01T00:00:00+01:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run window --tumble 3mo -t .t in.ndjson
	assert_output - <<'J'
{"window":{"start":"2024-01-01T00:00:00Z","end":"2024-04-01T00:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"2024-10-01T00:00:00Z","end":"2025-01-01T00:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}
J
	run window --tumble 10y --tz UTC -t .t in.ndjson
	assert_output '{"window":{"start":"2020-01-01T00:00:00+00:00","end":"2030-01-01T00:00:00+00:00"},"count":2,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "1d without --tz keeps its output; a fixed duration keeps its --offset" {
	printf '%s\n' '{"t":"2024-05-01T12:00:00Z"}' > in.ndjson
	run window --tumble 1d -t .t --offset 6h in.ndjson
	assert_output '{"window":{"start":"2024-05-01T06:00:00Z","end":"2024-05-02T06:00:00Z"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "calendar windows carry their zone in the state: another zone is refused" {
	printf '%s\n' '{"t":"2024-05-01T12:00:00Z"}' > a.ndjson
	printf '%s\n' '{"t":"2024-05-02T12:00:00Z"}' > b.ndjson
	run window --tumble 1d --tz Europe/Berlin -t .t --state w.st a.ndjson
	assert_success
	assert_output ''
	run window --tumble 1d --tz Europe/Berlin -t .t --state w.st b.ndjson
	assert_output '{"window":{"start":"2024-05-01T00:00:00+02:00","end":"2024-05-02T00:00:00+02:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run window --tumble 1d --tz Asia/Tokyo -t .t --state w.st b.ndjson
	assert_failure 2
	assert_output --partial "calendar=1d tz=Europe/Berlin week_start=0"
}

@test "a calendar window stored under other zone data is refused, not split in two beside the new bucket" {
	# one zone name, its rules changed between runs (a tzdata update):
	# Berlin's day starts 22:00Z, Kolkata's 18:30Z
	mkdir -p old/Test new/Test
	cp /usr/share/zoneinfo/Europe/Berlin old/Test/Zone
	cp /usr/share/zoneinfo/Asia/Kolkata new/Test/Zone
	printf '{"t":"2024-05-01T10:00:00Z"}\n' |
		TZDIR=$PWD/old window --tumble 1d --tz Test/Zone -t .t --state z.st
	cp z.st z0.st
	run sh -c 'printf "{\"t\":\"2024-05-01T12:00:00Z\"}\n" |
		TZDIR=$PWD/new window --tumble 1d --tz Test/Zone -t .t --state z.st'
	assert_failure 2
	assert_output "window: z.st: holds the window 2024-04-30T22:00:00Z .. 2024-05-01T22:00:00Z, which is no --tumble 1d window of Test/Zone by this system's zone data (it changed since the state was written?); finish the state with the zone data it was written with (TZDIR), or start a new state file"
	cmp z.st z0.st
	# with the data it was written with, it goes on
	run sh -c 'printf "{\"t\":\"2024-05-01T12:00:00Z\"}\n" |
		TZDIR=$PWD/old window --tumble 1d --tz Test/Zone -t .t --state z.st --stats'
	assert_success
	assert_output --partial '"open_windows":1,'
}

@test "a zone whose clock counts leap seconds (right/) is refused: its offsets change 27 seconds late" {
	# right/America/Sao_Paulo put 02:30Z on 2019-02-17 (23:30 on the
	# 16th there, after the clocks went back at 02:00Z) in the 17th's day
	# its zoneinfo counts leap seconds (the TZif header's third count),
	# which POSIX instants do not: refused, wherever it lies
	mkdir -p z/right/America z/Test
	head -c 31 /usr/share/zoneinfo/America/Sao_Paulo > z/right/America/Sao_Paulo
	printf '\033' >> z/right/America/Sao_Paulo
	tail -c +33 /usr/share/zoneinfo/America/Sao_Paulo >> z/right/America/Sao_Paulo
	cp z/right/America/Sao_Paulo z/Test/Leaps
	export TZDIR=$PWD/z
	refused "window: --tz: 'right/America/Sao_Paulo': its zoneinfo counts leap seconds, which idem's times (POSIX time) do not, so its offsets would change at the wrong instants; use 'America/Sao_Paulo'" \
		window --tumble 1d --tz right/America/Sao_Paulo -t .t
	refused "window: --tz: 'Test/Leaps': its zoneinfo counts leap seconds, which idem's times (POSIX time) do not, so its offsets would change at the wrong instants; use the zone without leap seconds" \
		window --tumble 1d --tz Test/Leaps -t .t
	# a "slim" file (zic -b slim) gives no counts in its version 1
	# header: the leap seconds are counted in the second one
	python3 - z/Test/Slim <<'PY'
import struct, sys
def head(leaps, types, chars):
    return b"TZif2" + bytes(15) + struct.pack(">6I", 0, 0, leaps, 0, types, chars)
v2 = bytes(6) + b"UTC\0" + struct.pack(">qi", 78796800, 1)
open(sys.argv[1], "wb").write(head(0, 1, 1) + bytes(7) + head(1, 1, 4) + v2 + b"\n<UTC>0\n")
PY
	refused "window: --tz: 'Test/Slim': its zoneinfo counts leap seconds, which idem's times (POSIX time) do not, so its offsets would change at the wrong instants; use the zone without leap seconds" \
		window --tumble 1d --tz Test/Slim -t .t
	# the zone it stands for is read as it is
	unset TZDIR
	printf '{"t":"2019-02-17T02:30:00Z"}\n' > in.ndjson
	run window --tumble 1d --tz America/Sao_Paulo -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"2019-02-16T00:00:00-02:00","end":"2019-02-17T00:00:00-03:00"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "a relative TZDIR is read from the folder it names: the zone checked is the zone used" {
	# the C library looks a relative TZ=":FILE" up under $TZDIR, so the
	# zone was read from z/z/Test/Zone, not found, and taken for UTC
	mkdir -p z/Test
	cp /usr/share/zoneinfo/Asia/Kolkata z/Test/Zone
	printf '{"t":"2024-05-01T20:00:00Z"}\n' > in.ndjson
	TZDIR=z run window --tumble 1d --tz Test/Zone -t .t in.ndjson
	assert_success
	assert_output '{"window":{"start":"2024-05-02T00:00:00+05:30","end":"2024-05-03T00:00:00+05:30"},"count":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	TZDIR=z run window --tumble 1d --tz Asia/Tokyo -t .t in.ndjson
	assert_failure 2
	assert_line -n 0 "window: --tz: unknown time zone 'Asia/Tokyo' ($PWD/z/Asia/Tokyo: No such file or directory)"
}

@test "calendar options that do not apply are refused" {
	run window --tumble 1h --tz Europe/Berlin -t .t
	assert_failure 2
	assert_output --partial "window: --tz: applies to calendar windows (--tumble Nd, Nw, Nmo or Ny), not to a fixed --tumble duration"
	run window --session 1h --tz UTC -t .t
	assert_failure 2
	assert_output --partial "not to --session"
	run window --slide 1mo --every 1d -t .t
	assert_failure 2
	assert_output --partial "window: --slide: '1mo': calendar units (w, mo, y) apply to --tumble only"
	run window --tumble 1d --tz Europe/Berlinn -t .t
	assert_failure 2
	assert_output --partial "window: --tz: unknown time zone 'Europe/Berlinn' ("
	assert_output --partial "did you mean 'Europe/Berlin'?"
	run window --tumble 1d --tz ../../etc/passwd -t .t
	assert_failure 2
	assert_output --partial "is not a time zone name"
	run window --tumble 1w --offset 1h -t .t
	assert_failure 2
	assert_output --partial "window: --offset does not apply to calendar windows (--tumble 1w)"
	# given, it is refused, even as 0: never taken and ignored
	run window --tumble 1mo --offset 0s -t .t
	assert_failure 2
	assert_output --partial "window: --offset does not apply to calendar windows (--tumble 1mo)"
	run window --tumble 1d --week-start mon -t .t
	assert_failure 2
	assert_output --partial "window: --week-start: applies to --tumble Nw only"
	run window --tumble 1w --week-start funday -t .t
	assert_failure 2
	assert_output --partial "window: --week-start: want a day, mon .. sun, got 'funday'"
	run window --tumble 0w -t .t
	assert_failure 2
}

@test "bash completion offers --tz, --week-start and its days, from --help" {
	run bash -c '
		source "$1"
		COMP_WORDS=(window --we); COMP_CWORD=1; _idem_complete
		printf "%s\n" "${COMPREPLY[@]}"
		COMP_WORDS=(window --week-start s); COMP_CWORD=2; _idem_complete
		printf "%s\n" "${COMPREPLY[@]}"
		COMP_WORDS=(window --t); COMP_CWORD=1; _idem_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BATS_TEST_DIRNAME/../cmd/completion.bash"
	assert_output - <<'O'
--week-start
sat
sun
--threads
--time
--time-unit
--tumble
--tz
O
}

@test "localtime in a calendar run reads --tz's zone; a TZ naming another zone is refused, not overridden without a word" {
	echo '{"t":1700000000}' > in
	# the month's calendar made the process UTC: localtime said 22, not
	# New York's 17
	run env TZ=America/New_York window --tumble 1mo -t .t -g '.t | localtime | .[3]' in
	assert_failure 2
	assert_output "window: -g: '.t | localtime | .[3]' reads local time, which in calendar windows is --tz's zone (UTC), not TZ's (America/New_York); give --tz that zone, or unset TZ
Try 'window --help' for more information."
	run env TZ=America/New_York window --tumble 1d --tz Europe/Berlin -t .t --agg 'h=max(.t | strflocaltime("%H"))' in
	assert_failure 2
	assert_line -n 0 --partial "window: --agg: '.t | strflocaltime(\"%H\")' reads local time, which in calendar windows is --tz's zone (Europe/Berlin)"
	for tz in :America/New_York /usr/share/zoneinfo/America/New_York; do
		run env TZ=$tz window --tumble 1mo --tz America/New_York -t .t -g '.t | localtime | .[3]' in
		assert_success
		assert_output --partial '"key":17,'
	done
	run env TZ= window --tumble 1mo --tz America/New_York -t .t -g '.t | localtime | .[3]' in
	assert_failure 2
	assert_line -n 0 --partial "not TZ's (Etc/UTC); give --tz that zone, or unset TZ"
	run env -u TZ window --tumble 1d --tz Europe/Berlin -t .t -g '.t | localtime | .[3]' in
	assert_output --partial '"key":23,'
	# a fixed --tumble 1d has no zone of its own: TZ's stands
	run env TZ=America/New_York window --tumble 1d -t .t -g '.t | localtime | .[3]' in
	assert_output --partial '"key":17,'
}
