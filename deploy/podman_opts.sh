# Options for podman on machines like this project's (a VM whose root lacks some powers), sourced by
# deploy/build_offline.sh and deploy/run_containers.sh. Sets PODMAN_OPTS (global options) and
# PODMAN_LIMITS (for `podman build` and `podman run`).
#
# - Runtime: runc on a host whose cgroups are mounted in hybrid mode (v1 controllers, plus a v2 hierarchy
#   at /sys/fs/cgroup/unified). crun, podman's default on Debian, refuses to start any container there:
#   "crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2". runc supports it.
# - Limits: podman asks for 1,048,576 open files and as many processes as conmon's own limit; a root
#   without CAP_SYS_RESOURCE cannot raise its limits that far, and every container fails with
#   "setrlimit `RLIMIT_NOFILE`: Operation not permitted". This shell's hard limit of open files (a
#   server's sockets) and 4,096 processes (the app runs a few dozen threads and a small training pool).
# shellcheck shell=bash disable=SC2034  # the sourcing scripts use these arrays

PODMAN_OPTS=()
if [[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs && -n "$(< /sys/fs/cgroup/unified/cgroup.controllers)" ]]; then
  command -v runc >/dev/null || { echo "cgroups in hybrid mode: podman needs runc here (apt-get install -y runc)" >&2; exit 2; }
  PODMAN_OPTS=(--runtime runc)
fi
nofile=$(ulimit -Hn)
[[ "$nofile" == unlimited || "$nofile" -gt 1048576 ]] && nofile=1048576
PODMAN_LIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)
unset nofile
