//! Column and constraint attributes of `postgres_table` against a real PostgreSQL, on a small
//! booking schema in the style of the pagila sample database: a generated `total`, a `COLLATE
//! "C"` code, lz4 compression and external storage, identities with their own start and
//! increment, a deferrable foreign key, a `MATCH FULL` composite one, an exclusion constraint
//! over a `tstzrange`, and checks declared NOT VALID. Each is created, changed (in place where
//! PostgreSQL allows it), converges, and is imported back.

use crate::common;

use common::{Run, TestDb, Workdir};

/// The booking schema, with the exclusion constraint's elements as given.
fn booking(exclusion_elements: &str) -> String {
    format!(
        r#"
resource "postgres_table" "rooms" {{
  name = "rooms"
  column {{
    name = "hotel_id"
    type = "integer"
    null = false
  }}
  column {{
    name = "room_no"
    type = "integer"
    null = false
  }}
  column {{
    name      = "code"
    type      = "text"
    null      = false
    collation = "C"
  }}
  column {{
    name        = "notes"
    type        = "text"
    compression = "lz4"
    storage     = "external"
  }}
  primary_key = ["hotel_id", "room_no"]
  unique {{
    name       = "rooms_code_key"
    columns    = ["code"]
    deferrable = true
  }}
}}

resource "postgres_table" "customers" {{
  name = "customers"
  column {{
    name               = "customer_id"
    type               = "bigint"
    null               = false
    identity           = "always"
    identity_start     = 1000
    identity_increment = 10
  }}
  column {{
    name = "email"
    type = "text"
    null = false
  }}
  primary_key = ["customer_id"]
}}

resource "postgres_table" "rentals" {{
  name = "rentals"
  column {{
    name     = "rental_id"
    type     = "bigint"
    null     = false
    identity = "by default"
  }}
  column {{
    name = "customer_id"
    type = "bigint"
    null = false
  }}
  column {{
    name = "hotel_id"
    type = "integer"
  }}
  column {{
    name = "room_no"
    type = "integer"
  }}
  column {{
    name = "during"
    type = "tstzrange"
    null = false
  }}
  primary_key = ["rental_id"]
  foreign_key {{
    name               = "rentals_customer_id_fkey"
    columns            = ["customer_id"]
    references         = postgres_table.customers.id
    ref_columns        = ["customer_id"]
    deferrable         = true
    initially_deferred = true
  }}
  foreign_key {{
    name        = "rentals_room_fkey"
    columns     = ["hotel_id", "room_no"]
    references  = postgres_table.rooms.id
    ref_columns = ["hotel_id", "room_no"]
    match       = "full"
  }}
  exclude {{
    name     = "rentals_no_double_booking"
    using    = "gist"
    elements = [{exclusion_elements}]
    where    = "hotel_id IS NOT NULL"
  }}
}}

resource "postgres_table" "order_lines" {{
  name = "order_lines"
  column {{
    name     = "line_id"
    type     = "bigint"
    null     = false
    identity = "always"
  }}
  column {{
    name = "price"
    type = "numeric(10,2)"
    null = false
  }}
  column {{
    name = "quantity"
    type = "integer"
    null = false
  }}
  column {{
    name      = "total"
    type      = "numeric"
    generated = "price * quantity"
  }}
  column {{
    name = "discount"
    type = "numeric"
  }}
  primary_key = ["line_id"]
  index {{
    name    = "order_lines_total_idx"
    columns = ["total"]
  }}
}}
"#
    )
}

/// The booking schema's exclusion elements: equality on the room needs btree_gist, created in the
/// test database when the server has it; otherwise the overlap of the range alone.
fn exclusion_elements(db: &TestDb) -> &'static str {
    let available = db.client().query_one("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gist')", &[]).unwrap().get::<_, bool>(0);
    if available {
        db.execute("CREATE EXTENSION IF NOT EXISTS btree_gist");
        r#""room_no WITH =", "during WITH &&""#
    } else {
        r#""during WITH &&""#
    }
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

/// One text value the query returns.
fn text(db: &TestDb, sql: &str) -> String {
    db.client().query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

fn attribute(db: &TestDb, table: &str, column: &str, what: &str) -> String {
    text(db, &format!("SELECT {what}::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE attrelid = '{table}'::regclass AND attname = '{column}'"))
}

fn constraint(db: &TestDb, name: &str) -> String {
    text(db, &format!("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{name}'"))
}

fn identity_sequence(db: &TestDb, table: &str, column: &str) -> String {
    text(db, &format!("SELECT seqstart || ' by ' || seqincrement FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence('{table}', '{column}')::regclass"))
}

/// The constraint a statement was refused by.
fn violated(outcome: Result<(), postgres::Error>) -> Option<String> {
    outcome.err()?.as_db_error()?.constraint().map(str::to_owned)
}

fn state_column(work: &Workdir, table: &str, column: &str) -> serde_json::Value {
    let instance = work.state_instance(&format!("postgres_table.{table}"));
    instance["attributes"]["column"].as_array().unwrap().iter().find(|c| c["name"] == column).cloned().unwrap_or_else(|| panic!("{table}.{column} in state"))
}

#[test]
fn every_attribute_is_created_converges_and_imports_back() {
    let db = TestDb::new();
    let elements = exclusion_elements(&db);
    let work = Workdir::new(&db);
    work.write("main.tf", &booking(elements));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("\"total\" numeric GENERATED ALWAYS AS (price * quantity) STORED"), "{plan:?}");
    assert!(plan.stdout.contains("\"code\" text COLLATE \"C\" NOT NULL"), "{plan:?}");
    assert!(plan.stdout.contains("\"notes\" text COMPRESSION lz4"), "{plan:?}");
    assert!(plan.stdout.contains("ALTER TABLE \"public\".\"rooms\" ALTER COLUMN \"notes\" SET STORAGE external"), "{plan:?}");
    assert!(plan.stdout.contains("GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 10)"), "{plan:?}");
    work.apply();

    assert_eq!(attribute(&db, "order_lines", "total", "attgenerated"), "s");
    assert_eq!(attribute(&db, "rooms", "code", "attcollation::regcollation"), "\"C\"");
    assert_eq!(attribute(&db, "rooms", "notes", "attcompression"), "l");
    assert_eq!(attribute(&db, "rooms", "notes", "attstorage"), "e");
    assert_eq!(identity_sequence(&db, "customers", "customer_id"), "1000 by 10");
    assert_eq!(constraint(&db, "rooms_code_key"), "UNIQUE (code) DEFERRABLE");
    assert_eq!(constraint(&db, "rentals_customer_id_fkey"), "FOREIGN KEY (customer_id) REFERENCES customers(customer_id) DEFERRABLE INITIALLY DEFERRED");
    assert_eq!(constraint(&db, "rentals_room_fkey"), "FOREIGN KEY (hotel_id, room_no) REFERENCES rooms(hotel_id, room_no) MATCH FULL");
    let exclusion = constraint(&db, "rentals_no_double_booking");
    assert!(exclusion.starts_with("EXCLUDE USING gist (") && exclusion.contains("during WITH &&") && exclusion.ends_with("WHERE ((hotel_id IS NOT NULL))"), "{exclusion}");
    work.assert_converged();

    // The generated expression is the column's `generated`, never its default.
    let total = state_column(&work, "order_lines", "total");
    assert_eq!(total["generated"], "(price * (quantity)::numeric)", "{total}");
    assert!(total["default"].is_null(), "{total}");
    assert!(!ok(work.strata(&["show"])).stdout.contains("default = \"(price"), "show must not call the expression a default");

    // The constraints work as declared: the deferred key is checked at commit, the range overlap refused.
    db.execute("INSERT INTO rooms VALUES (1, 101, 'A-101', 'sea view'); INSERT INTO order_lines (price, quantity) VALUES (2.50, 4)");
    assert_eq!(text(&db, "SELECT total::text FROM order_lines"), "10.00");
    db.execute("BEGIN; INSERT INTO rentals (customer_id, hotel_id, room_no, during) VALUES (1000, 1, 101, '[2026-01-01,2026-01-05)'); INSERT INTO customers (email) VALUES ('a@example.com'); COMMIT");
    let overlap = db.client().batch_execute("INSERT INTO rentals (customer_id, hotel_id, room_no, during) VALUES (1000, 1, 101, '[2026-01-03,2026-01-04)')");
    assert_eq!(violated(overlap).as_deref(), Some("rentals_no_double_booking"));
    let half_key = db.client().batch_execute("INSERT INTO rentals (customer_id, hotel_id, during) VALUES (1000, 1, '[2026-02-01,2026-02-02)')");
    assert_eq!(violated(half_key).as_deref(), Some("rentals_room_fkey"), "a MATCH FULL key is all set or all NULL");

    // Imported into an empty state, every table matches the configuration that declares it.
    let imported = Workdir::new(&db);
    imported.write("main.tf", &booking(elements));
    for table in ["rooms", "customers", "rentals", "order_lines"] {
        ok(imported.strata(&["import", &format!("postgres_table.{table}"), table]));
    }
    imported.assert_converged();
    assert_eq!(state_column(&imported, "rooms", "notes")["storage"], "external");
    assert_eq!(state_column(&imported, "customers", "customer_id")["identity_increment"], 10);
    assert!(state_column(&imported, "order_lines", "total")["default"].is_null());
}

#[test]
fn changes_run_in_place_where_postgres_allows_and_say_why_where_not() {
    let db = TestDb::new();
    let elements = exclusion_elements(&db);
    let work = Workdir::new(&db);
    let base = booking(elements);
    work.write("main.tf", &base);
    work.apply();
    db.execute("INSERT INTO customers (email) VALUES ('a@example.com'), ('b@example.com'); INSERT INTO order_lines (price, quantity, discount) VALUES (2.50, 4, 1)");

    let changed = base
        .replace("compression = \"lz4\"", "compression = \"pglz\"")
        .replace("storage     = \"external\"", "storage     = \"main\"")
        .replace("identity_start     = 1000", "identity_start     = 5000")
        .replace("identity_increment = 10", "identity_increment = 5")
        .replace("collation = \"C\"", "collation = \"POSIX\"")
        .replace("    deferrable         = true\n    initially_deferred = true\n", "")
        .replace("generated = \"price * quantity\"", "generated = \"price * quantity * 2\"");
    work.write("main.tf", &changed);
    let plan = ok(work.strata(&["plan"]));
    for sql in [
        "ALTER TABLE \"public\".\"rooms\" ALTER COLUMN \"notes\" SET COMPRESSION pglz",
        "ALTER TABLE \"public\".\"rooms\" ALTER COLUMN \"notes\" SET STORAGE main",
        "ALTER TABLE \"public\".\"rooms\" ALTER COLUMN \"code\" TYPE text COLLATE \"POSIX\"",
        "ALTER TABLE \"public\".\"customers\" ALTER COLUMN \"customer_id\" SET START WITH 5000",
        "ALTER TABLE \"public\".\"customers\" ALTER COLUMN \"customer_id\" SET INCREMENT BY 5",
        "ALTER TABLE \"public\".\"rentals\" ALTER CONSTRAINT \"rentals_customer_id_fkey\" NOT DEFERRABLE",
        "ALTER TABLE \"public\".\"order_lines\" DROP COLUMN \"total\"",
        "ALTER TABLE \"public\".\"order_lines\" ADD COLUMN \"total\" numeric GENERATED ALWAYS AS (price * quantity * 2) STORED",
        "CREATE INDEX \"order_lines_total_idx\"",
    ] {
        assert!(plan.stdout.contains(sql), "{sql}\n{plan:?}");
    }
    assert!(!plan.stdout.contains("DROP CONSTRAINT \"rentals_customer_id_fkey\""), "a foreign key's timing changes in place: {plan:?}");
    assert!(plan.stdout.contains("PostgreSQL 15 cannot change a generation expression in place"), "{plan:?}");
    assert!(plan.stdout.contains("to change the collation of column code from C to POSIX"), "{plan:?}");
    assert!(plan.stdout.contains("order_lines will be updated in place [locking]"), "a generated column's values are derived: {plan:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(attribute(&db, "rooms", "notes", "attcompression"), "p");
    assert_eq!(attribute(&db, "rooms", "notes", "attstorage"), "m");
    assert_eq!(attribute(&db, "rooms", "code", "attcollation::regcollation"), "\"POSIX\"");
    assert_eq!(identity_sequence(&db, "customers", "customer_id"), "5000 by 5");
    assert_eq!(constraint(&db, "rentals_customer_id_fkey"), "FOREIGN KEY (customer_id) REFERENCES customers(customer_id)");
    assert_eq!(text(&db, "SELECT total::text FROM order_lines"), "20.00", "computed again from the new expression");
    assert!(db.catalog().iter().any(|l| l.starts_with("index order_lines_total_idx ")), "the index on the re-added column is built again");
    // The counter was not restarted: the next id follows the last one, by the new increment.
    db.execute("INSERT INTO customers (email) VALUES ('c@example.com')");
    assert_eq!(text(&db, "SELECT max(customer_id)::text FROM customers"), "1015");

    // A unique constraint's timing changes by drop and add; a generated column made normal keeps its values.
    let normal = changed.replace("    deferrable = true\n", "").replace("    generated = \"price * quantity * 2\"\n", "");
    work.write("main.tf", &normal);
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("ALTER TABLE \"public\".\"order_lines\" ALTER COLUMN \"total\" DROP EXPRESSION"), "{plan:?}");
    assert!(plan.stdout.contains("DROP CONSTRAINT \"rooms_code_key\""), "{plan:?}");
    work.apply();
    work.assert_converged();
    assert_eq!(text(&db, "SELECT total::text FROM order_lines"), "20.00");
    assert_eq!(constraint(&db, "rooms_code_key"), "UNIQUE (code)");

    // Making a normal column generated loses what it holds: refused without -allow-data-loss.
    let generated_discount = normal.replace("    name = \"discount\"\n    type = \"numeric\"\n", "    name = \"discount\"\n    type = \"numeric\"\n    generated = \"price / 10\"\n");
    work.write("main.tf", &generated_discount);
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("order_lines will be updated in place [data-loss]"), "{plan:?}");
    assert!(plan.stdout.contains("drops column public.order_lines.discount and the data in it"), "{plan:?}");
    assert_eq!(work.strata(&["apply", "-auto-approve"]).code, 1);
    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    work.assert_converged();
    assert_eq!(text(&db, "SELECT round(discount, 2)::text FROM order_lines"), "0.25", "computed from the expression");
}

/// The booking schema as someone wrote it in SQL, without strata (its exclusion without btree_gist,
/// which the empty database of the round trip does not have).
const BOOKING_SQL: &str = r#"
CREATE SCHEMA booking;
CREATE TABLE booking.rooms (
  hotel_id integer NOT NULL,
  room_no integer NOT NULL,
  code text COLLATE "C" NOT NULL,
  notes text COMPRESSION lz4,
  PRIMARY KEY (hotel_id, room_no),
  CONSTRAINT rooms_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED
);
ALTER TABLE booking.rooms ALTER COLUMN notes SET STORAGE external;
CREATE TABLE booking.customers (
  customer_id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 10) PRIMARY KEY,
  email text NOT NULL
);
CREATE TABLE booking.rentals (
  rental_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES booking.customers DEFERRABLE,
  hotel_id integer,
  room_no integer,
  during tstzrange NOT NULL,
  FOREIGN KEY (hotel_id, room_no) REFERENCES booking.rooms MATCH FULL ON DELETE CASCADE,
  CONSTRAINT rentals_no_double_booking EXCLUDE USING gist (during WITH &&) WHERE (hotel_id IS NOT NULL)
);
CREATE TABLE booking.order_lines (
  line_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  price numeric(10,2) NOT NULL,
  quantity integer NOT NULL,
  total numeric GENERATED ALWAYS AS (price * quantity) STORED
);
"#;

#[test]
fn a_booking_schema_made_in_sql_round_trips_through_inspect() {
    crate::inspect::round_trip(BOOKING_SQL, &["-schema", "booking"]);
}

const LEDGER: &str = r#"
resource "postgres_table" "accounts" {
  name = "accounts"
  column {
    name = "account_id"
    type = "integer"
    null = false
  }
  primary_key = ["account_id"]
}

resource "postgres_table" "payments" {
  name = "payments"
  column {
    name = "payment_id"
    type = "integer"
    null = false
  }
  column {
    name = "account_id"
    type = "integer"
  }
  column {
    name = "amount"
    type = "numeric(8,2)"
  }
  primary_key = ["payment_id"]
CONSTRAINTS}
"#;

const NOT_VALID: &str = r#"  check {
    name       = "payments_amount_positive"
    expression = "amount > 0"
    validated  = VALIDATED
  }
  foreign_key {
    name        = "payments_account_id_fkey"
    columns     = ["account_id"]
    references  = postgres_table.accounts.id
    ref_columns = ["account_id"]
    validated   = VALIDATED
  }
"#;

fn ledger(validated: Option<bool>) -> String {
    let constraints = validated.map(|v| NOT_VALID.replace("VALIDATED", &v.to_string())).unwrap_or_default();
    LEDGER.replace("CONSTRAINTS", &constraints)
}

fn validated(db: &TestDb, name: &str) -> bool {
    db.client().query_one("SELECT convalidated FROM pg_constraint WHERE conname = $1", &[&name]).unwrap().get(0)
}

#[test]
fn constraints_declared_not_valid_stay_so_while_old_rows_break_them() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &ledger(None));
    work.apply();
    // Rows from before the rules: a refund recorded as a negative amount, a payment of a closed account.
    db.execute("INSERT INTO accounts VALUES (1); INSERT INTO payments VALUES (1, 1, 10), (2, 1, -5), (3, 99, 7)");

    work.write("main.tf", &ledger(Some(false)));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("ADD CONSTRAINT \"payments_amount_positive\" CHECK (amount > 0) NOT VALID"), "{plan:?}");
    assert!(!plan.stdout.contains("VALIDATE CONSTRAINT"), "{plan:?}");
    work.apply();
    assert!(!validated(&db, "payments_amount_positive") && !validated(&db, "payments_account_id_fkey"));
    work.assert_converged();
    let refused = db.client().batch_execute("INSERT INTO payments VALUES (4, 1, -1)");
    assert!(refused.is_err(), "new rows are checked");

    // Asking for validation while old rows still break them fails, and keeps the declared constraints.
    work.write("main.tf", &ledger(Some(true)));
    let failed = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(!validated(&db, "payments_amount_positive"), "still there, still not valid");

    db.execute("UPDATE payments SET amount = 5 WHERE amount < 0; DELETE FROM payments WHERE account_id = 99");
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("ALTER TABLE \"public\".\"payments\" VALIDATE CONSTRAINT \"payments_amount_positive\""), "{plan:?}");
    assert!(!plan.stdout.contains("ADD CONSTRAINT"), "validation needs no new constraint: {plan:?}");
    work.apply();
    assert!(validated(&db, "payments_amount_positive") && validated(&db, "payments_account_id_fkey"));
    work.assert_converged();

    // Validation is one-way: declaring it not valid again changes nothing.
    work.write("main.tf", &ledger(Some(false)));
    work.assert_converged();
}

#[test]
fn match_partial_is_refused_with_postgres_reason() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let partial = ledger(Some(true)).replace("    validated   = true\n  }\n", "    match       = \"partial\"\n  }\n");
    work.write("main.tf", &partial);
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("match = \"partial\" is not implemented by PostgreSQL"), "{plan:?}");
}
