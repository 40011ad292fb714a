#!/usr/bin/env bats
# bash completion offers each tool's options and verbs, read from --help.

load helpers

complete_words() { # complete_words WORD...: what TAB offers for the last
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_idem_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BATS_TEST_DIRNAME/../cmd/completion.bash" "$@"
}

@test "completes dedup's long options" {
	run complete_words dedup --ke
	assert_success
	assert_output - <<'J'
--keep
--key
J
}

@test "completes a verb of a tool that has verbs" {
	[ -x "$IDEM_BIN/checkpoint" ] || skip "no checkpoint yet"
	run complete_words checkpoint re
	assert_output - <<'J'
read
reset
J
}

@test "every tool's --help yields options to complete" {
	for t in "$IDEM_BIN"/*; do
		run complete_words "$(basename "$t")" --h
		assert_line --help
	done
}

@test "make install installs completion for every tool" {
	run make -s -C "$BATS_TEST_DIRNAME/.." B="$(dirname "$IDEM_BIN")" install PREFIX=/usr DESTDIR="$PWD/root"
	assert_success
	for t in "$IDEM_BIN"/*; do
		[ -f "root/usr/share/bash-completion/completions/$(basename "$t")" ]
	done
}

@test "completes txlog's verbs from its Verbs: list" {
	[ -x "$IDEM_BIN/txlog" ] || skip "no txlog yet"
	run complete_words txlog c
	assert_output - <<'J'
cat
checkpoint
J
}
