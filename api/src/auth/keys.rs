//! The server's signing keys: ES256, generated on first start and kept in the database so that every node
//! signs and verifies with the same keys and a restart does not invalidate tokens.
//!
//! The newest unretired key signs. Retired keys stay published (JWKS) until tokens they signed have expired.
//! A token whose `kid` is unknown makes the ring reload from the database (at most every few seconds), so a
//! key another node created is picked up without a restart.

use std::sync::Arc;

use provider_api_core::clock::Clock;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use provider_api_store::{Store, StoreError, StoredSigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::secret;

pub const ALGORITHM: &str = "ES256";
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(5);
/// How often every node reloads the keys from the database (see `Application::run_until`).
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

/// A public key as a JSON Web Key (RFC 7517), as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicJwk {
    /// Key type: always `EC`.
    pub kty: String,
    /// Curve: always `P-256`.
    pub crv: String,
    /// The x coordinate, base64url.
    pub x: String,
    /// The y coordinate, base64url.
    pub y: String,
    /// Key id: the RFC 7638 thumbprint of the key; tokens name it in their header.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// Always `ES256`.
    pub alg: String,
}

/// A JSON Web Key Set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    /// Every key a currently valid token may be signed with.
    pub keys: Vec<PublicJwk>,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public: PublicJwk,
    retired_at: Option<OffsetDateTime>,
}

struct Ring {
    keys: Vec<Key>,
    loaded_at: Instant,
}

pub struct KeyRing {
    ring: RwLock<Ring>,
    clock: Arc<dyn Clock>,
    /// How long a retired key stays published: the longest a token it signed can live, plus leeway.
    publish_retired_for: time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored signing key {kid} is unusable: {reason}")]
    Corrupt { kid: String, reason: String },
}

impl KeyRing {
    /// Loads the keys, creating the first one if there is none.
    pub async fn load(store: &dyn Store, token_ttl: Duration, clock: Arc<dyn Clock>) -> Result<Self, KeyError> {
        // A node learns of a rotation within a reload interval and may sign with the old key until then, so the
        // old key stays valid for a token's lifetime after that, plus clock leeway.
        let publish_retired_for = time::Duration::try_from(token_ttl).unwrap_or(time::Duration::HOUR)
            + time::Duration::try_from(RELOAD_EVERY).unwrap_or(time::Duration::MINUTE)
            + time::Duration::seconds(super::token::LEEWAY_SECONDS as i64);
        let mut stored = store.signing_keys().await?;
        if !stored.iter().any(|k| k.retired_at.is_none()) {
            store.insert_signing_key(&generate(clock.now())).await?;
            stored = store.signing_keys().await?;
        }
        let ring = Ring { keys: decode_all(stored)?, loaded_at: Instant::now() };
        Ok(Self { ring: RwLock::new(ring), clock, publish_retired_for })
    }

    /// Makes a new key the signing key and retires the others; they stay published until their tokens expire.
    pub async fn rotate(store: &dyn Store, now: OffsetDateTime) -> Result<String, KeyError> {
        let key = generate(now);
        store.rotate_signing_key(&key, now).await?;
        Ok(key.kid)
    }

    /// The signing key: the newest one not retired.
    pub fn signing(&self) -> (String, EncodingKey) {
        let ring = self.ring.read().expect("the key ring lock is never poisoned");
        let key = ring.keys.iter().find(|k| k.retired_at.is_none()).expect("a ring always has an active key");
        (key.kid.clone(), key.encoding.clone())
    }

    /// Reloads the keys from the database now.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyError> {
        let keys = decode_all(store.signing_keys().await?)?;
        if keys.iter().any(|k| k.retired_at.is_none()) {
            *self.ring.write().expect("not poisoned") = Ring { keys, loaded_at: Instant::now() };
        }
        Ok(())
    }

    /// The verification key for `kid`, reloading from the database once if it is not known here yet.
    pub async fn decoding(&self, kid: &str, store: &dyn Store) -> Option<DecodingKey> {
        if let Some(key) = self.find(kid) {
            return Some(key);
        }
        let stale = self.ring.read().expect("not poisoned").loaded_at.elapsed() >= RELOAD_AT_MOST_EVERY;
        if stale && let Ok(stored) = store.signing_keys().await {
            match decode_all(stored) {
                Ok(keys) => *self.ring.write().expect("not poisoned") = Ring { keys, loaded_at: Instant::now() },
                Err(error) => tracing::error!(%error, "could not reload signing keys"),
            }
        }
        self.find(kid)
    }

    fn find(&self, kid: &str) -> Option<DecodingKey> {
        let ring = self.ring.read().expect("not poisoned");
        let cutoff = self.clock.now() - self.publish_retired_for;
        ring.keys.iter().find(|k| k.kid == kid && k.retired_at.is_none_or(|at| at > cutoff)).map(|k| k.decoding.clone())
    }

    /// Every key there has been, retired ones included: what receipts are verified against, for as long as they
    /// are kept (`/.well-known/receipt-keys.json`).
    pub fn every_key(&self) -> Jwks {
        let ring = self.ring.read().expect("not poisoned");
        Jwks { keys: ring.keys.iter().map(|k| k.public.clone()).collect() }
    }

    /// The published key set: the signing key and retired keys whose tokens may still be valid.
    pub fn jwks(&self) -> Jwks {
        let ring = self.ring.read().expect("not poisoned");
        let cutoff = self.clock.now() - self.publish_retired_for;
        Jwks {
            keys: ring
                .keys
                .iter()
                .filter(|k| k.retired_at.is_none_or(|at| at > cutoff))
                .map(|k| k.public.clone())
                .collect(),
        }
    }
}

fn decode_all(stored: Vec<StoredSigningKey>) -> Result<Vec<Key>, KeyError> {
    let mut keys: Vec<Key> = stored.into_iter().map(decode).collect::<Result<_, _>>()?;
    // Unretired first, and among them a fixed order (by kid), so every node picks the same signing key.
    keys.sort_by(|a, b| b.public.kid.cmp(&a.public.kid));
    keys.sort_by_key(|k| std::cmp::Reverse(k.retired_at.is_none()));
    Ok(keys)
}

fn decode(stored: StoredSigningKey) -> Result<Key, KeyError> {
    let corrupt = |reason: String| KeyError::Corrupt { kid: stored.kid.clone(), reason };
    let public: PublicJwk = serde_json::from_str(&stored.public_jwk).map_err(|e| corrupt(e.to_string()))?;
    let encoding = EncodingKey::from_ec_pem(stored.private_key_pem.as_bytes()).map_err(|e| corrupt(e.to_string()))?;
    let decoding = DecodingKey::from_ec_components(&public.x, &public.y).map_err(|e| corrupt(e.to_string()))?;
    Ok(Key { kid: stored.kid.clone(), encoding, decoding, public, retired_at: stored.retired_at })
}

/// A fresh P-256 key, with its `kid` the RFC 7638 thumbprint of its public half.
pub fn generate(created_at: OffsetDateTime) -> StoredSigningKey {
    let secret_key = loop {
        // Of 2^256 random values, all but about 2^-32 of them are valid scalars.
        if let Ok(key) = p256::SecretKey::from_bytes(&secret::random_bytes::<32>().into()) {
            break key;
        }
    };
    let point = secret_key.public_key().to_encoded_point(false);
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(point.x().expect("an uncompressed point has x")),
        URL_SAFE_NO_PAD.encode(point.y().expect("an uncompressed point has y")),
    );
    let kid = thumbprint(&x, &y);
    let public = PublicJwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x,
        y,
        kid: kid.clone(),
        key_use: "sig".into(),
        alg: ALGORITHM.into(),
    };
    StoredSigningKey {
        kid,
        algorithm: ALGORITHM.into(),
        private_key_pem: secret_key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encodes").to_string(),
        public_jwk: serde_json::to_string(&public).expect("a JWK serialises"),
        created_at,
        retired_at: None,
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, without white space.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_tokens_its_published_half_verifies() {
        let stored = generate(OffsetDateTime::UNIX_EPOCH);
        let key = decode(stored.clone()).unwrap();
        assert_eq!(key.kid, key.public.kid);
        assert_eq!(key.kid.len(), 43, "a base64url SHA-256");

        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000u64});
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap();
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation).unwrap();

        let other = decode(generate(OffsetDateTime::UNIX_EPOCH)).unwrap();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &other.decoding, &validation).is_err());
    }
}
