//! Retrying operations that need an `Idempotency-Key` safely: one key per logical operation, reused on
//! every retry, so a request whose answer was lost (a dropped connection, a timeout, a server restart) is
//! retried without ever doing the work twice. The server replays the original answer to a retry.

use std::future::Future;
use std::time::Duration;

use crate::{Error, ResponseValue, types};

/// How often to try before giving up.
pub const ATTEMPTS: u32 = 6;

/// A fresh key for one logical operation.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs `attempt` with one fresh key, retrying with the same key (with growing pauses) when the outcome is
/// unknown or worth waiting out: no response at all, a 5xx, a 429, or a 409 saying the original request is
/// still running. Any other answer is final.
///
/// ```no_run
/// # async fn example(client: &provider_api_sdk::Client, organisation: uuid::Uuid, body: provider_api_sdk::types::NotificationSubmission) {
/// let submitted = provider_api_sdk::idempotent::with_key(|key| {
///     client.submit_new_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
/// })
/// .await;
/// # }
/// ```
pub async fn with_key<T, F, Fut>(attempt: F) -> Result<ResponseValue<T>, Error<types::Problem>>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, Error<types::Problem>>>,
{
    with_this_key(new_key(), attempt).await
}

/// As [`with_key`], with a key chosen before: a web form's, so that pressing its button twice (two requests
/// with one key, the second arriving while the first runs) waits for the first's answer instead of failing.
pub async fn with_this_key<T, F, Fut>(key: String, mut attempt: F) -> Result<ResponseValue<T>, Error<types::Problem>>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, Error<types::Problem>>>,
{
    let mut pause = Duration::from_millis(100);
    let mut tries = 1;
    loop {
        match attempt(key.clone()).await {
            Err(error) if tries < ATTEMPTS && worth_retrying(&error) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}

fn worth_retrying(error: &Error<types::Problem>) -> bool {
    match error {
        Error::CommunicationError(_) | Error::ResponseBodyError(_) => true,
        Error::ErrorResponse(problem) => {
            let status = problem.status().as_u16();
            status >= 500 || status == 429 || (status == 409 && problem.code == "idempotency_key_in_flight")
        }
        Error::UnexpectedResponse(response) => response.status().is_server_error(),
        _ => false,
    }
}
