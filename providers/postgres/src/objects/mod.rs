//! One home per kind of schema object added after tables: views, functions, triggers,
//! sequences, materialized views, domains, composite types and row-level security policies; and
//! privileges (`grant`, `default_privileges`), which implement [`Kind`] themselves: their live
//! form depends on the state (which role, which objects), not on an id. Each kind declares everything about itself in its own file, through [`Object`]:
//! what configuration it accepts, how it reads from and to the engine's values, its id and import
//! id, the one catalog query that reads every object of the kind in a database, how a desired
//! object compares with the live one (put into PostgreSQL's spelling by a shadow where that takes
//! the server), the SQL that creates, changes and drops it, and the catalog row whose `xmin`
//! proves strata created it (see `authorship`).
//!
//! The provider's dispatch points (plan, refresh, read back, delete, import, adoption, authorship,
//! schema) handle the older kinds by name and fall through to [`kind`] for every other type, so a
//! new kind is one new file and one line in [`KINDS`].

mod composite_type;
pub mod database;
pub(crate) mod default_privileges;
mod domain;
mod function;
pub(crate) mod grant;
mod grant_role;
mod materialized_view;
mod policy;
pub mod role;
mod sequence;
mod trigger;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use async_trait::async_trait;
use strata_provider_sdk::{Action, Attribute, ObjectNames, PlannedChange, ProviderError, ProviderSchema, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use crate::catalog::{query, Catalog, USER_SCHEMAS};
use crate::order::{Naming, Scope};

/// Every kind of object declared through [`Object`], in the order their catalog queries run.
pub const KINDS: &[&dyn Kind] = &[
    &Registered::<view::View>(PhantomData),
    &Registered::<function::Function>(PhantomData),
    &Registered::<trigger::Trigger>(PhantomData),
    &Registered::<sequence::Sequence>(PhantomData),
    &Registered::<materialized_view::MaterializedView>(PhantomData),
    &Registered::<domain::Domain>(PhantomData),
    &Registered::<composite_type::CompositeType>(PhantomData),
    &Registered::<policy::Policy>(PhantomData),
    &grant::GrantKind,
    &default_privileges::DefaultPrivilegesKind,
];

/// The kinds of objects that belong to the whole cluster rather than to one database's schemas:
/// roles, role memberships and databases. They are never read whole (nor listed by `inspect`):
/// each read covers only the objects a refresh, import or apply names ([`Wanted`]), in one query
/// per kind.
pub const CLUSTER_KINDS: &[&dyn Kind] = &[&role::RoleKind, &grant_role::GrantRoleKind, &database::DatabaseKind];

/// The kind behind `type_name`, when it is one of [`KINDS`] or [`CLUSTER_KINDS`].
pub fn kind(type_name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().chain(CLUSTER_KINDS).copied().find(|kind| kind.type_name() == type_name)
}

/// The [`Kind`] methods of a kind that names no object of its own (privileges): nothing to
/// import, nothing to adopt (a create run twice grants nothing more), no catalog row proving who
/// wrote it (a query with no row).
macro_rules! names_no_object {
    () => {
        fn import(&self, _live: &std::collections::BTreeMap<String, Value>, _id: &str) -> Option<Value> {
            None
        }

        fn adoption_id(&self, _planned: &Value) -> Option<String> {
            None
        }

        fn authorship(&self, _live: &Value) -> Result<super::AuthorshipRow, ProviderError> {
            Ok(super::AuthorshipRow { query: "SELECT NULL::text WHERE false", params: vec![] })
        }
    };
}
use names_no_object;

/// Whether `type_name` is a kind of privileges (`postgres_grant`, `postgres_default_privileges`):
/// their create is planned against what is live before it.
pub fn privileges_kind(type_name: &str) -> bool {
    [grant::TYPE, default_privileges::TYPE].contains(&type_name)
}

/// Adds every kind's schema and import id to the provider's.
pub fn register(schema: &mut ProviderSchema) {
    for kind in KINDS.iter().chain(CLUSTER_KINDS) {
        schema.resources.insert(kind.type_name(), kind.schema());
        schema.import_ids.insert(kind.type_name(), kind.import_id());
    }
}

/// The keys of the cluster-wide objects a read must cover, by type name.
pub type Wanted = BTreeMap<&'static str, BTreeSet<String>>;

/// The cluster-wide objects `values` (states, planned objects) name.
pub fn wanted<'a>(values: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Wanted {
    let mut wanted = Wanted::new();
    for (type_name, value) in values {
        if let Some(kind) = CLUSTER_KINDS.iter().find(|kind| kind.type_name() == type_name) {
            if let Some(key) = kind.wanted_key(value) {
                wanted.entry(kind.type_name()).or_default().insert(key);
            }
        }
    }
    wanted
}

/// The cluster-wide object an import id names.
pub fn wanted_by_import(type_name: &str, id: &str) -> Wanted {
    let mut wanted = Wanted::new();
    if let Some(kind) = CLUSTER_KINDS.iter().find(|kind| kind.type_name() == type_name) {
        wanted.entry(kind.type_name()).or_default().insert(kind.import_key(id));
    }
    wanted
}

/// The cluster-wide objects `wanted` names that exist, by type name and key: one query per kind
/// with something wanted, none otherwise.
pub async fn read_cluster(catalog: &Catalog<'_>, wanted: &Wanted) -> Result<BTreeMap<&'static str, BTreeMap<String, Value>>, ProviderError> {
    let mut all = BTreeMap::new();
    for kind in CLUSTER_KINDS {
        if let Some(keys) = wanted.get(kind.type_name()).filter(|keys| !keys.is_empty()) {
            all.insert(kind.type_name(), kind.read_keys(catalog, keys).await?);
        }
    }
    Ok(all)
}

/// The live objects of `kind` alone (those `value` names, for a cluster-wide kind), for reading
/// back what an apply just changed: one query.
pub async fn read_one(catalog: &Catalog<'_>, kind: &dyn Kind, value: &Value) -> Result<BTreeMap<&'static str, BTreeMap<String, Value>>, ProviderError> {
    if CLUSTER_KINDS.iter().any(|cluster| cluster.type_name() == kind.type_name()) {
        return read_cluster(catalog, &wanted([(kind.type_name(), value)])).await;
    }
    Ok([(kind.type_name(), kind.read_for(catalog, value).await?)].into())
}

/// `ARRAY['a', 'b']::text[]`: the keys a cluster-wide read is limited to.
pub fn text_array(keys: &BTreeSet<String>) -> String {
    format!("ARRAY[{}]::text[]", keys.iter().map(|k| crate::ddl::literal(k)).collect::<Vec<_>>().join(", "))
}

/// Every kind's live objects, by type name and then by id: one query per kind.
pub async fn read_all(catalog: &Catalog<'_>) -> Result<BTreeMap<&'static str, BTreeMap<String, Value>>, ProviderError> {
    let mut all = BTreeMap::new();
    for kind in KINDS {
        all.insert(kind.type_name(), kind.read(catalog).await?);
    }
    Ok(all)
}

/// The catalog row that proves who wrote an object: a query taking `params` as `$1`, `$2`...
/// and giving `xmin::text`.
pub struct AuthorshipRow {
    pub query: &'static str,
    pub params: Vec<String>,
}

/// The catalog row of the relation `schema.name` (views, sequences).
pub fn relation_row(schema: &str, name: &str) -> AuthorshipRow {
    AuthorshipRow {
        query: "SELECT c.xmin::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        params: vec![schema.to_owned(), name.to_owned()],
    }
}

/// The catalog row of the type `schema.name` (domains, composite types).
pub fn type_row(schema: &str, name: &str) -> AuthorshipRow {
    AuthorshipRow {
        query: "SELECT t.xmin::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2",
        params: vec![schema.to_owned(), name.to_owned()],
    }
}

/// What a kind of object declares about itself, in its typed form.
#[async_trait]
pub trait Object: Sized + Clone + Send + Sync + 'static {
    /// The resource type, `postgres_view`.
    const TYPE: &'static str;
    /// What an import id is, for the hint when one finds nothing.
    const IMPORT_ID: &'static str;
    /// The kind has an owning role: its catalog query gives it as its last column, and
    /// [`Registered`] handles `owner` for it (see [`owner_change`]).
    const OWNED: bool = false;
    /// How others name an object of the kind, for apply order (see `order`).
    const NAMING: Naming = Naming::Nothing;

    fn schema() -> ResourceSchema;
    /// The query that reads every object of the kind whose namespace (alias `n`) meets `condition`.
    fn catalog_query(condition: &str) -> String;
    fn from_row(row: &Row) -> Self;
    fn from_value(value: &Value) -> Result<Self, ProviderError>;
    fn to_value(&self) -> Value;
    /// The key of the object among its kind's live ones (and its `id`).
    fn id(&self) -> String;

    /// The key an import id names: `schema.name`, or `name` for one in `public`.
    fn import_key(id: &str) -> String {
        crate::model::qualify(id, "public")
    }

    /// The live object `key` names among `live`.
    fn find(live: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
        live.get(key).cloned()
    }

    /// `self` in PostgreSQL's spelling (read back from a shadow), or `None` when that cannot be
    /// made (it refers to something not there yet).
    async fn normalized(&self, _catalog: &Catalog<'_>) -> Result<Option<Self>, ProviderError> {
        Ok(None)
    }

    fn create(&self) -> Vec<String>;
    /// The change from `prior` (live) to `desired`, compared through `normalized` when there is one.
    fn change(prior: &Self, desired: &Self, normalized: Option<&Self>) -> PlannedChange;
    fn drop(&self) -> Vec<String>;
    /// What dropping it loses for good.
    fn drop_loses(&self) -> Vec<String> {
        vec![]
    }
    fn authorship(&self) -> AuthorshipRow;
    fn comment(&self) -> Option<&str>;
    /// The object as `COMMENT ON` names it: `VIEW "public"."latest_metrics"`.
    fn commented(&self) -> String;
    /// The relations a change of it locks (see `PlannedChange::locks`).
    fn locks(&self) -> Vec<String> {
        vec![]
    }
}

/// A kind of object as the dispatch points see it: on the engine's values.
#[async_trait]
pub trait Kind: Sync {
    fn type_name(&self) -> &'static str;
    fn import_id(&self) -> &'static str;
    fn schema(&self) -> ResourceSchema;
    /// Every live object of the kind, by id: one query. Cluster-wide kinds are never read whole
    /// (see [`Kind::read_keys`]).
    async fn read(&self, _catalog: &Catalog<'_>) -> Result<BTreeMap<String, Value>, ProviderError> {
        Ok(BTreeMap::new())
    }
    /// The live object behind `state` among `live`.
    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError>;
    /// The live object an import id names among `live`.
    fn import(&self, live: &BTreeMap<String, Value>, id: &str) -> Option<Value> {
        live.get(&self.import_key(id)).cloned()
    }
    /// The import id of the object a create of `planned` makes.
    fn adoption_id(&self, planned: &Value) -> Option<String>;
    /// `catalog` is the plan session, there whenever there is a live object to compare with.
    async fn plan(&self, catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError>;
    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError>;
    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError>;
    fn authorship(&self, live: &Value) -> Result<AuthorshipRow, ProviderError>;

    /// For a cluster-wide kind: the key of the object `value` (a state or a planned object) names,
    /// which a read must cover. `None` for kinds read whole.
    fn wanted_key(&self, _value: &Value) -> Option<String> {
        None
    }

    /// For a cluster-wide kind: the key an import id names.
    fn import_key(&self, id: &str) -> String {
        id.to_owned()
    }

    /// For a cluster-wide kind: the live objects among `keys`, by key, in one query.
    async fn read_keys(&self, _catalog: &Catalog<'_>, _keys: &BTreeSet<String>) -> Result<BTreeMap<String, Value>, ProviderError> {
        Ok(BTreeMap::new())
    }

    /// The live objects of the kind that `value` may be among, for planning or reading back that
    /// one object: by default every object of the kind (`read`).
    async fn read_for(&self, catalog: &Catalog<'_>, _value: &Value) -> Result<BTreeMap<String, Value>, ProviderError> {
        self.read(catalog).await
    }

    /// What an object valued `value` makes and names by literal name, for apply order.
    fn object_names(&self, _scope: &Scope<'_>, _value: &Value) -> ObjectNames {
        ObjectNames::default()
    }
}

/// An [`Object`] as a [`Kind`].
pub struct Registered<T>(PhantomData<T>);

#[async_trait]
impl<T: Object> Kind for Registered<T> {
    fn type_name(&self) -> &'static str {
        T::TYPE
    }

    fn import_id(&self) -> &'static str {
        T::IMPORT_ID
    }

    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        let mut names = T::NAMING.names(scope, value);
        if T::OWNED {
            names.uses.extend(crate::order::owner(scope, value));
        }
        names
    }

    fn schema(&self) -> ResourceSchema {
        let mut schema = T::schema();
        if T::OWNED {
            schema.block = schema.block.attribute("owner", Attribute::optional_computed(Type::String).describe("the owning role; unset keeps the live owner"));
        }
        schema
    }

    async fn read(&self, catalog: &Catalog<'_>) -> Result<BTreeMap<String, Value>, ProviderError> {
        let rows = query(catalog, &T::catalog_query(USER_SCHEMAS)).await?;
        let read = |row: &Row| {
            let object = T::from_row(row);
            let mut value = object.to_value();
            if T::OWNED && !row.is_empty() {
                value.set("owner", opt(row.get::<_, Option<String>>(row.len() - 1).as_deref()));
            }
            (object.id(), value)
        };
        Ok(rows.iter().map(read).collect())
    }

    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(T::find(live, &T::from_value(state)?.id()))
    }

    fn import(&self, live: &BTreeMap<String, Value>, id: &str) -> Option<Value> {
        T::find(live, &T::import_key(id))
    }

    /// Computed attributes still unknown (a view's columns) do not matter; a part of the id that is
    /// still unknown names nothing yet.
    fn adoption_id(&self, planned: &Value) -> Option<String> {
        let id = T::from_value(&planned.unknowns_to_null()).ok()?.id();
        (planned.get_str("id") == Some(id.as_str())).then_some(id)
    }

    async fn plan(&self, catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let wanted_owner = desired.get_str("owner").filter(|_| T::OWNED).map(str::to_owned);
        let live_owner = prior.and_then(|p| p.get_str("owner")).filter(|_| T::OWNED).map(str::to_owned);
        let desired = T::from_value(desired)?;
        let Some(prior) = prior.map(T::from_value).transpose()? else {
            let created = PlannedChange { operations: desired.create(), locks: desired.locks(), ..PlannedChange::new(Action::Create, desired.to_value()) };
            return Ok(owner_change::<T>(created, &desired, None, wanted_owner.as_deref()));
        };
        let normalized = match catalog {
            Some(catalog) => desired.normalized(catalog).await?,
            None => None,
        };
        let mut locks = prior.locks();
        locks.extend(desired.locks().into_iter().filter(|l| !locks.contains(l)).collect::<Vec<_>>());
        let changed = T::change(&prior, &desired, normalized.as_ref());
        Ok(PlannedChange { locks, ..owner_change::<T>(changed, &desired, live_owner.as_deref(), wanted_owner.as_deref()) })
    }

    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let object = T::from_value(prior)?;
        Ok(PlannedChange { operations: object.drop(), data_loss: object.drop_loses(), locks: object.locks(), ..PlannedChange::new(Action::Delete, Value::Null) })
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(T::from_value(prior)?.drop())
    }

    fn authorship(&self, live: &Value) -> Result<AuthorshipRow, ProviderError> {
        Ok(T::from_value(live)?.authorship())
    }
}

/// `planned` (the change of `desired`, compared without owners) with the owner an [`Object::OWNED`]
/// kind's configuration sets: `ALTER ... OWNER TO` when it differs from the live one (`live`), or
/// after a re-creation (which PostgreSQL gives to the applying role) the owner it had. Unset, the
/// owner is not compared and the live one is kept; for a create, it is known once it exists.
pub fn owner_change<T: Object>(mut planned: PlannedChange, desired: &T, live: Option<&str>, wanted: Option<&str>) -> PlannedChange {
    if !T::OWNED {
        return planned;
    }
    let owner = wanted.or(live);
    let alter = |owner: &str| format!("ALTER {} OWNER TO {}", desired.commented(), crate::ddl::ident(owner));
    match (planned.action, owner) {
        (Action::Create | Action::Replace, Some(owner)) => planned.operations.push(alter(owner)),
        (Action::NoOp | Action::Update, Some(owner)) if wanted.is_some() && wanted != live => {
            planned.operations.push(alter(owner));
            planned.action = Action::Update;
        }
        _ => {}
    }
    if matches!(planned.planned, Value::Object(_)) {
        planned.planned.set("owner", owner.map_or(Value::Unknown, Value::from));
    }
    planned
}

/// The object of kind `T` that `statements` make as a shadow (in `pg_temp`), picked by `condition`
/// from the kind's catalog query, read inside a transaction that is rolled back: the object in
/// PostgreSQL's spelling; `None` when it refers to something not there yet.
pub async fn shadow_object<T: Object>(catalog: &Catalog<'_>, statements: &[String], condition: &str) -> Result<Option<T>, ProviderError> {
    let read = |catalog| async move { query(catalog, &T::catalog_query(condition)).await };
    Ok(crate::normalize::shadow(catalog, statements, read).await?.and_then(|rows| rows.first().map(T::from_row)))
}

/// The condition that picks the shadow type (or function) named `name` in this session's `pg_temp`.
pub fn in_temp_schema(name_column: &str, name: &str) -> String {
    format!("n.oid = pg_my_temp_schema() AND {name_column} = {}", crate::ddl::literal(name))
}

/// A change: `action` to `planned` by `operations`.
pub fn change(action: Action, planned: Value, operations: Vec<String>) -> PlannedChange {
    PlannedChange { operations, ..PlannedChange::new(action, planned) }
}

/// A replacement of `prior` by `desired`, because of the attributes `because`.
pub fn replacement<T: Object>(prior: &T, desired: &T, because: Vec<String>) -> PlannedChange {
    let mut operations = prior.drop();
    operations.extend(desired.create());
    PlannedChange { replace_because: because, ..change(Action::Replace, desired.to_value(), operations) }
}

/// The names of the fields whose values differ, in the order given.
pub fn differing(fields: &[(&str, bool)]) -> Vec<String> {
    fields.iter().filter(|(_, differs)| *differs).map(|(name, _)| (*name).to_owned()).collect()
}

/// `COMMENT ON ... IS ...` giving `object` its comment (NULL removes it).
fn comment_sql<T: Object>(object: &T) -> String {
    format!("COMMENT ON {} IS {}", object.commented(), object.comment().map_or("NULL".to_owned(), crate::ddl::literal))
}

/// `create`, then the statement that comments `object` when it has a comment.
pub fn with_comment<T: Object>(object: &T, mut create: Vec<String>) -> Vec<String> {
    create.extend(object.comment().is_some().then(|| comment_sql(object)));
    create
}

/// An in-place change from `prior` to `desired` by `operations` and, when the comment changes,
/// the statement that sets it; `planned` is the object as it will be. No change when there is
/// nothing to run.
pub fn in_place<T: Object>(prior: &T, desired: &T, planned: &T, mut operations: Vec<String>) -> PlannedChange {
    if prior.comment() != desired.comment() {
        operations.push(comment_sql(desired));
    }
    match operations.is_empty() {
        true => change(Action::NoOp, prior.to_value(), vec![]),
        false => change(Action::Update, planned.to_value(), operations),
    }
}

/// A string-or-null value.
pub fn opt(text: Option<&str>) -> Value {
    text.map_or(Value::Null, Value::from)
}

/// A list of strings.
pub fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// A required string attribute.
pub fn required(value: &Value, key: &str, what: &str) -> Result<String, ProviderError> {
    value.get_str(key).map(str::to_owned).ok_or_else(|| ProviderError::new(format!("{what} needs \"{key}\"")))
}

/// The `schema` attribute, `public` when unset.
pub fn schema_of(value: &Value) -> String {
    value.get_str("schema").unwrap_or("public").to_owned()
}

/// SQL text the user wrote, without the surrounding whitespace and trailing semicolons that do
/// not change what it means.
pub fn trimmed_sql(text: &str) -> String {
    text.trim().trim_end_matches(';').trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_what_a_create_makes_so_an_interrupted_one_can_be_adopted() {
        let mut planned = Value::object([("name", Value::from("latest")), ("query", Value::from("SELECT 1")), ("body", Value::from("BEGIN END")), ("table", Value::from("runs"))]);
        planned.set("timing", Value::from("AFTER"));
        planned.set("events", Value::List(vec![Value::from("INSERT")]));
        planned.set("function", Value::from("f"));
        planned.set("type", Value::from("integer"));
        planned.set("attribute", Value::List(vec![Value::object([("name", Value::from("a")), ("type", Value::from("integer"))])]));
        // Grants name no object of their own: nothing to adopt.
        for kind in KINDS.iter().filter(|kind| !privileges_kind(kind.type_name())) {
            let Ok(create) = futures::executor::block_on(kind.plan(None, None, &planned)) else { panic!("{} plans no create", kind.type_name()) };
            let id = kind.adoption_id(&create.planned);
            assert!(id.as_deref().is_some_and(|id| id.contains("latest")), "{}: {id:?} from {:?}", kind.type_name(), create.planned);
        }
        let mut unknown_name = planned.clone();
        unknown_name.set("name", Value::Unknown);
        assert_eq!(kind("postgres_view").and_then(|view| view.adoption_id(&unknown_name)), None);
    }

    #[test]
    fn an_owner_is_compared_only_when_configured() {
        let view = kind("postgres_view").unwrap();
        let live = Value::object([("name", Value::from("latest")), ("query", Value::from("SELECT 1")), ("owner", Value::from("app"))]);
        let plan = |desired: &Value| futures::executor::block_on(view.plan(None, Some(&live), desired)).unwrap();
        let unset = plan(&Value::object([("name", Value::from("latest")), ("query", Value::from("SELECT 1"))]));
        assert_eq!((unset.action, unset.planned.get_str("owner")), (Action::NoOp, Some("app")));
        let owned = plan(&Value::object([("name", Value::from("latest")), ("query", Value::from("SELECT 1")), ("owner", Value::from("ml"))]));
        assert_eq!(owned.operations, ["ALTER VIEW \"public\".\"latest\" OWNER TO \"ml\""]);
        assert!(view.schema().block.attributes.contains_key("owner") && !kind("postgres_policy").unwrap().schema().block.attributes.contains_key("owner"));
        // Created without an owner: PostgreSQL's choice, known once it exists; re-created: the owner it had.
        let created = futures::executor::block_on(view.plan(None, None, &Value::object([("name", Value::from("latest")), ("query", Value::from("SELECT 1"))]))).unwrap();
        assert_eq!((created.operations.len(), created.planned.get("owner")), (1, Some(&Value::Unknown)));
        let sequence = kind("postgres_sequence").unwrap();
        let live = Value::object([("name", Value::from("n")), ("owner", Value::from("app"))]);
        let renamed = futures::executor::block_on(sequence.plan(None, Some(&live), &Value::object([("name", Value::from("m"))]))).unwrap();
        assert_eq!((renamed.action, renamed.operations.last().map(String::as_str)), (Action::Replace, Some("ALTER SEQUENCE \"public\".\"m\" OWNER TO \"app\"")));
    }
}
