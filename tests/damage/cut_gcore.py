#!/usr/bin/env python3
"""A gcore core cut anywhere after its heap still answers from what is present.

gcore writes memory in address order and its notes last, so cutting the file loses, in turn,
the notes, the stack, libc's data (main_arena, mp_), the arena heaps. Each cut of
corpus/cores/census.gcore (12 places from just after the [heap] segment to inside the notes)
is run through `chunks`, `threads` and `leaks` (--json) and checked against the census program's
own truth:

  * every allocation whose chunk bytes are still in the file is reported at its address, in
    its true state (live or free; no live-or-cached left on this core);
  * threads are listed when their NT_PRSTATUS notes survive the cut;
  * every true leak still present is reported leaked; a chunk reported leaked that the
    program still referenced needs the warning that root memory is absent;
  * some warning says the core is cut.

usage: cut_gcore.py CORESIFT SOURCE_DIR      (exit 77: skipped, no zstd)"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

PT_LOAD, PT_NOTE, NT_PRSTATUS = 1, 4, 1


def phdrs(path):
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
        f.seek(phoff)
        raw = f.read(phentsize * phnum)
    out = []
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", raw, i * phentsize)
        out.append({"type": p_type, "offset": off, "vaddr": vaddr, "filesz": filesz, "memsz": memsz})
    return out


def notes(path, note):
    """(type, file offset of the note's end) of each note in the PT_NOTE segment, as far as the
    file holds it."""
    with open(path, "rb") as f:
        f.seek(note["offset"])
        data = f.read(note["filesz"])
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
        yield ntype, note["offset"] + pos


def prstatus_notes_before(path, note, cut):
    """NT_PRSTATUS notes wholly inside the first `cut` bytes."""
    return sum(1 for ntype, end in notes(path, note) if end <= cut and ntype == NT_PRSTATUS)


def first_prstatus_end(path, note):
    return next((end for ntype, end in notes(path, note) if ntype == NT_PRSTATUS), note["offset"])


def present(loads, cut, lo, hi):
    for s in loads:
        if s["vaddr"] <= lo and hi <= s["vaddr"] + s["memsz"]:
            return hi - s["vaddr"] <= s["filesz"] and s["offset"] + (hi - s["vaddr"]) <= cut
    return False


def run(coresift, src, cmd, core):
    argv = [coresift, cmd, "--json", "--module-dir", os.path.join(src, "corpus", "cores", "bin"), core]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def main():
    coresift, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not shutil.which("zstd"):
        print("SKIPPED: no zstd to decompress the corpus core")
        return 77
    cores = os.path.join(src, "corpus", "cores")
    truth = json.load(open(os.path.join(cores, "census.gcore.truth.json")))
    tmp = tempfile.mkdtemp(prefix="cut_gcore.")
    try:
        core = os.path.join(tmp, "census.gcore")
        subprocess.run(["zstd", "-q", "-d", "-o", core, os.path.join(cores, "census.gcore.core.zst")], check=True)
        size = os.path.getsize(core)
        ph = phdrs(core)
        loads = [p for p in ph if p["type"] == PT_LOAD]
        note = next(p for p in ph if p["type"] == PT_NOTE)
        heap_lo = int(truth["dumps"][0]["start"], 16)
        heap = next(s for s in loads if s["vaddr"] <= heap_lo < s["vaddr"] + s["memsz"])
        after_heap = heap["offset"] + heap["filesz"]
        main_arena = int(truth["main_arena"], 16)
        libc_data = next(s for s in loads if s["vaddr"] <= main_arena < s["vaddr"] + s["memsz"])
        cuts = {after_heap, libc_data["offset"], libc_data["offset"] + libc_data["filesz"],
                note["offset"] + note["filesz"] // 2, size - 200000, size - 1}
        for s in loads:  # the end of each arena heap's bytes
            if s["vaddr"] % (64 << 20) == 0 and s["offset"] > after_heap:
                cuts.add(s["offset"] + s["filesz"])
        cuts.add(first_prstatus_end(core, note))  # one thread's registers survive, not the others'
        for k in range(1, 6):
            cuts.add(after_heap + (note["offset"] - after_heap) * k // 6)
        cuts = sorted(c for c in cuts if after_heap <= c < size)
        # gcore puts section headers after the notes: a cut there loses nothing coresift reads.
        data_end = max(p["offset"] + p["filesz"] for p in ph)

        failures = []
        allocs = truth["allocations"]
        # Largest first: each cut truncates the same file a little further.
        for cut in reversed(cuts):
            os.truncate(core, cut)
            where = "cut at %#x (%.1f%%)" % (cut, 100.0 * cut / size)
            bad = []
            rc, chunks, err = run(coresift, src, "chunks", core)
            if rc not in (0, 3) or chunks is None:
                failures.append("%s: chunks exited %d: %s" % (where, rc, err[-300:]))
                continue
            if cut < data_end and "truncated" not in err and "cut" not in err:
                bad.append("no warning that the core is cut")
            got = {int(c["address"], 16): c for c in chunks["chunks"]}
            checked = 0
            for a in allocs:
                if a["state"] not in ("live", "free") or a.get("bin") == "unmapped":
                    continue
                ch = int(a["chunk"], 16)
                if not present(loads, cut, ch, ch + a["chunk_size"]):
                    continue
                checked += 1
                g = got.get(int(a["addr"], 16))
                if g is None:
                    bad.append("%s (%s) not reported" % (a["addr"], a["state"]))
                elif g["state"] != a["state"]:
                    bad.append("%s: %s, reported %s" % (a["addr"], a["state"], g["state"]))
            notes_left = prstatus_notes_before(core, note, cut)
            rc, threads, err = run(coresift, src, "threads", core)
            nthreads = len(threads["threads"]) if threads else 0
            if notes_left and nthreads < notes_left:
                bad.append("%d thread notes survive, %d threads reported" % (notes_left, nthreads))
            rc, leaks, err = run(coresift, src, "leaks", core)
            if leaks is None:
                bad.append("leaks exited %d" % rc)
            else:
                leaked = {int(l["address"], 16) for l in leaks["leaks"]}
                for a in allocs:
                    ch = int(a["chunk"], 16)
                    if a["reach"] in ("definite", "indirect") and present(loads, cut, ch, ch + a["chunk_size"]) \
                            and int(a["addr"], 16) not in leaked:
                        bad.append("true leak %s not reported" % a["addr"])
                live = {int(a["addr"], 16) for a in allocs if a["reach"] not in (None, "definite", "indirect")}
                false_leaks = len(leaked & live)
                if false_leaks and "may hold roots" not in err:
                    bad.append("%d referenced chunks reported leaked without the absent-roots warning" % false_leaks)
            print("%s: %d chunks checked against the truth, %d threads (%d notes), %d leaks%s" %
                  (where, checked, nthreads, notes_left, len(leaks["leaks"]) if leaks else -1,
                   "" if not bad else ": " + "; ".join(bad[:5])))
            failures += ["%s: %s" % (where, b) for b in bad]
        if failures:
            print("FAILED: %d problems" % len(failures))
            return 1
        print("all %d cuts answer from what is present" % len(cuts))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
