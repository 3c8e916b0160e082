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
