#!/usr/bin/env bats
# State files reached through other names: one real file, one lock.

load helpers

@test "a state path that is a symlink commits to its target and stays a link" {
	mkdir real
	ln -s real/k.idx k.idx
	printf '{"id":1}\n{"id":2}\n' > in
	run dedup -k .id --state k.idx in
	assert_success
	[ -L k.idx ]
	[ -f real/k.idx ]
	[ -e real/k.idx.lock ]
	[ ! -e k.idx.lock ]
	run dedup -k .id --state k.idx in
	assert_success
	assert_output 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)'
	run dedup -k .id --state real/k.idx in
	assert_success
	assert_output 'dedup: 2 records dropped: duplicates (--dupes FILE keeps them)'
}

@test "a dangling symlink names where a window state is created" {
	mkdir real
	ln -s real/w.state w.state
	echo '{"t":1}' > in
	run window --tumble 1m -t .t --state w.state in
	assert_success
	[ -L w.state ]
	[ -f real/w.state ]
}

@test "two names of one state (symlink, symlinked folder) take one lock" {
	mkdir real
	ln -s real alias
	ln -s real/s s
	echo '{"a":1}' > in
	run checkpoint run -s real/s in -- sh -c 'checkpoint status -s s; echo "link $?"; checkpoint status -s alias/s; echo "folder $?"; cat > /dev/null'
	assert_success
	assert_output - <<'E'
checkpoint: s: locked by another process; try again later
link 75
checkpoint: alias/s: locked by another process; try again later
folder 75
E
}

@test "a state file with a second hard link is refused, not split" {
	printf '{"id":1}\n' > in
	dedup -k .id --state k.idx in > /dev/null
	ln k.idx other
	run dedup -k .id --state other in
	assert_failure 2
	assert_output 'dedup: other: the state file has 2 names (hard links); a commit replaces one name only and the names would part; keep one name'
}
