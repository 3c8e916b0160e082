//! `aws_security_group_rule`: rules of one protocol and port range on one group, one AWS rule per
//! source (each CIDR, IPv6 CIDR, prefix list, the source group or the group itself), as
//! Terraform's resource of that name. Refresh is one paginated DescribeSecurityGroupRules with a
//! `group-id` filter for every group the states name; a state comes back cut down to the rules
//! still there (none: gone). Everything but `description` forces a replacement; a description
//! changes in place (UpdateSecurityGroupRuleDescriptions*). A delete revokes exactly its own
//! rules, nothing else of the group.
//!
//! Authorship: Terraform's resource has no tags, but AWS tags every rule an authorize call
//! makes with the call's TagSpecifications, so a create tags its rules `strata:intent = <id>`
//! (hidden, like every authorship tag): an interrupted create is adopted only when every rule
//! its content id names carries that intent's mark, never merely because such rules exist.

use strata_provider_sdk::{ApplyFailure, Authorship, NestedBlock, PlannedChange, ProviderError, ResourceSchema, Type, Value, Attribute as A, Block};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::resource_type::{About, Cx, ResourceType};
use crate::schema::{self, strings};
use crate::sg_rules::{self, Direction, Rule, Rules, Source};
use crate::standalone_rules::{self, Claims, LiveRule};
use crate::{sg_calls, tags};

pub fn schema() -> ResourceSchema {
    let fixed = |ty| A::required(ty).force_new();
    let optional = |ty| A::optional(ty).force_new();
    let timeouts = Block::new().attribute("create", A::optional(Type::String).describe("accepted; the authorize call does not wait"));
    ResourceSchema {
        periodic: false,
        description: "Rules of one protocol and port range on a security group, one per source (Terraform's standalone rule).",
        block: schema::regional(
            Block::new()
                .attribute("type", fixed(Type::String).one_of(&["ingress", "egress"]))
                .attribute("security_group_id", fixed(Type::String))
                .attribute("protocol", fixed(Type::String).describe("tcp, udp, icmp, icmpv6, a number, or -1 / all"))
                .attribute("from_port", fixed(Type::Number))
                .attribute("to_port", fixed(Type::Number))
                .attribute("cidr_blocks", optional(strings()))
                .attribute("ipv6_cidr_blocks", optional(strings()))
                .attribute("prefix_list_ids", optional(strings()))
                .attribute("source_security_group_id", optional(Type::String).describe("a source (ingress) or destination (egress) group id"))
                .attribute("self", optional(Type::Bool).describe("the group itself as source/destination"))
                .attribute("description", A::optional(Type::String).describe("changes in place"))
                .attribute("id", A::computed(Type::String).describe("the rules' content id, as import takes it"))
                .attribute("security_group_rule_id", A::computed(Type::String).describe("the rule's id (sgr-...) when it has one source, else empty"))
                .block("timeouts", NestedBlock::single(timeouts)),
        ),
    }
}

fn direction(value: &Value) -> Direction {
    if value.get_str("type") == Some("egress") { Direction::Egress } else { Direction::Ingress }
}

fn group(value: &Value) -> &str {
    value.get_str("security_group_id").unwrap_or_default()
}

/// The canonical rules a value (state or configuration) names.
fn rules(value: &Value) -> Vec<Rule> {
    let mut block = value.clone();
    let source_group = value.get_str("source_security_group_id").map(Value::from);
    block.set("security_groups", Value::List(source_group.into_iter().collect()));
    sg_rules::explode(&block, Some(group(value)))
}

/// `state` as the live rules `present` show it: its sources cut down to theirs, their description.
fn to_value(state: &Value, present: &[&LiveRule]) -> Value {
    let mut value = state.clone();
    let has = |source: Source| present.iter().any(|live| live.rule.source == source);
    let keep = |key: &str, source: fn(String) -> Source| Value::List(state.get_strings(key).into_iter().filter(|s| has(source(s.clone()))).map(Value::from).collect());
    value.set("cidr_blocks", keep("cidr_blocks", Source::Cidr));
    value.set("ipv6_cidr_blocks", keep("ipv6_cidr_blocks", Source::Ipv6));
    value.set("prefix_list_ids", keep("prefix_list_ids", Source::PrefixList));
    if state.get_bool("self") == Some(true) {
        value.set("self", Value::Bool(has(Source::Itself)));
    }
    let source_group = state.get_str("source_security_group_id").filter(|g| has(Source::Group((*g).to_owned())) || (*g == group(state) && has(Source::Itself)));
    value.set("source_security_group_id", source_group.map(Value::from).unwrap_or_default());
    let description = present.first().map(|live| live.rule.description.as_str()).filter(|d| !d.is_empty());
    value.set("description", description.map(Value::from).unwrap_or_default());
    let kept: Vec<Rule> = present.iter().map(|live| live.rule.clone()).collect();
    value.set("id", standalone_rules::content_id(group(state), direction(state), &kept).map(Value::from).unwrap_or_default());
    let single = match present {
        [one] => one.id.as_str(),
        _ => "",
    };
    value.set("security_group_rule_id", Value::from(single));
    value
}

/// The live rules of `state`, of those in `live`.
fn present<'a>(state: &Value, live: &'a [LiveRule]) -> Vec<&'a LiveRule> {
    let wanted = rules(state);
    let direction = direction(state);
    let in_group = live.iter().filter(|rule| rule.group_id == group(state));
    in_group.filter(|rule| wanted.iter().any(|w| rule.allows(direction, w))).collect()
}

async fn describe_groups(clients: &Clients, states: &[&Value]) -> Result<Vec<LiveRule>, ProviderError> {
    let mut groups: Vec<String> = states.iter().map(|s| group(s).to_owned()).filter(|g| !g.is_empty()).collect();
    groups.sort();
    groups.dedup();
    let found = sg_calls::describe(clients, "group-id", groups).await?;
    Ok(found.iter().filter_map(LiveRule::from_sdk).collect())
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let live = describe_groups(clients, states).await?;
    Ok(states
        .iter()
        .map(|state| {
            let present = present(state, &live);
            (!present.is_empty()).then(|| to_value(state, &present))
        })
        .collect())
}

/// A state naming exactly the rules a content id names.
fn state_of(id: &str) -> Option<Value> {
    let (group, direction, rules) = standalone_rules::parse_content_id(id)?;
    let first = rules.first()?;
    let pick = |f: fn(&Source) -> Option<&String>| Value::List(rules.iter().filter_map(|r| f(&r.source)).map(|s| Value::from(s.as_str())).collect());
    let source_group = rules.iter().find_map(|r| match &r.source {
        Source::Group(g) => Some(Value::from(g.as_str())),
        _ => None,
    });
    Some(Value::object([
        ("type", Value::from(direction.key())),
        ("security_group_id", Value::from(group.as_str())),
        ("protocol", Value::from(first.protocol.as_str())),
        ("from_port", Value::int(first.from)),
        ("to_port", Value::int(first.to)),
        ("cidr_blocks", pick(|s| if let Source::Cidr(c) = s { Some(c) } else { None })),
        ("ipv6_cidr_blocks", pick(|s| if let Source::Ipv6(c) = s { Some(c) } else { None })),
        ("prefix_list_ids", pick(|s| if let Source::PrefixList(p) = s { Some(p) } else { None })),
        ("source_security_group_id", source_group.unwrap_or_default()),
        ("self", Value::Bool(rules.iter().any(|r| r.source == Source::Itself))),
    ]))
}

pub async fn import(clients: &Clients, id: &str) -> Result<Option<Value>, ProviderError> {
    let state = state_of(id).ok_or_else(|| {
        ProviderError::new(format!("\"{id}\" is not an aws_security_group_rule import id"))
            .with_hint("write it as SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...], e.g. sg-123_ingress_tcp_5432_5432_10.0.0.0/16")
    })?;
    // Only an import that finds every rule the id names is the rule resource it names.
    let live = describe_groups(clients, &[&state]).await?;
    let present = present(&state, &live);
    Ok((present.len() == rules(&state).len()).then(|| to_value(&state, &present)))
}

/// The arguments that say which rules a resource makes.
const CONTENT: [&str; 10] = ["type", "security_group_id", "protocol", "from_port", "to_port", "cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "source_security_group_id", "self"];

/// Whether the arguments saying which rules `value` makes are all known.
fn content_known(value: &Value) -> bool {
    CONTENT.iter().all(|key| value.get(key).is_none_or(Value::is_wholly_known))
}

/// The content id of what a create of `planned` makes, once its group and sources are known.
pub fn adoption_id(planned: &Value) -> Option<String> {
    if !content_known(planned) {
        return None;
    }
    standalone_rules::content_id(group(planned), direction(planned), &rules(planned))
}

/// Every rule `live` names carries the intent's mark.
pub async fn marked_by(clients: &Clients, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
    let found = describe_groups(clients, &[live]).await?;
    let present = present(live, &found);
    Ok(!present.is_empty() && present.len() == rules(live).len() && present.iter().all(|rule| rule.marks.iter().any(|m| m == intent_id)))
}

// ---------------------------------------------------------------------------------------------
// Planning

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match name {
        "protocol" => live.as_str().map(sg_rules::protocol) == wanted.as_str().map(sg_rules::protocol),
        "cidr_blocks" | "ipv6_cidr_blocks" | "prefix_list_ids" => diff::same_set(live, wanted),
        "self" => live.as_bool().unwrap_or(false) == wanted.as_bool().unwrap_or(false),
        "source_security_group_id" | "description" => live.as_str().unwrap_or_default() == wanted.as_str().unwrap_or_default(),
        _ => diff::equal(live, wanted),
    }
}

/// `call group: rule, rule` for the rules of `value`.
fn rules_line(call: &str, value: &Value) -> String {
    let mut described: Vec<String> = rules(value).iter().map(sg_rules::describe).collect();
    if !content_known(value) {
        described.push("(sources known after apply)".to_owned());
    }
    let group = value.get("security_group_id").map(diff::show).unwrap_or_default();
    format!("{call} {group}: {}", described.join(", "))
}

fn kind() -> Kind {
    Kind {
        block: schema().block,
        same,
        create_operations: |desired| vec![rules_line(direction(desired).calls().0, desired)],
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    kind().plan(prior, desired, |_, diff| {
        let operations = match diff.get("description") {
            Some(_) => vec![rules_line(&format!("UpdateSecurityGroupRuleDescriptions{}", calls_suffix(desired)), desired)],
            None => Vec::new(),
        };
        diff::finish(diff.planned, operations)
    })
}

/// `Ingress` or `Egress`, as the API's names end.
fn calls_suffix(value: &Value) -> &'static str {
    match direction(value) {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    }
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    diff::deletion(rules_line(direction(prior).calls().1, prior))
}

// ---------------------------------------------------------------------------------------------
// Applying

pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let wanted: Rules = rules(&desired).into_iter().collect();
    match prior {
        None => {
            let mark = tags::for_create(&Value::Null, authorship);
            sg_calls::authorize(clients, group(&desired), direction(&desired), &wanted, &mark).await?;
        }
        Some(_) => sg_calls::update_descriptions(clients, group(&desired), direction(&desired), &wanted).await?,
    }
    let live = describe_groups(clients, &[&desired]).await.map_err(|error| ApplyFailure { error, partial: Some(desired.clone()), in_doubt: false })?;
    let present = present(&desired, &live);
    Ok(to_value(&desired, &present))
}

/// Revokes exactly this resource's rules; ones already gone are done.
pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let live = describe_groups(clients, &[prior]).await?;
    let present: Rules = present(prior, &live).into_iter().map(|rule| rule.rule.clone()).collect();
    sg_calls::revoke(clients, group(prior), direction(prior), &present).await
}

/// What `aws_security_group_rule` declares about itself.
const ABOUT: About = About {
    name: "aws_security_group_rule",
    schema,
    import_id: Some("SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE[_SOURCE...], e.g. sg-123_ingress_tcp_5432_5432_10.0.0.0/16"),
    named_by: None,
    local_arguments: &["timeouts"],
    name_prefix: None,
};

/// `aws_security_group_rule` in the provider's table of types.
pub struct SecurityGroupRuleType;

#[async_trait::async_trait]
impl ResourceType for SecurityGroupRuleType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    fn claim_rules(&self, state: &Value, claims: &mut Claims) {
        for rule in rules(state) {
            claims.claim(group(state), direction(state), rule);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_resource(sources: &[(&str, Value)]) -> Value {
        let mut value = Value::object([
            ("type", Value::from("ingress")),
            ("security_group_id", Value::from("sg-1")),
            ("protocol", Value::from("tcp")),
            ("from_port", Value::int(5432)),
            ("to_port", Value::int(5432)),
        ]);
        for (key, source) in sources {
            value.set(key, source.clone());
        }
        value
    }

    #[test]
    fn each_source_is_one_rule_and_the_group_itself_is_self() {
        let value = rule_resource(&[
            ("cidr_blocks", Value::List(vec![Value::from("10.0.0.0/16"), Value::from("10.1.0.0/16")])),
            ("source_security_group_id", Value::from("sg-1")),
        ]);
        let sources: Vec<Source> = rules(&value).into_iter().map(|r| r.source).collect();
        assert_eq!(sources, vec![Source::Cidr("10.0.0.0/16".into()), Source::Cidr("10.1.0.0/16".into()), Source::Itself]);
        assert_eq!(adoption_id(&value).as_deref(), Some("sg-1_ingress_tcp_5432_5432_10.0.0.0/16_10.1.0.0/16_self"));
    }

    #[test]
    fn an_import_id_names_the_state_it_imports() {
        let state = state_of("sg-1_ingress_tcp_5432_5432_10.0.0.0/16_sg-2").unwrap_or_default();
        assert_eq!(state.get_strings("cidr_blocks"), vec!["10.0.0.0/16".to_owned()]);
        assert_eq!(state.get_str("source_security_group_id"), Some("sg-2"));
        assert_eq!(adoption_id(&state).as_deref(), Some("sg-1_ingress_tcp_5432_5432_10.0.0.0/16_sg-2"));
    }

    #[test]
    fn only_the_description_changes_in_place() {
        let prior = rule_resource(&[("cidr_blocks", Value::List(vec![Value::from("10.0.0.0/16")])), ("description", Value::from("old"))]);
        let mut desired = prior.clone();
        desired.set("description", Value::from("new"));
        let change = plan(Some(&prior), &desired);
        assert_eq!(change.action, strata_provider_sdk::Action::Update);
        assert_eq!(change.operations, vec!["UpdateSecurityGroupRuleDescriptionsIngress sg-1: tcp 5432 10.0.0.0/16".to_owned()]);
        desired.set("to_port", Value::int(5433));
        assert_eq!(plan(Some(&prior), &desired).action, strata_provider_sdk::Action::Replace);
    }
}
