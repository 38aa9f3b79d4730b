"""Regression check for issue #9.6 on the redis core: jemalloc 5.3's emap_remap rewrites only
the head entry of an active large extent in the extent map, so a large extent that reuses the
pages of a freed slab keeps "slab" in its end-page entry.  redis_fill.py's churn makes such
extents; coresift must count them in its note and report no jemalloc-emap-mismatch finding.
Usage: check_emap.py CORESIFT OUTDIR NAME"""
import re
import sys

from corelib import coresift_json, skip_if_not_made

coresift, outdir, name = sys.argv[1:4]
core_path = skip_if_not_made(outdir, name)
heap = coresift_json(coresift, "heap", core_path)
je = [a for a in heap["allocators"] if a["name"] == "jemalloc"]
if not je:
    raise SystemExit("coresift found no jemalloc allocator in %s" % core_path)
stale = [int(m.group(1)) for n in je[0]["notes"] for m in [re.match(r"(\d+) active large extents keep a stale slab flag", n)] if m]
mismatches = [f for f in je[0]["findings"] if f["kind"] == "jemalloc-emap-mismatch"]
print("large extents with a stale end-page slab entry: %s; jemalloc-emap-mismatch findings: %d" % (stale or [0], len(mismatches)))
for f in mismatches[:5]:
    print("  %s at %s: %s" % (f["kind"], f["address"], f["detail"]))
if not stale:
    print("FAILED: the core has no large extent with a stale end-page entry: the churn did not reproduce #9.6")
    sys.exit(1)
if mismatches:
    print("FAILED: false jemalloc-emap-mismatch findings")
    sys.exit(1)
print("ok")
