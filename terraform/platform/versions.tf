terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # Partial S3 backend (native locking): every environment supplies its own
  # state key in ../environments/<env>/backend.hcl at init time, e.g.
  #   TF_DATA_DIR=../environments/dev/.terraform terraform -chdir=terraform/platform init \
  #     -backend-config=../environments/dev/backend.hcl -backend-config=bucket=<state-bucket>
  backend "s3" {}
}
