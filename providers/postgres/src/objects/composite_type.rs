//! `postgres_composite_type`: a row type of named, typed attributes (`CREATE TYPE ... AS (...)`).
//! Attributes are added, dropped and retyped in place by `ALTER TYPE`; a new order of the ones
//! kept replaces the type. The desired type is put into PostgreSQL's spelling by creating it in
//! `pg_temp`.

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, NestedBlock, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, in_temp_schema, shadow_object, type_row, opt, replacement, required, schema_of, with_comment, AuthorshipRow, Object};
use crate::catalog::Catalog;
use crate::ddl::{ident, qualified};

const SHADOW: &str = "strata_shadow_composite";

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub type_name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompositeType {
    pub schema: String,
    pub name: String,
    pub attributes: Vec<Field>,
    pub comment: Option<String>,
}

impl CompositeType {
    fn sql_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    fn definition(&self, name_sql: &str) -> String {
        let attributes = self.attributes.iter().map(|a| format!("{} {}", ident(&a.name), a.type_name)).collect::<Vec<_>>().join(", ");
        format!("CREATE TYPE {name_sql} AS ({attributes})")
    }

    fn named(&self, name: &str) -> Option<&Field> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

#[async_trait]
impl Object for CompositeType {
    const TYPE: &'static str = "postgres_composite_type";
    const IMPORT_ID: &'static str = "schema.name, or name for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "type", kind: "type" };

    fn schema() -> ResourceSchema {
        let attribute = Block::new().attribute("name", A::required(Type::String)).attribute("type", A::required(Type::String).syntax(crate::type_syntax::TYPE_NAME));
        ResourceSchema {
            periodic: false,
            description: "A composite (row) type: attributes are added, dropped and retyped in place; a new order replaces it.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String))
                .block("attribute", NestedBlock::list(attribute).at_least(1)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        let attributes = |what: &str| format!("ARRAY(SELECT {what} FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)");
        format!(
            "SELECT n.nspname, t.typname, {}, {}, obj_description(t.oid, 'pg_type'), pg_get_userbyid(t.typowner) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             JOIN pg_class c ON c.oid = t.typrelid WHERE t.typtype = 'c' AND c.relkind = 'c' AND {condition}",
            attributes("a.attname::text"),
            attributes("format_type(a.atttypid, a.atttypmod)"),
        )
    }

    fn from_row(row: &Row) -> CompositeType {
        let names: Vec<String> = row.get(2);
        let types: Vec<String> = row.get(3);
        CompositeType { schema: row.get(0), name: row.get(1), attributes: names.into_iter().zip(types).map(|(name, type_name)| Field { name, type_name }).collect(), comment: row.get(4) }
    }

    fn from_value(value: &Value) -> Result<CompositeType, ProviderError> {
        let attributes = value
            .get_list("attribute")
            .iter()
            .map(|a| Ok(Field { name: required(a, "name", "an attribute block")?, type_name: required(a, "type", "an attribute block")? }))
            .collect::<Result<_, ProviderError>>()?;
        Ok(CompositeType { schema: schema_of(value), name: required(value, "name", "postgres_composite_type")?, attributes, comment: value.get_str("comment").map(str::to_owned) })
    }

    fn to_value(&self) -> Value {
        let attributes = self.attributes.iter().map(|a| Value::object([("name", Value::from(a.name.as_str())), ("type", Value::from(a.type_name.as_str()))]));
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("attribute", Value::List(attributes.collect())),
            ("comment", opt(self.comment.as_deref())),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("TYPE {}", self.sql_name())
    }

    /// Created in `pg_temp`, read back with the catalog query and rolled back.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<CompositeType>, ProviderError> {
        let seen: Option<CompositeType> = shadow_object(catalog, &[self.definition(&format!("pg_temp.{SHADOW}"))], &in_temp_schema("t.typname", SHADOW)).await?;
        Ok(seen.map(|seen| CompositeType { schema: self.schema.clone(), name: self.name.clone(), comment: self.comment.clone(), ..seen }))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition(&self.sql_name())])
    }

    fn change(prior: &CompositeType, desired: &CompositeType, normalized: Option<&CompositeType>) -> PlannedChange {
        let compare = normalized.unwrap_or(desired);
        let kept_in_order = compare.attributes.iter().filter(|a| prior.named(&a.name).is_some()).map(|a| &a.name).eq(prior.attributes.iter().filter(|a| compare.named(&a.name).is_some()).map(|a| &a.name));
        let because = super::differing(&[("schema", prior.schema != desired.schema), ("name", prior.name != desired.name), ("attribute", !kept_in_order)]);
        let id = prior.id();
        if !because.is_empty() {
            let mut planned = replacement(prior, desired, because);
            planned.warnings.push(format!("type {id} is dropped and created again: PostgreSQL refuses the drop while a column or function uses it"));
            return planned;
        }
        let alter = |what: String| format!("ALTER TYPE {} {what}", desired.sql_name());
        let mut operations = Vec::new();
        let mut data_loss = Vec::new();
        for gone in prior.attributes.iter().filter(|a| compare.named(&a.name).is_none()) {
            operations.push(alter(format!("DROP ATTRIBUTE {}", ident(&gone.name))));
            data_loss.push(format!("drops attribute {} of type {id}: values of the type lose it", gone.name));
        }
        for (wanted, normal) in desired.attributes.iter().zip(&compare.attributes) {
            match prior.named(&normal.name) {
                None => operations.push(alter(format!("ADD ATTRIBUTE {} {}", ident(&wanted.name), wanted.type_name))),
                Some(live) if live.type_name != normal.type_name => operations.push(alter(format!("ALTER ATTRIBUTE {} TYPE {}", ident(&wanted.name), wanted.type_name))),
                Some(_) => {}
            }
        }
        PlannedChange { data_loss, ..in_place(prior, desired, desired, operations) }
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP TYPE {}", self.sql_name())]
    }

    fn authorship(&self) -> AuthorshipRow {
        type_row(&self.schema, &self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(fields: &[(&str, &str)]) -> CompositeType {
        CompositeType { schema: "public".into(), name: "metric_point".into(), attributes: fields.iter().map(|(n, t)| Field { name: (*n).into(), type_name: (*t).into() }).collect(), comment: None }
    }

    #[test]
    fn attributes_change_in_place_and_a_new_order_replaces() {
        let live = point(&[("step", "bigint"), ("value", "double precision")]);
        let changed = CompositeType::change(&live, &point(&[("step", "integer"), ("logged_at", "timestamp with time zone")]), None);
        assert_eq!(
            changed.operations,
            [
                "ALTER TYPE \"public\".\"metric_point\" DROP ATTRIBUTE \"value\"",
                "ALTER TYPE \"public\".\"metric_point\" ALTER ATTRIBUTE \"step\" TYPE integer",
                "ALTER TYPE \"public\".\"metric_point\" ADD ATTRIBUTE \"logged_at\" timestamp with time zone",
            ]
        );
        assert_eq!(changed.data_loss.len(), 1);
        let reordered = CompositeType::change(&live, &point(&[("value", "double precision"), ("step", "bigint")]), None);
        assert_eq!(reordered.replace_because, ["attribute"]);
    }
}
