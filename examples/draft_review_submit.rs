//! Two people share the work: a drafter starts a notification and completes it once the submitter has said
//! what is missing; the submitter reviews it, approves that version and sends it (four eyes: docs/review.md).
//! The history shows who did what.
//!
//!     cargo run -p provider-api -- demo --json > demo.json     # a drafter and a submitter, with passwords
//!     DEMO=demo.json cargo run -p provider-api-examples --example draft_review_submit [BASE_URL]
//!
//! People sign in on the API's own sign-in page. A real application opens `authorization_url` in the
//! person's browser and receives the code at its redirect URI; this example, which has no browser, fills in
//! that page's form itself (`sign_in`), exactly as a person would, so it can run unattended.

use provider_api_sdk::idempotent;
use provider_api_sdk::types::{NewNotification, NotificationPatch};
use serde_json::{Value, json};
use sign_in::sign_in;

#[path = "support/sign_in.rs"]
mod sign_in;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let demo_path = std::env::var("DEMO").map_err(|_| anyhow::anyhow!("set DEMO to the output of `demo --json`"))?;
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(demo_path)?)?;
    let person = |role: &str| {
        demo["users"].as_array().into_iter().flatten().find(|u| u["roles"][0] == role).cloned().unwrap_or_default()
    };
    let app_id = demo["integrator_app_id"].as_str().unwrap_or_default().to_owned();
    let redirect = demo["redirect_uri"].as_str().unwrap_or_default().to_owned();
    let organisation: uuid::Uuid = demo["organisation_id"].as_str().unwrap_or_default().parse()?;
    let location: uuid::Uuid = demo["location_id"].as_str().unwrap_or_default().parse()?;

    let drafter = sign_in(&base_url, &app_id, &redirect, &credentials(&person("drafter"))).await?;
    let submitter = sign_in(&base_url, &app_id, &redirect, &credentials(&person("submitter"))).await?;

    // The drafter writes what they know so far; the draft is saved although it is incomplete.
    let started = json!({"type": "abuse", "person": {"identifier": "RES-0107", "age_band": "75-84"},
        "alleged_perpetrator": "service_user", "became_aware_at": "2026-11-24T19:30:00Z",
        "description": "Another resident struck RES-0107 in the dining room; a bruise on the left arm."});
    let body = NewNotification {
        location_id: Some(location),
        follows_id: None,
        content: serde_json::from_value(started)?,
        attachments: Vec::new(),
    };
    let draft = idempotent::with_key(|key| {
        drafter.create_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
    })
    .await?
    .into_inner();
    println!("Drafter saved draft {} (version {})", draft.id, draft.version);

    // The submitter asks what is missing: every problem at once.
    let check = submitter.validate_notification().organisation_id(organisation).notification_id(draft.id).send().await;
    if let Err(error) = &check
        && let Some(problem) = provider_api_sdk::ProblemExt::problem(error)
    {
        println!("Still missing or wrong ({}):", problem.errors.len());
        for field in &problem.errors {
            println!("  {} {}", field.pointer, field.detail);
        }
    }

    // The drafter completes it (If-Match: the version they read).
    let completion = json!({
        "reporter": {"completed_by": {"name": "Jo Patel", "role": "Registered manager"},
            "contact": {"name": "Jo Patel", "role": "Registered manager", "phone": "020 7946 0001",
                        "email": "jo.patel@riverside.example"},
            "regulated_activities": ["accommodation_nursing_or_personal_care"]},
        "known_risk": true, "protection_in_place": "The residents now eat at separate tables, with staff present.",
        "immediate_actions": "Injury checked by the nurse; safeguarding referral made.",
        "reported_to_local_authority": true, "reported_to_police": false
    });
    let completed = drafter
        .update_notification()
        .organisation_id(organisation)
        .notification_id(draft.id)
        .if_match(format!("\"{}\"", draft.version))
        .body(NotificationPatch {
            content: serde_json::from_value(completion)?,
            follows_id: None,
            location_id: None,
            attachments: None,
        })
        .send()
        .await?
        .into_inner();
    // The submitter reviews the completed text and approves that version: the record shows who reviewed what.
    // (As they are not its last editor they could send it straight away; approving says they read it.)
    let reviewed = submitter
        .approve_notification()
        .organisation_id(organisation)
        .notification_id(draft.id)
        .if_match(format!("\"{}\"", completed.version))
        .send()
        .await?
        .into_inner();
    println!("Submitter approved version {}", reviewed.version);
    let sent = idempotent::with_key(|key| {
        submitter
            .submit_notification()
            .organisation_id(organisation)
            .notification_id(draft.id)
            .if_match(format!("\"{}\"", reviewed.version))
            .idempotency_key(key)
            .send()
    })
    .await?
    .into_inner();
    let receipt = sent.receipt.ok_or_else(|| anyhow::anyhow!("no receipt"))?;
    println!("Submitter sent it: reference {} at {}", receipt.reference, receipt.received_at);

    let history = drafter.notification_history().organisation_id(organisation).notification_id(draft.id).send().await?;
    for entry in history.into_inner().items {
        let who = entry.by.and_then(|b| b.user_id).map(|u| u.to_string()).unwrap_or_default();
        let approved = entry.version.map(|v| format!("version {v}")).unwrap_or_default();
        println!("  {} {:<10} by {} {}{approved}", entry.at, entry.action.to_string(), who, entry.fields.join(" "));
    }
    Ok(())
}

fn credentials(person: &Value) -> (String, String) {
    (
        person["email"].as_str().unwrap_or_default().to_owned(),
        person["password"].as_str().unwrap_or_default().to_owned(),
    )
}
