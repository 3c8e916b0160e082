//! Every form of address, one type per role, as OpenTofu's `addrs` has them.
//!
//! - [`ConfigResource`]: a `resource` or `data` block as the configuration declares it
//!   (`aws_db_instance.main`), the key of the configuration and of the dependency graph.
//! - [`ModulePath`]: a module in the configuration, by the names of the calls that lead to it
//!   (`module.db.module.sg`, no keys): where a block is declared.
//! - [`ModuleResource`]: a resource block at a module path, every instance of every instance of
//!   that module: the key of the dependency graph.
//! - [`InstanceKey`]: what `count` (`[0]`) or `for_each` (`["events"]`) gives one instance.
//! - [`ModuleInstance`]: the path of module calls, each with its key, an instance lives under
//!   (`module.db["eu"].module.sg`); empty for the root module.
//! - [`AbsResource`]: all instances of one resource under one module instance.
//! - [`ResourceInstance`]: one object strata manages, the key of state, plans and apply.
//! - [`ProviderConfig`]: one configuration of a provider, `aws` or `aws.west` (an `alias`).
//! - [`Target`] ([`target`]): what `-target`, `-exclude`, `moved` and `removed` name, which may
//!   contain others (a module, every instance of a resource, or one instance).
//!
//! Owns parsing and printing them (Terraform's syntax, keys quoted as Terraform takes them);
//! nothing else.

mod parse;
pub mod target;

use std::fmt;
use std::str::FromStr;

pub use parse::{instance_and_path, target_of};
pub use target::{move_instance, Target};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Managed,
    Data,
}

/// A resource block in the configuration of one module: `TYPE.NAME` or `data.TYPE.NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigResource {
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
}

impl ConfigResource {
    pub fn managed(type_name: &str, name: &str) -> ConfigResource {
        ConfigResource { mode: Mode::Managed, type_name: type_name.to_owned(), name: name.to_owned() }
    }

    pub fn data(type_name: &str, name: &str) -> ConfigResource {
        ConfigResource { mode: Mode::Data, type_name: type_name.to_owned(), name: name.to_owned() }
    }

    /// The provider a resource type belongs to: the type's prefix up to the first underscore.
    pub fn provider(&self) -> &str {
        provider_of(&self.type_name)
    }

    /// All instances of this resource in the root module.
    pub fn in_root(&self) -> AbsResource {
        AbsResource { module: ModuleInstance::root(), resource: self.clone() }
    }

    /// The one instance of this resource when it has neither `count` nor `for_each`, in the root module.
    pub fn single_instance(&self) -> ResourceInstance {
        self.in_root().instance(InstanceKey::None)
    }
}

/// The key `count` or `for_each` gives an instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    /// Neither `count` nor `for_each`.
    None,
    /// `count`: `[0]`.
    Int(i64),
    /// `for_each`: `["events"]`.
    Str(String),
}

impl InstanceKey {
    /// Terraform's `index_key` in state and `index` in plan JSON: absent, a number or a string.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            InstanceKey::None => None,
            InstanceKey::Int(index) => Some(serde_json::Value::from(*index)),
            InstanceKey::Str(key) => Some(serde_json::Value::from(key.as_str())),
        }
    }

    pub fn from_json(value: Option<&serde_json::Value>) -> Result<InstanceKey, String> {
        match value {
            None | Some(serde_json::Value::Null) => Ok(InstanceKey::None),
            Some(serde_json::Value::String(key)) => Ok(InstanceKey::Str(key.clone())),
            Some(number) => number.as_i64().map(InstanceKey::Int).ok_or_else(|| format!("{number} is not an instance key: expected a whole number or a string")),
        }
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(index) => write!(f, "[{index}]"),
            // JSON string escaping is HCL's for every character a key may hold.
            InstanceKey::Str(key) => write!(f, "[{}]", serde_json::Value::from(key.as_str())),
        }
    }
}

/// One module call on the way to an instance: `module.NAME[KEY]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// The module instance a resource instance lives in; empty for the root module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(vec![])
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The module in the configuration this is an instance of.
    pub fn path(&self) -> ModulePath {
        ModulePath(self.0.iter().map(|step| step.name.clone()).collect())
    }

    /// The instance `key` of the call `name` in this module.
    pub fn child(&self, name: &str, key: InstanceKey) -> ModuleInstance {
        let mut steps = self.0.clone();
        steps.push(ModuleStep { name: name.to_owned(), key });
        ModuleInstance(steps)
    }

    /// The first `depth` steps: the instance of the module `depth` calls down from the root.
    pub fn ancestor(&self, depth: usize) -> ModuleInstance {
        ModuleInstance(self.0.iter().take(depth).cloned().collect())
    }
}

/// A module in the configuration: the names of the calls from the root to it, without keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(pub Vec<String>);

impl ModulePath {
    pub fn root() -> ModulePath {
        ModulePath(vec![])
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn child(&self, name: &str) -> ModulePath {
        let mut names = self.0.clone();
        names.push(name.to_owned());
        ModulePath(names)
    }

    /// The module that calls this one; the root has none.
    pub fn parent(&self) -> Option<ModulePath> {
        let (_, parent) = self.0.split_last()?;
        Some(ModulePath(parent.to_vec()))
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.0.iter().map(|name| format!("module.{name}")).collect();
        write!(f, "{}", steps.join("."))
    }
}

/// A resource block in the module at a path: `module.db.aws_db_instance.this`, standing for every
/// instance of it in every instance of that module.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleResource {
    pub module: ModulePath,
    pub resource: ConfigResource,
}

impl ModuleResource {
    pub fn new(module: ModulePath, resource: ConfigResource) -> ModuleResource {
        ModuleResource { module, resource }
    }

    pub fn provider(&self) -> &str {
        self.resource.provider()
    }
}

impl fmt::Display for ModuleResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}", self.resource)
    }
}

impl FromStr for ModuleInstance {
    type Err = String;

    /// `module.a["k"].module.b`; the empty text is the root module.
    fn from_str(text: &str) -> Result<ModuleInstance, String> {
        if text.is_empty() {
            return Ok(ModuleInstance::root());
        }
        match parse::target(text)? {
            Target::Module(module) => Ok(module),
            _ => Err(format!("\"{text}\" is not a module address: expected module.NAME[KEY]...")),
        }
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            let dot = if index == 0 { "" } else { "." };
            write!(f, "{dot}module.{}{}", step.name, step.key)?;
        }
        Ok(())
    }
}

/// Every instance of one resource under one module instance: what state groups its instances by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbsResource {
    pub module: ModuleInstance,
    pub resource: ConfigResource,
}

impl AbsResource {
    /// The resource block this is every instance of.
    pub fn config(&self) -> ModuleResource {
        ModuleResource::new(self.module.path(), self.resource.clone())
    }

    pub fn instance(&self, key: InstanceKey) -> ResourceInstance {
        ResourceInstance { module: self.module.clone(), resource: self.resource.clone(), key }
    }
}

impl fmt::Display for ConfigResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Mode::Managed => write!(f, "{}.{}", self.type_name, self.name),
            Mode::Data => write!(f, "data.{}.{}", self.type_name, self.name),
        }
    }
}

impl FromStr for AbsResource {
    type Err = String;

    fn from_str(text: &str) -> Result<AbsResource, String> {
        match parse::target(text)? {
            Target::Resource(resource) => Ok(resource),
            Target::Instance(instance) if instance.key == InstanceKey::None => Ok(instance.resource()),
            _ => Err(format!("\"{text}\" is not a resource address: expected [module.NAME.]TYPE.NAME without an instance key")),
        }
    }
}

impl fmt::Display for AbsResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}", self.resource)
    }
}

/// One object strata manages: `module.a.aws_db_instance.x[0]`. Ordered so that the instances of
/// one resource sit next to each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceInstance {
    pub module: ModuleInstance,
    pub resource: ConfigResource,
    pub key: InstanceKey,
}

impl ResourceInstance {
    /// The resource this is an instance of.
    pub fn resource(&self) -> AbsResource {
        AbsResource { module: self.module.clone(), resource: self.resource.clone() }
    }

    pub fn mode(&self) -> Mode {
        self.resource.mode
    }

    pub fn type_name(&self) -> &str {
        &self.resource.type_name
    }

    pub fn provider(&self) -> &str {
        self.resource.provider()
    }

    /// The resource block this is an instance of.
    pub fn config(&self) -> ModuleResource {
        ModuleResource::new(self.module.path(), self.resource.clone())
    }

    /// `module.a` or empty: `module_address` in Terraform's plan JSON.
    pub fn module_address(&self) -> Option<String> {
        (!self.module.is_root()).then(|| self.module.to_string())
    }
}

impl fmt::Display for ResourceInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource(), self.key)
    }
}

impl FromStr for ResourceInstance {
    type Err = String;

    fn from_str(text: &str) -> Result<ResourceInstance, String> {
        match parse::target(text)? {
            Target::Instance(instance) => Ok(instance),
            Target::Resource(resource) => Ok(resource.instance(InstanceKey::None)),
            Target::Module(_) => Err(format!("\"{text}\" is a module, not a resource instance: add the resource's TYPE.NAME")),
        }
    }
}

/// An address as a shell command line needs it: single-quoted when it holds a key's brackets
/// or quotes (`'postgres_table.t["a"]'`), as Terraform's docs write them.
pub fn for_shell(address: &impl fmt::Display) -> String {
    let text = address.to_string();
    if text.contains(['[', '"', ' ']) { format!("'{}'", text.replace('\'', "'\\''")) } else { text }
}

/// One configuration of a provider: its default one (`aws`) or an aliased one (`aws.west`), as
/// `provider = aws.west` and `providers = { aws = aws.west }` name them and state records them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
}

impl ProviderConfig {
    /// The default configuration of `name`.
    pub fn default_of(name: &str) -> ProviderConfig {
        ProviderConfig { name: name.to_owned(), alias: None }
    }
}

impl fmt::Display for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.alias {
            Some(alias) => write!(f, "{}.{alias}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

impl FromStr for ProviderConfig {
    type Err = String;

    /// `aws` or `aws.west`.
    fn from_str(text: &str) -> Result<ProviderConfig, String> {
        let is_name = |part: &str| part.starts_with(|c: char| c.is_ascii_alphabetic()) && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match text.split_once('.') {
            None if is_name(text) => Ok(ProviderConfig::default_of(text)),
            Some((name, alias)) if is_name(name) && is_name(alias) => Ok(ProviderConfig { name: name.to_owned(), alias: Some(alias.to_owned()) }),
            _ => Err(format!("\"{text}\" is not a provider configuration: expected NAME or NAME.ALIAS, such as aws.west")),
        }
    }
}

/// `postgres_table` belongs to `postgres`.
pub fn provider_of(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

/// The provider's registry address as Terraform writes it in machine-readable plans and states
/// (`provider_name`), so policy checks written for Terraform match: the `aws` resources are
/// hashicorp/aws's types and the `postgresql` ones cyrilgdn/postgresql's; strata's own providers
/// live under `strata/`.
pub fn registry_address(provider: &str) -> String {
    match provider {
        "aws" => "registry.terraform.io/hashicorp/aws".to_owned(),
        "postgresql" => "registry.terraform.io/cyrilgdn/postgresql".to_owned(),
        other => format!("registry.terraform.io/strata/{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_round_trip_in_terraforms_syntax() {
        for text in [
            "postgres_table.users",
            "data.aws_vpc.default",
            "aws_db_instance.replica[0]",
            "postgres_table.t[\"events\"]",
            "module.a.module.b.postgres_table.x[\"k\"]",
            "module.db[\"eu west\"].aws_db_instance.main[2]",
            "postgres_table.t[\"quote\\\"d\"]",
        ] {
            assert_eq!(text.parse::<ResourceInstance>().map(|a| a.to_string()), Ok(text.to_owned()));
        }
        for bad in ["users", "postgres_table.users[0][1]", "module.a", "aws_db.x[true]", "postgres_table.*", "a.b.c"] {
            assert!(bad.parse::<ResourceInstance>().is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_with_keys_are_quoted_for_the_shell() {
        let keyed: ResourceInstance = "postgres_table.t[\"a\"]".parse().unwrap();
        assert_eq!(for_shell(&keyed), "'postgres_table.t[\"a\"]'");
        assert_eq!(for_shell(&ConfigResource::managed("postgres_table", "t").single_instance()), "postgres_table.t");
    }

    #[test]
    fn instance_keys_are_terraforms_index_keys() {
        assert_eq!(InstanceKey::Int(3).to_json(), Some(serde_json::json!(3)));
        assert_eq!(InstanceKey::from_json(Some(&serde_json::json!("k"))), Ok(InstanceKey::Str("k".into())));
        assert_eq!(InstanceKey::from_json(None), Ok(InstanceKey::None));
        assert!(InstanceKey::from_json(Some(&serde_json::json!(1.5))).is_err());
    }
}
