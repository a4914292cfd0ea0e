//! Access tokens for the SDK: obtained with the `oauth2` crate, cached, refreshed a minute before they expire,
//! and attached to every request by the generated client's pre-request hook.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::sync::Mutex;

/// Tokens are renewed this long before they expire, so a request never leaves with one about to lapse.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// The credentials a client holds, if any: the generated `Client`'s inner value.
#[derive(Clone, Default)]
pub struct Auth(Option<Arc<TokenSource>>);

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Auth(client credentials)" } else { "Auth(none)" })
    }
}

impl Auth {
    /// No credentials: for the public operations.
    pub fn none() -> Self {
        Self(None)
    }

    pub(crate) fn client_credentials(source: TokenSource) -> Self {
        Self(Some(Arc::new(source)))
    }

    /// Forgets the cached token, so the next request fetches a new one.
    pub async fn invalidate(&self) {
        if let Some(source) = &self.0 {
            *source.cached.lock().await = None;
        }
    }

    pub(crate) fn has_credentials(&self) -> bool {
        self.0.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token endpoint refused the credentials: {0}")]
    Refused(String),
    #[error("invalid token endpoint URL: {0}")]
    Url(String),
}

pub(crate) struct TokenSource {
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    pub(crate) fn new(
        token_url: String,
        client_id: String,
        client_secret: String,
        scopes: Vec<String>,
        http: reqwest::Client,
    ) -> Self {
        Self { token_url, client_id, client_secret, scopes, http, cached: Mutex::new(None) }
    }

    async fn token(&self) -> Result<String, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.clone()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(|e| AuthError::Url(e.to_string()))?);
        let http = |request: oauth2::HttpRequest| send(self.http.clone(), request);
        let response = client
            .exchange_client_credentials()
            .add_scopes(self.scopes.iter().cloned().map(Scope::new))
            .request_async(&http)
            .await
            .map_err(|e| AuthError::Refused(describe(&e)))?;
        let lifetime = response.expires_in().unwrap_or(Duration::from_secs(300));
        let token = response.access_token().secret().clone();
        *cached = Some((token.clone(), Instant::now() + lifetime.saturating_sub(RENEW_BEFORE_EXPIRY)));
        Ok(token)
    }
}

/// The oauth2 crate's HTTP seam, over the SDK's own reqwest client.
async fn send(http: reqwest::Client, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder.body(response.bytes().await?.to_vec()).expect("a response rebuilt from a valid one"))
}

fn describe<E: std::error::Error>(error: &E) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The generated client's pre-request hook: adds `Authorization: Bearer …` when the client has credentials.
pub async fn attach_token(auth: &Auth, request: &mut reqwest::Request) -> Result<(), AuthError> {
    if let Some(source) = &auth.0 {
        let token = source.token().await?;
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| AuthError::Refused(e.to_string()))?;
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(())
}
