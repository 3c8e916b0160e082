//! `aws_db_subnet_group`: one paginated DescribeDBSubnetGroups for all groups (filtered here),
//! tags per managed group; subnets and description change in place (ModifyDBSubnetGroup).
//!
//! Subnet ids compare as a set and are returned in state's order. Must not touch a group it was
//! not handed.

use std::collections::BTreeMap;

use aws_sdk_rds::types::DbSubnetGroup;
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::pages::{self, collect_by_name};
use crate::tags::{self, TagChange};
use crate::{errors, rds_tags, schema};
use crate::resource_type::{About, Cx, NamePrefix, ResourceType};

const DEFAULT_DESCRIPTION: &str = "Managed by strata";

/// All subnet groups, or the one named, keyed by lower-cased name (RDS lower-cases them).
async fn describe_groups(
    clients: &Clients,
    name: Option<&str>,
) -> Result<BTreeMap<String, DbSubnetGroup>, ProviderError> {
    let request = clients
        .rds
        .describe_db_subnet_groups()
        .set_db_subnet_group_name(name.map(str::to_lowercase));
    Ok(collect_by_name!(
        request.into_paginator().send(),
        "rds:DescribeDBSubnetGroups",
        db_subnet_groups,
        db_subnet_group_name
    ))
}

pub async fn refresh(
    clients: &Clients,
    states: &[&Value],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let groups = describe_groups(clients, None).await?;
    pages::read_each(states, &groups, |group, state| async move {
        read_group(clients, &group, &state).await
    })
    .await
}

async fn read_group(
    clients: &Clients,
    group: &DbSubnetGroup,
    state: &Value,
) -> Result<Value, ProviderError> {
    let name = group.db_subnet_group_name().unwrap_or_default();
    let arn = group.db_subnet_group_arn().unwrap_or_default();
    let tags = rds_tags::list(clients, arn).await?;
    let order = state.get_strings("subnet_ids");
    let mut subnets: Vec<String> = group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .map(str::to_owned)
        .collect();
    subnets.sort_by_key(|s| {
        (
            order.iter().position(|o| o == s).unwrap_or(usize::MAX),
            s.clone(),
        )
    });
    let spelled = state
        .get_str("name")
        .filter(|s| s.eq_ignore_ascii_case(name))
        .unwrap_or(name);
    Ok(Value::object([
        ("name", Value::from(spelled)),
        (
            "description",
            group
                .db_subnet_group_description()
                .map(Value::from)
                .unwrap_or_default(),
        ),
        (
            "subnet_ids",
            Value::List(subnets.into_iter().map(Value::from).collect()),
        ),
        ("tags", tags::to_value(&tags)),
        ("id", Value::from(spelled)),
        ("arn", Value::from(arn)),
        (
            "vpc_id",
            group.vpc_id().map(Value::from).unwrap_or_default(),
        ),
        (
            "supported_network_types",
            Value::List(group.supported_network_types().iter().map(|t| Value::from(t.as_str())).collect()),
        ),
    ]))
}

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match (name, live.as_str(), wanted.as_str()) {
        ("name", Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        ("subnet_ids", _, _) => diff::same_set(live, wanted),
        ("tags", _, _) => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn create_operation(desired: &Value) -> String {
    format!(
        "CreateDBSubnetGroup {} (subnets {})",
        desired.get_str("name").unwrap_or("(unknown)"),
        diff::show(desired.get("subnet_ids").unwrap_or(&Value::Null))
    )
}

fn kind() -> Kind {
    Kind {
        block: schema::subnet_group().block,
        same,
        create_operations: |desired| vec![create_operation(desired)],
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    let desired = diff::with_default(desired, "description", Value::from(DEFAULT_DESCRIPTION));
    kind().plan(prior, &desired, |prior, diff| {
        let name = prior.get_str("name").unwrap_or_default();
        let mut operations = Vec::new();
        for change in diff.changes.iter().filter(|c| c.name != "tags") {
            operations.push(format!(
                "ModifyDBSubnetGroup {name}: {} {} -> {}",
                change.name,
                diff::show(&change.from),
                diff::show(&change.to)
            ));
        }
        if let Some(change) = diff.get("tags") {
            operations.extend(TagChange::between(&change.from, &change.to).operations(
                "AddTagsToResource",
                "RemoveTagsFromResource",
                name,
            ));
        }
        diff::finish(diff.planned, operations)
    })
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    diff::deletion(format!(
        "DeleteDBSubnetGroup {}",
        prior.get_str("name").unwrap_or_default()
    ))
}

pub async fn apply(
    clients: &Clients,
    prior: Option<&Value>,
    planned: &Value,
    authorship: Option<&Authorship>,
) -> Result<Value, ApplyFailure> {
    let desired = diff::with_default(
        &planned.unknowns_to_null(),
        "description",
        Value::from(DEFAULT_DESCRIPTION),
    );
    // RDS stores the name lower-cased; moto matches it only in that spelling.
    let name = &desired
        .get_str("name")
        .ok_or_else(|| ProviderError::new("name is required"))?
        .to_lowercase();
    let subnets = Some(desired.get_strings("subnet_ids"));
    let description = desired.get_str("description").map(str::to_owned);
    match prior {
        None => {
            let tags = tags::for_create(&desired, authorship);
            let request = clients
                .rds
                .create_db_subnet_group()
                .db_subnet_group_name(name)
                .set_db_subnet_group_description(description)
                .set_subnet_ids(subnets)
                .set_tags((!tags.is_empty()).then(|| rds_tags::to_sdk(&tags)));
            request
                .send()
                .await
                .map_err(|e| errors::create_failed("rds:CreateDBSubnetGroup", name, e))?;
        }
        Some(prior) => {
            let diff = diff::attributes(&kind().block, Some(prior), &desired, same);
            if diff.get("subnet_ids").is_some() || diff.get("description").is_some() {
                let request = clients
                    .rds
                    .modify_db_subnet_group()
                    .db_subnet_group_name(name)
                    .set_db_subnet_group_description(description)
                    .set_subnet_ids(subnets);
                request
                    .send()
                    .await
                    .map_err(|e| errors::api("rds:ModifyDBSubnetGroup", e))?;
            }
            if let Some(change) = diff.get("tags") {
                rds_tags::update(
                    clients,
                    prior.get_str("arn").unwrap_or_default(),
                    &TagChange::between(&change.from, &change.to),
                )
                .await?;
            }
        }
    }
    let groups = describe_groups(clients, Some(name)).await?;
    Ok(
        pages::read_back(&desired, &groups, |group, state| async move {
            read_group(clients, &group, &state).await
        })
        .await?,
    )
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let name = prior.get_str("name").unwrap_or_default().to_lowercase();
    let result = clients
        .rds
        .delete_db_subnet_group()
        .db_subnet_group_name(name)
        .send()
        .await;
    errors::deleted(
        "rds:DeleteDBSubnetGroup",
        result,
        "DBSubnetGroupNotFoundFault",
    )
}

/// What `aws_db_subnet_group` declares about itself.
const ABOUT: About = About {
    name: "aws_db_subnet_group",
    schema: schema::subnet_group,
    import_id: Some("the group name"),
    named_by: Some("name"),
    local_arguments: &[],
    name_prefix: Some(NamePrefix { name: "name", prefix: "name_prefix" }),
};

/// `aws_db_subnet_group` in the provider's table of types.
pub struct SubnetGroupType;

#[async_trait::async_trait]
impl ResourceType for SubnetGroupType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan(prior, desired))
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan_delete(prior))
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        apply(cx.clients()?, prior, planned, authorship).await
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        Ok(delete(cx.clients()?, prior).await?)
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        rds_tags::marked_by(cx.clients()?, live.get_str("arn").unwrap_or_default(), intent_id).await
    }
}
