use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use super::decode::Decoded;
use super::{Engine, PoolSettings, Store, StoreError, sql};

static MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The engine for deployments with several API nodes.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn open(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        Ok(MIGRATIONS.run(&self.pool).await?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

impl super::Dialect for PostgresStore {
    type Database = sqlx::Postgres;
    // One round trip instead of five: ingestion is bounded by them.
    const ONE_STATEMENT_INSERT: bool = true;
    // PostgreSQL writes its log in order, so the durable commit of the change that completes a claim makes
    // the claim durable too; a claim lost in a crash merely lets the retry run (nothing was done under it).
    const RELAXED_COMMIT: Option<&'static str> = Some("SET LOCAL synchronous_commit TO OFF");
    // A transaction-scoped advisory lock (key 0x000A0D17): held until commit, on whichever node.
    const AUDIT_APPEND_LOCK: &'static str = "SELECT pg_advisory_xact_lock(658711)";
}

super::shared::impl_shared_queries!(PostgresStore);
super::notifications::impl_notification_queries!(PostgresStore);
super::documents::impl_document_queries!(PostgresStore);
super::emails::impl_email_queries!(PostgresStore);
super::two_factor::impl_two_factor_queries!(PostgresStore);
super::registrations::impl_registration_queries!(PostgresStore);
super::audit::impl_audit_queries!(PostgresStore);
super::register::impl_register_queries!(PostgresStore);
