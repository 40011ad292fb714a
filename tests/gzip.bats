#!/usr/bin/env bats
# gzip input, known by its magic number as zstd is: files and stdin, in
# every tool that reads records; a cut or corrupt stream is an error that
# names the input, never a short read taken for the end.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	printf '{"k":%d,"t":%d,"a":1}\n' 1 10 2 20 1 30 3 70 > in.ndjson
	gzip -c in.ndjson > in.gz
	head -c $(($(wc -c < in.gz) - 5)) in.gz > cut.gz
}

# TOOL ARGS...: the same output and exit for plain, a gzip file, gzip on
# stdin and two gzip members concatenated (twice the records); a cut gzip
# is exit 2 naming it.
same_as_plain() {
	local want got
	want=$("$@" in.ndjson 2>&1; echo "exit $?")
	got=$("$@" in.gz 2>&1; echo "exit $?")
	[ "$got" = "$want" ] || { echo "file: $got"; echo "want: $want"; return 1; }
	got=$("$@" - < in.gz 2>&1; echo "exit $?")
	[ "$got" = "$want" ] || { echo "stdin: $got"; echo "want: $want"; return 1; }
	cat in.gz in.gz > two.gz
	cat in.ndjson in.ndjson > two.ndjson
	want=$("$@" two.ndjson 2>&1; echo "exit $?")
	got=$("$@" two.gz 2>&1; echo "exit $?")
	[ "$got" = "$want" ] || { echo "members: $got"; echo "want: $want"; return 1; }
	run "$@" cut.gz
	assert_failure 2
	assert_output --partial "cut.gz: truncated gzip stream"
}

@test "dedup, watermark and window read gzip files and stdin" {
	same_as_plain dedup -k .k
	same_as_plain watermark -t .t --delay 5s --emit
	same_as_plain window --tumble 1m -t .t -g .k --agg 's=sum(.a)'
}

@test "dlq check and reconcile read gzip" {
	same_as_plain dlq check -e '.k != 3' --dlq bad.ndjson
	same_as_plain reconcile -k .k in.ndjson
	run reconcile -k .k --format ndjson in.gz in.ndjson
	assert_success
}

@test "txlog append reads gzip; a cut stream commits nothing" {
	txlog init tbl
	run txlog append tbl in.gz
	assert_success
	run txlog append tbl - < in.gz
	assert_success
	run txlog append tbl cut.gz
	assert_failure 2
	assert_output --partial "cut.gz: truncated gzip stream"
	run sh -c 'txlog cat tbl | wc -l'
	assert_output 8
}

@test "corrupt gzip and bytes after the last member are errors naming the file" {
	cp in.gz bad.gz
	size=$(wc -c < bad.gz)
	printf '\377\377\377\377' | dd of=bad.gz bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
	run dedup -k .k bad.gz
	assert_failure 2
	assert_output 'dedup: bad.gz: gzip: incorrect data check'
	{ cat in.gz; echo junk; } > trail.gz
	run sh -c 'dedup -k .k trail.gz > /dev/null'
	assert_failure 2
	# the records before the error went out: its duplicate is said
	assert_output 'dedup: trail.gz: gzip: bytes after member 1 are not another member (incorrect header check)
dedup: 1 record dropped: duplicates (--dupes FILE keeps them)'
}

@test "checkpoint refuses gzip as it refuses zstd: its offsets are byte offsets" {
	mkdir src
	cp in.gz src/
	run checkpoint read -s st src
	assert_failure 2
	assert_output --partial "gzip-compressed; checkpoint needs plain files"
}
