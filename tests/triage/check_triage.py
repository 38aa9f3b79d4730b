#!/usr/bin/env python3
"""`coresift triage` on the triage corpus (corpus/triage, cores made by the ctest fixture)
against the truth each run recorded (truth.json):

  * every core in exactly the group of its bug, one group per bug, stripped and unstripped
    builds of the binary together;
  * each core's signal, si_code, fault address, reason kind and glibc abort message right;
  * heap findings on the double-free and top-overflow cores;
  * systemd-coredump's user.coredump.timestamp xattr is the core's time;
  * the files that are not cores (the binaries, debug files, truth.json) are error rows, the
    batch goes on, exit 0; a batch of nothing but bad inputs (empty, cut, text) exits 3;
  * the document validates against docs/schema/triage.schema.json (when jsonschema exists).

usage: check_triage.py CORESIFT SOURCE_DIR CORES_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

REASON = {"null": "null-dereference", "double_free": "heap-corruption-abort",
          "top_overflow": "heap-corruption-abort", "stack_overflow": "stack-overflow", "assert": "assert",
          "abort_msg": "abort", "readonly": "write-to-read-only"}
HEAP_FINDINGS = {"double_free", "top_overflow"}


def triage(coresift, args):
    p = subprocess.run([coresift, "triage", "--json", "--jobs", "2", *args], capture_output=True, text=True, timeout=600)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr


def main():
    coresift, src, cores = sys.argv[1:4]
    if not os.path.exists(os.path.join(cores, "truth.json")):
        print("SKIPPED: no triage cores in %s (triage_cores_make could not make them)" % cores)
        return 77
    truth = json.load(open(os.path.join(cores, "truth.json")))
    bad = []
    rc, doc, err = triage(coresift, ["--module-dir", os.path.join(cores, "bin"), cores])
    if rc != 0 or doc is None:
        print("FAILED: triage exited %d: %s" % (rc, err[-500:]))
        return 1
    rows = {os.path.basename(c["path"]): c for c in doc["cores"]}
    groups_of_bug, bug_of_group = {}, {}
    for t in truth:
        c = rows.get(t["core"])
        if c is None or c["error"]:
            bad.append("%s: no triage row (%s)" % (t["core"], c and c["error"]))
            continue
        want = {"signal_name": t["signal"], "si_code_name": t["si_code_name"], "fault_address": t["fault_address"]}
        if t.get("abort_message"):
            want["abort_message"] = t["abort_message"]
        for k, v in want.items():
            if c[k] != v:
                bad.append("%s: %s %r, expected %r" % (t["core"], k, c[k], v))
        if c["reason"]["kind"] != REASON[t["bug"]]:
            bad.append("%s: reason %s, expected %s" % (t["core"], c["reason"]["kind"], REASON[t["bug"]]))
        if t["bug"] in HEAP_FINDINGS and not c["heap_findings"]:
            bad.append("%s: no heap finding" % t["core"])
        groups_of_bug.setdefault(t["bug"], set()).add(c["group"])
        bug_of_group.setdefault(c["group"], set()).add(t["bug"])
    for bug, groups in sorted(groups_of_bug.items()):
        if len(groups) != 1:
            bad.append("bug %s split over %d groups %s" % (bug, len(groups), sorted(groups)))
    for group, bugs in sorted(bug_of_group.items()):
        if len(bugs) != 1:
            bad.append("group %s mixes bugs %s" % (group, sorted(bugs)))
    for bug in groups_of_bug:
        kinds = {t["binary"] for t in truth if t["bug"] == bug}
        if kinds != {"full", "stripped"}:
            bad.append("bug %s: the corpus lacks a %s core" % (bug, "full" if "full" not in kinds else "stripped"))
    non_cores = [c for c in doc["cores"] if os.path.basename(c["path"]) not in {t["core"] for t in truth}]
    if not non_cores or any(not c["error"] for c in non_cores):
        bad.append("the non-core files are not all error rows: %s" % [(c["path"], c["error"]) for c in non_cores])
    print("%d cores, %d groups for %d bugs, %d non-core files as error rows" %
          (len(truth), len(bug_of_group), len(groups_of_bug), len(non_cores)))

    # A batch of nothing but bad inputs: error rows, exit 3; with one good core among them: 0.
    tmp = tempfile.mkdtemp(prefix="triage-bad.")
    try:
        open(os.path.join(tmp, "empty.core"), "wb").close()
        with open(os.path.join(cores, truth[0]["core"]), "rb") as f:
            head = f.read(600)
        with open(os.path.join(tmp, "cut.core.zst"), "wb") as f:
            f.write(head)
        with open(os.path.join(tmp, "notes.txt"), "w") as f:
            f.write("not a core\n")
        rc, d, err = triage(coresift, [tmp])
        if rc != 3 or d is None or d["totals"]["triaged"] != 0 or d["totals"]["errors"] != 3:
            bad.append("bad inputs only: exit %d, totals %s" % (rc, d and d["totals"]))
        rc, d, err = triage(coresift, [tmp, os.path.join(cores, truth[0]["core"])])
        if rc != 0 or d is None or d["totals"]["triaged"] != 1 or d["totals"]["errors"] != 3:
            bad.append("bad inputs and one core: exit %d, totals %s" % (rc, d and d["totals"]))
        # systemd-coredump's timestamp xattr is the core's time (1700000000 s = 2023-11-14T22:13:20Z).
        stamped = os.path.join(tmp, "stamped.core.zst")
        shutil.copy(os.path.join(cores, truth[0]["core"]), stamped)
        try:
            os.setxattr(stamped, "user.coredump.timestamp", b"1700000000123456")
        except OSError as e:
            print("(no user xattrs on %s: %s; the systemd-coredump time is not checked)" % (tmp, e))
        else:
            rc, d, err = triage(coresift, [stamped])
            row = d["cores"][0] if d else {}
            if (row.get("time"), row.get("time_source")) != ("2023-11-14T22:13:20Z", "systemd-coredump"):
                bad.append("systemd-coredump timestamp: got %s" % ((row.get("time"), row.get("time_source")),))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    try:
        import jsonschema
        schema = json.load(open(os.path.join(src, "docs", "schema", "triage.schema.json")))
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        for e in errors[:10]:
            bad.append("schema: $%s: %s" % ("".join("[%r]" % p for p in e.path), e.message[:200]))
    except ImportError:
        print("(jsonschema missing: the document is not validated)")

    for b in bad:
        print("FAILED: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
