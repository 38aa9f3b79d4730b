"""Checks coresift's C++ class signatures on a real core against an independent reading of
the core: a live chunk holds an object of class C when its first word V is a vtable address
point with offset-to-top 0 at V-16 and a typeinfo at V-8 whose own vtable is one of
libstdc++'s three class typeinfo vtables (+16; their addresses printed by gdb in the capture
session: TYPEINFO_VTABLE lines) and whose name (second word) demangles (c++filt -t) to C.
Every such chunk must have signature class:C and every class:… chunk must be one; per class
the counts are printed, and `groups --by signature` must list the same class groups.
Usage: check_classes.py CORESIFT OUTDIR NAME"""
import re
import subprocess
import sys

from corelib import Core, coresift_json, skip_if_not_made

coresift, outdir, name = sys.argv[1:4]
core_path = skip_if_not_made(outdir, name)
core = Core(core_path)
log = open("%s/%s.gdb.log" % (outdir, name)).read()
ti_vtables = {int(v) + 16 for v in re.findall(r"^TYPEINFO_VTABLE (\d+)$", log, re.M)}
if len(ti_vtables) != 3:
    raise SystemExit("no TYPEINFO_VTABLE lines in %s/%s.gdb.log" % (outdir, name))

chunks = coresift_json(coresift, "chunks", core_path)["chunks"]
live = [c for c in chunks if c["state"] == "live"]
mangled = {}  # chunk address -> mangled type name
for c in live:
    a = int(c["address"], 16)
    v = core.u64(a) if c["size"] >= 8 else None
    if not v or v < 16:
        continue
    top, ti = core.u64(v - 16), core.u64(v - 8)
    if top != 0 or not ti or core.u64(ti) not in ti_vtables:
        continue
    np = core.u64(ti + 8)
    raw = core.cstring(np) if np else None
    if raw:
        mangled[c["address"]] = raw.decode("latin-1").lstrip("*")
names = sorted(set(mangled.values()))
out = subprocess.run(["c++filt", "-t"], input="\n".join(names) + "\n", capture_output=True, text=True, check=True).stdout
demangled = dict(zip(names, out.splitlines()))
expected = {a: demangled[m] for a, m in mangled.items()}
ours = {c["address"]: c["signature"][6:] for c in live if (c["signature"] or "").startswith("class:")}

problems = []
for a in sorted(set(expected) | set(ours)):
    if expected.get(a) != ours.get(a):
        problems.append("chunk %s: typeinfo says %s, coresift says %s" % (
            a, expected.get(a, "(no C++ object)"), "class:" + ours[a] if a in ours else
            next(c["signature"] for c in live if c["address"] == a)))
count = {}
for n in expected.values():
    count[n] = count.get(n, 0) + 1
print("%d live chunks, %d hold C++ objects of %d classes by their typeinfo:" % (len(live), len(expected), len(count)))
for n, k in sorted(count.items(), key=lambda x: -x[1]):
    print("  %6d  %s" % (k, n))
groups = coresift_json(coresift, "groups", "--by", "signature", "--top", "0", core_path)["groups"]
gclasses = {g["key"][6:]: g["chunks"] for g in groups if g["key"].startswith("class:")}
if gclasses != count:
    problems.append("groups --by signature lists class groups %s, the typeinfo reading %s" % (gclasses, count))
print("groups --by signature: %d class groups, %s" % (len(gclasses), "the same" if gclasses == count else "DIFFERENT"))
for p in problems[:20]:
    print("  " + p)
if problems:
    print("FAILED: %d problems" % len(problems))
    sys.exit(1)
print("every C++ object named right")
