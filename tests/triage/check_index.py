#!/usr/bin/env python3
"""The triage index (--db), reruns, shards and their merge, on the triage corpus.

Usage: check_index.py CORESIFT SOURCE_DIR CORES_DIR [--parallel]

CORES_DIR holds the cores corpus/triage/make-triage-cores.sh made (ctest fixture
triage_cores); bad inputs (empty, truncated, not a core) are added beside them.
  * one run with --db: every input is a row of `cores` (by content hash), every group a row
    of `groups`, frames stored; the report equals the run without --db (same cores, groups);
  * a rerun adds no core, no group and no frame (only a row to `runs`), and reports the same;
    --new then lists no group;
  * --shard I/3 for I = 0, 1, 2 into three indexes, each core in exactly one shard; --merge of
    the three into a fourth reports what the single run reported.
With --parallel the shards are run by GNU parallel as docs/triage.md's recipe does (exit 77
when `parallel` is not installed). Exit 0 pass, 1 fail, 77 skip."""
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode not in (0,):
        raise SystemExit("FAIL: %s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr[-600:]))
    return p.stdout


def comparable(doc):
    """The report without what differs between equal answers: run-relative 'new' flags."""
    doc = json.loads(json.dumps(doc))
    for g in doc["groups"]:
        g.pop("new", None)
    doc["groups"].sort(key=lambda g: (-g["count"], g["group"]))
    return doc


def counts(db):
    c = sqlite3.connect(db)
    out = {t: c.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in ("cores", "groups", "frames", "runs")}
    c.close()
    return out


def main():
    coresift, src, cores_dir = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    use_parallel = "--parallel" in sys.argv
    if not os.path.isdir(cores_dir) or not glob.glob(os.path.join(cores_dir, "*.core.zst")):
        print("SKIPPED: no triage cores in %s" % cores_dir)
        return 77
    if use_parallel and not shutil.which("parallel"):
        print("SKIPPED: GNU parallel is not installed (Debian package parallel)")
        return 77
    problems = []
    work = tempfile.mkdtemp(prefix="coresift-index-")
    try:
        inputs = os.path.join(work, "in")
        os.mkdir(inputs)
        for c in sorted(glob.glob(os.path.join(cores_dir, "*.core.zst"))):
            os.symlink(c, os.path.join(inputs, os.path.basename(c)))
        open(os.path.join(inputs, "empty.core"), "wb").close()
        with open(os.path.join(inputs, "text.core"), "w") as f:
            f.write("not a core\n")
        first = sorted(glob.glob(os.path.join(cores_dir, "*.core.zst")))[0]
        with open(first, "rb") as f, open(os.path.join(inputs, "truncated.core"), "wb") as g:
            g.write(f.read(3000))
        n_inputs = len(os.listdir(inputs))
        common = ["--json", "--jobs", "2", "--module-dir", os.path.join(cores_dir, "bin")]

        plain = comparable(json.loads(run([coresift, "triage", *common, inputs])))
        db = os.path.join(work, "one.sqlite")
        one_doc = json.loads(run([coresift, "triage", "--db", db, *common, inputs]))
        one = comparable(one_doc)
        c1 = counts(db)
        if c1["cores"] != n_inputs:
            problems.append("index holds %d cores, %d inputs were given" % (c1["cores"], n_inputs))
        if c1["groups"] != len(plain["groups"]):
            problems.append("index holds %d groups, the report %d" % (c1["groups"], len(plain["groups"])))
        if c1["frames"] == 0:
            problems.append("no frames stored")
        if not all(g.get("new") for g in one_doc["groups"]):
            problems.append("first run: not every group is new")
        # The report from the index lists cores by path; the plain run does too (sorted inputs).
        if one != plain:
            problems.append("the report with --db differs from the one without")
        again_doc = json.loads(run([coresift, "triage", "--db", db, "--new", *common, inputs]))
        c2 = counts(db)
        for t in ("cores", "groups", "frames"):
            if c2[t] != c1[t]:
                problems.append("a rerun changed %s: %d -> %d" % (t, c1[t], c2[t]))
        if c2["runs"] != c1["runs"] + 1:
            problems.append("a rerun should add one run, runs %d -> %d" % (c1["runs"], c2["runs"]))
        if again_doc["groups"]:
            problems.append("--new on a rerun lists %d groups" % len(again_doc["groups"]))
        if again_doc["cores"] != one_doc["cores"]:
            problems.append("a rerun reports other cores")

        shards = [os.path.join(work, "shard%d.sqlite" % i) for i in range(3)]
        if use_parallel:
            # The recipe of docs/triage.md, "One machine or several: GNU parallel".
            subprocess.run(["parallel", "-j2", "--halt", "now,fail=1", coresift, "triage", "--shard", "{}/3", "--db",
                            os.path.join(work, "shard{}.sqlite"), "--jobs", "1", "--module-dir",
                            os.path.join(cores_dir, "bin"), inputs, ">", "/dev/null", ":::", "0", "1", "2"],
                           check=True, timeout=600, shell=False)
        else:
            for i, s in enumerate(shards):
                run([coresift, "triage", "--shard", "%d/3" % i, "--db", s, *common, inputs])
        sizes = [counts(s)["cores"] for s in shards]
        if sum(sizes) != n_inputs:
            problems.append("shards hold %s cores, %d inputs" % (sizes, n_inputs))
        merged_db = os.path.join(work, "all.sqlite")
        merged = comparable(json.loads(run([coresift, "triage", "--merge", *shards, "--db", merged_db, "--json"])))
        if merged != one:
            problems.append("the merged shards report differently from one run")
        print("%d inputs; index: %s; shards: %s; merged: %d cores, %d groups%s"
              % (n_inputs, c1, sizes, len(merged["cores"]), len(merged["groups"]), " (GNU parallel)" if use_parallel else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("FAILED: " + p)
    print("PASS" if not problems else "FAIL: %d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
