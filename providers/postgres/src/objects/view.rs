//! `postgres_view`: a view, its query compared as PostgreSQL prints it (`pg_get_viewdef`), the
//! desired query put into that form by a temporary shadow view.

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, with_comment, differing, opt, relation_row, replacement, required, schema_of, strings, trimmed_sql, AuthorshipRow, Object};
use crate::catalog::{query, Catalog};
use crate::ddl::{ident, literal, qualified};
use crate::normalize::shadow;

pub(super) const SHADOW: &str = "strata_shadow_view";
const CHECK_OPTIONS: &[&str] = &["local", "cascaded"];

#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub query: String,
    /// The column names; empty when the configuration leaves them to the query.
    pub columns: Vec<String>,
    /// The columns' types, as the catalog prints them (catalog and shadow only).
    column_types: Vec<String>,
    pub security_invoker: bool,
    pub security_barrier: bool,
    /// `local` or `cascaded`.
    pub check_option: Option<String>,
    pub comment: Option<String>,
    /// In a normalised view only: whether the live view of the same name has these columns'
    /// leading names and types, so `CREATE OR REPLACE VIEW` can change it (PostgreSQL only lets
    /// it add columns at the end).
    keeps_live_columns: Option<bool>,
}

impl View {
    pub(super) fn sql_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    /// `CREATE [OR REPLACE] VIEW` with every option: a replace resets those it does not name.
    fn definition(&self, verb: &str, name_sql: &str) -> String {
        let columns = self.columns_sql();
        let options: Vec<&str> = [(self.security_invoker, "security_invoker = true"), (self.security_barrier, "security_barrier = true")].into_iter().filter(|(on, _)| *on).map(|(_, option)| option).collect();
        let with = match options.is_empty() {
            true => String::new(),
            false => format!(" WITH ({})", options.join(", ")),
        };
        let check = self.check_option.as_ref().map(|o| format!(" WITH {} CHECK OPTION", o.to_uppercase())).unwrap_or_default();
        format!("{verb} VIEW {name_sql}{columns}{with} AS {}{check}", trimmed_sql(&self.query))
    }

    /// ` ("a", "b")` for the configured column names; nothing without them.
    pub(super) fn columns_sql(&self) -> String {
        match self.columns.is_empty() {
            true => String::new(),
            false => format!(" ({})", self.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")),
        }
    }


    /// `self` with the query and columns of `shadow` (as PostgreSQL prints them).
    pub(super) fn with_columns_of(&self, shadow: &View) -> View {
        View { columns: shadow.columns.clone(), column_types: shadow.column_types.clone(), query: shadow.query.clone(), keeps_live_columns: shadow.keeps_live_columns, ..self.clone() }
    }
}

/// Views or materialized views where `condition` holds: the row [`View::from_row`] reads, then
/// whether it is populated (a materialized view's data).
pub(super) fn relations_query(condition: &str) -> String {
    let attributes = |what: &str| format!("ARRAY(SELECT {what} FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)");
    format!(
        "SELECT n.nspname, c.relname, pg_get_viewdef(c.oid, true), {}, {}, coalesce(c.reloptions::text[], '{{}}'), obj_description(c.oid, 'pg_class'), c.relispopulated, pg_get_userbyid(c.relowner) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {condition}",
        attributes("a.attname::text"),
        attributes("format_type(a.atttypid, a.atttypmod)"),
    )
}

fn option_on(options: &[String], name: &str) -> bool {
    options.iter().any(|o| o.split_once('=').is_some_and(|(key, value)| key == name && ["true", "on", "1", "yes"].contains(&value.to_lowercase().as_str())))
}

#[async_trait]
impl Object for View {
    const TYPE: &'static str = "postgres_view";
    const IMPORT_ID: &'static str = "schema.name, or name for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "relation", kind: "table" };

    fn schema() -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A view: its query is compared as PostgreSQL stores it, so a query written differently that means the same is no change.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("query", A::required(Type::String).describe("the SELECT the view runs"))
                .attribute("columns", A::optional_computed(Type::list_of(Type::String)).describe("names for the query's columns, default the query's own"))
                .attribute("security_invoker", A::optional_computed(Type::Bool).describe("check permissions as the querying user (PostgreSQL 15+), default false"))
                .attribute("security_barrier", A::optional_computed(Type::Bool).describe("default false"))
                .attribute("check_option", A::optional(Type::String).one_of_keywords(CHECK_OPTIONS).describe("local or cascaded: writes through the view must satisfy its WHERE"))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        relations_query(&format!("c.relkind = 'v' AND {condition}"))
    }

    fn from_row(row: &Row) -> View {
        let options: Vec<String> = row.get(5);
        let check_option = options.iter().find_map(|o| o.strip_prefix("check_option=")).map(str::to_lowercase);
        View {
            schema: row.get(0),
            name: row.get(1),
            query: trimmed_sql(&row.get::<_, String>(2)),
            columns: row.get(3),
            column_types: row.get(4),
            security_invoker: option_on(&options, "security_invoker"),
            security_barrier: option_on(&options, "security_barrier"),
            check_option,
            comment: row.get(6),
            keeps_live_columns: None,
        }
    }

    fn from_value(value: &Value) -> Result<View, ProviderError> {
        Ok(View {
            schema: schema_of(value),
            name: required(value, "name", "postgres_view")?,
            query: required(value, "query", "postgres_view")?,
            columns: value.get_strings("columns"),
            column_types: vec![],
            security_invoker: value.get_bool("security_invoker").unwrap_or(false),
            security_barrier: value.get_bool("security_barrier").unwrap_or(false),
            check_option: value.get_str("check_option").map(str::to_lowercase),
            comment: value.get_str("comment").map(str::to_owned),
            keeps_live_columns: None,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("query", Value::from(self.query.as_str())),
            ("columns", if self.columns.is_empty() { Value::Unknown } else { strings(&self.columns) }),
            ("security_invoker", Value::Bool(self.security_invoker)),
            ("security_barrier", Value::Bool(self.security_barrier)),
            ("check_option", opt(self.check_option.as_deref())),
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
        format!("VIEW {}", self.sql_name())
    }

    /// The desired query as PostgreSQL prints it, with whether the live view keeps its columns.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<View>, ProviderError> {
        let Some(views) = shadow_views(catalog, self, Some(&self.sql_name())).await? else { return Ok(None) };
        let Some(mut seen) = views.iter().find(|v| v.name == SHADOW).cloned() else { return Ok(None) };
        let live_columns = views.iter().find(|v| v.name == self.name).map(|v| v.columns.iter().zip(&v.column_types).collect::<Vec<_>>());
        seen.keeps_live_columns = live_columns.map(|live| live.iter().zip(seen.columns.iter().zip(&seen.column_types)).filter(|(l, s)| **l == *s).count() == live.len());
        Ok(Some(self.with_columns_of(&seen)))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition("CREATE", &self.sql_name())])
    }

    fn change(prior: &View, desired: &View, normalized: Option<&View>) -> PlannedChange {
        let identity = differing(&[("schema", prior.schema != desired.schema), ("name", prior.name != desired.name)]);
        if !identity.is_empty() {
            return replaced(prior, desired, identity);
        }
        let compare = normalized.unwrap_or(desired);
        let query_differs = trimmed_sql(&prior.query) != trimmed_sql(&compare.query);
        let columns_differ = !desired.columns.is_empty() && desired.columns != prior.columns;
        let options_differ = (prior.security_invoker, prior.security_barrier, &prior.check_option) != (desired.security_invoker, desired.security_barrier, &desired.check_option);
        let mut planned = desired.clone();
        if planned.columns.is_empty() {
            planned.columns = if query_differs { compare.columns.clone() } else { prior.columns.clone() };
        }
        if !query_differs {
            planned.query = prior.query.clone();
        }
        let mut operations = Vec::new();
        let mut warnings = Vec::new();
        if query_differs || columns_differ {
            match normalized.and_then(|n| n.keeps_live_columns) {
                Some(false) => return replaced(prior, desired, differing(&[("query", query_differs), ("columns", columns_differ)])),
                Some(true) => {}
                None => warnings.push(format!(
                    "view {} reads objects this plan has yet to create, so its columns could not be compared: CREATE OR REPLACE VIEW fails if they change other than by adding columns at the end",
                    desired.id()
                )),
            }
        }
        if query_differs || columns_differ || options_differ {
            operations.push(desired.definition("CREATE OR REPLACE", &desired.sql_name()));
        }
        PlannedChange { warnings, ..in_place(prior, desired, &planned, operations) }
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP VIEW {}", self.sql_name())]
    }

    fn authorship(&self) -> AuthorshipRow {
        relation_row(&self.schema, &self.name)
    }
}

/// The query of `desired` as a temporary view (named [`SHADOW`]), read back with the relation
/// `beside` (quoted SQL) in one query, and rolled back; `None` when the query reads something that
/// is not there yet.
pub(super) async fn shadow_views(catalog: &Catalog<'_>, desired: &View, beside: Option<&str>) -> Result<Option<Vec<View>>, ProviderError> {
    let beside = beside.map(|relation| format!(", to_regclass({})", literal(relation))).unwrap_or_default();
    let condition = format!("c.relkind IN ('v', 'm') AND c.oid IN (to_regclass('pg_temp.{SHADOW}'){beside})");
    let create = View { check_option: None, security_barrier: false, security_invoker: false, ..desired.clone() }.definition("CREATE TEMPORARY", SHADOW);
    let read = |catalog| async move { query(catalog, &relations_query(&condition)).await };
    Ok(shadow(catalog, &[create], read).await?.map(|rows| rows.iter().map(View::from_row).collect()))
}

/// A view dropped and created again: no rows are lost, but queries of it fail in between and
/// what was granted on it goes with it; a view or rule of someone else's that depends on it makes
/// PostgreSQL refuse the drop (never CASCADE).
fn replaced(prior: &View, desired: &View, because: Vec<String>) -> PlannedChange {
    let id = prior.id();
    let mut planned = replacement(prior, desired, because);
    planned.locking.push(format!("drops view {id} and creates it again: queries of it fail until it is back (a view depending on it makes the drop fail)"));
    planned.warnings.push(format!("privileges granted on view {id} are dropped with it and must be granted again"));
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn view(query: &str) -> View {
        View::from_value(&Value::object([("name", Value::from("latest")), ("query", Value::from(query))])).unwrap()
    }

    #[test]
    fn a_view_is_created_with_its_options_and_comment() {
        let mut latest = view("SELECT 1 AS one;");
        latest.security_barrier = true;
        latest.check_option = Some("local".into());
        latest.comment = Some("it's new".into());
        assert_eq!(
            latest.create(),
            [
                "CREATE VIEW \"public\".\"latest\" WITH (security_barrier = true) AS SELECT 1 AS one WITH LOCAL CHECK OPTION",
                "COMMENT ON VIEW \"public\".\"latest\" IS 'it''s new'",
            ]
        );
    }

    #[test]
    fn a_query_that_keeps_the_leading_columns_is_replaced_in_place_otherwise_the_view_is_replaced() {
        let live = View { columns: vec!["id".into()], ..view("SELECT t.id FROM t") };
        let desired = view("select id, name from t");
        let mut normalized = View { query: "SELECT t.id, t.name FROM t".into(), columns: vec!["id".into(), "name".into()], keeps_live_columns: Some(true), ..desired.clone() };
        let in_place = View::change(&live, &desired, Some(&normalized));
        assert_eq!((in_place.action, in_place.operations.as_slice()), (Action::Update, ["CREATE OR REPLACE VIEW \"public\".\"latest\" AS select id, name from t".to_owned()].as_slice()));
        normalized.keeps_live_columns = Some(false);
        let replaced = View::change(&live, &desired, Some(&normalized));
        assert_eq!((replaced.action, replaced.replace_because), (Action::Replace, vec!["query".to_owned()]));
        assert_eq!(replaced.operations, ["DROP VIEW \"public\".\"latest\"", "CREATE VIEW \"public\".\"latest\" AS select id, name from t"]);
        let same = View { query: live.query.clone(), ..normalized };
        assert_eq!(View::change(&live, &desired, Some(&same)).action, Action::NoOp);
    }

    #[test]
    fn reloptions_are_read_as_flags() {
        let options = vec!["security_barrier=true".to_owned(), "check_option=local".to_owned()];
        assert!(option_on(&options, "security_barrier"));
        assert!(!option_on(&options, "security_invoker"));
    }
}
