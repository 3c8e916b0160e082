//! Indexes beyond plain btree columns against a real PostgreSQL: operator classes and collations
//! per key column, storage parameters, NULLS NOT DISTINCT, comments, other methods (gin, brin),
//! and a method the server does not have. pgvector is not installed here, so these use the
//! built-in operator classes and methods (the HNSW statement is a unit test of the provider).

use crate::common;

use common::{TestDb, Workdir};

/// The documents of a search service: JSON payloads searched by containment, titles searched by
/// prefix, a time column for range scans of an append-only table, an optional external id.
const DOCUMENTS: &str = r#"
resource "postgres_table" "documents" {
  name = "documents"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "slug"
    type = "text"
    null = false
  }
  column {
    name = "title"
    type = "text"
  }
  column {
    name = "payload"
    type = "jsonb"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }
  column {
    name = "external_ref"
    type = "text"
  }

  primary_key = ["id"]

  index {
    name    = "documents_payload_gin"
    using   = "gin"
    columns = ["payload jsonb_path_ops"]
    comment = "containment queries on payload (@>)"
  }
  index {
    name    = "documents_title_prefix"
    columns = ["title text_pattern_ops", "slug COLLATE \"C\""]
  }
  index {
    name    = "documents_created_brin"
    using   = "brin"
    columns = ["created_at"]
    with    = { pages_per_range = 32 }
  }
  index {
    name    = "documents_slug"
    columns = ["slug"]
    with    = { fillfactor = 70 }
  }
  index {
    name               = "documents_external_ref_key"
    columns            = ["external_ref"]
    unique             = true
    nulls_not_distinct = true
  }
}

resource "postgres_index" "documents_lower_title" {
  table        = postgres_table.documents.id
  name         = "documents_lower_title"
  columns      = ["lower(title) text_pattern_ops DESC"]
  concurrently = true
  comment      = "case-insensitive title prefixes"
}
"#;

/// Every index of `documents` as `name: indexdef`, as PostgreSQL prints it.
fn index_definitions(db: &TestDb) -> Vec<String> {
    let sql = "SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename = 'documents' AND indexname <> 'documents_pkey' ORDER BY 1";
    db.client().query(sql, &[]).unwrap().iter().map(|row| row.get(0)).collect()
}

/// One index's comment and storage parameters, as the catalog holds them.
fn comment_and_parameters(db: &TestDb, index: &str) -> (Option<String>, Option<Vec<String>>) {
    let row = db.client().query_one("SELECT obj_description(c.oid, 'pg_class'), c.reloptions FROM pg_class c WHERE c.relname = $1", &[&index]).unwrap();
    (row.get(0), row.get(1))
}

/// A database with DOCUMENTS applied, and the directory it was applied from.
fn documents_applied() -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", DOCUMENTS);
    work.apply();
    (db, work)
}

#[test]
fn indexes_with_operator_classes_parameters_and_comments_apply_as_declared_and_converge() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", DOCUMENTS);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("USING gin (\"payload\" jsonb_path_ops)"), "{plan:?}");
    assert!(plan.stdout.contains("CREATE INDEX CONCURRENTLY \"documents_lower_title\" ON \"public\".\"documents\" USING btree ((lower(title)) text_pattern_ops DESC)"), "{plan:?}");
    work.apply();

    assert_eq!(
        index_definitions(&db),
        [
            "documents_created_brin: CREATE INDEX documents_created_brin ON public.documents USING brin (created_at) WITH (pages_per_range='32')",
            "documents_external_ref_key: CREATE UNIQUE INDEX documents_external_ref_key ON public.documents USING btree (external_ref) NULLS NOT DISTINCT",
            "documents_lower_title: CREATE INDEX documents_lower_title ON public.documents USING btree (lower(title) text_pattern_ops DESC)",
            "documents_payload_gin: CREATE INDEX documents_payload_gin ON public.documents USING gin (payload jsonb_path_ops)",
            "documents_slug: CREATE INDEX documents_slug ON public.documents USING btree (slug) WITH (fillfactor='70')",
            "documents_title_prefix: CREATE INDEX documents_title_prefix ON public.documents USING btree (title text_pattern_ops, slug COLLATE \"C\")",
        ]
    );
    assert_eq!(comment_and_parameters(&db, "documents_payload_gin").0.as_deref(), Some("containment queries on payload (@>)"));
    assert_eq!(comment_and_parameters(&db, "documents_lower_title").0.as_deref(), Some("case-insensitive title prefixes"));
    work.assert_converged();

    // The unique index holds one NULL at most, as declared.
    db.execute("INSERT INTO documents (slug) VALUES ('a')");
    let second_null = db.client().batch_execute("INSERT INTO documents (slug) VALUES ('b')");
    let violated = second_null.err().and_then(|e| e.as_db_error().and_then(|d| d.constraint()).map(str::to_owned));
    assert_eq!(violated.as_deref(), Some("documents_external_ref_key"));
}

#[test]
fn comments_and_storage_parameters_change_in_place() {
    let (db, work) = documents_applied();

    let changed = DOCUMENTS
        .replace("comment = \"containment queries on payload (@>)\"", "comment = \"payload @> queries\"")
        .replace("with    = { pages_per_range = 32 }", "with    = { pages_per_range = 64, autosummarize = true }")
        .replace("    with    = { fillfactor = 70 }\n", "")
        .replace("comment      = \"case-insensitive title prefixes\"", "comment      = \"title prefixes, any case\"");
    work.write("main.tf", &changed);
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.documents will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("postgres_index.documents_lower_title will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    for statement in [
        "ALTER INDEX \"public\".\"documents_created_brin\" SET (pages_per_range = 64, autosummarize = 'true')",
        "ALTER INDEX \"public\".\"documents_slug\" RESET (fillfactor)",
        "COMMENT ON INDEX \"public\".\"documents_payload_gin\" IS 'payload @> queries'",
        "COMMENT ON INDEX \"public\".\"documents_lower_title\" IS 'title prefixes, any case'",
    ] {
        assert!(plan.stdout.contains(statement), "{statement}: {plan:?}");
    }
    assert!(!plan.stdout.contains("DROP INDEX") && !plan.stdout.contains("CREATE INDEX"), "nothing is built again: {plan:?}");

    work.apply();
    assert_eq!(comment_and_parameters(&db, "documents_created_brin").1, Some(vec!["pages_per_range=64".to_owned(), "autosummarize=true".to_owned()]));
    assert_eq!(comment_and_parameters(&db, "documents_slug").1, None);
    assert_eq!(comment_and_parameters(&db, "documents_payload_gin").0.as_deref(), Some("payload @> queries"));
    assert_eq!(comment_and_parameters(&db, "documents_lower_title").0.as_deref(), Some("title prefixes, any case"));
    work.assert_converged();
}

#[test]
fn changing_an_operator_class_rebuilds_the_index() {
    let (db, work) = documents_applied();

    let changed = DOCUMENTS
        .replace("columns = [\"title text_pattern_ops\", \"slug COLLATE \\\"C\\\"\"]", "columns = [\"title\", \"slug COLLATE \\\"C\\\"\"]")
        .replace("columns      = [\"lower(title) text_pattern_ops DESC\"]", "columns      = [\"lower(title) DESC\"]");
    assert_ne!(changed, DOCUMENTS);
    work.write("main.tf", &changed);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("postgres_index.documents_lower_title must be replaced"), "{plan:?}");
    assert!(plan.stdout.contains("DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"documents_lower_title\""), "{plan:?}");
    assert!(plan.stdout.contains("DROP INDEX \"public\".\"documents_title_prefix\""), "{plan:?}");
    assert!(plan.stdout.contains("CREATE INDEX \"documents_title_prefix\" ON \"public\".\"documents\" USING btree (\"title\", \"slug\" COLLATE \"C\")"), "{plan:?}");
    assert!(plan.stdout.contains("index documents_title_prefix on public.documents is dropped and built again: columns changed"), "{plan:?}");

    work.apply();
    let definitions = index_definitions(&db);
    assert!(definitions.contains(&"documents_lower_title: CREATE INDEX documents_lower_title ON public.documents USING btree (lower(title) DESC)".to_owned()), "{definitions:?}");
    assert!(definitions.contains(&"documents_title_prefix: CREATE INDEX documents_title_prefix ON public.documents USING btree (title, slug COLLATE \"C\")".to_owned()), "{definitions:?}");
    work.assert_converged();
}

#[test]
fn an_index_method_the_server_does_not_have_fails_at_plan_naming_those_it_has() {
    let (db, work) = documents_applied();
    let before = db.catalog();

    let unknown = DOCUMENTS.replace("using   = \"brin\"", "using   = \"rum\"");
    work.write("main.tf", &unknown);
    for command in [&["plan"][..], &["apply", "-auto-approve"]] {
        let run = work.strata(command);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("index documents_created_brin uses method \"rum\", which this server does not have: it has brin, btree, gin, gist, hash, spgist"), "{run:?}");
    }
    assert_eq!(db.catalog(), before, "nothing changed");

    // The method is pasted into SQL: anything but a name is refused before the server is asked.
    let injected = DOCUMENTS.replace("using   = \"brin\"", "using   = \"brin (id); DROP TABLE documents; --\"");
    work.write("main.tf", &injected);
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is not an index method's name"), "{run:?}");
    assert_eq!(db.catalog(), before, "nothing changed");
}

#[test]
fn renaming_a_column_keeps_the_indexes_on_it_with_their_operator_classes() {
    let (db, work) = documents_applied();

    let renamed = DOCUMENTS
        .replace("    name = \"title\"\n", "    name         = \"headline\"\n    renamed_from = \"title\"\n")
        .replace("\"title text_pattern_ops\"", "\"headline text_pattern_ops\"")
        .replace("\"lower(title) text_pattern_ops DESC\"", "\"lower(headline) text_pattern_ops DESC\"");
    work.write("main.tf", &renamed);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("RENAME COLUMN \"title\" TO \"headline\""), "{plan:?}");
    assert!(!plan.stdout.contains("DROP INDEX") && !plan.stdout.contains("CREATE INDEX"), "the indexes follow the rename: {plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");

    work.apply();
    let definitions = index_definitions(&db);
    assert!(definitions.contains(&"documents_title_prefix: CREATE INDEX documents_title_prefix ON public.documents USING btree (headline text_pattern_ops, slug COLLATE \"C\")".to_owned()), "{definitions:?}");
    work.assert_converged();
}
