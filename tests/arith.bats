#!/usr/bin/env bats
# Arithmetic in a jq program (+ - * / of paths and numbers, compared,
# joined by and/or) is exact decimal, where libjq computes in doubles:
# 0.1 * 3 is 0.3, not 0.30000000000000004; a quotient with no end is a
# bad record, not a rounded one (lib/arith.c).

load helpers

@test "sums and keys of products are exact, where jq's doubles are not" {
	printf '%s\n' '{"t":1,"p":0.1,"q":3}' '{"t":2,"p":0.2,"q":1}' > in
	run jq -c -n '0.1 * 3'
	assert_output 0.30000000000000004 # what libjq alone would give
	run window --tumble 1h -t .t --agg 's=sum(.p * .q)' --agg 'm=max(.p*.q)' in
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"s":0.5,"m":0.3,"pane":{"timing":"on_time","index":0,"final":true}}'
	printf '%s\n' '{"p":0.1,"q":3}' '{"p":0.3,"q":1}' '{"p":0.2,"q":1.5}' > k
	run dedup -k '.p * .q' --dupes d k
	assert_success
	assert_output '{"p":0.1,"q":3}'
	run cat d
	assert_output "$(printf '%s\n' '{"p":0.3,"q":1}' '{"p":0.2,"q":1.5}')"
}

@test "conditions compare exact values, with and/or as jq has them" {
	printf '%s\n' '{"p":0.1,"q":3}' '{"p":0.7,"q":0.1}' '{"p":1,"q":0}' > in
	run dlq check -e '.p * .q == 0.3 or .q == 0' in
	assert_failure 2
	assert_output --partial 'in:2: check failed'
	run dlq check -e '.p + .q == 0.8 or .p * .q == 0.3 or (.q == 0 and .p - 1 == 0)' in
	assert_success
	assert_output "$(cat in)"
	# and stops at a false left side, as jq's does: no division by 0
	printf '%s\n' '{"p":0.1,"q":4}' '{"p":0.7,"q":0.1}' '{"p":1,"q":0}' > in
	run dlq check -e '.q != 0 and .p / .q > 1' --dlq d in
	assert_success
	assert_output '{"p":0.7,"q":0.1}'
	run jq -r .error_message d
	assert_output "$(printf '%s\n' 'check failed: .q != 0 and .p / .q > 1 is false' 'check failed: .q != 0 and .p / .q > 1 is false')"
}

@test "no exact value is a bad record that says why" {
	printf '%s\n' '{"t":1,"a":1,"b":3}' '{"t":1,"a":1,"b":0}' \
		'{"t":1,"a":99999999999999999999,"b":99999999999999999999}' \
		'{"t":1,"a":1.5,"b":0.25}' > in
	run window --tumble 1h -t .t -g .a --agg 'x=sum(.a / .b)' --dlq d in
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":1.5,"x":6,"pane":{"timing":"on_time","index":0,"final":true}}
{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":99999999999999999999,"x":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	run jq -r .error_message d
	assert_output "$(printf '%s\n' '--agg x=sum(.a / .b): 1 / 3 has no exact decimal value (libjq would round it to a double)' \
		'--agg x=sum(.a / .b): 1 / 0 cannot be divided because the divisor is zero')"
	run dedup -k '.a * .b' in
	assert_failure 2
	assert_output "$(printf '%s\n' '{"t":1,"a":1,"b":3}' '{"t":1,"a":1,"b":0}' \
		'dedup: in:3: key .a * .b: 99999999999999999999 * 99999999999999999999 cannot be multiplied exactly in 38 digits')"
}

@test "operands that are not numbers keep jq's own rules" {
	printf '%s\n' '{"a":"x","b":"y"}' '{"a":null,"b":2}' '{"b":2}' \
		'{"a":{"m":1},"b":{"n":2}}' '{"a":[1],"b":[2]}' > in
	run dedup -k '.a + .b' --dupes d in
	assert_success
	assert_output "$(printf '%s\n' '{"a":"x","b":"y"}' '{"a":null,"b":2}' '{"a":{"m":1},"b":{"n":2}}' '{"a":[1],"b":[2]}')"
	assert_equal "$(cat d)" '{"b":2}' # null + 2 is 2, as a missing .a's
	printf '%s\n' '{"a":"x","b":1}' > s
	run dedup -k '.a - .b' s
	assert_failure 2
	assert_output 'dedup: s:1: key .a - .b: string ("x") and number (1) cannot be subtracted'
}

@test "other programs: a number libjq computed with a double's noise is refused, one passed through is not" {
	# jq's math and gmtime are exact or refused at their call
	# (jq-math.bats); a number libjq still gives as a double's (its
	# infinite: 1.7976931348623157e+308) is refused where it shows
	printf '%s\n' '{"t":1}' > in
	run window --tumble 1h -t .t --agg 'v=sum(infinite)' in
	assert_failure 2
	assert_output "window: in:1: --agg v=sum(infinite): libjq computed 1.7976931348623157e+308 in doubles, which may not be the exact value (idem(7))"
	run dedup -k 'infinite | tostring' in
	assert_failure 2
	assert_output --partial 'libjq computed 1.7976931348623157e+308 in doubles'
	# and where floor, ceil or round would have passed it on
	for f in floor ceil round; do
		run dedup -k "[infinite | $f]" in
		assert_failure 2
		assert_output "dedup: in:1: key [infinite | $f]: libjq computed 1.7976931348623157e+308 in doubles, which may not be the exact value (idem(7))"
	done
	printf '%s\n' '{"t":1,"a":0.3,"b":0.1,"n":1000}' > m
	run window --tumble 1h -t .t -g '[(.n | log10 | floor), (.a * 10 | round)]' --agg 'n=count()' m
	assert_success
	assert_output --partial '"key":[3,3]'
	# a value of more than 15 digits the exact arithmetic computed is no
	# noise: 1234567890123456 * 10 past 2^53, 0.1234567 * 0.123456789
	printf '%s\n' '{"t":1,"n":1234567890123456,"a":0.1234567,"b":0.123456789}' > big
	run window --tumble 1h -t .t -g '[.n * 10, .a * .b, (.a * .b | tostring)]' --agg 'n=count()' big
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[12345678901234560,0.0152415677625363,"0.0152415677625363"],"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
	# an integer below 2^53, the record's own numbers, the program's
	# own text, and 15 digits or fewer pass
	printf '%s\n' '{"t":1,"items":[{"p":0.1},{"p":0.2}],"n":1234567890123456,"f":0.30000000000000004}' > in
	run window --tumble 1h -t .t -g '[.n * 1, (.f | tostring), "12345678901234567890123", (.items | map(.p * 10) | add)]' --agg 'n=count()' in
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[1234567890123456,"0.30000000000000004","12345678901234567890123",3],"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
}

@test "arithmetic inside arrays, objects, strings, conditions and variables is exact" {
	printf '%s\n' '{"t":1,"id":7,"pct":0.57,"a":0.1,"b":3,"x":1e16,"p":[{"p":0.1,"q":3},{"p":0.2,"q":1}]}' > in
	key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }
	run jq -c '[.pct * 100 | floor]' in
	assert_output '[56]' # what libjq alone gives
	run key '[.pct * 100 | floor]'
	assert_output '[57]'
	run key '[.id, .pct*100|floor]'
	assert_output '[7,57]'
	run key '{v: (.a * .b)}'
	assert_output '{"v":0.3}'
	run key '[.a * .b, .b]'
	assert_output '[0.3,3]'
	run key '(.a * .b | tostring)'
	assert_output '"0.3"'
	run key '"\(.a*.b)"'
	assert_output '"0.3"'
	run key '.a * .b | . * 10 | floor'
	assert_output 3 # jq: 3.0000000000000004 floors to 3, 0.30000000000000004 * 10 ...
	run key 'if .a*.b > 0.3 then "more" else "not" end'
	assert_output '"not"' # jq: "more"
	run key '.a as $x | [$x * 3]'
	assert_output '[0.3]'
	run key '[.p[] | select(.p * .q == 0.3) | .q]'
	assert_output '[3]' # jq: []
	run key '[(.p | map(.p * .q) | add), ([.p[] | .p + .q] | add)]'
	assert_output '[0.5,4.3]'
	run key '[.a + .b | tostring]'
	assert_output '["3.1"]'
	run key '[range(0; 0.5; .a)]'
	assert_output '[0,0.1,0.2,0.3,0.4]' # jq: ... 0.30000000000000004 ...
	run key '[range(.a / 10; 17) | select(. == 16.01)]'
	assert_output '[16.01]' # jq's range adds 1 in doubles: 16.009999999999998
	run key '[.p[].p |= . * 3 | .p[].p]'
	assert_output '[0.3,0.6]'
	run key '[-.a * 0, .b - 3]'
	assert_output '[0,0]' # an exact zero has no sign
	run key '[(-.a * 0 | tostring)]'
	assert_output '["-0"]' # libjq's has, as before
}

@test "a value no double holds is a bad record, even inside try, ? or //" {
	printf '%s\n' '{"t":1,"a":0.1,"b":3,"x":1e16}' > in
	for k in '[.a / .b]' '[(.a / .b)? // 0]' '[try (.a / .b) catch 0]'; do
		run dedup -k "$k" in
		assert_failure 2
		assert_output "dedup: in:1: key $k: 0.1 / 3 has no exact decimal value (libjq would round it to a double)"
	done
	run dedup -k '.x + 1 | tostring' in
	assert_failure 2
	assert_output 'dedup: in:1: key .x + 1 | tostring: 1e+16 + 1 is 10000000000000001, which a double cannot hold (libjq holds numbers as doubles)'
	run window --tumble 1h -t .t -g '[.x + 1]' --agg 'n=count()' in # arith's
	assert_output --partial '"key":[10000000000000001]'
	run dedup -k '.b / 0 | tostring' in # jq's own error, as before
	assert_failure 2
	assert_output 'dedup: in:1: key .b / 0 | tostring: number (3) and number (0) cannot be divided because the divisor is zero'
	run dedup -k '[.b / 0]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [.b / 0]: 3 / 0 cannot be divided because the divisor is zero'
	run dedup -k '[(.b / 0)? // "none"]' in
	assert_success
}

@test "now is the clock's value, not noise: now - 86400 compares" {
	printf '%s\n' '{"ts":1}' '{"ts":4000000000}' > in
	run dlq check -e '.ts < now - 86400' --dlq d in
	assert_success
	assert_output '{"ts":1}'
	run jq -r .error_message d
	assert_output 'check failed: .ts < now - 86400 is false'
	run dedup -k '[now | sqrt * 2]' in # the root of a clock is no decimal
	assert_failure 2
	assert_output --partial '| sqrt has no exact decimal value (libjq would give'
	run dedup -k '[now | . * 0 | sqrt]' in
	assert_success
}

@test "a number made of text (tonumber, fromjson) that a double would round is refused, from \$ENV and the program too" {
	printf '%s\n' '{"a":3}' > in
	run env R=0.10000000000000001 jq -c '[.a * ($ENV.R | tonumber)]' in
	assert_output '[0.30000000000000004]' # libjq read R as 0.1
	run env R=0.10000000000000001 dedup -k '[.a * ($ENV.R | tonumber)]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [.a * ($ENV.R | tonumber)]: 0.10000000000000001 would be rounded by libjq, which holds numbers as doubles (a number made of text by tonumber or fromjson)'
	run dedup -k '["{\"x\":12345678901234567891}" | fromjson]' in
	assert_failure 2
	assert_output --partial ': 12345678901234567891 would be rounded by libjq'
	run env R=0.5 window --tumble 1h -t .a -g '[.a * (env.R | tonumber), ("[1,2.5]" | fromjson)]' --agg 'n=count()' in
	assert_success
	assert_output --partial '"key":[1.5,[1,2.5]]'
}

@test "% is of integers below 2^53; a fraction it would truncate is refused" {
	printf '%s\n' '{"t":1,"n":7,"m":-7,"f":5.5,"g":2}' > in
	key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }
	run key '[.n % 2, .m % 2, .n % -3]'
	assert_output '[1,-1,1]'
	run jq -c '[.f % .g]' in
	assert_output '[1]' # what libjq alone gives
	run dedup -k '[.f % .g]' in
	assert_failure 2
	assert_output "dedup: in:1: key [.f % .g]: 5.5 % 2 is jq's % of integers, which truncates its operands first; use integers below 2^53"
}

@test "an operation of two literals, which libjq computes as it compiles, must be exact" {
	printf '%s\n' '{"t":1,"a":0.1}' > in
	run jq -c '[0.57 * 100 | floor]' in
	assert_output '[56]'
	refused "dedup: -k: '[0.57 * 100 | floor]': libjq computes 0.57 * 100 in doubles as it compiles the program, giving 56.99999999999999; write its exact value, 57" \
		dedup -k '[0.57 * 100 | floor]' in
	run dedup -k '[.a + (0.1 + 0.2)]' in
	assert_failure 2
	assert_output --partial 'libjq computes 0.1 + 0.2 in doubles as it compiles the program, giving 0.30000000000000004; write its exact value, 0.3'
	run dedup -k '[.a * (1 / 3)]' in
	assert_failure 2
	assert_output --partial 'libjq computes 1 / 3 in doubles as it compiles the program, giving 0.3333333333333333, and no double holds its exact value'
	# not an operation of two literals: (.a * 0.1) * 3, .a + (0.2 * .a)
	key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }
	run key '[.a * 0.1 * 3, .a - 0.1 + 0.2, 0.1 + 0.2 * .a, 2 * 0.5]'
	assert_output '[0.03,0.2,0.12,1]'
}

@test "other operands keep jq's rules inside any program" {
	printf '%s\n' '{"t":1,"s":"ab","o":{"x":1},"l":[1,2,1],"n":null}' > in
	key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }
	k='[.s + "c", .o + {y: 2}, .l - [1], .n + 1, .s * 2, (.s / "b"), .o * {x: {z: 1}}, (.l | length) * 2, (.s - 1)?]'
	run key "$k"
	assert_output '["abc",{"x":1,"y":2},[2],1,"abab",["a",""],{"x":{"z":1}},6]'
	assert_equal "$(jq -c "$k" in)" "$output"
}

@test "floor, ceil, round and trunc of a quotient are exact integers, even of one without end" {
	printf '%s\n' '{"t":1,"id":"x1","ts":1700000123,"m":7}' > in
	agg() { window --tumble 1h -t .t --agg "x=max($1)" in | jq -c .x; }
	run agg '.ts / 3600 | floor'
	assert_output 472222
	run agg '.ts / 3600 | ceil'
	assert_output 472223
	run agg '-.ts / 3600 | floor'
	assert_output -472223
	run agg '(.m / 14 | round) + (.m / 15 | round) + (.m / 15 | trunc)'
	assert_output 1 # 0.5 rounds away from zero, 0.466... to 0
	run dedup -k '.ts / 3600 * 2 | floor' in # not floor's own quotient
	assert_failure 2
	assert_output 'dedup: in:1: key .ts / 3600 * 2 | floor: 1700000123 / 3600 has no exact decimal value (libjq would round it to a double)'
}

@test "arrays and objects of paths and arithmetic are idem's: an hour key, every digit" {
	printf '%s\n' '{"t":1,"id":"x1","ts":1700000123,"x":1e16,"s":"ab"}' > in
	key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }
	run key '[.id, (.ts / 3600 | floor)]'
	assert_output '["x1",472222]' # libjq refuses 472222.25638888887...
	run window --tumble 1h -t .t -g '{h: (.ts / 3600 | floor), id, big: (.x + 1)}' --agg 'n=count()' in
	assert_output --partial '"key":{"h":472222,"id":"x1","big":10000000000000001}'
	run key '[.s * 2, (.x * 3)]' # a string part: all of it is libjq's
	assert_output '["abab",3e+16]'
	# jq pipes a whole list ([.id, .ts / 3600] | floor), and an
	# object's value must be a term: both as jq has them
	run dedup -k '[.id, .ts / 3600 | floor]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [.id, .ts / 3600 | floor]: string ("x1") number required'
	run dedup -k '{h: .ts / 3600}' in
	assert_failure 2
	assert_output --partial "syntax error, unexpected '/'"
}

@test "precedence and pipes are jq's: unary minus, * /, + -, comparisons, and, or, |" {
	printf '%s\n' '{"t":1,"a":1.5,"b":4,"c":0.57}' > in
	agg() { window --tumble 1h -t .t --agg "x=max($1)" in | jq -c .x; }
	run agg '.a + .b * .c - .a / .b'
	assert_output 3.405 # 1.5 + 2.28 - 0.375
	run agg '10 - .b - 3 + -.a'
	assert_output 1.5
	run agg '12 / .b / 2'
	assert_output 1.5
	run agg '12 / -.b / 2' # jq 1.6's minus takes the * / after it
	assert_output -6
	run agg '12 / -.b * 3 - 1'
	assert_output -2
	run agg '.c * 100 | floor'
	assert_output 57 # jq: 56
	run agg '-.a | round'
	assert_output -2 # half away from zero, as C's round
	run agg '(.c * 100 | floor) / 100 + 1'
	assert_output 1.57
	run agg '.a * 2 == 3 and .b > 3 or .c > 1'
	assert_output true
	run agg '.a * 2 == 3 and (.b > 4 or .c > 1)'
	assert_output false
	# the same programs through libjq, for the shapes it agrees on
	run jq -c '[.a + .b * .c - .a / .b, 10 - .b - 3 + -.a, 12 / .b / 2, (-.a | round), 12 / -.b / 2, 12 / -.b * 3 - 1]' in
	assert_output '[3.405,1.5,1.5,-2,-6,-2]'
}

# The oracle: Python's exact fractions.  Random programs over random
# decimals (negatives, zeros, many digits, exponents); every value must
# equal the exact one, every quotient without end be refused.
@test "random programs give the exact value or refuse: Python's fractions agree" {
	python3 - "$(quick 40 10)" <<'PY'
import fractions, json, math, os, random, subprocess, sys
from decimal import Decimal
F = fractions.Fraction
rnd = random.Random(20261203)

def num():
	k = rnd.random()
	if k < .1:
		return "0"
	digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 9)))
	s = str(int(digits))
	if rnd.random() < .6:
		p = rnd.randint(0, len(s))
		s = (s[:p] or "0") + "." + (s[p:] or "0")
	if rnd.random() < .2:
		s += "e" + str(rnd.randint(-5, 5))
	return ("-" if rnd.random() < .3 else "") + s

def ends(f):
	d = f.denominator
	for p in (2, 5):
		while d % p == 0:
			d //= p
	return d == 1

def digits(f):
	"""significant digits of a value with a finite decimal expansion"""
	n, d = abs(f.numerator), f.denominator
	while d != 1:
		n *= 10
		g = fractions.math.gcd(n, d)
		n, d = n // g, d // g
	s = str(n).rstrip("0")
	return len(s) if s else 1

class Refused(Exception):
	pass

def checked(v):
	if digits(v) > 38:
		raise Refused("exactly in 38 digits")
	return v

def div_raw(l, r):
	if r == 0:
		raise Refused("cannot be divided because the divisor is zero")
	return l / r

def div(l, r):
	if not ends(div_raw(l, r)):
		raise Refused("has no exact decimal value")
	return l / r

def rnd_half_away(x):
	return (1 if x >= 0 else -1) * math.floor(abs(x) + F(1, 2))

ops = {"+": lambda l, r: l + r, "-": lambda l, r: l - r,
       "*": lambda l, r: l * r, "/": div}
fns = {"floor": math.floor, "ceil": math.ceil, "round": rnd_half_away,
       "trunc": math.trunc, "fabs": abs}

# expr(d): (jq text, its exact value of an env, and for a quotient its
# value with or without end), refusing as idem must: a quotient without
# end (but floor and the rest take an integer of any quotient), a
# division by 0, a value past 38 digits
def expr(d):
	if d == 0 or rnd.random() < .3:
		leaf = rnd.choice([".a", ".b", ".c", num()])
		if leaf[0] == ".":
			return leaf, lambda env, k=leaf[1]: env[k], None
		return leaf, lambda env, v=F(Decimal(leaf)): v, None
	if rnd.random() < .15:
		t, f, raw = expr(d - 1)
		name = rnd.choice(list(fns))
		g = raw or f
		return "(%s | %s)" % (t, name), \
			lambda env: checked(F(fns[name](g(env)))), None
	op = rnd.choice("+-*/")
	(lt, lf, _), (rt, rf, _) = expr(d - 1), expr(d - 1)
	raw = (lambda env: checked_raw(div_raw(lf(env), rf(env)))) if op == "/" else None
	return "(%s %s %s)" % (lt, op, rt), \
		lambda env: checked(ops[op](lf(env), rf(env))), raw

def checked_raw(v):
	return v

trials = int(sys.argv[1])
bad = 0
for t in range(trials):
	e, value, _ = expr(3)
	recs = [{"a": num(), "b": num(), "c": num()} for _ in range(20)]
	if os.path.exists("d"):
		os.unlink("d")
	with open("in", "w") as f:
		for i, r in enumerate(recs):
			f.write('{"t":1,"i":%d,"a":%s,"b":%s,"c":%s}\n' % (i, r["a"], r["b"], r["c"]))
	p = subprocess.run(["window", "--tumble", "1h", "-t", ".t", "-g", ".i",
			    "--agg", "x=min(%s)" % e, "--dlq", "d", "in"],
			   capture_output=True, text=True)
	if p.returncode == 2 and "Division by zero?" in p.stderr:
		continue # libjq's own check of a constant divisor, at compile
	if p.returncode != 0:
		print("exit", p.returncode, e, p.stderr); bad += 1; continue
	got = {json.loads(l)["key"]: json.loads(l, parse_float=Decimal, parse_int=Decimal)["x"]
	       for l in p.stdout.splitlines()}
	dead = {json.loads(l)["original_record"]["i"]: json.loads(l)["error_message"]
		for l in open("d")}
	for i, r in enumerate(recs):
		try:
			want = checked(value({k: F(Decimal(v)) for k, v in r.items()}))
			ok = i in got and i not in dead and F(got[i]) == want
		except Refused as why:
			want = str(why)
			ok = i in dead and want in dead[i]
		if not ok:
			bad += 1
			print("MISMATCH", e, r, "want", want, "got", got.get(i), dead.get(i))
print("checked", trials, "programs,", bad, "wrong")
sys.exit(1 if bad else 0)
PY
}

# The same oracle for programs libjq runs: a random arithmetic program in
# an array, an object, a string, a variable or a condition.  Every
# operation must give the exact value when a double holds it (the value
# jq writes back), and be refused when none does.
@test "random compound programs give the exact value or refuse: Python's fractions agree" {
	python3 - "$(quick 40 10)" <<'PY'
import fractions, json, math, os, random, subprocess, sys
from decimal import Decimal
F = fractions.Fraction
rnd = random.Random(20261204)

def num():
	if rnd.random() < .1:
		return "0"
	digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 9)))
	s = str(int(digits))
	if rnd.random() < .6:
		p = rnd.randint(0, len(s))
		s = (s[:p] or "0") + "." + (s[p:] or "0")
	if rnd.random() < .2:
		s += "e" + str(rnd.randint(-5, 5))
	return ("-" if rnd.random() < .3 else "") + s

class Refused(Exception):
	pass

def held(v):
	"""v, when the double nearest it is written back as v (jq's shortest
	text); refused otherwise"""
	try:
		d = float(v)
	except OverflowError:
		raise Refused("past a double")
	if math.isinf(d) or F(Decimal(repr(d))) != v:
		raise Refused("which a double cannot hold")
	return v

def div(l, r):
	if r == 0:
		raise Refused("cannot be divided because the divisor is zero")
	return l / r

def ends(f):
	d = f.denominator
	for p in (2, 5):
		while d % p == 0:
			d //= p
	return d == 1

def digits(f):
	n, d = abs(f.numerator), f.denominator
	while d != 1:
		n *= 10
		g = math.gcd(n, d)
		n, d = n // g, d // g
	s = str(n).rstrip("0")
	return len(s) if s else 1

def exact(v, mode):
	"""v as idem computes it: arith (an array's or object's part) to 38
	digits, libjq's operators to what a double holds"""
	if not ends(v):
		raise Refused("has no exact decimal value")
	if mode == "arith":
		if digits(v) > 38:
			raise Refused("exactly in 38 digits")
		return v
	return held(v)

def rnd_half_away(x):
	return (1 if x >= 0 else -1) * math.floor(abs(x) + F(1, 2))

ops = {"+": lambda l, r: l + r, "-": lambda l, r: l - r,
       "*": lambda l, r: l * r, "/": div}
fns = {"floor": math.floor, "ceil": math.ceil, "round": rnd_half_away,
       "trunc": math.trunc, "fabs": abs}

# expr(d): (jq text, f(env, mode)): its value as idem computes it in
# mode "arith" (floor and the rest take an integer of any quotient) or
# "jq" (a quotient without end is refused before floor sees it)
def expr(d):
	if d == 0 or rnd.random() < .3:
		leaf = rnd.choice([".a", ".b", ".c", num()])
		if leaf[0] == ".":
			return leaf, lambda env, mode, k=leaf[1]: env[k], None
		return leaf, lambda env, mode, v=F(Decimal(leaf)): v, None
	if rnd.random() < .15:
		t, f, raw = expr(d - 1)
		name = rnd.choice(list(fns))
		def g(env, mode):
			x = raw(env, mode) if raw and mode == "arith" else f(env, mode)
			return exact(F(fns[name](x)), mode)
		return "(%s | %s)" % (t, name), g, None
	op = rnd.choice("+-*/")
	(lt, lf, _), (rt, rf, _) = expr(d - 1), expr(d - 1)
	raw = (lambda env, mode: div(lf(env, mode), rf(env, mode))) if op == "/" else None
	return "(%s %s %s)" % (lt, op, rt), \
		lambda env, mode: exact(ops[op](lf(env, mode), rf(env, mode)), mode), raw

# shape: (program around E, the key it gives of E's value v, the way it
# runs: an array or object of arithmetic is arith's, the rest libjq's)
shapes = [
	("[%s]", lambda v: [v], "arith"),
	("{v: %s}", lambda v: {"v": v}, "arith"),
	("(%s | tostring)", lambda v: ("s", v), "jq"),
	("\"x\\(%s)\"", lambda v: ("x", v), "jq"),
	("(%s) as $v | [$v, $v * 2]", lambda v: [v, held(2 * v)], "jq"),
	("[if %s >= 0 then \"p\" else \"n\" end]", lambda v: ["p" if v >= 0 else "n"], "jq"),
	("[%s] | .[0] | [. - 1]", lambda v: [held(v - 1)], "jq"),
]

def same(got, want):
	if isinstance(want, tuple):
		pre, v = want
		if pre == "x":
			return isinstance(got, str) and got[:1] == "x" and F(Decimal(got[1:])) == v
		return isinstance(got, str) and F(Decimal(got)) == v
	if isinstance(want, list):
		return isinstance(got, list) and len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
	if isinstance(want, dict):
		return isinstance(got, dict) and got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
	if isinstance(want, str):
		return got == want
	return isinstance(got, Decimal) and F(got) == want

trials = int(sys.argv[1])
bad = 0
for t in range(trials):
	e, value, _ = expr(3)
	shape, wrap, mode = rnd.choice(shapes)
	prog = shape % e
	recs = [{"a": num(), "b": num(), "c": num()} for _ in range(20)]
	if os.path.exists("d"):
		os.unlink("d")
	with open("in", "w") as f:
		for i, r in enumerate(recs):
			f.write('{"t":%d,"a":%s,"b":%s,"c":%s}\n' % (i * 3600, r["a"], r["b"], r["c"]))
	p = subprocess.run(["window", "--tumble", "1h", "-t", ".t", "-g", prog,
			    "--agg", "n=count()", "--dlq", "d", "in"],
			   capture_output=True, text=True)
	if p.returncode == 2 and ("Division by zero?" in p.stderr or
				  "as it compiles the program" in p.stderr):
		continue # literals libjq computes as it compiles: refused
	if p.returncode != 0:
		print("exit", p.returncode, prog, p.stderr); bad += 1; continue
	got = {int(json.loads(l)["window"]["start"][11:13]):
	       json.loads(l, parse_float=Decimal, parse_int=Decimal)["key"]
	       for l in p.stdout.splitlines()}
	dead = {json.loads(l)["original_record"]["t"] // 3600: json.loads(l)["error_message"]
		for l in open("d")}
	for i, r in enumerate(recs):
		try:
			want = wrap(value({k: F(Decimal(v)) for k, v in r.items()}, mode))
			ok = i in got and i not in dead and same(got[i], want)
		except Refused as why:
			want = str(why)
			ok = i in dead
		if not ok:
			bad += 1
			print("MISMATCH", prog, r, "want", want, "got", got.get(i), dead.get(i))
print("checked", trials, "programs,", bad, "wrong")
sys.exit(1 if bad else 0)
PY
}
