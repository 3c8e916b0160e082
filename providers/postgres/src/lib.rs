//! The PostgreSQL provider of strata: schemas, extensions, enums, tables and indexes; and, one
//! file per kind in `objects`, views, functions, triggers, sequences, materialized views, domains
//! and composite types.
//!
//! Owns connecting to a server (`config`), what it accepts (`schema`), reading live objects from
//! `pg_catalog` (`catalog`), comparing them with desired ones in PostgreSQL's own spelling
//! (`normalize`, `diff`) and the SQL that changes them (`ddl`). It knows nothing of the CLI, HCL or
//! the state file, and never touches an object it was not handed.

mod authorship;
mod backup;
mod casts;
mod catalog;
mod community;
mod config;
mod ddl;
mod dependents;
mod diff;
mod guards;
mod import;
mod inspect;
mod invalid_index;
mod lock_holders;
mod locks;
mod model;
mod normalize;
mod objects;
mod order;
mod partitions;
mod preflight;
mod reconnect;
mod renames;
mod schema;
mod security;
mod type_syntax;
mod unmanaged;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use strata_provider_sdk::{Action, ApplyFailure, ApplyRequest, Authorship, Declared, InspectScope, Inspection, ObjectNames, PlanRequest, PlannedChange, Proof, Provider, ProviderError, ProviderSchema, RefreshRequest, RestoreRequest, Value};
use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::catalog::{read_tables, Catalog, Scope, Snapshot};
use crate::config::{describe_error, ConnSettings};
use crate::diff::TableFacts;
use crate::guards::Guards;
use crate::model::{Enum, Extension, Index, Schema, Table, TableIndex};

pub use catalog::SNAPSHOT_QUERIES;
pub use community::CommunityProvider;

pub struct PostgresProvider {
    schema: ProviderSchema,
    settings: std::sync::OnceLock<ConnSettings>,
    /// `lock_timeout` and `backup_before_drop`; the defaults until configured.
    guards: std::sync::OnceLock<Guards>,
    /// The connection refresh and plan use; applies take their own so they can run concurrently.
    session: Mutex<Option<Client>>,
    /// Apply connections whose last change committed, for the next applies to reuse (opening one,
    /// with TLS, costs more than most changes).
    idle: std::sync::Mutex<Vec<Client>>,
    /// Catalog queries run so far (refresh must cost the same however many objects there are).
    queries: AtomicUsize,
    /// The tables' renames this run planned, for the indexes on them.
    renames: renames::PlannedRenames,
    /// The views this run's refresh was handed: the only ones a table change may drop and
    /// re-create (none before a refresh, so such a change fails closed).
    managed_views: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// The (object, role) pairs the `postgres_grant` resources of this run declare (from state at
    /// refresh, from configuration as each is planned): an exclusive grant never revokes them.
    declared_grants: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Roles' live password verifiers and desired passwords, in this process' memory only.
    passwords: objects::role::Passwords,
    /// Who can read which table, as this run's refresh saw it (see `security`).
    exposure: std::sync::Mutex<security::Exposure>,
    /// One permit per apply connection `max_connections` leaves beside the session's.
    apply_slots: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl Default for PostgresProvider {
    fn default() -> Self {
        PostgresProvider::new()
    }
}

impl PostgresProvider {
    pub fn new() -> PostgresProvider {
        config::prepare_tls_in_background();
        PostgresProvider {
            schema: schema::provider_schema(),
            settings: std::sync::OnceLock::new(),
            guards: std::sync::OnceLock::new(),
            session: Mutex::new(None),
            idle: Default::default(),
            queries: AtomicUsize::new(0),
            renames: Default::default(),
            managed_views: Default::default(),
            declared_grants: Default::default(),
            passwords: Default::default(),
            exposure: Default::default(),
            apply_slots: Default::default(),
        }
    }

    /// How many catalog queries this provider has run.
    pub fn catalog_queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    fn catalog<'a>(&'a self, client: &'a Client) -> Catalog<'a> {
        Catalog { client, queries: &self.queries, passwords: &self.passwords, superuser: self.settings.get().is_none_or(|s| s.superuser) }
    }

    fn settings(&self) -> Result<&ConnSettings, ProviderError> {
        self.settings.get().ok_or_else(|| ProviderError::new("the postgres provider was used before it was configured"))
    }

    fn guards(&self) -> Guards {
        self.guards.get().cloned().unwrap_or_default()
    }

    /// Waits for an apply connection's turn under `max_connections`: the permit is held while the
    /// change runs.
    async fn apply_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.apply_slots.get()?.clone().acquire_owned().await.ok()
    }

    /// An idle apply connection that is still open, if there is one.
    fn reuse_connection(&self) -> Option<Client> {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::iter::from_fn(|| idle.pop()).find(|client| !client.is_closed())
    }

    /// Keeps an apply connection for reuse: only one whose change committed (no transaction open).
    fn keep_connection(&self, client: Client) {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(client);
    }

    async fn session(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Client>>, ProviderError> {
        let mut guard = self.session.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(self.settings()?.connect().await?);
        }
        Ok(guard)
    }
}

/// `desired` with a `database` argument naming `original` pointed at its copy `restored`.
fn in_copy(desired: &Value, original: &str, restored: &str) -> Value {
    let mut desired = desired.clone();
    if desired.get_str("database") == Some(original) {
        desired.set("database", Value::string(restored));
    }
    desired
}

impl PostgresProvider {
    /// A provider for another database (a drill's restored copy), configured already.
    fn against(settings: ConnSettings) -> PostgresProvider {
        let provider = PostgresProvider::new();
        let _ = provider.settings.set(settings);
        provider
    }
}

/// What a run would change were `declared` (the configuration of the database `original` names)
/// applied to its copy `restored` on the same server: a line per resource it would not leave as it
/// is, with the first step it would take. A restore drill's `schema_matches` check of the schema
/// it restored. A `database` argument naming the original stands for the copy.
pub(crate) async fn plan_against(original: &ConnSettings, restored: &str, declared: &[Declared]) -> Result<Vec<String>, ProviderError> {
    let provider = PostgresProvider::against(original.with_database(restored));
    let declared: Vec<Declared> = declared.iter().map(|d| Declared { desired: in_copy(&d.desired, &original.database, restored), ..d.clone() }).collect();
    let declared = declared.as_slice();
    let requests: Vec<RefreshRequest> = declared.iter().map(|d| RefreshRequest { type_name: d.type_name.clone(), state: d.desired.clone() }).collect();
    let live = provider.refresh(&requests).await?;
    let mut changes = Vec::new();
    for (resource, live) in declared.iter().zip(live) {
        let planned = provider.plan(&PlanRequest { type_name: resource.type_name.clone(), prior: live, desired: resource.desired.clone() }).await?;
        let what = match planned.action {
            Action::NoOp => continue,
            Action::Create => "created: the backup does not hold it",
            Action::Replace => "replaced",
            _ => "updated",
        };
        let first_step = planned.operations.first().map(|step| format!(" ({step})")).unwrap_or_default();
        changes.push(format!("{} would be {what}{first_step}", resource.address));
    }
    Ok(changes)
}

#[async_trait]
impl Provider for PostgresProvider {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, config: &Value) -> Result<(), ProviderError> {
        let guards = Guards::from_config(config)?;
        let settings = ConnSettings::from_config(config)?.with_lock_timeout(&guards.lock_timeout);
        let _ = self.guards.set(guards);
        let client = settings.connect().await?;
        if let Some(expected) = &settings.expected_version {
            config::check_expected_version(&client, expected).await?;
        }
        let _ = self.apply_slots.set(std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections.saturating_sub(1).max(1))));
        let _ = self.settings.set(settings);
        *self.session.lock().await = Some(client);
        Ok(())
    }

    async fn refresh(&self, requests: &[RefreshRequest]) -> Result<Vec<Option<Value>>, ProviderError> {
        // Backup policies and drills read their destinations, not the catalog.
        let snapshot = match requests.iter().any(|r| !backup::handles(&r.type_name)) {
            true => Some(reconnect::snapshot(self, &objects::wanted(requests.iter().map(|r| (r.type_name.as_str(), &r.state)))).await?),
            false => None,
        };
        let standalone = unmanaged::standalone_indexes(requests)?;
        *self.managed_views.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = dependents::managed_views(requests.iter().map(|r| (r.type_name.as_str(), &r.state)));
        *self.declared_grants.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = objects::grant::declared(requests.iter().map(|r| (r.type_name.as_str(), &r.state)));
        if let Some(snapshot) = &snapshot {
            *self.exposure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = security::Exposure::seen(snapshot, requests);
        }
        let mut found = Vec::with_capacity(requests.len());
        for request in requests {
            found.push(match &snapshot {
                _ if backup::handles(&request.type_name) => backup::refresh(&request.type_name, &request.state).await?,
                Some(snapshot) => find_live(snapshot, &request.type_name, &request.state)?.map(|live| self.without_declared_grants(&request.type_name, &request.state, without_indexes(live, &standalone))),
                None => return Err(unknown_type(&request.type_name)),
            });
        }
        Ok(found)
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        import::find(&reconnect::snapshot(self, &objects::wanted_by_import(type_name, id)).await?, type_name, id)
    }

    fn adoption_id(&self, type_name: &str, planned: &Value) -> Option<String> {
        import::adoption_id(type_name, planned)
    }

    fn object_names(&self, type_name: &str, value: &Value) -> ObjectNames {
        let (server, database) = self.settings.get().map(|s| (format!("{}:{}", s.host, s.port), s.database.as_str())).unwrap_or_default();
        let scope = order::Scope { server: &server, database };
        order::of_older_kind(&scope, type_name, value).or_else(|| objects::kind(type_name).map(|kind| kind.object_names(&scope, value))).unwrap_or_default()
    }

    async fn inspect(&self, scope: &InspectScope) -> Result<Inspection, ProviderError> {
        let snapshot = reconnect::snapshot(self, &objects::Wanted::new()).await?;
        let session = self.session().await?;
        inspect::inspect(&self.catalog(session.as_ref().ok_or_else(no_connection)?), &snapshot, scope).await
    }

    /// The live object's catalog row was written by a transaction the create recorded (see `authorship`).
    async fn authored(&self, type_name: &str, live: &Value, proof: &Proof) -> Result<bool, ProviderError> {
        let session = self.session().await?;
        authorship::written_by(session.as_ref().ok_or_else(no_connection)?, type_name, live, &proof.marks).await
    }

    async fn unmanaged(&self, requests: &[RefreshRequest]) -> Result<Vec<Vec<String>>, ProviderError> {
        unmanaged::describe(&reconnect::snapshot(self, &objects::Wanted::new()).await?, requests)
    }

    async fn plan(&self, request: &PlanRequest) -> Result<PlannedChange, ProviderError> {
        self.plan_for(request, false).await
    }

    async fn plan_delete(&self, type_name: &str, prior: &Value) -> Result<PlannedChange, ProviderError> {
        if backup::handles(type_name) {
            return Ok(backup::plan_delete(type_name, prior));
        }
        match type_name {
            "postgres_database" => objects::database::refuse_dropping_connected(prior, self.settings.get().map(|s| s.database.as_str()))?,
            "postgres_role" => objects::role::refuse_dropping_connected(prior, self.settings.get().map(|s| s.user.as_str()))?,
            _ => {}
        }
        let planned = diff::plan_delete(type_name, prior, &self.guards())?;
        let locks = match type_name {
            "postgres_table" => locks::of_tables([&Table::from_value(prior)?]),
            "postgres_index" => locks::of_indexes([&TableIndex::from_value(prior)?]),
            _ => planned.locks.clone(),
        };
        Ok(PlannedChange { locks, ..planned })
    }

    async fn review(&self, planned: &[Declared]) -> Result<Vec<Vec<String>>, ProviderError> {
        Ok(security::review(planned, &self.exposure.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
    }

    fn call_counts(&self) -> Vec<(String, u64)> {
        match self.catalog_queries() {
            0 => vec![],
            queries => vec![("pg_catalog queries".to_owned(), queries as u64)],
        }
    }

    async fn restore(&self, request: &RestoreRequest) -> Result<Vec<String>, ProviderError> {
        backup::restore(self.settings()?, request).await
    }

    async fn apply(&self, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
        if backup::handles(&request.type_name) {
            return backup::apply(self.settings()?, request).await;
        }
        reconnect::apply(self, request).await
    }
}

impl PostgresProvider {
    /// The plan of `request`; `reveal` (apply's own re-plan, never shown) gives a role's password
    /// as the verifier apply sends instead of `(sensitive value)`.
    async fn plan_for(&self, request: &PlanRequest, reveal: bool) -> Result<PlannedChange, ProviderError> {
        if backup::handles(&request.type_name) {
            return backup::plan(&request.type_name, request.prior.as_ref(), &request.desired);
        }
        if !request.desired.is_wholly_known() {
            return Ok(plan_with_unknowns(request));
        }
        if objects::privileges_kind(&request.type_name) {
            let role = request.desired.get_str("role").unwrap_or_default();
            self.refuse_other_database(&request.type_name, &format!("for role {role}"), request.desired.get_str("database"))?;
        }
        let declared_prior;
        let mut prior = request.prior.as_ref();
        if request.type_name == objects::grant::TYPE {
            self.declared_grants.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(objects::grant::declared([(request.type_name.as_str(), &request.desired)].into_iter()));
            declared_prior = prior.map(|p| self.without_declared_grants(&request.type_name, &request.desired, p.clone()));
            prior = declared_prior.as_ref();
        }
        let guards = self.guards();
        let planned = match request.type_name.as_str() {
            "postgres_table" => {
                let mut desired = Table::from_value(&request.desired)?;
                let method_warnings = self.index_methods(desired.indexes.iter()).await?;
                partitions::check(&desired)?;
                normalize::implied_not_null(&mut desired);
                let prior = prior.map(Table::from_value).transpose()?.map(|live| partitions::as_declared(live, &desired));
                // Only a comparison with a live table needs the server; a create is planned offline.
                let (normalized, facts) = match &prior {
                    Some(live) => {
                        let session = self.session().await?;
                        let catalog = self.catalog(session.as_ref().ok_or_else(no_connection)?);
                        normalize::partition_bound(&catalog, live, &mut desired).await?;
                        (normalize::shadow_table(&catalog, &desired).await?, preflight::table_facts(&catalog, live, &desired).await?)
                    }
                    None => (None, TableFacts::default()),
                };
                let planned = diff::table(prior.as_ref(), &desired, normalized.as_ref(), &guards, &facts);
                let planned = match &prior {
                    Some(live) if planned.action.is_change() => self.around_dependent_views(live, &desired, planned).await?,
                    _ => planned,
                };
                if let Some(live) = &prior {
                    self.renames.record(live, &desired, diff::renamed_columns(live, &desired));
                }
                let warnings = planned.warnings.into_iter().chain(method_warnings).collect();
                PlannedChange { locks: locks::of_tables(prior.iter().chain([&desired])), warnings, ..planned }
            }
            "postgres_index" => {
                let desired = TableIndex::from_value(&request.desired)?;
                let method_warnings = self.index_methods([&desired.index]).await?;
                let prior = prior.map(TableIndex::from_value).transpose()?;
                let (prior, normalized) = match prior {
                    Some(live) => {
                        let (live, normalized) = self.index_to_compare(live, &desired).await?;
                        (Some(live), normalized)
                    }
                    None => (None, None),
                };
                let parameters_change = prior.as_ref().is_some_and(|live| live.index.with != normalized.as_ref().unwrap_or(&desired).index.with);
                let partitioned = match parameters_change && self.settings.get().is_some() {
                    true => preflight::is_partitioned(&self.catalog(self.session().await?.as_ref().ok_or_else(no_connection)?), &desired.table).await?,
                    false => false,
                };
                let mut planned = diff::table_index(prior.as_ref(), &desired, normalized.as_ref(), partitioned);
                if planned.action.is_change() && self.settings.get().is_some() {
                    planned.locking.extend(preflight::index_build_lock(&self.catalog(self.session().await?.as_ref().ok_or_else(no_connection)?), &desired).await?);
                }
                planned.locks = locks::of_indexes(prior.iter().chain([&desired]));
                planned.warnings.extend(method_warnings);
                planned
            }
            "postgres_enum" => diff::enumeration(prior.map(Enum::from_value).transpose()?.as_ref(), &Enum::from_value(&request.desired)?),
            "postgres_schema" => {
                let desired = Schema::from_value(&request.desired)?;
                self.refuse_other_database("postgres_schema", &desired.name, desired.database.as_deref())?;
                diff::schema(prior.map(Schema::from_value).transpose()?.as_ref(), &desired)
            }
            "postgres_extension" => diff::extension(prior.map(Extension::from_value).transpose()?.as_ref(), &Extension::from_value(&request.desired)?),
            "postgres_role" => self.plan_role(None, prior, &request.desired, reveal).await?,
            "postgres_database" => objects::database::plan(prior, &request.desired, self.settings.get().map(|s| s.database.as_str()))?,
            other if objects::privileges_kind(other) && self.settings.get().is_some() && (prior.is_none() || becomes_exclusive(prior, &request.desired)) => self.plan_privileges_live(other, prior.is_none(), &request.desired).await?,
            other => self.plan_object(other, prior, &request.desired).await?,
        };
        Ok(guards.sequence_change(planned))
    }

    /// A role's change, its password compared with the live verifier this process read (see
    /// `objects::role`); over `client` when given (apply's connection), else the plan session.
    async fn plan_role(&self, client: Option<&Client>, prior: Option<&Value>, desired: &Value, reveal: bool) -> Result<PlannedChange, ProviderError> {
        if let Some(client) = client {
            return objects::role::plan(Some(&self.catalog(client)), &self.passwords, prior, desired, reveal).await;
        }
        if prior.is_none() || self.settings.get().is_none() {
            return objects::role::plan(None, &self.passwords, prior, desired, reveal).await;
        }
        let session = self.session().await?;
        objects::role::plan(Some(&self.catalog(session.as_ref().ok_or_else(no_connection)?)), &self.passwords, prior, desired, reveal).await
    }

    /// A resource's `database` must be the one the provider is connected to (unchecked until the
    /// provider is configured).
    fn refuse_other_database(&self, type_name: &str, name: &str, database: Option<&str>) -> Result<(), ProviderError> {
        match (database, self.settings.get()) {
            (Some(wanted), Some(settings)) if wanted != settings.database => Err(ProviderError::new(format!(
                "{type_name} {name}: database \"{wanted}\" is not the database the provider is connected to (\"{}\")",
                settings.database
            ))
            .with_hint("a provider manages one database: point database at it, or use a provider block (alias) for the other database")),
            _ => Ok(()),
        }
    }

    /// The change of an object of one of the kinds in `objects`: compared over the plan session
    /// when there is a live one.
    async fn plan_object(&self, type_name: &str, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let kind = object_kind(type_name)?;
        if prior.is_none() {
            return kind.plan(None, None, desired).await;
        }
        let session = self.session().await?;
        kind.plan(Some(&self.catalog(session.as_ref().ok_or_else(no_connection)?)), prior, desired).await
    }

    /// The create of a grant or default privileges (or a grant becoming exclusive), against what is
    /// live before it (one read of the kind's catalog query), the state being `desired`: what is
    /// already held is not granted again, an exclusive grant revokes the others' at once, and an
    /// object not there yet holds nothing.
    async fn plan_privileges_live(&self, type_name: &str, creating: bool, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let kind = object_kind(type_name)?;
        let live = {
            let session = self.session().await?;
            let catalog = self.catalog(session.as_ref().ok_or_else(no_connection)?);
            let all = kind.read_for(&catalog, desired).await?;
            kind.find_live(&all, desired)?.map(|live| self.without_declared_grants(type_name, desired, live))
        };
        match (type_name, live) {
            (_, Some(live)) if !creating => kind.plan(None, Some(&live), desired).await,
            (objects::grant::TYPE, Some(live)) => objects::grant::plan_create(desired, &live),
            (_, Some(live)) => objects::default_privileges::plan_create(desired, &live),
            (_, None) => kind.plan(None, None, desired).await,
        }
    }

    /// One attempt at a change over `client`; `reconnect` retries it when the connection drops or
    /// it deadlocks.
    async fn apply_over(&self, client: &Client, request: &ApplyRequest) -> Result<Value, Failed> {
        let guards = self.guards();
        // Unknown parts of the planned object are the ones this provider computes.
        let planned = request.planned.unknowns_to_null();
        let statements = match request.action {
            Action::Delete => {
                let prior = request.prior.as_ref().ok_or_else(|| ProviderError::new("nothing to delete"))?;
                diff::drop_statements(&request.type_name, prior, &guards)?
            }
            _ => {
                let plan_request = PlanRequest { type_name: request.type_name.clone(), prior: request.prior.clone(), desired: planned.clone() };
                match request.type_name.as_str() {
                    "postgres_role" => guards.sequence(self.plan_role(Some(client), request.prior.as_ref(), &planned, true).await?.operations),
                    _ => self.plan_for(&plan_request, true).await?.operations,
                }
            }
        };
        let creating = match request.action {
            Action::Create => Some(Creating { authorship: request.authorship.as_ref(), import_id: import::adoption_id(&request.type_name, &planned) }),
            _ => None,
        };
        let build = self.concurrent_build(client, request, &planned).await?;
        if let Err(mut failed) = run_statements(client, &statements, &guards.lock_timeout, creating.as_ref()).await {
            if guards::drop_unvalidated(client, &statements).await {
                failed.failure.error.hint = Some("the rest of the change was kept and the constraints added NOT VALID were dropped again: fix the rows that break them, then apply again".into());
                failed.failure.partial = read_back(&self.catalog(client), &request.type_name, &planned).await.ok();
            }
            if let Some(index) = &build {
                invalid_index::drop_left_behind(client, index).await;
            }
            return Err(failed);
        }
        if request.action == Action::Delete {
            return Ok(Value::Null);
        }
        read_back(&self.catalog(client), &request.type_name, &planned).await.map(|live| self.without_declared_grants(&request.type_name, &planned, live)).map_err(Failed::from)
    }

    /// A live `postgres_grant` (of `state`, or the configuration at plan) without the privileges
    /// another grant of this run declares.
    fn without_declared_grants(&self, type_name: &str, state: &Value, live: Value) -> Value {
        match type_name {
            objects::grant::TYPE => objects::grant::without_declared(live, state, &self.declared_grants.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
            _ => live,
        }
    }

    /// `planned` with the views reading the columns it changes dropped and re-created around it
    /// (see `dependents`).
    async fn around_dependent_views(&self, live: &Table, desired: &Table, planned: PlannedChange) -> Result<PlannedChange, ProviderError> {
        let managed = self.managed_views.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let session = self.session().await?;
        let catalog = self.catalog(session.as_ref().ok_or_else(no_connection)?);
        dependents::around(&catalog, live, desired, planned, &managed).await
    }

    /// The live index and the normalised desired one (when a shadow could be made), ready to
    /// compare: the live one as it is once the renames planned for its table ran (see `renames`).
    async fn index_to_compare(&self, live: TableIndex, desired: &TableIndex) -> Result<(TableIndex, Option<TableIndex>), ProviderError> {
        let session = self.session().await?;
        let catalog = self.catalog(session.as_ref().ok_or_else(no_connection)?);
        let Some(renames) = self.renames.of(&desired.table).filter(|r| r.from == live.table) else {
            return Ok((live, normalize::shadow_index(&catalog, desired).await?));
        };
        Ok(match normalize::shadow_index_after_renames(&catalog, &live, desired, &renames).await? {
            Some((live, normalized)) => (live, Some(normalized)),
            None => (renames.applied_to(&live, &desired.table), None),
        })
    }

    /// What the server says of the methods of `indexes` (see `preflight::index_methods`); nothing
    /// before the provider is configured.
    async fn index_methods<'a>(&self, indexes: impl IntoIterator<Item = &'a Index>) -> Result<Vec<String>, ProviderError> {
        let indexes: Vec<&Index> = indexes.into_iter().filter(|index| !preflight::is_built_in(&index.using)).collect();
        if indexes.is_empty() || self.settings.get().is_none() {
            return Ok(vec![]);
        }
        let session = self.session().await?;
        preflight::index_methods(&self.catalog(session.as_ref().ok_or_else(no_connection)?), &indexes).await
    }

    /// The index a change builds concurrently, when whatever a failed build leaves is strata's to
    /// drop: it replaces a managed index, or its name was free before.
    async fn concurrent_build(&self, client: &Client, request: &ApplyRequest, planned: &Value) -> Result<Option<TableIndex>, ProviderError> {
        if request.type_name != "postgres_index" || request.action == Action::Delete {
            return Ok(None);
        }
        let index = TableIndex::from_value(planned)?;
        let ours = index.concurrently && (request.prior.is_some() || !invalid_index::name_taken(client, &index).await);
        Ok(ours.then_some(index))
    }
}

/// An attempt at a change that failed, with the SQLSTATE of the statement that failed it (for
/// `reconnect` to tell a deadlock, worth one retry, from other errors).
pub(crate) struct Failed {
    pub failure: ApplyFailure,
    pub sqlstate: Option<SqlState>,
}

impl Failed {
    pub fn deadlocked(&self) -> bool {
        self.sqlstate == Some(SqlState::T_R_DEADLOCK_DETECTED)
    }
}

impl From<ApplyFailure> for Failed {
    fn from(failure: ApplyFailure) -> Failed {
        Failed { failure, sqlstate: None }
    }
}

impl From<ProviderError> for Failed {
    fn from(error: ProviderError) -> Failed {
        Failed::from(ApplyFailure::from(error))
    }
}

fn no_connection() -> ProviderError {
    ProviderError::new("no connection to PostgreSQL")
}

fn unknown_type(type_name: &str) -> ProviderError {
    ProviderError::new(format!("the postgres provider has no resource type {type_name}"))
}

/// The kind in `objects` behind `type_name`.
fn object_kind(type_name: &str) -> Result<&'static dyn objects::Kind, ProviderError> {
    objects::kind(type_name).ok_or_else(|| unknown_type(type_name))
}

/// Whether a grant refreshed as not exclusive is now declared exclusive: its refresh did not read
/// the others' privileges.
fn becomes_exclusive(prior: Option<&Value>, desired: &Value) -> bool {
    desired.get_bool("exclusive") == Some(true) && prior.is_some_and(|p| p.get_bool("exclusive") != Some(true))
}

/// A plan for a configuration that still holds values only apply will know: its SQL is decided
/// then.
fn plan_with_unknowns(request: &PlanRequest) -> PlannedChange {
    let action = if request.prior.is_some() { Action::Update } else { Action::Create };
    let mut planned = request.desired.clone();
    if planned.get("id").is_none_or(Value::is_null) {
        planned.set("id", Value::Unknown);
    }
    // A role's password is write-only: never in a plan.
    if request.type_name == "postgres_role" {
        planned.set("password", Value::Null);
    }
    PlannedChange { operations: vec!["-- SQL decided during apply, once every value is known".into()], ..PlannedChange::new(action, planned) }
}

/// What a create's statements need beyond running: its mark of authorship, and the import id of
/// the object it makes (for the hint when one of that name exists).
struct Creating<'a> {
    authorship: Option<&'a Authorship>,
    import_id: Option<String>,
}

/// Runs statements, in one transaction unless they open their own or one cannot run inside one
/// (see `guards`); `lock_timeout` is the one they set, for the error when it runs out. A create's
/// transaction has its id recorded in the intent before anything runs (see `authorship`).
async fn run_statements(client: &Client, statements: &[String], lock_timeout: &str, creating: Option<&Creating<'_>>) -> Result<(), Failed> {
    if guards::in_one_transaction(statements) {
        if let Err(err) = client.batch_execute("BEGIN").await {
            return Err(statement_failed(client, "BEGIN", err, lock_timeout, creating).await);
        }
        if let Some(authorship) = creating.and_then(|c| c.authorship) {
            if let Err(error) = authorship::mark_transaction(client, authorship).await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(error.into());
            }
        }
        for statement in statements {
            if let Err(err) = client.batch_execute(statement).await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(statement_failed(client, statement, err, lock_timeout, creating).await);
            }
        }
        if let Err(err) = client.batch_execute("COMMIT").await {
            return Err(statement_failed(client, "COMMIT", err, lock_timeout, creating).await);
        }
        return Ok(());
    }
    if let Some(authorship) = creating.and_then(|c| c.authorship) {
        authorship::mark_following(client, authorship).await?;
    }
    for statement in statements {
        if let Err(err) = client.batch_execute(statement).await {
            let mut failed = statement_failed(client, statement, err, lock_timeout, creating).await;
            // A create whose object exists already made nothing: its hint says how to manage it.
            let clashed = creating.is_some() && failed.sqlstate.as_ref().is_some_and(is_duplicate_code);
            if failed.sqlstate != Some(SqlState::LOCK_NOT_AVAILABLE) && !clashed {
                failed.failure.error.hint = Some("statements outside a transaction (CONCURRENTLY) may have left part of the change; the next plan shows what remains".into());
            }
            return Err(failed);
        }
    }
    Ok(())
}

/// The failure of `statement`, once its transaction is rolled back: for a lock timeout, naming who
/// holds the lock (see `lock_holders`); for an object that exists already, how to manage it.
async fn statement_failed(client: &Client, statement: &str, err: tokio_postgres::Error, lock_timeout: &str, creating: Option<&Creating<'_>>) -> Failed {
    let error = if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        guards::lock_timeout_error(statement, lock_timeout, lock_holders::describe(client, guards::locked_object(statement)).await)
    } else {
        let error = ProviderError::new(format!("{}\n  while running: {}", describe_error(&err), objects::role::masked(statement)));
        match creating.and_then(|c| c.import_id.as_deref()).filter(|_| is_duplicate(&err)) {
            Some(id) => error.with_hint(strata_provider_sdk::error::not_managed_hint(id)),
            None => error.with_hint("nothing of this resource's change was kept; fix the configuration (or the database) and apply again"),
        }
    };
    Failed { failure: error.into(), sqlstate: err.code().cloned() }
}

/// Whether `err` says the object to create exists already (a relation, type, schema, extension,
/// function, trigger, role or database).
fn is_duplicate(err: &tokio_postgres::Error) -> bool {
    err.code().is_some_and(is_duplicate_code)
}

fn is_duplicate_code(code: &SqlState) -> bool {
    [SqlState::DUPLICATE_TABLE, SqlState::DUPLICATE_OBJECT, SqlState::DUPLICATE_SCHEMA, SqlState::DUPLICATE_FUNCTION, SqlState::DUPLICATE_DATABASE].contains(code)
}

/// The object as it now is, in the state's shape.
async fn read_back(client: &Catalog<'_>, type_name: &str, planned: &Value) -> Result<Value, ProviderError> {
    let gone = || ProviderError::new(format!("the {type_name} just applied could not be read back"));
    if type_name == "postgres_table" {
        let wanted = Table::from_value(planned)?;
        let relation = ddl::qualified(&wanted.schema, &wanted.name);
        let (tables, _) = read_tables(client, Scope::Relation(&relation)).await?;
        let live = tables.into_values().next().ok_or_else(gone)?;
        return Ok(managed_view(live, &wanted).to_value());
    }
    // Only what the object's kind needs: one apply reading the whole catalog would make an
    // estate's apply cost the square of its size.
    let snapshot = match (type_name, objects::kind(type_name)) {
        ("postgres_index", _) => {
            let index = TableIndex::from_value(planned)?;
            let (schema, table) = index.table.split_once('.').unwrap_or(("public", index.table.as_str()));
            let (_, indexes) = read_tables(client, Scope::Relation(&ddl::qualified(schema, table))).await?;
            Snapshot { indexes, ..Snapshot::default() }
        }
        (_, Some(kind)) => Snapshot { objects: objects::read_one(client, kind, planned).await?, ..Snapshot::default() },
        _ => Snapshot::read_wanted(client, &objects::Wanted::new()).await?,
    };
    find_live(&snapshot, type_name, planned)?.ok_or_else(gone)
}

/// The live object behind `state` in the snapshot, `None` when it is gone.
fn find_live(snapshot: &Snapshot, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
    Ok(match type_name {
        "postgres_table" => {
            let managed = Table::from_value(state)?;
            snapshot.tables.get(&managed.id()).map(|live| managed_view(live.clone(), &managed).to_value())
        }
        "postgres_index" => {
            let managed = TableIndex::from_value(state)?;
            snapshot.indexes.get(&managed.id()).map(|live| TableIndex { concurrently: managed.concurrently, ..live.clone() }.to_value())
        }
        "postgres_enum" => snapshot.enums.get(&Enum::from_value(state)?.id()).map(Enum::to_value),
        "postgres_schema" => {
            let managed = Schema::from_value(state)?;
            snapshot.schemas.get(&managed.name).map(|live| live.clone().managed_view(&managed).to_value())
        }
        "postgres_extension" => snapshot.extensions.get(&Extension::from_value(state)?.name).map(Extension::to_value),
        other => object_kind(other)?.find_live(snapshot.objects.get(other).unwrap_or(&Default::default()), state)?,
    })
}

/// A refreshed table without the indexes in `standalone` (ids managed as `postgres_index`): an
/// index has one owner, so a table imported with it never plans to drop it.
fn without_indexes(mut live: Value, standalone: &std::collections::BTreeSet<String>) -> Value {
    let Some(schema) = live.get_str("schema").map(str::to_owned) else { return live };
    if let Some(Value::List(indexes)) = live.get("index").cloned() {
        let kept = indexes.into_iter().filter(|i| i.get_str("name").is_none_or(|name| !standalone.contains(&format!("{schema}.{name}")))).collect();
        live.set("index", Value::List(kept));
    }
    live
}

/// A live table cut down to the constraints and indexes strata manages (those named in
/// `managed`): anything added by hand next to them is never planned for deletion.
fn managed_view(mut live: Table, managed: &Table) -> Table {
    for column in &mut live.columns {
        column.sensitive = managed.columns.iter().any(|m| m.name == column.name && m.sensitive);
    }
    live.indexes.retain(|i| managed.indexes.iter().any(|m| m.name == i.name));
    live.uniques.retain(|u| managed.uniques.iter().any(|m| m.name == u.name));
    live.checks.retain(|c| managed.checks.iter().any(|m| m.name == c.name));
    live.foreign_keys.retain(|f| managed.foreign_keys.iter().any(|m| m.name == f.name));
    live.exclusions.retain(|e| managed.exclusions.iter().any(|m| m.name == e.name));
    live
}
