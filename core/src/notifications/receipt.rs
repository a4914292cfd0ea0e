//! The receipt a submission earns: a reference number to quote, the time the regulator received it, the
//! schema version, the SHA-256 of the canonical content, and a compact JWS over all of that, signed with the
//! server's token key so a provider can prove offline (against `/.well-known/receipt-keys.json`) what was received
//! and when.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::receipt::content_sha256;

/// The JWS `typ` of a receipt, so it can never pass for an access token (`at+jwt`).
pub const RECEIPT_TYPE: &str = "notification-receipt+jwt";

/// Proof of what the regulator received, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// The reference to quote in any correspondence about this notification.
    #[schema(example = "N-261125-7K3M9Q2X")]
    pub reference: String,
    pub notification_id: Uuid,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: super::NotificationType,
    /// When the regulator received it (the server's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The version of the type's schema the content was checked against.
    pub schema_version: u32,
    /// SHA-256 (hex), in canonical form (RFC 8785 JSON Canonicalization Scheme), of
    /// `{"attachments": [...], "content": {...}}`: the form and each attached document's SHA-256.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub content_sha256: String,
    /// A compact JWS (ES256, `typ` `notification-receipt+jwt`) whose claims repeat the fields above, signed
    /// with a key published at `/.well-known/receipt-keys.json` (every key that has ever signed; the JWKS drops
    /// retired ones).
    pub jws: String,
}

/// The signed claims of a receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptClaims {
    pub iss: String,
    /// The notification's id.
    pub sub: Uuid,
    pub iat: i64,
    pub reference: String,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub schema_version: u32,
    pub content_sha256: String,
}

/// What a receipt's `content_sha256` covers: the form and every attached document's SHA-256, as the
/// canonical form of `{"attachments": [...], "content": {...}}`.
pub fn submission_sha256(content: &Value, attachments: &impl Serialize) -> String {
    content_sha256(&serde_json::json!({"attachments": attachments, "content": content}))
}
