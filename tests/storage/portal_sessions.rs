//! The portal's session store (`portal/src/sessions.rs`) on each engine, beside the API's own tables: its
//! migrations keep to their own table, and a session reads back, is replaced, expires and is deleted.

use std::collections::HashMap;

use provider_api_portal::sessions::{SessionDatabase, SqlSessionStore};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

use super::fresh_store;

fn record(data: serde_json::Value, expires_in: Duration) -> Record {
    let data: HashMap<String, serde_json::Value> = serde_json::from_value(data).unwrap();
    // Whole seconds: that is what the table keeps.
    let expiry_date =
        OffsetDateTime::from_unix_timestamp((OffsetDateTime::now_utc() + expires_in).unix_timestamp()).unwrap();
    Record { id: Id::default(), data, expiry_date }
}

#[tokio::test]
async fn sessions_read_back_change_expire_and_go() {
    // The API's database, migrated by the API first: the portal's migrations must live beside its.
    let (api_store, database) = fresh_store().await;
    let store = SqlSessionStore::new(SessionDatabase::open(database.url()).await.expect("the session table migrates"));
    SessionDatabase::open(database.url()).await.expect("migrating again is a no-op");
    api_store.migrate().await.expect("the API's migrations are not upset by the portal's");

    let mut live = record(json!({"person": {"name": "Sam"}, "csrf_token": "t"}), Duration::minutes(30));
    let first_id = live.id;
    store.create(&mut live).await.unwrap();
    assert_eq!(store.load(&live.id).await.unwrap().as_ref(), Some(&live));
    assert_eq!(live.id, first_id);

    live.data.insert("organisation".into(), json!("x"));
    store.save(&live).await.unwrap();
    assert_eq!(store.load(&live.id).await.unwrap().unwrap().data["organisation"], "x");

    let mut expired = record(json!({"person": {"name": "Alex"}}), Duration::minutes(-1));
    store.create(&mut expired).await.unwrap();
    assert_eq!(store.load(&expired.id).await.unwrap(), None, "an expired session is never read");
    assert_eq!(store.count().await.unwrap(), 2);
    store.delete_expired().await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1, "the sweep removes only the expired one");

    // An id already taken is never overwritten by a new session: another is drawn.
    let mut colliding = record(json!({"person": {"name": "Mallory"}}), Duration::minutes(30));
    colliding.id = live.id;
    store.create(&mut colliding).await.unwrap();
    assert_ne!(colliding.id, live.id);
    assert_eq!(store.load(&live.id).await.unwrap().unwrap().data["person"]["name"], "Sam");

    store.delete(&live.id).await.unwrap();
    assert_eq!(store.load(&live.id).await.unwrap(), None);
}
