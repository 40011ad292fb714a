#!/usr/bin/env python3
"""Records in = out + counted drops, for every tool (issue 15).

For each seed, random NDJSON inputs (valid records, duplicate keys,
out-of-order and very late event times, RFC 3339 times with mixed offsets,
big integers, and bad lines: invalid JSON, not an object, no key, a time of
the wrong type, a torn last line from a pipe) go through each tool with its
default options and with the options that keep what it sets aside.  The
tool's accounting is then checked from the outside:

    records in = records on stdout (window: the records its panes count)
               + lines in every file the user named (--dupes, --late, --dlq)
               + the counts said on stderr ("TOOL: N records dropped: ...")

and, where a tool stops at a bad record (no --dlq), it must exit 2 naming
the first bad line as FILE:LINE.  A tool that loses a record without a
word breaks the equality.

    prop.py SEED TOOL...     TOOL: dedup watermark window checkpoint dlq
                             reconcile txlog (or all); exit 1 on a failure
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

DROPPED = re.compile(r"^[a-z]+: (\d+) records? dropped: ", re.M)
failures = []


def fail(what, detail):
    failures.append("%s: %s" % (what, detail))


def rfc3339(t, rnd):
    """Epoch second t as RFC 3339 with a random offset (same instant)."""
    off = rnd.choice([0, 0, 60, -300, 120, 330])  # minutes
    s = t + off * 60
    days, rem = divmod(s, 86400)
    # 1970-01-01 + days, civil from days (Howard Hinnant's algorithm)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y += m <= 2
    tz = "Z" if off == 0 else "%s%02d:%02d" % (
        "+" if off > 0 else "-", abs(off) // 60, abs(off) % 60)
    return '"%04d-%02d-%02dT%02d:%02d:%02d%s"' % (
        y, m, d, rem // 3600, rem % 3600 // 60, rem % 60, tz)


BAD = ['{"k":', '[1,2]', '"just a string"', '{"x":1}', '{"t":true}',
       '{"k":1,"t":"not a time"', 'nul\u00e9l']


def records(rnd, n, bad_rate, torn, times="mixed", keys=12, big=True):
    """Lines (without newlines) and the 1-based numbers of the bad ones."""
    lines, bad = [], []
    base = 1700000000
    clock = base
    for i in range(n):
        if bad_rate and rnd.random() < bad_rate:
            lines.append(rnd.choice(BAD[:6]))
            bad.append(len(lines))
            continue
        if rnd.random() < 0.05:
            lines.append("")  # blank: skipped, not a record
        clock += rnd.randint(0, 4)
        t = clock
        r = rnd.random()
        if r < 0.15:
            t -= rnd.randint(1, 8)       # out of order
        elif r < 0.22:
            t -= rnd.randint(20, 120)    # far too late
        k = rnd.randrange(keys)
        if big and rnd.random() < 0.1:
            k = 12345678901234567890 + rnd.randrange(3)  # past 2^53
        use_text = times == "text" or (times == "mixed" and rnd.random() < .5)
        ts = rfc3339(t, rnd) if use_text else str(t)
        v = rnd.choice(["1", "2.50", "0.1", "100", "-3"])
        p = rnd.choice("abc")
        lines.append('{"k":%d,"t":%s,"v":%s,"p":"%s","i":%d}' %
                     (k, ts, v, p, i))
    if torn:
        lines.append('{"k":3,"t":%d,"v":1,"p":"a"' % clock)
        bad.append(len(lines))
    return lines, bad


def write_input(path, lines, torn):
    with open(path, "w") as f:
        for j, ln in enumerate(lines):
            f.write(ln)
            if not (torn and j == len(lines) - 1):
                f.write("\n")


def nrec(lines):
    return sum(1 for ln in lines if ln.strip())


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        data = f.read()
    return sum(1 for ln in data.split(b"\n") if ln.strip())


def said(stderr):
    return sum(int(m) for m in DROPPED.findall(stderr))


def run(argv, stdin_path, cwd, pipe=False):
    """Run argv; stdin from the file, or through a pipe (cat FILE |)."""
    if pipe:
        cat = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE,
                               cwd=cwd)
        p = subprocess.run(argv, stdin=cat.stdout, capture_output=True,
                           cwd=cwd)
        cat.stdout.close()
        cat.wait()
        return p
    with open(stdin_path, "rb") as f:
        return subprocess.run(argv, stdin=f, capture_output=True, cwd=cwd)


def out_records(kind, out):
    """Records accounted for by stdout."""
    text = out.decode("utf-8", "replace")
    if kind == "lines":
        return sum(1 for ln in text.split("\n") if ln.strip())
    if kind == "wm":  # watermark --emit: control lines are not records
        return sum(1 for ln in text.split("\n")
                   if ln.strip() and not ln.startswith('{"_watermark"'))
    if kind == "window":  # the newest pane of each window and key
        last = {}
        for ln in text.split("\n"):
            if not ln.strip():
                continue
            o = json.loads(ln)
            w = (json.dumps(o["window"]), json.dumps(o.get("key")))
            if w not in last or o["pane"]["index"] >= last[w][0]:
                last[w] = (o["pane"]["index"], o["count"])
        return sum(c for _, c in last.values())
    raise ValueError(kind)


def stream_case(tag, argv, lines, bad, torn, cwd, kind="lines",
                sides=(), dlq=None):
    """One run of a record tool: accounted, or stopped at the first bad.
    A run without --dlq over an input with bad lines checks the stop; one
    with --dlq over a clean input adds little, so it is left out (the
    runs cost a process each, and the suite's time is bounded)."""
    if dlq and not bad:
        return
    for f in list(sides) + ([dlq] if dlq else []):
        if os.path.exists(os.path.join(cwd, f)):
            os.unlink(os.path.join(cwd, f))
    inp = os.path.join(cwd, "in.ndjson")
    write_input(inp, lines, torn)
    p = run(argv, inp, cwd, pipe=torn)
    err = p.stderr.decode("utf-8", "replace")
    what = "%s [%s]" % (tag, " ".join(argv))
    n = nrec(lines)
    if bad and not dlq:
        first = bad[0]
        if p.returncode != 2 or not re.search(r":%d: " % first, err):
            fail(what, "a bad record at line %d: want exit 2 naming it, "
                 "got exit %d, stderr %r" % (first, p.returncode, err))
        return
    if p.returncode != 0:
        fail(what, "exit %d: %s" % (p.returncode, err))
        return
    got = out_records(kind, p.stdout)
    side = sum(count_lines(os.path.join(cwd, f)) for f in sides)
    letters = count_lines(os.path.join(cwd, dlq)) if dlq else 0
    drops = said(err)
    if got + side + letters + drops != n:
        fail(what, "in %d != out %d + named files %d + dead letters %d + "
             "said %d (stderr %r)" % (n, got, side, letters, drops, err))


def case_inputs(rnd, **kw):
    """(label, lines, bad, torn): a clean, a dirty and a torn input."""
    n = rnd.randint(20, 80)
    out = []
    lines, bad = records(rnd, n, 0, False, **kw)
    out.append(("clean", lines, bad, False))
    lines, bad = records(rnd, n, 0.12, False, **kw)
    out.append(("dirty", lines, bad, False))
    lines, bad = records(rnd, n, 0, True, **kw)
    out.append(("torn", lines, bad, True))
    return out


def t_dedup(rnd, cwd):
    for label, lines, bad, torn in case_inputs(rnd):
        for argv, sides, dlq in [
                (["dedup", "-k", ".k"], [], None),
                (["dedup", "-k", ".k", "--dupes", "dup"], ["dup"], None),
                (["dedup", "-k", ".k", "--dlq", "dl"], [], "dl"),
                (["dedup", "-k", ".k", "--keep", "last", "--dupes", "dup",
                  "--dlq", "dl"], ["dup"], "dl"),
                (["dedup", "-k", ".k", "--order-by", ".t", "--dlq", "dl"],
                 [], "dl"),
                (["dedup", "-k", "[.k,.p]", "-t", ".t", "--ttl", "20s",
                  "--dlq", "dl"], [], "dl"),
                ]:
            stream_case("dedup/" + label, argv, lines, bad, torn, cwd,
                        sides=sides, dlq=dlq)
        if bad:
            continue
        # --state: a second run over the same input emits nothing and
        # says so; the shards of --shard add up to the whole.
        st = os.path.join(cwd, "seen.idx")
        if os.path.exists(st):
            os.unlink(st)
        for i in range(2):
            stream_case("dedup/state%d" % i, ["dedup", "-k", ".k", "--state",
                        "seen.idx"] + (["--dupes", "dup"] if i else []),
                        lines, bad, torn, cwd,
                        sides=["dup"] if i else [])
        total = 0
        inp = os.path.join(cwd, "in.ndjson")
        for s in range(3):
            p = run(["dedup", "-k", ".k", "--shard", "%d/3" % s], inp, cwd)
            total += out_records("lines", p.stdout) + \
                said(p.stderr.decode())
        if total != nrec(lines):
            fail("dedup/shards", "in %d != sum over 3 shards %d" %
                 (nrec(lines), total))


def t_watermark(rnd, cwd):
    for label, lines, bad, torn in case_inputs(rnd):
        for argv, sides, dlq, kind in [
                (["watermark", "-t", ".t", "--delay", "5s"], [], None,
                 "lines"),
                (["watermark", "-t", ".t", "--delay", "5s", "--late",
                  "drop"], [], None, "lines"),
                (["watermark", "-t", ".t", "--delay", "5s", "--late", "lt",
                  "--emit"], ["lt"], None, "wm"),
                (["watermark", "-t", ".t", "--delay", "5s", "--dlq", "dl"],
                 [], "dl", "lines"),
                (["watermark", "-t", ".t", "-p", ".p", "--delay", "3s",
                  "--late", "drop", "--dlq", "dl", "--emit"], [], "dl",
                 "wm"),
                (["watermark", "-t", ".t", "-p", ".p", "--idle", "10s",
                  "--partitions", "3", "--late", "lt", "--dlq", "dl"],
                 ["lt"], "dl", "lines")]:
            stream_case("watermark/" + label, argv, lines, bad, torn, cwd,
                        kind=kind, sides=sides, dlq=dlq)


def t_window(rnd, cwd):
    for label, lines, bad, torn in case_inputs(rnd):
        for argv, sides, dlq in [
                (["window", "--tumble", "10s", "-t", ".t"], [], None),
                (["window", "--tumble", "10s", "-t", ".t", "--delay", "5s"],
                 [], None),
                (["window", "--tumble", "10s", "-t", ".t", "-g", ".p",
                  "--delay", "5s", "--late", "lt"], ["lt"], None),
                (["window", "--tumble", "10s", "-t", ".t", "--delay", "2s",
                  "--lateness", "10s", "--dlq", "dl"], [], "dl"),
                (["window", "--session", "15s", "-t", ".t", "-g", ".k",
                  "--delay", "5s", "--dlq", "dl"], [], "dl"),
                (["window", "--slide", "10s", "--every", "20s", "-t", ".t",
                  "--dlq", "dl"], [], "dl")]:
            stream_case("window/" + label, argv, lines, bad, torn, cwd,
                        kind="window", sides=sides, dlq=dlq)
        # The README's pipeline shape: watermark --emit | window.
        inp = os.path.join(cwd, "in.ndjson")
        write_input(inp, lines, torn)
        sh = ("watermark -t .t --delay 5s --late lt --dlq d1 --emit | "
              "window --tumble 10s -t .t -g .p")
        for f in ("lt", "d1"):
            if os.path.exists(os.path.join(cwd, f)):
                os.unlink(os.path.join(cwd, f))
        p = run(["sh", "-c", sh], inp, cwd, pipe=torn)
        err = p.stderr.decode()
        got = out_records("window", p.stdout) if p.returncode == 0 else -1
        acc = got + count_lines(os.path.join(cwd, "lt")) + \
            count_lines(os.path.join(cwd, "d1")) + said(err)
        if acc != nrec(lines):
            fail("window/pipeline " + label, "in %d != accounted %d "
                 "(exit %d, stderr %r)" % (nrec(lines), acc, p.returncode,
                                           err))


def t_checkpoint(rnd, cwd):
    for label, lines, bad, torn in case_inputs(rnd):
        src = os.path.join(cwd, "src.ndjson")
        write_input(src, lines, torn)
        for f in ("S", "S2", "S3"):
            if os.path.exists(os.path.join(cwd, f)):
                os.unlink(os.path.join(cwd, f))
        # Physical lines: checkpoint moves bytes, bad or blank alike.
        whole = len(lines) - (1 if torn else 0)
        got, rounds = 0, 0
        while rounds < 200:
            rounds += 1
            p = subprocess.run(["checkpoint", "read", "-s", "S", "-n",
                                str(rnd.randint(8, 30)), "src.ndjson"],
                               capture_output=True, cwd=cwd)
            if p.returncode != 0:
                fail("checkpoint/read " + label, p.stderr.decode())
                return
            k = p.stdout.count(b"\n")
            subprocess.run(["checkpoint", "commit", "-s", "S"], cwd=cwd,
                           check=True)
            if k == 0:
                break
            got += k
            if torn and k and rnd.random() < 0.3:
                pass
        if got != whole:
            fail("checkpoint/read " + label, "lines %d != read %d" %
                 (whole, got))
        if torn:
            # The held-back tail is said, and read once completed.
            if b"unterminated" not in p.stderr:
                fail("checkpoint/read torn", "the unterminated last "
                     "line held back is not said: %r" % p.stderr)
            with open(src, "a") as f:
                f.write("\n")
            p = subprocess.run(["checkpoint", "read", "-s", "S",
                                "src.ndjson"], capture_output=True, cwd=cwd)
            if p.stdout.count(b"\n") != 1:
                fail("checkpoint/read torn", "the completed tail: %r" %
                     p.stdout)
            subprocess.run(["checkpoint", "commit", "-s", "S"], cwd=cwd,
                           check=True)
        # run: a command that fails some batches the first time; the
        # union of the committed batches' outputs is every line once.
        write_input(src, lines, False)
        outs = os.path.join(cwd, "outs")
        shutil.rmtree(outs, ignore_errors=True)
        os.mkdir(outs)
        cmd = ('b=$IDEM_BATCH; cat > outs/$b.tmp; '
               'if [ $b = 2 ] && [ ! -e outs/$b.failed ]; then '
               ': > outs/$b.failed; exit 1; fi; mv outs/$b.tmp outs/$b')
        for attempt in range(60):
            p = subprocess.run(["checkpoint", "run", "-s", "S2",
                                "--until-empty", "-n", "25", "src.ndjson",
                                "--", "sh", "-c", cmd],
                               capture_output=True, cwd=cwd)
            if p.returncode == 0:
                break
        got = sum(count_lines(os.path.join(outs, f)) +
                  sum(1 for ln in open(os.path.join(outs, f), "rb")
                      if not ln.strip())
                  for f in os.listdir(outs)
                  if not f.endswith((".tmp", ".failed")))
        if p.returncode != 0 or got != len(lines):
            fail("checkpoint/run " + label, "lines %d, committed batches "
                 "hold %d (exit %d, %r)" % (len(lines), got, p.returncode,
                                             p.stderr))


def t_dlq(rnd, cwd):
    schema = os.path.join(cwd, "schema.json")
    with open(schema, "w") as f:
        json.dump({"required": ["k", "t"], "properties": {
            "k": {"type": "number"}}}, f)
    for label, lines, bad, torn in case_inputs(rnd):
        for argv, dlq in [
                (["dlq", "check", "-e", ".k != null"], None),
                (["dlq", "check", "-e", ".k != null", "-e", ".k < 8",
                  "--dlq", "dl"], "dl")]:
            stream_case("dlq/check " + label, argv, lines, bad, torn, cwd,
                        dlq=dlq)
        # replay: each letter is emitted, or stays in the file (parked).
        dl = os.path.join(cwd, "dl")
        if not os.path.exists(dl):
            continue
        letters = count_lines(dl)
        p = subprocess.run(["dlq", "replay", "dl"], capture_output=True,
                           cwd=cwd)
        q = subprocess.run(["dlq", "replay", "dl", "--commit"],
                           capture_output=True, cwd=cwd)
        got = out_records("lines", p.stdout) + count_lines(dl) + \
            said(p.stderr.decode() + q.stderr.decode())
        if p.returncode or q.returncode or got != letters:
            fail("dlq/replay " + label, "letters %d != replayed + left "
                 "%d (%r %r)" % (letters, got, p.stderr, q.stderr))
        # retry: each record succeeds (its output) or is dead-lettered.
        good = [ln for ln in lines if ln.startswith('{"k":')
                and ln.endswith("}")][:8]
        if not good:
            continue
        inp = os.path.join(cwd, "good.ndjson")
        write_input(inp, good, False)
        for f in ("rd",):
            if os.path.exists(os.path.join(cwd, f)):
                os.unlink(os.path.join(cwd, f))
        cmd = 'r=$(cat); case $r in *0,*) exit 1;; esac; echo "$r"'
        p = subprocess.run(["dlq", "retry", "--retries", "1", "--backoff",
                            "1ms..2ms", "-j", "3", "--dlq", "rd",
                            "good.ndjson", "--", "sh", "-c", cmd],
                           capture_output=True, cwd=cwd)
        got = out_records("lines", p.stdout) + \
            count_lines(os.path.join(cwd, "rd")) + said(p.stderr.decode())
        if p.returncode or got != len(good):
            fail("dlq/retry " + label, "records %d != succeeded + dead-"
                 "lettered %d (exit %d, %r)" % (len(good), got,
                                                p.returncode, p.stderr))


def t_reconcile(rnd, cwd):
    ins = case_inputs(rnd)
    clean = ins[0][1]
    for label, lines, bad, torn in ins:
        a = os.path.join(cwd, "a.ndjson")
        b = os.path.join(cwd, "b.ndjson")
        write_input(a, lines, False)
        tgt = [ln for ln in clean if rnd.random() < 0.8]
        write_input(b, tgt, False)
        for use_dlq in (False, True):
            if os.path.exists(os.path.join(cwd, "dl")):
                os.unlink(os.path.join(cwd, "dl"))
            argv = ["reconcile", "-k", ".k", "--sum", ".v", "--format",
                    "ndjson"] + (["--dlq", "dl"] if use_dlq else []) + \
                ["a.ndjson", "b.ndjson"]
            p = subprocess.run(argv, capture_output=True, cwd=cwd)
            err = p.stderr.decode()
            what = "reconcile/" + label + " " + " ".join(argv)
            if bad and not use_dlq:
                if p.returncode != 2 or ":%d: " % bad[0] not in err:
                    fail(what, "want exit 2 naming line %d, got %d %r" %
                         (bad[0], p.returncode, err))
                continue
            if p.returncode not in (0, 1):
                fail(what, "exit %d %r" % (p.returncode, err))
                continue
            tot = json.loads(p.stdout.split(b"\n")[0])
            got = tot["source"]["rows"] + tot["target"]["rows"] + \
                count_lines(os.path.join(cwd, "dl")) + said(err)
            if got != nrec(lines) + nrec(tgt):
                fail(what, "in %d != rows + dead letters %d" %
                     (nrec(lines) + nrec(tgt), got))


def t_txlog(rnd, cwd):
    # One type per column: epoch times, keys that fit a long.
    for label, lines, bad, torn in case_inputs(rnd, times="epoch",
                                               big=False):
        tbl = os.path.join(cwd, "T")
        shutil.rmtree(tbl, ignore_errors=True)
        subprocess.run(["txlog", "init", "T", "--infer", "--partition-by",
                        "p"], cwd=cwd, check=True, capture_output=True)
        inp = os.path.join(cwd, "in.ndjson")
        write_input(inp, lines, torn)
        p = run(["txlog", "append", "T"], inp, cwd, pipe=torn)
        rows = subprocess.run(["txlog", "cat", "T"], capture_output=True,
                              cwd=cwd).stdout.count(b"\n")
        err = p.stderr.decode()
        if bad:
            if p.returncode != 2 or ":%d:" % bad[0] not in err or rows:
                fail("txlog/append " + label, "want exit 2 naming line %d "
                     "and nothing committed, got %d, %d rows, %r" %
                     (bad[0], p.returncode, rows, err))
            continue
        if p.returncode != 0 or rows != nrec(lines):
            fail("txlog/append " + label, "in %d != rows %d (exit %d %r)"
                 % (nrec(lines), rows, p.returncode, err))
            continue
        # merge: one source record per key; each updates, inserts, or
        # is said (not newer).
        src, seen = [], set()
        for j in range(rnd.randint(5, 30)):
            k = rnd.randrange(40)
            if k in seen:
                continue
            seen.add(k)
            src.append('{"k":%d,"t":%d,"v":1,"p":"%s","i":%d}' % (
                k, 1700000000 + rnd.randint(0, 400), rnd.choice("abc"),
                1000 + j))
        write_input(inp, src, False)
        p = run(["txlog", "merge", "T", "-k", ".k", "--when-newer", ".t"],
                inp, cwd)
        cat = subprocess.run(["txlog", "cat", "T"], capture_output=True,
                             cwd=cwd).stdout.decode().split("\n")
        applied = len(set(json.loads(ln)["i"] for ln in cat if ln.strip()
                          and json.loads(ln)["i"] >= 1000))
        got = applied + said(p.stderr.decode())
        if p.returncode != 0 or got != len(src):
            fail("txlog/merge " + label, "source %d != applied %d + said "
                 "(%r)" % (len(src), got, p.stderr))
        # delete: rows before = rows after + the rows the commit deleted.
        before = sum(1 for ln in cat if ln.strip())
        p = subprocess.run(["txlog", "delete", "T", "--where",
                            "p = \"%s\"" % rnd.choice("abc")],
                           capture_output=True, cwd=cwd)
        after = subprocess.run(["txlog", "cat", "T"], capture_output=True,
                               cwd=cwd).stdout.count(b"\n")
        last = subprocess.run(["txlog", "log", "T"], capture_output=True,
                              cwd=cwd).stdout.decode().strip().split("\n")
        m = re.search(r'"numDeletedRows":"(\d+)"', last[0])
        deleted = int(m.group(1)) if m and before != after else 0
        if p.returncode != 0 or before != after + deleted:
            fail("txlog/delete " + label, "rows %d != %d left + %d "
                 "deleted (%r)" % (before, after, deleted, p.stderr))


TOOLS = {"dedup": t_dedup, "watermark": t_watermark, "window": t_window,
         "checkpoint": t_checkpoint, "dlq": t_dlq, "reconcile": t_reconcile,
         "txlog": t_txlog}


def main():
    seed = int(sys.argv[1])
    names = sys.argv[2:] or ["all"]
    if names == ["all"]:
        names = list(TOOLS)
    for name in names:
        rnd = random.Random("%d/%s" % (seed, name))
        cwd = tempfile.mkdtemp(prefix="drops-")
        try:
            TOOLS[name](rnd, cwd)
        finally:
            shutil.rmtree(cwd, ignore_errors=True)
    for f in failures:
        print("seed %d: %s" % (seed, f))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
