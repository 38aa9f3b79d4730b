#!/usr/bin/env bash
# Builds je_truth_prog.c, runs it under jemalloc and dumps it, for the jemalloc walker tests.
# usage: make_je_core.sh OUT_DIR gcore|kcore [corrupt|static]
#   static: link jemalloc statically (libjemalloc_pic.a) instead of preloading the .so
# Writes OUT_DIR/je.core and OUT_DIR/truth.jsonl. Exit 77 when this machine cannot (no
# libjemalloc, cc, gdb, ptrace, or a core_pattern that is not a plain file name).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 mode=$2 extra=${3:-}
lib=${CORESIFT_JEMALLOC_LIB:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
[ -f "$lib" ] || { echo "no $lib"; exit 77; }
command -v cc >/dev/null || { echo "no cc"; exit 77; }
mkdir -p "$out" && cd "$out" || exit 1
preload=$lib
if [ "$extra" = static ]; then
  pic=${CORESIFT_JEMALLOC_PIC:-/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a}
  [ -f "$pic" ] || { echo "no $pic"; exit 77; }
  cc -O1 -g -pthread -rdynamic -o je_truth_prog "$here/je_truth_prog.c" -Wl,--whole-archive "$pic" -Wl,--no-whole-archive \
    -ldl -lm -lstdc++ || exit 1
  preload= extra=
else
  cc -O1 -g -pthread -o je_truth_prog "$here/je_truth_prog.c" -ldl || exit 1
fi
rm -f core core.* je.core truth.jsonl
# One arena per thread whatever the CPU count: jemalloc makes 4 per CPU, so on one CPU the
# program's 4 threads and the huge arena would share and the tests' per-bin counts would vary.
export MALLOC_CONF=${MALLOC_CONF:-narenas:8}
if [ "$mode" = gcore ]; then
  command -v gcore >/dev/null || { echo "no gcore"; exit 77; }
  LD_PRELOAD=$preload ./je_truth_prog truth.jsonl wait $extra > ready.txt 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q READY ready.txt 2>/dev/null && break; sleep 0.1; done
  grep -q READY ready.txt || { kill -9 $pid; cat ready.txt; exit 1; }
  gcore -o gc $pid > gcore.log 2>&1
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  [ -f gc.$pid ] || { cat gcore.log; echo "gcore failed (ptrace?)"; exit 77; }
  mv gc.$pid je.core
else
  case "$(cat /proc/sys/kernel/core_pattern)" in core|core.%p|core.*) ;; *) echo "core_pattern not plain"; exit 77 ;; esac
  ( ulimit -c unlimited; LD_PRELOAD=$preload ./je_truth_prog truth.jsonl segv $extra > ready.txt 2>&1 )
  f=$(ls core core.* 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "no kernel core written"; exit 77; }
  mv "$f" je.core
fi
exit 0
