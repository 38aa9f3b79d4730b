#!/usr/bin/env python3
"""Runs one coresift command on a core and reports wall and CPU time, peak anonymous memory
(the core itself is mmapped, so its page-cache pages are not counted) and chunk throughput."""
import json, os, subprocess, sys, time

core, base, out_path, binary, *cmd = sys.argv[1:]
base = float(base)
size = os.path.getsize(core)
with open(out_path, "w") as out:
    t0 = time.monotonic()
    p = subprocess.Popen([binary, *cmd, "--json", core], stdout=out, stderr=subprocess.PIPE)
    peak_anon = 0
    rusage = None
    while rusage is None:
        try:
            with open(f"/proc/{p.pid}/status") as st:
                for line in st:
                    if line.startswith("RssAnon:"):
                        peak_anon = max(peak_anon, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.02)
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            rusage = ru
            p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
cpu = rusage.ru_utime + rusage.ru_stime
err = p.stderr.read().decode(errors="replace")
if p.returncode != 0:
    sys.exit(f"coresift exited {p.returncode}: {err}")
doc = json.load(open(out_path))
chunks = sum(a["totals"]["live_chunks"] + a["totals"]["free_chunks"] for a in doc.get("allocators", []))
if not chunks and "summary" in doc:  # leaks: every live chunk is in exactly one class
    chunks = sum(v for k, v in doc["summary"].items() if k.endswith("_chunks"))
print(f"core: {size / 2**30:.2f} GiB; read every word once: {base:.2f} s ({size / 2**30 / base:.2f} GiB/s)")
print(f"coresift {' '.join(cmd)}: {wall:.2f} s wall = {wall / base:.1f}x the read baseline; "
      f"CPU {cpu:.2f} s (user {rusage.ru_utime:.2f} + sys {rusage.ru_stime:.2f}) = {cpu / base:.1f}x")
print(f"peak anonymous memory: {peak_anon / 2**20:.0f} MiB (sampled every 20 ms)")
if chunks:
    print(f"chunks: {chunks}; {chunks / wall / 1e6:.2f} M chunks/s; {peak_anon / chunks:.1f} bytes of memory per chunk")
