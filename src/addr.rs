//! Resource addresses: `TYPE.NAME` for managed resources, `data.TYPE.NAME` for data sources.
//!
//! Owns parsing and printing them; nothing else.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
}

impl Address {
    pub fn managed(type_name: &str, name: &str) -> Address {
        Address { mode: Mode::Managed, type_name: type_name.to_owned(), name: name.to_owned() }
    }

    pub fn data(type_name: &str, name: &str) -> Address {
        Address { mode: Mode::Data, type_name: type_name.to_owned(), name: name.to_owned() }
    }

    /// The provider a resource type belongs to: the type's prefix up to the first underscore.
    pub fn provider(&self) -> &str {
        provider_of(&self.type_name)
    }
}

/// `postgres_table` belongs to `postgres`.
/// The provider's registry address as Terraform writes it in machine-readable plans and states
/// (`provider_name`), so policy checks written for Terraform match: the `aws` resources are
/// hashicorp/aws's types; strata's own providers live under `strata/`.
pub fn registry_address(provider: &str) -> String {
    match provider {
        "aws" => "registry.terraform.io/hashicorp/aws".to_owned(),
        other => format!("registry.terraform.io/strata/{other}"),
    }
}

pub fn provider_of(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Mode::Managed => write!(f, "{}.{}", self.type_name, self.name),
            Mode::Data => write!(f, "data.{}.{}", self.type_name, self.name),
        }
    }
}

impl FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Address, String> {
        let parts: Vec<&str> = s.split('.').collect();
        let valid = |part: &&str| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        match parts.as_slice() {
            ["data", type_name, name] if [type_name, name].iter().all(|p| valid(p)) => {
                Ok(Address::data(type_name, name))
            }
            [type_name, name] if [type_name, name].iter().all(|p| valid(p)) => Ok(Address::managed(type_name, name)),
            _ => Err(format!("\"{s}\" is not a resource address: expected TYPE.NAME or data.TYPE.NAME")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in ["postgres_table.users", "data.aws_vpc.default"] {
            assert_eq!(text.parse::<Address>().map(|a| a.to_string()), Ok(text.to_owned()));
        }
        assert!("users".parse::<Address>().is_err());
    }
}
