//! Signing a person in without a browser, shared by the examples that act for people.
//!
//! People sign in on the API's own sign-in page. A real application opens `authorization_url` in the
//! person's browser and receives the code at its redirect URI; the examples, which have no browser, fill in
//! that page's form themselves, exactly as a person would, so they can run unattended.

use provider_api_sdk::auth::{authorization_url, exchange_code};
use provider_api_sdk::{Client, ClientBuilder};

/// Fills in the sign-in page for `(email, password)` through the public application `app_id`, and returns an
/// SDK client acting for the person.
pub async fn sign_in(
    base_url: &str,
    app_id: &str,
    redirect: &str,
    (email, password): &(String, String),
) -> anyhow::Result<Client> {
    let request = authorization_url(base_url, app_id, redirect, &[])?;
    let query = request.url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query)?;
    form.extend([
        ("email".into(), email.clone()),
        ("password".into(), password.clone()),
        ("decision".into(), "allow".into()),
    ]);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let answer = browser.post(format!("{base_url}/v1/oauth/authorize")).form(&form).send().await?;
    let location = answer.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').map(|(_, q)| q).unwrap_or_default())?;
    let code = pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .ok_or_else(|| anyhow::anyhow!("sign-in failed for {email}"))?;
    let tokens = exchange_code(base_url, app_id, None, redirect, &code, &request.pkce_verifier).await?;
    Ok(ClientBuilder::new(base_url).person(app_id.to_owned(), None, tokens.refresh_token).build()?)
}
