#!/usr/bin/env python3
"""
The layout rules of lib/README, checked on the source (and, given a build
folder, on its objects).  Usage: check.py ROOT [BUILD]

  1. No include cycle between files of lib/ or cmd/ (a file's module is
     its path without .c/.h: lib/scan.c and lib/scan.h are one module).
  2. lib/ includes only downward: a module includes modules of its own
     layer or a lower one, as the layer lines of lib/README list them;
     inside lib/delta/ a module includes only those listed before it.
  3. lib/ never includes cmd/; a file of cmd/TOOL/ includes only lib/
     and its own folder; every lib module is in lib/README.
  4. With BUILD: no cycle of symbol use between the objects of lib/
     (libidem and libdelta) or of one tool folder in cmd/: a file that
     calls into another is never called back (the dispatcher calls the
     verbs, the verbs call lib/, never the dispatcher).

One line per breach on stdout, exit 1; exit 0 and nothing when all hold.
"""
import os
import re
import subprocess
import sys

# lib/README, on purpose: xalloc reads cli_prog for its out-of-memory
# message.  The one edge allowed upward.
ALLOWED = {("lib/xalloc", "lib/cli")}

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root, top):
    out = []
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def module(path):
    return os.path.splitext(path)[0]


def resolve(root, src, inc):
    """The file an #include "inc" of src names: its folder, then lib/."""
    for base in (os.path.dirname(src), "lib"):
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.exists(os.path.join(root, p)):
            return p
    return None


def layers(root):
    """[(layer, [module, ...]), ...] from lib/README's layer lines: a
    name in columns 3-14, then the modules; "delta/:" prefixes the
    modules after it with lib/delta/."""
    out = []
    with open(os.path.join(root, "lib/README")) as f:
        for line in f:
            line = line.rstrip("\n")
            if len(line) < 15 or not line.startswith("  ") or \
               line[2] == " " or line[12:14] != "  ":
                continue
            name, mods, prefix = line[2:14].strip(), [], "lib/"
            for tok in line[14:].split():
                if tok.endswith("/:"):
                    prefix = "lib/" + tok[:-1]
                else:
                    mods.append(prefix + tok)
            out.append((name, mods))
    return out


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan,
    iterative: no recursion limit to meet)."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = n
        n += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n
                    n += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def check_includes(root, say):
    graph = {}
    files = sources(root, "lib") + sources(root, "cmd")
    rank = {}
    for i, (_, mods) in enumerate(layers(root)):
        for j, m in enumerate(mods):
            rank[m] = (i, j if m.startswith("lib/delta/") else 0)
    for src in files:
        m = module(src)
        graph.setdefault(m, set())
        if src.startswith("lib/") and m not in rank:
            say(f"{src}: module {m} is in no layer of lib/README")
        with open(os.path.join(root, src), errors="replace") as f:
            text = f.read()
        for inc in INC.findall(text):
            dst = resolve(root, src, inc)
            if dst is None:
                continue
            d = module(dst)
            if d == m:
                continue
            if (m, d) not in ALLOWED:
                graph[m].add(d)
            if src.startswith("lib/"):
                if d.startswith("cmd/"):
                    say(f"{src}: includes {dst}: lib/ never includes cmd/")
                elif m in rank and d in rank and rank[d] > rank[m] \
                        and (m, d) not in ALLOWED:
                    say(f"{src}: includes {dst}: a lower layer includes "
                        f"a higher one (lib/README)")
            elif src.startswith("cmd/"):
                own = os.path.dirname(src)
                if not d.startswith("lib/") and \
                        (own == "cmd" or os.path.dirname(dst) != own):
                    say(f"{src}: includes {dst}: a tool includes only lib/ "
                        f"and its own folder")
    for comp in cycles(graph):
        say("include cycle: " + " -> ".join(comp))


def check_symbols(root, build, say):
    groups = {"lib": []}
    for d, _, files in os.walk(os.path.join(build, "lib")):
        groups["lib"] += [os.path.join(d, f) for f in files
                          if f.endswith(".o")]
    cmd = os.path.join(build, "cmd")
    for t in sorted(os.listdir(cmd)) if os.path.isdir(cmd) else ():
        d = os.path.join(cmd, t)
        if os.path.isdir(d) and os.path.isdir(os.path.join(root, "cmd", t)):
            groups["cmd/" + t] = [os.path.join(d, f)
                                  for f in sorted(os.listdir(d))
                                  if f.endswith(".o")]
    for g, objs in sorted(groups.items()):
        if len(objs) < 2:
            continue
        defs, uses = {}, {}
        for o in objs:
            m = module(os.path.relpath(o, build))
            out = subprocess.run(["nm", o], capture_output=True, text=True,
                                 check=True).stdout
            uses[m] = set()
            for line in out.splitlines():
                p = line.split()
                if len(p) == 3 and p[1] in "TDBRCG":
                    defs[p[2]] = m
                elif len(p) == 2 and p[0] == "U":
                    uses[m].add(p[1])
        graph = {m: {defs[s] for s in u if s in defs and defs[s] != m
                     and (m, defs[s]) not in ALLOWED}
                 for m, u in uses.items()}
        for comp in cycles(graph):
            say("call cycle: " + " -> ".join(comp) +
                " (each uses a symbol another defines)")


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: check.py ROOT [BUILD]\n")
        return 2
    bad = []
    check_includes(sys.argv[1], bad.append)
    if len(sys.argv) == 3:
        check_symbols(sys.argv[1], sys.argv[2], bad.append)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
