//! All of the organisation's notifications, newest first, filtered by status and type, a page at a time. The
//! API applies the person's location limits, so a member limited to some locations sees only theirs.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{NotificationSummary, NotificationType, Status};
use serde::Deserialize;

use crate::Portal;
use crate::notifications::{organisation, types};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;

/// Notifications on one page of the list.
const PAGE_SIZE: u32 = 20;

/// How far back "Previous" can go: the list carries the cursors of the pages before it in its address.
const MOST_PAGES_REMEMBERED: usize = 50;

/// Each status as people read it, with the GOV.UK tag colour that marks it.
pub(crate) fn status_label(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Draft => ("Draft", "govuk-tag--grey"),
        Status::Submitted => ("Sent", "govuk-tag--blue"),
        Status::Acknowledged => ("Received", "govuk-tag--turquoise"),
        Status::InformationRequested => ("Question to answer", "govuk-tag--orange"),
        Status::Responded => ("Answered", "govuk-tag--purple"),
        Status::Closed => ("Closed", "govuk-tag--green"),
        Status::Discarded => ("Discarded", "govuk-tag--grey"),
    }
}

const STATUSES: [Status; 7] = [
    Status::Draft,
    Status::Submitted,
    Status::Acknowledged,
    Status::InformationRequested,
    Status::Responded,
    Status::Closed,
    Status::Discarded,
];

#[derive(Deserialize, Default)]
pub struct Filters {
    status: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The page to show (the API's opaque cursor); the first when absent.
    cursor: Option<String>,
    /// The cursors of the pages before this one, oldest first, comma-separated (the first page's is empty).
    earlier: Option<String>,
}

pub async fn show(State(portal): State<Portal>, signed_in: SignedIn, Query(filters): Query<Filters>) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let types = match types(&portal).await {
        Ok(types) => types,
        Err(response) => return response,
    };
    // A value the filters do not offer (an edited address) is no filter, not an error.
    let status = filters.status.as_deref().and_then(|s| STATUSES.into_iter().find(|t| t.to_string() == s));
    let kind = filters.kind.as_deref().and_then(|k| k.parse::<NotificationType>().ok());
    let cursor = filters.cursor.clone().filter(|c| !c.is_empty());
    let mut request = signed_in.client.list_notifications().organisation_id(organisation).limit(PAGE_SIZE);
    if let Some(status) = status {
        request = request.status(status);
    }
    if let Some(kind) = kind {
        request = request.type_(kind);
    }
    if let Some(cursor) = &cursor {
        request = request.cursor(cursor.clone());
    }
    let listed = match request.send().await {
        Ok(listed) => listed.into_inner(),
        // A cursor that is not the API's (edited, or from an older deployment): start again at the first page.
        Err(error) if error.http_status() == Some(400) && cursor.is_some() => {
            return Redirect::to(&address(status, kind.as_ref(), None, &[])).into_response();
        }
        Err(error) => {
            tracing::error!(%error, "the API did not list notifications");
            return service_problem();
        }
    };

    let titles: HashMap<String, String> = types.iter().map(|t| (t.type_.to_string(), t.title.clone())).collect();
    let rows: Vec<_> = listed.items.iter().map(|n| row(n, &titles)).collect();
    let earlier: Vec<String> = match &filters.earlier {
        Some(list) if cursor.is_some() => list.split(',').map(str::to_owned).take(MOST_PAGES_REMEMBERED).collect(),
        _ => Vec::new(),
    };
    let number = if cursor.is_some() { earlier.len().max(1) + 1 } else { 1 };
    let previous = cursor.as_ref().map(|_| {
        let (before, rest) = earlier.split_last().map_or((None, &[][..]), |(last, rest)| (Some(last.as_str()), rest));
        address(status, kind.as_ref(), before.filter(|c| !c.is_empty()), rest)
    });
    let next = listed.next.as_ref().map(|next| {
        let mut to = earlier.clone();
        to.push(cursor.clone().unwrap_or_default());
        address(status, kind.as_ref(), Some(next), &to)
    });
    let status_options: Vec<_> = std::iter::once(context! { value => "", text => "Any status" })
        .chain(STATUSES.iter().map(|s| {
            context! { value => s.to_string(), text => status_label(*s).0, selected => Some(*s) == status }
        }))
        .collect();
    let type_options: Vec<_> = std::iter::once(context! { value => "", text => "Any type" })
        .chain(types.iter().map(|t| {
            context! { value => t.type_.to_string(), text => t.title.clone(), selected => Some(&t.type_) == kind.as_ref() }
        }))
        .collect();
    let filtered = status.is_some() || kind.is_some();
    let title = if number > 1 { format!("Notifications (page {number})") } else { "Notifications".to_owned() };
    page(
        StatusCode::OK,
        "notifications/list.html",
        context! {
            title,
            header => signed_in.header("notifications"),
            organisation => signed_in.person.organisation().map(|o| o.name.clone()),
            rows,
            status_options,
            type_options,
            filtered,
            previous,
            next,
            number,
        },
    )
}

/// The list's address for these filters, at the page `cursor` (the first when `None`), remembering `earlier`.
fn address(
    status: Option<Status>,
    kind: Option<&NotificationType>,
    cursor: Option<&str>,
    earlier: &[String],
) -> String {
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(status) = status {
        query.push(("status", status.to_string()));
    }
    if let Some(kind) = kind {
        query.push(("type", kind.to_string()));
    }
    if let Some(cursor) = cursor {
        query.push(("cursor", cursor.to_owned()));
        query.push(("earlier", earlier.join(",")));
    }
    if query.is_empty() {
        return "/notifications".to_owned();
    }
    format!("/notifications?{}", serde_urlencoded::to_string(&query).unwrap_or_default())
}

fn row(notification: &NotificationSummary, titles: &HashMap<String, String>) -> minijinja::Value {
    let code = notification.type_.to_string();
    let (status, colour) = status_label(notification.status);
    context! {
        id => notification.id.to_string(),
        title => titles.get(&code).cloned().unwrap_or(code),
        reference => notification.reference.clone(),
        provider_reference => notification.provider_reference.clone(),
        status,
        colour,
        started => crate::england_time::moment(notification.created_at),
        sent => notification.submitted_at.map(crate::england_time::moment),
    }
}
