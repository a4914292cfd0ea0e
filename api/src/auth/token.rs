//! Access tokens: JWTs per RFC 9068, signed ES256, verified with the algorithm pinned.

use std::sync::Arc;

use provider_api_core::clock::Clock;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use provider_api_core::capability::Capability;
use provider_api_store::Store;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::KeyRing;

/// RFC 9068 §2.1: access tokens say what they are in their header.
pub const TOKEN_TYPE: &str = "at+jwt";
/// Every access token's audience: this API.
pub const AUDIENCE: &str = "provider-api";
/// Clock skew tolerated between nodes and clients, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user, or (for client credentials) the API client itself.
    pub sub: Uuid,
    /// The OAuth client the token was issued to.
    pub client_id: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// Space-separated capabilities the token may exercise (at most; roles may grant less).
    pub scope: String,
    /// For an API client: its organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// For an API client: its roles when the token was issued (informative; rights are checked live).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// For a person: their organisations and roles there when the token was issued (informative; rights are
    /// checked live on every request).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub org_roles: BTreeMap<Uuid, Vec<String>>,
    /// For an integrator acting for a user (RFC 8693 §4.1): the acting client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: Uuid,
}

impl AccessClaims {
    /// Whether the token represents an API client acting as itself (client credentials).
    pub fn is_client(&self) -> bool {
        self.sub == self.client_id
    }

    pub fn scopes(&self) -> BTreeSet<Capability> {
        self.scope.split_ascii_whitespace().filter_map(|s| s.parse().ok()).collect()
    }
}

/// What a new token is for.
pub struct Grant {
    pub subject: Uuid,
    pub client_id: Uuid,
    pub scopes: BTreeSet<Capability>,
    pub organisation: Option<Uuid>,
    pub roles: Vec<String>,
    pub org_roles: BTreeMap<Uuid, Vec<String>>,
    pub acting_client: Option<Uuid>,
}

/// Issues and verifies access tokens for one issuer.
pub struct TokenService {
    pub clock: Arc<dyn Clock>,
    pub issuer: String,
    pub ttl: Duration,
    pub keys: KeyRing,
    pub verified: VerifiedTokens,
}

/// Access tokens whose signature and claims have been checked, by their SHA-256. Checking an ES256 signature
/// costs more than the rest of a typical request's own work, and software sends the same token for up to 15
/// minutes. Expiry is still checked on every use, and revocation by the caller on every request (it is in
/// the database, not the token).
#[derive(Default)]
pub struct VerifiedTokens(std::sync::Mutex<std::collections::HashMap<[u8; 32], AccessClaims>>);

/// Past this many, the cache starts again (a bound on memory, about 10 MB, not a tuning knob).
const MAX_VERIFIED: usize = 20_000;

impl VerifiedTokens {
    fn key(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    fn get(&self, token: &str, now: i64) -> Option<Result<AccessClaims, InvalidToken>> {
        let claims = self.0.lock().expect("the cache lock is never poisoned").get(&Self::key(token)).cloned()?;
        Some(if claims.exp + LEEWAY_SECONDS as i64 <= now { Err(InvalidToken::Expired) } else { Ok(claims) })
    }

    fn insert(&self, token: &str, claims: &AccessClaims) {
        let mut cache = self.0.lock().expect("the cache lock is never poisoned");
        if cache.len() >= MAX_VERIFIED {
            cache.clear();
        }
        cache.insert(Self::key(token), claims.clone());
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidToken {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    #[error("the token is signed with an algorithm this API does not accept")]
    WrongAlgorithm,
    #[error("the token's signing key is not one of ours")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for another audience")]
    WrongAudience,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token's signature does not verify")]
    BadSignature,
}

impl TokenService {
    /// A compact ES256 JWS over `claims` with the server's current token key (a submission's receipt); `typ`
    /// says what it is, so one kind of signed statement can never pass for another (or for an access token).
    pub fn sign_statement(&self, typ: &str, claims: &impl Serialize) -> String {
        let (kid, key) = self.keys.signing();
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(kid);
        jsonwebtoken::encode(&header, claims, &key).expect("ES256 signing does not fail")
    }

    pub fn issue(&self, grant: Grant) -> (String, AccessClaims) {
        let now = self.clock.now().unix_timestamp();
        let scope = grant.scopes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" ");
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: grant.subject,
            client_id: grant.client_id,
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs() as i64,
            jti: Uuid::new_v4(),
            scope,
            org: grant.organisation,
            roles: grant.roles,
            org_roles: grant.org_roles,
            act: grant.acting_client.map(|sub| Actor { sub }),
        };
        let (kid, key) = self.keys.signing();
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(kid);
        let token = jsonwebtoken::encode(&header, &claims, &key).expect("ES256 signing does not fail");
        (token, claims)
    }

    pub async fn verify(&self, token: &str, store: &dyn Store) -> Result<AccessClaims, InvalidToken> {
        if let Some(known) = self.verified.get(token, self.clock.now().unix_timestamp()) {
            return known;
        }
        let claims = self.verify_signed(token, store).await?;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str, store: &dyn Store) -> Result<AccessClaims, InvalidToken> {
        // The header is read before the signature is checked only to pick the key; everything in it is
        // checked again by `decode` (the algorithm is pinned, so `none` and HS256 never verify).
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken::Malformed)?;
        if header.alg != Algorithm::ES256 {
            return Err(InvalidToken::WrongAlgorithm);
        }
        let typ = header.typ.as_deref().unwrap_or_default().to_ascii_lowercase();
        if typ != TOKEN_TYPE && typ != "application/at+jwt" {
            return Err(InvalidToken::WrongType);
        }
        let kid = header.kid.ok_or(InvalidToken::UnknownKey)?;
        let key = self.keys.decoding(&kid, store).await.ok_or(InvalidToken::UnknownKey)?;

        let mut validation = Validation::new(Algorithm::ES256);
        // The times are checked below against the server's clock, not by jsonwebtoken against the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation).map(|data| data.claims).map_err(
            |error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => InvalidToken::Expired,
                    ErrorKind::ImmatureSignature => InvalidToken::NotYetValid,
                    ErrorKind::InvalidAudience => InvalidToken::WrongAudience,
                    ErrorKind::InvalidIssuer => InvalidToken::WrongIssuer,
                    ErrorKind::InvalidSignature => InvalidToken::BadSignature,
                    ErrorKind::InvalidAlgorithm => InvalidToken::WrongAlgorithm,
                    _ => InvalidToken::Malformed,
                }
            },
        )?;
        check_times(&claims, self.clock.now().unix_timestamp())?;
        Ok(claims)
    }
}

/// A token's times against `now`, each with the clock leeway: expired at `exp`, not valid before `nbf`, and
/// (since we issue tokens with `nbf` equal to `iat`) one issued later than now is not one we issued as it
/// stands: refused as not yet valid.
fn check_times(claims: &AccessClaims, now: i64) -> Result<(), InvalidToken> {
    let leeway = LEEWAY_SECONDS as i64;
    if claims.exp + leeway <= now {
        return Err(InvalidToken::Expired);
    }
    if claims.nbf > now + leeway || claims.iat > now + leeway {
        return Err(InvalidToken::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in_seconds: i64) -> AccessClaims {
        let now = 1_780_000_000;
        AccessClaims {
            iss: "http://issuer".into(),
            aud: AUDIENCE.into(),
            sub: Uuid::new_v4(),
            client_id: Uuid::new_v4(),
            iat: now - 60,
            nbf: now - 60,
            exp: now + exp_in_seconds,
            jti: Uuid::new_v4(),
            scope: String::new(),
            org: None,
            roles: Vec::new(),
            org_roles: BTreeMap::new(),
            act: None,
        }
    }

    #[test]
    fn a_token_issued_in_the_future_is_not_valid_yet_beyond_the_leeway() {
        let token = claims(600);
        let now = token.iat;
        assert_eq!(check_times(&token, now), Ok(()));
        assert_eq!(check_times(&token, now - LEEWAY_SECONDS as i64), Ok(()), "within the leeway");
        assert_eq!(check_times(&token, now - LEEWAY_SECONDS as i64 - 1), Err(InvalidToken::NotYetValid));
    }

    #[test]
    fn a_remembered_token_still_expires_and_others_are_not_remembered() {
        let cache = VerifiedTokens::default();
        let live = claims(600);
        cache.insert("token-a", &live);
        assert_eq!(cache.get("token-a", live.iat + 60), Some(Ok(live.clone())));
        assert_eq!(cache.get("token-b", live.iat + 60), None);
        cache.insert("token-old", &claims(-(LEEWAY_SECONDS as i64) - 1));
        assert_eq!(cache.get("token-old", live.iat + 60), Some(Err(InvalidToken::Expired)));
    }
}
