use std::time::Duration;

use crate::Client;
use crate::auth::{Auth, Credential, TokenSource};

/// Builds a [`Client`]: a user agent that names the SDK, connect and request timeouts, and optionally OAuth 2.0
/// client credentials, after which every call carries a (cached, renewed) access token.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    credentials: Option<(String, Credential)>,
    forwarded_for: Option<std::net::IpAddr>,
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
            credentials: None,
            forwarded_for: None,
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

    /// Authenticate as an API client (`client_secret_basic`), asking for `scopes` (empty: all it holds).
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        scopes: &[&str],
    ) -> Self {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        let credential = Credential::ClientCredentials { secret: client_secret.into(), scopes };
        self.credentials = Some((client_id.into(), credential));
        self
    }

    /// Act for a person as an integrator application, from the refresh token a sign-in returned
    /// ([`crate::auth::exchange_code`]). `app_secret` is `None` for a public application.
    pub fn person(
        mut self,
        app_id: impl Into<String>,
        app_secret: Option<&str>,
        refresh_token: impl Into<String>,
    ) -> Self {
        let credential =
            Credential::Person { app_secret: app_secret.map(str::to_owned), refresh_token: refresh_token.into() };
        self.credentials = Some((app_id.into(), credential));
        self
    }

    /// Call with an access token obtained and renewed elsewhere (a web application keeping a person's tokens
    /// in its server-side session), sent as it is; a refused one is not retried.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some((String::new(), Credential::AccessToken(token.into())));
        self
    }

    /// Calls for a person at `address`, sent as `X-Forwarded-For` with every request (a web application
    /// calling for the people using it; the server believes it only from an application it trusts as a proxy).
    pub fn forwarded_for(mut self, address: std::net::IpAddr) -> Self {
        self.forwarded_for = Some(address);
        self
    }

    pub fn build(self) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .build()?;
        Ok(self.build_with(http))
    }

    /// Builds on an HTTP client made elsewhere (its user agent and timeouts apply, not this builder's), so a
    /// server making a client per request shares one connection pool among them.
    pub fn build_with(self, http: reqwest::Client) -> Client {
        let source = self.credentials.map(|(id, credential)| {
            let token_url = format!("{}/v1/oauth/token", self.base_url);
            TokenSource::new(token_url, id, credential, http.clone())
        });
        let auth = Auth::with(source, self.forwarded_for);
        Client::new_with_client(&self.base_url, http, auth)
    }
}
