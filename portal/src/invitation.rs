//! Accepting an invitation, from the link in its email (`/invitations/accept?token=…`), before anyone is
//! signed in: someone new makes their account with their name and a password; someone with an account gives
//! its password. Either way the API makes them a member with the invited roles, and they then sign in.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::Acceptance;
use tower_sessions::Session;

use crate::address::PersonAddress;
use crate::render::{page, service_problem};
use crate::{Portal, csrf};

#[derive(serde::Deserialize, Default)]
pub struct Link {
    token: Option<String>,
}

/// What the form was sent, or shows again.
#[derive(serde::Deserialize, Default)]
pub struct Answers {
    csrf_token: Option<String>,
    #[serde(default)]
    token: String,
    /// Set when the code came in the email's link, so the page keeps it without showing it.
    from_link: Option<String>,
    /// `yes` (they have an account) or `no`.
    have_account: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    new_password: String,
}

/// The fields in the order the page asks them, for the error summary.
const FIELDS: &[&str] = &["", "token", "have_account", "password", "name", "new_password"];

async fn form(session: &Session, answers: &Answers, from_link: bool, errors: Vec<(&'static str, String)>) -> Response {
    let csrf_token = match csrf::token(session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let summary: Vec<Value> = FIELDS
        .iter()
        .filter_map(|field| {
            let (_, text) = errors.iter().find(|(f, _)| f == field)?;
            let href =
                if field.is_empty() { "#main-content".to_owned() } else { format!("#{}", field.replace('_', "-")) };
            Some(context! { text, href })
        })
        .collect();
    let error: std::collections::BTreeMap<&str, String> = errors.into_iter().collect();
    // A code from the link is a secret kept out of sight, unless it is what was refused.
    let asks_token = !from_link || error.contains_key("token");
    page(
        status,
        "invitations/accept.html",
        context! {
            title => "Accept your invitation",
            errors => summary,
            error,
            csrf_token,
            from_link, asks_token,
            token => answers.token.clone(),
            have_account => answers.have_account.clone(),
            name => answers.name.clone(),
        },
    )
}

pub async fn show(session: Session, Query(link): Query<Link>) -> Response {
    let token = link.token.unwrap_or_default().trim().to_owned();
    let from_link = !token.is_empty();
    form(&session, &Answers { token, ..Answers::default() }, from_link, Vec::new()).await
}

pub async fn accept(
    State(portal): State<Portal>,
    session: Session,
    PersonAddress(address): PersonAddress,
    Form(answers): Form<Answers>,
) -> Response {
    if let Err(response) = csrf::check(&session, answers.csrf_token.as_deref()).await {
        return response;
    }
    let from_link = answers.from_link.is_some();
    let has_account = match answers.have_account.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let mut errors = Vec::new();
    if answers.token.trim().is_empty() {
        errors.push(("token", "Enter the invitation code from your email".to_owned()));
    }
    match has_account {
        None => errors.push(("have_account", "Select yes if you already have an account for this service".into())),
        Some(true) => {
            if answers.password.is_empty() {
                errors.push(("password", "Enter your password".into()));
            }
        }
        Some(false) => {
            if answers.name.trim().is_empty() {
                errors.push(("name", "Enter your full name".into()));
            }
            if answers.new_password.is_empty() {
                errors.push(("new_password", "Create a password".into()));
            }
        }
    }
    if !errors.is_empty() {
        return form(&session, &answers, from_link, errors).await;
    }
    let password = if has_account == Some(true) { &answers.password } else { &answers.new_password };
    let name = (has_account == Some(false)).then(|| answers.name.trim().to_owned());
    let acceptance = (|| {
        Some(Acceptance {
            token: answers.token.trim().parse().ok()?,
            password: password.parse().ok()?,
            display_name: match &name {
                Some(name) => Some(name.parse().ok()?),
                None => None,
            },
        })
    })();
    // Everything is there, so what the SDK's types refuse is a length past the API's.
    let Some(acceptance) = acceptance else {
        let too_long = if answers.token.trim().len() > 100 {
            ("token", "The invitation code is too long: copy it from your email again")
        } else if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            ("name", "Full name must be 200 characters or fewer")
        } else if has_account == Some(true) {
            ("password", "Password must be 256 characters or fewer")
        } else {
            ("new_password", "Password must be 256 characters or fewer")
        };
        return form(&session, &answers, from_link, vec![(too_long.0, too_long.1.to_owned())]).await;
    };
    let client = portal.anonymous_client(address);
    match client.accept_invitation().body(acceptance).send().await {
        Ok(accepted) => {
            let accepted = accepted.into_inner();
            page(
                StatusCode::OK,
                "invitations/accepted.html",
                context! {
                    title => "You have joined the team",
                    roles => crate::team::roles_in_words(&accepted.roles),
                    account_created => accepted.account_created,
                },
            )
        }
        Err(error) => {
            let Some(problem) = error.problem() else {
                tracing::error!(%error, "the API did not accept an invitation");
                return service_problem();
            };
            let errors = match problem.status {
                422 | 400 => problem
                    .errors
                    .iter()
                    .map(|e| match (e.pointer.as_str(), has_account) {
                        ("/token", _) => ("token", e.detail.clone()),
                        ("/display_name", Some(true)) => (
                            "have_account",
                            "There is no account for the invited email address yet: select No and create one".into(),
                        ),
                        ("/display_name", _) => ("name", e.detail.clone()),
                        ("/password", Some(true)) => ("password", e.detail.clone()),
                        ("/password", _) => ("new_password", e.detail.clone()),
                        _ => ("", e.detail.clone()),
                    })
                    .collect(),
                401 if has_account == Some(true) => {
                    vec![("password", "The password is not right for the account of the invited email address".into())]
                }
                401 => vec![(
                    "have_account",
                    "There is already an account for the invited email address: select Yes and enter its password"
                        .into(),
                )],
                409 | 429 => {
                    let status =
                        if problem.status == 429 { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::CONFLICT };
                    let mut response = form(&session, &answers, from_link, vec![("", problem.detail.clone())]).await;
                    *response.status_mut() = status;
                    return response;
                }
                _ => {
                    tracing::error!(%error, "the API did not accept an invitation");
                    return service_problem();
                }
            };
            form(&session, &answers, from_link, errors).await
        }
    }
}
