# Where the estate lives. Every connection setting is a variable, so the same
# files work against a laptop, CI or a real server (set them with -var,
# terraform.tfvars or STRATA_VAR_pg_host / TF_VAR_pg_host and friends).
provider "postgres" {
  host     = var.pg_host
  port     = var.pg_port
  database = var.pg_database
  username = var.pg_username
  password = var.pg_password
}
