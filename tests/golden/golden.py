#!/usr/bin/env python3
"""Golden outputs: every command, text and --json, on committed corpus cores, compared with
tests/golden/expected/.  A change in any output fails the test with a diff; when the change is
intended, regenerate and review the diff:

    python3 tests/golden/golden.py build/coresift . --update && git diff tests/golden

Usage: golden.py CORESIFT SOURCE_DIR [--update]
The bookworm cores map the system's libc, libstdc++ and libjemalloc, so the outputs hold only
on a machine with the same library files: their sha256 are recorded in expected/ENV.json and a
machine with other files reports SKIPPED (exit 77) rather than a false failure.  Separate debug
info is ignored (--no-debuginfo) so that installed -dbg packages change nothing.  The source
directory's path is written as @SRC@."""
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys

SKIP = 77
CORES = {  # name -> (core, module dir) under corpus/cores
    "census": ("census.kcore.core.zst", "bin"),
    "census_je": ("census_je.kcore.core.zst", "bin"),
    "objects": ("objects.kcore.core.zst", "bin"),
    "crash_segv": ("crash_segv.gcore.core.zst", "bin"),
    "double_free": ("double_free.kcore.core.zst", "bin"),
    # Other glibc and jemalloc versions (Debian 11: glibc 2.31, jemalloc 5.2.1; Debian 13: 2.41).
    "bullseye.census": ("bullseye/census.kcore.core.zst", "bullseye/bin"),
    "bullseye.census_je": ("bullseye/census_je.kcore.core.zst", "bullseye/bin"),
    "trixie.census": ("trixie/census.kcore.core.zst", "trixie/bin"),
    # A growing process: snapshot 2 alone; diff of snapshots 1 and 2 of one process, and of
    # snapshot 1 against snapshot 2 of another process (corpus/growth).
    "growth": ("growth.2.gcore.core.zst", "bin"),
    "growth_diff": (["growth.1.gcore.core.zst", "growth.2.gcore.core.zst"], "bin"),
    "growth_diff_b": (["growth.1.gcore.core.zst", "growth-b.2.gcore.core.zst"], "bin"),
    # triage over several committed cores at once (its only commands: EXTRA)
    "crashes": (["crash_segv.kcore.core.zst", "crash_segv-stripped.kcore.core.zst", "crash_abort.kcore.core.zst",
                 "double_free.kcore.core.zst", "corrupt_top.kcore.core.zst", "census.kcore.core.zst",
                 "crash_segv.gcore.core.zst"], "bin"),
}
COMMON = ["info", "maps", "threads", "heap", "groups", "groups --by owner", "leaks", "owners"]
EXTRA = {  # commands whose output is large on the census cores: on the small cores only
    "objects": ["chunks", "chunks --state all --csv", "maps --csv", "threads --csv", "heap --csv", "groups --csv", "groups --by owner --csv",
                "leaks --csv", "owners --csv"],
    "census": ["leaks --csv", "leaks --summary --csv", "owners --csv"],
    # show: a code address of the executable (bytes from the file), a stack address.
    "crash_segv": ["chunks --state all", "show 0x555555555836", "show 0x7fffffffe4c0 --length 128"],
    "double_free": ["chunks --state all"],
    "crashes": ["triage --jobs 2", "triage --csv"],
    "growth": ["groups --folded", "owners --folded", "report --json"],
    "growth_diff": ["diff", "diff --csv", "diff --folded"],
    "growth_diff_b": ["diff"],
}
SYSTEM_LIBS = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2",
               "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
               "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libjemalloc.so.2"]


def environment():
    env = {}
    for lib in SYSTEM_LIBS:
        try:
            with open(lib, "rb") as f:
                env[lib] = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            env[lib] = None
    return env


def cases():
    for name, (core, moddir) in CORES.items():
        for cmd in (COMMON if isinstance(core, str) else []) + EXTRA.get(name, []):
            words = cmd.split()
            text_only = "--csv" in words or "--folded" in words  # formats that exclude --json
            json_only = "--json" in words  # report: its other form is an HTML file
            for fmt in ([] if text_only or json_only else ["--json"]) + [""]:
                slug = "-".join(w.lstrip("-") for w in words if w != "--json")
                slug += ".json" if fmt or json_only else ".csv" if "--csv" in words else ".txt"
                yield name + "." + slug, words + ([fmt] if fmt else []), core, moddir


def run(coresift, src, args, core, moddir):
    cores = os.path.join(src, "corpus", "cores")
    rest, tail = list(args[1:]), []
    if args[0] == "show":  # show INPUT… ADDR: the address goes last
        tail = [rest.pop(0)]
    inputs = [os.path.join(cores, c) for c in ([core] if isinstance(core, str) else core)]
    argv = [coresift, args[0], *rest, "--no-debuginfo", "--module-dir", os.path.join(cores, moddir), *inputs, *tail]
    p = subprocess.run(argv, capture_output=True, text=True, cwd=src)
    out = "exit %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, p.stdout, p.stderr)
    out = out.replace(os.path.realpath(src), "@SRC@").replace(src, "@SRC@")
    # The committed cores record the path of the checkout that made them (NT_FILE, the command
    # line): any absolute path ending in corpus/cores/ is the same place in another clone.
    out = re.sub(r"/[^\s\",']*/corpus/cores/", "@SRC@/corpus/cores/", out)
    # triage shows each core file's time (its mtime here: the checkout's time); written as the epoch.
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "1970-01-01T00:00:00Z", out)


def main():
    coresift, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv[3:]
    expected_dir = os.path.join(src, "tests", "golden", "expected")
    env_file = os.path.join(expected_dir, "ENV.json")
    env = environment()
    if update:
        os.makedirs(expected_dir, exist_ok=True)
        with open(env_file, "w") as f:
            json.dump(env, f, indent=1, sort_keys=True)
            f.write("\n")
    else:
        want = json.load(open(env_file))
        differ = [lib for lib in want if want[lib] != env.get(lib)]
        if differ:
            print("SKIPPED: golden outputs were made with other system libraries: %s" % ", ".join(differ))
            return SKIP
    failed, n = [], 0
    for slug, args, core, moddir in cases():
        n += 1
        got = run(coresift, src, args, core, moddir)
        path = os.path.join(expected_dir, slug)
        if update:
            with open(path, "w") as f:
                f.write(got)
            continue
        try:
            want = open(path).read()
        except OSError:
            want = ""
        if got != want:
            failed.append(slug)
            diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "expected/" + slug, "got", lineterm="", n=1))
            print("\n".join(diff[:40]) + ("\n  ... %d more diff lines" % (len(diff) - 40) if len(diff) > 40 else ""))
    if update:
        print("wrote %d golden outputs to %s" % (n, expected_dir))
        return 0
    print("%d of %d golden outputs differ%s" % (len(failed), n, (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
