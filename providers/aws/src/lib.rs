//! The AWS provider of strata: RDS instances, DB parameter and subnet groups, EC2 security groups,
//! RDS snapshots, AWS Backup vaults, plans and selections, and the `aws_vpc` / `aws_subnets` /
//! `aws_db_snapshot` data sources.
//!
//! Owns the one list of resource types ([`RESOURCE_TYPES`], each a module declaring itself through
//! `resource_type::ResourceType`) and of data sources, and routing every [`Provider`] call through
//! them, on clients built by `config` in each resource's region, with the arguments all types
//! share (`shared_arguments`) handled around each type's own entry points. Refresh is batched:
//! one paginated Describe per resource type and region, whatever the number of resources. It
//! knows nothing of the CLI, HCL or the state file, and never touches an object it was not
//! handed.

mod backup_cron;
mod backup_plan;
mod backup_selection;
mod backup_tags;
mod backup_vault;
mod config;
mod data_sources;
mod db_restore_drill;
mod db_snapshot;
mod db_snapshot_copy;
mod diff;
mod engine_version;
mod errors;
mod pages;
mod parameter_group;
mod rds_instance;
mod rds_tags;
mod resource_type;
mod schema;
mod secrets;
mod security_group_rule;
mod shared_arguments;
mod security_group;
mod sg_calls;
mod sg_rules;
mod snapshot_copies;
mod standalone_rules;
mod snapshot_policy;
mod subnet_group;
mod tags;
mod vpc_security_group_rule;
mod wait;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use strata_provider_sdk::{
    delete_then_create, Action, ApplyFailure, ApplyRequest, PlanRequest, PlannedChange, Proof,
    Provider, ProviderError, ProviderSchema, RefreshRequest, Value,
};

pub use crate::backup_tags::DocumentedListTagsPath;
use crate::config::{CallCounter, Clients};
use crate::resource_type::{Cx, ResourceType};
use crate::secrets::Vault;
use crate::shared_arguments::{complete_live, region_of};
use crate::standalone_rules::Claims;

/// Every resource type this provider manages: adding one is its module and one line here.
static RESOURCE_TYPES: &[&dyn ResourceType] = &[
    &rds_instance::DbInstanceType,
    &parameter_group::ParameterGroupType,
    &security_group::SecurityGroupType,
    &security_group_rule::SecurityGroupRuleType,
    &vpc_security_group_rule::INGRESS,
    &vpc_security_group_rule::EGRESS,
    &subnet_group::SubnetGroupType,
    &db_snapshot::DbSnapshotType,
    &db_snapshot_copy::DbSnapshotCopyType,
    &snapshot_policy::SnapshotPolicyType,
    &db_restore_drill::RestoreDrillType,
    &backup_vault::BackupVaultType,
    &backup_plan::BackupPlanType,
    &backup_selection::BackupSelectionType,
];

fn resource_type(type_name: &str) -> Result<&'static dyn ResourceType, ProviderError> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|kind| kind.name() == type_name)
        .ok_or_else(|| ProviderError::new(format!("the aws provider has no resource type {type_name}")))
}

pub struct AwsProvider {
    schema: ProviderSchema,
    clients: OnceLock<Clients>,
    calls: CallCounter,
    /// Passwords seen by plan, for the apply that follows (see `secrets`).
    vault: Vault,
    /// Instances plan decided to replace, for the delete that starts each replace.
    replacements: rds_instance::Replacements,
    /// The security group rules standalone rule resources manage, as the last refresh found
    /// them in state: their groups leave them alone.
    claims: Mutex<Claims>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        AwsProvider::new()
    }
}

impl AwsProvider {
    pub fn new() -> AwsProvider {
        AwsProvider {
            schema: schema::provider_schema(RESOURCE_TYPES, data_sources::ALL),
            clients: OnceLock::new(),
            calls: CallCounter::default(),
            vault: Vault::default(),
            replacements: rds_instance::Replacements::default(),
            claims: Mutex::default(),
        }
    }

    fn clients(&self) -> Result<&Clients, ProviderError> {
        self.clients
            .get()
            .ok_or_else(|| ProviderError::new("the aws provider was used before it was configured"))
    }

    /// The provider's clients in `region` (its own region when `None`).
    fn configured_in(&self, region: Option<&str>) -> Result<Clients, ProviderError> {
        let clients = self.clients()?;
        Ok(match region {
            Some(region) if clients.region() != Some(region) => clients.in_region(region),
            _ => clients.clone(),
        })
    }

    /// The same, or none before configure (plans may run offline).
    fn clients_in(&self, region: Option<&str>) -> Option<Clients> {
        self.configured_in(region).ok()
    }

    fn cx<'a>(&'a self, clients: Option<&'a Clients>) -> Cx<'a> {
        Cx { clients, vault: &self.vault, replacements: &self.replacements }
    }

    /// Refreshes the states of one type in one region, in one batch.
    async fn refresh_batch(&self, kind: &dyn ResourceType, region: Option<&str>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        let clients = self.configured_in(region)?;
        let region = clients.region().or(region);
        let mut live = kind.refresh(&self.cx(Some(&clients)), states).await?;
        for (value, state) in live.iter_mut().zip(states) {
            if let Some(value) = value {
                self.finish_live(kind, value, state, region);
            }
        }
        Ok(live)
    }

    /// Notes which rules the standalone rule resources among `requests` manage.
    fn remember_claims(&self, requests: &[RefreshRequest]) -> Result<(), ProviderError> {
        let mut claims = Claims::default();
        for request in requests {
            resource_type(&request.type_name)?.claim_rules(&request.state, &mut claims);
        }
        *self.claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = claims;
        Ok(())
    }

    /// A live value of `kind`, completed and without the rules other resources claim.
    fn finish_live(&self, kind: &dyn ResourceType, live: &mut Value, source: &Value, region: Option<&str>) {
        complete_live(kind, live, source, region);
        let claims = self.claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kind.release_claimed(live, &claims);
    }

    async fn plan_kind(&self, kind: &dyn ResourceType, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        if let Some(prior) = prior {
            let because = shared_arguments::forced_replacement(kind, prior, desired);
            if !because.is_empty() {
                let change = delete_then_create(self, kind.name(), prior, desired).await?;
                return Ok(PlannedChange { replace_because: because, ..change });
            }
        }
        let region = region_of(desired).or(prior.and_then(region_of));
        let clients = self.clients_in(region);
        let shown = shared_arguments::desired_for_type(kind, prior, desired)?;
        let change = kind.plan(&self.cx(clients.as_ref()), prior, &shown).await?;
        let region = clients.as_ref().and_then(Clients::region).or(region);
        Ok(shared_arguments::complete_plan(kind, prior, desired, region, change))
    }

    async fn apply_kind(&self, kind: &dyn ResourceType, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
        let prior = request.prior.as_ref();
        if request.action == Action::Delete {
            let prior = prior.ok_or_else(|| ProviderError::new(format!("nothing to delete for {}", kind.name())))?;
            let clients = self.configured_in(region_of(prior))?;
            return kind.delete(&self.cx(Some(&clients)), prior).await.map(|()| Value::Null);
        }
        // A replace reaches a provider as a delete, then a create with no prior.
        let planned = &request.planned;
        let clients = self.configured_in(region_of(planned))?;
        let region = clients.region().or(region_of(planned));
        let complete = |mut value: Value| {
            self.finish_live(kind, &mut value, planned, region);
            value
        };
        match kind.apply(&self.cx(Some(&clients)), prior, planned, request.authorship.as_ref()).await {
            Ok(value) => Ok(complete(value)),
            Err(failure) => Err(ApplyFailure { partial: failure.partial.map(complete), ..failure }),
        }
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn use_state_salt(&self, salt: &str) {
        self.vault.use_salt(salt);
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let clients = config::build_clients(config, &self.calls).await?;
        let _ = self.clients.set(clients);
        Ok(())
    }

    async fn refresh(
        &self,
        requests: &[RefreshRequest],
    ) -> Result<Vec<Option<Value>>, ProviderError> {
        let mut batches: BTreeMap<(&str, Option<&str>), Vec<usize>> = BTreeMap::new();
        for (index, request) in requests.iter().enumerate() {
            let key = (request.type_name.as_str(), region_of(&request.state));
            batches.entry(key).or_default().push(index);
        }
        self.remember_claims(requests)?;
        let mut answers = vec![None; requests.len()];
        for ((type_name, region), indexes) in batches {
            let states: Vec<&Value> = indexes.iter().map(|&i| &requests[i].state).collect();
            let live = self.refresh_batch(resource_type(type_name)?, region, &states).await?;
            for (index, value) in indexes.into_iter().zip(live) {
                answers[index] = value;
            }
        }
        Ok(answers)
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        let kind = resource_type(type_name)?;
        let (id, region) = shared_arguments::split_region(id);
        let clients = self.configured_in(region)?;
        let live = kind.import(&self.cx(Some(&clients)), id).await?;
        let region = clients.region().or(region);
        Ok(live.map(|mut value| {
            self.finish_live(kind, &mut value, &Value::Null, region);
            value
        }))
    }

    /// The type's own id, with `@REGION` when the object is made outside the provider's region.
    fn adoption_id(&self, type_name: &str, planned: &Value) -> Option<String> {
        let id = resource_type(type_name).ok()?.adoption_id(planned)?;
        let home = self.clients.get().and_then(Clients::region);
        Some(match region_of(planned) {
            Some(region) if home.is_some_and(|home| home != region) => format!("{id}@{region}"),
            _ => id,
        })
    }

    /// The live object carries the mark its create set with the intent's id.
    async fn authored(
        &self,
        type_name: &str,
        live: &Value,
        proof: &Proof,
    ) -> Result<bool, ProviderError> {
        let kind = resource_type(type_name)?;
        let clients = self.configured_in(region_of(live))?;
        kind.authored(&self.cx(Some(&clients)), live, &proof.intent_id).await
    }

    async fn plan(&self, request: &PlanRequest) -> Result<PlannedChange, ProviderError> {
        let kind = resource_type(&request.type_name)?;
        self.plan_kind(kind, request.prior.as_ref(), &request.desired).await
    }

    async fn apply(&self, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
        let kind = resource_type(&request.type_name)?;
        self.apply_kind(kind, request).await
    }

    async fn plan_replace(
        &self,
        type_name: &str,
        prior: &Value,
        desired: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        let kind = resource_type(type_name)?;
        let clients = self.clients_in(region_of(desired).or(region_of(prior)));
        match kind.plan_replace(&self.cx(clients.as_ref()), prior, desired).await {
            Some(change) => change,
            None => delete_then_create(self, type_name, prior, desired).await,
        }
    }

    async fn plan_delete(
        &self,
        type_name: &str,
        prior: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        let kind = resource_type(type_name)?;
        let clients = self.clients_in(region_of(prior));
        kind.plan_delete(&self.cx(clients.as_ref()), prior).await
    }

    fn call_counts(&self) -> Vec<(String, u64)> {
        self.calls.snapshot()
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let source = data_sources::find(type_name)?;
        let clients = self.configured_in(region_of(config))?;
        let mut value = source.read(&clients, config).await?;
        if source.schema().block.attributes.contains_key(shared_arguments::REGION) {
            value.set(shared_arguments::REGION, clients.region().map(Value::from).unwrap_or_default());
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_ids_name_the_object_a_create_makes() {
        let provider = AwsProvider::new();
        let group = Value::object([("name", Value::from("db")), ("vpc_id", Value::from("vpc-1"))]);
        assert_eq!(provider.adoption_id("aws_security_group", &group).as_deref(), Some("vpc-1/db"));
        let instance = Value::object([("identifier", Value::from("main"))]);
        assert_eq!(provider.adoption_id("aws_db_instance", &instance).as_deref(), Some("main"));
        assert_eq!(provider.adoption_id("aws_db_subnet_group", &Value::Null), None);
        assert_eq!(provider.adoption_id("aws_db_snapshot_policy", &instance), None);
    }

    #[test]
    fn every_type_is_declared_once_with_its_import_id() {
        let provider = AwsProvider::new();
        let schema = provider.schema();
        assert_eq!(schema.resources.len(), RESOURCE_TYPES.len(), "type names are unique");
        for kind in RESOURCE_TYPES {
            assert_eq!(schema.import_ids.get(kind.name()).copied(), kind.import_id_form());
        }
    }
}
