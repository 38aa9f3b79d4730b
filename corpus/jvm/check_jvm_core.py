#!/usr/bin/env python3
"""Checks a ZipAgentLoad kernel core against its truth, from raw core memory only (no
coresift, no symbols), so the tests' expectations do not rest on the tool under test.

usage: check_jvm_core.py CORE TRUTH.json   (exit 0 = consistent, 1 = not; prints a summary)

* every recorded z_stream is readable and its `state` (z_stream +0x38, LP64 zlib ABI) points
  to a state whose first word points back to it (deflate_state/inflate_state `strm`);
* an inflater has a window exactly when the truth says so (inflate_state +0x48, zlib 1.2.x
  and 1.3 layout);
* with jdwp, exactly N 16-byte aligned strings "Lgen/C####;\\0" with a glibc chunk header
  of size 0x20 (or 0x30: malloc leaves no remainder under 0x20) in front (the
  class-tracking signatures), without jdwp none; with NMT (-XX:NativeMemoryTracking) the
  string follows HotSpot's 16-byte header in a 0x30 (0x40) chunk, and each is the tag of
  exactly one tag-map entry (written to NAME.refs.json for the tests).
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


def tag_entries(core, signatures, errors):
    """The JVMTI tag-map entry holding each signature: with NMT, jdwp's tag (the signature's
    payload address) is the word at +0x18 of an entry that is itself an NMT block's payload
    (NMT payload size word at entry - 16, canary at entry - 2).  Exactly one per signature."""
    wanted = set(signatures)
    found = {}
    for va, off, size in core.segs:
        start = (8 - va % 8) % 8
        words = memoryview(core.m)[off + start: off + start + (size - start) // 8 * 8].cast('Q')
        for k, w in enumerate(words):
            if w in wanted:
                entry = va + start + 8 * k - 0x18
                marks = core.word(entry - 8)
                if marks is not None and marks >> 48 == 0xE99E and (core.word(entry - 16) or 0) >= 0x20:
                    found.setdefault(w, []).append(entry)
        words.release()
    for a in signatures:
        if len(found.get(a, [])) != 1:
            errors.append('signature %#x: %d tag-map entries' % (a, len(found.get(a, []))))
    return sorted(e for a in signatures for e in found.get(a, [])[:1])


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

    # With NMT the string follows HotSpot's 16-byte malloc header (payload size 12, canary
    # 0xE99E in its last two bytes), itself after glibc's: a 0x30 chunk, or 0x40 when malloc
    # hands out a whole free chunk rather than leave a remainder under its 0x20 minimum.
    def chunk_fits(header, need):
        return header is not None and need <= header & ~7 < need + 0x20

    nmt = any(f.startswith('-XX:NativeMemoryTracking=') for f in truth['jvm_flags'])
    signatures = []
    for addr in core.aligned_strings(re.compile(rb'Lgen/C\d{4};\0')):
        if nmt:
            size, marks = core.word(addr - 16), core.word(addr - 8)
            if chunk_fits(core.word(addr - 24), 0x30) and size == 12 and marks >> 48 == 0xE99E:
                signatures.append(addr)
        elif chunk_fits(core.word(addr - 8), 0x20):
            signatures.append(addr)
    expected = truth['classes']['count'] if truth['jdwp'] else 0
    if len(signatures) != expected:
        errors.append('class signature chunks: %d, expected %d' % (len(signatures), expected))
    if nmt:
        entries = tag_entries(core, signatures, errors)
        # For the tests: where the signatures and the tag-map entries holding them are.
        with open(sys.argv[2].replace('.truth.json', '.refs.json'), 'w') as f:
            json.dump({'signatures': ['%#x' % a for a in signatures], 'tag_entries': ['%#x' % a for a in entries]}, f)

    print('%s: %d deflaters, %d inflaters (%d with window), %d class signature chunks%s' % (
        sys.argv[1], len(truth['deflaters']['z_streams']), len(truth['inflaters']['streams']), windows,
        len(signatures), '' if not errors else ': ' + '; '.join(errors[:5])))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
