//! Turning SDK errors into [`ProviderError`]s: the AWS error code and message, and a hint saying
//! what to do about it. Retrying is the SDK's job (see `config`); this module only explains.
//!
//! It must never put a request's parameters in a message: they may hold the instance password.

use std::error::Error;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use strata_provider_sdk::{ApplyFailure, ProviderError};

/// The AWS error code of a failed call, when the service answered with one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// `operation` (such as `rds:CreateDBInstance`) failed: say why and what to do.
pub fn api<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    if let Some(service) = err.as_service_error() {
        if service.code().is_none() && service.message().is_none() {
            return unnamed(operation, err.raw_response().map(|r| r.status().as_u16()));
        }
        let code = service.code().unwrap_or("UnknownError");
        let message = service.message().unwrap_or("no message");
        let error = ProviderError::new(format!("{operation} failed: {code}: {message}"));
        return match hint_for_code(code) {
            Some(hint) => error.with_hint(hint),
            None => error,
        };
    }
    let detail = DisplayErrorContext(&err).to_string();
    let error = ProviderError::new(format!("{operation} failed: {detail}"));
    if detail.contains("credentials") {
        return error.with_hint("no usable AWS credentials: set access_key/secret_key in the provider \"aws\" block, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a profile");
    }
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => error.with_hint(
            "the AWS endpoint could not be reached: check the network, the provider's endpoints block, AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_RDS, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_BACKUP) and the region",
        ),
        _ => error,
    }
}

/// An answer with neither an AWS error code nor a message: AWS names every error it returns.
fn unnamed(operation: &str, status: Option<u16>) -> ProviderError {
    let status = status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "an error".to_owned());
    ProviderError::new(format!("{operation} failed: the endpoint answered {status} with no AWS error code or message"))
        .with_hint("something other than AWS answered, such as an emulator that does not implement this call (moto answers HTTP 500 then): check the endpoint the provider uses")
}

/// A create call (`operation`) of the object `id` names failed. One whose answer never came (a
/// timeout, a dropped connection) may have created it all the same: that failure is in doubt, so
/// the engine keeps its intent. One of that name already there is someone else's.
pub fn create_failed<E>(operation: &str, id: &str, err: SdkError<E, HttpResponse>) -> ApplyFailure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let in_doubt = matches!(err, SdkError::TimeoutError(_) | SdkError::ResponseError(_) | SdkError::DispatchFailure(_));
    let exists = code(&err).is_some_and(|code| code.ends_with("AlreadyExists") || code == "AlreadyExistsException" || code == "InvalidGroup.Duplicate" || code == "InvalidPermission.Duplicate");
    let mut error = api(operation, err);
    if exists {
        error.hint = Some(strata_provider_sdk::error::not_managed_hint(id));
    }
    ApplyFailure { error, partial: None, in_doubt }
}

/// A delete's answer: done, or already gone (`not_found` is the service's code for that).
pub fn deleted<T, E>(
    operation: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
    not_found: &str,
) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if code(&err) == Some(not_found) => Ok(()),
        Err(err) => Err(api(operation, err)),
    }
}

/// What to do about the errors people meet most.
fn hint_for_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "DBInstanceAlreadyExists" | "DBParameterGroupAlreadyExists" | "DBSubnetGroupAlreadyExists" | "InvalidGroup.Duplicate" | "AlreadyExistsException" => {
            "an object with this name exists and is not managed by this state (possibly another workspace or team): use `strata import {address} NAME` to manage it, or choose another name"
        }
        "InvalidParameterCombination" | "InvalidParameterValue" | "InvalidParameter" | "InvalidParameterCombinationException" => {
            "check the arguments the message names against what AWS accepts for this engine and instance class"
        }
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthFailure" | "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" => {
            "check the AWS credentials strata uses (provider block, AWS_* variables or profile) and that they allow this action"
        }
        "InvalidDBInstanceState" => "the instance is busy (modifying, backing up, ...): wait until it is available and apply again",
        "DBSnapshotAlreadyExists" => "a snapshot with the final snapshot's name exists: set final_snapshot_identifier to another name",
        "DependencyViolation" | "InvalidDBParameterGroupState" | "InvalidDBSubnetGroupStateFault" => {
            "something still uses this object: delete or move its dependants first"
        }
        "StorageQuotaExceeded" | "InstanceQuotaExceeded" | "DBParameterGroupQuotaExceeded" | "RulesPerSecurityGroupLimitExceeded" => {
            "an account quota is reached: raise it in Service Quotas or remove unused objects"
        }
        "InvalidVPCNetworkStateFault" | "DBSubnetGroupDoesNotCoverEnoughAZs" => {
            "the subnet group's subnets must cover at least two availability zones of the instance's VPC"
        }
        "InvalidPermission.Duplicate" => "the rule already exists on the group (perhaps added by hand): remove it there or from the configuration",
        // The SDK retried these with backoff (see `config`) before they reached here.
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException" => {
            "AWS was still throttling the call after strata's retries: apply again in a minute (what is done is recorded), or raise max_retries / retry_backoff_ms in the provider \"aws\" block"
        }
        "InternalFailure" | "InternalError" | "ServiceUnavailable" | "Unavailable" => {
            "AWS kept failing on its side after strata's retries: this is usually transient, so apply again (what is done is recorded); check the AWS Health Dashboard if it persists"
        }
        _ => return None,
    })
}

/// An error with every occurrence of `secret` masked, for messages that might echo a request.
pub fn redact(mut error: ProviderError, secret: Option<&str>) -> ProviderError {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        error.message = error.message.replace(secret, "(sensitive value)");
        error.hint = error.hint.map(|h| h.replace(secret, "(sensitive value)"));
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_message_and_hint() {
        let error = ProviderError::new("bad pw hunter2").with_hint("hunter2!");
        let error = redact(error, Some("hunter2"));
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn an_answer_without_an_aws_error_says_so() {
        let error = unnamed("backup:UpdateBackupPlan", Some(500));
        assert_eq!(error.message, "backup:UpdateBackupPlan failed: the endpoint answered HTTP 500 with no AWS error code or message");
        assert!(error.hint.is_some_and(|h| h.contains("does not implement this call")));
    }

    #[test]
    fn common_codes_have_hints() {
        assert!(hint_for_code("DBInstanceAlreadyExists").is_some());
        assert!(hint_for_code("AccessDenied").is_some());
        assert!(hint_for_code("Throttling").is_some_and(|h| h.contains("max_retries")));
        assert!(hint_for_code("InternalFailure").is_some());
        assert!(hint_for_code("Whatever").is_none());
    }
}
