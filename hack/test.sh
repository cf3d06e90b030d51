#!/usr/bin/env bash
# Runs every test, installing what is missing first (Node 24, npm packages, the control-plane and Pulumi
# binaries, nginx and wrk): typecheck and lint, unit and integration tests (integration on their own local
# control plane, or on the cluster KUBECONFIG points at when EDGEFLEET_USE_KUBECONFIG=1; the Pulumi stacks'
# unit tests and a real `pulumi up`/`destroy` of eu-west among them), then the kind e2e suite
# (npm run e2e:kind: Docker Engine, the offline images and a kind cluster, all stopped and removed after).
# On a machine where Docker cannot run the e2e suite is skipped, says why, and counts as skipped.
# EDGEFLEET_E2E=0 leaves it out. The last line is the plain summary "N passed, N failed[, N skipped]".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=env.sh
. hack/env.sh
report=$(mktemp -t edgefleet-vitest-XXXXXX.json)
e2e_report=$(mktemp -t edgefleet-e2e-XXXXXX.json)
trap 'rm -f "$report" "$e2e_report"' EXIT
status=0
# Types and lint first: a failure there fails the run, but the tests still run and are counted.
npx tsc --noEmit -p . || status=1
npx biome check . || status=1
npx vitest run --project unit --project integration --reporter=default --reporter=json \
  --outputFile.json="$report" "$@" || status=$?
reports=("$report")
if [ "${EDGEFLEET_E2E:-1}" != 0 ]; then
  npx tsx hack/kind/e2e.ts --if-docker --report "$e2e_report" || status=1
  reports+=("$e2e_report")
fi
node hack/test-summary.mjs "${reports[@]}" || status=1
exit "$status"
