//! The composition the `provider-api` command serves: the API, with the provider portal beside it at `/`
//! unless configured off. The portal is a client of the API like any other: it calls it over HTTP through the
//! SDK, as a first-party confidential application.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use provider_api_core::clock::Clock;
use provider_api_http::config::Config;
use provider_api_http::{Application, bootstrap};
use provider_api_portal::{Portal, PortalConfig};
use secrecy::ExposeSecret;
use uuid::Uuid;

/// The portal's application id when the server registers it itself (the local default).
pub const LOCAL_PORTAL_APP_ID: Uuid = uuid::uuid!("0193a5b2-7c1e-7000-8000-00000000fa11");

/// How often expired portal sessions are removed.
const SESSION_SWEEP: Duration = Duration::from_secs(10 * 60);

/// Mounts the portal beside the API, registering its application first when no client is configured.
pub async fn with_portal(
    application: Application,
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Application> {
    let portal = start_portal(&application, config, clock).await?;
    Ok(application.with_site(portal.router()))
}

/// Starts the portal for `application` (without mounting it).
pub async fn start_portal(application: &Application, config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Portal> {
    let address = application.local_addr();
    let origins = if !config.portal_origins.is_empty() {
        config.portal_origins.clone()
    } else if let Some(url) = &config.public_base_url {
        vec![url.clone()]
    } else {
        local_origins(address)
    };
    let (client_id, client_secret) = match (&config.portal_client_id, &config.portal_client_secret) {
        (Some(id), Some(secret)) => (id.clone(), secret.expose_secret().to_owned()),
        _ => {
            let redirect_uris = PortalConfig::redirect_uris(&origins);
            let secret = bootstrap::ensure_local_portal_app(
                application.store().as_ref(),
                LOCAL_PORTAL_APP_ID,
                &redirect_uris,
                clock.now(),
            )
            .await
            .context("could not register the portal's application")?;
            (LOCAL_PORTAL_APP_ID.to_string(), secret)
        }
    };
    let portal = Portal::start(PortalConfig {
        // Server to server, over loopback: the portal is in this process.
        api_url: format!("http://{}", loopback(address)),
        api_public_url: None,
        client_id,
        client_secret,
        origins,
        session_database_url: config.portal_session_database_url(),
        idle_timeout: config.portal_idle_timeout,
        trusted_proxies: config.trusted_proxies(),
        document_max_size: config.document_max_size,
    })
    .await
    .context("could not open the portal's session database")?;
    portal.sessions().delete_expired_every(SESSION_SWEEP);
    Ok(portal)
}

/// Where people reach a server bound to `address` on this machine: as bound, and as `localhost` when that is
/// loopback (or every interface), since people type either.
fn local_origins(address: SocketAddr) -> Vec<String> {
    let port = address.port();
    if address.ip().is_loopback() || address.ip().is_unspecified() {
        vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")]
    } else {
        vec![format!("http://{address}")]
    }
}

/// An address this process can call itself at.
fn loopback(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], address.port())) } else { address }
}
