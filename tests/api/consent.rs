//! Nobody gains a power beyond what they, or the person who consented, hold: an integrator a person signed in
//! to, or software with the admin role, must not obtain an API client's credentials (and with them every
//! scope that client holds), nor act in the person's name beyond the scopes the person granted.

use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{ClientKeys, Enrolment, NewOrganisation};
use provider_api_tests::TestApp;
use uuid::Uuid;

const INTEGRATOR_REDIRECT: &str = "https://integrator.example/callback";

/// An SDK client for a person who signed in through `app_id` (at `redirect`) and granted it `scopes` only.
async fn through_integrator(
    app: &TestApp,
    (app_id, redirect): (Uuid, &str),
    email: &str,
    password: &str,
    scopes: &[&str],
) -> Sdk {
    let tokens = app.sign_in_granting(&app_id.to_string(), redirect, email, password, scopes).await;
    let sdk = provider_api_sdk::ClientBuilder::new(&app.base_url)
        .person(app_id.to_string(), None, tokens.refresh_token)
        .build()
        .unwrap();
    let me = sdk.get_me().send().await.unwrap().into_inner();
    let mut granted: Vec<String> = me.scopes.iter().map(|s| s.to_string()).collect();
    granted.sort_unstable();
    let mut wanted: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    wanted.sort_unstable();
    assert_eq!(granted, wanted, "the person granted exactly these scopes");
    sdk
}

type Sdk = provider_api_sdk::Client;

/// A `private_key_jwt` client holding `roles` and every provider scope; returns it and its key set.
async fn key_client(app: &TestApp, organisation_id: Uuid, roles: &str) -> (Uuid, String) {
    let id = app.api_client(organisation_id, roles, EVERY_PROVIDER_SCOPE, "pas_unused").await;
    let keys = format!(
        r#"{{"keys":[{}]}}"#,
        provider_api_http::auth::keys::generate(time::OffsetDateTime::now_utc()).public_jwk
    );
    app.store.set_api_client_jwks(id, &keys).await.unwrap();
    (id, keys)
}

/// A replacement key set of one new public key, as a caller would send it.
fn new_keys() -> provider_api_sdk::types::builder::ClientKeys {
    let key: serde_json::Value =
        serde_json::from_str(&provider_api_http::auth::keys::generate(time::OffsetDateTime::now_utc()).public_jwk)
            .unwrap();
    ClientKeys::builder().jwks(serde_json::Map::from_iter([("keys".to_owned(), serde_json::json!([key]))]))
}

fn assert_forbidden(error: &provider_api_sdk::Error<provider_api_sdk::types::Problem>, code: &str, why: &str) {
    assert_eq!(error.http_status(), Some(403), "{error:?}");
    let problem = error.problem().expect("a problem document");
    assert_eq!(problem.code, code, "{problem:?}");
    assert!(problem.detail.contains(why), "the problem says why: {:?}", problem.detail);
}

const EVERY_PROVIDER_SCOPE: &str = "org:read org:admin notifications:read notifications:write notifications:submit \
    documents:read documents:write registrations:read registrations:write registrations:submit";

#[tokio::test]
async fn an_integrator_granted_org_admin_cannot_take_over_the_organisations_software() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    // The demo's own third-party integrator application, as a person would sign in to it.
    let integrator = (demo.integrator_app_id, demo.redirect_uri.as_str());
    let admin = &demo.users[0];
    let acting = through_integrator(&app, integrator, &admin.email, &admin.password, &["org:read", "org:admin"]).await;
    // What the person did grant still works through it.
    acting.list_api_clients().organisation_id(demo.organisation_id).send().await.unwrap();

    let rotated = acting
        .rotate_api_client_secret()
        .organisation_id(demo.organisation_id)
        .client_id(demo.client_id)
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&rotated, "first_party_only", "third-party application");
    // The software's own secret was left alone.
    app.client_token(demo.client_id, &demo.client_secret).await;

    // Installing its own keys on a private_key_jwt client would hand it the client just as well.
    let (key_client, original) = key_client(&app, demo.organisation_id, "drafter submitter").await;
    let replaced = acting
        .replace_api_client_keys()
        .organisation_id(demo.organisation_id)
        .client_id(key_client)
        .body(new_keys())
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&replaced, "first_party_only", "third-party application");
    let kept = app.store.api_client(key_client).await.unwrap().unwrap();
    assert_eq!(kept.jwks.as_deref(), Some(original.as_str()), "the keys are unchanged");

    // Nor may it make a client of its own.
    let created = acting
        .create_api_client()
        .organisation_id(demo.organisation_id)
        .body(
            provider_api_sdk::types::NewApiClient::builder()
                .name("Integrator's own")
                .roles(vec![provider_api_sdk::types::Role::Viewer]),
        )
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&created, "first_party_only", "third-party application");
}

#[tokio::test]
async fn software_with_the_admin_role_cannot_take_over_a_sibling() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin_software = app.api_client(demo.organisation_id, "admin", EVERY_PROVIDER_SCOPE, "pas_admin").await;
    let acting = app.sdk_for_client(admin_software, "pas_admin", &[]);
    // It is an admin: it may read the organisation's clients.
    acting.list_api_clients().organisation_id(demo.organisation_id).send().await.unwrap();

    let rotated = acting
        .rotate_api_client_secret()
        .organisation_id(demo.organisation_id)
        .client_id(demo.client_id)
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&rotated, "forbidden", "Only a person");
    app.client_token(demo.client_id, &demo.client_secret).await;

    let (key_client, original) = key_client(&app, demo.organisation_id, "submitter").await;
    let replaced = acting
        .replace_api_client_keys()
        .organisation_id(demo.organisation_id)
        .client_id(key_client)
        .body(new_keys())
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&replaced, "forbidden", "Only a person");
    let kept = app.store.api_client(key_client).await.unwrap().unwrap();
    assert_eq!(kept.jwks.as_deref(), Some(original.as_str()), "the keys are unchanged");
}

#[tokio::test]
async fn a_person_may_not_hand_themselves_a_client_that_reaches_further_than_they_do() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    // The demo admin holds the admin role only; the demo software drafts and submits.
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let rotated = admin
        .rotate_api_client_secret()
        .organisation_id(demo.organisation_id)
        .client_id(demo.client_id)
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&rotated, "beyond_your_access", "notifications:submit");
    app.client_token(demo.client_id, &demo.client_secret).await;

    let created = admin
        .create_api_client()
        .organisation_id(demo.organisation_id)
        .body(
            provider_api_sdk::types::NewApiClient::builder()
                .name("Submits for me")
                .roles(vec![provider_api_sdk::types::Role::Viewer, provider_api_sdk::types::Role::Submitter]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(created.http_status(), Some(422));
    let problem = created.problem().unwrap();
    let error = problem.errors.iter().find(|e| e.pointer == "/roles/1").expect("the submitter role is named");
    assert_eq!(error.code, "beyond_your_access");
    let listed = admin.list_api_clients().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(listed.items.iter().all(|c| c.name != "Submits for me"), "nothing was created");

    // Within their reach, the same person rotates and re-keys freely.
    let readonly = app.api_client(demo.organisation_id, "viewer", "org:read notifications:read", "pas_readonly").await;
    let rotated = admin
        .rotate_api_client_secret()
        .organisation_id(demo.organisation_id)
        .client_id(readonly)
        .send()
        .await
        .unwrap()
        .into_inner();
    app.client_token(readonly, &rotated.client_secret.unwrap()).await;
}

#[tokio::test]
async fn an_integrator_granted_notifications_read_cannot_create_or_claim_an_organisation() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let integrator = (app.integrator_app(INTEGRATOR_REDIRECT, EVERY_PROVIDER_SCOPE, None).await, INTEGRATOR_REDIRECT);
    let person = &demo.users[1];
    let acting = through_integrator(&app, integrator, &person.email, &person.password, &["notifications:read"]).await;

    let user_id = demo_user_id(&app, &person.email).await;
    let before = app.store.memberships_of(user_id).await.unwrap().len();
    let created = acting
        .create_organisation()
        .body(NewOrganisation::builder().name("Not Consented Ltd"))
        .send()
        .await
        .unwrap_err();
    assert_forbidden(&created, "forbidden", "org:admin");
    assert_eq!(created.problem().unwrap().permission.as_deref(), Some("org:admin"));
    let after = app.store.memberships_of(user_id).await.unwrap().len();
    assert_eq!(before, after, "no organisation was created");

    let claimed =
        acting.redeem_enrolment_code().body(Enrolment::builder().code("pae_not-a-real-code")).send().await.unwrap_err();
    assert_forbidden(&claimed, "forbidden", "org:admin");

    // Granted org:admin, the same integrator may create one in the person's name: that is what was consented.
    let trusted =
        through_integrator(&app, integrator, &person.email, &person.password, &["org:read", "org:admin"]).await;
    trusted.create_organisation().body(NewOrganisation::builder().name("Consented Ltd")).send().await.unwrap();
}

async fn demo_user_id(app: &TestApp, email: &str) -> Uuid {
    app.store
        .user_by_email(&provider_api_core::accounts::normalise_email(email))
        .await
        .unwrap()
        .expect("the user exists")
        .id
}
