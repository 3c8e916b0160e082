//! Configurations written for Terraform's community PostgreSQL provider (cyrilgdn/postgresql):
//! its `required_providers` entry, its `provider "postgresql"` block with its arguments, and its
//! resource types (roles, memberships, a database, schema policies, grants, default privileges),
//! applied unchanged against a real PostgreSQL and converged, and destroyed in the order what each
//! names by literal name asks for; strata's own `postgres_*` types keep working beside them.

use crate::common;

use common::roles::{connect_as, one_value, Cluster};
use common::{TestDb, Workdir};

/// A community configuration as its users write it: the provider block names the server.
fn community(db: &TestDb, provider_extra: &str, resources: &str) -> String {
    let (host, port, user) = common::server();
    format!(
        r#"
terraform {{
  required_providers {{
    postgresql = {{
      source  = "cyrilgdn/postgresql"
      version = "~> 1.21"
    }}
  }}
}}

provider "postgresql" {{
  host            = "{host}"
  port            = {port}
  database        = "{database}"
  username        = "{user}"
  sslmode         = "disable"
  connect_timeout = 15
  superuser       = true
  max_connections = 4
{provider_extra}}}

{resources}"#,
        database = db.name
    )
}

const SCHEMAS: &str = r#"
resource "postgresql_schema" "features" {
  name = "features"
}

resource "postgres_table" "runs" {
  schema = postgresql_schema.features.name
  name   = "runs"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

#[test]
fn a_community_configuration_applies_unchanged_and_converges() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &community(&db, "  expected_version = \"12\"\n", SCHEMAS));
    let apply = work.apply();
    assert!(apply.stdout.contains("2 added"), "{apply:?}");
    assert!(db.client().query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'features'", &[]).unwrap().is_some());
    let state = work.state();
    let schema = common::instance(&state, "postgresql_schema.features").expect("the schema is in state");
    assert_eq!(schema["provider"], "postgresql");
    work.assert_converged();

    let plan = work.strata(&["plan", "-out", "tfplan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let show = work.strata(&["show", "-json", "tfplan"]);
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).expect("plan JSON");
    let provider_of = |address: &str| shown["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == address).map(|c| c["provider_name"].clone());
    assert_eq!(provider_of("postgresql_schema.features"), Some("registry.terraform.io/cyrilgdn/postgresql".into()));

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(db.client().query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'features'", &[]).unwrap().is_none());
}

#[test]
fn the_community_provider_blocks_settings_strata_cannot_honour_fail_before_anything_runs() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    // Each case changes one line of the block as its users would write it.
    let expect_error = |line: &str, written: &str, message: &str| {
        work.write("main.tf", &community(&db, "", SCHEMAS).replace(line, written));
        let plan = work.strata(&["plan"]);
        assert_eq!(plan.code, 1, "{plan:?}");
        assert!(plan.stderr.contains(message), "{message}: {plan:?}");
    };
    expect_error("  superuser       = true\n", "  scheme = \"awspostgres\"\n", "scheme \"awspostgres\" is not supported");
    expect_error("  superuser       = true\n", "  expected_version = \"99\"\n", "older than expected_version 99");
    expect_error("max_connections = 4", "max_connections = 0", "max_connections must be a whole number of at least 1");
    expect_error("sslmode ", "sslmod ", "sslmode");

    expect_error("cyrilgdn/postgresql", "hashicorp/postgresql", "write source = \"cyrilgdn/postgresql\"");

    work.write("main.tf", &community(&db, "", SCHEMAS).replace("~> 1.21", "~> 2.0"));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.output().contains("implements cyrilgdn/postgresql 1.25.0, which version = \"~> 2.0\" does not allow"), "{plan:?}");
    assert!(db.client().query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'features'", &[]).unwrap().is_none());
}

/// Objects named by literal name instead of a reference: the schema, its table (in strata's own
/// provider) and an index on it must still be made in that order, and dropped in reverse.
const LITERAL_NAMES: &str = r#"
resource "postgresql_schema" "serving" {
  name = "serving"
}

resource "postgres_table" "embeddings" {
  schema = "serving"
  name   = "embeddings"
  column {
    name = "id"
    type = "bigint"
  }
}

resource "postgres_index" "embeddings_id" {
  schema  = "serving"
  table   = "embeddings"
  name    = "embeddings_id"
  columns = ["id"]
}
"#;

#[test]
fn what_names_an_object_by_its_literal_name_is_applied_after_it_and_destroyed_before_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &community(&db, "", LITERAL_NAMES));
    let apply = work.strata(&["apply", "-auto-approve", "-parallelism=10"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let dependencies = |address: &str| work.state_instance(address)["dependencies"].clone();
    assert_eq!(dependencies("postgres_table.embeddings"), serde_json::json!(["postgresql_schema.serving"]));
    assert_eq!(dependencies("postgres_index.embeddings_id"), serde_json::json!(["postgres_table.embeddings"]));
    work.assert_converged();
    let destroy = work.strata(&["destroy", "-auto-approve", "-parallelism=10"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(db.client().query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'serving'", &[]).unwrap().is_none());
}

/// Roles, a membership, a database, a schema with a policy block, grants and default privileges
/// as the community provider's users write them.
fn access(db: &TestDb, cluster: &mut Cluster) -> (String, String, String) {
    let (app, readonly, analytics) = (cluster.role("app"), cluster.role("readonly"), cluster.database("analytics"));
    let (_, _, user) = common::server();
    let resources = format!(
        r#"
resource "postgresql_role" "app" {{
  name             = "{app}"
  login            = true
  password         = "{PASSWORD}"
  connection_limit = 10
}}

resource "postgresql_role" "readonly" {{
  name = "{readonly}"
}}

resource "postgresql_grant_role" "app_readonly" {{
  role       = postgresql_role.app.name
  grant_role = postgresql_role.readonly.name
}}

resource "postgresql_database" "analytics" {{
  name              = "{analytics}"
  owner             = "{app}"
  connection_limit  = -1
  allow_connections = true
}}

resource "postgresql_schema" "reporting" {{
  name  = "reporting"
  owner = "{app}"

  policy {{
    role  = "{readonly}"
    usage = true
  }}
}}

resource "postgres_table" "events" {{
  name = "events"
  column {{
    name = "id"
    type = "bigint"
  }}
}}

resource "postgresql_grant" "readonly_tables" {{
  database    = "{database}"
  role        = "{readonly}"
  schema      = "public"
  object_type = "table"
  privileges  = ["SELECT"]
}}

resource "postgresql_default_privileges" "readonly_tables" {{
  role        = "{readonly}"
  database    = "{database}"
  schema      = "public"
  owner       = "{user}"
  object_type = "table"
  privileges  = ["SELECT"]
}}
"#,
        database = db.name
    );
    (resources, app, readonly)
}

const PASSWORD: &str = "community-Secr3t-pass";

#[test]
fn a_community_access_configuration_applies_unchanged_converges_and_is_destroyed_in_order() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let work = Workdir::new(&db);
    let (resources, app, readonly) = access(&db, &mut cluster);
    work.write("main.tf", &community(&db, "", &resources));
    // Everything names roles by literal name: the order comes from what each resource names.
    let apply = work.strata(&["apply", "-auto-approve", "-parallelism=10"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(!apply.output().contains(PASSWORD) && !work.state_text().unwrap_or_default().contains(PASSWORD), "{apply:?}");
    let can = |sql: &str| one_value(&db, sql).as_deref() == Some("true");
    assert!(can(&format!("SELECT pg_has_role('{app}', '{}', 'member')::text", readonly)));
    assert!(can(&format!("SELECT has_table_privilege('{app}', 'public.events', 'SELECT')::text")), "app reads events through readonly");
    assert!(can(&format!("SELECT has_schema_privilege('{}', 'reporting', 'USAGE')::text", readonly)));
    assert!(can(&format!("SELECT (pg_get_userbyid(datdba) = '{app}')::text FROM pg_database WHERE datname = 'analytics_{}'", db.name)));
    connect_as(&db, &app, Some(PASSWORD)).batch_execute("SELECT count(*) FROM events").expect("app logs in and reads events");
    // A table made after the default privileges is readable at once.
    db.execute("CREATE TABLE later (id int)");
    assert!(can(&format!("SELECT has_table_privilege('{}', 'public.later', 'SELECT')::text", readonly)));
    db.execute("DROP TABLE later");
    work.assert_converged();

    let destroy = work.strata(&["destroy", "-auto-approve", "-parallelism=10"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(one_value(&db, &format!("SELECT rolname::text FROM pg_roles WHERE rolname = '{app}'")).is_none(), "{destroy:?}");
    assert!(one_value(&db, &format!("SELECT datname::text FROM pg_database WHERE datname = 'analytics_{}'", db.name)).is_none());
}

