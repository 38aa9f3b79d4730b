#!/usr/bin/env bash
# Triage throughput: a directory of COPIES × 18 small kernel cores (the triage corpus, made
# once), `coresift triage --jobs JOBS`; reports cores/s and the peak RSS of the whole run.
# usage: tests/bench/triage-bench.sh [BUILD_DIR] [COPIES (3)] [JOBS (2)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
copies=${2:-3}
jobs=${3:-2}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/coresift-triage-bench}
if [ ! -f "$work/cores/truth.json" ]; then
  rm -rf "$work/cores"
  bash "$here/../../corpus/triage/make-triage-cores.sh" "$work/cores" >/dev/null
fi
rm -rf "$work/batch" && mkdir -p "$work/batch"
for i in $(seq 1 "$copies"); do
  for f in "$work"/cores/*.core.zst; do cp "$f" "$work/batch/$i-$(basename "$f")"; done
done
n=$(ls "$work/batch" | wc -l)
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" "$build/coresift" triage --jobs "$jobs" --module-dir "$work/cores/bin" \
  --json "$work/batch" > "$work/out.json"
end=$(date +%s.%N)
python3 - "$n" "$start" "$end" "$work/rss" "$work/out.json" "$jobs" <<'PY'
import json, sys
n, start, end, rss_file, out, jobs = sys.argv[1:]
secs = float(end) - float(start)
doc = json.load(open(out))
rss = int(open(rss_file).read().split()[-1])
print("%d cores (%d triaged, %d groups) with --jobs %s: %.2f s, %.1f cores/s, peak RSS %.0f MiB (whole run)" %
      (int(n), doc["totals"]["triaged"], doc["totals"]["groups"], jobs, secs, int(n) / secs, rss / 1024))
PY
