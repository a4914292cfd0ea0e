//! A field error: which field of a request is wrong (a JSON Pointer), a stable code, and words a person
//! can act on. Rules in core report these; the API gathers them into a 422 problem.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the field in the request body; `""` means the whole body.
    #[schema(example = "/postcode")]
    pub pointer: String,
    /// A stable machine-readable code for what is wrong with the field.
    #[schema(example = "postcode_format")]
    pub code: Cow<'static, str>,
    /// What is wrong with the field and how to fix it.
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), code: code.into(), detail: detail.into() }
    }
}

/// Escapes one JSON Pointer reference token (RFC 6901 §3).
pub fn pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_are_escaped_per_rfc_6901() {
        assert_eq!(pointer_token("a/b"), "a~1b");
        assert_eq!(pointer_token("m~n"), "m~0n");
        assert_eq!(pointer_token("plain"), "plain");
    }
}
