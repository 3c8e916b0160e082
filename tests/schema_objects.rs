//! Views, functions, triggers and sequences against a real PostgreSQL, on an MLflow-like tracking
//! schema (`experiments`, `runs`, `metrics`): created as configured, no change on a second plan,
//! changed in place where PostgreSQL allows it and replaced (with the reason) where not, imported,
//! adopted after an interrupted create, and destroyed without touching what strata did not make.

use crate::common;

use common::{TestDb, Workdir};

const TABLES: &str = r#"
resource "postgres_table" "experiments" {
  name = "experiments"
  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "by default"
  }
  column {
    name = "name"
    type = "text"
    null = false
  }
  primary_key = ["id"]
}

resource "postgres_table" "runs" {
  name = "runs"
  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "by default"
  }
  column {
    name = "experiment_id"
    type = "bigint"
    null = false
  }
  column {
    name = "run_number"
    type = "bigint"
  }
  column {
    name    = "status"
    type    = "text"
    null    = false
    default = "'RUNNING'"
  }
  column {
    name    = "updated_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }
  primary_key = ["id"]
  foreign_key {
    columns     = ["experiment_id"]
    references  = postgres_table.experiments.id
    ref_columns = ["id"]
  }
}

resource "postgres_table" "metrics" {
  name = "metrics"
  column {
    name = "run_id"
    type = "bigint"
    null = false
  }
  column {
    name = "key"
    type = "text"
    null = false
  }
  column {
    name = "value"
    type = "double precision"
    null = false
  }
  column {
    name = "step"
    type = "bigint"
    null = false
  }
  foreign_key {
    columns     = ["run_id"]
    references  = postgres_table.runs.id
    ref_columns = ["id"]
  }
}
"#;

/// The latest value of each metric of each run, its query as `query` says.
fn latest_metrics(query: &str) -> String {
    format!("\nresource \"postgres_view\" \"latest_metrics\" {{\n  name    = \"latest_metrics\"\n  comment = \"the newest step of each metric\"\n  query   = <<-SQL\n{query}\n  SQL\n}}\n")
}

const LATEST: &str = "    SELECT DISTINCT ON (m.run_id, m.key) m.run_id, m.key, m.value, m.step\n    FROM ${postgres_table.metrics.id} m\n    ORDER BY m.run_id, m.key, m.step DESC";

fn plan(work: &Workdir) -> common::Run {
    let run = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(run.code, 2, "expected changes: {run:?}");
    run
}

fn one_value(db: &TestDb, sql: &str) -> Option<String> {
    db.client().query_opt(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).and_then(|row| row.get(0))
}

#[test]
fn a_view_is_compared_as_postgres_stores_it_changed_in_place_or_replaced_and_destroyed_alone() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{TABLES}{}", latest_metrics(LATEST)));
    work.apply();
    db.execute("INSERT INTO experiments (name) VALUES ('baseline'); INSERT INTO runs (experiment_id) VALUES (1);");
    db.execute("INSERT INTO metrics VALUES (1, 'loss', 0.9, 1), (1, 'loss', 0.4, 2), (1, 'acc', 0.7, 2)");
    let newest = one_value(&db, "SELECT value::text FROM latest_metrics WHERE key = 'loss'");
    assert_eq!(newest.as_deref(), Some("0.4"));
    assert_eq!(one_value(&db, "SELECT obj_description('latest_metrics'::regclass, 'pg_class')").as_deref(), Some("the newest step of each metric"));
    work.assert_converged();

    // The same query written another way: no change.
    let respelled = "    select distinct on (m.run_id, m.key) m.run_id, m.KEY, m.value, m.step\n    from public.metrics as m   order by m.run_id, m.key, m.step desc;";
    work.write("main.tf", &format!("{TABLES}{}", latest_metrics(respelled)));
    work.assert_converged();

    // A column added at the end: CREATE OR REPLACE VIEW.
    let widened = "    SELECT DISTINCT ON (m.run_id, m.key) m.run_id, m.key, m.value, m.step, m.value * 100 AS percent\n    FROM ${postgres_table.metrics.id} m\n    ORDER BY m.run_id, m.key, m.step DESC";
    work.write("main.tf", &format!("{TABLES}{}", latest_metrics(widened)));
    let in_place = plan(&work);
    assert!(in_place.stdout.contains("CREATE OR REPLACE VIEW \"public\".\"latest_metrics\""), "{in_place:?}");
    assert!(in_place.stdout.contains("1 to change, 0 to replace"), "{in_place:?}");
    work.apply();
    assert_eq!(one_value(&db, "SELECT percent::text FROM latest_metrics WHERE key = 'acc'").as_deref(), Some("70"));
    work.assert_converged();

    // A column dropped from the middle: PostgreSQL cannot replace it in place.
    let narrowed = "    SELECT DISTINCT ON (m.run_id, m.key) m.run_id, m.key, m.step\n    FROM ${postgres_table.metrics.id} m\n    ORDER BY m.run_id, m.key, m.step DESC";
    work.write("main.tf", &format!("{TABLES}{}", latest_metrics(narrowed)));
    let replaced = plan(&work);
    assert!(replaced.stdout.contains("must be replaced") && replaced.stdout.contains("DROP VIEW \"public\".\"latest_metrics\""), "{replaced:?}");
    assert!(replaced.output().contains("privileges granted on view public.latest_metrics are dropped with it"), "{replaced:?}");
    work.apply();
    assert_eq!(one_value(&db, "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'latest_metrics'::regclass").as_deref(), Some("run_id,key,step"));
    work.assert_converged();

    // Import: forgotten, then brought back by its id.
    assert_eq!(work.strata(&["state", "rm", "postgres_view.latest_metrics"]).code, 0);
    let import = work.strata(&["import", "postgres_view.latest_metrics", "public.latest_metrics"]);
    assert_eq!(import.code, 0, "{import:?}");
    work.assert_converged();

    // Destroy drops only what state names.
    db.execute("CREATE VIEW hand_made AS SELECT 1 AS one");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regclass('latest_metrics')::text"), None, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regclass('hand_made')::text").as_deref(), Some("hand_made"));
}

/// `touch_updated_at()` and the trigger that calls it before each update of `runs`, a scoring
/// function with arguments, and a procedure; `extra` goes into the trigger block.
fn functions(touch_body: &str, scale_type: &str, trigger_extra: &str) -> String {
    format!(
        r#"
resource "postgres_function" "touch" {{
  name     = "touch_updated_at"
  returns  = "trigger"
  language = "plpgsql"
  comment  = "stamps updated_at"
  body     = <<-SQL
{touch_body}
  SQL
}}

resource "postgres_trigger" "runs_updated_at" {{
  table    = postgres_table.runs.id
  name     = "runs_updated_at"
  timing   = "BEFORE"
  events   = ["UPDATE"]
  level    = "ROW"
  function = postgres_function.touch.id
{trigger_extra}
}}

resource "postgres_function" "run_score" {{
  name = "run_score"
  arg {{
    name = "loss"
    type = "float8"
  }}
  arg {{
    name    = "scale"
    type    = "{scale_type}"
    default = "100"
  }}
  returns     = "numeric"
  language    = "sql"
  volatility  = "immutable"
  search_path = "public, pg_temp"
  body        = "SELECT round(((1 - loss) * scale)::numeric, 2)"
}}

resource "postgres_function" "archive_runs" {{
  name     = "archive_runs"
  kind     = "procedure"
  language = "sql"
  arg {{
    name = "keep_days"
    type = "integer"
  }}
  body = "DELETE FROM ${{postgres_table.runs.id}} WHERE updated_at < now() - make_interval(days => keep_days)"
}}
"#
    )
}

const TOUCH: &str = "    BEGIN\n      NEW.updated_at := now();\n      RETURN NEW;\n    END;";

#[test]
fn functions_and_a_trigger_fire_change_in_place_or_replace_import_and_destroy_alone() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let config = |touch: &str, scale: &str, extra: &str| format!("{TABLES}{}", functions(touch, scale, extra));
    work.write("main.tf", &config(TOUCH, "int", ""));
    work.apply();
    work.assert_converged();

    // The trigger fires: an update stamps updated_at.
    db.execute("INSERT INTO experiments (name) VALUES ('baseline'); INSERT INTO runs (experiment_id, updated_at) VALUES (1, '2000-01-01')");
    db.execute("UPDATE runs SET status = 'FINISHED'");
    assert_eq!(one_value(&db, "SELECT (updated_at > '2001-01-01')::text FROM runs").as_deref(), Some("true"), "the trigger did not fire");
    assert_eq!(one_value(&db, "SELECT run_score(0.25)::text").as_deref(), Some("75.00"));
    db.execute("CALL archive_runs(30)");
    assert_eq!(one_value(&db, "SELECT obj_description('touch_updated_at'::regproc, 'pg_proc')").as_deref(), Some("stamps updated_at"));

    // A new body: CREATE OR REPLACE, the trigger untouched.
    let upper = "    BEGIN\n      NEW.updated_at := now();\n      NEW.status := upper(NEW.status);\n      RETURN NEW;\n    END;";
    work.write("main.tf", &config(upper, "int", ""));
    let body = plan(&work);
    assert!(body.stdout.contains("CREATE OR REPLACE FUNCTION \"public\".\"touch_updated_at\"()") && body.stdout.contains("1 to change, 0 to replace"), "{body:?}");
    work.apply();
    work.assert_converged();
    db.execute("UPDATE runs SET status = 'failed'");
    assert_eq!(one_value(&db, "SELECT status FROM runs").as_deref(), Some("FAILED"));

    // A new argument type: a new identity, so DROP FUNCTION and CREATE.
    work.write("main.tf", &config(upper, "bigint", ""));
    let retyped = plan(&work);
    assert!(retyped.stdout.contains("must be replaced") && retyped.stdout.contains("DROP FUNCTION \"public\".\"run_score\"(double precision, integer)"), "{retyped:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT oidvectortypes(proargtypes) FROM pg_proc WHERE proname = 'run_score'").as_deref(), Some("double precision, bigint"));

    // A WHEN on the trigger: one CREATE OR REPLACE TRIGGER, compared as PostgreSQL prints it.
    let when = "  when = \"OLD.status IS DISTINCT FROM NEW.status\"";
    work.write("main.tf", &config(upper, "bigint", when));
    let guarded = plan(&work);
    assert!(guarded.stdout.contains("CREATE OR REPLACE TRIGGER \"runs_updated_at\" BEFORE UPDATE ON \"public\".\"runs\" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)"), "{guarded:?}");
    work.apply();
    work.assert_converged();
    db.execute("UPDATE runs SET updated_at = '2000-01-01'; UPDATE runs SET experiment_id = 1");
    assert_eq!(one_value(&db, "SELECT (updated_at < '2001-01-01')::text FROM runs").as_deref(), Some("true"), "the WHEN did not hold the trigger back");

    // Import each kind by its id.
    for address in ["postgres_function.touch", "postgres_function.run_score", "postgres_function.archive_runs", "postgres_trigger.runs_updated_at"] {
        assert_eq!(work.strata(&["state", "rm", address]).code, 0);
    }
    for (address, id) in [
        ("postgres_function.touch", "public.touch_updated_at()"),
        ("postgres_function.run_score", "run_score(float8, int8)"),
        ("postgres_function.archive_runs", "public.archive_runs(integer)"),
        ("postgres_trigger.runs_updated_at", "public.runs.runs_updated_at"),
    ] {
        let import = work.strata(&["import", address, id]);
        assert_eq!(import.code, 0, "{address} {id}: {import:?}");
    }
    work.assert_converged();

    // Destroy leaves a hand-made function (and the trigger that uses it) alone.
    db.execute("CREATE FUNCTION hand_made() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER hand_made BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION hand_made()");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regprocedure('touch_updated_at()')::text"), None);
    assert_eq!(one_value(&db, "SELECT to_regprocedure('hand_made()')::text").as_deref(), Some("hand_made()"));
}

fn run_number(settings: &str) -> String {
    format!(
        "\nresource \"postgres_sequence\" \"run_number\" {{\n  name     = \"run_number\"\n  as       = \"integer\"\n  start    = 1000\n  owned_by = \"${{postgres_table.runs.id}}.run_number\"\n  comment  = \"numbers runs within the tracking server\"\n{settings}\n}}\n"
    )
}

#[test]
fn a_sequence_owned_by_a_column_is_altered_in_place_imported_and_destroyed_alone() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{TABLES}{}", run_number("")));
    work.apply();
    work.assert_converged();
    db.execute("INSERT INTO experiments (name) VALUES ('baseline'); INSERT INTO runs (experiment_id, run_number) VALUES (1, nextval('run_number'))");
    assert_eq!(one_value(&db, "SELECT run_number::text FROM runs").as_deref(), Some("1000"));
    let owner = "SELECT d.refobjid::regclass::text || '.' || a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE d.objid = 'run_number'::regclass AND d.deptype = 'a'";
    assert_eq!(one_value(&db, owner).as_deref(), Some("runs.run_number"));

    work.write("main.tf", &format!("{TABLES}{}", run_number("  increment = 10\n  cache     = 5")));
    let altered = plan(&work);
    assert!(altered.stdout.contains("ALTER SEQUENCE \"public\".\"run_number\" INCREMENT BY 10 CACHE 5") && altered.stdout.contains("1 to change, 0 to replace"), "{altered:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT nextval('run_number')::text").as_deref(), Some("1010"), "the sequence was made again instead of altered");

    // The sequence behind an identity column belongs to its column: it cannot be imported.
    let identity = work.strata(&["import", "postgres_sequence.run_number", "public.runs_id_seq"]);
    assert_ne!(identity.code, 0, "{identity:?}");
    assert_eq!(work.strata(&["state", "rm", "postgres_sequence.run_number"]).code, 0);
    let import = work.strata(&["import", "postgres_sequence.run_number", "run_number"]);
    assert_eq!(import.code, 0, "{import:?}");
    work.assert_converged();

    db.execute("CREATE SEQUENCE hand_made_seq");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regclass('run_number')::text"), None);
    assert_eq!(one_value(&db, "SELECT to_regclass('hand_made_seq')::text").as_deref(), Some("hand_made_seq"));
}

/// The whole tracking schema: tables, the view, functions, the trigger and the sequence.
fn tracking_schema() -> String {
    format!("{TABLES}{}{}{}", latest_metrics(LATEST), functions(TOUCH, "int", ""), run_number(""))
}

#[test]
fn interrupted_creates_of_each_kind_are_adopted_by_their_catalog_rows_mark() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &tracking_schema());
    work.apply();
    // As a kill between each create and its state write leaves them: the object live, an intent
    // holding the creating transaction's id, which is the xmin of the object's catalog row.
    let forgotten = [
        ("postgres_view.latest_metrics", "public.latest_metrics", "SELECT xmin::text FROM pg_class WHERE oid = 'latest_metrics'::regclass"),
        ("postgres_function.touch", "public.touch_updated_at()", "SELECT xmin::text FROM pg_proc WHERE oid = 'touch_updated_at()'::regprocedure"),
        ("postgres_trigger.runs_updated_at", "public.runs.runs_updated_at", "SELECT xmin::text FROM pg_trigger WHERE tgname = 'runs_updated_at'"),
        ("postgres_sequence.run_number", "public.run_number", "SELECT xmin::text FROM pg_class WHERE oid = 'run_number'::regclass"),
    ];
    let forgotten: Vec<(&str, String, String)> = forgotten.iter().map(|(address, id, mark)| (*address, (*id).to_owned(), one_value(&db, mark).expect("a catalog row"))).collect();
    common::interrupt_creates_and_apply(&work, &forgotten);

    // A hand-made twin of a view is never adopted: its row was written by another transaction.
    assert_eq!(work.strata(&["state", "rm", "postgres_view.latest_metrics"]).code, 0);
    let clash = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(clash.code, 1, "{clash:?}");
    assert!(clash.stderr.contains("strata import postgres_view.latest_metrics public.latest_metrics"), "{clash:?}");
}

fn run_summary(query: &str, with_data: bool) -> String {
    format!(
        "\nresource \"postgres_materialized_view\" \"run_summary\" {{\n  name      = \"run_summary\"\n  with_data = {with_data}\n  query     = \"{query}\"\n}}\n\n\
         resource \"postgres_index\" \"run_summary_experiment\" {{\n  name    = \"run_summary_experiment\"\n  table   = postgres_materialized_view.run_summary.id\n  columns = [\"experiment_id\"]\n  unique  = true\n}}\n"
    )
}

#[test]
fn a_materialized_view_with_an_index_is_refreshed_in_place_and_replaced_for_a_new_query() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let counted = "SELECT r.experiment_id, count(*) AS runs FROM ${postgres_table.runs.id} r GROUP BY r.experiment_id";
    work.write("main.tf", &format!("{TABLES}{}", run_summary(counted, true)));
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT indexdef FROM pg_indexes WHERE indexname = 'run_summary_experiment'").as_deref(), Some("CREATE UNIQUE INDEX run_summary_experiment ON public.run_summary USING btree (experiment_id)"));

    // The same query spelled otherwise: no change.
    let respelled = "select r.experiment_id, COUNT(*) as runs from public.runs as r group by r.experiment_id;";
    work.write("main.tf", &format!("{TABLES}{}", run_summary(respelled, true)));
    work.assert_converged();

    db.execute("INSERT INTO experiments (name) VALUES ('baseline'); INSERT INTO runs (experiment_id) VALUES (1), (1)");
    work.write("main.tf", &format!("{TABLES}{}", run_summary(respelled, false)));
    let emptied = plan(&work);
    assert!(emptied.stdout.contains("REFRESH MATERIALIZED VIEW \"public\".\"run_summary\" WITH NO DATA") && emptied.output().contains("ACCESS EXCLUSIVE"), "{emptied:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT relispopulated::text FROM pg_class WHERE relname = 'run_summary'").as_deref(), Some("false"));

    let finished = "SELECT r.experiment_id, count(*) AS runs FROM ${postgres_table.runs.id} r WHERE r.status = 'FINISHED' GROUP BY r.experiment_id";
    work.write("main.tf", &format!("{TABLES}{}", run_summary(finished, true)));
    let replaced = plan(&work);
    assert!(replaced.stdout.contains("must be replaced") && replaced.stdout.contains("DROP MATERIALIZED VIEW \"public\".\"run_summary\""), "{replaced:?}");
    assert!(replaced.output().contains("indexes on materialized view public.run_summary"), "{replaced:?}");
    work.apply();
    // The index went with the old materialized view: the next apply builds it again.
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT count(*)::text FROM pg_indexes WHERE indexname = 'run_summary_experiment'").as_deref(), Some("1"));

    assert_eq!(work.strata(&["state", "rm", "postgres_materialized_view.run_summary"]).code, 0);
    let import = work.strata(&["import", "postgres_materialized_view.run_summary", "public.run_summary"]);
    assert_eq!(import.code, 0, "{import:?}");
    work.assert_converged();
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regclass('run_summary')::text"), None);
}

fn probability(settings: &str) -> String {
    format!(
        "\nresource \"postgres_domain\" \"probability\" {{\n  name     = \"probability\"\n  not_null = true\n  comment  = \"a value between 0 and 1\"\n{settings}\n}}\n\n\
         resource \"postgres_table\" \"predictions\" {{\n  name = \"predictions\"\n  column {{\n    name = \"run_id\"\n    type = \"bigint\"\n  }}\n  column {{\n    name = \"confidence\"\n    type = postgres_domain.probability.id\n  }}\n}}\n"
    )
}

#[test]
fn a_domain_is_altered_in_place_compared_as_postgres_prints_it_and_replaced_for_a_new_type() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &probability("  type = \"float8\"\n  check {\n    expression = \"VALUE >= 0 AND VALUE <= 1\"\n  }"));
    work.apply();
    work.assert_converged();
    let refused = db.client().batch_execute("INSERT INTO predictions VALUES (1, 1.5)");
    assert!(refused.is_err_and(|e| e.to_string().contains("probability_check") || format!("{e:?}").contains("probability_check")), "the check did not hold");

    // BETWEEN is stored as the two comparisons: no change.
    work.write("main.tf", &probability("  type = \"double precision\"\n  check {\n    expression = \"VALUE BETWEEN 0 AND 1\"\n  }"));
    work.assert_converged();

    work.write("main.tf", &probability("  type    = \"float8\"\n  default = \"0.5\"\n  check {\n    expression = \"VALUE >= 0 AND VALUE <= 1\"\n  }"));
    let defaulted = plan(&work);
    assert!(defaulted.stdout.contains("ALTER DOMAIN \"public\".\"probability\" SET DEFAULT 0.5") && defaulted.stdout.contains("1 to change, 0 to replace"), "{defaulted:?}");
    work.apply();
    work.assert_converged();
    db.execute("INSERT INTO predictions (run_id) VALUES (1)");
    assert_eq!(one_value(&db, "SELECT confidence::text FROM predictions").as_deref(), Some("0.5"));

    work.write("main.tf", &probability("  type    = \"numeric\"\n  default = \"0.5\"\n  check {\n    expression = \"VALUE >= 0 AND VALUE <= 1\"\n  }"));
    let retyped = plan(&work);
    assert!(retyped.stdout.contains("must be replaced") && retyped.stdout.contains("DROP DOMAIN \"public\".\"probability\""), "{retyped:?}");

    work.write("main.tf", &probability("  type    = \"float8\"\n  default = \"0.5\"\n  check {\n    expression = \"VALUE >= 0 AND VALUE <= 1\"\n  }"));
    assert_eq!(work.strata(&["state", "rm", "postgres_domain.probability"]).code, 0);
    let import = work.strata(&["import", "postgres_domain.probability", "probability"]);
    assert_eq!(import.code, 0, "{import:?}");
    work.assert_converged();
    db.execute("CREATE DOMAIN hand_made AS text");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regtype('probability')::text"), None);
    assert_eq!(one_value(&db, "SELECT to_regtype('hand_made')::text").as_deref(), Some("hand_made"));
}

fn metric_point(attributes: &[(&str, &str)]) -> String {
    let blocks: String = attributes.iter().map(|(name, type_name)| format!("  attribute {{\n    name = \"{name}\"\n    type = \"{type_name}\"\n  }}\n")).collect();
    format!("resource \"postgres_composite_type\" \"metric_point\" {{\n  name = \"metric_point\"\n{blocks}}}\n")
}

#[test]
fn a_composite_type_gains_attributes_in_place_imports_and_is_destroyed_alone() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &metric_point(&[("step", "bigint"), ("value", "double precision")]));
    work.apply();
    work.assert_converged();
    work.write("main.tf", &metric_point(&[("step", "int8"), ("value", "float8")]));
    work.assert_converged();

    work.write("main.tf", &metric_point(&[("step", "int8"), ("value", "float8"), ("logged_at", "timestamptz")]));
    let added = plan(&work);
    assert!(added.stdout.contains("ALTER TYPE \"public\".\"metric_point\" ADD ATTRIBUTE \"logged_at\" timestamptz"), "{added:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT (ROW(1, 0.5, now())::metric_point).step::text").as_deref(), Some("1"));

    assert_eq!(work.strata(&["state", "rm", "postgres_composite_type.metric_point"]).code, 0);
    assert_eq!(work.strata(&["import", "postgres_composite_type.metric_point", "public.metric_point"]).code, 0);
    work.assert_converged();
    db.execute("CREATE TYPE hand_made AS (a int)");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(one_value(&db, "SELECT to_regtype('metric_point')::text"), None);
    assert_eq!(one_value(&db, "SELECT to_regtype('hand_made')::text").as_deref(), Some("hand_made"));
}

#[test]
fn view_options_and_function_shapes_converge_as_written() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let config = |check_option: &str| {
        format!(
            r#"{TABLES}
resource "postgres_view" "finished_runs" {{
  name             = "finished_runs"
  columns          = ["run_id", "experiment", "state"]
  security_barrier = true
  security_invoker = true
  check_option     = "{check_option}"
  query            = "SELECT id, experiment_id, status FROM ${{postgres_table.runs.id}} WHERE status = 'FINISHED'"
}}

resource "postgres_function" "metric_history" {{
  name       = "metric_history"
  returns    = "TABLE(step bigint, value double precision)"
  language   = "sql"
  volatility = "STABLE"
  strict     = true
  parallel   = "safe"
  arg {{
    name = "for_run"
    type = "int8"
  }}
  arg {{
    name    = "keys"
    type    = "text[]"
    default = "ARRAY['loss', 'acc']"
  }}
  body = "SELECT m.step, m.value FROM ${{postgres_table.metrics.id}} m WHERE m.run_id = for_run AND m.key = ANY (keys) ORDER BY m.step"
}}

resource "postgres_function" "run_bounds" {{
  name     = "run_bounds"
  language = "plpgsql"
  arg {{
    name = "for_run"
    type = "bigint"
  }}
  arg {{
    name = "first_step"
    type = "bigint"
    mode = "out"
  }}
  arg {{
    name = "last_step"
    type = "bigint"
    mode = "OUT"
  }}
  body = "BEGIN SELECT min(step), max(step) INTO first_step, last_step FROM metrics WHERE run_id = for_run; END"
}}
"#
        )
    };
    work.write("main.tf", &config("local"));
    work.apply();
    work.assert_converged();
    assert_eq!(one_value(&db, "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'finished_runs'").as_deref(), Some("security_invoker=true,security_barrier=true,check_option=local"));
    db.execute("INSERT INTO experiments (name) VALUES ('baseline'); INSERT INTO runs (experiment_id) VALUES (1); INSERT INTO metrics VALUES (1, 'loss', 0.5, 3), (1, 'acc', 0.9, 7)");
    assert_eq!(one_value(&db, "SELECT string_agg(step::text, ',') FROM metric_history(1)").as_deref(), Some("3,7"));
    assert_eq!(one_value(&db, "SELECT last_step::text FROM run_bounds(1)").as_deref(), Some("7"));

    work.write("main.tf", &config("cascaded"));
    let cascaded = plan(&work);
    assert!(cascaded.stdout.contains("WITH CASCADED CHECK OPTION") && cascaded.stdout.contains("1 to change, 0 to replace"), "{cascaded:?}");
    work.apply();
    work.assert_converged();
}

const SCORES: &str = r#"
resource "postgres_table" "scores" {
  name        = "scores"
  primary_key = ["id"]

  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "score"
    type = "integer"
  }
  column {
    name = "label"
    type = "text"
  }
}

resource "postgres_view" "top_scores" {
  name  = "top_scores"
  query = "SELECT id, score FROM ${postgres_table.scores.id} WHERE score > 90"
}
"#;

#[test]
fn a_column_a_view_reads_changes_type_with_the_view_dropped_and_recreated_around_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", SCORES);
    work.apply();
    db.execute("INSERT INTO scores VALUES (1, 95, 'a'), (2, 40, 'b')");
    work.write("main.tf", &SCORES.replacen("type = \"integer\"", "type = \"bigint\"", 1));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("drops and re-creates public.top_scores around the change"), "{plan:?}");
    let drop = plan.stdout.find("DROP VIEW").expect("the view is dropped first");
    let alter = plan.stdout.find("ALTER COLUMN \"score\" TYPE").expect("then the column changes");
    let create = plan.stdout.rfind("CREATE VIEW").expect("then the view is back");
    assert!(drop < alter && alter < create, "{plan:?}");
    work.apply();
    work.assert_converged();
    let rows: i64 = db.client().query_one("SELECT count(*) FROM top_scores", &[]).unwrap().get(0);
    assert_eq!(rows, 1);

    // A view strata does not manage reading a column to change: refused at plan, nothing runs.
    db.execute("CREATE VIEW labels AS SELECT label FROM scores");
    work.write("main.tf", &SCORES.replacen("type = \"integer\"", "type = \"bigint\"", 1).replace("type = \"text\"", "type = \"varchar(10)\""));
    let refused = work.strata(&["plan"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("column public.scores.label is read by view public.labels, which strata does not manage"), "{refused:?}");
    let kept: String = db.client().query_one("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'scores'::regclass AND attname = 'label'", &[]).unwrap().get(0);
    assert_eq!(kept, "text");
}
