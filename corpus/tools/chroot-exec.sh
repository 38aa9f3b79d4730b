#!/bin/sh
# chroot-exec.sh ROOT CMD [ARGS...] - run CMD inside the chroot ROOT, in the
# caller's working directory (that path must exist inside the chroot too;
# chroot-cores.sh bind-mounts its staging directory at the same path).
# Every step execs, so CMD keeps the pid of this script: make-cores.sh can
# wait for it, gcore it and kill it by that pid.  Used as make-cores.sh's
# PREFIX_CMD by chroot-cores.sh.
[ $# -ge 2 ] || { echo "usage: chroot-exec.sh ROOT CMD [ARGS...]" >&2; exit 2; }
root=$1
shift
exec chroot "$root" /bin/sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' chroot-exec "$PWD" "$@"
