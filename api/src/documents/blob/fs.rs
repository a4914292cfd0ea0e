//! The local-disk blob store: `<root>/uploads/<upload id>` while staged (appended to in place), renamed to
//! `<root>/documents/<document id>` when complete, so finishing an upload copies nothing.

use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use super::{BlobStore, ByteStream};

/// Pieces of a request body (hyper's frames, tens of KiB) queued for the writing thread: bounds memory.
const PIECES_IN_FLIGHT: usize = 16;
const READ_CHUNK: usize = 64 * 1024;
/// How many bytes of a request body are written between background syncs.
const SYNC_EVERY: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Creates the folders if they are missing.
    pub fn new(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("uploads"))?;
        std::fs::create_dir_all(root.join("documents"))?;
        Ok(Self { root })
    }

    fn upload_path(&self, upload: Uuid) -> PathBuf {
        self.root.join("uploads").join(upload.to_string())
    }

    fn document_path(&self, document: Uuid) -> PathBuf {
        self.root.join("documents").join(document.to_string())
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    fn kind(&self) -> &'static str {
        "fs"
    }

    async fn stage(&self, upload: Uuid, offset: u64, _part: &str, mut body: ByteStream) -> io::Result<u64> {
        // The file is written by one blocking thread, fed the body's pieces through a bounded channel: no
        // copy but the kernel's, and the network and the disk work at the same time.
        let (pieces, mut received) = tokio::sync::mpsc::channel::<Bytes>(PIECES_IN_FLIGHT);
        let path = self.upload_path(upload);
        let writer = tokio::task::spawn_blocking(move || -> io::Result<u64> {
            let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(path)?;
            let kept = file.metadata()?.len();
            if kept < offset {
                return Err(io::Error::other(format!(
                    "the upload holds {kept} bytes on disk, fewer than its offset {offset}"
                )));
            }
            // Bytes past the offset are from a write that was refused (a bad checksum, say): they go.
            file.set_len(offset)?;
            file.seek(SeekFrom::Start(offset))?;
            let (mut written, mut unsynced) = (0u64, 0u64);
            let mut syncing: Option<std::thread::JoinHandle<io::Result<()>>> = None;
            while let Some(piece) = received.blocking_recv() {
                file.write_all(&piece)?;
                written += piece.len() as u64;
                unsynced += piece.len() as u64;
                // Write-behind: without it the final fsync of a large request would start only after its
                // last byte arrived; syncing as we go overlaps the disk with the network.
                if unsynced >= SYNC_EVERY && syncing.as_ref().is_none_or(|s| s.is_finished()) {
                    if let Some(previous) = syncing.take() {
                        previous.join().map_err(|_| io::Error::other("a sync thread panicked"))??;
                    }
                    let handle = file.try_clone()?;
                    syncing = Some(std::thread::spawn(move || handle.sync_data()));
                    unsynced = 0;
                }
            }
            if let Some(previous) = syncing {
                previous.join().map_err(|_| io::Error::other("a sync thread panicked"))??;
            }
            // The client is told these bytes are kept, so they must survive a crash.
            file.sync_data()?;
            Ok(written)
        });
        let mut failure = None;
        while let Some(piece) = body.next().await {
            match piece {
                Ok(piece) => {
                    if pieces.send(piece).await.is_err() {
                        break; // The writer stopped: its error is below.
                    }
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        drop(pieces);
        let written = writer.await.map_err(io::Error::other)?;
        match failure {
            Some(error) => Err(error),
            None => written,
        }
    }

    async fn staged_head(&self, upload: Uuid, _parts: &[&str], len: usize) -> io::Result<Vec<u8>> {
        let file = File::open(self.upload_path(upload)).await?;
        let mut head = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut head).await?;
        Ok(head)
    }

    async fn promote(&self, upload: Uuid, _parts: &[&str], length: u64, document: Uuid) -> io::Result<()> {
        let staged = self.upload_path(upload);
        let file = OpenOptions::new().write(true).open(&staged).await?;
        file.set_len(length).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&staged, self.document_path(document)).await
    }

    async fn discard(&self, upload: Uuid) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_file(self.upload_path(upload)).await)
    }

    async fn read(&self, document: Uuid, range: Option<Range<u64>>) -> io::Result<ByteStream> {
        let mut file = File::open(self.document_path(document)).await?;
        let stream = match range {
            Some(range) => {
                file.seek(SeekFrom::Start(range.start)).await?;
                ReaderStream::with_capacity(file.take(range.end - range.start), READ_CHUNK).boxed()
            }
            None => ReaderStream::with_capacity(file, READ_CHUNK).boxed(),
        };
        Ok(stream)
    }

    async fn delete(&self, document: Uuid) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_file(self.document_path(document)).await)
    }
}
