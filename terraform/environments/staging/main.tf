provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "switchyard"
      Environment = var.environment
    }
  }
}

# Helm talks to the cluster created below. On the very first apply the
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

locals {
  name = "switchyard-${var.environment}"
}

module "vpc" {
  source             = "../../modules/vpc"
  name               = local.name
  cidr               = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
}

module "eks" {
  source                 = "../../modules/eks"
  cluster_name           = local.name
  vpc_id                 = module.vpc.vpc_id
  private_subnet_ids     = module.vpc.private_subnet_ids
  endpoint_public_access = var.eks_endpoint_public_access
  public_access_cidrs    = var.eks_public_access_cidrs
  node_instance_types    = var.node_instance_types
  node_min_size          = var.node_min_size
  node_desired_size      = var.node_desired_size
  node_max_size          = var.node_max_size
}

module "istio" {
  source        = "../../modules/istio"
  istio_version = var.istio_version
  depends_on    = [module.eks]
}

module "ecr" {
  source = "../../modules/ecr"
}

module "rds" {
  source                  = "../../modules/rds"
  name                    = local.name
  vpc_id                  = module.vpc.vpc_id
  data_subnet_ids         = module.vpc.data_subnet_ids
  node_security_group_id  = module.eks.node_security_group_id
  instance_class          = var.rds_instance_class
  multi_az                = var.rds_multi_az
  backup_retention_period = var.rds_backup_retention_period
  deletion_protection     = var.rds_deletion_protection
}

module "elasticache" {
  source                 = "../../modules/elasticache"
  name                   = local.name
  vpc_id                 = module.vpc.vpc_id
  data_subnet_ids        = module.vpc.data_subnet_ids
  node_security_group_id = module.eks.node_security_group_id
  node_type              = var.redis_node_type
  num_cache_clusters     = var.redis_num_cache_clusters
  auth_token             = var.redis_auth_token
}
