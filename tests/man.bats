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

# The checker itself: a comment that says what a line prints is held
# to it, and a pipeline whose first stage fails is no example that runs
# (sh -e looked at the last stage only).
@test "man-examples.sh fails an example that prints other than its comment says, or whose pipeline fails early" {
	cd "$BATS_TEST_TMPDIR"
	page() {
		printf '.Sh EXAMPLES\n.Bd -literal -offset indent\n%s\n.Ed\n' "$1" > p.1
		run sh "$BATS_TEST_DIRNAME/man-examples.sh" p.1
	}
	page 'echo \(dq{\e\(dqid\e\(dq:3}\(dq   # {"id":3}'
	assert_success
	page 'echo \(dq{\e\(dqid\e\(dq:4}\(dq   # {"id":3} again'
	assert_failure
	assert_output --partial 'line 3: not what its comment says: {"id":3} again'
	page 'echo "x" >&2   # nothing (stderr only)'
	assert_success
	page 'echo x   # nothing'
	assert_failure
	assert_output --partial 'line 3: not what its comment says: nothing'
	page 'echo x   # prose, not checked'
	assert_success
	# "|| true" would pass a trouble (exit 2) as the finding expected
	page 'sh -c \(dqexit 2\(dq || true'
	assert_failure
	assert_output --partial 'line 3: || true passes an exit 2 (trouble) too'
	page 'sh -c \(dqexit 1\(dq || [ $? = 1 ]'
	assert_success
	page 'sh -c \(dqexit 2\(dq || [ $? = 1 ]'
	assert_failure
	command -v bash > /dev/null || skip "no bash for pipefail"
	page 'false | cat'
	assert_failure
}

@test "every page documents exit status and examples" {
	for page in $(pages); do
		case $page in *.7) continue ;; esac
		grep -q '^\.Sh EXIT STATUS' "$page"
		grep -q '^\.Sh EXAMPLES' "$page"
	done
}

# The page of TOOL as plain text, wide enough that no line wraps.
page_text() {
	mandoc -Tascii -O width=300 "$BATS_TEST_DIRNAME/../man/$1.1" | col -b
}

# TOOL's verbs, as frontend.bats finds them (none: the tool alone).
verbs() {
	case $1 in
	window) echo merge ;;
	reconcile) echo summarize merge compare ;;
	*) "$1" < /dev/null 2>&1 |
		sed -n 's/^.*: missing verb (\(.*\))$/\1/p' | tr -d , ;;
	esac
}

@test "every option a tool's or verb's --help lists is in its man page" {
	for t in dedup watermark window reconcile partition checkpoint dlq \
		txlog; do
		text=$(page_text "$t")
		helps=$("$t" --help)
		for v in $(verbs "$t"); do
			helps+=$'\n'$("$t" "$v" --help)
		done
		for o in $(printf '%s\n' "$helps" |
			grep -E '^  (-[a-zA-Z], )?--[a-z]' |
			grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -qe "$o" <<< "$text" ||
				{ echo "$t: $o is in --help, not in $t(1)"; false; }
		done
	done
}

@test "a verb's usage line and its SYNOPSIS line name the same options" {
	for t in checkpoint dlq txlog reconcile window; do
		syn=$(page_text "$t" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
		for v in $(verbs "$t"); do
			help=$("$t" "$v" --help)
			usage=${help%%$'\n'*}
			# the SYNOPSIS lines of the verb ("schema | checkpoint"
			# shares one)
			line=$(awk -v t="$t" -v v="$v" '
				{ s = $0; sub(/^ +/, "", s) }
				s ~ "^" t " " { on = index(s, t " " v " ") == 1 ||
					index(s, "| " v " ") > 0 }
				on' <<< "$syn")
			for o in $(grep -oE -- '--[a-z][a-z0-9-]*' <<< "$usage" |
				sort -u); do
				grep -qe "$o" <<< "$line" || { echo "$t $v: $o" \
					"is in its usage, not its SYNOPSIS"; false; }
			done
			for o in $(grep -oE -- '--[a-z][a-z0-9-]*' <<< "$line" |
				sort -u); do
				grep -qe "$o" <<< "$help" || { echo "$t $v: $o" \
					"is in its SYNOPSIS, not its --help"; false; }
			done
		done
	done
}

@test "every page that gives IDEM_PAR_CHUNK's default gives lib/par.c's" {
	# PAR_CHUNK_BYTES (128u << 10): the chunk -j cuts the input into
	shift=$(sed -n 's/^#define PAR_CHUNK_BYTES (\([0-9]*\)u << \([0-9]*\)).*/\1 \2/p' \
		"$BATS_TEST_DIRNAME/../lib/par.c")
	[ -n "$shift" ]
	want=$(( ${shift% *} << ${shift#* } ))
	[ "$want" = 131072 ]
	n=0
	for page in $(pages); do
		for d in $(grep -A3 'IDEM_PAR_CHUNK' "$page" |
			sed -n 's/.*(default \([0-9]*\)).*/\1/p'); do
			n=$((n + 1))
			[ "$d" = "$want" ] ||
				{ echo "$page: IDEM_PAR_CHUNK default $d, lib/par.c's $want"; false; }
		done
	done
	[ "$n" -ge 2 ]
}

@test "txlog(1)'s table of protocol features keeps its cells apart under groff (man(1) on Debian), not only under mandoc" {
	command -v nroff > /dev/null || skip "no groff"
	run sh -c 'nroff -mdoc -rLL=80n "$1" 2> /dev/null | col -bx' sh \
		"$BATS_TEST_DIRNAME/../man/txlog.1"
	assert_success
	assert_line --regexp '^ +minReaderVersion 4\+ +refused +refused$'
	assert_line --regexp '^ +‘v2Checkpoint’ +read \(JSON; sidecars refused\) +written$'
	assert_line --regexp '^ +‘deletionVectors’ +refused +refused$'
	refute_output --partial 'refusedrefused'
}

@test "no quoted word in a page swallows the words after it (.Ql a , Ql b nests: ‘a, ‘b’’)" {
	command -v nroff > /dev/null || skip "no groff"
	for page in $(pages); do
		for r in "mandoc -Tutf8" "nroff -mdoc -rLL=78n"; do
			run sh -c '$1 "$2" 2> /dev/null | col -bx | tr "\n" " " |
				grep -oE "‘[^’]*‘" | head -n 3' sh "$r" "$page"
			assert_output ''
		done
	done
}

@test "txlog(1) names vacuum's --dry-run with both dashes under groff too" {
	command -v nroff > /dev/null || skip "no groff"
	run sh -c 'nroff -mdoc -rLL=200n "$1" 2> /dev/null | col -bx' sh \
		"$BATS_TEST_DIRNAME/../man/txlog.1"
	assert_output --partial '(--dry-run lists files only)'
	refute_output --partial '(-dry-run'
}

# mdoc reads an argument that starts with a quote as a quoted group:
# .Ql "records_out":0 rendered as 'records_out :0'; \&" keeps the quote
@test "no macro argument opens a quoted group that text runs on from (write \\&\" for a literal quote)" {
	run grep -nE '^\.[A-Z][a-z].* "[^"]*"[^ ]' $(pages)
	assert_output ''
}

# .Ql, .Dq and the like enclose the rest of their line: a No after them
# does not close them, so .Pq Ql gap No in Fl Fl stats printed
# "('gap in --stats')"; .Po, the word on a line of its own, .Pc does
@test "no quote macro runs on past a No meant to end it" {
	run grep -nE '(^\.| )(Ql|Dq|Sq|Qq|Aq|Bq) .* No ' $(pages)
	assert_output ''
}

# What a tool reads from its environment changes what it does: each
# variable is in a page (reconcile read RECONCILE_NO_THREADS, which no
# page named, and with it ran one thread whatever -j said).  IDEM_FAULT
# is the suites' fault hook (lib/fault.h), no user's.
@test "every environment variable the tools read is in a man page" {
	src=$BATS_TEST_DIRNAME/..
	vars=$(grep -rhoE 'getenv\("[A-Z_]+"\)' "$src/cmd" "$src/lib" |
		sed 's/getenv("\(.*\)")/\1/' | sort -u | grep -vx IDEM_FAULT)
	[ -n "$vars" ]
	for v in $vars; do
		grep -qw "$v" $(pages) || { echo "$v: in no page"; false; }
	done
}

# --stats members: the shared ones in idem(7), each tool's own in its
# page (dlq retry's attempts and retried, checkpoint run's batches,
# txlog cat's files_skipped, files's commits_read and load times,
# verify's problems, vacuum's dry_run were in none).
@test "every member a --stats line has is named: the shared in idem(7), the others in the tool's page" {
	cd "$BATS_TEST_TMPDIR"
	printf '{"t":1,"id":1}\n{"t":100,"id":2}\n' > e.ndjson
	txlog init tb --infer > /dev/null
	window --tumble 1m -t .t --shard 0/1 --agg 'n=count()' e.ndjson > s0
	shared='tool records_in records_out duplicates late dead_lettered bytes_in bytes_out seconds'
	while IFS= read -r c; do
		t=${c%% *}
		eval "$c" 2> err > /dev/null || true
		line=$(grep '^{"tool"' err || true)
		[ -n "$line" ] || { echo "$c: no --stats line"; false; }
		for k in $(jq -r 'keys_unsorted[]' <<< "$line"); do
			case " $shared " in
			*" $k "*) page=$BATS_TEST_DIRNAME/../man/idem.7 ;;
			*) page=$BATS_TEST_DIRNAME/../man/$t.1 ;;
			esac
			grep -qw -- "$k" "$page" ||
				{ echo "$c: --stats member $k is not in $(basename "$page")"; false; }
		done
	done <<'C'
dedup -k .id --stats --state s1 --batch 1 e.ndjson
watermark -t .t --stats e.ndjson
window --tumble 1m -t .t --agg 'n=count()' --stats --state w1 --batch 1 e.ndjson
window merge --stats s0
partition -n 2 -g .id -t .t --stats e.ndjson
dlq check -e .t --stats e.ndjson
dlq retry --stats e.ndjson -- cat
reconcile -k .id --stats e.ndjson e.ndjson
reconcile summarize -k .id --stats e.ndjson
checkpoint read -s st --stats e.ndjson
checkpoint run -s st2 --stats e.ndjson -- cat
txlog append tb --stats e.ndjson
txlog cat tb --stats
txlog files tb --stats
txlog verify tb --stats
txlog changes tb --from 1 --stats
txlog optimize tb --stats
txlog vacuum tb --dry-run --stats
txlog update tb --set 't = 3' --where 'id = 1' --stats
txlog delete tb --where 'id = 1' --stats
txlog restore tb --version 0 --stats
C
}
