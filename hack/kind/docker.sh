#!/usr/bin/env bash
# Docker Engine for the kind cluster, from Debian's packages, started by hand (no systemd here).
#   hack/kind/docker.sh start   installs docker.io when dockerd is missing and starts dockerd unless one
#                               answers already; prints "docker running" or "docker started"
#   hack/kind/docker.sh stop    stops dockerd only if start started it (a user's own dockerd stays)
#   hack/kind/docker.sh status  exit 0 when a Docker engine answers
# Where root's capability bounding set lacks CAP_SYS_RESOURCE (some VMs), runc cannot start privileged
# containers or pod sandboxes; dockerd then runs containers through hack/kind/runc-shim (see its main.go).
# State (pid, log, the started-by-us marker): $EDGEFLEET_DOCKER_STATE (default ~/.cache/edgefleet/docker).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${EDGEFLEET_DOCKER_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/docker}
mkdir -p "$state"

answers() { timeout 10 docker info >/dev/null 2>&1; }

install() {
  command -v dockerd >/dev/null && command -v docker >/dev/null && return 0
  echo "installing docker.io from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends docker.io containerd runc iptables >&2
}

start() {
  if answers; then echo "docker running"; return 0; fi
  install
  local args=(--pidfile "$state/dockerd.pid")
  [ -n "${EDGEFLEET_DOCKER_ROOT:-}" ] && args+=(--data-root "$EDGEFLEET_DOCKER_ROOT")
  local shim
  if shim=$(bash "$here/shim.sh" path); then
    args+=(--add-runtime "edgefleet-runc=$shim" --default-runtime edgefleet-runc)
    echo "CAP_SYS_RESOURCE is missing from the bounding set: containers run through $shim" >&2
  fi
  rm -f "$state/dockerd.pid"
  # setsid: dockerd outlives this script and is not killed with the caller's process group.
  setsid dockerd "${args[@]}" >"$state/dockerd.log" 2>&1 </dev/null &
  touch "$state/started-by-edgefleet"
  for _ in $(seq 1 60); do
    if answers; then echo "docker started"; return 0; fi
    sleep 1
  done
  echo "docker: dockerd did not answer within 60 s; see $state/dockerd.log" >&2
  return 1
}

stop() {
  [ -f "$state/started-by-edgefleet" ] || { echo "docker: not started by edgefleet; left running"; return 0; }
  local pid
  pid=$(cat "$state/dockerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # dockerd's own containerd exits with it; a stray one (a crash) is stopped here.
  pkill -f "containerd --config /var/run/docker/containerd/containerd.toml" 2>/dev/null || true
  rm -f "$state/started-by-edgefleet" "$state/dockerd.pid"
  echo "docker stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
