#!/usr/bin/env bash
# make-triage-cores.sh - build bugs.c and make kernel cores of its crash bugs,
# for `coresift triage`.  See corpus/triage/README.md.
#
# usage: corpus/triage/make-triage-cores.sh OUTDIR
# environment: CC (gcc)  STRIP (strip)  ZSTD (zstd)  NO_ASLR (1: setarch -R)
#   CORE_PATTERN_FILE (/proc/sys/kernel/core_pattern)
# exit status: 0 ok, 77 skipped (cores cannot be made here), 1 error, 2 usage
# Output: OUTDIR/bin/{bugs,bugs-stripped}, OUTDIR/<bug>-v<N>-<full|stripped>.core.zst,
#         OUTDIR/truth.json, OUTDIR/debug/.build-id/XX/YYY.debug (bugs' symbols)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# == 1 && $1 != -* ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

CC=${CC:-gcc}
STRIP=${STRIP:-strip}
ZSTD=${ZSTD:-zstd}
NO_ASLR=${NO_ASLR:-1}
CORE_PATTERN_FILE=${CORE_PATTERN_FILE:-/proc/sys/kernel/core_pattern}
read -r -a CC_CMD <<<"$CC"

log() { printf 'make-triage-cores: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }

for tool in "${CC_CMD[0]}" "$STRIP" "$ZSTD" objcopy eu-readelf readelf jq timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

# ---- can the kernel write cores into the working directory? --------------
pattern=$(cat "$CORE_PATTERN_FILE" 2>/dev/null || echo '?')
if [[ $pattern == \|* ]]; then
    skip "core_pattern pipes cores to a helper ($pattern); set kernel.core_pattern=core"
elif [[ $pattern == */* ]]; then
    skip "core_pattern '$pattern' writes outside the working directory"
elif ! (ulimit -c unlimited) 2>/dev/null; then
    skip "cannot raise the core size limit (ulimit -c unlimited)"
fi

START=$SECONDS
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)
BIN=$OUTDIR/bin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coresift-triage.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

RUN=()
if [[ $NO_ASLR == 1 ]] && command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    RUN=(setarch "$(uname -m)" -R)
fi

# ---- build: one binary, stripped copy has the same build-id ----------------
rm -rf "$BIN" "$OUTDIR/debug"
rm -f "$OUTDIR"/*.core "$OUTDIR"/*.core.zst "$OUTDIR"/truth.json
mkdir -p "$BIN"
log "build $BIN/bugs"
"${CC_CMD[@]}" -std=c11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra \
    "-ffile-prefix-map=$HERE/=corpus/triage/" -Wl,--build-id \
    -o "$BIN/bugs" "$HERE/bugs.c"
"$STRIP" -o "$BIN/bugs-stripped" "$BIN/bugs"
BUILD_ID=$(readelf -n "$BIN/bugs" | awk '/Build ID:/ {print $3; exit}')
[[ -n $BUILD_ID ]] || die "no build-id in $BIN/bugs"
# the symbols by build-id, for the stripped cores: --debug-dir OUTDIR/debug
mkdir -p "$OUTDIR/debug/.build-id/${BUILD_ID:0:2}"
objcopy --only-keep-debug "$BIN/bugs" "$OUTDIR/debug/.build-id/${BUILD_ID:0:2}/${BUILD_ID:2}.debug"
[[ $(readelf -n "$BIN/bugs-stripped" | awk '/Build ID:/ {print $3; exit}') == "$BUILD_ID" ]] ||
    die "stripped binary has another build-id"

# ---- cases: BUG:VARIANTS ------------------------------------------------------
CASES=("null:1,2,3" "double_free:1,2,4" "top_overflow:1,2,3" "stack_overflow:1,2"
       "assert:1,3" "abort_msg:1,2" "readonly:1,2,3")

si_code_name() { # SIGNO CODE
    case $2 in
        0) echo SI_USER ;; 128) echo SI_KERNEL ;; -1) echo SI_QUEUE ;; -6) echo SI_TKILL ;;
        *) if [[ $1 == 11 ]]; then
               case $2 in 1) echo SEGV_MAPERR ;; 2) echo SEGV_ACCERR ;; 3) echo SEGV_BNDERR ;;
                          4) echo SEGV_PKUERR ;; *) echo "SI_CODE_$2" ;; esac
           else echo "SI_CODE_$2"; fi ;;
    esac
}
signal_name() {
    case $1 in 6) echo SIGABRT ;; 11) echo SIGSEGV ;; 7) echo SIGBUS ;; 4) echo SIGILL ;;
               8) echo SIGFPE ;; *) echo "SIG$1" ;; esac
}

n=0
for spec in "${CASES[@]}"; do
    bug=${spec%%:*}
    IFS=, read -r -a variants <<<"${spec#*:}"
    for v in "${variants[@]}"; do
        if (( n % 2 )); then kind=stripped exe=$BIN/bugs-stripped; else kind=full exe=$BIN/bugs; fi
        n=$((n + 1))
        name=$bug-v$v-$kind
        dir=$WORK/$name
        mkdir -p "$dir"
        rc=0
        # small stack limit: stack_overflow's core stays ~1 MiB before compression.
        # The outer 2>/dev/null only hides bash's "Aborted (core dumped)" notice.
        { (cd "$dir" && ulimit -c unlimited && ulimit -s 1024 &&
            exec timeout -s KILL 20 "${RUN[@]}" "$exe" "$bug" "$v") \
            >"$dir/stdout" 2>"$dir/stderr"; } 2>/dev/null || rc=$?
        cores=()
        mapfile -t cores < <(find "$dir" -maxdepth 1 -type f ! -name 'stdout' ! -name 'stderr*')
        if (( rc <= 128 )) || [[ ${#cores[@]} != 1 ]]; then
            cat "$dir/stderr" >&2
            die "$name: exit status $rc and ${#cores[@]} core files (expected a signal and one core)"
        fi
        core=$OUTDIR/$name.core
        mv "${cores[0]}" "$core"
        # what really happened: NT_SIGINFO of the core
        notes=$(eu-readelf --notes "$core")
        signo=$(awk '/si_signo:/ && !/info\./ {sub(",", "", $2); print $2; exit}' <<<"$notes")
        code=$(awk '/si_signo:/ && !/info\./ {print $6; exit}' <<<"$notes")
        addr=$(awk '/fault address:/ {print $3; exit}' <<<"$notes")
        [[ -n $signo && -n $code ]] || die "$name: no NT_SIGINFO in the core"
        [[ $signo == $((rc - 128)) ]] || die "$name: core says signal $signo, exit status $rc"
        # the program's stderr, without timeout's "the monitored command dumped core"
        grep -v '^timeout: ' "$dir/stderr" >"$dir/stderr.prog" || true
        stderr_text=$(cat "$dir/stderr.prog")
        # glibc's own abort messages (malloc checks, assert); the program's
        # own message (abort_msg: "<prog>: fatal: ...") is not glibc's
        msg=$(grep -v ': fatal: ' "$dir/stderr.prog" | tail -n 1 || true)
        [[ $signo == 6 ]] || msg=
        log "$name: $(signal_name "$signo") $(si_code_name "$signo" "$code") ${addr:-} ${msg:+\"$msg\"}"
        "$ZSTD" -q --rm "$core"
        jq -n --arg core "$name.core.zst" --arg bug "$bug" --argjson variant "$v" \
            --arg binary "$kind" --arg signal "$(signal_name "$signo")" --argjson signo "$signo" \
            --arg si_code_name "$(si_code_name "$signo" "$code")" --argjson si_code "$code" \
            --arg addr "${addr:-}" --arg msg "$msg" --arg stderr "$stderr_text" \
            --arg build_id "$BUILD_ID" --arg exe "bin/$(basename "$exe")" \
            '{core: $core, bug: $bug, variant: $variant, binary: $binary, executable: $exe,
              signal: $signal, signo: $signo, si_code_name: $si_code_name, si_code: $si_code,
              fault_address: (if $addr == "" then null else $addr end),
              abort_message: (if $msg == "" then null else $msg end),
              stderr: $stderr, crash_function: ("crash_" + $bug), build_id: $build_id}' \
            >"$WORK/$n.json"
    done
done
for ((i = 1; i <= n; i++)); do cat "$WORK/$i.json"; done | jq -s . >"$OUTDIR/truth.json"
log "$n cores in $OUTDIR ($(du -ch "$OUTDIR"/*.core.zst | tail -n 1 | cut -f1)), $((SECONDS - START)) s"
