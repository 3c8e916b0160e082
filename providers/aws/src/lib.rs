//! The AWS provider of strata: RDS instances, DB parameter and subnet groups, EC2 security groups,
//! RDS snapshots, AWS Backup vaults, plans and selections, and the `aws_vpc` / `aws_subnets` /
//! `aws_db_snapshot` data sources.
//!
//! Owns routing the [`Provider`] calls to one module per resource type (`rds_instance`,
//! `parameter_group`, `security_group`, `subnet_group`, `data_sources`), on clients built by
//! `config`. Refresh is batched: one paginated Describe per resource type, whatever the number of
//! resources. It knows nothing of the CLI, HCL or the state file, and never touches an object it
//! was not handed.

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
mod import;
mod pages;
mod parameter_group;
mod rds_instance;
mod rds_tags;
mod schema;
mod secrets;
mod security_group;
mod sg_rules;
mod snapshot_copies;
mod snapshot_policy;
mod subnet_group;
mod tags;
mod wait;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use async_trait::async_trait;
use strata_provider_sdk::{
    delete_then_create, Action, ApplyFailure, ApplyRequest, PlanRequest, PlannedChange, Proof,
    Provider, ProviderError, ProviderSchema, RefreshRequest, Value,
};

pub use crate::backup_tags::DocumentedListTagsPath;
use crate::config::{CallCounter, Clients};
use crate::secrets::Vault;

pub struct AwsProvider {
    schema: ProviderSchema,
    clients: OnceLock<Clients>,
    calls: CallCounter,
    /// Passwords seen by plan, for the apply that follows (see `secrets`).
    vault: Vault,
    /// Instances plan decided to replace, for the delete that starts each replace.
    replacements: rds_instance::Replacements,
}

impl Default for AwsProvider {
    fn default() -> Self {
        AwsProvider::new()
    }
}

impl AwsProvider {
    pub fn new() -> AwsProvider {
        AwsProvider {
            schema: schema::provider_schema(),
            clients: OnceLock::new(),
            calls: CallCounter::default(),
            vault: Vault::default(),
            replacements: rds_instance::Replacements::default(),
        }
    }

    fn clients(&self) -> Result<&Clients, ProviderError> {
        self.clients
            .get()
            .ok_or_else(|| ProviderError::new("the aws provider was used before it was configured"))
    }
}

fn unknown_type(type_name: &str) -> ProviderError {
    ProviderError::new(format!("the aws provider has no resource type {type_name}"))
}

/// Refreshes the states of one resource type in one batch.
async fn refresh_type(
    clients: &Clients,
    type_name: &str,
    states: &[&Value],
) -> Result<Vec<Option<Value>>, ProviderError> {
    match type_name {
        "aws_db_instance" => rds_instance::refresh(clients, states).await,
        "aws_db_parameter_group" => parameter_group::refresh(clients, states).await,
        "aws_security_group" => security_group::refresh(clients, states).await,
        "aws_db_subnet_group" => subnet_group::refresh(clients, states).await,
        "aws_db_snapshot" => db_snapshot::refresh(clients, states).await,
        "aws_db_snapshot_copy" => db_snapshot_copy::refresh(clients, states).await,
        "aws_db_snapshot_policy" => snapshot_policy::refresh(clients, states).await,
        "aws_backup_vault" => backup_vault::refresh(clients, states).await,
        "aws_backup_plan" => backup_plan::refresh(clients, states).await,
        "aws_backup_selection" => backup_selection::refresh(clients, states).await,
        // Its live object is its last run: nothing to read back.
        "aws_db_restore_drill" => Ok(states.iter().map(|s| Some((*s).clone())).collect()),
        other => Err(unknown_type(other)),
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
        let clients = self.clients()?;
        let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, request) in requests.iter().enumerate() {
            by_type
                .entry(request.type_name.as_str())
                .or_default()
                .push(index);
        }
        let mut answers = vec![None; requests.len()];
        for (type_name, indexes) in by_type {
            let states: Vec<&Value> = indexes.iter().map(|&i| &requests[i].state).collect();
            let live = refresh_type(clients, type_name, &states).await?;
            for (index, value) in indexes.into_iter().zip(live) {
                answers[index] = value;
            }
        }
        Ok(answers)
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        import::find(self.clients()?, type_name, id).await
    }

    fn adoption_id(&self, type_name: &str, planned: &Value) -> Option<String> {
        import::adoption_id(type_name, planned)
    }

    /// The live object carries the `strata:intent` tag its create set, with the intent's id.
    async fn authored(
        &self,
        type_name: &str,
        live: &Value,
        proof: &Proof,
    ) -> Result<bool, ProviderError> {
        import::authored(self.clients()?, type_name, live, &proof.intent_id).await
    }

    async fn plan(&self, request: &PlanRequest) -> Result<PlannedChange, ProviderError> {
        let prior = request.prior.as_ref();
        match request.type_name.as_str() {
            "aws_db_instance" => {
                rds_instance::plan(self.clients(), &self.vault, &self.replacements, prior, &request.desired).await
            }
            "aws_db_parameter_group" => {
                parameter_group::plan(self.clients(), prior, &request.desired).await
            }
            "aws_security_group" => Ok(security_group::plan(prior, &request.desired)),
            "aws_db_subnet_group" => Ok(subnet_group::plan(prior, &request.desired)),
            "aws_db_snapshot" => Ok(db_snapshot::plan(prior, &request.desired)),
            "aws_db_snapshot_copy" => Ok(db_snapshot_copy::plan(prior, &request.desired)),
            "aws_backup_vault" => backup_vault::plan(prior, &request.desired),
            "aws_backup_plan" => backup_plan::plan(prior, &request.desired),
            "aws_backup_selection" => Ok(backup_selection::plan(prior, &request.desired)),
            "aws_db_snapshot_policy" => snapshot_policy::plan(self.clients().ok().and_then(Clients::region), prior, &request.desired),
            "aws_db_restore_drill" => db_restore_drill::plan(prior, &request.desired),
            other => Err(unknown_type(other)),
        }
    }

    async fn apply(&self, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
        let clients = self.clients()?;
        let prior = request.prior.as_ref();
        if request.action == Action::Delete {
            let prior = prior.ok_or_else(|| {
                ProviderError::new(format!("nothing to delete for {}", request.type_name))
            })?;
            return match request.type_name.as_str() {
                "aws_db_instance" => {
                    return rds_instance::delete(clients, &self.replacements, prior)
                        .await
                        .map(|()| Value::Null)
                }
                "aws_db_parameter_group" => parameter_group::delete(clients, prior).await,
                "aws_security_group" => security_group::delete(clients, prior).await,
                "aws_db_subnet_group" => subnet_group::delete(clients, prior).await,
                "aws_db_snapshot" => db_snapshot::delete(clients, prior).await,
                "aws_db_snapshot_copy" => db_snapshot_copy::delete(clients, prior).await,
                // Its snapshots outlive it.
                "aws_db_snapshot_policy" => Ok(()),
                "aws_backup_vault" => backup_vault::delete(clients, prior).await,
                "aws_backup_plan" => backup_plan::delete(clients, prior).await,
                "aws_backup_selection" => backup_selection::delete(clients, prior).await,
                "aws_db_restore_drill" => db_restore_drill::delete(clients, prior).await,
                other => Err(unknown_type(other)),
            }
            .map(|()| Value::Null)
            .map_err(ApplyFailure::from);
        }
        // A replace reaches a provider as a delete, then a create with no prior.
        let (planned, authorship) = (&request.planned, request.authorship.as_ref());
        match request.type_name.as_str() {
            "aws_db_instance" => {
                rds_instance::apply(clients, &self.vault, prior, planned, authorship).await
            }
            "aws_db_parameter_group" => {
                parameter_group::apply(clients, prior, planned, authorship).await
            }
            "aws_security_group" => {
                security_group::apply(clients, prior, planned, authorship).await
            }
            "aws_db_subnet_group" => subnet_group::apply(clients, prior, planned, authorship).await,
            "aws_db_snapshot" => db_snapshot::apply(clients, prior, planned, authorship).await,
            "aws_db_snapshot_copy" => db_snapshot_copy::apply(clients, prior, planned, authorship).await,
            "aws_db_snapshot_policy" => snapshot_policy::apply(clients, prior, planned).await,
            "aws_backup_vault" => backup_vault::apply(clients, prior, planned, authorship).await,
            "aws_backup_plan" => backup_plan::apply(clients, prior, planned, authorship).await,
            "aws_backup_selection" => backup_selection::apply(clients, planned, authorship).await,
            "aws_db_restore_drill" => db_restore_drill::apply(clients, prior, planned).await,
            other => Err(unknown_type(other).into()),
        }
    }

    /// An instance is snapshotted before its delete, as in a replace its configuration forces;
    /// everything else is deleted, then created.
    async fn plan_replace(
        &self,
        type_name: &str,
        prior: &Value,
        desired: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        match type_name {
            "aws_db_instance" => rds_instance::plan_requested_replace(
                self.clients(),
                &self.vault,
                &self.replacements,
                prior,
                desired,
            )
            .await,
            _ => delete_then_create(self, type_name, prior, desired).await,
        }
    }

    async fn plan_delete(
        &self,
        type_name: &str,
        prior: &Value,
    ) -> Result<PlannedChange, ProviderError> {
        match type_name {
            "aws_db_instance" => rds_instance::plan_delete(self.clients(), prior).await,
            "aws_db_parameter_group" => Ok(parameter_group::plan_delete(prior)),
            "aws_security_group" => Ok(security_group::plan_delete(prior)),
            "aws_db_subnet_group" => Ok(subnet_group::plan_delete(prior)),
            "aws_db_snapshot" => Ok(db_snapshot::plan_delete(prior)),
            "aws_db_snapshot_copy" => Ok(db_snapshot_copy::plan_delete(prior)),
            "aws_db_snapshot_policy" => Ok(snapshot_policy::plan_delete(prior)),
            "aws_backup_vault" => backup_vault::plan_delete(prior),
            "aws_backup_plan" => Ok(backup_plan::plan_delete(prior)),
            "aws_backup_selection" => Ok(backup_selection::plan_delete(prior)),
            "aws_db_restore_drill" => Ok(db_restore_drill::plan_delete(prior)),
            other => Err(unknown_type(other)),
        }
    }

    fn call_counts(&self) -> Vec<(String, u64)> {
        self.calls.snapshot()
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let clients = self.clients()?;
        match type_name {
            "aws_vpc" => data_sources::vpc(clients, config).await,
            "aws_subnets" => data_sources::subnets(clients, config).await,
            "aws_db_snapshot" => data_sources::db_snapshot(clients, config).await,
            other => Err(ProviderError::new(format!(
                "the aws provider has no data source {other}"
            ))),
        }
    }
}
