#!/usr/bin/env python3
"""Runs one coresift command on a core and reports wall time, peak anonymous memory (the
core itself is mmapped, so its page-cache pages are not counted) and chunk throughput."""
import json, os, subprocess, sys, time

core, base, out_path, binary, *cmd = sys.argv[1:]
base = float(base)
size = os.path.getsize(core)
with open(out_path, "w") as out:
    t0 = time.monotonic()
    p = subprocess.Popen([binary, *cmd, "--json", core], stdout=out, stderr=subprocess.PIPE)
    peak_anon = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as st:
                for line in st:
                    if line.startswith("RssAnon:"):
                        peak_anon = max(peak_anon, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.02)
    wall = time.monotonic() - t0
err = p.stderr.read().decode(errors="replace")
if p.returncode != 0:
    sys.exit(f"coresift exited {p.returncode}: {err}")
doc = json.load(open(out_path))
chunks = sum(a["totals"]["live_chunks"] + a["totals"]["free_chunks"] for a in doc.get("allocators", []))
print(f"core: {size / 2**30:.2f} GiB; read every word once: {base:.2f} s ({size / 2**30 / base:.2f} GiB/s)")
print(f"coresift {' '.join(cmd)}: {wall:.2f} s = {wall / base:.1f}x the read baseline")
print(f"peak anonymous memory: {peak_anon / 2**20:.0f} MiB (sampled every 20 ms)")
if chunks:
    print(f"chunks: {chunks}; {chunks / wall / 1e6:.2f} M chunks/s; {peak_anon / chunks:.1f} bytes of memory per chunk")
