//! What every operation starts from: the loaded and checked configuration, variable values, the
//! dependency graph, the providers and the state store.
//!
//! Owns the checks that need both configuration and provider schemas, and evaluating a resource's
//! or provider's block into the value a provider receives. It must not plan or apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use strata_provider_sdk::Value;

use crate::modules::version::{parse_version, Constraints};
use crate::addrs::{AbsResource, ModuleInstance, ModulePath, ModuleResource, ProviderConfig, ResourceInstance};
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
    /// `for_each` values already evaluated wholly known, by the address of what they expand:
    /// apply evaluates each instance on its own, and evaluating `for_each` again for each of N
    /// instances would cost N² (a known value no longer changes within a run).
    for_each_seen: std::sync::Mutex<BTreeMap<String, std::sync::Arc<BTreeMap<String, Value>>>>,
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
        let requirement_warnings = check_requirements(&config, &providers)?;
        config.warnings.extend(requirement_warnings);
        check_schemas(&config, &providers)?;
        crate::ephemeral::check(&config)?;
        let variables = vars::resolve(&config, options.variables, options.require_variables)?;
        crate::secrets::register(&config, &variables);
        let in_use = provider_configurations(&config)?;
        let providers = providers.with_configurations(in_use.iter().chain(config.providers.keys()))?;
        let graph = DependencyGraph::build(&config, &in_use)?;
        let state_setup = StateSetup::resolve(&config.settings, options.dir, options.state_path)?;
        config.workspace = Some(state_setup.workspace.clone());
        let warnings = config.warnings.clone();
        Ok(Context { config, variables, graph, providers, state_setup, lock: LockOptions::default(), warnings, for_each_seen: Default::default() })
    }

    pub fn store(&self) -> StateStore {
        self.state_setup.store(self.lock)
    }

    pub fn scope<'a>(&'a self, known: &'a Known) -> Scope<'a> {
        Scope::root(&self.config, &self.variables, known)
    }

    /// The scope of a module instance: each call on the way gives its instance's `count.index`
    /// or `each` to the arguments it passes.
    pub fn module_scope<'a>(&'a self, module: &ModuleInstance, known: &'a Known) -> Result<Scope<'a>> {
        let mut scope = self.scope(known);
        for step in &module.0 {
            let call = scope.config.modules.get(&step.name).ok_or_else(|| not_configured(module))?;
            let subject = scope.module_instance().child(&step.name, crate::addrs::InstanceKey::None).to_string();
            let repetition = self.repetition(subject, &scope, &call.expansion, &step.key).map_err(|found| at(found, &call.location))?;
            scope = scope.child(&step.name, step.key.clone(), repetition).ok_or_else(|| not_configured(module))?;
        }
        Ok(scope)
    }

    /// The instances of the module at `path` as far as known now: `None` while the `count` or
    /// `for_each` of a call on the way depends on values only apply can tell.
    pub fn module_instances(&self, path: &ModulePath, known: &Known) -> Result<Option<Vec<ModuleInstance>>> {
        Ok(self.module_scopes(path, known)?.map(|scopes| scopes.iter().map(Scope::module_instance).collect()))
    }

    /// The scope of each instance of the module at `path` (see [`Context::module_instances`]).
    pub fn module_scopes<'a>(&'a self, path: &ModulePath, known: &'a Known) -> Result<Option<Vec<Scope<'a>>>> {
        let mut scopes = vec![self.scope(known)];
        for name in &path.0 {
            let mut next = Vec::new();
            for scope in &scopes {
                let call = scope.config.modules.get(name).ok_or_else(|| not_configured(&scope.module_instance()))?;
                let Some(keys) = crate::instances::expand(scope, &call.expansion).map_err(|found| at(found, &call.location))? else { return Ok(None) };
                next.extend(keys.into_iter().filter_map(|(key, repetition)| scope.child(name, key, repetition)));
            }
            scopes = next;
        }
        Ok(Some(scopes))
    }

    /// Every instance of a resource block now, in every instance of its module, with what each
    /// instance's expressions see of its `count` or `for_each`: `None` while some `count` or
    /// `for_each` on the way is not known.
    pub fn instances_of(&self, block: &ModuleResource, known: &Known) -> Result<Option<Vec<(ResourceInstance, Repetition)>>> {
        let resource = self.configured(block)?;
        let Some(scopes) = self.module_scopes(&block.module, known)? else { return Ok(None) };
        let mut instances = Vec::new();
        for scope in scopes {
            let whole = AbsResource { module: scope.module_instance(), resource: block.resource.clone() };
            let Some(keys) = crate::instances::expand(&scope, &resource.expansion)? else { return Ok(None) };
            instances.extend(keys.into_iter().map(|(key, repetition)| (whole.instance(key), repetition)));
        }
        Ok(Some(instances))
    }

    /// The desired value of a resource instance given what is known so far, with its sensitive attributes.
    pub fn desired(&self, address: &ResourceInstance, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        self.evaluate(&address.config(), &address.to_string(), self.instance_scope(address, known)?)
    }

    /// What a resource instance's expressions see: its module instance's scope, with its own
    /// `count.index` or `each`.
    pub fn instance_scope<'a>(&'a self, address: &ResourceInstance, known: &'a Known) -> Result<Scope<'a>> {
        let resource = self.configured(&address.config())?;
        let scope = self.module_scope(&address.module, known)?;
        let repetition = self.repetition(address.resource().to_string(), &scope, &resource.expansion, &address.key).map_err(|found| at(found, &resource.location))?;
        Ok(scope.repeating(repetition))
    }

    /// What the instance `key` of `subject` (a resource or module call) sees of its `count` or
    /// `for_each`; a `for_each` known whole is evaluated once per run.
    fn repetition(&self, subject: String, scope: &Scope<'_>, expansion: &config::Expansion, key: &crate::addrs::InstanceKey) -> Result<Repetition> {
        let (config::Expansion::ForEach(attr), crate::addrs::InstanceKey::Str(name)) = (expansion, key) else {
            return crate::instances::repetition(scope, expansion, key);
        };
        let seen = self.for_each_seen.lock().ok().and_then(|seen| seen.get(&subject).cloned());
        let entries = match seen {
            Some(entries) => entries,
            None => {
                let Some(entries) = crate::instances::for_each(scope, attr)? else { return crate::instances::repetition(scope, expansion, key) };
                let entries = std::sync::Arc::new(entries);
                if entries.values().all(Value::is_wholly_known) {
                    if let Ok(mut seen) = self.for_each_seen.lock() {
                        seen.insert(subject, std::sync::Arc::clone(&entries));
                    }
                }
                entries
            }
        };
        Ok(Repetition::Each { key: Value::String(name.clone()), value: entries.get(name).cloned().unwrap_or(Value::Unknown) })
    }

    /// The desired value of an instance whose `count.index` or `each` is already known (the
    /// planner has them from expanding its resource, and re-evaluating `for_each` per instance
    /// would cost the square of the instances).
    pub fn desired_repeating(&self, address: &ResourceInstance, repetition: Repetition, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        let scope = self.module_scope(&address.module, known)?;
        self.evaluate(&address.config(), &address.to_string(), scope.repeating(repetition))
    }

    /// A resource block evaluated as validation sees it: its `count` or `for_each` evaluated,
    /// then one instance with `count.index` and `each` unknown, and so for every module call on the way.
    pub fn desired_for_validation(&self, address: &ModuleResource, known: &Known) -> Result<(Value, BTreeSet<String>)> {
        let mut scope = self.scope(known);
        for name in &address.module.0 {
            let call = scope.config.modules.get(name).ok_or_else(|| not_configured(&scope.module_instance()))?;
            crate::instances::expand(&scope, &call.expansion).map_err(|found| at(found, &call.location))?;
            let repetition = crate::instances::unknown_repetition(&call.expansion);
            scope = scope.child(name, crate::addrs::InstanceKey::None, repetition).ok_or_else(|| not_configured(&ModuleInstance::root()))?;
        }
        let resource = self.configured(address)?;
        crate::instances::expand(&scope, &resource.expansion).map_err(|found| at(found, &resource.location))?;
        let repetition = crate::instances::unknown_repetition(&resource.expansion);
        self.evaluate(address, &address.to_string(), scope.repeating(repetition))
    }

    fn configured(&self, address: &ModuleResource) -> Result<&config::Resource> {
        self.config.resource(address).ok_or_else(|| Diagnostic::error(format!("{address} is not in the configuration")).into())
    }

    fn evaluate(&self, address: &ModuleResource, subject: &str, scope: Scope<'_>) -> Result<(Value, BTreeSet<String>)> {
        let resource = self.configured(address)?;
        let schema = self.providers.resource_schema(&address.resource)?;
        let (value, mut sensitive) = scope.eval_body(&resource.body)?;
        let value = conform(&schema.block, value, &resource.body, subject)?;
        sensitive.extend(schema.block.attributes.iter().filter(|(_, a)| a.sensitive).map(|(n, _)| (*n).to_owned()));
        Ok((value, sensitive))
    }

    /// The resources an instance depends on: it waits for every instance of them (see
    /// [`Context::resources_seen_from`]; `known` holds the instances to choose from).
    pub fn dependencies_of(&self, instance: &ResourceInstance, known: &Known) -> BTreeSet<AbsResource> {
        let blocks = self.graph.resource_dependencies(&crate::graph::Node::Resource(instance.config()));
        self.resources_seen_from(&instance.module, &blocks, known.keys())
    }

    /// The resources whose blocks are `blocks`, as the module instance `from` sees them: one in
    /// the same module instance (or a calling one) is named exactly; one inside a module called
    /// from there (read through an output) is each of its instances among `candidates`.
    pub fn resources_seen_from<'k>(&self, from: &ModuleInstance, blocks: &BTreeSet<ModuleResource>, candidates: impl Iterator<Item = &'k ResourceInstance>) -> BTreeSet<AbsResource> {
        let here = from.path();
        let mut found = BTreeSet::new();
        let mut below = Vec::new();
        for block in blocks {
            let shared = here.0.iter().zip(&block.module.0).take_while(|(a, b)| a == b).count();
            if shared == block.module.0.len() {
                found.insert(AbsResource { module: from.ancestor(shared), resource: block.resource.clone() });
            } else {
                below.push((block, from.ancestor(shared)));
            }
        }
        if !below.is_empty() {
            for candidate in candidates {
                let inside = |(block, prefix): &(&ModuleResource, ModuleInstance)| candidate.resource == block.resource && candidate.module.path() == block.module && candidate.module.0.starts_with(&prefix.0);
                if below.iter().any(inside) {
                    found.insert(candidate.resource());
                }
            }
        }
        found
    }

    /// The evaluated `provider` block of `name` (null when there is none).
    pub fn provider_settings(&self, config: &ProviderConfig, known: &Known) -> Result<Value> {
        let Some(block) = self.config.providers.get(config) else { return Ok(Value::Null) };
        let provider = self.providers.get(config)?;
        let (value, _) = self.scope(known).eval_body(&block.body)?;
        conform(&provider.schema().provider, value, &block.body, &format!("provider \"{config}\""))
    }

    /// The provider configuration that manages an instance: the configuration's say, else (it is
    /// no longer configured) what state recorded, else its type's default.
    pub fn provider_of(&self, instance: &ResourceInstance, recorded: Option<ProviderConfig>) -> ProviderConfig {
        self.config.provider_for(&instance.config()).or(recorded).unwrap_or_else(|| ProviderConfig::default_of(instance.provider()))
    }
}

/// The version of Terraform whose language strata reads, for `required_version`.
pub const TERRAFORM_LANGUAGE: &str = "1.10.0";

/// Every module's `required_version` (an error unless strata reads that language) and
/// `required_providers` (an error for a provider strata does not have or whose source is another's;
/// a warning for a version constraint the names strata implements do not meet). Answers the warnings.
fn check_requirements(config: &Config, providers: &Providers) -> Result<Diagnostics> {
    let (mut errors, mut warnings) = (Diagnostics::default(), Diagnostics::default());
    let parsed = |text: &str, location: &crate::diag::Location| {
        text.parse::<Constraints>().map_err(|why| Diagnostics::from(Diagnostic::error(format!("invalid version constraint: {why}")).at(Some(location))))
    };
    let version = |text: &str| parse_version(text).ok();
    for module in config.modules_in_tree() {
        for (constraint, location) in &module.requirements.versions {
            match parsed(constraint, location) {
                Ok(c) if version(TERRAFORM_LANGUAGE).is_some_and(|v| c.matches(&v)) => {}
                Ok(_) => errors.push(
                    Diagnostic::error("Unsupported Terraform Core version")
                        .at(Some(location))
                        .detail(format!("this configuration requires Terraform {constraint}; strata reads the language of Terraform {TERRAFORM_LANGUAGE}"))
                        .hint("widen required_version if the configuration works with that language"),
                ),
                Err(found) => errors.extend(found),
            }
        }
        for (name, required) in &module.requirements.providers {
            let Ok(provider) = providers.named(name) else {
                let wanted = required.source.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                errors.push(
                    Diagnostic::error(format!("strata has no provider \"{name}\"{wanted}"))
                        .at(Some(&required.location))
                        .hint(format!("strata's providers are {}; remove the requirement, and the resources that need it", providers.names().join(", "))),
                );
                continue;
            };
            let schema = provider.schema();
            let normalized = |source: &str| source.to_ascii_lowercase().trim_start_matches("registry.terraform.io/").to_owned();
            if let Some(source) = required.source.as_deref().filter(|s| normalized(s) != schema.source) {
                errors.push(
                    Diagnostic::error(format!("required_providers: \"{name}\" is {source}, but strata's {name} provider is {}", schema.source))
                        .at(Some(&required.location))
                        .hint(format!("write source = \"{}\"", schema.source)),
                );
            }
            if let Some(constraint) = &required.version {
                match parsed(constraint, &required.location) {
                    Ok(c) if version(schema.implements).is_some_and(|v| c.matches(&v)) => {}
                    Ok(_) => warnings.push(
                        Diagnostic::warning(format!("strata's {name} provider implements {} {}, which version = \"{constraint}\" does not allow", schema.source, schema.implements))
                            .at(Some(&required.location))
                            .detail("strata ships its own providers: the resource and argument names are those of that version"),
                    ),
                    Err(found) => errors.extend(found),
                }
            }
        }
    }
    errors.into_result().map(|_| warnings)
}

/// The provider configuration every resource of the tree uses; one that a module uses but its
/// call does not pass, or one the root does not declare, is an error at the resource.
fn provider_configurations(config: &Config) -> Result<BTreeSet<ProviderConfig>> {
    let mut in_use = BTreeSet::new();
    let mut errors = Diagnostics::default();
    for (address, resource) in config.all_resources() {
        match config.provider_for(&address) {
            Some(provider) if provider.alias.is_some() && !config.providers.contains_key(&provider) => errors.push(
                Diagnostic::error(format!("Provider configuration not present: {address} uses {provider}"))
                    .at(Some(&resource.location))
                    .hint(format!("declare provider \"{}\" {{ alias = \"{}\" ... }} in the root module", provider.name, provider.alias.as_deref().unwrap_or_default())),
            ),
            Some(provider) => {
                in_use.insert(provider);
            }
            None => {
                let wanted = resource.provider.clone().unwrap_or_else(|| ProviderConfig::default_of(address.provider()));
                errors.push(
                    Diagnostic::error(format!("{address} uses the provider configuration {wanted}, which its module call does not pass"))
                        .at(Some(&resource.location))
                        .hint(format!("pass it in the module block: providers = {{ {wanted} = {wanted} }} (or another configuration of {})", wanted.name)),
                );
            }
        }
    }
    errors.into_result().map(|_| in_use)
}

fn not_configured(module: &ModuleInstance) -> Diagnostics {
    Diagnostic::error(format!("{module} is not in the configuration")).into()
}

/// `found` pointed at `location` where it points nowhere yet.
fn at(found: Diagnostics, location: &crate::diag::Location) -> Diagnostics {
    Diagnostics(found.0.into_iter().map(|d| d.at(Some(location))).collect())
}

/// Checks every resource and provider block against its provider's schema.
fn check_schemas(config: &Config, providers: &Providers) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (address, resource) in config.all_resources() {
        match providers.resource_schema(&address.resource) {
            Ok(schema) => {
                if let Err(found) = check_body(&schema.block, &resource.body, &address.to_string()) {
                    errors.extend(found);
                }
            }
            Err(found) => errors.extend(at(found, &resource.location)),
        }
    }
    for (name, block) in &config.providers {
        match providers.named(&name.name) {
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
