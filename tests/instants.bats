#!/usr/bin/env bats
# One meaning for a time and a number across the tools: a table of
# spellings run through every tool that reads an event time (window,
# watermark, partition, dedup --ttl) or keys by value (dedup -k, window
# -g, partition -k, reconcile -k), directly and through the jq date
# functions a program may use to read them (strptime, mktime, fromdate),
# which must name the same instant or refuse the record (idem(7),
# Values, Time and the math of jq programs).

load helpers

# Nine spellings of 2024-01-01T08:10:00Z.
one_instant() {
	cat <<-'E'
	2024-01-01T08:10:00Z
	2024-01-01t08:10:00z
	2024-01-01 08:10:00Z
	2024-01-01T08:10:00+00:00
	2024-01-01T08:10:00-00:00
	2024-01-01T22:10:00+14:00
	2023-12-31T20:10:00-12:00
	2024-01-01T08:10:00.0000000000Z
	\u0032024-01-01T10:10:00.000+02:00
	E
}

# Strings that are no RFC 3339 time, each with why an event time is
# refused.
no_instant() {
	cat <<-'E'
	2024-01-01T08:10:00+24:00	time zone offset out of range
	2024-01-01T08:10:00+99:99	time zone offset out of range
	2024-01-01T08:10Z	not an RFC 3339 time
	2024-01-01T08:10:00	missing time zone (Z or +HH:MM)
	2023-02-29T08:10:00Z	day out of range
	10000-01-01T00:00:00Z	not an RFC 3339 time
	2024-01-01T08:10:00+0000	not an RFC 3339 time
	2024-01-01T08:10:00,5Z	not an RFC 3339 time
	E
}

rec() { printf '{"id":%s,"t":"%s"}\n' "$1" "$2"; }

# the event time each tool read, as the instant it names
event_times() { # FILE EXPR
	watermark -t "$2" --delay 0s --emit "$1" | grep _watermark
	window --tumble 1m -t "$2" --agg 'n=count()' "$1" | jq -r .window.start
	partition -n 2 -g .id -t "$2" "$1" | grep -c _watermark
	dedup -k .id -t "$2" --ttl 1h "$1" | wc -l
}

@test "every spelling of one instant is that instant as an event time, in every tool, directly and through a jq program" {
	while IFS= read -r s; do
		rec 1 "$s" > in
		run event_times in .t
		assert_success
		assert_output - <<-'E'
		{"_watermark":"2024-01-01T08:10:00Z"}
		2024-01-01T08:10:00Z
		2
		1
		E
		run event_times in '.t | ascii_downcase'
		assert_output --partial '{"_watermark":"2024-01-01T08:10:00Z"}'
	done < <(one_instant)
}

@test "a string that is no time is refused as an event time by every tool with one reason, and is a key of its own" {
	while IFS=$'\t' read -r s why; do
		rec 1 "$s" > in
		for tool in "watermark -t .t --delay 0s" "window --tumble 1m -t .t --agg n=count()" "partition -n 2 -g .id -t .t" "dedup -t .t --ttl 1h"; do
			run $tool in
			assert_failure 2
			assert_output "${tool%% *}: in:1: event time .t: $why"
		done
	done < <(no_instant)
	i=0
	{ one_instant; no_instant | cut -f1; } | while IFS= read -r s; do rec $((i += 1)) "$s"; done > keys
	run sh -c 'dedup -k .t keys 2>/dev/null | jq -r .id | paste -sd" "'
	assert_output '1 10 11 12 13 14 15 16 17'
	run sh -c 'window --tumble 1h -t "\"2024-01-01T00:00:00Z\"" -g .t --agg "n=count()" keys | jq -r .n | paste -sd" "'
	assert_output '9 1 1 1 1 1 1 1 1'
	run sh -c 'partition -n 5 -k .t keys | head -9 | cut -f1 | sort -u | wc -l'
	assert_output 1
	# reconcile: one row each side, keyed and fingerprinted as instants
	one_instant | while IFS= read -r s; do printf '{"t":"%s"}\n' "$s"; done > spelled
	for k in $(seq 2 9); do
		run reconcile -k .t <(head -1 spelled) <(sed -n ${k}p spelled)
		assert_success
	done
	run reconcile -k .t <(head -1 spelled) <(rec 1 2024-01-01T08:10:00.000000001Z | jq -c '{t}')
	assert_failure 1
}

@test "one number spelled nine ways is one key in every tool; its neighbours are others" {
	for n in 1 1.0 1e0 10E-1 0.1e1 100e-2 1.000000000000000000000000000000000000000000 1E+0 100000000000000000000000000000000000000000e-41; do
		printf '{"n":%s,"t":0}\n' "$n"
	done > ones
	printf '{"n":%s,"t":0}\n' 123456789012345678901234567890 123456789012345678901234567891 1e400 1e-400 0 -0 0.0 -0E-5 > others
	cat ones others > all
	run sh -c 'dedup -k .n all 2>/dev/null | cut -d, -f1 | paste -sd" "'
	assert_output '{"n":1 {"n":123456789012345678901234567890 {"n":123456789012345678901234567891 {"n":1e400 {"n":1e-400 {"n":0'
	run sh -c 'dedup -k .n all 2>/dev/null | wc -l'
	assert_output 6
	run sh -c 'window --tumble 1h -t .t -g .n --agg "n=count()" all | jq -r .n | paste -sd" "'
	assert_output '4 1 9 1 1 1'
	run sh -c 'partition -n 7 -k .n ones | cut -f1 | sort -u | wc -l'
	assert_output 1
	for k in $(seq 2 9); do
		run reconcile -k .n <(head -1 ones) <(sed -n ${k}p ones)
		assert_success
	done
}

# strptime | mktime and fromdate in every tool that reads a program
through_jq() { # EXPR FILE: each tool's answer, one line each
	watermark -t "$1" --delay 0s --emit "$2" 2>&1 | grep -v '"t"'
	window --tumble 1m -t "$1" --agg 'n=count()' "$2" 2>&1 | jq -Rr '(fromjson? | .window.start) // .'
	dedup -k "$1" "$2" 2>&1 >/dev/null || :
	partition -n 2 -k "$1" "$2" 2>&1 >/dev/null || :
}

@test "strptime with an offset gives the instant or refuses it, the same in every tool: libjq drops %z and %Z" {
	echo '{"t":"10/Oct/2000:13:55:36 -0700"}' > in
	p='.t | strptime("%d/%b/%Y:%H:%M:%S %z") | mktime'
	run through_jq "$p" in
	assert_output - <<-'E'
	watermark: in:1: event time .t | strptime("%d/%b/%Y:%H:%M:%S %z") | mktime: "10/Oct/2000:13:55:36 -0700" | strptime("%d/%b/%Y:%H:%M:%S %z") read the offset -07:00, which libjq's broken-down time (UTC fields, no offset) drops: mktime would take the time as UTC, another instant (idem reads an RFC 3339 string at its offset itself: give it as it is)
	window: in:1: event time .t | strptime("%d/%b/%Y:%H:%M:%S %z") | mktime: "10/Oct/2000:13:55:36 -0700" | strptime("%d/%b/%Y:%H:%M:%S %z") read the offset -07:00, which libjq's broken-down time (UTC fields, no offset) drops: mktime would take the time as UTC, another instant (idem reads an RFC 3339 string at its offset itself: give it as it is)
	dedup: in:1: key .t | strptime("%d/%b/%Y:%H:%M:%S %z") | mktime: "10/Oct/2000:13:55:36 -0700" | strptime("%d/%b/%Y:%H:%M:%S %z") read the offset -07:00, which libjq's broken-down time (UTC fields, no offset) drops: mktime would take the time as UTC, another instant (idem reads an RFC 3339 string at its offset itself: give it as it is)
	partition: in:1: key .t | strptime("%d/%b/%Y:%H:%M:%S %z") | mktime: "10/Oct/2000:13:55:36 -0700" | strptime("%d/%b/%Y:%H:%M:%S %z") read the offset -07:00, which libjq's broken-down time (UTC fields, no offset) drops: mktime would take the time as UTC, another instant (idem reads an RFC 3339 string at its offset itself: give it as it is)
	E
	run jq -c "$p" in
	assert_output 971186136 # libjq alone: 13:55:36Z, 7 hours early
	# at +0000 (or Z) nothing is dropped: libjq's answer stands
	echo '{"t":"10/Oct/2000:13:55:36 +0000"}' > utc
	run through_jq "$p" utc
	assert_output - <<-'E'
	{"_watermark":"2000-10-10T13:55:36Z"}
	2000-10-10T13:55:00Z
	E
	# a zone name is skipped by glibc's %Z: only UTC's are taken
	printf '{"t":"Tue Dec  3 18:41:44 %s 2026"}\n' UTC gmt Z +00:00 -0000 GMT+0 > z
	run dedup -k '.t | strptime("%a %b %d %H:%M:%S %Z %Y") | mktime' z
	assert_success
	assert_line --index 0 '{"t":"Tue Dec  3 18:41:44 UTC 2026"}'
	assert_line --index 1 'dedup: 5 records dropped: duplicates (--dupes FILE keeps them)'
	for zone in +01:00 GMT+1 CET Zulu; do
		echo "{\"t\":\"Tue Dec  3 18:41:44 $zone 2026\"}" > z
		run dedup -k '.t | strptime("%a %b %d %H:%M:%S %Z %Y") | mktime' z
		assert_failure 2
		assert_output --partial ") read the zone name $zone, which"
	done
	echo '{"t":"Tue Dec  3 18:41:44 PST 2026"}' > pst
	run window --tumble 1h -t '.t | strptime("%a %b %d %H:%M:%S %Z %Y") | mktime' --agg 'n=count()' pst
	assert_failure 2
	assert_output --partial 'strptime("%a %b %d %H:%M:%S %Z %Y") read the zone name PST, which'
	# %s gives glibc's local fields: its offset is TZ's
	echo '{"t":"1700000000"}' > s
	run env TZ=Europe/Paris dedup -k '.t | strptime("%s") | mktime' s
	assert_failure 2
	assert_output --partial 'read the offset +01:00, which'
	run env TZ=UTC watermark -t '.t | strptime("%s") | mktime' --delay 0s --emit s
	assert_output --partial '{"_watermark":"2023-11-14T22:13:20Z"}'
}

@test "fromdate and mktime of a date that does not exist, a leap second or a fraction refuse the record in every tool, where libjq moved it" {
	for t in 2023-02-29T00:00:00Z 2023-04-31T12:00:00Z 2016-12-31T23:59:60Z; do
		echo "{\"t\":\"$t\"}" > in
		run through_jq '.t | fromdate' in
		assert_equal "$(grep -c '^[a-z]*: in:1: [a-z ]*\.t | fromdate: \[.*\] | mktime: ' <<< "$output")" 4
	done
	run jq -c '.t | fromdate | todate' in
	assert_output '"2017-01-01T00:00:00Z"' # libjq alone: the next minute
	echo '{"t":"2023-02-29T00:00:00Z"}' > in
	run dedup -k '.t | fromdate' in
	assert_failure 2
	assert_output 'dedup: in:1: key .t | fromdate: [2023,1,29,0,0,0,3,59] | mktime: day 29 is outside 1 to 28, which libjq would carry into the next field: another instant'
	echo '{"t":"2016-12-31T23:59:60Z"}' > in
	run dedup -k '.t | fromdateiso8601' in
	assert_output 'dedup: in:1: key .t | fromdateiso8601: [2016,11,31,23,59,60,6,365] | mktime: a second 60 (a leap second) has no epoch second of its own: libjq would give the next minute'"'"'s :00'
	# a strptime without %d has day 0: the month before's last to libjq
	echo '{"t":"2024-01"}' > in
	run jq -c '.t | strptime("%Y-%m") | mktime | todate' in
	assert_output '"2023-12-31T00:00:00Z"'
	run window --tumble 1h -t '.t | strptime("%Y-%m") | mktime' --agg 'n=count()' in
	assert_failure 2
	assert_output --partial 'mktime: day 0 is outside 1 to 31'
	# gmtime's exact fraction is not truncated by mktime without a word
	echo '{"t":1234567.3}' > in
	run dedup -k '.t | gmtime | mktime' in
	assert_output 'dedup: in:1: key .t | gmtime | mktime: [1970,0,15,6,56,7.3,4,14] | mktime: its second 7.3 is not a whole number in range, which libjq would take toward zero: another instant (floor it first)'
	run dedup -k '.t | gmtime | .[5] |= floor | mktime' in
	assert_success
}

@test "fromdate, strptime and mktime of a real date stay libjq's, in every tool, and name the instant the string does" {
	for t in 2024-02-29T23:59:59Z 1969-12-31T00:00:00Z 2024-12-31T23:59:59Z 1970-01-01T00:00:00Z; do
		echo "{\"t\":\"$t\"}" > in
		run through_jq '.t | fromdate' in
		assert_success
		direct=$(watermark -t .t --delay 0s --emit in | grep _watermark)
		assert_line --index 0 "$direct"
		run jq -c '.t | fromdate' in
		want=$output
		run sh -c "dedup -k '[.t | fromdate, strptime(\"%Y-%m-%dT%H:%M:%SZ\")]' in >/dev/null && window --tumble 1h -t 0 -g '.t | fromdate' --agg 'n=count()' in | jq -c .key"
		assert_output "$want"
	done
	# jq's own errors stay jq's
	echo '{"t":"x","a":[2024,0,1]}' > in
	run dedup -k '.t | fromdate' in
	assert_output 'dedup: in:1: key .t | fromdate: date "x" does not match format "%Y-%m-%dT%H:%M:%SZ"'
	run dedup -k '.a | mktime' in
	assert_output 'dedup: in:1: key .a | mktime: mktime requires parsed datetime inputs'
}

@test "mktime and fromdate take the fields as UTC under any TZ, summer time too: libjq 1.6 answered an hour late and idem refused it" {
	echo '{"t":"2024-07-01T00:00:00Z","n":1719792000}' > in
	for tz in UTC America/New_York Europe/Paris EST5EDT,M3.2.0,M11.1.0; do
		run env TZ=$tz window --tumble 1h -t 0 -g '[(.t | fromdate), (.n | gmtime | mktime), (.n | localtime | mktime)]' --agg 'n=count()' in
		assert_success
		case $tz in
		America/*|EST*) local=1719777600 ;; # 20:00 the day before, as UTC
		Europe/*) local=1719799200 ;;
		*) local=1719792000 ;;
		esac
		assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[1719792000,1719792000,'$local'],"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	done
	run env TZ=America/New_York jq -c '.t | fromdate' in
	assert_output 1719795600 # libjq alone: an hour off
}

@test "dlq check and retry stop a _watermark number that window reads as a time in no --time-unit, and pass one it reads in some" {
	for w in 1e400 -1e400 1e-400 -1e-400 0.0000000000001; do
		printf '{"_watermark":%s}\n{"t":1,"a":1}\n' "$w" > in
		for u in s ms us ns; do
			run window --tumble 1m -t .t --time-unit $u in
			assert_failure 2
		done
		refused "dlq: in:1: _watermark: no --time-unit reads it as a time (in seconds: $(window --tumble 1m -t .t in 2>&1 | sed 's/.*_watermark: //'))" dlq check -e .a in
		refused "dlq: <stdin>:1: _watermark: no --time-unit reads it as a time (in seconds: $(window --tumble 1m -t .t in 2>&1 | sed 's/.*_watermark: //'))" dlq retry -- cat < in
		run dlq check -e .a --dlq bad in
		assert_success
		assert_output '{"t":1,"a":1}'
	done
	# 1e12 + 0.5 is out of range in seconds, finer than one in ns, a
	# time in ms: window --time-unit ms takes it, so dlq passes it on
	printf '{"_watermark":1000000000000.5}\n{"t":1,"a":1}\n' > in
	run window --tumble 1m -t .t --time-unit ms --agg 'n=count()' in
	assert_success
	run dlq check -e .a in
	assert_success
	assert_output - < in
}

@test "strftime and strflocaltime with %z, %Z or %s say the time's offset, zone and second, or refuse the record, in every tool" {
	echo '{"t":1700000000}' > in
	run env TZ=Europe/Paris jq -c '.t | strflocaltime("%FT%T%z"), strftime("%H:%M %Z %s")' in
	assert_output '"2023-11-14T23:13:20+0000"
"22:13 CET 1699996400"' # libjq alone: an hour late, CET, an hour early
	msg='strflocaltime("%FT%T%z") gives "2023-11-14T23:13:20+0000" in libjq, whose broken-down time has no zone (%z, %Z and %s come from TZ'"'"'s standard time or a local mktime): the time is "2023-11-14T23:13:20+0100"'
	p='.t | strflocaltime("%FT%T%z")'
	run env TZ=Europe/Paris window --tumble 1h -t .t -g "$p" --agg 'n=count()' in
	assert_failure 2
	assert_output "window: in:1: group $p: $msg"
	run env TZ=Europe/Paris partition -n 2 -k "$p" in
	assert_failure 2
	assert_output "partition: in:1: key $p: $msg"
	run env TZ=Europe/Paris reconcile -k "$p" in in
	assert_failure 2
	assert_output "reconcile: in:1: key $p: $msg"
	run env TZ=Europe/Paris watermark -t "$p | strptime(\"%FT%T%z\") | mktime" --delay 0s in
	assert_failure 2
	assert_output --partial "$msg"
	run env TZ=Europe/Paris dedup -k '.t | strflocaltime("%FT%T%z")' in
	assert_failure 2
	assert_output 'dedup: in:1: key .t | strflocaltime("%FT%T%z"): strflocaltime("%FT%T%z") gives "2023-11-14T23:13:20+0000" in libjq, whose broken-down time has no zone (%z, %Z and %s come from TZ'"'"'s standard time or a local mktime): the time is "2023-11-14T23:13:20+0100"'
	for p in 'strftime("%Z")' 'strftime("%s")' 'gmtime | strftime("%s")' 'localtime | strflocaltime("%z")' 'strflocaltime("%Z %z")'; do
		run env TZ=Europe/Paris window --tumble 1h -t .t -g ".t | $p" --agg 'n=count()' in
		assert_failure 2
		assert_output --partial 'in libjq, whose broken-down time has no zone'
	done
	# what libjq says right stands: a UTC time's +0000, any zone under
	# TZ=UTC, formats without a zone
	run env TZ=Europe/Paris window --tumble 1h -t .t -g '[.t | strftime("%FT%T%z"), todate, strflocaltime("%T %A"), strftime("%%z")]' --agg 'n=count()' in
	assert_output --partial '"key":["2023-11-14T22:13:20+0000","2023-11-14T22:13:20Z","23:13:20 Tuesday","%z"]'
	for tz in UTC GMT ""; do
		run env TZ=$tz dedup -k '[.t | strftime("%Z %z %s"), strflocaltime("%Z %z %s")]' in
		assert_success
	done
}

@test "localtime and strflocaltime under a TZ that names no zone are refused, not run as UTC; zone files and POSIX strings are taken" {
	echo '{"t":1710054000}' > in
	for tz in Bogus/Zone America/New_Yrok America 'EST5EDT,M3.2.0' XX5; do
		run env TZ="$tz" dedup -k '.t | localtime' in
		assert_failure 2
		assert_output "dedup: -k: '.t | localtime' reads local time: TZ='$tz' is no time zone (no zoneinfo file /usr/share/zoneinfo/$tz, nor a POSIX TZ string such as EST5EDT,M3.2.0,M11.1.0), which the C library reads as UTC without a word; set TZ to a zone such as America/New_York, or unset it
Try 'dedup --help' for more information."
	done
	run env TZ=Bogus window --tumble 1h -t .t -g '.t | strflocaltime("%H")' in
	assert_failure 2
	assert_line -n 0 --partial "window: -g: '.t | strflocaltime(\"%H\")' reads local time: TZ='Bogus' is no time zone"
	run env TZ=right/UTC dedup -k '.t | localtime' in
	assert_failure 2
	assert_line -n 0 "dedup: -k: '.t | localtime' reads local time: TZ='right/UTC': its zoneinfo counts leap seconds, which idem's times (POSIX time) do not, so local times would be off by them; use the zone without leap seconds ('UTC')"
	# 07:00Z on 2024-03-10 is 03:00 EDT: the hour after the gap
	for tz in America/New_York :America/New_York EST5EDT,M3.2.0,M11.1.0 EST5EDT '<-05>5<-04>,M3.2.0/2,M11.1.0/2'; do
		run env TZ="$tz" window --tumble 1h -t .t -g '.t | localtime | .[3]' --agg 'n=count()' in
		assert_success
		assert_output --partial '"key":3,'
	done
	for tz in UTC '' : UTC0; do
		run env TZ="$tz" window --tumble 1h -t .t -g '.t | localtime | .[3]' --agg 'n=count()' in
		assert_output --partial '"key":7,'
	done
	# a program without local time does not read TZ: a member, a
	# variable, a key or a string of that name is no call
	echo '{"t":1710054000,"localtime":1,"a":{"localtime":2}}' > named
	for k in '.t | gmtime' .localtime '.a.localtime' '{localtime: .t}' '"localtime"' '. as $localtime | .t'; do
		run env TZ=Bogus dedup -k "$k" named
		assert_success
	done
}

@test "strflocaltime of a local time the clock skipped or went back over, with %s, %z or %Z, is refused: no instant, or two" {
	printf '%s\n' '{"f":[2024,10,3,1,30,0,0,307]}' > back
	printf '%s\n' '{"f":[2024,2,10,2,30,0,0,69]}' > gap
	printf '%s\n' '{"f":[2024,0,1,12,0,0,1,0]}' > jan
	for tz in America/New_York EST5EDT,M3.2.0,M11.1.0; do
		# libjq alone took 01:30 as EST and 02:30 as 02:30 EST
		run env TZ=$tz dedup -k '.f | strflocaltime("%s")' back
		assert_failure 2
		assert_output 'dedup: back:1: key .f | strflocaltime("%s"): [2024,10,3,1,30,0,0,307] | strflocaltime("%s"): 2024-11-03T01:30:00 is two instants in TZ'"'"'s zone (the clock went back over it): its %z, %Z or %s would be a guess'
		run env TZ=$tz dedup -k '.f | strflocaltime("%s")' gap
		assert_failure 2
		assert_output 'dedup: gap:1: key .f | strflocaltime("%s"): [2024,2,10,2,30,0,0,69] | strflocaltime("%s"): 2024-03-10T02:30:00 is no instant in TZ'"'"'s zone (the clock skipped it): its %z, %Z or %s would be a guess'
		run env TZ=$tz window --tumble 1h -t 0 -g '.f | strflocaltime("%s")' --agg 'n=count()' jan
		assert_output --partial '"key":"1704128400",'
		# without a zone in the format the fields are only written out
		run env TZ=$tz window --tumble 1h -t 0 -g '.f | strflocaltime("%H:%M")' --agg 'n=count()' back
		assert_output --partial '"key":"01:30",'
	done
	# a change of standard time counts as one of summer time does
	run env TZ=Europe/Moscow dedup -k '.f | strflocaltime("%s")' <<< '{"f":[2014,9,26,1,30,0,0,0]}'
	assert_failure 2
	assert_output --partial '2014-10-26T01:30:00 is two instants in TZ'
}

@test "a state whose keys read local time holds its zone: a run under another TZ is refused it, not given every record again" {
	# 02:00Z on 2024-03-10 is the 9th in New York, the 10th in Tokyo
	echo '{"id":1,"t":1710036000}' > in
	k='.t | strflocaltime("%F")'
	run env TZ=America/New_York dedup -k "$k" --state seen.idx in
	assert_output '{"id":1,"t":1710036000}'
	run env TZ=Asia/Tokyo dedup -k "$k" --state seen.idx in
	assert_failure 2
	assert_output "dedup: seen.idx: state was written for keys '-k $k tz=America/New_York', not '-k $k tz=Asia/Tokyo'; use a new state file"
	run env TZ=:America/New_York dedup -k "$k" --state seen.idx in
	assert_success
	assert_output 'dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
	# a zone's other names (links in the zone folder) are that zone
	run env TZ=US/Eastern dedup -k "$k" --state seen.idx in
	assert_success
	assert_output 'dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
	env TZ=UTC dedup -k "$k" --state utc.idx in > /dev/null
	for z in Etc/UTC Zulu :UTC; do
		run env TZ=$z dedup -k "$k" --state utc.idx in
		assert_success
		assert_output 'dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
	done
	run env TZ=US/Eastern window --tumble 1mo --tz America/New_York -t .t -g '.t | localtime | .[3]' in
	assert_success
	env TZ=America/New_York window --tumble 1h -t .t -g "$k" --delay 2h --state w.st in
	run env TZ=Asia/Tokyo window --tumble 1h -t .t -g "$k" --delay 2h --state w.st in
	assert_failure 2
	assert_output --partial " tz=America/New_York', not '"
	# shards run under two zones are two runs to window merge
	a=$(env TZ=America/New_York window --tumble 1h -t .t -g "$k" --shard 0/2 in | jq -r '._shard.run // empty')
	b=$(env TZ=Asia/Tokyo window --tumble 1h -t .t -g "$k" --shard 1/2 in | jq -r '._shard.run // empty')
	[ -n "$a" ] && [ "$a" != "$b" ]
	# keys without local time say no zone: any TZ takes the state
	dedup -k .id --state plain.idx in > /dev/null
	run env TZ=Asia/Tokyo dedup -k .id --state plain.idx in
	assert_success
}
