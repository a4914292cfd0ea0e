//! The team: who works in the portal for the organisation, with which roles and at which locations; and, for
//! admins, inviting people, changing what they may do and removing them. Every change is the API's (which
//! refuses non-admins and keeps an organisation from losing its last admin); these pages put it in words.

use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{InvitationStatus, LocationView, MemberRoles, MemberView, NewInvitation, Role};
use uuid::Uuid;

use crate::notifications::{not_found, organisation};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf, flash};

pub fn routes() -> Router<Portal> {
    Router::new()
        .route("/team", get(show))
        .route("/team/invite", get(invite_form).post(invite))
        .route("/team/members/{user_id}", get(member_form).post(change_member))
        .route("/team/members/{user_id}/remove", get(confirm_removal).post(remove))
        .route("/team/invitations/{id}/cancel", post(cancel_invitation))
}

/// Each role in plain English: what the API's roles let a person do (`core::capability::Role`), in the order
/// people meet them.
pub const ROLES: &[(Role, &str, &str)] = &[
    (
        Role::Drafter,
        "Drafter",
        "Starts notifications and registration applications, fills them in, uploads documents and answers the \
         Care Quality Commission's questions. Cannot send a notification or an application.",
    ),
    (
        Role::Submitter,
        "Submitter",
        "Does what a drafter does, and checks and sends notifications and applications to the Care Quality \
         Commission, including approving a colleague's draft when a second person must review it.",
    ),
    (Role::Viewer, "Viewer", "Sees everything the organisation has sent and is preparing, but cannot change anything."),
    (
        Role::Admin,
        "Admin",
        "Manages the team and the organisation's settings: invites people, changes what they can do and removes \
         them, and can upload documents. Does not prepare or send notifications without another role as well.",
    ),
];

pub(crate) fn roles_in_words(roles: &[Role]) -> String {
    // In the order of ROLES, whatever order the API gave.
    ROLES.iter().filter(|(r, ..)| roles.contains(r)).map(|(_, label, _)| *label).collect::<Vec<_>>().join(", ")
}

/// Whether the person is an admin of the organisation they work for, as the API said at sign-in. Only what
/// is offered depends on it: the API decides what is allowed.
pub fn is_admin(signed_in: &SignedIn) -> bool {
    signed_in.person.organisation().is_some_and(|o| o.roles.iter().any(|r| r == "admin"))
}

fn not_permitted(signed_in: &SignedIn) -> Response {
    crate::render::cannot(
        StatusCode::FORBIDDEN,
        signed_in.header("team"),
        "Only an admin can change the team",
        "Ask an admin of your organisation to make the change, or to make you an admin.",
        "/team",
        "Go back to your team",
    )
}

/// Where a membership applies, in words: every location, or the names of those it is limited to.
fn where_in_words(limits: &[Uuid], locations: &[LocationView]) -> String {
    if limits.is_empty() {
        return "Every location".into();
    }
    let names: Vec<String> = limits
        .iter()
        .map(|id| locations.iter().find(|l| l.id == *id).map_or_else(|| "Another location".into(), |l| l.name.clone()))
        .collect();
    names.join(", ")
}

async fn locations(signed_in: &SignedIn, organisation: Uuid) -> Result<Vec<LocationView>, Response> {
    match signed_in.client.list_locations().organisation_id(organisation).send().await {
        Ok(listed) => Ok(listed.into_inner().items),
        Err(error) => {
            tracing::error!(%error, "the API did not list the organisation's locations");
            Err(service_problem())
        }
    }
}

async fn members(signed_in: &SignedIn, organisation: Uuid) -> Result<Vec<MemberView>, Response> {
    match signed_in.client.list_members().organisation_id(organisation).send().await {
        Ok(listed) => Ok(listed.into_inner().items),
        Err(error) => {
            tracing::error!(%error, "the API did not list the organisation's members");
            Err(service_problem())
        }
    }
}

async fn show(State(_): State<Portal>, signed_in: SignedIn) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let message = flash::take(&signed_in.session, "/team").await;
    let admin = is_admin(&signed_in);
    let client = &signed_in.client;
    // Three calls side by side; invitations only for admins (the API shows them to no one else).
    let (members, invitations, locations) = tokio::join!(
        members(&signed_in, organisation),
        async { if admin { Some(client.list_invitations().organisation_id(organisation).send().await) } else { None } },
        locations(&signed_in, organisation),
    );
    let (mut members, locations) = match (members, locations) {
        (Ok(members), Ok(locations)) => (members, locations),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    let invitations = match invitations {
        None => Vec::new(),
        Some(Ok(listed)) => listed.into_inner().items,
        // Someone who stopped being an admin since signing in: the team without the invitations.
        Some(Err(error)) if error.http_status() == Some(403) => Vec::new(),
        Some(Err(error)) => {
            tracing::error!(%error, "the API did not list the organisation's invitations");
            return service_problem();
        }
    };
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    members.sort_by_key(|m| m.display_name.to_lowercase());
    let you = signed_in.person.user_id;
    let members: Vec<Value> = members
        .iter()
        .map(|m| {
            context! {
                name => m.display_name.clone(),
                email => m.email.clone(),
                roles => roles_in_words(&m.roles),
                where_ => where_in_words(&m.location_ids, &locations),
                joined => crate::england_time::day(m.joined_at),
                you => m.user_id == you,
                change => admin.then(|| format!("/team/members/{}", m.user_id)),
            }
        })
        .collect();
    let pending: Vec<Value> = invitations
        .iter()
        .filter(|i| i.status == InvitationStatus::Pending)
        .map(|i| {
            context! {
                email => i.email.clone(),
                roles => roles_in_words(&i.roles),
                where_ => where_in_words(&i.location_ids, &locations),
                expires => crate::england_time::day(i.expires_at),
                cancel => format!("/team/invitations/{}/cancel", i.id),
            }
        })
        .collect();
    let roles: Vec<Value> = ROLES
        .iter()
        .map(|(_, label, text)| context! { key => context! { text => label }, value => context! { text } })
        .collect();
    page(
        StatusCode::OK,
        "team/list.html",
        context! {
            title => "Your team",
            header => signed_in.header("team"),
            organisation => signed_in.person.organisation().map(|o| o.name.clone()),
            message, admin, members, pending, roles, csrf_token,
        },
    )
}

/// What the invite and change forms were sent (a checkbox list repeats its name, so not a struct).
struct Posted(Vec<(String, String)>);

impl Posted {
    fn value(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

/// A form's messages by field (`""` for one about the whole form).
type Errors = BTreeMap<&'static str, String>;

/// Roles, and the locations they are limited to (`None`: every location).
type Granted = (Vec<Role>, Option<Vec<Uuid>>);

/// The roles and locations asked on the invite and change forms, as typed (or as they are).
#[derive(Default)]
struct Choices {
    email: String,
    roles: Vec<String>,
    /// `every` or `some`; none before anything is chosen.
    where_: Option<String>,
    locations: Vec<String>,
}

impl Choices {
    fn of_member(member: &MemberView) -> Self {
        Self {
            email: member.email.clone(),
            roles: member.roles.iter().map(ToString::to_string).collect(),
            where_: Some(if member.location_ids.is_empty() { "every" } else { "some" }.into()),
            locations: member.location_ids.iter().map(ToString::to_string).collect(),
        }
    }

    fn posted(posted: &Posted) -> Self {
        Self {
            email: posted.value("email").unwrap_or_default().to_owned(),
            roles: posted.values("roles"),
            where_: posted.value("where").map(str::to_owned),
            locations: posted.values("locations"),
        }
    }

    /// The roles and location limits the API is to be sent, or what is wrong with them by field.
    fn read(&self, asks_where: bool) -> Result<Granted, Errors> {
        let mut errors = BTreeMap::new();
        let roles: Vec<Role> = self.roles.iter().filter_map(|r| r.parse().ok()).collect();
        if roles.is_empty() {
            errors.insert("roles", "Select at least one role".to_owned());
        }
        let limits = match (asks_where, self.where_.as_deref()) {
            (false, _) | (true, Some("every")) => None,
            (true, Some("some")) => {
                let ids: Vec<Uuid> = self.locations.iter().filter_map(|l| l.parse().ok()).collect();
                if ids.is_empty() {
                    errors.insert("locations", "Select the locations they work at".to_owned());
                }
                Some(ids)
            }
            (true, _) => {
                errors.insert("where", "Select whether they work at every location or only some".to_owned());
                None
            }
        };
        if errors.is_empty() { Ok((roles, limits)) } else { Err(errors) }
    }
}

/// What the invite or change form shows besides the choices.
struct FormPage<'a> {
    title: String,
    action: String,
    button: &'static str,
    /// The invite form asks for an email address; the change form names the member instead.
    asks_email: bool,
    remove: Option<String>,
    locations: &'a [LocationView],
    asks_where: bool,
}

async fn form_page(signed_in: &SignedIn, form: FormPage<'_>, choices: &Choices, errors: Errors) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    // The summary in the order of the page.
    let summary: Vec<Value> = ["", "email", "roles", "where", "locations"]
        .iter()
        .filter_map(|field| {
            let text = errors.get(field)?;
            let href = if field.is_empty() { "#main-content".to_owned() } else { format!("#{field}") };
            Some(context! { text, href })
        })
        .collect();
    let role_items: Vec<Value> = ROLES
        .iter()
        .map(|(role, label, text)| {
            let value = role.to_string();
            context! { value => value.clone(), text => label, hint => context! { text }, checked => choices.roles.contains(&value) }
        })
        .collect();
    let location_items: Vec<Value> = form
        .locations
        .iter()
        .map(|location| {
            let (name, address) = crate::location::describe(location);
            let value = location.id.to_string();
            context! { value => value.clone(), text => name, hint => context! { text => address }, checked => choices.locations.contains(&value) }
        })
        .collect();
    page(
        status,
        "team/member_form.html",
        context! {
            title => form.title,
            header => signed_in.header("team"),
            action => form.action,
            button => form.button,
            asks_email => form.asks_email,
            asks_where => form.asks_where,
            remove => form.remove,
            email => choices.email.clone(),
            where_ => choices.where_.clone(),
            role_items, location_items, csrf_token,
            errors => summary,
            error => errors.into_iter().map(|(field, text)| (field.to_owned(), text)).collect::<BTreeMap<_, _>>(),
        },
    )
}

/// The form's errors from the API's problem: each field error at its question, anything else at the top.
fn api_errors(problem: &provider_api_sdk::types::Problem, asks_where: bool) -> Errors {
    let mut errors = BTreeMap::new();
    for error in &problem.errors {
        let field = match error.pointer.split('/').nth(1).unwrap_or_default() {
            "email" => "email",
            "roles" => "roles",
            "location_ids" if asks_where => "locations",
            _ => "",
        };
        errors.entry(field).or_insert_with(|| error.detail.clone());
    }
    if errors.is_empty() {
        errors.insert("", problem.detail.clone());
    }
    errors
}

async fn invite_form(State(_): State<Portal>, signed_in: SignedIn) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    if !is_admin(&signed_in) {
        return not_permitted(&signed_in);
    }
    let locations = match locations(&signed_in, organisation).await {
        Ok(locations) => locations,
        Err(response) => return response,
    };
    form_page(&signed_in, invite_page(&locations), &Choices::default(), BTreeMap::new()).await
}

fn invite_page(locations: &[LocationView]) -> FormPage<'_> {
    FormPage {
        title: "Invite someone to your team".into(),
        action: "/team/invite".into(),
        button: "Send invitation",
        asks_email: true,
        remove: None,
        locations,
        // With one location there is no choice to make (a limit can be set later, if another is added).
        asks_where: locations.len() > 1,
    }
}

async fn invite(State(_): State<Portal>, signed_in: SignedIn, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let posted = Posted(fields);
    if let Err(response) = csrf::check(&signed_in.session, posted.value("csrf_token")).await {
        return response;
    }
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let locations = match locations(&signed_in, organisation).await {
        Ok(locations) => locations,
        Err(response) => return response,
    };
    let form = invite_page(&locations);
    let choices = Choices::posted(&posted);
    let mut errors = BTreeMap::new();
    let email = match choices.email.parse() {
        Ok(email) if !choices.email.is_empty() => Some(email),
        Ok(_) => {
            errors.insert("email", "Enter their email address".to_owned());
            None
        }
        Err(_) => {
            errors.insert("email", "Email address must be 254 characters or fewer".to_owned());
            None
        }
    };
    let read = choices.read(form.asks_where);
    let (email, (roles, limits)) = match (email, read) {
        (Some(email), Ok(read)) if errors.is_empty() => (email, read),
        (_, read) => {
            errors.extend(read.err().unwrap_or_default());
            return form_page(&signed_in, form, &choices, errors).await;
        }
    };
    let invitation = NewInvitation { email, roles, location_ids: limits.unwrap_or_default() };
    let sent = signed_in.client.create_invitation().organisation_id(organisation).body(invitation).send().await;
    match sent {
        Ok(_) => {
            flash::set(&signed_in.session, "/team", format!("Invitation sent to {}", choices.email)).await;
            Redirect::to("/team").into_response()
        }
        Err(error) => match error.problem() {
            Some(problem) if problem.status == 422 || problem.status == 400 => {
                let errors = api_errors(problem, form.asks_where);
                form_page(&signed_in, form, &choices, errors).await
            }
            Some(problem) if problem.status == 403 => not_permitted(&signed_in),
            Some(problem) if problem.code == "already_a_member" => {
                let said = "This person is already in your team. To change their roles or where they work, change \
                            them from the team page";
                let mut response =
                    form_page(&signed_in, form, &choices, BTreeMap::from([("email", said.to_owned())])).await;
                *response.status_mut() = StatusCode::CONFLICT;
                response
            }
            Some(problem) if problem.status == 503 => {
                let errors = BTreeMap::from([("", problem.detail.clone())]);
                let mut response = form_page(&signed_in, form, &choices, errors).await;
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                response
            }
            _ => {
                tracing::error!(%error, "the API did not send an invitation");
                service_problem()
            }
        },
    }
}

/// The member `user_id` of the person's organisation, with the organisation's locations.
async fn member(signed_in: &SignedIn, user_id: &str) -> Result<(Uuid, MemberView, Vec<LocationView>), Response> {
    let organisation = organisation(signed_in).map_err(|response| *response)?;
    let Ok(user_id) = user_id.parse::<Uuid>() else { return Err(not_found()) };
    let (members, locations) = tokio::join!(members(signed_in, organisation), locations(signed_in, organisation));
    let member = members?.into_iter().find(|m| m.user_id == user_id).ok_or_else(not_found)?;
    Ok((organisation, member, locations?))
}

/// A form posted about the member `user_id`: its CSRF token checked, then the member found as [`member`] does.
async fn member_post(
    signed_in: &SignedIn,
    user_id: &str,
    fields: Vec<(String, String)>,
) -> Result<(Posted, (Uuid, MemberView, Vec<LocationView>)), Response> {
    let posted = Posted(fields);
    csrf::check(&signed_in.session, posted.value("csrf_token")).await?;
    Ok((posted, member(signed_in, user_id).await?))
}

fn member_page<'a>(member: &MemberView, locations: &'a [LocationView], you: Uuid) -> FormPage<'a> {
    FormPage {
        title: format!("Change what {} can do", member.display_name),
        action: format!("/team/members/{}", member.user_id),
        button: "Save changes",
        asks_email: false,
        // Another admin removes you: removing yourself would leave you on a page you can no longer use.
        remove: (member.user_id != you).then(|| format!("/team/members/{}/remove", member.user_id)),
        locations,
        asks_where: locations.len() > 1 || !member.location_ids.is_empty(),
    }
}

async fn member_form(State(_): State<Portal>, signed_in: SignedIn, Path(user_id): Path<String>) -> Response {
    if !is_admin(&signed_in) {
        return not_permitted(&signed_in);
    }
    let (_, member, locations) = match member(&signed_in, &user_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    form_page(
        &signed_in,
        member_page(&member, &locations, signed_in.person.user_id),
        &Choices::of_member(&member),
        BTreeMap::new(),
    )
    .await
}

async fn change_member(
    State(_): State<Portal>,
    signed_in: SignedIn,
    Path(user_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (posted, (organisation, member, locations)) = match member_post(&signed_in, &user_id, fields).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = member_page(&member, &locations, signed_in.person.user_id);
    let choices = Choices { email: member.email.clone(), ..Choices::posted(&posted) };
    let (roles, location_ids) = match choices.read(form.asks_where) {
        Ok(read) => read,
        Err(errors) => return form_page(&signed_in, form, &choices, errors).await,
    };
    let change = MemberRoles { roles, location_ids };
    let request = signed_in.client.update_member().organisation_id(organisation).user_id(member.user_id);
    match request.body(change).send().await {
        Ok(_) => {
            flash::set(
                &signed_in.session,
                "/team",
                format!("{}'s roles and locations have been changed", member.display_name),
            )
            .await;
            Redirect::to("/team").into_response()
        }
        Err(error) => match error.problem() {
            Some(problem) if problem.code == "last_admin" => {
                let errors = BTreeMap::from([(
                    "roles",
                    "Keep Admin selected: your organisation needs an admin. Make someone else an admin first"
                        .to_owned(),
                )]);
                form_page(&signed_in, form, &choices, errors).await
            }
            Some(problem) if problem.status == 422 || problem.status == 400 => {
                let errors = api_errors(problem, form.asks_where);
                form_page(&signed_in, form, &choices, errors).await
            }
            Some(problem) if problem.status == 403 => not_permitted(&signed_in),
            Some(problem) if problem.status == 404 => not_found(),
            _ => {
                tracing::error!(%error, "the API did not change a member's roles");
                service_problem()
            }
        },
    }
}

async fn removal_page(signed_in: &SignedIn, member: &MemberView, error: Option<&str>) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let errors: Vec<Value> = error.map(|text| context! { text, href => "#remove" }).into_iter().collect();
    page(
        if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK },
        "team/remove.html",
        context! {
            title => format!("Are you sure you want to remove {} from your team?", member.display_name),
            header => signed_in.header("team"),
            name => member.display_name.clone(),
            action => format!("/team/members/{}/remove", member.user_id),
            back => format!("/team/members/{}", member.user_id),
            organisation => signed_in.person.organisation().map(|o| o.name.clone()),
            csrf_token, errors,
        },
    )
}

/// Someone removing themselves would be left on pages they can no longer use: another admin does it.
fn not_yourself(signed_in: &SignedIn) -> Response {
    crate::render::cannot(
        StatusCode::FORBIDDEN,
        signed_in.header("team"),
        "You cannot remove yourself from your team",
        "Ask another admin of your organisation to remove you. If you are its only admin, make someone \
                     else an admin first.",
        "/team",
        "Go back to your team",
    )
}

async fn confirm_removal(State(_): State<Portal>, signed_in: SignedIn, Path(user_id): Path<String>) -> Response {
    if !is_admin(&signed_in) {
        return not_permitted(&signed_in);
    }
    match member(&signed_in, &user_id).await {
        Ok((_, member, _)) if member.user_id == signed_in.person.user_id => not_yourself(&signed_in),
        Ok((_, member, _)) => removal_page(&signed_in, &member, None).await,
        Err(response) => response,
    }
}

async fn remove(
    State(_): State<Portal>,
    signed_in: SignedIn,
    Path(user_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (_, (organisation, member, _)) = match member_post(&signed_in, &user_id, fields).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if member.user_id == signed_in.person.user_id {
        return not_yourself(&signed_in);
    }
    let request = signed_in.client.remove_member().organisation_id(organisation).user_id(member.user_id);
    match request.send().await {
        Ok(_) => {
            flash::set(&signed_in.session, "/team", format!("{} has been removed from your team", member.display_name))
                .await;
            Redirect::to("/team").into_response()
        }
        Err(error) => match error.problem() {
            Some(problem) if problem.code == "last_admin" => {
                let text = format!(
                    "{} is your organisation's only admin. Make someone else an admin before removing them",
                    member.display_name
                );
                removal_page(&signed_in, &member, Some(&text)).await
            }
            Some(problem) if problem.status == 403 => not_permitted(&signed_in),
            Some(problem) if problem.status == 404 => not_found(),
            _ => {
                tracing::error!(%error, "the API did not remove a member");
                service_problem()
            }
        },
    }
}

async fn cancel_invitation(
    State(_): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(fields);
    if let Err(response) = csrf::check(&signed_in.session, posted.value("csrf_token")).await {
        return response;
    }
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let Ok(id) = id.parse::<Uuid>() else { return not_found() };
    match signed_in.client.revoke_invitation().organisation_id(organisation).invitation_id(id).send().await {
        Ok(_) => flash::set(&signed_in.session, "/team", "The invitation has been cancelled").await,
        Err(error) => match error.problem() {
            // Accepted, cancelled or expired meanwhile: the list now says which.
            Some(problem) if problem.status == 409 => {
                let text = "The invitation could not be cancelled: it is no longer waiting to be accepted";
                flash::set(&signed_in.session, "/team", text).await
            }
            Some(problem) if problem.status == 403 => return not_permitted(&signed_in),
            Some(problem) if problem.status == 404 => return not_found(),
            _ => {
                tracing::error!(%error, "the API did not cancel an invitation");
                return service_problem();
            }
        },
    }
    Redirect::to("/team").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_named_in_one_order_whatever_the_api_gave() {
        assert_eq!(roles_in_words(&[Role::Submitter, Role::Admin, Role::Drafter]), "Drafter, Submitter, Admin");
    }

    #[test]
    fn a_limit_needs_a_location_and_a_choice_needs_a_role() {
        let none = Choices { where_: Some("some".into()), ..Choices::default() };
        let errors = none.read(true).unwrap_err();
        assert!(errors.contains_key("roles") && errors.contains_key("locations"), "{errors:?}");
        let unasked = Choices { roles: vec!["drafter".into()], ..Choices::default() };
        assert_eq!(unasked.read(false).unwrap(), (vec![Role::Drafter], None), "one location: no limit asked");
        assert!(unasked.read(true).unwrap_err().contains_key("where"));
    }
}
