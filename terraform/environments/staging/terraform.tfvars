# staging: non-secret settings. redis_auth_token comes from TF_VAR_redis_auth_token.
environment = "staging"
region      = "eu-west-1"
vpc_cidr    = "10.20.0.0/16"

single_nat_gateway         = true
eks_endpoint_public_access = false
eks_public_access_cidrs    = []

node_instance_types = ["m6i.large"]
node_min_size       = 2
node_desired_size   = 3
node_max_size       = 6

rds_instance_class          = "db.t4g.medium"
rds_multi_az                = true
rds_backup_retention_period = 7
rds_deletion_protection     = true

redis_node_type          = "cache.t4g.small"
redis_num_cache_clusters = 2
