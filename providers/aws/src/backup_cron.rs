//! AWS Backup's schedule syntax, checked at validate (moto accepts any string; AWS refuses a bad
//! one only once apply sends it): `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, six
//! fields as AWS documents them, each a value, `*`, a list (`,`), a range (`-`) or a step (`/`);
//! `?` in exactly one of day-of-month and day-of-week; `L` and `W` in day-of-month, `L` and `#`
//! in day-of-week; months JAN-DEC and days SUN-SAT by name.

use strata_provider_sdk::Syntax;

pub const CRON: Syntax = Syntax {
    what: "an AWS cron expression cron(Minutes Hours Day-of-month Month Day-of-week Year), such as cron(0 5 ? * * *)",
    check,
};

const MONTHS: &[&str] = &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One of the six fields: its name in messages, its range, and the names standing for values.
struct Field {
    name: &'static str,
    low: u32,
    high: u32,
    names: &'static [&'static str],
}

const DAY_OF_MONTH: usize = 2;
const DAY_OF_WEEK: usize = 4;

const FIELDS: [Field; 6] = [
    Field { name: "minutes", low: 0, high: 59, names: &[] },
    Field { name: "hours", low: 0, high: 23, names: &[] },
    Field { name: "day-of-month", low: 1, high: 31, names: &[] },
    Field { name: "month", low: 1, high: 12, names: MONTHS },
    Field { name: "day-of-week", low: 1, high: 7, names: DAYS },
    Field { name: "year", low: 1970, high: 2199, names: &[] },
];

fn check(text: &str) -> Result<(), String> {
    let body = text
        .trim()
        .strip_prefix("cron(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or("AWS Backup schedules are written cron(...)")?;
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err(format!("it has {} fields where AWS cron has 6: Minutes Hours Day-of-month Month Day-of-week Year", parts.len()));
    }
    for (index, (field, part)) in FIELDS.iter().zip(&parts).enumerate() {
        field.check(part, index)?;
    }
    match (parts[DAY_OF_MONTH] == "?", parts[DAY_OF_WEEK] == "?") {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err("day-of-month and day-of-week are both ?: one of them must say which days".to_owned()),
        (false, false) => Err(format!(
            "day-of-month ({}) and day-of-week ({}) are both set: AWS cron needs ? in one of them",
            parts[DAY_OF_MONTH], parts[DAY_OF_WEEK]
        )),
    }
}

impl Field {
    /// `index` is the field's position: `?`, `L`, `W` and `#` belong to the day fields only.
    fn check(&self, text: &str, index: usize) -> Result<(), String> {
        let day_field = index == DAY_OF_MONTH || index == DAY_OF_WEEK;
        if text == "?" {
            return if day_field { Ok(()) } else { Err(format!("{} cannot be ?: only day-of-month and day-of-week can", self.name)) };
        }
        if index == DAY_OF_MONTH {
            if let Some(day) = text.strip_suffix('W') {
                return if day == "L" { Ok(()) } else { self.value(day).map(drop) };
            }
        }
        if index == DAY_OF_WEEK {
            if let Some((day, nth)) = text.split_once('#') {
                self.value(day)?;
                return match nth.parse::<u32>() {
                    Ok(1..=5) => Ok(()),
                    _ => Err(format!("day-of-week {text}: the week after # must be 1 to 5")),
                };
            }
            if let Some(day) = text.strip_suffix('L').filter(|day| !day.is_empty()) {
                return self.value(day).map(drop);
            }
        }
        if day_field && text == "L" {
            return Ok(());
        }
        text.split(',').try_for_each(|item| self.item(item))
    }

    /// `*`, `a`, `a-b`, each optionally `/step`.
    fn item(&self, item: &str) -> Result<(), String> {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n >= 1 && n <= self.high => {}
                _ => return Err(format!("{} {item}: the step after / must be a whole number from 1 to {}", self.name, self.high)),
            }
        }
        if range == "*" {
            return Ok(());
        }
        match range.split_once('-') {
            Some((from, to)) => self.value(from).and(self.value(to)).map(drop),
            None => self.value(range).map(drop),
        }
    }

    fn value(&self, text: &str) -> Result<u32, String> {
        if let Some(index) = self.names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
            return Ok(self.low + index as u32);
        }
        let names = match self.names {
            [] => String::new(),
            names => format!(" or {}-{}", names[0], names[names.len() - 1]),
        };
        match text.parse::<u32>() {
            Ok(n) if (self.low..=self.high).contains(&n) => Ok(n),
            _ => Err(format!("{} \"{text}\" is not {}-{}{names}", self.name, self.low, self.high)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_documented_schedules_pass() {
        for good in [
            "cron(0 5 ? * * *)",
            "cron(0 12 * * ? *)",
            "cron(15 10 ? * 6L 2022-2023)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
            "cron(0/15 * * * ? *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 0 L * ? *)",
            "cron(0 0 15W * ? *)",
            "cron(0 0 LW JAN,JUL ? *)",
            "cron(30 2 ? * SUN *)",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    fn refusal(text: &str) -> String {
        check(text).err().unwrap_or_else(|| format!("{text} passed"))
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        assert!(refusal("0 5 * * ? *").contains("cron(...)"));
        assert!(refusal("cron(0 5 * * ?)").contains("5 fields where AWS cron has 6"));
        assert!(refusal("cron(60 5 ? * * *)").contains("minutes \"60\" is not 0-59"));
        assert!(refusal("cron(0 24 ? * * *)").contains("hours \"24\" is not 0-23"));
        assert!(refusal("cron(0 5 32 * ? *)").contains("day-of-month \"32\""));
        assert!(refusal("cron(0 5 ? FOO * *)").contains("month \"FOO\" is not 1-12 or JAN-DEC"));
        assert!(refusal("cron(0 5 ? * 8 *)").contains("day-of-week \"8\" is not 1-7 or SUN-SAT"));
        assert!(refusal("cron(0 5 ? * * 1969)").contains("year \"1969\" is not 1970-2199"));
        assert!(refusal("cron(0 5 * * * *)").contains("needs ? in one of them"));
        assert!(refusal("cron(0 5 ? * ? *)").contains("both ?"));
        assert!(refusal("cron(? 5 * * ? *)").contains("minutes cannot be ?"));
        assert!(refusal("cron(0 5 ? * 2#6 *)").contains("1 to 5"));
        assert!(refusal("cron(0/0 5 ? * * *)").contains("step"));
        assert!(refusal("cron(0 5 L * L *)").contains("needs ? in one of them"));
    }
}
