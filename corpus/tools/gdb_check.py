# gdb_check.py - compare a corpus core with its truth, using gdb's own view.
#
#   CORPUS_TRUTH=x.truth.json CORPUS_OUT=x.gdbcheck.json \
#   [CORPUS_CORE_KIND=gcore|kcore] [CORPUS_BT_OUT=x.gdb.txt] \
#     gdb -batch -nx -x corpus/tools/gdb_check.py BINARY CORE
#
# Checks (each one independent of coresift):
#   threads : the set of LWPs in the core equals the truth tids
#   chains  : per thread, the program's own frames (innermost first) equal
#             the truth "chain"; frames are mapped to functions by address
#             using the truth "functions" table, so stripped binaries work
#   crash   : for kernel cores, the signal ($_siginfo), the crashing thread,
#             the fault address and, for glibc fatal errors, the text in
#             __abort_msg (needs libc debug symbols)
#   bins    : census only, with glibc debug symbols: walk every arena's
#             fastbins and bins and every thread's tcache and compare where
#             each freed chunk really is with the truth's expected "bin"
#             (glibc-2.36 model: a different bin is a failure only on 2.36;
#             elsewhere it is listed in bins.model_differences)
# Writes CORPUS_OUT (JSON) with "main_arena" ("0x.." or null when the
# symbol is unavailable), the observations, a list of "failures" and "ok".
# Missing glibc debug symbols only skip the bins check ("bins_checked":
# false); they are not a failure.
import json
import os
import struct

import gdb

MAX_WALK = 100000


def rd64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return struct.unpack("<Q", bytes(mem))[0]


def glibc_tuple(text):
    try:
        return tuple(int(x) for x in text.split(".")[:2])
    except ValueError:
        return (2, 36)


def hexs(v):
    return None if v is None else "0x%x" % v


class Bins:
    """Locate every free chunk of every arena and tcache."""

    def __init__(self, truth, failures):
        self.truth = truth
        self.safe_link = glibc_tuple(truth.get("glibc", "2.36")) >= (2, 32)
        self.where = {}
        self.failures = failures

    def reveal(self, pos, val):
        return ((pos >> 12) ^ val) if self.safe_link else val

    def note(self, chunk, kind, index, owner):
        if chunk in self.where:
            self.failures.append("chunk 0x%x found twice (%s and %s)"
                                 % (chunk, self.where[chunk], (kind, index, owner)))
        self.where[chunk] = (kind, index, owner)

    def walk_arena(self, arena):
        a = arena.dereference()
        addr = int(arena)
        nfast = a["fastbinsY"].type.range()[1] + 1
        for i in range(nfast):
            p = int(a["fastbinsY"][i])
            n = 0
            while p and n < MAX_WALK:
                self.note(p, "fastbin", i, addr)
                p = self.reveal(p + 16, rd64(p + 16))
                n += 1
        bins = int(a["bins"].address)
        for i in range(1, 127):
            head = bins + (i - 1) * 16 - 16  # bin_at(i)
            p = rd64(head + 16)
            n = 0
            kind = "unsorted" if i == 1 else ("smallbin" if i < 64 else "largebin")
            while p != head and n < MAX_WALK:
                self.note(p, kind, i, addr)
                p = rd64(p + 16)
                n += 1
        return {"address": hexs(addr), "top": hexs(int(a["top"])),
                "system_mem": int(a["system_mem"])}

    def walk_tcaches(self):
        res = []
        for th in gdb.selected_inferior().threads():
            th.switch()
            tid = th.ptid[1]
            try:
                tc = int(gdb.parse_and_eval("tcache"))
            except gdb.error as e:
                self.failures.append("tcache of LWP %d unreadable: %s" % (tid, e))
                continue
            res.append({"tid": tid, "tcache": hexs(tc)})
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
                    self.failures.append("LWP %d tcache bin %d: count %d but %d entries"
                                         % (tid, i, int(t["counts"][i]), n))
        return res

    def run(self, main_arena):
        arenas = []
        arena = main_arena
        seen = set()
        while int(arena) not in seen:
            seen.add(int(arena))
            arenas.append(self.walk_arena(arena))
            arena = arena.dereference()["next"]
        tcaches = self.walk_tcaches()
        tid_to_index = {t["tid"]: t["index"] for t in self.truth["threads"]}
        observed = {}
        # The expected "bin" follows the glibc 2.36 rules (truth bin_model).
        # On another glibc a different placement is recorded, not a failure,
        # as long as freed chunks are in some bin and live ones in none.
        strict = self.truth.get("bin_model") == "glibc-%s" % self.truth.get("glibc")
        self.model_differences = []
        for al in self.truth["allocations"]:
            got = self.where.get(int(al["chunk"], 16))
            obs = got[0] if got else None
            observed[str(al["id"])] = obs
            exp = None if al["bin"] == "unmapped" else al["bin"]
            if obs != exp or (got and al["bin_index"] is not None
                              and got[1] != al["bin_index"]):
                self.model_differences.append(
                    {"id": al["id"], "class": al["class"], "model": al["bin"],
                     "model_index": al["bin_index"], "observed": obs,
                     "observed_index": got[1] if got else None})
                if strict or (obs is None) != (exp is None):
                    self.failures.append("bins: id %d (%s) expected %s/%s, found %s/%s"
                                         % (al["id"], al["class"], al["bin"], al["bin_index"],
                                            obs, got[1] if got else None))
                    continue
            if got is None:
                continue
            kind, index, owner = got
            if kind == "tcache" and tid_to_index.get(owner) != al["thread"]:
                self.failures.append("bins: id %d in tcache of LWP %d, expected thread %d"
                                     % (al["id"], owner, al["thread"]))
        tracked = {int(al["chunk"], 16) for al in self.truth["allocations"]}
        untracked = [{"chunk": hexs(c), "bin": w[0], "index": w[1]}
                     for c, w in sorted(self.where.items()) if c not in tracked]
        return {"arenas": arenas, "tcaches": tcaches, "observed": observed,
                "untracked_free_chunks": untracked,
                "model_differences": self.model_differences}


def program_function(pc, funcs, progspace):
    """Name of the program function containing pc, by truth addresses."""
    if progspace.solib_name(pc) is not None:
        return None
    best = None
    for name, addr in funcs:
        if addr <= pc and (best is None or addr > best[1]):
            best = (name, addr)
    if best is None or pc - best[1] > 0x1000:
        return None
    return best[0]


def check_threads(truth, failures):
    funcs = [(k, int(v, 16)) for k, v in truth.get("functions", {}).items()]
    progspace = gdb.current_progspace()
    inf = gdb.selected_inferior()
    threads = sorted(inf.threads(), key=lambda t: t.num)
    seen_tids = [t.ptid[1] for t in threads]
    want_tids = [t["tid"] for t in truth["threads"]]
    if sorted(seen_tids) != sorted(want_tids):
        failures.append("threads: core has LWPs %s, truth %s" % (seen_tids, want_tids))
    by_tid = {t["tid"]: t for t in truth["threads"]}
    out = []
    for th in threads:
        th.switch()
        frames = []
        f = gdb.newest_frame()
        while f is not None and len(frames) < 64:
            pc = f.pc()
            lookup = pc if not frames else pc - 1  # return address -> call
            frames.append({"pc": hexs(pc), "gdb_name": f.name(),
                           "program_function": program_function(lookup, funcs, progspace)})
            try:
                f = f.older()
            except gdb.error:
                break
        chain = [fr["program_function"] for fr in frames if fr["program_function"]]
        tinfo = {"num": th.num, "tid": th.ptid[1], "gdb_name": th.name,
                 "chain": chain, "frames": frames}
        out.append(tinfo)
        t = by_tid.get(th.ptid[1])
        if t is not None and "chain" in t and chain != t["chain"]:
            failures.append("thread %d: program frames %s, truth chain %s"
                            % (t["index"], chain, t["chain"]))
    return out


def check_crash(truth, failures, core_kind):
    crash = truth.get("crash")
    res = {}
    if core_kind != "kcore" or not crash:
        return res
    gdb.execute("thread 1", to_string=True)
    th = gdb.selected_thread()
    res["first_thread_tid"] = th.ptid[1]
    if th.ptid[1] != crash["tid"]:
        failures.append("crash: first thread in core is LWP %d, truth says %d"
                        % (th.ptid[1], crash["tid"]))
    try:
        si = gdb.parse_and_eval("$_siginfo")
        signo = int(si["si_signo"])
        res["si_signo"] = signo
        res["si_code"] = int(si["si_code"])
        if signo != crash["signal"]:
            failures.append("crash: signal %d, truth %d" % (signo, crash["signal"]))
        if crash.get("si_code") is not None and res["si_code"] != crash["si_code"]:
            failures.append("crash: si_code %d, truth %d" % (res["si_code"], crash["si_code"]))
        if crash.get("fault_addr") is not None:
            addr = int(si["_sifields"]["_sigfault"]["si_addr"])
            res["si_addr"] = hexs(addr)
            if addr != int(crash["fault_addr"], 16):
                failures.append("crash: si_addr 0x%x, truth %s" % (addr, crash["fault_addr"]))
    except gdb.error as e:
        failures.append("crash: $_siginfo unavailable: %s" % e)
    if crash.get("message"):
        # glibc's fatal-error text (malloc_printerr) is kept in __abort_msg;
        # needs libc debug symbols for the struct type, else only noted
        try:
            msg = gdb.parse_and_eval("(const char *) __abort_msg->msg").string()
            res["abort_msg"] = msg
            if msg.rstrip("\n") != crash["message"]:
                failures.append("crash: __abort_msg %r, truth message %r"
                                % (msg, crash["message"]))
        except gdb.error as e:
            res["abort_msg_error"] = str(e)
    return res


def main():
    with open(os.environ["CORPUS_TRUTH"]) as f:
        truth = json.load(f)
    core_kind = os.environ.get("CORPUS_CORE_KIND", "gcore")
    failures = []
    res = {"main_arena": None, "bins_checked": False}
    try:
        res["main_arena"] = hexs(int(gdb.parse_and_eval("&main_arena")))
    except gdb.error as e:
        res["main_arena_error"] = str(e)
    res["crash"] = check_crash(truth, failures, core_kind)
    res["threads"] = check_threads(truth, failures)
    if truth.get("program") == "census" and res["main_arena"]:
        try:
            res["bins"] = Bins(truth, failures).run(gdb.parse_and_eval("&main_arena"))
            res["bins_checked"] = True
        except gdb.error as e:
            res["bins_error"] = str(e)
    res["failures"] = failures
    res["ok"] = not failures
    bt_out = os.environ.get("CORPUS_BT_OUT")
    if bt_out:
        # plain gdb view of the core, kept next to it as a human reference
        text = ["# gdb view of this core (gdb_check.py): info threads, all backtraces\n"]
        for cmd in ("info threads", "thread apply all bt"):
            text.append("(gdb) %s\n" % cmd)
            try:
                text.append(gdb.execute(cmd, to_string=True))
            except gdb.error as e:
                text.append("error: %s\n" % e)
        with open(bt_out, "w") as f:
            f.write("".join(text))
    out = os.environ.get("CORPUS_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    print("gdb_check: %s: ok=%s bins_checked=%s failures=%d"
          % (truth.get("program"), res["ok"], res["bins_checked"], len(failures)))
    for msg in failures[:30]:
        print("  FAIL:", msg)


main()
