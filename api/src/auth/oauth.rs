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
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::capability::{Capability, parse_list};
use super::keys::Jwks;
use super::secret;
use super::token::{Grant, LEEWAY_SECONDS};
use crate::accounts::ApiClient;
use crate::http::Problem;
use crate::openapi::tags;
use crate::state::AppState;

pub const TOKEN_PATH: &str = "/v1/oauth/token";
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Client assertions must be short-lived: at most this far in the future (RFC 7523 leaves it to the server).
const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 300;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token))
        .routes(routes!(get_authorization_server_metadata))
        .routes(routes!(get_jwks))
}

/// A token request (`application/x-www-form-urlencoded`). Parameters this server does not know are ignored,
/// as RFC 6749 requires; repeating one is an error.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The grant: `client_credentials` (an API client acting as itself).
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
}

/// Grant types this server supports.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
}

/// The only client assertion type (RFC 7523 §2.2).
#[derive(Debug, ToSchema)]
pub enum ClientAssertionType {
    #[schema(rename = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    JwtBearer,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
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
}

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
        (status = 401, description = "The client could not be authenticated (`invalid_client`); see `WWW-Authenticate`",
            body = crate::http::problem::ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TokenResponse>, Problem> {
    let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(Problem::unsupported_media_type("application/x-www-form-urlencoded"));
    }
    let request: TokenRequest = serde_urlencoded::from_bytes(&body).map_err(|e| {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request", format!("The request is malformed: {e}."))
    })?;

    match request.grant_type.as_str() {
        "client_credentials" => client_credentials(&state, &headers, &request).await.map(Json),
        other => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("The grant type `{other}` is not supported here; use `client_credentials`."),
        )),
    }
}

async fn client_credentials(
    state: &AppState,
    headers: &HeaderMap,
    request: &TokenRequest,
) -> Result<TokenResponse, Problem> {
    let client = authenticate_client(state, headers, request).await?;
    let scopes = granted_scopes(&client, request.scope.as_deref())?;
    let (access_token, _) = state.tokens.issue(Grant {
        subject: client.id,
        client_id: client.id,
        scopes: scopes.clone(),
        organisation: Some(client.organisation_id),
        roles: client.roles().iter().map(|r| r.as_str().to_owned()).collect(),
        acting_client: None,
    });
    state.store.api_client_used(client.id, OffsetDateTime::now_utc()).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        scope: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
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

async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    request: &TokenRequest,
) -> Result<ApiClient, Problem> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    match (basic, request.client_assertion.as_deref()) {
        (Some(_), Some(_)) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Authenticate the client one way only: HTTP Basic or a client assertion.",
        )),
        (Some(credentials), None) => authenticate_with_secret(state, credentials).await,
        (None, Some(assertion)) => {
            if request.client_assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("client_assertion_type must be `{JWT_BEARER_ASSERTION}`."),
                ));
            }
            authenticate_with_assertion(state, assertion, request.client_id.as_deref()).await
        }
        (None, None) => Err(invalid_client("Authenticate the client with HTTP Basic or a private_key_jwt assertion.")),
    }
}

async fn authenticate_with_secret(state: &AppState, credentials: &str) -> Result<ApiClient, Problem> {
    let refused = || invalid_client("The client id or secret is wrong, or the client has been revoked.");
    let decoded = STANDARD.decode(credentials.trim()).map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (id, presented) = decoded.split_once(':').ok_or_else(refused)?;
    // RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined.
    let decode =
        |s: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}")).ok()?.pop().map(|(_, v)| v);
    let (id, presented) = (decode(id).ok_or_else(refused)?, decode(presented).ok_or_else(refused)?);
    let client = match id.parse::<Uuid>() {
        Ok(id) => state.store.api_client(id).await?,
        Err(_) => None,
    };
    match client {
        Some(client)
            if client.revoked_at.is_none()
                && client.secret_hash.as_deref().is_some_and(|h| secret::matches(&presented, h)) =>
        {
            Ok(client)
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
    validation.leeway = LEEWAY_SECONDS;
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
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if claims.exp - now > MAX_ASSERTION_LIFETIME_SECONDS + LEEWAY_SECONDS as i64 {
        return Err(refused("it expires too far ahead (at most 5 minutes)"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256).ok_or_else(|| refused("it has no jti"))?;
    let expires = OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or_else(|_| OffsetDateTime::now_utc());
    if !state.store.remember_client_assertion(client.id, &jti, expires).await? {
        return Err(refused("it has been used before"));
    }
    Ok(client)
}

fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    json.get("iss")?.as_str().map(str::to_owned)
}

/// Authorization server metadata (RFC 8414).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The issuer: the `iss` of every access token.
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
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
        issuer,
        grant_types_supported: vec!["client_credentials"],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic", "private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: vec!["ES256", "RS256", "PS256", "EdDSA"],
        scopes_supported: Capability::ALL.iter().map(|c| c.as_str()).collect(),
        // The authorization-code flow (with PKCE S256) is not served yet; see docs/identity.md.
        response_types_supported: vec![],
        code_challenge_methods_supported: vec![],
    })
}

/// Get the token-signing keys
///
/// The public keys access tokens are signed with (a JSON Web Key Set), for verifying tokens and receipts
/// offline. After a key rotation the previous key stays here until tokens it signed have expired.
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
