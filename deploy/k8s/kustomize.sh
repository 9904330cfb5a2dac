#!/usr/bin/env bash
# Prints the path of the kustomize that renders deploy/k8s in the tests (tests/deploy), building it first if
# missing: `go install` of the newest release whose go.mod the Go on these machines accepts (v5.8.3 asks for
# Go 1.27), into .data/tools. `make test` starts it beside the stack's start, so a fresh machine builds it while
# PostgreSQL and Kafka come up. TITP_KUSTOMIZE (read by the tests) names another binary instead.
set -euo pipefail
MODULE=sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
root=$(cd "$(dirname "$0")/../.." && pwd)
folder="$root/.data/tools/kustomize-${MODULE##*@}"
if [ ! -x "$folder/kustomize" ]; then
  command -v go >/dev/null || { echo "kustomize.sh: Go is needed to build $MODULE (or set TITP_KUSTOMIZE)" >&2; exit 1; }
  GOBIN="$folder" go install "$MODULE" >&2
fi
echo "$folder/kustomize"
