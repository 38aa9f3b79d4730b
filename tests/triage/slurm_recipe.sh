#!/usr/bin/env bash
# Usage: slurm_recipe.sh CORESIFT CORES_DIR
#
# Runs the "Slurm job array" recipe of docs/triage.md on a single-node Slurm this script
# starts itself (munged, slurmctld and slurmd in a temp dir, on free ports, killed on exit):
#   sbatch --wait --array=0-2 --wrap 'coresift triage --shard $SLURM_ARRAY_TASK_ID/3 --db shards/$SLURM_ARRAY_TASK_ID.sqlite ...'
#   coresift triage --merge shards/0.sqlite shards/1.sqlite shards/2.sqlite --db all.sqlite --json
# and checks that the merged report equals one local run over the same cores (groups'
# run-relative "new" flags dropped). CORES_DIR is the triage corpus (ctest fixture
# triage_cores: *.core.zst and bin/).
# Exit 0 pass, 1 fail, 77 skip (no slurm-wlm/munge, or the daemons do not start).
set -uo pipefail

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 CORESIFT CORES_DIR" >&2; exit 2; }
CORESIFT=$(readlink -f "$1")
CORES=$(readlink -f "$2")
[ -x "$CORESIFT" ] || fail "no coresift at $1"
compgen -G "$CORES/*.core.zst" >/dev/null || skip "no triage cores in $2"

export PATH="$PATH:/usr/sbin:/sbin"
for b in munged slurmctld slurmd sbatch sinfo scontrol python3; do
  command -v "$b" >/dev/null || skip "$b is not installed (Debian packages slurm-wlm and munge)"
done

WORK=$(mktemp -d /tmp/coresift-slurm-XXXXXX)
chmod 0700 "$WORK"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  # munged forks from the shell's child only when not run in the foreground; it is (-F),
  # but its pid file is the authority if it ever daemonized.
  if [ -s "$WORK/munged.pid" ]; then kill "$(cat "$WORK/munged.pid")" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log_tail() { [ -f "$1" ] && tail -n 8 "$1" | sed 's/^/  | /'; }

# munge: a key of our own, a socket of our own.
USER_NAME=$(id -un)
mkdir -p "$WORK/munge"
chmod 0700 "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$WORK/munge/munge.key"
SOCK="$WORK/munge/munge.socket"
munged -F --force --key-file="$WORK/munge/munge.key" --socket="$SOCK" --pid-file="$WORK/munged.pid" \
  --log-file="$WORK/munged.log" --seed-file="$WORK/munge/munged.seed" >"$WORK/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; kill -0 "${PIDS[0]}" 2>/dev/null || break; sleep 0.1; done
if [ ! -S "$SOCK" ]; then
  echo "munged did not start:"; log_tail "$WORK/munged.out"; log_tail "$WORK/munged.log"
  skip "munged did not start"
fi

# Two free TCP ports for slurmctld and slurmd.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

HOST=$(hostname -s)
NODE_LINE=$(slurmd -C 2>/dev/null | head -n 1 | grep '^NodeName=') || NODE_LINE=""
[ -n "$NODE_LINE" ] || NODE_LINE="NodeName=$HOST CPUs=2"
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/out" "$WORK/shards"
export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=coresift
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool/%n
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SwitchType=switch/none
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)

up=""
for _ in $(seq 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1)
  case "$state" in idle*) up=1; break ;; esac
  kill -0 "${PIDS[1]}" 2>/dev/null && kill -0 "${PIDS[2]}" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$up" ]; then
  echo "node state: '${state:-none}'"
  for f in slurmctld.out slurmctld.log slurmd.out slurmd.log; do echo "$f:"; log_tail "$WORK/$f"; done
  skip "the single-node Slurm did not come up (node not idle within 30 s; logs above)"
fi

# The recipe (docs/triage.md, "Slurm job array").
q() { printf '%q' "$1"; }
WRAP="$(q "$CORESIFT") triage --shard \$SLURM_ARRAY_TASK_ID/3 --db $(q "$WORK/shards")/\$SLURM_ARRAY_TASK_ID.sqlite --jobs 1 --module-dir $(q "$CORES/bin") $(q "$CORES")"
start=$(date +%s)
if ! timeout 240 sbatch --wait --array=0-2 --chdir="$WORK" --output="$WORK/out/%A_%a.out" \
     --error="$WORK/out/%A_%a.err" --wrap "$WRAP" >"$WORK/sbatch.out" 2>&1; then
  cat "$WORK/sbatch.out"
  for f in "$WORK"/out/*; do echo "$f:"; log_tail "$f"; done
  echo "slurmd.log:"; log_tail "$WORK/slurmd.log"
  fail "the job array failed"
fi
echo "$(cat "$WORK/sbatch.out") in $(( $(date +%s) - start )) s"
for i in 0 1 2; do [ -s "$WORK/shards/$i.sqlite" ] || fail "array task $i wrote no shards/$i.sqlite"; done

"$CORESIFT" triage --merge "$WORK/shards/0.sqlite" "$WORK/shards/1.sqlite" "$WORK/shards/2.sqlite" \
  --db "$WORK/all.sqlite" --json >"$WORK/merged.json" || fail "--merge exited $?"
"$CORESIFT" triage --db "$WORK/one.sqlite" --json --module-dir "$CORES/bin" "$CORES" >"$WORK/one.json" ||
  fail "the local run exited $?"

python3 - "$WORK/merged.json" "$WORK/one.json" <<'EOF'
import json, sys
def comparable(path):
    with open(path) as f:
        doc = json.load(f)
    for g in doc["groups"]:
        g.pop("new", None)
    doc["groups"].sort(key=lambda g: (-g["count"], g["group"]))
    return doc
merged, one = comparable(sys.argv[1]), comparable(sys.argv[2])
if merged["cores"] != one["cores"] or merged["groups"] != one["groups"]:
    import difflib
    a = json.dumps(one, indent=1, sort_keys=True).splitlines()
    b = json.dumps(merged, indent=1, sort_keys=True).splitlines()
    print("\n".join(list(difflib.unified_diff(a, b, "one run", "slurm shards merged", lineterm=""))[:80]))
    print("FAIL: the merged Slurm shards report differently from one run")
    sys.exit(1)
print("PASS: Slurm job array of 3 shards merged = one run (%d cores, %d groups)" % (len(one["cores"]), len(one["groups"])))
EOF
