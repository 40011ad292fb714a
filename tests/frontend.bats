#!/usr/bin/env bats
# One front end (issue 18): every tool and every verb answers --help
# with examples that run, and refuses an option it does not take, exit 2,
# with its own usage line and a "did you mean" for a near miss.

load helpers
bats_require_minimum_version 1.5.0

TOOLS="dedup watermark window reconcile partition checkpoint dlq txlog"

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

# The first long option the help in $lines lists, -h aside (bash alone:
# this runs for every verb).
first_option() {
	local l re='^  (-., )?--([a-z-]+)'
	for l in "${lines[@]}"; do
		[[ $l =~ $re ]] && [ "${BASH_REMATCH[2]}" != help ] &&
			{ echo "${BASH_REMATCH[2]}"; return 0; }
	done
	return 0
}

@test "every tool and verb: --help, an unknown option, near misses" {
	every > all
	[ "$(wc -l < all)" -ge 33 ] # the list is complete
	while read -r tv; do
		run $tv --help
		assert_success
		assert_line -n 0 --partial "Usage: $tv"
		assert_line -n -1 --regexp '^  [^ ]' # the examples end it
		usage=${lines[0]}
		o=$(first_option)
		name=${tv#* }
		[ "$name" != "$tv" ] && prefix="${tv%% *}: $name: " ||
			prefix="$tv: "
		# the help's first line may be the start of the usage line;
		# an option one letter longer than one it takes is unknown,
		# not an abbreviation, and near it
		if [ -n "$o" ]; then
			bad="--$o${o: -1}" hint="; did you mean '--$o'?"
		else
			bad=--frobnicate hint=
		fi
		run $tv "$bad" < /dev/null
		assert_failure 2
		assert_line -n 0 "${prefix}unknown option '$bad'$hint"
		assert_line -n 1 --partial "$usage"
		assert_line -n 2 "Try '$tv --help' for more information."
		[ "${#lines[@]}" = 3 ]
		[ "$name" != "$tv" ] || continue
		run "${tv%% *}" "${name}x" < /dev/null
		assert_failure 2
		assert_output - <<E
${tv%% *}: unknown verb '${name}x'; did you mean '$name'?
Try '${tv%% *} --help' for more information.
E
	done < all
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

@test "every tool and verb: --help or --version to a full or closed stdout is exit 2, not a silent 0" {
	[ -w /dev/full ] || skip "no /dev/full"
	every > all
	while read -r tv; do
		run sh -c "$tv --help > /dev/full"
		assert_failure 2
		assert_output "${tv%% *}: stdout: No space left on device"
		run sh -c "$tv --help >&-"
		assert_failure 2
		assert_output "${tv%% *}: stdout: Bad file descriptor"
	done < all
	for t in $TOOLS; do
		run sh -c "$t --version > /dev/full"
		assert_failure 2
		assert_output "$t: stdout: No space left on device"
	done
}

@test "shared options: --max-line 0 and a bad --time-unit, one message everywhere" {
	for c in dedup watermark window partition "dlq check" reconcile \
		"txlog append t" "txlog merge t -k .a"; do
		run $c --max-line 0 < /dev/null
		assert_failure 2
		assert_line --index 0 "${c%% *}: --max-line: must be positive"
	done
	for c in dedup watermark window partition; do
		run $c --time-unit xs < /dev/null
		assert_failure 2
		assert_line --index 0 "$c: --time-unit: want s, ms, us or ns, got 'xs'"
	done
}

@test "a count, a size or a shard with a sign or a leading blank is refused, not wrapped to 2^64-1" {
	# strtoull skips blanks and negates: ' -1' read as 18446744073709551615
	for v in ' -1' ' 2' '+2'; do
		run --separate-stderr dedup -k .id -j "$v" < /dev/null
		assert_failure 2
		assert_equal "$stderr" "dedup: -j: not a whole number: '$v'
Try 'dedup --help' for more information."
		run --separate-stderr reconcile --memory "$v" a b
		assert_failure 2
		assert_equal "$stderr" "reconcile: --memory: not a size: '$v'
Try 'reconcile --help' for more information."
		run --separate-stderr dedup -k .id --shard "$v/4" < /dev/null
		assert_failure 2
		assert_equal "$stderr" "dedup: --shard: want I/N with 0 <= I < N <= 65536, got '$v/4'
Try 'dedup --help' for more information."
		run --separate-stderr dedup -k .id --shard "0/$v" < /dev/null
		assert_failure 2
		assert_equal "$stderr" "dedup: --shard: want I/N with 0 <= I < N <= 65536, got '0/$v'
Try 'dedup --help' for more information."
	done
	# past the most shards: the message says the bound it broke
	refused "dedup: --shard: want I/N with 0 <= I < N <= 65536, got '0/65537'" \
		dedup -k .id --shard 0/65537
	refused "window: --partition: want I/N with 0 <= I < N <= 65536, got '1/65537'" \
		window --tumble 1m -t .t --partition 1/65537
	# a whole number or a size past 2^64 - 1 is too large, not "not a
	# whole number" (or "not a size"), which it is
	refused "partition: -n: too large: '18446744073709551616'" \
		partition -n 18446744073709551616
	refused "dedup: -j: too large: '99999999999999999999'" \
		dedup -j 99999999999999999999
	refused "dedup: --max-line: too large: '17179869184G'" \
		dedup --max-line 17179869184G
	refused "reconcile: --memory: too large: '99999999999999999999K'" \
		reconcile --memory 99999999999999999999K a b
}

@test "a bad option value inside a verb points to the verb's own --help" {
	run txlog cat t --version x
	assert_failure 2
	assert_output "txlog: --version: not a whole number: 'x'
Try 'txlog cat --help' for more information."
	run checkpoint read -s st -n x
	assert_failure 2
	assert_output "checkpoint: --max-records: not a whole number: 'x'
Try 'checkpoint read --help' for more information."
	run reconcile summarize -k .id --memory x
	assert_failure 2
	assert_output "reconcile: --memory: not a size: 'x'
Try 'reconcile summarize --help' for more information."
	run window merge --max-line 0
	assert_failure 2
	assert_line -n 1 "Try 'window merge --help' for more information."
	# the tool's own (unnamed) verb keeps the tool's help
	run reconcile -k .id --memory x a b
	assert_failure 2
	assert_line -n 1 "Try 'reconcile --help' for more information."
}

@test "an option with one value given twice with two values is refused; repeatable ones add up" {
	printf '{"t":1,"id":1}\n' > in.ndjson
	run window --tumble 1m --tumble 5m -t .t in.ndjson
	assert_failure 2
	assert_line --index 0 "window: --tumble given twice ('1m', then '5m'); give it once"
	run dedup -k .id --keep first --keep last in.ndjson
	assert_failure 2
	assert_line --index 0 "dedup: --keep given twice ('first', then 'last'); give it once"
	run watermark -t .t --delay 1s --delay 2s in.ndjson
	assert_failure 2
	assert_line --index 0 "watermark: --delay given twice ('1s', then '2s'); give it once"
	run partition -n 2 -n 3 in.ndjson
	assert_failure 2
	assert_line --index 0 "partition: --partitions given twice ('2', then '3'); give it once"
	run checkpoint read -s a.ckpt -n 1 --max-records 2 in.ndjson
	assert_failure 2
	assert_line --index 0 "checkpoint: read: --max-records given twice ('1', then '2'); give it once"
	[ ! -e a.ckpt ]
	refused "reconcile: --show given twice ('1', then '2'); give it once" \
		reconcile -k .id --show 1 --show 2 in.ndjson in.ndjson
	refused "dlq: retry: --retries given twice ('1', then '2'); give it once" \
		dlq retry --retries 1 --retries 2 -- cat
	refused "txlog: cat: --version given twice ('0', then '1'); give it once" \
		txlog cat t --version 0 --version 1
	# the same value twice is harmless; -k, -g and --agg add up
	run window --tumble 1m --tumble 1m -t .t -g .id -g .t --agg 'n=count()' --agg 'm=count()' in.ndjson
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"key":[1,1],"n":1,"m":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run dedup -k .id -k .t --stats --stats in.ndjson
	assert_success
	assert_line --index 0 '{"t":1,"id":1}'
	run partition -n 1 -k .id -k .t in.ndjson
	assert_success
	assert_output "$(printf '0\t{"t":1,"id":1}')"
	# --shard and --partition too (they said "give one --shard or
	# --partition" to the same one twice); the two mixed stay refused
	run dedup -k .id --shard 1/2 --shard 1/2 in.ndjson
	assert_success
	run window --tumble 1m -t .t --partition 0/1 --partition 0/1 in.ndjson
	assert_success
	refused "dedup: --partition: give one --shard or --partition" \
		dedup -k .id --shard 0/2 --partition 0/2 in.ndjson
}

@test "an unknown short option at the head of a cluster is named itself, not the argument before it" {
	# getopt has not passed -Zq yet: argv[optind - 1] was --stats, and
	# it said "unknown option '--stats'; did you mean '--stats'?"
	refused "dedup: unknown option '-Z'" dedup --stats -Zq
	refused "dedup: unknown option '-Z'" dedup --dupes=d -Z
	refused "partition: unknown option '-x'" partition --stats -xn 2
	refused "window: unknown option '-Z'" window --tumble 1m -t .t --stats -Zg .a
	refused "dedup: unknown option '-x'" dedup -x
	refused "dedup: -k needs an argument" dedup --stats -k
	refused "dedup: --key needs an argument" dedup --key
}

@test "a flag given a value (--check=1) is refused as taking none, not as an unknown option near itself" {
	# it said: unknown option '--check'; did you mean '--check'?
	refused "dedup: --check takes no argument, got '--check=1'" \
		dedup -k .id --check=1
	refused "dedup: --check takes no argument, got '--chec=yes'" \
		dedup --chec=yes
	refused "partition: --help takes no argument, got '--help=1'" \
		partition --help=1
	refused "window: --stats takes no argument, got '--stats=1'" \
		window --tumble 1m -t .t --stats=1
	refused "dlq: check: --stats takes no argument, got '--stats=1'" \
		dlq check -e .a --stats=1
	refused "txlog: log: --utc takes no argument, got '--utc=1'" \
		txlog log t --utc=1
	# another verb's flag is still said to be that verb's
	refused "txlog: log: --stats does not apply to log (it is append's, overwrite's, merge's, delete's, cat's, files's, verify's, vacuum's, optimize's, restore's, update's and changes's)" \
		txlog log t --stats=1
	# and the plain flag says the same, every verb that takes it
	refused "txlog: log: --stats does not apply to log (it is append's, overwrite's, merge's, delete's, cat's, files's, verify's, vacuum's, optimize's, restore's, update's and changes's)" \
		txlog log t --stats
	refused "checkpoint: commit: --stats does not apply to commit (it is read's and run's)" \
		checkpoint commit -s s --stats
}

@test "another tool's name for an option gets a did you mean: Beam's --allowed-lateness, Flink's --tumbling" {
	run window --tumble 1m -t .t --allowed-lateness 1m < /dev/null
	assert_failure 2
	assert_line --index 0 "window: unknown option '--allowed-lateness'; did you mean '--lateness'?"
	run window --tumbling 1m -t .t < /dev/null
	assert_failure 2
	assert_line --index 0 "window: unknown option '--tumbling'; did you mean '--tumble'?"
	run window --sliding 1m -t .t < /dev/null
	assert_failure 2
	assert_line --index 0 "window: unknown option '--sliding'; did you mean '--slide'?"
	run watermark -t .t --allowed-lateness 1m < /dev/null
	assert_failure 2
	assert_line --index 0 "watermark: unknown option '--allowed-lateness'; did you mean '--lateness'?"
	# two names it could be: no guess
	run window --tumble 1m -t .t --state-file s < /dev/null
	assert_failure 2
	assert_line --index 0 "window: unknown option '--state-file'"
}

@test "a prefix of one option is that option; a prefix of several is refused, naming them" {
	printf '%s\n' '{"a":1}' '{"a":1}' > in
	run dedup -k .a --dup d in
	assert_success
	assert_output '{"a":1}'
	assert_equal "$(cat d)" '{"a":1}'
	run dedup -k .a --stat in
	assert_failure 2
	assert_line --index 0 "dedup: option '--stat' is ambiguous (--state, --stats)"
	run window --tumble 1m -t .a --s in
	assert_failure 2
	assert_line --index 0 "window: option '--s' is ambiguous (--slide, --session, --state, --shard, --stats)"
	run txlog cat t --as 2>&1
	assert_failure 2
	assert_line --index 0 "txlog: cat: --as needs an argument"
}

@test "a prefix that is the whole name of another tool's option is refused, not taken as this tool's longer one" {
	# partition --partition 0/2 was read as --partitions 0/2
	refused "partition: --partition is dedup's, reconcile's, watermark's and window's option, not partition's; partition takes --partitions" \
		partition --partition 0/2
	refused "partition: --partition is dedup's, reconcile's, watermark's and window's option, not partition's; partition takes --partitions" \
		partition --partition=2
	refused "txlog: init: --check is dedup's option, not init's; init takes --checkpoint-interval" \
		txlog init t --check 5
	refused "txlog: cat: --partition is dedup's, reconcile's, watermark's and window's option, not cat's" \
		txlog cat t --partition x
	refused "dlq: retry: --time is dedup's, partition's, watermark's and window's option, not retry's; retry takes --timeout" \
		dlq retry --time 5 -- true
	refused "reconcile: --to is checkpoint's and txlog's option, not reconcile's; reconcile takes --tolerance" \
		reconcile -k .a --to 1 a b
	[ ! -e t ]
	# a whole name of the tool's own is that option; other prefixes still work
	printf '%s\n' '{"a":1}' '{"a":1}' > in
	run dedup -k .a --dup d --partition 0/1 in
	assert_success
	assert_output '{"a":1}'
}

@test "every option name that begins a longer one of another tool is in lib/cli.c's table" {
	src=$BATS_TEST_DIRNAME/..
	names=$(grep -rhoE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$src/cmd" |
		sed -E 's/\{ *"([^"]*)".*/\1/' | sort -u)
	for n in $names; do
		if printf '%s\n' $names | grep -q "^$n."; then
			grep -q "^	{\"$n\", \"" "$src/lib/cli.c" || fail "--$n is missing from other_tools_whole"
		fi
	done
}

@test "an empty or folder state name is refused before any output, and no lock is left" {
	printf '{"t":1,"id":1}\n' > in.ndjson
	mkdir d
	for s in '' d d/ ./ nodir/; do
		case $s in
		'') msg='--state: an empty file name; name the state file' ;;
		*) msg="$s: a folder, not a state file; name a file in it" ;;
		esac
		for c in "dedup -k .id --state" \
			"window --tumble 1m -t .t --state" \
			"checkpoint read -s"; do
			run --separate-stderr $c "$s" in.ndjson
			assert_failure 2
			assert_output ''
			assert_equal "$stderr" "${c%% *}: $msg"
		done
	done
	# no lock beside or in the folder, none for "" (".lock")
	[ -z "$(ls -A d)" ]
	[ ! -e .lock ] && [ ! -e d.lock ] && [ ! -e ..lock ]
}

@test "an empty output name (--dupes, --dlq, --late, -o) is refused naming its option, before anything is read" {
	# it was "dedup: : No such file or directory"; partition -o '' read
	# all of its input, then failed at the rename
	printf '{"t":1,"id":1}\n' > in.ndjson
	for c in "dedup --dupes" "dedup -k .id --dlq" "partition -n 2 --dlq" \
		"watermark -t .t --delay 1s --late" \
		"window --tumble 1m -t .t --late" "dlq check -e .t --dlq"; do
		opt=${c##* }
		run --separate-stderr $c '' in.ndjson
		assert_failure 2
		assert_output ''
		assert_equal "$stderr" "${c%% *}: $opt: an empty file name; name the file"
	done
	run partition -n 2 -o '' in.ndjson
	assert_failure 2
	assert_line -n 0 "partition: -o: an empty folder name; name the folder to write"
	[ -z "$(ls -A | grep -v -e "^in.ndjson$" -e "^separate-stderr-")" ] # no .tmp.XXXXXX
}

@test "txlog refuses an empty TABLE, which would be a table at / (\"/_delta_log\")" {
	# read-only verbs: without the check they read "/_delta_log"
	for v in cat verify log; do
		run txlog $v ''
		assert_failure 2
		assert_line --index 0 "txlog: $v: an empty TABLE name; name the table's folder"
	done
}

@test "an empty expression is refused, not run as jq runs it ('.'): delete --where \"\$UNSET\" deleted every row" {
	printf '{"a":1,"t":1}\n{"a":2,"t":1}\n' > in.ndjson
	for c in "dedup -k" "dedup -k .a --order-by" "watermark -t .t -p" \
		"window --tumble 1h -t .t -g" "partition -n 2 -k" \
		"reconcile -k" "dlq check -e"; do
		set -- $c
		opt=${!#}
		[ "$opt" != -e ] || opt=-e
		run $c ' ' in.ndjson in.ndjson
		assert_failure 2
		assert_line --index 0 "$1: $opt: an empty expression; write . for the whole record"
	done
	txlog init t
	txlog append t in.ndjson
	run txlog delete t --where ''
	assert_failure 2
	assert_line --index 0 "txlog: --where: an empty expression; write . for the whole record"
	run txlog merge t -k '' in.ndjson
	assert_failure 2
	assert_line --index 0 "txlog: -k: an empty expression; write . for the whole record"
	run txlog cat t
	assert_output "$(cat in.ndjson)"
}

@test "txlog init --partition-by '' is refused: it made a column named \"\" and folders %00=..." {
	refused "txlog: --partition-by: an empty column name" \
		txlog init t --partition-by ''
	[ ! -e t ]
}

@test "reconcile --help says what exit 1 also means: records were dead-lettered" {
	printf '{"id":1}\nnot json\n' > s
	printf '{"id":1}\n' > t
	run reconcile -k .id --dlq d s t
	assert_failure 1
	run reconcile --help
	assert_line "Exit status: 0 the inputs agree, 1 they differ (or records were"
	assert_line "dead-lettered), 2 trouble."
}

@test "a compressed pipe's last line needs no newline, as idem(7) says; a plain pipe's is torn" {
	run sh -c "printf '{\"a\":1}\n{\"a\":2}' | zstd -q | dedup"
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	run sh -c "printf '{\"a\":1}\n{\"a\":2}' | gzip | dedup"
	assert_success
	assert_output "$(printf '{"a":1}\n{"a":2}')"
	run sh -c "printf '{\"a\":1}\n{\"a\":2}' | dedup"
	assert_failure 2
	assert_line --index 1 "dedup: <stdin>:2: unterminated last line from a pipe (its writer stopped mid-line)"
}

@test "watermark -p with a number is refused: --partition 0/4 (another tool's I/N) or 3 (--partitions) ran as one partition" {
	printf '{"t":1}\n' > in.ndjson
	refused "watermark: -p '0/4': a constant, one partition for every record (--partitions N waits for N; I/N is another tool's --partition)" \
		watermark -t .t --partition 0/4 in.ndjson
	refused "watermark: -p '3': a constant, one partition for every record (--partitions N waits for N; I/N is another tool's --partition)" \
		watermark -t .t -p 3 in.ndjson
	run watermark -t .t -p .t in.ndjson
	assert_success
	assert_output '{"t":1}'
}

# Each option a usage line names is explained on an option line of the
# same --help: dlq replay's and purge's --help gave --max-retries,
# --allow-unread, --commit and --older-than in the usage alone, and no
# -h line.
@test "every tool and verb: each option its usage names has an option line in its --help" {
	every > all
	while read -r tv; do
		run $tv --help
		help=$output
		# a tool that needs a verb: its usage lines are the verbs'
		case $tv in dlq|checkpoint|txlog) continue ;; esac
		for o in $(awk 'NR == 1 || (u && /^ /) { u = 1; print; next }
			{ exit }' <<< "$help" | grep -oE -- '--[a-z][a-z0-9-]*' |
			sort -u) --help; do
			grep -qE -- "^ {2,8}(-[a-zA-Z], )?$o( |\$)" <<< "$help" ||
				{ echo "$tv: $o has no option line"; false; }
		done
	done < all
}
