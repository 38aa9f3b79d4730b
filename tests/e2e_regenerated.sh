#!/usr/bin/env bash
# Regenerates the corpus cores on this machine (gcore and kernel cores, needs ptrace and a
# plain core_pattern) into a temporary directory, then runs the end-to-end tests on them, so
# the tests are checked against cores made now, not only the committed ones.
# usage: e2e_regenerated.sh SOURCE_DIR TEST_BINARY
set -uo pipefail
src=$1
tests=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/coresift-regen-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! command -v gdb >/dev/null; then echo "gdb not installed: skipped"; exit 77; fi
if ! bash "$src/corpus/make-cores.sh" "$work" > "$work/make-cores.log" 2>&1; then
  if grep -qiE "ptrace|Operation not permitted|core_pattern" "$work/make-cores.log"; then
    tail -5 "$work/make-cores.log"; echo "cannot make cores here: skipped"; exit 77
  fi
  cat "$work/make-cores.log"; exit 1
fi
# JVM cores are made at test time by their own tests; only the committed corpus is remade here.
CORESIFT_CORPUS_DIR=$work "$tests" "[e2e]~[jvm]"
