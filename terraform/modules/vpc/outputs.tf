output "vpc_id" {
  value = aws_vpc.this.id
}

output "vpc_cidr" {
  value = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  value = local.subnet_ids.public
}

output "private_subnet_ids" {
  value = local.subnet_ids.private
}

output "data_subnet_ids" {
  value = local.subnet_ids.data
}
