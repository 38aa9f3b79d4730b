"""Checks coresift's definite leaks on a real core with an independent scan of the core: no
8-byte-aligned word anywhere in the core's memory may point into a definite leak, except
  - words inside free memory (free chunks, glibc's top chunk, per `chunks --state all`),
  - words inside leaked chunks (definite or indirect: leaks may point at each other),
  - stale stack below a thread's stack pointer less the 128-byte red zone (never live),
  - a word equal to a glibc chunk's header address (bins, top and free chunks' fd/bk point at
    the header, and stale copies of them stay in reused chunks; the header lies in the last 8
    bytes of the chunk before it: allocator bookkeeping, never how a program holds a block),
  - words inside jemalloc's own bookkeeping that coresift reports (`heap --json`), each range
    checked here first: a base block must start on a 2 MiB boundary with a {size, next} header
    covering the range (next 0 or another reported base block); a thread-cache stack must be a
    live jemalloc chunk whose non-zero words are mostly (>= 90 %) pointers into jemalloc chunks.
Thread registers (NT_PRSTATUS) must not point into a definite leak either.  With a truth file
OUTDIR/NAME.leaks ("address size" per line, written by the program), every block in it must be
reported as a definite leak at that address unless the same scan finds a word pointing into it
(a stale copy, e.g. in the unused tail of a live chunk, keeps it reachable for any conservative
scan).  Usage: check_leaks.py CORESIFT OUTDIR NAME [--all-leaked]"""
import bisect
import csv
import io
import os
import struct
import subprocess
import sys

from corelib import RSP, Core, coresift_json, skip_if_not_made

def inside(ranges, addr):
    i = bisect.bisect_right(ranges, (addr, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= addr < ranges[i][0] + ranges[i][1]


coresift, outdir, name = sys.argv[1:4]
# --all-leaked: every truth block must be reported leaked (no stale word may excuse one): for a
# program whose allocator's own stale words (jemalloc's thread-cache stacks) were the only ones.
all_leaked = "--all-leaked" in sys.argv[4:]
core_path = skip_if_not_made(outdir, name)
core = Core(core_path)

leaks = coresift_json(coresift, "leaks", core_path)
definite = sorted((int(l["address"], 16), l["size"]) for l in leaks["leaks"] if l["kind"] == "definite")
leaked = sorted((int(l["address"], 16), l["size"]) for l in leaks["leaks"] if l["kind"] in ("definite", "indirect"))
print("coresift: %d definite leaks (%d bytes), %d indirect" % (
    len(definite), sum(s for _, s in definite), len(leaked) - len(definite)))

rows = list(csv.DictReader(io.StringIO(subprocess.run(
    [coresift, "chunks", "--csv", "--state", "all", core_path], capture_output=True, text=True, check=True).stdout)))
free, headers = [], set()
for r in rows:
    a, csize = int(r["address"], 16), int(r["chunk_size"])
    if r["allocator"] == "glibc":
        headers.add(a - 16)  # any glibc chunk's header: bins, top, fd/bk and their stale copies
    if r["state"] != "free":
        continue
    if r["allocator"] == "glibc":
        # A free chunk owns its size field up to the next chunk's prev_size (its footer); its
        # own prev_size field is the last 8 usable bytes of the chunk before it.
        free.append((a - 8, csize))
    else:
        free.append((a, csize))
free.sort()
chunk_starts = sorted((int(r["address"], 16), int(r["chunk_size"])) for r in rows if r["allocator"] == "jemalloc")
live_je = {int(r["address"], 16): int(r["chunk_size"]) for r in rows if r["allocator"] == "jemalloc" and r["state"] == "live"}
heap = coresift_json(coresift, "heap", core_path)
bookkeeping = []
for alloc in heap["allocators"]:
    books = alloc.get("bookkeeping", [])
    base_starts = {int(b["start"], 16) for b in books if b["kind"] == "base-block"}
    for b in books:
        lo, hi = int(b["start"], 16), int(b["end"], 16)
        if b["kind"] == "base-block":
            size, nxt = struct.unpack("<QQ", core.read(lo, 16))
            ok = lo % (2 << 20) == 0 and lo + size == hi and (nxt == 0 or nxt in base_starts)
        elif b["kind"] == "tcache-stack":
            words = [w for w in struct.unpack("<%dQ" % ((hi - lo) // 8), core.read(lo, hi - lo)) if w]
            into = sum(1 for w in words if inside(chunk_starts, w))
            ok = live_je.get(lo, 0) >= hi - lo and into >= 0.9 * len(words)
        else:
            ok = False
        if not ok:
            sys.exit("FAILED: coresift's bookkeeping range %s is not what it says (%s)" % (b, alloc["name"]))
        bookkeeping.append((lo, hi - lo))
bookkeeping.sort()
print("jemalloc bookkeeping checked and excluded: %d ranges, %d bytes" % (len(bookkeeping), sum(s for _, s in bookkeeping)))

stale = []  # [start, sp - 128) of each thread's stack segment
for tid, regs in core.thread_registers():
    seg = core.segment(regs[RSP])
    if seg:
        stale.append((seg[0], regs[RSP] - 128 - seg[0]))
stale.sort()


problems = []
for tid, regs in core.thread_registers():
    for n, v in enumerate(regs):
        if inside(definite, v):
            problems.append("register %d of thread %d = %#x points into a definite leak" % (n, tid, v))

truth = os.path.join(outdir, name + ".leaks")
want = [tuple(map(int, line.split())) for line in open(truth) if line.strip()] if os.path.exists(truth) else []
# address -> size: a truth block's usable size from coresift's chunk table where it has a row
# (the program asked for less, but a conservative scan cannot know that: a word in the slack
# between the requested and the usable size points into the chunk), else the requested size.
usable = {int(r["address"], 16): int(r["size"]) for r in rows}
targets = sorted({**{a: max(s, usable.get(a, 0)) for a, s in want}, **dict(definite)}.items())
refs = {}  # target start -> first word outside the excluded memory that points into it

# Scan: find each target's top 5 address bytes (bytes 3..7 of a little-endian word), then
# decode the aligned word around every hit.
windows = sorted({a >> 24 for a, s in targets} | {(a + s - 1) >> 24 for a, s in targets})
hits = 0
for vaddr, filesz, memsz, off, flags in core.loads:
    for w in windows:
        pat = w.to_bytes(5, "little")
        pos = core.data.find(pat, off + 3, off + filesz)
        while pos >= 0:
            start = pos - 3
            if (start - off) % 8 == 0:
                word, = struct.unpack_from("<Q", core.data, start)
                i = bisect.bisect_right(targets, (word, float("inf"))) - 1
                if i >= 0 and targets[i][0] <= word < targets[i][0] + targets[i][1]:
                    hits += 1
                    where = vaddr + start - off
                    if not (inside(free, where) or inside(leaked, where) or inside(stale, where) or word in headers
                            or inside(bookkeeping, where)):
                        refs.setdefault(targets[i][0], (where, word))
            pos = core.data.find(pat, pos + 1, off + filesz)
for a, s in definite:
    if a in refs:
        problems.append("definite leak %#x: the word at %#x = %#x points into it" % (a, *refs[a]))
print("independent scan: %d words point into the %d definite leaks or truth blocks; %d of the definite "
      "leaks are referenced from outside free memory, leaked chunks, stale stack and bin headers" % (
          hits, len(targets), sum(1 for a, _ in definite if a in refs)))

if want:
    # A block the program leaked is a definite (or indirect: a leak points at it) leak unless
    # some word still points into it (a stale copy in a live chunk's slack counts: a
    # conservative scan cannot tell).
    got = {a for a, _ in leaked}
    stale_ref = [a for a, _ in want if a not in got and a in refs]
    unexplained = [a for a, _ in want if a not in got and a not in refs]
    print("truth: %d blocks leaked by the program: %d reported definite or indirect, %d still pointed to by a stale "
          "word (%s), %d neither" % (len(want), len(want) - len(stale_ref) - len(unexplained), len(stale_ref),
                                     ", ".join("%#x from %#x" % (a, refs[a][0]) for a in stale_ref[:3]) or "-",
                                     len(unexplained)))
    problems += ["leaked block %#x (from %s) has no reference and is not reported as a definite leak" % (a, truth)
                 for a in unexplained]
    if all_leaked:
        problems += ["leaked block %#x (from %s) is not reported leaked (--all-leaked)" % (a, truth) for a in stale_ref]
for p in problems[:20]:
    print("  " + p)
if problems:
    print("FAILED: %d problems" % len(problems))
    sys.exit(1)
print("ok")
