# dev: non-secret settings. redis_auth_token comes from TF_VAR_redis_auth_token.
environment = "dev"
region      = "eu-west-1"
vpc_cidr    = "10.10.0.0/16"

single_nat_gateway         = true
eks_endpoint_public_access = true
eks_public_access_cidrs    = ["203.0.113.0/24"]

node_instance_types = ["t3.large"]
node_min_size       = 2
node_desired_size   = 2
node_max_size       = 4

rds_instance_class          = "db.t4g.small"
rds_multi_az                = false
rds_backup_retention_period = 7
rds_deletion_protection     = false

redis_node_type          = "cache.t4g.micro"
redis_num_cache_clusters = 1
