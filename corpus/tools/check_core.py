#!/usr/bin/env python3
"""check_core.py - check a corpus core file against its truth JSON.

Pure Python (no gdb, no libraries): parses the ELF core itself, so it is an
independent second opinion next to gdb_check.py.

    check_core.py [--binary PATH] [--json OUT] TRUTH.json CORE[.zst]

Checks:
  * threads: the NT_PRSTATUS LWPs equal the truth tids
  * kernel cores with a crash: first NT_PRSTATUS is the crashing thread,
    pr_cursig and NT_SIGINFO si_signo/si_code/si_addr match
  * heap_checks: 8-byte words the truth says are in memory
  * census:
      - chunk size field (chunk+8) of every non-unmapped allocation equals
        chunk_size|flags; unmapped chunks are not in the core
      - the text tag of every live chunk is in place
      - reachability: every 8-byte aligned word of every dumped segment and
        every register is scanned for the user address of each live chunk;
        "static" must be referenced from the executable's data/bss,
        "stack" from the live part of its thread's stack (at or above rsp),
        "heap"/"indirect" only from inside their "parent" chunk,
        "definite" from nowhere
      - dumps listed in the truth (census.heap.bin ...) equal the core's
        bytes at the same addresses (when the dump file is found)
      - bins, without symbols (glibc_walk.py): main_arena from libc's data,
        every arena of its ring, every thread's tcache (TLS offset found by
        scan); each freed chunk must be in exactly one bin (unmapped ones in
        none), live chunks in none, tcache chunks in their own thread's
        tcache.  Where the chunk is ("observed") is compared with gdb's walk
        when --gdb-result gives one (must agree) and with the truth's
        glibc-2.36 model (differences are failures only on glibc 2.36)
  * census_je (jemalloc): addresses in the core, live tags, static roots,
    tcache stacks found as pointer arrays, the program's stats cross-check
    (see check_census_je below)
Exit status 0 when everything matches, 1 otherwise.
"""
import bisect
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glibc_walk  # noqa: E402

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_FILE, NT_SIGINFO = 1, 0x46494C45, 0x53494749
REGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
        "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
        "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"]
PAGE = 4096
ZERO_PAGE = bytes(PAGE)


def load_bytes(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


class Core:
    def __init__(self, data):
        self.data = data
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        e_type, = struct.unpack_from("<H", data, 16)
        if e_type != 4:
            raise ValueError("not an ELF core (e_type %d)" % e_type)
        phoff, = struct.unpack_from("<Q", data, 32)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
        self.segs = []
        self.threads = []
        self.siginfo = None
        self.files = []
        for i in range(phnum):
            (p_type, p_flags, p_offset, p_vaddr, _pa, p_filesz, p_memsz,
             _al) = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
            if p_type == PT_LOAD:
                self.segs.append((p_vaddr, p_memsz, p_offset, p_filesz, p_flags))
            elif p_type == PT_NOTE:
                self._notes(p_offset, p_filesz)
        self.segs.sort()
        self.seg_starts = [s[0] for s in self.segs]

    def _notes(self, off, size):
        end = off + size
        d = self.data
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", d, off)
            off += 12
            name = d[off:off + namesz].rstrip(b"\0")
            off += (namesz + 3) & ~3
            desc = d[off:off + descsz]
            off += (descsz + 3) & ~3
            if name != b"CORE":
                continue
            if ntype == NT_PRSTATUS:
                cursig, = struct.unpack_from("<h", desc, 12)
                pid, = struct.unpack_from("<i", desc, 32)
                regs = dict(zip(REGS, struct.unpack_from("<27Q", desc, 112)))
                self.threads.append({"tid": pid, "cursig": cursig, "regs": regs})
            elif ntype == NT_SIGINFO:
                signo, errno_, code = struct.unpack_from("<iii", desc, 0)
                addr, = struct.unpack_from("<Q", desc, 16)
                self.siginfo = {"signo": signo, "errno": errno_, "code": code, "addr": addr}
            elif ntype == NT_FILE:
                count, _pagesz = struct.unpack_from("<QQ", desc, 0)
                names = desc[16 + count * 24:].split(b"\0")
                for k in range(count):
                    s, e, pg = struct.unpack_from("<QQQ", desc, 16 + k * 24)
                    self.files.append((s, e, pg, names[k].decode(errors="replace")))

    def seg_of(self, addr):
        i = bisect.bisect_right(self.seg_starts, addr) - 1
        if i >= 0:
            s = self.segs[i]
            if s[0] <= addr < s[0] + s[1]:
                return s
        return None

    def read(self, addr, n):
        s = self.seg_of(addr)
        if s is None or addr + n > s[0] + s[3]:
            return None  # not mapped, or not written into the core
        off = s[2] + addr - s[0]
        return self.data[off:off + n]

    def read64(self, addr):
        b = self.read(addr, 8)
        return None if b is None else struct.unpack("<Q", b)[0]


class Checker:
    def __init__(self, truth, core, binary, truth_dir, gdb_result=None):
        self.gdb_result = gdb_result
        self.t = truth
        self.c = core
        self.binary = binary
        self.truth_dir = truth_dir
        self.failures = []
        self.info = {}

    def fail(self, msg):
        self.failures.append(msg)

    def check_threads(self):
        got = sorted(t["tid"] for t in self.c.threads)
        want = sorted(t["tid"] for t in self.t["threads"])
        self.info["core_tids"] = got
        if got != want:
            self.fail("threads: core LWPs %s, truth %s" % (got, want))

    def check_crash(self, kind):
        crash = self.t.get("crash")
        if kind != "kcore" or not crash:
            return
        first = self.c.threads[0] if self.c.threads else None
        if first is None or first["tid"] != crash["tid"]:
            self.fail("crash: first NT_PRSTATUS is %s, truth tid %d"
                      % (first and first["tid"], crash["tid"]))
        if first is not None and first["cursig"] != crash["signal"]:
            self.fail("crash: pr_cursig %d, truth %d" % (first["cursig"], crash["signal"]))
        si = self.c.siginfo
        if si is None:
            self.fail("crash: no NT_SIGINFO note")
            return
        self.info["siginfo"] = {k: (hex(v) if k == "addr" else v) for k, v in si.items()}
        if si["signo"] != crash["signal"]:
            self.fail("crash: si_signo %d, truth %d" % (si["signo"], crash["signal"]))
        if crash.get("si_code") is not None and si["code"] != crash["si_code"]:
            self.fail("crash: si_code %d, truth %d" % (si["code"], crash["si_code"]))
        if crash.get("fault_addr") is not None and si["addr"] != int(crash["fault_addr"], 16):
            self.fail("crash: si_addr 0x%x, truth %s" % (si["addr"], crash["fault_addr"]))

    def check_words(self):
        for hc in self.t.get("heap_checks", []):
            addr, want = int(hc["addr"], 16), int(hc["value"], 16)
            got = self.c.read64(addr)
            if got != want:
                self.fail("heap_check %s at %s: %s, truth %s"
                          % (hc.get("what"), hc["addr"], got and hex(got), hc["value"]))

    # ---- census ----------------------------------------------------------
    def check_headers(self):
        classes = {c["name"]: c for c in self.t["classes"]}
        for al in self.t["allocations"]:
            chunk = int(al["chunk"], 16)
            if al["bin"] == "unmapped":
                if self.c.read(chunk, 16) is not None:
                    self.fail("id %d: unmapped chunk %s is present in the core"
                              % (al["id"], al["chunk"]))
                continue
            field = self.c.read64(chunk + 8)
            want = al["chunk_size"] | al["flags"]
            if field != want:
                self.fail("id %d (%s): size field %s, truth 0x%x"
                          % (al["id"], al["class"], field and hex(field), want))
            if al["state"] == "live":
                ci = classes[al["class"]]
                tag = ("%s%d" % (ci["tag_prefix"], al["thread"] * 100 + al["index"])).encode()
                got = self.c.read(int(al["addr"], 16) + ci["tag_offset"], len(tag) + 1)
                if got != tag + b"\0":
                    self.fail("id %d (%s): tag %r, expected %r" % (al["id"], al["class"], got, tag))

    def exe_ranges(self):
        """File mappings of the executable plus the anonymous bss after it."""
        base = os.path.basename(self.binary) if self.binary else None
        rng = [(s, e) for s, e, _pg, p in self.c.files if base and os.path.basename(p) == base]
        if rng:
            last = max(e for _s, e in rng)
            for s in self.c.segs:
                if s[0] == last:
                    rng.append((s[0], s[0] + s[1]))
        return rng

    def check_reach(self):
        allocs = self.t["allocations"]
        live = {int(a["addr"], 16): a for a in allocs if a["state"] == "live"}
        spans = sorted((int(a["addr"], 16), int(a["addr"], 16) + a["usable"], a)
                       for a in allocs if a["bin"] != "unmapped")
        span_starts = [s[0] for s in spans]
        stacks = {}
        tid_index = {t["tid"]: t["index"] for t in self.t["threads"]}
        for th in self.c.threads:
            seg = self.c.seg_of(th["regs"]["rsp"])
            if seg:
                stacks[tid_index.get(th["tid"])] = (seg[0], seg[0] + seg[1], th["regs"]["rsp"])
        exe = self.exe_ranges()
        if not exe:
            self.fail("reach: executable mappings not found in NT_FILE (binary %s)" % self.binary)

        def where(loc):
            i = bisect.bisect_right(span_starts, loc) - 1
            if i >= 0 and spans[i][0] <= loc < spans[i][1]:
                a = spans[i][2]
                return ("chunk", a["id"], a["state"])
            for idx, (s, e, rsp) in stacks.items():
                if s <= loc < e:
                    return ("stack", idx, "live" if loc >= rsp else "dead")
            for s, e in exe:
                if s <= loc < e:
                    return ("static", None, None)
            return ("other", None, None)

        hits = {a: [] for a in live}
        targets = set(live)
        for vaddr, _memsz, off, filesz, _fl in self.c.segs:
            for p in range(0, filesz - filesz % PAGE, PAGE):
                page = self.c.data[off + p:off + p + PAGE]
                if page == ZERO_PAGE:
                    continue
                words = memoryview(page).cast("Q")
                if targets.isdisjoint(words):
                    continue
                for k, w in enumerate(words):
                    if w in targets:
                        hits[w].append(where(vaddr + p + 8 * k))
        reg_hits = {}
        for th in self.c.threads:
            for r, v in th["regs"].items():
                if v in targets:
                    reg_hits.setdefault(v, []).append((th["tid"], r))

        summary = {}
        for addr, a in live.items():
            h = hits[addr]
            kinds = sorted({x[0] for x in h})
            reach = a["reach"]
            summary.setdefault(reach, 0)
            summary[reach] += 1
            bad = None
            if reach in ("definite",) and (h or addr in reg_hits):
                bad = "referenced from %s regs %s" % (h, reg_hits.get(addr))
            elif reach in ("heap", "indirect"):
                parent = live.get(int(a["parent"], 16)) if a["parent"] else None
                ok = parent is not None and h and all(
                    x[0] == "chunk" and x[1] == parent["id"] for x in h)
                if not ok or addr in reg_hits:
                    bad = "referenced from %s regs %s, parent %s" % (h, reg_hits.get(addr), a["parent"])
            elif reach == "stack":
                ok = any(x == ("stack", a["thread"], "live") for x in h) and all(
                    x[0] == "stack" for x in h)
                if not ok:
                    bad = "referenced from %s" % h
            elif reach == "static":
                if "static" not in kinds:
                    bad = "no reference from static data (%s)" % h
            if bad:
                self.fail("reach: id %d (%s, %s): %s" % (a["id"], a["class"], reach, bad))
            dead = [x for x in h if x[0] == "stack" and x[2] == "dead"]
            if dead:
                self.fail("reach: id %d (%s): stale copy in dead stack %s" % (a["id"], a["class"], dead))
        self.info["reach_counts"] = summary

    def check_dumps(self):
        for d in self.t.get("dumps", []):
            name = d["file"]
            cands = [name, name[:-4] if name.endswith(".zst") else name + ".zst"]
            path = next((os.path.join(self.truth_dir, c) for c in cands
                         if os.path.exists(os.path.join(self.truth_dir, c))), None)
            if path is None:
                self.info.setdefault("dumps_missing", []).append(name)
                continue
            data = load_bytes(path)
            start, end = int(d["start"], 16), int(d["end"], 16)
            if len(data) != end - start:
                self.fail("dump %s: %d bytes, range is %d" % (name, len(data), end - start))
                continue
            if self.c.read(start, end - start) != data:
                self.fail("dump %s differs from the core at %s" % (name, d["start"]))
            self.info.setdefault("dumps_checked", []).append(name)

    def check_bins(self):
        t = self.t
        known = [int(th["arena"], 16) for th in t["threads"]
                 if th.get("arena_kind") == "non_main" and th.get("arena")]
        w = glibc_walk.Walker(self.c, t.get("glibc", "2.36"))
        res = w.run(known)
        for f in w.failures:
            self.fail("bins: " + f)
        tid_to_index = {th["tid"]: th["index"] for th in t["threads"]}
        observed, observed_index, model_diff = {}, {}, []
        strict_model = t.get("bin_model") == "glibc-%s" % t.get("glibc")
        for al in t["allocations"]:
            got = w.where.get(int(al["chunk"], 16))
            obs = got[0] if got else None
            observed[str(al["id"])] = obs
            observed_index[str(al["id"])] = got[1] if got else None
            if al["state"] == "live" and got:
                self.fail("bins: live id %d (%s) is in %s" % (al["id"], al["class"], got[:2]))
                continue
            if al["state"] == "free" and al["bin"] != "unmapped" and not got:
                self.fail("bins: freed id %d (%s) is in no bin" % (al["id"], al["class"]))
                continue
            if al["bin"] == "unmapped" and got:
                self.fail("bins: unmapped id %d (%s) is in %s" % (al["id"], al["class"], got[:2]))
                continue
            if got and got[0] == "tcache" and tid_to_index.get(got[2]) != al["thread"]:
                self.fail("bins: id %d in tcache of LWP %d, owner is thread %d"
                          % (al["id"], got[2], al["thread"]))
            exp = None if al["bin"] == "unmapped" else al["bin"]
            if obs != exp or (got and al["bin_index"] is not None and got[1] != al["bin_index"]):
                d = {"id": al["id"], "class": al["class"], "model": al["bin"],
                     "model_index": al["bin_index"], "observed": obs,
                     "observed_index": got[1] if got else None}
                model_diff.append(d)
                if strict_model:
                    self.fail("bins: id %d (%s): glibc-2.36 model says %s/%s, found %s/%s"
                              % (d["id"], d["class"], d["model"], d["model_index"],
                                 d["observed"], d["observed_index"]))
        tracked = {int(al["chunk"], 16) for al in t["allocations"]}
        res["untracked_free_chunks"] = [{"chunk": glibc_walk.hexs(c), "bin": v[0], "index": v[1]}
                                        for c, v in sorted(w.where.items()) if c not in tracked]
        res["observed"] = observed
        res["observed_index"] = observed_index
        res["model_differences"] = model_diff
        g = self.gdb_result
        if g:
            if g.get("main_arena") and g["main_arena"] != res["main_arena"]:
                self.fail("bins: main_arena %s, gdb says %s" % (res["main_arena"], g["main_arena"]))
            gobs = (g.get("bins") or {}).get("observed")
            if gobs is not None:
                diff = [k for k in observed if gobs.get(k) != observed[k]]
                for k in diff[:20]:
                    self.fail("bins: id %s found in %s, gdb found it in %s" % (k, observed[k], gobs.get(k)))
                res["gdb_agrees"] = not diff
                gtc = {x["tid"]: x["tcache"] for x in (g.get("bins") or {}).get("tcaches", [])}
                for x in res["tcaches"]:
                    if x["tid"] in gtc and gtc[x["tid"]] != x["tcache"]:
                        self.fail("bins: LWP %d tcache %s, gdb says %s"
                                  % (x["tid"], x["tcache"], gtc[x["tid"]]))
        self.info["bins"] = res
        self.info["main_arena"] = res["main_arena"]

    # ---- census_je (jemalloc) --------------------------------------------
    def scan_words(self, targets):
        """Every 8-byte aligned location in the core holding one of targets."""
        hits = {a: [] for a in targets}
        for vaddr, _memsz, off, filesz, _fl in self.c.segs:
            for p in range(0, filesz - filesz % PAGE, PAGE):
                page = self.c.data[off + p:off + p + PAGE]
                if page == ZERO_PAGE:
                    continue
                words = memoryview(page).cast("Q")
                if targets.isdisjoint(words):
                    continue
                for k, w in enumerate(words):
                    if w in targets:
                        hits[w].append(vaddr + p + 8 * k)
        return hits

    def check_census_je(self):
        """jemalloc census:
          - every truth address lies in a PT_LOAD segment; live regions are
            dumped and start with their tag, and their last requested byte
            is the class fill byte
          - every live region is referenced from the executable's static
            data (g_keep[]), as the program intends
          - the regions the model puts in a tcache bin are found in the core
            as one contiguous array of pointers, most recently freed first
            (jemalloc 5.x cache_bin stack: stack_head .. empty position),
            for every (thread, size class) bin - this confirms count, order
            and that no GC/flush took any of them
          - the program's own cross-check with jemalloc's statistics
            (stats_checks_ok) passed, and class_counts match allocations
        Freed regions in slabs/extents are not checked against jemalloc's
        metadata (layout is version specific); how often their address
        still appears in memory (stale tcache slots) is reported in info."""
        t = self.t
        classes = {c["name"]: c for c in t["classes"]}
        allocs = t["allocations"]
        addr = {a["id"]: int(a["addr"], 16) for a in allocs}
        unmapped, undumped = [], []
        for a in allocs:
            s = self.c.seg_of(addr[a["id"]])
            if s is None:
                unmapped.append(a["id"])
                if a["state"] == "live":
                    self.fail("je: live id %d (%s) at %s is not in any core segment"
                              % (a["id"], a["class"], a["addr"]))
                continue
            if a["state"] != "live":
                continue
            ci = classes[a["class"]]
            tag = ("%s%d" % (ci["tag_prefix"], a["thread"] * 1000 + a["index"])).encode()
            got = self.c.read(addr[a["id"]], len(tag) + 1)
            if got is None:
                undumped.append(a["id"])
                self.fail("je: live id %d (%s) at %s is not dumped" % (a["id"], a["class"], a["addr"]))
            elif got != tag + b"\0":
                self.fail("je: id %d (%s): tag %r, expected %r" % (a["id"], a["class"], got, tag))
            last = self.c.read(addr[a["id"]] + a["request"] - 1, 1)
            if a["request"] > len(tag) + 1 and last is not None and last[0] != ci["fill_byte"]:
                self.fail("je: id %d (%s): last byte 0x%02x, fill 0x%02x"
                          % (a["id"], a["class"], last[0], ci["fill_byte"]))
        self.info["je_addresses_not_in_core"] = unmapped

        targets = set(addr.values())
        hits = self.scan_words(targets)
        exe = self.exe_ranges()
        in_exe = lambda loc: any(s <= loc < e for s, e in exe)
        for a in allocs:
            if a["state"] == "live" and not any(in_exe(h) for h in hits[addr[a["id"]]]):
                self.fail("je: live id %d (%s) not referenced from static data" % (a["id"], a["class"]))

        bins = {}
        for a in allocs:
            if a["where"] == "tcache":
                bins.setdefault((a["thread"], a["szind"]), []).append(a)
        stacks = []
        for (thread, szind), items in sorted(bins.items()):
            items.sort(key=lambda a: a["tcache_pos"])
            if [a["tcache_pos"] for a in items] != list(range(len(items))):
                self.fail("je: thread %d szind %d: tcache_pos not 0..n-1" % (thread, szind))
                continue
            want = [addr[a["id"]] for a in items]
            found = []
            for loc in hits[want[0]]:
                if all(self.c.read64(loc + 8 * k) == w for k, w in enumerate(want)):
                    found.append(loc)
            rec = {"thread": thread, "szind": szind, "size_class": items[0]["usable"],
                   "n": len(want), "stack_head": [hex(x) for x in found]}
            if len(found) != 1:
                self.fail("je: thread %d size %d: tcache array of %d entries found %d times"
                          % (thread, items[0]["usable"], len(want), len(found)))
            elif in_exe(found[0]):
                self.fail("je: thread %d size %d: tcache array inside the executable"
                          % (thread, items[0]["usable"]))
            stacks.append(rec)
        self.info["je_tcache_stacks"] = stacks
        stale = {}
        for a in allocs:
            if a["state"] == "free" and a["where"] != "tcache" and hits[addr[a["id"]]]:
                stale[a["where"]] = stale.get(a["where"], 0) + 1
        self.info["je_freed_not_cached_still_referenced"] = stale

        if t.get("stats_checks_ok") is not True:
            bad = [c for c in t.get("stats_checks", [])
                   if c["observed"] < 0 or (c["observed"] != c["tracked"] if c["exclusive"]
                                            else c["observed"] < c["tracked"])]
            self.fail("je: program's jemalloc stats cross-check failed: %s" % bad[:5])
        counts = {}
        for a in allocs:
            k = (a["class"], a["thread"])
            c = counts.setdefault(k, {"live": 0, "tcache": 0, "slab": 0, "extent": 0})
            c["live" if a["state"] == "live" else a["where"]] += 1
        for cc in t.get("class_counts", []):
            got = counts.get((cc["class"], cc["thread"]))
            want = {k: cc[k] for k in ("live", "tcache", "slab", "extent")}
            if got != want:
                self.fail("je: class_counts %s/%d: %s, allocations say %s"
                          % (cc["class"], cc["thread"], want, got))

    def run(self, kind):
        libc = [p for _s, _e, _pg, p in self.c.files
                if os.path.basename(p).startswith(("libc.so", "libc-"))]
        self.info["libc_path"] = libc[0] if libc else None
        self.info["files"] = sorted({p for _s, _e, _pg, p in self.c.files})
        self.check_threads()
        self.check_crash(kind)
        self.check_words()
        if self.t.get("program") == "census":
            self.check_headers()
            self.check_reach()
            self.check_dumps()
            self.check_bins()
        elif self.t.get("program") == "census_je":
            self.check_census_je()
        return {"ok": not self.failures, "failures": self.failures, "info": self.info}


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", help="the program binary (to find its mappings)")
    ap.add_argument("--kind", choices=["gcore", "kcore"], default=None,
                    help="core kind (default: from the file name)")
    ap.add_argument("--json", help="write the report here")
    ap.add_argument("--gdb-result", help="gdb_check.py's JSON: bins must agree with it")
    ap.add_argument("truth")
    ap.add_argument("core")
    args = ap.parse_args(argv)
    with open(args.truth) as f:
        truth = json.load(f)
    kind = args.kind or ("kcore" if ".kcore." in os.path.basename(args.core) else "gcore")
    binary = args.binary or (truth.get("generator") or {}).get("binary") or truth["program"]
    core = Core(load_bytes(args.core))
    gdb_result = None
    if args.gdb_result and os.path.exists(args.gdb_result):
        with open(args.gdb_result) as f:
            gdb_result = json.load(f)
    res = Checker(truth, core, binary, os.path.dirname(os.path.abspath(args.truth)),
                  gdb_result).run(kind)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    print("check_core: %s (%s): ok=%s failures=%d %s"
          % (truth.get("program"), kind, res["ok"], len(res["failures"]),
             json.dumps(res["info"].get("reach_counts", ""))))
    for m in res["failures"][:40]:
        print("  FAIL:", m)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
