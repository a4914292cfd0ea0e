//! The S3-compatible blob store, through the `object_store` crate. S3 objects cannot be appended to, so each
//! tus request's bytes are an object of their own, `uploads/<upload id>/<part name>` (the offset and
//! an id of the attempt: `blob::part_name`). Two nodes writing at one offset therefore never replace each
//! other's bytes; the database records which parts its accepted writes made (`uploads.staged_parts`, under the
//! same compare-and-set as the offset), and completing the upload streams exactly those, in order, into
//! `documents/<document id>` with a multipart upload. The rest are deleted with the upload.

use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{BlobStore, ByteStream};

/// Multipart part size: S3's minimum is 5 MiB. At most [`PARTS_IN_FLIGHT`] are buffered at once, which bounds
/// the memory one upload uses.
const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket (empty, or ending in `/`).
    pub prefix: String,
    /// `https://…`, or `http://…` for a local test server. Absent: AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

fn io_error(error: object_store::Error) -> io::Error {
    io::Error::from(error)
}

impl S3BlobStore {
    pub fn new(settings: &S3Settings) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            // Path-style requests work with every S3-compatible server; virtual hosts need DNS for each bucket.
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        let store = builder.build().map_err(io_error)?;
        Ok(Self { store: Arc::new(store), prefix: settings.prefix.clone() })
    }

    fn upload_dir(&self, upload: Uuid) -> Path {
        Path::from(format!("{}uploads/{upload}", self.prefix))
    }

    fn part(&self, upload: Uuid, name: &str) -> Path {
        Path::from(format!("{}uploads/{upload}/{name}", self.prefix))
    }

    fn document(&self, document: Uuid) -> Path {
        Path::from(format!("{}documents/{document}", self.prefix))
    }

    /// The named parts with their offsets and sizes, checked to follow on from one another from offset 0.
    async fn chain(&self, upload: Uuid, parts: &[&str]) -> io::Result<Vec<(Path, u64, u64)>> {
        let mut chain = Vec::with_capacity(parts.len());
        let mut expected = 0u64;
        for name in parts {
            let offset = super::part_offset(name).filter(|offset| *offset == expected).ok_or_else(|| {
                io::Error::other(format!("upload {upload}: part {name} does not start at {expected}"))
            })?;
            let path = self.part(upload, name);
            let size = self.store.head(&path).await.map_err(io_error)?.size;
            chain.push((path, offset, size));
            expected = offset + size;
        }
        Ok(chain)
    }

    /// Writes a stream to one object through a multipart upload, aborting it if the stream fails.
    async fn write(&self, path: &Path, mut body: ByteStream) -> io::Result<u64> {
        let upload = self.store.put_multipart(path).await.map_err(io_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error);
                }
            };
            if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(io_error(error));
            }
            written += chunk.len() as u64;
            writer.put(chunk);
        }
        if written == 0 {
            // A multipart upload needs at least one part: an empty object is one plain write.
            let _ = writer.abort().await;
            self.store.put(path, PutPayload::from(Bytes::new())).await.map_err(io_error)?;
        } else {
            writer.finish().await.map_err(io_error)?;
        }
        Ok(written)
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn kind(&self) -> &'static str {
        "s3"
    }

    async fn stage(&self, upload: Uuid, _offset: u64, part: &str, body: ByteStream) -> io::Result<u64> {
        self.write(&self.part(upload, part), body).await
    }

    async fn staged_head(&self, upload: Uuid, parts: &[&str], len: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(len);
        for (path, _, size) in self.chain(upload, parts).await? {
            if head.len() >= len {
                break;
            }
            let wanted = size.min((len - head.len()) as u64);
            if wanted > 0 {
                head.extend_from_slice(&self.store.get_range(&path, 0..wanted).await.map_err(io_error)?);
            }
        }
        Ok(head)
    }

    async fn promote(&self, upload: Uuid, parts: &[&str], length: u64, document: Uuid) -> io::Result<()> {
        let mut sources = Vec::new();
        let mut covered = 0u64;
        for (path, offset, size) in self.chain(upload, parts).await? {
            let take = size.min(length.saturating_sub(offset));
            if take > 0 {
                sources.push((path, take));
                covered = offset + take;
            }
        }
        if covered < length {
            return Err(io::Error::other(format!("upload {upload}: its parts hold {covered} of {length} bytes")));
        }
        let store = self.store.clone();
        let body = futures_util::stream::iter(sources)
            .then(move |(path, take)| {
                let store = store.clone();
                async move {
                    let options = GetOptions { range: Some(GetRange::Bounded(0..take)), ..Default::default() };
                    let result = store.get_opts(&path, options).await.map_err(io_error)?;
                    Ok::<_, io::Error>(result.into_stream().map_err(io_error))
                }
            })
            .try_flatten()
            .boxed();
        self.write(&self.document(document), body).await.map(drop)
    }

    async fn discard(&self, upload: Uuid) -> io::Result<()> {
        // Every part, accepted or not: the upload is finished or abandoned.
        let prefix = self.upload_dir(upload);
        let paths: Vec<Path> =
            self.store.list(Some(&prefix)).map_ok(|meta| meta.location).try_collect().await.map_err(io_error)?;
        for path in paths {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(io_error(error)),
            }
        }
        Ok(())
    }

    async fn read(&self, document: Uuid, range: Option<Range<u64>>) -> io::Result<ByteStream> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
        let result = self.store.get_opts(&self.document(document), options).await.map_err(io_error)?;
        Ok(result.into_stream().map_err(io_error).boxed())
    }

    async fn delete(&self, document: Uuid) -> io::Result<()> {
        match self.store.delete(&self.document(document)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(io_error(error)),
        }
    }
}
