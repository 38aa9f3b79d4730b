"""Compares coresift's jemalloc figures for a real core with jemalloc's own accounting,
malloc_stats_print() text taken in the same gdb session right before gcore
(make-real-cores.sh): per arena, every bin's curregs and curslabs and every large size
class's curlextents, the small and large allocated bytes, and the process's "Allocated".

jemalloc counts regions and large extents held by thread caches as allocated; coresift lists
them as free rows with bin "tcache" / "large", so they are added back here.  jemalloc 5.3's
malloc_stats_print allocates one 64 KiB buffer in arena 0 before it reads its statistics and
frees it afterwards (buf_writer, STATS_PRINT_BUFSIZE): the core no longer has it, so one
65536-byte large extent is taken off arena 0's figures (and its presence in them is checked).
Usage: check_jemalloc.py CORESIFT OUTDIR NAME"""
import csv
import io
import re
import subprocess
import sys

from corelib import coresift_json, skip_if_not_made

PRINT_BUFFER = 65536
coresift, outdir, name = sys.argv[1:4]
core_path = skip_if_not_made(outdir, name)
problems = []


def check(what, truth, ours):
    ok = truth == ours
    print("  %-36s jemalloc %-16s coresift %-16s %s" % (what, truth, ours, "ok" if ok else "DIFFERS"))
    if not ok:
        problems.append(what)


def table(lines, header):
    """Rows (lists of numbers) of the table whose header line is "HEADER size ...", to its end."""
    rows, inside = [], False
    for line in lines:
        if line.startswith(header) and line.split()[1:2] == ["size"]:
            inside = True
            continue
        if inside:
            f = line.split()
            if f == ["---"]:
                continue
            if not f or not f[0].isdigit():
                break
            rows.append([float(x) if "." in x else int(x) for x in f])
    return rows


text = open("%s/%s.stderr" % (outdir, name), errors="replace").read()
if "___ Begin jemalloc statistics ___" not in text:
    raise SystemExit("no malloc_stats_print output in %s/%s.stderr" % (outdir, name))
text = text.split("___ Begin jemalloc statistics ___", 1)[1].split("--- End jemalloc statistics ---")[0]
allocated = int(re.search(r"^Allocated: (\d+),", text, re.M).group(1))
stats = {}  # arena index -> {"bins": {size: (curregs, curslabs, regs)}, "large": {size: n}, small/large bytes}
for m in re.finditer(r"^arenas\[(\d+)\]:\n(.*?)(?=^arenas\[|\Z)", text, re.M | re.S):
    lines = m.group(2).splitlines()
    s = {"bins": {r[0]: (r[10], r[11], r[13]) for r in table(lines, "bins:")},
         "large": {r[0]: r[9] for r in table(lines, "large:")}}
    s["small_bytes"] = int(re.search(r"^small:\s+(\d+)", m.group(2), re.M).group(1))
    s["large_bytes"] = int(re.search(r"^large:\s+(\d+)", m.group(2), re.M).group(1))
    stats[int(m.group(1))] = s
if 0 not in stats or stats[0]["large"].get(PRINT_BUFFER, 0) < 1:
    raise SystemExit("arena 0 shows no %d-byte large extent: not the stats-print buffer this check expects" % PRINT_BUFFER)
stats[0]["large"][PRINT_BUFFER] -= 1
stats[0]["large_bytes"] -= PRINT_BUFFER
allocated -= PRINT_BUFFER

heap = coresift_json(coresift, "heap", core_path)
je = [a for a in heap["allocators"] if a["name"] == "jemalloc"]
if not je:
    raise SystemExit("coresift found no jemalloc allocator in %s" % core_path)
je = je[0]
index_of = {a["address"]: a["index"] for a in je["arenas"]}
rows = list(csv.DictReader(io.StringIO(subprocess.run(
    [coresift, "chunks", "--csv", "--state", "all", core_path], capture_output=True, text=True, check=True).stdout)))
ours = {}
for r in rows:
    if r["allocator"] != "jemalloc" or r["arena"] not in index_of:
        continue
    a = ours.setdefault(index_of[r["arena"]], {"bins": {}, "large": {}})
    size = int(r["size"])
    if (r["bin"], r["state"]) in (("slab", "live"), ("tcache", "free")):
        a["bins"][size] = a["bins"].get(size, 0) + 1
    elif r["bin"] == "large":
        a["large"][size] = a["large"].get(size, 0) + 1
slab_capacity = {}  # (arena, size) -> regions in the arena's slabs of that size, from coresift's notes
for note in je["notes"]:
    m = re.match(r"arena (\d+) bins \(size:regions in use/slab capacity\):(.*)", note)
    if m:
        for item in m.group(2).split():
            size, counts = item.split(":")
            slab_capacity[(int(m.group(1)), int(size))] = int(counts.split("/")[1])

print("jemalloc arenas with statistics: %s; coresift arenas: %s" % (sorted(stats), sorted(ours)))
total = 0
for ind in sorted(set(stats) | set(ours)):
    s = stats.get(ind, {"bins": {}, "large": {}, "small_bytes": 0, "large_bytes": 0})
    o = ours.get(ind, {"bins": {}, "large": {}})
    print("arena %d" % ind)
    agree = 0
    for size in sorted(set(s["bins"]) | set(o["bins"])):
        curregs, curslabs, regs = s["bins"].get(size, (0, 0, 1))
        mine = (o["bins"].get(size, 0), slab_capacity.get((ind, size), 0) // regs)
        if (curregs, curslabs) == mine:
            agree += 1
        else:
            check("bin %d (curregs, curslabs)" % size, (curregs, curslabs), mine)
    check("bins agreeing (of those listed)", len(set(s["bins"]) | set(o["bins"])), agree)
    agree = 0
    for size in sorted(set(s["large"]) | set(o["large"])):
        if s["large"].get(size, 0) == o["large"].get(size, 0):
            agree += 1
        else:
            check("large %d curlextents" % size, s["large"].get(size, 0), o["large"].get(size, 0))
    check("large classes agreeing", len(set(s["large"]) | set(o["large"])), agree)
    small = sum(size * n for size, n in o["bins"].items())
    large = sum(size * n for size, n in o["large"].items())
    check("small allocated bytes", s["small_bytes"], small)
    check("large allocated bytes", s["large_bytes"], large)
    check("large extents", sum(s["large"].values()), sum(o["large"].values()))
    total += small + large
print("process")
check("Allocated", allocated, total)
findings = [f for f in je["findings"]]
check("jemalloc findings", 0, len(findings))
for f in findings[:10]:
    print("    %s at %s: %s" % (f["kind"], f["address"], f["detail"]))
if problems:
    print("FAILED: %d figures differ from malloc_stats_print: %s" % (len(problems), ", ".join(problems[:10])))
    sys.exit(1)
print("all figures equal malloc_stats_print's")
