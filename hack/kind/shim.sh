#!/usr/bin/env bash
# hack/kind/shim.sh path: builds hack/kind/runc-shim once per source into the binary cache and prints its
# path, when this host needs it (CAP_SYS_RESOURCE missing from the bounding set); exit 1 when it does not.
# hack/kind/shim.sh build: builds and prints it regardless (the kind node image carries it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${EDGEFLEET_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/bin}

needed() {
  local bnd
  bnd=$(sed -n 's/^CapBnd:\s*//p' /proc/self/status)
  (((0x$bnd >> 24) & 1)) && return 1 || return 0 # CAP_SYS_RESOURCE is capability 24
}

build() {
  local sum out
  sum=$(cat "$here/runc-shim/go.mod" "$here/runc-shim/main.go" | sha256sum | cut -c1-12)
  out="$cache/runc-shim-$sum"
  if [ ! -x "$out" ]; then
    mkdir -p "$cache"
    (cd "$here/runc-shim" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$out.partial" .)
    mv "$out.partial" "$out"
  fi
  echo "$out"
}

case ${1:-} in
  path) needed && build || exit 1 ;;
  build) build ;;
  *) echo "usage: $0 path|build" >&2; exit 2 ;;
esac
