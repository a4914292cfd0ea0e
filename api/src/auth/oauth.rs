//! The OAuth 2.0 authorization server's endpoints: token (RFC 6749 §3.2), metadata (RFC 8414) and JWKS.
//!
//! Errors are problem details that also carry RFC 6749's `error` and `error_description`, so OAuth libraries
//! read them unchanged.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use provider_api_core::accounts::{ApiClient, IntegratorApp, Redemption, RefreshToken};
use provider_api_core::capability::{Capability, parse_list};
use provider_api_core::stored::SpaceList;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::authorize;
use super::keys::Jwks;
use super::secret;
use super::token::{Grant, LEEWAY_SECONDS};
use crate::http::Problem;
use crate::http::client_address::ClientAddress;
use crate::openapi::tags;
use crate::state::AppState;

pub const TOKEN_PATH: &str = "/v1/oauth/token";
pub const REVOKE_PATH: &str = "/v1/oauth/revoke";
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Client assertions must be short-lived: at most this far in the future (RFC 7523 leaves it to the server).
const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 300;
/// How long a person's sign-in lasts without use: each refresh issues a successor with a fresh lifetime.
const REFRESH_TOKEN_LIFETIME: time::Duration = time::Duration::days(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token))
        .routes(routes!(revoke_token))
        .routes(routes!(get_authorization_server_metadata))
        .routes(routes!(get_jwks))
        .routes(routes!(get_receipt_keys))
}

/// A token request (`application/x-www-form-urlencoded`). Parameters this server does not know are ignored,
/// as RFC 6749 requires; repeating one is an error.
#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"grant_type": "client_credentials", "scope": "notifications:read notifications:write"})))]
pub struct TokenRequest {
    /// The grant.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// Space-separated scopes to ask for; by default every scope the client holds. The client must hold each.
    #[schema(
        nullable = false,
        pattern = r"^[a-z]+:[a-z]+( [a-z]+:[a-z]+)*$",
        example = "notifications:read notifications:write"
    )]
    pub scope: Option<String>,
    /// The client's id; optional (with `client_secret_basic` it is in the Authorization header, with
    /// `private_key_jwt` in the assertion), but when sent it must match.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// For `private_key_jwt`: the assertion's type. Send it with `client_assertion`, and without HTTP Basic.
    #[schema(value_type = Option<ClientAssertionType>, nullable = false)]
    pub client_assertion_type: Option<String>,
    /// For `private_key_jwt`: a JWT signed with one of the client's registered keys (RFC 7523), with `iss` and
    /// `sub` the client id, `aud` the token endpoint URL, a `jti` never used before, and `exp` at most five
    /// minutes ahead.
    #[schema(nullable = false)]
    pub client_assertion: Option<String>,
    /// For `authorization_code`: the code the redirect carried.
    #[schema(nullable = false)]
    pub code: Option<String>,
    /// For `authorization_code`: the redirect URI of the authorization request, exactly.
    #[schema(nullable = false)]
    pub redirect_uri: Option<String>,
    /// For `authorization_code`: the PKCE code verifier (43–128 characters) whose S256 hash was the challenge.
    #[schema(nullable = false)]
    pub code_verifier: Option<String>,
    /// For `refresh_token`: the refresh token. Each is single-use: the response carries its successor, and
    /// presenting a used one revokes every token of that sign-in.
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
}

provider_api_core::debug_redacting!(TokenRequest {
    shown: [grant_type, scope, client_id, client_assertion_type, redirect_uri],
    redacted: [client_assertion, code, code_verifier, refresh_token]
});

/// Grant types this server supports.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    /// An API client acting as itself.
    ClientCredentials,
    /// An integrator application exchanging a code from the sign-in page (PKCE S256).
    AuthorizationCode,
    /// An integrator application renewing a person's access.
    RefreshToken,
}

/// The only client assertion type (RFC 7523 §2.2).
#[derive(Debug, ToSchema)]
pub enum ClientAssertionType {
    #[schema(rename = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    JwtBearer,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token: a JWT (RFC 9068), to be sent as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    #[schema(example = "notifications:read notifications:write")]
    pub scope: String,
    /// For a person's sign-in: a single-use refresh token for the next access token (30 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
}

provider_api_core::debug_redacting!(TokenResponse {
    shown: [token_type, expires_in, scope],
    redacted: [access_token, refresh_token]
});

/// An OAuth error as a problem: `code` and `error` are the RFC 6749 error code.
fn oauth_error(status: StatusCode, error: &'static str, description: impl Into<String>) -> Problem {
    let description = description.into();
    let mut problem = Problem::new(status, error, "The token request was refused", description.clone());
    problem.error = Some(error.to_owned());
    problem.error_description = Some(description);
    problem
}

fn invalid_client(description: &str) -> Problem {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="provider-api""#))
}

/// Get an access token
///
/// The OAuth 2.0 token endpoint. Care-management software authenticates as an API client, with HTTP Basic
/// (`client_secret_basic`) or a signed JWT (`private_key_jwt`, RFC 7523), and gets a 15-minute access token
/// for its organisation. Errors carry RFC 6749's `error` (`invalid_request`, `invalid_client`,
/// `unsupported_grant_type`, `invalid_scope`) beside the problem fields.
#[utoipa::path(
    post,
    path = "/v1/oauth/token",
    tag = tags::OAUTH,
    operation_id = "issue_token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 401, description = "The client could not be authenticated (`invalid_client`); see `WWW-Authenticate`"),
    ),
    security(()),
)]
async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TokenResponse>, Problem> {
    require_form(&headers)?;
    let request: TokenRequest = serde_urlencoded::from_bytes(&body).map_err(|e| {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request", format!("The request is malformed: {e}."))
    })?;

    let grant = request.grant_type.as_str();
    if !matches!(grant, "client_credentials" | "authorization_code" | "refresh_token") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("The grant type `{grant}` is not supported here."),
        ));
    }
    let client = authenticate_client(&state, &headers, address, request.client_authentication()).await?;
    // The audit trail records which client asked, whatever the answer.
    if let Some(axum::Extension(slot)) = &slot {
        match &client {
            OAuthClient::Api(client) => slot.set(None, Some(client.id)),
            OAuthClient::App(app) => slot.set(None, Some(app.id)),
        }
    }
    match (grant, client) {
        ("client_credentials", OAuthClient::Api(client)) => {
            client_credentials(&state, client, &request).await.map(Json)
        }
        ("authorization_code", OAuthClient::App(app)) => authorization_code(&state, app, &request).await.map(Json),
        ("refresh_token", OAuthClient::App(app)) => refresh(&state, app, &request).await.map(Json),
        _ => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            format!("This kind of client may not use the `{grant}` grant."),
        )),
    }
}

/// A client the token endpoint has authenticated.
enum OAuthClient {
    /// A provider's API client.
    Api(ApiClient),
    /// An integrator application (confidential with a secret, or public with PKCE alone).
    App(IntegratorApp),
}

async fn client_credentials(
    state: &AppState,
    client: ApiClient,
    request: &TokenRequest,
) -> Result<TokenResponse, Problem> {
    let scopes = granted_scopes(&client, request.scope.as_deref())?;
    let (access_token, _) = state.tokens.issue(Grant {
        subject: client.id,
        client_id: client.id,
        scopes: scopes.clone(),
        organisation: Some(client.organisation_id),
        roles: client.roles().iter().map(|r| r.as_str().to_owned()).collect(),
        org_roles: Default::default(),
        acting_client: None,
    });
    state.store.api_client_used(client.id, state.clock.now()).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        scope: SpaceList::from(scopes.clone()).to_string(),
        refresh_token: None,
    })
}

fn invalid_grant(description: &str) -> Problem {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

async fn authorization_code(
    state: &AppState,
    app: IntegratorApp,
    request: &TokenRequest,
) -> Result<TokenResponse, Problem> {
    let (Some(code), Some(verifier)) = (request.code.as_deref(), request.code_verifier.as_deref()) else {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Send `code` and `code_verifier`."));
    };
    let now = state.clock.now();
    let code = match state.store.redeem_authorization_code(&secret::hash(code), app.id, now).await? {
        Redemption::Fresh(code) => code,
        Redemption::Replayed(code) => {
            // RFC 6749 §4.1.2: a code used twice may have been stolen; revoke what it was exchanged for.
            state.store.revoke_refresh_family(code.family_id, now).await?;
            return Err(invalid_grant("This code has been used already; the tokens issued for it are revoked."));
        }
        Redemption::Unknown => return Err(invalid_grant("The code is not valid.")),
    };
    if code.app_id != app.id || code.expires_at < now {
        return Err(invalid_grant("The code is not valid for this application, or has expired."));
    }
    if request.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri must be the one the authorization request used."));
    }
    if !authorize::pkce_matches(verifier, &code.code_challenge) {
        return Err(invalid_grant("The code verifier does not match the code challenge (PKCE S256)."));
    }
    let scopes: BTreeSet<Capability> = code.scopes.0.clone();
    person_tokens(state, &app, code.user_id, scopes, code.family_id).await
}

async fn refresh(state: &AppState, app: IntegratorApp, request: &TokenRequest) -> Result<TokenResponse, Problem> {
    let Some(presented) = request.refresh_token.as_deref() else {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Send `refresh_token`."));
    };
    let now = state.clock.now();
    let hash = secret::hash(presented);
    // A refused request changes nothing: a live token asked for more than it holds is refused before it is
    // spent, so the client can retry with it. (A spent or revoked one goes on to redemption, whose reuse
    // detection must not be dodged by asking for a bad scope.)
    if let Some(live) = state
        .store
        .refresh_token(&hash)
        .await?
        .filter(|t| t.app_id == app.id && t.used_at.is_none() && t.revoked_at.is_none() && t.expires_at >= now)
    {
        narrowed_scopes(&live, request.scope.as_deref())?;
    }
    let token = match state.store.redeem_refresh_token(&hash, app.id, now).await? {
        Redemption::Fresh(token) => token,
        Redemption::Replayed(token) => {
            state.store.revoke_refresh_family(token.family_id, now).await?;
            return Err(invalid_grant(
                "This refresh token has been used or revoked; every token of this sign-in is now revoked. Sign in again.",
            ));
        }
        Redemption::Unknown => return Err(invalid_grant("The refresh token is not valid.")),
    };
    if token.app_id != app.id || token.expires_at < now {
        return Err(invalid_grant("The refresh token is not valid for this application, or has expired."));
    }
    let scopes = narrowed_scopes(&token, request.scope.as_deref())?;
    // The person consented to what the application could then ask for; once the regulator narrows the
    // application, its sign-ins narrow with it at their next refresh.
    let scopes: BTreeSet<Capability> = scopes.intersection(&app.scopes()).copied().collect();
    if scopes.is_empty() {
        return Err(invalid_grant("The application may no longer ask for anything this sign-in granted."));
    }
    person_tokens(state, &app, token.user_id, scopes, token.family_id).await
}

/// The scopes a refresh asks for (`asked`, or all the token holds when absent): only ever fewer.
fn narrowed_scopes(token: &RefreshToken, asked: Option<&str>) -> Result<BTreeSet<Capability>, Problem> {
    let held: BTreeSet<Capability> = token.scopes.0.clone();
    match asked.filter(|s| !s.trim().is_empty()) {
        None => Ok(held),
        Some(asked) => match parse_list::<Capability>(asked) {
            Ok(asked) if asked.is_subset(&held) => Ok(asked),
            _ => Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "A refresh may only narrow the scopes.")),
        },
    }
}

/// An access token and the next refresh token for a person, issued to an integrator application.
async fn person_tokens(
    state: &AppState,
    app: &IntegratorApp,
    user_id: Uuid,
    scopes: BTreeSet<Capability>,
    family_id: Uuid,
) -> Result<TokenResponse, Problem> {
    let active = state.store.user(user_id).await?.is_some_and(|user| !user.disabled);
    if !active {
        return Err(invalid_grant("The account is disabled."));
    }
    let org_roles = state
        .store
        .memberships_of(user_id)
        .await?
        .into_iter()
        .map(|m| (m.organisation_id, m.roles().iter().map(|r| r.as_str().to_owned()).collect()))
        .collect();
    let (access_token, _) = state.tokens.issue(Grant {
        subject: user_id,
        client_id: app.id,
        scopes: scopes.clone(),
        organisation: None,
        roles: Vec::new(),
        org_roles,
        acting_client: Some(app.id),
    });
    let refresh_token = secret::generate(secret::prefix::REFRESH_TOKEN);
    let now = state.clock.now();
    state
        .store
        .create_refresh_token(&RefreshToken {
            token_hash: secret::hash(&refresh_token),
            family_id,
            app_id: app.id,
            user_id,
            scopes: scopes.clone().into(),
            created_at: now,
            expires_at: now + REFRESH_TOKEN_LIFETIME,
            used_at: None,
            revoked_at: None,
        })
        .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        scope: SpaceList::from(scopes.clone()).to_string(),
        refresh_token: Some(refresh_token),
    })
}

/// The requested scopes, which must all be the client's; by default all of the client's.
fn granted_scopes(client: &ApiClient, requested: Option<&str>) -> Result<BTreeSet<Capability>, Problem> {
    let held = client.scopes();
    let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else { return Ok(held) };
    let requested: BTreeSet<Capability> = parse_list(requested).map_err(|e| {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", format!("{e}; see scopes_supported in the metadata."))
    })?;
    if let Some(missing) = requested.difference(&held).next() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("This client does not hold the `{missing}` scope."),
        ));
    }
    Ok(requested)
}

/// How a request to the token or revocation endpoint says which client it is, besides HTTP Basic.
struct ClientAuthentication<'a> {
    client_id: Option<&'a str>,
    assertion_type: Option<&'a str>,
    assertion: Option<&'a str>,
}

impl TokenRequest {
    fn client_authentication(&self) -> ClientAuthentication<'_> {
        ClientAuthentication {
            client_id: self.client_id.as_deref(),
            assertion_type: self.client_assertion_type.as_deref(),
            assertion: self.client_assertion.as_deref(),
        }
    }
}

impl RevocationRequest {
    fn client_authentication(&self) -> ClientAuthentication<'_> {
        ClientAuthentication {
            client_id: self.client_id.as_deref(),
            assertion_type: self.client_assertion_type.as_deref(),
            assertion: self.client_assertion.as_deref(),
        }
    }
}

impl OAuthClient {
    fn id(&self) -> Uuid {
        match self {
            Self::Api(client) => client.id,
            Self::App(app) => app.id,
        }
    }
}

/// The credentials of an `Authorization: Basic …` header, the scheme read in any case (RFC 9110 §11.1). The rate
/// limiter reads the header with this too: what it leaves to client authentication must be exactly what client
/// authentication then checks.
pub fn basic_credentials(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("basic").then(|| credentials.trim())
}

async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    address: std::net::IpAddr,
    request: ClientAuthentication<'_>,
) -> Result<OAuthClient, Problem> {
    let basic = basic_credentials(headers);
    match (basic, request.assertion) {
        (Some(_), Some(_)) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Authenticate the client one way only: HTTP Basic or a client assertion.",
        )),
        (Some(credentials), None) => {
            // Wrong secrets from an address are slowed down (checked before the secret is, so that guessing
            // on past the limit learns nothing); a client that authenticates spends its own allowance.
            let throttle = &state.sign_in.client_secrets;
            let address_key = crate::http::client_address::allowance_key(address).to_string();
            let attempt = match throttle.attempt(&address_key).await {
                Ok(attempt) => attempt,
                Err(wait) => {
                    let seconds = wait.as_secs().max(1);
                    return Err(Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_attempts",
                        "Too many failed client authentications",
                        format!("Too many wrong client credentials from this address. Wait {seconds} seconds."),
                    )
                    .with_header(header::RETRY_AFTER, HeaderValue::from(seconds)));
                }
            };
            // Counted before the check (so parallel guesses cannot all pass), and given back when right: a web
            // application's requests for every person come from one address.
            let client = authenticate_with_secret(state, credentials).await?;
            throttle.refund(&address_key, attempt).await;
            state.rate_limits.charge_client(client.id()).await?;
            if request.client_id.is_some_and(|sent| sent != client.id().to_string()) {
                return Err(invalid_client("client_id differs from the client that authenticated."));
            }
            Ok(client)
        }
        (None, Some(assertion)) => {
            if request.assertion_type != Some(JWT_BEARER_ASSERTION) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("client_assertion_type must be `{JWT_BEARER_ASSERTION}`."),
                ));
            }
            authenticate_with_assertion(state, assertion, request.client_id).await.map(OAuthClient::Api)
        }
        // A public application (a browser or native app) has no secret: it names itself, and PKCE protects it.
        (None, None) => match public_app(state, request.client_id).await? {
            Some(app) => Ok(OAuthClient::App(app)),
            None => Err(invalid_client("Authenticate the client with HTTP Basic or a private_key_jwt assertion.")),
        },
    }
}

async fn public_app(state: &AppState, client_id: Option<&str>) -> Result<Option<IntegratorApp>, Problem> {
    let Some(id) = client_id.and_then(|id| id.parse::<Uuid>().ok()) else { return Ok(None) };
    Ok(state.store.integrator_app(id).await?.filter(|app| app.revoked_at.is_none() && app.secret_hash.is_none()))
}

async fn authenticate_with_secret(state: &AppState, credentials: &str) -> Result<OAuthClient, Problem> {
    let refused = || invalid_client("The client id or secret is wrong, or the client has been revoked.");
    let decoded = STANDARD.decode(credentials.trim()).map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (id, presented) = decoded.split_once(':').ok_or_else(refused)?;
    // RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined.
    let decode =
        |s: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}")).ok()?.pop().map(|(_, v)| v);
    let (id, presented) = (decode(id).ok_or_else(refused)?, decode(presented).ok_or_else(refused)?);
    let Ok(id) = id.parse::<Uuid>() else { return Err(refused()) };
    let secret_matches = |hash: Option<&str>| hash.is_some_and(|h| secret::matches(&presented, h));
    if let Some(client) = state.store.api_client(id).await? {
        if client.revoked_at.is_none() && secret_matches(client.secret_hash.as_deref()) {
            return Ok(OAuthClient::Api(client));
        }
        return Err(refused());
    }
    match state.store.integrator_app(id).await? {
        Some(app) if app.revoked_at.is_none() && secret_matches(app.secret_hash.as_deref()) => {
            Ok(OAuthClient::App(app))
        }
        _ => Err(refused()),
    }
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

async fn authenticate_with_assertion(
    state: &AppState,
    assertion: &str,
    client_id: Option<&str>,
) -> Result<ApiClient, Problem> {
    let refused = |why: &str| invalid_client(&format!("The client assertion is not acceptable: {why}."));
    // The issuer names the client whose keys verify the signature; it is read before verification only to
    // find those keys, and checked again by the verification.
    let issuer = unverified_issuer(assertion).ok_or_else(|| refused("it is not a JWT with an `iss` claim"))?;
    if client_id.is_some_and(|id| id != issuer) {
        return Err(refused("client_id and the assertion's issuer differ"));
    }
    let client = match issuer.parse::<Uuid>() {
        Ok(id) => state.store.api_client(id).await?,
        Err(_) => None,
    };
    let Some(client) = client.filter(|c| c.revoked_at.is_none()) else {
        return Err(refused("its issuer is not an active client"));
    };
    let jwks: jsonwebtoken::jwk::JwkSet = client
        .jwks
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(|| refused("this client has no registered public keys"))?;
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| refused("its header is malformed"))?;
    use jsonwebtoken::Algorithm::{ES256, EdDSA, PS256, RS256};
    if !matches!(header.alg, ES256 | RS256 | PS256 | EdDSA) {
        return Err(refused("it is signed with an algorithm this server does not accept"));
    }
    let candidates: Vec<&jsonwebtoken::jwk::Jwk> = match &header.kid {
        Some(kid) => jwks.keys.iter().filter(|k| k.common.key_id.as_deref() == Some(kid.as_str())).collect(),
        None => jwks.keys.iter().collect(),
    };

    let token_endpoint = format!("{}{TOKEN_PATH}", state.tokens.issuer);
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    // Expiry is checked below against the server's clock, not by jsonwebtoken against the system's.
    validation.validate_exp = false;
    validation.set_audience(&[token_endpoint.as_str(), state.tokens.issuer.as_str()]);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = candidates
        .iter()
        .filter_map(|jwk| jsonwebtoken::DecodingKey::from_jwk(jwk).ok())
        .find_map(|key| jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation).ok())
        .map(|data| data.claims)
        .ok_or_else(|| refused("its signature, audience, issuer or expiry does not verify"))?;

    if claims.sub != claims.iss {
        return Err(refused("sub must equal iss, the client id"));
    }
    let now_at = state.clock.now();
    let now = now_at.unix_timestamp();
    if claims.exp + LEEWAY_SECONDS as i64 <= now {
        return Err(refused("it has expired"));
    }
    if claims.exp - now > MAX_ASSERTION_LIFETIME_SECONDS + LEEWAY_SECONDS as i64 {
        return Err(refused("it expires too far ahead (at most 5 minutes)"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256).ok_or_else(|| refused("it has no jti"))?;
    let expires = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or(now_at);
    if !state.store.remember_client_assertion(client.id, &jti, expires, now_at).await? {
        return Err(refused("it has been used before"));
    }
    Ok(client)
}

fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    json.get("iss")?.as_str().map(str::to_owned)
}

/// A revocation request (RFC 7009), `application/x-www-form-urlencoded`.
#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"token": "par_Yp2Lq8Vd4Hs0", "token_type_hint": "refresh_token"})))]
pub struct RevocationRequest {
    /// A refresh token (which revokes the whole sign-in), or an access token.
    pub token: String,
    /// `refresh_token` or `access_token`: a hint only; both kinds are recognised without it.
    #[schema(nullable = false)]
    pub token_type_hint: Option<String>,
    /// A public application's id (confidential clients authenticate with HTTP Basic or an assertion instead).
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// For `private_key_jwt` clients, as at the token endpoint.
    #[schema(value_type = Option<ClientAssertionType>, nullable = false)]
    pub client_assertion_type: Option<String>,
    /// For `private_key_jwt` clients, as at the token endpoint.
    #[schema(nullable = false)]
    pub client_assertion: Option<String>,
}

provider_api_core::debug_redacting!(RevocationRequest {
    shown: [token_type_hint, client_id, client_assertion_type],
    redacted: [token, client_assertion]
});

/// Revoke a token
///
/// Revokes a refresh token (and with it every token of that sign-in) or an access token, if it was issued to
/// the calling client (RFC 7009). Answers 200 whether or not there was anything to revoke, so the answer says
/// nothing about other clients' tokens.
#[utoipa::path(
    post,
    path = "/v1/oauth/revoke",
    tag = tags::OAUTH,
    operation_id = "revoke_token",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 401, description = "The client could not be authenticated (`invalid_client`)"),
    ),
    security(()),
)]
async fn revoke_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    require_form(&headers)?;
    let request: RevocationRequest = serde_urlencoded::from_bytes(&body).map_err(|e| {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request", format!("The request is malformed: {e}."))
    })?;
    let client_id = authenticate_client(&state, &headers, address, request.client_authentication()).await?.id();
    let now = state.clock.now();
    if request.token.starts_with(secret::prefix::REFRESH_TOKEN) {
        if let Some(token) = state.store.refresh_token(&secret::hash(&request.token)).await?
            && token.app_id == client_id
        {
            state.store.revoke_refresh_family(token.family_id, now).await?;
        }
    } else if let Ok(claims) = state.tokens.verify(&request.token, state.store.as_ref()).await
        && claims.client_id == client_id
    {
        let expires = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or(now);
        state.store.revoke_access_token(claims.jti, expires, state.clock.now()).await?;
    }
    Ok(StatusCode::OK)
}

fn require_form(headers: &HeaderMap) -> Result<(), Problem> {
    let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if is_form { Ok(()) } else { Err(Problem::unsupported_media_type("application/x-www-form-urlencoded")) }
}

/// Authorization server metadata (RFC 8414).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The issuer: the `iss` of every access token.
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// Always true: authorization responses carry `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
}

/// Get the authorization server metadata
///
/// Where the token endpoint and keys are, and what this server supports (RFC 8414), so OAuth libraries can
/// configure themselves.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = tags::OAUTH,
    operation_id = "get_authorization_server_metadata",
    responses((status = 200, description = "The metadata", body = AuthorizationServerMetadata)),
    security(()),
)]
async fn get_authorization_server_metadata(State(state): State<AppState>) -> Json<AuthorizationServerMetadata> {
    let issuer = state.tokens.issuer.clone();
    Json(AuthorizationServerMetadata {
        token_endpoint: format!("{issuer}{TOKEN_PATH}"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        authorization_endpoint: format!("{issuer}/v1/oauth/authorize"),
        revocation_endpoint: format!("{issuer}{REVOKE_PATH}"),
        grant_types_supported: vec!["client_credentials", "authorization_code", "refresh_token"],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic", "private_key_jwt", "none"],
        token_endpoint_auth_signing_alg_values_supported: vec!["ES256", "RS256", "PS256", "EdDSA"],
        scopes_supported: Capability::ALL.iter().map(|c| c.as_str()).collect(),
        response_types_supported: vec!["code"],
        code_challenge_methods_supported: vec!["S256"],
        authorization_response_iss_parameter_supported: true,
        issuer,
    })
}

/// Get the token-signing keys
///
/// The public keys access tokens are signed with (a JSON Web Key Set), for verifying tokens offline. After a
/// key rotation the previous key stays here until tokens it signed have expired. Receipts outlive that: verify
/// them against `/.well-known/receipt-keys.json`.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = tags::OAUTH,
    operation_id = "get_jwks",
    responses((status = 200, description = "The key set", body = Jwks)),
    security(()),
)]
async fn get_jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.tokens.keys.jwks())
}

/// Get the receipt-signing keys
///
/// Every public key that has ever signed (a JSON Web Key Set), retired ones included and never dropped: a
/// receipt (notification or registration) stays verifiable for as long as anyone keeps it. Only these keys'
/// receipts are genuine; an access token signed with a retired key is refused all the same.
#[utoipa::path(
    get,
    path = "/.well-known/receipt-keys.json",
    tag = tags::OAUTH,
    operation_id = "get_receipt_keys",
    responses((status = 200, description = "Every key that has signed", body = Jwks)),
    security(()),
)]
async fn get_receipt_keys(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.tokens.keys.every_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scopes: &str) -> RefreshToken {
        let now = OffsetDateTime::UNIX_EPOCH;
        RefreshToken {
            token_hash: "h".into(),
            family_id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            scopes: scopes.parse().unwrap(),
            created_at: now,
            expires_at: now,
            used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_refresh_may_narrow_its_scopes_but_never_widen_them() {
        let held = token("org:read notifications:read");
        assert_eq!(narrowed_scopes(&held, None).unwrap().len(), 2);
        assert_eq!(narrowed_scopes(&held, Some(" ")).unwrap().len(), 2, "blank asks for all it holds");
        assert_eq!(narrowed_scopes(&held, Some("org:read")).unwrap(), BTreeSet::from([Capability::OrgRead]));
        for wider in ["org:read org:admin", "org:read superuser"] {
            assert_eq!(narrowed_scopes(&held, Some(wider)).unwrap_err().code, "invalid_scope", "{wider}");
        }
    }
}
