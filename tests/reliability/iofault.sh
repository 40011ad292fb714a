#!/bin/bash
# iofault: every state-changing command under injected I/O errors.
#
# For each command: build its previous state once (a template), run the
# command once with the shim counting its calls under the state folder,
# then again once per (call, error): write, fsync, rename, link, open
# O_CREAT, mkstemp, close and unlink each fail in turn with ENOSPC or EIO (and a
# short write then ENOSPC), plus ulimit -f limits.  Each case holds when
# the command exits non-zero (and not by a signal), its stderr names the
# file and the error, no temp file is left, and the state -- read back by
# the tool itself -- is the previous one, or the new one when the fault
# came after the commit point.  A DLQ appender may also have added whole
# envelopes of the new ones.
#
# One NDJSON line per command on stdout:
#   {"check":"iofault","command":"...","cases":N,"held":N,"of":N,
#    "ran":["write:1:ENOSPC",...],"seconds":S}
# (of: the cases the form has; cases: those run, all of them unless
# IOFAULT_SAMPLE=N runs N of each command's, drawn from IOFAULT_SEED)
# RELIABILITY=short (default; < 60 s) fails the last call of each kind
# (and the first write) with one error, and ulimit -f 0; full fails every
# call (up to 60 a kind) with both errors, short writes, and two limits.  IOFAULT_ONLY=REGEX runs only matching
# commands; failures are described on stderr.  Exit 1 if any case failed.

set -u
shopt -s globstar
here=$(cd "$(dirname "$0")" && pwd)
BIN=${IDEM_BIN:-$here/../../build/bin}
PATH=$BIN:$PATH
MODE=${RELIABILITY:-short}
ONLY=${IOFAULT_ONLY:-}
SAMPLE=${IOFAULT_SAMPLE:-}
case $SAMPLE in
'' | [1-9] | [1-9][0-9]) ;;
*) echo "iofault.sh: IOFAULT_SAMPLE is a number of cases, 1 to 99" >&2; exit 2 ;;
esac
RANDOM=${IOFAULT_SEED:-$$}

W=$(mktemp -d) || exit 2
W=$(cd -P "$W" && pwd)
trap 'rm -rf "$W"' EXIT

SHIM=${IDEM_SHIM:-}
if [ -z "$SHIM" ]; then
	SHIM=$W/shim.so
	${CC:-cc} -O2 -shared -fPIC -o "$SHIM" "$here/../faults/shim.c" -ldl ||
		exit 2
fi

ERRTEXT='No space left on device|Input/output error|File too large|short write'
failed=0 ncase=0

# ---- shared inputs (outside every state folder, so never faulted) ----
IN=$W/in
mkdir "$IN"
keys() { seq "$1" "$2" | sed 's/.*/{"k":&,"t":&000,"a":&,"s":"x"}/'; }
keys 1 300 > "$IN/a.ndjson"
keys 200 600 > "$IN/b.ndjson"
keys 1 600 > "$IN/all.ndjson"
keys 1 40 > "$IN/src.ndjson"
# Records big enough that a data file passes a small ulimit -f.
head -c 6000 /dev/urandom | od -An -tx1 | tr -d ' \n' |
	sed 's/.*/{"k":1000,"t":1,"a":1,"s":"&"}/' > "$IN/big.ndjson"
printf '%s\n' '{"a":1}' '{"b":2}' 'not json' '{"a":null}' > "$IN/bad1.ndjson"
for i in $(seq 1 30); do
	printf '{"a":%d}\n{"b":%d}\nnot json %d\n' "$i" "$i" "$i"
done > "$IN/bad2.ndjson"
: > "$IN/empty.ndjson"

strip_time() { sed 's/"failed_at":"[^"]*"/"failed_at":"T"/g' "$@"; }

# ---- the commands: setup (in the template), op (faulted), check -----
# Each runs in a case folder whose d/ is the state folder.

# dedup --state
setup_dedup() { dedup -k .k --state d/s.idx "$IN/a.ndjson" > /dev/null; }
op_dedup() { dedup -k .k --state d/s.idx "$IN/b.ndjson"; }
# A check may change the state it reads: it runs on a throwaway copy.
check_dedup() { dedup -k .k --state d/s.idx "$IN/all.ndjson"; }

# window --state
WARGS=(--tumble 10s -t .t -g '.k % 7' --agg n=count\(\) --agg s=sum\(.a\)
	--delay 1000000s)
setup_window() { window "${WARGS[@]}" --state d/w.st "$IN/a.ndjson"; }
op_window() { window "${WARGS[@]}" --state d/w.st "$IN/b.ndjson"; }
check_window() { window "${WARGS[@]}" --state d/w.st "$IN/empty.ndjson"; }

# checkpoint read / commit / run
setup_ckread() {
	checkpoint read -s d/c.ckpt -n 10 "$IN/src.ndjson" > /dev/null &&
		checkpoint commit -s d/c.ckpt
}
op_ckread() { checkpoint read -s d/c.ckpt -n 10 "$IN/src.ndjson"; }
check_ckread() { checkpoint status -s d/c.ckpt; }
# read commits the batch as pending, then as delivered: it may stop
# between (mid_ckrun's state)
mid_ckread() { mid_ckrun; }
setup_ckcommit() {
	setup_ckread &&
		checkpoint read -s d/c.ckpt -n 10 "$IN/src.ndjson" > /dev/null
}
op_ckcommit() { checkpoint commit -s d/c.ckpt; }
check_ckcommit() { check_ckread; }
setup_ckrun() { setup_ckread; }
op_ckrun() {
	checkpoint run -s d/c.ckpt -n 10 "$IN/src.ndjson" -- \
		sh -c 'cat > /dev/null'
}
check_ckrun() { check_ckread; }
# run commits the batch as pending, then as done: it may stop between,
# with the batch pending and not delivered (status says so), as a read
# whose output could not be written leaves it.
mid_ckrun() {
	op_ckread > /dev/full 2> /dev/null
	[ $? -eq 2 ]
}

# dlq: the writer (dlq check --dlq), replay (both forms), purge
check_dlqfile() {
	dlq stats d/q.ndjson > /dev/null || return 1
	strip_time d/q.ndjson
}
setup_dlqcheck() {
	dlq check -e '.a != null' --dlq d/q.ndjson "$IN/bad1.ndjson" > /dev/null
}
op_dlqcheck() { dlq check -e '.a != null' --dlq d/q.ndjson "$IN/bad2.ndjson"; }
check_dlqcheck() { check_dlqfile; }
setup_dlqreplay() {
	dlq check -e '.a != null' --dlq d/q.ndjson "$IN/bad2.ndjson" > /dev/null
}
op_dlqreplay() { dlq replay d/q.ndjson -- sh -c 'cat > /dev/null'; }
check_dlqreplay() { check_dlqfile; }
setup_dlqcommit() { setup_dlqreplay && dlq replay d/q.ndjson > /dev/null; }
op_dlqcommit() { dlq replay d/q.ndjson --commit; }
check_dlqcommit() { check_dlqfile; }
setup_dlqpurge() {
	setup_dlqreplay &&
		sed -i '1~2s/"failed_at":"[^"]*"/"failed_at":"2020-01-01T00:00:00Z"/' \
			d/q.ndjson
}
op_dlqpurge() { dlq purge --older-than 7d d/q.ndjson; }
check_dlqpurge() { check_dlqfile; }

# txlog: nine commits before, so an append is the tenth and checkpoints;
# made once, copied for each command.
txlog_base() {
	if ! [ -d "$W/txbase" ]; then
		txlog init "$W/txbase" --infer > /dev/null || return 1
		local i
		for i in 1 2 3 4 5 6 7 8; do
			keys $((i * 10)) $((i * 10 + 9)) > "$W/chunk.ndjson"
			txlog append "$W/txbase" "$W/chunk.ndjson" || return 1
		done
		txlog append "$W/txbase" "$IN/big.ndjson" || return 1
	fi
	cp -a "$W/txbase" d/t
}
check_txlog() {
	txlog verify d/t > /dev/null || return 1
	local log
	log=$(txlog log d/t) || return 1
	[[ $log =~ \"version\":[0-9]+ ]] && echo "${BASH_REMATCH[0]}"
	txlog cat d/t | sort
	return "${PIPESTATUS[0]}"
}
setup_txappend() { txlog_base; }
op_txappend() { txlog append d/t "$IN/big.ndjson"; }
check_txappend() { check_txlog; }
setup_txoverwrite() { txlog_base; }
op_txoverwrite() { txlog overwrite d/t "$IN/big.ndjson"; }
check_txoverwrite() { check_txlog; }
setup_txmerge() { txlog_base; }
op_txmerge() { txlog merge d/t -k .k "$IN/src.ndjson"; }
check_txmerge() { check_txlog; }
setup_txdelete() { txlog_base; }
op_txdelete() { txlog delete d/t --where 'k = 15'; }
check_txdelete() { check_txlog; }
setup_txcheckpoint() { txlog_base; }
op_txcheckpoint() { txlog checkpoint d/t; }
check_txcheckpoint() { check_txlog; }
setup_txvacuum() {
	txlog_base && txlog overwrite d/t "$IN/src.ndjson" &&
		find d/t -name '*.zst' -exec touch -d '2020-01-01' {} +
}
op_txvacuum() { txlog vacuum d/t --retain 0s --force; }
check_txvacuum() { check_txlog; }
setup_txoptimize() { txlog_base; }
op_txoptimize() { txlog optimize d/t; }
check_txoptimize() { check_txlog; }

# key | command name | needle for stderr | accept (exact|prefix)
COMMANDS=(
	"dedup|dedup --state|s\\.idx|exact"
	"window|window --state|w\\.st|exact"
	"ckread|checkpoint read|c\\.ckpt|exact"
	"ckcommit|checkpoint commit|c\\.ckpt|exact"
	"ckrun|checkpoint run|c\\.ckpt|exact"
	"dlqcheck|dlq check --dlq|q\\.ndjson|prefix"
	"dlqreplay|dlq replay -- CMD|q\\.ndjson|exact"
	"dlqcommit|dlq replay --commit|q\\.ndjson|exact"
	"dlqpurge|dlq purge|q\\.ndjson|exact"
	"txappend|txlog append|d/t|exact"
	"txoverwrite|txlog overwrite|d/t|exact"
	"txmerge|txlog merge|d/t|exact"
	"txdelete|txlog delete|d/t|exact"
	"txcheckpoint|txlog checkpoint|d/t|exact"
)
# vacuum and optimize, once txlog has them.
txlog --help 2>&1 | grep -q '^  vacuum' &&
	COMMANDS+=("txvacuum|txlog vacuum|d/t|exact")
txlog --help 2>&1 | grep -q '^  optimize' &&
	COMMANDS+=("txoptimize|txlog optimize|d/t|exact")

# Every line of $1 begins $2's lines and $2's lines begin $3's.
line_prefix() {
	local a=$1 b=$2
	[ "${b#"$a"}" != "$b" ] || return 1
	case ${b#"$a"} in '' | $'\n'*) return 0 ;; esac
	return 1
}

# Run one case; echo nothing and return 0 when it held.
#   $1 key  $2 needle  $3 accept  $4 spec (OP:N:ERR or ulimit:K)
run_case() {
	local key=$1 needle=$2 accept=$3 spec=$4 C=$T/case.$((++ncase)) rc cur why=
	cp -a "$T/tpl" "$C"
	if [ "${spec%%:*}" = ulimit ]; then
		# stderr through a pipe: a file would be under the limit too.
		(cd "$C" && ulimit -f "${spec#ulimit:}" && "op_$key") \
			2>&1 > /dev/null | cat > "$T/err"
		rc=${PIPESTATUS[0]}
	else
		(cd "$C" && IDEM_IOFAULT=$spec IDEM_IOFAULT_DIR=$C/d \
			LD_PRELOAD=$SHIM "op_$key") > /dev/null 2> "$T/err"
		rc=$?
	fi
	cur=$(cd "$C" && "check_$key" 2>&1)
	local crc=$?
	local err
	err=$(< "$T/err")
	if [ "$rc" -eq 0 ] && [ "$cur" = "$NEW" ] &&
		{ [ "${spec%%:*}" = ulimit ] || [ "${spec%%:*}" = unlink ]; }; then
		: # the limit was never reached, or a temp name went at exit
	elif [ "$rc" -eq 0 ] && [ "$cur" = "$NEW" ] && [[ $err =~ $needle ]] &&
		[[ $err =~ $ERRTEXT ]]; then
		: # committed, then warned of a failed extra (a txlog checkpoint)
	elif [ "$rc" -eq 0 ]; then
		why="exit 0"
	elif [ "$rc" -ge 128 ]; then
		why="killed by a signal (exit $rc)"
	elif ! [[ $err =~ $needle ]]; then
		why="stderr does not name the file"
	elif ! [[ $err =~ $ERRTEXT ]]; then
		why="stderr does not say the error"
	fi
	if [ "$crc" -ne 0 ]; then
		why="${why:+$why; }state unreadable: $cur"
	elif [ "$cur" != "$OLD" ] && [ "$cur" != "$NEW" ] &&
		[ "$cur" != "$MID" ]; then
		if [ "$accept" != prefix ] || ! line_prefix "$OLD" "$cur" ||
			! line_prefix "$cur" "$NEW"; then
			why="${why:+$why; }state is neither the old nor the new"
		fi
	fi
	local litter=("$C"/d/**/*.tmp.*)
	[ -e "${litter[0]}" ] && why="${why:+$why; }temp file left: ${litter[0]#"$C"/}"
	if [ -n "$why" ]; then
		echo "iofault: $NAME: $spec: $why" >&2
		[ -n "$err" ] && echo "  stderr: ${err%%$'\n'*}" >&2
		return 1
	fi
	return 0
}

# Indexes of the N calls of kind $1 to fail: all (capped), or in the
# short form the last (the commit's) and, for writes, the first.
pick() {
	local n=$2
	if [ "$MODE" = full ]; then
		seq 1 $((n < 60 ? n : 60))
	elif [ "$1" = write ]; then
		printf '1\n%d\n' "$n" | sort -un
	else
		echo "$n"
	fi
}

for entry in "${COMMANDS[@]}"; do
	IFS='|' read -r key NAME needle accept <<< "$entry"
	if [ -n "$ONLY" ] && ! [[ $NAME =~ $ONLY ]]; then
		continue
	fi
	T=$W/$key started=$SECONDS
	mkdir -p "$T/tpl/d"
	if ! (cd "$T/tpl" && "setup_$key") > /dev/null 2> "$T/err"; then
		echo "iofault: $NAME: setup failed:" >&2
		cat "$T/err" >&2
		failed=1
		continue
	fi
	cp -a "$T/tpl" "$T/old"
	OLD=$(cd "$T/old" && "check_$key" 2>&1)
	# The clean run: counts the calls and gives the new state.
	rm -rf "$T/clean" "$T/count"
	mkdir "$T/clean" && cp -a "$T/tpl/d" "$T/clean/d"
	(cd "$T/clean" && IDEM_IOFAULT_COUNT=$T/count \
		IDEM_IOFAULT_DIR=$T/clean/d LD_PRELOAD=$SHIM "op_$key") \
		> /dev/null 2> "$T/err"
	if [ $? -ne 0 ]; then
		# A verb announced but not built yet is not a failure.
		grep -q 'not yet' "$T/err" && continue
		echo "iofault: $NAME: the clean run failed:" >&2
		cat "$T/err" >&2
		failed=1
		continue
	fi
	NEW=$(cd "$T/clean" && "check_$key" 2>&1)
	# A state between the two that the command may stop at.
	MID=$NEW
	if declare -F "mid_$key" > /dev/null; then
		rm -rf "$T/mid" && mkdir "$T/mid" && cp -a "$T/tpl/d" "$T/mid/d"
		MID=$(cd "$T/mid" && "mid_$key" > /dev/null 2>&1 &&
			"check_$key" 2>&1)
	fi
	biggest=$(find "$T/clean/d" -type f -newer "$T/tpl/d" -printf '%s\n' |
		sort -n | tail -1)
	cases=0 held=0 specs=()
	# Counts per kind, summed over the processes of the run.
	while read -r op n; do
		for i in $(pick "$op" "$n"); do
			errs="ENOSPC EIO"
			[ "$MODE" = full ] || { [ $((i % 2)) = 1 ] && errs=ENOSPC || errs=EIO; }
			[ "$op" = write ] && [ "$MODE" = full ] &&
				errs="$errs ENOSPC/short"
			for e in $errs; do specs+=("$op:$i:$e"); done
		done
	done < <(awk '{c[$1] += $2} END {for (k in c) print k, c[k]}' \
		"$T/count" 2>/dev/null | sort)
	# File-size limits: nothing may grow, then half the largest file.
	limits=0
	[ "${biggest:-0}" -ge 2048 ] && [ "$MODE" = full ] &&
		limits="0 $((biggest / 2048))"
	for k in $limits; do specs+=("ulimit:$k"); done
	of=${#specs[@]}
	if [ -n "$SAMPLE" ] && [ "$of" -gt "$SAMPLE" ]; then
		# a sample: the cases in an order drawn from the seed
		for ((i = of - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			x=${specs[i]} specs[i]=${specs[j]} specs[j]=$x
		done
		specs=("${specs[@]:0:SAMPLE}")
	fi
	ran=
	for spec in "${specs[@]}"; do
		cases=$((cases + 1)) ran="$ran${ran:+,}\"$spec\""
		run_case "$key" "$needle" "$accept" "$spec" && held=$((held + 1))
	done
	printf '{"check":"iofault","command":"%s","cases":%d,"held":%d,"of":%d,"ran":[%s],"seconds":%d}\n' \
		"$NAME" "$cases" "$held" "$of" "$ran" $((SECONDS - started))
	[ "$held" -eq "$cases" ] || failed=1
	rm -rf "$T"
done
exit "$failed"
