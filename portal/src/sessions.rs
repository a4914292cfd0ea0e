//! Server-side sessions in the portal's own table (`portal_sessions`), on the API's database engine, behind
//! `tower-sessions`' store trait. The published sqlx store for `tower-sessions` pins another sqlx than the
//! workspace's, so this small store is written here. Its migrations are the portal's own, tracked in their own
//! table (`_portal_migrations`), so the API's migrations and these never meet.
//!
//! A sign-in's tokens are not in the session's data but in their own row (`portal_sign_ins`), which only
//! signing in, renewing and signing out write: every request saves the session it loaded when it ends, and a
//! page finishing after another had renewed the tokens would otherwise put back a spent refresh token.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
const MIGRATIONS_TABLE: &str = "_portal_migrations";

/// Where sessions are kept.
#[derive(Debug, Clone)]
pub enum SessionDatabase {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on whichever pool the store has (the SQL is the same on both engines).
macro_rules! on_pool {
    ($database:expr, |$pool:ident| $body:expr) => {
        match $database {
            SessionDatabase::Sqlite($pool) => $body,
            SessionDatabase::Postgres($pool) => $body,
        }
    };
}

impl SessionDatabase {
    /// Opens `url` (`sqlite://path`, created if missing, or `postgres://…`) and brings the table up to date.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let database = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(PgPoolOptions::new().max_connections(5).connect(url).await?)
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let filename = options.get_filename().to_owned();
            if let Some(folder) = filename.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder)?;
            }
            Self::Sqlite(SqlitePoolOptions::new().max_connections(5).connect_with(options).await?)
        };
        database.migrate().await?;
        Ok(database)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let migrated = match self {
            Self::Sqlite(pool) => {
                let mut migrator = Migrator::with_migrations(SQLITE_MIGRATIONS.iter().cloned().collect());
                migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
                migrator.run(pool).await
            }
            Self::Postgres(pool) => {
                let mut migrator = Migrator::with_migrations(POSTGRES_MIGRATIONS.iter().cloned().collect());
                migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
                migrator.run(pool).await
            }
        };
        migrated.map_err(|e| sqlx::Error::Migrate(Box::new(e)))
    }

    /// The person's tokens, written only by signing in, renewing and signing out (see the module's note).
    pub async fn sign_in(&self, id: &str) -> Result<Option<Tokens>, sqlx::Error> {
        let row: Option<(String, i64, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT access_token, access_expires_at, refresh_token FROM portal_sign_ins WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|(access_token, access_expires_at, refresh_token)| Tokens {
            access_token,
            access_expires_at,
            refresh_token,
        }))
    }

    /// Keeps a new sign-in's tokens; the id returned is the session's key to them.
    pub async fn insert_sign_in(&self, tokens: &Tokens) -> Result<String, sqlx::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO portal_sign_ins (id, access_token, access_expires_at, refresh_token, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&id)
        .bind(&tokens.access_token)
        .bind(tokens.access_expires_at)
        .bind(&tokens.refresh_token)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .execute(pool)
        .await
        .map(drop))?;
        Ok(id)
    }

    /// Replaces a sign-in's tokens with renewed ones. `false`: the sign-in has ended meanwhile.
    pub async fn renew_sign_in(&self, id: &str, tokens: &Tokens) -> Result<bool, sqlx::Error> {
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE portal_sign_ins SET access_token = $2, access_expires_at = $3, refresh_token = $4 WHERE id = $1"
        )
        .bind(id)
        .bind(&tokens.access_token)
        .bind(tokens.access_expires_at)
        .bind(&tokens.refresh_token)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    /// Forgets a sign-in's tokens (after signing out, or when the API has ended it).
    pub async fn end_sign_in(&self, id: &str) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| sqlx::query("DELETE FROM portal_sign_ins WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// A sign-in's tokens, as the API issued them.
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_token: String,
}

/// How long a sign-in's tokens may wait for a session naming them (the session is saved when the sign-in's
/// response is sent, just after the tokens are), before housekeeping takes them for abandoned.
const UNCLAIMED_SIGN_IN_SECONDS: i64 = 600;

/// The `tower-sessions` store over [`SessionDatabase`].
#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    database: SessionDatabase,
}

impl SqlSessionStore {
    pub fn new(database: SessionDatabase) -> Self {
        Self { database }
    }

    /// The database the sessions and sign-ins are in.
    pub fn database(&self) -> &SessionDatabase {
        &self.database
    }

    /// How many sessions are kept, expired ones included (for tests and the operator).
    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        on_pool!(&self.database, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM portal_sessions")
            .fetch_one(pool)
            .await)
    }

    /// Removes expired sessions every `period`, for as long as the returned task runs.
    pub fn delete_expired_every(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            loop {
                every.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "could not remove expired portal sessions");
                }
            }
        })
    }
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The sign-in whose tokens a session holds (`signed_in::Person::sign_in`), kept in its own column for
/// housekeeping.
fn sign_in_of(record: &Record) -> Option<&str> {
    record.data.get(crate::signed_in::PERSON)?.get("sign_in")?.as_str()
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A 128-bit random id colliding is all but impossible; if it happens, another is drawn rather than
        // one person's session overwriting another's.
        loop {
            let inserted = on_pool!(&self.database, |pool| sqlx::query(
                "INSERT INTO portal_sessions (id, data, expires_at, sign_in_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING"
            )
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(sign_in_of(record))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
            .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        on_pool!(&self.database, |pool| sqlx::query(
            "INSERT INTO portal_sessions (id, data, expires_at, sign_in_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             sign_in_id = excluded.sign_in_id"
        )
        .bind(record.id.to_string())
        .bind(&data)
        .bind(record.expiry_date.unix_timestamp())
        .bind(sign_in_of(record))
        .execute(pool)
        .await
        .map(drop))
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row: Option<(String, i64)> = on_pool!(&self.database, |pool| sqlx::query_as(
            "SELECT data, expires_at FROM portal_sessions WHERE id = $1 AND expires_at > $2"
        )
        .bind(id.to_string())
        .bind(now)
        .fetch_optional(pool)
        .await)
        .map_err(backend)?;
        let Some((data, expires_at)) = row else { return Ok(None) };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_pool!(&self.database, |pool| sqlx::query("DELETE FROM portal_sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(drop))
        .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        on_pool!(&self.database, |pool| sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(drop))
        .map_err(backend)?;
        // Tokens no live session names: their session expired, or their sign-in never finished.
        on_pool!(&self.database, |pool| sqlx::query(
            "DELETE FROM portal_sign_ins WHERE created_at <= $1 AND NOT EXISTS \
             (SELECT 1 FROM portal_sessions WHERE portal_sessions.sign_in_id = portal_sign_ins.id)"
        )
        .bind(now - UNCLAIMED_SIGN_IN_SECONDS)
        .execute(pool)
        .await
        .map(drop))
        .map_err(backend)
    }
}
