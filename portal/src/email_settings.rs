//! "Your email settings": which of the emails about waiting work the person receives (docs/emails.md), for
//! every organisation they belong to. The same two API calls any client makes (`GET/PUT
//! /v1/me/email-preferences`); an unticked box is an email turned off.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::types::EmailPreferences;

use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf, flash};

pub const PATH: &str = "/settings/emails";

/// Each choice: its form value, its words, who it reaches, and whether it is on.
fn choices(preferences: &EmailPreferences) -> Vec<minijinja::Value> {
    [
        (
            "review_waiting",
            "A colleague asks you to review a notification and send it",
            "If you have the submitter role.",
            preferences.review_waiting,
        ),
        (
            "question_asked",
            "The Care Quality Commission asks a question about a notification",
            "If you sent it or have the submitter role.",
            preferences.question_asked,
        ),
        (
            "notification_due",
            "A draft notification you are preparing is due soon",
            "If you started it or changed it last.",
            preferences.notification_due,
        ),
        (
            "notification_late",
            "A draft notification you are preparing is late",
            "If you started it or changed it last.",
            preferences.notification_late,
        ),
        (
            "registration_information_requested",
            "The Care Quality Commission needs more information about a registration application",
            "If you made the application or are an admin.",
            preferences.registration_information_requested,
        ),
    ]
    .into_iter()
    .map(|(value, text, hint, checked)| context! { value, text, hint => context! { text => hint }, checked })
    .collect()
}

pub async fn show(State(_): State<Portal>, signed_in: SignedIn) -> Response {
    let preferences = match signed_in.client.get_email_preferences().send().await {
        Ok(preferences) => preferences.into_inner(),
        Err(error) => {
            tracing::error!(%error, "the API did not give the person's email preferences");
            return service_problem();
        }
    };
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let message = flash::take(&signed_in.session, PATH).await;
    page(
        StatusCode::OK,
        "settings/emails.html",
        context! {
            title => "Your email settings",
            header => signed_in.header("settings"),
            person => signed_in.person.name.clone(),
            items => choices(&preferences),
            csrf_token, message,
        },
    )
}

/// The boxes ticked: each a field of the same name (`emails`), as checkboxes send them.
pub async fn save(State(_): State<Portal>, signed_in: SignedIn, Form(posted): Form<Vec<(String, String)>>) -> Response {
    let token = posted.iter().find(|(name, _)| name == "csrf_token").map(|(_, value)| value.as_str());
    if let Err(response) = csrf::check(&signed_in.session, token).await {
        return response;
    }
    let ticked = |kind: &str| posted.iter().any(|(name, value)| name == "emails" && value == kind);
    let preferences = EmailPreferences {
        review_waiting: ticked("review_waiting"),
        question_asked: ticked("question_asked"),
        notification_due: ticked("notification_due"),
        notification_late: ticked("notification_late"),
        registration_information_requested: ticked("registration_information_requested"),
    };
    match signed_in.client.put_email_preferences().body(preferences).send().await {
        Ok(_) => {
            flash::set(&signed_in.session, PATH, "Email settings saved").await;
            Redirect::to(PATH).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "the API did not save the person's email preferences");
            service_problem()
        }
    }
}
