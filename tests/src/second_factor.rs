//! Signing in past the second-factor pages as a person would with an authenticator app: setting one up when
//! the page asks (reading the setup key off it), and typing the code the app shows. Each person's secret is
//! kept so later sign-ins can show codes; a code is never used twice, so a sign-in that would reuse one waits
//! for the app's next code.

use std::collections::HashMap;
use std::sync::Mutex;

use provider_api_http::auth::two_factor;

/// The authenticators set up during a test, by email: the secret, and the last time step a code was used for;
/// codes follow the server's clock (a test's clock, when it set one).
pub struct Authenticators {
    clock: std::sync::Arc<dyn provider_api_core::clock::Clock>,
    apps: Mutex<HashMap<String, (Vec<u8>, i64)>>,
}

impl Authenticators {
    pub fn new(clock: std::sync::Arc<dyn provider_api_core::clock::Clock>) -> Self {
        Self { clock, apps: Mutex::new(HashMap::new()) }
    }

    pub fn now_step(&self) -> i64 {
        two_factor::step_at(self.clock.now())
    }

    /// A code for `email`'s authenticator that has not been used: the current one, or the next (accepted as
    /// clock drift), or, after both, the one after waiting for the clock to move on.
    pub async fn next_code(&self, email: &str) -> Option<String> {
        let (secret, last) = self.apps.lock().unwrap().get(email).cloned()?;
        let step = (last + 1).max(self.now_step() - 1);
        for _ in 0..40 {
            if step <= self.now_step() + 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        assert!(step <= self.now_step() + 1, "{email} has used every code the clock allows: move the clock on");
        self.apps.lock().unwrap().insert(email.to_owned(), (secret.clone(), step));
        Some(two_factor::code_for_step(&secret, step))
    }

    pub fn remember(&self, email: &str, secret: Vec<u8>, step: i64) {
        self.apps.lock().unwrap().insert(email.to_owned(), (secret, step));
    }
}

/// The value of the page's hidden (or other) input `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let value = &html[start..start + html[start..].find('"')?];
    Some(value.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x2f;", "/").replace("&#x27;", "'"))
}

/// The text of the element with `id`.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('<')?].trim().to_owned())
}

/// The recovery codes a page shows.
pub fn recovery_codes(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"recovery-codes\"") else { return Vec::new() };
    let list = &html[start..html[start..].find("</ul>").map_or(html.len(), |end| start + end)];
    list.split("<code>").skip(1).filter_map(|part| part.split("</code>").next()).map(str::to_owned).collect()
}

/// Answers second-factor pages until the sign-in leaves for the application (a 303), setting up an
/// authenticator when asked: `page` is the page the password was answered with, `form` the authorization
/// request's fields. Returns the final response.
pub async fn complete(
    browser: &reqwest::Client,
    action: &str,
    form: &[(String, String)],
    authenticators: &Authenticators,
    email: &str,
    mut page: reqwest::Response,
) -> reqwest::Response {
    for _ in 0..3 {
        if page.status() != 200 {
            return page;
        }
        let html = page.text().await.unwrap();
        let step = input_value(&html, "step").unwrap_or_else(|| panic!("a second-factor page: {html}"));
        let pending = input_value(&html, "pending").expect("the pending sign-in");
        let mut fields = form.to_vec();
        fields.extend([
            ("step".into(), step.clone()),
            ("pending".into(), pending),
            ("decision".into(), "allow".into()),
        ]);
        match step.as_str() {
            "enrol" => {
                let key = text_of(&html, "setup-key").expect("the setup key in text");
                let secret = two_factor::secret_from_key(&key).expect("a base32 setup key");
                let now = authenticators.now_step();
                authenticators.remember(email, secret.clone(), now);
                fields.push(("code".into(), two_factor::code_for_step(&secret, now)));
            }
            "verify" => {
                let code =
                    authenticators.next_code(email).await.unwrap_or_else(|| panic!("no authenticator for {email}"));
                fields.push(("code".into(), code));
            }
            "recovery_codes_saved" => {}
            other => panic!("an unknown step {other}"),
        }
        page = browser.post(action).header("accept", "text/html").form(&fields).send().await.unwrap();
    }
    page
}
