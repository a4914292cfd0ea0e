//! Documents as the regulator keeps them: the metadata of a stored file, its malware-scan state, and a tus
//! upload in progress. The bytes, the scanner and the upload protocol are the API's (`api/src/documents`).

use time::OffsetDateTime;
use uuid::Uuid;

pub mod media;

pub use media::{MediaType, sanitise_filename};

/// Where a document stands with the malware scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    /// Not scanned yet; the content cannot be downloaded.
    Pending,
    /// Scanned and found clean (or no scanner is configured: see `scanner`).
    Clean,
    /// The scanner found malware; the content is never served.
    Infected,
    /// The scanner could not give an answer after several attempts; the content is not served.
    Failed,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Clean => "clean",
            Self::Infected => "infected",
            Self::Failed => "failed",
        }
    }
}

named_by_serde!(ScanStatus, "scan status");

/// A stored document: the metadata row; its bytes are the blob named the API's `blob::document_key` of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Document {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Option<Uuid>,
    /// Sanitised: no path, no control characters, no reserved names. Metadata only, never a storage name.
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    /// Lower-case hex SHA-256 of the content, computed as the bytes arrived.
    pub sha256: String,
    pub uploaded_by_user: Option<Uuid>,
    /// The OAuth client the upload came through (an API client, or an integrator acting for a person).
    pub uploaded_by_client: Uuid,
    pub created_at: OffsetDateTime,
    pub scan_status: ScanStatus,
    /// `clamav` with its signature name for a finding, or `none` when no scanner is configured.
    pub scanner: Option<String>,
    pub scan_detail: Option<String>,
    pub scanned_at: Option<OffsetDateTime>,
    pub scan_attempts: i64,
    pub scan_next_at: OffsetDateTime,
    /// Set when something that attaches the document was submitted; a frozen document cannot be deleted.
    pub frozen_at: Option<OffsetDateTime>,
}

impl Document {
    pub fn status(&self) -> ScanStatus {
        self.scan_status
    }
}

/// A tus upload in progress (or just finished: `document_id` is then set, so a client that lost the last
/// response can still learn which document it made).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Upload {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Option<Uuid>,
    pub filename: String,
    pub media_type: String,
    /// The total size the client declared (`Upload-Length`).
    pub length: i64,
    /// Bytes received and stored so far (`Upload-Offset`).
    pub received: i64,
    /// The SHA-256 state after `received` bytes (the API's `hashing::Hasher::save`).
    pub hash_state: Vec<u8>,
    pub created_by_user: Option<Uuid>,
    pub created_by_client: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub document_id: Option<Uuid>,
    /// The names of the staged parts its accepted writes made, in order, space-separated (see
    /// [`Upload::parts`]).
    pub staged_parts: String,
}

impl Upload {
    /// The staged parts the accepted writes made, in order: the blob store's names for them.
    pub fn parts(&self) -> Vec<&str> {
        self.staged_parts.split_whitespace().collect()
    }

    /// The parts, with `part` accepted after them.
    pub fn parts_with(&self, part: &str) -> String {
        if self.staged_parts.is_empty() { part.to_owned() } else { format!("{} {part}", self.staged_parts) }
    }
}
