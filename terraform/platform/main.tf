# The whole Switchyard platform, written once. Environments are data only:
# terraform/environments/<env>/terraform.tfvars (settings) and backend.hcl
# (where that environment's state lives). Run it as
#   export TF_DATA_DIR=../environments/<env>/.terraform
#   terraform -chdir=terraform/platform init -backend-config=../environments/<env>/backend.hcl -backend-config=bucket=<state-bucket>
#   terraform -chdir=terraform/platform plan -var-file=../environments/<env>/terraform.tfvars
#
# Why one root rather than per-environment roots calling a modules/platform
# wrapper: a wrapper still needs a root per environment re-declaring every
# variable, every output, the backend and the provider blocks (providers
# belong in roots, not in shared modules), i.e. the same copies as before.
# Here the only copy is the data. State isolation is kept by three things:
#   - each environment's backend.hcl names its own state key (its own state);
#   - TF_DATA_DIR gives each environment its own working directory, so an
#     init for one environment never leaves another one's backend selected;
#   - terraform_data.environment below binds a state to one environment.
# Module addresses (module.vpc, module.eks, ...) are those the former
# per-environment roots used, so the existing state files carry over as is.

locals {
  name = "switchyard-${var.environment}"
}

# Guard against pairing one environment's tfvars with another's state: the
# recorded environment can only change by replacing this object, which
# prevent_destroy turns into a plan error. Tearing an environment down on
# purpose: `terraform state rm terraform_data.environment` first.
resource "terraform_data" "environment" {
  triggers_replace = var.environment

  lifecycle {
    prevent_destroy = true
  }
}

module "vpc" {
  source             = "../modules/vpc"
  name               = local.name
  cidr               = var.vpc_cidr
  single_nat_gateway = var.single_nat_gateway
}

module "eks" {
  source                 = "../modules/eks"
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
  source        = "../modules/istio"
  istio_version = var.istio_version
  depends_on    = [module.eks]
}

module "ecr" {
  source = "../modules/ecr"
}

module "rds" {
  source                  = "../modules/rds"
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
  source                 = "../modules/elasticache"
  name                   = local.name
  vpc_id                 = module.vpc.vpc_id
  data_subnet_ids        = module.vpc.data_subnet_ids
  node_security_group_id = module.eks.node_security_group_id
  node_type              = var.redis_node_type
  num_cache_clusters     = var.redis_num_cache_clusters
  auth_token             = var.redis_auth_token
}
