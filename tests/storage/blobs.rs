//! The blob-store conformance suite: the same expectations of the filesystem store and the S3 store. The S3
//! half runs against a real `s3s-fs` when `TEST_S3S_FS` names it (CI sets it, and a missing binary fails).

use std::sync::Arc;

use provider_api_http::documents::blob::{self, BlobStore, FsBlobStore, S3BlobStore};
use provider_api_tests::services::S3Server;
use uuid::Uuid;

/// Runs `check` against a fresh filesystem store, and a fresh S3 prefix when the S3 suite is requested.
async fn each_store<F, Fut>(check: F)
where
    F: Fn(Arc<dyn BlobStore>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    check(Arc::new(FsBlobStore::new(dir.path().to_owned()).unwrap())).await;
    if S3Server::requested() {
        let server = S3Server::start();
        let store = S3BlobStore::new(&server.settings(&format!("{}/", Uuid::new_v4()))).unwrap();
        check(Arc::new(store)).await;
    }
}

#[tokio::test]
async fn staged_writes_append_and_promotion_makes_the_document() {
    each_store(|store| async move {
        let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(store.stage(upload, 0, blob::once(&b"hello "[..])).await.unwrap(), 6);
        assert_eq!(store.stage(upload, 6, blob::once(&b"world"[..])).await.unwrap(), 5);
        assert_eq!(store.staged_head(upload, 4).await.unwrap(), b"hell", "{}", store.kind());
        assert_eq!(store.staged_head(upload, 100).await.unwrap(), b"hello world", "{}", store.kind());
        store.promote(upload, 11, document).await.unwrap();
        assert_eq!(blob::collect(store.read(document, None).await.unwrap()).await.unwrap(), b"hello world");
        assert_eq!(blob::collect(store.read(document, Some(6..11)).await.unwrap()).await.unwrap(), b"world");
        store.delete(document).await.unwrap();
        assert!(store.read(document, None).await.is_err(), "{}: deleted", store.kind());
        store.delete(document).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_refused_write_is_replaced_by_the_next_write_at_the_same_offset() {
    each_store(|store| async move {
        let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
        store.stage(upload, 0, blob::once(&b"abc"[..])).await.unwrap();
        // A write the caller refused afterwards (a bad checksum): the offset stays at 3.
        store.stage(upload, 3, blob::once(&b"XXXXXXXX"[..])).await.unwrap();
        store.stage(upload, 3, blob::once(&b"def"[..])).await.unwrap();
        store.promote(upload, 6, document).await.unwrap();
        assert_eq!(
            blob::collect(store.read(document, None).await.unwrap()).await.unwrap(),
            b"abcdef",
            "{}",
            store.kind()
        );
    })
    .await;
}

#[tokio::test]
async fn a_failing_body_stores_nothing_past_the_offset_and_discard_forgets_the_upload() {
    each_store(|store| async move {
        let upload = Uuid::new_v4();
        store.stage(upload, 0, blob::once(&b"keep"[..])).await.unwrap();
        let failing = futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"lost")),
            Err(std::io::Error::other("the connection dropped")),
        ]);
        assert!(store.stage(upload, 4, Box::pin(failing)).await.is_err());
        store.stage(upload, 4, blob::once(&b"!"[..])).await.unwrap();
        assert_eq!(store.staged_head(upload, 100).await.unwrap(), b"keep!", "{}", store.kind());
        store.discard(upload).await.unwrap();
        store.discard(upload).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn large_and_empty_objects_round_trip() {
    each_store(|store| async move {
        let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
        // Larger than one S3 multipart part, in many small pieces, as a request body arrives.
        let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let pieces: Vec<std::io::Result<bytes::Bytes>> =
            big.chunks(64 * 1024).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
        let stored = store.stage(upload, 0, Box::pin(futures_util::stream::iter(pieces))).await.unwrap();
        assert_eq!(stored, big.len() as u64);
        store.promote(upload, big.len() as u64, document).await.unwrap();
        assert!(blob::collect(store.read(document, None).await.unwrap()).await.unwrap() == big, "{}", store.kind());

        let (empty_upload, empty) = (Uuid::new_v4(), Uuid::new_v4());
        store.stage(empty_upload, 0, blob::once(bytes::Bytes::new())).await.unwrap();
        store.promote(empty_upload, 0, empty).await.unwrap();
        assert!(blob::collect(store.read(empty, None).await.unwrap()).await.unwrap().is_empty());
    })
    .await;
}
