//! The portal's public pages through its router, their HTML read with a parser: what every page must have
//! (docs/portal.md), the security headers, and the assets they load.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use provider_api_portal::config::DEFAULT_IDLE_TIMEOUT;
use provider_api_portal::{CONTENT_SECURITY_POLICY, Portal, PortalConfig};
use scraper::{Html, Selector};
use tower::ServiceExt;

/// The portal's router, with no API behind it (the public pages need none), and the folder of its sessions.
async fn router() -> (axum::Router, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let portal = Portal::start(PortalConfig {
        api_url: "http://127.0.0.1:9".into(),
        api_public_url: None,
        client_id: "portal".into(),
        client_secret: "secret".into(),
        origins: vec!["http://127.0.0.1:8080".into()],
        session_database_url: format!("sqlite://{}/sessions.db", folder.path().display()),
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
        trusted_proxies: Vec::new(),
        document_max_size: provider_api_portal::config::DEFAULT_DOCUMENT_MAX_SIZE,
    })
    .await
    .unwrap();
    (portal.router(), folder)
}

async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let (router, _sessions) = router().await;
    let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn select<'a>(html: &'a Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(selector).unwrap()).collect()
}

const PAGES: &[(&str, StatusCode)] = &[
    ("/", StatusCode::OK),
    ("/accessibility", StatusCode::OK),
    ("/cookies", StatusCode::OK),
    ("/privacy", StatusCode::OK),
    ("/no-such-page", StatusCode::NOT_FOUND),
];

#[tokio::test]
async fn every_page_has_what_every_page_must() {
    let mut titles = std::collections::BTreeSet::new();
    for &(path, status) in PAGES {
        let (got, headers, body) = get(path).await;
        assert_eq!(got, status, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8", "{path}");
        let html = Html::parse_document(&body);
        assert_eq!(select(&html, "html")[0].value().attr("lang"), Some("en-GB"), "{path}");
        let title = select(&html, "title")[0].text().collect::<String>();
        assert!(title.ends_with("– Provider portal"), "{path}: {title}");
        assert!(titles.insert(title.clone()), "{path}: the title {title:?} is another page's");
        let h1 = select(&html, "h1");
        assert_eq!(h1.len(), 1, "{path}: one main heading");
        assert!(
            title.starts_with(h1[0].text().collect::<String>().trim()),
            "{path}: the title starts with the heading"
        );
        let skip = select(&html, "a.govuk-skip-link");
        assert_eq!(skip[0].value().attr("href"), Some("#main-content"), "{path}");
        assert_eq!(select(&html, "main#main-content").len(), 1, "{path}");
        assert_eq!(select(&html, ".govuk-phase-banner").len(), 1, "{path}");
        for footer_link in ["/accessibility", "/cookies", "/privacy"] {
            let selector = format!("footer a[href=\"{footer_link}\"]");
            assert_eq!(select(&html, &selector).len(), 1, "{path}: the footer links {footer_link}");
        }
        // Nothing inline: the Content Security Policy would block it.
        assert!(select(&html, "script:not([src])").is_empty(), "{path}: an inline script");
        assert!(select(&html, "style, [style]").is_empty(), "{path}: inline style");
        assert!(select(&html, "[onclick], [onload], [onsubmit]").is_empty(), "{path}: an inline handler");
        // No crown: it is GOV.UK's own.
        assert!(!body.contains("govuk-header__logotype") && !body.contains("crown"), "{path}: a crown");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY, "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
}

#[tokio::test]
async fn what_the_pages_load_is_served_with_its_type() {
    let (_, _, body) = get("/").await;
    let html = Html::parse_document(&body);
    let mut loaded: Vec<String> =
        select(&html, "link[href]").iter().map(|l| l.value().attr("href").unwrap().to_owned()).collect();
    loaded.extend(select(&html, "script[src]").iter().map(|s| s.value().attr("src").unwrap().to_owned()));
    // The module the page loads imports GOV.UK Frontend's.
    loaded.push("/assets/govuk-frontend.min.js".into());
    for path in loaded {
        let (status, headers, body) = get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let expected = match path.rsplit_once('.').unwrap().1 {
            "css" => "text/css; charset=utf-8",
            "mjs" | "js" => "text/javascript; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("{path}: unexpected .{other}"),
        };
        assert_eq!(headers[header::CONTENT_TYPE], expected, "{path}");
        assert!(!body.is_empty(), "{path}");
    }
    let (missing, _, _) = get("/assets/nothing.css").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_stylesheet_is_arial_and_never_gds_transport() {
    let (_, _, css) = get("/assets/govuk-frontend.min.css").await;
    assert!(css.contains("font-family:arial,sans-serif"));
    assert!(!css.contains("GDS Transport"), "GDS Transport is for GOV.UK's own services");
}
