#!/usr/bin/env bash
# Writes a small generated CMake project into DIR: 60 libraries and executables with
# properties, options, functions and install rules, so that a configuring cmake (Debian's
# /usr/bin/cmake, C++ with glibc malloc) holds many objects of many C++ classes.  At the end
# of the configure step a shell (execute_process) records the pids of cmake and itself and waits:
# make-real-cores.sh dumps cmake then.  Usage: gen_cmake_project.sh DIR READY_FILE
set -euo pipefail
dir=$1 ready=$2
mkdir -p "$dir/src"
{
  echo 'cmake_minimum_required(VERSION 3.13)'
  echo 'project(coresift_real_cmake LANGUAGES C)'
  echo 'function(add_part name idx)'
  echo '  add_library(${name} STATIC src/${name}.c)'
  echo '  target_compile_definitions(${name} PRIVATE PART_INDEX=${idx})'
  echo '  set_target_properties(${name} PROPERTIES OUTPUT_NAME "part_${idx}" FOLDER parts)'
  echo '  install(TARGETS ${name} ARCHIVE DESTINATION lib/parts)'
  echo 'endfunction()'
  for i in $(seq 1 60); do
    echo "option(WITH_PART_$i \"part $i\" ON)"
    echo "add_part(part$i $i)"
    if [ "$i" -gt 1 ]; then echo "target_link_libraries(part$i PUBLIC part$((i - 1)))"; fi
    echo "add_executable(tool$i src/part$i.c)"
    echo "target_link_libraries(tool$i PRIVATE part$i)"
    echo "list(APPEND ALL_PARTS part$i)"
  done
  echo 'set_property(GLOBAL PROPERTY CORESIFT_PARTS "${ALL_PARTS}")'
  echo "file(WRITE \${CMAKE_BINARY_DIR}/parts.txt \"\${ALL_PARTS}\")"
  # cmake is the parent of the shell; the shell records both pids and then becomes a sleep.
  echo "execute_process(COMMAND sh -c \"echo \$PPID \$\$ > $ready.tmp && mv $ready.tmp $ready && exec sleep 600\")"
} > "$dir/CMakeLists.txt"
for i in $(seq 1 60); do
  printf 'int part%d(void) { return %d; }\nint main(void) { return part%d(); }\n' "$i" "$i" "$i" > "$dir/src/part$i.c"
done
