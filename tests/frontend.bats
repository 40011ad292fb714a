#!/usr/bin/env bats
# One front end (issue 18): every tool and every verb answers --help
# with examples that run, and refuses an option it does not take, exit 2,
# with its own usage line and a "did you mean" for a near miss.

load helpers

TOOLS="dedup watermark partition checkpoint dlq txlog"

# A tool with verbs names them when none is given.
verbs_of() {
	"$1" < /dev/null 2>&1 | sed -n 's/^.*: missing verb (\(.*\))$/\1/p' |
		tr -d ,
}

# Every "TOOL [VERB]" there is, one a line.
every() {
	local t v vs
	for t in $TOOLS; do
		case $t in
		window) printf '%s\n' window 'window merge' ;;
		reconcile) printf '%s\n' reconcile 'reconcile summarize' \
			'reconcile merge' 'reconcile compare' ;;
		*)
			vs=$(verbs_of "$t")
			[ -n "$vs" ] || { echo "$t"; continue; }
			for v in $vs; do echo "$t $v"; done
			;;
		esac
	done
}

# The first long option a help lists, -h aside.
first_option() {
	sed -n 's/^  \(-., \)\{0,1\}--\([a-z-]*\).*/\2/p' | grep -vx help |
		head -n 1
}

@test "the list of tools and verbs is complete" {
	run every
	[ "${#lines[@]}" -ge 24 ]
}

@test "every tool and verb: --help, an unknown option, a near miss" {
	every | while read -r tv; do
		run $tv --help
		assert_success
		assert_line -n 0 --partial "Usage: $tv"
		assert_line -n -1 --regexp '^  [^ ]' # the examples end it
		usage=${lines[0]}
		o=$(printf '%s\n' "$output" | first_option)
		name=${tv#* }
		[ "$name" != "$tv" ] && prefix="${tv%% *}: $name: " ||
			prefix="$tv: "
		run $tv --frobnicate < /dev/null
		assert_failure 2
		assert_output - <<E
${prefix}unknown option '--frobnicate'
$usage
Try '$tv --help' for more information.
E
		[ -n "$o" ] || continue # takes no option
		# one letter more: an unknown option, not an abbreviation
		run $tv "--$o${o: -1}" < /dev/null
		assert_failure 2
		assert_output - <<E
${prefix}unknown option '--$o${o: -1}'; did you mean '--$o'?
$usage
Try '$tv --help' for more information.
E
	done
}

@test "every tool and verb: --help ends with examples that run" {
	# they are commands the suites run: make test's sanitized pass
	# leaves them to the plain one
	[ -z "${IDEM_QUICK:-}" ] || skip "the plain pass runs them"
	# a scratch folder in memory: the examples commit, and fsync on a
	# shared disk is most of their time
	[ -w /dev/shm ] && export TMPDIR=/dev/shm
	every | while read -r tv; do
		run sh "$BATS_TEST_DIRNAME/man-examples.sh" --help $tv
		assert_success
	done
}

@test "every tool with verbs: a near-miss verb gets a did-you-mean" {
	every | while read -r tv; do
		[ "${tv#* }" != "$tv" ] || continue
		t=${tv%% *} v=${tv#* }
		run "$t" "${v}x" < /dev/null
		assert_failure 2
		assert_output - <<E
$t: unknown verb '${v}x'; did you mean '$v'?
Try '$t --help' for more information.
E
	done
}
