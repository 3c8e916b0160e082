//! What `strata init` installed: `.strata/modules/modules.json` (Terraform's shape), and the lock
//! of resolved commits and versions the user commits to version control,
//! `.strata.modules.lock.json`. Both live in the configuration directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::source::ModuleSource;
use crate::diag::{Diagnostic, Diagnostics};

/// Where installed modules go, under the configuration directory.
pub const MODULES_DIR: &str = ".strata/modules";
/// The manifest of installed modules, under the configuration directory.
pub const MANIFEST_FILE: &str = ".strata/modules/modules.json";
/// The lock of resolved module commits and versions, in the configuration directory.
pub const LOCK_FILE: &str = ".strata.modules.lock.json";

/// One installed module call, as Terraform's `modules.json` records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The dotted path of module call names (`rds.db_subnet_group`); `""` is the root.
    #[serde(rename = "Key")]
    pub key: String,
    /// The `source` argument as written.
    #[serde(rename = "Source")]
    pub source: String,
    /// A registry module's resolved version.
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The git commit a git module (or a registry module served from git) was checked out at.
    #[serde(rename = "Commit", default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The module's directory relative to the configuration directory, with `/` separators.
    #[serde(rename = "Dir")]
    pub dir: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ManifestFile {
    #[serde(rename = "Modules")]
    modules: Vec<Record>,
}

/// The installed modules of one configuration directory.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    records: BTreeMap<String, Record>,
    /// Each record's directory joined to the configuration directory.
    dirs: BTreeMap<String, PathBuf>,
}

impl Manifest {
    /// Reads `.strata/modules/modules.json` under `config_dir`; a missing file is an empty manifest.
    pub fn load(config_dir: &Path) -> Result<Manifest, Diagnostics> {
        let path = config_dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(err) => return Err(Diagnostic::error(format!("cannot read {}: {err}", path.display())).into()),
        };
        let file: ManifestFile = serde_json::from_str(&text).map_err(|err| {
            Diagnostic::error(format!("{} is not a module manifest: {err}", path.display())).hint("run strata init to install the modules again")
        })?;
        Ok(Manifest::from_records(config_dir, file.modules))
    }

    pub(super) fn from_records(config_dir: &Path, records: impl IntoIterator<Item = Record>) -> Manifest {
        let mut manifest = Manifest::default();
        for record in records {
            let dir = if record.dir == "." { config_dir.to_path_buf() } else { config_dir.join(&record.dir) };
            manifest.dirs.insert(record.key.clone(), dir);
            manifest.records.insert(record.key.clone(), record);
        }
        manifest
    }

    /// The directory to load module `key` from (the configuration directory joined with its
    /// `Dir`), when it is installed from `source`; `None` when it is not installed, its directory
    /// is gone, or it was installed from another source (then: "run strata init").
    pub fn installed(&self, key: &str, source: &str) -> Option<&Path> {
        let record = self.records.get(key)?;
        if !same_source(&record.source, source) {
            return None;
        }
        let dir = self.dirs.get(key)?;
        dir.is_dir().then_some(dir.as_path())
    }

    /// The record of module `key`, for its resolved version or commit.
    pub fn record(&self, key: &str) -> Option<&Record> {
        self.records.get(key)
    }

    pub(super) fn to_json(&self) -> Result<String, Diagnostics> {
        pretty(&ManifestFile { modules: self.records.values().cloned().collect() }, MANIFEST_FILE)
    }
}

/// Two spellings of one source (`hashicorp/consul/aws` and
/// `registry.terraform.io/hashicorp/consul/aws`) are the same source.
pub fn same_source(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<ModuleSource>(), b.parse::<ModuleSource>()), (Ok(a), Ok(b)) if a == b)
}

/// `.strata.modules.lock.json`: for each remote module call, by key, what `strata init` resolved.
/// `strata init` installs exactly this again while the call's source is unchanged (and, for a
/// registry module, the locked version still meets the constraint); `strata init -upgrade`
/// resolves afresh and rewrites it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The shape of this file; 1.
    pub format: u32,
    pub modules: BTreeMap<String, Locked>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locked {
    /// The `source` argument as written.
    pub source: String,
    /// A registry module's `version` argument, as written, when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// A registry module's resolved version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where a registry module's version was downloaded from (its `X-Terraform-Get`, resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The git commit checked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The sha256 of a downloaded archive, checked when it is downloaded again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

pub const LOCK_FORMAT: u32 = 1;

impl Lock {
    /// Reads the lock in `config_dir`; a missing file is an empty lock.
    pub fn load(config_dir: &Path) -> Result<Lock, Diagnostics> {
        let path = config_dir.join(LOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Lock { format: LOCK_FORMAT, modules: BTreeMap::new() }),
            Err(err) => return Err(Diagnostic::error(format!("cannot read {}: {err}", path.display())).into()),
        };
        let lock: Lock = serde_json::from_str(&text).map_err(|err| {
            Diagnostic::error(format!("{LOCK_FILE} is not a module lock: {err}")).hint("fix it, or delete it and run strata init -upgrade to resolve every module again")
        })?;
        if lock.format != LOCK_FORMAT {
            return Err(Diagnostic::error(format!("{LOCK_FILE} has format {}, and this strata reads format {LOCK_FORMAT}", lock.format))
                .hint("use the strata that wrote it, or delete it and run strata init -upgrade")
                .into());
        }
        Ok(lock)
    }

    /// The entry for `key`, when it was resolved for this `source`.
    pub fn for_source(&self, key: &str, source: &str) -> Option<&Locked> {
        self.modules.get(key).filter(|locked| same_source(&locked.source, source))
    }

    pub(super) fn to_json(&self) -> Result<String, Diagnostics> {
        pretty(self, LOCK_FILE)
    }
}

/// `value` as the pretty JSON written to `file`, with a final newline.
fn pretty(value: &impl Serialize, file: &str) -> Result<String, Diagnostics> {
    serde_json::to_string_pretty(value).map(|text| text + "\n").map_err(|err| Diagnostic::error(format!("cannot write {file}: {err}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, source: &str, dir: &str) -> Record {
        Record { key: key.to_owned(), source: source.to_owned(), version: None, commit: None, dir: dir.to_owned() }
    }

    #[test]
    fn missing_manifest_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest::load(dir.path()).unwrap();
        assert_eq!(manifest.records.len(), 0);
        assert!(manifest.installed("rds", "./rds").is_none());
    }

    #[test]
    fn installed_only_from_the_same_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".strata/modules/consul")).unwrap();
        let manifest = Manifest::from_records(
            dir.path(),
            [record("", "", "."), record("consul", "hashicorp/consul/aws", ".strata/modules/consul"), record("gone", "./gone", "gone")],
        );
        std::fs::write(dir.path().join(MANIFEST_FILE), manifest.to_json().unwrap()).unwrap();
        let manifest = Manifest::load(dir.path()).unwrap();
        assert_eq!(manifest.installed("consul", "registry.terraform.io/hashicorp/consul/aws"), Some(dir.path().join(".strata/modules/consul").as_path()));
        assert_eq!(manifest.installed("consul", "hashicorp/consul/azurerm"), None);
        assert_eq!(manifest.installed("gone", "./gone"), None, "its directory does not exist");
        assert_eq!(manifest.installed("", ""), Some(dir.path()));
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert!(text.contains("\"Key\": \"consul\"") && text.contains("\"Dir\": \".strata/modules/consul\""), "{text}");
    }

    #[test]
    fn a_bad_manifest_says_to_run_init() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(MODULES_DIR)).unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), "{").unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(err.0[0].hint.as_deref().is_some_and(|h| h.contains("strata init")), "{err:?}");
    }
}
