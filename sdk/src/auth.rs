//! Access tokens for the SDK: obtained with the `oauth2` crate, cached, refreshed a minute before they expire,
//! and attached to every request by the generated client's pre-request hook.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::sync::Mutex;

/// Tokens are renewed this long before they expire, so a request never leaves with one about to lapse.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// The credentials a client holds, if any, and the address of the person it calls for: the generated
/// `Client`'s inner value.
#[derive(Clone, Default)]
pub struct Auth {
    source: Option<Arc<TokenSource>>,
    forwarded_for: Option<HeaderValue>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.source.is_some() { "Auth(credentials)" } else { "Auth(none)" })
    }
}

impl Auth {
    /// No credentials: for the public operations.
    pub fn none() -> Self {
        Self::default()
    }

    pub(crate) fn with(source: Option<TokenSource>, forwarded_for: Option<IpAddr>) -> Self {
        Self { source: source.map(Arc::new), forwarded_for: forwarded_for.map(forwarded) }
    }

    /// Forgets the cached token, so the next request fetches a new one.
    pub async fn invalidate(&self) {
        if let Some(source) = &self.source {
            source.invalidate().await;
        }
    }

    /// The access token the client is using now, if it has fetched one (to hand to a component that calls the
    /// API itself, or to revoke it).
    pub async fn cached_token(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        source.state.lock().await.1.as_ref().map(|(token, _)| token.clone())
    }

    /// For a person's sign-in: the refresh token now in force. The server rotates it on every refresh and
    /// treats a used one as stolen, so an application that outlives this client must store this one (not the
    /// one it started with).
    pub async fn current_refresh_token(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        match &source.state.lock().await.0 {
            Credential::Person { refresh_token, .. } => Some(refresh_token.clone()),
            Credential::ClientCredentials { .. } | Credential::AccessToken(_) => None,
        }
    }

    /// Whether a refused token can be replaced by asking again (not for a fixed access token).
    fn renewable(&self) -> bool {
        self.source.as_ref().is_some_and(|source| source.renewable)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token endpoint refused the credentials: {0}")]
    Refused(String),
    #[error("invalid token endpoint URL: {0}")]
    Url(String),
}

/// How a [`TokenSource`] gets its access tokens.
#[derive(Clone)]
pub(crate) enum Credential {
    /// An API client acting as itself.
    ClientCredentials { secret: String, scopes: Vec<String> },
    /// An integrator application acting for a person: each refresh returns the next refresh token, which
    /// replaces the last (the server refuses a refresh token used twice).
    Person { app_secret: Option<String>, refresh_token: String },
    /// An access token obtained elsewhere and used as it is, never renewed here: for an application that keeps
    /// a person's tokens itself (a web portal's server-side session) and refreshes them under its own lock.
    AccessToken(String),
}

/// Secrets never appear in debug output.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ClientCredentials { scopes, .. } => write!(f, "ClientCredentials {{ scopes: {scopes:?}, .. }}"),
            Self::Person { .. } => f.write_str("Person { .. }"),
            Self::AccessToken(_) => f.write_str("AccessToken(..)"),
        }
    }
}

pub(crate) struct TokenSource {
    token_url: String,
    client_id: String,
    http: reqwest::Client,
    renewable: bool,
    /// The credential and the cached access token change together, under one lock.
    state: Mutex<(Credential, Option<(String, Instant)>)>,
}

impl TokenSource {
    pub(crate) fn new(token_url: String, client_id: String, credential: Credential, http: reqwest::Client) -> Self {
        let renewable = !matches!(credential, Credential::AccessToken(_));
        Self { token_url, client_id, http, renewable, state: Mutex::new((credential, None)) }
    }

    async fn invalidate(&self) {
        self.state.lock().await.1 = None;
    }

    async fn token(&self) -> Result<String, AuthError> {
        let mut state = self.state.lock().await;
        if let Credential::AccessToken(token) = &state.0 {
            return Ok(token.clone());
        }
        if let Some((token, renew_at)) = state.1.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let token_url = TokenUrl::new(self.token_url.clone()).map_err(|e| AuthError::Url(e.to_string()))?;
        let client = BasicClient::new(ClientId::new(self.client_id.clone())).set_token_uri(token_url);
        let http = |request: oauth2::HttpRequest| send(self.http.clone(), request);
        let response = match &state.0 {
            Credential::ClientCredentials { secret, scopes } => client
                .set_client_secret(ClientSecret::new(secret.clone()))
                .set_auth_type(AuthType::BasicAuth)
                .exchange_client_credentials()
                .add_scopes(scopes.iter().cloned().map(Scope::new))
                .request_async(&http)
                .await
                .map_err(|e| AuthError::Refused(describe(&e)))?,
            Credential::Person { app_secret, refresh_token } => {
                let refresh = RefreshToken::new(refresh_token.clone());
                let request = match app_secret {
                    Some(secret) => {
                        client
                            .set_client_secret(ClientSecret::new(secret.clone()))
                            .set_auth_type(AuthType::BasicAuth)
                            .exchange_refresh_token(&refresh)
                            .request_async(&http)
                            .await
                    }
                    None => {
                        client
                            .set_auth_type(AuthType::RequestBody)
                            .exchange_refresh_token(&refresh)
                            .request_async(&http)
                            .await
                    }
                };
                request.map_err(|e| AuthError::Refused(describe(&e)))?
            }
            Credential::AccessToken(_) => unreachable!("a fixed access token is returned above"),
        };
        if let (Credential::Person { refresh_token, .. }, Some(next)) = (&mut state.0, response.refresh_token()) {
            *refresh_token = next.secret().clone();
        }
        let lifetime = response.expires_in().unwrap_or(Duration::from_secs(300));
        let token = response.access_token().secret().clone();
        state.1 = Some((token.clone(), Instant::now() + lifetime.saturating_sub(RENEW_BEFORE_EXPIRY)));
        Ok(token)
    }
}

/// Where to send a person to sign in, and the PKCE verifier to keep for [`exchange_code`].
pub struct AuthorizationRequest {
    pub url: String,
    /// Compare with the `state` the redirect brings back, to defend against CSRF.
    pub state: String,
    /// Keep it secret until the code comes back.
    pub pkce_verifier: String,
}

/// Builds the URL of the sign-in and consent page for an integrator application (PKCE S256).
pub fn authorization_url(
    base_url: &str,
    app_id: &str,
    redirect_uri: &str,
    scopes: &[&str],
) -> Result<AuthorizationRequest, AuthError> {
    let base = base_url.trim_end_matches('/');
    let client = BasicClient::new(ClientId::new(app_id.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{base}/v1/oauth/authorize")).map_err(|e| AuthError::Url(e.to_string()))?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| AuthError::Url(e.to_string()))?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    Ok(AuthorizationRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// The tokens a sign-in yields.
#[derive(Clone)]
pub struct PersonTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
}

impl PersonTokens {
    fn from_response(response: &oauth2::basic::BasicTokenResponse) -> Result<Self, AuthError> {
        Ok(Self {
            access_token: response.access_token().secret().clone(),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .ok_or_else(|| AuthError::Refused("no refresh token".into()))?,
            expires_in: response.expires_in().unwrap_or(Duration::from_secs(300)),
        })
    }
}

impl std::fmt::Debug for PersonTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonTokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// Exchanges the code the redirect brought back (with the PKCE verifier) for tokens.
pub async fn exchange_code(
    base_url: &str,
    app_id: &str,
    app_secret: Option<&str>,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: &str,
) -> Result<PersonTokens, AuthError> {
    App::new(base_url, app_id, app_secret).exchange_code(redirect_uri, code, pkce_verifier).await
}

/// An oauth2 client that knows only the token endpoint.
type TokenClient = BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// An integrator application's side of people's sign-ins, for one that keeps their tokens itself (a web
/// application's server-side session): exchanging the code, renewing, and revoking when they sign out.
#[derive(Clone)]
pub struct App {
    base_url: String,
    id: String,
    secret: Option<String>,
    http: reqwest::Client,
    forwarded_for: Option<HeaderValue>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("base_url", &self.base_url).field("id", &self.id).finish_non_exhaustive()
    }
}

impl App {
    /// `secret` is `None` for a public application (PKCE alone).
    pub fn new(base_url: &str, id: &str, secret: Option<&str>) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            id: id.to_owned(),
            secret: secret.map(str::to_owned),
            http: reqwest::Client::new(),
            forwarded_for: None,
        }
    }

    /// Sends through `http` (one connection pool for every person's calls).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Calls for a person at `address`, sent as `X-Forwarded-For`: a server believes it only from an
    /// application it trusts as a proxy, and then limits and audits by the person's address, not the
    /// application's.
    pub fn for_address(&self, address: IpAddr) -> Self {
        Self { forwarded_for: Some(forwarded(address)), ..self.clone() }
    }

    fn oauth_client(&self) -> Result<TokenClient, AuthError> {
        let token_url =
            TokenUrl::new(format!("{}/v1/oauth/token", self.base_url)).map_err(|e| AuthError::Url(e.to_string()))?;
        Ok(BasicClient::new(ClientId::new(self.id.clone())).set_token_uri(token_url))
    }

    /// The request with the person's address added, if known.
    fn forwarding(forwarded_for: &Option<HeaderValue>, mut request: oauth2::HttpRequest) -> oauth2::HttpRequest {
        if let Some(address) = forwarded_for {
            request.headers_mut().insert(X_FORWARDED_FOR, address.clone());
        }
        request
    }

    /// Exchanges the code the redirect brought back (with the PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<PersonTokens, AuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| AuthError::Url(e.to_string()))?;
        let client = self.oauth_client()?.set_redirect_uri(redirect);
        let (client_http, forwarded_for) = (self.http.clone(), self.forwarded_for.clone());
        let http = move |request| send(client_http.clone(), Self::forwarding(&forwarded_for, request));
        let code = AuthorizationCode::new(code.to_owned());
        let verifier = PkceCodeVerifier::new(pkce_verifier.to_owned());
        let response = match &self.secret {
            Some(secret) => {
                client
                    .set_client_secret(ClientSecret::new(secret.clone()))
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&http)
                    .await
            }
            None => {
                client
                    .set_auth_type(AuthType::RequestBody)
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&http)
                    .await
            }
        }
        .map_err(|e| AuthError::Refused(describe(&e)))?;
        PersonTokens::from_response(&response)
    }

    /// Exchanges a person's refresh token for new tokens. The server rotates refresh tokens: the one returned
    /// replaces `refresh_token`, which must never be sent again (a second use revokes the whole sign-in, as a
    /// stolen token would).
    pub async fn refresh(&self, refresh_token: &str) -> Result<PersonTokens, AuthError> {
        let client = self.oauth_client()?;
        let (client_http, forwarded_for) = (self.http.clone(), self.forwarded_for.clone());
        let http = move |request| send(client_http.clone(), Self::forwarding(&forwarded_for, request));
        let refresh = RefreshToken::new(refresh_token.to_owned());
        let response = match &self.secret {
            Some(secret) => {
                client
                    .set_client_secret(ClientSecret::new(secret.clone()))
                    .exchange_refresh_token(&refresh)
                    .request_async(&http)
                    .await
            }
            None => {
                client.set_auth_type(AuthType::RequestBody).exchange_refresh_token(&refresh).request_async(&http).await
            }
        }
        .map_err(|e| AuthError::Refused(describe(&e)))?;
        PersonTokens::from_response(&response)
    }

    /// Revokes a token (RFC 7009): a refresh token, which ends the sign-in it belongs to, or an access token,
    /// which stops working at once: what signing out does with both.
    pub async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        let mut form = vec![("token", token)];
        let mut request = self.http.post(format!("{}/v1/oauth/revoke", self.base_url));
        match &self.secret {
            Some(secret) => request = request.basic_auth(form_encode(&self.id), Some(form_encode(secret))),
            None => form.push(("client_id", &self.id)),
        }
        if let Some(address) = &self.forwarded_for {
            request = request.header(X_FORWARDED_FOR, address.clone());
        }
        let response = request.form(&form).send().await.map_err(|e| AuthError::Refused(describe(&e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(AuthError::Refused(format!("{}: {}", response.status(), response.text().await.unwrap_or_default())))
        }
    }
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before HTTP Basic encodes them.
fn form_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
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

/// Every generated call runs through this: a 401 means the token was revoked or the server no longer accepts
/// it (keys rotated early, say), so the cached token is dropped, a new one fetched and the request sent once
/// more. A request whose body cannot be replayed (a stream) is not retried.
impl progenitor_client::ClientHooks<Auth> for crate::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &progenitor_client::OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        use progenitor_client::ClientInfo;
        let replay = request.try_clone();
        let response = self.client().execute(request).await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        if !self.inner().renewable() {
            return Ok(response);
        }
        let (Some(mut replay), Some(source)) = (replay, self.inner().source.as_ref()) else { return Ok(response) };
        source.invalidate().await;
        let Ok(token) = source.token().await else { return Ok(response) };
        let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) else { return Ok(response) };
        replay.headers_mut().insert(AUTHORIZATION, value);
        self.client().execute(replay).await
    }
}

/// The generated client's pre-request hook: adds `Authorization: Bearer …` when the client has credentials,
/// and `X-Forwarded-For` when it calls for a person whose address it knows.
pub async fn attach_token(auth: &Auth, request: &mut reqwest::Request) -> Result<(), AuthError> {
    if let Some(source) = &auth.source {
        let token = source.token().await?;
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| AuthError::Refused(e.to_string()))?;
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    if let Some(address) = &auth.forwarded_for {
        request.headers_mut().insert(X_FORWARDED_FOR, address.clone());
    }
    Ok(())
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

fn forwarded(address: IpAddr) -> HeaderValue {
    HeaderValue::from_str(&address.to_string()).expect("an IP address is a valid header value")
}
