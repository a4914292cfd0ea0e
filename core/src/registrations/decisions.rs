//! The regulator's decision on an application, as pure rules (Health and Social Care Act 2008, sections 26 to
//! 28): refusing, or granting with conditions, needs a notice of proposal first; the applicant then has 28
//! days from service to make representations, and no decision is made while that window is open unless they
//! have; a decision may impose only conditions that were proposed, refuse only what was proposed for refusal,
//! and is served no earlier than the proposal it follows.

use std::collections::BTreeSet;

use time::Date;

use super::model::{DecisionKind, Proposal, ProposalKind, Status};
use crate::transition::TransitionError;

/// Why a decision cannot be made now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("refusing, or granting with conditions, needs a notice of proposal first")]
    ProposalRequired,
    #[error("the applicant may make representations until {due}")]
    RepresentationsWindowOpen { due: Date },
    #[error("conditions can be imposed only as proposed")]
    ConditionsNotProposed,
    #[error("a refusal must follow a notice of proposal to refuse")]
    RefusalNotProposed,
    #[error("a notice of decision cannot be served before the notice of proposal it follows")]
    ServedBeforeProposal,
}

/// Whether the applicant may still make representations on `proposal` on `today` (a date in England).
pub fn representations_open(proposal: &Proposal, today: Date) -> bool {
    proposal.representations_made_at.is_none() && today <= proposal.representations_due_on
}

/// The status a decision of `kind` moves an application in status `from` to, if it may be made on `today`
/// (served on `served_on`, imposing `conditions`) after `proposal`, the notice of proposal if there was one.
pub fn decide(
    from: Status,
    proposal: Option<&Proposal>,
    kind: DecisionKind,
    conditions: &[String],
    served_on: Date,
    today: Date,
) -> Result<Status, DecisionError> {
    if kind != DecisionKind::Grant && matches!(from, Status::UnderAssessment | Status::InformationRequested) {
        return Err(DecisionError::ProposalRequired);
    }
    let target = if kind == DecisionKind::Refuse { Status::Refused } else { Status::Granted };
    let next = from.transition(target)?;
    if let (Some(proposal), Status::ProposalIssued) = (proposal, from) {
        if representations_open(proposal, today) {
            return Err(DecisionError::RepresentationsWindowOpen { due: proposal.representations_due_on });
        }
        let proposed: BTreeSet<&str> = proposal.conditions.iter().map(String::as_str).collect();
        if kind == DecisionKind::GrantWithConditions && !conditions.iter().all(|c| proposed.contains(c.trim())) {
            return Err(DecisionError::ConditionsNotProposed);
        }
        if served_on < proposal.served_on {
            return Err(DecisionError::ServedBeforeProposal);
        }
        if kind == DecisionKind::Refuse && proposal.proposal != ProposalKind::Refuse {
            return Err(DecisionError::RefusalNotProposed);
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn proposal(kind: ProposalKind, conditions: &[&str]) -> Proposal {
        Proposal {
            proposal: kind,
            conditions: conditions.iter().map(|c| (*c).to_owned()).collect(),
            reasons: "Reasons.".to_owned(),
            served_on: date!(2026 - 06 - 16),
            representations_due_on: date!(2026 - 07 - 14),
            representations_made_at: None,
        }
    }

    const AFTER: Date = date!(2026 - 07 - 15);

    #[test]
    fn refusing_or_imposing_conditions_needs_a_proposal_first() {
        for kind in [DecisionKind::Refuse, DecisionKind::GrantWithConditions] {
            assert_eq!(
                decide(Status::UnderAssessment, None, kind, &[], AFTER, AFTER),
                Err(DecisionError::ProposalRequired)
            );
        }
        assert_eq!(decide(Status::UnderAssessment, None, DecisionKind::Grant, &[], AFTER, AFTER), Ok(Status::Granted));
    }

    #[test]
    fn no_decision_while_the_window_is_open_unless_representations_were_made() {
        let notice = proposal(ProposalKind::Refuse, &[]);
        let last_day = date!(2026 - 07 - 14);
        assert_eq!(
            decide(Status::ProposalIssued, Some(&notice), DecisionKind::Refuse, &[], last_day, last_day),
            Err(DecisionError::RepresentationsWindowOpen { due: last_day })
        );
        assert_eq!(
            decide(Status::ProposalIssued, Some(&notice), DecisionKind::Refuse, &[], AFTER, AFTER),
            Ok(Status::Refused)
        );
        let answered =
            Proposal { representations_made_at: Some(time::macros::datetime!(2026-06-20 10:00 UTC)), ..notice };
        assert_eq!(
            decide(Status::ProposalIssued, Some(&answered), DecisionKind::Refuse, &[], last_day, last_day),
            Ok(Status::Refused)
        );
    }

    #[test]
    fn only_proposed_conditions_and_only_a_proposed_refusal() {
        let notice = proposal(ProposalKind::GrantWithConditions, &["No more than 40 people."]);
        let kind = DecisionKind::GrantWithConditions;
        let ok = ["  No more than 40 people. ".to_owned()];
        assert_eq!(decide(Status::ProposalIssued, Some(&notice), kind, &ok, AFTER, AFTER), Ok(Status::Granted));
        let new = ["No more than 30 people.".to_owned()];
        assert_eq!(
            decide(Status::ProposalIssued, Some(&notice), kind, &new, AFTER, AFTER),
            Err(DecisionError::ConditionsNotProposed)
        );
        assert_eq!(
            decide(Status::ProposalIssued, Some(&notice), DecisionKind::Refuse, &[], AFTER, AFTER),
            Err(DecisionError::RefusalNotProposed)
        );
    }

    #[test]
    fn a_decision_is_not_served_before_its_proposal() {
        let notice = proposal(ProposalKind::Refuse, &[]);
        assert_eq!(
            decide(Status::ProposalIssued, Some(&notice), DecisionKind::Refuse, &[], date!(2026 - 06 - 15), AFTER),
            Err(DecisionError::ServedBeforeProposal)
        );
    }

    #[test]
    fn a_decided_application_takes_no_second_decision() {
        assert!(matches!(
            decide(Status::Granted, None, DecisionKind::Grant, &[], AFTER, AFTER),
            Err(DecisionError::Transition(_))
        ));
    }
}
