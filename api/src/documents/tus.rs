//! tus 1.0 resumable uploads (<https://tus.io/protocols/resumable-upload>) under
//! `/v1/organisations/{organisation_id}/uploads`: core, creation, creation-with-upload, termination,
//! checksum (sha256) and expiration. Every response carries `Tus-Resumable: 1.0.0`.
//!
//! When the last byte arrives the upload becomes a document; the final `PATCH` (and any later `HEAD`) says
//! which in `Document-Id`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use provider_api_core::capability::Capability;
use provider_api_core::documents::media::{MediaType, sanitise_filename};
use time::OffsetDateTime;
use time::macros::format_description;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::hashing::Hasher;
use super::routes::{FileContent, accepted_type, check_location, uploader};
use super::{Upload, writer};
use crate::auth::principal::{Access, Authorized, WriteDocuments};
use crate::http::{Path, Problem};
use crate::openapi::tags;
use crate::state::AppState;

pub const TUS_VERSION: &str = "1.0.0";

/// The tus protocol version a request speaks; this server speaks 1.0.0 only.
/// (Only the spec uses it: the header is checked as text by `require_version`.)
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub enum TusVersion {
    #[serde(rename = "1.0.0")]
    V1,
}
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";

static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
static UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
static UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
static DOCUMENT_ID: HeaderName = HeaderName::from_static("document-id");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(describe_uploads, create_upload))
        .routes(routes!(get_upload_offset, append_to_upload, terminate_upload))
        .layer(SetResponseHeaderLayer::overriding(TUS_RESUMABLE.clone(), HeaderValue::from_static(TUS_VERSION)))
}

fn bad_request(code: &'static str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, code, "The tus request is invalid", detail)
}

/// tus: a request without the version we speak gets 412 and the versions we do.
fn require_version(headers: &HeaderMap) -> Result<(), Problem> {
    match headers.get(&TUS_RESUMABLE).and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_unsupported",
            "Unsupported tus version",
            "Send `Tus-Resumable: 1.0.0`.",
        )
        .with_header(HeaderName::from_static("tus-version"), HeaderValue::from_static(TUS_VERSION))),
    }
}

fn number(headers: &HeaderMap, name: &HeaderName) -> Result<Option<i64>, Problem> {
    let Some(value) = headers.get(name) else { return Ok(None) };
    value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| bad_request("invalid_tus_header", format!("`{name}` must be a non-negative integer.")))
}

/// RFC 9110 HTTP-date, as tus asks for `Upload-Expires`.
fn http_date(at: OffsetDateTime) -> HeaderValue {
    let format =
        format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    let text = at.to_offset(time::UtcOffset::UTC).format(&format).expect("a fixed format");
    HeaderValue::from_str(&text).expect("ASCII")
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs (a key alone means an empty value).
fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, Problem> {
    let Some(value) = headers.get(&UPLOAD_METADATA) else { return Ok(Vec::new()) };
    let text = value.to_str().map_err(|_| bad_request("invalid_upload_metadata", "Upload-Metadata is not ASCII."))?;
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
            let bytes = STANDARD.decode(encoded.trim()).map_err(|_| {
                bad_request(
                    "invalid_upload_metadata",
                    format!("The value of `{key}` in Upload-Metadata is not base64."),
                )
            })?;
            let value = String::from_utf8(bytes).map_err(|_| {
                bad_request("invalid_upload_metadata", format!("The value of `{key}` in Upload-Metadata is not UTF-8."))
            })?;
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// `Upload-Checksum: sha256 <base64>`: the digest this request's body must have.
fn checksum(headers: &HeaderMap) -> Result<Option<Vec<u8>>, Problem> {
    let Some(value) = headers.get(&UPLOAD_CHECKSUM) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    let (algorithm, digest) = text.split_once(' ').unwrap_or((text, ""));
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(bad_request("checksum_algorithm_unsupported", "Upload-Checksum must use sha256."));
    }
    match STANDARD.decode(digest.trim()) {
        Ok(bytes) if bytes.len() == 32 => Ok(Some(bytes)),
        _ => Err(bad_request("invalid_upload_checksum", "Upload-Checksum must be `sha256 <base64 of 32 bytes>`.")),
    }
}

fn has_offset_body(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == OFFSET_OCTET_STREAM)
}

/// The upload, if it belongs to this organisation, is at a location the caller may write at, and has not
/// expired unfinished; 404 otherwise.
async fn visible_upload(state: &AppState, access: &Access, id: Uuid) -> Result<Upload, Problem> {
    let upload = state.store.upload(id).await?;
    match upload {
        Some(u)
            if u.organisation_id == access.organisation_id
                && access.reaches(u.location_id)
                && access.decide(Capability::DocumentsWrite, u.location_id).allowed
                && (u.document_id.is_some() || u.expires_at > state.clock.now()) =>
        {
            Ok(u)
        }
        _ => Err(Problem::not_found("There is no such upload in progress (it may have expired).")),
    }
}

/// Discover the tus server's capabilities
///
/// tus 1.0 `OPTIONS`: the protocol version, extensions, largest upload and checksum algorithm.
#[utoipa::path(
    options,
    path = "/v1/organisations/{organisation_id}/uploads",
    tag = tags::DOCUMENTS,
    operation_id = "describe_uploads",
    security(()),
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 204, description = "What this tus server supports", headers(
        ("Tus-Resumable" = String, description = "1.0.0"),
        ("Tus-Version" = String, description = "1.0.0"),
        ("Tus-Extension" = String, description = "creation,creation-with-upload,termination,checksum,expiration"),
        ("Tus-Max-Size" = u64, description = "The largest upload, in bytes"),
        ("Tus-Checksum-Algorithm" = String, description = "sha256"),
    ))),
)]
async fn describe_uploads(State(state): State<AppState>, Path(_): Path<Uuid>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(EXTENSIONS));
    h.insert("tus-max-size", HeaderValue::from(state.documents.settings.max_size));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    response
}

/// Start a resumable upload
///
/// tus 1.0 creation: `Upload-Length` is the file's size (at most the configured limit, else 413 before
/// anything is stored); `Upload-Metadata` carries `filename` and `filetype` (one of the accepted types; the
/// content's first bytes must match it), and optionally `location_id`. A body
/// (`application/offset+octet-stream`) starts the upload at once (creation-with-upload).
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/uploads",
    tag = tags::DOCUMENTS,
    operation_id = "create_upload",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("Tus-Resumable" = inline(TusVersion), Header, description = "The tus version: `1.0.0`"),
        ("Upload-Length" = u64, Header, description = "The file's size in bytes"),
        ("Upload-Metadata" = Option<String>, Header, nullable = false, description = "`filename <base64>,filetype <base64>[,location_id <base64>]`"),
        ("Upload-Checksum" = Option<String>, Header, nullable = false, description = "`sha256 <base64>` of the body, when there is one"),
    ),
    request_body(description = "Optionally, the first bytes of the file", content((FileContent = "application/offset+octet-stream"))),
    responses(
        (status = 201, description = "Created", headers(
            ("Location" = String, description = "The upload's URL, for HEAD, PATCH and DELETE"),
            ("Upload-Offset" = u64, description = "Bytes stored, when the request had a body"),
            ("Upload-Expires" = String, description = "When the unfinished upload will be removed"),
        )),
        (status = 408, description = "A body that ran past the request deadline (`upload_deadline`): what arrived is kept; `Location` and `Upload-Offset` say where to resume"),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0` (`tus_version_unsupported`)"),
        (status = 413, description = "`Upload-Length` past the limit (`document_too_large`), or past the organisation's storage quota (`storage_quota_exceeded`)"),
        (status = 415, description = "A type not accepted, or content not of the declared type"),
        (status = 429, description = "The organisation has as many unfinished uploads as it may (`too_many_open_uploads`)"),
        (status = 460, description = "The body does not match `Upload-Checksum` (`checksum_mismatch`)"),
        (status = 503, description = "Every place for staging uploads on this server is taken (`uploads_busy`); `Retry-After`"),
    ),
)]
async fn create_upload(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path(organisation_id): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    require_version(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(bad_request(
            "defer_length_unsupported",
            "Give `Upload-Length`; deferred lengths are not supported.",
        ));
    }
    let length = number(&headers, &UPLOAD_LENGTH)?
        .ok_or_else(|| bad_request("upload_length_required", "Give the file's size in `Upload-Length`."))?;
    let max = state.documents.settings.max_size;
    if length as u64 > max {
        return Err(writer::too_large(max));
    }
    let metadata = metadata(&headers)?;
    let get = |keys: &[&str]| metadata.iter().find(|(k, _)| keys.contains(&k.as_str())).map(|(_, v)| v.clone());
    let declared = get(&["filetype", "content_type", "contentType", "type"]);
    let media = accepted_type(&state, declared.as_deref()).map_err(|mut problem| {
        if declared.is_none() {
            problem.detail = format!(
                "Name the file's type in `Upload-Metadata`: `filename <base64>,filetype <base64>`, e.g. \
application/pdf as `YXBwbGljYXRpb24vcGRm`. {}",
                problem.detail
            );
        }
        problem
    })?;
    let filename = sanitise_filename(&get(&["filename", "name"]).unwrap_or_default());
    let location_id =
        match get(&["location_id"]) {
            None => None,
            Some(text) => Some(text.parse::<Uuid>().map_err(|_| {
                bad_request("invalid_upload_metadata", "`location_id` in Upload-Metadata must be a UUID.")
            })?),
        };
    check_location(&state, &auth.access, location_id, "/upload_metadata/location_id").await?;
    let wanted_checksum = checksum(&headers)?;

    let (user, client) = uploader(&auth.principal);
    let now = state.clock.now_for(auth.access.organisation_id);
    let upload = Upload {
        id: Uuid::now_v7(),
        organisation_id,
        location_id,
        filename,
        media_type: media.mime().to_owned(),
        length,
        received: 0,
        hash_state: Hasher::new().save(),
        created_by_user: user,
        created_by_client: client,
        created_at: now,
        expires_at: now + state.documents.settings.upload_expiry,
        document_id: None,
        staged_parts: String::new(),
    };
    state.documents.check_quotas(state.store.as_ref(), organisation_id, length as u64, true, now).await?;
    state.store.create_upload(&upload).await?;
    let location = format!("/v1/organisations/{organisation_id}/uploads/{}", upload.id);
    let mut response = if has_offset_body(&headers) || length == 0 {
        let guard = state.documents.claim(upload.id).expect("a new upload is nobody else's");
        let upload_id = upload.id;
        let response = match append(&state, upload, media, wanted_checksum, body).await {
            Ok(response) => response,
            // Cut off at the deadline, the upload holds what arrived: say where it is, so it can resume.
            Err(problem) if problem.code == "upload_deadline" => {
                return Err(problem.with_header(header::LOCATION, HeaderValue::from_str(&location).expect("ASCII")));
            }
            // Refused otherwise, the client is not told where the upload is, so it cannot resume or cancel it:
            // it goes, rather than count against the organisation's quota for a day.
            Err(problem) => {
                let _ = state.documents.blobs.discard(upload_id).await;
                state.store.delete_upload(upload_id).await?;
                return Err(problem);
            }
        };
        drop(guard);
        response
    } else {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert(UPLOAD_EXPIRES.clone(), http_date(upload.expires_at));
        response
    };
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("ASCII"));
    Ok(response)
}

/// Stores one request's bytes, advances the upload and, after its last byte, makes the document.
async fn append(
    state: &AppState,
    upload: Upload,
    media: MediaType,
    wanted_checksum: Option<Vec<u8>>,
    body: Body,
) -> Result<Response, Problem> {
    let documents = &state.documents;
    let written = match writer::write(documents, &upload, media, body, wanted_checksum.is_some()).await {
        Ok(written) => written,
        Err(problem) if problem.code == "content_type_mismatch" => {
            // It can never succeed: the upload goes.
            let _ = documents.blobs.discard(upload.id).await;
            state.store.delete_upload(upload.id).await?;
            return Err(problem);
        }
        Err(problem) => return Err(problem),
    };
    let mut offset = upload.received;
    if let Some(wanted) = &wanted_checksum {
        if written.past_deadline {
            return Err(writer::past_deadline(documents, Some(upload.received)));
        }
        if written.interrupted {
            // Part of a body cannot be checked against the whole body's checksum, so none of it is kept.
            return Err(bad_request("unreadable_body", "The body ended early; send it again from the same offset."));
        }
        if written.part_sha256.as_ref() != Some(wanted) {
            return Err(Problem::new(
                StatusCode::from_u16(460).expect("a valid status code"),
                "checksum_mismatch",
                "Checksum mismatch",
                "The body's SHA-256 is not the one in Upload-Checksum; nothing was stored. Send it again.",
            ));
        }
    }
    let received = upload.received + written.stored as i64;
    let now = state.clock.now_for(upload.organisation_id);
    let expires_at = now + documents.settings.upload_expiry;
    let mut response = StatusCode::NO_CONTENT.into_response();
    // The parts that hold the upload's bytes if this write is accepted: recorded with the offset, under the
    // same compare-and-set, so a write at the same offset on another node can never stand in for this one.
    let parts = upload.parts_with(&written.part);
    if received == upload.length {
        let chain: Vec<&str> = parts.split_whitespace().collect();
        let document = match writer::finish(
            documents,
            &upload,
            &chain,
            media,
            written.hasher,
            written.type_checked,
            state.clock.now_for(upload.organisation_id),
        )
        .await
        {
            Ok(document) => document,
            Err(problem) if problem.code == "content_type_mismatch" => {
                // `finish` discarded the bytes; the upload goes with them.
                state.store.delete_upload(upload.id).await?;
                return Err(problem);
            }
            Err(problem) => return Err(problem),
        };
        if !state.store.complete_upload(upload.id, upload.received, &document).await? {
            let _ = documents.blobs.delete(document.id).await;
            return Err(offset_conflict());
        }
        if let Err(error) = documents.blobs.discard(upload.id).await {
            // The document is whole; the staged parts are only wasted space (expiry does not reach them now).
            tracing::warn!(upload = %upload.id, %error, "could not delete a finished upload's staged parts");
        }
        documents.scan_requested.notify_one();
        response
            .headers_mut()
            .insert(DOCUMENT_ID.clone(), HeaderValue::from_str(&document.id.to_string()).expect("ASCII"));
        offset = received;
    } else if written.stored > 0 {
        let hash_state = written.hasher.save();
        if !state.store.advance_upload(upload.id, upload.received, received, &hash_state, &parts, expires_at).await? {
            return Err(offset_conflict());
        }
        offset = received;
    }
    if written.past_deadline {
        // What arrived is kept: the client resumes from the offset with another request.
        let problem = writer::past_deadline(documents, Some(offset))
            .with_header(UPLOAD_OFFSET.clone(), HeaderValue::from(offset))
            .with_header(UPLOAD_EXPIRES.clone(), http_date(expires_at));
        return Err(problem);
    }
    let h = response.headers_mut();
    h.insert(UPLOAD_OFFSET.clone(), HeaderValue::from(offset));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(expires_at));
    Ok(response)
}

fn offset_conflict() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "upload_offset_mismatch",
        "The upload is not at that offset",
        "Upload-Offset must be the offset HEAD reports (another request may have moved it); ask again with HEAD.",
    )
}

/// Get an upload's offset
///
/// tus 1.0 `HEAD`: how many bytes the server holds (`Upload-Offset`), so an interrupted upload resumes from
/// there. A finished upload names its document in `Document-Id`.
#[utoipa::path(
    head,
    path = "/v1/organisations/{organisation_id}/uploads/{upload_id}",
    tag = tags::DOCUMENTS,
    operation_id = "get_upload_offset",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("upload_id" = Uuid, Path, description = "The upload"),
        ("Tus-Resumable" = inline(TusVersion), Header, description = "The tus version: `1.0.0`"),
    ),
    responses(
        (status = 200, description = "Where the upload stands", headers(
            ("Upload-Offset" = u64, description = "Bytes stored"),
            ("Upload-Length" = u64, description = "The file's size"),
            ("Upload-Metadata" = String, description = "filename and filetype, as given"),
            ("Upload-Expires" = String, description = "When the unfinished upload will be removed"),
            ("Document-Id" = String, description = "The document it became, once complete"),
        )),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
    ),
)]
async fn get_upload_offset(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path((_, upload_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    require_version(&headers)?;
    let upload = visible_upload(&state, &auth.access, upload_id).await?;
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    h.insert(UPLOAD_OFFSET.clone(), HeaderValue::from(upload.received));
    h.insert(UPLOAD_LENGTH.clone(), HeaderValue::from(upload.length));
    let metadata =
        format!("filename {},filetype {}", STANDARD.encode(&upload.filename), STANDARD.encode(&upload.media_type));
    h.insert(UPLOAD_METADATA.clone(), HeaderValue::from_str(&metadata).expect("base64"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match upload.document_id {
        Some(document) => {
            h.insert(DOCUMENT_ID.clone(), HeaderValue::from_str(&document.to_string()).expect("ASCII"));
        }
        None => {
            h.insert(UPLOAD_EXPIRES.clone(), http_date(upload.expires_at));
        }
    }
    Ok(response)
}

/// Append to an upload
///
/// tus 1.0 `PATCH`: the body (`application/offset+octet-stream`) continues the file at `Upload-Offset`, which
/// must be the offset the server holds (409 otherwise). With `Upload-Checksum: sha256 <base64>` a body that
/// does not match is refused with 460 and nothing is stored. When the connection drops, the bytes that
/// arrived are kept: ask `HEAD` and continue. The request with the last byte answers `Document-Id`.
#[utoipa::path(
    patch,
    path = "/v1/organisations/{organisation_id}/uploads/{upload_id}",
    tag = tags::DOCUMENTS,
    operation_id = "append_to_upload",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("upload_id" = Uuid, Path, description = "The upload"),
        ("Tus-Resumable" = inline(TusVersion), Header, description = "The tus version: `1.0.0`"),
        ("Upload-Offset" = u64, Header, description = "Where this body starts: the offset HEAD reports"),
        ("Upload-Checksum" = Option<String>, Header, nullable = false, description = "`sha256 <base64>` of the body"),
    ),
    request_body(description = "The next bytes of the file", content((FileContent = "application/offset+octet-stream"))),
    responses(
        (status = 204, description = "Stored", headers(
            ("Upload-Offset" = u64, description = "Bytes stored now"),
            ("Upload-Expires" = String, description = "When the unfinished upload will be removed"),
            ("Document-Id" = String, description = "The document, when this was the last byte"),
        )),
        (status = 408, description = "The request ran past its deadline (`upload_deadline`): what arrived is kept, and `Upload-Offset` says where to continue"),
        (status = 409, description = "`Upload-Offset` is not the server's (`upload_offset_mismatch`), or another request is writing to this upload (`upload_busy`)"),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
        (status = 460, description = "The body does not match `Upload-Checksum` (`checksum_mismatch`)"),
        (status = 503, description = "Every place for staging uploads on this server is taken (`uploads_busy`); `Retry-After`"),
    ),
)]
async fn append_to_upload(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path((_, upload_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    require_version(&headers)?;
    if !has_offset_body(&headers) {
        return Err(Problem::unsupported_media_type(OFFSET_OCTET_STREAM));
    }
    let offset = number(&headers, &UPLOAD_OFFSET)?.ok_or_else(|| {
        bad_request("upload_offset_required", "Give the offset this body starts at in `Upload-Offset`.")
    })?;
    let wanted_checksum = checksum(&headers)?;
    let upload = visible_upload(&state, &auth.access, upload_id).await?;
    let Some(_guard) = state.documents.claim(upload.id) else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "upload_busy",
            "Another request is writing to this upload",
            "Wait for it to finish (or time out), then ask HEAD for the offset.",
        ));
    };
    // Read again under the claim: a request that just finished may have moved the offset.
    let upload = visible_upload(&state, &auth.access, upload_id).await?;
    if offset != upload.received || upload.document_id.is_some() {
        return Err(offset_conflict());
    }
    let media = MediaType::from_mime(&upload.media_type).ok_or_else(Problem::internal)?;
    append(&state, upload, media, wanted_checksum, body).await
}

/// Cancel an upload
///
/// tus 1.0 termination: the upload and its bytes are removed. (A document it already became is not.)
#[utoipa::path(
    delete,
    path = "/v1/organisations/{organisation_id}/uploads/{upload_id}",
    tag = tags::DOCUMENTS,
    operation_id = "terminate_upload",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("upload_id" = Uuid, Path, description = "The upload"),
        ("Tus-Resumable" = inline(TusVersion), Header, description = "The tus version: `1.0.0`"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "Another request is writing to this upload (`upload_busy`)"),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
    ),
)]
async fn terminate_upload(
    State(state): State<AppState>,
    auth: Authorized<WriteDocuments>,
    Path((_, upload_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    require_version(&headers)?;
    let upload = visible_upload(&state, &auth.access, upload_id).await?;
    let Some(_guard) = state.documents.claim(upload.id) else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "upload_busy",
            "Another request is writing to this upload",
            "Wait for it to finish, then terminate it.",
        ));
    };
    state.documents.blobs.discard(upload.id).await.map_err(writer::storage_failed)?;
    state.store.delete_upload(upload.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
