#!/usr/bin/env python3
"""coresift on the growth corpus (corpus/growth, cores made by the ctest fixture) against the
truth each snapshot recorded (<core>.truth.json):

Per snapshot core (growth.1, growth.2 of run A, growth-b.2 of run B), with today's commands:
  * `groups --by size --json --top 0`: the group of each class's usable size (chunk size - 8)
    has the class's live count and live count x usable size bytes; a class with no live block
    (freed at snapshot 2) has no group; every example address is a block of that class;
  * `groups --json --top 0` (by signature): the group `text:<tag_prefix>#` of each class has
    the class's live count;
  * `leaks --json`: definite and indirect leaks per size equal the truth's leaked counts, no
    possible leaks, the summary totals agree, and every leaked block of the truth is listed
    with its kind while no block of a reachable class is.

The future `diff OLD NEW --json` (checked only when coresift has a `diff` command, else
"SKIPPED: no diff command yet"), on (growth.1, growth.2) and (growth.1, growth-b.2):
  * every group: delta_chunks = new_chunks - old_chunks, delta_bytes = new_bytes - old_bytes;
  * groups sorted by |delta_bytes| descending;
  * per class: the sum over its groups (by size when groups carry sizes, else by signature
    `text:<tag_prefix>#`; a class may be split over several groups) of old/new/delta chunks
    and delta bytes equals the truth (bytes are usable bytes, as in groups/leaks);
  * leaks.new_definite_chunks/_bytes and new_indirect_chunks/_bytes equal the truth's growth.

usage: check_growth.py CORESIFT SRC_DIR CORES_DIR     exit 0 pass, 1 fail, 77 skip"""
import json
import os
import re
import subprocess
import sys

CORES = ["growth.1", "growth.2", "growth-b.2"]
PAIRS = [("growth.1", "growth.2", "same process"), ("growth.1", "growth-b.2", "two processes")]


def run_json(coresift, args):
    p = subprocess.run([coresift, *args], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("coresift %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr[-500:]))
    return json.loads(p.stdout)


def signature_of(cls):
    return "text:%s#" % cls["tag_prefix"]


def check_snapshot(coresift, cores, name, bad):
    truth = json.load(open(os.path.join(cores, name + ".truth.json")))
    core = os.path.join(cores, name + ".core")
    where = "%s (snapshot %d, pid %d)" % (name, truth["snapshot"], truth["pid"])
    addrs = {c["name"]: {int(a, 16) for a in c["addresses"]} for c in truth["classes"]}

    by_size = run_json(coresift, ["groups", core, "--by", "size", "--json", "--top", "0"])
    groups = {}
    for g in by_size["groups"]:
        groups[g["key"]] = g
    for c in truth["classes"]:
        g = groups.get(str(c["usable_size"]))
        if c["live"] == 0:
            if g is not None:
                bad.append("%s: class %s (chunk 0x%x) has no live block, groups --by size has %d chunks of "
                           "usable size %d" % (where, c["name"], c["chunk_size"], g["chunks"], c["usable_size"]))
            continue
        if g is None:
            bad.append("%s: class %s (chunk 0x%x, usable %d): no size group, expected %d chunks"
                       % (where, c["name"], c["chunk_size"], c["usable_size"], c["live"]))
            continue
        want_bytes = c["live"] * c["usable_size"]
        if g["chunks"] != c["live"] or g["bytes"] != want_bytes:
            bad.append("%s: class %s (chunk 0x%x): size group %s has %d chunks / %d bytes, expected %d / %d"
                       % (where, c["name"], c["chunk_size"], g["key"], g["chunks"], g["bytes"], c["live"], want_bytes))
        stray = [e for e in g["examples"] if int(e, 16) not in addrs[c["name"]]]
        if stray:
            bad.append("%s: class %s: examples %s are not blocks of the class" % (where, c["name"], stray))

    by_sig = run_json(coresift, ["groups", core, "--json", "--top", "0"])
    sig = {g["key"]: g for g in by_sig["groups"]}
    for c in truth["classes"]:
        g = sig.get(signature_of(c))
        got = g["chunks"] if g else 0
        if got != c["live"]:
            bad.append("%s: class %s: signature group %s has %d chunks, expected %d"
                       % (where, c["name"], signature_of(c), got, c["live"]))

    leaks = run_json(coresift, ["leaks", core, "--json"])
    per = {}      # (kind, usable size) -> chunks
    kind_of = {}  # address -> kind
    for lk in leaks["leaks"]:
        per[(lk["kind"], lk["size"])] = per.get((lk["kind"], lk["size"]), 0) + 1
        kind_of[int(lk["address"], 16)] = lk["kind"]
    for c in truth["classes"]:
        for kind, want in (("definite", c["leaked_definite"]), ("indirect", c["leaked_indirect"])):
            got = per.get((kind, c["usable_size"]), 0)
            if got != want:
                bad.append("%s: class %s (chunk 0x%x): %d %s leaks of usable size %d, expected %d"
                           % (where, c["name"], c["chunk_size"], got, kind, c["usable_size"], want))
        want_kind = c["reach"] if c["reach"] in ("definite", "indirect") else None
        wrong = sorted(a for a in addrs[c["name"]] if kind_of.get(a) != want_kind)
        if wrong:
            bad.append("%s: class %s: %d blocks reported as %s, expected %s (e.g. 0x%x)"
                       % (where, c["name"], len(wrong), sorted({kind_of.get(a) for a in wrong}, key=str),
                          want_kind or "reachable", wrong[0]))
    s = leaks["summary"]
    tl = truth["leaks"]
    want = {"definite_chunks": tl["definite_chunks"], "indirect_chunks": tl["indirect_chunks"],
            "possible_chunks": 0,
            "definite_bytes": sum(c["leaked_definite"] * c["usable_size"] for c in truth["classes"]),
            "indirect_bytes": sum(c["leaked_indirect"] * c["usable_size"] for c in truth["classes"])}
    for k, v in want.items():
        if s[k] != v:
            bad.append("%s: leaks summary %s %d, expected %d" % (where, k, s[k], v))
    print("%s: %d size groups, %d signature groups, leaks %d definite / %d indirect checked"
          % (where, len(by_size["groups"]), len(by_sig["groups"]), s["definite_chunks"], s["indirect_chunks"]))
    return truth


# ---- the future `diff` command ------------------------------------------------------------

def has_diff(coresift):
    """True when coresift has a `diff` subcommand.  `coresift diff --help` alone is not enough:
    the CLI prints the top-level help and exits 0 for an unknown subcommand followed by --help."""
    p = subprocess.run([coresift, "diff", "--help"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return False
    usage = re.search(r"^Usage:.*$", p.stdout, re.M)
    return bool(usage and re.search(r"\bdiff\b", usage.group(0)))


def group_size(g):
    """Usable size of a diff group when it says so, else None (then signatures decide)."""
    if isinstance(g.get("sizes"), list) and len(g["sizes"]) == 1:
        return g["sizes"][0]
    for k in ("usable_size", "size"):
        if isinstance(g.get(k), int):
            return g[k]
    if isinstance(g.get("chunk_size"), int):
        return g["chunk_size"] - 8
    return None


def check_diff(coresift, cores, old, new, what, truths, bad):
    told, tnew = truths[old], truths[new]
    where = "diff %s %s (%s)" % (old, new, what)
    doc = run_json(coresift, ["diff", os.path.join(cores, old + ".core"), os.path.join(cores, new + ".core"), "--json"])
    groups = doc.get("groups")
    if not isinstance(groups, list):
        bad.append("%s: no groups[]" % where)
        return
    fields = ("signature", "owner", "old_chunks", "new_chunks", "delta_chunks", "old_bytes", "new_bytes", "delta_bytes")
    for i, g in enumerate(groups):
        missing = [f for f in fields if f not in g]
        if missing:
            bad.append("%s: groups[%d] lacks %s" % (where, i, missing))
            return
        if g["delta_chunks"] != g["new_chunks"] - g["old_chunks"] or g["delta_bytes"] != g["new_bytes"] - g["old_bytes"]:
            bad.append("%s: groups[%d] %s: deltas are not new - old: %s" % (where, i, g["signature"], g))
    for i in range(1, len(groups)):
        if abs(groups[i]["delta_bytes"]) > abs(groups[i - 1]["delta_bytes"]):
            bad.append("%s: not sorted by |delta_bytes|: groups[%d] %s (%d) after groups[%d] %s (%d)"
                       % (where, i, groups[i]["signature"], groups[i]["delta_bytes"],
                          i - 1, groups[i - 1]["signature"], groups[i - 1]["delta_bytes"]))
            break
    by_size = all(group_size(g) is not None for g in groups)
    for co, cn in zip(told["classes"], tnew["classes"]):
        if by_size:
            mine = [g for g in groups if group_size(g) == co["usable_size"]]
        else:
            mine = [g for g in groups if g["signature"] == signature_of(co)]
        got = {k: sum(g[k] for g in mine) for k in ("old_chunks", "new_chunks", "delta_chunks", "delta_bytes")}
        d = cn["live"] - co["live"]
        want = {"old_chunks": co["live"], "new_chunks": cn["live"], "delta_chunks": d,
                "delta_bytes": d * co["usable_size"]}
        if got != want:
            note = ""
            if got["delta_bytes"] == d * co["chunk_size"] and d:
                note = " (delta_bytes counts chunk sizes; groups and leaks count usable sizes)"
            bad.append("%s: class %s (chunk 0x%x, %s, matched %d groups by %s): got %s, expected %s%s"
                       % (where, co["name"], co["chunk_size"], co["behaviour"], len(mine),
                          "size" if by_size else "signature", got, want, note))
    lk = doc.get("leaks") or {}
    want = {}
    for kind in ("definite", "indirect"):
        want["new_%s_chunks" % kind] = sum(cn["leaked_" + kind] - co["leaked_" + kind]
                                          for co, cn in zip(told["classes"], tnew["classes"]))
        want["new_%s_bytes" % kind] = sum((cn["leaked_" + kind] - co["leaked_" + kind]) * co["usable_size"]
                                         for co, cn in zip(told["classes"], tnew["classes"]))
    for k, v in want.items():
        if lk.get(k) != v:
            bad.append("%s: leaks.%s %r, expected %d" % (where, k, lk.get(k), v))
    print("%s: %d groups (classes matched by %s), leaks %s"
          % (where, len(groups), "size" if by_size else "signature", {k: lk.get(k) for k in want}))


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    coresift, _src, cores = sys.argv[1:4]
    missing = [n for n in CORES if not os.path.exists(os.path.join(cores, n + ".truth.json"))
               or not os.path.exists(os.path.join(cores, n + ".core"))]
    if missing:
        print("SKIPPED: no growth cores %s in %s (growth_cores_make could not make them)" % (missing, cores))
        return 77
    bad = []
    truths = {}
    for n in CORES:
        try:
            truths[n] = check_snapshot(coresift, cores, n, bad)
        except (RuntimeError, ValueError, KeyError) as e:
            bad.append("%s: %s" % (n, e))
    if len(truths) == len(CORES):
        for n in CORES[1:]:
            for co, cn in zip(truths["growth.1"]["classes"], truths[n]["classes"]):
                if cn["live"] - co["live"] != co["delta_chunks"]:
                    bad.append("truth: class %s grows by %d from growth.1 to %s, its delta_chunks is %d"
                               % (co["name"], cn["live"] - co["live"], n, co["delta_chunks"]))
        if has_diff(coresift):
            for old, new, what in PAIRS:
                try:
                    check_diff(coresift, cores, old, new, what, truths, bad)
                except (RuntimeError, ValueError, KeyError, TypeError) as e:
                    bad.append("diff %s %s: %s" % (old, new, e))
        else:
            print("SKIPPED: no diff command yet (coresift diff --help names no diff subcommand)")
    for b in bad:
        print("FAILED: " + b)
    print("%s: %d problems" % ("FAIL" if bad else "PASS", len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
