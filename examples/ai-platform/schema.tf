# Schema of a small AI/ML platform: who uses it, the features it computes,
# the models it trains, what they were trained on, the data assets behind
# them, and an audit trail of everything that happened.

# pgcrypto provides gen_random_bytes(), used for users' API tokens.
# (gen_random_uuid() is built into PostgreSQL 13 and later.)
resource "postgres_extension" "pgcrypto" {
  name = "pgcrypto"
}

# Lifecycle of a model, from first draft to retirement.
resource "postgres_enum" "model_status" {
  schema = "public"
  name   = "model_status"
  values = ["draft", "training", "staging", "production", "archived"]
}

resource "postgres_table" "users" {
  schema  = "public"
  name    = "users"
  comment = "People and service accounts using the AI platform (${var.environment})"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name      = "email"
    type      = "text"
    null      = false
    sensitive = true
  }
  column {
    name = "display_name"
    type = "text"
  }
  column {
    name      = "api_token"
    type      = "text"
    null      = false
    default   = "encode(gen_random_bytes(24), 'hex')"
    sensitive = true
  }
  column {
    name    = "is_active"
    type    = "boolean"
    null    = false
    default = "true"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
  unique {
    name    = "users_email_key"
    columns = ["email"]
  }
  unique {
    name    = "users_api_token_key"
    columns = ["api_token"]
  }
  check {
    name       = "users_email_not_blank"
    expression = "email <> ''"
  }

  # The api_token default calls a pgcrypto function.
  depends_on = [postgres_extension.pgcrypto]
}

resource "postgres_table" "features" {
  schema  = "public"
  name    = "features"
  comment = "Feature values computed per user over time (${var.environment})"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "user_id"
    type = "bigint"
    null = false
  }
  column {
    name = "name"
    type = "text"
    null = false
  }
  column {
    name = "value"
    type = "double precision"
  }
  column {
    name    = "metadata"
    type    = "jsonb"
    null    = false
    default = "'{}'::jsonb"
  }
  column {
    name    = "embedding"
    type    = "real[]"
    comment = "the feature's embedding; vector(768) where pgvector is installed"
  }
  column {
    name    = "timestamp"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
  check {
    name       = "features_name_not_blank"
    expression = "name <> ''"
  }
  foreign_key {
    columns     = ["user_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "CASCADE"
  }
  # Feature lookups are "latest values for this user".
  index {
    name    = "idx_features_user_id_timestamp"
    columns = ["user_id", "timestamp"]
  }
  # Similarity lookups on embeddings. With pgvector this is
  #   using = "hnsw", columns = ["embedding vector_cosine_ops"], with = { m = 16, ef_construction = 64 }
  # pgvector is not everywhere, so the example uses a built-in method the same way: an operator
  # class per column and storage parameters.
  index {
    name    = "idx_features_embedding"
    using   = "gin"
    columns = ["embedding array_ops"]
    with    = { fastupdate = "off" }
    comment = "embedding lookups (hnsw with vector_cosine_ops under pgvector)"
  }
}

# What online feature serving reads: the latest value of each feature per user.
resource "postgres_view" "feature_serving" {
  schema  = "public"
  name    = "feature_serving"
  comment = "Latest value of each feature per user, for online serving"
  query   = <<-SQL
    SELECT DISTINCT ON (user_id, name) user_id, name, value, embedding, "timestamp"
    FROM ${postgres_table.features.id}
    ORDER BY user_id, name, "timestamp" DESC
  SQL
}

resource "postgres_table" "models" {
  schema  = "public"
  name    = "models"
  comment = "Trained and in-training ML models (${var.environment})"

  column {
    name    = "id"
    type    = "uuid"
    null    = false
    default = "gen_random_uuid()"
  }
  column {
    name = "name"
    type = "text"
    null = false
  }
  column {
    name    = "version"
    type    = "integer"
    null    = false
    default = "1"
  }
  column {
    name    = "status"
    type    = "${postgres_enum.model_status.schema}.${postgres_enum.model_status.name}"
    null    = false
    default = "'draft'"
  }
  column {
    name = "owner_id"
    type = "bigint"
  }
  column {
    name = "framework"
    type = "text"
  }
  column {
    name    = "hyperparameters"
    type    = "jsonb"
    null    = false
    default = "'{}'::jsonb"
  }
  column {
    name = "metrics"
    type = "jsonb"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }
  column {
    name    = "updated_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
  unique {
    name    = "models_name_version_key"
    columns = ["name", "version"]
  }
  check {
    name       = "models_version_positive"
    expression = "version > 0"
  }
  foreign_key {
    columns     = ["owner_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "SET NULL"
  }
  # Dashboards list models by lifecycle stage.
  index {
    name    = "idx_models_status"
    columns = ["status"]
  }
}

resource "postgres_table" "metadata_assets" {
  schema  = "public"
  name    = "metadata_assets"
  comment = "Catalog of datasets, feature sets and artifacts (${var.environment})"

  column {
    name    = "id"
    type    = "uuid"
    null    = false
    default = "gen_random_uuid()"
  }
  column {
    name = "owner_id"
    type = "bigint"
  }
  column {
    name = "kind"
    type = "text"
    null = false
  }
  column {
    name = "uri"
    type = "text"
    null = false
  }
  column {
    name = "size_bytes"
    type = "bigint"
  }
  column {
    name = "checksum"
    type = "text"
  }
  column {
    name    = "tags"
    type    = "text[]"
    null    = false
    default = "'{}'::text[]"
  }
  column {
    name    = "metadata"
    type    = "jsonb"
    null    = false
    default = "'{}'::jsonb"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
  unique {
    name    = "metadata_assets_uri_key"
    columns = ["uri"]
  }
  check {
    name       = "metadata_assets_kind_known"
    expression = "kind IN ('dataset', 'feature_set', 'artifact', 'notebook')"
  }
  check {
    name       = "metadata_assets_size_non_negative"
    expression = "size_bytes >= 0"
  }
  foreign_key {
    columns     = ["owner_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "SET NULL"
  }
}

resource "postgres_table" "training_data" {
  schema  = "public"
  name    = "training_data"
  comment = "Which data assets each model was trained and evaluated on (${var.environment})"

  # Policies (access.tf) decide which rows a role sees; the owner (strata's role) sees all.
  row_level_security = { enabled = true }

  column {
    name    = "id"
    type    = "uuid"
    null    = false
    default = "gen_random_uuid()"
  }
  column {
    name = "model_id"
    type = "uuid"
    null = false
  }
  column {
    name = "asset_id"
    type = "uuid"
    null = false
  }
  column {
    name    = "split"
    type    = "text"
    null    = false
    default = "'train'"
  }
  column {
    name    = "team"
    type    = "text"
    null    = false
    default = "'core'"
    comment = "The team whose data this is: row-level security shows a session its team's rows only"
  }
  column {
    name = "row_count"
    type = "bigint"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
  unique {
    name    = "training_data_model_asset_split_key"
    columns = ["model_id", "asset_id", "split"]
  }
  check {
    name       = "training_data_split_known"
    expression = "split IN ('train', 'validation', 'test')"
  }
  check {
    name       = "training_data_row_count_non_negative"
    expression = "row_count >= 0"
  }
  foreign_key {
    columns     = ["model_id"]
    references  = postgres_table.models.id
    ref_columns = ["id"]
    on_delete   = "CASCADE"
  }
  foreign_key {
    columns     = ["asset_id"]
    references  = postgres_table.metadata_assets.id
    ref_columns = ["id"]
    on_delete   = "RESTRICT"
  }
}

resource "postgres_table" "audit_logs" {
  schema  = "public"
  name    = "audit_logs"
  comment = "Append-only trail of platform actions (${var.environment})"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "actor_id"
    type = "bigint"
  }
  column {
    name = "action"
    type = "text"
    null = false
  }
  column {
    name = "entity_type"
    type = "text"
    null = false
  }
  column {
    name = "entity_id"
    type = "text"
  }
  column {
    name    = "details"
    type    = "jsonb"
    null    = false
    default = "'{}'::jsonb"
  }
  column {
    name    = "timestamp"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  # Partitioned by month: old months are detached and archived whole; a partition's key must be in
  # the primary key.
  primary_key = ["id", "timestamp"]
  partition_by {
    strategy = "range"
    columns  = ["timestamp"]
  }
  check {
    name       = "audit_logs_action_not_blank"
    expression = "action <> ''"
  }
  foreign_key {
    columns     = ["actor_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "SET NULL"
  }
}

# This month's partition and a default one for rows outside every declared month. Later months
# can be made by the application or pg_partman: strata leaves partitions it did not make alone.
resource "postgres_table" "audit_logs_2026_12" {
  name         = "audit_logs_2026_12"
  partition_of = postgres_table.audit_logs.id
  bound        = "FROM ('2026-12-01') TO ('2027-01-01')"
}

resource "postgres_table" "audit_logs_default" {
  name         = "audit_logs_default"
  partition_of = postgres_table.audit_logs.id
  bound        = "DEFAULT"
}

# Audit logs grow fast and are read by time range. On a partitioned table the index is built on
# every partition; PostgreSQL cannot build it CONCURRENTLY there.
resource "postgres_index" "audit_logs_timestamp" {
  table   = postgres_table.audit_logs.id
  name    = "idx_audit_logs_timestamp"
  columns = ["timestamp"]
}

# models.updated_at follows every change of a row.
resource "postgres_function" "touch_updated_at" {
  name     = "touch_updated_at"
  returns  = "trigger"
  language = "plpgsql"
  comment  = "Sets updated_at to the time of the change"
  body     = <<-SQL
    BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END;
  SQL
}

resource "postgres_trigger" "models_updated_at" {
  table    = postgres_table.models.id
  name     = "models_updated_at"
  timing   = "BEFORE"
  events   = ["UPDATE"]
  level    = "ROW"
  function = postgres_function.touch_updated_at.id
}
