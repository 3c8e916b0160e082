//! `postgres_materialized_view`: a view whose rows are stored, its query compared as for
//! `postgres_view` (through a temporary shadow view of it). PostgreSQL cannot change a
//! materialized view's query in place, so a new query replaces it (and runs it again); indexes on
//! it are `postgres_index` resources.

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::view::{relations_query, shadow_views, View, SHADOW};
use super::{in_place, with_comment, differing, relation_row, replacement, trimmed_sql, AuthorshipRow, Object};
use crate::catalog::Catalog;

#[derive(Clone, Debug, PartialEq)]
pub struct MaterializedView {
    /// Its name, query, columns and comment (a view's options do not apply).
    view: View,
    /// Whether it holds its query's rows (`WITH DATA`), or must be refreshed before it is read.
    with_data: bool,
}

impl MaterializedView {
    fn sql_name(&self) -> String {
        self.view.sql_name()
    }


    fn refresh(&self) -> String {
        format!("REFRESH MATERIALIZED VIEW {}{}", self.sql_name(), if self.with_data { "" } else { " WITH NO DATA" })
    }
}

#[async_trait]
impl Object for MaterializedView {
    const TYPE: &'static str = "postgres_materialized_view";
    const IMPORT_ID: &'static str = "schema.name, or name for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "relation", kind: "table" };

    fn schema() -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A materialized view: a new query replaces it (running the query again); indexes on it are postgres_index resources.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("query", A::required(Type::String).force_new().describe("the SELECT whose rows it stores"))
                .attribute("columns", A::optional_computed(Type::list_of(Type::String)).describe("names for the query's columns, default the query's own"))
                .attribute("with_data", A::optional_computed(Type::Bool).describe("fill it when created (default true); false leaves it to a REFRESH"))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        relations_query(&format!("c.relkind = 'm' AND {condition}"))
    }

    fn from_row(row: &Row) -> MaterializedView {
        MaterializedView { view: View::from_row(row), with_data: row.get(7) }
    }

    fn from_value(value: &Value) -> Result<MaterializedView, ProviderError> {
        Ok(MaterializedView { view: View::from_value(value)?, with_data: value.get_bool("with_data").unwrap_or(true) })
    }

    fn to_value(&self) -> Value {
        let Value::Object(mut fields) = self.view.to_value() else { return Value::Null };
        for option in ["security_invoker", "security_barrier", "check_option"] {
            fields.remove(option);
        }
        fields.insert("with_data".into(), Value::Bool(self.with_data));
        Value::Object(fields)
    }

    fn id(&self) -> String {
        self.view.id()
    }

    fn comment(&self) -> Option<&str> {
        self.view.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("MATERIALIZED VIEW {}", self.sql_name())
    }

    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<MaterializedView>, ProviderError> {
        let Some(views) = shadow_views(catalog, &self.view, None).await? else { return Ok(None) };
        Ok(views.iter().find(|v| v.name == SHADOW).map(|seen| MaterializedView { view: self.view.with_columns_of(seen), ..self.clone() }))
    }

    fn create(&self) -> Vec<String> {
        let data = if self.with_data { "WITH DATA" } else { "WITH NO DATA" };
        with_comment(self, vec![format!("CREATE MATERIALIZED VIEW {}{} AS {} {data}", self.sql_name(), self.view.columns_sql(), trimmed_sql(&self.view.query))])
    }

    fn change(prior: &MaterializedView, desired: &MaterializedView, normalized: Option<&MaterializedView>) -> PlannedChange {
        let compare = normalized.unwrap_or(desired);
        let because = differing(&[
            ("schema", prior.view.schema != desired.view.schema),
            ("name", prior.view.name != desired.view.name),
            ("query", trimmed_sql(&prior.view.query) != trimmed_sql(&compare.view.query)),
            ("columns", !desired.view.columns.is_empty() && desired.view.columns != prior.view.columns),
        ]);
        let id = prior.id();
        if !because.is_empty() {
            let mut planned = replacement(prior, desired, because);
            planned.locking.push(format!("drops materialized view {id} and builds it again by running its query: reads of it fail until it is back (a view depending on it makes the drop fail)"));
            planned.warnings.push(format!("indexes on materialized view {id} and privileges granted on it are dropped with it: the next apply builds its postgres_index resources again"));
            return planned;
        }
        let mut operations = Vec::new();
        let mut locking = Vec::new();
        if prior.with_data != desired.with_data {
            operations.push(desired.refresh());
            locking.push(format!("refreshes materialized view {id} under an ACCESS EXCLUSIVE lock: reads of it wait while its query runs"));
        }
        let planned = MaterializedView { view: desired.view.with_columns_of(&prior.view), ..desired.clone() };
        PlannedChange { locking, ..in_place(prior, desired, &planned, operations) }
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP MATERIALIZED VIEW {}", self.sql_name())]
    }

    fn authorship(&self) -> AuthorshipRow {
        relation_row(&self.view.schema, &self.view.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn summary(query: &str, with_data: bool) -> MaterializedView {
        let value = Value::object([("name", Value::from("run_summary")), ("query", Value::from(query)), ("with_data", Value::Bool(with_data))]);
        MaterializedView::from_value(&value).unwrap()
    }

    #[test]
    fn a_new_query_replaces_and_with_data_refreshes() {
        let live = summary("SELECT 1 AS one", true);
        assert_eq!(live.create(), ["CREATE MATERIALIZED VIEW \"public\".\"run_summary\" AS SELECT 1 AS one WITH DATA"]);
        let replaced = MaterializedView::change(&live, &summary("SELECT 2 AS one", true), None);
        assert_eq!((replaced.action, replaced.replace_because), (Action::Replace, vec!["query".to_owned()]));
        let emptied = MaterializedView::change(&live, &summary("SELECT 1 AS one", false), None);
        assert_eq!(emptied.operations, ["REFRESH MATERIALIZED VIEW \"public\".\"run_summary\" WITH NO DATA"]);
        assert!(emptied.locking[0].contains("ACCESS EXCLUSIVE"));
        assert!(live.to_value().get("security_barrier").is_none());
    }
}
