//! Which of the organisation's locations a notification is about, asked when there is a choice (an
//! organisation with one location, or a person limited to one, is never asked). The API lists only the
//! locations the person may act for.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{LocationView, NotificationPatch, Status};
use uuid::Uuid;

use crate::notifications::{Loaded, load, load_for_form};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf};

/// The locations a notification can be about: those the person may act for (the API's list applies their
/// location limits) that are registered with the regulator (a notification can only concern a registered
/// location). Two calls, side by side.
pub async fn choices(signed_in: &SignedIn, organisation: Uuid) -> Result<Vec<LocationView>, Response> {
    let client = &signed_in.client;
    let (listed, registered) = tokio::join!(
        client.list_locations().organisation_id(organisation).send(),
        client.registration_details().organisation_id(organisation).send(),
    );
    match (listed, registered) {
        (Ok(listed), Ok(registered)) => {
            let registered = registered.into_inner().locations;
            let mut locations = listed.into_inner().items;
            locations.retain(|location| registered.iter().any(|r| r.id == location.id));
            Ok(locations)
        }
        // Registration is the whole organisation's, so someone limited to some locations may not read it: their
        // locations are the choice (as the API told the portal at sign-in), and the API still refuses one that
        // is not registered.
        (Ok(listed), Err(error)) if error.http_status() == Some(403) => {
            let theirs = signed_in.person.organisation().map(|o| o.location_ids.clone()).unwrap_or_default();
            let mut locations = listed.into_inner().items;
            locations.retain(|location| theirs.contains(&location.id));
            Ok(locations)
        }
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "the API did not list the organisation's locations or registration");
            Err(service_problem())
        }
    }
}

/// A location as people know it: its name and the first line of its address and postcode.
pub fn describe(location: &LocationView) -> (String, String) {
    let address = &location.address;
    (location.name.clone(), format!("{}, {}", address.line_1.as_str(), address.postcode.as_str()))
}

#[derive(serde::Deserialize, Default)]
pub struct Asked {
    /// Set when they came from check your answers, to go back there.
    change: Option<String>,
}

pub async fn ask(
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(asked): Query<Asked>,
) -> Response {
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if loaded.notification.status != Status::Draft {
        return Redirect::to(&format!("/notifications/{}", loaded.notification.id)).into_response();
    }
    let chosen = loaded.notification.location_id;
    location_page(&signed_in, &loaded, chosen, asked.change.is_some(), None, StatusCode::OK).await
}

async fn location_page(
    signed_in: &SignedIn,
    loaded: &Loaded,
    chosen: Option<Uuid>,
    change: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let locations = match choices(signed_in, loaded.organisation).await {
        Ok(locations) => locations,
        Err(response) => return response,
    };
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let items: Vec<_> = locations
        .iter()
        .map(|location| {
            let (name, address) = describe(location);
            context! { value => location.id.to_string(), text => name, hint => context! { text => address }, checked => Some(location.id) == chosen }
        })
        .collect();
    let errors: Vec<_> = error.map(|text| context! { text, href => "#location" }).into_iter().collect();
    let mut hidden = vec![
        context! { name => "csrf_token", value => csrf_token },
        context! { name => "version", value => loaded.notification.version },
    ];
    if change {
        hidden.push(context! { name => "change", value => "yes" });
    }
    page(
        status,
        "radios_question.html",
        context! {
            title => "Which location is it about?",
            caption => loaded.title.clone(),
            header => signed_in.header("notifications"),
            action => format!("/notifications/{}/location", loaded.notification.id),
            hidden,
            name => "location",
            hint => "The place where it happened, or that the person it is about receives care from.",
            items, errors, error_message => error,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct Choice {
    csrf_token: Option<String>,
    version: Option<i64>,
    location: Option<String>,
    change: Option<String>,
}

pub async fn choose(
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<Choice>,
) -> Response {
    let loaded = match load_for_form(&portal, &signed_in, &id, form.csrf_token.as_deref()).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let change = form.change.is_some();
    let refuse = |text: &'static str| {
        let loaded = &loaded;
        let signed_in = &signed_in;
        async move {
            let chosen = loaded.notification.location_id;
            location_page(signed_in, loaded, chosen, change, Some(text), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    };
    let Some(location) = form.location.as_deref().and_then(|l| l.parse::<Uuid>().ok()) else {
        return refuse("Select the location it is about").await;
    };
    let version = form.version.unwrap_or_default();
    let patch = NotificationPatch {
        location_id: Some(location),
        content: serde_json::Map::new(),
        attachments: None,
        follows_id: None,
    };
    let saved = crate::notifications::save_draft(&signed_in, &loaded, &version.to_string(), patch).await;
    let id = loaded.notification.id;
    match saved {
        Ok(_) if change => Redirect::to(&format!("/notifications/{id}/check")).into_response(),
        Ok(_) => Redirect::to(&format!("/notifications/{id}/pages/1")).into_response(),
        Err(error) => match error.problem() {
            // A location that is not theirs (an edited form) is no choice; a colleague's change meanwhile means
            // looking again.
            Some(problem) if problem.status == 422 => refuse("Select one of the locations listed").await,
            Some(problem) if problem.status == 412 => {
                refuse("Someone else changed this notification: check the location and select Continue").await
            }
            _ => {
                tracing::error!(%error, "the API did not save a notification's location");
                service_problem()
            }
        },
    }
}
