//! The storage conformance suite: the same expectations of every engine. It runs on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` names a server (CI runs it both ways).

use std::collections::HashSet;

use provider_api::config::{Config, Engine};
use provider_api::store::{self, Store};
use provider_api_tests::TestDatabase;

async fn fresh_store() -> (std::sync::Arc<dyn Store>, TestDatabase) {
    let database = TestDatabase::fresh().await;
    let config = Config { database_url: database.url().to_owned().into(), ..Config::default() };
    let store = store::open(&config).await.expect("the store opens");
    store.migrate().await.expect("migrations apply");
    (store, database)
}

#[tokio::test]
async fn opens_the_engine_the_url_names() {
    let (store, database) = fresh_store().await;
    let expected = if database.is_postgres() { Engine::Postgres } else { Engine::Sqlite };
    assert_eq!(store.engine(), expected);
    store.ping().await.unwrap();
}

#[tokio::test]
async fn migrating_again_is_a_no_op() {
    let (store, _database) = fresh_store().await;
    store.migrate().await.unwrap();
    assert_eq!(store.regulated_activities().await.unwrap().len(), 14);
}

#[tokio::test]
async fn regulated_activities_are_seeded_in_schedule_order() {
    let (store, _database) = fresh_store().await;

    let activities = store.regulated_activities().await.unwrap();

    assert_eq!(activities.iter().map(|a| a.schedule_number).collect::<Vec<_>>(), (1..=14).collect::<Vec<_>>());
    assert_eq!(
        activities[4].name,
        "Assessment or medical treatment for persons detained under the Mental Health Act 1983"
    );
}

#[tokio::test]
async fn reference_codes_are_unique_stable_identifiers() {
    let (store, _database) = fresh_store().await;
    let codes: Vec<String> = store
        .regulated_activities()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.code)
        .chain(store.service_types().await.unwrap().into_iter().map(|t| t.code))
        .chain(store.service_user_bands().await.unwrap().into_iter().map(|b| b.code))
        .collect();

    assert_eq!(codes.len(), 14 + 32 + 12);
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len(), "no code is used twice");
    for code in &codes {
        assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{code}");
    }
}

#[tokio::test]
async fn a_closed_store_reports_unavailable_not_a_generic_error() {
    let (store, _database) = fresh_store().await;
    store.close().await;

    let error = store.ping().await.unwrap_err();

    assert!(matches!(error, store::StoreError::Unavailable(_)), "{error:?}");
}
