# gdb_growth.py - check a growth core against its snapshot truth, without coresift.
#
#   GROWTH_TRUTH=x.truth.json GROWTH_CORE=CORE GROWTH_OUT=x.check.json \
#     gdb -batch -nx -x corpus/growth/gdb_growth.py BINARY CORE
# or, several cores of BINARY in one gdb session (each loaded with core-file):
#   GROWTH_CASES='[{"truth": T, "core": C, "out": O}, ...]' \
#     gdb -batch -nx -x corpus/growth/gdb_growth.py BINARY
#
# Checks (gdb reads the program's own globals from the core):
#   snapshot : g_snapshot equals the truth's snapshot index
#   counts   : per class g_live[c] and the non-empty g_enc[c][] slots equal
#              the truth's live count; the decoded addresses equal the
#              truth's addresses
#   chunks   : every live block's glibc chunk header has the class chunk size
#              (not mmapped), starts with "<tag_prefix><slot>" and ends with
#              the class fill byte
#   roots    : the static roots g_reach[], g_freed[], g_stable[] hold exactly
#              the addresses of their class; every tree block holds the
#              address of one leaf at tree_leaf_offset (a bijection)
#   thread   : the only thread is blocked in growth_wait
# and, reading the core file directly (no gdb):
#   scan     : no word in any PT_LOAD segment (8-byte aligned) or in the notes
#              (registers; 4-byte steps) points into a leaked block, except a
#              tree block's leaf pointer and glibc's pointers at the next
#              chunk's header (the last 8 usable bytes: top, bins), which are
#              reported as "header_refs"
# Writes GROWTH_OUT (JSON): {"ok", "failures", "checked", "header_refs"}; an exception while
# checking a core is a failure of that core.
import bisect
import json
import os
import struct

import gdb

CLASS_INDEX = {"leak": 0, "reach": 1, "freed": 2, "stable": 3, "tree": 4, "leaf": 5}
ROOTS = {"reach": "g_reach", "freed": "g_freed", "stable": "g_stable"}
ADDR_KEY = 0xa5a55a5aa5a55a5a
MAXN = 64


def rd(addr, n):
    return bytes(gdb.selected_inferior().read_memory(addr, n))


def rd64(addr):
    return struct.unpack("<Q", rd(addr, 8))[0]


def core_words(path):
    """Yield (vaddr or None for notes, value) for every candidate word of the core."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not a 64-bit ELF core")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _flags, off, vaddr, _pa, filesz, _memsz, _al = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and filesz:      # PT_LOAD
            seg = data[off:off + filesz]
            for k, (w,) in enumerate(struct.iter_unpack("<Q", seg[:filesz - filesz % 8])):
                yield vaddr + 8 * k, w
        elif p_type == 4 and filesz:    # PT_NOTE: registers at 4-byte alignment
            for k in range(0, filesz - 7, 4):
                yield None, struct.unpack_from("<Q", data, off + k)[0]


def check(truth, core_file, failures, checked, header_refs):
    fail = failures.append

    snap = int(gdb.parse_and_eval("g_snapshot"))
    if snap != truth["snapshot"]:
        fail("g_snapshot %d, truth snapshot %d" % (snap, truth["snapshot"]))

    addr_class = {}   # user address -> (class dict, slot)
    for cls in truth["classes"]:
        c = CLASS_INDEX[cls["name"]]
        live = int(gdb.parse_and_eval("g_live")[c])
        if live != cls["live"]:
            fail("%s: g_live %d, truth %d" % (cls["name"], live, cls["live"]))
        enc = gdb.parse_and_eval("g_enc")[c]
        addrs = {}
        for i in range(MAXN):
            e = int(enc[i])
            if e:
                addrs[e ^ ADDR_KEY] = i
        want = {int(a, 16) for a in cls["addresses"]}
        if len(addrs) != cls["live"] or set(addrs) != want:
            fail("%s: %d encoded addresses in the core, truth %d live (%d differ)"
                 % (cls["name"], len(addrs), cls["live"], len(set(addrs) ^ want)))
        for a, slot in sorted(addrs.items()):
            addr_class[a] = (cls, slot)
            size_field = rd64(a - 8)
            if size_field & ~7 != cls["chunk_size"] or size_field & 2:
                fail("%s[%d] 0x%x: size field 0x%x, expected chunk 0x%x not mmapped"
                     % (cls["name"], slot, a, size_field, cls["chunk_size"]))
            tag = ("%s%04d" % (cls["tag_prefix"], slot)).encode() + b"\0"
            if rd(a, len(tag)) != tag:
                fail("%s[%d] 0x%x: tag %r, expected %r" % (cls["name"], slot, a, rd(a, len(tag)), tag))
            if rd(a + cls["request"] - 1, 1)[0] != cls["fill_byte"]:
                fail("%s[%d] 0x%x: last byte is not the fill byte" % (cls["name"], slot, a))
        if cls["name"] in ROOTS:
            arr = gdb.parse_and_eval(ROOTS[cls["name"]])
            roots = {int(arr[i]) for i in range(MAXN)} - {0}
            if roots != set(addrs):
                fail("%s: %s[] holds %d addresses, %d live blocks (%d differ)"
                     % (cls["name"], ROOTS[cls["name"]], len(roots), len(addrs), len(roots ^ set(addrs))))
        checked[cls["name"]] = len(addrs)

    leaf_parent = {}
    off = truth["tree_leaf_offset"]
    leaves = {a for a, (c, _s) in addr_class.items() if c["name"] == "leaf"}
    for a, (cls, slot) in addr_class.items():
        if cls["name"] == "tree":
            leaf = rd64(a + off)
            if leaf not in leaves or leaf in leaf_parent:
                fail("tree[%d] 0x%x: word at +%d is 0x%x, not a leaf of its own" % (slot, a, off, leaf))
            leaf_parent[leaf] = a + off
    if len(leaf_parent) != len(leaves):
        fail("%d leaves, %d referenced by a tree block" % (len(leaves), len(leaf_parent)))

    threads = gdb.execute("info threads", to_string=True).strip().splitlines()[1:]
    if len(threads) != 1:
        fail("%d threads, expected 1" % len(threads))
    bt = gdb.execute("bt", to_string=True)
    if "growth_wait" not in bt:
        fail("main thread not in growth_wait:\n" + bt)

    # pointer scan of the core file for references to leaked blocks
    leaked = sorted((a, a + c["usable_size"], c) for a, (c, _s) in addr_class.items()
                    if c["reach"] in ("definite", "indirect"))
    starts = [x[0] for x in leaked]
    lo, hi = (starts[0], leaked[-1][1]) if leaked else (1, 0)
    words = 0
    for where, w in core_words(core_file):
        words += 1
        if w < lo or w >= hi:
            continue
        k = bisect.bisect_right(starts, w) - 1
        if k < 0 or w >= leaked[k][1]:
            continue
        a, end, c = leaked[k]
        if c["name"] == "leaf" and where is not None and leaf_parent.get(a) == where:
            continue
        if w == a + c["chunk_size"] - 16:   # next chunk's header: glibc top/bin pointer
            header_refs.append({"at": None if where is None else "0x%x" % where, "value": "0x%x" % w,
                                "class": c["name"]})
            continue
        fail("%s block 0x%x referenced by word 0x%x at %s" % (
            c["name"], a, w, "notes (registers)" if where is None else "0x%x" % where))
    checked["scanned_words"] = words
    checked["leaked_blocks"] = len(leaked)


def main():
    if "GROWTH_CASES" in os.environ:
        cases = json.loads(os.environ["GROWTH_CASES"])
    else:
        cases = [{"truth": os.environ["GROWTH_TRUTH"], "core": os.environ["GROWTH_CORE"],
                  "out": os.environ["GROWTH_OUT"]}]
    for case in cases:
        failures, checked, header_refs = [], {}, []
        try:
            if "GROWTH_CASES" in os.environ:
                gdb.execute("core-file " + case["core"], to_string=True)
            check(json.load(open(case["truth"])), case["core"], failures, checked, header_refs)
        except Exception as e:  # noqa: BLE001 - any error is a failed check of this core
            failures.append("%s: %s" % (type(e).__name__, e))
        res = {"ok": not failures, "failures": failures, "checked": checked, "header_refs": header_refs}
        with open(case["out"], "w") as f:
            json.dump(res, f, indent=1)


main()
