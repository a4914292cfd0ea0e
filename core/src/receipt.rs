//! What every receipt rests on: canonical JSON (RFC 8785) and its SHA-256, and reference numbers people can
//! read out on the phone. Notifications and registration applications both issue receipts; the audit trail
//! hashes its entries the same way.

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::hex;

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
