//! The provider API server. [`Application::build`] opens the database, migrates it and binds the listener;
//! [`Application::run_until_stopped`] serves until SIGINT or SIGTERM, then drains in-flight requests.
//! Tests build with port 0 and read the bound address back.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use utoipa_swagger_ui::SwaggerUi;

mod actor_view;
mod admin;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod documents;
mod events;
mod health;
pub mod http;
mod identifiers;
pub mod mail;
pub mod notifications;
pub mod openapi;
pub mod organisations;
pub mod reference;
pub mod register;
pub mod registrations;
pub mod site;
pub mod state;
pub mod telemetry;

use auth::keys::KeyRing;
use auth::token::TokenService;
use config::Config;
use http::Problem;
use http::rate_limit::RateLimits;
use provider_api_core::clock::{Clock, SystemClock};
use provider_api_store::Store;
use state::AppState;

pub const SPEC_ROUTE: &str = "/v1/openapi.json";
pub const DOCS_ROUTE: &str = "/docs";

pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Arc<dyn Store>,
    rate_limits: Arc<RateLimits>,
    tokens: Arc<TokenService>,
    shutdown_grace: Duration,
    documents: Arc<documents::Documents>,
    clock: Arc<dyn Clock>,
    /// Emails people about waiting work, once serving.
    email_worker: mail::outbox::EmailWorker,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`build`](Self::build), reading the time from `clock` (tests set the time this way).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // A form schema the validator cannot compile is a bug to catch at start-up, not on a request.
        provider_api_core::notifications::validation::prepare();
        provider_api_core::registrations::catalogue::prepare();
        let store = config.open_store().await.context("could not open the database")?;
        store.migrate().await.context("could not migrate the database")?;
        let listener =
            TcpListener::bind(config.bind).await.with_context(|| format!("could not listen on {}", config.bind))?;
        let issuer = match &config.public_base_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let keys = KeyRing::load(store.as_ref(), config.access_token_ttl, clock.clone())
            .await
            .context("could not load signing keys")?;
        let tokens = Arc::new(TokenService {
            clock: clock.clone(),
            issuer,
            ttl: config.access_token_ttl,
            keys,
            verified: Default::default(),
        });
        let shared_counts = match secrecy::ExposeSecret::expose_secret(&config.rate_limit_store) {
            "memory" => None,
            url => {
                let shared = http::shared_counts::SharedCounts::new(url, &config.rate_limit_key_prefix)
                    .map_err(|why| anyhow::anyhow!("rate_limit_store: {why}"))?;
                // Said once at start, so an operator sees at once whether the nodes share their counts.
                let sharing = shared.sharing().await;
                if sharing.shared {
                    tracing::info!(redis = %shared.address(), "rate limits and sign-in backoff are shared through Redis");
                }
                Some(Arc::new(shared))
            }
        };
        let rate_limits = Arc::new(RateLimits::sharing(config.quotas(), shared_counts.clone()));
        let blobs = documents::blob::open(&config.blob_settings()).context("could not open the document store")?;
        let documents = Arc::new(documents::Documents::new(blobs, config.document_settings()));
        let public_base_url = tokens.issuer.clone();
        let portal_url = config
            .portal_url
            .clone()
            .or_else(|| config.portal_origins.first().cloned())
            .or_else(|| config.portal.then(|| public_base_url.clone()));
        let token_service = tokens.clone();
        if config.environment == config::Environment::Development {
            if config.smtp_url.is_none() {
                tracing::warn!(
                    outbox = %config.mail_outbox.display(),
                    "development: emails are not sent but kept in the outbox folder (set smtp_url; a production \
                     start requires it)"
                );
            }
            if config.clamd_address.is_none() {
                tracing::warn!(
                    "development: documents are not scanned for malware and are served as clean (set \
                     clamd_address; a production start requires it)"
                );
            }
        }
        let mailer: Arc<dyn mail::Mailer> = Arc::from(mail::from_config(&config));
        let email_queue = Arc::new(mail::outbox::EmailQueue::default());
        let email_worker = mail::outbox::EmailWorker {
            store: store.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
            queue: email_queue.clone(),
            portal_url: portal_url.clone(),
            poll: config.email_poll,
        };
        let state = AppState {
            clock: clock.clone(),
            store: store.clone(),
            tokens,
            sign_in: Arc::new(state::SignInThrottles::new(shared_counts)),
            rate_limits: rate_limits.clone(),
            mailer,
            emails: email_queue,
            public_base_url,
            portal_url,
            trusted_proxies: Arc::new(config.trusted_proxies()),
            invitations_per_day: config.invitations_per_organisation_per_day,
            request_timeout: config.request_timeout,
            activity_codes: Arc::new(
                store
                    .regulated_activities()
                    .await
                    .context("could not read reference data")?
                    .into_iter()
                    .map(|a| a.code)
                    .collect(),
            ),
            service_types: Arc::new(
                store
                    .service_types()
                    .await
                    .context("could not read reference data")?
                    .into_iter()
                    .map(|t| t.code)
                    .collect(),
            ),
            service_user_bands: Arc::new(
                store
                    .service_user_bands()
                    .await
                    .context("could not read reference data")?
                    .into_iter()
                    .map(|b| b.code)
                    .collect(),
            ),
            documents: documents.clone(),
            audit: audit::AuditWriter::start(store.clone()),
        };
        let router = router(state, &config);
        Ok(Self {
            listener,
            router,
            store,
            rate_limits,
            tokens: token_service,
            shutdown_grace: config.shutdown_grace,
            documents,
            clock,
            email_worker,
        })
    }

    /// The storage the server uses (tests reach past the API with it, to simulate failures).
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Document storage and scanning (tests reach the blob store through it).
    pub fn documents(&self) -> Arc<documents::Documents> {
        self.documents.clone()
    }

    /// Mounts `site` (the portal) at `/`, beside the API; the API's own paths ([`site::RESERVED`]) stay the
    /// API's whatever `site` routes.
    pub fn with_site(mut self, site: Router) -> Self {
        self.router = site::mount(self.router, site);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish (for at most
    /// the configured grace period) and closes the database pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signalled = async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = stopping_tx.send(());
        };
        let rate_limits = self.rate_limits.clone();
        let (tokens, store, clock) = (self.tokens.clone(), self.store.clone(), self.clock.clone());
        let scanner = tokio::spawn(documents::housekeeping::scan_forever(
            self.store.clone(),
            self.documents.clone(),
            self.clock.clone(),
        ));
        let document_service = self.documents.clone();
        let email_worker = tokio::spawn(self.email_worker.run_forever());
        let housekeeping = tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(auth::keys::RELOAD_EVERY);
            loop {
                every_minute.tick().await;
                rate_limits.forget_idle();
                // Picks up a key another node or `provider-api rotate-keys` made, so signing moves to it.
                if let Err(error) = tokens.keys.reload(store.as_ref()).await {
                    tracing::warn!(%error, "could not reload signing keys");
                }
                if let Err(error) =
                    documents::housekeeping::remove_expired_uploads(store.as_ref(), &document_service, clock.now())
                        .await
                {
                    tracing::warn!(%error, "could not remove expired uploads");
                }
                let kept_since = clock.now() - http::idempotency::KEPT_FOR;
                if let Err(error) = store.purge_idempotency_keys(kept_since).await {
                    tracing::warn!(%error, "could not purge old idempotency keys");
                }
            }
        });
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, service).with_graceful_shutdown(signalled);
        let grace = self.shutdown_grace;
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            result = serve => result,
            () = deadline => {
                tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period; stopping anyway");
                Ok(())
            }
        };
        housekeeping.abort();
        scanner.abort();
        email_worker.abort();
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// The whole HTTP surface: documented API routes, the spec and its docs page, and a problem for anything else.
pub fn router(state: AppState, config: &Config) -> Router {
    // One document: served as the spec, and read by the audit layer for each route's operation id.
    let (api, mut document) = openapi::api_router().split_for_parts();
    openapi::complete(&mut document);
    let spec = openapi::to_json(&document);
    let operations = Arc::new(audit::Operations::of(&document));
    let router = api
        .route_layer(axum::middleware::from_fn_with_state((state.clone(), operations), audit::record))
        .route(
            SPEC_ROUTE,
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], spec).into_response() }),
        )
        .merge(SwaggerUi::new(DOCS_ROUTE).config(utoipa_swagger_ui::Config::from(SPEC_ROUTE)))
        // The stylesheet and scripts of the sign-in pages (the portal's too, when it is served beside).
        .merge(provider_api_govuk::assets::routes())
        .fallback(|| async { Problem::not_found("There is nothing at this address. The API lives under /v1.") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::rate_limit::limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::request_time::keep))
        .with_state(state);
    http::middleware::apply(router, &config.http_policy())
}

async fn shutdown_signal() {
    let interrupt = async {
        tokio::signal::ctrl_c().await.expect("the SIGINT handler installs");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler installs")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
