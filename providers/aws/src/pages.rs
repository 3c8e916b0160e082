//! Reading every page of a Describe call into a map keyed by the objects' lower-cased names or
//! ids (RDS lower-cases names; EC2 ids are lower-case already), so lookups ignore case.
//!
//! A macro because each SDK's paginators and item types are distinct types with the same shape;
//! then reading each state's object out of such a map.

use std::collections::BTreeMap;
use std::future::Future;

use futures::stream::{self, StreamExt, TryStreamExt};

use strata_provider_sdk::{ProviderError, Value};

/// `collect_by_name!(paginator, "rds:DescribeX", items_method, name_method)` in an async fn
/// returning `Result<_, ProviderError>`: the items of every page, by lower-cased name.
macro_rules! collect_by_name {
    ($paginator:expr, $operation:literal, $items:ident, $name:ident) => {{
        let mut found = std::collections::BTreeMap::new();
        let mut pages = $paginator;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| crate::errors::api($operation, e))?;
            for item in page.$items() {
                if let Some(name) = item.$name() {
                    found.insert(name.to_lowercase(), item.clone());
                }
            }
        }
        found
    }};
}

pub(crate) use collect_by_name;

/// How many per-object reads (parameters, tags) run at once: enough to hide each call's latency,
/// few enough to stay well inside the RDS API's request rate.
const CONCURRENT_READS: usize = 8;

/// For each state, the live object its `name` attribute names (ignoring case), as `read` turns it
/// into a value; `None` where there is none. Reads run concurrently, answers keep `states`' order.
pub async fn read_each<G, F, Fut>(
    states: &[&Value],
    live: &BTreeMap<String, G>,
    read: F,
) -> Result<Vec<Option<Value>>, ProviderError>
where
    G: Clone,
    F: Fn(G, Value) -> Fut,
    Fut: Future<Output = Result<Value, ProviderError>>,
{
    let by_name = |state: &Value| state.get_str("name").map(str::to_lowercase);
    read_each_by(states, live, by_name, read).await
}

/// `read_each` for objects keyed by what `key` makes of a state (an exact name, an id).
pub async fn read_each_by<G, F, Fut>(
    states: &[&Value],
    live: &BTreeMap<String, G>,
    key: fn(&Value) -> Option<String>,
    read: F,
) -> Result<Vec<Option<Value>>, ProviderError>
where
    G: Clone,
    F: Fn(G, Value) -> Fut,
    Fut: Future<Output = Result<Value, ProviderError>>,
{
    // Collected first: a lazy iterator inside the stream would make the future not provably Send.
    let reads: Vec<_> = states
        .iter()
        .map(|state| {
            let found = key(state).and_then(|key| live.get(&key)).cloned();
            let read = &read;
            async move {
                match found {
                    Some(item) => read(item, (*state).clone()).await.map(Some),
                    None => Ok(None),
                }
            }
        })
        .collect();
    stream::iter(reads)
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await
}

/// The object just applied, read back through `read`.
pub async fn read_back<G, F, Fut>(
    desired: &Value,
    live: &BTreeMap<String, G>,
    read: F,
) -> Result<Value, ProviderError>
where
    G: Clone,
    F: Fn(G, Value) -> Fut,
    Fut: Future<Output = Result<Value, ProviderError>>,
{
    let found = read_each(&[desired], live, read).await?.pop().flatten();
    found.ok_or_else(|| {
        ProviderError::new(format!(
            "{} could not be read back after apply",
            desired.get_str("name").unwrap_or_default()
        ))
    })
}
