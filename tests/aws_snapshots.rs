//! RDS backups against moto: `aws_db_snapshot` is created, retagged in place and deleted only with
//! consent (its delete loses the backup); `aws_db_snapshot_policy` takes a manual snapshot when one is due,
//! not again until `every` has passed, and prunes exactly the oldest of its own (never one taken
//! by hand); `data "aws_db_snapshot"` finds the newest with `most_recent` and refuses several
//! without it, as Terraform does; backup windows RDS would refuse are refused at plan time,
//! before any call (moto checks none of it).

use crate::common;

use std::time::Duration;

use common::moto::{unique_suffix, Moto};
use common::{Run, Workdir};

fn config(identifier: &str, extra: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_db_instance" "db" {{
  identifier          = "{identifier}"
  engine              = "postgres"
  engine_version      = "16.3"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = "Snapshot-Passw0rd-1"
  skip_final_snapshot = true
  copy_tags_to_snapshot    = true
  delete_automated_backups = false
}}
{extra}"#
    )
}

const POLICY: &str = r#"
resource "aws_db_snapshot_policy" "daily" {
  db_instance_identifier = aws_db_instance.db.identifier
  every                  = "2s"

  retention {
    keep_last = 2
  }
}
"#;

fn run(work: &Workdir, args: &[&str]) -> Run {
    work.strata(args)
}

fn apply(work: &Workdir) {
    let run = run(work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 0, "{run:?}");
}

fn policy_snapshots(work: &Workdir) -> Vec<String> {
    let policy = work.state_instance("aws_db_snapshot_policy.daily");
    policy["attributes"]["snapshots"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_snapshot_policy_snapshots_when_due_and_prunes_only_its_own_oldest() {
    let moto = Moto::new();
    let identifier = format!("snap-db-{}", unique_suffix());
    let work = Workdir::offline();
    work.write("main.tf", &config(&identifier, POLICY));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.stdout.contains("# due: snapshot due: there is no snapshot yet (every = 2s)"), "{planned:?}");
    apply(&work);
    let first = policy_snapshots(&work);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with(&format!("{identifier}-strata-")) && moto.snapshot_exists(&first[0]));
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0, "nothing is due right after, and copy_tags_to_snapshot reads back");
    assert_eq!(moto.instance(&identifier).and_then(|i| i.copy_tags_to_snapshot()), Some(true));

    let by_hand = format!("{identifier}-by-hand");
    moto.create_snapshot(&identifier, &by_hand);
    let mut taken = first.clone();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(2_100));
        let due = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(due.code, 2, "{due:?}");
        assert!(due.stdout.contains("snapshot due: the newest is"), "{due:?}");
        apply(&work);
        taken.push(policy_snapshots(&work).last().unwrap().clone());
    }
    assert_eq!(policy_snapshots(&work), taken[1..].to_vec(), "keep_last = 2 pruned the oldest");
    assert!(!moto.snapshot_exists(&taken[0]), "the pruned snapshot is deleted");
    assert!(moto.snapshot_exists(&by_hand), "a snapshot the policy did not take is never pruned");

    std::thread::sleep(Duration::from_millis(2_100));
    let drift = run(&work, &["drift", "-no-color"]);
    assert_eq!(drift.code, 2, "an overdue snapshot is drift: {drift:?}");
    assert!(drift.stdout.contains("overdue: snapshot due"), "{drift:?}");

    // The newest of several, or Terraform's error without most_recent.
    let lookup = r#"
data "aws_db_snapshot" "latest" {
  db_instance_identifier = aws_db_instance.db.identifier
  snapshot_type          = "manual"
  most_recent            = MOST_RECENT
}

output "latest" {
  value = data.aws_db_snapshot.latest.id
}
"#;
    work.write("main.tf", &config(&identifier, &lookup.replace("MOST_RECENT", "true")));
    let found = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(found.code, 0, "{found:?}");
    let newest = taken.last().unwrap();
    assert!(found.stdout.contains(&format!("latest = \"{newest}\"")), "the newest manual snapshot: {found:?}");
    work.write("main.tf", &config(&identifier, &lookup.replace("MOST_RECENT", "false")));
    let several = run(&work, &["plan", "-no-color"]);
    assert_eq!(several.code, 1, "{several:?}");
    assert!(several.stderr.contains("Your query returned more than one result"), "{several:?}");

    for snapshot in taken[1..].iter().chain([&by_hand]) {
        moto.delete_snapshot(snapshot);
    }
    work.write("main.tf", &config(&identifier, ""));
    let destroy = run(&work, &["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn backup_windows_rds_would_refuse_are_refused_at_plan_time_before_any_call() {
    let _moto = Moto::new();
    let identifier = format!("window-db-{}", unique_suffix());
    let work = Workdir::offline();
    let windows = "  backup_window      = \"05:30-06:30\"\n  maintenance_window = \"sun:05:00-sun:06:00\"\n  backup_retention_period = 7\n";
    work.write("main.tf", &config(&identifier, "").replace("  skip_final_snapshot = true\n", &format!("  skip_final_snapshot = true\n{windows}")));
    let refused = run(&work, &["plan", "-no-color", "-verbose"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("backup_window \"05:30-06:30\" overlaps maintenance_window \"sun:05:00-sun:06:00\""), "{refused:?}");
    assert!(!refused.stderr.contains("CreateDBInstance"), "nothing was sent: {refused:?}");
    work.write("main.tf", &config(&identifier, "").replace("  skip_final_snapshot = true\n", "  skip_final_snapshot = true\n  backup_retention_period = 40\n"));
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("0 (none) to 35 days"), "{refused:?}");
}

#[test]
fn a_db_snapshot_is_created_tagged_in_place_and_its_delete_is_data_loss() {
    let moto = Moto::new();
    let identifier = format!("one-snap-db-{}", unique_suffix());
    let work = Workdir::offline();
    let snapshot = |tag: &str| {
        format!(
            r#"
resource "aws_db_snapshot" "before_upgrade" {{
  db_instance_identifier = aws_db_instance.db.identifier
  db_snapshot_identifier = "{identifier}-before-upgrade"
  tags = {{
    reason = "{tag}"
  }}
}}
"#
        )
    };
    work.write("main.tf", &config(&identifier, &snapshot("pg16")));
    apply(&work);
    let name = format!("{identifier}-before-upgrade");
    assert!(moto.snapshot_exists(&name));
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0, "converged, tags and names read back");

    work.write("main.tf", &config(&identifier, &snapshot("pg17")));
    let retag = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(retag.code, 2, "{retag:?}");
    assert!(retag.stdout.contains("will be updated in place") && retag.stdout.contains("AddTagsToResource"), "{retag:?}");
    apply(&work);
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0);

    work.write("main.tf", &config(&identifier, ""));
    let refused = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(refused.code, 1, "deleting a snapshot loses its backup: {refused:?}");
    assert!(refused.output().contains(&format!("deletes the snapshot {name}")), "{refused:?}");
    assert!(moto.snapshot_exists(&name), "nothing was deleted");
    let deleted = run(&work, &["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(deleted.code, 0, "{deleted:?}");
    assert!(!moto.snapshot_exists(&name));
    let destroy = run(&work, &["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_snapshot_copy_goes_to_another_region_and_destroying_it_says_what_is_lost() {
    let _moto = Moto::new();
    let identifier = format!("copy-src-db-{}", unique_suffix());
    let source = Workdir::offline();
    let name = format!("{identifier}-nightly");
    source.write(
        "main.tf",
        &config(&identifier, &format!("\nresource \"aws_db_snapshot\" \"nightly\" {{\n  db_instance_identifier = aws_db_instance.db.identifier\n  db_snapshot_identifier = \"{name}\"\n}}\n")),
    );
    apply(&source);
    let arn = source.state_instance("aws_db_snapshot.nightly")["attributes"]["db_snapshot_arn"].as_str().unwrap().to_owned();
    assert!(arn.starts_with("arn:aws:rds:us-east-1:"), "{arn}");

    let copy = Workdir::offline();
    let target = format!("{name}-dr");
    copy.write(
        "main.tf",
        &format!(
            "provider \"aws\" {{\n  region = \"us-west-2\"\n}}\n\nresource \"aws_db_snapshot_copy\" \"dr\" {{\n  source_db_snapshot_identifier = \"{arn}\"\n  target_db_snapshot_identifier = \"{target}\"\n  copy_tags                     = true\n}}\n"
        ),
    );
    let planned = run(&copy, &["plan", "-no-color"]);
    assert!(planned.stdout.contains(&format!("CopyDBSnapshot {arn} -> {target} from us-east-1")), "{planned:?}");
    apply(&copy);
    let copied = copy.state_instance("aws_db_snapshot_copy.dr")["attributes"].clone();
    assert_eq!(copied["status"], "available", "{copied}");
    assert!(copied["db_snapshot_arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:rds:us-west-2:")), "{copied}");
    assert_eq!(run(&copy, &["plan", "-detailed-exitcode"]).code, 0, "the copy converges");

    // destroy is consent to destroy, as in Terraform; it still says what is lost.
    let destroyed = run(&copy, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(destroyed.code, 0, "{destroyed:?}");
    assert!(destroyed.stdout.contains("[data-loss]") && destroyed.stdout.contains(&format!("deletes the snapshot copy {target}")), "{destroyed:?}");
    assert_eq!(run(&source, &["destroy", "-auto-approve"]).code, 0);
}

/// The instance `IDENTIFIER-restored`, its data from where `origin` (its arguments) says.
fn restored_instance(identifier: &str, origin: &str) -> String {
    format!(
        r#"
resource "aws_db_instance" "restored" {{
  identifier              = "{identifier}-restored"
  engine                  = "postgres"
  engine_version          = "16.3"
  instance_class          = "db.t3.small"
  allocated_storage       = 20
  username                = "app"
  password                = "Restored-Passw0rd-2"
  backup_retention_period = 3
  skip_final_snapshot     = true
{origin}
}}
"#
    )
}

#[test]
fn an_instance_restored_from_a_snapshot_reads_it_at_create_only() {
    let moto = Moto::new();
    let identifier = format!("restore-src-{}", unique_suffix());
    let restored = format!("{identifier}-restored");
    let work = Workdir::offline();
    let estate = |snapshot: &str| {
        let base = format!("\nresource \"aws_db_snapshot\" \"base\" {{\n  db_instance_identifier = aws_db_instance.db.identifier\n  db_snapshot_identifier = \"{identifier}-base\"\n}}\n");
        config(&identifier, &(base + &restored_instance(&identifier, &format!("  snapshot_identifier = {snapshot}"))))
    };
    work.write("main.tf", &estate("aws_db_snapshot.base.db_snapshot_identifier"));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.stdout.contains(&format!("RestoreDBInstanceFromDBSnapshot {restored} from")), "{planned:?}");
    apply(&work);
    let instance = moto.instance(&restored).expect("the restored instance");
    assert_eq!(instance.db_instance_class(), Some("db.t3.small"));
    assert_eq!(instance.backup_retention_period(), Some(3), "set after the restore, as the snapshot does not carry it");
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0, "converged");

    work.write("main.tf", &estate("\"another-snapshot\""));
    let changed = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(changed.code, 0, "a new snapshot_identifier changes nothing: {changed:?}");
    assert!(changed.output().contains("it is read only when the instance is created"), "{changed:?}");

    let destroy = run(&work, &["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn an_instance_restored_to_a_point_in_time_reads_it_at_create_only() {
    let moto = Moto::new();
    let identifier = format!("pitr-src-{}", unique_suffix());
    let restored = format!("{identifier}-restored");
    let work = Workdir::offline();
    let estate = |point_in_time: &str| config(&identifier, &restored_instance(&identifier, &format!("  restore_to_point_in_time {{\n{point_in_time}\n  }}")));
    let latest = "    source_db_instance_identifier = aws_db_instance.db.identifier\n    use_latest_restorable_time    = true";
    work.write("main.tf", &estate(latest));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.stdout.contains(&format!("RestoreDBInstanceToPointInTime {restored} from {identifier} as of its latest restorable time")), "{planned:?}");
    apply(&work);
    let instance = moto.instance(&restored).expect("the restored instance");
    assert_eq!(instance.db_instance_class(), Some("db.t3.small"));
    assert_eq!(instance.backup_retention_period(), Some(3), "set after the restore, as a restore does not carry it");
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0, "converged");

    let at_a_time = "    source_db_instance_identifier = aws_db_instance.db.identifier\n    restore_time                  = \"2026-11-30T23:45:00Z\"";
    work.write("main.tf", &estate(at_a_time));
    let changed = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(changed.code, 0, "a new restore_to_point_in_time changes nothing: {changed:?}");
    assert!(changed.output().contains("restore_to_point_in_time") && changed.output().contains("it is read only when the instance is created"), "{changed:?}");

    for (block, refusal) in [
        (format!("{at_a_time}\n    use_latest_restorable_time    = true"), "both restore_time and use_latest_restorable_time = true"),
        ("    use_latest_restorable_time = true".to_owned(), "needs exactly one source, not none"),
        ("    source_db_instance_identifier = aws_db_instance.db.identifier\n    restore_time = \"30/11/2026\"".to_owned(), "restore_time \"30/11/2026\" is not an RFC 3339 time"),
    ] {
        work.write("main.tf", &estate(&block));
        let refused = run(&work, &["plan", "-no-color"]);
        assert_eq!(refused.code, 1, "{refused:?}");
        assert!(refused.output().contains(refusal), "{refusal}: {refused:?}");
    }

    work.write("main.tf", &estate(latest));
    let destroy = run(&work, &["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_configured_final_snapshot_name_taken_by_an_earlier_destroy_gets_the_creation_time() {
    let moto = Moto::new();
    let identifier = format!("final-db-{}", unique_suffix());
    let last = format!("{identifier}-last");
    let work = Workdir::offline();
    // Automated backups go with the instance: moto names them by the minute, so the second
    // instance's would collide with the first one's kept ones.
    let estate = config(&identifier, "").replace("skip_final_snapshot = true", &format!("final_snapshot_identifier = \"{last}\"")).replace("delete_automated_backups = false", "delete_automated_backups = true");
    work.write("main.tf", &estate);
    apply(&work);
    let first = run(&work, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains(&format!("(final snapshot {last})")), "a free name is used as configured: {first:?}");
    assert!(moto.snapshot_exists(&last));

    apply(&work);
    let planned = run(&work, &["plan", "-destroy", "-no-color"]);
    assert!(planned.output().contains(&format!("final_snapshot_identifier {last} is taken by an existing snapshot")), "{planned:?}");
    let second = run(&work, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(second.code, 0, "{second:?}");
    let stamped = second.stdout.split(&format!("(final snapshot {last}-")).nth(1).and_then(|rest| rest.split(')').next()).map(|stamp| format!("{last}-{stamp}"));
    let stamped = stamped.unwrap_or_else(|| panic!("the plan names the stamped final snapshot: {second:?}"));
    assert!(stamped.len() == last.len() + 15 && planned.output().contains(&stamped), "plan and apply name the same snapshot {stamped}: {planned:?}");
    assert!(moto.snapshot_exists(&last) && moto.snapshot_exists(&stamped), "both final snapshots are kept");
    moto.delete_snapshot(&last);
    moto.delete_snapshot(&stamped);
}

#[test]
fn a_snapshot_policy_copies_each_new_snapshot_to_another_region_and_prunes_only_its_copies() {
    let moto = Moto::new();
    let identifier = format!("copy-policy-db-{}", unique_suffix());
    let work = Workdir::offline();
    let copying = POLICY.replace("  retention {", "  copy_to_region {\n    region    = \"us-west-2\"\n    keep_last = 1\n  }\n\n  retention {");
    work.write("main.tf", &config(&identifier, &copying));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.stdout.contains("then copy it to us-west-2"), "{planned:?}");
    apply(&work);
    let first = policy_snapshots(&work);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(moto.snapshot_exists_in("us-west-2", &first[0]), "the snapshot is copied to us-west-2 under its name");
    assert_eq!(policy_copies(&work), first);
    assert_eq!(run(&work, &["plan", "-detailed-exitcode"]).code, 0, "nothing is due right after");

    let by_hand = format!("{identifier}-by-hand");
    moto.copy_snapshot_to("us-west-2", &first[0], &by_hand);
    std::thread::sleep(Duration::from_millis(2_100));
    let due = run(&work, &["plan", "-no-color"]);
    assert!(due.stdout.contains(&format!("DeleteDBSnapshot {} in us-west-2", first[0])), "keep_last = 1 prunes the older copy: {due:?}");
    apply(&work);
    let second = policy_snapshots(&work);
    assert_eq!(second.len(), 2, "retention keep_last = 2 keeps both snapshots here: {second:?}");
    assert_eq!(policy_copies(&work), second[1..].to_vec(), "copy_to_region keep_last = 1 keeps one copy there");
    assert!(!moto.snapshot_exists_in("us-west-2", &first[0]), "the older copy is deleted");
    assert!(moto.snapshot_exists(&first[0]), "its snapshot stays in us-east-1");
    assert!(moto.snapshot_exists_in("us-west-2", &by_hand), "a copy the policy did not make is never pruned");

    let bad = copying.replace("\"us-west-2\"", "\"us-west2\"");
    work.write("main.tf", &config(&identifier, &bad));
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.output().contains("copy_to_region.region \"us-west2\" is not an AWS region name"), "{refused:?}");

    work.write("main.tf", &config(&identifier, &copying));
    let destroy = run(&work, &["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

fn policy_copies(work: &Workdir) -> Vec<String> {
    let policy = work.state_instance("aws_db_snapshot_policy.daily");
    policy["attributes"]["copies"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}
