//! The instance's backup settings, checked at plan time as RDS would check them at apply (moto
//! checks none of it): `backup_retention_period` 0 to 35 days, `backup_window` as
//! `hh24:mi-hh24:mi` (UTC) of at least 30 minutes, `maintenance_window` as
//! `ddd:hh24:mi-ddd:hh24:mi` of at least 30 minutes, and the two never overlapping.

use strata_provider_sdk::{ProviderError, Value};

const MINUTES_PER_DAY: u32 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A span of minutes from the start of a week (a daily window recurs every day).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    start: u32,
    minutes: u32,
}

fn time_of_day(text: &str) -> Option<u32> {
    let (hours, minutes) = text.split_once(':')?;
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60 && text.len() == 5).then_some(hours * 60 + minutes)
}

fn day_and_time(text: &str) -> Option<u32> {
    let (day, time) = text.split_once(':')?;
    let day = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day))?;
    Some(u32::try_from(day).ok()? * MINUTES_PER_DAY + time_of_day(time)?)
}

/// `hh24:mi-hh24:mi`, possibly over midnight.
fn backup_window(text: &str) -> Result<Span, String> {
    let bad = || format!("backup_window \"{text}\" is not hh24:mi-hh24:mi in UTC (such as \"03:00-03:30\")");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    let (from, to) = (time_of_day(from).ok_or_else(bad)?, time_of_day(to).ok_or_else(bad)?);
    Ok(Span { start: from, minutes: (to + MINUTES_PER_DAY - from) % MINUTES_PER_DAY })
}

/// `ddd:hh24:mi-ddd:hh24:mi`, possibly over the end of the week.
fn maintenance_window(text: &str) -> Result<Span, String> {
    let bad = || format!("maintenance_window \"{text}\" is not ddd:hh24:mi-ddd:hh24:mi in UTC (such as \"sun:05:00-sun:06:00\")");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    let (from, to) = (day_and_time(from).ok_or_else(bad)?, day_and_time(to).ok_or_else(bad)?);
    Ok(Span { start: from, minutes: (to + MINUTES_PER_WEEK - from) % MINUTES_PER_WEEK })
}

/// Whether a daily `backup` window meets the weekly `maintenance` window: two spans of a
/// week overlap when either starts inside the other, counting round the end of the week.
fn overlap(backup: Span, maintenance: Span) -> bool {
    let starts_inside = |a: u32, inside: Span| (a + MINUTES_PER_WEEK - inside.start) % MINUTES_PER_WEEK < inside.minutes;
    (0..7).any(|day| {
        let daily = Span { start: day * MINUTES_PER_DAY + backup.start, minutes: backup.minutes };
        starts_inside(daily.start, maintenance) || starts_inside(maintenance.start, daily)
    })
}

/// Refuses backup settings RDS would refuse, before anything is sent.
pub fn check(desired: &Value) -> Result<(), ProviderError> {
    let refuse = |message: String, hint: &str| Err(ProviderError::new(message).with_hint(hint));
    if let Some(days) = desired.get_i64("backup_retention_period") {
        if !(0..=35).contains(&days) {
            return refuse(format!("backup_retention_period = {days} is out of range"), "RDS keeps automated backups for 0 (none) to 35 days");
        }
    }
    let backup = desired.get_str("backup_window").map(backup_window).transpose().map_err(ProviderError::new)?;
    let maintenance = desired.get_str("maintenance_window").map(maintenance_window).transpose().map_err(ProviderError::new)?;
    if let Some(span) = backup.filter(|s| s.minutes < 30) {
        return refuse(format!("backup_window lasts {} minutes", span.minutes), "RDS needs a backup window of at least 30 minutes");
    }
    if let Some(span) = maintenance.filter(|s| s.minutes < 30) {
        return refuse(format!("maintenance_window lasts {} minutes", span.minutes), "RDS needs a maintenance window of at least 30 minutes");
    }
    if let (Some(backup), Some(maintenance)) = (backup, maintenance) {
        if overlap(backup, maintenance) {
            return refuse(
                format!(
                    "backup_window \"{}\" overlaps maintenance_window \"{}\"",
                    desired.get_str("backup_window").unwrap_or_default(),
                    desired.get_str("maintenance_window").unwrap_or_default()
                ),
                "RDS refuses windows that overlap: move one of them",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().cloned())
    }

    fn error(pairs: &[(&str, Value)]) -> String {
        let err = check(&instance(pairs)).unwrap_err();
        format!("{} / {}", err.message, err.hint.unwrap_or_default())
    }

    #[test]
    fn good_windows_pass() {
        let good = instance(&[
            ("backup_retention_period", Value::int(7)),
            ("backup_window", Value::string("03:00-03:30")),
            ("maintenance_window", Value::string("sun:05:00-sun:06:00")),
        ]);
        assert!(check(&good).is_ok());
        assert!(check(&instance(&[("backup_window", Value::string("23:45-00:30")), ("maintenance_window", Value::string("Sat:01:00-Sat:02:00"))])).is_ok());
    }

    #[test]
    fn retention_is_0_to_35_days() {
        assert!(error(&[("backup_retention_period", Value::int(36))]).contains("0 (none) to 35 days"));
        assert!(check(&instance(&[("backup_retention_period", Value::int(0))])).is_ok());
    }

    #[test]
    fn bad_formats_and_short_windows_are_refused() {
        assert!(error(&[("backup_window", Value::string("3:00-3:30"))]).contains("hh24:mi-hh24:mi"));
        assert!(error(&[("backup_window", Value::string("25:00-25:30"))]).contains("hh24:mi-hh24:mi"));
        assert!(error(&[("backup_window", Value::string("03:00-03:20"))]).contains("at least 30 minutes"));
        assert!(error(&[("maintenance_window", Value::string("sunday:05:00-sun:06:00"))]).contains("ddd:hh24:mi"));
        assert!(error(&[("maintenance_window", Value::string("sun:05:00-sun:05:10"))]).contains("lasts 10 minutes"));
    }

    #[test]
    fn overlapping_windows_are_refused_also_over_midnight_and_the_week_end() {
        assert!(error(&[("backup_window", Value::string("05:30-06:30")), ("maintenance_window", Value::string("sun:05:00-sun:06:00"))]).contains("overlaps"));
        assert!(error(&[("backup_window", Value::string("23:30-00:30")), ("maintenance_window", Value::string("mon:00:00-mon:01:00"))]).contains("overlaps"));
        assert!(error(&[("backup_window", Value::string("00:00-00:30")), ("maintenance_window", Value::string("sun:23:30-mon:00:15"))]).contains("overlaps"));
        assert!(check(&instance(&[("backup_window", Value::string("06:00-06:30")), ("maintenance_window", Value::string("sun:05:00-sun:06:00"))])).is_ok(), "touching is not overlapping");
    }
}
