//! Tags on RDS objects by ARN: reading them (ListTagsForResource) and changing them
//! (AddTagsToResource, RemoveTagsFromResource). Shared by every RDS resource type.
//!
//! Owns those three calls only; what to change is decided in `tags`.

use aws_sdk_rds::types::Tag;
use strata_provider_sdk::{ProviderError, INTENT_TAG};

use crate::config::Clients;
use crate::errors;
use crate::tags::{TagChange, Tags};

pub fn to_sdk(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Tags as configured: without the authorship tag.
pub fn from_sdk(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter(|t| t.key() != Some(INTENT_TAG))
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub async fn list(clients: &Clients, arn: &str) -> Result<Tags, ProviderError> {
    Ok(from_sdk(&list_raw(clients, arn).await?))
}

/// Whether the object at `arn` carries the authorship tag of the intent `intent_id`.
pub async fn marked_by(clients: &Clients, arn: &str, intent_id: &str) -> Result<bool, ProviderError> {
    let raw = list_raw(clients, arn).await?;
    Ok(crate::tags::marked_by(raw.iter().map(|t| (t.key(), t.value())), intent_id))
}

async fn list_raw(clients: &Clients, arn: &str) -> Result<Vec<Tag>, ProviderError> {
    let answer = clients
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| errors::api("rds:ListTagsForResource", e))?;
    Ok(answer.tag_list().to_vec())
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
