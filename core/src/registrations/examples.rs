//! A complete, valid example of every section of every application type, published in the section's schema
//! (`examples`) so that software sees a whole one, and the content the tests complete applications with.
//! Valid as at [`crate::examples::AS_OF`]; the ids of things already registered are the placeholders of
//! [`crate::examples`].

use serde_json::{Value, json};

use super::{ApplicationType, SectionName};
use crate::examples::{CONDITION_ID, DOCUMENT_ID, LOCATION_ID, PARTNER_ID};

/// When the change takes effect: after [`crate::examples::AS_OF`].
pub const EFFECTIVE_DATE: &str = "2027-03-01";
/// When the people's enhanced DBS checks were issued: within the 12 months before
/// [`crate::examples::AS_OF`].
pub const DBS_ISSUED_ON: &str = "2026-10-12";

/// A person in a regulated role (nominated individual, manager, partner) with a recent enhanced DBS check.
pub fn person(name: &str) -> Value {
    json!({
        "full_name": name,
        "email": format!("{}@riverside.example", name.to_lowercase().replace(' ', ".")),
        "phone": "0191 496 0000",
        "date_of_birth": "1980-04-01",
        "dbs": {"certificate_number": "001234567890", "level": "enhanced", "issued_on": DBS_ISSUED_ON}
    })
}

fn address() -> Value {
    json!({"line_1": "2 River Lane", "town": "Newcastle upon Tyne", "postcode": "NE1 4ST"})
}

fn how() -> Value {
    let text = "Described in the statement of purpose, section 4.";
    json!({"safe": text, "effective": text, "caring": text, "responsive": text, "well_led": text})
}

const REASON: &str = "The service is changing, as the statement of purpose explains.";

/// A complete `section` of an application of `kind`, or `None` when the type has no such section. The
/// documents section attaches one statement of purpose; a complete application of most types needs more
/// (`ApplicationType::required_documents`).
pub fn example(kind: ApplicationType, section: SectionName) -> Option<Value> {
    use ApplicationType as T;
    use SectionName as S;
    if !kind.sections().contains(&section) {
        return None;
    }
    Some(match (kind, section) {
        (_, S::When) => json!({"effective_date": EFFECTIVE_DATE}),
        (_, S::Declaration) => json!({"declared_by": "Sam Carter", "role": "Director", "confirmed": true}),
        (_, S::Documents) => {
            json!({"attachments": [{"document_id": DOCUMENT_ID, "purpose": "statement_of_purpose"}]})
        }
        (_, S::How) => how(),
        (T::NewProvider, S::Who) => json!({
            "provider_type": "organisation",
            "legal_name": "Riverside Care Ltd",
            "companies_house_number": "01234567",
            "registered_address": address(),
            "nominated_individual": person("Nia Okafor"),
            "financials": {"signed_by": "Tyne Accountants LLP", "first_year_income_gbp": 1_200_000}
        }),
        (T::NewProvider, S::What) => json!({
            "regulated_activities": ["personal_care", "accommodation_nursing_or_personal_care"],
            "service_types": ["care_home_without_nursing"],
            "service_user_bands": ["adults_over_65", "dementia"]
        }),
        (T::NewProvider, S::Where) => json!({"locations": [
            {"name": "Riverside House", "address": address(), "places": 40},
            {"name": "Riverside Lodge", "address": address(), "places": 12}
        ]}),
        (T::NewProvider, S::WhoManages) => json!({"managers": [
            {"location": 0, "manager": person("Alex Reid")},
            {"location": 1, "manager": person("Bo Chen")}
        ]}),
        (T::NewRegisteredManager, S::WhoManages) => {
            json!({"location_id": LOCATION_ID, "manager": person("Dee Patel")})
        }
        (T::AddLocation, S::Where) => json!({"name": "Riverside Court", "address": address(), "places": 20}),
        (T::AddLocation, S::What) => json!({
            "regulated_activities": ["personal_care"],
            "service_types": ["domiciliary_care"],
            "service_user_bands": ["adults_over_65"]
        }),
        (T::AddLocation, S::WhoManages) => json!({"manager": person("Eli Moss")}),
        (T::RemoveLocation, S::Where) => json!({"location_id": LOCATION_ID, "reason": REASON}),
        (T::AddRegulatedActivity, S::What) => json!({
            "location_id": LOCATION_ID,
            "regulated_activities": ["diagnostic_and_screening_procedures"],
            "reason": REASON
        }),
        (T::RemoveRegulatedActivity, S::What) => {
            json!({"location_id": LOCATION_ID, "regulated_activities": ["nursing_care"], "reason": REASON})
        }
        (T::AddPartner, S::Who) => json!({"partner": person("Fay Green")}),
        (T::RemovePartner, S::Who) => json!({"partner_id": PARTNER_ID, "reason": REASON}),
        (T::VaryCondition, S::What) => {
            json!({"condition_id": CONDITION_ID, "proposed_wording": "No more than 45 people.", "reason": REASON})
        }
        (T::RemoveCondition, S::What) => json!({"condition_id": CONDITION_ID, "reason": REASON}),
        (T::CancelRegulatedActivities, S::What) => json!({
            "scope": "some",
            "location_id": LOCATION_ID,
            "regulated_activities": ["nursing_care"],
            "reason": REASON
        }),
        (T::CancelManagerRegistration, S::WhoManages) => json!({"location_id": LOCATION_ID, "reason": REASON}),
        (kind, section) => unreachable!("{kind} lists {section} but has no example of it"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::AS_OF;
    use crate::forms::validation::Completeness;

    #[test]
    fn every_section_of_every_type_has_an_example_its_published_schema_accepts() {
        for &kind in ApplicationType::ALL {
            for &section in kind.sections() {
                let example = example(kind, section).unwrap_or_else(|| panic!("{kind}/{section} has no example"));
                let schema = kind.section_schema(section).expect("published");
                let validator = jsonschema::validator_for(schema).unwrap();
                assert!(validator.is_valid(&example), "{kind}/{section}: the schema refuses its example");
                assert_eq!(schema["examples"], json!([example]), "{kind}/{section}: published as its example");
                let problems = kind.check_section(section, &example, Completeness::Complete, None, AS_OF, "");
                assert!(problems.is_empty(), "{kind}/{section}: {problems:?}");
            }
        }
    }
}
