"""Checks coresift's definite leaks on a real core with an independent scan of the core: no
8-byte-aligned word anywhere in the core's memory may point into a definite leak, except
  - words inside free memory (free chunks, glibc's top chunk, per `chunks --state all`),
  - words inside leaked chunks (definite or indirect: leaks may point at each other),
  - stale stack below a thread's stack pointer less the 128-byte red zone (never live),
  - a word equal to a free glibc chunk's header address (bins and top point at the header,
    which lies in the last 8 bytes of the chunk before it: allocator bookkeeping).
Thread registers (NT_PRSTATUS) must not point into a definite leak either.  With a truth file
OUTDIR/NAME.leaks ("address size" per line, written by the program), every block in it must be
reported as a definite leak at that address unless the same scan finds a word pointing into it
(a stale copy, e.g. in the unused tail of a live chunk, keeps it reachable for any conservative
scan).  Usage: check_leaks.py CORESIFT OUTDIR NAME"""
import bisect
import csv
import io
import os
import struct
import subprocess
import sys

from corelib import RSP, Core, coresift_json, skip_if_not_made

coresift, outdir, name = sys.argv[1:4]
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
    if r["state"] != "free":
        continue
    a, csize = int(r["address"], 16), int(r["chunk_size"])
    if r["allocator"] == "glibc":
        # A free chunk owns its size field up to the next chunk's prev_size (its footer); its
        # own prev_size field is the last 8 usable bytes of the chunk before it.
        free.append((a - 8, csize))
        headers.add(a - 16)
    else:
        free.append((a, csize))
free.sort()
stale = []  # [start, sp - 128) of each thread's stack segment
for tid, regs in core.thread_registers():
    seg = core.segment(regs[RSP])
    if seg:
        stale.append((seg[0], regs[RSP] - 128 - seg[0]))
stale.sort()


def inside(ranges, addr):
    i = bisect.bisect_right(ranges, (addr, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= addr < ranges[i][0] + ranges[i][1]


problems = []
for tid, regs in core.thread_registers():
    for n, v in enumerate(regs):
        if inside(definite, v):
            problems.append("register %d of thread %d = %#x points into a definite leak" % (n, tid, v))

truth = os.path.join(outdir, name + ".leaks")
want = [tuple(map(int, line.split())) for line in open(truth) if line.strip()] if os.path.exists(truth) else []
targets = sorted({**dict(want), **dict(definite)}.items())  # address -> size (coresift's usable size if listed)
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
                    if not (inside(free, where) or inside(leaked, where) or inside(stale, where) or word in headers):
                        refs.setdefault(targets[i][0], (where, word))
            pos = core.data.find(pat, pos + 1, off + filesz)
for a, s in definite:
    if a in refs:
        problems.append("definite leak %#x: the word at %#x = %#x points into it" % (a, *refs[a]))
print("independent scan: %d words point into the %d definite leaks or truth blocks; %d of the definite "
      "leaks are referenced from outside free memory, leaked chunks, stale stack and bin headers" % (
          hits, len(targets), sum(1 for a, _ in definite if a in refs)))

if want:
    # A block the program leaked is a definite leak unless some word still points into it
    # (a stale copy in a live chunk's slack counts: a conservative scan cannot tell).
    got = {a for a, _ in definite}
    stale_ref = [a for a, _ in want if a not in got and a in refs]
    unexplained = [a for a, _ in want if a not in got and a not in refs]
    print("truth: %d blocks leaked by the program: %d reported definite, %d still pointed to by a stale "
          "word (%s), %d neither" % (len(want), len(want) - len(stale_ref) - len(unexplained), len(stale_ref),
                                     ", ".join("%#x from %#x" % (a, refs[a][0]) for a in stale_ref[:3]) or "-",
                                     len(unexplained)))
    problems += ["leaked block %#x (from %s) has no reference and is not reported as a definite leak" % (a, truth)
                 for a in unexplained]
for p in problems[:20]:
    print("  " + p)
if problems:
    print("FAILED: %d problems" % len(problems))
    sys.exit(1)
print("ok")
