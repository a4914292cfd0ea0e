//! Prints the regulator's reference data and checks a few identifiers, through the SDK.
//!
//! Start a server (`cargo run -p provider-api`), then:
//!     cargo run -p provider-api-examples --example reference_data [BASE_URL]
//! BASE_URL defaults to http://127.0.0.1:8080.

use provider_api_sdk::types::IdentifierCheck;
use provider_api_sdk::{ClientBuilder, ProblemExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let client = ClientBuilder::new(&base_url).user_agent("reference-data-example/1.0").build()?;

    println!("Regulated activities:");
    for activity in client.list_regulated_activities().send().await?.into_inner().items {
        println!("  {:>2}. {} ({})", activity.schedule_number, activity.name, *activity.code);
    }

    let types = client.list_service_types().send().await?.into_inner().items;
    let bands = client.list_service_user_bands().send().await?.into_inner().items;
    println!("\n{} service types and {} service-user bands.", types.len(), bands.len());

    println!("\nChecking identifiers:");
    let check = IdentifierCheck::builder().nhs_number(Some("943 476 5919".parse()?)).postcode(Some("sw1a1aa".parse()?));
    let checked = client.validate_identifiers().body(check).send().await?.into_inner();
    let nhs_number = checked.nhs_number.as_ref().map_or("", |n| n.as_str());
    let postcode = checked.postcode.as_ref().map_or("", |p| p.as_str());
    println!("  valid: NHS number {nhs_number}, postcode {postcode}");

    let bad = IdentifierCheck::builder().nhs_number(Some("9434765918".parse()?)).postcode(Some("nowhere".parse()?));
    match client.validate_identifiers().body(bad).send().await {
        Ok(_) => anyhow::bail!("the server accepted invalid identifiers"),
        Err(error) => {
            let problem = error.problem().ok_or_else(|| anyhow::anyhow!("no problem details: {error}"))?;
            for field in &problem.errors {
                println!("  refused {}: {} ({})", field.pointer, field.detail, field.code);
            }
        }
    }
    Ok(())
}
