"""Small pure-Python readers shared by the check_*.py scripts: an x86-64 ELF core's memory
(PT_LOAD, else the mapped file named by NT_FILE), its threads' registers (NT_PRSTATUS), and
coresift's output."""
import json
import mmap
import struct
import subprocess
import sys

SKIP = 77


class Core:
    def __init__(self, path):
        self.f = open(path, "rb")
        self.data = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ)
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or struct.unpack_from("<H", d, 16)[0] != 4:
            raise SystemExit("%s: not a 64-bit ELF core" % path)
        phoff, = struct.unpack_from("<Q", d, 32)
        phentsize, phnum = struct.unpack_from("<HH", d, 54)
        self.loads = []      # (vaddr, filesz, memsz, offset, flags)
        self.notes = []      # (type, desc bytes)
        for i in range(phnum):
            p_type, p_flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
            if p_type == 1:
                self.loads.append((vaddr, filesz, memsz, off, p_flags))
            elif p_type == 4:
                self._read_notes(off, filesz)
        self.loads.sort()
        self.files = self._file_mappings()
        self._opened = {}

    def _file_mappings(self):
        """[(start, end, file offset, path)] from NT_FILE: gcore leaves out unmodified
        read-only file pages (.rodata, code), which are then read from the file itself."""
        for ntype, desc in self.notes:
            if ntype == 0x46494C45 and len(desc) >= 16:
                count, page = struct.unpack_from("<QQ", desc, 0)
                names = desc[16 + 24 * count:].split(b"\0")
                out = []
                for i in range(min(count, len(names))):
                    start, end, pgoff = struct.unpack_from("<QQQ", desc, 16 + 24 * i)
                    out.append((start, end, pgoff * page, names[i].decode("utf-8", "replace")))
                return out
        return []

    def _read_file(self, addr, size):
        for start, end, off, path in self.files:
            if start <= addr and addr + size <= end:
                try:
                    f = self._opened.get(path) or self._opened.setdefault(path, open(path, "rb"))
                except OSError:
                    return None
                f.seek(off + addr - start)
                b = f.read(size)
                return b if len(b) == size else None
        return None

    def _read_notes(self, off, size):
        pos, end = off, off + size
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", self.data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            self.notes.append((ntype, bytes(self.data[desc:desc + descsz])))
            pos = desc + ((descsz + 3) & ~3)

    def segment(self, addr):
        for vaddr, filesz, memsz, off, flags in self.loads:
            if vaddr <= addr < vaddr + memsz:
                return vaddr, filesz, memsz, off
        return None

    def read(self, addr, size):
        seg = self.segment(addr)
        if not seg or addr + size > seg[0] + seg[1]:
            return self._read_file(addr, size)
        start = seg[3] + addr - seg[0]
        return bytes(self.data[start:start + size])

    def u64(self, addr):
        b = self.read(addr, 8)
        return None if b is None else struct.unpack("<Q", b)[0]

    def cstring(self, addr, limit=4096):
        b = self.read(addr, 1)
        out = bytearray()
        while b is not None and b != b"\0" and len(out) < limit:
            out += b
            addr += 1
            b = self.read(addr, 1)
        return bytes(out) if b == b"\0" else None

    def thread_registers(self):
        """[(tid, [27 general registers of user_regs_struct])] from NT_PRSTATUS."""
        out = []
        for ntype, desc in self.notes:
            if ntype == 1 and len(desc) >= 112 + 27 * 8:
                tid, = struct.unpack_from("<I", desc, 32)
                out.append((tid, list(struct.unpack_from("<27Q", desc, 112))))
        return out


RSP = 19  # index of rsp in user_regs_struct


def coresift_json(coresift, *args):
    r = subprocess.run([coresift, *args, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("coresift %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr[-2000:]))
    return json.loads(r.stdout)


def skip_if_not_made(outdir, name):
    """Exit 77 (ctest SKIPPED) when make-real-cores.sh could not make this core here."""
    import os
    skip = os.path.join(outdir, name + ".skip")
    if os.path.exists(skip):
        print("SKIPPED: %s core not made: %s" % (name, open(skip).read().strip()))
        sys.exit(SKIP)
    core = os.path.join(outdir, name + ".core")
    if not os.path.exists(core):
        raise SystemExit("%s missing: the real_cores fixture failed (see its output)" % core)
    return core
