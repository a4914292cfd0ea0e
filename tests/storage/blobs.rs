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

/// Stages `bytes` at `offset` as a new part, and returns its name.
async fn stage(store: &Arc<dyn BlobStore>, upload: Uuid, offset: u64, bytes: &'static [u8]) -> String {
    let part = blob::part_name(offset);
    assert_eq!(store.stage(upload, offset, &part, blob::once(bytes)).await.unwrap(), bytes.len() as u64);
    part
}

#[tokio::test]
async fn staged_writes_append_and_promotion_makes_the_document() {
    each_store(|store| async move {
        let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
        let first = stage(&store, upload, 0, b"hello ").await;
        let second = stage(&store, upload, 6, b"world").await;
        let parts = [first.as_str(), second.as_str()];
        assert_eq!(store.staged_head(upload, &parts, 4).await.unwrap(), b"hell", "{}", store.kind());
        assert_eq!(store.staged_head(upload, &parts, 100).await.unwrap(), b"hello world", "{}", store.kind());
        store.promote(upload, &parts, 11, document).await.unwrap();
        store.discard(upload).await.unwrap();
        assert_eq!(blob::collect(store.read(document, None).await.unwrap()).await.unwrap(), b"hello world");
        assert_eq!(blob::collect(store.read(document, Some(6..11)).await.unwrap()).await.unwrap(), b"world");
        store.delete(document).await.unwrap();
        assert!(store.read(document, None).await.is_err(), "{}: deleted", store.kind());
        store.delete(document).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_refused_write_is_not_part_of_the_document() {
    each_store(|store| async move {
        let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
        let first = stage(&store, upload, 0, b"abc").await;
        // A write the caller refused afterwards (a bad checksum): the offset stays at 3.
        stage(&store, upload, 3, b"XXXXXXXX").await;
        let accepted = stage(&store, upload, 3, b"def").await;
        store.promote(upload, &[&first, &accepted], 6, document).await.unwrap();
        assert_eq!(
            blob::collect(store.read(document, None).await.unwrap()).await.unwrap(),
            b"abcdef",
            "{}",
            store.kind()
        );
    })
    .await;
}

/// On S3 each attempt is its own object, so a write that lands after the accepted one at the same offset (from
/// another node) replaces nothing. (The folder store appends in place and is for one node, where a request
/// holds the upload: see `BlobStore::stage`.)
#[tokio::test]
async fn on_s3_a_late_write_at_the_same_offset_replaces_nothing() {
    assert!(S3Server::requested(), "the S3 conformance suite needs s3s-fs: run it through `cargo xtask test`");
    let server = S3Server::start();
    let store: Arc<dyn BlobStore> =
        Arc::new(S3BlobStore::new(&server.settings(&format!("{}/", Uuid::new_v4()))).unwrap());
    let (upload, document) = (Uuid::new_v4(), Uuid::new_v4());
    let accepted = stage(&store, upload, 0, b"accepted").await;
    stage(&store, upload, 0, b"too late").await;
    store.promote(upload, &[&accepted], 8, document).await.unwrap();
    assert_eq!(blob::collect(store.read(document, None).await.unwrap()).await.unwrap(), b"accepted");
    store.discard(upload).await.unwrap();
    assert!(store.staged_head(upload, &[&accepted], 8).await.is_err(), "every part went with the upload");
}

#[tokio::test]
async fn a_failing_body_stores_nothing_past_the_offset_and_discard_forgets_the_upload() {
    each_store(|store| async move {
        let upload = Uuid::new_v4();
        let kept = stage(&store, upload, 0, b"keep").await;
        let failing = futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"lost")),
            Err(std::io::Error::other("the connection dropped")),
        ]);
        assert!(store.stage(upload, 4, &blob::part_name(4), Box::pin(failing)).await.is_err());
        let next = stage(&store, upload, 4, b"!").await;
        assert_eq!(store.staged_head(upload, &[&kept, &next], 100).await.unwrap(), b"keep!", "{}", store.kind());
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
        let part = blob::part_name(0);
        let stored = store.stage(upload, 0, &part, Box::pin(futures_util::stream::iter(pieces))).await.unwrap();
        assert_eq!(stored, big.len() as u64);
        store.promote(upload, &[&part], big.len() as u64, document).await.unwrap();
        assert!(blob::collect(store.read(document, None).await.unwrap()).await.unwrap() == big, "{}", store.kind());

        let (empty_upload, empty) = (Uuid::new_v4(), Uuid::new_v4());
        let part = stage(&store, empty_upload, 0, b"").await;
        store.promote(empty_upload, &[&part], 0, empty).await.unwrap();
        assert!(blob::collect(store.read(empty, None).await.unwrap()).await.unwrap().is_empty());
    })
    .await;
}
