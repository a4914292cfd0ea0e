//! The organisation's settings (admins change them; everyone can read them): whether a second person reviews
//! what people send (four eyes), and whether care-management software sends without a person's approval. The
//! API holds the rule (docs/review.md): four eyes applies only while two people can send, so a one-person
//! provider is never stuck; this page says which is the case now.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{OrganisationChanges, OrganisationView, SettingsChanges};
use uuid::Uuid;

use crate::notifications::organisation;
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::team::is_admin;
use crate::{Portal, csrf, flash};

/// The organisation as it is now, with its version (the ETag an update must name).
async fn current(signed_in: &SignedIn, organisation: Uuid) -> Result<(OrganisationView, String), Response> {
    match signed_in.client.get_organisation().organisation_id(organisation).send().await {
        Ok(response) => {
            // The number inside the ETag's quotes: the form carries it, and the save quotes it again.
            let version = response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned();
            Ok((response.into_inner(), version))
        }
        Err(error) => {
            tracing::error!(%error, "the API did not give the organisation");
            Err(service_problem())
        }
    }
}

/// What the settings mean for this organisation now, in words.
fn in_words(view: &OrganisationView) -> (&'static str, &'static str) {
    let settings = &view.settings;
    let four_eyes = match (settings.four_eyes, settings.four_eyes_in_effect.unwrap_or(settings.four_eyes)) {
        (true, true) => {
            "A second person reviews what people send. Someone with the submitter role sends a draft they did not \
             change last, or approves it so that the person who did can send it."
        }
        (true, false) => {
            "On, but it applies only while at least two people have the submitter role. At the moment fewer do, so \
             your submitter sends their own notifications. The review starts when a second person can send."
        }
        (false, _) => "Off. Anyone with the submitter role sends what they prepared, without a second person.",
    };
    let software = if settings.software_submits {
        "Yes. Software your organisation connected can send notifications on its own."
    } else {
        "No. Software prepares drafts; a person with the submitter role approves each one before it is sent."
    };
    (four_eyes, software)
}

/// What is wrong with a save: a question left unanswered, or the settings changed by someone else since.
#[derive(Default)]
struct Problems {
    four_eyes: Option<&'static str>,
    software_submits: Option<&'static str>,
    changed: Option<&'static str>,
}

async fn settings_page(
    signed_in: &SignedIn,
    view: &OrganisationView,
    version: &str,
    chosen: (Option<bool>, Option<bool>),
    problems: Problems,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let (four_eyes_now, software_now) = in_words(view);
    let yes_no = |chosen: Option<bool>, yes: &str, no: &str| -> Vec<Value> {
        vec![
            context! { value => "yes", text => yes, checked => chosen == Some(true) },
            context! { value => "no", text => no, checked => chosen == Some(false) },
        ]
    };
    let errors: Vec<Value> = [
        (problems.changed, "#main-content"),
        (problems.four_eyes, "#four_eyes"),
        (problems.software_submits, "#software_submits"),
    ]
    .into_iter()
    .filter_map(|(text, href)| text.map(|text| context! { text, href }))
    .collect();
    page(
        status,
        "pages/settings.html",
        context! {
            title => "Settings",
            header => signed_in.header("settings"),
            organisation => view.name.clone(),
            admin => is_admin(signed_in),
            message, four_eyes_now, software_now, version, csrf_token, errors,
            changed => problems.changed,
            four_eyes_error => problems.four_eyes,
            software_error => problems.software_submits,
            four_eyes_items => yes_no(
                chosen.0,
                "Yes, a second person reviews what people send, while two or more people can send",
                "No, people send what they prepared",
            ),
            software_items => yes_no(
                chosen.1,
                "Yes, software can send on its own",
                "No, a person approves what software prepares",
            ),
        },
    )
}

pub async fn show(State(_): State<Portal>, signed_in: SignedIn) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let message = flash::take(&signed_in.session, "/settings").await;
    match current(&signed_in, organisation).await {
        Ok((view, version)) => {
            let chosen = (Some(view.settings.four_eyes), Some(view.settings.software_submits));
            settings_page(&signed_in, &view, &version, chosen, Problems::default(), StatusCode::OK, message).await
        }
        Err(response) => response,
    }
}

#[derive(serde::Deserialize)]
pub struct Posted {
    csrf_token: Option<String>,
    version: Option<String>,
    four_eyes: Option<String>,
    software_submits: Option<String>,
}

fn yes(answer: Option<&str>) -> Option<bool> {
    match answer {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

pub async fn save(State(_): State<Portal>, signed_in: SignedIn, Form(posted): Form<Posted>) -> Response {
    if let Err(response) = csrf::check(&signed_in.session, posted.csrf_token.as_deref()).await {
        return response;
    }
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let chosen = (yes(posted.four_eyes.as_deref()), yes(posted.software_submits.as_deref()));
    let (Some(four_eyes), Some(software_submits)) = chosen else {
        let problems = Problems {
            four_eyes: chosen.0.is_none().then_some("Select whether a second person reviews notifications"),
            software_submits: chosen.1.is_none().then_some("Select whether your software can send on its own"),
            changed: None,
        };
        return match current(&signed_in, organisation).await {
            Ok((view, version)) => {
                settings_page(&signed_in, &view, &version, chosen, problems, StatusCode::UNPROCESSABLE_ENTITY, None)
                    .await
            }
            Err(response) => response,
        };
    };
    // The version this page was loaded at (digits only; anything else is no version, so a stale save).
    let version = posted.version.as_deref().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let changes = OrganisationChanges {
        name: None,
        settings: Some(SettingsChanges { four_eyes: Some(four_eyes), software_submits: Some(software_submits) }),
    };
    let request = signed_in.client.update_organisation().organisation_id(organisation);
    match request.if_match(format!("\"{version}\"")).body(changes).send().await {
        Ok(_) => {
            flash::set(&signed_in.session, "/settings", "Settings saved").await;
            Redirect::to("/settings").into_response()
        }
        Err(error) => match error.problem() {
            // Shown as they are now, so that saving again is a choice made on what the colleague saved.
            Some(problem) if problem.status == 412 => match current(&signed_in, organisation).await {
                Ok((view, version)) => {
                    let now = (Some(view.settings.four_eyes), Some(view.settings.software_submits));
                    let problems = Problems {
                        changed: Some(
                            "The settings have changed since you opened this page (in another tab, or by a colleague). \
                             These are the settings now: check them and save again if you still want to change them",
                        ),
                        ..Problems::default()
                    };
                    settings_page(&signed_in, &view, &version, now, problems, StatusCode::CONFLICT, None).await
                }
                Err(response) => response,
            },
            Some(problem) if problem.status == 403 => crate::render::cannot(
                StatusCode::FORBIDDEN,
                signed_in.header("settings"),
                "Only an admin can change the settings",
                "Ask an admin of your organisation to make the change.",
                "/settings",
                "Go back to the settings",
            ),
            _ => {
                tracing::error!(%error, "the API did not save the organisation's settings");
                service_problem()
            }
        },
    }
}
