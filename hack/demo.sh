#!/usr/bin/env bash
# The demo: installs what is missing, starts the local control plane (or uses the cluster KUBECONFIG
# points at when EDGEFLEET_USE_KUBECONFIG=1), installs the CRDs and the sample fleet, and shows it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=env.sh
. hack/env.sh
bash hack/system-deps.sh
bash hack/bins.sh >&2
if [ "${EDGEFLEET_USE_KUBECONFIG:-}" = 1 ]; then
  kubeconfig=${KUBECONFIG:?EDGEFLEET_USE_KUBECONFIG=1 needs KUBECONFIG}
else
  kubeconfig=$(npx tsx hack/cluster.ts up | tail -n 1)
fi
kubectl=$(bash hack/bins.sh kubectl | cut -d' ' -f2)
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }
echo "== control plane: $(k version -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).serverVersion.gitVersion))')"
if compgen -G "crds/*.yaml" >/dev/null; then
  k apply --server-side -f crds/
  k wait --for=condition=Established --timeout=60s -f crds/
fi
if [ -d crds/samples ]; then
  k apply --server-side -R -f crds/samples/
  echo "== the sample fleet"
  k get -A edgefleet 2>/dev/null || true
fi
echo
echo "KUBECONFIG=$kubeconfig"
echo "stop the cluster with: npm run cluster:down"
