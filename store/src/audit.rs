//! The audit trail's storage, written once for both engines (as `shared.rs`). Appends are the only write:
//! the migration's triggers refuse updates and deletes.

use async_trait::async_trait;
use provider_api_core::audit::{Entry, Filter, NewEntry};

use super::StoreError;

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Chains `entries` after the last one, in order, and appends them in one transaction (under a lock, so
    /// concurrent appenders, on any node, extend one chain).
    async fn append_audit(&self, entries: &[NewEntry]) -> Result<Vec<Entry>, StoreError>;
    /// Up to `limit` entries matching `filter` after position `after_seq`, in chain order.
    async fn audit_entries(&self, filter: &Filter, after_seq: i64, limit: i64) -> Result<Vec<Entry>, StoreError>;
}

macro_rules! impl_audit_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::audit::AuditStore for $store {
            async fn append_audit(
                &self,
                entries: &[provider_api_core::audit::NewEntry],
            ) -> Result<Vec<provider_api_core::audit::Entry>, $crate::StoreError> {
                if entries.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.pool.begin().await?;
                let chained = Self::append_audit_in(&mut tx, entries).await?;
                tx.commit().await?;
                Ok(chained)
            }

            async fn audit_entries(
                &self,
                filter: &provider_api_core::audit::Filter,
                after_seq: i64,
                limit: i64,
            ) -> Result<Vec<provider_api_core::audit::Entry>, $crate::StoreError> {
                let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                    "SELECT * FROM audit_log WHERE seq > ",
                );
                query.push_bind(after_seq);
                if let Some(actor) = filter.actor {
                    query.push(" AND (actor_user = ").push_bind(actor);
                    query.push(" OR actor_client = ").push_bind(actor).push(")");
                }
                if let Some(organisation) = filter.organisation_id {
                    query.push(" AND organisation_id = ").push_bind(organisation);
                }
                if let Some(action) = &filter.action {
                    query.push(" AND action = ").push_bind(action.clone());
                }
                if let Some(prefix) = &filter.object_prefix {
                    // A prefix match without LIKE's wildcards: the path's first characters are the prefix.
                    query
                        .push(" AND substr(object, 1, ")
                        .push_bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX));
                    query.push(") = ").push_bind(prefix.clone());
                }
                if let Some(from) = &filter.from {
                    query.push(" AND at >= ").push_bind(from.clone());
                }
                if let Some(before) = &filter.before {
                    query.push(" AND at < ").push_bind(before.clone());
                }
                query.push(" ORDER BY seq LIMIT ").push_bind(limit);
                Ok(query.build().fetch_all(&self.pool).await?.decoded("audit_log")?)
            }
        }

        impl $store {
            /// Chains `entries` after the last one and appends them inside `tx` (taking the audit lock, held
            /// until `tx` ends): for a change whose entries must commit with it.
            pub(crate) async fn append_audit_in(
                tx: &mut sqlx::Transaction<'_, <$store as $crate::Dialect>::Database>,
                entries: &[provider_api_core::audit::NewEntry],
            ) -> Result<Vec<provider_api_core::audit::Entry>, $crate::StoreError> {
                if entries.is_empty() {
                    return Ok(Vec::new());
                }
                // Appends are serialised, so the chain is one line whatever number of nodes write to it.
                sqlx::query(<$store as $crate::Dialect>::AUDIT_APPEND_LOCK).execute(&mut **tx).await?;
                let head: Option<(i64, String)> =
                    sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut **tx)
                        .await?
                        .decoded("audit_log")?;
                let (mut seq, mut prev) = head.unwrap_or((0, provider_api_core::audit::GENESIS.to_owned()));
                let mut chained = Vec::with_capacity(entries.len());
                for entry in entries {
                    seq += 1;
                    let link = provider_api_core::audit::Entry::chain(seq, &prev, entry.clone());
                    prev = link.hash.clone();
                    chained.push(link);
                }
                let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                    "INSERT INTO audit_log (seq, id, at, actor_user, actor_client, action, method, object, \
                     organisation_id, request_id, status, detail, prev_hash, hash) ",
                );
                query.push_values(&chained, |mut row, e| {
                    row.push_bind(e.seq)
                        .push_bind(e.id)
                        .push_bind(e.at.clone())
                        .push_bind(e.actor_user)
                        .push_bind(e.actor_client)
                        .push_bind(e.action.clone())
                        .push_bind(e.method.clone())
                        .push_bind(e.object.clone())
                        .push_bind(e.organisation_id)
                        .push_bind(e.request_id.clone())
                        .push_bind(e.status)
                        .push_bind(e.detail.clone())
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                query.build().execute(&mut **tx).await?;
                Ok(chained)
            }
        }
    };
}
pub(crate) use impl_audit_queries;
