//! `aws_db_instance`: reading instances in one filtered DescribeDBInstances, planning (in-place
//! ModifyDBInstance, renames, replacements, version rules, pending maintenance-window changes),
//! creating, modifying and renaming them. Reading is in `live`, deleting in `deletion`, what an
//! update disrupts (downtime, reboots) in `impact`, the snapshot before a replace in `pre_replace`,
//! a create restored to a point in time in `point_in_time`.
//!
//! State is keyed on `identifier` (moto gives every instance the same DbiResourceId). The
//! password is write-only: it is carried from state, never read from AWS, and never written into
//! an operation, warning or error. Must not touch any instance it was not handed.

mod deletion;
mod impact;
mod live;
mod point_in_time;
mod pre_replace;
mod windows;

pub(crate) use self::deletion::delete_and_wait;
pub(crate) use self::live::describe_all;

use std::time::Duration;

use aws_sdk_rds::types::DbInstance;
use strata_provider_sdk::{Action, ApplyFailure, Authorship, Block, PlannedChange, ProviderError, Value};

use self::deletion::FinalName;
pub use self::deletion::{delete, plan_delete};
pub use self::live::refresh;
use self::live::{describe_one, to_value};
pub use self::pre_replace::Replacements;
use crate::config::Clients;
use crate::diff::{self, Changed, Diff};
use crate::secrets::{self, Vault};
use crate::tags::{self, TagChange};
use crate::{engine_version, errors, rds_tags, schema, wait};
use crate::resource_type::{About, Cx, NamePrefix, ResourceType};

/// Arguments AWS never reports back: refresh carries them over from state.
const LOCAL_ONLY: [&str; 9] = [
    "password",
    "snapshot_identifier",
    point_in_time::BLOCK,
    "skip_final_snapshot",
    "final_snapshot_identifier",
    "delete_automated_backups",
    "apply_immediately",
    "allow_major_version_upgrade",
    "timeouts",
];

/// Arguments ModifyDBInstance changes in place, with the API's name for each.
const MODIFIABLE: [(&str, &str); 17] = [
    ("instance_class", "DBInstanceClass"),
    ("allocated_storage", "AllocatedStorage"),
    ("max_allocated_storage", "MaxAllocatedStorage"),
    ("storage_type", "StorageType"),
    ("engine_version", "EngineVersion"),
    ("password", "MasterUserPassword"),
    ("port", "DBPortNumber"),
    ("backup_retention_period", "BackupRetentionPeriod"),
    ("backup_window", "PreferredBackupWindow"),
    ("maintenance_window", "PreferredMaintenanceWindow"),
    ("multi_az", "MultiAZ"),
    ("publicly_accessible", "PubliclyAccessible"),
    ("deletion_protection", "DeletionProtection"),
    ("copy_tags_to_snapshot", "CopyTagsToSnapshot"),
    ("vpc_security_group_ids", "VpcSecurityGroupIds"),
    ("db_subnet_group_name", "DBSubnetGroupName"),
    ("parameter_group_name", "DBParameterGroupName"),
];

/// Arguments read only when the instance is created: where its data comes from.
const CREATE_ONLY: [&str; 2] = ["snapshot_identifier", point_in_time::BLOCK];

/// Computed attributes that name the instance, so a rename makes them unknown until apply.
const NAMED_BY_IDENTIFIER: [&str; 4] = ["id", "arn", "address", "endpoint"];

const STATUS_READY: &str = "available";

fn block() -> Block {
    schema::db_instance().block
}

// ---------------------------------------------------------------------------------------------
// Planning

/// Equality per attribute: version prefixes, id sets, names RDS lower-cases, tags.
fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match name {
        "engine_version" => match (live.as_str(), wanted.as_str()) {
            (Some(live), Some(wanted)) => engine_version::matches(live, wanted),
            _ => live == wanted,
        },
        "vpc_security_group_ids" => diff::same_set(live, wanted),
        "password" => secrets::same(live, wanted),
        "identifier" | "db_subnet_group_name" | "parameter_group_name" => {
            match (live.as_str(), wanted.as_str()) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => live == wanted,
            }
        }
        "tags" => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

/// Refuses version changes RDS would refuse or that need `allow_major_version_upgrade`.
fn check_version(prior: &Value, desired: &Value) -> Result<(), ProviderError> {
    let (Some(live), Some(wanted)) = (
        prior.get_str("engine_version"),
        desired.get_str("engine_version"),
    ) else {
        return Ok(());
    };
    let engine = desired
        .get_str("engine")
        .or(prior.get_str("engine"))
        .unwrap_or_default();
    engine_version::check_change(
        engine,
        live,
        wanted,
        desired.get_bool("allow_major_version_upgrade") == Some(true),
    )
}

/// Refuses numbers the API cannot carry (it takes 32-bit integers).
fn check_numbers(desired: &Value) -> Result<(), ProviderError> {
    for key in [
        "allocated_storage",
        "max_allocated_storage",
        "port",
        "backup_retention_period",
    ] {
        let Some(value) = desired.get(key).filter(|v| matches!(v, Value::Number(_))) else {
            continue;
        };
        if value
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n >= 0)
            .is_none()
        {
            return Err(ProviderError::new(format!(
                "{key} must be a whole, non-negative number, not {}",
                diff::show(value)
            )));
        }
    }
    Ok(())
}

/// Plans the instance; the planned password is sealed (see `secrets`), never the real one. The
/// configured password is remembered even when unchanged: apply may need it after a replace. A
/// planned replace is noted in `replacements`, so that its delete snapshots first. `clients`
/// are asked only, for a replace, whether a configured final snapshot name is taken.
pub async fn plan(
    clients: Result<&Clients, ProviderError>,
    vault: &Vault,
    replacements: &Replacements,
    prior: Option<&Value>,
    desired: &Value,
) -> Result<PlannedChange, ProviderError> {
    let prior = prior.map(|p| adopt_unrecorded(vault, p, desired)).transpose()?;
    let desired = vault.sealed_against(prior.as_ref(), desired, "password")?;
    let mut change = plan_change(prior.as_ref(), &desired, &FinalName::AsConfigured)?;
    if change.action == Action::Replace {
        // Only a replace deletes, so only then does a taken final snapshot name matter.
        change = plan_change(prior.as_ref(), &desired, &FinalName::of(clients, prior.as_ref()).await?)?;
    }
    sealed_and_noted(vault, replacements, prior.as_ref(), change)
}

/// Plans the replacement `-replace` asks for although nothing forces it: the same snapshot,
/// delete and create as a forced one, noted in `replacements` the same way.
pub async fn plan_requested_replace(
    clients: Result<&Clients, ProviderError>,
    vault: &Vault,
    replacements: &Replacements,
    prior: &Value,
    desired: &Value,
) -> Result<PlannedChange, ProviderError> {
    check_numbers(desired)?;
    windows::check(desired)?;
    point_in_time::check(desired)?;
    let prior = adopt_unrecorded(vault, prior, desired)?;
    let final_name = FinalName::of(clients, Some(&prior)).await?;
    let desired = vault.sealed_against(Some(&prior), desired, "password")?;
    let change = plan_replace(&block(), &prior, &desired, Vec::new(), &final_name)?;
    sealed_and_noted(vault, replacements, Some(&prior), change)
}

/// `change` with its planned password sealed; a replace of `prior` noted in `replacements`.
fn sealed_and_noted(
    vault: &Vault,
    replacements: &Replacements,
    prior: Option<&Value>,
    mut change: PlannedChange,
) -> Result<PlannedChange, ProviderError> {
    vault.seal(&mut change.planned, "password")?;
    if let (Action::Replace, Some(prior)) = (change.action, prior) {
        if let (Some(id), Some(snapshot)) = (prior.get_str("identifier"), pre_replace::name(prior))
        {
            replacements.expect(id, &snapshot);
        }
    }
    Ok(change)
}

/// `prior` with the arguments AWS never reports back that state holds no value for (an imported
/// instance) taken from `desired`: nothing says they differ, so they plan as unchanged, and the
/// next apply that touches the instance records them (the password as its fingerprint only).
fn adopt_unrecorded(vault: &Vault, prior: &Value, desired: &Value) -> Result<Value, ProviderError> {
    let mut adopted = prior.clone();
    for key in LOCAL_ONLY {
        if adopted.get(key).is_none_or(Value::is_null) {
            adopted.set(key, desired.get(key).cloned().unwrap_or_default());
        }
    }
    vault.seal(&mut adopted, "password")?;
    Ok(adopted)
}

fn plan_change(prior: Option<&Value>, desired: &Value, final_name: &FinalName) -> Result<PlannedChange, ProviderError> {
    check_numbers(desired)?;
    windows::check(desired)?;
    point_in_time::check(desired)?;
    let block = block();
    let Some(prior) = prior else {
        return Ok(plan_create(&block, desired));
    };
    check_version(prior, desired)?;
    // A replacement is a create: it reads where the data comes from as configured.
    let configured = desired;
    let (desired, read_at_create) = &create_only_kept(prior, desired);
    let diff = diff::attributes(&block, Some(prior), desired, same);
    let forced = diff.forces_replacement(&block);
    if !forced.is_empty() {
        return plan_replace(&block, prior, configured, forced, final_name);
    }
    let mut planned = diff.planned.clone();
    planned.set(
        "pending_modifications",
        prior
            .get("pending_modifications")
            .cloned()
            .unwrap_or_default(),
    );
    let mut warnings = pending_warning(prior).into_iter().chain(read_at_create.iter().cloned()).collect::<Vec<_>>();
    let timeouts_changed = !timeouts_same(prior.get("timeouts"), desired.get("timeouts"));
    if diff.changes.is_empty() && !timeouts_changed {
        return Ok(PlannedChange {
            warnings,
            ..PlannedChange::new(Action::NoOp, planned)
        });
    }
    if diff.get("identifier").is_some() {
        for key in NAMED_BY_IDENTIFIER {
            planned.set(key, Value::Unknown);
        }
    }
    let operations = update_operations(prior, &diff);
    if !modifications(&diff).is_empty() && desired.get_bool("apply_immediately") != Some(true) {
        warnings.push("apply_immediately is false: AWS holds these changes until the instance's maintenance window".to_owned());
    }
    let impact = impact::of_update(prior, desired, &diff);
    Ok(PlannedChange {
        operations,
        warnings,
        locking: impact.locking,
        data_loss: impact.data_loss,
        ..PlannedChange::new(Action::Update, planned)
    })
}

/// `desired` with the `CREATE_ONLY` arguments as state has them: they are read at create only,
/// so changing them later changes nothing (Terraform replaces the instance, which its users
/// rarely want); and a warning saying so for each one changed.
fn create_only_kept(prior: &Value, desired: &Value) -> (Value, Vec<String>) {
    let mut kept = desired.clone();
    let mut warnings = Vec::new();
    for key in CREATE_ONLY {
        let recorded = prior.get(key).cloned().unwrap_or_default();
        let configured = desired.get(key).cloned().unwrap_or_default();
        kept.set(key, recorded.clone());
        if recorded != configured && configured.is_wholly_known() {
            warnings.push(format!(
                "{key} {} -> {}: it is read only when the instance is created, so the instance stays as it is (replace it with -replace to restore from the new source)",
                diff::show(&recorded),
                diff::show(&configured)
            ));
        }
    }
    (kept, warnings)
}

/// Snapshot, delete (with its final snapshot, unless skipped), create: the new instance starts
/// empty, so the data survives only in the snapshots.
fn plan_replace(
    block: &Block,
    prior: &Value,
    desired: &Value,
    forced: Vec<String>,
    final_name: &FinalName,
) -> Result<PlannedChange, ProviderError> {
    let deletion = deletion::planned_delete(prior, final_name)?;
    let id = prior.get_str("identifier").unwrap_or_default();
    let snapshot = pre_replace::name(prior)
        .ok_or_else(|| ProviderError::new("the instance's state has no identifier"))?;
    let mut change = plan_create(block, desired);
    let operations = [
        vec![
            format!("CreateDBSnapshot {snapshot} of {id}"),
            format!("wait until snapshot {snapshot} is available"),
        ],
        deletion.operations,
        change.operations,
    ]
    .concat();
    let kept_in = match deletion::final_snapshot(prior, final_name)? {
        Some(last) => {
            format!("the snapshot {snapshot} taken just before and the final snapshot {last}")
        }
        None => format!("the snapshot {snapshot} taken just before (skip_final_snapshot = true)"),
    };
    change.backups = [vec![format!("RDS snapshot {snapshot}")], deletion.backups].concat();
    Ok(PlannedChange {
        action: Action::Replace,
        replace_because: forced,
        operations,
        warnings: deletion.warnings,
        data_loss: vec![format!(
            "replaces the RDS instance {id} with a new, empty one: its data survives only in {kept_in}"
        )],
        ..change
    })
}

fn plan_create(block: &Block, desired: &Value) -> PlannedChange {
    let mut planned = diff::attributes(block, None, desired, same).planned;
    planned.set("pending_modifications", Value::List(Vec::new()));
    let id = desired.get_str("identifier").unwrap_or("(unknown)");
    let describe = |key: &str| desired.get(key).filter(|v| !v.is_null()).map(diff::show);
    let details: Vec<String> = [
        describe("engine"),
        describe("engine_version"),
        describe("instance_class"),
        describe("allocated_storage").map(|s| format!("{s} GiB")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let operations = match Origin::of(desired) {
        Some(origin) => vec![
            format!("{} ({})", origin.describe(id), details.join(", ")),
            format!("wait until {id} is available"),
            format!("ModifyDBInstance {id}: the configured settings a restore does not carry (password, backups, windows, storage)"),
            format!("wait until {id} is available"),
        ],
        None => vec![format!("CreateDBInstance {id} ({})", details.join(", ")), format!("wait until {id} is available")],
    };
    PlannedChange {
        operations,
        ..PlannedChange::new(Action::Create, planned)
    }
}

/// Where a restored instance's data comes from; an instance with neither is created empty.
enum Origin<'a> {
    Snapshot(&'a str),
    PointInTime(&'a Value),
}

impl Origin<'_> {
    fn of(desired: &Value) -> Option<Origin<'_>> {
        match (desired.get_str("snapshot_identifier"), point_in_time::configured(desired)) {
            (Some(snapshot), _) => Some(Origin::Snapshot(snapshot)),
            (None, Some(block)) => Some(Origin::PointInTime(block)),
            (None, None) => None,
        }
    }

    fn describe(&self, id: &str) -> String {
        match self {
            Origin::Snapshot(snapshot) => format!("RestoreDBInstanceFromDBSnapshot {id} from {snapshot}"),
            Origin::PointInTime(block) => format!("RestoreDBInstanceToPointInTime {id} {}", point_in_time::describe(block)),
        }
    }
}

fn pending_warning(prior: &Value) -> Option<String> {
    let pending = prior.get_strings("pending_modifications");
    (!pending.is_empty()).then(|| {
        format!(
            "{} change(s) are pending until the maintenance window ({}): {}",
            pending.len(),
            prior.get_str("maintenance_window").unwrap_or("unknown"),
            pending.join(", ")
        )
    })
}

/// The in-place changes ModifyDBInstance makes, with the API's argument name.
fn modifications(diff: &Diff) -> Vec<(&'static str, &Changed)> {
    MODIFIABLE
        .iter()
        .filter_map(|(key, api)| diff.get(key).map(|c| (*api, c)))
        .collect()
}

fn update_operations(prior: &Value, diff: &Diff) -> Vec<String> {
    let old_id = prior.get_str("identifier").unwrap_or_default();
    let mut lines = Vec::new();
    let id = match diff.get("identifier") {
        Some(rename) => {
            let new_id = diff::show(&rename.to);
            lines.push(format!("ModifyDBInstance {old_id}: NewDBInstanceIdentifier {old_id} -> {new_id} (ApplyImmediately)"));
            lines.push(format!("wait until {new_id} is available"));
            new_id
        }
        None => old_id.to_owned(),
    };
    let modifications = modifications(diff);
    for (api, change) in &modifications {
        lines.push(match (change.name.as_str(), &change.to) {
            ("password", _) => format!("ModifyDBInstance {id}: {api} (sensitive value)"),
            (_, to) if !to.is_wholly_known() => {
                format!("ModifyDBInstance {id}: {api} (decided during apply)")
            }
            _ => format!(
                "ModifyDBInstance {id}: {api} {} -> {}",
                diff::show(&change.from),
                diff::show(&change.to)
            ),
        });
    }
    if !modifications.is_empty() {
        lines.push(format!("wait until {id} is available"));
    }
    if let Some(change) = diff.get("tags") {
        lines.extend(TagChange::between(&change.from, &change.to).operations(
            "AddTagsToResource",
            "RemoveTagsFromResource",
            &id,
        ));
    }
    if lines.is_empty() {
        lines.push(
            "no API call: only settings strata keeps (snapshot, apply and timeout options) change"
                .to_owned(),
        );
    }
    lines
}

fn timeouts_same(a: Option<&Value>, b: Option<&Value>) -> bool {
    ["create", "update", "delete"]
        .iter()
        .all(|k| a.and_then(|v| v.get_str(k)) == b.and_then(|v| v.get_str(k)))
}

/// How long an operation may take: the `timeouts` block's value or Terraform's default.
fn timeout(value: &Value, operation: &str) -> Result<Duration, ProviderError> {
    match value.get("timeouts").and_then(|t| t.get_str(operation)) {
        Some(text) => wait::parse_duration(text),
        None => Ok(Duration::from_secs(match operation {
            "create" => 40 * 60,
            "update" => 80 * 60,
            _ => 60 * 60,
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Creating and modifying

/// Polls until the instance exists and is available; returns it as AWS describes it then.
pub(crate) async fn wait_available(
    clients: &Clients,
    id: &str,
    timeout: Duration,
) -> Result<DbInstance, ProviderError> {
    wait::until(
        &format!("DB instance {id} to become available"),
        timeout,
        || async {
            Ok(describe_one(clients, id)
                .await?
                .filter(|i| i.db_instance_status() == Some(STATUS_READY)))
        },
    )
    .await
}

fn i32_of(value: &Value) -> Option<i32> {
    value.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Sets the arguments CreateDBInstance and ModifyDBInstance share, from `pick(key)`: the value to
/// send for that attribute, `None` to leave it out. One macro because the two builders are
/// different types with the same method names.
macro_rules! set_shared {
    ($builder:expr, $pick:expr) => {{
        let pick = $pick;
        let mut b = $builder;
        if let Some(v) = pick("instance_class").and_then(Value::as_str) {
            b = b.db_instance_class(v);
        }
        if let Some(v) = pick("allocated_storage").and_then(i32_of) {
            b = b.allocated_storage(v);
        }
        if let Some(v) = pick("max_allocated_storage").and_then(i32_of) {
            b = b.max_allocated_storage(v);
        }
        if let Some(v) = pick("storage_type").and_then(Value::as_str) {
            b = b.storage_type(v);
        }
        if let Some(v) = pick("engine_version").and_then(Value::as_str) {
            b = b.engine_version(v);
        }
        if let Some(v) = pick("password").and_then(Value::as_str) {
            b = b.master_user_password(v);
        }
        if let Some(v) = pick("backup_retention_period").and_then(i32_of) {
            b = b.backup_retention_period(v);
        }
        if let Some(v) = pick("backup_window").and_then(Value::as_str) {
            b = b.preferred_backup_window(v);
        }
        if let Some(v) = pick("maintenance_window").and_then(Value::as_str) {
            b = b.preferred_maintenance_window(v);
        }
        if let Some(v) = pick("multi_az").and_then(Value::as_bool) {
            b = b.multi_az(v);
        }
        if let Some(v) = pick("publicly_accessible").and_then(Value::as_bool) {
            b = b.publicly_accessible(v);
        }
        if let Some(v) = pick("deletion_protection").and_then(Value::as_bool) {
            b = b.deletion_protection(v);
        }
        if let Some(v) = pick("copy_tags_to_snapshot").and_then(Value::as_bool) {
            b = b.copy_tags_to_snapshot(v);
        }
        if let Some(v) = pick("vpc_security_group_ids") {
            b = b.set_vpc_security_group_ids(Some(diff::strings(v)));
        }
        if let Some(v) = pick("db_subnet_group_name").and_then(Value::as_str) {
            b = b.db_subnet_group_name(v);
        }
        if let Some(v) = pick("parameter_group_name").and_then(Value::as_str) {
            b = b.db_parameter_group_name(v);
        }
        b
    }};
}

/// Create or update; the planned value's unknown parts are what AWS fills in. `sealed` (the
/// planned value, password as a fingerprint) is what state records; `desired` is sent to AWS.
pub async fn apply(
    clients: &Clients,
    vault: &Vault,
    prior: Option<&Value>,
    planned: &Value,
    authorship: Option<&Authorship>,
) -> Result<Value, ApplyFailure> {
    let sealed = planned.unknowns_to_null();
    let mut desired = sealed.clone();
    // An unchanged password is not sent, so it need not be known; nor is one state never held
    // (an imported instance): it is only recorded.
    let unrecorded = prior.is_some_and(|p| p.get("password").is_none_or(Value::is_null));
    if !unrecorded && prior.is_none_or(|p| p.get("password") != sealed.get("password")) {
        vault.open(&mut desired, "password")?;
    }
    let result = match prior {
        None => create(clients, &desired, &sealed, authorship).await,
        Some(prior) => update(clients, prior, &desired, &sealed).await,
    };
    result.map_err(|mut failure| {
        failure.error = errors::redact(failure.error, desired.get_str("password"));
        failure
    })
}

async fn create(clients: &Clients, desired: &Value, sealed: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let id = desired
        .get_str("identifier")
        .ok_or_else(|| ProviderError::new("identifier is required"))?;
    if desired.get_str("password").is_none() {
        return Err(
            ProviderError::new(format!("DB instance {id} needs a password to be created"))
                .with_hint("set password (from a sensitive variable)")
                .into(),
        );
    }
    let given = |key: &str| desired.get(key).filter(|v| !v.is_null());
    if let Some(origin) = Origin::of(desired) {
        return restore(clients, desired, sealed, authorship, origin).await;
    }
    let mut request = set_shared!(
        clients.rds.create_db_instance().db_instance_identifier(id),
        given
    )
    .set_engine(given("engine").and_then(Value::as_str).map(str::to_owned))
    .set_master_username(given("username").and_then(Value::as_str).map(str::to_owned))
    .set_db_name(given("db_name").and_then(Value::as_str).map(str::to_owned))
    .set_port(given("port").and_then(i32_of))
    .set_storage_encrypted(given("storage_encrypted").and_then(Value::as_bool))
    .set_kms_key_id(
        given("kms_key_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    )
    .set_availability_zone(
        given("availability_zone")
            .and_then(Value::as_str)
            .map(str::to_owned),
    );
    let tags = tags::for_create(desired, authorship);
    if !tags.is_empty() {
        request = request.set_tags(Some(rds_tags::to_sdk(&tags)));
    }
    request
        .send()
        .await
        .map_err(|e| errors::create_failed("rds:CreateDBInstance", id, e))?;
    // From here the instance exists: a failure must still record it in state.
    let instance = wait_available(clients, id, timeout(desired, "create")?)
        .await
        .map_err(|error| ApplyFailure {
            error,
            partial: Some(sealed.clone()),
            in_doubt: false,
        })?;
    Ok(to_value(&instance, sealed))
}

/// Sets the arguments both restore calls share (their builders are different types with the
/// same method names), from the configuration.
macro_rules! set_restore_shared {
    ($builder:expr, $desired:expr, $tags:expr) => {{
        let desired: &Value = $desired;
        let given = |key: &str| desired.get(key).filter(|v| !v.is_null());
        let text = |key: &str| given(key).and_then(Value::as_str).map(str::to_owned);
        $builder
            .set_db_instance_class(text("instance_class"))
            .set_port(given("port").and_then(i32_of))
            .set_availability_zone(text("availability_zone"))
            .set_db_subnet_group_name(text("db_subnet_group_name"))
            .set_db_parameter_group_name(text("parameter_group_name"))
            .set_multi_az(given("multi_az").and_then(Value::as_bool))
            .set_publicly_accessible(given("publicly_accessible").and_then(Value::as_bool))
            .set_storage_type(text("storage_type"))
            .set_deletion_protection(given("deletion_protection").and_then(Value::as_bool))
            .set_copy_tags_to_snapshot(given("copy_tags_to_snapshot").and_then(Value::as_bool))
            .set_vpc_security_group_ids(given("vpc_security_group_ids").map(|_| desired.get_strings("vpc_security_group_ids")))
            .set_tags((!$tags.is_empty()).then(|| rds_tags::to_sdk(&$tags)))
    }};
}

/// Creates the instance from `origin` (engine, user and data come from it), then sets what a
/// restore does not carry (the password, backups, windows, storage) with one ModifyDBInstance.
async fn restore(clients: &Clients, desired: &Value, sealed: &Value, authorship: Option<&Authorship>, origin: Origin<'_>) -> Result<Value, ApplyFailure> {
    let id = desired.get_str("identifier").unwrap_or_default();
    let tags = tags::for_create(desired, authorship);
    match origin {
        Origin::Snapshot(snapshot) => {
            let request = clients.rds.restore_db_instance_from_db_snapshot().db_instance_identifier(id).db_snapshot_identifier(snapshot);
            let request = set_restore_shared!(request, desired, tags);
            request.send().await.map_err(|e| errors::create_failed("rds:RestoreDBInstanceFromDBSnapshot", id, e))?;
        }
        Origin::PointInTime(block) => {
            let request = point_in_time::with_source(clients.rds.restore_db_instance_to_point_in_time(), block)?.target_db_instance_identifier(id);
            let request = set_restore_shared!(request, desired, tags);
            request.send().await.map_err(|e| errors::create_failed("rds:RestoreDBInstanceToPointInTime", id, e))?;
        }
    }
    // From here the instance exists: a failure must still record it in state.
    let exists = |error| ApplyFailure { error, partial: Some(sealed.clone()), in_doubt: false };
    let limit = timeout(desired, "create").map_err(exists)?;
    wait_available(clients, id, limit).await.map_err(exists)?;
    let given = |key: &str| desired.get(key).filter(|v| !v.is_null());
    let settings = set_shared!(clients.rds.modify_db_instance().db_instance_identifier(id), given).apply_immediately(true);
    settings.send().await.map_err(|e| exists(errors::api("rds:ModifyDBInstance", e)))?;
    let instance = wait_available(clients, id, limit).await.map_err(exists)?;
    Ok(to_value(&instance, sealed))
}

async fn update(
    clients: &Clients,
    prior: &Value,
    desired: &Value,
    sealed: &Value,
) -> Result<Value, ApplyFailure> {
    let diff = diff::attributes(&block(), Some(prior), desired, same);
    let limit = timeout(desired, "update")?;
    let mut id = prior.get_str("identifier").unwrap_or_default().to_owned();
    let partial = |id: &str, error: ProviderError| {
        let mut state = prior.clone();
        state.set("identifier", Value::from(id));
        ApplyFailure {
            error,
            partial: Some(state),
            in_doubt: false,
        }
    };
    if let Some(rename) = diff.get("identifier") {
        let new_id = rename.to.as_str().unwrap_or_default().to_owned();
        let request = clients
            .rds
            .modify_db_instance()
            .db_instance_identifier(&id)
            .new_db_instance_identifier(&new_id)
            .apply_immediately(true);
        request
            .send()
            .await
            .map_err(|e| errors::api("rds:ModifyDBInstance", e))?;
        id = new_id;
        wait_available(clients, &id, limit)
            .await
            .map_err(|e| partial(&id, e))?;
    }
    let modifications = modifications(&diff);
    if !modifications.is_empty() {
        let pick = |key: &str| {
            modifications
                .iter()
                .find(|(_, c)| c.name == key)
                .map(|(_, c)| &c.to)
        };
        let request = set_shared!(
            clients.rds.modify_db_instance().db_instance_identifier(&id),
            pick
        )
        .set_db_port_number(pick("port").and_then(i32_of))
        .apply_immediately(desired.get_bool("apply_immediately") == Some(true))
        .set_allow_major_version_upgrade(desired.get_bool("allow_major_version_upgrade"));
        request
            .send()
            .await
            .map_err(|e| partial(&id, errors::api("rds:ModifyDBInstance", e)))?;
    }
    let mut instance = wait_available(clients, &id, limit)
        .await
        .map_err(|e| partial(&id, e))?;
    if let Some(change) = diff.get("tags") {
        rds_tags::update(
            clients,
            instance.db_instance_arn().unwrap_or_default(),
            &TagChange::between(&change.from, &change.to),
        )
        .await
        .map_err(|e| partial(&id, e))?;
        instance = describe_one(clients, &id).await?.ok_or_else(|| {
            ProviderError::new(format!("DB instance {id} disappeared during apply"))
        })?;
    }
    Ok(to_value(&instance, sealed))
}

/// What `aws_db_instance` declares about itself.
const ABOUT: About = About {
    name: "aws_db_instance",
    schema: schema::db_instance,
    import_id: Some("the instance identifier"),
    named_by: Some("identifier"),
    local_arguments: &["blue_green_update", "s3_import"],
    name_prefix: Some(NamePrefix { name: "identifier", prefix: "identifier_prefix" }),
};

/// `aws_db_instance` in the provider's table of types.
pub struct DbInstanceType;

#[async_trait::async_trait]
impl ResourceType for DbInstanceType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, cx: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(cx.clients(), cx.vault, cx.replacements, prior, desired).await
    }

    /// An instance is snapshotted before its delete, as in a replace its configuration forces.
    async fn plan_replace(&self, cx: &Cx<'_>, prior: &Value, desired: &Value) -> Option<Result<PlannedChange, ProviderError>> {
        Some(plan_requested_replace(cx.clients(), cx.vault, cx.replacements, prior, desired).await)
    }

    async fn plan_delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        plan_delete(cx.clients(), prior).await
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        apply(cx.clients()?, cx.vault, prior, planned, authorship).await
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        delete(cx.clients()?, cx.replacements, prior).await
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        rds_tags::marked_by(cx.clients()?, live.get_str("arn").unwrap_or_default(), intent_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Value {
        let mut value = Value::object([
            ("identifier", Value::from("db1")),
            ("engine", Value::from("postgres")),
            ("engine_version", Value::from("14.10")),
            ("instance_class", Value::from("db.t3.micro")),
            ("allocated_storage", Value::int(20)),
            ("username", Value::from("admin")),
            ("password", Value::from("hunter2hunter2")),
            ("db_name", Value::from("app")),
            ("port", Value::int(5432)),
            ("create_time", Value::from("2026-11-25T10:30:00.123Z")),
            ("tags", Value::object::<String>([])),
            ("pending_modifications", Value::List(vec![])),
        ]);
        Vault::default().seal(&mut value, "password").expect("a fingerprint");
        value
    }

    /// `super::plan` for tests that do not look at the replacements it notes.
    fn plan(
        vault: &Vault,
        prior: Option<&Value>,
        desired: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        offline_plan(vault, &Replacements::default(), prior, desired)
    }

    /// `super::plan` without clients: these instances configure no final snapshot name, so
    /// planning them asks AWS nothing.
    fn offline_plan(
        vault: &Vault,
        replacements: &Replacements,
        prior: Option<&Value>,
        desired: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| ProviderError::new(e.to_string()))?;
        runtime.block_on(super::plan(Err(ProviderError::new("offline")), vault, replacements, prior, desired))
    }

    fn desired_from(live: &Value, edits: &[(&str, Value)]) -> Value {
        let mut desired = live.clone();
        for key in ["port", "create_time", "pending_modifications"] {
            desired.set(key, Value::Null);
        }
        for (key, value) in edits {
            desired.set(key, value.clone());
        }
        desired
    }

    #[test]
    fn same_config_is_no_change() {
        let desired = desired_from(
            &live(),
            &[
                ("engine_version", Value::from("14")),
                ("password", Value::from("hunter2hunter2")),
            ],
        );
        let change = plan(&Vault::default(), Some(&live()), &desired);
        assert_eq!(change.map(|c| c.action).ok(), Some(Action::NoOp));
    }

    #[test]
    fn password_change_is_in_place_and_secret() {
        let vault = Vault::default();
        let change = plan(
            &vault,
            Some(&live()),
            &desired_from(&live(), &[("password", Value::from("newsecret99"))]),
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(change.action, Action::Update);
        assert!(!format!("{change:?}").contains("newsecret99"));
        let mut planned = change.planned;
        assert!(vault.open(&mut planned, "password").is_ok());
        assert_eq!(planned.get_str("password"), Some("newsecret99"));
    }

    #[test]
    fn db_name_forces_replacement_with_the_snapshots_shown() {
        let replacements = Replacements::default();
        let change = offline_plan(
            &Vault::default(),
            &replacements,
            Some(&live()),
            &desired_from(&live(), &[("db_name", Value::from("other"))]),
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(change.action, Action::Replace);
        assert_eq!(change.replace_because, vec!["db_name".to_owned()]);
        assert_eq!(
            change.operations[..3],
            [
                "CreateDBSnapshot db1-pre-replace-20261125103000 of db1",
                "wait until snapshot db1-pre-replace-20261125103000 is available",
                "DeleteDBInstance db1 (final snapshot db1-final-20261125103000)"
            ]
        );
        assert_eq!(
            change.data_loss,
            ["replaces the RDS instance db1 with a new, empty one: its data survives only in the snapshot db1-pre-replace-20261125103000 taken just before and the final snapshot db1-final-20261125103000"]
        );
        assert_eq!(
            change.backups,
            [
                "RDS snapshot db1-pre-replace-20261125103000",
                "RDS snapshot db1-final-20261125103000 (final)"
            ]
        );
        assert_eq!(
            replacements.take("db1").as_deref(),
            Some("db1-pre-replace-20261125103000")
        );
    }

    #[test]
    fn deletion_protection_refuses_delete() {
        let mut prior = live();
        prior.set("deletion_protection", Value::Bool(true));
        assert!(deletion::planned_delete(&prior, &FinalName::AsConfigured).is_err_and(|e| e
            .hint
            .is_some_and(|h| h.contains("deletion_protection = false"))));
    }

    #[test]
    fn a_taken_final_snapshot_name_gets_the_creation_time_and_the_plan_says_so() {
        let mut prior = live();
        prior.set("final_snapshot_identifier", Value::from("db1-last"));
        let stamped = FinalName::Stamped { taken: "db1-last".to_owned(), free: deletion::snapshot_name("db1-last", "", prior.get_str("create_time")) };
        let change = deletion::planned_delete(&prior, &stamped).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(change.operations[0], "DeleteDBInstance db1 (final snapshot db1-last-20261125103000)");
        assert_eq!(change.backups, ["RDS snapshot db1-last-20261125103000 (final)"]);
        assert!(change.warnings.iter().any(|w| w.starts_with("final_snapshot_identifier db1-last is taken by an existing snapshot")), "{:?}", change.warnings);
        let free = deletion::planned_delete(&prior, &FinalName::AsConfigured).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(free.operations[0], "DeleteDBInstance db1 (final snapshot db1-last)");
        assert!(free.warnings.is_empty());
    }

    #[test]
    fn pending_changes_plan_as_done_with_a_warning() {
        let pending = aws_sdk_rds::types::PendingModifiedValues::builder()
            .db_instance_class("db.t3.small")
            .build();
        let instance = DbInstance::builder()
            .db_instance_identifier("db1")
            .engine("postgres")
            .engine_version("14.10")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("admin")
            .db_name("app")
            .preferred_maintenance_window("sun:05:00-sun:06:00")
            .pending_modified_values(pending)
            .build();
        let live = to_value(&instance, &live());
        assert_eq!(live.get_str("instance_class"), Some("db.t3.small"));
        let desired = desired_from(&live, &[("instance_class", Value::from("db.t3.small"))]);
        let change = plan(&Vault::default(), Some(&live), &desired)
            .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(change.action, Action::NoOp);
        assert!(
            change
                .warnings
                .iter()
                .any(|w| w.starts_with("1 change(s) are pending until the maintenance window")),
            "{:?}",
            change.warnings
        );
    }

    #[test]
    fn unknown_security_groups_are_decided_during_apply() {
        let unknown = [("vpc_security_group_ids", Value::List(vec![Value::Unknown]))];
        let create =
            plan(&Vault::default(), None, &desired_from(&live(), &unknown)).map(|c| c.action);
        assert_eq!(create.ok(), Some(Action::Create));
        let update = plan(
            &Vault::default(),
            Some(&live()),
            &desired_from(&live(), &unknown),
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(update.action, Action::Update);
        assert!(
            update
                .operations
                .iter()
                .any(|o| o.ends_with("VpcSecurityGroupIds (decided during apply)")),
            "{:?}",
            update.operations
        );
    }
}
