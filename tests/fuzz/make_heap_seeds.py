#!/usr/bin/env python3
"""Writes the fuzz_heap seed corpus (format: fuzz_heap.cpp's header) to tests/fuzz/seeds-heap.

Deterministic: one unpatched input per core, then per core a few inputs that each aim at one
region (heap chunk headers, allocator data, anonymous heads, notes) with one kind of patch.
"""
import os
import random
import struct
import sys

CORES = ["census", "census_je", "objects"]
# region selector values (fuzz_heap.cpp: sel % 16 < 6 heap, < 10 allocator data, < 13 anon, < 15 notes)
REGIONS = {"heap": 0, "allocdata": 6, "anon": 10, "notes": 13, "file": 15}
# op = width bits (0..3) | unaligned (4) | operation << 3 (0 set, 1 xor, 2 add, 3 boundary, 4 copy)
OPS = {"set8": 3, "xor1": 0 | 1 << 3, "add8": 3 | 2 << 3, "bound8": 3 | 3 << 3, "copy8": 3 | 4 << 3,
       "bound4": 2 | 3 << 3}

# Kept small: every seed is a whole analysis, and the smoke test replays them all.
WANTED = {"heap": ("set8", "add8", "bound8", "copy8"), "allocdata": ("xor1", "bound8", "copy8"),
          "anon": ("bound8",), "notes": ("xor1",), "file": ()}


def record(region, op, offset, value):
    return struct.pack("<BBIQ", region, op, offset, value)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "seeds-heap")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(16)
    for ci, core in enumerate(CORES):
        with open(os.path.join(out, f"{core}-pristine"), "wb") as f:
            f.write(bytes([ci]))
        for rname, sel in REGIONS.items():
            for oname, op in OPS.items():
                if oname not in WANTED[rname]:
                    continue
                n = 1 if oname != "xor1" else 4
                recs = b"".join(record(sel, op, rng.getrandbits(32), rng.getrandbits(64)) for _ in range(n))
                with open(os.path.join(out, f"{core}-{rname}-{oname}"), "wb") as f:
                    f.write(bytes([ci]) + recs)


if __name__ == "__main__":
    main()
