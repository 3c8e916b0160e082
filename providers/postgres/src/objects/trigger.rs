//! `postgres_trigger`: a trigger on a table (or, INSTEAD OF, a view), read from `pg_trigger`
//! (internal triggers left out) with its `WHEN` as `pg_get_triggerdef` prints it. Any change
//! but a new name or table is one `CREATE OR REPLACE TRIGGER` (PostgreSQL 14+), so the trigger
//! never stops firing in between; its id is `schema.table.name`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, shadow_object, with_comment, differing, opt, replacement, required, strings, AuthorshipRow, Object};
use crate::catalog::Catalog;
use crate::ddl::{ident, literal, qualified_ref};
use crate::model::qualify;

const SHADOW: &str = "strata_shadow_trigger_table";
const TIMINGS: &[&str] = &["BEFORE", "AFTER", "INSTEAD OF"];
/// The events in the order PostgreSQL prints them.
const EVENTS: &[&str] = &["INSERT", "DELETE", "UPDATE", "TRUNCATE"];
const LEVELS: &[&str] = &["ROW", "STATEMENT"];

// `pg_trigger.tgtype` bits.
const ROW: i32 = 1;
const BEFORE: i32 = 2;
const INSTEAD: i32 = 64;
const EVENT_BITS: [(i32, &str); 4] = [(4, "INSERT"), (8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE")];

#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// The table's schema.
    pub schema: String,
    /// `schema.table`.
    pub table: String,
    pub name: String,
    pub timing: String,
    pub events: Vec<String>,
    /// The columns of `UPDATE OF`.
    pub columns: Vec<String>,
    /// `ROW` or `STATEMENT`.
    pub level: String,
    pub when: Option<String>,
    /// `schema.name` of the trigger function.
    pub function: String,
    pub arguments: Vec<String>,
    pub comment: Option<String>,
}

impl Trigger {
    fn on(&self) -> String {
        format!("{} ON {}", ident(&self.name), qualified_ref(&self.table))
    }

    fn definition(&self, verb: &str, table_sql: &str) -> String {
        let events: Vec<String> = self
            .events
            .iter()
            .map(|event| match event.as_str() {
                "UPDATE" if !self.columns.is_empty() => format!("UPDATE OF {}", self.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")),
                other => other.to_owned(),
            })
            .collect();
        let when = self.when.as_ref().map(|w| format!(" WHEN ({w})")).unwrap_or_default();
        let arguments = self.arguments.iter().map(|a| literal(a)).collect::<Vec<_>>().join(", ");
        format!(
            "{verb} TRIGGER {} {} {} ON {table_sql} FOR EACH {}{when} EXECUTE FUNCTION {}({arguments})",
            ident(&self.name),
            self.timing,
            events.join(" OR "),
            self.level,
            qualified_ref(&self.function)
        )
    }

}

/// The expression inside `WHEN (...)` of a trigger definition.
fn when_of(definition: &str) -> Option<String> {
    let (_, after) = definition.split_once(" WHEN (")?;
    let (inside, _) = after.rsplit_once(") EXECUTE ")?;
    Some(inside.to_owned())
}

/// `tgargs`: each argument ends with a NUL byte.
fn arguments_of(bytes: &[u8]) -> Vec<String> {
    bytes.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().split_last().map(|(_, args)| args.to_vec()).unwrap_or_default()
}

/// A function reference as `schema.name`: without an argument list, in `public` by default.
fn function_name(reference: &str) -> String {
    qualify(reference.split_once('(').map_or(reference, |(name, _)| name).trim(), "public")
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase()
}

#[async_trait]
impl Object for Trigger {
    const TYPE: &'static str = "postgres_trigger";
    const IMPORT_ID: &'static str = "schema.table.name (or schema.name when only one table has a trigger of that name)";
    const NAMING: crate::order::Naming = crate::order::Naming::OnTable;

    fn schema() -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A trigger: a new name or table replaces it; any other change is one CREATE OR REPLACE TRIGGER (PostgreSQL 14+).",
            block: Block::new()
                .attribute("schema", A::computed(Type::String).describe("the table's schema"))
                .attribute("table", A::required(Type::String).force_new().describe("schema.table, or table in public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("timing", A::required(Type::String).one_of_keywords(TIMINGS).describe("BEFORE, AFTER or INSTEAD OF"))
                .attribute("events", A::required(Type::list_of(Type::String)).describe("INSERT, UPDATE, DELETE or TRUNCATE"))
                .attribute("columns", A::optional(Type::list_of(Type::String)).describe("UPDATE OF these columns only"))
                .attribute("level", A::optional_computed(Type::String).one_of_keywords(LEVELS).describe("ROW or STATEMENT (FOR EACH ...; for_each is HCL's own), default ROW"))
                .attribute("when", A::optional(Type::String).describe("a condition on OLD and NEW"))
                .attribute("function", A::required(Type::String).describe("the trigger function, schema.name"))
                .attribute("arguments", A::optional(Type::list_of(Type::String)).describe("strings handed to the function as TG_ARGV"))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        format!(
            "SELECT n.nspname, c.relname, t.tgname, t.tgtype::int, \
             ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.num ORDER BY k.ord), \
             pg_get_triggerdef(t.oid, true), fn.nspname || '.' || p.proname, t.tgargs, obj_description(t.oid, 'pg_trigger') \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace \
             WHERE NOT t.tgisinternal AND {condition}"
        )
    }

    fn from_row(row: &Row) -> Trigger {
        let (schema, table): (String, String) = (row.get(0), row.get(1));
        let bits: i32 = row.get(3);
        let timing = match (bits & INSTEAD != 0, bits & BEFORE != 0) {
            (true, _) => "INSTEAD OF",
            (false, true) => "BEFORE",
            (false, false) => "AFTER",
        };
        let fired_by: Vec<&str> = EVENT_BITS.iter().filter(|(bit, _)| bits & bit != 0).map(|(_, event)| *event).collect();
        Trigger {
            table: format!("{schema}.{table}"),
            schema,
            name: row.get(2),
            timing: timing.to_owned(),
            events: EVENTS.iter().filter(|e| fired_by.contains(e)).map(|e| (*e).to_owned()).collect(),
            columns: row.get(4),
            level: if bits & ROW != 0 { "ROW" } else { "STATEMENT" }.to_owned(),
            when: when_of(&row.get::<_, String>(5)),
            function: row.get(6),
            arguments: arguments_of(&row.get::<_, Vec<u8>>(7)),
            comment: row.get(8),
        }
    }

    fn from_value(value: &Value) -> Result<Trigger, ProviderError> {
        let table = qualify(&required(value, "table", "postgres_trigger")?, "public");
        let wanted: Vec<String> = value.get_strings("events").iter().map(|e| words(e)).collect();
        if let Some(unknown) = wanted.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(ProviderError::new(format!("postgres_trigger events must be INSERT, UPDATE, DELETE or TRUNCATE, not {unknown}")));
        }
        Ok(Trigger {
            schema: table.split_once('.').map_or("public", |(schema, _)| schema).to_owned(),
            table,
            name: required(value, "name", "postgres_trigger")?,
            timing: words(&required(value, "timing", "postgres_trigger")?),
            events: EVENTS.iter().filter(|e| wanted.iter().any(|w| w == *e)).map(|e| (*e).to_owned()).collect(),
            columns: value.get_strings("columns"),
            level: value.get_str("level").map_or("ROW".to_owned(), words),
            when: value.get_str("when").map(str::to_owned),
            function: function_name(&required(value, "function", "postgres_trigger")?),
            arguments: value.get_strings("arguments"),
            comment: value.get_str("comment").map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("table", Value::from(self.table.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("timing", Value::from(self.timing.as_str())),
            ("events", strings(&self.events)),
            ("columns", if self.columns.is_empty() { Value::Null } else { strings(&self.columns) }),
            ("level", Value::from(self.level.as_str())),
            ("when", opt(self.when.as_deref())),
            ("function", Value::from(self.function.as_str())),
            ("arguments", if self.arguments.is_empty() { Value::Null } else { strings(&self.arguments) }),
            ("comment", opt(self.comment.as_deref())),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}.{}", self.table, self.name)
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("TRIGGER {}", self.on())
    }

    fn import_key(id: &str) -> String {
        match id.matches('.').count() {
            0 => format!("public.{id}"),
            _ => id.to_owned(),
        }
    }

    /// By `schema.table.name`; or by `schema.name` when one table alone has a trigger of that name.
    fn find(live: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
        if let Some(found) = live.get(key) {
            return Some(found.clone());
        }
        let (schema, name) = key.split_once('.')?;
        let mut named = live.values().filter(|t| t.get_str("schema") == Some(schema) && t.get_str("name") == Some(name));
        match (named.next(), named.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    }

    fn locks(&self) -> Vec<String> {
        vec![self.table.clone()]
    }

    /// Made on a temporary copy of its table, read back with the catalog query and rolled back:
    /// its `WHEN` as PostgreSQL prints it.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<Trigger>, ProviderError> {
        let statements = [format!("CREATE TEMPORARY TABLE {SHADOW} (LIKE {})", qualified_ref(&self.table)), self.definition("CREATE", &format!("pg_temp.{SHADOW}"))];
        let condition = format!("c.oid = to_regclass({})", literal(&format!("pg_temp.{SHADOW}")));
        let seen: Option<Trigger> = shadow_object(catalog, &statements, &condition).await?;
        Ok(seen.map(|seen| Trigger { schema: self.schema.clone(), table: self.table.clone(), comment: self.comment.clone(), ..seen }))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition("CREATE", &qualified_ref(&self.table))])
    }

    fn change(prior: &Trigger, desired: &Trigger, normalized: Option<&Trigger>) -> PlannedChange {
        let because = differing(&[("table", prior.table != desired.table), ("name", prior.name != desired.name)]);
        if !because.is_empty() {
            return replacement(prior, desired, because);
        }
        let compare = normalized.unwrap_or(desired);
        let mut operations = Vec::new();
        let definition = Trigger { comment: prior.comment.clone(), ..compare.clone() };
        if definition != *prior {
            operations.push(desired.definition("CREATE OR REPLACE", &qualified_ref(&desired.table)));
        }
        in_place(prior, desired, desired, operations)
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP TRIGGER {}", self.on())]
    }

    fn authorship(&self) -> AuthorshipRow {
        AuthorshipRow { query: "SELECT xmin::text FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2", params: vec![qualified_ref(&self.table), self.name.clone()] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn updated_at() -> Trigger {
        let value = Value::object([
            ("table", Value::from("public.runs")),
            ("name", Value::from("runs_updated_at")),
            ("timing", Value::from("before")),
            ("events", Value::List(vec![Value::from("update"), Value::from("insert")])),
            ("function", Value::from("public.touch_updated_at()")),
        ]);
        Trigger::from_value(&value).unwrap()
    }

    #[test]
    fn a_trigger_is_created_for_its_events_in_postgres_order() {
        assert_eq!(updated_at().create(), ["CREATE TRIGGER \"runs_updated_at\" BEFORE INSERT OR UPDATE ON \"public\".\"runs\" FOR EACH ROW EXECUTE FUNCTION \"public\".\"touch_updated_at\"()"]);
        assert_eq!(updated_at().id(), "public.runs.runs_updated_at");
    }

    #[test]
    fn a_changed_trigger_is_replaced_in_one_statement_and_a_renamed_one_dropped_first() {
        let live = updated_at();
        let mut when = updated_at();
        when.when = Some("(old.* IS DISTINCT FROM new.*)".into());
        assert_eq!(Trigger::change(&live, &when, None).operations, [when.definition("CREATE OR REPLACE", "\"public\".\"runs\"")]);
        let renamed = Trigger { name: "touch".into(), ..updated_at() };
        let replaced = Trigger::change(&live, &renamed, None);
        assert_eq!((replaced.action, replaced.operations[0].as_str()), (Action::Replace, "DROP TRIGGER \"runs_updated_at\" ON \"public\".\"runs\""));
        assert_eq!(Trigger::change(&live, &updated_at(), None).action, Action::NoOp);
    }

    #[test]
    fn catalog_pieces_are_decoded() {
        assert_eq!(when_of("CREATE TRIGGER t BEFORE UPDATE ON runs FOR EACH ROW WHEN ((old.status <> new.status)) EXECUTE FUNCTION f()").as_deref(), Some("(old.status <> new.status)"));
        assert_eq!(arguments_of(b"a\0b c\0"), ["a", "b c"]);
        assert_eq!(function_name("touch()"), "public.touch");
    }
}
