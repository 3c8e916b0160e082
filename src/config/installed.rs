//! Where `strata init` put a module whose source is not a local path: the installation
//! manifest (`.strata/modules/modules.json`) says, for the module's key and source.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use crate::addrs::ModulePath;
use crate::diag::{Diagnostic, Location, Result};
use crate::modules::manifest::Manifest;
use crate::modules::version::{parse_version, Constraints};

/// The installation manifest of one configuration, read once, when the first module call with a
/// source that is not a local path needs it.
pub(super) struct Installed {
    root_dir: PathBuf,
    manifest: OnceCell<Manifest>,
}

impl Installed {
    pub(super) fn new(root_dir: &Path) -> Installed {
        Installed { root_dir: root_dir.to_path_buf(), manifest: OnceCell::new() }
    }

    fn manifest(&self) -> Result<&Manifest> {
        if let Some(manifest) = self.manifest.get() {
            return Ok(manifest);
        }
        let manifest = Manifest::load(&self.root_dir)?;
        Ok(self.manifest.get_or_init(|| manifest))
    }

    /// The directory of the installed module at `path`, which must have been installed from
    /// `source` at a version that meets `version`, if the call has one.
    pub(super) fn dir(&self, path: &ModulePath, source: &str, version: Option<&str>, location: &Location) -> Result<PathBuf> {
        installed_dir(self.manifest()?, path, source, version, location)
    }
}

fn installed_dir(manifest: &Manifest, path: &ModulePath, source: &str, version: Option<&str>, location: &Location) -> Result<PathBuf> {
    let key = path.0.join(".");
    let not_installed = |why: String| -> crate::diag::Diagnostics {
        Diagnostic::error(format!("{path} is not installed")).at(Some(location)).detail(why).hint("run strata init").into()
    };
    let Some(dir) = manifest.installed(&key, source) else {
        return Err(not_installed(format!("its source \"{source}\" is fetched by strata init; plans never fetch")));
    };
    if let Some(wanted) = version {
        let constraints: Constraints = wanted.parse().map_err(|why: String| Diagnostic::error(format!("invalid version for {path}: {why}")).at(Some(location)))?;
        let installed = manifest.record(&key).and_then(|record| record.version.as_deref()).and_then(|v| parse_version(v).ok());
        if !installed.as_ref().is_some_and(|v| constraints.matches(v)) {
            let had = installed.map_or_else(|| "no version".to_owned(), |v| v.to_string());
            return Err(not_installed(format!("the installed version ({had}) does not meet version = \"{wanted}\"; the requirement changed since strata init")));
        }
    }
    Ok(dir.to_path_buf())
}
