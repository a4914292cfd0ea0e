//! The provider portal: the service provider staff use in a browser, built on the public API through its SDK
//! like any other client. Pages are server-rendered with GOV.UK Frontend's own component templates
//! (`provider_api_govuk`). See `docs/portal.md`.

mod address;
pub mod config;
mod conflict;
mod csrf;
mod dashboard;
mod documents;
mod email_settings;
mod england_time;
mod flash;
pub mod forms;
mod invitation;
mod kept;
mod location;
mod notification_list;
mod notification_record;
mod notifications;
mod pages;
mod reference;
mod render;
pub mod sessions;
mod settings;
mod sign_in;
mod signed_in;
mod team;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use tokio::sync::Mutex;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::PortalConfig;
use sessions::{SessionDatabase, SqlSessionStore};

/// The service's name, as every page's header and title give it.
pub const SERVICE_NAME: &str = "Provider portal";

/// The browser's one cookie. Over https it is `__Host-` prefixed (and `Secure`), which binds it to this host
/// and path `/`; on plain http (loopback only) browsers would drop a `__Host-` cookie, so the name is bare.
pub const SESSION_COOKIE: &str = "portal_session";

/// What the browser may load and send: this origin only, and nothing inline. No page has an inline script or
/// style (GOV.UK Frontend starts from `/assets/start.mjs`), so none is allowed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// Every page the portal shows (what a browser can be sent to), each of which the browser tests' manifest
/// (`tests/browser/manifest.json`) must visit in each of its states.
pub const PAGES: &[&str] = &[
    "/",
    "/accessibility",
    "/cookies",
    "/privacy",
    "/sign-in",
    config::CALLBACK_PATH,
    "/choose-organisation",
    "/sign-out",
    "/dashboard",
    "/notifications",
    "/notifications/new",
    "/notifications/{id}",
    "/notifications/{id}/location",
    "/notifications/{id}/pages/{number}",
    "/notifications/{id}/check",
    "/notifications/{id}/sent",
    "/team",
    "/team/invite",
    "/team/members/{user_id}",
    "/team/members/{user_id}/remove",
    "/settings",
    "/settings/emails",
    "/invitations/accept",
    "/documents",
    "/notifications/{id}/documents",
];

/// Routes that only take a form's answer and then show one of [`PAGES`] (or redirect to one).
pub const FORM_ACTIONS: &[&str] = &[
    "/notifications/{id}/submit",
    "/notifications/{id}/approve",
    "/notifications/{id}/review-request",
    "/notifications/{id}/respond",
    "/session/resume",
    "/team/invitations/{id}/cancel",
    "/documents/upload",
    "/documents/{id}/remove",
];

/// Routes only the pages' scripts call (the session warning's "Stay signed in").
pub const SCRIPT_CALLS: &[&str] = &["/session/keep-alive"];

/// Routes that give a file to save rather than a page.
pub const DOWNLOADS: &[&str] = &["/notifications/{id}/receipt", "/documents/{id}/download"];

/// A running portal: its deployment, its session store, and the locks that keep two requests of one session
/// from renewing its tokens at once.
#[derive(Clone)]
pub struct Portal {
    inner: Arc<Inner>,
}

struct Inner {
    config: PortalConfig,
    store: SqlSessionStore,
    renewals: Vec<Mutex<()>>,
    hasher: std::hash::RandomState,
    http: reqwest::Client,
    /// The portal's own OAuth calls (code exchange, renewal, revocation).
    app: provider_api_sdk::auth::App,
    /// Reference data every form page needs (the types and their schemas, the regulated activities), which
    /// changes only when the API is deployed: read once a few minutes, not on every page.
    reference: reference::Cache,
}

impl Portal {
    /// Opens (and migrates) the session database.
    pub async fn start(config: PortalConfig) -> Result<Self, sqlx::Error> {
        let store = SqlSessionStore::new(SessionDatabase::open(&config.session_database_url).await?);
        let http = reqwest::Client::builder()
            .user_agent(format!("provider-portal/{} provider-api-sdk-rust", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| sqlx::Error::Configuration(e.into()))?;
        let reference =
            reference::Cache::new(provider_api_sdk::ClientBuilder::new(&config.api_url).build_with(http.clone()));
        let app = provider_api_sdk::auth::App::new(&config.api_url, &config.client_id, Some(&config.client_secret))
            .with_http(http.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                renewals: (0..64).map(|_| Mutex::new(())).collect(),
                hasher: std::hash::RandomState::new(),
                reference,
                http,
                app,
            }),
        })
    }

    pub fn config(&self) -> &PortalConfig {
        &self.inner.config
    }

    pub(crate) fn reference(&self) -> &reference::Cache {
        &self.inner.reference
    }

    pub fn sessions(&self) -> &SqlSessionStore {
        &self.inner.store
    }

    /// An SDK client calling as a person, with their current access token, from their address.
    fn client_with(&self, access_token: &str, address: Option<std::net::IpAddr>) -> provider_api_sdk::Client {
        let builder = provider_api_sdk::ClientBuilder::new(&self.inner.config.api_url).access_token(access_token);
        let builder = match address {
            Some(address) => builder.forwarded_for(address),
            None => builder,
        };
        builder.build_with(self.inner.http.clone())
    }

    /// An SDK client calling for someone not signed in (accepting an invitation), from their address.
    fn anonymous_client(&self, address: Option<std::net::IpAddr>) -> provider_api_sdk::Client {
        let builder = provider_api_sdk::ClientBuilder::new(&self.inner.config.api_url);
        let builder = match address {
            Some(address) => builder.forwarded_for(address),
            None => builder,
        };
        builder.build_with(self.inner.http.clone())
    }

    /// The portal's OAuth calls, made for a person at `address`.
    fn app_for(&self, address: Option<std::net::IpAddr>) -> provider_api_sdk::auth::App {
        match address {
            Some(address) => self.inner.app.for_address(address),
            None => self.inner.app.clone(),
        }
    }

    /// The portal's routes, to be mounted beside the API at `/` or served alone.
    pub fn router(&self) -> Router {
        let config = &self.inner.config;
        let cookie = if config.secure() { format!("__Host-{SESSION_COOKIE}") } else { SESSION_COOKIE.to_owned() };
        let idle = time::Duration::try_from(config.idle_timeout).unwrap_or(time::Duration::minutes(30));
        let sessions = SessionManagerLayer::new(self.inner.store.clone())
            .with_name(cookie)
            .with_secure(config.secure())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(idle))
            // Every request extends the session, so the idle timeout counts from the last page seen.
            .with_always_save(true);
        let header = |name: HeaderName, value: &'static str| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        };
        let pages = pages::routes()
            .merge(sign_in::routes())
            .route("/dashboard", get(dashboard::show))
            .route("/session/resume", axum::routing::post(kept::resume))
            .route("/session/keep-alive", get(kept::keep_alive))
            .merge(notifications::routes())
            .merge(team::routes())
            .merge(documents::routes())
            .route("/settings", get(settings::show).post(settings::save))
            .route("/settings/emails", get(email_settings::show).post(email_settings::save))
            .route("/invitations/accept", get(invitation::show).post(invitation::accept))
            .with_state(self.clone())
            .layer(sessions);
        pages
            .merge(provider_api_govuk::assets::routes())
            .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(header(header::REFERRER_POLICY, "same-origin"))
            .layer(header(header::X_FRAME_OPTIONS, "DENY"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The routes the source declares, so that a page added without a place in [`PAGES`] (and so in the
    /// browser tests' manifest) fails here.
    #[test]
    fn every_route_is_a_listed_page_or_form_action() {
        // Every source file, read as it is on disk, so a route in a module added later is found too.
        let mut sources = Vec::new();
        let mut folders = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let declared = regex::Regex::new(r#"\.route\(\s*(?:"([^"]+)"|(CALLBACK_PATH))"#).unwrap();
        let mut routes = std::collections::BTreeSet::new();
        for source in &sources {
            for found in declared.captures_iter(source) {
                routes.insert(found.get(1).map_or(config::CALLBACK_PATH, |m| m.as_str()).to_owned());
            }
        }
        let listed: std::collections::BTreeSet<String> =
            PAGES.iter().chain(FORM_ACTIONS).chain(DOWNLOADS).chain(SCRIPT_CALLS).map(|r| (*r).to_owned()).collect();
        assert_eq!(routes, listed, "the routes declared and the routes listed differ");
    }
}
