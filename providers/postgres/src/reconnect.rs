//! Riding out a dropped connection during apply: reconnect with backoff and carry on from what the
//! catalog shows; and a deadlock, retried once the same way.
//!
//! Owns which apply failures count as a lost connection (the attempt's connection no longer
//! answers, or the server could not be reached) or a deadlock (SQLSTATE 40P01: the server
//! cancelled this change to break a cycle with another session) and the retry schedule. Retrying is safe because
//! every retry starts by re-reading the live object: a DDL transaction the server never committed was rolled back, so
//! the change is planned again against the live object; one whose COMMIT was cut in flight either
//! committed (the object is live as planned: nothing left to run) or did not (run again). A change
//! must not be re-run blind. Reading the catalog (refresh, import) changes nothing, so it is simply
//! read again over a new session. It must not plan SQL itself (`diff`) or touch the state.

use std::time::Duration;

use strata_provider_sdk::{Action, ApplyFailure, ApplyRequest, ProviderError, Value};
use tokio_postgres::Client;

use crate::catalog::Snapshot;
use crate::{find_live, Failed, PostgresProvider};

/// The waits between attempts: about 8 seconds of outage are ridden out.
const BACKOFF: [Duration; 5] =
    [Duration::from_millis(250), Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)];

/// How long a connection that may have dropped gets to answer a probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How one attempt ended, when it did not succeed.
enum Attempt {
    /// The connection dropped (or could not be opened): worth another try.
    Lost(ApplyFailure),
    /// The server cancelled the change to break a deadlock: worth one more try.
    Deadlocked(ApplyFailure),
    /// Anything else: retrying would fail the same way.
    Failed(ApplyFailure),
}

/// Applies `request`, reconnecting and retrying while the connection drops; a drop that outlasts
/// the retries fails this resource only, with what was last seen.
pub async fn apply(provider: &PostgresProvider, request: &ApplyRequest) -> Result<Value, ApplyFailure> {
    let mut waits = BACKOFF.iter();
    let mut recheck = false;
    let mut deadlocked_before = false;
    loop {
        let lost = match attempt(provider, request, recheck).await {
            Ok(value) => return Ok(value),
            Err(Attempt::Failed(failure)) => return Err(failure),
            Err(Attempt::Deadlocked(failure)) if deadlocked_before => return Err(deadlocked_twice(failure)),
            Err(Attempt::Deadlocked(_)) => {
                deadlocked_before = true;
                recheck = true;
                continue;
            }
            Err(Attempt::Lost(failure)) => failure,
        };
        let Some(wait) = waits.next() else { return Err(outlasted(request, lost)) };
        tokio::time::sleep(*wait).await;
        recheck = true;
    }
}

/// A catalog snapshot over the shared session, reconnecting with backoff while the connection
/// drops.
pub async fn snapshot(provider: &PostgresProvider, wanted: &crate::objects::Wanted) -> Result<Snapshot, ProviderError> {
    let mut waits = BACKOFF.iter();
    loop {
        let lost = match provider.session().await {
            // Reconnecting after a drop: the server may still be out of reach.
            Err(error) => error,
            Ok(mut session) => {
                let client = session.as_ref().ok_or_else(crate::no_connection)?;
                match Snapshot::read_wanted(&provider.catalog(client), wanted).await {
                    Ok(snapshot) => return Ok(snapshot),
                    Err(error) if answers(client).await => return Err(error),
                    Err(error) => {
                        // A dropped connection can look open for a moment: replace it now.
                        *session = None;
                        error
                    }
                }
            }
        };
        let Some(wait) = waits.next() else { return Err(lost) };
        tokio::time::sleep(*wait).await;
    }
}

/// One connection's try: after a drop (`recheck`), on a new connection and first from the live
/// object; otherwise on an idle connection an earlier change committed on, when there is one.
async fn attempt(provider: &PostgresProvider, request: &ApplyRequest, recheck: bool) -> Result<Value, Attempt> {
    let settings = provider.settings().map_err(|e| Attempt::Failed(e.into()))?;
    let _slot = provider.apply_slot().await;
    let client = match provider.reuse_connection().filter(|_| !recheck) {
        Some(client) => client,
        None => settings.connect_telling_refusals().await.map_err(|(error, refused)| match refused {
            true => Attempt::Failed(error.into()),
            false => Attempt::Lost(error.into()),
        })?,
    };
    let request = if recheck {
        match from_live(provider, &client, request).await {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(Value::Null),
            Err(error) => return Err(classify(&client, error.into()).await),
        }
    } else {
        request.clone()
    };
    match provider.apply_over(&client, &request).await {
        Ok(value) => {
            provider.keep_connection(client);
            Ok(value)
        }
        Err(failed) if failed.deadlocked() => Err(Attempt::Deadlocked(failed.failure)),
        Err(Failed { failure, .. }) => Err(classify(&client, failure).await),
    }
}

/// `request` re-based on the live object: a create whose object exists (its COMMIT went through)
/// becomes an update of it, which plans no SQL when it is as planned. `None` for a delete whose
/// object is already gone.
async fn from_live(provider: &PostgresProvider, client: &Client, request: &ApplyRequest) -> Result<Option<ApplyRequest>, ProviderError> {
    let named = request.prior.iter().chain([&request.planned]).map(|value| (request.type_name.as_str(), value));
    let snapshot = Snapshot::read_wanted(&provider.catalog(client), &crate::objects::wanted(named)).await?;
    if request.action == Action::Delete {
        let prior = request.prior.as_ref().ok_or_else(|| ProviderError::new("nothing to delete"))?;
        return Ok(find_live(&snapshot, &request.type_name, prior)?.map(|_| request.clone()));
    }
    let live = find_live(&snapshot, &request.type_name, &request.planned.unknowns_to_null())?;
    if let (Action::Create, Some(live), Some(authorship)) = (request.action, &live, &request.authorship) {
        // Only an earlier attempt's own object carries one of its marks; anything else of that name is not ours.
        if !crate::authorship::written_by(client, &request.type_name, live, &authorship.marks()).await? {
            return Err(not_made_by_this_create(request));
        }
    }
    let action = if live.is_some() { Action::Update } else { Action::Create };
    Ok(Some(ApplyRequest { action, prior: live, ..request.clone() }))
}

fn not_made_by_this_create(request: &ApplyRequest) -> ProviderError {
    let id = crate::import::adoption_id(&request.type_name, &request.planned).unwrap_or_default();
    ProviderError::new(format!("the {} {id} exists, but this create did not make it (it appeared while the connection was down)", request.type_name))
        .with_hint(strata_provider_sdk::error::not_managed_hint(&id))
}

/// A failure is the drop's doing when the connection no longer answers.
async fn classify(client: &Client, failure: ApplyFailure) -> Attempt {
    if answers(client).await {
        Attempt::Failed(failure)
    } else {
        Attempt::Lost(failure)
    }
}

/// Whether the server still answers on `client`: any answer counts, even an error (in an aborted
/// transaction, say).
async fn answers(client: &Client) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, client.simple_query("SELECT 1")).await {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => error.as_db_error().is_some(),
        Err(_) => false,
    }
}

fn deadlocked_twice(mut failure: ApplyFailure) -> ApplyFailure {
    failure.error.hint = Some(
        "it deadlocked again when retried: another session takes locks on the same tables in another order; nothing of this change was kept, apply again once that session is done".into(),
    );
    failure
}

fn outlasted(request: &ApplyRequest, lost: ApplyFailure) -> ApplyFailure {
    let total: Duration = BACKOFF.iter().sum();
    let error = ProviderError::new(format!(
        "the connection to PostgreSQL kept dropping: {} attempts over {}s failed; the last: {}",
        BACKOFF.len() + 1,
        total.as_secs(),
        lost.error.message
    ))
    .with_hint(format!(
        "only this {} was affected and it was re-checked against the catalog before each retry, so nothing ran twice; check the server and the network, then apply again: the plan shows what remains",
        request.type_name
    ));
    // A create's COMMIT may have gone through unseen: its intent stays for the next run to check.
    ApplyFailure { error, partial: lost.partial, in_doubt: request.action == Action::Create }
}
