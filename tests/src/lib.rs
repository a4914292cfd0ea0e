//! The black-box test harness: a real server on port 0 with a fresh database, and clients to drive it.
//!
//! The database is a temporary SQLite file unless `TEST_DATABASE_URL` names a PostgreSQL server, in which case
//! each test gets its own database there, dropped when the test ends. A server that is named but cannot be
//! reached fails the test: it is never skipped.

use std::net::SocketAddr;
use std::str::FromStr;

use std::sync::Arc;

use provider_api_core::clock::{Clock, ManualClock, SystemClock};
use provider_api_http::Application;
use provider_api_http::config::Config;
use provider_api_store::Store;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod applications;
pub mod browser;
pub mod forms;
pub mod register;
pub mod second_factor;
pub mod services;
pub mod smtp;

pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(#[allow(dead_code)] tempfile::TempDir),
    PostgresDatabase { server: String, name: String },
}

impl TestDatabase {
    pub async fn fresh() -> Self {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(server) if !server.is_empty() => Self::fresh_postgres(server).await,
            _ => Self::fresh_sqlite(),
        }
    }

    pub fn fresh_sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("provider-api.db").display());
        Self { url, cleanup: Cleanup::SqliteFile(dir) }
    }

    pub async fn fresh_postgres(server: String) -> Self {
        let name = format!("provider_api_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await.unwrap_or_else(|error| {
            panic!("{TEST_DATABASE_URL} is set to {server:?} but that server cannot be reached: {error}")
        });
        // The name is ours (a UUID), not input: safe to splice.
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        admin.close().await.ok();
        Self { url: with_database(&server, &name), cleanup: Cleanup::PostgresDatabase { server, name } }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::PostgresDatabase { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::PostgresDatabase { server, name } = &self.cleanup else { return };
        let (server, name) = (server.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot block on async work; a helper thread can.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop the test database: {dropped:?}");
        }
    }
}

/// `postgres://user@host:port/any?params` with its database replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map(|i| i + 3).and_then(|start| base[start..].find('/').map(|i| start + i));
    let root = authority_end.map_or(base, |end| &base[..end]);
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A running server and the clients to call it.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    /// The SDK, as integrators use it.
    pub client: provider_api_sdk::Client,
    /// Plain HTTP, for what the SDK cannot send (malformed bodies, wrong methods).
    pub http: reqwest::Client,
    pub store: std::sync::Arc<dyn Store>,
    /// Document storage and scanning, to reach past the API (the blob store, the scanner's queue).
    pub documents: std::sync::Arc<provider_api_http::documents::Documents>,
    /// Where the server keeps document bytes: a temporary folder, or (with `TEST_S3S_FS`) an S3 server.
    pub blob_folder: tempfile::TempDir,
    pub s3: Option<services::S3Server>,
    /// The integrator application `sign_in` uses, registered on first use.
    test_app: tokio::sync::OnceCell<uuid::Uuid>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    pub database: TestDatabase,
    /// What the server was started with, for starting more nodes beside it.
    config: Config,
    /// The provider portal, when started beside the API ([`TestApp::spawn_with_portal`]).
    pub portal: Option<provider_api_portal::Portal>,
    /// The authenticator apps of people who set one up signing in, by email.
    pub authenticators: second_factor::Authenticators,
}

/// Another server process's equivalent: a second node on the same database and document store.
pub struct Node {
    pub base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// What is served beside the API at `/`.
enum Site {
    None,
    Router(axum::Router),
    Portal,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose configuration `configure` has adjusted (after port 0 and the database are set).
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_serving(configure, Site::None, Arc::new(SystemClock)).await
    }

    /// Starts a server whose clock is `clock`: it reads the time the test sets.
    pub async fn spawn_with_clock(clock: Arc<ManualClock>) -> Self {
        Self::spawn_serving(|_| {}, Site::None, clock).await
    }

    /// Starts a server whose clock is `clock` and whose configuration `configure` has adjusted.
    pub async fn spawn_with_clock_and(clock: Arc<ManualClock>, configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_serving(configure, Site::None, clock).await
    }

    /// Starts a server with `site` mounted at `/` beside the API, as the `provider-api` binary mounts the
    /// portal.
    pub async fn spawn_with_site(site: axum::Router) -> Self {
        Self::spawn_serving(|_| {}, Site::Router(site), Arc::new(SystemClock)).await
    }

    /// Starts a server with the provider portal beside it, as `provider-api serve` does (the portal registered
    /// as its own first-party application, its sessions in its own table on the test database's engine).
    pub async fn spawn_with_portal(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_serving(configure, Site::Portal, Arc::new(SystemClock)).await
    }

    async fn spawn_serving(configure: impl FnOnce(&mut Config), site: Site, clock: Arc<dyn Clock>) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            provider_api_http::telemetry::init(provider_api_http::config::LogFormat::Pretty);
        }
        let database = TestDatabase::fresh().await;
        let blob_folder = tempfile::tempdir().expect("a temporary directory");
        let mut config = Config {
            bind: SocketAddr::from_str("127.0.0.1:0").unwrap(),
            database_url: database.url().to_owned().into(),
            document_storage: blob_folder.path().display().to_string(),
            mail_outbox: blob_folder.path().join("outbox"),
            ..Config::default()
        };
        // With TEST_S3S_FS, documents go to a real S3-compatible server, so the same tests cover both stores.
        let s3 = services::S3Server::requested().then(services::S3Server::start);
        if let Some(s3) = &s3 {
            s3.configure(&mut config);
        }
        configure(&mut config);

        let mut application =
            Application::build_with_clock(config.clone(), clock.clone()).await.expect("the server builds");
        let mut portal = None;
        match site {
            Site::None => {}
            Site::Router(site) => application = application.with_site(site),
            Site::Portal => {
                let started =
                    provider_api::start_portal(&application, &config, clock.clone()).await.expect("the portal starts");
                application = application.with_site(started.router());
                portal = Some(started);
            }
        }
        let address = application.local_addr();
        let store = application.store();
        let documents = application.documents();
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(application.run_until(async move {
            let _ = stop.await;
        }));
        let base_url = format!("http://{address}");
        let client = provider_api_sdk::ClientBuilder::new(&base_url).user_agent("provider-api-tests").build().unwrap();
        Self {
            address,
            base_url,
            client,
            http: reqwest::Client::new(),
            store,
            documents,
            blob_folder,
            s3,
            test_app: tokio::sync::OnceCell::new(),
            shutdown: Some(shutdown),
            server: Some(server),
            database,
            config,
            portal,
            authenticators: second_factor::Authenticators::new(clock),
        }
    }

    /// Starts another node on the same database and document store, as a second server process behind a
    /// load balancer would be. Give the first node a `public_base_url`, so both issue and accept the same
    /// tokens.
    pub async fn second_node(&self) -> Node {
        let config = Config { bind: SocketAddr::from_str("127.0.0.1:0").unwrap(), ..self.config.clone() };
        let application = Application::build(config).await.expect("the second node builds");
        let base_url = format!("http://{}", application.local_addr());
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(application.run_until(async move {
            let _ = stop.await;
        }));
        Node { base_url, shutdown: Some(shutdown) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A demo provider (location, admin, drafter, submitter, API client), made as `provider-api demo` makes it.
    pub async fn demo(&self) -> provider_api_http::bootstrap::DemoCredentials {
        provider_api_http::bootstrap::create_demo(self.store.as_ref(), time::OffsetDateTime::now_utc())
            .await
            .expect("the demo is created")
    }

    /// An SDK client that authenticates as an API client, asking for `scopes` (empty: all it holds).
    pub fn sdk_for_client(&self, client_id: impl ToString, secret: &str, scopes: &[&str]) -> provider_api_sdk::Client {
        provider_api_sdk::ClientBuilder::new(&self.base_url)
            .user_agent("provider-api-tests")
            .client_credentials(client_id.to_string(), secret, scopes)
            .build()
            .unwrap()
    }

    /// Signs a person in through the real sign-in page (with PKCE), as the tests' own first-party application
    /// (the regulator's portal would be one) holding every scope, and returns their tokens.
    pub async fn sign_in(&self, email: &str, password: &str) -> provider_api_sdk::auth::PersonTokens {
        const REDIRECT: &str = "https://tests.example/callback";
        let app_id = *self
            .test_app
            .get_or_init(|| async {
                let every_scope = provider_api_core::capability::Capability::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.register_app(REDIRECT, &every_scope, None, true).await
            })
            .await;
        self.sign_in_with(&app_id.to_string(), REDIRECT, email, password).await
    }

    /// Signs a person in through a given public application (with PKCE) and returns their tokens.
    pub async fn sign_in_with(
        &self,
        app_id: &str,
        redirect: &str,
        email: &str,
        password: &str,
    ) -> provider_api_sdk::auth::PersonTokens {
        self.sign_in_granting(app_id, redirect, email, password, &[]).await
    }

    /// Signs a person in through a given public application (with PKCE), consenting to `scopes` only (empty:
    /// every scope the application may ask for), and returns their tokens.
    pub async fn sign_in_granting(
        &self,
        app_id: &str,
        redirect: &str,
        email: &str,
        password: &str,
        scopes: &[&str],
    ) -> provider_api_sdk::auth::PersonTokens {
        let request = provider_api_sdk::auth::authorization_url(&self.base_url, app_id, redirect, scopes).unwrap();
        // As a browser: an account with a second factor answers with its pages, which are answered in turn.
        let mut form: Vec<(String, String)> =
            serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let action = self.url("/v1/oauth/authorize");
        let mut with_password = form.clone();
        with_password.extend([
            ("email".into(), email.into()),
            ("password".into(), password.into()),
            ("decision".into(), "allow".into()),
        ]);
        let page = browser.post(&action).header("accept", "text/html").form(&with_password).send().await.unwrap();
        form.retain(|(name, _)| name != "decision");
        let response = second_factor::complete(&browser, &action, &form, &self.authenticators, email, page).await;
        assert_eq!(response.status(), 303, "sign-in failed for {email}: {}", response.text().await.unwrap());
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
        let code = pairs.into_iter().find(|(k, _)| k == "code").map(|(_, v)| v).expect("a code");
        provider_api_sdk::auth::exchange_code(&self.base_url, app_id, None, redirect, &code, &request.pkce_verifier)
            .await
            .unwrap()
    }

    /// Posts the sign-in page's form for an authorization request, as a browser would (without following the
    /// redirect), and returns the raw answer: 303 to the application when the password is right.
    pub async fn submit_sign_in(
        &self,
        request: &provider_api_sdk::auth::AuthorizationRequest,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let mut form: Vec<(String, String)> =
            serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
        form.extend([
            ("email".into(), email.into()),
            ("password".into(), password.into()),
            ("decision".into(), "allow".into()),
        ]);
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        browser.post(self.url("/v1/oauth/authorize")).form(&form).send().await.unwrap()
    }

    /// The application `sign_in` signs people in through, once it has.
    pub fn test_app_id(&self) -> Option<uuid::Uuid> {
        self.test_app.get().copied()
    }

    /// An SDK client acting for a signed-in person.
    pub async fn sdk_for_person(&self, email: &str, password: &str) -> provider_api_sdk::Client {
        let tokens = self.sign_in(email, password).await;
        let app_id = self.test_app.get().expect("sign_in registered the app").to_string();
        provider_api_sdk::ClientBuilder::new(&self.base_url).person(app_id, None, tokens.refresh_token).build().unwrap()
    }

    /// A new person who is a member of `organisation_id` with `roles` (space-separated), limited to
    /// `locations` when given; returns their email and password.
    pub async fn member(
        &self,
        organisation_id: uuid::Uuid,
        roles: &str,
        locations: Option<&[uuid::Uuid]>,
    ) -> (String, String) {
        let email = format!("{}@members.example", uuid::Uuid::new_v4().simple());
        let password = format!("password-{}", uuid::Uuid::new_v4().simple());
        let now = time::OffsetDateTime::now_utc();
        let user = provider_api_core::accounts::User {
            id: uuid::Uuid::new_v4(),
            email: email.clone(),
            email_normalised: provider_api_core::accounts::normalise_email(&email),
            display_name: "A member".into(),
            password_hash: Some(provider_api_http::auth::password::hash(&password)),
            staff_roles: Default::default(),
            disabled: false,
            created_at: now,
        };
        self.store.create_user(&user).await.unwrap();
        let membership = provider_api_core::accounts::Membership {
            user_id: user.id,
            organisation_id,
            roles: roles.parse().expect("known roles"),
            location_ids: locations.map(|ids| ids.iter().copied().collect()),
            created_at: now,
        };
        self.store.put_membership(&membership).await.unwrap();
        (email, password)
    }

    /// A regulator's staff member with `staff_admin` (provider records, enrolment, the register), signed in.
    pub async fn admin_staff(&self) -> provider_api_sdk::Client {
        self.staff_with(provider_api_core::capability::StaffRole::StaffAdmin, "Ad Min").await
    }

    /// A regulator's staff member who triages notifications (reads them, asks providers questions), signed in.
    pub async fn triage_staff(&self) -> provider_api_sdk::Client {
        self.staff_with(provider_api_core::capability::StaffRole::StaffTriage, "Tri Age").await
    }

    /// A new member of staff holding `role` alone, signed in.
    async fn staff_with(&self, role: provider_api_core::capability::StaffRole, name: &str) -> provider_api_sdk::Client {
        let email = format!("{}.{}@cqc.example", role.as_str(), uuid::Uuid::new_v4().simple());
        provider_api_http::bootstrap::create_staff(
            self.store.as_ref(),
            &email,
            name,
            "correct horse battery",
            &[role].into(),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        self.sdk_for_person(&email, "correct horse battery").await
    }

    /// Another location of the demo's organisation, added by its admin through the API and then registered for
    /// the demo's activities (as a granted application would have it).
    pub async fn demo_location(&self, demo: &provider_api_http::bootstrap::DemoCredentials, name: &str) -> uuid::Uuid {
        let admin = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "admin")).unwrap();
        let sdk = self.sdk_for_person(&admin.email, &admin.password).await;
        let address = provider_api_sdk::types::Address::builder()
            .line_1("2 River Lane")
            .town("Newcastle upon Tyne")
            .postcode("NE1 4ST");
        let location = provider_api_sdk::types::NewLocation::builder().name(name).address(address);
        let created = sdk.create_location().organisation_id(demo.organisation_id).body(location).send().await.unwrap();
        let id = created.into_inner().id;
        let registered = provider_api_core::registrations::registered::Changes {
            register_locations: vec![(id, provider_api_core::registrations::registered::new_identifier())],
            add_activities: provider_api_http::bootstrap::DEMO_ACTIVITIES
                .iter()
                .map(|a| (id, (*a).to_owned()))
                .collect(),
            ..Default::default()
        };
        let now = time::OffsetDateTime::now_utc();
        self.store.record_registration(demo.organisation_id, &registered, now).await.unwrap();
        id
    }

    /// A draft of the demo's organisation at its location, made by its API client, with `content`.
    pub async fn demo_draft(
        &self,
        demo: &provider_api_http::bootstrap::DemoCredentials,
        content: serde_json::Value,
    ) -> uuid::Uuid {
        self.demo_draft_at(demo, Some(demo.location_id), content).await
    }

    /// A draft of the demo's organisation about `location` (none yet, when `None`), made by its API client.
    pub async fn demo_draft_at(
        &self,
        demo: &provider_api_http::bootstrap::DemoCredentials,
        location: Option<uuid::Uuid>,
        content: serde_json::Value,
    ) -> uuid::Uuid {
        let client = self.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
        let body = provider_api_sdk::types::NewNotification {
            location_id: location,
            follows_id: None,
            content: serde_json::from_value(content).unwrap(),
            attachments: Vec::new(),
        };
        let created = provider_api_sdk::idempotent::with_key(|key| {
            client
                .create_notification()
                .organisation_id(demo.organisation_id)
                .idempotency_key(key)
                .body(body.clone())
                .send()
        })
        .await
        .unwrap();
        created.into_inner().id
    }

    /// A notification of the demo's organisation sent at once by its API client, with `content`.
    pub async fn demo_sent(
        &self,
        demo: &provider_api_http::bootstrap::DemoCredentials,
        content: serde_json::Value,
    ) -> uuid::Uuid {
        let client = self.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
        let body = provider_api_sdk::types::NotificationSubmission {
            location_id: Some(demo.location_id),
            follows_id: None,
            content: serde_json::from_value(content).unwrap(),
            attachments: Vec::new(),
        };
        let sent = provider_api_sdk::idempotent::with_key(|key| {
            client
                .submit_new_notification()
                .organisation_id(demo.organisation_id)
                .idempotency_key(key)
                .body(body.clone())
                .send()
        })
        .await
        .unwrap();
        sent.into_inner().id
    }

    /// An API client of `organisation_id` made past the API (as an earlier admin would have), authenticating
    /// with `secret`, holding `roles` and `scopes` (space-separated).
    pub async fn api_client(&self, organisation_id: uuid::Uuid, roles: &str, scopes: &str, secret: &str) -> uuid::Uuid {
        let client = provider_api_core::accounts::ApiClient {
            id: uuid::Uuid::new_v4(),
            organisation_id,
            name: "Care records system".into(),
            secret_hash: Some(provider_api_http::auth::secret::hash(secret)),
            jwks: None,
            roles: roles.parse().expect("known roles"),
            scopes: scopes.parse().expect("known scopes"),
            location_ids: None,
            created_by: None,
            created_at: time::OffsetDateTime::now_utc(),
            revoked_at: None,
            last_used_at: None,
        };
        self.store.create_api_client(&client).await.unwrap();
        client.id
    }

    /// Registers a third party's integrator application (as regulator staff would) with one redirect URI and
    /// the given scopes; confidential when `secret` is given.
    pub async fn integrator_app(&self, redirect_uri: &str, scopes: &str, secret: Option<&str>) -> uuid::Uuid {
        self.register_app(redirect_uri, scopes, secret, false).await
    }

    /// Registers one of the regulator's own (first-party) public applications with one redirect URI and the
    /// given scopes.
    pub async fn first_party_app(&self, redirect_uri: &str, scopes: &str) -> uuid::Uuid {
        self.register_app(redirect_uri, scopes, None, true).await
    }

    async fn register_app(
        &self,
        redirect_uri: &str,
        scopes: &str,
        secret: Option<&str>,
        first_party: bool,
    ) -> uuid::Uuid {
        let app = provider_api_core::accounts::IntegratorApp {
            id: uuid::Uuid::new_v4(),
            name: "Care Notes Online".into(),
            redirect_uris: redirect_uri.to_owned(),
            secret_hash: secret.map(provider_api_http::auth::secret::hash),
            scopes: scopes.parse().expect("known scopes"),
            created_by: None,
            created_at: time::OffsetDateTime::now_utc(),
            revoked_at: None,
            first_party,
        };
        self.store.create_integrator_app(&app).await.unwrap();
        app.id
    }

    /// An access token for an API client, fetched over plain HTTP.
    pub async fn client_token(&self, client_id: impl ToString, secret: &str) -> String {
        let response = self
            .http
            .post(self.url("/v1/oauth/token"))
            .basic_auth(client_id.to_string(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token request failed: {}", response.text().await.unwrap());
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Asks the server to stop (as SIGTERM would) without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Waits for the server to finish after [`Self::begin_shutdown`].
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        self.server.take().expect("the server is running").await.expect("the server task does not panic")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.begin_shutdown();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Reads a response that must be an RFC 9457 problem with `status`, and returns its body.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    let actual = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: serde_json::Value = response.json().await.expect("a problem body is JSON");
    assert_eq!(actual, status, "status; body: {body}");
    assert_eq!(content_type, "application/problem+json", "content type; body: {body}");
    for field in ["type", "title", "detail", "code", "instance", "request_id"] {
        assert!(body[field].is_string(), "problem field {field} missing: {body}");
    }
    assert_eq!(body["status"], status, "problem status: {body}");
    body
}

/// A complete serious-injury draft at `location`, made through the SDK by `client` (a person or software).
pub async fn complete_draft(
    client: &provider_api_sdk::Client,
    organisation: uuid::Uuid,
    location: uuid::Uuid,
) -> provider_api_sdk::types::NotificationView {
    let body = provider_api_sdk::types::NewNotification {
        location_id: Some(location),
        follows_id: None,
        content: serde_json::from_value(forms::valid("serious_injury")).unwrap(),
        attachments: Vec::new(),
    };
    provider_api_sdk::idempotent::with_key(|key| {
        client.create_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
    })
    .await
    .unwrap()
    .into_inner()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_server_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t"),
            "postgres://postgres@127.0.0.1:5432/t"
        );
        assert_eq!(with_database("postgres://u:p@h:5/db?sslmode=disable", "t"), "postgres://u:p@h:5/t?sslmode=disable");
        assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
    }
}
