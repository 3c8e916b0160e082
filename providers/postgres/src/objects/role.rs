//! `postgres_role`: a role of the cluster (`pg_roles`, its memberships from `pg_auth_members`, its
//! settings from `pg_db_role_setting`), with the community provider's `postgresql_role` arguments.
//!
//! Roles belong to the whole cluster, so only the roles a refresh, import or apply names are read
//! (one query for all of them); no other role is ever listed, changed or dropped.
//!
//! The password is write-only: never in a live value, a plan or the state. The same query reads the
//! live verifier (`pg_authid.rolpassword`), kept in this process' memory ([`Passwords`]); the
//! desired password is compared with it by recomputing the verifier with the live salt and
//! iteration count (SCRAM-SHA-256) or the role's name (md5), so an unchanged password plans no
//! change. A plan shows `PASSWORD '(sensitive value)'`; apply sends a freshly salted SCRAM-SHA-256
//! verifier made here, never the password itself. When `pg_authid` cannot be read (the provider
//! does not connect as a superuser) the password cannot be compared: the plan warns and sets it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine;
use sha2::{Digest, Sha256};
use strata_provider_sdk::{Action, Attribute as A, Block, ObjectNames, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use super::{change, opt, required, strings, text_array, AuthorshipRow, Kind};
use crate::catalog::{query, Catalog};
use crate::order::Scope;
use crate::config::describe_error;
use crate::ddl::{ident, literal};

/// What a plan shows (and an error repeats) in place of a password or a verifier.
pub const MASK: &str = "(sensitive value)";

/// What the catalog says of a role's password.
#[derive(Clone, Debug, PartialEq)]
pub enum LivePassword {
    /// The role has none.
    Unset,
    /// `pg_authid.rolpassword`: `SCRAM-SHA-256$...` or `md5...`.
    Verifier(String),
    /// `pg_authid` could not be read (not a superuser).
    Unreadable,
}

/// Roles' passwords as this process knows them, by role name: the live verifiers the last read
/// found, and the desired passwords the last plan was given (apply's re-plan is handed the planned
/// object, which carries none). Memory only: nothing here is ever written or shown.
#[derive(Debug, Default)]
pub struct Passwords {
    live: Mutex<BTreeMap<String, LivePassword>>,
    desired: Mutex<BTreeMap<String, String>>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Passwords {
    fn live(&self, role: &str) -> Option<LivePassword> {
        locked(&self.live).get(role).cloned()
    }

    fn remember_desired(&self, role: &str, password: Option<&str>) {
        match password {
            Some(password) => locked(&self.desired).insert(role.to_owned(), password.to_owned()),
            None => locked(&self.desired).remove(role),
        };
    }

    fn desired(&self, role: &str) -> Option<String> {
        locked(&self.desired).get(role).cloned()
    }
}

/// `text` with every `PASSWORD '...'` literal masked: for errors that repeat a statement.
pub fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("PASSWORD '") {
        let start = at + "PASSWORD '".len();
        out.push_str(&rest[..start]);
        out.push_str(MASK);
        // The literal ends at a quote not doubled.
        let body = &rest[start..];
        let mut end = body.len();
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                end = i;
                break;
            }
            i += 1;
        }
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// A role as declared (or read back, with the local arguments from state).
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: String,
    pub superuser: bool,
    pub create_database: bool,
    pub create_role: bool,
    pub inherit: bool,
    pub login: bool,
    pub replication: bool,
    pub bypass_row_level_security: bool,
    pub connection_limit: i64,
    /// A timestamp as PostgreSQL prints it, or `infinity`.
    pub valid_until: String,
    pub encrypted_password: bool,
    /// The roles it is a member of; `None` (unset) leaves memberships alone (`postgres_grant_role`
    /// may manage them).
    pub roles: Option<BTreeSet<String>>,
    pub search_path: Vec<String>,
    /// Milliseconds; 0 is the server's default.
    pub statement_timeout: i64,
    pub idle_in_transaction_session_timeout: i64,
    /// The role a session of it switches to at login (`ALTER ROLE ... SET role`).
    pub assume_role: Option<String>,
    pub skip_drop_role: bool,
    pub skip_reassign_owned: bool,
}

const INFINITY: &str = "infinity";

/// The attributes that are keywords: (field, keyword when on, keyword when off, PostgreSQL's default).
fn flags(role: &Role) -> [(bool, &'static str, &'static str, bool); 7] {
    [
        (role.superuser, "SUPERUSER", "NOSUPERUSER", false),
        (role.create_database, "CREATEDB", "NOCREATEDB", false),
        (role.create_role, "CREATEROLE", "NOCREATEROLE", false),
        (role.inherit, "INHERIT", "NOINHERIT", true),
        (role.login, "LOGIN", "NOLOGIN", false),
        (role.replication, "REPLICATION", "NOREPLICATION", false),
        (role.bypass_row_level_security, "BYPASSRLS", "NOBYPASSRLS", false),
    ]
}

/// How the password goes into a statement.
#[derive(Clone, Copy)]
enum Shown<'a> {
    /// `(sensitive value)`: what a plan shows.
    Masked,
    /// The verifier to send, made from the password.
    Sent(&'a str),
}

impl Shown<'_> {
    fn clause(&self) -> String {
        match self {
            Shown::Masked => format!("PASSWORD '{MASK}'"),
            Shown::Sent(password) => format!("PASSWORD {}", literal(&verifier_to_send(password))),
        }
    }
}

/// What apply sends for `password`: the password as a fresh SCRAM-SHA-256 verifier, or the
/// verifier itself when the configuration gives one.
fn verifier_to_send(password: &str) -> String {
    match is_verifier(password) {
        true => password.to_owned(),
        false => postgres_protocol::password::scram_sha_256(password.as_bytes()),
    }
}

/// Whether a configured password is a verifier already (`md5` and 32 hex digits, or SCRAM).
fn is_verifier(password: &str) -> bool {
    let md5 = password.strip_prefix("md5").is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    md5 || Scram::parse(password).is_some()
}

/// Whether `password` is the one the live `verifier` of `role` was made from.
pub fn same_password(password: &str, role: &str, verifier: &str) -> bool {
    if is_verifier(password) {
        return password == verifier;
    }
    if let Some(scram) = Scram::parse(verifier) {
        return scram.matches(password);
    }
    verifier.starts_with("md5") && postgres_protocol::password::md5(password.as_bytes(), role) == verifier
}

/// A SCRAM-SHA-256 verifier: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
struct Scram {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl Scram {
    fn parse(verifier: &str) -> Option<Scram> {
        let rest = verifier.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored_key, server_key) = keys.split_once(':')?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Some(Scram {
            iterations: iterations.parse().ok().filter(|n| *n > 0)?,
            salt: b64.decode(salt).ok()?,
            stored_key: b64.decode(stored_key).ok()?,
            server_key: b64.decode(server_key).ok()?,
        })
    }

    /// Recomputes both keys from `password` with this verifier's salt and iteration count, as
    /// PostgreSQL does (SASLprep first when the password allows it).
    fn matches(&self, password: &str) -> bool {
        let prepared = stringprep::saslprep(password).map(|p| p.into_owned()).unwrap_or_else(|_| password.to_owned());
        let salted = pbkdf2_sha256(prepared.as_bytes(), &self.salt, self.iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let stored_key = Sha256::digest(client_key);
        let server_key = hmac_sha256(&salted, b"Server Key");
        stored_key.as_slice() == self.stored_key.as_slice() && server_key.as_slice() == self.server_key.as_slice()
    }
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// PBKDF2-HMAC-SHA-256 with one block of output (SCRAM's `Hi`).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &first);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha256(password, &u);
        out.iter_mut().zip(u).for_each(|(o, b)| *o ^= b);
    }
    out
}

/// A duration setting (`1000`, `5s`, `2min`) in milliseconds; `None` when it is not one.
fn milliseconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number: i64 = text[..digits].parse().ok()?;
    let factor = match text[digits..].trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// A list setting as PostgreSQL stores it (`"$user", public`), unquoted.
fn list_setting(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_owned()),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() || !items.is_empty() {
        items.push(current.trim().to_owned());
    }
    items
}

/// A search path entry as configured: `"$user"` (quoted) and `$user` alike.
fn unquoted(item: &str) -> String {
    match item.strip_prefix('"').and_then(|i| i.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => item.to_owned(),
    }
}

impl Role {
    fn sql_name(&self) -> String {
        ident(&self.name)
    }

    /// The managed settings as `ALTER ROLE ... SET` gives them: `None` resets one.
    fn settings(&self) -> [(&'static str, Option<String>); 4] {
        let timeout = |ms: i64| (ms != 0).then(|| ms.to_string());
        [
            ("search_path", (!self.search_path.is_empty()).then(|| self.search_path.iter().map(|s| ident(s)).collect::<Vec<_>>().join(", "))),
            ("statement_timeout", timeout(self.statement_timeout)),
            ("idle_in_transaction_session_timeout", timeout(self.idle_in_transaction_session_timeout)),
            ("role", self.assume_role.as_deref().map(ident)),
        ]
    }

    fn setting_sql(&self, name: &str, value: Option<&String>) -> String {
        match value {
            Some(value) => format!("ALTER ROLE {} SET {name} TO {value}", self.sql_name()),
            None => format!("ALTER ROLE {} RESET {name}", self.sql_name()),
        }
    }

    /// `CREATE ROLE` with every attribute that is not PostgreSQL's default, then its memberships
    /// and settings.
    fn create(&self, password: Option<Shown<'_>>) -> Vec<String> {
        let mut options: Vec<String> = flags(self).iter().filter(|(on, _, _, default)| on != default).map(|(on, yes, no, _)| if *on { *yes } else { *no }.to_owned()).collect();
        if self.connection_limit != -1 {
            options.push(format!("CONNECTION LIMIT {}", self.connection_limit));
        }
        options.extend(password.map(|p| p.clause()));
        if self.valid_until != INFINITY {
            options.push(format!("VALID UNTIL {}", literal(&self.valid_until)));
        }
        let with = if options.is_empty() { String::new() } else { format!(" WITH {}", options.join(" ")) };
        let mut statements = vec![format!("CREATE ROLE {}{with}", self.sql_name())];
        statements.extend(self.roles.iter().flatten().map(|role| format!("GRANT {} TO {}", ident(role), self.sql_name())));
        statements.extend(self.settings().iter().filter(|(_, value)| value.is_some()).map(|(name, value)| self.setting_sql(name, value.as_ref())));
        statements
    }

    /// What takes `prior` (live) to `self`; `password` when it must be set.
    fn changes_from(&self, prior: &Role, password: Option<Shown<'_>>) -> Vec<String> {
        let mut statements = Vec::new();
        if prior.name != self.name {
            statements.push(format!("ALTER ROLE {} RENAME TO {}", prior.sql_name(), self.sql_name()));
        }
        let mut clauses: Vec<String> = flags(self).iter().zip(flags(prior)).filter(|((on, ..), (was, ..))| on != was).map(|((on, yes, no, _), _)| if *on { *yes } else { *no }.to_owned()).collect();
        if self.connection_limit != prior.connection_limit {
            clauses.push(format!("CONNECTION LIMIT {}", self.connection_limit));
        }
        clauses.extend(password.map(|p| p.clause()));
        if self.valid_until != prior.valid_until {
            clauses.push(format!("VALID UNTIL {}", literal(&self.valid_until)));
        }
        if !clauses.is_empty() {
            statements.push(format!("ALTER ROLE {} WITH {}", self.sql_name(), clauses.join(" ")));
        }
        if let (Some(wanted), Some(live)) = (&self.roles, &prior.roles) {
            statements.extend(wanted.difference(live).map(|role| format!("GRANT {} TO {}", ident(role), self.sql_name())));
            statements.extend(live.difference(wanted).map(|role| format!("REVOKE {} FROM {}", ident(role), self.sql_name())));
        }
        for ((name, wanted), (_, live)) in self.settings().iter().zip(prior.settings()) {
            if *wanted != live {
                statements.push(self.setting_sql(name, wanted.as_ref()));
            }
        }
        statements
    }

    /// `REASSIGN OWNED` and `DROP OWNED` (unless `skip_reassign_owned`), then `DROP ROLE` (unless
    /// `skip_drop_role`), as the community provider does.
    pub fn drop(&self) -> Vec<String> {
        let mut statements = Vec::new();
        if !self.skip_reassign_owned {
            statements.push(format!("REASSIGN OWNED BY {} TO CURRENT_USER", self.sql_name()));
            statements.push(format!("DROP OWNED BY {}", self.sql_name()));
        }
        if !self.skip_drop_role {
            statements.push(format!("DROP ROLE {}", self.sql_name()));
        }
        statements
    }

    fn drop_loses(&self) -> Vec<String> {
        let mut lost = Vec::new();
        if !self.skip_reassign_owned {
            lost.push(format!(
                "REASSIGN OWNED BY {0} gives every object role {0} owns in this database to the connected user, and DROP OWNED BY {0} revokes every privilege granted to it here, for good",
                self.name
            ));
        }
        if !self.skip_drop_role {
            lost.push(format!("drops role {}: its password, attributes, settings and memberships are gone for good", self.name));
        }
        lost
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("superuser", Value::Bool(self.superuser)),
            ("create_database", Value::Bool(self.create_database)),
            ("create_role", Value::Bool(self.create_role)),
            ("inherit", Value::Bool(self.inherit)),
            ("login", Value::Bool(self.login)),
            ("replication", Value::Bool(self.replication)),
            ("bypass_row_level_security", Value::Bool(self.bypass_row_level_security)),
            ("connection_limit", Value::int(self.connection_limit)),
            ("valid_until", Value::from(self.valid_until.as_str())),
            ("password", Value::Null),
            ("encrypted_password", Value::Bool(self.encrypted_password)),
            ("roles", self.roles.as_ref().map_or(Value::Null, |roles| strings(&roles.iter().cloned().collect::<Vec<_>>()))),
            ("search_path", strings(&self.search_path)),
            ("statement_timeout", Value::int(self.statement_timeout)),
            ("idle_in_transaction_session_timeout", Value::int(self.idle_in_transaction_session_timeout)),
            ("assume_role", opt(self.assume_role.as_deref())),
            ("skip_drop_role", Value::Bool(self.skip_drop_role)),
            ("skip_reassign_owned", Value::Bool(self.skip_reassign_owned)),
            ("id", Value::from(self.name.as_str())),
        ])
    }

    pub fn from_value(value: &Value) -> Result<Role, ProviderError> {
        let flag = |key: &str, default: bool| value.get_bool(key).unwrap_or(default);
        let name = required(value, "name", "postgres_role")?;
        let number = |key: &str, default: i64, min: i64| match value.get_i64(key).unwrap_or(default) {
            n if n < min => Err(ProviderError::new(format!("postgres_role {name}: {key} must be at least {min}, not {n}"))),
            n => Ok(n),
        };
        let valid_until = match value.get_str("valid_until").map(str::trim) {
            None | Some("") => INFINITY.to_owned(),
            Some(text) if text.eq_ignore_ascii_case(INFINITY) || text.eq_ignore_ascii_case("NULL") => INFINITY.to_owned(),
            Some(text) => text.to_owned(),
        };
        Ok(Role {
            superuser: flag("superuser", false),
            create_database: flag("create_database", false),
            create_role: flag("create_role", false),
            inherit: flag("inherit", true),
            login: flag("login", false),
            replication: flag("replication", false),
            bypass_row_level_security: flag("bypass_row_level_security", false),
            connection_limit: number("connection_limit", -1, -1)?,
            valid_until,
            encrypted_password: flag("encrypted_password", true),
            roles: value.get("roles").filter(|v| !v.is_null()).map(|_| value.get_strings("roles").into_iter().collect()),
            search_path: value.get_strings("search_path").iter().map(|s| unquoted(s.trim())).collect(),
            statement_timeout: number("statement_timeout", 0, 0)?,
            idle_in_transaction_session_timeout: number("idle_in_transaction_session_timeout", 0, 0)?,
            assume_role: value.get_str("assume_role").filter(|r| !r.is_empty()).map(str::to_owned),
            skip_drop_role: flag("skip_drop_role", false),
            skip_reassign_owned: flag("skip_reassign_owned", false),
            name,
        })
    }

    /// A row of [`catalog_query`], with what it says of the password.
    fn from_row(row: &Row) -> (Role, LivePassword) {
        let mut role = Role {
            name: row.get(0),
            superuser: row.get(1),
            create_database: row.get(2),
            create_role: row.get(3),
            inherit: row.get(4),
            login: row.get(5),
            replication: row.get(6),
            bypass_row_level_security: row.get(7),
            connection_limit: row.get::<_, i32>(8).into(),
            valid_until: row.get(9),
            encrypted_password: true,
            roles: Some(row.get::<_, Vec<String>>(10).into_iter().collect()),
            search_path: vec![],
            statement_timeout: 0,
            idle_in_transaction_session_timeout: 0,
            assume_role: None,
            skip_drop_role: false,
            skip_reassign_owned: false,
        };
        for setting in row.get::<_, Option<Vec<String>>>(11).unwrap_or_default() {
            let Some((key, value)) = setting.split_once('=') else { continue };
            match key {
                "search_path" => role.search_path = list_setting(value),
                // A value strata cannot read (a unit it does not know) compares as different.
                "statement_timeout" => role.statement_timeout = milliseconds(value).unwrap_or(-1),
                "idle_in_transaction_session_timeout" => role.idle_in_transaction_session_timeout = milliseconds(value).unwrap_or(-1),
                "role" => role.assume_role = Some(value.to_owned()),
                _ => {}
            }
        }
        let password = match row.try_get::<_, Option<String>>(12) {
            Ok(Some(verifier)) => LivePassword::Verifier(verifier),
            Ok(None) if row.get::<_, bool>(13) => LivePassword::Unset,
            _ => LivePassword::Unreadable,
        };
        (role, password)
    }

    /// `self` carrying the local arguments (never read from the server) of `state`.
    fn with_local_arguments(mut self, state: &Role) -> Role {
        self.encrypted_password = state.encrypted_password;
        self.skip_drop_role = state.skip_drop_role;
        self.skip_reassign_owned = state.skip_reassign_owned;
        self
    }
}

/// Every role among `keys` with its memberships, settings and (when `passwords`) its verifier:
/// the last column says whether the verifier was read.
fn catalog_query(keys: &BTreeSet<String>, passwords: bool) -> String {
    let verifier = match passwords {
        true => "(SELECT a.rolpassword FROM pg_authid a WHERE a.oid = r.oid), true",
        false => "NULL::text, false",
    };
    format!(
        "SELECT r.rolname::text, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit, r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit, \
         COALESCE(r.rolvaliduntil::text, 'infinity'), \
         ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1), \
         (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0), {verifier} \
         FROM pg_roles r WHERE r.rolname::text = ANY({})",
        text_array(keys)
    )
}

/// The roles among `keys`: one query with their verifiers; when `pg_authid` is out of reach,
/// that query fails at once and one without them runs instead (at once with `superuser = false`).
async fn read_roles(catalog: &Catalog<'_>, keys: &BTreeSet<String>) -> Result<Vec<Row>, ProviderError> {
    if !catalog.superuser {
        return query(catalog, &catalog_query(keys, false)).await;
    }
    catalog.queries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match catalog.client.query_typed(&catalog_query(keys, true), &[]).await {
        Ok(rows) => Ok(rows),
        Err(err) if err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => query(catalog, &catalog_query(keys, false)).await,
        Err(err) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(crate::catalog::read_behind_a_lock(catalog.client, &err).await),
        Err(err) => Err(ProviderError::new(format!("reading the catalog failed: {}", describe_error(&err)))),
    }
}

/// Refuses to plan the drop of the role the provider connects as: `REASSIGN OWNED` to itself
/// would move nothing and `DROP OWNED` would drop everything it owns in the database.
pub fn refuse_dropping_connected(prior: &Value, connected_user: Option<&str>) -> Result<(), ProviderError> {
    let role = Role::from_value(prior)?;
    match connected_user == Some(role.name.as_str()) {
        true => Err(ProviderError::new(format!("postgres_role {} is the role the provider connects as: strata does not drop it (DROP OWNED would drop everything it owns)", role.name))
            .with_hint("connect the provider as another role to drop this one, or remove it from state with `strata state rm`")),
        false => Ok(()),
    }
}

/// The change of a role: `reveal` (apply's re-plan, never shown) puts the verifier to send where
/// a plan shows `(sensitive value)`. `catalog` normalises `valid_until` when there is a live role.
pub async fn plan(catalog: Option<&Catalog<'_>>, passwords: &Passwords, prior: Option<&Value>, desired: &Value, reveal: bool) -> Result<PlannedChange, ProviderError> {
    let mut wanted = Role::from_value(desired)?;
    let password = match desired.get_str("password") {
        Some(given) => {
            passwords.remember_desired(&wanted.name, Some(given));
            Some(given.to_owned())
        }
        None if reveal => passwords.desired(&wanted.name),
        None => {
            passwords.remember_desired(&wanted.name, None);
            None
        }
    };
    fn shown(password: &Option<String>, reveal: bool) -> Option<Shown<'_>> {
        password.as_deref().map(|p| if reveal { Shown::Sent(p) } else { Shown::Masked })
    }
    let mut warnings = Vec::new();
    if !wanted.encrypted_password {
        warnings.push(format!("postgres_role {}: encrypted_password = false changes nothing: strata always sends the password as a SCRAM-SHA-256 verifier", wanted.name));
    }
    let Some(prior) = prior.map(Role::from_value).transpose()? else {
        return Ok(PlannedChange { warnings, ..change(Action::Create, wanted.to_value(), wanted.create(shown(&password, reveal))) });
    };
    if let (Some(catalog), false) = (catalog, wanted.valid_until == INFINITY) {
        wanted.valid_until = normalized_timestamp(catalog, &wanted.name, &wanted.valid_until).await?;
    }
    if wanted.roles.is_none() {
        wanted.roles = prior.roles.clone();
    }
    let password_change = match &password {
        None => None,
        Some(given) => match passwords.live(&prior.name) {
            // A rename clears an md5 password.
            Some(LivePassword::Verifier(live)) if same_password(given, &prior.name, &live) && (prior.name == wanted.name || !live.starts_with("md5")) => None,
            Some(LivePassword::Verifier(_)) | Some(LivePassword::Unset) => shown(&password, reveal),
            Some(LivePassword::Unreadable) | None => {
                warnings.push(format!(
                    "postgres_role {}: the live password cannot be compared (reading pg_authid takes a superuser), so apply sets it again",
                    wanted.name
                ));
                shown(&password, reveal)
            }
        },
    };
    let operations = wanted.changes_from(&prior, password_change);
    let action = match (operations.is_empty(), wanted == prior) {
        (true, true) => Action::NoOp,
        // Only local arguments (skip_drop_role, ...) changed: the state takes them.
        _ => Action::Update,
    };
    let planned = if action == Action::NoOp { prior.to_value() } else { wanted.to_value() };
    Ok(PlannedChange { warnings, ..change(action, planned, operations) })
}

/// `valid_until` as the server prints it (in the session's time zone), to compare with the live one.
async fn normalized_timestamp(catalog: &Catalog<'_>, role: &str, text: &str) -> Result<String, ProviderError> {
    let rows = query(catalog, &format!("SELECT {}::timestamptz::text", literal(text)))
        .await
        .map_err(|e| ProviderError::new(format!("postgres_role {role}: valid_until \"{text}\" is not a timestamp PostgreSQL reads: {}", e.message)))?;
    Ok(rows.first().map_or_else(|| text.to_owned(), |row| row.get(0)))
}

/// `postgres_role` as the dispatch points see it.
pub struct RoleKind;

#[async_trait]
impl Kind for RoleKind {
    fn type_name(&self) -> &'static str {
        "postgres_role"
    }

    /// A role makes itself and waits for the roles it joins.
    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        ObjectNames { makes: value.get_str("name").map(|name| scope.cluster("role", name)).into_iter().collect(), uses: scope.roles(value, "roles") }
    }

    fn import_id(&self) -> &'static str {
        "the role's name"
    }

    fn schema(&self) -> ResourceSchema {
        let flag = |description: &'static str| A::optional_computed(Type::Bool).describe(description);
        let number = |description: &'static str| A::optional_computed(Type::Number).describe(description);
        ResourceSchema {
            periodic: false,
            description: "A role of the cluster (CREATE ROLE), its memberships and settings; only roles strata manages are read or changed.",
            block: Block::new()
                .attribute("name", A::required(Type::String).describe("renamed in place (a rename clears an md5 password)"))
                .attribute("superuser", flag("default false"))
                .attribute("create_database", flag("CREATEDB, default false"))
                .attribute("create_role", flag("CREATEROLE, default false"))
                .attribute("inherit", flag("default true"))
                .attribute("login", flag("default false"))
                .attribute("replication", flag("default false"))
                .attribute("bypass_row_level_security", flag("BYPASSRLS, default false"))
                .attribute("connection_limit", number("-1 (the default) for no limit"))
                .attribute("valid_until", A::optional_computed(Type::String).describe("when the password stops being valid, default infinity"))
                .attribute("password", A::optional(Type::String).sensitive().describe("write-only: compared with the live verifier, sent as a SCRAM-SHA-256 verifier, never stored"))
                .attribute("encrypted_password", flag("default true; the password is always sent as a verifier"))
                .attribute("roles", A::optional_computed(Type::list_of(Type::String)).describe("the roles it is a member of; unset leaves memberships alone"))
                .attribute("search_path", A::optional_computed(Type::list_of(Type::String)).describe("ALTER ROLE ... SET search_path; empty resets it"))
                .attribute("statement_timeout", number("milliseconds, 0 (the default) resets it"))
                .attribute("idle_in_transaction_session_timeout", number("milliseconds, 0 (the default) resets it"))
                .attribute("assume_role", A::optional(Type::String).describe("the role a session switches to at login (ALTER ROLE ... SET role)"))
                .attribute("skip_drop_role", flag("on delete, keep the role (only REASSIGN/DROP OWNED run)"))
                .attribute("skip_reassign_owned", flag("on delete, skip REASSIGN OWNED and DROP OWNED"))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let state = Role::from_value(state)?;
        live.get(&state.name).map(|found| Ok(Role::from_value(found)?.with_local_arguments(&state).to_value())).transpose()
    }

    fn adoption_id(&self, planned: &Value) -> Option<String> {
        planned.get_str("name").map(str::to_owned)
    }

    async fn plan(&self, catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let scratch = Passwords::default();
        plan(catalog, catalog.map_or(&scratch, |c| c.passwords), prior, desired, false).await
    }

    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let role = Role::from_value(prior)?;
        Ok(PlannedChange { data_loss: role.drop_loses(), ..change(Action::Delete, Value::Null, role.drop()) })
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(Role::from_value(prior)?.drop())
    }

    /// The role's row in `pg_authid` (readable by superusers only).
    fn authorship(&self, live: &Value) -> Result<AuthorshipRow, ProviderError> {
        Ok(AuthorshipRow { query: "SELECT xmin::text FROM pg_authid WHERE rolname = $1", params: vec![required(live, "name", "postgres_role")?] })
    }

    fn wanted_key(&self, value: &Value) -> Option<String> {
        value.get_str("name").map(str::to_owned)
    }

    async fn read_keys(&self, catalog: &Catalog<'_>, keys: &BTreeSet<String>) -> Result<BTreeMap<String, Value>, ProviderError> {
        let rows = read_roles(catalog, keys).await?;
        let mut found = BTreeMap::new();
        let mut live = locked(&catalog.passwords.live);
        for row in rows {
            let (role, password) = Role::from_row(&row);
            live.insert(role.name.clone(), password);
            found.insert(role.name.clone(), role.to_value());
        }
        for gone in keys.iter().filter(|key| !found.contains_key(*key)) {
            live.remove(gone);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(pairs: &[(&str, Value)]) -> Role {
        let mut value = Value::object([("name", Value::from("app_rw"))]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        Role::from_value(&value).unwrap()
    }

    fn plan_now(passwords: &Passwords, prior: Option<&Role>, desired: &Value, reveal: bool) -> PlannedChange {
        futures::executor::block_on(plan(None, passwords, prior.map(Role::to_value).as_ref(), desired, reveal)).unwrap()
    }

    #[test]
    fn scram_verifiers_are_recomputed_with_the_live_salt_and_iterations() {
        let made = postgres_protocol::password::scram_sha_256(b"correct horse");
        assert!(same_password("correct horse", "app_rw", &made));
        assert!(!same_password("correct horse!", "app_rw", &made));
        // One PostgreSQL 15 made for CREATE ROLE ... PASSWORD 'secret ünï' (SASLprep included).
        let server = "SCRAM-SHA-256$4096:B3u+a+ZJ5gSsri0yHLdgQA==$izmsAvf9GTqjjhp6QMWgH8HRZTRGVxkp4fLsTz5Ctjc=:zOn+i6iA8Rasu6U93Ys0ySKjhU1osPf/xO6gtQ43I+8=";
        assert!(same_password("secret ünï", "any", server));
        assert!(!same_password("secret uni", "any", server));
        // A verifier with another iteration count is recomputed with that count.
        let salt = [7u8; 16];
        let other = fixed_verifier("pw", &salt, 10);
        assert!(same_password("pw", "r", &other));
        assert!(!same_password("pw2", "r", &other));
        // A configured verifier compares as text.
        assert!(same_password(&made, "app_rw", &made));
        assert!(!same_password("garbage", "r", "not a verifier"));
    }

    /// A SCRAM-SHA-256 verifier made the long way, with `salt` and `iterations`.
    fn fixed_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
        let salted = pbkdf2_sha256(password.as_bytes(), salt, iterations);
        let stored = Sha256::digest(hmac_sha256(&salted, b"Client Key"));
        let server = hmac_sha256(&salted, b"Server Key");
        let b64 = base64::engine::general_purpose::STANDARD;
        format!("SCRAM-SHA-256${iterations}:{}${}:{}", b64.encode(salt), b64.encode(stored), b64.encode(server))
    }

    #[test]
    fn hmac_and_pbkdf2_match_the_rfc_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // RFC 7914 section 11 (PBKDF2-HMAC-SHA256, c = 1), first 32 bytes.
        assert_eq!(hex::encode(pbkdf2_sha256(b"passwd", b"salt", 1)), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    #[test]
    fn md5_verifiers_are_salted_with_the_role_name() {
        let live = postgres_protocol::password::md5(b"s3cret", "legacy");
        assert!(same_password("s3cret", "legacy", &live));
        assert!(!same_password("s3cret", "other", &live));
    }

    #[test]
    fn a_plan_masks_the_password_and_apply_sends_a_fresh_verifier() {
        let passwords = Passwords::default();
        let desired = Value::object([("name", Value::from("app_rw")), ("login", Value::Bool(true)), ("password", Value::from("hunter2")), ("roles", Value::List(vec![Value::from("readers")]))]);
        let created = plan_now(&passwords, None, &desired, false);
        assert_eq!(created.operations, ["CREATE ROLE \"app_rw\" WITH LOGIN PASSWORD '(sensitive value)'", "GRANT \"readers\" TO \"app_rw\""]);
        assert!(created.planned.get("password").is_some_and(Value::is_null));
        assert!(!format!("{created:?}").contains("hunter2"));
        // Apply's re-plan is handed the planned object (no password): the one plan saw is sent.
        let applied = plan_now(&passwords, None, &created.planned, true);
        let create = &applied.operations[0];
        assert!(create.starts_with("CREATE ROLE \"app_rw\" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:"), "{create}");
        assert!(!create.contains("hunter2"));
        let verifier = create.split('\'').nth(1).unwrap();
        assert!(same_password("hunter2", "app_rw", verifier));
        assert_eq!(masked(create), "CREATE ROLE \"app_rw\" WITH LOGIN PASSWORD '(sensitive value)'");
    }

    #[test]
    fn an_unchanged_password_plans_nothing_and_a_changed_one_is_set_masked() {
        let passwords = Passwords::default();
        let live = role(&[("login", Value::Bool(true)), ("roles", Value::List(vec![]))]);
        locked(&passwords.live).insert("app_rw".into(), LivePassword::Verifier(postgres_protocol::password::scram_sha_256(b"hunter2")));
        let mut desired = live.to_value();
        desired.set("password", Value::from("hunter2"));
        assert_eq!(plan_now(&passwords, Some(&live), &desired, false).action, Action::NoOp);
        desired.set("password", Value::from("hunter3"));
        let changed = plan_now(&passwords, Some(&live), &desired, false);
        assert_eq!(changed.operations, ["ALTER ROLE \"app_rw\" WITH PASSWORD '(sensitive value)'"]);
        assert!(changed.warnings.is_empty());
        locked(&passwords.live).insert("app_rw".into(), LivePassword::Unreadable);
        let unknown = plan_now(&passwords, Some(&live), &desired, false);
        assert_eq!(unknown.action, Action::Update);
        assert!(unknown.warnings[0].contains("cannot be compared"), "{:?}", unknown.warnings);
    }

    #[test]
    fn changes_alter_only_what_differs() {
        let live = role(&[("roles", Value::List(vec![Value::from("old_group")])), ("statement_timeout", Value::int(5000))]);
        let wanted = role(&[
            ("name", Value::from("app_rw2")),
            ("login", Value::Bool(true)),
            ("connection_limit", Value::int(5)),
            ("roles", Value::List(vec![Value::from("readers")])),
            ("search_path", Value::List(vec![Value::from("\"$user\""), Value::from("app")])),
            ("assume_role", Value::from("app_owner")),
        ]);
        assert_eq!(
            wanted.changes_from(&live, None),
            [
                "ALTER ROLE \"app_rw\" RENAME TO \"app_rw2\"",
                "ALTER ROLE \"app_rw2\" WITH LOGIN CONNECTION LIMIT 5",
                "GRANT \"readers\" TO \"app_rw2\"",
                "REVOKE \"old_group\" FROM \"app_rw2\"",
                "ALTER ROLE \"app_rw2\" SET search_path TO \"$user\", \"app\"",
                "ALTER ROLE \"app_rw2\" RESET statement_timeout",
                "ALTER ROLE \"app_rw2\" SET role TO \"app_owner\"",
            ]
        );
        // Unset memberships are left alone.
        let mut unmanaged = live.clone();
        unmanaged.roles = None;
        assert!(unmanaged.changes_from(&live, None).is_empty());
    }

    #[test]
    fn settings_are_read_as_postgres_stores_them() {
        assert_eq!(list_setting("\"$user\", public, \"we\"\"ird, x\""), ["$user", "public", "we\"ird, x"]);
        assert!(list_setting("").is_empty());
        assert_eq!(milliseconds("1500"), Some(1500));
        assert_eq!(milliseconds("5s"), Some(5000));
        assert_eq!(milliseconds("2min"), Some(120_000));
        assert_eq!(milliseconds("5 parsecs"), None);
    }

    #[test]
    fn a_drop_reassigns_and_drops_what_it_owns_unless_skipped_and_is_data_loss() {
        let live = role(&[]);
        assert_eq!(live.drop(), ["REASSIGN OWNED BY \"app_rw\" TO CURRENT_USER", "DROP OWNED BY \"app_rw\"", "DROP ROLE \"app_rw\""]);
        let planned = RoleKind.plan_delete(&live.to_value()).unwrap();
        assert_eq!(planned.data_loss.len(), 2);
        assert_eq!(role(&[("skip_reassign_owned", Value::Bool(true))]).drop(), ["DROP ROLE \"app_rw\""]);
        assert!(role(&[("skip_reassign_owned", Value::Bool(true)), ("skip_drop_role", Value::Bool(true))]).drop().is_empty());
        assert!(refuse_dropping_connected(&live.to_value(), Some("app_rw")).unwrap_err().message.contains("connects as"));
        assert!(refuse_dropping_connected(&live.to_value(), Some("postgres")).is_ok());
    }

    #[test]
    fn bad_numbers_are_errors_and_masking_handles_quotes() {
        let error = Role::from_value(&Value::object([("name", Value::from("r")), ("connection_limit", Value::int(-2))])).unwrap_err();
        assert!(error.message.contains("connection_limit must be at least -1"), "{error}");
        assert_eq!(masked("ALTER ROLE \"r\" WITH PASSWORD 'a''b' VALID UNTIL 'x'"), "ALTER ROLE \"r\" WITH PASSWORD '(sensitive value)' VALID UNTIL 'x'");
    }
}
