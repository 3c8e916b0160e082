//! Security group rules in one canonical form, so configuration and AWS compare as sets: a block
//! with several CIDRs is several [`Rule`]s, protocol "all" is "-1" with ports 0, "6" is "tcp", and
//! the group itself is [`Source::Itself`] whether written `self = true` or by its id.
//!
//! Owns converting between `ingress`/`egress` blocks, canonical rules and the SDK's
//! `IpPermission`; and giving live rules back in the configuration's shape so that nothing
//! unchanged shows as a diff. It makes no API calls.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
use strata_provider_sdk::Value;

/// The two rule lists of a group, and the API calls that change each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    /// The block (and Terraform's `type`) naming it.
    pub fn key(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The API's authorize and revoke calls for it.
    pub fn calls(self) -> (&'static str, &'static str) {
        match self {
            Direction::Ingress => (
                "AuthorizeSecurityGroupIngress",
                "RevokeSecurityGroupIngress",
            ),
            Direction::Egress => ("AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress"),
        }
    }
}

/// Where traffic comes from (ingress) or goes to (egress).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Cidr(String),
    Ipv6(String),
    Group(String),
    PrefixList(String),
    Itself,
}

/// One permission as AWS stores it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    pub protocol: String,
    pub from: i64,
    pub to: i64,
    pub source: Source,
    /// Empty when there is none.
    pub description: String,
}

pub type Rules = BTreeSet<Rule>;

/// AWS's spelling of a protocol: names for the common numbers, "-1" for all.
pub fn protocol(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "icmpv6".to_owned(),
        other => other.to_owned(),
    }
}

/// The ports of a rule: AWS ignores (and does not report) them for protocol "-1".
pub fn ports(protocol: &str, from: Option<i64>, to: Option<i64>) -> (i64, i64) {
    if protocol == "-1" {
        (0, 0)
    } else {
        (from.unwrap_or(0), to.unwrap_or(0))
    }
}

/// The canonical rules of one block; `own_id` turns the group's own id into [`Source::Itself`].
pub fn explode(block: &Value, own_id: Option<&str>) -> Vec<Rule> {
    let protocol = protocol(block.get_str("protocol").unwrap_or("-1"));
    let (from, to) = ports(
        &protocol,
        block.get_i64("from_port"),
        block.get_i64("to_port"),
    );
    let description = block.get_str("description").unwrap_or_default().to_owned();
    let mut sources: Vec<Source> = block
        .get_strings("cidr_blocks")
        .into_iter()
        .map(Source::Cidr)
        .collect();
    sources.extend(
        block
            .get_strings("ipv6_cidr_blocks")
            .into_iter()
            .map(Source::Ipv6),
    );
    sources.extend(block.get_strings("prefix_list_ids").into_iter().map(Source::PrefixList));
    sources.extend(block.get_strings("security_groups").into_iter().map(|g| {
        if Some(g.as_str()) == own_id {
            Source::Itself
        } else {
            Source::Group(g)
        }
    }));
    if block.get_bool("self") == Some(true) {
        sources.push(Source::Itself);
    }
    sources
        .into_iter()
        .map(|source| Rule {
            protocol: protocol.clone(),
            from,
            to,
            source,
            description: description.clone(),
        })
        .collect()
}

pub fn explode_all(blocks: &[Value], own_id: Option<&str>) -> Rules {
    blocks.iter().flat_map(|b| explode(b, own_id)).collect()
}

/// The rules of AWS's answer.
pub fn from_sdk(permissions: &[IpPermission], own_id: &str) -> Rules {
    let mut rules = Rules::new();
    for permission in permissions {
        let protocol = protocol(permission.ip_protocol().unwrap_or("-1"));
        let (from, to) = ports(
            &protocol,
            permission.from_port().map(i64::from),
            permission.to_port().map(i64::from),
        );
        let rule = |source, description: Option<&str>| Rule {
            protocol: protocol.clone(),
            from,
            to,
            source,
            description: description.unwrap_or_default().to_owned(),
        };
        rules.extend(
            permission
                .ip_ranges()
                .iter()
                .filter_map(|r| Some(rule(Source::Cidr(r.cidr_ip()?.to_owned()), r.description()))),
        );
        rules.extend(permission.ipv6_ranges().iter().filter_map(|r| {
            Some(rule(
                Source::Ipv6(r.cidr_ipv6()?.to_owned()),
                r.description(),
            ))
        }));
        rules.extend(permission.prefix_list_ids().iter().filter_map(|p| {
            Some(rule(Source::PrefixList(p.prefix_list_id()?.to_owned()), p.description()))
        }));
        rules.extend(permission.user_id_group_pairs().iter().filter_map(|p| {
            let id = p.group_id()?;
            Some(rule(
                if id == own_id {
                    Source::Itself
                } else {
                    Source::Group(id.to_owned())
                },
                p.description(),
            ))
        }));
    }
    rules
}

/// The permissions to send for `rules`, one per protocol and port range.
pub fn to_sdk(rules: &Rules, own_id: &str) -> Vec<IpPermission> {
    let mut grouped: BTreeMap<(&str, i64, i64), Vec<&Rule>> = BTreeMap::new();
    for rule in rules {
        grouped
            .entry((rule.protocol.as_str(), rule.from, rule.to))
            .or_default()
            .push(rule);
    }
    grouped
        .into_iter()
        .map(|((protocol, from, to), rules)| {
            let mut permission = IpPermission::builder().ip_protocol(protocol);
            if protocol != "-1" {
                permission = permission
                    .from_port(i32::try_from(from).unwrap_or(-1))
                    .to_port(i32::try_from(to).unwrap_or(-1));
            }
            for rule in rules {
                let description = Some(rule.description.clone()).filter(|d| !d.is_empty());
                permission = match &rule.source {
                    Source::Cidr(cidr) => permission.ip_ranges(
                        IpRange::builder()
                            .cidr_ip(cidr)
                            .set_description(description)
                            .build(),
                    ),
                    Source::Ipv6(cidr) => permission.ipv6_ranges(
                        Ipv6Range::builder()
                            .cidr_ipv6(cidr)
                            .set_description(description)
                            .build(),
                    ),
                    Source::PrefixList(id) => permission.prefix_list_ids(
                        PrefixListId::builder()
                            .prefix_list_id(id)
                            .set_description(description)
                            .build(),
                    ),
                    Source::Group(id) => permission.user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id(id)
                            .set_description(description)
                            .build(),
                    ),
                    Source::Itself => permission.user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id(own_id)
                            .set_description(description)
                            .build(),
                    ),
                };
            }
            permission.build()
        })
        .collect()
}

/// A block holding exactly `rules`, which share protocol, ports and description.
fn implode(rules: &[&Rule]) -> Value {
    let Some(first) = rules.first() else {
        return Value::Null;
    };
    let pick = |f: fn(&Source) -> Option<&String>| {
        Value::List(
            rules
                .iter()
                .filter_map(|r| f(&r.source))
                .map(|s| Value::from(s.as_str()))
                .collect(),
        )
    };
    Value::object([
        ("protocol", Value::from(first.protocol.as_str())),
        ("from_port", Value::int(first.from)),
        ("to_port", Value::int(first.to)),
        (
            "cidr_blocks",
            pick(|s| {
                if let Source::Cidr(c) = s {
                    Some(c)
                } else {
                    None
                }
            }),
        ),
        (
            "ipv6_cidr_blocks",
            pick(|s| {
                if let Source::Ipv6(c) = s {
                    Some(c)
                } else {
                    None
                }
            }),
        ),
        (
            "security_groups",
            pick(|s| {
                if let Source::Group(g) = s {
                    Some(g)
                } else {
                    None
                }
            }),
        ),
        (
            "prefix_list_ids",
            pick(|s| {
                if let Source::PrefixList(p) = s {
                    Some(p)
                } else {
                    None
                }
            }),
        ),
        (
            "self",
            Value::Bool(rules.iter().any(|r| r.source == Source::Itself)),
        ),
        (
            "description",
            Some(first.description.as_str())
                .filter(|d| !d.is_empty())
                .map(Value::from)
                .unwrap_or_default(),
        ),
    ])
}

/// `block` cut down to the sources in `present`, keeping its own spelling of everything else.
fn restrict(block: &Value, present: &[Rule]) -> Value {
    let keep = |key: &str, source: fn(String) -> Source| {
        Value::List(
            block
                .get_strings(key)
                .into_iter()
                .filter(|s| present.iter().any(|r| r.source == source(s.clone())))
                .map(Value::from)
                .collect(),
        )
    };
    let mut value = block.clone();
    value.set("cidr_blocks", keep("cidr_blocks", Source::Cidr));
    value.set("ipv6_cidr_blocks", keep("ipv6_cidr_blocks", Source::Ipv6));
    let groups = block
        .get_strings("security_groups")
        .into_iter()
        .filter(|g| present.iter().any(|r| r.source == Source::Group(g.clone())))
        .map(Value::from)
        .collect();
    value.set("security_groups", Value::List(groups));
    value.set("prefix_list_ids", keep("prefix_list_ids", Source::PrefixList));
    if block.get_bool("self") == Some(true) {
        value.set(
            "self",
            Value::Bool(present.iter().any(|r| r.source == Source::Itself)),
        );
    }
    value
}

/// The live rules as blocks in the shape of `blocks` (what state or configuration says): each
/// block whose rules are all live comes back as it is, one partly live comes back cut down, and
/// live rules no block names come last, one block per protocol, ports and description.
pub fn shape(live: &Rules, blocks: &[Value], own_id: Option<&str>) -> Vec<Value> {
    let mut remaining = live.clone();
    let mut shaped = Vec::new();
    for block in blocks {
        let rules = explode(block, own_id);
        let present: Vec<Rule> = rules
            .iter()
            .filter(|r| remaining.contains(*r))
            .cloned()
            .collect();
        if present.is_empty() {
            continue;
        }
        for rule in &present {
            remaining.remove(rule);
        }
        shaped.push(if present.len() == rules.len() {
            block.clone()
        } else {
            restrict(block, &present)
        });
    }
    let mut grouped: BTreeMap<(&str, i64, i64, &str), Vec<&Rule>> = BTreeMap::new();
    for rule in &remaining {
        grouped
            .entry((
                rule.protocol.as_str(),
                rule.from,
                rule.to,
                rule.description.as_str(),
            ))
            .or_default()
            .push(rule);
    }
    shaped.extend(grouped.values().map(|rules| implode(rules)));
    shaped
}

/// A rule as a plan line shows it, e.g. `tcp 5432 10.0.0.0/8`, `all traffic 0.0.0.0/0`.
pub fn describe(rule: &Rule) -> String {
    let ports = match (rule.protocol.as_str(), rule.from, rule.to) {
        ("-1", _, _) => "all traffic".to_owned(),
        (p, from, to) if from == to => format!("{p} {from}"),
        (p, from, to) => format!("{p} {from}-{to}"),
    };
    let source = match &rule.source {
        Source::Cidr(c) | Source::Ipv6(c) | Source::Group(c) | Source::PrefixList(c) => c.clone(),
        Source::Itself => "self".to_owned(),
    };
    format!("{ports} {source}")
}

/// AWS's rule on every new group: all traffic out to anywhere (IPv4).
pub fn default_egress() -> Rules {
    Rules::from([Rule {
        protocol: "-1".to_owned(),
        from: 0,
        to: 0,
        source: Source::Cidr("0.0.0.0/0".to_owned()),
        description: String::new(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
        Value::object([
            ("protocol", Value::from(protocol)),
            ("from_port", Value::int(from)),
            ("to_port", Value::int(to)),
            (
                "cidr_blocks",
                Value::List(cidrs.iter().map(|c| Value::from(*c)).collect()),
            ),
            ("ipv6_cidr_blocks", Value::Null),
            ("security_groups", Value::Null),
            ("prefix_list_ids", Value::Null),
            ("self", Value::Null),
            ("description", Value::Null),
        ])
    }

    #[test]
    fn spellings_of_one_rule_are_equal() {
        let a = explode_all(&[block("all", -1, -1, &["0.0.0.0/0"])], None);
        let b = explode_all(&[block("-1", 0, 0, &["0.0.0.0/0"])], None);
        assert_eq!(a, b);
        assert_eq!(a, default_egress());
        let split = explode_all(
            &[
                block("tcp", 5432, 5432, &["10.0.0.0/8"]),
                block("6", 5432, 5432, &["192.168.0.0/16"]),
            ],
            None,
        );
        let joined = explode_all(
            &[block("tcp", 5432, 5432, &["10.0.0.0/8", "192.168.0.0/16"])],
            None,
        );
        assert_eq!(split, joined);
    }

    #[test]
    fn shape_keeps_the_configured_form() {
        let blocks = vec![
            block("all", 0, 0, &["0.0.0.0/0"]),
            block("tcp", 5432, 5432, &["10.0.0.0/8", "192.168.0.0/16"]),
        ];
        let live = explode_all(&blocks, None);
        assert_eq!(shape(&live, &blocks, None), blocks);
        let mut fewer = live.clone();
        fewer.retain(|r| r.source != Source::Cidr("192.168.0.0/16".into()));
        let shaped = shape(&fewer, &blocks, None);
        assert_eq!(
            shaped[1].get_strings("cidr_blocks"),
            vec!["10.0.0.0/8".to_owned()]
        );
    }

    #[test]
    fn permissions_round_trip() {
        let rules = explode_all(
            &[
                block("tcp", 22, 22, &["10.0.0.0/8", "10.1.0.0/16"]),
                block("-1", 0, 0, &["0.0.0.0/0"]),
            ],
            None,
        );
        assert_eq!(from_sdk(&to_sdk(&rules, "sg-1"), "sg-1"), rules);
    }
}
