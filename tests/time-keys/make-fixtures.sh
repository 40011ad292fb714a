#!/bin/sh
# Make the old-format fixtures of tests/time-keys.bats with the tools of
# main at ab2d753, the last commit whose keys took times as text:
#
#   git clone REPO /tmp/idem-old && git -C /tmp/idem-old checkout ab2d753
#   make -C /tmp/idem-old -j2
#   tests/time-keys/make-fixtures.sh /tmp/idem-old/build/bin
#
# Each state holds the time 2024-01-01T10:10:00+02:00 (08:10Z) as a key.
set -eu
old=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
printf '%s\n' \
	'{"id":1,"ts":"2024-01-01T10:10:00+02:00"}' \
	'{"id":2,"ts":"2024-01-01T08:20:00Z"}' > in.ndjson
# dedup: format 1, the fingerprints of the keys' text
"$old/dedup" -k .ts --state dedup.state in.ndjson > /dev/null
# window: format 2, an open window per group, distinct() over text
"$old/window" --tumble 1h -t .ts -g .ts --agg 'n=count()' \
	--agg 'd=distinct(.ts)' --state window.state < in.ndjson
# the dlq replay ledger: format 3, a replay handed out and not committed
printf '%s\n' '{"ok":false,"ts":"2024-01-01T10:10:00+02:00"}' |
	"$old/dlq" check -e .ok --dlq dlq.ndjson
"$old/dlq" replay dlq.ndjson > /dev/null
# a reconcile summary of format 1
"$old/reconcile" summarize -k .ts --by .ts in.ndjson > summary.ndjson
cp in.ndjson dedup.state window.state dlq.ndjson dlq.ndjson.replay \
	summary.ndjson "$here/"
