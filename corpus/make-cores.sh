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
#   CC (gcc)  CXX (g++, for objects.cpp; needs zlib1g-dev)  CFLAGS_EXTRA  GDB (gdb)  PYTHON (python3)  ZSTD (zstd)
#   ZSTD_LEVEL (19)  STRIP (strip)  READY_TIMEOUT (20 s)
#   NO_ASLR (1: run the programs under `setarch -R` when available, so
#            addresses repeat between runs; 0: normal ASLR)
#   CORE_PATTERN_FILE (/proc/sys/kernel/core_pattern; override for tests)
#   PREFIX_CMD  words put in front of every program run, e.g. "nice -n5".
#            Paths must be valid for the prefixed command too.  For other
#            Debian suites see chroot-cores.sh, which runs this script with
#            the programs compiled and run inside a debootstrap chroot.
#   CASES    which cores to make, e.g. "census.kcore double_free.kcore"
#            (default: all; only the files of the selected cases are
#            replaced in OUTDIR).  Cases: census.gcore crash_segv.gcore
#            census_je.gcore census.kcore crash_segv.kcore
#            crash_segv-stripped.kcore crash_abort.kcore corrupt_top.kcore
#            double_free.kcore census_je.kcore objects.gcore objects.kcore
#   JEMALLOC_LIB  libjemalloc.so.2 for the census_je cases (LD_PRELOAD),
#            as the program sees it (default: searched in the usual lib
#            directories under SYSROOT; census_je is skipped when absent)
#   SYSROOT  root directory the programs run in (chroot-cores.sh): gdb gets
#            `set sysroot`, library build-ids are read below it
#   GDB_DEBUG_DIR  extra `set debug-file-directory` for gdb (libc6-dbg of
#            the SYSROOT's libc unpacked somewhere)
#   GENERATOR_EXTRA  JSON object merged into every truth's "generator"
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
CXX=${CXX:-g++}
GDB=${GDB:-gdb}
PYTHON=${PYTHON:-python3}
ZSTD=${ZSTD:-zstd}
ZSTD_LEVEL=${ZSTD_LEVEL:-19}
STRIP=${STRIP:-strip}
READY_TIMEOUT=${READY_TIMEOUT:-20}
NO_ASLR=${NO_ASLR:-1}
CORE_PATTERN_FILE=${CORE_PATTERN_FILE:-/proc/sys/kernel/core_pattern}
read -r -a CC_CMD <<<"$CC"
read -r -a CXX_CMD <<<"$CXX"
read -r -a GDB_CMD <<<"$GDB"
read -r -a PREFIX <<<"${PREFIX_CMD:-}"
SYSROOT=${SYSROOT:-}
SYSROOT=${SYSROOT%/}
GDB_DEBUG_DIR=${GDB_DEBUG_DIR:-}
GENERATOR_EXTRA=${GENERATOR_EXTRA:-}
GDB_INIT=()
# (libthread_db comes from the sysroot too: needed for TLS such as `tcache`)
# solib-search-path: the sysroot's absolute symlinks (bullseye's
# /lib64/ld-linux-x86-64.so.2 -> /lib/...) would resolve on the host
[[ -z $SYSROOT ]] || GDB_INIT+=(-iex "set sysroot $SYSROOT" -iex "add-auto-load-safe-path $SYSROOT"
    -iex "set solib-search-path $SYSROOT/lib/x86_64-linux-gnu:$SYSROOT/usr/lib/x86_64-linux-gnu:$SYSROOT/lib64")
[[ -z $GDB_DEBUG_DIR ]] || GDB_INIT+=(-iex "set debug-file-directory $GDB_DEBUG_DIR")

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

# ---- cases -----------------------------------------------------------------
ALL_CASES=(census.gcore crash_segv.gcore census_je.gcore census.kcore crash_segv.kcore
           crash_segv-stripped.kcore crash_abort.kcore corrupt_top.kcore double_free.kcore
           census_je.kcore objects.gcore objects.kcore)
find_jemalloc() {
    local p
    for p in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 \
             /usr/lib/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2; do
        [[ -e $SYSROOT$p ]] && { printf '%s' "$p"; return; }
    done
}
JEMALLOC_LIB=${JEMALLOC_LIB-$(find_jemalloc)}
CASES_SET=0
if [[ -n ${CASES:-} ]]; then
    CASES_SET=1
    read -r -a CASE_LIST <<<"$CASES"
    for c in "${CASE_LIST[@]}"; do
        [[ " ${ALL_CASES[*]} " == *" $c "* ]] || die "unknown case $c (known: ${ALL_CASES[*]})"
        [[ $c != census_je.* || -n $JEMALLOC_LIB ]] || die "$c needs libjemalloc.so.2 (JEMALLOC_LIB)"
    done
else
    CASE_LIST=()
    for c in "${ALL_CASES[@]}"; do
        if [[ $c == census_je.* && -z $JEMALLOC_LIB ]]; then
            log "SKIP $c: libjemalloc.so.2 not found (install libjemalloc2 or set JEMALLOC_LIB)"
            continue
        fi
        CASE_LIST+=("$c")
    done
fi
want() { [[ " ${CASE_LIST[*]} " == *" $1 "* ]]; }

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
PROGRAMS=()
for c in "${CASE_LIST[@]}"; do
    p=${c%.*}
    p=${p%-stripped}
    [[ " ${PROGRAMS[*]} " == *" $p "* ]] || PROGRAMS+=("$p")
done
if [[ $CASES_SET == 0 ]]; then
    rm -rf "$BIN"
    rm -f "$OUTDIR"/*.core "$OUTDIR"/*.core.zst "$OUTDIR"/*.truth.json "$OUTDIR"/*.bin \
          "$OUTDIR"/*.bin.zst "$OUTDIR"/*.maps "$OUTDIR"/*.gdb.txt
else
    for c in "${CASE_LIST[@]}"; do
        rm -f "$OUTDIR/$c".core "$OUTDIR/$c".core.zst "$OUTDIR/$c".truth.json "$OUTDIR/$c".gdb.txt
        rm -f "$BIN/${c%.*}"
        case $c in
            census.gcore) rm -f "$OUTDIR"/census.maps "$OUTDIR"/census.*.bin "$OUTDIR"/census.*.bin.zst ;;
            census_je.gcore) rm -f "$OUTDIR"/census_je.maps ;;
        esac
    done
fi
mkdir -p "$BIN"

CFLAGS=(-std=c11 -O0 -g -fno-omit-frame-pointer -pthread -Wall -Wextra
        "-ffile-prefix-map=$HERE/=corpus/")
read -r -a CFLAGS_X <<<"${CFLAGS_EXTRA:-}"
CXXFLAGS=(-std=c++17 -O0 -g -fno-omit-frame-pointer -pthread -Wall -Wextra -D_GNU_SOURCE
          "-ffile-prefix-map=$HERE/=corpus/")
for p in "${PROGRAMS[@]}"; do
    log "build $p"
    if [[ -e $SRC/$p.cpp ]]; then # objects: C++ with zlib
        "${CXX_CMD[@]}" "${CXXFLAGS[@]}" "${CFLAGS_X[@]}" -o "$BIN/$p" "$SRC/$p.cpp" -lz
        continue
    fi
    libs=()
    [[ $p == census_je ]] && libs=(-ldl) # dlsym lives in libdl before glibc 2.34
    "${CC_CMD[@]}" "${CFLAGS[@]}" "${CFLAGS_X[@]}" -o "$BIN/$p" "$SRC/$p.c" "${libs[@]}"
done
# objects-stripped: the same program without symbols, for tests that name C++ classes
# from typeinfo alone (same build-id, so --module-dir accepts it for the objects cores)
if [[ " ${PROGRAMS[*]} " == *" objects "* ]]; then
    "$STRIP" -o "$BIN/objects-stripped" "$BIN/objects"
fi
if want crash_segv-stripped.kcore; then
    "$STRIP" -o "$BIN/crash_segv-stripped" "$BIN/crash_segv"
fi

# words put between the run prefix and a program (census_je: LD_PRELOAD)
prog_env() { # BINARY
    PROG_ENV=()
    [[ $1 != census_je ]] || PROG_ENV=(env "LD_PRELOAD=$JEMALLOC_LIB")
}

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
generator_json() { # OUT KIND CORE_FILE BINARY_NAME [CHECK_JSON]
    local out=$1 kind=$2 core_file=$3 binary=$4 checkj=${5:-}
    local stripped=false
    [[ $binary == *-stripped ]] && stripped=true
    KIND=$kind CORE_FILE=$core_file BINARY=$binary STRIPPED=$stripped \
    BUILD_ID=$(build_id "$BIN/$binary") CHECK_JSON=$checkj SYSROOT=$SYSROOT \
    ASLR=$ASLR COMPRESSED=$COMPRESS P_OS=$PLATFORM_OS P_KERNEL=$PLATFORM_KERNEL \
    P_CC=$PLATFORM_CC P_GDB=$PLATFORM_GDB PREFIX_CMD=${PREFIX_CMD:-} \
    JEMALLOC_LIB=$JEMALLOC_LIB GENERATOR_EXTRA=$GENERATOR_EXTRA \
    "$PYTHON" - "$out" <<'EOF'
import json, os, subprocess, sys
e = os.environ
sysroot = e["SYSROOT"]

def norm(path):
    """Path as the process saw it (gcore of a chrooted process names files
    with the host's view, kernel cores with the process's own view)."""
    if sysroot and path.startswith(sysroot + "/"):
        return path[len(sysroot):]
    return path

def build_id(path):
    path = sysroot + path if sysroot else path
    try:
        out = subprocess.run(["readelf", "-n", path], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]
    return None

files = []
if e["CHECK_JSON"] and os.path.exists(e["CHECK_JSON"]):
    with open(e["CHECK_JSON"]) as f:
        files = json.load(f)["info"].get("files", [])
libs = []
for p in files:
    q = norm(p)
    base = os.path.basename(q)
    if ".so" in base and q not in [l["path"] for l in libs]:
        libs.append({"path": q, "build_id": build_id(q)})
libc = next((l for l in libs if os.path.basename(l["path"]).startswith(("libc.so", "libc-"))), None)
gen = {
    "script": "corpus/make-cores.sh",
    "core_kind": e["KIND"],
    "core_file": e["CORE_FILE"],
    "binary": "bin/" + e["BINARY"],
    "binary_stripped": e["STRIPPED"] == "true",
    "binary_build_id": e["BUILD_ID"] or None,
    "libc_path": libc and libc["path"],
    "libc_build_id": libc and libc["build_id"],
    "libraries": libs,
    "sysroot": sysroot or None,
    "aslr": e["ASLR"] == "true",
    "compressed": e["COMPRESSED"] == "1",
    "prefix_cmd": e["PREFIX_CMD"] or None,
    "platform": {"os": e["P_OS"], "kernel": e["P_KERNEL"], "cc": e["P_CC"], "gdb": e["P_GDB"]},
}
if e["BINARY"] == "census_je":
    je = e["JEMALLOC_LIB"]
    gen["ld_preload"] = je
    gen["jemalloc_build_id"] = build_id(je) if je else None
if e["GENERATOR_EXTRA"]:
    gen.update(json.loads(e["GENERATOR_EXTRA"]))
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
           timeout 300 "${GDB_CMD[@]}" "${GDB_INIT[@]}" -batch -nx -x "$TOOLS/gdb_check.py" \
               "$BIN/$binary" "$core" \
               >"$WORK/$name.$kind.gdb.log" 2>&1 && [[ -s $gdbj ]]; then
            grep '^gdb_check\|FAIL' "$WORK/$name.$kind.gdb.log" >&2 || true
            args+=(--gdb "$gdbj")
            "$PYTHON" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' \
                "$gdbj" || VERIFY_FAILED+=("$name.$kind (gdb)")
        else
            cat "$WORK/$name.$kind.gdb.log" >&2
            VERIFY_FAILED+=("$name.$kind (gdb did not run)")
        fi
        local gres=()
        [[ -s $gdbj ]] && gres=(--gdb-result "$gdbj")
        if "$PYTHON" "$TOOLS/check_core.py" --binary "$BIN/$binary" --kind "$kind" \
               --json "$checkj" "${gres[@]}" "$truth" "$core" >&2; then
            :
        else
            VERIFY_FAILED+=("$name.$kind (check_core)")
        fi
        [[ -s $checkj ]] && args+=(--check "$checkj")
    fi
    generator_json "$WORK/$name.$kind.gen.json" "$kind" "$final" "$binary" "$checkj"
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
    prog_env "$binary"
    "${RUN[@]}" "${PROG_ENV[@]}" "$BIN/$binary" "$truth" "$@" >"$out" 2>"$out.err" &
    local pid=$!
    CHILDREN+=("$pid")
    wait_ready "$out" "$pid"

    local gdb_ex=() dumps=
    [[ $name != census_je ]] || cp "/proc/$pid/maps" "$OUTDIR/census_je.maps"
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
    timeout 300 "${GDB_CMD[@]}" "${GDB_INIT[@]}" -batch -nx -p "$pid" "${gdb_ex[@]}" -ex "gcore $core" \
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
    prog_env "$binary"
    # the outer 2>/dev/null only hides bash's "Aborted (core dumped)" notice
    { (cd "$dir" && ulimit -c unlimited &&
        exec timeout -s KILL 60 "${RUN[@]}" "${PROG_ENV[@]}" "$BIN/$binary" "$truth" "$@") \
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
    ! want census.gcore || gcore_case census census wait
    ! want crash_segv.gcore || gcore_case crash_segv crash_segv wait
    ! want census_je.gcore || gcore_case census_je census_je wait
    ! want objects.gcore || gcore_case objects objects wait
fi
if [[ $DO_KCORE == 1 ]]; then
    kcore_check
    if [[ $KCORE_OK == 1 ]]; then
        ! want census.kcore || kcore_case census census 11 segv
        ! want crash_segv.kcore || kcore_case crash_segv crash_segv 11
        ! want crash_segv-stripped.kcore || kcore_case crash_segv-stripped crash_segv-stripped 11
        ! want crash_abort.kcore || kcore_case crash_abort crash_abort 6
        ! want corrupt_top.kcore || kcore_case corrupt_top corrupt_top 6
        ! want double_free.kcore || kcore_case double_free double_free 6
        ! want census_je.kcore || kcore_case census_je census_je 11 segv
        ! want objects.kcore || kcore_case objects objects 11 segv
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
