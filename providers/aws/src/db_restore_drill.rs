//! `aws_db_restore_drill` (strata's own type): restores the newest snapshot of an instance, or of
//! an `aws_db_snapshot_policy`, into a scratch instance on a freshness rule, checks the scratch
//! instance's settings, and deletes it, proving the snapshots restore.
//!
//! A run first deletes the scratch instances earlier runs left (found by their tag
//! `strata:restore-drill = TOKEN`, never by name), restores into `SOURCE-drill-STAMP` with the
//! configured parameter group and security groups, waits for it, compares engine, version and
//! encryption with the snapshot and the parameter group and security groups with the
//! configuration, then deletes it without a final snapshot and with its automated backups. The
//! run is recorded in `last_run`; a failed check (or a refused restore) fails the apply with the
//! run recorded, so the next plan has the drill due again.

use std::time::{Duration, Instant};

use aws_sdk_rds::types::{DbInstance, DbSnapshot, Tag};
use strata_provider_sdk::duty::{self, Held};
use strata_provider_sdk::{Action, ApplyFailure, Authorship, PlannedChange, ProviderError, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::Clients;
use crate::snapshot_policy::{owned_by, POLICY_TAG};
use crate::{db_snapshot, errors, rds_instance, schema};
use crate::resource_type::{About, Cx, ResourceType};

/// The tag that marks a scratch instance as a drill's own.
pub const DRILL_TAG: &str = "strata:restore-drill";

/// How long a restore, and a scratch instance's delete, may take.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Where the snapshots come from.
#[derive(Debug, PartialEq)]
enum Source {
    /// Any available snapshot of the instance, manual or automated.
    Instance(String),
    /// The snapshots of the policy with this token, of its instance.
    Policy { instance: String, token: String },
}

impl Source {
    fn instance(&self) -> &str {
        match self {
            Source::Instance(instance) | Source::Policy { instance, .. } => instance,
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Instance(instance) => format!("the newest available snapshot of {instance}"),
            Source::Policy { instance, token } => format!("the newest available snapshot of {instance} with tag {POLICY_TAG} = {token}"),
        }
    }
}

/// The drill's settings, from its configuration.
#[derive(Debug)]
struct Drill {
    source: Source,
    every: Duration,
    every_text: String,
    parameter_group: String,
    security_groups: Vec<String>,
    subnet_group: Option<String>,
    instance_class: Option<String>,
}

impl Drill {
    fn from_value(value: &Value) -> Result<Drill, ProviderError> {
        let every_text = value.get_str("every").unwrap_or_default().to_owned();
        let mut security_groups = value.get_strings("vpc_security_group_ids");
        security_groups.sort();
        if security_groups.is_empty() {
            return Err(ProviderError::new("vpc_security_group_ids is empty").with_hint("name the security groups the scratch instance gets, such as [aws_security_group.db.id]: without them RDS would give it the VPC's default group"));
        }
        Ok(Drill {
            source: source_of(value)?,
            every: duty::parse(&every_text).map_err(ProviderError::new)?,
            every_text,
            parameter_group: value.get_str("parameter_group_name").ok_or_else(|| ProviderError::new("parameter_group_name is required"))?.to_owned(),
            security_groups,
            subnet_group: value.get_str("db_subnet_group_name").map(str::to_owned),
            instance_class: value.get_str("instance_class").map(str::to_owned),
        })
    }
}

fn source_of(value: &Value) -> Result<Source, ProviderError> {
    match (value.get_str("db_instance_identifier"), value.get_str("snapshot_policy")) {
        (Some(instance), None) => Ok(Source::Instance(instance.to_lowercase())),
        (None, Some(policy)) => match policy.rsplit_once('/') {
            Some((instance, token)) if !instance.is_empty() && !token.is_empty() => Ok(Source::Policy { instance: instance.to_lowercase(), token: token.to_owned() }),
            _ => Err(ProviderError::new(format!("snapshot_policy \"{policy}\" is not an aws_db_snapshot_policy's id (INSTANCE/TOKEN)")).with_hint("write snapshot_policy = aws_db_snapshot_policy.NAME.id")),
        },
        _ => Err(ProviderError::new("a restore drill needs exactly one of db_instance_identifier and snapshot_policy").with_hint("db_instance_identifier restores that instance's newest snapshot; snapshot_policy = aws_db_snapshot_policy.NAME.id restores the policy's newest")),
    }
}

/// A drill's id: `drill-TOKEN`, the token its scratch instances' tag carries.
fn token_of(value: &Value) -> Option<&str> {
    value.get_str("id")?.strip_prefix("drill-")
}

/// A new drill's token, from its source: a drill recreated after an apply killed mid-run gets
/// the same token, so its sweep finds the scratch instance that run left.
fn stable_token(drill: &Drill) -> String {
    use sha2::Digest;
    let source = match &drill.source {
        Source::Instance(instance) => format!("instance\0{instance}"),
        Source::Policy { instance, token } => format!("policy\0{instance}\0{token}"),
    };
    sha2::Sha256::digest(format!("aws restore drill\0{source}").as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Why the drill is due now, or `None`: it never ran, its last run failed, or that run is older
/// than `every`.
fn due(drill: &Drill, last_run: Option<&Value>, now: OffsetDateTime) -> Option<String> {
    let held: Vec<Held> = last_run
        .and_then(|run| {
            Some(Held {
                id: format!("the run of {}", run.get_str("at")?),
                taken_at: OffsetDateTime::parse(run.get_str("at")?, &Rfc3339).ok()?,
                good: run.get_bool("passed") == Some(true),
                status: format!("failed ({})", run.get_strings("failures").join("; ")),
            })
        })
        .into_iter()
        .collect();
    duty::due("restore drill", drill.every, &drill.every_text, &held, now)
}

/// The scratch instance's name: the source's (cut so the whole stays within RDS's 63
/// characters), `-drill-` and the time to the second.
fn scratch_name(instance: &str, now: OffsetDateTime) -> String {
    let stamp = now.format(&time::macros::format_description!("[year][month][day]t[hour][minute][second]")).unwrap_or_default();
    let room = 63 - "-drill-".len() - stamp.len();
    let source: String = instance.chars().take(room).collect();
    format!("{}-drill-{stamp}", source.trim_end_matches('-'))
}

fn settings(value: &Value) -> Value {
    let mut value = value.clone();
    value.set("id", Value::Null);
    value.set("last_run", Value::Null);
    value
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    let mut planned = desired.clone();
    planned.set("id", prior.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Unknown));
    let action = if prior.is_some() { Action::Update } else { Action::Create };
    if !desired.is_wholly_known() {
        planned.set("last_run", Value::Unknown);
        let mut change = PlannedChange::new(action, planned);
        change.duties.push("restore drill: whether one is due is decided during apply, once every value is known".into());
        return Ok(change);
    }
    let drill = Drill::from_value(desired)?;
    let last_run = prior.and_then(|p| p.get("last_run")).filter(|r| !r.is_null());
    let Some(why) = due(&drill, last_run, OffsetDateTime::now_utc()) else {
        return Ok(match prior {
            Some(prior) if settings(prior) == settings(desired) => PlannedChange::new(Action::NoOp, prior.clone()),
            _ => {
                planned.set("last_run", last_run.cloned().unwrap_or(Value::Null));
                PlannedChange::new(action, planned)
            }
        });
    };
    planned.set("last_run", Value::Unknown);
    let mut change = PlannedChange::new(action, planned);
    change.duties.push(why);
    change.operations = operations(&drill, prior.and_then(token_of).unwrap_or("TOKEN"));
    Ok(change)
}

fn operations(drill: &Drill, token: &str) -> Vec<String> {
    let scratch = format!("{}-drill-STAMP", drill.source.instance());
    let mut restore = format!("RestoreDBInstanceFromDBSnapshot {scratch} (tag {DRILL_TAG} = {token}) with parameter group {}, security groups {}", drill.parameter_group, drill.security_groups.join(", "));
    if let Some(subnet_group) = &drill.subnet_group {
        restore.push_str(&format!(", subnet group {subnet_group}"));
    }
    if let Some(class) = &drill.instance_class {
        restore.push_str(&format!(", class {class}"));
    }
    vec![
        format!("DeleteDBInstance of any scratch instance an earlier run left (tag {DRILL_TAG} = {token})"),
        format!("DescribeDBSnapshots: {}", drill.source.describe()),
        restore,
        format!("wait for {scratch} to be available; check engine, engine version and storage_encrypted against the snapshot, and its parameter group and security groups"),
        format!("DeleteDBInstance {scratch} with skip_final_snapshot and delete_automated_backups"),
    ]
}

/// One run's outcome, as state keeps it.
struct Run {
    at: OffsetDateTime,
    /// The scratch instance's name.
    instance: String,
    snapshot: Option<String>,
    restore_seconds: Option<u64>,
    checks: Vec<String>,
    failures: Vec<String>,
}

impl Run {
    fn fail(&mut self, what: impl Into<String>) {
        self.failures.push(what.into());
    }

    /// Records the check `what`: it passes when the scratch instance has `want`.
    fn check(&mut self, what: &str, got: Option<&str>, want: Option<&str>) {
        self.checks.push(what.to_owned());
        if got != want {
            self.fail(format!("{what}: the scratch instance has {}, expected {}", got.unwrap_or("none"), want.unwrap_or("none")));
        }
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("at", Value::string(self.at.format(&Rfc3339).unwrap_or_default())),
            ("instance", Value::string(&self.instance)),
            ("snapshot", self.snapshot.as_deref().map_or(Value::Null, Value::from)),
            ("passed", Value::Bool(self.failures.is_empty())),
            ("restore_seconds", self.restore_seconds.map_or(Value::Null, |s| Value::int(i64::try_from(s).unwrap_or(i64::MAX)))),
            ("checks", Value::List(self.checks.iter().map(Value::string).collect())),
            ("failures", Value::List(self.failures.iter().map(Value::string).collect())),
        ])
    }
}

/// Runs the drill when due; a run with a failed check is an error that still records the run.
pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value) -> Result<Value, ApplyFailure> {
    let mut value = planned.unknowns_to_null();
    let drill = Drill::from_value(&value)?;
    let token = prior.and_then(token_of).map_or_else(|| stable_token(&drill), str::to_owned);
    value.set("id", Value::string(format!("drill-{token}")));
    let now = OffsetDateTime::now_utc();
    let last_run = prior.and_then(|p| p.get("last_run")).filter(|r| !r.is_null());
    if due(&drill, last_run, now).is_none() {
        value.set("last_run", last_run.cloned().unwrap_or(Value::Null));
        return Ok(value);
    }
    sweep(clients, &token).await?;
    let scratch = scratch_name(drill.source.instance(), now);
    let mut run = Run { at: now, instance: scratch.clone(), snapshot: None, restore_seconds: None, checks: vec![], failures: vec![] };
    let restored = execute(clients, &drill, &token, &scratch, &mut run).await;
    // Always, once the restore was sent: a failed check must not leave the scratch instance.
    if restored {
        if let Err(err) = delete_scratch(clients, &scratch).await {
            run.fail(format!("cannot delete the scratch instance {scratch}: {} (the next run deletes it by its tag)", err.message));
        }
    }
    value.set("last_run", run.to_value());
    if run.failures.is_empty() {
        return Ok(value);
    }
    let error = ProviderError::new(format!("the restore drill failed: {}", run.failures.join("; "))).with_hint("last_run records the run; the drill is due again at the next apply");
    Err(ApplyFailure { error, partial: Some(value), in_doubt: false })
}

/// Restores the newest snapshot into `scratch` and checks it; answers whether the restore was
/// sent (and so whether there is a scratch instance to delete).
async fn execute(clients: &Clients, drill: &Drill, token: &str, scratch: &str, run: &mut Run) -> bool {
    let snapshot = match newest_snapshot(clients, &drill.source).await {
        Ok(Some(snapshot)) => snapshot,
        Ok(None) => {
            run.fail(format!("there is no {}", drill.source.describe().trim_start_matches("the ")));
            return false;
        }
        Err(err) => {
            run.fail(err.message);
            return false;
        }
    };
    run.snapshot = snapshot.db_snapshot_identifier().map(str::to_owned);
    let started = Instant::now();
    if let Err(err) = restore(clients, drill, token, &snapshot, scratch).await {
        run.fail(err.hint.map_or_else(|| err.message.clone(), |hint| format!("{} ({hint})", err.message)));
        // A restore whose answer was lost may still have made the instance: the next run's
        // sweep finds it by its tag.
        return false;
    }
    match rds_instance::wait_available(clients, scratch, RESTORE_TIMEOUT).await {
        Ok(instance) => {
            run.restore_seconds = Some(started.elapsed().as_secs());
            check(drill, &snapshot, &instance, run);
        }
        Err(err) => run.fail(err.message),
    }
    true
}

/// The newest available snapshot of the source.
async fn newest_snapshot(clients: &Clients, source: &Source) -> Result<Option<DbSnapshot>, ProviderError> {
    let available = |s: &&DbSnapshot| s.status() == Some("available");
    let newest = |snapshots: Vec<&DbSnapshot>| snapshots.into_iter().filter(available).max_by_key(|s| s.snapshot_create_time().map(|t| t.secs())).cloned();
    Ok(match source {
        Source::Instance(instance) => newest(db_snapshot::describe_of_type(clients, None, None, Some(instance)).await?.values().collect()),
        Source::Policy { instance, token } => {
            let snapshots: Vec<DbSnapshot> = db_snapshot::describe_manual(clients, None, Some(instance)).await?.into_values().collect();
            newest(owned_by(&snapshots, token))
        }
    })
}

async fn restore(clients: &Clients, drill: &Drill, token: &str, snapshot: &DbSnapshot, scratch: &str) -> Result<(), ProviderError> {
    clients
        .rds
        .restore_db_instance_from_db_snapshot()
        .db_instance_identifier(scratch)
        .set_db_snapshot_identifier(snapshot.db_snapshot_identifier().map(str::to_owned))
        .db_parameter_group_name(&drill.parameter_group)
        .set_vpc_security_group_ids(Some(drill.security_groups.clone()))
        .set_db_subnet_group_name(drill.subnet_group.clone())
        .set_db_instance_class(drill.instance_class.clone())
        .deletion_protection(false)
        .tags(Tag::builder().key(DRILL_TAG).value(token).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| errors::api("rds:RestoreDBInstanceFromDBSnapshot", e))
}

/// Compares the restored instance with its snapshot and the configuration.
fn check(drill: &Drill, snapshot: &DbSnapshot, instance: &DbInstance, run: &mut Run) {
    let flag = |b: Option<bool>| b.map(|b| b.to_string());
    run.check("engine", instance.engine(), snapshot.engine());
    run.check("engine_version", instance.engine_version(), snapshot.engine_version());
    run.check("storage_encrypted", flag(instance.storage_encrypted()).as_deref(), flag(snapshot.encrypted()).as_deref());
    let groups: Vec<&str> = instance.db_parameter_groups().iter().filter_map(|g| g.db_parameter_group_name()).collect();
    run.check("parameter_group_name", groups.first().copied(), Some(drill.parameter_group.as_str()));
    let mut security_groups: Vec<&str> = instance.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
    security_groups.sort_unstable();
    run.check("vpc_security_group_ids", Some(security_groups.join(", ").as_str()), Some(drill.security_groups.join(", ").as_str()));
    if let Some(subnet_group) = &drill.subnet_group {
        run.check("db_subnet_group_name", instance.db_subnet_group().and_then(|g| g.db_subnet_group_name()), Some(subnet_group));
    }
    if let Some(class) = &drill.instance_class {
        run.check("instance_class", instance.db_instance_class(), Some(class));
    }
}

fn tagged(instance: &DbInstance, token: &str) -> bool {
    instance.tag_list().iter().any(|t| t.key() == Some(DRILL_TAG) && t.value() == Some(token))
}

/// Deletes the scratch instances earlier runs of the drill with `token` left: only those
/// carrying its tag, whatever their name.
async fn sweep(clients: &Clients, token: &str) -> Result<(), ProviderError> {
    for (identifier, _) in rds_instance::describe_all(clients).await?.into_iter().filter(|(_, i)| tagged(i, token)) {
        delete_scratch(clients, &identifier).await?;
    }
    Ok(())
}

async fn delete_scratch(clients: &Clients, identifier: &str) -> Result<(), ProviderError> {
    rds_instance::delete_and_wait(clients, identifier, None, true, RESTORE_TIMEOUT).await
}

/// Deleting the drill deletes any scratch instance a failed run left (by its tag); it keeps
/// the snapshots, which are not the drill's.
pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    match token_of(prior) {
        Some(token) => sweep(clients, token).await,
        None => Ok(()),
    }
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let mut change = PlannedChange::new(Action::Delete, Value::Null);
    if let Some(token) = token_of(prior) {
        change.operations.push(format!("DeleteDBInstance of any scratch instance a run left (tag {DRILL_TAG} = {token}); the snapshots are kept"));
    }
    change
}

/// What `aws_db_restore_drill` declares about itself.
const ABOUT: About = About {
    name: "aws_db_restore_drill",
    schema: schema::restore_drill,
    import_id: None,
    named_by: None,
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_db_restore_drill` in the provider's table of types.
pub struct RestoreDrillType;

#[async_trait::async_trait]
impl ResourceType for RestoreDrillType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    /// Its live object is its last run: nothing to read back.
    async fn refresh(&self, _: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        Ok(states.iter().map(|s| Some((*s).clone())).collect())
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(prior, desired)
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan_delete(prior))
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        let _ = authorship;
        apply(cx.clients()?, prior, planned).await
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        Ok(delete(cx.clients()?, prior).await?)
    }

    async fn authored(&self, _: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        // Never asked: it has no adoption id.
        let _ = (live, intent_id);
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drill(extra: &[(&str, Value)]) -> Value {
        let mut value = Value::object([
            ("db_instance_identifier", Value::from("orders")),
            ("every", Value::from("7d")),
            ("parameter_group_name", Value::from("orders-pg")),
            ("vpc_security_group_ids", Value::List(vec![Value::from("sg-2"), Value::from("sg-1")])),
        ]);
        for (key, v) in extra {
            value.set(key, v.clone());
        }
        value
    }

    #[test]
    fn scratch_names_are_valid_rds_identifiers_of_at_most_63_characters() {
        let at = time::macros::datetime!(2026-12-01 02:23:05 UTC);
        assert_eq!(scratch_name("orders", at), "orders-drill-20261201t022305");
        let long = scratch_name(&"a-".repeat(40), at);
        assert!(long.len() <= 63 && !long.contains("--"), "{long}");
    }

    #[test]
    fn exactly_one_source_and_a_policy_id_are_required() {
        assert_eq!(Drill::from_value(&drill(&[])).unwrap().source, Source::Instance("orders".into()));
        assert!(Drill::from_value(&drill(&[("snapshot_policy", Value::from("orders/abc"))])).is_err());
        let policy = drill(&[("db_instance_identifier", Value::Null), ("snapshot_policy", Value::from("orders/abc"))]);
        assert_eq!(Drill::from_value(&policy).unwrap().source, Source::Policy { instance: "orders".into(), token: "abc".into() });
        let bad = drill(&[("db_instance_identifier", Value::Null), ("snapshot_policy", Value::from("orders"))]);
        assert!(Drill::from_value(&bad).is_err_and(|e| e.message.contains("INSTANCE/TOKEN")));
        assert!(Drill::from_value(&drill(&[("vpc_security_group_ids", Value::List(vec![]))])).is_err());
    }

    #[test]
    fn a_failed_run_is_due_again_and_a_passed_one_only_after_every() {
        let d = Drill::from_value(&drill(&[])).unwrap();
        let now = OffsetDateTime::now_utc();
        let run = |passed: bool| Value::object([("at", Value::string(now.format(&Rfc3339).unwrap())), ("passed", Value::Bool(passed)), ("failures", Value::List(vec![Value::from("engine")]))]);
        assert!(due(&d, None, now).is_some_and(|why| why.contains("no restore drill yet")));
        assert_eq!(due(&d, Some(&run(true)), now), None);
        assert!(due(&d, Some(&run(false)), now).is_some_and(|why| why.contains("failed (engine)")));
    }

    #[test]
    fn a_scratch_instance_unlike_its_snapshot_or_its_configuration_fails_those_checks() {
        use aws_sdk_rds::types::{DbParameterGroupStatus, VpcSecurityGroupMembership};
        let d = Drill::from_value(&drill(&[])).unwrap();
        let snapshot = DbSnapshot::builder().engine("postgres").engine_version("16.3").encrypted(true).build();
        let instance = DbInstance::builder()
            .engine("postgres")
            .engine_version("16.4")
            .storage_encrypted(true)
            .db_parameter_groups(DbParameterGroupStatus::builder().db_parameter_group_name("default.postgres16").build())
            .vpc_security_groups(VpcSecurityGroupMembership::builder().vpc_security_group_id("sg-2").build())
            .vpc_security_groups(VpcSecurityGroupMembership::builder().vpc_security_group_id("sg-1").build())
            .build();
        let mut run = Run { at: OffsetDateTime::now_utc(), instance: "orders-drill-x".into(), snapshot: None, restore_seconds: None, checks: vec![], failures: vec![] };
        check(&d, &snapshot, &instance, &mut run);
        assert_eq!(run.checks.len(), 5);
        assert_eq!(
            run.failures,
            [
                "engine_version: the scratch instance has 16.4, expected 16.3",
                "parameter_group_name: the scratch instance has default.postgres16, expected orders-pg",
            ]
        );
    }
}
