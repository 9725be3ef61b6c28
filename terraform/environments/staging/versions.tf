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

  # State per environment in S3 with locking; values are given at init time:
  #   terraform init -backend-config=bucket=... -backend-config=key=switchyard/ENV.tfstate \
  #     -backend-config=region=... -backend-config=use_lockfile=true
  backend "s3" {}
}
