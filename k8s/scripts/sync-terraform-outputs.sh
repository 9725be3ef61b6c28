#!/usr/bin/env bash
# Copies an environment's Terraform outputs into its kustomize overlay:
#   k8s/scripts/sync-terraform-outputs.sh staging
# writes k8s/kustomize/overlays/staging/terraform-outputs.yaml, a local-config
# object (never applied) from which the aws-datastores component takes the
# RDS and ElastiCache hostnames. Commit the result; CI renders from it.
set -euo pipefail

env="${1:?usage: $0 <staging|prod>}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tf_dir="${root}/terraform/environments/${env}"
out="${root}/k8s/kustomize/overlays/${env}/terraform-outputs.yaml"

[[ -d "${tf_dir}" ]] || {
  echo "no terraform root ${tf_dir}" >&2
  exit 1
}
[[ -f "${out}" ]] || {
  echo "overlay ${env} has no terraform-outputs.yaml (dev uses in-cluster datastores)" >&2
  exit 1
}

terraform -chdir="${tf_dir}" output -json | jq '{
  apiVersion: "switchyard.example.com/v1",
  kind: "TerraformOutputs",
  metadata: {
    name: "terraform-outputs",
    annotations: {"config.kubernetes.io/local-config": "true"}
  },
  spec: {
    cluster_name: .cluster_name.value,
    ecr_registry: .ecr_registry.value,
    rds_endpoint: .rds_endpoint.value,
    redis_endpoint: .redis_endpoint.value
  }
}' >"${out}"
echo "wrote ${out}"
