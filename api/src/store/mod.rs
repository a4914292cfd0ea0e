//! Storage: one trait per aggregate, gathered by [`Store`], each implemented on sqlx for SQLite (the
//! embedded default) and PostgreSQL. Each engine has its own migrations under `api/migrations/<engine>/`;
//! the same conformance suite (`tests/storage/`) runs against both.
//!
//! Queries are checked at run time (`query_as` + `FromRow`), not by sqlx's compile-time macros, which check
//! against a single engine.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::config::{Config, Engine};
use crate::reference::{RegulatedActivity, ServiceType, ServiceUserBand};

mod postgres;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached, or no connection was free in time: worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A uniqueness rule refused the change.
    #[error("a unique constraint refused the change: {constraint}")]
    Conflict { constraint: String },
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(error)
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict { constraint: db.constraint().unwrap_or("unknown").to_owned() }
            }
            _ => Self::Database(error),
        }
    }
}

/// Everything the API stores. A facade over the per-aggregate traits, so handlers hold one `Arc<dyn Store>`.
#[async_trait]
pub trait Store: ReferenceStore + Send + Sync + 'static {
    fn engine(&self) -> Engine;
    /// Applies this engine's pending migrations; a no-op when the schema is current.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Succeeds when the database answers a query.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self);
}

/// Reference data the regulator publishes (regulated activities, service types, service-user bands):
/// seeded by migration, read-only through the API.
#[async_trait]
pub trait ReferenceStore: Send + Sync {
    /// All 14 regulated activities, in Schedule 1 order.
    async fn regulated_activities(&self) -> Result<Vec<RegulatedActivity>, StoreError>;
    async fn service_types(&self) -> Result<Vec<ServiceType>, StoreError>;
    async fn service_user_bands(&self) -> Result<Vec<ServiceUserBand>, StoreError>;
}

/// Pool settings shared by both engines.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl PoolSettings {
    pub fn from_config(config: &Config) -> Self {
        Self { max_connections: config.database_max_connections, acquire_timeout: config.database_acquire_timeout }
    }
}

/// Opens the database the configuration names (without migrating it).
pub async fn open(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    let url = config.database_url.expose_secret();
    let settings = PoolSettings::from_config(config);
    Ok(match config.engine().expect("validated at load") {
        Engine::Sqlite => Arc::new(SqliteStore::open(url, settings).await?),
        Engine::Postgres => Arc::new(PostgresStore::open(url, settings).await?),
    })
}

/// SQL that reads the same on both engines.
mod sql {
    pub const PING: &str = "SELECT 1";
    pub const REGULATED_ACTIVITIES: &str =
        "SELECT code, schedule_number, name FROM regulated_activities ORDER BY schedule_number";
    pub const SERVICE_TYPES: &str = "SELECT code, name, sector FROM service_types ORDER BY display_order";
    pub const SERVICE_USER_BANDS: &str = "SELECT code, name FROM service_user_bands ORDER BY display_order";
}

impl From<StoreError> for crate::http::Problem {
    fn from(error: StoreError) -> Self {
        let mut problem = match &error {
            StoreError::Unavailable(_) => {
                Self::service_unavailable("The database is unavailable; try again shortly.", 5)
            }
            StoreError::Conflict { .. } => Self::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                "This would duplicate something that already exists.",
            ),
            StoreError::Migration(_) | StoreError::Database(_) => Self::internal(),
        };
        problem.internal = Some(error.to_string());
        problem
    }
}
