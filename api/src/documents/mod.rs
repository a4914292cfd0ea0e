//! Documents: files a provider uploads (evidence for notifications, the papers a registration application
//! needs), stored by id in a blob store, scanned for malware before anyone can read them back.
//!
//! Two ways in, one way through: a tus 1.0 resumable upload (`tus.rs`) or a single request (`routes.rs`)
//! streams bytes into the blob store ([`blob`]), hashing as they arrive and checking the declared type against
//! the first bytes ([`media`]); the last byte turns the upload into a [`Document`], which the scanner
//! ([`scan`]) then marks `clean`, `infected` or `failed`. See `docs/documents.md`.

pub mod blob;
pub mod hashing;
pub mod housekeeping;
mod routes;
pub mod scan;
mod tus;
pub(crate) mod writer;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use provider_api_core::documents::{Document, MediaType, ScanStatus, Upload};

use crate::state::AppState;
use blob::BlobStore;
use scan::Clamd;

pub use routes::DocumentView;

/// The limits and services documents need, from the configuration.
#[derive(Debug, Clone)]
pub struct DocumentSettings {
    /// Largest document, in bytes.
    pub max_size: u64,
    pub allowed_types: BTreeSet<MediaType>,
    /// How long an unfinished upload is kept after its last progress.
    pub upload_expiry: Duration,
    /// `None`: no scanner, documents are taken as clean (`scanner: none`).
    pub clamd: Option<Clamd>,
    /// Scan attempts before a document is marked `failed`.
    pub scan_attempts: u32,
    /// The longest one upload request may take.
    pub request_deadline: Duration,
    /// Upload requests staging bytes at once on this node.
    pub concurrency: usize,
    /// Unfinished uploads an organisation may have open.
    pub open_uploads_quota: u32,
    /// Bytes an organisation may store (documents and reserved for unfinished uploads).
    pub storage_quota: u64,
}

/// Document handling shared by the handlers and the background scanner.
pub struct Documents {
    pub blobs: Arc<dyn BlobStore>,
    pub settings: DocumentSettings,
    /// Wakes the scanner when a document arrives (it also looks every few seconds, and after a restart).
    pub scan_requested: Notify,
    /// Uploads a request is writing to on this node: a second request for one of them is refused, so two
    /// writers never interleave bytes in one file.
    busy: Mutex<HashSet<Uuid>>,
    /// One permit per upload request staging bytes (`DocumentSettings::concurrency`).
    staging: Arc<tokio::sync::Semaphore>,
}

impl Documents {
    pub fn new(blobs: Arc<dyn BlobStore>, settings: DocumentSettings) -> Self {
        let staging = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
        Self { blobs, settings, scan_requested: Notify::new(), busy: Mutex::new(HashSet::new()), staging }
    }

    /// A place to stage an upload request's bytes, or the 503 to answer when every place is taken.
    pub fn staging_place(&self) -> Result<tokio::sync::OwnedSemaphorePermit, crate::http::Problem> {
        self.staging.clone().try_acquire_owned().map_err(|_| {
            crate::http::Problem::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "uploads_busy",
                "Too many uploads in progress",
                "Too many uploads are in progress on this server; try again shortly.",
            )
            .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(5))
        })
    }

    /// 429 or 413 when the organisation cannot take another upload of `length` bytes (`open` says whether
    /// it would stay open as a tus upload, or is sent in one request).
    pub async fn check_quotas(
        &self,
        store: &dyn provider_api_store::Store,
        organisation_id: Uuid,
        length: u64,
        open: bool,
        now: time::OffsetDateTime,
    ) -> Result<(), crate::http::Problem> {
        use axum::http::StatusCode;
        let usage = store.storage_use(organisation_id, now).await?;
        if open && usage.open_uploads >= i64::from(self.settings.open_uploads_quota) {
            return Err(crate::http::Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_open_uploads",
                "Too many unfinished uploads",
                format!(
                    "This organisation has {} unfinished uploads, the most it may have open at once. Finish or \
                     cancel one (DELETE it) first; unfinished uploads also lapse after a day without progress.",
                    usage.open_uploads
                ),
            ));
        }
        let used = (usage.stored_bytes + usage.reserved_bytes).max(0) as u64;
        if used.saturating_add(length) > self.settings.storage_quota {
            return Err(crate::http::Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "storage_quota_exceeded",
                "The organisation's storage is full",
                format!(
                    "This organisation may store {} bytes and uses {used} (documents and unfinished uploads); \
                     this document of {length} bytes does not fit. Delete documents it no longer needs, or ask \
                     the Care Quality Commission for more space.",
                    self.settings.storage_quota
                ),
            ));
        }
        Ok(())
    }

    /// Marks the upload busy until the guard drops; `None` when another request holds it.
    pub fn claim(self: &Arc<Self>, upload: Uuid) -> Option<BusyGuard> {
        let mut busy = self.busy.lock().expect("the busy set is never poisoned");
        busy.insert(upload).then(|| BusyGuard { documents: self.clone(), upload })
    }
}

pub struct BusyGuard {
    documents: Arc<Documents>,
    upload: Uuid,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.documents.busy.lock() {
            busy.remove(&self.upload);
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(tus::router())
}

/// The answer when an attached document was deleted between being checked and being frozen with what is sent:
/// nothing was sent.
pub fn deleted_while_sending() -> crate::http::Problem {
    crate::http::Problem::not_found(
        "An attached document was deleted while this was being sent, so nothing was sent. Attach it again (or \
         leave it out) and send again.",
    )
}

/// Every document named is one the caller can see in its organisation: 404 otherwise, as for any object of
/// another organisation (or, for access limited to some locations, of a location elsewhere). Shared by
/// everything that attaches documents (notifications, applications, answers to the regulator).
pub async fn require_visible(
    state: &AppState,
    access: &crate::auth::principal::Access,
    ids: &[uuid::Uuid],
) -> Result<(), crate::http::Problem> {
    for &id in ids {
        let document = state.store.document(id).await?;
        let visible =
            document.is_some_and(|d| d.organisation_id == access.organisation_id && access.reaches(d.location_id));
        if !visible {
            return Err(crate::http::Problem::not_found(format!(
                "There is no document {id} that you can see in this organisation."
            )));
        }
    }
    Ok(())
}
