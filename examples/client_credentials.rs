//! Care-management software gets an access token with its client credentials and asks who it is.
//!
//!     cargo run -p provider-api -- demo          # prints a client_id and client_secret
//!     CLIENT_ID=… CLIENT_SECRET=… \
//!         cargo run -p provider-api-examples --example client_credentials [BASE_URL]
//!
//! BASE_URL defaults to http://127.0.0.1:8080.

use provider_api_sdk::{ClientBuilder, ProblemExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base_url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let client_id = std::env::var("CLIENT_ID").map_err(|_| anyhow::anyhow!("set CLIENT_ID"))?;
    let secret = std::env::var("CLIENT_SECRET").map_err(|_| anyhow::anyhow!("set CLIENT_SECRET"))?;

    // The SDK fetches a token with the oauth2 crate on the first call, caches it, renews it before it expires
    // attaches it to every request, and after a 401 fetches a new one and tries once more.
    let client = ClientBuilder::new(&base_url)
        .user_agent("client-credentials-example/1.0")
        .client_credentials(client_id, secret, &[])
        .build()?;

    let me = match client.get_me().send().await {
        Ok(me) => me.into_inner(),
        Err(error) => anyhow::bail!("the API refused: {} ({:?})", error, error.problem().map(|p| &p.code)),
    };
    println!("Signed in as {} ({:?}), client {}", me.name, me.kind, me.client_id);
    println!("Scopes: {}", me.scopes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
    for organisation in &me.organisations {
        let roles: Vec<String> = organisation.roles.iter().map(ToString::to_string).collect();
        println!("Organisation {} ({}): {}", organisation.name, organisation.organisation_id, roles.join(", "));

        let permissions = client
            .get_my_permissions()
            .organisation(organisation.organisation_id)
            .send()
            .await?
            .into_inner()
            .permissions;
        for decision in permissions.iter().filter(|d| !d.allowed) {
            println!("  not allowed: {} ({})", decision.permission, decision.reason.as_deref().unwrap_or(""));
        }
    }
    Ok(())
}
