//! How each notification form is put to a person, published in its schema so that any client (the portal
//! among them) can render any form without knowing its type: a question (`title`) and hint (`description`)
//! for every field, a label for every choice (`oneOf: [{const, title}]`), the pages a form is asked in
//! (`x-pages`), the answers that make another one required (`if`/`then` with the reason, and
//! `dependentRequired`), and answers to offer from another (`x-suggested-from`, a Relative JSON Pointer). Those rules are the server's own: it validates with the same schema.
//!
//! Keyed by schema name, as in the OpenAPI document's components and each published schema's `$defs`, so one
//! table decorates both.

use serde_json::{Map, Value, json};

/// The question each field asks, by schema and property: its title, and a hint (empty where the field's own
/// description already serves as one).
const QUESTIONS: &[(&str, &str, &str, &str)] = &[
    // Who the notification is about, never by name.
    (
        "ServiceUser",
        "identifier",
        "Your identifier for the person",
        "The reference your service uses for them, such as a record number. Do not give their name.",
    ),
    ("ServiceUser", "age_band", "How old are they?", "Choose their age band."),
    ("ServiceUser", "started_using_service_on", "When did they start using the service? (optional)", ""),
    (
        "ServiceUser",
        "nhs_number",
        "NHS number (optional)",
        "10 digits, for example 9434765919. If you give it, give their date of birth too.",
    ),
    ("ServiceUser", "date_of_birth", "Date of birth (optional)", "If you give it, give their NHS number too."),
    (
        "InjuredPerson",
        "identifier",
        "Your identifier for the person",
        "The reference your service uses for them, such as a record number. Do not give their name.",
    ),
    ("InjuredPerson", "age_band", "How old are they?", "Choose their age band."),
    (
        "InjuredPerson",
        "started_using_service_on",
        "When did they start using the service? (optional)",
        "For example, 27 3 2024.",
    ),
    (
        "InjuredPerson",
        "nhs_number",
        "NHS number (optional)",
        "10 digits, for example 9434765919. If you give it, give their date of birth too.",
    ),
    ("InjuredPerson", "date_of_birth", "Date of birth (optional)", "If you give it, give their NHS number too."),
    // People and contacts.
    ("StaffMember", "name", "Full name", "The member of staff's full name."),
    ("StaffMember", "role", "Job title or role", "For example, deputy manager."),
    ("Contact", "name", "Full name", "The person's full name."),
    ("Contact", "role", "Job title or role", "For example, registered manager."),
    ("Contact", "phone", "Telephone number", "For example, 0191 496 0000."),
    ("Contact", "email", "Email address", "We use this to contact them about this notification."),
    // Every form's `reporter`, asked in parts on its last pages.
    ("*", "reporter", "About this notification", ""),
    ("Reporter", "completed_by", "Who completed this form?", "The member of staff filling it in."),
    (
        "Reporter",
        "contact",
        "Who should we contact about this notification?",
        "Usually the registered manager. We contact them if we have questions.",
    ),
    (
        "Reporter",
        "provider_reference",
        "Your reference (optional)",
        "Your own reference for this event, such as an incident number. We quote it back to you.",
    ),
    ("Reporter", "regulated_activities", "Which regulated activities does this concern?", "Select all that apply."),
    // Death of a person using the service.
    ("DeathForm", "person", "The person who died", ""),
    ("DeathForm", "died_at", "When did they die?", "The date and time, as closely as you know them."),
    ("DeathForm", "place", "Where did they die?", "Choose the place."),
    ("DeathForm", "place_details", "Where exactly?", "For example, the day centre they attend."),
    ("DeathForm", "cause", "What was the cause of death? (optional)", "As far as you know it."),
    ("DeathForm", "circumstances", "What happened?", "Describe the circumstances of the death."),
    ("DeathForm", "receiving_end_of_life_care", "Were they receiving end of life care?", "Choose yes or no."),
    ("DeathForm", "staff_present", "Were staff present when they died?", "Choose yes or no."),
    ("DeathForm", "last_seen_at", "When did staff last see them alive?", "Not after the death."),
    (
        "DeathForm",
        "other_recent_notifications",
        "Have you told us about this person in the last 3 months? (optional)",
        "Give the references of those notifications, and what they were about.",
    ),
    (
        "DeathForm",
        "could_have_been_prevented",
        "Could anything have prevented the death? (optional)",
        "What, if anything, could have been done differently.",
    ),
    // Death of a detained patient.
    ("DeathOfDetainedPatientForm", "person", "The patient who died", ""),
    (
        "DeathOfDetainedPatientForm",
        "mental_health_act_section",
        "Under which section of the Mental Health Act were they detained?",
        "Or liable to be detained.",
    ),
    ("DeathOfDetainedPatientForm", "died_at", "When did they die?", "The date and time, as closely as you know them."),
    ("DeathOfDetainedPatientForm", "place", "Where did they die?", "Choose the place."),
    ("DeathOfDetainedPatientForm", "place_details", "Where exactly?", "For example, the garden of the unit."),
    ("DeathOfDetainedPatientForm", "cause", "What was the cause of death? (optional)", "As far as you know it."),
    ("DeathOfDetainedPatientForm", "circumstances", "What happened?", "Describe the circumstances of the death."),
    ("DeathOfDetainedPatientForm", "coroner_informed", "Has the coroner been told?", "Choose yes or no."),
    // A detained patient's absence, and their return.
    ("DetainedPatientAbsenceForm", "person", "The patient who is absent", ""),
    (
        "DetainedPatientAbsenceForm",
        "mental_health_act_section",
        "Under which section of the Mental Health Act are they detained?",
        "Or liable to be detained.",
    ),
    (
        "DetainedPatientAbsenceForm",
        "absent_since",
        "When did the absence start?",
        "The date and time they were last seen.",
    ),
    ("DetainedPatientAbsenceForm", "circumstances", "What happened?", "Describe how they came to be absent."),
    (
        "DetainedPatientAbsenceForm",
        "risk_to_self_or_others",
        "What risk do they pose to themselves or others?",
        "Describe the risk as you have assessed it.",
    ),
    ("DetainedPatientAbsenceForm", "police_informed", "Have the police been told?", "Choose yes or no."),
    (
        "DetainedPatientAbsenceForm",
        "police_reference",
        "Police reference (optional)",
        "The incident number the police gave you.",
    ),
    ("DetainedPatientReturnForm", "returned_at", "When did they return?", "The date and time they came back."),
    ("DetainedPatientReturnForm", "circumstances", "How did they return?", "Describe the circumstances of the return."),
    (
        "DetainedPatientReturnForm",
        "harm_during_absence",
        "Was anyone harmed during the absence? (optional)",
        "Describe any harm to the patient or to others.",
    ),
    // Serious injury.
    ("SeriousInjuryForm", "person", "The person who was injured", ""),
    (
        "SeriousInjuryForm",
        "occurred_at",
        "When did the injury happen?",
        "The date and time, as closely as you know them.",
    ),
    ("SeriousInjuryForm", "description", "What happened?", "Describe the injury and how it happened."),
    ("SeriousInjuryForm", "categories", "What kind of injury is it?", "Select all that apply."),
    (
        "SeriousInjuryForm",
        "known_to_be_at_risk",
        "Were they known to be at risk of this kind of injury?",
        "Choose yes or no.",
    ),
    (
        "SeriousInjuryForm",
        "mitigations_in_place",
        "What was in place to reduce the risk?",
        "For example, a falls sensor or hourly checks.",
    ),
    ("SeriousInjuryForm", "immediate_actions", "What did you do straight away?", "For example, called an ambulance."),
    // Abuse or an allegation of abuse.
    ("AbuseForm", "person", "The person harmed or at risk", ""),
    ("AbuseForm", "alleged_perpetrator", "Who is alleged to have caused the harm?", "Choose one."),
    ("AbuseForm", "occurred_on", "When did it happen? (optional)", "If you know."),
    ("AbuseForm", "became_aware_at", "When did you become aware of it?", "Not before it happened."),
    ("AbuseForm", "description", "What happened?", "Describe the abuse or the allegation."),
    ("AbuseForm", "known_risk", "Was this a known risk?", "Choose yes or no."),
    ("AbuseForm", "protection_in_place", "How is the person protected now?", "What you have put in place."),
    ("AbuseForm", "immediate_actions", "What did you do straight away?", "For example, made a safeguarding referral."),
    (
        "AbuseForm",
        "staff_actions",
        "What was done about the staff involved?",
        "For example, suspended pending investigation.",
    ),
    ("AbuseForm", "reported_to_local_authority", "Have you told the local authority?", "Choose yes or no."),
    ("AbuseForm", "reported_to_police", "Have you told the police?", "Choose yes or no."),
    // Police incident.
    (
        "PoliceIncidentForm",
        "occurred_at",
        "When did the incident happen?",
        "The date and time, as closely as you know them.",
    ),
    (
        "PoliceIncidentForm",
        "reported_to_police_at",
        "When was it reported to the police? (optional)",
        "Not before it happened.",
    ),
    (
        "PoliceIncidentForm",
        "police_reference",
        "Police reference (optional)",
        "The incident number the police gave you.",
    ),
    ("PoliceIncidentForm", "description", "What happened?", "Describe the incident."),
    ("PoliceIncidentForm", "person", "The person using the service involved (optional)", ""),
    ("PoliceIncidentForm", "immediate_actions", "What did you do straight away?", "For example, locked the doors."),
    // Deprivation of Liberty Safeguards.
    ("DolsOutcomeForm", "person", "The person the application was about", ""),
    ("DolsOutcomeForm", "application_made_on", "When was the application made?", "For example, 1 9 2026."),
    ("DolsOutcomeForm", "outcome", "What was the outcome?", "The outcome of the application."),
    ("DolsOutcomeForm", "outcome_on", "When was the outcome decided?", "Not before the application."),
    ("DolsOutcomeForm", "supervisory_body", "Which supervisory body decided it?", "The local authority."),
    ("DolsOutcomeForm", "authorised_until", "Until when is it authorised?", "After the date of the outcome."),
    ("DolsOutcomeForm", "conditions", "What conditions were attached? (optional)", "If there are any."),
    // Service disruption.
    (
        "ServiceDisruptionForm",
        "event",
        "What stopped, or may stop, the service running safely?",
        "Choose the kind of event.",
    ),
    ("ServiceDisruptionForm", "started_at", "When did it start?", "The date and time."),
    ("ServiceDisruptionForm", "ended_at", "When did it end? (optional)", "Leave this out if it has not ended."),
    ("ServiceDisruptionForm", "description", "What happened?", "Describe the event."),
    (
        "ServiceDisruptionForm",
        "impact_on_people",
        "How has it affected the people using the service?",
        "For example, residents moved to another wing.",
    ),
    (
        "ServiceDisruptionForm",
        "actions_taken",
        "What have you done about it?",
        "For example, called an engineer and hired heaters.",
    ),
    // A person under 18 in an adult psychiatric unit.
    ("Under18InAdultPsychiatricUnitForm", "person", "The young person", "They must be under 18."),
    ("Under18InAdultPsychiatricUnitForm", "admitted_at", "When were they admitted?", "The date and time."),
    (
        "Under18InAdultPsychiatricUnitForm",
        "reason",
        "Why were they admitted to an adult unit?",
        "For example, no adolescent bed in the region.",
    ),
    (
        "Under18InAdultPsychiatricUnitForm",
        "safeguards",
        "What safeguards are in place?",
        "How you keep them safe on an adult unit.",
    ),
    (
        "Under18InAdultPsychiatricUnitForm",
        "mental_health_act_section",
        "Under which section of the Mental Health Act are they detained? (optional)",
        "If they are detained.",
    ),
    // The registered manager's absence and return.
    ("ManagerAbsenceForm", "manager", "The registered manager who will be absent", ""),
    ("ManagerAbsenceForm", "absence", "Is the absence planned or an emergency?", "This decides when you must tell us."),
    ("ManagerAbsenceForm", "starts_on", "When does the absence start?", "For example, 4 1 2027."),
    ("ManagerAbsenceForm", "expected_length_days", "How many days is it expected to last?", "28 or more."),
    ("ManagerAbsenceForm", "reason", "Why will they be absent?", "For example, planned surgery."),
    (
        "ManagerAbsenceForm",
        "interim_arrangements",
        "How will the service be managed meanwhile?",
        "Who will do what while they are away.",
    ),
    ("ManagerAbsenceForm", "responsible_person", "Who is responsible meanwhile?", ""),
    (
        "ManagerAbsenceForm",
        "plans_to_appoint",
        "Do you plan to appoint a new manager? (optional)",
        "If so, say how and when.",
    ),
    ("ManagerReturnForm", "manager", "The registered manager who has returned", ""),
    ("ManagerReturnForm", "returned_on", "When did they return?", "For example, 4 2 2027."),
    // Changes and the provider's own circumstances.
    ("ChangeOfDetailsForm", "change", "What is changing?", "Choose what the change is to."),
    ("ChangeOfDetailsForm", "effective_on", "When does the change take effect?", "For example, 1 3 2027."),
    ("ChangeOfDetailsForm", "details", "Tell us about the change", "The old and new details."),
    (
        "RevisedStatementOfPurposeForm",
        "effective_on",
        "When does the revised statement take effect?",
        "Tell us within 28 days of revising it.",
    ),
    ("RevisedStatementOfPurposeForm", "summary_of_changes", "What has changed?", "A summary of the changes."),
    ("DeathOfRegisteredProviderForm", "died_on", "When did they die?", "For example, 20 11 2026."),
    ("DeathOfRegisteredProviderForm", "relationship", "What is your relationship to the provider?", ""),
    ("DeathOfRegisteredProviderForm", "arrangements", "Who carries on the regulated activities now?", ""),
    ("LiquidatorAppointmentForm", "appointee_kind", "Who was appointed?", "Choose one."),
    ("LiquidatorAppointmentForm", "appointed_on", "When were they appointed?", "For example, 20 11 2026."),
    ("LiquidatorAppointmentForm", "appointee", "The person appointed", ""),
    ("LiquidatorAppointmentForm", "firm", "Their firm", "The name of their firm."),
    ("LiquidatorAppointmentForm", "arrangements", "How will the regulated activities continue?", ""),
];

/// A label for every choice, by schema.
const LABELS: &[(&str, &[(&str, &str)])] = &[
    (
        "PlaceOfDeath",
        &[
            ("this_location", "At this location"),
            ("own_home", "In their own home"),
            ("hospital", "In hospital"),
            ("hospice", "In a hospice"),
            ("ambulance", "In an ambulance"),
            ("other", "Somewhere else"),
        ],
    ),
    (
        "AllegedPerpetrator",
        &[
            ("service_user", "Another person using the service"),
            ("staff", "A member of staff"),
            ("other", "Someone else"),
        ],
    ),
    (
        "DolsOutcome",
        &[
            ("authorised", "Authorised"),
            ("not_authorised", "Not authorised"),
            ("withdrawn", "The application was withdrawn"),
            ("court_of_protection_order", "The Court of Protection made an order"),
        ],
    ),
    (
        "DisruptionKind",
        &[
            ("staffing", "Not enough staff"),
            ("utilities", "Loss of water, power, heating or other utilities"),
            ("safety_systems", "Failure of fire alarms or other safety systems"),
            ("premises_damage", "Damage to the premises"),
            ("other", "Something else"),
        ],
    ),
    (
        "AbsenceKind",
        &[
            ("planned", "Planned (tell us 28 days before)"),
            ("emergency", "An emergency (tell us within 5 working days)"),
        ],
    ),
    (
        "DetailsChange",
        &[
            ("registered_manager", "The registered manager"),
            ("provider_name", "The provider's name"),
            ("location_name", "A location's name"),
            ("directors", "Directors"),
            ("nominated_individual", "The nominated individual"),
            ("partners", "Partners"),
            ("address", "An address"),
            ("closure", "Closure of the service"),
            ("insolvency", "Insolvency"),
        ],
    ),
    (
        "AppointeeKind",
        &[
            ("liquidator", "A liquidator"),
            ("receiver", "A receiver"),
            ("trustee_in_bankruptcy", "A trustee in bankruptcy"),
            ("administrator", "An administrator"),
        ],
    ),
    (
        "InjuryCategory",
        &[
            ("impairment_of_senses", "An injury that impairs their sight, hearing, touch, taste or smell"),
            ("major_organ_damage", "Damage to a major organ"),
            ("fracture", "A broken bone (fracture)"),
            ("muscle_tendon_joint_or_blood_vessel", "Damage to muscles, tendons, joints or blood vessels"),
            ("pressure_ulcer_grade3_or_above", "A pressure ulcer of grade 3 or above"),
            ("intellectual_function", "An injury that affects how they think or understand"),
            ("psychological_harm", "Psychological harm lasting, or likely to last, 28 days or more"),
            ("prolonged_pain", "Pain lasting, or likely to last, 28 days or more"),
        ],
    ),
    (
        "MentalHealthActSection",
        &[
            ("section_2", "Section 2"),
            ("section_3", "Section 3"),
            ("section_4", "Section 4"),
            ("section_5_2", "Section 5(2)"),
            ("section_5_4", "Section 5(4)"),
            ("section_35", "Section 35"),
            ("section_36", "Section 36"),
            ("section_37", "Section 37"),
            ("section_37_41", "Section 37/41"),
            ("section_38", "Section 38"),
            ("section_45a", "Section 45A"),
            ("section_47", "Section 47"),
            ("section_47_49", "Section 47/49"),
            ("section_48", "Section 48"),
            ("section_48_49", "Section 48/49"),
            ("section_135", "Section 135"),
            ("section_136", "Section 136"),
            ("community_treatment_order", "A community treatment order"),
        ],
    ),
    ("AgeBand", AGE_BANDS),
];

const AGE_BANDS: &[(&str, &str)] = &[
    ("<1", "Under 1"),
    ("1-4", "1 to 4"),
    ("5-11", "5 to 11"),
    ("12-15", "12 to 15"),
    ("16-17", "16 or 17"),
    ("18-24", "18 to 24"),
    ("25-34", "25 to 34"),
    ("35-44", "35 to 44"),
    ("45-54", "45 to 54"),
    ("55-64", "55 to 64"),
    ("65-74", "65 to 74"),
    ("75-84", "75 to 84"),
    ("85+", "85 or over"),
];

/// The labels of a schema's choices: the injury forms' age bands are the others' after `stillborn`.
fn labels(name: &str) -> Option<Vec<(&'static str, &'static str)>> {
    if name == "InjuryAgeBand" {
        return Some([("stillborn", "Stillborn")].into_iter().chain(AGE_BANDS.iter().copied()).collect());
    }
    LABELS.iter().find(|(schema, _)| *schema == name).map(|(_, labels)| labels.to_vec())
}

type Pages = &'static [(&'static str, &'static [&'static str])];

/// The pages each form is asked in, in order, each naming the fields it asks (JSON Pointers into the form).
/// Every form ends with [`REPORTER_PAGES`].
const PAGES: &[(&str, Pages)] = &[
    (
        "DeathForm",
        &[
            ("The person who died", &["/person"]),
            ("When they died", &["/died_at"]),
            ("Where they died", &["/place", "/place_details"]),
            ("What happened", &["/circumstances", "/cause"]),
            ("End of life care", &["/receiving_end_of_life_care"]),
            ("Staff present", &["/staff_present", "/last_seen_at"]),
            ("Anything else", &["/other_recent_notifications", "/could_have_been_prevented"]),
        ],
    ),
    (
        "DeathOfDetainedPatientForm",
        &[
            ("The patient who died", &["/person"]),
            ("Mental Health Act", &["/mental_health_act_section"]),
            ("When they died", &["/died_at"]),
            ("Where they died", &["/place", "/place_details"]),
            ("What happened", &["/circumstances", "/cause"]),
            ("The coroner", &["/coroner_informed"]),
        ],
    ),
    (
        "DetainedPatientAbsenceForm",
        &[
            ("The patient who is absent", &["/person"]),
            ("Mental Health Act", &["/mental_health_act_section"]),
            ("The absence", &["/absent_since", "/circumstances"]),
            ("Risk", &["/risk_to_self_or_others"]),
            ("The police", &["/police_informed", "/police_reference"]),
        ],
    ),
    ("DetainedPatientReturnForm", &[("The return", &["/returned_at", "/circumstances", "/harm_during_absence"])]),
    (
        "SeriousInjuryForm",
        &[
            ("The person who was injured", &["/person"]),
            ("When it happened", &["/occurred_at"]),
            ("What happened", &["/description"]),
            ("The injury", &["/categories"]),
            ("Risk", &["/known_to_be_at_risk", "/mitigations_in_place"]),
            ("What you did", &["/immediate_actions"]),
        ],
    ),
    (
        "AbuseForm",
        &[
            ("The person harmed or at risk", &["/person"]),
            ("Who is alleged to have caused the harm", &["/alleged_perpetrator", "/staff_actions"]),
            ("When it happened", &["/occurred_on", "/became_aware_at"]),
            ("What happened", &["/description"]),
            ("Risk and protection", &["/known_risk", "/protection_in_place"]),
            ("What you did", &["/immediate_actions"]),
            ("Who you have told", &["/reported_to_local_authority", "/reported_to_police"]),
        ],
    ),
    (
        "PoliceIncidentForm",
        &[
            ("When it happened", &["/occurred_at"]),
            ("What happened", &["/description"]),
            ("The police", &["/reported_to_police_at", "/police_reference"]),
            ("The person involved", &["/person"]),
            ("What you did", &["/immediate_actions"]),
        ],
    ),
    (
        "DolsOutcomeForm",
        &[
            ("The person", &["/person"]),
            ("The application", &["/application_made_on", "/supervisory_body"]),
            ("The outcome", &["/outcome", "/authorised_until"]),
            ("When it was decided", &["/outcome_on"]),
            ("Conditions", &["/conditions"]),
        ],
    ),
    (
        "ServiceDisruptionForm",
        &[
            ("What happened", &["/event", "/description"]),
            ("When", &["/started_at", "/ended_at"]),
            ("The effect on people", &["/impact_on_people"]),
            ("What you have done", &["/actions_taken"]),
        ],
    ),
    (
        "Under18InAdultPsychiatricUnitForm",
        &[
            ("The young person", &["/person"]),
            ("The admission", &["/admitted_at", "/reason"]),
            ("Safeguards", &["/safeguards"]),
            ("Mental Health Act", &["/mental_health_act_section"]),
        ],
    ),
    (
        "ManagerAbsenceForm",
        &[
            ("The manager", &["/manager"]),
            ("The absence", &["/absence", "/starts_on", "/expected_length_days", "/reason"]),
            ("Meanwhile", &["/interim_arrangements", "/responsible_person"]),
            ("A new manager", &["/plans_to_appoint"]),
        ],
    ),
    ("ManagerReturnForm", &[("The manager", &["/manager"]), ("Their return", &["/returned_on"])]),
    ("ChangeOfDetailsForm", &[("The change", &["/change", "/effective_on", "/details"])]),
    ("RevisedStatementOfPurposeForm", &[("The revised statement", &["/effective_on", "/summary_of_changes"])]),
    ("DeathOfRegisteredProviderForm", &[("The death", &["/died_on", "/relationship", "/arrangements"])]),
    (
        "LiquidatorAppointmentForm",
        &[
            ("The appointment", &["/appointee_kind", "/appointed_on"]),
            ("Who was appointed", &["/appointee", "/firm"]),
            ("What happens next", &["/arrangements"]),
        ],
    ),
];

/// What every form asks last: who is reporting, and the activities it concerns.
const REPORTER_PAGES: Pages = &[
    ("Who completed this form", &["/reporter/completed_by"]),
    ("Who we should contact", &["/reporter/contact"]),
    ("Regulated activities", &["/reporter/regulated_activities", "/reporter/provider_reference"]),
];

/// An answer that makes another field required.
enum Answer {
    Is(&'static str),
    OneOf(&'static [&'static str]),
    IsFalse,
}

/// Fields required because of another answer, by form: (the answer's field, the answer, the field it
/// requires, why).
const CONDITIONS: &[(&str, &str, Answer, &str, &str)] = &[
    ("DeathForm", "place", Answer::Is("other"), "place_details", "Say where, since they died somewhere else."),
    (
        "DeathForm",
        "staff_present",
        Answer::IsFalse,
        "last_seen_at",
        "Say when staff last saw them, since no staff were present.",
    ),
    (
        "DeathOfDetainedPatientForm",
        "place",
        Answer::Is("other"),
        "place_details",
        "Say where, since they died somewhere else.",
    ),
    (
        "AbuseForm",
        "alleged_perpetrator",
        Answer::Is("staff"),
        "staff_actions",
        "Say what was done about the staff involved.",
    ),
    (
        "DolsOutcomeForm",
        "outcome",
        Answer::OneOf(&["authorised", "court_of_protection_order"]),
        "authorised_until",
        "Say until when the deprivation of liberty is authorised.",
    ),
];

/// Fields given only together (the regulator matches a person on an NHS number with a date of birth).
const TOGETHER: &[(&str, &str, &str)] =
    &[("ServiceUser", "nhs_number", "date_of_birth"), ("InjuredPerson", "nhs_number", "date_of_birth")];

/// Where a field's choices are published, when they are reference data rather than a fixed list.
const OPTIONS_FROM: &[(&str, &str)] = &[("ActivityCode", "/v1/reference/regulated-activities")];

/// Answers a form can suggest from another answer in the same form, so nobody types the same thing twice
/// (WCAG 2.2 3.3.7, Redundant Entry): by schema and property, a Relative JSON Pointer (from the field itself)
/// to the answer to offer. The person to contact is usually the one completing the form.
const SUGGESTED_FROM: &[(&str, &str, &str)] =
    &[("Contact", "name", "2/completed_by/name"), ("Contact", "role", "2/completed_by/role")];

/// Adds the presentation of the schema named `name` to it; any other schema is left as it is.
pub fn decorate(name: &str, schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (property, field) in properties.iter_mut() {
            if let Some((_, _, title, hint)) =
                QUESTIONS.iter().find(|(s, p, _, _)| (*s == name || *s == "*") && p == property)
                && let Some(field) = field.as_object_mut()
            {
                field.insert("title".into(), json!(title));
                if !hint.is_empty() {
                    field.insert("description".into(), json!(hint));
                }
            }
            if let Some((_, _, from)) = SUGGESTED_FROM.iter().find(|(s, p, _)| *s == name && p == property)
                && let Some(field) = field.as_object_mut()
            {
                field.insert("x-suggested-from".into(), json!(from));
            }
        }
    }
    if let Some(labels) = labels(name)
        && object.remove("enum").is_some()
    {
        let choices: Vec<Value> = labels.iter().map(|(value, label)| json!({"const": value, "title": label})).collect();
        object.insert("oneOf".into(), Value::Array(choices));
    }
    if let Some((_, source)) = OPTIONS_FROM.iter().find(|(s, _)| *s == name) {
        object.insert("x-options-from".into(), json!(source));
    }
    if let Some((_, pages)) = PAGES.iter().find(|(s, _)| *s == name) {
        let pages: Vec<Value> = pages
            .iter()
            .chain(REPORTER_PAGES)
            .map(|(title, fields)| json!({"title": title, "fields": fields}))
            .collect();
        object.insert("x-pages".into(), Value::Array(pages));
    }
    let conditions: Vec<Value> = CONDITIONS
        .iter()
        .filter(|(form, ..)| *form == name)
        .map(|(_, field, answer, required, why)| {
            let answer = match answer {
                Answer::Is(value) => json!({"const": value}),
                Answer::OneOf(values) => json!({"enum": values}),
                Answer::IsFalse => json!({"const": false}),
            };
            json!({
                "if": {"properties": {*field: answer}, "required": [field]},
                "then": {"required": [required], "description": why}
            })
        })
        .collect();
    if !conditions.is_empty() {
        object.insert("allOf".into(), Value::Array(conditions));
    }
    let together: Map<String, Value> = TOGETHER
        .iter()
        .filter(|(schema, ..)| *schema == name)
        .flat_map(|(_, a, b)| [(a.to_string(), json!([b])), (b.to_string(), json!([a]))])
        .collect();
    if !together.is_empty() {
        object.insert("dependentRequired".into(), Value::Object(together));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::notifications::NotificationType;

    /// Every schema a form's published document holds: the form itself and its `$defs`.
    fn schemas(kind: NotificationType) -> Vec<(String, &'static Value)> {
        let schema = kind.json_schema();
        let mut all = vec![("(form)".to_owned(), schema)];
        if let Some(defs) = schema["$defs"].as_object() {
            all.extend(defs.iter().map(|(name, def)| (name.clone(), def)));
        }
        all
    }

    #[test]
    fn every_field_of_every_form_has_a_question_and_a_hint() {
        let mut missing = BTreeSet::new();
        for &kind in NotificationType::ALL {
            for (name, schema) in schemas(kind) {
                for (property, field) in schema["properties"].as_object().into_iter().flatten() {
                    if property == "type" {
                        continue;
                    }
                    let name = if name == "(form)" { kind.as_str().to_owned() } else { name.clone() };
                    if field["title"].as_str().is_none_or(str::is_empty) {
                        missing.insert(format!("{name}.{property}: title"));
                    }
                    // A question made of several (a person, a contact) has its parts' hints instead.
                    let referenced = field["$ref"].as_str().map(|r| &kind.json_schema()["$defs"][&r[8..]]);
                    let several = referenced.is_some_and(|r| r["type"] == "object");
                    if !several && field["description"].as_str().is_none_or(str::is_empty) {
                        missing.insert(format!("{name}.{property}: hint"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn every_choice_has_a_label_and_no_label_is_for_a_choice_that_does_not_exist() {
        for &kind in NotificationType::ALL {
            for (name, schema) in schemas(kind) {
                assert!(schema.get("enum").is_none(), "{kind}: {name} is a bare enum; label its choices");
                if let Some(choices) = schema["oneOf"].as_array() {
                    for choice in choices {
                        assert!(choice["const"].is_string() && choice["title"].is_string(), "{kind}: {name}");
                    }
                }
            }
        }
        for name in LABELS.iter().map(|(name, _)| *name).chain(["InjuryAgeBand"]) {
            let labels = labels(name).unwrap();
            let published = NotificationType::ALL
                .iter()
                .find_map(|kind| kind.json_schema()["$defs"].get(name))
                .unwrap_or_else(|| panic!("{name} is in no form"));
            let values: Vec<&str> =
                published["oneOf"].as_array().unwrap().iter().map(|c| c["const"].as_str().unwrap()).collect();
            assert_eq!(values, labels.iter().map(|(v, _)| *v).collect::<Vec<_>>(), "{name}");
        }
    }

    #[test]
    fn every_field_is_asked_on_exactly_one_page() {
        for &kind in NotificationType::ALL {
            let schema = kind.json_schema();
            let pages = schema["x-pages"].as_array().unwrap_or_else(|| panic!("{kind} has no pages"));
            let mut asked = Vec::new();
            for page in pages {
                assert!(page["title"].as_str().is_some_and(|t| !t.is_empty()), "{kind}: a page without a title");
                for field in page["fields"].as_array().unwrap() {
                    let pointer = field.as_str().unwrap();
                    asked.push(pointer.to_owned());
                }
            }
            // What must be asked: every top-level field but `type`, with the reporter's asked by part.
            let mut fields: BTreeSet<String> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|p| *p != "type" && *p != "reporter")
                .map(|p| format!("/{p}"))
                .collect();
            for property in schema["$defs"]["Reporter"]["properties"].as_object().unwrap().keys() {
                fields.insert(format!("/reporter/{property}"));
            }
            let unique: BTreeSet<String> = asked.iter().cloned().collect();
            assert_eq!(unique.len(), asked.len(), "{kind}: a field is asked twice");
            assert_eq!(unique, fields, "{kind}: the pages do not ask exactly the form's fields");
        }
    }

    #[test]
    fn a_field_required_by_an_answer_is_asked_on_the_same_page_as_that_answer() {
        for &kind in NotificationType::ALL {
            let schema = kind.json_schema();
            for condition in schema["allOf"].as_array().into_iter().flatten() {
                let field = condition["if"]["required"][0].as_str().unwrap();
                let required = condition["then"]["required"][0].as_str().unwrap();
                assert!(condition["then"]["description"].is_string(), "{kind}: say why {required} is required");
                let page = schema["x-pages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|page| page["fields"].as_array().unwrap().contains(&json!(format!("/{field}"))))
                    .unwrap();
                assert!(page["fields"].as_array().unwrap().contains(&json!(format!("/{required}"))), "{kind}");
            }
        }
    }

    #[test]
    fn only_named_schemas_change() {
        let mut other = json!({"type": "string", "enum": ["a"], "properties": {"x": {}}});
        let before = other.clone();
        decorate("SomethingElse", &mut other);
        assert_eq!(other, before);
    }
}
