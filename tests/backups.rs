//! Backup policies and restore drills against real PostgreSQL, pg_dump and pg_restore: a backup
//! is taken, read back whole and listed; the plan right after has nothing due and, once `every`
//! has passed, a backup due; retention prunes exactly the oldest and never a file that is not
//! the policy's; a drill restores into a scratch database, checks schema and row counts against
//! the manifest, cleans up and reports; a truncated dump is drift and due again, a corrupted one
//! turns the drill and `strata drift` red, while rows deleted live after the backup do not (the
//! drill checks the backup).

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestDb, Workdir};

/// A small ML-service schema: runs and their metrics, with a few rows.
const SCHEMA: &str = r#"
resource "postgres_table" "runs" {
  name = "runs"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "model"
    type = "text"
    null = false
  }
  column {
    name    = "started_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }

  primary_key = ["id"]
}

resource "postgres_table" "metrics" {
  name = "metrics"

  column {
    name = "run_id"
    type = "bigint"
    null = false
  }
  column {
    name = "name"
    type = "text"
    null = false
  }
  column {
    name = "value"
    type = "double precision"
  }

  primary_key = ["run_id", "name"]

  foreign_key {
    columns     = ["run_id"]
    references  = "public.runs"
    ref_columns = ["id"]
    on_delete   = "cascade"
  }
}
"#;

fn policy(every: &str, retention: &str) -> String {
    format!(
        r#"
resource "postgres_backup_policy" "nightly" {{
  every = "{every}"

  destination {{
    path = "backups"
  }}
{retention}
  depends_on = [postgres_table.metrics]
}}
"#
    )
}

const DRILL: &str = r#"
resource "postgres_restore_drill" "weekly" {
  source = postgres_backup_policy.nightly.id
  every  = "1h"

  check {
    schema_matches = true
    row_counts     = "manifest"
    min_rows       = { "public.runs" = 2 }

    sql {
      query  = "SELECT count(*) FROM metrics WHERE name = 'loss'"
      expect = "2"
    }
  }

  database_prefix  = "PREFIX"
  max_restore_time = "5m"
  report_dir       = "drill-reports"
}
"#;

fn seeded(config: &str) -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", SCHEMA);
    work.apply();
    db.execute(
        "INSERT INTO runs (model) VALUES ('resnet'), ('bert'), ('gpt');
         INSERT INTO metrics VALUES (1, 'loss', 0.5), (1, 'acc', 0.9), (2, 'loss', 0.4);",
    );
    work.write("main.tf", &format!("{SCHEMA}{}", config.replace("PREFIX", &prefix(&db))));
    (db, work)
}

/// The policy's backups as state records them.
fn backups(work: &Workdir) -> Vec<serde_json::Value> {
    let policy = work.state_instance("postgres_backup_policy.nightly");
    policy["attributes"]["backups"].as_array().cloned().unwrap_or_default()
}

fn resource(work: &Workdir, address: &str) -> serde_json::Value {
    work.state_instance(address)
}

fn manifest_of(backup: &serde_json::Value) -> serde_json::Value {
    let dump = PathBuf::from(backup["path"].as_str().unwrap());
    let name = dump.file_name().unwrap().to_string_lossy().replace(".dump", ".manifest.json");
    serde_json::from_str(&std::fs::read_to_string(dump.with_file_name(name)).expect("manifest")).expect("manifest JSON")
}

/// The scratch database prefix of this test's drill: tests run at once on one server.
fn prefix(db: &TestDb) -> String {
    format!("drill_{}_", &db.name[9..21])
}

fn scratch_databases(db: &TestDb) -> Vec<String> {
    let rows = db.client().query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", &[&prefix(db)]).expect("list databases");
    rows.iter().map(|r| r.get(0)).collect()
}

fn plan(work: &Workdir) -> common::Run {
    work.strata(&["plan", "-detailed-exitcode", "-no-color"])
}

#[test]
fn a_backup_is_taken_verified_listed_and_not_due_again_until_every_has_passed() {
    let (_db, work) = seeded(&policy("3s", ""));
    let planned = plan(&work);
    assert_eq!(planned.code, 2, "{planned:?}");
    assert!(planned.stdout.contains("# due: backup due: there is no backup yet (every = 3s)"), "{planned:?}");
    assert!(planned.stdout.contains("pg_dump --format=custom --snapshot=SNAPSHOT"), "the plan shows the command: {planned:?}");

    work.apply();
    let taken = backups(&work);
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0]["status"], "present");
    let dump = Path::new(taken[0]["path"].as_str().unwrap());
    assert!(dump.starts_with(work.path().join("backups")), "{dump:?}");
    let manifest = manifest_of(&taken[0]);
    assert_eq!(manifest["written_by"], "strata");
    assert_eq!(manifest["row_counts"]["public.runs"], 3, "exact counts in the dump's snapshot: {manifest}");
    assert_eq!(manifest["row_counts"]["public.metrics"], 3);
    assert_eq!(manifest["bytes"].as_u64(), Some(std::fs::metadata(dump).unwrap().len()));
    assert_eq!(manifest["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["snapshot"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(!manifest["verified_at"].as_str().unwrap_or_default().is_empty());
    // The dump is a real custom-format archive holding the rows.
    let listing = std::process::Command::new("pg_restore").arg("--list").arg(dump).output().expect("pg_restore");
    assert!(String::from_utf8_lossy(&listing.stdout).contains("TABLE DATA public runs"), "{listing:?}");

    let right_after = plan(&work);
    assert_eq!(right_after.code, 0, "nothing is due right after a backup: {right_after:?}");
    let drift = work.strata(&["drift"]);
    assert_eq!(drift.code, 0, "{drift:?}");

    std::thread::sleep(Duration::from_secs(4));
    let later = plan(&work);
    assert_eq!(later.code, 2, "{later:?}");
    assert!(later.stdout.contains("backup due: the newest is"), "{later:?}");
    let overdue = work.strata(&["drift", "-no-color"]);
    assert_eq!(overdue.code, 2, "an overdue backup is drift: {overdue:?}");
    assert!(overdue.stdout.contains("overdue") && overdue.stdout.contains("backup due"), "{overdue:?}");
}

#[test]
fn retention_prunes_exactly_the_oldest_and_never_what_the_policy_did_not_write() {
    let (_db, work) = seeded(&policy("1s", "  retention {\n    keep_last = 2\n  }\n"));
    let dir = work.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let foreign = ["nightly-2026-11-01.dump", "strata-0123456789ab-20261101T000000000Z.dump", "strata-0123456789ab-20261101T000000000Z.manifest.json"];
    for name in foreign {
        std::fs::write(dir.join(name), "not this policy's").unwrap();
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        work.apply();
        ids.push(backups(&work).last().expect("a backup")["id"].as_str().unwrap().to_owned());
        std::thread::sleep(Duration::from_millis(1_100));
    }
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("prune {}", ids[1])), "the next backup prunes the oldest kept: {planned:?}");
    assert!(planned.stdout.contains("then prune") && planned.stdout.contains("beyond keep_last = 2"), "{planned:?}");
    let kept: Vec<String> = backups(&work).iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kept, ids[1..].to_vec(), "the oldest is pruned, the newest two kept");
    for name in foreign {
        assert!(dir.join(name).exists(), "{name} is not the policy's and stays");
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, foreign.len() + 4, "two dumps and two manifests of the policy's own");
}

#[test]
fn a_drill_restores_checks_the_backup_cleans_up_and_reports() {
    let (db, work) = seeded(&format!("{}{DRILL}", policy("1h", "")));
    let planned = plan(&work);
    assert!(planned.stdout.contains("drill due: it has never run"), "{planned:?}");
    work.apply();
    let drill = resource(&work, "postgres_restore_drill.weekly");
    let run = &drill["attributes"]["last_run"];
    assert_eq!(run["passed"], true, "{drill}");
    assert_eq!(run["tables_checked"], 2, "{run}");
    assert!(scratch_databases(&db).is_empty(), "the scratch database is dropped: {:?}", scratch_databases(&db));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run["report"].as_str().unwrap()).expect("report")).unwrap();
    assert_eq!(report["passed"], true);
    let checks: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
    assert!(checks.iter().any(|c| c.contains("fingerprint matches")), "{checks:?}");
    assert!(checks.iter().any(|c| c.contains("plans as no changes against 2 declared resource(s)")), "{checks:?}");
    assert!(checks.iter().any(|c| c.contains("row counts of 2 table(s) match")), "{checks:?}");
    assert!(checks.iter().any(|c| c.contains("within max_restore_time")), "{checks:?}");
    assert!(Path::new(run["report"].as_str().unwrap()).with_extension("md").exists());
    assert_eq!(plan(&work).code, 0, "nothing due right after");

    // Rows deleted live after the backup: the drill checks the backup, so it still passes.
    db.execute("DELETE FROM metrics; DELETE FROM runs");
    let again = work.strata(&["apply", "-auto-approve", "-replace=postgres_restore_drill.weekly"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(resource(&work, "postgres_restore_drill.weekly")["attributes"]["last_run"]["passed"], true);
}

#[test]
fn a_truncated_backup_is_drift_and_due_again_and_a_corrupted_one_turns_the_drill_red() {
    let (db, work) = seeded(&policy("1h", ""));
    work.apply();
    let dump = PathBuf::from(backups(&work)[0]["path"].as_str().unwrap().to_owned());
    let bytes = std::fs::read(&dump).unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).unwrap();

    let drift = work.strata(&["drift", "-no-color"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(drift.stdout.contains("damaged"), "the truncated dump is reported: {drift:?}");
    let planned = plan(&work);
    assert!(planned.stdout.contains("is damaged"), "a new backup is due: {planned:?}");
    work.apply();
    assert_eq!(backups(&work).iter().filter(|b| b["status"] == "present").count(), 1, "the new backup is good");

    // Corrupted in place, the same size: only its sha256, which the drill checks, tells.
    let newest = PathBuf::from(backups(&work).last().unwrap()["path"].as_str().unwrap().to_owned());
    let mut bytes = std::fs::read(&newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&newest, &bytes).unwrap();
    work.write("main.tf", &format!("{SCHEMA}{}{}", policy("1h", ""), DRILL.replace("PREFIX", &prefix(&db))));
    let drilled = work.strata(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(drilled.code, 1, "the drill fails: {drilled:?}");
    assert!(drilled.output().contains("corrupted"), "{drilled:?}");
    let run = resource(&work, "postgres_restore_drill.weekly")["attributes"]["last_run"].clone();
    assert_eq!(run["passed"], false, "the failed run is recorded: {run}");
    assert!(scratch_databases(&db).is_empty());
    let red = work.strata(&["drift", "-no-color"]);
    assert_eq!(red.code, 2, "{red:?}");
    assert!(red.stdout.contains("drill due: its last run") && red.stdout.contains("corrupted"), "{red:?}");
}

#[test]
fn a_drill_leaves_alone_databases_it_did_not_create() {
    let (db, work) = seeded(&format!("{}{DRILL}", policy("1h", "")));
    let bystander = format!("{}bystander", prefix(&db));
    db.execute(&format!("CREATE DATABASE {bystander}"));
    work.apply();
    assert_eq!(scratch_databases(&db), vec![bystander.clone()], "only the drill's own scratch database is dropped");
    db.execute(&format!("DROP DATABASE {bystander}"));
}

#[test]
fn bad_durations_and_values_fail_validation_with_the_place_and_the_fix() {
    let work = Workdir::offline();
    work.write("main.tf", "resource \"postgres_backup_policy\" \"p\" {\n  every = \"24\"\n  destination {\n    path = \"b\"\n  }\n}\n");
    let run = work.strata(&["validate", "-no-color"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("main.tf:2") && run.stderr.contains("unknown unit"), "{run:?}");
    work.write("main.tf", "resource \"postgres_backup_policy\" \"p\" {\n  every  = \"24h\"\n  format = \"tar\"\n  destination {\n    path = \"b\"\n  }\n}\n");
    let run = work.strata(&["validate", "-no-color"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("main.tf:3") && run.stderr.contains("custom"), "{run:?}");
}

#[test]
fn strata_restore_restores_a_chosen_backup_into_a_new_database_and_never_over_one_without_consent() {
    let (db, work) = seeded(&policy("1s", ""));
    work.apply();
    let first = backups(&work)[0]["id"].as_str().unwrap().to_owned();
    db.execute("INSERT INTO runs (model) VALUES ('t5')");
    std::thread::sleep(Duration::from_millis(1_100));
    work.apply();
    let target = format!("{}restored", prefix(&db));
    let restored = work.strata(&["restore", "postgres_backup_policy.nightly", "-backup", &first, "-target-database", &target]);
    assert_eq!(restored.code, 0, "{restored:?}");
    assert!(restored.stdout.contains("row counts of 2 table(s) match the manifest"), "{restored:?}");
    let mut client = common::connect(&target);
    let runs: i64 = client.query_one("SELECT count(*) FROM runs", &[]).unwrap().get(0);
    assert_eq!(runs, 3, "the chosen (first) backup, before the fourth run was inserted");
    drop(client);

    let again = work.strata(&["restore", "postgres_backup_policy.nightly", "-target-database", &target]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("exists: nothing was restored") && again.stderr.contains("-replace-existing"), "{again:?}");
    let typo = work.strata(&["restore", "postgres_backup_policy.nightly", "-backup", "20200101T000000000Z", "-target-database", &target]);
    assert!(typo.stderr.contains("has no backup") && typo.stderr.contains(&first), "the hint names the backups there are: {typo:?}");
    let unconfirmed = work.strata(&["restore", "postgres_backup_policy.nightly", "-target-database", &target, "-replace-existing"]);
    assert_eq!(unconfirmed.code, 1, "no terminal to confirm on: {unconfirmed:?}");
    let replaced = work.strata(&["restore", "postgres_backup_policy.nightly", "-target-database", &target, "-replace-existing", "-auto-approve"]);
    assert_eq!(replaced.code, 0, "{replaced:?}");
    let runs: i64 = common::connect(&target).query_one("SELECT count(*) FROM runs", &[]).unwrap().get(0);
    assert_eq!(runs, 4, "the newest backup by default");
    common::connect("postgres").batch_execute(&format!("DROP DATABASE {target} WITH (FORCE)")).unwrap();
}

#[test]
fn a_directory_format_backup_with_parallel_jobs_and_excluded_data_is_verified_and_drilled() {
    let directory = r#"
resource "postgres_backup_policy" "nightly" {
  every              = "1h"
  format             = "directory"
  jobs               = 2
  compress           = 6
  exclude_table_data = ["metrics"]

  destination {
    path = "backups"
  }
  depends_on = [postgres_table.metrics]
}

resource "postgres_restore_drill" "weekly" {
  source          = postgres_backup_policy.nightly.id
  every           = "1h"
  database_prefix = "PREFIX"
}
"#;
    let (db, work) = seeded(directory);
    work.apply();
    let taken = backups(&work);
    let dump = PathBuf::from(taken[0]["path"].as_str().unwrap());
    assert!(dump.is_dir() && dump.join("toc.dat").exists(), "a directory-format dump: {dump:?}");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dump.with_extension("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "directory");
    assert_eq!(manifest["data_excluded"], serde_json::json!(["public.metrics"]), "{manifest}");
    assert!(manifest["row_counts"].get("public.metrics").is_none() && manifest["row_counts"]["public.runs"] == 3, "{manifest}");
    let drill = resource(&work, "postgres_restore_drill.weekly");
    assert_eq!(drill["attributes"]["last_run"]["passed"], true, "{drill}");
    assert!(scratch_databases(&db).is_empty());
}

/// The nightly policy, uploading to `bucket` under `ai_db/`, with the drill restoring from there.
fn s3_policy(bucket: &str, every: &str, format: &str) -> String {
    format!(
        r#"
resource "postgres_backup_policy" "nightly" {{
  every    = "{every}"
  format   = "{format}"
  compress = 0

  destination {{
    s3_bucket = "{bucket}"
    s3_prefix = "ai_db"
  }}
  retention {{
    keep_last = 2
  }}
  depends_on = [postgres_table.metrics]
}}
"#
    )
}

/// The policy's token, from its id.
fn token(work: &Workdir) -> String {
    let id = resource(work, "postgres_backup_policy.nightly")["attributes"]["id"].as_str().unwrap().to_owned();
    id.split("policy=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

#[test]
fn an_s3_destination_is_uploaded_tagged_pruned_and_drilled_and_never_loses_an_object_that_is_not_its_own() {
    let s3 = common::s3::S3::new();
    let bucket = s3.bucket();
    s3.put(&bucket, "ai_db/nightly-2026-11-01.dump", b"a hand-made dump".to_vec());
    let (db, work) = seeded(&format!("{}{DRILL}", s3_policy(&bucket, "1s", "custom")));
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("to s3://{bucket}/ai_db/, tagged strata:policy=TOKEN")), "the plan names the upload: {planned:?}");
    work.apply();
    let drill = resource(&work, "postgres_restore_drill.weekly");
    assert_eq!(drill["attributes"]["last_run"]["passed"], true, "the drill restored the backup from S3: {drill}");
    assert!(scratch_databases(&db).is_empty());

    // Named like a leftover of this policy, but without its tag: not proof, so it stays.
    let token = token(&work);
    let look_alike = format!("ai_db/strata-{token}-20200101T000000000Z.dump");
    s3.put(&bucket, &look_alike, b"not strata's".to_vec());
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(1_100));
        work.apply();
    }
    let kept = backups(&work);
    assert_eq!(kept.len(), 2, "keep_last = 2: {kept:?}");
    let newest = kept[1]["path"].as_str().unwrap().to_owned();
    assert!(newest.starts_with(&format!("s3://{bucket}/ai_db/strata-{token}-")), "{newest}");
    let dump_key = newest.trim_start_matches(&format!("s3://{bucket}/")).to_owned();
    assert!(s3.tags(&bucket, &dump_key).contains(&("strata:policy".to_owned(), token.clone())), "the dump carries the policy's tag");
    let keys = s3.keys(&bucket, "ai_db/");
    assert_eq!(keys.len(), 6, "two dumps, two manifests, and the two objects that are not the policy's: {keys:?}");
    assert!(keys.contains(&look_alike) && keys.contains(&"ai_db/nightly-2026-11-01.dump".to_owned()), "{keys:?}");
    let manifest: serde_json::Value = serde_json::from_slice(&s3.get(&bucket, &dump_key.replace(".dump", ".manifest.json"))).expect("the manifest is JSON");
    assert_eq!(manifest["row_counts"]["public.runs"], 3, "{manifest}");

    // Truncated in the bucket: drift reports it, and a drill of it goes red.
    let bytes = s3.get(&bucket, &dump_key);
    s3.put(&bucket, &dump_key, bytes[..bytes.len() / 2].to_vec());
    let drift = work.strata(&["drift", "-no-color"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(drift.stdout.contains("damaged"), "{drift:?}");
    // Corrupted at the same size, which only the drill's sha256 check tells.
    let mut corrupted = bytes.clone();
    corrupted[bytes.len() / 2] ^= 0xff;
    s3.put(&bucket, &dump_key, corrupted);
    work.write("main.tf", &format!("{SCHEMA}{}{}", s3_policy(&bucket, "1h", "custom"), DRILL.replace("PREFIX", &prefix(&db))));
    let drilled = work.strata(&["apply", "-auto-approve", "-no-color", "-replace=postgres_restore_drill.weekly"]);
    assert_eq!(drilled.code, 1, "the drill of the truncated backup fails: {drilled:?}");
    assert!(drilled.output().contains("corrupted"), "{drilled:?}");
    assert!(scratch_databases(&db).is_empty());

    // strata restore reads from S3 too.
    let target = format!("{}restored", prefix(&db));
    let first = kept[0]["id"].as_str().unwrap();
    let restored = work.strata(&["restore", "postgres_backup_policy.nightly", "-backup", first, "-target-database", &target]);
    assert_eq!(restored.code, 0, "{restored:?}");
    common::connect("postgres").batch_execute(&format!("DROP DATABASE {target} WITH (FORCE)")).unwrap();
}

#[test]
fn a_large_dump_goes_up_to_s3_in_parts_and_a_directory_format_dump_as_one_object_per_file() {
    let s3 = common::s3::S3::new();
    let bucket = s3.bucket();
    let (db, work) = seeded(&format!("{}{}", s3_policy(&bucket, "1h", "custom"), DRILL.replace("every  = \"1h\"", "every  = \"1s\"")));
    // About 75 MB uncompressed: more than one 64 MiB part.
    db.execute("CREATE TABLE blobs AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS body FROM generate_series(1, 1100000) AS g");
    work.apply();
    let kept = backups(&work);
    assert!(kept[0]["bytes"].as_i64().unwrap() > 64 * 1024 * 1024, "{kept:?}");
    assert_eq!(kept[0]["status"], "present", "the parts make the whole dump: {kept:?}");
    assert_eq!(resource(&work, "postgres_restore_drill.weekly")["attributes"]["last_run"]["passed"], true);

    let directory = s3_policy(&bucket, "1s", "directory").replace("compress = 0", "compress = 0\n  jobs     = 2");
    work.write("main.tf", &format!("{SCHEMA}{directory}{}", DRILL.replace("PREFIX", &prefix(&db)).replace("every  = \"1h\"", "every  = \"1s\"")));
    std::thread::sleep(Duration::from_millis(1_100));
    work.apply();
    let newest = backups(&work).last().unwrap()["path"].as_str().unwrap().to_owned();
    assert!(newest.ends_with(".dir"), "{newest}");
    let files = s3.keys(&bucket, &format!("{}/", newest.trim_start_matches(&format!("s3://{bucket}/"))));
    assert!(files.iter().any(|k| k.ends_with("/toc.dat")) && files.len() > 2, "one object per file of the directory: {files:?}");
    let drill = resource(&work, "postgres_restore_drill.weekly");
    assert_eq!(drill["attributes"]["last_run"]["passed"], true, "the directory dump downloads and restores: {drill}");
    assert!(scratch_databases(&db).is_empty());
}

#[test]
fn a_drill_of_a_backup_older_than_the_declared_schema_fails_and_names_what_differs() {
    let (db, work) = seeded(&format!("{}{DRILL}", policy("1h", "")));
    work.apply();
    // A column declared (and applied) after the backup: the backup no longer holds the schema the
    // configuration declares.
    let newer = SCHEMA.replacen("  primary_key = [\"id\"]", "  column {\n    name = \"owner\"\n    type = \"text\"\n  }\n\n  primary_key = [\"id\"]", 1);
    work.write("main.tf", &format!("{newer}{}{}", policy("1h", ""), DRILL.replace("PREFIX", &prefix(&db))));
    let drilled = work.strata(&["apply", "-auto-approve", "-no-color", "-replace=postgres_restore_drill.weekly"]);
    assert_eq!(drilled.code, 1, "{drilled:?}");
    assert!(drilled.output().contains("the restored schema differs from the configuration: postgres_table.runs would be updated"), "{drilled:?}");
    assert!(drilled.output().contains("owner"), "the step names the column: {drilled:?}");
    assert!(scratch_databases(&db).is_empty());

    // A typo in the resources to compare fails before anything is restored.
    let typo = DRILL.replace("PREFIX", &prefix(&db)).replace("schema_matches = true", "schema_matches   = true\n    schema_resources = [\"postgres_table.rnus\"]");
    work.write("main.tf", &format!("{newer}{}{typo}", policy("1h", "")));
    let refused = work.strata(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.output().contains("postgres_table.rnus") && refused.output().contains("did you mean \"postgres_table.runs\""), "{refused:?}");
}
