//! Who is calling: the `Principal` extractor verifies the bearer token and loads the live record behind it
//! (a user not disabled, an API client not revoked), so revocation takes effect at once.
//!
//! Handlers then ask [`Principal::access`] for an organisation (404 when the principal has none there, so
//! existence never leaks) and [`Access::require`] for a capability (403 naming it and why).

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use provider_api_core::accounts::REGULATOR_ORGANISATION;
use provider_api_core::accounts::{ApiClient, User};
use provider_api_core::actor::Actor;
use provider_api_core::capability::{Capability, Role, StaffRole, granted_by};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::token::{AccessClaims, InvalidToken};
use crate::http::Problem;
use crate::http::rate_limit::VerifiedClaims;
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub claims: AccessClaims,
    pub subject: Subject,
    /// Who the session is with, when a person is signed in through an application.
    pub session: Session,
}

/// Through what a person's request comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Software acting as itself (client credentials): no person is present.
    Software,
    /// The regulator's own application (`first_party`): the person acts directly.
    FirstParty,
    /// A third party's application the person consented to: it acts for them within the scopes granted.
    ThirdParty,
}

#[derive(Debug, Clone)]
pub enum Subject {
    /// A person, signed in directly or through an integrator they consented to.
    User(User),
    /// A provider's software acting as itself.
    Client(ApiClient),
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer_token(parts)?.to_owned();
        let claims = match parts.extensions.remove::<VerifiedClaims>() {
            Some(VerifiedClaims(claims)) => claims,
            None => {
                state.tokens.verify(&token, state.store.as_ref()).await.map_err(|e| invalid_token(what_to_do(&e)))?
            }
        };
        let revoked = || invalid_token("The access token has been revoked.");
        // Software's requests ask about the token and the client in one read; people's in two.
        if !claims.is_client() && state.store.access_token_revoked(claims.jti).await? {
            return Err(revoked());
        }
        let mut session = Session::Software;
        if let Some(actor) = &claims.act {
            match state.store.integrator_app(actor.sub).await? {
                Some(app) if app.revoked_at.is_none() => {
                    session = if app.first_party { Session::FirstParty } else { Session::ThirdParty };
                }
                _ => return Err(invalid_token("The application this token was issued to has been revoked.")),
            }
        } else if !claims.is_client() {
            // Every person's token names the application it was issued to; one that does not is not ours.
            return Err(invalid_token("The access token names no application."));
        }
        let subject = if claims.is_client() {
            match state.store.api_client_for_token(claims.sub, claims.jti).await? {
                Some((_, true)) => return Err(revoked()),
                Some((client, false)) if client.revoked_at.is_none() => Subject::Client(client),
                _ => return Err(invalid_token("The API client this token was issued to has been revoked.")),
            }
        } else {
            match state.store.user(claims.sub).await? {
                Some(user) if !user.disabled => Subject::User(user),
                _ => return Err(invalid_token("The account this token was issued for is disabled.")),
            }
        };
        if let Some(slot) = parts.extensions.get::<crate::audit::AuditSlot>() {
            let integrator = claims.act.as_ref().map(|act| act.sub);
            match &subject {
                Subject::User(user) => slot.set(Some(user.id), integrator),
                Subject::Client(client) => slot.set(None, Some(client.id)),
            }
        }
        Ok(Self { claims, subject, session })
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, Problem> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated());
    };
    let value = value.to_str().map_err(|_| invalid_token("The Authorization header is not readable."))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(invalid_token("Send the access token as `Authorization: Bearer <token>`.")),
    }
}

/// RFC 6750 §3.1: no credentials at all gets a challenge without an error code.
fn unauthenticated() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Authentication required",
        "Send an access token from /v1/oauth/token as `Authorization: Bearer <token>`.",
    )
    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="provider-api""#))
}

/// What the caller should do about a token that does not verify.
fn what_to_do(error: &InvalidToken) -> &'static str {
    match error {
        InvalidToken::Expired => {
            "The access token has expired: fetch a new one from POST /oauth/token (with your client credentials, or \
your refresh token) and send the request again."
        }
        InvalidToken::NotYetValid => "The access token is not valid yet: check that this computer's clock is right.",
        InvalidToken::Malformed => {
            "This is not an access token: send the access_token that POST /oauth/token returned, as \
`Authorization: Bearer <token>`."
        }
        InvalidToken::WrongType => {
            "This token is not an access token (a receipt or another signed statement cannot call the API): send \
the access_token that POST /oauth/token returned."
        }
        InvalidToken::WrongAlgorithm | InvalidToken::UnknownKey | InvalidToken::BadSignature => {
            "This API did not sign this token (or it was changed): fetch a new one from this API's POST /oauth/token."
        }
        InvalidToken::WrongAudience | InvalidToken::WrongIssuer => {
            "This token was issued by or for another server: fetch one from this API's POST /oauth/token."
        }
    }
}

fn invalid_token(why: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", "The access token is not valid", why).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="provider-api", error="invalid_token""#),
    )
}

/// A member of the regulator's staff with the `staff_admin` role, checked before the request body is read
/// (so a caller without the role gets 403, not a verdict on a body it may not send).
pub struct StaffAdmin(pub User);

impl FromRequestParts<AppState> for StaffAdmin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_staff(StaffRole::StaffAdmin).cloned().map(Self)
    }
}

/// A member of the regulator's staff with the `staff_triage` role (notification triage), checked before the
/// request body is read.
pub struct StaffTriage(pub User);

impl FromRequestParts<AppState> for StaffTriage {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_staff(StaffRole::StaffTriage).cloned().map(Self)
    }
}

/// A member of the regulator's staff with the `staff_registration` role (registration assessment), checked
/// before the request body is read.
pub struct StaffRegistration(pub User);

impl FromRequestParts<AppState> for StaffRegistration {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_staff(StaffRole::StaffRegistration).cloned().map(Self)
    }
}

/// A person becoming an organisation's admin (creating one, or claiming a registered provider): not software,
/// not regulator staff, and with a token that carries `org:admin`, so an application the person granted less
/// cannot do it in their name. Checked before the request body is read (403 otherwise).
pub struct Person(pub User);

impl FromRequestParts<AppState> for Person {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let refuse = |why: &str| Err(Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", why));
        match principal.subject {
            Subject::User(user) if !user.staff_roles().is_empty() => {
                refuse("Staff accounts cannot belong to providers.")
            }
            Subject::User(_) if !principal.claims.scopes().contains(&Capability::OrgAdmin) => {
                let mut problem = Problem::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "Not permitted",
                    "This makes you an organisation's admin, so the access token needs the `org:admin` scope, \
                     which it was not granted.",
                );
                problem.permission = Some(Capability::OrgAdmin.as_str().to_owned());
                Err(problem)
            }
            Subject::User(user) => Ok(Self(user)),
            Subject::Client(_) => refuse("Only people can do this; API clients belong to an organisation already."),
        }
    }
}

/// A capability an endpoint needs in the organisation of its path.
pub trait Requirement: Send + Sync {
    const CAPABILITY: Capability;
}

/// `org:read` in the organisation of the path.
pub struct ReadOrg;
impl Requirement for ReadOrg {
    const CAPABILITY: Capability = Capability::OrgRead;
}

/// `org:admin` in the organisation of the path.
pub struct AdminOrg;
impl Requirement for AdminOrg {
    const CAPABILITY: Capability = Capability::OrgAdmin;
}

/// `notifications:read` in the organisation of the path.
pub struct ReadNotifications;
impl Requirement for ReadNotifications {
    const CAPABILITY: Capability = Capability::NotificationsRead;
}

/// `notifications:write` in the organisation of the path.
pub struct WriteNotifications;
impl Requirement for WriteNotifications {
    const CAPABILITY: Capability = Capability::NotificationsWrite;
}

/// `notifications:submit` in the organisation of the path.
pub struct SubmitNotifications;
impl Requirement for SubmitNotifications {
    const CAPABILITY: Capability = Capability::NotificationsSubmit;
}

/// `registrations:read` in the organisation of the path.
pub struct ReadRegistrations;
impl Requirement for ReadRegistrations {
    const CAPABILITY: Capability = Capability::RegistrationsRead;
}

/// `registrations:write` in the organisation of the path.
pub struct WriteRegistrations;
impl Requirement for WriteRegistrations {
    const CAPABILITY: Capability = Capability::RegistrationsWrite;
}

/// `registrations:submit` in the organisation of the path.
pub struct SubmitRegistrations;
impl Requirement for SubmitRegistrations {
    const CAPABILITY: Capability = Capability::RegistrationsSubmit;
}

/// `documents:read` in the organisation of the path.
pub struct ReadDocuments;
impl Requirement for ReadDocuments {
    const CAPABILITY: Capability = Capability::DocumentsRead;
}

/// `documents:write` in the organisation of the path.
pub struct WriteDocuments;
impl Requirement for WriteDocuments {
    const CAPABILITY: Capability = Capability::DocumentsWrite;
}

/// A principal allowed `R` in the organisation named by the path's `organisation_id`, checked before the
/// request body is read: 401 without a valid token, 404 for an organisation it cannot see, 403 without the
/// capability, and only then the body's own verdict.
pub struct Authorized<R> {
    pub principal: Principal,
    pub access: Access,
    requirement: std::marker::PhantomData<R>,
}

impl<R: Requirement> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let not_found = || Problem::not_found("There is no organisation with this id that you can see.");
        let params = axum::extract::RawPathParams::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        let organisation_id = params
            .iter()
            .find(|(name, _)| *name == "organisation_id")
            .and_then(|(_, value)| value.parse::<Uuid>().ok())
            .ok_or_else(not_found)?;
        let access = principal.access(state, organisation_id).await?;
        access.require(R::CAPABILITY, None)?;
        Ok(Self { principal, access, requirement: std::marker::PhantomData })
    }
}

/// What a principal may do in one organisation.
#[derive(Debug, Clone)]
pub struct Access {
    pub organisation_id: Uuid,
    pub roles: BTreeSet<Role>,
    /// What the roles grant.
    pub granted: BTreeSet<Capability>,
    /// What the token's scopes allow.
    pub scopes: BTreeSet<Capability>,
    /// `None`: every location.
    pub locations: Option<BTreeSet<Uuid>>,
}

/// Whether a capability is allowed, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Decision {
    /// The capability asked about.
    pub permission: Capability,
    pub allowed: bool,
    /// Why not, when not allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

impl Access {
    /// Whether something at `location` is within reach. Something without a location belongs to the whole
    /// organisation, so only access to every location reaches it.
    pub fn reaches(&self, location: Option<Uuid>) -> bool {
        match &self.locations {
            None => true,
            Some(allowed) => location.is_some_and(|l| allowed.contains(&l)),
        }
    }

    pub fn decide(&self, capability: Capability, location: Option<Uuid>) -> Decision {
        let role_names = || self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
        let reason = if !self.granted.contains(&capability) {
            Some(if self.roles.is_empty() {
                format!("You hold no role here, so you may not use `{capability}`.")
            } else {
                format!("Your roles ({}) do not include `{capability}`.", role_names())
            })
        } else if !self.scopes.contains(&capability) {
            Some(format!("The access token was not granted the `{capability}` scope."))
        } else if capability == Capability::OrgAdmin && self.locations.is_some() {
            Some("Administering the organisation needs access to all its locations; yours is limited.".to_owned())
        } else if let (Some(location), Some(allowed)) = (location, &self.locations)
            && !allowed.contains(&location)
        {
            Some("Your access is limited to other locations of this organisation.".to_owned())
        } else {
            None
        };
        Decision { permission: capability, allowed: reason.is_none(), reason }
    }

    /// 403 unless the access covers every location of the organisation, for what concerns the whole of it;
    /// `why` says what, `capability` is named as the permission the caller lacks there.
    pub fn require_every_location(&self, capability: Capability, why: &str) -> Result<(), Problem> {
        if self.locations.is_none() {
            return Ok(());
        }
        let mut problem = Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", why.to_owned());
        problem.permission = Some(capability.as_str().to_owned());
        Err(problem)
    }

    /// 403 unless allowed (at `location`, when the action concerns one).
    pub fn require(&self, capability: Capability, location: Option<Uuid>) -> Result<(), Problem> {
        match self.decide(capability, location).reason {
            None => Ok(()),
            Some(reason) => {
                let mut problem = Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", reason);
                problem.permission = Some(capability.as_str().to_owned());
                Err(problem)
            }
        }
    }
}

impl Principal {
    /// Who the record says did what this principal does: the person (with the integrator's software they
    /// came through, if any), or the software itself.
    pub fn actor(&self) -> Actor {
        let integrator = self.claims.act.as_ref().map(|act| act.sub);
        match &self.subject {
            Subject::User(user) => Actor { user: Some(user.id), client: integrator },
            Subject::Client(client) => Actor { user: None, client: Some(client.id) },
        }
    }

    pub fn staff_roles(&self) -> BTreeSet<StaffRole> {
        match &self.subject {
            Subject::User(user) => user.staff_roles(),
            Subject::Client(_) => BTreeSet::new(),
        }
    }

    /// The staff member behind the request, if they hold `role`; 403 naming the role otherwise.
    pub fn require_staff(&self, role: StaffRole) -> Result<&User, Problem> {
        // The role alone is not enough: the token must carry the `staff` scope, which only the regulator's own
        // applications are given, so an ordinary application a staff member signs into gains nothing.
        let scoped = self.claims.scopes().contains(&Capability::Staff);
        match &self.subject {
            Subject::User(user) if user.staff_roles().contains(&role) && scoped => Ok(user),
            Subject::User(user) if user.staff_roles().contains(&role) => {
                let mut problem = Problem::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "Not permitted",
                    "The access token was not granted the `staff` scope.",
                );
                problem.permission = Some(Capability::Staff.as_str().to_owned());
                Err(problem)
            }
            _ => {
                let detail = format!("This is for the regulator's staff with the `{}` role.", role.as_str());
                let mut problem = Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", detail);
                problem.permission = Some(role.as_str().to_owned());
                Err(problem)
            }
        }
    }

    /// The principal's access to an organisation; 404 when it has none (not a member, another organisation's
    /// client), exactly as if the organisation did not exist.
    pub async fn access(&self, state: &AppState, organisation_id: Uuid) -> Result<Access, Problem> {
        let not_found = || Problem::not_found("There is no organisation with this id that you can see.");
        let (roles, locations) = match &self.subject {
            Subject::Client(client) if client.organisation_id == organisation_id => {
                // A client's own scope list bounds what any of its tokens can do.
                let roles = client.roles();
                (roles, client.locations())
            }
            Subject::Client(_) => return Err(not_found()),
            Subject::User(user)
                if organisation_id == REGULATOR_ORGANISATION
                    && user.staff_roles().contains(&StaffRole::StaffAdmin)
                    && self.claims.scopes().contains(&Capability::Staff) =>
            {
                // The regulator's own files: its administrators upload and read them (a register file to
                // import), and nothing else is done in this organisation.
                let files: BTreeSet<Capability> =
                    [Capability::OrgRead, Capability::DocumentsRead, Capability::DocumentsWrite].into();
                return Ok(Access {
                    organisation_id,
                    roles: BTreeSet::new(),
                    granted: files.clone(),
                    scopes: files,
                    locations: None,
                });
            }
            Subject::User(user) => match state.store.membership(user.id, organisation_id).await? {
                Some(membership) => (membership.roles(), membership.locations()),
                None => return Err(not_found()),
            },
        };
        let mut scopes = self.claims.scopes();
        if let Subject::Client(client) = &self.subject {
            scopes = scopes.intersection(&client.scopes()).copied().collect();
        }
        Ok(Access { organisation_id, granted: granted_by(&roles), roles, scopes, locations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(roles: &[Role], scopes: &[Capability], locations: Option<&[Uuid]>) -> Access {
        let roles: BTreeSet<Role> = roles.iter().copied().collect();
        Access {
            organisation_id: Uuid::nil(),
            granted: granted_by(&roles),
            roles,
            scopes: scopes.iter().copied().collect(),
            locations: locations.map(|l| l.iter().copied().collect()),
        }
    }

    #[test]
    fn rights_are_roles_and_scopes_and_locations_together() {
        let here = Uuid::new_v4();
        let elsewhere = Uuid::new_v4();
        let drafter = access(&[Role::Drafter], Capability::ALL, Some(&[here]));

        assert!(drafter.decide(Capability::NotificationsWrite, Some(here)).allowed);
        let submit = drafter.decide(Capability::NotificationsSubmit, Some(here));
        assert!(!submit.allowed && submit.reason.unwrap().contains("drafter"));
        assert!(!drafter.decide(Capability::NotificationsWrite, Some(elsewhere)).allowed);

        let narrow_token = access(&[Role::Submitter], &[Capability::NotificationsRead], None);
        let decision = narrow_token.decide(Capability::NotificationsSubmit, None);
        assert!(decision.reason.unwrap().contains("scope"));
    }

    #[test]
    fn a_refusal_is_403_and_names_the_permission() {
        let viewer = access(&[Role::Viewer], Capability::ALL, None);
        let problem = viewer.require(Capability::OrgAdmin, None).unwrap_err();
        assert_eq!(problem.status, 403);
        assert_eq!(problem.permission.as_deref(), Some("org:admin"));
    }
}
