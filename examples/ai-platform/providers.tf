# Where the estate lives: AWS for the database server, PostgreSQL for the schema inside it.
provider "aws" {
  region = var.aws_region
}

# The schema lives in the RDS instance of infrastructure.tf, so every table depends on it: strata
# configures this provider only once the instance exists. Set pg_host to point the schema at
# another server instead (the demo does: its instance lives in the moto emulator, which runs no
# database, so the schema goes to a local PostgreSQL).
provider "postgres" {
  host     = var.pg_host != "" ? var.pg_host : aws_db_instance.platform.address
  port     = var.pg_host != "" ? var.pg_port : aws_db_instance.platform.port
  database = local.database
  username = var.pg_host != "" ? var.pg_username : aws_db_instance.platform.username
  password = var.pg_host != "" ? var.pg_password : var.db_password

  # A migration blocked by a long-running query fails after 5 s instead of queueing behind it
  # and stalling the application's queries behind itself.
  lock_timeout = "5s"
}

locals {
  # The database the schema lives in; grants name it (a grant's database must be the connected one).
  database = var.pg_host != "" ? var.pg_database : aws_db_instance.platform.db_name
}
