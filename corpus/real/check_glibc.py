"""Compares coresift's glibc heap figures for a real core with glibc's own accounting,
malloc_info() taken in the same gdb session right before gcore (make-real-cores.sh).

Per arena (malloc_info's <heap nr=N> is the N-th arena of main_arena's ->next chain, printed
by gdb as ARENAS): system_mem, fastbin count/bytes, "rest" (the top chunk, unsorted, small
and large bins) count/bytes, both from the chunk rows and from `heap`'s free_by_bin, and
every <size>/<unsorted> line (one per non-empty bin: from, to, total, count); then the arena
count, the mmapped chunks count/bytes, and the chunk the program mmapped at a 64 MiB aligned
address (NAME.aligned, python) must be listed as mmapped.  glibc 2.36's malloc_info sums the
regular bins with chunksize_nomask (the flag bits included; fastbins use chunksize): the
per-chunk figure is the chunk's size word read here from the core, at the header of each
chunk coresift reports.  Usage: check_glibc.py CORESIFT OUTDIR NAME"""
import csv
import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

from corelib import Core, coresift_json, skip_if_not_made

coresift, outdir, name = sys.argv[1:4]
core_path = skip_if_not_made(outdir, name)
problems = []


def check(what, truth, ours):
    ok = truth == ours
    print("  %-44s malloc_info %-22s coresift %-22s %s" % (what, truth, ours, "ok" if ok else "DIFFERS"))
    if not ok:
        problems.append(what)


def largebin_index(sz):
    for shift, base, limit in ((6, 48, 48), (9, 91, 20), (12, 110, 10), (15, 119, 4), (18, 124, 2)):
        if sz >> shift <= limit:
            return base + (sz >> shift)
    return 126


def bin_index(sz):
    return sz >> 4 if sz < 1024 else largebin_index(sz)


text = open("%s/%s.stderr" % (outdir, name), errors="replace").read()
m = re.search(r'<malloc version="1">.*?</malloc>', text, re.S)
if not m:
    raise SystemExit("no malloc_info XML in %s/%s.stderr" % (outdir, name))
xml = ET.fromstring(m.group(0))
log = open("%s/%s.gdb.log" % (outdir, name)).read()
order = [int(a, 16) for a in re.search(r"^ARENAS (.*)$", log, re.M).group(1).split()]

heap = coresift_json(coresift, "heap", core_path)
glibc = [a for a in heap["allocators"] if a["name"] == "glibc"]
if not glibc:
    raise SystemExit("coresift found no glibc allocator in %s" % core_path)
glibc = glibc[0]
arenas = {int(a["address"], 16): a for a in glibc["arenas"]}
rows = list(csv.DictReader(io.StringIO(subprocess.run(
    [coresift, "chunks", "--csv", "--state", "all", core_path], capture_output=True, text=True, check=True).stdout)))
mmapped_rows = {int(r["address"], 16) for r in rows if r["allocator"] == "glibc" and r["bin"] == "mmapped"}
rows = [r for r in rows if r["allocator"] == "glibc" and r["state"] == "free"]
core = Core(core_path)

heaps = xml.findall("heap")
check("arenas", len(heaps), len(glibc["arenas"]))
check("arenas in ->next order (gdb)", len(order), len(heaps))
for h in heaps:
    nr = int(h.get("nr"))
    addr = order[nr] if nr < len(order) else None
    print("arena %d at %s" % (nr, hex(addr) if addr else "?"))
    ar = arenas.get(addr)
    if ar is None:
        check("arena %d found" % nr, True, False)
        print("    coresift's arenas not in gdb's list: %s" % ", ".join(hex(a) for a in sorted(set(arenas) - set(order))))
        continue
    check("system_mem", int(h.find("system[@type='current']").get("size")), ar["system_mem"])
    mine = [r for r in rows if int(r["arena"], 16) == addr]
    # Per bin, as malloc_info prints them: fastbins by size, other bins by index.
    fast, bins, unsorted = {}, {}, []
    for r in mine:
        address, csize = int(r["address"], 16), int(r["chunk_size"])
        word = core.u64(address - 8)
        if word is None or word & ~7 != csize:
            check("size word of chunk %s" % r["address"], csize, word)
            continue
        if r["bin"] == "fastbin":
            fast.setdefault(csize, []).append(csize)
        elif r["bin"] == "unsorted":
            unsorted.append(word)
        elif r["bin"] in ("smallbin", "largebin"):
            bins.setdefault(bin_index(csize), []).append(word)
    f = h.find("total[@type='fast']")
    check("fastbins count, bytes", (int(f.get("count")), int(f.get("size"))),
          (sum(map(len, fast.values())), sum(map(sum, fast.values()))))
    # malloc_info's "rest" starts from the top chunk (count 1, chunksize) and adds every bin.
    top = [int(r["chunk_size"]) for r in mine if r["bin"] == "top"]
    rest = top + list(unsorted) + [w for ws in bins.values() for w in ws]
    t = h.find("total[@type='rest']")
    check("top+unsorted+small+large count, bytes", (int(t.get("count")), int(t.get("size"))), (len(rest), sum(rest)))
    # The same figures in `heap`'s own summary (free_by_bin counts whole chunks, flags masked).
    fb = ar["free_by_bin"]
    pick = lambda *names: (sum(fb.get(n, {}).get("chunks", 0) for n in names), sum(fb.get(n, {}).get("bytes", 0) for n in names))
    check("heap free_by_bin fastbin", (int(f.get("count")), int(f.get("size"))), pick("fastbin"))
    check("heap free_by_bin top+unsorted+small+large", (int(t.get("count")), int(t.get("size")) - sum(w & 7 for w in rest)),
          pick("top", "unsorted", "smallbin", "largebin"))
    lines = sorted((int(s.get("from")), int(s.get("to")), int(s.get("total")), int(s.get("count")))
                   for s in h.find("sizes").findall("size"))
    ours = sorted([(sz - 15, sz, sz * len(v), len(v)) for sz, v in fast.items()] +
                  [(min(v), max(v), sum(v), len(v)) for v in bins.values()])
    same = sum(1 for x in lines if x in ours)
    check("bins (<size> lines) equal", (len(lines), len(lines)), (same, len(ours)))
    for x in sorted(set(lines) ^ set(ours))[:10]:
        print("    only in %s: from %d to %d total %d count %d" % (("malloc_info" if x in lines else "coresift",) + x))
    u = h.find("sizes").find("unsorted")
    check("unsorted bin", (int(u.get("from")), int(u.get("to")), int(u.get("total")), int(u.get("count"))) if u is not None else None,
          (min(unsorted), max(unsorted), sum(unsorted), len(unsorted)) if unsorted else None)

mm = xml.find("total[@type='mmap']")
print("process")
check("mmapped chunks count, bytes", (int(mm.get("count")), int(mm.get("size"))),
      (glibc["mmapped"]["chunks"], glibc["mmapped"]["bytes"]))
aligned = "%s/%s.aligned" % (outdir, name)
if os.path.exists(aligned) and open(aligned).read().split() != ["none"]:
    x = int(open(aligned).read())
    check("mmapped chunk at 64 MiB aligned %#x" % x, True, x + 16 in mmapped_rows)
if problems:
    print("FAILED: %d figures differ from malloc_info: %s" % (len(problems), ", ".join(problems[:10])))
    sys.exit(1)
print("all figures equal malloc_info's")
