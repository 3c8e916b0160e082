//! Keeping the instance password out of every plan, plan file, state and message.
//!
//! A plan and the state hold a fingerprint (`sealed:argon2id:<hex>`) instead of the password: an
//! Argon2id digest salted with the state's own random salt (handed in by the engine), so a state
//! committed somewhere lets nobody guess the password at speed, nor see that two states share one.
//! The provider remembers, in memory only, which password a fingerprint stands for when plan sees
//! it in the configuration; the engine always re-plans just before apply, so apply can turn the
//! fingerprint back into the password. Comparing configuration with state compares fingerprints.
//! States written before the salt keep an unsalted `sealed:sha256:` fingerprint, still recognised,
//! until the next apply that changes the instance records the salted one.
//! Owns nothing else; it must never write a password anywhere.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use strata_provider_sdk::{ProviderError, Value};

const PREFIX: &str = "sealed:argon2id:";
/// Older states' unsalted fingerprints: recognised, never written.
const LEGACY_PREFIX: &str = "sealed:sha256:";
/// OWASP's Argon2id recommendation (19 MiB, 2 passes, 1 lane), as for state passphrases.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const DIGEST_LEN: usize = 32;

/// Passwords seen in this process, by fingerprint, and the state's salt.
#[derive(Debug, Default)]
pub struct Vault {
    known: Mutex<HashMap<String, String>>,
    salt: Mutex<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn legacy_fingerprint(password: &str) -> String {
    let digest = Sha256::digest(format!("strata-aws-password\0{password}").as_bytes());
    format!("{LEGACY_PREFIX}{}", hex(&digest))
}

/// The salted fingerprint; the domain prefix also keeps the salt longer than Argon2's minimum.
fn fingerprint(password: &str, salt: &str) -> Result<String, ProviderError> {
    let failed = |err: argon2::Error| ProviderError::new(format!("cannot fingerprint the password: {err}"));
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, Some(DIGEST_LEN)).map_err(failed)?;
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut digest = [0u8; DIGEST_LEN];
    argon2
        .hash_password_into(password.as_bytes(), format!("strata-aws-password:{salt}").as_bytes(), &mut digest)
        .map_err(failed)?;
    Ok(format!("{PREFIX}{}", hex(&digest)))
}

fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX) || value.starts_with(LEGACY_PREFIX)
}

/// Whether a stored fingerprint and a configured one (sealed by [`Vault::sealed_against`]) are
/// the same. A password state never held (an imported instance: AWS cannot say) is not known to
/// differ.
pub fn same(stored: &Value, configured: &Value) -> bool {
    stored.is_null() || stored == configured
}

impl Vault {
    /// Salt fingerprints from now on with the state's `salt`.
    pub fn use_salt(&self, salt: &str) {
        salt.clone_into(&mut self.salt.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    }

    /// Remembers the plain password at `key` of `value`, if there is one; returns its
    /// fingerprint under the state's salt.
    pub fn remember(&self, value: &Value, key: &str) -> Result<Option<String>, ProviderError> {
        let Some(password) = value.get_str(key).filter(|p| !is_sealed(p)) else {
            return Ok(None);
        };
        let salt = self.salt.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let sealed = fingerprint(password, &salt)?;
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(sealed.clone(), password.to_owned());
        Ok(Some(sealed))
    }

    /// `desired` with its plain password at `key` sealed the way `prior` holds it: unsalted when
    /// `prior` has an older state's fingerprint of this very password (so it stays unchanged),
    /// salted otherwise.
    pub fn sealed_against(&self, prior: Option<&Value>, desired: &Value, key: &str) -> Result<Value, ProviderError> {
        let mut sealed = desired.clone();
        let Some(password) = desired.get_str(key).filter(|p| !is_sealed(p)) else {
            return Ok(sealed);
        };
        let legacy = legacy_fingerprint(password);
        if prior.and_then(|p| p.get_str(key)) == Some(legacy.as_str()) {
            self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(legacy.clone(), password.to_owned());
            sealed.set(key, Value::String(legacy));
            return Ok(sealed);
        }
        self.seal(&mut sealed, key)?;
        Ok(sealed)
    }

    /// `value` with the password at `key` replaced by its fingerprint, remembering it.
    pub fn seal(&self, value: &mut Value, key: &str) -> Result<(), ProviderError> {
        if let Some(sealed) = self.remember(value, key)? {
            value.set(key, Value::String(sealed));
        }
        Ok(())
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
            .known
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

    fn salted(salt: &str) -> Vault {
        let vault = Vault::default();
        vault.use_salt(salt);
        vault
    }

    #[test]
    fn seal_then_open_round_trips_and_compares() {
        let vault = salted("0123456789abcdef0123456789abcdef");
        let mut value = Value::object([("password", Value::from("hunter2hunter2"))]);
        vault.seal(&mut value, "password").unwrap();
        assert!(!format!("{value:?}").contains("hunter2"));
        let stored = value.get("password").cloned().unwrap_or_default();
        let configured = Value::object([("password", Value::from("hunter2hunter2"))]);
        let resealed = vault.sealed_against(Some(&value), &configured, "password").unwrap();
        assert!(same(&stored, resealed.get("password").unwrap_or(&Value::Null)));
        vault.seal(&mut value, "password").unwrap();
        assert!(vault.open(&mut value, "password").is_ok());
        assert_eq!(value.get_str("password"), Some("hunter2hunter2"));
        let mut foreign = Value::object([("password", Value::from(fingerprint("other", "").unwrap()))]);
        assert!(Vault::default().open(&mut foreign, "password").is_err());
    }

    #[test]
    fn the_same_password_under_two_salts_gives_two_fingerprints() {
        let (a, b) = (fingerprint("hunter2hunter2", "aa").unwrap(), fingerprint("hunter2hunter2", "bb").unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && !a.contains(&legacy_fingerprint("hunter2hunter2")[LEGACY_PREFIX.len()..]));
    }

    #[test]
    fn an_older_states_unsalted_fingerprint_of_the_same_password_stays_unchanged() {
        let vault = salted("0123456789abcdef0123456789abcdef");
        let prior = Value::object([("password", Value::from(legacy_fingerprint("hunter2hunter2")))]);
        let same_password = vault.sealed_against(Some(&prior), &Value::object([("password", Value::from("hunter2hunter2"))]), "password").unwrap();
        assert_eq!(same_password.get("password"), prior.get("password"));
        let mut opened = same_password.clone();
        assert!(vault.open(&mut opened, "password").is_ok());
        let changed = vault.sealed_against(Some(&prior), &Value::object([("password", Value::from("another-password"))]), "password").unwrap();
        assert!(changed.get_str("password").is_some_and(|p| p.starts_with(PREFIX)));
    }
}
