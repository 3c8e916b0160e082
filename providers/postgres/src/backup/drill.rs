//! `postgres_restore_drill`: restores a policy's backup into a scratch database on a freshness
//! rule and checks it, proving the backups can be restored.
//!
//! A run sweeps the scratch databases earlier runs of this drill left (found by the comment this
//! drill writes on them, never by name alone), checks the dump's sha256 against its manifest,
//! restores it into a new scratch database, checks the restored schema's fingerprint and row
//! counts against the manifest (the backup, not the live database, is what is checked), then
//! `min_rows`, SQL checks and the RPO/RTO limits, drops the scratch database whatever happened,
//! writes a JSON and a markdown report, and records the run in state. A failed check fails the
//! apply, with the failed run recorded: the next plan has the drill due again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use strata_provider_sdk::duty;
use strata_provider_sdk::{Action, ApplyFailure, Declared, PlannedChange, Progress, ProviderError, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::Client;

use super::artefacts::{self, Artefact, Condition};
use super::store::{Destination, Store};
use super::restore::{self, Checks};
use super::dump;
use crate::config::{describe_error, ConnSettings};
use crate::ddl::{ident, qualified_ref};

/// The drill's settings, from its configuration.
#[derive(Clone, Debug)]
pub struct Drill {
    pub source: String,
    pub every: Duration,
    pub every_text: String,
    pub pick: String,
    pub window: Option<Duration>,
    pub database_prefix: String,
    pub schema_matches: bool,
    /// The declared resources the restored schema is planned against; empty for all of them.
    pub schema_resources: Vec<String>,
    pub row_counts: bool,
    pub min_rows: BTreeMap<String, i64>,
    pub sql: Vec<SqlCheck>,
    pub max_backup_age: Option<(Duration, String)>,
    pub max_restore_time: Option<(Duration, String)>,
    pub report_dir: PathBuf,
}

/// The longest scratch database prefix: 63 bytes less the token, the underscore and the time.
const MAX_PREFIX: usize = 63 - 12 - 1 - 14;

/// A query whose first column of its first row must read `expect`.
#[derive(Clone, Debug)]
pub struct SqlCheck {
    pub query: String,
    pub expect: String,
}

fn duration(value: &Value, key: &str) -> Result<Option<(Duration, String)>, ProviderError> {
    value.get_str(key).map(|text| duty::parse(text).map(|d| (d, text.to_owned())).map_err(|err| ProviderError::new(format!("{key}: {err}")))).transpose()
}

impl Drill {
    pub fn from_value(value: &Value) -> Result<Drill, ProviderError> {
        let (every, every_text) = duration(value, "every")?.ok_or_else(|| ProviderError::new("a restore drill needs every"))?;
        let check = value.get("check").filter(|c| !c.is_null()).cloned().unwrap_or(Value::Null);
        let min_rows = match check.get("min_rows").and_then(Value::as_object) {
            Some(map) => map.iter().map(|(table, n)| Ok((table.clone(), n.as_i64().ok_or_else(|| ProviderError::new(format!("min_rows[\"{table}\"] must be a number")))?))).collect::<Result<_, ProviderError>>()?,
            None => BTreeMap::new(),
        };
        let sql = check
            .get_list("sql")
            .iter()
            .map(|c| SqlCheck { query: c.get_str("query").unwrap_or_default().to_owned(), expect: c.get_str("expect").unwrap_or_default().to_owned() })
            .collect();
        let database_prefix = value.get_str("database_prefix").unwrap_or("strata_drill_").to_owned();
        // The scratch database is PREFIX + 12-character token + _ + 14 of time and random: longer than
        // PostgreSQL's 63 bytes, the name would be cut, and the drop would miss it.
        if database_prefix.len() > MAX_PREFIX {
            return Err(ProviderError::new(format!("database_prefix \"{database_prefix}\" is {} bytes long; at most {MAX_PREFIX} fit", database_prefix.len()))
                .with_hint("the scratch database's name adds 27 characters to the prefix, and PostgreSQL names hold 63 bytes"));
        }
        Ok(Drill {
            source: value.get_str("source").unwrap_or_default().to_owned(),
            every,
            every_text,
            pick: value.get_str("pick").unwrap_or("latest").to_owned(),
            window: duration(value, "window")?.map(|(d, _)| d),
            database_prefix,
            schema_matches: check.get_bool("schema_matches").unwrap_or(true),
            schema_resources: check.get_strings("schema_resources"),
            row_counts: check.get_str("row_counts").unwrap_or("manifest") == "manifest",
            min_rows,
            sql,
            max_backup_age: duration(value, "max_backup_age")?,
            max_restore_time: duration(value, "max_restore_time")?,
            report_dir: super::absolute(std::path::Path::new(value.get_str("report_dir").unwrap_or(".strata/drills"))),
        })
    }
}

/// A drill's id: `drill-TOKEN`, the token marking the scratch databases it creates.
fn token_of(value: &Value) -> Option<String> {
    value.get_str("id")?.strip_prefix("drill-").map(str::to_owned)
}

/// Why the drill is due now, or `None`.
fn due(drill: &Drill, last_run: Option<&Value>, now: OffsetDateTime) -> Option<String> {
    let Some(run) = last_run.filter(|r| !r.is_null()) else { return Some(format!("drill due: it has never run (every = {})", drill.every_text)) };
    let at = run.get_str("at").and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
    let Some(at) = at else { return Some("drill due: its last run has no time".into()) };
    let age = Duration::from_secs(u64::try_from((now - at).whole_seconds()).unwrap_or(0));
    if run.get_bool("passed") != Some(true) {
        let failures = run.get_strings("failures").join("; ");
        return Some(format!("drill due: its last run, {} ago, failed: {failures}", duty::human(age)));
    }
    (age >= drill.every).then(|| format!("drill due: it last ran {} ago (every = {})", duty::human(age), drill.every_text))
}

pub fn plan(prior: Option<&Value>, desired: &Value, now: OffsetDateTime) -> Result<PlannedChange, ProviderError> {
    let drill = Drill::from_value(desired)?;
    // Unknown while its policy is still to be created.
    if desired.get("source").is_some_and(|s| !s.is_unknown()) {
        Destination::parse_id(&drill.source)?;
    }
    let mut planned = desired.clone();
    planned.set("id", prior.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Unknown));
    let last_run = prior.and_then(|p| p.get("last_run"));
    let why = due(&drill, last_run, now);
    let settings_changed = prior.is_some_and(|p| {
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.set("id", Value::Null);
            v.set("last_run", Value::Null);
            v
        };
        strip(p) != strip(desired)
    });
    let action = match (prior, &why) {
        (None, _) => Action::Create,
        (Some(_), Some(_)) => Action::Update,
        (Some(_), None) if settings_changed => Action::Update,
        (Some(prior), None) => return Ok(PlannedChange::new(Action::NoOp, prior.clone())),
    };
    planned.set("last_run", if why.is_some() { Value::Unknown } else { last_run.cloned().unwrap_or(Value::Null) });
    let mut change = PlannedChange::new(action, planned);
    if let Some(why) = why {
        change.duties.push(why);
        change.operations = drill_operations(&drill);
    }
    Ok(change)
}

fn drill_operations(drill: &Drill) -> Vec<String> {
    let scratch = format!("{}TOKEN_ID", drill.database_prefix);
    let mut operations = vec![
        "DROP DATABASE of any scratch database an earlier run of this drill left (its comment names the drill)".to_owned(),
        format!("pick the {} good backup of {} and check its sha256 against the manifest", drill.pick, drill.source),
        format!("CREATE DATABASE {scratch}; pg_restore --exit-on-error --dbname={scratch} BACKUP"),
    ];
    if drill.schema_matches {
        operations.push("compare the restored schema's fingerprint with the manifest's, and plan the declared postgres resources against it (no changes expected)".into());
    }
    if drill.row_counts {
        operations.push("count the rows of every restored table against the manifest".into());
    }
    operations.extend(drill.min_rows.iter().map(|(table, n)| format!("check {table} has at least {n} rows")));
    operations.extend(drill.sql.iter().map(|c| format!("check {} reads {:?}", c.query, c.expect)));
    operations.push(format!("DROP DATABASE {scratch}; write the report to {}", drill.report_dir.display()));
    operations
}

/// One run's outcome, as state and the reports keep it.
struct Run {
    at: OffsetDateTime,
    backup: Option<Artefact>,
    database: String,
    restore_seconds: Option<f64>,
    tables_checked: usize,
    checks: Checks,
    /// What the run saw and left alone (not checks: they do not fail it).
    notes: Vec<String>,
}

impl Run {
    fn fail(&mut self, what: impl Into<String>) {
        self.checks.fail(what);
    }

    fn pass(&mut self, what: impl Into<String>) {
        self.checks.pass(what);
    }

    fn to_value(&self, report: &str) -> Value {
        Value::object([
            ("at", Value::string(self.at.format(&Rfc3339).unwrap_or_default())),
            ("backup_id", self.backup.as_ref().map_or(Value::Null, |b| Value::string(&b.manifest.backup_id))),
            ("passed", Value::Bool(self.checks.passed())),
            ("restore_seconds", self.restore_seconds.map_or(Value::Null, |s| Value::Number(serde_json::Number::from_f64((s * 1000.0).round() / 1000.0).unwrap_or_else(|| 0.into())))),
            ("tables_checked", Value::int(i64::try_from(self.tables_checked).unwrap_or(i64::MAX))),
            ("failures", Value::List(self.checks.failures().iter().map(Value::string).collect())),
            ("report", Value::string(report)),
        ])
    }
}

/// Runs the drill; a run with a failed check is an error that still records the run.
pub async fn apply(settings: &ConnSettings, action: Action, prior: Option<&Value>, planned: &Value, declared: &[Declared], progress: &Progress) -> Result<Value, ApplyFailure> {
    if action == Action::Delete {
        return Ok(Value::Null);
    }
    let drill = Drill::from_value(planned)?;
    let compared = compared_resources(&drill, declared)?;
    let token = prior.and_then(token_of).unwrap_or_else(|| stable_token(&drill));
    let now = OffsetDateTime::now_utc();
    // The time to the second and 4 random hex digits: a re-run never meets the name of a
    // database an earlier, killed run left without its comment.
    let stamp = now.format(&time::macros::format_description!("[month][day][hour][minute][second]")).unwrap_or_default();
    let random = &uuid::Uuid::new_v4().simple().to_string()[..4];
    let mut run = Run { at: now, backup: None, database: format!("{}{token}_{stamp}{random}", drill.database_prefix), restore_seconds: None, tables_checked: 0, checks: Checks::default(), notes: vec![] };
    let client = settings.connect().await?;
    run.notes = sweep(&client, &drill, &token).await?;
    execute(settings, &client, &drill, &token, &compared, progress, &mut run).await;
    // Always: a failed check or restore must not leave the scratch database behind.
    if let Err(err) = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&run.database))).await {
        run.fail(format!("cannot drop the scratch database {}: {}", run.database, describe_error(&err)));
    }
    let report = write_reports(&drill, &token, &run).map_err(ApplyFailure::from)?;
    let mut value = planned.clone();
    value.set("id", Value::string(format!("drill-{token}")));
    value.set("last_run", run.to_value(&report.display().to_string()));
    if run.checks.passed() {
        return Ok(value);
    }
    let error = ProviderError::new(format!("the restore drill failed: {}", run.checks.failures().join("; "))).with_hint(format!("the report is {}", report.display()));
    Err(ApplyFailure { error, partial: Some(value), in_doubt: false })
}

/// A new drill's token, from its source and scratch database prefix: a drill recreated after an
/// apply killed mid-run gets the same token, so its sweep finds the scratch database that run
/// left.
fn stable_token(drill: &Drill) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("drill\0{}\0{}", drill.source, drill.database_prefix).as_bytes());
    hex::encode(digest)[..12].to_owned()
}

/// The comment that marks a scratch database as this drill's, so a sweep never drops another.
fn mark(token: &str) -> String {
    format!("strata restore drill {token}")
}

/// Whether `name` is a scratch database name this drill makes: its prefix and token, then 14
/// characters of time and random hex.
fn scratch_name_of(drill: &Drill, token: &str, name: &str) -> bool {
    name.strip_prefix(&format!("{}{token}_", drill.database_prefix)).is_some_and(|stamp| stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Drops the scratch databases earlier runs of this drill left, found by the comment it wrote
/// on them. One without any comment but with a name this drill makes (a run killed between
/// CREATE DATABASE and COMMENT, which cannot share a transaction) carries no proof it is
/// strata's: it is left alone, and the notes returned say so.
async fn sweep(client: &Client, drill: &Drill, token: &str) -> Result<Vec<String>, ProviderError> {
    let rows = client
        .query(
            "SELECT datname, shobj_description(oid, 'pg_database') IS NOT DISTINCT FROM $1 FROM pg_database \
              WHERE shobj_description(oid, 'pg_database') = $1 OR (shobj_description(oid, 'pg_database') IS NULL AND starts_with(datname, $2))",
            &[&mark(token), &format!("{}{token}_", drill.database_prefix)],
        )
        .await
        .map_err(|err| ProviderError::new(format!("cannot look for earlier drills' databases: {}", describe_error(&err))))?;
    let (marked, unmarked): (Vec<_>, Vec<_>) = rows.iter().partition(|row| row.get::<_, bool>(1));
    let notes = unmarked
        .iter()
        .map(|row| row.get::<_, String>(0))
        .filter(|name| scratch_name_of(drill, token, name))
        .map(|name| format!("left alone: database {name} is named like this drill's scratch databases but has no drill comment; drop it by hand if a killed drill left it"))
        .collect();
    for row in marked {
        let name: String = row.get(0);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&name)))
            .await
            .map_err(|err| ProviderError::new(format!("cannot drop {name}, left by an earlier drill: {}", describe_error(&err))))?;
    }
    Ok(notes)
}

/// The backup the drill restores: the newest good one, or a random good one within `window`.
fn pick(drill: &Drill, backups: &[Artefact], now: OffsetDateTime) -> Option<Artefact> {
    // A damaged dump is still picked: the drill is there to find it.
    let good: Vec<&Artefact> = backups.iter().filter(|a| a.condition != Condition::Missing).collect();
    if drill.pick != "random" {
        return good.last().map(|a| (*a).clone());
    }
    let window = drill.window.unwrap_or(drill.every);
    let recent: Vec<&&Artefact> = good
        .iter()
        .filter(|a| OffsetDateTime::parse(&a.manifest.taken_at, &Rfc3339).is_ok_and(|t| (now - t).whole_seconds() <= i64::try_from(window.as_secs()).unwrap_or(i64::MAX)))
        .collect();
    let chosen = recent.get(usize::try_from(uuid::Uuid::new_v4().as_u128() % recent.len().max(1) as u128).unwrap_or(0));
    chosen.map(|a| (**a).clone()).or_else(|| good.last().map(|a| (*a).clone()))
}

/// The declared resources `schema_matches` plans against the restored database: those
/// `schema_resources` names, or all of them. A name that is not declared is an error before
/// anything is restored.
fn compared_resources(drill: &Drill, declared: &[Declared]) -> Result<Vec<Declared>, ProviderError> {
    if !drill.schema_matches {
        return Ok(vec![]);
    }
    if drill.schema_resources.is_empty() {
        return Ok(declared.to_vec());
    }
    drill
        .schema_resources
        .iter()
        .map(|name| {
            declared.iter().find(|d| d.address == *name).cloned().ok_or_else(|| {
                let closest = declared.iter().map(|d| d.address.as_str()).max_by(|a, b| strsim::jaro_winkler(name, a).total_cmp(&strsim::jaro_winkler(name, b)));
                let hint = closest.map_or("name a postgres resource this configuration declares".to_owned(), |c| format!("did you mean \"{c}\"?"));
                ProviderError::new(format!("check.schema_resources names \"{name}\", which the configuration does not declare")).with_hint(hint)
            })
        })
        .collect()
}

/// Plans the declared resources against the restored database, as a run against it would: the
/// check passes when every one would be left as it is.
async fn plan_against_restored(settings: &ConnSettings, compared: &[Declared], run: &mut Run) {
    match crate::plan_against(settings, &run.database, compared).await {
        Ok(changes) if changes.is_empty() => run.pass(format!("the restored schema plans as no changes against {} declared resource(s)", compared.len())),
        Ok(changes) => run.fail(format!("the restored schema differs from the configuration: {}", changes.join("; "))),
        Err(err) => run.fail(format!("cannot plan the configuration against the restored database: {}", err.message)),
    }
}

/// The store the drill's source names, and the backups there.
async fn backups_of(source: &str) -> Result<(Store, Vec<Artefact>), ProviderError> {
    let (destination, token) = Destination::parse_id(source)?;
    let store = Store::open(&destination).await?;
    let backups = store.list(&token).await?;
    Ok((store, backups))
}

/// The run's steps up to the checks; every failure is recorded in `run`, none returned.
async fn execute(settings: &ConnSettings, client: &Client, drill: &Drill, token: &str, compared: &[Declared], progress: &Progress, run: &mut Run) {
    let (store, backups) = match backups_of(&drill.source).await {
        Ok(found) => found,
        Err(err) => return run.fail(err.message),
    };
    let Some(backup) = pick(drill, &backups, run.at) else { return run.fail(format!("{} has no backup to restore", drill.source)) };
    run.backup = Some(backup.clone());
    if let Some((limit, text)) = &drill.max_backup_age {
        let age = OffsetDateTime::parse(&backup.manifest.taken_at, &Rfc3339).map_or(Duration::MAX, |t| Duration::from_secs(u64::try_from((run.at - t).whole_seconds()).unwrap_or(0)));
        let line = format!("backup age {} within max_backup_age = {text} (RPO)", duty::human(age));
        if age <= *limit { run.pass(line) } else { run.fail(format!("backup {} is {} old, over max_backup_age = {text} (RPO)", backup.manifest.backup_id, duty::human(age))) }
    }
    let fetched = match store.fetch(&backup).await {
        Ok(fetched) => fetched,
        Err(err) => return run.fail(err.message),
    };
    if !restore::sha256_matches(&backup, &fetched.path, &mut run.checks) {
        return;
    }
    match restore::into_new_database(settings, client, &backup, &fetched.path, &run.database, Some(&mark(token)), progress).await {
        Ok(seconds) => run.restore_seconds = Some(seconds),
        Err(err) => return run.fail(err.message),
    }
    if let Some((limit, text)) = &drill.max_restore_time {
        let took = Duration::from_secs_f64(run.restore_seconds.unwrap_or(0.0));
        if took <= *limit { run.pass(format!("restore took {:.1}s, within max_restore_time = {text} (RTO)", took.as_secs_f64())) } else { run.fail(format!("restore took {:.1}s, over max_restore_time = {text} (RTO)", took.as_secs_f64())) }
    }
    let scratch = match settings.with_database(&run.database).connect().await {
        Ok(scratch) => scratch,
        Err(err) => return run.fail(err.message),
    };
    if let Err(err) = check_restored(&scratch, drill, &backup, run).await {
        run.fail(err.message);
    }
    if drill.schema_matches && !compared.is_empty() {
        plan_against_restored(settings, compared, run).await;
    }
}

/// The checks of the restored database against the backup's manifest and the drill's own.
async fn check_restored(scratch: &Client, drill: &Drill, backup: &Artefact, run: &mut Run) -> Result<(), ProviderError> {
    run.tables_checked = restore::against_manifest(scratch, &backup.manifest, drill.schema_matches, drill.row_counts, &mut run.checks).await?;
    for (table, minimum) in &drill.min_rows {
        let counted = dump::exact_counts(scratch, &[(table.clone(), qualified_ref(table))]).await.ok().and_then(|c| c.get(table).copied());
        match counted {
            Some(n) if n >= *minimum => run.pass(format!("{table} has {n} rows (min_rows = {minimum})")),
            Some(n) => run.fail(format!("{table} has {n} rows, fewer than min_rows = {minimum}")),
            None => run.fail(format!("{table} (named in min_rows) is not in the restored database")),
        }
        run.tables_checked = run.tables_checked.max(1);
    }
    for check in &drill.sql {
        let answer = scratch.query(check.query.as_str(), &[]).await.map_err(|err| describe_error(&err));
        let first = answer.map(|rows| rows.first().map(first_column_text).unwrap_or_default());
        match first {
            Ok(got) if got == check.expect => run.pass(format!("{} reads {:?}", check.query, check.expect)),
            Ok(got) => run.fail(format!("{} reads {got:?}, expected {:?}", check.query, check.expect)),
            Err(err) => run.fail(format!("{} failed: {err}", check.query)),
        }
    }
    if run.tables_checked == 0 && run.checks.passed() {
        run.fail("the drill checked zero tables: turn on row_counts or name tables in min_rows");
    }
    Ok(())
}

/// The first column of `row` as text (a check's query should cast it: `SELECT count(*)::text`).
fn first_column_text(row: &tokio_postgres::Row) -> String {
    use tokio_postgres::types::Type;
    let column = &row.columns()[0];
    match *column.type_() {
        Type::INT2 => row.get::<_, Option<i16>>(0).map(|n| n.to_string()),
        Type::INT4 => row.get::<_, Option<i32>>(0).map(|n| n.to_string()),
        Type::INT8 => row.get::<_, Option<i64>>(0).map(|n| n.to_string()),
        Type::BOOL => row.get::<_, Option<bool>>(0).map(|b| b.to_string()),
        _ => row.try_get::<_, Option<String>>(0).ok().flatten(),
    }
    .unwrap_or_default()
}

/// Writes `<report_dir>/drill-TOKEN-STAMP.json` and `.md`; the JSON's path.
fn write_reports(drill: &Drill, token: &str, run: &Run) -> Result<PathBuf, ProviderError> {
    std::fs::create_dir_all(&drill.report_dir).map_err(|err| artefacts::io_error("cannot create", &drill.report_dir, &err))?;
    let stamp = run.at.format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap_or_default();
    let base = drill.report_dir.join(format!("drill-{token}-{stamp}"));
    let backup = run.backup.as_ref();
    let json = serde_json::json!({
        "drill": format!("drill-{token}"),
        "source": drill.source,
        "at": run.at.format(&Rfc3339).unwrap_or_default(),
        "passed": run.checks.passed(),
        "backup": backup.map(|b| serde_json::json!({"id": b.manifest.backup_id, "path": b.location, "taken_at": b.manifest.taken_at, "bytes": b.manifest.bytes, "sha256": b.manifest.sha256})),
        "scratch_database": run.database,
        "restore_seconds": run.restore_seconds,
        "tables_checked": run.tables_checked,
        "checks": run.checks.entries.iter().map(|(what, passed)| serde_json::json!({"check": what, "passed": passed})).collect::<Vec<_>>(),
        "failures": run.checks.failures(),
        "notes": run.notes,
    });
    let mut markdown = format!(
        "# Restore drill {}\n\n**{}** at {} — backup `{}` of `{}`\n\n| check | result |\n| --- | --- |\n",
        format_args!("drill-{token}"),
        if run.checks.passed() { "Passed" } else { "FAILED" },
        run.at.format(&Rfc3339).unwrap_or_default(),
        backup.map_or("none", |b| b.manifest.backup_id.as_str()),
        drill.source,
    );
    for (what, passed) in &run.checks.entries {
        markdown.push_str(&format!("| {} | {} |\n", what.replace('|', "\\|"), if *passed { "passed" } else { "**failed**" }));
    }
    for note in &run.notes {
        markdown.push_str(&format!("\n> {note}\n"));
    }
    let json_path = base.with_extension("json");
    let write = |path: &PathBuf, text: &str| std::fs::write(path, text).map_err(|err| artefacts::io_error("cannot write", path, &err));
    write(&json_path, &serde_json::to_string_pretty(&json).unwrap_or_default())?;
    write(&base.with_extension("md"), &markdown)?;
    Ok(json_path)
}

/// The live drill is what its runs recorded: there is nothing else to read.
pub fn refresh(state: &Value) -> Option<Value> {
    Some(state.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drill(prefix: &str) -> Result<Drill, ProviderError> {
        Drill::from_value(&Value::object([("source", Value::string("file:///b?policy=t")), ("every", Value::string("7d")), ("database_prefix", Value::string(prefix))]))
    }

    #[test]
    fn scratch_names_are_the_prefix_the_token_and_a_14_digit_time() {
        let drill = drill("strata_drill_").expect("drill");
        assert!(scratch_name_of(&drill, "58da69535c6f", "strata_drill_58da69535c6f_20261201175543"));
        assert!(!scratch_name_of(&drill, "58da69535c6f", "strata_drill_58da69535c6f_2026120117554"));
        assert!(!scratch_name_of(&drill, "58da69535c6f", "strata_drill_58da69535c6f_mine"));
        assert!(!scratch_name_of(&drill, "58da69535c6f", "strata_drill_0000000000ff_20261201175543"));
    }

    #[test]
    fn a_prefix_too_long_for_a_database_name_is_refused() {
        assert!(drill(&"p".repeat(MAX_PREFIX)).is_ok());
        let err = drill(&"p".repeat(MAX_PREFIX + 1)).expect_err("refused");
        assert!(err.message.contains("at most 36 fit"), "{}", err.message);
    }

    #[test]
    fn a_drill_is_due_when_it_never_ran_failed_or_is_older_than_every() {
        let drill = drill("strata_drill_").expect("drill");
        let now = OffsetDateTime::now_utc();
        let run = |ago: i64, passed: bool| Value::object([("at", Value::string((now - time::Duration::hours(ago)).format(&Rfc3339).unwrap())), ("passed", Value::Bool(passed)), ("failures", Value::List(vec![Value::string("row counts differ")]))]);
        assert!(due(&drill, None, now).unwrap().contains("never run"));
        assert!(due(&drill, Some(&run(1, false)), now).unwrap().contains("failed: row counts differ"));
        assert!(due(&drill, Some(&run(200, true)), now).unwrap().contains("last ran 8d 8h ago"));
        assert_eq!(due(&drill, Some(&run(1, true)), now), None);
    }
}
