variable "pg_host" {
  description = "PostgreSQL server host."
  type        = string
  default     = "127.0.0.1"
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
