//! What every operation starts from: the loaded and checked configuration, variable values, the
//! dependency graph, the providers and the state store.
//!
//! Owns the checks that need both configuration and provider schemas, and evaluating a resource's
//! or provider's block into the value a provider receives. It must not plan or apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_provider_sdk::Value;

use crate::addr::Address;
use crate::config::{self, Config};
use crate::diag::{Diagnostic, Diagnostics, Result};
use crate::eval::{KnownResource, Scope};
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

    pub fn scope<'a>(&'a self, known: &'a BTreeMap<Address, KnownResource>) -> Scope<'a> {
        Scope { config: &self.config, variables: &self.variables, resources: known }
    }

    /// The desired value of a resource given what is known so far, with its sensitive attributes.
    pub fn desired(&self, address: &Address, known: &BTreeMap<Address, KnownResource>) -> Result<(Value, BTreeSet<String>)> {
        let resource = self.config.resources.get(address).ok_or_else(|| Diagnostic::error(format!("{address} is not in the configuration")))?;
        let schema = self.providers.resource_schema(address)?;
        let (value, mut sensitive) = self.scope(known).eval_body(&resource.body)?;
        let value = conform(&schema.block, value, &resource.body, &address.to_string())?;
        sensitive.extend(schema.block.attributes.iter().filter(|(_, a)| a.sensitive).map(|(n, _)| (*n).to_owned()));
        Ok((value, sensitive))
    }

    /// The evaluated `provider` block of `name` (null when there is none).
    pub fn provider_config(&self, name: &str, known: &BTreeMap<Address, KnownResource>) -> Result<Value> {
        let Some(block) = self.config.providers.get(name) else { return Ok(Value::Null) };
        let provider = self.providers.get(name)?;
        let (value, _) = self.scope(known).eval_body(&block.body)?;
        conform(&provider.schema().provider, value, &block.body, &format!("provider \"{name}\""))
    }
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
            Err(found) => errors.extend(Diagnostics(found.0.into_iter().map(|d| d.at(Some(&resource.location))).collect())),
        }
    }
    for (name, block) in &config.providers {
        match providers.get(name) {
            Ok(provider) => {
                if let Err(found) = check_body(&provider.schema().provider, &block.body, &format!("provider \"{name}\"")) {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(Diagnostics(found.0.into_iter().map(|d| d.at(Some(&block.body.location))).collect())),
        }
    }
    errors.into_result().map(|_| ())
}
