//! `/v1/organisations/{organisation_id}/documents`: the single-request upload, metadata, listing, content
//! (only once scanned clean, with ranges) and deletion.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provider_api_core::capability::Capability;
use provider_api_core::documents::media::{MediaType, content_disposition, sanitise_filename};
use provider_api_core::field_error::FieldError;
use provider_api_store::Deletion;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::hashing::Hasher;
use super::{Document, ScanStatus, Upload, writer};
use crate::auth::principal::{Access, Authorized, ReadDocuments, WriteDocuments};
use crate::auth::{Principal, Subject};
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{Path, Problem, Query};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document, list_documents))
        .routes(routes!(get_document, delete_document))
        .routes(routes!(get_document_content))
}

/// A document's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The location the document concerns, if it was uploaded for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// The name the uploader gave, made safe: no path, no control characters. Metadata only.
    #[schema(example = "statement-of-purpose.pdf")]
    pub filename: String,
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// Size in bytes.
    #[schema(example = 48213)]
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// The person who uploaded it, when a person did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub uploaded_by_user_id: Option<Uuid>,
    /// The OAuth client it was uploaded through.
    pub uploaded_by_client_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The content can be downloaded only when `clean`.
    pub scan_status: ScanStatus,
    /// What scanned it: `clamav`, or `none` when the server has no scanner configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "clamav")]
    pub scanner: Option<String>,
    /// For `infected`: the signature found.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "Eicar-Test-Signature")]
    pub threat: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option", default)]
    #[schema(nullable = false)]
    pub scanned_at: Option<OffsetDateTime>,
    /// Set once something that attaches the document has been submitted; it can no longer be deleted.
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option", default)]
    #[schema(nullable = false)]
    pub frozen_at: Option<OffsetDateTime>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        let status = d.status();
        Self {
            threat: (status == ScanStatus::Infected).then_some(d.scan_detail).flatten(),
            scan_status: status,
            id: d.id,
            organisation_id: d.organisation_id,
            location_id: d.location_id,
            filename: d.filename,
            media_type: d.media_type,
            size: d.size,
            sha256: d.sha256,
            uploaded_by_user_id: d.uploaded_by_user,
            uploaded_by_client_id: d.uploaded_by_client,
            created_at: d.created_at,
            scanner: d.scanner,
            scanned_at: d.scanned_at,
            frozen_at: d.frozen_at,
        }
    }
}

/// A page of documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentView>,
    /// The cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// Raw file bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileContent(#[allow(dead_code)] Vec<u8>);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name (kept, made safe, as metadata; any path in it is dropped).
    #[param(min_length = 1, max_length = 1000, example = "statement-of-purpose.pdf")]
    pub filename: String,
    /// A location of this organisation the document concerns (the caller needs access to it).
    pub location_id: Option<Uuid>,
}

/// Who is uploading, for the record.
pub(super) fn uploader(principal: &Principal) -> (Option<Uuid>, Uuid) {
    let user = match &principal.subject {
        Subject::User(user) => Some(user.id),
        Subject::Client(_) => None,
    };
    (user, principal.claims.client_id)
}

/// A location named for a document must be this organisation's (422) and one the caller may write at (403).
pub(super) async fn check_location(
    state: &AppState,
    access: &Access,
    location_id: Option<Uuid>,
    pointer: &str,
) -> Result<(), Problem> {
    let Some(location_id) = location_id else {
        if access.locations.is_some() {
            // Without a location the document would be the whole organisation's, out of the uploader's reach.
            return Err(Problem::validation(vec![FieldError::new(
                pointer,
                "location_required",
                "Your access is limited to some locations: name the location this document concerns.",
            )]));
        }
        return Ok(());
    };
    let known = state.store.locations(access.organisation_id).await?.iter().any(|l| l.id == location_id);
    if !known {
        return Err(Problem::validation(vec![FieldError::new(
            pointer,
            "unknown_location",
            "This organisation has no such location.",
        )]));
    }
    access.require(Capability::DocumentsWrite, Some(location_id))
}

/// The media types the server accepts, as a `Content-Type` names one: 415 otherwise.
pub(super) fn accepted_type(state: &AppState, declared: Option<&str>) -> Result<MediaType, Problem> {
    let allowed = &state.documents.settings.allowed_types;
    match declared.and_then(MediaType::from_mime).filter(|t| allowed.contains(t)) {
        Some(media) => Ok(media),
        None => {
            let names: Vec<&str> = allowed.iter().map(|t| t.mime()).collect();
            Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "document_type_not_allowed",
                "This type of document is not accepted",
                format!("Declare one of these types: {}.", names.join(", ")),
            ))
        }
    }
}

/// The document, if it is this organisation's and at a location the caller can see; 404 otherwise.
async fn visible_document(state: &AppState, access: &Access, id: Uuid) -> Result<Document, Problem> {
    let document = state.store.document(id).await?;
    match document {
        Some(d)
            if d.organisation_id == access.organisation_id
                && access.reaches(d.location_id)
                && access.decide(Capability::DocumentsRead, d.location_id).allowed =>
        {
            Ok(d)
        }
        _ => Err(Problem::not_found("This organisation has no such document that you can see.")),
    }
}

/// Upload a document in one request
///
/// For software that does not want resumable uploads: the body is the file, `Content-Type` its type (one of
/// the accepted types; the first bytes must match it), `filename` its name. The body is streamed to storage and
/// hashed as it arrives. Larger files, or unreliable connections, should use the tus endpoint
/// (`/uploads`). The document starts `pending` until the malware scan is done.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/documents",
    tag = tags::DOCUMENTS,
    operation_id = "upload_document",
    params(("organisation_id" = Uuid, Path, description = "The organisation"), UploadQuery),
    request_body(description = "The file's bytes", content(
        (FileContent = "application/pdf"),
        (FileContent = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (FileContent = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (FileContent = "application/vnd.oasis.opendocument.text"),
        (FileContent = "application/vnd.oasis.opendocument.spreadsheet"),
        (FileContent = "application/msword"),
        (FileContent = "application/vnd.ms-excel"),
        (FileContent = "text/csv"),
        (FileContent = "text/plain"),
        (FileContent = "image/jpeg"),
        (FileContent = "image/png"),
    )),
    responses(
        (status = 201, description = "Stored; scanning follows", body = DocumentView,
            headers(("Location" = String, description = "The document"))),
        (status = 408, description = "The body stalled (`request_timeout`) or ran past the request deadline (`upload_deadline`); nothing is kept"),
        (status = 413, description = "Larger than the configured limit (`document_too_large`), or past the organisation's storage quota (`storage_quota_exceeded`), refused before it is stored"),
        (status = 415, description = "A type not accepted (`document_type_not_allowed`), or content that is not of the declared type (`content_type_mismatch`)"),
        (status = 503, description = "Every place for staging uploads on this server is taken (`uploads_busy`); `Retry-After`"),
    ),
)]
async fn upload_document(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path(organisation_id): Path<Uuid>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let media = accepted_type(&state, declared).map_err(|mut problem| {
        if declared.is_some_and(|d| d.trim_start().to_ascii_lowercase().starts_with("multipart/")) {
            problem.detail = format!(
                "Send the file's bytes as the request body with the file's own `Content-Type` (e.g. \
application/pdf), not a multipart form, with its name as `?filename=`. {}",
                problem.detail
            );
        }
        problem
    })?;
    check_location(&state, &auth.access, query.location_id, "/location_id").await?;
    let max = state.documents.settings.max_size;
    let length = match headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) {
        Some(text) => text.parse::<u64>().map_err(|_| bad_length())?,
        None => max,
    };
    if length > max {
        return Err(writer::too_large(max));
    }
    if let Some(detail) = filename_problem(&query.filename) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_query", "The query string is invalid", detail));
    }
    let (user, client) = uploader(&auth.principal);
    let now = state.clock.now_for(auth.access.organisation_id);
    state.documents.check_quotas(state.store.as_ref(), organisation_id, length, false, now).await?;
    // The same staging a tus upload uses, for one request: `length` is an upper bound when the body's length
    // is not declared, and the document takes the size that arrived.
    let mut upload = Upload {
        id: Uuid::now_v7(),
        organisation_id,
        location_id: query.location_id,
        filename: sanitise_filename(&query.filename),
        media_type: media.mime().to_owned(),
        length: length as i64,
        received: 0,
        hash_state: Hasher::new().save(),
        created_by_user: user,
        created_by_client: client,
        created_at: now,
        expires_at: now,
        document_id: None,
        staged_parts: String::new(),
    };
    let documents = &state.documents;
    let written = match writer::write(documents, &upload, media, body, false).await {
        Ok(written) if written.past_deadline => Err(writer::past_deadline(documents, None)),
        Ok(written) if written.stalled => Err(Problem::request_timeout()),
        Ok(written) if written.interrupted => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            "The request body could not be read",
            "The connection failed while the file was being sent; send it again (or use /uploads, which resumes).",
        )),
        Ok(written) if headers.contains_key(header::CONTENT_LENGTH) && written.stored != length => Err(bad_length()),
        other => other,
    };
    let written = match written {
        Ok(written) => written,
        Err(problem) => {
            let _ = documents.blobs.discard(upload.id).await;
            return Err(problem);
        }
    };
    upload.length = written.stored as i64;
    let document = writer::finish(
        documents,
        &upload,
        &[written.part.as_str()],
        media,
        written.hasher,
        written.type_checked,
        state.clock.now_for(upload.organisation_id),
    )
    .await?;
    let _ = documents.blobs.discard(upload.id).await;
    if let Err(error) = state.store.create_document(&document).await {
        let _ = documents.blobs.delete(document.id).await;
        return Err(error.into());
    }
    documents.scan_requested.notify_one();
    let location = format!("/v1/organisations/{organisation_id}/documents/{}", document.id);
    let mut response = (StatusCode::CREATED, Json(DocumentView::from(document))).into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("ASCII"));
    Ok(response)
}

/// The longest `filename` accepted, in characters, as the parameter's schema publishes (the name is then kept
/// safe and at most 255 bytes long).
const MAX_FILENAME_CHARS: usize = 1000;

/// Why `filename` is refused, if it is: blank, or longer than its published limit.
fn filename_problem(filename: &str) -> Option<&'static str> {
    if filename.trim().is_empty() {
        Some("Give the file's name in `filename`.")
    } else if filename.chars().count() > MAX_FILENAME_CHARS {
        Some("`filename` is at most 1000 characters long.")
    } else {
        None
    }
}

fn bad_length() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "content_length_mismatch",
        "The body's length is not as declared",
        "Content-Length must be the number of bytes in the body.",
    )
}

/// List documents
///
/// The organisation's documents, oldest first, a page at a time (those at locations the caller cannot see are
/// left out).
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/documents",
    tag = tags::DOCUMENTS,
    operation_id = "list_documents",
    params(("organisation_id" = Uuid, Path, description = "The organisation"), PageQuery),
    responses((status = 200, description = "A page of documents", body = DocumentPage)),
)]
async fn list_documents(
    State(state): State<AppState>,
    auth: Authorized<ReadDocuments>,
    Path(organisation_id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<DocumentPage>, Problem> {
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state.store.documents_after(organisation_id, after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) = page(rows, limit, |d| After { created_at: d.created_at, id: d.id }, |d| d);
    let items = items.into_iter().filter(|d| auth.access.reaches(d.location_id)).map(DocumentView::from).collect();
    Ok(Json(DocumentPage { items, next }))
}

/// Get a document
///
/// The document's metadata, including its scan status.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/documents/{document_id}",
    tag = tags::DOCUMENTS,
    operation_id = "get_document",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("document_id" = Uuid, Path, description = "The document"),
    ),
    responses((status = 200, description = "The document", body = DocumentView)),
)]
async fn get_document(
    State(state): State<AppState>,
    auth: Authorized<ReadDocuments>,
    Path((_, document_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<DocumentView>, Problem> {
    Ok(Json(visible_document(&state, &auth.access, document_id).await?.into()))
}

/// Delete a document
///
/// Removes the document and its content, unless something it is attached to has been submitted (409
/// `document_frozen`) or a draft notification names it (409 `document_attached`: take it off the draft first).
#[utoipa::path(
    delete,
    path = "/v1/organisations/{organisation_id}/documents/{document_id}",
    tag = tags::DOCUMENTS,
    operation_id = "delete_document",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("document_id" = Uuid, Path, description = "The document"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Attached to something submitted (`document_frozen`), or to a draft (`document_attached`)"),
    ),
)]
async fn delete_document(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path((_, document_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    let document = visible_document(&state, &auth.access, document_id).await?;
    auth.access.require(Capability::DocumentsWrite, document.location_id)?;
    match state.store.delete_document(document.id).await? {
        Deletion::Deleted => {
            if let Err(error) = state.documents.blobs.delete(document.id).await {
                // The row is gone, so nobody can reach the bytes; they are only wasted space.
                tracing::warn!(document = %document.id, %error, "could not delete a deleted document's bytes");
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Deletion::Frozen => Err(Problem::new(
            StatusCode::CONFLICT,
            "document_frozen",
            "The document is attached to something submitted",
            "A document attached to a submitted notification or application is part of the record and cannot be deleted.",
        )),
        Deletion::AttachedToDraft => Err(Problem::new(
            StatusCode::CONFLICT,
            "document_attached",
            "The document is attached to a draft",
            "A draft notification names this document: take it off the draft (update its attachments) before deleting it.",
        )),
        Deletion::Missing => Err(Problem::not_found("This organisation has no such document that you can see.")),
    }
}

/// Download a document
///
/// The content, once the malware scan found it clean (409 before that, or if it was not). Supports
/// `Range: bytes=…` (one range), `If-Range` and `If-None-Match`; the `ETag` is the SHA-256.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/documents/{document_id}/content",
    tag = tags::DOCUMENTS,
    operation_id = "get_document_content",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("document_id" = Uuid, Path, description = "The document"),
        ("Range" = Option<String>, Header, nullable = false, description = "One byte range, e.g. `bytes=0-1023`"),
        ("If-Range" = Option<String>, Header, nullable = false, description = "Honour `Range` only if the ETag is still this"),
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag the caller holds"),
    ),
    responses(
        (status = 200, description = "The content, as its `media_type`", content_type = "*/*", body = FileContent,
            headers(
                ("ETag" = String, description = "The SHA-256 of the content, quoted"),
                ("Content-Disposition" = String, description = "`attachment` with the (safe) filename"),
            )),
        (status = 206, description = "The requested range", content_type = "*/*", body = FileContent,
            headers(("Content-Range" = String, description = "Which bytes these are"))),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`"),
        (status = 409, description = "Not scanned clean (`document_not_clean`): pending, infected or failed"),
        (status = 416, description = "The range is outside the content (`range_not_satisfiable`)"),
    ),
)]
async fn get_document_content(
    State(state): State<AppState>,
    auth: Authorized<ReadDocuments>,
    Path((_, document_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let document = visible_document(&state, &auth.access, document_id).await?;
    let status = document.status();
    if status != ScanStatus::Clean {
        let why = match status {
            ScanStatus::Pending => "It has not been scanned for malware yet; try again shortly.",
            ScanStatus::Infected => "The malware scan found a threat in it; it is never served.",
            _ => "The malware scan could not be completed, so it is not served.",
        };
        return Err(Problem::new(StatusCode::CONFLICT, "document_not_clean", "The document cannot be downloaded", why));
    }
    let etag = format!("\"{}\"", document.sha256);
    let size = document.size as u64;
    let header_text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if header_text(header::IF_NONE_MATCH).is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
        return Ok(response);
    }
    let range_applies = header_text(header::IF_RANGE).is_none_or(|v| v.trim() == etag);
    let range = match header_text(header::RANGE).filter(|_| range_applies) {
        None => None,
        Some(text) => match parse_range(text, size) {
            RangeRequest::Ignore => None,
            RangeRequest::Satisfiable(range) => Some(range),
            RangeRequest::Unsatisfiable => {
                return Err(Problem::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    "The range is outside the document",
                    format!("The document has {size} bytes."),
                )
                .with_header(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}")).expect("ASCII"),
                ));
            }
        },
    };
    let stream = state
        .documents
        .blobs
        .read(document.id, range.clone().filter(|_| size > 0))
        .await
        .map_err(writer::storage_failed)?;
    let (status, length) = match &range {
        Some(range) => (StatusCode::PARTIAL_CONTENT, range.end - range.start),
        None => (StatusCode::OK, size),
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&document.media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&content_disposition(&document.filename)).expect("encoded to ASCII"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Some(range) = &range {
        let value = format!("bytes {}-{}/{size}", range.start, range.end - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).expect("ASCII"));
    }
    Ok(response)
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// Not one byte range we serve (several ranges, another unit): the whole content is sent.
    Ignore,
    Satisfiable(std::ops::Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range (RFC 9110 §14.1.2): `a-b`, `a-` or `-n`.
fn parse_range(text: &str, size: u64) -> RangeRequest {
    let Some(spec) = text.trim().strip_prefix("bytes=") else { return RangeRequest::Ignore };
    if spec.contains(',') {
        return RangeRequest::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return RangeRequest::Ignore };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => start..(end + 1).min(size),
        (Ok(_), Ok(_)) => return RangeRequest::Ignore,
        (Ok(start), Err(_)) if last.is_empty() => start..size,
        (Err(_), Ok(suffix)) if first.is_empty() => size.saturating_sub(suffix)..size,
        _ => return RangeRequest::Ignore,
    };
    if range.start >= size || range.is_empty() { RangeRequest::Unsatisfiable } else { RangeRequest::Satisfiable(range) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeRequest::Satisfiable(0..10));
        assert_eq!(parse_range("bytes=90-200", 100), RangeRequest::Satisfiable(90..100));
        assert_eq!(parse_range("bytes=95-", 100), RangeRequest::Satisfiable(95..100));
        assert_eq!(parse_range("bytes=-10", 100), RangeRequest::Satisfiable(90..100));
        assert_eq!(parse_range("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeRequest::Ignore);
        assert_eq!(parse_range("items=0-1", 100), RangeRequest::Ignore);
        assert_eq!(parse_range("bytes=5-2", 100), RangeRequest::Ignore);
    }

    #[test]
    fn a_filename_is_refused_when_blank_or_past_its_published_limit_in_characters() {
        assert!(filename_problem(" \t").is_some());
        assert!(filename_problem(&"é".repeat(MAX_FILENAME_CHARS)).is_none(), "characters, not bytes");
        assert!(filename_problem(&"f".repeat(MAX_FILENAME_CHARS + 1)).is_some());
        assert!(filename_problem("../../etc/passwd").is_none(), "a path is made safe, not refused");
    }
}
