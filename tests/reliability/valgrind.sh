#!/usr/bin/env bash
# valgrind memcheck over a representative set of commands from the bats
# suites: every tool, its main verbs and options, good and bad input.
# One NDJSON line per command, then a summary:
#
#   {"check":"valgrind","command":"dedup -k .order_id --state","exit":0,
#    "errors":0,"definitely_lost":0,"indirectly_lost":0,"possibly_lost":0}
#   {"check":"valgrind","summary":true,"commands":52,"clean":52,...}
#
# errors counts invalid reads and writes, uses of uninitialised values,
# bad frees and the leaks (definite, indirect, possible) that the
# suppressions (valgrind.supp: what libjq and oniguruma keep until exit)
# leave.  Exit 1 when a command is not clean.
#
# Usage: valgrind.sh [PATTERN]  (only the commands whose name matches)
# Environment: IDEM_BIN, IDEM_GEN, VALGRIND_LOGS (keep the logs there).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
IDEM_BIN=${IDEM_BIN:-$top/build/bin}
IDEM_GEN=${IDEM_GEN:-$top/build/bin-test/gen}
PATH=$IDEM_BIN:$PATH
export LC_ALL=C
pattern=${1:-}
supp=$top/tests/reliability/valgrind.supp

command -v valgrind > /dev/null || { echo "valgrind.sh: valgrind is not installed (make valgrind installs it)" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/idem-valgrind.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2
logs=${VALGRIND_LOGS:-$W/logs}
mkdir -p "$logs"

# ---- inputs ----
"$IDEM_GEN" -n 300 -s 3 > in.ndjson
head -n 150 in.ndjson > half.ndjson
tail -n 150 in.ndjson > rest.ndjson
printf '%s\n' '{"id":1,"amount":5}' '{"id":2,"amount":-1}' 'oops' '{"id":3}' > mixed.ndjson
printf '%s\n' '{"t":5,"c":"EUR","a":1.5}' '{"t":20,"c":"USD","a":2}' '{"t":65,"c":"EUR","a":3.25}' \
	'{"t":30,"c":"EUR","a":1}' '{"t":130,"c":"EUR","a":1}' '{"t":50,"c":"USD","a":7}' > ev.ndjson
cat > schema.json <<'J'
{"type":"object","required":["id","amount"],"properties":{"id":{"type":"integer"},"amount":{"type":"number","minimum":0},"tag":{"enum":["a","b"]},"name":{"type":"string","pattern":"^[a-z]+$"}}}
J
sed 's/"amount":\([0-9.]*\)/"amount":\1,"x":1/' half.ndjson > target.ndjson
cat > sink <<'S'
#!/bin/sh
cat > /dev/null
S
chmod +x sink

n=0 clean=0 dirty=0
: > "$W/lines"

# vg NAME CMD...: CMD under memcheck, standard output to $VG_OUT; its exit
# status is kept, not judged (bad-input cases exit 2 on purpose).
vg() {
	local name=$1 log rc errors dl il pl
	shift
	if [ -n "$pattern" ] && [[ $name != *$pattern* ]]; then
		"$@" > /dev/null 2>&1
		return 0
	fi
	n=$((n + 1))
	log=$logs/$n.log
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--suppressions="$supp" --num-callers=30 --log-file="$log" "$@" \
		> "${VG_OUT:-/dev/null}" 2> "$logs/$n.err"
	rc=$?
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	dl=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	il=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	pl=$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -n 1)
	printf '{"check":"valgrind","command":"%s","exit":%d,"errors":%d,"definitely_lost":%d,"indirectly_lost":%d,"possibly_lost":%d}\n' \
		"$name" "$rc" "${errors:-0}" "${dl:-0}" "${il:-0}" "${pl:-0}" | tee -a "$W/lines"
	if [ "$rc" = 99 ] || [ "${errors:-1}" != 0 ]; then
		dirty=$((dirty + 1))
		echo "valgrind.sh: $name: see $log" >&2
	else
		clean=$((clean + 1))
	fi
}

t0=$(date +%s)

# ---- dedup ----
vg "dedup -k" dedup -k .order_id in.ndjson
vg "dedup --keep last --dupes" dedup -k .order_id --keep last --dupes d.ndjson in.ndjson
vg "dedup --order-by" dedup -k .order_id --order-by .event_time in.ndjson
vg "dedup -k jq program" dedup -k '.customer.id | tostring' in.ndjson
vg "dedup --state (new)" dedup -k .order_id --state s.idx half.ndjson
vg "dedup --state (load)" dedup -k .order_id --state s.idx rest.ndjson
vg "dedup --state --batch" dedup -k .order_id --state s.idx --batch 7 rest.ndjson
vg "dedup -t --ttl" dedup -k .order_id -t .event_time --ttl 1h in.ndjson
vg "dedup --check" dedup -k .order_id --check in.ndjson
vg "dedup --dlq (bad input)" dedup -k .id --dlq bad1.ndjson mixed.ndjson
vg "dedup --shard" dedup -k .order_id --shard 1/3 --stats in.ndjson
vg "dedup bad input" dedup -k .id mixed.ndjson
vg "partition -k" partition -n 4 -k .order_id in.ndjson
vg "partition -o -g -t --delay" partition -n 3 -g .currency -t .event_time --delay 1m -o wparts in.ndjson
vg "partition -k -o" partition -n 4 -k .order_id -o kparts in.ndjson
vg "dedup --partition" dedup -k .order_id --partition 1/4 kparts/1.ndjson
vg "partition --dlq (bad input)" partition -n 2 -k .id --dlq bad5.ndjson mixed.ndjson

# ---- watermark ----
vg "watermark --emit --late" watermark -t .event_time --delay 10s --late late.ndjson --emit in.ndjson
vg "watermark -p --idle" watermark -t .t -p .c --idle 1m --emit ev.ndjson
vg "watermark --analyze" watermark --analyze -t .event_time --ingest .ingest_time in.ndjson
vg "watermark --dlq (bad input)" watermark -t .t --dlq bad2.ndjson mixed.ndjson

# ---- window ----
vg "window --tumble aggs" window --tumble 1m -t .t -g .c --lateness 2m --agg 'n=count()' --agg 's=sum(.a)' --agg 'av=avg(.a)' --agg 'm=max(.a)' --agg 'p=p90(.a)' --agg 'd=distinct(.a)' --agg 'f=first(.a)' ev.ndjson
vg "window --slide" window --slide 1m --every 30s -t .t --agg 'n=count()' ev.ndjson
vg "window --session --emit update" window --session 30s -t .t -g .c --emit update ev.ndjson
vg "window --state (new)" window --tumble 1h -t .event_time -g .currency --agg 'gmv=sum(.amount)' --state w.st half.ndjson
vg "window --state (load)" window --tumble 1h -t .event_time -g .currency --agg 'gmv=sum(.amount)' --state w.st rest.ndjson
vg "window --late --dlq" window --tumble 1m -t .t --late wl.ndjson --dlq bad3.ndjson mixed.ndjson
vg "window --shard" window --tumble 1h -t .event_time -g .currency --shard 0/2 in.ndjson

# ---- checkpoint ----
vg "checkpoint read" checkpoint read -s c.ckpt -n 100 in.ndjson
vg "checkpoint read (replay)" checkpoint read -s c.ckpt -n 100 in.ndjson
vg "checkpoint commit" checkpoint commit -s c.ckpt
vg "checkpoint status" checkpoint status -s c.ckpt
vg "checkpoint run" checkpoint run -s c.ckpt -n 50 --until-empty in.ndjson -- ./sink
vg "checkpoint reset" checkpoint reset -s c.ckpt --to start
printf garbage > bad.ckpt
vg "checkpoint damaged state" checkpoint status -s bad.ckpt

# ---- dlq ----
vg "dlq check -e" dlq check -e '.amount > 0' --dlq q.ndjson mixed.ndjson
vg "dlq check --schema" dlq check --schema schema.json --dlq q.ndjson mixed.ndjson
vg "dlq check jq condition" dlq check -e '.amount | . != null and . > 0' --dlq q.ndjson mixed.ndjson
vg "dlq check no --dlq (fails)" dlq check -e '.amount > 0' mixed.ndjson
vg "dlq stats" dlq stats q.ndjson
vg "dlq replay (stdout)" dlq replay q.ndjson
vg "dlq check during a replay" dlq check -e '.amount > 0' --dlq q.ndjson mixed.ndjson
vg "dlq replay --commit" dlq replay q.ndjson --commit
vg "dlq replay -- cmd" dlq replay q.ndjson --max-retries 3 -- ./sink
vg "dlq retry" dlq retry --retries 1 --backoff 1ms..2ms --dlq q.ndjson -- sh -c 'exit 3' < mixed.ndjson
vg "dlq purge" dlq purge --older-than 1h q.ndjson

# ---- reconcile ----
vg "reconcile" reconcile -k .order_id --sum .amount --by .day in.ndjson target.ndjson
vg "reconcile --format table --show" reconcile -k .order_id --format table --show 5 in.ndjson half.ndjson
vg "reconcile --keys-only --memory" reconcile -k .order_id --keys-only --memory 64K in.ndjson half.ndjson
VG_OUT=a.sum vg "reconcile summarize" reconcile summarize -k .order_id --sum .amount half.ndjson
reconcile summarize -k .order_id --sum .amount rest.ndjson > b.sum
VG_OUT=ab.sum vg "reconcile merge" reconcile merge a.sum b.sum
reconcile summarize -k .order_id --sum .amount in.ndjson > all.sum
vg "reconcile compare" reconcile compare ab.sum all.sum
vg "reconcile --dlq (bad input)" reconcile -k .id --dlq bad4.ndjson mixed.ndjson mixed.ndjson

# ---- txlog ----
vg "txlog init" txlog init t --partition-by currency --checkpoint-interval 3
vg "txlog append" txlog append t half.ndjson
vg "txlog append --txn" txlog append t --txn app:1 rest.ndjson
vg "txlog append --txn (replay)" txlog append t --txn app:1 rest.ndjson
jq -c 'select(.currency == "EUR") | .amount += 1' half.ndjson > eur.ndjson
vg "txlog overwrite --where" txlog overwrite t --where 'currency = EUR' eur.ndjson
head -n 20 rest.ndjson | jq -c '.amount += 5' > upd.ndjson
vg "txlog merge" txlog merge t -k .order_id --when-newer .amount upd.ndjson
vg "txlog delete" txlog delete t --where 'amount < 20'
vg "txlog cat --where" txlog cat t --where 'currency = USD'
vg "txlog cat --version" txlog cat t --version 1
vg "txlog log" txlog log t
vg "txlog files" txlog files t
vg "txlog schema" txlog schema t
vg "txlog checkpoint" txlog checkpoint t
vg "txlog verify --deep" txlog verify t --deep
vg "txlog optimize" txlog optimize t
vg "txlog vacuum" txlog vacuum t --retain 0s --force
vg "txlog stats" txlog stats t
echo '{"order_id":"x","amount":"no"}' > refused.ndjson
vg "txlog refused record" txlog append t refused.ndjson
txlog init u
vg "txlog append (infer)" txlog append u half.ndjson

secs=$(($(date +%s) - t0))
printf '{"check":"valgrind","summary":true,"commands":%d,"clean":%d,"not_clean":%d,"seconds":%d}\n' \
	"$n" "$clean" "$dirty" "$secs"
[ "$dirty" = 0 ]
