//! `provider-portal`: the portal as its own process, in front of an API elsewhere (in production it scales
//! separately from the API). Configured by environment variables; see docs/portal.md "How it is deployed".
//!
//! PORTAL_BIND (default 127.0.0.1:8081), PORTAL_API_URL (where the portal calls the API), PORTAL_API_PUBLIC_URL
//! (where browsers are sent to sign in; default: PORTAL_API_URL), PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET (the
//! portal's registration, made by the regulator's staff with the callback at each origin),
//! PORTAL_ORIGINS (comma-separated; default http:// and the bound address), PORTAL_SESSION_DATABASE_URL
//! (default sqlite://data/portal-sessions.db), PORTAL_IDLE_TIMEOUT_SECONDS (default 1800),
//! PORTAL_TRUSTED_PROXIES (comma-separated addresses whose X-Forwarded-For is believed),
//! PORTAL_DOCUMENT_MAX_SIZE (the API's largest document in bytes; default 104857600).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use provider_api_portal::config::{DEFAULT_DOCUMENT_MAX_SIZE, DEFAULT_IDLE_TIMEOUT};
use provider_api_portal::{Portal, PortalConfig};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> Result<String, String> {
    var(name).ok_or_else(|| format!("set {name}"))
}

fn list(name: &str) -> Vec<String> {
    var(name).map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

async fn run() -> Result<(), String> {
    let bind: SocketAddr = var("PORTAL_BIND")
        .unwrap_or_else(|| "127.0.0.1:8081".into())
        .parse()
        .map_err(|e| format!("PORTAL_BIND: {e}"))?;
    let api_url = required("PORTAL_API_URL")?.trim_end_matches('/').to_owned();
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| format!("could not listen on {bind}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let origins = match list("PORTAL_ORIGINS") {
        origins if origins.is_empty() => vec![format!("http://{address}")],
        origins => origins,
    };
    let trusted_proxies = list("PORTAL_TRUSTED_PROXIES")
        .iter()
        .map(|p| p.parse().map_err(|e| format!("PORTAL_TRUSTED_PROXIES: {p}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let idle_timeout = match var("PORTAL_IDLE_TIMEOUT_SECONDS") {
        Some(seconds) => Duration::from_secs(seconds.parse().map_err(|e| format!("PORTAL_IDLE_TIMEOUT_SECONDS: {e}"))?),
        None => DEFAULT_IDLE_TIMEOUT,
    };
    let document_max_size = match var("PORTAL_DOCUMENT_MAX_SIZE") {
        Some(bytes) => bytes.parse().map_err(|e| format!("PORTAL_DOCUMENT_MAX_SIZE: {e}"))?,
        None => DEFAULT_DOCUMENT_MAX_SIZE,
    };
    let config = PortalConfig {
        api_public_url: Some(var("PORTAL_API_PUBLIC_URL").unwrap_or_else(|| api_url.clone())),
        api_url,
        client_id: required("PORTAL_CLIENT_ID")?,
        client_secret: required("PORTAL_CLIENT_SECRET")?,
        origins,
        session_database_url: var("PORTAL_SESSION_DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/portal-sessions.db".into()),
        idle_timeout,
        trusted_proxies,
        document_max_size,
    };
    let portal = Portal::start(config).await.map_err(|e| format!("could not open the session database: {e}"))?;
    portal.sessions().delete_expired_every(Duration::from_secs(600));
    eprintln!("Provider portal: http://{address}/ (the API at {})", portal.config().api_url);
    let service = portal.router().into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("provider-portal: {error}");
            ExitCode::FAILURE
        }
    }
}
