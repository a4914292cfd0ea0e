//! An application to add a location, from creation through the checklist to submission, and then, as the
//! regulator's staff, to a notice of decision that registers the location. The checklist is printed as the
//! sections are written, so you can see it shrink.
//!
//!     cargo run -p provider-api -- demo --json > demo.json     # a registered provider, its software, apps
//!     PROVIDER_API_STAFF_PASSWORD='a long passphrase' \
//!         cargo run -p provider-api -- create-staff --email ina@cqc.example --name "Ina Spector" --roles staff_registration
//!     DEMO=demo.json STAFF_EMAIL=ina@cqc.example STAFF_PASSWORD='a long passphrase' \
//!         cargo run -p provider-api-examples --example registration_application [BASE_URL]
//!
//! The provider's software (the demo API client) drafts and submits: software acting as itself is not held
//! to four eyes. The member of staff signs in on the API's sign-in page through the regulator's staff portal
//! (the demo's `staff_app_id`); this example, which has no browser, fills in that page itself.

use provider_api_sdk::types::{
    ApplicationType, Checklist, DecisionKind, NewApplication, NewDecision, SectionContent, SectionName,
};
use provider_api_sdk::{Client, ClientBuilder, idempotent};
use serde_json::{Value, json};
use sign_in::sign_in;
use uuid::Uuid;

#[path = "support/sign_in.rs"]
mod sign_in;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let demo_path = std::env::var("DEMO").map_err(|_| anyhow::anyhow!("set DEMO to the output of `demo --json`"))?;
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(demo_path)?)?;
    let field = |name: &str| demo[name].as_str().unwrap_or_default().to_owned();
    let organisation: Uuid = field("organisation_id").parse()?;
    let software =
        ClientBuilder::new(&base_url).client_credentials(field("client_id"), field("client_secret"), &[]).build()?;

    let application = idempotent::with_key(|key| {
        software
            .create_application()
            .organisation_id(organisation)
            .idempotency_key(key)
            .body(NewApplication { type_: ApplicationType::AddLocation })
            .send()
    })
    .await?
    .into_inner();
    println!("Started application {} ({} sections)", application.id, application.sections.len());
    print_checklist(&checklist(&software, organisation, application.id).await?);

    let person = |name: &str| {
        let issued = time::OffsetDateTime::now_utc().date() - time::Duration::days(30);
        json!({"full_name": name, "email": "eli.moss@riverside.example", "phone": "0191 496 0000",
               "date_of_birth": "1979-06-12",
               "dbs": {"certificate_number": "001234567890", "level": "enhanced", "issued_on": issued.to_string()}})
    };
    let start = time::OffsetDateTime::now_utc().date() + time::Duration::days(60);
    let how = "See the statement of purpose, section 4, and the staffing structure.";
    let sections = [
        (
            SectionName::Where,
            json!({"name": "Riverside Court", "places": 24,
            "address": {"line_1": "7 Quay Road", "town": "Newcastle upon Tyne", "postcode": "NE1 3DX"}}),
        ),
        (
            SectionName::What,
            json!({"regulated_activities": ["personal_care"], "service_types": ["domiciliary_care"],
            "service_user_bands": ["adults_over_65", "dementia"]}),
        ),
        (SectionName::WhoManages, json!({"manager": person("Eli Moss")})),
        (SectionName::When, json!({"effective_date": start.to_string()})),
        (SectionName::How, json!({"safe": how, "effective": how, "caring": how, "responsive": how, "well_led": how})),
        (SectionName::Declaration, json!({"declared_by": "Sam Carter", "role": "Director", "confirmed": true})),
    ];
    for (section, content) in sections {
        write_section(&software, organisation, application.id, section, content).await?;
        let list = checklist(&software, organisation, application.id).await?;
        let left: usize = list.sections.iter().map(|s| s.problems.len()).sum::<usize>()
            + list.documents.iter().map(|d| d.problems.len()).sum::<usize>();
        println!("Wrote `{section}`: {left} problems left");
    }

    // Each required document is its own file, uploaded first and then attached by purpose.
    let mut attachments = Vec::new();
    for (purpose, text) in [
        ("statement_of_purpose", "Statement of purpose: Riverside Court provides personal care at home."),
        ("staffing_structure", "Staffing: one registered manager, two seniors, twelve care workers."),
    ] {
        let document = provider_api_sdk::upload::upload_document(
            &software,
            organisation,
            &format!("{purpose}.txt"),
            "text/plain",
            text.to_owned(),
        )
        .await?;
        attachments.push(json!({"document_id": document.id, "purpose": purpose}));
    }
    write_section(&software, organisation, application.id, SectionName::Documents, json!({"attachments": attachments}))
        .await?;
    let list = checklist(&software, organisation, application.id).await?;
    print_checklist(&list);
    anyhow::ensure!(list.ready, "the checklist should be clean by now");

    let version =
        software.get_application().organisation_id(organisation).application_id(application.id).send().await?.version;
    let sent = idempotent::with_key(|key| {
        software
            .submit_application()
            .organisation_id(organisation)
            .application_id(application.id)
            .if_match(format!("\"{version}\""))
            .idempotency_key(key)
            .send()
    })
    .await?
    .into_inner();
    let receipt = sent.receipt.ok_or_else(|| anyhow::anyhow!("no receipt"))?;
    println!(
        "Submitted: reference {} at {} (content SHA-256 {})",
        receipt.reference, receipt.received_at, *receipt.content_sha256
    );

    // The regulator's side.
    let email = std::env::var("STAFF_EMAIL").map_err(|_| anyhow::anyhow!("set STAFF_EMAIL"))?;
    let password = std::env::var("STAFF_PASSWORD").map_err(|_| anyhow::anyhow!("set STAFF_PASSWORD"))?;
    let staff = sign_in(&base_url, &field("staff_app_id"), &field("redirect_uri"), &(email, password)).await?;
    let accepted = staff.accept_application().application_id(application.id).send().await?.into_inner();
    if let Some(target) = &accepted.target {
        println!("Accepted as complete; a decision is due by {}", target.decision_due_on);
    }
    let decision = NewDecision {
        decision: DecisionKind::Grant,
        conditions: Vec::new(),
        reasons: "The location meets the regulations.".parse()?,
        served_on: None,
    };
    let decided = staff.issue_decision().application_id(application.id).body(decision).send().await?.into_inner();
    let notice = decided.decision.ok_or_else(|| anyhow::anyhow!("no notice of decision"))?;
    println!("Decision: {:?}; location ID {:?}; appeal by {}", notice.decision, notice.location_ids, notice.appeal_by);

    let details = software.registration_details().organisation_id(organisation).send().await?.into_inner();
    for location in &details.locations {
        println!("Registered: {} {} — {}", location.location_id, location.name, location.activities.join(", "));
    }
    let feed = software.organisation_events().organisation_id(organisation).send().await?.into_inner();
    for event in feed.items.iter().filter(|e| e.object_id == application.id) {
        println!("Event {}: {} → {}", event.seq, event.action, event.status);
    }
    Ok(())
}

async fn write_section(
    client: &Client,
    organisation: Uuid,
    application: Uuid,
    section: SectionName,
    content: Value,
) -> anyhow::Result<()> {
    // The section's ETag, so a colleague's edit in between is never overwritten.
    let current = client
        .get_application_section()
        .organisation_id(organisation)
        .application_id(application)
        .section(section)
        .send()
        .await?;
    let etag = current.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: SectionContent = serde_json::from_value(content)?;
    client
        .put_application_section()
        .organisation_id(organisation)
        .application_id(application)
        .section(section)
        .if_match(etag)
        .body(body)
        .send()
        .await?;
    Ok(())
}

async fn checklist(client: &Client, organisation: Uuid, application: Uuid) -> anyhow::Result<Checklist> {
    Ok(client
        .application_checklist()
        .organisation_id(organisation)
        .application_id(application)
        .send()
        .await?
        .into_inner())
}

fn print_checklist(list: &Checklist) {
    println!("Checklist (ready: {}):", list.ready);
    for section in &list.sections {
        println!("  section {:<12} {:?}", section.section.to_string(), section.status);
        for problem in &section.problems {
            println!("      {} — {}", problem.pointer, problem.detail);
        }
    }
    for document in &list.documents {
        println!("  document {:<30} {:?}", document.purpose.to_string(), document.status);
    }
}
