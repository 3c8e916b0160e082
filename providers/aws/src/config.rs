//! The `provider "aws"` block and the SDK clients built from it: region, credentials, retries,
//! endpoint overrides, and the interceptor that counts every API attempt for `-verbose`.
//!
//! Owns nothing about resources; it must not call any API itself (configure stays offline, so
//! `plan` fails on the first real call with a message saying what is wrong).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_rds::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use strata_provider_sdk::{ProviderError, Value};

/// Attempts per call when the block does not set `max_retries`: throttling and 5xx answers are
/// retried this many times in all, with the SDK's exponential backoff.
const DEFAULT_MAX_RETRIES: u32 = 4;

/// The SDK standard retry's first backoff ceiling when the block does not set
/// `retry_backoff_ms`: retry n of a throttled or 5xx call waits a random time up to this times
/// 2^(n-1), at most 20 s ("full jitter").
const DEFAULT_RETRY_BACKOFF_MS: u64 = 1000;

/// The SDK clients every resource module talks through.
#[derive(Clone, Debug)]
pub struct Clients {
    pub rds: aws_sdk_rds::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub backup: aws_sdk_backup::Client,
}

impl Clients {
    /// The region these clients talk to, when one is set.
    pub fn region(&self) -> Option<&str> {
        self.rds.config().region().map(|r| r.as_ref())
    }

    /// These clients in `region` instead (same credentials, retries, endpoints and call
    /// counting): for copies across regions.
    pub fn in_region(&self, region: &str) -> Clients {
        let rds = self.rds.config().to_builder().region(Region::new(region.to_owned())).build();
        let ec2 = self.ec2.config().to_builder().region(Region::new(region.to_owned())).build();
        let backup = self.backup.config().to_builder().region(Region::new(region.to_owned())).build();
        Clients { rds: aws_sdk_rds::Client::from_conf(rds), ec2: aws_sdk_ec2::Client::from_conf(ec2), backup: aws_sdk_backup::Client::from_conf(backup) }
    }
}

/// API calls made so far, keyed `service:Operation`; shared with the clients' interceptors.
#[derive(Clone, Debug, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        match self.0.lock() {
            Ok(counts) => counts.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Err(poisoned) => poisoned
                .get_ref()
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }

    fn add(&self, key: String) {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(key).or_insert(0) += 1;
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "strata-call-counter"
    }

    // Before each attempt, not each execution, so retries count too: they cost the same quota.
    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.add(format!(
                "{}:{}",
                metadata.service().to_lowercase(),
                metadata.name()
            ));
        }
        Ok(())
    }
}

/// What the provider block says, each field unset when it does not set it.
struct Settings {
    region: Option<String>,
    profile: Option<String>,
    credentials: Option<(String, String)>,
    max_retries: u32,
    retry_backoff: Duration,
    rds_endpoint: Option<String>,
    ec2_endpoint: Option<String>,
    backup_endpoint: Option<String>,
}

impl Settings {
    fn from_value(config: &Value) -> Result<Settings, ProviderError> {
        let text = |key: &str| {
            config
                .get_str(key)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let credentials = match (text("access_key"), text("secret_key")) {
            (Some(access), Some(secret)) => Some((access, secret)),
            (None, None) => None,
            _ => {
                return Err(ProviderError::new("the aws provider block sets only one of access_key and secret_key")
                    .with_hint("set both, or neither to use the standard credential chain (AWS_ACCESS_KEY_ID, profiles, instance roles)"))
            }
        };
        let max_retries =
            whole_number(config, "max_retries", 0..=100)?.map_or(DEFAULT_MAX_RETRIES, |n| n as u32);
        let retry_backoff_ms = whole_number(config, "retry_backoff_ms", 1..=20_000)?
            .unwrap_or(DEFAULT_RETRY_BACKOFF_MS);
        let endpoints = config.get("endpoints").cloned().unwrap_or_default();
        let endpoint = |service: &str| {
            endpoints
                .get_str(service)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Settings {
            region: text("region"),
            profile: text("profile"),
            credentials,
            max_retries,
            retry_backoff: Duration::from_millis(retry_backoff_ms),
            rds_endpoint: endpoint("rds"),
            ec2_endpoint: endpoint("ec2"),
            backup_endpoint: endpoint("backup"),
        })
    }

    /// The SDK's standard retry: throttling codes (`Throttling`, `RequestLimitExceeded`, ...),
    /// 5xx answers and timeouts are retried with exponential backoff and full jitter, within a
    /// client-wide retry quota; other errors are not.
    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_retries + 1)
            .with_initial_backoff(self.retry_backoff)
    }
}

/// The block's `key` as a whole number within `range`; `None` when unset.
fn whole_number(
    config: &Value,
    key: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ProviderError> {
    let Some(value) = config.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    value
        .as_i64()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| range.contains(n))
        .map(Some)
        .ok_or_else(|| {
            ProviderError::new(format!(
                "{key} must be a whole number from {} to {}, not {}",
                range.start(),
                range.end(),
                crate::diff::show(value)
            ))
        })
}

/// Builds the clients from the provider block (null: all defaults). Unset values come from the
/// SDK's standard chains: AWS_REGION / profile for the region; env, profile, SSO, IMDS for
/// credentials; AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_RDS, AWS_ENDPOINT_URL_EC2 and
/// AWS_ENDPOINT_URL_BACKUP for endpoints.
pub async fn build_clients(
    config: &Value,
    counter: &CallCounter,
) -> Result<Clients, ProviderError> {
    let settings = Settings::from_value(config)?;
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(settings.retry_config());
    if let Some(region) = settings.region {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some((access, secret)) = settings.credentials {
        loader = loader.credentials_provider(Credentials::new(
            access,
            secret,
            None,
            None,
            "strata-provider-block",
        ));
    }
    let shared = loader.load().await;
    if shared.region().is_none() {
        return Err(ProviderError::new("no AWS region is configured")
            .with_hint("set region in the provider \"aws\" block, or AWS_REGION (or a region in your AWS profile)"));
    }
    let mut rds = aws_sdk_rds::config::Builder::from(&shared).interceptor(counter.clone());
    if let Some(url) = settings.rds_endpoint {
        rds = rds.endpoint_url(url);
    }
    let mut ec2 = aws_sdk_ec2::config::Builder::from(&shared).interceptor(counter.clone());
    if let Some(url) = settings.ec2_endpoint {
        ec2 = ec2.endpoint_url(url);
    }
    let mut backup = aws_sdk_backup::config::Builder::from(&shared)
        .interceptor(counter.clone())
        .interceptor(crate::backup_tags::DocumentedListTagsPath);
    if let Some(url) = settings.backup_endpoint {
        backup = backup.endpoint_url(url);
    }
    Ok(Clients {
        rds: aws_sdk_rds::Client::from_conf(rds.build()),
        ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
        backup: aws_sdk_backup::Client::from_conf(backup.build()),
    })
}

#[cfg(test)]
mod tests {
    use aws_config::retry::RetryMode;

    use super::*;

    #[test]
    fn one_half_of_a_key_pair_is_refused() {
        let config = Value::object([("access_key", Value::from("AKIA"))]);
        assert!(Settings::from_value(&config).is_err());
    }

    #[test]
    fn null_block_means_defaults() {
        let settings = Settings::from_value(&Value::Null).map_err(|e| e.message);
        assert!(matches!(
            settings,
            Ok(Settings {
                max_retries: DEFAULT_MAX_RETRIES,
                region: None,
                ..
            })
        ));
    }

    #[test]
    fn retry_settings_are_read_and_bounded() {
        let config = Value::object([
            ("max_retries", Value::int(2)),
            ("retry_backoff_ms", Value::int(25)),
        ]);
        let settings = Settings::from_value(&config).map_err(|e| e.message);
        let retry = settings.map(|s| s.retry_config());
        assert_eq!(
            retry
                .as_ref()
                .map(|r| (r.mode(), r.max_attempts(), r.initial_backoff())),
            Ok((RetryMode::Standard, 3, Duration::from_millis(25)))
        );
        for (key, bad) in [
            ("max_retries", -1),
            ("max_retries", 101),
            ("retry_backoff_ms", 0),
        ] {
            let config = Value::object([(key, Value::int(bad))]);
            assert!(
                Settings::from_value(&config).is_err_and(|e| e.message.starts_with(key)),
                "{key} = {bad}"
            );
        }
    }
}
