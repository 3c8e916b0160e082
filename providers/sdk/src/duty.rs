//! The kit of periodic duties (backup policies, snapshot policies, restore drills), shared by
//! providers: durations (`every = "24h"`: a sum of numbers with a unit each, `s`, `m`, `h`, `d`,
//! `w`, checked at validate) and how an age reads in a plan (`26h`, `3d 4h`); when a new artefact
//! is due; and retention, which artefacts no rule keeps any more.

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::ProviderError;
use crate::schema::Syntax;
use crate::value::Value;

/// The grammar of a duration attribute, for the schema.
pub const DURATION: Syntax = Syntax { what: "a duration such as 30s, 90m, 24h or 7d", check };

fn check(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}

/// The duration `text` spells; an error says what is wrong with it.
pub fn parse(text: &str) -> Result<Duration, String> {
    let mut seconds: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("a duration is empty".into());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let unit_len = rest[digits..].find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len() - digits);
        let (number, unit) = (&rest[..digits], rest[digits..digits + unit_len].trim());
        let number: u64 = number.parse().map_err(|_| format!("\"{text}\" is not a duration: each part is a whole number and a unit (s, m, h, d or w)"))?;
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            other => return Err(format!("\"{text}\" is not a duration: unknown unit \"{other}\" (use s, m, h, d or w)")),
        };
        seconds = number.checked_mul(scale).and_then(|s| s.checked_add(seconds)).ok_or_else(|| format!("\"{text}\" is too long a duration"))?;
        rest = rest[digits + unit_len..].trim_start();
    }
    if seconds == 0 {
        return Err(format!("\"{text}\" is zero: a duration must be at least 1s"));
    }
    Ok(Duration::from_secs(seconds))
}

/// An age or a duration as people read it: its two largest units (`26h`, `3d 4h`, `45s`).
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let parts: Vec<String> = units
        .iter()
        .scan(seconds, |left, (size, unit)| {
            let count = *left / size;
            *left %= size;
            Some((count, *unit))
        })
        .skip_while(|(count, _)| *count == 0)
        .take(2)
        .filter(|(count, _)| *count > 0)
        .map(|(count, unit)| format!("{count}{unit}"))
        .collect();
    // Hours read better than days below three days: "26h old" against "every = 24h".
    if (86_400..259_200).contains(&seconds) {
        return format!("{}h", seconds / 3_600);
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

/// What a duty produced (a backup, a snapshot), as due and retention reason about it.
#[derive(Clone, Debug)]
pub struct Held {
    pub id: String,
    pub taken_at: OffsetDateTime,
    /// Usable: present and whole (not missing, damaged or still being made).
    pub good: bool,
    /// Why not, when not good ("damaged", "missing", "creating").
    pub status: String,
}

/// How long ago `then` was, at `now` (zero for the future).
pub fn age(now: OffsetDateTime, then: OffsetDateTime) -> Duration {
    Duration::from_secs(u64::try_from((now - then).whole_seconds()).unwrap_or(0))
}

/// Why a new `noun` ("backup", "snapshot") is due, given what is `held` newest first, or `None`
/// when the newest is good and younger than `every` (spelled `every_text`).
pub fn due(noun: &str, every: Duration, every_text: &str, held: &[Held], now: OffsetDateTime) -> Option<String> {
    match held.first() {
        None => Some(format!("{noun} due: there is no {noun} yet (every = {every_text})")),
        Some(newest) if !newest.good => Some(format!("{noun} due: the newest {noun}, {}, is {} (every = {every_text})", newest.id, newest.status)),
        Some(newest) if age(now, newest.taken_at) >= every => Some(format!("{noun} due: the newest is {} old (every = {every_text})", human(age(now, newest.taken_at)))),
        Some(_) => None,
    }
}

/// Which artefacts to keep: one is pruned only when no rule keeps it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retention {
    /// The newest N are kept.
    pub keep_last: Option<usize>,
    /// Those younger than N days are kept.
    pub keep_days: Option<i64>,
    /// Never fewer good ones than this (at least 1: the newest good one stays whatever else).
    pub min_keep: usize,
}

/// The whole number of 0 or more `object` sets `key` to, if any.
pub fn whole_number(object: &Value, key: &str) -> Result<Option<i64>, ProviderError> {
    match object.get(key).filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| ProviderError::new(format!("{key} must be a whole number of 0 or more"))),
    }
}

impl Retention {
    /// From a `retention { keep_last, keep_days, min_keep }` block (null: keep everything).
    pub fn from_block(block: &Value) -> Result<Retention, ProviderError> {
        let count = |key| Ok::<_, ProviderError>(whole_number(block, key)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)));
        Ok(Retention { keep_last: count("keep_last")?, keep_days: whole_number(block, "keep_days")?, min_keep: count("min_keep")?.unwrap_or(1).max(1) })
    }

    /// What no rule keeps any more among `held` (newest first; an artefact about to be made
    /// counts as the newest), with why, oldest first. The newest good one is always kept.
    pub fn to_prune(&self, held: &[Held], now: OffsetDateTime) -> Vec<(String, String)> {
        if self.keep_last.is_none() && self.keep_days.is_none() {
            return vec![];
        }
        let mut good_left = held.iter().filter(|h| h.good).count();
        let newest_good = held.iter().position(|h| h.good);
        let mut pruned = Vec::new();
        // Oldest first, so that min_keep keeps the newest of those the rules would drop.
        for (position, artefact) in held.iter().enumerate().rev() {
            let days_old = (now - artefact.taken_at).whole_days();
            let kept_by_count = self.keep_last.is_some_and(|n| position < n);
            let kept_by_age = self.keep_days.is_some_and(|days| days_old < days);
            if kept_by_count || kept_by_age || Some(position) == newest_good || (artefact.good && good_left <= self.min_keep) {
                continue;
            }
            let mut why = match (self.keep_days, self.keep_last) {
                (Some(days), Some(n)) => format!("older than keep_days = {days} ({days_old}d old); keep_last = {n} still met"),
                (Some(days), None) => format!("older than keep_days = {days} ({days_old}d old)"),
                (None, Some(n)) => format!("beyond keep_last = {n}"),
                (None, None) => String::new(),
            };
            if artefact.good {
                good_left -= 1;
            } else {
                why.push_str(&format!("; it is {}", artefact.status));
            }
            pruned.push((artefact.id.clone(), why));
        }
        pruned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn retention(keep_last: Option<usize>, keep_days: Option<i64>) -> Retention {
        Retention { keep_last, keep_days, min_keep: 1 }
    }

    fn daily(n: i64, now: OffsetDateTime) -> Vec<Held> {
        (0..n).map(|i| Held { id: format!("b{i}"), taken_at: now - time::Duration::days(i), good: true, status: "present".into() }).collect()
    }

    #[test]
    fn retention_prunes_only_what_no_rule_keeps() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let held = daily(40, now);
        let pruned: Vec<String> = retention(Some(7), Some(30)).to_prune(&held, now).into_iter().map(|(id, _)| id).collect();
        assert_eq!(pruned, (30..40).rev().map(|i| format!("b{i}")).collect::<Vec<_>>());
        assert_eq!(retention(Some(35), Some(30)).to_prune(&held, now).len(), 5, "keep_last = 35 keeps five that keep_days would drop");
        assert!(retention(None, None).to_prune(&held, now).is_empty());
    }

    #[test]
    fn the_newest_good_artefact_is_never_pruned_and_min_keep_holds() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let held = vec![
            Held { id: "damaged".into(), taken_at: now - time::Duration::days(1), good: false, status: "damaged".into() },
            Held { id: "good".into(), taken_at: now - time::Duration::days(90), good: true, status: "present".into() },
        ];
        assert!(retention(Some(1), Some(30)).to_prune(&held, now).is_empty(), "the damaged one is within keep_last, the good one the newest good");
        let pruned = Retention { keep_last: Some(1), keep_days: None, min_keep: 3 }.to_prune(&daily(5, now), now);
        assert_eq!(pruned.len(), 2, "min_keep = 3 keeps three good ones");
    }

    #[test]
    fn due_says_why() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let day = Duration::from_secs(86_400);
        assert_eq!(due("backup", day, "24h", &[], now).as_deref(), Some("backup due: there is no backup yet (every = 24h)"));
        let old = daily(1, now - time::Duration::hours(26));
        assert_eq!(due("snapshot", day, "24h", &old, now).as_deref(), Some("snapshot due: the newest is 26h old (every = 24h)"));
        assert_eq!(due("backup", day, "24h", &daily(1, now), now), None);
    }

    #[test]
    fn durations_parse_with_units_and_sums() {
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("1w 2d"), Ok(Duration::from_secs(777_600)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("24").unwrap_err().contains("unknown unit \"\""));
        assert!(parse("5y").unwrap_err().contains("unknown unit \"y\""));
        assert!(parse("0h").unwrap_err().contains("zero"));
        assert!(parse("h").unwrap_err().contains("whole number"));
        assert!(parse("99999999999999999999d").is_err());
        assert!(parse("5\u{e9}s").is_err(), "no panic on multi-byte units");
    }

    #[test]
    fn ages_read_in_their_two_largest_units() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(93_600)), "26h");
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 4 * 3_600 + 5)), "3d 4h");
        assert_eq!(human(Duration::from_secs(3_660)), "1h 1m");
        assert_eq!(human(Duration::ZERO), "0s");
    }
}
