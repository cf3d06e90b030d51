#!/usr/bin/env bash
# Runs every test, unit and integration, installing what is missing first (Node 24, npm packages, the
# control-plane binaries, nginx and wrk). Integration tests start their own local control plane, or use
# the cluster KUBECONFIG points at when EDGEFLEET_USE_KUBECONFIG=1.
# The last line is the plain summary "N passed, N failed[, N skipped]" from vitest's JSON report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=env.sh
. hack/env.sh
report=$(mktemp -t edgefleet-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
# Types and lint first: a failure there fails the run, but the tests still run and are counted.
npx tsc --noEmit -p . || status=1
npx biome check . || status=1
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node hack/test-summary.mjs "$report" || status=1
exit "$status"
