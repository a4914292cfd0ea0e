//! The OpenAPI 3.1 document: generated from the routes themselves, so it cannot describe an API we do not serve.
//!
//! Every feature contributes an `OpenApiRouter`; [`api_router`] merges them, and [`document`] adds what every
//! operation shares (its error responses). `openapi/v1.json` is [`spec_json`] committed; a test below fails
//! when the two differ, and `provider-api openapi` rewrites the file.

use provider_api_core::capability::Capability;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;

use crate::http::problem::{PROBLEM_CONTENT_TYPE, ProblemDetails};
use crate::state::AppState;

/// Where the committed document lives, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi/v1.json";

pub mod tags {
    pub const HEALTH: &str = "health";
    pub const REFERENCE: &str = "reference";
    pub const OAUTH: &str = "oauth";
    pub const IDENTITY: &str = "identity";
    pub const ORGANISATIONS: &str = "organisations";
    pub const NOTIFICATIONS: &str = "notifications";
    pub const ADMIN: &str = "admin";
    pub const DOCUMENTS: &str = "documents";
    pub const REGISTRATIONS: &str = "registrations";
}

/// The name of the bearer-token security scheme every operation uses unless it says `security(())`.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provider API",
        description = "The Care Quality Commission's API for registered health and adult social care providers in \
England: organisations, their locations, people and roles; API clients for care-management software; \
statutory notifications with signed receipts; registration applications, section by section, with the \
regulator's requests, notices and decisions; resumable document uploads with malware scanning; the \
organisation's event feed; and the regulator's own staff operations.\n\nAuthenticate with OAuth 2.0: software \
acting as itself uses client credentials (`POST /v1/oauth/token`), people sign in through an application with \
the authorization code flow and PKCE. A drafter prepares, a submitter reviews, approves and sends \
(`docs/review.md`).\n\nEvery error is `application/problem+json` (RFC 9457) with a stable `code`; see \
`docs/api-conventions.md` for paths, identifiers, pagination, idempotency, concurrency and versioning.",
        contact(name = "Provider API team", email = "provider-api@cqc.org.uk"),
    ),
    servers((url = "/", description = "This server")),
    tags(
        (name = "health", description = "Liveness and readiness of this server"),
        (name = "reference", description = "Reference data the regulator publishes, and identifier checks"),
        (name = "oauth", description = "The OAuth 2.0 authorization server: tokens, metadata and signing keys"),
        (name = "identity", description = "Who is calling, and what they may do"),
        (name = "organisations", description = "Organisations, their locations, members and API clients"),
        (name = "notifications", description = "Statutory notifications: the types and their forms, drafts, submission and receipts, the regulator's requests"),
        (name = "registrations", description = "Registration applications: types and their sections, drafting by section, the checklist, submission and receipts, the regulator's requests and notices; registered details"),
        (name = "documents", description = "Documents: resumable (tus 1.0) and single-request uploads, malware scanning, downloads"),
        (name = "admin", description = "For the regulator's staff: provider records, enrolment codes, accounts, applications"),
    ),
    components(schemas(ProblemDetails)),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token from `POST /v1/oauth/token` (RFC 9068 JWT, 15 minutes)."))
            .build();
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        components.add_security_scheme(OAUTH2, SecurityScheme::OAuth2(oauth2()));
        // Either scheme: the same token. Naming the OAuth flows lets a documentation page fetch one.
        doc.security = Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(OAUTH2, Vec::<String>::new()),
        ]);
    }
}

/// The name of the OAuth 2.0 security scheme: the flows that issue the bearer token.
pub const OAUTH2: &str = "oauth2";

fn oauth2() -> utoipa::openapi::security::OAuth2 {
    use utoipa::openapi::security::{AuthorizationCode, ClientCredentials, Flow, OAuth2, Scopes};
    let scopes =
        || Scopes::from_iter(Capability::ALL.iter().map(|c| (c.as_str(), crate::auth::authorize::describe(*c))));
    OAuth2::with_description(
        [
            Flow::ClientCredentials(ClientCredentials::new("/v1/oauth/token", scopes())),
            Flow::AuthorizationCode(AuthorizationCode::new("/v1/oauth/authorize", "/v1/oauth/token", scopes())),
        ],
        "Client credentials for software acting as itself (`client_secret_basic`, `client_secret_post` or \
`private_key_jwt`); the authorization code flow with PKCE (S256) for people signing in through an application. \
Both issue the bearer token (RFC 9068 JWT, 15 minutes).",
    )
}

/// Every documented route, with its handler.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::health::router())
        .merge(crate::reference::router())
        .merge(crate::identifiers::router())
        .merge(crate::auth::oauth::router())
        .merge(crate::auth::authorize::router())
        .merge(crate::auth::password_reset::router())
        .merge(crate::auth::me::router())
        .merge(crate::mail::routes::router())
        .merge(crate::organisations::router())
        .merge(crate::notifications::router())
        .merge(crate::admin::router())
        .merge(crate::register::router())
        .merge(crate::documents::router())
        .merge(crate::registrations::router())
        .merge(crate::events::router())
        .merge(crate::audit::router())
}

/// Adds the problem responses an operation can give besides its own, by what the operation is:
/// - every operation can fail on our side (500) or while the database is away (503);
/// - one with a body can be refused for it (400, 408, 413, 415, 422);
/// - one with query parameters can be refused for them (400);
/// - one that needs a token can be refused without a good one (401);
/// - one about an organisation can be refused for a missing permission (403) or an organisation the caller
///   cannot see (404);
/// - one that takes `If-Match` can find it stale (412) or missing (428);
/// - every one but the health probes can be rate limited (429).
fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    const ROWS: [(&str, &str, &str); 13] = [
        ("500", "InternalError", "Something went wrong on the server; quote the `request_id` if you report it."),
        (
            "503",
            "ServiceUnavailable",
            "Temporarily unable to serve (database unavailable, or no answer in time); retry after `Retry-After` seconds.",
        ),
        (
            "400",
            "BadRequest",
            "The body is not valid JSON or could not be read, or a query parameter is not acceptable.",
        ),
        ("408", "RequestTimeout", "The request body arrived too slowly."),
        ("413", "PayloadTooLarge", "The request body is larger than the server accepts."),
        ("415", "UnsupportedMediaType", "The body is not of the content type this operation takes."),
        (
            "422",
            "ValidationFailed",
            "The body is JSON of the wrong shape, or breaks field rules; `errors` lists every invalid field.",
        ),
        (
            "401",
            "Unauthenticated",
            "No access token, or one that is not valid (expired, tampered, for another audience, revoked); see `WWW-Authenticate`.",
        ),
        (
            "403",
            "Forbidden",
            "The caller's roles or the token's scopes do not allow this here; `permission` names what is missing.",
        ),
        (
            "404",
            "NotFound",
            "Nothing here that the caller can see (another organisation's data is indistinguishable from none).",
        ),
        (
            "412",
            "Stale",
            "The resource changed since the ETag in `If-Match` was read: read it again and reapply the change.",
        ),
        ("428", "IfMatchRequired", "`If-Match` is required: send the ETag last read."),
        (
            "429",
            "TooManyRequests",
            "Rate limited: see `Retry-After`, and the `RateLimit` and `RateLimit-Policy` headers.",
        ),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in ROWS {
        let response = ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_CONTENT_TYPE, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build();
        components.responses.insert(name.to_owned(), RefOr::T(response));
    }

    for (path, item) in doc.paths.paths.iter_mut() {
        for operation in operations(item) {
            let has_body = operation.request_body.is_some();
            let parameters: Vec<&utoipa::openapi::path::Parameter> = operation
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    RefOr::T(parameter) => Some(parameter),
                    RefOr::Ref(_) => None,
                })
                .collect();
            let has_query =
                parameters.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
            let secured = operation.security.as_ref().is_none_or(|requirements| !requirements.is_empty());
            let conditional = parameters.iter().any(|p| p.name.eq_ignore_ascii_case("if-match"));
            let organisational =
                path.contains("{organisation_id}") || parameters.iter().any(|p| p.name == "organisation");
            // An id in the path may name nothing (or nothing the caller can see).
            let names_something = path.contains('{');
            let applies = |status: &str| match status {
                "500" | "503" => true,
                "408" | "413" | "415" | "422" => has_body,
                "400" => has_body || has_query,
                "401" => secured,
                "403" => organisational,
                "404" => organisational || names_something,
                "412" | "428" => conditional,
                "429" => !matches!(path.as_str(), "/healthz" | "/readyz"),
                _ => false,
            };
            if conditional {
                describe_if_match(operation);
            }
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let RefOr::T(response) = response {
                    give_problem_body(status, response);
                }
            }
            for (status, name, _) in ROWS.iter().filter(|(status, _, _)| applies(status)) {
                responses.entry((*status).to_owned()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

/// Every `If-Match` takes one strong ETag as read: the document says so, so that generated clients and
/// fuzzers send what the server can match (`*` and weak ETags are refused: 428 and 412).
fn describe_if_match(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.name.eq_ignore_ascii_case("if-match")
        {
            parameter.schema = Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .pattern(Some(crate::http::etag::IF_MATCH_PATTERN))
                    .examples([serde_json::json!("\"3\"")])
                    .into(),
            );
            let said = parameter.description.take().unwrap_or_default();
            parameter.description = Some(format!(
                "{said}: one strong ETag, exactly as read (e.g. `\"3\"`). `*` is refused (428) and a weak ETag never \
                 matches (412)."
            ));
        }
    }
}

/// An error row an operation states itself (`(status = 409, description = "...")`) says only when and why;
/// its body is the one problem body every error has, added here rather than repeated in ~90 annotations.
fn give_problem_body(status: &str, response: &mut utoipa::openapi::Response) {
    let is_error = status.starts_with('4') || status.starts_with('5');
    if is_error && response.content.is_empty() {
        response.content.insert(
            PROBLEM_CONTENT_TYPE.to_owned(),
            RefOr::T(ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build()),
        );
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
    complete(&mut doc);
    doc
}

/// What the document gains after the routes are collected: the error rows every operation shares, and the
/// note on examples. The router serves the document it completes with this, so the served and committed
/// documents are the same.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    add_common_responses(doc);
    describe_examples(doc);
}

/// What every request example is written against, said once in `info.description` from the values the
/// examples use, so the two cannot drift apart.
fn describe_examples(doc: &mut utoipa::openapi::OpenApi) {
    use provider_api_core::examples::{AS_OF, PLACEHOLDERS};
    let placeholders: String =
        PLACEHOLDERS.iter().map(|(id, stands_for)| format!("\n- `{id}`: {stands_for}")).collect();
    let said = doc.info.description.take().unwrap_or_default();
    doc.info.description = Some(format!(
        "{said}\n\nEvery JSON and form request body has a complete example, and so does every notification type's form and \
every registration section's schema. The examples hold on {as_of} (their due and effective dates are after \
it, their events before it); replace these ids with your own:{placeholders}",
        as_of = AS_OF.date(),
    ));
}

/// The document as committed in `openapi/v1.json`: pretty, with a final newline, so diffs read well.
pub fn spec_json() -> String {
    to_json(&document())
}

pub fn to_json(document: &utoipa::openapi::OpenApi) -> String {
    let mut value = serde_json::to_value(document).expect("the document serialises");
    // How each notification form is put to a person (questions, labelled choices, pages, the answers that
    // require others): JSON Schema that utoipa's model cannot hold, added to the components it describes.
    if let Some(schemas) = value.pointer_mut("/components/schemas").and_then(serde_json::Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            provider_api_core::notifications::presentation::decorate(name, schema);
        }
    }
    let mut json = serde_json::to_string_pretty(&value).expect("the document serialises");
    json.push('\n');
    json
}

/// Writes the document to `out`, or with `check` only compares: exit 1 (and says how to regenerate) when the
/// file differs from what the code describes.
pub fn write_or_check(out: &std::path::Path, check: bool) -> anyhow::Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let spec = spec_json();
    if check {
        let current = std::fs::read_to_string(out).unwrap_or_default();
        if current != spec {
            eprintln!("{} is stale; run `{REGENERATE}`", out.display());
            return Ok(ExitCode::FAILURE);
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(out, spec).map_err(|e| anyhow::anyhow!("could not write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// The command that regenerates the committed document from the API alone.
pub const REGENERATE: &str = "cargo run -p provider-api-http --bin provider-api-openapi";

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
            "openapi/v1.json is stale: run `cargo run -p provider-api-http --bin provider-api-openapi` and commit the result"
        );
    }

    #[test]
    fn every_operation_has_an_id_a_tag_a_summary_and_a_problem_response_for_errors() {
        let mut doc = document();
        let doc_responses = doc.components.clone().unwrap().responses;
        for (path, item) in doc.paths.paths.iter_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(id.contains('_'), "{path}: operation id {id:?} should read verb_noun");
                assert!(operation.tags.as_ref().is_some_and(|t| !t.is_empty()), "{path}: no tag");
                assert!(operation.summary.is_some(), "{path}: no summary");
                assert!(operation.description.is_some(), "{path}: no description");
                for (status, response) in &operation.responses.responses {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    let content = match response {
                        RefOr::Ref(reference) => {
                            let name = reference.ref_location.trim_start_matches("#/components/responses/");
                            match &doc_responses[name] {
                                RefOr::T(response) => response.content.clone(),
                                RefOr::Ref(_) => panic!("{path} {status}: nested response reference"),
                            }
                        }
                        RefOr::T(response) => response.content.clone(),
                    };
                    let schema = match content.get(PROBLEM_CONTENT_TYPE) {
                        Some(RefOr::T(content)) => content.schema.clone(),
                        _ => None,
                    };
                    assert!(
                        matches!(schema, Some(RefOr::Ref(ref r)) if r.ref_location == "#/components/schemas/Problem"),
                        "{path} {status}: an error must be an application/problem+json Problem"
                    );
                }
            }
        }
    }
}
