//! The rule both notifications and registration applications submit under: four eyes. An organisation may
//! require that a second person reviews what is sent to the regulator; then a person may not submit what they
//! were the last to edit, nor write and send in one step. Software acting as itself submits under the scope
//! an admin granted it, so the rule is about people.

use crate::actor::Actor;

/// Refused by the four-eyes rule: what the person should do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct FourEyes {
    pub detail: String,
}

/// Whether `submitter` may send `what` ("notification", "application"): `last_editor` is who last edited it,
/// `None` when the submitter is writing it in the same step.
pub fn four_eyes(required: bool, submitter: Actor, last_editor: Option<Actor>, what: &str) -> Result<(), FourEyes> {
    if !required || submitter.user.is_none() {
        return Ok(());
    }
    match last_editor {
        None => Err(FourEyes {
            detail: "This organisation requires a second person to review before submission: create a draft instead."
                .to_owned(),
        }),
        Some(editor) if editor.user == submitter.user => Err(FourEyes {
            detail: format!("You were the last to edit this {what}; a colleague must review and submit it."),
        }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn person(id: u128) -> Actor {
        Actor { user: Some(Uuid::from_u128(id)), client: None }
    }

    #[test]
    fn without_the_setting_anyone_may_submit_anything() {
        assert_eq!(four_eyes(false, person(1), Some(person(1)), "notification"), Ok(()));
        assert_eq!(four_eyes(false, person(1), None, "notification"), Ok(()));
    }

    #[test]
    fn a_person_may_not_send_what_they_last_edited() {
        let refused = four_eyes(true, person(1), Some(person(1)), "application").unwrap_err();
        assert!(refused.detail.contains("last to edit this application"), "{refused}");
        assert_eq!(four_eyes(true, person(2), Some(person(1)), "application"), Ok(()), "a colleague may");
    }

    #[test]
    fn a_person_may_not_write_and_send_in_one_step() {
        let refused = four_eyes(true, person(1), None, "notification").unwrap_err();
        assert!(refused.detail.contains("create a draft instead"), "{refused}");
    }

    #[test]
    fn software_acting_as_itself_is_not_a_person() {
        let software = Actor { user: None, client: Some(Uuid::from_u128(9)) };
        assert_eq!(four_eyes(true, software, Some(software), "notification"), Ok(()));
        assert_eq!(four_eyes(true, software, None, "notification"), Ok(()));
        // A person through an integrator's software is a person.
        let through = Actor { user: Some(Uuid::from_u128(1)), client: Some(Uuid::from_u128(9)) };
        assert!(four_eyes(true, through, Some(person(1)), "notification").is_err());
    }
}
