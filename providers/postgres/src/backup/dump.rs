//! Taking and reading dumps with PostgreSQL's own tools: `pg_dump` in a snapshot this provider
//! exported (so the manifest's row counts and schema fingerprint describe exactly what was
//! dumped), `pg_restore -f /dev/null` to read a whole archive back, `pg_restore -d` into a
//! database. The tools get the connection from the libpq environment, never the command line.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use strata_provider_sdk::{Progress, ProviderError};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio_postgres::Client;

use super::artefacts::{self, Manifest, WRITTEN_BY};
use super::policy::Policy;
use super::watch::{tells_a_failure, Watch, REPORT_EVERY};
use crate::config::{describe_error, ConnSettings};

/// A PostgreSQL client tool whose major version is at least the server's.
pub struct Tool {
    pub path: PathBuf,
    pub version: String,
}

/// The major version of a `--version` line ("pg_dump (PostgreSQL) 15.8 (Debian ...)").
fn major_of(version_line: &str) -> Option<u32> {
    let version = version_line.split_whitespace().find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    let digits = version.find(|c: char| !c.is_ascii_digit()).unwrap_or(version.len());
    version[..digits].parse().ok()
}

/// Finds `name` (pg_dump, pg_restore) on PATH, else in Debian's and the PGDG packages'
/// `/usr/lib/postgresql/MAJOR/bin`, at the server's major version or newer: an older tool
/// cannot read the server's catalog.
pub async fn find_tool(name: &str, server_major: u32) -> Result<Tool, ProviderError> {
    let mut candidates = vec![PathBuf::from(name)];
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin").join(name)).collect();
        dirs.sort();
        candidates.extend(dirs.into_iter().rev());
    }
    let mut seen = Vec::new();
    for candidate in candidates {
        let Ok(output) = Command::new(&candidate).arg("--version").output().await else { continue };
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        match major_of(&line) {
            Some(major) if major >= server_major => return Ok(Tool { path: candidate, version: line }),
            Some(_) => seen.push(format!("{} ({line})", candidate.display())),
            None => {}
        }
    }
    let found = if seen.is_empty() { format!("no {name} was found") } else { format!("only older ones were found: {}", seen.join(", ")) };
    Err(ProviderError::new(format!("{name} {server_major} or newer is needed for a PostgreSQL {server_major} server, and {found}"))
        .with_hint(format!("install the PostgreSQL client packages of version {server_major} or newer (Debian: apt-get install postgresql-client-{server_major}), or put such a {name} first on PATH")))
}

/// The server's major version and full version string.
pub async fn server_version(client: &Client) -> Result<(u32, String), ProviderError> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int / 10000, current_setting('server_version')", &[])
        .await
        .map_err(|err| ProviderError::new(format!("cannot read the server's version: {}", describe_error(&err))))?;
    Ok((u32::try_from(row.get::<_, i32>(0)).unwrap_or(0), row.get(1)))
}

/// The schemas a backup covers: the policy's, or every schema but PostgreSQL's own.
const SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
     AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))";

/// The catalog definition of the covered schemas as sorted lines: relations, columns with their
/// types, nullability and defaults, constraints, indexes, views, functions (not those of
/// extensions) and enum labels. A restore that made the same schema reads the same lines.
fn fingerprint_query() -> String {
    format!(
        "SELECT coalesce(string_agg(line, E'\\n' ORDER BY line), '') FROM (
           SELECT format('rel %s %s.%s', c.relkind, n.nspname, c.relname) AS line
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {SCHEMA_FILTER} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           UNION ALL
           SELECT format('col %s.%s.%s %s %s %s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE {SCHEMA_FILTER} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
           UNION ALL
           SELECT format('con %s.%s %s %s', n.nspname, c.relname, co.conname, pg_get_constraintdef(co.oid))
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {SCHEMA_FILTER}
           UNION ALL
           SELECT format('idx %s', pg_get_indexdef(i.indexrelid))
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {SCHEMA_FILTER}
           UNION ALL
           SELECT format('view %s.%s %s', n.nspname, c.relname, pg_get_viewdef(c.oid))
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {SCHEMA_FILTER} AND c.relkind IN ('v', 'm')
           UNION ALL
           SELECT format('fn %s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(pg_get_functiondef(p.oid)))
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE {SCHEMA_FILTER} AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
           UNION ALL
           SELECT format('enum %s.%s %s', n.nspname, t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder))
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
            WHERE {SCHEMA_FILTER} GROUP BY n.nspname, t.typname
         ) lines"
    )
}

/// The sha256 of the covered schemas' definition, read by `client` (in its current transaction).
pub async fn schema_fingerprint(client: &Client, schemas: &[String]) -> Result<String, ProviderError> {
    use sha2::Digest;
    let row = client.query_one(fingerprint_query().as_str(), &[&schemas]).await.map_err(|err| read_failed("the schema's definition", &err))?;
    Ok(hex::encode(sha2::Sha256::digest(row.get::<_, String>(0).as_bytes())))
}

/// The covered ordinary tables (partitions included, partitioned parents not: their rows are
/// their partitions'), as `schema.table` with the quoted name to count them by.
async fn tables(client: &Client, schemas: &[String]) -> Result<Vec<(String, String)>, ProviderError> {
    let query = format!(
        "SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE {SCHEMA_FILTER} AND c.relkind = 'r'
            AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
          ORDER BY 1"
    );
    let rows = client.query(query.as_str(), &[&schemas]).await.map_err(|err| read_failed("the tables to count", &err))?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Exact row counts of `tables` (name, quoted name) in one statement per 500 tables: a round
/// trip per table would cost more than the counting at 1,000 tables.
pub async fn exact_counts(client: &Client, tables: &[(String, String)]) -> Result<BTreeMap<String, i64>, ProviderError> {
    let mut counts = BTreeMap::new();
    for chunk in tables.chunks(500) {
        let query = chunk.iter().enumerate().map(|(i, (_, quoted))| format!("SELECT {i}, count(*) FROM {quoted}")).collect::<Vec<_>>().join(" UNION ALL ");
        for row in client.query(query.as_str(), &[]).await.map_err(|err| read_failed("row counts", &err))? {
            let index = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0);
            counts.insert(chunk[index].0.clone(), row.get::<_, i64>(1));
        }
    }
    Ok(counts)
}

async fn estimated_counts(client: &Client, tables: &[(String, String)]) -> Result<BTreeMap<String, i64>, ProviderError> {
    let names: Vec<&str> = tables.iter().map(|(name, _)| name.as_str()).collect();
    let rows = client
        .query("SELECT n.nspname || '.' || c.relname, greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname = ANY($1)", &[&names])
        .await
        .map_err(|err| read_failed("row estimates", &err))?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Whether `table` (`schema.name`) matches one of pg_dump's `--exclude-table-data` patterns
/// (`*` and `?` wildcards; a pattern without a dot matches the name in any schema).
pub fn excluded(table: &str, patterns: &[String]) -> bool {
    let name = table.split_once('.').map_or(table, |(_, name)| name);
    patterns.iter().any(|pattern| if pattern.contains('.') { glob(pattern, table) } else { glob(pattern, name) })
}

fn glob(pattern: &str, text: &str) -> bool {
    match (pattern.chars().next(), text.chars().next()) {
        (None, None) => true,
        (Some('*'), _) => glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[text.chars().next().map_or(0, char::len_utf8)..])),
        (Some('?'), Some(c)) => glob(&pattern[1..], &text[c.len_utf8()..]),
        (Some(p), Some(c)) if p == c => glob(&pattern[p.len_utf8()..], &text[c.len_utf8()..]),
        _ => false,
    }
}

/// Takes one backup of the provider's database into `dir` for the policy with `token`, as
/// `backup_id`: pg_dump in an exported snapshot, the counts and fingerprint read in the same
/// snapshot, the whole archive read back; the manifest it returns is for the store to write,
/// last: nothing is listed until it exists.
pub async fn take(settings: &ConnSettings, policy: &Policy, dir: &Path, token: &str, backup_id: &str, progress: &Progress) -> Result<Manifest, ProviderError> {
    let started = Instant::now();
    let client = settings.connect().await?;
    let (server_major, server_version) = server_version(&client).await?;
    let pg_dump = find_tool("pg_dump", server_major).await?;
    let pg_restore = find_tool("pg_restore", server_major).await?;
    let sql = |err: tokio_postgres::Error| ProviderError::new(format!("cannot open the backup's snapshot: {}", describe_error(&err)));
    client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await.map_err(sql)?;
    let snapshot: String = client.query_one("SELECT pg_export_snapshot()", &[]).await.map_err(sql)?.get(0);
    let taken_at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
    let fingerprint = schema_fingerprint(&client, &policy.schemas).await?;
    let (counted, data_excluded): (Vec<_>, Vec<_>) = tables(&client, &policy.schemas).await?.into_iter().partition(|(name, _)| !excluded(name, &policy.exclude_table_data));
    let row_counts = match policy.row_counts.as_str() {
        "estimate" => estimated_counts(&client, &counted).await?,
        _ => exact_counts(&client, &counted).await?,
    };
    let extension = if policy.format == "directory" { "dir" } else { "dump" };
    let file = format!("{}{backup_id}.{extension}", artefacts::prefix(token));
    let partial = dir.join(format!("{file}.partial"));
    let dumped = run(settings, &pg_dump.path, &dump_arguments(policy, &snapshot, &partial), Some(Watch::dump(progress, &partial, counted.len()))).await;
    // The snapshot must outlive pg_dump's use of it; the transaction only read.
    let _ = client.batch_execute("COMMIT").await;
    dumped.map_err(|err| ProviderError::new(format!("pg_dump of database \"{}\" failed: {err}", settings.database)))?;
    verify_archive(settings, &pg_restore.path, &partial).await?;
    let bytes = artefacts::size_of(&partial).map_err(|err| artefacts::io_error("cannot read", &partial, &err))?;
    let sha256 = artefacts::sha256_of(&partial).map_err(|err| artefacts::io_error("cannot read", &partial, &err))?;
    let final_path = dir.join(&file);
    std::fs::rename(&partial, &final_path).map_err(|err| artefacts::io_error("cannot rename", &partial, &err))?;
    let manifest = Manifest {
        written_by: WRITTEN_BY.into(),
        policy: token.into(),
        backup_id: backup_id.into(),
        file,
        format: policy.format.clone(),
        taken_at,
        duration_seconds: started.elapsed().as_secs_f64(),
        bytes,
        sha256,
        database: settings.database.clone(),
        schemas: policy.schemas.clone(),
        server_version,
        pg_dump_version: pg_dump.version,
        snapshot,
        schema_fingerprint: fingerprint,
        row_count_method: policy.row_counts.clone(),
        row_counts,
        data_excluded: data_excluded.into_iter().map(|(name, _)| name).collect(),
        verified_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
    };
    Ok(manifest)
}

/// pg_dump's arguments for `policy` in `snapshot`, writing `output`.
pub fn dump_arguments(policy: &Policy, snapshot: &str, output: &Path) -> Vec<String> {
    let mut args = vec![format!("--format={}", policy.format), format!("--snapshot={snapshot}"), format!("--file={}", output.display())];
    if let Some(jobs) = policy.jobs {
        args.push(format!("--jobs={jobs}"));
    }
    if let Some(level) = policy.compress {
        args.push(format!("--compress={level}"));
    }
    args.extend(policy.schemas.iter().map(|schema| format!("--schema={schema}")));
    args.extend(policy.exclude_table_data.iter().map(|table| format!("--exclude-table-data={table}")));
    args
}

/// Reads the whole archive (`--list` alone would pass a truncated file): pg_restore writes the
/// script it would run, data included, to /dev/null.
pub async fn verify_archive(settings: &ConnSettings, pg_restore: &Path, archive: &Path) -> Result<(), ProviderError> {
    run(settings, pg_restore, &["--file=/dev/null".to_owned(), archive.display().to_string()], None)
        .await
        .map_err(|err| ProviderError::new(format!("the archive {} cannot be read back whole: {err}", archive.display())).with_hint("the dump is damaged or incomplete; take a new backup"))
}

/// Restores `archive` into the existing, empty database `database`, stopping at the first error.
pub async fn restore(settings: &ConnSettings, pg_restore: &Path, archive: &Path, database: &str, watch: Watch<'_>) -> Result<(), ProviderError> {
    let args = ["--exit-on-error".to_owned(), format!("--dbname={database}"), archive.display().to_string()];
    run(&settings.with_database(database), pg_restore, &args, Some(watch)).await.map_err(|err| ProviderError::new(format!("pg_restore of {} into \"{database}\" failed: {err}", archive.display())))
}

/// Runs a client tool against the server `settings` names; its error output when it fails.
/// With a `watch`, the tool runs `--verbose` and its lines say how far it is.
async fn run(settings: &ConnSettings, tool: &Path, args: &[String], mut watch: Option<Watch<'_>>) -> Result<(), String> {
    let mut command = Command::new(tool);
    if watch.is_some() {
        command.arg("--verbose");
    }
    let cannot_run = |err: std::io::Error| format!("cannot run {}: {err}", tool.display());
    let mut child = command.args(args).envs(settings.libpq_env()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(cannot_run)?;
    let mut told = VecDeque::new();
    if let Some(stderr) = child.stderr.take() {
        let mut lines = BufReader::new(stderr).lines();
        let mut refresh = tokio::time::interval(REPORT_EVERY);
        loop {
            let line = tokio::select! {
                line = lines.next_line() => line,
                _ = refresh.tick(), if watch.is_some() => {
                    watch.iter().for_each(Watch::report);
                    continue;
                }
            };
            let Ok(Some(line)) = line else { break };
            if let Some(watch) = watch.as_mut() {
                watch.line(&line);
            }
            if watch.is_none() || tells_a_failure(&line) {
                told.push_back(line);
                if told.len() > 5 {
                    told.pop_front();
                }
            }
        }
    }
    let status = child.wait().await.map_err(cannot_run)?;
    if status.success() {
        return Ok(());
    }
    Err(format!("{} exited with {status}: {}", tool.display(), Vec::from(told).join(" / ")))
}

fn read_failed(what: &str, err: &tokio_postgres::Error) -> ProviderError {
    ProviderError::new(format!("cannot read {what}: {}", describe_error(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_from_tool_lines() {
        assert_eq!(major_of("pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)"), Some(15));
        assert_eq!(major_of("pg_restore (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(major_of("garbage"), None);
    }

    #[test]
    fn excluded_table_data_matches_pg_dump_patterns() {
        let patterns = vec!["audit.*".to_owned(), "event_log".to_owned(), "public.tmp_?".to_owned()];
        assert!(excluded("audit.entries", &patterns));
        assert!(excluded("public.event_log", &patterns));
        assert!(excluded("ml.event_log", &patterns));
        assert!(excluded("public.tmp_1", &patterns));
        assert!(!excluded("public.tmp_12", &patterns));
        assert!(!excluded("public.users", &patterns));
    }
}
