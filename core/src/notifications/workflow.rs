//! Submitting a notification, as pure rules: whether this person may send this draft now, and what sending
//! freezes. The handler authorizes, checks the form is complete against what the store knows, freezes the
//! attached documents, persists, and signs the receipt (the key is the API's).

use serde_json::Value;
use time::OffsetDateTime;

use super::catalogue::NotificationType;
use super::model::{Action, Attachment, Event, Notification, Status};
use super::receipt::{ReceiptClaims, submission_sha256};
use crate::actor::Actor;
use crate::stored::JsonText;
use crate::transition::TransitionError;
use crate::workflow::{Draft, FourEyes, Policy, may_approve, may_send};

/// Why a notification cannot be submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// It is not a draft.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The organisation requires a second person.
    #[error(transparent)]
    FourEyes(#[from] FourEyes),
    /// Its stored content no longer reads as JSON: a bug, or data edited behind the API's back.
    #[error("the stored content of notification {0} is not JSON")]
    Unreadable(uuid::Uuid),
}

/// Whether `actor` may submit `current` now: it must be a draft, sent under the organisation's review rule
/// (`crate::workflow`).
pub fn may_submit(current: &Notification, actor: Actor, policy: Policy) -> Result<(), SubmitError> {
    current.status().transition(Status::Submitted)?;
    let draft = Draft { what: "notification", last_editor: Some(current.last_editor()), approval: current.approval() };
    may_send(policy, actor, draft)?;
    Ok(())
}

/// Whether `actor` may create and submit a notification in one step.
pub fn may_submit_new(actor: Actor, policy: Policy) -> Result<(), FourEyes> {
    may_send(policy, actor, Draft { what: "notification", last_editor: None, approval: None })
}

/// `approver` approves the current version of the draft `current` at `now`: a new version that carries the
/// approval, and its history entry naming that version.
pub fn approve(
    current: &Notification,
    approver: Actor,
    now: OffsetDateTime,
) -> Result<(Notification, Event), SubmitError> {
    current.status().transition(Status::Submitted)?;
    may_approve(approver, current.last_editor(), "notification")?;
    let mut approved = current.clone();
    approved.version += 1;
    approved.updated_at = now;
    approved.approved_by_user = approver.user;
    approved.approved_version = Some(approved.version);
    approved.approved_at = Some(now);
    let mut event = Event::new(current.id, Action::Approved, approver, now);
    event.version = Some(approved.version);
    Ok((approved, event))
}

/// Why a review cannot be asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRequestError {
    /// It is not a draft.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("This version of the notification has been approved already: it can be sent now.")]
    AlreadyApproved,
    #[error("A review of this version has been asked for already; the organisation's submitters have been told.")]
    AlreadyAsked,
}

/// `requester` asks the organisation's submitters to review the draft `current` as it is now and send it: the
/// history entry naming the version. Once per version, so a colleague is not emailed twice about the same
/// thing (`history` is the notification's history so far).
pub fn request_review(
    current: &Notification,
    history: &[Event],
    requester: Actor,
    now: OffsetDateTime,
) -> Result<Event, ReviewRequestError> {
    current.status().transition(Status::Submitted)?;
    if current.approval().is_some() {
        return Err(ReviewRequestError::AlreadyApproved);
    }
    if history.iter().any(|e| e.action == Action::ReviewRequested && e.version == Some(current.version)) {
        return Err(ReviewRequestError::AlreadyAsked);
    }
    let mut event = Event::new(current.id, Action::ReviewRequested, requester, now);
    event.version = Some(current.version);
    Ok(event)
}

/// Freezes a complete draft as submitted by `actor` at `now`: a reference to quote, the SHA-256 of the content
/// with every attachment's hash, the schema version it was checked against, who sent it and when, and a new
/// version; with its history entry. The receipt's signature is left to the caller ([`receipt_claims`]).
pub fn seal(
    mut n: Notification,
    kind: NotificationType,
    actor: Actor,
    attachments: &[Attachment],
    now: OffsetDateTime,
) -> Result<(Notification, Event), SubmitError> {
    let content: Value = serde_json::from_str(&n.content).map_err(|_| SubmitError::Unreadable(n.id))?;
    let from = n.status();
    n.attachments = JsonText(attachments.to_vec());
    n.content_sha256 = Some(submission_sha256(&content, &attachments));
    n.reference = Some(crate::receipt::new_reference(now));
    n.schema_version = Some(i64::from(kind.info().schema_version));
    n.status = Status::Submitted;
    n.submitted_at = Some(now);
    n.submitted_by_user = actor.user;
    n.submitted_by_client = actor.client;
    n.updated_at = now;
    n.version += 1;
    let event = Event::new(n.id, Action::Submitted, actor, now).transition(from, Status::Submitted);
    Ok((n, event))
}

/// What the receipt of a sealed notification says, for the issuer `iss` to sign.
pub fn receipt_claims(sealed: &Notification, iss: &str) -> ReceiptClaims {
    let received_at = sealed.submitted_at.expect("a sealed notification has been submitted");
    ReceiptClaims {
        iss: iss.to_owned(),
        sub: sealed.id,
        iat: received_at.unix_timestamp(),
        reference: sealed.reference.clone().expect("a sealed notification has a reference"),
        organisation_id: sealed.organisation_id,
        kind: sealed.kind.as_str().to_owned(),
        received_at,
        schema_version: sealed.schema_version.and_then(|v| u32::try_from(v).ok()).unwrap_or_default(),
        content_sha256: sealed.content_sha256.clone().expect("a sealed notification has a content hash"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::workflow::fixtures::{FOUR_EYES, ONE_PERSON, person};

    const AT: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn draft_by(editor: Actor) -> Notification {
        Notification::draft(
            Uuid::from_u128(7),
            NotificationType::SeriousInjury,
            json!({"type": "serious_injury", "description": "Fell."}).to_string(),
            (None, None),
            Vec::new(),
            editor,
            AT,
        )
    }

    #[test]
    fn only_a_draft_may_be_submitted() {
        let mut sent = draft_by(person(1));
        sent.status = Status::Submitted;
        assert!(matches!(may_submit(&sent, person(2), ONE_PERSON), Err(SubmitError::Transition(_))));
        assert!(matches!(approve(&sent, person(2), AT), Err(SubmitError::Transition(_))), "nor approved");
        assert_eq!(may_submit(&draft_by(person(1)), person(2), ONE_PERSON), Ok(()));
    }

    #[test]
    fn under_four_eyes_the_last_editor_may_not_submit_until_a_colleague_approves_that_version() {
        let draft = draft_by(person(1));
        assert!(matches!(may_submit(&draft, person(1), FOUR_EYES), Err(SubmitError::FourEyes(_))));
        assert_eq!(may_submit(&draft, person(2), FOUR_EYES), Ok(()));
        assert_eq!(may_submit(&draft, person(1), ONE_PERSON), Ok(()));

        assert!(matches!(approve(&draft, person(1), AT), Err(SubmitError::FourEyes(_))), "not their own edit");
        let (approved, event) = approve(&draft, person(2), AT).unwrap();
        assert_eq!(approved.version, draft.version + 1, "the representation changed");
        assert_eq!(
            (event.action, event.version, event.actor_user),
            (Action::Approved, Some(approved.version), person(2).user)
        );
        assert_eq!(may_submit(&approved, person(1), FOUR_EYES), Ok(()), "the approved version");

        let mut edited = approved.clone();
        edited.version += 1;
        assert!(matches!(may_submit(&edited, person(1), FOUR_EYES), Err(SubmitError::FourEyes(_))), "a later version");
        assert!(may_submit_new(person(1), FOUR_EYES).is_err());
        assert_eq!(may_submit_new(person(1), ONE_PERSON), Ok(()));
    }

    #[test]
    fn sealing_freezes_who_when_and_what() {
        let draft = draft_by(person(1));
        let attachments = [Attachment {
            document_id: Uuid::from_u128(3),
            purpose: super::super::model::AttachmentPurpose::Evidence,
            sha256: Some("ab".into()),
        }];
        let (sealed, event) =
            seal(draft.clone(), NotificationType::SeriousInjury, person(2), &attachments, AT).unwrap();
        assert_eq!(sealed.status(), Status::Submitted);
        assert_eq!((sealed.submitted_at, sealed.submitted_by_user), (Some(AT), person(2).user));
        assert_eq!(sealed.version, draft.version + 1);
        assert!(sealed.reference.as_deref().is_some_and(|r| r.starts_with("N-261125-")));
        let content: Value = serde_json::from_str(&draft.content).unwrap();
        assert_eq!(sealed.content_sha256, Some(submission_sha256(&content, &attachments)));
        assert_eq!((event.action, event.to_status), (Action::Submitted, Some(Status::Submitted)));
        let claims = receipt_claims(&sealed, "https://api.example");
        assert_eq!((claims.received_at, claims.reference.as_str()), (AT, sealed.reference.as_deref().unwrap()));
    }

    #[test]
    fn content_that_no_longer_reads_is_refused_not_sealed() {
        let mut draft = draft_by(person(1));
        draft.content = "{".to_owned();
        let refused = seal(draft, NotificationType::SeriousInjury, person(2), &[], AT).unwrap_err();
        assert!(matches!(refused, SubmitError::Unreadable(_)));
    }

    #[test]
    fn a_review_is_asked_for_once_per_version_of_a_draft() {
        let draft = draft_by(person(1));
        let asked = request_review(&draft, &[], person(1), AT).unwrap();
        assert_eq!((asked.action, asked.version), (Action::ReviewRequested, Some(draft.version)));
        let again = request_review(&draft, std::slice::from_ref(&asked), person(1), AT);
        assert_eq!(again, Err(ReviewRequestError::AlreadyAsked));

        let mut edited = draft.clone();
        edited.version += 1;
        assert!(request_review(&edited, &[asked], person(1), AT).is_ok(), "a new version may be reviewed again");

        let (approved, _) = approve(&draft, person(2), AT).unwrap();
        assert_eq!(request_review(&approved, &[], person(1), AT), Err(ReviewRequestError::AlreadyApproved));
    }
}
