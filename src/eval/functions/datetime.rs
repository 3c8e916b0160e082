//! Date and time functions over RFC 3339 timestamps. `timestamp()` and `plantimestamp()` are the
//! current UTC time when the expression is evaluated (plan time).

use strata_provider_sdk::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::{Args, Category::DateTime as Time, FnResult, Function};
use crate::diag::Diagnostic;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("formatdate", Time, &["format", "time"], formatdate),
    Function::new("plantimestamp", Time, &[], |_| Ok(Value::String(rfc3339(OffsetDateTime::now_utc())))),
    Function::new("timeadd", Time, &["timestamp", "duration"], timeadd),
    Function::new("timecmp", Time, &["timestamp_a", "timestamp_b"], timecmp),
    Function::new("timestamp", Time, &[], |_| Ok(Value::String(rfc3339(OffsetDateTime::now_utc())))),
];

fn parse_timestamp(args: &Args, index: usize) -> Result<OffsetDateTime, Diagnostic> {
    let text = args.string(index)?;
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|err| args.invalid(index, format!("not a valid RFC3339 timestamp: {err}")))
}

/// Go's time.RFC3339 layout: whole seconds, `Z` for UTC, else the offset.
fn rfc3339(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute(), t.second(), zone(t.offset(), true, "Z"))
}

/// An offset as `+07:00` (with `colon`) or `+0700`; `utc_name` for a zero offset.
fn zone(offset: UtcOffset, colon: bool, utc_name: &str) -> String {
    if offset.is_utc() && !utc_name.is_empty() {
        return utc_name.to_owned();
    }
    let seconds = offset.whole_seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    if colon { format!("{sign}{hours:02}:{minutes:02}") } else { format!("{sign}{hours:02}{minutes:02}") }
}

fn timeadd(args: &Args) -> FnResult {
    let start = parse_timestamp(args, 0)?;
    let text = args.string(1)?;
    let duration = parse_duration(&text).ok_or_else(|| args.fail(format!("time: invalid duration {text:?}")))?;
    let end = start.checked_add(duration).ok_or_else(|| args.fail("the resulting time is out of range"))?;
    Ok(Value::String(rfc3339(end)))
}

fn timecmp(args: &Args) -> FnResult {
    let (a, b) = (parse_timestamp(args, 0)?, parse_timestamp(args, 1)?);
    Ok(Value::int(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

/// Go's time.ParseDuration: an optional sign, then number-unit pairs such as `1h30m` or `1.5s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total_nanos += number * nanos_per_unit;
        rest = &rest[unit_len..];
    }
    // Go's durations are int64 nanoseconds: about 292 years.
    if total_nanos > i64::MAX as f64 {
        return None;
    }
    let nanos = total_nanos as i64;
    Some(Duration::nanoseconds(if negative { -nanos } else { nanos }))
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// `formatdate("DD MMM YYYY hh:mm ZZZ", ts)`: runs of one letter are verbs, text in single quotes
/// is literal (`''` is a quote), anything else is copied.
fn formatdate(args: &Args) -> FnResult {
    let spec = args.string(0)?;
    let t = parse_timestamp(args, 1)?;
    let mut out = String::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i = quoted_literal(args, &chars, i, &mut out)?;
        } else if c.is_ascii_alphabetic() {
            let run = chars[i..].iter().take_while(|&&d| d == c).count();
            out.push_str(&date_verb(c, run, t).map_err(|why| args.invalid(0, why))?);
            i += run;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(Value::String(out))
}

/// Copies the quoted text starting at `start` (a quote) into `out`; returns the index after it.
fn quoted_literal(args: &Args, chars: &[char], start: usize, out: &mut String) -> Result<usize, Diagnostic> {
    if chars.get(start + 1) == Some(&'\'') {
        out.push('\'');
        return Ok(start + 2);
    }
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        out.push(chars[i]);
        i += 1;
    }
    Err(args.invalid(0, "unterminated literal '"))
}

fn date_verb(letter: char, run: usize, t: OffsetDateTime) -> Result<String, String> {
    let token: String = std::iter::repeat_n(letter, run).collect();
    let wrong = |expected: &str| Err(format!("invalid date format verb {token:?}: {expected}"));
    let month = t.month() as usize;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let number = |n: u8, padded: bool| if padded { format!("{n:02}") } else { n.to_string() };
    Ok(match (letter, run) {
        ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
        ('Y', 4) => format!("{:04}", t.year()),
        ('Y', _) => return wrong("year must either be \"YY\" or \"YYYY\""),
        ('M', 1 | 2) => number(month as u8, run == 2),
        ('M', 3) => MONTHS[month - 1][..3].to_owned(),
        ('M', 4) => MONTHS[month - 1].to_owned(),
        ('M', _) => return wrong("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""),
        ('D', 1 | 2) => number(t.day(), run == 2),
        ('D', _) => return wrong("day of month must either be \"D\" or \"DD\""),
        ('E', 3) => WEEKDAYS[t.weekday().number_days_from_monday() as usize][..3].to_owned(),
        ('E', 4) => WEEKDAYS[t.weekday().number_days_from_monday() as usize].to_owned(),
        ('E', _) => return wrong("day of week must either be \"EEE\" or \"EEEE\""),
        ('h', 1 | 2) => number(t.hour(), run == 2),
        ('h', _) => return wrong("24-hour must either be \"h\" or \"hh\""),
        ('H', 1 | 2) => number(hour12, run == 2),
        ('H', _) => return wrong("12-hour must either be \"H\" or \"HH\""),
        ('A', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_owned(),
        ('a', 2) => (if t.hour() < 12 { "am" } else { "pm" }).to_owned(),
        ('A' | 'a', _) => return wrong(&format!("must be \"{letter}{letter}\"")),
        ('m', 1 | 2) => number(t.minute(), run == 2),
        ('m', _) => return wrong("minute must either be \"m\" or \"mm\""),
        ('s', 1 | 2) => number(t.second(), run == 2),
        ('s', _) => return wrong("second must either be \"s\" or \"ss\""),
        ('Z', 1) => zone(t.offset(), true, "Z"),
        ('Z', 3) => zone(t.offset(), false, "UTC"),
        ('Z', 4) => zone(t.offset(), false, ""),
        ('Z', 5) => zone(t.offset(), true, ""),
        ('Z', _) => return wrong("timezone must be Z, ZZZZ, or ZZZZZ"),
        _ => return Err(format!("invalid date format verb {token:?}")),
    })
}
