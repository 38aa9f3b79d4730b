#!/usr/bin/env bash
# Heap-walk benchmark: makes a kernel core of a process with ~N live malloc chunks in three
# glibc arenas (default 10 million, about 2 GB), then reports for `coresift heap`:
# wall time, chunks/s, peak RSS beyond the core size, against the time to read every word
# of the core once (the baseline the targets are stated in).
# usage: tests/bench/heap-bench.sh [BUILD_DIR] [CHUNKS] [COMMAND…]
# BENCH_ALLOCATOR=jemalloc runs the same program with libjemalloc preloaded (and one large
# 16-64 KiB allocation in 1000) for a core of ~CHUNKS jemalloc regions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
chunks=${2:-10000000}
shift $(( $# > 2 ? 2 : $# )) || true
cmd=("${@:-heap}")
work=${BENCH_DIR:-${TMPDIR:-/tmp}/coresift-bench}
mkdir -p "$work"
cc -O2 -pthread -o "$work/bigheap" "$here/bigheap.c"
cc -O2 -o "$work/read-words" "$here/read-words.c"

allocator=${BENCH_ALLOCATOR:-glibc}
preload=() large=0 tag=""
if [ "$allocator" = jemalloc ]; then
  lib=${CORESIFT_JEMALLOC_LIB:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
  [ -f "$lib" ] || { echo "no $lib" >&2; exit 1; }
  preload=(env LD_PRELOAD="$lib") large=1000 tag="je-"
fi
core="$work/bigheap-$tag$chunks.core"
if [ ! -f "$core" ]; then
  pattern=$(cat /proc/sys/kernel/core_pattern)
  case "$pattern" in
    \|*) echo "core_pattern is a pipe ($pattern); set it to 'core' to run this benchmark" >&2; exit 1 ;;
  esac
  ( cd "$work" && rm -f core && ulimit -c unlimited && ${preload[@]+"${preload[@]}"} ./bigheap "$chunks" segv "$large" >/dev/null || true )
  [ -f "$work/core" ] || { echo "no core was written in $work" >&2; exit 1; }
  mv "$work/core" "$core"
fi
size=$(stat -c %s "$core")
cat "$core" > /dev/null  # warm the page cache so both measurements read from memory
base=$("$work/read-words" "$core" | cut -d' ' -f1)
python3 "$here/measure.py" "$core" "$base" "$work/out.json" "$build/coresift" "${cmd[@]}"
