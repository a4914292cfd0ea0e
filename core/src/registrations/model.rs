//! An application as stored, its lifecycle, its history, and the regulator's notices.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::{ApplicationType, SectionName};
use crate::actor::Actor;
use crate::stored::JsonText;
use crate::transition::TransitionError;
use crate::workflow::Approval;

/// Where an application is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationStatus)]
pub enum Status {
    /// Being prepared; sections editable; the regulator cannot see it.
    Draft,
    /// Sent, with a receipt; waiting for the regulator to check it is complete.
    Submitted,
    /// The regulator found it incomplete and returned it with reasons; editable and can be sent again.
    Returned,
    /// Accepted as complete: an inspector assesses it (the 10-week target runs from acceptance).
    UnderAssessment,
    /// The regulator has asked for more; back to `under_assessment` once every request is answered.
    InformationRequested,
    /// A notice of proposal (to refuse, or to grant with conditions) was served: 28 days for representations.
    ProposalIssued,
    /// Granted (possibly with conditions); the registered details are updated.
    Granted,
    Refused,
    /// Withdrawn by the applicant before a decision.
    Withdrawn,
}

impl Status {
    pub const ALL: &'static [Self] = &[
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::UnderAssessment,
        Self::InformationRequested,
        Self::ProposalIssued,
        Self::Granted,
        Self::Refused,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::UnderAssessment => "under_assessment",
            Self::InformationRequested => "information_requested",
            Self::ProposalIssued => "proposal_issued",
            Self::Granted => "granted",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The lifecycle (see `docs/registrations.md`).
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        match next {
            Submitted => matches!(self, Draft | Returned),
            Returned | UnderAssessment if self == Submitted => true,
            UnderAssessment => self == InformationRequested,
            InformationRequested => matches!(self, UnderAssessment | InformationRequested),
            ProposalIssued => self == UnderAssessment,
            Granted => matches!(self, UnderAssessment | ProposalIssued),
            Refused => self == ProposalIssued,
            Withdrawn => !self.decided(),
            _ => false,
        }
    }

    /// Refused, naming the current state, unless `self → next` is a step of the lifecycle.
    pub fn transition(self, next: Status) -> Result<Status, TransitionError> {
        if self.can_become(next) {
            return Ok(next);
        }
        Err(TransitionError::new(self.as_str(), format!("This application is {self}; it cannot become {next}.")))
    }

    /// Refused unless the applicant may edit it: a draft, or an application returned as incomplete.
    pub fn require_editable(self) -> Result<(), TransitionError> {
        if self.editable() {
            return Ok(());
        }
        Err(TransitionError::new(
            self.as_str(),
            format!(
                "Only drafts and returned applications can be edited; this one is {self}, and what was sent cannot change."
            ),
        ))
    }

    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }

    /// A decision was made, or the applicant withdrew: nothing more happens.
    pub fn decided(self) -> bool {
        matches!(self, Self::Granted | Self::Refused | Self::Withdrawn)
    }

    /// Whether the regulator can see it.
    pub fn sent(self) -> bool {
        !matches!(self, Self::Draft | Self::Withdrawn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// A registration application as stored. Sections live in their own rows (see [`SectionRow`]), so people
/// can edit different sections at once; `version` moves on every change to any of them.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Application {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub kind: ApplicationType,
    pub status: Status,
    pub version: i64,
    pub created_by_user: Option<Uuid>,
    pub created_by_client: Option<Uuid>,
    pub edited_by_user: Option<Uuid>,
    pub edited_by_client: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reference: Option<String>,
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by_user: Option<Uuid>,
    pub submitted_by_client: Option<Uuid>,
    pub content_sha256: Option<String>,
    pub receipt: Option<String>,
    pub accepted_at: Option<OffsetDateTime>,
    pub inspector_id: Option<Uuid>,
    pub decided_at: Option<OffsetDateTime>,
    pub workflow: JsonText<Workflow>,
    /// The person who approved `approved_version` (see `crate::workflow`); cleared by an edit, kept once sent.
    pub approved_by_user: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_at: Option<OffsetDateTime>,
}

impl Application {
    pub fn status(&self) -> Status {
        self.status
    }

    pub fn kind(&self) -> ApplicationType {
        self.kind
    }

    pub fn workflow(&self) -> Workflow {
        self.workflow.0.clone()
    }

    pub fn last_editor(&self) -> Actor {
        Actor { user: self.edited_by_user, client: self.edited_by_client }
    }

    /// An approval of its current version, if there is one.
    pub fn approval(&self) -> Option<Approval> {
        Approval::current(self.approved_by_user, self.approved_version, self.approved_at, self.version)
    }

    /// Moves to `next`, bumping the version.
    pub fn moved(&self, next: Status, now: OffsetDateTime) -> Self {
        Self { status: next, version: self.version + 1, updated_at: now, ..self.clone() }
    }
}

/// One section's content, edited with its own `If-Match`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct SectionRow {
    pub application_id: Uuid,
    pub name: SectionName,
    /// A JSON object; `{}` until someone writes it.
    pub content: JsonText<serde_json::Map<String, serde_json::Value>>,
    pub version: i64,
    pub edited_by_user: Option<Uuid>,
    pub edited_by_client: Option<Uuid>,
    pub updated_at: OffsetDateTime,
}

impl SectionRow {
    pub fn section(&self) -> SectionName {
        self.name
    }

    pub fn started(&self) -> bool {
        !self.content.0.is_empty()
    }
}

/// The regulator's notices and findings, kept with the application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    /// Why the regulator returned it as incomplete (the latest return).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returned_reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub proposal: Option<Proposal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub decision: Option<Decision>,
}

/// What a notice of proposal proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    Refuse,
    GrantWithConditions,
}

/// A notice of proposal: the applicant may make representations until `representations_due_on`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = NoticeOfProposal)]
pub struct Proposal {
    pub proposal: ProposalKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub reasons: String,
    /// When the notice was served; the window is computed from it.
    #[serde(with = "super::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub served_on: Date,
    /// The last day for representations: 28 days after service.
    #[serde(with = "super::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub representations_due_on: Date,
    /// When the applicant made representations, if they did.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false, value_type = Option<String>, format = DateTime)]
    pub representations_made_at: Option<OffsetDateTime>,
}

/// A notice of decision's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Grant,
    GrantWithConditions,
    Refuse,
}

/// A notice of decision, with what a grant assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = NoticeOfDecision)]
pub struct Decision {
    pub decision: DecisionKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub reasons: String,
    #[serde(with = "super::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub served_on: Date,
    /// The last day to appeal to the First-tier Tribunal: 28 days after service.
    #[serde(with = "super::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub appeal_by: Date,
    /// The provider ID, when this grant registered the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider_id: Option<String>,
    /// Location IDs this grant assigned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub location_ids: Vec<String>,
}

/// What happened to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationAction)]
pub enum Action {
    Created,
    SectionEdited,
    Submitted,
    Withdrawn,
    Accepted,
    Returned,
    InspectorAssigned,
    InformationRequested,
    InformationProvided,
    ProposalIssued,
    RepresentationsMade,
    Decided,
    ViewedByStaff,
    /// A person with the submitter role approved the version named (four eyes).
    Approved,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::SectionEdited => "section_edited",
            Self::Submitted => "submitted",
            Self::Withdrawn => "withdrawn",
            Self::Accepted => "accepted",
            Self::Returned => "returned",
            Self::InspectorAssigned => "inspector_assigned",
            Self::InformationRequested => "information_requested",
            Self::InformationProvided => "information_provided",
            Self::ProposalIssued => "proposal_issued",
            Self::RepresentationsMade => "representations_made",
            Self::Decided => "decided",
            Self::ViewedByStaff => "viewed_by_staff",
            Self::Approved => "approved",
        }
    }
}

text_column!(Status);
named_by_serde!(Action, "action");

/// An entry in an application's history. Requests for information and their answers are entries too:
/// an answer's `thread_id` is the id of the request it answers.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Event {
    pub id: Uuid,
    pub application_id: Uuid,
    pub at: OffsetDateTime,
    pub action: Action,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub actor_user: Option<Uuid>,
    pub actor_client: Option<Uuid>,
    pub section: Option<SectionName>,
    /// Pointers of the fields an edit changed, space-separated.
    pub fields: Option<String>,
    pub message: Option<String>,
    pub due_on: Option<String>,
    pub thread_id: Option<Uuid>,
    /// Attached document ids.
    pub attachments: Option<JsonText<Vec<Uuid>>>,
    /// For an approval: the version approved.
    pub version: Option<i64>,
}

impl Event {
    pub fn new(application_id: Uuid, action: Action, actor: Actor, at: OffsetDateTime) -> Self {
        Self {
            // Version 7: time-ordered, so ordering by id is the order things happened.
            id: Uuid::now_v7(),
            application_id,
            at,
            action,
            from_status: None,
            to_status: None,
            actor_user: actor.user,
            actor_client: actor.client,
            section: None,
            fields: None,
            message: None,
            due_on: None,
            thread_id: None,
            attachments: None,
            version: None,
        }
    }

    pub fn transition(mut self, from: Status, to: Status) -> Self {
        self.from_status = Some(from);
        self.to_status = Some(to);
        self
    }
}

/// Queue filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub organisation_id: Option<Uuid>,
    pub statuses: Vec<Status>,
    pub kind: Option<String>,
    pub inspector_id: Option<Uuid>,
    pub submitted_before: Option<OffsetDateTime>,
    pub accepted_before: Option<OffsetDateTime>,
}
