//! People signing in through an integrator application: the authorization-code flow with PKCE, refresh-token
//! rotation with reuse detection, and revocation.

use provider_api_sdk::ProblemExt;
use provider_api_sdk::auth::{AuthorizationRequest, authorization_url, exchange_code};
use provider_api_sdk::types::PrincipalKind;
use provider_api_tests::{TestApp, problem};
use serde_json::Value;

const REDIRECT: &str = "https://care-notes.example/callback";
const SCOPES: &str = "org:read notifications:read notifications:write";

/// A browser that does not follow redirects, so the test can read where the page sends it.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(query).unwrap()
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Posts the sign-in form as a browser would, and returns the response.
async fn sign_in(request: &AuthorizationRequest, email: &str, password: &str, decision: &str) -> reqwest::Response {
    let mut form = query_of(&request.url);
    form.extend([
        ("email".into(), email.into()),
        ("password".into(), password.into()),
        ("decision".into(), decision.into()),
    ]);
    let action = request.url.split_once('?').unwrap().0;
    browser().post(action).header("accept", "text/html").form(&form).send().await.unwrap()
}

/// Signs in and returns the code from the redirect, checking `state` came back.
async fn code_for(request: &AuthorizationRequest, email: &str, password: &str) -> String {
    let response = sign_in(request, email, password, "allow").await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let pairs = query_of(&location);
    assert_eq!(param(&pairs, "state"), Some(request.state.clone()), "state is returned unchanged");
    param(&pairs, "code").expect("a code")
}

#[tokio::test]
async fn a_person_signs_in_through_a_public_app_and_the_sdk_acts_for_them() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let drafter = &demo.users[1];

    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &["org:read", "notifications:write"]).unwrap();
    let page = browser().get(&request.url).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in to allow Care Notes Online") && html.contains(r#"for="email""#), "{html}");
    assert!(html.contains("prepare and edit draft notifications"), "the consent lists what is asked for");

    let code = code_for(&request, &drafter.email, &drafter.password).await;
    let tokens = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();
    assert!(tokens.refresh_token.starts_with("par_"));

    let sdk = provider_api_sdk::ClientBuilder::new(&app.base_url)
        .person(&app_id, None, &tokens.refresh_token)
        .build()
        .unwrap();
    let me = sdk.get_me().send().await.unwrap().into_inner();
    assert_eq!(me.kind, PrincipalKind::User);
    assert_eq!(me.email.as_deref(), Some(drafter.email.as_str()));
    assert_eq!(me.client_id.to_string(), app_id);
    assert_eq!(me.organisations[0].organisation_id, demo.organisation_id);
    let scopes: Vec<String> = me.scopes.iter().map(|s| s.to_string()).collect();
    assert_eq!(scopes, ["org:read", "notifications:write"]);
}

#[tokio::test]
async fn a_confidential_app_authenticates_when_it_exchanges_the_code() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, Some("pas_app-secret")).await.to_string();
    let admin = &demo.users[0];
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();

    let code = code_for(&request, &admin.email, &admin.password).await;
    let without_secret = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await;
    let without_secret = format!("{:?}", without_secret.unwrap_err());
    assert!(without_secret.contains("invalid_client"), "a confidential app must authenticate: {without_secret}");

    let code = code_for(&request, &admin.email, &admin.password).await;
    let tokens = exchange_code(&app.base_url, &app_id, Some("pas_app-secret"), REDIRECT, &code, &request.pkce_verifier)
        .await
        .unwrap();
    let me = app.http.get(app.url("/v1/me")).bearer_auth(&tokens.access_token).send().await.unwrap();
    assert_eq!(me.json::<Value>().await.unwrap()["email"], admin.email.as_str());
}

/// A public application's refresh, over plain HTTP.
async fn refresh(app: &TestApp, app_id: &str, refresh_token: &str) -> reqwest::Response {
    let form = [("grant_type", "refresh_token"), ("client_id", app_id), ("refresh_token", refresh_token)];
    app.http.post(app.url("/v1/oauth/token")).form(&form).send().await.unwrap()
}

async fn revoke(app: &TestApp, app_id: &str, token: &str) -> reqwest::Response {
    app.http.post(app.url("/v1/oauth/revoke")).form(&[("token", token), ("client_id", app_id)]).send().await.unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_sign_in() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let code = code_for(&request, &demo.users[2].email, &demo.users[2].password).await;
    let first = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();

    let second = refresh(&app, &app_id, &first.refresh_token).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh_token, "rotated");

    let reused = refresh(&app, &app_id, &first.refresh_token).await;
    assert_eq!(problem(reused, 400).await["error"], "invalid_grant");
    let after_reuse = refresh(&app, &app_id, &second_refresh).await;
    assert_eq!(problem(after_reuse, 400).await["error"], "invalid_grant", "the successor is revoked with the family");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_or_a_replayed_code_gets_nothing() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let (email, password) = (&demo.users[1].email, &demo.users[1].password);

    let code = code_for(&request, email, password).await;
    let wrong_verifier = "x".repeat(43);
    let refused = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &wrong_verifier).await;
    assert!(format!("{:?}", refused.unwrap_err()).contains("invalid_grant"));

    let code = code_for(&request, email, password).await;
    let first = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();
    let replay = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await;
    let replay = format!("{:?}", replay.unwrap_err());
    assert!(replay.contains("invalid_grant"), "a code is spent once: {replay}");
    let after_replay = refresh(&app, &app_id, &first.refresh_token).await;
    assert_eq!(problem(after_replay, 400).await["error"], "invalid_grant", "a replayed code revokes what it bought");
}

#[tokio::test]
async fn a_wrong_password_says_nothing_specific_and_repeated_failures_must_wait() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let email = &demo.users[0].email;

    let unknown = sign_in(&request, "nobody@example.org", "whatever password", "allow").await;
    assert_eq!(unknown.status(), 401);
    let unknown_page = unknown.text().await.unwrap();
    for _ in 0..4 {
        let wrong = sign_in(&request, email, "not the password", "allow").await;
        assert_eq!(wrong.status(), 401);
        let page = wrong.text().await.unwrap();
        assert!(page.contains("The email address or password is wrong."));
        assert!(page.contains(r#"role="alert""#), "the error is announced");
    }
    assert!(unknown_page.contains("The email address or password is wrong."), "unknown accounts read the same");
    let mut form = query_of(&request.url);
    form.extend([
        ("email".into(), "nobody@example.org".into()),
        ("password".into(), "x".into()),
        ("decision".into(), "allow".into()),
    ]);
    let as_api = browser().post(app.url("/v1/oauth/authorize")).form(&form).send().await.unwrap();
    assert_eq!(problem(as_api, 401).await["code"], "invalid_credentials", "a non-browser gets a problem");

    // Five failures on the account are free; the sixth starts the backoff.
    for _ in 0..2 {
        assert_eq!(sign_in(&request, email, "not the password", "allow").await.status(), 401);
    }
    let locked = sign_in(&request, email, &demo.users[0].password, "allow").await;
    assert_eq!(locked.status(), 429, "even the right password waits once the account is backing off");
    assert!(locked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn bad_requests_are_refused_here_or_sent_back_to_a_genuine_app() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();

    let elsewhere = authorization_url(&app.base_url, &app_id, "https://evil.example/steal", &[]).unwrap();
    let page = browser().get(&elsewhere.url).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 400, "never redirect to an unregistered address");
    assert!(page.text().await.unwrap().contains("has not registered"));
    let as_api = browser().get(&elsewhere.url).send().await.unwrap();
    assert_eq!(problem(as_api, 400).await["code"], "invalid_request");

    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let without_pkce: Vec<(String, String)> =
        query_of(&request.url).into_iter().filter(|(k, _)| !k.starts_with("code_challenge")).collect();
    let url = format!("{}?{}", app.url("/v1/oauth/authorize"), serde_urlencoded::to_string(&without_pkce).unwrap());
    let response = browser().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(param(&location, "error").as_deref(), Some("invalid_request"), "PKCE is required");
    assert_eq!(param(&location, "state"), Some(request.state.clone()));

    let denied = sign_in(&request, &demo.users[0].email, &demo.users[0].password, "deny").await;
    let location = query_of(denied.headers()["location"].to_str().unwrap());
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&location, "code"), None);

    let too_much = authorization_url(&app.base_url, &app_id, REDIRECT, &["org:admin"]).unwrap();
    let response = browser().get(&too_much.url).send().await.unwrap();
    let location = query_of(response.headers()["location"].to_str().unwrap());
    assert_eq!(param(&location, "error").as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_sign_in_and_a_revoked_access_token_stops_at_once() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let code = code_for(&request, &demo.users[0].email, &demo.users[0].password).await;
    let tokens = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();

    assert_eq!(app.http.get(app.url("/v1/me")).bearer_auth(&tokens.access_token).send().await.unwrap().status(), 200);
    assert_eq!(revoke(&app, &app_id, &tokens.access_token).await.status(), 200);
    let after = app.http.get(app.url("/v1/me")).bearer_auth(&tokens.access_token).send().await.unwrap();
    assert!(problem(after, 401).await["detail"].as_str().unwrap().contains("revoked"));

    assert_eq!(revoke(&app, &app_id, &tokens.refresh_token).await.status(), 200);
    let refreshed = refresh(&app, &app_id, &tokens.refresh_token).await;
    assert_eq!(problem(refreshed, 400).await["error"], "invalid_grant");

    assert_eq!(
        revoke(&app, &app_id, "par_not-a-token").await.status(),
        200,
        "unknown tokens are not an error (RFC 7009)"
    );
}

#[tokio::test]
async fn an_api_client_cannot_use_the_person_grants_and_an_app_cannot_use_client_credentials() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, Some("pas_secret")).await.to_string();

    let as_client = app
        .http
        .post(app.url("/v1/oauth/token"))
        .basic_auth(demo.client_id.to_string(), Some(&demo.client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "par_x")])
        .send()
        .await
        .unwrap();
    assert_eq!(problem(as_client, 400).await["error"], "unauthorized_client");

    let as_app = app
        .http
        .post(app.url("/v1/oauth/token"))
        .basic_auth(&app_id, Some("pas_secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let error = problem(as_app, 400).await;
    assert_eq!(error["error"], "unauthorized_client");

    let sdk = provider_api_sdk::ClientBuilder::new(&app.base_url)
        .person(&app_id, Some("pas_secret"), "par_bogus")
        .build()
        .unwrap();
    let refused = sdk.get_me().send().await.unwrap_err();
    assert!(refused.http_status().is_none(), "the token was refused before any API call: {refused}");
}

#[tokio::test]
async fn the_page_lets_its_form_reach_only_itself_and_the_application() {
    let app = TestApp::spawn().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();

    let page = browser().get(&request.url).header("accept", "text/html").send().await.unwrap();

    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action 'self' https://care-notes.example;"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn another_application_cannot_spend_a_code_or_refresh_token() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let ours = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let theirs = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &ours, REDIRECT, &[]).unwrap();
    let code = code_for(&request, &demo.users[1].email, &demo.users[1].password).await;

    let stolen = exchange_code(&app.base_url, &theirs, None, REDIRECT, &code, &request.pkce_verifier).await;
    let stolen = format!("{:?}", stolen.unwrap_err());
    assert!(stolen.contains("invalid_grant"), "a code is only its own application's: {stolen}");
    let tokens = exchange_code(&app.base_url, &ours, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();

    let stolen_refresh = refresh(&app, &theirs, &tokens.refresh_token).await;
    assert_eq!(problem(stolen_refresh, 400).await["error"], "invalid_grant");
    assert_eq!(refresh(&app, &ours, &tokens.refresh_token).await.status(), 200, "the rightful app's token is intact");
}

#[tokio::test]
async fn a_persons_token_names_the_acting_application_and_their_roles() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let code = code_for(&request, &demo.users[2].email, &demo.users[2].password).await;
    let tokens = exchange_code(&app.base_url, &app_id, None, REDIRECT, &code, &request.pkce_verifier).await.unwrap();

    let payload = tokens.access_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["act"]["sub"], app_id);
    assert_eq!(claims["client_id"], app_id);
    assert_eq!(claims["org_roles"][demo.organisation_id.to_string()], serde_json::json!(["submitter"]));

    let sdk = provider_api_sdk::ClientBuilder::new(&app.base_url)
        .person(&app_id, None, &tokens.refresh_token)
        .build()
        .unwrap();
    sdk.get_me().send().await.unwrap();
    use progenitor_client::ClientInfo;
    let current = sdk.inner().current_refresh_token().await.unwrap();
    assert_ne!(current, tokens.refresh_token, "the SDK rotated it and says so, for the application to store");
    assert_eq!(refresh(&app, &app_id, &current).await.status(), 200);
}

#[tokio::test]
async fn the_sign_in_page_is_govuk_frontend_markup_with_nothing_inline_and_paste_allowed() {
    use scraper::{Html, Selector};
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let third_party = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let first_party = app.first_party_app(REDIRECT, SCOPES).await.to_string();
    let select = |html: &Html, selector: &str| html.select(&Selector::parse(selector).unwrap()).count();
    let attr = |html: &Html, selector: &str, name: &str| {
        html.select(&Selector::parse(selector).unwrap()).next().and_then(|e| e.value().attr(name).map(str::to_owned))
    };

    for (app_id, heading, consent) in [
        (&third_party, "Sign in to allow Care Notes Online", true),
        (&first_party, "Sign in to Care Notes Online", false),
    ] {
        let request = authorization_url(&app.base_url, app_id, REDIRECT, &[]).unwrap();
        let response = browser().get(&request.url).header("accept", "text/html").send().await.unwrap();
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(!csp.contains("unsafe-inline") && csp.contains("style-src 'self'"), "{csp}");
        let html = Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&html, "html", "lang").as_deref(), Some("en-GB"));
        assert_eq!(
            html.select(&Selector::parse("h1").unwrap()).next().unwrap().text().collect::<String>().trim(),
            heading
        );
        assert_eq!(select(&html, "style, [style], script:not([src]), [onpaste], [oncopy]"), 0, "nothing inline");
        assert_eq!(select(&html, "label.govuk-label[for=email]"), 1);
        assert_eq!(attr(&html, "input#email", "autocomplete").as_deref(), Some("username"));
        assert_eq!(attr(&html, "input#password", "autocomplete").as_deref(), Some("current-password"));
        assert_eq!(attr(&html, "input#password", "type").as_deref(), Some("password"));
        assert_eq!(select(&html, "ul.govuk-list li") > 0, consent, "only a third party's page asks for consent");
        assert_eq!(attr(&html, "link[rel=stylesheet]", "href").as_deref(), Some("/assets/govuk-frontend.min.css"));
    }

    // The API serves the stylesheet and scripts itself: it may run without the portal.
    for (path, kind) in [("/assets/govuk-frontend.min.css", "text/css"), ("/assets/start.mjs", "text/javascript")] {
        let asset = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert!(asset.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }

    let request = authorization_url(&app.base_url, &first_party, REDIRECT, &[]).unwrap();
    let wrong = sign_in(&request, &demo.users[1].email, "not-the-password", "allow").await;
    assert_eq!(wrong.status(), 401);
    let html = Html::parse_document(&wrong.text().await.unwrap());
    let title = html.select(&Selector::parse("title").unwrap()).next().unwrap().text().collect::<String>();
    assert!(title.starts_with("Error: "), "{title}");
    assert_eq!(attr(&html, ".govuk-error-summary a", "href").as_deref(), Some("#email"));
    assert_eq!(attr(&html, "input#email", "value").as_deref(), Some(demo.users[1].email.as_str()), "kept");
    assert_eq!(select(&html, ".govuk-error-message"), 1);
}
