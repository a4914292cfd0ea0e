//! Portal page benchmark (a program that prints figures, not a timed test): the server time of a page and the
//! API calls it makes, for Your tasks (three lists, each full) and a form page, against the ceiling of a
//! signed-in page that calls no API (the cookies page) measured in the same run.
//!
//! The portal runs on its own in front of a counting proxy to the API, so every API call a page makes is
//! counted exactly; the benchmark fails if a page's calls grow with what it lists (an N+1).
//!
//! Run:
//!
//!     TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         cargo run --release -p provider-api-benches --bin bench_portal -- [REQUESTS]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use provider_api_benches::{Figures, ms};
use provider_api_core::accounts::IntegratorApp;
use provider_api_core::capability::Capability;
use provider_api_portal::{Portal, PortalConfig};
use provider_api_tests::browser::Browser;
use provider_api_tests::forms::valid;
use serde_json::json;
use uuid::Uuid;

/// Forwards everything to the API, counting each call.
#[derive(Clone)]
struct Proxy {
    api: String,
    http: reqwest::Client,
    calls: Arc<AtomicUsize>,
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    proxy.calls.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let url = format!("{}{}", proxy.api, parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut headers = parts.headers.clone();
    headers.remove(axum::http::header::HOST);
    match proxy.http.request(parts.method, url).headers(headers).body(body).send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            response.body(axum::body::Body::from(answer.bytes().await.unwrap_or_default())).unwrap()
        }
        Err(error) => (axum::http::StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

async fn serve(router: axum::Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Ok(format!("http://{address}"))
}

/// Loads `path` `requests` times one after another, timing each and counting the API calls each made.
async fn measure(
    browser: &Browser,
    path: &str,
    requests: usize,
    calls: &AtomicUsize,
) -> anyhow::Result<(Figures, Vec<usize>)> {
    let mut figures = Figures::default();
    let mut per_page = Vec::new();
    let started = Instant::now();
    for _ in 0..requests {
        let before = calls.load(Ordering::SeqCst);
        let at = Instant::now();
        let page = browser.get(path).await;
        let took = at.elapsed();
        if page.status == 200 {
            figures.completed += 1;
            figures.latencies.push(took);
        } else {
            figures.failed += 1;
        }
        per_page.push(calls.load(Ordering::SeqCst) - before);
    }
    figures.elapsed = started.elapsed();
    figures.latencies.sort();
    Ok((figures, per_page))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(300);
    println!("provider portal page benchmark: {requests} loads of each page, one at a time, PostgreSQL\n");
    let api = provider_api_benches::server_without_limits().await?;
    let demo = api.demo().await;

    // Full lists: more drafts and sent notifications than Your tasks shows, so a call per row would show.
    let token = api.client_token(demo.client_id, &demo.client_secret).await;
    let (mut draft, mut sent) = (String::new(), String::new());
    for (path, count) in [("notifications", 15), ("notification-submissions", 15)] {
        for _ in 0..count {
            let response = api
                .http
                .post(api.url(&format!("/v1/organisations/{}/{path}", demo.organisation_id)))
                .bearer_auth(&token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&json!({"location_id": demo.location_id, "content": valid("serious_injury")}))
                .send()
                .await?;
            anyhow::ensure!(response.status() == 201, "setting up failed: {}", response.text().await?);
            let created: serde_json::Value = response.json().await?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            if path == "notifications" { draft = id } else { sent = id }
        }
    }

    let calls = Arc::new(AtomicUsize::new(0));
    // Redirects go back to the browser, as from the API itself.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let proxy = Proxy { api: api.base_url.clone(), http, calls: calls.clone() };
    let proxy_url = serve(axum::Router::new().fallback(forward).with_state(proxy)).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let secret = format!("pas_{}", Uuid::new_v4().simple());
    let app = IntegratorApp {
        id: Uuid::new_v4(),
        name: "Provider portal".into(),
        redirect_uris: format!("{origin}/auth/callback"),
        secret_hash: Some(provider_api_http::auth::secret::hash(&secret)),
        scopes: Capability::provider().collect(),
        created_by: None,
        created_at: time::OffsetDateTime::now_utc(),
        revoked_at: None,
        first_party: true,
    };
    api.store.create_integrator_app(&app).await?;
    let sessions = tempfile::tempdir()?;
    let portal = Portal::start(PortalConfig {
        api_url: proxy_url.clone(),
        api_public_url: Some(proxy_url),
        client_id: app.id.to_string(),
        client_secret: secret,
        origins: vec![origin.clone()],
        session_database_url: format!("sqlite://{}/sessions.db", sessions.path().display()),
        idle_timeout: Duration::from_secs(3600),
        trusted_proxies: Vec::new(),
        document_max_size: provider_api_portal::config::DEFAULT_DOCUMENT_MAX_SIZE,
    })
    .await?;
    let service = portal.router().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });

    let browser = Browser::new(&origin);
    let drafter = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "drafter")).expect("a drafter");
    let signed_in = browser.sign_in(&drafter.email, &drafter.password).await;
    anyhow::ensure!(signed_in.status == 200, "signing in failed: {}", signed_in.body);
    // Warm: the first form page reads the reference data the cache then keeps.
    browser.get(&format!("/notifications/{draft}/pages/1")).await;

    let pages = [
        ("ceiling: /cookies (no API call)", "/cookies".to_owned()),
        ("Your tasks (/dashboard)", "/dashboard".to_owned()),
        ("a form page (/notifications/…/pages/1)", format!("/notifications/{draft}/pages/1")),
        ("the list (/notifications, 20 of 30)", "/notifications".to_owned()),
        ("a sent notification (/notifications/…)", format!("/notifications/{sent}")),
    ];
    let mut calls_seen = Vec::new();
    for (what, path) in &pages {
        let (figures, per_page) = measure(&browser, path, requests, &calls).await?;
        figures.require(what, requests)?;
        let (fewest, most) = (per_page.iter().min().copied().unwrap_or(0), per_page.iter().max().copied().unwrap_or(0));
        println!(
            "{what:<42} p50 {:>6.1} ms  p95 {:>6.1} ms  API calls per page {fewest}{}",
            ms(figures.percentile(0.50)),
            ms(figures.percentile(0.95)),
            if most != fewest { format!("–{most}") } else { String::new() }
        );
        calls_seen.push(most);
    }
    anyhow::ensure!(calls_seen[0] == 0, "the ceiling page called the API");
    anyhow::ensure!(
        calls_seen[1] <= 3,
        "Your tasks made {} API calls for 30 notifications: a call per row?",
        calls_seen[1]
    );
    anyhow::ensure!(calls_seen[2] <= 2, "a form page made {} API calls", calls_seen[2]);
    anyhow::ensure!(calls_seen[3] <= 1, "the list made {} API calls for 20 rows: a call per row?", calls_seen[3]);
    anyhow::ensure!(calls_seen[4] <= 4, "a sent notification's page made {} API calls", calls_seen[4]);
    println!(
        "\nno page's API calls grow with what it shows (Your tasks lists 10 of 15 drafts and 10 of 15 sent; the \
         list 20 of 30; a sent notification's history and its people)"
    );
    Ok(())
}
