#!/usr/bin/env python3
"""Brute-force model of window's calendar windows (--tumble Nd|Nw|Nmo|Ny
--tz ZONE), from python's zoneinfo over the same tzdata.

A bucket of local dates [D, D') holds the instants from the first one
whose local date-time (never going back) reaches D 00:00 to the first one
reaching D' 00:00.  The model finds those instants by scanning hours, then
minutes, then seconds -- no bisection, no offset arithmetic -- and buckets
local dates with python's own calendar.  It runs window over events that
straddle the DST changes of each zone and compares every result line.

Usage: calendar_model.py WINDOW_BINARY  (exit 1 on any difference)
"""
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from zoneinfo import ZoneInfo

WINDOW = sys.argv[1]
QUICK = os.environ.get("IDEM_QUICK") == "1"
UTC = dt.timezone.utc
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
         "Asia/Kolkata", "Pacific/Apia", "America/Sao_Paulo", "UTC"]
# 2011-03 .. 2012-04 holds DST changes of every zone above (Lord Howe's
# 30 minutes, Sao Paulo's at midnight) and Apia's skipped 2011-12-30.
T0 = int(dt.datetime(2011, 3, 1, tzinfo=UTC).timestamp())
T1 = int(dt.datetime(2012, 4, 30, tzinfo=UTC).timestamp())
if QUICK:  # Apia's skipped day, Sao Paulo's skipped midnight, Lord Howe
    T0 = int(dt.datetime(2011, 9, 20, tzinfo=UTC).timestamp())
    T1 = int(dt.datetime(2012, 1, 10, tzinfo=UTC).timestamp())
STEP = 4 * 3600 + 53 * 60 + 17


def local(z, t):
    return dt.datetime.fromtimestamp(t, z).replace(tzinfo=None)


def first_at(z, day, cache):
    """First instant whose local time reaches day 00:00."""
    if day in cache:
        return cache[day]
    target = dt.datetime.combine(day, dt.time())
    base = int(target.replace(tzinfo=UTC).timestamp())
    t = base - 16 * 3600
    while local(z, t) < target:
        t += 3600
    t -= 3600
    while local(z, t) < target:
        t += 60
    t -= 60
    while local(z, t) < target:
        t += 1
    cache[day] = t
    return t


def bucket_day(unit, n, ws, d):
    if unit == "d":
        k = (d - dt.date(1970, 1, 1)).days // n * n
        return dt.date(1970, 1, 1) + dt.timedelta(days=k)
    if unit == "w":
        ref = dt.date(1969, 12, 29) + dt.timedelta(days=ws)
        k = (d - ref).days // (7 * n) * (7 * n)
        return ref + dt.timedelta(days=k)
    if unit == "mo":
        i = (d.year * 12 + d.month - 1) // n * n
        return dt.date(i // 12, i % 12 + 1, 1)
    return dt.date(d.year // n * n, 1, 1)


def next_day(unit, n, d):
    if unit == "d":
        return d + dt.timedelta(days=n)
    if unit == "w":
        return d + dt.timedelta(days=7 * n)
    if unit == "mo":
        i = d.year * 12 + d.month - 1 + n
        return dt.date(i // 12, i % 12 + 1, 1)
    return dt.date(d.year + n, 1, 1)


def iso(z, t):
    return dt.datetime.fromtimestamp(t, z).isoformat()


def model(z, times, unit, n, ws, cache):
    wins = {}
    for t in times:
        d = bucket_day(unit, n, ws, local(z, t).date())
        while True:
            nd = next_day(unit, n, d)
            s, e = first_at(z, d, cache), first_at(z, nd, cache)
            if t < e:
                break
            d = nd
        assert s <= t < e, (z, t, s, e)
        wins[(s, e)] = wins.get((s, e), 0) + 1
    return [{"window": {"start": iso(z, s), "end": iso(z, e)}, "count": c}
            for (s, e), c in sorted(wins.items())]


CASES = [("1d", "d", 1, None), ("2d", "d", 2, None), ("1w", "w", 1, None),
         ("1w", "w", 1, "sun"), ("2w", "w", 2, "wed"), ("1mo", "mo", 1, None),
         ("3mo", "mo", 3, None), ("1y", "y", 1, None)]
if QUICK:
    CASES = [CASES[0], CASES[3], CASES[6]]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

bad = 0
runs = 0
with tempfile.TemporaryDirectory() as tmp:
    for name in ZONES:
        z = ZoneInfo(name)
        cache = {}
        times = list(range(T0, T1, STEP))
        # every local midnight in range, and the seconds around it
        d = local(z, T0).date() + dt.timedelta(days=1)
        while True:
            m = first_at(z, d, cache)
            if m >= T1:
                break
            times += [m - 1, m, m + 1]
            d += dt.timedelta(days=1)
        path = os.path.join(tmp, "in.ndjson")
        with open(path, "w") as f:
            for t in times:
                f.write('{"t":%d}\n' % t)
        for arg, unit, n, wsname in CASES:
            ws = DAYS.index(wsname) if wsname else 0
            want = model(z, times, unit, n, ws, cache)
            cmd = [WINDOW, "--tumble", arg, "--tz", name, "-t", ".t", path]
            if wsname:
                cmd[3:3] = ["--week-start", wsname]
            p = subprocess.run(cmd, capture_output=True, text=True)
            runs += 1
            got = [json.loads(l) for l in p.stdout.splitlines()]
            got = [{"window": g["window"], "count": g["count"]} for g in got]
            if p.returncode != 0 or got != want:
                bad += 1
                print("DIFFER: %s (exit %d) %s" % (" ".join(cmd[1:-1]),
                      p.returncode, p.stderr.strip()))
                for g, w in zip(got, want):
                    if g != w:
                        print("  got  %s\n  want %s" % (g, w))
                        break
                print("  got %d windows, want %d" % (len(got), len(want)))
print("%d runs, %d differ" % (runs, bad))
sys.exit(1 if bad else 0)
