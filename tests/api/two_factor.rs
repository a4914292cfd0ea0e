//! Two-factor sign-in: set up on the sign-in pages (a QR code and the key in text), recovery codes shown once,
//! codes never accepted twice, wrong codes throttled, every member of staff and an organisation's admins and
//! submitters (when it requires it) made to use one, and a lost one reset by staff.

use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::NewTwoFactorPolicy;
use provider_api_tests::TestApp;
use provider_api_tests::second_factor::{input_value, recovery_codes, text_of};
use uuid::Uuid;

const REDIRECT: &str = "https://care-notes.example/callback";

/// One browser's sign-in, page by page.
struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    request: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let app_id = app.first_party_app(REDIRECT, "org:read org:admin notifications:read").await.to_string();
        let url = provider_api_sdk::auth::authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap().url;
        let request = serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, http, request }
    }

    async fn post(&self, extra: &[(&str, &str)]) -> (u16, String) {
        let mut form = self.request.clone();
        form.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let response = self
            .http
            .post(self.app.url("/v1/oauth/authorize"))
            .header("accept", "text/html")
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (status, location.unwrap_or_default() + &response.text().await.unwrap())
    }

    async fn password(&self, email: &str, password: &str) -> (u16, String) {
        self.post(&[("email", email), ("password", password), ("decision", "allow")]).await
    }

    /// The form of `page` answered with `code`.
    async fn answer(&self, page: &str, code: &str) -> (u16, String) {
        let step = input_value(page, "step").expect("a second-factor page");
        let pending = input_value(page, "pending").expect("its pending sign-in");
        self.post(&[("step", &step), ("pending", &pending), ("code", code), ("decision", "allow")]).await
    }
}

async fn staff_member(app: &TestApp) -> (String, String) {
    let email = format!("staff.{}@cqc.example", Uuid::new_v4().simple());
    let roles = [provider_api_core::capability::StaffRole::StaffAdmin].into();
    let now = time::OffsetDateTime::now_utc();
    provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        &email,
        "Sam Staff",
        "correct horse battery",
        &roles,
        now,
    )
    .await
    .unwrap();
    (email, "correct horse battery".to_owned())
}

fn code(secret: &[u8], step: i64) -> String {
    provider_api_http::auth::two_factor::code_for_step(secret, step)
}

fn step_now() -> i64 {
    provider_api_http::auth::two_factor::step_at(time::OffsetDateTime::now_utc())
}

#[tokio::test]
async fn staff_set_up_a_second_factor_at_their_first_sign_in_and_sign_in_with_it_after() {
    let app = TestApp::spawn().await;
    let (email, password) = staff_member(&app).await;
    let browser = Browser::new(&app).await;

    let (status, enrol) = browser.password(&email, &password).await;
    assert_eq!(status, 200, "{enrol}");
    assert!(enrol.contains("Set up two-factor authentication"), "{enrol}");
    assert!(
        enrol.contains(r#"src="data:image/svg+xml;base64,"#) && enrol.contains("alt=\"QR code"),
        "a QR code, described"
    );
    assert!(enrol.contains(&email), "the account is named");
    let key = text_of(&enrol, "setup-key").expect("the key in text, for people who cannot scan");
    let secret = provider_api_http::auth::two_factor::secret_from_key(&key).unwrap();
    assert!(!enrol.contains(r#"name="code" value"#));

    let (status, wrong) = browser.answer(&enrol, "000000").await;
    assert_eq!(status, 401);
    assert!(wrong.contains("There is a problem") && wrong.contains("The code is wrong"), "{wrong}");
    let now = step_now();
    let (status, shown) = browser.answer(&wrong, &code(&secret, now)).await;
    assert_eq!(status, 200, "{shown}");
    let codes = recovery_codes(&shown);
    assert_eq!(codes.len(), 10, "{shown}");
    assert!(shown.contains("You will not be shown these codes again"));
    let (status, location) = browser.answer(&shown, "").await;
    assert_eq!(status, 303, "{location}");
    assert!(location.starts_with(REDIRECT) && location.contains("code=pac_"), "{location}");

    // Next time: the password, then a code. A recovery code works once; the app's code once.
    let (status, verify) = browser.password(&email, &password).await;
    assert_eq!(status, 200);
    assert!(verify.contains("Enter your security code") && verify.contains(r#"autocomplete="one-time-code""#));
    let (status, _) = browser.answer(&verify, &codes[3].to_uppercase()).await;
    assert_eq!(status, 303, "a recovery code, however it is typed");
    let (_, verify) = browser.password(&email, &password).await;
    let (status, again) = browser.answer(&verify, &codes[3]).await;
    assert_eq!(status, 401, "a recovery code is spent");
    let (status, _) = browser.answer(&again, &code(&secret, now)).await;
    assert_eq!(status, 401, "the code used to set up is spent too");
    let (status, _) = browser.answer(&again, &code(&secret, now + 1)).await;
    assert_eq!(status, 303, "the app's next code works");

    // The audit writer appends in batches: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let filter = provider_api_core::audit::Filter::default();
    let entries = app.store.audit_entries(&filter, 0, 1000).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"two_factor_enrolled") && actions.contains(&"recovery_code_used"), "{actions:?}");
}

#[tokio::test]
async fn wrong_codes_are_throttled_and_a_sign_in_carries_its_page_for_its_application_only() {
    let app = TestApp::spawn().await;
    let (email, password) = staff_member(&app).await;
    app.sign_in(&email, &password).await;
    let browser = Browser::new(&app).await;
    let (_, mut page) = browser.password(&email, &password).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, next) = browser.answer(&page, "123456").await;
        statuses.push(status);
        if status != 429 {
            page = next;
        }
    }
    assert!(statuses.starts_with(&[401; 5]) && statuses.ends_with(&[429]), "{statuses:?}");

    // The page's pending sign-in is for the application it began with.
    let other = Browser::new(&app).await;
    let (_, verify) = browser.password(&email, &password).await;
    let (status, lapsed) = other.answer(&verify, "123456").await;
    assert_eq!(status, 400, "{lapsed}");
    assert!(lapsed.contains("Your sign-in has timed out"));

    // Software that posts the form is told to use a browser.
    let mut form = browser.request.clone();
    form.extend([("email".into(), email.clone()), ("password".into(), password), ("decision".into(), "allow".into())]);
    let answer = app.http.post(app.url("/v1/oauth/authorize")).form(&form).send().await.unwrap();
    assert_eq!(provider_api_tests::problem(answer, 401).await["code"], "second_factor_required");
}

#[tokio::test]
async fn an_organisation_requires_it_of_its_admins_and_submitters_and_staff_reset_a_lost_one() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let before = admin.get_two_factor_policy().organisation_id(demo.organisation_id).send().await.unwrap();
    assert!(!before.required);
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let refused = software
        .set_two_factor_policy()
        .organisation_id(demo.organisation_id)
        .body(NewTwoFactorPolicy { required: false })
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.http_status(), Some(403), "software cannot change how people sign in");
    let set = admin
        .set_two_factor_policy()
        .organisation_id(demo.organisation_id)
        .body(NewTwoFactorPolicy { required: true })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(set.required && set.required_since.is_some());

    let browser = Browser::new(&app).await;
    let (status, _) = browser.password(&demo.users[1].email, &demo.users[1].password).await;
    assert_eq!(status, 303, "a drafter signs in with a password alone");
    let (status, page) = browser.password(&demo.users[2].email, &demo.users[2].password).await;
    assert_eq!(status, 200, "a submitter sets one up");
    assert!(page.contains("Set up two-factor authentication"));
    app.sign_in(&demo.users[2].email, &demo.users[2].password).await;

    // Their phone is lost with their codes: staff reset it, and the next sign-in sets up a new one.
    let (staff_email, staff_password) = staff_member(&app).await;
    let staff = app.sdk_for_person(&staff_email, &staff_password).await;
    let submitter_id = admin
        .list_members()
        .organisation_id(demo.organisation_id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .items
        .into_iter()
        .find(|m| m.email == demo.users[2].email)
        .unwrap()
        .user_id;
    staff.reset_two_factor().user_id(submitter_id).send().await.unwrap();
    staff.reset_two_factor().user_id(submitter_id).send().await.expect("resetting again is done already");
    let nobody = staff.reset_two_factor().user_id(Uuid::new_v4()).send().await.unwrap_err();
    assert_eq!(nobody.http_status(), Some(404));
    let (status, page) = browser.password(&demo.users[2].email, &demo.users[2].password).await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up two-factor authentication"), "a new one is set up");
}

/// Two sign-ins while setting up (a second tab, a retry) show the same key, so whichever page is answered the
/// authenticator confirmed is the one the person added to their app.
#[tokio::test]
async fn setting_up_in_two_tabs_shows_one_key_and_confirms_it() {
    let app = TestApp::spawn().await;
    let (email, password) = staff_member(&app).await;
    let browser = Browser::new(&app).await;
    let (_, first) = browser.password(&email, &password).await;
    let (_, second) = browser.password(&email, &password).await;
    let key = text_of(&first, "setup-key").unwrap();
    assert_eq!(text_of(&second, "setup-key").unwrap(), key, "the second tab shows the same key");
    let secret = provider_api_http::auth::two_factor::secret_from_key(&key).unwrap();
    let (status, _) = browser.answer(&first, &code(&secret, step_now())).await;
    assert_eq!(status, 200, "the first tab's code confirms the key both show");
}

/// A page's pending sign-in finishes only the authorization request it began with: replayed with another
/// PKCE challenge (to mint a code someone else can exchange), it is refused.
#[tokio::test]
async fn a_pending_sign_in_finishes_only_its_own_authorization_request() {
    let app = TestApp::spawn().await;
    let (email, password) = staff_member(&app).await;
    let browser = Browser::new(&app).await;
    let (_, enrol) = browser.password(&email, &password).await;
    let key = text_of(&enrol, "setup-key").unwrap();
    let secret = provider_api_http::auth::two_factor::secret_from_key(&key).unwrap();
    let (_, shown) = browser.answer(&enrol, &code(&secret, step_now())).await;

    let mut other = Browser::new(&app).await;
    other.request = browser.request.clone();
    for (name, value) in &mut other.request {
        if name == "code_challenge" {
            *value = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into();
        }
    }
    let (status, page) = other.answer(&shown, "").await;
    assert_eq!(status, 400, "{page}");
    let (status, _) = browser.answer(&shown, "").await;
    assert_eq!(status, 303, "its own request finishes");
}

/// Only a person in the regulator's own portal (a first-party session) changes how an organisation's people
/// sign in: a third party's application the admin consented to cannot lift the requirement.
#[tokio::test]
async fn a_third_party_application_cannot_change_the_second_factor_rule() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let integrator = app.integrator_app(REDIRECT, "org:read org:admin", None).await.to_string();
    let tokens = app.sign_in_with(&integrator, REDIRECT, &demo.users[0].email, &demo.users[0].password).await;
    let answer = app
        .http
        .put(app.url(&format!("/v1/organisations/{}/two-factor-policy", demo.organisation_id)))
        .bearer_auth(&tokens.access_token)
        .json(&serde_json::json!({"required": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
}
