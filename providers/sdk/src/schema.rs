//! What a provider declares about the configuration it accepts.
//!
//! The engine checks configuration against these schemas before any provider sees it (unknown
//! attributes, wrong types, missing required values), marks sensitive attributes for masking, and
//! reads `force_new` to explain replacements. In values, a nested block is a list of objects
//! ([`Nesting::List`]) or one object or null ([`Nesting::Single`]).

use std::collections::BTreeMap;

/// The type of an attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Map(Box<Type>),
    /// Anything; the provider checks it.
    Any,
}

impl Type {
    pub fn list_of(inner: Type) -> Type {
        Type::List(Box::new(inner))
    }

    pub fn map_of(inner: Type) -> Type {
        Type::Map(Box::new(inner))
    }

    /// How the type reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(inner) => format!("list({})", inner.describe()),
            Type::Map(inner) => format!("map({})", inner.describe()),
            Type::Any => "any".into(),
        }
    }
}

/// One attribute of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub ty: Type,
    /// The configuration must set it.
    pub required: bool,
    /// The provider fills it (alone when not `optional`, or when the configuration leaves it unset).
    pub computed: bool,
    /// The configuration may set it.
    pub optional: bool,
    /// Masked in every output.
    pub sensitive: bool,
    /// Changing it means destroying and recreating the resource.
    pub force_new: bool,
    pub description: &'static str,
    /// For an enumerated string: the values it may take, checked before any provider sees them.
    pub allowed: Option<AllowedValues>,
    /// For a string with a grammar (an SQL type name): checked before any provider sees it.
    pub syntax: Option<Syntax>,
}

/// The grammar a string attribute follows: `check` says why a value does not.
#[derive(Clone, Copy, Debug)]
pub struct Syntax {
    /// What a valid value is, for the error ("a PostgreSQL type name").
    pub what: &'static str,
    pub check: fn(&str) -> Result<(), String>,
}

impl PartialEq for Syntax {
    /// Two grammars are the same when they say they are: functions have no reliable identity.
    fn eq(&self, other: &Syntax) -> bool {
        self.what == other.what
    }
}

/// The values an enumerated string attribute may take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AllowedValues {
    pub values: &'static [&'static str],
    /// SQL keywords (`ON DELETE set null`): any case and any spacing between words.
    pub keywords: bool,
}

impl AllowedValues {
    pub fn allows(&self, given: &str) -> bool {
        if !self.keywords {
            return self.values.contains(&given);
        }
        let words = |text: &str| text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
        self.values.iter().any(|value| words(value) == words(given))
    }
}

impl Attribute {
    fn of(ty: Type) -> Attribute {
        Attribute {
            ty,
            required: false,
            computed: false,
            optional: false,
            sensitive: false,
            force_new: false,
            description: "",
            allowed: None,
            syntax: None,
        }
    }

    pub fn required(ty: Type) -> Attribute {
        Attribute { required: true, ..Attribute::of(ty) }
    }

    pub fn optional(ty: Type) -> Attribute {
        Attribute { optional: true, ..Attribute::of(ty) }
    }

    /// Set by the provider only.
    pub fn computed(ty: Type) -> Attribute {
        Attribute { computed: true, ..Attribute::of(ty) }
    }

    /// Optional; the provider fills a default when unset.
    pub fn optional_computed(ty: Type) -> Attribute {
        Attribute { optional: true, computed: true, ..Attribute::of(ty) }
    }

    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }

    /// An enumerated string: exactly one of `values`.
    pub fn one_of(mut self, values: &'static [&'static str]) -> Attribute {
        self.allowed = Some(AllowedValues { values, keywords: false });
        self
    }

    /// An enumerated SQL keyword: one of `values`, in any case and spacing.
    pub fn one_of_keywords(mut self, values: &'static [&'static str]) -> Attribute {
        self.allowed = Some(AllowedValues { values, keywords: true });
        self
    }

    /// A string that must follow `syntax`.
    pub fn syntax(mut self, syntax: Syntax) -> Attribute {
        self.syntax = Some(syntax);
        self
    }

    pub fn describe(mut self, description: &'static str) -> Attribute {
        self.description = description;
        self
    }

    /// Whether configuration may set it at all.
    pub fn is_settable(&self) -> bool {
        self.required || self.optional
    }
}

/// How many times a nested block may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// Zero or more; the value is a list of objects.
    List,
    /// At most one; the value is an object or null.
    Single,
}

/// A nested block type, such as `column` inside `postgres_table`.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: usize,
    /// Changing anything inside it means replacing the resource.
    pub force_new: bool,
}

impl NestedBlock {
    pub fn list(block: Block) -> NestedBlock {
        NestedBlock { nesting: Nesting::List, block, min_items: 0, force_new: false }
    }

    pub fn single(block: Block) -> NestedBlock {
        NestedBlock { nesting: Nesting::Single, block, min_items: 0, force_new: false }
    }

    pub fn at_least(mut self, min_items: usize) -> NestedBlock {
        self.min_items = min_items;
        self
    }

    pub fn force_new(mut self) -> NestedBlock {
        self.force_new = true;
        self
    }
}

/// The attributes and nested blocks of a block body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub attributes: BTreeMap<&'static str, Attribute>,
    pub blocks: BTreeMap<&'static str, NestedBlock>,
}

impl Block {
    pub fn new() -> Block {
        Block::default()
    }

    pub fn attribute(mut self, name: &'static str, attribute: Attribute) -> Block {
        self.attributes.insert(name, attribute);
        self
    }

    pub fn block(mut self, name: &'static str, block: NestedBlock) -> Block {
        self.blocks.insert(name, block);
        self
    }

    /// Whether the attribute at `path` (attribute names and nested block names) is sensitive.
    pub fn is_sensitive(&self, path: &[&str]) -> bool {
        match path {
            [] => false,
            [name] => self.attributes.get(name).is_some_and(|a| a.sensitive),
            [name, rest @ ..] => self.blocks.get(name).is_some_and(|b| b.block.is_sensitive(rest)),
        }
    }
}

/// A resource type or data source.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchema {
    pub block: Block,
    pub description: &'static str,
    /// Its plan depends on the clock as well as on configuration and live objects (a backup
    /// policy whose newest backup grows old): every plan asks the provider, never skipping it as
    /// unchanged since the last apply.
    pub periodic: bool,
}

/// Everything a provider declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderSchema {
    /// The registry source a configuration's `required_providers` names for this provider
    /// (`hashicorp/aws`): one naming another source is not this provider.
    pub source: &'static str,
    /// The version of that provider whose resource and argument names this one implements, for
    /// `required_providers` version constraints.
    pub implements: &'static str,
    /// The `provider "NAME" { ... }` block.
    pub provider: Block,
    pub resources: BTreeMap<&'static str, ResourceSchema>,
    pub data_sources: BTreeMap<&'static str, ResourceSchema>,
    /// For each importable resource type, what its import id is ("the group id (sg-...)"), for
    /// the hint `strata import` gives when an id finds nothing.
    pub import_ids: BTreeMap<&'static str, &'static str>,
}
