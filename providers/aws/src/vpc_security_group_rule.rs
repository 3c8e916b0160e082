//! `aws_vpc_security_group_ingress_rule` and `aws_vpc_security_group_egress_rule`: one AWS rule
//! (sgr-...) each, with tags, as Terraform's resources of those names. Refresh is one paginated
//! DescribeSecurityGroupRules with a `security-group-rule-id` filter for every state of the type;
//! a change of the group replaces the rule, anything else changes in place
//! (ModifySecurityGroupRules; tags with CreateTags / DeleteTags on the rule). A delete revokes the
//! rule by its id, nothing else of the group.
//!
//! Authorship: the authorize call tags the new rule `strata:intent = <id>`; an interrupted create
//! is found by the rule's content id (the rule is unique in its group by what it allows) and
//! adopted only when it carries that mark.

use aws_sdk_ec2::types::SecurityGroupRuleRequest;
use strata_provider_sdk::{ApplyFailure, Attribute as A, Authorship, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::resource_type::{About, Cx, ResourceType};
use crate::schema;
use crate::security_group::change_tags;
use crate::sg_rules::{self, Direction, Rule, Rules, Source};
use crate::standalone_rules::{self, Claims, LiveRule};
use crate::tags::{self, TagChange};
use crate::sg_calls;

/// The arguments naming where the traffic comes from (ingress) or goes to (egress): exactly one.
const SOURCES: [&str; 4] = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"];

/// The arguments ModifySecurityGroupRules changes.
const RULE_FIELDS: [&str; 8] = ["ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id", "description"];

fn schema(direction: Direction) -> ResourceSchema {
    let source = |what| A::optional(Type::String).describe(what);
    ResourceSchema {
        periodic: false,
        description: match direction {
            Direction::Ingress => "One inbound rule of a VPC security group (sgr-...), with tags.",
            Direction::Egress => "One outbound rule of a VPC security group (sgr-...), with tags.",
        },
        block: schema::regional(
            Block::new()
                .attribute("security_group_id", A::required(Type::String).force_new())
                .attribute("ip_protocol", A::required(Type::String).describe("tcp, udp, icmp, icmpv6, a number, or -1 (all: then no ports)"))
                .attribute("from_port", A::optional(Type::Number))
                .attribute("to_port", A::optional(Type::Number))
                .attribute("cidr_ipv4", source("one of the four sources"))
                .attribute("cidr_ipv6", source("one of the four sources"))
                .attribute("prefix_list_id", source("one of the four sources"))
                .attribute("referenced_security_group_id", source("one of the four sources: a group id"))
                .attribute("description", A::optional(Type::String))
                .attribute("tags", schema::tags())
                .attribute("arn", A::computed(Type::String))
                .attribute("id", A::computed(Type::String).describe("the rule's id (sgr-...)"))
                .attribute("security_group_rule_id", A::computed(Type::String).describe("the rule's id (sgr-...)")),
        ),
    }
}

fn group(value: &Value) -> &str {
    value.get_str("security_group_id").unwrap_or_default()
}

/// The canonical rule a value (state or configuration) names; `None` without exactly one source.
fn rule_of(value: &Value) -> Option<Rule> {
    let protocol = sg_rules::protocol(value.get_str("ip_protocol")?);
    let (from, to) = sg_rules::ports(&protocol, value.get_i64("from_port"), value.get_i64("to_port"));
    let given: Vec<(&str, &str)> = SOURCES.iter().filter_map(|key| Some((*key, value.get_str(key)?))).collect();
    let source = match given.as_slice() {
        [("cidr_ipv4", cidr)] => Source::Cidr((*cidr).to_owned()),
        [("cidr_ipv6", cidr)] => Source::Ipv6((*cidr).to_owned()),
        [("prefix_list_id", list)] => Source::PrefixList((*list).to_owned()),
        [(_, referenced)] if *referenced == group(value) => Source::Itself,
        [(_, referenced)] => Source::Group((*referenced).to_owned()),
        _ => return None,
    };
    let description = value.get_str("description").unwrap_or_default().to_owned();
    Some(Rule { protocol, from, to, source, description })
}

/// Refuses a rule without exactly one known source (Terraform's "exactly one of" check).
fn check(kind_name: &str, desired: &Value) -> Result<(), ProviderError> {
    let known = SOURCES.iter().all(|key| desired.get(key).is_none_or(Value::is_wholly_known));
    if known && rule_of(desired).is_none() {
        return Err(ProviderError::new(format!("{kind_name}: exactly one of {} must be set", SOURCES.join(", "))));
    }
    Ok(())
}

/// The live rule as a state value, spelled as `state` spells its protocol.
fn to_value(live: &LiveRule, state: &Value, region: Option<&str>) -> Value {
    let rule = &live.rule;
    let spelled = state.get_str("ip_protocol").filter(|given| sg_rules::protocol(given) == rule.protocol).unwrap_or(&rule.protocol);
    let all = rule.protocol == "-1";
    let port = |n: i64| if all { Value::Null } else { Value::int(n) };
    let text = |text: Option<&str>| text.map(Value::from).unwrap_or_default();
    let (cidr_ipv4, cidr_ipv6, prefix_list, referenced) = match &rule.source {
        Source::Cidr(c) => (Some(c.as_str()), None, None, None),
        Source::Ipv6(c) => (None, Some(c.as_str()), None, None),
        Source::PrefixList(p) => (None, None, Some(p.as_str()), None),
        Source::Group(g) => (None, None, None, Some(g.as_str())),
        Source::Itself => (None, None, None, Some(live.group_id.as_str())),
    };
    let arn = live.arn.clone().or_else(|| Some(format!("arn:aws:ec2:{}:{}:security-group-rule/{}", region?, live.owner.as_deref()?, live.id)));
    Value::object([
        ("security_group_id", Value::from(live.group_id.as_str())),
        ("ip_protocol", Value::from(spelled)),
        ("from_port", port(rule.from)),
        ("to_port", port(rule.to)),
        ("cidr_ipv4", text(cidr_ipv4)),
        ("cidr_ipv6", text(cidr_ipv6)),
        ("prefix_list_id", text(prefix_list)),
        ("referenced_security_group_id", text(referenced)),
        ("description", text(Some(rule.description.as_str()).filter(|d| !d.is_empty()))),
        ("tags", tags::to_value(&live.tags)),
        ("arn", text(arn.as_deref())),
        ("id", Value::from(live.id.as_str())),
        ("security_group_rule_id", Value::from(live.id.as_str())),
    ])
}

fn rule_id(value: &Value) -> Option<&str> {
    value.get_str("security_group_rule_id").or(value.get_str("id")).filter(|id| !id.is_empty())
}

/// The live rules among `ids`, in one paginated call.
async fn describe_ids(clients: &Clients, ids: Vec<String>) -> Result<Vec<LiveRule>, ProviderError> {
    let found = sg_calls::describe(clients, "security-group-rule-id", ids).await?;
    Ok(found.iter().filter_map(LiveRule::from_sdk).collect())
}

/// The rule of `direction` a content id names, found among its group's rules.
async fn find_by_content(clients: &Clients, direction: Direction, id: &str) -> Result<Option<LiveRule>, ProviderError> {
    let Some((group, named, rules)) = standalone_rules::parse_content_id(id) else { return Ok(None) };
    let [rule] = rules.as_slice() else { return Ok(None) };
    if named != direction {
        return Ok(None);
    }
    let found = sg_calls::describe(clients, "group-id", vec![group]).await?;
    Ok(found.iter().filter_map(LiveRule::from_sdk).find(|live| live.allows(direction, rule)))
}

// ---------------------------------------------------------------------------------------------
// Planning

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match name {
        "ip_protocol" => live.as_str().map(sg_rules::protocol) == wanted.as_str().map(sg_rules::protocol),
        "tags" => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn rule_text(value: &Value) -> String {
    rule_of(value).map(|rule| sg_rules::describe(&rule)).unwrap_or_else(|| "(known after apply)".to_owned())
}

/// The import id both directions take.
const IMPORT_ID: Option<&str> = Some("the rule id (sgr-...), or SGID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE");

/// What `aws_vpc_security_group_ingress_rule` declares about itself.
const INGRESS_ABOUT: About = About {
    name: "aws_vpc_security_group_ingress_rule",
    schema: || schema(Direction::Ingress),
    import_id: IMPORT_ID,
    // Its adoption id is its content id: the sgr- id is made by the create.
    named_by: None,
    local_arguments: &[],
    name_prefix: None,
};

/// What `aws_vpc_security_group_egress_rule` declares about itself.
const EGRESS_ABOUT: About = About { name: "aws_vpc_security_group_egress_rule", schema: || schema(Direction::Egress), ..INGRESS_ABOUT };

/// One type per direction: `aws_vpc_security_group_ingress_rule` or `_egress_rule`.
pub struct VpcRuleType {
    direction: Direction,
}

pub static INGRESS: VpcRuleType = VpcRuleType { direction: Direction::Ingress };
pub static EGRESS: VpcRuleType = VpcRuleType { direction: Direction::Egress };

impl VpcRuleType {
    fn kind(&self) -> Kind {
        let block = schema(self.direction).block;
        match self.direction {
            Direction::Ingress => Kind { block, same, create_operations: |d| vec![create_line(Direction::Ingress, d)], delete_operations: |p| vec![delete_line(Direction::Ingress, p)] },
            Direction::Egress => Kind { block, same, create_operations: |d| vec![create_line(Direction::Egress, d)], delete_operations: |p| vec![delete_line(Direction::Egress, p)] },
        }
    }

    fn plan_change(&self, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        check(self.name(), desired)?;
        Ok(self.kind().plan(prior, desired, |prior, diff| {
            let id = rule_id(prior).unwrap_or_default();
            let mut operations = Vec::new();
            if RULE_FIELDS.iter().any(|field| diff.get(field).is_some()) {
                operations.push(format!("ModifySecurityGroupRules {}: {id} -> {}", group(prior), rule_text(desired)));
            }
            if let Some(change) = diff.get("tags") {
                operations.extend(TagChange::between(&change.from, &change.to).operations("CreateTags", "DeleteTags", id));
            }
            diff::finish(diff.planned, operations)
        }))
    }

    async fn read_back(&self, clients: &Clients, id: &str, state: &Value) -> Result<Value, ProviderError> {
        let live = describe_ids(clients, vec![id.to_owned()]).await?;
        let found = live.first().ok_or_else(|| ProviderError::new(format!("security group rule {id} could not be read back")))?;
        Ok(to_value(found, state, clients.region()))
    }

    async fn create(&self, clients: &Clients, desired: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        let rule = rule_of(desired).ok_or_else(|| ProviderError::new(format!("{}: exactly one of {} must be set", self.name(), SOURCES.join(", "))))?;
        let tags = tags::for_create(desired, authorship);
        let ids = sg_calls::authorize(clients, group(desired), self.direction, &Rules::from([rule]), &tags).await?;
        let id = ids.first().ok_or_else(|| ApplyFailure {
            error: ProviderError::new(format!("{} answered without the new rule's id", self.direction.calls().0)),
            partial: None,
            in_doubt: true,
        })?;
        // From here the rule exists: a failure must still record it in state.
        self.read_back(clients, id, desired).await.map_err(|error| {
            let mut partial = desired.clone();
            partial.set("id", Value::from(id.as_str()));
            partial.set("security_group_rule_id", Value::from(id.as_str()));
            ApplyFailure { error, partial: Some(partial), in_doubt: false }
        })
    }

    async fn update(&self, clients: &Clients, prior: &Value, desired: &Value) -> Result<Value, ProviderError> {
        let id = rule_id(prior).ok_or_else(|| ProviderError::new("the rule's id is not in state"))?;
        let diff = diff::attributes(&self.kind().block, Some(prior), desired, same);
        if RULE_FIELDS.iter().any(|field| diff.get(field).is_some()) {
            sg_calls::modify(clients, group(prior), id, modify_request(desired)).await?;
        }
        if let Some(change) = diff.get("tags") {
            change_tags(clients, id, &TagChange::between(&change.from, &change.to)).await?;
        }
        self.read_back(clients, id, desired).await
    }
}

fn create_line(direction: Direction, desired: &Value) -> String {
    format!("{} {}: {} (tagged)", direction.calls().0, diff::show(desired.get("security_group_id").unwrap_or(&Value::Null)), rule_text(desired))
}

fn delete_line(direction: Direction, prior: &Value) -> String {
    format!("{} {}: {} ({})", direction.calls().1, group(prior), rule_id(prior).unwrap_or_default(), rule_text(prior))
}

/// The ModifySecurityGroupRules request setting rule `desired` (ports -1 for all protocols, as
/// the API describes them).
fn modify_request(desired: &Value) -> SecurityGroupRuleRequest {
    let text = |key: &str| desired.get_str(key).map(str::to_owned);
    let port = |key: &str| desired.get_i64(key).and_then(|n| i32::try_from(n).ok()).or(Some(-1));
    SecurityGroupRuleRequest::builder()
        .set_ip_protocol(text("ip_protocol"))
        .set_from_port(port("from_port"))
        .set_to_port(port("to_port"))
        .set_cidr_ipv4(text("cidr_ipv4"))
        .set_cidr_ipv6(text("cidr_ipv6"))
        .set_prefix_list_id(text("prefix_list_id"))
        .set_referenced_group_id(text("referenced_security_group_id"))
        .set_description(text("description"))
        .build()
}

#[async_trait::async_trait]
impl ResourceType for VpcRuleType {
    fn about(&self) -> &'static About {
        match self.direction {
            Direction::Ingress => &INGRESS_ABOUT,
            Direction::Egress => &EGRESS_ABOUT,
        }
    }

    fn claim_rules(&self, state: &Value, claims: &mut Claims) {
        if let Some(rule) = rule_of(state) {
            claims.claim(group(state), self.direction, rule);
        }
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        let clients = cx.clients()?;
        let live = describe_ids(clients, states.iter().filter_map(|s| rule_id(s)).map(str::to_owned).collect()).await?;
        let answer = |state: &Value| {
            let found = live.iter().find(|rule| Some(rule.id.as_str()) == rule_id(state) && rule.direction == self.direction)?;
            Some(to_value(found, state, clients.region()))
        };
        Ok(states.iter().map(|state| answer(state)).collect())
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        self.plan_change(prior, desired)
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(diff::deletion(delete_line(self.direction, prior)))
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        let clients = cx.clients()?;
        let desired = planned.unknowns_to_null();
        match prior {
            None => self.create(clients, &desired, authorship).await,
            Some(prior) => Ok(self.update(clients, prior, &desired).await?),
        }
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        let id = rule_id(prior).ok_or_else(|| ProviderError::new("the rule's id is not in state"))?;
        Ok(sg_calls::revoke_ids(cx.clients()?, group(prior), self.direction, vec![id.to_owned()]).await?)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        let clients = cx.clients()?;
        let found = if id.starts_with("sgr-") {
            describe_ids(clients, vec![id.to_owned()]).await?.into_iter().find(|rule| rule.direction == self.direction)
        } else {
            find_by_content(clients, self.direction, id).await?
        };
        Ok(found.map(|rule| to_value(&rule, &Value::Null, clients.region())))
    }

    /// The rule's content id: known before the create, unlike its sgr- id.
    fn adoption_id(&self, planned: &Value) -> Option<String> {
        let known = ["security_group_id", "ip_protocol", "from_port", "to_port"].into_iter().chain(SOURCES);
        if !known.into_iter().all(|key| planned.get(key).is_none_or(Value::is_wholly_known)) {
            return None;
        }
        standalone_rules::content_id(group(planned), self.direction, &[rule_of(planned)?])
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        let Some(id) = rule_id(live) else { return Ok(false) };
        let found = describe_ids(cx.clients()?, vec![id.to_owned()]).await?;
        Ok(found.iter().any(|rule| rule.marks.iter().any(|mark| mark == intent_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(source: (&str, &str)) -> Value {
        Value::object([
            ("security_group_id", Value::from("sg-1")),
            ("ip_protocol", Value::from("tcp")),
            ("from_port", Value::int(443)),
            ("to_port", Value::int(443)),
            (source.0, Value::from(source.1)),
        ])
    }

    #[test]
    fn exactly_one_source() {
        assert_eq!(rule_of(&rule(("cidr_ipv6", "::/0"))).map(|r| r.source), Some(Source::Ipv6("::/0".into())));
        assert_eq!(rule_of(&rule(("referenced_security_group_id", "sg-1"))).map(|r| r.source), Some(Source::Itself));
        let mut two = rule(("cidr_ipv4", "10.0.0.0/8"));
        two.set("cidr_ipv6", Value::from("::/0"));
        assert!(check("aws_vpc_security_group_ingress_rule", &two).is_err());
    }

    #[test]
    fn adoption_ids_are_content_ids() {
        assert_eq!(INGRESS.adoption_id(&rule(("cidr_ipv4", "10.0.0.0/8"))).as_deref(), Some("sg-1_ingress_tcp_443_443_10.0.0.0/8"));
        let mut unknown = rule(("cidr_ipv4", "10.0.0.0/8"));
        unknown.set("security_group_id", Value::Unknown);
        assert_eq!(EGRESS.adoption_id(&unknown), None);
    }

    /// moto's ModifySecurityGroupRules ignores a new IPv6 CIDR, prefix list or referenced group:
    /// the request strata sends for them is checked here instead.
    #[test]
    fn modify_requests_carry_every_source() {
        let request = modify_request(&rule(("referenced_security_group_id", "sg-2")));
        assert_eq!(request.referenced_group_id(), Some("sg-2"));
        assert_eq!((request.from_port(), request.to_port()), (Some(443), Some(443)));
        let mut all = rule(("cidr_ipv6", "::/0"));
        all.set("ip_protocol", Value::from("-1"));
        all.set("from_port", Value::Null);
        all.set("to_port", Value::Null);
        let request = modify_request(&all);
        assert_eq!((request.cidr_ipv6(), request.from_port(), request.to_port()), (Some("::/0"), Some(-1), Some(-1)));
    }

    #[test]
    fn a_new_port_changes_in_place_and_a_new_group_replaces() {
        let mut prior = rule(("cidr_ipv4", "10.0.0.0/8"));
        prior.set("security_group_rule_id", Value::from("sgr-1"));
        prior.set("id", Value::from("sgr-1"));
        let mut desired = prior.clone();
        desired.set("to_port", Value::int(444));
        let change = INGRESS.plan_change(Some(&prior), &desired).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(change.operations, vec!["ModifySecurityGroupRules sg-1: sgr-1 -> tcp 443-444 10.0.0.0/8".to_owned()]);
        desired.set("security_group_id", Value::from("sg-2"));
        let change = INGRESS.plan_change(Some(&prior), &desired).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(change.action, strata_provider_sdk::Action::Replace);
    }
}
