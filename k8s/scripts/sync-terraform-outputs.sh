#!/usr/bin/env bash
# Copies an environment's Terraform outputs into its kustomize overlay:
#   k8s/scripts/sync-terraform-outputs.sh staging
# writes k8s/kustomize/overlays/staging/terraform-outputs.yaml, a local-config
# object (never applied) from which the aws-datastores component takes the
# RDS and ElastiCache hostnames. Commit the result; CI renders from it.
set -euo pipefail

env="${1:?usage: $0 <staging|prod>}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
env_dir="${root}/terraform/environments/${env}"
out="${root}/k8s/kustomize/overlays/${env}/terraform-outputs.yaml"

[[ -f "${env_dir}/backend.hcl" ]] || {
  echo "no terraform environment ${env_dir}" >&2
  exit 1
}
[[ -f "${out}" ]] || {
  echo "overlay ${env} has no terraform-outputs.yaml (dev uses in-cluster datastores)" >&2
  exit 1
}

# One root (terraform/platform) serves every environment; each environment's
# initialised working directory (its backend) is its own TF_DATA_DIR.
export TF_DATA_DIR="${env_dir}/.terraform"
[[ -d "${TF_DATA_DIR}" ]] || {
  echo "${env} is not initialised: run terraform init for it first (docs/deploy.md)" >&2
  exit 1
}

outputs="$(terraform -chdir="${root}/terraform/platform" output -json)"
jq -e --arg env "${env}" '.environment.value == $env' <<<"${outputs}" >/dev/null || {
  echo "the state in ${TF_DATA_DIR} is not ${env}'s (or predates the environment output: apply first)" >&2
  exit 1
}

jq '{
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
}' <<<"${outputs}" >"${out}"
echo "wrote ${out}"
