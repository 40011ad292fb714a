#!/usr/bin/env bats
# The layout lib/README writes down, checked: no include cycle between
# files of lib/ and cmd/, lib/ layers include only downward, no file of a
# tool calls back into the file that calls it (tests/layout/check.py).

load helpers

top=$BATS_TEST_DIRNAME/..
check=$BATS_TEST_DIRNAME/layout/check.py

@test "lib/ and cmd/ have no include cycle and lib/ includes only downward" {
	run python3 "$check" "$top"
	assert_success
	assert_output ''
}

@test "no file of lib/ or of a tool folder calls back into its caller" {
	run python3 "$check" "$top" "$(dirname "$IDEM_BIN")"
	assert_success
	assert_output ''
}

# The checker itself, on a small tree that breaks each rule once.
@test "the layout check names a cycle, an upward include, a module in no layer and a call cycle" {
	mkdir -p t/lib t/cmd/tool t/cmd/other o/lib o/cmd/tool
	cat > t/lib/README <<-'R'
	  base        a  b
	              text
	  cli         cli
	R
	printf '#include "b.h"\n' > t/lib/a.c
	printf '#include "a.h"\n' > t/lib/b.h
	printf '#include "cli.h"\n' > t/lib/a.h
	: > t/lib/cli.h
	: > t/lib/stray.c
	printf '#include "../other/x.h"\n' > t/cmd/tool/main.c
	: > t/cmd/other/x.h
	printf 'int f(void);\nint g(void) { return f(); }\n' > g.c
	printf 'int g(void);\nint f(void) { return g(); }\n' > f.c
	cc -c -o o/cmd/tool/f.o f.c
	cc -c -o o/cmd/tool/g.o g.c
	run python3 "$check" t o
	assert_failure 1
	assert_output - <<-'E'
	lib/a.h: includes lib/cli.h: a lower layer includes a higher one (lib/README)
	lib/stray.c: module lib/stray is in no layer of lib/README
	cmd/tool/main.c: includes cmd/other/x.h: a tool includes only lib/ and its own folder
	include cycle: lib/a -> lib/b
	call cycle: cmd/tool/f -> cmd/tool/g (each uses a symbol another defines)
	E
}

# idem(7)'s Hadoop Streaming job ships map.sh and dedup.sh with -files:
# an empty map.sh at the top of the tree (committed with that recipe)
# was a mapper that emits nothing, so a job run from here wrote an
# empty /silver.  The top level holds the build and its documents only.
@test "the top of the tree holds the build and its documents, no stray script" {
	command -v git > /dev/null && git -C "$top" rev-parse 2> /dev/null ||
		skip "not a git checkout"
	run sh -c 'git -C "$1" ls-files | grep -v / | sort' sh "$top"
	assert_output - <<'L'
.clang-format
.gitignore
Makefile
README.md
L
}

# The README's Layout names lib/README's layers: it had left out
# decmath, scan_walk, scan_obj, tz, arith, par and badrec.
@test "the README's layers of lib/ are lib/README's, module for module" {
	for layer in base 'JSON & I/O' state cli; do
		want=$(awk -v l="$layer" 'index($0, "  " l "  ") == 1 {
			sub("^  " l " +", ""); print }' "$top/lib/README" |
			tr -s ' ' '\n' | sort)
		got=$(awk -v l="$layer" 'index($0, "              " l ": ") == 1 {
			sub("^ +" l ": ", ""); sub(/ \(.*/, ""); print }' \
			"$top/README.md" | tr -s ' ' '\n' | sort)
		[ -n "$want" ]
		[ "$want" = "$got" ] ||
			{ echo "$layer: lib/README: $want; README: $got" | tr '\n' ' '; false; }
	done
}

# Every exit of a tool goes through lib/cli's cli_exit (cli.h), which
# records the status the exit-time checks of stdout go by; the --help of
# dlq check, stats, replay, retry, purge and window merge called exit().
@test "no tool calls exit() but through cli_exit" {
	run sh -c 'grep -rnE "(^|[^_a-zA-Z])exit\(" "$1"/cmd | grep -vE "cli_exit\(|_exit\(|^[^:]*:[0-9]*:\s*(/?\*|//)"' sh "$top"
	assert_output ''
}
