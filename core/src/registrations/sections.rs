//! What an application is made of: the value types and the typed sections (who, what, where, who manages,
//! when, how, documents, declaration), each with its own rule and published JSON Schema, as the notification
//! forms are. Rules a section's schema cannot state are in [`Section::check`], which also sees the other
//! sections and the organisation's registered details (see `checklist.rs`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::checklist::Facts;
use crate::field_error::FieldError;
use crate::forms::fields::{ActivityCode, CalendarDate, Email, LongText, PastDate, Phone, ShortText, formats};

crate::text_type!(
    /// A UK postcode, in any case and spacing.
    PostcodeText {
        min = 5,
        max = 10,
        pattern = r"^[A-Za-z0-9 ]+$",
        format = formats::POSTCODE,
        description = "A UK postcode in any case and spacing (the server checks its shape: outward code, a space, \
inward code).",
        example = "SW1A 1AA"
    }
);

crate::text_type!(
    /// A Companies House company number.
    CompanyNumber {
        pattern = "^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$",
        description = "A Companies House number: 8 digits, or 2 capital letters and 6 digits.",
        example = "01234567"
    }
);

crate::text_type!(
    /// A Disclosure and Barring Service certificate number.
    DbsCertificateNumber {
        pattern = "^[0-9]{12}$",
        description = "The DBS certificate number: 12 digits.",
        example = "001234567890"
    }
);

crate::text_type!(
    /// A code from the regulator's reference data (service types, service-user bands).
    ReferenceCode {
        min = 1,
        max = 64,
        pattern = "^[a-z][a-z0-9_]*$",
        description = "A code from the regulator's reference data (GET /v1/reference/…; the server checks it).",
        example = "domiciliary_care"
    }
);

/// A postal address in the UK.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    pub line_1: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line_2: Option<ShortText>,
    pub town: ShortText,
    pub postcode: PostcodeText,
}

/// The level of a DBS check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DbsLevel {
    Basic,
    Standard,
    Enhanced,
}

/// A DBS certificate, recorded for each person in a regulated role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DbsCheck {
    pub certificate_number: DbsCertificateNumber,
    pub level: DbsLevel,
    /// For partners, registered managers and sole traders: an enhanced check issued in the last 12 months
    /// (the server checks on the day the checklist is read and on submission).
    pub issued_on: PastDate,
}

/// A person in a regulated role: a sole trader, a partner, a nominated individual or a registered manager.
/// These are registered people, so they are named (unlike people who use services).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegulatedPerson {
    pub full_name: ShortText,
    pub email: Email,
    pub phone: Phone,
    pub date_of_birth: PastDate,
    pub dbs: DbsCheck,
}

/// The legal form of a new provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderType {
    Individual,
    Partnership,
    Organisation,
}

/// How the provider will pay for the service until it pays for itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Financials {
    /// The bank or accountant who signed the financial viability statement.
    pub signed_by: ShortText,
    /// Expected income in the first year, in whole pounds.
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    pub first_year_income_gbp: i64,
}

/// **who** (new provider): the legal entity and the people responsible for it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    pub provider_type: ProviderType,
    pub legal_name: ShortText,
    /// Required for an organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub companies_house_number: Option<CompanyNumber>,
    pub registered_address: PostalAddress,
    /// Required for an organisation: the director responsible for supervising the regulated activities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nominated_individual: Option<RegulatedPerson>,
    /// Required for a partnership: at least two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_items = 20)]
    pub partners: Option<Vec<RegulatedPerson>>,
    /// Required for an individual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sole_trader: Option<RegulatedPerson>,
    pub financials: Financials,
}

/// **what**: the regulated activities, service types and service-user bands applied for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicesSection {
    #[schema(min_items = 1, max_items = 14)]
    pub regulated_activities: Vec<ActivityCode>,
    #[schema(min_items = 1, max_items = 40)]
    pub service_types: Vec<ReferenceCode>,
    #[schema(min_items = 1, max_items = 12)]
    pub service_user_bands: Vec<ReferenceCode>,
}

/// A place care will be provided from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedLocation {
    pub name: ShortText,
    pub address: PostalAddress,
    /// Beds or places, where the service has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0, maximum = 2000)]
    pub places: Option<i32>,
}

/// **where** (new provider): every location. The activities in **what** are registered at each.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationsSection {
    #[schema(min_items = 1, max_items = 50)]
    pub locations: Vec<ProposedLocation>,
}

/// A registered manager for one of the new provider's locations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationManager {
    /// The location's position in **where** `/locations` (0 for the first).
    #[schema(minimum = 0, maximum = 49)]
    pub location: i32,
    pub manager: RegulatedPerson,
}

/// **who manages** (new provider): the registered-manager application for each location. Organisations and
/// partnerships need one for every location; an individual manages their own service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagersSection {
    #[schema(max_items = 50)]
    pub managers: Vec<LocationManager>,
}

/// **who manages** (add a location): its registered manager.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerSection {
    pub manager: RegulatedPerson,
}

/// **who manages** (new registered manager): the manager and the registered location they will manage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewManagerSection {
    /// One of the organisation's registered locations.
    pub location_id: Uuid,
    pub manager: RegulatedPerson,
}

/// **who manages** (cancel a manager's registration).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerCancellation {
    /// The registered location whose manager's registration ends.
    pub location_id: Uuid,
    pub reason: LongText,
}

/// **when**: the date the change should take effect (for a new service, the day it starts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Today or later (the server checks).
    pub effective_date: CalendarDate,
}

/// **how**: how the service will be safe, effective, caring, responsive and well-led.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HowSection {
    pub safe: LongText,
    pub effective: LongText,
    pub caring: LongText,
    pub responsive: LongText,
    pub well_led: LongText,
}

/// **where** (remove a location).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationRemoval {
    /// One of the organisation's registered locations.
    pub location_id: Uuid,
    pub reason: LongText,
}

/// **what** (add or remove regulated activities at a registered location).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityChange {
    /// One of the organisation's registered locations.
    pub location_id: Uuid,
    #[schema(min_items = 1, max_items = 14)]
    pub regulated_activities: Vec<ActivityCode>,
    pub reason: LongText,
}

/// **who** (add a partner).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerSection {
    pub partner: RegulatedPerson,
}

/// **who** (remove a partner).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerRemoval {
    /// A partner from the organisation's registered details.
    pub partner_id: Uuid,
    pub reason: LongText,
}

/// **what** (vary a condition).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionVariation {
    /// A condition from the organisation's registered details.
    pub condition_id: Uuid,
    pub proposed_wording: LongText,
    pub reason: LongText,
}

/// **what** (remove a condition).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionRemoval {
    /// A condition from the organisation's registered details.
    pub condition_id: Uuid,
    pub reason: LongText,
}

/// Whether a cancellation ends every regulated activity (and so the registration) or some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancellationScope {
    All,
    Some,
}

/// **what** (cancel one or all regulated activities).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    pub scope: CancellationScope,
    /// With `some`: the registered location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// With `some`: the activities to cancel there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 1, max_items = 14)]
    pub regulated_activities: Option<Vec<ActivityCode>>,
    pub reason: LongText,
}

/// A required document's purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentPurpose {
    StatementOfPurpose,
    /// Signed by an accountant or a bank.
    FinancialViabilityStatement,
    BusinessPlan,
    GovernancePolicy,
    MedicinesPolicy,
    OrganisationalStructure,
    StaffingStructure,
    Insurance,
    /// Anything else the regulator should read with the application.
    SupportingInformation,
}

impl DocumentPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StatementOfPurpose => "statement_of_purpose",
            Self::FinancialViabilityStatement => "financial_viability_statement",
            Self::BusinessPlan => "business_plan",
            Self::GovernancePolicy => "governance_policy",
            Self::MedicinesPolicy => "medicines_policy",
            Self::OrganisationalStructure => "organisational_structure",
            Self::StaffingStructure => "staffing_structure",
            Self::Insurance => "insurance",
            Self::SupportingInformation => "supporting_information",
        }
    }
}

/// One of the organisation's documents (`/v1/organisations/{id}/documents`), attached for a purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDocument {
    pub document_id: Uuid,
    pub purpose: DocumentPurpose,
}

/// **documents**: each required document is a separate file, attached by purpose.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentsSection {
    #[schema(max_items = 50)]
    pub attachments: Vec<ApplicationDocument>,
}

/// **declaration**: the applicant confirms that what they have said is true.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub declared_by: ShortText,
    /// Their role in the organisation.
    pub role: ShortText,
    /// Must be `true`: the information given is true and complete (the server checks).
    pub confirmed: bool,
}

/// Rules a section's schema cannot state. `at` is where the section sits in the application
/// (`/sections/who`).
pub trait Section {
    fn check(&self, _facts: &Facts, _at: &str, _errors: &mut Vec<FieldError>) {}
}

fn push(errors: &mut Vec<FieldError>, pointer: String, code: &'static str, detail: impl Into<String>) {
    errors.push(FieldError::new(pointer, code, detail.into()));
}

/// The 12-month freshness rule for partners, managers and sole traders.
fn fresh_enhanced_check(person: &RegulatedPerson, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
    if person.dbs.level != DbsLevel::Enhanced {
        push(errors, format!("{at}/dbs/level"), "dbs_not_enhanced", "This role needs an enhanced DBS check.");
    }
    if let Some(issued) = person.dbs.issued_on.date()
        && issued < months_before(facts.today(), 12)
    {
        push(
            errors,
            format!("{at}/dbs/issued_on"),
            "dbs_too_old",
            "The DBS check must have been issued in the last 12 months; apply for a new one and give its number and date.",
        );
    }
}

/// The same day `months` earlier (the last day of the month when that day does not exist).
pub fn months_before(date: Date, months: u8) -> Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 - i32::from(months);
    let (year, month) = (total.div_euclid(12), u8::try_from(total.rem_euclid(12) + 1).expect("1..=12"));
    let month = time::Month::try_from(month).expect("1..=12");
    let day = date.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).expect("a real date")
}

fn registered_location(facts: &Facts, location_id: Uuid, pointer: String, errors: &mut Vec<FieldError>) -> bool {
    if facts.registered.location(location_id).is_none() {
        push(
            errors,
            pointer,
            "not_registered",
            "This is not one of the organisation's registered locations (GET /v1/organisations/{id}/registration).",
        );
        return false;
    }
    true
}

const UNKNOWN_ACTIVITY: &str =
    "This is not a regulated activity code; GET /v1/reference/regulated-activities lists them.";
const UNKNOWN_SERVICE_TYPE: &str = "This is not a service type; GET /v1/reference/service-types lists them.";
const UNKNOWN_BAND: &str = "This is not a service-user band; GET /v1/reference/service-user-bands lists them.";

/// The reference codes the regulator publishes (`GET /v1/reference/…`).
#[derive(Debug, Clone, Copy)]
pub struct PublishedCodes<'a> {
    pub activities: &'a BTreeSet<String>,
    pub service_types: &'a BTreeSet<String>,
    pub service_user_bands: &'a BTreeSet<String>,
}

/// Every reference code in a section's `content` that the regulator does not publish, wherever the section
/// lists regulated activities, service types or service-user bands: refused as the section is written (as a
/// notification draft's activities are), not only when the checklist is read. Pointers are under `at`.
pub fn unknown_codes(content: &Value, codes: PublishedCodes<'_>, at: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk_codes(content, codes, at, &mut errors);
    errors
}

fn walk_codes(value: &Value, codes: PublishedCodes<'_>, at: &str, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let here = format!("{at}/{}", crate::field_error::pointer_token(key));
                let listed = match key.as_str() {
                    "regulated_activities" => Some((codes.activities, "unknown_activity", UNKNOWN_ACTIVITY)),
                    "service_types" => Some((codes.service_types, "unknown_code", UNKNOWN_SERVICE_TYPE)),
                    "service_user_bands" => Some((codes.service_user_bands, "unknown_code", UNKNOWN_BAND)),
                    _ => None,
                };
                match (listed, member) {
                    (Some((known, code, detail)), Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if item.as_str().is_some_and(|text| !known.contains(text)) {
                                push(errors, format!("{here}/{i}"), code, detail);
                            }
                        }
                    }
                    _ => walk_codes(member, codes, &here, errors),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_codes(item, codes, &format!("{at}/{i}"), errors);
            }
        }
        _ => {}
    }
}

fn known_activities(codes: &[ActivityCode], facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
    for (i, code) in codes.iter().enumerate() {
        if codes[..i].contains(code) {
            push(errors, format!("{at}/{i}"), "duplicate", "Give each activity once.");
        } else if !facts.activity_codes.contains(code.as_str()) {
            push(errors, format!("{at}/{i}"), "unknown_activity", UNKNOWN_ACTIVITY);
        }
    }
}

impl Section for ProviderSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        let required = |errors: &mut Vec<FieldError>, field: &str, why: &str| {
            push(errors, format!("{at}/{field}"), "required", why.to_owned());
        };
        match self.provider_type {
            ProviderType::Organisation => {
                if self.companies_house_number.is_none() {
                    required(errors, "companies_house_number", "An organisation gives its Companies House number.");
                }
                if self.nominated_individual.is_none() {
                    required(errors, "nominated_individual", "An organisation names its nominated individual.");
                }
            }
            ProviderType::Partnership => match &self.partners {
                Some(partners) if partners.len() >= 2 => {
                    for (i, partner) in partners.iter().enumerate() {
                        fresh_enhanced_check(partner, facts, &format!("{at}/partners/{i}"), errors);
                    }
                }
                _ => required(errors, "partners", "A partnership names every partner (at least two)."),
            },
            ProviderType::Individual => match &self.sole_trader {
                Some(person) => fresh_enhanced_check(person, facts, &format!("{at}/sole_trader"), errors),
                None => required(errors, "sole_trader", "An individual gives their own details."),
            },
        }
    }
}

impl Section for ServicesSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        known_activities(&self.regulated_activities, facts, &format!("{at}/regulated_activities"), errors);
        for (i, code) in self.service_types.iter().enumerate() {
            if !facts.service_types.contains(code.as_str()) {
                push(errors, format!("{at}/service_types/{i}"), "unknown_code", UNKNOWN_SERVICE_TYPE);
            }
        }
        for (i, code) in self.service_user_bands.iter().enumerate() {
            if !facts.service_user_bands.contains(code.as_str()) {
                push(errors, format!("{at}/service_user_bands/{i}"), "unknown_code", UNKNOWN_BAND);
            }
        }
    }
}

impl Section for LocationsSection {}

impl Section for ProposedLocation {}

impl Section for ManagersSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        let locations = facts.other::<LocationsSection>("where").map_or(0, |w| w.locations.len());
        let provider_type = facts.other::<ProviderSection>("who").map(|w| w.provider_type);
        let mut managed = vec![false; locations];
        for (i, entry) in self.managers.iter().enumerate() {
            let index = usize::try_from(entry.location).unwrap_or(usize::MAX);
            match managed.get_mut(index) {
                Some(seen) if *seen => push(
                    errors,
                    format!("{at}/managers/{i}/location"),
                    "duplicate",
                    "This location already has a manager in this list.",
                ),
                Some(seen) => *seen = true,
                None => push(
                    errors,
                    format!("{at}/managers/{i}/location"),
                    "no_such_location",
                    format!("There are {locations} locations in `where`; give the position of one (0 for the first)."),
                ),
            }
            fresh_enhanced_check(&entry.manager, facts, &format!("{at}/managers/{i}/manager"), errors);
        }
        if matches!(provider_type, Some(ProviderType::Organisation | ProviderType::Partnership)) {
            for (index, _) in managed.iter().enumerate().filter(|(_, seen)| !**seen) {
                push(
                    errors,
                    format!("{at}/managers"),
                    "manager_missing",
                    format!(
                        "Location {index} in `where` has no registered manager; organisations and partnerships \
include a registered-manager application for each location."
                    ),
                );
            }
        }
    }
}

impl Section for ManagerSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        fresh_enhanced_check(&self.manager, facts, &format!("{at}/manager"), errors);
    }
}

impl Section for NewManagerSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        registered_location(facts, self.location_id, format!("{at}/location_id"), errors);
        fresh_enhanced_check(&self.manager, facts, &format!("{at}/manager"), errors);
    }
}

impl Section for ManagerCancellation {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        if registered_location(facts, self.location_id, format!("{at}/location_id"), errors)
            && facts.registered.location(self.location_id).is_some_and(|l| l.manager.is_none())
        {
            push(errors, format!("{at}/location_id"), "no_manager", "This location has no registered manager.");
        }
    }
}

impl Section for Timing {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        if self.effective_date.date().is_some_and(|d| d < facts.today()) {
            push(
                errors,
                format!("{at}/effective_date"),
                "in_past",
                "This date has passed; give today or a later date.",
            );
        }
    }
}

impl Section for HowSection {}

impl Section for LocationRemoval {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        registered_location(facts, self.location_id, format!("{at}/location_id"), errors);
    }
}

impl Section for ActivityChange {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        known_activities(&self.regulated_activities, facts, &format!("{at}/regulated_activities"), errors);
        if !registered_location(facts, self.location_id, format!("{at}/location_id"), errors) {
            return;
        }
        let location = facts.registered.location(self.location_id).expect("checked above");
        let adding = facts.kind == super::ApplicationType::AddRegulatedActivity;
        for (i, code) in self.regulated_activities.iter().enumerate() {
            let registered = location.activities.iter().any(|a| a == code.as_str());
            if adding && registered {
                push(
                    errors,
                    format!("{at}/regulated_activities/{i}"),
                    "already_registered",
                    "This activity is already registered at this location.",
                );
            } else if !adding && !registered {
                push(
                    errors,
                    format!("{at}/regulated_activities/{i}"),
                    "not_registered",
                    "This activity is not registered at this location.",
                );
            }
        }
    }
}

impl Section for PartnerSection {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        fresh_enhanced_check(&self.partner, facts, &format!("{at}/partner"), errors);
    }
}

impl Section for PartnerRemoval {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        if !facts.registered.partners.iter().any(|p| p.id == self.partner_id) {
            push(errors, format!("{at}/partner_id"), "not_registered", "This is not one of the registered partners.");
        }
    }
}

fn registered_condition(facts: &Facts, id: Uuid, pointer: String, errors: &mut Vec<FieldError>) {
    if !facts.registered.conditions.iter().any(|c| c.id == id) {
        push(errors, pointer, "not_registered", "This is not one of the organisation's conditions of registration.");
    }
}

impl Section for ConditionVariation {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        registered_condition(facts, self.condition_id, format!("{at}/condition_id"), errors);
    }
}

impl Section for ConditionRemoval {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        registered_condition(facts, self.condition_id, format!("{at}/condition_id"), errors);
    }
}

impl Section for Cancellation {
    fn check(&self, facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        if self.scope == CancellationScope::All {
            if facts.registered.locations.is_empty() {
                push(
                    errors,
                    format!("{at}/scope"),
                    "not_registered",
                    "The organisation has no registration to cancel.",
                );
            }
            return;
        }
        let (Some(location_id), Some(codes)) = (self.location_id, &self.regulated_activities) else {
            if self.location_id.is_none() {
                push(errors, format!("{at}/location_id"), "required", "Name the location, since the scope is `some`.");
            }
            if self.regulated_activities.is_none() {
                push(
                    errors,
                    format!("{at}/regulated_activities"),
                    "required",
                    "Name the activities to cancel, since the scope is `some`.",
                );
            }
            return;
        };
        let change = ActivityChange { location_id, regulated_activities: codes.clone(), reason: self.reason.clone() };
        let facts = Facts { kind: super::ApplicationType::RemoveRegulatedActivity, ..facts.clone() };
        change.check(&facts, at, errors);
    }
}

impl Section for DocumentsSection {}

impl Section for Declaration {
    fn check(&self, _facts: &Facts, at: &str, errors: &mut Vec<FieldError>) {
        if !self.confirmed {
            push(
                errors,
                format!("{at}/confirmed"),
                "not_confirmed",
                "Confirm that the information in this application is true and complete.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn unknown_reference_codes_are_found_wherever_a_section_lists_them() {
        let known = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect::<BTreeSet<String>>();
        let (activities, types, bands) = (known(&["personal_care"]), known(&["care_home"]), known(&["older_people"]));
        let codes = PublishedCodes { activities: &activities, service_types: &types, service_user_bands: &bands };
        let content = serde_json::json!({
            "regulated_activities": ["personal_care", "space_travel"],
            "service_types": ["care_home"],
            "locations": [{"service_user_bands": ["older_people", "martians"]}],
            "name": "space_travel"
        });
        let found: Vec<(String, String)> =
            unknown_codes(&content, codes, "").into_iter().map(|e| (e.pointer, e.code.into_owned())).collect();
        assert_eq!(
            found,
            [
                ("/regulated_activities/1".to_owned(), "unknown_activity".to_owned()),
                ("/locations/0/service_user_bands/1".to_owned(), "unknown_code".to_owned()),
            ]
        );
    }

    #[test]
    fn months_before_keeps_the_day_or_the_month_end() {
        assert_eq!(months_before(date!(2026 - 11 - 26), 12), date!(2025 - 11 - 26));
        assert_eq!(months_before(date!(2026 - 03 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(months_before(date!(2026 - 01 - 15), 1), date!(2025 - 12 - 15));
    }
}
