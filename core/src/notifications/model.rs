//! A notification as stored, its lifecycle, and its history.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::receipt::Receipt;
use crate::actor::Actor;
use crate::stored::JsonText;
use crate::transition::TransitionError;
use crate::workflow::Approval;

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared by the provider; editable; the regulator cannot see it.
    Draft,
    /// Sent; content frozen; a receipt issued.
    Submitted,
    /// The regulator has seen it.
    Acknowledged,
    /// The regulator has asked the provider for more.
    InformationRequested,
    /// The provider has answered the request.
    Responded,
    /// Dealt with; an outcome recorded.
    Closed,
    /// A draft abandoned by the provider.
    Discarded,
}

impl Status {
    pub const ALL: &'static [Self] = &[
        Self::Draft,
        Self::Submitted,
        Self::Acknowledged,
        Self::InformationRequested,
        Self::Responded,
        Self::Closed,
        Self::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Acknowledged => "acknowledged",
            Self::InformationRequested => "information_requested",
            Self::Responded => "responded",
            Self::Closed => "closed",
            Self::Discarded => "discarded",
        }
    }

    /// The lifecycle: `draft → submitted → acknowledged → (information_requested ⇄ responded) → closed`, and
    /// `draft → discarded`.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Draft, Submitted)
                | (Draft, Discarded)
                | (Submitted, Acknowledged)
                | (Acknowledged | Responded, InformationRequested)
                | (InformationRequested, Responded)
                | (Acknowledged | Responded, Closed)
        )
    }

    /// Refused, naming the current state, unless `self → next` is a step of the lifecycle.
    pub fn transition(self, next: Status) -> Result<Status, TransitionError> {
        if self.can_become(next) {
            return Ok(next);
        }
        Err(TransitionError::new(self.as_str(), format!("This notification is {self}; it cannot become {next}.")))
    }

    /// Refused unless it is a draft: sent content is frozen.
    pub fn require_draft(self) -> Result<(), TransitionError> {
        if self == Self::Draft {
            return Ok(());
        }
        Err(TransitionError::new(
            self.as_str(),
            format!("Only drafts can be edited; this notification is {self}, and what was sent cannot change."),
        ))
    }

    /// Whether the regulator can see it: never a draft or a discarded draft.
    pub fn sent(self) -> bool {
        !matches!(self, Self::Draft | Self::Discarded)
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

/// A notification as stored.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Notification {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Option<Uuid>,
    pub kind: super::NotificationType,
    pub status: Status,
    /// The form, as JSON text (kept as written: its SHA-256 is in the receipt).
    pub content: String,
    pub follows_id: Option<Uuid>,
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
    pub schema_version: Option<i64>,
    pub content_sha256: Option<String>,
    pub receipt: Option<String>,
    pub request_message: Option<String>,
    pub request_due_on: Option<String>,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    /// The documents it refers to.
    pub attachments: JsonText<Vec<Attachment>>,
    /// The person who approved `approved_version` (see `crate::workflow`); cleared by an edit, kept once sent.
    pub approved_by_user: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_at: Option<OffsetDateTime>,
}

/// What a document attached to a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentPurpose {
    /// Evidence about the event (photographs, reports, records).
    Evidence,
    /// The revised statement of purpose itself.
    StatementOfPurpose,
    /// Anything else the regulator should read with it.
    SupportingInformation,
}

/// A document a notification refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub document_id: Uuid,
    pub purpose: AttachmentPurpose,
    /// The document's SHA-256 (hex), fixed when the notification was submitted and covered by its receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = "^[0-9a-f]{64}$")]
    pub sha256: Option<String>,
}

impl Notification {
    /// A new draft, made and last edited by `actor`.
    pub fn draft(
        organisation_id: Uuid,
        kind: super::NotificationType,
        content: String,
        (location_id, follows_id): (Option<Uuid>, Option<Uuid>),
        attachments: Vec<Attachment>,
        actor: Actor,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            organisation_id,
            location_id,
            kind,
            status: Status::Draft,
            content,
            follows_id,
            version: 1,
            created_by_user: actor.user,
            created_by_client: actor.client,
            edited_by_user: actor.user,
            edited_by_client: actor.client,
            created_at: now,
            updated_at: now,
            reference: None,
            submitted_at: None,
            submitted_by_user: None,
            submitted_by_client: None,
            schema_version: None,
            content_sha256: None,
            receipt: None,
            request_message: None,
            request_due_on: None,
            outcome: None,
            outcome_note: None,
            attachments: JsonText(attachments),
            approved_by_user: None,
            approved_version: None,
            approved_at: None,
        }
    }

    /// An approval of its current version, if there is one.
    pub fn approval(&self) -> Option<Approval> {
        Approval::current(self.approved_by_user, self.approved_version, self.approved_at, self.version)
    }

    /// Forgets an approval: the content it approved is changing.
    pub fn clear_approval(&mut self) {
        (self.approved_by_user, self.approved_version, self.approved_at) = (None, None, None);
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn last_editor(&self) -> Actor {
        Actor { user: self.edited_by_user, client: self.edited_by_client }
    }
}

/// One entry of a notification's history.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Event {
    /// A UUIDv7: histories are read in id order.
    pub id: Uuid,
    pub notification_id: Uuid,
    pub at: OffsetDateTime,
    pub action: Action,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub actor_user: Option<Uuid>,
    pub actor_client: Option<Uuid>,
    /// Space-separated JSON Pointers of the fields an edit changed.
    pub fields: Option<String>,
    pub message: Option<String>,
    pub due_on: Option<String>,
    /// For an approval: the version approved.
    pub version: Option<i64>,
}

impl Event {
    pub fn new(notification_id: Uuid, action: Action, actor: Actor, at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            notification_id,
            at,
            action,
            from_status: None,
            to_status: None,
            actor_user: actor.user,
            actor_client: actor.client,
            fields: None,
            message: None,
            due_on: None,
            version: None,
        }
    }

    pub fn transition(mut self, from: Status, to: Status) -> Self {
        self.from_status = Some(from);
        self.to_status = Some(to);
        self
    }
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Edited,
    Submitted,
    Discarded,
    Acknowledged,
    InformationRequested,
    Responded,
    Closed,
    /// A member of the regulator's staff read the content (special-category data: every read is recorded).
    ViewedByStaff,
    /// A person with the submitter role approved the version named (four eyes).
    Approved,
    /// A person asked the organisation's submitters to review the version named and send it (they are
    /// emailed).
    ReviewRequested,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Edited => "edited",
            Self::Submitted => "submitted",
            Self::Discarded => "discarded",
            Self::Acknowledged => "acknowledged",
            Self::InformationRequested => "information_requested",
            Self::Responded => "responded",
            Self::Closed => "closed",
            Self::ViewedByStaff => "viewed_by_staff",
            Self::Approved => "approved",
            Self::ReviewRequested => "review_requested",
        }
    }
}

text_column!(Status);
named_by_serde!(Action, "action");

/// What a list of notifications is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `None` for the regulator's queue across providers.
    pub organisation_id: Option<Uuid>,
    pub statuses: Vec<Status>,
    pub kind: Option<String>,
    /// Only these locations (an explicit filter, or a member's location limits); notifications without a
    /// location are excluded whenever this is set.
    pub locations: Option<Vec<Uuid>>,
    pub created_from: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    pub submitted_from: Option<OffsetDateTime>,
    pub submitted_before: Option<OffsetDateTime>,
    pub created_by: Option<Uuid>,
}

impl Notification {
    /// The receipt it earned, once submitted.
    pub fn receipt_view(&self) -> Option<Receipt> {
        Some(Receipt {
            reference: self.reference.clone()?,
            notification_id: self.id,
            organisation_id: self.organisation_id,
            kind: self.kind,
            received_at: self.submitted_at?,
            schema_version: u32::try_from(self.schema_version?).ok()?,
            content_sha256: self.content_sha256.clone()?,
            jws: self.receipt.clone()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_steps() {
        use Status::*;
        let allowed = [
            (Draft, Submitted),
            (Draft, Discarded),
            (Submitted, Acknowledged),
            (Acknowledged, InformationRequested),
            (InformationRequested, Responded),
            (Responded, InformationRequested),
            (Responded, Closed),
            (Acknowledged, Closed),
        ];
        for &from in Status::ALL {
            for &to in Status::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from} → {to}");
            }
        }
        let refused = Closed.transition(Submitted).unwrap_err();
        assert_eq!(refused.current, "closed");
    }
}
