//! Which column type changes keep every value: the one explicit table of lossless casts.
//!
//! The rule is proof of safety, not a list of dangers: a change is lossless only when the table
//! below says so (a wider integer, a longer or unlimited string, a numeric with no fewer integer
//! digits and no fewer decimals, real to double precision, more fractional seconds). Everything
//! else (double precision to real, timestamptz to date, numeric to integer, text to varchar(n),
//! char(n) to text, which drops trailing blanks) may round, cut or refuse values, and is data loss.
//!
//! `timestamp` to `timestamptz` keeps the digits but reads each value as a local time in the
//! server's TimeZone: the instants the column stands for change with that setting, and local
//! times that a daylight-saving change skips or repeats move or merge. strata cannot prove that
//! harmless, so it is data loss too, with its own line saying so (see [`reinterprets`]).

use crate::normalize::type_alias;

/// A type name taken apart: canonical base name, its modifiers (`numeric(10,2)` gives 10, 2) and
/// whether it is an array.
struct Parsed {
    base: String,
    modifiers: Vec<u32>,
    array: bool,
}

fn parse(type_name: &str) -> Parsed {
    let canonical = type_alias(type_name);
    let (canonical, array) = match canonical.strip_suffix("[]") {
        Some(element) => (element.to_owned(), true),
        None => (canonical, false),
    };
    let (base, modifiers) = match canonical.split_once('(') {
        Some((base, rest)) => (base.trim().to_owned(), rest.trim_end_matches(')').split(',').filter_map(|n| n.trim().parse().ok()).collect()),
        None => (canonical.clone(), vec![]),
    };
    Parsed { base, modifiers, array }
}

/// How many decimal digits every value of an integer type fits in, by width order.
fn integer_digits(base: &str) -> Option<(u8, u32)> {
    match base {
        "smallint" => Some((2, 5)),
        "integer" => Some((4, 10)),
        "bigint" => Some((8, 19)),
        _ => None,
    }
}

/// Whether every value of type `from` survives `ALTER COLUMN ... TYPE to` unchanged.
pub fn is_lossless(from: &str, to: &str) -> bool {
    let (from, to) = (parse(from), parse(to));
    from.array == to.array && element_lossless(&from, &to)
}

fn element_lossless(from: &Parsed, to: &Parsed) -> bool {
    let (old, new) = (from.modifiers.as_slice(), to.modifiers.as_slice());
    // A length or precision limit: none is unlimited, and a larger one keeps every value.
    let wider_limit = || new.is_empty() || (!old.is_empty() && new[0] >= old[0]);
    match (from.base.as_str(), to.base.as_str()) {
        (a, b) if a == b && a == "numeric" => numeric_fits(old, new),
        (a, b) if a == b && matches!(a, "character varying" | "character" | "bit varying") => wider_limit(),
        (a, b) if a == b && a.starts_with("time") => wider_limit(),
        (a, b) if a == b && a == "interval" => wider_limit(),
        (a, b) if a == b => old == new,
        ("character varying", "text") => true,
        ("text", "character varying") => new.is_empty(),
        ("real", "double precision") => true,
        ("date", "timestamp without time zone") => true,
        (a, "numeric") => match (integer_digits(a), new) {
            (Some(_), []) => true,
            (Some((_, digits)), [precision]) => *precision >= digits,
            (Some((_, digits)), [precision, scale]) => precision.saturating_sub(*scale) >= digits,
            _ => false,
        },
        (a, b) => matches!((integer_digits(a), integer_digits(b)), (Some((old_width, _)), Some((new_width, _))) if new_width >= old_width),
    }
}

/// numeric(p,s) into numeric(p2,s2): no fewer integer digits (p - s) and no fewer decimals.
/// Unconstrained numeric holds anything, and fits only into unconstrained numeric.
fn numeric_fits(old: &[u32], new: &[u32]) -> bool {
    let precision_scale = |m: &[u32]| (m[0], m.get(1).copied().unwrap_or(0));
    match (old.is_empty(), new.is_empty()) {
        (_, true) => true,
        (true, false) => false,
        (false, false) => {
            let ((p, s), (p2, s2)) = (precision_scale(old), precision_scale(new));
            s2 >= s && p2.saturating_sub(s2) >= p.saturating_sub(s)
        }
    }
}

/// The plan's line for a change that keeps the digits of every value but changes what they mean;
/// `None` for any other change.
pub fn reinterprets(from: &str, to: &str) -> Option<&'static str> {
    let (from, to) = (parse(from), parse(to));
    (from.array == to.array && from.base == "timestamp without time zone" && to.base == "timestamp with time zone").then_some(
        "each value is read as a local time in the server's TimeZone setting: the instants it stands for depend on that setting, and times a daylight-saving change skips or repeats move",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_table_of_lossless_casts_is_lossless() {
        for (from, to) in [
            ("smallint", "integer"),
            ("int4", "int8"),
            ("serial", "bigserial"),
            ("varchar(10)", "varchar(20)"),
            ("character varying(10)", "text"),
            ("varchar(10)", "varchar"),
            ("numeric(6,2)", "numeric(8,2)"),
            ("numeric(6,2)", "numeric(7,3)"),
            ("numeric(6,2)", "numeric"),
            ("integer", "numeric(12,2)"),
            ("integer", "numeric"),
            ("real", "double precision"),
            ("timestamp(0) without time zone", "timestamp without time zone"),
            ("date", "timestamp"),
            ("varchar(10)[]", "text[]"),
        ] {
            assert!(is_lossless(from, to), "{from} -> {to} keeps every value");
        }
        for (from, to) in [
            ("double precision", "real"),
            ("timestamp with time zone", "date"),
            ("numeric", "integer"),
            ("numeric(10,2)", "numeric(10,3)"),
            ("numeric(10,2)", "numeric(12,1)"),
            ("numeric", "numeric(20,2)"),
            ("bigint", "integer"),
            ("text", "character varying(200)"),
            ("character varying(300)", "character varying(200)"),
            ("character(4)", "text"),
            ("integer", "numeric(9,0)"),
            ("bigint", "double precision"),
            ("timestamp", "timestamptz"),
            ("timestamptz", "timestamp"),
            ("text", "integer"),
            ("json", "jsonb"),
            ("integer[]", "bigint"),
        ] {
            assert!(!is_lossless(from, to), "{from} -> {to} may lose values");
        }
    }

    #[test]
    fn timestamp_to_timestamptz_says_it_changes_meaning() {
        assert!(reinterprets("timestamp without time zone", "timestamptz").is_some_and(|line| line.contains("TimeZone")));
        assert_eq!(reinterprets("timestamptz", "timestamp"), None);
    }
}
