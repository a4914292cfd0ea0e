//! After sending: the list of every notification (filters, pages), a notification's own page (what happened
//! and who did it, what was sent), the receipt to download, and the regulator's question answered in the portal.

use provider_api_http::bootstrap::DemoCredentials;
use provider_api_sdk::types::NewInformationRequest;
use provider_api_tests::TestApp;
use provider_api_tests::browser::Browser;
use provider_api_tests::forms::valid;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn user<'a>(demo: &'a DemoCredentials, role: &str) -> &'a provider_api_http::bootstrap::DemoUser {
    demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == role)).unwrap()
}

async fn signed_in(app: &TestApp, demo: &DemoCredentials, role: &str) -> Browser {
    let browser = Browser::new(&app.base_url);
    let person = user(demo, role);
    let landed = browser.sign_in(&person.email, &person.password).await;
    assert_eq!(landed.status, StatusCode::OK, "{}", landed.body);
    browser
}

fn links(page: &provider_api_tests::browser::Page, selector: &str) -> Vec<String> {
    let html = page.html();
    let selector = scraper::Selector::parse(selector).unwrap();
    html.select(&selector).filter_map(|a| a.value().attr("href").map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_list_filters_by_status_and_type_and_pages_through_every_notification() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let other = app.demo().await;
    for _ in 0..23 {
        app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    }
    let abuse = [app.demo_sent(&demo, valid("abuse")).await, app.demo_sent(&demo, valid("abuse")).await];
    let theirs = app.demo_sent(&other, valid("abuse")).await;
    let browser = signed_in(&app, &demo, "drafter").await;

    let first = browser.get("/notifications").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.h1(), "Notifications");
    let rows = links(&first, "main ul.govuk-list a.govuk-link");
    assert_eq!(rows.len(), 20, "a page holds twenty");
    assert!(!rows.iter().any(|r| r.contains(&theirs.to_string())), "never another organisation's");
    assert!(links(&first, ".govuk-pagination__prev a").is_empty(), "no page before the first");
    let next = links(&first, ".govuk-pagination__next a");
    assert_eq!(next.len(), 1, "{}", first.body);

    let second = browser.get(&next[0]).await;
    assert_eq!(second.h1(), "Notifications (page 2)");
    let rest = links(&second, "main ul.govuk-list a.govuk-link");
    assert_eq!(rest.len(), 5, "the other five");
    assert!(rows.iter().all(|r| !rest.contains(r)), "no notification on both pages");
    assert!(links(&second, ".govuk-pagination__next a").is_empty(), "no page after the last");
    let back = browser.get(&links(&second, ".govuk-pagination__prev a")[0]).await;
    assert_eq!(links(&back, "main ul.govuk-list a.govuk-link"), rows, "previous is the first page again");

    let sent = browser.get("/notifications?status=submitted").await;
    let told_apart = sent.texts("main ul.govuk-list li").join(" ");
    assert!(told_apart.contains("Your reference INC-2026-0042"), "the provider's own reference: {told_apart}");
    assert!(told_apart.contains("CQC reference N-"), "{told_apart}");
    let mut listed = links(&sent, "main ul.govuk-list a.govuk-link");
    listed.sort();
    let mut expected: Vec<String> = abuse.iter().map(|id| format!("/notifications/{id}")).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(sent.attr("#status option[selected]", "value").as_deref(), Some("submitted"), "the filter stays set");
    let by_type = browser.get("/notifications?type=serious_injury&status=").await;
    assert_eq!(links(&by_type, "main ul.govuk-list a.govuk-link").len(), 20);
    let none = browser.get("/notifications?status=closed").await;
    assert!(none.texts("p").contains(&"No notifications match these filters.".to_owned()), "{}", none.body);

    let forged = browser.get("/notifications?cursor=not-a-cursor&earlier=").await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER, "a cursor that is not the API's starts again");
    assert_eq!(forged.location(), Some("/notifications"));
    let unknown = browser.get("/notifications?status=nonsense").await;
    assert_eq!(unknown.status, StatusCode::OK, "a status the filter does not offer is no filter");
}

#[tokio::test]
async fn the_regulators_question_is_answered_in_the_portal_and_the_record_shows_who_did_what() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let other = app.demo().await;
    let sent = app.demo_sent(&demo, valid("serious_injury")).await;
    let triage = app.triage_staff().await;
    triage.acknowledge_notification().notification_id(sent).send().await.unwrap();
    let due = serde_json::from_value::<chrono::NaiveDate>(json!("2099-01-31")).unwrap();
    let request = NewInformationRequest::builder().message("Which member of staff found them?").due_on(due);
    triage.request_information().notification_id(sent).body(request).send().await.unwrap();

    let drafter = signed_in(&app, &demo, "drafter").await;
    let tasks = drafter.get("/dashboard").await;
    assert!(links(&tasks, "main a").contains(&format!("/notifications/{sent}")), "the question is a task");

    let record = drafter.get(&format!("/notifications/{sent}")).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    let text = record.texts("main").join(" ");
    for expected in [
        "Question to answer",
        "Which member of staff found them?",
        "Answer by 31 January 2099",
        "Received by the Care Quality Commission",
        "Sent by your organisation's software (an API client)",
    ] {
        assert!(text.contains(expected), "the record says {expected:?}: {text}");
    }
    assert!(record.texts("title")[0].contains("N-"), "the title names the reference");

    let empty = drafter.submit(&record, "form[action$='/respond']", &[("answer", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.texts("title")[0].starts_with("Error: "));
    assert_eq!(empty.texts(".govuk-error-summary a"), ["Enter your answer"]);
    assert_eq!(links(&empty, ".govuk-error-summary a"), ["#answer"]);
    assert!(empty.attr("#answer", "aria-describedby").unwrap().contains("answer-error"));
    let unchanged = triage.staff_get_notification().notification_id(sent).send().await.unwrap().into_inner();
    assert_eq!(unchanged.status.to_string(), "information_requested", "a refused answer changes nothing");

    let typed = "Sam, the night nurse.\nShe called <b>999</b>.";
    let answered = drafter.submit(&record, "form[action$='/respond']", &[("answer", typed)]).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let after = drafter.follow(answered).await;
    assert_eq!(after.texts(".govuk-notification-banner__heading"), ["Your answer has been sent"]);
    let text = after.texts("main").join(" ");
    let name = app.store.user_by_email(&user(&demo, "drafter").email).await.unwrap().unwrap().display_name;
    assert!(text.contains(&format!("Answered by {name}")), "{text}");
    assert!(!text.contains("using software"), "the portal is not other software: {text}");
    assert!(text.contains("Sam, the night nurse.") && text.contains("Answered"), "{text}");
    assert!(
        after.body.contains("Sam, the night nurse.<br>She called &lt;b&gt;999&lt;/b&gt;."),
        "lines kept, markup escaped"
    );
    assert!(after.texts("form[action$='/respond']").is_empty(), "no question left to answer");
    let again = drafter.get(&format!("/notifications/{sent}")).await;
    assert!(again.texts(".govuk-notification-banner").is_empty(), "the banner shows once");
    let seen = triage.staff_get_notification().notification_id(sent).send().await.unwrap().into_inner();
    assert_eq!(seen.status.to_string(), "responded");

    // The receipt: a file to keep, whose signature checks out against the API's published keys.
    let download = drafter.get(&format!("/notifications/{sent}/receipt")).await;
    assert_eq!(download.status, StatusCode::OK);
    let disposition = download.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"receipt-N-"), "{disposition}");
    let receipt: Value = serde_json::from_str(&download.body).unwrap();
    let keys = provider_api_sdk::receipt::fetch_keys(&app.client).await.unwrap();
    let verified = provider_api_sdk::receipt::verify(receipt["jws"].as_str().unwrap(), &keys).unwrap();
    assert_eq!(verified.claims["sub"], sent.to_string());
    assert_eq!(verified.claims["reference"], receipt["reference"]);
    // The page itself, printed, carries what the receipt proves: the reference and the content's fingerprint.
    let shown = after.texts(".govuk-summary-list__value").join(" ");
    assert!(shown.contains(receipt["content_sha256"].as_str().unwrap()), "{shown}");
    assert!(shown.contains(receipt["reference"].as_str().unwrap()), "{shown}");

    // Another organisation's people find neither the page nor the receipt.
    let outsider = signed_in(&app, &other, "drafter").await;
    for path in [format!("/notifications/{sent}"), format!("/notifications/{sent}/receipt")] {
        assert_eq!(outsider.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let csrf = outsider.get("/notifications/new").await.attr("input[name=csrf_token]", "value").unwrap();
    let forced = outsider
        .post(&format!("/notifications/{sent}/respond"), &[("csrf_token".into(), csrf), ("answer".into(), "x".into())])
        .await;
    assert_eq!(forced.status, StatusCode::NOT_FOUND);
}

/// Someone limited to one location sees, in their tasks and the list, only what concerns it, and cannot open
/// the rest.
#[tokio::test]
async fn a_member_limited_to_one_location_sees_only_its_notifications() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let riverside = app.demo_location(&demo, "Riverside Court").await;
    let here = app.demo_sent(&demo, valid("serious_injury")).await;
    let mut there_content = valid("serious_injury");
    there_content["person"]["identifier"] = json!("RIV-7");
    let there = app.demo_draft_at(&demo, Some(riverside), there_content).await;
    let (email, password) = app.member(demo.organisation_id, "drafter", Some(&[riverside])).await;
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&email, &password).await;

    for path in ["/dashboard", "/notifications"] {
        let page = browser.get(path).await;
        let shown = links(&page, "main ul.govuk-list a.govuk-link");
        assert!(shown.contains(&format!("/notifications/{there}")), "{path}: {shown:?}");
        assert!(!shown.contains(&format!("/notifications/{here}")), "{path}: {shown:?}");
    }
    assert_eq!(browser.get(&format!("/notifications/{here}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get(&format!("/notifications/{here}/receipt")).await.status, StatusCode::NOT_FOUND);
}
