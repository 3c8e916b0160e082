//! Tags on RDS objects by ARN: reading them (ListTagsForResource) and changing them
//! (AddTagsToResource, RemoveTagsFromResource). Shared by every RDS resource type.
//!
//! Owns those three calls only; what to change is decided in `tags`.

use aws_sdk_rds::types::Tag;
use strata_provider_sdk::ProviderError;

use crate::config::Clients;
use crate::errors;
use crate::tags::{TagChange, Tags};

pub fn to_sdk(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn from_sdk(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub async fn list(clients: &Clients, arn: &str) -> Result<Tags, ProviderError> {
    let answer = clients
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| errors::api("rds:ListTagsForResource", e))?;
    Ok(from_sdk(answer.tag_list()))
}

pub async fn update(clients: &Clients, arn: &str, change: &TagChange) -> Result<(), ProviderError> {
    if !change.set.is_empty() {
        let request = clients
            .rds
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(to_sdk(&change.set)));
        request
            .send()
            .await
            .map_err(|e| errors::api("rds:AddTagsToResource", e))?;
    }
    if !change.remove.is_empty() {
        let request = clients
            .rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(change.remove.clone()));
        request
            .send()
            .await
            .map_err(|e| errors::api("rds:RemoveTagsFromResource", e))?;
    }
    Ok(())
}
