#!/usr/bin/env python3
"""--folded output read the way flamegraph.pl reads it, and checked against the JSON.

Usage: check_folded.py CORESIFT SOURCE_DIR

flamegraph.pl (and inferno, speedscope's "collapsed" importer) take one stack per line:
frames separated by ';', then whitespace, then an integer count; a line that does not match
`^(.*)\\s+?(\\d+(?:\\.\\d*)?)$` is skipped as invalid, which would lose bytes silently. So:
  * every line matches that expression, has 3 non-empty frames (owner;signature;size), a
    positive integer value and a size frame that is an integer;
  * no stack appears twice (flamegraph.pl would add them, hiding a rollup bug);
  * owners --folded and groups --folded sum to the live bytes of `owners --json` and
    `groups --json`, per owner equal to owners --json's bytes;
  * diff --folded sums to the positive Δbytes of diff --json's classes and names the growth
    class of the corpus (text:GROWTH-REACH-#).
Runs on the committed growth cores (corpus/cores/growth.*.gcore.core.zst). Exit 0 / 1."""
import json
import os
import re
import subprocess
import sys
from collections import Counter

LINE = re.compile(r"^(.*)\s+?(\d+(?:\.\d*)?)$")  # flamegraph.pl's stack line


def run(coresift, args):
    p = subprocess.run([coresift, *args], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit("FAIL: %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr[-400:]))
    return p.stdout


def parse(text, what, problems):
    stacks = Counter()
    for n, line in enumerate(text.splitlines(), 1):
        m = LINE.match(line.strip())
        if not m:
            problems.append("%s line %d is not a folded stack: %r" % (what, n, line))
            continue
        frames, value = m.group(1).split(";"), m.group(2)
        if len(frames) != 3 or any(not f for f in frames):
            problems.append("%s line %d: want 3 non-empty frames, got %r" % (what, n, frames))
        if not frames[-1].isdigit():
            problems.append("%s line %d: size frame %r is not a number" % (what, n, frames[-1]))
        if not value.isdigit() or int(value) <= 0:
            problems.append("%s line %d: value %r is not a positive integer" % (what, n, value))
            continue
        key = tuple(frames)
        if key in stacks:
            problems.append("%s line %d: stack %r appears twice" % (what, n, key))
        stacks[key] += int(value)
    return stacks


def main():
    coresift, src = sys.argv[1], sys.argv[2]
    cores = os.path.join(src, "corpus", "cores")
    common = ["--no-debuginfo", "--module-dir", os.path.join(cores, "bin")]
    old, new = (os.path.join(cores, "growth.%d.gcore.core.zst" % i) for i in (1, 2))
    problems = []

    owners_doc = json.loads(run(coresift, ["owners", "--json", *common, new]))
    groups_doc = json.loads(run(coresift, ["groups", "--json", "--top", "0", *common, new]))
    for cmd in ("owners", "groups"):
        stacks = parse(run(coresift, [cmd, "--folded", *common, new]), cmd + " --folded", problems)
        total = sum(stacks.values())
        want = owners_doc["total_bytes"] if cmd == "owners" else groups_doc["live_bytes"]
        if total != want:
            problems.append("%s --folded sums to %d bytes, --json says %d" % (cmd, total, want))
        per_owner = Counter()
        for (owner, _sig, _size), v in stacks.items():
            per_owner[owner] += v
        for o in owners_doc["owners"]:
            if per_owner.get(o["name"], 0) != o["bytes"]:
                problems.append("%s --folded: owner %s has %d bytes, owners --json %d"
                                % (cmd, o["name"], per_owner.get(o["name"], 0), o["bytes"]))
        print("%s --folded: %d stacks, %d bytes" % (cmd, len(stacks), total))

    diff_doc = json.loads(run(coresift, ["diff", "--json", *common, old, new]))
    stacks = parse(run(coresift, ["diff", "--folded", *common, old, new]), "diff --folded", problems)
    want = sum(c["delta_bytes"] for c in diff_doc["classes"] if c["delta_bytes"] > 0)
    if sum(stacks.values()) != want:
        problems.append("diff --folded sums to %d, positive class deltas to %d" % (sum(stacks.values()), want))
    if not any(sig == "text:GROWTH-REACH-#" for (_o, sig, _s) in stacks):
        problems.append("diff --folded does not name the growth class text:GROWTH-REACH-#")
    print("diff --folded: %d stacks, %d bytes of growth" % (len(stacks), sum(stacks.values())))

    for p in problems:
        print("FAILED: " + p)
    print("PASS" if not problems else "FAIL: %d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
