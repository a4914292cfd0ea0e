//! `Idempotency-Key` (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a retried request with the
//! same key and the same body gets the original response; the same key with another body is refused (422);
//! a retry while the original is still running is refused (409) and may try again shortly.
//!
//! Keys are scoped to the caller (a person or an API client), kept at least 7 days, and a response is stored
//! in the same transaction as the change that produced it, so there is never a change without its response,
//! or a response without its change. Only successes are stored: after an error the key is released, so a
//! corrected retry with the same key runs afresh.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use provider_api_core::hex;
use provider_api_store::idempotency::{Begin, Completion, StoredResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::Problem;
use crate::auth::principal::{Principal, Subject};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response, so a client can tell it was not processed again.
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY_LENGTH: usize = 255;
/// How long a key is remembered: the draft asks for at least a day; the regulator promises a week.
pub const KEPT_FOR: time::Duration = time::Duration::days(7);

/// The `Idempotency-Key` of a request: required where it is extracted (400 without it).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let invalid = |detail: &str| {
            Problem::new(StatusCode::BAD_REQUEST, "idempotency_key_required", "Idempotency-Key is required", detail)
        };
        let Some(value) = parts.headers.get(HEADER) else {
            return Err(invalid(
                "Send an Idempotency-Key header (a UUID, say) and reuse it when retrying, so a retry never does \
                 the work twice.",
            ));
        };
        // The draft makes the key a Structured Fields string; bare tokens are accepted too.
        let key = value.to_str().ok().map(|v| v.trim().trim_matches('"')).unwrap_or_default();
        let printable = key.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if key.is_empty() || key.len() > MAX_KEY_LENGTH || !printable {
            return Err(invalid("The Idempotency-Key must be 1 to 255 printable ASCII characters."));
        }
        Ok(Self(key.to_owned()))
    }
}

/// Documents the `Idempotency-Key` request header (the [`IdempotencyKey`] extractor reads it).
#[derive(Debug, IntoParams)]
#[allow(dead_code)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// A unique key for this operation (a UUID, say): reuse it when retrying, so the work is done once. 1 to 255
    /// printable ASCII characters other than `"` and `\`, bare or as a Structured Fields string (in quotes).
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 257,
        pattern = r#"^([!#-\[\]-~]{1,255}|"[!#-\[\]-~]{1,255}")$"#
    )]
    pub idempotency_key: String,
}

/// A key this request holds.
#[derive(Debug)]
pub struct Claim {
    scope: String,
    key: String,
    clock: std::sync::Arc<dyn provider_api_core::clock::Clock>,
}

/// Either the request should run, holding its key, or it was answered already.
pub enum Claimed {
    Fresh(Claim),
    Replay(Response),
}

impl Claim {
    /// Claims `key` for `scope` (the caller) and this operation and body, or answers from what is stored.
    pub async fn begin(
        state: &AppState,
        principal: &Principal,
        key: IdempotencyKey,
        operation: &str,
        body: &[u8],
    ) -> Result<Claimed, Problem> {
        let scope = scope_of(principal);
        let fingerprint = fingerprint(operation, body);
        let now = state.clock.now();
        let lock_until = now + state.request_timeout + time::Duration::seconds(5);
        let begin = state.store.begin_idempotent(&scope, &key.0, &fingerprint, now, lock_until).await?;
        match begin {
            Begin::Started => Ok(Claimed::Fresh(Self { scope, key: key.0, clock: state.clock.clone() })),
            Begin::InFlight { fingerprint: theirs } if theirs != fingerprint => Err(reused()),
            Begin::InFlight { .. } => Err(Problem::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                "The original request is still running",
                "A request with this Idempotency-Key is still being processed; retry in a moment with the same key.",
            )
            .with_header(axum::http::header::RETRY_AFTER, HeaderValue::from_static("1"))),
            Begin::Completed(stored) if stored.fingerprint != fingerprint => Err(reused()),
            Begin::Completed(stored) => Ok(Claimed::Replay(replay(stored))),
        }
    }

    /// The response to send and to store (in the transaction that makes the change).
    pub fn respond<T: Serialize>(&self, status: StatusCode, headers: HeaderMap, body: &T) -> (Completion, Response) {
        let text = serde_json::to_string(body).expect("a response body serialises");
        let pairs: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let completion = Completion {
            scope: self.scope.clone(),
            key: self.key.clone(),
            status: i64::from(status.as_u16()),
            headers: serde_json::to_string(&pairs).expect("header pairs serialise"),
            body: text,
            at: self.clock.now(),
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().extend(headers);
        (completion, response)
    }

    /// Passes `outcome` on, giving the key up when it is a failure.
    pub async fn settle(&self, state: &AppState, outcome: Result<Response, Problem>) -> Result<Response, Problem> {
        if outcome.is_err() {
            self.release(state).await;
        }
        outcome
    }

    /// Gives the key up after a failure, so a corrected retry with it runs afresh.
    async fn release(&self, state: &AppState) {
        if let Err(error) = state.store.release_idempotent(&self.scope, &self.key).await {
            // The lock expires by itself; until then a retry is told to wait.
            tracing::warn!(%error, "could not release an idempotency key");
        }
    }
}

/// Whose key it is: a person or an API client, so two callers' keys never collide.
fn scope_of(principal: &Principal) -> String {
    match &principal.subject {
        Subject::User(user) => format!("user:{}", user.id),
        Subject::Client(client) => format!("client:{}", client.id),
    }
}

fn reused() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "Idempotency-Key already used for another request",
        "This Idempotency-Key was used with a different request body or operation; use a new key for a new request.",
    )
}

fn replay(stored: StoredResponse) -> Response {
    let status = u16::try_from(stored.status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut response = (status, [(axum::http::header::CONTENT_TYPE, "application/json")], stored.body).into_response();
    let pairs: Vec<(String, String)> = serde_json::from_str(&stored.headers).unwrap_or_default();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(HeaderName::from_static(REPLAYED), HeaderValue::from_static("true"));
    response
}

/// What makes two requests "the same": the operation and the exact body bytes.
pub fn fingerprint(operation: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(operation.as_bytes());
    hash.update([0]);
    hash.update(body);
    hex(&hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_tells_operations_and_bodies_apart() {
        assert_eq!(fingerprint("POST /a", b"{}"), fingerprint("POST /a", b"{}"));
        assert_ne!(fingerprint("POST /a", b"{}"), fingerprint("POST /b", b"{}"));
        assert_ne!(fingerprint("POST /a", b"{}"), fingerprint("POST /a", b"{ }"));
    }
}
