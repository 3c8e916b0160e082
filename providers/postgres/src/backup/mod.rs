//! Backup policies and restore drills: periodic duties planned and applied like any resource.
//!
//! Each type declares here, in one place, its schema and its refresh, plan, apply and delete.
//! Their live state is what they produced (backups, drill runs), their desired state a freshness
//! rule, so their schemas are `periodic`: every plan asks again, as time alone makes them due.

mod artefacts;
mod drill;
mod dump;
mod policy;
mod restore;
mod store;
mod watch;

use strata_provider_sdk::duty;
use strata_provider_sdk::{Action, ApplyFailure, ApplyRequest, Attribute as A, Block, NestedBlock, PlannedChange, ProviderError, ResourceSchema, RestoreRequest, Type, Value};
use time::OffsetDateTime;

use crate::config::ConnSettings;

pub const POLICY: &str = "postgres_backup_policy";
pub const DRILL: &str = "postgres_restore_drill";

/// `path` made absolute against the working directory, so that an id or a report's path in
/// state means one place wherever strata runs next.
fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

/// Whether this module owns `type_name`.
pub fn handles(type_name: &str) -> bool {
    type_name == POLICY || type_name == DRILL
}

pub fn schemas() -> [(&'static str, ResourceSchema); 2] {
    [(POLICY, policy_schema()), (DRILL, drill_schema())]
}

fn duration(description: &'static str) -> A {
    A::optional(Type::String).syntax(duty::DURATION).describe(description)
}

fn policy_schema() -> ResourceSchema {
    let destination = Block::new()
        .attribute("path", A::optional(Type::String).describe("the directory backups are written to"))
        .attribute("s3_bucket", A::optional(Type::String).describe("or the S3 bucket they are uploaded to (it must exist)"))
        .attribute("s3_prefix", A::optional(Type::String).describe("the key prefix in the bucket, e.g. ai_db/"))
        .attribute("s3_region", A::optional(Type::String).describe("the bucket's region, default AWS_REGION"))
        .attribute("s3_endpoint", A::optional(Type::String).describe("an S3-compatible endpoint instead of AWS's"))
        .attribute("s3_use_path_style", A::optional(Type::Bool).describe("path-style addressing, default on when an endpoint is overridden"));
    let retention = Block::new()
        .attribute("keep_last", A::optional(Type::Number).describe("keep the newest N backups"))
        .attribute("keep_days", A::optional(Type::Number).describe("keep backups younger than N days"))
        .attribute("min_keep", A::optional(Type::Number).describe("never fewer good backups than this, default 1"));
    ResourceSchema {
        description: "Logical backups (pg_dump) of the provider's database on a freshness rule, verified and pruned by retention.",
        periodic: true,
        block: Block::new()
            .attribute("every", A::required(Type::String).syntax(duty::DURATION).describe("a backup is due when the newest is older than this (24h, 7d, 30s)"))
            .attribute("format", A::optional(Type::String).one_of(&["custom", "directory"]).describe("pg_dump's format, default custom"))
            .attribute("jobs", A::optional(Type::Number).describe("parallel pg_dump jobs (directory format)"))
            .attribute("compress", A::optional(Type::Number).describe("compression level 0-9"))
            .attribute("schemas", A::optional(Type::list_of(Type::String)).describe("dump only these schemas"))
            .attribute("exclude_table_data", A::optional(Type::list_of(Type::String)).describe("tables (pg_dump patterns) dumped without their rows"))
            .attribute("row_counts", A::optional(Type::String).one_of(&["exact", "estimate"]).describe("how the manifest counts rows, default exact"))
            .attribute("id", A::computed(Type::String).describe("file://DIR?policy=TOKEN or s3://BUCKET/PREFIX?policy=TOKEN: where the policy's backups are and which are its own"))
            .attribute("backups", A::computed(Type::list_of(Type::Any)).describe("the backups the destination holds, oldest first"))
            .block("destination", NestedBlock::single(destination).at_least(1))
            .block("retention", NestedBlock::single(retention)),
    }
}

fn drill_schema() -> ResourceSchema {
    let sql = Block::new().attribute("query", A::required(Type::String)).attribute("expect", A::required(Type::String).describe("the first column of the first row, as text"));
    let check = Block::new()
        .attribute("schema_matches", A::optional(Type::Bool).describe("the restored schema matches the manifest's fingerprint and plans as no changes against the declared postgres resources, default true"))
        .attribute("schema_resources", A::optional(Type::list_of(Type::String)).describe("the addresses of the declared resources to plan against the restored schema, default all"))
        .attribute("row_counts", A::optional(Type::String).one_of(&["manifest", "none"]).describe("compare every table's rows with the manifest, default manifest"))
        .attribute("min_rows", A::optional(Type::map_of(Type::Number)).describe("tables (schema.table) that must hold at least this many rows"))
        .block("sql", NestedBlock::list(sql));
    ResourceSchema {
        description: "Restores a backup policy's backup into a scratch database on a freshness rule and checks it.",
        periodic: true,
        block: Block::new()
            .attribute("source", A::required(Type::String).describe("the id of a postgres_backup_policy"))
            .attribute("every", A::required(Type::String).syntax(duty::DURATION).describe("a drill is due when the last ran longer ago than this, or failed"))
            .attribute("pick", A::optional(Type::String).one_of(&["latest", "random"]).describe("which backup to restore, default latest"))
            .attribute("window", duration("for pick = random: how far back to pick from, default every"))
            .attribute("database_prefix", A::optional(Type::String).describe("the scratch database's name prefix (at most 36 bytes), default strata_drill_"))
            .attribute("max_backup_age", duration("fail when the restored backup is older than this (RPO)"))
            .attribute("max_restore_time", duration("fail when the restore takes longer than this (RTO)"))
            .attribute("report_dir", A::optional(Type::String).describe("where each run's JSON and markdown reports go, default .strata/drills"))
            .attribute("id", A::computed(Type::String))
            .attribute("last_run", A::computed(Type::Any).describe("the last run: when, which backup, passed, restore time, failures, report"))
            .block("check", NestedBlock::single(check)),
    }
}

/// The live object of a resource of this module's types.
pub async fn refresh(type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
    match type_name {
        POLICY => policy::refresh(state).await,
        _ => Ok(drill::refresh(state)),
    }
}

pub fn plan(type_name: &str, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    let now = OffsetDateTime::now_utc();
    match type_name {
        POLICY if !desired.is_wholly_known() => Ok(policy::plan_with_unknowns(prior, desired)),
        POLICY => policy::plan(prior, desired, now),
        _ => drill::plan(prior, desired, now),
    }
}

pub fn plan_delete(type_name: &str, prior: &Value) -> PlannedChange {
    match type_name {
        POLICY => policy::plan_delete(prior),
        _ => PlannedChange::new(Action::Delete, Value::Null),
    }
}

/// `strata restore`: a policy's backup into a database the user names, checked.
pub async fn restore(settings: &ConnSettings, request: &RestoreRequest) -> Result<Vec<String>, ProviderError> {
    restore::run(settings, request).await
}

pub async fn apply(settings: &ConnSettings, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
    let planned = request.planned.unknowns_to_null();
    match request.type_name.as_str() {
        POLICY => policy::apply(settings, request.action, request.prior.as_ref(), &planned, &request.progress).await,
        _ => drill::apply(settings, request.action, request.prior.as_ref(), &planned, &request.declared, &request.progress).await,
    }
}
