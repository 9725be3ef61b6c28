# Every environment sets these in terraform/environments/<env>/terraform.tfvars;
# only redis_auth_token (secret) and istio_version (shared default) are not there.
variable "environment" {
  description = "dev, staging or prod; names every resource and is bound to the state (terraform_data.environment)."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "single_nat_gateway" {
  type = bool
}

variable "eks_endpoint_public_access" {
  description = "false keeps the Kubernetes API on the private endpoint only (reach it via VPN/bastion or a CI runner in the VPC)."
  type        = bool
}

variable "eks_public_access_cidrs" {
  type = list(string)
}

variable "node_instance_types" {
  type = list(string)
}

variable "node_min_size" {
  type = number
}

variable "node_desired_size" {
  type = number
}

variable "node_max_size" {
  type = number
}

variable "istio_version" {
  type    = string
  default = "1.29.0"
}

variable "rds_instance_class" {
  type = string
}

variable "rds_multi_az" {
  type = bool
}

variable "rds_backup_retention_period" {
  type = number
}

variable "rds_deletion_protection" {
  type = bool
}

variable "redis_node_type" {
  type = string
}

variable "redis_num_cache_clusters" {
  type = number
}

variable "redis_auth_token" {
  description = "ElastiCache AUTH token; export TF_VAR_redis_auth_token from your secret store."
  type        = string
  sensitive   = true
}
