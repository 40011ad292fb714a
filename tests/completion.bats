#!/usr/bin/env bats
# bash and zsh completion offer each tool's options, verbs and option
# values, read from --help.

load helpers

complete_words() { # complete_words WORD...: what TAB offers for the last
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_idem_complete
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$BATS_TEST_DIRNAME/../cmd/completion.bash" "$@"
}

# The zsh function with the completion system's builtins stubbed:
# compadd prints the candidates that match, _files and _normal say so.
zsh_words() {
	zsh -fc '
		compadd() { [[ $1 == -a ]] && print -rl -- ${(M)${(P)2}:#$PREFIX*} }
		_files() { print -r -- "<files>" }
		_normal() { print -r -- "<command ${words[1]}>" }
		_call_program() { shift; "$@" }
		f=$1; shift
		words=("$@"); CURRENT=$#; PREFIX=${words[-1]}
		source $f
	' _ "$BATS_TEST_DIRNAME/../cmd/completion.zsh" "$@"
}

# The long options a man page documents (.It Fl Fl NAME).
man_options() {
	grep -oE '^\.It Fl Fl [a-z][a-z-]*' "$BATS_TEST_DIRNAME/../man/$1.1" |
		awk '{ print "--" $4 }' | sort -u
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	touch in.ndjson
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
	run complete_words checkpoint re
	assert_output - <<'J'
read
reset
J
}

@test "a tool that also runs without a verb offers its verbs and files" {
	run complete_words window ''
	assert_output - <<'J'
merge
in.ndjson
J
	run complete_words reconcile ''
	assert_output - <<'J'
compare
merge
summarize
in.ndjson
J
}

@test "a tool that needs a verb offers only verbs first" {
	run complete_words checkpoint ''
	assert_output - <<'J'
commit
read
reset
run
status
J
}

@test "completes the values an option lists in --help" {
	run complete_words window --emit ''
	assert_output - <<'J'
final
update
J
	run complete_words dedup --keep l
	assert_output last
}

@test "a value list with FILE offers file names too" {
	run complete_words window --late ''
	assert_output - <<'J'
drop
in.ndjson
J
}

@test "after -- a command is completed, then its files" {
	run complete_words checkpoint run -s st in.ndjson -- dedu
	assert_output dedup
	run complete_words checkpoint run -s st in.ndjson -- dedup in.
	assert_output in.ndjson
}

@test "once a verb is typed, its own --help adds its options" {
	run complete_words dlq --st
	assert_output ''
	run complete_words dlq check --st
	assert_output --stats
	run zsh_words dlq check --st
	assert_output --stats
}

@test "every tool's --help yields options to complete" {
	for t in "$IDEM_BIN"/*; do
		run complete_words "$(basename "$t")" --h
		assert_line --help
	done
}

# The verbs a man page's SYNOPSIS names (.Nm, then .Cm VERB | VERB...).
man_verbs() {
	awk '/^\.Sh / { syn = ($2 == "SYNOPSIS") }
		syn && prev == ".Nm" && $1 == ".Cm" {
			for (i = 2; i <= NF; i++) if ($i != "|") print $i }
		{ prev = $0 }' "$BATS_TEST_DIRNAME/../man/$1.1" | sort -u
}

@test "every option a man page documents is completed" {
	# one completion per option of every page: the plain pass's (under
	# ASan --help is all it runs, which the other tests run too)
	[ -z "${IDEM_QUICK:-}" ] || skip "make test SANITIZE=1 runs it"
	for t in "$IDEM_BIN"/*; do
		t=$(basename "$t")
		# what TAB offers after "-", with and after each verb
		bash -c 'source "$1"
			_idem_options "$2"
			for v in $(_idem_verbs "$2"); do _idem_options "$2" "$v"; done
		' _ "$BATS_TEST_DIRNAME/../cmd/completion.bash" "$t" |
			sort -u > offered
		man_options "$t" > documented
		run comm -23 documented offered
		assert_output ''
	done
}

@test "every verb a man page's synopsis names is completed" {
	for t in "$IDEM_BIN"/*; do
		t=$(basename "$t")
		complete_words "$t" '' | sort > offered
		man_verbs "$t" > documented
		run comm -23 documented offered
		assert_output ''
	done
	run man_verbs txlog
	assert_line cat
	assert_line verify
}

@test "completes txlog's verbs from its Verbs: list" {
	run complete_words txlog c
	assert_output - <<'J'
cat
changes
checkpoint
J
}

@test "completes txlog update, changes and log: their options and log's --format values" {
	run complete_words txlog update t --se
	assert_output '--set'
	run complete_words txlog changes t --fr
	assert_output '--from'
	run complete_words txlog log t --ut
	assert_output '--utc'
	run complete_words txlog log t --format ''
	assert_output - <<'J'
table
ndjson
J
	run complete_words txlog re
	assert_output 'restore'
}

@test "zsh: options, verbs, values and files from --help" {
	run zsh_words dedup --ke
	assert_output - <<'J'
--keep
--key
J
	run zsh_words window ''
	assert_output - <<'J'
merge
<files>
J
	run zsh_words checkpoint ''
	assert_output - <<'J'
commit
read
reset
run
status
J
	run zsh_words window --late ''
	assert_output - <<'J'
drop
<files>
J
	run zsh_words checkpoint run -s st -- dedu
	assert_output '<command dedu>'
}

@test "make install installs completion for bash (every tool) and zsh" {
	run make -s -C "$BATS_TEST_DIRNAME/.." B="$(dirname "$IDEM_BIN")" ${IDEM_SANITIZED:+SANITIZE=1} install PREFIX=/usr DESTDIR="$PWD/root"
	assert_success
	for t in "$IDEM_BIN"/*; do
		[ -f "root/usr/share/bash-completion/completions/$(basename "$t")" ]
	done
	run zsh -fc 'fpath=(root/usr/share/zsh/site-functions $fpath)
		autoload -U compinit; compinit -u -D
		print -r -- $_comps[dedup] $_comps[txlog] $_comps[window]'
	assert_output '_idem _idem _idem'
}

# The values a man page lists for an option (.It Fl Fl NAME Cm a | b,
# the Cm words; an Ar stands for a name or a number), as TAB offers
# them after the option, with the tool alone or after one of its verbs:
# "--time-unit UNIT" and reconcile's "--format F" in --help offered none.
@test "every value a man page lists for an option is completed" {
	for t in "$IDEM_BIN"/*; do
		t=$(basename "$t")
		sed -n 's/^\.It Fl Fl \([a-z-]*\) Cm \(.* | .*\)$/\1 \2/p' \
			"$BATS_TEST_DIRNAME/../man/$t.1" |
		while read -r o vals; do
			want=$(tr ' ' '\n' <<< "$vals" |
				awk '$0 == "Ar" { skip = 1; next }
					skip { skip = 0; next }
					$0 != "|" && $0 != "Cm"' | sort -u)
			{
				complete_words "$t" "--$o" ''
				for v in $(bash -c 'source "$1"; _idem_verbs "$2"' _ \
					"$BATS_TEST_DIRNAME/../cmd/completion.bash" "$t"); do
					complete_words "$t" "$v" x "--$o" ''
				done
			} | sort -u > offered
			run comm -23 - offered <<< "$want"
			[ -z "$output" ] ||
				{ echo "$t --$o: $output not completed"; false; }
		done
	done
}

# A verb refuses the tool's other options, and a tool that needs a verb
# takes none but --help and --version before it: TAB offered every
# option of the tool's --help after any verb (dlq purge --schema), and
# options a line of prose names (partition's "of --shard I/N", window
# merge's "the outputs of --shard runs"), which no one takes there, and
# without a verb those its --help gives as a verb's (reconcile's
# "--shard I/N  summarize: ...", which a comparison refuses).
@test "TAB offers only the options the tool or the verb typed takes" {
	run complete_words dlq purge --
	assert_output - <<'J'
--help
--older-than
J
	run complete_words dlq replay --s
	assert_output ''
	run complete_words txlog --s
	assert_output ''
	run complete_words partition --sh
	assert_output ''
	run complete_words window merge --s
	assert_output --stats
	# reconcile without a verb compares: --shard is summarize's, as
	# its --help line says ("summarize: only the keys of shard I of N")
	run complete_words reconcile --sh
	assert_output --show
	run complete_words reconcile summarize --sh
	assert_output --shard
	run zsh_words reconcile --sh
	assert_output --show
	run complete_words txlog log t --
	assert_output - <<'J'
--format
--help
--utc
J
	run zsh_words dlq purge --
	assert_output - <<'J'
--help
--older-than
J
	run zsh_words partition --sh
	assert_output ''
	run zsh_words txlog --
	assert_output - <<'J'
--help
--version
J
}

@test "no option TAB offers is refused as unknown or another verb's" {
	[ -z "${IDEM_QUICK:-}" ] || skip "make test SANITIZE=1 runs it"
	for t in "$IDEM_BIN"/*; do
		t=$(basename "$t")
		for v in "" $(bash -c 'source "$1"; _idem_verbs "$2"' _ \
			"$BATS_TEST_DIRNAME/../cmd/completion.bash" "$t"); do
			for o in $(bash -c 'source "$1"; _idem_options "$2" $3' _ \
				"$BATS_TEST_DIRNAME/../cmd/completion.bash" "$t" $v); do
				# alone, the option is refused for what it lacks
				# (a value, a -k, a file), never for being no option
				run "$t" $v "$o" < /dev/null
				refute_output --partial 'does not apply'
				refute_output --partial 'unknown option'
				refute_output --partial 'option, not'
			done
		done
	done
}

# "--to start|end|OFFSET": OFFSET is a byte offset, not a file, where
# "--late drop|FILE" names one; TAB offered the folder's files for both.
@test "an upper-case value other than FILE offers no file names" {
	run complete_words checkpoint reset --to ''
	assert_output - <<'J'
start
end
J
	run zsh_words checkpoint reset -s st --to ''
	assert_output - <<'J'
start
end
J
	run complete_words watermark --late ''
	assert_output - <<'J'
drop
in.ndjson
J
}
