//! Tags on AWS Backup vaults and plans by ARN: reading them (ListTags) and changing them
//! (TagResource, UntagResource). Shared by `backup_vault` and `backup_plan`; Backup selections
//! carry no tags.
//!
//! Owns those three calls only (and the path ListTags goes out on); what to change is decided in
//! `tags`.

use std::collections::HashMap;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use strata_provider_sdk::{ProviderError, INTENT_TAG};

use crate::config::Clients;
use crate::errors;
use crate::tags::{TagChange, Tags};

pub fn to_sdk(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Tags as configured: without the authorship tag.
fn from_sdk(raw: &HashMap<String, String>) -> Tags {
    raw.iter().filter(|(k, _)| k.as_str() != INTENT_TAG).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub async fn list(clients: &Clients, arn: &str) -> Result<Tags, ProviderError> {
    Ok(from_sdk(&list_raw(clients, arn).await?))
}

/// Whether the vault or plan at `arn` carries the authorship tag of the intent `intent_id`.
pub async fn marked_by(clients: &Clients, arn: &str, intent_id: &str) -> Result<bool, ProviderError> {
    let raw = list_raw(clients, arn).await?;
    Ok(crate::tags::marked_by(raw.iter().map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))), intent_id))
}

async fn list_raw(clients: &Clients, arn: &str) -> Result<HashMap<String, String>, ProviderError> {
    let mut pages = clients.backup.list_tags().resource_arn(arn).into_paginator().send();
    let mut tags = HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::api("backup:ListTags", e))?;
        tags.extend(page.tags().cloned().unwrap_or_default());
    }
    Ok(tags)
}

pub async fn update(clients: &Clients, arn: &str, change: &TagChange) -> Result<(), ProviderError> {
    if !change.set.is_empty() {
        let request = clients.backup.tag_resource().resource_arn(arn).set_tags(Some(to_sdk(&change.set)));
        request.send().await.map_err(|e| errors::api("backup:TagResource", e))?;
    }
    if !change.remove.is_empty() {
        let request = clients.backup.untag_resource().resource_arn(arn).set_tag_key_list(Some(change.remove.clone()));
        request.send().await.map_err(|e| errors::api("backup:UntagResource", e))?;
    }
    Ok(())
}

/// Sends ListTags on the path the AWS Backup API reference gives it, `GET /tags/{resourceArn}/`,
/// which boto3 sends too; the Rust SDK drops the final slash. AWS answers both forms, but moto
/// reads the ARN as the path's second-to-last segment and answers no tags at all without it.
#[derive(Debug)]
pub struct DocumentedListTagsPath;

impl Intercept for DocumentedListTagsPath {
    fn name(&self) -> &'static str {
        "strata-backup-list-tags-path"
    }

    // Before signing, so that the signature covers the path that is sent.
    fn modify_before_signing(&self, context: &mut BeforeTransmitInterceptorContextMut<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if cfg.load::<Metadata>().is_none_or(|metadata| metadata.name() != "ListTags") {
            return Ok(());
        }
        let request = context.request_mut();
        if let Some(documented) = with_final_slash(request.uri()) {
            request.set_uri(documented)?;
        }
        Ok(())
    }
}

/// `uri` with a slash at the end of its path, or `None` when it has one.
fn with_final_slash(uri: &str) -> Option<String> {
    let (path, query) = uri.split_once('?').map_or((uri, None), |(path, query)| (path, Some(query)));
    if path.ends_with('/') {
        return None;
    }
    Some(match query {
        Some(query) => format!("{path}/?{query}"),
        None => format!("{path}/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_tags_goes_out_on_its_documented_path() {
        let arn = "http://127.0.0.1:5055/tags/arn%3Aaws%3Abackup%3Aus-east-1%3A1%3Abackup-vault%3Amain";
        assert_eq!(with_final_slash(arn).as_deref(), Some(format!("{arn}/").as_str()));
        assert_eq!(with_final_slash(&format!("{arn}?maxResults=5")).as_deref(), Some(format!("{arn}/?maxResults=5").as_str()));
        assert_eq!(with_final_slash(&format!("{arn}/")), None);
    }
}
