//! Document rows on every engine: what an organisation's quotas count, and freezing that cannot miss a
//! document deleted a moment before.

use provider_api_core::accounts::Organisation;
use provider_api_core::documents::{Document, ScanStatus, Upload};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::fresh_store;

async fn organisation(store: &dyn provider_api_store::Store, now: OffsetDateTime) -> Uuid {
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: "Quota Care Ltd".into(),
        provider_id: None,
        four_eyes: false,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_organisation(&organisation).await.unwrap();
    organisation.id
}

fn document(organisation_id: Uuid, size: i64, now: OffsetDateTime) -> Document {
    Document {
        id: Uuid::now_v7(),
        organisation_id,
        location_id: None,
        filename: "a.pdf".into(),
        media_type: "application/pdf".into(),
        size,
        sha256: "0".repeat(64),
        uploaded_by_user: None,
        uploaded_by_client: Uuid::new_v4(),
        created_at: now,
        scan_status: ScanStatus::Clean,
        scanner: Some("none".into()),
        scan_detail: None,
        scanned_at: Some(now),
        scan_attempts: 0,
        scan_next_at: now,
        frozen_at: None,
    }
}

fn upload(organisation_id: Uuid, length: i64, now: OffsetDateTime, expires_at: OffsetDateTime) -> Upload {
    Upload {
        id: Uuid::now_v7(),
        organisation_id,
        location_id: None,
        filename: "b.pdf".into(),
        media_type: "application/pdf".into(),
        length,
        received: 0,
        hash_state: Vec::new(),
        created_by_user: None,
        created_by_client: Uuid::new_v4(),
        created_at: now,
        expires_at,
        document_id: None,
        staged_parts: String::new(),
    }
}

#[tokio::test]
async fn storage_use_counts_documents_and_the_open_uploads_that_can_still_finish() {
    let (store, _database) = fresh_store().await;
    let now = OffsetDateTime::now_utc();
    let (mine, theirs) = (organisation(store.as_ref(), now).await, organisation(store.as_ref(), now).await);
    assert_eq!(store.storage_use(mine, now).await.unwrap(), Default::default());

    store.create_document(&document(mine, 5_000_000_000, now)).await.unwrap();
    store.create_document(&document(mine, 7, now)).await.unwrap();
    store.create_document(&document(theirs, 100, now)).await.unwrap();
    store.create_upload(&upload(mine, 300, now, now + Duration::hours(1))).await.unwrap();
    store.create_upload(&upload(mine, 9_999, now, now - Duration::seconds(1))).await.unwrap(); // lapsed
    let finished = upload(mine, 40, now, now + Duration::hours(1));
    store.create_upload(&finished).await.unwrap();
    assert!(store.complete_upload(finished.id, 0, &document(mine, 40, now)).await.unwrap());

    let used = store.storage_use(mine, now).await.unwrap();
    assert_eq!(used.stored_bytes, 5_000_000_047, "sums past 2^32 on both engines");
    assert_eq!((used.open_uploads, used.reserved_bytes), (1, 300), "a lapsed or finished upload is not open");
}

#[tokio::test]
async fn freezing_reports_a_document_deleted_before_it_and_freezes_none_of_the_set() {
    let (store, _database) = fresh_store().await;
    let now = OffsetDateTime::now_utc();
    let organisation_id = organisation(store.as_ref(), now).await;
    let (kept, deleted) = (document(organisation_id, 1, now), document(organisation_id, 2, now));
    store.create_document(&kept).await.unwrap();
    store.create_document(&deleted).await.unwrap();
    store.delete_document(deleted.id).await.unwrap();

    let frozen = store.freeze_documents(&[kept.id, deleted.id], now).await.unwrap();
    assert!(!frozen, "the set cannot be frozen whole");
    assert_eq!(store.document(kept.id).await.unwrap().unwrap().frozen_at, None, "nothing is frozen");

    assert!(store.freeze_documents(&[kept.id], now).await.unwrap());
    let later = now + Duration::hours(1);
    assert!(store.freeze_documents(&[kept.id], later).await.unwrap(), "freezing again is fine");
    let frozen_at = store.document(kept.id).await.unwrap().unwrap().frozen_at.unwrap();
    assert_eq!(frozen_at.unix_timestamp(), now.unix_timestamp(), "and keeps the first time");
}
