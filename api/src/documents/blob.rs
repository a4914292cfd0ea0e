//! Where document bytes live, behind one trait: a folder on local disk (the embedded default) or an
//! S3-compatible bucket (through the `object_store` crate) for deployments with several API nodes.
//!
//! Objects are named by id only (`uploads/<upload id>…` while staged, `documents/<document id>` once
//! complete); a client's filename never reaches a path. Both implementations pass the same conformance suite
//! (`tests/storage/blobs.rs`).

use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use uuid::Uuid;

mod fs;
mod s3;

pub use fs::FsBlobStore;
pub use s3::{S3BlobStore, S3Settings};

/// Bytes in flight, never a whole file in memory.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// `fs` or `s3`, for logs and the benchmark.
    fn kind(&self) -> &'static str;

    /// Stores every byte of `body` into the staged upload, starting at `offset`, which is how many bytes of it
    /// are already kept, as the part named `part` ([`part_name`]). Returns how many bytes it stored. When
    /// `body` fails, the write fails and the upload still holds `offset` bytes.
    ///
    /// The S3 store keeps each part as an object of its own, so a write that the database then refuses (another
    /// node's write at the same offset was accepted first) replaces nothing; the folder store appends in place
    /// (anything staged beyond `offset` by an earlier, refused write is replaced), which is safe only on one
    /// node, where a request holds the upload (`Documents::claim`).
    async fn stage(&self, upload: Uuid, offset: u64, part: &str, body: ByteStream) -> io::Result<u64>;

    /// Up to `len` bytes from the start of a staged upload, made of `parts` (for the type check).
    async fn staged_head(&self, upload: Uuid, parts: &[&str], len: usize) -> io::Result<Vec<u8>>;

    /// Makes the first `length` bytes of `parts` (the accepted parts of `upload`, in order) the content of
    /// `document`. The staged upload stays until [`discard`](Self::discard)ed, once the document is recorded.
    async fn promote(&self, upload: Uuid, parts: &[&str], length: u64, document: Uuid) -> io::Result<()>;

    /// Forgets a staged upload (terminated, expired or refused). Not an error when there is none.
    async fn discard(&self, upload: Uuid) -> io::Result<()>;

    /// The document's bytes, or the `range` of them.
    async fn read(&self, document: Uuid, range: Option<Range<u64>>) -> io::Result<ByteStream>;

    /// Deletes the document's bytes. Not an error when there are none.
    async fn delete(&self, document: Uuid) -> io::Result<()>;
}

/// A new name for the part a write at `offset` makes: the offset, then 96 random bits unique to the attempt.
/// Short, since S3-compatible servers that keep objects as files spend a file name on the whole key.
pub fn part_name(offset: u64) -> String {
    use base64::Engine;
    let attempt = crate::auth::secret::random_bytes::<12>();
    format!("{offset}-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(attempt))
}

/// The offset a part's name starts with.
pub fn part_offset(name: &str) -> Option<u64> {
    name.split('-').next()?.parse().ok()
}

/// Which store the configuration chose.
#[derive(Debug, Clone)]
pub enum BlobSettings {
    Fs(PathBuf),
    S3(S3Settings),
}

pub fn open(settings: &BlobSettings) -> io::Result<Arc<dyn BlobStore>> {
    Ok(match settings {
        BlobSettings::Fs(root) => Arc::new(FsBlobStore::new(root.clone())?),
        BlobSettings::S3(settings) => Arc::new(S3BlobStore::new(settings)?),
    })
}

/// Reads a whole stream (tests and small reads only).
pub async fn collect(stream: ByteStream) -> io::Result<Vec<u8>> {
    stream
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
}

/// A stream of one piece of bytes (tests and small writes).
pub fn once(bytes: impl Into<Bytes>) -> ByteStream {
    let bytes = bytes.into();
    futures_util::stream::once(async move { Ok(bytes) }).boxed()
}
