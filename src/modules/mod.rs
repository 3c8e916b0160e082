//! Where module source code comes from: `module` blocks' `source` and `version` arguments
//! (`source`, `version`), and `strata init`'s installing of the modules they name (`install`,
//! with `git` and the module `registry` protocol) into `.strata/modules`, recorded in
//! `modules.json` and locked in `.strata.modules.lock.json` (`manifest`).
//!
//! Only `strata init` fetches: nothing here is called by validate, plan or apply, which read the
//! manifest (`manifest::Manifest::load`, `Manifest::installed`) and never touch the network.

mod git;
pub mod install;
pub mod manifest;
mod registry;
pub mod source;
pub mod version;

use std::path::{Component, Path, PathBuf};

/// `a/./b/../c` as `a/c`, without touching the file system (a symlink is taken as written, as
/// Terraform takes local module paths).
pub fn clean_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
