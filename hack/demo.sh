#!/usr/bin/env bash
# The demo: installs what is missing, then hack/demo.ts starts the local control plane (or uses the
# cluster KUBECONFIG points at when EDGEFLEET_USE_KUBECONFIG=1), installs the CRDs and the sample fleet,
# runs the operator and the steering service, and shows the fleet planned, filled and steered.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=env.sh
. hack/env.sh
exec npx tsx hack/demo.ts
