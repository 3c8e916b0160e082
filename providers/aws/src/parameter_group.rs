//! `aws_db_parameter_group`: one paginated DescribeDBParameterGroups for all groups, then the
//! user-set parameters (DescribeDBParameters Source=user) and tags of each managed group;
//! planning parameters as a set keyed by name; ModifyDBParameterGroup (20 per call) and
//! ResetDBParameterGroup for removed ones. A change to parameters that apply only at a reboot asks
//! which DB instances use the group (one paginated DescribeDBInstances, made for no other plan):
//! the reboot they need is downtime (`locking`) only when there are some, never data loss.
//!
//! Parameters are compared by name and value only. `apply_method` says how to apply a change,
//! not what the group is: it is kept from state, so however AWS (or moto) reports it, a group
//! that was applied plans as no change. Must not touch a group it was not handed.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{ApplyMethod, DbInstance, DbParameterGroup, Parameter};
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::pages::{self, collect_by_name};
use crate::tags::{self, TagChange};
use crate::{errors, rds_tags, schema};
use crate::resource_type::{About, Cx, NamePrefix, ResourceType};

const DEFAULT_DESCRIPTION: &str = "Managed by strata";
const DEFAULT_APPLY_METHOD: &str = "immediate";
/// The apply method of static parameters (and of dynamic ones held back): no effect until reboot.
const PENDING_REBOOT: &str = "pending-reboot";
/// ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call.
const BATCH: usize = 20;

/// One `parameter` block.
#[derive(Clone, Debug, PartialEq)]
struct Param {
    name: String,
    value: Value,
    apply_method: String,
}

impl Param {
    fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("value", self.value.clone()),
            ("apply_method", Value::from(self.apply_method.as_str())),
        ])
    }

    /// Same name and value; values compare without case, as RDS treats them.
    fn same_setting(&self, other: &Param) -> bool {
        match (self.value.as_str(), other.value.as_str()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => self.value == other.value && !self.value.is_unknown(),
        }
    }

    fn to_sdk(&self) -> Parameter {
        Parameter::builder()
            .parameter_name(&self.name)
            .set_parameter_value(self.value.as_str().map(str::to_owned))
            .apply_method(ApplyMethod::from(self.apply_method.as_str()))
            .build()
    }
}

/// The `parameter` blocks of a value, keyed by name (the last block wins, as in AWS).
fn params(value: &Value) -> BTreeMap<String, Param> {
    value
        .get_list("parameter")
        .iter()
        .filter_map(|p| {
            let name = p.get_str("name")?.to_owned();
            let apply_method = p
                .get_str("apply_method")
                .unwrap_or(DEFAULT_APPLY_METHOD)
                .to_owned();
            Some((
                name.clone(),
                Param {
                    name,
                    value: p.get("value").cloned().unwrap_or_default(),
                    apply_method,
                },
            ))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading

/// All parameter groups (one paginated call), or the one named, keyed by lower-cased name (RDS
/// stores names lower-cased).
async fn describe_groups(
    clients: &Clients,
    name: Option<&str>,
) -> Result<BTreeMap<String, DbParameterGroup>, ProviderError> {
    let request = clients
        .rds
        .describe_db_parameter_groups()
        .set_db_parameter_group_name(name.map(str::to_lowercase));
    Ok(collect_by_name!(
        request.into_paginator().send(),
        "rds:DescribeDBParameterGroups",
        db_parameter_groups,
        db_parameter_group_name
    ))
}

/// The parameters the user set on a group, in AWS's words.
async fn user_parameters(clients: &Clients, name: &str) -> Result<Vec<Parameter>, ProviderError> {
    let mut found = Vec::new();
    let mut pages = clients
        .rds
        .describe_db_parameters()
        .db_parameter_group_name(name)
        .source("user")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::api("rds:DescribeDBParameters", e))?;
        // Source=user is the filter; the answer's own `Source` field is not checked because moto
        // leaves it out (which is what makes Terraform's provider see no parameters at all).
        found.extend(page.parameters().iter().cloned());
    }
    Ok(found)
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

/// The group as a state value: its parameters in `state`'s order, then any others by name.
async fn read_group(
    clients: &Clients,
    group: &DbParameterGroup,
    state: &Value,
) -> Result<Value, ProviderError> {
    let name = group.db_parameter_group_name().unwrap_or_default();
    let arn = group.db_parameter_group_arn().unwrap_or_default();
    // Independent calls: one round trip's wait, not two.
    let (live, tags) = futures::try_join!(user_parameters(clients, name), rds_tags::list(clients, arn))?;
    let managed = params(state);
    let mut parameters: Vec<(usize, Param)> = live
        .iter()
        .filter_map(|p| {
            let name = p.parameter_name()?.to_owned();
            let known = managed.get(&name);
            let apply_method = known
                .map(|k| k.apply_method.clone())
                .or_else(|| p.apply_method().map(|m| m.as_str().to_owned()))
                .unwrap_or_else(|| DEFAULT_APPLY_METHOD.to_owned());
            let order = state
                .get_list("parameter")
                .iter()
                .position(|s| s.get_str("name") == Some(name.as_str()))
                .unwrap_or(usize::MAX);
            Some((
                order,
                Param {
                    name,
                    value: p.parameter_value().map(Value::from).unwrap_or_default(),
                    apply_method,
                },
            ))
        })
        .collect();
    parameters.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    let spelled = state
        .get_str("name")
        .filter(|s| s.eq_ignore_ascii_case(name))
        .unwrap_or(name);
    Ok(Value::object([
        ("name", Value::from(spelled)),
        (
            "family",
            group
                .db_parameter_group_family()
                .map(Value::from)
                .unwrap_or_default(),
        ),
        (
            "description",
            group.description().map(Value::from).unwrap_or_default(),
        ),
        ("tags", tags::to_value(&tags)),
        ("id", Value::from(spelled)),
        ("arn", Value::from(arn)),
        (
            "parameter",
            Value::List(parameters.into_iter().map(|(_, p)| p.to_value()).collect()),
        ),
    ]))
}

// ---------------------------------------------------------------------------------------------
// Planning

/// What must happen to the parameters.
#[derive(Debug, Default)]
struct ParamChange {
    set: Vec<Param>,
    reset: Vec<String>,
}

impl ParamChange {
    fn between(prior: &Value, desired: &Value) -> ParamChange {
        let (live, wanted) = (params(prior), params(desired));
        ParamChange {
            set: wanted
                .values()
                .filter(|w| live.get(&w.name).is_none_or(|l| !l.same_setting(w)))
                .cloned()
                .collect(),
            reset: live
                .keys()
                .filter(|name| !wanted.contains_key(*name))
                .cloned()
                .collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.set.is_empty() && self.reset.is_empty()
    }

    /// The parameters set that take effect only at an instance's next reboot, as `name = value`.
    fn awaiting_reboot(&self) -> Vec<String> {
        self.set
            .iter()
            .filter(|p| p.apply_method == PENDING_REBOOT)
            .map(|p| format!("{} = {}", p.name, diff::show(&p.value)))
            .collect()
    }

    fn operations(&self, group: &str) -> Vec<String> {
        let set = self.set.chunks(BATCH).map(|chunk| {
            let items: Vec<String> = chunk
                .iter()
                .map(|p| format!("{} = {} ({})", p.name, diff::show(&p.value), p.apply_method))
                .collect();
            format!("ModifyDBParameterGroup {group}: {}", items.join(", "))
        });
        let reset = self
            .reset
            .chunks(BATCH)
            .map(|chunk| format!("ResetDBParameterGroup {group}: {}", chunk.join(", ")));
        set.chain(reset).collect()
    }
}

/// The configuration with its defaults filled in.
fn with_defaults(desired: &Value) -> Value {
    let mut value = diff::with_default(desired, "description", Value::from(DEFAULT_DESCRIPTION));
    let parameters: Vec<Value> = desired
        .get_list("parameter")
        .iter()
        .map(|p| diff::with_default(p, "apply_method", Value::from(DEFAULT_APPLY_METHOD)))
        .collect();
    value.set("parameter", Value::List(parameters));
    value
}

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match (name, live.as_str(), wanted.as_str()) {
        ("name", Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        ("tags", _, _) => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn create_operations(desired: &Value) -> Vec<String> {
    let name = desired.get_str("name").unwrap_or("(unknown)");
    let mut lines = vec![format!(
        "CreateDBParameterGroup {name} (family {})",
        desired.get_str("family").unwrap_or("(unknown)")
    )];
    lines.extend(ParamChange::between(&Value::Null, desired).operations(name));
    lines
}

fn kind() -> Kind {
    Kind {
        block: schema::parameter_group().block,
        same,
        create_operations,
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

/// Plans the group. Only a change to parameters that apply at a reboot costs an API call: which
/// instances use the group decides whether that reboot is downtime. `clients` is needed only
/// then (a group planned before the provider is configured is a create, which needs none).
pub async fn plan(
    clients: Result<&Clients, ProviderError>,
    prior: Option<&Value>,
    desired: &Value,
) -> Result<PlannedChange, ProviderError> {
    let (mut change, awaiting_reboot) = plan_offline(prior, desired);
    if awaiting_reboot.is_empty() {
        return Ok(change);
    }
    let group = prior.and_then(|p| p.get_str("name")).unwrap_or_default();
    let users = instances_using(clients?, group).await?;
    match reboot_impact(group, &awaiting_reboot, &users) {
        RebootImpact::Downtime(line) => change.locking.push(line),
        RebootImpact::Warning(line) => change.warnings.push(line),
    }
    Ok(change)
}

/// What a reboot-only parameter change means for reviewers.
#[derive(Debug, PartialEq)]
enum RebootImpact {
    /// Instances use the group: each must reboot, which drops its connections (downtime, not
    /// data loss: nothing stored is lost).
    Downtime(String),
    /// No instance uses the group: the values apply when one first boots with it.
    Warning(String),
}

/// The impact of setting `awaiting_reboot` (`name = value` each) on `group`, used by `users`.
fn reboot_impact(group: &str, awaiting_reboot: &[String], users: &[String]) -> RebootImpact {
    let parameters = awaiting_reboot.join(", ");
    if users.is_empty() {
        return RebootImpact::Warning(format!(
            "parameter group {group}: {parameters} take effect at the first boot of an instance that uses the group: no DB instance uses it now"
        ));
    }
    RebootImpact::Downtime(format!(
        "parameter group {group}: {parameters} take effect only when each instance using it reboots, which strata does not do; instances using it: {}: each reboot drops every connection and rolls back open transactions (downtime of minutes)",
        users.join(", ")
    ))
}

/// The plan as the configuration and the group's state tell it, and the parameters in it that
/// take effect only at a reboot (`name = value` each).
fn plan_offline(prior: Option<&Value>, desired: &Value) -> (PlannedChange, Vec<String>) {
    let desired = with_defaults(desired);
    let mut awaiting_reboot = Vec::new();
    let change = kind().plan(prior, &desired, |prior, diff| {
        let name = prior.get_str("name").unwrap_or_default();
        let mut planned = diff.planned.clone();
        let parameters = ParamChange::between(prior, &desired);
        let mut operations = parameters.operations(name);
        if parameters.is_empty() {
            planned.set(
                "parameter",
                prior.get("parameter").cloned().unwrap_or_default(),
            );
        }
        if let Some(change) = diff.get("tags") {
            operations.extend(TagChange::between(&change.from, &change.to).operations(
                "AddTagsToResource",
                "RemoveTagsFromResource",
                name,
            ));
        }
        awaiting_reboot = parameters.awaiting_reboot();
        diff::finish(planned, operations)
    });
    (change, awaiting_reboot)
}

/// The identifiers of the DB instances that use the parameter group `group`: every instance is
/// read (DescribeDBInstances has no filter by parameter group), page by page.
async fn instances_using(clients: &Clients, group: &str) -> Result<Vec<String>, ProviderError> {
    let instances = crate::rds_instance::describe_all(clients).await?;
    Ok(instances
        .into_iter()
        .filter(|(_, instance)| uses_group(instance, group))
        .map(|(identifier, _)| identifier)
        .collect())
}

fn uses_group(instance: &DbInstance, group: &str) -> bool {
    instance
        .db_parameter_groups()
        .iter()
        .filter_map(|g| g.db_parameter_group_name())
        .any(|name| name.eq_ignore_ascii_case(group))
}

/// With `skip_destroy`, the group is only forgotten: removed from state, left in AWS.
fn skips_destroy(prior: &Value) -> bool {
    prior.get_bool("skip_destroy") == Some(true)
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let name = prior.get_str("name").unwrap_or_default();
    if skips_destroy(prior) {
        return diff::deletion(format!("(state only) forget {name}: skip_destroy leaves it in AWS"));
    }
    diff::deletion(format!("DeleteDBParameterGroup {name}"))
}

// ---------------------------------------------------------------------------------------------
// Applying

async fn change_parameters(
    clients: &Clients,
    name: &str,
    change: &ParamChange,
) -> Result<(), ProviderError> {
    for chunk in change.set.chunks(BATCH) {
        let request = clients
            .rds
            .modify_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(chunk.iter().map(Param::to_sdk).collect()));
        request
            .send()
            .await
            .map_err(|e| errors::api("rds:ModifyDBParameterGroup", e))?;
    }
    for chunk in change.reset.chunks(BATCH) {
        let parameters = chunk
            .iter()
            .map(|n| {
                Parameter::builder()
                    .parameter_name(n)
                    .apply_method(ApplyMethod::Immediate)
                    .build()
            })
            .collect();
        let request = clients
            .rds
            .reset_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(parameters));
        request
            .send()
            .await
            .map_err(|e| errors::api("rds:ResetDBParameterGroup", e))?;
    }
    Ok(())
}

pub async fn apply(
    clients: &Clients,
    prior: Option<&Value>,
    planned: &Value,
    authorship: Option<&Authorship>,
) -> Result<Value, ApplyFailure> {
    let desired = with_defaults(&planned.unknowns_to_null());
    // RDS stores the name lower-cased; moto matches it only in that spelling.
    let name = &desired
        .get_str("name")
        .ok_or_else(|| ProviderError::new("name is required"))?
        .to_lowercase();
    let partial = |error: ProviderError| ApplyFailure {
        error,
        partial: Some(prior.cloned().unwrap_or_else(|| desired.clone())),
        in_doubt: false,
    };
    let prior_value = match prior {
        Some(prior) => prior.clone(),
        None => {
            let tags = tags::for_create(&desired, authorship);
            let request = clients
                .rds
                .create_db_parameter_group()
                .db_parameter_group_name(name)
                .set_db_parameter_group_family(desired.get_str("family").map(str::to_owned))
                .set_description(desired.get_str("description").map(str::to_owned))
                .set_tags((!tags.is_empty()).then(|| rds_tags::to_sdk(&tags)));
            let created = request
                .send()
                .await
                .map_err(|e| errors::create_failed("rds:CreateDBParameterGroup", name, e))?;
            let arn = created
                .db_parameter_group()
                .and_then(|g| g.db_parameter_group_arn())
                .unwrap_or_default();
            Value::object([
                ("name", Value::from(name.as_str())),
                ("arn", Value::from(arn)),
                ("tags", desired.get("tags").cloned().unwrap_or_default()),
            ])
        }
    };
    change_parameters(clients, name, &ParamChange::between(&prior_value, &desired))
        .await
        .map_err(partial)?;
    let tag_change = TagChange::between(
        prior_value.get("tags").unwrap_or(&Value::Null),
        desired.get("tags").unwrap_or(&Value::Null),
    );
    rds_tags::update(
        clients,
        prior_value.get_str("arn").unwrap_or_default(),
        &tag_change,
    )
    .await
    .map_err(partial)?;
    let groups = describe_groups(clients, Some(name)).await?;
    Ok(
        pages::read_back(&desired, &groups, |group, state| async move {
            read_group(clients, &group, &state).await
        })
        .await?,
    )
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    if skips_destroy(prior) {
        return Ok(());
    }
    let name = prior.get_str("name").unwrap_or_default().to_lowercase();
    let result = clients
        .rds
        .delete_db_parameter_group()
        .db_parameter_group_name(name)
        .send()
        .await;
    errors::deleted(
        "rds:DeleteDBParameterGroup",
        result,
        "DBParameterGroupNotFound",
    )
}

/// What `aws_db_parameter_group` declares about itself.
const ABOUT: About = About {
    name: "aws_db_parameter_group",
    schema: schema::parameter_group,
    import_id: Some("the group name"),
    named_by: Some("name"),
    local_arguments: &["skip_destroy"],
    name_prefix: Some(NamePrefix { name: "name", prefix: "name_prefix" }),
};

/// `aws_db_parameter_group` in the provider's table of types.
pub struct ParameterGroupType;

#[async_trait::async_trait]
impl ResourceType for ParameterGroupType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, cx: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(cx.clients(), prior, desired).await
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

#[cfg(test)]
mod tests {
    use strata_provider_sdk::Action;

    use super::*;

    fn group(parameters: &[(&str, &str, &str)]) -> Value {
        let list = parameters
            .iter()
            .map(|(n, v, m)| {
                Value::object([
                    ("name", Value::from(*n)),
                    ("value", Value::from(*v)),
                    ("apply_method", Value::from(*m)),
                ])
            })
            .collect();
        Value::object([
            ("name", Value::from("pg")),
            ("family", Value::from("postgres15")),
            ("description", Value::from(DEFAULT_DESCRIPTION)),
            ("tags", Value::Null),
            ("parameter", Value::List(list)),
        ])
    }

    #[test]
    fn apply_method_and_order_do_not_make_a_diff() {
        let prior = group(&[("b", "2", "pending-reboot"), ("a", "ON", "immediate")]);
        let desired = group(&[("a", "on", "immediate"), ("b", "2", "immediate")]);
        assert_eq!(plan_offline(Some(&prior), &desired).0.action, Action::NoOp);
    }

    #[test]
    fn changes_and_removals_are_listed() {
        let prior = group(&[("a", "1", "immediate"), ("b", "2", "immediate")]);
        let desired = group(&[("a", "5", "immediate")]);
        let (change, _) = plan_offline(Some(&prior), &desired);
        assert_eq!(change.action, Action::Update);
        assert_eq!(
            change.operations,
            vec![
                "ModifyDBParameterGroup pg: a = 5 (immediate)".to_owned(),
                "ResetDBParameterGroup pg: b".to_owned()
            ]
        );
    }

    #[test]
    fn only_static_parameter_changes_await_a_reboot() {
        let prior = group(&[("a", "1", "immediate"), ("b", "2", "pending-reboot")]);
        let desired = group(&[("a", "5", "immediate"), ("b", "3", "pending-reboot")]);
        let (change, awaiting_reboot) = plan_offline(Some(&prior), &desired);
        assert_eq!(awaiting_reboot, ["b = 3"]);
        assert!(change.data_loss.is_empty(), "{change:?}");
        let dynamic_only = group(&[("a", "5", "immediate"), ("b", "2", "pending-reboot")]);
        assert!(plan_offline(Some(&prior), &dynamic_only).1.is_empty());
        assert!(
            plan_offline(None, &desired).1.is_empty(),
            "a new group has no instance to reboot"
        );
    }

    #[test]
    fn a_reboot_is_downtime_only_for_a_group_in_use() {
        let awaiting = ["b = 3".to_owned()];
        let used = reboot_impact("pg", &awaiting, &["db1".to_owned(), "db2".to_owned()]);
        assert!(
            matches!(&used, RebootImpact::Downtime(line) if line.starts_with("parameter group pg: b = 3 take effect only when each instance using it reboots, which strata does not do; instances using it: db1, db2: ")),
            "{used:?}"
        );
        let unused = reboot_impact("pg", &awaiting, &[]);
        assert!(
            matches!(&unused, RebootImpact::Warning(line) if line.contains("at the first boot of an instance that uses the group")),
            "{unused:?}"
        );
    }

    #[test]
    fn batches_of_twenty() {
        let many: Vec<(String, String)> = (0..45)
            .map(|i| (format!("p{i:02}"), i.to_string()))
            .collect();
        let refs: Vec<(&str, &str, &str)> = many
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str(), "immediate"))
            .collect();
        assert_eq!(plan_offline(None, &group(&refs)).0.operations.len(), 1 + 3);
    }
}
