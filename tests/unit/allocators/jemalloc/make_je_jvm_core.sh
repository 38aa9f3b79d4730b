#!/usr/bin/env bash
# Kernel core of a JVM running JeJvmTruth.java with jemalloc preloaded (SIGABRT while it
# sleeps). usage: make_je_jvm_core.sh OUT_DIR  → OUT_DIR/jvm.core, OUT_DIR/truth.jsonl
# Exit 77 when this machine cannot (no JDK, no libjemalloc, core_pattern not a plain name, or
# the core would be larger than 1.5 GiB).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
lib=${CORESIFT_JEMALLOC_LIB:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
jdk=${CORESIFT_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
[ -f "$lib" ] || { echo "no $lib"; exit 77; }
[ -x "$jdk/bin/javac" ] || { echo "no JDK at $jdk"; exit 77; }
case "$(cat /proc/sys/kernel/core_pattern)" in core|core.%p|core.*) ;; *) echo "core_pattern not plain"; exit 77 ;; esac
mkdir -p "$out" && cd "$out" || exit 1
rm -f core core.* jvm.core truth.jsonl
"$jdk/bin/javac" --add-exports java.base/sun.nio.ch=ALL-UNNAMED -d . "$here/JeJvmTruth.java" || exit 1
(
  ulimit -c unlimited
  # Small reservations keep the kernel core small (it skips PROT_NONE reservations anyway).
  exec env LD_PRELOAD="$lib" "$jdk/bin/java" -Xmx32m -Xms32m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=32m \
    -XX:CompressedClassSpaceSize=32m -XX:-UsePerfData -XX:TieredStopAtLevel=1 \
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp . JeJvmTruth truth.jsonl > ready.txt 2>&1
) &
pid=$!
for _ in $(seq 300); do grep -q READY ready.txt 2>/dev/null && break; sleep 0.1; done
grep -q READY ready.txt || { kill -9 $pid; cat ready.txt; exit 1; }
kill -ABRT $pid
wait $pid 2>/dev/null
f=$(ls core core.* 2>/dev/null | head -1)
[ -n "$f" ] || { echo "no kernel core written"; exit 77; }
size=$(stat -c %s "$f")
if [ "$size" -gt 1610612736 ]; then rm -f "$f"; echo "core too large ($size bytes)"; exit 77; fi
mv "$f" jvm.core
exit 0
