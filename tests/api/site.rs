//! A site mounted at `/` beside the API (the portal, as the `provider-api` binary will mount it) can never
//! shadow the API: every path the API owns is answered by the API, even when the site declares a route for
//! it, and everything else goes to the site.

use axum::Router;
use axum::routing::get;

use provider_api_tests::TestApp;

const SITE: &str = "answered by the site";

/// A site that claims everything, the API's paths included.
fn greedy_site() -> Router {
    let claim = || get(|| async { SITE });
    Router::new()
        .route("/", claim())
        .route("/v1/openapi.json", claim())
        .route("/v1/{*rest}", claim())
        .route("/healthz", claim())
        .route("/readyz", claim())
        .route("/docs", claim())
        .route("/docs/{*rest}", claim())
        .route("/.well-known/{*rest}", claim())
        .route("/metrics", claim())
        .fallback(|| async { SITE })
}

async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{}{path}", app.base_url)).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn the_api_keeps_its_paths_whatever_the_site_routes() {
    let app = TestApp::spawn_with_site(greedy_site()).await;

    let (status, content_type, body) = fetch(&app, "/v1/openapi.json").await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert!(body.contains("\"openapi\""), "the spec, not the site: {body:.80}");

    let (status, content_type, _) = fetch(&app, "/v1/no-such-thing").await;
    assert_eq!((status, content_type.as_str()), (404, "application/problem+json"), "the API's own 404");

    for path in ["/healthz", "/readyz", "/docs/", "/.well-known/jwks.json", "/metrics"] {
        let (status, _, body) = fetch(&app, path).await;
        assert_ne!(body, SITE, "{path} ({status}) was answered by the site");
    }

    // Through the SDK, as every client of the API calls it.
    let activities = app.client.list_regulated_activities().send().await.unwrap().into_inner();
    assert_eq!(activities.items.len(), 14);
}

#[tokio::test]
async fn everything_else_is_the_sites() {
    let app = TestApp::spawn_with_site(greedy_site()).await;
    for path in ["/", "/start", "/v1beta", "/healthzz", "/documentation"] {
        let (status, _, body) = fetch(&app, path).await;
        assert_eq!((status, body.as_str()), (200, SITE), "{path}");
    }
}
