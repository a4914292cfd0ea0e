//! Two people editing one draft: a save refused because a colleague saved the draft since this person loaded
//! the page (the API's 412 on a stale `If-Match`) is never an overwrite and never lost work. The page shows,
//! question by question, what is saved now beside what this person typed, says who saved it, and lets them
//! keep the saved answers or put theirs back (a new save, on the version they have now seen).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::types::Action;
use serde_json::Value;
use uuid::Uuid;

use crate::forms::answers::{Posted, merge_patch};
use crate::forms::{Kind, all_questions};
use crate::notifications::{answer_text, lines_html, load, next_page};
use crate::render::{page as render, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf};

/// The conflict page for page `index` of draft `id`, given what was posted (`pairs`).
pub(crate) async fn page(
    portal: &Portal,
    signed_in: &SignedIn,
    id: &str,
    index: usize,
    pairs: Vec<(String, String)>,
    from_check: bool,
) -> Response {
    let fresh = match load(portal, signed_in, id).await {
        Ok(fresh) => fresh,
        Err(response) => return response,
    };
    let questions = &fresh.pages[index].questions;
    let saved = Value::Object(fresh.notification.content.0.clone());
    let mut mine = saved.clone();
    json_patch::merge(&mut mine, &merge_patch(questions, &Posted::new(pairs.clone())));
    let differing: Vec<_> = all_questions(questions)
        .into_iter()
        .filter(|q| !matches!(q.kind, Kind::Group { .. }))
        .filter(|q| saved.pointer(&q.pointer) != mine.pointer(&q.pointer))
        .collect();
    // What they typed is what is saved now: nothing to choose between, so on as if it had been saved.
    if differing.is_empty() {
        return Redirect::to(&next_page(&fresh, index, from_check, &saved)).into_response();
    }

    let client = &signed_in.client;
    let (history, members) = tokio::join!(
        client.notification_history().organisation_id(fresh.organisation).notification_id(fresh.notification.id).send(),
        client.list_members().organisation_id(fresh.organisation).send(),
    );
    let (Ok(history), Ok(members)) = (history, members) else {
        tracing::error!("the API did not give a draft's history or the organisation's members");
        return service_problem();
    };
    let names: HashMap<Uuid, String> =
        members.into_inner().items.into_iter().map(|m| (m.user_id, m.display_name)).collect();
    let portal_app = portal.config().client_id.parse::<Uuid>().ok();
    let me = signed_in.person.user_id;
    let last_change = history
        .into_inner()
        .items
        .into_iter()
        .rev()
        .find(|entry| entry.action == Action::Edited && entry.by.as_ref().and_then(|b| b.user_id) != Some(me));
    let who = last_change.as_ref().map_or_else(
        || "Someone else".to_owned(),
        |entry| crate::notification_record::who(entry.by.as_ref(), &names, portal_app),
    );
    let when = last_change.map(|entry| crate::england_time::moment(entry.at));

    let shown = |content: &Value, q: &crate::forms::Question| {
        let text = answer_text(q, content);
        lines_html(if text.is_empty() { "Not answered" } else { &text })
    };
    let rows: Vec<_> = differing
        .iter()
        .map(|q| context! { title => q.title.clone(), saved => shown(&saved, q), mine => shown(&mine, q) })
        .collect();
    // Their answers go back as they were typed, with the version they have now seen.
    let typed: Vec<_> = pairs
        .into_iter()
        .filter(|(name, _)| name != "csrf_token" && name != "version")
        .map(|(name, value)| context! { name, value })
        .collect();
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let number = index + 1;
    let path = format!("/notifications/{}/pages/{number}", fresh.notification.id);
    let query = if from_check { "?from=check" } else { "" };
    render(
        StatusCode::CONFLICT,
        "notifications/conflict.html",
        context! {
            title => "Someone else changed these answers",
            caption => fresh.title.clone(),
            header => signed_in.header("notifications"),
            who,
            when,
            rows,
            typed,
            csrf_token,
            version => fresh.notification.version,
            action => format!("{path}{query}"),
            keep => format!("{path}{query}"),
        },
    )
}
