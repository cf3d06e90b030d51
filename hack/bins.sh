#!/usr/bin/env bash
# Builds the pinned Kubernetes binaries from Go modules, once per version, into a cache outside the repo:
#   $EDGEFLEET_BIN_CACHE/<name>-<version>   (default ~/.cache/edgefleet/bin)
# Usage: hack/bins.sh [name...]     names: etcd kube-apiserver kube-controller-manager kube-scheduler
#                                          kubectl kwok kwokctl helm kubeconform
#                                          pulumi pulumi-resource-kubernetes (pulumi/)   (default: these)
#                                          kubelet kubeadm kube-proxy coredns kind (the kind cluster, hack/kind)
# A user with their own binaries sets EDGEFLEET_<NAME>_BIN (e.g. EDGEFLEET_KUBECTL_BIN=/usr/local/bin/kubectl).
# Prints one line per binary on stdout: "<name> <path> <cached|built in Ns|user>" (hack/local-cluster.ts reads it),
# and one progress line per binary on stderr: "[2/11] kube-apiserver v1.36.3: building, log <file> ... built in 4m15s
# (6m02s so far)". A build's whole Go output (go get, go: downloading, compiler errors) goes to its log,
# $EDGEFLEET_BUILD_DIR/logs/<name>-<version>.log; a failed build prints the log's last lines and its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${EDGEFLEET_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/bin}
work=${EDGEFLEET_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet/build}
mkdir -p "$cache" "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

version_of() {
  case $1 in
    etcd) echo "$ETCD_VERSION" ;;
    kube-*|kubectl|kubelet|kubeadm) echo "$K8S_VERSION" ;;
    kwok|kwokctl) echo "$KWOK_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
    kubeconform) echo "$KUBECONFORM_VERSION" ;;
    coredns) echo "$COREDNS_VERSION" ;;
    kind) echo "$KIND_VERSION" ;;
    pulumi) echo "$PULUMI_VERSION" ;;
    pulumi-resource-kubernetes) echo "$PULUMI_KUBERNETES_VERSION" ;;
    *) echo "unknown binary: $1" >&2; exit 2 ;;
  esac
}

# A module directory of our own for each build, so nothing of the repo's is touched.
new_module() { # dir module-path
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo 1.26.0\n' "$2" >"$1/go.mod"
}

build_etcd() { # out
  local d="$work/etcd-$ETCD_VERSION"
  new_module "$d" edgefleet.dev/etcd
  cat >"$d/main.go" <<'GO'
// Command etcd is upstream etcd's server entry point, built from its Go module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$d" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy &&
    go build -trimpath -ldflags "-s -w" -o "$1" .)
}

# The wrapper module: requires k8s.io/kubernetes and replaces every staging module it lists
# (k8s.io/x => ./staging/src/k8s.io/x) by the published k8s.io/x v0.<minor>.<patch>.
k8s_module() {
  local d="$work/kubernetes-$K8S_VERSION"
  if [ ! -f "$d/.ready" ]; then
    new_module "$d" edgefleet.dev/kubernetes
    local gomod staging="v0.${K8S_VERSION#v1.}"
    gomod=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",*$/\1/p')
    {
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/src/k8s.io/.*$#\t\1 => \1 '"$staging"'#p' "$gomod"
      echo ")"
    } >>"$d/go.mod"
    grep -q "k8s.io/api => k8s.io/api $staging" "$d/go.mod" || { echo "no staging replaces found in $gomod" >&2; return 1; }
    # stdout is this function's answer (the directory): Go's output goes to stderr, the build's log.
    (cd "$d" && go mod download k8s.io/kubernetes >&2 || true)
    touch "$d/.ready"
  fi
  echo "$d"
}

build_k8s() { # name out
  local d pkg="k8s.io/kubernetes/cmd/$1" v="$K8S_VERSION" minor
  d=$(k8s_module) || return 1
  minor=${v#v1.}; minor=${minor%%.*}
  local x="k8s.io/component-base/version" cx="k8s.io/client-go/pkg/version"
  local ld="-s -w"
  for p in "$x" "$cx"; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$d" && go get "$pkg@$K8S_VERSION" && go build -trimpath -tags providerless -ldflags "$ld" -o "$2" "$pkg")
}

# CoreDNS with the plugins kubeadm's Corefile names (and log), not every plugin upstream's main links:
# the cloud DNS providers alone would double the build.
build_coredns() { # out
  local d="$work/coredns-$COREDNS_VERSION"
  new_module "$d" edgefleet.dev/coredns
  cat >"$d/main.go" <<'GO'
// Command coredns is upstream CoreDNS's server with the plugins of kubeadm's default Corefile.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() { coremain.Run() }
GO
  (cd "$d" && go get "github.com/coredns/coredns@$COREDNS_VERSION" && go mod tidy &&
    go build -trimpath -ldflags "-s -w" -o "$1" .)
}

# Runs a build step in <dir>; its output goes to the binary's log, whose tail a failure prints (below).
logged() { # dir cmd...
  local d=$1; shift
  (cd "$d" && "$@")
}

# The Pulumi CLI: `go install` refuses pkg/v3 (its go.mod has replace directives), so a wrapper module
# requires it, carries the one replace the CLI needs, and builds its main package.
build_pulumi() { # out
  local d="$work/pulumi-$PULUMI_VERSION" pkg=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  new_module "$d" edgefleet.dev/pulumi
  cat >>"$d/go.mod" <<'MOD'

// As in pkg/v3's own go.mod.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
  cat >"$d/tools.go" <<GO
//go:build tools

// Package tools keeps the Pulumi CLI in this wrapper module's build list.
package tools

import _ "$pkg"
GO
  logged "$d" go get "$pkg@$PULUMI_VERSION" &&
    logged "$d" go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" -o "$1" "$pkg"
}

# The kubernetes provider: its module (the commit tagged $PULUMI_KUBERNETES_VERSION) replaces its Go SDK
# by ../sdk, which a module zip lacks, and embeds two JSON files its generate.go makes. So: a writable
# copy of the module, the SDK at a version the proxy serves, generate, build.
build_pulumi_kubernetes() { # out
  local mod=github.com/pulumi/pulumi-kubernetes d="$work/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION" src
  local v=${PULUMI_KUBERNETES_VERSION#v}
  src=$(go mod download -json "$mod/provider/v4@$PULUMI_KUBERNETES_MODULE" | sed -n 's/^\s*"Dir": "\(.*\)",*$/\1/p')
  [ -d "$src" ] || { echo "go mod download $mod/provider/v4@$PULUMI_KUBERNETES_MODULE failed" >&2; return 1; }
  rm -rf "$d"; cp -r "$src" "$d"; chmod -R u+w "$d"
  logged "$d" go mod edit -dropreplace "$mod/sdk/v4" -require "$mod/sdk/v4@$PULUMI_KUBERNETES_SDK" &&
    logged "$d" go get "$mod/sdk/v4@$PULUMI_KUBERNETES_SDK" &&
    logged "$d/cmd/pulumi-resource-kubernetes" env VERSION="$v" go run generate.go &&
    logged "$d" go build -trimpath -ldflags "-s -w -X $mod/provider/v4/pkg/version.Version=$v" \
      -o "$1" ./cmd/pulumi-resource-kubernetes
}

build_go_install() { # module/pkg@version out
  local d="$work/gobin-$(basename "$2")"
  rm -rf "$d"; mkdir -p "$d"
  GOBIN="$d" go install -trimpath -ldflags "-s -w" "$1" && mv "$d"/* "$2" && rmdir "$d"
}

build_one() { # name out
  case $1 in
    etcd) build_etcd "$2" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kubeadm|kube-proxy) build_k8s "$1" "$2" ;;
    coredns) build_coredns "$2" ;;
    kind) build_go_install "sigs.k8s.io/kind@$KIND_VERSION" "$2" ;;
    kwok|kwokctl)
      build_go_install "sigs.k8s.io/kwok/cmd/$1@$KWOK_VERSION" "$2" ;;
    helm) build_go_install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$2" ;;
    kubeconform) build_go_install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" "$2" ;;
    pulumi) build_pulumi "$2" ;;
    pulumi-resource-kubernetes) build_pulumi_kubernetes "$2" ;;
  esac
}

# 75 → "1m15s", 9 → "9s".
duration() { if (($1 >= 60)); then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

all=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl helm kubeconform
  pulumi pulumi-resource-kubernetes)
[ $# -gt 0 ] || set -- "${all[@]}"
mkdir -p "$work/logs"
began=$(date +%s) i=0
for name in "$@"; do
  i=$((i + 1))
  version=$(version_of "$name")
  progress="[$i/$#] $name $version:"
  var="EDGEFLEET_$(echo "$name" | tr 'a-z-' 'A-Z_')_BIN"
  if [ -n "${!var:-}" ]; then echo "$name ${!var} user"; echo "$progress $var=${!var}" >&2; continue; fi
  out="$cache/$name-$version"
  if [ -x "$out" ]; then echo "$name $out cached"; echo "$progress cached" >&2; continue; fi
  log="$work/logs/$name-$version.log"
  # One line per binary: its start now, completed when the build ends (nothing else is printed meanwhile).
  printf '%s building, log %s ... ' "$progress" "$log" >&2
  start=$(date +%s)
  # Build to a temporary name and rename, so an interrupted build never leaves a broken binary in the cache.
  if ! build_one "$name" "$out.partial" >"$log" 2>&1; then
    printf 'FAILED after %s; the end of %s:\n' "$(duration $(($(date +%s) - start)))" "$log" >&2
    tail -n 20 "$log" >&2
    rm -f "$out.partial"
    exit 1
  fi
  mv "$out.partial" "$out"
  now=$(date +%s)
  printf 'built in %s (%s so far)\n' "$(duration $((now - start)))" "$(duration $((now - began)))" >&2
  echo "$name $out built in $((now - start))s"
done
