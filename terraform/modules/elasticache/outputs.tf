output "endpoint" {
  description = "Primary endpoint hostname for REDIS_URL (rediss://) and the elasticache-redis ServiceEntry."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}
