#!/usr/bin/env python3
"""annotate_truth.py - merge what the driver learned into a truth file.

    annotate_truth.py TRUTH.json --generator GEN.json [--gdb GDBCHECK.json]
                      [--check CHECK.json] [--dumps DUMPS.json]

The programs write the part of the truth they know themselves.  This adds:
  generator     : GEN.json as is (core kind/file, binary, platform ...)
  main_arena    : from gdb (`&main_arena`, needs libc debug symbols), else
                  from check_core.py's symbol-free search, else null;
                  main_arena_source says which ("gdb"/"check_core"/null)
  threads[0].arena for census (the main thread uses main_arena)
  allocations[].observed_bin, observed_bin_index : census only, where the
                  chunk was found (gdb's walk, else check_core.py's; the
                  index from check_core.py); observed_bin_source
  dumps         : DUMPS.json (list) for the census gcore run
  verification  : {"gdb": {...} | null, "check_core": {...} | null}
and rewrites the file in a stable layout: one allocation per line.
"""
import argparse
import json


def load(path):
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def dump_stable(obj):
    """JSON with 2-space indent, but short dicts (list items) on one line."""
    def enc(v, ind):
        pad = "  " * ind
        if isinstance(v, dict):
            if not v:
                return "{}"
            if ind >= 2:
                return json.dumps(v)
            items = [pad + "  " + json.dumps(k) + ": " + enc(x, ind + 1) for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(v, list):
            if not v:
                return "[]"
            if all(not isinstance(x, (dict, list)) for x in v):
                return json.dumps(v)
            items = [pad + "  " + enc(x, ind + 2) for x in v]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(v)
    return enc(obj, 0) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("--generator", required=True)
    ap.add_argument("--gdb")
    ap.add_argument("--check")
    ap.add_argument("--dumps")
    args = ap.parse_args()

    truth = load(args.truth)
    gen = load(args.generator)
    gdbres = load(args.gdb)
    check = load(args.check)
    dumps = load(args.dumps)

    truth["generator"] = gen
    cinfo = (check or {}).get("info") or {}
    cbins = cinfo.get("bins") or {}
    if gdbres is not None and gdbres.get("main_arena"):
        truth["main_arena"] = gdbres["main_arena"]
        truth["main_arena_source"] = "gdb"
    elif cinfo.get("main_arena"):
        truth["main_arena"] = cinfo["main_arena"]
        truth["main_arena_source"] = "check_core"
    else:
        truth["main_arena"] = None
        truth["main_arena_source"] = None
    if truth.get("program") == "census":
        if truth["threads"] and truth["threads"][0].get("arena") is None:
            truth["threads"][0]["arena"] = truth.get("main_arena")
        observed = ((gdbres or {}).get("bins") or {}).get("observed")
        source = "gdb"
        if observed is None:
            observed = cbins.get("observed")
            source = "check_core" if observed is not None else None
        index = cbins.get("observed_index") or {}
        truth["observed_bin_source"] = source
        for al in truth["allocations"]:
            al["observed_bin"] = observed.get(str(al["id"])) if observed is not None else None
            al["observed_bin_index"] = index.get(str(al["id"]))
    if dumps is not None:
        truth["dumps"] = dumps
    cc = None
    if check is not None:
        cc = {"ok": check.get("ok"), "failures": check.get("failures", [])}
        if truth.get("program") == "census":
            cc["bins_checked"] = bool(cbins.get("observed"))
            cc["bins_agree_with_gdb"] = cbins.get("gdb_agrees")
            cc["tcache_tls_offset"] = cbins.get("tcache_tls_offset")
            cc["model_differences"] = cbins.get("model_differences")
        if truth.get("program") == "census_je":
            stacks = cinfo.get("je_tcache_stacks") or []
            cc["tcache_stacks_checked"] = len(stacks)
            cc["tcache_stacks_found"] = sum(1 for x in stacks if len(x["stack_head"]) == 1)
    truth["verification"] = {
        "gdb": None if gdbres is None else {
            "ok": gdbres.get("ok"),
            "bins_checked": gdbres.get("bins_checked"),
            "failures": gdbres.get("failures", []),
        },
        "check_core": cc,
    }
    if gdbres is not None and gdbres.get("bins_checked"):
        truth["verification"]["gdb"]["model_differences"] = \
            (gdbres.get("bins") or {}).get("model_differences", [])
    text = dump_stable(truth)
    json.loads(text)  # must still be valid JSON
    with open(args.truth, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
