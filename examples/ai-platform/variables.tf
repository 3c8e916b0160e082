variable "aws_region" {
  description = "AWS region of the database server."
  type        = string
  default     = "us-east-1"
}

variable "vpc_id" {
  description = "VPC of the database server; empty for the region's default VPC."
  type        = string
  default     = ""
}

variable "instance_class" {
  description = "RDS instance class of the database server."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_password" {
  description = "Master password of the RDS instance."
  type        = string
  sensitive   = true
}

variable "pg_host" {
  description = "Where the schema goes: empty for the RDS instance itself, or another server's host (the pg_* variables below then apply)."
  type        = string
  default     = ""
}

variable "pg_port" {
  description = "PostgreSQL server port."
  type        = number
  default     = 5432
}

variable "pg_database" {
  description = "Database that holds the AI platform schema."
  type        = string
  default     = "strata_demo"
}

variable "pg_username" {
  description = "Role strata connects as."
  type        = string
  default     = "postgres"
}

variable "pg_password" {
  description = "Password for pg_username; empty for trust/peer authentication."
  type        = string
  default     = ""
  sensitive   = true
}

variable "environment" {
  description = "Deployment environment, recorded in table comments."
  type        = string
  default     = "dev"
}

variable "protect_database" {
  description = "true in production: any plan that would delete or replace the RDS instance is an error."
  type        = bool
  default     = false
}

variable "backup_dir" {
  description = "Where the nightly logical backups go (a directory on the machine that runs strata apply)."
  type        = string
  default     = "backups"
}

variable "role_prefix" {
  description = "Prefix of the roles of access.tf: roles belong to the whole server, so two deployments on one server need their own."
  type        = string
  default     = ""
}

variable "training_job_password" {
  description = "Password of the training_job role; null for none (the server's own authentication then decides)."
  type        = string
  default     = null
  sensitive   = true
}

variable "feature_serving_password" {
  description = "Password of the feature_serving role; null for none."
  type        = string
  default     = null
  sensitive   = true
}
