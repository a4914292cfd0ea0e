//! Queries that read the same on both engines, written once and compiled for each engine's pool.
//!
//! sqlx accepts `$1`-style parameters on SQLite too, and maps `Uuid`, `OffsetDateTime` and `bool` to each
//! engine's own column types, so only the DDL (the migrations) differs. A generic implementation over
//! `sqlx::Database` would need a dozen higher-ranked bounds on every impl; a macro instantiated twice keeps
//! the query code plain.

macro_rules! impl_shared_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::ReferenceStore for $store {
            async fn regulated_activities(
                &self,
            ) -> Result<Vec<provider_api_core::reference::RegulatedActivity>, $crate::StoreError> {
                Ok(sqlx::query($crate::sql::REGULATED_ACTIVITIES).fetch_all(&self.pool).await?.decoded("regulated_activities")?)
            }

            async fn service_types(&self) -> Result<Vec<provider_api_core::reference::ServiceType>, $crate::StoreError> {
                Ok(sqlx::query($crate::sql::SERVICE_TYPES).fetch_all(&self.pool).await?.decoded("service_types")?)
            }

            async fn service_user_bands(
                &self,
            ) -> Result<Vec<provider_api_core::reference::ServiceUserBand>, $crate::StoreError> {
                Ok(sqlx::query($crate::sql::SERVICE_USER_BANDS).fetch_all(&self.pool).await?.decoded("service_user_bands")?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::IdentityStore for $store {
            async fn create_organisation(
                &self,
                o: &provider_api_core::accounts::Organisation,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO organisations (id, name, provider_id, four_eyes, version, created_at, updated_at, \
                     software_submits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(o.id)
                .bind(&o.name)
                .bind(&o.provider_id)
                .bind(o.four_eyes)
                .bind(o.version)
                .bind(o.created_at)
                .bind(o.updated_at)
                .bind(o.software_submits)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn organisation(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::accounts::Organisation>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM organisations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?.decoded("organisations")?)
            }

            async fn create_location(&self, l: &provider_api_core::accounts::Location) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO locations (id, organisation_id, location_id, name, address_line_1, address_line_2, \
                     town, postcode, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(l.id)
                .bind(l.organisation_id)
                .bind(&l.location_id)
                .bind(&l.name)
                .bind(&l.address_line_1)
                .bind(&l.address_line_2)
                .bind(&l.town)
                .bind(&l.postcode)
                .bind(l.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn locations(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::accounts::Location>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM locations WHERE organisation_id = $1 ORDER BY created_at, id")
                    .bind(organisation_id)
                    .fetch_all(&self.pool)
                    .await?.decoded("locations")?)
            }

            async fn create_user(&self, u: &provider_api_core::accounts::User) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO users (id, email, email_normalised, display_name, password_hash, staff_roles, \
                     disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(u.id)
                .bind(&u.email)
                .bind(&u.email_normalised)
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(&u.staff_roles)
                .bind(u.disabled)
                .bind(u.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn user(&self, id: uuid::Uuid) -> Result<Option<provider_api_core::accounts::User>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.decoded("users")?)
            }

            async fn user_by_email(
                &self,
                email_normalised: &str,
            ) -> Result<Option<provider_api_core::accounts::User>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM users WHERE email_normalised = $1")
                    .bind(email_normalised)
                    .fetch_optional(&self.pool)
                    .await?.decoded("users")?)
            }

            async fn put_membership(&self, m: &provider_api_core::accounts::Membership) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO memberships (user_id, organisation_id, roles, location_ids, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, organisation_id) \
                     DO UPDATE SET roles = excluded.roles, location_ids = excluded.location_ids",
                )
                .bind(m.user_id)
                .bind(m.organisation_id)
                .bind(&m.roles)
                .bind(&m.location_ids)
                .bind(m.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn membership(
                &self,
                user_id: uuid::Uuid,
                organisation_id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::accounts::Membership>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM memberships WHERE user_id = $1 AND organisation_id = $2")
                    .bind(user_id)
                    .bind(organisation_id)
                    .fetch_optional(&self.pool)
                    .await?.decoded("memberships")?)
            }

            async fn memberships_of(
                &self,
                user_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::accounts::Membership>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM memberships WHERE user_id = $1 ORDER BY created_at, organisation_id")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?.decoded("memberships")?)
            }

            async fn create_api_client(
                &self,
                c: &provider_api_core::accounts::ApiClient,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO api_clients (id, organisation_id, name, secret_hash, jwks, roles, scopes, \
                     location_ids, created_by, created_at, revoked_at, last_used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(c.id)
                .bind(c.organisation_id)
                .bind(&c.name)
                .bind(&c.secret_hash)
                .bind(&c.jwks)
                .bind(&c.roles)
                .bind(&c.scopes)
                .bind(&c.location_ids)
                .bind(c.created_by)
                .bind(c.created_at)
                .bind(c.revoked_at)
                .bind(c.last_used_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn update_organisation(
                &self,
                id: uuid::Uuid,
                name: &str,
                four_eyes: bool,
                software_submits: bool,
                expected_version: i64,
                at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::accounts::Organisation>, $crate::StoreError> {
                Ok(sqlx::query(
                    "UPDATE organisations SET name = $3, four_eyes = $4, software_submits = $6, version = version + 1, \
                     updated_at = $5 WHERE id = $1 AND version = $2 RETURNING *",
                )
                .bind(id)
                .bind(expected_version)
                .bind(name)
                .bind(four_eyes)
                .bind(at)
                .bind(software_submits)
                .fetch_optional(&self.pool)
                .await?.decoded("organisations")?)
            }

            async fn members(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::accounts::Member>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT m.user_id, u.email, u.display_name, m.roles, m.location_ids, m.created_at \
                     FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE m.organisation_id = $1 ORDER BY m.created_at, m.user_id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("memberships")?)
            }

            async fn remove_membership(
                &self,
                user_id: uuid::Uuid,
                organisation_id: uuid::Uuid,
            ) -> Result<bool, $crate::StoreError> {
                let removed = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND organisation_id = $2")
                    .bind(user_id)
                    .bind(organisation_id)
                    .execute(&self.pool)
                    .await?;
                Ok(removed.rows_affected() == 1)
            }

            async fn api_clients(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::accounts::ApiClient>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM api_clients WHERE organisation_id = $1 ORDER BY created_at, id")
                    .bind(organisation_id)
                    .fetch_all(&self.pool)
                    .await?.decoded("api_clients")?)
            }

            async fn set_api_client_jwks(&self, id: uuid::Uuid, jwks: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE api_clients SET jwks = $2 WHERE id = $1").bind(id).bind(jwks).execute(&self.pool).await?;
                Ok(())
            }

            async fn set_api_client_secret(
                &self,
                id: uuid::Uuid,
                secret_hash: &str,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE api_clients SET secret_hash = $2 WHERE id = $1")
                    .bind(id)
                    .bind(secret_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_api_client(
                &self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE api_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn api_client_for_token(
                &self,
                id: uuid::Uuid,
                jti: uuid::Uuid,
            ) -> Result<Option<(provider_api_core::accounts::ApiClient, bool)>, $crate::StoreError> {
                #[derive(sqlx::FromRow)]
                struct Row {
                    #[sqlx(flatten)]
                    client: provider_api_core::accounts::ApiClient,
                    token_revoked: bool,
                }
                let row: Option<Row> = sqlx::query(
                    "SELECT c.*, EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = $2) AS token_revoked \
                     FROM api_clients c WHERE c.id = $1",
                )
                .bind(id)
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?.decoded("revoked_access_tokens")?;
                Ok(row.map(|row| (row.client, row.token_revoked)))
            }

            async fn api_client(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::accounts::ApiClient>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM api_clients WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?.decoded("api_clients")?)
            }

            async fn organisations_after(
                &self,
                created_at: time::OffsetDateTime,
                id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::accounts::Organisation>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM organisations WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3",
                )
                .bind(created_at)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?.decoded("organisations")?)
            }

            async fn users_after(
                &self,
                created_at: time::OffsetDateTime,
                id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::accounts::User>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM users WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3")
                    .bind(created_at)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?.decoded("users")?)
            }

            async fn set_user_disabled(
                &self,
                id: uuid::Uuid,
                disabled: bool,
            ) -> Result<Option<provider_api_core::accounts::User>, $crate::StoreError> {
                Ok(sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1 RETURNING *")
                    .bind(id)
                    .bind(disabled)
                    .fetch_optional(&self.pool)
                    .await?.decoded("users")?)
            }

            async fn create_enrolment_code(
                &self,
                c: &provider_api_core::accounts::EnrolmentCode,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO enrolment_codes (code_hash, organisation_id, issued_by, created_at, expires_at, \
                     redeemed_at, redeemed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&c.code_hash)
                .bind(c.organisation_id)
                .bind(c.issued_by)
                .bind(c.created_at)
                .bind(c.expires_at)
                .bind(c.redeemed_at)
                .bind(c.redeemed_by)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn create_invitation(&self, i: &provider_api_core::accounts::Invitation) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO invitations (id, organisation_id, email, email_normalised, roles, location_ids, token_hash, \
                     invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(i.id)
                .bind(i.organisation_id)
                .bind(&i.email)
                .bind(&i.email_normalised)
                .bind(&i.roles)
                .bind(&i.location_ids)
                .bind(&i.token_hash)
                .bind(i.invited_by)
                .bind(i.created_at)
                .bind(i.expires_at)
                .bind(i.accepted_at)
                .bind(i.accepted_by)
                .bind(i.revoked_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn invitations(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::accounts::Invitation>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM invitations WHERE organisation_id = $1 ORDER BY created_at, id")
                    .bind(organisation_id)
                    .fetch_all(&self.pool)
                    .await?.decoded("invitations")?)
            }

            async fn invitations_sent_since(
                &self,
                organisation_id: uuid::Uuid,
                since: time::OffsetDateTime,
            ) -> Result<Vec<time::OffsetDateTime>, $crate::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT created_at FROM invitations WHERE organisation_id = $1 AND created_at > $2 \
                     ORDER BY created_at",
                )
                .bind(organisation_id)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map(|row| row.try_get("created_at")).collect::<Result<_, _>>()?)
            }

            async fn invitation_by_token(
                &self,
                token_hash: &str,
            ) -> Result<Option<provider_api_core::accounts::Invitation>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM invitations WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?.decoded("invitations")?)
            }

            async fn revoke_invitation(
                &self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::accounts::Invitation>, $crate::StoreError> {
                Ok(sqlx::query(
                    "UPDATE invitations SET revoked_at = $2 \
                     WHERE id = $1 AND revoked_at IS NULL AND accepted_at IS NULL RETURNING *",
                )
                .bind(id)
                .bind(at)
                .fetch_optional(&self.pool)
                .await?.decoded("invitations")?)
            }

            async fn accept_invitation(
                &self,
                token_hash: &str,
                user_id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::accounts::Invitation>, $crate::StoreError> {
                Ok(sqlx::query(
                    "UPDATE invitations SET accepted_at = $3, accepted_by = $2 WHERE token_hash = $1 \
                     AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3 RETURNING *",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(at)
                .fetch_optional(&self.pool)
                .await?.decoded("invitations")?)
            }

            async fn create_password_reset(
                &self,
                r: &provider_api_core::accounts::PasswordReset,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO password_resets (token_hash, user_id, return_to, created_at, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&r.token_hash)
                .bind(r.user_id)
                .bind(&r.return_to)
                .bind(r.created_at)
                .bind(r.expires_at)
                .bind(r.used_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn password_reset(
                &self,
                token_hash: &str,
            ) -> Result<Option<provider_api_core::accounts::PasswordReset>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM password_resets WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?
                    .decoded("password_resets")?)
            }

            async fn reset_password(
                &self,
                token_hash: &str,
                password_hash: &str,
                at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::accounts::PasswordReset>, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                // Marking it used first makes two uses of one link race for this row: one wins, one finds nothing.
                let spent: Option<provider_api_core::accounts::PasswordReset> = sqlx::query(
                    "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
                     AND expires_at > $2 RETURNING *",
                )
                .bind(token_hash)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?
                .decoded("password_resets")?;
                let Some(reset) = spent else { return Ok(None) };
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(reset.user_id)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
                    .bind(reset.user_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                    .bind(reset.user_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(reset))
            }

            async fn redeem_enrolment_code(
                &self,
                code_hash: &str,
                user_id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<Option<provider_api_core::accounts::EnrolmentCode>, $crate::StoreError> {
                Ok(sqlx::query(
                    "UPDATE enrolment_codes SET redeemed_at = $3, redeemed_by = $2 \
                     WHERE code_hash = $1 AND redeemed_at IS NULL AND ended_at IS NULL AND expires_at > $3 RETURNING *",
                )
                .bind(code_hash)
                .bind(user_id)
                .bind(at)
                .fetch_optional(&self.pool)
                .await?.decoded("enrolment_codes")?)
            }

            async fn api_client_used(
                &self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE api_clients SET last_used_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn remember_client_assertion(
                &self,
                client_id: uuid::Uuid,
                jti: &str,
                expires_at: time::OffsetDateTime,
                now: time::OffsetDateTime,
            ) -> Result<bool, $crate::StoreError> {
                sqlx::query("DELETE FROM client_assertions WHERE expires_at < $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                let inserted = sqlx::query(
                    "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id, jti) DO NOTHING",
                )
                .bind(client_id)
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(inserted.rows_affected() == 1)
            }
        }


        #[async_trait::async_trait]
        impl $crate::GrantStore for $store {
            async fn create_integrator_app(&self, a: &provider_api_core::accounts::IntegratorApp) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO integrator_apps (id, name, redirect_uris, secret_hash, scopes, created_by, created_at, \
                     revoked_at, first_party) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.id)
                .bind(&a.name)
                .bind(&a.redirect_uris)
                .bind(&a.secret_hash)
                .bind(&a.scopes)
                .bind(a.created_by)
                .bind(a.created_at)
                .bind(a.revoked_at)
                .bind(a.first_party)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn integrator_app(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::accounts::IntegratorApp>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM integrator_apps WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.decoded("integrator_apps")?)
            }

            async fn update_integrator_app(&self, a: &provider_api_core::accounts::IntegratorApp) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE integrator_apps SET name = $2, redirect_uris = $3, secret_hash = $4, scopes = $5, \
                     revoked_at = $6 WHERE id = $1",
                )
                .bind(a.id)
                .bind(&a.name)
                .bind(&a.redirect_uris)
                .bind(&a.secret_hash)
                .bind(&a.scopes)
                .bind(a.revoked_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn integrator_apps(&self) -> Result<Vec<provider_api_core::accounts::IntegratorApp>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM integrator_apps ORDER BY created_at, id").fetch_all(&self.pool).await?.decoded("integrator_apps")?)
            }

            async fn create_authorization_code(
                &self,
                c: &provider_api_core::accounts::AuthorizationCode,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO authorization_codes (code_hash, app_id, user_id, redirect_uri, code_challenge, scopes, \
                     family_id, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&c.code_hash)
                .bind(c.app_id)
                .bind(c.user_id)
                .bind(&c.redirect_uri)
                .bind(&c.code_challenge)
                .bind(&c.scopes)
                .bind(c.family_id)
                .bind(c.expires_at)
                .bind(c.used_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn redeem_authorization_code(
                &self,
                code_hash: &str,
                app_id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<provider_api_core::accounts::Redemption<provider_api_core::accounts::AuthorizationCode>, $crate::StoreError> {
                let spent: Option<provider_api_core::accounts::AuthorizationCode> = sqlx::query(
                    "UPDATE authorization_codes SET used_at = $2 \
                     WHERE code_hash = $1 AND app_id = $3 AND used_at IS NULL RETURNING *",
                )
                .bind(code_hash)
                .bind(at)
                .bind(app_id)
                .fetch_optional(&self.pool)
                .await?.decoded("authorization_codes")?;
                if let Some(code) = spent {
                    return Ok(provider_api_core::accounts::Redemption::Fresh(code));
                }
                let earlier: Option<provider_api_core::accounts::AuthorizationCode> =
                    sqlx::query("SELECT * FROM authorization_codes WHERE code_hash = $1")
                        .bind(code_hash)
                        .fetch_optional(&self.pool)
                        .await?.decoded("authorization_codes")?;
                Ok(match earlier {
                    Some(code) if code.app_id == app_id => provider_api_core::accounts::Redemption::Replayed(code),
                    _ => provider_api_core::accounts::Redemption::Unknown,
                })
            }

            async fn create_refresh_token(&self, t: &provider_api_core::accounts::RefreshToken) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, family_id, app_id, user_id, scopes, created_at, expires_at, \
                     used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&t.token_hash)
                .bind(t.family_id)
                .bind(t.app_id)
                .bind(t.user_id)
                .bind(&t.scopes)
                .bind(t.created_at)
                .bind(t.expires_at)
                .bind(t.used_at)
                .bind(t.revoked_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn redeem_refresh_token(
                &self,
                token_hash: &str,
                app_id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<provider_api_core::accounts::Redemption<provider_api_core::accounts::RefreshToken>, $crate::StoreError> {
                // A family with any revoked token is revoked as a whole, including a successor inserted after
                // the revocation by a rotation that raced with the replay that caused it.
                let spent: Option<provider_api_core::accounts::RefreshToken> = sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $2 \
                     WHERE token_hash = $1 AND app_id = $3 AND used_at IS NULL AND revoked_at IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM refresh_tokens AS f \
                                     WHERE f.family_id = refresh_tokens.family_id AND f.revoked_at IS NOT NULL) \
                     RETURNING *",
                )
                .bind(token_hash)
                .bind(at)
                .bind(app_id)
                .fetch_optional(&self.pool)
                .await?.decoded("refresh_tokens")?;
                if let Some(token) = spent {
                    return Ok(provider_api_core::accounts::Redemption::Fresh(token));
                }
                let earlier = self.refresh_token(token_hash).await?;
                Ok(match earlier {
                    Some(token) if token.app_id == app_id => provider_api_core::accounts::Redemption::Replayed(token),
                    _ => provider_api_core::accounts::Redemption::Unknown,
                })
            }

            async fn refresh_token(
                &self,
                token_hash: &str,
            ) -> Result<Option<provider_api_core::accounts::RefreshToken>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?.decoded("refresh_tokens")?)
            }

            async fn revoke_refresh_family(
                &self,
                family_id: uuid::Uuid,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
                    .bind(family_id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_access_token(
                &self,
                jti: uuid::Uuid,
                expires_at: time::OffsetDateTime,
                now: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM revoked_access_tokens WHERE expires_at < $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                sqlx::query("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                    .bind(jti)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn access_token_revoked(&self, jti: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let found: Option<(uuid::Uuid,)> = sqlx::query("SELECT jti FROM revoked_access_tokens WHERE jti = $1")
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await?.decoded("revoked_access_tokens")?;
                Ok(found.is_some())
            }
        }

        #[async_trait::async_trait]
        impl $crate::KeyStore for $store {
            async fn signing_keys(&self) -> Result<Vec<$crate::StoredSigningKey>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM signing_keys ORDER BY created_at DESC, kid")
                    .fetch_all(&self.pool)
                    .await?.decoded("signing_keys")?)
            }

            async fn insert_signing_key(
                &self,
                key: &$crate::StoredSigningKey,
            ) -> Result<(), $crate::StoreError> {
                insert_signing_key(&self.pool, key).await
            }

            async fn rotate_signing_key(
                &self,
                key: &$crate::StoredSigningKey,
                retire_at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                    .bind(retire_at)
                    .execute(&mut *tx)
                    .await?;
                insert_signing_key(&mut *tx, key).await?;
                tx.commit().await?;
                Ok(())
            }
        }

        async fn insert_signing_key<'e, E>(
            executor: E,
            key: &$crate::StoredSigningKey,
        ) -> Result<(), $crate::StoreError>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::Dialect>::Database>,
        {
            sqlx::query(
                "INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk, created_at, retired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&key.kid)
            .bind(&key.algorithm)
            .bind(&key.private_key_pem)
            .bind(&key.public_jwk)
            .bind(key.created_at)
            .bind(key.retired_at)
            .execute(executor)
            .await?;
            Ok(())
        }
    };
}
pub(crate) use impl_shared_queries;
