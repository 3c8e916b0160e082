output "db_endpoint" {
  description = "Where applications connect: the RDS instance's address and port."
  value       = aws_db_instance.platform.endpoint
}

output "table_ids" {
  description = "Every table of the platform, as schema.name."
  value = {
    users           = postgres_table.users.id
    features        = postgres_table.features.id
    models          = postgres_table.models.id
    training_data   = postgres_table.training_data.id
    audit_logs      = postgres_table.audit_logs.id
    metadata_assets = postgres_table.metadata_assets.id
  }
}

output "model_statuses" {
  description = "Lifecycle stages a model can be in."
  value       = postgres_enum.model_status.values
}

output "audit_log_index" {
  description = "Index serving time-range reads of the audit log."
  value       = postgres_index.audit_logs_timestamp.name
}
