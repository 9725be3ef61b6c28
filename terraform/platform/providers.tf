provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "switchyard"
      Environment = var.environment
    }
  }
}

# Helm talks to the cluster created in main.tf. On the very first apply the
# cluster does not exist yet: run `terraform apply -target=module.eks` first
# (docs/deploy.md).
provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_ca_certificate)
    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.region]
    }
  }
}
