#!/usr/bin/env python3
"""
explore.py: the disk states a power cut could leave while a stateful
command runs, and whether the tool's own reader and recovery hold in
each (issue 22).  One NDJSON line per command:

  {"check":"powercut","command":"dedup --state","events":95,"points":40,
   "states":212,"held":212,"unreadable":0,"mixed":0,"lost":0,
   "unrecovered":0,"seconds":3.1}

How.  For each command: a setup makes the old state in a folder R; the
step under test then runs once with tests/powercut/rec.so preloaded,
which logs every creat/open-for-write/write/ftruncate/fsync/rename/link/
unlink/mkdir/rmdir/fsync-of-a-folder under R, with the bytes written.
The folder before the step is the old state, after it the new one.

The model (sound for a journaling file system in its weakest promise,
POSIX's): each file has a durable content (as of its last fsync) and a
volatile one, with the list of writes and truncations since the fsync;
each folder has a durable set of entries (as of its last fsync) and a
volatile one, with the list of entry changes (a create, rename, link,
unlink, mkdir or rmdir in it) since.  A new folder's own entry lives in
its parent, so nothing under it survives until the parent is fsynced.
A rename is two entry changes, one in each folder.  fsync of a file
makes neither its name nor a rename of it durable.

The crash states.  A point is a prefix of the event list: after each
event, except that inside a run of writes to one file only its first,
middle and last write are points (the torn and cut states below stand
for the others).  At each point, at most BOUND states (default 12;
PC_BOUND), chosen to cover each kind of loss:
  kill        everything volatile reached the disk (what SIGKILL leaves)
  durable     only what was fsynced: files at their durable content,
              folders at their durable entries
  names       every entry change persisted, no unsynced data
              (a rename that reached the disk before the data)
  data        every unsynced write persisted, no unsynced entry change
  last        in each folder only its latest entry change persisted
              (a commit's rename overtook the names made before it)
then, round-robin over these kinds, seeded random among their cases:
  dir-prefix  one folder with only the first i of its pending changes
  dir-skip    one folder with all its pending changes but the i-th
              (changes persisted out of order)
  file-prefix one file with only its first j pending writes
  torn        one file's last pending write cut at a 4096-byte block
              boundary of the file
  cut         one file cut to a length between its durable and volatile
              size (each block boundary, and the durable size)
(other files and folders at their volatile state, or, for a second
variant, all at their durable state).  States are materialised into a
fresh folder; equal trees are checked once.

The checks, in each distinct state: the command's reader (its next run
reads it, txlog verify --deep, checkpoint status, dlq stats) exits 0
(else "unreadable"); the command's dump (the state by meaning: the
state file's bytes, the table's rows, the checkpoint's offsets) is the
old one or the new one (else "mixed"; for an append-only file, old
<= dump <= new as prefixes); at the last point, when the command exited
0, every state must be the new one (else "lost": the tool said it
committed, then a power cut took it back); then the command runs again
and must exit 0, its dump then the new one where the command is
idempotent (else "unrecovered").

Usage: explore.py [COMMAND...]   (names as tests/reliability/crash.sh,
and dedup-dupes, txlog-init, dedup-stdout: creations beyond it; default
all nineteen)
Environment: IDEM_BIN, IDEM_GEN, PC_REC (the recorder .so, built from
rec.c when unset), PC_BOUND (states per point), PC_MAX (distinct states
checked per command, sampled evenly beyond it, the last point's states
first; default 400), PC_ONLY=final (the states of the last point alone:
is what the tool said it committed durable?), PC_SEED,
PC_KEEP=DIR (failing states copied there), PC_INPUTS=DIR (inputs
made there once and reused).
"""

import hashlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("IDEM_BIN", os.path.join(TOP, "build", "bin"))
GEN = os.environ.get("IDEM_GEN", os.path.join(TOP, "build", "bin-test", "gen"))
BOUND = int(os.environ.get("PC_BOUND", "12"))
MAXSTATES = int(os.environ.get("PC_MAX", "400"))
SEED = int(os.environ.get("PC_SEED", "22"))
KEEP = os.environ.get("PC_KEEP", "")
ONLY_FINAL = os.environ.get("PC_ONLY") == "final"
BLOCK = 4096

WOPTS = ("--tumble 1h -t .event_time -g .currency --agg 'gmv=sum(.amount)' "
         "--agg 'n=count()' --lateness 10m")
STATUS = "checkpoint status -s st"
TXDUMP = "txlog cat t | sort | cksum"
TXREAD = "txlog verify t --deep > /dev/null"
TXTABLE = "txlog init t --partition-by currency --checkpoint-interval 3"
TXBUSY = (TXTABLE + " && for k in 1 2 3; do txlog append t $W/rows.$k; done"
          " && txlog delete t --where 'amount < 30'")


def cmd(name, setup, step, dump, read, idem=True, mode="state", mid=False,
        again=None):
    return {"name": name, "setup": setup, "step": step, "dump": dump,
            "read": read, "idem": idem, "mode": mode, "mid": mid,
            "again": again or step}


# The 16 state-changing commands of tests/reliability/crash.sh.  setup
# makes the old state (it may be several runs); step is the run under
# test; dump prints the state by meaning; read is the tool's reader;
# idem: running step again from the new state leaves the new state; mid:
# the step commits more than once by design (checkpoint run: the batch
# pending, then done; read: pending, then delivered), so the durable state after each folder fsync is
# a legal one too; mode append: an append-only file; again: the
# operator's rerun, when it is not the step itself.
# dedup's key set by meaning: which records of both parts it already
# knows (--check saves nothing).  Its bytes are not canonical: a set
# loaded presized and one grown key by key hold the same keys in other
# slots, so they save in another order.
DDUMP = ("[ -e s.idx ] && cat $W/part.1 $W/part.2 | "
         "dedup -k .order_id --state s.idx --check 2>&1 | cksum")

COMMANDS = [
    cmd("dedup --state",
        "dedup -k .order_id --state s.idx $W/part.1 > /dev/null",
        "dedup -k .order_id --state s.idx $W/part.2 > /dev/null",
        DDUMP + " || echo none",
        "dedup -k .order_id --state s.idx /dev/null > /dev/null"),
    cmd("window --state",
        "window %s --state w.st $W/part.1 > /dev/null" % WOPTS,
        "window %s --state w.st $W/part.2 > /dev/null" % WOPTS,
        "[ -e w.st ] && cksum < w.st || echo none",
        "window %s --state w.st /dev/null > /dev/null" % WOPTS, idem=False),
    # read commits the batch pending, then delivered (status says which)
    cmd("checkpoint read",
        "checkpoint read -s st -n 500 $W/orders > /dev/null && checkpoint commit -s st",
        "checkpoint read -s st -n 500 $W/orders > /dev/null",
        STATUS, STATUS + " > /dev/null", mid=True),
    cmd("checkpoint commit",
        "checkpoint read -s st -n 500 $W/orders > /dev/null && checkpoint commit -s st &&"
        " checkpoint read -s st -n 500 $W/orders > /dev/null",
        "checkpoint commit -s st", STATUS, STATUS + " > /dev/null"),
    cmd("checkpoint run",
        "checkpoint run -s st -n 500 $W/orders -- sh -c 'cat > /dev/null'",
        "checkpoint run -s st -n 500 $W/orders -- sh -c 'cat > /dev/null'",
        STATUS, STATUS + " > /dev/null", idem=False, mid=True),
    # the first run creates the dead-letter file: its name must be
    # durable before exit 0 too
    cmd("dlq check --dlq", ":",
        "dlq check -e '.amount >= 20' --dlq bad.ndjson $W/part.1 > /dev/null",
        "cat bad.ndjson 2> /dev/null || :",
        "[ ! -e bad.ndjson ] || dlq stats bad.ndjson > /dev/null",
        idem=False, mode="append"),
    cmd("dlq replay -- cmd",
        "dlq check -e '.amount >= 20' --dlq bad.ndjson $W/part.1 > /dev/null",
        "dlq replay bad.ndjson -- sh -c 'cat > /dev/null'",
        "cksum < bad.ndjson",
        "dlq stats bad.ndjson > /dev/null", idem=True),
    cmd("dlq replay --commit",
        "dlq check -e '.amount >= 20' --dlq bad.ndjson $W/part.1 > /dev/null &&"
        " dlq replay bad.ndjson > /dev/null",
        "dlq replay bad.ndjson --commit",
        "cksum < bad.ndjson",
        "dlq stats bad.ndjson > /dev/null"),
    cmd("dlq purge",
        "cat $W/old.1 $W/new.1 > bad.ndjson",
        "dlq purge --older-than 30d bad.ndjson",
        "cksum < bad.ndjson", "dlq stats bad.ndjson > /dev/null"),
    cmd("txlog append", TXTABLE + " && txlog append t --txn job:1 $W/rows.1",
        "txlog append t --txn job:2 $W/rows.2", TXDUMP, TXREAD),
    cmd("txlog overwrite", TXTABLE + " && txlog append t $W/rows.1 $W/rows.2",
        "txlog overwrite t --where 'currency = EUR' $W/ow.2", TXDUMP, TXREAD),
    cmd("txlog merge", TXTABLE + " && txlog append t $W/rows.1 $W/rows.2",
        "txlog merge t -k .order_id --when-newer .amount $W/mg.2", TXDUMP, TXREAD),
    cmd("txlog delete", TXTABLE + " && txlog append t $W/rows.1 $W/rows.2",
        "txlog delete t --where 'amount < 40'", TXDUMP, TXREAD),
    cmd("txlog checkpoint",
        "txlog init t --partition-by currency --checkpoint-interval 1000 &&"
        " txlog append t $W/rows.1 && txlog append t $W/rows.2",
        "txlog checkpoint t", TXDUMP, TXREAD),
    cmd("txlog vacuum", TXBUSY, "txlog vacuum t --retain 0s --force",
        TXDUMP, TXREAD),
    # beyond the crash harness: creations, where a new name needs its
    # folder fsynced (a side file, a state file, a table and the folder
    # above it)
    cmd("dedup --state --dupes", ":",
        "dedup -k .order_id --state s.idx --dupes dupes.ndjson $W/part.1 > /dev/null",
        DDUMP + " && cksum < dupes.ndjson || echo none",
        "dedup -k .order_id --state s.idx /dev/null > /dev/null", idem=False),
    cmd("dedup --state > out", ":",
        "dedup -k .order_id --state s.idx $W/part.1 > out",
        DDUMP + " && cksum < out || echo none",
        "dedup -k .order_id --state s.idx /dev/null > /dev/null", idem=False),
    cmd("txlog init", ":", "txlog init data/t --partition-by currency",
        "[ -e data/t/_delta_log/00000000000000000000.json ] && txlog cat data/t | cksum || echo none",
        "[ ! -e data/t/_delta_log/00000000000000000000.json ] || txlog verify data/t > /dev/null",
        idem=False, again="[ -e data/t/_delta_log/00000000000000000000.json ] || "
        "txlog init data/t --partition-by currency"),
    cmd("txlog optimize", TXTABLE + " && for k in 1 2 3; do txlog append t $W/rows.$k; done",
        "txlog optimize t", TXDUMP, TXREAD),
]


def sh(script, cwd, env, timeout=60):
    try:
        p = subprocess.run(["bash", "-c", script], cwd=cwd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 124, b"", b"timeout"


def make_inputs(w, env):
    def run(s):
        rc, _, err = sh(s, w, env)
        if rc != 0:
            sys.exit("explore.py: inputs: %s: %s" % (s, err.decode()))
    run('"$IDEM_GEN" -n 2000 -s 11 --dup-rate 0.3 > orders')
    run('"$IDEM_GEN" -n 1000 -s 12 --dup-rate 0 > rows')
    run("awk '{ print > (\"part.\" int((NR - 1) / 500 + 1)) }' orders")
    run("awk '{ print > (\"rows.\" int((NR - 1) / 250 + 1)) }' rows")
    run("jq -c 'select(.currency == \"EUR\") | .amount += 2' rows.2 > ow.2")
    run("sed -n '1~2p' rows.2 | jq -c '.amount += 2' > mg.2")
    run("dlq check -e '.amount >= 20' --dlq bad.1 part.1 > /dev/null &&"
        " sed 's/\"failed_at\":\"[^\"]*\"/\"failed_at\":\"2001-01-01T00:00:00Z\"/' bad.1 > old.1 &&"
        " dlq check -e '.amount >= 20' --dlq new.1 part.2 > /dev/null")


# ---- the model ----

class File:
    __slots__ = ("durable", "vol", "pend", "mode")

    def __init__(self, data=b"", mode=0o644):
        self.durable = bytes(data)
        self.vol = bytearray(data)
        self.pend = []  # ("w", off, bytes) | ("t", len)
        self.mode = mode


class Dir:
    __slots__ = ("durable", "vol", "pend")

    def __init__(self, entries=None):
        self.durable = dict(entries or {})
        self.vol = dict(entries or {})
        self.pend = []  # (name, target or None)

    def set(self, name, target):
        self.pend.append((name, target))
        if target is None:
            self.vol.pop(name, None)
        else:
            self.vol[name] = target


def split(path):
    if "/" in path:
        d, n = path.rsplit("/", 1)
        return d, n
    return ".", path


def apply_file(f, base, ops):
    b = bytearray(base)
    for op in ops:
        if op[0] == "w":
            _, off, data = op
            if len(b) < off:
                b.extend(b"\0" * (off - len(b)))
            b[off:off + len(data)] = data
        else:
            del b[op[1]:]
            if len(b) < op[1]:
                b.extend(b"\0" * (op[1] - len(b)))
    return bytes(b)


def apply_dir(base, ops):
    e = dict(base)
    for name, target in ops:
        if target is None:
            e.pop(name, None)
        else:
            e[name] = target
    return e


class Model:
    def __init__(self, root):
        self.files = []  # object id -> File
        self.dirs = {}   # relpath -> Dir
        self.ino = {}    # inode -> object id
        self.scan(root, ".")

    def scan(self, root, rel):
        full = os.path.join(root, rel) if rel != "." else root
        entries = {}
        for name in sorted(os.listdir(full)):
            p = os.path.join(full, name)
            r = name if rel == "." else rel + "/" + name
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                self.scan(root, r)
                entries[name] = ("d", r)
            elif stat.S_ISREG(st.st_mode):
                if st.st_ino not in self.ino:
                    with open(p, "rb") as fh:
                        self.files.append(File(fh.read(), st.st_mode & 0o777))
                    self.ino[st.st_ino] = len(self.files) - 1
                entries[name] = ("f", self.ino[st.st_ino])
        self.dirs[rel] = Dir(entries)

    def lookup(self, path):
        d, n = split(path)
        return self.dirs[d].vol.get(n)

    def event(self, ev, blob):
        op = ev[0]
        if op == "creat":
            self.files.append(File())
            self.ino[int(ev[1])] = len(self.files) - 1
            d, n = split(ev[2])
            self.dirs[d].set(n, ("f", len(self.files) - 1))
        elif op == "stdout" and int(ev[1]) not in self.ino:
            # made by the shell's > just before: a new name, empty
            self.files.append(File())
            self.ino[int(ev[1])] = len(self.files) - 1
            d, n = split(ev[2])
            self.dirs[d].set(n, ("f", len(self.files) - 1))
        elif op in ("open", "stdout"):
            ino = int(ev[1])
            t = self.lookup(ev[2])
            if t is None or t[0] != "f":
                raise ValueError("open of a file the model has not: %s" % ev[2])
            self.ino[ino] = t[1]
        elif op in ("write", "trunc", "fsync"):
            ino = int(ev[1])
            if ino not in self.ino:
                raise ValueError("%s of an inode never opened: %s" % (op, ev))
            f = self.files[self.ino[ino]]
            if op == "write":
                off, n, at = int(ev[2]), int(ev[3]), int(ev[4])
                data = blob[at:at + n]
                f.pend.append(("w", off, data))
                f.vol = bytearray(apply_file(f, f.vol, [("w", off, data)]))
            elif op == "trunc":
                f.pend.append(("t", int(ev[2])))
                f.vol = bytearray(apply_file(f, f.vol, [("t", int(ev[2]))]))
            else:
                f.durable = bytes(f.vol)
                f.pend = []
        elif op == "fsyncdir":
            d = self.dirs[ev[1]]
            d.durable = dict(d.vol)
            d.pend = []
        elif op in ("rename", "link"):
            if ev[1] == "-" or ev[2] == "-":
                raise ValueError("%s across the recorded folder: %s" % (op, ev))
            t = self.lookup(ev[1])
            if t is None:
                raise ValueError("%s of a name the model has not: %s" % (op, ev))
            if op == "rename":
                d, n = split(ev[1])
                self.dirs[d].set(n, None)
            d, n = split(ev[2])
            self.dirs[d].set(n, t)
        elif op in ("unlink", "rmdir"):
            d, n = split(ev[1])
            self.dirs[d].set(n, None)
        elif op == "mkdir":
            self.dirs[ev[1]] = Dir()
            d, n = split(ev[1])
            self.dirs[d].set(n, ("d", ev[1]))
        else:
            raise ValueError("unknown event %s" % ev)

    # A state: per-folder list of entry changes applied, per-file
    # content.  fdir(path, d) and ffile(id, f) choose them.
    def tree(self, fdir, ffile):
        out = {}  # relpath -> bytes (files) or None (folders)
        modes = {}

        def walk(rel):
            d = self.dirs[rel]
            for name, t in sorted(fdir(rel, d).items()):
                r = name if rel == "." else rel + "/" + name
                if t[0] == "d":
                    if t[1] in self.dirs:
                        out[r] = None
                        walk(t[1])
                else:
                    out[r] = ffile(t[1], self.files[t[1]])
                    modes[r] = self.files[t[1]].mode
        walk(".")
        return out, modes


def dir_vol(rel, d):
    return d.vol


def dir_dur(rel, d):
    return d.durable


def dir_last(rel, d):
    return apply_dir(d.durable, d.pend[-1:])


def file_vol(i, f):
    return bytes(f.vol)


def file_dur(i, f):
    return f.durable


def candidates(m, rng):
    """The states of one point: (kind, fdir, ffile), at most BOUND."""
    base = [("kill", dir_vol, file_vol), ("durable", dir_dur, file_dur),
            ("names", dir_vol, file_dur), ("data", dir_dur, file_vol),
            ("last", dir_last, file_vol)]
    kinds = {"dir-prefix": [], "dir-skip": [], "file-prefix": [],
             "torn": [], "cut": []}
    for rel, d in m.dirs.items():
        n = len(d.pend)
        if n == 0:
            continue
        for i in range(1, n):
            kinds["dir-prefix"].append((rel, i))
        if n > 1:
            for i in range(n):
                kinds["dir-skip"].append((rel, i))
    for i, f in enumerate(m.files):
        n = len(f.pend)
        if n == 0:
            continue
        for j in range(0, n):
            kinds["file-prefix"].append((i, j))
        last = f.pend[-1]
        if last[0] == "w":
            off, data = last[1], last[2]
            b = (off // BLOCK + 1) * BLOCK
            while b < off + len(data):
                kinds["torn"].append((i, b))
                b += BLOCK
        dl, vl = len(f.durable), len(f.vol)
        if vl > dl:
            kinds["cut"].append((i, dl))
            b = (dl // BLOCK + 1) * BLOCK
            while b < vl:
                kinds["cut"].append((i, b))
                b += BLOCK
    for k in kinds:
        rng.shuffle(kinds[k])
    extra = []
    names = sorted(kinds)
    while len(base) + len(extra) < BOUND and any(kinds[k] for k in names):
        for k in names:
            if kinds[k] and len(base) + len(extra) < BOUND:
                extra.append((k, kinds[k].pop(), len(extra) % 2 == 1))
    out = list(base)
    for kind, case, rest_durable in extra:
        rd = dir_dur if rest_durable else dir_vol
        rf = file_dur if rest_durable else file_vol
        label = kind + ("+durable" if rest_durable else "")
        if kind in ("dir-prefix", "dir-skip"):
            rel, i = case

            def fd(r, d, rel=rel, i=i, kind=kind, rd=rd):
                if r != rel:
                    return rd(r, d)
                ops = d.pend[:i] if kind == "dir-prefix" else d.pend[:i] + d.pend[i + 1:]
                return apply_dir(d.durable, ops)
            out.append((label, fd, rf))
        else:
            fi, x = case

            def ff(i, f, fi=fi, x=x, kind=kind, rf=rf):
                if i != fi:
                    return rf(i, f)
                if kind == "file-prefix":
                    return apply_file(f, f.durable, f.pend[:x])
                if kind == "torn":
                    last = f.pend[-1]
                    cutw = ("w", last[1], last[2][:x - last[1]])
                    return apply_file(f, f.durable, f.pend[:-1] + [cutw])
                return bytes(f.vol[:x])
            out.append((label, rd, ff))
    return out


def digest(tree):
    h = hashlib.sha256()
    for p in sorted(tree):
        h.update(p.encode() + b"\0")
        v = tree[p]
        h.update(b"D" if v is None else b"F" + hashlib.sha256(v).digest())
    return h.hexdigest()


def materialise(tree, modes, dest):
    os.makedirs(dest)
    for p in sorted(tree):
        full = os.path.join(dest, p)
        if tree[p] is None:
            os.makedirs(full, exist_ok=True)
        else:
            with open(full, "wb") as fh:
                fh.write(tree[p])
            os.chmod(full, modes.get(p, 0o644))


def points_of(events):
    """Indices k: the state after events[:k].  Inside a run of writes to
    one file, only its first, middle and last write."""
    pts = [0]
    k = 0
    n = len(events)
    while k < n:
        ev = events[k]
        if ev[0] == "write":
            j = k
            while j + 1 < n and events[j + 1][0] == "write" and events[j + 1][1] == ev[1]:
                j += 1
            for x in sorted({k, (k + j) // 2, j}):
                pts.append(x + 1)
            k = j + 1
        else:
            pts.append(k + 1)
            k += 1
    return sorted(set(pts))


def explore(c, w, env, rec, work):
    t0 = time.time()
    res = {"check": "powercut", "command": c["name"], "events": 0,
           "points": 0, "states": 0, "held": 0, "unreadable": 0,
           "mixed": 0, "lost": 0, "unrecovered": 0}
    R = os.path.join(work, "R")
    os.makedirs(R)
    rc, _, err = sh(c["setup"], R, env)
    if rc != 0:
        res["error"] = "setup exited %d: %s" % (rc, err.decode()[-300:])
        return res
    model = Model(R)
    old_dir = os.path.join(work, "old")
    shutil.copytree(R, old_dir, symlinks=True)
    log = os.path.join(work, "log")
    # the shell that runs the step exports the recorder to the tool: a
    # preloaded shell would take the variables for itself
    renv = dict(env, PC_LD=rec, PC_DIR=os.path.realpath(R), PC_LOG=log)
    step_rc, _, err = sh("export LD_PRELOAD=$PC_LD IDEM_PC_DIR=$PC_DIR "
                         "IDEM_PC_LOG=$PC_LOG; " + c["step"], R, renv)
    if step_rc != 0:
        res["error"] = "step exited %d: %s" % (step_rc, err.decode()[-300:])
        return res

    def dump(d):
        rc, out, err = sh(c["dump"], d, env)
        return out if rc == 0 else b"dump failed: " + err
    old = dump(old_dir)
    new = dump(R)
    if old == new and c["mode"] == "state" and not c["name"].startswith(("txlog checkpoint", "txlog vacuum", "txlog optimize")):
        res["error"] = "the step changed nothing the dump shows"
        return res
    events = []
    if os.path.exists(log):
        with open(log, encoding="utf-8", errors="surrogateescape") as fh:
            events = [ln.rstrip("\n").split("\t") for ln in fh if ln.strip()]
    blob = b""
    if os.path.exists(log + ".data"):
        with open(log + ".data", "rb") as fh:
            blob = fh.read()
    res["events"] = len(events)
    pts = set(points_of(events))
    if ONLY_FINAL:
        pts = {len(events)}
    res["points"] = len(pts)
    rng = random.Random(SEED)
    seen = {}
    order = []
    final = len(events)
    mids = []
    for k in range(0, len(events) + 1):
        if k > 0:
            try:
                model.event(events[k - 1], blob)
            except (ValueError, KeyError) as e:
                res["error"] = "event %d: %s" % (k, e)
                return res
        if c["mid"] and k and events[k - 1][0] == "fsyncdir":
            mids.append(model.tree(dir_dur, file_dur))
        if k not in pts:
            continue
        for kind, fd, ff in candidates(model, rng):
            tree, modes = model.tree(fd, ff)
            h = digest(tree)
            if h in seen:
                s = seen[h]
                s["final"] = s["final"] or k == final
                continue
            seen[h] = {"tree": tree, "modes": modes, "point": k,
                       "kind": kind, "final": k == final,
                       "event": "\t".join(events[k - 1][:3]) if k else "start"}
            order.append(h)
    # beyond PC_MAX: every final-point state, then an even sample
    if len(order) > MAXSTATES:
        fin = [h for h in order if seen[h]["final"]]
        rest = [h for h in order if not seen[h]["final"]]
        stride = len(rest) / max(1, MAXSTATES - len(fin))
        keep = set(fin) | {rest[int(i * stride)] for i in range(MAXSTATES - len(fin)) if int(i * stride) < len(rest)}
        order = [h for h in order if h in keep]
    res["states"] = len(order)
    legal = {old, new}
    for n, (tree, modes) in enumerate(mids):
        d = os.path.join(work, "mid%d" % n)
        materialise(tree, modes, d)
        legal.add(dump(d))
        shutil.rmtree(d)
    for n, h in enumerate(order):
        s = seen[h]
        d = os.path.join(work, "s%d" % n)
        materialise(s["tree"], s["modes"], d)
        bad = []
        got = dump(d)
        if c["mode"] == "append":
            if not (got.startswith(old) and new.startswith(got)):
                bad.append("mixed")
        elif got not in legal:
            bad.append("mixed")
        if s["final"] and got != new:
            bad.append("lost")
        rrc, _, rerr = sh(c["read"], d, env)
        if rrc != 0:
            bad.append("unreadable")
        xrc, _, xerr = sh(c["again"], d, env)
        if xrc != 0 or (c["idem"] and dump(d) != new):
            bad.append("unrecovered")
        for b in bad:
            res[b] += 1
        if not bad:
            res["held"] += 1
            shutil.rmtree(d)
            continue
        why = (rerr if rrc else xerr).decode(errors="replace").strip().splitlines()[:2]
        print("explore.py: %s: point %d/%d after %s, %s: %s%s" % (
            c["name"], s["point"], final, s["event"], s["kind"],
            ",".join(bad), (": " + " / ".join(why)) if why else ""),
            file=sys.stderr)
        if KEEP:
            dest = os.path.join(KEEP, c["name"].replace(" ", "_").replace("-", "") + ".%d" % n)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(os.path.join(work, "old"), dest + ".old")
            shutil.move(d, dest)
        else:
            shutil.rmtree(d)
    res["seconds"] = round(time.time() - t0, 1)
    return res


def main():
    names = sys.argv[1:]
    # crash.sh's names, and the three creations
    alias = {"dedup": "dedup --state", "window": "window --state",
             "checkpoint-read": "checkpoint read", "checkpoint-commit": "checkpoint commit",
             "checkpoint-run": "checkpoint run", "dlq-check": "dlq check --dlq",
             "dlq-replay": "dlq replay -- cmd", "dlq-replay-commit": "dlq replay --commit",
             "dlq-purge": "dlq purge"}
    for v in ("append", "overwrite", "merge", "delete", "checkpoint", "vacuum", "optimize"):
        alias["txlog-" + v] = "txlog " + v
    alias["dedup-dupes"] = "dedup --state --dupes"
    alias["txlog-init"] = "txlog init"
    alias["dedup-stdout"] = "dedup --state > out"
    full = {c["name"]: c for c in COMMANDS}
    todo = []
    for n in names or list(alias):
        if n not in alias:
            sys.exit("explore.py: no command %s (one of: %s)" % (n, " ".join(alias)))
        todo.append(full[alias[n]])
    base = tempfile.mkdtemp(prefix="idem-powercut.")
    try:
        rec = os.environ.get("PC_REC")
        if not rec:
            rec = os.path.join(base, "rec.so")
            subprocess.run(["cc", "-std=gnu11", "-O2", "-shared", "-fPIC", "-o", rec,
                            os.path.join(TOP, "tests", "powercut", "rec.c"), "-ldl"],
                           check=True)
        # PC_INPUTS=DIR: the inputs made once, kept for later runs
        w = os.environ.get("PC_INPUTS") or os.path.join(base, "W")
        os.makedirs(w, exist_ok=True)
        env = dict(os.environ, PATH=BIN + ":" + os.environ.get("PATH", ""),
                   IDEM_GEN=GEN, W=w, LC_ALL="C")
        for k in ("LD_PRELOAD", "IDEM_FAULT", "IDEM_IOFAULT"):
            env.pop(k, None)
        if not os.path.exists(os.path.join(w, "new.1")):
            make_inputs(w, env)
        status = 0
        for i, c in enumerate(todo):
            work = os.path.join(base, "c%d" % i)
            res = explore(c, w, env, rec, work)
            shutil.rmtree(work, ignore_errors=True)
            print(json.dumps(res, separators=(",", ":")), flush=True)
            if "error" in res or res["held"] != res["states"]:
                status = 1
        return status
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
