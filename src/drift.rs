//! Drift, as data: how what is live and what is configured have moved away from the state.
//!
//! Owns comparing refreshed live objects with the state (attribute by attribute, nested blocks
//! matched by name), collecting the unmanaged objects providers find next to managed ones, config
//! drift (the configuration planned against the state as recorded, not against live),
//! acknowledgements (`drift_acks` in state) and the state that accepts what is live
//! (refresh-only). It must not print, write any file or change anything live: a drift run only
//! reads.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, RefreshRequest, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::addrs::{ProviderConfig, ResourceInstance};
use crate::context::Context;
use crate::diag::{Diagnostic, Result};
use crate::plan::planner::{provider_error, refresh_and_plan_against_state, AgainstState, Refreshed};
use crate::plan::ResourceChange;
use crate::providers::Providers;
use crate::secrets::MASK;
use crate::state::{DriftAck, Instance, State};

/// What kind of drift a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Live differs from state: changed outside strata.
    Changed,
    /// In state, gone live: deleted outside strata.
    Deleted,
    /// Live next to a managed object, named nowhere in state (an index added by hand).
    Unmanaged,
    /// The configuration differs from state: a plan would change it even had nothing drifted live.
    Config,
    /// Periodic work is due and not done (a backup older than its `every`, a failed drill).
    Overdue,
}

impl Kind {
    /// The word used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Changed => "changed",
            Kind::Deleted => "deleted",
            Kind::Unmanaged => "unmanaged",
            Kind::Config => "config",
            Kind::Overdue => "overdue",
        }
    }

    /// The phrase used for people.
    pub fn phrase(self) -> &'static str {
        match self {
            Kind::Changed => "changed outside strata",
            Kind::Deleted => "deleted outside strata",
            Kind::Unmanaged => "unmanaged object next to it",
            Kind::Config => "configuration differs from state",
            Kind::Overdue => "overdue",
        }
    }
}

/// One thing that drifted.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub address: ResourceInstance,
    pub kind: Kind,
    /// The dotted path that drifted (`instance_class`, `column.team.type`); `None` for the
    /// resource as a whole.
    pub attribute: Option<String>,
    /// The value in state (`None`: absent); sensitive values already masked.
    pub before: Option<Value>,
    /// The value live (changed) or configured (config); `None`: absent. Masked like `before`.
    pub after: Option<Value>,
    /// Free text: the unmanaged object, or what a plan would do.
    pub detail: Option<String>,
    pub ack: Option<AckStatus>,
}

/// An acknowledgement that covers a finding.
#[derive(Clone, Debug, PartialEq)]
pub struct AckStatus {
    pub until: String,
    pub reason: String,
    pub expired: bool,
}

/// Everything a drift run found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// How many resources in state were compared.
    pub checked: usize,
}

impl Report {
    /// Whether the run fails: a finding without an acknowledgement in force.
    pub fn has_drift(&self) -> bool {
        self.findings.iter().any(|f| f.ack.as_ref().is_none_or(|a| a.expired))
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }

    pub fn acknowledged(&self) -> usize {
        self.findings.iter().filter(|f| f.ack.as_ref().is_some_and(|a| !a.expired)).count()
    }

    /// The drifted resources, in order, with their findings.
    pub fn by_resource(&self) -> BTreeMap<&ResourceInstance, Vec<&Finding>> {
        let mut grouped: BTreeMap<&ResourceInstance, Vec<&Finding>> = BTreeMap::new();
        for finding in &self.findings {
            grouped.entry(&finding.address).or_default().push(finding);
        }
        grouped
    }
}

/// Refreshes everything in state (reading only) and reports every kind of drift, acknowledged
/// findings marked as such at `now`.
pub async fn detect(ctx: &Context, state: &State, now: OffsetDateTime) -> Result<Report> {
    let AgainstState { live, changes: planned, unconfigured } = refresh_and_plan_against_state(ctx, state).await?;
    let mut findings = live_findings(state, &live);
    findings.extend(unmanaged_findings(ctx, state, &live).await?);
    findings.extend(config_findings(&planned, unconfigured, |address| crate::plan::removed::forgets(ctx, address)));
    for finding in &mut findings {
        finding.ack = acknowledgement(&state.drift_acks, finding, now);
    }
    Ok(Report { findings, checked: state.managed().count() })
}

/// Live against state: what changed or was deleted outside strata.
pub fn live_findings(state: &State, live: &Refreshed) -> Vec<Finding> {
    let mut findings = Vec::new();
    for resource in state.managed() {
        let address = resource.address();
        match live.get(&address).cloned().flatten() {
            None => findings.push(whole(address, Kind::Deleted, None)),
            Some(value) => findings.extend(attribute_findings(&address, Kind::Changed, &resource.value(), &value, &resource.sensitive_attributes)),
        }
    }
    findings
}

/// The state with what is live accepted into it: objects deleted outside strata leave it, changed
/// ones take their live values. Outputs and acknowledgements stay; the serial is the caller's.
pub fn accept_live(state: &State, live: &Refreshed) -> State {
    let mut accepted = state.clone();
    for resource in state.managed() {
        let address = resource.address();
        match live.get(&address).cloned().flatten() {
            None => {
                accepted.remove(&address);
            }
            Some(value) if value != resource.value() => {
                accepted.put(&address, &resource.provider(), &value, resource.sensitive_attributes.clone(), &resource.dependency_addresses());
            }
            Some(_) => {}
        }
    }
    accepted
}

/// Asks each provider what lives next to its managed objects without being managed.
async fn unmanaged_findings(ctx: &Context, state: &State, live: &Refreshed) -> Result<Vec<Finding>> {
    let mut by_provider: BTreeMap<ProviderConfig, Vec<Instance<'_>>> = BTreeMap::new();
    for resource in state.managed().filter(|r| live.get(&r.address()).is_some_and(Option::is_some)) {
        by_provider.entry(resource.provider()).or_default().push(resource);
    }
    let mut findings = Vec::new();
    for (name, resources) in by_provider {
        let requests: Vec<RefreshRequest> = resources.iter().map(|r| RefreshRequest { type_name: r.type_name().to_owned(), state: r.value() }).collect();
        let provider = ctx.providers.get(&name)?;
        let answers = provider.unmanaged(&requests).await.map_err(|err| provider_error(&format!("listing unmanaged {name} objects"), err, None))?;
        if answers.len() != requests.len() {
            return Err(Diagnostic::error(format!("provider \"{name}\" answered {} unmanaged lists for {} resources", answers.len(), requests.len())).into());
        }
        for (resource, objects) in resources.iter().zip(answers) {
            findings.extend(objects.into_iter().map(|object| whole(resource.address(), Kind::Unmanaged, Some(object))));
        }
    }
    Ok(findings)
}

/// The configuration against the state as recorded: resources a plan would create, change,
/// replace or delete even had nothing drifted live.
fn config_findings(planned: &[ResourceChange], unconfigured: Vec<ResourceInstance>, forgets: impl Fn(&ResourceInstance) -> bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in planned.iter().filter(|c| c.action.is_change()) {
        let address = change.address.clone();
        // A duty's planned object differs from state only in what the duty will make.
        if !change.duties.is_empty() {
            findings.extend(change.duties.iter().map(|duty| whole(address.clone(), Kind::Overdue, Some(duty.clone()))));
            continue;
        }
        let attributes = match (&change.before, &change.after) {
            (Some(before), Some(after)) => attribute_findings(&address, Kind::Config, before, after, &change.sensitive),
            _ => vec![],
        };
        let action = match change.action {
            Action::Create => "a plan would create it",
            Action::Replace => "a plan would replace it",
            _ => "a plan would update it",
        };
        if attributes.is_empty() || change.action != Action::Update {
            findings.push(whole(address, Kind::Config, Some(action.to_owned())));
        }
        findings.extend(attributes);
    }
    for address in unconfigured {
        let fate = if forgets(&address) { "a removed block: a plan would forget it (drop it from state only)" } else { "no longer in the configuration: a plan would delete it" };
        findings.push(whole(address, Kind::Config, Some(fate.to_owned())));
    }
    findings
}

fn whole(address: ResourceInstance, kind: Kind, detail: Option<String>) -> Finding {
    Finding { address, kind, attribute: None, before: None, after: None, detail, ack: None }
}

/// One finding per attribute that differs, masked where the attribute is sensitive.
fn attribute_findings(address: &ResourceInstance, kind: Kind, before: &Value, after: &Value, sensitive: &BTreeSet<String>) -> Vec<Finding> {
    let mut differences = Vec::new();
    collect_differences("", Some(before), Some(after), &mut differences);
    differences
        .into_iter()
        .map(|(path, before, after)| {
            let is_sensitive = sensitive.contains(path.split('.').next().unwrap_or_default());
            let mask = |value: Option<Value>| if is_sensitive { value.map(|_| Value::string(MASK)) } else { value };
            Finding { address: address.clone(), kind, attribute: Some(path), before: mask(before), after: mask(after), detail: None, ack: None }
        })
        .collect()
}

/// Walks two values, recording `(path, before, after)` where they differ. Objects recurse per key;
/// lists of named blocks (a table's `column`s) are matched by name, so one added column is one
/// difference; anything else differs as a whole. Null and absent are the same.
fn collect_differences(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<(String, Option<Value>, Option<Value>)>) {
    let before = before.filter(|v| !v.is_null());
    let after = after.filter(|v| !v.is_null());
    if before == after {
        return;
    }
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                collect_differences(&join(path, key), old.get(key), new.get(key), out);
            }
        }
        (Some(Value::List(old)), Some(Value::List(new))) if is_named_blocks(old) && is_named_blocks(new) => {
            let mut seen = BTreeSet::new();
            let names = old.iter().chain(new.iter()).filter_map(|item| item.get_str("name")).filter(|n| seen.insert(*n));
            for name in names {
                collect_differences(&join(path, name), named(old, name), named(new, name), out);
            }
        }
        _ => out.push((path.to_owned(), before.map(without_nulls), after.map(without_nulls))),
    }
}

/// A value without its null attributes, which say nothing in a report of what changed.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect()),
        Value::List(items) => Value::List(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn is_named_blocks(items: &[Value]) -> bool {
    items.iter().all(|item| item.get_str("name").is_some())
}

fn named<'v>(items: &'v [Value], name: &str) -> Option<&'v Value> {
    items.iter().find(|item| item.get_str("name") == Some(name))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The acknowledgement covering `finding`, preferring one still in force.
fn acknowledgement(acks: &[DriftAck], finding: &Finding, now: OffsetDateTime) -> Option<AckStatus> {
    let covering = acks.iter().filter(|ack| ack.address == finding.address.to_string() && covers(ack.attribute.as_deref(), finding.attribute.as_deref()));
    let statuses = covering.map(|ack| AckStatus {
        until: ack.until.clone(),
        reason: ack.reason.clone(),
        expired: parse_until(&ack.until).is_none_or(|until| until <= now),
    });
    statuses.min_by_key(|status| status.expired)
}

/// An acknowledgement of `acked` covers the attribute itself and everything under it; one of the
/// whole resource covers everything.
fn covers(acked: Option<&str>, attribute: Option<&str>) -> bool {
    match (acked, attribute) {
        (None, _) => true,
        (Some(acked), Some(attribute)) => attribute == acked || attribute.strip_prefix(acked).is_some_and(|rest| rest.starts_with('.')),
        (Some(_), None) => false,
    }
}

/// When an acknowledgement ends: an RFC 3339 date-time, or a full date (its start, UTC).
pub fn parse_until(text: &str) -> Option<OffsetDateTime> {
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(instant);
    }
    OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &Rfc3339).ok()
}

/// A new acknowledgement of `target` (`ADDR` or `ADDR.attribute`) in `state`, replacing any for
/// the same target. The address must be in state and `until` in the future.
pub fn acknowledge(state: &mut State, providers: &Providers, target: &str, until: &str, reason: &str, now: OffsetDateTime) -> Result<DriftAck> {
    let (address, attribute) = split_target(state, target)?;
    if let Some(path) = &attribute {
        crate::typecheck::check_attribute_path(&providers.resource_schema(&address.resource)?.block, path, &address.to_string())?;
    }
    let end = parse_until(until).ok_or_else(|| {
        Diagnostic::error(format!("-until \"{until}\" is not a date")).hint("give an RFC 3339 date such as 2030-01-31, or a date-time such as 2030-01-31T12:00:00Z")
    })?;
    if end <= now {
        return Err(Diagnostic::error(format!("-until {until} is not in the future")).hint("an acknowledgement must end after now; give a later date").into());
    }
    if reason.trim().is_empty() {
        return Err(Diagnostic::error("-reason is empty").hint("say why this drift is accepted, so whoever meets it later knows").into());
    }
    let ack = DriftAck {
        address: address.to_string(),
        attribute,
        until: until.to_owned(),
        reason: reason.to_owned(),
        recorded_at: now.format(&Rfc3339).unwrap_or_default(),
    };
    state.drift_acks.retain(|a| !(a.address == ack.address && a.attribute == ack.attribute));
    state.drift_acks.push(ack.clone());
    Ok(ack)
}

/// `TYPE.NAME[.attribute.path]` into the address in state and the attribute path.
fn split_target(state: &State, target: &str) -> Result<(ResourceInstance, Option<String>)> {
    let (address, attribute) = crate::addrs::instance_and_path(target).map_err(|err| {
        Diagnostic::error(err).hint("write TYPE.NAME, TYPE.NAME[KEY] or either followed by .attribute, e.g. aws_db_instance.main.instance_class")
    })?;
    if state.get(&address).is_none() {
        let known: Vec<String> = state.instances().map(|i| i.address().to_string()).collect();
        let closest = crate::diag::closest(&address.to_string(), known.iter().map(String::as_str)).map(|best| format!("did you mean {best}? "));
        return Err(Diagnostic::error(format!("{address} is not in the state"))
            .hint(format!("{}list what is there with strata state list", closest.unwrap_or_default()))
            .into());
    }
    Ok((address, attribute))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    #[test]
    fn named_blocks_match_by_name() {
        let id = object(&[("name", Value::string("id")), ("type", Value::string("bigint"))]);
        let team = object(&[("name", Value::string("team")), ("type", Value::string("text"))]);
        let before = object(&[("column", Value::List(vec![id.clone()]))]);
        let after = object(&[("column", Value::List(vec![id, team.clone()]))]);
        let mut out = Vec::new();
        collect_differences("", Some(&before), Some(&after), &mut out);
        assert_eq!(out, vec![("column.team".to_owned(), None, Some(team))]);
    }

    #[test]
    fn acknowledgements_cover_paths_below_them() {
        assert!(covers(Some("column"), Some("column.team.type")));
        assert!(!covers(Some("column"), Some("columns")));
        assert!(covers(None, None));
        assert!(!covers(Some("tags"), None));
    }

    #[test]
    fn until_takes_dates_and_date_times() {
        assert_eq!(parse_until("2030-01-31").map(|t| t.unix_timestamp()), Some(1_896_048_000));
        assert!(parse_until("2030-01-31T12:00:00Z").is_some());
        assert!(parse_until("next week").is_none());
    }
}
