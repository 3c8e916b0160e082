//! The provider against a real PostgreSQL, through the `Provider` trait as the engine uses it.

mod support;

use strata_provider_postgres::SNAPSHOT_QUERIES;
use strata_provider_sdk::{Action, ApplyRequest, PlanRequest, Provider, RefreshRequest, Value};
use support::Fixture;

fn table_state(name: &str) -> Value {
    Value::object([("schema", Value::from("public")), ("name", Value::from(name)), ("column", Value::List(vec![]))])
}

#[tokio::test]
async fn refresh_costs_the_same_number_of_queries_for_2_or_42_tables() {
    let fixture = Fixture::new("refresh").await;
    fixture.sql.batch_execute("CREATE TABLE t0 (id int PRIMARY KEY); CREATE TABLE t1 (id int REFERENCES t0, v text CHECK (v <> ''))").await.unwrap();
    let requests = |n: usize| (0..n).map(|i| RefreshRequest { type_name: "postgres_table".into(), state: table_state(&format!("t{i}")) }).collect::<Vec<_>>();

    let before = fixture.provider.catalog_queries();
    let small = fixture.provider.refresh(&requests(2)).await.unwrap();
    let for_two = fixture.provider.catalog_queries() - before;
    assert!(small.iter().all(Option::is_some));

    for i in 2..42 {
        fixture.sql.batch_execute(&format!("CREATE TABLE t{i} (id int PRIMARY KEY, a text, b jsonb, CHECK (a <> 'x'))")).await.unwrap();
    }
    let before = fixture.provider.catalog_queries();
    let large = fixture.provider.refresh(&requests(43)).await.unwrap();
    let for_forty_two = fixture.provider.catalog_queries() - before;

    assert_eq!(for_two, SNAPSHOT_QUERIES);
    assert_eq!(for_forty_two, SNAPSHOT_QUERIES, "refresh must not run a query per table");
    assert_eq!(large.iter().filter(|r| r.is_some()).count(), 42, "t42 does not exist and reads as gone");
    println!("refresh: {for_two} catalog queries for 2 tables, {for_forty_two} for 42");
    fixture.finish().await;
}

#[tokio::test]
async fn refresh_reads_every_grant_in_one_query_however_many_there_are() {
    let fixture = Fixture::new("grants").await;
    let tables: String = (0..40).map(|i| format!("CREATE TABLE g{i} (id int); GRANT SELECT ON g{i} TO PUBLIC;")).collect();
    fixture.sql.batch_execute(&tables).await.unwrap();
    let grant = |i: usize| {
        let state = Value::object([
            ("role", Value::from("public")),
            ("schema", Value::from("public")),
            ("object_type", Value::from("table")),
            ("objects", Value::List(vec![Value::from(format!("g{i}").as_str())])),
            ("privileges", Value::List(vec![Value::from("SELECT")])),
        ]);
        RefreshRequest { type_name: "postgres_grant".into(), state }
    };
    let before = fixture.provider.catalog_queries();
    let two = fixture.provider.refresh(&(0..2).map(grant).collect::<Vec<_>>()).await.unwrap();
    let for_two = fixture.provider.catalog_queries() - before;
    let before = fixture.provider.catalog_queries();
    let forty = fixture.provider.refresh(&(0..40).map(grant).collect::<Vec<_>>()).await.unwrap();
    let for_forty = fixture.provider.catalog_queries() - before;
    assert_eq!((for_two, for_forty), (SNAPSHOT_QUERIES, SNAPSHOT_QUERIES), "refresh must not run a query per grant");
    let held = |live: &Option<Value>| live.as_ref().and_then(|l| l.get("privileges").cloned());
    assert!(two.iter().chain(&forty).all(|live| held(live) == Some(Value::List(vec![Value::from("SELECT")]))), "{forty:?}");
    fixture.finish().await;
}

#[tokio::test]
async fn an_index_left_invalid_by_a_failed_concurrent_build_is_rebuilt() {
    let fixture = Fixture::new("invalid").await;
    fixture.sql.batch_execute("CREATE TABLE events (id int, at timestamptz); CREATE INDEX idx_events_at ON events (at)").await.unwrap();
    // What a failed CREATE INDEX CONCURRENTLY leaves behind: the index exists but is not valid.
    fixture.sql.batch_execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_events_at'::regclass").await.unwrap();
    let desired = Value::object([
        ("table", Value::from("events")),
        ("name", Value::from("idx_events_at")),
        ("columns", Value::List(vec![Value::from("at")])),
        ("concurrently", Value::Bool(true)),
    ]);
    let state = RefreshRequest { type_name: "postgres_index".into(), state: Value::object([("schema", Value::from("public")), ("table", Value::from("public.events")), ("name", Value::from("idx_events_at"))]) };
    let prior = fixture.provider.refresh(std::slice::from_ref(&state)).await.unwrap().remove(0).expect("the index exists");
    assert_eq!(prior.get_bool("valid"), Some(false));

    let request = PlanRequest { type_name: "postgres_index".into(), prior: Some(prior.clone()), desired: desired.clone() };
    let planned = fixture.provider.plan(&request).await.unwrap();
    assert_eq!(planned.action, Action::Replace);
    assert!(planned.replace_because.contains(&"valid".to_owned()));
    assert!(planned.warnings.iter().any(|w| w.contains("invalid")));
    assert!(planned.operations.iter().any(|o| o.starts_with("CREATE INDEX CONCURRENTLY")), "{:?}", planned.operations);

    fixture.provider.apply(&ApplyRequest { type_name: "postgres_index".into(), action: Action::Delete, prior: Some(prior), planned: Value::Null, authorship: None, declared: vec![], progress: Default::default() }).await.unwrap();
    let rebuilt = fixture.provider.apply(&ApplyRequest { type_name: "postgres_index".into(), action: Action::Create, prior: None, planned: planned.planned, authorship: None, declared: vec![], progress: Default::default() }).await.unwrap();
    assert_eq!(rebuilt.get_bool("valid"), Some(true));

    let again = fixture.provider.refresh(&[state]).await.unwrap().remove(0);
    let request = PlanRequest { type_name: "postgres_index".into(), prior: again, desired };
    assert_eq!(fixture.provider.plan(&request).await.unwrap().action, Action::NoOp);
    fixture.finish().await;
}

#[tokio::test]
async fn equivalent_spellings_plan_no_change() {
    let fixture = Fixture::new("normalize").await;
    fixture
        .sql
        .batch_execute(
            "CREATE TYPE status AS ENUM ('a', 'b');
             CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, price numeric(10,2) DEFAULT 0 CHECK (price >= 0),
               state status NOT NULL DEFAULT 'a', tags text[] DEFAULT '{}', seen timestamp with time zone DEFAULT now(), name character varying(20));
             CREATE INDEX items_lower_name ON items (lower(name)) WHERE state = 'a'",
        )
        .await
        .unwrap();
    let column = |name: &str, ty: &str, extra: Vec<(&str, Value)>| {
        let mut fields = vec![("name", Value::from(name)), ("type", Value::from(ty))];
        fields.extend(extra);
        Value::object(fields)
    };
    let desired = Value::object([
        ("name", Value::from("items")),
        ("primary_key", Value::List(vec![Value::from("id")])),
        (
            "column",
            Value::List(vec![
                column("id", "int8", vec![("identity", Value::from("always"))]),
                column("price", "decimal(10, 2)", vec![("default", Value::from("0"))]),
                column("state", "status", vec![("null", Value::Bool(false)), ("default", Value::from("'a'"))]),
                column("tags", "text[]", vec![("default", Value::from("'{}'"))]),
                column("seen", "timestamptz", vec![("default", Value::from("now()"))]),
                column("name", "varchar(20)", vec![]),
            ]),
        ),
        ("check", Value::List(vec![Value::object([("name", Value::from("items_price_check")), ("expression", Value::from("price >= 0"))])])),
        (
            "index",
            Value::List(vec![Value::object([
                ("name", Value::from("items_lower_name")),
                ("columns", Value::List(vec![Value::from("lower(name)")])),
                ("where", Value::from("state = 'a'")),
            ])]),
        ),
    ]);
    let state = RefreshRequest { type_name: "postgres_table".into(), state: desired.clone() };
    let prior = fixture.provider.refresh(&[state]).await.unwrap().remove(0);
    let planned = fixture.provider.plan(&PlanRequest { type_name: "postgres_table".into(), prior, desired }).await.unwrap();
    assert_eq!(planned.action, Action::NoOp, "{:?}", planned.operations);
    fixture.finish().await;
}
