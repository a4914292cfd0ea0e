use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::decode::Decoded;
use super::{Engine, PoolSettings, Store, StoreError, sql};

static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// The embedded engine: one file, created (with its folder) on first start.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .create_if_missing(true)
            // WAL lets readers run beside the one writer; NORMAL is durable across application crashes in WAL.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(folder) = Path::new(options.get_filename()).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> Engine {
        Engine::Sqlite
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

impl super::Dialect for SqliteStore {
    type Database = sqlx::Sqlite;
    const ONE_STATEMENT_INSERT: bool = false;
    const RELAXED_COMMIT: Option<&'static str> = None;
    // A write that changes nothing takes SQLite's write lock before the head is read, so no other
    // connection appends between.
    const AUDIT_APPEND_LOCK: &'static str = "UPDATE organisations SET event_seq = event_seq WHERE 1 = 0";
}

super::shared::impl_shared_queries!(SqliteStore);
super::notifications::impl_notification_queries!(SqliteStore);
super::documents::impl_document_queries!(SqliteStore);
super::emails::impl_email_queries!(SqliteStore);
super::two_factor::impl_two_factor_queries!(SqliteStore);
super::registrations::impl_registration_queries!(SqliteStore);
super::audit::impl_audit_queries!(SqliteStore);
super::register::impl_register_queries!(SqliteStore);
