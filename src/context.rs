//! What every operation starts from: the loaded and checked configuration, variable values, the
//! dependency graph, the providers and the state store.
//!
//! Owns the checks that need both configuration and provider schemas, and evaluating a resource's
//! or provider's block into the value a provider receives. It must not plan or apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_provider_sdk::Value;

use crate::addrs::{ConfigResource, ResourceInstance};
use crate::config::{self, Config};
use crate::diag::{Diagnostic, Diagnostics, Result};
use crate::eval::{Known, Repetition, Scope};
use crate::graph::DependencyGraph;
use crate::providers::Providers;
use crate::state::backend::{LockOptions, StateSetup};
use crate::state::store::StateStore;
use crate::typecheck::{check_body, conform};
use crate::vars::{self, CliVariable};

pub struct Context {
    pub config: Config,
    pub variables: BTreeMap<String, Value>,
    pub graph: DependencyGraph,
    pub providers: Providers,
    /// Which backend and workspace hold the state, and its encryption.
    pub state_setup: StateSetup,
    /// `-lock` and `-lock-timeout` for the stores this context opens.
    pub lock: LockOptions,
    pub warnings: Diagnostics,
}

/// How to load a context.
pub struct LoadOptions<'a> {
    pub dir: &'a Path,
    pub variables: &'a [CliVariable],
    /// Overrides the state path from the configuration.
    pub state_path: Option<&'a Path>,
    /// False for `validate`: variables without values evaluate as unknown.
    pub require_variables: bool,
}

impl Context {
    pub fn load(options: &LoadOptions<'_>, providers: Providers) -> Result<Context> {
        let mut config = config::load_dir(options.dir)?;
        check_schemas(&config, &providers)?;
        crate::ephemeral::check(&config)?;
        let variables = vars::resolve(&config, options.variables, options.require_variables)?;
        crate::secrets::register(&config, &variables);
        let names = Providers::names_for(config.resources.keys());
        let graph = DependencyGraph::build(&config, &names)?;
        let state_setup = StateSetup::resolve(&config.settings, options.dir, options.state_path)?;
        config.workspace = Some(state_setup.workspace.clone());
        let warnings = config.warnings.clone();
        Ok(Context { config, variables, graph, providers, state_setup, lock: LockOptions::default(), warnings })
    }

    pub fn store(&self) -> StateStore {
        self.state_setup.store(self.lock)
    }

    pub fn scope<'a>(&'a self, known: &'a Known) -> Scope<'a> {
        self.scope_repeating(known, Repetition::None)
    }

    fn scope_repeating<'a>(&'a self, known: &'a Known, repetition: Repetition) -> Scope<'a> {
        Scope { config: &self.config, variables: &self.variables, resources: known, repetition }
    }

    /// The desired value of a resource instance given what is known so far, with its sensitive attributes.
    pub fn desired(&self, address: &ResourceInstance, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        let resource = self.configured(&address.resource)?;
        let repetition = crate::instances::repetition(&self.scope(known), &resource.expansion, &address.key).map_err(|found| at(found, &resource.location))?;
        self.evaluate(address.resource.clone(), &address.to_string(), repetition, known)
    }

    /// The desired value of an instance whose `count.index` or `each` is already known (the
    /// planner has them from expanding its resource, and re-evaluating `for_each` per instance
    /// would cost the square of the instances).
    pub fn desired_repeating(&self, address: &ResourceInstance, repetition: Repetition, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        self.evaluate(address.resource.clone(), &address.to_string(), repetition, known)
    }

    /// A resource block evaluated as validation sees it: one instance, `count.index` and `each` unknown.
    pub fn desired_for_validation(&self, address: &ConfigResource, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        let repetition = crate::instances::unknown_repetition(&self.configured(address)?.expansion);
        self.evaluate(address.clone(), &address.to_string(), repetition, known)
    }

    fn configured(&self, address: &ConfigResource) -> Result<&config::Resource> {
        self.config.resources.get(address).ok_or_else(|| Diagnostic::error(format!("{} is not in the configuration", address.in_root())).into())
    }

    fn evaluate(&self, address: ConfigResource, subject: &str, repetition: Repetition, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        let resource = self.configured(&address)?;
        let schema = self.providers.resource_schema(&address)?;
        let (value, mut sensitive) = self.scope_repeating(known, repetition).eval_body(&resource.body)?;
        let value = conform(&schema.block, value, &resource.body, subject)?;
        sensitive.extend(schema.block.attributes.iter().filter(|(_, a)| a.sensitive).map(|(n, _)| (*n).to_owned()));
        Ok((value, sensitive))
    }

    /// The resources a resource's instances depend on: each waits for every instance of them.
    pub fn dependencies_of(&self, address: &ConfigResource) -> BTreeSet<crate::addrs::AbsResource> {
        self.graph.resource_dependencies(&crate::graph::Node::Resource(address.clone())).iter().map(ConfigResource::in_root).collect()
    }

    /// The evaluated `provider` block of `name` (null when there is none).
    pub fn provider_config(&self, name: &str, known: &Known) -> Result<Value> {
        let Some(block) = self.config.providers.get(name) else { return Ok(Value::Null) };
        let provider = self.providers.get(name)?;
        let (value, _) = self.scope(known).eval_body(&block.body)?;
        conform(&provider.schema().provider, value, &block.body, &format!("provider \"{name}\""))
    }
}

/// `found` pointed at `location` where it points nowhere yet.
fn at(found: Diagnostics, location: &crate::diag::Location) -> Diagnostics {
    Diagnostics(found.0.into_iter().map(|d| d.at(Some(location))).collect())
}

/// Checks every resource and provider block against its provider's schema.
fn check_schemas(config: &Config, providers: &Providers) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (address, resource) in &config.resources {
        match providers.resource_schema(address) {
            Ok(schema) => {
                if let Err(found) = check_body(&schema.block, &resource.body, &address.to_string()) {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(at(found, &resource.location)),
        }
    }
    for (name, block) in &config.providers {
        match providers.get(name) {
            Ok(provider) => {
                if let Err(found) = check_body(&provider.schema().provider, &block.body, &format!("provider \"{name}\"")) {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(at(found, &block.body.location)),
        }
    }
    errors.into_result().map(|_| ())
}
