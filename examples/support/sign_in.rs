//! Signing a person in without a browser, shared by the examples that act for people.
//!
//! People sign in on the API's own sign-in page. A real application opens `authorization_url` in the
//! person's browser and receives the code at its redirect URI; the examples, which have no browser, fill in
//! that page's form themselves, exactly as a person would, so they can run unattended.
//!
//! Staff (and admins and submitters of organisations that require it) sign in with a second factor: a code
//! from an authenticator app. At a first sign-in the page asks them to set one up; the examples then act as
//! the app, reading the setup key off the page (and printing it, so a later run can be given it as
//! `TOTP_KEY`), and carry on past the recovery codes. A later sign-in uses the key from `TOTP_KEY`.

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
    let action = format!("{base_url}/v1/oauth/authorize");
    let mut answer = browser.post(&action).header("accept", "text/html").form(&form).send().await?;
    // The second factor's pages, when the account has one or must.
    let mut key = std::env::var("TOTP_KEY").ok();
    for _ in 0..3 {
        if answer.status() != 200 {
            break;
        }
        let page = answer.text().await?;
        let step = field(&page, "step").ok_or_else(|| anyhow::anyhow!("sign-in failed for {email}"))?;
        let mut next: Vec<(String, String)> = form.iter().filter(|(k, _)| k != "password").cloned().collect();
        next.extend([("step".into(), step.clone()), ("pending".into(), field(&page, "pending").unwrap_or_default())]);
        match step.as_str() {
            "enrol" => {
                let setup = page.split("id=\"setup-key\">").nth(1).and_then(|rest| rest.split('<').next());
                let setup = setup.ok_or_else(|| anyhow::anyhow!("no setup key on the page"))?.replace(' ', "");
                eprintln!("{email} now signs in with a second factor; its setup key is {setup} (give it as TOTP_KEY)");
                next.push(("code".into(), totp_code(&setup)?));
                key = Some(setup);
            }
            "verify" => {
                let setup = key.as_deref().ok_or_else(|| anyhow::anyhow!("{email} needs TOTP_KEY (its setup key)"))?;
                next.push(("code".into(), totp_code(setup)?));
            }
            _ => {}
        }
        answer = browser.post(&action).header("accept", "text/html").form(&next).send().await?;
    }
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

/// The value of a form field on a page.
fn field(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = &page[page.find(&marker)? + marker.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The code an authenticator app shows now for a setup key (RFC 6238: SHA-1, 6 digits, 30 seconds).
fn totp_code(setup_key: &str) -> anyhow::Result<String> {
    let secret = totp_rs::Secret::Encoded(setup_key.to_owned()).to_bytes().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, String::new());
    Ok(totp.generate_current()?)
}
