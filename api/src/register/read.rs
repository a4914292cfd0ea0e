//! Reading a register file a record at a time, in constant memory, whatever its size: a CSV with the
//! published headings (the `csv` crate), NDJSON syndication records (a line at a time), or the monthly ODS
//! workbook, whose `content.xml` is decompressed and parsed as a stream of XML events (`zip`, `quick-xml`)
//! rather than loaded whole as a spreadsheet library does (see `docs/register.md` for the peak each takes).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use provider_api_core::register::syndication::{self, Record};
use provider_api_core::register::{Headings, LocationRecord, ProviderRecord, Refusal, RegisterRow, read_row};
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

/// The kinds of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The monthly `HSCA_Active_Locations` workbook.
    Ods,
    /// Its main sheet as CSV, with the same headings.
    Csv,
    /// Syndication API records, one JSON object per line.
    Ndjson,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ods => "ods",
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }

    /// The kind a file's name suggests.
    pub fn of_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        [(".ods", Self::Ods), (".csv", Self::Csv), (".ndjson", Self::Ndjson), (".jsonl", Self::Ndjson)]
            .into_iter()
            .find(|(suffix, _)| lower.ends_with(suffix))
            .map(|(_, kind)| kind)
    }

    /// The kind an uploaded document's media type means, where it says.
    pub fn of_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/vnd.oasis.opendocument.spreadsheet" => Some(Self::Ods),
            "text/csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// One thing read from a file.
#[derive(Debug, Clone)]
pub enum Item {
    /// A row of the workbook or CSV: a location and its provider (boxed: most items are rows, and it keeps
    /// the other kinds small).
    Row(Box<RegisterRow>),
    Provider {
        row: usize,
        record: ProviderRecord,
    },
    Location {
        row: usize,
        record: LocationRecord,
    },
    Deregistered {
        row: usize,
        location_id: Option<String>,
        provider_id: String,
        on: Option<Date>,
    },
    Refused(Refusal),
}

impl Item {
    pub fn row(&self) -> usize {
        match self {
            Self::Row(r) => r.row,
            Self::Provider { row, .. } | Self::Location { row, .. } | Self::Deregistered { row, .. } => *row,
            Self::Refused(r) => r.row,
        }
    }
}

/// Why a file could not be read at all (a bad row is an [`Item::Refused`], never this).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Headings(#[from] provider_api_core::register::MissingHeadings),
    #[error("the file is not an ODS workbook: {0}")]
    NotOds(String),
    #[error("the workbook has no sheet named {0}")]
    NoSheet(&'static str),
    #[error("the CSV file cannot be read: {0}")]
    Csv(#[from] csv::Error),
    #[error("the file is empty: it has no heading row")]
    Empty,
}

/// The workbook's main sheet.
pub const MAIN_SHEET: &str = "HSCA_Active_Locations";
/// The sheet whose `Source: CQC database as at 1 December 2026` line dates the file.
pub const README_SHEET: &str = "README";

/// Reads `path` as `kind`, handing each item to `emit` in file order; stops early when `emit` says so.
pub fn read(path: &Path, kind: Kind, emit: &mut dyn FnMut(Item) -> bool) -> Result<(), FileError> {
    match kind {
        Kind::Csv => read_csv(File::open(path)?, emit),
        Kind::Ndjson => read_ndjson(BufReader::new(File::open(path)?), emit),
        Kind::Ods => {
            let mut headings: Option<Headings> = None;
            let mut missing = None;
            read_ods_sheet(path, MAIN_SHEET, &mut |row, cells| {
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                match &headings {
                    None => match Headings::read(&cells) {
                        Ok(read) => {
                            headings = Some(read);
                            true
                        }
                        Err(lacking) => {
                            missing = Some(lacking);
                            false
                        }
                    },
                    Some(h) => emit(row_item(h, row, &cells)),
                }
            })?;
            match (missing, headings) {
                (Some(lacking), _) => Err(lacking.into()),
                (None, None) => Err(FileError::Empty),
                (None, Some(_)) => Ok(()),
            }
        }
    }
}

fn row_item(headings: &Headings, row: usize, cells: &[&str]) -> Item {
    match read_row(headings, row, cells) {
        Ok(read) => Item::Row(Box::new(read)),
        Err(refusal) => Item::Refused(refusal),
    }
}

fn read_csv(input: impl Read, emit: &mut dyn FnMut(Item) -> bool) -> Result<(), FileError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        return Err(FileError::Empty);
    }
    let heading_row: Vec<String> = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let headings = Headings::read(&heading_row.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut row = 1;
    while reader.read_byte_record(&mut record)? {
        row += 1;
        // A file saved in another encoding (a spreadsheet's "CSV" is often Windows-1252) has its rows with other
        // characters refused, one by one, rather than stopping the import.
        let cells: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let item = match cells {
            Ok(cells) if cells.iter().all(|c| c.trim().is_empty()) => continue,
            Ok(cells) => row_item(&headings, row, &cells),
            Err(_) => Item::Refused(Refusal {
                row,
                location_id: None,
                reason: "the row is not UTF-8 text: save the file as CSV UTF-8".to_owned(),
            }),
        };
        if !emit(item) {
            break;
        }
    }
    Ok(())
}

fn read_ndjson(mut input: impl BufRead, emit: &mut dyn FnMut(Item) -> bool) -> Result<(), FileError> {
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let item = match syndication::read_line(number, line.trim()) {
            Ok(Record::Provider(record)) => Item::Provider { row: number, record },
            Ok(Record::Location(record)) => Item::Location { row: number, record },
            Ok(Record::Deregistered { location_id, provider_id, on }) => {
                Item::Deregistered { row: number, location_id, provider_id, on }
            }
            Err(refusal) => Item::Refused(refusal),
        };
        if !emit(item) {
            return Ok(());
        }
    }
}

/// The date the workbook speaks for, from its README sheet's `… as at 1 December 2026` line.
pub fn ods_as_of(path: &Path) -> Result<Option<Date>, FileError> {
    let mut found = None;
    read_ods_sheet(path, README_SHEET, &mut |_, cells| {
        found = cells.iter().find_map(|cell| as_at(cell));
        found.is_none()
    })?;
    Ok(found)
}

/// `… as at 1 December 2026` (or `01 December 2026`) in a line of text.
fn as_at(text: &str) -> Option<Date> {
    let lower = text.to_ascii_lowercase();
    let after = &text[lower.find("as at")? + "as at".len()..];
    let words: Vec<&str> = after.split_whitespace().take(3).collect();
    let [day, month, year] = words.as_slice() else { return None };
    let month = time::Month::try_from(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))? as u8
            + 1,
    )
    .ok()?;
    let year = year.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()?;
    Date::from_calendar_date(year, month, day.parse().ok()?).ok()
}

/// Streams one sheet of an ODS workbook, handing each non-empty row (its number in the sheet, from 1, and its
/// cells' values) to `row`, which says whether to go on. Memory holds one row, whatever the sheet's size.
pub fn read_ods_sheet(
    path: &Path,
    sheet: &'static str,
    row: &mut dyn FnMut(usize, &[String]) -> bool,
) -> Result<(), FileError> {
    let mut archive =
        zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(|e| FileError::NotOds(e.to_string()))?;
    let content = archive.by_name("content.xml").map_err(|e| FileError::NotOds(e.to_string()))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut state = SheetState::default();
    let mut in_sheet = false;
    let mut seen_sheet = false;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| FileError::NotOds(e.to_string()))?;
        match event {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == b"table" && !in_sheet => {
                in_sheet = attribute(&e, b"name").as_deref() == Some(sheet);
                seen_sheet |= in_sheet;
            }
            Event::End(e) if e.local_name().as_ref() == b"table" && in_sheet => break,
            _ if !in_sheet => {}
            // A cell's comment (its author, date and text) is not its value.
            Event::Start(e) if e.local_name().as_ref() == b"annotation" => state.in_annotation += 1,
            Event::End(e) if e.local_name().as_ref() == b"annotation" => {
                state.in_annotation = state.in_annotation.saturating_sub(1)
            }
            _ if state.in_annotation > 0 => {}
            Event::Start(e) => match e.local_name().as_ref() {
                b"table-row" => state.start_row(repeat(&e, b"number-rows-repeated")),
                b"table-cell" | b"covered-table-cell" => state.start_cell(&e),
                b"p" if state.in_cell => {
                    if state.paragraphs > 0 {
                        state.text.push('\n');
                    }
                    state.paragraphs += 1;
                }
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"table-row" => {
                    state.start_row(repeat(&e, b"number-rows-repeated"));
                    if !state.end_row(row) {
                        return Ok(());
                    }
                }
                b"table-cell" | b"covered-table-cell" => {
                    state.start_cell(&e);
                    state.end_cell();
                }
                // `<text:s text:c="3"/>` is that many spaces; a tab or line break is itself.
                b"s" if state.in_cell => {
                    state.text.extend(std::iter::repeat_n(' ', repeat(&e, b"c")));
                }
                b"tab" if state.in_cell => state.text.push('\t'),
                b"line-break" if state.in_cell => state.text.push('\n'),
                _ => {}
            },
            Event::Text(t) if state.in_cell => {
                state.text.push_str(&t.xml_content().map_err(|e| FileError::NotOds(e.to_string()))?)
            }
            Event::GeneralRef(r) if state.in_cell => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| FileError::NotOds(e.to_string()))? {
                    state.text.push(c);
                } else {
                    let name = r.decode().map_err(|e| FileError::NotOds(e.to_string()))?;
                    state.text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""));
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"table-cell" | b"covered-table-cell" => state.end_cell(),
                b"table-row" if !state.end_row(row) => return Ok(()),
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    if seen_sheet { Ok(()) } else { Err(FileError::NoSheet(sheet)) }
}

/// The row being read: its cells so far, and the cell being read.
#[derive(Default)]
struct SheetState {
    number: usize,
    rows_repeated: usize,
    cells: Vec<String>,
    /// Empty cells not yet pushed: only pushed when a non-empty cell follows, so a row's trailing run of
    /// thousands of repeated empty cells costs nothing.
    pending_empty: usize,
    in_cell: bool,
    /// Inside a cell's comment (`office:annotation`), however deep.
    in_annotation: usize,
    cell_repeated: usize,
    /// The typed value (`office:value`, `office:date-value`, …) when there is one; otherwise the text.
    value: Option<String>,
    text: String,
    paragraphs: usize,
}

impl SheetState {
    fn start_row(&mut self, repeated: usize) {
        self.cells.clear();
        self.pending_empty = 0;
        self.rows_repeated = repeated;
    }

    fn start_cell(&mut self, e: &BytesStart) {
        self.in_cell = true;
        self.cell_repeated = repeat(e, b"number-columns-repeated");
        self.text.clear();
        self.paragraphs = 0;
        self.value = match attribute(e, b"value-type").as_deref() {
            Some("float" | "percentage" | "currency") => attribute(e, b"value").map(|v| number_text(&v)),
            Some("date") => attribute(e, b"date-value").map(|v| v.chars().take(10).collect()),
            Some("boolean") => attribute(e, b"boolean-value"),
            _ => None,
        };
    }

    fn end_cell(&mut self) {
        if !self.in_cell {
            return;
        }
        self.in_cell = false;
        // A number shown with leading zeros (a Companies House number formatted `00000000`) is read as shown,
        // as a CSV export of it would give it.
        let shown = std::mem::take(&mut self.text);
        let value = match self.value.take() {
            Some(_) if shown.len() > 1 && shown.starts_with('0') && shown.bytes().all(|b| b.is_ascii_digit()) => shown,
            Some(value) => value,
            None => shown,
        };
        if value.is_empty() {
            self.pending_empty += self.cell_repeated;
        } else {
            self.cells.extend(std::iter::repeat_n(String::new(), self.pending_empty));
            self.pending_empty = 0;
            self.cells.extend(std::iter::repeat_n(value, self.cell_repeated));
        }
    }

    /// Hands the row on unless it is empty; `false` when the reader should stop.
    fn end_row(&mut self, row: &mut dyn FnMut(usize, &[String]) -> bool) -> bool {
        let first = self.number + 1;
        self.number += self.rows_repeated;
        if self.cells.is_empty() {
            return true;
        }
        (first..=self.number).all(|number| row(number, &self.cells))
    }
}

fn attribute(e: &BytesStart, local: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn repeat(e: &BytesStart, local: &[u8]) -> usize {
    attribute(e, local).and_then(|v| v.parse().ok()).unwrap_or(1).max(1)
}

/// `32` for a float cell holding 32, not `32.0`.
fn number_text(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", n as i64),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_dates_the_file() {
        assert_eq!(as_at("Source: CQC database as at 01 December 2026"), Some(time::macros::date!(2026 - 12 - 01)));
        assert_eq!(as_at("Source: CQC database as at 5 May 2026."), Some(time::macros::date!(2026 - 05 - 05)));
        assert_eq!(as_at("Active locations for providers registered under the HSCA"), None);
    }

    #[test]
    fn a_row_in_another_encoding_is_refused_and_the_rest_are_read() {
        let mut file = b"Location ID,Location Name,Location Street Address,Location City,Location Postal Code,\
Care home?,Provider ID,Provider Name\n"
            .to_vec();
        file.extend_from_slice(b"1-100000001,Caf\xe9 House,1 Street,Leeds,LS1 4AP,N,1-200000001,P\n");
        file.extend_from_slice(b"1-100000002,Oak House,2 Street,Leeds,LS1 4AP,N,1-200000001,P\n");
        let mut items = Vec::new();
        read_csv(&file[..], &mut |item| {
            items.push(item);
            true
        })
        .unwrap();
        assert!(matches!(&items[0], Item::Refused(r) if r.row == 2 && r.reason.contains("UTF-8")));
        assert!(matches!(&items[1], Item::Row(r) if r.location.name == "Oak House"));
    }

    #[test]
    fn kinds_from_names_and_media_types() {
        assert_eq!(Kind::of_name("01_December_2026_HSCA_Active_Locations.ods"), Some(Kind::Ods));
        assert_eq!(Kind::of_name("changes.NDJSON"), Some(Kind::Ndjson));
        assert_eq!(Kind::of_media_type("text/csv"), Some(Kind::Csv));
        assert_eq!(Kind::of_media_type("text/plain"), None);
    }
}
