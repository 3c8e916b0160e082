//! `copy_to_region` of an `aws_db_snapshot_policy`: the policy's newest snapshot, once available,
//! is copied to another region (CopyDBSnapshot sent to that region, from the snapshot's ARN) under
//! the same name and tagged with the policy's token; the copies there are pruned by the policy's
//! retention (the block's `keep_last` replacing the policy's count), and only copies carrying
//! that tag are ever deleted. A copy is due whenever the newest available snapshot has none, so
//! one an interrupted apply did not make is made by the next.
//!
//! The Rust SDK's CopyDBSnapshot has no SourceRegion (other SDKs turn it into a presigned URL):
//! the source ARN names the region, which is enough for an unencrypted snapshot. An encrypted one
//! needs `kms_key_id` (a key of the destination region) and that presigned URL, which strata does
//! not make yet, so AWS refuses such a copy with its error (as for `aws_db_snapshot_copy`).

use std::collections::BTreeMap;

use aws_sdk_rds::operation::copy_db_snapshot::builders::CopyDBSnapshotFluentBuilder;
use aws_sdk_rds::types::{DbSnapshot, Tag};
use strata_provider_sdk::duty::{Held, Retention};
use strata_provider_sdk::{ProviderError, Value};
use time::OffsetDateTime;

use crate::config::Clients;
use crate::snapshot_policy::{held, manual_snapshots, owned_by, snapshot_value, POLICY_TAG};
use crate::{db_snapshot, errors};

const BLOCK: &str = "copy_to_region";

/// The policy's `copy_to_region` block, checked.
pub struct CopyTo {
    pub region: String,
    kms_key_id: Option<String>,
    retention: Retention,
}

impl CopyTo {
    /// The block of `policy`, if any; `home` is the provider's region when known, which the
    /// copies cannot go to (they keep their snapshot's name).
    pub fn of(policy: &Value, home: Option<&str>) -> Result<Option<CopyTo>, ProviderError> {
        let Some(block) = policy.get(BLOCK).filter(|b| !b.is_null()) else {
            return Ok(None);
        };
        let region = block.get_str("region").unwrap_or_default();
        if !is_region_name(region) {
            return Err(ProviderError::new(format!("copy_to_region.region \"{region}\" is not an AWS region name"))
                .with_hint("write it as AWS does, such as us-west-2 or eu-central-1"));
        }
        if home.is_some_and(|home| home.eq_ignore_ascii_case(region)) {
            return Err(ProviderError::new(format!("copy_to_region.region {region} is the provider's own region, where the snapshots already are"))
                .with_hint("name another region, or remove copy_to_region"));
        }
        let mut rules = policy.get("retention").filter(|r| !r.is_null()).cloned().unwrap_or_else(|| Value::object::<String>([]));
        if let Some(keep_last) = block.get("keep_last").filter(|v| !v.is_null()) {
            rules.set("keep_last", keep_last.clone());
        }
        Ok(Some(CopyTo { region: region.to_owned(), kms_key_id: block.get_str("kms_key_id").map(str::to_owned), retention: Retention::from_block(&rules)? }))
    }
}

/// `us-west-2`, `ap-southeast-1`, `us-gov-west-1`: lower-case words and a number, by hyphens.
fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let (Some(number), Some(first)) = (parts.last(), parts.first()) else {
        return false;
    };
    let words = &parts[..parts.len() - 1];
    parts.len() >= 3
        && first.len() == 2
        && number.chars().all(|c| c.is_ascii_digit())
        && !number.is_empty()
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
}

/// The region each policy's copies are in, for those that copy.
fn region_of(state: &Value) -> Option<&str> {
    state.get(BLOCK)?.get_str("region")
}

/// The manual snapshots of every region the policies copy to: one paginated
/// DescribeDBSnapshots per region.
pub async fn by_region(clients: &Clients, states: &[&Value]) -> Result<BTreeMap<String, Vec<DbSnapshot>>, ProviderError> {
    let mut found = BTreeMap::new();
    for state in states {
        if let Some(region) = region_of(state).filter(|r| !found.contains_key(*r)) {
            found.insert(region.to_owned(), manual_snapshots(&clients.in_region(region), None).await?);
        }
    }
    Ok(found)
}

/// The policy's copies in `by_region`, oldest first, as its `copies` attribute.
pub fn live_copies(by_region: &BTreeMap<String, Vec<DbSnapshot>>, state: &Value, token: &str) -> Value {
    match region_of(state).and_then(|region| by_region.get(region)) {
        Some(there) => Value::List(owned_by(there, token).into_iter().map(snapshot_value).collect()),
        None => Value::Null,
    }
}

/// The newest available snapshot among `snapshots` (a `snapshots` attribute).
fn newest_available(snapshots: &[Value]) -> Option<&Value> {
    let newest = held(snapshots).into_iter().find(|h| h.status == "available")?;
    snapshots.iter().find(|s| s.get_str("id") == Some(newest.id.as_str()))
}

fn has_copy(copies: &[Value], id: &str) -> bool {
    copies.iter().any(|c| c.get_str("id").is_some_and(|c| c.eq_ignore_ascii_case(id)))
}

/// What the plan says of the copies.
pub struct Planned {
    pub operations: Vec<String>,
    pub duties: Vec<String>,
    /// The copies after the apply; unknown when one is made.
    pub copies: Value,
}

/// The copy due (of the snapshot about to be taken when `new_snapshot` names it, else of the
/// newest available one that has no copy) and the copies retention no longer keeps.
pub fn plan(copy: &CopyTo, prior: Option<&Value>, new_snapshot: Option<&str>, now: OffsetDateTime) -> Planned {
    let copies = prior.map(|p| p.get_list("copies").to_vec()).unwrap_or_default();
    let snapshots = prior.map(|p| p.get_list("snapshots")).unwrap_or_default();
    let uncopied = newest_available(snapshots).and_then(|s| s.get_str("id")).filter(|id| !has_copy(&copies, id));
    let mut planned = Planned { operations: Vec::new(), duties: Vec::new(), copies: Value::Unknown };
    let mut candidates = held(&copies);
    let copying = new_snapshot.or(uncopied);
    if let Some(source) = copying {
        planned.operations.push(format!("CopyDBSnapshot {source} -> {} (tag {POLICY_TAG}), wait until it is available", copy.region));
        let why = if new_snapshot.is_some() { "then copy it".to_owned() } else { format!("copy: the newest snapshot {source} has no copy in {} yet", copy.region) };
        planned.duties.push(format!("{why} to {}", copy.region));
        candidates.insert(0, Held { id: "(the new copy)".into(), taken_at: now, good: true, status: "available".into() });
    }
    let prunes = copy.retention.to_prune(&candidates, now);
    for (id, why) in &prunes {
        planned.operations.push(format!("DeleteDBSnapshot {id} in {}", copy.region));
        planned.duties.push(format!("prune the copy {id} in {} ({why})", copy.region));
    }
    if copying.is_none() {
        planned.copies = Value::List(copies.into_iter().filter(|c| !prunes.iter().any(|(id, _)| Some(id.as_str()) == c.get_str("id"))).collect());
    }
    planned
}

/// The request copying `source` (a `snapshots` entry) to the region of `there`.
fn copy_request(there: &Clients, copy: &CopyTo, source: &Value, token: &str) -> CopyDBSnapshotFluentBuilder {
    there
        .rds
        .copy_db_snapshot()
        .source_db_snapshot_identifier(source.get_str("arn").unwrap_or_default())
        .target_db_snapshot_identifier(source.get_str("id").unwrap_or_default())
        .set_kms_key_id(copy.kms_key_id.clone())
        .tags(Tag::builder().key(POLICY_TAG).value(token).build())
}

/// Copies the newest available of `snapshots` when it has no copy yet and waits for it, then
/// prunes the copies retention no longer keeps; answers the copies kept.
pub async fn apply(clients: &Clients, copy: &CopyTo, token: &str, snapshots: &[Value], now: OffsetDateTime) -> Result<Value, ProviderError> {
    let there = clients.in_region(&copy.region);
    let mut copies = owned_copies(&there, token).await?;
    if let Some(source) = newest_available(snapshots).filter(|s| !has_copy(&copies, s.get_str("id").unwrap_or_default())) {
        let name = source.get_str("id").unwrap_or_default();
        copy_request(&there, copy, source, token).send().await.map_err(|e| errors::api("rds:CopyDBSnapshot", e))?;
        db_snapshot::wait_available(&there, name).await?;
        copies = owned_copies(&there, token).await?;
    }
    let prunes = copy.retention.to_prune(&held(&copies), now);
    for (id, _) in &prunes {
        // Only a copy carrying this policy's tag is in `copies`, so only such is deleted.
        there.rds.delete_db_snapshot().db_snapshot_identifier(id).send().await.map_err(|e| errors::api("rds:DeleteDBSnapshot", e))?;
    }
    Ok(Value::List(copies.into_iter().filter(|c| !prunes.iter().any(|(id, _)| Some(id.as_str()) == c.get_str("id"))).collect()))
}

async fn owned_copies(there: &Clients, token: &str) -> Result<Vec<Value>, ProviderError> {
    Ok(owned_by(&manual_snapshots(there, None).await?, token).into_iter().map(snapshot_value).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients_in(region: &str) -> Clients {
        let region = aws_config::Region::new(region.to_owned());
        let rds = aws_sdk_rds::Config::builder().behavior_version(aws_sdk_rds::config::BehaviorVersion::latest()).region(region.clone()).build();
        let ec2 = aws_sdk_ec2::Config::builder().behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest()).region(region.clone()).build();
        let backup = aws_sdk_backup::Config::builder().behavior_version(aws_sdk_backup::config::BehaviorVersion::latest()).region(region).build();
        Clients { rds: aws_sdk_rds::Client::from_conf(rds), ec2: aws_sdk_ec2::Client::from_conf(ec2), backup: aws_sdk_backup::Client::from_conf(backup) }
    }

    fn policy(block: Value) -> Value {
        Value::object([("retention", Value::object([("keep_last", Value::int(7))])), (BLOCK, block)])
    }

    fn snapshot(id: &str, taken_at: &str) -> Value {
        Value::object([("id", Value::from(id)), ("arn", Value::string(format!("arn:aws:rds:us-east-1:123456789012:snapshot:{id}"))), ("taken_at", Value::from(taken_at)), ("status", Value::from("available"))])
    }

    #[test]
    fn region_names_are_checked_and_the_count_replaced() {
        let copy = CopyTo::of(&policy(Value::object([("region", Value::from("us-west-2")), ("keep_last", Value::int(2))])), Some("us-east-1")).map_err(|e| e.message);
        assert_eq!(copy.as_ref().map(|c| c.as_ref().map(|c| (c.region.as_str(), c.retention.keep_last))), Ok(Some(("us-west-2", Some(2)))));
        let kept = CopyTo::of(&policy(Value::object([("region", Value::from("us-gov-west-1"))])), None).map_err(|e| e.message);
        assert_eq!(kept.map(|c| c.map(|c| c.retention.keep_last)), Ok(Some(Some(7))), "the policy's own count");
        for bad in ["us-west2", "US-WEST-2", "uswest-2", ""] {
            let refused = CopyTo::of(&policy(Value::object([("region", Value::from(bad))])), None);
            assert!(refused.is_err_and(|e| e.message.contains("is not an AWS region name")), "{bad}");
        }
        let home = CopyTo::of(&policy(Value::object([("region", Value::from("us-east-1"))])), Some("us-east-1"));
        assert!(home.is_err_and(|e| e.message.contains("the provider's own region")));
    }

    #[test]
    fn the_newest_snapshot_without_a_copy_is_copied_and_old_copies_pruned() {
        let copy = CopyTo::of(&policy(Value::object([("region", Value::from("us-west-2")), ("keep_last", Value::int(1))])), None).ok().flatten().expect("a copy block");
        let prior = Value::object([
            ("snapshots", Value::List(vec![snapshot("s1", "2026-11-29T00:00:00Z"), snapshot("s2", "2026-11-30T00:00:00Z")])),
            ("copies", Value::List(vec![snapshot("s1", "2026-11-29T00:10:00Z")])),
        ]);
        let now = time::macros::datetime!(2026-12-01 00:00 UTC);
        let planned = plan(&copy, Some(&prior), None, now);
        assert_eq!(planned.operations, ["CopyDBSnapshot s2 -> us-west-2 (tag strata:snapshot-policy), wait until it is available", "DeleteDBSnapshot s1 in us-west-2"]);
        assert!(planned.copies.is_unknown());
        let request = copy_request(&clients_in("us-west-2"), &copy, &snapshot("s2", "2026-11-30T00:00:00Z"), "token1");
        let input = request.as_input();
        assert_eq!(input.get_source_db_snapshot_identifier().as_deref(), Some("arn:aws:rds:us-east-1:123456789012:snapshot:s2"));
        assert_eq!(input.get_target_db_snapshot_identifier().as_deref(), Some("s2"));
        let tags: Vec<_> = input.get_tags().iter().flatten().map(|t| (t.key(), t.value())).collect();
        assert_eq!(tags, [(Some(POLICY_TAG), Some("token1"))]);
    }
}
