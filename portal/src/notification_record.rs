//! A notification once sent: where it is, what was sent, the receipt to download, what happened to it and who
//! did it, and the regulator's question with a form to answer it. (A draft's page is "check your answers".)

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{Action, ActorView, HistoryEntry, NewResponse, Status};
use tower_sessions::Session;
use uuid::Uuid;

use crate::notification_list::status_label;
use crate::notifications::{Loaded, answer_sections, load, not_found};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf, kept};

/// The session key of a message the next page shows once ("Your answer has been sent").
const DONE: &str = "record_done";

/// The largest answer the API takes (`NewResponse.message`).
const ANSWER_MAX_LENGTH: usize = 50_000;

pub async fn show(portal: &Portal, signed_in: &SignedIn, loaded: Loaded) -> Response {
    // An answer typed before being signed out (or before the form expired), shown again but not yet sent.
    let path = format!("/notifications/{}", loaded.notification.id);
    let kept = kept::take(&signed_in.session, &path).await;
    let answer = kept.as_ref().and_then(|fields| fields.iter().find(|(name, _)| name == "answer")).map(|(_, v)| v);
    record_page(portal, signed_in, loaded, answer.map_or("", String::as_str), BTreeMap::new(), StatusCode::OK).await
}

async fn record_page(
    portal: &Portal,
    signed_in: &SignedIn,
    loaded: Loaded,
    answer: &str,
    errors: BTreeMap<&'static str, String>,
    status: StatusCode,
) -> Response {
    let client = &signed_in.client;
    let (organisation, id) = (loaded.organisation, loaded.notification.id);
    // Three more calls, side by side: what happened, the names of the people who did it, and where.
    let (history, members, locations) = tokio::join!(
        client.notification_history().organisation_id(organisation).notification_id(id).send(),
        client.list_members().organisation_id(organisation).send(),
        client.list_locations().organisation_id(organisation).send(),
    );
    let (Ok(history), Ok(members), Ok(locations)) = (history, members, locations) else {
        tracing::error!("the API did not give a notification's history or the organisation's members");
        return service_problem();
    };
    let names: HashMap<Uuid, String> =
        members.into_inner().items.into_iter().map(|m| (m.user_id, m.display_name)).collect();
    // What people did here, through this portal, is theirs; only other software is named as software.
    let portal_app = portal.config().client_id.parse::<Uuid>().ok();
    let events: Vec<_> =
        history.into_inner().items.iter().rev().map(|entry| event(entry, &names, portal_app, &loaded.pages)).collect();
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let done: Option<String> = signed_in.session.remove(DONE).await.ok().flatten();
    let notification = &loaded.notification;
    let location = locations.into_inner().items.into_iter().find(|l| Some(l.id) == notification.location_id).map(|l| {
        let (name, address) = crate::location::describe(&l);
        format!("{name}, {address}")
    });
    let (status_text, colour) = status_label(notification.status);
    let question = notification.information_request.as_ref().map(|request| {
        context! {
            message => crate::notifications::lines_html(&request.message),
            due => request.due_on.format("%-d %B %Y").to_string(),
        }
    });
    let summary: Vec<_> =
        errors.iter().map(|(field, text)| context! { text => text.clone(), href => format!("#{field}") }).collect();
    page(
        status,
        "notifications/record.html",
        context! {
            title => match &notification.receipt {
                Some(receipt) => format!("{} {}", loaded.title, receipt.reference),
                None => loaded.title.clone(),
            },
            heading => loaded.title.clone(),
            header => signed_in.header("notifications"),
            id => id.to_string(),
            reference => notification.receipt.as_ref().map(|r| r.reference.clone()),
            received => notification.receipt.as_ref().map(|r| crate::england_time::moment(r.received_at)),
            fingerprint => notification.receipt.as_ref().map(|r| r.content_sha256.to_string()),
            status => status_text,
            location,
            colour,
            question,
            answer,
            unsent => !answer.is_empty() && errors.is_empty(),
            answer_max_length => ANSWER_MAX_LENGTH,
            answer_error => errors.get("answer").cloned(),
            errors => summary,
            done,
            events,
            sections => answer_sections(&loaded, false),
            csrf_token,
        },
    )
}

/// One entry of the history, as a sentence, with what was said.
fn event(
    entry: &HistoryEntry,
    names: &HashMap<Uuid, String>,
    portal_app: Option<Uuid>,
    pages: &[crate::forms::Page],
) -> minijinja::Value {
    let who = who(entry.by.as_ref(), names, portal_app);
    let regulator = "the Care Quality Commission";
    let text = match entry.action {
        Action::Created => format!("Started by {who}"),
        Action::Edited => match entry.fields.len() {
            0 => format!("Changed by {who}"),
            1 => format!("1 answer changed by {who}"),
            n => format!("{n} answers changed by {who}"),
        },
        Action::Approved => format!("Approved for sending by {who}"),
        Action::ReviewRequested => format!("Review asked for by {who}"),
        Action::Submitted => format!("Sent by {who}"),
        Action::Discarded => format!("Discarded by {who}"),
        Action::Acknowledged => format!("Received by {regulator}"),
        Action::ViewedByStaff => format!("Opened by {regulator}"),
        Action::InformationRequested => match entry.due_on {
            Some(due) => format!("Question from {regulator}, to answer by {}", due.format("%-d %B %Y")),
            None => format!("Question from {regulator}"),
        },
        Action::Responded => format!("Answered by {who}"),
        Action::Closed => format!("Closed by {regulator}"),
    };
    context! {
        text,
        at => crate::england_time::moment(entry.at),
        changed => (entry.action == Action::Edited).then(|| changed_questions(&entry.fields, pages)),
        message => entry.message.as_deref().map(crate::notifications::lines_html),
    }
}

/// The questions an edit changed, by their titles, in the form's order (a change to part of an answer, such
/// as one line of an address, is a change to that question).
fn changed_questions(fields: &[String], pages: &[crate::forms::Page]) -> Vec<String> {
    let pointers: Vec<&str> = fields.iter().map(|f| f.strip_prefix("/content").unwrap_or(f)).collect();
    let mut titles: Vec<String> = Vec::new();
    let questions = pages.iter().flat_map(|p| crate::forms::all_questions(&p.questions));
    for question in questions.filter(|q| !matches!(q.kind, crate::forms::Kind::Group { .. })) {
        // The question's own answer, a part of it, or a whole object first saved around it.
        let inside = format!("{}/", question.pointer);
        let changed = pointers.iter().any(|p| {
            *p == question.pointer || p.starts_with(&inside) || question.pointer.starts_with(&format!("{p}/"))
        });
        if changed && !titles.contains(&question.title) {
            titles.push(question.title.clone());
        }
    }
    if pointers.contains(&"/location_id") {
        titles.insert(0, "Location".to_owned());
    }
    titles
}

/// Who did something, by name where they are in the organisation.
pub(crate) fn who(actor: Option<&ActorView>, names: &HashMap<Uuid, String>, portal_app: Option<Uuid>) -> String {
    let person =
        actor.and_then(|a| a.user_id).map(|id| names.get(&id).cloned().unwrap_or_else(|| "a former member".into()));
    let software = actor.and_then(|a| a.client_id).is_some_and(|client| Some(client) != portal_app);
    match (person, software) {
        (Some(person), true) => format!("{person}, using software"),
        (Some(person), false) => person,
        (None, true) => "your organisation's software (an API client)".into(),
        (None, false) => "someone in your organisation".into(),
    }
}

/// The receipt, as the API signed it, to keep: a JSON file whose `jws` anyone can check against the keys at
/// `/.well-known/receipt-keys.json`.
pub async fn receipt(State(portal): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let Some(receipt) = loaded.notification.receipt.as_ref() else { return not_found() };
    let Ok(body) = serde_json::to_vec_pretty(receipt) else { return service_problem() };
    let file = format!("attachment; filename=\"receipt-{}.json\"", receipt.reference.replace(['"', '\\'], ""));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct Answer {
    csrf_token: Option<String>,
    answer: Option<String>,
}

/// Sends the answer to the regulator's question.
pub async fn respond(
    State(portal): State<Portal>,
    session: Session,
    headers: HeaderMap,
    signed_in: Result<SignedIn, Response>,
    Path(id): Path<String>,
    Form(form): Form<Answer>,
) -> Response {
    let path = format!("/notifications/{id}");
    let typed = [("answer".to_owned(), form.answer.clone().unwrap_or_default())];
    let Ok(signed_in) = signed_in else { return kept::sign_in_again(&session, &headers, &path, &typed).await };
    if csrf::check(&signed_in.session, form.csrf_token.as_deref()).await.is_err() {
        return kept::form_expired(&session, &headers, &path, &typed).await;
    }
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let answer = form.answer.unwrap_or_default();
    let refused = |loaded, text: String| {
        let errors = BTreeMap::from([("answer", text)]);
        let answer = answer.clone();
        let (portal, signed_in) = (&portal, &signed_in);
        async move { record_page(portal, signed_in, loaded, &answer, errors, StatusCode::UNPROCESSABLE_ENTITY).await }
    };
    if loaded.notification.status != Status::InformationRequested {
        return refused(loaded, "There is no question waiting for an answer: a colleague may have answered it".into())
            .await;
    }
    // The SDK's type holds the API's rules for an answer (not blank, not too long): what breaks one is said
    // here, in words, without a call that would be refused.
    let message = match provider_api_sdk::types::NewResponseMessage::try_from(answer.clone()) {
        Ok(message) => message,
        Err(_) if answer.trim().is_empty() => return refused(loaded, "Enter your answer".into()).await,
        Err(_) => {
            let text = format!("Your answer must be {ANSWER_MAX_LENGTH} characters or fewer");
            return refused(loaded, text).await;
        }
    };
    let (organisation, notification) = (loaded.organisation, loaded.notification.id);
    let sent = signed_in
        .client
        .respond_to_notification()
        .organisation_id(organisation)
        .notification_id(notification)
        .body(NewResponse { message })
        .send()
        .await;
    match sent {
        Ok(_) => {
            if signed_in.session.insert(DONE, "Your answer has been sent").await.is_err() {
                return service_problem();
            }
            Redirect::to(&format!("/notifications/{notification}")).into_response()
        }
        Err(error) => {
            let text = match error.problem() {
                Some(problem) if problem.status == 422 => {
                    problem.errors.first().map_or_else(|| problem.detail.clone(), |e| e.detail.clone())
                }
                Some(problem) if problem.status == 409 => problem.detail.clone(),
                _ => {
                    tracing::error!(%error, "the API did not take an answer to the regulator");
                    return service_problem();
                }
            };
            let fresh = match load(&portal, &signed_in, &id).await {
                Ok(fresh) => fresh,
                Err(response) => return response,
            };
            refused(fresh, text).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::changed_questions;
    use crate::forms::{Kind, Page, Question};

    fn question(pointer: &str, title: &str) -> Question {
        Question {
            pointer: pointer.into(),
            name: pointer.trim_start_matches('/').replace('/', "."),
            id: pointer.trim_start_matches('/').replace('/', "-"),
            title: title.into(),
            hint: None,
            required: true,
            kind: Kind::Text { input_type: "text", max_length: None },
            suggested_from: None,
        }
    }

    #[test]
    fn an_edit_names_the_questions_it_changed_in_the_forms_order() {
        let pages = [
            Page {
                title: "The person".into(),
                questions: vec![question("/person/identifier", "Identifier"), question("/person/age", "Age")],
            },
            Page { title: "What happened".into(), questions: vec![question("/description", "What happened?")] },
        ];
        let named =
            |fields: &[&str]| changed_questions(&fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(), &pages);
        assert_eq!(named(&["/content/description", "/content/person/age"]), ["Age", "What happened?"]);
        assert_eq!(named(&["/content/person"]), ["Identifier", "Age"], "a whole object saved at once");
        assert_eq!(named(&["/content/description/extra"]), ["What happened?"], "a part of an answer");
        assert_eq!(named(&["/location_id"]), ["Location"]);
        assert!(named(&["/content/unknown"]).is_empty());
    }
}
