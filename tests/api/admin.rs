//! The regulator's staff: provider records, enrolment codes, accounts and integrator applications.

use std::collections::BTreeSet;

use provider_api_core::capability::StaffRole;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{Enrolment, NewIntegratorApp, NewProviderRecord, Role};
use provider_api_tests::TestApp;

async fn staff(app: &TestApp) -> provider_api_sdk::Client {
    let email = format!("staff.{}@cqc.example", uuid::Uuid::new_v4().simple());
    let roles: BTreeSet<StaffRole> = [StaffRole::StaffAdmin].into();
    provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        &email,
        "Pat Staff",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    app.sdk_for_person(&email, "correct horse battery").await
}

#[tokio::test]
async fn a_provider_is_claimed_with_a_single_use_enrolment_code() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let demo = app.demo().await;

    let record = staff
        .create_provider_record()
        .body(NewProviderRecord::builder().name("Riverside Care Ltd").provider_id("1-199747506"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(record.provider_id.as_deref(), Some("1-199747506"));
    let duplicate = staff
        .create_provider_record()
        .body(NewProviderRecord::builder().name("Copycat Ltd").provider_id("1-199747506"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(duplicate.http_status(), Some(409), "a provider ID belongs to one organisation");

    let issued = staff.issue_enrolment_code().organisation_id(record.id).send().await.unwrap().into_inner();
    let person = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let claimed =
        person.redeem_enrolment_code().body(Enrolment::builder().code(issued.code.clone())).send().await.unwrap();
    assert_eq!(claimed.id, record.id);
    let me = person.get_me().send().await.unwrap().into_inner();
    let mine = me.organisations.iter().find(|o| o.organisation_id == record.id).unwrap();
    assert_eq!(mine.roles, [Role::Admin]);

    let someone_else = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let again =
        someone_else.redeem_enrolment_code().body(Enrolment::builder().code(issued.code)).send().await.unwrap_err();
    assert_eq!(again.problem().unwrap().errors[0].code, "invalid_code", "a code works once");

    // An applicant's own organisation (made by a person, so without a provider ID) gets no code.
    let applicant = person
        .create_organisation()
        .body(provider_api_sdk::types::NewOrganisation::builder().name("Hillside Homes Ltd"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let applicant_code = staff.issue_enrolment_code().organisation_id(applicant.id).send().await.unwrap_err();
    assert_eq!(applicant_code.http_status(), Some(409), "codes are for registered providers");
}

#[tokio::test]
async fn staff_page_through_organisations_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    for _ in 0..3 {
        app.demo().await;
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = staff.list_all_organisations().limit(std::num::NonZeroU64::new(2).unwrap());
        if let Some(cursor) = &cursor {
            request = request.cursor(cursor.clone());
        }
        let page = request.send().await.unwrap().into_inner();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|o| o.id));
        if cursor.is_none() {
            app.demo().await; // an insert while paging: it comes after what was already seen
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // The regulator's own organisation (it holds files its staff upload) is listed like any other.
    assert!(seen.contains(&provider_api_core::accounts::REGULATOR_ORGANISATION));
    assert_eq!(seen.len(), 5, "the regulator's, three more, then the one added while paging");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len(), "no repeats");
}

#[tokio::test]
async fn a_disabled_person_is_locked_out_at_once() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let demo = app.demo().await;
    let person = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let me = person.get_me().send().await.unwrap().into_inner();

    let users = staff.list_users().send().await.unwrap().into_inner().items;
    assert!(users.iter().any(|u| u.id == me.id));
    let disabled = staff.disable_user().user_id(me.id).send().await.unwrap().into_inner();
    assert!(disabled.disabled);

    let refused = person.get_me().send().await.unwrap_err();
    assert_eq!(refused.http_status(), Some(401), "the cached token stops working at once: {refused}");
    let app_id = app.integrator_app("https://x.example/cb", "org:read", None).await.to_string();
    let request =
        provider_api_sdk::auth::authorization_url(&app.base_url, &app_id, "https://x.example/cb", &[]).unwrap();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
    form.extend([
        ("email".into(), demo.users[1].email.clone()),
        ("password".into(), demo.users[1].password.clone()),
        ("decision".into(), "allow".into()),
    ]);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = browser.post(app.url("/v1/oauth/authorize")).form(&form).send().await.unwrap();
    assert_eq!(sign_in.status(), 401, "a disabled account cannot sign in, even with the right password");

    let staff_me = staff.get_me().send().await.unwrap().into_inner();
    let self_disable = staff.disable_user().user_id(staff_me.id).send().await.unwrap_err();
    assert_eq!(self_disable.http_status(), Some(409));
}

#[tokio::test]
async fn a_registered_integrator_app_can_sign_people_in() {
    let app = TestApp::spawn().await;
    let staff = staff(&app).await;
    let demo = app.demo().await;

    let registered = staff
        .register_integrator_app()
        .body(
            NewIntegratorApp::builder()
                .name("Care Notes Online")
                .redirect_uris(vec!["https://care-notes.example/cb".to_owned()])
                .scopes(vec!["org:read".parse().unwrap()])
                .confidential(true),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let secret = registered.client_secret.expect("a confidential app gets a secret");
    let listed = staff.list_integrator_apps().send().await.unwrap().into_inner().items;
    assert!(listed.iter().any(|a| a.id == registered.app.id && a.confidential));

    let bad = staff
        .register_integrator_app()
        .body(
            NewIntegratorApp::builder()
                .name("Leaky")
                .redirect_uris(vec!["http://leaky.example/cb".to_owned()])
                .scopes(vec!["org:read".parse().unwrap()])
                .confidential(false),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.problem().unwrap().errors[0].pointer, "/redirect_uris", "http only for localhost");

    let app_id = registered.app.id.to_string();
    let request =
        provider_api_sdk::auth::authorization_url(&app.base_url, &app_id, "https://care-notes.example/cb", &[])
            .unwrap();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
    form.extend([
        ("email".into(), demo.users[0].email.clone()),
        ("password".into(), demo.users[0].password.clone()),
        ("decision".into(), "allow".into()),
    ]);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = browser.post(app.url("/v1/oauth/authorize")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
    let code = pairs.into_iter().find(|(k, _)| k == "code").unwrap().1;
    let tokens = provider_api_sdk::auth::exchange_code(
        &app.base_url,
        &app_id,
        Some(&secret),
        "https://care-notes.example/cb",
        &code,
        &request.pkce_verifier,
    )
    .await
    .unwrap();
    assert!(!tokens.access_token.is_empty());
}

#[tokio::test]
async fn a_staff_role_gives_nothing_through_an_application_without_the_staff_scope() {
    let app = TestApp::spawn().await;
    let email = "careful.staff@cqc.example";
    let roles: BTreeSet<StaffRole> = [StaffRole::StaffAdmin].into();
    provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        email,
        "Careful Staff",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let ordinary = app.integrator_app("https://ordinary.example/cb", "org:read", None).await.to_string();

    let tokens = app.sign_in_with(&ordinary, "https://ordinary.example/cb", email, "correct horse battery").await;
    let response = app.http.get(app.url("/v1/admin/users")).bearer_auth(&tokens.access_token).send().await.unwrap();

    let body = provider_api_tests::problem(response, 403).await;
    assert_eq!(body["permission"], "staff", "{body}");
}
