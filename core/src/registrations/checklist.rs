//! The checklist: for every section and every required document, complete or not and exactly why, with
//! JSON Pointers into the application. Submission runs the same checklist and is refused (422 with the same
//! problems) unless it is clean, so an application that would be returned as incomplete is never sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use super::catalogue::{ApplicationType, SectionName};
use super::registered::RegisteredDetails;
use super::sections::{DocumentPurpose, DocumentsSection};
use uuid::Uuid;

use crate::documents::ScanStatus;
use crate::field_error::FieldError;
use crate::forms::validation::Completeness;

/// What the rules beyond the schemas need to know.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: ApplicationType,
    /// When the check runs; "today" is the date in England then.
    pub at: OffsetDateTime,
    pub activity_codes: Arc<BTreeSet<String>>,
    pub service_types: Arc<BTreeSet<String>>,
    pub service_user_bands: Arc<BTreeSet<String>>,
    pub registered: Arc<RegisteredDetails>,
    /// Every section's content, for rules between sections.
    pub sections: Arc<BTreeMap<SectionName, Value>>,
}

impl Facts {
    /// The date in England when the check runs.
    pub fn today(&self) -> Date {
        crate::clock::date_in_england(self.at)
    }

    /// Another section, if it is there and well-formed.
    pub fn other<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<T> {
        let name: SectionName = name.parse().ok()?;
        self.sections.get(&name).and_then(|value| T::deserialize(value).ok())
    }
}

/// Whether an item of the checklist is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Complete,
    Incomplete,
    /// Nobody has written anything in this section yet.
    NotStarted,
}

/// One section's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionCheck {
    pub section: SectionName,
    pub status: ItemStatus,
    /// Every problem, each with a JSON Pointer into the application (`/sections/who/legal_name`).
    pub problems: Vec<FieldError>,
}

/// One required document's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentCheck {
    pub purpose: DocumentPurpose,
    pub status: ItemStatus,
    pub problems: Vec<FieldError>,
}

/// What is complete and what is missing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Checklist {
    /// `true` when nothing is missing: submission will be accepted (given the right role).
    pub ready: bool,
    pub sections: Vec<SectionCheck>,
    pub documents: Vec<DocumentCheck>,
}

impl Checklist {
    /// Every problem, in checklist order (the `errors` of a refused submission).
    pub fn problems(&self) -> Vec<FieldError> {
        let sections = self.sections.iter().flat_map(|s| s.problems.iter());
        let documents = self.documents.iter().flat_map(|d| d.problems.iter());
        let mut seen = BTreeSet::new();
        sections.chain(documents).filter(|p| seen.insert((&p.pointer, &p.code, &p.detail))).cloned().collect()
    }
}

/// The documents the documents section attaches: the checklist needs to know how their scans went.
pub fn attached_documents(sections: &BTreeMap<SectionName, Value>) -> Vec<Uuid> {
    attachments(sections).into_iter().map(|a| a.document_id).collect()
}

fn attachments(sections: &BTreeMap<SectionName, Value>) -> Vec<super::sections::ApplicationDocument> {
    sections
        .get(&SectionName::Documents)
        .and_then(|d| DocumentsSection::deserialize(d).ok())
        .map(|d| d.attachments)
        .unwrap_or_default()
}

/// The checklist of an application whose sections are `facts.sections` (every section of the type, `{}`
/// when not started). `scans` holds the scan state of each attached document that is the organisation's
/// (one missing from it does not exist, or is another organisation's).
pub fn assess(facts: &Facts, scans: &BTreeMap<Uuid, ScanStatus>) -> Checklist {
    let kind = facts.kind;
    let mut checks = Vec::new();
    for &section in kind.sections() {
        let content = facts.sections.get(&section).cloned().unwrap_or_else(|| Value::Object(Default::default()));
        let at = format!("/sections/{section}");
        let problems = kind.check_section(section, &content, Completeness::Complete, Some(facts), facts.at, &at);
        let started = content.as_object().is_some_and(|o| !o.is_empty());
        let status = match (started, problems.is_empty()) {
            (_, true) => ItemStatus::Complete,
            (false, false) => ItemStatus::NotStarted,
            (true, false) => ItemStatus::Incomplete,
        };
        checks.push(SectionCheck { section, status, problems });
    }
    if kind != ApplicationType::NewProvider && facts.registered.locations.is_empty() {
        // Changes to a registration need one to change; an applicant applies as a new provider first.
        if let Some(first) = checks.first_mut() {
            first.problems.insert(
                0,
                FieldError::new(
                    "",
                    "not_registered",
                    "The organisation has no registered location, so there is nothing to change: apply as a new \
provider first.",
                ),
            );
            first.status = ItemStatus::Incomplete;
        }
    }
    let documents = document_checks(kind, &facts.sections, scans);
    let ready = checks.iter().all(|c| c.status == ItemStatus::Complete)
        && documents.iter().all(|d| d.status == ItemStatus::Complete);
    Checklist { ready, sections: checks, documents }
}

/// Each required purpose needs an attached document of this organisation that was scanned clean.
fn document_checks(
    kind: ApplicationType,
    sections: &BTreeMap<SectionName, Value>,
    scans: &BTreeMap<Uuid, ScanStatus>,
) -> Vec<DocumentCheck> {
    let attached = attachments(sections);
    // Problems with an attached document belong to its purpose's item.
    let mut problems_by_purpose: BTreeMap<DocumentPurpose, Vec<FieldError>> = BTreeMap::new();
    for (i, attachment) in attached.iter().enumerate() {
        let pointer = format!("/sections/documents/attachments/{i}/document_id");
        if attached[..i].iter().any(|earlier| earlier.document_id == attachment.document_id) {
            // Each required document is a separate file: one upload cannot stand for two of them.
            problems_by_purpose.entry(attachment.purpose).or_default().push(FieldError::new(
                pointer,
                "same_document",
                "This document is attached already, for another purpose; each must be a separate file.",
            ));
            continue;
        }
        let problem = match scans.get(&attachment.document_id) {
            None => Some(FieldError::new(pointer, "no_such_document", "This document does not exist any more.")),
            Some(ScanStatus::Clean) => None,
            Some(ScanStatus::Pending) => Some(FieldError::new(
                pointer,
                "not_scanned_yet",
                "This document is still being scanned for malware; it counts once it is scanned clean.",
            )),
            Some(status) => Some(FieldError::new(
                pointer,
                "not_clean",
                format!("This document's malware scan is {}; upload a clean copy.", status.as_str()),
            )),
        };
        if let Some(problem) = problem {
            problems_by_purpose.entry(attachment.purpose).or_default().push(problem);
        }
    }
    let mut checks = Vec::new();
    for purpose in kind.required_documents(sections) {
        let mut problems = problems_by_purpose.remove(&purpose).unwrap_or_default();
        let present = attached.iter().any(|a| a.purpose == purpose);
        if !present {
            problems.push(FieldError::new(
                "/sections/documents/attachments",
                "document_missing",
                format!(
                    "Attach the {} as a separate document (upload it to /v1/organisations/{{id}}/documents first).",
                    purpose.as_str().replace('_', " ")
                ),
            ));
        }
        let status = match (present, problems.is_empty()) {
            (_, true) => ItemStatus::Complete,
            (false, _) => ItemStatus::NotStarted,
            (true, false) => ItemStatus::Incomplete,
        };
        checks.push(DocumentCheck { purpose, status, problems });
    }
    // A document attached for a purpose not required is still sent, so it must be clean too.
    for (purpose, problems) in problems_by_purpose {
        checks.push(DocumentCheck { purpose, status: ItemStatus::Incomplete, problems });
    }
    checks
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn facts(kind: ApplicationType, sections: BTreeMap<SectionName, Value>) -> Facts {
        Facts {
            kind,
            at: datetime!(2026-11-25 12:00 UTC),
            activity_codes: Arc::default(),
            service_types: Arc::default(),
            service_user_bands: Arc::default(),
            registered: Arc::default(),
            sections: Arc::new(sections),
        }
    }

    fn documents(attached: &[(Uuid, &str)]) -> BTreeMap<SectionName, Value> {
        let attachments: Vec<Value> =
            attached.iter().map(|(id, purpose)| json!({"document_id": id, "purpose": purpose})).collect();
        [(SectionName::Documents, json!({ "attachments": attachments }))].into()
    }

    fn codes(problems: &[FieldError]) -> Vec<&str> {
        problems.iter().map(|p| &*p.code).collect()
    }

    #[test]
    fn nothing_written_is_not_started_and_not_ready_with_every_required_document_missing() {
        let checklist = assess(&facts(ApplicationType::NewProvider, BTreeMap::new()), &BTreeMap::new());
        assert!(!checklist.ready);
        assert!(checklist.sections.iter().all(|s| s.status == ItemStatus::NotStarted), "{:?}", checklist.sections);
        assert_eq!(checklist.documents.len(), 8, "a new provider sends eight documents");
        for document in &checklist.documents {
            assert_eq!(
                (document.status, codes(&document.problems)),
                (ItemStatus::NotStarted, vec!["document_missing"])
            );
        }
    }

    #[test]
    fn a_change_to_a_registration_needs_a_registered_location_to_change() {
        let checklist = assess(&facts(ApplicationType::AddLocation, BTreeMap::new()), &BTreeMap::new());
        let first = &checklist.sections[0];
        assert_eq!((first.status, &*first.problems[0].code), (ItemStatus::Incomplete, "not_registered"));
        let new_provider = assess(&facts(ApplicationType::NewProvider, BTreeMap::new()), &BTreeMap::new());
        assert!(new_provider.problems().iter().all(|p| p.code != "not_registered"), "a new provider has none yet");
    }

    #[test]
    fn an_attached_document_counts_only_once_scanned_clean_and_only_for_one_purpose() {
        let (clean, pending, infected, gone) =
            (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let sections = documents(&[
            (clean, "statement_of_purpose"),
            (clean, "staffing_structure"),
            (pending, "business_plan"),
            (infected, "insurance"),
            (gone, "governance_policy"),
        ]);
        let scans =
            [(clean, ScanStatus::Clean), (pending, ScanStatus::Pending), (infected, ScanStatus::Infected)].into();
        let checklist = assess(&facts(ApplicationType::NewProvider, sections), &scans);
        let by_purpose = |purpose: DocumentPurpose| {
            let check = checklist.documents.iter().find(|d| d.purpose == purpose).unwrap();
            (check.status, codes(&check.problems))
        };
        assert_eq!(by_purpose(DocumentPurpose::StatementOfPurpose), (ItemStatus::Complete, vec![]));
        assert_eq!(by_purpose(DocumentPurpose::StaffingStructure), (ItemStatus::Incomplete, vec!["same_document"]));
        assert_eq!(by_purpose(DocumentPurpose::BusinessPlan), (ItemStatus::Incomplete, vec!["not_scanned_yet"]));
        assert_eq!(by_purpose(DocumentPurpose::Insurance), (ItemStatus::Incomplete, vec!["not_clean"]));
        assert_eq!(by_purpose(DocumentPurpose::GovernancePolicy), (ItemStatus::Incomplete, vec!["no_such_document"]));
        assert!(!checklist.ready);
    }

    #[test]
    fn a_document_sent_for_a_purpose_not_required_must_be_clean_too() {
        let infected = Uuid::from_u128(9);
        let sections = documents(&[(infected, "supporting_information")]);
        let checklist =
            assess(&facts(ApplicationType::AddLocation, sections), &[(infected, ScanStatus::Infected)].into());
        let extra = checklist.documents.iter().find(|d| d.purpose == DocumentPurpose::SupportingInformation).unwrap();
        assert_eq!((extra.status, codes(&extra.problems)), (ItemStatus::Incomplete, vec!["not_clean"]));
    }

    #[test]
    fn the_problems_of_a_refused_submission_are_listed_once_each_in_checklist_order() {
        let checklist = assess(&facts(ApplicationType::AddLocation, BTreeMap::new()), &BTreeMap::new());
        let problems = checklist.problems();
        assert_eq!(problems[0].code, "not_registered");
        let keys: BTreeSet<_> = problems.iter().map(|p| (&p.pointer, &p.code, &p.detail)).collect();
        assert_eq!(keys.len(), problems.len(), "no problem twice");
    }
}
