//! Checking a notification form: against its type's published JSON Schema first, then, once it is complete
//! and well-formed, the rules between fields.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;
use time::OffsetDateTime;

use super::catalogue::{NotificationContent, NotificationType};
use crate::field_error::FieldError;
use crate::forms::validation::{Completeness, compile, schema_errors};

static VALIDATORS: LazyLock<BTreeMap<NotificationType, jsonschema::Validator>> = LazyLock::new(|| {
    NotificationType::ALL
        .iter()
        .map(|&kind| {
            let validator = compile(kind.json_schema())
                .unwrap_or_else(|error| panic!("the published schema of {kind} compiles: {error}"));
            (kind, validator)
        })
        .collect()
});

/// Compiles every schema now, so a schema the validator rejects stops the server at start-up.
pub fn prepare() {
    LazyLock::force(&VALIDATORS);
}

/// Every problem with a form of type `kind`, checked as at `at`, with pointers relative to the form. Empty
/// when it passes.
pub fn check(
    kind: NotificationType,
    content: &Value,
    completeness: Completeness,
    at: OffsetDateTime,
) -> Vec<FieldError> {
    let mut errors = schema_errors(&VALIDATORS[&kind], kind.json_schema(), content, completeness, at);
    if errors.is_empty() && completeness == Completeness::Complete {
        match NotificationContent::parse(kind, content.clone()) {
            Ok(form) => form.cross_checks(&mut errors),
            Err(error) => {
                // The schema and the types are generated together, so this is a bug; say what serde saw.
                tracing::error!(%kind, %error, "a form passed its schema but not its type");
                errors.push(FieldError::new("", "invalid", format!("This form could not be read: {error}.")));
            }
        }
    }
    errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    errors.dedup();
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// After every date the forms below give.
    const AT: OffsetDateTime = time::macros::datetime!(2026-11-25 12:00 UTC);

    fn reporter() -> Value {
        json!({
            "completed_by": {"name": "Sam Carter", "role": "Deputy manager"},
            "contact": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                        "email": "sam@riverside.example"},
            "regulated_activities": ["personal_care"]
        })
    }

    fn injury() -> Value {
        json!({
            "type": "serious_injury",
            "reporter": reporter(),
            "person": {"identifier": "RES-0042", "age_band": "85+"},
            "occurred_at": "2026-11-20T14:05:00Z",
            "description": "Fell in the lounge.",
            "categories": ["fracture"],
            "known_to_be_at_risk": true,
            "mitigations_in_place": "Falls sensor.",
            "immediate_actions": "Ambulance called."
        })
    }

    #[test]
    fn a_complete_form_passes() {
        assert_eq!(check(NotificationType::SeriousInjury, &injury(), Completeness::Complete, AT), vec![]);
    }

    #[test]
    fn a_draft_may_be_missing_fields_but_not_wrong_ones() {
        let draft = json!({"type": "serious_injury", "description": "Fell."});
        assert_eq!(check(NotificationType::SeriousInjury, &draft, Completeness::Draft, AT), vec![]);
        let errors = check(NotificationType::SeriousInjury, &draft, Completeness::Complete, AT);
        assert!(errors.iter().any(|e| e.pointer == "/occurred_at" && e.code == "required"), "{errors:?}");

        let wrong = json!({"type": "serious_injury", "colour": "red", "occurred_at": "2999-01-01T00:00:00Z",
                           "person": {"identifier": "Jane Smith", "age_band": "90+", "nhs_number": "9434765918"}});
        let errors = check(NotificationType::SeriousInjury, &wrong, Completeness::Draft, AT);
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.pointer.as_str(), &*e.code)).collect();
        for expected in [
            ("/colour", "unknown_field"),
            ("/occurred_at", "in_future"),
            ("/person/identifier", "identifier_format"),
            ("/person/age_band", "not_allowed"),
            ("/person/nhs_number", "nhs_number_check_digit"),
        ] {
            assert!(found.contains(&expected), "{expected:?} missing from {found:?}");
        }
    }

    #[test]
    fn cross_field_rules_apply_to_complete_forms() {
        let mut form = injury();
        form["person"]["nhs_number"] = json!("9434765919");
        let errors = check(NotificationType::SeriousInjury, &form, Completeness::Complete, AT);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].pointer.as_str(), &*errors[0].code), ("/person/date_of_birth", "required_with"));
        assert!(errors[0].detail.starts_with("Give this with `nhs_number`, or neither"), "{}", errors[0].detail);
    }

    #[test]
    fn a_field_another_answer_requires_is_required_with_the_reason_the_schema_gives() {
        let mut form = crate::notifications::examples::example(NotificationType::Death);
        form["place"] = json!("other");
        let errors = check(NotificationType::Death, &form, Completeness::Complete, AT);
        let found: Vec<(&str, &str, &str)> =
            errors.iter().map(|e| (e.pointer.as_str(), &*e.code, e.detail.as_str())).collect();
        assert_eq!(found, [("/place_details", "required", "Say where, since they died somewhere else.")]);
        // A draft may wait for it.
        assert_eq!(check(NotificationType::Death, &form, Completeness::Draft, AT), vec![]);
        form["place_details"] = json!("The day centre");
        assert_eq!(check(NotificationType::Death, &form, Completeness::Complete, AT), vec![]);
    }

    #[test]
    fn a_choice_that_is_not_offered_lists_the_choices() {
        let mut form = injury();
        form["categories"] = json!(["bruise"]);
        let errors = check(NotificationType::SeriousInjury, &form, Completeness::Draft, AT);
        assert_eq!((errors[0].pointer.as_str(), &*errors[0].code), ("/categories/0", "not_allowed"));
        assert!(errors[0].detail.starts_with("Choose one of: impairment_of_senses, "), "{}", errors[0].detail);
    }

    #[test]
    fn text_may_be_long_but_not_endless() {
        let mut form = injury();
        form["description"] = json!("x".repeat(50_000));
        assert_eq!(check(NotificationType::SeriousInjury, &form, Completeness::Complete, AT), vec![]);
        form["description"] = json!("x".repeat(50_001));
        let errors = check(NotificationType::SeriousInjury, &form, Completeness::Complete, AT);
        assert_eq!(errors[0].code, "too_long");
    }
}
