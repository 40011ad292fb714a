#!/usr/bin/env python3
"""Brute-force model of window's percentiles p(EXPR, Q): nearest rank
ceil(Q * n) over the window's values sorted by exact value (numbers as
fractions, RFC 3339 strings as instants), ties in arrival order, the
answer spelled as in the input.  Random windows of big integers,
decimals and exponents, then of times with offsets.

Usage: percentile_model.py WINDOW_BINARY  (exit 1 on any difference)
"""
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

WINDOW = sys.argv[1]
QUICK = os.environ.get("IDEM_QUICK") == "1"
rng = random.Random(21)
QS = ["0", "0.01", "0.25", "0.5", ".9", "0.95", "0.999", "1",
      "0.333333333333333333", "0.1"]


def number():
    k = rng.randrange(6)
    v = rng.randrange(-30, 30)
    if k == 0:
        return str(v)
    if k == 1:
        return "%d.0" % v
    if k == 2:
        return "%de0" % v
    if k == 3:
        return str(rng.choice([1, -1]) * (10**19 + rng.randrange(5)))
    if k == 4:
        return "%s%d.%d" % ("-" if v < 0 else "", abs(v), rng.randrange(100))
    return "%dE-1" % (v * 10)


def instant():
    base = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    t = base + dt.timedelta(minutes=rng.randrange(-300, 300))
    off = dt.timezone(dt.timedelta(minutes=rng.choice([0, 120, -330, 345])))
    return '"%s"' % t.astimezone(off).isoformat()


def key(text):
    if text.startswith('"'):
        return dt.datetime.fromisoformat(json.loads(text)).timestamp()
    return Fraction(Decimal(text))


lines = []
nwin = 20 if QUICK else 80
for w in range(nwin):
    gen = instant if w % 4 == 3 else number
    for _ in range(rng.randrange(1, 40)):
        lines.append('{"g":%d,"t":0,"x":%s}' % (w, gen()))
rng.shuffle(lines)
cmd = [WINDOW, "--tumble", "1h", "-t", ".t", "-g", ".g"]
cmd += ["--agg=q%d=p(.x, %s)" % (j, q) for j, q in enumerate(QS)]
p = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True,
                   text=True)
# window writes values as spelled: compare the raw text of each member
got = {}
for line in p.stdout.splitlines():
    o = json.loads(line)
    raw = {}
    for j in range(len(QS)):
        m = '"q%d":' % j
        s = line.index(m) + len(m)
        e = s
        depth = 0
        while True:  # a number or a string without commas inside
            c = line[e]
            if c == '"':
                depth ^= 1
            elif c == ',' and not depth:
                break
            e += 1
        raw["q%d" % j] = line[s:e]
    got[o["key"]] = raw
bad = 0
# each window's values in arrival order, from the shuffled input
for w in range(nwin):
    vals = [l.split('"x":', 1)[1][:-1] for l in lines
            if json.loads(l)["g"] == w]
    order = sorted(range(len(vals)), key=lambda i: (key(vals[i]), i))
    for j, q in enumerate(QS):
        k = max(1, math.ceil(Fraction(Decimal(q)) * len(vals)))
        if got.get(w, {}).get("q%d" % j) != vals[order[k - 1]]:
            bad += 1
            print("DIFFER window %d p(.x, %s): got %s want %s" % (
                w, q, got.get(w, {}).get("q%d" % j), vals[order[k - 1]]))
print("%d windows, exit %d, %d differ %s" % (nwin, p.returncode, bad,
                                             p.stderr.strip()))
sys.exit(1 if bad or p.returncode else 0)
