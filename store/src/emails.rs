//! Email that tells people what is waiting (`docs/emails.md`): the outbox of emails to people, what has been
//! turned into emails already, and each person's choices. The SQL is the same on both engines, compiled for
//! each by [`impl_email_queries`], as `shared.rs` does for the rest.

use async_trait::async_trait;
use provider_api_core::capability::Role;
use provider_api_core::emails::{EmailKind, EmailTrigger, QueuedEmail};
use provider_api_core::notifications::Notification;
use provider_api_core::stored::SpaceList;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// What is marked handled in `email_triggers`: a history entry, or one of a draft's reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKey {
    /// A history entry (of a notification or an application), by its id.
    Event(Uuid),
    /// A draft's reminder (`notification_due` or `notification_late`), by the notification's id.
    Reminder(EmailKind, Uuid),
}

impl TriggerKey {
    pub(crate) fn parts(self) -> (&'static str, Uuid) {
        match self {
            Self::Event(id) => ("event", id),
            Self::Reminder(kind, id) => (kind.as_str(), id),
        }
    }
}

/// A member of an organisation who can receive email: not disabled.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Recipient {
    pub user_id: Uuid,
    pub email: String,
    pub roles: SpaceList<Role>,
    /// `None`: every location of the organisation.
    pub location_ids: Option<SpaceList<Uuid>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OptOut {
    pub(crate) user_id: Uuid,
    pub(crate) kind: EmailKind,
}

#[async_trait]
pub trait EmailStore: Send + Sync {
    /// Up to `limit` history entries at or after `since` that people are emailed about (a review asked for,
    /// the regulator's question on a notification or an application) and that have not been handled, oldest
    /// first.
    async fn unhandled_email_triggers(
        &self,
        since: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<EmailTrigger>, StoreError>;
    /// Up to `limit` drafts started by a person at or after `since` whose late reminder has not been handled,
    /// after `(created_at, id)`, in that order.
    async fn drafts_for_reminders(
        &self,
        since: OffsetDateTime,
        after_created: OffsetDateTime,
        after_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Marks `key` handled at `at` and queues `emails`, atomically: `false` (and nothing queued) when it was
    /// handled already. An email whose `(kind, source_id, user_id)` is queued already is not queued again.
    async fn queue_emails(
        &self,
        key: TriggerKey,
        at: OffsetDateTime,
        emails: &[QueuedEmail],
    ) -> Result<bool, StoreError>;
    /// Whether `key` has been handled.
    async fn email_trigger_handled(&self, key: TriggerKey) -> Result<bool, StoreError>;
    /// The organisation's members who can receive email, and the kinds each has chosen not to.
    async fn email_recipients(&self, organisation_id: Uuid) -> Result<Vec<(Recipient, Vec<EmailKind>)>, StoreError>;
    /// Claims the unsent email due soonest (at or before `now`), postponing its next attempt to `retry_at` and
    /// counting the attempt, so two nodes do not send it at once and a send that dies is tried again later.
    async fn claim_email(
        &self,
        now: OffsetDateTime,
        retry_at: OffsetDateTime,
    ) -> Result<Option<QueuedEmail>, StoreError>;
    async fn email_sent(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records a failed attempt: tried again at `retry_at`, or given up at `at` when `retry_at` is `None`.
    async fn email_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Up to `limit` of the organisation's emails queued after `(created_at, id)`, in that order.
    async fn emails_after(
        &self,
        organisation_id: Uuid,
        created_at: OffsetDateTime,
        id: Uuid,
        limit: i64,
    ) -> Result<Vec<QueuedEmail>, StoreError>;
    /// The kinds the person has chosen not to receive.
    async fn email_opt_outs(&self, user_id: Uuid) -> Result<Vec<EmailKind>, StoreError>;
    /// Replaces the kinds the person has chosen not to receive.
    async fn set_email_opt_outs(&self, user_id: Uuid, kinds: &[EmailKind]) -> Result<(), StoreError>;
}

/// Groups opt-outs by person beside each recipient.
pub(crate) fn with_opt_outs(recipients: Vec<Recipient>, opt_outs: Vec<OptOut>) -> Vec<(Recipient, Vec<EmailKind>)> {
    recipients
        .into_iter()
        .map(|r| {
            let kinds = opt_outs.iter().filter(|o| o.user_id == r.user_id).map(|o| o.kind).collect();
            (r, kinds)
        })
        .collect()
}

macro_rules! impl_email_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::emails::EmailStore for $store {
            async fn unhandled_email_triggers(
                &self,
                since: time::OffsetDateTime,
                limit: i64,
            ) -> Result<Vec<provider_api_core::emails::EmailTrigger>, $crate::StoreError> {
                // The WHERE terms repeat the partial indexes' conditions word for word, so both engines use them.
                Ok(sqlx::query(
                    "SELECT e.id, 'notification' AS object_type, n.id AS object_id, n.organisation_id, \
                            n.location_id, e.action, e.at, e.actor_user, e.due_on, n.kind AS notification_type, \
                            n.status, n.reference, n.created_by_user, n.submitted_by_user \
                     FROM notification_events e JOIN notifications n ON n.id = e.notification_id \
                     WHERE e.action IN ('review_requested', 'information_requested') AND e.at >= $1 \
                       AND NOT EXISTS (SELECT 1 FROM email_triggers t WHERE t.kind = 'event' AND t.source_id = e.id) \
                     UNION ALL \
                     SELECT e.id, 'registration_application', a.id, a.organisation_id, NULL, e.action, e.at, \
                            e.actor_user, e.due_on, NULL, a.status, a.reference, a.created_by_user, \
                            a.submitted_by_user \
                     FROM registration_application_events e \
                       JOIN registration_applications a ON a.id = e.application_id \
                     WHERE e.action = 'information_requested' AND e.at >= $1 \
                       AND NOT EXISTS (SELECT 1 FROM email_triggers t WHERE t.kind = 'event' AND t.source_id = e.id) \
                     ORDER BY at LIMIT $2",
                )
                .bind(since)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("notification_events")?)
            }

            async fn drafts_for_reminders(
                &self,
                since: time::OffsetDateTime,
                after_created: time::OffsetDateTime,
                after_id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::notifications::Notification>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT n.* FROM notifications n WHERE n.status = 'draft' AND n.created_at >= $1 \
                     AND (n.created_by_user IS NOT NULL OR n.edited_by_user IS NOT NULL) \
                     AND (n.created_at > $2 OR (n.created_at = $2 AND n.id > $3)) \
                     AND NOT EXISTS (SELECT 1 FROM email_triggers t \
                                     WHERE t.kind = 'notification_late' AND t.source_id = n.id) \
                     ORDER BY n.created_at, n.id LIMIT $4",
                )
                .bind(since)
                .bind(after_created)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("notifications")?)
            }

            async fn queue_emails(
                &self,
                key: $crate::emails::TriggerKey,
                at: time::OffsetDateTime,
                emails: &[provider_api_core::emails::QueuedEmail],
            ) -> Result<bool, $crate::StoreError> {
                let (kind, source_id) = key.parts();
                let mut tx = self.pool.begin().await?;
                let marked = sqlx::query(
                    "INSERT INTO email_triggers (kind, source_id, handled_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (kind, source_id) DO NOTHING",
                )
                .bind(kind)
                .bind(source_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if marked.rows_affected() == 0 {
                    return Ok(false);
                }
                for e in emails {
                    sqlx::query(
                        "INSERT INTO notification_emails (id, organisation_id, user_id, kind, object_type, object_id, \
                         source_id, to_address, subject, body, created_at, next_attempt_at, attempts, last_error, \
                         sent_at, abandoned_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                         ON CONFLICT (kind, source_id, user_id) DO NOTHING",
                    )
                    .bind(e.id)
                    .bind(e.organisation_id)
                    .bind(e.user_id)
                    .bind(e.kind)
                    .bind(&e.object_type)
                    .bind(e.object_id)
                    .bind(e.source_id)
                    .bind(&e.to_address)
                    .bind(&e.subject)
                    .bind(&e.body)
                    .bind(e.created_at)
                    .bind(e.next_attempt_at)
                    .bind(e.attempts)
                    .bind(&e.last_error)
                    .bind(e.sent_at)
                    .bind(e.abandoned_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn email_trigger_handled(&self, key: $crate::emails::TriggerKey) -> Result<bool, $crate::StoreError> {
                let (kind, source_id) = key.parts();
                Ok(sqlx::query("SELECT 1 FROM email_triggers WHERE kind = $1 AND source_id = $2")
                    .bind(kind)
                    .bind(source_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_some())
            }

            async fn email_recipients(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<($crate::emails::Recipient, Vec<provider_api_core::emails::EmailKind>)>, $crate::StoreError>
            {
                let recipients = sqlx::query(
                    "SELECT m.user_id, u.email, m.roles, m.location_ids FROM memberships m \
                     JOIN users u ON u.id = m.user_id WHERE m.organisation_id = $1 AND NOT u.disabled \
                     ORDER BY m.created_at, m.user_id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?
                .decoded("memberships")?;
                let opt_outs = sqlx::query(
                    "SELECT o.user_id, o.kind FROM email_opt_outs o \
                     JOIN memberships m ON m.user_id = o.user_id WHERE m.organisation_id = $1",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?
                .decoded("email_opt_outs")?;
                Ok($crate::emails::with_opt_outs(recipients, opt_outs))
            }

            async fn claim_email(
                &self,
                now: time::OffsetDateTime,
                retry_at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::emails::QueuedEmail>, $crate::StoreError> {
                // As `claim_scan`: the outer condition is checked again on the row, so of two nodes that picked
                // the same email only the first to update it sends it.
                Ok(sqlx::query(
                    "UPDATE notification_emails SET next_attempt_at = $2, attempts = attempts + 1 \
                     WHERE id = (SELECT id FROM notification_emails \
                                 WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1 \
                                 ORDER BY next_attempt_at LIMIT 1) \
                     AND sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1 RETURNING *",
                )
                .bind(now)
                .bind(retry_at)
                .fetch_optional(&self.pool)
                .await?
                .decoded("notification_emails")?)
            }

            async fn email_sent(&self, id: uuid::Uuid, at: time::OffsetDateTime) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE notification_emails SET sent_at = $2, last_error = NULL WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn email_failed(
                &self,
                id: uuid::Uuid,
                error: &str,
                retry_at: Option<time::OffsetDateTime>,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                let query = match retry_at {
                    Some(retry_at) => sqlx::query(
                        "UPDATE notification_emails SET last_error = $2, next_attempt_at = $3 \
                         WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(error)
                    .bind(retry_at),
                    None => sqlx::query(
                        "UPDATE notification_emails SET last_error = $2, abandoned_at = $3 \
                         WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(error)
                    .bind(at),
                };
                query.execute(&self.pool).await?;
                Ok(())
            }

            async fn emails_after(
                &self,
                organisation_id: uuid::Uuid,
                created_at: time::OffsetDateTime,
                id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::emails::QueuedEmail>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM notification_emails WHERE organisation_id = $1 \
                     AND (created_at > $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at, id LIMIT $4",
                )
                .bind(organisation_id)
                .bind(created_at)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("notification_emails")?)
            }

            async fn email_opt_outs(
                &self,
                user_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::emails::EmailKind>, $crate::StoreError> {
                let rows: Vec<$crate::emails::OptOut> =
                    sqlx::query("SELECT user_id, kind FROM email_opt_outs WHERE user_id = $1 ORDER BY kind")
                        .bind(user_id)
                        .fetch_all(&self.pool)
                        .await?
                        .decoded("email_opt_outs")?;
                Ok(rows.into_iter().map(|o| o.kind).collect())
            }

            async fn set_email_opt_outs(
                &self,
                user_id: uuid::Uuid,
                kinds: &[provider_api_core::emails::EmailKind],
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM email_opt_outs WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for kind in kinds {
                    sqlx::query("INSERT INTO email_opt_outs (user_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(user_id)
                        .bind(kind)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_email_queries;
