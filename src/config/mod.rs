//! The configuration: what the `.tf` files of a directory declare, before evaluation.
//!
//! Owns the model of blocks (`resource`, `data`, `variable`, `locals`, `output`, `provider`,
//! `strata`) with the source location of everything in them, and loading it from files
//! ([`load`]). Expressions stay unevaluated here; the `eval` module gives them values. It must not
//! know any provider's schema or talk to any system.

mod backend_block;
mod blocks;
mod guards;
mod load;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::addrs::ConfigResource;
use crate::diag::{Diagnostic, Diagnostics, Location, Result, Sources};

pub use backend_block::BackendSettings;
pub use blocks::Removed;
pub use guards::{IgnoreChanges, Lifecycle, Moved};
pub use load::{load_dir, load_settings};

/// An unevaluated attribute: `name = expression`.
#[derive(Clone, Debug)]
pub struct AttrExpr {
    pub expr: hcl::Expression,
    pub location: Location,
}

/// An unevaluated nested block.
#[derive(Clone, Debug)]
pub struct BlockExpr {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: BodyExpr,
    pub location: Location,
}

/// An unevaluated block body.
#[derive(Clone, Debug)]
pub struct BodyExpr {
    pub attributes: BTreeMap<String, AttrExpr>,
    pub blocks: Vec<BlockExpr>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub type_expr: Option<AttrExpr>,
    pub default: Option<AttrExpr>,
    pub description: Option<String>,
    pub sensitive: bool,
    /// `ephemeral = true` (Terraform 1.10): its value is never written (state, plan files) and
    /// only provider blocks and locals may use it (see `crate::ephemeral`).
    pub ephemeral: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub location: Location,
}

/// A `validation { condition = ..., error_message = ... }` block of a variable.
#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: AttrExpr,
    pub error_message: AttrExpr,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub value: AttrExpr,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub value: AttrExpr,
    pub sensitive: bool,
    pub depends_on: Vec<ConfigResource>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct ProviderBlock {
    pub body: BodyExpr,
}

/// A `resource` or `data` block.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The block's own arguments and nested blocks, without meta-arguments such as `depends_on`.
    pub body: BodyExpr,
    /// `count` or `for_each`, taken out of `body`.
    pub expansion: Expansion,
    pub depends_on: Vec<ConfigResource>,
    /// The `lifecycle` block, taken out of `body`.
    pub lifecycle: Option<Lifecycle>,
    pub location: Location,
}

/// How many instances a block declares; `instances` evaluates it.
#[derive(Clone, Debug, Default)]
pub enum Expansion {
    /// Neither `count` nor `for_each`: one instance, without a key.
    #[default]
    Single,
    /// `count = N`: instances `[0]` to `[N-1]`.
    Count(AttrExpr),
    /// `for_each = map or set of strings`: one instance per key.
    ForEach(AttrExpr),
}

impl Expansion {
    /// The `count` or `for_each` expression.
    pub fn expression(&self) -> Option<&AttrExpr> {
        match self {
            Expansion::Single => None,
            Expansion::Count(attr) | Expansion::ForEach(attr) => Some(attr),
        }
    }

    /// Takes `count` or `for_each` out of a block's body; both at once is an error, as in Terraform.
    pub(crate) fn take(body: &mut BodyExpr) -> Result<Expansion> {
        match (body.attributes.remove("count"), body.attributes.remove("for_each")) {
            (None, None) => Ok(Expansion::Single),
            (Some(count), None) => Ok(Expansion::Count(count)),
            (None, Some(for_each)) => Ok(Expansion::ForEach(for_each)),
            (Some(_), Some(for_each)) => Err(Diagnostic::error("Invalid combination of \"count\" and \"for_each\"")
                .at(Some(&for_each.location))
                .detail("the count and for_each meta-arguments are mutually exclusive: only one may be used to make instances of a block")
                .hint("keep one of them")
                .into()),
        }
    }
}

/// The `strata { ... }` settings block.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Where the state file lives, relative to the configuration directory.
    pub state_path: Option<String>,
    /// `encryption { ... }`: seal the state at rest.
    pub encryption: Option<EncryptionSettings>,
    /// `backend "postgres" { ... }`: keep the state in PostgreSQL instead of the local file.
    pub backend: Option<BackendSettings>,
}

/// `strata { encryption { key_env = "..." } }` or `{ passphrase_env = "..." }`: which environment
/// variable holds the state's key. The key itself never appears in the configuration.
#[derive(Clone, Debug)]
pub struct EncryptionSettings {
    pub key_source: KeySource,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The variable holds a 32-byte key as base64 or hex.
    KeyEnv(String),
    /// The variable holds a passphrase, stretched into a key with Argon2id.
    PassphraseEnv(String),
}

/// Everything the `.tf` files of one directory declare.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub dir: PathBuf,
    pub sources: Sources,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    pub providers: BTreeMap<String, ProviderBlock>,
    pub resources: BTreeMap<ConfigResource, Resource>,
    /// `moved` blocks, in the order read.
    pub moves: Vec<Moved>,
    /// `removed` blocks, in the order read.
    pub removed: Vec<Removed>,
    pub settings: Settings,
    /// The selected workspace (`terraform.workspace`), once the state is resolved; `None` is `default`.
    pub workspace: Option<String>,
    /// Notes from loading that do not stop anything (an ignored `terraform` block).
    pub warnings: Diagnostics,
}
