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
	printf '%s\n' '{"t":1,"items":[{"p":0.1},{"p":0.2}],"n":1234567890123456}' > in
	run window --tumble 1h -t .t --agg 'v=sum(.items | map(.p) | add)' in
	assert_failure 2
	assert_output "window: in:1: --agg v=sum(.items | map(.p) | add): libjq computed 0.30000000000000004 in doubles, which may not be the exact value; + - * / of paths and numbers alone are exact (idem(7))"
	run dedup -k '.items | map(.p) | add | tostring' in
	assert_failure 2
	assert_output --partial 'libjq computed 0.30000000000000004 in doubles'
	run dedup -k '[.n * 10]' in # past 2^53: no longer sure
	assert_failure 2
	assert_output --partial 'libjq computed 12345678901234560 in doubles'
	# an integer below 2^53, the record's own numbers, the program's
	# own text, and 15 digits or fewer pass
	printf '%s\n' '{"t":1,"items":[{"p":0.1},{"p":0.2}],"n":1234567890123456,"f":0.30000000000000004}' > in
	run window --tumble 1h -t .t -g '[.n * 1, (.f | tostring), "12345678901234567890123", (.items | map(.p * 10) | add)]' --agg 'n=count()' in
	assert_success
	assert_output '{"window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T01:00:00Z"},"key":[1234567890123456,"0.30000000000000004","12345678901234567890123",3],"n":1,"pane":{"timing":"on_time","index":0,"final":true}}'
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
	run jq -c '[.a + .b * .c - .a / .b, 10 - .b - 3 + -.a, 12 / .b / 2, (-.a | round)]' in
	assert_output '[3.405,1.5,1.5,-2]'
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

def div(l, r):
	if r == 0:
		raise Refused("cannot be divided because the divisor is zero")
	if not ends(l / r):
		raise Refused("has no exact decimal value")
	return l / r

def rnd_half_away(x):
	return (1 if x >= 0 else -1) * math.floor(abs(x) + F(1, 2))

ops = {"+": lambda l, r: l + r, "-": lambda l, r: l - r,
       "*": lambda l, r: l * r, "/": div}
fns = {"floor": math.floor, "ceil": math.ceil, "round": rnd_half_away,
       "trunc": math.trunc, "fabs": abs}

# expr(d): (jq text, its exact value of an env), refusing as idem must:
# a quotient without end, a division by 0, a value past 38 digits
def expr(d):
	if d == 0 or rnd.random() < .3:
		leaf = rnd.choice([".a", ".b", ".c", num()])
		if leaf[0] == ".":
			return leaf, lambda env, k=leaf[1]: env[k]
		return leaf, lambda env, v=F(Decimal(leaf)): v
	if rnd.random() < .15:
		t, f = expr(d - 1)
		name = rnd.choice(list(fns))
		return "(%s | %s)" % (t, name), \
			lambda env: F(fns[name](f(env)))
	op = rnd.choice("+-*/")
	(lt, lf), (rt, rf) = expr(d - 1), expr(d - 1)
	return "(%s %s %s)" % (lt, op, rt), \
		lambda env: checked(ops[op](lf(env), rf(env)))

trials = int(sys.argv[1])
bad = 0
for t in range(trials):
	e, value = expr(3)
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
