//! How a portal is deployed: where it calls the API, which OAuth client it is, where people reach it, and where
//! its sessions are kept.

use std::time::Duration;

/// The portal's deployment. Beside the API (the run command's default) the server fills this in itself; as its
/// own process it is configured (see docs/portal.md).
#[derive(Clone)]
pub struct PortalConfig {
    /// Where the portal calls the API, server to server (no trailing slash, no `/v1`).
    pub api_url: String,
    /// Where browsers are sent to sign in (the API's public URL). `None` when the API is served on the same
    /// origin as the portal, as beside it: the person's own origin is used.
    pub api_public_url: Option<String>,
    /// The portal's OAuth client: a first-party, confidential integrator application.
    pub client_id: String,
    pub client_secret: String,
    /// The origins (`scheme://host[:port]`) people reach the portal at; the callback is registered at each.
    /// A request for any other host is answered as if made at the first.
    pub origins: Vec<String>,
    /// `sqlite://…` or `postgres://…`: where sessions are kept.
    pub session_database_url: String,
    /// How long a session lasts without a request.
    pub idle_timeout: Duration,
    /// Load balancers in front of the portal whose `X-Forwarded-For` is believed, to know each person's
    /// address (passed on to the API).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest document the API takes, in bytes: an upload is stopped past it, as the API would.
    pub document_max_size: u64,
}

impl std::fmt::Debug for PortalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalConfig")
            .field("api_url", &self.api_url)
            .field("api_public_url", &self.api_public_url)
            .field("client_id", &self.client_id)
            .field("origins", &self.origins)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// The path the API's sign-in page sends people back to.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// Sessions last this long without use unless configured otherwise: long enough to write a notification's
/// hardest answer, short enough that a shared computer left alone signs itself out.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The API's default largest document (its `document_max_size`).
pub const DEFAULT_DOCUMENT_MAX_SIZE: u64 = 100 * 1024 * 1024;

impl PortalConfig {
    /// The redirect URIs to register for the portal's OAuth client: the callback at each origin.
    pub fn redirect_uris(origins: &[String]) -> Vec<String> {
        origins.iter().map(|origin| format!("{}{CALLBACK_PATH}", origin.trim_end_matches('/'))).collect()
    }

    /// Whether people reach the portal over https, so the cookie is `Secure` and `__Host-` prefixed.
    pub fn secure(&self) -> bool {
        self.origins.first().is_some_and(|origin| origin.starts_with("https://"))
    }

    /// The origin a request was made at, if it is one of the portal's; else the first.
    pub fn origin_for(&self, host: Option<&str>) -> &str {
        let fallback = self.origins.first().map(String::as_str).unwrap_or("http://127.0.0.1");
        let Some(host) = host else { return fallback };
        self.origins
            .iter()
            .map(|origin| origin.trim_end_matches('/'))
            .find(|origin| origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)))
            .unwrap_or(fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(origins: &[&str]) -> PortalConfig {
        PortalConfig {
            api_url: "http://127.0.0.1:8080".into(),
            api_public_url: None,
            client_id: "id".into(),
            client_secret: "secret".into(),
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            session_database_url: "sqlite::memory:".into(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            trusted_proxies: Vec::new(),
            document_max_size: DEFAULT_DOCUMENT_MAX_SIZE,
        }
    }

    #[test]
    fn a_request_is_answered_at_its_own_origin_only_when_it_is_the_portals() {
        let config = config(&["http://127.0.0.1:8080", "http://localhost:8080"]);
        assert_eq!(config.origin_for(Some("localhost:8080")), "http://localhost:8080");
        assert_eq!(config.origin_for(Some("LOCALHOST:8080")), "http://localhost:8080");
        assert_eq!(config.origin_for(Some("evil.example")), "http://127.0.0.1:8080");
        assert_eq!(config.origin_for(None), "http://127.0.0.1:8080");
        assert!(!config.secure());
        assert!(self::config(&["https://portal.example"]).secure());
        assert_eq!(
            PortalConfig::redirect_uris(&config.origins),
            ["http://127.0.0.1:8080/auth/callback", "http://localhost:8080/auth/callback"]
        );
    }
}
