//! A complete, valid example form of each notification type, published in its schema's `examples` so that
//! software can see a whole one, and used by the tests as the form they start from. The dates are fixed;
//! the forms are valid against the server's rules on any date after them.

use serde_json::{Value, json};

use super::catalogue::NotificationType;

/// Who completed a form and whom to contact: every form carries it.
pub fn reporter() -> Value {
    json!({
        "completed_by": {"name": "Sam Carter", "role": "Deputy manager"},
        "contact": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                    "email": "sam.carter@riverside.example"},
        "provider_reference": "INC-2026-0042",
        "regulated_activities": ["personal_care"]
    })
}

fn person() -> Value {
    json!({"identifier": "RES-0042", "age_band": "85+", "started_using_service_on": "2024-03-01",
           "nhs_number": "9434765919", "date_of_birth": "1938-06-14"})
}

/// A complete, valid form of `kind`, as published in its schema's `examples` (`detained_patient_return` and
/// `manager_return` are sent with a `follows_id` naming a submitted notification of the type they follow).
pub fn example(kind: NotificationType) -> Value {
    let kind = kind.as_str();
    let mut form = match kind {
        "death" => json!({"person": person(), "died_at": "2026-11-20T03:10:00Z", "place": "this_location",
            "cause": "Pneumonia", "circumstances": "Found unresponsive during the night check.",
            "receiving_end_of_life_care": true, "staff_present": false, "last_seen_at": "2026-11-20T01:00:00Z"}),
        "death_of_detained_patient" => json!({"person": person(), "mental_health_act_section": "section_3",
            "died_at": "2026-11-20T03:10:00Z", "place": "hospital", "circumstances": "Collapsed on the ward.",
            "coroner_informed": true}),
        "detained_patient_absence" => json!({"person": person(), "mental_health_act_section": "section_37_41",
            "absent_since": "2026-11-20T15:00:00Z", "circumstances": "Did not return from escorted leave.",
            "risk_to_self_or_others": "Moderate risk to self.", "police_informed": true,
            "police_reference": "CAD 1234"}),
        "detained_patient_return" => json!({"returned_at": "2026-11-21T09:00:00Z",
            "circumstances": "Returned with family."}),
        "serious_injury" => json!({"person": {"identifier": "RES-0042", "age_band": "85+"},
            "occurred_at": "2026-11-20T14:05:00Z", "description": "Fell in the lounge and fractured a hip.",
            "categories": ["fracture", "prolonged_pain"], "known_to_be_at_risk": true,
            "mitigations_in_place": "Falls sensor and hourly checks.", "immediate_actions": "Ambulance called."}),
        "abuse" => json!({"person": person(), "alleged_perpetrator": "staff", "occurred_on": "2026-11-19",
            "became_aware_at": "2026-11-20T09:00:00Z", "description": "Alleged rough handling during care.",
            "known_risk": false, "protection_in_place": "Staff member removed from rota.",
            "immediate_actions": "Safeguarding referral made.", "staff_actions": "Suspended pending investigation.",
            "reported_to_local_authority": true, "reported_to_police": false}),
        "police_incident" => json!({"occurred_at": "2026-11-20T22:00:00Z",
            "reported_to_police_at": "2026-11-20T22:15:00Z", "police_reference": "CAD 999",
            "description": "Intruder in the garden.", "immediate_actions": "Doors locked; police called."}),
        "dols_outcome" => json!({"person": person(), "application_made_on": "2026-09-01", "outcome": "authorised",
            "outcome_on": "2026-11-01", "supervisory_body": "Leeds City Council", "authorised_until": "2027-11-01"}),
        "service_disruption" => json!({"event": "utilities", "started_at": "2026-11-18T06:00:00Z",
            "ended_at": "2026-11-19T12:00:00Z", "description": "Heating failed.",
            "impact_on_people": "Residents moved to the warm wing.", "actions_taken": "Engineer called; heaters hired."}),
        "under_18_in_adult_psychiatric_unit" => json!({"person": {"identifier": "PT-7", "age_band": "16-17"},
            "admitted_at": "2026-11-17T10:00:00Z", "reason": "No adolescent bed in the region.",
            "safeguards": "One-to-one observation; CAMHS consulted."}),
        "manager_absence" => json!({"manager": {"name": "Alex Morgan", "role": "Registered manager"},
            "absence": "planned", "starts_on": "2027-01-10", "expected_length_days": 42,
            "reason": "Planned surgery.", "interim_arrangements": "Deputy manager acts up.",
            "responsible_person": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                                   "email": "sam.carter@riverside.example"}}),
        "manager_return" => json!({"manager": {"name": "Alex Morgan", "role": "Registered manager"},
            "returned_on": "2026-11-20"}),
        "change_of_details" => json!({"change": "provider_name", "effective_on": "2027-01-01",
            "details": "Riverside Care Ltd becomes Riverside Care Group Ltd."}),
        "revised_statement_of_purpose" => json!({"effective_on": "2026-12-01",
            "summary_of_changes": "Adds nursing care for up to four people."}),
        "death_of_registered_provider" => json!({"died_on": "2026-11-15", "relationship": "Personal representative",
            "arrangements": "The deputy manager runs the service while the estate is settled."}),
        "liquidator_appointment" => json!({"appointee_kind": "administrator", "appointed_on": "2026-11-10",
            "appointee": {"name": "Pat Lee", "role": "Administrator", "phone": "0113 496 0000",
                          "email": "pat.lee@insolvency.example"},
            "firm": "Lee & Partners LLP", "arrangements": "Services continue under the administrator."}),
        _ => unreachable!("every type has an example form: a unit test reads each"),
    };
    form["type"] = json!(kind);
    form["reporter"] = reporter();
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_an_example_its_own_schema_accepts() {
        for &kind in NotificationType::ALL {
            let form = example(kind);
            assert_eq!(form["type"], kind.as_str());
            let validator = jsonschema::validator_for(kind.json_schema()).unwrap();
            let errors: Vec<String> = validator.iter_errors(&form).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind}: {errors:?}");
        }
    }
}
