#!/usr/bin/env python3
"""Independent check of `leaks`: which definite leaks does some word of the core point at?

usage: check_leak_refs.py CORE CHUNKS.json LEAKS.json [MAPS.json]
  CHUNKS.json: `coresift chunks --json CORE` (only used to know which chunks are free)
  LEAKS.json:  `coresift leaks --json CORE`
  MAPS.json:   `coresift maps --json CORE`, to name the mappings holding referring words

Every 8-aligned word of every PT_LOAD segment (file bytes only) that lies outside the free
chunks is looked at; a definite leak counts as referenced when such a word points into
[address, address + size) and the word is not inside the leak itself, nor equal to a glibc
chunk's header (address - 16: bins, top and free chunks' fd/bk point there, and stale copies
stay in reused chunks; it lies in the last 8 bytes of the chunk before it) unless that chunk
is live and the leak is a 24-byte chunk (with NMT, 16 bytes in is such a block's payload).  Words inside other
leaked chunks (definite/indirect/possible) are counted apart: a leak referenced only by
other leaks is still a leak.  Prints one summary line, then (with MAPS.json) how many
referenced leaks each mapping holds a referring word for, and a few examples.
Exit 0 always (it measures).
"""
import bisect
import json
import mmap
import struct
import sys


def segments(m):
    phoff, = struct.unpack_from('<Q', m, 0x20)
    phnum, = struct.unpack_from('<H', m, 0x38)
    for i in range(phnum):
        p_type, flags, off, va, _, filesz, memsz, _ = struct.unpack_from('<IIQQQQQQ', m, phoff + 56 * i)
        if p_type == 1 and filesz:
            yield va, off, filesz, flags


class Ranges:
    """Sorted disjoint [lo, hi) ranges with a tag; find(a) → tag or None."""

    def __init__(self, items):
        items.sort()
        self.lo = [a for a, _, _ in items]
        self.items = items

    def find(self, a):
        i = bisect.bisect_right(self.lo, a) - 1
        if i >= 0 and a < self.items[i][1]:
            return self.items[i][2]
        return None


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    core, chunks_path, leaks_path = sys.argv[1:4]
    chunks = json.load(open(chunks_path))['chunks']
    leaks = json.load(open(leaks_path))['leaks']
    free = Ranges([(int(c['address'], 16), int(c['address'], 16) + c['size'], 1)
                   for c in chunks if c['state'] == 'free'])
    leaked = Ranges([(int(l['address'], 16), int(l['address'], 16) + l['size'], l)
                     for l in leaks])
    definite = Ranges([(int(l['address'], 16), int(l['address'], 16) + l['size'], l)
                       for l in leaks if l['kind'] == 'definite'])
    glibc_state = {int(c['address'], 16): c['state'] for c in chunks if c.get('allocator') == 'glibc'}

    def header_word(w, target):
        state = glibc_state.get(w + 16)
        if state is None:
            return False
        return not (state != 'free' and target['size'] == 24)

    if not definite.items:
        print('definite leaks: 0')
        return 0
    lo_all, hi_all = definite.items[0][0], definite.items[-1][1]
    by_root = {}   # leak address → referring word address outside any leak
    by_leak = {}   # leak address → referring word address inside another leak
    by_value = {}  # leak address → the value of its first referring word
    with open(core, 'rb') as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        for va, off, filesz, _ in segments(m):
            start = (8 - va % 8) % 8
            n = (filesz - start) // 8
            words = memoryview(m)[off + start: off + start + 8 * n].cast('Q')
            for k, w in enumerate(words):
                if w < lo_all or w >= hi_all:
                    continue
                target = definite.find(w)
                if target is None:
                    continue
                at = va + start + 8 * k
                t = int(target['address'], 16)
                if t <= at < t + target['size'] or free.find(at) or header_word(w, target):
                    continue
                holder = leaked.find(at)
                if t not in (by_leak if holder else by_root):
                    (by_leak if holder else by_root)[t] = at
                    by_value.setdefault(t, w)
            words.release()
    n_def = len(definite.items)
    only_leaks = set(by_leak) - set(by_root)
    print(f'definite leaks: {n_def}; referenced from outside leaked and free chunks: {len(by_root)}; '
          f'referenced only from other leaked chunks: {len(only_leaks)}')
    if len(sys.argv) > 4:
        maps = Ranges([(int(x['start'], 16), int(x['end'], 16),
                        f"{x['start']} {x['perms']} {x['path'] or x['label'] or '[anon]'}")
                       for x in json.load(open(sys.argv[4]))['mappings']])
        per_map = {}
        for t, at in by_root.items():
            per_map.setdefault(maps.find(at) or '?', []).append((t, at))
        for name, refs in sorted(per_map.items(), key=lambda kv: -len(kv[1])):
            t, at = refs[0]
            print(f'  {len(refs):6d}  {name}   e.g. leak {t:#x} <- word at {at:#x} (= leak + {0:#x})'
                  .replace('(= leak + 0x0)', f'(points at leak + {by_value[t] - t:#x})'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
