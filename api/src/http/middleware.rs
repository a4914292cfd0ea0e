//! The layers every request passes through, outermost first:
//!
//! request id → trace span → compression → security headers → CORS → problem finishing → panic catching →
//! overall timeout → body timeout → body limit → router.
//!
//! Problem finishing sits inside compression (it rewrites bodies) and outside everything that can answer on
//! its own (timeouts, limits, panics, axum's 404/405), so every error leaves as a complete problem.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::problem::{PROBLEM_CONTENT_TYPE, Problem};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id we echo; anything longer, or with other characters, is replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// CSP for the HTML the server renders (the API docs): everything from this origin, nothing inline but styles
/// (Swagger UI sets style attributes), no framing.
const HTML_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// CSP for everything else: an API response should never be rendered as a page.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Limits and policies the layers enforce, taken from the configuration.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub body_timeout: Duration,
    pub cors_allowed_origins: Vec<HeaderValue>,
    /// Proxies believed about the scheme the client used (`X-Forwarded-Proto`), canonical.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

pub fn apply(router: Router, policy: &HttpPolicy) -> Router {
    let inner = ServiceBuilder::new()
        .layer(axum::middleware::map_request(restore_options))
        .layer(middleware::from_fn(finish_problems))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(middleware::from_fn_with_state(policy.clone(), bound_request))
        .layer(RequestBodyTimeoutLayer::new(policy.body_timeout));

    let outer = ServiceBuilder::new()
        .layer(axum::middleware::map_request(drop_unusable_request_id))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis))
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        // A download is sent as stored, so its ETag, Content-Length and byte ranges describe what arrives.
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(
            |_: StatusCode, _: axum::http::Version, headers: &axum::http::HeaderMap, _: &axum::http::Extensions| {
                !headers.contains_key(header::CONTENT_DISPOSITION)
            },
        )))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(axum::middleware::map_response(content_security_policy))
        .layer(middleware::from_fn_with_state(policy.clone(), strict_transport_security))
        .layer(axum::middleware::map_request(hide_plain_options))
        .layer(cors(&policy.cors_allowed_origins));

    router.layer(inner).layer(outer)
}

/// HSTS (RFC 6797) on every response to a client that reached us over https. The server itself speaks plain
/// HTTP behind a TLS-terminating proxy, so https is known only from a trusted proxy's `X-Forwarded-Proto`;
/// a browser ignores HSTS over plain http anyway, and a header from anyone else proves nothing.
async fn strict_transport_security(State(policy): State<HttpPolicy>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(address)| address.ip().to_canonical());
    let over_https = peer.is_some_and(|peer| policy.trusted_proxies.contains(&peer))
        && request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    if over_https {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

/// File uploads stream bodies far larger than the body limit, for as long as bytes keep arriving (the body
/// timeout still ends a stalled one); they enforce their own size limit. Every other request is bounded by the
/// body limit (413) and the overall timeout (503).
pub fn is_streamed_upload(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/v1/organisations/") else { return false };
    let mut segments = rest.split('/');
    let (_organisation, collection, item, extra) = (segments.next(), segments.next(), segments.next(), segments.next());
    match (collection, item, extra) {
        (Some("uploads"), None, None) => method == Method::POST,
        (Some("uploads"), Some(_), None) => method == Method::PATCH,
        (Some("documents"), None, None) => method == Method::POST,
        _ => false,
    }
}

async fn bound_request(State(policy): State<HttpPolicy>, request: Request, next: Next) -> Response {
    if is_streamed_upload(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > policy.body_limit) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, policy.body_limit)));
    match tokio::time::timeout(policy.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// tower-http's CORS answers every `OPTIONS` request as a preflight, but tus clients send `OPTIONS` to
/// discover the upload server. So an `OPTIONS` that is not a preflight (no `Access-Control-Request-Method`)
/// passes CORS under another method name, and [`restore_options`] gives it back its method inside.
async fn hide_plain_options(mut request: Request) -> Request {
    let preflight = request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() == Method::OPTIONS && !preflight {
        *request.method_mut() = Method::from_bytes(b"X-PLAIN-OPTIONS").expect("a valid method token");
        request.extensions_mut().insert(RestoreOptions);
    }
    request
}

/// Marks a request whose `OPTIONS` method was hidden from CORS.
#[derive(Clone, Copy)]
struct RestoreOptions;

async fn restore_options(mut request: Request) -> Request {
    if request.extensions_mut().remove::<RestoreOptions>().is_some() {
        *request.method_mut() = Method::OPTIONS;
    }
    request
}

fn cors(allowed: &[HeaderValue]) -> CorsLayer {
    // No origin is allowed unless configured: the API is called by servers and by our own portal.
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed.iter().cloned()))
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::RANGE,
            X_REQUEST_ID.clone(),
            // tus 1.0, for browser upload libraries.
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-metadata"),
            HeaderName::from_static("upload-checksum"),
        ])
        .expose_headers([
            X_REQUEST_ID.clone(),
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("tus-version"),
            HeaderName::from_static("tus-extension"),
            HeaderName::from_static("tus-max-size"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-expires"),
            HeaderName::from_static("document-id"),
        ])
        .max_age(Duration::from_secs(600))
}

/// A client may choose its own request id, so its logs and ours line up, but only a short, plain one:
/// ids are written into logs and headers, so control characters and long strings are not echoed.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request.headers().get(&X_REQUEST_ID).is_some_and(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    });
    if !usable {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    request
}

fn request_span(request: &Request) -> tracing::Span {
    let request_id =
        request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", request_id, method = %request.method(), path = request.uri().path())
}

async fn content_security_policy(mut response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // A page may set its own, stricter-where-it-can policy (the sign-in page names where its form may go).
    if !response.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if is_html { HTML_CSP } else { API_CSP };
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    response
}

/// Makes every error response a complete problem: fills in the request path and id, turns bare error
/// responses from lower layers into problems, and logs server errors with their internal cause.
async fn finish_problems(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let request_id = request.headers().get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None => {
            // Pages for people (the sign-in page) answer their errors as pages; everything else as problems.
            let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if content_type == PROBLEM_CONTENT_TYPE || content_type.starts_with("text/html") {
                return Response::from_parts(parts, body);
            }
            Problem::from_status(status)
        }
    };
    problem.instance = Some(path);
    problem.request_id = request_id;
    if status.is_server_error() {
        let cause = problem.internal.as_deref().unwrap_or(&problem.detail);
        tracing::error!(status = status.as_u16(), code = %problem.code, cause, "request failed");
    }

    let mut rendered = problem.render();
    // Keep headers that lower layers set for this response (`Allow` on a 405, CORS headers), but not those
    // that described the old body.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (name, value) in &parts.headers {
        rendered.headers_mut().entry(name).or_insert_with(|| value.clone());
    }
    rendered
}

fn panic_to_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(a panic without a message)");
    let mut problem = Problem::internal();
    problem.internal = Some(format!("handler panicked: {message}"));
    problem.into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn policy() -> HttpPolicy {
        HttpPolicy {
            body_limit: 1024,
            request_timeout: Duration::from_millis(200),
            body_timeout: Duration::from_secs(5),
            cors_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }

    async fn call(router: Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let response = apply(router, &policy())
            .oneshot(Request::get(uri).header("x-request-id", "abc-123").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_500_problem_that_reveals_nothing() {
        async fn boom() -> &'static str {
            panic!("secret internals")
        }
        let router = Router::new().route("/boom", get(boom));
        let (status, headers, body) = call(router, "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(headers[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["request_id"], "abc-123");
        assert!(!body.to_string().contains("secret"), "{body}");
    }

    #[tokio::test]
    async fn a_slow_handler_is_cut_off_with_a_503_problem_and_retry_after() {
        let router = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let (status, headers, body) = call(router, "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "service_unavailable");
        assert_eq!(body["instance"], "/slow");
        assert!(headers.contains_key(header::RETRY_AFTER));
    }

    #[tokio::test]
    async fn an_unusable_request_id_is_replaced() {
        let router = Router::new().route("/ok", get(|| async { "ok" }));
        let response = apply(router, &policy())
            .oneshot(Request::get("/ok").header("x-request-id", "a b\tc").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = response.headers()[&X_REQUEST_ID].to_str().unwrap();
        assert_ne!(id, "a b\tc");
        assert_eq!(id.len(), 36, "a generated UUID: {id}");
    }
}
