//! Generated register files in the regulator's published layout (`docs/register.md`): the monthly
//! `HSCA_Active_Locations` workbook (ODS, with its README sheet), a CSV of its main sheet, and syndication
//! records as NDJSON. Every name, address and ID is made up from a row number and a seed; none is a real
//! provider's or person's (the published file names real registered managers, so it is never copied).

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use time::Date;

/// The main sheet's headings, in the published order (the 2026 files: 128 columns).
pub fn headings() -> Vec<String> {
    let mut h: Vec<String> = [
        "Location ID",
        "Location HSCA start date",
        "Dormant (Y/N)",
        "Care home?",
        "Location Name",
        "Location ODS Code",
        "Location Telephone Number",
        "Registered manager",
        "Location Web Address",
        "Care homes beds",
        "Location Type/Sector",
        "Location Inspection Directorate",
        "Location Primary Inspection Category",
        "Location Latest Overall Rating",
        "Publication Date",
        "Inherited Rating (Y/N)",
        "Location Region",
        "Location NHS Region",
        "Location Local Authority",
        "Location ONSPD CCG Code",
        "Location ONSPD CCG",
        "Location Commissioning CCG Code",
        "Location Commissioning CCG",
        "Location Street Address",
        "Location Address Line 2",
        "Location City",
        "Location County",
        "Location Postal Code",
        "Location PAF ID",
        "Location UPRN ID",
        "Location Latitude",
        "Location Longitude",
        "Location Parliamentary Constituency",
        "Brand ID",
        "Brand Name",
        "Provider Companies House Number",
        "Provider Charity Number",
        "Provider ID",
        "Provider Name",
        "Provider HSCA start date",
        "Provider Type/Sector",
        "Provider Inspection Directorate",
        "Provider Primary Inspection Category",
        "Provider Ownership Type",
        "Provider Telephone Number",
        "Provider Web Address",
        "Provider Street Address",
        "Provider Address Line 2",
        "Provider City",
        "Provider County",
        "Provider Postal Code",
        "Provider PAF ID",
        "Provider UPRN ID",
        "Provider Local Authority",
        "Provider Region",
        "Provider NHS Region",
        "Provider Latitude",
        "Provider Longitude",
        "Provider Parliamentary Constituency",
        "Provider Nominated Individual Name",
        "Provider Main Partner Name",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    h.extend(ACTIVITIES.iter().map(|a| format!("Regulated activity - {a}")));
    h.extend(SERVICE_TYPES.iter().map(|t| format!("Service type - {t}")));
    h.extend(USER_BANDS.iter().map(|b| format!("Service user band - {b}")));
    h.push("Location Dual Registered".to_owned());
    h.push("Primary ID".to_owned());
    h
}

/// The regulated activities as the file names them (Schedule 1's wording).
pub const ACTIVITIES: &[&str] = &[
    "Personal care",
    "Accommodation for persons who require nursing or personal care",
    "Accommodation for persons who require treatment for substance misuse",
    "Treatment of disease, disorder or injury",
    "Assessment or medical treatment for persons detained under the Mental Health Act 1983",
    "Surgical procedures",
    "Diagnostic and screening procedures",
    "Management of supply of blood and blood-derived products",
    "Transport services, triage and medical advice provided remotely",
    "Maternity and midwifery services",
    "Termination of pregnancies",
    "Services in slimming clinics",
    "Nursing care",
    "Family planning",
];

pub const SERVICE_TYPES: &[&str] = &[
    "Acute services with overnight beds",
    "Community healthcare service",
    "Dental service",
    "Doctors consultation service",
    "Doctors treatment service",
    "Hospice services",
    "Care home service with nursing",
    "Care home service without nursing",
    "Domiciliary care service",
    "Extra Care housing services",
    "Shared Lives",
    "Supported living service",
];

/// The service user bands as the file names them.
pub const USER_BANDS: &[&str] = &[
    "Children 0-18 years",
    "Dementia",
    "Learning disabilities or autistic spectrum disorder",
    "Mental Health",
    "Older People",
    "People detained under the Mental Health Act",
    "People who misuse drugs and alcohol",
    "People with an eating disorder",
    "Physical Disability",
    "Sensory Impairment",
    "Whole Population",
    "Younger Adults",
];

/// A generated register: `locations` active locations, about two to a provider.
#[derive(Debug, Clone)]
pub struct RegisterFile {
    pub locations: usize,
    pub as_of: Date,
    /// Changes every location whose number is a multiple of this (its name, and its beds if a care home), as
    /// next month's file would; 0 for none.
    pub change_every: usize,
    /// Rows (by location number) given a postcode that is not one, to be refused.
    pub bad_rows: Vec<usize>,
}

impl RegisterFile {
    pub fn new(locations: usize, as_of: Date) -> Self {
        Self { locations, as_of, change_every: 0, bad_rows: Vec::new() }
    }

    /// Location number `i`'s provider (locations 0 and 1 share provider 0, and so on; every fifth provider has
    /// three).
    pub fn provider_of(i: usize) -> usize {
        i / 2
    }

    pub fn location_id(i: usize) -> String {
        format!("1-1{i:09}")
    }

    pub fn provider_id(p: usize) -> String {
        format!("1-2{p:09}")
    }

    pub fn provider_name(p: usize) -> String {
        format!("Example Care {p:06} Ltd")
    }

    pub fn location_name(&self, i: usize) -> String {
        if self.changed(i) { format!("Example House {i:06} (renamed)") } else { format!("Example House {i:06}") }
    }

    fn changed(&self, i: usize) -> bool {
        self.change_every > 0 && i.is_multiple_of(self.change_every)
    }

    /// The activities location `i` is registered for, by the file's names.
    pub fn activities(i: usize) -> Vec<&'static str> {
        if i.is_multiple_of(3) { vec![ACTIVITIES[0]] } else { vec![ACTIVITIES[1], ACTIVITIES[12]] }
    }

    fn postcode(&self, i: usize) -> String {
        if self.bad_rows.contains(&i) {
            return "NOT A POSTCODE".to_owned();
        }
        format!("LS{} {}AB", 1 + i % 28, i % 10)
    }

    /// The main sheet's cells for location `i`, in heading order.
    pub fn row(&self, i: usize) -> Vec<String> {
        let p = Self::provider_of(i);
        let care_home = !i.is_multiple_of(3);
        let beds = if care_home { (20 + i % 40 + usize::from(self.changed(i))).to_string() } else { String::new() };
        let start = Date::from_calendar_date(2011 + (i % 10) as i32, time::Month::April, 1 + (i % 28) as u8)
            .expect("a real date");
        let date = |d: Date| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year());
        let mut cells: Vec<String> = vec![
            Self::location_id(i),
            date(start),
            "N".into(),
            if care_home { "Y" } else { "N" }.into(),
            self.location_name(i),
            String::new(),
            format!("0113 496 {:04}", i % 10_000),
            if i % 7 == 6 { String::new() } else { format!("Manager {i:06} Example") },
            String::new(),
            beds,
            "Social Care Org".into(),
            "Adult social care".into(),
            "Residential social care".into(),
            "Good".into(),
            "01/06/2024".into(),
            "N".into(),
            "Yorkshire and The Humber".into(),
            "North East and Yorkshire".into(),
            "Leeds".into(),
            "E38000225".into(),
            "NHS Leeds".into(),
            "E38000225".into(),
            "NHS Leeds".into(),
            format!("{} Example Street", 1 + i % 200),
            if i.is_multiple_of(4) { "Example Estate".into() } else { String::new() },
            "Leeds".into(),
            if i.is_multiple_of(2) { "West Yorkshire".into() } else { String::new() },
            self.postcode(i),
            String::new(),
            String::new(),
            "53.8".into(),
            "-1.55".into(),
            "Leeds Central".into(),
            "-".into(),
            "-".into(),
            format!("{:08}", 10_000_000 + p),
            String::new(),
            Self::provider_id(p),
            Self::provider_name(p),
            date(Date::from_calendar_date(2010, time::Month::October, 1).expect("a real date")),
            "Social Care Org".into(),
            "Adult social care".into(),
            "Residential social care".into(),
            "Organisation".into(),
            "0113 496 0000".into(),
            String::new(),
            format!("{} Example Road", 1 + p % 300),
            String::new(),
            "Leeds".into(),
            "West Yorkshire".into(),
            format!("LS{} {}BD", 1 + p % 28, p % 10),
            String::new(),
            String::new(),
            "Leeds".into(),
            "Yorkshire and The Humber".into(),
            "North East and Yorkshire".into(),
            "53.8".into(),
            "-1.55".into(),
            "Leeds Central".into(),
            format!("Nominee {p:06} Example"),
            String::new(),
        ];
        let marked = Self::activities(i);
        cells.extend(ACTIVITIES.iter().map(|a| if marked.contains(a) { "Y".into() } else { String::new() }));
        let service_type = if care_home { 6 + i % 2 } else { 8 };
        cells.extend((0..SERVICE_TYPES.len()).map(|t| if t == service_type { "Y".into() } else { String::new() }));
        let band = i % USER_BANDS.len();
        cells.extend((0..USER_BANDS.len()).map(|b| if b == band || b == 4 { "Y".into() } else { String::new() }));
        cells.push(String::new());
        cells.push(String::new());
        cells
    }

    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let line =
            |cells: &[String]| {
                cells
                    .iter()
                    .map(|c| {
                        if c.contains([',', '"', '\n']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
        writeln!(out, "{}", line(&headings()))?;
        for i in 0..self.locations {
            writeln!(out, "{}", line(&self.row(i)))?;
        }
        out.flush()
    }

    /// The workbook as published: README (with its `as at` line), the main sheet, and an (empty here)
    /// Dual_Registration_Locations sheet. Dates are date cells and numbers are numbers, as in the real file.
    pub fn write_ods(&self, path: &Path) -> std::io::Result<()> {
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
        let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("mimetype", stored)?;
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
        zip.start_file("META-INF/manifest.xml", deflated)?;
        zip.write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#,
        )?;
        zip.start_file("content.xml", deflated)?;
        let mut out = std::io::BufWriter::new(&mut zip);
        out.write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
        )?;
        let months = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let readme = [
            "Active locations for providers registered under the Health and Social Care Act (HSCA)".to_owned(),
            format!(
                "Source: CQC database as at {:02} {} {}",
                self.as_of.day(),
                months[u8::from(self.as_of.month()) as usize - 1],
                self.as_of.year()
            ),
            "Generated test data: every name, address and ID is made up.".to_owned(),
        ];
        out.write_all(br#"<table:table table:name="README">"#)?;
        for line in &readme {
            write!(out, "<table:table-row>{}</table:table-row>", text_cell(line))?;
        }
        out.write_all(b"</table:table>")?;
        out.write_all(br#"<table:table table:name="HSCA_Active_Locations">"#)?;
        let headings = headings();
        let mut row = String::new();
        row.push_str("<table:table-row>");
        for h in &headings {
            row.push_str(&text_cell(h));
        }
        row.push_str("</table:table-row>");
        out.write_all(row.as_bytes())?;
        let dates: Vec<bool> = headings.iter().map(|h| h.ends_with("start date") || h == "Publication Date").collect();
        let numbers: Vec<bool> = headings.iter().map(|h| h == "Care homes beds").collect();
        for i in 0..self.locations {
            row.clear();
            row.push_str("<table:table-row>");
            let mut empty = 0;
            for (c, cell) in self.row(i).iter().enumerate() {
                if cell.is_empty() {
                    empty += 1;
                    continue;
                }
                if empty > 0 {
                    let _ = write!(row, r#"<table:table-cell table:number-columns-repeated="{empty}"/>"#);
                    empty = 0;
                }
                if dates[c] {
                    let (d, rest) = cell.split_once('/').expect("dd/mm/yyyy");
                    let (m, y) = rest.split_once('/').expect("dd/mm/yyyy");
                    let _ = write!(
                        row,
                        r#"<table:table-cell office:value-type="date" office:date-value="{y}-{m}-{d}"><text:p>{cell}</text:p></table:table-cell>"#
                    );
                } else if numbers[c] {
                    let _ = write!(
                        row,
                        r#"<table:table-cell office:value-type="float" office:value="{cell}"><text:p>{cell}</text:p></table:table-cell>"#
                    );
                } else {
                    row.push_str(&text_cell(cell));
                }
            }
            // As a spreadsheet saves it: the rest of the row as one run of empty cells.
            let _ = write!(row, r#"<table:table-cell table:number-columns-repeated="{}"/>"#, empty + 16_000);
            row.push_str("</table:table-row>");
            out.write_all(row.as_bytes())?;
        }
        out.write_all(br#"<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#)?;
        out.write_all(br#"</table:table><table:table table:name="Dual_Registration_Locations"></table:table>"#)?;
        out.write_all(b"</office:spreadsheet></office:body></office:document-content>")?;
        out.flush()?;
        drop(out);
        zip.finish()?;
        Ok(())
    }

    /// Syndication records: each provider's record, then its locations', one JSON object a line.
    pub fn write_ndjson(&self, path: &Path) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let iso = |text: &str| {
            let (d, rest) = text.split_once('/').expect("dd/mm/yyyy");
            let (m, y) = rest.split_once('/').expect("dd/mm/yyyy");
            format!("{y}-{m}-{d}")
        };
        let h = headings();
        let at = |name: &str| h.iter().position(|x| x == name).expect("a published heading");
        let mut last_provider = None;
        for i in 0..self.locations {
            let cells = self.row(i);
            let p = Self::provider_of(i);
            if last_provider != Some(p) {
                let provider = serde_json::json!({
                    "providerId": Self::provider_id(p),
                    "organisationType": "Provider",
                    "name": Self::provider_name(p),
                    "registrationStatus": "Registered",
                    "registrationDate": iso(&cells[at("Provider HSCA start date")]),
                    "companiesHouseNumber": cells[at("Provider Companies House Number")],
                    "postalAddressLine1": cells[at("Provider Street Address")],
                    "postalAddressTownCity": cells[at("Provider City")],
                    "postalAddressCounty": cells[at("Provider County")],
                    "postalCode": cells[at("Provider Postal Code")],
                });
                writeln!(out, "{provider}")?;
                last_provider = Some(p);
            }
            let manager = &cells[at("Registered manager")];
            let contacts: Vec<serde_json::Value> = manager
                .split_once(' ')
                .map(|(given, family)| {
                    serde_json::json!({"personTitle": "", "personGivenName": given, "personFamilyName": family,
                        "personRoles": ["Registered Manager"]})
                })
                .into_iter()
                .collect();
            let activities: Vec<serde_json::Value> = Self::activities(i)
                .iter()
                .enumerate()
                .map(|(n, name)| {
                    serde_json::json!({"name": name, "code": format!("RA{}", n + 1),
                        "contacts": if n == 0 { contacts.clone() } else { Vec::new() }})
                })
                .collect();
            let service_types: Vec<serde_json::Value> = SERVICE_TYPES
                .iter()
                .filter(|t| cells[at(&format!("Service type - {t}"))] == "Y")
                .map(|t| serde_json::json!({"name": "short form", "description": t}))
                .collect();
            let beds = &cells[at("Care homes beds")];
            let location = serde_json::json!({
                "locationId": Self::location_id(i),
                "providerId": Self::provider_id(p),
                "organisationType": "Location",
                "type": "Social Care Org",
                "name": cells[at("Location Name")],
                "registrationStatus": "Registered",
                "registrationDate": iso(&cells[at("Location HSCA start date")]),
                "postalAddressLine1": cells[at("Location Street Address")],
                "postalAddressLine2": cells[at("Location Address Line 2")],
                "postalAddressTownCity": cells[at("Location City")],
                "postalAddressCounty": cells[at("Location County")],
                "postalCode": cells[at("Location Postal Code")],
                "careHome": cells[at("Care home?")],
                "numberOfBeds": beds.parse::<u32>().unwrap_or(0),
                "regulatedActivities": activities,
                "gacServiceTypes": service_types,
            });
            writeln!(out, "{location}")?;
        }
        out.flush()
    }
}

/// A string cell (text escaped for XML).
fn text_cell(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(r#"<table:table-cell office:value-type="string"><text:p>{escaped}</text:p></table:table-cell>"#)
}
