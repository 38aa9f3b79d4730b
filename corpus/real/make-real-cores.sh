#!/usr/bin/env bash
# Makes gcore cores of real programs from Debian packages, each with its allocator's own
# accounting taken in the same gdb session right before gcore:
#   python  /usr/bin/python3 (PYTHONMALLOC=malloc, glibc), 3 threads, fragmented, 40 leaked blocks,
#           an mmapped chunk at a 64 MiB aligned address (python.aligned)
#   redis   /usr/bin/redis-server (jemalloc 5.3), keys of several sizes, some deleted, churn,
#           3 blocks leaked by gdb
#   cmake   /usr/bin/cmake (C++, glibc) configuring a generated project, 3 blocks leaked by gdb
# Usage: make-real-cores.sh OUTDIR [python|redis|cmake ...]   (default: all three)
# Per NAME in OUTDIR: NAME.core, NAME.stderr (the accounting: malloc_info XML or
# malloc_stats_print text), NAME.gdb.log, NAME.info (size, make time), NAME.leaks (truth),
# or NAME.skip (one line: why it could not be made).  Exit 0, or 77 when nothing can be made
# here (no gdb, ptrace not permitted), with a NAME.skip for each.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1; shift
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(python redis cmake)
mkdir -p "$out"
for n in "${names[@]}"; do rm -f "$out/$n".{core,stderr,stdout,gdb.log,info,skip,leaks,ready,aligned}; done

skip_all() {
  for n in "${names[@]}"; do echo "$1" > "$out/$n.skip"; done
  echo "make-real-cores: SKIPPED: $1" >&2
  exit 77
}
command -v gdb >/dev/null || skip_all "gdb is not installed"
# ptrace: can gdb attach to a child of ours?
sleep 30 & probe=$!
if ! gdb -p $probe -batch -nx -ex 'info inferiors' 2>/dev/null | grep -q "process $probe"; then
  kill $probe; skip_all "gdb cannot attach (ptrace not permitted)"
fi
kill $probe; wait $probe 2>/dev/null

wait_file() {  # FILE PID: until FILE is non-empty (60 s), while PID lives
  for _ in $(seq 600); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

capture() {  # NAME PID GDBFILE...: accounting + gcore in one gdb session
  local name=$1 pid=$2 x=(); shift 2
  for f in "$@"; do x+=(-x "$here/$f"); done
  gdb -p "$pid" -batch -nx "${x[@]}" -ex "gcore $out/$name.core" -ex detach > "$out/$name.gdb.log" 2>&1
  [ -s "$out/$name.core" ] || { echo "make-real-cores: gcore of $name failed, see $out/$name.gdb.log" >&2; return 1; }
}

finish() {  # NAME START
  local t; t=$(awk -v s="$2" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  echo "core_bytes $(stat -c %s "$out/$1.core") make_seconds $t" > "$out/$1.info"
  echo "make-real-cores: $1: $(cat "$out/$1.info")" >&2
}

make_python() {
  local py=/usr/bin/python3 t0 pid
  [ -x $py ] || { echo "Debian's /usr/bin/python3 is not installed" > "$out/python.skip"; return 0; }
  t0=$(date +%s.%N)
  PYTHONMALLOC=malloc $py "$here/py_fragment.py" "$out/python.ready" "$out/python.leaks" "$out/python.aligned" \
    > "$out/python.stdout" 2> "$out/python.stderr" & pid=$!
  wait_file "$out/python.ready" $pid || { echo "make-real-cores: python did not get ready" >&2; kill $pid; return 1; }
  capture python $pid glibc_accounting.gdb; local rc=$?
  kill $pid; wait $pid 2>/dev/null
  [ $rc -eq 0 ] && finish python "$t0"
}

make_redis() {
  local t0 pid sock="$out/redis.sock"
  [ -x /usr/bin/redis-server ] || { echo "Debian's redis-server is not installed" > "$out/redis.skip"; return 0; }
  t0=$(date +%s.%N); rm -f "$sock"
  /usr/bin/redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no --daemonize no \
    --logfile "$out/redis.log" > "$out/redis.stdout" 2> "$out/redis.stderr" & pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  if ! "$(command -v /usr/bin/python3 python3 | head -1)" "$here/redis_fill.py" "$sock"; then
    echo "make-real-cores: filling redis failed" >&2; kill $pid; return 1
  fi
  capture redis $pid gdb_leaks.gdb jemalloc_accounting.gdb; local rc=$?
  sed -n "s/^LEAK //p" "$out/redis.gdb.log" > "$out/redis.leaks"
  kill $pid; wait $pid 2>/dev/null
  [ $rc -eq 0 ] && finish redis "$t0"
}

make_cmake() {
  local t0 pid cm proj="$out/cmake-project"
  [ -x /usr/bin/cmake ] || { echo "Debian's cmake is not installed" > "$out/cmake.skip"; return 0; }
  t0=$(date +%s.%N); rm -rf "$proj"
  bash "$here/gen_cmake_project.sh" "$proj" "$out/cmake.ready"
  /usr/bin/cmake -S "$proj" -B "$proj/build" > "$out/cmake.stdout" 2> "$out/cmake.stderr" & cm=$!
  wait_file "$out/cmake.ready" $cm || { echo "make-real-cores: cmake did not get ready" >&2; kill $cm; return 1; }
  read -r pid hold < "$out/cmake.ready"
  capture cmake "$pid" cxx_typeinfo.gdb gdb_leaks.gdb glibc_accounting.gdb; local rc=$?
  sed -n 's/^LEAK //p' "$out/cmake.gdb.log" > "$out/cmake.leaks"
  kill "$hold"  # the held execute_process child: cmake then finishes
  wait $cm 2>/dev/null
  [ $rc -eq 0 ] && finish cmake "$t0"
}

status=0
for n in "${names[@]}"; do
  case $n in
    python|redis|cmake) "make_$n" || status=1 ;;
    *) echo "make-real-cores: unknown core $n" >&2; status=2 ;;
  esac
done
exit $status
