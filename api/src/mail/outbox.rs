//! Email that tells people what is waiting (`docs/emails.md`), as a background worker on every node:
//!
//! 1. **Queue** from what has happened: the history entries people hear about (a review asked for, the
//!    regulator's question) are read back from the histories, which are written in the same transaction as
//!    the change, so nothing committed is missed and nothing uncommitted is told. Each is turned into one email
//!    per person it concerns and marked handled, in one transaction: handled once, whichever node gets there.
//! 2. **Remind** about drafts whose deadline is near or past, once a minute.
//! 3. **Send** what is queued, one claimed email at a time, retrying with back-off: a slow or absent SMTP
//!    server delays email, never a request, and a crash loses nothing (an email claimed by a node that died
//!    is claimed again when its lease runs out). An SMTP server that accepted a message just before the
//!    node died may be given it again: at least once, never zero times.
//!
//! A request that causes an email wakes the worker on its node; other nodes find it at their next poll.

use std::sync::Arc;
use std::time::Duration;

use provider_api_core::clock::Clock;
use provider_api_core::emails::{self, Candidate, EmailChoices, EmailKind, EmailTrigger, QueuedEmail, Subject};
use provider_api_core::notifications::model::Notification;
use provider_api_store::emails::TriggerKey;
use provider_api_store::{Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

use super::messages::{self, Message};
use super::{Mail, Mailer};

/// How far back the worker looks for history entries not yet emailed about: a node down longer than this
/// does not email about what happened before.
const LOOKBACK: time::Duration = time::Duration::days(7);
/// How often drafts are checked for deadline reminders.
const REMINDER_SWEEP: time::Duration = time::Duration::MINUTE;
/// An email claimed by a node that has not reported after this long (it died) is tried again.
const SEND_LEASE: time::Duration = time::Duration::minutes(5);
/// Attempts before an email is given up (recorded, with the last error, in the organisation's email log):
/// with the back-off below, about two days of trying.
const ATTEMPTS: i64 = 60;
/// Rows read per query.
const BATCH: i64 = 100;

/// The handle requests use to wake the worker.
#[derive(Debug, Default)]
pub struct EmailQueue {
    wake: Notify,
}

impl EmailQueue {
    /// Something people should hear about was just committed: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Everything the worker needs.
pub struct EmailWorker {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<EmailQueue>,
    /// Where the links lead (`AppState::portal_url`).
    pub portal_url: Option<String>,
    /// How often it looks when nothing wakes it (`Config::email_poll`).
    pub poll: Duration,
}

impl EmailWorker {
    /// Runs until the task is aborted.
    pub async fn run_forever(self) {
        let mut last_sweep: Option<OffsetDateTime> = None;
        loop {
            if let Err(error) = self.queue_from_histories().await {
                tracing::warn!(%error, "could not queue emails from the histories");
            }
            let now = self.clock.now();
            if last_sweep.is_none_or(|at| now - at >= REMINDER_SWEEP) {
                match self.queue_reminders(now).await {
                    Ok(()) => last_sweep = Some(now),
                    Err(error) => tracing::warn!(%error, "could not queue deadline reminders"),
                }
            }
            loop {
                match self.send_next().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(error) => {
                        tracing::warn!(%error, "the email sender could not reach the database");
                        break;
                    }
                }
            }
            tokio::select! {
                () = self.queue.wake.notified() => {},
                () = tokio::time::sleep(self.poll) => {},
            }
        }
    }

    /// Turns every unhandled history entry people hear about into emails. One that cannot be handled (it is
    /// logged) does not hold up the others; it is tried again at the next poll.
    pub async fn queue_from_histories(&self) -> Result<(), StoreError> {
        loop {
            let since = self.clock.now() - LOOKBACK;
            let triggers = self.store.unhandled_email_triggers(since, BATCH).await?;
            let mut failed = false;
            for trigger in &triggers {
                if let Err(error) = self.queue_trigger(trigger).await {
                    tracing::warn!(event = %trigger.id, %error, "could not queue the emails about a history entry");
                    failed = true;
                }
            }
            // A batch with a failure is not read again at once: it would only fail again.
            if failed || triggers.len() < BATCH as usize {
                return Ok(());
            }
        }
    }

    async fn queue_trigger(&self, trigger: &EmailTrigger) -> Result<(), StoreError> {
        // Each kind, the status in which it still waits for someone, and whose it is.
        let (kind, waiting, involved) = match (trigger.object_type.as_str(), trigger.action.as_str()) {
            ("notification", "review_requested") => (EmailKind::ReviewWaiting, "draft", None),
            ("notification", "information_requested") => {
                (EmailKind::QuestionAsked, "information_requested", trigger.submitted_by_user)
            }
            ("registration_application", "information_requested") => {
                (EmailKind::RegistrationInformationRequested, "information_requested", trigger.created_by_user)
            }
            _ => return Ok(()),
        };
        // Dealt with since (a draft sent, a question answered: after an outage, say): nobody needs telling.
        let queued = if trigger.status == waiting {
            let subject =
                Subject { location_id: trigger.location_id, actor: trigger.actor_user, involved: [involved, None] };
            let message = messages::for_trigger(kind, trigger);
            self.addressed(kind, &subject, &message, trigger).await?
        } else {
            Vec::new()
        };
        self.store.queue_emails(TriggerKey::Event(trigger.id), self.clock.now(), &queued).await?;
        Ok(())
    }

    /// Queues the reminders drafts have reached at `now`.
    pub async fn queue_reminders(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        let since = now - emails::REMINDER_HORIZON;
        let (mut after_created, mut after_id) = (since - time::Duration::SECOND, Uuid::nil());
        loop {
            let drafts = self.store.drafts_for_reminders(since, after_created, after_id, BATCH).await?;
            let done = drafts.len() < BATCH as usize;
            for draft in &drafts {
                self.remind(draft, now).await?;
            }
            match drafts.last() {
                Some(last) if !done => (after_created, after_id) = (last.created_at, last.id),
                _ => return Ok(()),
            }
        }
    }

    async fn remind(&self, draft: &Notification, now: OffsetDateTime) -> Result<(), StoreError> {
        let kind = draft.kind;
        let deadline = kind.info().deadline;
        let Some(reminder) = emails::reminder(deadline, draft.created_at, now) else { return Ok(()) };
        let key = TriggerKey::Reminder(reminder, draft.id);
        if reminder == EmailKind::NotificationDue && self.store.email_trigger_handled(key).await? {
            return Ok(());
        }
        let subject = Subject {
            location_id: draft.location_id,
            actor: None,
            involved: [draft.created_by_user, draft.edited_by_user],
        };
        let due_at = emails::due_at(deadline, draft.created_at).expect("a reminder has a deadline");
        let message = messages::reminder(reminder, draft, deadline, due_at);
        let trigger = EmailTrigger {
            id: draft.id,
            object_type: "notification".to_owned(),
            object_id: draft.id,
            organisation_id: draft.organisation_id,
            location_id: draft.location_id,
            action: reminder.as_str().to_owned(),
            at: now,
            actor_user: None,
            due_on: None,
            notification_type: Some(kind.as_str().to_owned()),
            status: "draft".to_owned(),
            reference: None,
            created_by_user: draft.created_by_user,
            submitted_by_user: None,
        };
        let queued = self.addressed(reminder, &subject, &message, &trigger).await?;
        self.store.queue_emails(key, now, &queued).await?;
        Ok(())
    }

    /// One email for each member of the trigger's organisation `kind` goes to. The trigger's id is the emails'
    /// source: a history entry's, or for a reminder the draft's.
    async fn addressed(
        &self,
        kind: EmailKind,
        subject: &Subject,
        message: &Message,
        trigger: &EmailTrigger,
    ) -> Result<Vec<QueuedEmail>, StoreError> {
        let (organisation_id, source_id) = (trigger.organisation_id, trigger.id);
        let now = self.clock.now();
        let organisation = self.store.organisation(organisation_id).await?;
        let organisation_name = organisation.map(|o| o.name).unwrap_or_default();
        let recipients = self.store.email_recipients(organisation_id).await?;
        Ok(recipients
            .into_iter()
            .filter(|(recipient, opted_out)| {
                let candidate = Candidate {
                    user_id: recipient.user_id,
                    roles: recipient.roles.0.clone(),
                    locations: recipient.location_ids.as_ref().map(|l| l.0.clone()),
                    choices: EmailChoices { opted_out: opted_out.iter().copied().collect() },
                };
                emails::receives(kind, &candidate, subject)
            })
            .map(|(recipient, _)| QueuedEmail {
                id: Uuid::now_v7(),
                organisation_id,
                user_id: recipient.user_id,
                kind,
                object_type: trigger.object_type.clone(),
                object_id: trigger.object_id,
                source_id,
                to_address: recipient.email,
                subject: message.subject.clone(),
                body: message.body(&organisation_name, self.portal_url.as_deref()),
                created_at: now,
                next_attempt_at: now,
                attempts: 0,
                last_error: None,
                sent_at: None,
                abandoned_at: None,
            })
            .collect())
    }

    /// Sends the email due soonest, if one is due; `true` when there was one (so there may be more).
    pub async fn send_next(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let Some(email) = self.store.claim_email(now, now + SEND_LEASE).await? else { return Ok(false) };
        let mail = Mail { to: email.to_address.clone(), subject: email.subject.clone(), body: email.body.clone() };
        match self.mailer.send(mail).await {
            Ok(()) => self.store.email_sent(email.id, self.clock.now()).await?,
            Err(error) => {
                let at = self.clock.now();
                // A refusal for good (no such mailbox) is not tried again; anything else is, for a while.
                let retry_at =
                    (error.is_transient() && email.attempts < ATTEMPTS).then(|| at + backoff(email.attempts));
                tracing::warn!(email = %email.id, attempts = email.attempts, %error, gave_up = retry_at.is_none(), "an email could not be sent");
                self.store.email_failed(email.id, &error.to_string(), retry_at, at).await?;
            }
        }
        Ok(true)
    }
}

/// 2 s, 4 s, 8 s, … up to an hour between attempts.
fn backoff(attempts: i64) -> time::Duration {
    time::Duration::seconds(1 << attempts.clamp(1, 12)).min(time::Duration::HOUR)
}
