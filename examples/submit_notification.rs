//! Care-management software reports a serious injury: it creates and submits the notification in one call
//! and prints the receipt.
//!
//!     cargo run -p provider-api -- demo          # prints a client_id and client_secret
//!     CLIENT_ID=… CLIENT_SECRET=… \
//!         cargo run -p provider-api-examples --example submit_notification [BASE_URL]
//!
//! BASE_URL defaults to http://127.0.0.1:8080.

use provider_api_sdk::types::{NotificationContent, NotificationSubmission};
use provider_api_sdk::{ClientBuilder, ProblemExt, idempotent};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let client_id = std::env::var("CLIENT_ID").map_err(|_| anyhow::anyhow!("set CLIENT_ID"))?;
    let secret = std::env::var("CLIENT_SECRET").map_err(|_| anyhow::anyhow!("set CLIENT_SECRET"))?;
    let client = ClientBuilder::new(&base_url)
        .user_agent("submit-notification-example/1.0")
        .client_credentials(client_id, secret, &["notifications:submit", "org:read"])
        .build()?;

    // Software belongs to one organisation; report at its first location.
    let me = client.get_me().send().await?.into_inner();
    let organisation = me.organisations.first().ok_or_else(|| anyhow::anyhow!("no organisation"))?.organisation_id;
    let locations = client.list_locations().organisation_id(organisation).send().await?.into_inner();
    let location = locations.items.first().ok_or_else(|| anyhow::anyhow!("no location"))?.id;

    // The form as the software's own records would give it. Reading it into the SDK's typed
    // `NotificationContent` checks its shape here, before anything is sent; the server checks everything.
    let content: NotificationContent = serde_json::from_value(json!({
        "type": "serious_injury",
        "reporter": {
            "completed_by": {"name": "Sam Carter", "role": "Deputy manager"},
            "contact": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                        "email": "sam.carter@riverside.example"},
            "provider_reference": "INC-2026-0042",
            "regulated_activities": ["personal_care"]
        },
        "person": {"identifier": "RES-0042", "age_band": "85+"},
        "occurred_at": "2026-11-20T14:05:00Z",
        "description": "Fell in the lounge while walking unaided; X-ray confirmed a fractured hip.",
        "categories": ["fracture", "prolonged_pain"],
        "known_to_be_at_risk": true,
        "mitigations_in_place": "Falls sensor, hourly checks and a walking frame.",
        "immediate_actions": "First aid, ambulance called, family informed."
    }))?;
    let body =
        NotificationSubmission { location_id: Some(location), follows_id: None, content, attachments: Vec::new() };

    // One Idempotency-Key for this report, reused on every retry: a lost answer never makes a second one.
    let submitted = idempotent::with_key(|key| {
        client.submit_new_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
    })
    .await;
    let notification = match submitted {
        Ok(response) => response.into_inner(),
        Err(error) => {
            if let Some(problem) = error.problem() {
                for field in &problem.errors {
                    eprintln!("  {}: {} ({})", field.pointer, field.detail, field.code);
                }
            }
            anyhow::bail!("the regulator refused the notification: {error}");
        }
    };
    let receipt = notification.receipt.ok_or_else(|| anyhow::anyhow!("submitted without a receipt"))?;
    println!("Submitted notification {}", notification.id);
    println!("Reference:      {}", receipt.reference);
    println!("Received at:    {}", receipt.received_at);
    println!("Schema version: {}", receipt.schema_version);
    println!("Content SHA-256 {}", *receipt.content_sha256);
    println!("Signed receipt: {}", receipt.jws);
    Ok(())
}
