//! OAuth details that close small gaps: the issuer named in every authorization response (RFC 9207), a
//! refresh that never outlives a narrowing of the application's scopes, client keys too weak to trust, and
//! HSTS wherever the service is reached over https.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use provider_api_sdk::auth::authorization_url;
use provider_api_tests::TestApp;
use serde_json::{Value, json};

const REDIRECT: &str = "https://care-notes.example/callback";

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(url.split_once('?').map_or("", |(_, q)| q)).unwrap()
}

#[tokio::test]
async fn every_authorization_response_names_the_issuer() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, "org:read", None).await.to_string();
    let metadata: Value =
        app.http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let issuer = metadata["issuer"].as_str().unwrap().to_owned();

    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    for (decision, password, expected) in [("allow", demo.users[0].password.as_str(), "code"), ("deny", "", "error")] {
        let mut form = query_of(&request.url);
        form.extend([
            ("email".into(), demo.users[0].email.clone()),
            ("password".into(), password.into()),
            ("decision".into(), decision.into()),
        ]);
        let answer = browser().post(app.url("/v1/oauth/authorize")).form(&form).send().await.unwrap();
        assert_eq!(answer.status(), 303);
        let pairs = query_of(answer.headers()["location"].to_str().unwrap());
        assert!(pairs.iter().any(|(k, _)| k == expected), "{pairs:?}");
        assert!(pairs.contains(&("iss".into(), issuer.clone())), "the {expected} response names {issuer}: {pairs:?}");
    }
}

#[tokio::test]
async fn a_refresh_gets_no_scope_the_application_no_longer_has() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, "org:read notifications:read", None).await;
    let tokens =
        app.sign_in_granting(&app_id.to_string(), REDIRECT, &demo.users[0].email, &demo.users[0].password, &[]).await;

    // The regulator narrows what the application may ask for.
    let mut narrowed = app.store.integrator_app(app_id).await.unwrap().unwrap();
    narrowed.scopes = "org:read".parse().unwrap();
    app.store.update_integrator_app(&narrowed).await.unwrap();

    let form =
        [("grant_type", "refresh_token"), ("client_id", &app_id.to_string()), ("refresh_token", &tokens.refresh_token)];
    let refreshed = app.http.post(app.url("/v1/oauth/token")).form(&form).send().await.unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(refreshed["scope"], "org:read", "{refreshed}");
    let me: Value = app
        .http
        .get(app.url("/v1/me"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["scopes"], json!(["org:read"]));
}

/// An RSA key of `bits` bits (the modulus need not be a product of primes for its size to be judged).
fn rsa_jwk(bits: usize) -> Value {
    let mut modulus = vec![0xc5u8; bits / 8];
    modulus[bits / 8 - 1] |= 1;
    json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&modulus), "e": "AQAB", "alg": "RS256", "use": "sig", "kid": "k1"})
}

#[tokio::test]
async fn a_client_key_too_short_to_trust_is_refused() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let create = |jwk: Value| {
        let body = json!({"name": "Rota system", "roles": ["viewer"], "scopes": ["org:read"], "jwks": {"keys": [jwk]}});
        app.http
            .post(app.url(&format!("/v1/organisations/{}/api-clients", demo.organisation_id)))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let weak = create(rsa_jwk(1024)).await.unwrap();
    let weak = provider_api_tests::problem(weak, 422).await;
    assert_eq!(weak["errors"][0]["pointer"], "/jwks", "{weak}");
    assert!(weak["errors"][0]["detail"].as_str().unwrap().contains("2048"), "{weak}");
    let strong = create(rsa_jwk(2048)).await.unwrap();
    assert_eq!(strong.status(), 201, "{}", strong.text().await.unwrap());
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_service_is_reached_over_https() {
    let app = TestApp::spawn_with(|config| config.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let get = |proto: Option<&str>| {
        let mut request = app.http.get(app.url("/v1/reference/notification-types"));
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.send()
    };
    let over_https = get(Some("https")).await.unwrap();
    let hsts = over_https.headers().get("strict-transport-security").expect("HSTS behind a proxy that says https");
    assert!(hsts.to_str().unwrap().starts_with("max-age=31536000"), "{hsts:?}");
    assert!(get(Some("http")).await.unwrap().headers().get("strict-transport-security").is_none());
    assert!(get(None).await.unwrap().headers().get("strict-transport-security").is_none(), "plain http, no HSTS");

    // Only a trusted proxy is believed about the scheme.
    let direct = TestApp::spawn().await;
    let forged = direct
        .http
        .get(direct.url("/v1/reference/notification-types"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(forged.headers().get("strict-transport-security").is_none());
}
