//! Optimistic concurrency: every read of a mutable resource carries a strong `ETag` derived from its version,
//! and updates must send it back in `If-Match` (428 without it, 412 when it is stale), so two people editing
//! the same thing never overwrite each other silently.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};

use super::Problem;

pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes make a valid header value")
}

/// The `If-Match` header of a request, if it sent one.
#[derive(Debug, Clone)]
pub struct IfMatch(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self(parts.headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

impl IfMatch {
    /// The version the client last saw: 428 when it sent none, 412 when it sent something else than a version.
    pub fn version(&self) -> Result<i64, Problem> {
        let Some(value) = &self.0 else {
            return Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match is required",
                "Send the ETag you last read in an If-Match header, so a change made since then is not overwritten.",
            ));
        };
        value.trim().trim_matches('"').parse().map_err(|_| stale())
    }
}

/// 412: the resource has changed since the client read it.
pub fn stale() -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "stale",
        "Changed since you read it",
        "Someone else has changed this since you read it. Read it again, reapply your change and send the new ETag.",
    )
}
