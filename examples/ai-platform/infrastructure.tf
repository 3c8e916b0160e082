# The database server of the platform: an RDS PostgreSQL instance in its own security group, with
# a parameter group tuned for analytical and training workloads.

# The VPC to run in: var.vpc_id, or the region's default VPC when it is empty.
data "aws_vpc" "platform" {
  id      = var.vpc_id != "" ? var.vpc_id : null
  default = var.vpc_id == "" ? true : null
}

data "aws_subnets" "platform" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.platform.id]
  }
}

resource "aws_db_subnet_group" "platform" {
  name        = "ai-platform-${var.environment}"
  description = "Subnets of the AI platform database (${var.environment})"
  subnet_ids  = data.aws_subnets.platform.ids
}

resource "aws_security_group" "database" {
  name        = "ai-platform-db-${var.environment}"
  description = "PostgreSQL access to the AI platform database"
  vpc_id      = data.aws_vpc.platform.id

  # Application and training subnets only.
  ingress {
    description = "PostgreSQL from inside the VPC"
    protocol    = "tcp"
    from_port   = 5432
    to_port     = 5432
    cidr_blocks = [data.aws_vpc.platform.cidr_block]
  }

  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.tags
}

resource "aws_db_parameter_group" "platform" {
  name        = "ai-platform-pg16-${var.environment}"
  family      = "postgres16"
  description = "AI platform: memory for feature joins and index builds"

  parameter {
    name  = "work_mem"
    value = "65536"
  }
  parameter {
    name  = "maintenance_work_mem"
    value = "1048576"
  }
  # Needs a reboot to take effect.
  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements"
    apply_method = "pending-reboot"
  }

  tags = local.tags
}

resource "aws_db_instance" "platform" {
  identifier     = "ai-platform-${var.environment}"
  engine         = "postgres"
  engine_version = "16.3"
  instance_class = var.instance_class

  allocated_storage     = 100
  max_allocated_storage = 500
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = "ai_platform"
  username = "platform_admin"
  password = var.db_password

  db_subnet_group_name   = aws_db_subnet_group.platform.name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.platform.name
  publicly_accessible    = false

  backup_retention_period   = 7
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:05:00-sun:06:00"
  skip_final_snapshot       = false
  final_snapshot_identifier = "ai-platform-${var.environment}-final"
  apply_immediately         = true

  tags = local.tags

  timeouts {
    create = "60m"
  }

  # The instance is the product: in production no plan may delete or replace it. The protection
  # is also recorded in state, so deleting this block does not lift it.
  lifecycle {
    prevent_destroy = var.protect_database
  }
}

locals {
  tags = {
    Project     = "ai-platform"
    Environment = var.environment
  }
}
