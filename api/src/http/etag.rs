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
    /// The version the client last saw: 428 when it sent none (or something that is no ETag), 412 when it sent
    /// an ETag other than a version.
    pub fn version(&self) -> Result<i64, Problem> {
        let Some(value) = &self.0 else {
            return Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match is required",
                "Send the ETag you last read in an If-Match header, so a change made since then is not overwritten.",
            ));
        };
        let value = value.trim();
        if value == "*" {
            // RFC 9110 lets `*` match any current version, which would let a change overwrite whatever is
            // there now: exactly what requiring If-Match here prevents.
            return Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match is required",
                "`If-Match: *` matches any version, so it cannot protect your change: send the ETag you last read.",
            ));
        }
        if value.starts_with("W/") {
            let mut problem = stale();
            problem.detail =
                "A weak ETag never matches here: send the strong ETag exactly as you read it, e.g. \"3\".".to_owned();
            return Err(problem);
        }
        if !(value.len() >= 2 && value.starts_with('"') && value.ends_with('"')) {
            // Not an entity tag at all (empty, or unquoted): a precondition missing rather than one that failed.
            return Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match is required",
                "This If-Match is not an ETag: send the ETag you last read exactly as it came, quotes included, \
e.g. \"3\".",
            ));
        }
        value.trim_matches('"').parse().map_err(|_| stale())
    }
}

/// What the published document says of every `If-Match` header: its form, and what is refused.
pub const IF_MATCH_PATTERN: &str = r#"^"[0-9]+"$"#;

/// 412: the resource has changed since the client read it.
pub fn stale() -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "stale",
        "Changed since you read it",
        "Someone else has changed this since you read it. Read it again, reapply your change and send the new ETag.",
    )
}
