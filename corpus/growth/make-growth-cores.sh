#!/usr/bin/env bash
# make-growth-cores.sh - build growth.c and take gcores of it at its two
# snapshots, for `coresift diff`.  See corpus/growth/README.md.
#
# usage: corpus/growth/make-growth-cores.sh OUTDIR
# environment: CC (gcc)  GDB (gdb)  PYTHON (python3)  READY_TIMEOUT (20 s)
#   NO_ASLR (1: run A under setarch -R; run B always runs with ASLR)
#   VERIFY (1: check every core with gdb_growth.py; 0: skip)
# exit status: 0 ok, 77 skipped (no gdb, or ptrace not allowed), 1 error, 2 usage
# Output: OUTDIR/bin/growth, OUTDIR/growth.1.core, growth.2.core (run A, one
#   process), OUTDIR/growth-b.2.core (run B, another process), each with its
#   <core name>.truth.json (the program's truth + "generator" + "verification")
#   and <core name>.check.json (gdb_growth.py's result)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# == 1 && $1 != -* ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

CC=${CC:-gcc}
GDB=${GDB:-gdb}
PYTHON=${PYTHON:-python3}
READY_TIMEOUT=${READY_TIMEOUT:-20}
NO_ASLR=${NO_ASLR:-1}
VERIFY=${VERIFY:-1}
read -r -a CC_CMD <<<"$CC"
read -r -a GDB_CMD <<<"$GDB"

log() { printf "make-growth-cores: [%3ds] %s\n" "$SECONDS" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }

START=$SECONDS
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)
BIN=$OUTDIR/bin
# old outputs go first, so a skipped or failed run leaves no stale cores behind
rm -rf "$BIN"
rm -f "$OUTDIR"/growth*.core "$OUTDIR"/growth*.truth.json "$OUTDIR"/growth*.check.json

command -v "${GDB_CMD[0]}" >/dev/null || skip "${GDB_CMD[0]} not found (gcore needs gdb)"
for tool in "${CC_CMD[0]}" "$PYTHON" readelf timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
if [[ $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) == 3 ]]; then
    skip "ptrace is disabled (kernel.yama.ptrace_scope=3)"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coresift-growth.XXXXXX")
CHILDREN=()
cleanup() {
    local p
    for p in "${CHILDREN[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${CHILDREN[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

RUN_A=()
ASLR_A=true
if [[ $NO_ASLR == 1 ]] && command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    RUN_A=(setarch "$(uname -m)" -R)
    ASLR_A=false
fi
ASLR_SYSTEM=$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo unknown)

# ---- build ------------------------------------------------------------------
mkdir -p "$BIN"
log "build $BIN/growth"
"${CC_CMD[@]}" -std=c11 -O0 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -I "$HERE/../src" \
    "-ffile-prefix-map=$HERE/=corpus/growth/" "-ffile-prefix-map=$HERE/../src/=corpus/src/" \
    -Wl,--build-id -o "$BIN/growth" "$HERE/growth.c"
BUILD_ID=$(readelf -n "$BIN/growth" | awk '/Build ID:/ {print $3; exit}')
GDB_VERSION=$("${GDB_CMD[@]}" --version | head -n 1)
CC_VERSION=$("${CC_CMD[@]}" --version | head -n 1)
# no separate debug info (libc6-dbg): not needed, and loading it doubles gdb's time
GDB_FAST=(-iex "set debug-file-directory /nonexistent")

# ---- run helpers ----------------------------------------------------------------
wait_ready() { # OUT PID K
    local i
    for ((i = 0; i < READY_TIMEOUT * 20; i++)); do
        grep -q "^READY $3\$" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { cat "$1.err" >&2 || true; die "growth (pid $2) exited before READY $3"; }
        sleep 0.05
    done
    die "timeout waiting for READY $3 from pid $2"
}

take_gcore() { # PID CORE
    local log=$WORK/$(basename "$2").gdb.log
    if ! timeout 120 "${GDB_CMD[@]}" -batch -nx "${GDB_FAST[@]}" -p "$1" -ex "gcore $2" >"$log" 2>&1 || [[ ! -s $2 ]]; then
        if grep -qiE 'ptrace: Operation not permitted|could not attach|not permitted' "$log"; then
            skip "gdb cannot attach to pid $1 (ptrace not allowed here): $(grep -iE 'ptrace|attach' "$log" | head -n 1)"
        fi
        cat "$log" >&2
        die "gcore of pid $1 failed"
    fi
}

# run NAME TRUTHDIR GCORE_AT... : one process of growth, gcores at the listed snapshots
run_growth() {
    local name=$1 tdir=$2 aslr=$3
    shift 3
    local out=$WORK/$name.out pid k
    local run=("${RUN_A[@]}")
    [[ $aslr == true ]] && run=()
    "${run[@]}" "$BIN/growth" "$tdir" "$name" >"$out" 2>"$out.err" &
    pid=$!
    CHILDREN+=("$pid")
    for k in 1 2; do
        wait_ready "$out" "$pid" "$k"
        if [[ " $* " == *" $k "* ]]; then
            take_gcore "$pid" "$OUTDIR/$name.$k.core"
            [[ $tdir == "$OUTDIR" ]] || mv "$tdir/$name.$k.truth.json" "$OUTDIR/"
            ANNOTATE+=("$name.$k" "$aslr")
            log "$name.$k.core: pid $pid, $(du -h "$OUTDIR/$name.$k.core" | cut -f1)"
        fi
        kill -USR1 "$pid"
    done
    local rc=0
    wait "$pid" || rc=$?
    [[ $rc == 0 ]] || { cat "$out.err" >&2; die "growth $name exited with status $rc"; }
}

ANNOTATE=() # core name, run with ASLR: for the "generator" added at the end
# run A: both snapshots of one process; run B: another process (ASLR on), snapshot 2
run_growth growth "$OUTDIR" "$ASLR_A" 1 2
run_growth growth-b "$WORK" true 2

# ---- verification (gdb, independent of coresift) --------------------------------
CORES=(growth.1 growth.2 growth-b.2)
if [[ $VERIFY == 1 ]]; then
    cases=
    for core in "${CORES[@]}"; do
        cases+=${cases:+,}$(printf '{"truth": "%s", "core": "%s", "out": "%s"}' \
            "$OUTDIR/$core.truth.json" "$OUTDIR/$core.core" "$OUTDIR/$core.check.json")
    done
    # one gdb session for the three cores (core-file each in turn)
    GROWTH_CASES="[$cases]" timeout 120 "${GDB_CMD[@]}" -batch -nx "${GDB_FAST[@]}" -x "$HERE/gdb_growth.py" \
        "$BIN/growth" >"$WORK/verify.log" 2>&1 || true
    for core in "${CORES[@]}"; do
        [[ -s $OUTDIR/$core.check.json ]] || { cat "$WORK/verify.log" >&2; die "$core: gdb_growth.py wrote no result"; }
    done
fi

# ---- truth: add "generator" and "verification"; runs A and B must differ in addresses ----
# (one python run: starting python is slow on a loaded machine)
"$PYTHON" - "$OUTDIR" "$BUILD_ID" "$ASLR_SYSTEM" "$GDB_VERSION" "$CC_VERSION" "$VERIFY" "${ANNOTATE[@]}" <<'EOF' ||
import json, os, sys
outdir, build_id, aslr_sys, gdb_v, cc_v, verify = sys.argv[1:7]
runs = dict(zip(sys.argv[7::2], sys.argv[8::2]))
bad = 0
first = {}
for name, aslr in runs.items():
    path = os.path.join(outdir, name + ".truth.json")
    core = os.path.join(outdir, name + ".core")
    t = json.load(open(path))
    t["generator"] = {"script": "corpus/growth/make-growth-cores.sh", "core_kind": "gcore",
                      "core_file": name + ".core", "core_bytes": os.path.getsize(core),
                      "binary": "bin/growth", "binary_build_id": build_id,
                      "aslr": aslr == "true", "randomize_va_space": aslr_sys,
                      "platform": {"kernel": os.uname().release, "cc": cc_v, "gdb": gdb_v}}
    t["verification"] = None
    if verify == "1":
        c = json.load(open(os.path.join(outdir, name + ".check.json")))
        t["verification"] = {"gdb": c}
        for f in c["failures"]:
            print("make-growth-cores: %s: %s" % (name, f), file=sys.stderr)
        print("make-growth-cores: %s.core: %s (%s)" % (name, "verified" if c["ok"] else "FAILED",
              ", ".join("%s %s" % kv for kv in c["checked"].items())), file=sys.stderr)
        bad += not c["ok"]
    json.dump(t, open(path, "w"), indent=1)
    first[name] = t["classes"][0]["addresses"][0]
if first["growth.2"] == first["growth-b.2"]:
    msg = "runs A and B have the same addresses (%s)" % first["growth.2"]
    if aslr_sys != "0":
        print("make-growth-cores: ERROR: %s although ASLR is on" % msg, file=sys.stderr)
        bad += 1
    else:
        print("make-growth-cores: WARNING: %s (randomize_va_space=0)" % msg, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
    die "verification failed (cores and truth kept in $OUTDIR)"
log "3 cores in $OUTDIR ($(du -ch "$OUTDIR"/*.core | tail -n 1 | cut -f1)), $((SECONDS - START)) s"
