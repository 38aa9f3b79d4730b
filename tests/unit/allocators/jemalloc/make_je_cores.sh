#!/usr/bin/env bash
# The ctest fixture je_cores_make: every core of je_truth_prog.c the jemalloc tests use, made
# once per ctest run (make_je_core.sh each) into OUT_DIR/MODE-VARIANT/ (VARIANT "plain" for
# the preloaded library). Each directory gets make.log and status (make_je_core.sh's exit
# status: 0 made, 77 this machine cannot make it, else failed); the tests read them through
# CORESIFT_JE_CORES (je_generated_core.cpp).
# usage: make_je_cores.sh OUT_DIR
# Exit 0 when every core was made or cannot be made here, 77 when none can be made here, 1
# when making one failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
rm -rf "$out"
mkdir -p "$out" || exit 1
made=0 cannot=0 failed=0
for key in gcore-plain kcore-plain gcore-corrupt gcore-static kcore-mixed; do
  mode=${key%%-*} variant=${key#*-}
  [ "$variant" = plain ] && variant=
  mkdir -p "$out/$key"
  bash "$here/make_je_core.sh" "$out/$key" "$mode" $variant > "$out/$key/make.log" 2>&1
  rc=$?
  echo $rc > "$out/$key/status"
  case $rc in
    0) made=$((made + 1)); echo "$key: made" ;;
    77) cannot=$((cannot + 1)); echo "$key: cannot be made here: $(tail -1 "$out/$key/make.log")" ;;
    *) failed=$((failed + 1)); echo "$key: FAILED ($rc):"; tail -20 "$out/$key/make.log" ;;
  esac
done
[ $failed -eq 0 ] || exit 1
[ $made -gt 0 ] || exit 77
exit 0
