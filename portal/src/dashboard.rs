//! "Your tasks": what the person's team has waiting, at a glance. Drafts (for a submitter to review and send),
//! the regulator's questions to answer, and what was sent recently, each with a count. The API applies the
//! person's location limits to every list, so a member limited to some locations sees only theirs.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::types::{NotificationSummary, Status};

use crate::Portal;
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;

/// How many of each kind the page lists; "or more" beyond.
const SHOWN: u32 = 10;

pub async fn show(State(portal): State<Portal>, signed_in: SignedIn) -> Response {
    let Some(organisation) = signed_in.person.organisation().cloned() else {
        return Redirect::to("/choose-organisation?return_to=%2Fdashboard").into_response();
    };
    let client = &signed_in.client;
    let list = |status: Status| {
        client.list_notifications().organisation_id(organisation.id).status(status).limit(SHOWN).send()
    };
    // One request each, side by side: the page costs three API calls whatever is listed (none per row; the
    // types' titles come from the reference cache).
    let (types, drafts, questions, sent) = tokio::join!(
        portal.reference().types(),
        list(Status::Draft),
        list(Status::InformationRequested),
        list(Status::Submitted),
    );
    let (Ok(types), Ok(drafts), Ok(questions), Ok(sent)) = (types, drafts, questions, sent) else {
        tracing::error!("the API did not list the dashboard's notifications");
        return service_problem();
    };
    let titles: HashMap<String, String> = types.iter().map(|t| (t.type_.to_string(), t.title.clone())).collect();
    // Each notification with its reference and the date that matters (a list, which reflows at any width).
    let rows = |page: provider_api_sdk::types::NotificationPage, when: When| {
        let rows: Vec<_> = page.items.iter().map(|n| row(n, &titles, when)).collect();
        let count = if page.next.is_some() { format!("{} or more", rows.len()) } else { rows.len().to_string() };
        context! { rows, count }
    };
    page(
        StatusCode::OK,
        "pages/dashboard.html",
        context! {
            title => "Your tasks",
            header => signed_in.header("tasks"),
            // Starting one is offered to those whose roles let them prepare one (the API decides anyway).
            can_draft => organisation.roles.iter().any(|r| r == "drafter" || r == "submitter"),
            organisation => organisation.name,
            drafts => rows(drafts.into_inner(), When::Started),
            questions => rows(questions.into_inner(), When::Sent),
            sent => rows(sent.into_inner(), When::Sent),
        },
    )
}

#[derive(Clone, Copy)]
enum When {
    Started,
    Sent,
}

fn row(notification: &NotificationSummary, titles: &HashMap<String, String>, when: When) -> minijinja::Value {
    let code = notification.type_.to_string();
    let date = match when {
        When::Started => Some(notification.created_at),
        When::Sent => notification.submitted_at,
    };
    context! {
        id => notification.id.to_string(),
        title => titles.get(&code).cloned().unwrap_or(code),
        reference => notification.reference.clone(),
        provider_reference => notification.provider_reference.clone(),
        date => date.map(crate::england_time::day).unwrap_or_default(),
    }
}
