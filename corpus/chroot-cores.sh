#!/usr/bin/env bash
# chroot-cores.sh - make corpus cores with another Debian suite's glibc (and
# jemalloc): the programs are compiled with the chroot's gcc against the
# chroot's glibc and run inside the chroot; gdb (gcore, checks) and the
# Python checks run on the host.  See corpus/README.md.
#
# usage: corpus/chroot-cores.sh [options] SUITE [OUTDIR]   (default corpus/cores/SUITE)
#   --no-dbg      do not fetch libc6-dbg (gdb then has no libc symbols: no
#                 main_arena / bin walk in gdb_check.py; check_core.py's
#                 symbol-free walk still runs)
#   --no-libs     do not copy the chroot's libc / ld.so / libjemalloc to OUTDIR/lib
#   --no-compress --no-verify --lenient --no-kcore --no-gcore
#                 passed to make-cores.sh
#   -h, --help
# environment:
#   CORESIFT_CHROOTS  directory holding one debootstrap root per suite
#                     (default /var/cache/coresift-chroots); SUITE's root is
#                     $CORESIFT_CHROOTS/SUITE
#   CORESIFT_DBG_CACHE  where libc6-dbg packages are unpacked, per suite
#                     (default /var/tmp/coresift-dbg)
#   CASES             make-cores.sh cases (default: census.gcore census.kcore
#                     crash_segv.kcore crash_abort.kcore corrupt_top.kcore
#                     double_free.kcore census_je.kcore)
#   and make-cores.sh's CFLAGS_EXTRA GDB PYTHON ZSTD ZSTD_LEVEL STRIP
#   READY_TIMEOUT NO_ASLR
#
# The chroot needs gcc, libc6-dev, procps, python3 and (for census_je)
# libjemalloc2; no gdb.  Needs root (chroot, mount).  While it runs, a
# staging directory /tmp/coresift-chroot-SUITE is bind-mounted at the same
# path inside the chroot (so every path make-cores.sh uses is valid on both
# sides) and /proc is mounted in the chroot if it is not already; both are
# undone on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MC_OPTS=()
DBG=1 LIBS=1 SUITE= OUTDIR=
while [[ $# -gt 0 ]]; do
    case $1 in
        --no-dbg) DBG=0 ;;
        --no-libs) LIBS=0 ;;
        --no-compress|--no-verify|--lenient|--no-kcore|--no-gcore) MC_OPTS+=("$1") ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "chroot-cores: unknown option $1" >&2; exit 2 ;;
        *) if [[ -z $SUITE ]]; then SUITE=$1
           elif [[ -z $OUTDIR ]]; then OUTDIR=$1
           else echo "chroot-cores: too many arguments" >&2; exit 2; fi ;;
    esac
    shift
done
[[ -n $SUITE ]] || { echo "usage: chroot-cores.sh [options] SUITE [OUTDIR]" >&2; exit 2; }
[[ $SUITE =~ ^[a-z0-9][a-z0-9.-]*$ ]] || { echo "chroot-cores: bad suite name '$SUITE'" >&2; exit 2; }

log() { printf 'chroot-cores: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

CHROOTS=${CORESIFT_CHROOTS:-/var/cache/coresift-chroots}
ROOT=$CHROOTS/$SUITE
if [[ ! -x $ROOT/usr/bin/gcc && ! -L $ROOT/usr/bin/gcc ]] || [[ ! -e $ROOT/bin/sh ]]; then
    cat >&2 <<EOF
chroot-cores: no usable chroot for '$SUITE' at $ROOT (gcc or /bin/sh missing).
Create it (as root, a few minutes) with:

    debootstrap --variant=minbase --include=gcc,libc6-dev,libjemalloc2,procps,python3 \\
        $SUITE $ROOT http://deb.debian.org/debian

or point CORESIFT_CHROOTS at the directory that holds it.
EOF
    exit 1
fi
[[ $(id -u) == 0 ]] || die "needs root (chroot, mount --bind)"

OUTDIR=${OUTDIR:-$HERE/cores/$SUITE}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

in_root() { chroot "$ROOT" "$@"; }
pkg_version() { in_root dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

GLIBC_VERSION=$(in_root ldd --version 2>/dev/null | awk 'NR == 1 {print $NF}')
[[ $GLIBC_VERSION =~ ^[0-9]+\.[0-9]+ ]] || die "cannot read the glibc version of $ROOT (ldd --version)"
GLIBC_PKG=$(pkg_version libc6)
JE_PKG=$(pkg_version libjemalloc2)
SUITE_OS=$( (. "$ROOT/etc/os-release" && printf '%s' "${PRETTY_NAME:-$ID}") 2>/dev/null || echo "$SUITE")
HOST_OS=$( (. /etc/os-release && printf '%s' "${PRETTY_NAME:-$ID}") 2>/dev/null || echo unknown)
LIBC_REAL=$(in_root readlink -f /lib/x86_64-linux-gnu/libc.so.6)
log "$SUITE: $SUITE_OS, glibc $GLIBC_VERSION ($GLIBC_PKG), libjemalloc2 ${JE_PKG:-not installed}"

# ---- staging: same path inside and outside the chroot ----------------------
STAGE=/tmp/coresift-chroot-$SUITE
LOCK=/tmp/coresift-chroot-$SUITE.lock
exec 9>"$LOCK"
flock -n 9 || die "another chroot-cores.sh $SUITE is running ($LOCK)"
MOUNTED=()
cleanup() {
    local m i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        m=${MOUNTED[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done
    [[ -d $ROOT$STAGE ]] && rmdir "$ROOT$STAGE" 2>/dev/null || true
    rm -rf "$STAGE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if mountpoint -q "$ROOT$STAGE" 2>/dev/null; then
    die "$ROOT$STAGE is still mounted (earlier run killed?): umount it first"
fi
rm -rf "$STAGE"
mkdir -p "$STAGE/corpus" "$STAGE/tmp" "$ROOT$STAGE"
mount --bind "$STAGE" "$ROOT$STAGE"
MOUNTED+=("$ROOT$STAGE")
if ! mountpoint -q "$ROOT/proc"; then
    mount -t proc proc "$ROOT/proc"
    MOUNTED+=("$ROOT/proc")
fi
cp -r "$HERE/src" "$HERE/tools" "$HERE/make-cores.sh" "$STAGE/corpus/"
rm -rf "$STAGE/corpus/tools/__pycache__"

# ---- libc debug symbols (libc6-dbg of exactly this libc) --------------------
build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID:/ {print $3; exit}'; }
LIBC_ID=$(build_id "$ROOT$LIBC_REAL")
DBG_DIR= DBG_NOTE=null
if [[ $DBG == 1 && -n $LIBC_ID ]]; then
    cache=${CORESIFT_DBG_CACHE:-/var/tmp/coresift-dbg}/$SUITE
    dbgfile=$cache/root/usr/lib/debug/.build-id/${LIBC_ID:0:2}/${LIBC_ID:2}.debug
    if [[ ! -e $dbgfile ]]; then
        log "fetching libc6-dbg=$GLIBC_PKG with the chroot's apt-get (debug symbols for gdb)"
        mkdir -p "$STAGE/dbg"
        if in_root sh -c "cd '$STAGE/dbg' && apt-get download 'libc6-dbg=$GLIBC_PKG'" \
               >"$STAGE/dbg.log" 2>&1; then
            rm -rf "$cache/root"
            mkdir -p "$cache/root"
            dpkg-deb -x "$STAGE"/dbg/libc6-dbg_*.deb "$cache/root"
            mv "$STAGE"/dbg/libc6-dbg_*.deb "$cache/"
        else
            log "WARNING: libc6-dbg download failed (see below); gdb gets no libc symbols"
            tail -n3 "$STAGE/dbg.log" >&2 || true
        fi
    fi
    if [[ -e $dbgfile ]]; then
        DBG_DIR=$cache/root/usr/lib/debug
        DBG_NOTE="\"libc6-dbg $GLIBC_PKG (unpacked on the host, gdb debug-file-directory)\""
    fi
fi

# ---- run make-cores.sh with chroot compiler and runner --------------------
CASES=${CASES:-census.gcore census.kcore crash_segv.kcore crash_abort.kcore corrupt_top.kcore double_free.kcore census_je.kcore}
if [[ -z $JE_PKG && $CASES == *census_je* ]]; then
    log "SKIP census_je: libjemalloc2 is not installed in $ROOT"
    CASES=$(tr ' ' '\n' <<<"$CASES" | grep -v '^census_je' | tr '\n' ' ')
fi
HOST_GDB=$(${GDB:-gdb} --version | sed -n 1p)
SUITE_CC=$(in_root gcc --version | sed -n 1p)
GEN_EXTRA=$(SUITE=$SUITE ROOT=$ROOT GV=$GLIBC_VERSION GP=$GLIBC_PKG JP=$JE_PKG \
    SOS=$SUITE_OS HOS=$HOST_OS CCV=$SUITE_CC GDBV=$HOST_GDB DBGN=$DBG_NOTE python3 -c '
import json, os, platform
e = os.environ
print(json.dumps({
    "driver": "corpus/chroot-cores.sh",
    "suite": e["SUITE"],
    "chroot": e["ROOT"],
    "glibc_version": e["GV"],
    "glibc_package": e["GP"] or None,
    "jemalloc_package": e["JP"] or None,
    "libc_debug_symbols": json.loads(e["DBGN"]),
    "prefix_cmd": "corpus/tools/chroot-exec.sh " + e["ROOT"],
    "platform": {"os": "%s (chroot on %s)" % (e["SOS"], e["HOS"]),
                 "kernel": platform.release(), "cc": e["CCV"],
                 "gdb": e["GDBV"] + " (host, set sysroot " + e["ROOT"] + ")"},
}))')

log "make-cores.sh in $ROOT: $CASES"
rc=0
CC="chroot $ROOT gcc" \
PREFIX_CMD="$HERE/tools/chroot-exec.sh $ROOT" \
SYSROOT=$ROOT GDB_DEBUG_DIR=$DBG_DIR GENERATOR_EXTRA=$GEN_EXTRA \
CASES=$CASES TMPDIR=$STAGE/tmp \
    "$STAGE/corpus/make-cores.sh" "${MC_OPTS[@]}" "$STAGE/out" || rc=$?
[[ -d $STAGE/out ]] || die "make-cores.sh produced nothing (status $rc)"

# the programs report gnu_get_libc_version(): must be the suite's glibc
for t in "$STAGE"/out/*.truth.json; do
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["glibc"])' "$t")
    [[ $got == "$GLIBC_VERSION" ]] || die "$(basename "$t"): glibc $got, chroot has $GLIBC_VERSION"
done

# ---- install into OUTDIR ------------------------------------------------------
rm -rf "$OUTDIR/bin"
rm -f "$OUTDIR"/*.core "$OUTDIR"/*.core.zst "$OUTDIR"/*.truth.json "$OUTDIR"/*.bin \
      "$OUTDIR"/*.bin.zst "$OUTDIR"/*.maps "$OUTDIR"/*.gdb.txt
cp -r "$STAGE/out/." "$OUTDIR/"

# ---- the chroot's libraries, for a sysroot without the chroot -----------------
if [[ $LIBS == 1 ]]; then
    rm -rf "$OUTDIR/lib"
    mkdir -p "$OUTDIR/lib"
    # every library the cores map (generator.libraries), except the C++
    # runtime and libm that only come in as libjemalloc's dependencies
    mapfile -t reals < <(python3 -c '
import glob, json, os, sys
seen = []
for t in sorted(glob.glob(os.path.join(sys.argv[1], "*.truth.json"))):
    for lib in json.load(open(t))["generator"].get("libraries", []):
        b = os.path.basename(lib["path"])
        if b.startswith(("libstdc++", "libgcc_s", "libm.", "libm-")):
            continue
        if lib["path"] not in seen:
            seen.append(lib["path"])
print("\n".join(seen))' "$STAGE/out")
    manifest=()
    for real in "${reals[@]}"; do
        [[ -n $real && -f $ROOT$real ]] || { log "WARNING: $real not in $ROOT"; continue; }
        mkdir -p "$OUTDIR/lib$(dirname "$real")"
        ${ZSTD:-zstd} -q -f "-${ZSTD_LEVEL:-19}" -o "$OUTDIR/lib$real.zst" "$ROOT$real"
        # other names in the usual directories that resolve to this file
        # (libc.so.6, /lib64/ld-linux-x86-64.so.2 ...)
        stem=$(basename "$real")
        stem=${stem%%.so*}
        stem=${stem%%-[0-9]*}
        aliases=()
        for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
            for f in "$ROOT$d/$stem"[.-]*; do
                [[ -e $f || -L $f ]] || continue
                b=${f#"$ROOT"}
                [[ $b != "$real" && $(in_root readlink -f "$b") == "$real" ]] && aliases+=("$b")
            done
        done
        manifest+=("$real|$(build_id "$ROOT$real")|$(stat -c %s "$ROOT$real")|$(sha256sum "$ROOT$real" | cut -d' ' -f1)|${aliases[*]}")
    done
    printf '%s\n' "${manifest[@]}" | SUITE=$SUITE ROOT=$ROOT GV=$GLIBC_VERSION GP=$GLIBC_PKG JP=$JE_PKG \
        python3 -c '
import json, os, sys
e = os.environ
libs = []
for line in sys.stdin.read().splitlines():
    real, bid, size, sha, aliases = line.split("|")
    libs.append({"file": real.lstrip("/") + ".zst", "path": real,
                 "aliases": sorted(set(aliases.split())), "build_id": bid or None,
                 "size": int(size), "sha256": sha})
json.dump({"suite": e["SUITE"], "glibc_version": e["GV"], "glibc_package": e["GP"] or None,
           "jemalloc_package": e["JP"] or None,
           "note": "zstd -d each file to <sysroot>/<path> and create the aliases as symlinks; "
                   "then use the sysroot like the chroot itself",
           "libraries": libs}, open(sys.argv[1], "w"), indent=1)
open(sys.argv[1], "a").write("\n")' "$OUTDIR/lib/manifest.json"
fi

echo "== $SUITE files in $OUTDIR"
total=0
while IFS= read -r f; do
    sz=$(stat -c %s "$f")
    total=$((total + sz))
    printf '%10d  %s\n' "$sz" "${f#"$OUTDIR"/}"
done < <(find "$OUTDIR" -type f | sort)
printf '%10d  total\n' "$total"
exit "$rc"
