//! The records behind identity: organisations, their locations, people, memberships and API clients.
//! (See `docs/identity.md`.) Lists (roles, scopes, location limits) are typed sets, kept in storage as
//! space-separated text ([`SpaceList`]); an unknown word read back is an error, never dropped.

use std::collections::BTreeSet;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::capability::{Capability, Role, StaffRole};
use crate::stored::SpaceList;

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub provider_id: Option<String>,
    /// A second person reviews what people send (see `crate::workflow`).
    pub four_eyes: bool,
    /// Software acting as itself sends without a person's approval.
    pub software_submits: bool,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The regulator's own organisation, made by migration: it holds the files its staff upload (a register file
/// to import). It has no provider ID and no members; staff with `staff_admin` may read it and upload and read
/// its documents.
pub const REGULATOR_ORGANISATION: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001);

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Location {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Option<String>,
    pub name: String,
    pub address_line_1: String,
    pub address_line_2: Option<String>,
    pub town: String,
    pub postcode: String,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_normalised: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub staff_roles: SpaceList<StaffRole>,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

crate::debug_redacting!(User {
    shown: [id, email, email_normalised, display_name, staff_roles, disabled, created_at],
    redacted: [password_hash]
});

impl User {
    pub fn staff_roles(&self) -> BTreeSet<StaffRole> {
        self.staff_roles.0.clone()
    }
}

/// A membership with the person it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub roles: SpaceList<Role>,
    pub location_ids: Option<SpaceList<Uuid>>,
    pub created_at: OffsetDateTime,
}

impl Member {
    pub fn roles(&self) -> BTreeSet<Role> {
        self.roles.0.clone()
    }

    pub fn locations(&self) -> Option<BTreeSet<Uuid>> {
        self.location_ids.as_ref().map(|ids| ids.0.clone())
    }
}

/// Emails are unique regardless of case; matching uses this form.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Membership {
    pub user_id: Uuid,
    pub organisation_id: Uuid,
    pub roles: SpaceList<Role>,
    /// `None`: every location of the organisation.
    pub location_ids: Option<SpaceList<Uuid>>,
    pub created_at: OffsetDateTime,
}

impl Membership {
    pub fn roles(&self) -> BTreeSet<Role> {
        self.roles.0.clone()
    }

    pub fn locations(&self) -> Option<BTreeSet<Uuid>> {
        self.location_ids.as_ref().map(|ids| ids.0.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ApiClient {
    /// Also the OAuth `client_id`.
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub secret_hash: Option<String>,
    /// A JSON Web Key Set of the client's public keys, for `private_key_jwt`.
    pub jwks: Option<String>,
    pub roles: SpaceList<Role>,
    pub scopes: SpaceList<Capability>,
    pub location_ids: Option<SpaceList<Uuid>>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

impl ApiClient {
    pub fn roles(&self) -> BTreeSet<Role> {
        self.roles.0.clone()
    }

    pub fn scopes(&self) -> BTreeSet<Capability> {
        self.scopes.0.clone()
    }

    pub fn locations(&self) -> Option<BTreeSet<Uuid>> {
        self.location_ids.as_ref().map(|ids| ids.0.clone())
    }
}

/// Third-party software (or the regulator's own portal) that acts for users who consent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct IntegratorApp {
    /// Also the OAuth `client_id`.
    pub id: Uuid,
    pub name: String,
    /// Exact redirect URIs, one a line.
    pub redirect_uris: String,
    /// `None`: a public client, relying on PKCE alone.
    pub secret_hash: Option<String>,
    pub scopes: SpaceList<Capability>,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// One of the regulator's own applications (the provider portal, the staff portal), registered as such by
    /// staff. People signed in through it act in a first-party session; through any other, the application
    /// acts for them as a third party, within what they consented to.
    pub first_party: bool,
}

impl IntegratorApp {
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris.lines().map(str::trim).filter(|l| !l.is_empty())
    }

    pub fn scopes(&self) -> BTreeSet<Capability> {
        self.scopes.0.clone()
    }
}

/// A "forgot your password?" link: single use, short-lived, kept as the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct PasswordReset {
    pub token_hash: String,
    pub user_id: Uuid,
    /// The sign-in page (`/v1/oauth/authorize?…`) the person came from, to return to.
    pub return_to: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl PasswordReset {
    /// Whether the link can still set a password at `now`.
    pub fn usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub redirect_uri: String,
    /// BASE64URL(SHA-256(code_verifier)), as the client sent it (PKCE S256).
    pub code_challenge: String,
    pub scopes: SpaceList<Capability>,
    pub family_id: Uuid,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RefreshToken {
    pub token_hash: String,
    /// Every refresh token descended from one sign-in shares a family; reuse of any revokes them all.
    pub family_id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub scopes: SpaceList<Capability>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A single-use code the regulator issues so that a person can claim a registered provider's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EnrolmentCode {
    pub code_hash: String,
    pub organisation_id: Uuid,
    pub issued_by: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub redeemed_at: Option<OffsetDateTime>,
    pub redeemed_by: Option<Uuid>,
}

/// An admin's invitation for an email address to join an organisation with roles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Invitation {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email: String,
    pub email_normalised: String,
    pub roles: SpaceList<Role>,
    pub location_ids: Option<SpaceList<Uuid>>,
    pub token_hash: String,
    pub invited_by: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub accepted_at: Option<OffsetDateTime>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Invitation {
    pub fn roles(&self) -> BTreeSet<Role> {
        self.roles.0.clone()
    }

    pub fn locations(&self) -> Option<BTreeSet<Uuid>> {
        self.location_ids.as_ref().map(|ids| ids.0.clone())
    }
}

/// The outcome of spending a single-use credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption<T> {
    /// Spent now, for the first time.
    Fresh(T),
    /// Spent before: a replay.
    Replayed(T),
    Unknown,
}
