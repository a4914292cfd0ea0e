//! Uploading documents: tus 1.0 resumable uploads from a path or any `AsyncRead`, in fixed-size chunks, that
//! survive dropped connections (the upload continues from the offset the server reports), report progress and
//! verify the SHA-256 the server computed against the one computed here. Also the single-request upload.
//!
//! These operations take a file's bytes as their body, which the generated client does not do (see
//! `sdk/codegen`), so they are written here over the same reqwest client, token and base URL.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

use crate::{Client, types};

/// The default chunk: one `PATCH` each. Large enough to keep requests few, small enough that a dropped
/// connection costs little and that one chunk in memory is no burden.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;
const TUS_VERSION: &str = "1.0.0";

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The server refused, with a problem.
    #[error("the server answered {status}: {problem}")]
    Refused { status: u16, problem: serde_json::Value },
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server's SHA-256 {server} differs from ours {local}")]
    ChecksumMismatch { local: String, server: String },
    #[error("gave up after {0} failed attempts: {1}")]
    GaveUp(u32, String),
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("authentication: {0}")]
    Auth(#[from] crate::auth::AuthError),
}

impl UploadError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem's `code`, for a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { problem, .. } => problem["code"].as_str(),
            _ => None,
        }
    }
}

/// What an upload produced.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub document_id: Uuid,
    /// The upload's URL (for `HEAD`, and to resume with [`Uploader::resume_reader`]).
    pub upload_url: String,
    /// The document as the server describes it just after the upload (`scan_status` is usually `pending`).
    pub document: types::DocumentView,
}

type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// A tus upload to one organisation. Build with [`Client::uploader`].
#[derive(Clone)]
pub struct Uploader<'a> {
    client: &'a Client,
    organisation_id: Uuid,
    chunk_size: usize,
    location_id: Option<Uuid>,
    checksums: bool,
    attempts: u32,
    progress: Option<Progress>,
}

impl Client {
    /// Uploads documents to `organisation_id` with tus.
    pub fn uploader(&self, organisation_id: Uuid) -> Uploader<'_> {
        Uploader {
            client: self,
            organisation_id,
            chunk_size: DEFAULT_CHUNK_SIZE,
            location_id: None,
            checksums: true,
            attempts: 8,
            progress: None,
        }
    }
}

impl<'a> Uploader<'a> {
    /// Bytes per `PATCH` (at least 1).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// The location the document concerns.
    pub fn location(mut self, location_id: Uuid) -> Self {
        self.location_id = Some(location_id);
        self
    }

    /// Send `Upload-Checksum` with every chunk (the default), so a chunk damaged on the way is refused and
    /// sent again. Without it, a chunk cut off by a dropped connection keeps the bytes that arrived, and the
    /// upload continues from there rather than from the chunk's start.
    pub fn checksums(mut self, on: bool) -> Self {
        self.checksums = on;
        self
    }

    /// How many failed requests in a row end the upload (default 8).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Called with (bytes the server holds, total) after every chunk.
    pub fn on_progress(mut self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Uploads the file at `path`, named as the file is, of type `media_type` (e.g. `application/pdf`).
    pub async fn upload_path(&self, path: impl AsRef<Path>, media_type: &str) -> Result<Uploaded, UploadError> {
        let path = path.as_ref();
        let file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.upload_reader(file, length, &filename, media_type).await
    }

    /// Uploads `length` bytes read from `reader`. Only one chunk is held in memory at a time.
    pub async fn upload_reader<R: AsyncRead + Unpin + Send>(
        &self,
        reader: R,
        length: u64,
        filename: &str,
        media_type: &str,
    ) -> Result<Uploaded, UploadError> {
        let upload_url = self.create(length, filename, media_type).await?;
        self.resume_reader(&upload_url, reader, 0, length).await
    }

    /// Continues the upload at `upload_url` with `reader`, which yields the file from byte `from` on (0 for a
    /// fresh reader: the bytes the server already holds are skipped). `length` is the whole file's size.
    pub async fn resume_reader<R: AsyncRead + Unpin + Send>(
        &self,
        upload_url: &str,
        mut reader: R,
        from: u64,
        length: u64,
    ) -> Result<Uploaded, UploadError> {
        let mut hasher = Sha256::new();
        let mut position = from;
        let mut offset = self.offset(upload_url).await?.0;
        if from != 0 && from != offset {
            return Err(UploadError::Protocol(format!("the server holds {offset} bytes, not {from}")));
        }
        let mut chunk = vec![0u8; self.chunk_size];
        let mut document_id = None;
        // Bytes already on the server still pass through the hash (so a fresh reader of the whole file can
        // resume an upload another process started).
        while position < offset {
            let want = ((offset - position) as usize).min(chunk.len());
            reader.read_exact(&mut chunk[..want]).await?;
            hasher.update(&chunk[..want]);
            position += want as u64;
        }
        if length == 0 {
            document_id = self.offset(upload_url).await?.1;
        }
        while position < length {
            let want = ((length - position) as usize).min(chunk.len());
            reader.read_exact(&mut chunk[..want]).await?;
            hasher.update(&chunk[..want]);
            let start = position;
            position += want as u64;
            // Send this chunk until the server holds all of it, resuming inside it after a failure. After a
            // failure the server's offset is unknown until asked, and asking can fail the same way (the
            // connection cut again): each failure, of either request, is one attempt.
            let mut failures = 0u32;
            let mut resuming = false;
            while resuming || offset < position {
                let answer = if resuming {
                    self.offset(upload_url).await
                } else {
                    self.patch(upload_url, offset, &chunk[(offset - start) as usize..want]).await
                };
                match answer {
                    Ok((held, _)) if resuming && (held < start || held > position) => {
                        return Err(UploadError::Protocol(format!(
                            "the server holds {held} bytes, outside the chunk {start}..{position} being sent"
                        )));
                    }
                    Ok((held, document)) => {
                        if !resuming {
                            failures = 0;
                        }
                        resuming = false;
                        offset = held;
                        document_id = document.or(document_id);
                    }
                    Err(error) if retryable(&error) && failures + 1 < self.attempts => {
                        failures += 1;
                        resuming = true;
                        tokio::time::sleep(Duration::from_millis(100 * u64::from(failures))).await;
                    }
                    Err(error) if retryable(&error) => {
                        return Err(UploadError::GaveUp(self.attempts, error.to_string()));
                    }
                    Err(error) => return Err(error),
                }
                if let Some(progress) = &self.progress {
                    progress(offset, length);
                }
            }
        }
        let document_id = match document_id {
            Some(id) => id,
            None => self
                .offset(upload_url)
                .await?
                .1
                .ok_or_else(|| UploadError::Protocol("the upload finished without naming its document".into()))?,
        };
        // The upload is complete; reading what it made is a GET, so a dropped connection is simply tried again.
        let mut failures = 0;
        let document = loop {
            match self.client.get_document().organisation_id(self.organisation_id).document_id(document_id).send().await
            {
                Ok(document) => break document.into_inner(),
                Err(progenitor_client::Error::CommunicationError(_)) if failures + 1 < self.attempts => {
                    failures += 1;
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(failures))).await;
                }
                Err(e) => return Err(UploadError::Protocol(format!("reading the new document: {e}"))),
            }
        };
        let local = hex(&hasher.finalize());
        if document.sha256 != local {
            return Err(UploadError::ChecksumMismatch { local, server: document.sha256 });
        }
        Ok(Uploaded { document_id, upload_url: upload_url.to_owned(), document })
    }

    fn uploads_url(&self) -> String {
        use progenitor_client::ClientInfo;
        format!("{}/v1/organisations/{}/uploads", self.client.baseurl(), self.organisation_id)
    }

    /// tus creation: returns the upload's absolute URL.
    pub async fn create(&self, length: u64, filename: &str, media_type: &str) -> Result<String, UploadError> {
        let mut metadata = format!("filename {},filetype {}", STANDARD.encode(filename), STANDARD.encode(media_type));
        if let Some(location) = self.location_id {
            metadata.push_str(&format!(",location_id {}", STANDARD.encode(location.to_string())));
        }
        let response = self
            .send(|http| {
                http.post(self.uploads_url())
                    .header("tus-resumable", TUS_VERSION)
                    .header("upload-length", length)
                    .header("upload-metadata", metadata.clone())
            })
            .await?;
        let response = refused(response).await?;
        let location = header(response.headers(), "location")
            .ok_or_else(|| UploadError::Protocol("no Location after creating the upload".into()))?;
        use progenitor_client::ClientInfo;
        Ok(if location.starts_with('/') { format!("{}{location}", self.client.baseurl()) } else { location })
    }

    /// tus `HEAD`: the bytes the server holds, and the document once complete.
    pub async fn offset(&self, upload_url: &str) -> Result<(u64, Option<Uuid>), UploadError> {
        let response = self.send(|http| http.head(upload_url).header("tus-resumable", TUS_VERSION)).await?;
        let response = refused(response).await?;
        Ok((offset_of(response.headers())?, document_of(response.headers())))
    }

    /// tus termination.
    pub async fn terminate(&self, upload_url: &str) -> Result<(), UploadError> {
        let response = self.send(|http| http.delete(upload_url).header("tus-resumable", TUS_VERSION)).await?;
        refused(response).await.map(drop)
    }

    async fn patch(&self, upload_url: &str, offset: u64, bytes: &[u8]) -> Result<(u64, Option<Uuid>), UploadError> {
        let checksum = self.checksums.then(|| format!("sha256 {}", STANDARD.encode(Sha256::digest(bytes))));
        let body = bytes::Bytes::copy_from_slice(bytes);
        let response = self
            .send(|http| {
                let mut request = http
                    .patch(upload_url)
                    .header("tus-resumable", TUS_VERSION)
                    .header("upload-offset", offset)
                    .header(CONTENT_TYPE, "application/offset+octet-stream")
                    .body(body.clone());
                if let Some(checksum) = &checksum {
                    request = request.header("upload-checksum", checksum);
                }
                request
            })
            .await?;
        let response = refused(response).await?;
        Ok((offset_of(response.headers())?, document_of(response.headers())))
    }

    /// Sends with the client's token; after a 401, once more with a new one.
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UploadError> {
        send(self.client, build).await
    }
}

async fn send(
    client: &Client,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, UploadError> {
    use progenitor_client::ClientInfo;
    let mut request = build(client.client()).build()?;
    crate::auth::attach_token(client.inner(), &mut request).await?;
    let response = client.client().execute(request).await?;
    if response.status() != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    client.inner().invalidate().await;
    let mut request = build(client.client()).build()?;
    crate::auth::attach_token(client.inner(), &mut request).await?;
    Ok(client.client().execute(request).await?)
}

/// Uploads a small file in one request (no resumption): `body` is the file, `media_type` its type.
pub async fn upload_document(
    client: &Client,
    organisation_id: Uuid,
    filename: &str,
    media_type: &str,
    body: impl Into<reqwest::Body> + Clone,
) -> Result<types::DocumentView, UploadError> {
    use progenitor_client::ClientInfo;
    let url = format!("{}/v1/organisations/{organisation_id}/documents", client.baseurl());
    let response = send(client, |http| {
        http.post(&url).query(&[("filename", filename)]).header(CONTENT_TYPE, media_type).body(body.clone().into())
    })
    .await?;
    let response = refused(response).await?;
    Ok(response.json().await?)
}

/// Uploads a file in one request from a stream of its bytes (a browser's upload passing through a web
/// application, say), so that nothing holds the whole file. Sent once: a stream cannot be replayed, so unlike the other calls a refused token is not renewed and retried
/// (renew it before calling).
pub async fn upload_document_stream(
    client: &Client,
    organisation_id: Uuid,
    filename: &str,
    media_type: &str,
    body: reqwest::Body,
) -> Result<types::DocumentView, UploadError> {
    use progenitor_client::ClientInfo;
    let url = format!("{}/v1/organisations/{organisation_id}/documents", client.baseurl());
    let request = client.client().post(&url).query(&[("filename", filename)]).header(CONTENT_TYPE, media_type);
    let mut request = request.body(body).build()?;
    crate::auth::attach_token(client.inner(), &mut request).await?;
    let response = refused(client.client().execute(request).await?).await?;
    Ok(response.json().await?)
}

/// Worth another try: the connection failed, the server was briefly unavailable, or the offset moved (a
/// request the server was still finishing when we gave up on it).
fn retryable(error: &UploadError) -> bool {
    match error {
        UploadError::Http(_) => true,
        UploadError::Refused { status, .. } => matches!(status, 409 | 423 | 429 | 460 | 500 | 502 | 503 | 504),
        _ => false,
    }
}

async fn refused(response: reqwest::Response) -> Result<reqwest::Response, UploadError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    let problem = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Err(UploadError::Refused { status: status.as_u16(), problem })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn offset_of(headers: &HeaderMap) -> Result<u64, UploadError> {
    header(headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| UploadError::Protocol("no Upload-Offset in the answer".into()))
}

fn document_of(headers: &HeaderMap) -> Option<Uuid> {
    header(headers, "document-id").and_then(|v| v.parse().ok())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
