use std::time::Duration;

use crate::Client;

/// Builds a [`Client`] with sensible defaults for talking to the provider API: a user agent that names the
/// SDK, connect and request timeouts.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
}

impl ClientBuilder {
    /// `base_url` is the server root, for example `https://provider-api.example` (no `/v1`: operation paths
    /// carry their version).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            user_agent: format!("provider-api-sdk-rust/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
        }
    }

    /// Identifies the calling software; sent before the SDK's own name.
    pub fn user_agent(mut self, product: &str) -> Self {
        self.user_agent = format!("{product} {}", self.user_agent);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .build()?;
        Ok(Client::new_with_client(&self.base_url, http))
    }
}
