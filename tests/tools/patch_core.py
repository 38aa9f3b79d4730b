#!/usr/bin/env python3
"""Copy an ELF core and damage it, for reproducing walker bugs by hand.

  patch_core.py IN OUT [--set VADDR=VALUE]... [--load-field VADDR:FIELD=VALUE]...

IN may be zstd-compressed (decompressed with the zstd tool). --set writes a 64-bit
little-endian VALUE at the virtual address VADDR (mapped to a file offset through the
PT_LOAD that holds it; the byte must be in the file). --load-field changes a field
(vaddr, filesz, memsz, offset, flags) of the PT_LOAD holding VADDR: filesz=0 is what the
kernel writes for a mapping that coredump_filter excludes. Numbers take 0x prefixes.
"""
import argparse
import struct
import subprocess
import sys

FIELDS = {"flags": (0x04, "<I"), "offset": (0x08, "<Q"), "vaddr": (0x10, "<Q"), "filesz": (0x20, "<Q"),
          "memsz": (0x28, "<Q")}


def loads(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit("not an ELF64 file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ph = phoff + i * phentsize
        if ph + 0x38 > len(data):
            sys.exit(f"program header {i} lies past the end of the file")
        p_type, = struct.unpack_from("<I", data, ph)
        if p_type != 1:
            continue
        off, vaddr = struct.unpack_from("<QQ", data, ph + 0x08)
        filesz, memsz = struct.unpack_from("<QQ", data, ph + 0x20)
        yield ph, off, vaddr, filesz, memsz


def load_at(data, addr):
    for load in loads(data):
        if load[2] <= addr < load[2] + load[4]:
            return load
    sys.exit(f"no PT_LOAD holds {addr:#x}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--set", action="append", default=[], metavar="VADDR=VALUE")
    ap.add_argument("--load-field", action="append", default=[], metavar="VADDR:FIELD=VALUE")
    a = ap.parse_args()
    with open(a.input, "rb") as f:
        data = f.read()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc", a.input], check=True, capture_output=True).stdout
    data = bytearray(data)
    for s in a.set:  # memory first: file offsets are those of the original headers
        addr, value = (int(x, 0) for x in s.split("="))
        _, off, vaddr, filesz, _ = load_at(data, addr)
        if addr + 8 > vaddr + filesz:
            sys.exit(f"{addr:#x} is not in the file (PT_LOAD {vaddr:#x} has {filesz:#x} file bytes)")
        struct.pack_into("<Q", data, off + addr - vaddr, value & (2**64 - 1))
    for s in a.load_field:
        where, value = s.split("=")
        addr, field = where.split(":")
        ph = load_at(data, int(addr, 0))[0]
        off, fmt = FIELDS[field]
        struct.pack_into(fmt, data, ph + off, int(value, 0))
    with open(a.output, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
