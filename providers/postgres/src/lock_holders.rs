//! Who holds the lock a session of strata gave up waiting for, so that a lock timeout names the
//! session instead of guessing at "a long-running transaction".
//!
//! Every session strata opens calls itself `strata/<process id>` (see `config`), so a holder from
//! this same run (a bug: the engine serializes changes that lock one relation) is told apart from
//! another strata run and from an application. Owns that name and one read-only query.

use tokio_postgres::Client;

/// The `application_name` every session of this process gives itself.
pub fn application_name() -> String {
    format!("strata/{}", std::process::id())
}

/// A session holding a lock, as `pg_stat_activity` shows it.
struct Holder {
    pid: i32,
    application: String,
    user: String,
    state: String,
    seconds: i32,
    query: String,
}

/// Who holds a granted lock on `relation` (as written in SQL, `"public"."users"`), or, when the
/// relation is unknown, an ACCESS EXCLUSIVE lock on any relation of the database (the only mode
/// a catalog read waits behind). `None` when no holder is seen or the question fails: the caller
/// has an error to report already.
pub async fn describe(client: &Client, relation: Option<&str>) -> Option<Described> {
    const SQL: &str = "SELECT DISTINCT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.state, ''), \
         coalesce(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::int, 0), left(coalesce(a.query, ''), 160) \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND CASE WHEN $1::text IS NULL THEN l.mode = 'AccessExclusiveLock' ELSE l.relation = to_regclass($1)::oid END \
         ORDER BY 1";
    let rows = client.query(SQL, &[&relation]).await.ok()?;
    let holders: Vec<Holder> = rows
        .iter()
        .map(|row| Holder { pid: row.get(0), application: row.get(1), user: row.get(2), state: row.get(3), seconds: row.get(4), query: row.get(5) })
        .collect();
    (!holders.is_empty()).then(|| Described::of(&holders))
}

/// What the holders are, said for an error and its hint.
pub struct Described {
    /// "held by session 4242 (psql, user bob, idle in transaction for 12 s, last query: ...)".
    pub held_by: String,
    /// Whether a holder is a session of this very run.
    pub ours: bool,
    pids: Vec<i32>,
}

impl Described {
    fn of(holders: &[Holder]) -> Described {
        let own = application_name();
        let ours = holders.iter().any(|h| h.application == own);
        let sessions: Vec<String> = holders.iter().map(|h| h.describe(&own)).collect();
        Described { held_by: format!("held by {}", sessions.join("; and by ")), ours, pids: holders.iter().map(|h| h.pid).collect() }
    }

    /// The hint for a change or read that gave up: a bug report when strata blocked itself, else
    /// what the user can do about the holder.
    pub fn hint(&self) -> String {
        if self.ours {
            return "another session of this same strata run holds the lock: strata should have ordered the two changes, so this is a bug in strata; please report it with the plan".into();
        }
        let pids: Vec<String> = self.pids.iter().map(i32::to_string).collect();
        format!(
            "wait for that transaction to end (or end it: SELECT pg_terminate_backend({})), then run strata again; or raise lock_timeout in the provider \"postgres\" block",
            pids.join(", ")
        )
    }
}

impl Holder {
    fn describe(&self, own: &str) -> String {
        let since = format!("{} for {} s", if self.state.is_empty() { "running" } else { &self.state }, self.seconds);
        if self.application == own {
            return format!("session {} of this same strata run ({since})", self.pid);
        }
        let application = if self.application.is_empty() { "no application name".to_owned() } else { self.application.clone() };
        let who = format!("session {} ({application}, user {}, {since}", self.pid, self.user);
        if self.application.starts_with("strata") {
            return format!("{who}: another strata run)");
        }
        format!("{who}, last query: {})", redacted(&self.query))
    }
}

/// Another session's query as it may be shown: not when it could carry a password.
fn redacted(query: &str) -> String {
    let flat = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.to_lowercase().contains("password") {
        return "(not shown: it mentions a password)".into();
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(application: &str, query: &str) -> Holder {
        Holder { pid: 42, application: application.into(), user: "app".into(), state: "idle in transaction".into(), seconds: 12, query: query.into() }
    }

    #[test]
    fn an_applications_session_is_named_with_its_query_and_a_password_never_shown() {
        let described = Described::of(&[holder("psql", "LOCK TABLE users\n  IN ACCESS EXCLUSIVE MODE")]);
        assert_eq!(described.held_by, "held by session 42 (psql, user app, idle in transaction for 12 s, last query: LOCK TABLE users IN ACCESS EXCLUSIVE MODE)");
        assert!(!described.ours);
        assert!(described.hint().contains("pg_terminate_backend(42)"), "{}", described.hint());
        let secret = Described::of(&[holder("psql", "ALTER ROLE app PASSWORD 'hunter2'")]);
        assert!(!secret.held_by.contains("hunter2"), "{}", secret.held_by);
    }

    #[test]
    fn a_session_of_this_run_is_a_bug_and_another_strata_run_is_said_so() {
        let described = Described::of(&[holder(&application_name(), "CREATE INDEX CONCURRENTLY i ON t (a)")]);
        assert!(described.ours);
        assert!(described.held_by.contains("of this same strata run"), "{}", described.held_by);
        assert!(described.hint().contains("bug in strata"));
        let other = Described::of(&[holder("strata/1", "ALTER TABLE t ADD c int")]);
        assert!(!other.ours && other.held_by.contains("another strata run"), "{}", other.held_by);
    }
}
