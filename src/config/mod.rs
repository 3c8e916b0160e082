//! The configuration: what the `.tf` files of a directory declare, before evaluation.
//!
//! Owns the model of blocks (`resource`, `data`, `variable`, `locals`, `output`, `provider`,
//! `strata`) with the source location of everything in them, and loading it from files
//! ([`load`]). Expressions stay unevaluated here; the `eval` module gives them values. It must not
//! know any provider's schema or talk to any system.

mod backend_block;
mod blocks;
mod guards;
mod installed;
mod load;
mod modules;
mod terraform_block;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::addrs::{ConfigResource, ModulePath, ModuleResource, ProviderConfig};
use crate::diag::{Diagnostic, Diagnostics, Location, Result, Sources};

pub use backend_block::BackendSettings;
pub use blocks::Removed;
pub use guards::{IgnoreChanges, Lifecycle, Moved};
pub(crate) use load::tf_files;
pub use load::{load_dir, load_settings};
pub use modules::ModuleCall;
pub use terraform_block::Requirements;

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
    pub validations: Vec<Condition>,
    pub location: Location,
}

/// `{ condition = ..., error_message = ... }`: a variable's `validation`, a resource's or
/// output's `precondition`/`postcondition`, a check block's `assert`.
#[derive(Clone, Debug)]
pub struct Condition {
    pub condition: AttrExpr,
    pub error_message: AttrExpr,
}

/// `import { to = ADDRESS  id = "..." }` (Terraform 1.5), with `for_each` making several.
#[derive(Clone, Debug)]
pub struct Import {
    /// The address to import into; its keys may use `each` of `for_each`.
    pub to: AttrExpr,
    pub id: AttrExpr,
    pub for_each: Option<AttrExpr>,
    pub location: Location,
}

/// `check "NAME" { assert { ... } }` (Terraform 1.5): assertions reported after plan and apply,
/// never blocking either.
#[derive(Clone, Debug)]
pub struct Check {
    pub asserts: Vec<Condition>,
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Local {
    pub value: AttrExpr,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub value: AttrExpr,
    pub sensitive: bool,
    pub preconditions: Vec<Condition>,
    pub depends_on: Vec<DependsOn>,
    pub location: Location,
}

/// An entry of `depends_on`: a resource, or a module call (everything in that module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DependsOn {
    Resource(ConfigResource),
    Module(String),
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
    pub depends_on: Vec<DependsOn>,
    /// `provider = aws.west`: which configuration of its provider, in its module (default: the unaliased one).
    pub provider: Option<ProviderConfig>,
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

/// Everything the `.tf` files of one directory declare: the root module, or a module it calls
/// (in `modules`, to any depth).
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The module's directory.
    pub dir: PathBuf,
    /// The root module's directory: relative paths in functions (`file`, `templatefile`) start
    /// here, as Terraform's start in the working directory.
    pub root_dir: PathBuf,
    /// Which module this is; empty for the root.
    pub path: ModulePath,
    /// Every file read, of this module and (in the root) of every module it calls.
    pub sources: Sources,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    /// Provider configurations (the root module's only), by name and alias.
    pub providers: BTreeMap<ProviderConfig, ProviderBlock>,
    pub resources: BTreeMap<ConfigResource, Resource>,
    /// `module` blocks, by name, each with the configuration it calls.
    pub modules: BTreeMap<String, ModuleCall>,
    /// What the module's `terraform` blocks require (`required_version`, `required_providers`).
    pub requirements: Requirements,
    /// `import` blocks (the root module's only), in the order read.
    pub imports: Vec<Import>,
    /// `check` blocks, by name.
    pub checks: BTreeMap<String, Check>,
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

impl Config {
    /// The module at `path` under this one.
    pub fn module(&self, path: &ModulePath) -> Option<&Config> {
        path.0.iter().try_fold(self, |config, name| config.modules.get(name).map(|call| call.config.as_ref()))
    }

    /// The call of the module at `path` (none for the root).
    pub fn module_call_of(&self, path: &ModulePath) -> Option<&ModuleCall> {
        let (name, _) = path.0.split_last()?;
        self.module(&path.parent()?)?.modules.get(name)
    }

    /// The root module's provider configuration a resource uses: its `provider` (or its type's
    /// default configuration), passed down by each module call's `providers` (a default one is
    /// inherited where a call does not say).
    pub fn provider_for(&self, address: &ModuleResource) -> Option<ProviderConfig> {
        let resource = self.resource(address)?;
        let mut provider = resource.provider.clone().unwrap_or_else(|| ProviderConfig::default_of(address.provider()));
        let mut path = address.module.clone();
        while let Some(call) = self.module_call_of(&path) {
            provider = match call.providers.get(&provider) {
                Some(passed) => passed.clone(),
                None if provider.alias.is_none() => provider,
                None => return None,
            };
            path = path.parent()?;
        }
        Some(provider)
    }

    /// The resource block `address` names.
    pub fn resource(&self, address: &ModuleResource) -> Option<&Resource> {
        self.module(&address.module)?.resources.get(&address.resource)
    }

    /// This module and every module under it, callers before the modules they call.
    pub fn modules_in_tree(&self) -> Vec<&Config> {
        let mut all = vec![self];
        let mut next = 0;
        while let Some(config) = all.get(next).copied() {
            all.extend(config.modules.values().map(|call| call.config.as_ref()));
            next += 1;
        }
        all
    }

    /// Every resource block of the tree, with its address.
    pub fn all_resources(&self) -> impl Iterator<Item = (ModuleResource, &Resource)> {
        self.modules_in_tree().into_iter().flat_map(|config| config.resources.iter().map(|(address, resource)| (ModuleResource::new(config.path.clone(), address.clone()), resource)))
    }

    /// `path.module`: this module's directory relative to the root's (`.` for the root).
    pub fn path_module(&self) -> String {
        relative_dir(&self.dir, &self.root_dir)
    }
}

/// `dir` as shown relative to `root_dir` (`.` for the root itself; as it is when outside it).
fn relative_dir(dir: &std::path::Path, root_dir: &std::path::Path) -> String {
    match dir.strip_prefix(root_dir) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}
