//! Terraform's version constraints (`version = "~> 1.2, != 1.2.5"`), parsed and matched the way
//! Terraform's module installer matches registry module versions
//! (https://developer.hashicorp.com/terraform/language/expressions/version-constraints).
//!
//! Versions are `semver` versions; the constraint semantics are Terraform's (hashicorp/go-version),
//! which differ from Cargo's:
//! - a bare version means `=` (Cargo's means `^`);
//! - `~> 1.2` allows 1.2 and any later 1.x, `~> 1.2.3` allows 1.2.3 and any later 1.2.x: only the
//!   right-most *written* component may grow. `~> 1` written with one component is go-version's
//!   `>= 1.0.0`;
//! - versions may be written with one to three components (`1`, `1.2`) and a leading `v`;
//! - comma-separated constraints must all hold;
//! - a prerelease version (`1.2.0-beta`) is selected only when the constraint is exactly that
//!   version (`= 1.2.0-beta` or `1.2.0-beta` alone): `>= 1.2.0-beta` or `~> 1.2.0-beta, < 2` never
//!   select a prerelease, though `>= 1.2.0-beta` matches 1.2.0.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    Pessimistic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Constraint {
    operator: Operator,
    version: Version,
    /// How many of major.minor.patch were written (`~>` keys on it).
    written: usize,
}

/// A comma-separated list of constraints, all of which must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraints {
    text: String,
    parts: Vec<Constraint>,
}

impl FromStr for Constraints {
    type Err = String;

    fn from_str(text: &str) -> Result<Constraints, String> {
        let mut parts = Vec::new();
        for piece in text.split(',') {
            parts.push(constraint(piece).map_err(|why| format!("invalid version constraint \"{}\" in \"{text}\": {why}", piece.trim()))?);
        }
        Ok(Constraints { text: text.to_owned(), parts })
    }
}

impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Constraints {
    /// Whether `version` meets every constraint, with Terraform's prerelease rule.
    pub fn matches(&self, version: &Version) -> bool {
        if !version.pre.is_empty() && !self.requests_exactly(version) {
            return false;
        }
        self.parts.iter().all(|c| c.check(version))
    }

    /// The newest of `versions` that matches.
    pub fn newest<'a>(&self, versions: impl IntoIterator<Item = &'a Version>) -> Option<&'a Version> {
        versions.into_iter().filter(|v| self.matches(v)).max_by(|a, b| a.cmp_precedence(b))
    }

    /// A prerelease is selected only by one exact constraint naming it.
    fn requests_exactly(&self, version: &Version) -> bool {
        matches!(self.parts.as_slice(), [only] if only.operator == Operator::Equal && only.version.cmp_precedence(version) == Ordering::Equal)
    }
}

impl Constraint {
    /// go-version's `Constraint.Check`.
    fn check(&self, v: &Version) -> bool {
        let c = &self.version;
        let order = v.cmp_precedence(c);
        match self.operator {
            Operator::Equal => order == Ordering::Equal,
            Operator::NotEqual => order != Ordering::Equal,
            Operator::Greater => prerelease_check(v, c) && order == Ordering::Greater,
            Operator::GreaterEqual => prerelease_check(v, c) && order != Ordering::Less,
            Operator::Less => prerelease_check(v, c) && order == Ordering::Less,
            Operator::LessEqual => prerelease_check(v, c) && order != Ordering::Greater,
            Operator::Pessimistic => {
                if !prerelease_check(v, c) || (!c.pre.is_empty() && v.pre.is_empty()) || order == Ordering::Less {
                    return false;
                }
                let (vs, cs) = ([v.major, v.minor, v.patch], [c.major, c.minor, c.patch]);
                // Every written component but the last must be equal; the last may only grow.
                cs[..self.written - 1] == vs[..self.written - 1] && cs[self.written - 1] <= vs[self.written - 1]
            }
        }
    }
}

/// go-version's rule: a prerelease constraint matches only prereleases of the same
/// major.minor.patch; a release constraint matches no prerelease.
fn prerelease_check(v: &Version, c: &Version) -> bool {
    match (v.pre.is_empty(), c.pre.is_empty()) {
        (false, false) => (v.major, v.minor, v.patch) == (c.major, c.minor, c.patch),
        (false, true) => false,
        _ => true,
    }
}

fn constraint(piece: &str) -> Result<Constraint, String> {
    let piece = piece.trim();
    if piece.is_empty() {
        return Err("a constraint is empty (write for example \">= 1.2.0\" or \"~> 1.2\")".to_owned());
    }
    let operators = [("~>", Operator::Pessimistic), (">=", Operator::GreaterEqual), ("<=", Operator::LessEqual), ("!=", Operator::NotEqual), (">", Operator::Greater), ("<", Operator::Less), ("=", Operator::Equal)];
    let (operator, rest) = operators.iter().find_map(|(text, op)| piece.strip_prefix(text).map(|rest| (*op, rest))).unwrap_or((Operator::Equal, piece));
    let (version, written) = parse_partial(rest.trim()).map_err(|why| format!("{why}; the operators are =, !=, >, >=, <, <= and ~>"))?;
    Ok(Constraint { operator, version, written })
}

/// A version as Terraform reads one: an optional `v`, one to three numeric components (the rest
/// are 0), an optional `-prerelease` and `+metadata`.
pub fn parse_version(text: &str) -> Result<Version, String> {
    parse_partial(text.trim()).map(|(version, _)| version)
}

fn parse_partial(text: &str) -> Result<(Version, usize), String> {
    let bad = || format!("\"{text}\" is not a version (MAJOR[.MINOR[.PATCH]][-PRERELEASE])");
    let body = text.strip_prefix('v').unwrap_or(text);
    let (body, build) = body.split_once('+').map_or((body, None), |(b, m)| (b, Some(m)));
    let (numbers, pre) = body.split_once('-').map_or((body, None), |(n, p)| (n, Some(p)));
    let components: Vec<&str> = numbers.split('.').collect();
    if components.is_empty() || components.len() > 3 || components.iter().any(|c| c.is_empty() || !c.chars().all(|ch| ch.is_ascii_digit())) {
        return Err(bad());
    }
    let mut numbers = [0u64; 3];
    for (slot, component) in numbers.iter_mut().zip(&components) {
        *slot = component.parse().map_err(|_| bad())?;
    }
    let mut version = Version::new(numbers[0], numbers[1], numbers[2]);
    if let Some(pre) = pre {
        version.pre = Prerelease::new(pre).map_err(|_| bad())?;
        if version.pre.is_empty() {
            return Err(bad());
        }
    }
    if let Some(build) = build {
        version.build = BuildMetadata::new(build).map_err(|_| bad())?;
    }
    Ok((version, components.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(constraint: &str, version: &str) -> bool {
        constraint.parse::<Constraints>().unwrap_or_else(|e| panic!("{e}")).matches(&parse_version(version).unwrap())
    }

    /// Terraform's documented examples, then go-version's own cases.
    #[test]
    fn terraform_semantics() {
        let table = [
            // "~> 1.0.4: Allows Terraform to install 1.0.5 and 1.0.10 but not 1.1.0."
            ("~> 1.0.4", "1.0.5", true),
            ("~> 1.0.4", "1.0.10", true),
            ("~> 1.0.4", "1.0.4", true),
            ("~> 1.0.4", "1.1.0", false),
            ("~> 1.0.4", "1.0.3", false),
            // "~> 1.1: Allows 1.2 and 1.10 but not 2.0."
            ("~> 1.1", "1.2.0", true),
            ("~> 1.1", "1.10.0", true),
            ("~> 1.1", "1.1.7", true),
            ("~> 1.1", "2.0.0", false),
            ("~> 1.1", "1.0.9", false),
            ("~> 1.2.0", "1.2.9", true),
            ("~> 1.2.0", "1.3.0", false),
            // One written component: go-version's >= 1.0.0.
            ("~> 1", "1.9.0", true),
            ("~> 1", "0.9.0", false),
            // ">= 1.2.0, < 2.0.0"
            (">= 1.2.0, < 2.0.0", "1.2.0", true),
            (">= 1.2.0, < 2.0.0", "1.99.3", true),
            (">= 1.2.0, < 2.0.0", "2.0.0", false),
            (">= 1.2.0, < 2.0.0", "1.1.9", false),
            // A bare version is exact (Cargo's would be ^).
            ("1.2.0", "1.2.0", true),
            ("1.2.0", "1.2.1", false),
            ("= 1.2.0", "1.2.0", true),
            ("=1.2", "1.2.0", true),
            ("!= 1.2.5", "1.2.4", true),
            ("!= 1.2.5", "1.2.5", false),
            ("> 1.2", "1.2.1", true),
            ("> 1.2", "1.2.0", false),
            ("< 1.2", "1.1.99", true),
            ("<= 1.2.0", "1.2.0", true),
            ("<= 1.2.0", "1.2.1", false),
            (">= 1.0, != 1.3.0, < 2", "1.3.0", false),
            (">= 1.0, != 1.3.0, < 2", "1.3.1", true),
            ("v1.2.0", "1.2.0", true),
            (">= v1.0", "1.5.0", true),
            ("  >=  1.0  ,<2.0  ", "1.5.0", true),
            // Build metadata does not count.
            ("= 1.2.0", "1.2.0+build.7", true),
            // Prereleases are selected only when asked for exactly.
            ("1.2.0-beta", "1.2.0-beta", true),
            ("= 1.2.0-beta", "1.2.0-beta", true),
            (">= 1.2.0-beta", "1.2.0-rc.1", false),
            (">= 1.0", "1.2.0-beta", false),
            ("~> 1.2.0-beta", "1.2.0-beta", false),
            ("<= 0.0.3-alpha.1", "0.0.3-alpha.1", false),
            ("<= 0.0.3-alpha.1", "0.0.2", true),
            ("0.0.3-alpha.1, >= 0.0.2", "0.0.3-alpha.1", false),
            ("0.0.3-alpha.1, >= 0.0.2", "0.0.2", false),
            ("v0.0.3-alpha.1", "0.0.3-alpha.1", true),
            // A prerelease constraint still matches the release it precedes...
            (">= 1.2.0-beta", "1.2.0", true),
            // ...except with ~>.
            ("~> 1.2.0-beta", "1.2.0", false),
        ];
        for (constraint, version, expected) in table {
            assert_eq!(matches(constraint, version), expected, "{version} against \"{constraint}\"");
        }
    }

    #[test]
    fn newest_match() {
        let versions: Vec<Version> = ["1.0.0", "1.1.0", "1.10.0", "2.0.0", "2.1.0-rc.1"].iter().map(|v| parse_version(v).unwrap()).collect();
        let newest = |c: &str| c.parse::<Constraints>().unwrap().newest(&versions).map(Version::to_string);
        assert_eq!(newest("~> 1.0").as_deref(), Some("1.10.0"));
        assert_eq!(newest(">= 1.0").as_deref(), Some("2.0.0"));
        assert_eq!(newest("2.1.0-rc.1").as_deref(), Some("2.1.0-rc.1"));
        assert_eq!(newest("> 2.0.0"), None);
    }

    #[test]
    fn errors_name_the_bad_constraint() {
        for (text, needle) in [
            (">= 1.0, ~> banana", "\"~> banana\""),
            ("", "is empty"),
            (">= 1.0,", "is empty"),
            ("^1.2", "\"^1.2\""),
            ("1.2.3.4", "\"1.2.3.4\""),
            ("=> 1.0", "\"=> 1.0\""),
            ("1.2.0-", "\"1.2.0-\""),
        ] {
            let err = text.parse::<Constraints>().unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn versions_parse_leniently() {
        assert_eq!(parse_version("v1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(parse_version("3").unwrap(), Version::new(3, 0, 0));
        assert!(parse_version("1.x").is_err());
    }
}
