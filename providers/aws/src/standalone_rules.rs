//! What the standalone security group rule types (`aws_security_group_rule`,
//! `aws_vpc_security_group_ingress_rule` / `_egress_rule`) share:
//!
//! - [`LiveRule`]: one rule as DescribeSecurityGroupRules gives it, in `sg_rules`' canonical form.
//! - content ids, `SGID_TYPE_PROTOCOL_FROM_TO_SOURCE[_SOURCE...]` (Terraform's import id of
//!   `aws_security_group_rule`, e.g. `sg-1_ingress_tcp_5432_5432_10.0.0.0/16_self`): rules are
//!   unique in a group by what they allow, so this names the rules a create will make before
//!   they exist, for adoption after an interrupted apply.
//! - [`Claims`]: the rules standalone resources in state manage, which their group's
//!   `aws_security_group` then leaves alone (Terraform's docs say not to mix inline and
//!   standalone rules on one group; strata keeps the group from revoking what a rule resource
//!   manages, whether or not the group has inline blocks).
//!
//! Owns no API calls (those are `sg_calls`).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::SecurityGroupRule;

use crate::sg_rules::{self, Direction, Rule, Source};
use crate::tags;

/// One rule as AWS describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveRule {
    pub id: String,
    pub group_id: String,
    pub direction: Direction,
    pub rule: Rule,
    /// Tags as configured (the authorship tag hidden).
    pub tags: tags::Tags,
    /// The intent ids its authorship tags name.
    pub marks: Vec<String>,
    pub arn: Option<String>,
    pub owner: Option<String>,
}

impl LiveRule {
    /// The rule of AWS's answer; `None` for one without an id, group or source.
    pub fn from_sdk(rule: &SecurityGroupRule) -> Option<LiveRule> {
        let group_id = rule.group_id()?.to_owned();
        let protocol = sg_rules::protocol(rule.ip_protocol().unwrap_or("-1"));
        let source = if let Some(cidr) = rule.cidr_ipv4() {
            Source::Cidr(cidr.to_owned())
        } else if let Some(cidr) = rule.cidr_ipv6() {
            Source::Ipv6(cidr.to_owned())
        } else if let Some(list) = rule.prefix_list_id() {
            Source::PrefixList(list.to_owned())
        } else {
            let referenced = rule.referenced_group_info()?.group_id()?;
            if referenced == group_id { Source::Itself } else { Source::Group(referenced.to_owned()) }
        };
        let (from, to) = sg_rules::ports(&protocol, rule.from_port().map(i64::from), rule.to_port().map(i64::from));
        let marks = rule.tags().iter().filter(|t| t.key() == Some(strata_provider_sdk::INTENT_TAG)).filter_map(|t| t.value().map(str::to_owned)).collect();
        Some(LiveRule {
            id: rule.security_group_rule_id()?.to_owned(),
            direction: if rule.is_egress() == Some(true) { Direction::Egress } else { Direction::Ingress },
            rule: Rule { protocol, from, to, source, description: rule.description().unwrap_or_default().to_owned() },
            tags: tags::from_ec2(rule.tags()),
            marks,
            arn: rule.security_group_rule_arn().map(str::to_owned),
            owner: rule.group_owner_id().map(str::to_owned),
            group_id,
        })
    }

    /// Whether it allows what `rule` allows (descriptions aside).
    pub fn allows(&self, direction: Direction, rule: &Rule) -> bool {
        self.direction == direction && same_permission(&self.rule, rule)
    }
}

/// Two rules allow the same traffic: protocol, ports and source alike, whatever their descriptions.
pub fn same_permission(a: &Rule, b: &Rule) -> bool {
    (&a.protocol, a.from, a.to, &a.source) == (&b.protocol, b.from, b.to, &b.source)
}

/// The content id of the rules `rules` of group `group`.
pub fn content_id(group: &str, direction: Direction, rules: &[Rule]) -> Option<String> {
    let first = rules.first()?;
    let protocol = if first.protocol == "-1" { "all" } else { first.protocol.as_str() };
    let mut parts = vec![group.to_owned(), direction.key().to_owned(), protocol.to_owned(), first.from.to_string(), first.to.to_string()];
    parts.extend(rules.iter().map(|rule| match &rule.source {
        Source::Cidr(text) | Source::Ipv6(text) | Source::Group(text) | Source::PrefixList(text) => text.clone(),
        Source::Itself => "self".to_owned(),
    }));
    Some(parts.join("_"))
}

/// The group, direction and rules a content id names (descriptions empty); `None` when `id` is
/// not one.
pub fn parse_content_id(id: &str) -> Option<(String, Direction, Vec<Rule>)> {
    let parts: Vec<&str> = id.split('_').collect();
    let [group, direction, protocol, from, to, sources @ ..] = parts.as_slice() else { return None };
    if !group.starts_with("sg-") || sources.is_empty() {
        return None;
    }
    let direction = match *direction {
        "ingress" => Direction::Ingress,
        "egress" => Direction::Egress,
        _ => return None,
    };
    let protocol = sg_rules::protocol(protocol);
    let (from, to) = sg_rules::ports(&protocol, Some(from.parse().ok()?), Some(to.parse().ok()?));
    let rules = sources
        .iter()
        .map(|source| Rule { protocol: protocol.clone(), from, to, source: source_of(source, group), description: String::new() })
        .collect();
    Some(((*group).to_owned(), direction, rules))
}

/// A source as a content id writes it.
fn source_of(text: &str, group: &str) -> Source {
    match text {
        "self" => Source::Itself,
        _ if text == group => Source::Itself,
        _ if text.starts_with("sg-") => Source::Group(text.to_owned()),
        _ if text.starts_with("pl-") => Source::PrefixList(text.to_owned()),
        _ if text.contains(':') => Source::Ipv6(text.to_owned()),
        _ => Source::Cidr(text.to_owned()),
    }
}

/// The rules standalone rule resources in state manage, by group and direction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(BTreeMap<(String, Direction), BTreeSet<Rule>>);

impl Claims {
    pub fn claim(&mut self, group: &str, direction: Direction, rule: Rule) {
        let unlabelled = Rule { description: String::new(), ..rule };
        self.0.entry((group.to_owned(), direction)).or_default().insert(unlabelled);
    }

    /// Whether a standalone resource manages `rule` of `group`.
    pub fn covers(&self, group: &str, direction: Direction, rule: &Rule) -> bool {
        self.0.get(&(group.to_owned(), direction)).is_some_and(|claimed| claimed.iter().any(|c| same_permission(c, rule)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i64, source: Source) -> Rule {
        Rule { protocol: protocol.into(), from, to: from, source, description: String::new() }
    }

    #[test]
    fn content_ids_round_trip() {
        let rules = vec![rule("tcp", 5432, Source::Cidr("10.0.0.0/16".into())), rule("tcp", 5432, Source::Itself), rule("tcp", 5432, Source::Ipv6("2001:db8::/48".into()))];
        let id = content_id("sg-1", Direction::Ingress, &rules).unwrap_or_default();
        assert_eq!(id, "sg-1_ingress_tcp_5432_5432_10.0.0.0/16_self_2001:db8::/48");
        assert_eq!(parse_content_id(&id), Some(("sg-1".to_owned(), Direction::Ingress, rules)));
    }

    #[test]
    fn terraforms_import_ids_parse() {
        let (group, direction, rules) = parse_content_id("sg-62726f6479_egress_all_0_65536_sg-6176657279").unwrap_or_else(|| panic!("not parsed"));
        assert_eq!((group.as_str(), direction), ("sg-62726f6479", Direction::Egress));
        assert_eq!(rules, vec![rule("-1", 0, Source::Group("sg-6176657279".into()))]);
        assert_eq!(parse_content_id("sgr-0123"), None);
        assert_eq!(parse_content_id("sg-1_sideways_tcp_1_1_10.0.0.0/8"), None);
    }

    #[test]
    fn claims_ignore_descriptions() {
        let mut claims = Claims::default();
        claims.claim("sg-1", Direction::Ingress, Rule { description: "db".into(), ..rule("tcp", 5432, Source::Itself) });
        assert!(claims.covers("sg-1", Direction::Ingress, &rule("tcp", 5432, Source::Itself)));
        assert!(!claims.covers("sg-1", Direction::Egress, &rule("tcp", 5432, Source::Itself)));
        assert!(!claims.covers("sg-2", Direction::Ingress, &rule("tcp", 5432, Source::Itself)));
    }
}
