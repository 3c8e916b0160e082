//! Values exchanged between the engine and providers.
//!
//! A [`Value`] is JSON-shaped, plus [`Value::Unknown`]: a value that only exists once apply has run
//! (an id the server assigns, an attribute of a resource not yet created). Unknown values never reach
//! the state file; `to_json` turns them into `null` and `unknown_mask` says where they were.

use std::collections::BTreeMap;

use serde_json::Number;

/// A configuration or state value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Object(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn int(n: i64) -> Value {
        Value::Number(Number::from(n))
    }

    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Object(map) => map.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The attribute `key` of an object; `None` for other values or a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }

    /// The attribute `key` as a string, treating null and missing alike.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    pub fn get_i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    /// The attribute `key` as a list; null and missing read as empty.
    pub fn get_list(&self, key: &str) -> &[Value] {
        self.get(key).and_then(Value::as_list).unwrap_or(&[])
    }

    /// The strings of the list attribute `key`, skipping anything that is not a string.
    pub fn get_strings(&self, key: &str) -> Vec<String> {
        self.get_list(key).iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    }

    /// Sets `key` on an object value; does nothing on other values.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(map) = self {
            map.insert(key.to_owned(), value);
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Object(_) => "object",
            Value::Unknown => "unknown",
        }
    }

    /// The value with every unknown part made null: what a provider reads from a planned value,
    /// where unknown means "yours to fill in".
    pub fn unknowns_to_null(&self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(items) => Value::List(items.iter().map(Value::unknowns_to_null).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), v.unknowns_to_null())).collect()),
            other => other.clone(),
        }
    }

    /// The kind of the value with its article ("a list", "an object"), for error messages.
    pub fn kind_phrase(&self) -> String {
        match self {
            Value::Null => "null".to_owned(),
            Value::Unknown => "an unknown value".to_owned(),
            Value::Object(_) => "an object".to_owned(),
            other => format!("a {}", other.type_name()),
        }
    }

    /// The JSON form; unknown values become `null` (see [`Value::unknown_mask`]).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(map) => {
                serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Where the value is unknown, in the shape of Terraform's `after_unknown`: `true` at unknown
    /// leaves, containers only where something inside is unknown, `false` for a known leaf.
    pub fn unknown_mask(&self) -> serde_json::Value {
        match self {
            Value::Unknown => serde_json::Value::Bool(true),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Value::unknown_mask).collect()),
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_wholly_known())
                    .map(|(k, v)| (k.clone(), v.unknown_mask()))
                    .collect(),
            ),
            _ => serde_json::Value::Bool(false),
        }
    }

    /// Reads a JSON value back; with `unknown`, the mask made by [`Value::unknown_mask`].
    pub fn from_json_with_mask(json: &serde_json::Value, unknown: Option<&serde_json::Value>) -> Value {
        if unknown.and_then(serde_json::Value::as_bool) == Some(true) {
            return Value::Unknown;
        }
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Value::from_json_with_mask(v, unknown.and_then(|m| m.get(i))))
                    .collect(),
            ),
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_with_mask(v, unknown.and_then(|m| m.get(k)))))
                    .collect(),
            ),
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        Value::from_json_with_mask(json, None)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::int(n)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_mask_round_trips() {
        let value = Value::object([
            ("name", Value::from("users")),
            ("id", Value::Unknown),
            ("columns", Value::List(vec![Value::object([("name", Value::from("id"))])])),
        ]);
        let back = Value::from_json_with_mask(&value.to_json(), Some(&value.unknown_mask()));
        assert_eq!(back, value);
    }
}
