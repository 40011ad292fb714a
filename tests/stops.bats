#!/usr/bin/env bats
# Every exit path says what happened: a run that stops early (a bad
# record without --dlq, a refused value) still leaves the user knowing
# where every record went; a side output never slips its records into
# another output's stream.

load helpers

# ---- side outputs that are one pipe ----

@test "a side output naming standard output's pipe is refused: its reader would get dead letters among the records" {
	printf '{"a":1}\nbad\n' > in
	pipe='are one pipe: its reader would get the records of both mixed; name two'
	refused "dedup: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; dedup -k .a --dlq /dev/stdout in | cat'
	refused "dedup: standard output and --dupes /dev/fd/1 $pipe" \
		bash -c 'set -o pipefail; dedup -k .a --dupes /dev/fd/1 in | cat'
	refused "watermark: standard output and --late /dev/stdout $pipe" \
		bash -c 'set -o pipefail; watermark -t .a --late /dev/stdout in | cat'
	refused "window: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; window --tumble 1m -t .a --dlq /dev/stdout in | cat'
	refused "partition: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; partition -n 2 -k .a --dlq /dev/stdout in | cat'
	refused "dlq: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; dlq check -e .a --dlq /dev/stdout in | cat'
	refused "reconcile: standard output and --dlq /dev/stdout $pipe" \
		bash -c 'set -o pipefail; reconcile -k .a --dlq /dev/stdout in in | cat'
	# two side outputs on one pipe, stdout elsewhere
	refused "watermark: --late /dev/fd/3 and --dlq /dev/fd/3 $pipe" \
		bash -c 'set -o pipefail; watermark -t .a --late /dev/fd/3 --dlq /dev/fd/3 in 3>&1 >/dev/null | cat'
	# stdout a pipe, the letters another pipe: taken
	run bash -c 'set -o pipefail; dedup -k .a --dlq /dev/fd/3 in 3>&2 | cat'
	assert_success
	assert_line '{"a":1}'
	assert_line --partial '"original_record":"bad"'
}
