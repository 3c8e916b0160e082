//! Resource tags, the same for RDS and EC2: a `map(string)` attribute, compared as a map (null and
//! empty alike), and the add/remove sets an update needs.
//!
//! Owns no API calls: each resource module turns a [`TagChange`] into its service's requests
//! (RDS ones live in `rds_tags`; EC2's SDK tag type is converted here).

use std::collections::BTreeMap;

use strata_provider_sdk::Value;

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

pub fn to_value(tags: &Tags) -> Value {
    Value::object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
    )
}

pub fn from_ec2(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
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
