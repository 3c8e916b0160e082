//! `aws_backup_plan`: when AWS Backup backs up, to which vault, and how long it keeps what it
//! made, as Terraform's resource of that name. Refresh is one paginated ListBackupPlans, then
//! GetBackupPlan and ListTags per plan in state; rules and advanced settings change in place
//! (UpdateBackupPlan, which makes a new version), tags too, a new name replaces the plan. A create
//! carries its intent's tag and sends the intent's id as CreatorRequestId.
//!
//! Rules are compared as a set, in one canonical form for configuration and for what AWS reports
//! (sorted by name, Terraform's default windows filled in, a schedule left unset taking AWS's).
//! What AWS would refuse is refused at plan time, naming the rule (moto checks none of it): the
//! cron syntax (at validate, see `backup_cron`), windows, cold storage lifecycles, an empty
//! target vault. moto 5.2.1 has no UpdateBackupPlan: on moto an update fails with its error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput;
use aws_sdk_backup::types::{AdvancedBackupSetting, BackupPlanInput, BackupPlansListMember, BackupRule, BackupRuleInput, CopyAction, Lifecycle};
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::tags::{self, TagChange, Tags};
use crate::{backup_tags, errors, pages, schema};
use crate::resource_type::{About, Cx, ResourceType};

/// Terraform's defaults, sent when the configuration leaves them unset (AWS's own are 480 and
/// 10080 minutes).
const DEFAULT_START_WINDOW: i64 = 60;
const DEFAULT_COMPLETION_WINDOW: i64 = 180;
/// AWS Backup's rules, in minutes and days.
const MIN_START_WINDOW: i64 = 60;
const MIN_COMPLETION_AFTER_START: i64 = 60;
const MIN_DAYS_IN_COLD_STORAGE: i64 = 90;

/// The nested blocks UpdateBackupPlan replaces as a whole.
const PLAN_BODY: [&str; 2] = ["rule", "advanced_backup_setting"];

// ---- canonical form -------------------------------------------------------------------------

/// A number as a whole number (configuration may carry 60.0), anything else as it is.
fn whole(value: Option<&Value>, default: Option<i64>) -> Value {
    match value {
        Some(Value::Number(_)) => value.and_then(Value::as_i64).map(Value::int).unwrap_or_default(),
        Some(Value::Null) | None => default.map(Value::int).unwrap_or_default(),
        Some(other) => other.clone(),
    }
}

/// A map of strings with empty and null alike (null).
fn string_map(value: Option<&Value>) -> Value {
    match value {
        Some(map @ Value::Object(entries)) if !entries.is_empty() => map.clone(),
        Some(Value::Unknown) => Value::Unknown,
        _ => Value::Null,
    }
}

fn lifecycle(value: Option<&Value>) -> Value {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Value::Null };
    let days = Value::object([("cold_storage_after", whole(value.get("cold_storage_after"), None)), ("delete_after", whole(value.get("delete_after"), None))]);
    match days.as_object() {
        Some(map) if map.values().all(Value::is_null) => Value::Null,
        _ => days,
    }
}

/// A list of objects sorted by the attribute `key` (unknown ones last, in their order).
fn sorted_by(mut items: Vec<Value>, key: &str) -> Value {
    items.sort_by_key(|item| item.get_str(key).map(str::to_owned).map_or((1, String::new()), |k| (0, k)));
    Value::List(items)
}

/// A rule in canonical form; `unset(key)` is what an unset schedule or timezone becomes.
fn canonical_rule(rule: &Value, unset: &dyn Fn(&str) -> Value) -> Value {
    let given = |key: &str| rule.get(key).cloned().unwrap_or_default();
    let computed = |key: &str| match rule.get(key) {
        Some(value) if !value.is_null() => value.clone(),
        _ => unset(key),
    };
    let copies = rule
        .get_list("copy_action")
        .iter()
        .map(|copy| Value::object([("destination_vault_arn", copy.get("destination_vault_arn").cloned().unwrap_or_default()), ("lifecycle", lifecycle(copy.get("lifecycle")))]))
        .collect();
    Value::object([
        ("rule_name", given("rule_name")),
        ("target_vault_name", given("target_vault_name")),
        ("schedule", computed("schedule")),
        ("schedule_expression_timezone", computed("schedule_expression_timezone")),
        ("start_window", whole(rule.get("start_window"), Some(DEFAULT_START_WINDOW))),
        ("completion_window", whole(rule.get("completion_window"), Some(DEFAULT_COMPLETION_WINDOW))),
        ("enable_continuous_backup", rule.get("enable_continuous_backup").filter(|v| !v.is_null()).cloned().unwrap_or(Value::Bool(false))),
        ("recovery_point_tags", string_map(rule.get("recovery_point_tags"))),
        ("lifecycle", lifecycle(rule.get("lifecycle"))),
        ("copy_action", sorted_by(copies, "destination_vault_arn")),
    ])
}

/// The configured rules in canonical form; an unset schedule or timezone takes the live rule's
/// of the same name, or is known after apply.
fn desired_rules(desired: &Value, prior: Option<&Value>) -> Value {
    let live_rules = prior.map(|p| p.get_list("rule")).unwrap_or(&[]);
    let rules = desired
        .get_list("rule")
        .iter()
        .map(|rule| {
            let live = live_rules.iter().find(|live| live.get("rule_name") == rule.get("rule_name"));
            canonical_rule(rule, &|key| live.and_then(|l| l.get(key)).cloned().unwrap_or(Value::Unknown))
        })
        .collect();
    sorted_by(rules, "rule_name")
}

fn canonical_settings(settings: &[Value]) -> Value {
    let settings = settings
        .iter()
        .map(|s| Value::object([("backup_options", string_map(s.get("backup_options"))), ("resource_type", s.get("resource_type").cloned().unwrap_or_default())]))
        .collect();
    sorted_by(settings, "resource_type")
}

// ---- reading --------------------------------------------------------------------------------

fn string_map_value(map: Option<&HashMap<String, String>>) -> Value {
    let tags: Tags = map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    string_map(Some(&tags::to_value(&tags)))
}

fn lifecycle_value(lifecycle: Option<&Lifecycle>) -> Value {
    let days = |n: Option<i64>| n.map(Value::int).unwrap_or_default();
    lifecycle.map_or(Value::Null, |l| Value::object([("cold_storage_after", days(l.move_to_cold_storage_after_days())), ("delete_after", days(l.delete_after_days()))]))
}

/// A rule as AWS reports it, in configuration's shape.
fn rule_value(rule: &BackupRule) -> Value {
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or_default();
    let number = |n: Option<i64>| n.map(Value::int).unwrap_or_default();
    let copies = rule
        .copy_actions()
        .iter()
        .map(|copy| Value::object([("destination_vault_arn", Value::from(copy.destination_backup_vault_arn())), ("lifecycle", lifecycle_value(copy.lifecycle()))]))
        .collect();
    let raw = Value::object([
        ("rule_name", Value::from(rule.rule_name())),
        ("target_vault_name", Value::from(rule.target_backup_vault_name())),
        ("schedule", text(rule.schedule_expression())),
        ("schedule_expression_timezone", text(rule.schedule_expression_timezone())),
        ("start_window", number(rule.start_window_minutes())),
        ("completion_window", number(rule.completion_window_minutes())),
        ("enable_continuous_backup", rule.enable_continuous_backup().map(Value::Bool).unwrap_or_default()),
        ("recovery_point_tags", string_map_value(rule.recovery_point_tags())),
        ("lifecycle", lifecycle_value(rule.lifecycle())),
        ("copy_action", Value::List(copies)),
    ]);
    canonical_rule(&raw, &|_| Value::Null)
}

fn setting_value(setting: &AdvancedBackupSetting) -> Value {
    Value::object([("backup_options", string_map_value(setting.backup_options())), ("resource_type", setting.resource_type().map(Value::from).unwrap_or_default())])
}

fn to_value(answer: &GetBackupPlanOutput, tags: &Tags) -> Value {
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or_default();
    let body = answer.backup_plan();
    let rules: Vec<Value> = body.map(|b| b.rules().iter().map(rule_value).collect()).unwrap_or_default();
    let settings = match body.map(|b| b.advanced_backup_settings()).filter(|s| !s.is_empty()) {
        Some(inside) => inside,
        None => answer.advanced_backup_settings(),
    };
    let settings: Vec<Value> = settings.iter().map(setting_value).collect();
    Value::object([
        ("name", text(body.map(|b| b.backup_plan_name()))),
        ("rule", sorted_by(rules, "rule_name")),
        ("advanced_backup_setting", canonical_settings(&settings)),
        ("tags", tags::to_value(tags)),
        ("id", text(answer.backup_plan_id())),
        ("arn", text(answer.backup_plan_arn())),
        ("version", text(answer.version_id())),
    ])
}

/// The plans not deleted, by id.
async fn list(clients: &Clients) -> Result<BTreeMap<String, BackupPlansListMember>, ProviderError> {
    let mut pages = clients.backup.list_backup_plans().into_paginator().send();
    let mut found = BTreeMap::new();
    while let Some(page) = pages.next().await {
        for plan in page.map_err(|e| errors::api("backup:ListBackupPlans", e))?.backup_plans_list() {
            if let (Some(id), None) = (plan.backup_plan_id(), plan.deletion_date()) {
                found.insert(id.to_owned(), plan.clone());
            }
        }
    }
    Ok(found)
}

async fn read(clients: &Clients, id: &str) -> Result<Value, ProviderError> {
    let answer = clients.backup.get_backup_plan().backup_plan_id(id).send().await.map_err(|e| errors::api("backup:GetBackupPlan", e))?;
    let tags = backup_tags::list(clients, answer.backup_plan_arn().unwrap_or_default()).await?;
    Ok(to_value(&answer, &tags))
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let plans = list(clients).await?;
    let by_id = |state: &Value| state.get_str("id").map(str::to_owned);
    pages::read_each_by(states, &plans, by_id, |plan, _| async move { read(clients, plan.backup_plan_id().unwrap_or_default()).await }).await
}

/// The live plan `id` names: its id (Terraform's import id) or its name (what a create whose
/// answer was lost knows of it).
pub async fn import(clients: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let plans = list(clients).await?;
    let named: Vec<&BackupPlansListMember> = plans.values().filter(|plan| plan.backup_plan_name() == Some(id)).collect();
    let only_named = match named.as_slice() {
        [plan] => Some(*plan),
        _ => None,
    };
    match plans.get(id).or(only_named).and_then(BackupPlansListMember::backup_plan_id) {
        Some(found) => read(clients, found).await.map(Some),
        None => Ok(None),
    }
}

// ---- plan-time checks -----------------------------------------------------------------------

/// A whole number of `key`, or `default` when unset; `None` while it is unknown.
fn known_number(object: &Value, key: &str, default: Option<i64>) -> Option<i64> {
    match object.get(key) {
        Some(Value::Null) | None => default,
        Some(value) => value.as_i64(),
    }
}

/// Refuses what AWS Backup would refuse, naming the rule.
pub fn check(desired: &Value) -> Result<(), ProviderError> {
    let mut names = BTreeSet::new();
    for rule in desired.get_list("rule") {
        let name = rule.get_str("rule_name").unwrap_or("(known after apply)");
        let refuse = |what: String, hint: String| Err(ProviderError::new(format!("rule \"{name}\": {what}")).with_hint(hint));
        if rule.get_str("rule_name").is_some() && !names.insert(name) {
            return refuse("two rules have this name".into(), "give each rule of a plan its own rule_name".into());
        }
        if rule.get_str("target_vault_name").is_some_and(|vault| vault.trim().is_empty()) {
            return refuse("target_vault_name is empty".into(), "name the vault this rule's backups go to, such as aws_backup_vault.main.name".into());
        }
        let start = known_number(rule, "start_window", Some(DEFAULT_START_WINDOW));
        if let Some(start) = start.filter(|&s| s < MIN_START_WINDOW) {
            return refuse(format!("start_window = {start} minutes is too short"), format!("AWS Backup needs a start window of at least {MIN_START_WINDOW} minutes"));
        }
        if let (Some(start), Some(completion)) = (start, known_number(rule, "completion_window", Some(DEFAULT_COMPLETION_WINDOW))) {
            if completion < start + MIN_COMPLETION_AFTER_START {
                return refuse(
                    format!("completion_window = {completion} minutes ends too soon after start_window = {start}"),
                    format!("AWS Backup needs completion_window to be at least start_window + {MIN_COMPLETION_AFTER_START} (here {})", start + MIN_COMPLETION_AFTER_START),
                );
            }
        }
        let copies = rule.get_list("copy_action").iter().map(|copy| (format!("copy_action to {}", copy.get_str("destination_vault_arn").unwrap_or("(known after apply)")), copy.get("lifecycle")));
        for (whose, lifecycle) in std::iter::once(("lifecycle".to_owned(), rule.get("lifecycle"))).chain(copies) {
            check_lifecycle(lifecycle).map_err(|(cold, delete)| {
                ProviderError::new(format!("rule \"{name}\": {whose}: delete_after = {delete} days is less than 90 days after cold_storage_after = {cold}"))
                    .with_hint(format!("AWS Backup keeps a recovery point in cold storage for at least {MIN_DAYS_IN_COLD_STORAGE} days: set delete_after to {} or more", cold + MIN_DAYS_IN_COLD_STORAGE))
            })?;
        }
    }
    Ok(())
}

/// `Err((cold, delete))` when a lifecycle deletes less than 90 days after moving to cold storage.
fn check_lifecycle(lifecycle: Option<&Value>) -> Result<(), (i64, i64)> {
    let Some(lifecycle) = lifecycle.filter(|l| !l.is_null()) else { return Ok(()) };
    match (known_number(lifecycle, "cold_storage_after", None), known_number(lifecycle, "delete_after", None)) {
        (Some(cold), Some(delete)) if delete < cold + MIN_DAYS_IN_COLD_STORAGE => Err((cold, delete)),
        _ => Ok(()),
    }
}

// ---- plan -----------------------------------------------------------------------------------

fn kind() -> Kind {
    Kind {
        block: schema::backup_plan().block,
        same: tags::same_attribute,
        create_operations: |desired| vec![format!("CreateBackupPlan {}", desired.get_str("name").unwrap_or("(unknown)"))],
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

/// The names of the rules that differ between `wanted` and `live` (added, changed or removed).
fn changed_rules(wanted: &Value, live: &Value) -> Vec<String> {
    let (wanted, live) = (wanted.as_list().unwrap_or(&[]), live.as_list().unwrap_or(&[]));
    let missing_from = |rules: &[Value], rule: &Value| !rules.contains(rule);
    let names: BTreeSet<String> = wanted
        .iter()
        .filter(|rule| missing_from(live, rule))
        .chain(live.iter().filter(|rule| missing_from(wanted, rule)))
        .map(|rule| rule.get_str("rule_name").unwrap_or("(known after apply)").to_owned())
        .collect();
    names.into_iter().collect()
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    check(desired)?;
    let mut wanted = desired.clone();
    wanted.set("rule", desired_rules(desired, prior));
    wanted.set("advanced_backup_setting", canonical_settings(desired.get_list("advanced_backup_setting")));
    Ok(kind().plan(prior, &wanted, |prior, diff| {
        let name = prior.get_str("name").unwrap_or_default();
        let tag_operations = diff
            .get("tags")
            .map(|change| TagChange::between(&change.from, &change.to).operations("TagResource", "UntagResource", name))
            .unwrap_or_default();
        let mut planned = diff.planned;
        let mut operations = Vec::new();
        if PLAN_BODY.iter().any(|key| wanted.get(key) != prior.get(key)) {
            let mut what = changed_rules(wanted.get("rule").unwrap_or(&Value::Null), prior.get("rule").unwrap_or(&Value::Null))
                .into_iter()
                .map(|rule| format!("rule {rule}"))
                .collect::<Vec<_>>();
            if wanted.get("advanced_backup_setting") != prior.get("advanced_backup_setting") {
                what.push("advanced_backup_setting".to_owned());
            }
            operations.push(format!("UpdateBackupPlan {name}: {} (a new version)", what.join(", ")));
            planned.set("version", Value::Unknown);
        }
        operations.extend(tag_operations);
        diff::finish(planned, operations)
    }))
}

/// Deleting a plan stops its backups; the recovery points it made stay in their vaults.
pub fn plan_delete(prior: &Value) -> PlannedChange {
    diff::deletion(format!("DeleteBackupPlan {} ({})", prior.get_str("name").unwrap_or_default(), prior.get_str("id").unwrap_or_default()))
}

// ---- requests -------------------------------------------------------------------------------

fn incomplete(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("the backup plan request is incomplete: {error}"))
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn string_map_sdk(value: Option<&Value>) -> Option<HashMap<String, String>> {
    let map = tags::from_value(value.unwrap_or(&Value::Null));
    (!map.is_empty()).then(|| backup_tags::to_sdk(&map))
}

fn lifecycle_sdk(value: Option<&Value>) -> Option<Lifecycle> {
    let value = value.filter(|v| !v.is_null())?;
    Some(Lifecycle::builder().set_move_to_cold_storage_after_days(value.get_i64("cold_storage_after")).set_delete_after_days(value.get_i64("delete_after")).build())
}

fn rule_input(rule: &Value) -> Result<BackupRuleInput, ProviderError> {
    let text = |key: &str| rule.get_str(key).map(str::to_owned);
    let copies = rule
        .get_list("copy_action")
        .iter()
        .map(|copy| CopyAction::builder().set_destination_backup_vault_arn(copy.get_str("destination_vault_arn").map(str::to_owned)).set_lifecycle(lifecycle_sdk(copy.get("lifecycle"))).build().map_err(incomplete))
        .collect::<Result<Vec<_>, _>>()?;
    BackupRuleInput::builder()
        .set_rule_name(text("rule_name"))
        .set_target_backup_vault_name(text("target_vault_name"))
        .set_schedule_expression(text("schedule"))
        .set_schedule_expression_timezone(text("schedule_expression_timezone"))
        .start_window_minutes(rule.get_i64("start_window").unwrap_or(DEFAULT_START_WINDOW))
        .completion_window_minutes(rule.get_i64("completion_window").unwrap_or(DEFAULT_COMPLETION_WINDOW))
        .set_enable_continuous_backup(rule.get_bool("enable_continuous_backup"))
        .set_recovery_point_tags(string_map_sdk(rule.get("recovery_point_tags")))
        .set_lifecycle(lifecycle_sdk(rule.get("lifecycle")))
        .set_copy_actions(non_empty(copies))
        .build()
        .map_err(incomplete)
}

/// The plan document CreateBackupPlan and UpdateBackupPlan send.
pub fn plan_input(desired: &Value) -> Result<BackupPlanInput, ProviderError> {
    let rules = desired.get_list("rule").iter().map(rule_input).collect::<Result<Vec<_>, _>>()?;
    let settings = desired
        .get_list("advanced_backup_setting")
        .iter()
        .map(|s| AdvancedBackupSetting::builder().set_resource_type(s.get_str("resource_type").map(str::to_owned)).set_backup_options(string_map_sdk(s.get("backup_options"))).build())
        .collect();
    BackupPlanInput::builder()
        .set_backup_plan_name(desired.get_str("name").map(str::to_owned))
        .set_rules(Some(rules))
        .set_advanced_backup_settings(non_empty(settings))
        .build()
        .map_err(incomplete)
}

// ---- apply ----------------------------------------------------------------------------------

pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let input = plan_input(&desired)?;
    let id = match prior {
        None => create(clients, input, &desired, authorship).await?,
        Some(prior) => {
            let id = prior.get_str("id").ok_or_else(|| ProviderError::new("the backup plan in state has no id"))?;
            if PLAN_BODY.iter().any(|key| desired.get(key) != prior.get(key)) {
                let request = clients.backup.update_backup_plan().backup_plan_id(id).backup_plan(input);
                request.send().await.map_err(|e| errors::api("backup:UpdateBackupPlan", e))?;
            }
            if let Some(change) = diff::attributes(&kind().block, Some(prior), &desired, tags::same_attribute).get("tags") {
                backup_tags::update(clients, prior.get_str("arn").unwrap_or_default(), &TagChange::between(&change.from, &change.to)).await?;
            }
            id.to_owned()
        }
    };
    Ok(read(clients, &id).await?)
}

/// Creates the plan; answers its id.
async fn create(clients: &Clients, input: BackupPlanInput, desired: &Value, authorship: Option<&Authorship>) -> Result<String, ApplyFailure> {
    let name = input.backup_plan_name().to_owned();
    let tags = tags::for_create(desired, authorship);
    let request = clients
        .backup
        .create_backup_plan()
        .backup_plan(input)
        .set_backup_plan_tags((!tags.is_empty()).then(|| backup_tags::to_sdk(&tags)))
        .set_creator_request_id(authorship.map(|a| a.intent_id.clone()));
    let created = request.send().await.map_err(|e| errors::create_failed("backup:CreateBackupPlan", &name, e))?;
    Ok(created.backup_plan_id().ok_or_else(|| ProviderError::new(format!("CreateBackupPlan {name} answered no plan id")))?.to_owned())
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let request = clients.backup.delete_backup_plan().backup_plan_id(prior.get_str("id").unwrap_or_default());
    errors::deleted("backup:DeleteBackupPlan", request.send().await, "ResourceNotFoundException")
}

/// Whether the plan `live` carries the authorship tag of the intent `intent_id`.
pub async fn marked_by(clients: &Clients, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
    backup_tags::marked_by(clients, live.get_str("arn").unwrap_or_default(), intent_id).await
}

/// What `aws_backup_plan` declares about itself.
const ABOUT: About = About {
    name: "aws_backup_plan",
    schema: schema::backup_plan,
    import_id: Some("the plan id (or its name)"),
    named_by: Some("name"),
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_backup_plan` in the provider's table of types.
pub struct BackupPlanType;

#[async_trait::async_trait]
impl ResourceType for BackupPlanType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(prior, desired)
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

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        marked_by(cx.clients()?, live, intent_id).await
    }
}

#[cfg(test)]
mod tests {
    use strata_provider_sdk::Action;

    use super::*;

    fn rule(name: &str, extra: &[(&str, Value)]) -> Value {
        let mut rule = Value::object([
            ("rule_name", Value::from(name)),
            ("target_vault_name", Value::from("main")),
            ("schedule", Value::from("cron(0 5 ? * * *)")),
            ("schedule_expression_timezone", Value::Null),
            ("start_window", Value::Null),
            ("completion_window", Value::Null),
            ("enable_continuous_backup", Value::Null),
            ("recovery_point_tags", Value::Null),
            ("lifecycle", Value::Null),
            ("copy_action", Value::List(vec![])),
        ]);
        for (key, value) in extra {
            rule.set(key, value.clone());
        }
        rule
    }

    fn days(cold: Option<i64>, delete: i64) -> Value {
        Value::object([("cold_storage_after", cold.map(Value::int).unwrap_or_default()), ("delete_after", Value::int(delete))])
    }

    fn desired(rules: Vec<Value>) -> Value {
        Value::object([
            ("name", Value::from("nightly")),
            ("rule", Value::List(rules)),
            ("advanced_backup_setting", Value::List(vec![])),
            ("tags", Value::Null),
            ("id", Value::Null),
            ("arn", Value::Null),
            ("version", Value::Null),
        ])
    }

    fn refusal(rules: Vec<Value>) -> String {
        check(&desired(rules)).err().map(|e| format!("{} / {}", e.message, e.hint.unwrap_or_default())).unwrap_or_default()
    }

    #[test]
    fn windows_and_lifecycles_aws_would_refuse_are_refused_naming_the_rule() {
        assert_eq!(refusal(vec![rule("daily", &[])]), "", "Terraform's defaults pass");
        let short = refusal(vec![rule("daily", &[("start_window", Value::int(30))])]);
        assert!(short.contains("rule \"daily\": start_window = 30 minutes is too short") && short.contains("at least 60"), "{short}");
        let soon = refusal(vec![rule("daily", &[("start_window", Value::int(120)), ("completion_window", Value::int(150))])]);
        assert!(soon.contains("completion_window = 150") && soon.contains("(here 180)"), "{soon}");
        let cold = refusal(vec![rule("weekly", &[("lifecycle", days(Some(30), 100))])]);
        assert!(cold.contains("rule \"weekly\": lifecycle: delete_after = 100") && cold.contains("120 or more"), "{cold}");
        let copy = Value::object([("destination_vault_arn", Value::from("arn:aws:backup:eu-west-1:1:backup-vault:dr")), ("lifecycle", days(Some(10), 50))]);
        let copied = refusal(vec![rule("daily", &[("copy_action", Value::List(vec![copy]))])]);
        assert!(copied.contains("copy_action to arn:aws:backup:eu-west-1:1:backup-vault:dr: delete_after = 50"), "{copied}");
        assert_eq!(refusal(vec![rule("daily", &[("lifecycle", days(None, 7))])]), "", "no cold storage, no minimum");
        let empty = refusal(vec![rule("daily", &[("target_vault_name", Value::from(""))])]);
        assert!(empty.contains("target_vault_name is empty"), "{empty}");
        assert_eq!(refusal(vec![rule("daily", &[("target_vault_name", Value::Unknown)])]), "", "a vault made in this apply is fine");
        assert!(refusal(vec![rule("daily", &[]), rule("daily", &[])]).contains("two rules have this name"));
    }

    #[test]
    fn the_plan_document_carries_every_rule_setting() {
        let copy = Value::object([("destination_vault_arn", Value::from("arn:aws:backup:eu-west-1:1:backup-vault:dr")), ("lifecycle", days(None, 30))]);
        let tags = Value::object([("kind", Value::from("nightly"))]);
        let extra = [("lifecycle", days(Some(30), 120)), ("copy_action", Value::List(vec![copy])), ("recovery_point_tags", tags), ("enable_continuous_backup", Value::Bool(true))];
        let mut plan = desired(vec![rule("daily", &extra)]);
        plan.set("advanced_backup_setting", Value::List(vec![Value::object([("resource_type", Value::from("EC2")), ("backup_options", Value::object([("WindowsVSS", Value::from("enabled"))]))])]));
        let input = plan_input(&plan).map_err(|e| e.message);
        let input = input.as_ref().map(|i| (i.backup_plan_name(), i.rules().len(), i.advanced_backup_settings().len()));
        assert_eq!(input, Ok(("nightly", 1, 1)));
        let built = plan_input(&plan).ok();
        let sent = built.as_ref().and_then(|i| i.rules().first());
        assert_eq!(sent.map(|r| (r.target_backup_vault_name(), r.schedule_expression(), r.start_window_minutes(), r.completion_window_minutes())), Some(("main", Some("cron(0 5 ? * * *)"), Some(60), Some(180))));
        assert_eq!(sent.and_then(|r| r.lifecycle()).map(|l| (l.move_to_cold_storage_after_days(), l.delete_after_days())), Some((Some(30), Some(120))));
        assert_eq!(sent.and_then(|r| r.copy_actions().first()).map(|c| (c.destination_backup_vault_arn(), c.lifecycle().and_then(|l| l.delete_after_days()))), Some(("arn:aws:backup:eu-west-1:1:backup-vault:dr", Some(30))));
        assert_eq!(sent.and_then(|r| r.recovery_point_tags()).and_then(|t| t.get("kind")).map(String::as_str), Some("nightly"));
        assert_eq!(sent.and_then(|r| r.enable_continuous_backup()), Some(true));
        assert!(plan_input(&desired(vec![rule("daily", &[("target_vault_name", Value::Null)])])).is_err(), "a rule without a vault is not sent");
    }

    #[test]
    fn an_update_sends_the_whole_document_to_update_backup_plan_by_id() {
        let config = aws_sdk_backup::Config::builder().behavior_version(aws_sdk_backup::config::BehaviorVersion::latest()).region(aws_sdk_backup::config::Region::new("us-east-1")).build();
        let client = aws_sdk_backup::Client::from_conf(config);
        let input = plan_input(&desired(vec![rule("daily", &[]), rule("weekly", &[])])).ok();
        let request = client.update_backup_plan().backup_plan_id("plan-1").set_backup_plan(input);
        let sent = request.as_input();
        assert_eq!(sent.get_backup_plan_id().as_deref(), Some("plan-1"));
        assert_eq!(sent.get_backup_plan().as_ref().map(|p| p.rules().len()), Some(2));
    }

    fn live(rules: Vec<Value>) -> Value {
        let mut live = desired(rules.iter().map(|r| canonical_rule(r, &|key| Value::from(if key == "schedule" { "cron(0 5 ? * * *)" } else { "Etc/UTC" }))).collect());
        live.set("id", Value::from("plan-1"));
        live.set("version", Value::from("v1"));
        live
    }

    #[test]
    fn an_unchanged_plan_is_no_op_and_a_changed_rule_is_one_update() {
        let prior = live(vec![rule("daily", &[]), rule("weekly", &[])]);
        let same_rules = plan(Some(&prior), &desired(vec![rule("weekly", &[]), rule("daily", &[("start_window", Value::from_json(&serde_json::json!(60.0)))])])).map_err(|e| e.message);
        assert_eq!(same_rules.map(|c| c.action), Ok(Action::NoOp), "rules are a set, unset windows are Terraform's defaults, the timezone AWS's");
        let changed = plan(Some(&prior), &desired(vec![rule("daily", &[("completion_window", Value::int(240))]), rule("weekly", &[])])).map_err(|e| e.message);
        let changed = changed.map(|c| (c.action, c.operations, c.planned.get("version").cloned()));
        assert_eq!(changed, Ok((Action::Update, vec!["UpdateBackupPlan nightly: rule daily (a new version)".to_owned()], Some(Value::Unknown))));
    }
}
