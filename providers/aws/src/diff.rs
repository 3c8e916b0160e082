//! The attribute-by-attribute comparison every resource type starts its plan with: which
//! top-level attributes change, the planned value, and which changes force a replacement.
//!
//! Owns the generic rules (computed attributes keep the live value, unset optional-computed ones
//! take it, unknown desired values stay unknown); each resource module supplies its own notion of
//! equality and handles its nested blocks. It must not know any AWS API.

use strata_provider_sdk::{Action, Block, PlannedChange, Value};

/// One top-level attribute whose value will change.
#[derive(Clone, Debug, PartialEq)]
pub struct Changed {
    pub name: String,
    pub from: Value,
    pub to: Value,
}

/// The result of comparing desired attributes with the live ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    pub planned: Value,
    pub changes: Vec<Changed>,
}

impl Diff {
    pub fn get(&self, name: &str) -> Option<&Changed> {
        self.changes.iter().find(|c| c.name == name)
    }

    /// The changed attributes that cannot change in place.
    pub fn forces_replacement(&self, block: &Block) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| {
                block
                    .attributes
                    .get(c.name.as_str())
                    .is_some_and(|a| a.force_new)
            })
            .map(|c| c.name.clone())
            .collect()
    }
}

/// Compares `desired` with `prior` (None for a create) over `block`'s attributes; nested blocks
/// are copied from `desired` for the caller to handle. `same(name, live, desired)` decides
/// whether two known values are equal for that attribute.
pub fn attributes(
    block: &Block,
    prior: Option<&Value>,
    desired: &Value,
    same: impl Fn(&str, &Value, &Value) -> bool,
) -> Diff {
    let mut planned = desired.clone();
    let mut changes = Vec::new();
    for (name, attribute) in &block.attributes {
        let wanted = desired.get(name).cloned().unwrap_or_default();
        let live = prior.map(|p| p.get(name).cloned().unwrap_or_default());
        let unset = wanted.is_null() && attribute.computed;
        let value = match (live, unset || !attribute.is_settable()) {
            // Create: what the configuration leaves to AWS is known only after apply.
            (None, true) => Value::Unknown,
            (None, false) => wanted,
            (Some(live), true) => live,
            (Some(live), false) if wanted.is_wholly_known() && same(name, &live, &wanted) => live,
            (Some(live), false) => {
                changes.push(Changed {
                    name: (*name).to_owned(),
                    from: live,
                    to: wanted.clone(),
                });
                wanted
            }
        };
        planned.set(name, value);
    }
    Diff { planned, changes }
}

/// Equality of two known values; numbers compare by value (20 and 20.0 are the same).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64() == b.as_f64(),
        _ => a == b,
    }
}

/// The strings of a list value, skipping anything else.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Equality of two lists of strings as sets.
pub fn same_set(a: &Value, b: &Value) -> bool {
    let (mut a, mut b) = (strings(a), strings(b));
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// What the planning shared by the types whose deletion is never refused needs to know.
pub struct Kind {
    pub block: Block,
    /// Equality of a live and a desired attribute value.
    pub same: fn(&str, &Value, &Value) -> bool,
    /// The calls that create the desired object.
    pub create_operations: fn(&Value) -> Vec<String>,
    /// The calls that delete the prior object.
    pub delete_operations: fn(&Value) -> Vec<String>,
}

impl Kind {
    /// A create without a prior; a replace (the delete's operations, then the create's) when a
    /// force-new attribute changes; else what `in_place` makes of the prior and the diff.
    pub fn plan(
        &self,
        prior: Option<&Value>,
        desired: &Value,
        in_place: impl FnOnce(&Value, Diff) -> PlannedChange,
    ) -> PlannedChange {
        let diff = attributes(&self.block, prior, desired, self.same);
        let Some(prior) = prior else {
            let operations = (self.create_operations)(desired);
            return PlannedChange {
                operations,
                ..PlannedChange::new(Action::Create, diff.planned)
            };
        };
        let forced = diff.forces_replacement(&self.block);
        if forced.is_empty() {
            return in_place(prior, diff);
        }
        let mut operations = (self.delete_operations)(prior);
        operations.extend((self.create_operations)(desired));
        let planned = attributes(&self.block, None, desired, self.same).planned;
        PlannedChange {
            operations,
            replace_because: forced,
            ..PlannedChange::new(Action::Replace, planned)
        }
    }
}

/// A deletion that runs `operation`.
pub fn deletion(operation: String) -> PlannedChange {
    PlannedChange {
        operations: vec![operation],
        ..PlannedChange::new(Action::Delete, Value::Null)
    }
}

/// An in-place plan: an update when there is something to run, else no change.
pub fn finish(planned: Value, operations: Vec<String>) -> PlannedChange {
    let action = if operations.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    PlannedChange {
        operations,
        ..PlannedChange::new(action, planned)
    }
}

/// `desired` with `key` set to `default` when the configuration leaves it null.
pub fn with_default(desired: &Value, key: &str, default: Value) -> Value {
    let mut value = desired.clone();
    if value.get(key).is_none_or(Value::is_null) {
        value.set(key, default);
    }
    value
}

/// A value as a plan line shows it: strings bare, unknowns as "(known after apply)".
pub fn show(value: &Value) -> String {
    match value {
        Value::Unknown => "(known after apply)".to_owned(),
        Value::Null => "null".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use strata_provider_sdk::{Attribute, Type};

    use super::*;

    fn block() -> Block {
        Block::new()
            .attribute("name", Attribute::required(Type::String).force_new())
            .attribute("port", Attribute::optional_computed(Type::Number))
            .attribute("note", Attribute::optional(Type::String))
            .attribute("arn", Attribute::computed(Type::String))
    }

    #[test]
    fn unset_optional_computed_takes_live_and_computed_stays() {
        let prior = Value::object([
            ("name", Value::from("a")),
            ("port", Value::int(5432)),
            ("note", Value::Null),
            ("arn", Value::from("arn:x")),
        ]);
        let desired = Value::object([
            ("name", Value::from("b")),
            ("port", Value::Null),
            ("note", Value::Null),
            ("arn", Value::Null),
        ]);
        let diff = attributes(&block(), Some(&prior), &desired, |_, a, b| a == b);
        assert_eq!(diff.changes.len(), 1);
        assert_eq!(diff.forces_replacement(&block()), vec!["name".to_owned()]);
        assert_eq!(diff.planned.get("port"), Some(&Value::int(5432)));
        assert_eq!(diff.planned.get("arn"), Some(&Value::from("arn:x")));
    }

    #[test]
    fn create_leaves_computed_unknown() {
        let desired = Value::object([("name", Value::from("a")), ("port", Value::Null)]);
        let diff = attributes(&block(), None, &desired, |_, a, b| a == b);
        assert_eq!(diff.planned.get("port"), Some(&Value::Unknown));
        assert_eq!(diff.planned.get("note"), Some(&Value::Null));
    }
}
