//! The audit trail's storage: the same chain on both engines, however many append at once.

use super::fresh_store;

#[tokio::test]
async fn concurrent_audit_appends_make_one_unbroken_chain() {
    let (store, _db) = fresh_store().await;
    let mut writers = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..10 {
                let entries: Vec<_> = (0..3)
                    .map(|k| {
                        provider_api_core::audit::NewEntry::at(
                            time::OffsetDateTime::now_utc(),
                            "test",
                            "POST",
                            &format!("/v1/w/{writer}/{i}/{k}"),
                        )
                    })
                    .collect();
                store.append_audit(&entries).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let verdict = provider_api_http::audit::verify(store.as_ref()).await.unwrap();
    assert_eq!(verdict, provider_api_core::audit::Verdict { entries: 240, first_broken: None });
    let filtered = provider_api_core::audit::Filter { object_prefix: Some("/v1/w/3/".into()), ..Default::default() };
    assert_eq!(store.audit_entries(&filtered, 0, 500).await.unwrap().len(), 30, "a prefix filter, no wildcards");
}
