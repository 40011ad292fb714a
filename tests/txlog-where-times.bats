#!/usr/bin/env bats
# txlog --where on a string column holding times: a term whose value is
# an RFC 3339 time with a zone compares in idem's key order (idem.7,
# Values): two times as the instants they name, at any offset, a time
# before every other string.  A string column's statistics and
# partition values are in code point order, so such a term skips no
# file by its bounds; a python3 oracle that compares instants checks
# every op over several files and partitions, for cat, delete, update
# and optimize.

load helpers
bats_require_minimum_version 1.5.0

ids() {
	txlog "$@" | jq .id | sort -n | paste -sd, -
}

# rows0..3.ndjson (one file each), and `queries`: TERM<TAB>ids it
# matches, by instants, for every op, on ts (no partitions) and p (the
# partition column of table q), from seed $1.
oracle() {
	python3 - "$1" <<'EOF'
import json, random, re, sys
from fractions import Fraction as F

def days(y, m, d):  # days since 1970-01-01, proleptic Gregorian
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468

RX = re.compile(r'(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?'
                r'([Zz]|[+-]\d\d:\d\d)\Z')

def key(s):  # idem's order: (0, instant) for a time, (1, text) else
    m = RX.match(s)
    if not m:
        return (1, s)
    y, mo, d, h, mi, se = (int(g) for g in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not (1 <= mo <= 12 and 1 <= d <= [31, 28 + leap, 31, 30, 31, 30, 31,
            31, 30, 31, 30, 31][mo - 1] and h < 24 and mi < 60 and se < 60):
        return (1, s)
    t = F(days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se)
    if m.group(7):
        t += F(int(m.group(7)[1:]), 10 ** (len(m.group(7)) - 1))
    z = m.group(8)
    if z not in 'Zz':
        off = (int(z[1:3]) * 60 + int(z[4:6])) * 60
        t -= off if z[0] == '+' else -off
    return (0, t)

def spell(t, rnd):  # the instant t at a random offset and spelling
    off = rnd.choice([0, 0, 60, -60, 330, -570, 1439, -1439,
                      rnd.randint(-1439, 1439)])
    w = t + off * 60
    sec = w.numerator // w.denominator
    frac = w - sec
    d, s = divmod(sec, 86400)
    z = d + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dd = doy - (153 * mp + 2) // 5 + 1
    mm = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (mm <= 2)
    txt = '%04d-%02d-%02d%s%02d:%02d:%02d' % (
        y, mm, dd, rnd.choice('TTTt '), s // 3600, s // 60 % 60, s % 60)
    if frac:
        digits = rnd.choice([9, 10, 12])
        n = frac * 10 ** digits
        if n.denominator == 1:
            txt += '.' + str(n.numerator).rjust(digits, '0')
    elif rnd.random() < .2:
        txt += '.000'
    if off == 0 and rnd.random() < .6:
        return txt + rnd.choice('ZZz')
    sg = '+' if off >= 0 else '-'
    return txt + '%s%02d:%02d' % (sg, abs(off) // 60, abs(off) % 60)

OPS = {'=': lambda c: c == 0, '!=': lambda c: c != 0, '<': lambda c: c < 0,
       '<=': lambda c: c <= 0, '>': lambda c: c > 0, '>=': lambda c: c >= 0}

def holds(v, op, lit):  # SQL's nulls: a null matches no comparison
    if v is None:
        return False
    a, b = key(v), key(lit)
    return OPS[op]((a > b) - (a < b))

rnd = random.Random(int(sys.argv[1]))
base = F(days(2024, 2, 29) * 86400)  # a leap day
pool = [base + rnd.randint(-2, 2) * 3600 + rnd.choice(
    [0, F(1, 2), F(123456789, 10 ** 9), F(1234567891, 10 ** 10)])
    for _ in range(8)]
# year 1 at offsets reaches year 0000, year 9999's end year 10000 (no
# time: five digits)
pool += [F(days(1, 1, 1) * 86400 + 7200),
         F(days(9999, 12, 31) * 86400 + 86399)]
other = ['abc', '2024-02-29', '2024-02-29T10:00:00', '', 'Z',
         '2024-02-29T10:00Z', '\u00e9t\u00e9', '\U0001f600',
         '2024-02-30T00:00:00Z']
parts = [spell(rnd.choice(pool[:8]), rnd) for _ in range(6)] + ['x']
rows = []
for i in range(80):
    r = {'id': i}
    c = rnd.random()
    if c < .75:
        r['ts'] = spell(rnd.choice(pool), rnd)
    elif c < .9:
        r['ts'] = rnd.choice(other)
    elif c < .95:
        r['ts'] = None
    r['p'] = rnd.choice(parts + [None])
    rows.append(r)
for b in range(4):
    with open('rows%d.ndjson' % b, 'w') as f:
        for r in rows[b::4]:
            f.write(json.dumps(r) + '\n')
lits = [spell(rnd.choice(pool), rnd) for _ in range(4)]
lits += [spell(key(parts[0])[1], rnd), spell(key(parts[1])[1], rnd)]
with open('queries', 'w') as f:
    for col in ('ts', 'p'):
        for lit in lits:
            for op in OPS:
                ids = [r['id'] for r in rows if holds(r.get(col), op, lit)]
                f.write('%s %s %s\t%s\n' % (col, op, json.dumps(lit),
                                            ','.join(map(str, ids))))
EOF
}

# u: no partitions, q: partitioned by p; four files each (per partition)
tables() {
	rm -rf u q
	txlog init u --infer
	txlog init q --infer --partition-by p
	for b in 0 1 2 3; do
		txlog append u < rows$b.ndjson
		txlog append q < rows$b.ndjson
	done
}

@test "a time on a string column compares as the instant it names, at any offset, before every other string" {
	txlog init t --infer
	printf '%s\n' '{"id":1,"ts":"2024-01-01T00:00:00Z"}' \
		'{"id":2,"ts":"2024-01-01T01:00:00+01:00"}' \
		'{"id":3,"ts":"2024-01-01T00:00:00.0000000001Z"}' \
		'{"id":4,"ts":"0000"}' '{"id":5,"ts":"2024-01-01T00:00:00"}' \
		'{"id":6}' | txlog append t
	[ "$(txlog schema t | jq -r '.fields[1].type')" = string ]
	run ids cat t --where 'ts = "2024-01-01T00:00:00Z"'
	assert_output '1,2'
	run ids cat t --where 'ts < "2024-01-01T00:30:00Z"'
	assert_output '1,2,3'
	run ids cat t --where 'ts <= "2023-12-31t23:00:00.000000000-01:00"'
	assert_output '1,2'
	# a fraction past the nanosecond is read exactly
	run ids cat t --where 'ts > "2024-01-01T00:00:00.00000000001Z"'
	assert_output '3,4,5'
	run ids cat t --where 'ts != "2024-01-01T00:00:00.0000000001+00:00"'
	assert_output '1,2,4,5'
	# a bare word that is a time is that time too
	run ids cat t --where 'ts >= 2024-01-01T01:00:00+01:00'
	assert_output '1,2,3,4,5'
	# a string that is no time (no zone) compares by code point
	run ids cat t --where 'ts < "2024-01-01T00:00:00"'
	assert_output '4'
	run ids cat t --where 'ts >= "2024-01-01T00:00:00"'
	assert_output '1,2,3,5'
}

@test "a leap second on a string column is its own instant, after :59.999999999 and before the next :00, at any offset" {
	txlog init t --infer
	printf '%s\n' '{"id":1,"ts":"2016-12-31T23:59:60Z"}' \
		'{"id":2,"ts":"2017-01-01T00:00:00Z"}' \
		'{"id":3,"ts":"2016-12-31T23:59:59.999999999Z"}' \
		'{"id":4,"ts":"2017-01-01T05:29:60+05:30"}' | txlog append t
	run ids cat t --where 'ts = "2016-12-31T23:59:60Z"'
	assert_output '1,4'
	run ids cat t --where 'ts > "2016-12-31T23:59:59.999999999Z"'
	assert_output '1,2,4'
	run ids cat t --where 'ts < "2017-01-01T00:00:00+00:00"'
	assert_output '1,3,4'
}

@test "a time term reads a file whose string statistics, in code point order, would rule it out" {
	txlog init t --infer
	# as text 10:00Z is the min; as instants +23:00's 01:00Z is below it
	printf '%s\n' '{"id":1,"ts":"2024-01-01T10:00:00Z"}' \
		'{"id":2,"ts":"2024-01-02T00:00:00+23:00"}' | txlog append t
	txlog files t | jq -r .stats | jq -c '[.minValues.ts, .maxValues.ts]' > b
	[ "$(cat b)" = '["2024-01-01T10:00:00Z","2024-01-02T00:00:00+23:00"]' ]
	run ids cat t --where 'ts < "2024-01-01T05:00:00Z"'
	assert_output '2'
	# and above the max as text, 09:00Z, below 10:00Z
	run ids cat t --where 'ts > "2024-01-02T08:00:00+23:00"'
	assert_output '1'
	run ids cat t --where 'ts = "2024-01-01T01:00:00Z"'
	assert_output '2'
	txlog update t --set 'id = 3' --where 'ts < "2024-01-01T05:00:00Z"'
	run ids cat t
	assert_output '1,3'
	txlog delete t --where 'ts = "2024-01-01T02:00:00+01:00"'
	run ids cat t
	assert_output '1'
}

@test "overwrite's replaceWhere on a string column of times takes the rows of that instant at any offset" {
	txlog init t --infer --partition-by ts
	echo '{"id":1,"ts":"2024-01-01T01:00:00+01:00"}' | txlog append t
	echo '{"id":2,"ts":"2024-01-01T00:00:00Z"}' |
		txlog overwrite t --where 'ts = "2023-12-31T23:00:00-01:00"'
	run txlog cat t
	assert_output '{"id":2,"ts":"2024-01-01T00:00:00Z"}'
	refused 'txlog: stdin:1: record outside --where; nothing committed' \
		txlog overwrite t --where 'ts = "2024-01-01T00:00:00Z"' \
		<<< '{"id":3,"ts":"2024-01-01T00:00:00.0000000001Z"}'
}

@test "cat --where of a time on a string column, over files and partitions, matches a python3 oracle of instants for every op" {
	for seed in $(seq 1 "$(quick 2 1)"); do
		oracle "$seed"
		tables
		while IFS=$'\t' read -r w want; do
			for t in u q; do
				got=$(ids cat $t --where "$w")
				[ "$got" = "$want" ] ||
					fail "seed $seed: $t --where '$w': $got, not $want"
			done
		done < queries
	done
}

@test "delete and update --where of a time on a string column remove and change exactly the rows the oracle names" {
	oracle 4
	tables
	all=$(ids cat u)
	# every 7th query: each op, several values, both columns
	awk 'NR % 7 == 1' queries > some
	[ "$(wc -l < some)" -ge 10 ]
	while IFS=$'\t' read -r w want; do
		kept=$(comm -23 <(tr , '\n' <<< "$all" | sort) \
			<(tr , '\n' <<< "$want" | sort) | sort -n | paste -sd, -)
		for t in u q; do
			rm -rf d && cp -r $t d
			txlog delete d --where "$w" 2> /dev/null
			got=$(ids cat d)
			[ "$got" = "$kept" ] ||
				fail "delete $t --where '$w': kept $got, not $kept"
			rm -rf d && cp -r $t d
			txlog update d --set 'ts = "hit"' --where "$w" 2> /dev/null
			got=$(ids cat d --where 'ts = "hit"')
			[ "$got" = "$want" ] ||
				fail "update $t --where '$w': $got, not $want"
			[ "$(ids cat d)" = "$all" ] || fail "update $t lost rows"
		done
	done < some
}

@test "optimize --where of a time on a string partition column compacts exactly the partitions the oracle names" {
	oracle 5
	tables
	before=$(txlog cat q | sort)
	jq -r '[.id, (.p | tojson)] | @tsv' rows*.ndjson | LC_ALL=C sort > idp
	txlog files q | jq -r '.partitionValues.p | tojson' | sort | uniq -c > n0
	grep '^p ' queries | awk 'NR % 5 == 1' > some
	while IFS=$'\t' read -r w want; do
		rm -rf o && cp -r q o
		txlog optimize o --where "$w" 2> /dev/null
		[ "$(txlog cat o | sort)" = "$before" ] || fail "optimize '$w' changed rows"
		# a partition the term matches is one file now, the rest as were
		tr , '\n' <<< "$want" | LC_ALL=C sort > w
		LC_ALL=C join -t $'\t' w idp | cut -f2 | sort -u > hit
		while read -r c pv; do
			now=$(txlog files o | jq -r '.partitionValues.p | tojson' |
				grep -cxF -- "$pv")
			if grep -qxF -- "$pv" hit; then exp=1; else exp=$c; fi
			[ "$now" = "$exp" ] ||
				fail "optimize '$w': partition $pv has $now files, not $exp"
		done < n0
	done < some
}

@test "an overwrite --where of a time conflicts with an append of a row of that instant, whatever the statistics say as text" {
	txlog init t --infer
	echo '{"id":1,"ts":"2024-01-01T01:00:00Z"}' | txlog append t
	mkfifo in.fifo
	txlog overwrite t --where 'ts = "2024-01-01T01:00:00Z"' in.fifo 2> err.txt &
	pid=$!
	exec 4> in.fifo # the writer has read the table
	# as text 10:00Z is its min; 2024-01-02T00:00:00+23:00 is 01:00Z
	printf '%s\n' '{"id":5,"ts":"2024-01-01T10:00:00Z"}' \
		'{"id":6,"ts":"2024-01-02T00:00:00+23:00"}' | txlog append t
	echo '{"id":9,"ts":"2024-01-01T01:00:00Z"}' >&4
	exec 4>&-
	status=0
	wait "$pid" || status=$?
	[ "$status" = 75 ]
	run cat err.txt
	assert_output --regexp 'it added part-.*, which this WRITE would have read; nothing written, retry$'
	run ids cat t
	assert_output '1,5,6'
}
