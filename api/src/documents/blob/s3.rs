//! The S3-compatible blob store, through the `object_store` crate. S3 objects cannot be appended to, so each
//! accepted tus request is its own object, `uploads/<upload id>/<offset, 20 digits>`; completing the upload
//! streams those parts, in order, into `documents/<document id>` with a multipart upload and deletes them.

use std::collections::BTreeMap;
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

    fn part(&self, upload: Uuid, offset: u64) -> Path {
        Path::from(format!("{}uploads/{upload}/{offset:020}", self.prefix))
    }

    fn document(&self, document: Uuid) -> Path {
        Path::from(format!("{}documents/{document}", self.prefix))
    }

    /// The staged parts by offset, with their sizes.
    async fn parts(&self, upload: Uuid) -> io::Result<BTreeMap<u64, u64>> {
        let prefix = self.upload_dir(upload);
        let mut parts = BTreeMap::new();
        let mut listing = self.store.list(Some(&prefix));
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(io_error)?;
            if let Some(offset) = meta.location.filename().and_then(|name| name.parse::<u64>().ok()) {
                parts.insert(offset, meta.size);
            }
        }
        Ok(parts)
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

    async fn stage(&self, upload: Uuid, offset: u64, body: ByteStream) -> io::Result<u64> {
        // A part written at this offset before (by a refused write) is simply replaced.
        self.write(&self.part(upload, offset), body).await
    }

    async fn staged_head(&self, upload: Uuid, len: usize) -> io::Result<Vec<u8>> {
        let parts = self.parts(upload).await?;
        let mut head = Vec::with_capacity(len);
        let mut offset = 0u64;
        while head.len() < len {
            let Some(&size) = parts.get(&offset) else { break };
            if size > 0 {
                let wanted = size.min((len - head.len()) as u64);
                let bytes = self.store.get_range(&self.part(upload, offset), 0..wanted).await.map_err(io_error)?;
                head.extend_from_slice(&bytes);
            }
            offset += size;
            if size == 0 {
                break;
            }
        }
        Ok(head)
    }

    async fn promote(&self, upload: Uuid, length: u64, document: Uuid) -> io::Result<()> {
        let parts = self.parts(upload).await?;
        // The accepted writes form a chain from 0 to `length`: each starts where the one before ended.
        let mut chain = Vec::new();
        let mut offset = 0u64;
        while offset < length {
            let size =
                parts.get(&offset).copied().filter(|size| *size > 0).ok_or_else(|| {
                    io::Error::other(format!("upload {upload} has no staged part at offset {offset}"))
                })?;
            let take = size.min(length - offset);
            chain.push((offset, take));
            offset += take;
        }
        let store = self.store.clone();
        let sources: Vec<(Path, u64)> =
            chain.iter().map(|(offset, take)| (self.part(upload, *offset), *take)).collect();
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
        self.write(&self.document(document), body).await?;
        self.discard(upload).await
    }

    async fn discard(&self, upload: Uuid) -> io::Result<()> {
        for offset in self.parts(upload).await?.into_keys() {
            match self.store.delete(&self.part(upload, offset)).await {
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
