//! Email that tells people what is waiting (docs/emails.md), through the SDK and a real SMTP server
//! (aiosmtpd): who is told, once, with a link and no content; each person's choices; the organisation's
//! record of who was told; deadline reminders on the server's clock; and the outbox riding out an SMTP outage.

use std::sync::Arc;
use std::time::Duration;

use provider_api_core::clock::ManualClock;
use provider_api_sdk::types::{
    EmailKind, EmailPreferences, EmailRecord, EmailStatus, NewInformationRequest, NotificationView,
};
use provider_api_sdk::{Client, ProblemExt};
use provider_api_tests::forms::valid;
use provider_api_tests::smtp::SmtpSink;
use provider_api_tests::{TestApp, complete_draft};
use serde_json::Value;
use uuid::Uuid;

const PORTAL: &str = "https://portal.provider.example";

fn configure(sink: &SmtpSink) -> impl FnOnce(&mut provider_api_http::config::Config) + use<> {
    let url = sink.url();
    move |config| {
        config.smtp_url = Some(url.into());
        config.portal_url = Some(PORTAL.to_owned());
        // Reminders and retries are found by polling; a short poll keeps the tests quick.
        config.email_poll = Duration::from_millis(100);
    }
}

async fn app_with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(configure(&sink)).await;
    (app, sink)
}

/// A person of the demo organisation with `roles` (space-separated), signed in: their email and SDK.
async fn member(app: &TestApp, organisation: Uuid, roles: &str, locations: Option<&[Uuid]>) -> (String, Client) {
    let (email, password) = app.member(organisation, roles, locations).await;
    let client = app.sdk_for_person(&email, &password).await;
    (email, client)
}

async fn ask_review(
    client: &Client,
    organisation: Uuid,
    draft: &NotificationView,
) -> Result<(), provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    let request = client.request_notification_review().organisation_id(organisation).notification_id(draft.id);
    request.if_match(format!("\"{}\"", draft.version)).send().await.map(drop)
}

/// Every text value in a form's content: none of it may appear in an email.
fn texts(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) if text.len() > 3 => found.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| texts(v, found)),
        Value::Object(fields) => fields.values().for_each(|v| texts(v, found)),
        _ => {}
    }
}

async fn emails_of(admin: &Client, organisation: Uuid) -> Vec<EmailRecord> {
    admin.list_organisation_emails().organisation_id(organisation).send().await.unwrap().into_inner().items
}

/// The organisation's record, once nothing in it is waiting to be sent.
async fn settled_emails(admin: &Client, organisation: Uuid) -> Vec<EmailRecord> {
    for _ in 0..100 {
        let emails = emails_of(admin, organisation).await;
        if emails.iter().all(|e| !matches!(e.status, EmailStatus::Queued)) {
            return emails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("emails still queued: {:?}", emails_of(admin, organisation).await);
}

#[tokio::test]
async fn a_review_request_emails_the_other_submitters_who_can_see_it_once_with_a_link_and_no_content() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let elsewhere = app.demo_location(&demo, "Hillside Court").await;
    let (_, admin) = member(&app, org, "admin", None).await;
    let (drafter_email, drafter) = member(&app, org, "drafter", None).await;
    let (reviewer_email, _) = member(&app, org, "submitter", None).await;
    let (local_email, _) = member(&app, org, "submitter", Some(&[demo.location_id])).await;
    let (distant_email, _) = member(&app, org, "submitter", Some(&[elsewhere])).await;
    let (quiet_email, quiet) = member(&app, org, "submitter", None).await;
    let (viewer_email, _) = member(&app, org, "viewer", None).await;
    let other = app.demo().await;
    let (outsider_email, _) = member(&app, other.organisation_id, "submitter", None).await;

    // One submitter has turned these emails off.
    let mut choices = quiet.get_email_preferences().send().await.unwrap().into_inner();
    assert!(choices.review_waiting && choices.question_asked && choices.notification_late, "all on by default");
    choices.review_waiting = false;
    let saved = quiet.put_email_preferences().body(choices.clone()).send().await.unwrap().into_inner();
    assert!(!saved.review_waiting && saved.question_asked);

    let draft = complete_draft(&drafter, org, demo.location_id).await;
    ask_review(&drafter, org, &draft).await.unwrap();

    let email = sink.message_about(&reviewer_email, "waiting for your review").await;
    assert_eq!(email.subject(), "A notification is waiting for your review");
    assert_eq!(email.link_to("/notifications/"), format!("{PORTAL}/notifications/{}/check", draft.id));
    let text = email.text();
    assert!(
        !text.contains("Serious injury") && !text.contains("injur"),
        "not even the type, which says what happened: {text}"
    );
    let mut content = Vec::new();
    texts(&valid("serious_injury"), &mut content);
    for value in &content {
        assert!(!text.contains(value.as_str()), "the email carries the form's {value:?}: {text}");
    }
    assert!(text.contains(&format!("{PORTAL}/settings/emails")), "says where to choose: {text}");
    sink.message_about(&local_email, "waiting for your review").await;

    let settled = settled_emails(&admin, org).await;
    let mut told: Vec<(EmailKind, Uuid)> = settled.iter().map(|e| (e.kind, e.object_id)).collect();
    told.dedup();
    assert_eq!(told, [(EmailKind::ReviewWaiting, draft.id)]);
    // The demo's two submitters, and the two added here who can see the location and want it.
    assert_eq!(settled.len(), 4, "the submitters who can see it and want it: {settled:?}");
    for demo_submitter in demo.users.iter().filter(|u| u.roles.iter().any(|r| r.to_string() == "submitter")) {
        assert_eq!(sink.messages_to(&demo_submitter.email), 1, "{} was not told", demo_submitter.email);
    }
    assert!(settled.iter().all(|e| matches!(e.status, EmailStatus::Sent) && e.sent_at.is_some()));
    for nobody in [&drafter_email, &distant_email, &quiet_email, &viewer_email, &outsider_email] {
        assert_eq!(sink.messages_to(nobody), 0, "{nobody} was emailed");
    }

    // Once per version: asking again is refused, and nobody is emailed twice, even when two requests arrive at
    // the same moment (a double click).
    let second_draft = complete_draft(&drafter, org, demo.location_id).await;
    let (first, second) =
        tokio::join!(ask_review(&drafter, org, &second_draft), ask_review(&drafter, org, &second_draft));
    let mut outcomes = [first.map_err(|e| e.http_status()), second.map_err(|e| e.http_status())];
    outcomes.sort();
    assert_eq!(outcomes, [Ok(()), Err(Some(409))], "one request recorded, the other refused");
    let again = ask_review(&drafter, org, &draft).await.unwrap_err();
    assert_eq!(again.http_status(), Some(409));
    assert_eq!(again.problem().unwrap().code, "review_already_requested");
    let history = drafter.notification_history().organisation_id(org).notification_id(draft.id).send().await;
    let asked: Vec<_> = history.unwrap().into_inner().items.into_iter().filter(|e| e.version.is_some()).collect();
    assert_eq!(asked.len(), 1, "the history records who asked, about which version");
    sink.message_about(&reviewer_email, "waiting for your review").await;
    for _ in 0..20 {
        if sink.messages_to(&reviewer_email) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages_to(&reviewer_email), 2, "once for each draft");

    // Another organisation's admin cannot read this one's record.
    let (_, other_admin) = member(&app, other.organisation_id, "admin", None).await;
    let hidden = other_admin.list_organisation_emails().organisation_id(org).send().await.unwrap_err();
    assert_eq!(hidden.http_status(), Some(404));
}

#[tokio::test]
async fn the_regulators_question_emails_the_submitters_with_its_due_date_but_not_the_question() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let (_, admin) = member(&app, org, "admin", None).await;
    let (sender_email, sender) = member(&app, org, "submitter", None).await;
    let (drafter_email, _) = member(&app, org, "drafter", None).await;
    // Sent by the organisation's software (the demo allows it to send on its own): the people told are the
    // submitters.
    let sent_id = app.demo_sent(&demo, valid("serious_injury")).await;
    let sent = sender.get_notification().organisation_id(org).notification_id(sent_id).send().await.unwrap();
    let sent = sent.into_inner();
    let reference = sent.receipt.as_ref().expect("a receipt").reference.clone();
    let triage = app.triage_staff().await;
    triage.acknowledge_notification().notification_id(sent.id).send().await.unwrap();
    let question = "Which member of staff found Mrs Example on the floor?";
    let due: chrono::NaiveDate = "2099-01-31".parse().unwrap();
    let asked = NewInformationRequest::builder().message(question).due_on(due);
    triage.request_information().notification_id(sent.id).body(asked).send().await.unwrap();

    let email = sink.message_about(&sender_email, "has a question").await;
    assert_eq!(email.subject(), format!("The Care Quality Commission has a question about notification {reference}"));
    let text = email.text();
    assert!(text.contains("Please answer by: 31 January 2099"), "{text}");
    assert!(!text.contains("Mrs Example") && !text.contains("floor"), "the question is not in the email: {text}");
    assert_eq!(email.link_to("/notifications/"), format!("{PORTAL}/notifications/{}", sent.id));
    let settled = settled_emails(&admin, org).await;
    assert_eq!(settled.len(), 3, "the submitters: the demo's two and this one: {settled:?}");
    assert!(settled.iter().all(|e| e.kind == EmailKind::QuestionAsked && e.object_id == sent.id));
    assert_eq!(sink.messages_to(&drafter_email), 0, "a drafter who did not send it is not told");
}

#[tokio::test]
async fn a_draft_reminds_whoever_prepares_it_once_when_due_and_once_when_late() {
    let sink = SmtpSink::start().await;
    let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
    let app = TestApp::spawn_with_clock_and(clock.clone(), configure(&sink)).await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let (_, admin) = member(&app, org, "admin", None).await;
    let (drafter_email, drafter) = member(&app, org, "drafter", None).await;
    let (submitter_email, _) = member(&app, org, "submitter", None).await;
    let mut choices = drafter.get_email_preferences().send().await.unwrap().into_inner();
    let draft = complete_draft(&drafter, org, demo.location_id).await;

    // A serious injury is notified without delay: the reminders count to 24 hours from the draft's start.
    clock.advance(time::Duration::hours(11));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.messages_to(&drafter_email), 0, "not yet due");
    clock.advance(time::Duration::hours(2));
    let due = sink.message_about(&drafter_email, "due soon").await;
    assert_eq!(due.subject(), "A draft notification is due soon");
    assert_eq!(due.link_to("/notifications/"), format!("{PORTAL}/notifications/{}", draft.id));

    // The drafter turns reminders that it is late off, then on again: the choice applies to what is queued
    // after it.
    choices.notification_late = false;
    drafter.put_email_preferences().body(choices.clone()).send().await.unwrap();
    clock.advance(time::Duration::hours(12));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.messages_to(&drafter_email), 1, "late, but the drafter chose not to hear it");

    // A second draft, started now, runs late with the choice back on.
    choices.notification_late = true;
    drafter.put_email_preferences().body(choices).send().await.unwrap();
    let second = complete_draft(&drafter, org, demo.location_id).await;
    clock.advance(time::Duration::hours(25));
    let late = sink.message_about(&drafter_email, "is late").await;
    assert_eq!(late.link_to("/notifications/"), format!("{PORTAL}/notifications/{}", second.id));
    clock.advance(time::Duration::days(3));
    tokio::time::sleep(Duration::from_millis(400)).await;

    let settled = settled_emails(&admin, org).await;
    let told: Vec<(EmailKind, Uuid)> = settled.iter().map(|e| (e.kind, e.object_id)).collect();
    assert_eq!(
        told,
        [(EmailKind::NotificationDue, draft.id), (EmailKind::NotificationLate, second.id)],
        "each reminder once; the second draft went straight to late (it was never seen while due)"
    );
    assert_eq!(sink.messages_to(&submitter_email), 0, "reminders are for whoever prepares the draft");
}

#[tokio::test]
async fn emails_wait_in_the_outbox_while_the_mail_server_is_down_and_go_when_it_is_back() {
    // A port with nothing listening: the SMTP server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(move |config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        config.portal_url = Some(PORTAL.to_owned());
        config.email_poll = Duration::from_millis(100);
    })
    .await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let (_, admin) = member(&app, org, "admin", None).await;
    let (_, drafter) = member(&app, org, "drafter", None).await;
    let (reviewer_email, _) = member(&app, org, "submitter", None).await;
    let draft = complete_draft(&drafter, org, demo.location_id).await;
    ask_review(&drafter, org, &draft).await.unwrap();

    let mut failing = Vec::new();
    for _ in 0..50 {
        failing = emails_of(&admin, org).await;
        if failing.first().is_some_and(|e| e.attempts >= 1 && e.last_error.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(failing[0].status, EmailStatus::Queued), "{failing:?}");
    assert!(failing[0].last_error.is_some(), "says what went wrong: {failing:?}");

    let sink = SmtpSink::start_on(port).await;
    let email = sink.message_about(&reviewer_email, "waiting for your review").await;
    assert!(email.text().contains(&draft.id.to_string()));
    let sent = settled_emails(&admin, org).await;
    assert!(matches!(sent[0].status, EmailStatus::Sent), "{sent:?}");
    assert_eq!(sink.messages_to(&reviewer_email), 1, "sent once");
}

#[tokio::test]
async fn a_mail_server_that_never_answers_does_not_hold_up_the_request() {
    // It accepts connections (the kernel completes them) and never says a word: an SMTP client waits.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let app = TestApp::spawn_with(move |config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        config.email_poll = Duration::from_millis(100);
    })
    .await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let (_, drafter) = member(&app, org, "drafter", None).await;
    member(&app, org, "submitter", None).await;
    for _ in 0..3 {
        let draft = complete_draft(&drafter, org, demo.location_id).await;
        let started = std::time::Instant::now();
        ask_review(&drafter, org, &draft).await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "asking waited for the mail server: {:?}",
            started.elapsed()
        );
    }
    drop(silent);
}

#[tokio::test]
async fn preferences_are_a_persons_validated_field_by_field_and_not_softwares() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let (email, password) = app.member(demo.organisation_id, "viewer", None).await;
    let person = app.sdk_for_person(&email, &password).await;
    let everything = person.get_email_preferences().send().await.unwrap().into_inner();
    let token = app.sign_in(&email, &password).await.access_token;

    // A missing choice, or one that is not true or false, is refused field by field and changes nothing.
    let url = app.url("/v1/me/email-preferences");
    let nothing = app.http.put(&url).bearer_auth(&token).json(&serde_json::json!({})).send().await.unwrap();
    let problem = provider_api_tests::problem(nothing, 422).await;
    let pointers: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(
        pointers,
        [
            "/review_waiting",
            "/question_asked",
            "/notification_due",
            "/notification_late",
            "/registration_information_requested"
        ],
        "every choice missing is named at once"
    );
    let missing = serde_json::json!({"review_waiting": false, "question_asked": true, "notification_due": true,
        "notification_late": true});
    let refused = app.http.put(&url).bearer_auth(&token).json(&missing).send().await.unwrap();
    let problem = provider_api_tests::problem(refused, 422).await;
    assert!(problem["errors"].to_string().contains("registration_information_requested"), "{problem}");
    let wrong = serde_json::json!({"review_waiting": "no", "question_asked": true, "notification_due": true,
        "notification_late": true, "registration_information_requested": true});
    let refused = app.http.put(&url).bearer_auth(&token).json(&wrong).send().await.unwrap();
    let problem = provider_api_tests::problem(refused, 422).await;
    assert!(problem["errors"].to_string().contains("review_waiting"), "{problem}");
    let unchanged = person.get_email_preferences().send().await.unwrap().into_inner();
    assert_eq!(serde_json::to_value(&unchanged).unwrap(), serde_json::to_value(&everything).unwrap());

    let choices = EmailPreferences { notification_due: false, ..everything };
    let saved = person.put_email_preferences().body(choices.clone()).send().await.unwrap().into_inner();
    assert_eq!(serde_json::to_value(&saved).unwrap(), serde_json::to_value(&choices).unwrap());

    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let refused = software.get_email_preferences().send().await.unwrap_err();
    assert_eq!(refused.http_status(), Some(403));
}
