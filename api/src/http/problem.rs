//! RFC 9457 problem details: the one error shape every non-2xx response uses.
//!
//! Handlers and extractors return [`Problem`]. Its `IntoResponse` renders a complete body and also leaves the
//! `Problem` in the response extensions, so the outermost middleware ([`super::middleware::finish_problems`])
//! can add what only it knows (the request path and id) and turn bare error responses from lower layers
//! (405, 413, timeouts) into problems too.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provider_api_core::field_error::FieldError;
use provider_api_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Problem types are tag URIs (RFC 4151): stable identifiers that are not meant to be dereferenced.
/// The machine-readable `code` is the same string in snake case; `docs/api-conventions.md` lists them by status.
const PROBLEM_TYPE_PREFIX: &str = "tag:provider-api.cqc.org.uk,2026:problem:";

/// An error response. Boxed, so that `Result<_, Problem>` stays small on the success path; it dereferences
/// to its [`ProblemDetails`].
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemDetails>);

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

/// An error, as RFC 9457 problem details (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
#[schema(example = json!({
    "type": "tag:provider-api.cqc.org.uk,2026:problem:validation_failed",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "2 fields are invalid; see `errors`.",
    "instance": "/v1/identifiers/validate",
    "code": "validation_failed",
    "request_id": "0193a4d2-7c1e-7b55-9d0e-2f6c8a1b3e4f",
    "errors": [
        {"pointer": "/nhs_number", "code": "nhs_number_check_digit", "detail": "The check digit does not match: this is not a valid NHS number."},
        {"pointer": "/postcode", "code": "postcode_format", "detail": "This is not a UK postcode, for example SW1A 1AA."}
    ]
}))]
pub struct ProblemDetails {
    /// A URI identifying the kind of problem; the same for every occurrence of this `code`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem, the same for every occurrence of this `code`.
    pub title: Cow<'static, str>,
    /// The HTTP status code of this response.
    #[schema(minimum = 400, maximum = 599, example = 422)]
    pub status: u16,
    /// What went wrong in this occurrence, in words a person can act on.
    pub detail: String,
    /// The request path this problem occurred on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub instance: Option<String>,
    /// A stable machine-readable code; clients branch on this, never on `title` or `detail`.
    #[schema(example = "validation_failed")]
    pub code: Cow<'static, str>,
    /// The `X-Request-Id` of the request: quote it when contacting the regulator about this error.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// For validation failures: every invalid field at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For 403: the permission that was missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "notifications:submit")]
    pub permission: Option<String>,
    /// For 409 `invalid_transition`: the state the object is in now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "submitted")]
    pub current_status: Option<String>,
    /// OAuth 2.0 endpoints only: the RFC 6749 error code (the same as `code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "invalid_client")]
    pub error: Option<String>,
    /// OAuth 2.0 endpoints only: RFC 6749's description (the same as `detail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error_description: Option<String>,
    /// Headers that belong to this problem (`Allow`, `Retry-After`); not part of the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// The cause for the log, never for the client (a database error behind a 500, say).
    #[serde(skip)]
    #[schema(ignore)]
    pub internal: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDetails {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: Cow::Borrowed(title),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            code: Cow::Borrowed(code),
            request_id: None,
            errors: Vec::new(),
            permission: None,
            current_status: None,
            error: None,
            error_description: None,
            headers: Vec::new(),
            internal: None,
        }))
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// 422 with every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 if errors[0].pointer.is_empty() => format!("The request is invalid: {}", errors[0].detail),
            1 => format!("The field `{}` is invalid: {}", errors[0].pointer.trim_start_matches('/'), errors[0].detail),
            n => format!("{n} fields are invalid; see `errors`."),
        };
        let mut problem =
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request has invalid fields", detail);
        problem.errors = errors;
        problem
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_json", "The request body is not valid JSON", detail)
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body has the wrong content type",
            format!("Send the body as `{expected}` and say so in the `Content-Type` header."),
        )
    }

    pub fn payload_too_large(limit: Option<usize>) -> Self {
        let detail = match limit {
            Some(limit) => format!("The request body is larger than the {limit}-byte limit."),
            None => "The request body is larger than this server accepts.".to_owned(),
        };
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large", detail)
    }

    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request was not received in time",
            "The request body arrived too slowly; send it again.",
        )
    }

    /// 409: the object's state does not allow this; `current_status` names the state it is in.
    pub fn in_state(code: &'static str, title: &'static str, current_status: &str, detail: impl Into<String>) -> Self {
        let mut problem = Self::new(StatusCode::CONFLICT, code, title, detail);
        problem.current_status = Some(current_status.to_owned());
        problem
    }

    /// 409 `invalid_transition`: not a step the object's lifecycle allows from `current_status`.
    pub fn invalid_transition(current_status: &str, detail: impl Into<String>) -> Self {
        Self::in_state("invalid_transition", "Not possible in this state", current_status, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
            "Something went wrong on our side. It has been logged; quote the request id if you contact us.",
        )
    }

    /// A 500 that reveals nothing, with its `cause` kept for the log.
    pub fn internal_because(cause: impl std::fmt::Display) -> Self {
        let mut problem = Self::internal();
        problem.internal = Some(cause.to_string());
        problem
    }

    pub fn service_unavailable(detail: impl Into<String>, retry_after_seconds: u32) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "Service unavailable", detail)
            .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds))
    }

    /// The problem for an error response that a lower layer produced without a body of ours,
    /// keyed by its status alone.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found("There is nothing at this address."),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                "method_not_allowed",
                "Method not allowed",
                "This address does not support this HTTP method; the `Allow` header lists those it does.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(None),
            StatusCode::REQUEST_TIMEOUT => Self::request_timeout(),
            StatusCode::SERVICE_UNAVAILABLE => {
                Self::service_unavailable("The server could not answer in time; try again shortly.", 5)
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type("application/json"),
            s if s.is_server_error() => Self::internal(),
            s => Self::new(s, "http_error", "Request failed", s.canonical_reason().unwrap_or("Request failed")),
        }
    }

    pub(crate) fn render(&self) -> Response {
        let body = serde_json::to_vec(&*self.0).expect("a problem always serialises");
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        let mut problem = match &error {
            StoreError::Unavailable(_) => {
                Self::service_unavailable("The database is unavailable; try again shortly.", 5)
            }
            StoreError::Conflict { .. } => Self::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                "This would duplicate something that already exists.",
            ),
            StoreError::Migration(_)
            | StoreError::Database(_)
            | StoreError::UnknownEngine
            | StoreError::Corrupt { .. } => Self::internal(),
        };
        problem.internal = Some(error.to_string());
        problem
    }
}

/// A decision whose application's sections no longer read: a bug, logged (the cause) and answered 500.
impl From<provider_api_core::registrations::grant::UnreadableSections> for Problem {
    fn from(error: provider_api_core::registrations::grant::UnreadableSections) -> Self {
        Self::internal_because(error)
    }
}

/// Refused by the four-eyes rule: 403, since it is about who is asking.
impl From<provider_api_core::workflow::FourEyes> for Problem {
    fn from(refused: provider_api_core::workflow::FourEyes) -> Self {
        Self::new(StatusCode::FORBIDDEN, "four_eyes", "A second person must review", refused.detail)
    }
}

impl From<provider_api_core::notifications::workflow::SubmitError> for Problem {
    fn from(refused: provider_api_core::notifications::workflow::SubmitError) -> Self {
        use provider_api_core::notifications::workflow::SubmitError;
        match refused {
            SubmitError::Transition(refused) => refused.into(),
            SubmitError::FourEyes(refused) => refused.into(),
            unreadable @ SubmitError::Unreadable(_) => Self::internal_because(unreadable),
        }
    }
}

impl From<provider_api_core::notifications::workflow::ReviewRequestError> for Problem {
    fn from(refused: provider_api_core::notifications::workflow::ReviewRequestError) -> Self {
        use provider_api_core::notifications::workflow::ReviewRequestError;
        match refused {
            ReviewRequestError::Transition(refused) => refused.into(),
            ReviewRequestError::AlreadyApproved => {
                Self::new(StatusCode::CONFLICT, "already_approved", "Approved already", refused.to_string())
            }
            ReviewRequestError::AlreadyAsked => Self::new(
                StatusCode::CONFLICT,
                "review_already_requested",
                "Review asked for already",
                refused.to_string(),
            ),
        }
    }
}

impl From<provider_api_core::registrations::workflow::SubmitError> for Problem {
    fn from(refused: provider_api_core::registrations::workflow::SubmitError) -> Self {
        use provider_api_core::registrations::workflow::SubmitError;
        match refused {
            SubmitError::Transition(refused) => refused.into(),
            SubmitError::FourEyes(refused) => refused.into(),
        }
    }
}

impl From<provider_api_core::registrations::decisions::DecisionError> for Problem {
    fn from(refused: provider_api_core::registrations::decisions::DecisionError) -> Self {
        use provider_api_core::registrations::decisions::DecisionError;
        let conflict = |code, title, detail: String| Self::new(StatusCode::CONFLICT, code, title, detail);
        match refused {
            DecisionError::Transition(refused) => refused.into(),
            DecisionError::ProposalRequired => conflict(
                "proposal_required",
                "A notice of proposal comes first",
                "Refusing, or granting with conditions, needs a notice of proposal first (POST …/proposal).".into(),
            ),
            DecisionError::RepresentationsWindowOpen { due } => conflict(
                "representations_window_open",
                "The window for representations is open",
                format!("The applicant may make representations until {due}; decide once they have, or after then."),
            ),
            DecisionError::ConditionsNotProposed => conflict(
                "not_proposed",
                "Those conditions were not proposed",
                "Conditions can be imposed only as proposed (some may be dropped); propose new ones in a new notice."
                    .into(),
            ),
            DecisionError::RefusalNotProposed => conflict(
                "not_proposed",
                "Refusal was not proposed",
                "A refusal must follow a notice of proposal to refuse.".into(),
            ),
            DecisionError::ServedBeforeProposal => Self::validation(vec![FieldError::new(
                "/served_on",
                "before_proposal",
                "A notice of decision cannot be served before the notice of proposal it follows.",
            )]),
        }
    }
}

impl From<provider_api_core::transition::TransitionError> for Problem {
    fn from(refused: provider_api_core::transition::TransitionError) -> Self {
        Self::invalid_transition(refused.current, refused.detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = self.render();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_names_a_single_field_in_its_detail() {
        let problem = Problem::validation(vec![FieldError::new("/postcode", "postcode_format", "Not a postcode.")]);
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "validation_failed");
        assert!(problem.detail.contains("postcode"), "{}", problem.detail);
    }

    #[test]
    fn rendered_problem_has_problem_json_content_type_and_extra_headers() {
        let response = Problem::service_unavailable("down", 7).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert!(response.extensions().get::<Problem>().is_some());
    }
}
