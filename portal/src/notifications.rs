//! Notifications, end to end: start any type, answer its form page by page (each page saved to the draft at
//! once), check your answers, submit (or approve, when the four-eyes rule asks for a colleague), and the
//! confirmation with the reference. Every form comes from its published schema (`forms`); the API checks every
//! answer and its problems are shown on the page of the field they name.

use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{NewNotification, NotificationPatch, NotificationTypeView, NotificationView, Status};
use serde_json::Value;
use tower_sessions::Session;
use uuid::Uuid;

use crate::forms::answers::{Posted, form_values, merge_patch};
use crate::forms::{Form as SchemaForm, Kind, Page, all_questions, needed, page_of};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf, flash, kept};

pub fn routes() -> Router<Portal> {
    Router::new()
        .route("/notifications", get(crate::notification_list::show))
        .route("/notifications/new", get(choose_type).post(start))
        .route("/notifications/{id}", get(show))
        .route("/notifications/{id}/pages/{number}", get(show_page).post(save_page))
        .route("/notifications/{id}/location", get(crate::location::ask).post(crate::location::choose))
        .route("/notifications/{id}/check", get(check_answers))
        .route("/notifications/{id}/submit", axum::routing::post(submit))
        .route("/notifications/{id}/approve", axum::routing::post(approve))
        .route("/notifications/{id}/review-request", axum::routing::post(ask_for_review))
        .route("/notifications/{id}/sent", get(sent))
        .route("/notifications/{id}/receipt", get(crate::notification_record::receipt))
        .route("/notifications/{id}/respond", axum::routing::post(crate::notification_record::respond))
}

/// The organisation the person works for, or where to choose one.
pub(crate) fn organisation(signed_in: &SignedIn) -> Result<Uuid, Box<Response>> {
    let choose = || Box::new(Redirect::to("/choose-organisation").into_response());
    signed_in.person.organisation().map(|o| o.id).ok_or_else(choose)
}

pub(crate) fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "pages/not_found.html", context! { title => "Page not found" })
}

pub(crate) async fn types(portal: &Portal) -> Result<std::sync::Arc<Vec<NotificationTypeView>>, Response> {
    match portal.reference().types().await {
        Ok(types) => Ok(types),
        Err(error) => {
            tracing::error!(%error, "the API did not list the notification types");
            Err(service_problem())
        }
    }
}

/// A notification with its form's pages (choices listed elsewhere filled in), for the person's organisation.
pub(crate) struct Loaded {
    pub organisation: Uuid,
    pub notification: NotificationView,
    pub title: String,
    pub pages: Vec<Page>,
}

pub(crate) async fn load(portal: &Portal, signed_in: &SignedIn, id: &str) -> Result<Loaded, Response> {
    let organisation = organisation(signed_in).map_err(|r| *r)?;
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let notification =
        match signed_in.client.get_notification().organisation_id(organisation).notification_id(id).send().await {
            Ok(notification) => notification.into_inner(),
            Err(error) if matches!(error.http_status(), Some(404 | 403)) => return Err(not_found()),
            Err(error) => {
                tracing::error!(%error, "the API did not return a notification");
                return Err(service_problem());
            }
        };
    let kind =
        types(portal).await?.iter().find(|t| t.type_ == notification.type_).cloned().ok_or_else(service_problem)?;
    let schema = Value::Object(kind.schema);
    let mut pages = SchemaForm::published(&schema).pages().map_err(|error| {
        tracing::error!(%error, "a published form cannot be asked");
        service_problem()
    })?;
    fill_choices(portal, &mut pages).await?;
    Ok(Loaded { organisation, notification, title: kind.title, pages })
}

/// As [`load`], for a form's post: its CSRF token checked first.
pub(crate) async fn load_for_form(
    portal: &Portal,
    signed_in: &SignedIn,
    id: &str,
    csrf_token: Option<&str>,
) -> Result<Loaded, Response> {
    csrf::check(&signed_in.session, csrf_token).await?;
    load(portal, signed_in, id).await
}

/// Choices the schema lists elsewhere (`x-options-from`), read from there.
async fn fill_choices(portal: &Portal, pages: &mut [Page]) -> Result<(), Response> {
    fn visit(questions: &mut [crate::forms::Question], activities: &[(String, String)]) {
        for question in questions {
            match &mut question.kind {
                Kind::Choice { choices, options_from: Some(_), .. } if choices.is_empty() => {
                    *choices = activities
                        .iter()
                        .map(|(value, label)| crate::forms::Choice {
                            value: value.clone(),
                            label: label.clone(),
                            reveals: Vec::new(),
                        })
                        .collect();
                }
                Kind::Group { questions } => visit(questions, activities),
                _ => {}
            }
        }
    }
    let needs = pages.iter().any(|p| {
        all_questions(&p.questions).iter().any(|q| matches!(&q.kind, Kind::Choice { options_from: Some(_), .. }))
    });
    if !needs {
        return Ok(());
    }
    let activities = match portal.reference().activities().await {
        Ok(activities) => activities,
        Err(error) => {
            tracing::error!(%error, "the API did not list the regulated activities");
            return Err(service_problem());
        }
    };
    for page in pages {
        visit(&mut page.questions, &activities);
    }
    Ok(())
}

async fn choose_type(State(portal): State<Portal>, signed_in: SignedIn) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let types = match types(&portal).await {
        Ok(types) => types,
        Err(response) => return response,
    };
    type_page(&signed_in, StatusCode::OK, &types, csrf_token, None)
}

fn type_page(
    signed_in: &SignedIn,
    status: StatusCode,
    types: &[NotificationTypeView],
    csrf_token: String,
    error: Option<&str>,
) -> Response {
    let items: Vec<_> = types
        .iter()
        .map(|t| context! { value => t.type_.to_string(), text => t.title.clone(), hint => context! { text => format!("Regulation {}", t.regulation) } })
        .collect();
    let errors: Vec<_> = error.map(|text| context! { text, href => "#type" }).into_iter().collect();
    // A fresh key each time the page is shown: pressing the button twice starts one draft, not two.
    let idempotency_key = Uuid::new_v4().to_string();
    page(
        status,
        "radios_question.html",
        context! {
            title => "What do you need to tell us about?",
            header => signed_in.header("notifications"),
            action => "/notifications/new",
            hidden => vec![
                context! { name => "csrf_token", value => csrf_token },
                context! { name => "idempotency_key", value => idempotency_key },
            ],
            name => "type",
            hint => "Each is a notification the Care Quality Commission (Registration) Regulations 2009 require. \
                     Your answers are saved as a draft as you go, so colleagues can carry on.",
            items, errors, error_message => error,
        },
    )
}

#[derive(serde::Deserialize)]
struct StartForm {
    csrf_token: Option<String>,
    idempotency_key: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn start(State(portal): State<Portal>, signed_in: SignedIn, Form(form): Form<StartForm>) -> Response {
    if let Err(response) = csrf::check(&signed_in.session, form.csrf_token.as_deref()).await {
        return response;
    }
    let organisation = match organisation(&signed_in) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let types = match types(&portal).await {
        Ok(types) => types,
        Err(response) => return response,
    };
    let Some(kind) = form.kind.as_deref().and_then(|k| types.iter().find(|t| t.type_.to_string() == k)) else {
        let token = csrf::token(&signed_in.session).await.unwrap_or_default();
        return type_page(
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            &types,
            token,
            Some("Select what you need to tell us about"),
        );
    };
    // The location, when the organisation has just one; otherwise the form asks (or the API says it is missing).
    let locations = match crate::location::choices(&signed_in, organisation).await {
        Ok(locations) => locations,
        Err(response) => return response,
    };
    // Someone limited to some locations may only make a draft that names one: with several, it starts at the
    // first and the next page asks which (already chosen, to confirm or change).
    let limited = signed_in.person.organisation().is_some_and(|o| !o.location_ids.is_empty());
    let location_id = match locations.as_slice() {
        [only] => Some(only.id),
        [first, ..] if limited => Some(first.id),
        _ => None,
    };
    let mut content = serde_json::Map::new();
    content.insert("type".into(), Value::from(kind.type_.to_string()));
    let draft = NewNotification {
        location_id,
        follows_id: None,
        content: provider_api_sdk::types::DraftContent(content),
        attachments: Vec::new(),
    };
    let key = form.idempotency_key.filter(|k| Uuid::parse_str(k).is_ok()).unwrap_or_else(|| Uuid::new_v4().to_string());
    // A double press sends the key twice: the second waits for the first's answer (the same draft).
    let client = &signed_in.client;
    let created = provider_api_sdk::idempotent::with_this_key(key, |key| {
        client.create_notification().organisation_id(organisation).idempotency_key(key).body(draft.clone()).send()
    });
    match created.await {
        // With a choice of locations, which one it is about comes first.
        Ok(created) if locations.len() > 1 => {
            Redirect::to(&format!("/notifications/{}/location", created.into_inner().id)).into_response()
        }
        Ok(created) => Redirect::to(&format!("/notifications/{}/pages/1", created.into_inner().id)).into_response(),
        Err(error) if error.http_status() == Some(403) => crate::render::cannot(
            StatusCode::FORBIDDEN,
            signed_in.header("notifications"),
            "You cannot start a notification",
            "Your role lets you see your organisation's notifications but not prepare them. Ask an admin \
                         of your organisation to give you the drafter or submitter role.",
            "/dashboard",
            "Go to your tasks",
        ),
        Err(error) => {
            tracing::error!(%error, "the API did not start a draft");
            service_problem()
        }
    }
}

async fn show(State(portal): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if loaded.notification.status == Status::Draft {
        return Redirect::to(&format!("/notifications/{}/check", loaded.notification.id)).into_response();
    }
    crate::notification_record::show(&portal, &signed_in, loaded).await
}

/// `?from=check`: the page was opened with a "Change" link on the check page, so saving it leads back there
/// (after any question the change newly needs), as does its back link.
#[derive(serde::Deserialize, Default)]
struct Return {
    from: Option<String>,
}

impl Return {
    fn to_check(&self) -> bool {
        self.from.as_deref() == Some("check")
    }
}

async fn show_page(
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path((id, number)): Path<(String, usize)>,
    Query(back): Query<Return>,
) -> Response {
    let from_check = back.to_check();
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if loaded.notification.status != Status::Draft {
        return Redirect::to(&format!("/notifications/{}", loaded.notification.id)).into_response();
    }
    let Some(index) = number.checked_sub(1).filter(|i| *i < loaded.pages.len()) else { return not_found() };
    let path = format!("/notifications/{}/pages/{number}", loaded.notification.id);
    // What they typed before being signed out (or before the form expired), shown again but not yet saved.
    let values = match kept::take(&signed_in.session, &path).await {
        Some(fields) => {
            let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (name, value) in fields.into_iter().filter(|(name, _)| name != "version") {
                values.entry(name).or_default().push(value);
            }
            let errors = BTreeMap::new();
            return form_page(&signed_in, &loaded, index, values, errors, true, from_check).await;
        }
        None => {
            let content = Value::Object(loaded.notification.content.0.clone());
            let mut values = form_values(&loaded.pages[index].questions, &content);
            // An empty answer the form suggests from another (the contact is usually who completed it), offered
            // filled in: nothing typed twice. It is saved only when the page is.
            for question in all_questions(&loaded.pages[index].questions) {
                let suggestion = question.suggested_from.as_deref().and_then(|from| content.pointer(from));
                if let (false, Some(Value::String(text))) = (values.contains_key(&question.name), suggestion) {
                    values.insert(question.name.clone(), vec![text.clone()]);
                }
            }
            values
        }
    };
    form_page(&signed_in, &loaded, index, values, BTreeMap::new(), false, from_check).await
}

async fn form_page(
    signed_in: &SignedIn,
    loaded: &Loaded,
    index: usize,
    values: BTreeMap<String, Vec<String>>,
    errors: BTreeMap<String, String>,
    unsaved: bool,
    from_check: bool,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let id = loaded.notification.id;
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let form_page = &loaded.pages[index];
    let mut questions = form_page.questions.clone();
    if let Err(response) = registered_activities_only(signed_in, loaded, &mut questions, &values).await {
        return response;
    }
    let questions = &questions;
    // The summary links each error to its field (a date to its day box).
    let summary: Vec<_> = all_questions(questions)
        .into_iter()
        .filter_map(|q| {
            let text = errors.get(&q.pointer)?;
            let href = format!("#{}", first_field_id(q));
            Some(context! { text, href })
        })
        .chain(errors.get("").map(|text| context! { text, href => "#main-content" }))
        .collect();
    // One question on the page (or one group of them): its title is the page's heading, as GOV.UK's question
    // pages do, rather than a heading and a legend saying the same.
    let single = questions.len() == 1;
    let heading = if single { questions[0].title.clone() } else { form_page.title.clone() };
    page(
        status,
        "notifications/page.html",
        context! {
            title => heading,
            single,
            caption => loaded.title.clone(),
            header => signed_in.header("notifications"),
            questions, values, errors, summary,
            unsaved,
            csrf_token,
            version => loaded.notification.version,
            action => format!("/notifications/{id}/pages/{}{}", index + 1, if from_check { "?from=check" } else { "" }),
            back => if from_check {
                format!("/notifications/{id}/check")
            } else if index == 0 {
                "/notifications/new".to_owned()
            } else {
                format!("/notifications/{id}/pages/{index}")
            },
        },
    )
}

/// The regulated activities a question offers, cut to those the notification's location is registered for
/// (the register, from `registration_details`): a provider chooses from its own few, not all fourteen. What
/// was already chosen stays offered. When the register cannot be read here (someone limited to some
/// locations may not read the whole organisation's) or lists nothing for the location, every activity is.
async fn registered_activities_only(
    signed_in: &SignedIn,
    loaded: &Loaded,
    questions: &mut [crate::forms::Question],
    values: &BTreeMap<String, Vec<String>>,
) -> Result<(), Response> {
    fn cut(questions: &mut [crate::forms::Question], registered: &[String], values: &BTreeMap<String, Vec<String>>) {
        for question in questions {
            let chosen = values.get(&question.name).cloned().unwrap_or_default();
            match &mut question.kind {
                Kind::Choice { choices, options_from: Some(_), .. } => {
                    choices.retain(|c| registered.contains(&c.value) || chosen.contains(&c.value));
                }
                Kind::Group { questions } => cut(questions, registered, values),
                _ => {}
            }
        }
    }
    let asks = all_questions(questions).iter().any(|q| matches!(&q.kind, Kind::Choice { options_from: Some(_), .. }));
    let Some(location) = loaded.notification.location_id.filter(|_| asks) else { return Ok(()) };
    let register = signed_in.client.registration_details().organisation_id(loaded.organisation).send().await;
    let registered = match register {
        Ok(register) => register.into_inner().locations.into_iter().find(|l| l.id == location).map(|l| l.activities),
        Err(error) if error.http_status() == Some(403) => None,
        Err(error) => {
            tracing::error!(%error, "the API did not give the organisation's registration");
            return Err(service_problem());
        }
    };
    if let Some(registered) = registered.filter(|activities| !activities.is_empty()) {
        cut(questions, &registered, values);
    }
    Ok(())
}

async fn save_page(
    State(portal): State<Portal>,
    session: Session,
    headers: HeaderMap,
    signed_in: Result<SignedIn, Response>,
    Path((id, number)): Path<(String, usize)>,
    Query(back): Query<Return>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let from_check = back.to_check();
    let path = format!("/notifications/{id}/pages/{number}");
    let Ok(signed_in) = signed_in else { return kept::sign_in_again(&session, &headers, &path, &pairs).await };
    let token = pairs.iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v.as_str());
    if csrf::check(&signed_in.session, token).await.is_err() {
        return kept::form_expired(&session, &headers, &path, &pairs).await;
    }
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let Some(index) = number.checked_sub(1).filter(|i| *i < loaded.pages.len()) else { return not_found() };
    let version = pairs.iter().find(|(k, _)| k == "version").map(|(_, v)| v.clone()).unwrap_or_default();
    let posted = Posted::new(pairs.clone());
    let questions = &loaded.pages[index].questions;
    let Value::Object(content) = merge_patch(questions, &posted) else { return service_problem() };
    let patch = NotificationPatch { content, attachments: None, follows_id: None, location_id: None };
    let saved = save_draft(&signed_in, &loaded, &version, patch).await;
    match saved {
        Ok(saved) => {
            let content = Value::Object(saved.into_inner().content.0);
            Redirect::to(&next_page(&loaded, index, from_check, &content)).into_response()
        }
        // A colleague saved the draft since this page was loaded: their change and this person's, side by side.
        Err(error) if error.problem().is_some_and(|p| p.status == 412) => {
            crate::conflict::page(&portal, &signed_in, &id, index, pairs, from_check).await
        }
        Err(error) => {
            let typed: BTreeMap<String, Vec<String>> = pairs.into_iter().fold(BTreeMap::new(), |mut map, (k, v)| {
                map.entry(k).or_default().push(v);
                map
            });
            let errors = match error.problem() {
                Some(problem) if problem.status == 422 => field_errors(&problem.errors),
                _ => {
                    tracing::error!(%error, "the API did not save a page");
                    return service_problem();
                }
            };
            // What was typed stays, with the errors.
            form_page(&signed_in, &loaded, index, typed, errors, false, from_check).await
        }
    }
}

/// Where a saved page leads: the next page; or, from check your answers, back there unless the change opened
/// questions on later pages (those first).
pub(crate) fn next_page(loaded: &Loaded, index: usize, from_check: bool, content: &Value) -> String {
    let id = loaded.notification.id;
    if from_check {
        let unanswered = |page: &Page| {
            all_questions(&page.questions).iter().any(|q| {
                !matches!(q.kind, Kind::Group { .. })
                    && content.pointer(&q.pointer).is_none()
                    && needed(&loaded.pages, &q.pointer, content)
            })
        };
        match loaded.pages.iter().enumerate().skip(index + 1).find(|(_, page)| unanswered(page)) {
            Some((later, _)) => format!("/notifications/{id}/pages/{}?from=check", later + 1),
            None => format!("/notifications/{id}/check"),
        }
    } else if index + 1 < loaded.pages.len() {
        format!("/notifications/{id}/pages/{}", index + 2)
    } else {
        format!("/notifications/{id}/check")
    }
}

/// Saves a change to a draft, on the condition that it is still the version the person saw (`If-Match`): a
/// colleague's change meanwhile is refused (412), never overwritten.
pub(crate) async fn save_draft(
    signed_in: &SignedIn,
    loaded: &Loaded,
    version: &str,
    patch: NotificationPatch,
) -> Result<provider_api_sdk::ResponseValue<NotificationView>, provider_api_sdk::Error<provider_api_sdk::types::Problem>>
{
    let request = signed_in.client.update_notification().organisation_id(loaded.organisation);
    request.notification_id(loaded.notification.id).if_match(format!("\"{version}\"")).body(patch).send().await
}

/// The id of the box an error about `question` is linked to: a date's day, a group's first question.
fn first_field_id(question: &crate::forms::Question) -> String {
    match &question.kind {
        Kind::Date | Kind::DateTime => format!("{}-day", question.id),
        Kind::Group { questions } => questions.first().map_or_else(|| question.id.clone(), first_field_id),
        _ => question.id.clone(),
    }
}

/// The API's field errors by the content's pointer (the request's `/content/…`, or the form's own).
fn field_errors(errors: &[provider_api_sdk::types::FieldError]) -> BTreeMap<String, String> {
    let mut by_field = BTreeMap::new();
    for error in errors {
        let pointer = answer_pointer(error.pointer.strip_prefix("/content").unwrap_or(&error.pointer)).to_owned();
        by_field.entry(pointer).or_insert_with(|| error.detail.clone());
    }
    by_field
}

/// The answer a field error is about: an item of a list (`/reporter/regulated_activities/2`) is its question's.
fn answer_pointer(pointer: &str) -> &str {
    match pointer.rsplit_once('/') {
        Some((list, item)) if !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()) => list,
        _ => pointer,
    }
}

/// The answers as GOV.UK's summary list shows them.
pub(crate) fn answer_text(question: &crate::forms::Question, content: &Value) -> String {
    let Some(answer) = content.pointer(&question.pointer) else { return String::new() };
    let label = |value: &str| match &question.kind {
        Kind::Choice { choices, .. } => {
            choices.iter().find(|c| c.value == value).map_or_else(|| value.to_owned(), |c| c.label.clone())
        }
        _ => value.to_owned(),
    };
    match (answer, &question.kind) {
        (Value::Bool(true), _) => "Yes".into(),
        (Value::Bool(false), _) => "No".into(),
        (Value::Array(items), _) => items.iter().filter_map(Value::as_str).map(label).collect::<Vec<_>>().join("\n"),
        (Value::String(text), Kind::Date) => date_text(text),
        (Value::String(text), Kind::DateTime) => {
            let values = form_values(std::slice::from_ref(question), content);
            let day = values.get(&format!("{}-year", question.name)).and_then(|y| y.first()).map(|year| {
                let month = &values[&format!("{}-month", question.name)][0];
                let day = &values[&format!("{}-day", question.name)][0];
                date_text(&format!("{year}-{month:0>2}-{day:0>2}"))
            });
            let time =
                values.get(&format!("{}-time", question.name)).and_then(|t| t.first()).cloned().unwrap_or_default();
            let time = match time.split_once(':').map(|(h, m)| (h.parse::<i64>(), m.parse::<i64>())) {
                Some((Ok(hour), Ok(minute))) => crate::england_time::clock(hour, minute),
                _ => time,
            };
            day.map_or_else(|| text.clone(), |day| format!("{day} at {time}"))
        }
        (Value::String(text), _) => label(text),
        (Value::Object(_), _) => String::new(),
        (other, _) => other.to_string(),
    }
}

fn date_text(iso: &str) -> String {
    match iso.parse::<jiff::civil::Date>() {
        Ok(date) => date.strftime("%-d %B %Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// Text for HTML, each line of it on a line of its own (a list of choices, a long answer's paragraphs).
pub(crate) fn lines_html(text: &str) -> String {
    text.lines().map(provider_api_govuk::escape).collect::<Vec<_>>().join("<br>")
}

/// A question's title as the end of "Change …": its first letter lowered unless it begins an abbreviation
/// ("NHS number" stays), and every other letter as written ("the GP's name", not "the gp's name").
fn change_what(title: &str) -> String {
    let mut chars = title.chars();
    let (Some(first), second) = (chars.next(), chars.next()) else { return String::new() };
    if second.is_some_and(char::is_uppercase) {
        return title.to_owned();
    }
    first.to_lowercase().chain(title.chars().skip(1)).collect()
}

/// The answers, a summary list per page of the form; with links to change them while a draft.
pub(crate) fn answer_sections(loaded: &Loaded, changeable: bool) -> Vec<minijinja::Value> {
    let content = Value::Object(loaded.notification.content.0.clone());
    let id = loaded.notification.id;
    loaded
        .pages
        .iter()
        .enumerate()
        .map(|(index, form_page)| {
            let rows: Vec<_> = all_questions(&form_page.questions)
                .into_iter()
                .filter(|q| !matches!(q.kind, Kind::Group { .. }))
                .filter(|q| content.pointer(&q.pointer).is_some() || needed(&loaded.pages, &q.pointer, &content))
                .map(|q| {
                    let answer = answer_text(q, &content);
                    let actions = changeable.then(|| {
                        context! { items => vec![context! {
                            href => format!("/notifications/{id}/pages/{}?from=check#{}", index + 1, q.id),
                            text => "Change",
                            visuallyHiddenText => change_what(&q.title),
                        }] }
                    });
                    context! {
                        key => context! { text => q.title.clone() },
                        value => context! { html => lines_html(if answer.is_empty() { "Not answered" } else { &answer }) },
                        actions,
                    }
                })
                .collect();
            context! { title => form_page.title.clone(), rows }
        })
        .collect()
}

async fn check_answers(State(portal): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    check_page(&signed_in, &loaded, BTreeMap::new(), StatusCode::OK).await
}

fn check_path(id: Uuid) -> String {
    format!("/notifications/{id}/check")
}

/// "Ask a colleague to review it": the API emails the organisation's submitters (once per version of the
/// answers), and the check page says so.
async fn ask_for_review(
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<Decision>,
) -> Response {
    let loaded = match load_for_form(&portal, &signed_in, &id, form.csrf_token.as_deref()).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let id = loaded.notification.id;
    let version = form.version.unwrap_or(loaded.notification.version);
    let request =
        signed_in.client.request_notification_review().organisation_id(loaded.organisation).notification_id(id);
    let path = check_path(id);
    match request.if_match(format!("\"{version}\"")).send().await {
        Ok(_) => {
            let said = "Review asked for. We are emailing the people in your organisation who can send it.";
            flash::set(&signed_in.session, &path, said).await;
        }
        Err(error) => match error.problem() {
            Some(problem) if problem.code == "review_already_requested" => {
                let said = "A review of these answers has already been asked for, and the people who can send it were emailed then.";
                flash::set_information(&signed_in.session, &path, said).await;
            }
            Some(problem) if matches!(problem.status, 403 | 409 | 412) => {
                let problems = BTreeMap::from([(String::new(), problem.detail.clone())]);
                let loaded = match load(&portal, &signed_in, &id.to_string()).await {
                    Ok(fresh) => fresh,
                    Err(response) => return response,
                };
                return check_page(&signed_in, &loaded, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            _ => {
                tracing::error!(%error, "the API did not take a request for review");
                return service_problem();
            }
        },
    }
    Redirect::to(&path).into_response()
}

async fn check_page(
    signed_in: &SignedIn,
    loaded: &Loaded,
    problems: BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    if loaded.notification.status != Status::Draft {
        return Redirect::to(&format!("/notifications/{}", loaded.notification.id)).into_response();
    }
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let id = loaded.notification.id;
    let mut sections = answer_sections(loaded, true);
    // Where it happened, and whether the organisation asks for a second person, side by side.
    let (locations, settings) = tokio::join!(
        crate::location::choices(signed_in, loaded.organisation),
        signed_in.client.get_organisation().organisation_id(loaded.organisation).send(),
    );
    let locations = match locations {
        Ok(locations) => locations,
        Err(response) => return response,
    };
    let four_eyes = match settings {
        // Whether it applies now (on, and two people can submit); the setting alone from an API that does
        // not say.
        Ok(organisation) => {
            let settings = &organisation.settings;
            settings.four_eyes_in_effect.unwrap_or(settings.four_eyes)
        }
        Err(error) => {
            tracing::error!(%error, "the API did not give the organisation's settings");
            return service_problem();
        }
    };
    // Which location, first: with its own page to change it when there was a choice.
    if !locations.is_empty() {
        let chosen = locations.iter().find(|l| Some(l.id) == loaded.notification.location_id);
        let value = chosen.map_or_else(
            || "Not answered".to_owned(),
            |l| {
                let (name, address) = crate::location::describe(l);
                format!("{}<br>{}", provider_api_govuk::escape(&name), provider_api_govuk::escape(&address))
            },
        );
        let actions = (locations.len() > 1).then(|| {
            context! { items => vec![context! {
                href => format!("/notifications/{id}/location?change=yes"),
                text => "Change",
                visuallyHiddenText => "location",
            }] }
        });
        let row = context! { key => context! { text => "Location" }, value => context! { html => value }, actions };
        sections.insert(0, context! { title => "Where", rows => vec![row] });
    }
    // Documents last: how many are attached, and the page to add or take them off.
    let attached = loaded.notification.attachments.len();
    let documents = match attached {
        0 => "None".to_owned(),
        1 => "1 document".to_owned(),
        n => format!("{n} documents"),
    };
    let actions = context! { items => vec![context! {
        href => format!("/notifications/{id}/documents"),
        text => if attached == 0 { "Add" } else { "Change" },
        visuallyHiddenText => "documents",
    }] };
    let row = context! { key => context! { text => "Documents" }, value => context! { text => documents }, actions };
    sections.push(context! { title => "Documents", rows => vec![row] });
    let summary: Vec<_> = problems
        .iter()
        .map(|(pointer, detail)| {
            if pointer.starts_with("/attachments") {
                return context! { text => format!("Documents: {detail}"), href => format!("/notifications/{id}/documents") };
            }
            if pointer == "/location_id" {
                let href = format!("/notifications/{id}/location?change=yes");
                return context! { text => format!("Location: {detail}"), href };
            }
            // "This is required." alone says nothing on a page of every answer: name the question, or for an
            // object the form asks over several pages (no one question is it), the page that asks its first part.
            let question =
                loaded.pages.iter().flat_map(|p| all_questions(&p.questions)).find(|q| &q.pointer == pointer);
            let inside = format!("{pointer}/");
            let first_part = loaded
                .pages
                .iter()
                .enumerate()
                .find(|(_, p)| all_questions(&p.questions).iter().any(|q| q.pointer.starts_with(&inside)));
            let name = match (question, first_part) {
                (Some(q), _) => Some(q.title.trim_end_matches('?').to_owned()),
                (None, Some((_, page))) => Some(page.title.clone()),
                (None, None) => None,
            };
            let text = name.map_or_else(|| detail.clone(), |name| format!("{name}: {detail}"));
            let href = match page_of(&loaded.pages, pointer).or(first_part.map(|(index, _)| index)) {
                Some(index) => format!("/notifications/{id}/pages/{}?from=check", index + 1),
                None => "#main-content".to_owned(),
            };
            context! { text, href }
        })
        .collect();
    let organisation = signed_in.person.organisation();
    let roles: Vec<String> = organisation.map(|o| o.roles.clone()).unwrap_or_default();
    let can_submit = roles.iter().any(|r| r == "submitter");
    let can_draft = can_submit || roles.iter().any(|r| r == "drafter");
    let message = flash::take(&signed_in.session, &check_path(id)).await;
    let information = flash::take_information(&signed_in.session, &check_path(id)).await;
    page(
        status,
        "notifications/check.html",
        context! {
            title => if can_submit { "Check your answers before sending" } else { "Check your answers" },
            caption => loaded.title.clone(),
            header => signed_in.header("notifications"),
            sections,
            // One list: the error summary, and what makes the title start "Error: ".
            errors => summary,
            csrf_token,
            id => id.to_string(),
            version => loaded.notification.version,
            can_submit,
            can_draft,
            review => review(four_eyes, signed_in.person.user_id, &loaded.notification),
            idempotency_key => Uuid::new_v4().to_string(),
            message,
            information,
        },
    )
}

/// Where a draft is in the review rule (`core::workflow`), for a submitter looking at it: what the check page
/// offers them, in words that say why.
fn review(four_eyes: bool, me: Uuid, notification: &NotificationView) -> &'static str {
    let last_editor = notification.last_edited_by.as_ref().and_then(|by| by.user_id);
    if !four_eyes {
        "send"
    } else if notification.approval.is_some() {
        "approved"
    } else if last_editor == Some(me) {
        "needs_colleague"
    } else {
        "second_person"
    }
}

#[derive(serde::Deserialize)]
struct Decision {
    csrf_token: Option<String>,
    version: Option<i64>,
    idempotency_key: Option<String>,
}

/// What the check page's buttons ask for.
#[derive(Clone, Copy)]
enum Act {
    Submit,
    Approve,
}

async fn submit(state: State<Portal>, signed_in: SignedIn, id: Path<String>, form: Form<Decision>) -> Response {
    act(Act::Submit, state, signed_in, id, form).await
}

async fn approve(state: State<Portal>, signed_in: SignedIn, id: Path<String>, form: Form<Decision>) -> Response {
    act(Act::Approve, state, signed_in, id, form).await
}

async fn act(
    act: Act,
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<Decision>,
) -> Response {
    let loaded = match load_for_form(&portal, &signed_in, &id, form.csrf_token.as_deref()).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    // The version the person checked: if a colleague changed it since, the API refuses (412) and they look again.
    // A form without one (not the check page's) is not taken to mean whatever the latest is.
    let Some(version) = form.version else {
        let problem = "Check the answers below, then send or approve them from this page".to_owned();
        return check_page(
            &signed_in,
            &loaded,
            BTreeMap::from([(String::new(), problem)]),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let if_match = format!("\"{version}\"");
    let (organisation, notification) = (loaded.organisation, loaded.notification.id);
    let outcome = match act {
        Act::Submit => {
            let key = form
                .idempotency_key
                .filter(|k| Uuid::parse_str(k).is_ok())
                .unwrap_or_else(|| Uuid::new_v4().to_string());
            let client = &signed_in.client;
            provider_api_sdk::idempotent::with_this_key(key, |key| {
                let request = client.submit_notification().organisation_id(organisation).notification_id(notification);
                request.if_match(if_match.clone()).idempotency_key(key).send()
            })
            .await
        }
        Act::Approve => {
            let client = &signed_in.client;
            let request = client.approve_notification().organisation_id(organisation).notification_id(notification);
            request.if_match(if_match).send().await
        }
    };
    decided(&portal, &signed_in, loaded, outcome).await
}

/// After submitting or approving: on to the confirmation (or back to check, approved), or the reasons it could
/// not be done, on the check page.
async fn decided(
    portal: &Portal,
    signed_in: &SignedIn,
    loaded: Loaded,
    outcome: Result<
        provider_api_sdk::ResponseValue<NotificationView>,
        provider_api_sdk::Error<provider_api_sdk::types::Problem>,
    >,
) -> Response {
    let id = loaded.notification.id;
    match outcome {
        Ok(view) if view.status == Status::Draft => Redirect::to(&format!("/notifications/{id}/check")).into_response(),
        Ok(_) => Redirect::to(&format!("/notifications/{id}/sent")).into_response(),
        Err(error) => {
            let problems = match error.problem() {
                Some(problem) if problem.status == 422 => field_errors(&problem.errors),
                Some(problem) if matches!(problem.status, 403 | 409 | 412 | 428) => {
                    BTreeMap::from([(String::new(), problem.detail.clone())])
                }
                // Something the draft names is gone (a document removed since it was attached): said at the
                // Documents row, whose page puts it right.
                Some(problem) if problem.status == 404 => {
                    BTreeMap::from([("/attachments".to_owned(), problem.detail.clone())])
                }
                _ => {
                    tracing::error!(%error, "the API did not submit or approve a notification");
                    return service_problem();
                }
            };
            let loaded = match load(portal, signed_in, &id.to_string()).await {
                Ok(fresh) => fresh,
                Err(response) => return response,
            };
            check_page(signed_in, &loaded, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn sent(State(portal): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let loaded = match load(&portal, &signed_in, &id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let Some(receipt) = loaded.notification.receipt.as_ref() else {
        return Redirect::to(&format!("/notifications/{}/check", loaded.notification.id)).into_response();
    };
    page(
        StatusCode::OK,
        "notifications/sent.html",
        context! {
            title => "Notification sent",
            caption => loaded.title.clone(),
            header => signed_in.header("notifications"),
            reference => receipt.reference.clone(),
            received => crate::england_time::moment(receipt.received_at),
            id => loaded.notification.id.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{answer_pointer, change_what};

    #[test]
    fn an_error_about_one_item_of_a_list_is_the_lists_questions() {
        assert_eq!(answer_pointer("/reporter/regulated_activities/2"), "/reporter/regulated_activities");
        assert_eq!(answer_pointer("/person/age_band"), "/person/age_band");
        assert_eq!(answer_pointer("/witnesses/0/name"), "/witnesses/0/name");
        assert_eq!(answer_pointer(""), "");
    }

    #[test]
    fn change_links_name_the_question_as_written() {
        assert_eq!(change_what("Date of birth"), "date of birth");
        assert_eq!(change_what("NHS number"), "NHS number");
        assert_eq!(change_what("Name of the GP"), "name of the GP");
        assert_eq!(change_what(""), "");
    }
}
