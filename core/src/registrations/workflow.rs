//! Submitting a registration application, as pure rules: whether this person may send it now, and what sending
//! freezes. The handler authorizes, runs the checklist against what the store knows, freezes the attached
//! documents, persists, and signs the receipt (the key is the API's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::catalogue::SectionName;
use super::model::{Action, Application, Event, Status};
use crate::actor::Actor;
use crate::transition::TransitionError;
use crate::workflow::{Draft, FourEyes, Policy, may_approve, may_send};

/// The JWS `typ` of an application's receipt.
pub const RECEIPT_TYPE: &str = "registration-receipt+jwt";

/// What an application's receipt says, signed by the regulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptClaims {
    pub iss: String,
    /// The application's id.
    pub sub: Uuid,
    pub iat: i64,
    pub reference: String,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub content_sha256: String,
}

/// Why an application cannot be submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Neither a draft nor returned for correction.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The organisation requires a second person.
    #[error(transparent)]
    FourEyes(#[from] FourEyes),
}

/// Whether `actor` may submit `current` now: a draft (or a returned application), sent under the
/// organisation's review rule (`crate::workflow`).
pub fn may_submit(current: &Application, actor: Actor, policy: Policy) -> Result<(), SubmitError> {
    current.status().transition(Status::Submitted)?;
    let draft = Draft { what: "application", last_editor: Some(current.last_editor()), approval: current.approval() };
    may_send(policy, actor, draft)?;
    Ok(())
}

/// `approver` approves the current version of `current` (a draft, or returned) at `now`: a new version that
/// carries the approval, and its history entry naming that version.
pub fn approve(
    current: &Application,
    approver: Actor,
    now: OffsetDateTime,
) -> Result<(Application, Event), SubmitError> {
    let status = current.status();
    status.transition(Status::Submitted)?;
    may_approve(approver, current.last_editor(), "application")?;
    let mut approved = current.moved(status, now);
    approved.approved_by_user = approver.user;
    approved.approved_version = Some(approved.version);
    approved.approved_at = Some(now);
    let mut event = Event::new(current.id, Action::Approved, approver, now);
    event.version = Some(approved.version);
    Ok((approved, event))
}

/// Freezes an application as submitted by `actor` at `now`: a reference to quote, the SHA-256 of every section
/// with every attached document's hash, who sent it and when, and a new version; with its history entry.
pub fn seal(
    current: &Application,
    sections: &BTreeMap<SectionName, Value>,
    documents: &impl Serialize,
    actor: Actor,
    now: OffsetDateTime,
) -> Result<(Application, Event), SubmitError> {
    let from = current.status();
    let next = from.transition(Status::Submitted)?;
    let sections: serde_json::Map<String, Value> =
        sections.iter().map(|(name, content)| (name.as_str().to_owned(), content.clone())).collect();
    let mut sealed = current.moved(next, now);
    sealed.content_sha256 =
        Some(crate::receipt::content_sha256(&serde_json::json!({"documents": documents, "sections": sections})));
    sealed.reference = Some(crate::receipt::reference_with('R', now));
    sealed.submitted_at = Some(now);
    sealed.submitted_by_user = actor.user;
    sealed.submitted_by_client = actor.client;
    let event = Event::new(current.id, Action::Submitted, actor, now).transition(from, next);
    Ok((sealed, event))
}

/// What the receipt of a sealed application says, for the issuer `iss` to sign.
pub fn receipt_claims(sealed: &Application, iss: &str) -> ReceiptClaims {
    let received_at = sealed.submitted_at.expect("a sealed application has been submitted");
    ReceiptClaims {
        iss: iss.to_owned(),
        sub: sealed.id,
        iat: received_at.unix_timestamp(),
        reference: sealed.reference.clone().expect("a sealed application has a reference"),
        organisation_id: sealed.organisation_id,
        kind: sealed.kind().as_str().to_owned(),
        received_at,
        content_sha256: sealed.content_sha256.clone().expect("a sealed application has a content hash"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::workflow::fixtures::{FOUR_EYES, ONE_PERSON, person};

    const AT: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn application(status: Status, editor: Actor) -> Application {
        Application {
            id: Uuid::from_u128(1),
            organisation_id: Uuid::from_u128(2),
            kind: crate::registrations::catalogue::ApplicationType::AddRegulatedActivity,
            status,
            version: 4,
            created_by_user: editor.user,
            created_by_client: editor.client,
            edited_by_user: editor.user,
            edited_by_client: editor.client,
            created_at: AT,
            updated_at: AT,
            reference: None,
            submitted_at: None,
            submitted_by_user: None,
            submitted_by_client: None,
            content_sha256: None,
            receipt: None,
            accepted_at: None,
            inspector_id: None,
            decided_at: None,
            workflow: Default::default(),
            approved_by_user: None,
            approved_version: None,
            approved_at: None,
        }
    }

    #[test]
    fn drafts_and_returned_applications_may_be_submitted_and_nothing_else() {
        for status in [Status::Draft, Status::Returned] {
            assert_eq!(may_submit(&application(status, person(1)), person(2), ONE_PERSON), Ok(()), "{status}");
        }
        let sent = application(Status::Submitted, person(1));
        assert!(matches!(may_submit(&sent, person(2), ONE_PERSON), Err(SubmitError::Transition(_))));
        assert!(matches!(approve(&sent, person(2), AT), Err(SubmitError::Transition(_))), "nor approved");
    }

    #[test]
    fn under_four_eyes_the_last_editor_may_not_submit_until_a_colleague_approves_that_version() {
        let draft = application(Status::Returned, person(1));
        assert!(matches!(may_submit(&draft, person(1), FOUR_EYES), Err(SubmitError::FourEyes(_))));
        assert_eq!(may_submit(&draft, person(2), FOUR_EYES), Ok(()));
        let (approved, event) = approve(&draft, person(2), AT).unwrap();
        assert_eq!((approved.status(), approved.version), (Status::Returned, draft.version + 1));
        assert_eq!((event.action, event.version), (Action::Approved, Some(approved.version)));
        assert_eq!(may_submit(&approved, person(1), FOUR_EYES), Ok(()));
        let edited = Application { version: approved.version + 1, ..approved };
        assert!(matches!(may_submit(&edited, person(1), FOUR_EYES), Err(SubmitError::FourEyes(_))));
    }

    #[test]
    fn sealing_freezes_who_when_and_a_hash_of_sections_and_documents() {
        let draft = application(Status::Returned, person(1));
        let sections = BTreeMap::from([(SectionName::Declaration, json!({"confirmed": true}))]);
        let documents = json!([{"document_id": Uuid::from_u128(3), "sha256": "ab"}]);
        let (sealed, event) = seal(&draft, &sections, &documents, person(2), AT).unwrap();
        assert_eq!((sealed.status(), sealed.version), (Status::Submitted, 5));
        assert_eq!((sealed.submitted_at, sealed.submitted_by_user), (Some(AT), person(2).user));
        assert!(sealed.reference.as_deref().is_some_and(|r| r.starts_with("R-261125-")));
        let expected = crate::receipt::content_sha256(
            &json!({"documents": documents, "sections": {"declaration": {"confirmed": true}}}),
        );
        assert_eq!(sealed.content_sha256.as_deref(), Some(expected.as_str()));
        assert_eq!((event.from_status, event.to_status), (Some(Status::Returned), Some(Status::Submitted)));
        let claims = receipt_claims(&sealed, "https://api.example");
        assert_eq!((claims.kind.as_str(), claims.received_at), ("add_regulated_activity", AT));
    }
}
