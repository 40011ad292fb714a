#!/bin/sh
# Run each unit test binary; sum their "N passed, N failed" lines.
pass=0 fail=0 status=0
for t in "$@"; do
	out=$("$t" 2>&1) || status=1
	printf '%s\n' "$out" | grep -v '^unit ' >&2
	line=$(printf '%s\n' "$out" | grep '^unit ' | tail -n 1)
	[ -n "$line" ] || { echo "$t: no result line (crashed?)" >&2; status=1; fail=$((fail + 1)); continue; }
	p=$(printf '%s\n' "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
	f=$(printf '%s\n' "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$status" = 0 ] && [ "$fail" = 0 ]
