//! The portal as its own process in front of an API elsewhere (another origin), as in production where it
//! scales separately: registered by the regulator's staff as a first-party confidential application, sending
//! people to the API's public address to sign in, and back.

use std::net::SocketAddr;
use std::time::Duration;

use provider_api_core::accounts::IntegratorApp;
use provider_api_core::capability::Capability;
use provider_api_portal::{Portal, PortalConfig};
use provider_api_tests::TestApp;
use reqwest::StatusCode;

use provider_api_tests::browser::Browser;

#[tokio::test]
async fn a_portal_of_its_own_signs_people_in_through_an_api_elsewhere() {
    let api = TestApp::spawn().await;
    let demo = api.demo().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());

    // What staff register for a deployed portal: its callback, a secret, every provider scope.
    let secret = "pas_portal-secret-for-this-test";
    let app = IntegratorApp {
        id: uuid::Uuid::new_v4(),
        name: "Provider portal".into(),
        redirect_uris: format!("{origin}/auth/callback"),
        secret_hash: Some(provider_api_http::auth::secret::hash(secret)),
        scopes: Capability::provider().collect(),
        created_by: None,
        created_at: time::OffsetDateTime::now_utc(),
        revoked_at: None,
        first_party: true,
    };
    api.store.create_integrator_app(&app).await.unwrap();
    let sessions = tempfile::tempdir().unwrap();
    let portal = Portal::start(PortalConfig {
        api_url: api.base_url.clone(),
        api_public_url: Some(api.base_url.clone()),
        client_id: app.id.to_string(),
        client_secret: secret.into(),
        origins: vec![origin.clone()],
        session_database_url: format!("sqlite://{}/sessions.db", sessions.path().display()),
        idle_timeout: Duration::from_secs(600),
        trusted_proxies: Vec::new(),
        document_max_size: provider_api_portal::config::DEFAULT_DOCUMENT_MAX_SIZE,
    })
    .await
    .unwrap();
    let service = portal.router().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });

    let browser = Browser::new(&origin);
    let to_api = browser.get("/sign-in").await;
    assert_eq!(to_api.status, StatusCode::SEE_OTHER);
    assert!(to_api.location().unwrap().starts_with(&format!("{}/v1/oauth/authorize?", api.base_url)));
    let drafter = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "drafter")).unwrap();
    let tasks = browser.sign_in(&drafter.email, &drafter.password).await;
    assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
    assert!(tasks.url.starts_with(&origin) && tasks.url.ends_with("/dashboard"), "{}", tasks.url);
    assert_eq!(tasks.h1(), "Your tasks");
    let assets = browser.get("/assets/govuk-frontend.min.css").await;
    assert_eq!(assets.status, StatusCode::OK, "a portal of its own serves its stylesheet");
}
