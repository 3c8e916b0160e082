//! Where `strata init` put a module whose source is not a local path.

use std::path::{Path, PathBuf};

use crate::addrs::ModulePath;
use crate::diag::{Diagnostic, Location, Result};

/// The directory of the installed module at `path`, which must have been installed from `source`.
pub(super) fn installed_dir(_root_dir: &Path, path: &ModulePath, source: &str, location: &Location) -> Result<PathBuf> {
    Err(Diagnostic::error(format!("{path} is not installed"))
        .at(Some(location))
        .detail(format!("its source \"{source}\" is fetched by strata init; plans never fetch"))
        .hint("run strata init")
        .into())
}
