//! The local-disk blob store: `<root>/uploads/<upload id>` while staged (appended to in place), renamed to
//! `<root>/documents/<document id>` when complete, so finishing an upload copies nothing.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use super::{BlobStore, ByteStream};

/// Writes reach the disk in pieces this big (a request body arrives in much smaller frames).
const WRITE_BUFFER: usize = 1024 * 1024;
const READ_CHUNK: usize = 64 * 1024;

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

    async fn stage(&self, upload: Uuid, offset: u64, mut body: ByteStream) -> io::Result<u64> {
        let mut file =
            OpenOptions::new().create(true).write(true).truncate(false).open(self.upload_path(upload)).await?;
        let kept = file.metadata().await?.len();
        if kept < offset {
            return Err(io::Error::other(format!(
                "upload {upload} holds {kept} bytes on disk, fewer than its offset {offset}"
            )));
        }
        // Bytes past the offset are from a write that was refused (a bad checksum, say): they go.
        file.set_len(offset).await?;
        file.seek(SeekFrom::Start(offset)).await?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        writer.flush().await?;
        // The client is told these bytes are kept, so they must survive a crash.
        writer.get_mut().sync_data().await?;
        Ok(written)
    }

    async fn staged_head(&self, upload: Uuid, len: usize) -> io::Result<Vec<u8>> {
        let file = File::open(self.upload_path(upload)).await?;
        let mut head = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut head).await?;
        Ok(head)
    }

    async fn promote(&self, upload: Uuid, length: u64, document: Uuid) -> io::Result<()> {
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
