//! Resource tags, the same for RDS and EC2: a `map(string)` attribute, compared as a map (null and
//! empty alike), and the add/remove sets an update needs.
//!
//! Owns no API calls: each resource module turns a [`TagChange`] into its service's requests
//! (RDS ones live in `rds_tags`; EC2's SDK tag type is converted here). Also owns the authorship
//! tag ([`INTENT_TAG`]): every create call sets it, and it is hidden from what is read back, so it
//! never shows in state, diffs or drift (and is never planned for removal).

use std::collections::BTreeMap;

use strata_provider_sdk::{Authorship, Value, INTENT_TAG};

pub type Tags = BTreeMap<String, String>;

/// The tags in a `tags` value; null reads as none, non-string values are skipped.
pub fn from_value(value: &Value) -> Tags {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The tags a create call sets: the configured ones, plus the intent's id as proof that this
/// create made the object (see `strata_provider_sdk::authorship`).
pub fn for_create(desired: &Value, authorship: Option<&Authorship>) -> Tags {
    let mut tags = from_value(desired.get("tags").unwrap_or(&Value::Null));
    if let Some(authorship) = authorship {
        tags.insert(INTENT_TAG.to_owned(), authorship.intent_id.clone());
    }
    tags
}

/// Whether tags read raw from AWS carry the mark of the intent `intent_id`.
pub fn marked_by<'a>(mut raw: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>, intent_id: &str) -> bool {
    !intent_id.is_empty() && raw.any(|(key, value)| key == Some(INTENT_TAG) && value == Some(intent_id))
}

pub fn to_value(tags: &Tags) -> Value {
    Value::object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
    )
}

/// Tags as configured: without the authorship tag.
pub fn from_ec2(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter(|t| t.key() != Some(INTENT_TAG))
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub fn to_ec2(tags: &Tags) -> Vec<aws_sdk_ec2::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// Equality as tags: `null` and `{}` are the same.
pub fn same(a: &Value, b: &Value) -> bool {
    from_value(a) == from_value(b)
}

/// Equality of an attribute of a type whose only attribute with its own equality is `tags`.
pub fn same_attribute(name: &str, live: &Value, wanted: &Value) -> bool {
    match name {
        "tags" => same(live, wanted),
        _ => crate::diff::equal(live, wanted),
    }
}

/// What must change to go from one tag set to another.
#[derive(Debug, Default, PartialEq)]
pub struct TagChange {
    /// New or changed tags.
    pub set: Tags,
    /// Keys to remove.
    pub remove: Vec<String>,
}

impl TagChange {
    pub fn between(prior: &Value, desired: &Value) -> TagChange {
        let (prior, desired) = (from_value(prior), from_value(desired));
        TagChange {
            set: desired
                .iter()
                .filter(|(k, v)| prior.get(*k) != Some(v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove: prior
                .keys()
                .filter(|k| !desired.contains_key(*k))
                .cloned()
                .collect(),
        }
    }

    /// The plan's lines: `<add_call> <target>: k1, k2` and `<remove_call> <target>: k3`.
    pub fn operations(&self, add_call: &str, remove_call: &str, target: &str) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.set.is_empty() {
            let keys: Vec<&str> = self.set.keys().map(String::as_str).collect();
            lines.push(format!("{add_call} {target}: {}", keys.join(", ")));
        }
        if !self.remove.is_empty() {
            lines.push(format!(
                "{remove_call} {target}: {}",
                self.remove.join(", ")
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_sets_and_removes() {
        let prior = Value::object([("a", Value::from("1")), ("b", Value::from("2"))]);
        let desired = Value::object([("a", Value::from("1")), ("c", Value::from("3"))]);
        let change = TagChange::between(&prior, &desired);
        assert_eq!(change.set, Tags::from([("c".to_owned(), "3".to_owned())]));
        assert_eq!(change.remove, vec!["b".to_owned()]);
        assert!(same(&Value::Null, &Value::object::<String>([])));
    }
}
