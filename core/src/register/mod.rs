//! The regulator's published register, imported (`docs/register.md`): its records as typed values, the
//! reference data's names resolved to codes, and the one rule that decides what an import does with each
//! record — create it, update the fields that differ, leave it, or report a conflict — given what is stored
//! and where that came from. No input or output here: the importer reads files and the store writes.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use time::Date;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{LocationId, OdsCode, Postcode, ProviderId};

pub mod row;
pub mod syndication;

pub use row::{Headings, MissingHeadings, RegisterRow, read_row};

/// The longest name (of a provider, a location or a manager) kept: the stored records' own limit.
pub const LONGEST_NAME: usize = 300;

/// More beds than any care home has: a value past it is a mistake in the file, not a care home.
pub const MOST_BEDS: u32 = 10_000;

/// Where a provider's or location's record last came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The monthly `HSCA_Active_Locations` file (or a CSV of it).
    RegisterFile,
    /// Records from the regulator's syndication API, one per line.
    Syndication,
    /// A decision made in this service: a registration granted, a location recorded or removed by staff.
    Decision,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterFile => "register_file",
            Self::Syndication => "syndication",
            Self::Decision => "decision",
        }
    }
}

named_by_serde!(Source, "register source");

/// A provider as a source states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub provider_id: ProviderId,
    pub name: String,
    pub registered_since: Option<Date>,
    pub companies_house_number: Option<String>,
    pub charity_number: Option<String>,
    /// The provider's own postal address (where letters go), when the source gives it.
    pub address: Option<PostalAddress>,
}

/// A postal address as the register gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub line_1: String,
    pub line_2: Option<String>,
    pub town: String,
    pub county: Option<String>,
    pub postcode: String,
}

/// An active location as a source states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRecord {
    pub provider_id: ProviderId,
    pub location_id: LocationId,
    pub name: String,
    pub ods_code: Option<OdsCode>,
    pub address_line_1: String,
    pub address_line_2: Option<String>,
    pub town: String,
    pub county: Option<String>,
    pub postcode: Postcode,
    pub care_home: bool,
    pub beds: Option<u32>,
    pub registered_since: Option<Date>,
    /// The registered manager's name as published: a name only, never matched to a person.
    pub manager_name: Option<String>,
    /// The names of the regulated activities and service types marked for it.
    pub activities: BTreeSet<String>,
    pub service_types: BTreeSet<String>,
    /// The service user bands marked for it; `None` when the source does not say (the syndication records).
    pub user_bands: Option<BTreeSet<String>>,
}

/// Why a row was not read, or not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The row's number in the file (the heading row is 1; a line's number in NDJSON).
    pub row: usize,
    /// The location (or provider) the row is about, when that much could be read.
    pub location_id: Option<String>,
    pub reason: String,
}

/// What the importer compares and writes of a provider. The name is set when the organisation is created and
/// is the organisation's thereafter (its admin may rename it), so it is not compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderState {
    pub registered_since: Option<Date>,
    pub companies_house_number: Option<String>,
    pub charity_number: Option<String>,
    pub address: Option<PostalAddress>,
}

impl From<&ProviderRecord> for ProviderState {
    fn from(record: &ProviderRecord) -> Self {
        Self {
            registered_since: record.registered_since,
            companies_house_number: record.companies_house_number.clone(),
            charity_number: record.charity_number.clone(),
            address: record.address.clone(),
        }
    }
}

impl ProviderState {
    /// The names of the fields `wanted` changes.
    pub fn changes(&self, wanted: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.registered_since != wanted.registered_since {
            changed.push("registered_since");
        }
        if self.companies_house_number != wanted.companies_house_number {
            changed.push("companies_house_number");
        }
        if self.charity_number != wanted.charity_number {
            changed.push("charity_number");
        }
        if self.address != wanted.address {
            changed.push("address");
        }
        changed
    }
}

/// What the importer compares and writes of a location, with the reference data as codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationState {
    pub name: String,
    pub address_line_1: String,
    pub address_line_2: Option<String>,
    pub town: String,
    pub county: Option<String>,
    pub postcode: String,
    pub ods_code: Option<String>,
    pub care_home: Option<bool>,
    pub beds: Option<i64>,
    pub registered_since: Option<Date>,
    pub activities: BTreeSet<String>,
    pub service_types: BTreeSet<String>,
    /// `None` in a wanted state: the source does not say, so what is stored stays.
    pub user_bands: Option<BTreeSet<String>>,
    /// The registered manager as the register names them (unverified).
    pub manager_name: Option<String>,
}

impl LocationState {
    /// The names of the fields `wanted` changes.
    pub fn changes(&self, wanted: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut differs = |field: &'static str, differ: bool| {
            if differ {
                changed.push(field);
            }
        };
        differs("name", self.name != wanted.name);
        differs(
            "address",
            (&self.address_line_1, &self.address_line_2, &self.town, &self.county, &self.postcode)
                != (&wanted.address_line_1, &wanted.address_line_2, &wanted.town, &wanted.county, &wanted.postcode),
        );
        differs("ods_code", self.ods_code != wanted.ods_code);
        differs("care_home", self.care_home != wanted.care_home);
        differs("beds", self.beds != wanted.beds);
        differs("registered_since", self.registered_since != wanted.registered_since);
        differs("regulated_activities", self.activities != wanted.activities);
        differs("service_types", self.service_types != wanted.service_types);
        differs("service_user_bands", wanted.user_bands.is_some() && self.user_bands != wanted.user_bands);
        differs("published_manager", self.manager_name != wanted.manager_name);
        changed
    }
}

/// The register's names for the reference data, resolved to this service's codes: by the name the reference
/// data gives (ignoring case), or by the register's own wording where it differs.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    activities: HashMap<String, String>,
    service_types: HashMap<String, String>,
    user_bands: HashMap<String, String>,
}

/// The register's names for service user bands (`Service user band - …`), where they differ from the
/// reference data's.
const REGISTER_BAND_NAMES: &[(&str, &str)] = &[
    ("Children 0-18 years", "children_0_to_18"),
    ("Mental Health", "mental_health_conditions"),
    ("Older People", "adults_over_65"),
    ("Younger Adults", "adults_under_65"),
];

impl Catalogue {
    /// From `(code, name)` pairs of each kind of reference data.
    pub fn new<'a>(
        activities: impl IntoIterator<Item = (&'a str, &'a str)>,
        service_types: impl IntoIterator<Item = (&'a str, &'a str)>,
        user_bands: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let index = |pairs: &mut dyn Iterator<Item = (&'a str, &'a str)>| -> HashMap<String, String> {
            pairs.map(|(code, name)| (name.trim().to_lowercase(), code.to_owned())).collect()
        };
        let mut user_bands = index(&mut user_bands.into_iter());
        for (name, code) in REGISTER_BAND_NAMES {
            user_bands.entry(name.to_lowercase()).or_insert_with(|| (*code).to_owned());
        }
        Self {
            activities: index(&mut activities.into_iter()),
            service_types: index(&mut service_types.into_iter()),
            user_bands,
        }
    }

    /// The location as a state to compare, or why it cannot be: a name the reference data does not know.
    pub fn resolve(&self, record: &LocationRecord) -> Result<LocationState, String> {
        let codes = |names: &BTreeSet<String>, known: &HashMap<String, String>, what: &str| {
            names
                .iter()
                .map(|name| {
                    known
                        .get(&name.trim().to_lowercase())
                        .cloned()
                        .ok_or_else(|| format!("it marks the {what} `{name}`, which this service does not know"))
                })
                .collect::<Result<BTreeSet<String>, String>>()
        };
        Ok(LocationState {
            name: record.name.clone(),
            address_line_1: record.address_line_1.clone(),
            address_line_2: record.address_line_2.clone(),
            town: record.town.clone(),
            county: record.county.clone(),
            postcode: record.postcode.to_string(),
            ods_code: record.ods_code.as_ref().map(|c| c.as_str().to_owned()),
            care_home: Some(record.care_home),
            beds: record.beds.map(i64::from),
            registered_since: record.registered_since,
            activities: codes(&record.activities, &self.activities, "regulated activity")?,
            service_types: codes(&record.service_types, &self.service_types, "service type")?,
            user_bands: record
                .user_bands
                .as_ref()
                .map(|bands| codes(bands, &self.user_bands, "service user band"))
                .transpose()?,
            manager_name: record.manager_name.clone(),
        })
    }
}

/// Where a stored record came from and the date that source speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance {
    pub source: Source,
    pub as_of: Date,
}

/// A provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProvider {
    pub organisation_id: Uuid,
    pub provider_id: String,
    pub state: ProviderState,
    pub provenance: Option<Provenance>,
}

/// A location as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLocation {
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The provider ID of the organisation it belongs to.
    pub provider_id: Option<String>,
    pub location_id: String,
    pub state: LocationState,
    pub deregistered_at: Option<OffsetDateTime>,
    pub provenance: Option<Provenance>,
}

/// What an import does with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Create,
    /// Write these fields.
    Update(Vec<&'static str>),
    Unchanged,
    /// Leave it, and report why.
    Conflict(String),
}

/// A record that differs from what is stored is written only when the source is at least as new as what last
/// wrote it; a decision made here on the source's own date also wins (which came first is not known).
fn precedence(stored: Option<Provenance>, as_of: Date) -> Result<(), String> {
    match stored {
        Some(Provenance { source: Source::Decision, as_of: decided }) if decided >= as_of => {
            Err(format!("changed by a decision in this service on {decided}, not before this file's date ({as_of})"))
        }
        Some(Provenance { source, as_of: written }) if written > as_of => Err(format!(
            "last written from a newer source ({}, as of {written}) than this file (as of {as_of})",
            source.as_str()
        )),
        _ => Ok(()),
    }
}

/// What to do with a provider's record, as of `as_of`.
pub fn plan_provider(stored: Option<&StoredProvider>, wanted: &ProviderState, as_of: Date) -> Plan {
    let Some(stored) = stored else { return Plan::Create };
    let changed = stored.state.changes(wanted);
    if changed.is_empty() {
        return Plan::Unchanged;
    }
    match precedence(stored.provenance, as_of) {
        Ok(()) => Plan::Update(changed),
        Err(reason) => Plan::Conflict(format!("provider {}: {reason}", stored.provider_id)),
    }
}

/// What to do with a location's record, as of `as_of`, for the provider whose organisation is `organisation_id`.
pub fn plan_location(
    stored: Option<&StoredLocation>,
    organisation_id: Uuid,
    provider_id: &ProviderId,
    wanted: &LocationState,
    as_of: Date,
) -> Plan {
    let Some(stored) = stored else { return Plan::Create };
    if stored.organisation_id != organisation_id {
        return Plan::Conflict(format!(
            "the location is held here under provider {}, not {}; a change of provider is a new registration",
            stored.provider_id.as_deref().unwrap_or("(none)"),
            provider_id.as_str()
        ));
    }
    if let Some(at) = stored.deregistered_at {
        return Plan::Conflict(format!(
            "the location was deregistered here on {}; the file lists it as active, and an import never registers \
             it again",
            at.date()
        ));
    }
    let changed = stored.state.changes(wanted);
    if changed.is_empty() {
        return Plan::Unchanged;
    }
    match precedence(stored.provenance, as_of) {
        Ok(()) => Plan::Update(changed),
        Err(reason) => Plan::Conflict(reason),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn state() -> LocationState {
        LocationState {
            name: "Example House".into(),
            address_line_1: "1 Example Street".into(),
            address_line_2: None,
            town: "Leeds".into(),
            county: None,
            postcode: "LS1 4AP".into(),
            ods_code: None,
            care_home: Some(true),
            beds: Some(30),
            registered_since: Some(date!(2011 - 04 - 01)),
            activities: ["personal_care".to_owned()].into(),
            service_types: BTreeSet::new(),
            user_bands: Some(BTreeSet::new()),
            manager_name: Some("A Manager".into()),
        }
    }

    fn stored(source: Source, as_of: Date) -> StoredLocation {
        StoredLocation {
            id: Uuid::nil(),
            organisation_id: Uuid::nil(),
            provider_id: Some("1-200000001".into()),
            location_id: "1-100000001".into(),
            state: state(),
            deregistered_at: None,
            provenance: Some(Provenance { source, as_of }),
        }
    }

    fn provider() -> ProviderId {
        ProviderId::parse("1-200000001").unwrap()
    }

    #[test]
    fn the_same_record_again_is_unchanged_whatever_its_date() {
        let stored = stored(Source::RegisterFile, date!(2026 - 12 - 01));
        for as_of in [date!(2026 - 11 - 01), date!(2026 - 12 - 01), date!(2027 - 01 - 01)] {
            assert_eq!(plan_location(Some(&stored), Uuid::nil(), &provider(), &state(), as_of), Plan::Unchanged);
        }
        assert_eq!(plan_location(None, Uuid::nil(), &provider(), &state(), date!(2026 - 12 - 01)), Plan::Create);
    }

    #[test]
    fn a_newer_file_updates_the_fields_that_differ_and_an_older_one_is_a_conflict() {
        let stored = stored(Source::RegisterFile, date!(2026 - 12 - 01));
        let wanted = LocationState { beds: Some(31), name: "Example Court".into(), ..state() };
        assert_eq!(
            plan_location(Some(&stored), Uuid::nil(), &provider(), &wanted, date!(2027 - 01 - 01)),
            Plan::Update(vec!["name", "beds"])
        );
        let Plan::Conflict(reason) =
            plan_location(Some(&stored), Uuid::nil(), &provider(), &wanted, date!(2026 - 11 - 01))
        else {
            panic!("an older file must not overwrite a newer one")
        };
        assert!(reason.contains("newer source"), "{reason}");
    }

    #[test]
    fn a_decision_here_is_never_overwritten_by_a_file_of_its_date_or_before() {
        let decided = stored(Source::Decision, date!(2026 - 12 - 03));
        let wanted = LocationState { activities: BTreeSet::new(), ..state() };
        for as_of in [date!(2026 - 12 - 01), date!(2026 - 12 - 03)] {
            assert!(matches!(
                plan_location(Some(&decided), Uuid::nil(), &provider(), &wanted, as_of),
                Plan::Conflict(reason) if reason.contains("decision")
            ));
        }
        assert_eq!(
            plan_location(Some(&decided), Uuid::nil(), &provider(), &wanted, date!(2027 - 01 - 01)),
            Plan::Update(vec!["regulated_activities"])
        );
    }

    #[test]
    fn a_deregistered_location_or_one_held_by_another_provider_is_a_conflict() {
        let mut gone = stored(Source::Decision, date!(2026 - 10 - 01));
        gone.deregistered_at = Some(datetime!(2026-10-01 12:00 UTC));
        assert!(matches!(
            plan_location(Some(&gone), Uuid::nil(), &provider(), &state(), date!(2027 - 01 - 01)),
            Plan::Conflict(reason) if reason.contains("deregistered here on 2026-10-01")
        ));
        let elsewhere = stored(Source::RegisterFile, date!(2026 - 10 - 01));
        assert!(matches!(
            plan_location(Some(&elsewhere), Uuid::from_u128(7), &provider(), &state(), date!(2027 - 01 - 01)),
            Plan::Conflict(reason) if reason.contains("held here under provider 1-200000001")
        ));
    }

    #[test]
    fn a_source_that_does_not_give_bands_leaves_them() {
        let stored = stored(Source::RegisterFile, date!(2026 - 12 - 01));
        let wanted = LocationState { user_bands: None, ..state() };
        assert_eq!(
            plan_location(Some(&stored), Uuid::nil(), &provider(), &wanted, date!(2027 - 01 - 01)),
            Plan::Unchanged
        );
    }

    #[test]
    fn the_registers_names_resolve_to_codes_and_an_unknown_one_says_which() {
        let catalogue = Catalogue::new(
            [("personal_care", "Personal care")],
            [("care_home_with_nursing", "Care home service with nursing")],
            [("adults_over_65", "Caring for adults over 65 yrs")],
        );
        let headings = Headings::read(&[
            "Location ID",
            "Location Name",
            "Location Street Address",
            "Location City",
            "Location Postal Code",
            "Care home?",
            "Provider ID",
            "Provider Name",
            "Regulated activity - Personal Care",
            "Service type - Care home service with nursing",
            "Service user band - Older People",
        ])
        .unwrap();
        let cells = ["1-100000001", "A", "1 Street", "Leeds", "LS1 4AP", "Y", "1-200000001", "P", "Y", "Y", "Y"];
        let record = read_row(&headings, 2, &cells).unwrap().location;
        let resolved = catalogue.resolve(&record).unwrap();
        assert_eq!(resolved.activities.into_iter().collect::<Vec<_>>(), ["personal_care"]);
        assert_eq!(resolved.user_bands.unwrap().into_iter().collect::<Vec<_>>(), ["adults_over_65"]);
        let unknown = LocationRecord { service_types: ["Hyperdrive".to_owned()].into(), ..record };
        assert!(catalogue.resolve(&unknown).unwrap_err().contains("service type `Hyperdrive`"));
    }
}
