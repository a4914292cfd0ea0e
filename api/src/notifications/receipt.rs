//! The receipt a submission earns: a reference number to quote, the time the regulator received it, the
//! schema version, the SHA-256 of the canonical content, and a compact JWS over all of that, signed with the
//! server's token key so a provider can prove offline (against `/.well-known/jwks.json`) what was received
//! and when.

use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::token::TokenService;
use crate::http::idempotency::hex;

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
    /// with a key published at `/.well-known/jwks.json`.
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

pub fn sign(tokens: &TokenService, claims: &ReceiptClaims) -> String {
    sign_as(tokens, RECEIPT_TYPE, claims)
}

/// A compact ES256 JWS over `claims` with the server's current token key; `typ` says what it is, so one kind
/// of signed statement can never pass for another (or for an access token).
pub fn sign_as(tokens: &TokenService, typ: &str, claims: &impl Serialize) -> String {
    let (kid, key) = tokens.keys.signing();
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some(typ.to_owned());
    header.kid = Some(kid);
    jsonwebtoken::encode(&header, claims, &key).expect("ES256 signing does not fail")
}

/// What a receipt's `content_sha256` covers: the form and every attached document's SHA-256, as the
/// canonical form of `{"attachments": [...], "content": {...}}`.
pub fn submission_sha256(content: &Value, attachments: &[super::views::Attachment]) -> String {
    content_sha256(&serde_json::json!({"attachments": attachments, "content": content}))
}

/// SHA-256 (hex) of a JSON value's canonical form.
pub fn content_sha256(content: &Value) -> String {
    hex(&Sha256::digest(canonical(content).as_bytes()))
}

/// RFC 8785 canonical JSON for the values forms hold (strings, integers, booleans, objects, arrays): object
/// members sorted by key (UTF-16 code units, as the RFC says), no whitespace, serde_json's string escaping
/// (which matches ECMAScript's for these). Written here because the crates that do this are unmaintained, and
/// the rules for these value kinds are short.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A reference number people can read out on the phone: `N-`, the date, and 8 characters of Crockford
/// base 32 (no I, L, O or U to misread), e.g. `N-261125-7K3M9Q2X`.
pub fn new_reference(at: OffsetDateTime) -> String {
    reference_with('N', at)
}

/// A reference of the same shape with another leading letter (`R-` for registration applications).
pub fn reference_with(prefix: char, at: OffsetDateTime) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the operating system's random source works");
    let code: String = random.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    format!("{prefix}-{:02}{:02}{:02}-{code}", at.year() % 100, u8::from(at.month()), at.day())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_form_ignores_member_order_and_whitespace() {
        let a = json!({"b": [1, {"z": true, "a": "x"}], "a": "é\n"});
        let b: Value =
            serde_json::from_str("{ \"a\": \"é\\n\", \"b\": [ 1, { \"a\": \"x\", \"z\": true } ] }").unwrap();
        assert_eq!(canonical(&a), r#"{"a":"é\n","b":[1,{"a":"x","z":true}]}"#);
        assert_eq!(content_sha256(&a), content_sha256(&b));
    }

    #[test]
    fn references_are_readable_and_distinct() {
        let at = time::macros::datetime!(2026-11-25 12:00 UTC);
        let reference = new_reference(at);
        assert!(reference.starts_with("N-261125-") && reference.len() == 17, "{reference}");
        assert_ne!(new_reference(at), new_reference(at));
    }
}
