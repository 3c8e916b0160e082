//! Keeping secrets out of everything strata prints or writes, except the state.
//!
//! Masking by attribute (`sensitive = true` on variables and schema attributes) covers values
//! where they appear as themselves. A secret can also travel inside text a provider produced (a
//! SQL statement, an error message), so every such text passes through [`redact`], which replaces
//! any registered secret with `(sensitive value)`. Registration happens once, when variable values
//! are known.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use strata_provider_sdk::Value;

use crate::config::Config;

pub const MASK: &str = "(sensitive value)";

static SECRETS: OnceLock<Vec<String>> = OnceLock::new();

/// Secrets shorter than this are not redacted from free text: masking "1" everywhere would
/// garble output without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Remembers the values of sensitive variables for [`redact`]; later calls change nothing.
pub fn register(config: &Config, values: &BTreeMap<String, Value>) {
    let mut secrets: Vec<String> = config
        .variables
        .values()
        .filter(|v| v.sensitive)
        .filter_map(|v| values.get(&v.name))
        .flat_map(strings_in)
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let _ = SECRETS.set(secrets);
}

fn strings_in(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::List(items) => items.iter().flat_map(strings_in).collect(),
        Value::Object(map) => map.values().flat_map(strings_in).collect(),
        _ => vec![],
    }
}

/// `text` with every registered secret replaced by the mask.
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for secret in SECRETS.get().map(Vec::as_slice).unwrap_or(&[]) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}
