//! `aws_backup_selection`: which resources a backup plan backs up (by ARN, by tag, by
//! conditions), as Terraform's resource of that name. AWS cannot change a selection, so any
//! change replaces it, as in Terraform. Refresh is GetBackupSelection per selection: no list call
//! carries the resources. A selection has no tags: its create sends the intent's id as
//! CreatorRequestId, which ListBackupSelections reports, and that is the mark `marked_by` reads.
//!
//! moto 5.2.1 implements none of the selection calls: on moto a create fails with moto's error
//! (the request building is unit-tested).

use aws_sdk_backup::operation::get_backup_selection::GetBackupSelectionOutput;
use aws_sdk_backup::types::{BackupSelection, Condition, ConditionParameter, ConditionType, Conditions};
use strata_provider_sdk::{Action, ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::{diff, errors, schema};
use crate::resource_type::{About, Cx, ResourceType};

/// What the configuration sets; every one forces a replacement.
const SETTABLE: [&str; 7] = ["name", "plan_id", "iam_role_arn", "resources", "not_resources", "selection_tag", "condition"];
const CONDITION_KINDS: [&str; 4] = ["string_equals", "string_not_equals", "string_like", "string_not_like"];

// ---- canonical form -------------------------------------------------------------------------

/// A list sorted by its JSON text: sets of strings or of objects compare as sets.
fn as_set(items: Vec<Value>) -> Value {
    let mut items = items;
    items.sort_by_key(|item| item.to_json().to_string());
    items.dedup();
    Value::List(items)
}

fn pairs(items: &[Value], keys: [&str; 2]) -> Vec<Value> {
    items.iter().map(|item| Value::object(keys.map(|key| (key, item.get(key).cloned().unwrap_or_default())))).collect()
}

/// All condition blocks as one (AWS keeps one set of conditions), or none.
fn merged_conditions(conditions: &[Value]) -> Value {
    let kinds: Vec<(&str, Value)> = CONDITION_KINDS
        .iter()
        .map(|kind| (*kind, as_set(conditions.iter().flat_map(|c| pairs(c.get_list(kind), ["key", "value"])).collect())))
        .collect();
    if kinds.iter().all(|(_, list)| list.as_list().is_none_or(<[Value]>::is_empty)) {
        return Value::List(vec![]);
    }
    Value::List(vec![Value::object(kinds)])
}

/// The selection in one form for configuration and for what AWS reports.
fn canonical(selection: &Value) -> Value {
    let given = |key: &str| selection.get(key).cloned().unwrap_or_default();
    let set = |key: &str| match selection.get(key) {
        Some(Value::Unknown) => Value::Unknown,
        _ => as_set(selection.get_list(key).to_vec()),
    };
    let tags = selection.get_list("selection_tag").iter().map(|tag| Value::object(["type", "key", "value"].map(|k| (k, tag.get(k).cloned().unwrap_or_default())))).collect();
    Value::object([
        ("name", given("name")),
        ("plan_id", given("plan_id")),
        ("iam_role_arn", given("iam_role_arn")),
        ("resources", set("resources")),
        ("not_resources", set("not_resources")),
        ("id", given("id")),
        ("selection_tag", as_set(tags)),
        ("condition", merged_conditions(selection.get_list("condition"))),
    ])
}

// ---- reading --------------------------------------------------------------------------------

fn to_value(answer: &GetBackupSelectionOutput, state: &Value) -> Value {
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or_default();
    let strings = |items: &[String]| Value::List(items.iter().map(|s| Value::from(s.as_str())).collect());
    let parameters = |items: &[ConditionParameter]| Value::List(items.iter().map(|p| Value::object([("key", text(p.condition_key())), ("value", text(p.condition_value()))])).collect());
    let selection = answer.backup_selection();
    let tags = selection.map(|s| s.list_of_tags()).unwrap_or_default().iter().map(|tag| {
        Value::object([("type", Value::from(tag.condition_type().as_str())), ("key", Value::from(tag.condition_key())), ("value", Value::from(tag.condition_value()))])
    });
    let conditions = selection.and_then(BackupSelection::conditions).map(|c| {
        Value::object([
            ("string_equals", parameters(c.string_equals())),
            ("string_not_equals", parameters(c.string_not_equals())),
            ("string_like", parameters(c.string_like())),
            ("string_not_like", parameters(c.string_not_like())),
        ])
    });
    canonical(&Value::object([
        ("name", text(selection.map(BackupSelection::selection_name))),
        ("plan_id", text(answer.backup_plan_id())),
        ("iam_role_arn", text(selection.map(BackupSelection::iam_role_arn))),
        ("resources", strings(selection.map(BackupSelection::resources).unwrap_or_default())),
        ("not_resources", strings(selection.map(BackupSelection::not_resources).unwrap_or_default())),
        ("id", answer.selection_id().map(Value::from).unwrap_or_else(|| state.get("id").cloned().unwrap_or_default())),
        ("selection_tag", Value::List(tags.collect())),
        ("condition", Value::List(conditions.into_iter().collect())),
    ]))
}

async fn read(clients: &Clients, plan_id: &str, id: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
    match clients.backup.get_backup_selection().backup_plan_id(plan_id).selection_id(id).send().await {
        Ok(answer) => Ok(Some(to_value(&answer, state))),
        Err(err) if errors::code(&err) == Some("ResourceNotFoundException") => Ok(None),
        Err(err) => Err(errors::api("backup:GetBackupSelection", err)),
    }
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let reads = states.iter().map(|state| async move {
        match (state.get_str("plan_id"), state.get_str("id")) {
            (Some(plan), Some(id)) => read(clients, plan, id, state).await,
            _ => Ok(None),
        }
    });
    futures::future::try_join_all(reads).await
}

/// Terraform's import id `PLAN_ID|SELECTION_ID`; the selection may also be named by its name
/// (what a create whose answer was lost knows of it) when the plan has one of that name.
pub async fn import(clients: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let Some((plan, selection)) = id.split_once('|') else {
        return Err(ProviderError::new(format!("\"{id}\" is not a backup selection import id")).with_hint("write PLAN_ID|SELECTION_ID, as Terraform does"));
    };
    let listed = list(clients, plan).await?;
    let by_id = listed.iter().find(|s| s.selection_id() == Some(selection));
    let named: Vec<_> = listed.iter().filter(|s| s.selection_name() == Some(selection)).collect();
    let found = by_id.or(match named.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    match found.and_then(|s| s.selection_id()) {
        Some(found) => read(clients, plan, found, &Value::Null).await,
        None => Ok(None),
    }
}

async fn list(clients: &Clients, plan: &str) -> Result<Vec<aws_sdk_backup::types::BackupSelectionsListMember>, ProviderError> {
    let mut pages = clients.backup.list_backup_selections().backup_plan_id(plan).into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        found.extend(page.map_err(|e| errors::api("backup:ListBackupSelections", e))?.backup_selections_list().iter().cloned());
    }
    Ok(found)
}

/// Whether the selection `live` was made by the create of the intent `intent_id`: its
/// CreatorRequestId is that id.
pub async fn marked_by(clients: &Clients, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
    let listed = list(clients, live.get_str("plan_id").unwrap_or_default()).await?;
    let id = live.get_str("id");
    Ok(!intent_id.is_empty() && listed.iter().any(|s| s.selection_id() == id && s.creator_request_id() == Some(intent_id)))
}

/// The id a create would make is AWS's to choose: the plan and the name find it.
pub fn adoption_id(planned: &Value) -> Option<String> {
    Some(format!("{}|{}", planned.get_str("plan_id")?, planned.get_str("name")?))
}

// ---- plan -----------------------------------------------------------------------------------

fn create_operation(desired: &Value) -> String {
    format!("CreateBackupSelection {} in plan {}", desired.get_str("name").unwrap_or("(unknown)"), desired.get_str("plan_id").unwrap_or("(known after apply)"))
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    let mut wanted = canonical(desired);
    wanted.set("id", Value::Unknown);
    let Some(prior) = prior else {
        return PlannedChange { operations: vec![create_operation(desired)], ..PlannedChange::new(Action::Create, wanted) };
    };
    let live = canonical(prior);
    let changed: Vec<String> = SETTABLE.iter().filter(|key| wanted.get(key) != live.get(key)).map(|key| (*key).to_owned()).collect();
    if changed.is_empty() {
        return PlannedChange::new(Action::NoOp, prior.clone());
    }
    let mut operations = plan_delete(prior).operations;
    operations.push(create_operation(desired));
    PlannedChange { operations, replace_because: changed, ..PlannedChange::new(Action::Replace, wanted) }
}

/// Deleting a selection stops backing up what it selects; nothing already backed up is lost.
pub fn plan_delete(prior: &Value) -> PlannedChange {
    diff::deletion(format!("DeleteBackupSelection {} ({}) from plan {}", prior.get_str("name").unwrap_or_default(), prior.get_str("id").unwrap_or_default(), prior.get_str("plan_id").unwrap_or_default()))
}

// ---- requests -------------------------------------------------------------------------------

fn incomplete(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("the backup selection request is incomplete: {error}"))
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn conditions(desired: &Value) -> Option<Conditions> {
    let merged = merged_conditions(desired.get_list("condition"));
    let merged = merged.as_list().and_then(<[Value]>::first)?;
    let parameters = |kind: &str| {
        non_empty(merged.get_list(kind).iter().map(|p| ConditionParameter::builder().set_condition_key(p.get_str("key").map(str::to_owned)).set_condition_value(p.get_str("value").map(str::to_owned)).build()).collect())
    };
    Some(
        Conditions::builder()
            .set_string_equals(parameters("string_equals"))
            .set_string_not_equals(parameters("string_not_equals"))
            .set_string_like(parameters("string_like"))
            .set_string_not_like(parameters("string_not_like"))
            .build(),
    )
}

/// The selection CreateBackupSelection sends.
pub fn selection_request(desired: &Value) -> Result<BackupSelection, ProviderError> {
    let tags = desired
        .get_list("selection_tag")
        .iter()
        .map(|tag| {
            Condition::builder()
                .set_condition_type(tag.get_str("type").map(ConditionType::from))
                .set_condition_key(tag.get_str("key").map(str::to_owned))
                .set_condition_value(tag.get_str("value").map(str::to_owned))
                .build()
                .map_err(incomplete)
        })
        .collect::<Result<Vec<_>, _>>()?;
    BackupSelection::builder()
        .set_selection_name(desired.get_str("name").map(str::to_owned))
        .set_iam_role_arn(desired.get_str("iam_role_arn").map(str::to_owned))
        .set_resources(non_empty(desired.get_strings("resources")))
        .set_not_resources(non_empty(desired.get_strings("not_resources")))
        .set_list_of_tags(non_empty(tags))
        .set_conditions(conditions(desired))
        .build()
        .map_err(incomplete)
}

// ---- apply ----------------------------------------------------------------------------------

/// Creates the selection (a change is a replacement: a delete, then this).
pub async fn apply(clients: &Clients, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let selection = selection_request(&desired)?;
    let plan = desired.get_str("plan_id").ok_or_else(|| ProviderError::new("plan_id is required"))?;
    let name = selection.selection_name().to_owned();
    let request = clients.backup.create_backup_selection().backup_plan_id(plan).backup_selection(selection).set_creator_request_id(authorship.map(|a| a.intent_id.clone()));
    let created = request.send().await.map_err(|e| errors::create_failed("backup:CreateBackupSelection", &name, e))?;
    let id = created.selection_id().ok_or_else(|| ProviderError::new(format!("CreateBackupSelection {name} answered no selection id")))?;
    let read_back = read(clients, plan, id, &desired).await?;
    Ok(read_back.ok_or_else(|| ProviderError::new(format!("the backup selection {name} is gone right after it was created")))?)
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let request = clients.backup.delete_backup_selection().backup_plan_id(prior.get_str("plan_id").unwrap_or_default()).selection_id(prior.get_str("id").unwrap_or_default());
    errors::deleted("backup:DeleteBackupSelection", request.send().await, "ResourceNotFoundException")
}

/// What `aws_backup_selection` declares about itself.
const ABOUT: About = About {
    name: "aws_backup_selection",
    schema: schema::backup_selection,
    import_id: Some("PLAN_ID|SELECTION_ID"),
    named_by: None,
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_backup_selection` in the provider's table of types.
pub struct BackupSelectionType;

#[async_trait::async_trait]
impl ResourceType for BackupSelectionType {
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
        // Any change replaces it: there is no update.
        let _ = prior;
        apply(cx.clients()?, planned, authorship).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> Value {
        Value::object([("key", Value::from(key)), ("value", Value::from(value))])
    }

    fn condition(kind: &str, key: &str, value: &str) -> Value {
        let mut condition = Value::object(CONDITION_KINDS.map(|k| (k, Value::List(vec![]))));
        condition.set(kind, Value::List(vec![pair(key, value)]));
        condition
    }

    fn selection() -> Value {
        Value::object([
            ("name", Value::from("databases")),
            ("plan_id", Value::from("plan-1")),
            ("iam_role_arn", Value::from("arn:aws:iam::1:role/backup")),
            ("resources", Value::List(vec![Value::from("arn:aws:rds:us-east-1:1:db:main")])),
            ("not_resources", Value::Null),
            ("id", Value::Null),
            ("selection_tag", Value::List(vec![Value::object([("type", Value::from("STRINGEQUALS")), ("key", Value::from("backup")), ("value", Value::from("daily"))])])),
            ("condition", Value::List(vec![condition("string_equals", "aws:ResourceTag/team", "data"), condition("string_not_like", "aws:ResourceTag/env", "dev*")])),
        ])
    }

    #[test]
    fn the_selection_request_carries_resources_tags_and_merged_conditions() {
        let request = selection_request(&selection()).map_err(|e| e.message);
        let request = request.as_ref();
        assert_eq!(request.map(|s| (s.selection_name(), s.iam_role_arn(), s.resources().len(), s.not_resources().len())), Ok(("databases", "arn:aws:iam::1:role/backup", 1, 0)));
        let tag = request.ok().and_then(|s| s.list_of_tags().first());
        assert_eq!(tag.map(|t| (t.condition_type().as_str(), t.condition_key(), t.condition_value())), Some(("STRINGEQUALS", "backup", "daily")));
        let conditions = request.ok().and_then(|s| s.conditions());
        assert_eq!(conditions.map(|c| (c.string_equals().len(), c.string_not_like().len(), c.string_like().len())), Some((1, 1, 0)));
        assert_eq!(conditions.and_then(|c| c.string_not_like().first()).and_then(ConditionParameter::condition_value), Some("dev*"));
        let mut no_role = selection();
        no_role.set("iam_role_arn", Value::Null);
        assert!(selection_request(&no_role).is_err_and(|e| e.message.contains("incomplete")));
    }

    #[test]
    fn any_change_replaces_and_an_equal_one_is_no_op() {
        let mut prior = canonical(&selection());
        prior.set("id", Value::from("sel-1"));
        let mut reordered = selection();
        reordered.set("condition", Value::List(vec![condition("string_not_like", "aws:ResourceTag/env", "dev*"), condition("string_equals", "aws:ResourceTag/team", "data")]));
        assert_eq!(plan(Some(&prior), &reordered).action, Action::NoOp, "conditions merge as AWS keeps them");
        let mut moved = selection();
        moved.set("resources", Value::List(vec![Value::from("arn:aws:rds:us-east-1:1:db:other")]));
        let change = plan(Some(&prior), &moved);
        assert_eq!((change.action, change.replace_because), (Action::Replace, vec!["resources".to_owned()]));
        assert_eq!(change.operations.first().map(String::as_str), Some("DeleteBackupSelection databases (sel-1) from plan plan-1"));
    }
}
