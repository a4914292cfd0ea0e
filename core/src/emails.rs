//! Email that tells people what is waiting (`docs/emails.md`): which kinds there are, the record of each one
//! queued and sent, each person's choices, and when a draft's deadline reminder is due. The sending and the
//! words are the API's (`api/src/mail`).

use std::collections::BTreeSet;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::capability::Role;
use crate::notifications::catalogue::Deadline;

/// What an email is about. Invitations and password resets are not here: they are answers to what the person
/// asked for, always sent, and not recorded as these are.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// A colleague asked for a draft notification to be reviewed and sent.
    ReviewWaiting,
    /// The regulator asked a question about a sent notification.
    QuestionAsked,
    /// A draft notification's deadline is near.
    NotificationDue,
    /// A draft notification's deadline has passed.
    NotificationLate,
    /// The regulator asked for information about a registration application.
    RegistrationInformationRequested,
}

impl EmailKind {
    pub const ALL: &'static [Self] = &[
        Self::ReviewWaiting,
        Self::QuestionAsked,
        Self::NotificationDue,
        Self::NotificationLate,
        Self::RegistrationInformationRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReviewWaiting => "review_waiting",
            Self::QuestionAsked => "question_asked",
            Self::NotificationDue => "notification_due",
            Self::NotificationLate => "notification_late",
            Self::RegistrationInformationRequested => "registration_information_requested",
        }
    }
}

named_by_serde!(EmailKind, "email kind");

/// One email to one person, from queued to sent. The subject and body are written when it is queued (they
/// carry a reference, a type's title, a date and a link, never a form's content), so a node that sends it
/// later, or after a restart, sends exactly what was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct QueuedEmail {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub kind: EmailKind,
    /// `notification` or `registration_application`.
    pub object_type: String,
    pub object_id: Uuid,
    /// What caused it: a history entry's id, or (for a reminder) the notification's id. With `kind` and
    /// `user_id`, unique: nobody is told the same thing twice.
    pub source_id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
    /// Set when it will not be sent: the attempts ran out.
    pub abandoned_at: Option<OffsetDateTime>,
}

/// Something that happened which people should hear about, read from a history (notifications' or
/// applications'), not yet turned into emails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EmailTrigger {
    /// The history entry's id.
    pub id: Uuid,
    /// `notification` or `registration_application`.
    pub object_type: String,
    pub object_id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Option<Uuid>,
    /// The history entry's action (`review_requested`, `information_requested`).
    pub action: String,
    pub at: OffsetDateTime,
    pub actor_user: Option<Uuid>,
    pub due_on: Option<String>,
    /// The notification's type code, or `None` for an application.
    pub notification_type: Option<String>,
    /// The object's status now: what happened may have been dealt with since (a question answered, a draft
    /// sent), and then nobody is emailed about it.
    pub status: String,
    pub reference: Option<String>,
    pub created_by_user: Option<Uuid>,
    pub submitted_by_user: Option<Uuid>,
}

/// How long before a deadline the reminder that it is near goes out: a day, or half the time allowed when
/// that is less.
const DUE_LEAD: Duration = Duration::DAY;

/// The time allowed from when a draft was started. The regulations' "without delay" sets no number of
/// hours; the regulator's guidance expects such notifications within 24 hours of the provider becoming
/// aware, so 24 hours is what the reminders count to. Deadlines that depend on what the form says (an
/// outcome becoming known, a planned absence's start) have no time to count from in an unfinished draft, so
/// they get no reminders.
pub fn time_allowed(deadline: Deadline) -> Option<Duration> {
    match deadline {
        Deadline::WithoutDelay => Some(Duration::DAY),
        Deadline::AsSoonAsReasonablyPracticable => Some(Duration::days(3)),
        Deadline::Within28Days => Some(Duration::days(28)),
        Deadline::WhenOutcomeKnown | Deadline::AsStatedForAbsence => None,
    }
}

/// Which reminder, if any, a draft started at `started` under `deadline` has reached at `now`: `Late` once
/// the time allowed has passed, `Due` from the lead time before it.
pub fn reminder(deadline: Deadline, started: OffsetDateTime, now: OffsetDateTime) -> Option<EmailKind> {
    let allowed = time_allowed(deadline)?;
    let due_at = started + allowed;
    if now >= due_at {
        Some(EmailKind::NotificationLate)
    } else if now >= due_at - DUE_LEAD.min(allowed / 2) {
        Some(EmailKind::NotificationDue)
    } else {
        None
    }
}

/// When the time allowed for a draft started at `started` runs out, if it can be known.
pub fn due_at(deadline: Deadline, started: OffsetDateTime) -> Option<OffsetDateTime> {
    time_allowed(deadline).map(|allowed| started + allowed)
}

/// How far back the reminder sweep looks: drafts started longer ago than the longest time allowed plus this
/// have had their late reminder, or were started before reminders existed.
pub const REMINDER_HORIZON: Duration = Duration::days(35);

/// A person's choices: the kinds they do not want. Everything is sent unless they say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailChoices {
    pub opted_out: std::collections::BTreeSet<EmailKind>,
}

impl EmailChoices {
    pub fn wants(&self, kind: EmailKind) -> bool {
        !self.opted_out.contains(&kind)
    }
}

/// A member of the organisation the email might go to.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub user_id: Uuid,
    pub roles: BTreeSet<Role>,
    /// `None`: every location.
    pub locations: Option<BTreeSet<Uuid>>,
    pub choices: EmailChoices,
}

/// What the email is about, as far as choosing who hears of it goes.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    /// The location the notification concerns (`None`: the whole provider, or an application).
    pub location_id: Option<Uuid>,
    /// The person whose action caused it (they are not told of their own action).
    pub actor: Option<Uuid>,
    /// The people it is theirs, for this kind: who sent a notification the regulator asks about, who
    /// started or last edited a draft, who started an application.
    pub involved: [Option<Uuid>; 2],
}

/// Whether `candidate` is told about `subject` by an email of `kind`: they have not chosen otherwise, can see
/// the object, did not cause it, and are who the kind is for: a draft waiting for review goes to the
/// submitters; the regulator's question on a notification, to its sender and the submitters; a deadline
/// reminder, to whoever started or last edited the draft (if they can still prepare it); a request about an
/// application, to whoever started it and the organisation's admins.
///
/// Seeing it is the API's rule: someone whose access is limited to some locations sees only what concerns
/// one of them, never what concerns the whole provider (a notification without a location, an application).
pub fn receives(kind: EmailKind, candidate: &Candidate, subject: &Subject) -> bool {
    let sees = match &candidate.locations {
        Some(allowed) => subject.location_id.is_some_and(|location| allowed.contains(&location)),
        None => true,
    };
    let involved = subject.involved.contains(&Some(candidate.user_id));
    let prepares = candidate.roles.contains(&Role::Drafter) || candidate.roles.contains(&Role::Submitter);
    let for_them = match kind {
        EmailKind::ReviewWaiting => candidate.roles.contains(&Role::Submitter),
        EmailKind::QuestionAsked => candidate.roles.contains(&Role::Submitter) || involved,
        EmailKind::NotificationDue | EmailKind::NotificationLate => involved && prepares,
        EmailKind::RegistrationInformationRequested => candidate.roles.contains(&Role::Admin) || involved,
    };
    for_them && sees && subject.actor != Some(candidate.user_id) && candidate.choices.wants(kind)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const STARTED: OffsetDateTime = datetime!(2026-03-28 09:00 UTC);

    #[test]
    fn without_delay_is_due_after_twelve_hours_and_late_after_a_day() {
        let at = |hours: i64| reminder(Deadline::WithoutDelay, STARTED, STARTED + Duration::hours(hours));
        assert_eq!(at(0), None);
        assert_eq!(at(11), None);
        assert_eq!(at(12), Some(EmailKind::NotificationDue));
        assert_eq!(at(23), Some(EmailKind::NotificationDue));
        assert_eq!(at(24), Some(EmailKind::NotificationLate));
        assert_eq!(at(24 * 40), Some(EmailKind::NotificationLate));
    }

    #[test]
    fn twenty_eight_days_is_due_the_day_before() {
        let at = |days: i64| reminder(Deadline::Within28Days, STARTED, STARTED + Duration::days(days));
        assert_eq!(at(26), None);
        assert_eq!(at(27), Some(EmailKind::NotificationDue));
        assert_eq!(at(28), Some(EmailKind::NotificationLate));
    }

    #[test]
    fn counts_elapsed_time_across_the_clock_change() {
        // 29 March 2026 01:00 UTC the clocks in England go forward: 24 hours elapsed is still late, though
        // the wall clock says 25 hours have passed.
        let started = datetime!(2026-03-28 12:00 UTC);
        assert_eq!(
            reminder(Deadline::WithoutDelay, started, datetime!(2026-03-29 11:59 UTC)),
            Some(EmailKind::NotificationDue)
        );
        assert_eq!(
            reminder(Deadline::WithoutDelay, started, datetime!(2026-03-29 12:00 UTC)),
            Some(EmailKind::NotificationLate)
        );
    }

    #[test]
    fn deadlines_set_by_the_form_get_no_reminder() {
        let much_later = STARTED + Duration::days(100);
        assert_eq!(reminder(Deadline::WhenOutcomeKnown, STARTED, much_later), None);
        assert_eq!(reminder(Deadline::AsStatedForAbsence, STARTED, much_later), None);
    }

    #[test]
    fn the_horizon_covers_the_longest_time_allowed() {
        let longest = [Deadline::WithoutDelay, Deadline::AsSoonAsReasonablyPracticable, Deadline::Within28Days]
            .into_iter()
            .filter_map(time_allowed)
            .max()
            .unwrap();
        assert!(REMINDER_HORIZON > longest);
    }

    fn member(n: u128, roles: &[Role], locations: Option<&[u128]>) -> Candidate {
        Candidate {
            user_id: Uuid::from_u128(n),
            roles: roles.iter().copied().collect(),
            locations: locations.map(|l| l.iter().map(|&id| Uuid::from_u128(id)).collect()),
            choices: EmailChoices::default(),
        }
    }

    fn about(location: Option<u128>, actor: u128, involved: &[u128]) -> Subject {
        let mut people = [None; 2];
        for (slot, &n) in people.iter_mut().zip(involved) {
            *slot = Some(Uuid::from_u128(n));
        }
        Subject { location_id: location.map(Uuid::from_u128), actor: Some(Uuid::from_u128(actor)), involved: people }
    }

    #[test]
    fn a_review_goes_to_the_other_submitters_who_can_see_the_location() {
        let draft = about(Some(50), 1, &[1]);
        assert!(!receives(EmailKind::ReviewWaiting, &member(1, &[Role::Submitter], None), &draft), "not the asker");
        assert!(receives(EmailKind::ReviewWaiting, &member(2, &[Role::Submitter], None), &draft));
        assert!(receives(EmailKind::ReviewWaiting, &member(3, &[Role::Submitter], Some(&[50])), &draft));
        assert!(!receives(EmailKind::ReviewWaiting, &member(4, &[Role::Submitter], Some(&[51])), &draft));
        assert!(!receives(EmailKind::ReviewWaiting, &member(5, &[Role::Drafter, Role::Admin], None), &draft));
        // A draft about the whole provider is hidden from anyone limited to some locations: so is its email.
        let provider_wide = about(None, 1, &[1]);
        assert!(!receives(EmailKind::ReviewWaiting, &member(4, &[Role::Submitter], Some(&[51])), &provider_wide));
        assert!(receives(EmailKind::ReviewWaiting, &member(2, &[Role::Submitter], None), &provider_wide));
    }

    #[test]
    fn nobody_is_sent_a_kind_they_chose_not_to_receive() {
        let mut submitter = member(2, &[Role::Submitter], None);
        submitter.choices.opted_out.insert(EmailKind::ReviewWaiting);
        assert!(!receives(EmailKind::ReviewWaiting, &submitter, &about(None, 1, &[1])));
        assert!(receives(EmailKind::QuestionAsked, &submitter, &about(None, 9, &[1])));
    }

    #[test]
    fn reminders_go_to_whoever_is_preparing_the_draft() {
        let draft = Subject { actor: None, ..about(None, 0, &[1, 2]) };
        assert!(receives(EmailKind::NotificationLate, &member(1, &[Role::Drafter], None), &draft));
        assert!(receives(EmailKind::NotificationDue, &member(2, &[Role::Submitter], None), &draft));
        assert!(!receives(EmailKind::NotificationDue, &member(3, &[Role::Submitter], None), &draft));
        assert!(!receives(EmailKind::NotificationDue, &member(1, &[Role::Viewer], None), &draft), "no longer prepares");
    }

    #[test]
    fn questions_go_to_the_sender_and_the_submitters_and_application_requests_to_admins() {
        let sent = about(None, 99, &[1]);
        assert!(receives(EmailKind::QuestionAsked, &member(1, &[Role::Drafter], None), &sent));
        assert!(receives(EmailKind::QuestionAsked, &member(2, &[Role::Submitter], None), &sent));
        assert!(!receives(EmailKind::QuestionAsked, &member(3, &[Role::Viewer], None), &sent));
        let application = about(None, 99, &[1]);
        let kind = EmailKind::RegistrationInformationRequested;
        assert!(receives(kind, &member(1, &[Role::Drafter], None), &application));
        assert!(receives(kind, &member(4, &[Role::Admin], None), &application));
        assert!(!receives(kind, &member(2, &[Role::Submitter], None), &application));
        assert!(!receives(kind, &member(5, &[Role::Admin], Some(&[50])), &application), "registration is unlimited");
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in EmailKind::ALL {
            assert_eq!(kind.as_str().parse::<EmailKind>(), Ok(*kind));
        }
        assert!("weekly_digest".parse::<EmailKind>().is_err());
    }
}
