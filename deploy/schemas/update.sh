#!/usr/bin/env bash
# Copies the operators' CustomResourceDefinitions that deploy/k8s uses, unchanged, from their releases:
# each file here is one line saying where it comes from, then the upstream file byte for byte.
# Change a version below, run this, commit the result (and the version in deploy/schemas/README.md).
#
#   deploy/schemas/update.sh                      # from GitHub (raw.githubusercontent.com)
#   MIRROR=/path/to/mirrors deploy/schemas/update.sh   # from local clones: $MIRROR/<owner>+<repo>/repo (git dirs)
set -euo pipefail

STRIMZI=1.2.0             # strimzi/strimzi-kafka-operator: serves kafka.strimzi.io/v1 only
CNPG=v1.30.0              # cloudnative-pg/cloudnative-pg
PROMETHEUS_OPERATOR=v0.93.0  # prometheus-operator/prometheus-operator: ServiceMonitor

here=$(cd "$(dirname "$0")" && pwd)

upstream() {  # <owner/repo> <tag> <path>: the file's text at that tag
    local repo=$1 tag=$2 path=$3
    if [[ -n "${MIRROR:-}" ]]; then
        git -C "$MIRROR/${repo/\//+}/repo" show "$tag:$path"
    else
        curl -fsSL "https://raw.githubusercontent.com/$repo/$tag/$path"
    fi
}

copy() {  # <file here> <owner/repo> <tag> <path>
    local file=$1 repo=$2 tag=$3 path=$4
    {
        echo "# $repo $tag $path, unchanged below this line (deploy/schemas/update.sh)"
        upstream "$repo" "$tag" "$path"
    } > "$here/$file.tmp"
    mv "$here/$file.tmp" "$here/$file"
    echo "$file <- $repo@$tag:$path"
}

strimzi=packaging/install/cluster-operator
copy strimzi-kafka.crd.yaml strimzi/strimzi-kafka-operator "$STRIMZI" "$strimzi/040-Crd-kafka.yaml"
copy strimzi-kafkatopic.crd.yaml strimzi/strimzi-kafka-operator "$STRIMZI" "$strimzi/043-Crd-kafkatopic.yaml"
copy strimzi-kafkauser.crd.yaml strimzi/strimzi-kafka-operator "$STRIMZI" "$strimzi/044-Crd-kafkauser.yaml"
copy strimzi-kafkanodepool.crd.yaml strimzi/strimzi-kafka-operator "$STRIMZI" "$strimzi/045-Crd-kafkanodepool.yaml"
copy cnpg-cluster.crd.yaml cloudnative-pg/cloudnative-pg "$CNPG" config/crd/bases/postgresql.cnpg.io_clusters.yaml
copy prometheus-servicemonitor.crd.yaml prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR" \
    example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml
