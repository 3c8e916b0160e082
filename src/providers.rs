//! The provider instances a run works with, by name.
//!
//! Owns looking providers up for a resource type and configuring each once. Which providers
//! exist is decided by the binary (`main.rs`), which hands instances in: the engine never names a
//! concrete provider.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use strata_provider_sdk::{Provider, ProviderError, ResourceSchema, Value};
use tokio::sync::Mutex;

use crate::addrs::{provider_of, ConfigResource, Mode};
use crate::diag::{suggestion, Diagnostic, Result};

#[derive(Clone)]
pub struct Providers {
    by_name: BTreeMap<&'static str, Arc<dyn Provider>>,
    /// The providers configured so far in this run: each is configured once, by whichever of plan
    /// or apply first knows its whole configuration.
    configured: Arc<Mutex<BTreeSet<&'static str>>>,
}

impl Providers {
    pub fn new(instances: Vec<Arc<dyn Provider>>) -> Providers {
        Providers { by_name: instances.into_iter().map(|p| (p.name(), p)).collect(), configured: Arc::default() }
    }

    /// Configures `provider` with `config` unless it already was in this run. Concurrent callers
    /// wait for the first to finish rather than configuring twice.
    pub async fn configure_once(&self, provider: &Arc<dyn Provider>, config: &Value) -> std::result::Result<(), ProviderError> {
        let mut configured = self.configured.lock().await;
        if !configured.contains(provider.name()) {
            provider.configure(config).await?;
            configured.insert(provider.name());
        }
        Ok(())
    }

    /// Hands every provider the state's salt for fingerprints of write-only secrets: planning and
    /// applying (a saved plan in a later process too) must seal them alike.
    pub fn use_state_salt(&self, salt: &str) {
        self.by_name.values().for_each(|provider| provider.use_state_salt(salt));
    }

    /// Each provider's count of calls to the system it manages, for `-verbose`.
    pub fn call_counts(&self) -> Vec<(&'static str, Vec<(String, u64)>)> {
        self.by_name.iter().map(|(name, p)| (*name, p.call_counts())).filter(|(_, counts)| !counts.is_empty()).collect()
    }

    pub fn get(&self, name: &str) -> Result<&Arc<dyn Provider>> {
        self.by_name.get(name).ok_or_else(|| {
            Diagnostic::error(format!("unknown provider \"{name}\""))
                .hint(format!("strata has the providers {}", self.by_name.keys().copied().collect::<Vec<_>>().join(", ")))
                .into()
        })
    }

    /// The schema of a resource type or data source, with the closest valid name on a typo.
    pub fn resource_schema(&self, address: &ConfigResource) -> Result<&ResourceSchema> {
        let provider = self.get(provider_of(&address.type_name)).map_err(|_| self.unknown_type(address))?;
        let schemas = match address.mode {
            Mode::Managed => &provider.schema().resources,
            Mode::Data => &provider.schema().data_sources,
        };
        schemas.get(address.type_name.as_str()).ok_or_else(|| self.unknown_type(address))
    }

    fn unknown_type(&self, address: &ConfigResource) -> crate::diag::Diagnostics {
        let (kind, names): (&str, Vec<&str>) = match address.mode {
            Mode::Managed => ("resource type", self.by_name.values().flat_map(|p| p.schema().resources.keys().copied()).collect()),
            Mode::Data => ("data source", self.by_name.values().flat_map(|p| p.schema().data_sources.keys().copied()).collect()),
        };
        Diagnostic::error(format!("unknown {kind} \"{}\"", address.type_name)).hint(suggestion(&address.type_name, names)).into()
    }
}
