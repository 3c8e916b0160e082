//! Typed definitions of the objects this provider manages, and their conversion from and to the
//! engine's values (the shape of configuration and state). Defaults the configuration may leave
//! out (schema `public`, constraint names, `btree`, `NO ACTION`) are filled here, so a planned
//! object is complete before anything is created.

use std::collections::BTreeMap;

use strata_provider_sdk::{ProviderError, Value};

/// PostgreSQL truncates identifiers to 63 bytes; names strata makes up must match what it keeps.
const MAX_IDENTIFIER: usize = 63;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub identity: Option<String>,
    /// The identity sequence's START WITH and INCREMENT BY; `None` in configuration leaves the live
    /// value as it is.
    pub identity_start: Option<i64>,
    pub identity_increment: Option<i64>,
    /// The expression of a STORED generated column (PostgreSQL 15 has no virtual ones). Never a
    /// default: the catalog keeps both in `pg_attrdef`, `attgenerated` tells them apart.
    pub generated: Option<String>,
    /// Only when it is not the type's default collation.
    pub collation: Option<String>,
    /// `pglz` or `lz4`; `None` is the server's `default_toast_compression`.
    pub compression: Option<String>,
    /// `plain`, `external`, `extended` or `main`, only when it is not the type's own; `None` in
    /// configuration leaves the live storage as it is (PostgreSQL 15 has no SET STORAGE DEFAULT).
    pub storage: Option<String>,
    pub comment: Option<String>,
    /// The name the column had before (configuration only: the catalog never sets it), so plan
    /// renames it instead of dropping it and adding a new one.
    pub renamed_from: Option<String>,
    /// Holds data only some roles may read (configuration only): plan warns when PUBLIC can
    /// read the table (see `security`).
    pub sensitive: bool,
}

/// When a constraint is checked: after each statement, or (deferrable and initially deferred) at
/// commit; a deferrable one can be deferred by `SET CONSTRAINTS`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Deferral {
    pub deferrable: bool,
    pub initially_deferred: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    pub deferral: Deferral,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    pub expression: String,
    /// Whether existing rows were checked (`convalidated`). `false` in configuration adds it NOT
    /// VALID and leaves it so; a validated constraint is never made unvalidated again.
    pub validated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table as `schema.table`.
    pub references: String,
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
    /// `SIMPLE` or `FULL` (PostgreSQL does not implement `PARTIAL`).
    pub match_type: String,
    pub deferral: Deferral,
    /// As for [`Check::validated`].
    pub validated: bool,
}

/// An `EXCLUDE` constraint: no two rows for which every element's operator holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Exclusion {
    pub name: String,
    pub using: String,
    /// `column WITH operator` or `expression WITH operator`, such as `during WITH &&`.
    pub elements: Vec<String>,
    pub predicate: Option<String>,
    pub deferral: Deferral,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub using: String,
    pub predicate: Option<String>,
    pub include: Vec<String>,
    /// Storage parameters (`WITH (fillfactor = 70)`), values as PostgreSQL keeps them: text.
    pub with: BTreeMap<String, String>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15): a unique index that holds one NULL at most.
    pub nulls_not_distinct: bool,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub primary_key: Vec<String>,
    pub columns: Vec<Column>,
    pub uniques: Vec<Unique>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub exclusions: Vec<Exclusion>,
    pub indexes: Vec<Index>,
    pub partitioning: crate::partitions::Partitioning,
    /// `None` in configuration leaves the live owner as it is.
    pub owner: Option<String>,
    /// `None` in configuration leaves the live setting as it is.
    pub row_level_security: Option<RowSecurity>,
    /// Whether the live table's ACL lets PUBLIC read it (catalog only: never in values).
    pub public_select: bool,
}

/// `row_level_security = { enabled = bool, force = bool }`: whether policies filter rows
/// (`relrowsecurity`), and whether they filter the table's owner too (`relforcerowsecurity`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowSecurity {
    pub enabled: bool,
    pub force: bool,
}

impl RowSecurity {
    const KEYS: [&'static str; 2] = ["enabled", "force"];

    /// The setting a `row_level_security` value gives; an unknown key is an error naming the
    /// closest one.
    pub fn from_value(value: &Value) -> Result<Option<RowSecurity>, ProviderError> {
        let Some(given) = value.as_object() else { return Ok(None) };
        if let Some(unknown) = given.keys().find(|key| !Self::KEYS.contains(&key.as_str())) {
            let closest = closest(unknown, &Self::KEYS);
            return Err(ProviderError::new(format!("row_level_security has no key \"{unknown}\"")).with_hint(format!("did you mean \"{closest}\"? row_level_security takes enabled and force")));
        }
        let flag = |key: &str| match given.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(Value::String(text)) if text == "true" || text == "false" => Ok(text == "true"),
            Some(other) => Err(ProviderError::new(format!("row_level_security.{key} must be true or false, not {}", other.type_name()))),
        };
        Ok(Some(RowSecurity { enabled: flag("enabled")?, force: flag("force")? }))
    }

    pub fn to_value(self) -> Value {
        Value::object([("enabled", Value::Bool(self.enabled)), ("force", Value::Bool(self.force))])
    }
}

/// A `postgres_index`.
#[derive(Clone, Debug, PartialEq)]
pub struct TableIndex {
    pub schema: String,
    /// `schema.table`.
    pub table: String,
    pub index: Index,
    pub concurrently: bool,
    pub valid: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Enum {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
    /// `None` in configuration leaves the live comment as it is.
    pub comment: Option<String>,
    /// `None` in configuration leaves the live owner as it is.
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub name: String,
    pub owner: Option<String>,
    /// `None` in configuration leaves the live comment as it is (`public` has one of its own).
    pub comment: Option<String>,
    /// The database it is in, when the configuration names it: must be the provider's
    /// (configuration only, like the two flags below).
    pub database: Option<String>,
    /// `CREATE SCHEMA IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// `DROP SCHEMA ... CASCADE`: deleting it drops every object in it.
    pub drop_cascade: bool,
    /// The privileges on it of each role a `policy` block names, by role (`public` for PUBLIC).
    pub policies: BTreeMap<String, SchemaPrivileges>,
}

/// A role's privileges on a schema: the community provider's `policy` block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SchemaPrivileges {
    pub usage: Grant,
    pub create: Grant,
}

/// One privilege of a role: not held, held, or held with the right to grant it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    #[default]
    None,
    Held,
    WithGrantOption,
}

impl Grant {
    fn of(held: bool, with_grant: bool) -> Grant {
        match (held, with_grant) {
            (_, true) => Grant::WithGrantOption,
            (true, false) => Grant::Held,
            (false, false) => Grant::None,
        }
    }
}

impl SchemaPrivileges {
    /// `(role, privileges)` from a `policy` block (a privilege `_with_grant` is held too).
    fn from_value(value: &Value) -> Result<(String, SchemaPrivileges), ProviderError> {
        let role = required(value, "role", "a postgres_schema policy block")?;
        let flag = |key: &str| value.get_bool(key).unwrap_or(false);
        let role = if role.eq_ignore_ascii_case("public") { "public".to_owned() } else { role };
        Ok((role, SchemaPrivileges { usage: Grant::of(flag("usage"), flag("usage_with_grant")), create: Grant::of(flag("create"), flag("create_with_grant")) }))
    }

    fn to_value(self, role: &str) -> Value {
        Value::object([
            ("role", Value::from(role)),
            ("usage", Value::Bool(self.usage != Grant::None)),
            ("usage_with_grant", Value::Bool(self.usage == Grant::WithGrantOption)),
            ("create", Value::Bool(self.create != Grant::None)),
            ("create_with_grant", Value::Bool(self.create == Grant::WithGrantOption)),
        ])
    }

    /// From `aclexplode` rows of one role: `(privilege_type, is_grantable)`.
    pub fn from_acl<'a>(entries: impl IntoIterator<Item = (&'a str, bool)>) -> SchemaPrivileges {
        let mut privileges = SchemaPrivileges::default();
        for (privilege, grantable) in entries {
            let grant = Grant::of(true, grantable);
            match privilege {
                "USAGE" => privileges.usage = privileges.usage.max(grant),
                "CREATE" => privileges.create = privileges.create.max(grant),
                _ => {}
            }
        }
        privileges
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Extension {
    pub name: String,
    pub schema: Option<String>,
    pub version: Option<String>,
}

fn required(value: &Value, key: &str, what: &str) -> Result<String, ProviderError> {
    value.get_str(key).map(str::to_owned).ok_or_else(|| ProviderError::new(format!("{what} needs \"{key}\"")))
}

fn optional(value: &Value, key: &str) -> Option<String> {
    value.get_str(key).map(str::to_owned)
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value.get_strings(key)
}

fn string_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// A flag, null when it has its default: state and `strata inspect` show only what was chosen.
fn unless_default(flag: bool, default: bool) -> Value {
    if flag == default {
        Value::Null
    } else {
        Value::Bool(flag)
    }
}

fn opt(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, Value::from)
}

/// The one of `candidates` closest to `given` (for the hint of a misspelt key or keyword).
pub fn closest<'a>(given: &str, candidates: &[&'a str]) -> &'a str {
    candidates.iter().max_by(|a, b| strsim::jaro_winkler(a, given).total_cmp(&strsim::jaro_winkler(b, given))).copied().unwrap_or_default()
}

/// `name` cut to PostgreSQL's identifier length on a character boundary.
pub fn truncate_identifier(name: String) -> String {
    if name.len() <= MAX_IDENTIFIER {
        return name;
    }
    let mut end = MAX_IDENTIFIER;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// `schema.table` for a reference written `table` or `schema.table` (quotes removed).
pub fn qualify(reference: &str, default_schema: &str) -> String {
    let unquoted = reference.replace('"', "");
    if unquoted.contains('.') {
        unquoted
    } else {
        format!("{default_schema}.{unquoted}")
    }
}

/// The words PostgreSQL uses for a referential action, from any spelling.
pub fn referential_action(action: Option<&str>) -> String {
    let words = action.unwrap_or("NO ACTION").split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
    if words.is_empty() {
        "NO ACTION".to_owned()
    } else {
        words
    }
}

impl Table {
    pub fn id(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Reads a configured or stored table, filling defaults and constraint names.
    pub fn from_value(value: &Value) -> Result<Table, ProviderError> {
        let name = required(value, "name", "postgres_table")?;
        let schema = optional(value, "schema").unwrap_or_else(|| "public".into());
        let columns = value.get_list("column").iter().map(Column::from_value).collect::<Result<Vec<_>, ProviderError>>()?;
        let column_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut namer = Namer::default();
        let uniques = value
            .get_list("unique")
            .iter()
            .map(|u| {
                let cols = strings(u, "columns");
                let name = optional(u, "name").unwrap_or_else(|| namer.make(&name, &cols, "key"));
                Ok(Unique { deferral: Deferral::from_value(u, &name)?, name, columns: cols })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let checks = value
            .get_list("check")
            .iter()
            .map(|c| {
                let expression = required(c, "expression", "a check block")?;
                let mentioned: Vec<String> = column_names.iter().filter(|col| mentions(&expression, col)).map(|c| (*c).to_owned()).collect();
                let cols = if mentioned.len() == 1 { mentioned } else { vec![] };
                let name = optional(c, "name").unwrap_or_else(|| namer.make(&name, &cols, "check"));
                Ok(Check { name, expression, validated: c.get_bool("validated").unwrap_or(true) })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let foreign_keys = value
            .get_list("foreign_key")
            .iter()
            .map(|f| {
                let cols = strings(f, "columns");
                let name = optional(f, "name").unwrap_or_else(|| namer.make(&name, &cols, "fkey"));
                Ok(ForeignKey {
                    match_type: match_type(f.get_str("match"), &name)?,
                    deferral: Deferral::from_value(f, &name)?,
                    name,
                    columns: cols,
                    references: qualify(&required(f, "references", "a foreign_key block")?, &schema),
                    ref_columns: strings(f, "ref_columns"),
                    on_delete: referential_action(f.get_str("on_delete")),
                    on_update: referential_action(f.get_str("on_update")),
                    validated: f.get_bool("validated").unwrap_or(true),
                })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let exclusions = value.get_list("exclude").iter().map(|e| Exclusion::from_value(e, &name, &mut namer)).collect::<Result<Vec<_>, _>>()?;
        let indexes = value.get_list("index").iter().map(Index::from_value).collect::<Result<Vec<_>, _>>()?;
        Ok(Table {
            partitioning: crate::partitions::Partitioning::from_value(value, &schema)?,
            schema,
            name,
            comment: optional(value, "comment"),
            owner: optional(value, "owner"),
            row_level_security: value.get("row_level_security").map(RowSecurity::from_value).transpose()?.flatten(),
            public_select: false,
            primary_key: strings(value, "primary_key"),
            columns,
            uniques,
            checks,
            foreign_keys,
            exclusions,
            indexes,
        })
    }

    pub fn to_value(&self) -> Value {
        let uniques = self.uniques.iter().map(|u| u.deferral.with_fields([("name", Value::from(u.name.as_str())), ("columns", string_list(&u.columns))]));
        let checks = self.checks.iter().map(|c| {
            Value::object([("name", Value::from(c.name.as_str())), ("expression", Value::from(c.expression.as_str())), ("validated", unless_default(c.validated, true))])
        });
        let foreign_keys = self.foreign_keys.iter().map(|f| {
            f.deferral.with_fields([
                ("name", Value::from(f.name.as_str())),
                ("columns", string_list(&f.columns)),
                ("references", Value::from(f.references.as_str())),
                ("ref_columns", string_list(&f.ref_columns)),
                ("on_delete", Value::from(f.on_delete.as_str())),
                ("on_update", Value::from(f.on_update.as_str())),
                ("match", if f.match_type == "SIMPLE" { Value::Null } else { Value::from(f.match_type.as_str()) }),
                ("validated", unless_default(f.validated, true)),
            ])
        });
        Value::object(self.partitioning.fields().into_iter().chain([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("comment", opt(&self.comment)),
            ("owner", opt(&self.owner)),
            ("row_level_security", self.row_level_security.map_or(Value::Null, RowSecurity::to_value)),
            ("primary_key", if self.primary_key.is_empty() { Value::Null } else { string_list(&self.primary_key) }),
            ("id", Value::from(self.id())),
            ("column", Value::List(self.columns.iter().map(Column::to_value).collect())),
            ("unique", Value::List(uniques.collect())),
            ("check", Value::List(checks.collect())),
            ("foreign_key", Value::List(foreign_keys.collect())),
            ("exclude", Value::List(self.exclusions.iter().map(Exclusion::to_value).collect())),
            ("index", Value::List(self.indexes.iter().map(Index::to_value).collect())),
        ]))
    }
}

impl Column {
    fn from_value(value: &Value) -> Result<Column, ProviderError> {
        let column = Column {
            name: required(value, "name", "a column block")?,
            type_name: required(value, "type", "a column block")?,
            nullable: value.get_bool("null").unwrap_or(true),
            default: optional(value, "default"),
            identity: optional(value, "identity").map(|i| i.to_lowercase()),
            identity_start: value.get_i64("identity_start"),
            identity_increment: value.get_i64("identity_increment"),
            generated: optional(value, "generated"),
            collation: optional(value, "collation"),
            compression: optional(value, "compression").map(|c| c.to_lowercase()),
            storage: optional(value, "storage").map(|s| s.to_lowercase()),
            comment: optional(value, "comment"),
            renamed_from: optional(value, "renamed_from"),
            sensitive: value.get_bool("sensitive").unwrap_or(false),
        };
        column.refuse_conflicts()?;
        Ok(column)
    }

    /// Settings PostgreSQL cannot combine, refused before any SQL is written.
    fn refuse_conflicts(&self) -> Result<(), ProviderError> {
        let conflict = |what: &str, hint: &str| Err(ProviderError::new(format!("column {}: {what}", self.name)).with_hint(hint.to_owned()));
        if self.generated.is_some() && self.default.is_some() {
            return conflict("a generated column cannot also have a default", "keep either generated or default");
        }
        if self.generated.is_some() && self.identity.is_some() {
            return conflict("a generated column cannot also be an identity", "keep either generated or identity");
        }
        if self.identity.is_none() && (self.identity_start.is_some() || self.identity_increment.is_some()) {
            return conflict("identity_start and identity_increment need identity", "set identity = \"always\" or \"by default\"");
        }
        if self.identity_increment == Some(0) {
            return conflict("identity_increment cannot be 0", "use a positive or negative step");
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        let number = |n: Option<i64>| n.map_or(Value::Null, Value::int);
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("type", Value::from(self.type_name.as_str())),
            ("null", Value::Bool(self.nullable)),
            ("default", opt(&self.default)),
            ("identity", opt(&self.identity)),
            ("identity_start", number(self.identity_start)),
            ("identity_increment", number(self.identity_increment)),
            ("generated", opt(&self.generated)),
            ("collation", opt(&self.collation)),
            ("compression", opt(&self.compression)),
            ("storage", opt(&self.storage)),
            ("comment", opt(&self.comment)),
            ("renamed_from", opt(&self.renamed_from)),
            ("sensitive", unless_default(self.sensitive, false)),
        ])
    }
}

impl Deferral {
    /// `deferrable` and `initially_deferred` of the constraint `name`'s block.
    fn from_value(value: &Value, name: &str) -> Result<Deferral, ProviderError> {
        let deferral = Deferral { deferrable: value.get_bool("deferrable").unwrap_or(false), initially_deferred: value.get_bool("initially_deferred").unwrap_or(false) };
        if deferral.initially_deferred && !deferral.deferrable {
            return Err(ProviderError::new(format!("constraint {name}: initially_deferred = true needs deferrable = true")).with_hint("set deferrable = true as well"));
        }
        Ok(deferral)
    }

    /// A constraint's fields with `deferrable` and `initially_deferred` added.
    fn with_fields<const N: usize>(&self, fields: [(&str, Value); N]) -> Value {
        let mut value = Value::object(fields);
        value.set("deferrable", unless_default(self.deferrable, false));
        value.set("initially_deferred", unless_default(self.initially_deferred, false));
        value
    }
}

/// `SIMPLE` or `FULL` from a foreign key's `match`; `PARTIAL`, which PostgreSQL does not
/// implement, is refused.
fn match_type(given: Option<&str>, name: &str) -> Result<String, ProviderError> {
    let upper = given.unwrap_or("SIMPLE").trim().to_uppercase();
    if upper == "PARTIAL" {
        return Err(ProviderError::new(format!("foreign key {name}: match = \"partial\" is not implemented by PostgreSQL")).with_hint("use match = \"full\" or \"simple\""));
    }
    Ok(upper)
}

impl Exclusion {
    fn from_value(value: &Value, table: &str, namer: &mut Namer) -> Result<Exclusion, ProviderError> {
        let elements = strings(value, "elements");
        let columns: Vec<String> = elements.iter().map(|e| exclusion_column(e).unwrap_or("expr").to_owned()).collect();
        let name = optional(value, "name").unwrap_or_else(|| namer.make(table, &columns, "excl"));
        if let Some(bare) = elements.iter().find(|e| split_exclusion_element(e).is_none()) {
            return Err(ProviderError::new(format!("exclude {name}: element \"{bare}\" names no operator"))
                .with_hint("write each element as \"column WITH operator\", such as \"during WITH &&\""));
        }
        Ok(Exclusion {
            deferral: Deferral::from_value(value, &name)?,
            name,
            using: optional(value, "using").map(|u| u.to_lowercase()).unwrap_or_else(|| "gist".into()),
            elements,
            predicate: optional(value, "where"),
        })
    }

    fn to_value(&self) -> Value {
        self.deferral.with_fields([
            ("name", Value::from(self.name.as_str())),
            ("using", Value::from(self.using.as_str())),
            ("elements", string_list(&self.elements)),
            ("where", opt(&self.predicate)),
        ])
    }
}

/// An exclusion element `room_id WITH =` as its column or expression and its operator.
pub fn split_exclusion_element(element: &str) -> Option<(&str, &str)> {
    let at = element.to_ascii_uppercase().rfind(" WITH ")?;
    let (core, operator) = (element[..at].trim(), element[at + " WITH ".len()..].trim());
    (!core.is_empty() && !operator.is_empty()).then_some((core, operator))
}

/// The column an exclusion element compares, when it is a plain column (not an expression).
fn exclusion_column(element: &str) -> Option<&str> {
    split_exclusion_element(element).map(|(core, _)| core).filter(|core| core.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

impl Check {
    /// Whether `other` is this check, validated or not.
    pub fn same_check(&self, other: &Check) -> bool {
        self.name == other.name && self.expression == other.expression
    }
}

impl ForeignKey {
    /// Whether `other` is this key but for what `ALTER CONSTRAINT` and `VALIDATE CONSTRAINT`
    /// change in place: its timing and whether it was validated.
    pub fn same_key(&self, other: &ForeignKey) -> bool {
        ForeignKey { deferral: other.deferral, validated: other.validated, ..self.clone() } == *other
    }
}

/// Makes constraint names the way PostgreSQL does (`users_email_key`), unique within a table.
#[derive(Default)]
struct Namer {
    used: Vec<String>,
}

impl Namer {
    fn make(&mut self, table: &str, columns: &[String], suffix: &str) -> String {
        let mut stem = vec![table.to_owned()];
        stem.extend(columns.iter().cloned());
        let base = stem.join("_");
        let mut candidate = truncate_identifier(format!("{base}_{suffix}"));
        let mut n = 1;
        while self.used.contains(&candidate) {
            candidate = truncate_identifier(format!("{base}_{suffix}{n}"));
            n += 1;
        }
        self.used.push(candidate.clone());
        candidate
    }
}

/// Whether `expression` mentions `column` as a whole word.
pub fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == column)
}

/// A storage parameter's name goes into `WITH (...)` unquoted, as PostgreSQL spells them all.
fn is_parameter_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_') && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An index's storage parameters, each value as text (numbers and booleans as HCL prints them).
fn storage_parameters(value: &Value, index: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let Some(given) = value.get("with").and_then(Value::as_object) else { return Ok(BTreeMap::new()) };
    given
        .iter()
        .map(|(name, setting)| {
            if !is_parameter_name(name) {
                return Err(ProviderError::new(format!("index {index}: \"{name}\" in \"with\" is not a storage parameter's name"))
                    .with_hint("storage parameters are lowercase words, such as fillfactor, fastupdate, pages_per_range, lists, m or ef_construction"));
            }
            let text = match setting {
                Value::String(text) => text.clone(),
                Value::Bool(flag) => flag.to_string(),
                Value::Number(number) => number.to_string(),
                other => return Err(ProviderError::new(format!("index {index}: storage parameter {name} must be a string, number or bool, not {}", other.type_name()))),
            };
            Ok((name.clone(), text))
        })
        .collect()
}

impl Index {
    pub fn from_value(value: &Value) -> Result<Index, ProviderError> {
        let name = required(value, "name", "an index")?;
        let unique = value.get_bool("unique").unwrap_or(false);
        let nulls_not_distinct = value.get_bool("nulls_not_distinct").unwrap_or(false);
        if nulls_not_distinct && !unique {
            return Err(ProviderError::new(format!("index {name} sets nulls_not_distinct but is not unique: only a unique index tells NULLs apart")).with_hint("set unique = true, or leave nulls_not_distinct out"));
        }
        Ok(Index {
            with: storage_parameters(value, &name)?,
            name,
            columns: strings(value, "columns"),
            unique,
            using: optional(value, "using").map(|u| u.to_lowercase()).unwrap_or_else(|| "btree".into()),
            predicate: optional(value, "where"),
            include: strings(value, "include"),
            nulls_not_distinct,
            comment: optional(value, "comment"),
        })
    }

    /// The fields that differ from `other` and can only change by building the index again: all
    /// but its comment and storage parameters, which change in place unless the index is on a
    /// `partitioned` table (PostgreSQL refuses `ALTER INDEX ... SET` on a partitioned index).
    pub fn rebuilt_for(&self, other: &Index, partitioned: bool) -> Vec<&'static str> {
        let fields = [
            ("name", self.name != other.name),
            ("columns", self.columns != other.columns),
            ("unique", self.unique != other.unique),
            ("using", self.using != other.using),
            ("where", self.predicate != other.predicate),
            ("include", self.include != other.include),
            ("nulls_not_distinct", self.nulls_not_distinct != other.nulls_not_distinct),
            ("with", partitioned && self.with != other.with),
        ];
        fields.into_iter().filter(|(_, differs)| *differs).map(|(field, _)| field).collect()
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.fields())
    }

    fn fields(&self) -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("name".to_owned(), Value::from(self.name.as_str())),
            ("columns".to_owned(), string_list(&self.columns)),
            ("unique".to_owned(), Value::Bool(self.unique)),
            ("using".to_owned(), Value::from(self.using.as_str())),
            ("where".to_owned(), opt(&self.predicate)),
            ("include".to_owned(), if self.include.is_empty() { Value::Null } else { string_list(&self.include) }),
            ("with".to_owned(), if self.with.is_empty() { Value::Null } else { Value::object(self.with.iter().map(|(k, v)| (k.as_str(), Value::from(v.as_str())))) }),
            ("nulls_not_distinct".to_owned(), Value::Bool(self.nulls_not_distinct)),
            ("comment".to_owned(), opt(&self.comment)),
        ])
    }
}

impl TableIndex {
    pub fn id(&self) -> String {
        format!("{}.{}", self.schema, self.index.name)
    }

    pub fn from_value(value: &Value) -> Result<TableIndex, ProviderError> {
        let table = required(value, "table", "postgres_index")?;
        // An index lives in its table's schema, whatever the index block says of it.
        let schema = match table.replace('"', "").split_once('.') {
            Some((table_schema, _)) => table_schema.to_owned(),
            None => optional(value, "schema").unwrap_or_else(|| "public".into()),
        };
        Ok(TableIndex {
            table: qualify(&table, &schema),
            schema,
            index: Index::from_value(value)?,
            concurrently: value.get_bool("concurrently").unwrap_or(false),
            valid: value.get_bool("valid").unwrap_or(true),
        })
    }

    pub fn to_value(&self) -> Value {
        let mut fields = self.index.fields();
        fields.insert("schema".into(), Value::from(self.schema.as_str()));
        fields.insert("table".into(), Value::from(self.table.as_str()));
        fields.insert("concurrently".into(), Value::Bool(self.concurrently));
        fields.insert("valid".into(), Value::Bool(self.valid));
        fields.insert("id".into(), Value::from(self.id()));
        Value::Object(fields)
    }
}

impl Enum {
    pub fn id(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    pub fn from_value(value: &Value) -> Result<Enum, ProviderError> {
        Ok(Enum {
            schema: optional(value, "schema").unwrap_or_else(|| "public".into()),
            name: required(value, "name", "postgres_enum")?,
            values: strings(value, "values"),
            comment: optional(value, "comment"),
            owner: optional(value, "owner"),
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("values", string_list(&self.values)),
            ("comment", opt(&self.comment)),
            ("owner", opt(&self.owner)),
            ("id", Value::from(self.id())),
        ])
    }
}

impl Schema {
    pub fn from_value(value: &Value) -> Result<Schema, ProviderError> {
        let mut policies = BTreeMap::new();
        for block in value.get_list("policy") {
            let (role, privileges) = SchemaPrivileges::from_value(block)?;
            if policies.insert(role.clone(), privileges).is_some() {
                return Err(ProviderError::new(format!("postgres_schema {}: two policy blocks name role {role}", value.get_str("name").unwrap_or_default())).with_hint("give each role one policy block"));
            }
        }
        Ok(Schema {
            name: required(value, "name", "postgres_schema")?,
            owner: optional(value, "owner"),
            comment: optional(value, "comment"),
            database: optional(value, "database"),
            if_not_exists: value.get_bool("if_not_exists").unwrap_or(false),
            drop_cascade: value.get_bool("drop_cascade").unwrap_or(false),
            policies,
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("owner", opt(&self.owner)),
            ("comment", opt(&self.comment)),
            ("database", opt(&self.database)),
            ("if_not_exists", unless_default(self.if_not_exists, false)),
            ("drop_cascade", unless_default(self.drop_cascade, false)),
            ("policy", Value::List(self.policies.iter().map(|(role, privileges)| privileges.to_value(role)).collect())),
            ("id", Value::from(self.name.as_str())),
        ])
    }

    /// A live schema as strata manages it: the policies of the roles `managed` names (a grant
    /// made by hand to another role is never revoked), and `managed`'s configuration-only fields.
    pub fn managed_view(mut self, managed: &Schema) -> Schema {
        self.policies.retain(|role, _| managed.policies.contains_key(role));
        for role in managed.policies.keys() {
            self.policies.entry(role.clone()).or_default();
        }
        Schema { database: managed.database.clone(), if_not_exists: managed.if_not_exists, drop_cascade: managed.drop_cascade, ..self }
    }
}

impl Extension {
    pub fn from_value(value: &Value) -> Result<Extension, ProviderError> {
        Ok(Extension { name: required(value, "name", "postgres_extension")?, schema: optional(value, "schema"), version: optional(value, "version") })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("schema", opt(&self.schema)),
            ("version", opt(&self.version)),
            ("id", Value::from(self.name.as_str())),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_follow_postgres_conventions() {
        let value = Value::object([
            ("name", Value::from("users")),
            ("column", Value::List(vec![Value::object([("name", Value::from("email")), ("type", Value::from("text"))])])),
            ("unique", Value::List(vec![Value::object([("columns", Value::List(vec![Value::from("email")]))])])),
            ("check", Value::List(vec![Value::object([("expression", Value::from("email <> ''"))])])),
        ]);
        let table = Table::from_value(&value).unwrap();
        assert_eq!(table.uniques[0].name, "users_email_key");
        assert_eq!(table.checks[0].name, "users_email_check");
        assert_eq!(table.schema, "public");
        assert_eq!(Table::from_value(&table.to_value()).unwrap(), table);
    }

    fn block(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().cloned())
    }

    fn rentals(column: Value, constraints: &[(&str, Value)]) -> Result<Table, ProviderError> {
        let mut fields = vec![("name", Value::from("rentals")), ("column", Value::List(vec![column]))];
        fields.extend(constraints.iter().map(|(k, v)| (*k, Value::List(vec![v.clone()]))));
        Table::from_value(&block(&fields))
    }

    #[test]
    fn column_and_constraint_attributes_round_trip_with_postgres_names() {
        let during = block(&[
            ("name", Value::from("during")),
            ("type", Value::from("tstzrange")),
            ("collation", Value::from("C")),
            ("compression", Value::from("LZ4")),
            ("storage", Value::from("External")),
        ]);
        let exclusion = block(&[("elements", Value::List(vec![Value::from("room_id WITH ="), Value::from("lower(during) with &&")])), ("deferrable", Value::Bool(true))]);
        let fk = block(&[
            ("columns", Value::List(vec![Value::from("during")])),
            ("references", Value::from("bookings")),
            ("ref_columns", Value::List(vec![Value::from("during")])),
            ("match", Value::from("full")),
            ("validated", Value::Bool(false)),
        ]);
        let table = rentals(during, &[("exclude", exclusion), ("foreign_key", fk)]).unwrap();
        assert_eq!((table.columns[0].compression.as_deref(), table.columns[0].storage.as_deref()), (Some("lz4"), Some("external")));
        assert_eq!(table.exclusions[0].name, "rentals_room_id_expr_excl", "named as PostgreSQL names it");
        assert_eq!(table.exclusions[0].using, "gist");
        assert_eq!((table.foreign_keys[0].match_type.as_str(), table.foreign_keys[0].validated), ("FULL", false));
        assert_eq!(Table::from_value(&table.to_value()).unwrap(), table);
    }

    #[test]
    fn settings_postgres_cannot_combine_are_refused() {
        let column = |pairs: &[(&str, Value)]| {
            let mut fields = vec![("name", Value::from("total")), ("type", Value::from("numeric"))];
            fields.extend(pairs.iter().cloned());
            block(&fields)
        };
        let refused = |table: Result<Table, ProviderError>| table.unwrap_err().message;
        assert!(refused(rentals(column(&[("generated", Value::from("a * b")), ("default", Value::from("0"))]), &[])).contains("cannot also have a default"));
        assert!(refused(rentals(column(&[("identity_start", Value::int(5))]), &[])).contains("need identity"));
        let deferred = block(&[("columns", Value::List(vec![Value::from("total")])), ("initially_deferred", Value::Bool(true))]);
        assert!(refused(rentals(column(&[]), &[("unique", deferred)])).contains("needs deferrable = true"));
        let partial = block(&[("columns", Value::List(vec![])), ("references", Value::from("t")), ("match", Value::from("PARTIAL"))]);
        assert!(refused(rentals(column(&[]), &[("foreign_key", partial)])).contains("not implemented by PostgreSQL"));
        let bare = block(&[("elements", Value::List(vec![Value::from("during")]))]);
        assert!(refused(rentals(column(&[]), &[("exclude", bare)])).contains("names no operator"));
    }

    #[test]
    fn references_and_actions_are_normalised() {
        assert_eq!(qualify("users", "app"), "app.users");
        assert_eq!(qualify("\"public\".\"users\"", "app"), "public.users");
        assert_eq!(referential_action(Some("set  null")), "SET NULL");
        assert_eq!(referential_action(None), "NO ACTION");
    }
}
