//! "Today" is the date in England, read from the server's clock. At 00:30 British Summer Time the date in
//! England is a day ahead of the date in UTC; a date "not in the future" that is today in England must be
//! accepted then, and tomorrow's refused.

use std::sync::Arc;

use provider_api_core::clock::ManualClock;
use provider_api_sdk::types::{NewNotification, NotificationSubmission};
use provider_api_sdk::{ProblemExt, idempotent};
use provider_api_tests::TestApp;
use provider_api_tests::forms::valid;
use serde_json::Value;
use time::macros::datetime;

fn dols_outcome(outcome_on: &str) -> Value {
    let mut form = valid("dols_outcome");
    form["outcome_on"] = Value::String(outcome_on.to_owned());
    form
}

#[tokio::test]
async fn at_half_past_midnight_bst_today_in_england_is_not_the_future() {
    // 23:30 UTC on 15 June 2027 is 00:30 BST on 16 June: UTC's date is still the 15th.
    let clock = Arc::new(ManualClock::at(datetime!(2027-06-15 23:30 UTC)));
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let submit = |form: Value| {
        let body = NotificationSubmission {
            location_id: Some(demo.location_id),
            follows_id: None,
            content: serde_json::from_value(form).unwrap(),
            attachments: Vec::new(),
        };
        let software = software.clone();
        async move {
            idempotent::with_key(|key| {
                software
                    .submit_new_notification()
                    .organisation_id(demo.organisation_id)
                    .idempotency_key(key)
                    .body(body.clone())
                    .send()
            })
            .await
        }
    };

    let today = submit(dols_outcome("2027-06-16")).await.expect("today in England is not in the future");
    assert_eq!(today.into_inner().receipt.unwrap().received_at.to_rfc3339(), "2027-06-15T23:30:00+00:00");

    let tomorrow = submit(dols_outcome("2027-06-17")).await.unwrap_err();
    let problem = tomorrow.problem().unwrap();
    assert_eq!(problem.errors.len(), 1, "{problem:?}");
    assert_eq!(
        (problem.errors[0].pointer.as_str(), problem.errors[0].code.as_str()),
        ("/content/outcome_on", "in_future")
    );

    // A draft is checked the same way.
    let draft = NewNotification {
        location_id: Some(demo.location_id),
        follows_id: None,
        content: serde_json::from_value(dols_outcome("2027-06-16")).unwrap(),
        attachments: Vec::new(),
    };
    idempotent::with_key(|key| {
        software
            .create_notification()
            .organisation_id(demo.organisation_id)
            .idempotency_key(key)
            .body(draft.clone())
            .send()
    })
    .await
    .expect("a draft with today's date in England");

    // At 23:00 BST on the 15th, the 16th is tomorrow.
    clock.set(datetime!(2027-06-15 22:00 UTC));
    let early = submit(dols_outcome("2027-06-16")).await.unwrap_err();
    assert_eq!(early.problem().unwrap().errors[0].code, "in_future");
}
