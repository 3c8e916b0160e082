//! State encryption at rest: sealing the state's bytes before they are stored and opening them
//! after they are read, for every backend alike.
//!
//! Owns the key (from the `strata { encryption { ... } }` settings and the environment variable
//! they name) and the sealed format: a small JSON envelope holding AES-256-GCM ciphertext, its
//! nonce and, for a passphrase, the Argon2id salt and parameters. It must not know where the bytes
//! are stored or what is in them, and it never puts a key or passphrase into a message.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::{EncryptionSettings, KeySource, Settings};
use crate::diag::{Diagnostic, Result};

/// The envelope format; its field `strata_sealed_state` is what tells a sealed state from a plain one.
const FORMAT: u32 = 1;
const ALGORITHM: &str = "AES-256-GCM";
/// Bound into every ciphertext, so bytes sealed for something else never open as a state.
const ASSOCIATED_DATA: &[u8] = b"strata state v1";
const KEY_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// Argon2id parameters for new seals (OWASP's recommendation: 19 MiB, 2 passes, 1 lane).
const ARGON2_PARAMS: Argon2Params = Argon2Params { m_cost: 19 * 1024, t_cost: 2, p_cost: 1 };
/// The most work a stored envelope may ask for, so a crafted file cannot make opening it hang.
const ARGON2_LIMITS: Argon2Params = Argon2Params { m_cost: 256 * 1024, t_cost: 8, p_cost: 8 };

type Key = Zeroizing<[u8; KEY_LEN]>;

/// The key state is sealed with, when the configuration asks for encryption.
pub struct Encryption {
    secret: Secret,
}

enum Secret {
    /// A key given as is: `key_env`.
    Key(Key),
    /// A passphrase: each seal uses `sealing_key`, derived once per run with a fresh salt; opening
    /// derives again with the salt stored in the envelope.
    Passphrase { passphrase: Zeroizing<String>, salt: [u8; SALT_LEN], sealing_key: Key },
}

/// The sealed form, as stored.
#[derive(Serialize, Deserialize)]
struct Envelope {
    strata_sealed_state: u32,
    algorithm: String,
    kdf: Kdf,
    nonce: String,
    ciphertext: String,
}

/// How the key was made: given as is, or derived from a passphrase.
#[derive(Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
enum Kdf {
    None,
    Argon2id {
        #[serde(flatten)]
        params: Argon2Params,
        salt: String,
    },
}

#[derive(Clone, Copy, Serialize, Deserialize)]
struct Argon2Params {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
}

impl Encryption {
    /// The encryption the settings ask for, or `None` when they ask for none. Fails when the
    /// environment variable they name is missing or does not hold a usable key.
    pub fn from_settings(settings: &Settings) -> Result<Option<Encryption>> {
        Encryption::from_settings_with(settings, &|name| std::env::var(name))
    }

    /// `from_settings`, reading the named variable through `lookup`: unit tests pass their own, so
    /// that they never change the environment of the process their neighbours run in.
    pub(crate) fn from_settings_with(settings: &Settings, lookup: &dyn Fn(&str) -> std::result::Result<String, std::env::VarError>) -> Result<Option<Encryption>> {
        let Some(encryption) = &settings.encryption else { return Ok(None) };
        let secret = match &encryption.key_source {
            KeySource::KeyEnv(name) => Secret::Key(parse_key(&env_secret(name, encryption, lookup)?, name, encryption)?),
            KeySource::PassphraseEnv(name) => {
                let passphrase = env_secret(name, encryption, lookup)?;
                let salt = random_salt();
                let sealing_key = derive_key(&passphrase, &salt, ARGON2_PARAMS)?;
                Secret::Passphrase { passphrase, salt, sealing_key }
            }
        };
        Ok(Some(Encryption { secret }))
    }

    /// The stored form of `plain`: an envelope with a fresh nonce, so no two seals look alike.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let mut text = serde_json::to_vec_pretty(&self.envelope(plain)?).map_err(|err| Diagnostic::error(format!("cannot encode the sealed state: {err}")))?;
        text.push(b'\n');
        Ok(text)
    }

    /// As [`seal`](Self::seal), on one line (a journal record).
    pub fn seal_line(&self, plain: &[u8]) -> Result<Vec<u8>> {
        serde_json::to_vec(&self.envelope(plain)?).map_err(|err| Diagnostic::error(format!("cannot encode the sealed state: {err}")).into())
    }

    fn envelope(&self, plain: &[u8]) -> Result<Envelope> {
        let (key, kdf) = match &self.secret {
            Secret::Key(key) => (key, Kdf::None),
            Secret::Passphrase { salt, sealing_key, .. } => (sealing_key, Kdf::Argon2id { params: ARGON2_PARAMS, salt: BASE64.encode(salt) }),
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher(key)
            .encrypt(&nonce, Payload { msg: plain, aad: ASSOCIATED_DATA })
            .map_err(|_| Diagnostic::error("cannot encrypt the state").hint("this is a bug in strata; the state was not written"))?;
        Ok(Envelope {
            strata_sealed_state: FORMAT,
            algorithm: ALGORITHM.to_owned(),
            kdf,
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        })
    }

    /// The key that opens an envelope made with `kdf`.
    fn key_for(&self, kdf: &Kdf, origin: &str) -> Result<Key> {
        match (&self.secret, kdf) {
            (Secret::Key(key), Kdf::None) => Ok(key.clone()),
            (Secret::Passphrase { passphrase, salt, sealing_key }, Kdf::Argon2id { params, salt: stored_salt }) => {
                let stored_salt = decode_field(stored_salt, "kdf.salt", origin)?;
                if stored_salt == salt.as_slice() {
                    return Ok(sealing_key.clone());
                }
                check_limits(*params, origin)?;
                derive_key(passphrase, &stored_salt, *params)
            }
            (Secret::Key(_), Kdf::Argon2id { .. }) => Err(mismatch(origin, "a passphrase", "key_env", "passphrase_env")),
            (Secret::Passphrase { .. }, Kdf::None) => Err(mismatch(origin, "a key", "passphrase_env", "key_env")),
        }
    }
}

/// The plain bytes of a stored state: sealed states are opened with `encryption`, plain ones pass
/// through (so turning encryption on reads the old plain state, and the next write seals it).
/// `origin` names where the bytes came from ("the state file strata.state.json"), for messages.
pub fn open(stored: &[u8], encryption: Option<&Encryption>, origin: &str) -> Result<Vec<u8>> {
    let Some(envelope) = envelope_in(stored, origin)? else { return Ok(stored.to_vec()) };
    let Some(encryption) = encryption else {
        let setting = match envelope.kdf {
            Kdf::None => "key_env = \"STRATA_STATE_KEY\"",
            Kdf::Argon2id { .. } => "passphrase_env = \"NAME\"",
        };
        return Err(Diagnostic::error(format!("{origin} is encrypted; set STRATA_STATE_KEY"))
            .detail("the configuration has no strata { encryption { ... } } block, so strata has no key to open it with")
            .hint(format!("add strata {{ encryption {{ {setting} }} }} and export that variable with the key the state was sealed with"))
            .into());
    };
    if envelope.algorithm != ALGORITHM {
        return Err(damaged(origin, &format!("unknown algorithm \"{}\"", envelope.algorithm)));
    }
    let key = encryption.key_for(&envelope.kdf, origin)?;
    let nonce = decode_field(&envelope.nonce, "nonce", origin)?;
    if nonce.len() != 12 {
        return Err(damaged(origin, "the nonce is not 12 bytes"));
    }
    let ciphertext = decode_field(&envelope.ciphertext, "ciphertext", origin)?;
    cipher(&key).decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: ASSOCIATED_DATA }).map_err(|_| {
        Diagnostic::error(format!("cannot decrypt {origin}: wrong key"))
            .detail("the key (or passphrase) does not match the one the state was sealed with, or the file was altered")
            .hint("set the variable named in strata { encryption { ... } } to the key used when the state was written; nothing was changed")
            .into()
    })
}

/// Whether `stored` is sealed (a damaged envelope counts: it is not plain text either).
pub fn is_sealed(stored: &[u8]) -> bool {
    !matches!(envelope_in(stored, "the state"), Ok(None))
}

/// The envelope in `stored`, `None` for anything else (a plain state, or bytes that are not JSON
/// at all, which the state reader reports); an envelope with missing or wrong fields is an error.
fn envelope_in(stored: &[u8], origin: &str) -> Result<Option<Envelope>> {
    /// Only the marker: a plain state is skimmed, not built into a value.
    #[derive(Deserialize)]
    struct Marker {
        strata_sealed_state: Option<serde_json::Value>,
    }
    let Ok(marker) = serde_json::from_slice::<Marker>(stored) else { return Ok(None) };
    match marker.strata_sealed_state {
        None => Ok(None),
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(FORMAT)) => {
            serde_json::from_slice(stored).map(Some).map_err(|err| damaged(origin, &err.to_string()))
        }
        Some(other) => Err(Diagnostic::error(format!("{origin} is sealed in format {other}, this strata reads format {FORMAT}"))
            .hint("use the strata version that wrote it")
            .into()),
    }
}

fn cipher(key: &Key) -> Aes256Gcm {
    Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(key.as_slice()))
}

/// The value of the environment variable `name`, or an error saying how to set it (never what it holds).
fn env_secret(name: &str, settings: &EncryptionSettings, lookup: &dyn Fn(&str) -> std::result::Result<String, std::env::VarError>) -> Result<Zeroizing<String>> {
    let value = match lookup(name) {
        Ok(value) => Zeroizing::new(value),
        Err(std::env::VarError::NotPresent) => {
            return Err(Diagnostic::error(format!("the state is encrypted; set {name}"))
                .at(Some(&settings.location))
                .detail(format!("strata {{ encryption {{ ... }} }} names the environment variable {name}, which is not set"))
                .hint(key_hint(name, settings))
                .into())
        }
        Err(std::env::VarError::NotUnicode(_)) => return Err(malformed(name, settings, "it is not valid UTF-8")),
    };
    if value.trim().is_empty() {
        return Err(malformed(name, settings, "it is empty"));
    }
    Ok(value)
}

/// A 32-byte key written as 64 hex digits or as base64.
fn parse_key(text: &str, name: &str, settings: &EncryptionSettings) -> Result<Key> {
    let text = text.trim();
    let bytes = Zeroizing::new(if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).unwrap_or_default()
    } else {
        BASE64.decode(text).map_err(|_| malformed(name, settings, "it is neither 64 hex digits nor base64"))?
    });
    let key: [u8; KEY_LEN] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| malformed(name, settings, &format!("it decodes to {} bytes, a key has {KEY_LEN}", bytes.len())))?;
    Ok(Zeroizing::new(key))
}

/// A fresh random salt for [`salted_digest`].
pub fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

/// The Argon2id digest of `secret` under `salt`, in hex: slow to compute, so a stored digest does
/// not let anyone guess the secret offline at speed, and salted, so equal secrets differ.
pub fn salted_digest(secret: &str, salt: &[u8]) -> Result<String> {
    Ok(hex::encode(derive_key(secret, salt, ARGON2_PARAMS)?.as_ref()))
}

fn derive_key(passphrase: &str, salt: &[u8], params: Argon2Params) -> Result<Key> {
    let invalid = |err: argon2::Error| Diagnostic::error(format!("cannot derive the state key from the passphrase: {err}"));
    let argon2_params = argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(KEY_LEN)).map_err(invalid)?;
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon2_params);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    argon2.hash_password_into(passphrase.as_bytes(), salt, key.as_mut()).map_err(invalid)?;
    Ok(key)
}

fn check_limits(params: Argon2Params, origin: &str) -> Result<()> {
    let within = params.m_cost <= ARGON2_LIMITS.m_cost && params.t_cost <= ARGON2_LIMITS.t_cost && params.p_cost <= ARGON2_LIMITS.p_cost;
    if within {
        return Ok(());
    }
    Err(damaged(origin, &format!("its Argon2id parameters (m={}, t={}, p={}) exceed what strata accepts", params.m_cost, params.t_cost, params.p_cost)))
}

fn decode_field(text: &str, field: &str, origin: &str) -> Result<Vec<u8>> {
    BASE64.decode(text).map_err(|_| damaged(origin, &format!("\"{field}\" is not base64")))
}

fn key_hint(name: &str, settings: &EncryptionSettings) -> String {
    match settings.key_source {
        KeySource::KeyEnv(_) => format!("export {name} with the state's 32-byte key as base64 or hex (a new one: `openssl rand -base64 32`); keep it out of the .tf files"),
        KeySource::PassphraseEnv(_) => format!("export {name} with the state's passphrase; keep it out of the .tf files"),
    }
}

fn malformed(name: &str, settings: &EncryptionSettings, why: &str) -> crate::diag::Diagnostics {
    Diagnostic::error(format!("the environment variable {name} does not hold a usable state key: {why}"))
        .at(Some(&settings.location))
        .hint(key_hint(name, settings))
        .into()
}

fn mismatch(origin: &str, sealed_with: &str, configured: &str, needed: &str) -> crate::diag::Diagnostics {
    Diagnostic::error(format!("cannot decrypt {origin}: wrong key"))
        .detail(format!("the state was sealed with {sealed_with}, but the configuration sets {configured}"))
        .hint(format!("use {needed} in strata {{ encryption {{ ... }} }}, as when the state was written"))
        .into()
}

fn damaged(origin: &str, why: &str) -> crate::diag::Diagnostics {
    Diagnostic::error(format!("{origin} is encrypted but damaged: {why}"))
        .hint(super::store::RESTORE_HINT)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Location;

    /// Environment variables are process-wide: each test uses its own name.
    fn settings(source: KeySource) -> Settings {
        let location = Location { file: std::sync::Arc::from(std::path::Path::new("main.tf")), line: 3, column: 3 };
        Settings { encryption: Some(EncryptionSettings { key_source: source, location }), ..Settings::default() }
    }

    /// The encryption `source` gives when its variable holds `value` (never set in the process).
    fn from_variable(source: KeySource, value: &str) -> Result<Option<Encryption>> {
        Encryption::from_settings_with(&settings(source), &|_| Ok(value.to_owned()))
    }

    fn with_key(var: &str, value: &str) -> Encryption {
        from_variable(KeySource::KeyEnv(var.to_owned()), value).expect("valid key").expect("encryption on")
    }

    fn with_passphrase(var: &str, value: &str) -> Encryption {
        from_variable(KeySource::PassphraseEnv(var.to_owned()), value).expect("valid passphrase").expect("encryption on")
    }

    fn message(errors: crate::diag::Diagnostics) -> String {
        errors.0.iter().map(|d| format!("{} | {} | {}", d.summary, d.detail.clone().unwrap_or_default(), d.hint.clone().unwrap_or_default())).collect()
    }

    const PLAIN: &[u8] = b"{\"format_version\": 1, \"resources\": [{\"name\": \"customer_secrets\"}]}";
    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_journal_record_is_sealed_on_one_line_and_opens_as_it_was() {
        let encryption = with_key("STRATA_TEST_JOURNAL_KEY", HEX_KEY);
        let line = encryption.seal_line(PLAIN).unwrap();
        assert!(!line.contains(&b'\n'), "one line: {}", String::from_utf8_lossy(&line));
        assert!(!String::from_utf8_lossy(&line).contains("customer_secrets"));
        assert_eq!(open(&line, Some(&encryption), "the journal").unwrap(), PLAIN);
    }

    #[test]
    fn sealed_state_hides_its_content_and_opens_with_the_key() {
        let encryption = with_key("STRATA_T_ROUNDTRIP", HEX_KEY);
        let sealed = encryption.seal(PLAIN).unwrap();
        let text = String::from_utf8(sealed.clone()).unwrap();
        assert!(!text.contains("customer_secrets") && !text.contains("format_version"), "{text}");
        assert!(text.contains("strata_sealed_state") && text.contains(ALGORITHM));
        assert_ne!(encryption.seal(PLAIN).unwrap(), sealed, "every seal uses a fresh nonce");
        assert_eq!(open(&sealed, Some(&encryption), "strata.state.json").unwrap(), PLAIN);
    }

    #[test]
    fn base64_and_hex_spell_the_same_key() {
        let hex = with_key("STRATA_T_HEX", HEX_KEY);
        let base64 = with_key("STRATA_T_B64", &format!("{}\n", BASE64.encode(hex::decode(HEX_KEY).unwrap())));
        assert_eq!(open(&hex.seal(PLAIN).unwrap(), Some(&base64), "s").unwrap(), PLAIN);
    }

    #[test]
    fn plain_state_passes_through_with_or_without_a_key() {
        let encryption = with_key("STRATA_T_PLAIN", HEX_KEY);
        assert_eq!(open(PLAIN, Some(&encryption), "s").unwrap(), PLAIN);
        assert_eq!(open(PLAIN, None, "s").unwrap(), PLAIN);
        assert_eq!(open(b"not json", None, "s").unwrap(), b"not json");
    }

    #[test]
    fn sealed_state_without_a_key_says_which_setting_opens_it() {
        let sealed = with_key("STRATA_T_NOKEY", HEX_KEY).seal(PLAIN).unwrap();
        let text = message(open(&sealed, None, "the state file strata.state.json").unwrap_err());
        assert!(text.contains("the state file strata.state.json is encrypted; set STRATA_STATE_KEY"), "{text}");
        assert!(text.contains("key_env"), "{text}");
    }

    #[test]
    fn wrong_key_is_named_and_never_printed() {
        let sealed = with_key("STRATA_T_RIGHT", HEX_KEY).seal(PLAIN).unwrap();
        let wrong_key = "ff".repeat(KEY_LEN);
        let text = message(open(&sealed, Some(&with_key("STRATA_T_WRONG", &wrong_key)), "the state file strata.state.json").unwrap_err());
        assert!(text.contains("cannot decrypt the state file strata.state.json: wrong key"), "{text}");
        assert!(!text.contains(&wrong_key) && !text.contains(HEX_KEY), "{text}");
    }

    #[test]
    fn missing_or_malformed_key_variables_are_errors_without_the_value() {
        let unset = Encryption::from_settings_with(&settings(KeySource::KeyEnv("STRATA_T_UNSET".into())), &|_| Err(std::env::VarError::NotPresent));
        let missing = message(unset.err().unwrap());
        assert!(missing.contains("the state is encrypted; set STRATA_T_UNSET"), "{missing}");
        for (var, value, why) in [("STRATA_T_SHORT", "abcd1234", "decodes to 6 bytes"), ("STRATA_T_JUNK", "not a key!", "neither 64 hex digits nor base64")] {
            let text = message(from_variable(KeySource::KeyEnv(var.to_owned()), value).err().unwrap());
            assert!(text.contains(why) && text.contains(var), "{text}");
            assert!(!text.contains(value), "{text}");
        }
    }

    #[test]
    fn passphrase_seals_with_a_stored_salt_and_opens_in_a_later_run() {
        let first_run = with_passphrase("STRATA_T_PASS", "correct horse battery staple");
        let sealed = first_run.seal(PLAIN).unwrap();
        assert!(String::from_utf8_lossy(&sealed).contains("argon2id"));
        let later_run = with_passphrase("STRATA_T_PASS", "correct horse battery staple");
        assert_eq!(open(&sealed, Some(&later_run), "s").unwrap(), PLAIN);
        let other = with_passphrase("STRATA_T_PASS2", "another passphrase");
        assert!(message(open(&sealed, Some(&other), "s").unwrap_err()).contains("wrong key"));
        assert!(message(open(&sealed, Some(&with_key("STRATA_T_KEYFORPASS", HEX_KEY)), "s").unwrap_err()).contains("sealed with a passphrase"));
    }

    #[test]
    fn tampered_or_hostile_envelopes_are_errors() {
        let encryption = with_key("STRATA_T_TAMPER", HEX_KEY);
        let mut envelope: serde_json::Value = serde_json::from_slice(&encryption.seal(PLAIN).unwrap()).unwrap();
        envelope["nonce"] = "AAAA".into();
        assert!(message(open(envelope.to_string().as_bytes(), Some(&encryption), "s").unwrap_err()).contains("nonce"));
        let greedy = r#"{"strata_sealed_state":1,"algorithm":"AES-256-GCM","kdf":{"name":"argon2id","m_cost":4294967295,"t_cost":1,"p_cost":1,"salt":"AAAA"},"nonce":"","ciphertext":""}"#;
        let passphrase = with_passphrase("STRATA_T_GREEDY", "pass");
        assert!(message(open(greedy.as_bytes(), Some(&passphrase), "s").unwrap_err()).contains("exceed"));
        assert!(message(open(br#"{"strata_sealed_state":7}"#, Some(&encryption), "s").unwrap_err()).contains("format 7"));
        assert!(message(open(br#"{"strata_sealed_state":1}"#, Some(&encryption), "s").unwrap_err()).contains("damaged"));
    }
}
