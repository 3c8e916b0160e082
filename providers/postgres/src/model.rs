//! Typed definitions of the objects this provider manages, and their conversion from and to the
//! engine's values (the shape of configuration and state). Defaults the configuration may leave
//! out (schema `public`, constraint names, `btree`, `NO ACTION`) are filled here, so a planned
//! object is complete before anything is created.

use std::collections::BTreeMap;

use strata_provider_sdk::{ProviderError, Value};

/// PostgreSQL truncates identifiers to 63 bytes; names strata makes up must match what it keeps.
const MAX_IDENTIFIER: usize = 63;

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub identity: Option<String>,
    pub comment: Option<String>,
    /// The name the column had before (configuration only: the catalog never sets it), so plan
    /// renames it instead of dropping it and adding a new one.
    pub renamed_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    pub expression: String,
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
}

#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub using: String,
    pub predicate: Option<String>,
    pub include: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub primary_key: Vec<String>,
    pub columns: Vec<Column>,
    pub uniques: Vec<Unique>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub partitioning: crate::partitions::Partitioning,
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
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub name: String,
    pub owner: Option<String>,
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

fn opt(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, Value::from)
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
        let columns = value
            .get_list("column")
            .iter()
            .map(|c| {
                Ok(Column {
                    name: required(c, "name", "a column block")?,
                    type_name: required(c, "type", "a column block")?,
                    nullable: c.get_bool("null").unwrap_or(true),
                    default: optional(c, "default"),
                    identity: optional(c, "identity").map(|i| i.to_lowercase()),
                    comment: optional(c, "comment"),
                    renamed_from: optional(c, "renamed_from"),
                })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let column_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut namer = Namer::default();
        let uniques = value
            .get_list("unique")
            .iter()
            .map(|u| {
                let cols = strings(u, "columns");
                let name = optional(u, "name").unwrap_or_else(|| namer.make(&name, &cols, "key"));
                Unique { name, columns: cols }
            })
            .collect();
        let checks = value
            .get_list("check")
            .iter()
            .map(|c| {
                let expression = required(c, "expression", "a check block")?;
                let mentioned: Vec<String> = column_names.iter().filter(|col| mentions(&expression, col)).map(|c| (*c).to_owned()).collect();
                let cols = if mentioned.len() == 1 { mentioned } else { vec![] };
                let name = optional(c, "name").unwrap_or_else(|| namer.make(&name, &cols, "check"));
                Ok(Check { name, expression })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let foreign_keys = value
            .get_list("foreign_key")
            .iter()
            .map(|f| {
                let cols = strings(f, "columns");
                Ok(ForeignKey {
                    name: optional(f, "name").unwrap_or_else(|| namer.make(&name, &cols, "fkey")),
                    columns: cols,
                    references: qualify(&required(f, "references", "a foreign_key block")?, &schema),
                    ref_columns: strings(f, "ref_columns"),
                    on_delete: referential_action(f.get_str("on_delete")),
                    on_update: referential_action(f.get_str("on_update")),
                })
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let indexes = value.get_list("index").iter().map(Index::from_value).collect::<Result<Vec<_>, _>>()?;
        Ok(Table {
            partitioning: crate::partitions::Partitioning::from_value(value, &schema)?,
            schema,
            name,
            comment: optional(value, "comment"),
            primary_key: strings(value, "primary_key"),
            columns,
            uniques,
            checks,
            foreign_keys,
            indexes,
        })
    }

    pub fn to_value(&self) -> Value {
        let columns = self.columns.iter().map(|c| {
            Value::object([
                ("name", Value::from(c.name.as_str())),
                ("type", Value::from(c.type_name.as_str())),
                ("null", Value::Bool(c.nullable)),
                ("default", opt(&c.default)),
                ("identity", opt(&c.identity)),
                ("comment", opt(&c.comment)),
                ("renamed_from", opt(&c.renamed_from)),
            ])
        });
        let uniques = self.uniques.iter().map(|u| Value::object([("name", Value::from(u.name.as_str())), ("columns", string_list(&u.columns))]));
        let checks = self.checks.iter().map(|c| Value::object([("name", Value::from(c.name.as_str())), ("expression", Value::from(c.expression.as_str()))]));
        let foreign_keys = self.foreign_keys.iter().map(|f| {
            Value::object([
                ("name", Value::from(f.name.as_str())),
                ("columns", string_list(&f.columns)),
                ("references", Value::from(f.references.as_str())),
                ("ref_columns", string_list(&f.ref_columns)),
                ("on_delete", Value::from(f.on_delete.as_str())),
                ("on_update", Value::from(f.on_update.as_str())),
            ])
        });
        Value::object(self.partitioning.fields().into_iter().chain([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("comment", opt(&self.comment)),
            ("primary_key", if self.primary_key.is_empty() { Value::Null } else { string_list(&self.primary_key) }),
            ("id", Value::from(self.id())),
            ("column", Value::List(columns.collect())),
            ("unique", Value::List(uniques.collect())),
            ("check", Value::List(checks.collect())),
            ("foreign_key", Value::List(foreign_keys.collect())),
            ("index", Value::List(self.indexes.iter().map(Index::to_value).collect())),
        ]))
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
fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == column)
}

impl Index {
    pub fn from_value(value: &Value) -> Result<Index, ProviderError> {
        Ok(Index {
            name: required(value, "name", "an index")?,
            columns: strings(value, "columns"),
            unique: value.get_bool("unique").unwrap_or(false),
            using: optional(value, "using").map(|u| u.to_lowercase()).unwrap_or_else(|| "btree".into()),
            predicate: optional(value, "where"),
            include: strings(value, "include"),
        })
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
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("values", string_list(&self.values)),
            ("id", Value::from(self.id())),
        ])
    }
}

impl Schema {
    pub fn from_value(value: &Value) -> Result<Schema, ProviderError> {
        Ok(Schema { name: required(value, "name", "postgres_schema")?, owner: optional(value, "owner") })
    }

    pub fn to_value(&self) -> Value {
        Value::object([("name", Value::from(self.name.as_str())), ("owner", opt(&self.owner)), ("id", Value::from(self.name.as_str()))])
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

    #[test]
    fn references_and_actions_are_normalised() {
        assert_eq!(qualify("users", "app"), "app.users");
        assert_eq!(qualify("\"public\".\"users\"", "app"), "public.users");
        assert_eq!(referential_action(Some("set  null")), "SET NULL");
        assert_eq!(referential_action(None), "NO ACTION");
    }
}
