//! The words of the emails that tell people what is waiting. They carry no health data: a reference, a date
//! and a link only; never the notification's type (which says what happened: a death, an injury), a form's
//! content, a name from a form, the regulator's question itself (which may name people) or a document's name. The link leads to the portal, where the
//! person signs in to see the rest.

use provider_api_core::clock::england_offset;
use provider_api_core::emails::{EmailKind, EmailTrigger};
use provider_api_core::notifications::catalogue::Deadline;
use provider_api_core::notifications::model::Notification;
use time::OffsetDateTime;
use time::macros::format_description;

/// The portal's page for choosing which of these emails to receive.
pub const SETTINGS_PAGE: &str = "/settings/emails";

/// An email's subject and what its body says before the standard ending.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    /// The opening: what is waiting, for the organisation named.
    lead: String,
    /// Facts, one a line: type, reference, date.
    facts: Vec<String>,
    /// The portal page where the person acts (a path), and what to do there.
    link: Option<(String, &'static str)>,
    /// Where to act without a portal.
    otherwise: String,
    why: &'static str,
}

impl Message {
    /// The body for the members of `organisation`, with links into `portal` when there is one.
    pub fn body(&self, organisation: &str, portal: Option<&str>) -> String {
        let mut body = format!("{}\n\nOrganisation: {organisation}\n", self.lead);
        for fact in &self.facts {
            body.push_str(fact);
            body.push('\n');
        }
        match (&self.link, portal) {
            (Some((path, action)), Some(portal)) => body.push_str(&format!("\n{action}:\n\n{portal}{path}\n")),
            _ => body.push_str(&format!("\n{}\n", self.otherwise)),
        }
        let gives = if self.facts.is_empty() { "a link" } else { "a reference and a link" };
        body.push_str(&format!(
            "\nFor your privacy this email gives only {gives}: sign in to see the rest.\n\n\
             You are receiving this because {}.",
            self.why
        ));
        if let Some(portal) = portal {
            body.push_str(&format!(" To choose which of these emails you receive:\n\n{portal}{SETTINGS_PAGE}\n"));
        } else {
            body.push('\n');
        }
        body
    }
}

/// "15 December 2026" from `2026-12-15`; the text as given when it is not a date.
fn long_date(iso: &str) -> String {
    time::Date::parse(iso, format_description!("[year]-[month]-[day]"))
        .map(|date| date.format(format_description!("[day padding:none] [month repr:long] [year]")).expect("formats"))
        .unwrap_or_else(|_| iso.to_owned())
}

/// "3:15pm on 15 December 2026", in England's time.
fn england_time(at: OffsetDateTime) -> String {
    let local = at + england_offset(at);
    let hour = local.hour() % 12;
    let hour = if hour == 0 { 12 } else { hour };
    let meridiem = if local.hour() < 12 { "am" } else { "pm" };
    let date =
        local.date().format(format_description!("[day padding:none] [month repr:long] [year]")).expect("formats");
    format!("{hour}:{:02}{meridiem} on {date}", local.minute())
}

/// The email about a history entry.
pub fn for_trigger(kind: EmailKind, trigger: &EmailTrigger) -> Message {
    let id = trigger.object_id;
    let due = trigger.due_on.as_deref().map(long_date);
    match kind {
        EmailKind::ReviewWaiting => Message {
            subject: "A notification is waiting for your review".to_owned(),
            lead: "A colleague has asked you to review a draft notification and send it to the Care Quality \
                   Commission."
                .to_owned(),
            facts: Vec::new(),
            link: Some((format!("/notifications/{id}/check"), "Review it and send it")),
            otherwise: format!("Review it in your care-management software: notification {id}."),
            why: "you can send notifications for this organisation",
        },
        EmailKind::QuestionAsked => {
            let reference = trigger.reference.clone().unwrap_or_else(|| id.to_string());
            Message {
                subject: format!("The Care Quality Commission has a question about notification {reference}"),
                lead: "The Care Quality Commission has asked a question about a notification your organisation \
                       sent."
                    .to_owned(),
                facts: [Some(format!("Reference: {reference}")), due.map(|d| format!("Please answer by: {d}"))]
                    .into_iter()
                    .flatten()
                    .collect(),
                link: Some((format!("/notifications/{id}"), "Read the question and answer it")),
                otherwise: format!("Answer it in your care-management software: notification {id}."),
                why: "you sent this notification or can send notifications for this organisation",
            }
        }
        EmailKind::RegistrationInformationRequested => {
            let reference = trigger.reference.clone().unwrap_or_else(|| id.to_string());
            Message {
                subject: format!("The Care Quality Commission needs more information about application {reference}"),
                lead: "The Care Quality Commission has asked for more information about your registration \
                       application."
                    .to_owned(),
                facts: [
                    Some(format!("Application reference: {reference}")),
                    due.map(|d| format!("Please reply by: {d}")),
                ]
                .into_iter()
                .flatten()
                .collect(),
                // The portal has no registration pages yet: applications are made through software or the API.
                link: None,
                otherwise: format!("Reply where you made the application: application {id}."),
                why: "you made this application or are an administrator of this organisation",
            }
        }
        EmailKind::NotificationDue | EmailKind::NotificationLate => {
            unreachable!("reminders are not history entries: see `reminder`")
        }
    }
}

/// A deadline reminder about `draft`, sent under `deadline`, whose time allowed runs out at `due_at`.
pub fn reminder(kind: EmailKind, draft: &Notification, deadline: Deadline, due_at: OffsetDateTime) -> Message {
    let id = draft.id;
    // The time allowed, in words, as `core::emails::time_allowed` counts it.
    let allowed = match deadline {
        Deadline::WithoutDelay => "without delay (we count a day)",
        Deadline::AsSoonAsReasonablyPracticable => "as soon as reasonably practicable (we count 3 days)",
        _ => "within 28 days",
    };
    let started = england_time(draft.created_at);
    let (subject, lead) = if kind == EmailKind::NotificationLate {
        (
            "A draft notification is late".to_owned(),
            format!(
                "A draft notification started at {started} has not been sent. The law asks for notifications like it \
                 {allowed}, so it was due by {}.",
                england_time(due_at)
            ),
        )
    } else {
        (
            "A draft notification is due soon".to_owned(),
            format!(
                "A draft notification started at {started} has not been sent yet. The law asks for notifications \
                 like it {allowed}, so it is due by {}.",
                england_time(due_at)
            ),
        )
    };
    Message {
        subject,
        lead,
        facts: Vec::new(),
        link: Some((format!("/notifications/{id}"), "Finish it and send it")),
        otherwise: format!("Finish it in your care-management software: notification {id}."),
        why: "you started or last edited this draft",
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_said_in_england() {
        assert_eq!(england_time(datetime!(2026-12-15 15:05 UTC)), "3:05pm on 15 December 2026");
        assert_eq!(england_time(datetime!(2026-07-01 23:30 UTC)), "12:30am on 2 July 2026");
        assert_eq!(long_date("2026-12-15"), "15 December 2026");
    }
}
