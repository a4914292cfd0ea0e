//! The review rule both notifications and registration applications are sent under.
//!
//! Teams work as drafter and submitter: one prepares, another reviews and sends. An organisation that
//! requires four eyes (`four_eyes`) has what it sends reviewed by a second person: a person with the
//! submitter role **approves** the exact version they reviewed, and it may then be sent, by them or by
//! anyone with the submitter role. Any edit moves the version, so it clears the approval. A submitter who is
//! not the last editor is the second person already, and may send without a separate approval.
//!
//! Software acting as itself (an API client, no person) is not a reviewer and cannot approve. Whether it may
//! send on its own is the organisation's `software_submits` setting: on (the default, as an admin who gave a
//! client `notifications:submit` intended), it sends directly; off, it sends only a version a person approved.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::actor::Actor;

/// Refused by the review rule: what the person should do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct FourEyes {
    pub detail: String,
}

impl FourEyes {
    fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into() }
    }
}

/// Whether the four-eyes setting applies: only where at least two people can submit. A one-person provider
/// (a sole trader, say) must still be able to send its own notifications (nobody can report a death late
/// for want of a second person), so with one submitter the setting waits until a second joins.
pub fn four_eyes_in_effect(setting: bool, submitters: i64) -> bool {
    setting && submitters >= 2
}

/// An organisation's settings that the rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A second person reviews what people send.
    pub four_eyes: bool,
    /// Software acting as itself sends without a person's approval.
    pub software_submits: bool,
}

/// A person's approval of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approval {
    pub by: Uuid,
    pub version: i64,
    pub at: OffsetDateTime,
}

impl Approval {
    /// The approval stored with a record, if it is of the record's current version (an edit since moved it).
    pub fn current(by: Option<Uuid>, version: Option<i64>, at: Option<OffsetDateTime>, now_at: i64) -> Option<Self> {
        match (by, version, at) {
            (Some(by), Some(version), Some(at)) if version == now_at => Some(Self { by, version, at }),
            _ => None,
        }
    }
}

/// What is being sent, as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draft {
    /// "notification" or "application", for the messages.
    pub what: &'static str,
    /// Who last edited it; `None` when the sender is writing it in the same step (create-and-submit).
    pub last_editor: Option<Actor>,
    /// An approval of its current version.
    pub approval: Option<Approval>,
}

/// Whether `sender` may send `draft` under `policy`.
pub fn may_send(policy: Policy, sender: Actor, draft: Draft) -> Result<(), FourEyes> {
    let what = draft.what;
    let Some(person) = sender.user else {
        return if policy.software_submits || draft.approval.is_some() {
            Ok(())
        } else {
            Err(FourEyes::new(format!(
                "This organisation's policy is that software does not send on its own: a person with the \
submitter role approves this {what} (POST …/approval), and then it may be submitted."
            )))
        };
    };
    if !policy.four_eyes || draft.approval.is_some() {
        return Ok(());
    }
    match draft.last_editor {
        None => Err(FourEyes::new(
            "This organisation requires a second person to review before submission (it has at least two people \
with the submitter role): create a draft instead, and a colleague with the submitter role approves it or \
submits it.",
        )),
        Some(editor) if editor.user == Some(person) => Err(FourEyes::new(format!(
            "You were the last to edit this {what}, and nobody else has approved this version. Your organisation \
asks for a second person (it has at least two people with the submitter role): a colleague with the \
submitter role approves it (POST …/approval) or submits it."
        ))),
        Some(_) => Ok(()),
    }
}

/// Whether `approver` may approve the current version of something `last_editor` last edited.
pub fn may_approve(approver: Actor, last_editor: Actor, what: &str) -> Result<(), FourEyes> {
    let Some(person) = approver.user else {
        return Err(FourEyes::new(format!(
            "Only a person approves: software acting as itself cannot review this {what}."
        )));
    };
    if last_editor.user == Some(person) {
        return Err(FourEyes::new(format!(
            "You were the last to edit this {what}; a colleague must review and approve it."
        )));
    }
    Ok(())
}

/// What the tests of every rule built on this one share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub const FOUR_EYES: Policy = Policy { four_eyes: true, software_submits: true };
    pub const ONE_PERSON: Policy = Policy { four_eyes: false, software_submits: true };

    pub fn person(id: u128) -> Actor {
        Actor { user: Some(Uuid::from_u128(id)), client: None }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::fixtures::{FOUR_EYES as ON, ONE_PERSON as OFF, person};
    use super::*;

    const AT: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn software() -> Actor {
        Actor { user: None, client: Some(Uuid::from_u128(9)) }
    }

    fn edited_by(editor: Actor) -> Draft {
        Draft { what: "notification", last_editor: Some(editor), approval: None }
    }

    fn approved_by(editor: Actor, approver: u128) -> Draft {
        Draft { approval: Some(Approval { by: Uuid::from_u128(approver), version: 3, at: AT }), ..edited_by(editor) }
    }

    #[test]
    fn four_eyes_applies_only_where_two_people_can_submit() {
        assert!(!four_eyes_in_effect(true, 0));
        assert!(!four_eyes_in_effect(true, 1), "a sole submitter sends their own");
        assert!(four_eyes_in_effect(true, 2));
        assert!(!four_eyes_in_effect(false, 5), "the setting off is off");
    }

    #[test]
    fn without_four_eyes_a_person_sends_what_they_wrote_even_in_one_step() {
        assert_eq!(may_send(OFF, person(1), edited_by(person(1))), Ok(()));
        assert_eq!(may_send(OFF, person(1), Draft { what: "notification", last_editor: None, approval: None }), Ok(()));
    }

    #[test]
    fn a_submitter_who_is_not_the_last_editor_is_the_second_person() {
        assert_eq!(may_send(ON, person(2), edited_by(person(1))), Ok(()));
    }

    #[test]
    fn the_last_editor_sends_only_a_version_a_colleague_approved() {
        let refused = may_send(ON, person(1), edited_by(person(1))).unwrap_err();
        assert!(refused.detail.contains("approves it (POST …/approval)"), "{refused}");
        assert_eq!(may_send(ON, person(1), approved_by(person(1), 2)), Ok(()));
    }

    #[test]
    fn writing_and_sending_in_one_step_has_no_second_person() {
        let one_step = Draft { what: "application", last_editor: None, approval: None };
        let refused = may_send(ON, person(1), one_step).unwrap_err();
        assert!(refused.detail.contains("create a draft instead"), "{refused}");
    }

    #[test]
    fn an_approval_counts_only_for_the_version_it_was_given_to() {
        let version = Some(3);
        assert!(Approval::current(Some(Uuid::from_u128(2)), version, Some(AT), 3).is_some());
        assert_eq!(Approval::current(Some(Uuid::from_u128(2)), version, Some(AT), 4), None, "edited since");
        assert_eq!(Approval::current(None, None, None, 3), None);
    }

    #[test]
    fn nobody_approves_their_own_last_edit_and_software_never_approves() {
        let refused = may_approve(person(1), person(1), "application").unwrap_err();
        assert!(refused.detail.contains("a colleague must review and approve"), "{refused}");
        assert_eq!(may_approve(person(2), person(1), "application"), Ok(()));
        assert!(may_approve(software(), person(1), "application").is_err());
        // A person working through an integrator's software is that person.
        let through = Actor { user: Some(Uuid::from_u128(1)), client: Some(Uuid::from_u128(9)) };
        assert!(may_approve(through, person(1), "application").is_err());
    }

    #[test]
    fn software_sends_on_its_own_only_where_the_organisation_allows_it() {
        assert_eq!(may_send(ON, software(), edited_by(software())), Ok(()), "allowed by default");
        let reviewed = Policy { four_eyes: true, software_submits: false };
        let refused = may_send(reviewed, software(), edited_by(software())).unwrap_err();
        assert!(refused.detail.contains("software does not send on its own"), "{refused}");
        assert_eq!(may_send(reviewed, software(), approved_by(software(), 2)), Ok(()));
        let no_four_eyes = Policy { four_eyes: false, software_submits: false };
        assert!(may_send(no_four_eyes, software(), edited_by(software())).is_err(), "a setting of its own");
    }

    #[test]
    fn a_person_through_software_is_a_person() {
        let through = Actor { user: Some(Uuid::from_u128(1)), client: Some(Uuid::from_u128(9)) };
        assert!(may_send(ON, through, edited_by(person(1))).is_err());
    }
}
