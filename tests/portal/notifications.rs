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
    assert_eq!(check.h1(), "Check your answers", "a drafter does not send");
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
        assert_eq!(check.h1(), "Check your answers", "{kind}");
        assert!(!check.body.contains("Not answered"), "{kind}: an answer went missing");
    }
}

/// The session ends while someone is typing (they were away longer than the idle timeout): what they send is
/// not lost but kept, they sign in again and are brought back to the page with it, not yet saved. The same
/// when the form's token has gone stale. A post that came without the session cookie (as another site's
/// would, `SameSite=Lax`) keeps nothing, so nobody can plant answers in someone's form.
#[tokio::test]
async fn what_was_typed_when_the_session_ended_is_kept_for_after_signing_in() {
    use std::str::FromStr;
    use tower_sessions::session_store::SessionStore;

    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let drafter = user(&demo, "drafter");
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&drafter.email, &drafter.password).await;
    let first = start(&browser, "serious_injury").await;
    let path = first.url.trim_start_matches(&app.base_url).to_owned();
    let draft_id: uuid::Uuid = path.split('/').nth(2).unwrap().parse().unwrap();
    let identifier = first.attr("main input[type=text]", "name").unwrap();
    let (action, fields) = first.form("main form", &[(identifier.as_str(), "RES-0099")]);
    let saved_content = || async {
        let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
        let draft = client.get_notification().organisation_id(demo.organisation_id).notification_id(draft_id);
        draft.send().await.unwrap().into_inner().content
    };
    let before = saved_content().await;

    // The session ends (expired and swept) while the page is open; then they press the button.
    let sessions = app.portal.as_ref().unwrap().sessions();
    sessions.delete(&tower_sessions::session::Id::from_str(&browser.session_id().unwrap()).unwrap()).await.unwrap();
    let sent = browser.post(&action, &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let query = serde_urlencoded::to_string([("return_to", path.as_str())]).unwrap();
    assert_eq!(sent.location(), Some(format!("/sign-in?{query}").as_str()));
    assert_eq!(saved_content().await, before, "nothing was saved");

    let back = browser.sign_in_from(sent.location().unwrap(), &drafter.email, &drafter.password).await;
    assert_eq!(back.url, first.url, "brought back to the page");
    assert_eq!(back.attr(&format!("[name='{identifier}']"), "value").as_deref(), Some("RES-0099"), "{}", back.body);
    assert_eq!(
        back.texts(".govuk-notification-banner__heading"),
        ["Your answers on this page have not been saved yet"]
    );
    assert_eq!(saved_content().await, before, "still not saved: they check it and send it");
    let again = browser.get(&path).await;
    assert!(again.texts(".govuk-notification-banner").is_empty(), "kept for one showing");

    // A stale token (signed in again in another tab): the page says so and keeps what was typed.
    let stale: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| if k == "csrf_token" { (k.clone(), "stale".to_owned()) } else { (k.clone(), v.clone()) })
        .collect();
    let expired = browser.post(&action, &stale).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.h1(), "This form has expired");
    let link = expired.attr("main a.govuk-link", "href").unwrap();
    assert_eq!(link, path);
    let kept = browser.get(&link).await;
    assert_eq!(kept.attr(&format!("[name='{identifier}']"), "value").as_deref(), Some("RES-0099"));

    // The warning's script, when time ran out: keep the page's answers and come back to them.
    let mut resumed_fields = fields.clone();
    resumed_fields.push(("return_to".into(), path.clone()));
    let resumed = browser.post("/session/resume", &resumed_fields).await;
    assert_eq!(resumed.location(), Some(path.as_str()));
    let shown = browser.get(&path).await;
    assert_eq!(shown.attr(&format!("[name='{identifier}']"), "value").as_deref(), Some("RES-0099"));
    let elsewhere = browser.post("/session/resume", &[("return_to".into(), "//evil.example/".into())]).await;
    assert_eq!(elsewhere.location(), Some("/dashboard"), "only ever back to a page of the portal");
    assert_eq!(browser.get("/session/keep-alive").await.status, StatusCode::NO_CONTENT);

    // Without the session cookie, nothing is kept.
    let stranger = Browser::new(&app.base_url);
    let planted = stranger.post(&action, &fields).await;
    assert_eq!(planted.status, StatusCode::SEE_OTHER);
    let landed = stranger.sign_in_from(planted.location().unwrap(), &drafter.email, &drafter.password).await;
    assert_eq!(landed.url, first.url);
    assert!(landed.texts(".govuk-notification-banner").is_empty(), "{}", landed.body);
    assert_ne!(landed.attr(&format!("[name='{identifier}']"), "value").as_deref(), Some("RES-0099"));
}

/// Pressing "Continue" twice starts one draft, not two and not an error (the second press waits for the
/// first's answer); and a send that does not say which version was checked is not taken to mean the latest.
#[tokio::test]
async fn a_double_press_starts_one_draft_and_a_send_must_name_the_version_checked() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let submitter = Browser::new(&app.base_url);
    submitter.sign_in(&user(&demo, "submitter").email, &user(&demo, "submitter").password).await;

    let choose = submitter.get("/notifications/new").await;
    let (action, fields) = choose.form("main form", &[("type", "serious_injury")]);
    let (first, second) = tokio::join!(submitter.post(&action, &fields), submitter.post(&action, &fields));
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(first.location(), second.location(), "one draft");

    // A colleague (under four eyes, the one who may send it) checks it; their send names no version.
    let draft_id: uuid::Uuid = first.location().unwrap().split('/').nth(2).unwrap().parse().unwrap();
    let (email, password) = app.member(demo.organisation_id, "submitter", None).await;
    let colleague = Browser::new(&app.base_url);
    colleague.sign_in(&email, &password).await;
    let check = colleague.get(&format!("/notifications/{draft_id}/check")).await;
    let (send, mut fields) = check.form("form[action$='/submit']", &[]);
    fields.retain(|(name, _)| name != "version");
    let refused = colleague.post(&send, &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("title")[0].starts_with("Error: "));
    let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let draft = client.get_notification().organisation_id(demo.organisation_id).notification_id(draft_id);
    assert_eq!(draft.send().await.unwrap().into_inner().status.to_string(), "draft", "nothing was sent");
}

/// An organisation with several locations: the drafter is asked which one first (and can change it from
/// check your answers); someone limited to one location is not asked.
#[tokio::test]
async fn with_several_locations_the_notification_asks_which_first() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let riverside = app.demo_location(&demo, "Riverside Court").await;
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;

    let choose = browser.get("/notifications/new").await;
    let started = browser.submit(&choose, "main form", &[("type", "serious_injury")]).await;
    let location_path = started.location().unwrap().to_owned();
    assert!(location_path.ends_with("/location"), "{location_path}");
    let draft_id: uuid::Uuid = location_path.split('/').nth(2).unwrap().parse().unwrap();
    let asked = browser.get(&location_path).await;
    assert_eq!(asked.h1(), "Which location is it about?");
    assert_eq!(asked.texts("input[name=location] + label").len(), 2, "{}", asked.body);

    let unanswered = browser.submit(&asked, "main form", &[]).await;
    assert_eq!(unanswered.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unanswered.texts(".govuk-error-summary a"), ["Select the location it is about"]);
    let forged = browser.submit(&asked, "main form", &[("location", &uuid::Uuid::new_v4().to_string())]).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY, "a location not theirs is no choice");

    let chosen = browser.submit(&asked, "main form", &[("location", &riverside.to_string())]).await;
    assert!(chosen.location().is_some_and(|l| l.ends_with("/pages/1")), "{}", chosen.body);
    let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let read = || async {
        let draft = client.get_notification().organisation_id(demo.organisation_id).notification_id(draft_id);
        draft.send().await.unwrap().into_inner()
    };
    assert_eq!(read().await.location_id, Some(riverside));

    let check = browser.get(&format!("/notifications/{draft_id}/check")).await;
    assert!(check.texts(".govuk-summary-list__value").iter().any(|v| v.contains("Riverside Court")), "{}", check.body);
    let change = browser.get(&format!("/notifications/{draft_id}/location?change=yes")).await;
    assert_eq!(change.attr("input[name=location][checked]", "value"), Some(riverside.to_string()));
    let changed = browser.submit(&change, "main form", &[("location", &demo.location_id.to_string())]).await;
    assert_eq!(changed.location(), Some(format!("/notifications/{draft_id}/check").as_str()));
    assert_eq!(read().await.location_id, Some(demo.location_id));

    // Limited to one location: not asked, and it is that one.
    let (email, password) = app.member(demo.organisation_id, "drafter", Some(&[riverside])).await;
    let limited = Browser::new(&app.base_url);
    limited.sign_in(&email, &password).await;
    let choose = limited.get("/notifications/new").await;
    let started = limited.submit(&choose, "main form", &[("type", "serious_injury")]).await;
    assert!(started.location().is_some_and(|l| l.ends_with("/pages/1")), "{}", started.body);
}

/// Nothing typed twice (WCAG 2.2 3.3.7): the page asking whom to contact offers who completed the form,
/// filled in, to keep or change; it is saved only with the page.
#[tokio::test]
async fn the_contact_page_offers_who_completed_the_form() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;
    let first = start(&browser, "serious_injury").await;
    let base = first.url.trim_end_matches("/pages/1").to_owned();
    let pages = pages(&app, "serious_injury").await;
    let page_with = |pointer: &str| {
        1 + pages
            .iter()
            .position(|p| provider_api_portal::forms::all_questions(&p.questions).iter().any(|q| q.pointer == pointer))
            .unwrap()
    };
    let (completed_by, contact) = (page_with("/reporter/completed_by/name"), page_with("/reporter/contact/name"));

    let before = browser.get(&format!("{base}/pages/{contact}")).await;
    assert_eq!(before.attr("[name='reporter.contact.name']", "value").as_deref(), Some(""), "nothing to offer yet");

    let asked = browser.get(&format!("{base}/pages/{completed_by}")).await;
    let answers = [("reporter.completed_by.name", "Sam Carter"), ("reporter.completed_by.role", "Deputy manager")];
    let saved = browser.submit(&asked, "main form", &answers).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let offered = browser.get(&format!("{base}/pages/{contact}")).await;
    assert_eq!(offered.attr("[name='reporter.contact.name']", "value").as_deref(), Some("Sam Carter"));
    assert_eq!(offered.attr("[name='reporter.contact.role']", "value").as_deref(), Some("Deputy manager"));
    assert_eq!(offered.attr("[name='reporter.contact.phone']", "value").as_deref(), Some(""), "only what was given");
    let draft_id: uuid::Uuid = base.rsplit('/').next().unwrap().parse().unwrap();
    let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let draft = client.get_notification().organisation_id(demo.organisation_id).notification_id(draft_id);
    let content = draft.send().await.unwrap().into_inner().content;
    assert!(content.0["reporter"].get("contact").is_none(), "offered, not saved: {:?}", content.0);
}

/// Under four eyes (the default), the check page says what the rule asks of the person looking at it: whoever
/// made the last change cannot send it and is told a colleague will; a colleague may send it or approve it;
/// once approved, the first may send it. The API enforces the rule; the page explains it before anyone presses
/// a button that would be refused.
#[tokio::test]
async fn the_check_page_explains_the_four_eyes_rule_to_each_submitter() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let draft = app.demo_draft(&demo, valid("serious_injury")).await;
    let check_path = format!("/notifications/{draft}/check");

    // A submitter changes an answer: now they are the last to edit it.
    let editor = Browser::new(&app.base_url);
    editor.sign_in(&user(&demo, "submitter").email, &user(&demo, "submitter").password).await;
    let before = editor.get(&check_path).await;
    assert!(before.body.contains("Accept and send"), "the software's draft: this person is the second pair of eyes");
    let change = before.attr(".govuk-summary-list__actions a", "href").unwrap();
    assert!(change.ends_with("from=check") || change.contains("from=check#"), "{change}");
    let page = editor.get(&change).await;
    let identifier = page.attr("main input[type=text]", "name").unwrap();
    let saved = editor.submit(&page, "main form", &[(identifier.as_str(), "RES-4242")]).await;
    assert_eq!(saved.location(), Some(check_path.as_str()), "a change made from the check page returns to it");
    let own = editor.follow(saved).await;
    assert!(!own.body.contains("Accept and send") && !own.body.contains("Approve it for sending"), "{}", own.body);
    assert!(own.texts("main p").iter().any(|p| p.contains("You made the last change")), "{}", own.body);

    // A colleague with the submitter role approves it rather than sending it.
    let (email, password) = app.member(demo.organisation_id, "submitter", None).await;
    let colleague = Browser::new(&app.base_url);
    colleague.sign_in(&email, &password).await;
    let theirs = colleague.get(&check_path).await;
    assert!(theirs.texts("main p").iter().any(|p| p.contains("You did not make the last change")), "{}", theirs.body);
    let approved = colleague.submit(&theirs, "form[action$='/approve']", &[]).await;
    assert_eq!(approved.location(), Some(check_path.as_str()));

    let again = editor.get(&check_path).await;
    assert!(again.texts("main p").iter().any(|p| p.contains("A second person has approved")), "{}", again.body);
    let sent = editor.follow(editor.submit(&again, "form[action$='/submit']", &[]).await).await;
    assert_eq!(sent.h1(), "Notification sent", "{}", sent.body);

    // Its record says which answer the submitter changed, not only that one was.
    let record = editor.get(&format!("/notifications/{draft}")).await;
    let field = page.attr("main input[type=text]", "id").unwrap();
    let question = page.texts(&format!("label[for='{field}']"))[0].trim().to_owned();
    assert_eq!(record.texts("main ol li ul li"), [question], "{}", record.body);
}

/// The regulated activities offered are those the draft's location is registered for (the API refuses any
/// other), not all fourteen.
#[tokio::test]
async fn only_the_locations_registered_activities_are_offered() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let draft = app.demo_draft(&demo, valid("serious_injury")).await;
    let pages = pages(&app, "serious_injury").await;
    let asks_activities = |page: &Page| {
        provider_api_portal::forms::all_questions(&page.questions)
            .iter()
            .any(|q| matches!(&q.kind, provider_api_portal::forms::Kind::Choice { options_from: Some(_), .. }))
    };
    let number = pages.iter().position(asks_activities).expect("the form asks the regulated activities") + 1;
    let drafter = Browser::new(&app.base_url);
    drafter.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;
    let page = drafter.get(&format!("/notifications/{draft}/pages/{number}")).await;
    let html = page.html();
    let mut offered: Vec<String> = html
        .select(&scraper::Selector::parse("main input[type=checkbox]").unwrap())
        .map(|input| input.value().attr("value").unwrap().to_owned())
        .collect();
    offered.sort();
    let mut registered: Vec<String> =
        provider_api_http::bootstrap::DEMO_ACTIVITIES.iter().map(|a| (*a).to_owned()).collect();
    registered.sort();
    assert_eq!(offered, registered, "{}", page.body);
}

/// A provider with one person who can submit: they send what they wrote themselves (four eyes waits for a
/// second submitter), and the check page offers it without talk of a colleague.
#[tokio::test]
async fn a_one_person_provider_sends_its_own_notification() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let submitters: Vec<_> =
        demo.users.iter().filter(|u| u.roles.iter().any(|r| r.to_string() == "submitter")).collect();
    let leaving = app.store.user_by_email(&submitters[1].email).await.unwrap().unwrap().id;
    assert!(app.store.remove_membership(leaving, demo.organisation_id).await.unwrap());

    let sole = Browser::new(&app.base_url);
    sole.sign_in(&submitters[0].email, &submitters[0].password).await;
    let first = start(&sole, "serious_injury").await;
    let pages = pages(&app, "serious_injury").await;
    let check = answer_all(&sole, first, &pages, &valid("serious_injury")).await;
    assert_eq!(check.h1(), "Check your answers before sending");
    assert!(!check.body.contains("second person") && !check.body.contains("Approve it"), "{}", check.body);
    let sent = sole.follow(sole.submit(&check, "form[action$='/submit']", &[]).await).await;
    assert_eq!(sent.h1(), "Notification sent", "{}", sent.body);
}

/// Two people answering the same page of one draft: the second to save is not allowed to overwrite the first
/// silently, nor loses what they typed. They see, question by question, what is saved now (and who saved it)
/// beside their answer, and choose: put theirs back, or keep the saved one.
#[tokio::test]
async fn an_edit_conflict_shows_both_answers_and_lets_the_second_person_choose() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let draft = app.demo_draft(&demo, valid("serious_injury")).await;
    let path = format!("/notifications/{draft}/pages/1");
    let first = Browser::new(&app.base_url);
    first.sign_in(&user(&demo, "drafter").email, &user(&demo, "drafter").password).await;
    let second = Browser::new(&app.base_url);
    second.sign_in(&user(&demo, "submitter").email, &user(&demo, "submitter").password).await;
    let (theirs, mine) = (first.get(&path).await, second.get(&path).await);
    let identifier = theirs.attr("main input[type=text]", "name").unwrap();
    let saved = first.submit(&theirs, "main form", &[(identifier.as_str(), "RES-FIRST")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let content = || async {
        let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
        let read = client.get_notification().organisation_id(demo.organisation_id).notification_id(draft);
        read.send().await.unwrap().into_inner().content.0["person"]["identifier"].clone()
    };

    // The same answer typed by both: nothing to choose between.
    let same = second.submit(&mine, "main form", &[(identifier.as_str(), "RES-FIRST")]).await;
    assert_eq!(same.status, StatusCode::SEE_OTHER, "{}", same.body);
    assert!(same.location().unwrap().ends_with("/pages/2"), "on, as if saved");

    let conflict = second.submit(&mine, "main form", &[(identifier.as_str(), "RES-SECOND")]).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert_eq!(conflict.h1(), "Someone else changed these answers");
    let drafter_name = app.store.user_by_email(&user(&demo, "drafter").email).await.unwrap().unwrap().display_name;
    assert!(
        conflict.texts("main p").iter().any(|p| p.starts_with(&format!("{drafter_name} saved"))),
        "{}",
        conflict.body
    );
    assert_eq!(conflict.texts(".govuk-summary-list__value"), ["RES-FIRST", "RES-SECOND"], "saved now, then theirs");
    assert_eq!(conflict.texts("main h2").len(), 1, "only the question that differs");
    assert_eq!(content().await, "RES-FIRST", "nothing overwritten");

    let keep = conflict.attr("main a.govuk-link", "href").unwrap();
    assert_eq!(keep, path);
    let kept = second.get(&keep).await;
    assert_eq!(kept.attr(&format!("[name='{identifier}']"), "value").as_deref(), Some("RES-FIRST"));

    let used = second.submit(&conflict, "main form", &[]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);
    assert_eq!(content().await, "RES-SECOND", "their answer, on the version they had now seen");
}
