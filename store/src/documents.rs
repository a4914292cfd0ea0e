//! Documents and tus uploads: the trait, and its SQL (the same on both engines, compiled for each by
//! [`impl_document_queries`], as `shared.rs` does for the rest).

use async_trait::async_trait;
use provider_api_core::documents::{Document, Upload};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// Document metadata and upload progress. The bytes are in the blob store, not here.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn create_upload(&self, upload: &Upload) -> Result<(), StoreError>;
    async fn upload(&self, id: Uuid) -> Result<Option<Upload>, StoreError>;
    /// Records that the upload now holds `to` bytes (with the hash state after them, and `staged_parts` the
    /// parts that hold them), if it still held `from`: `false` when another request moved it first.
    async fn advance_upload(
        &self,
        id: Uuid,
        from: i64,
        to: i64,
        hash_state: &[u8],
        staged_parts: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Turns a complete upload into `document`, atomically: the document row is created and the upload
    /// records it, if the upload still held `from` bytes and had no document (`false` otherwise).
    async fn complete_upload(&self, id: Uuid, from: i64, document: &Document) -> Result<bool, StoreError>;
    /// `false` when there was no such upload.
    async fn delete_upload(&self, id: Uuid) -> Result<bool, StoreError>;
    /// Up to `limit` uploads that expired before `now`.
    async fn expired_uploads(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<Upload>, StoreError>;

    async fn create_document(&self, document: &Document) -> Result<(), StoreError>;
    async fn document(&self, id: Uuid) -> Result<Option<Document>, StoreError>;
    /// Up to `limit` documents of the organisation created after `(created_at, id)`, in that order.
    async fn documents_after(
        &self,
        organisation_id: Uuid,
        created_at: OffsetDateTime,
        id: Uuid,
        limit: i64,
    ) -> Result<Vec<Document>, StoreError>;
    /// Deletes the document's row unless it is frozen (attached to something submitted) or a draft
    /// notification of its organisation names it: in one statement, so a document is never deleted from
    /// under a draft that names it when the check was made.
    async fn delete_document(&self, id: Uuid) -> Result<Deletion, StoreError>;
    /// Freezes the documents (when something that attaches them is submitted): they can no longer be
    /// deleted. Already frozen documents keep their first `frozen_at`. `false`, freezing none of them, when one
    /// of them is gone (deleted a moment before): the submission must not go ahead without it.
    async fn freeze_documents(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<bool, StoreError>;

    /// What the organisation holds: for its storage quotas.
    async fn storage_use(&self, organisation_id: Uuid, now: OffsetDateTime) -> Result<StorageUse, StoreError>;

    /// Claims the pending document whose scan is due soonest (due at or before `now`), postponing its next
    /// attempt to `retry_at` and counting the attempt, so another node does not scan it at the same time and a
    /// scan that dies is tried again later. `None` when nothing is due.
    async fn claim_scan(&self, now: OffsetDateTime, retry_at: OffsetDateTime) -> Result<Option<Document>, StoreError>;
    /// Sets when a pending document's next scan attempt is due (after a failed attempt).
    async fn postpone_scan(&self, id: Uuid, until: OffsetDateTime) -> Result<(), StoreError>;
    /// Records a scan's verdict (on a pending document only).
    async fn record_scan(
        &self,
        id: Uuid,
        status: &str,
        scanner: &str,
        detail: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// An organisation's documents and unfinished (unexpired) uploads, as its quotas count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageUse {
    /// Bytes of its documents.
    pub stored_bytes: i64,
    /// Unfinished uploads that can still be resumed.
    pub open_uploads: i64,
    /// The declared length of those uploads: bytes they will take when finished.
    pub reserved_bytes: i64,
}

/// What deleting a document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// Attached to something submitted: part of the record, kept.
    Frozen,
    /// Named by a draft notification's attachments: kept until the draft lets it go.
    AttachedToDraft,
    Missing,
}

/// The `INSERT` of a document row, as a query ready to execute on either engine.
macro_rules! insert_document {
    ($d:expr) => {{
        let d = $d;
        sqlx::query(
            "INSERT INTO documents (id, organisation_id, location_id, filename, media_type, size, sha256, \
             uploaded_by_user, uploaded_by_client, created_at, scan_status, scanner, scan_detail, scanned_at, \
             scan_attempts, scan_next_at, frozen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(d.id)
        .bind(d.organisation_id)
        .bind(d.location_id)
        .bind(&d.filename)
        .bind(&d.media_type)
        .bind(d.size)
        .bind(&d.sha256)
        .bind(d.uploaded_by_user)
        .bind(d.uploaded_by_client)
        .bind(d.created_at)
        .bind(&d.scan_status)
        .bind(&d.scanner)
        .bind(&d.scan_detail)
        .bind(d.scanned_at)
        .bind(d.scan_attempts)
        .bind(d.scan_next_at)
        .bind(d.frozen_at)
    }};
}

macro_rules! impl_document_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::DocumentStore for $store {
            async fn create_upload(&self, u: &provider_api_core::documents::Upload) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO uploads (id, organisation_id, location_id, filename, media_type, length, received, \
                     hash_state, created_by_user, created_by_client, created_at, expires_at, document_id, \
                     staged_parts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(u.id)
                .bind(u.organisation_id)
                .bind(u.location_id)
                .bind(&u.filename)
                .bind(&u.media_type)
                .bind(u.length)
                .bind(u.received)
                .bind(&u.hash_state)
                .bind(u.created_by_user)
                .bind(u.created_by_client)
                .bind(u.created_at)
                .bind(u.expires_at)
                .bind(u.document_id)
                .bind(&u.staged_parts)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn upload(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::documents::Upload>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM uploads WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .decoded("uploads")?)
            }

            async fn advance_upload(
                &self,
                id: uuid::Uuid,
                from: i64,
                to: i64,
                hash_state: &[u8],
                staged_parts: &str,
                expires_at: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE uploads SET received = $3, hash_state = $4, expires_at = $5, staged_parts = $6 \
                     WHERE id = $1 AND received = $2 AND document_id IS NULL",
                )
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(hash_state)
                .bind(expires_at)
                .bind(staged_parts)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn complete_upload(
                &self,
                id: uuid::Uuid,
                from: i64,
                d: &provider_api_core::documents::Document,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE uploads SET received = length, document_id = $3 \
                     WHERE id = $1 AND received = $2 AND document_id IS NULL",
                )
                .bind(id)
                .bind(from)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                $crate::documents::insert_document!(d).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_upload(&self, id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn expired_uploads(
                &self,
                now: time::OffsetDateTime,
                limit: i64,
            ) -> Result<Vec<provider_api_core::documents::Upload>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2")
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                    .decoded("uploads")?)
            }

            async fn create_document(
                &self,
                d: &provider_api_core::documents::Document,
            ) -> Result<(), $crate::StoreError> {
                $crate::documents::insert_document!(d).execute(&self.pool).await?;
                Ok(())
            }

            async fn document(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::documents::Document>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM documents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .decoded("documents")?)
            }

            async fn documents_after(
                &self,
                organisation_id: uuid::Uuid,
                created_at: time::OffsetDateTime,
                id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::documents::Document>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM documents WHERE organisation_id = $1 \
                     AND (created_at > $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at, id LIMIT $4",
                )
                .bind(organisation_id)
                .bind(created_at)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("documents")?)
            }

            async fn delete_document(&self, id: uuid::Uuid) -> Result<$crate::documents::Deletion, $crate::StoreError> {
                use sqlx::Row;
                use $crate::documents::Deletion;
                // A draft's attachments are JSON text naming each document's id (as UUIDs are written:
                // lower-case, hyphenated).
                let done = sqlx::query(
                    "DELETE FROM documents WHERE id = $1 AND frozen_at IS NULL AND NOT EXISTS \
                     (SELECT 1 FROM notifications n WHERE n.organisation_id = documents.organisation_id \
                      AND n.status = 'draft' AND n.attachments LIKE $2)",
                )
                .bind(id)
                .bind(format!("%{id}%"))
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(Deletion::Deleted);
                }
                let kept = sqlx::query("SELECT frozen_at FROM documents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match kept {
                    None => Deletion::Missing,
                    Some(row) if row.try_get::<Option<time::OffsetDateTime>, _>("frozen_at")?.is_some() => {
                        Deletion::Frozen
                    }
                    Some(_) => Deletion::AttachedToDraft,
                })
            }

            async fn freeze_documents(
                &self,
                ids: &[uuid::Uuid],
                at: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                for id in ids {
                    // Every row is touched (an already frozen one keeps its time), so a row count of zero can
                    // only mean the document is gone.
                    let done = sqlx::query("UPDATE documents SET frozen_at = COALESCE(frozen_at, $2) WHERE id = $1")
                        .bind(id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn storage_use(
                &self,
                organisation_id: uuid::Uuid,
                now: time::OffsetDateTime,
            ) -> Result<$crate::documents::StorageUse, $crate::StoreError> {
                use sqlx::Row;
                // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, the same on both engines.
                let row = sqlx::query(
                    "SELECT \
                     (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM documents WHERE organisation_id = $1) AS stored, \
                     (SELECT COUNT(*) FROM uploads WHERE organisation_id = $1 AND document_id IS NULL \
                      AND expires_at > $2) AS open, \
                     (SELECT CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads WHERE organisation_id = $1 \
                      AND document_id IS NULL AND expires_at > $2) AS reserved",
                )
                .bind(organisation_id)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::documents::StorageUse {
                    stored_bytes: row.try_get("stored")?,
                    open_uploads: row.try_get("open")?,
                    reserved_bytes: row.try_get("reserved")?,
                })
            }

            async fn claim_scan(
                &self,
                now: time::OffsetDateTime,
                retry_at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::documents::Document>, $crate::StoreError> {
                // The outer condition is checked again on the row itself, so of two nodes that picked the same
                // document only the first to update it gets it.
                Ok(sqlx::query(
                    "UPDATE documents SET scan_next_at = $2, scan_attempts = scan_attempts + 1 \
                     WHERE id = (SELECT id FROM documents WHERE scan_status = 'pending' AND scan_next_at <= $1 \
                                 ORDER BY scan_next_at LIMIT 1) \
                     AND scan_status = 'pending' AND scan_next_at <= $1 RETURNING *",
                )
                .bind(now)
                .bind(retry_at)
                .fetch_optional(&self.pool)
                .await?
                .decoded("documents")?)
            }

            async fn postpone_scan(
                &self,
                id: uuid::Uuid,
                until: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE documents SET scan_next_at = $2 WHERE id = $1 AND scan_status = 'pending'")
                    .bind(id)
                    .bind(until)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn record_scan(
                &self,
                id: uuid::Uuid,
                status: &str,
                scanner: &str,
                detail: Option<&str>,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "UPDATE documents SET scan_status = $2, scanner = $3, scan_detail = $4, scanned_at = $5 \
                     WHERE id = $1 AND scan_status = 'pending'",
                )
                .bind(id)
                .bind(status)
                .bind(scanner)
                .bind(detail)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use {impl_document_queries, insert_document};
