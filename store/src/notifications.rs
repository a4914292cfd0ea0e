//! Notification and idempotency queries, written once for both engines (as `shared.rs`).
//!
//! A change to a notification, its history entries and the stored response of the idempotent request that
//! made it are written in one transaction: after a crash either all of it happened (and a retry replays the
//! response) or none of it did (and a retry does the work).

macro_rules! impl_notification_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::NotificationStore for $store {
            async fn insert_notification(
                &self,
                n: &provider_api_core::notifications::Notification,
                events: &[provider_api_core::notifications::Event],
                done: Option<&$crate::idempotency::Completion>,
            ) -> Result<(), $crate::StoreError> {
                if <$store as $crate::Dialect>::ONE_STATEMENT_INSERT {
                    // One statement, so one round trip, instead of five: ingestion is bounded by them.
                    return insert_notification_in_one_statement(&self.pool, n, events, done).await;
                }
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO notifications (id, organisation_id, location_id, kind, status, content, follows_id, \
                     version, created_by_user, created_by_client, edited_by_user, edited_by_client, created_at, \
                     updated_at, reference, submitted_at, submitted_by_user, submitted_by_client, schema_version, \
                     content_sha256, receipt, request_message, request_due_on, outcome, outcome_note, attachments) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                     $21, $22, $23, $24, $25, $26)",
                )
                .bind(n.id)
                .bind(n.organisation_id)
                .bind(n.location_id)
                .bind(&n.kind)
                .bind(&n.status)
                .bind(&n.content)
                .bind(n.follows_id)
                .bind(n.version)
                .bind(n.created_by_user)
                .bind(n.created_by_client)
                .bind(n.edited_by_user)
                .bind(n.edited_by_client)
                .bind(n.created_at)
                .bind(n.updated_at)
                .bind(&n.reference)
                .bind(n.submitted_at)
                .bind(n.submitted_by_user)
                .bind(n.submitted_by_client)
                .bind(n.schema_version)
                .bind(&n.content_sha256)
                .bind(&n.receipt)
                .bind(&n.request_message)
                .bind(&n.request_due_on)
                .bind(&n.outcome)
                .bind(&n.outcome_note)
                .bind(&n.attachments)
                .execute(&mut *tx)
                .await?;
                insert_events(&mut *tx, events).await?;
                if let Some(done) = done {
                    complete(&mut *tx, done).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn notification(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::notifications::Notification>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM notifications WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.decoded("notifications")?)
            }

            async fn update_notification(
                &self,
                n: &provider_api_core::notifications::Notification,
                expected_version: i64,
                events: &[provider_api_core::notifications::Event],
                done: Option<&$crate::idempotency::Completion>,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let updated = sqlx::query(
                    "UPDATE notifications SET location_id = $1, status = $2, content = $3, follows_id = $4, \
                     version = $5, edited_by_user = $6, edited_by_client = $7, updated_at = $8, reference = $9, \
                     submitted_at = $10, submitted_by_user = $11, submitted_by_client = $12, schema_version = $13, \
                     content_sha256 = $14, receipt = $15, request_message = $16, request_due_on = $17, \
                     outcome = $18, outcome_note = $19, attachments = $20, approved_by_user = $23, \
                     approved_version = $24, approved_at = $25 WHERE id = $21 AND version = $22",
                )
                .bind(n.location_id)
                .bind(&n.status)
                .bind(&n.content)
                .bind(n.follows_id)
                .bind(n.version)
                .bind(n.edited_by_user)
                .bind(n.edited_by_client)
                .bind(n.updated_at)
                .bind(&n.reference)
                .bind(n.submitted_at)
                .bind(n.submitted_by_user)
                .bind(n.submitted_by_client)
                .bind(n.schema_version)
                .bind(&n.content_sha256)
                .bind(&n.receipt)
                .bind(&n.request_message)
                .bind(&n.request_due_on)
                .bind(&n.outcome)
                .bind(&n.outcome_note)
                .bind(&n.attachments)
                .bind(n.id)
                .bind(expected_version)
                .bind(n.approved_by_user)
                .bind(n.approved_version)
                .bind(n.approved_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Ok(false);
                }
                insert_events(&mut *tx, events).await?;
                if let Some(done) = done {
                    complete(&mut *tx, done).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn append_notification_event(
                &self,
                event: &provider_api_core::notifications::Event,
            ) -> Result<(), $crate::StoreError> {
                insert_events(&self.pool, std::slice::from_ref(event)).await
            }

            async fn notification_events(
                &self,
                notification_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::notifications::Event>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM notification_events WHERE notification_id = $1 ORDER BY id")
                    .bind(notification_id)
                    .fetch_all(&self.pool)
                    .await?.decoded("notification_events")?)
            }

            async fn notifications(
                &self,
                filter: &provider_api_core::notifications::Filter,
                after_created: time::OffsetDateTime,
                after_id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::notifications::Notification>, $crate::StoreError> {
                let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                    "SELECT * FROM notifications WHERE (created_at, id) > (",
                );
                query.push_bind(after_created).push(", ").push_bind(after_id).push(")");
                if let Some(organisation_id) = filter.organisation_id {
                    query.push(" AND organisation_id = ").push_bind(organisation_id);
                }
                if !filter.statuses.is_empty() {
                    query.push(" AND status IN (");
                    let mut list = query.separated(", ");
                    for status in &filter.statuses {
                        list.push_bind(status.as_str());
                    }
                    query.push(")");
                }
                if let Some(kind) = &filter.kind {
                    query.push(" AND kind = ").push_bind(kind.clone());
                }
                if let Some(locations) = &filter.locations {
                    if locations.is_empty() {
                        query.push(" AND 1 = 0");
                    } else {
                        query.push(" AND location_id IN (");
                        let mut list = query.separated(", ");
                        for location in locations {
                            list.push_bind(*location);
                        }
                        query.push(")");
                    }
                }
                if let Some(at) = filter.created_from {
                    query.push(" AND created_at >= ").push_bind(at);
                }
                if let Some(at) = filter.created_before {
                    query.push(" AND created_at < ").push_bind(at);
                }
                if let Some(at) = filter.submitted_from {
                    query.push(" AND submitted_at >= ").push_bind(at);
                }
                if let Some(at) = filter.submitted_before {
                    query.push(" AND submitted_at < ").push_bind(at);
                }
                if let Some(user) = filter.created_by {
                    query.push(" AND (created_by_user = ").push_bind(user);
                    query.push(" OR created_by_client = ").push_bind(user).push(")");
                }
                query.push(" ORDER BY created_at, id LIMIT ").push_bind(limit);
                Ok(query.build().fetch_all(&self.pool).await?.decoded("notifications")?)
            }

            async fn submission_context(
                &self,
                organisation_id: uuid::Uuid,
                location_id: Option<uuid::Uuid>,
            ) -> Result<Option<$crate::SubmissionContext>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT o.four_eyes, o.software_submits, EXISTS (SELECT 1 FROM locations l WHERE l.organisation_id = o.id \
                     AND l.id = $2) AS location_known, (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE m.organisation_id = o.id AND NOT u.disabled AND (' ' || m.roles || ' ') LIKE '% submitter %') \
                     AS submitters FROM organisations o WHERE o.id = $1",
                )
                .bind(organisation_id)
                .bind(location_id)
                .fetch_optional(&self.pool)
                .await?.decoded("organisations")?)
            }

            async fn notification_counts(&self) -> Result<Vec<(String, i64)>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT status, COUNT(*) FROM notifications WHERE status NOT IN ('draft', 'discarded') \
                     GROUP BY status ORDER BY status",
                )
                .fetch_all(&self.pool)
                .await?.decoded("notifications")?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::IdempotencyStore for $store {
            async fn begin_idempotent(
                &self,
                scope: &str,
                key: &str,
                fingerprint: &str,
                now: time::OffsetDateTime,
                lock_until: time::OffsetDateTime,
            ) -> Result<$crate::idempotency::Begin, $crate::StoreError> {
                use $crate::idempotency::{Begin, StoredResponse};
                // The claim is only a lock: it need not wait for the disk. PostgreSQL writes its log in order,
                // so the durable commit of the change that completes the claim makes the claim durable too;
                // a claim lost in a crash merely lets the retry run (nothing was done under it).
                let mut tx = self.pool.begin().await?;
                if let Some(relax) = <$store as $crate::Dialect>::RELAXED_COMMIT {
                    sqlx::query(relax).execute(&mut *tx).await?;
                }
                let inserted = sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, fingerprint, locked_until, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING",
                )
                .bind(scope)
                .bind(key)
                .bind(fingerprint)
                .bind(lock_until)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                if inserted == 1 {
                    return Ok(Begin::Started);
                }
                let row: Option<(String, time::OffsetDateTime, Option<i64>, Option<String>, Option<String>)> =
                    sqlx::query(
                        "SELECT fingerprint, locked_until, status, headers, body FROM idempotency_keys \
                         WHERE scope = $1 AND key = $2",
                    )
                    .bind(scope)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?.decoded("idempotency_keys")?;
                let Some((stored_fingerprint, locked_until, status, headers, body)) = row else {
                    // Released between our insert and read: the caller may simply try again.
                    return Ok(Begin::InFlight { fingerprint: fingerprint.to_owned() });
                };
                if let (Some(status), Some(body)) = (status, body) {
                    return Ok(Begin::Completed(StoredResponse {
                        fingerprint: stored_fingerprint,
                        status,
                        headers: headers.unwrap_or_default(),
                        body,
                    }));
                }
                if locked_until < now && stored_fingerprint == fingerprint {
                    // Its request can no longer be running (requests time out before the lock does): take over.
                    let taken = sqlx::query(
                        "UPDATE idempotency_keys SET locked_until = $1 WHERE scope = $2 AND key = $3 \
                         AND status IS NULL AND locked_until = $4",
                    )
                    .bind(lock_until)
                    .bind(scope)
                    .bind(key)
                    .bind(locked_until)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                    if taken == 1 {
                        return Ok(Begin::Started);
                    }
                }
                Ok(Begin::InFlight { fingerprint: stored_fingerprint })
            }

            async fn purge_idempotency_keys(
                &self,
                created_before: time::OffsetDateTime,
            ) -> Result<u64, $crate::StoreError> {
                Ok(sqlx::query(
                    "DELETE FROM idempotency_keys WHERE created_at < $1 AND (status IS NOT NULL OR locked_until < $1)",
                )
                .bind(created_before)
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn release_idempotent(&self, scope: &str, key: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
                    .bind(scope)
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }

        /// PostgreSQL only (SQLite has no data-modifying `WITH`): the notification, its history entries and
        /// the stored response as one statement, which is one transaction. The history rows may refer to the
        /// notification because foreign keys are checked at the end of the statement.
        async fn insert_notification_in_one_statement<'e, E>(
            executor: E,
            n: &provider_api_core::notifications::Notification,
            events: &[provider_api_core::notifications::Event],
            done: Option<&$crate::idempotency::Completion>,
        ) -> Result<(), $crate::StoreError>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::Dialect>::Database>,
        {
            let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                "WITH notification AS (INSERT INTO notifications (id, organisation_id, location_id, kind, status, \
                 content, follows_id, version, created_by_user, created_by_client, edited_by_user, edited_by_client, \
                 created_at, updated_at, reference, submitted_at, submitted_by_user, submitted_by_client, \
                 schema_version, content_sha256, receipt, request_message, request_due_on, outcome, outcome_note, \
                 attachments) ",
            );
            query.push_values(std::iter::once(n), |mut row, n| {
                row.push_bind(n.id)
                    .push_bind(n.organisation_id)
                    .push_bind(n.location_id)
                    .push_bind(n.kind.clone())
                    .push_bind(n.status.clone())
                    .push_bind(n.content.clone())
                    .push_bind(n.follows_id)
                    .push_bind(n.version)
                    .push_bind(n.created_by_user)
                    .push_bind(n.created_by_client)
                    .push_bind(n.edited_by_user)
                    .push_bind(n.edited_by_client)
                    .push_bind(n.created_at)
                    .push_bind(n.updated_at)
                    .push_bind(n.reference.clone())
                    .push_bind(n.submitted_at)
                    .push_bind(n.submitted_by_user)
                    .push_bind(n.submitted_by_client)
                    .push_bind(n.schema_version)
                    .push_bind(n.content_sha256.clone())
                    .push_bind(n.receipt.clone())
                    .push_bind(n.request_message.clone())
                    .push_bind(n.request_due_on.clone())
                    .push_bind(n.outcome.clone())
                    .push_bind(n.outcome_note.clone())
                    .push_bind(n.attachments.clone());
            });
            query.push(")");
            if !events.is_empty() {
                query.push(
                    ", history AS (INSERT INTO notification_events (id, notification_id, at, action, from_status, \
                     to_status, actor_user, actor_client, fields, message, due_on, version) ",
                );
                query.push_values(events, |mut row, e| {
                    row.push_bind(e.id)
                        .push_bind(e.notification_id)
                        .push_bind(e.at)
                        .push_bind(e.action.clone())
                        .push_bind(e.from_status.clone())
                        .push_bind(e.to_status.clone())
                        .push_bind(e.actor_user)
                        .push_bind(e.actor_client)
                        .push_bind(e.fields.clone())
                        .push_bind(e.message.clone())
                        .push_bind(e.due_on.clone())
                        .push_bind(e.version);
                });
                query.push(")");
            }
            if let Some(done) = done {
                query.push(", response AS (UPDATE idempotency_keys SET status = ");
                query.push_bind(done.status).push(", headers = ").push_bind(done.headers.clone());
                query.push(", body = ").push_bind(done.body.clone()).push(", completed_at = ").push_bind(done.at);
                query.push(" WHERE scope = ").push_bind(done.scope.clone()).push(" AND key = ").push_bind(done.key.clone());
                query.push(" AND status IS NULL)");
            }
            query.push(" SELECT 1");
            query.build().execute(executor).await?;
            Ok(())
        }

        /// One statement for all of a change's history entries.
        async fn insert_events<'e, E>(
            executor: E,
            events: &[provider_api_core::notifications::Event],
        ) -> Result<(), $crate::StoreError>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::Dialect>::Database>,
        {
            if events.is_empty() {
                return Ok(());
            }
            let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                "INSERT INTO notification_events (id, notification_id, at, action, from_status, to_status, \
                 actor_user, actor_client, fields, message, due_on, version) ",
            );
            query.push_values(events, |mut row, e| {
                row.push_bind(e.id)
                    .push_bind(e.notification_id)
                    .push_bind(e.at)
                    .push_bind(e.action.clone())
                    .push_bind(e.from_status.clone())
                    .push_bind(e.to_status.clone())
                    .push_bind(e.actor_user)
                    .push_bind(e.actor_client)
                    .push_bind(e.fields.clone())
                    .push_bind(e.message.clone())
                    .push_bind(e.due_on.clone())
                    .push_bind(e.version);
            });
            query.build().execute(executor).await?;
            Ok(())
        }

        /// Stores the response of an idempotent request; only the request holding the key can.
        async fn complete<'e, E>(
            executor: E,
            done: &$crate::idempotency::Completion,
        ) -> Result<(), $crate::StoreError>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::Dialect>::Database>,
        {
            sqlx::query(
                "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3, completed_at = $4 \
                 WHERE scope = $5 AND key = $6 AND status IS NULL",
            )
            .bind(done.status)
            .bind(&done.headers)
            .bind(&done.body)
            .bind(done.at)
            .bind(&done.scope)
            .bind(&done.key)
            .execute(executor)
            .await?;
            Ok(())
        }
    };
}
pub(crate) use impl_notification_queries;
