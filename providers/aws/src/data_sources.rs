//! The data sources: `aws_vpc` (exactly one VPC by id, `default = true` or tags),
//! `aws_subnets` (the ids of the subnets matching EC2 filters and tags) and `aws_db_snapshot`
//! (one RDS snapshot by instance, identifier and type, or the newest with `most_recent`).
//!
//! Owns translating their arguments into DescribeVpcs / DescribeSubnets / DescribeDBSnapshots
//! requests; reads only.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, Vpc};
use strata_provider_sdk::{ProviderError, ResourceSchema, Value};

use crate::config::Clients;
use crate::{errors, schema, tags};

/// One data source: its schema and how it is read (on clients in its `region`).
#[async_trait]
pub trait DataSource: Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    async fn read(&self, clients: &Clients, config: &Value) -> Result<Value, ProviderError>;
}

/// Every data source this provider reads: adding one is its reader and one line here.
pub static ALL: &[&dyn DataSource] = &[&VpcData, &SubnetsData, &DbSnapshotData];

pub fn find(name: &str) -> Result<&'static dyn DataSource, ProviderError> {
    ALL.iter()
        .copied()
        .find(|source| source.name() == name)
        .ok_or_else(|| ProviderError::new(format!("the aws provider has no data source {name}")))
}

struct VpcData;
struct SubnetsData;
struct DbSnapshotData;

#[async_trait]
impl DataSource for VpcData {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }
    fn schema(&self) -> ResourceSchema {
        schema::vpc_data()
    }
    async fn read(&self, clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
        vpc(clients, config).await
    }
}

#[async_trait]
impl DataSource for SubnetsData {
    fn name(&self) -> &'static str {
        "aws_subnets"
    }
    fn schema(&self) -> ResourceSchema {
        schema::subnets_data()
    }
    async fn read(&self, clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
        subnets(clients, config).await
    }
}

#[async_trait]
impl DataSource for DbSnapshotData {
    fn name(&self) -> &'static str {
        "aws_db_snapshot"
    }
    fn schema(&self) -> ResourceSchema {
        schema::db_snapshot_data()
    }
    async fn read(&self, clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
        db_snapshot(clients, config).await
    }
}

fn filter(name: &str, values: Vec<String>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values))
        .build()
}

/// `tag:KEY = VALUE` filters for a `tags` argument.
fn tag_filters(config: &Value) -> Vec<Filter> {
    tags::from_value(config.get("tags").unwrap_or(&Value::Null))
        .into_iter()
        .map(|(k, v)| filter(&format!("tag:{k}"), vec![v]))
        .collect()
}

async fn vpc(clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
    let mut filters = tag_filters(config);
    if let Some(id) = config.get_str("id") {
        filters.push(filter("vpc-id", vec![id.to_owned()]));
    }
    if let Some(default) = config.get_bool("default") {
        filters.push(filter("is-default", vec![default.to_string()]));
    }
    let mut found: Vec<Vpc> = Vec::new();
    let mut pages = clients
        .ec2
        .describe_vpcs()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        found.extend(
            page.map_err(|e| errors::api("ec2:DescribeVpcs", e))?
                .vpcs()
                .iter()
                .cloned(),
        );
    }
    let vpc = match found.as_slice() {
        [one] => one,
        [] => {
            return Err(ProviderError::new("no VPC matches the aws_vpc data source's arguments")
                .with_hint("check id, default and tags (and the provider's region); a region may have no default VPC"))
        }
        many => {
            let ids: Vec<&str> = many.iter().filter_map(Vpc::vpc_id).collect();
            return Err(ProviderError::new(format!("{} VPCs match the aws_vpc data source's arguments: {}", ids.len(), ids.join(", ")))
                .with_hint("narrow the search with id, default = true or more tags so that exactly one matches"));
        }
    };
    let tags = tags::from_ec2(vpc.tags());
    let id = vpc.vpc_id().unwrap_or_default();
    let owner = vpc.owner_id().unwrap_or_default();
    let region = clients
        .ec2
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    Ok(Value::object([
        ("id", Value::from(id)),
        ("default", Value::Bool(vpc.is_default().unwrap_or(false))),
        ("tags", tags::to_value(&tags)),
        (
            "cidr_block",
            vpc.cidr_block().map(Value::from).unwrap_or_default(),
        ),
        (
            "arn",
            Value::from(format!("arn:aws:ec2:{region}:{owner}:vpc/{id}")),
        ),
        ("owner_id", Value::from(owner)),
    ]))
}

async fn subnets(clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
    let mut filters = tag_filters(config);
    for block in config.get_list("filter") {
        let name = block
            .get_str("name")
            .ok_or_else(|| ProviderError::new("an aws_subnets filter block has no name"))?;
        filters.push(filter(name, block.get_strings("values")));
    }
    let mut ids = Vec::new();
    let mut pages = clients
        .ec2
        .describe_subnets()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::api("ec2:DescribeSubnets", e))?;
        ids.extend(
            page.subnets()
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(str::to_owned),
        );
    }
    ids.sort();
    let mut value = config.clone();
    value.set(
        "ids",
        Value::List(ids.into_iter().map(Value::from).collect()),
    );
    Ok(value)
}

/// `aws_db_snapshot`: exactly one snapshot matches, or the newest with `most_recent = true`;
/// the errors are Terraform's.
async fn db_snapshot(clients: &Clients, config: &Value) -> Result<Value, ProviderError> {
    let mut pages = clients
        .rds
        .describe_db_snapshots()
        .set_db_instance_identifier(config.get_str("db_instance_identifier").map(str::to_owned))
        .set_db_snapshot_identifier(config.get_str("db_snapshot_identifier").map(str::to_owned))
        .set_snapshot_type(config.get_str("snapshot_type").map(str::to_owned))
        .set_include_shared(config.get_bool("include_shared"))
        .set_include_public(config.get_bool("include_public"))
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        found.extend(page.map_err(|e| errors::api("rds:DescribeDBSnapshots", e))?.db_snapshots().iter().cloned());
    }
    found.sort_by_key(|s| s.snapshot_create_time().map(|t| t.secs()).unwrap_or(i64::MIN));
    let snapshot = match (found.as_slice(), config.get_bool("most_recent") == Some(true)) {
        ([], _) => return Err(ProviderError::new("Your query returned no results. Please change your search criteria and try again.")),
        ([one], _) => one,
        (many, true) => &many[many.len() - 1],
        (many, false) => {
            return Err(ProviderError::new(format!("Your query returned more than one result ({}). Please try a more specific search criteria, or set `most_recent` attribute to true.", many.len())))
        }
    };
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or_default();
    let created = snapshot.snapshot_create_time().map(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default());
    let mut value = config.clone();
    for (name, v) in [
        ("id", text(snapshot.db_snapshot_identifier())),
        ("db_snapshot_identifier", text(snapshot.db_snapshot_identifier())),
        ("db_instance_identifier", text(snapshot.db_instance_identifier())),
        ("db_snapshot_arn", text(snapshot.db_snapshot_arn())),
        ("availability_zone", text(snapshot.availability_zone())),
        ("engine", text(snapshot.engine())),
        ("engine_version", text(snapshot.engine_version())),
        ("snapshot_create_time", text(created.as_deref())),
        ("snapshot_type", text(snapshot.snapshot_type())),
        ("status", text(snapshot.status())),
        ("storage_type", text(snapshot.storage_type())),
        ("vpc_id", text(snapshot.vpc_id())),
        ("kms_key_id", text(snapshot.kms_key_id())),
        ("source_region", text(snapshot.source_region())),
        ("allocated_storage", snapshot.allocated_storage().map(|n| Value::int(i64::from(n))).unwrap_or_default()),
        ("port", snapshot.port().map(|n| Value::int(i64::from(n))).unwrap_or_default()),
        ("encrypted", snapshot.encrypted().map(Value::Bool).unwrap_or_default()),
    ] {
        value.set(name, v);
    }
    Ok(value)
}
