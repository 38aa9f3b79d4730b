#!/usr/bin/env bash
# Kernel cores of OpenJDK 17 running ZipAgentLoad.java three times: with the jdwp agent
# (jdwp.core, jdwp.truth.json), without it (plain.core, plain.truth.json), and with jdwp,
# Native Memory Tracking (summary) and jdb attached, having listed the classes (nmt.core,
# nmt.truth.json, nmt.jdb.txt, nmt.summary.txt: `jcmd PID VM.native_memory summary` taken
# just before the core), each killed with SIGABRT while it sleeps.  JVM cores are too big to commit, so tests make them at
# test time.  check_jvm_core.py then checks each core against its truth from raw memory.
# usage: make-jvm-cores.sh OUT_DIR [N_CLASSES D_DEFLATERS I_INFLATERS]   (3000 200 300)
# Exit 77 when this machine cannot: no JDK 17, core_pattern not a plain file name, no core
# written, or a core larger than 1 GiB.  CORESIFT_JDK overrides the JDK path.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-jvm-cores.sh OUT_DIR [N D I]}
n_classes=${2:-3000}
n_deflaters=${3:-200}
n_inflaters=${4:-300}
jdk=${CORESIFT_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
mkdir -p "$out" && cd "$out" || exit 1
rm -f make.log
exec > >(tee make.log) 2>&1  # the tests show it when they skip or fail
tee_pid=$!
trap 'exec >&- 2>&-; wait "$tee_pid"' EXIT  # the log is complete when this script returns
[ -x "$jdk/bin/javac" ] && [ -x "$jdk/bin/java" ] || { echo "no JDK at $jdk"; exit 77; }
"$jdk/bin/java" -version 2>&1 | grep -q 'version "17' || { echo "$jdk is not JDK 17"; exit 77; }
case "$(cat /proc/sys/kernel/core_pattern)" in core|core.%p|core.*) ;; *) echo "core_pattern not plain"; exit 77 ;; esac
rm -f core core.* ./*.core ./*.truth.json ./*.ready.txt ./*.refs.json nmt.jdb.txt nmt.summary.txt ZipAgentLoad*.class
"$jdk/bin/javac" -d . "$here/ZipAgentLoad.java" || exit 1

# Small heap and reservations keep the core small (the kernel skips PROT_NONE reservations);
# no perf data file, C1 only.
flags=(-Xmx32m -Xms32m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=32m -XX:CompressedClassSpaceSize=32m
       -XX:MaxMetaspaceSize=64m -XX:-UsePerfData -XX:TieredStopAtLevel=1 -Xss512k
       --add-opens=java.base/java.util.zip=ALL-UNNAMED)
jdwp_flag=-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:0

# jdb attached to the JVM's jdwp socket, `classes` listed (jdwp then tracks every class for
# the debugger); it stays attached while the core is taken.  Sets jdb_pid.
attach_jdb() {  # NAME JAVA_PID
  local name=$1 port
  port=$(sed -n 's/.*Listening for transport dt_socket at address: \([0-9]*\).*/\1/p' "$name.ready.txt" | head -1)
  [ -n "$port" ] || { echo "no jdwp port in $name.ready.txt"; return 1; }
  rm -f jdb.in && mkfifo jdb.in || return 1
  "$jdk/bin/jdb" -attach "127.0.0.1:$port" < jdb.in > "$name.jdb.txt" 2>&1 &
  jdb_pid=$!
  exec 3> jdb.in
  echo classes >&3
  local last
  last=$(printf 'gen.C%04d' $((n_classes - 1)))
  for _ in $(seq 600); do grep -q "$last" "$name.jdb.txt" && break; sleep 0.1; done
  grep -q "$last" "$name.jdb.txt" || { echo "jdb did not list the classes"; cat "$name.jdb.txt"; return 1; }
  "$jdk/bin/jcmd" "$2" VM.native_memory summary > "$name.summary.txt" 2>&1
}

detach_jdb() {
  [ -n "${jdb_pid:-}" ] || return 0
  exec 3>&-
  kill "$jdb_pid" 2>/dev/null
  wait "$jdb_pid" 2>/dev/null
  rm -f jdb.in
  jdb_pid=
}

run_one() {  # NAME [extra JVM flags...]   (NAME nmt: jdb is attached before the core)
  local name=$1; shift
  rm -f core core.*
  (
    ulimit -c unlimited
    exec "$jdk/bin/java" "${flags[@]}" "$@" -cp . ZipAgentLoad "$name.truth.json" \
      "$n_classes" "$n_deflaters" "$n_inflaters" > "$name.ready.txt" 2>&1
  ) &
  local pid=$!
  for _ in $(seq 600); do grep -q READY "$name.ready.txt" 2>/dev/null && break; sleep 0.1; done
  if ! grep -q READY "$name.ready.txt"; then kill -9 $pid; cat "$name.ready.txt"; return 1; fi
  if [ "$name" = nmt ] && ! attach_jdb "$name" "$pid"; then detach_jdb; kill -9 $pid; return 1; fi
  kill -ABRT $pid
  wait $pid 2>/dev/null
  detach_jdb
  local f
  f=$(ls core core.* 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "no kernel core written"; return 77; }
  local size
  size=$(stat -c %s "$f")
  if [ "$size" -gt 1073741824 ]; then rm -f "$f"; echo "core too large ($size bytes)"; return 77; fi
  mv "$f" "$name.core"
  echo "$name.core: $size bytes"
  # Independent check of core against truth (raw memory, no coresift).
  if command -v python3 >/dev/null; then
    python3 "$here/check_jvm_core.py" "$name.core" "$name.truth.json" || return 1
  else
    echo "python3 missing: $name.core not cross-checked"
  fi
}

run_one jdwp "$jdwp_flag" || exit $?
run_one plain || exit $?
run_one nmt "$jdwp_flag" -XX:NativeMemoryTracking=summary || exit $?
exit 0
