//! Complete, valid sections for every registration application type, for tests, the example and benches.

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

/// Every application type, as the API names them.
pub const TYPES: &[&str] = &[
    "new_provider",
    "new_registered_manager",
    "add_location",
    "remove_location",
    "add_regulated_activity",
    "remove_regulated_activity",
    "add_partner",
    "remove_partner",
    "vary_condition",
    "remove_condition",
    "cancel_regulated_activities",
    "cancel_manager_registration",
];

/// What the sections refer to in the organisation's registered details.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    pub location_id: Uuid,
    pub partner_id: Uuid,
    pub condition_id: Uuid,
}

thread_local! {
    /// The date the helpers count from on this thread: today (UTC) unless a test runs the server at another
    /// time ([`count_days_from`]).
    static TODAY: std::cell::Cell<Option<time::Date>> = const { std::cell::Cell::new(None) };
}

/// Makes the helpers on this thread count days from `today` (the date of a test's server clock), so that "a
/// DBS check 30 days old" and "effective in 30 days" hold at the time the server reads.
pub fn count_days_from(today: time::Date) {
    TODAY.set(Some(today));
}

fn date(days_from_today: i64) -> String {
    let today = TODAY.get().unwrap_or_else(|| OffsetDateTime::now_utc().date());
    (today + time::Duration::days(days_from_today)).to_string()
}

/// A person in a regulated role whose enhanced DBS check is `dbs_age_days` old.
pub fn person(name: &str, dbs_age_days: i64) -> Value {
    json!({
        "full_name": name,
        "email": format!("{}@riverside.example", name.to_lowercase().replace(' ', ".")),
        "phone": "0191 496 0000",
        "date_of_birth": "1980-04-01",
        "dbs": {"certificate_number": "001234567890", "level": "enhanced", "issued_on": date(-dbs_age_days)}
    })
}

fn address() -> Value {
    json!({"line_1": "2 River Lane", "town": "Newcastle upon Tyne", "postcode": "ne1 4st"})
}

fn how() -> Value {
    let text = "Described in the statement of purpose, section 4.";
    json!({"safe": text, "effective": text, "caring": text, "responsive": text, "well_led": text})
}

fn declaration() -> Value {
    json!({"declared_by": "Sam Carter", "role": "Director", "confirmed": true})
}

/// Every section of a complete application of `kind` (organisation-type new providers; `documents` listed
/// separately, see [`required_documents`]).
pub fn sections(kind: &str, r: Registered) -> Vec<(&'static str, Value)> {
    let when = ("when", json!({"effective_date": date(30)}));
    let reason = "The service is changing, as the statement of purpose explains.";
    let mut sections = match kind {
        "new_provider" => vec![
            (
                "who",
                json!({
                    "provider_type": "organisation",
                    "legal_name": "Riverside Care Ltd",
                    "companies_house_number": "01234567",
                    "registered_address": address(),
                    "nominated_individual": person("Nia Okafor", 60),
                    "financials": {"signed_by": "Tyne Accountants LLP", "first_year_income_gbp": 1_200_000}
                }),
            ),
            (
                "what",
                json!({"regulated_activities": ["personal_care", "accommodation_nursing_or_personal_care"],
                       "service_types": ["care_home_without_nursing"], "service_user_bands": ["adults_over_65", "dementia"]}),
            ),
            (
                "where",
                json!({"locations": [
                    {"name": "Riverside House", "address": address(), "places": 40},
                    {"name": "Riverside Lodge", "address": address(), "places": 12}
                ]}),
            ),
            (
                "who_manages",
                json!({"managers": [
                    {"location": 0, "manager": person("Alex Reid", 30)},
                    {"location": 1, "manager": person("Bo Chen", 90)}
                ]}),
            ),
            when,
            ("how", how()),
        ],
        "new_registered_manager" => {
            vec![("who_manages", json!({"location_id": r.location_id, "manager": person("Dee Patel", 10)})), when]
        }
        "add_location" => vec![
            ("where", json!({"name": "Riverside Court", "address": address(), "places": 20})),
            (
                "what",
                json!({"regulated_activities": ["personal_care"], "service_types": ["domiciliary_care"],
                       "service_user_bands": ["adults_over_65"]}),
            ),
            ("who_manages", json!({"manager": person("Eli Moss", 20)})),
            when,
            ("how", how()),
        ],
        "remove_location" => vec![("where", json!({"location_id": r.location_id, "reason": reason})), when],
        "add_regulated_activity" => vec![
            (
                "what",
                json!({"location_id": r.location_id, "regulated_activities": ["diagnostic_and_screening_procedures"],
                       "reason": reason}),
            ),
            when,
            ("how", how()),
        ],
        "remove_regulated_activity" => vec![
            ("what", json!({"location_id": r.location_id, "regulated_activities": ["nursing_care"], "reason": reason})),
            when,
        ],
        "add_partner" => vec![("who", json!({"partner": person("Fay Green", 45)})), when],
        "remove_partner" => vec![("who", json!({"partner_id": r.partner_id, "reason": reason})), when],
        "vary_condition" => vec![
            (
                "what",
                json!({"condition_id": r.condition_id, "proposed_wording": "No more than 45 people.", "reason": reason}),
            ),
            when,
        ],
        "remove_condition" => vec![("what", json!({"condition_id": r.condition_id, "reason": reason})), when],
        "cancel_regulated_activities" => vec![
            (
                "what",
                json!({"scope": "some", "location_id": r.location_id, "regulated_activities": ["nursing_care"],
                       "reason": reason}),
            ),
            when,
        ],
        "cancel_manager_registration" => {
            vec![("who_manages", json!({"location_id": r.location_id, "reason": reason})), when]
        }
        other => panic!("no sections for {other}"),
    };
    sections.push(("declaration", declaration()));
    sections
}

/// The purposes of the documents each type needs.
pub fn required_documents(kind: &str) -> &'static [&'static str] {
    match kind {
        "new_provider" => &[
            "statement_of_purpose",
            "financial_viability_statement",
            "business_plan",
            "governance_policy",
            "medicines_policy",
            "organisational_structure",
            "staffing_structure",
            "insurance",
        ],
        "add_location" => &["statement_of_purpose", "staffing_structure"],
        "add_partner" => &["statement_of_purpose", "financial_viability_statement"],
        _ => &["statement_of_purpose"],
    }
}
