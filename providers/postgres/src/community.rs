//! The same provider under the community provider's name, so that configurations written for
//! Terraform's `cyrilgdn/postgresql` work unchanged: `provider "postgresql" { ... }`,
//! `required_providers { postgresql = { source = "cyrilgdn/postgresql" } }` and its resource
//! types (`postgresql_role`, `postgresql_grant`...).
//!
//! [`CommunityProvider`] is a [`PostgresProvider`] of its own (its own connection and
//! configuration) whose schema names each type of [`ALIASES`] by the community name. Every request
//! has its type translated to strata's name on the way in, so nothing below this file knows the
//! community names: an alias takes exactly the arguments of the type it stands for, which follow
//! the community provider's names.

use async_trait::async_trait;
use strata_provider_sdk::{ApplyFailure, ApplyRequest, Declared, InspectScope, Inspection, ObjectNames, PlanRequest, PlannedChange, Proof, Provider, ProviderError, ProviderSchema, RefreshRequest, RestoreRequest, Value};

use crate::PostgresProvider;

/// The community provider's types strata implements, by the community name, with the strata
/// type each stands for. Only types whose arguments are the community provider's are listed.
pub const ALIASES: &[(&str, &str)] = &[
    ("postgresql_database", "postgres_database"),
    ("postgresql_default_privileges", "postgres_default_privileges"),
    ("postgresql_grant", "postgres_grant"),
    ("postgresql_grant_role", "postgres_grant_role"),
    ("postgresql_role", "postgres_role"),
    ("postgresql_schema", "postgres_schema"),
];

/// The community provider's registry source and the version whose names strata implements.
const SOURCE: &str = "cyrilgdn/postgresql";
const IMPLEMENTS: &str = "1.25.0";

pub struct CommunityProvider {
    inner: PostgresProvider,
    schema: ProviderSchema,
}

impl Default for CommunityProvider {
    fn default() -> Self {
        CommunityProvider::new()
    }
}

impl CommunityProvider {
    pub fn new() -> CommunityProvider {
        let inner = PostgresProvider::new();
        let own = inner.schema();
        let mut schema = ProviderSchema { source: SOURCE, implements: IMPLEMENTS, provider: own.provider.clone(), ..ProviderSchema::default() };
        for (alias, strata) in ALIASES {
            if let Some(resource) = own.resources.get(strata) {
                schema.resources.insert(alias, resource.clone());
            }
            if let Some(import_id) = own.import_ids.get(strata) {
                schema.import_ids.insert(alias, import_id);
            }
        }
        CommunityProvider { inner, schema }
    }
}

/// strata's name for `type_name` (unchanged when it is no alias).
pub fn strata_type(type_name: &str) -> &str {
    ALIASES.iter().find(|(alias, _)| *alias == type_name).map_or(type_name, |(_, strata)| strata)
}

fn declared(resources: &[Declared]) -> Vec<Declared> {
    resources.iter().map(|d| Declared { type_name: strata_type(&d.type_name).to_owned(), ..d.clone() }).collect()
}

fn refresh_requests(requests: &[RefreshRequest]) -> Vec<RefreshRequest> {
    requests.iter().map(|r| RefreshRequest { type_name: strata_type(&r.type_name).to_owned(), state: r.state.clone() }).collect()
}

#[async_trait]
impl Provider for CommunityProvider {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        self.inner.configure(config).await
    }

    fn use_state_salt(&self, salt: &str) {
        self.inner.use_state_salt(salt);
    }

    async fn refresh(&self, requests: &[RefreshRequest]) -> Result<Vec<Option<Value>>, ProviderError> {
        self.inner.refresh(&refresh_requests(requests)).await
    }

    async fn plan(&self, request: &PlanRequest) -> Result<PlannedChange, ProviderError> {
        self.inner.plan(&PlanRequest { type_name: strata_type(&request.type_name).to_owned(), ..request.clone() }).await
    }

    async fn apply(&self, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
        self.inner.apply(&ApplyRequest { type_name: strata_type(&request.type_name).to_owned(), declared: declared(&request.declared), ..request.clone() }).await
    }

    async fn plan_delete(&self, type_name: &str, prior: &Value) -> Result<PlannedChange, ProviderError> {
        self.inner.plan_delete(strata_type(type_name), prior).await
    }

    async fn plan_replace(&self, type_name: &str, prior: &Value, desired: &Value) -> Result<PlannedChange, ProviderError> {
        self.inner.plan_replace(strata_type(type_name), prior, desired).await
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        self.inner.import(strata_type(type_name), id).await
    }

    fn adoption_id(&self, type_name: &str, planned: &Value) -> Option<String> {
        self.inner.adoption_id(strata_type(type_name), planned)
    }

    fn object_names(&self, type_name: &str, value: &Value) -> ObjectNames {
        self.inner.object_names(strata_type(type_name), value)
    }

    async fn review(&self, planned: &[Declared]) -> Result<Vec<Vec<String>>, ProviderError> {
        self.inner.review(&declared(planned)).await
    }

    async fn authored(&self, type_name: &str, live: &Value, proof: &Proof) -> Result<bool, ProviderError> {
        self.inner.authored(strata_type(type_name), live, proof).await
    }

    async fn unmanaged(&self, requests: &[RefreshRequest]) -> Result<Vec<Vec<String>>, ProviderError> {
        self.inner.unmanaged(&refresh_requests(requests)).await
    }

    fn call_counts(&self) -> Vec<(String, u64)> {
        self.inner.call_counts()
    }

    async fn restore(&self, request: &RestoreRequest) -> Result<Vec<String>, ProviderError> {
        self.inner.restore(&RestoreRequest { type_name: strata_type(&request.type_name).to_owned(), ..request.clone() }).await
    }

    async fn inspect(&self, scope: &InspectScope) -> Result<Inspection, ProviderError> {
        self.inner.inspect(scope).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_stands_for_a_type_strata_has_with_its_arguments() {
        let (community, strata) = (CommunityProvider::new(), PostgresProvider::new());
        for (alias, own) in ALIASES {
            assert!(alias.starts_with("postgresql_"), "{alias}");
            assert_eq!(community.schema().resources.get(alias), strata.schema().resources.get(own), "{alias} has no strata type {own}");
        }
        assert_eq!(community.schema().resources.len(), ALIASES.len());
        assert_eq!((community.name(), community.schema().source), ("postgresql", SOURCE));
    }

    #[test]
    fn only_aliases_are_translated() {
        assert_eq!(strata_type("postgresql_schema"), "postgres_schema");
        assert_eq!(strata_type("postgres_table"), "postgres_table");
    }
}
