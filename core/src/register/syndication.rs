//! A line of NDJSON holding one record of the regulator's syndication API (`/locations/{id}`,
//! `/providers/{id}`), as someone fetching the IDs its changes feed names writes them: read into a provider's
//! or a location's record, or a refusal. Field names are the API's (`docs/register.md` lists those read).

use std::collections::BTreeSet;

use serde::Deserialize;
use time::Date;

use super::{LocationRecord, ProviderRecord, Refusal};
use crate::domain::{LocationId, OdsCode, Postcode, ProviderId};

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Provider(ProviderRecord),
    Location(LocationRecord),
    /// A record the register marks deregistered: reported, never applied (deregistration is a decision made
    /// here).
    Deregistered {
        location_id: Option<String>,
        provider_id: String,
        on: Option<Date>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    location_id: Option<String>,
    provider_id: Option<String>,
    name: Option<String>,
    registration_status: Option<String>,
    registration_date: Option<String>,
    deregistration_date: Option<String>,
    companies_house_number: Option<String>,
    charity_number: Option<String>,
    ods_code: Option<String>,
    postal_address_line1: Option<String>,
    postal_address_line2: Option<String>,
    postal_address_town_city: Option<String>,
    postal_address_county: Option<String>,
    postal_code: Option<String>,
    care_home: Option<String>,
    number_of_beds: Option<u32>,
    #[serde(default)]
    regulated_activities: Vec<Activity>,
    #[serde(default)]
    gac_service_types: Vec<ServiceType>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    name: String,
    #[serde(default)]
    contacts: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Contact {
    person_given_name: Option<String>,
    person_family_name: Option<String>,
    #[serde(default)]
    person_roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ServiceType {
    name: Option<String>,
    /// The register's name for the service type (`Care home service with nursing`); `name` is a short form.
    description: Option<String>,
}

/// Reads line number `line` (from 1).
pub fn read_line(line: usize, text: &str) -> Result<Record, Refusal> {
    let refuse = |location_id: Option<&str>, reason: String| Refusal {
        row: line,
        location_id: location_id.map(str::to_owned),
        reason,
    };
    let raw: Raw = serde_json::from_str(text).map_err(|e| refuse(None, format!("not a record: {e}")))?;
    let location = raw.location_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
    let filled = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let required = |value: &Option<String>, field: &str| {
        filled(value).ok_or_else(|| refuse(location, format!("`{field}` is missing")))
    };
    let date = |value: &Option<String>, field: &str| -> Result<Option<Date>, Refusal> {
        filled(value)
            .map(|text| {
                Date::parse(&text, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| refuse(location, format!("`{field}` is not a date (yyyy-mm-dd): {text}")))
            })
            .transpose()
    };
    let provider_id =
        checked(&refuse, location, "providerId", ProviderId::parse(&required(&raw.provider_id, "providerId")?))?;
    if raw.name.as_deref().is_some_and(|n| n.chars().count() > super::LONGEST_NAME) {
        return Err(refuse(location, format!("`name` is longer than {} characters", super::LONGEST_NAME)));
    }
    if raw.number_of_beds.is_some_and(|beds| beds > super::MOST_BEDS) {
        return Err(refuse(location, "`numberOfBeds` is not a number of beds".to_owned()));
    }
    if raw.registration_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("deregistered")) {
        return Ok(Record::Deregistered {
            location_id: location.map(str::to_owned),
            provider_id: provider_id.as_str().to_owned(),
            on: date(&raw.deregistration_date, "deregistrationDate")?,
        });
    }
    let Some(location_id) = location else {
        let address = match (
            filled(&raw.postal_address_line1),
            filled(&raw.postal_address_town_city),
            filled(&raw.postal_code),
        ) {
            (Some(line_1), Some(town), Some(postcode)) => Some(super::PostalAddress {
                line_1,
                line_2: filled(&raw.postal_address_line2),
                town,
                county: filled(&raw.postal_address_county),
                postcode: checked(&refuse, None, "postalCode", Postcode::parse(&postcode))?.to_string(),
            }),
            _ => None,
        };
        return Ok(Record::Provider(ProviderRecord {
            provider_id,
            address,
            name: required(&raw.name, "name")?,
            registered_since: date(&raw.registration_date, "registrationDate")?,
            companies_house_number: filled(&raw.companies_house_number),
            charity_number: filled(&raw.charity_number),
        }));
    };
    let care_home = match required(&raw.care_home, "careHome")?.to_ascii_uppercase().as_str() {
        "Y" => true,
        "N" => false,
        other => return Err(refuse(location, format!("`careHome` is {other}, not Y or N"))),
    };
    let managers: BTreeSet<String> = raw
        .regulated_activities
        .iter()
        .flat_map(|a| &a.contacts)
        .filter(|c| c.person_roles.iter().any(|r| r.eq_ignore_ascii_case("registered manager")))
        .filter_map(|c| {
            let name = [filled(&c.person_given_name), filled(&c.person_family_name)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!name.is_empty()).then_some(name)
        })
        .collect();
    Ok(Record::Location(LocationRecord {
        provider_id,
        location_id: checked(&refuse, location, "locationId", LocationId::parse(location_id))?,
        name: required(&raw.name, "name")?,
        ods_code: filled(&raw.ods_code)
            .map(|c| checked(&refuse, location, "odsCode", OdsCode::parse(&c)))
            .transpose()?,
        address_line_1: required(&raw.postal_address_line1, "postalAddressLine1")?,
        address_line_2: filled(&raw.postal_address_line2),
        town: required(&raw.postal_address_town_city, "postalAddressTownCity")?,
        county: filled(&raw.postal_address_county),
        postcode: checked(
            &refuse,
            location,
            "postalCode",
            Postcode::parse(&required(&raw.postal_code, "postalCode")?),
        )?,
        care_home,
        beds: raw.number_of_beds.filter(|_| care_home),
        registered_since: date(&raw.registration_date, "registrationDate")?,
        // The file names one manager per location; records may list one per activity. Several different
        // people are kept as the register lists them, joined, rather than one chosen.
        manager_name: (!managers.is_empty()).then(|| managers.into_iter().collect::<Vec<_>>().join(", ")),
        activities: raw.regulated_activities.iter().map(|a| a.name.trim().to_owned()).collect(),
        service_types: raw
            .gac_service_types
            .iter()
            .filter_map(|t| filled(&t.description).or_else(|| filled(&t.name)))
            .collect(),
        user_bands: None,
    }))
}

/// A field parsed into its type, or the refusal naming the field and saying why.
fn checked<T>(
    refuse: &dyn Fn(Option<&str>, String) -> Refusal,
    location: Option<&str>,
    field: &str,
    result: Result<T, crate::domain::Invalid>,
) -> Result<T, Refusal> {
    result.map_err(|invalid| refuse(location, format!("`{field}`: {}", invalid.message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCATION: &str = r#"{"locationId":"1-100000001","providerId":"1-200000001","organisationType":"Location",
        "name":"Example House","registrationStatus":"Registered","registrationDate":"2011-04-01",
        "postalAddressLine1":"1 Example Street","postalAddressTownCity":"Leeds","postalCode":"ls1 4ap",
        "careHome":"Y","numberOfBeds":30,
        "regulatedActivities":[{"name":"Personal care","code":"RA1","contacts":[{"personTitle":"Ms",
        "personGivenName":"A","personFamilyName":"Manager","personRoles":["Registered Manager"]}]}],
        "gacServiceTypes":[{"name":"Nursing homes","description":"Care home service with nursing"}]}"#;

    #[test]
    fn a_location_record_is_read_with_its_manager_activities_and_service_types() {
        let Record::Location(location) = read_line(3, &LOCATION.replace('\n', "")).unwrap() else {
            panic!("a location")
        };
        assert_eq!(location.location_id.as_str(), "1-100000001");
        assert_eq!(location.postcode.to_string(), "LS1 4AP");
        assert_eq!(location.beds, Some(30));
        assert_eq!(location.manager_name.as_deref(), Some("A Manager"));
        assert_eq!(location.activities.into_iter().collect::<Vec<_>>(), ["Personal care"]);
        assert_eq!(location.service_types.into_iter().collect::<Vec<_>>(), ["Care home service with nursing"]);
        assert_eq!(location.user_bands, None);
    }

    #[test]
    fn a_provider_a_deregistered_record_and_a_bad_line() {
        let provider = r#"{"providerId":"1-200000001","name":"Example Care Ltd","registrationDate":"2010-10-01",
            "companiesHouseNumber":"01234567","organisationType":"Provider"}"#;
        assert!(
            matches!(read_line(1, &provider.replace('\n', "")), Ok(Record::Provider(p)) if p.name == "Example Care Ltd")
        );
        let gone = LOCATION.replace('\n', "").replace("\"Registered\"", "\"Deregistered\"");
        assert!(matches!(read_line(2, &gone), Ok(Record::Deregistered { location_id: Some(_), .. })));
        let bad = read_line(9, &LOCATION.replace('\n', "").replace("ls1 4ap", "nowhere")).unwrap_err();
        assert_eq!((bad.row, bad.location_id.as_deref()), (9, Some("1-100000001")));
        assert!(bad.reason.starts_with("`postalCode`"), "{}", bad.reason);
        assert!(read_line(4, "{not json").unwrap_err().reason.starts_with("not a record"));
    }
}
