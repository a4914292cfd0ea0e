//! The OpenAPI 3.1 document: generated from the routes themselves, so it cannot describe an API we do not serve.
//!
//! Every feature contributes an `OpenApiRouter`; [`api_router`] merges them, and [`document`] adds what every
//! operation shares (its error responses). `openapi/v1.json` is [`spec_json`] committed; a test below fails
//! when the two differ, and `provider-api openapi` rewrites the file.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;

use crate::http::problem::{PROBLEM_CONTENT_TYPE, ProblemDetails};
use crate::state::AppState;

/// Where the committed document lives, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi/v1.json";

pub mod tags {
    pub const HEALTH: &str = "health";
    pub const REFERENCE: &str = "reference";
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provider API",
        description = "The Care Quality Commission's API for registered health and adult social care providers in \
England: reference data, and (as they land) organisations and roles, statutory notifications, registration \
applications and documents.\n\nEvery error is `application/problem+json` (RFC 9457) with a stable `code`; see \
`docs/api-conventions.md` for paths, identifiers, pagination, idempotency, concurrency and versioning.",
        contact(name = "Provider API team", email = "provider-api@cqc.org.uk"),
    ),
    servers((url = "/", description = "This server")),
    tags(
        (name = "health", description = "Liveness and readiness of this server"),
        (name = "reference", description = "Reference data the regulator publishes, and identifier checks"),
    ),
    components(schemas(ProblemDetails))
)]
struct ApiDoc;

/// Every documented route, with its handler.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::health::router())
        .merge(crate::reference::router())
        .merge(crate::identifiers::router())
}

/// Adds the problem responses an operation can give besides its own, by what the operation accepts:
/// every operation can fail on our side (500) or while the database is away (503); one with a body can also
/// be refused for that body (400, 408, 413, 415, 422).
pub fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    let common = [
        ("500", "InternalError", "Something went wrong on the server; quote the `request_id` if you report it."),
        (
            "503",
            "ServiceUnavailable",
            "Temporarily unable to serve (database unavailable, or no answer in time); retry after `Retry-After` seconds.",
        ),
    ];
    let with_body = [
        ("400", "MalformedRequest", "The body is not valid JSON, or could not be read."),
        ("408", "RequestTimeout", "The request body arrived too slowly."),
        ("413", "PayloadTooLarge", "The request body is larger than the server accepts."),
        ("415", "UnsupportedMediaType", "The body is not `application/json`."),
        (
            "422",
            "ValidationFailed",
            "The body is JSON of the wrong shape, or breaks field rules; `errors` lists every invalid field.",
        ),
    ];

    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in common.iter().chain(&with_body) {
        let response = ResponseBuilder::new()
            .description(*description)
            .content(PROBLEM_CONTENT_TYPE, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build();
        components.responses.insert((*name).to_owned(), RefOr::T(response));
    }

    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            let has_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            let rows = common.iter().chain(with_body.iter().filter(|_| has_body));
            for (status, name, _) in rows {
                responses.entry((*status).to_owned()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The complete document, as served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_router().split_for_parts();
    add_common_responses(&mut doc);
    doc
}

/// The document as committed in `openapi/v1.json`: pretty, with a final newline, so diffs read well.
pub fn spec_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).expect("the document serialises");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn committed_spec_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(SPEC_PATH)
    }

    #[test]
    fn committed_spec_matches_the_code() {
        let committed = std::fs::read_to_string(committed_spec_path()).unwrap_or_default();
        assert!(
            committed == spec_json(),
            "openapi/v1.json is stale: run `cargo run -p provider-api -- openapi` and commit the result"
        );
    }

    #[test]
    fn every_operation_has_an_id_a_tag_a_summary_and_a_problem_response_for_errors() {
        let mut doc = document();
        for (path, item) in doc.paths.paths.iter_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(id.contains('_'), "{path}: operation id {id:?} should read verb_noun");
                assert!(operation.tags.as_ref().is_some_and(|t| !t.is_empty()), "{path}: no tag");
                assert!(operation.summary.is_some(), "{path}: no summary");
                assert!(operation.description.is_some(), "{path}: no description");
                for (status, response) in &operation.responses.responses {
                    if !status.starts_with('2') {
                        assert!(
                            matches!(response, RefOr::Ref(_)),
                            "{path} {status}: errors use the shared problem responses"
                        );
                    }
                }
            }
        }
    }
}
