//! Extractors whose rejections are problem details, so bad input never reaches a handler or a query.

use std::error::Error as _;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use provider_api_core::field_error::{FieldError, pointer_token};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::problem::Problem;
use super::shape::ShapeErrorKind;

/// A JSON request body that has been parsed into `T` and has passed `T`'s field rules.
///
/// Rejections, in the order they are checked:
/// - 415 `unsupported_media_type` unless `Content-Type` is `application/json` (or another `+json` type);
/// - 413 `payload_too_large` past the configured body limit, 408 `request_timeout` for a stalled body;
/// - 400 `malformed_json` for bytes that are not JSON, or JSON nested deeper than 128 levels (with line and
///   column);
/// - 422 `validation_failed` for JSON of the wrong shape (missing, unknown or mistyped fields: serde stops at
///   the first), for a key given twice in any object (`duplicate_field`, free-form ones too) or a NUL character
///   in any string (`nul_character`), and then for every field rule that fails (all of them at once), each
///   with a JSON Pointer; last, for anything the published schema refuses that the typed parse let through
///   (a `null` where the field may only be left out: see `http/conformance.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidatedJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidatedJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate + utoipa::ToSchema,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_validated(request, state).await.map(|(value, _)| Self(value))
    }
}

/// As [`ValidatedJson`], keeping the body's bytes as sent too (an idempotency key's fingerprint is taken
/// over them).
#[derive(Debug, Clone)]
pub struct ValidatedJsonBytes<T>(pub T, pub Bytes);

impl<S, T> FromRequest<S> for ValidatedJsonBytes<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate + utoipa::ToSchema,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_validated(request, state).await.map(|(value, bytes)| Self(value, bytes))
    }
}

async fn read_validated<S, T>(request: Request, state: &S) -> Result<(T, Bytes), Problem>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate + utoipa::ToSchema,
{
    if !has_json_content_type(&request) {
        return Err(Problem::unsupported_media_type("application/json"));
    }
    let body = Bytes::from_request(request, state).await.map_err(body_problem)?;
    let value: T = deserialize(&body)?;
    value.validate().map_err(|errors| Problem::validation(field_errors(&errors)))?;
    super::conformance::check::<T>(&body)?;
    Ok((value, body))
}

/// Path parameters parsed into `T` before any query runs. A malformed id is 404: nothing can be there.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|_| Problem::not_found("There is nothing at this address."))
    }
}

/// Query parameters parsed into `T`; unreadable or unknown parameters are 400 `invalid_query`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(Query).map_err(|error| {
            let parameter = error.path().to_string();
            let message = error.into_inner().to_string();
            let detail = if parameter == "." {
                format!("The query string is not acceptable: {message}.")
            } else {
                format!("The query parameter `{parameter}` is not acceptable: {message}.")
            };
            Problem::new(axum::http::StatusCode::BAD_REQUEST, "invalid_query", "The query string is invalid", detail)
        })
    }
}

fn has_json_content_type(request: &Request) -> bool {
    let Some(content_type) = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_problem(rejection: BytesRejection) -> Problem {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return Problem::payload_too_large(None);
    }
    let mut source = rejection.source();
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() || error.is::<tokio::time::error::Elapsed>() {
            return Problem::request_timeout();
        }
        // The body limit (http/middleware.rs) cuts off a streamed body past the limit.
        if error.is::<http_body_util::LengthLimitError>() {
            return Problem::payload_too_large(None);
        }
        source = error.source();
    }
    Problem::new(
        axum::http::StatusCode::BAD_REQUEST,
        "unreadable_body",
        "The request body could not be read",
        "The connection failed while the request body was being sent; send it again.",
    )
}

/// Parses JSON into `T`, telling malformed bytes (400) from well-formed JSON of the wrong shape (422). The
/// code of a shape error comes from its kind ([`super::shape`]), never from serde's wording.
pub fn deserialize<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let tree: serde_json::Value = serde_json::from_slice(body).map_err(|error| malformed(&error))?;
    if let Some(refusal) = refused_anywhere(body) {
        return Err(Problem::validation(vec![refusal]));
    }
    let error = match super::shape::from_tree(&tree) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let mut pointer = json_pointer(error.path());
    let error = error.into_inner();
    if let Some(field) = &error.field {
        pointer = format!("{pointer}/{}", pointer_token(field));
    }
    let code = error.kind.code();
    Err(Problem::validation(vec![FieldError::new(pointer, code, shape_error_detail(error.kind, &error.message))]))
}

/// What a typed parse lets through but the API refuses, wherever it is (free-form objects included): a key
/// given twice (serde_json would keep the last silently) and a NUL character (PostgreSQL text cannot hold one,
/// so SQLite would keep what PostgreSQL fails on). The body is already known to be well-formed JSON.
fn refused_anywhere(body: &[u8]) -> Option<FieldError> {
    let found = std::cell::RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let _ = serde::de::DeserializeSeed::deserialize(Scan { pointer: String::new(), found: &found }, &mut deserializer);
    found.into_inner()
}

/// Walks any JSON value, stopping at the first refusal, which it leaves in `found`.
struct Scan<'a> {
    pointer: String,
    found: &'a std::cell::RefCell<Option<FieldError>>,
}

impl Scan<'_> {
    fn refuse<E: serde::de::Error>(&self, pointer: String, code: &'static str, detail: &str) -> E {
        *self.found.borrow_mut() = Some(FieldError::new(pointer, code, detail));
        E::custom(code)
    }

    fn child(&self, token: &str) -> Self {
        Scan { pointer: format!("{}/{}", self.pointer, pointer_token(token)), found: self.found }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

const NUL_DETAIL: &str = "This text contains a NUL character (U+0000), which cannot be stored.";

impl<'de> serde::de::Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        if text.contains('\0') {
            return Err(self.refuse(self.pointer.clone(), "nul_character", NUL_DETAIL));
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while items.next_element_seed(self.child(&index.to_string()))?.is_some() {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = members.next_key::<std::borrow::Cow<'de, str>>()? {
            let child = self.child(&key);
            if key.contains('\0') {
                let detail = "A key in this object contains a NUL character (U+0000), which cannot be stored.";
                return Err(self.refuse(self.pointer.clone(), "nul_character", detail));
            }
            if !seen.insert(key) {
                return Err(self.refuse(child.pointer, "duplicate_field", "This field appears more than once."));
            }
            members.next_value_seed(child)?;
        }
        Ok(())
    }
}

fn malformed(error: &serde_json::Error) -> Problem {
    Problem::malformed_json(format!(
        "{} (line {}, column {}).",
        strip_position(&error.to_string()),
        error.line(),
        error.column()
    ))
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&pointer_token(key));
            }
            Segment::Unknown => pointer.push_str("/?"),
        }
    }
    pointer
}

/// serde_json appends " at line L column C"; problem details carry the position in their own words.
fn strip_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |at| &message[..at])
}

fn shape_error_detail(kind: ShapeErrorKind, message: &str) -> String {
    match kind {
        ShapeErrorKind::Required => "This field is required.".to_owned(),
        ShapeErrorKind::UnknownField => format!("This field is not part of the request ({message})."),
        ShapeErrorKind::DuplicateField => "This field appears more than once.".to_owned(),
        ShapeErrorKind::InvalidType | ShapeErrorKind::InvalidValue => {
            let mut letters = message.chars();
            letters.next().map_or_else(String::new, |first| format!("{}{}.", first.to_uppercase(), letters.as_str()))
        }
    }
}

/// Flattens `validator`'s nested errors into one list of JSON Pointers, in field order.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(name, _)| *name);
    for (field, kind) in fields {
        // Struct-level rules (`#[validate(schema(...))]`) report under `__all__`: they concern the whole object.
        let pointer = if field == "__all__" { prefix.to_owned() } else { format!("{prefix}/{}", pointer_token(field)) };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let detail = error.message.as_ref().map_or_else(|| error.code.to_string(), ToString::to_string);
                    out.push(FieldError::new(pointer.clone(), error.code.clone(), detail));
                }
            }
            ValidationErrorsKind::Struct(nested) => collect(nested, &pointer, out),
            ValidationErrorsKind::List(items) => {
                for (index, nested) in items {
                    collect(nested, &format!("{pointer}/{index}"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn rejected(body: &str) -> Problem {
        deserialize::<Outer>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn malformed_json_is_400_with_its_position() {
        let problem = rejected("{\"name\": ");
        assert_eq!((problem.status, problem.code.as_ref()), (400, "malformed_json"));
        assert!(problem.detail.contains("line 1"), "{}", problem.detail);
    }

    #[test]
    fn trailing_garbage_is_malformed() {
        assert_eq!(rejected(r#"{"name": "a", "items": []} x"#).code, "malformed_json");
    }

    #[test]
    fn a_mistyped_nested_field_points_at_itself() {
        let problem = rejected(r#"{"name": "a", "items": [{"count": 1}, {"count": "two"}]}"#);
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].pointer, "/items/1/count");
        assert_eq!(problem.errors[0].code, "invalid_type");
    }

    #[test]
    fn a_missing_field_points_at_the_missing_field() {
        let problem = rejected(r#"{"items": []}"#);
        assert_eq!(problem.errors[0].pointer, "/name");
        assert_eq!(problem.errors[0].code, "required");
    }

    #[test]
    fn an_unknown_field_is_refused_not_ignored() {
        let problem = rejected(r#"{"name": "a", "items": [], "colour": "red"}"#);
        assert_eq!(problem.errors[0].code, "unknown_field");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct FreeForm {
        content: serde_json::Map<String, serde_json::Value>,
    }

    fn free_form(body: &str) -> Result<FreeForm, Problem> {
        deserialize::<FreeForm>(body.as_bytes())
    }

    #[test]
    fn a_duplicate_key_in_a_free_form_object_is_refused_where_it_is() {
        let problem = free_form(r#"{"content": {"a": [{"b": 1, "b~/": 2, "b~/": 3}]}}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].code, "duplicate_field");
        assert_eq!(problem.errors[0].pointer, "/content/a/0/b~0~1");
        // The same key in different objects is fine, and escapes that spell the same key are the same key.
        assert!(free_form(r#"{"content": {"a": {"b": 1}, "c": {"b": 2}}}"#).is_ok());
        assert_eq!(free_form(r#"{"content": {"b": 1, "\u0062": 2}}"#).unwrap_err().errors[0].pointer, "/content/b");
    }

    #[test]
    fn a_nul_character_is_refused_in_any_string_or_key() {
        let problem = rejected(r#"{"name": "a\u0000b", "items": []}"#);
        assert_eq!((problem.status, problem.errors[0].code.as_ref()), (422, "nul_character"));
        assert_eq!(problem.errors[0].pointer, "/name");
        let problem = free_form(r#"{"content": {"list": ["ok", "\u0000"]}}"#).unwrap_err();
        assert_eq!(
            (problem.errors[0].code.as_ref(), problem.errors[0].pointer.as_str()),
            ("nul_character", "/content/list/1")
        );
        let problem = free_form(r#"{"content": {"k\u0000": 1}}"#).unwrap_err();
        assert_eq!(
            (problem.errors[0].code.as_ref(), problem.errors[0].pointer.as_str()),
            ("nul_character", "/content")
        );
        // Other control characters are text like any other; an escaped backslash before `u0000` is not a NUL.
        assert!(free_form(r#"{"content": {"a": "line\nbreak\ttab", "b": "\\u0000"}}"#).is_ok());
    }

    #[test]
    fn a_duplicate_key_is_refused() {
        let problem = rejected(r#"{"name": "a", "name": "b", "items": []}"#);
        assert_eq!(problem.errors[0].code, "duplicate_field");
        assert_eq!(problem.errors[0].pointer, "/name");
    }
}
