//! Storage: one trait per aggregate, gathered by [`Store`], each implemented on sqlx for SQLite (the
//! embedded default) and PostgreSQL. Each engine has its own migrations under `store/migrations/<engine>/`;
//! the same conformance suite (`tests/storage/`) runs against both. Depends on `core` (the records it
//! stores) and on nothing that speaks HTTP.
//!
//! Queries are checked at run time (rows decoded with `FromRow` through [`decode`], which names the table, row
//! and column of a value the record's types refuse), not by sqlx's compile-time macros, which check
//! against a single engine.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use time::OffsetDateTime;
use uuid::Uuid;

use provider_api_core::accounts::{
    ApiClient, AuthorizationCode, EnrolmentCode, IntegratorApp, Invitation, Location, Member, Membership, Organisation,
    PasswordReset, Redemption, RefreshToken, User,
};
use provider_api_core::notifications::{Event, Filter, Notification};
use provider_api_core::reference::{RegulatedActivity, ServiceType, ServiceUserBand};

use crate::idempotency::{Begin, Completion};

pub mod audit;
mod decode;
mod documents;
pub mod emails;
pub mod idempotency;
mod notifications;
mod postgres;
pub mod register;
pub mod registrations;
mod shared;
mod sqlite;
pub mod two_factor;

pub use documents::{Deletion, DocumentStore, StorageUse};

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
    #[error("the database URL names no engine this server has (sqlite: or postgres://)")]
    UnknownEngine,
    /// A stored value the record's type refuses: written by something other than this API, or by a version
    /// that knew a value this one does not. Never read as a default.
    #[error("a stored value cannot be read: table {table}, row {row}, column {column}: {reason}")]
    Corrupt { table: &'static str, row: String, column: String, reason: String },
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
pub trait Store:
    ReferenceStore
    + IdentityStore
    + GrantStore
    + KeyStore
    + NotificationStore
    + IdempotencyStore
    + DocumentStore
    + emails::EmailStore
    + registrations::RegistrationStore
    + register::RegisterStore
    + audit::AuditStore
    + two_factor::TwoFactorStore
    + Send
    + Sync
    + 'static
{
    /// Which engine this is (for reports and tests: queries never branch on it; see [`Dialect`]).
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

/// Organisations, locations, people, memberships and API clients (see `docs/identity.md`).
#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn create_organisation(&self, organisation: &Organisation) -> Result<(), StoreError>;
    async fn organisation(&self, id: Uuid) -> Result<Option<Organisation>, StoreError>;
    async fn create_location(&self, location: &Location) -> Result<(), StoreError>;
    async fn locations(&self, organisation_id: Uuid) -> Result<Vec<Location>, StoreError>;
    /// Refused with [`StoreError::Conflict`] when the email is taken (case-insensitively).
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    async fn user_by_email(&self, email_normalised: &str) -> Result<Option<User>, StoreError>;
    /// Creates the membership, or replaces its roles and location limits.
    async fn put_membership(&self, membership: &Membership) -> Result<(), StoreError>;
    async fn membership(&self, user_id: Uuid, organisation_id: Uuid) -> Result<Option<Membership>, StoreError>;
    async fn memberships_of(&self, user_id: Uuid) -> Result<Vec<Membership>, StoreError>;
    /// Changes name and settings if the stored version is still `expected_version` (bumping it); `None` when
    /// it has moved on (someone else changed it) or the organisation does not exist.
    async fn update_organisation(
        &self,
        id: Uuid,
        name: &str,
        four_eyes: bool,
        software_submits: bool,
        expected_version: i64,
        at: OffsetDateTime,
    ) -> Result<Option<Organisation>, StoreError>;
    async fn members(&self, organisation_id: Uuid) -> Result<Vec<Member>, StoreError>;
    /// `false` when there was no such membership.
    async fn remove_membership(&self, user_id: Uuid, organisation_id: Uuid) -> Result<bool, StoreError>;
    async fn create_api_client(&self, client: &ApiClient) -> Result<(), StoreError>;
    async fn api_clients(&self, organisation_id: Uuid) -> Result<Vec<ApiClient>, StoreError>;
    /// Replaces the client's public keys (assertions signed with the old ones stop working at once).
    async fn set_api_client_jwks(&self, id: Uuid, jwks: &str) -> Result<(), StoreError>;
    /// Replaces the client's secret (the old one stops working at once).
    async fn set_api_client_secret(&self, id: Uuid, secret_hash: &str) -> Result<(), StoreError>;
    async fn revoke_api_client(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn api_client(&self, id: Uuid) -> Result<Option<ApiClient>, StoreError>;
    /// The API client a token was issued to, and whether that token (`jti`) has been revoked, in one read
    /// (every request by software asks both).
    async fn api_client_for_token(&self, id: Uuid, jti: Uuid) -> Result<Option<(ApiClient, bool)>, StoreError>;
    async fn api_client_used(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Up to `limit` organisations created after `(created_at, id)`, in that order.
    async fn organisations_after(
        &self,
        created_at: OffsetDateTime,
        id: Uuid,
        limit: i64,
    ) -> Result<Vec<Organisation>, StoreError>;
    /// Up to `limit` users created after `(created_at, id)`, in that order.
    async fn users_after(&self, created_at: OffsetDateTime, id: Uuid, limit: i64) -> Result<Vec<User>, StoreError>;
    async fn set_user_disabled(&self, id: Uuid, disabled: bool) -> Result<Option<User>, StoreError>;
    async fn create_enrolment_code(&self, code: &EnrolmentCode) -> Result<(), StoreError>;
    async fn create_invitation(&self, invitation: &Invitation) -> Result<(), StoreError>;
    async fn invitations(&self, organisation_id: Uuid) -> Result<Vec<Invitation>, StoreError>;
    /// When each invitation the organisation sent after `since` was sent, oldest first (revoked ones too: the
    /// email went).
    async fn invitations_sent_since(
        &self,
        organisation_id: Uuid,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>, StoreError>;
    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError>;
    /// Revokes a pending invitation; `None` when there is no pending invitation with that id.
    async fn revoke_invitation(&self, id: Uuid, at: OffsetDateTime) -> Result<Option<Invitation>, StoreError>;
    /// Spends a pending, unexpired invitation for `user_id`, atomically; `None` otherwise.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        user_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<Option<Invitation>, StoreError>;
    async fn create_password_reset(&self, reset: &PasswordReset) -> Result<(), StoreError>;
    async fn password_reset(&self, token_hash: &str) -> Result<Option<PasswordReset>, StoreError>;
    /// Spends a reset link, atomically: when it is still usable at `at`, sets the person's password, ends
    /// their other outstanding links and revokes every refresh token they hold (every sign-in), and returns
    /// the link as it was; `None` when it is unknown, used or expired (and nothing changes).
    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Option<PasswordReset>, StoreError>;
    /// Spends the code for `user_id` if it is unspent and unexpired, atomically; `None` otherwise.
    async fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        user_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<Option<EnrolmentCode>, StoreError>;
    /// Records a client assertion's `jti`; `false` when it was already used (a replay).
    async fn remember_client_assertion(
        &self,
        client_id: Uuid,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// What the authorization-code flow keeps: integrator apps, codes, refresh tokens, revoked access tokens.
#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn create_integrator_app(&self, app: &IntegratorApp) -> Result<(), StoreError>;
    async fn integrator_app(&self, id: Uuid) -> Result<Option<IntegratorApp>, StoreError>;
    /// Replaces what can change in a registration (name, redirect URIs, secret, scopes, revocation); the id,
    /// creator, creation time and first-party standing stay as registered. False when there is no such app.
    async fn update_integrator_app(&self, app: &IntegratorApp) -> Result<bool, StoreError>;
    async fn integrator_apps(&self) -> Result<Vec<IntegratorApp>, StoreError>;
    async fn create_authorization_code(&self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// Marks the code used, atomically: only one of two concurrent redemptions is `Fresh`. Only the
    /// application it was issued to can spend it (or be told it is a replay); for any other it is `Unknown`.
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        app_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<Redemption<AuthorizationCode>, StoreError>;
    async fn create_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError>;
    /// Marks the token used (rotated), atomically; a revoked token is `Replayed` too. As with codes, only the
    /// application it was issued to can spend it.
    async fn redeem_refresh_token(
        &self,
        token_hash: &str,
        app_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<Redemption<RefreshToken>, StoreError>;
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StoreError>;
    /// Revokes every refresh token of a family (one sign-in and all its rotations).
    async fn revoke_refresh_family(&self, family_id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
    async fn revoke_access_token(
        &self,
        jti: Uuid,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn access_token_revoked(&self, jti: Uuid) -> Result<bool, StoreError>;
}

/// Statutory notifications and their history (see `docs/notifications.md`).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Inserts a notification with its first history entries and, for an idempotent request, its stored
    /// response: all in one transaction.
    async fn insert_notification(
        &self,
        notification: &Notification,
        events: &[Event],
        done: Option<&Completion>,
    ) -> Result<(), StoreError>;
    async fn notification(&self, id: Uuid) -> Result<Option<Notification>, StoreError>;
    /// Writes every mutable column of `notification` (whose `version` is the new one) if the stored version
    /// is still `expected_version`, with its history entries and stored response, in one transaction;
    /// `false` (and nothing written) when someone else changed it first.
    async fn update_notification(
        &self,
        notification: &Notification,
        expected_version: i64,
        events: &[Event],
        done: Option<&Completion>,
    ) -> Result<bool, StoreError>;
    async fn append_notification_event(&self, event: &Event) -> Result<(), StoreError>;
    /// A notification's history, oldest first.
    async fn notification_events(&self, notification_id: Uuid) -> Result<Vec<Event>, StoreError>;
    /// Up to `limit` notifications matching `filter` created after `(created_at, id)`, in that order.
    async fn notifications(
        &self,
        filter: &Filter,
        after_created: OffsetDateTime,
        after_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError>;
    /// What a submission needs of its organisation, in one read: `None` when there is no such organisation.
    async fn submission_context(
        &self,
        organisation_id: Uuid,
        location_id: Option<Uuid>,
    ) -> Result<Option<SubmissionContext>, StoreError>;
    /// How many notifications the regulator holds in each status (drafts are not the regulator's).
    async fn notification_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

/// An organisation's review settings, and whether a location is one of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SubmissionContext {
    pub four_eyes: bool,
    pub software_submits: bool,
    pub location_known: bool,
    /// How many of its people (not disabled) hold the submitter role.
    pub submitters: i64,
}

impl SubmissionContext {
    /// The organisation's review rule, as it applies now: four eyes only where there is a second person to
    /// be them (`workflow::four_eyes_in_effect`).
    pub fn policy(&self) -> provider_api_core::workflow::Policy {
        provider_api_core::workflow::Policy {
            four_eyes: provider_api_core::workflow::four_eyes_in_effect(self.four_eyes, self.submitters),
            software_submits: self.software_submits,
        }
    }
}

/// Idempotency keys (`Idempotency-Key`): the stored response of every completed request, and a lock for
/// the one in flight.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `(scope, key)` for a request with this body fingerprint until `lock_until`, or says why not.
    async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lock_until: OffsetDateTime,
    ) -> Result<Begin, StoreError>;
    /// Gives up an uncompleted claim (the request failed, so a retry should run it afresh).
    async fn release_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError>;
    /// Forgets keys made before `created_before` (completed, or claimed by a request long dead).
    async fn purge_idempotency_keys(&self, created_before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// The server's token-signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every key, newest first.
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError>;
    /// Retires every active key and adds `key`, atomically.
    async fn rotate_signing_key(&self, key: &StoredSigningKey, retire_at: OffsetDateTime) -> Result<(), StoreError>;
}

#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: String,
    /// PKCS#8 PEM. Kept in the database so every node signs alike; see `docs/identity.md` on protecting it.
    pub private_key_pem: String,
    /// The public half as a JWK (JSON).
    pub public_jwk: String,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

provider_api_core::debug_redacting!(StoredSigningKey {
    shown: [kid, algorithm, public_jwk, created_at, retired_at],
    redacted: [private_key_pem]
});

/// Which storage engine a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// What differs between the engines beyond their DDL, said once per engine in its own file and fixed at
/// compile time: no query asks at run time which engine it is on.
pub trait Dialect {
    /// The sqlx database type behind the store, for the queries written once for both engines.
    type Database: sqlx::Database;
    /// Whether a notification, its history and its stored response go in as one statement (PostgreSQL:
    /// `INSERT … RETURNING` in CTEs, one round trip) rather than a statement each in a transaction.
    const ONE_STATEMENT_INSERT: bool;
    /// Run first in an idempotency claim's transaction, if anything: the claim is only a lock, so it need
    /// not wait for the disk.
    const RELAXED_COMMIT: Option<&'static str>;
    /// Run first in the transaction that appends to the audit trail: it serialises appends.
    const AUDIT_APPEND_LOCK: &'static str;
}

/// Pool settings shared by both engines.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

/// Opens the database `url` names (without migrating it).
pub async fn open(url: &str, settings: PoolSettings) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match Engine::of_url(url) {
        Some(Engine::Sqlite) => Arc::new(SqliteStore::open(url, settings).await?),
        Some(Engine::Postgres) => Arc::new(PostgresStore::open(url, settings).await?),
        None => return Err(StoreError::UnknownEngine),
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
