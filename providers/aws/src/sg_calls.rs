//! The EC2 calls on security group rules, shared by `aws_security_group` (inline rules) and the
//! standalone rule types: authorizing (tagged, answering the new rules' ids), revoking by
//! permission or by rule id, updating descriptions, modifying one rule, and reading rules with
//! DescribeSecurityGroupRules.
//!
//! Owns the requests only; which rules to send is the caller's. A request for one direction never
//! carries a rule of the other.

use aws_sdk_ec2::types::{Filter, ResourceType, SecurityGroupRule, SecurityGroupRuleRequest, SecurityGroupRuleUpdate, TagSpecification};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use strata_provider_sdk::{ApplyFailure, ProviderError};

use crate::config::Clients;
use crate::errors;
use crate::sg_rules::{self, Direction, Rules};
use crate::tags::{self, Tags};

/// The error codes that mean a rule to revoke is already gone.
const GONE: [&str; 3] = ["InvalidPermission.NotFound", "InvalidSecurityGroupRuleId.NotFound", "InvalidGroup.NotFound"];

fn operation(direction: Direction, authorize: bool) -> String {
    let (add, remove) = direction.calls();
    format!("ec2:{}", if authorize { add } else { remove })
}

/// Tags for the rules an authorize call makes (the intent's mark among them).
fn rule_tags(tags: &Tags) -> Option<Vec<TagSpecification>> {
    (!tags.is_empty()).then(|| {
        vec![TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroupRule)
            .set_tags(Some(tags::to_ec2(tags)))
            .build()]
    })
}

/// Authorizes `rules` on group `group` and tags each new rule with `tags`; answers the new
/// rules' ids (sgr-...). A failure whose answer never came is in doubt (see
/// `errors::create_failed`).
pub async fn authorize(clients: &Clients, group: &str, direction: Direction, rules: &Rules, tags: &Tags) -> Result<Vec<String>, ApplyFailure> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let permissions = Some(sg_rules::to_sdk(rules, group));
    let ec2 = &clients.ec2;
    let (operation, subject) = (operation(direction, true), format!("a rule of {group}"));
    let created = match direction {
        Direction::Ingress => {
            let request = ec2.authorize_security_group_ingress().group_id(group).set_ip_permissions(permissions).set_tag_specifications(rule_tags(tags));
            request.send().await.map_err(|e| errors::create_failed(&operation, &subject, e))?.security_group_rules.unwrap_or_default()
        }
        Direction::Egress => {
            let request = ec2.authorize_security_group_egress().group_id(group).set_ip_permissions(permissions).set_tag_specifications(rule_tags(tags));
            request.send().await.map_err(|e| errors::create_failed(&operation, &subject, e))?.security_group_rules.unwrap_or_default()
        }
    };
    Ok(created.iter().filter_map(|rule| rule.security_group_rule_id().map(str::to_owned)).collect())
}

/// Revokes `rules` from group `group`, matched by protocol, ports and source (AWS ignores the
/// description when matching).
pub async fn revoke(clients: &Clients, group: &str, direction: Direction, rules: &Rules) -> Result<(), ProviderError> {
    if rules.is_empty() {
        return Ok(());
    }
    let permissions = Some(sg_rules::to_sdk(rules, group));
    let ec2 = &clients.ec2;
    let operation = operation(direction, false);
    match direction {
        Direction::Ingress => drop(ec2.revoke_security_group_ingress().group_id(group).set_ip_permissions(permissions).send().await.map_err(|e| errors::api(&operation, e))?),
        Direction::Egress => drop(ec2.revoke_security_group_egress().group_id(group).set_ip_permissions(permissions).send().await.map_err(|e| errors::api(&operation, e))?),
    }
    Ok(())
}

/// Revokes the rules `ids` (sgr-...) of group `group`; rules already gone are done.
pub async fn revoke_ids(clients: &Clients, group: &str, direction: Direction, ids: Vec<String>) -> Result<(), ProviderError> {
    let ec2 = &clients.ec2;
    let operation = operation(direction, false);
    match direction {
        Direction::Ingress => gone_is_done(&operation, ec2.revoke_security_group_ingress().group_id(group).set_security_group_rule_ids(Some(ids)).send().await),
        Direction::Egress => gone_is_done(&operation, ec2.revoke_security_group_egress().group_id(group).set_security_group_rule_ids(Some(ids)).send().await),
    }
}

/// A revoke's answer: done, or what it revokes was already gone.
fn gone_is_done<T, E>(operation: &str, result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if errors::code(&err).is_some_and(|code| GONE.contains(&code)) => Ok(()),
        Err(err) => Err(errors::api(operation, err)),
    }
}

/// Sets the descriptions of `rules` (already on the group) to theirs.
pub async fn update_descriptions(clients: &Clients, group: &str, direction: Direction, rules: &Rules) -> Result<(), ProviderError> {
    let permissions = Some(sg_rules::to_sdk(rules, group));
    let ec2 = &clients.ec2;
    match direction {
        Direction::Ingress => drop(
            ec2.update_security_group_rule_descriptions_ingress()
                .group_id(group)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(|e| errors::api("ec2:UpdateSecurityGroupRuleDescriptionsIngress", e))?,
        ),
        Direction::Egress => drop(
            ec2.update_security_group_rule_descriptions_egress()
                .group_id(group)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(|e| errors::api("ec2:UpdateSecurityGroupRuleDescriptionsEgress", e))?,
        ),
    }
    Ok(())
}

/// Changes rule `id` of group `group` in place to `rule`.
pub async fn modify(clients: &Clients, group: &str, id: &str, rule: SecurityGroupRuleRequest) -> Result<(), ProviderError> {
    let update = SecurityGroupRuleUpdate::builder().security_group_rule_id(id).security_group_rule(rule).build();
    clients
        .ec2
        .modify_security_group_rules()
        .group_id(group)
        .security_group_rules(update)
        .send()
        .await
        .map_err(|e| errors::api("ec2:ModifySecurityGroupRules", e))?;
    Ok(())
}

/// Every rule matching `filter` (`group-id` or `security-group-rule-id`), in one paginated
/// DescribeSecurityGroupRules; a filter (unlike ids) does not fail on what is gone.
pub async fn describe(clients: &Clients, filter: &str, values: Vec<String>) -> Result<Vec<SecurityGroupRule>, ProviderError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::builder().name(filter).set_values(Some(values)).build();
    let mut pages = clients.ec2.describe_security_group_rules().filters(filter).into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::api("ec2:DescribeSecurityGroupRules", e))?;
        found.extend(page.security_group_rules().iter().cloned());
    }
    Ok(found)
}
