//! Where a backup policy keeps what it writes: a local directory or an S3 bucket and prefix.
//! Policies, drills and `strata restore` go through `Store` and never ask which it is.
//!
//! A policy's id is its destination's locator plus its token (`file:///var/backups/ai_db?policy=TOKEN`,
//! `s3://bucket/prefix/?policy=TOKEN&region=...`), so a drill's `source` finds the backups
//! without reading another resource's state.

mod local;
mod s3;

use std::path::{Path, PathBuf};

use strata_provider_sdk::{ProviderError, Value};

use super::artefacts::{self, Artefact, Manifest};

pub use s3::POLICY_TAG;

/// A destination as the configuration or an id names it; opening it makes a `Store`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Local(PathBuf),
    S3(s3::Location),
}

fn not_an_id(id: &str) -> ProviderError {
    ProviderError::new(format!("\"{id}\" is not the id of a postgres_backup_policy")).with_hint("set source = postgres_backup_policy.NAME.id")
}

impl Destination {
    /// The `destination` block: `path`, or `s3_bucket` with its optional settings.
    pub fn from_block(block: &Value) -> Result<Destination, ProviderError> {
        let text = |key: &str| block.get_str(key).filter(|s| !s.is_empty()).map(str::to_owned);
        match (text("path"), text("s3_bucket")) {
            (Some(_), Some(_)) => Err(ProviderError::new("a destination sets path or s3_bucket, not both").with_hint("use one destination block per place; a policy writes to one")),
            (Some(path), None) => Ok(Destination::Local(super::absolute(Path::new(&path)))),
            (None, Some(bucket)) => {
                s3::Location::check_bucket(&bucket)?;
                let prefix = text("s3_prefix").map(|p| format!("{}/", p.trim_matches('/'))).filter(|p| p != "/").unwrap_or_default();
                Ok(Destination::S3(s3::Location { bucket, prefix, region: text("s3_region"), endpoint: text("s3_endpoint"), path_style: block.get_bool("s3_use_path_style") }))
            }
            (None, None) => Err(ProviderError::new("a backup policy's destination needs a path or an s3_bucket")
                .with_hint("add destination { path = \"/var/backups/NAME\" } or destination { s3_bucket = \"NAME\", s3_prefix = \"ai_db/\" }")),
        }
    }

    /// The policy id for the policy with `token` writing here.
    pub fn id(&self, token: &str) -> String {
        match self {
            Destination::Local(dir) => format!("file://{}?policy={token}", dir.display()),
            Destination::S3(location) => {
                let mut query = form_urlencoded::Serializer::new(String::new());
                query.append_pair("policy", token);
                for (key, value) in [("region", &location.region), ("endpoint", &location.endpoint)] {
                    if let Some(value) = value {
                        query.append_pair(key, value);
                    }
                }
                if let Some(path_style) = location.path_style {
                    query.append_pair("path_style", &path_style.to_string());
                }
                format!("{}?{}", location.url(), query.finish())
            }
        }
    }

    /// The destination and token an id names.
    pub fn parse_id(id: &str) -> Result<(Destination, String), ProviderError> {
        if let Some(rest) = id.strip_prefix("file://") {
            return match rest.rsplit_once("?policy=") {
                Some((dir, token)) if !dir.is_empty() && !token.is_empty() => Ok((Destination::Local(PathBuf::from(dir)), token.to_owned())),
                _ => Err(not_an_id(id)),
            };
        }
        let (place, query) = id.strip_prefix("s3://").and_then(|rest| rest.split_once('?')).ok_or_else(|| not_an_id(id))?;
        let (bucket, prefix) = place.split_once('/').unwrap_or((place, ""));
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let token = get("policy").filter(|t| !t.is_empty()).ok_or_else(|| not_an_id(id))?;
        let path_style = get("path_style").map(|v| v == "true");
        let location = s3::Location { bucket: bucket.to_owned(), prefix: prefix.to_owned(), region: get("region"), endpoint: get("endpoint"), path_style };
        Ok((Destination::S3(location), token))
    }

    /// The destination as people read it: a directory or an `s3://` URL.
    pub fn url(&self) -> String {
        match self {
            Destination::Local(dir) => dir.display().to_string(),
            Destination::S3(location) => location.url(),
        }
    }

    /// Where a backup is dumped before it is kept: in place for a directory, in a temporary
    /// directory (under TMPDIR) for S3.
    pub fn staging_label(&self) -> PathBuf {
        match self {
            Destination::Local(dir) => dir.clone(),
            Destination::S3(_) => PathBuf::from("$TMPDIR"),
        }
    }
}

/// An opened destination.
pub enum Store {
    Local(PathBuf),
    S3(s3::Bucket),
}

/// A directory a backup is dumped into before it is kept; a temporary one is removed when
/// this is dropped.
pub struct Staging {
    pub dir: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

/// A dump readable on this machine; a downloaded copy is removed when this is dropped.
pub struct Fetched {
    pub path: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

fn temporary_dir(what: &str) -> Result<tempfile::TempDir, ProviderError> {
    tempfile::Builder::new().prefix("strata-backup-").tempdir().map_err(|err| {
        ProviderError::new(format!("cannot create a temporary directory to {what}: {err}")).with_hint("set TMPDIR to a directory with room for the dump")
    })
}

impl Store {
    pub async fn open(destination: &Destination) -> Result<Store, ProviderError> {
        Ok(match destination {
            Destination::Local(dir) => Store::Local(dir.clone()),
            Destination::S3(location) => Store::S3(s3::Bucket::open(location).await?),
        })
    }

    /// The backups of the policy with `token`, oldest first.
    pub async fn list(&self, token: &str) -> Result<Vec<Artefact>, ProviderError> {
        let mut found = match self {
            Store::Local(dir) => local::list(dir, token)?,
            Store::S3(bucket) => bucket.list(token).await?,
        };
        artefacts::oldest_first(&mut found);
        Ok(found)
    }

    pub fn staging(&self) -> Result<Staging, ProviderError> {
        match self {
            Store::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|err| artefacts::io_error("cannot create", dir, &err))?;
                Ok(Staging { dir: dir.clone(), _temporary: None })
            }
            Store::S3(_) => {
                let temporary = temporary_dir("dump into")?;
                Ok(Staging { dir: temporary.path().to_path_buf(), _temporary: Some(temporary) })
            }
        }
    }

    /// Writes the manifest of the backup dumped into `staged`, making it a listed backup (and
    /// for S3 uploads the dump first).
    pub async fn publish(&self, staged: &Path, manifest: &Manifest) -> Result<(), ProviderError> {
        match self {
            Store::Local(_) => local::write_manifest(staged, manifest).map(|_| ()),
            Store::S3(bucket) => bucket.publish(staged, manifest).await,
        }
    }

    pub async fn remove(&self, artefact: &Artefact) -> Result<(), ProviderError> {
        match self {
            Store::Local(dir) => local::remove(dir, artefact),
            Store::S3(bucket) => bucket.remove(artefact).await,
        }
    }

    /// Removes what interrupted runs of the policy left; what was removed.
    pub async fn sweep_leftovers(&self, token: &str, listed: &[Artefact]) -> Result<Vec<String>, ProviderError> {
        match self {
            Store::Local(dir) => local::sweep_leftovers(dir, token, listed),
            Store::S3(bucket) => bucket.sweep_leftovers(token, listed).await,
        }
    }

    /// The backup's dump as a local path pg_restore can read.
    pub async fn fetch(&self, artefact: &Artefact) -> Result<Fetched, ProviderError> {
        match self {
            Store::Local(dir) => Ok(Fetched { path: dir.join(&artefact.manifest.file), _temporary: None }),
            Store::S3(bucket) => {
                let temporary = temporary_dir("download the backup into")?;
                let path = bucket.fetch(artefact, temporary.path()).await?;
                Ok(Fetched { path, _temporary: Some(temporary) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ids_name_the_directory_and_token() {
        let destination = Destination::Local(PathBuf::from("/var/backups/ai_db"));
        let id = destination.id("3f2a9c1e0b7d");
        assert_eq!(id, "file:///var/backups/ai_db?policy=3f2a9c1e0b7d");
        assert_eq!(Destination::parse_id(&id).unwrap(), (destination, "3f2a9c1e0b7d".to_owned()));
        assert!(Destination::parse_id("postgres_backup_policy.nightly").unwrap_err().hint.unwrap().contains(".id"));
    }

    #[test]
    fn s3_ids_carry_what_reaching_the_bucket_needs() {
        let block = Value::object([("s3_bucket", Value::string("ml-backups")), ("s3_prefix", Value::string("/ai_db")), ("s3_endpoint", Value::string("http://127.0.0.1:5000"))]);
        let destination = Destination::from_block(&block).unwrap();
        let id = destination.id("3f2a9c1e0b7d");
        assert_eq!(id, "s3://ml-backups/ai_db/?policy=3f2a9c1e0b7d&endpoint=http%3A%2F%2F127.0.0.1%3A5000");
        assert_eq!(Destination::parse_id(&id).unwrap(), (destination, "3f2a9c1e0b7d".to_owned()));
    }

    #[test]
    fn a_destination_is_a_path_or_a_bucket() {
        let both = Value::object([("path", Value::string("/b")), ("s3_bucket", Value::string("ml-backups"))]);
        assert!(Destination::from_block(&both).unwrap_err().message.contains("not both"));
        assert!(Destination::from_block(&Value::object([("s3_bucket", Value::string("ML_Backups"))])).is_err());
        assert!(Destination::from_block(&Value::Null).unwrap_err().hint.unwrap().contains("s3_bucket"));
    }
}
