# prod: non-secret settings. redis_auth_token comes from TF_VAR_redis_auth_token.
environment = "prod"
region      = "eu-west-1"
vpc_cidr    = "10.30.0.0/16"

single_nat_gateway         = false
eks_endpoint_public_access = false
eks_public_access_cidrs    = []

node_instance_types = ["m6i.xlarge"]
node_min_size       = 3
node_desired_size   = 3
node_max_size       = 12

rds_instance_class          = "db.r6g.large"
rds_multi_az                = true
rds_backup_retention_period = 14
rds_deletion_protection     = true

redis_node_type          = "cache.r6g.large"
redis_num_cache_clusters = 3
