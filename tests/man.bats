#!/usr/bin/env bats
# The manual: every page lints clean and every example in it runs.

load helpers

pages() {
	ls "$BATS_TEST_DIRNAME"/../man/*.[17]
}

@test "every man page is mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning $(pages)
	assert_success
	assert_output ''
}

@test "every example in every man page runs" {
	# the examples' commands are the suites' own: make test's sanitized
	# pass leaves them to make test SANITIZE=1
	[ -z "${IDEM_QUICK:-}" ] || skip "make test SANITIZE=1 runs them"
	# a scratch folder in memory, as for the --help examples
	# (frontend.bats): the examples commit, some 500 fsyncs on a shared
	# disk, and they check what the tools print, not the disk
	[ -w /dev/shm ] && export TMPDIR=/dev/shm
	for page in $(pages); do
		run sh "$BATS_TEST_DIRNAME/man-examples.sh" "$page"
		assert_success
	done
}

@test "every page documents exit status and examples" {
	for page in $(pages); do
		case $page in *.7) continue ;; esac
		grep -q '^\.Sh EXIT STATUS' "$page"
		grep -q '^\.Sh EXAMPLES' "$page"
	done
}
