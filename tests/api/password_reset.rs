//! "Forgot your password?" by email: a single-use link that expires, which ends every sign-in when used, and
//! asking that says nothing about who has an account. Through the SDK for software, and through the pages a
//! person reaches from the sign-in page (as a browser, the HTML read with a parser).

use provider_api_sdk::ProblemExt;
use provider_api_sdk::auth::authorization_url;
use provider_api_sdk::types::{NewPassword, PasswordResetRequest};
use provider_api_tests::TestApp;
use provider_api_tests::smtp::SmtpSink;
use scraper::{Html, Selector};

const REDIRECT: &str = "https://care-notes.example/callback";

async fn app_with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(move |config| config.smtp_url = Some(url.into())).await;
    (app, sink)
}

/// The link in a reset email, and its secret.
fn link_in(email: &provider_api_tests::smtp::Received) -> (String, String) {
    let link = email.link_to("/v1/oauth/password-reset/new?token=");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    (link, token)
}

/// A browser: it asks for HTML and does not follow redirects.
fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(headers).build().unwrap()
}

fn text(html: &Html, selector: &str) -> String {
    html.select(&Selector::parse(selector).unwrap())
        .next()
        .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_person_resets_their_password_by_email_and_every_sign_in_ends() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let drafter = &demo.users[1];
    let before = app.sign_in(&drafter.email, &drafter.password).await;

    app.client
        .request_password_reset()
        .body(PasswordResetRequest::builder().email(drafter.email.to_uppercase()))
        .send()
        .await
        .expect("202");
    let email = sink.message_to(&drafter.email).await;
    assert!(email.data.contains("Subject: Reset your password"), "{}", email.data);
    let (link, token) = link_in(&email);
    assert!(link.starts_with(&app.base_url), "{link}");
    assert!(token.starts_with("paw_"));

    let page = browser().get(&link).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200, "the link opens the page to choose a password");

    let short = app
        .client
        .reset_password()
        .body(NewPassword::builder().token(token.clone()).password("short"))
        .send()
        .await
        .unwrap_err();
    let problem = short.problem().expect("a problem");
    assert_eq!(problem.status, 422);
    assert_eq!(problem.errors[0].pointer, "/password");

    let new_password = "a brand new long passphrase";
    app.client
        .reset_password()
        .body(NewPassword::builder().token(token.clone()).password(new_password))
        .send()
        .await
        .expect("204: a refused password left the link usable");

    let again = app
        .client
        .reset_password()
        .body(NewPassword::builder().token(token.clone()).password("another long passphrase"))
        .send()
        .await
        .unwrap_err();
    let again = again.problem().unwrap();
    assert_eq!((again.status, again.errors[0].pointer.as_str()), (422, "/token"), "the link works once");
    assert_eq!(again.errors[0].code, "invalid_token");

    let refresh = app
        .http
        .post(app.url("/v1/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", before.refresh_token.as_str()),
            ("client_id", &app.test_app_id().unwrap().to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 400, "the sign-in from before the reset has ended");
    let request = authorization_url(
        &app.base_url,
        &app.test_app_id().unwrap().to_string(),
        "https://tests.example/callback",
        &[],
    )
    .unwrap();
    let wrong = app.submit_sign_in(&request, &drafter.email, &drafter.password).await;
    assert_eq!(wrong.status(), 401, "the old password no longer works");
    app.sign_in(&drafter.email, new_password).await;
}

#[tokio::test]
async fn asking_says_nothing_about_who_has_an_account_and_cannot_flood_an_inbox() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let drafter = &demo.users[1];

    for email in ["nobody@nowhere.example", drafter.email.as_str()] {
        let response = app
            .http
            .post(app.url("/v1/password-resets"))
            .json(&serde_json::json!({"email": email}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{email}");
        assert_eq!(response.text().await.unwrap(), "", "{email}: the same empty answer");
    }
    sink.message_to(&drafter.email).await;

    let malformed =
        app.client.request_password_reset().body(PasswordResetRequest::builder().email("not an email")).send().await;
    assert_eq!(malformed.unwrap_err().problem().unwrap().errors[0].pointer, "/email");

    for _ in 0..5 {
        app.client
            .request_password_reset()
            .body(PasswordResetRequest::builder().email(drafter.email.clone()))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let sent = sink.messages_to(&drafter.email);
    assert!(sent <= 4, "a few emails an account, then a wait: {sent} were sent");
    assert_eq!(sink.messages_to("nobody@nowhere.example"), 0);
}

#[tokio::test]
async fn the_sign_in_page_leads_to_a_reset_and_back_to_itself() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let drafter = &demo.users[1];
    let app_id = app.integrator_app(REDIRECT, "org:read", None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();

    let sign_in = Html::parse_document(
        &browser().get(&request.url).header("accept", "text/html").send().await.unwrap().text().await.unwrap(),
    );
    let forgot = sign_in
        .select(&Selector::parse("a[href^='/v1/oauth/password-reset']").unwrap())
        .next()
        .expect("a \"Forgot your password?\" link")
        .value()
        .attr("href")
        .unwrap()
        .to_owned();

    let page = browser().get(app.url(&forgot)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = Html::parse_document(&page.text().await.unwrap());
    assert_eq!(text(&page, "h1"), "Reset your password");
    let return_to = page
        .select(&Selector::parse("input[name=return_to]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    assert!(return_to.starts_with("/v1/oauth/authorize?") && return_to.contains(&app_id), "{return_to}");

    let empty = browser()
        .post(app.url("/v1/oauth/password-reset"))
        .form(&[("email", ""), ("return_to", &return_to)])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 422);
    let empty = Html::parse_document(&empty.text().await.unwrap());
    assert!(text(&empty, "title").starts_with("Error: "));
    assert_eq!(
        empty.select(&Selector::parse(".govuk-error-summary a").unwrap()).next().unwrap().value().attr("href"),
        Some("#email")
    );

    let sent = browser()
        .post(app.url("/v1/oauth/password-reset"))
        .form(&[("email", drafter.email.as_str()), ("return_to", &return_to)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    assert_eq!(text(&Html::parse_document(&sent.text().await.unwrap()), "h1"), "Check your email");

    let (_, token) = link_in(&sink.message_to(&drafter.email).await);
    let changed = browser()
        .post(app.url("/v1/oauth/password-reset/new"))
        .form(&[("token", token.as_str()), ("password", "a brand new long passphrase")])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed = Html::parse_document(&changed.text().await.unwrap());
    assert_eq!(text(&changed, "h1"), "Your password has been changed");
    let back =
        changed.select(&Selector::parse("a.govuk-button").unwrap()).next().unwrap().value().attr("href").unwrap();
    assert_eq!(back, return_to, "back to the very sign-in page they left");

    let spent = browser()
        .get(app.url(&format!("/v1/oauth/password-reset/new?token={token}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status(), 400);
    assert_eq!(text(&Html::parse_document(&spent.text().await.unwrap()), "h1"), "This link has expired");
}
