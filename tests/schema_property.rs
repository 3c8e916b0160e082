//! Property: for any table definition from a safe space (column names and types, nullability,
//! defaults, a primary key, an index) and any one change to it (add, drop or widen a column,
//! toggle NULL, change a default, add or drop the index), `plan -> apply -> plan` shows no changes,
//! before and after the change. Against a real PostgreSQL, one database per case.
//! PROPTEST_CASES sets how many cases run (default 16).

use crate::common;

use std::sync::OnceLock;

use common::{TestDb, Workdir};
use proptest::prelude::*;
use proptest::sample::subsequence;

const NAMES: [&str; 8] = ["id", "name", "email", "score", "created_at", "flag", "amount", "note"];

/// (type, a default that fits it, the type it can widen to without a USING clause)
const TYPES: [(&str, &str, &str); 10] = [
    ("smallint", "0", "integer"),
    ("integer", "42", "bigint"),
    ("bigint", "0", "numeric(20,0)"),
    ("text", "'x'", "varchar(64)"),
    ("varchar(32)", "'a'", "varchar(64)"),
    ("numeric(10,2)", "0", "numeric(12,2)"),
    ("boolean", "false", "boolean"),
    ("date", "CURRENT_DATE", "timestamp"),
    ("timestamptz", "now()", "timestamptz"),
    ("jsonb", "'{}'::jsonb", "jsonb"),
];

#[derive(Clone, Debug)]
struct Column {
    name: &'static str,
    type_index: usize,
    widened: bool,
    null: Option<bool>,
    has_default: bool,
}

impl Column {
    fn type_name(&self) -> &'static str {
        let (base, _, wider) = TYPES[self.type_index];
        if self.widened { wider } else { base }
    }
}

#[derive(Clone, Debug)]
struct Table {
    columns: Vec<Column>,
    primary_key: bool,
    /// An index on the column at this position.
    index: Option<usize>,
}

#[derive(Clone, Debug)]
enum Change {
    AddColumn(usize, bool),
    DropColumn(usize),
    Widen(usize),
    ToggleNull(usize),
    ToggleDefault(usize),
    ToggleIndex(usize),
}

fn column(name: &'static str) -> impl Strategy<Value = Column> {
    (0..TYPES.len(), proptest::option::of(any::<bool>()), any::<bool>())
        .prop_map(move |(type_index, null, has_default)| Column { name, type_index, widened: false, null, has_default })
}

fn table() -> impl Strategy<Value = Table> {
    subsequence(NAMES.to_vec(), 1..5)
        .prop_flat_map(|names| names.into_iter().map(column).collect::<Vec<_>>())
        .prop_flat_map(|columns| {
            let count = columns.len();
            (Just(columns), any::<bool>(), proptest::option::of(0..count))
        })
        .prop_map(|(columns, primary_key, index)| Table { columns, primary_key, index })
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0..TYPES.len(), any::<bool>()).prop_map(|(t, null)| Change::AddColumn(t, null)),
        any::<usize>().prop_map(Change::DropColumn),
        any::<usize>().prop_map(Change::Widen),
        any::<usize>().prop_map(Change::ToggleNull),
        any::<usize>().prop_map(Change::ToggleDefault),
        any::<usize>().prop_map(Change::ToggleIndex),
    ]
}

impl Table {
    /// The table after `change`; positions wrap around, so every change applies to something.
    fn changed(&self, change: &Change) -> Table {
        let mut next = self.clone();
        let pick = |at: usize| at % self.columns.len();
        match *change {
            Change::AddColumn(type_index, null) => {
                if let Some(name) = NAMES.iter().find(|n| !self.columns.iter().any(|c| c.name == **n)) {
                    next.columns.push(Column { name, type_index, widened: false, null: Some(null), has_default: !null });
                }
            }
            Change::DropColumn(at) if self.columns.len() > 1 => {
                let at = pick(at);
                next.columns.remove(at);
                next.primary_key &= at != 0;
                next.index = self.index.filter(|&i| i != at).map(|i| if i > at { i - 1 } else { i });
            }
            Change::DropColumn(_) => next.columns[0].widened = true,
            Change::Widen(at) => next.columns[pick(at)].widened = true,
            Change::ToggleNull(at) => {
                let column = &mut next.columns[pick(at)];
                column.null = Some(!column.null.unwrap_or(true));
            }
            Change::ToggleDefault(at) => next.columns[pick(at)].has_default ^= true,
            Change::ToggleIndex(at) => next.index = if self.index.is_some() { None } else { Some(pick(at)) },
        }
        next
    }

    fn hcl(&self) -> String {
        let mut text = String::from("resource \"postgres_table\" \"prop\" {\n  name = \"prop\"\n");
        for column in &self.columns {
            text += &format!("  column {{\n    name = \"{}\"\n    type = \"{}\"\n", column.name, column.type_name());
            if let Some(null) = column.null {
                text += &format!("    null = {null}\n");
            }
            if column.has_default {
                text += &format!("    default = \"{}\"\n", TYPES[column.type_index].1);
            }
            text += "  }\n";
        }
        if self.primary_key {
            text += &format!("  primary_key = [\"{}\"]\n", self.columns[0].name);
        }
        if let Some(at) = self.index {
            text += &format!("  index {{\n    name    = \"prop_{0}_idx\"\n    columns = [\"{0}\"]\n  }}\n", self.columns[at].name);
        }
        text + "}\n"
    }
}

/// `apply -allow-data-loss` where apply has the flag (it refuses data-losing plans without it).
fn apply_args() -> &'static [&'static str] {
    static ARGS: OnceLock<Vec<&'static str>> = OnceLock::new();
    ARGS.get_or_init(|| {
        let help = Workdir::offline().strata(&["apply", "-h"]);
        let mut args = vec!["apply", "-auto-approve"];
        if help.stdout.contains("allow-data-loss") {
            args.push("-allow-data-loss");
        }
        args
    })
}

fn apply_and_expect_no_changes(work: &Workdir, table: &Table, step: &str) -> Result<(), TestCaseError> {
    work.write("main.tf", &table.hcl());
    let apply = work.strata(apply_args());
    prop_assert_eq!(apply.code, 0, "{} apply failed for\n{}\n{:?}", step, table.hcl(), apply);
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    prop_assert_eq!(plan.code, 0, "{}: plan after apply is not empty for\n{}\n{:?}", step, table.hcl(), plan);
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plan_apply_plan_shows_no_changes_before_and_after_a_random_change(table in table(), change in change()) {
        let db = TestDb::new();
        let work = Workdir::new(&db);
        apply_and_expect_no_changes(&work, &table, "first")?;
        apply_and_expect_no_changes(&work, &table.changed(&change), &format!("after {change:?}"))?;
    }
}
