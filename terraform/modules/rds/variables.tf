variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "data_subnet_ids" {
  type = list(string)
}

variable "node_security_group_id" {
  description = "The only security group allowed to connect on 5432."
  type        = string
}

variable "engine_version" {
  type    = string
  default = "16.6"
}

variable "instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "allocated_storage" {
  type    = number
  default = 20
}

variable "multi_az" {
  type    = bool
  default = true
}

variable "backup_retention_period" {
  type    = number
  default = 7
  validation {
    condition     = var.backup_retention_period >= 7
    error_message = "Keep at least 7 days of automated backups."
  }
}

variable "deletion_protection" {
  type    = bool
  default = true
}
