//! The provider instances a run works with: one per provider configuration (`aws`, `aws.west`).
//!
//! Owns looking providers up for a resource type or configuration, making an instance for each
//! aliased configuration, and configuring each once. Which providers exist is decided by the
//! binary (`main.rs`), which hands in how to make them: the engine never names a concrete provider.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use strata_provider_sdk::{Provider, ProviderError, ResourceSchema, Value};
use tokio::sync::Mutex;

use crate::addrs::{provider_of, ConfigResource, Mode, ProviderConfig};
use crate::diag::{suggestion, Diagnostic, Result};

/// Makes a fresh, unconfigured instance of one provider.
pub type ProviderFactory = fn() -> Arc<dyn Provider>;

#[derive(Clone)]
pub struct Providers {
    factories: BTreeMap<&'static str, ProviderFactory>,
    instances: BTreeMap<ProviderConfig, Arc<dyn Provider>>,
    /// The configurations configured so far in this run: each is configured once, by whichever of
    /// plan or apply first knows its whole configuration.
    configured: Arc<Mutex<BTreeSet<ProviderConfig>>>,
}

impl Providers {
    /// One instance of each provider, for its default configuration.
    pub fn new(factories: Vec<ProviderFactory>) -> Providers {
        let made: Vec<(Arc<dyn Provider>, ProviderFactory)> = factories.into_iter().map(|make| (make(), make)).collect();
        Providers {
            factories: made.iter().map(|(provider, make)| (provider.name(), *make)).collect(),
            instances: made.into_iter().map(|(provider, _)| (ProviderConfig::default_of(provider.name()), provider)).collect(),
            configured: Arc::default(),
        }
    }

    /// These providers with an instance of their own for each aliased configuration in `configs`.
    pub fn with_configurations<'c>(&self, configs: impl Iterator<Item = &'c ProviderConfig>) -> Result<Providers> {
        let mut providers = self.clone();
        for config in configs.filter(|c| !self.instances.contains_key(*c)) {
            let make = providers.factories.get(config.name.as_str()).ok_or_else(|| self.unknown(&config.name))?;
            providers.instances.insert(config.clone(), make());
        }
        Ok(providers)
    }

    /// Configures `provider` (the instance of `config`) with `settings` unless it already was in
    /// this run. Concurrent callers wait for the first to finish rather than configuring twice.
    pub async fn configure_once(&self, config: &ProviderConfig, provider: &Arc<dyn Provider>, settings: &Value) -> std::result::Result<(), ProviderError> {
        let mut configured = self.configured.lock().await;
        if !configured.contains(config) {
            provider.configure(settings).await?;
            configured.insert(config.clone());
        }
        Ok(())
    }

    /// Hands every provider the state's salt for fingerprints of write-only secrets: planning and
    /// applying (a saved plan in a later process too) must seal them alike.
    pub fn use_state_salt(&self, salt: &str) {
        self.instances.values().for_each(|provider| provider.use_state_salt(salt));
    }

    /// Each provider configuration's count of calls to the system it manages, for `-verbose`.
    pub fn call_counts(&self) -> Vec<(String, Vec<(String, u64)>)> {
        self.instances.iter().map(|(config, p)| (config.to_string(), p.call_counts())).filter(|(_, counts)| !counts.is_empty()).collect()
    }

    /// The instance of one provider configuration.
    pub fn get(&self, config: &ProviderConfig) -> Result<&Arc<dyn Provider>> {
        self.instances.get(config).ok_or_else(|| match self.factories.contains_key(config.name.as_str()) {
            true => Diagnostic::error(format!("provider configuration {config} is not declared"))
                .hint(format!("add provider \"{}\" {{ alias = \"{}\" ... }} to the root module", config.name, config.alias.as_deref().unwrap_or_default()))
                .into(),
            false => self.unknown(&config.name),
        })
    }

    /// The names of the providers strata has.
    pub fn names(&self) -> Vec<&'static str> {
        self.factories.keys().copied().collect()
    }

    /// The default instance of the provider `name` (for its schema).
    pub fn named(&self, name: &str) -> Result<&Arc<dyn Provider>> {
        self.get(&ProviderConfig::default_of(name))
    }

    fn unknown(&self, name: &str) -> crate::diag::Diagnostics {
        Diagnostic::error(format!("unknown provider \"{name}\""))
            .hint(format!("strata has the providers {}", self.factories.keys().copied().collect::<Vec<_>>().join(", ")))
            .into()
    }

    /// The schema of a resource type or data source, with the closest valid name on a typo.
    pub fn resource_schema(&self, address: &ConfigResource) -> Result<&ResourceSchema> {
        let provider = self.named(provider_of(&address.type_name)).map_err(|_| self.unknown_type(address))?;
        let schemas = match address.mode {
            Mode::Managed => &provider.schema().resources,
            Mode::Data => &provider.schema().data_sources,
        };
        schemas.get(address.type_name.as_str()).ok_or_else(|| self.unknown_type(address))
    }

    fn unknown_type(&self, address: &ConfigResource) -> crate::diag::Diagnostics {
        let defaults = self.factories.keys().filter_map(|name| self.named(name).ok());
        let (kind, names): (&str, Vec<&str>) = match address.mode {
            Mode::Managed => ("resource type", defaults.flat_map(|p| p.schema().resources.keys().copied()).collect()),
            Mode::Data => ("data source", defaults.flat_map(|p| p.schema().data_sources.keys().copied()).collect()),
        };
        Diagnostic::error(format!("unknown {kind} \"{}\"", address.type_name)).hint(suggestion(&address.type_name, names)).into()
    }
}
