//! Waiting for AWS to finish: polling with exponential backoff under a deadline, and the
//! Terraform-style durations (`"40m"`, `"1h30m"`) that set those deadlines.
//!
//! Owns no API knowledge: callers pass the check to run. The check always runs before the first
//! sleep, so against an emulator whose objects are ready at once nothing ever sleeps.

use std::future::Future;
use std::time::{Duration, Instant};

use strata_provider_sdk::ProviderError;

const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Runs `check` until it answers `Some`, sleeping 1 s, 2 s, 4 s ... (at most 30 s) between
/// tries; fails once `timeout` has passed. `what` completes "timed out waiting for ...".
pub async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        if let Some(done) = check().await? {
            return Ok(done);
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(ProviderError::new(format!("timed out after {} waiting for {what}", format_duration(timeout)))
                .with_hint("AWS may still finish it: run plan to see where it stands (and raise the resource's timeouts, where it has them, if this is normal)"));
        }
        tokio::time::sleep(delay.min(timeout - elapsed)).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// Parses `"40m"`, `"1h30m"`, `"90s"`: whole numbers each followed by h, m or s.
pub fn parse_duration(text: &str) -> Result<Duration, ProviderError> {
    let invalid = || {
        ProviderError::new(format!("\"{text}\" is not a duration")).with_hint(
            "write durations as whole numbers with units h, m and s, such as \"40m\" or \"1h30m\"",
        )
    };
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(invalid()),
        };
        let n: u64 = number.parse().map_err(|_| invalid())?;
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(invalid)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("40m").ok(), Some(Duration::from_secs(2400)));
        assert_eq!(
            parse_duration("1h30m").ok(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(parse_duration("90s").ok(), Some(Duration::from_secs(90)));
        for bad in ["", "40", "m", "1x", "0m", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn ready_at_once_never_sleeps() {
        let started = Instant::now();
        let got = until("nothing", Duration::from_secs(5), || async { Ok(Some(7)) }).await;
        assert_eq!(got.ok(), Some(7));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn gives_up_after_the_timeout() {
        let got: Result<(), _> =
            until("never", Duration::from_millis(50), || async { Ok(None) }).await;
        assert!(got.is_err_and(|e| e.message.contains("timed out")));
    }
}
