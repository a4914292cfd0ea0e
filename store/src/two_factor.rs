//! Two-factor sign-in (`docs/identity.md`): each person's TOTP secret and recovery codes, and the
//! organisations that require a second factor of their admins and submitters. The SQL is the same on both
//! engines, compiled for each by [`impl_two_factor_queries`].

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// A person's authenticator, once set up (`confirmed_at`) or while they are setting it up.
#[derive(Clone, PartialEq, Eq)]
pub struct Authenticator {
    pub user_id: Uuid,
    /// The shared secret (RFC 6238 `K`): needed to check codes, so kept as is, like the signing keys.
    pub secret: Vec<u8>,
    pub confirmed_at: Option<OffsetDateTime>,
    /// The last 30-second time step a code was accepted for: a code is never accepted twice.
    pub last_step: i64,
    pub created_at: OffsetDateTime,
}

provider_api_core::debug_redacting!(Authenticator {
    shown: [user_id, confirmed_at, last_step, created_at],
    redacted: [secret]
});

#[async_trait]
pub trait TwoFactorStore: Send + Sync {
    async fn authenticator(&self, user_id: Uuid) -> Result<Option<Authenticator>, StoreError>;
    /// Starts setting up an authenticator with `secret`, unless one is being set up since `kept_since` (a
    /// second tab, a retry: they keep showing the same key) or is confirmed; `false` when nothing changed.
    async fn start_authenticator(
        &self,
        user_id: Uuid,
        secret: &[u8],
        now: OffsetDateTime,
        kept_since: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Confirms the authenticator being set up with `secret` (a code for `step` was right) and gives the person
    /// these recovery codes (SHA-256 hashes), replacing any they had, in one transaction; `false` when there was
    /// nothing to confirm, or it is being set up with another secret now.
    async fn confirm_authenticator(
        &self,
        user_id: Uuid,
        secret: &[u8],
        step: i64,
        recovery_code_hashes: &[String],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Accepts a code for `step` if no code for it or a later step was accepted before (atomically: of two
    /// requests with one code, one wins).
    async fn use_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError>;
    /// Spends an unused recovery code; `false` when it is not one of theirs or was used.
    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Recovery codes not yet used.
    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<i64, StoreError>;
    /// Removes the authenticator and the recovery codes; `false` when there was none.
    async fn remove_authenticator(&self, user_id: Uuid) -> Result<bool, StoreError>;

    /// Since when the organisation requires a second factor of its admins and submitters, if it does.
    async fn two_factor_policy(&self, organisation_id: Uuid) -> Result<Option<OffsetDateTime>, StoreError>;
    /// Requires it from `now` (keeping an earlier start), or no longer.
    async fn set_two_factor_policy(
        &self,
        organisation_id: Uuid,
        required: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

macro_rules! impl_two_factor_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::two_factor::TwoFactorStore for $store {
            async fn authenticator(
                &self,
                user_id: uuid::Uuid,
            ) -> Result<Option<$crate::two_factor::Authenticator>, $crate::StoreError> {
                use sqlx::Row;
                let row = sqlx::query("SELECT * FROM two_factor WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| {
                    Ok($crate::two_factor::Authenticator {
                        user_id: row.try_get("user_id")?,
                        secret: row.try_get("secret")?,
                        confirmed_at: row.try_get("confirmed_at")?,
                        last_step: row.try_get("last_step")?,
                        created_at: row.try_get("created_at")?,
                    })
                })
                .transpose()
            }

            async fn start_authenticator(
                &self,
                user_id: uuid::Uuid,
                secret: &[u8],
                now: time::OffsetDateTime,
                kept_since: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM two_factor WHERE user_id = $1 AND confirmed_at IS NULL AND created_at < $2")
                    .bind(user_id)
                    .bind(kept_since)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query(
                    "INSERT INTO two_factor (user_id, secret, confirmed_at, last_step, created_at) \
                     VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(user_id)
                .bind(secret)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn confirm_authenticator(
                &self,
                user_id: uuid::Uuid,
                secret: &[u8],
                step: i64,
                recovery_code_hashes: &[String],
                now: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE two_factor SET confirmed_at = $2, last_step = $3 \
                     WHERE user_id = $1 AND confirmed_at IS NULL AND secret = $4",
                )
                .bind(user_id)
                .bind(now)
                .bind(step)
                .bind(secret)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for hash in recovery_code_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn use_step(&self, user_id: uuid::Uuid, step: i64) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE two_factor SET last_step = $2 \
                     WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2",
                )
                .bind(user_id)
                .bind(step)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(
                &self,
                user_id: uuid::Uuid,
                code_hash: &str,
                now: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 \
                     WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(user_id)
                .bind(code_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user_id: uuid::Uuid) -> Result<i64, $crate::StoreError> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT COUNT(*) AS left_over FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                )
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.try_get("left_over")?)
            }

            async fn remove_authenticator(&self, user_id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                let done =
                    sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn two_factor_policy(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Option<time::OffsetDateTime>, $crate::StoreError> {
                use sqlx::Row;
                let row = sqlx::query("SELECT required_since FROM two_factor_policies WHERE organisation_id = $1")
                    .bind(organisation_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|row| row.try_get("required_since")).transpose()?)
            }

            async fn set_two_factor_policy(
                &self,
                organisation_id: uuid::Uuid,
                required: bool,
                now: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                if required {
                    sqlx::query(
                        "INSERT INTO two_factor_policies (organisation_id, required_since) VALUES ($1, $2) \
                         ON CONFLICT (organisation_id) DO NOTHING",
                    )
                    .bind(organisation_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                } else {
                    sqlx::query("DELETE FROM two_factor_policies WHERE organisation_id = $1")
                        .bind(organisation_id)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

pub(crate) use impl_two_factor_queries;
