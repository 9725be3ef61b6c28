output "endpoint" {
  description = "Hostname (no port) for DATABASE_URL and the rds-postgres ServiceEntry."
  value       = aws_db_instance.this.address
}

output "master_user_secret_arn" {
  value = aws_db_instance.this.master_user_secret[0].secret_arn
}
