//! The regulator's notification forms, one typed struct each (Care Quality Commission (Registration)
//! Regulations 2009). Each form's `type` field is its discriminator in [`super::NotificationContent`].
//!
//! A field required by another answer, or given only with another, is stated in the published schema
//! (`if`/`then`, `dependentRequired`: see `presentation.rs`), which the server validates with; the rules no
//! schema can state (one date not before another) are in [`Form::cross_checks`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::people::*;
use crate::field_error::FieldError;
use crate::forms::fields::*;

/// Rules a form's schema cannot state, checked once the form is complete and well-formed.
pub trait Form {
    fn cross_checks(&self, errors: &mut Vec<FieldError>);
}

fn error(errors: &mut Vec<FieldError>, pointer: &str, code: &'static str, detail: &str) {
    errors.push(FieldError::new(pointer.to_owned(), code, detail.to_owned()));
}

/// `later` must not be before `earlier` (both present and well-formed).
fn not_before<T: PartialOrd>(
    errors: &mut Vec<FieldError>,
    later: Option<T>,
    earlier: Option<T>,
    pointer: &str,
    detail: &str,
) {
    if let (Some(later), Some(earlier)) = (later, earlier)
        && later < earlier
    {
        error(errors, pointer, "out_of_order", detail);
    }
}

/// Where someone died.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceOfDeath {
    ThisLocation,
    OwnHome,
    Hospital,
    Hospice,
    Ambulance,
    Other,
}

/// The Mental Health Act 1983 power under which a patient is detained or liable to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MentalHealthActSection {
    #[serde(rename = "section_2")]
    Section2,
    #[serde(rename = "section_3")]
    Section3,
    #[serde(rename = "section_4")]
    Section4,
    #[serde(rename = "section_5_2")]
    Section5_2,
    #[serde(rename = "section_5_4")]
    Section5_4,
    #[serde(rename = "section_35")]
    Section35,
    #[serde(rename = "section_36")]
    Section36,
    #[serde(rename = "section_37")]
    Section37,
    #[serde(rename = "section_37_41")]
    Section37_41,
    #[serde(rename = "section_38")]
    Section38,
    #[serde(rename = "section_45a")]
    Section45a,
    #[serde(rename = "section_47")]
    Section47,
    #[serde(rename = "section_47_49")]
    Section47_49,
    #[serde(rename = "section_48")]
    Section48,
    #[serde(rename = "section_48_49")]
    Section48_49,
    #[serde(rename = "section_135")]
    Section135,
    #[serde(rename = "section_136")]
    Section136,
    CommunityTreatmentOrder,
}

/// The kinds of serious injury regulation 18(2)(a),(b) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InjuryCategory {
    ImpairmentOfSenses,
    MajorOrganDamage,
    Fracture,
    MuscleTendonJointOrBloodVessel,
    PressureUlcerGrade3OrAbove,
    IntellectualFunction,
    PsychologicalHarm,
    ProlongedPain,
}

/// Who is alleged to have caused the harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllegedPerpetrator {
    ServiceUser,
    Staff,
    Other,
}

/// The outcome of a Deprivation of Liberty Safeguards application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DolsOutcome {
    Authorised,
    NotAuthorised,
    Withdrawn,
    CourtOfProtectionOrder,
}

/// What stopped the service running safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisruptionKind {
    Staffing,
    Utilities,
    SafetySystems,
    PremisesDamage,
    Other,
}

/// A planned absence is notified 28 days ahead; an emergency one within 5 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceKind {
    Planned,
    Emergency,
}

/// Which registered detail changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetailsChange {
    RegisteredManager,
    ProviderName,
    LocationName,
    Directors,
    NominatedIndividual,
    Partners,
    Address,
    Closure,
    Insolvency,
}

/// Who was appointed over the provider's affairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointeeKind {
    Liquidator,
    Receiver,
    TrusteeInBankruptcy,
    Administrator,
}

/// Declares the one-value enum a form's `type` field holds.
macro_rules! form_tag {
    ($name:ident = $text:literal) => {
        #[doc = concat!("The form's type: always `", $text, "`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[serde(rename = $text)]
            Tag,
        }

        // By hand: the derive does not see a `rename` whose value came through a macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$text]))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

form_tag!(DeathTag = "death");
form_tag!(DeathOfDetainedPatientTag = "death_of_detained_patient");
form_tag!(DetainedPatientAbsenceTag = "detained_patient_absence");
form_tag!(DetainedPatientReturnTag = "detained_patient_return");
form_tag!(SeriousInjuryTag = "serious_injury");
form_tag!(AbuseTag = "abuse");
form_tag!(PoliceIncidentTag = "police_incident");
form_tag!(DolsOutcomeTag = "dols_outcome");
form_tag!(ServiceDisruptionTag = "service_disruption");
form_tag!(Under18InAdultPsychiatricUnitTag = "under_18_in_adult_psychiatric_unit");
form_tag!(ManagerAbsenceTag = "manager_absence");
form_tag!(ManagerReturnTag = "manager_return");
form_tag!(ChangeOfDetailsTag = "change_of_details");
form_tag!(RevisedStatementOfPurposeTag = "revised_statement_of_purpose");
form_tag!(DeathOfRegisteredProviderTag = "death_of_registered_provider");
form_tag!(LiquidatorAppointmentTag = "liquidator_appointment");

/// Death of a person using the service (regulation 16).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeathForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DeathTag,
    pub reporter: Reporter,
    pub person: ServiceUser,
    /// When they died (not before they started using the service).
    pub died_at: PastDateTime,
    pub place: PlaceOfDeath,
    /// Where, when `place` is `other` (required then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub place_details: Option<ShortText>,
    /// The cause, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cause: Option<LongText>,
    pub circumstances: LongText,
    pub receiving_end_of_life_care: bool,
    /// Whether staff were present when they died.
    pub staff_present: bool,
    /// When staff last saw them alive: required when staff were not present, and not after the death.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_seen_at: Option<PastDateTime>,
    /// Other notifications about this person in the last three months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub other_recent_notifications: Option<LongText>,
    /// What, if anything, could have prevented it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub could_have_been_prevented: Option<LongText>,
}

impl Form for DeathForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        not_before(
            errors,
            self.died_at.at(),
            self.last_seen_at.as_ref().and_then(PastDateTime::at),
            "/last_seen_at",
            "They cannot have been last seen after they died.",
        );
        not_before(
            errors,
            self.died_at.at().map(|at| at.date()),
            self.person.started_using_service_on.as_ref().and_then(PastDate::date),
            "/died_at",
            "The death cannot be before they started using the service.",
        );
    }
}

/// Death of a patient detained, or liable to be detained, under the Mental Health Act 1983 (regulation 17).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeathOfDetainedPatientForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DeathOfDetainedPatientTag,
    pub reporter: Reporter,
    pub person: ServiceUser,
    pub mental_health_act_section: MentalHealthActSection,
    pub died_at: PastDateTime,
    pub place: PlaceOfDeath,
    /// Where, when `place` is `other` (required then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub place_details: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cause: Option<LongText>,
    pub circumstances: LongText,
    pub coroner_informed: bool,
}

impl Form for DeathOfDetainedPatientForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// Unauthorised absence of a detained patient: part 1 (regulation 17). Their return is part 2, a
/// `detained_patient_return` notification that follows this one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetainedPatientAbsenceForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DetainedPatientAbsenceTag,
    pub reporter: Reporter,
    pub person: ServiceUser,
    pub mental_health_act_section: MentalHealthActSection,
    pub absent_since: PastDateTime,
    pub circumstances: LongText,
    pub risk_to_self_or_others: LongText,
    pub police_informed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub police_reference: Option<ShortText>,
}

impl Form for DetainedPatientAbsenceForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// The return of an absent detained patient: part 2, following their `detained_patient_absence`
/// notification (name it in `follows_id`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetainedPatientReturnForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DetainedPatientReturnTag,
    pub reporter: Reporter,
    pub returned_at: PastDateTime,
    pub circumstances: LongText,
    /// Harm to the patient or others during the absence, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub harm_during_absence: Option<LongText>,
}

impl Form for DetainedPatientReturnForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// Serious injury to a person using the service (regulation 18(2)(a),(b)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriousInjuryForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: SeriousInjuryTag,
    pub reporter: Reporter,
    pub person: InjuredPerson,
    pub occurred_at: PastDateTime,
    pub description: LongText,
    /// At least one.
    #[schema(min_items = 1, max_items = 8)]
    pub categories: Vec<InjuryCategory>,
    pub known_to_be_at_risk: bool,
    pub mitigations_in_place: LongText,
    pub immediate_actions: LongText,
}

impl Form for SeriousInjuryForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// Abuse or an allegation of abuse (regulation 18(2)(e)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbuseForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: AbuseTag,
    pub reporter: Reporter,
    /// The person harmed or at risk.
    pub person: ServiceUser,
    pub alleged_perpetrator: AllegedPerpetrator,
    /// When it happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub occurred_on: Option<PastDate>,
    pub became_aware_at: PastDateTime,
    pub description: LongText,
    pub known_risk: bool,
    pub protection_in_place: LongText,
    pub immediate_actions: LongText,
    /// What was done about the staff involved: required when the alleged perpetrator is staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub staff_actions: Option<LongText>,
    pub reported_to_local_authority: bool,
    pub reported_to_police: bool,
}

impl Form for AbuseForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        not_before(
            errors,
            self.became_aware_at.at().map(|at| at.date()),
            self.occurred_on.as_ref().and_then(PastDate::date),
            "/became_aware_at",
            "You cannot have become aware of it before it happened.",
        );
    }
}

/// An incident reported to or investigated by the police (regulation 18(2)(f)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliceIncidentForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: PoliceIncidentTag,
    pub reporter: Reporter,
    pub occurred_at: PastDateTime,
    /// When it was reported to the police (not before it happened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reported_to_police_at: Option<PastDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub police_reference: Option<ShortText>,
    pub description: LongText,
    /// The person using the service involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub person: Option<ServiceUser>,
    pub immediate_actions: LongText,
}

impl Form for PoliceIncidentForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        not_before(
            errors,
            self.reported_to_police_at.as_ref().and_then(PastDateTime::at),
            self.occurred_at.at(),
            "/reported_to_police_at",
            "It cannot have been reported before it happened.",
        );
    }
}

/// The outcome of a Deprivation of Liberty Safeguards application, a Court of Protection order, or a
/// withdrawal (regulation 18).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DolsOutcomeForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DolsOutcomeTag,
    pub reporter: Reporter,
    pub person: ServiceUser,
    pub application_made_on: PastDate,
    pub outcome: DolsOutcome,
    /// Not before the application.
    pub outcome_on: PastDate,
    /// The supervising local authority.
    pub supervisory_body: ShortText,
    /// Until when the deprivation is authorised: required for `authorised` and `court_of_protection_order`,
    /// after `outcome_on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub authorised_until: Option<CalendarDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conditions: Option<LongText>,
}

impl Form for DolsOutcomeForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        not_before(
            errors,
            self.outcome_on.date(),
            self.application_made_on.date(),
            "/outcome_on",
            "The outcome cannot come before the application.",
        );
        not_before(
            errors,
            self.authorised_until.as_ref().and_then(CalendarDate::date),
            self.outcome_on.date(),
            "/authorised_until",
            "The authorisation cannot end before it was given.",
        );
    }
}

/// An event that stops, or may stop, the service running safely (regulation 18(2)(g)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDisruptionForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: ServiceDisruptionTag,
    pub reporter: Reporter,
    pub event: DisruptionKind,
    pub started_at: PastDateTime,
    /// When it ended, if it has (not before it started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ended_at: Option<PastDateTime>,
    pub description: LongText,
    pub impact_on_people: LongText,
    pub actions_taken: LongText,
}

impl Form for ServiceDisruptionForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        not_before(
            errors,
            self.ended_at.as_ref().and_then(PastDateTime::at),
            self.started_at.at(),
            "/ended_at",
            "It cannot have ended before it started.",
        );
    }
}

/// A person under 18 in an adult psychiatric unit for more than 48 hours (regulation 18).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Under18InAdultPsychiatricUnitForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: Under18InAdultPsychiatricUnitTag,
    pub reporter: Reporter,
    /// Their age band must be under 18.
    pub person: ServiceUser,
    pub admitted_at: PastDateTime,
    pub reason: LongText,
    pub safeguards: LongText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub mental_health_act_section: Option<MentalHealthActSection>,
}

impl Form for Under18InAdultPsychiatricUnitForm {
    fn cross_checks(&self, errors: &mut Vec<FieldError>) {
        if !self.person.age_band.is_child() {
            error(errors, "/person/age_band", "not_under_18", "This notification is for people under 18.");
        }
    }
}

/// Absence of the registered manager for 28 days or more (regulation 14). Their return follows as a
/// `manager_return` notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerAbsenceForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: ManagerAbsenceTag,
    pub reporter: Reporter,
    pub manager: StaffMember,
    pub absence: AbsenceKind,
    pub starts_on: CalendarDate,
    /// 28 days or more.
    #[schema(minimum = 28, maximum = 3650)]
    pub expected_length_days: u32,
    pub reason: LongText,
    pub interim_arrangements: LongText,
    /// Who is responsible meanwhile.
    pub responsible_person: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub plans_to_appoint: Option<LongText>,
}

impl Form for ManagerAbsenceForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// The registered manager's return after an absence (regulation 14), following their `manager_absence`
/// notification (name it in `follows_id`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerReturnForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: ManagerReturnTag,
    pub reporter: Reporter,
    pub manager: StaffMember,
    pub returned_on: PastDate,
}

impl Form for ManagerReturnForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// A change to registered details: manager, names, directors or nominated individual, partners, address,
/// closure or insolvency (regulation 15).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOfDetailsForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: ChangeOfDetailsTag,
    pub reporter: Reporter,
    pub change: DetailsChange,
    pub effective_on: CalendarDate,
    pub details: LongText,
}

impl Form for ChangeOfDetailsForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// A revised statement of purpose (regulation 12(3)), within 28 days of the revision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisedStatementOfPurposeForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: RevisedStatementOfPurposeTag,
    pub reporter: Reporter,
    pub effective_on: CalendarDate,
    pub summary_of_changes: LongText,
}

impl Form for RevisedStatementOfPurposeForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// Death of a registered provider who is an individual or a partner (regulation 21).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeathOfRegisteredProviderForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: DeathOfRegisteredProviderTag,
    pub reporter: Reporter,
    pub died_on: PastDate,
    /// The notifier's relationship to the provider (personal representative, partner, …).
    pub relationship: ShortText,
    /// Who carries on the regulated activities now, and how.
    pub arrangements: LongText,
}

impl Form for DeathOfRegisteredProviderForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}

/// Appointment of a liquidator, receiver, trustee in bankruptcy or administrator (regulation 22).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiquidatorAppointmentForm {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: LiquidatorAppointmentTag,
    pub reporter: Reporter,
    pub appointee_kind: AppointeeKind,
    pub appointed_on: PastDate,
    pub appointee: Contact,
    pub firm: ShortText,
    /// How the regulated activities will continue.
    pub arrangements: LongText,
}

impl Form for LiquidatorAppointmentForm {
    fn cross_checks(&self, _: &mut Vec<FieldError>) {}
}
