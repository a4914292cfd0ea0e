//! Complete, valid sections for every registration application type (the published examples), for tests and
//! benches.

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

/// A person in a regulated role whose enhanced DBS check is `dbs_age_days` old (the published examples'
/// person, with that check).
pub fn person(name: &str, dbs_age_days: i64) -> Value {
    let mut person = provider_api_core::registrations::examples::person(name);
    person["dbs"]["issued_on"] = json!(date(-dbs_age_days));
    person
}

/// Every section of a complete application of `kind` bar `documents` (see [`required_documents`]): the
/// published examples, naming `r`'s registered things, with their dates moved to the same distance from
/// today as they are from `examples::AS_OF` (effective in 90 days, DBS checks 50 days old).
pub fn sections(kind: &str, r: Registered) -> Vec<(&'static str, Value)> {
    use provider_api_core::examples::{CONDITION_ID, LOCATION_ID, PARTNER_ID, with_ids, with_strings};
    use provider_api_core::registrations::examples::{DBS_ISSUED_ON, EFFECTIVE_DATE, example};
    use provider_api_core::registrations::{ApplicationType, SectionName};
    let kind: ApplicationType = kind.parse().unwrap_or_else(|e| panic!("{e}"));
    let ids = [(LOCATION_ID, r.location_id), (PARTNER_ID, r.partner_id), (CONDITION_ID, r.condition_id)];
    let as_of = provider_api_core::examples::AS_OF.date();
    let moved = |fixed: &str| {
        let fixed = time::Date::parse(fixed, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
        (fixed.to_string(), date((fixed - as_of).whole_days()))
    };
    let dates = [moved(EFFECTIVE_DATE), moved(DBS_ISSUED_ON)];
    kind.sections()
        .iter()
        .filter(|&&section| section != SectionName::Documents)
        .map(|&section| {
            let content = with_ids(example(kind, section).expect("every section has an example"), &ids);
            (section.as_str(), with_strings(content, &dates))
        })
        .collect()
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
