//! What every published example (request bodies, notification forms, registration sections) is written
//! against. Examples carry fixed dates, valid on [`AS_OF`], so the committed OpenAPI document does not
//! change from day to day; and they name an organisation's own things (its location, a document it
//! uploaded) by the placeholder ids below, which a caller replaces with their own. The tests send every
//! published example to a server whose clock reads [`AS_OF`], replacing only these ids.

use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

/// The moment the examples are valid at: their dates of events are before it, their due and effective dates
/// after it.
pub const AS_OF: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

/// One of the organisation's locations.
pub const LOCATION_ID: Uuid = Uuid::from_u128(0x0193_7a1e_4c2b_7d10_8a5f_1c2d_3e4f_5a61);
/// A document the organisation uploaded and the scanner found clean.
pub const DOCUMENT_ID: Uuid = Uuid::from_u128(0x0193_7a1e_4c2b_7d10_8a5f_1c2d_3e4f_5a62);
/// A partner registered with the regulator for the organisation.
pub const PARTNER_ID: Uuid = Uuid::from_u128(0x0193_7a1e_4c2b_7d10_8a5f_1c2d_3e4f_5a63);
/// A condition of the organisation's registration.
pub const CONDITION_ID: Uuid = Uuid::from_u128(0x0193_7a1e_4c2b_7d10_8a5f_1c2d_3e4f_5a64);
/// A member of the regulator's staff with the `staff_registration` role.
pub const INSPECTOR_ID: Uuid = Uuid::from_u128(0x0193_7a1e_4c2b_7d10_8a5f_1c2d_3e4f_5a65);

/// Every placeholder, with what it stands for, as the docs list them.
pub const PLACEHOLDERS: [(Uuid, &str); 5] = [
    (LOCATION_ID, "one of the organisation's locations"),
    (DOCUMENT_ID, "a document the organisation uploaded, scanned clean"),
    (PARTNER_ID, "a registered partner of the organisation"),
    (CONDITION_ID, "a condition of the organisation's registration"),
    (INSPECTOR_ID, "a member of the regulator's staff with the staff_registration role"),
];

/// `example` with every placeholder id that `replacements` names replaced by the id it maps to.
pub fn with_ids(example: serde_json::Value, replacements: &[(Uuid, Uuid)]) -> serde_json::Value {
    let replacements: Vec<(String, String)> =
        replacements.iter().map(|(from, to)| (from.to_string(), to.to_string())).collect();
    with_strings(example, &replacements)
}

/// `example` with every string value equal to one of `replacements`' firsts replaced by its second, wherever
/// it is (keys are left alone).
pub fn with_strings(mut example: serde_json::Value, replacements: &[(String, String)]) -> serde_json::Value {
    replace_strings(&mut example, replacements);
    example
}

fn replace_strings(value: &mut serde_json::Value, replacements: &[(String, String)]) {
    match value {
        serde_json::Value::String(text) => {
            if let Some((_, to)) = replacements.iter().find(|(from, _)| from == text) {
                *text = to.clone();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| replace_strings(item, replacements)),
        serde_json::Value::Object(members) => members.values_mut().for_each(|item| replace_strings(item, replacements)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_replaced_wherever_they_are_and_nothing_else_is() {
        let mine = Uuid::now_v7();
        let example = json!({"location_id": LOCATION_ID, "attachments": [{"document_id": DOCUMENT_ID}],
                             "note": "not an id", "count": 3});
        let replaced = with_ids(example, &[(LOCATION_ID, mine)]);
        assert_eq!(
            replaced,
            json!({"location_id": mine, "attachments": [{"document_id": DOCUMENT_ID}], "note": "not an id", "count": 3})
        );
    }

    #[test]
    fn placeholders_are_distinct() {
        let ids: std::collections::BTreeSet<Uuid> = PLACEHOLDERS.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), PLACEHOLDERS.len());
    }
}
