# gdb_bins.py - independent check of census bin placement, run inside gdb.
#
#   CORPUS_TRUTH=census.gcore.truth.json CORPUS_OUT=observed.json \
#     gdb -batch -nx -x corpus/tools/gdb_bins.py BINARY CORE
#
# Needs glibc debug symbols (Debian: libc6-dbg) for main_arena, struct
# malloc_state and the per-thread `tcache` TLS variable.  Walks every arena's
# fastbins and regular bins and every thread's tcache, then compares the
# place each truth allocation was found with the place the truth expects.
# Writes CORPUS_OUT as JSON:
#   {"main_arena": "0x..", "arenas": [...], "observed": {"<id>": bin|null},
#    "mismatches": [...], "ok": bool, "error": null|str}
# A missing symbol is reported as {"ok": null, "error": "..."} instead of a
# failure, so the driver can continue on systems without debug symbols.
import json
import os
import struct

import gdb  # noqa: F401  (provided by gdb)

MAX_WALK = 100000


def rd64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return struct.unpack("<Q", bytes(mem))[0]


def glibc_tuple(text):
    try:
        return tuple(int(x) for x in text.split(".")[:2])
    except ValueError:
        return (2, 36)


class Checker:
    def __init__(self, truth):
        self.truth = truth
        # safe-linking (PROTECT_PTR) exists since glibc 2.32
        self.safe_link = glibc_tuple(truth.get("glibc", "2.36")) >= (2, 32)
        self.where = {}  # chunk address -> (bin, index, arena or thread)
        self.errors = []

    def reveal(self, pos, val):
        return ((pos >> 12) ^ val) if self.safe_link else val

    def note(self, chunk, kind, index, owner):
        if chunk in self.where:
            self.errors.append("chunk 0x%x found twice (%s and %s)"
                               % (chunk, self.where[chunk], (kind, index, owner)))
        self.where[chunk] = (kind, index, owner)

    def walk_arena(self, arena):
        a = arena.dereference()
        addr = int(arena)
        # fastbins: singly linked through fd (mangled since 2.32)
        nfast = a["fastbinsY"].type.range()[1] + 1
        for i in range(nfast):
            p = int(a["fastbinsY"][i])
            n = 0
            while p and n < MAX_WALK:
                self.note(p, "fastbin", i, addr)
                p = self.reveal(p + 16, rd64(p + 16))
                n += 1
        # regular bins: doubly linked; bin_at(i) = &bins[(i-1)*2] - 16
        bins = int(a["bins"].address)
        for i in range(1, 127):
            head = bins + (i - 1) * 16 - 16
            p = rd64(head + 16)
            n = 0
            kind = "unsorted" if i == 1 else ("smallbin" if i < 64 else "largebin")
            while p != head and n < MAX_WALK:
                self.note(p, kind, i, addr)
                p = rd64(p + 16)
                n += 1
        return {"address": "0x%x" % addr, "top": "0x%x" % int(a["top"]),
                "system_mem": int(a["system_mem"])}

    def walk_tcaches(self):
        res = []
        for th in gdb.selected_inferior().threads():
            th.switch()
            tid = th.ptid[1]
            try:
                tc = int(gdb.parse_and_eval("tcache"))
            except gdb.error as e:
                self.errors.append("tcache of LWP %d unreadable: %s" % (tid, e))
                continue
            res.append({"tid": tid, "tcache": "0x%x" % tc})
            if not tc:
                continue
            t = gdb.parse_and_eval("(tcache_perthread_struct *) %d" % tc).dereference()
            for i in range(t["entries"].type.range()[1] + 1):
                e = int(t["entries"][i])
                n = 0
                while e and n < MAX_WALK:
                    self.note(e - 16, "tcache", i, tid)
                    e = self.reveal(e, rd64(e))
                    n += 1
                if n != int(t["counts"][i]):
                    self.errors.append("LWP %d tcache bin %d: count %d but %d entries"
                                       % (tid, i, int(t["counts"][i]), n))
        return res

    def run(self):
        main_arena = gdb.parse_and_eval("&main_arena")
        arenas = []
        arena = main_arena
        seen = set()
        while int(arena) not in seen:
            seen.add(int(arena))
            arenas.append(self.walk_arena(arena))
            arena = arena.dereference()["next"]
        tcaches = self.walk_tcaches()

        tid_to_thread = {t["tid"]: t["index"] for t in self.truth["threads"]}
        observed = {}
        mismatches = []
        for al in self.truth["allocations"]:
            chunk = int(al["chunk"], 16)
            got = self.where.get(chunk)
            obs = got[0] if got else None
            if al["bin"] == "unmapped":
                exp = None
            else:
                exp = al["bin"]
            observed[str(al["id"])] = obs
            if obs != exp:
                mismatches.append({"id": al["id"], "class": al["class"],
                                   "expected": al["bin"], "observed": obs})
                continue
            if got is None:
                continue
            kind, index, owner = got
            if al["bin_index"] is not None and index != al["bin_index"]:
                mismatches.append({"id": al["id"], "class": al["class"],
                                   "expected_index": al["bin_index"], "observed_index": index})
            if kind == "tcache" and tid_to_thread.get(owner) != al["thread"]:
                mismatches.append({"id": al["id"], "class": al["class"],
                                   "expected_thread": al["thread"], "observed_tid": owner})
        # chunks in bins the truth does not know about (e.g. glibc internals)
        tracked = {int(al["chunk"], 16) for al in self.truth["allocations"]}
        untracked = [{"chunk": "0x%x" % c, "bin": w[0], "index": w[1]}
                     for c, w in sorted(self.where.items()) if c not in tracked]
        return {
            "main_arena": "0x%x" % int(main_arena),
            "arenas": arenas,
            "tcaches": tcaches,
            "observed": observed,
            "mismatches": mismatches,
            "untracked_free_chunks": untracked,
            "errors": self.errors,
            "ok": not mismatches and not self.errors,
            "error": None,
        }


def main():
    truth_path = os.environ["CORPUS_TRUTH"]
    out_path = os.environ.get("CORPUS_OUT")
    with open(truth_path) as f:
        truth = json.load(f)
    try:
        res = Checker(truth).run()
    except gdb.error as e:
        res = {"ok": None, "error": "gdb: %s" % e}
    text = json.dumps(res, indent=1)
    if out_path:
        with open(out_path, "w") as f:
            f.write(text + "\n")
    mism = res.get("mismatches", [])
    print("gdb_bins: ok=%s mismatches=%d errors=%s"
          % (res["ok"], len(mism), res.get("errors") or res.get("error")))
    for m in mism[:20]:
        print("  mismatch:", m)


main()
