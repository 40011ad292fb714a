#!/usr/bin/env bats
# checkpoint: sources known by identity, folders, options per verb.

load helpers

@test "every verb refuses an option that does not apply to it" {
	run checkpoint status -s s --until-empty
	assert_failure 2
	assert_output - <<'E'
checkpoint: status: --until-empty does not apply to status
Usage: checkpoint status -s STATE
E
	run checkpoint commit -s s --stats
	assert_failure 2
	assert_line -n 0 'checkpoint: commit: --stats does not apply to commit'
	run checkpoint read -s s --to start f
	assert_failure 2
	assert_line -n 0 'checkpoint: read: --to does not apply to read'
	run checkpoint reset -s s --to start -n 3
	assert_failure 2
	assert_line -n 0 'checkpoint: reset: --max-records does not apply to reset'
	assert_line -n 1 'Usage: checkpoint reset -s STATE --to start|end|OFFSET [--glob PATTERN] [FILE|DIR]...'
	[ ! -e s ]
}

@test "a near miss of an option or a verb gets a did-you-mean" {
	run checkpoint run -s s --until-emty f -- true
	assert_failure 2
	assert_line -n 0 'checkpoint: run: unknown option --until-emty; did you mean --until-empty?'
	run checkpoint stauts -s s
	assert_failure 2
	assert_line -n 0 "checkpoint: unknown command 'stauts'; did you mean 'status'? (read, commit, run, status, reset)"
	run checkpoint read -s s -q f
	assert_failure 2
	assert_line -n 0 'checkpoint: read: unknown option -q'
	run checkpoint read -s
	assert_failure 2
	assert_line -n 0 'checkpoint: read: -s needs a value'
}

@test "reading an empty folder is an empty batch" {
	mkdir d
	run checkpoint read -s s d
	assert_success
	assert_output ''
	run checkpoint run -s s --until-empty d -- cat
	assert_success
	assert_output ''
}

@test "folder mode skips symlinks, saying so, and never reads through them" {
	mkdir d outside
	echo '{"secret":1}' > outside/x
	echo '{"a":1}' > d/a
	ln -s ../outside/x d/b
	run checkpoint read -s s d
	assert_success
	assert_output - <<'E'
checkpoint: d/b: a symbolic link; skipped (only a folder's own files are read; name the target to read it)
{"a":1}
E
}

@test "reset of every source forgets a deleted one and then drops the batch, as it says" {
	echo '{"a":1}' > a
	echo '{"b":1}' > b
	checkpoint read -s s a b > /dev/null
	rm b
	run checkpoint reset -s s --to start
	assert_success
	assert_output - <<'E'
checkpoint: b: gone; removed from the state
checkpoint: pending batch 1 dropped
E
	run checkpoint status -s s
	assert_output '{"file":"a","offset":0,"size":8,"lag":8,"state":"ok","batch":0,"pending":null}'
	run checkpoint read -s s a
	assert_success
	assert_output '{"a":1}'
}
