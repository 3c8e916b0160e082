//! `aws_db_snapshot_policy` (strata's own type): manual RDS snapshots of one instance on a
//! freshness rule, pruned by retention.
//!
//! Its live state is the manual snapshots carrying its tag `strata:snapshot-policy = TOKEN`
//! (TOKEN is random, made at create), found for every policy in one paginated
//! DescribeDBSnapshots, whose answer holds each snapshot's tags. A snapshot is due when there is
//! none, the newest is older than `every`, or the newest failed; retention deletes only
//! snapshots with the policy's tag, never the newest available one, and only after the new one is
//! available. Deleting the policy keeps its snapshots. With `copy_to_region`, each new snapshot
//! is also copied to another region and the copies there pruned alike (`snapshot_copies`).

use aws_sdk_rds::types::DbSnapshot;
use strata_provider_sdk::duty::{self, Held, Retention};
use strata_provider_sdk::{Action, ApplyFailure, Authorship, PlannedChange, ProviderError, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::Clients;
use crate::{errors, schema};
use crate::snapshot_copies::{self, CopyTo};
use crate::resource_type::{About, Cx, ResourceType};

/// The tag that marks a snapshot as a policy's own.
pub const POLICY_TAG: &str = "strata:snapshot-policy";

/// The policy's settings, from its configuration.
struct Policy {
    instance: String,
    every: std::time::Duration,
    every_text: String,
    retention: Retention,
    copy: Option<CopyTo>,
}

impl Policy {
    /// The policy's settings; `home` is the provider's region, when known.
    fn from_value(value: &Value, home: Option<&str>) -> Result<Policy, ProviderError> {
        let every_text = value.get_str("every").unwrap_or_default().to_owned();
        Ok(Policy {
            instance: value
                .get_str("db_instance_identifier")
                .ok_or_else(|| ProviderError::new("db_instance_identifier is required"))?
                .to_lowercase(),
            every: duty::parse(&every_text).map_err(ProviderError::new)?,
            every_text,
            retention: Retention::from_block(value.get("retention").unwrap_or(&Value::Null))?,
            copy: CopyTo::of(value, home)?,
        })
    }
}

fn token_of(value: &Value) -> Option<&str> {
    value.get_str("id")?.rsplit_once('/').map(|(_, token)| token)
}

/// The manual snapshots in the region, or of one instance, with their tags (DescribeDBSnapshots
/// includes them).
pub(crate) async fn manual_snapshots(clients: &Clients, instance: Option<&str>) -> Result<Vec<DbSnapshot>, ProviderError> {
    Ok(crate::db_snapshot::describe_manual(clients, None, instance).await?.into_values().collect())
}

pub(crate) fn owned_by<'a>(snapshots: &'a [DbSnapshot], token: &str) -> Vec<&'a DbSnapshot> {
    let mut owned: Vec<&DbSnapshot> = snapshots.iter().filter(|s| s.tag_list().iter().any(|t| t.key() == Some(POLICY_TAG) && t.value() == Some(token))).collect();
    owned.sort_by_key(|s| s.snapshot_create_time().map(|t| t.secs()).unwrap_or(i64::MAX));
    owned
}

pub(crate) fn snapshot_value(snapshot: &DbSnapshot) -> Value {
    let taken_at = snapshot
        .snapshot_create_time()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    Value::object([
        ("id", Value::from(snapshot.db_snapshot_identifier().unwrap_or_default())),
        ("arn", Value::from(snapshot.db_snapshot_arn().unwrap_or_default())),
        ("taken_at", Value::string(taken_at)),
        ("status", Value::from(snapshot.status().unwrap_or_default())),
    ])
}

/// The policies' live objects: their states with `snapshots` as RDS holds them now.
pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let snapshots = manual_snapshots(clients, None).await?;
    let copies = snapshot_copies::by_region(clients, states).await?;
    Ok(states
        .iter()
        .map(|state| {
            let token = token_of(state)?;
            let mut live = (*state).clone();
            live.set("snapshots", Value::List(owned_by(&snapshots, token).into_iter().map(snapshot_value).collect()));
            live.set("copies", snapshot_copies::live_copies(&copies, state, token));
            Some(live)
        })
        .collect())
}

/// The snapshots in `snapshots` (a `snapshots` attribute), newest first. One still being made
/// counts as good: the next is not due while it is.
pub(crate) fn held(snapshots: &[Value]) -> Vec<Held> {
    let mut held: Vec<Held> = snapshots
        .iter()
        .filter_map(|s| {
            let status = s.get_str("status").unwrap_or_default().to_owned();
            Some(Held {
                id: s.get_str("id")?.to_owned(),
                taken_at: OffsetDateTime::parse(s.get_str("taken_at")?, &Rfc3339).ok()?,
                good: matches!(status.as_str(), "available" | "creating"),
                status,
            })
        })
        .collect();
    held.sort_by_key(|h| std::cmp::Reverse(h.taken_at));
    held
}

/// The name of a snapshot the policy with `token` takes at `now`: the instance's, then the
/// token's start and the time to the millisecond, so that a policy recreated after a killed
/// apply (a new token) never collides with the snapshot the killed one took.
fn snapshot_name(instance: &str, token: &str, now: OffsetDateTime) -> String {
    let stamp = now.format(&time::macros::format_description!("[year][month][day]t[hour][minute][second][subsecond digits:3]z")).unwrap_or_default();
    let short: String = token.chars().take(6).collect();
    format!("{instance}-strata-{short}-{stamp}")
}

/// Plans the policy; `home` is the provider's region, when known.
pub fn plan(home: Option<&str>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    if !desired.is_wholly_known() {
        let mut planned = desired.clone();
        planned.set("id", prior.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Unknown));
        planned.set("snapshots", Value::Unknown);
        planned.set("copies", Value::Unknown);
        let mut change = PlannedChange::new(if prior.is_some() { Action::Update } else { Action::Create }, planned);
        change.duties.push("snapshot: whether one is due is decided during apply, once every value is known".into());
        return Ok(change);
    }
    let policy = Policy::from_value(desired, home)?;
    let now = OffsetDateTime::now_utc();
    let mut candidates = prior.map(|p| held(p.get_list("snapshots"))).unwrap_or_default();
    let due = duty::due("snapshot", policy.every, &policy.every_text, &candidates, now);
    let mut planned = desired.clone();
    planned.set("id", prior.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Unknown));
    let mut change = PlannedChange::new(if prior.is_some() { Action::Update } else { Action::Create }, Value::Null);
    let token = prior.and_then(token_of).unwrap_or("TOKEN");
    let new_snapshot = due.is_some().then(|| snapshot_name(&policy.instance, token, now));
    if let (Some(due), Some(name)) = (due, &new_snapshot) {
        change.operations.push(format!("CreateDBSnapshot {name} of {} (tag {POLICY_TAG})", policy.instance));
        change.duties.push(due);
        candidates.insert(0, Held { id: "(the new snapshot)".into(), taken_at: now, good: true, status: "available".into() });
        planned.set("snapshots", Value::Unknown);
    }
    let prunes = policy.retention.to_prune(&candidates, now);
    let then = if change.duties.is_empty() { "" } else { "then " };
    for (id, why) in &prunes {
        change.operations.push(format!("DeleteDBSnapshot {id}"));
        change.duties.push(format!("{then}prune {id} ({why})"));
    }
    if !planned.get("snapshots").is_some_and(Value::is_unknown) {
        let kept = prior.map(|p| p.get_list("snapshots").iter().filter(|s| !prunes.iter().any(|(id, _)| Some(id.as_str()) == s.get_str("id"))).cloned().collect()).unwrap_or_default();
        planned.set("snapshots", Value::List(kept));
    }
    if let Some(copy) = &policy.copy {
        let copies = snapshot_copies::plan(copy, prior, new_snapshot.as_deref(), now);
        change.operations.extend(copies.operations);
        change.duties.extend(copies.duties);
        planned.set("copies", copies.copies);
    }
    let settings = |v: &Value| {
        let mut v = v.clone();
        v.set("id", Value::Null);
        v.set("snapshots", Value::Null);
        v.set("copies", Value::Null);
        v
    };
    if let Some(prior) = prior.filter(|p| change.duties.is_empty() && settings(p) == settings(desired)) {
        return Ok(PlannedChange::new(Action::NoOp, prior.clone()));
    }
    change.planned = planned;
    Ok(change)
}

/// Takes the snapshot when due and waits for it, then prunes what retention no longer keeps;
/// then copies the newest to `copy_to_region` and prunes the copies there.
pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value) -> Result<Value, ApplyFailure> {
    let policy = Policy::from_value(&planned.unknowns_to_null(), clients.region())?;
    let token = prior.and_then(token_of).map_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(), str::to_owned);
    let now = OffsetDateTime::now_utc();
    let before = manual_snapshots(clients, Some(&policy.instance)).await?;
    let held_before = held(&owned_by(&before, &token).into_iter().map(snapshot_value).collect::<Vec<_>>());
    let mut value = planned.unknowns_to_null();
    value.set("id", Value::string(format!("{}/{token}", policy.instance)));
    if duty::due("snapshot", policy.every, &policy.every_text, &held_before, now).is_some() {
        let name = snapshot_name(&policy.instance, &token, now);
        let tag = aws_sdk_rds::types::Tag::builder().key(POLICY_TAG).value(&token).build();
        clients
            .rds
            .create_db_snapshot()
            .db_instance_identifier(&policy.instance)
            .db_snapshot_identifier(&name)
            .tags(tag)
            .send()
            .await
            .map_err(|e| errors::api("rds:CreateDBSnapshot", e))?;
        crate::db_snapshot::wait_available(clients, &name).await?;
    }
    let after = manual_snapshots(clients, Some(&policy.instance)).await?;
    let owned = owned_by(&after, &token);
    let prunes = policy.retention.to_prune(&held(&owned.iter().map(|s| snapshot_value(s)).collect::<Vec<_>>()), now);
    for (id, _) in &prunes {
        // Only a snapshot carrying this policy's tag is in `owned`, so only such is deleted.
        clients.rds.delete_db_snapshot().db_snapshot_identifier(id).send().await.map_err(|e| errors::api("rds:DeleteDBSnapshot", e))?;
    }
    let kept: Vec<Value> = owned.into_iter().filter(|s| !prunes.iter().any(|(id, _)| Some(id.as_str()) == s.db_snapshot_identifier())).map(snapshot_value).collect();
    if let Some(copy) = &policy.copy {
        value.set("copies", snapshot_copies::apply(clients, copy, &token, &kept, now).await?);
    }
    value.set("snapshots", Value::List(kept));
    Ok(value)
}

/// Deleting the policy keeps what it took.
pub fn plan_delete(prior: &Value) -> PlannedChange {
    let mut change = PlannedChange::new(Action::Delete, Value::Null);
    change.warnings.push(format!(
        "the policy's {} snapshot(s) of {} and its {} copies are kept (tag {POLICY_TAG}): delete them by hand once nothing needs them",
        prior.get_list("snapshots").len(),
        prior.get_str("db_instance_identifier").unwrap_or_default(),
        prior.get_list("copies").len(),
    ));
    change
}

/// What `aws_db_snapshot_policy` declares about itself.
const ABOUT: About = About {
    name: "aws_db_snapshot_policy",
    schema: schema::snapshot_policy,
    import_id: None,
    named_by: None,
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_db_snapshot_policy` in the provider's table of types.
pub struct SnapshotPolicyType;

#[async_trait::async_trait]
impl ResourceType for SnapshotPolicyType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, cx: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(cx.clients.and_then(Clients::region), prior, desired)
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan_delete(prior))
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        let _ = authorship;
        apply(cx.clients()?, prior, planned).await
    }

    async fn delete(&self, _: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        // Its snapshots outlive it.
        let _ = prior;
        Ok(())
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

    #[test]
    fn snapshot_names_are_valid_rds_identifiers() {
        let name = snapshot_name("ai-platform-dev", "3f2a9c1e0b7d", time::macros::datetime!(2026-12-01 02:23:05.042 UTC));
        assert_eq!(name, "ai-platform-dev-strata-3f2a9c-20261201t022305042z");
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && !name.contains("--"));
    }

    #[test]
    fn a_snapshot_being_made_is_not_a_reason_for_another() {
        let now = OffsetDateTime::now_utc();
        let creating = vec![Value::object([("id", Value::from("s1")), ("taken_at", Value::string(now.format(&Rfc3339).unwrap())), ("status", Value::from("creating"))])];
        assert_eq!(duty::due("snapshot", std::time::Duration::from_secs(3600), "1h", &held(&creating), now), None);
    }
}
