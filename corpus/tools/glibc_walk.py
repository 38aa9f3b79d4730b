"""glibc_walk.py - find glibc malloc's bins in a core file without symbols.

Used by check_core.py as a second, symbol-free opinion next to gdb's walk
(gdb_check.py needs libc debug symbols for `main_arena` and `tcache`).
Works on any core for which check_core.Core can read the memory.

Layout assumptions (x86-64, glibc 2.30 .. 2.41; checked with `ptype/o` on
the debug info of Debian's 2.31, 2.36 and 2.41):

  struct malloc_state         size 0x898
    +0x000 mutex (int), +0x004 flags, +0x008 have_fastchunks
    +0x010 fastbinsY[10]      +0x060 top          +0x068 last_remainder
    +0x070 bins[254]          +0x860 binmap[4]    +0x870 next
    +0x878 next_free          +0x880 attached_threads
    +0x888 system_mem         +0x890 max_system_mem
  struct tcache_perthread_struct   size 0x280 (chunk 0x290)
    +0x000 uint16_t counts[64]       +0x080 tcache_entry *entries[64]
  tcache_entry: +0 next (mangled from 2.32 on), +8 key
  heap_info (non-main arena heaps, 64 MiB aligned): +0 ar_ptr

How the roots are found:
  main_arena  scan libc's writable data for a malloc_state whose `next`
              ring closes on itself and whose members all look like arenas
              (top inside a dumped segment, empty bins pointing at
              themselves, system_mem a page multiple); the ring member
              inside libc's file mapping is main_arena.  When the caller
              knows non-main arena addresses (census records them from
              heap_info->ar_ptr) they must all be in that ring.
  tcache      the TLS variable `tcache` (pointer to the thread's
              tcache_perthread_struct) sits at the same offset below
              fs_base in every thread; candidates are words in the 8 KiB
              below each thread's fs_base that point to a 0x290 chunk; the
              offset common to all threads that have a tcache wins.
"""
import struct

ARENA_SIZE = 0x898
OFF_FASTBINS, OFF_TOP, OFF_BINS = 0x10, 0x60, 0x70
OFF_NEXT, OFF_SYSTEM_MEM, OFF_MAX_SYSTEM_MEM = 0x870, 0x888, 0x890
NFASTBINS, NBINS = 10, 128
TCACHE_CHUNK = 0x290
TCACHE_BINS = 64
TLS_SCAN = 0x2000
MAX_WALK = 100000
MAX_ARENAS = 64


def hexs(v):
    return None if v is None else "0x%x" % v


def glibc_tuple(text):
    try:
        return tuple(int(x) for x in str(text).split(".")[:2])
    except ValueError:
        return (2, 36)


class Walker:
    def __init__(self, core, glibc_version):
        self.c = core
        self.safe_link = glibc_tuple(glibc_version) >= (2, 32)
        self.failures = []
        self.where = {}  # chunk -> (kind, index, owner)
        self.notes = []

    # ---- memory helpers ------------------------------------------------
    def r64(self, addr):
        return self.c.read64(addr)

    def mapped(self, addr):
        return addr is not None and self.c.read(addr, 8) is not None

    def reveal(self, pos, val):
        return ((pos >> 12) ^ val) if self.safe_link else val

    def bin_at(self, arena, i):
        return arena + OFF_BINS + (i - 1) * 16 - 16

    # ---- main_arena ---------------------------------------------------
    def libc_ranges(self):
        """Address ranges of libc's file mappings (+ the anonymous segment
        right after them: libc's .bss)."""
        import os
        rng = [(s, e) for s, e, _pg, p in self.c.files
               if os.path.basename(p).startswith(("libc.so", "libc-"))]
        if rng:
            last = max(e for _s, e in rng)
            for seg in self.c.segs:
                if seg[0] == last:
                    rng.append((seg[0], seg[0] + seg[1]))
        return rng

    def looks_like_arena(self, a):
        sm, mx = self.r64(a + OFF_SYSTEM_MEM), self.r64(a + OFF_MAX_SYSTEM_MEM)
        top = self.r64(a + OFF_TOP)
        if sm is None or mx is None or top is None:
            return False
        if sm == 0 or sm % 4096 or mx < sm or sm >= 1 << 46:
            return False
        if not self.mapped(top):
            return False
        empty = 0
        for i in range(1, NBINS - 1):
            b = self.bin_at(a, i)
            fd, bk = self.r64(b + 16), self.r64(b + 24)
            if fd is None or bk is None:
                return False
            if fd == b and bk == b:
                empty += 1
            elif not (self.mapped(fd) and self.mapped(bk)):
                return False
        return empty >= NBINS // 2

    def ring(self, a):
        """The arena ring through `next`, or None if a is not in one."""
        seen = []
        p = a
        while len(seen) < MAX_ARENAS:
            if p in seen or not self.looks_like_arena(p):
                return None
            seen.append(p)
            p = self.r64(p + OFF_NEXT)
            if p == a:
                return seen
        return None

    def find_main_arena(self, known_arenas=()):
        libc = self.libc_ranges()
        in_libc = lambda x: any(s <= x < e for s, e in libc)
        found = []
        for s, e in libc:
            for seg in self.c.segs:
                lo, hi = max(s, seg[0]), min(e, seg[0] + seg[3])
                if lo >= hi or not (seg[4] & 2):  # dumped and writable
                    continue
                off = seg[2] + lo - seg[0]
                words = memoryview(self.c.data[off:off + ((hi - lo) & ~7)]).cast("Q")
                for k, w in enumerate(words):
                    x = lo + 8 * k - OFF_NEXT
                    # next points to itself (one arena) or to another arena
                    if w == x or (w and w % 16 == 0 and not in_libc(w) and self.mapped(w)):
                        if x not in found and self.mapped(x) and self.ring(x):
                            found.append(x)
        mains = sorted({m for x in found for m in self.ring(x) if in_libc(m)})
        res = {"method": "libc data scan for a closed malloc_state ring",
               "candidates": [hexs(m) for m in mains]}
        if len(mains) != 1:
            self.failures.append("main_arena: %d candidates in libc data %s"
                                 % (len(mains), res["candidates"]))
            return None, res
        main = mains[0]
        members = self.ring(main)
        res["arenas"] = [hexs(m) for m in members]
        for k in known_arenas:
            if k not in members:
                self.failures.append("arena 0x%x (from heap_info->ar_ptr) not in the ring of "
                                     "main_arena 0x%x" % (k, main))
        return main, res

    # ---- walking ----------------------------------------------------------
    def note(self, chunk, kind, index, owner):
        if chunk in self.where:
            self.failures.append("chunk 0x%x found twice (%s and %s)"
                                 % (chunk, self.where[chunk], (kind, index, owner)))
        self.where[chunk] = (kind, index, owner)

    def walk_arena(self, a):
        for i in range(NFASTBINS):
            p = self.r64(a + OFF_FASTBINS + 8 * i)
            n = 0
            while p and n < MAX_WALK:
                sz = self.r64(p + 8)
                if sz is None:
                    self.failures.append("arena 0x%x fastbin %d: chunk 0x%x unreadable" % (a, i, p))
                    break
                if (sz & ~7) // 16 - 2 != i:
                    self.failures.append("arena 0x%x fastbin %d: chunk 0x%x has size 0x%x"
                                         % (a, i, p, sz))
                self.note(p, "fastbin", i, a)
                p = self.reveal(p + 16, self.r64(p + 16))
                n += 1
        for i in range(1, NBINS - 1):
            head = self.bin_at(a, i)
            kind = "unsorted" if i == 1 else ("smallbin" if i < 64 else "largebin")
            prev, p, n = head, self.r64(head + 16), 0
            while p is not None and p != head and n < MAX_WALK:
                if self.r64(p + 24) != prev:
                    self.failures.append("arena 0x%x bin %d: chunk 0x%x bk 0x%x, expected 0x%x"
                                         % (a, i, p, self.r64(p + 24) or 0, prev))
                self.note(p, kind, i, a)
                prev, p = p, self.r64(p + 16)
                n += 1
            if p is None:
                self.failures.append("arena 0x%x bin %d: list leaves the core" % (a, i))
        return {"address": hexs(a), "top": hexs(self.r64(a + OFF_TOP)),
                "system_mem": self.r64(a + OFF_SYSTEM_MEM)}

    def tcache_candidates(self, fs_base):
        out = {}
        for addr in range(fs_base - TLS_SCAN, fs_base, 8):
            w = self.r64(addr)
            if not w or w % 16:
                continue
            sz = self.r64(w - 8)
            if sz is not None and sz & ~7 == TCACHE_CHUNK and sz & 2 == 0:
                out[fs_base - addr] = w
        return out

    def find_tcaches(self):
        per = {}
        for th in self.c.threads:
            fs = th["regs"].get("fs_base")
            if fs:
                per[th["tid"]] = self.tcache_candidates(fs)
        offsets = None
        for cands in per.values():
            if cands:
                offsets = set(cands) if offsets is None else offsets & set(cands)
        if not offsets or len(offsets) != 1:
            self.failures.append("tcache: no single TLS offset (%s)"
                                 % sorted(hex(o) for o in (offsets or ())))
            return None, {}
        off = offsets.pop()
        return off, {tid: c.get(off) for tid, c in per.items()}

    def walk_tcache(self, tid, tc):
        counts = []
        for i in range(TCACHE_BINS):
            raw = self.c.read(tc + 2 * i, 2)
            cnt = struct.unpack("<H", raw)[0] if raw else None
            e = self.r64(tc + 128 + 8 * i)
            n = 0
            while e and n < MAX_WALK:
                sz = self.r64(e - 8)
                if sz is None:
                    self.failures.append("tcache of LWP %d bin %d: entry 0x%x unreadable" % (tid, i, e))
                    break
                if ((sz & ~7) - 17) // 16 != i:
                    self.failures.append("tcache of LWP %d bin %d: chunk size 0x%x" % (tid, i, sz))
                self.note(e - 16, "tcache", i, tid)
                e = self.reveal(e, self.r64(e))
                n += 1
            if cnt != n:
                self.failures.append("tcache of LWP %d bin %d: count %s but %d entries"
                                     % (tid, i, cnt, n))
            counts.append(n)
        return {"tid": tid, "tcache": hexs(tc), "entries": sum(counts)}

    def run(self, known_arenas=()):
        main, info = self.find_main_arena(known_arenas)
        res = {"main_arena": hexs(main), "main_arena_search": info,
               "arenas": [], "tcaches": []}
        if main is not None:
            for a in self.ring(main):
                res["arenas"].append(self.walk_arena(a))
        off, tcs = self.find_tcaches()
        res["tcache_tls_offset"] = None if off is None else -off
        for tid, tc in sorted(tcs.items()):
            if tc:
                res["tcaches"].append(self.walk_tcache(tid, tc))
            else:
                res["tcaches"].append({"tid": tid, "tcache": None, "entries": 0})
        return res
