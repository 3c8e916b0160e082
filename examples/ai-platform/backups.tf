# Backups of the platform's schema and data, and the drill that proves they restore: the
# platform's old cron'd pg_dump, restore script and validation step, declared. `strata plan`
# shows what is due ("backup due: the newest is 26h old"), `strata apply` does it, and
# `strata drift` reports an overdue backup or a failed drill (exit 2).

# A custom-format pg_dump every night, taken in an exported snapshot together with exact row
# counts and a schema fingerprint (the manifest next to each dump), read back whole with
# pg_restore before anything older is pruned. Only this policy's own files are ever pruned.
resource "postgres_backup_policy" "nightly" {
  every  = "24h"
  format = "custom"

  destination {
    path = var.backup_dir
  }

  retention {
    keep_last = 7
    keep_days = 30
  }

  # The backup of a run that also changes the schema or its privileges is taken after those
  # changes (the dump holds the grants and policies; roles belong to the server).
  depends_on = [
    postgres_table.audit_logs, postgres_table.training_data, postgres_index.audit_logs_timestamp,
    postgres_grant.ml_readers_catalog, postgres_grant.training_job_data, postgres_grant.training_job_models,
    postgres_grant.feature_serving_view, postgres_grant.analyst_training_data, postgres_grant.auditor_audit_logs,
    postgres_policy.training_data_by_team,
  ]
}

# Every week, the newest backup is restored into a scratch database and checked against its
# manifest: the same schema, the same row counts, at least the service accounts. The scratch
# database is dropped whatever the outcome; reports go to drill-reports/.
resource "postgres_restore_drill" "weekly" {
  source = postgres_backup_policy.nightly.id
  every  = "7d"

  check {
    schema_matches = true
    row_counts     = "manifest"
  }

  max_backup_age   = "26h"
  max_restore_time = "30m"
  report_dir       = "drill-reports"
}

# Manual RDS snapshots of the instance every week, on top of RDS's automated backups
# (backup_retention_period): kept beyond the instance's own retention, pruned by strata, and
# only the ones this policy took (tag strata:snapshot-policy).
resource "aws_db_snapshot_policy" "weekly" {
  db_instance_identifier = aws_db_instance.platform.identifier
  every                  = "7d"

  retention {
    keep_last = 8
    keep_days = 90
  }
}
