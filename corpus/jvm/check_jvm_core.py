#!/usr/bin/env python3
"""Checks a ZipAgentLoad kernel core against its truth, from raw core memory only (no
coresift, no symbols), so the tests' expectations do not rest on the tool under test.

usage: check_jvm_core.py CORE TRUTH.json   (exit 0 = consistent, 1 = not; prints a summary)

* every recorded z_stream is readable and its `state` (z_stream +0x38, LP64 zlib ABI) points
  to a state whose first word points back to it (deflate_state/inflate_state `strm`);
* an inflater has a window exactly when the truth says so (inflate_state +0x48, zlib 1.2.x
  and 1.3 layout);
* with jdwp, exactly N 16-byte aligned strings "Lgen/C####;\\0" with a glibc chunk header
  of size 0x20 in front (the class-tracking signatures), without jdwp none.
"""
import json
import mmap
import re
import struct
import sys


class Core:
    def __init__(self, path):
        self.file = open(path, 'rb')
        self.m = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        phoff, = struct.unpack_from('<Q', self.m, 0x20)
        phnum, = struct.unpack_from('<H', self.m, 0x38)
        self.segs = []  # (vaddr, file offset, bytes in file)
        for i in range(phnum):
            p_type, _, off, va, _, filesz, _, _ = struct.unpack_from('<IIQQQQQQ', self.m, phoff + 56 * i)
            if p_type == 1 and filesz:
                self.segs.append((va, off, filesz))

    def word(self, addr):
        for va, off, size in self.segs:
            if va <= addr and addr + 8 <= va + size:
                return struct.unpack_from('<Q', self.m, off + addr - va)[0]
        return None

    def aligned_strings(self, pattern):
        """Virtual addresses of matches of `pattern` that start 16-byte aligned."""
        hits = []
        for va, off, size in self.segs:
            for m in pattern.finditer(self.m, off, off + size):
                addr = va + m.start() - off
                if addr % 16 == 0:
                    hits.append(addr)
        return hits


def main():
    core, truth = Core(sys.argv[1]), json.load(open(sys.argv[2]))
    errors = []

    def stream_state(z):
        state = core.word(z + 0x38)
        if state is None or core.word(state) != z:
            errors.append('z_stream %#x: no state pointing back' % z)
            return None
        return state

    for text in truth['deflaters']['z_streams']:
        stream_state(int(text, 16))
    windows = 0
    for s in truth['inflaters']['streams']:
        state = stream_state(int(s['z_stream'], 16))
        if state is None:
            continue
        has_window = core.word(state + 0x48) not in (0, None)
        windows += has_window
        if has_window != s['window']:
            errors.append('inflater %s: window %s, truth says %s' % (s['z_stream'], has_window, s['window']))
    if windows != truth['inflaters']['with_window']:
        errors.append('inflaters with window: %d, truth says %d' % (windows, truth['inflaters']['with_window']))

    signatures = 0
    for addr in core.aligned_strings(re.compile(rb'Lgen/C\d{4};\0')):
        header = core.word(addr - 8)
        if header is not None and header & ~7 == 0x20:
            signatures += 1
    expected = truth['classes']['count'] if truth['jdwp'] else 0
    if signatures != expected:
        errors.append('class signature chunks: %d, expected %d' % (signatures, expected))

    print('%s: %d deflaters, %d inflaters (%d with window), %d class signature chunks%s' % (
        sys.argv[1], len(truth['deflaters']['z_streams']), len(truth['inflaters']['streams']), windows,
        signatures, '' if not errors else ': ' + '; '.join(errors[:5])))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
