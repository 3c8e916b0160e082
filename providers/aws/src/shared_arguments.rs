//! The arguments Terraform's AWS provider v6 gives many resource types alike, handled once for all
//! of them around each type's own entry points:
//!
//! - `region`: the region a resource is managed in (default: the provider's). `lib.rs` hands each
//!   type clients in that region; here it is filled into planned and live values, and a change
//!   replaces the resource (the old one is deleted in its region, the new one made in the other).
//! - `tags_all`: the resource's tags and the provider's default tags; strata has no default tags,
//!   so it is exactly `tags` (an empty map for none).
//! - a name generated from a prefix (`name_prefix`, `identifier_prefix`) at create, as Terraform
//!   generates it: the prefix, a UTC timestamp to the 1/10000 s and a counter. It is generated
//!   at plan so that the intent apply records names the object; apply's final plan generates it
//!   again, and that is the name the object gets; afterwards the name is kept from state.
//! - local arguments (`skip_destroy`, ...): AWS does not keep them, so they are carried in
//!   state, hidden from the type's own plan, and a change to one is a state-only update.
//!
//! Owns no API calls.

use std::sync::atomic::{AtomicU32, Ordering};

use strata_provider_sdk::{Action, PlannedChange, ProviderError, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::resource_type::ResourceType;
use crate::schema::not_yet;

pub const REGION: &str = "region";
const TAGS: &str = "tags";
const TAGS_ALL: &str = "tags_all";
/// The prefix of a generated name when the configuration sets neither the name nor a prefix
/// (Terraform's is `terraform-`).
const DEFAULT_PREFIX: &str = "strata-";

/// The region `value` names, when it names one.
pub fn region_of(value: &Value) -> Option<&str> {
    value.get_str(REGION).filter(|region| !region.is_empty())
}

/// Whether the type declares `attribute`.
fn declares(kind: &dyn ResourceType, attribute: &str) -> bool {
    kind.schema().block.attributes.contains_key(attribute)
}

/// The arguments carried over from state: the type's local ones, its name prefix, and those
/// accepted only at AWS's default.
fn carried(kind: &dyn ResourceType) -> Vec<&'static str> {
    let mut names = kind.local_arguments().to_vec();
    names.extend(kind.name_prefix().map(|p| p.prefix));
    names.extend(not_yet::names(&kind.schema().block));
    names
}

/// Refuses a list argument strata does not act on yet when it is not empty.
fn refuse_unsupported(kind: &dyn ResourceType, desired: &Value) -> Result<(), ProviderError> {
    for name in not_yet::lists(&kind.schema().block) {
        if desired.get(name).and_then(Value::as_list).is_some_and(|items| !items.is_empty()) {
            return Err(ProviderError::new(format!("{}: \"{name}\" is not supported by strata yet", kind.name()))
                .with_hint(format!("remove {name} or set it to []; strata would otherwise ignore it")));
        }
    }
    Ok(())
}

/// `tags_all` for `tags`: the same map, empty for none, unknown while `tags` is.
fn tags_all(tags: Option<&Value>) -> Value {
    match tags {
        Some(tags) if !tags.is_wholly_known() => Value::Unknown,
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => Value::object::<String>([]),
    }
}

/// A live object (from refresh, import or apply) completed with what AWS does not say:
/// its region, `tags_all`, and the carried arguments of `source` (the state or planned value).
pub fn complete_live(kind: &dyn ResourceType, live: &mut Value, source: &Value, region: Option<&str>) {
    if declares(kind, REGION) {
        live.set(REGION, region.map(Value::from).unwrap_or_default());
    }
    if declares(kind, TAGS_ALL) {
        let all = tags_all(live.get(TAGS));
        live.set(TAGS_ALL, all);
    }
    for name in carried(kind) {
        live.set(name, source.get(name).cloned().unwrap_or_default());
    }
}

/// Why a change of a shared argument replaces the resource, if one does: its region, or its name
/// prefix while the name is generated.
pub fn forced_replacement(kind: &dyn ResourceType, prior: &Value, desired: &Value) -> Vec<String> {
    let mut because = Vec::new();
    if let Some(wanted) = region_of(desired) {
        if region_of(prior).is_some_and(|live| live != wanted) {
            because.push(REGION.to_owned());
        }
    }
    if let Some(prefix) = kind.name_prefix() {
        let generated = desired.get(prefix.name).is_none_or(Value::is_null);
        let changed = desired.get(prefix.prefix).is_some_and(Value::is_wholly_known)
            && desired.get(prefix.prefix) != prior.get(prefix.prefix);
        if generated && changed {
            because.push(prefix.prefix.to_owned());
        }
    }
    because
}

/// What the type's own plan is asked with: the carried arguments and region as they are (so it
/// never sees them change) and, for a create, a generated name.
pub fn desired_for_type(kind: &dyn ResourceType, prior: Option<&Value>, desired: &Value) -> Result<Value, ProviderError> {
    refuse_unsupported(kind, desired)?;
    let mut shown = desired.clone();
    let before = |name: &str| prior.and_then(|p| p.get(name)).cloned().unwrap_or_default();
    for name in carried(kind).into_iter().chain([REGION]) {
        if declares(kind, name) {
            shown.set(name, before(name));
        }
    }
    if let (None, Some(prefix)) = (prior, kind.name_prefix()) {
        let name = desired.get(prefix.name).cloned().unwrap_or_default();
        let chosen = desired.get(prefix.prefix).cloned().unwrap_or_default();
        match (name.is_null(), chosen) {
            (false, Value::String(_)) => {
                return Err(ProviderError::new(format!(
                    "{}: \"{}\" and \"{}\" conflict; set one of them",
                    kind.name(),
                    prefix.name,
                    prefix.prefix
                )))
            }
            (true, Value::String(chosen)) => shown.set(prefix.name, Value::from(unique_name(&chosen))),
            (true, Value::Null) => shown.set(prefix.name, Value::from(unique_name(DEFAULT_PREFIX))),
            // The prefix is not known yet: neither is the name.
            (true, _) => shown.set(prefix.name, Value::Unknown),
            (false, _) => {}
        }
    }
    Ok(shown)
}

/// The type's answer completed: the carried arguments as configured (a change to one alone is a
/// state-only update), the region, and `tags_all`.
pub fn complete_plan(kind: &dyn ResourceType, prior: Option<&Value>, desired: &Value, region: Option<&str>, mut change: PlannedChange) -> PlannedChange {
    if change.action == Action::Delete {
        return change;
    }
    let planned = &mut change.planned;
    for name in carried(kind) {
        planned.set(name, desired.get(name).cloned().unwrap_or_default());
    }
    if declares(kind, REGION) {
        let chosen = region_of(desired).or(prior.and_then(region_of)).or(region);
        planned.set(REGION, chosen.map(Value::from).unwrap_or(Value::Unknown));
    }
    if declares(kind, TAGS_ALL) {
        let all = tags_all(planned.get(TAGS));
        planned.set(TAGS_ALL, all);
    }
    if let (Some(prior), Action::NoOp | Action::Update) = (prior, change.action) {
        let lines = state_only_changes(kind, prior, desired);
        if !lines.is_empty() {
            change.action = Action::Update;
            change.operations.extend(lines);
        }
    }
    change
}

/// One line per carried argument whose configured value differs from state's.
fn state_only_changes(kind: &dyn ResourceType, prior: &Value, desired: &Value) -> Vec<String> {
    let show = |value: Option<&Value>| crate::diff::show(value.unwrap_or(&Value::Null));
    carried(kind)
        .into_iter()
        .filter(|name| desired.get(name).is_some_and(Value::is_wholly_known))
        .filter(|name| !same_local(prior.get(name), desired.get(name)))
        .map(|name| format!("(state only) {name}: {} -> {}", show(prior.get(name)), show(desired.get(name))))
        .collect()
}

/// Null and absent are alike.
fn same_local(a: Option<&Value>, b: Option<&Value>) -> bool {
    a.unwrap_or(&Value::Null) == b.unwrap_or(&Value::Null)
}

/// `prefix` followed by Terraform's unique suffix: UTC time to 1/10000 s, then a counter.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let format = format_description!("[year][month][day][hour][minute][second][subsecond digits:4]");
    let stamp = OffsetDateTime::now_utc().format(&format).unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    format!("{prefix}{stamp}{count:08x}")
}

/// An import id's region, as Terraform v6 writes it (`ID@REGION`): the id and that region.
pub fn split_region(id: &str) -> (&str, Option<&str>) {
    match id.rsplit_once('@') {
        Some((base, region)) if looks_like_region(region) => (base, Some(region)),
        _ => (id, None),
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: letters, dashes, a final number.
fn looks_like_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let Some((last, words)) = parts.split_last() else { return false };
    words.len() >= 2
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_keep_the_prefix_and_differ() {
        let (a, b) = (unique_name("db-"), unique_name("db-"));
        assert!(a.starts_with("db-"));
        assert_eq!(a.len(), "db-".len() + 26);
        assert_ne!(a, b);
    }

    #[test]
    fn import_ids_may_name_a_region() {
        assert_eq!(split_region("main@eu-west-1"), ("main", Some("eu-west-1")));
        assert_eq!(split_region("main@us-gov-west-1"), ("main", Some("us-gov-west-1")));
        assert_eq!(split_region("vpc-1/web@team"), ("vpc-1/web@team", None));
        assert_eq!(split_region("main"), ("main", None));
    }

    #[test]
    fn tags_all_is_tags() {
        let tags = Value::object([("a", Value::from("1"))]);
        assert_eq!(tags_all(Some(&tags)), tags);
        assert_eq!(tags_all(Some(&Value::Null)), Value::object::<String>([]));
        assert_eq!(tags_all(Some(&Value::Unknown)), Value::Unknown);
    }
}
