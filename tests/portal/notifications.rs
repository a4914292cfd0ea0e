//! Notifications through the portal, as people do them: a drafter starts one and answers it page by page (each
//! page saved to the draft), sees the API's objections on the right page, checks the answers; a submitter sends
//! it and sees the reference. And every notification type can be walked from start to "check your answers"
//! with valid answers (the published examples), since every form comes from its schema.

use provider_api_http::bootstrap::DemoCredentials;
use provider_api_portal::forms::answers::form_values;
use provider_api_portal::forms::{Form, Page};
use provider_api_tests::TestApp;
use provider_api_tests::forms::{TYPES, valid};
use reqwest::StatusCode;
use serde_json::Value;

use provider_api_tests::browser::{Browser, Page as Html};

fn user<'a>(demo: &'a DemoCredentials, role: &str) -> &'a provider_api_http::bootstrap::DemoUser {
    demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == role)).unwrap()
}

/// The form's pages, as the portal reads them from the published schema.
async fn pages(app: &TestApp, kind: &str) -> Vec<Page> {
    let types = app.client.list_notification_types().send().await.unwrap().into_inner().items;
    let schema = Value::Object(types.into_iter().find(|t| t.type_.to_string() == kind).unwrap().schema);
    Form::published(&schema).pages().unwrap()
}

/// Starts a notification of `kind` from the portal's start page; returns its first page.
async fn start(browser: &Browser, kind: &str) -> Html {
    let choose = browser.get("/notifications/new").await;
    assert_eq!(choose.status, StatusCode::OK, "{}", choose.body);
    let started = browser.submit(&choose, "form", &[("type", kind)]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    browser.follow(started).await
}

/// Answers every page with `content`'s values, as typed into the form; returns the page it ended on.
async fn answer_all(browser: &Browser, first: Html, pages: &[Page], content: &Value) -> Html {
    answer_all_from(browser, first, pages, 0, content).await
}

/// As [`answer_all`], from the page at index `from`.
async fn answer_all_from(browser: &Browser, first: Html, pages: &[Page], from: usize, content: &Value) -> Html {
    let mut current = first;
    for (number, page) in pages.iter().enumerate().skip(from) {
        assert!(current.url.ends_with(&format!("/pages/{}", number + 1)), "{} ({})", current.url, current.body);
        assert_eq!(current.status, StatusCode::OK, "{}", current.body);
        // Every choice can be seen and chosen: it has a value and a label.
        let html = current.html();
        for input in html.select(&scraper::Selector::parse("input[type=radio], input[type=checkbox]").unwrap()) {
            let (id, value) = (input.value().attr("id").unwrap(), input.value().attr("value").unwrap_or(""));
            assert!(!value.is_empty(), "{}: {id} has no value", current.url);
            let label = scraper::Selector::parse(&format!("label[for='{id}']")).unwrap();
            let text = html.select(&label).next().map(|l| l.text().collect::<String>()).unwrap_or_default();
            assert!(!text.trim().is_empty(), "{}: {id} has no label", current.url);
        }
        let values = form_values(&page.questions, content);
        let (action, mut fields) = current.form("main form", &[]);
        for (name, answers) in values {
            fields.retain(|(n, _)| *n != name);
            fields.extend(answers.into_iter().map(|a| (name.clone(), a)));
        }
        let saved = browser.post(&action, &fields).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "page {}: {}", number + 1, saved.body);
        current = browser.follow(saved).await;
    }
    current
}

#[tokio::test]
async fn a_drafter_prepares_a_serious_injury_and_a_submitter_sends_it() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let drafter = Browser::new(&app.base_url);
    drafter.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;

    let first = start(&drafter, "serious_injury").await;
    assert_eq!(first.h1(), "The person who was injured");

    // A date that is not one: the API refuses it, and the page says so at the field, keeping what was typed.
    let pages = pages(&app, "serious_injury").await;
    let example = valid("serious_injury");
    let first_page_only = &pages[..1];
    let mut current = answer_all(&drafter, first, first_page_only, &example).await;
    assert!(current.url.ends_with("/pages/2"), "{}", current.url);
    let (action, fields) = current.form(
        "main form",
        &[
            ("occurred_at-day", "31"),
            ("occurred_at-month", "2"),
            ("occurred_at-year", "2026"),
            ("occurred_at-time", "09:00"),
        ],
    );
    let refused = drafter.post(&action, &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("title")[0].starts_with("Error: "));
    let link = refused.attr(".govuk-error-summary a", "href").unwrap();
    assert_eq!(link, "#occurred-at-day");
    assert!(refused.attr("#occurred-at-day", "name").is_some(), "the link leads to the field");
    assert_eq!(refused.attr("input[name=occurred_at-day]", "value").as_deref(), Some("31"), "kept");

    current = drafter.get(&current.url).await;
    let check = answer_all_from(&drafter, current, &pages, 1, &example).await;
    assert!(check.url.ends_with("/check"), "{}", check.url);
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert_eq!(check.h1(), "Check your answers before sending");
    assert!(!check.body.contains("Not answered"), "every answer is there");
    assert!(
        check.texts(".govuk-summary-list__value").iter().any(|v| v.contains("A broken bone (fracture)")),
        "choices by their labels"
    );
    assert!(!check.body.contains("Accept and send"), "a drafter cannot send; a submitter will");

    // The submitter finds it in their tasks and sends it.
    let submitter = Browser::new(&app.base_url);
    let tasks = submitter.sign_in(&user(&demo, "submitter").email, &user(&demo, "submitter").password).await;
    let href = tasks.attr("main li a.govuk-link", "href").unwrap();
    let check = submitter.follow(submitter.get(&href).await).await;
    assert_eq!(check.h1(), "Check your answers before sending");
    let sent = submitter.follow(submitter.submit(&check, "form[action$='/submit']", &[]).await).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.h1(), "Notification sent");
    let reference = sent.texts(".govuk-panel__body strong")[0].clone();
    assert!(!reference.is_empty());
    let tasks = submitter.get("/dashboard").await;
    assert!(tasks.body.contains(&reference), "sent recently lists it");
}

#[tokio::test]
async fn every_notification_type_can_be_answered_up_to_check_your_answers() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let drafter = Browser::new(&app.base_url);
    drafter.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;
    for kind in TYPES {
        let pages = pages(&app, kind).await;
        let first = start(&drafter, kind).await;
        let check = answer_all(&drafter, first, &pages, &valid(kind)).await;
        assert!(check.url.ends_with("/check"), "{kind}: {}", check.url);
        assert_eq!(check.h1(), "Check your answers before sending", "{kind}");
        assert!(!check.body.contains("Not answered"), "{kind}: an answer went missing");
    }
}
