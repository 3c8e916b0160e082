//! Keeping secrets out of everything strata prints or writes, except the state.
//!
//! Masking by attribute (`sensitive = true` on variables and schema attributes) covers values
//! where they appear as themselves. A secret can also travel inside text a provider produced (a
//! SQL statement, an error message), so every such text passes through [`redact`], which replaces
//! any registered secret with `(sensitive value)`. Registration happens when variable values are
//! read (as given, so an error about a bad value cannot show it) and again once they are converted.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use strata_provider_sdk::Value;

use crate::config::Config;

pub const MASK: &str = "(sensitive value)";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Secrets shorter than this are not redacted from free text: masking "1" everywhere would
/// garble output without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Remembers the values of sensitive variables for [`redact`].
pub fn register(config: &Config, values: &BTreeMap<String, Value>) {
    remember(config.variables.values().filter(|v| v.sensitive).filter_map(|v| values.get(&v.name)).flat_map(strings_in));
}

/// Adds secrets for [`redact`]. Variable values are remembered as given too, before conversion,
/// because a value that fails to convert to its type ends up in the error that says so.
pub fn remember(secrets: impl IntoIterator<Item = String>) {
    let mut known = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    known.extend(secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_LEN));
    // Longest first, so a secret that contains another is masked whole.
    known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    known.dedup();
}

pub(crate) fn strings_in(value: &Value) -> Vec<String> {
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
    for secret in SECRETS.read().unwrap_or_else(PoisonError::into_inner).iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}
