//! `module` blocks: the call (source, meta-arguments, inputs) and loading the called module's
//! configuration, recursively, into the tree under the root [`Config`].
//!
//! A local source (`./x`, `../x`) is read where it is, relative to the calling module's directory;
//! any other source must have been installed by `strata init` (plans never fetch), and is read
//! from where the installation manifest says it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::load::{addresses, literal_string, providers_argument};
use super::installed::Installed;
use super::{AttrExpr, BodyExpr, Config, DependsOn, Expansion};
use crate::addrs::{ModulePath, ProviderConfig};
use crate::modules::source::{ModuleSource, ACCEPTED_FORMS};
use crate::diag::{suggestion, Diagnostic, Diagnostics, Location, Result};

/// Calls nested deeper than this are a module calling itself through others.
const MAX_DEPTH: usize = 32;

/// `module "NAME" { source = "...", ... }`, with the configuration it calls.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: String,
    pub version: Option<String>,
    pub expansion: Expansion,
    /// Values for the called module's variables, evaluated in the calling module.
    pub inputs: BTreeMap<String, AttrExpr>,
    pub depends_on: Vec<DependsOn>,
    /// `providers = { aws = aws.west }`: the caller's configuration for each of the module's.
    pub providers: BTreeMap<ProviderConfig, ProviderConfig>,
    pub location: Location,
    /// The called module; loaded after the caller, by [`load_children`].
    pub config: Box<Config>,
}

/// Reads a module block; its configuration is loaded later.
pub(super) fn module_call(name: String, mut body: BodyExpr, location: Location) -> Result<ModuleCall> {
    if let Some(block) = body.blocks.first() {
        let what = if matches!(block.kind.as_str(), "lifecycle" | "provisioner") { "a module call" } else { "a module block" };
        return Err(Diagnostic::error(format!("unexpected \"{}\" block in {what}", block.kind))
            .at(Some(&block.location))
            .hint("a module block takes arguments only: source, version, count, for_each, depends_on, providers and the module's input variables")
            .into());
    }
    let source = body.attributes.remove("source").ok_or_else(|| {
        Diagnostic::error(format!("module \"{name}\" has no source"))
            .at(Some(&location))
            .hint("add source = \"./modules/NAME\" (a local path), a git:: address or a registry address")
    })?;
    let source = literal_string(&source, "source")?;
    let version = body.attributes.remove("version").map(|attr| literal_string(&attr, "version")).transpose()?;
    let expansion = Expansion::take(&mut body)?;
    let depends_on = body.attributes.remove("depends_on").map(|attr| addresses(&attr)).transpose()?.unwrap_or_default();
    let providers = body.attributes.remove("providers").map(|attr| providers_argument(&attr)).transpose()?.unwrap_or_default();
    Ok(ModuleCall { name, source, version, expansion, inputs: body.attributes, depends_on, providers, location, config: Box::default() })
}

/// Loads the modules `config` calls, and theirs, to any depth.
pub(super) fn load_children(config: &mut Config, installed: &Installed) -> Result<()> {
    let mut errors = Diagnostics::default();
    let mut sources = crate::diag::Sources::default();
    for call in config.modules.values_mut() {
        let path = config.path.child(&call.name);
        match load_call(&config.dir, &config.root_dir, path, call, installed) {
            Ok(()) => sources.extend(std::mem::take(&mut call.config.sources)),
            Err(found) => errors.extend(found),
        }
    }
    config.sources.extend(sources);
    errors.into_result().map(|_| ())
}

fn load_call(caller_dir: &Path, root_dir: &Path, path: ModulePath, call: &mut ModuleCall, installed: &Installed) -> Result<()> {
    if path.0.len() > MAX_DEPTH {
        return Err(Diagnostic::error(format!("{path} nests modules more than {MAX_DEPTH} deep"))
            .at(Some(&call.location))
            .hint("a module that calls itself, directly or through others, never ends: remove the call that loops")
            .into());
    }
    let dir = module_dir(caller_dir, root_dir, &path, call, installed)?;
    let mut child = super::load::load_module(root_dir, &dir, path.clone()).map_err(|found| in_module(found, &path))?;
    check_inputs(call, &child)?;
    load_children(&mut child, installed)?;
    *call.config = child;
    Ok(())
}

/// Where the called module's files are.
fn module_dir(caller_dir: &Path, root_dir: &Path, path: &ModulePath, call: &ModuleCall, installed: &Installed) -> Result<PathBuf> {
    let source: ModuleSource = call.source.parse().map_err(|why: String| Diagnostic::error(why).at(Some(&call.location)).hint(ACCEPTED_FORMS))?;
    source.refuse_version(&call.name, call.version.as_deref(), &call.location)?;
    if let ModuleSource::Local(relative) = &source {
        let dir = crate::modules::clean_path(&caller_dir.join(relative));
        if !dir.is_dir() {
            return Err(Diagnostic::error(format!("module \"{}\": the directory {} does not exist", call.name, call.source))
                .at(Some(&call.location))
                .detail(format!("local module sources are relative to the calling module's directory, here {}", super::relative_dir(caller_dir, root_dir)))
                .hint("fix the path in source")
                .into());
        }
        return Ok(dir);
    }
    installed.dir(path, &call.source, call.version.as_deref(), &call.location)
}

/// Every input the call sets is a variable of the module, and every variable without a default is set.
fn check_inputs(call: &ModuleCall, child: &Config) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (name, attr) in &call.inputs {
        if !child.variables.contains_key(name) {
            errors.push(
                Diagnostic::error(format!("Unsupported argument \"{name}\" in module \"{}\"", call.name))
                    .at(Some(&attr.location))
                    .detail(format!("the module {} declares no variable \"{name}\"", child.path))
                    .hint(suggestion(name, child.variables.keys().map(String::as_str))),
            );
        }
    }
    for variable in child.variables.values() {
        if variable.default.is_none() && !call.inputs.contains_key(&variable.name) {
            errors.push(
                Diagnostic::error(format!("Missing required argument \"{}\" in module \"{}\"", variable.name, call.name))
                    .at(Some(&call.location))
                    .detail(format!("the module's variable \"{}\" ({}) has no default", variable.name, variable.location))
                    .hint(format!("set {} = ... in the module block", variable.name)),
            );
        }
    }
    errors.into_result().map(|_| ())
}

/// Errors found loading a module, said to be in it.
fn in_module(found: Diagnostics, path: &ModulePath) -> Diagnostics {
    Diagnostics(found.0.into_iter().map(|d| if d.detail.is_none() { d.detail(format!("in {path}")) } else { d }).collect())
}
