//! The portal's session store (`portal/src/sessions.rs`) on each engine, beside the API's own tables: its
//! migrations keep to their own table, and a session reads back, is replaced, expires and is deleted.

use std::collections::HashMap;

use provider_api_portal::sessions::{SessionDatabase, SqlSessionStore, Tokens};
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

fn tokens(refresh_token: &str) -> Tokens {
    Tokens {
        access_token: format!("access for {refresh_token}"),
        access_expires_at: 1,
        refresh_token: refresh_token.into(),
    }
}

#[tokio::test]
async fn a_sign_ins_tokens_live_apart_from_the_session_and_go_with_it() {
    let (_api_store, database) = fresh_store().await;
    let store = SqlSessionStore::new(SessionDatabase::open(database.url()).await.unwrap());
    let sign_ins = store.database();

    let kept = sign_ins.insert_sign_in(&tokens("first")).await.unwrap();
    assert_eq!(sign_ins.sign_in(&kept).await.unwrap().unwrap().refresh_token, "first");
    assert!(sign_ins.renew_sign_in(&kept, &tokens("second")).await.unwrap());
    let renewed = sign_ins.sign_in(&kept).await.unwrap().unwrap();
    assert_eq!((renewed.refresh_token.as_str(), renewed.access_token.as_str()), ("second", "access for second"));

    // A session saved with what it loaded before the renewal cannot put the spent token back: it has none.
    let mut session = record(json!({"person": {"name": "Sam", "sign_in": kept}}), Duration::minutes(30));
    store.create(&mut session).await.unwrap();
    store.save(&session).await.unwrap();
    assert_eq!(sign_ins.sign_in(&kept).await.unwrap().unwrap().refresh_token, "second");

    let abandoned = sign_ins.insert_sign_in(&tokens("abandoned")).await.unwrap();
    let expiring = sign_ins.insert_sign_in(&tokens("expiring")).await.unwrap();
    let mut gone = record(json!({"person": {"name": "Alex", "sign_in": expiring}}), Duration::minutes(-1));
    store.create(&mut gone).await.unwrap();
    let just_made = sign_ins.insert_sign_in(&tokens("just made")).await.unwrap();
    // Tokens are kept a while for the session their sign-in is about to save; these were made long ago.
    let backdate = "UPDATE portal_sign_ins SET created_at = 0 WHERE id <> $1";
    match sign_ins {
        SessionDatabase::Sqlite(pool) => drop(sqlx::query(backdate).bind(&just_made).execute(pool).await.unwrap()),
        SessionDatabase::Postgres(pool) => drop(sqlx::query(backdate).bind(&just_made).execute(pool).await.unwrap()),
    }
    store.delete_expired().await.unwrap();
    assert!(sign_ins.sign_in(&kept).await.unwrap().is_some(), "a live session's tokens stay");
    assert!(sign_ins.sign_in(&just_made).await.unwrap().is_some(), "a sign-in finishing now keeps its tokens");
    assert!(sign_ins.sign_in(&expiring).await.unwrap().is_none(), "an expired session's tokens go");
    assert!(sign_ins.sign_in(&abandoned).await.unwrap().is_none(), "tokens no session ever named go");

    sign_ins.end_sign_in(&kept).await.unwrap();
    assert!(sign_ins.sign_in(&kept).await.unwrap().is_none());
    assert!(!sign_ins.renew_sign_in(&kept, &tokens("third")).await.unwrap(), "an ended sign-in is not renewed");
}
