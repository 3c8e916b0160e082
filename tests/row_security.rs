//! Row-level security against a real PostgreSQL: a `training_data` table whose rows a team sees
//! only its own of, through a `postgres_policy` on `current_setting('app.team')`, proved by
//! connecting as a LOGIN role; no change on a second plan; the owner changed by `owner`; a policy
//! expression spelled another way compared as PostgreSQL stores it; the plan's security warnings
//! (a sensitive column PUBLIC can read, row-level security with no policy); schema privileges from
//! `policy` blocks.

use crate::common;

use common::roles::{connect_as, one_value, Cluster};
use common::{TestDb, Workdir};

fn training_data(owner: &str, analyst: &str, using: &str, extra: &str) -> String {
    format!(
        r#"
resource "postgres_table" "training_data" {{
  name               = "training_data"
  owner              = "{owner}"
  row_level_security = {{ enabled = true, force = false }}
  column {{
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "by default"
  }}
  column {{
    name = "team"
    type = "text"
    null = false
  }}
  column {{
    name      = "prompt"
    type      = "text"
    sensitive = true
  }}
  primary_key = ["id"]
{extra}
}}

resource "postgres_policy" "by_team" {{
  name    = "by_team"
  table   = postgres_table.training_data.id
  command = "SELECT"
  roles   = ["{analyst}"]
  using   = "{using}"
  comment = "each team reads its own rows"
}}
"#
    )
}

const USING: &str = "team = current_setting('app.team', true)";

/// The password every role these tests make logs in with, and the options that give it.
const PASSWORD: &str = "rls-test";
const LOGIN: &str = "LOGIN PASSWORD 'rls-test'";

/// The teams of the rows `role` sees with `app.team` set to `team`.
fn visible_teams(db: &TestDb, role: &str, team: &str) -> Vec<String> {
    let mut client = connect_as(db, role, Some(PASSWORD));
    client.batch_execute(&format!("SET app.team = '{team}'")).expect("set app.team");
    client.query("SELECT team FROM training_data ORDER BY id", &[]).expect("select as the role").iter().map(|row| row.get(0)).collect()
}

fn plan(work: &Workdir) -> common::Run {
    let run = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(run.code, 2, "expected changes: {run:?}");
    run
}

#[test]
fn a_policy_hides_other_teams_rows_and_is_compared_as_postgres_stores_it() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let work = Workdir::new(&db);
    let (owner, owner2, analyst) = (cluster.create_role("rls_owner", LOGIN), cluster.create_role("rls_owner2", LOGIN), cluster.create_role("rls_analyst", LOGIN));
    work.write("main.tf", &training_data(&owner, &analyst, USING, ""));
    let first = plan(&work);
    assert!(first.stdout.contains("ENABLE ROW LEVEL SECURITY") && first.stdout.contains(&format!("OWNER TO \"{owner}\"")), "{first:?}");
    work.apply();
    assert_eq!(one_value(&db, "SELECT relrowsecurity::text FROM pg_class WHERE relname = 'training_data'").as_deref(), Some("true"));
    assert_eq!(one_value(&db, "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'training_data'").as_deref(), Some(owner.as_str()));
    assert_eq!(one_value(&db, "SELECT obj_description(oid, 'pg_policy') FROM pg_policy WHERE polname = 'by_team'").as_deref(), Some("each team reads its own rows"));

    // The analyst sees only the rows of the team it says it is in.
    db.execute(&format!("INSERT INTO training_data (team, prompt) VALUES ('vision', 'a cat'), ('speech', 'hello'), ('vision', 'a dog'); GRANT SELECT ON training_data TO \"{analyst}\""));
    assert_eq!(visible_teams(&db, &analyst, "vision"), ["vision", "vision"]);
    assert_eq!(visible_teams(&db, &analyst, "speech"), ["speech"]);
    assert!(visible_teams(&db, &analyst, "nobody").is_empty());
    // Not forced: the table's owner sees every row.
    db.execute(&format!("GRANT SELECT ON training_data TO \"{owner}\""));
    assert_eq!(visible_teams(&db, &owner, "nobody").len(), 3);
    work.assert_converged();

    // The same expression spelled another way: no change.
    let respelled = "( TEAM = Current_Setting('app.team'::text, TRUE) )";
    work.write("main.tf", &training_data(&owner, &analyst, respelled, ""));
    work.assert_converged();

    // Another expression: ALTER POLICY, in place.
    work.write("main.tf", &training_data(&owner, &analyst, "team = current_setting('app.team', true) OR team = 'shared'", ""));
    let altered = plan(&work);
    assert!(altered.stdout.contains("ALTER POLICY \"by_team\" ON \"public\".\"training_data\" USING") && altered.stdout.contains("1 to change, 0 to replace"), "{altered:?}");
    work.apply();
    work.assert_converged();

    // A new owner: ALTER TABLE ... OWNER TO; the old owner, not forced before, now sees nothing.
    work.write("main.tf", &training_data(&owner2, &analyst, "team = current_setting('app.team', true) OR team = 'shared'", ""));
    let owned = plan(&work);
    assert!(owned.stdout.contains(&format!("ALTER TABLE \"public\".\"training_data\" OWNER TO \"{owner2}\"")), "{owned:?}");
    work.apply();
    assert_eq!(one_value(&db, "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'training_data'").as_deref(), Some(owner2.as_str()));
    db.execute(&format!("GRANT SELECT ON training_data TO \"{owner}\""));
    assert!(visible_teams(&db, &owner, "nobody").is_empty(), "a role that is neither owner nor named by a policy sees no row");
    work.assert_converged();

    // PUBLIC can read the sensitive column: the plan says so.
    db.execute("GRANT SELECT ON training_data TO PUBLIC");
    work.write("main.tf", &training_data(&owner2, &analyst, "team = current_setting('app.team', true) OR team = 'shared'", "  comment = \"prompts by team\""));
    let exposed = plan(&work);
    assert!(exposed.output().contains("sensitive column prompt and PUBLIC can read it"), "{exposed:?}");
    work.apply();

    // Row-level security on a table no policy names: deny-all, warned.
    let locked = format!(
        "{}\nresource \"postgres_table\" \"audit\" {{\n  name               = \"audit\"\n  row_level_security = {{ enabled = true }}\n  column {{\n    name = \"what\"\n    type = \"text\"\n  }}\n}}\n",
        training_data(&owner2, &analyst, "team = current_setting('app.team', true) OR team = 'shared'", "  comment = \"prompts by team\"")
    );
    work.write("main.tf", &locked);
    let deny_all = plan(&work);
    assert!(deny_all.output().contains("row-level security is enabled on public.audit but no postgres_policy for it"), "{deny_all:?}");
    assert!(!deny_all.output().contains("enabled on public.training_data but no"), "training_data has its policy: {deny_all:?}");

    // A misspelt key of row_level_security names the right one.
    work.write("main.tf", &locked.replace("{ enabled = true }", "{ enabeld = true }"));
    let typo = work.strata(&["plan"]);
    assert_ne!(typo.code, 0);
    assert!(typo.output().contains("did you mean \"enabled\"?"), "{typo:?}");
}

#[test]
fn schema_policy_blocks_grant_and_revoke_and_database_must_be_the_connected_one() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let work = Workdir::new(&db);
    let (reader, writer) = (cluster.create_role("rls_reader", LOGIN), cluster.create_role("rls_writer", LOGIN));
    let schema = |database: &str, writer_block: &str| {
        format!(
            "resource \"postgres_schema\" \"ml\" {{\n  name     = \"ml\"\n  database = \"{database}\"\n  owner    = \"{reader}\"\n  policy {{\n    role  = \"{reader}\"\n    usage = true\n  }}\n{writer_block}}}\n"
        )
    };
    let writer_block = format!("  policy {{\n    role              = \"{writer}\"\n    usage_with_grant  = true\n    create            = true\n  }}\n");
    work.write("main.tf", &schema(&db.name, &writer_block));
    work.apply();
    let privilege = |role: &str, what: &str| one_value(&db, &format!("SELECT has_schema_privilege('{role}', 'ml', '{what}')::text"));
    assert_eq!((privilege(&writer, "USAGE WITH GRANT OPTION").as_deref(), privilege(&writer, "CREATE").as_deref()), (Some("true"), Some("true")));
    assert_eq!(one_value(&db, "SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'ml'").as_deref(), Some(reader.as_str()));
    work.assert_converged();

    // A grant made by hand to a role no policy block names is left alone.
    db.execute("GRANT USAGE ON SCHEMA ml TO PUBLIC");
    work.assert_converged();

    // The writer's block removed: its privileges revoked, one at a time.
    work.write("main.tf", &schema(&db.name, ""));
    let revoked = plan(&work);
    assert!(revoked.stdout.contains(&format!("REVOKE USAGE ON SCHEMA \"ml\" FROM \"{writer}\"")) && revoked.stdout.contains(&format!("REVOKE CREATE ON SCHEMA \"ml\" FROM \"{writer}\"")), "{revoked:?}");
    work.apply();
    assert_eq!(privilege(&writer, "CREATE").as_deref(), Some("false"));
    assert_eq!(one_value(&db, "SELECT has_schema_privilege('public', 'ml', 'USAGE')::text").as_deref(), Some("true"));
    work.assert_converged();

    // Another database than the connected one: a plan error naming both.
    work.write("main.tf", &schema("elsewhere", ""));
    let other = work.strata(&["plan"]);
    assert_ne!(other.code, 0);
    assert!(other.output().contains("database \"elsewhere\" is not the database the provider is connected to") && other.output().contains(&db.name), "{other:?}");

    // Destroy: the schema goes, the roles stay for the guard.
    work.write("main.tf", &schema(&db.name, ""));
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT nspname::text FROM pg_namespace WHERE nspname = 'ml'"), None);
}
