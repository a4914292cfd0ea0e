//! A row of the monthly `HSCA_Active_Locations` sheet, or a line of a CSV of it, read into a typed record or a
//! refusal that says which row and why. Headings are matched by name, never by position, so a reordered file
//! reads the same and a file missing a heading this needs is refused whole.

use std::collections::{BTreeSet, HashMap};

use time::Date;

use super::{LocationRecord, ProviderRecord, Refusal};
use crate::domain::{LocationId, OdsCode, Postcode, ProviderId};

/// Headings every file must have.
pub const REQUIRED: &[&str] = &[
    "Location ID",
    "Location Name",
    "Location Street Address",
    "Location City",
    "Location Postal Code",
    "Care home?",
    "Provider ID",
    "Provider Name",
];

/// Headings read when present.
const OPTIONAL: &[&str] = &[
    "Location ODS Code",
    "Location Address Line 2",
    "Location County",
    "Care homes beds",
    "Registered manager",
    "Location HSCA start date",
    "Provider HSCA start date",
    "Provider Companies House Number",
    "Provider Charity Number",
    "Provider Street Address",
    "Provider Address Line 2",
    "Provider City",
    "Provider County",
    "Provider Postal Code",
];

const ACTIVITY: &str = "Regulated activity - ";
const SERVICE_TYPE: &str = "Service type - ";
const USER_BAND: &str = "Service user band - ";

/// Where each heading this reads is, in a file's heading row.
#[derive(Debug, Clone)]
pub struct Headings {
    at: HashMap<&'static str, usize>,
    /// `(name after the prefix, column)` for each activity, service type and band column.
    activities: Vec<(String, usize)>,
    service_types: Vec<(String, usize)>,
    user_bands: Vec<(String, usize)>,
}

/// The headings a file lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the file has no column headed {}", .0.join(", "))]
pub struct MissingHeadings(pub Vec<&'static str>);

impl Headings {
    /// Reads the heading row (surrounding spaces and a byte-order mark ignored).
    pub fn read(row: &[&str]) -> Result<Self, MissingHeadings> {
        let cleaned: Vec<&str> = row.iter().map(|h| h.trim_start_matches('\u{feff}').trim()).collect();
        let find = |name: &str| cleaned.iter().position(|h| *h == name);
        let missing: Vec<&'static str> = REQUIRED.iter().copied().filter(|name| find(name).is_none()).collect();
        if !missing.is_empty() {
            return Err(MissingHeadings(missing));
        }
        let at = REQUIRED.iter().chain(OPTIONAL).filter_map(|name| Some((*name, find(name)?))).collect();
        let prefixed = |prefix: &str| -> Vec<(String, usize)> {
            cleaned
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.strip_prefix(prefix).map(|name| (name.trim().to_owned(), i)))
                .collect()
        };
        Ok(Self {
            at,
            activities: prefixed(ACTIVITY),
            service_types: prefixed(SERVICE_TYPE),
            user_bands: prefixed(USER_BAND),
        })
    }

    fn cell<'a>(&self, row: &[&'a str], heading: &str) -> Option<&'a str> {
        let value = row.get(*self.at.get(heading)?)?.trim();
        (!value.is_empty()).then_some(value)
    }

    fn marked(&self, row: &[&str], columns: &[(String, usize)]) -> BTreeSet<String> {
        columns
            .iter()
            .filter(|(_, i)| row.get(*i).is_some_and(|v| v.trim().eq_ignore_ascii_case("y")))
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// One active location and its provider, as a row of the register states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    /// The row's number in the file (the heading row is 1).
    pub row: usize,
    pub provider: ProviderRecord,
    pub location: LocationRecord,
}

/// Reads data row number `row` (the heading row is 1).
pub fn read_row(headings: &Headings, row: usize, cells: &[&str]) -> Result<RegisterRow, Refusal> {
    let location_id = headings.cell(cells, "Location ID").map(str::to_owned);
    let refuse = |reason: String| Refusal { row, location_id: location_id.clone(), reason };
    let required = |heading: &str| headings.cell(cells, heading).ok_or_else(|| refuse(format!("`{heading}` is empty")));
    let date = |heading: &str| -> Result<Option<Date>, Refusal> {
        headings
            .cell(cells, heading)
            .map(|text| {
                published_date(text)
                    .ok_or_else(|| refuse(format!("`{heading}` is not a date (yyyy-mm-dd or dd/mm/yyyy): {text}")))
            })
            .transpose()
    };
    let beds = headings
        .cell(cells, "Care homes beds")
        .map(|text| {
            text.parse::<u32>()
                .ok()
                .filter(|beds| *beds <= super::MOST_BEDS)
                .ok_or_else(|| refuse(format!("`Care homes beds` is not a number of beds: {text}")))
        })
        .transpose()?;
    for heading in ["Location Name", "Provider Name", "Registered manager"] {
        if headings.cell(cells, heading).is_some_and(|text| text.chars().count() > super::LONGEST_NAME) {
            return Err(refuse(format!("`{heading}` is longer than {} characters", super::LONGEST_NAME)));
        }
    }
    let care_home = match required("Care home?")?.to_ascii_uppercase().as_str() {
        "Y" => true,
        "N" => false,
        other => return Err(refuse(format!("`Care home?` is {other}, not Y or N"))),
    };
    let provider_id = checked("Provider ID", ProviderId::parse(required("Provider ID")?), &refuse)?;
    Ok(RegisterRow {
        row,
        provider: ProviderRecord {
            provider_id: provider_id.clone(),
            name: required("Provider Name")?.to_owned(),
            registered_since: date("Provider HSCA start date")?,
            companies_house_number: headings.cell(cells, "Provider Companies House Number").map(str::to_owned),
            charity_number: headings.cell(cells, "Provider Charity Number").map(str::to_owned),
            address: provider_address(headings, cells, &refuse)?,
        },
        location: LocationRecord {
            provider_id,
            location_id: checked("Location ID", LocationId::parse(required("Location ID")?), &refuse)?,
            name: required("Location Name")?.to_owned(),
            ods_code: headings
                .cell(cells, "Location ODS Code")
                .map(OdsCode::parse)
                .transpose()
                .map_err(|invalid| refuse(format!("`Location ODS Code`: {}", invalid.message)))?,
            address_line_1: required("Location Street Address")?.to_owned(),
            address_line_2: headings.cell(cells, "Location Address Line 2").map(str::to_owned),
            town: required("Location City")?.to_owned(),
            county: headings.cell(cells, "Location County").map(str::to_owned),
            postcode: checked("Location Postal Code", Postcode::parse(required("Location Postal Code")?), &refuse)?,
            care_home,
            beds,
            registered_since: date("Location HSCA start date")?,
            manager_name: headings.cell(cells, "Registered manager").map(str::to_owned),
            activities: headings.marked(cells, &headings.activities),
            service_types: headings.marked(cells, &headings.service_types),
            user_bands: (!headings.user_bands.is_empty()).then(|| headings.marked(cells, &headings.user_bands)),
        },
    })
}

/// The provider's postal address: all of it, or none when its street, town or postcode is missing.
fn provider_address(
    headings: &Headings,
    cells: &[&str],
    refuse: &dyn Fn(String) -> Refusal,
) -> Result<Option<super::PostalAddress>, Refusal> {
    let cell = |heading: &str| headings.cell(cells, heading).map(str::to_owned);
    let (Some(line_1), Some(town), Some(postcode)) =
        (cell("Provider Street Address"), cell("Provider City"), cell("Provider Postal Code"))
    else {
        return Ok(None);
    };
    Ok(Some(super::PostalAddress {
        line_1,
        line_2: cell("Provider Address Line 2"),
        town,
        county: cell("Provider County"),
        postcode: checked("Provider Postal Code", Postcode::parse(&postcode), refuse)?.to_string(),
    }))
}

/// A cell parsed into its type, or the refusal naming the column and saying why.
fn checked<T>(
    heading: &str,
    result: Result<T, crate::domain::Invalid>,
    refuse: &dyn Fn(String) -> Refusal,
) -> Result<T, Refusal> {
    result.map_err(|invalid| refuse(format!("`{heading}`: {}", invalid.message)))
}

/// A date as the register gives it: an ODS date cell's value (`yyyy-mm-dd`), or `dd/mm/yyyy` as a spreadsheet
/// exporting it to CSV writes it.
pub(super) fn published_date(text: &str) -> Option<Date> {
    if let Ok(date) = Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")) {
        return Some(date);
    }
    let mut parts = text.split('/');
    let (day, month, year) =
        (parts.next()?.parse().ok()?, parts.next()?.parse::<u8>().ok()?, parts.next()?.parse().ok()?);
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADINGS: &[&str] = &[
        "\u{feff}Location ID",
        "Location ODS Code",
        "Location Name",
        "Registered manager",
        "Care home?",
        "Location Street Address",
        "Location Address Line 2",
        "Location City",
        "Location County",
        "Location Postal Code",
        "Location HSCA start date",
        "Care homes beds",
        "Provider ID",
        "Provider Name",
        "Regulated activity - Accommodation for persons who require nursing or personal care",
        "Regulated activity - Treatment of disease, disorder or injury",
        "Service type - Care home service without nursing",
        "Service user band - Older People",
    ];

    fn row() -> Vec<&'static str> {
        vec![
            "1-100000001",
            "",
            "Example House",
            "A Manager",
            "Y",
            "1 Example Street",
            "",
            "Newcastle upon Tyne",
            "Tyne and Wear",
            "ne1 4st",
            "01/04/2011",
            "32",
            "1-200000001",
            "Example Care Ltd",
            "Y",
            "",
            "Y",
            "y",
        ]
    }

    #[test]
    fn a_row_is_read_by_its_headings_with_what_is_marked() {
        let headings = Headings::read(HEADINGS).unwrap();
        let read = read_row(&headings, 2, &row()).unwrap();
        assert_eq!(read.location.location_id.as_str(), "1-100000001");
        assert_eq!(read.provider.provider_id.as_str(), "1-200000001");
        assert_eq!(read.location.postcode.to_string(), "NE1 4ST");
        assert!(read.location.care_home);
        assert_eq!(read.location.beds, Some(32));
        assert_eq!(
            read.location.registered_since,
            Some(Date::from_calendar_date(2011, time::Month::April, 1).unwrap())
        );
        assert_eq!(read.location.manager_name.as_deref(), Some("A Manager"));
        assert_eq!(read.location.ods_code, None);
        assert_eq!(
            read.location.activities.into_iter().collect::<Vec<_>>(),
            ["Accommodation for persons who require nursing or personal care"]
        );
        assert_eq!(read.location.user_bands.unwrap().into_iter().collect::<Vec<_>>(), ["Older People"]);
    }

    #[test]
    fn a_file_without_a_heading_it_needs_is_refused_whole_and_order_does_not_matter() {
        let missing = Headings::read(&HEADINGS[1..]).unwrap_err();
        assert_eq!(missing.0, ["Location ID"]);
        let mut reversed: Vec<&str> = HEADINGS.to_vec();
        reversed.reverse();
        let mut cells = row();
        cells.reverse();
        let read = read_row(&Headings::read(&reversed).unwrap(), 2, &cells).unwrap();
        assert_eq!(read.location.name, "Example House");
    }

    #[test]
    fn a_bad_row_says_which_row_which_column_and_why() {
        let headings = Headings::read(HEADINGS).unwrap();
        let refused = |column: usize, value: &'static str| {
            let mut cells = row();
            cells[column] = value;
            read_row(&headings, 7, &cells).unwrap_err()
        };
        let postcode = refused(9, "not a postcode");
        assert_eq!((postcode.row, postcode.location_id.as_deref()), (7, Some("1-100000001")));
        assert!(postcode.reason.starts_with("`Location Postal Code`"), "{}", postcode.reason);
        assert!(refused(10, "2011/04/01").reason.contains("dd/mm/yyyy"));
        assert!(refused(11, "many").reason.contains("`Care homes beds`"));
        assert!(refused(4, "maybe").reason.contains("`Care home?`"));
        assert!(refused(12, "").reason.contains("`Provider ID` is empty"));
        assert!(refused(0, "2-1").reason.starts_with("`Location ID`"));
    }
}
