//! A web service mounted beside the API at `/` (the provider portal), which can never shadow the API: a
//! request under a path the API owns goes to the API, whatever routes the site declares, and the API's own
//! answer for it stands (its `problem+json` 404 included).

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use tower::ServiceExt;

/// The paths the API owns, each with everything beneath it.
/// `/assets` is GOV.UK Frontend's stylesheet and scripts, which the API's sign-in pages load; the portal's are
/// the same files.
pub const RESERVED: &[&str] = &["/v1", "/healthz", "/readyz", "/docs", "/.well-known", "/metrics", "/assets"];

/// Whether `path` is one of the API's (`/v1`, `/v1/…`), not merely one that starts the same (`/v1beta`).
pub fn is_reserved(path: &str) -> bool {
    RESERVED.iter().any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// One router: the API for its reserved paths, the site for everything else.
pub fn mount(api: Router, site: Router) -> Router {
    Router::new().fallback_service(tower::service_fn(move |request: Request| {
        let target = if is_reserved(request.uri().path()) { api.clone() } else { site.clone() };
        async move { Ok::<Response, Infallible>(target.oneshot(request).await.unwrap_or_else(|never| match never {})) }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_paths_are_whole_segments() {
        for path in [
            "/v1",
            "/v1/",
            "/v1/organisations",
            "/healthz",
            "/docs/index.html",
            "/.well-known/jwks.json",
            "/assets/start.mjs",
        ] {
            assert!(is_reserved(path), "{path}");
        }
        for path in ["/", "/v1beta", "/healthzz", "/notifications", "/documentation", "/start", "/assetsx"] {
            assert!(!is_reserved(path), "{path}");
        }
    }
}
