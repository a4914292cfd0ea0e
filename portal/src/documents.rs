//! Documents: the organisation's files (uploaded with a plain file input, streamed through to the API without
//! the portal ever holding a whole file), what the virus scan found in words, downloading, removing, and
//! attaching them to a draft notification.

use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{AttachmentPurpose, DocumentView, NewAttachment, NotificationPatch, ScanStatus, Status};
use provider_api_sdk::upload::UploadError;
use uuid::Uuid;

use crate::notifications::{Loaded, load, load_for_form, not_found, organisation, save_draft};
use crate::render::{page, service_problem};
use crate::signed_in::SignedIn;
use crate::{Portal, csrf, flash};

pub fn routes() -> Router<Portal> {
    Router::new()
        .route("/documents", get(show))
        .route("/documents/upload", post(upload))
        .route("/documents/{id}/download", get(download))
        .route("/documents/{id}/remove", post(remove))
        .route("/notifications/{id}/documents", get(attach_page).post(attach))
}

/// The file types the API takes (its `document_types`), by the extensions people's files have: a browser
/// that gives no type (or a generic one) has its file's type read from its name.
const TYPES_BY_EXTENSION: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("doc", "application/msword"),
    ("xls", "application/vnd.ms-excel"),
    ("csv", "text/csv"),
    ("txt", "text/plain"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
];

/// What the form says the file may be.
const ACCEPTED: &str = "PDF, Word, Excel, OpenDocument, CSV, text, JPEG or PNG";

fn media_type(filename: &str, given: Option<&str>) -> String {
    match given {
        Some(given) if !given.is_empty() && given != "application/octet-stream" => given.to_owned(),
        _ => {
            let extension = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            TYPES_BY_EXTENSION
                .iter()
                .find(|(e, _)| *e == extension)
                .map_or("application/octet-stream", |(_, t)| t)
                .to_owned()
        }
    }
}

/// A size as people read it: "48 KB", "2.4 MB".
fn size_in_words(bytes: i64) -> String {
    const MB: i64 = 1024 * 1024;
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < MB => format!("{} KB", (b + 512) / 1024),
        b if b % MB == 0 => format!("{} MB", b / MB),
        b => format!("{:.1} MB", b as f64 / MB as f64),
    }
}

/// Where the virus scan is, in words: the tag, its colour, and what to do, if anything.
fn scan_in_words(document: &DocumentView) -> (&'static str, &'static str, Option<String>) {
    match document.scan_status {
        ScanStatus::Pending => (
            "Checking for viruses",
            "govuk-tag--yellow",
            Some("This usually takes less than a minute. Refresh the page to see when it is ready.".into()),
        ),
        ScanStatus::Clean => ("Ready", "govuk-tag--green", None),
        ScanStatus::Infected => (
            "We found a problem",
            "govuk-tag--red",
            Some(format!(
                "It contains a virus or other harmful content{}, so it cannot be downloaded or sent. Remove it and \
                 upload a clean copy.",
                document.threat.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()
            )),
        ),
        ScanStatus::Failed => (
            "We could not check it",
            "govuk-tag--red",
            Some("We could not check it for viruses, so it cannot be sent. Remove it and upload it again.".into()),
        ),
    }
}

fn describe(document: &DocumentView, removable: bool) -> Value {
    let (status, colour, advice) = scan_in_words(document);
    context! {
        id => document.id.to_string(),
        filename => document.filename.clone(),
        status, colour, advice,
        size => size_in_words(document.size),
        uploaded => crate::england_time::day(document.created_at),
        download => (document.scan_status == ScanStatus::Clean).then(|| format!("/documents/{}/download", document.id)),
        // Once something that attaches it has been sent, the API keeps it.
        remove => (removable && document.frozen_at.is_none()).then(|| format!("/documents/{}/remove", document.id)),
    }
}

/// Every document of the organisation the person may see (the API leaves out other locations'), newest first.
async fn all_documents(signed_in: &SignedIn, organisation: Uuid) -> Result<Vec<DocumentView>, Response> {
    let mut documents = Vec::new();
    let mut cursor: Option<String> = None;
    // A bounded walk (5,000 documents): an organisation with more is shown its newest from these.
    for _ in 0..50 {
        let request = signed_in.client.list_documents().organisation_id(organisation).limit(100);
        let request = match &cursor {
            Some(cursor) => request.cursor(cursor.clone()),
            None => request,
        };
        match request.send().await {
            Ok(listed) => {
                let listed = listed.into_inner();
                documents.extend(listed.items);
                cursor = listed.next;
                if cursor.is_none() {
                    break;
                }
            }
            Err(error) => {
                tracing::error!(%error, "the API did not list the organisation's documents");
                return Err(service_problem());
            }
        }
    }
    documents.reverse();
    Ok(documents)
}

/// Whether the person may upload, remove and attach (every role but viewer: the API's `documents:write` and
/// `notifications:write`). Only what is offered depends on it: the API decides.
fn may_change(signed_in: &SignedIn) -> bool {
    let roles = signed_in.person.organisation().map(|o| o.roles.clone()).unwrap_or_default();
    roles.iter().any(|r| matches!(r.as_str(), "admin" | "drafter" | "submitter"))
}

fn not_permitted(signed_in: &SignedIn, back: &str) -> Response {
    crate::render::cannot(
        StatusCode::FORBIDDEN,
        signed_in.header("documents"),
        "You cannot change documents",
        "Your role lets you see your organisation's documents but not upload, remove or attach them. \
                     Ask an admin of your organisation if you need to.",
        back,
        "Go back",
    )
}

/// The upload form's own values: where it posts, the draft it attaches to, and its error.
fn upload_form(csrf_token: &str, attach_to: Option<Uuid>, max_size: u64, error: Option<&str>) -> Value {
    context! {
        csrf_token,
        attach_to => attach_to.map(|id| id.to_string()),
        hint => format!("{ACCEPTED}, up to {}", size_in_words(max_size as i64)),
        error,
    }
}

async fn documents_page(portal: &Portal, signed_in: &SignedIn, error: Option<&str>) -> Response {
    let organisation = match organisation(signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let message = flash::take(&signed_in.session, "/documents").await;
    let information = flash::take_information(&signed_in.session, "/documents").await;
    let documents = match all_documents(signed_in, organisation).await {
        Ok(documents) => documents,
        Err(response) => return response,
    };
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let changes = may_change(signed_in);
    let errors: Vec<Value> = error.map(|text| context! { text, href => "#file" }).into_iter().collect();
    let rows: Vec<Value> = documents.iter().map(|d| describe(d, changes)).collect();
    page(
        if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK },
        "documents/list.html",
        context! {
            title => "Documents",
            header => signed_in.header("documents"),
            organisation => signed_in.person.organisation().map(|o| o.name.clone()),
            upload => changes.then(|| upload_form(&csrf_token, None, portal.config().document_max_size, error)),
            documents => rows, message, information, errors, csrf_token,
        },
    )
}

async fn show(State(portal): State<Portal>, signed_in: SignedIn) -> Response {
    documents_page(&portal, &signed_in, None).await
}

/// Why an upload failed, in words a person can act on, when the API or the portal refused it.
fn refusal(error: &UploadError, max_size: u64) -> Option<String> {
    let too_large = || format!("The selected file must be {} or smaller", size_in_words(max_size as i64));
    match error {
        UploadError::Refused { status: 413, .. } => Some(too_large()),
        // The API's detail names media types; people know files by what they are.
        UploadError::Refused { status: 415, problem } if problem["code"] == "content_type_mismatch" => Some(
            "The selected file is not the type its name says: it may be damaged. Save it again and upload that".into(),
        ),
        UploadError::Refused { status: 415, .. } => Some(format!("The selected file must be a {ACCEPTED} file")),
        UploadError::Refused { status: 400 | 422, .. } => Some("The selected file could not be uploaded".into()),
        // The portal stopped reading a file past the limit (the request to the API fails with it).
        UploadError::Http(http) if stopped_at_limit(http) => Some(too_large()),
        UploadError::Http(_) => Some("The file could not be uploaded: the connection was lost. Try again".into()),
        _ => None,
    }
}

fn stopped_at_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(multer) = error.downcast_ref::<multer::Error>() {
            return matches!(
                multer,
                multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. }
            );
        }
        source = error.source();
    }
    false
}

/// What the multipart form may add to a file: its other fields and the parts' headers.
const FORM_OVERHEAD: u64 = 64 * 1024;

/// A file posted from the documents page or a draft's (a multipart form: the CSRF token, the draft to attach
/// to if any, then the file). The token is checked, and the draft found, before a byte of the file is read;
/// the file's bytes go on to the API as they arrive: the portal holds only the pieces in flight, whatever the
/// file's size. A file that cannot be taken (too large by its length, a type the API does not take) is
/// refused before any of it is sent on.
async fn upload(State(portal): State<Portal>, signed_in: SignedIn, request: Request) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let max_size = portal.config().document_max_size;
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let boundary =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(multer::parse_boundary);
    let Some(Ok(boundary)) = boundary else {
        return documents_page(&portal, &signed_in, Some("Select a file to upload")).await;
    };
    let constraints = multer::Constraints::new().allowed_fields(vec!["csrf_token", "attach_to", "file"]).size_limit(
        multer::SizeLimit::new()
            .whole_stream(max_size + FORM_OVERHEAD)
            .per_field(max_size)
            .for_field("csrf_token", 256)
            .for_field("attach_to", 64),
    );
    let mut multipart =
        multer::Multipart::with_constraints(request.into_body().into_data_stream(), boundary, constraints);
    let mut token = None;
    let mut draft: Option<Loaded> = None;
    let refuse = |draft: Option<&Loaded>, text: String| {
        let (portal, signed_in) = (&portal, &signed_in);
        let max_size = portal.config().document_max_size;
        let draft = draft.map(|loaded| loaded.notification.id);
        async move {
            match draft {
                Some(id) => attach_page_for(portal, signed_in, &id.to_string(), Some((&text, max_size))).await,
                None => documents_page(portal, signed_in, Some(&text)).await,
            }
        }
    };
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let Ok(text) = field.text().await else {
                    return refuse(draft.as_ref(), "The file could not be uploaded. Try again".into()).await;
                };
                match name.as_str() {
                    "csrf_token" => token = Some(text),
                    // The form puts its token first, so it is checked before the draft is read.
                    "attach_to" => {
                        if let Err(response) = csrf::check(&signed_in.session, token.as_deref()).await {
                            return response;
                        }
                        match load(&portal, &signed_in, &text).await {
                            Ok(loaded) if loaded.notification.status == Status::Draft => draft = Some(loaded),
                            Ok(loaded) => {
                                return Redirect::to(&format!("/notifications/{}", loaded.notification.id))
                                    .into_response();
                            }
                            Err(response) => return response,
                        }
                    }
                    _ => {}
                }
            }
            Ok(None) => return refuse(draft.as_ref(), "Select a file to upload".into()).await,
            Err(error) => {
                tracing::info!(%error, "a document upload form could not be read");
                return refuse(draft.as_ref(), "The file could not be uploaded. Try again".into()).await;
            }
        }
    };
    if let Err(response) = csrf::check(&signed_in.session, token.as_deref()).await {
        return response;
    }
    if !may_change(&signed_in) {
        return not_permitted(&signed_in, "/documents");
    }
    let filename = field.file_name().unwrap_or_default().to_owned();
    if filename.is_empty() {
        return refuse(draft.as_ref(), "Select a file to upload".into()).await;
    }
    if declared.is_some_and(|length| length > max_size + FORM_OVERHEAD) {
        let text = format!("The selected file must be {} or smaller", size_in_words(max_size as i64));
        return refuse(draft.as_ref(), text).await;
    }
    let media_type = media_type(&filename, field.content_type().map(|m| m.essence_str()));
    if !TYPES_BY_EXTENSION.iter().any(|(_, known)| *known == media_type) {
        return refuse(draft.as_ref(), format!("The selected file must be a {ACCEPTED} file")).await;
    }
    let body = reqwest::Body::wrap_stream(field);
    let uploaded =
        provider_api_sdk::upload::upload_document_stream(&signed_in.client, organisation, &filename, &media_type, body)
            .await;
    let document = match uploaded {
        Ok(document) => document,
        Err(UploadError::Refused { status: 403, .. }) => return not_permitted(&signed_in, "/documents"),
        Err(error) => {
            return match refusal(&error, max_size) {
                Some(text) => refuse(draft.as_ref(), text).await,
                None => {
                    tracing::error!(%error, "the API did not take a document");
                    service_problem()
                }
            };
        }
    };
    let done = match document.scan_status {
        ScanStatus::Pending => format!("{filename} has been uploaded. We are checking it for viruses"),
        _ => format!("{filename} has been uploaded"),
    };
    let Some(loaded) = draft else {
        flash::set(&signed_in.session, "/documents", done).await;
        return Redirect::to("/documents").into_response();
    };
    // Attached to the draft as it is now: read again after the upload (which may have taken a while), and once
    // more if a colleague saved it in between, so their edit is not undone and the file is not left unattached.
    let path = format!("/notifications/{}/documents", loaded.notification.id);
    for _ in 0..2 {
        let loaded = match load(&portal, &signed_in, &loaded.notification.id.to_string()).await {
            Ok(loaded) => loaded,
            Err(response) => return response,
        };
        let existing = match all_documents(&signed_in, loaded.organisation).await {
            Ok(documents) => documents.into_iter().map(|d| d.id).collect::<Vec<_>>(),
            Err(response) => return response,
        };
        let mut attached = attachments_of(&loaded);
        attached.retain(|a| existing.contains(&a.document_id));
        attached.push(NewAttachment { document_id: document.id, purpose: AttachmentPurpose::Evidence });
        let version = loaded.notification.version.to_string();
        match save_attachments(&signed_in, &loaded, &version, attached).await {
            Ok(()) => {
                flash::set(&signed_in.session, &path, format!("{done}. It is attached to this notification")).await;
                return Redirect::to(&path).into_response();
            }
            Err(Refused::Changed) => continue,
            Err(refused) => return refused.page(&signed_in, &loaded, portal.config().document_max_size).await,
        }
    }
    let text = format!("{done}, but someone else was changing this notification: attach it from the list below");
    flash::set(&signed_in.session, &path, text).await;
    Redirect::to(&path).into_response()
}

fn attachments_of(loaded: &Loaded) -> Vec<NewAttachment> {
    let attached = loaded.notification.attachments.iter();
    attached.map(|a| NewAttachment { document_id: a.document_id, purpose: a.purpose }).collect()
}

/// Why a draft's documents were not saved.
enum Refused {
    /// A colleague saved the draft since it was read (the API's 412).
    Changed,
    /// The API refused the list, in its words (another organisation's document, say).
    Invalid(String),
    NotPermitted,
    /// A page already made (the API could not be reached).
    Page(Response),
}

impl Refused {
    /// The draft's documents page saying why (409 for a colleague's change), or the page already made.
    async fn page(self, signed_in: &SignedIn, loaded: &Loaded, max_size: u64) -> Response {
        let (text, status) = match self {
            Self::Changed => (
                "Someone else changed this notification: check its documents and try again".to_owned(),
                StatusCode::CONFLICT,
            ),
            Self::Invalid(text) => (text, StatusCode::UNPROCESSABLE_ENTITY),
            Self::NotPermitted => {
                return not_permitted(signed_in, &format!("/notifications/{}", loaded.notification.id));
            }
            Self::Page(response) => return response,
        };
        let mut response = attach_page_of(signed_in, loaded, Problem::Page(&text), max_size).await;
        if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
            *response.status_mut() = status;
        }
        response
    }
}

/// Saves the draft's list of attachments.
async fn save_attachments(
    signed_in: &SignedIn,
    loaded: &Loaded,
    version: &str,
    attachments: Vec<NewAttachment>,
) -> Result<(), Refused> {
    let patch = NotificationPatch {
        attachments: Some(attachments),
        content: serde_json::Map::new(),
        follows_id: None,
        location_id: None,
    };
    match save_draft(signed_in, loaded, version, patch).await {
        Ok(_) => Ok(()),
        Err(error) => match error.problem() {
            Some(problem) if problem.status == 412 => Err(Refused::Changed),
            Some(problem) if problem.status == 403 => Err(Refused::NotPermitted),
            Some(problem) if matches!(problem.status, 404 | 422) => {
                Err(Refused::Invalid(problem.errors.first().map_or(problem.detail.clone(), |e| e.detail.clone())))
            }
            _ => {
                tracing::error!(%error, "the API did not save a draft's documents");
                Err(Refused::Page(service_problem()))
            }
        },
    }
}

async fn download(State(_): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let Ok(id) = id.parse::<Uuid>() else { return not_found() };
    let request = signed_in.client.get_document_content().organisation_id(organisation).document_id(id);
    match request.send().await {
        Ok(content) => {
            // The API's own headers (type, the safe file name, length) and its bytes as they arrive.
            let mut headers = HeaderMap::new();
            for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION, header::CONTENT_LENGTH, header::ETAG] {
                if let Some(value) =
                    content.headers().get(&name).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
                {
                    headers.insert(name, value);
                }
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            (headers, Body::from_stream(content.into_inner().into_inner())).into_response()
        }
        Err(error) if matches!(error.http_status(), Some(404 | 403)) => not_found(),
        Err(error) if error.http_status() == Some(409) => crate::render::cannot(
            StatusCode::CONFLICT,
            signed_in.header("documents"),
            "This document cannot be downloaded",
            "Only a document that has been checked for viruses and found clean can be downloaded.",
            "/documents",
            "Go back to your documents",
        ),
        Err(error) => {
            tracing::error!(%error, "the API did not give a document's content");
            service_problem()
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Removal {
    csrf_token: Option<String>,
}

async fn remove(
    State(_): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<Removal>,
) -> Response {
    if let Err(response) = csrf::check(&signed_in.session, form.csrf_token.as_deref()).await {
        return response;
    }
    let organisation = match organisation(&signed_in) {
        Ok(organisation) => organisation,
        Err(response) => return *response,
    };
    let Ok(id) = id.parse::<Uuid>() else { return not_found() };
    match signed_in.client.delete_document().organisation_id(organisation).document_id(id).send().await {
        Ok(_) => flash::set(&signed_in.session, "/documents", "The document has been removed").await,
        Err(error) if error.http_status() == Some(409) => {
            let text = match error.problem().map(|p| p.code.as_str()) {
                Some("document_attached") => {
                    "The document is attached to a draft notification, so it is kept. Take it off the draft first \
                     (from the draft's check your answers, Documents)"
                }
                _ => "The document is part of a notification or application that has been sent, so it is kept",
            };
            flash::set_information(&signed_in.session, "/documents", text).await;
        }
        Err(error) if error.http_status() == Some(403) => return not_permitted(&signed_in, "/documents"),
        Err(error) if error.http_status() == Some(404) => return not_found(),
        Err(error) => {
            tracing::error!(%error, "the API did not remove a document");
            return service_problem();
        }
    }
    Redirect::to("/documents").into_response()
}

async fn attach_page(State(portal): State<Portal>, signed_in: SignedIn, Path(id): Path<String>) -> Response {
    attach_page_for(&portal, &signed_in, &id, None).await
}

async fn attach_page_for(
    portal: &Portal,
    signed_in: &SignedIn,
    id: &str,
    upload_error: Option<(&str, u64)>,
) -> Response {
    let loaded = match load(portal, signed_in, id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if loaded.notification.status != Status::Draft {
        return Redirect::to(&format!("/notifications/{}", loaded.notification.id)).into_response();
    }
    let problem = match upload_error {
        Some((text, _)) => Problem::Upload(text),
        None => Problem::None,
    };
    attach_page_of(signed_in, &loaded, problem, portal.config().document_max_size).await
}

/// What the draft's documents page says is wrong, and where.
enum Problem<'a> {
    None,
    /// Nothing chosen to attach: at the checkboxes.
    Choice(&'a str),
    /// The upload: at the file input.
    Upload(&'a str),
    /// The save as a whole (a colleague's change, the API's refusal): at the top.
    Page(&'a str),
}

/// The draft's documents page: what is attached (each can be taken off), the organisation's other documents
/// to attach, and a file to upload and attach at once.
async fn attach_page_of(signed_in: &SignedIn, loaded: &Loaded, problem: Problem<'_>, max_size: u64) -> Response {
    let id = loaded.notification.id;
    let path = format!("/notifications/{id}/documents");
    let message = flash::take(&signed_in.session, &path).await;
    let documents = match all_documents(signed_in, loaded.organisation).await {
        Ok(documents) => documents,
        Err(response) => return response,
    };
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let attached_ids: Vec<Uuid> = loaded.notification.attachments.iter().map(|a| a.document_id).collect();
    let attached: Vec<Value> =
        documents.iter().filter(|d| attached_ids.contains(&d.id)).map(|d| describe(d, false)).collect();
    // Those that can still be sent: not found infected, not failed.
    let choices: Vec<Value> = documents
        .iter()
        .filter(|d| !attached_ids.contains(&d.id) && matches!(d.scan_status, ScanStatus::Clean | ScanStatus::Pending))
        .map(|d| {
            let (status, ..) = scan_in_words(d);
            let hint =
                format!("{}, uploaded {}. {status}", size_in_words(d.size), crate::england_time::day(d.created_at));
            context! { value => d.id.to_string(), text => d.filename.clone(), hint => context! { text => hint } }
        })
        .collect();
    let (errors, choice_error, upload_error): (Vec<Value>, _, _) = match problem {
        Problem::None => (Vec::new(), None, None),
        Problem::Choice(text) => (vec![context! { text, href => "#documents" }], Some(text), None),
        Problem::Upload(text) => (vec![context! { text, href => "#file" }], None, Some(text)),
        Problem::Page(text) => (vec![context! { text, href => "#main-content" }], None, None),
    };
    let changes = may_change(signed_in);
    page(
        if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        "documents/attach.html",
        context! {
            title => "Documents for this notification",
            caption => loaded.title.clone(),
            header => signed_in.header("notifications"),
            action => path,
            check => format!("/notifications/{id}/check"),
            version => loaded.notification.version,
            upload => changes.then(|| upload_form(&csrf_token, Some(id), max_size, upload_error)),
            choices => if changes { choices } else { Vec::new() },
            message, changes, attached, errors, csrf_token,
            error_message => choice_error,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct Attaching {
    csrf_token: Option<String>,
    version: Option<i64>,
    /// `attach` (the chosen `documents`) or `detach` (one `document`).
    action: Option<String>,
    document: Option<Uuid>,
}

async fn attach(
    State(portal): State<Portal>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    // A checkbox list repeats its name, so the form is read as pairs; the rest as a struct.
    let chosen: Vec<Uuid> =
        pairs.iter().filter(|(n, _)| n == "documents").filter_map(|(_, v)| v.parse().ok()).collect();
    let single: Vec<(String, String)> = pairs.into_iter().filter(|(n, _)| n != "documents").collect();
    let Ok(form) = serde_urlencoded::from_str::<Attaching>(&serde_urlencoded::to_string(&single).unwrap_or_default())
    else {
        return not_found();
    };
    let loaded = match load_for_form(&portal, &signed_in, &id, form.csrf_token.as_deref()).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if loaded.notification.status != Status::Draft {
        return Redirect::to(&format!("/notifications/{}", loaded.notification.id)).into_response();
    }
    let max_size = portal.config().document_max_size;
    // Only documents that still exist: one removed since it was attached would make every save refused.
    let existing = match all_documents(&signed_in, loaded.organisation).await {
        Ok(documents) => documents.into_iter().map(|d| d.id).collect::<Vec<_>>(),
        Err(response) => return response,
    };
    let mut attached = attachments_of(&loaded);
    attached.retain(|a| existing.contains(&a.document_id));
    let count = chosen.len();
    let message = match (form.action.as_deref(), form.document) {
        (Some("detach"), Some(document)) => {
            attached.retain(|a| a.document_id != document);
            "The document has been taken off this notification (it is still in your documents)"
        }
        _ if chosen.is_empty() => {
            return attach_page_of(&signed_in, &loaded, Problem::Choice("Select a document to attach"), max_size).await;
        }
        _ => {
            attached.extend(
                chosen
                    .into_iter()
                    .map(|document_id| NewAttachment { document_id, purpose: AttachmentPurpose::Evidence }),
            );
            if count == 1 { "The document has been attached" } else { "The documents have been attached" }
        }
    };
    let version = form.version.unwrap_or_default().to_string();
    match save_attachments(&signed_in, &loaded, &version, attached).await {
        Ok(()) => {
            let path = format!("/notifications/{}/documents", loaded.notification.id);
            flash::set(&signed_in.session, &path, message).await;
            Redirect::to(&path).into_response()
        }
        Err(refused) => refused.page(&signed_in, &loaded, max_size).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_type_is_the_browsers_or_else_read_from_its_name() {
        assert_eq!(media_type("a.pdf", Some("application/pdf")), "application/pdf");
        assert_eq!(media_type("Scan.JPG", Some("application/octet-stream")), "image/jpeg");
        assert_eq!(media_type("notes.txt", None), "text/plain");
        assert_eq!(media_type("archive.zip", None), "application/octet-stream", "the API says what it takes");
    }

    #[test]
    fn sizes_are_in_words() {
        assert_eq!(size_in_words(900), "900 bytes");
        assert_eq!(size_in_words(48_213), "47 KB");
        assert_eq!(size_in_words(104_857_600), "100 MB");
        assert_eq!(size_in_words(2_516_582), "2.4 MB");
    }
}
