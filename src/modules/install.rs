//! `strata init`'s module installation: walk the module tree from the root's `*.tf` files, fetch
//! every remote module (git, registry, archive) into `.strata/modules/<Key>`, and record what was
//! installed (`modules.json`) and resolved (the lock).
//!
//! All-or-nothing: packages are fetched into a staging directory and moved into place only when
//! every module call resolved; on an error nothing installed, recorded or locked changes. A module
//! whose source, version and lock entry are unchanged is kept as it is (no network), unless
//! `upgrade`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::expr::Expression;
use hcl::edit::structure::{BlockLabel, Structure};
use hcl::edit::Span;

use super::git;
use super::manifest::{same_source, Lock, Locked, Manifest, Record, LOCK_FILE, LOCK_FORMAT, MANIFEST_FILE, MODULES_DIR};
use super::registry::Http;
use super::source::{ModuleSource, ACCEPTED_FORMS};
use super::version::{parse_version, Constraints};
use crate::config::tf_files;
use crate::diag::{Diagnostic, Diagnostics, LineIndex, Location};

/// How deep module calls may nest (a module that calls itself would never end).
const MAX_DEPTH: usize = 32;

/// What `strata init` did for each module call, in the order it met them.
#[derive(Clone, Debug, Default)]
pub struct InstallReport {
    pub modules: Vec<Installed>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub key: String,
    /// The `source` argument as written.
    pub source: String,
    /// Its directory, relative to the configuration directory.
    pub dir: String,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub how: How,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// A local path: nothing to fetch.
    Local,
    /// Already installed from this source (and version, and locked commit).
    Kept,
    /// Fetched in this run.
    Downloaded,
}

/// Installs the modules the configuration in `config_dir` calls (see the module docs), telling
/// `progress` each step as a line (`Downloading SOURCE for KEY...`, `- KEY in DIR`), as Terraform
/// prints them.
pub fn install(config_dir: &Path, upgrade: bool, progress: &mut dyn FnMut(&str)) -> Result<InstallReport, Diagnostics> {
    let root_files = tf_files(config_dir)?;
    if root_files.is_empty() {
        return Err(Diagnostic::error(format!("no configuration files (*.tf) in {}", config_dir.display()))
            .hint("run strata in the directory that holds your .tf files, or pass -chdir DIR")
            .into());
    }
    let had_strata = config_dir.join(".strata").exists();
    let had_modules = config_dir.join(MODULES_DIR).exists();
    let mut installer = Installer {
        config_dir: config_dir.to_path_buf(),
        upgrade,
        old_manifest: Manifest::load(config_dir)?,
        old_lock: Lock::load(config_dir)?,
        lock: BTreeMap::new(),
        records: vec![Record { key: String::new(), source: String::new(), version: None, commit: None, dir: ".".to_owned() }],
        report: InstallReport::default(),
        staging: config_dir.join(MODULES_DIR).join(format!(".staging-{}", std::process::id())),
        fetched: Vec::new(),
        http: None,
        progress,
    };
    let walked = installer.walk(config_dir.to_path_buf(), ".", "", None, 0);
    let result = walked.and_then(|()| installer.commit());
    let _ = std::fs::remove_dir_all(&installer.staging);
    if result.is_err() {
        // Leave no trace of a failed first init.
        if !had_modules {
            let _ = std::fs::remove_dir(config_dir.join(MODULES_DIR));
        }
        if !had_strata {
            let _ = std::fs::remove_dir(config_dir.join(".strata"));
        }
    }
    result.map(|()| installer.report)
}

/// A `module` block as init reads it: only its name, source and version.
struct Call {
    name: String,
    raw: String,
    source: ModuleSource,
    version: Option<(Constraints, String)>,
    location: Location,
}

/// A fetched package's root, relative to the configuration directory: local module calls inside it
/// must stay inside it.
struct Package {
    dir: String,
}

struct Installer<'p> {
    config_dir: PathBuf,
    upgrade: bool,
    old_manifest: Manifest,
    old_lock: Lock,
    lock: BTreeMap<String, Locked>,
    records: Vec<Record>,
    report: InstallReport,
    staging: PathBuf,
    /// Keys fetched into `staging`, to move into place.
    fetched: Vec<String>,
    http: Option<Http>,
    progress: &'p mut dyn FnMut(&str),
}

impl Installer<'_> {
    /// Installs the calls of the module whose files are in `now` (its final directory `dir`).
    fn walk(&mut self, now: PathBuf, dir: &str, prefix: &str, package: Option<&Package>, depth: usize) -> Result<(), Diagnostics> {
        for call in module_calls(&now, dir)? {
            let key = if prefix.is_empty() { call.name.clone() } else { format!("{prefix}.{}", call.name) };
            if depth >= MAX_DEPTH {
                return Err(Diagnostic::error(format!("module calls nest deeper than {MAX_DEPTH} levels at module.{}", key.replace('.', ".module.")))
                    .at(Some(&call.location))
                    .hint("does a module call itself through a local path?")
                    .into());
            }
            call.source.refuse_version(&call.name, call.version.as_ref().map(|(_, text)| text.as_str()), &call.location)?;
            if let ModuleSource::Local(path) = &call.source {
                let module_dir = join_clean(dir, path);
                if let Some(package) = package {
                    if !within(&module_dir, &package.dir) {
                        return Err(Diagnostic::error(format!("module \"{}\"'s local source {path} leads out of its package {}", call.name, package.dir))
                            .at(Some(&call.location))
                            .hint("a module inside a downloaded package may only call local modules of the same package")
                            .into());
                    }
                }
                let module_now = super::clean_path(&now.join(path));
                if !module_now.is_dir() {
                    return Err(Diagnostic::error(format!("module \"{}\": the directory {module_dir} does not exist", call.name)).at(Some(&call.location)).into());
                }
                self.record(&key, &call.raw, &module_dir, None, None, How::Local);
                self.walk(module_now, &module_dir, &key, package, depth + 1)?;
                continue;
            }
            let (installed, module_now) = self.remote(&key, &call).map_err(|d| Diagnostics::from(d.at(Some(&call.location))))?;
            let module_dir = installed.dir.clone();
            let root = Package { dir: format!("{MODULES_DIR}/{key}") };
            self.record(&key, &call.raw, &module_dir, installed.version, installed.commit, installed.how);
            self.walk(module_now, &module_dir, &key, Some(&root), depth + 1)?;
        }
        Ok(())
    }

    fn record(&mut self, key: &str, source: &str, dir: &str, version: Option<String>, commit: Option<String>, how: How) {
        let line = match how {
            How::Local | How::Kept => format!("- {key} in {dir}"),
            How::Downloaded => format!("- {key} in {dir}{}", version.as_ref().map_or_else(String::new, |v| format!(" (version {v})"))),
        };
        (self.progress)(&line);
        self.records.push(Record { key: key.to_owned(), source: source.to_owned(), version: version.clone(), commit: commit.clone(), dir: dir.to_owned() });
        self.report.modules.push(Installed { key: key.to_owned(), source: source.to_owned(), dir: dir.to_owned(), version, commit, how });
    }

    /// A remote module: kept as installed, or fetched into staging. Answers what to record and
    /// where the module's files are now.
    fn remote(&mut self, key: &str, call: &Call) -> Result<(Resolved, PathBuf), Diagnostic> {
        let locked = self.old_lock.for_source(key, &call.raw).cloned();
        if let Some(kept) = self.kept(key, call, locked.as_ref()) {
            let now = self.config_dir.join(&kept.dir);
            let mut entry = locked.unwrap_or_else(|| Locked { source: call.raw.clone(), constraint: None, version: kept.version.clone(), package: None, commit: kept.commit.clone(), sha256: None });
            entry.constraint = call.version.as_ref().map(|v| v.1.clone());
            self.lock.insert(key.to_owned(), entry);
            return Ok((kept, now));
        }
        let locked = locked.filter(|_| !self.upgrade);
        let into = self.staging.join(key);
        let _ = std::fs::remove_dir_all(&into);
        std::fs::create_dir_all(&self.staging).map_err(|err| Diagnostic::error(format!("cannot create {}: {err}", self.staging.display())))?;
        let mut entry = Locked { source: call.raw.clone(), constraint: None, version: None, package: None, commit: None, sha256: None };
        let subdir = match &call.source {
            ModuleSource::Git { url, reference, subdir } => {
                (self.progress)(&format!("Downloading {} for {key}...", call.raw));
                entry.commit = Some(git::fetch(url, reference.as_deref(), locked.as_ref().and_then(|l| l.commit.as_deref()), &into)?);
                subdir.clone()
            }
            ModuleSource::Archive { url, subdir } => {
                (self.progress)(&format!("Downloading {} for {key}...", call.raw));
                entry.sha256 = Some(self.http().fetch_archive(url, locked.as_ref().and_then(|l| l.sha256.as_deref()), &into)?);
                subdir.clone()
            }
            ModuleSource::Registry { host, namespace, name, provider, subdir } => {
                let package_path = format!("{namespace}/{name}/{provider}");
                let registry = self.http().discover(host)?;
                let constraint = call.version.as_ref().map(|v| &v.0);
                let locked_version = locked.as_ref().and_then(|l| l.version.as_deref()).and_then(|v| parse_version(v).ok()).filter(|v| constraint.is_none_or(|c| c.matches(v)));
                let version = match locked_version {
                    Some(version) => version,
                    None => newest(&self.http().versions(&registry, &package_path)?, constraint, &call.raw)?,
                };
                (self.progress)(&format!("Downloading {} {version} for {key}...", call.raw));
                let location = self.http().location(&registry, &package_path, &version)?;
                // The lock's commit and checksum hold only for the version and package they were for.
                let same = locked.as_ref().filter(|l| l.version.as_deref() == Some(&version.to_string()) && l.package.as_deref() == Some(location.as_str()));
                let inner = self.fetch_package(&location, same, &into, &mut entry)?;
                entry.constraint = call.version.as_ref().map(|v| v.1.clone());
                entry.version = Some(version.to_string());
                entry.package = Some(location);
                join_subdirs(inner, subdir.clone())
            }
            ModuleSource::Local(_) => return Err(Diagnostic::error(format!("module \"{}\": a local source is read where it is, never fetched", call.name))),
        };
        let package_dir = format!("{MODULES_DIR}/{key}");
        let dir = subdir.as_ref().map_or_else(|| package_dir.clone(), |s| format!("{package_dir}/{s}"));
        let now = subdir.as_ref().map_or_else(|| into.clone(), |s| into.join(s));
        if !now.is_dir() {
            return Err(Diagnostic::error(format!("module \"{}\": the subdirectory \"{}\" is not in the package {}", call.name, subdir.unwrap_or_default(), call.raw))
                .hint("check the //SUBDIR part of the module's source"));
        }
        self.fetched.push(key.to_owned());
        let resolved = Resolved { dir, version: entry.version.clone(), commit: entry.commit.clone(), how: How::Downloaded };
        self.lock.insert(key.to_owned(), entry);
        Ok((resolved, now))
    }

    /// What a registry's download location points at, fetched into `into`; answers its subdir.
    fn fetch_package(&mut self, location: &str, locked: Option<&Locked>, into: &Path, entry: &mut Locked) -> Result<Option<String>, Diagnostic> {
        let source: ModuleSource = location.parse().map_err(|why: String| {
            Diagnostic::error(format!("the registry gave a download location that is not a module source: {why}")).detail(format!("X-Terraform-Get: {location}"))
        })?;
        match source {
            ModuleSource::Git { url, reference, subdir } => {
                entry.commit = Some(git::fetch(&url, reference.as_deref(), locked.and_then(|l| l.commit.as_deref()), into)?);
                Ok(subdir)
            }
            ModuleSource::Archive { url, subdir } => {
                entry.sha256 = Some(self.http().fetch_archive(&url, locked.and_then(|l| l.sha256.as_deref()), into)?);
                Ok(subdir)
            }
            ModuleSource::Local(_) | ModuleSource::Registry { .. } => Err(Diagnostic::error(format!("the registry's download location {location} is not a git repository or an archive"))
                .hint("a registry must point at a package it can be downloaded from, not at a local path or another registry")),
        }
    }

    /// The installed module, when nothing about it changed (and not `upgrade`).
    fn kept(&self, key: &str, call: &Call, locked: Option<&Locked>) -> Option<Resolved> {
        if self.upgrade {
            return None;
        }
        let old = self.old_manifest.record(key).filter(|old| same_source(&old.source, &call.raw))?;
        self.old_manifest.installed(key, &call.raw)?;
        let unchanged = match &call.source {
            ModuleSource::Git { .. } => locked.is_none_or(|l| l.commit == old.commit),
            ModuleSource::Registry { .. } => {
                let version = old.version.as_deref().and_then(|v| parse_version(v).ok())?;
                call.version.as_ref().is_none_or(|(c, _)| c.matches(&version)) && locked.is_none_or(|l| l.version == old.version)
            }
            _ => true,
        };
        unchanged.then(|| Resolved { dir: old.dir.clone(), version: old.version.clone(), commit: old.commit.clone(), how: How::Kept })
    }

    fn http(&mut self) -> &Http {
        self.http.get_or_insert_with(Http::new)
    }

    /// Moves what was fetched into place, removes what is no longer called, writes the manifest
    /// and the lock.
    fn commit(&mut self) -> Result<(), Diagnostics> {
        let modules = self.config_dir.join(MODULES_DIR);
        let io = |what: String| move |err: std::io::Error| Diagnostics::from(Diagnostic::error(format!("{what}: {err}")));
        for key in &self.fetched {
            let dest = modules.join(key);
            if dest.exists() {
                std::fs::remove_dir_all(&dest).map_err(io(format!("cannot remove {}", dest.display())))?;
            }
            std::fs::rename(self.staging.join(key), &dest).map_err(io(format!("cannot move module {key} into {}", dest.display())))?;
        }
        let remote: BTreeSet<&str> = self.lock.keys().map(String::as_str).collect();
        if let Ok(entries) = std::fs::read_dir(&modules) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir() && !name.starts_with(".staging-") && !remote.contains(name.as_str()) {
                    std::fs::remove_dir_all(entry.path()).map_err(io(format!("cannot remove the module directory {}", entry.path().display())))?;
                }
            }
        }
        let any_calls = self.records.len() > 1;
        let manifest = Manifest::from_records(&self.config_dir, self.records.clone());
        if any_calls || self.config_dir.join(MANIFEST_FILE).exists() {
            std::fs::create_dir_all(&modules).map_err(io(format!("cannot create {}", modules.display())))?;
            write_if_changed(&self.config_dir.join(MANIFEST_FILE), &manifest.to_json()?)?;
        }
        let lock = Lock { format: LOCK_FORMAT, modules: std::mem::take(&mut self.lock) };
        if !lock.modules.is_empty() || self.config_dir.join(LOCK_FILE).exists() {
            write_if_changed(&self.config_dir.join(LOCK_FILE), &lock.to_json()?)?;
        }
        Ok(())
    }
}

struct Resolved {
    dir: String,
    version: Option<String>,
    commit: Option<String>,
    how: How,
}

fn newest(versions: &[semver::Version], constraint: Option<&Constraints>, raw: &str) -> Result<semver::Version, Diagnostic> {
    let chosen = match constraint {
        Some(constraint) => constraint.newest(versions),
        None => versions.iter().filter(|v| v.pre.is_empty()).max_by(|a, b| a.cmp_precedence(b)),
    };
    chosen.cloned().ok_or_else(|| {
        let mut sorted: Vec<&semver::Version> = versions.iter().collect();
        sorted.sort_by(|a, b| a.cmp_precedence(b));
        let available = sorted.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let wanted = constraint.map_or_else(|| "a release (not a prerelease)".to_owned(), |c| format!("\"{c}\""));
        Diagnostic::error(format!("no version of {raw} matches {wanted}"))
            .detail(format!("available versions: {available}"))
            .hint("change the module's version constraint to allow one of them")
    })
}

fn join_subdirs(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}/{b}")),
        (a, b) => a.or(b),
    }
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), Diagnostics> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|err| Diagnostic::error(format!("cannot write {}: {err}", path.display())).into())
}

/// The `module` blocks of the `*.tf` files in `now`; locations name the files under `dir`.
fn module_calls(now: &Path, dir: &str) -> Result<Vec<Call>, Diagnostics> {
    let mut calls: Vec<Call> = Vec::new();
    let mut errors = Diagnostics::default();
    for path in tf_files(now)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let shown: Arc<Path> = Arc::from(if dir == "." { PathBuf::from(&name) } else { Path::new(dir).join(&name) });
        let text = std::fs::read_to_string(&path).map_err(|err| Diagnostic::error(format!("cannot read {}: {err}", shown.display())))?;
        let lines = LineIndex::new(&text);
        let at = |span: Option<std::ops::Range<usize>>| lines.location(&shown, &text, span.map_or(0, |s| s.start));
        let body = match hcl::edit::parser::parse_body(&text) {
            Ok(body) => body,
            Err(err) => {
                let location = Location { file: Arc::clone(&shown), line: err.location().line(), column: err.location().column() };
                errors.push(Diagnostic::error(format!("invalid HCL syntax: {}", err.message())).at(Some(&location)));
                continue;
            }
        };
        for block in body.iter().filter_map(|s| if let Structure::Block(b) = s { Some(b) } else { None }).filter(|b| b.ident.as_str() == "module") {
            let location = at(block.span());
            let labels: Vec<String> = block.labels.iter().map(|l| match l {
                BlockLabel::Ident(i) => i.as_str().to_owned(),
                BlockLabel::String(s) => s.as_str().to_owned(),
            }).collect();
            let [name] = labels.as_slice() else {
                errors.push(Diagnostic::error(format!("a module block takes 1 label(s), found {}", labels.len())).at(Some(&location)).hint("write it as module \"NAME\" { ... }"));
                continue;
            };
            if calls.iter().any(|c| &c.name == name) {
                errors.push(Diagnostic::error(format!("duplicate module \"{name}\"")).at(Some(&location)).hint("each module call must have a unique name"));
                continue;
            }
            let literal = |key: &str| -> Result<Option<(String, Location)>, Diagnostic> {
                let Some(attr) = block.body.iter().find_map(|s| if let Structure::Attribute(a) = s { (a.key.as_str() == key).then_some(a) } else { None }) else {
                    return Ok(None);
                };
                let attr_location = at(attr.span());
                match &attr.value {
                    Expression::String(s) => Ok(Some((s.as_str().to_owned(), attr_location))),
                    _ => Err(Diagnostic::error(format!("module \"{name}\"'s {key} must be a literal string"))
                        .at(Some(&attr_location))
                        .hint(format!("Terraform reads {key} before evaluating anything: write it as {key} = \"...\", without variables or functions"))),
                }
            };
            let call = (|| {
                let (raw, source_location) = literal("source")?.ok_or_else(|| {
                    Diagnostic::error(format!("module \"{name}\" has no source argument")).at(Some(&location)).hint("add source = \"./DIR\", a registry address or a git URL")
                })?;
                let source: ModuleSource = raw.parse().map_err(|why: String| Diagnostic::error(why).at(Some(&source_location)).hint(ACCEPTED_FORMS))?;
                let version = literal("version")?
                    .map(|(text, version_location)| {
                        text.parse::<Constraints>().map(|c| (c, text.clone())).map_err(|why| Diagnostic::error(why).at(Some(&version_location)).hint("write for example version = \"~> 1.2\" or \">= 1.0, < 2.0\""))
                    })
                    .transpose()?;
                Ok::<Call, Diagnostic>(Call { name: name.clone(), raw, source, version, location: location.clone() })
            })();
            match call {
                Ok(call) => calls.push(call),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(calls)
}

/// `dir` joined with the relative `path`, `.` and `..` resolved lexically, `/`-separated.
fn join_clean(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = if dir == "." { Vec::new() } else { dir.split('/').collect() };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

fn within(dir: &str, root: &str) -> bool {
    dir == root || dir.starts_with(&format!("{root}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_join_lexically() {
        assert_eq!(join_clean(".", "./modules/db"), "modules/db");
        assert_eq!(join_clean(".strata/modules/rds", "./modules/db_subnet_group"), ".strata/modules/rds/modules/db_subnet_group");
        assert_eq!(join_clean(".strata/modules/rds/modules/a", "../b"), ".strata/modules/rds/modules/b");
        assert_eq!(join_clean(".", "../shared"), "../shared");
        assert_eq!(join_clean("modules/a", "../../.."), "..");
        assert!(within(".strata/modules/rds/x", ".strata/modules/rds"));
        assert!(!within(".strata/modules/rds2", ".strata/modules/rds"));
    }

    fn init_error(files: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let err: String = install(dir.path(), false, &mut |_| {}).unwrap_err().0.iter().map(|d| crate::diag::render(d, &crate::ui::Style::detect(true))).collect();
        assert!(!dir.path().join(".strata").exists() && !dir.path().join(LOCK_FILE).exists(), "an error writes nothing");
        err
    }

    #[test]
    fn module_blocks_are_checked_with_locations() {
        let err = init_error(&[("main.tf", "module \"db\" {\n  source = var.where\n}\n")]);
        assert!(err.contains("main.tf:2:3") && err.contains("must be a literal string"), "{err}");
        let err = init_error(&[("main.tf", "module \"db\" {\n  source  = \"git::https://example.com/db.git\"\n  version = \"1.0.0\"\n}\n")]);
        assert!(err.contains("main.tf:1:1") && err.contains("only registry modules have versions"), "{err}");
        let err = init_error(&[("main.tf", "module \"db\" {\n  source  = \"a/b/c\"\n  version = \"~> banana\"\n}\n")]);
        assert!(err.contains("main.tf:3:3") && err.contains("invalid version constraint \"~> banana\""), "{err}");
        let err = init_error(&[("main.tf", "module \"db\" {\n  source = \"modules/db\"\n}\n")]);
        assert!(err.contains("main.tf:2:3") && err.contains("./ or ../"), "{err}");
        let err = init_error(&[("main.tf", "module \"db\" {\n}\n")]);
        assert!(err.contains("has no source"), "{err}");
        let err = init_error(&[("a.tf", "module \"db\" {\n  source = \"./db\"\n}\n"), ("b.tf", "module \"db\" {\n  source = \"./db\"\n}\n")]);
        assert!(err.contains("b.tf:1:1") && err.contains("duplicate module \"db\""), "{err}");
        let err = init_error(&[("main.tf", "module \"db\" {\n  source = \"./nowhere\"\n}\n")]);
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn local_modules_are_recorded_and_walked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules/db/inner")).unwrap();
        std::fs::write(dir.path().join("main.tf"), "module \"db\" {\n  source = \"./modules/db\"\n}\n").unwrap();
        std::fs::write(dir.path().join("modules/db/main.tf"), "module \"inner\" {\n  source = \"./inner\"\n}\n").unwrap();
        let report = install(dir.path(), false, &mut |_| {}).unwrap();
        let dirs: Vec<(&str, &str)> = report.modules.iter().map(|m| (m.key.as_str(), m.dir.as_str())).collect();
        assert_eq!(dirs, [("db", "modules/db"), ("db.inner", "modules/db/inner")]);
        let manifest = Manifest::load(dir.path()).unwrap();
        assert_eq!(manifest.installed("db.inner", "./inner"), Some(dir.path().join("modules/db/inner").as_path()));
        assert!(!dir.path().join(LOCK_FILE).exists(), "local modules lock nothing");
    }

    #[test]
    fn a_module_calling_itself_is_stopped() {
        let err = init_error(&[("main.tf", "module \"me\" {\n  source = \"./\"\n}\n")]);
        assert!(err.contains("nest deeper"), "{err}");
    }
}
