//! Checking a receipt: that the regulator signed it, and what it says.
//!
//! A receipt's `jws` is a compact JWS (ES256) whose `typ` says what it is (`notification-receipt+jwt` or
//! `registration-receipt+jwt`) and whose `kid` names the key. The keys are at
//! `/.well-known/receipt-keys.json`, which keeps every key that has ever signed: fetch it once and keep a copy,
//! and a receipt can be checked years later, offline. (`/.well-known/jwks.json` drops retired keys: it is for
//! access tokens.)
//!
//! ```no_run
//! # async fn example(client: &provider_api_sdk::Client, jws: &str) -> Result<(), provider_api_sdk::receipt::ReceiptError> {
//! let keys = provider_api_sdk::receipt::fetch_keys(client).await?;
//! let receipt = provider_api_sdk::receipt::verify(jws, &keys)?;
//! println!("{} received {}", receipt.claims["reference"], receipt.claims["received_at"]);
//! # Ok(()) }
//! ```

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use progenitor_client::ClientInfo as _;
use serde_json::Value;

/// The `typ` of a notification's receipt.
pub const NOTIFICATION_RECEIPT: &str = "notification-receipt+jwt";
/// The `typ` of a registration application's receipt.
pub const REGISTRATION_RECEIPT: &str = "registration-receipt+jwt";

/// A receipt whose signature verified with one of the regulator's receipt keys.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedReceipt {
    /// [`NOTIFICATION_RECEIPT`] or [`REGISTRATION_RECEIPT`].
    pub typ: String,
    /// The signed claims: `iss`, `sub` (the notification's or application's id), `iat`, `reference`,
    /// `organisation_id`, `type`, `received_at`, `content_sha256` and, for a notification, `schema_version`.
    pub claims: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("the receipt keys could not be fetched: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("this is not a compact JWS")]
    Malformed,
    #[error("this JWS is not a receipt (typ {0:?})")]
    NotAReceipt(Option<String>),
    #[error("no receipt key has the id {0:?}: fetch the keys again, or this was not signed by the regulator")]
    UnknownKey(Option<String>),
    #[error("the signature does not verify: the receipt was changed, or not signed by the regulator")]
    BadSignature,
}

/// Fetches every key that has ever signed a receipt, from the server `client` talks to.
pub async fn fetch_keys(client: &crate::Client) -> Result<JwkSet, ReceiptError> {
    let url = format!("{}/.well-known/receipt-keys.json", client.baseurl().trim_end_matches('/'));
    Ok(client.client().get(url).send().await?.error_for_status()?.json().await?)
}

/// Verifies `jws` against `keys` (from [`fetch_keys`], or your stored copy of them).
pub fn verify(jws: &str, keys: &JwkSet) -> Result<VerifiedReceipt, ReceiptError> {
    let header = jsonwebtoken::decode_header(jws).map_err(|_| ReceiptError::Malformed)?;
    let typ = header.typ.filter(|t| t == NOTIFICATION_RECEIPT || t == REGISTRATION_RECEIPT);
    let Some(typ) = typ else {
        return Err(ReceiptError::NotAReceipt(jsonwebtoken::decode_header(jws).ok().and_then(|h| h.typ)));
    };
    let jwk = header.kid.as_deref().and_then(|kid| keys.find(kid)).ok_or(ReceiptError::UnknownKey(header.kid))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| ReceiptError::BadSignature)?;
    // A receipt does not expire and is addressed to nobody in particular: only the signature is checked.
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(jws, &key, &validation).map_err(|_| ReceiptError::BadSignature)?.claims;
    Ok(VerifiedReceipt { typ, claims })
}
