//! The checklist: for every section and every required document, complete or not and exactly why, with
//! JSON Pointers into the application. Submission runs the same checklist and is refused (422 with the same
//! problems) unless it is clean, so an application that would be returned as incomplete is never sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use utoipa::ToSchema;

use super::catalogue::{ApplicationType, SectionName};
use super::registered::RegisteredDetails;
use super::sections::{DocumentPurpose, DocumentsSection};
use crate::documents::ScanStatus;
use crate::http::{FieldError, Problem};
use crate::notifications::validation::Completeness;
use crate::state::AppState;

/// What the rules beyond the schemas need to know.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: ApplicationType,
    pub today: Date,
    pub activity_codes: Arc<BTreeSet<String>>,
    pub service_types: Arc<BTreeSet<String>>,
    pub service_user_bands: Arc<BTreeSet<String>>,
    pub registered: Arc<RegisteredDetails>,
    /// Every section's content, for rules between sections.
    pub sections: Arc<BTreeMap<SectionName, Value>>,
}

impl Facts {
    /// Another section, if it is there and well-formed.
    pub fn other<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<T> {
        let name: SectionName = name.parse().ok()?;
        self.sections.get(&name).and_then(|value| T::deserialize(value).ok())
    }

    pub async fn gather(
        state: &AppState,
        kind: ApplicationType,
        organisation_id: uuid::Uuid,
        sections: BTreeMap<SectionName, Value>,
    ) -> Result<Self, Problem> {
        let registered = state.store.registered_details(organisation_id).await?;
        let service_types = state.store.service_types().await?.into_iter().map(|t| t.code).collect();
        let service_user_bands = state.store.service_user_bands().await?.into_iter().map(|b| b.code).collect();
        Ok(Self {
            kind,
            today: time::OffsetDateTime::now_utc().date(),
            activity_codes: state.activity_codes.clone(),
            service_types: Arc::new(service_types),
            service_user_bands: Arc::new(service_user_bands),
            registered: Arc::new(registered),
            sections: Arc::new(sections),
        })
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

/// Builds the checklist of an application of `kind` whose sections hold `sections` (every section of the
/// type, `{}` when not started).
pub async fn build(
    state: &AppState,
    kind: ApplicationType,
    organisation_id: uuid::Uuid,
    sections: BTreeMap<SectionName, Value>,
) -> Result<Checklist, Problem> {
    let facts = Facts::gather(state, kind, organisation_id, sections).await?;
    let mut checks = Vec::new();
    for &section in kind.sections() {
        let content = facts.sections.get(&section).cloned().unwrap_or_else(|| Value::Object(Default::default()));
        let at = format!("/sections/{section}");
        let problems = kind.check_section(section, &content, Completeness::Complete, Some(&facts), &at);
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
    let documents = document_checks(state, kind, organisation_id, &facts.sections).await?;
    let ready = checks.iter().all(|c| c.status == ItemStatus::Complete)
        && documents.iter().all(|d| d.status == ItemStatus::Complete);
    Ok(Checklist { ready, sections: checks, documents })
}

/// Each required purpose needs an attached document of this organisation that was scanned clean.
async fn document_checks(
    state: &AppState,
    kind: ApplicationType,
    organisation_id: uuid::Uuid,
    sections: &BTreeMap<SectionName, Value>,
) -> Result<Vec<DocumentCheck>, Problem> {
    let attached: Vec<_> = sections
        .get(&SectionName::Documents)
        .and_then(|d| DocumentsSection::deserialize(d).ok())
        .map(|d| d.attachments)
        .unwrap_or_default();
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
        let document =
            state.store.document(attachment.document_id).await?.filter(|d| d.organisation_id == organisation_id);
        let problem = match document {
            None => Some(FieldError::new(pointer, "no_such_document", "This document does not exist any more.")),
            Some(d) if d.scan_status == ScanStatus::Clean.as_str() => None,
            Some(d) if d.scan_status == ScanStatus::Pending.as_str() => Some(FieldError::new(
                pointer,
                "not_scanned_yet",
                "This document is still being scanned for malware; it counts once it is scanned clean.",
            )),
            Some(d) => Some(FieldError::new(
                pointer,
                "not_clean",
                format!("This document's malware scan is {}; upload a clean copy.", d.scan_status),
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
    Ok(checks)
}
