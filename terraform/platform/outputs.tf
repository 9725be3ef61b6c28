# Read by k8s/scripts/sync-terraform-outputs.sh to fill the overlay's
# terraform-outputs.yaml, and by docs/deploy.md for secrets and kubeconfig.
output "environment" {
  description = "Which environment this state belongs to; sync-terraform-outputs.sh checks it."
  value       = var.environment
}

output "cluster_name" {
  value = module.eks.cluster_name
}

output "region" {
  value = var.region
}

output "ecr_registry" {
  value = module.ecr.registry
}

output "ecr_repository_urls" {
  value = module.ecr.repository_urls
}

output "rds_endpoint" {
  value = module.rds.endpoint
}

output "rds_master_user_secret_arn" {
  value = module.rds.master_user_secret_arn
}

output "redis_endpoint" {
  value = module.elasticache.endpoint
}
