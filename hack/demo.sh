#!/usr/bin/env bash
# The demo: installs what is missing, then shows the fleet planned, filled, steered and played.
# With Docker Engine (started here, installed from Debian when missing; hack/kind/docker.sh) it runs on a
# kind cluster with real edge pods and real heartbeats (hack/kind/demo.ts), and keeps the cluster for
# exploring (`npm run kind:down` removes it). Without Docker, or with EDGEFLEET_DEMO=local, it runs on the
# local control plane (hack/demo.ts), where kwok nodes run no containers and the demo says what it stages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=env.sh
. hack/env.sh
if [ "${EDGEFLEET_DEMO:-}" != local ] && [ "${EDGEFLEET_USE_KUBECONFIG:-}" != 1 ]; then
  if bash hack/kind/docker.sh start >&2; then
    exec npx tsx hack/kind/demo.ts
  fi
  echo "demo: Docker Engine cannot run here; the demo runs on the local control plane instead" >&2
fi
exec npx tsx hack/demo.ts
