//! API clients: credentials for a provider's care-management software, made and managed by the
//! organisation's admins. A secret is shown once and stored only as a hash.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use provider_api_core::accounts::{ApiClient, User};
use provider_api_core::capability::granted_by;
use provider_api_core::capability::{Capability, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::principal::{AdminOrg, Authorized, Session};
use crate::auth::{Access, Subject, secret};
use crate::http::{Path, Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_clients, create_api_client))
        .routes(routes!(revoke_api_client))
        .routes(routes!(rotate_api_client_secret))
        .routes(routes!(replace_api_client_keys))
}

/// An API client (without its secret, which is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientView {
    /// The OAuth `client_id`.
    pub id: Uuid,
    #[schema(example = "Care records system")]
    pub name: String,
    pub roles: Vec<Role>,
    /// The scopes its tokens may carry.
    pub scopes: Vec<Capability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_ids: Option<Vec<Uuid>>,
    /// `client_secret_basic` or `private_key_jwt`.
    #[schema(example = "client_secret_basic")]
    pub authentication: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false)]
    pub last_used_at: Option<OffsetDateTime>,
    /// Set once revoked; a revoked client gets no tokens and its tokens stop working.
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiClient> for ApiClientView {
    fn from(c: ApiClient) -> Self {
        Self {
            roles: c.roles().into_iter().collect(),
            scopes: c.scopes().into_iter().collect(),
            location_ids: c.locations().map(|l| l.into_iter().collect()),
            authentication: if c.jwks.is_some() { "private_key_jwt" } else { "client_secret_basic" },
            id: c.id,
            name: c.name,
            created_at: c.created_at,
            last_used_at: c.last_used_at,
            revoked_at: c.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClients {
    pub items: Vec<ApiClientView>,
}

/// A client and, when it authenticates with a secret, that secret: shown this once only.
#[derive(Serialize, ToSchema)]
pub struct ApiClientWithSecret {
    pub client: ApiClientView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "pas_3q2-8mW0t7...")]
    pub client_secret: Option<String>,
}

provider_api_core::debug_redacting!(ApiClientWithSecret { shown: [client], redacted: [client_secret] });

/// List API clients
///
/// Every API client of the organisation, revoked ones included, without their secrets.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/api-clients",
    tag = tags::ORGANISATIONS,
    operation_id = "list_api_clients",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The API clients", body = ApiClients)),
)]
async fn list_api_clients(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Json<ApiClients>, Problem> {
    let items = state.store.api_clients(organisation_id).await?.into_iter().map(ApiClientView::from).collect();
    Ok(Json(ApiClients { items }))
}

fn public_jwks(value: &serde_json::Value) -> Result<(), ValidationError> {
    let invalid = |why: &'static str| Err(ValidationError::new("jwks").with_message(why.into()));
    let Ok(set) = serde_json::from_value::<jsonwebtoken::jwk::JwkSet>(value.clone()) else {
        return invalid("This is not a JSON Web Key Set (RFC 7517).");
    };
    if set.keys.is_empty() || set.keys.len() > 10 {
        return invalid("Give between 1 and 10 keys.");
    }
    let has_private = value["keys"].as_array().into_iter().flatten().any(|k| k.get("d").is_some());
    if has_private {
        return invalid("Send public keys only: a key here must not contain its private part (`d`).");
    }
    if set.keys.iter().any(|k| jsonwebtoken::DecodingKey::from_jwk(k).is_err()) {
        return invalid("One of the keys cannot verify signatures.");
    }
    if set.keys.iter().any(|k| rsa_modulus_bits(k).is_some_and(|bits| bits < MIN_RSA_BITS)) {
        return invalid(
            "An RSA key must be at least 2048 bits long (NCSC and NIST SP 800-131A); shorter keys can be broken.",
        );
    }
    Ok(())
}

/// RSA keys shorter than this are refused: 1024-bit keys are within reach of a determined attacker.
const MIN_RSA_BITS: usize = 2048;

/// The length of an RSA key's modulus in bits; `None` for other kinds of key.
fn rsa_modulus_bits(key: &jsonwebtoken::jwk::Jwk) -> Option<usize> {
    use base64::Engine;
    let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &key.algorithm else { return None };
    // A modulus that does not decode counts as no length at all.
    let modulus =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).unwrap_or_default();
    Some(
        modulus
            .iter()
            .position(|b| *b != 0)
            .map_or(0, |first| (modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize),
    )
}

/// An admin who may be handed an API client's credentials, by creating, rotating or re-keying it: a person in
/// a first-party session. Whoever holds a client's secret or keys acts as the client with every scope it has,
/// so neither a third-party application the person consented to (whatever it was granted) nor software with
/// the admin role may obtain them. On a path naming a client, that client must be within the keeper's reach.
/// All checked before the request body is read.
pub struct CredentialKeeper {
    pub person: User,
    pub access: Access,
    /// The client the path names, if it does.
    pub client: Option<ApiClient>,
}

impl FromRequestParts<AppState> for CredentialKeeper {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Authorized { principal, access, .. } = Authorized::<AdminOrg>::from_request_parts(parts, state).await?;
        match (principal.subject, principal.session) {
            (Subject::User(person), Session::FirstParty) => {
                let mut keeper = Self { person, access, client: None };
                let params =
                    axum::extract::RawPathParams::from_request_parts(parts, state).await.map_err(|_| no_client())?;
                if let Some((_, id)) = params.iter().find(|(name, _)| *name == "client_id") {
                    let id = id.parse::<Uuid>().map_err(|_| no_client())?;
                    let client = client_of(state, keeper.access.organisation_id, id).await?;
                    keeper.require_within_reach(&client)?;
                    keeper.client = Some(client);
                }
                Ok(keeper)
            }
            (Subject::User(_), _) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "first_party_only",
                "Only in the regulator's own service",
                "An API client's secret or keys go to whoever creates, rotates or re-keys it, so a third-party \
                 application cannot do this for you, whatever it was granted. Sign in to the provider portal \
                 to manage API clients.",
            )),
            (Subject::Client(_), _) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not permitted",
                "Only a person may create, rotate or re-key an API client: its secret or keys would give \
                 software every scope that client holds.",
            )),
        }
    }
}

impl CredentialKeeper {
    /// The capabilities a client with `roles` and `scopes` would have that the keeper's own roles do not grant
    /// or own token does not carry: a client is handed only to someone who could do all it can.
    fn beyond_reach(&self, roles: &BTreeSet<Role>, scopes: &BTreeSet<Capability>) -> BTreeSet<Capability> {
        let token = &self.access.scopes;
        let by_roles = granted_by(roles).into_iter().filter(|c| !self.access.granted.contains(c));
        let by_scopes = scopes.iter().copied().filter(|c| !token.contains(c));
        by_roles.chain(by_scopes).collect()
    }

    /// 403 `beyond_your_access` unless the client is within the keeper's reach.
    fn require_within_reach(&self, client: &ApiClient) -> Result<(), Problem> {
        let beyond = self.beyond_reach(&client.roles(), &client.scopes());
        if beyond.is_empty() {
            return Ok(());
        }
        let names = beyond.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "beyond_your_access",
            "This client can do more than you",
            format!(
                "This client can use {names}, which your own roles or access token do not give you; only someone \
                 who holds all it can do may take its secret or keys."
            ),
        ))
    }
}

/// A new API client.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Quality dashboard", "roles": ["viewer"], "scopes": ["org:read", "notifications:read", "registrations:read"], "location_ids": [provider_api_core::examples::LOCATION_ID]})))]
pub struct NewApiClient {
    #[validate(length(min = 1, max = 200), custom(function = "crate::organisations::not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200, example = "Care records system")]
    pub name: String,
    /// The roles the software acts with (at least one).
    #[validate(length(min = 1, max = 4, message = "Give at least one role."))]
    #[schema(min_items = 1, max_items = 4)]
    pub roles: Vec<Role>,
    /// The scopes its tokens may carry: at most those of the creator's own token (by default all of them).
    #[serde(default)]
    #[schema(nullable = false, max_items = 10)]
    pub scopes: Option<Vec<Capability>>,
    /// Locations of this organisation (the server checks) to limit it to; absent for every location.
    #[serde(default)]
    #[validate(length(
        min = 1,
        max = 1000,
        message = "Give at least one location, or leave this out for every location."
    ))]
    #[schema(nullable = false, min_items = 1, max_items = 1000)]
    pub location_ids: Option<Vec<Uuid>>,
    /// For `private_key_jwt`: the public keys (a JWKS, RFC 7517: `{"keys": [...]}`, 1 to 10 keys) the software
    /// signs its assertions with; the server checks each is a usable public key. Without it, the client gets a
    /// secret (`client_secret_basic`).
    #[serde(default)]
    #[validate(custom(function = "public_jwks"))]
    #[schema(nullable = false, value_type = Object)]
    pub jwks: Option<serde_json::Value>,
}

/// Create an API client
///
/// Credentials for the organisation's care-management software. With `jwks` it authenticates with signed
/// assertions (`private_key_jwt`); otherwise the response carries a `client_secret`, shown this once only.
/// Only a person signed in to the regulator's own service (a first-party session) may create one: through a
/// third-party application, 403 `first_party_only`. Its roles and scopes may not reach beyond the creator's
/// own roles and token (422 `beyond_your_access` on the field).
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/api-clients",
    tag = tags::ORGANISATIONS,
    operation_id = "create_api_client",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    request_body = NewApiClient,
    responses(
        (status = 201, description = "Created", body = ApiClientWithSecret),
        (status = 403, description = "Not an admin here, not a person, or not in a first-party session \
            (`first_party_only`)"),
    ),
)]
async fn create_api_client(
    State(state): State<AppState>,
    keeper: CredentialKeeper,
    Path(organisation_id): Path<Uuid>,
    ValidatedJson(new): ValidatedJson<NewApiClient>,
) -> Result<(StatusCode, Json<ApiClientWithSecret>), Problem> {
    let created_by = Some(keeper.person.id);
    super::check_locations(&state, organisation_id, new.location_ids.as_deref()).await?;
    // By default a client may carry every scope the creator's own token does.
    let reach: BTreeSet<Capability> =
        keeper.access.scopes.iter().copied().filter(|c| *c != Capability::Staff).collect();
    let beyond = |roles: &[Role], scopes: &[Capability]| {
        keeper.beyond_reach(&roles.iter().copied().collect(), &scopes.iter().copied().collect())
    };
    let mut errors = Vec::new();
    for (i, role) in new.roles.iter().enumerate() {
        let over = beyond(&[*role], &[]);
        if let Some(first) = over.first() {
            errors.push(provider_api_core::field_error::FieldError::new(
                format!("/roles/{i}"),
                "beyond_your_access",
                format!("You cannot give a client a role that can do more than your own: `{role}` grants `{first}`."),
            ));
        }
    }
    for (i, scope) in new.scopes.iter().flatten().enumerate() {
        if !beyond(&[], &[*scope]).is_empty() || *scope == Capability::Staff {
            errors.push(provider_api_core::field_error::FieldError::new(
                format!("/scopes/{i}"),
                "beyond_your_access",
                "You cannot give a client a scope your own access token does not have.",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let client_secret = new.jwks.is_none().then(|| secret::generate(secret::prefix::CLIENT_SECRET));
    let roles: BTreeSet<Role> = new.roles.into_iter().collect();
    let scopes: BTreeSet<Capability> = new.scopes.map_or(reach, |s| s.into_iter().collect());
    let client = ApiClient {
        id: Uuid::new_v4(),
        organisation_id,
        name: new.name.trim().to_owned(),
        secret_hash: client_secret.as_deref().map(secret::hash),
        jwks: new.jwks.map(|j| j.to_string()),
        roles: roles.iter().copied().collect(),
        scopes: scopes.iter().copied().collect(),
        location_ids: new.location_ids.map(|ids| ids.into_iter().collect()),
        created_by,
        created_at: state.clock.now_for(organisation_id),
        revoked_at: None,
        last_used_at: None,
    };
    state.store.create_api_client(&client).await?;
    Ok((StatusCode::CREATED, Json(ApiClientWithSecret { client: client.into(), client_secret })))
}

fn no_client() -> Problem {
    Problem::not_found("This organisation has no such API client.")
}

async fn client_of(state: &AppState, organisation_id: Uuid, client_id: Uuid) -> Result<ApiClient, Problem> {
    state.store.api_client(client_id).await?.filter(|c| c.organisation_id == organisation_id).ok_or_else(no_client)
}

/// Rotate an API client's secret
///
/// Issues a new secret (shown this once) and stops the old one working at once. Tokens already issued run
/// out within 15 minutes. For a `private_key_jwt` client, replace its keys instead (409). As for creating a
/// client: a person in a first-party session only (403 `first_party_only` otherwise), and only for a client
/// whose roles and scopes are within the caller's own (403 `beyond_your_access`).
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/api-clients/{client_id}/rotate",
    tag = tags::ORGANISATIONS,
    operation_id = "rotate_api_client_secret",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("client_id" = Uuid, Path, description = "The API client"),
    ),
    responses(
        (status = 200, description = "The new secret", body = ApiClientWithSecret),
        (status = 403, description = "Not an admin here, not a person, not in a first-party session \
            (`first_party_only`), or the client can do more than the caller (`beyond_your_access`)"),
        (status = 409, description = "The client is revoked, or uses keys rather than a secret"),
    ),
)]
async fn rotate_api_client_secret(
    State(state): State<AppState>,
    keeper: CredentialKeeper,
) -> Result<Json<ApiClientWithSecret>, Problem> {
    let mut client = keeper.client.ok_or_else(no_client)?;
    if client.revoked_at.is_some() || client.jwks.is_some() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_rotatable",
            "This client has no secret to rotate",
            "A revoked client cannot be rotated, and a private_key_jwt client has keys instead of a secret.",
        ));
    }
    let client_secret = secret::generate(secret::prefix::CLIENT_SECRET);
    state.store.set_api_client_secret(client.id, &secret::hash(&client_secret)).await?;
    client.secret_hash = Some(secret::hash(&client_secret));
    Ok(Json(ApiClientWithSecret { client: client.into(), client_secret: Some(client_secret) }))
}

/// Revoke an API client
///
/// The client gets no more tokens, and the tokens it holds stop working at once. Revoking is final.
#[utoipa::path(
    delete,
    path = "/v1/organisations/{organisation_id}/api-clients/{client_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "revoke_api_client",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("client_id" = Uuid, Path, description = "The API client"),
    ),
    responses((status = 204, description = "Revoked")),
)]
async fn revoke_api_client(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path((organisation_id, client_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    let client = client_of(&state, organisation_id, client_id).await?;
    state.store.revoke_api_client(client.id, state.clock.now_for(organisation_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New public keys for a `private_key_jwt` client.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "use": "sig", "alg": "ES256", "kid": "records-2026-12"}]}})))]
pub struct ClientKeys {
    /// The JWKS (RFC 7517: `{"keys": [...]}`, 1 to 10 public keys) that replaces the client's keys; the server
    /// checks each is a usable public key.
    #[validate(custom(function = "public_jwks"))]
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
}

/// Replace an API client's keys
///
/// For a `private_key_jwt` client: its new public keys. Assertions signed with keys no longer listed stop
/// working at once, so publish the new key alongside the old one first, switch the software over, then
/// replace again without the old one. A secret-based or revoked client cannot take keys (409). As for
/// creating a client: a person in a first-party session only (403 `first_party_only` otherwise), and only for
/// a client whose roles and scopes are within the caller's own (403 `beyond_your_access`).
#[utoipa::path(
    put,
    path = "/v1/organisations/{organisation_id}/api-clients/{client_id}/jwks",
    tag = tags::ORGANISATIONS,
    operation_id = "replace_api_client_keys",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("client_id" = Uuid, Path, description = "The API client"),
    ),
    request_body = ClientKeys,
    responses(
        (status = 200, description = "Replaced", body = ApiClientView),
        (status = 403, description = "Not an admin here, not a person, not in a first-party session \
            (`first_party_only`), or the client can do more than the caller (`beyond_your_access`)"),
        (status = 409, description = "The client is revoked, or uses a secret"),
    ),
)]
async fn replace_api_client_keys(
    State(state): State<AppState>,
    keeper: CredentialKeeper,
    ValidatedJson(keys): ValidatedJson<ClientKeys>,
) -> Result<Json<ApiClientView>, Problem> {
    let mut client = keeper.client.ok_or_else(no_client)?;
    if client.revoked_at.is_some() || client.jwks.is_none() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_a_key_client",
            "This client has no keys to replace",
            "A revoked client cannot take keys, and a client_secret_basic client has a secret instead (rotate it).",
        ));
    }
    let jwks = keys.jwks.to_string();
    state.store.set_api_client_jwks(client.id, &jwks).await?;
    client.jwks = Some(jwks);
    Ok(Json(client.into()))
}
