//! The storage conformance suite: the same expectations of every engine. It runs on SQLite by default and on
//! PostgreSQL when `TEST_DATABASE_URL` names a server (CI runs it both ways). `blobs` does the same for the
//! document blob stores.

use std::collections::HashSet;

mod audit;
mod blobs;
mod documents;
mod emails;
mod portal_sessions;
mod registrations;

use provider_api_http::config::Config;
use provider_api_store::{Engine, Store, StoreError};
use provider_api_tests::TestDatabase;

async fn fresh_store() -> (std::sync::Arc<dyn Store>, TestDatabase) {
    let database = TestDatabase::fresh().await;
    let config = Config { database_url: database.url().to_owned().into(), ..Config::default() };
    let store = config.open_store().await.expect("the store opens");
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

    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

mod identity {
    use provider_api_core::accounts::{ApiClient, Membership, Organisation, User, normalise_email};
    use provider_api_http::auth::keys;
    use provider_api_store::{Store, StoreError};
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::fresh_store;

    fn organisation(provider_id: Option<&str>) -> Organisation {
        // At the precision both engines keep, so a record reads back equal field for field.
        let now = provider_api_core::clock::Clock::now(&provider_api_core::clock::SystemClock);
        Organisation {
            id: Uuid::new_v4(),
            name: "Riverside Care".into(),
            provider_id: provider_id.map(str::to_owned),
            four_eyes: true,
            software_submits: true,
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
            staff_roles: Default::default(),
            disabled: false,
            created_at: provider_api_core::clock::Clock::now(&provider_api_core::clock::SystemClock),
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
        assert_eq!(read, org, "the whole record, every field");
        let found = store.user_by_email("sam.jones@example.org").await.unwrap().unwrap();
        assert!(found == person, "the whole record, every field (the password hash is not shown)");
        assert_eq!(found.email, "Sam.Jones@Example.org", "kept as typed; matched case-insensitively");
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

    /// A new organisation, a new person, and their drafter membership of it, all stored.
    async fn drafter_of_a_new_organisation(store: &dyn Store, email: &str) -> (Organisation, User, Membership) {
        let org = organisation(None);
        store.create_organisation(&org).await.unwrap();
        let person = user(email);
        store.create_user(&person).await.unwrap();
        let membership = Membership {
            user_id: person.id,
            organisation_id: org.id,
            roles: "drafter".parse().unwrap(),
            location_ids: None,
            created_at: OffsetDateTime::now_utc(),
        };
        store.put_membership(&membership).await.unwrap();
        (org, person, membership)
    }

    #[tokio::test]
    async fn a_membership_is_replaced_not_duplicated() {
        let (store, _database) = fresh_store().await;
        let (_, person, mut membership) = drafter_of_a_new_organisation(&*store, "b@example.org").await;
        membership.roles = "drafter submitter".parse().unwrap();
        store.put_membership(&membership).await.unwrap();

        let all = store.memberships_of(person.id).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].roles.to_string(), "drafter submitter");
    }

    /// A viewer's API client of `organisation_id`, with a secret.
    fn api_client(organisation_id: Uuid) -> ApiClient {
        ApiClient {
            id: Uuid::new_v4(),
            organisation_id,
            name: "c".into(),
            secret_hash: Some("h".into()),
            jwks: None,
            roles: "viewer".parse().unwrap(),
            scopes: "org:read".parse().unwrap(),
            location_ids: None,
            created_by: None,
            created_at: OffsetDateTime::now_utc(),
            revoked_at: None,
            last_used_at: None,
        }
    }

    /// Writes past the store, as a hand-edit or another program would.
    async fn write_behind_the_stores_back(database: &provider_api_tests::TestDatabase, statement: String) {
        use sqlx::Connection;
        let statement = sqlx::AssertSqlSafe(statement);
        if database.is_postgres() {
            let mut connection = sqlx::PgConnection::connect(database.url()).await.unwrap();
            sqlx::query(statement).execute(&mut connection).await.unwrap();
        } else {
            let mut connection = sqlx::SqliteConnection::connect(database.url()).await.unwrap();
            sqlx::query(statement).execute(&mut connection).await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_unknown_stored_value_is_an_error_naming_its_table_row_and_column_never_a_default() {
        let (store, database) = fresh_store().await;
        let (org, person, _) = drafter_of_a_new_organisation(&*store, "c@example.org").await;
        write_behind_the_stores_back(&database, "UPDATE memberships SET roles = 'drafter overlord'".into()).await;

        let error = store.membership(person.id, org.id).await.unwrap_err();
        let StoreError::Corrupt { table, row, column, reason } = &error else { panic!("{error:?}") };
        assert_eq!((*table, column.as_str()), ("memberships", "roles"));
        assert_eq!(row, &format!("user_id={} organisation_id={}", person.id, org.id));
        assert!(reason.contains("\"overlord\""), "names the value: {reason}");
        let listed = store.memberships_of(person.id).await.unwrap_err();
        assert!(matches!(listed, StoreError::Corrupt { .. }), "a list fails too, not skips: {listed:?}");

        let client = api_client(org.id);
        store.create_api_client(&client).await.unwrap();
        let limit = Uuid::new_v4();
        write_behind_the_stores_back(&database, format!("UPDATE api_clients SET location_ids = '{limit} somewhere'"))
            .await;
        let error = store.api_client(client.id).await.unwrap_err();
        let StoreError::Corrupt { table, row, column, .. } = &error else { panic!("{error:?}") };
        assert_eq!(
            (*table, row.as_str(), column.as_str()),
            ("api_clients", &*format!("id={}", client.id), "location_ids")
        );
        assert!(
            error.to_string().contains(&format!("table api_clients, row id={}, column location_ids", client.id)),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_client_assertion_is_accepted_once() {
        let (store, _database) = fresh_store().await;
        let org = organisation(None);
        store.create_organisation(&org).await.unwrap();
        let client = api_client(org.id);
        store.create_api_client(&client).await.unwrap();
        let expires = OffsetDateTime::now_utc() + time::Duration::minutes(5);

        assert!(
            store
                .remember_client_assertion(client.id, "jti-1", expires, time::OffsetDateTime::now_utc())
                .await
                .unwrap()
        );
        assert!(
            !store
                .remember_client_assertion(client.id, "jti-1", expires, time::OffsetDateTime::now_utc())
                .await
                .unwrap()
        );
        assert!(
            store
                .remember_client_assertion(client.id, "jti-2", expires, time::OffsetDateTime::now_utc())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn rotating_keys_retires_the_old_one_and_keeps_it() {
        let (store, _database) = fresh_store().await;
        let first = keys::generate(time::OffsetDateTime::now_utc());
        store.insert_signing_key(&first).await.unwrap();
        let second = keys::generate(time::OffsetDateTime::now_utc());
        store.rotate_signing_key(&second, OffsetDateTime::now_utc()).await.unwrap();

        let all = store.signing_keys().await.unwrap();
        assert_eq!(all.len(), 2);
        let active: Vec<&str> = all.iter().filter(|k| k.retired_at.is_none()).map(|k| k.kid.as_str()).collect();
        assert_eq!(active, [second.kid.as_str()]);
    }
}

mod single_use {
    use provider_api_core::accounts::{
        AuthorizationCode, EnrolmentCode, IntegratorApp, Invitation, Organisation, PasswordReset, Redemption,
        RefreshToken, User, normalise_email,
    };
    use time::{Duration, OffsetDateTime};
    use uuid::Uuid;

    use super::fresh_store;

    async fn fixtures(store: &dyn provider_api_store::Store) -> (Uuid, Uuid, Uuid) {
        let now = OffsetDateTime::now_utc();
        let organisation = Organisation {
            id: Uuid::new_v4(),
            name: "Org".into(),
            provider_id: Some("1-123456789".into()),
            four_eyes: true,
            software_submits: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store.create_organisation(&organisation).await.unwrap();
        let user = User {
            id: Uuid::new_v4(),
            email: "u@example.org".into(),
            email_normalised: normalise_email("u@example.org"),
            display_name: "U".into(),
            password_hash: None,
            staff_roles: Default::default(),
            disabled: false,
            created_at: now,
        };
        store.create_user(&user).await.unwrap();
        let app = IntegratorApp {
            id: Uuid::new_v4(),
            name: "App".into(),
            redirect_uris: "https://app.example/cb".into(),
            secret_hash: None,
            scopes: "org:read".parse().unwrap(),
            created_by: None,
            created_at: now,
            revoked_at: None,
            first_party: true,
        };
        store.create_integrator_app(&app).await.unwrap();
        let stored = store.integrator_app(app.id).await.unwrap().expect("the application reads back");
        // PostgreSQL keeps microseconds; everything else reads back exactly.
        let micros = |t: OffsetDateTime| t.unix_timestamp_nanos() / 1_000;
        assert_eq!(micros(stored.created_at), micros(app.created_at));
        let stored = IntegratorApp { created_at: app.created_at, ..stored };
        assert_eq!(stored, app, "every field reads back as written, first_party included");
        (organisation.id, user.id, app.id)
    }

    #[tokio::test]
    async fn a_password_reset_is_spent_once_and_ends_the_other_links_and_every_sign_in() {
        let (store, _database) = fresh_store().await;
        let (_, user, app) = fixtures(store.as_ref()).await;
        // Whole seconds: PostgreSQL keeps microseconds, so finer times would not read back equal.
        let now = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap();
        let reset = |hash: &str, expires_at| PasswordReset {
            token_hash: hash.into(),
            user_id: user,
            return_to: Some("/v1/oauth/authorize?client_id=x".into()),
            created_at: now,
            expires_at,
            used_at: None,
        };
        for (hash, expires_at) in [
            ("first", now + Duration::hours(1)),
            ("second", now + Duration::hours(1)),
            ("old", now - Duration::minutes(1)),
        ] {
            store.create_password_reset(&reset(hash, expires_at)).await.unwrap();
        }
        let token = RefreshToken {
            token_hash: "rt".into(),
            family_id: Uuid::new_v4(),
            app_id: app,
            user_id: user,
            scopes: "org:read".parse().unwrap(),
            created_at: now,
            expires_at: now + Duration::days(30),
            used_at: None,
            revoked_at: None,
        };
        store.create_refresh_token(&token).await.unwrap();
        assert_eq!(store.password_reset("first").await.unwrap(), Some(reset("first", now + Duration::hours(1))));

        assert_eq!(store.reset_password("old", "new-hash", now).await.unwrap(), None, "an expired link sets nothing");
        let spent = store.reset_password("first", "new-hash", now).await.unwrap().expect("a fresh link is spent");
        assert_eq!(spent.return_to.as_deref(), Some("/v1/oauth/authorize?client_id=x"));
        assert_eq!(store.user(user).await.unwrap().unwrap().password_hash.as_deref(), Some("new-hash"));
        assert_eq!(store.reset_password("first", "again", now).await.unwrap(), None, "single use");
        assert_eq!(store.reset_password("second", "again", now).await.unwrap(), None, "the other link is ended");
        assert_eq!(store.user(user).await.unwrap().unwrap().password_hash.as_deref(), Some("new-hash"));
        assert!(store.refresh_token("rt").await.unwrap().unwrap().revoked_at.is_some(), "every sign-in ended");
        assert_eq!(store.reset_password("unknown", "x", now).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_application_registration_changes_but_keeps_its_identity() {
        let (store, _database) = fresh_store().await;
        let (_, _, id) = fixtures(store.as_ref()).await;
        let registered = store.integrator_app(id).await.unwrap().unwrap();
        let changed = IntegratorApp {
            name: "Renamed".into(),
            redirect_uris: "https://app.example/cb\nhttps://app.example/other".into(),
            secret_hash: Some("hash".into()),
            scopes: "org:read notifications:read".parse().unwrap(),
            first_party: !registered.first_party,
            created_by: Some(Uuid::new_v4()),
            ..registered.clone()
        };
        assert!(store.update_integrator_app(&changed).await.unwrap());
        let stored = store.integrator_app(id).await.unwrap().unwrap();
        assert_eq!(
            (stored.name.as_str(), stored.redirect_uris.as_str(), stored.secret_hash.as_deref(), &stored.scopes),
            (changed.name.as_str(), changed.redirect_uris.as_str(), changed.secret_hash.as_deref(), &changed.scopes)
        );
        assert_eq!(
            (stored.first_party, stored.created_by),
            (registered.first_party, registered.created_by),
            "standing and creator are as registered"
        );
        let unknown = IntegratorApp { id: Uuid::new_v4(), ..changed };
        assert!(!store.update_integrator_app(&unknown).await.unwrap(), "no such application");
    }

    #[tokio::test]
    async fn a_code_is_spent_once_and_only_by_its_application() {
        let (store, _database) = fresh_store().await;
        let (_, user, app) = fixtures(store.as_ref()).await;
        let now = OffsetDateTime::now_utc();
        let code = AuthorizationCode {
            code_hash: "h".into(),
            app_id: app,
            user_id: user,
            redirect_uri: "https://app.example/cb".into(),
            code_challenge: "c".into(),
            scopes: "org:read".parse().unwrap(),
            family_id: Uuid::new_v4(),
            expires_at: now + Duration::minutes(2),
            used_at: None,
        };
        store.create_authorization_code(&code).await.unwrap();

        assert_eq!(store.redeem_authorization_code("h", Uuid::new_v4(), now).await.unwrap(), Redemption::Unknown);
        assert!(matches!(store.redeem_authorization_code("h", app, now).await.unwrap(), Redemption::Fresh(_)));
        assert!(matches!(store.redeem_authorization_code("h", app, now).await.unwrap(), Redemption::Replayed(_)));
        assert_eq!(store.redeem_authorization_code("nope", app, now).await.unwrap(), Redemption::Unknown);
    }

    #[tokio::test]
    async fn a_refresh_token_rotates_once_and_a_revoked_family_is_a_replay() {
        let (store, _database) = fresh_store().await;
        let (_, user, app) = fixtures(store.as_ref()).await;
        let now = OffsetDateTime::now_utc();
        let family = Uuid::new_v4();
        for hash in ["first", "second"] {
            let token = RefreshToken {
                token_hash: hash.into(),
                family_id: family,
                app_id: app,
                user_id: user,
                scopes: "org:read".parse().unwrap(),
                created_at: now,
                expires_at: now + Duration::days(30),
                used_at: None,
                revoked_at: None,
            };
            store.create_refresh_token(&token).await.unwrap();
        }

        assert!(matches!(store.redeem_refresh_token("first", app, now).await.unwrap(), Redemption::Fresh(_)));
        assert!(matches!(store.redeem_refresh_token("first", app, now).await.unwrap(), Redemption::Replayed(_)));
        store.revoke_refresh_family(family, now).await.unwrap();
        assert!(matches!(store.redeem_refresh_token("second", app, now).await.unwrap(), Redemption::Replayed(_)));
    }

    #[tokio::test]
    async fn enrolment_codes_and_invitations_work_once_and_not_after_expiry() {
        let (store, _database) = fresh_store().await;
        let (organisation, user, _) = fixtures(store.as_ref()).await;
        let now = OffsetDateTime::now_utc();
        let code = |hash: &str, expires_at| EnrolmentCode {
            code_hash: hash.into(),
            organisation_id: organisation,
            issued_by: user,
            created_at: now,
            expires_at,
            redeemed_at: None,
            redeemed_by: None,
        };
        store.create_enrolment_code(&code("live", now + Duration::days(1))).await.unwrap();
        store.create_enrolment_code(&code("stale", now - Duration::seconds(1))).await.unwrap();
        assert!(store.redeem_enrolment_code("live", user, now).await.unwrap().is_some());
        assert!(store.redeem_enrolment_code("live", user, now).await.unwrap().is_none(), "once");
        assert!(store.redeem_enrolment_code("stale", user, now).await.unwrap().is_none(), "not after expiry");

        let invitation = Invitation {
            id: Uuid::new_v4(),
            organisation_id: organisation,
            email: "i@example.org".into(),
            email_normalised: "i@example.org".into(),
            roles: "viewer".parse().unwrap(),
            location_ids: None,
            token_hash: "t".into(),
            invited_by: user,
            created_at: now,
            expires_at: now + Duration::days(7),
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        store.create_invitation(&invitation).await.unwrap();
        assert!(store.accept_invitation("t", user, now).await.unwrap().is_some());
        assert!(store.accept_invitation("t", user, now).await.unwrap().is_none(), "once");
        assert!(store.revoke_invitation(invitation.id, now).await.unwrap().is_none(), "an accepted one stays accepted");
    }

    #[tokio::test]
    async fn organisations_page_in_creation_order_after_a_cursor() {
        let (store, _database) = fresh_store().await;
        let start = OffsetDateTime::now_utc();
        let mut ids = Vec::new();
        for i in 0..5 {
            let at = start + Duration::milliseconds(i);
            let organisation = Organisation {
                id: Uuid::new_v4(),
                name: format!("Org {i}"),
                provider_id: None,
                four_eyes: true,
                software_submits: true,
                version: 1,
                created_at: at,
                updated_at: at,
            };
            store.create_organisation(&organisation).await.unwrap();
            ids.push(organisation.id);
        }
        // The regulator's own organisation (made by migration, before these) comes first.
        let first = store.organisations_after(OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 3).await.unwrap();
        assert_eq!(first[0].id, provider_api_core::accounts::REGULATOR_ORGANISATION);
        assert_eq!(first[1..].iter().map(|o| o.id).collect::<Vec<_>>(), ids[..2]);
        let last = &first[2];
        let rest = store.organisations_after(last.created_at, last.id, 10).await.unwrap();
        assert_eq!(rest.iter().map(|o| o.id).collect::<Vec<_>>(), ids[2..]);
    }
}

mod notifications {
    use provider_api_core::accounts::Organisation;
    use provider_api_core::actor::Actor;
    use provider_api_core::notifications::{Action, Event, Filter, Notification, Status};
    use provider_api_store::idempotency::{Begin, Completion};
    use time::{Duration, OffsetDateTime};
    use uuid::Uuid;

    use super::fresh_store;

    async fn organisation(store: &dyn provider_api_store::Store) -> Uuid {
        let now = OffsetDateTime::now_utc();
        let organisation = Organisation {
            id: Uuid::new_v4(),
            name: "Riverside Care Ltd".into(),
            provider_id: None,
            four_eyes: true,
            software_submits: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store.create_organisation(&organisation).await.unwrap();
        organisation.id
    }

    fn draft(organisation_id: Uuid, created_at: OffsetDateTime) -> Notification {
        Notification {
            id: Uuid::now_v7(),
            organisation_id,
            location_id: None,
            kind: "serious_injury".parse().unwrap(),
            status: Status::Draft,
            content: r#"{"type":"serious_injury","description":"Ünïcode ✓ and 'quotes'"}"#.into(),
            follows_id: None,
            version: 1,
            created_by_user: Some(Uuid::new_v4()),
            created_by_client: None,
            edited_by_user: None,
            edited_by_client: Some(Uuid::new_v4()),
            created_at,
            updated_at: created_at,
            reference: None,
            submitted_at: None,
            submitted_by_user: None,
            submitted_by_client: None,
            schema_version: None,
            content_sha256: None,
            receipt: None,
            request_message: None,
            request_due_on: None,
            outcome: None,
            outcome_note: None,
            attachments: Default::default(),
            approved_by_user: None,
            approved_version: None,
            approved_at: None,
        }
    }

    #[tokio::test]
    async fn a_notification_reads_back_exactly_and_only_one_writer_of_a_version_wins() {
        let (store, _database) = fresh_store().await;
        let organisation_id = organisation(store.as_ref()).await;
        let now = OffsetDateTime::now_utc();
        let n = draft(organisation_id, now);
        let created = Event::new(n.id, Action::Created, Actor::default(), now);
        store.insert_notification(&n, &[created], None).await.unwrap();
        let read = store.notification(n.id).await.unwrap().unwrap();
        assert_eq!(read.content, n.content);
        assert_eq!((read.edited_by_client, read.created_by_user), (n.edited_by_client, n.created_by_user));

        let mut first = read.clone();
        first.version = 2;
        first.content = r#"{"type":"serious_injury","description":"first"}"#.into();
        let mut second = first.clone();
        second.content = r#"{"type":"serious_injury","description":"second"}"#.into();
        let edit = |id| Event::new(id, Action::Edited, Actor::default(), OffsetDateTime::now_utc());
        assert!(store.update_notification(&first, 1, &[edit(n.id)], None).await.unwrap());
        assert!(!store.update_notification(&second, 1, &[edit(n.id)], None).await.unwrap(), "version 1 is gone");
        assert_eq!(store.notification(n.id).await.unwrap().unwrap().content, first.content);
        let history = store.notification_events(n.id).await.unwrap();
        assert_eq!(history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["created", "edited"]);
    }

    #[tokio::test]
    async fn a_sent_notification_must_have_a_reference() {
        let (store, _database) = fresh_store().await;
        let organisation_id = organisation(store.as_ref()).await;
        let mut n = draft(organisation_id, OffsetDateTime::now_utc());
        n.status = Status::Submitted;
        let refused = store.insert_notification(&n, &[], None).await.unwrap_err();
        // A CHECK constraint, not a lost connection or a uniqueness clash.
        assert!(
            matches!(&refused, provider_api_store::StoreError::Database(sqlx::Error::Database(db)) if db.is_check_violation()),
            "the schema refuses it: {refused:?}"
        );
        assert!(store.notification(n.id).await.unwrap().is_none(), "nothing was stored");
    }

    #[tokio::test]
    async fn lists_filter_by_status_and_page_in_creation_order() {
        let (store, _database) = fresh_store().await;
        let organisation_id = organisation(store.as_ref()).await;
        let start = OffsetDateTime::now_utc() - Duration::hours(1);
        let mut ids = Vec::new();
        for i in 0..5 {
            let mut n = draft(organisation_id, start + Duration::minutes(i));
            if i % 2 == 0 {
                n.status = Status::Submitted;
                n.reference = Some(format!("N-TEST-{i}"));
                n.submitted_at = Some(n.created_at);
            }
            store.insert_notification(&n, &[], None).await.unwrap();
            ids.push(n.id);
        }
        let filter = Filter { organisation_id: Some(organisation_id), ..Default::default() };
        let first = store.notifications(&filter, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 3).await.unwrap();
        assert_eq!(first.iter().map(|n| n.id).collect::<Vec<_>>(), ids[..3]);
        let rest = store.notifications(&filter, first[2].created_at, first[2].id, 3).await.unwrap();
        assert_eq!(rest.iter().map(|n| n.id).collect::<Vec<_>>(), ids[3..]);
        let submitted = Filter { statuses: vec![Status::Submitted], ..filter.clone() };
        let sent = store.notifications(&submitted, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10).await.unwrap();
        assert_eq!(sent.len(), 3);
        let elsewhere = Filter { locations: Some(vec![Uuid::new_v4()]), ..filter };
        assert!(store.notifications(&elsewhere, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10).await.unwrap().is_empty());
        let counts = store.notification_counts().await.unwrap();
        assert_eq!(counts, [("submitted".to_owned(), 3)]);
    }

    #[tokio::test]
    async fn an_idempotency_key_is_claimed_once_completed_with_its_change_and_taken_over_when_abandoned() {
        let (store, _database) = fresh_store().await;
        let organisation_id = organisation(store.as_ref()).await;
        let now = OffsetDateTime::now_utc();
        let lock = now + Duration::seconds(30);
        assert!(matches!(store.begin_idempotent("client:a", "k", "f1", now, lock).await.unwrap(), Begin::Started));
        assert!(matches!(
            store.begin_idempotent("client:a", "k", "f1", now, lock).await.unwrap(),
            Begin::InFlight { fingerprint } if fingerprint == "f1"
        ));
        assert!(matches!(store.begin_idempotent("client:b", "k", "f1", now, lock).await.unwrap(), Begin::Started));

        let n = draft(organisation_id, now);
        let done = Completion {
            scope: "client:a".into(),
            key: "k".into(),
            status: 201,
            headers: r#"[["etag","\"1\""]]"#.into(),
            body: r#"{"id":"x"}"#.into(),
            at: now,
        };
        store.insert_notification(&n, &[], Some(&done)).await.unwrap();
        match store.begin_idempotent("client:a", "k", "f1", now, lock).await.unwrap() {
            Begin::Completed(stored) => {
                assert_eq!(
                    (stored.status, stored.body.as_str(), stored.fingerprint.as_str()),
                    (201, r#"{"id":"x"}"#, "f1")
                );
            }
            other => panic!("expected the stored response, got {other:?}"),
        }

        // An abandoned claim (its request died) can be taken over once its lock has passed.
        let later = now + Duration::minutes(5);
        assert!(matches!(
            store.begin_idempotent("client:b", "k", "f1", later, later + Duration::seconds(30)).await.unwrap(),
            Begin::Started
        ));
        store.release_idempotent("client:b", "k").await.unwrap();
        assert!(matches!(store.begin_idempotent("client:b", "k", "f2", later, lock).await.unwrap(), Begin::Started));

        // Kept for at least the promised time, then forgotten.
        assert_eq!(store.purge_idempotency_keys(now - Duration::days(7)).await.unwrap(), 0);
        assert_eq!(store.purge_idempotency_keys(later + Duration::days(1)).await.unwrap(), 2);
        assert!(matches!(store.begin_idempotent("client:a", "k", "f9", later, lock).await.unwrap(), Begin::Started));
    }
}
