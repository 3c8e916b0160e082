# Who may touch the data: one login role per workload, each granted only what it reads or
# writes. Reviewed in the pull request like a schema change; a grant made by hand shows up in
# the scheduled `strata drift` run.
#
# Roles belong to the whole server, not to this database: role_prefix keeps two deployments on
# one server (staging beside dev, or parallel test runs) apart.

locals {
  role = {
    readers         = "${var.role_prefix}ml_readers"
    training_job    = "${var.role_prefix}training_job"
    feature_serving = "${var.role_prefix}feature_serving"
    analyst         = "${var.role_prefix}analyst"
    auditor         = "${var.role_prefix}auditor"
  }
}

# A group role (no login) holding read access to the model catalog; people and jobs join it.
resource "postgres_role" "ml_readers" {
  name  = local.role.readers
  login = false
}

resource "postgres_grant" "ml_readers_catalog" {
  database    = local.database
  role        = postgres_role.ml_readers.name
  schema      = "public"
  object_type = "table"
  objects     = ["models", "metadata_assets"]
  privileges  = ["SELECT"]
}

# Batch training: reads features and its team's training data, registers the models it trains.
resource "postgres_role" "training_job" {
  name              = local.role.training_job
  login             = true
  password          = var.training_job_password
  connection_limit  = 20
  statement_timeout = 3600000
}

resource "postgres_grant_role" "training_job_reads" {
  role       = postgres_role.training_job.name
  grant_role = postgres_role.ml_readers.name
}

resource "postgres_grant" "training_job_data" {
  database    = local.database
  role        = postgres_role.training_job.name
  schema      = "public"
  object_type = "table"
  objects     = ["features", "training_data"]
  privileges  = ["SELECT"]
}

resource "postgres_grant" "training_job_models" {
  database    = local.database
  role        = postgres_role.training_job.name
  schema      = "public"
  object_type = "table"
  objects     = ["models"]
  privileges  = ["SELECT", "INSERT", "UPDATE"]
}

# Online serving: reads feature values through the serving view and nothing else.
resource "postgres_role" "feature_serving" {
  name                                = local.role.feature_serving
  login                               = true
  password                            = var.feature_serving_password
  statement_timeout                   = 2000
  idle_in_transaction_session_timeout = 10000
}

resource "postgres_grant" "feature_serving_view" {
  database    = local.database
  role        = postgres_role.feature_serving.name
  schema      = "public"
  object_type = "table"
  objects     = [postgres_view.feature_serving.name]
  privileges  = ["SELECT"]
}

# Analysts: the model catalog through ml_readers, and training data of their team (row-level
# security below); never users or the audit trail.
resource "postgres_role" "analyst" {
  name  = local.role.analyst
  login = true
  roles = [postgres_role.ml_readers.name]
}

resource "postgres_grant" "analyst_training_data" {
  database    = local.database
  role        = postgres_role.analyst.name
  schema      = "public"
  object_type = "table"
  objects     = ["training_data"]
  privileges  = ["SELECT"]
}

# Auditors read the audit trail and nothing else; they cannot change it.
resource "postgres_role" "auditor" {
  name  = local.role.auditor
  login = true
}

resource "postgres_grant" "auditor_audit_logs" {
  database    = local.database
  role        = postgres_role.auditor.name
  schema      = "public"
  object_type = "table"
  objects     = ["audit_logs"]
  privileges  = ["SELECT"]
}

# Row-level security on training_data: a session sees the rows of the team it names in
# app.team (SET app.team = 'vision'), and none without it.
resource "postgres_policy" "training_data_by_team" {
  name    = "training_data_by_team"
  table   = postgres_table.training_data.name
  command = "SELECT"
  roles   = [postgres_role.training_job.name, postgres_role.analyst.name]
  using   = "team = current_setting('app.team', true)"
  comment = "Each team reads its own training data"
}
