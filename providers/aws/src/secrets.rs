//! Keeping the instance password out of every plan, plan file, state and message.
//!
//! A plan and the state hold a fingerprint (`sealed:sha256:<hex>`) instead of the password. The
//! provider remembers, in memory only, which password a fingerprint stands for when plan sees it
//! in the configuration; the engine always re-plans just before apply, so apply can turn the
//! fingerprint back into the password. Comparing configuration with state compares fingerprints.
//! Owns nothing else; it must never write a password anywhere.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use strata_provider_sdk::{ProviderError, Value};

const PREFIX: &str = "sealed:sha256:";

/// Passwords seen in this process, by fingerprint.
#[derive(Debug, Default)]
pub struct Vault(Mutex<HashMap<String, String>>);

fn fingerprint(password: &str) -> String {
    // A fixed domain prefix, so the digest is not a plain SHA-256 of the password.
    let digest = Sha256::digest(format!("strata-aws-password\0{password}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// Whether a stored (sealed) password and a configured one (plain or sealed) are the same. A
/// password state never held (an imported instance: AWS cannot say) is not known to differ.
pub fn same(stored: &Value, configured: &Value) -> bool {
    match (stored.as_str(), configured.as_str()) {
        _ if stored.is_null() => true,
        (Some(stored), Some(configured)) if !is_sealed(configured) => {
            stored == fingerprint(configured)
        }
        _ => stored == configured,
    }
}

impl Vault {
    /// Remembers the plain password at `key` of `value`, if there is one; returns its
    /// fingerprint.
    pub fn remember(&self, value: &Value, key: &str) -> Option<String> {
        let password = value.get_str(key).filter(|p| !is_sealed(p))?;
        let sealed = fingerprint(password);
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.insert(sealed.clone(), password.to_owned());
        Some(sealed)
    }

    /// `value` with the password at `key` replaced by its fingerprint, remembering it.
    pub fn seal(&self, value: &mut Value, key: &str) {
        if let Some(sealed) = self.remember(value, key) {
            value.set(key, Value::String(sealed));
        }
    }

    /// `value` with the fingerprint at `key` replaced by the password it stands for.
    pub fn open(&self, value: &mut Value, key: &str) -> Result<(), ProviderError> {
        let Some(sealed) = value
            .get_str(key)
            .filter(|p| is_sealed(p))
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&sealed)
            .cloned();
        let password = known.ok_or_else(|| {
            ProviderError::new(format!("the {key} to set is not known to this run"))
                .with_hint("plan and apply again in one run (strata re-plans before applying), with the password in the configuration")
        })?;
        value.set(key, Value::String(password));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_compares() {
        let vault = Vault::default();
        let mut value = Value::object([("password", Value::from("hunter2hunter2"))]);
        vault.seal(&mut value, "password");
        assert!(!format!("{value:?}").contains("hunter2"));
        assert!(same(
            value.get("password").unwrap_or(&Value::Null),
            &Value::from("hunter2hunter2")
        ));
        vault.seal(&mut value, "password");
        assert!(vault.open(&mut value, "password").is_ok());
        assert_eq!(value.get_str("password"), Some("hunter2hunter2"));
        let mut foreign = Value::object([("password", Value::from(fingerprint("other")))]);
        assert!(Vault::default().open(&mut foreign, "password").is_err());
    }
}
