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

/// Remembers the values of sensitive (and ephemeral) variables for [`redact`].
pub fn register(config: &Config, values: &BTreeMap<String, Value>) {
    remember(config.variables.values().filter(|v| v.sensitive || v.ephemeral).filter_map(|v| values.get(&v.name)).flat_map(strings_in));
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

/// Remembers the password in a PostgreSQL connection string (`password=...`, or the one in
/// `postgres://user:password@host/db`), as written and percent-decoded. Lenient on purpose: a
/// malformed string is the one most likely to end up quoted in an error, so its password is found
/// without parsing the string properly.
pub fn remember_conn_str(conn_str: &str) {
    let written = conn_str_passwords(conn_str);
    let decoded: Vec<String> = written.iter().filter_map(|p| percent_decoded(p)).collect();
    remember(written.into_iter().chain(decoded));
}

fn conn_str_passwords(conn_str: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(rest) = conn_str.strip_prefix("postgresql://").or_else(|| conn_str.strip_prefix("postgres://")) {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((_, password)) = authority.rsplit_once('@').and_then(|(userinfo, _)| userinfo.split_once(':')) {
            found.push(password.to_owned());
        }
    }
    // `password=...` as a keyword/value pair, or as a parameter of a URL's query string.
    for (at, key) in conn_str.match_indices("password") {
        let Some(value) = conn_str[at + key.len()..].trim_start().strip_prefix('=') else { continue };
        let value = value.trim_start();
        match value.strip_prefix('\'') {
            Some(quoted) => found.extend(single_quoted(quoted)),
            None => found.push(value.split(|c: char| c.is_whitespace() || c == '&').next().unwrap_or_default().to_owned()),
        }
    }
    found
}

/// A libpq single-quoted value (after its opening quote): as written and with `\'` and `\\` unescaped.
fn single_quoted(text: &str) -> [String; 2] {
    let (mut written, mut value, mut chars) = (String::new(), String::new(), text.chars());
    while let Some(c) = chars.next() {
        match c {
            '\'' => break,
            '\\' => {
                written.push(c);
                if let Some(escaped) = chars.next() {
                    written.push(escaped);
                    value.push(escaped);
                }
            }
            _ => {
                written.push(c);
                value.push(c);
            }
        }
    }
    [written, value]
}

/// `text` with `%XX` escapes decoded, when it has any and they decode to UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten().and_then(|h| u8::from_str_radix(h, 16).ok());
        let (byte, width) = hex.map_or((bytes[i], 1), |byte| (byte, 3));
        out.push(byte);
        i += width;
    }
    String::from_utf8(out).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_strings_password_is_found_in_every_spelling() {
        assert_eq!(conn_str_passwords("host=db password=s3cr3t dbname=x"), ["s3cr3t"]);
        assert_eq!(conn_str_passwords("host=db password = 'it\\'s' dbname=x"), ["it\\'s", "it's"]);
        assert_eq!(conn_str_passwords("postgres://app:p%40ss@db:5432/x?sslmode=bogus"), ["p%40ss"]);
        assert_eq!(conn_str_passwords("postgresql://db/x?user=app&password=q1w2e3&sslmode=require"), ["q1w2e3"]);
        assert!(conn_str_passwords("host=db user=app dbname=x").is_empty());
        assert_eq!(percent_decoded("p%40ss").as_deref(), Some("p@ss"));
        assert_eq!(percent_decoded("100%"), Some("100%".to_owned()));
    }
}
