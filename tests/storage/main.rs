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

mod identity {
    use provider_api::accounts::{ApiClient, Membership, Organisation, User, normalise_email};
    use provider_api::auth::keys;
    use provider_api::store::StoreError;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::fresh_store;

    fn organisation(provider_id: Option<&str>) -> Organisation {
        let now = OffsetDateTime::now_utc();
        Organisation {
            id: Uuid::new_v4(),
            name: "Riverside Care".into(),
            provider_id: provider_id.map(str::to_owned),
            four_eyes: true,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn user(email: &str) -> User {
        User {
            id: Uuid::new_v4(),
            email: email.into(),
            email_normalised: normalise_email(email),
            display_name: "Sam Jones".into(),
            password_hash: None,
            staff_roles: String::new(),
            disabled: false,
            created_at: OffsetDateTime::now_utc(),
        }
    }

    #[tokio::test]
    async fn records_read_back_exactly_as_written() {
        let (store, _database) = fresh_store().await;
        let org = organisation(Some("1-199747506"));
        store.create_organisation(&org).await.unwrap();
        let person = user("Sam.Jones@Example.org");
        store.create_user(&person).await.unwrap();

        let read = store.organisation(org.id).await.unwrap().unwrap();
        assert_eq!(read.id, org.id);
        assert_eq!(read.provider_id, org.provider_id);
        assert_eq!(read.created_at.unix_timestamp(), org.created_at.unix_timestamp());
        let found = store.user_by_email("sam.jones@example.org").await.unwrap().unwrap();
        assert_eq!((found.id, found.email.as_str()), (person.id, "Sam.Jones@Example.org"));
        assert!(store.organisation(Uuid::new_v4()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn emails_and_provider_ids_are_unique_and_a_duplicate_is_a_conflict() {
        let (store, _database) = fresh_store().await;
        store.create_user(&user("a@example.org")).await.unwrap();
        let duplicate = store.create_user(&user("A@EXAMPLE.ORG")).await.unwrap_err();
        assert!(matches!(duplicate, StoreError::Conflict { .. }), "{duplicate:?}");

        store.create_organisation(&organisation(Some("RL4"))).await.unwrap();
        let duplicate = store.create_organisation(&organisation(Some("RL4"))).await.unwrap_err();
        assert!(matches!(duplicate, StoreError::Conflict { .. }), "{duplicate:?}");
    }

    #[tokio::test]
    async fn a_membership_is_replaced_not_duplicated() {
        let (store, _database) = fresh_store().await;
        let org = organisation(None);
        store.create_organisation(&org).await.unwrap();
        let person = user("b@example.org");
        store.create_user(&person).await.unwrap();
        let mut membership = Membership {
            user_id: person.id,
            organisation_id: org.id,
            roles: "drafter".into(),
            location_ids: None,
            created_at: OffsetDateTime::now_utc(),
        };
        store.put_membership(&membership).await.unwrap();
        membership.roles = "drafter submitter".into();
        store.put_membership(&membership).await.unwrap();

        let all = store.memberships_of(person.id).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].roles, "drafter submitter");
    }

    #[tokio::test]
    async fn a_client_assertion_is_accepted_once() {
        let (store, _database) = fresh_store().await;
        let org = organisation(None);
        store.create_organisation(&org).await.unwrap();
        let client = ApiClient {
            id: Uuid::new_v4(),
            organisation_id: org.id,
            name: "c".into(),
            secret_hash: Some("h".into()),
            jwks: None,
            roles: "viewer".into(),
            scopes: "org:read".into(),
            location_ids: None,
            created_by: None,
            created_at: OffsetDateTime::now_utc(),
            revoked_at: None,
            last_used_at: None,
        };
        store.create_api_client(&client).await.unwrap();
        let expires = OffsetDateTime::now_utc() + time::Duration::minutes(5);

        assert!(store.remember_client_assertion(client.id, "jti-1", expires).await.unwrap());
        assert!(!store.remember_client_assertion(client.id, "jti-1", expires).await.unwrap());
        assert!(store.remember_client_assertion(client.id, "jti-2", expires).await.unwrap());
    }

    #[tokio::test]
    async fn rotating_keys_retires_the_old_one_and_keeps_it() {
        let (store, _database) = fresh_store().await;
        let first = keys::generate();
        store.insert_signing_key(&first).await.unwrap();
        let second = keys::generate();
        store.rotate_signing_key(&second, OffsetDateTime::now_utc()).await.unwrap();

        let all = store.signing_keys().await.unwrap();
        assert_eq!(all.len(), 2);
        let active: Vec<&str> = all.iter().filter(|k| k.retired_at.is_none()).map(|k| k.kid.as_str()).collect();
        assert_eq!(active, [second.kid.as_str()]);
    }
}
