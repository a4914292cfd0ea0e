//! Invitations: an admin invites an email address with roles; the invitee accepts with the single-use token
//! the email carries, creating an account if they have none (or proving they own the one they have).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use provider_api_core::accounts::{Invitation, Membership, User, normalise_email};
use provider_api_core::capability::Role;
use provider_api_core::field_error::FieldError;
use provider_api_core::stored::SpaceList;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::principal::{AdminOrg, Authorized};
use crate::auth::{Subject, password, secret, sign_in};
use crate::http::client_address::ClientAddress;
use crate::http::{Path, Problem, ValidatedJson};
use crate::mail::Mail;
use crate::openapi::tags;
use crate::state::AppState;

/// How long an invitation stays open.
const INVITATION_LIFETIME: time::Duration = time::Duration::days(7);

/// "Drafter" for `drafter`: a role as people read it.
fn capitalised(role: &str) -> String {
    let mut chars = role.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The portal's page for accepting an invitation, which its email links to (with the code as `token`).
pub const ACCEPT_PAGE: &str = "/invitations/accept";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email: String,
    pub roles: Vec<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_ids: Option<Vec<Uuid>>,
    pub status: InvitationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl InvitationView {
    /// The invitation as it stands at `now` (a pending one past its expiry is expired).
    fn new(i: Invitation, now: OffsetDateTime) -> Self {
        let status = if i.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if i.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if i.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Self {
            roles: i.roles().into_iter().collect(),
            location_ids: i.locations().map(|l| l.into_iter().collect()),
            status,
            id: i.id,
            organisation_id: i.organisation_id,
            email: i.email,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitations {
    pub items: Vec<InvitationView>,
}

/// List invitations
///
/// Every invitation of the organisation, with its status.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/invitations",
    tag = tags::ORGANISATIONS,
    operation_id = "list_invitations",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The invitations", body = Invitations)),
)]
async fn list_invitations(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Json<Invitations>, Problem> {
    let items = state
        .store
        .invitations(organisation_id)
        .await?
        .into_iter()
        .map(|i| InvitationView::new(i, state.clock.now_for(organisation_id)))
        .collect();
    Ok(Json(Invitations { items }))
}

fn email_address(value: &str) -> Result<(), ValidationError> {
    value.parse::<lettre::Address>().map(drop).map_err(|_| {
        ValidationError::new("email").with_message("Enter an email address, like name@example.org.".into())
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"email": "sam.jones@example.org", "roles": ["drafter"], "location_ids": [provider_api_core::examples::LOCATION_ID]})))]
pub struct NewInvitation {
    /// Who to invite (the server checks it is an email address).
    #[validate(length(max = 254), custom(function = "email_address"))]
    #[schema(max_length = 254, example = "sam.jones@example.org")]
    pub email: String,
    #[validate(length(min = 1, max = 4, message = "Give at least one role."))]
    #[schema(min_items = 1, max_items = 4)]
    pub roles: Vec<Role>,
    /// Locations of this organisation (the server checks) to limit the membership to; absent for every one.
    #[serde(default)]
    #[validate(length(min = 1, max = 1000))]
    #[schema(nullable = false, min_items = 1, max_items = 1000)]
    pub location_ids: Option<Vec<Uuid>>,
}

/// An admin of the organisation in the path who is a person: invitations come from people, since the email
/// names who invited. Checked before the request body is read.
struct Inviter(provider_api_core::accounts::User);

impl axum::extract::FromRequestParts<AppState> for Inviter {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Problem> {
        let Authorized { principal, .. } = Authorized::<AdminOrg>::from_request_parts(parts, state).await?;
        match principal.subject {
            Subject::User(user) => Ok(Self(user)),
            Subject::Client(_) => {
                Err(Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", "Invitations come from people."))
            }
        }
    }
}

/// Invite someone
///
/// Emails a single-use invitation (valid 7 days) to join the organisation with these roles. The token goes
/// only to that address; it is never in the response. Someone who is a member already is not invited (409
/// `already_a_member`): their roles and locations are changed with `update_member`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/invitations",
    tag = tags::ORGANISATIONS,
    operation_id = "create_invitation",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "Invited", body = InvitationView),
        (status = 409, description = "A member already (`already_a_member`)"),
        (status = 429, description = "The organisation has sent its invitations for the last 24 hours (`too_many_invitations`); `Retry-After`"),
    ),
)]
async fn create_invitation(
    State(state): State<AppState>,
    Inviter(inviter): Inviter,
    Path(organisation_id): Path<Uuid>,
    ValidatedJson(new): ValidatedJson<NewInvitation>,
) -> Result<(StatusCode, Json<InvitationView>), Problem> {
    super::check_locations(&state, organisation_id, new.location_ids.as_deref()).await?;
    let organisation =
        state.store.organisation(organisation_id).await?.ok_or_else(|| Problem::not_found("No such organisation."))?;
    if let Some(user) = state.store.user_by_email(&normalise_email(&new.email)).await?
        && state.store.membership(user.id, organisation_id).await?.is_some()
    {
        return Err(already_a_member());
    }
    let now = state.clock.now_for(organisation_id);
    check_daily_allowance(&state, organisation_id, now).await?;
    let token = secret::generate(secret::prefix::INVITATION);
    let roles: std::collections::BTreeSet<Role> = new.roles.into_iter().collect();
    let invitation = Invitation {
        id: Uuid::new_v4(),
        organisation_id,
        email: new.email.trim().to_owned(),
        email_normalised: normalise_email(&new.email),
        roles: roles.iter().copied().collect(),
        location_ids: new.location_ids.map(|ids| ids.into_iter().collect()),
        token_hash: secret::hash(&token),
        invited_by: inviter.id,
        created_at: now,
        expires_at: now + INVITATION_LIFETIME,
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    };
    state.store.create_invitation(&invitation).await?;
    let roles_text = roles.iter().map(|r| capitalised(r.as_str())).collect::<Vec<_>>().join(", ");
    // The link is the portal's page for accepting; the code alone works in software (or with the API).
    let how_to_accept = match &state.portal_url {
        Some(portal) => {
            let query = serde_urlencoded::to_string([("token", token.as_str())]).expect("a string encodes");
            format!(
                "To accept, open this link within 7 days:\n\n{portal}{ACCEPT_PAGE}?{query}\n\n\
                 Care-management software can accept it with the code below instead."
            )
        }
        None => format!(
            "Accept it within 7 days in your provider software, or with POST {}/v1/invitations/accept.",
            state.public_base_url
        ),
    };
    // The organisation's name and the inviter's are whatever they typed, and anyone can create an
    // organisation: so neither goes in the subject, and the body sets them apart as the inviter's own words.
    let registered = match &organisation.provider_id {
        Some(provider_id) => format!(
            "The organisation is a registered provider (provider ID {provider_id}). Its name above is as its \
             admin wrote it: check it against the register at https://www.cqc.org.uk before you accept."
        ),
        None => "The organisation is not a registered provider: anyone can create an organisation on this \
                 service."
            .to_owned(),
    };
    let mail = Mail {
        to: invitation.email.clone(),
        subject: "An invitation to join a care provider's team on the Care Quality Commission's provider service"
            .to_owned(),
        body: format!(
            "You have been invited to join a care provider's team on the Care Quality Commission's provider \
             service, as {roles_text}.\n\n\
             The invitation comes from an organisation that calls itself:\n\n    \"{}\"\n\n\
             and was sent by someone who calls themselves:\n\n    \"{}\"\n\n\
             Those two names were written by the person who sent the invitation and are not checked by the Care \
             Quality Commission. {registered}\n\n\
             Only accept if you know this organisation and expected to hear from it. We will never ask for your \
             password by email.\n\n{how_to_accept}\n\nYour invitation code is:\n\n{token}\n\n\
             If you did not expect this, you can ignore this email.\n",
            one_line(&organisation.name),
            one_line(&inviter.display_name),
        ),
    };
    if let Err(error) = state.mailer.send(mail).await {
        let mut problem =
            Problem::service_unavailable("The invitation email could not be sent; try again shortly.", 30);
        problem.internal = Some(error.to_string());
        state.store.revoke_invitation(invitation.id, state.clock.now()).await?;
        return Err(problem);
    }
    Ok((StatusCode::CREATED, Json(InvitationView::new(invitation, state.clock.now()))))
}

/// Text someone else chose, on one line: a line break in it could forge a paragraph of the email.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        .filter(|part| !part.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// 429 once the organisation has sent its allowance of invitations in the last 24 hours, with `Retry-After`
/// until the oldest of them falls out of the window. (Two requests at the same moment can both pass the
/// count: the allowance is a brake on abuse, not an exact quota.)
async fn check_daily_allowance(state: &AppState, organisation_id: Uuid, now: OffsetDateTime) -> Result<(), Problem> {
    let window = time::Duration::hours(24);
    let sent = state.store.invitations_sent_since(organisation_id, now - window).await?;
    if sent.len() < state.invitations_per_day as usize {
        return Ok(());
    }
    let frees_at = sent[sent.len() - state.invitations_per_day as usize] + window;
    let seconds = (frees_at - now).whole_seconds().max(1);
    Err(Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_invitations",
        "Too many invitations today",
        format!(
            "An organisation may send {} invitations in any 24 hours. Try again in {} minutes, or ask the \
             Care Quality Commission if your organisation needs more.",
            state.invitations_per_day,
            seconds.div_euclid(60) + 1
        ),
    )
    .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds)))
}

/// Revoke an invitation
///
/// A pending invitation can no longer be accepted. An accepted or already revoked one cannot be revoked (409).
#[utoipa::path(
    delete,
    path = "/v1/organisations/{organisation_id}/invitations/{invitation_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "revoke_invitation",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("invitation_id" = Uuid, Path, description = "The invitation"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 409, description = "Not pending any more"),
    ),
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path((organisation_id, invitation_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    let invitations = state.store.invitations(organisation_id).await?;
    if !invitations.iter().any(|i| i.id == invitation_id) {
        return Err(Problem::not_found("This organisation has no such invitation."));
    }
    match state.store.revoke_invitation(invitation_id, state.clock.now_for(organisation_id)).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(Problem::new(
            StatusCode::CONFLICT,
            "not_pending",
            "Not pending",
            "This invitation was accepted or revoked already.",
        )),
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"token": "pai_R8vN2cQ5hL1z", "display_name": "Sam Jones", "password": "correct horse battery staple"})))]
pub struct Acceptance {
    /// The code from the invitation email (`pai_…`).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub token: String,
    /// For a new account: the person's name.
    #[serde(default)]
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable = false, min_length = 1, max_length = 200, example = "Sam Jones")]
    pub display_name: Option<String>,
    /// For a new account, the password to set (at least 12 characters); for an existing account, its
    /// password, which proves the invitee owns it.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

provider_api_core::debug_redacting!(Acceptance { shown: [display_name], redacted: [token, password] });

/// The membership an accepted invitation gave.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedInvitation {
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    /// Whether a new account was created for the invitee.
    pub account_created: bool,
}

fn invalid_token() -> Problem {
    Problem::validation(vec![FieldError::new(
        "/token",
        "invalid_token",
        "This invitation is not valid: it may be mistyped, used, revoked or expired. Ask for a new one.",
    )])
}

/// Accept an invitation
///
/// With the token from the email. Someone without an account gives a name and a password (at least 12
/// characters) and gets an account for the invited email; someone with an account gives its password. Either
/// way they become a member with the invited roles. A token works once. Someone who is a member already is
/// refused (409 `already_a_member`, before the token is spent): an invitation never changes a member's roles or
/// locations.
#[utoipa::path(
    post,
    path = "/v1/invitations/accept",
    tag = tags::ORGANISATIONS,
    operation_id = "accept_invitation",
    request_body = Acceptance,
    responses(
        (status = 200, description = "Accepted", body = AcceptedInvitation),
        (status = 401, description = "Wrong password for the existing account"),
        (status = 409, description = "The email belongs to a staff account, or to a member already (`already_a_member`)"),
    ),
    security(()),
)]
async fn accept_invitation(
    State(state): State<AppState>,
    ClientAddress(peer): ClientAddress,
    headers: axum::http::HeaderMap,
    ValidatedJson(acceptance): ValidatedJson<Acceptance>,
) -> Result<Json<AcceptedInvitation>, Problem> {
    let token_hash = secret::hash(acceptance.token.trim());
    let now = state.clock.now();
    let invitation = state.store.invitation_by_token(&token_hash).await?;
    let Some(invitation) =
        invitation.filter(|i| i.accepted_at.is_none() && i.revoked_at.is_none() && i.expires_at > now)
    else {
        return Err(invalid_token());
    };

    // Everything that can refuse the acceptance is checked before the token is spent.
    let existing = state.store.user_by_email(&invitation.email_normalised).await?;
    let (user, account_created) = match existing {
        Some(user) if !user.staff_roles().is_empty() => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "staff_account",
                "Staff accounts cannot join providers",
                "This email belongs to a regulator staff account, which cannot be a member of a provider.",
            ));
        }
        Some(_) => {
            let checked = sign_in::check(&state, &headers, peer, &invitation.email_normalised, &acceptance.password);
            let user = match checked.await? {
                sign_in::Checked::Right { user, .. } => user,
                sign_in::Checked::Wait(wait) => {
                    let seconds = wait.as_secs().max(1);
                    let detail = format!("Too many failed attempts. Wait {seconds} seconds.");
                    return Err(Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_attempts",
                        "Too many attempts",
                        detail,
                    )
                    .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds)));
                }
                sign_in::Checked::Wrong => {
                    return Err(Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "invalid_credentials",
                        "Wrong password",
                        "This email already has an account: give its password to accept.",
                    ));
                }
            };
            // Roles and limits are the member's, changed only by an admin's update: an invitation made before
            // they joined would otherwise merge its roles with theirs and lift their location limits.
            if state.store.membership(user.id, invitation.organisation_id).await?.is_some() {
                return Err(already_a_member());
            }
            (user, false)
        }
        None => {
            let mut errors = Vec::new();
            if acceptance.display_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                errors.push(FieldError::new("/display_name", "required", "Give your name for the new account."));
            }
            if let Err(why) = password::check_new(&acceptance.password) {
                errors.push(FieldError::new("/password", "weak_password", why));
            }
            if !errors.is_empty() {
                return Err(Problem::validation(errors));
            }
            let user = User {
                id: Uuid::new_v4(),
                email: invitation.email.clone(),
                email_normalised: invitation.email_normalised.clone(),
                display_name: acceptance.display_name.unwrap_or_default().trim().to_owned(),
                password_hash: Some(password::hash_off_the_workers(&acceptance.password).await),
                staff_roles: SpaceList::default(),
                disabled: false,
                created_at: now,
            };
            (user, true)
        }
    };

    // The account must exist before the invitation can record who accepted it. If two acceptances race, the
    // loser is told the code is spent (its new account stays, with no membership).
    if account_created {
        state.store.create_user(&user).await?;
    }
    let Some(invitation) = state.store.accept_invitation(&token_hash, user.id, now).await? else {
        return Err(invalid_token());
    };
    let roles = invitation.roles();
    let membership = Membership {
        user_id: user.id,
        organisation_id: invitation.organisation_id,
        roles: roles.iter().copied().collect(),
        location_ids: invitation.location_ids.clone(),
        created_at: now,
    };
    state.store.put_membership(&membership).await?;
    Ok(Json(AcceptedInvitation {
        organisation_id: invitation.organisation_id,
        user_id: user.id,
        roles: roles.into_iter().collect(),
        account_created,
    }))
}

/// An invitation for someone who is a member already: 409, pointing to the member update.
fn already_a_member() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "already_a_member",
        "A member already",
        "This person is a member of the organisation already. An admin changes their roles and locations with \
         update_member (PUT /v1/organisations/{organisation_id}/members/{user_id}); an invitation cannot.",
    )
}
