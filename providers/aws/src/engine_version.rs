//! RDS engine versions: when a configured version matches the running one (`"15"` matches
//! `15.4`), what counts as a major upgrade (PostgreSQL 14 -> 15, 9.6 -> 10; MySQL 5.7 -> 8.0),
//! and refusing downgrades and unannounced major upgrades at plan time.
//!
//! Owns version arithmetic only; it must not call AWS.

use strata_provider_sdk::ProviderError;

/// Whether `wanted` (possibly a prefix like "15" or "15.4") names the running `live` version.
pub fn matches(live: &str, wanted: &str) -> bool {
    live == wanted
        || live
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The numeric parts of a version; a non-numeric tail of a part ("10a") is ignored.
fn parts(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect()
}

/// The parts that name the major version: PostgreSQL 10 and later use one, 9.x and other engines
/// (MySQL 5.7, 8.0; MariaDB 10.6) two.
fn major(engine: &str, version: &str) -> Vec<u64> {
    let parts = parts(version);
    let len = if engine.contains("postgres") && parts.first().is_some_and(|&m| m >= 10) {
        1
    } else {
        2
    };
    parts.into_iter().take(len).collect()
}

/// Refuses a change from `live` to `wanted` that RDS cannot or should not do unannounced.
pub fn check_change(
    engine: &str,
    live: &str,
    wanted: &str,
    allow_major: bool,
) -> Result<(), ProviderError> {
    if matches(live, wanted) {
        return Ok(());
    }
    let wanted_parts = parts(wanted);
    let live_prefix: Vec<u64> = parts(live).into_iter().take(wanted_parts.len()).collect();
    if wanted_parts < live_prefix {
        return Err(ProviderError::new(format!("engine_version {wanted} is older than the running {live}: RDS cannot downgrade an instance"))
            .with_hint(format!("set engine_version back to \"{live}\", or restore a snapshot into a new instance of the older version")));
    }
    if major(engine, live) != major(engine, wanted) && !allow_major {
        return Err(ProviderError::new(format!("changing engine_version from {live} to {wanted} is a major version upgrade"))
            .with_hint("set allow_major_version_upgrade = true in the resource to allow it (and apply_immediately = true to run it now rather than in the maintenance window)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match() {
        assert!(matches("15.4", "15"));
        assert!(matches("15.4", "15.4"));
        assert!(!matches("15.4", "1"));
        assert!(!matches("15.4", "15.40"));
    }

    #[test]
    fn majors_need_the_flag() {
        assert!(check_change("postgres", "14.10", "15.4", false).is_err());
        assert!(check_change("postgres", "14.10", "15.4", true).is_ok());
        assert!(check_change("postgres", "14.9", "14.10", false).is_ok());
        assert!(check_change("postgres", "9.6.20", "9.6.22", false).is_ok());
        assert!(check_change("postgres", "9.5.2", "9.6.1", false).is_err());
        assert!(check_change("mysql", "5.7.44", "8.0.35", false).is_err());
        assert!(check_change("postgres", "9.6.20", "10.1", false).is_err());
    }

    #[test]
    fn downgrades_are_refused() {
        let err = check_change("postgres", "15.4", "14.10", true);
        assert!(err.is_err_and(|e| e.message.contains("downgrade")));
        assert!(check_change("postgres", "14.10", "14.9", true).is_err());
    }
}
