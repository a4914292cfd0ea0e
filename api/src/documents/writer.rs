//! The path every uploaded byte takes, for tus and single-request uploads alike: from the request body,
//! through the size limit, the SHA-256 of the whole file (and of this request's part, for `Upload-Checksum`)
//! and the type check on the first bytes, into the blob store. Nothing is buffered beyond the type check's
//! first 4 KiB and the store's write buffer.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::StreamExt;
use provider_api_core::documents::media::{MediaType, SNIFF_LEN};
use time::OffsetDateTime;
use uuid::Uuid;

use super::hashing::Hasher;
use super::scan::NONE;
use super::{Document, Documents, ScanStatus, Upload};
use crate::http::Problem;

/// What one request added to an upload.
pub struct Written {
    /// Bytes stored (all of the body, or what arrived before the connection failed).
    pub stored: u64,
    /// The whole file's hash after those bytes.
    pub hasher: Hasher,
    /// SHA-256 of this request's bytes, when a checksum was asked for.
    pub part_sha256: Option<Vec<u8>>,
    /// The body ended early (the connection dropped or stalled): the bytes before that are kept.
    pub interrupted: bool,
    /// It ended because it stalled past the body timeout (the client is slow, not gone).
    pub stalled: bool,
    /// Whether this request saw the file's first bytes and checked them against the declared type.
    pub type_checked: bool,
    /// It ended because it ran past the absolute deadline (`DocumentSettings::request_deadline`).
    pub past_deadline: bool,
    /// The staged part this request's bytes went to (`blob::part_name`), for the upload's record once accepted.
    pub part: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    TooLarge,
    WrongType,
}

struct Progress {
    hasher: Hasher,
    part: Option<Hasher>,
    received: u64,
    head: Option<Vec<u8>>,
    type_checked: bool,
    interrupted: bool,
    stalled: bool,
    past_deadline: bool,
    refusal: Option<Refusal>,
}

/// 413 for a body (or declared length) past what the upload may take.
pub fn too_large(limit: u64) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "document_too_large",
        "The document is too large",
        format!("Documents may be at most {limit} bytes."),
    )
}

/// 415 for content that is not what its declared type says.
pub fn wrong_type(media: MediaType) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content_type_mismatch",
        "The content is not of the declared type",
        format!("The file does not start as a {} file does; declare the type it really has.", media.short_name()),
    )
}

/// 408 for a request that ran past its deadline; `kept` says what a tus upload holds now.
pub fn past_deadline(documents: &Documents, kept: Option<i64>) -> Problem {
    let limit = documents.settings.request_deadline.as_secs();
    let detail = match kept {
        Some(offset) => format!(
            "An upload request may take at most {limit} seconds. The upload holds {offset} bytes: continue from \
             there with another PATCH."
        ),
        None => format!(
            "An upload request may take at most {limit} seconds; send it again, or use /uploads, which resumes."
        ),
    };
    Problem::new(StatusCode::REQUEST_TIMEOUT, "upload_deadline", "The upload took too long", detail)
}

pub fn storage_failed(error: io::Error) -> Problem {
    let mut problem = Problem::service_unavailable("The document store is unavailable; try again shortly.", 5);
    problem.internal = Some(format!("blob store: {error}"));
    problem
}

/// Streams `body` into `upload` after the bytes it already holds, refusing more than its declared length and
/// content that does not match `media`.
pub async fn write(
    documents: &Documents,
    upload: &Upload,
    media: MediaType,
    body: Body,
    checksum: bool,
) -> Result<Written, Problem> {
    let hasher = Hasher::restore(&upload.hash_state).ok_or_else(|| {
        let mut problem = Problem::internal();
        problem.internal = Some(format!("upload {} has an unreadable hash state", upload.id));
        problem
    })?;
    // Every request that stages bytes holds a place while it does, and gives up at the deadline however
    // steadily its bytes arrive: a client sending a byte every few seconds otherwise holds a place (and, on
    // the folder store, a blocking thread) for as long as it likes.
    let _place = documents.staging_place()?;
    let deadline = tokio::time::Instant::now() + documents.settings.request_deadline;
    let remaining = (upload.length - upload.received).max(0) as u64;
    let progress = Arc::new(Mutex::new(Progress {
        hasher,
        part: checksum.then(Hasher::new),
        received: 0,
        head: (upload.received == 0).then(Vec::new),
        type_checked: false,
        interrupted: false,
        stalled: false,
        past_deadline: false,
        refusal: None,
    }));
    let shared = progress.clone();
    let stream = futures_util::stream::unfold((body.into_data_stream(), false), move |(mut body, done)| {
        let progress = shared.clone();
        async move {
            if done {
                return None;
            }
            let next = match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(next) => next?,
                Err(_) => {
                    let mut progress = progress.lock().expect("not poisoned");
                    progress.interrupted = true;
                    progress.past_deadline = true;
                    return None;
                }
            };
            let bytes: Bytes = match next {
                Ok(bytes) => bytes,
                Err(error) => {
                    let mut progress = progress.lock().expect("not poisoned");
                    progress.interrupted = true;
                    progress.stalled = is_stall(&error);
                    return None;
                }
            };
            let refused = accept(&mut progress.lock().expect("not poisoned"), &bytes, remaining, media);
            match refused {
                None => Some((Ok(bytes), (body, false))),
                Some(refusal) => Some((Err(io::Error::other(format!("{refusal:?}"))), (body, true))),
            }
        }
    })
    .boxed();

    let part = super::blob::part_name(upload.received as u64);
    let stored = documents.blobs.stage(upload.id, upload.received as u64, &part, stream).await;
    // The store has dropped the stream (and its handle on the progress) by the time it returns.
    let Some(progress) = Arc::try_unwrap(progress).ok().and_then(|p| p.into_inner().ok()) else {
        let mut problem = Problem::internal();
        problem.internal = Some("the blob store kept the request body after the write".into());
        return Err(problem);
    };
    match (progress.refusal, stored) {
        (Some(Refusal::TooLarge), _) => Err(too_large(documents.settings.max_size.min(upload.length as u64))),
        (Some(Refusal::WrongType), _) => Err(wrong_type(media)),
        (None, Err(error)) => Err(storage_failed(error)),
        (None, Ok(stored)) => Ok(Written {
            stored,
            hasher: progress.hasher,
            part_sha256: progress.part.map(|h| hex_to_bytes(&h.hex())),
            interrupted: progress.interrupted,
            stalled: progress.stalled,
            type_checked: progress.type_checked,
            past_deadline: progress.past_deadline,
            part,
        }),
    }
}

/// Whether a body error is the body timeout (`http/middleware.rs`) rather than a failed connection.
fn is_stall(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Takes one piece of the body into the running totals; says why not when it must be refused.
fn accept(progress: &mut Progress, bytes: &[u8], remaining: u64, media: MediaType) -> Option<Refusal> {
    if progress.received + bytes.len() as u64 > remaining {
        progress.refusal = Some(Refusal::TooLarge);
        return progress.refusal;
    }
    progress.received += bytes.len() as u64;
    progress.hasher.update(bytes);
    if let Some(part) = &mut progress.part {
        part.update(bytes);
    }
    if let Some(head) = &mut progress.head
        && !progress.type_checked
    {
        let wanted = SNIFF_LEN - head.len();
        head.extend_from_slice(&bytes[..wanted.min(bytes.len())]);
        if head.len() == SNIFF_LEN || progress.received == remaining {
            progress.type_checked = true;
            if !media.matches(head) {
                progress.refusal = Some(Refusal::WrongType);
            }
        }
    }
    progress.refusal
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

/// Turns a complete upload's bytes (those of `parts`, its accepted parts in order) into a document's: checks
/// the type if no request has yet, copies or moves the bytes to the document's name, and returns the document
/// row to store (pending a scan, or clean when there is no scanner). The caller stores it, then discards the
/// staged upload and wakes the scanner.
pub async fn finish(
    documents: &Documents,
    upload: &Upload,
    parts: &[&str],
    media: MediaType,
    hasher: Hasher,
    type_checked: bool,
    now: OffsetDateTime,
) -> Result<Document, Problem> {
    if !type_checked {
        let head = documents.blobs.staged_head(upload.id, parts, SNIFF_LEN).await.map_err(storage_failed)?;
        if !media.matches(&head) {
            let _ = documents.blobs.discard(upload.id).await;
            return Err(wrong_type(media));
        }
    }
    let id = Uuid::now_v7();
    documents.blobs.promote(upload.id, parts, upload.length as u64, id).await.map_err(storage_failed)?;
    let scanned = documents.settings.clamd.is_none();
    Ok(Document {
        id,
        organisation_id: upload.organisation_id,
        location_id: upload.location_id,
        filename: upload.filename.clone(),
        media_type: upload.media_type.clone(),
        size: upload.length,
        sha256: hasher.hex(),
        uploaded_by_user: upload.created_by_user,
        uploaded_by_client: upload.created_by_client,
        created_at: now,
        scan_status: if scanned { ScanStatus::Clean } else { ScanStatus::Pending },
        scanner: scanned.then(|| NONE.to_owned()),
        scan_detail: None,
        scanned_at: scanned.then_some(now),
        scan_attempts: 0,
        scan_next_at: now,
        frozen_at: None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn first_error(body: Body) -> axum::Error {
        body.into_data_stream().next().await.expect("an item").expect_err("an error")
    }

    #[tokio::test]
    async fn a_body_that_stalls_past_the_timeout_is_told_from_one_that_fails() {
        let silent = Body::from_stream(futures_util::stream::pending::<Result<Bytes, io::Error>>());
        let stalled = Body::new(tower_http::timeout::TimeoutBody::new(Duration::from_millis(10), silent));
        assert!(is_stall(&first_error(stalled).await));

        let broken = Body::from_stream(futures_util::stream::iter([Err::<Bytes, _>(io::Error::other("reset"))]));
        assert!(!is_stall(&first_error(broken).await));
    }
}
