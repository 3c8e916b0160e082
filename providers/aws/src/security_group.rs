//! `aws_security_group` with inline `ingress`/`egress` rules: one paginated DescribeSecurityGroups
//! with a `group-id` filter for every managed group (a filter, unlike GroupIds, does not fail on a
//! missing id); rules planned as sets of canonical rules (`sg_rules`); Authorize/Revoke calls.
//!
//! Egress is managed only when the configuration has egress blocks: then exactly those, revoking
//! AWS's default allow-all rule unless listed (and never authorizing it again, which AWS would
//! refuse as a duplicate). Must not touch a group it was not handed.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, ResourceType as Ec2ResourceType, SecurityGroup, Tag, TagSpecification};
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::pages::collect_by_name;
use crate::sg_rules::{self, Direction, Rules};
use crate::tags::{self, TagChange, Tags};
use crate::{errors, schema, sg_calls, wait};
use crate::resource_type::{About, Cx, NamePrefix, ResourceType};
use crate::standalone_rules::Claims;

const DEFAULT_DESCRIPTION: &str = "Managed by strata";
/// How long a delete keeps retrying while something (an instance being deleted) still uses it.
const DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Whether the configuration (or state) manages egress: only when it lists egress rules.
fn manages_egress(value: &Value) -> bool {
    !value.get_list("egress").is_empty()
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The live groups among `ids`, in one paginated call, keyed by id.
async fn describe(
    clients: &Clients,
    ids: Vec<String>,
) -> Result<BTreeMap<String, SecurityGroup>, ProviderError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let filter = Filter::builder()
        .name("group-id")
        .set_values(Some(ids))
        .build();
    describe_matching(clients, vec![filter]).await
}

/// The live groups matching every filter, in one paginated call, keyed by id.
async fn describe_matching(
    clients: &Clients,
    filters: Vec<Filter>,
) -> Result<BTreeMap<String, SecurityGroup>, ProviderError> {
    let request = clients
        .ec2
        .describe_security_groups()
        .set_filters(Some(filters));
    Ok(collect_by_name!(
        request.into_paginator().send(),
        "ec2:DescribeSecurityGroups",
        security_groups,
        group_id
    ))
}

pub async fn refresh(
    clients: &Clients,
    states: &[&Value],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let ids = states
        .iter()
        .filter_map(|s| s.get_str("id"))
        .map(str::to_owned)
        .collect();
    let live = describe(clients, ids).await?;
    Ok(states
        .iter()
        .map(|state| {
            state
                .get_str("id")
                .and_then(|id| live.get(id))
                .map(|g| to_value(g, state))
        })
        .collect())
}

/// The live group `id` names, for `strata import`, egress rules included: a configuration without
/// egress blocks leaves them alone (see `plan`), one with them compares them. `id` is a group id
/// (`sg-...`), or a group name, optionally as `VPC_ID/NAME` (what [`adoption_id`] gives).
pub async fn import(clients: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let live = if id.starts_with("sg-") {
        describe(clients, vec![id.to_owned()]).await?
    } else {
        describe_matching(clients, name_filters(id)).await?
    };
    if live.len() > 1 {
        return Err(ProviderError::new(format!(
            "{} security groups are called \"{id}\"",
            live.len()
        ))
        .with_hint("import by group id (sg-...), or as VPC_ID/NAME"));
    }
    Ok(live.values().next().map(|group| {
        let group_id = group.group_id().unwrap_or_default();
        let mut value = to_value(group, &Value::Null);
        let egress = sg_rules::from_sdk(group.ip_permissions_egress(), group_id);
        value.set(
            "egress",
            Value::List(sg_rules::shape(&egress, &[], Some(group_id))),
        );
        value
    }))
}

/// Whether the live group (its state value) carries the authorship tag of the intent `intent_id`.
pub async fn marked_by(clients: &Clients, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
    let id = live.get_str("id").unwrap_or_default().to_owned();
    let groups = describe(clients, vec![id]).await?;
    Ok(groups.values().any(|group| tags::marked_by(group.tags().iter().map(|t| (t.key(), t.value())), intent_id)))
}

/// Filters finding a group by `NAME` or `VPC_ID/NAME`.
fn name_filters(id: &str) -> Vec<Filter> {
    let (vpc, name) = match id.split_once('/') {
        Some((vpc, name)) => (Some(vpc), name),
        None => (None, id),
    };
    let by_name = Filter::builder().name("group-name").values(name).build();
    let by_vpc = vpc.map(|vpc| Filter::builder().name("vpc-id").values(vpc).build());
    std::iter::once(by_name).chain(by_vpc).collect()
}

/// The import id of the group a create of `planned` makes: `VPC_ID/NAME` (group names are
/// unique per VPC), or `NAME` when it goes to the default VPC.
pub fn adoption_id(planned: &Value) -> Option<String> {
    let name = planned.get_str("name")?;
    Some(match planned.get_str("vpc_id") {
        Some(vpc) => format!("{vpc}/{name}"),
        None => name.to_owned(),
    })
}

/// The live group without the rules standalone rule resources manage: the group's plan never
/// sees them, so never revokes them (with or without inline blocks of its own).
fn release_claimed(live: &mut Value, claims: &Claims) {
    let Some(id) = live.get_str("id").map(str::to_owned) else { return };
    for direction in [Direction::Ingress, Direction::Egress] {
        let blocks = live.get_list(direction.key()).to_vec();
        let rules = sg_rules::explode_all(&blocks, Some(&id));
        let kept: Rules = rules.iter().filter(|rule| !claims.covers(&id, direction, rule)).cloned().collect();
        if kept.len() != rules.len() {
            live.set(direction.key(), Value::List(sg_rules::shape(&kept, &blocks, Some(&id))));
        }
    }
}

/// The live group as a state value, its rules in the shape `shape_of` gives them.
fn to_value(group: &SecurityGroup, shape_of: &Value) -> Value {
    let id = group.group_id().unwrap_or_default();
    let ingress = sg_rules::from_sdk(group.ip_permissions(), id);
    let egress = if manages_egress(shape_of) {
        sg_rules::from_sdk(group.ip_permissions_egress(), id)
    } else {
        Rules::new()
    };
    let tags = tags::from_ec2(group.tags());
    let shaped = |live: &Rules, key: &str| {
        Value::List(sg_rules::shape(live, shape_of.get_list(key), Some(id)))
    };
    Value::object([
        (
            "name",
            group.group_name().map(Value::from).unwrap_or_default(),
        ),
        (
            "description",
            group.description().map(Value::from).unwrap_or_default(),
        ),
        (
            "vpc_id",
            group.vpc_id().map(Value::from).unwrap_or_default(),
        ),
        ("tags", tags::to_value(&tags)),
        ("id", Value::from(id)),
        (
            "arn",
            group
                .security_group_arn()
                .map(Value::from)
                .unwrap_or_default(),
        ),
        (
            "owner_id",
            group.owner_id().map(Value::from).unwrap_or_default(),
        ),
        ("ingress", shaped(&ingress, "ingress")),
        ("egress", shaped(&egress, "egress")),
    ])
}

// ---------------------------------------------------------------------------------------------
// Planning

/// The rules to add and remove in one direction.
struct RuleChange {
    direction: Direction,
    authorize: Rules,
    revoke: Rules,
}

impl RuleChange {
    fn between(direction: Direction, live: &Rules, wanted: &Rules) -> RuleChange {
        RuleChange {
            direction,
            authorize: wanted.difference(live).cloned().collect(),
            revoke: live.difference(wanted).cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.authorize.is_empty() && self.revoke.is_empty()
    }

    /// Revokes first: a rule whose description changed is revoked, then authorized again.
    fn operations(&self, group: &str) -> Vec<String> {
        let (authorize, revoke) = self.direction.calls();
        let line = |call: &str, rules: &Rules| {
            let items: Vec<String> = rules.iter().map(sg_rules::describe).collect();
            format!("{call} {group}: {}", items.join(", "))
        };
        let mut lines = Vec::new();
        if !self.revoke.is_empty() {
            lines.push(line(revoke, &self.revoke));
        }
        if !self.authorize.is_empty() {
            lines.push(line(authorize, &self.authorize));
        }
        lines
    }
}

/// The rule changes from `prior` (None: a new group, which has AWS's default egress) to
/// `desired`; `None` when the desired rules are not all known yet.
fn rule_changes(prior: Option<&Value>, desired: &Value) -> Option<Vec<RuleChange>> {
    let own_id = prior.and_then(|p| p.get_str("id"));
    let mut changes = Vec::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        let key = direction.key();
        if matches!(direction, Direction::Egress) && !manages_egress(desired) {
            continue;
        }
        if !desired.get(key).is_none_or(Value::is_wholly_known) {
            return None;
        }
        let live = match (prior, direction) {
            (Some(prior), _) => sg_rules::explode_all(prior.get_list(key), own_id),
            (None, Direction::Ingress) => Rules::new(),
            (None, Direction::Egress) => sg_rules::default_egress(),
        };
        changes.push(RuleChange::between(
            direction,
            &live,
            &sg_rules::explode_all(desired.get_list(key), own_id),
        ));
    }
    Some(changes)
}

fn rule_operations(prior: Option<&Value>, desired: &Value, group: &str) -> Vec<String> {
    match rule_changes(prior, desired) {
        Some(changes) => changes.iter().flat_map(|c| c.operations(group)).collect(),
        None => vec![format!(
            "AuthorizeSecurityGroupIngress/Revoke... {group}: rules decided during apply"
        )],
    }
}

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match name {
        "tags" => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn create_operations(desired: &Value) -> Vec<String> {
    let name = desired.get_str("name").unwrap_or("(unknown)");
    let vpc = desired
        .get("vpc_id")
        .filter(|v| !v.is_null())
        .map(diff::show)
        .unwrap_or_else(|| "the default VPC".to_owned());
    let mut lines = vec![format!("CreateSecurityGroup {name} in {vpc}")];
    lines.extend(rule_operations(None, desired, name));
    lines
}

fn kind() -> Kind {
    Kind {
        block: schema::security_group().block,
        same,
        create_operations,
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    let desired = diff::with_default(desired, "description", Value::from(DEFAULT_DESCRIPTION));
    kind().plan(prior, &desired, |prior, diff| {
        let id = prior.get_str("id").unwrap_or_default();
        let mut planned = diff.planned.clone();
        let mut operations = Vec::new();
        match rule_changes(Some(prior), &desired) {
            Some(changes) => {
                for change in changes {
                    if change.is_empty() {
                        planned.set(
                            change.direction.key(),
                            prior
                                .get(change.direction.key())
                                .cloned()
                                .unwrap_or_default(),
                        );
                    }
                    operations.extend(change.operations(id));
                }
            }
            None => operations.extend(rule_operations(Some(prior), &desired, id)),
        }
        if !manages_egress(&desired) {
            planned.set("egress", prior.get("egress").cloned().unwrap_or_default());
        }
        if let Some(change) = diff.get("tags") {
            operations.extend(TagChange::between(&change.from, &change.to).operations(
                "CreateTags",
                "DeleteTags",
                id,
            ));
        }
        diff::finish(planned, operations)
    })
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let id = prior.get_str("id").unwrap_or_default();
    let mut change = diff::deletion(format!("DeleteSecurityGroup {id} ({})", prior.get_str("name").unwrap_or_default()));
    if revokes_on_delete(prior) {
        let revoke = format!("RevokeSecurityGroupIngress and RevokeSecurityGroupEgress {id}: every rule (revoke_rules_on_delete)");
        change.operations.insert(0, revoke);
    }
    change
}

// ---------------------------------------------------------------------------------------------
// Applying

async fn change_rules(
    clients: &Clients,
    id: &str,
    change: &RuleChange,
) -> Result<(), ProviderError> {
    sg_calls::revoke(clients, id, change.direction, &change.revoke).await?;
    sg_calls::authorize(clients, id, change.direction, &change.authorize, &Tags::new()).await.map_err(|failure| failure.error)?;
    Ok(())
}

/// Sets and removes tags on the EC2 object `id` (a group or a rule).
pub(crate) async fn change_tags(clients: &Clients, id: &str, change: &TagChange) -> Result<(), ProviderError> {
    if !change.set.is_empty() {
        clients
            .ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(tags::to_ec2(&change.set)))
            .send()
            .await
            .map_err(|e| errors::api("ec2:CreateTags", e))?;
    }
    if !change.remove.is_empty() {
        let keys = change
            .remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        clients
            .ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(keys))
            .send()
            .await
            .map_err(|e| errors::api("ec2:DeleteTags", e))?;
    }
    Ok(())
}

async fn create(clients: &Clients, desired: &Value, authorship: Option<&Authorship>) -> Result<String, ApplyFailure> {
    let tags = tags::for_create(desired, authorship);
    let mut request = clients
        .ec2
        .create_security_group()
        .set_group_name(desired.get_str("name").map(str::to_owned))
        .set_description(desired.get_str("description").map(str::to_owned))
        .set_vpc_id(desired.get_str("vpc_id").map(str::to_owned));
    if !tags.is_empty() {
        request = request.tag_specifications(
            TagSpecification::builder()
                .resource_type(Ec2ResourceType::SecurityGroup)
                .set_tags(Some(tags::to_ec2(&tags)))
                .build(),
        );
    }
    let created = request
        .send()
        .await
        .map_err(|e| errors::create_failed("ec2:CreateSecurityGroup", desired.get_str("name").unwrap_or_default(), e))?;
    Ok(created
        .group_id()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::new("CreateSecurityGroup answered without a group id"))?)
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
    let id = match prior {
        Some(prior) => prior.get_str("id").unwrap_or_default().to_owned(),
        None => create(clients, &desired, authorship).await?,
    };
    // From here the group exists: a failure must still record it in state.
    let partial = |error: ProviderError| {
        let mut state = prior.cloned().unwrap_or_else(|| desired.clone());
        state.set("id", Value::from(id.as_str()));
        ApplyFailure {
            error,
            partial: Some(state),
            in_doubt: false,
        }
    };
    for change in rule_changes(prior, &desired).unwrap_or_default() {
        change_rules(clients, &id, &change).await.map_err(partial)?;
    }
    let tag_change = TagChange::between(
        prior.and_then(|p| p.get("tags")).unwrap_or(&Value::Null),
        desired.get("tags").unwrap_or(&Value::Null),
    );
    if prior.is_some() {
        change_tags(clients, &id, &tag_change)
            .await
            .map_err(partial)?;
    }
    let live = describe(clients, vec![id.clone()]).await.map_err(partial)?;
    let group = live.get(&id).ok_or_else(|| {
        partial(ProviderError::new(format!(
            "security group {id} could not be read back after apply"
        )))
    })?;
    Ok(to_value(group, &desired))
}

/// With `revoke_rules_on_delete`, every rule of the group goes first: a group another group's
/// rule refers to (and that refers to it) can then be deleted.
fn revokes_on_delete(prior: &Value) -> bool {
    prior.get_bool("revoke_rules_on_delete") == Some(true)
}

/// Revokes every rule the group has, in both directions (the group is strata's, being deleted).
async fn revoke_all(clients: &Clients, id: &str) -> Result<(), ProviderError> {
    let live = describe(clients, vec![id.to_owned()]).await?;
    let Some(group) = live.get(id) else { return Ok(()) };
    for (direction, permissions) in [(Direction::Ingress, group.ip_permissions()), (Direction::Egress, group.ip_permissions_egress())] {
        sg_calls::revoke(clients, id, direction, &sg_rules::from_sdk(permissions, id)).await?;
    }
    Ok(())
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let id = prior.get_str("id").unwrap_or_default();
    if revokes_on_delete(prior) {
        revoke_all(clients, id).await?;
    }
    let timeout = match prior.get("timeouts").and_then(|t| t.get_str("delete")) {
        Some(text) => wait::parse_duration(text)?,
        None => DELETE_TIMEOUT,
    };
    // Something being deleted in the same run (an instance) may still hold the group for a while.
    wait::until(
        &format!("security group {id} to be deleted (it is still in use)"),
        timeout,
        || async {
            match clients
                .ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
            {
                Ok(_) => Ok(Some(())),
                Err(err) if errors::code(&err) == Some("InvalidGroup.NotFound") => Ok(Some(())),
                Err(err) if errors::code(&err) == Some("DependencyViolation") => Ok(None),
                Err(err) => Err(errors::api("ec2:DeleteSecurityGroup", err)),
            }
        },
    )
    .await
}

/// What `aws_security_group` declares about itself.
const ABOUT: About = About {
    name: "aws_security_group",
    schema: schema::security_group,
    import_id: Some("the group id (sg-...), or its name as NAME or VPC_ID/NAME"),
    named_by: None,
    local_arguments: &["revoke_rules_on_delete", "timeouts"],
    name_prefix: Some(NamePrefix { name: "name", prefix: "name_prefix" }),
};

/// `aws_security_group` in the provider's table of types.
pub struct SecurityGroupType;

#[async_trait::async_trait]
impl ResourceType for SecurityGroupType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    fn release_claimed(&self, live: &mut Value, claims: &Claims) {
        release_claimed(live, claims);
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

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        import(cx.clients()?, id).await
    }

    fn adoption_id(&self, planned: &Value) -> Option<String> {
        adoption_id(planned)
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        marked_by(cx.clients()?, live, intent_id).await
    }
}
