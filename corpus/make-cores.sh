#!/usr/bin/env bash
# make-cores.sh - build the corpus programs and produce core files with
# their ground truth.  See corpus/README.md.
#
# usage: corpus/make-cores.sh [options] [OUTDIR]      (default corpus/cores)
#   --no-compress   keep .core/.bin uncompressed (default: zstd -19 --rm)
#   --no-verify     skip the gdb and check_core.py verification
#   --lenient       verification failures are warnings, exit status 0
#   --no-kcore      skip kernel cores
#   --no-gcore      skip gcore cores and memory dumps
#   -h, --help
# environment:
#   CC (gcc)  CFLAGS_EXTRA  GDB (gdb)  PYTHON (python3)  ZSTD (zstd)
#   ZSTD_LEVEL (19)  STRIP (strip)  READY_TIMEOUT (20 s)
#   NO_ASLR (1: run the programs under `setarch -R` when available, so
#            addresses repeat between runs; 0: normal ASLR)
#   CORE_PATTERN_FILE (/proc/sys/kernel/core_pattern; override for tests)
#   PREFIX_CMD  words put in front of every program run, e.g. "nice -n5".
#            Paths must be valid for the prefixed command too.  For other
#            Debian suites run this whole script inside the chroot instead
#            (see README.md), so gdb and libc debug symbols match.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/src
TOOLS=$HERE/tools

COMPRESS=1 VERIFY=1 STRICT=1 DO_KCORE=1 DO_GCORE=1
OUTDIR=
while [[ $# -gt 0 ]]; do
    case $1 in
        --no-compress) COMPRESS=0 ;;
        --no-verify) VERIFY=0 ;;
        --lenient) STRICT=0 ;;
        --no-kcore) DO_KCORE=0 ;;
        --no-gcore) DO_GCORE=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "make-cores: unknown option $1" >&2; exit 2 ;;
        *) [[ -z $OUTDIR ]] || { echo "make-cores: one OUTDIR only" >&2; exit 2; }
           OUTDIR=$1 ;;
    esac
    shift
done

CC=${CC:-gcc}
GDB=${GDB:-gdb}
PYTHON=${PYTHON:-python3}
ZSTD=${ZSTD:-zstd}
ZSTD_LEVEL=${ZSTD_LEVEL:-19}
STRIP=${STRIP:-strip}
READY_TIMEOUT=${READY_TIMEOUT:-20}
NO_ASLR=${NO_ASLR:-1}
CORE_PATTERN_FILE=${CORE_PATTERN_FILE:-/proc/sys/kernel/core_pattern}
read -r -a CC_CMD <<<"$CC"
read -r -a GDB_CMD <<<"$GDB"
read -r -a PREFIX <<<"${PREFIX_CMD:-}"

OUTDIR=${OUTDIR:-$HERE/cores}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
BIN=$OUTDIR/bin

log() { printf 'make-cores: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in "${CC_CMD[0]}" "${GDB_CMD[0]}" "$PYTHON" "$STRIP" readelf; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[[ $COMPRESS == 0 ]] || command -v "$ZSTD" >/dev/null || die "$ZSTD not found (or use --no-compress)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coresift-corpus.XXXXXX")
CHILDREN=()
cleanup() {
    local p
    for p in "${CHILDREN[@]}"; do
        kill -9 "$p" 2>/dev/null || true
    done
    for p in "${CHILDREN[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

START_TIME=$SECONDS
VERIFY_FAILED=()

# ---- run prefix: PREFIX_CMD + optional setarch -R -------------------------
RUN=()
ASLR=true
if [[ $NO_ASLR == 1 ]]; then
    if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
        RUN=(setarch "$(uname -m)" -R)
        ASLR=false
    else
        log "setarch -R unavailable: running with ASLR"
    fi
fi
RUN+=("${PREFIX[@]}")

# ---- build ---------------------------------------------------------------
rm -rf "$BIN"
mkdir -p "$BIN"
rm -f "$OUTDIR"/*.core "$OUTDIR"/*.core.zst "$OUTDIR"/*.truth.json "$OUTDIR"/*.bin \
      "$OUTDIR"/*.bin.zst "$OUTDIR"/*.maps "$OUTDIR"/*.gdb.txt

CFLAGS=(-std=c11 -O0 -g -fno-omit-frame-pointer -pthread -Wall -Wextra
        "-ffile-prefix-map=$HERE/=corpus/")
read -r -a CFLAGS_X <<<"${CFLAGS_EXTRA:-}"
PROGRAMS=(census crash_segv crash_abort corrupt_top double_free)
for p in "${PROGRAMS[@]}"; do
    log "build $p"
    "${CC_CMD[@]}" "${CFLAGS[@]}" "${CFLAGS_X[@]}" -o "$BIN/$p" "$SRC/$p.c"
done
"$STRIP" -o "$BIN/crash_segv-stripped" "$BIN/crash_segv"

# ---- helpers ---------------------------------------------------------------
build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID:/ {print $3; exit}'; }

os_name() {
    if [[ -r /etc/os-release ]]; then
        (. /etc/os-release && printf '%s' "${PRETTY_NAME:-$ID}")
    else
        printf 'unknown'
    fi
}
PLATFORM_OS=$(os_name)
PLATFORM_KERNEL=$(uname -r)
PLATFORM_CC=$("${CC_CMD[@]}" --version | head -n1)
PLATFORM_GDB=$("${GDB_CMD[@]}" --version | head -n1)

# write the generator record (JSON) for one core
generator_json() { # OUT KIND CORE_FILE BINARY_NAME
    local out=$1 kind=$2 core_file=$3 binary=$4 libc_path=${5:-}
    local stripped=false libc_id=
    [[ $binary == *-stripped ]] && stripped=true
    [[ -n $libc_path && -r $libc_path ]] && libc_id=$(build_id "$libc_path")
    KIND=$kind CORE_FILE=$core_file BINARY=$binary STRIPPED=$stripped \
    BUILD_ID=$(build_id "$BIN/$binary") LIBC_PATH=$libc_path LIBC_ID=$libc_id \
    ASLR=$ASLR COMPRESSED=$COMPRESS P_OS=$PLATFORM_OS P_KERNEL=$PLATFORM_KERNEL \
    P_CC=$PLATFORM_CC P_GDB=$PLATFORM_GDB PREFIX_CMD=${PREFIX_CMD:-} \
    "$PYTHON" - "$out" <<'EOF'
import json, os, sys
e = os.environ
gen = {
    "script": "corpus/make-cores.sh",
    "core_kind": e["KIND"],
    "core_file": e["CORE_FILE"],
    "binary": "bin/" + e["BINARY"],
    "binary_stripped": e["STRIPPED"] == "true",
    "binary_build_id": e["BUILD_ID"] or None,
    "libc_path": e["LIBC_PATH"] or None,
    "libc_build_id": e["LIBC_ID"] or None,
    "aslr": e["ASLR"] == "true",
    "compressed": e["COMPRESSED"] == "1",
    "prefix_cmd": e["PREFIX_CMD"] or None,
    "platform": {"os": e["P_OS"], "kernel": e["P_KERNEL"], "cc": e["P_CC"], "gdb": e["P_GDB"]},
}
with open(sys.argv[1], "w") as f:
    json.dump(gen, f)
EOF
}

# verify a core and merge everything into its truth (before compression)
finish_case() { # NAME KIND BINARY [DUMPS_JSON]
    local name=$1 kind=$2 binary=$3 dumps=${4:-}
    local base=$OUTDIR/$name.$kind
    local truth=$base.truth.json core=$base.core
    local gdbj=$WORK/$name.$kind.gdb.json checkj=$WORK/$name.$kind.check.json
    local final=$name.$kind.core
    [[ $COMPRESS == 1 ]] && final=$final.zst
    local args=()
    if [[ $VERIFY == 1 ]]; then
        if CORPUS_TRUTH=$truth CORPUS_OUT=$gdbj CORPUS_CORE_KIND=$kind \
           CORPUS_BT_OUT=$base.gdb.txt \
           timeout 300 "${GDB_CMD[@]}" -batch -nx -x "$TOOLS/gdb_check.py" "$BIN/$binary" "$core" \
               >"$WORK/$name.$kind.gdb.log" 2>&1 && [[ -s $gdbj ]]; then
            grep '^gdb_check\|FAIL' "$WORK/$name.$kind.gdb.log" >&2 || true
            args+=(--gdb "$gdbj")
            "$PYTHON" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' \
                "$gdbj" || VERIFY_FAILED+=("$name.$kind (gdb)")
        else
            cat "$WORK/$name.$kind.gdb.log" >&2
            VERIFY_FAILED+=("$name.$kind (gdb did not run)")
        fi
        if "$PYTHON" "$TOOLS/check_core.py" --binary "$BIN/$binary" --kind "$kind" \
               --json "$checkj" "$truth" "$core" >&2; then
            :
        else
            VERIFY_FAILED+=("$name.$kind (check_core)")
        fi
        [[ -s $checkj ]] && args+=(--check "$checkj")
    fi
    local libc_path=
    [[ -s $checkj ]] && libc_path=$("$PYTHON" -c \
        'import json,sys; print(json.load(open(sys.argv[1]))["info"].get("libc_path") or "")' "$checkj")
    generator_json "$WORK/$name.$kind.gen.json" "$kind" "$final" "$binary" "$libc_path"
    [[ -n $dumps ]] && args+=(--dumps "$dumps")
    "$PYTHON" "$TOOLS/annotate_truth.py" "$truth" --generator "$WORK/$name.$kind.gen.json" "${args[@]}"
}

wait_ready() { # OUTFILE PID
    local out=$1 pid=$2 i
    for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
        grep -q READY "$out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$out.err" >&2 || true; die "process $pid exited before READY"; }
        sleep 0.1
    done
    die "timeout waiting for READY from $pid"
}

stop_child() { # PID
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---- gcore cases -------------------------------------------------------
gcore_case() { # NAME BINARY ARGS...   (program must accept TRUTH first)
    local name=$1 binary=$2
    shift 2
    local truth=$OUTDIR/$name.gcore.truth.json core=$OUTDIR/$name.gcore.core
    local out=$WORK/$name.gcore.out
    log "gcore $name"
    "${RUN[@]}" "$BIN/$binary" "$truth" "$@" >"$out" 2>"$out.err" &
    local pid=$!
    CHILDREN+=("$pid")
    wait_ready "$out" "$pid"

    local gdb_ex=() dumps=
    if [[ $name == census ]]; then
        cp "/proc/$pid/maps" "$OUTDIR/census.maps"
        dumps=$WORK/census.dumps.json
        # [heap] and worker 1's arena heap (64 MiB aligned, rw part)
        "$PYTHON" - "$truth" "/proc/$pid/maps" "$dumps" "$COMPRESS" >"$WORK/dump.cmds" <<'EOF'
import json, sys
truth = json.load(open(sys.argv[1]))
heap_max = truth["malloc_params"]["heap_max_size"]
arena = int(truth["threads"][1]["arena"], 16)
heap_info = arena & ~(heap_max - 1)
dumps = []
for line in open(sys.argv[2]):
    f = line.split()
    s, e = (int(x, 16) for x in f[0].split("-"))
    if len(f) >= 6 and f[5] == "[heap]":
        dumps.append(("census.heap.bin", s, e, "main_heap", 0))
    elif s == heap_info and f[1].startswith("rw"):
        dumps.append(("census.arena1.bin", s, e, "arena_heap", 1))
kinds = sorted(d[3] for d in dumps)
if kinds != ["arena_heap", "main_heap"]:
    sys.exit("dump ranges not found in maps: %s" % kinds)
suffix = ".zst" if sys.argv[4] == "1" else ""
rec = [{"file": n + suffix, "start": "0x%x" % s, "end": "0x%x" % e, "size": e - s,
        "kind": k, "thread": t, "arena": None if k == "main_heap" else "0x%x" % arena}
       for n, s, e, k, t in dumps]
json.dump(rec, open(sys.argv[3], "w"))
for n, s, e, k, t in dumps:
    print("%s 0x%x 0x%x" % (n, s, e))
EOF
        local f s e
        while read -r f s e; do
            gdb_ex+=(-ex "dump memory $OUTDIR/$f $s $e")
        done <"$WORK/dump.cmds"
    fi
    timeout 300 "${GDB_CMD[@]}" -batch -nx -p "$pid" "${gdb_ex[@]}" -ex "gcore $core" \
        >"$WORK/$name.gcore.gdb.log" 2>&1 || { cat "$WORK/$name.gcore.gdb.log" >&2; die "gdb gcore failed"; }
    [[ -s $core ]] || { cat "$WORK/$name.gcore.gdb.log" >&2; die "gcore produced no $core"; }
    stop_child "$pid"
    finish_case "$name" gcore "$binary" "$dumps"
}

# ---- kernel core cases -----------------------------------------------------
KCORE_OK=1
kcore_check() {
    local pattern
    pattern=$(cat "$CORE_PATTERN_FILE" 2>/dev/null || echo '?')
    if [[ $pattern == \|* ]]; then
        log "SKIP kernel cores: core_pattern pipes cores to a helper ($pattern);"
        log "     set it to 'core' (sysctl kernel.core_pattern=core) to get them"
        KCORE_OK=0
    elif [[ $pattern == */* ]]; then
        log "SKIP kernel cores: core_pattern '$pattern' writes outside the working directory"
        KCORE_OK=0
    elif ! (ulimit -c unlimited) 2>/dev/null; then
        log "SKIP kernel cores: cannot raise the core size limit (ulimit -c unlimited)"
        KCORE_OK=0
    fi
}

kcore_case() { # NAME BINARY EXPECTED_SIGNAL ARGS...
    local name=$1 binary=$2 sig=$3
    shift 3
    local dir=$WORK/k-$name truth=$OUTDIR/$name.kcore.truth.json
    mkdir -p "$dir"
    log "kcore $name"
    local rc=0
    # the outer 2>/dev/null only hides bash's "Aborted (core dumped)" notice
    { (cd "$dir" && ulimit -c unlimited &&
        exec timeout -s KILL 60 "${RUN[@]}" "$BIN/$binary" "$truth" "$@") \
        >"$dir/stdout" 2>"$dir/stderr"; } 2>/dev/null || rc=$?
    if [[ $rc != $((128 + sig)) ]]; then
        cat "$dir/stderr" >&2
        die "$name exited with status $rc, expected signal $sig"
    fi
    local cores=()
    mapfile -t cores < <(find "$dir" -maxdepth 1 -type f ! -name stdout ! -name stderr)
    [[ ${#cores[@]} == 1 ]] || die "$name: expected one core file in $dir, found ${#cores[@]}"
    mv "${cores[0]}" "$OUTDIR/$name.kcore.core"
    finish_case "$name" kcore "$binary"
}

# ---- run -----------------------------------------------------------------
if [[ $DO_GCORE == 1 ]]; then
    gcore_case census census wait
    gcore_case crash_segv crash_segv wait
fi
if [[ $DO_KCORE == 1 ]]; then
    kcore_check
    if [[ $KCORE_OK == 1 ]]; then
        kcore_case census census 11 segv
        kcore_case crash_segv crash_segv 11
        kcore_case crash_segv-stripped crash_segv-stripped 11
        kcore_case crash_abort crash_abort 6
        kcore_case corrupt_top corrupt_top 6
        kcore_case double_free double_free 6
    fi
fi

if [[ $COMPRESS == 1 ]]; then
    log "compress (zstd -$ZSTD_LEVEL)"
    for f in "$OUTDIR"/*.core "$OUTDIR"/*.bin; do
        [[ -e $f ]] || continue
        "$ZSTD" -q -f "-$ZSTD_LEVEL" --rm "$f"
    done
fi

# ---- summary -------------------------------------------------------------
echo "== corpus files in $OUTDIR"
total=0
while IFS= read -r f; do
    sz=$(stat -c %s "$f")
    total=$((total + sz))
    printf '%10d  %s\n' "$sz" "${f#"$OUTDIR"/}"
done < <(find "$OUTDIR" -type f | sort)
printf '%10d  total\n' "$total"
echo "== took $((SECONDS - START_TIME)) s"

if [[ ${#VERIFY_FAILED[@]} -gt 0 ]]; then
    log "verification FAILED for: ${VERIFY_FAILED[*]}"
    [[ $STRICT == 1 ]] && exit 1
    log "(--lenient: not an error)"
elif [[ $VERIFY == 1 ]]; then
    echo "== verification passed (gdb_check.py + check_core.py) for every core made"
fi
