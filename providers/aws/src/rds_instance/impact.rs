//! What an in-place change to an `aws_db_instance` does to the running database, for reviewers:
//! downtime (`locking` lines), including a new parameter group that only a reboot brings into
//! force (the reboot drops every connection and open transaction, but no stored data).
//!
//! Owns the wording and the AWS rules behind it, from the RDS user guide ("Settings for DB
//! instances"); it never calls AWS and must not decide what apply does.

use strata_provider_sdk::Value;

use crate::diff::{self, Changed, Diff};

/// The storage type AWS calls magnetic: moving to or from it migrates the volume.
const MAGNETIC: &str = "standard";

/// The reviewer-facing consequences of one in-place update.
#[derive(Debug, Default, PartialEq)]
pub struct Impact {
    pub locking: Vec<String>,
    pub data_loss: Vec<String>,
}

/// The consequences of applying `diff` to the instance `prior` with the settings in `desired`.
pub fn of_update(prior: &Value, desired: &Value, diff: &Diff) -> Impact {
    let id = prior.get_str("identifier").unwrap_or_default();
    let when = when_applied(prior, desired);
    let mut impact = Impact::default();
    if let Some(change) = diff.get("instance_class") {
        impact.locking.push(format!(
            "{id}: instance class {}: the instance restarts {when}: downtime of minutes (a failover with multi_az)",
            from_to(change)
        ));
    }
    if let Some(change) = diff.get("engine_version") {
        impact.locking.push(format!(
            "{id}: engine upgrade {}: the instance restarts {when}: downtime of minutes, longer for a major version",
            from_to(change)
        ));
    }
    if let Some(change) = diff.get("storage_type") {
        impact.locking.push(storage_type_line(id, change, &when));
    }
    if let Some(change) = diff.get("port") {
        // AWS applies a port change at once, whatever ApplyImmediately says.
        impact.locking.push(format!(
            "{id}: port {}: the instance restarts now, even with apply_immediately = false: downtime of minutes, and clients must use the new port",
            from_to(change)
        ));
    }
    if let Some(change) = diff.get("parameter_group_name") {
        impact.locking.push(format!(
            "{id}: parameter group {} takes effect only when the instance reboots, which strata does not do: that reboot drops every connection and rolls back open transactions (downtime of minutes)",
            from_to(change)
        ));
    }
    impact
}

/// When AWS makes the changes ModifyDBInstance asks for.
fn when_applied(prior: &Value, desired: &Value) -> String {
    if desired.get_bool("apply_immediately") == Some(true) {
        return "now (apply_immediately = true)".to_owned();
    }
    match prior.get_str("maintenance_window") {
        Some(window) => format!("in the next maintenance window ({window})"),
        None => "in the next maintenance window".to_owned(),
    }
}

/// Only a move to or from magnetic storage restarts the instance; every change of storage type
/// is followed by hours of storage optimization.
fn storage_type_line(id: &str, change: &Changed, when: &str) -> String {
    let magnetic = [&change.from, &change.to]
        .iter()
        .any(|v| v.as_str() == Some(MAGNETIC));
    if magnetic {
        format!(
            "{id}: storage type {}: the instance restarts {when} (a short outage), then migrates its volume for hours: no reboot, snapshot or other change of it can run meanwhile",
            from_to(change)
        )
    } else {
        format!(
            "{id}: storage type {}: no restart, but hours of storage optimization follow: no further storage change can run meanwhile, and I/O may slow",
            from_to(change)
        )
    }
}

fn from_to(change: &Changed) -> String {
    let show = |value: &Value| {
        if value.is_wholly_known() {
            diff::show(value)
        } else {
            "(decided during apply)".to_owned()
        }
    };
    format!("{} -> {}", show(&change.from), show(&change.to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, from: &str, to: &str) -> Changed {
        Changed {
            name: name.to_owned(),
            from: Value::from(from),
            to: Value::from(to),
        }
    }

    fn impact(changes: Vec<Changed>, apply_immediately: bool) -> Impact {
        let prior = Value::object([
            ("identifier", Value::from("db1")),
            ("maintenance_window", Value::from("sun:05:00-sun:06:00")),
        ]);
        let desired = Value::object([("apply_immediately", Value::Bool(apply_immediately))]);
        let diff = Diff {
            planned: Value::Null,
            changes,
        };
        of_update(&prior, &desired, &diff)
    }

    #[test]
    fn instance_class_is_downtime_now_or_in_the_window() {
        let now = impact(
            vec![change("instance_class", "db.t3.micro", "db.t3.small")],
            true,
        );
        assert_eq!(now.locking, ["db1: instance class db.t3.micro -> db.t3.small: the instance restarts now (apply_immediately = true): downtime of minutes (a failover with multi_az)"]);
        assert!(now.data_loss.is_empty());
        let later = impact(
            vec![change("instance_class", "db.t3.micro", "db.t3.small")],
            false,
        );
        assert!(
            later.locking[0].contains("in the next maintenance window (sun:05:00-sun:06:00)"),
            "{later:?}"
        );
    }

    #[test]
    fn only_magnetic_storage_moves_restart() {
        let ssd = impact(vec![change("storage_type", "gp2", "gp3")], true);
        assert!(ssd.locking[0].contains("no restart"), "{ssd:?}");
        let magnetic = impact(vec![change("storage_type", "standard", "gp3")], true);
        assert!(
            magnetic.locking[0].contains("the instance restarts now"),
            "{magnetic:?}"
        );
    }

    #[test]
    fn a_new_parameter_group_needs_a_reboot() {
        let got = impact(vec![change("parameter_group_name", "pg1", "pg2")], true);
        assert!(got.data_loss.is_empty(), "a reboot is downtime, not data loss");
        assert!(
            got.locking[0].contains("takes effect only when the instance reboots"),
            "{got:?}"
        );
    }

    #[test]
    fn safe_changes_say_nothing() {
        let got = impact(
            vec![
                change("backup_window", "01:00-02:00", "03:00-04:00"),
                change("allocated_storage", "20", "40"),
            ],
            true,
        );
        assert_eq!(got, Impact::default());
    }
}
