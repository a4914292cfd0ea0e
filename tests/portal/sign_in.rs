//! Signing in and out of the portal through the API's own authorization-code flow, the session cookie, choosing
//! an organisation, CSRF, token renewal, and "Your tasks".

use std::str::FromStr;

use provider_api_http::bootstrap::{DemoCredentials, DemoUser};
use provider_api_portal::sessions::Tokens;
use provider_api_sdk::idempotent;
use provider_api_sdk::types::{NewNotification, NotificationSubmission};
use provider_api_tests::TestApp;
use provider_api_tests::forms::valid;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use provider_api_tests::browser::Browser;

async fn portal() -> (TestApp, DemoCredentials) {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    (app, demo)
}

fn user<'a>(demo: &'a DemoCredentials, role: &str) -> &'a DemoUser {
    demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == role)).expect("a demo user with the role")
}

/// The tokens the portal keeps for the browser's sign-in.
async fn stored_tokens(app: &TestApp, browser: &Browser) -> Option<Tokens> {
    let session = stored_session(app, browser).await?;
    let sign_in = session.data["person"]["sign_in"].as_str()?.to_owned();
    app.portal.as_ref().unwrap().sessions().database().sign_in(&sign_in).await.unwrap()
}

/// Makes the portal's next page renew the person's access token, as if it were about to expire.
async fn expire_access_token(app: &TestApp, browser: &Browser) {
    let session = stored_session(app, browser).await.unwrap();
    let sign_in = session.data["person"]["sign_in"].as_str().unwrap().to_owned();
    let database = app.portal.as_ref().unwrap().sessions().database();
    let mut tokens = database.sign_in(&sign_in).await.unwrap().unwrap();
    tokens.access_expires_at = 0;
    assert!(database.renew_sign_in(&sign_in, &tokens).await.unwrap());
}

/// The session as the portal keeps it.
async fn stored_session(app: &TestApp, browser: &Browser) -> Option<Record> {
    let id = Id::from_str(&browser.session_id()?).ok()?;
    app.portal.as_ref().unwrap().sessions().load(&id).await.unwrap()
}

#[tokio::test]
async fn a_person_signs_in_through_the_apis_page_and_lands_on_their_tasks() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);

    let start = browser.get("/").await;
    assert!(start.headers.get(SET_COOKIE).is_none(), "looking at the start page sets no cookie");

    let to_api = browser.get("/sign-in").await;
    assert_eq!(to_api.status, StatusCode::SEE_OTHER);
    let location = to_api.location().unwrap();
    assert!(location.starts_with(&format!("{}/v1/oauth/authorize?", app.base_url)), "{location}");
    for parameter in ["code_challenge_method=S256", "response_type=code", "state="] {
        assert!(location.contains(parameter), "{location} lacks {parameter}");
    }
    let cookie = to_api.headers[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("portal_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure") && !cookie.contains("Domain"), "plain http on loopback: {cookie}");
    let before = browser.session_id().unwrap();

    let tasks = browser.sign_in_from(location, &drafter.email, &drafter.password).await;
    assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
    assert!(tasks.url.ends_with("/dashboard"), "{}", tasks.url);
    assert_eq!(tasks.h1(), "Your tasks");
    let signed_in = tasks.texts("p").join(" ");
    assert!(signed_in.contains("Signed in as"), "{signed_in}");
    assert_ne!(browser.session_id().unwrap(), before, "signing in gives the session a new id");
    let session = stored_session(&app, &browser).await.expect("the session is kept server-side");
    assert!(session.data.contains_key("person"));
    assert!(!session.data.contains_key("pending_sign_in"), "the sign-in's state is spent");
    let row = app.portal.as_ref().unwrap().sessions().count().await.unwrap();
    assert!(row >= 1);
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_brought_back_but_never_elsewhere() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");

    let browser = Browser::new(&app.base_url);
    let refused = browser.get("/dashboard").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location(), Some("/sign-in?return_to=%2Fdashboard"));

    let back = browser.sign_in_from("/sign-in?return_to=%2Fcookies", &drafter.email, &drafter.password).await;
    assert!(back.url.ends_with("/cookies"), "returned where they were going: {}", back.url);

    // Browsers drop tabs and newlines from a URL, so "/\t/evil.example" would become "//evil.example".
    for elsewhere in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
    ] {
        let browser = Browser::new(&app.base_url);
        let query = serde_urlencoded::to_string([("return_to", elsewhere)]).unwrap();
        let landed = browser.sign_in_from(&format!("/sign-in?{query}"), &drafter.email, &drafter.password).await;
        assert!(landed.url.ends_with("/dashboard"), "{elsewhere} led to {}", landed.url);
    }
}

#[tokio::test]
async fn cancelling_or_a_forged_callback_signs_nobody_in() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");

    let browser = Browser::new(&app.base_url);
    let page = browser.follow(browser.get("/sign-in").await).await;
    let cancelled = browser.follow(browser.submit(&page, "form", &[("decision", "deny")]).await).await;
    assert_eq!(cancelled.status, StatusCode::BAD_REQUEST);
    assert_eq!(cancelled.h1(), "You are not signed in");
    assert!(cancelled.body.contains("You cancelled signing in."));

    // A callback with another sign-in's state (as a forged link would bring) is refused, code or not.
    let browser = Browser::new(&app.base_url);
    browser.get("/sign-in").await;
    let forged = browser.get("/auth/callback?code=pac_x&state=not-the-state").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert_eq!(forged.h1(), "You are not signed in");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::SEE_OTHER, "still signed out");

    // Nor does a callback with no sign-in started in this browser.
    let stranger = Browser::new(&app.base_url);
    let unexpected = stranger.get("/auth/callback?code=pac_x&state=s").await;
    assert_eq!(unexpected.status, StatusCode::BAD_REQUEST);
    let _ = drafter;
}

#[tokio::test]
async fn people_in_several_organisations_choose_which_they_work_for() {
    let (app, demo) = portal().await;
    let other = app.demo().await;
    let (email, password) = app.member(demo.organisation_id, "drafter", None).await;
    let user = app.store.user_by_email(&provider_api_core::accounts::normalise_email(&email)).await.unwrap().unwrap();
    app.store
        .put_membership(&provider_api_core::accounts::Membership {
            user_id: user.id,
            organisation_id: other.organisation_id,
            roles: "submitter".parse().unwrap(),
            location_ids: None,
            created_at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();

    let browser = Browser::new(&app.base_url);
    let choose = browser.sign_in(&email, &password).await;
    assert!(choose.url.contains("/choose-organisation"), "{}", choose.url);
    assert_eq!(choose.h1(), "Which organisation are you working for?");
    assert_eq!(choose.texts("input[type=radio]").len(), 2, "{}", choose.body);

    let unanswered = browser.submit(&choose, "form", &[]).await;
    assert_eq!(unanswered.status, StatusCode::UNPROCESSABLE_ENTITY);
    let title = unanswered.texts("title")[0].clone();
    assert!(title.starts_with("Error: "), "{title}");
    let summary = unanswered.texts(".govuk-error-summary a");
    assert_eq!(summary, ["Select the organisation you are working for"]);
    let html = unanswered.html();
    let link = html.select(&scraper::Selector::parse(".govuk-error-summary a").unwrap()).next().unwrap();
    let target = link.value().attr("href").unwrap().trim_start_matches('#');
    assert!(
        html.select(&scraper::Selector::parse(&format!("#{target}")).unwrap()).next().is_some(),
        "the summary links to the question"
    );

    let not_theirs = browser.submit(&choose, "form", &[("organisation", &uuid::Uuid::new_v4().to_string())]).await;
    assert_eq!(not_theirs.status, StatusCode::UNPROCESSABLE_ENTITY, "an organisation they are not in is no choice");

    let chosen = browser
        .follow(browser.submit(&choose, "form", &[("organisation", &other.organisation_id.to_string())]).await)
        .await;
    assert_eq!(chosen.h1(), "Your tasks");
    let other_name = app.store.organisation(other.organisation_id).await.unwrap().unwrap().name;
    assert!(chosen.texts("p").join(" ").contains(&other_name), "the page says which organisation");
}

#[tokio::test]
async fn a_form_without_its_token_changes_nothing_and_says_what_to_do() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&drafter.email, &drafter.password).await;

    for token in [None, Some("forged")] {
        let fields: Vec<(String, String)> =
            token.map(|t| vec![("csrf_token".to_owned(), t.to_owned())]).unwrap_or_default();
        let refused = browser.post("/sign-out", &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{token:?}");
        assert_eq!(refused.h1(), "This form has expired");
    }
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn signing_out_revokes_the_sign_in_at_the_api() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&drafter.email, &drafter.password).await;
    let session = stored_session(&app, &browser).await.unwrap();
    let Tokens { refresh_token, access_token, .. } = stored_tokens(&app, &browser).await.unwrap();

    let confirm = browser.get("/sign-out").await;
    assert_eq!(confirm.h1(), "Are you sure you want to sign out?");
    let signed_out = browser.submit(&confirm, "form", &[]).await;
    assert_eq!(signed_out.status, StatusCode::OK);
    assert_eq!(signed_out.h1(), "You have signed out");

    let portal = app.portal.as_ref().unwrap().config();
    let reused = provider_api_sdk::auth::App::new(&app.base_url, &portal.client_id, Some(&portal.client_secret))
        .refresh(&refresh_token)
        .await;
    assert!(reused.is_err(), "the sign-in's refresh token no longer works");
    let me = app.http.get(app.url("/v1/me")).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(me.status(), 401, "nor does its access token, at once");
    assert!(stored_session(&app, &browser).await.is_none(), "the session is gone");
    let sign_ins = app.portal.as_ref().unwrap().sessions().database();
    let kept = sign_ins.sign_in(session.data["person"]["sign_in"].as_str().unwrap()).await.unwrap();
    assert!(kept.is_none(), "and its tokens");
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_opened_together_renew_the_access_token_once_and_stay_signed_in() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&drafter.email, &drafter.password).await;

    for round in 0..3 {
        // The access token is about to expire: the next pages must renew it.
        let before = stored_tokens(&app, &browser).await.unwrap().refresh_token;
        expire_access_token(&app, &browser).await;

        let pages = futures_util::future::join_all((0..6).map(|_| browser.get("/dashboard"))).await;
        for page in &pages {
            assert_eq!(page.status, StatusCode::OK, "round {round}: {}", page.body);
        }
        let after = stored_tokens(&app, &browser).await.unwrap();
        assert_ne!(after.refresh_token, before, "round {round}: renewed");
    }
}

#[tokio::test]
async fn your_tasks_lists_drafts_and_what_was_sent_with_counts() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let form = valid("serious_injury");
    let location_id = Some(demo.location_id);
    let draft = NewNotification {
        location_id,
        follows_id: None,
        content: serde_json::from_value(form.clone()).unwrap(),
        attachments: Vec::new(),
    };
    idempotent::with_key(|key| {
        client
            .create_notification()
            .organisation_id(demo.organisation_id)
            .idempotency_key(key)
            .body(draft.clone())
            .send()
    })
    .await
    .unwrap();
    let submission = NotificationSubmission {
        location_id,
        follows_id: None,
        content: serde_json::from_value(form).unwrap(),
        attachments: Vec::new(),
    };
    let sent = idempotent::with_key(|key| {
        client
            .submit_new_notification()
            .organisation_id(demo.organisation_id)
            .idempotency_key(key)
            .body(submission.clone())
            .send()
    })
    .await
    .unwrap()
    .into_inner();

    let browser = Browser::new(&app.base_url);
    let tasks = browser.sign_in(&drafter.email, &drafter.password).await;
    let headings = tasks.texts("main h2");
    assert_eq!(
        headings,
        ["Drafts waiting to be sent (1)", "Questions from the Care Quality Commission (0)", "Sent recently (1)"]
    );
    let cells = tasks.texts("main li").join(" | ");
    assert!(cells.contains("Serious injury"), "the type's title, not its code: {cells}");
    assert!(cells.contains(&sent.receipt.as_ref().unwrap().reference), "{cells}");
    assert!(tasks.body.contains("There are no questions waiting for an answer."));
}

#[tokio::test]
async fn a_hundred_people_sign_in_at_once_each_limited_and_audited_at_their_own_address() {
    // A load balancer in front (127.0.0.1, trusted) says where each person is. The portal's own token requests
    // all come from its one address: the API limits them as the portal's client, and the portal passes each
    // person's address on, so the audit trail names the person's, not the portal's.
    let app = TestApp::spawn_with_portal(|config| config.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let demo = app.demo().await;
    let mut people = Vec::new();
    for _ in 0..100 {
        people.push(app.member(demo.organisation_id, "drafter", None).await);
    }
    let started = std::time::Instant::now();
    let signed_in = futures_util::future::join_all(people.iter().enumerate().map(|(i, (email, password))| {
        let address: std::net::IpAddr = format!("198.51.100.{}", i + 1).parse().unwrap();
        let browser = Browser::at(&app.base_url, address);
        async move { browser.sign_in(email, password).await }
    }))
    .await;
    let took = started.elapsed();
    for (i, page) in signed_in.iter().enumerate() {
        assert_eq!(page.status, StatusCode::OK, "person {i}: {}", page.body);
        assert_eq!(page.h1(), "Your tasks", "person {i}");
    }
    eprintln!("100 concurrent sign-ins through the portal: {took:?}");

    let exchanges = loop {
        let entries = app.store.audit_entries(&Default::default(), 0, 10_000).await.unwrap();
        let exchanges: Vec<String> = entries
            .into_iter()
            .filter(|e| e.action == "issue_token" && e.actor_client == Some(provider_api::LOCAL_PORTAL_APP_ID))
            .filter_map(|e| e.detail)
            .collect();
        if exchanges.len() >= 100 || started.elapsed() > std::time::Duration::from_secs(30) {
            break exchanges;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(exchanges.len(), 100, "one code exchange each");
    let addresses: std::collections::BTreeSet<&str> = exchanges
        .iter()
        .map(|detail| detail.split('"').find(|part| part.starts_with("198.51.100.")).expect("the person's address"))
        .collect();
    assert_eq!(addresses.len(), 100, "each exchange is recorded at its person's address");
}

/// Two tabs: one page loads the session, another renews the tokens (spending the refresh token), then the
/// first page finishes and saves the session it loaded. The spent refresh token must not come back: the API
/// takes a spent refresh token for a thief's and ends the whole sign-in, so the person would be signed out
/// and lose what they were doing at the next renewal.
#[tokio::test]
async fn a_page_finishing_after_a_renewal_does_not_put_back_the_spent_refresh_token() {
    let (app, demo) = portal().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&drafter.email, &drafter.password).await;
    let sessions = app.portal.as_ref().unwrap().sessions();

    let loaded_by_the_slow_page = stored_session(&app, &browser).await.unwrap();
    expire_access_token(&app, &browser).await;
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK, "the other tab renews");
    sessions.save(&loaded_by_the_slow_page).await.unwrap();

    expire_access_token(&app, &browser).await;
    let later = browser.get("/dashboard").await;
    assert_eq!(later.status, StatusCode::OK, "still signed in at the next renewal: {:?}", later.location());
    assert_eq!(later.h1(), "Your tasks");
}

/// The portal's token requests share one allowance at the API (they all come from the portal). Someone
/// looping a junk sign-in callback must not spend it for everyone: with a trusted proxy naming them, the API
/// charges their own address too, which runs out first.
#[tokio::test]
async fn junk_sign_in_callbacks_from_one_address_do_not_spend_everyones_allowance() {
    let app = TestApp::spawn_with_portal(|config| {
        config.trusted_proxies = vec!["127.0.0.1".into()];
        config.rate_limit_sign_in_per_address = std::num::NonZeroU32::new(10).unwrap();
        config.rate_limit_sign_in_per_client = std::num::NonZeroU32::new(20).unwrap();
    })
    .await;
    let demo = app.demo().await;
    let drafter = user(&demo, "drafter");

    let attacker = Browser::at(&app.base_url, "203.0.113.9".parse().unwrap());
    for _ in 0..30 {
        let to_api = attacker.get("/sign-in").await;
        let location = to_api.location().unwrap().to_owned();
        let query = location.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        let state = pairs.into_iter().find(|(name, _)| name == "state").unwrap().1;
        let callback = serde_urlencoded::to_string([("code", "pac_junk"), ("state", state.as_str())]).unwrap();
        let junk = attacker.get(&format!("/auth/callback?{callback}")).await;
        assert_ne!(junk.status, StatusCode::OK);
    }

    let person = Browser::at(&app.base_url, "198.51.100.7".parse().unwrap());
    let tasks = person.sign_in(&drafter.email, &drafter.password).await;
    assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
    assert_eq!(tasks.h1(), "Your tasks");
}
